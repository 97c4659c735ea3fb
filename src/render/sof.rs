//! The GRADE summary-of-findings table: per outcome, the participants and studies and the
//! effect with its CI — computed from the analysis, never typed — the certainty of the evidence
//! with the reasons for each downgrade or upgrade as footnotes, and the statement in GRADE's
//! standard words (Santesso et al., J Clin Epidemiol 2020;119:126–35): "results in", "likely
//! results in", "may result in", "the evidence is very uncertain".
//!
//! It also reads the data against the ratings: where the author rated inconsistency or
//! imprecision "not serious" but I² is above 50%, the CI crosses no effect, or fewer people took
//! part than the optimal information size, it warns — the decision stays the author's.

use crate::data::grade::{Certainty, ComparatorRisk, Direction, Domain, EffectFrom, Grade, Outcome};
use crate::diag::Diagnostic;
use crate::engine::{Analyses, AnalysisResult};
use crate::format;
use crate::stats::absolute::{absolute, comparator_risk, comparator_totals, Relative};
use crate::stats::StudyData;

/// Participants below which GRADE's rule of thumb suggests rating down for imprecision
/// (continuous outcomes; Guyatt et al., J Clin Epidemiol 2011;64:1283–93).
pub const OPTIMAL_INFORMATION_SIZE: f64 = 400.0;

/// An outcome's row, ready for any output.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub outcome: String,
    pub participants: String,
    pub effect: String,
    pub certainty: String,
    pub statement: String,
}

/// People in one study: its groups summed, or its larger group when the two groups are the
/// same people measured twice; `None` where the data do not say (generic effect sizes give an
/// effect and its variance, no group sizes).
pub fn study_participants(data: &StudyData, same_people: bool) -> Option<f64> {
    match *data {
        StudyData::Continuous { n1, n2, .. } | StudyData::Binary { n1, n2, .. } => {
            Some(if same_people { n1.max(n2) } else { n1 + n2 })
        }
        StudyData::PrePost { n, .. } | StudyData::Correlation { n, .. } => Some(n),
        StudyData::Generic { .. } => None,
    }
}

/// People in an analysis; `None` unless every study says how many took part.
pub fn participants(result: &AnalysisResult, same_people: bool) -> Option<f64> {
    result.table.studies.iter().map(|s| study_participants(&s.data, same_people)).sum()
}

/// What an analysis' pooled effect says, for sentences.
#[derive(Debug, Clone, PartialEq)]
pub struct EffectReading {
    /// "SMD 1.52 (95% CI 1.09 to 1.96)".
    pub text: String,
    /// Whether the CI includes no effect.
    pub crosses: bool,
    /// Some(true) above no effect, Some(false) below, None for little to no difference: a CI
    /// that includes no effect around an estimate that is not clearly away from it (for an
    /// SMD, below 0.2 in size; otherwise always).
    pub direction: Option<bool>,
    /// For an SMD with a direction: "small", "moderate" or "large".
    pub smd_size: Option<&'static str>,
}

/// Read an analysis' pooled effect (on the natural scale for ratio measures).
pub fn read_effect(result: &AnalysisResult) -> EffectReading {
    let a = &result.analysis;
    let shown = |x: f64| if a.spec.log_scale() { x.exp() } else { x };
    let Some(p) = &a.pooled else {
        // No estimable study: nothing is known of the direction or the size.
        return EffectReading { text: format!("{} not estimable", a.spec.measure.name()), crosses: true, direction: None, smd_size: None };
    };
    let null = if a.spec.log_scale() { 1.0 } else { 0.0 };
    let crosses = shown(p.ci_lower) <= null && shown(p.ci_upper) >= null;
    let smd = a.spec.measure.name() == "SMD";
    let direction = if crosses && (!smd || p.estimate.abs() < 0.2) { None } else { Some(shown(p.estimate) > null) };
    EffectReading {
        text: format::effect_sentence(a.spec.measure.name(), shown(p.estimate), shown(p.ci_lower), shown(p.ci_upper), a.spec.level, 2),
        crosses,
        direction,
        smd_size: (smd && direction.is_some()).then(|| smd_size(p.estimate)),
    }
}

/// The size of an absolute difference against an outcome's thresholds (GRADE's informative
/// statements, Santesso et al. 2020): below the smallest important difference it is trivial
/// ("little to no difference"); from there to the large one, slight; at or above it, large.
/// Without a large threshold, an important difference has no size word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    Trivial,
    Slight,
    Important,
    Large,
}

pub fn judged_size(difference: f64, important: f64, large: Option<f64>) -> Size {
    let d = difference.abs();
    match large {
        _ if d < important => Size::Trivial,
        Some(l) if d >= l => Size::Large,
        Some(_) => Size::Slight,
        None => Size::Important,
    }
}

/// The difference an outcome's thresholds are read against: per 1,000 people for 2×2 data at
/// the study population's risk, the estimate for a mean difference; `None` for other measures.
pub fn thresholded_difference(result: &AnalysisResult, how: ComparatorRisk) -> Option<f64> {
    if let Some(abs) = study_population_risks(result, how) {
        return Some(abs.difference().0 * 1000.0 / abs.per);
    }
    let a = &result.analysis;
    (a.spec.measure.name() == "MD").then_some(a.pooled.as_ref()?.estimate)
}

/// "a"/"an" before a word.
fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// The size of a standardised mean difference in words (Cohen's thresholds, as Cochrane's
/// plain-language guidance uses them): small below 0.5, moderate to 0.8, large above.
pub fn smd_size(smd: f64) -> &'static str {
    match smd.abs() {
        x if x < 0.5 => "small",
        x if x < 0.8 => "moderate",
        _ => "large",
    }
}

/// GRADE's statement for an effect of `certainty`: `change` is e.g. "a large reduction in
/// spasticity", or None for little to no difference; the verb agrees with a `plural`
/// intervention ("Antibiotics likely result in …").
pub fn statement(intervention: &str, plural: bool, outcome: &str, change: Option<&str>, certainty: Certainty) -> String {
    let verb = match (certainty, plural) {
        (Certainty::High, false) => "results in",
        (Certainty::High, true) => "result in",
        (Certainty::Moderate, false) => "likely results in",
        (Certainty::Moderate, true) => "likely result in",
        (Certainty::Low, _) => "may result in",
        (Certainty::VeryLow, _) => return format!("The evidence is very uncertain about the effect of {intervention} on {outcome}."),
    };
    let subject = capitalise(intervention);
    match change {
        Some(change) => format!("{subject} {verb} {change}."),
        None => format!("{subject} {verb} little to no difference in {outcome}."),
    }
}

fn superscript(n: usize) -> String {
    const LETTERS: [&str; 26] = ["ᵃ", "ᵇ", "ᶜ", "ᵈ", "ᵉ", "ᶠ", "ᵍ", "ʰ", "ⁱ", "ʲ", "ᵏ", "ˡ", "ᵐ", "ⁿ", "ᵒ", "ᵖ", "q", "ʳ", "ˢ", "ᵗ", "ᵘ", "ᵛ", "ʷ", "ˣ", "ʸ", "ᶻ"];
    LETTERS.get(n).map_or_else(|| format!("({})", n + 1), |l| l.to_string())
}

/// The table: headings, rows and footnotes; and the warnings for ratings the data question.
pub fn table(grade: &Grade, analyses: &Analyses) -> (Vec<String>, Vec<Vec<String>>, Vec<String>, Vec<Diagnostic>) {
    let headings = vec![
        "Outcome".to_string(),
        format!("Risk with {}", grade.comparator.as_deref().unwrap_or("the comparator")),
        format!("Risk with {}", grade.intervention),
        "Relative effect (95% CI)".to_string(),
        "№ of participants (studies)".to_string(),
        "Certainty of the evidence (GRADE)".to_string(),
        "What happens".to_string(),
    ];
    let mut notes: Vec<String> = Vec::new();
    let mut warnings = Vec::new();
    // GRADE asks for at most seven outcomes in a table (Handbook 14.1.4).
    if let Some(eighth) = grade.outcomes.get(7) {
        warnings.push(
            Diagnostic::warning(format!("{} outcomes in one summary of findings; GRADE asks for at most seven", grade.outcomes.len()))
                .at(&grade.source, eighth.span.clone(), "the eighth")
                .hint("keep the outcomes that matter most to patients, or make one table per comparison (a grade file and a `sof` block each)"),
        );
    }
    let mut rows = Vec::new();
    // Whether any row states risks (for the note on how they are computed).
    let mut risks = false;
    for o in &grade.outcomes {
        let mut marks: Vec<usize> = Vec::new();
        let mut note = |text: String, notes: &mut Vec<String>| {
            let n = notes.iter().position(|t| *t == text).unwrap_or_else(|| {
                notes.push(text);
                notes.len() - 1
            });
            marks.push(n);
        };
        for j in &o.domains {
            match (j.levels, &j.reason) {
                (None, _) => note(format!("{}: not reported by the source.", capitalise(j.domain.name())), &mut notes),
                (Some(l), reason) if l != 0 => {
                    let moved = if l < 0 { format!("Rated down {} for {}", levels(-l), j.domain.name()) } else { format!("Rated up {} for {}", levels(l), j.domain.name()) };
                    note(format!("{moved}{}", reason.as_ref().map_or(".".to_string(), |r| format!(": {r}"))), &mut notes);
                }
                _ => {}
            }
        }
        if o.randomised.is_none() {
            note("Study design: not reported by the source.".to_string(), &mut notes);
        }
        if o.stated {
            note("Certainty as stated by the source; not every rating behind it is reported.".to_string(), &mut notes);
        }
        if let Some(n) = &o.note {
            note(n.clone(), &mut notes);
        }
        // Lines of the author's comparator risks, under the outcome's own.
        let mut extra: Vec<(String, String)> = Vec::new();
        let (participants, (comparator, intervention, relative), change) = match &o.from {
            EffectFrom::Narrative { text, participants, studies, direction } => {
                let count = match (participants, studies) {
                    (Some(p), Some(s)) => format!("{} ({s})", format::count(*p)),
                    (Some(p), None) => format!("{} (not reported)", format::count(*p)),
                    (None, Some(s)) => format!("not reported ({s})"),
                    (None, None) => "not reported".to_string(),
                };
                let (outcome_words, positive, negative) = &o.words;
                let change = match direction {
                    Direction::Positive => Some(format!("{} {positive} in {outcome_words}", article(positive))),
                    Direction::Negative => Some(format!("{} {negative} in {outcome_words}", article(negative))),
                    Direction::None => None,
                };
                (count, (NONE.to_string(), text.clone(), NONE.to_string()), change)
            }
            EffectFrom::Analysis { name, same_people, .. } => {
                let Some(result) = analyses.get(name) else { continue };
                let people = participants(result, *same_people);
                let read = read_effect(result);
                let (outcome_words, positive, negative) = &o.words;
                let change = read.direction.map(|above| {
                    let direction = if above { positive } else { negative };
                    let phrase = match read.smd_size {
                        Some(size) => format!("{size} {direction}"),
                        None => direction.clone(),
                    };
                    format!("{} {phrase} in {outcome_words}", article(&phrase))
                });
                check(o, result, people, read.crosses, &grade.source, &mut warnings, &mut |t| note(t, &mut notes));
                let mut cells = absolute_cells(result, &o.words.0, *same_people, o.comparator_risk, &o.given_risks, o.scale.as_ref());
                match cells.lines.take() {
                    Some(lines) => {
                        risks |= !lines.is_empty();
                        extra = lines;
                    }
                    None if !o.given_risks.is_empty() => warnings.push(
                        Diagnostic::warning(format!("outcome `{}`: comparator risks are for 2×2 data pooled as RR, OR or RD; this analysis has none", o.name))
                            .at(&grade.source, o.span.clone(), "this outcome")
                            .hint("remove `comparator_risks`, or name a 2×2 analysis"),
                    ),
                    None => {}
                }
                // Against the outcome's thresholds, the size of the difference says the words.
                let change = match (o.thresholds, cells.difference) {
                    (Some((important, large)), Some(d)) => {
                        let per = if cells.basis.is_some() { " per 1,000 people" } else { "" };
                        let large_words = large.map_or(String::new(), |l| format!(", a large one {}{per}", format::data_value(l)));
                        note(format!("Size judged against the smallest important difference, {}{per}{large_words}.", format::data_value(important)), &mut notes);
                        let direction = if d > 0.0 { positive } else { negative };
                        let phrase = match judged_size(d, important, large) {
                            Size::Trivial => None,
                            Size::Slight => Some(format!("slight {direction}")),
                            Size::Important => Some(direction.clone()),
                            Size::Large => Some(format!("large {direction}")),
                        };
                        phrase.map(|phrase| format!("{} {phrase} in {outcome_words}", article(&phrase)))
                    }
                    (Some(_), None) => {
                        warnings.push(
                            Diagnostic::warning(format!("outcome `{}`: `important` and `large` are read against a difference in risks or in means; this analysis gives neither", o.name))
                                .at(&grade.source, o.span.clone(), "this outcome")
                                .hint("remove them, or name an analysis of 2×2 data (RR, OR, RD) or a mean difference"),
                        );
                        change
                    }
                    (None, _) => change,
                };
                // Where the comparator's risk comes from: a footnote on its cell.
                if let Some(basis) = cells.basis.take() {
                    risks = true;
                    let n = notes.iter().position(|t| *t == basis).unwrap_or_else(|| {
                        notes.push(basis);
                        notes.len() - 1
                    });
                    cells.comparator.push_str(&superscript(n));
                }
                // Every study counts, also one without events in either group: its people
                // took part, though it adds nothing to a ratio's estimate.
                let studies = result.table.studies.len();
                let count = match people {
                    Some(people) => format!("{} ({studies})", format::count(people.round() as u64)),
                    None => {
                        note("The analysis' data (effects with their variances or standard errors) do not give the number of participants.".to_string(), &mut notes);
                        format!("not reported ({studies})")
                    }
                };
                (count, (cells.comparator, cells.intervention, cells.relative), change)
            }
        };
        let statement = statement(&grade.intervention, grade.plural, &o.words.0, change.as_deref(), o.certainty);
        let marks: String = marks.iter().map(|&m| superscript(m)).collect();
        rows.push(vec![o.name.clone(), comparator, intervention, relative, participants, format!("{} {}{marks}", o.certainty.symbols(), o.certainty.name()), statement]);
        for (comparator, intervention) in extra {
            rows.push(vec![String::new(), comparator, intervention, String::new(), String::new(), String::new(), String::new()]);
        }
    }
    let mut notes: Vec<String> = notes.iter().enumerate().map(|(i, n)| format!("{} {n}", superscript(i))).collect();
    let mut headings = headings;
    if risks {
        notes.push(format!("The risk with {} (and its confidence interval) is based on the assumed risk with {} and the relative effect of the intervention (and its confidence interval).", grade.intervention, grade.comparator.as_deref().unwrap_or("the comparator")));
    }
    // A column with nothing to say in any row is left out (a review of continuous outcomes
    // has no risks and no relative effects); without risks, the intervention's column holds
    // the effect.
    let empty = |column: usize| rows.iter().all(|r| r[column] == NONE || r[column].is_empty());
    let (no_comparator, no_intervention, no_relative) = (empty(1), empty(2), empty(3));
    for (column, drop) in [(3, no_relative), (2, no_intervention), (1, no_comparator)] {
        if drop {
            headings.remove(column);
            for r in &mut rows {
                r.remove(column);
            }
        }
    }
    if no_comparator && !no_intervention {
        headings[1] = "Effect (95% CI)".to_string();
    }
    (headings, rows, notes, warnings)
}

/// A cell with nothing to say.
const NONE: &str = "—";

/// An analysis' cells in the table ([`absolute_cells`]).
struct Cells {
    comparator: String,
    intervention: String,
    relative: String,
    /// Where the risk with the comparator comes from (2×2 data), for a footnote.
    basis: Option<String>,
    /// For 2×2 data: the lines of the author's comparator risks (population, risk with the
    /// comparator; risk with the intervention).
    lines: Option<Vec<(String, String)>>,
    /// The estimated difference the outcome's thresholds are read against: per 1,000 people
    /// for 2×2 data, the mean difference for means.
    difference: Option<f64>,
}

impl Cells {
    fn new(comparator: String, intervention: String, relative: String) -> Cells {
        Cells { comparator, intervention, relative, basis: None, lines: None, difference: None }
    }
}

/// The relative effect a measure's absolute effects come from (2×2 data's RR, OR or RD).
pub fn relative(measure: &str) -> Option<Relative> {
    match measure {
        "RR" => Some(Relative::RiskRatio),
        "OR" => Some(Relative::OddsRatio),
        "RD" => Some(Relative::RiskDifference),
        _ => None,
    }
}

/// The comparator groups (events, people) of an analysis of 2×2 data; `None` for other data.
pub fn comparator_groups(result: &AnalysisResult) -> Option<Vec<(f64, f64)>> {
    result
        .table
        .studies
        .iter()
        .map(|s| match s.data {
            StudyData::Binary { events2, n2, .. } => Some((events2, n2)),
            _ => None,
        })
        .collect()
}

/// The absolute effect of an analysis of 2×2 data at the comparator risk of its included
/// studies (pooled or median): what a summary of findings and a plain-language summary state.
pub fn study_population_risks(result: &AnalysisResult, how: ComparatorRisk) -> Option<crate::stats::absolute::Absolute> {
    let a = &result.analysis;
    let p = a.pooled.as_ref()?;
    let relative = relative(a.spec.measure.name())?;
    let shown = |x: f64| if a.spec.log_scale() { x.exp() } else { x };
    comparator_risk(&comparator_groups(result)?, how).and_then(|acr| absolute(acr, relative, shown(p.estimate), shown(p.ci_lower), shown(p.ci_upper)))
}

/// GRADEpro's cells for an analysis: the risk (or mean) with the comparator, with the
/// intervention, and the relative effect; and the footnote saying where the comparator's risk
/// comes from.
///
/// - 2×2 data pooled as a risk ratio, odds ratio or risk difference: the comparator groups' risk
///   in the included studies (`how`: pooled or median), and the corresponding risk with its CI
///   and the difference, per 1,000 (per 100,000 for a rare event; [`absolute`](crate::stats::absolute)).
/// - A mean difference: the comparator groups' mean (weighted by their people), and the
///   difference in words ("0.50 lower"). Where both groups are the same people measured twice,
///   neither group is a comparator: the difference is given signed, and no mean.
/// - A standardised mean difference: the difference; its size in words is in the statement.
/// - Other effects (hazard ratios, generic effects): the relative effect only.
fn absolute_cells(result: &AnalysisResult, outcome: &str, same_people: bool, how: ComparatorRisk, given: &[(String, f64)], scale: Option<&(String, f64)>) -> Cells {
    let a = &result.analysis;
    let measure = a.spec.measure.name();
    let Some(p) = &a.pooled else {
        return Cells::new(NONE.to_string(), NONE.to_string(), format!("{measure} not estimable"));
    };
    let shown = |x: f64| if a.spec.log_scale() { x.exp() } else { x };
    let (est, lo, hi) = (shown(p.estimate), shown(p.ci_lower), shown(p.ci_upper));
    if let (Some(relative), Some(groups)) = (relative(measure), comparator_groups(result)) {
        let ratio_cell = if relative == Relative::RiskDifference { NONE.to_string() } else { format::effect_ci(measure, est, lo, hi, 2) };
        let rd = if relative == Relative::RiskDifference { format!("; {}", format::effect_ci(measure, est, lo, hi, 2)) } else { String::new() };
        let with = |abs: &crate::stats::absolute::Absolute| {
            let (d, dl, dh) = abs.difference();
            format!("{}; {}{rd}", format::risk_ci(abs.intervention, abs.lower, abs.upper, abs.per), format::people_difference(d, dl, dh, abs.per))
        };
        // The author's populations, each its own line.
        let lines = given.iter().filter_map(|(label, acr)| absolute(*acr, relative, est, lo, hi).map(|abs| (format!("{label}: {}", format::per_people(abs.comparator, abs.per)), with(&abs)))).collect();
        let Some(abs) = comparator_risk(&groups, how).and_then(|acr| absolute(acr, relative, est, lo, hi)) else {
            return Cells { lines: Some(lines), ..Cells::new(NONE.to_string(), NONE.to_string(), ratio_cell) };
        };
        let (events, people) = comparator_totals(&groups);
        let basis = match how {
            ComparatorRisk::Pooled => format!(
                "Risk with the comparator: the comparator groups' risk in the included studies, pooled ({} events in {} people).",
                format::count(events.round() as u64),
                format::count(people.round() as u64)
            ),
            ComparatorRisk::Median => "Risk with the comparator: the median of the comparator groups' risks in the included studies.".to_string(),
        };
        let study = if given.is_empty() { String::new() } else { "Study population: ".to_string() };
        let difference = Some(abs.difference().0 * 1000.0 / abs.per);
        return Cells { basis: Some(basis), lines: Some(lines), difference, ..Cells::new(format!("{study}{}", format::per_people(abs.comparator, abs.per)), with(&abs), ratio_cell) };
    }
    match measure {
        "MD" if !same_people => {
            let means: Option<Vec<(f64, f64)>> = result
                .table
                .studies
                .iter()
                .map(|s| match s.data {
                    StudyData::Continuous { n2, mean2, .. } if n2 > 0.0 && mean2.is_finite() => Some((n2, mean2)),
                    _ => None,
                })
                .collect();
            let comparator = means.filter(|m| !m.is_empty()).map_or_else(
                || NONE.to_string(),
                |m| {
                    let (n, sum) = m.iter().fold((0.0, 0.0), |(n, s), g| (n + g.0, s + g.0 * g.1));
                    format!("The mean {outcome} was {}", format::fixed(sum / n, 2))
                },
            );
            Cells { difference: Some(est), ..Cells::new(comparator, format::difference_words(measure, est, lo, hi, 2), NONE.to_string()) }
        }
        "MD" if same_people => Cells { difference: Some(est), ..Cells::new(NONE.to_string(), format::effect_ci(measure, est, lo, hi, 2), NONE.to_string()) },
        "SMD" => {
            // In a familiar instrument's units: the SMD times its typical SD.
            let (smd, in_units) = if same_people {
                (format::effect_ci(measure, est, lo, hi, 2), scale.map(|(name, sd)| format!("; on the {name}, about {}", format::effect_ci("", est * sd, lo * sd, hi * sd, 2).trim_start())))
            } else {
                (format::difference_words(measure, est, lo, hi, 2), scale.map(|(name, sd)| format!("; on the {name}, about {}", format::difference_words("", est * sd, lo * sd, hi * sd, 2).trim_start())))
            };
            Cells::new(NONE.to_string(), format!("{smd}{}", in_units.unwrap_or_default()), NONE.to_string())
        }
        _ => Cells::new(NONE.to_string(), NONE.to_string(), format::effect_ci(measure, est, lo, hi, 2)),
    }
}

/// Warn where the data suggest a downgrade the ratings do not make; note it where the rating
/// is not reported.
fn check(o: &Outcome, result: &AnalysisResult, people: Option<f64>, crosses: bool, source: &std::sync::Arc<crate::diag::Source>, warnings: &mut Vec<Diagnostic>, note: &mut dyn FnMut(String)) {
    let rating = |d: Domain| o.domains.iter().find(|j| j.domain == d);
    let span = match &o.from {
        EffectFrom::Analysis { span, .. } => span.clone(),
        EffectFrom::Narrative { .. } => 0..0,
    };
    let mut concerns = Vec::new();
    if let Some(i2) = result.analysis.pooled.as_ref().and_then(|p| p.heterogeneity.as_ref()).map(|h| h.i2).filter(|i2| *i2 > 50.0) {
        concerns.push((Domain::Inconsistency, format!("I² is {}, above 50%", format::percent0(i2))));
    }
    if crosses {
        concerns.push((Domain::Imprecision, "the confidence interval includes no effect".to_string()));
    }
    if let Some(people) = people.filter(|&p| p < OPTIMAL_INFORMATION_SIZE) {
        concerns.push((Domain::Imprecision, format!("{} participants, fewer than the optimal information size of {}", format::fixed(people, 0), format::fixed(OPTIMAL_INFORMATION_SIZE, 0))));
    }
    for (domain, why) in concerns {
        match rating(domain).map(|j| j.levels) {
            Some(Some(0)) => warnings.push(
                Diagnostic::warning(format!("outcome `{}`: {why}, but {} is rated not serious", o.name, domain.name()))
                    .at(source, span.clone(), "this outcome's analysis")
                    .hint(format!("consider rating {} down, or give the reason it is not serious", domain.name())),
            ),
            Some(None) => note(format!("metabook: {why}; the source does not report its rating for {}.", domain.name())),
            _ => {}
        }
    }
}

fn levels(n: i32) -> &'static str {
    if n == 1 {
        "one level"
    } else {
        "two levels"
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or_else(String::new, |f| f.to_uppercase().collect::<String>() + c.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Source;

    #[test]
    fn generic_data_report_no_participants_rather_than_nan() {
        // Effects with standard errors give no group sizes: the cell said "NaN (3)".
        let csv = Source::new("gen.csv", "study,yi,se\nA,0.5,0.2\nB,0.3,0.1\nC,0.6,0.3\n");
        let studies = crate::data::load_studies(&crate::data::csv_table(&csv).unwrap(), crate::stats::Measure::GEN, None).unwrap();
        let result = crate::engine::analyse(studies, &crate::stats::Spec::new(crate::stats::Measure::GEN)).unwrap();
        let analyses = Analyses { by_name: vec![("gen".to_string(), result)], ..Analyses::default() };
        let grade = crate::data::grade::load_grade(&Source::new(
            "grade.toml",
            "intervention = \"X\"\n[[outcome]]\nname = \"Pain\"\nanalysis = \"gen\"\ndesign = \"randomised\"\nrisk_of_bias = { rating = \"not serious\" }\ninconsistency = { rating = \"not serious\" }\nindirectness = { rating = \"not serious\" }\nimprecision = { rating = \"serious\", reason = \"Few studies.\" }\npublication_bias = { rating = \"not serious\" }\n",
        ))
        .unwrap();
        let (_, rows, notes, _) = table(&grade, &analyses);
        // A generic effect has no risks: the relative effect only, the empty columns left out.
        let (headings, _, _, _) = table(&grade, &analyses);
        assert_eq!(headings[1], "Relative effect (95% CI)");
        assert!(rows[0][1].starts_with("GEN "), "{:?}", rows[0]);
        assert!(rows[0][2].starts_with("not reported (3)"), "{:?}", rows[0]);
        let all = format!("{rows:?} {notes:?}");
        assert!(!all.contains("NaN"), "{all}");
        assert!(notes.iter().any(|n| n.contains("do not give the number of participants")), "{notes:?}");
    }

    /// The SoF of one outcome from `csv` pooled as `measure`, and the analysis.
    fn sof_of(csv: &str, measure: crate::stats::Measure, extra: &str) -> (Vec<String>, Vec<String>, AnalysisResult) {
        let (rows, notes, result) = sof_rows(csv, measure, extra, 1);
        (rows[0].clone(), notes, result)
    }

    /// The SoF rows of `outcomes` outcomes from `csv` pooled as `measure`.
    fn sof_rows(csv: &str, measure: crate::stats::Measure, extra: &str, outcomes: usize) -> (Vec<Vec<String>>, Vec<String>, AnalysisResult) {
        let csv = Source::new("d.csv", csv);
        let studies = crate::data::load_studies(&crate::data::csv_table(&csv).unwrap(), measure, None).unwrap();
        let result = crate::engine::analyse(studies, &crate::stats::Spec::new(measure)).unwrap();
        let analyses = Analyses { by_name: vec![("a".to_string(), result.clone())], ..Analyses::default() };
        let outcome = format!("[[outcome]]\nname = \"Death\"\nanalysis = \"a\"\ndesign = \"randomised\"\n{extra}risk_of_bias = {{ rating = \"not serious\" }}\ninconsistency = {{ rating = \"not serious\" }}\nindirectness = {{ rating = \"not serious\" }}\nimprecision = {{ rating = \"not serious\" }}\npublication_bias = {{ rating = \"not serious\" }}\n");
        let grade = crate::data::grade::load_grade(&Source::new("grade.toml", format!("intervention = \"X\"\ncomparator = \"placebo\"\n{}", outcome.repeat(outcomes)))).unwrap();
        let (headings, rows, notes, warnings) = table(&grade, &analyses);
        if rows[0][1] != NONE && !rows[0][1].starts_with("SMD") {
            assert_eq!(&headings[1..3], ["Risk with placebo", "Risk with X"]);
        }
        assert_eq!(warnings.iter().any(|w| w.message.contains("GRADE asks for at most seven")), outcomes > 7, "{warnings:?}");
        (rows, notes, result)
    }

    #[test]
    fn given_comparator_risks_are_lines_of_their_own_and_eight_outcomes_too_many() {
        let csv = "study,events1,n1,events2,n2\nA,20,150,30,150\nB,6,50,10,50\nC,5,100,8,100\n";
        let (rows, _, result) = sof_rows(csv, crate::stats::Measure::RR, "comparator_risks = [{ label = \"High risk\", risk = 0.4 }, { label = \"Rare\", risk = 0.002 }]\n", 1);
        let rr = result.analysis.pooled.unwrap().estimate.exp();
        assert!(rows[0][1].starts_with("Study population: 160 per 1,000"), "{rows:?}");
        assert_eq!(rows[1][0], "");
        assert_eq!(rows[1][1], "High risk: 400 per 1,000");
        assert!(rows[1][2].starts_with(&format!("{} per 1,000 (", (400.0 * rr).round())), "{rows:?}");
        assert_eq!(rows[2][1], "Rare: 200 per 100,000");
        assert!(rows[2][2].starts_with(&format!("{} per 100,000 (", (200.0 * rr).round())), "{rows:?}");
        assert!(rows[1][3..].iter().all(String::is_empty));
        let (rows, _, _) = sof_rows(csv, crate::stats::Measure::RR, "", 8);
        assert_eq!(rows.len(), 8);
        // A risk that is not a proportion is an error where it is written.
        let bad = Source::new("grade.toml", "intervention = \"X\"\n[[outcome]]\nname = \"D\"\nanalysis = \"a\"\ndesign = \"randomised\"\ncomparator_risks = [{ label = \"L\", risk = 20 }]\nrisk_of_bias = { rating = \"not serious\" }\ninconsistency = { rating = \"not serious\" }\nindirectness = { rating = \"not serious\" }\nimprecision = { rating = \"not serious\" }\npublication_bias = { rating = \"not serious\" }\n");
        let errors = crate::data::grade::load_grade(&bad).unwrap_err();
        assert!(errors[0].message.contains("proportion between 0 and 1"), "{errors:?}");
    }

    #[test]
    fn absolute_effects_of_2x2_data_by_hand() {
        // Comparator groups: 30 of 150, 10 of 50, 8 of 100: pooled 48 of 300 = 160 per 1,000;
        // median of 0.2, 0.2, 0.08 = 200 per 1,000.
        let csv = "study,events1,n1,events2,n2\nA,20,150,30,150\nB,6,50,10,50\nC,5,100,8,100\n";
        let per_1000 = |x: f64| format!("{}", (x * 1000.0).round());
        for (measure, extra, acr) in [
            (crate::stats::Measure::RR, "", 48.0 / 300.0),
            (crate::stats::Measure::RR, "comparator_risk = \"median\"\n", 0.2),
            (crate::stats::Measure::OR, "", 48.0 / 300.0),
        ] {
            let (row, notes, result) = sof_of(csv, measure, extra);
            let p = result.analysis.pooled.unwrap();
            let corresponding = |log: f64| {
                let x = log.exp();
                if measure == crate::stats::Measure::RR { acr * x } else { acr * x / (1.0 - acr + acr * x) }
            };
            let (est, lo, hi) = (corresponding(p.estimate), corresponding(p.ci_lower), corresponding(p.ci_upper));
            assert!(row[1].starts_with(&format!("{} per 1,000", per_1000(acr))), "{row:?}");
            assert!(row[2].starts_with(&format!("{} per 1,000 ({} to {}); ", per_1000(est), per_1000(lo), per_1000(hi))), "{row:?}");
            let fewer = |x: f64| format!("{} fewer", ((acr - x) * 1000.0).round());
            assert!(row[2].contains(&format!("; {} per 1,000 (from {} to ", fewer(est), fewer(lo))), "{row:?}");
            assert_eq!(row[3], format!("{} {} ({} to {})", measure.name(), format::fixed(p.estimate.exp(), 2), format::fixed(p.ci_lower.exp(), 2), format::fixed(p.ci_upper.exp(), 2)));
            let basis = if extra.is_empty() { "pooled (48 events in 300 people)" } else { "the median of the comparator groups' risks" };
            assert!(notes.iter().any(|n| n.contains(basis)), "{notes:?}");
        }
    }

    #[test]
    fn absolute_effects_of_means() {
        // Comparator means 10 (20 people) and 13 (10 people): 11.00.
        let csv = "study,n1,mean1,sd1,n2,mean2,sd2\nA,20,9,2,20,10,2\nB,10,12,3,10,13,3\n";
        let (row, notes, result) = sof_of(csv, crate::stats::Measure::MD, "outcome = \"pain\"\n");
        // Means are not risks: no note on how risks are computed.
        assert!(!notes.iter().any(|n| n.contains("assumed risk")), "{notes:?}");
        let p = result.analysis.pooled.unwrap();
        assert_eq!(row[1], "The mean pain was 11.00");
        assert!(p.estimate < 0.0);
        assert!(row[2].starts_with(&format!("MD {} lower (", format::fixed(-p.estimate, 2))), "{row:?}");
        // No relative effect for means: the column is left out.
        assert!(row[3].ends_with("(2)") && row.len() == 6, "{row:?}");
    }

    #[test]
    fn thresholds_give_the_size_of_the_statement() {
        // 57 fewer per 1,000 (see absolute_effects_of_2x2_data_by_hand), at moderate certainty.
        let csv = "study,events1,n1,events2,n2\nA,20,150,30,150\nB,6,50,10,50\nC,5,100,8,100\n";
        let statement = |extra: &str| {
            let (row, notes, _) = sof_of(csv, crate::stats::Measure::RR, &format!("outcome = \"death\"\nnegative = \"reduction\"\n{extra}"));
            (row[6].clone(), notes)
        };
        assert_eq!(statement("").0, "X results in a reduction in death.");
        assert_eq!(statement("important = 100\n").0, "X results in little to no difference in death.");
        assert_eq!(statement("important = 20\n").0, "X results in a reduction in death.");
        assert_eq!(statement("important = 20\nlarge = 100\n").0, "X results in a slight reduction in death.");
        let (large, notes) = statement("important = 20\nlarge = 50\n");
        assert_eq!(large, "X results in a large reduction in death.");
        assert!(notes.iter().any(|n| n.contains("smallest important difference, 20 per 1,000 people, a large one 50 per 1,000 people")), "{notes:?}");
        // Means: in the outcome's units.
        let means = "study,n1,mean1,sd1,n2,mean2,sd2\nA,20,9,2,20,10,2\nB,10,12,3,10,13,3\n";
        let (row, _, _) = sof_of(means, crate::stats::Measure::MD, "outcome = \"pain\"\nnegative = \"reduction\"\nimportant = 0.5\nlarge = 2\n");
        assert_eq!(row[5], "X results in a slight reduction in pain.");
        // A large below the important one is an error where it is written.
        let bad = Source::new("grade.toml", "intervention = \"X\"\n[[outcome]]\nname = \"D\"\nanalysis = \"a\"\ndesign = \"randomised\"\nimportant = 20\nlarge = 10\nrisk_of_bias = { rating = \"not serious\" }\ninconsistency = { rating = \"not serious\" }\nindirectness = { rating = \"not serious\" }\nimprecision = { rating = \"not serious\" }\npublication_bias = { rating = \"not serious\" }\n");
        assert!(crate::data::grade::load_grade(&bad).unwrap_err()[0].message.contains("`large` must be above `important`"));
    }

    #[test]
    fn grade_fields_for_absolute_effects_are_checked_where_written() {
        let outcome = |extra: &str| {
            format!("intervention = \"X\"\n[[outcome]]\nname = \"D\"\nanalysis = \"a\"\ndesign = \"randomised\"\n{extra}risk_of_bias = {{ rating = \"not serious\" }}\ninconsistency = {{ rating = \"not serious\" }}\nindirectness = {{ rating = \"not serious\" }}\nimprecision = {{ rating = \"not serious\" }}\npublication_bias = {{ rating = \"not serious\" }}\n")
        };
        for (extra, message, at) in [
            ("comparator_risk = \"mean\"\n", "`mean` is not a way to take the comparator risk", "\"mean\""),
            ("scale = \"pain score\"\n", "`scale` without `scale_sd`", "\"pain score\""),
            ("scale_sd = 2\n", "`scale_sd` without `scale`", "2"),
            ("scale = \"pain score\"\nscale_sd = 0\n", "a scale needs a name and a standard deviation above 0", "0"),
            ("important = 0\n", "`important` must be a difference above 0", "0"),
            ("large = 50\n", "`large` without `important`", "50"),
        ] {
            let source = Source::new("grade.toml", outcome(extra));
            let errors = crate::data::grade::load_grade(&source).unwrap_err();
            assert!(errors[0].message.contains(message), "{extra}: {errors:?}");
            let span = errors[0].location.as_ref().unwrap().span.clone();
            assert_eq!(&source.text[span], at, "{extra}");
        }
        // Risks and thresholds on an analysis that has neither risks nor means: warned at the
        // outcome, the table still made.
        let csv = Source::new("gen.csv", "study,yi,se\nA,0.5,0.2\nB,0.3,0.1\n");
        let studies = crate::data::load_studies(&crate::data::csv_table(&csv).unwrap(), crate::stats::Measure::GEN, None).unwrap();
        let result = crate::engine::analyse(studies, &crate::stats::Spec::new(crate::stats::Measure::GEN)).unwrap();
        let analyses = Analyses { by_name: vec![("a".to_string(), result)], ..Analyses::default() };
        let grade = crate::data::grade::load_grade(&Source::new("grade.toml", outcome("comparator_risks = [{ label = \"L\", risk = 0.2 }]\nimportant = 10\n"))).unwrap();
        let (_, rows, _, warnings) = table(&grade, &analyses);
        assert_eq!(rows.len(), 1);
        assert!(warnings.iter().any(|w| w.message.contains("comparator risks are for 2×2 data")), "{warnings:?}");
        assert!(warnings.iter().any(|w| w.message.contains("`important` and `large` are read against")), "{warnings:?}");
    }

    #[test]
    fn an_smd_re_expressed_in_a_familiar_scale() {
        let csv = "study,n1,mean1,sd1,n2,mean2,sd2\nA,20,9,2,20,10,2\nB,10,12,3,10,13,3\n";
        let (row, _, result) = sof_of(csv, crate::stats::Measure::SMD, "scale = \"pain score\"\nscale_sd = 10\n");
        let p = result.analysis.pooled.unwrap();
        let expected = format!(
            "{}; on the pain score, about {}",
            format::difference_words("SMD", p.estimate, p.ci_lower, p.ci_upper, 2),
            format::difference_words("", p.estimate * 10.0, p.ci_lower * 10.0, p.ci_upper * 10.0, 2).trim_start()
        );
        assert_eq!(row[1], expected);
        assert!(row[1].contains(&format!("about {} lower", format::fixed(-p.estimate * 10.0, 2))), "{row:?}");
    }

    #[test]
    fn statements_in_grade_words() {
        let s = |c| statement("intrathecal baclofen", false, "spasticity", Some("a large reduction in spasticity"), c);
        assert_eq!(s(Certainty::High), "Intrathecal baclofen results in a large reduction in spasticity.");
        assert_eq!(s(Certainty::Moderate), "Intrathecal baclofen likely results in a large reduction in spasticity.");
        assert_eq!(s(Certainty::Low), "Intrathecal baclofen may result in a large reduction in spasticity.");
        assert_eq!(s(Certainty::VeryLow), "The evidence is very uncertain about the effect of intrathecal baclofen on spasticity.");
        assert_eq!(statement("ITB", false, "gait speed", None, Certainty::Low), "ITB may result in little to no difference in gait speed.");
        // A plural intervention takes a plural verb.
        let p = |c| statement("antibiotics", true, "sore throat", Some("a reduction in sore throat"), c);
        assert_eq!(p(Certainty::High), "Antibiotics result in a reduction in sore throat.");
        assert_eq!(p(Certainty::Moderate), "Antibiotics likely result in a reduction in sore throat.");
        assert_eq!(statement("antibiotics", true, "fever", None, Certainty::High), "Antibiotics result in little to no difference in fever.");
        assert_eq!((smd_size(-0.41), smd_size(0.5), smd_size(1.52)), ("small", "moderate", "large"));
        assert_eq!(article("increase"), "an");
    }
}
