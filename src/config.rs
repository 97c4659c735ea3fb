//! `book.toml`: the book's configuration as typed structs.
//!
//! Unknown keys are errors that name the key and point at it (a typo must never silently fall
//! back to a default), as in mdBook's config. Names that must be one of a set (an analysis
//! method, a paper size) are checked here too, with a "did you mean".

use crate::diag::{Diagnostic, Source};
use crate::stats::{Convention, Method, Model, Test};
use serde::Deserialize;
use std::ops::Range;
use std::path::{Component, Path, PathBuf};
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

/// `[pls]`: the plain-language summary for patients and carers, in Cochrane's template. The
/// outcomes come from `metabook pls` blocks in the chapters; these are the texts around them,
/// in plain words. Each text keeps where book.toml has it, so a number typed into one is
/// reported there (a summary's numbers come from the analyses).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PlsConfig {
    /// A title in plain words.
    pub title: Spanned<String>,
    /// The condition, as "What is …?" names it ("spasticity after stroke").
    pub condition: Option<Spanned<String>>,
    /// What the condition is, for "What is …?".
    pub background: Option<Spanned<String>>,
    /// What was studied and why: "What did we want to find out?".
    pub question: Spanned<String>,
    /// The intervention as the sentences name it ("intrathecal baclofen").
    pub intervention: Spanned<String>,
    /// Whether that name is plural ("antibiotics"): the verbs agree ("antibiotics probably
    /// reduce", "make little or no difference").
    #[serde(default)]
    pub intervention_plural: bool,
    /// What the intervention was compared with, in plain words ("a dummy treatment"); the
    /// GRADE file's `comparator` when not given.
    pub comparator: Option<Spanned<String>>,
    /// What the findings mean in practice: the last key message.
    pub practice: Option<Spanned<String>>,
    /// What the review could not tell (besides what the GRADE ratings say).
    #[serde(default)]
    pub unknown: Vec<Spanned<String>>,
    /// Words that cannot be avoided, with their meaning.
    #[serde(default)]
    pub glossary: Vec<GlossaryEntry>,
    /// The GRADE file (in the data folder) that gives each outcome's certainty.
    pub grade: Spanned<String>,
}

impl PlsConfig {
    /// Every text of the table that the summary prints, with its key: what a number typed by
    /// hand is looked for in.
    pub fn texts(&self) -> Vec<(&'static str, &Spanned<String>)> {
        let mut out = vec![("title", &self.title), ("question", &self.question), ("intervention", &self.intervention)];
        for (key, text) in [("condition", &self.condition), ("background", &self.background), ("comparator", &self.comparator), ("practice", &self.practice)] {
            out.extend(text.as_ref().map(|t| (key, t)));
        }
        out.extend(self.unknown.iter().map(|t| ("unknown", t)));
        for g in &self.glossary {
            out.push(("glossary", &g.term));
            out.push(("glossary", &g.meaning));
        }
        out
    }
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct GlossaryEntry {
    pub term: Spanned<String>,
    pub meaning: Spanned<String>,
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
    /// A language tag: an ISO 639 code with an optional region (`en`, `en-GB`), checked by
    /// [`parse`] (typst takes the two parts separately).
    #[serde(default = "default_language")]
    pub language: Spanned<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// The date of the last search for studies (`2022-02-28`, or `2022-02`): "How up to date
    /// is this evidence?" in the plain-language summary. Checked by [`parse`].
    pub search_date: Option<Spanned<String>>,
}

/// A checked search date: year, month (1–12) and day if given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchDate {
    pub year: u32,
    pub month: u32,
    pub day: Option<u32>,
}

impl SearchDate {
    /// Read `YYYY-MM-DD` or `YYYY-MM`; `None` for anything else or an impossible date.
    pub fn parse(text: &str) -> Option<SearchDate> {
        let mut parts = text.trim().split('-');
        let number = |p: Option<&str>, len: usize| p.filter(|p| p.len() == len && p.chars().all(|c| c.is_ascii_digit())).and_then(|p| p.parse::<u32>().ok());
        let year = number(parts.next(), 4)?;
        let month = number(parts.next(), 2).filter(|m| (1..=12).contains(m))?;
        let day = match parts.next() {
            None => None,
            Some(d) => {
                let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
                let days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month as usize - 1];
                Some(number(Some(d), 2).filter(|d| (1..=days).contains(d))?)
            }
        };
        parts.next().is_none().then_some(SearchDate { year, month, day })
    }
}

impl BookMeta {
    /// The search date, if book.toml gives one ([`parse`] has checked it).
    pub fn search_date(&self) -> Option<SearchDate> {
        self.search_date.as_ref().and_then(|d| SearchDate::parse(d.get_ref()))
    }
}

fn default_language() -> Spanned<String> {
    Spanned::new(0..0, "en".to_string())
}

impl BookMeta {
    /// The language and, if the tag has one, the region: `en-GB` → (`en`, Some(`GB`)).
    pub fn language_parts(&self) -> (String, Option<String>) {
        let tag = self.language.get_ref();
        let mut parts = tag.split(['-', '_']);
        let language = parts.next().unwrap_or("en").to_ascii_lowercase();
        (language, parts.next().map(str::to_ascii_uppercase))
    }
}

/// `[build]`: where things are, relative to the book's folder.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct Build {
    pub src: BookDir,
    pub data: BookDir,
    pub build_dir: BookDir,
    pub templates: BookDir,
    /// Fonts the book brings (`.ttf`, `.otf`, `.ttc`, `.otc`) for scripts the embedded fonts
    /// do not cover (Korean, Chinese, Japanese, …): the PDF uses them wherever the main font
    /// has no glyph, and `[output.pdf] font` may name one of their families.
    pub fonts: BookDir,
}

impl Default for Build {
    fn default() -> Self {
        Build { src: BookDir::new("report"), data: BookDir::new("data"), build_dir: BookDir::new("book"), templates: BookDir::new("templates"), fonts: BookDir::new("fonts") }
    }
}

/// A folder of the book named in `[build]`: a relative path inside the book's folder ([`parse`]
/// refuses anything else), with where book.toml gives it. It reads as a [`Path`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct BookDir(Spanned<PathBuf>);

impl BookDir {
    fn new(path: &str) -> BookDir {
        BookDir(Spanned::new(0..0, PathBuf::from(path)))
    }

    /// Where book.toml names the folder (an empty span for a default).
    pub fn span(&self) -> Range<usize> {
        self.0.span()
    }
}

impl std::ops::Deref for BookDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        self.0.get_ref()
    }
}

impl AsRef<Path> for BookDir {
    fn as_ref(&self) -> &Path {
        self.0.get_ref()
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
    /// `[output.docx]`: the book as a Word file too (`book/<title>.docx`).
    pub docx: Option<DocxOutput>,
}

/// `[output.docx]`: the Word file for journal submission; its styles may come from the book's
/// `templates/reference.docx`.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DocxOutput {
    /// Lines double-spaced, as many journals ask of a manuscript.
    #[serde(default)]
    pub double_spacing: bool,
    /// Lines numbered in the margin, for reviewers to point at.
    #[serde(default)]
    pub line_numbers: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct HtmlOutput {
    /// What becomes of HTML written in the chapters.
    #[serde(default)]
    pub raw_html: RawHtml,
}

/// HTML an author writes in a chapter (`<sup>`, `<details>`, a table with `colspan`). It never
/// runs code in a reader's browser: scripts, styles, frames, forms, event-handler attributes and
/// `javascript:` addresses are removed in every mode (a site's own scripts belong in
/// `templates/page.html`, which only the book's owner edits).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RawHtml {
    /// Kept, cleaned of active content (by ammonia's allow-list of elements and attributes).
    #[default]
    Sanitize,
    /// Shown as typed, as text: for books whose authors are not all trusted.
    Escape,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct PdfOutput {
    pub paper: Paper,
    /// The main font: `libertinus-serif` (the default) or `new-computer-modern`, embedded in
    /// metabook, or the family name of a font in the book's fonts folder ("Noto Serif KR").
    pub font: Spanned<String>,
}

impl Default for PdfOutput {
    fn default() -> Self {
        PdfOutput { paper: Paper::A4, font: Spanned::new(0..0, "libertinus-serif".to_string()) }
    }
}

impl PdfOutput {
    /// The font family Typst is asked for.
    pub fn font_family(&self) -> &str {
        match self.font.get_ref().as_str() {
            "libertinus-serif" => "Libertinus Serif",
            "new-computer-modern" => "New Computer Modern",
            family => family,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Paper {
    A4,
    UsLetter,
}

/// `[analysis]`: defaults for every analysis directive of the book.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AnalysisDefaults {
    pub method: Option<Spanned<String>>,
    pub model: Option<Spanned<String>>,
    pub test: Option<Spanned<String>>,
    pub convention: Option<Spanned<String>>,
    pub level: Option<Spanned<f64>>,
    pub study_level: Option<Spanned<f64>>,
}

/// The checked `[analysis]` defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Defaults {
    pub method: Method,
    /// The method was written `IV` (RevMan's inverse variance: `model` chooses FE or DL).
    pub method_is_iv: bool,
    /// RevMan's effects model for `MH` and `IV`; `None`: the method's own.
    pub model: Option<Model>,
    pub test: Test,
    pub convention: Convention,
    pub level: f64,
    /// `None`: each study's interval has the pooled results' level.
    pub study_level: Option<f64>,
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            method: Method::REML,
            method_is_iv: false,
            model: None,
            test: Test::Z,
            convention: Convention::Metafor,
            level: 95.0,
            study_level: None,
        }
    }
}

/// Parse `book.toml`. Every problem comes back as a diagnostic located in `source`.
pub fn parse(source: &Arc<Source>) -> Result<(Config, Defaults), Vec<Diagnostic>> {
    let config: Config = toml::from_str(&source.text).map_err(|e| vec![toml_error(source, &e, "book.toml")])?;
    let mut problems = check_folders(source, &config.build);
    problems.extend(check_language(source, &config.book.language));
    if let Some(date) = config.book.search_date.as_ref().filter(|d| SearchDate::parse(d.get_ref()).is_none()) {
        problems.push(
            Diagnostic::error(format!("book.toml: search-date `{}` is not a date", date.get_ref()))
                .at(source, date.span(), "here")
                .hint("the date of the last search as year-month-day, e.g. search-date = \"2022-02-28\" (or year-month, \"2022-02\")"),
        );
    }
    let defaults = check_defaults(source, &config.analysis).map_err(|mut e| {
        problems.append(&mut e);
        std::mem::take(&mut problems)
    })?;
    if problems.is_empty() {
        Ok((config, defaults))
    } else {
        Err(problems)
    }
}

/// The `[build]` folders must be relative paths inside the book — a book must never read, or
/// write and clean, anything outside its own folder — and the build folder, which metabook
/// writes, must be a folder of its own, apart from the inputs. (Symbolic links that lead out
/// are refused where the folders are opened, [`crate::book::load`].)
fn check_folders(source: &Arc<Source>, build: &Build) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let folders = [("src", &build.src), ("data", &build.data), ("templates", &build.templates), ("fonts", &build.fonts), ("build-dir", &build.build_dir)];
    for (key, dir) in folders {
        if let Err(why) = inside(dir) {
            problems.push(
                Diagnostic::error(format!("book.toml: [build] {key} = `{}` {why}", dir.display()))
                    .at(source, dir.span(), "here")
                    .hint("the book's folders are relative paths inside the book's folder, e.g. `report`, `data`, `book`"),
            );
        }
    }
    if !problems.is_empty() {
        return problems;
    }
    let normal = |p: &Path| p.components().filter(|c| matches!(c, Component::Normal(_))).map(|c| c.as_os_str().to_owned()).collect::<PathBuf>();
    let out = normal(&build.build_dir);
    if out.as_os_str().is_empty() {
        problems.push(
            Diagnostic::error("book.toml: [build] build-dir is the book's folder itself")
                .at(source, build.build_dir.span(), "here")
                .hint("metabook writes and cleans its build folder: give it a folder of its own, e.g. `book`"),
        );
        return problems;
    }
    for (key, dir) in &folders[..4] {
        let input = normal(dir);
        if input.starts_with(&out) {
            problems.push(
                Diagnostic::error(format!("book.toml: [build] build-dir `{}` holds the {key} folder `{}`", build.build_dir.display(), dir.display()))
                    .at(source, build.build_dir.span(), "here")
                    .hint("metabook writes and cleans its build folder: keep it apart from the book's inputs, e.g. `book`"),
            );
        }
    }
    problems
}

/// The rule for every path a book gives (its folders here, chapters in SUMMARY.md, data files
/// in directives): relative, without `..`, not empty, so that it stays inside its folder.
pub fn inside(path: &Path) -> Result<(), &'static str> {
    if path.as_os_str().is_empty() {
        return Err("is empty");
    }
    for c in path.components() {
        match c {
            Component::ParentDir => return Err("leaves its folder (`..`)"),
            Component::RootDir | Component::Prefix(_) => return Err("is absolute"),
            _ => {}
        }
    }
    Ok(())
}

/// A language tag typst and HTML both take: an ISO 639 code of 2 or 3 letters, optionally
/// followed by a 2-letter region (`en`, `de`, `en-GB`, `pt_BR`).
fn check_language(source: &Arc<Source>, language: &Spanned<String>) -> Option<Diagnostic> {
    let tag = language.get_ref();
    let mut parts = tag.split(['-', '_']);
    let code = parts.next().unwrap_or("");
    let region = parts.next();
    let letters = |s: &str, n: std::ops::RangeInclusive<usize>| n.contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphabetic());
    let valid = letters(code, 2..=3) && region.is_none_or(|r| letters(r, 2..=2)) && parts.next().is_none();
    (!valid).then(|| {
        Diagnostic::error(format!("book.toml: `{tag}` is not a language tag metabook can use"))
            .at(source, language.span(), "here")
            .hint("an ISO 639 language code, optionally with a region: `en`, `de`, `en-GB`, `pt-BR`")
    })
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
    check(&a.method, "method", &mut |s| {
        out.method_is_iv = crate::stats::spec::is_iv_name(s);
        s.parse().map(|m| out.method = m)
    });
    check(&a.model, "model", &mut |s| s.parse().map(|m| out.model = Some(m)));
    check(&a.test, "test", &mut |s| s.parse().map(|t| out.test = t));
    check(&a.convention, "convention", &mut |s| s.parse().map(|c| out.convention = c));
    for (key, value) in [("level", &a.level), ("study-level", &a.study_level)] {
        let Some(level) = value else { continue };
        let l = *level.get_ref();
        if l > 0.0 && l < 100.0 {
            if key == "level" {
                out.level = l;
            } else {
                out.study_level = Some(l);
            }
        } else {
            problems.push(
                Diagnostic::error(format!("book.toml: confidence level {l} is not between 0 and 100"))
                    .at(source, level.span(), "here")
                    .hint(format!("e.g. {key} = 95")),
            );
        }
    }
    if let (Some(model), Some(span)) = (out.model, a.model.as_ref().map(|m| m.span())) {
        if problems.is_empty() {
            if let Err(e) = crate::stats::spec::resolve_model(out.method, out.method_is_iv, Some(model)) {
                problems.push(Diagnostic::error(format!("book.toml: [analysis] {e}")).at(source, span, "here").hint(e.hint()));
            }
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
        assert_eq!(&*c.build.src, Path::new("report"));
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

    #[test]
    fn a_search_date_is_a_real_date() {
        let (c, _) = parse_str("[book]\ntitle = \"x\"\nsearch-date = \"2024-02-29\"\n").unwrap();
        assert_eq!(c.book.search_date(), Some(SearchDate { year: 2024, month: 2, day: Some(29) }));
        assert_eq!(SearchDate::parse("2022-02"), Some(SearchDate { year: 2022, month: 2, day: None }));
        for bad in ["2023-02-29", "2022-13", "22-02-28", "2022-02-28-1", "28/02/2022", ""] {
            assert_eq!(SearchDate::parse(bad), None, "{bad}");
        }
        let e = parse_str("[book]\ntitle = \"x\"\nsearch-date = \"2023-02-29\"\n").unwrap_err();
        assert_eq!(e[0].position().unwrap(), "book.toml:3:15");
        assert!(e[0].message.contains("is not a date"), "{}", e[0].message);
    }
}
