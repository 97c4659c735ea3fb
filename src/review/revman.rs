//! The book checks itself against RevMan: every number RevMan 5 stored for an analysis (read by
//! [`crate::data::revman`]) is compared with the number metabook computed for the same thing,
//! and each one that differs is named.
//!
//! Two numbers agree when |RevMan − metabook| ≤ 10⁻⁶ · max(1, |metabook|) ([`agrees`]). What
//! metabook computed for a row of RevMan's results is read in one place, [`computed`]; the rest
//! compares. Conventions where RevMan stores a number metabook leaves out, each stated here:
//!
//! - τ² of a common-effect model, and of one study, is 0 (RevMan stores 0.0; metabook has none).
//! - Heterogeneity of one study is Chi² = 0 on df = 0, P = 1, I² = 0, as RevMan stores it.
//! - A study that is not pooled, and a total or subtotal without an estimable study, has
//!   weight 0.
//! - The test for subgroup differences with fewer than two estimable subgroups (RevMan's "not
//!   applicable") is Chi² = 0 on df = 0, P = 1, I² = 0, as RevMan stores it.
//! - Where RevMan says a row is not estimable (`estimable = NO`), the numbers it stores beside
//!   are placeholders (0.0): only `estimable` and the weight are compared.
//! - Study weights (and a subgroup's) are percent of the total when RevMan's results have a
//!   total for the analysis; without one (RevMan's "subtotals only"), percent of the subgroup.
//!
//! A number RevMan stored that metabook does not compute (a subgroup test where metabook has
//! none) differs: it is never passed over.

use crate::data::revman::{Quantity, RevmanResults, RevmanRow, RowKind};
use crate::diag::Diagnostic;
use crate::engine::{Analyses, AnalysisResult};
use crate::format;
use crate::stats::Analysis;
use std::ops::Range;

/// How far apart two numbers may be, relative to max(1, |metabook|).
pub const TOLERANCE: f64 = 1e-6;

/// Whether RevMan's number and metabook's agree: |a − b| ≤ 10⁻⁶ · max(1, |b|), b metabook's.
pub fn agrees(revman: f64, metabook: f64) -> bool {
    relative_difference(revman, metabook) <= TOLERANCE
}

/// |a − b| / max(1, |b|), b metabook's number.
pub fn relative_difference(revman: f64, metabook: f64) -> f64 {
    (revman - metabook).abs() / metabook.abs().max(1.0)
}

/// Which part of an analysis a row of RevMan's results is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part<'a> {
    /// A study, by its label in the analysis' data file and, where given, its subgroup (a
    /// label is unique within a subgroup; a study may stand in several).
    Study(&'a str, Option<&'a str>),
    /// A subgroup's subtotal, by its name.
    Subtotal(&'a str),
    Total,
    SubgroupTest,
}

/// What metabook computed for one part of an analysis, on RevMan's scales (ratio measures
/// exponentiated, weights and I² in percent, |z|).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Computed {
    pub estimable: bool,
    pub numbers: Vec<(Quantity, f64)>,
}

impl Computed {
    pub fn number(&self, quantity: Quantity) -> Option<f64> {
        self.numbers.iter().find(|(q, _)| *q == quantity).map(|(_, x)| *x)
    }
}

/// Why a row of RevMan's results has no counterpart in the analysis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unmatched {
    /// No study of that label in the analysis' data.
    Study,
    /// No subgroup of that name.
    Subgroup,
    /// The analysis' data have no subgroups.
    NoSubgroups,
}

/// The numbers metabook computed for `part` of an analysis — the one place that reads them.
/// `of_total`: weights in percent of the total (else of the subgroup).
pub fn computed(result: &AnalysisResult, part: Part<'_>, of_total: bool) -> Result<Computed, Unmatched> {
    let a = &result.analysis;
    match part {
        Part::Study(label, subgroup) => {
            let index = result.table.studies.iter().position(|s| s.label == label && subgroup.is_none_or(|g| s.subgroup.as_deref() == Some(g))).ok_or(Unmatched::Study)?;
            let study = a.studies().nth(index).expect("one result per study");
            let within = result.subgroups.as_ref().filter(|_| !of_total).and_then(|sa| {
                sa.subgroups.iter().find_map(|g| g.members.iter().position(|&m| m == index).and_then(|j| g.analysis.studies().nth(j)))
            });
            let weight = within.unwrap_or(study).weight.unwrap_or(0.0);
            let mut numbers = Vec::new();
            if let Some(effect) = study.effect {
                let (lower, upper) = effect.ci(a.spec.study_z());
                let shown = |x: f64| if a.spec.log_scale() { x.exp() } else { x };
                numbers.extend([(Quantity::Estimate, shown(effect.yi)), (Quantity::CiLower, shown(lower)), (Quantity::CiUpper, shown(upper))]);
            }
            numbers.push((Quantity::Weight, weight));
            Ok(Computed { estimable: study.effect.is_some(), numbers })
        }
        Part::Subtotal(name) => {
            let subgroups = result.subgroups.as_ref().ok_or(Unmatched::NoSubgroups)?;
            let g = subgroups.subgroups.iter().find(|g| g.name == name).ok_or(Unmatched::Subgroup)?;
            let weight = if of_total {
                let weights: Vec<Option<f64>> = a.studies().map(|s| s.weight).collect();
                g.members.iter().filter_map(|&m| weights[m]).sum()
            } else {
                g.analysis.studies().filter_map(|s| s.weight).sum()
            };
            Ok(pooled(&g.analysis, weight))
        }
        Part::Total => Ok(pooled(a, a.studies().filter_map(|s| s.weight).sum())),
        Part::SubgroupTest => {
            let subgroups = result.subgroups.as_ref().ok_or(Unmatched::NoSubgroups)?;
            let estimable = subgroups.subgroups.iter().filter(|g| g.analysis.pooled.is_some()).count();
            Ok(match &subgroups.test {
                Some(t) => Computed { estimable: true, numbers: vec![(Quantity::Chi2, t.q), (Quantity::Df, t.df), (Quantity::PChi2, t.p), (Quantity::I2, t.i2)] },
                // Fewer than two estimable subgroups: RevMan's "not applicable" test, stored as
                // Chi² = 0 on 0 df, P = 1, I² = 0.
                None if estimable < 2 => Computed { estimable: true, numbers: vec![(Quantity::Chi2, 0.0), (Quantity::Df, 0.0), (Quantity::PChi2, 1.0), (Quantity::I2, 0.0)] },
                None => Computed::default(),
            })
        }
    }
}

/// A pooled result (a total or a subtotal) with its weight; only the weight (0) where no study
/// is estimable.
fn pooled(a: &Analysis, weight: f64) -> Computed {
    let Some(p) = &a.pooled else {
        return Computed { estimable: false, numbers: vec![(Quantity::Weight, weight)] };
    };
    let shown = |x: f64| if a.spec.log_scale() { x.exp() } else { x };
    let mut numbers = vec![(Quantity::Estimate, shown(p.estimate)), (Quantity::CiLower, shown(p.ci_lower)), (Quantity::CiUpper, shown(p.ci_upper)), (Quantity::Weight, weight)];
    match (&p.heterogeneity, a.k) {
        (Some(h), _) => numbers.extend([(Quantity::Chi2, h.q), (Quantity::Df, h.df), (Quantity::PChi2, h.p), (Quantity::I2, h.i2)]),
        // One study: RevMan stores no heterogeneity as Chi² = 0 on 0 df, P = 1, I² = 0.
        (None, 1) => numbers.extend([(Quantity::Chi2, 0.0), (Quantity::Df, 0.0), (Quantity::PChi2, 1.0), (Quantity::I2, 0.0)]),
        (None, _) => {}
    }
    // A common-effect model (or one study) has τ² = 0 by assumption; RevMan stores it so.
    numbers.extend([(Quantity::Tau2, p.tau2.unwrap_or(0.0)), (Quantity::Z, p.stat.abs()), (Quantity::PZ, p.p)]);
    Computed { estimable: true, numbers }
}

/// A value on either side of a comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    Number(f64),
    Estimable(bool),
    /// metabook computes no such number.
    NotComputed,
}

impl Value {
    fn text(self) -> String {
        match self {
            Value::Number(x) => format::significant(x, 4),
            Value::Estimable(true) => "estimable".to_string(),
            Value::Estimable(false) => "not estimable".to_string(),
            Value::NotComputed => "not computed".to_string(),
        }
    }
}

/// One number (or `estimable`) of a row, RevMan's beside metabook's.
#[derive(Debug, Clone, PartialEq)]
pub struct Compared {
    /// `None` for `estimable`.
    pub quantity: Option<Quantity>,
    pub revman: Value,
    pub metabook: Value,
    /// RevMan's cell.
    pub cell: Range<usize>,
}

impl Compared {
    pub fn agrees(&self) -> bool {
        match (self.revman, self.metabook) {
            (Value::Number(a), Value::Number(b)) => agrees(a, b),
            (Value::Estimable(a), Value::Estimable(b)) => a == b,
            _ => false,
        }
    }

    /// The relative difference of two numbers, `None` for anything else.
    pub fn difference(&self) -> Option<f64> {
        match (self.revman, self.metabook) {
            (Value::Number(a), Value::Number(b)) => Some(relative_difference(a, b)),
            _ => None,
        }
    }

    /// "CI lower 0.4808 (RevMan) vs 0.4790 (metabook)".
    pub fn describe(&self) -> String {
        let (revman, metabook) = match (self.revman, self.metabook) {
            (Value::Number(a), Value::Number(b)) => format::apart(a, b),
            (a, b) => (a.text(), b.text()),
        };
        let what = self.quantity.map_or("", Quantity::name);
        let what = if what.is_empty() { String::new() } else { format!("{what} ") };
        format!("{what}{revman} (RevMan) vs {metabook} (metabook)")
    }
}

/// Compare one row of RevMan's results with what metabook computed for it.
pub fn compare_row(row: &RevmanRow, computed: &Computed) -> Vec<Compared> {
    let mut compared = Vec::new();
    if let Some((estimable, cell)) = &row.estimable {
        compared.push(Compared { quantity: None, revman: Value::Estimable(*estimable), metabook: Value::Estimable(computed.estimable), cell: cell.clone() });
    }
    let placeholders = matches!(row.estimable, Some((false, _)));
    for (quantity, x, cell) in &row.numbers {
        if placeholders && *quantity != Quantity::Weight {
            continue;
        }
        let metabook = computed.number(*quantity).map_or(Value::NotComputed, Value::Number);
        compared.push(Compared { quantity: Some(*quantity), revman: Value::Number(*x), metabook, cell: cell.clone() });
    }
    compared
}

/// One analysis compared with RevMan, as the table and the build's closing lines say it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Reproduction {
    pub analysis: String,
    /// What was compared: "7 studies, total".
    pub parts: String,
    /// How many numbers (and `estimable` flags) were compared.
    pub numbers: usize,
    /// The largest relative difference of two numbers (0 when none were compared).
    pub largest: f64,
    /// Each value that differs, named: "total: CI lower 0.4808 (RevMan) vs 0.4790 (metabook)".
    pub differences: Vec<String>,
}

impl Reproduction {
    pub fn reproduced(&self) -> bool {
        self.differences.is_empty()
    }
}

/// Every analysis of RevMan's results compared, and a warning for each value that differs.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub reproductions: Vec<Reproduction>,
    pub warnings: Vec<Diagnostic>,
}

/// A row's name in a difference: "total", "subgroup Adults", "Brink 1951".
fn row_name(row: &RevmanRow) -> String {
    let text = |c: &Option<crate::data::Cell>| c.as_ref().map_or(String::new(), |c| c.text.clone());
    match row.kind {
        RowKind::Study => text(&row.study),
        RowKind::Subtotal => format!("subgroup {}", text(&row.subgroup)),
        RowKind::Total => "total".to_string(),
        RowKind::SubgroupTest => "test for subgroup differences".to_string(),
    }
}

/// Compare every row of RevMan's results with the book's analyses. A row naming an analysis,
/// a study or a subgroup the book does not have is an error at its cell.
pub fn check(results: &RevmanResults, analyses: &Analyses) -> Result<Check, Vec<Diagnostic>> {
    let source = &results.source;
    let mut names: Vec<&str> = Vec::new();
    for row in &results.rows {
        if !names.contains(&row.analysis.text.as_str()) {
            names.push(&row.analysis.text);
        }
    }
    let mut problems = Vec::new();
    let mut reproductions = Vec::new();
    let mut warnings = Vec::new();
    for name in names {
        let rows: Vec<&RevmanRow> = results.rows.iter().filter(|r| r.analysis.text == name).collect();
        let Some(result) = analyses.get(name) else {
            let known: Vec<&str> = analyses.by_name.iter().map(|(n, _)| n.as_str()).collect();
            problems.push(
                Diagnostic::error(format!("RevMan's results name an analysis `{name}` the book does not have"))
                    .at(source, rows[0].analysis.span.clone(), "this analysis")
                    .hint(match did_you_mean(&known, name) {
                        Some(n) => format!("did you mean `{n}`?"),
                        None if known.is_empty() => "define it with a ```metabook analysis``` block of that name".to_string(),
                        None => format!("the book's analyses: {}", known.join(", ")),
                    }),
            );
            continue;
        };
        let of_total = rows.iter().any(|r| r.kind == RowKind::Total);
        let mut compared_here = 0;
        let mut largest: f64 = 0.0;
        let mut differences = Vec::new();
        for row in &rows {
            let part = match row.kind {
                RowKind::Study => Part::Study(row.study.as_ref().map_or("", |c| c.text.as_str()), row.subgroup.as_ref().map(|c| c.text.as_str())),
                RowKind::Subtotal => Part::Subtotal(row.subgroup.as_ref().map_or("", |c| c.text.as_str())),
                RowKind::Total => Part::Total,
                RowKind::SubgroupTest => Part::SubgroupTest,
            };
            let computed = match computed(result, part, of_total) {
                Ok(c) => c,
                Err(why) => {
                    problems.push(unmatched(results, row, result, name, why));
                    continue;
                }
            };
            for c in compare_row(row, &computed) {
                compared_here += 1;
                if let Some(d) = c.difference() {
                    largest = largest.max(d);
                }
                if !c.agrees() {
                    let named = format!("{}: {}", row_name(row), c.describe());
                    warnings.push(
                        Diagnostic::warning(format!("`{name}` does not reproduce RevMan: {named}"))
                            .at(source, c.cell.clone(), "the number RevMan stored")
                            .hint(format!(
                                "numbers agree within {} of max(1, |metabook|); check the analysis' measure, method, model and `convention = \"revman5\"` against RevMan's, and its data ({})",
                                format::scientific(TOLERANCE),
                                result.table.source.name
                            )),
                    );
                    differences.push(named);
                }
            }
        }
        reproductions.push(Reproduction { analysis: name.to_string(), parts: parts(&rows), numbers: compared_here, largest, differences });
    }
    if problems.is_empty() {
        Ok(Check { reproductions, warnings })
    } else {
        Err(problems)
    }
}

fn did_you_mean<'a>(names: &[&'a str], wanted: &str) -> Option<&'a str> {
    names.iter().copied().min_by_key(|n| strsim::levenshtein(n, wanted)).filter(|n| strsim::levenshtein(n, wanted) <= 3)
}

/// A row without a counterpart in the analysis, as an error at its cell.
fn unmatched(results: &RevmanResults, row: &RevmanRow, result: &AnalysisResult, name: &str, why: Unmatched) -> Diagnostic {
    let source = &results.source;
    let data = &result.table.source.name;
    match why {
        Unmatched::Study => {
            let cell = row.study.as_ref().expect("a study row names its study");
            let labels: Vec<&str> = result.table.studies.iter().map(|s| s.label.as_str()).collect();
            if let (Some(group), true) = (&row.subgroup, labels.contains(&cell.text.as_str())) {
                let theirs: Vec<&str> = result.table.studies.iter().filter(|s| s.label == cell.text).filter_map(|s| s.subgroup.as_deref()).collect();
                return Diagnostic::error(format!("RevMan puts `{}` in the subgroup `{}`; the data of `{name}` do not", cell.text, group.text))
                    .at(source, group.span.clone(), "RevMan's subgroup")
                    .hint(if theirs.is_empty() { format!("{data} has no subgroups") } else { format!("in {data} it is in {}", theirs.iter().map(|g| format!("`{g}`")).collect::<Vec<_>>().join(", ")) });
            }
            Diagnostic::error(format!("RevMan's results name a study `{}` that the analysis `{name}` does not have", cell.text)).at(source, cell.span.clone(), "this study").hint(match did_you_mean(&labels, &cell.text) {
                Some(l) => format!("did you mean `{l}`? (study labels as in {data})"),
                None => format!("the studies of {data}: {}", labels.join(", ")),
            })
        }
        Unmatched::Subgroup => {
            let cell = row.subgroup.as_ref().expect("a subtotal row names its subgroup");
            let groups: Vec<&str> = result.subgroups.iter().flat_map(|sa| sa.subgroups.iter().map(|g| g.name.as_str())).collect();
            Diagnostic::error(format!("RevMan's results name a subgroup `{}` that the analysis `{name}` does not have", cell.text)).at(source, cell.span.clone(), "this subgroup").hint(match did_you_mean(&groups, &cell.text) {
                Some(g) => format!("did you mean `{g}`?"),
                None => format!("the subgroups of {data}: {}", groups.join(", ")),
            })
        }
        Unmatched::NoSubgroups => Diagnostic::error(format!("RevMan's results have a {} row for `{name}`, whose data have no subgroups", row.kind.name()))
            .at(source, row.analysis.span.clone(), "this row")
            .hint(format!("give {data} a `subgroup` column as RevMan's analysis has, or remove the row")),
    }
}

/// What a set of rows covers: "7 studies, 2 subtotals, total, subgroup test".
fn parts(rows: &[&RevmanRow]) -> String {
    let count = |kind: RowKind| rows.iter().filter(|r| r.kind == kind).count();
    let mut parts = Vec::new();
    let plural = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    if count(RowKind::Study) > 0 {
        parts.push(plural(count(RowKind::Study), "study", "studies"));
    }
    if count(RowKind::Subtotal) > 0 {
        parts.push(plural(count(RowKind::Subtotal), "subtotal", "subtotals"));
    }
    if count(RowKind::Total) > 0 {
        parts.push("total".to_string());
    }
    if count(RowKind::SubgroupTest) > 0 {
        parts.push("subgroup test".to_string());
    }
    parts.join(", ")
}

/// How many differences a table cell or a closing line names before "and N more".
const NAMED: usize = 3;

fn named(differences: &[String]) -> String {
    let mut text = differences.iter().take(NAMED).cloned().collect::<Vec<_>>().join("; ");
    if differences.len() > NAMED {
        text.push_str(&format!("; and {} more", differences.len() - NAMED));
    }
    text
}

/// The "RevMan versus metabook" table: one row per analysis, with what was compared, how many
/// numbers, the largest difference and the numbers that differ; its notes say the rule and
/// list every difference.
pub fn table(reproductions: &[Reproduction]) -> (Vec<String>, Vec<Vec<String>>, Vec<String>) {
    let headings = ["Analysis", "Compared", "Numbers", "Largest difference", "RevMan versus metabook"].map(String::from).to_vec();
    let rows = reproductions
        .iter()
        .map(|r| {
            let verdict = if r.reproduced() { "reproduced".to_string() } else { format!("{} of {} differ: {}", r.differences.len(), r.numbers, named(&r.differences)) };
            vec![r.analysis.clone(), r.parts.clone(), r.numbers.to_string(), format::scientific(r.largest), verdict]
        })
        .collect();
    let reproduced = reproductions.iter().filter(|r| r.reproduced()).count();
    let mut notes = vec![format!(
        "metabook reproduces {reproduced} of {} RevMan {}. Every number RevMan stored is compared with metabook's; two agree when |RevMan − metabook| ≤ {} × max(1, |metabook|), and the largest difference is on that scale.",
        reproductions.len(),
        if reproductions.len() == 1 { "analysis" } else { "analyses" },
        format::scientific(TOLERANCE)
    )];
    for r in reproductions {
        notes.extend(r.differences.iter().map(|d| format!("{}: {d}", r.analysis)));
    }
    (headings, rows, notes)
}

/// The build's closing line: "reproduces 21 of 21 RevMan analyses (…)", or each analysis that
/// differs, by how much and in what. `None` when the book compares nothing with RevMan.
pub fn closing_line(reproductions: &[Reproduction]) -> Option<String> {
    if reproductions.is_empty() {
        return None;
    }
    let reproduced = reproductions.iter().filter(|r| r.reproduced()).count();
    let numbers: usize = reproductions.iter().map(|r| r.numbers).sum();
    let largest = reproductions.iter().map(|r| r.largest).fold(0.0, f64::max);
    let mut line = format!(
        "RevMan: reproduces {reproduced} of {} RevMan {} ({} numbers compared, largest difference {})\n",
        reproductions.len(),
        if reproductions.len() == 1 { "analysis" } else { "analyses" },
        format::count(numbers as u64),
        format::scientific(largest)
    );
    for r in reproductions.iter().filter(|r| !r.reproduced()) {
        line.push_str(&format!("  {} differs in {} of {} numbers (largest difference {}): {}\n", r.analysis, r.differences.len(), r.numbers, format::scientific(r.largest), named(&r.differences)));
    }
    Some(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::revman::load_revman;
    use crate::diag::Source;
    use crate::stats::{Convention, Measure, Method, Spec};

    const HEADER: &str = "analysis,row,subgroup,study,estimable,estimate,ci_lower,ci_upper,weight,chi2,df,p_chi2,i2,tau2,z,p_z\n";

    /// An analysis of a small dichotomous data file, as a book runs it.
    fn analysis(csv: &str, measure: Measure, method: Method) -> AnalysisResult {
        let source = Source::new("data.csv", csv);
        let table = crate::data::csv_table(&source).unwrap();
        let studies = crate::data::load_studies(&table, measure, None).unwrap();
        let spec = Spec { method, convention: Convention::Revman5, ..Spec::new(measure) };
        crate::engine::analyse(studies, &spec).unwrap()
    }

    fn analyses(result: AnalysisResult) -> Analyses {
        Analyses { by_name: vec![("a1_1".to_string(), result)], ..Default::default() }
    }

    fn revman(body: &str) -> RevmanResults {
        load_revman(&crate::data::csv_table(&Source::new("revman-results.csv", format!("{HEADER}{body}"))).unwrap()).unwrap()
    }

    const DATA: &str = "study,events1,n1,events2,n2,subgroup\nA,10,100,20,100,young\nB,15,120,25,118,young\nC,0,50,0,50,old\nD,8,60,12,61,old\n";

    /// metabook's own numbers for the data, written out as RevMan would store them: a file that
    /// must agree everywhere, built from [`computed`] and then disturbed in the tests.
    fn own_rows(result: &AnalysisResult) -> String {
        let mut rows = String::new();
        let cell = |c: &Computed, q: Quantity| c.number(q).map_or(String::new(), |x| format!("{x:e}"));
        let line = |kind: &str, subgroup: &str, study: &str, c: &Computed| {
            let numbers: Vec<String> = Quantity::ALL.iter().map(|&q| cell(c, q)).collect();
            format!("a1_1,{kind},{subgroup},{study},{},{}\n", if c.estimable { "YES" } else { "NO" }, numbers.join(","))
        };
        for s in &result.table.studies {
            rows.push_str(&line("study", s.subgroup.as_deref().unwrap_or(""), &s.label, &computed(result, Part::Study(&s.label, s.subgroup.as_deref()), true).unwrap()));
        }
        for g in ["young", "old"] {
            rows.push_str(&line("subtotal", g, "", &computed(result, Part::Subtotal(g), true).unwrap()));
        }
        rows.push_str(&line("total", "", "", &computed(result, Part::Total, true).unwrap()));
        let test = computed(result, Part::SubgroupTest, true).unwrap();
        rows.push_str(&line("subgroup-test", "", "", &Computed { estimable: true, ..test }).replace(",YES,", ",,"));
        rows
    }

    #[test]
    fn the_tolerance_is_relative_above_one_and_absolute_below() {
        assert!(agrees(0.6838, 0.6838004));
        assert!(!agrees(0.6838, 0.683802));
        assert!(agrees(1000.0005, 1000.0));
        assert!(!agrees(1000.002, 1000.0));
        assert!(agrees(1e-9, 0.0));
    }

    #[test]
    fn metabooks_own_numbers_agree_everywhere_and_every_number_is_counted() {
        let result = analysis(DATA, Measure::RR, Method::MH);
        let file = revman(&own_rows(&result));
        let check = check(&file, &analyses(result)).unwrap();
        let r = &check.reproductions[0];
        assert!(r.reproduced(), "{:?}", r.differences);
        assert!(check.warnings.is_empty());
        assert_eq!(r.parts, "4 studies, 2 subtotals, total, subgroup test");
        // 3 estimable studies × (estimable + 4 numbers), C not estimable (estimable + weight),
        // 2 subtotals and the total × (estimable + 11), the subgroup test's 4.
        assert_eq!(r.numbers, 3 * 5 + 2 + 3 * 12 + 4);
        assert_eq!(r.largest, 0.0);
    }

    #[test]
    fn a_number_that_differs_is_named_and_warned_at_its_cell() {
        let result = analysis(DATA, Measure::RR, Method::MH);
        let rows = own_rows(&result);
        let total = rows.lines().find(|l| l.starts_with("a1_1,total")).unwrap().to_string();
        let mut cells: Vec<String> = total.split(',').map(String::from).collect();
        let lower: f64 = cells[6].parse().unwrap();
        cells[6] = format!("{}", lower * 1.004);
        let file = revman(&rows.replace(&total, &cells.join(",")));
        let check = check(&file, &analyses(result)).unwrap();
        let r = &check.reproductions[0];
        assert_eq!(r.differences.len(), 1, "{:?}", r.differences);
        let (revman, metabook) = format::apart(lower * 1.004, lower);
        assert_eq!(r.differences[0], format!("total: CI lower {revman} (RevMan) vs {metabook} (metabook)"));
        assert!((r.largest - lower * 0.004).abs() < 1e-12, "{}", r.largest);
        assert_eq!(check.warnings.len(), 1);
        let w = &check.warnings[0];
        assert_eq!(w.severity, crate::diag::Severity::Warning);
        assert!(w.message.starts_with("`a1_1` does not reproduce RevMan: total: CI lower"), "{}", w.message);
        let at = w.location.as_ref().unwrap();
        assert_eq!(&file.source.text[at.span.clone()], cells[6]);
        let line = closing_line(&check.reproductions).unwrap();
        assert!(line.starts_with("RevMan: reproduces 0 of 1 RevMan analysis"), "{line}");
        assert!(line.contains("a1_1 differs in 1 of ") && line.contains("total: CI lower"), "{line}");
    }

    #[test]
    fn estimable_flags_and_numbers_metabook_does_not_compute_are_differences() {
        let result = analysis(DATA, Measure::RR, Method::MH);
        // RevMan calls C estimable with an effect; metabook (RevMan 5's rule) does not.
        let file = revman("a1_1,study,old,C,YES,1.0,0.02,50,10,,,,,,,\na1_1,study,old,D,NO,0,0,0,0,,,,,,,\n");
        let check = check(&file, &analyses(result)).unwrap();
        let d = &check.reproductions[0].differences;
        assert!(d.iter().any(|x| x == "C: estimable (RevMan) vs not estimable (metabook)"), "{d:?}");
        assert!(d.iter().any(|x| x == "C: estimate 1.000 (RevMan) vs not computed (metabook)"), "{d:?}");
        // D is estimable in metabook: RevMan's NO is a difference, its placeholder numbers are
        // not compared, its weight 0 is.
        assert!(d.iter().any(|x| x == "D: not estimable (RevMan) vs estimable (metabook)"), "{d:?}");
        assert!(d.iter().any(|x| x.starts_with("D: weight 0 (RevMan) vs ")), "{d:?}");
        assert!(!d.iter().any(|x| x.starts_with("D: estimate")), "{d:?}");
    }

    #[test]
    fn an_analysis_without_an_estimable_study_is_compared_as_not_estimable() {
        // Every study without events in both groups: RevMan 5 estimates no risk ratio, and
        // stores placeholders (0.0, τ² NaN) beside ESTIMABLE = NO.
        let result = analysis("study,events1,n1,events2,n2,subgroup\nA,0,10,0,12,x\nB,0,20,0,20,x\nC,3,20,5,20,y\n", Measure::RR, Method::MH);
        let file = revman(
            "a1_1,study,x,A,NO,0.0,0.0,0.0,0.0,,,,,,,\n\
             a1_1,subtotal,x,,NO,0.0,0.0,0.0,0.0,0.0,0,0.0,0.0,NaN,0.0,0.0\n\
             a1_1,subgroup-test,,,,,,,,0.0,0,1.0,0.0,,,\n",
        );
        let check = check(&file, &analyses(result)).unwrap();
        let r = &check.reproductions[0];
        assert!(r.reproduced(), "{:?}", r.differences);
        // A: estimable, weight; subtotal x: estimable, weight; the test: 4.
        assert_eq!(r.numbers, 2 + 2 + 4);
        // Had RevMan estimated the subgroup, that is a difference.
        let result = analysis("study,events1,n1,events2,n2,subgroup\nA,0,10,0,12,x\nC,3,20,5,20,y\n", Measure::RR, Method::MH);
        let file = revman("a1_1,subtotal,x,,YES,0.5,0.1,2,40,,,,,,,\n");
        let d = &check_differences(&file, result);
        assert!(d.iter().any(|x| x == "subgroup x: estimable (RevMan) vs not estimable (metabook)"), "{d:?}");
        assert!(d.iter().any(|x| x == "subgroup x: estimate 0.5000 (RevMan) vs not computed (metabook)"), "{d:?}");
    }

    fn check_differences(file: &RevmanResults, result: AnalysisResult) -> Vec<String> {
        check(file, &analyses(result)).unwrap().reproductions[0].differences.clone()
    }

    #[test]
    fn unknown_analyses_studies_and_subgroups_are_errors_at_their_cells() {
        let result = analysis(DATA, Measure::RR, Method::MH);
        let file = revman("a1_2,total,,,YES,1,1,1,100,,,,,,,\na1_1,study,,Bee,YES,1,1,1,1,,,,,,,\na1_1,subtotal,yung,,YES,1,1,1,1,,,,,,,\na1_1,study,old,A,YES,1,1,1,1,,,,,,,\n");
        let e = check(&file, &analyses(result)).unwrap_err();
        assert_eq!(e.len(), 4, "{e:?}");
        assert!(e[0].message.contains("analysis `a1_2`") && e[0].hints[0] == "did you mean `a1_1`?", "{:?}", e[0]);
        assert_eq!(e[0].position().unwrap(), "revman-results.csv:2:1");
        assert!(e[1].message.contains("study `Bee`") && e[1].hints[0].starts_with("did you mean `B`?"), "{:?}", e[1]);
        assert!(e[2].message.contains("subgroup `yung`") && e[2].hints[0] == "did you mean `young`?", "{:?}", e[2]);
        assert!(e[3].message.contains("RevMan puts `A` in the subgroup `old`") && e[3].hints[0] == "in data.csv it is in `young`", "{:?}", e[3]);
    }

    #[test]
    fn without_a_total_weights_are_percent_of_the_subgroup() {
        let result = analysis(DATA, Measure::RR, Method::MH);
        let young = computed(&result, Part::Subtotal("young"), false).unwrap();
        assert!((young.number(Quantity::Weight).unwrap() - 100.0).abs() < 1e-9);
        let a_total = computed(&result, Part::Study("A", None), true).unwrap().number(Quantity::Weight).unwrap();
        let a_within = computed(&result, Part::Study("A", None), false).unwrap().number(Quantity::Weight).unwrap();
        assert!(a_within > a_total, "{a_within} {a_total}");
        let young_of_total = computed(&result, Part::Subtotal("young"), true).unwrap().number(Quantity::Weight).unwrap();
        let b_total = computed(&result, Part::Study("B", None), true).unwrap().number(Quantity::Weight).unwrap();
        assert!((young_of_total - a_total - b_total).abs() < 1e-9);
    }

    #[test]
    fn the_table_says_what_was_compared() {
        let reproductions = vec![
            Reproduction { analysis: "a1_1".into(), parts: "7 studies, total".into(), numbers: 47, largest: 2.2e-16, differences: vec![] },
            Reproduction { analysis: "a1_3".into(), parts: "total".into(), numbers: 12, largest: 3.8e-3, differences: vec!["total: CI lower 0.4808 (RevMan) vs 0.4790 (metabook)".into()] },
        ];
        let (headings, rows, notes) = table(&reproductions);
        assert_eq!(headings.len(), rows[0].len());
        assert_eq!(rows[0], ["a1_1", "7 studies, total", "47", "2.2e-16", "reproduced"]);
        assert_eq!(rows[1][4], "1 of 12 differ: total: CI lower 0.4808 (RevMan) vs 0.4790 (metabook)");
        assert!(notes[0].starts_with("metabook reproduces 1 of 2 RevMan analyses."), "{}", notes[0]);
        assert_eq!(notes[1], "a1_3: total: CI lower 0.4808 (RevMan) vs 0.4790 (metabook)");
        assert_eq!(closing_line(&reproductions[..1]).unwrap(), "RevMan: reproduces 1 of 1 RevMan analysis (47 numbers compared, largest difference 2.2e-16)\n");
    }
}
