//! RevMan's own results: every number RevMan 5 stored for a review's analyses, as `metabook
//! import` writes them to `data/revman-results.csv`, so that a book can check that it
//! reproduces them ([`crate::review::revman`]).
//!
//! One row per study, subgroup subtotal, total and test for subgroup differences, in the
//! columns [`COLUMNS`]:
//!
//! | column | what RevMan stored |
//! |---|---|
//! | `analysis` | the book's analysis name (RevMan's Analysis 1.2 is `a1_2`) |
//! | `row` | `study`, `subtotal`, `total` or `subgroup-test` |
//! | `subgroup` | the subgroup's name (empty if none) |
//! | `study` | the study's label as in the analysis' data file (study rows only) |
//! | `estimable` | `YES` or `NO` |
//! | `estimate`, `ci_lower`, `ci_upper` | on the natural scale (ratio measures exponentiated) |
//! | `weight` | in percent |
//! | `chi2`, `df`, `p_chi2`, `i2` | heterogeneity (`i2` in percent); for `subgroup-test`, the test for subgroup differences |
//! | `tau2`, `z`, `p_z` | τ², \|z\| and its two-sided P |
//!
//! An empty cell (or `NaN`, as RevMan writes where it has no value) is a number RevMan did not
//! store. Every cell is checked here (a number that is
//! not one, an unknown row kind, a row twice); whether the analyses and studies exist is checked
//! against the book's analyses later.

use super::{Cell, CsvTable};
use crate::diag::{Diagnostic, Source};
use std::ops::Range;
use std::sync::Arc;

/// The columns of a RevMan results file, in the order `metabook import` writes them.
pub const COLUMNS: [&str; 16] = ["analysis", "row", "subgroup", "study", "estimable", "estimate", "ci_lower", "ci_upper", "weight", "chi2", "df", "p_chi2", "i2", "tau2", "z", "p_z"];

/// What a row of RevMan's results is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum RowKind {
    Study,
    Subtotal,
    Total,
    SubgroupTest,
}

impl RowKind {
    pub const ALL: [RowKind; 4] = [RowKind::Study, RowKind::Subtotal, RowKind::Total, RowKind::SubgroupTest];

    /// The word in the `row` column.
    pub fn name(self) -> &'static str {
        match self {
            RowKind::Study => "study",
            RowKind::Subtotal => "subtotal",
            RowKind::Total => "total",
            RowKind::SubgroupTest => "subgroup-test",
        }
    }
}

/// A number RevMan stores for a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum Quantity {
    Estimate,
    CiLower,
    CiUpper,
    Weight,
    Chi2,
    Df,
    PChi2,
    I2,
    Tau2,
    Z,
    PZ,
}

impl Quantity {
    pub const ALL: [Quantity; 11] = [
        Quantity::Estimate,
        Quantity::CiLower,
        Quantity::CiUpper,
        Quantity::Weight,
        Quantity::Chi2,
        Quantity::Df,
        Quantity::PChi2,
        Quantity::I2,
        Quantity::Tau2,
        Quantity::Z,
        Quantity::PZ,
    ];

    /// The column it is stored in.
    pub fn column(self) -> &'static str {
        match self {
            Quantity::Estimate => "estimate",
            Quantity::CiLower => "ci_lower",
            Quantity::CiUpper => "ci_upper",
            Quantity::Weight => "weight",
            Quantity::Chi2 => "chi2",
            Quantity::Df => "df",
            Quantity::PChi2 => "p_chi2",
            Quantity::I2 => "i2",
            Quantity::Tau2 => "tau2",
            Quantity::Z => "z",
            Quantity::PZ => "p_z",
        }
    }

    /// Its name for a reader, as RevMan's forest plots say it.
    pub fn name(self) -> &'static str {
        match self {
            Quantity::Estimate => "estimate",
            Quantity::CiLower => "CI lower",
            Quantity::CiUpper => "CI upper",
            Quantity::Weight => "weight",
            Quantity::Chi2 => "Chi²",
            Quantity::Df => "df",
            Quantity::PChi2 => "P (Chi²)",
            Quantity::I2 => "I²",
            Quantity::Tau2 => "Tau²",
            Quantity::Z => "Z",
            Quantity::PZ => "P (Z)",
        }
    }
}

/// One row of RevMan's results, every cell located.
#[derive(Debug, Clone, PartialEq)]
pub struct RevmanRow {
    pub analysis: Cell,
    pub kind: RowKind,
    /// The subgroup's name, where the row gives one.
    pub subgroup: Option<Cell>,
    /// The study's label (study rows).
    pub study: Option<Cell>,
    /// `YES`/`NO`, where given, and its cell.
    pub estimable: Option<(bool, Range<usize>)>,
    /// The numbers RevMan stored, in the order of [`Quantity::ALL`], with their cells.
    pub numbers: Vec<(Quantity, f64, Range<usize>)>,
}

impl RevmanRow {
    /// The number RevMan stored for `quantity`, if it stored one.
    pub fn number(&self, quantity: Quantity) -> Option<f64> {
        self.numbers.iter().find(|(q, _, _)| *q == quantity).map(|(_, x, _)| *x)
    }
}

/// A RevMan results file, read and checked cell by cell.
#[derive(Debug, Clone)]
pub struct RevmanResults {
    pub source: Arc<Source>,
    pub rows: Vec<RevmanRow>,
}

/// Read RevMan's results from a CSV table, reporting every bad cell at once.
pub fn load_revman(table: &CsvTable) -> Result<RevmanResults, Vec<Diagnostic>> {
    let source = &table.source;
    let mut problems = Vec::new();
    for cell in &table.header {
        if !COLUMNS.iter().any(|c| c.eq_ignore_ascii_case(&cell.text)) {
            let close = COLUMNS.iter().copied().min_by_key(|c| strsim::levenshtein(c, &cell.text.to_lowercase())).filter(|c| strsim::levenshtein(c, &cell.text.to_lowercase()) <= 2);
            problems.push(Diagnostic::error(format!("unknown column `{}` in RevMan's results", cell.text)).at(source, cell.span.clone(), "this column").hint(match close {
                Some(c) => format!("did you mean `{c}`?"),
                None => format!("the columns are {}", COLUMNS.join(",")),
            }));
        }
    }
    let missing: Vec<&str> = COLUMNS.iter().copied().filter(|c| table.column(c).is_none()).collect();
    if !missing.is_empty() {
        problems.push(
            Diagnostic::error(format!("RevMan's results lack the column{} {}", if missing.len() == 1 { "" } else { "s" }, missing.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")))
                .at(source, table.header_span(), "the header")
                .hint(format!("the header is `{}` (as `metabook import` writes it); an empty cell is a number RevMan did not store", COLUMNS.join(","))),
        );
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let column = |name: &str| table.column(name).expect("every column is there");
    let mut rows: Vec<RevmanRow> = Vec::new();
    for cells in &table.rows {
        let cell = |name: &str| &cells[column(name)];
        let text = |name: &str| Some(cell(name)).filter(|c| !c.text.is_empty()).cloned();
        let mut bad = |name: &str, message: String, hint: String| problems.push(Diagnostic::error(message).at(source, cell(name).span.clone(), format!("column `{name}`")).hint(hint));
        let analysis = cell("analysis").clone();
        if analysis.text.is_empty() {
            bad("analysis", "a row of RevMan's results without an analysis".into(), "give the book's analysis name, e.g. `a1_1` for RevMan's Analysis 1.1".into());
        }
        let kind_cell = cell("row");
        let kind = RowKind::ALL.into_iter().find(|k| k.name().eq_ignore_ascii_case(&kind_cell.text));
        let Some(kind) = kind else {
            let names: Vec<&str> = RowKind::ALL.iter().map(|k| k.name()).collect();
            let close = names.iter().copied().min_by_key(|n| strsim::levenshtein(n, &kind_cell.text.to_lowercase())).filter(|n| strsim::levenshtein(n, &kind_cell.text.to_lowercase()) <= 3);
            bad("row", format!("unknown row `{}`", kind_cell.text), match close {
                Some(n) => format!("did you mean `{n}`? Rows: {}", names.join(", ")),
                None => format!("a row is one of {}", names.join(", ")),
            });
            continue;
        };
        let (subgroup, study) = (text("subgroup"), text("study"));
        match (kind, &study) {
            (RowKind::Study, None) => bad("study", "a study row without a study".into(), "give the study's label as in the analysis' data file".into()),
            (RowKind::Study, Some(_)) => {}
            (_, Some(_)) => bad("study", format!("a {} row names no study", kind.name()), "leave `study` empty on subtotal, total and subgroup-test rows".into()),
            (_, None) => {}
        }
        if kind == RowKind::Subtotal && subgroup.is_none() {
            bad("subgroup", "a subtotal row without a subgroup".into(), "give the subgroup's name as in the analysis' data file".into());
        }
        let estimable = match cell("estimable").text.to_ascii_uppercase().as_str() {
            "" => None,
            "YES" => Some((true, cell("estimable").span.clone())),
            "NO" => Some((false, cell("estimable").span.clone())),
            other => {
                bad("estimable", format!("`estimable` is YES or NO, not `{other}`"), "RevMan writes YES or NO; leave the cell empty where it stored nothing".into());
                None
            }
        };
        let mut numbers = Vec::new();
        for quantity in Quantity::ALL {
            let c = cell(quantity.column());
            // RevMan writes NaN where it has no value (τ² of a total without an estimable
            // study): stored nothing, as an empty cell.
            if c.text.is_empty() || c.text.eq_ignore_ascii_case("nan") {
                continue;
            }
            match c.text.parse::<f64>() {
                Ok(x) if x.is_finite() => numbers.push((quantity, x, c.span.clone())),
                _ => bad(quantity.column(), format!("`{}` is not a number", c.text), "write the number as RevMan stored it (e.g. 0.6838 or 1.5E-5); leave the cell empty where it stored nothing".into()),
            }
        }
        let row = RevmanRow { analysis, kind, subgroup, study, estimable, numbers };
        let same = |r: &RevmanRow| r.analysis.text == row.analysis.text && r.kind == row.kind && text_of(&r.subgroup) == text_of(&row.subgroup) && text_of(&r.study) == text_of(&row.study);
        if let Some(first) = rows.iter().find(|r| same(r)) {
            let (line, _) = source.line_col(first.analysis.span.start);
            problems.push(Diagnostic::error(format!("this {} row of `{}` is in RevMan's results twice", row.kind.name(), row.analysis.text)).at(source, row.analysis.span.clone(), "second row").hint(format!("the first is on line {line}; keep one")));
            continue;
        }
        rows.push(row);
    }
    if rows.is_empty() && problems.is_empty() {
        problems.push(Diagnostic::error("RevMan's results have no rows").at(source, table.header_span(), "only a header").hint("`metabook import` writes one row per study, subtotal, total and subgroup test"));
    }
    if problems.is_empty() {
        Ok(RevmanResults { source: Arc::clone(source), rows })
    } else {
        Err(problems)
    }
}

fn text_of(cell: &Option<Cell>) -> &str {
    cell.as_ref().map_or("", |c| c.text.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "analysis,row,subgroup,study,estimable,estimate,ci_lower,ci_upper,weight,chi2,df,p_chi2,i2,tau2,z,p_z\n";

    fn read(body: &str) -> Result<RevmanResults, Vec<Diagnostic>> {
        load_revman(&crate::data::csv_table(&Source::new("revman-results.csv", format!("{HEADER}{body}"))).unwrap())
    }

    #[test]
    fn rows_keep_their_numbers_and_cells() {
        let r = read("a1_1,study,,Brink 1951,YES,0.6838,0.5,0.9,12.5,,,,,,,\na1_1,total,,,YES,0.7,0.6,0.8,100,9.9,6,0.12,39.7,0,3.3,0.001\n").unwrap();
        assert_eq!(r.rows.len(), 2);
        assert_eq!(r.rows[0].kind, RowKind::Study);
        assert_eq!(r.rows[0].study.as_ref().unwrap().text, "Brink 1951");
        assert_eq!(r.rows[0].number(Quantity::Estimate), Some(0.6838));
        assert_eq!(r.rows[0].number(Quantity::Chi2), None, "an empty cell is a number RevMan did not store");
        assert_eq!(r.rows[1].numbers.len(), 11);
        let (_, _, span) = &r.rows[1].numbers[10];
        assert_eq!(&r.source.text[span.clone()], "0.001");
    }

    #[test]
    fn bad_cells_are_errors_at_their_cells() {
        let e = read("a1_1,studdy,,A,YES,1,1,1,1,,,,,,,\na1_1,study,,A,MAYBE,x,1,1,1,,,,,,,\na1_1,total,,A,YES,1,1,1,1,,,,,,,\n").unwrap_err();
        let messages: Vec<&str> = e.iter().map(|d| d.message.as_str()).collect();
        assert!(messages.contains(&"unknown row `studdy`"), "{messages:?}");
        assert!(e[0].hints[0].starts_with("did you mean `study`?"), "{:?}", e[0].hints);
        assert_eq!(e[0].position().unwrap(), "revman-results.csv:2:6");
        assert!(messages.contains(&"`estimable` is YES or NO, not `MAYBE`"), "{messages:?}");
        assert!(messages.contains(&"`x` is not a number"), "{messages:?}");
        assert!(messages.contains(&"a total row names no study"), "{messages:?}");
        let x = e.iter().find(|d| d.message == "`x` is not a number").unwrap();
        assert_eq!(x.position().unwrap(), "revman-results.csv:3:21");
    }

    #[test]
    fn a_row_twice_and_a_wrong_header_are_errors() {
        let e = read("a1_1,total,,,YES,1,1,1,1,,,,,,,\na1_1,total,,,YES,1,1,1,1,,,,,,,\n").unwrap_err();
        assert!(e[0].message.contains("twice") && e[0].hints[0].contains("line 2"), "{:?}", e[0]);
        let e = load_revman(&crate::data::csv_table(&Source::new("r.csv", "analysis,row,subgroup,study,estimable,estimat\na,total,,,YES,1\n")).unwrap()).unwrap_err();
        assert!(e[0].message.contains("unknown column `estimat`") && e[0].hints[0] == "did you mean `estimate`?", "{:?}", e[0]);
        assert!(e[1].message.contains("lack the columns `estimate`, `ci_lower`"), "{}", e[1].message);
    }
}
