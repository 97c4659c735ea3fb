//! The plain-language summary for patients and carers, in Cochrane's template (2021), derived
//! from the same analyses and GRADE ratings as the review, so it can never drift from the
//! numbers.
//!
//! Each `metabook pls` block names an analysis and says, in plain words, what its outcome means
//! and what the intervention does to it. The finding per outcome is built from the direction of
//! the pooled effect, its size (for an SMD, or against the GRADE file's `important` and `large`
//! differences where it gives them) and the certainty of the evidence; 2×2 data are
//! also said in natural frequencies ("If 1,000 people have …, about 160 of them …"), a mean
//! difference in its units, and an SMD in a familiar scale's units where the GRADE file names
//! one. The sentence patterns, headings and number marks come from a wording table
//! (`templates/pls-en.toml`, `pls-es.toml`: data files, so a language is added without code).
//! The page itself is a minijinja template that writes Markdown (`templates/pls.md`), which a
//! book can replace; the Markdown goes through the same HTML and Typst renderers as the
//! chapters, and every string the template prints is escaped for Markdown, as a chapter's
//! values are, so it reads as typed and never as HTML.
//!
//! The summary is checked as Cochrane asks, each miss a warning: 400 to 850 words; Flesch–Kincaid
//! grade 8 or below (Szigriszt-Pazos 55 or above in Spanish); 16 words a sentence or fewer on
//! average; and no number typed by hand (in book.toml's `[pls]`, a `pls` block or the
//! template's own text), since a summary's numbers must be the analyses'.

use super::readability::{self, Formula, Readability};
use super::sof;
use super::template::Crossed;
use crate::config::{PlsConfig, SearchDate};
use crate::data::grade::{Certainty, Domain, EffectFrom, Grade};
use crate::diag::{Diagnostic, Source};
use crate::directive::{Body, Directive, PlsDirective};
use crate::engine::Analyses;
use crate::format;
use serde::{Deserialize, Serialize};
use std::ops::Range;
use std::sync::Arc;

/// Cochrane's limits for a plain-language summary: words, and words per sentence on average.
pub const WORDS: std::ops::RangeInclusive<usize> = 400..=850;
pub const MEAN_SENTENCE: f64 = 16.0;

/// The wording table of one language.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Words {
    #[serde(default)]
    pub third_person_rules: Option<String>,
    pub numbers: Vec<String>,
    /// The decimal mark and the mark between thousands.
    #[serde(default = "point")]
    pub decimal: String,
    #[serde(default = "comma")]
    pub thousands: String,
    pub months: [String; 12],
    pub headings: Headings,
    pub sentences: Sentences,
    pub effect: ByCertainty,
    pub no_difference: ByCertainty,
    /// The same for a plural intervention where the verb changes ("may make" → "pueden"); the
    /// singular patterns where the table has none.
    #[serde(default)]
    pub effect_plural: Option<ByCertainty>,
    #[serde(default)]
    pub no_difference_plural: Option<ByCertainty>,
    pub size: Sizes,
    pub confidence: ByCertainty,
    pub limits: Limits,
}

fn point() -> String {
    ".".to_string()
}

fn comma() -> String {
    ",".to_string()
}

/// The headings of Cochrane's template.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Headings {
    #[serde(rename(serialize = "key_messages"))]
    pub key_messages: String,
    pub condition: String,
    pub question: String,
    pub methods: String,
    pub findings: String,
    pub limitations: String,
    #[serde(rename(serialize = "up_to_date"))]
    pub up_to_date: String,
    pub glossary: String,
}

/// The sentences metabook writes around the findings (see templates/pls-en.toml).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Sentences {
    pub searched: String,
    pub searched_any: String,
    pub summarised: String,
    pub found: String,
    pub found_one: String,
    pub unknown_people: String,
    pub randomised: String,
    pub non_randomised: String,
    pub mixed_designs: String,
    pub risks: String,
    pub risks_no_comparator: String,
    pub event: String,
    pub mean_difference: String,
    pub re_expressed: String,
    pub re_expressed_change: String,
    pub lower: String,
    pub higher: String,
    pub research: String,
    pub not_known: String,
    pub up_to_date: String,
    pub date: String,
    /// The summary's page in the site's contents, its PDF's link, and the line that closes
    /// its PDF ({title}: the review's).
    pub page_title: String,
    pub pdf_link: String,
    pub docx_link: String,
    pub colophon: String,
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

impl Words {
    /// A number formatted by [`format`] in this language's marks.
    fn number(&self, text: &str) -> String {
        format::localize(text, &self.decimal, &self.thousands)
    }

    /// A count: in words below ten where the table has them, else in digits.
    fn count_words(&self, n: usize) -> String {
        self.numbers.get(n).cloned().unwrap_or_else(|| self.number(&format::count(n as u64)))
    }

    /// A number of people, or "an unknown number of" where a study's data do not say.
    fn people(&self, n: Option<f64>) -> String {
        n.map_or_else(|| self.sentences.unknown_people.clone(), |n| self.number(&format::count(n.round() as u64)))
    }

    /// A difference in words with its direction: "0.50 lower".
    fn direction(&self, v: f64, decimals: usize) -> String {
        let amount = self.number(&format::fixed(v.abs(), decimals));
        let pattern = if v < 0.0 && amount.chars().any(|c| c.is_ascii_digit() && c != '0') { &self.sentences.lower } else { &self.sentences.higher };
        put(pattern, &[("amount", &amount)])
    }

    /// A difference and the ends of its interval, each in words with its direction.
    fn difference(&self, estimate: f64, lower: f64, upper: f64, decimals: usize) -> [(&'static str, String); 3] {
        [("difference", self.direction(estimate, decimals)), ("lower", self.direction(lower, decimals)), ("upper", self.direction(upper, decimals))]
    }
}

/// The English wording table, embedded.
pub const DEFAULT_WORDS_EN: &str = include_str!("../../templates/pls-en.toml");
/// The Spanish wording table, embedded.
pub const DEFAULT_WORDS_ES: &str = include_str!("../../templates/pls-es.toml");
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
    /// The result in numbers a reader can picture: natural frequencies for 2×2 data, the
    /// difference in the outcome's or a familiar scale's units; `None` where there are none.
    pub numbers: Option<String>,
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
    /// Whether the language has a readability formula (English, Spanish); the counts of words
    /// and sentences hold in any.
    pub scored: bool,
    pub warnings: Vec<Diagnostic>,
    /// The page template the Markdown came from, to report a problem of the page there.
    pub template: Arc<Source>,
    /// In the book's language: the page's title in the site, its PDF's link, the PDF's last line.
    pub page_title: String,
    pub pdf_link: String,
    pub docx_link: String,
    pub colophon: String,
}

/// What the summary is made from.
pub struct Inputs<'a> {
    pub config: &'a PlsConfig,
    /// book.toml, where `config`'s texts are.
    pub config_source: &'a Arc<Source>,
    /// The book's language code (`en`, `es`): which readability formula scores the text.
    pub language: &'a str,
    pub search_date: Option<SearchDate>,
    /// The review's title, for the summary's closing line.
    pub review_title: &'a str,
    pub directives: &'a [&'a Directive],
    pub analyses: &'a Analyses,
    /// The analyses as the prose sees them ([`super::chapter::prose_values`]), for the
    /// template's `analyses`.
    pub values: &'a [(String, minijinja::Value)],
    pub grade: &'a Grade,
    pub words: &'a Words,
    pub template: &'a Arc<Source>,
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

/// A pattern with its `{name}` placeholders filled, in one pass: a value is never read as a
/// pattern (an intervention named "{outcome}" stays so); an unknown placeholder stays as written.
fn put(pattern: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| values.iter().find(|(name, _)| *name == &after[..close]).map(|(_, v)| (close, v)));
        match value {
            Some((close, v)) => {
                out.push_str(v);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or(String::new(), |f| f.to_uppercase().collect::<String>() + chars.as_str())
}

fn fill(pattern: &str, intervention: &str, does: &str, r#do: &str, outcome: &str) -> String {
    put(pattern, &[("Intervention", &capitalise(intervention)), ("intervention", intervention), ("does", does), ("do", r#do), ("outcome", outcome)])
}

/// Build the plain-language summary from the book's `pls` blocks.
pub fn summary(inputs: &Inputs) -> Result<Summary, Vec<Diagnostic>> {
    let Inputs { config, analyses, grade, words, template, .. } = *inputs;
    let intervention = config.intervention.get_ref().as_str();
    let comparator = config.comparator.as_ref().map(|c| c.get_ref().as_str()).or(grade.comparator.as_deref());
    let mut problems = Vec::new();
    let mut outcomes = Vec::new();
    let mut limits: Vec<String> = Vec::new();
    let mut designs: Vec<Option<bool>> = Vec::new();
    let mut below_high = false;
    // Each study once, with its people: (label, participants).
    let mut studies: Vec<(String, Option<f64>)> = Vec::new();
    let blocks = pls_blocks(inputs.directives);
    if blocks.is_empty() {
        return Err(vec![Diagnostic::error("the book has a [pls] table but no `metabook pls` block").hint("add a ```metabook pls``` block per outcome, e.g. in the results chapter")]);
    }
    for &(d, p) in &blocks {
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
        below_high |= certainty != Certainty::High;
        designs.push(outcome.randomised);
        let english = words.third_person_rules.as_deref() == Some("english");
        let plural = config.intervention_plural;
        // What the intervention does, as the verb after it ({does}) and in the base form ({do}):
        // the block's `positive-s` as given, else made by the language's rule (a plural
        // intervention takes the base form in English).
        let phrase = |base: &str, third: &Option<String>| -> Option<(String, String)> {
            match third {
                Some(t) => Some((t.clone(), base.to_string())),
                None if english && plural => Some((base.to_string(), base.to_string())),
                None if english => Some((third_person(base), base.to_string())),
                None => None,
            }
        };
        let (effect_words, no_difference_words) = if plural {
            (words.effect_plural.as_ref().unwrap_or(&words.effect), words.no_difference_plural.as_ref().unwrap_or(&words.no_difference))
        } else {
            (&words.effect, &words.no_difference)
        };
        // Against the outcome's thresholds (grade.toml `important`, `large`), the size of the
        // absolute difference decides: little or no difference, a small change, a large one.
        let judged = outcome.thresholds.zip(sof::thresholded_difference(result, outcome.comparator_risk)).map(|((important, large), d)| (sof::judged_size(d, important, large), d > 0.0));
        let direction = match judged {
            Some((sof::Size::Trivial, _)) => None,
            Some((_, above)) => Some(above),
            None => read.direction,
        };
        let finding = match direction {
            None => fill(no_difference_words.get(certainty), intervention, "", "", &p.outcome),
            Some(above) => {
                let (base, third) = if above { (&p.positive, &p.positive_s) } else { (&p.negative, &p.negative_s) };
                let Some((does, r#do)) = phrase(base, third) else {
                    problems.push(d.error_at(p.analysis.span(), "this language has no rule for the third person", "here").hint("give positive-s and negative-s in the pls block"));
                    continue;
                };
                fill(effect_words.get(certainty), intervention, &does, &r#do, &p.outcome)
            }
        };
        let size = match judged {
            Some((sof::Size::Slight, _)) => Some(words.size.small.clone()),
            Some((sof::Size::Large, _)) => Some(words.size.large.clone()),
            Some(_) => None,
            None => read.smd_size.map(|s| match s {
                "small" => words.size.small.clone(),
                "moderate" => words.size.moderate.clone(),
                _ => words.size.large.clone(),
            }),
        };
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
            numbers: in_numbers(result, outcome, p, same_people, intervention, comparator, words),
            confidence: words.confidence.get(certainty).to_string(),
            certainty: certainty.name().to_lowercase(),
            effect: words.number(&read.text),
            k: result.analysis.k,
            participants: words.people(people),
        });
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let total_people: Option<f64> = studies.iter().map(|(_, n)| *n).sum();
    let s = &words.sentences;
    let participants = words.people(total_people);
    let mut found = if studies.len() == 1 { put(&s.found_one, &[("participants", &participants)]) } else { put(&s.found, &[("studies", &words.count_words(studies.len())), ("participants", &participants)]) };
    let design = match (designs.iter().all(|d| *d == Some(true)), designs.iter().all(|d| *d == Some(false)), designs.iter().all(Option::is_some)) {
        (true, _, _) => Some(&s.randomised),
        (_, true, _) => Some(&s.non_randomised),
        (_, _, true) => Some(&s.mixed_designs),
        _ => None,
    };
    if let Some(d) = design {
        found = format!("{found} {d}");
    }
    let condition = config.condition.as_ref().map(|c| c.get_ref().as_str());
    let searched = match condition {
        Some(c) => put(&s.searched, &[("intervention", intervention), ("condition", c)]),
        None => put(&s.searched_any, &[("intervention", intervention)]),
    };
    let methods = format!("{searched} {}", s.summarised);
    // Key messages: the first two findings, then what they mean in practice (the book's
    // words) or, where some evidence is less than certain, that more studies may change them.
    let mut key_messages: Vec<String> = outcomes.iter().take(2).map(|o| o.size.as_ref().map_or_else(|| o.finding.clone(), |size| format!("{} {size}", o.finding))).collect();
    match (&config.practice, below_high) {
        (Some(practice), _) => key_messages.push(practice.get_ref().clone()),
        (None, true) => key_messages.push(s.research.clone()),
        (None, false) => {}
    }
    let up_to_date = inputs.search_date.map(|d| {
        let date = put(&s.date, &[("month", &words.months[d.month as usize - 1]), ("year", &d.year.to_string())]);
        put(&s.up_to_date, &[("date", &date)])
    });
    let mut headings = words.headings.clone();
    headings.condition = put(&headings.condition, &[("condition", condition.unwrap_or_default())]);
    // The page is Markdown: every string printed — from book.toml's [pls], the `pls` blocks,
    // the wording table and the analyses — is escaped for Markdown as the chapters' values are,
    // so `<script>` in any of them stays text in the site and the PDF.
    let mut engine = super::prose::engine();
    engine.env_mut().set_trim_blocks(true);
    let values: std::collections::BTreeMap<&str, minijinja::Value> = inputs.values.iter().map(|(name, v)| (name.as_str(), v.clone())).collect();
    let context = minijinja::context! {
        title => &config.title,
        headings => headings,
        key_messages => key_messages,
        background => &config.background,
        question => &config.question,
        methods => methods,
        found => found,
        practice => &config.practice,
        intervention => intervention,
        studies => studies.len(),
        studies_words => words.count_words(studies.len()),
        participants => participants,
        outcomes => &outcomes,
        limits => &limits,
        unknown => &config.unknown,
        not_known => &s.not_known,
        up_to_date => up_to_date,
        glossary => &config.glossary,
        analyses => values,
    };
    let markdown = engine.render(&template.name, &template.text, context).map_err(|failure| {
        let mut d = failure.diagnostic(template, failure.span.clone(), "the plain-language summary's template");
        if failure.crossed == Crossed::Nothing {
            d = d.hint("variables: title, headings, key_messages, background, question, methods, found, outcomes, limits, not_known, unknown, up_to_date, glossary, intervention, studies, studies_words, participants, analyses (each analysis by name, as in the chapters)");
        }
        vec![d]
    })?;
    let formula = Formula::for_language(inputs.language);
    let readability = readability::measure_with(&plain_text(&markdown), formula.unwrap_or(Formula::FleschKincaid));
    let mut warnings = checks(&readability, formula.is_some());
    warnings.extend(typed_numbers(inputs, &blocks));
    Ok(Summary {
        title: config.title.get_ref().clone(),
        outcomes,
        markdown,
        readability,
        scored: formula.is_some(),
        warnings,
        template: Arc::clone(template),
        page_title: s.page_title.clone(),
        pdf_link: s.pdf_link.clone(),
        docx_link: s.docx_link.clone(),
        colophon: put(&s.colophon, &[("title", inputs.review_title)]),
    })
}

/// The `pls` blocks of the book, in its order.
fn pls_blocks<'a>(directives: &[&'a Directive]) -> Vec<(&'a Directive, &'a PlsDirective)> {
    directives.iter().filter_map(|d| if let Body::Pls(p) = &d.body { Some((*d, p)) } else { None }).collect()
}

/// An outcome's result in numbers a reader can picture, or `None`.
fn in_numbers(result: &crate::engine::AnalysisResult, outcome: &crate::data::grade::Outcome, p: &PlsDirective, same_people: bool, intervention: &str, comparator: Option<&str>, words: &Words) -> Option<String> {
    let s = &words.sentences;
    let a = &result.analysis;
    let pooled = a.pooled.as_ref()?;
    if let Some(abs) = sof::study_population_risks(result, outcome.comparator_risk) {
        let n = |x: f64| words.number(&format::count(x.round().max(0.0) as u64));
        let event = p.event.clone().unwrap_or_else(|| put(&s.event, &[("outcome", &p.outcome)]));
        let (per, risk, with, lower, upper) = (n(abs.per), n(abs.comparator), n(abs.intervention), n(abs.lower), n(abs.upper));
        let mut values = vec![("per", per.as_str()), ("risk", &risk), ("risk_with", &with), ("lower", &lower), ("upper", &upper), ("event", &event), ("intervention", intervention)];
        let pattern = match comparator {
            Some(c) => {
                values.push(("comparator", c));
                &s.risks
            }
            None => &s.risks_no_comparator,
        };
        return Some(put(pattern, &values));
    }
    let (est, lo, hi) = (pooled.estimate, pooled.ci_lower, pooled.ci_upper);
    match a.spec.measure.name() {
        "MD" if !same_people => {
            let [d, l, u] = words.difference(est, lo, hi, 2);
            Some(put(&s.mean_difference, &[("outcome", &p.outcome), (d.0, &d.1), (l.0, &l.1), (u.0, &u.1), ("intervention", intervention)]))
        }
        "SMD" => {
            let (scale, sd) = outcome.scale.as_ref()?;
            Some(if same_people {
                let n = |x: f64| words.number(&format::fixed(x * sd, 2));
                put(&s.re_expressed_change, &[("scale", scale), ("amount", &n(est)), ("lower", &n(lo)), ("upper", &n(hi))])
            } else {
                let [d, l, u] = words.difference(est * sd, lo * sd, hi * sd, 2);
                put(&s.re_expressed, &[("scale", scale), (d.0, &d.1), (l.0, &l.1), (u.0, &u.1)])
            })
        }
        _ => None,
    }
}

/// Cochrane's limits on length and readability, each a warning when missed.
fn checks(r: &Readability, scored: bool) -> Vec<Diagnostic> {
    let mut warnings = Vec::new();
    let long: Vec<String> = r.longest_sentences.iter().map(|(s, n)| format!("{n} words: “{s}”")).collect();
    let long = format!("longest sentences: {}", long.join("; "));
    if !WORDS.contains(&r.words) {
        let (what, hint) = if r.words < *WORDS.start() {
            ("fewer than", "say more in [pls]: what the condition is (`condition`, `background`), why the question matters (`question`), what the results mean (`practice`)")
        } else {
            ("more than", "shorten the texts in book.toml's [pls] and the `pls` blocks' meanings")
        };
        warnings.push(Diagnostic::warning(format!("the plain-language summary has {} words, {what} Cochrane's {} to {}", r.words, WORDS.start(), WORDS.end())).hint(hint));
    }
    if scored && !r.easy_enough() {
        let hard: Vec<String> = r.hardest_words.iter().map(|(w, n)| format!("{w} ({n})")).collect();
        let score = match r.grade {
            Some(g) => format!("reads at grade {g:.1} (Flesch–Kincaid), above 8"),
            None => format!("scores {:.0} on Szigriszt-Pazos' scale (INFLESZ), below 55", r.reading_ease),
        };
        warnings.push(Diagnostic::warning(format!("the plain-language summary {score}")).hint(long.clone()).hint(format!("hardest words (syllables): {}", hard.join(", "))));
    }
    if r.mean_sentence() > MEAN_SENTENCE {
        warnings.push(Diagnostic::warning(format!("the plain-language summary's sentences have {:.1} words on average, more than {MEAN_SENTENCE}", r.mean_sentence())).hint(long));
    }
    warnings
}

/// The numbers of a text typed as digits, with where they are in it: runs of digits with inner
/// points or commas. A number that is part of a name ("SF-36", "COVID-19", "H1N1") is not one.
fn numbers_in(text: &str) -> Vec<(Range<usize>, &str)> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && (bytes[i].is_ascii_digit() || (matches!(bytes[i], b'.' | b',') && bytes.get(i + 1).is_some_and(u8::is_ascii_digit))) {
            i += 1;
        }
        let before = text[..start].chars().next_back();
        let before2 = text[..start].chars().rev().nth(1);
        let after = text[i..].chars().next();
        let in_name = before.is_some_and(char::is_alphabetic) || after.is_some_and(char::is_alphabetic) || (before == Some('-') && before2.is_some_and(char::is_alphabetic));
        if !in_name {
            out.push((start..i, &text[start..i]));
        }
    }
    out
}

/// A warning for each number typed by hand where the summary prints it.
fn typed_numbers(inputs: &Inputs, blocks: &[(&Directive, &PlsDirective)]) -> Vec<Diagnostic> {
    let warn = |number: &str| {
        Diagnostic::warning(format!("the plain-language summary has a number typed by hand: {number}"))
            .hint("its numbers come from the analyses, so that they cannot drift: say it without the number, or leave it out")
    };
    let mut out = Vec::new();
    // book.toml's [pls]: each text where it is written.
    for (key, text) in inputs.config.texts() {
        let span = text.span();
        let Some(raw) = inputs.config_source.text.get(span.clone()) else { continue };
        for (at, number) in numbers_in(raw) {
            out.push(warn(number).at(inputs.config_source, span.start + at.start..span.start + at.end, format!("in [pls] {key}")));
        }
    }
    // The `pls` blocks: the texts they print, found in the block as written.
    for (d, p) in blocks {
        let block = d.text();
        let fields = [Some(&p.outcome), Some(&p.meaning), Some(&p.positive), Some(&p.negative), p.positive_s.as_ref(), p.negative_s.as_ref(), p.event.as_ref()];
        for value in fields.into_iter().flatten() {
            let Some(offset) = block.find(value.as_str()) else { continue };
            for (at, number) in numbers_in(value) {
                let start = d.span.start + offset + at.start;
                out.push(warn(number).at(&d.source, start..start + at.len(), "in this pls block"));
            }
        }
    }
    // The template's own text, outside its tags, expressions and comments; a list's "1." is
    // Markdown, not a number.
    let text = &inputs.template.text;
    let mut literal = text.clone().into_bytes();
    for (open, close) in [("{#", "#}"), ("{{", "}}"), ("{%", "%}")] {
        let mut from = 0;
        while let Some(start) = text[from..].find(open).map(|i| i + from) {
            let end = text[start..].find(close).map_or(text.len(), |i| start + i + close.len());
            literal[start..end].iter_mut().for_each(|b| *b = b' ');
            from = end;
        }
    }
    let literal = String::from_utf8_lossy(&literal).into_owned();
    for (at, number) in numbers_in(&literal) {
        let line_start = literal[..at.start].rfind('\n').map_or(0, |i| i + 1);
        let list_marker = literal[line_start..at.start].trim().is_empty() && literal[at.end..].starts_with(['.', ')']);
        if !list_marker {
            out.push(warn(number).at(inputs.template, at, "in the template's text"));
        }
    }
    out
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
        assert_eq!(w.count_words(5), "five");
        // The first letter is capitalised whatever its width.
        assert_eq!(fill(w.effect.get(Certainty::High), "élan therapy", "helps", "help", "x"), "Élan therapy helps.");
        assert_eq!(w.count_words(12), "12");
    }

    #[test]
    fn numbers_typed_in_a_text_but_not_in_names() {
        let found: Vec<&str> = numbers_in("30 in 100 people, 1,631 records, 0.5 points; SF-36, COVID-19, H1N1, 2nd").into_iter().map(|(_, n)| n).collect();
        assert_eq!(found, ["30", "100", "1,631", "0.5"]);
        let text = "about 12 of them";
        let (at, n) = numbers_in(text).remove(0);
        assert_eq!((&text[at], n), ("12", "12"));
    }

    #[test]
    fn both_wording_tables_read_and_say_differences_in_their_words() {
        let en = parse_words(&Source::new("pls-en.toml", DEFAULT_WORDS_EN)).unwrap();
        let es = parse_words(&Source::new("pls-es.toml", DEFAULT_WORDS_ES)).unwrap();
        let said = |w: &Words, d: [(&str, String); 3]| put(&w.sentences.re_expressed, &[("scale", "scale"), (d[0].0, &d[0].1), (d[1].0, &d[1].1), (d[2].0, &d[2].1)]);
        assert_eq!(said(&en, en.difference(-0.5, -0.9, 0.1, 2)), "On the scale, that is about 0.50 lower (between 0.90 lower and 0.10 higher).");
        assert_eq!(said(&es, es.difference(-0.5, -0.9, -0.1, 2)), "En la scale, eso es unos 0,50 menos (entre 0,90 menos y 0,10 menos).");
        // A difference that rounds to nothing has no direction "lower".
        assert_eq!(en.direction(-0.001, 2), "0.00 higher");
        assert_eq!(es.count_words(3), "tres");
        assert_eq!(es.people(Some(28003.0)), "28\u{a0}003");
        assert_eq!(es.people(Some(1631.0)), "1631");
        assert_eq!(en.people(None), "an unknown number of");
        assert_eq!(es.months[1], "febrero");
        assert_eq!(fill(es.effect.get(Certainty::Low), "la aspirina", "reduce las muertes", "reducir las muertes", "la muerte"), "La aspirina puede reducir las muertes.");
    }

    #[test]
    fn a_pattern_is_filled_in_one_pass() {
        assert_eq!(put("{Intervention} {does} {outcome}.", &[("Intervention", "{outcome}"), ("does", "helps"), ("outcome", "pain")]), "{outcome} helps pain.");
        assert_eq!(put("{nope} {a} {", &[("a", "1")]), "{nope} 1 {");
        assert_eq!(put("é{a}ü", &[("a", "ß")]), "éßü");
    }
}
