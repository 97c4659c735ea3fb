//! `book.toml`: the book's configuration as typed structs.
//!
//! Unknown keys are errors that name the key and point at it (a typo must never silently fall
//! back to a default), as in mdBook's config. Names that must be one of a set (an analysis
//! method, a paper size) are checked here too, with a "did you mean".

use crate::diag::{Diagnostic, Source};
use crate::stats::{Convention, Method, Test};
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::Arc;
use toml::Spanned;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    pub book: BookMeta,
    #[serde(default)]
    pub build: Build,
    #[serde(default)]
    pub output: Output,
    #[serde(default)]
    pub analysis: AnalysisDefaults,
    pub bibliography: Option<BibliographyConfig>,
    pub pls: Option<PlsConfig>,
}

/// `[pls]`: the plain-language summary for patients and carers. The outcomes come from
/// `metabook pls` blocks in the chapters; these are the texts around them, in plain words.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PlsConfig {
    /// A title in plain words.
    pub title: String,
    /// What was studied and why.
    pub question: String,
    /// The intervention as the sentences name it ("intrathecal baclofen").
    pub intervention: String,
    /// What the findings mean in practice.
    pub practice: String,
    /// What the review could not tell (besides what the GRADE ratings say).
    #[serde(default)]
    pub unknown: Vec<String>,
    /// Words that cannot be avoided, with their meaning.
    #[serde(default)]
    pub glossary: Vec<GlossaryEntry>,
    /// The GRADE file (in the data folder) that gives each outcome's certainty.
    pub grade: Spanned<String>,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct GlossaryEntry {
    pub term: String,
    pub meaning: String,
}

/// `[bibliography]`: the works the prose cites as `[@key]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BibliographyConfig {
    /// A BibTeX/BibLaTeX (`.bib`) or Hayagriva YAML (`.yaml`, `.yml`) file inside the data folder.
    pub file: Spanned<String>,
    /// A citation style: a name hayagriva knows (`vancouver`, `apa`, `springer-vancouver`, …)
    /// or a `.csl` file inside the data folder. Vancouver by default.
    pub style: Option<Spanned<String>>,
}

/// `[book]`: what the review is.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BookMeta {
    pub title: String,
    #[serde(default)]
    pub authors: Vec<String>,
    #[serde(default = "default_language")]
    pub language: String,
    #[serde(default)]
    pub description: Option<String>,
}

fn default_language() -> String {
    "en".to_string()
}

/// `[build]`: where things are, relative to the book's folder.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct Build {
    pub src: PathBuf,
    pub data: PathBuf,
    pub build_dir: PathBuf,
    pub templates: PathBuf,
}

impl Default for Build {
    fn default() -> Self {
        Build {
            src: "report".into(),
            data: "data".into(),
            build_dir: "book".into(),
            templates: "templates".into(),
        }
    }
}

/// `[output.html]` and `[output.pdf]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Output {
    #[serde(default)]
    pub html: HtmlOutput,
    #[serde(default)]
    pub pdf: PdfOutput,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct HtmlOutput {}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct PdfOutput {
    pub paper: Paper,
    pub font: Font,
}

impl Default for PdfOutput {
    fn default() -> Self {
        PdfOutput { paper: Paper::A4, font: Font::LibertinusSerif }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Paper {
    A4,
    UsLetter,
}

/// The fonts embedded in metabook (those typst-assets ships).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Font {
    LibertinusSerif,
    NewComputerModern,
}

/// `[analysis]`: defaults for every analysis directive of the book.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AnalysisDefaults {
    pub method: Option<Spanned<String>>,
    pub test: Option<Spanned<String>>,
    pub convention: Option<Spanned<String>>,
    pub level: Option<Spanned<f64>>,
}

/// The checked `[analysis]` defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Defaults {
    pub method: Method,
    pub test: Test,
    pub convention: Convention,
    pub level: f64,
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults { method: Method::REML, test: Test::Z, convention: Convention::Metafor, level: 95.0 }
    }
}

/// Parse `book.toml`. Every problem comes back as a diagnostic located in `source`.
pub fn parse(source: &Arc<Source>) -> Result<(Config, Defaults), Vec<Diagnostic>> {
    let config: Config = toml::from_str(&source.text).map_err(|e| vec![toml_error(source, &e, "book.toml")])?;
    let defaults = check_defaults(source, &config.analysis)?;
    Ok((config, defaults))
}

/// A TOML (syntax or schema) error as a diagnostic at its span; `what` names the document.
pub fn toml_error(source: &Arc<Source>, error: &toml::de::Error, what: &str) -> Diagnostic {
    let span = error.span().unwrap_or(0..0);
    let message = error.message().trim().to_string();
    let mut d = Diagnostic::error(format!("{what}: {message}")).at(source, span, "here");
    if message.starts_with("unknown field") {
        d = d.hint("check the spelling; the accepted keys are listed after `expected`");
    } else if message.starts_with("missing field") {
        d = d.hint("add the key to this table");
    }
    d
}

fn check_defaults(source: &Arc<Source>, a: &AnalysisDefaults) -> Result<Defaults, Vec<Diagnostic>> {
    let mut out = Defaults::default();
    let mut problems = Vec::new();
    let mut check = |value: &Option<Spanned<String>>, key: &str, apply: &mut dyn FnMut(&str) -> Result<(), crate::stats::spec::UnknownName>| {
        if let Some(v) = value {
            if let Err(e) = apply(v.get_ref()) {
                problems.push(Diagnostic::error(format!("book.toml: {e} in [analysis] {key}")).at(source, v.span(), "here").hint(e.hint()));
            }
        }
    };
    check(&a.method, "method", &mut |s| s.parse().map(|m| out.method = m));
    check(&a.test, "test", &mut |s| s.parse().map(|t| out.test = t));
    check(&a.convention, "convention", &mut |s| s.parse().map(|c| out.convention = c));
    if let Some(level) = &a.level {
        let l = *level.get_ref();
        if l > 0.0 && l < 100.0 {
            out.level = l;
        } else {
            problems.push(
                Diagnostic::error(format!("book.toml: confidence level {l} is not between 0 and 100"))
                    .at(source, level.span(), "here")
                    .hint("e.g. level = 95"),
            );
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<(Config, Defaults), Vec<Diagnostic>> {
        parse(&Source::new("book.toml", text))
    }

    #[test]
    fn defaults_fill_what_is_not_given() {
        let (c, d) = parse_str("[book]\ntitle = \"A review\"\n").unwrap();
        assert_eq!(c.build.src, PathBuf::from("report"));
        assert_eq!(c.output.pdf.paper, Paper::A4);
        assert_eq!(d.method, Method::REML);
    }

    #[test]
    fn unknown_keys_are_errors_at_the_key() {
        let e = parse_str("[book]\ntitle = \"A review\"\n[build]\nsrc = \"report\"\nbuild_dir = \"out\"\n").unwrap_err();
        assert!(e[0].message.contains("unknown field `build_dir`"), "{}", e[0].message);
        assert_eq!(e[0].position().unwrap(), "book.toml:5:1");
    }

    #[test]
    fn analysis_defaults_are_checked_with_a_suggestion() {
        let e = parse_str("[book]\ntitle = \"x\"\n[analysis]\nmethod = \"RMEL\"\n").unwrap_err();
        assert_eq!(e[0].position().unwrap(), "book.toml:4:10");
        assert!(e[0].hints[0].contains("REML"));
    }
}
