//! Risk-of-bias judgements from a CSV file: one row per study, one column per domain of the
//! assessment tool (`D1`, `D2`, …) and an optional `overall` column.
//!
//! The tools are the ones review authors use, with their own domains and their own words for a
//! judgement (RoB 2 says "Some concerns", ROBINS-I "Serious", RoB 1 "Unclear"); a judgement the
//! tool does not have is an error at its cell, so a typo never becomes a wrong colour. One word
//! is metabook's own and valid for every tool: **Not reported**, for a judgement the source of
//! a review does not give (as when a published review shows its judgements only in an image).
//! It is drawn in grey, apart from the tools' "No information".

use super::CsvTable;
use crate::diag::Diagnostic;

/// An assessment tool: its domains and the judgements it allows.
#[derive(Debug, Clone, PartialEq)]
pub struct Tool {
    pub name: String,
    /// Full domain names, in order; the CSV calls them D1, D2, ….
    pub domains: Vec<String>,
    pub judgements: &'static [Judgement],
}

/// A judgement, with the colour and symbol robvis users know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Judgement {
    Low,
    SomeConcerns,
    Moderate,
    Unclear,
    High,
    Serious,
    Critical,
    NoInformation,
    NotReported,
}

impl Judgement {
    pub const ALL: [Judgement; 9] = [
        Judgement::Low,
        Judgement::SomeConcerns,
        Judgement::Moderate,
        Judgement::Unclear,
        Judgement::High,
        Judgement::Serious,
        Judgement::Critical,
        Judgement::NoInformation,
        Judgement::NotReported,
    ];

    /// The word as the tools write it.
    pub fn name(self) -> &'static str {
        match self {
            Judgement::Low => "Low",
            Judgement::SomeConcerns => "Some concerns",
            Judgement::Moderate => "Moderate",
            Judgement::Unclear => "Unclear",
            Judgement::High => "High",
            Judgement::Serious => "Serious",
            Judgement::Critical => "Critical",
            Judgement::NoInformation => "No information",
            Judgement::NotReported => "Not reported",
        }
    }

    /// Fill colour (robvis' "cochrane" palette; grey for "Not reported").
    pub fn colour(self) -> &'static str {
        match self {
            Judgement::Low => "#02C100",
            Judgement::SomeConcerns | Judgement::Moderate | Judgement::Unclear => "#E2DF07",
            Judgement::High | Judgement::Serious => "#BF0000",
            Judgement::Critical => "#820000",
            Judgement::NoInformation => "#4EA1F7",
            Judgement::NotReported => "#B4B4B4",
        }
    }

    /// The symbol in a traffic light (robvis: + for low, − for some concerns, × for high).
    pub fn symbol(self) -> &'static str {
        match self {
            Judgement::Low => "+",
            Judgement::SomeConcerns | Judgement::Moderate | Judgement::Unclear => "\u{2212}",
            Judgement::High | Judgement::Serious => "\u{00D7}",
            Judgement::Critical => "!",
            Judgement::NoInformation => "?",
            Judgement::NotReported => "NR",
        }
    }

    fn parse(text: &str) -> Option<Judgement> {
        let t = text.trim().to_lowercase();
        let t = t.strip_suffix(" risk").unwrap_or(&t);
        let t = t.strip_suffix(" risk of bias").unwrap_or(t);
        Judgement::ALL.into_iter().find(|j| j.name().eq_ignore_ascii_case(t))
    }
}

const ROB2: &[Judgement] = &[Judgement::Low, Judgement::SomeConcerns, Judgement::High, Judgement::NoInformation, Judgement::NotReported];
const ROB1: &[Judgement] = &[Judgement::Low, Judgement::Unclear, Judgement::High, Judgement::NotReported];
const ROBINS: &[Judgement] = &[Judgement::Low, Judgement::Moderate, Judgement::Serious, Judgement::Critical, Judgement::NoInformation, Judgement::NotReported];
const ANY: &[Judgement] = &Judgement::ALL;

/// The tools metabook knows, by the names authors write (case-insensitive).
pub const TOOL_NAMES: [&str; 5] = ["RoB 2", "RoB 1", "ROBINS-I", "RoBANS 2", "custom"];

/// A tool by name; `custom` takes the author's domain names.
pub fn tool(name: &str, custom_domains: Option<&[String]>) -> Result<Tool, String> {
    let domains = |names: &[&str]| names.iter().map(|d| d.to_string()).collect::<Vec<_>>();
    let key: String = name.to_lowercase().chars().filter(|c| c.is_alphanumeric()).collect();
    let (canonical, domains, judgements) = match key.as_str() {
        "rob2" => (
            "RoB 2",
            domains(&[
                "Bias arising from the randomization process",
                "Bias due to deviations from intended interventions",
                "Bias due to missing outcome data",
                "Bias in measurement of the outcome",
                "Bias in selection of the reported result",
            ]),
            ROB2,
        ),
        "rob1" | "rob" => (
            "RoB 1",
            domains(&[
                "Random sequence generation (selection bias)",
                "Allocation concealment (selection bias)",
                "Blinding of participants and personnel (performance bias)",
                "Blinding of outcome assessment (detection bias)",
                "Incomplete outcome data (attrition bias)",
                "Selective reporting (reporting bias)",
                "Other bias",
            ]),
            ROB1,
        ),
        "robinsi" => (
            "ROBINS-I",
            domains(&[
                "Bias due to confounding",
                "Bias in selection of participants into the study",
                "Bias in classification of interventions",
                "Bias due to deviations from intended interventions",
                "Bias due to missing data",
                "Bias in measurement of outcomes",
                "Bias in selection of the reported result",
            ]),
            ROBINS,
        ),
        // RoBANS 2 (Seo et al., Korean J Fam Med 2023;44:249–60): eight domains, judged low,
        // high or unclear.
        "robans2" | "robans" => (
            "RoBANS 2",
            domains(&[
                "Comparability of the target group",
                "Target group selection",
                "Confounders",
                "Measurement of intervention/exposure",
                "Blinding of assessors",
                "Outcome assessment",
                "Incomplete outcome data",
                "Selective outcome reporting",
            ]),
            ROB1,
        ),
        "custom" => match custom_domains {
            Some(d) if !d.is_empty() => ("custom", d.to_vec(), ANY),
            _ => return Err("a custom tool needs `domains = [\"…\", …]`".to_string()),
        },
        _ => return Err(format!("unknown risk-of-bias tool `{name}`")),
    };
    let domains = match custom_domains {
        Some(d) if key != "custom" => {
            if d.len() != domains.len() {
                return Err(format!("{canonical} has {} domains, not {}", domains.len(), d.len()));
            }
            d.to_vec()
        }
        _ => domains,
    };
    Ok(Tool { name: canonical.to_string(), domains, judgements })
}

/// One study's judgements.
#[derive(Debug, Clone, PartialEq)]
pub struct RobRow {
    pub study: String,
    /// Where the study's label stands in the data file.
    pub span: std::ops::Range<usize>,
    pub judgements: Vec<Judgement>,
    pub overall: Option<Judgement>,
}

/// A checked risk-of-bias table.
#[derive(Debug, Clone, PartialEq)]
pub struct RobTable {
    pub source: std::sync::Arc<crate::diag::Source>,
    pub tool: Tool,
    pub rows: Vec<RobRow>,
    /// Whether the file has an `overall` column.
    pub has_overall: bool,
}

/// Check a CSV table against a tool: columns `study`, `D1`…`Dn` (any order, case-insensitive),
/// optionally `overall`; every judgement one the tool allows. Every problem is reported.
pub fn load_rob(table: &CsvTable, tool: Tool) -> Result<RobTable, Vec<Diagnostic>> {
    let source = &table.source;
    let mut problems = Vec::new();
    let study = table.column("study");
    if study.is_none() {
        problems.push(Diagnostic::error("no `study` column").at(source, table.header_span(), "header").hint("the first column names the study, as in the analysis' data"));
    }
    let ids: Vec<String> = (1..=tool.domains.len()).map(|i| format!("D{i}")).collect();
    let mut columns = Vec::new();
    for id in &ids {
        match table.column(id) {
            Some(c) => columns.push(c),
            None => problems.push(
                Diagnostic::error(format!("no column `{id}` for the domain “{}”", tool.domains[ids.iter().position(|i| i == id).unwrap_or(0)]))
                    .at(source, table.header_span(), "header")
                    .hint(format!("{} has {} domains: columns {}", tool.name, ids.len(), ids.join(", "))),
            ),
        }
    }
    for cell in &table.header {
        let known = cell.text.eq_ignore_ascii_case("study") || cell.text.eq_ignore_ascii_case("overall") || ids.iter().any(|i| i.eq_ignore_ascii_case(&cell.text));
        if !known {
            problems.push(
                Diagnostic::error(format!("unknown column `{}` for {}", cell.text, tool.name))
                    .at(source, cell.span.clone(), "this column")
                    .hint(format!("columns: study, {}, overall", ids.join(", "))),
            );
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let study = study.expect("checked above");
    let overall = table.column("overall");
    let allowed: Vec<&str> = tool.judgements.iter().map(|j| j.name()).collect();
    let mut judge = |cell: &super::Cell| -> Option<Judgement> {
        match Judgement::parse(&cell.text).filter(|j| tool.judgements.contains(j)) {
            Some(j) => Some(j),
            None => {
                let close = allowed.iter().copied().min_by_key(|a| strsim::levenshtein(&a.to_lowercase(), &cell.text.to_lowercase()));
                let mut d = Diagnostic::error(format!("`{}` is not a {} judgement", cell.text, tool.name)).at(source, cell.span.clone(), "here");
                if let Some(c) = close.filter(|c| strsim::levenshtein(&c.to_lowercase(), &cell.text.to_lowercase()) <= 3) {
                    d = d.hint(format!("did you mean `{c}`?"));
                }
                problems.push(d.hint(format!("{} judgements: {}", tool.name, allowed.join(", "))));
                None
            }
        }
    };
    let mut rows = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut duplicates = Vec::new();
    for row in &table.rows {
        let judgements: Vec<Option<Judgement>> = columns.iter().map(|&c| judge(&row[c])).collect();
        let overall_judgement = overall.map(|c| judge(&row[c]));
        if !seen.insert(row[study].text.clone()) {
            duplicates.push(Diagnostic::error(format!("the study `{}` is listed twice", row[study].text)).at(source, row[study].span.clone(), "second row").hint("one row per study"));
        }
        if judgements.iter().all(Option::is_some) && overall_judgement.is_none_or(|o| o.is_some()) {
            rows.push(RobRow { study: row[study].text.clone(), span: row[study].span.clone(), judgements: judgements.into_iter().flatten().collect(), overall: overall_judgement.flatten() });
        }
    }
    problems.extend(duplicates);
    if problems.is_empty() {
        Ok(RobTable { source: source.clone(), tool, rows, has_overall: overall.is_some() })
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::csv_table;
    use crate::diag::Source;

    fn load(text: &str, tool_name: &str) -> Result<RobTable, Vec<Diagnostic>> {
        let t = csv_table(&Source::new("rob.csv", text)).unwrap();
        load_rob(&t, tool(tool_name, None).unwrap())
    }

    #[test]
    fn judgements_in_the_tools_words() {
        let t = load("study,D1,D2,D3,D4,D5,overall\nA,Low,Some concerns,high,Low risk,No information,High\nB,not reported,Low,Low,Low,Low,Not reported\n", "RoB 2").unwrap();
        assert_eq!(t.rows[0].judgements, [Judgement::Low, Judgement::SomeConcerns, Judgement::High, Judgement::Low, Judgement::NoInformation]);
        assert_eq!(t.rows[1].overall, Some(Judgement::NotReported));
        assert_eq!(t.tool.domains.len(), 5);
    }

    #[test]
    fn a_judgement_the_tool_lacks_is_located_with_a_suggestion() {
        let e = load("study,D1,D2,D3,D4,D5,D6,D7\nA,Low,Unclear,Some concerns,Low,Lwo,Low,Low\n", "RoB 1").unwrap_err();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].position().unwrap(), "rob.csv:2:15");
        assert!(e[1].hints[0].contains("did you mean `Low`?"), "{:?}", e[1].hints);
    }

    #[test]
    fn missing_and_unknown_domains_are_errors() {
        let e = load("study,D1,D2,D3,D4,D9\nA,Low,Low,Low,Low,Low\n", "RoB 2").unwrap_err();
        let messages: Vec<&str> = e.iter().map(|d| d.message.as_str()).collect();
        assert!(messages.iter().any(|m| m.contains("no column `D5`")), "{messages:?}");
        assert!(messages.iter().any(|m| m.contains("unknown column `D9`")), "{messages:?}");
    }

    #[test]
    fn tools_by_name_and_custom_domains() {
        assert_eq!(tool("robins-i", None).unwrap().domains.len(), 7);
        assert_eq!(tool("RoBANS 2", None).unwrap().domains.len(), 8);
        assert!(tool("custom", None).is_err());
        let custom = tool("custom", Some(&["Selection".to_string(), "Reporting".to_string()])).unwrap();
        assert_eq!(custom.domains, ["Selection", "Reporting"]);
        assert!(tool("RoB 3", None).is_err());
    }
}
