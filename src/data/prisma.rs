//! The counts of a PRISMA 2020 flow diagram (Page et al. 2021, BMJ 372:n71; the templates for
//! new systematic reviews which included searches of databases and registers only, and of
//! databases, registers and other methods), read from a CSV file and checked.
//!
//! The file has a `box` column naming a box of the diagram, an `n` column with its count and an
//! optional `name` column for the rows that make lists: a database or register with its own
//! count, a reason for excluding reports, and (other methods) a source such as websites or
//! citation searching, and a reason for excluding the reports it found. The boxes of the column
//! "Identification of studies via other methods" are named `other_…`; the diagram has that
//! column only when the file gives at least one of them.
//!
//! ```csv
//! box,name,n
//! databases,,1631
//! database,MEDLINE,904
//! duplicates,,not reported
//! reason,Wrong population,12
//! ```
//!
//! A count that the source does not give is empty or `not reported`, and stays so: nothing is
//! derived or invented. Where every box an equation needs is reported, the equation is checked
//! (records screened = identified − removed before screening, and so on down the diagram); a
//! mismatch is a diagnostic at the box that does not add up, naming the numbers.

use super::CsvTable;
use crate::diag::{Diagnostic, Source};
use crate::format;
use std::ops::Range;
use std::sync::Arc;

/// A box of the diagram that holds one count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    Databases,
    Registers,
    Duplicates,
    Automation,
    RemovedOther,
    Screened,
    Excluded,
    Sought,
    NotRetrieved,
    Assessed,
    ReportsExcluded,
    OtherSources,
    OtherSought,
    OtherNotRetrieved,
    OtherAssessed,
    OtherReportsExcluded,
    Studies,
    Reports,
}

impl Stage {
    pub const ALL: [Stage; 18] = [
        Stage::Databases,
        Stage::Registers,
        Stage::Duplicates,
        Stage::Automation,
        Stage::RemovedOther,
        Stage::Screened,
        Stage::Excluded,
        Stage::Sought,
        Stage::NotRetrieved,
        Stage::Assessed,
        Stage::ReportsExcluded,
        Stage::OtherSources,
        Stage::OtherSought,
        Stage::OtherNotRetrieved,
        Stage::OtherAssessed,
        Stage::OtherReportsExcluded,
        Stage::Studies,
        Stage::Reports,
    ];

    /// Whether the box belongs to the column "Identification of studies via other methods".
    pub fn other_methods(self) -> bool {
        matches!(self, Stage::OtherSources | Stage::OtherSought | Stage::OtherNotRetrieved | Stage::OtherAssessed | Stage::OtherReportsExcluded)
    }

    /// The name written in the `box` column.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Databases => "databases",
            Stage::Registers => "registers",
            Stage::Duplicates => "duplicates",
            Stage::Automation => "automation",
            Stage::RemovedOther => "removed_other",
            Stage::Screened => "screened",
            Stage::Excluded => "excluded",
            Stage::Sought => "sought",
            Stage::NotRetrieved => "not_retrieved",
            Stage::Assessed => "assessed",
            Stage::ReportsExcluded => "reports_excluded",
            Stage::OtherSources => "other_sources",
            Stage::OtherSought => "other_sought",
            Stage::OtherNotRetrieved => "other_not_retrieved",
            Stage::OtherAssessed => "other_assessed",
            Stage::OtherReportsExcluded => "other_reports_excluded",
            Stage::Studies => "studies",
            Stage::Reports => "reports",
        }
    }

    /// What the box says in the PRISMA 2020 template (lower case, for messages).
    pub fn wording(self) -> &'static str {
        match self {
            Stage::Databases => "records identified from databases",
            Stage::Registers => "records identified from registers",
            Stage::Duplicates => "duplicate records removed",
            Stage::Automation => "records marked as ineligible by automation tools",
            Stage::RemovedOther => "records removed for other reasons",
            Stage::Screened => "records screened",
            Stage::Excluded => "records excluded",
            Stage::Sought => "reports sought for retrieval",
            Stage::NotRetrieved => "reports not retrieved",
            Stage::Assessed => "reports assessed for eligibility",
            Stage::ReportsExcluded => "reports excluded",
            Stage::OtherSources => "records identified via other methods",
            Stage::OtherSought => "reports sought for retrieval via other methods",
            Stage::OtherNotRetrieved => "reports not retrieved via other methods",
            Stage::OtherAssessed => "reports assessed for eligibility via other methods",
            Stage::OtherReportsExcluded => "reports excluded via other methods",
            Stage::Studies => "studies included in review",
            Stage::Reports => "reports of included studies",
        }
    }
}

/// The rows that make lists, with a `name`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    /// One database and the records found in it.
    Database,
    /// One register and the records found in it.
    Register,
    /// One reason for excluding reports, and how many.
    Reason,
    /// One other source (websites, organisations, citation searching…) and the records found
    /// through it.
    OtherSource,
    /// One reason for excluding reports found via other methods, and how many.
    OtherReason,
}

impl ListKind {
    pub const ALL: [ListKind; 5] = [ListKind::Database, ListKind::Register, ListKind::Reason, ListKind::OtherSource, ListKind::OtherReason];

    pub fn name(self) -> &'static str {
        match self {
            ListKind::Database => "database",
            ListKind::Register => "register",
            ListKind::Reason => "reason",
            ListKind::OtherSource => "other_source",
            ListKind::OtherReason => "other_reason",
        }
    }

    /// The box whose count the list breaks down.
    pub fn total(self) -> Stage {
        match self {
            ListKind::Database => Stage::Databases,
            ListKind::Register => Stage::Registers,
            ListKind::Reason => Stage::ReportsExcluded,
            ListKind::OtherSource => Stage::OtherSources,
            ListKind::OtherReason => Stage::OtherReportsExcluded,
        }
    }
}

/// A count as the file gives it: a number, or `None` for "not reported"; with the span of the
/// cell (none when the box is absent from the file).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Count {
    pub n: Option<u64>,
    pub span: Option<Range<usize>>,
}

/// A named entry of a list (a database, a register, a reason).
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub kind: ListKind,
    pub name: String,
    pub count: Count,
}

/// The counts of a flow diagram, checked.
#[derive(Debug, Clone)]
pub struct Flow {
    pub source: Arc<Source>,
    counts: Vec<(Stage, Count)>,
    pub items: Vec<Item>,
}

impl Flow {
    /// A box's count (`None`: not reported).
    pub fn n(&self, stage: Stage) -> Option<u64> {
        self.count(stage).n
    }

    fn count(&self, stage: Stage) -> Count {
        self.counts.iter().find(|(s, _)| *s == stage).map(|(_, c)| c.clone()).unwrap_or_default()
    }

    /// The entries of one list, in the order of the file.
    pub fn list(&self, kind: ListKind) -> impl Iterator<Item = &Item> {
        self.items.iter().filter(move |i| i.kind == kind)
    }

    /// Whether the file gives any box of the column "Identification of studies via other
    /// methods" (a row naming it, even with its count not reported): the diagram then has that
    /// column, and the reports of included studies come from both columns.
    pub fn other_methods(&self) -> bool {
        self.counts.iter().any(|(s, _)| s.other_methods()) || self.items.iter().any(|i| i.kind.total().other_methods())
    }
}

/// Whether a cell says "not reported": empty, or those words (any case).
fn not_reported(text: &str) -> bool {
    text.is_empty() || text.eq_ignore_ascii_case("not reported")
}

/// Read and check the counts of a flow diagram from a CSV table. Every problem is reported.
pub fn flow(table: &CsvTable) -> Result<Flow, Vec<Diagnostic>> {
    let source = &table.source;
    let mut problems = Vec::new();
    let (Some(box_col), Some(n_col)) = (table.column("box"), table.column("n")) else {
        let missing: Vec<&str> = ["box", "n"].into_iter().filter(|c| table.column(c).is_none()).collect();
        return Err(vec![Diagnostic::error(format!("a PRISMA data file needs the column{} {}", if missing.len() > 1 { "s" } else { "" }, missing.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(" and ")))
            .at(source, table.header_span(), "header")
            .hint("the header is `box,name,n`: a box of the diagram, a name for database, register and reason rows, and the count")]);
    };
    let name_col = table.column("name");
    let mut counts: Vec<(Stage, Count)> = Vec::new();
    let mut items = Vec::new();
    for row in &table.rows {
        let cell = &row[box_col];
        let n_cell = &row[n_col];
        let n = match parse_count(source, n_cell) {
            Ok(n) => n,
            Err(d) => {
                problems.push(d);
                continue;
            }
        };
        let count = Count { n, span: Some(n_cell.span.clone()) };
        let name = name_col.map(|c| &row[c]).filter(|c| !c.text.is_empty());
        let wanted = cell.text.to_ascii_lowercase();
        if let Some(stage) = Stage::ALL.into_iter().find(|s| s.name() == wanted) {
            if let Some(name) = name {
                problems.push(
                    Diagnostic::error(format!("the box `{}` takes no name", stage.name()))
                        .at(source, name.span.clone(), "column `name`")
                        .hint("only `database`, `register`, `reason`, `other_source` and `other_reason` rows are named; leave the name empty"),
                );
            }
            if counts.iter().any(|(s, _)| *s == stage) {
                problems.push(
                    Diagnostic::error(format!("the box `{}` is given twice", stage.name()))
                        .at(source, cell.span.clone(), "second row")
                        .hint("give each box once; list databases, registers, other sources and reasons with `database`, `register`, `other_source`, `reason` and `other_reason` rows"),
                );
            }
            counts.push((stage, count));
        } else if let Some(kind) = ListKind::ALL.into_iter().find(|k| k.name() == wanted) {
            match name {
                Some(name) => items.push(Item { kind, name: name.text.clone(), count }),
                None => problems.push(
                    Diagnostic::error(format!("a `{}` row needs a name", kind.name()))
                        .at(source, cell.span.clone(), "this row")
                        .hint(match kind {
                            ListKind::Reason => "write the reason in the `name` column, e.g. `reason,Wrong population,12`",
                            ListKind::Database => "write the database in the `name` column, e.g. `database,MEDLINE,904`",
                            ListKind::Register => "write the register in the `name` column, e.g. `register,ClinicalTrials.gov,31`",
                            ListKind::OtherSource => "write the source in the `name` column, e.g. `other_source,Citation searching,14`",
                            ListKind::OtherReason => "write the reason in the `name` column, e.g. `other_reason,Wrong population,3`",
                        }),
                ),
            }
        } else {
            let known: Vec<&str> = Stage::ALL.iter().map(|s| s.name()).chain(ListKind::ALL.iter().map(|k| k.name())).collect();
            let close = known.iter().copied().map(|k| (strsim::damerau_levenshtein(k, &wanted), k)).filter(|(d, _)| *d <= 2).min().map(|(_, k)| k);
            let message = if cell.text.is_empty() { "a row without a box".to_string() } else { format!("unknown PRISMA box `{}`", cell.text) };
            let hint = match close {
                Some(k) => format!("did you mean `{k}`? Boxes: {}", known.join(", ")),
                None => format!("boxes: {}", known.join(", ")),
            };
            problems.push(Diagnostic::error(message).at(source, cell.span.clone(), "column `box`").hint(hint));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let flow = Flow { source: Arc::clone(source), counts, items };
    let problems = arithmetic(&flow);
    if problems.is_empty() {
        Ok(flow)
    } else {
        Err(problems)
    }
}

fn parse_count(source: &Arc<Source>, cell: &super::Cell) -> Result<Option<u64>, Diagnostic> {
    if not_reported(&cell.text) {
        return Ok(None);
    }
    let at = |message: String, hint: &str| Diagnostic::error(message).at(source, cell.span.clone(), "column `n`").hint(hint.to_string());
    if let Ok(n) = cell.text.parse::<u64>() {
        return Ok(Some(n));
    }
    match cell.text.replace('\u{2212}', "-").parse::<f64>() {
        Ok(x) if x < 0.0 => Err(at(format!("a count cannot be negative, not {}", cell.text), "a box counts records, reports or studies; check the source")),
        Ok(_) => Err(at(format!("a count must be a whole number, not {}", cell.text), "a box counts records, reports or studies; check the source")),
        Err(_) => Err(at(
            format!("`{}` is not a count", cell.text),
            "write the count in digits without separators (1631), or leave it empty (or write `not reported`) when the source does not give it",
        )),
    }
}

/// A term of an equation: a box, or the sum of a list.
#[derive(Clone, Copy)]
enum Term {
    Box(Stage),
    Sum(ListKind),
}

/// An equation: the box on the left is the sum of the terms with `+` minus those with `−`.
type Equation = (Stage, &'static [(i8, Term)]);

/// The equations of the diagram (databases and registers only).
const EQUATIONS: [Equation; 7] = [
    (Stage::Databases, &[(1, Term::Sum(ListKind::Database))]),
    (Stage::Registers, &[(1, Term::Sum(ListKind::Register))]),
    (
        Stage::Screened,
        &[(1, Term::Box(Stage::Databases)), (1, Term::Box(Stage::Registers)), (-1, Term::Box(Stage::Duplicates)), (-1, Term::Box(Stage::Automation)), (-1, Term::Box(Stage::RemovedOther))],
    ),
    (Stage::Sought, &[(1, Term::Box(Stage::Screened)), (-1, Term::Box(Stage::Excluded))]),
    (Stage::Assessed, &[(1, Term::Box(Stage::Sought)), (-1, Term::Box(Stage::NotRetrieved))]),
    (Stage::ReportsExcluded, &[(1, Term::Sum(ListKind::Reason))]),
    (Stage::Reports, &[(1, Term::Box(Stage::Assessed)), (-1, Term::Box(Stage::ReportsExcluded))]),
];

/// The equations of the column "via other methods", and the reports of included studies, which
/// then come from both columns (in place of the last of [`EQUATIONS`]).
const OTHER_EQUATIONS: [Equation; 4] = [
    (Stage::OtherSources, &[(1, Term::Sum(ListKind::OtherSource))]),
    (Stage::OtherAssessed, &[(1, Term::Box(Stage::OtherSought)), (-1, Term::Box(Stage::OtherNotRetrieved))]),
    (Stage::OtherReportsExcluded, &[(1, Term::Sum(ListKind::OtherReason))]),
    (
        Stage::Reports,
        &[(1, Term::Box(Stage::Assessed)), (-1, Term::Box(Stage::ReportsExcluded)), (1, Term::Box(Stage::OtherAssessed)), (-1, Term::Box(Stage::OtherReportsExcluded))],
    ),
];

/// The equations that hold for this file.
fn equations(flow: &Flow) -> Vec<Equation> {
    if flow.other_methods() {
        EQUATIONS.iter().filter(|(s, _)| *s != Stage::Reports).chain(OTHER_EQUATIONS.iter()).copied().collect()
    } else {
        EQUATIONS.to_vec()
    }
}

/// A part that cannot exceed its whole, checked where the equations leave a gap (a box they
/// need is not reported): (whole, part). A study has at least one report.
const BOUNDS: [(Stage, Stage); 6] = [
    (Stage::Screened, Stage::Excluded),
    (Stage::Sought, Stage::NotRetrieved),
    (Stage::Assessed, Stage::ReportsExcluded),
    (Stage::OtherSought, Stage::OtherNotRetrieved),
    (Stage::OtherAssessed, Stage::OtherReportsExcluded),
    (Stage::Reports, Stage::Studies),
];

fn arithmetic(flow: &Flow) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let cell_of = |stage: Stage| -> String {
        match flow.count(stage).span {
            Some(span) => format!("`{}` (line {})", stage.name(), flow.source.line_col(span.start).0),
            None => format!("`{}`", stage.name()),
        }
    };
    for (result, terms) in equations(flow) {
        let Some(expected_total) = flow.n(result) else { continue };
        // Every term reported, and a list not empty.
        let mut value: i128 = 0;
        let mut shown = Vec::new();
        let mut complete = true;
        for (sign, term) in terms.iter() {
            let n = match term {
                Term::Box(s) => flow.n(*s).map(|n| (n as i128, format!("{} ({})", s.wording(), format::count(n)))),
                Term::Sum(kind) => {
                    let list: Vec<&Item> = flow.list(*kind).collect();
                    let ns: Option<Vec<u64>> = list.iter().map(|i| i.count.n).collect();
                    match ns {
                        Some(ns) if !ns.is_empty() => {
                            let sum: u64 = ns.iter().sum();
                            Some((sum as i128, format!("the `{}` rows", kind.name())))
                        }
                        _ => None,
                    }
                }
            };
            match n {
                Some((n, text)) => {
                    value += *sign as i128 * n;
                    shown.push((*sign, text));
                }
                None => complete = false,
            }
        }
        if !complete || value == expected_total as i128 {
            continue;
        }
        let mut expression = String::new();
        for (i, (sign, text)) in shown.iter().enumerate() {
            if i > 0 {
                expression.push_str(if *sign > 0 { " + " } else { " − " });
            }
            expression.push_str(text);
        }
        let computed = if value < 0 { format!("{}{}", format::MINUS, format::count(value.unsigned_abs() as u64)) } else { format::count(value as u64) };
        let boxes: Vec<String> = terms
            .iter()
            .map(|(_, t)| match t {
                Term::Box(s) => cell_of(*s),
                Term::Sum(k) => format!("the `{}` rows", k.name()),
            })
            .collect();
        let span = flow.count(result).span.unwrap_or(0..0);
        let verb = if matches!(terms, [(_, Term::Sum(_))]) { "add up to" } else { "is" };
        problems.push(
            Diagnostic::error(format!(
                "the PRISMA counts do not add up: {} is {}, but {} {verb} {}",
                result.wording(),
                format::count(expected_total),
                expression,
                computed
            ))
            .at(&flow.source, span, format!("`{}`", result.name()))
            .hint(format!("check {} and {} against the source; leave a count empty when the source does not give it", cell_of(result), boxes.join(", "))),
        );
    }
    if !problems.is_empty() {
        return problems;
    }
    for (whole, part) in BOUNDS {
        let (Some(w), Some(p)) = (flow.n(whole), flow.n(part)) else { continue };
        if p > w {
            problems.push(
                Diagnostic::error(format!("the PRISMA counts do not add up: {} ({}) exceed {} ({})", part.wording(), format::count(p), whole.wording(), format::count(w)))
                    .at(&flow.source, flow.count(part).span.unwrap_or(0..0), format!("`{}`", part.name()))
                    .hint(format!("check {} and {} against the source", cell_of(part), cell_of(whole))),
            );
        }
    }
    // With two columns, the reports of included studies come from both: where the sum cannot be
    // checked (a box of the other column is not reported), neither column's share may exceed it.
    if flow.other_methods() && problems.is_empty() {
        if let Some(reports) = flow.n(Stage::Reports) {
            for (assessed, excluded) in [(Stage::Assessed, Stage::ReportsExcluded), (Stage::OtherAssessed, Stage::OtherReportsExcluded)] {
                let (Some(a), Some(e)) = (flow.n(assessed), flow.n(excluded)) else { continue };
                if a - e > reports {
                    problems.push(
                        Diagnostic::error(format!(
                            "the PRISMA counts do not add up: {} ({}) − {} ({}) is {}, more than the reports of included studies ({})",
                            assessed.wording(),
                            format::count(a),
                            excluded.wording(),
                            format::count(e),
                            format::count(a - e),
                            format::count(reports)
                        ))
                        .at(&flow.source, flow.count(Stage::Reports).span.unwrap_or(0..0), "`reports`")
                        .hint(format!("check {} and {}, {} against the source", cell_of(Stage::Reports), cell_of(assessed), cell_of(excluded))),
                    );
                }
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::csv_table;

    fn read(text: &str) -> Result<Flow, Vec<Diagnostic>> {
        flow(&csv_table(&Source::new("prisma.csv", text))?)
    }

    const COMPLETE: &str = "box,name,n\ndatabases,,120\ndatabase,MEDLINE,70\ndatabase,Embase,50\nregisters,,10\nduplicates,,20\nautomation,,0\nremoved_other,,5\nscreened,,105\nexcluded,,80\nsought,,25\nnot_retrieved,,2\nassessed,,23\nreports_excluded,,8\nreason,Wrong population,5\nreason,No comparator,3\nstudies,,12\nreports,,15\n";

    #[test]
    fn a_complete_file_adds_up() {
        let f = read(COMPLETE).unwrap();
        assert_eq!(f.n(Stage::Screened), Some(105));
        assert_eq!(f.list(ListKind::Reason).count(), 2);
    }

    #[test]
    fn empty_and_not_reported_counts_stay_unreported() {
        let f = read("box,name,n\ndatabases,,1631\nregisters,,not reported\nscreened,,\nreports,,11\n").unwrap();
        assert_eq!(f.n(Stage::Databases), Some(1631));
        assert_eq!(f.n(Stage::Registers), None);
        assert_eq!(f.n(Stage::Screened), None);
        assert_eq!(f.n(Stage::Excluded), None);
    }

    #[test]
    fn a_mismatch_names_the_boxes_and_numbers() {
        let e = read(&COMPLETE.replace("screened,,105", "screened,,104")).unwrap_err();
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(e[0].message.contains("records screened is 104"), "{}", e[0].message);
        assert!(e[0].message.contains("is 105"), "{}", e[0].message);
        assert_eq!(e[0].position().unwrap(), "prisma.csv:9:11");
    }

    #[test]
    fn reasons_must_sum_to_the_reports_excluded() {
        let e = read(&COMPLETE.replace("No comparator,3", "No comparator,4")).unwrap_err();
        assert!(e[0].message.contains("reports excluded is 8, but the `reason` rows add up to 9"), "{}", e[0].message);
    }

    #[test]
    fn bad_boxes_and_counts_are_errors() {
        let e = read("box,name,n\nscreend,,3\nexcluded,,-1\nsought,,2.5\ndatabases,,many\nreason,,4\n").unwrap_err();
        assert!(e[0].hints[0].starts_with("did you mean `screened`?"), "{:?}", e[0].hints);
        assert!(e[1].message.contains("negative"));
        assert!(e[2].message.contains("whole number"));
        assert!(e[3].message.contains("not a count"));
        assert!(e[4].message.contains("needs a name"));
    }

    const OTHER: &str = "other_sources,,45\nother_source,Websites,15\nother_source,Citation searching,30\nother_sought,,20\nother_not_retrieved,,2\nother_assessed,,18\nother_reports_excluded,,10\nother_reason,Wrong population,10\n";

    #[test]
    fn other_methods_add_up_and_their_reports_count_into_the_included() {
        let both = COMPLETE.replace("reports,,15\n", "reports,,23\n") + OTHER;
        let f = read(&both).unwrap();
        assert!(f.other_methods());
        assert_eq!(f.n(Stage::OtherAssessed), Some(18));
        assert_eq!(f.list(ListKind::OtherSource).count(), 2);
        // The reports of the databases alone no longer make the total.
        let e = read(&(COMPLETE.to_string() + OTHER)).unwrap_err();
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].message.contains("reports of included studies is 15, but"), "{}", e[0].message);
        assert!(e[0].message.ends_with("is 23"), "{}", e[0].message);
        assert!(!read(COMPLETE).unwrap().other_methods());
    }

    #[test]
    fn other_methods_mismatches_are_at_their_cells() {
        let e = read(&format!("box,name,n\n{}", OTHER.replace("other_not_retrieved,,2", "other_not_retrieved,,3"))).unwrap_err();
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].message.contains("reports assessed for eligibility via other methods is 18, but reports sought for retrieval via other methods (20) − reports not retrieved via other methods (3) is 17"), "{}", e[0].message);
        assert_eq!(e[0].position().unwrap(), "prisma.csv:7:17");
        let e = read(&format!("box,name,n\n{}", OTHER.replace("Citation searching,30", "Citation searching,31"))).unwrap_err();
        assert!(e[0].message.contains("records identified via other methods is 45, but the `other_source` rows add up to 46"), "{}", e[0].message);
        assert_eq!(e[0].position().unwrap(), "prisma.csv:2:16");
        let e = read("box,name,n\nother_assessed,,5\nother_reports_excluded,,6\n").unwrap_err();
        assert!(e[0].message.contains("reports excluded via other methods (6) exceed reports assessed for eligibility via other methods (5)"), "{}", e[0].message);
        assert_eq!(e[0].position().unwrap(), "prisma.csv:3:25");
    }

    #[test]
    fn the_share_of_either_column_cannot_exceed_the_reports_of_included_studies() {
        // The sum of both columns cannot be checked (nothing excluded via other methods is
        // reported), but the databases alone give 15 reports.
        let e = read("box,name,n\nassessed,,23\nreports_excluded,,8\nother_assessed,,4\nreports,,12\n").unwrap_err();
        assert!(e[0].message.contains("reports assessed for eligibility (23) − reports excluded (8) is 15, more than the reports of included studies (12)"), "{}", e[0].message);
        assert_eq!(e[0].position().unwrap(), "prisma.csv:5:10");
        read("box,name,n\nassessed,,23\nreports_excluded,,8\nother_assessed,,4\nreports,,17\n").unwrap();
    }

    #[test]
    fn an_other_methods_list_row_alone_brings_the_column_and_needs_a_name() {
        assert!(read("box,name,n\nother_reason,Wrong population,2\n").unwrap().other_methods());
        let e = read("box,name,n\nother_source,,2\nother_sought,Websites,3\n").unwrap_err();
        assert!(e[0].message.contains("`other_source` row needs a name"), "{}", e[0].message);
        assert!(e[1].message.contains("the box `other_sought` takes no name"), "{}", e[1].message);
    }

    #[test]
    fn a_part_cannot_exceed_its_whole_even_when_the_equation_cannot_be_checked() {
        let e = read("box,n\nscreened,10\nexcluded,12\n").unwrap_err();
        assert!(e[0].message.contains("records excluded (12) exceed records screened (10)"), "{}", e[0].message);
    }
}
