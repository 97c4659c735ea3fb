//! GRADE assessments from a TOML file in the data folder: per outcome, the analysis it comes
//! from, the study design it starts from, and the author's rating of each GRADE domain with its
//! reason.
//!
//! ```toml
//! intervention = "intrathecal baclofen"
//! comparator = "usual care"         # "Risk with usual care"; "the comparator" if not given
//!
//! [[outcome]]
//! name = "Spasticity"
//! analysis = "spasticity"          # or, for a narrative outcome: narrative, participants, studies
//! design = "non-randomised"        # starts at low certainty ("randomised" starts at high)
//! outcome = "spasticity"           # the words of the statement: "… a reduction in spasticity"
//! positive = "reduction"           # what an estimate above no effect means
//! negative = "increase"
//! risk_of_bias = { rating = "serious", reason = "No control group." }
//! imprecision = { rating = "not reported" }
//! comparator_risk = "median"       # 2×2 data: "pooled" (the default) or "median"
//! comparator_risks = [{ label = "High-risk population", risk = 0.2 }]   # more lines
//! scale = "Ashworth score"         # an SMD re-expressed in a familiar instrument's units,
//! scale_sd = 0.8                   # from its typical standard deviation
//! important = 10                   # the smallest difference that matters (per 1,000 people
//! large = 50                       # for 2×2 data): "little to no", "slight", "large"
//! ```
//!
//! Domains are rated `not serious`, `serious` (−1) or `very serious` (−2); the upgrades
//! `large_effect` (`large` +1, `very large` +2), `dose_response` and `confounding` (`present`
//! +1) default to none. `not reported` is for a rating (or a design) the source of a review
//! does not give; then the certainty cannot be computed and must be given as `certainty = "…"`
//! (as the source states it), and the table says so. Every value is checked where it is
//! written.

use crate::diag::{Diagnostic, Source};
pub use crate::stats::absolute::ComparatorRisk;
use serde::Deserialize;
use std::sync::Arc;
use toml::Spanned;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradeFile {
    /// The intervention as the statements name it ("Intrathecal baclofen …").
    pub intervention: Spanned<String>,
    /// Whether that name is plural ("Antibiotics"): the statements say "result in", not
    /// "results in".
    #[serde(default)]
    pub intervention_plural: bool,
    /// What the intervention is compared with, as the table's "Risk with …" names it
    /// ("placebo"); "the comparator" when not given.
    pub comparator: Option<Spanned<String>>,
    #[serde(rename = "outcome", default)]
    pub outcomes: Vec<OutcomeRaw>,
}

/// One outcome as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutcomeRaw {
    pub name: Spanned<String>,
    pub analysis: Option<Spanned<String>>,
    pub design: Spanned<String>,
    /// The outcome in the statement ("spasticity"); defaults to the name in lower case.
    pub outcome: Option<String>,
    pub positive: Option<String>,
    pub negative: Option<String>,
    /// For before/after data entered as two groups: the groups are the same people, so a
    /// study's participants are its larger group, not the sum.
    #[serde(default)]
    pub same_people: bool,
    /// A narrative outcome (no analysis): what was found, how many took part, and which way
    /// the effect went (`positive`, `negative` or `none`, in the words above).
    pub narrative: Option<String>,
    pub direction: Option<Spanned<String>>,
    pub participants: Option<Spanned<f64>>,
    pub studies: Option<Spanned<f64>>,
    /// The certainty as the source states it, where the ratings are not all reported.
    pub certainty: Option<Spanned<String>>,
    pub risk_of_bias: Option<Rating>,
    pub inconsistency: Option<Rating>,
    pub indirectness: Option<Rating>,
    pub imprecision: Option<Rating>,
    pub publication_bias: Option<Rating>,
    pub large_effect: Option<Rating>,
    pub dose_response: Option<Rating>,
    pub confounding: Option<Rating>,
    /// A footnote on the outcome itself (e.g. where its numbers come from).
    pub note: Option<String>,
    /// The risk with the comparator behind the absolute effects of 2×2 data: the comparator
    /// groups' `pooled` risk (the default) or the `median` of their risks.
    pub comparator_risk: Option<Spanned<String>>,
    /// Further comparator risks, each its own line: `[{ label = "High-risk population", risk
    /// = 0.2 }]` (a proportion).
    #[serde(default)]
    pub comparator_risks: Vec<GivenRisk>,
    /// For a standardised mean difference: a familiar instrument (`scale = "Ashworth score"`)
    /// and its typical standard deviation in such people (`scale_sd`), to re-express the SMD
    /// in its units (Cochrane Handbook 15.5.3.1).
    pub scale: Option<Spanned<String>>,
    pub scale_sd: Option<Spanned<f64>>,
    /// The smallest difference that matters to people (per 1,000 people for 2×2 data, in the
    /// outcome's units for a mean difference), and optionally a large one: the statement then
    /// says "little to no difference", "a slight …" or "a large …" by the estimated difference
    /// (GRADE's thresholds; Santesso et al. 2020).
    pub important: Option<Spanned<f64>>,
    pub large: Option<Spanned<f64>>,
}

/// A comparator risk given by the author, for a population named by `label`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GivenRisk {
    pub label: String,
    pub risk: Spanned<f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rating {
    pub rating: Spanned<String>,
    pub reason: Option<String>,
}

/// The four levels of certainty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Certainty {
    VeryLow,
    Low,
    Moderate,
    High,
}

impl Certainty {
    pub fn name(self) -> &'static str {
        match self {
            Certainty::VeryLow => "Very low",
            Certainty::Low => "Low",
            Certainty::Moderate => "Moderate",
            Certainty::High => "High",
        }
    }

    /// GRADEpro's symbols: ⨁ for each level reached, ◯ for the rest.
    pub fn symbols(self) -> String {
        let n = self as usize + 1;
        "\u{2A01}".repeat(n) + &"\u{25EF}".repeat(4 - n)
    }

    fn from_level(level: i32) -> Certainty {
        match level {
            i32::MIN..=0 => Certainty::VeryLow,
            1 => Certainty::Low,
            2 => Certainty::Moderate,
            _ => Certainty::High,
        }
    }

    fn parse(text: &str) -> Option<Certainty> {
        [Certainty::VeryLow, Certainty::Low, Certainty::Moderate, Certainty::High].into_iter().find(|c| c.name().eq_ignore_ascii_case(text.trim()))
    }
}

/// A GRADE domain or upgrade factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Domain {
    RiskOfBias,
    Inconsistency,
    Indirectness,
    Imprecision,
    PublicationBias,
    LargeEffect,
    DoseResponse,
    Confounding,
}

impl Domain {
    pub fn name(self) -> &'static str {
        match self {
            Domain::RiskOfBias => "risk of bias",
            Domain::Inconsistency => "inconsistency",
            Domain::Indirectness => "indirectness",
            Domain::Imprecision => "imprecision",
            Domain::PublicationBias => "publication bias",
            Domain::LargeEffect => "large effect",
            Domain::DoseResponse => "dose–response gradient",
            Domain::Confounding => "plausible confounding",
        }
    }

    fn is_upgrade(self) -> bool {
        matches!(self, Domain::LargeEffect | Domain::DoseResponse | Domain::Confounding)
    }

    /// The words a rating may take, with the levels each moves the certainty.
    fn ratings(self) -> &'static [(&'static str, i32)] {
        match self {
            Domain::LargeEffect => &[("none", 0), ("large", 1), ("very large", 2)],
            Domain::DoseResponse | Domain::Confounding => &[("none", 0), ("present", 1)],
            _ => &[("not serious", 0), ("serious", -1), ("very serious", -2)],
        }
    }
}

/// A domain's rating, checked: how many levels it moves, or None for "not reported".
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    pub domain: Domain,
    pub rating: String,
    pub levels: Option<i32>,
    pub reason: Option<String>,
}

/// Where an outcome's effect comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum EffectFrom {
    Analysis { name: String, span: std::ops::Range<usize>, same_people: bool },
    Narrative { text: String, participants: Option<u64>, studies: Option<u64>, direction: Direction },
}

/// Which way a narrative outcome's effect went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Positive,
    Negative,
    None,
}

/// One outcome, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub name: String,
    pub from: EffectFrom,
    /// Whether the evidence comes from randomised trials (starts at high certainty); `None`
    /// where the source does not say (the certainty is then the one it states).
    pub randomised: Option<bool>,
    pub words: (String, String, String),
    pub domains: Vec<Judged>,
    /// The certainty from the ratings, or as stated where a rating is not reported.
    pub certainty: Certainty,
    /// True when `certainty` is the stated one, not computed.
    pub stated: bool,
    pub note: Option<String>,
    /// How the comparator risk of 2×2 data is taken from the included studies.
    pub comparator_risk: ComparatorRisk,
    /// Comparator risks the author gives (a population, its risk), each its own line.
    pub given_risks: Vec<(String, f64)>,
    /// Where the outcome is written (its name).
    pub span: std::ops::Range<usize>,
    /// A familiar instrument and its typical SD, to re-express an SMD in its units.
    pub scale: Option<(String, f64)>,
    /// The important difference and, optionally, the large one (see [`OutcomeRaw::important`]).
    pub thresholds: Option<(f64, Option<f64>)>,
}

/// The checked file.
#[derive(Debug, Clone, PartialEq)]
pub struct Grade {
    pub source: Arc<Source>,
    pub intervention: String,
    /// Whether the intervention's name is plural.
    pub plural: bool,
    /// What the intervention is compared with ("placebo"), where the file says.
    pub comparator: Option<String>,
    pub outcomes: Vec<Outcome>,
}

/// Parse and check a GRADE file; every problem is located in it.
pub fn load_grade(source: &Arc<Source>) -> Result<Grade, Vec<Diagnostic>> {
    let raw: GradeFile = toml::from_str(&source.text).map_err(|e| vec![crate::config::toml_error(source, &e, &source.name)])?;
    let mut problems = Vec::new();
    let mut outcomes = Vec::new();
    if raw.outcomes.is_empty() {
        problems.push(Diagnostic::error("no outcomes").at(source, 0..0, "here").hint("add one [[outcome]] table per outcome"));
    }
    for o in raw.outcomes {
        let at = |span: std::ops::Range<usize>, message: String, hint: &str| Diagnostic::error(message).at(source, span, "here").hint(hint.to_string());
        let randomised = match o.design.get_ref().to_lowercase().replace('-', "").as_str() {
            "randomised" | "randomized" | "rct" => Some(true),
            "nonrandomised" | "nonrandomized" | "observational" => Some(false),
            "not reported" => None,
            other => {
                problems.push(at(o.design.span(), format!("unknown design `{other}`"), "design = \"randomised\" (starts at high certainty), \"non-randomised\" (starts at low) or \"not reported\" (then give the certainty the source states)"));
                continue;
            }
        };
        let mut domains = Vec::new();
        let given = [
            (Domain::RiskOfBias, &o.risk_of_bias),
            (Domain::Inconsistency, &o.inconsistency),
            (Domain::Indirectness, &o.indirectness),
            (Domain::Imprecision, &o.imprecision),
            (Domain::PublicationBias, &o.publication_bias),
            (Domain::LargeEffect, &o.large_effect),
            (Domain::DoseResponse, &o.dose_response),
            (Domain::Confounding, &o.confounding),
        ];
        for (domain, rating) in given {
            let Some(r) = rating else {
                if !domain.is_upgrade() {
                    problems.push(at(o.name.span(), format!("outcome `{}` has no rating for {}", o.name.get_ref(), domain.name()), "rate every domain: `not serious`, `serious`, `very serious`, or `not reported`"));
                } else {
                    domains.push(Judged { domain, rating: "none".into(), levels: Some(0), reason: None });
                }
                continue;
            };
            let word = r.rating.get_ref().trim().to_lowercase();
            let levels = if word == "not reported" { Some(None) } else { domain.ratings().iter().find(|(w, _)| *w == word).map(|(_, l)| Some(*l)) };
            match levels {
                Some(levels) => domains.push(Judged { domain, rating: word, levels, reason: r.reason.clone() }),
                None => {
                    let words: Vec<&str> = domain.ratings().iter().map(|(w, _)| *w).chain(["not reported"]).collect();
                    problems.push(at(r.rating.span(), format!("`{}` is not a rating for {}", r.rating.get_ref(), domain.name()), &format!("ratings: {}", words.join(", "))));
                }
            }
        }
        let from = match (&o.analysis, &o.narrative) {
            (Some(a), None) => EffectFrom::Analysis { name: a.get_ref().clone(), span: a.span(), same_people: o.same_people },
            (None, Some(text)) => {
                let count = |v: &Option<Spanned<f64>>, what: &str, problems: &mut Vec<Diagnostic>| match v {
                    Some(n) if *n.get_ref() >= 0.0 && n.get_ref().fract() == 0.0 => Some(*n.get_ref() as u64),
                    Some(n) => {
                        problems.push(at(n.span(), format!("{what} must be a whole number, not {}", n.get_ref()), "count people and studies"));
                        None
                    }
                    None => None,
                };
                let direction = match o.direction.as_ref().map(|d| (d.get_ref().to_lowercase(), d.span())) {
                    Some((d, _)) if d == "positive" => Direction::Positive,
                    Some((d, _)) if d == "negative" => Direction::Negative,
                    Some((d, _)) if d == "none" => Direction::None,
                    Some((d, span)) => {
                        problems.push(at(span, format!("unknown direction `{d}`"), "direction = \"positive\", \"negative\" or \"none\" (little to no difference)"));
                        continue;
                    }
                    None => {
                        problems.push(at(o.name.span(), format!("narrative outcome `{}` needs `direction`", o.name.get_ref()), "direction = \"positive\", \"negative\" or \"none\": which of your words the studies found"));
                        continue;
                    }
                };
                EffectFrom::Narrative { text: text.clone(), participants: count(&o.participants, "participants", &mut problems), studies: count(&o.studies, "studies", &mut problems), direction }
            }
            _ => {
                problems.push(at(o.name.span(), format!("outcome `{}` needs either `analysis` or `narrative`", o.name.get_ref()), "analysis = \"name of a metabook analysis\", or narrative = \"what the studies found\" with participants and studies"));
                continue;
            }
        };
        let start = randomised.map(|r| if r { 3 } else { 1 });
        let computed = domains.iter().map(|j| j.levels).sum::<Option<i32>>().and_then(|moves| Some(Certainty::from_level(start? + moves)));
        let stated = o.certainty.as_ref().map(|c| (Certainty::parse(c.get_ref()), c.span()));
        let (certainty, is_stated) = match (computed, stated) {
            (Some(c), None) => (c, false),
            (Some(c), Some((Some(s), span))) if s != c => {
                problems.push(at(span, format!("the ratings give {} certainty, not {}", c.name(), s.name()), "remove `certainty` (it is computed) or correct the ratings"));
                continue;
            }
            (Some(c), Some(_)) => (c, false),
            (None, Some((Some(s), _))) => (s, true),
            (None, Some((None, span))) => {
                problems.push(at(span, "unknown certainty".to_string(), "certainty = \"high\", \"moderate\", \"low\" or \"very low\""));
                continue;
            }
            (None, None) => {
                let what = if randomised.is_none() { "the design" } else { "a rating" };
                problems.push(at(o.name.span(), format!("outcome `{}`: {what} is `not reported`, so its certainty cannot be computed", o.name.get_ref()), "give the certainty the source states: certainty = \"moderate\""));
                continue;
            }
        };
        let comparator_risk = match o.comparator_risk.as_ref().map(|c| (c.get_ref().trim().to_lowercase(), c.span())) {
            None => ComparatorRisk::Pooled,
            Some((c, _)) if c == "pooled" => ComparatorRisk::Pooled,
            Some((c, _)) if c == "median" => ComparatorRisk::Median,
            Some((c, span)) => {
                problems.push(at(span, format!("`{c}` is not a way to take the comparator risk"), "comparator_risk = \"pooled\" (all comparator groups' events over their participants) or \"median\" (the median of their risks)"));
                continue;
            }
        };
        let mut given_risks = Vec::new();
        for g in &o.comparator_risks {
            let r = *g.risk.get_ref();
            if !(r > 0.0 && r < 1.0) || g.label.trim().is_empty() {
                problems.push(at(g.risk.span(), format!("a comparator risk is a proportion between 0 and 1 with a label, not {r}"), "e.g. comparator_risks = [{ label = \"High-risk population\", risk = 0.2 }] for 200 per 1,000"));
                continue;
            }
            given_risks.push((g.label.trim().to_string(), r));
        }
        let scale = match (&o.scale, &o.scale_sd) {
            (None, None) => None,
            (Some(name), Some(sd)) if !name.get_ref().trim().is_empty() && *sd.get_ref() > 0.0 && sd.get_ref().is_finite() => Some((name.get_ref().trim().to_string(), *sd.get_ref())),
            (Some(name), None) => {
                problems.push(at(name.span(), "`scale` without `scale_sd`".to_string(), "give the instrument's typical standard deviation in such people: scale_sd = 0.8"));
                continue;
            }
            (None, Some(sd)) => {
                problems.push(at(sd.span(), "`scale_sd` without `scale`".to_string(), "name the instrument: scale = \"Ashworth score\""));
                continue;
            }
            (Some(name), Some(sd)) => {
                let span = if name.get_ref().trim().is_empty() { name.span() } else { sd.span() };
                problems.push(at(span, "a scale needs a name and a standard deviation above 0".to_string(), "scale = \"Ashworth score\", scale_sd = 0.8"));
                continue;
            }
        };
        let thresholds = match (&o.important, &o.large) {
            (None, None) => None,
            (Some(i), large) if *i.get_ref() > 0.0 && i.get_ref().is_finite() => match large {
                None => Some((*i.get_ref(), None)),
                Some(l) if *l.get_ref() > *i.get_ref() && l.get_ref().is_finite() => Some((*i.get_ref(), Some(*l.get_ref()))),
                Some(l) => {
                    problems.push(at(l.span(), format!("`large` must be above `important` ({})", i.get_ref()), "a large difference is larger than the smallest important one"));
                    continue;
                }
            },
            (Some(i), _) => {
                problems.push(at(i.span(), "`important` must be a difference above 0".to_string(), "per 1,000 people for 2×2 data (important = 10), in the outcome's units for a mean difference"));
                continue;
            }
            (None, Some(l)) => {
                problems.push(at(l.span(), "`large` without `important`".to_string(), "give the smallest important difference too: important = 10"));
                continue;
            }
        };
        let outcome_words = o.outcome.clone().unwrap_or_else(|| o.name.get_ref().to_lowercase());
        let words = (outcome_words, o.positive.clone().unwrap_or_else(|| "increase".into()), o.negative.clone().unwrap_or_else(|| "reduction".into()));
        outcomes.push(Outcome { name: o.name.get_ref().clone(), from, randomised, words, domains, certainty, stated: is_stated, note: o.note.clone(), comparator_risk, given_risks, span: o.name.span(), scale, thresholds });
    }
    if problems.is_empty() {
        let comparator = raw.comparator.as_ref().map(|c| c.get_ref().clone());
        Ok(Grade { source: Arc::clone(source), intervention: raw.intervention.get_ref().clone(), plural: raw.intervention_plural, comparator, outcomes })
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "intervention = \"ITB\"\n[[outcome]]\nname = \"Spasticity\"\nanalysis = \"s\"\ndesign = \"randomised\"\n";
    const NOT_SERIOUS: &str = "risk_of_bias = { rating = \"not serious\" }\ninconsistency = { rating = \"not serious\" }\nindirectness = { rating = \"not serious\" }\npublication_bias = { rating = \"not serious\" }\n";

    fn load(text: &str) -> Result<Grade, Vec<Diagnostic>> {
        load_grade(&Source::new("grade.toml", text))
    }

    #[test]
    fn certainty_starts_by_design_and_moves_by_the_ratings() {
        let g = load(&format!("{BASE}{NOT_SERIOUS}imprecision = {{ rating = \"serious\", reason = \"few people\" }}\n")).unwrap();
        assert_eq!(g.outcomes[0].certainty, Certainty::Moderate);
        assert!(!g.outcomes[0].stated);
        let g = load(&format!("{}{NOT_SERIOUS}imprecision = {{ rating = \"very serious\" }}\n", BASE.replace("\"randomised\"", "\"non-randomised\""))).unwrap();
        assert_eq!(g.outcomes[0].certainty, Certainty::VeryLow);
        let g = load(&format!("{}{NOT_SERIOUS}imprecision = {{ rating = \"not serious\" }}\nlarge_effect = {{ rating = \"very large\" }}\n", BASE.replace("\"randomised\"", "\"non-randomised\""))).unwrap();
        assert_eq!(g.outcomes[0].certainty, Certainty::High);
        assert_eq!(Certainty::Moderate.symbols(), "⨁⨁⨁◯");
    }

    #[test]
    fn a_rating_not_reported_needs_the_stated_certainty() {
        let e = load(&format!("{BASE}{NOT_SERIOUS}imprecision = {{ rating = \"not reported\" }}\n")).unwrap_err();
        assert!(e[0].message.contains("cannot be computed"), "{}", e[0].message);
        let g = load(&format!("{BASE}certainty = \"moderate\"\n{NOT_SERIOUS}imprecision = {{ rating = \"not reported\" }}\n")).unwrap();
        assert_eq!((g.outcomes[0].certainty, g.outcomes[0].stated), (Certainty::Moderate, true));
    }

    #[test]
    fn a_design_not_reported_needs_the_stated_certainty() {
        let text = format!("{}{NOT_SERIOUS}imprecision = {{ rating = \"not serious\" }}\n", BASE.replace("\"randomised\"", "\"not reported\""));
        let e = load(&text).unwrap_err();
        assert!(e[0].message.contains("the design is `not reported`"), "{}", e[0].message);
        let g = load(&text.replace("design = ", "certainty = \"low\"\ndesign = ")).unwrap();
        assert_eq!((g.outcomes[0].certainty, g.outcomes[0].stated, g.outcomes[0].randomised), (Certainty::Low, true, None));
    }

    #[test]
    fn bad_values_are_located() {
        let e = load(&format!("{BASE}{NOT_SERIOUS}imprecision = {{ rating = \"seriuos\" }}\n")).unwrap_err();
        assert_eq!(e[0].position().unwrap(), "grade.toml:10:26");
        assert!(e[0].hints[0].contains("very serious"));
        let e = load(&format!("{BASE}certainty = \"high\"\n{NOT_SERIOUS}imprecision = {{ rating = \"serious\" }}\n")).unwrap_err();
        assert!(e[0].message.contains("the ratings give Moderate certainty, not High"), "{}", e[0].message);
        let e = load(&format!("{BASE}{NOT_SERIOUS}")).unwrap_err();
        assert!(e[0].message.contains("no rating for imprecision"), "{}", e[0].message);
    }
}
