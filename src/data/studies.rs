//! Typed study rows: which CSV schema a measure needs, and every value checked.
//!
//! Schemas are recognised by their header (names case-insensitive, any column order):
//!
//! | schema | columns |
//! |---|---|
//! | two-group continuous | `study,n1,mean1,sd1,n2,mean2,sd2` (group 1 = intervention) |
//! | single-group pre/post | `study,n,mean_pre,sd_pre,mean_post,sd_post[,r]` |
//! | dichotomous | `study,events1,n1,events2,n2` |
//! | correlation | `study,n,r` |
//! | generic | `study,yi,vi` or `study,yi,se` |
//!
//! An optional `subgroup` column groups studies; any other column is kept as a study attribute
//! (year, design, …) for tables and later analyses.

use super::{Cell, CsvTable};
use crate::diag::{Diagnostic, Source};
use crate::stats::effect::{MAX_EFFECT, MAX_VARIANCE, MIN_VARIANCE};
use crate::stats::{Convention, Measure, StudyData};
use std::ops::Range;
use std::sync::Arc;

/// The shape of a data file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Schema {
    Continuous,
    PrePost,
    Dichotomous,
    Correlation,
    GenericVariance,
    GenericSe,
}

impl Schema {
    const ALL: [Schema; 6] = [
        Schema::Continuous,
        Schema::PrePost,
        Schema::Dichotomous,
        Schema::Correlation,
        Schema::GenericVariance,
        Schema::GenericSe,
    ];

    /// Required columns besides `study`.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Schema::Continuous => &["n1", "mean1", "sd1", "n2", "mean2", "sd2"],
            Schema::PrePost => &["n", "mean_pre", "sd_pre", "mean_post", "sd_post"],
            Schema::Dichotomous => &["events1", "n1", "events2", "n2"],
            Schema::Correlation => &["n", "r"],
            Schema::GenericVariance => &["yi", "vi"],
            Schema::GenericSe => &["yi", "se"],
        }
    }

    /// Optional data columns (not attributes).
    fn optional(self) -> &'static [&'static str] {
        match self {
            Schema::PrePost => &["r"],
            _ => &[],
        }
    }

    pub fn describe(self) -> String {
        let mut s = format!("study,{}", self.columns().join(","));
        if self == Schema::PrePost {
            s.push_str("[,r]");
        }
        s
    }

    pub fn name(self) -> &'static str {
        match self {
            Schema::Continuous => "two-group continuous",
            Schema::PrePost => "single-group pre/post",
            Schema::Dichotomous => "dichotomous",
            Schema::Correlation => "correlation",
            Schema::GenericVariance | Schema::GenericSe => "generic",
        }
    }

    /// The schemas that can feed `measure`.
    pub fn for_measure(measure: Measure) -> &'static [Schema] {
        match measure {
            Measure::MD | Measure::SMD | Measure::ROM => &[Schema::Continuous],
            Measure::SMCR => &[Schema::PrePost],
            Measure::OR | Measure::RR | Measure::RD => &[Schema::Dichotomous],
            Measure::ZCOR => &[Schema::Correlation],
            Measure::GEN => &[Schema::GenericVariance, Schema::GenericSe],
        }
    }

    /// The measures a schema can feed, for hints.
    pub fn measures(self) -> &'static str {
        match self {
            Schema::Continuous => "MD, SMD or ROM",
            Schema::PrePost => "SMCR",
            Schema::Dichotomous => "OR, RR or RD",
            Schema::Correlation => "ZCOR",
            Schema::GenericVariance | Schema::GenericSe => "GEN",
        }
    }

    fn matches(self, table: &CsvTable) -> bool {
        self.columns().iter().all(|c| table.column(c).is_some())
    }

    /// The schema a header looks like (the most specific one that fits).
    pub fn detect(table: &CsvTable) -> Option<Schema> {
        Schema::ALL.into_iter().find(|s| s.matches(table))
    }
}

/// One study, ready for analysis.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Study {
    pub label: String,
    /// Where the label stands in the file (for messages about the study).
    pub label_span: Range<usize>,
    pub subgroup: Option<String>,
    pub data: StudyData,
    /// Extra columns, as (column name, text).
    pub attributes: Vec<(String, String)>,
    /// True when the pre–post correlation was not in the data and the default was used.
    pub r_assumed: bool,
}

/// The studies of one data file.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct StudyTable {
    pub source: Arc<Source>,
    pub schema: Schema,
    pub studies: Vec<Study>,
}

impl StudyTable {
    pub fn has_subgroups(&self) -> bool {
        self.studies.iter().any(|s| s.subgroup.is_some())
    }
}

/// What a numeric value must satisfy.
#[derive(Clone, Copy)]
enum Rule {
    /// A whole number ≥ 2 (group sizes).
    SampleSize,
    /// A whole number ≥ 0 (the groups of a 2×2 table: RevMan keeps a study without data for
    /// an outcome as 0 of 0, "Not estimable").
    GroupSize,
    /// A whole number ≥ 0 (event counts).
    Count,
    /// > 0 (SDs, variances, standard errors).
    Positive(&'static str),
    /// Strictly between −1 and 1.
    Correlation,
    /// Any finite number.
    Any,
    /// A generic effect: within the range the pooling can square ([`MAX_EFFECT`]).
    Effect,
    /// A generic variance: > 0 and within the range the pooling can weigh.
    Variance,
    /// A generic standard error: > 0, and its square within the range the pooling can weigh
    /// (an SE of 1e-160 squares to a subnormal variance, and its weight is infinite).
    StandardError,
}

/// The largest count that a double holds exactly (2⁵³); beyond it counts are not whole numbers
/// any more, and products of counts in the Mantel–Haenszel sums approach overflow.
const MAX_COUNT: f64 = 9_007_199_254_740_992.0;

/// Read the studies of `table` for `measure`. `default_r` is the pre–post correlation to assume
/// where a pre/post file has no `r` (or an empty cell). Every problem is reported, not just the
/// first.
pub fn load_studies(table: &CsvTable, measure: Measure, default_r: Option<f64>) -> Result<StudyTable, Vec<Diagnostic>> {
    load_studies_as(table, measure, default_r, Convention::Metafor)
}

/// [`load_studies`] under `convention`. RevMan 5 keeps a study without data for an outcome as
/// zeros — group sizes, standard deviations, standard errors of 0 — and shows it as "Not
/// estimable": under `revman5` a 0 in those columns is accepted as no data (the study is
/// listed and not pooled); under `metafor` it is the data-entry error it usually is.
pub fn load_studies_as(table: &CsvTable, measure: Measure, default_r: Option<f64>, convention: Convention) -> Result<StudyTable, Vec<Diagnostic>> {
    let zero_is_no_data = convention == Convention::Revman5;
    let source = &table.source;
    let schemas = Schema::for_measure(measure);
    let Some(schema) = schemas.iter().copied().find(|s| s.matches(table)) else {
        return Err(vec![missing_columns(table, measure, schemas)]);
    };
    let Some(study_col) = table.column("study") else {
        return Err(vec![missing_columns(table, measure, schemas)]);
    };
    let cols: Vec<usize> = schema.columns().iter().map(|c| table.column(c).expect("checked by matches")).collect();
    let r_col = schema.optional().first().and_then(|c| table.column(c));
    let subgroup_col = table.column("subgroup");
    let mut used: Vec<usize> = cols.clone();
    used.push(study_col);
    used.extend(r_col);
    used.extend(subgroup_col);
    let attribute_cols: Vec<usize> = (0..table.header.len()).filter(|i| !used.contains(i)).collect();

    let mut problems = Vec::new();
    if schema == Schema::PrePost && r_col.is_none() && default_r.is_none() {
        problems.push(
            Diagnostic::error("the pre–post correlation r is needed for a standardised mean change")
                .at(source, table.header_span(), "no column `r`")
                .hint("add a column `r`, or give an assumed value with `--r 0.5` (it is reported as an assumption)"),
        );
    }
    if table.rows.is_empty() {
        problems.push(
            Diagnostic::error("the data file has a header but no studies")
                .at(source, table.header_span(), "header")
                .hint("add one line per study below the header"),
        );
    }
    let mut studies: Vec<Study> = Vec::with_capacity(table.rows.len());
    // A label is unique within its subgroup: one study may report several subgroups (RevMan
    // reviews often list a study under two subgroups of an outcome).
    let mut first_row: std::collections::HashMap<(&str, &str), usize> = std::collections::HashMap::with_capacity(table.rows.len());
    for row in &table.rows {
        let label_cell = &row[study_col];
        let subgroup_text = subgroup_col.map_or("", |c| row[c].text.as_str());
        if label_cell.text.is_empty() {
            problems.push(
                Diagnostic::error("a study has no label")
                    .at(source, label_cell.span.clone(), "column `study`")
                    .hint("give every study a unique label, e.g. `Smith 2001`"),
            );
        } else if let Some(&first) = first_row.get(&(subgroup_text, label_cell.text.as_str())) {
            let (line, _) = source.line_col(first);
            problems.push(
                Diagnostic::error(format!("duplicate study label `{}`", label_cell.text))
                    .at(source, label_cell.span.clone(), "column `study`")
                    .hint(format!(
                        "the same label is used on line {line}{}; labels must be unique (e.g. add `a`/`b`)",
                        if subgroup_col.is_some() { " in the same subgroup" } else { "" }
                    )),
            );
        } else {
            first_row.insert((subgroup_text, label_cell.text.as_str()), label_cell.span.start);
        }
        let mut value = |i: usize, rule: Rule| -> Option<f64> {
            let col = cols[i];
            let spread = matches!(rule, Rule::SampleSize | Rule::Positive(_) | Rule::Variance | Rule::StandardError);
            if zero_is_no_data && spread && matches!(schema, Schema::Continuous | Schema::GenericVariance | Schema::GenericSe) && row[col].text.parse::<f64>() == Ok(0.0) {
                return Some(0.0);
            }
            check_value(source, &table.header[col].text, &row[col], rule, &mut problems)
        };
        let data = match schema {
            Schema::Continuous => {
                let (n1, m1, sd1) = (value(0, Rule::SampleSize), value(1, Rule::Any), value(2, Rule::Positive("standard deviation")));
                let (n2, m2, sd2) = (value(3, Rule::SampleSize), value(4, Rule::Any), value(5, Rule::Positive("standard deviation")));
                match (n1, m1, sd1, n2, m2, sd2) {
                    (Some(n1), Some(mean1), Some(sd1), Some(n2), Some(mean2), Some(sd2)) => {
                        Some(StudyData::Continuous { n1, mean1, sd1, n2, mean2, sd2 })
                    }
                    _ => None,
                }
            }
            Schema::PrePost => {
                let n = value(0, Rule::SampleSize);
                let (mean_pre, sd_pre) = (value(1, Rule::Any), value(2, Rule::Positive("standard deviation")));
                let (mean_post, sd_post) = (value(3, Rule::Any), value(4, Rule::Positive("standard deviation")));
                let given_r = r_col.filter(|&c| !row[c].text.is_empty());
                let r = match given_r {
                    Some(c) => check_value(source, "r", &row[c], Rule::Correlation, &mut problems),
                    None => default_r,
                };
                // A missing column is reported once (below); an empty cell in an existing column per study.
                if given_r.is_none() && default_r.is_none() && r_col.is_some() {
                    problems.push(
                        Diagnostic::error("the pre–post correlation r is missing for this study")
                            .at(source, row[r_col.unwrap_or(study_col)].span.clone(), "column `r`")
                            .hint("fill in r, or give an assumed value with `--r 0.5` (it is reported as an assumption)"),
                    );
                }
                match (n, mean_pre, sd_pre, mean_post, sd_post, r) {
                    (Some(n), Some(mean_pre), Some(sd_pre), Some(mean_post), Some(sd_post), Some(r)) => {
                        Some(StudyData::PrePost { n, mean_pre, sd_pre, mean_post, sd_post, r })
                    }
                    _ => None,
                }
            }
            Schema::Dichotomous => {
                let (e1, n1, e2, n2) = (value(0, Rule::Count), value(1, Rule::GroupSize), value(2, Rule::Count), value(3, Rule::GroupSize));
                for (e, n, ecol) in [(e1, n1, cols[0]), (e2, n2, cols[2])] {
                    if let (Some(e), Some(n)) = (e, n) {
                        if e > n {
                            problems.push(
                                Diagnostic::error(format!("{e} events is more than the {n} participants of the group"))
                                    .at(source, row[ecol].span.clone(), format!("column `{}`", table.header[ecol].text))
                                    .hint("events count participants with the outcome: at most the group's total"),
                            );
                        }
                    }
                }
                match (e1, n1, e2, n2) {
                    (Some(events1), Some(n1), Some(events2), Some(n2)) if events1 <= n1 && events2 <= n2 => {
                        Some(StudyData::Binary { events1, n1, events2, n2 })
                    }
                    _ => None,
                }
            }
            Schema::Correlation => match (value(0, Rule::SampleSize), value(1, Rule::Correlation)) {
                (Some(n), Some(r)) => Some(StudyData::Correlation { n, r }),
                _ => None,
            },
            Schema::GenericVariance => match (value(0, Rule::Effect), value(1, Rule::Variance)) {
                (Some(yi), Some(vi)) => Some(StudyData::Generic { yi, vi }),
                _ => None,
            },
            Schema::GenericSe => match (value(0, Rule::Effect), value(1, Rule::StandardError)) {
                (Some(yi), Some(se)) => Some(StudyData::Generic { yi, vi: se * se }),
                _ => None,
            },
        };
        if let Some(d) = data {
            measure_specific_checks(source, table, &cols, row, measure, &d, &mut problems);
        }
        let subgroup = match subgroup_col {
            Some(c) if row[c].text.is_empty() => {
                problems.push(
                    Diagnostic::error("a study has no subgroup")
                        .at(source, row[c].span.clone(), "column `subgroup`")
                        .hint("give every study a subgroup, or remove the `subgroup` column"),
                );
                None
            }
            Some(c) => Some(row[c].text.clone()),
            None => None,
        };
        if let Some(data) = data {
            studies.push(Study {
                label: label_cell.text.clone(),
                label_span: label_cell.span.clone(),
                subgroup,
                data,
                attributes: attribute_cols.iter().map(|&c| (table.header[c].text.clone(), row[c].text.clone())).collect(),
                r_assumed: schema == Schema::PrePost && r_col.is_none_or(|c| row[c].text.is_empty()),
            });
        }
    }
    if problems.is_empty() {
        Ok(StudyTable { source: Arc::clone(source), schema, studies })
    } else {
        Err(problems)
    }
}

fn missing_columns(table: &CsvTable, measure: Measure, schemas: &[Schema]) -> Diagnostic {
    let wanted = schemas.iter().map(|s| format!("`{}`", s.describe())).collect::<Vec<_>>().join(" or ");
    let mut missing: Vec<&str> = std::iter::once("study")
        .chain(schemas[0].columns().iter().copied())
        .filter(|c| table.column(c).is_none())
        .collect();
    if missing.is_empty() {
        missing.push("study");
    }
    let found = table.header.iter().map(|c| c.text.as_str()).collect::<Vec<_>>().join(",");
    let mut d = Diagnostic::error(format!(
        "measure {} needs the columns {wanted}; missing: {}",
        measure.name(),
        missing.join(", ")
    ))
    .at(&table.source, table.header_span(), format!("the header has `{found}`"));
    if let Some(other) = Schema::detect(table) {
        d = d.hint(format!(
            "this file looks like {} data (`{}`): use --measure {}",
            other.name(),
            other.describe(),
            other.measures()
        ));
    } else {
        d = d.hint("column names are case-insensitive; see the README for the accepted schemas");
    }
    d
}

/// Parse and check one numeric cell, recording a located problem if it fails.
fn check_value(source: &Arc<Source>, column: &str, cell: &Cell, rule: Rule, problems: &mut Vec<Diagnostic>) -> Option<f64> {
    let label = format!("column `{column}`");
    let fail = |problems: &mut Vec<Diagnostic>, message: String, hint: &str| {
        problems.push(Diagnostic::error(message).at(source, cell.span.clone(), label.clone()).hint(hint));
        None
    };
    if cell.text.is_empty() {
        return fail(problems, format!("the `{column}` value is missing"), "fill in the value, or leave the study out of this file");
    }
    let Ok(x) = cell.text.parse::<f64>() else {
        let hint = if cell.text.contains(',') { "use a point as the decimal separator, e.g. `1.5`" } else { "write a plain number, e.g. `12` or `1.5`" };
        return fail(problems, format!("`{}` is not a number", cell.text), hint);
    };
    if !x.is_finite() {
        return fail(problems, format!("`{}` is not a finite number", cell.text), "write a finite number");
    }
    let units = "check the units and the exponent";
    match rule {
        Rule::SampleSize | Rule::GroupSize | Rule::Count if x > MAX_COUNT => fail(problems, format!("count {} is too large", cell.text), "a count above 2⁵³ (about 9.0e15) cannot be held exactly; check the value"),
        Rule::SampleSize if x.fract() != 0.0 => fail(problems, format!("sample size {} is not a whole number", cell.text), "write the number of participants"),
        Rule::SampleSize if x < 2.0 => fail(problems, format!("sample size {} is less than 2", cell.text), "a group needs at least 2 participants to have a standard deviation or an effect estimate"),
        Rule::GroupSize if x.fract() != 0.0 || x < 0.0 => fail(problems, format!("group size {} is not a whole number ≥ 0", cell.text), "write the number of participants in the group"),
        Rule::Count if x.fract() != 0.0 || x < 0.0 => fail(problems, format!("event count {} is not a whole number ≥ 0", cell.text), "write the number of participants with the event"),
        Rule::Positive(what) if x <= 0.0 => fail(problems, format!("{what} must be greater than 0, not {}", cell.text), "a zero or negative spread is a data-entry error; check the source table"),
        Rule::Variance | Rule::StandardError if x <= 0.0 => {
            let what = if matches!(rule, Rule::Variance) { "variance" } else { "standard error" };
            fail(problems, format!("{what} must be greater than 0, not {}", cell.text), "a zero or negative spread is a data-entry error; check the source table")
        }
        Rule::StandardError if x * x < f64::MIN_POSITIVE => fail(
            problems,
            format!("the standard error {} is too small: its square, the variance, underflows", cell.text),
            &format!("the standard error {} squares to a variance below the smallest double (about 2.2e-308), so the study's weight would be infinite; {units}", cell.text),
        ),
        Rule::StandardError if x * x < MIN_VARIANCE => fail(
            problems,
            format!("the standard error {} is too small to weigh", cell.text),
            &format!("it squares to a variance of {:.1e}, below {MIN_VARIANCE:e}, the smallest the pooling can weigh (the weight's cube 1/variance³ overflows a double); {units}", x * x),
        ),
        Rule::StandardError if x * x > MAX_VARIANCE => fail(
            problems,
            format!("the standard error {} is too large to weigh", cell.text),
            &format!("it squares to a variance above {MAX_VARIANCE:e}, the largest the pooling can weigh (the weight's cube underflows to 0); {units}"),
        ),
        Rule::Variance if x < MIN_VARIANCE => fail(
            problems,
            format!("the variance {} is too small to weigh", cell.text),
            &format!("below {MIN_VARIANCE:e} the weight's cube 1/variance³ overflows a double (and below about 2.2e-308 the variance itself underflows); {units}"),
        ),
        Rule::Variance if x > MAX_VARIANCE => fail(
            problems,
            format!("the variance {} is too large to weigh", cell.text),
            &format!("above {MAX_VARIANCE:e} the weight's cube underflows to 0; {units}"),
        ),
        Rule::Effect if x.abs() > MAX_EFFECT => fail(
            problems,
            format!("the effect {} is too large to pool", cell.text),
            &format!("beyond ±{MAX_EFFECT:e} its squared deviation overflows a double when weighted; {units}"),
        ),
        Rule::Correlation if !(x > -1.0 && x < 1.0) => fail(problems, format!("correlation {} is not between −1 and 1", cell.text), "a correlation must lie strictly between −1 and 1"),
        _ => Some(x),
    }
}

/// Checks that depend on the measure, not only the schema.
fn measure_specific_checks(
    source: &Arc<Source>,
    table: &CsvTable,
    cols: &[usize],
    row: &[Cell],
    measure: Measure,
    data: &StudyData,
    problems: &mut Vec<Diagnostic>,
) {
    match (measure, data) {
        (Measure::ROM, StudyData::Continuous { mean1, mean2, .. }) => {
            for (m, col) in [(*mean1, cols[1]), (*mean2, cols[4])] {
                if m <= 0.0 {
                    problems.push(
                        Diagnostic::error(format!("a ratio of means needs positive means, not {m}"))
                            .at(source, row[col].span.clone(), format!("column `{}`", table.header[col].text))
                            .hint("use MD or SMD for outcomes that can be zero or negative"),
                    );
                }
            }
        }
        (Measure::ZCOR, StudyData::Correlation { n, .. }) if *n < 4.0 => {
            problems.push(
                Diagnostic::error(format!("Fisher's z needs at least 4 participants, not {n}"))
                    .at(source, row[cols[0]].span.clone(), format!("column `{}`", table.header[cols[0]].text))
                    .hint("its variance is 1/(n − 3)"),
            );
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::csv_table;

    fn load(text: &str, measure: Measure) -> Result<StudyTable, Vec<Diagnostic>> {
        let s = Source::new("t.csv", text);
        load_studies(&csv_table(&s).unwrap(), measure, None)
    }

    #[test]
    fn continuous_rows_become_studies_with_attributes() {
        let t = load("Study,N1,Mean1,SD1,n2,mean2,sd2,year\nA,10,1,2,12,0.5,2.5,2001\n", Measure::SMD).unwrap();
        assert_eq!(t.studies[0].label, "A");
        assert_eq!(t.studies[0].attributes, vec![("year".to_string(), "2001".to_string())]);
    }

    #[test]
    fn revman_s_studies_without_data_load_under_revman5_only() {
        let text = "study,n1,mean1,sd1,n2,mean2,sd2\nA,0,0,0,0,0,0\nB,10,1,1,10,2,1\nC,12,1,0,12,2,0\n";
        let table = csv_table(&Source::new("c.csv", text)).unwrap();
        assert!(load_studies(&table, Measure::MD, None).is_err(), "a 0 is a data-entry error under metafor");
        let studies = load_studies_as(&table, Measure::MD, None, Convention::Revman5).unwrap();
        let spec = crate::stats::Spec { method: crate::stats::Method::FE, convention: Convention::Revman5, ..crate::stats::Spec::new(Measure::MD) };
        let data: Vec<StudyData> = studies.studies.iter().map(|s| s.data).collect();
        let a = crate::stats::meta_analysis(&data, &spec).unwrap();
        let shown: Vec<bool> = a.studies().map(|s| s.effect.is_some()).collect();
        assert_eq!(shown, [false, true, false], "no data and no spread are not estimable");
        let generic = csv_table(&Source::new("g.csv", "study,yi,se\nA,0,0\nB,0.5,0.2\n")).unwrap();
        let studies = load_studies_as(&generic, Measure::GEN, None, Convention::Revman5).unwrap();
        assert_eq!(studies.studies.len(), 2);
        // Other negative or malformed numbers are still errors.
        let bad = csv_table(&Source::new("b.csv", "study,n1,mean1,sd1,n2,mean2,sd2\nA,10,0,-1,10,0,1\n")).unwrap();
        assert!(load_studies_as(&bad, Measure::MD, None, Convention::Revman5).is_err());
    }

    #[test]
    fn every_bad_cell_is_reported() {
        let e = load("study,n1,mean1,sd1,n2,mean2,sd2\nA,1,x,0,12,NaN,2\n", Measure::MD).unwrap_err();
        let messages: Vec<&str> = e.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(messages.len(), 4, "{messages:?}");
    }

    #[test]
    fn counts_beyond_exact_doubles_are_refused() {
        let e = load("study,events1,n1,events2,n2\nA,1,1e300,2,10\n", Measure::OR).unwrap_err();
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].message.contains("count 1e300 is too large"), "{}", e[0].message);
        assert_eq!(e[0].position().unwrap(), "t.csv:2:5");
    }

    #[test]
    fn wrong_schema_names_the_columns_and_suggests_a_measure() {
        let e = load("study,events1,n1,events2,n2\nA,1,10,2,10\n", Measure::SMD).unwrap_err();
        assert!(e[0].message.contains("study,n1,mean1,sd1,n2,mean2,sd2"), "{}", e[0].message);
        assert!(e[0].hints[0].contains("OR, RR or RD"));
    }
}
