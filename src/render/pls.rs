//! The plain-language summary for patients and carers, derived from the same analyses and
//! GRADE ratings as the review, so it can never drift from the numbers.
//!
//! Each `metabook pls` block names an analysis and says, in plain words, what its outcome means
//! and what the intervention does to it. The key finding per outcome is then built from the
//! direction of the pooled effect, its size (for an SMD) and the certainty of the evidence,
//! with sentence patterns from a wording table (`templates/pls-en.toml`, a data file, so a
//! language is added without code). The page itself is a minijinja template that writes
//! Markdown (`templates/pls.md`), which a book can replace; the Markdown goes through the same
//! HTML and Typst renderers as the chapters, and every string the template prints (from
//! book.toml, the `pls` blocks, the wording table or the data) is escaped for Markdown, as a
//! chapter's values are, so it reads as typed and never as HTML. Its readability is measured
//! (Flesch reading ease, Flesch–Kincaid grade) and a grade above 8 is a warning naming what
//! makes it hard.

use super::readability::{self, Readability};
use super::sof;
use super::template::Crossed;
use crate::config::PlsConfig;
use crate::data::grade::{Certainty, Domain, EffectFrom, Grade};
use crate::diag::{Diagnostic, Source};
use crate::directive::{Body, Directive, PlsDirective};
use crate::engine::Analyses;
use crate::format;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The wording table of one language.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Words {
    #[serde(default)]
    pub third_person_rules: Option<String>,
    pub effect: ByCertainty,
    pub no_difference: ByCertainty,
    pub size: Sizes,
    pub confidence: ByCertainty,
    pub limits: Limits,
    pub numbers: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ByCertainty {
    pub high: String,
    pub moderate: String,
    pub low: String,
    pub very_low: String,
}

impl ByCertainty {
    fn get(&self, c: Certainty) -> &str {
        match c {
            Certainty::High => &self.high,
            Certainty::Moderate => &self.moderate,
            Certainty::Low => &self.low,
            Certainty::VeryLow => &self.very_low,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sizes {
    pub small: String,
    pub moderate: String,
    pub large: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Limits {
    pub risk_of_bias: String,
    pub inconsistency: String,
    pub indirectness: String,
    pub imprecision: String,
    pub publication_bias: String,
    pub not_reported: String,
}

/// The English wording table, embedded.
pub const DEFAULT_WORDS_EN: &str = include_str!("../../templates/pls-en.toml");
/// The default page template, embedded.
pub const DEFAULT_TEMPLATE: &str = include_str!("../../templates/pls.md");

/// Parse a wording table.
pub fn parse_words(source: &Arc<Source>) -> Result<Words, Vec<Diagnostic>> {
    toml::from_str(&source.text).map_err(|e| vec![crate::config::toml_error(source, &e, &source.name)])
}

/// One outcome as the template sees it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PlsOutcome {
    pub name: String,
    pub meaning: String,
    pub finding: String,
    pub size: Option<String>,
    pub confidence: String,
    pub certainty: String,
    pub effect: String,
    pub k: usize,
    pub participants: String,
}

/// The summary: its Markdown, its readability, and warnings.
#[derive(Debug, Clone)]
pub struct Summary {
    pub title: String,
    pub outcomes: Vec<PlsOutcome>,
    pub markdown: String,
    pub readability: Readability,
    pub warnings: Vec<Diagnostic>,
    /// The page template the Markdown came from, to report a problem of the page there.
    pub template: Arc<Source>,
}

/// English third person of a verb phrase's first word ("reduce pain" → "reduces pain").
pub fn third_person(phrase: &str) -> String {
    let (verb, rest) = phrase.split_once(' ').map_or((phrase, ""), |(v, r)| (v, r));
    let v = match verb {
        "have" => "has".to_string(),
        "be" => "is".to_string(),
        "do" => "does".to_string(),
        "go" => "goes".to_string(),
        v if v.ends_with('y') && !v.ends_with("ay") && !v.ends_with("ey") && !v.ends_with("oy") => format!("{}ies", &v[..v.len() - 1]),
        v if v.ends_with('s') || v.ends_with('x') || v.ends_with('z') || v.ends_with("sh") || v.ends_with("ch") => format!("{v}es"),
        v => format!("{v}s"),
    };
    if rest.is_empty() {
        v
    } else {
        format!("{v} {rest}")
    }
}

fn fill(pattern: &str, intervention: &str, does: &str, r#do: &str, outcome: &str) -> String {
    let mut chars = intervention.chars();
    let capital = chars.next().map_or(String::new(), |f| f.to_uppercase().collect::<String>() + chars.as_str());
    pattern.replace("{Intervention}", &capital).replace("{intervention}", intervention).replace("{does}", does).replace("{do}", r#do).replace("{outcome}", outcome)
}

/// A count in words where that reads better (below ten), else in digits.
fn count_words(n: usize, words: &Words) -> String {
    words.numbers.get(n).cloned().unwrap_or_else(|| format::count(n as u64))
}

/// A number of people, or "an unknown number of" where a study's data do not say.
fn people_count(n: Option<f64>) -> String {
    match n {
        Some(n) => format::count(n.round() as u64),
        None => "an unknown number of".to_string(),
    }
}

/// Build the plain-language summary from the book's `pls` blocks.
///
/// `values` are the analyses as the prose sees them ([`super::chapter::prose_values`]), for
/// the template's `analyses`.
pub fn summary(
    config: &PlsConfig,
    directives: &[&Directive],
    analyses: &Analyses,
    values: &[(String, minijinja::Value)],
    grade: &Grade,
    words: &Words,
    template: &Arc<Source>,
) -> Result<Summary, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let mut outcomes = Vec::new();
    let mut limits: Vec<String> = Vec::new();
    // Each study once, with its people: (label, participants).
    let mut studies: Vec<(String, Option<f64>)> = Vec::new();
    let blocks: Vec<(&Directive, &PlsDirective)> = directives.iter().filter_map(|d| if let Body::Pls(p) = &d.body { Some((*d, p)) } else { None }).collect();
    if blocks.is_empty() {
        return Err(vec![Diagnostic::error("the book has a [pls] table but no `metabook pls` block").hint("add a ```metabook pls``` block per outcome, e.g. in the results chapter")]);
    }
    for (d, p) in blocks {
        let name = p.analysis.get_ref();
        let Some(result) = analyses.get(name) else { continue }; // reported by the engine
        let Some(outcome) = grade.outcomes.iter().find(|o| matches!(&o.from, EffectFrom::Analysis { name: n, .. } if n == name)) else {
            problems.push(
                d.error_at(p.analysis.span(), format!("no GRADE outcome for the analysis `{name}` in {}", grade.source.name), "here")
                    .hint("the summary says how sure we are from the GRADE ratings: add an [[outcome]] with this analysis"),
            );
            continue;
        };
        let same_people = matches!(&outcome.from, EffectFrom::Analysis { same_people: true, .. });
        let read = sof::read_effect(result);
        let certainty = outcome.certainty;
        let english = words.third_person_rules.as_deref() == Some("english");
        let phrase = |base: &str, third: &Option<String>| -> Option<(String, String)> {
            match third {
                Some(t) => Some((t.clone(), base.to_string())),
                None if english => Some((third_person(base), base.to_string())),
                None => None,
            }
        };
        let finding = match read.direction {
            None => fill(words.no_difference.get(certainty), &config.intervention, "", "", &p.outcome),
            Some(above) => {
                let (base, third) = if above { (&p.positive, &p.positive_s) } else { (&p.negative, &p.negative_s) };
                let Some((does, r#do)) = phrase(base, third) else {
                    problems.push(d.error_at(p.analysis.span(), "this language has no rule for the third person", "here").hint("give positive-s and negative-s in the pls block"));
                    continue;
                };
                fill(words.effect.get(certainty), &config.intervention, &does, &r#do, &p.outcome)
            }
        };
        let size = read.smd_size.map(|s| match s {
            "small" => words.size.small.clone(),
            "moderate" => words.size.moderate.clone(),
            _ => words.size.large.clone(),
        });
        for j in &outcome.domains {
            let text = match (j.levels, j.domain) {
                (None, _) => Some(&words.limits.not_reported),
                (Some(l), Domain::RiskOfBias) if l < 0 => Some(&words.limits.risk_of_bias),
                (Some(l), Domain::Inconsistency) if l < 0 => Some(&words.limits.inconsistency),
                (Some(l), Domain::Indirectness) if l < 0 => Some(&words.limits.indirectness),
                (Some(l), Domain::Imprecision) if l < 0 => Some(&words.limits.imprecision),
                (Some(l), Domain::PublicationBias) if l < 0 => Some(&words.limits.publication_bias),
                _ => None,
            };
            if let Some(t) = text.filter(|t| !limits.contains(t)) {
                limits.push(t.clone());
            }
        }
        let people = sof::participants(result, same_people);
        for s in &result.table.studies {
            let n = sof::study_participants(&s.data, same_people);
            match studies.iter_mut().find(|(label, _)| *label == s.label) {
                Some((_, m)) => *m = match (*m, n) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    (known, None) | (None, known) => known,
                },
                None => studies.push((s.label.clone(), n)),
            }
        }
        outcomes.push(PlsOutcome {
            name: p.outcome.clone(),
            meaning: p.meaning.clone(),
            finding,
            size,
            confidence: words.confidence.get(certainty).to_string(),
            certainty: certainty.name().to_lowercase(),
            effect: read.text,
            k: result.analysis.k,
            participants: people_count(people),
        });
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let total_people: Option<f64> = studies.iter().map(|(_, n)| *n).sum();
    // The page is Markdown: every string printed — from book.toml's [pls], the `pls` blocks,
    // the wording table and the analyses — is escaped for Markdown as the chapters' values are,
    // so `<script>` in any of them stays text in the site and the PDF.
    let mut engine = super::prose::engine();
    engine.env_mut().set_trim_blocks(true);
    let values: std::collections::BTreeMap<&str, minijinja::Value> = values.iter().map(|(name, v)| (name.as_str(), v.clone())).collect();
    let context = minijinja::context! {
        title => &config.title,
        question => &config.question,
        practice => &config.practice,
        intervention => &config.intervention,
        studies => studies.len(),
        studies_words => count_words(studies.len(), words),
        participants => people_count(total_people),
        outcomes => &outcomes,
        limits => &limits,
        unknown => &config.unknown,
        glossary => &config.glossary,
        analyses => values,
    };
    let markdown = engine.render(&template.name, &template.text, context).map_err(|failure| {
        let mut d = failure.diagnostic(template, failure.span.clone(), "the plain-language summary's template");
        if failure.crossed == Crossed::Nothing {
            d = d.hint("variables: title, question, practice, intervention, studies, studies_words, participants, outcomes, limits, unknown, glossary, analyses (each analysis by name, as in the chapters)");
        }
        vec![d]
    })?;
    let readability = readability::measure(&plain_text(&markdown));
    let mut warnings = Vec::new();
    if readability.grade > 8.0 {
        let long: Vec<String> = readability.longest_sentences.iter().map(|(s, n)| format!("{n} words: “{s}”")).collect();
        let hard: Vec<String> = readability.hardest_words.iter().map(|(w, n)| format!("{w} ({n})")).collect();
        warnings.push(
            Diagnostic::warning(format!("the plain-language summary reads at grade {:.1} (Flesch–Kincaid), above 8", readability.grade))
                .hint(format!("longest sentences: {}", long.join("; ")))
                .hint(format!("hardest words (syllables): {}", hard.join(", "))),
        );
    }
    Ok(Summary { title: config.title.clone(), outcomes, markdown, readability, warnings, template: Arc::clone(template) })
}

/// The text of Markdown as a reader reads it: one block per line.
pub fn plain_text(markdown: &str) -> String {
    use pulldown_cmark::{Event, Parser, TagEnd};
    let mut out = String::new();
    for event in Parser::new(markdown) {
        match event {
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak => out.push(' '),
            Event::HardBreak | Event::End(TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::Item) => out.push('\n'),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_third_person() {
        assert_eq!(third_person("reduce muscle stiffness"), "reduces muscle stiffness");
        assert_eq!(third_person("increase walking speed"), "increases walking speed");
        assert_eq!(third_person("worsen pain"), "worsens pain");
        assert_eq!(third_person("carry risks"), "carries risks");
        assert_eq!(third_person("have side effects"), "has side effects");
        assert_eq!(third_person("relax"), "relaxes");
    }

    #[test]
    fn the_english_wording_table_reads() {
        let w = parse_words(&Source::new("pls-en.toml", DEFAULT_WORDS_EN)).unwrap();
        assert_eq!(fill(w.effect.get(Certainty::Moderate), "intrathecal baclofen", "reduces stiffness", "reduce stiffness", "stiffness"), "Intrathecal baclofen probably reduces stiffness.");
        assert_eq!(fill(w.effect.get(Certainty::Low), "intrathecal baclofen", "reduces stiffness", "reduce stiffness", "stiffness"), "Intrathecal baclofen may reduce stiffness.");
        assert_eq!(count_words(5, &w), "five");
        // The first letter is capitalised whatever its width.
        assert_eq!(fill(w.effect.get(Certainty::High), "élan therapy", "helps", "help", "x"), "Élan therapy helps.");
        assert_eq!(count_words(12, &w), "12");
    }
}
