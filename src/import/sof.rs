//! A RevMan 5 summary-of-findings table read as GRADE outcomes, for `data/grade.toml`.
//!
//! RevMan 5 keeps a summary of findings as a free table typed by the authors (GRADEpro exports
//! one), not as data: outcome names, risks, relative effects, "№ of participants (studies)" and
//! the certainty, as text. What a GRADE file needs and the table can give is read from it:
//! each outcome row's name, its certainty as stated (words or GRADE's ⊕ symbols), and the
//! analysis it reports. The ratings per GRADE domain and the study design are not in the file,
//! so they are `not reported` and the certainty is the stated one (as the example review does
//! for its source).
//!
//! An outcome row is matched to an analysis by its participants and studies: the analysis whose
//! stored totals (RevMan's `TOTAL_1 + TOTAL_2` and `STUDIES`) are the row's numbers exactly.
//! Where several analyses have them (an analysis and its subgroup version, as reviews often
//! have), the one whose name shares most words with the row's, then the one without subgroups,
//! then the first. Names alone are never enough: a row no analysis matches by its numbers is not
//! written, and the import report says so. The table itself stays in the book as stored.

use super::rm5::{self, Block, TableCell, TitledTable};
use std::fmt::Write as _;

/// An analysis a row may report.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The book's analysis name (`a1_2`).
    pub name: String,
    /// RevMan's number ("1.2").
    pub number: String,
    pub title: String,
    pub participants: Option<u64>,
    pub studies: Option<u64>,
    pub has_subgroups: bool,
}

/// One outcome row read.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub name: String,
    /// The book's analysis name, where one matches.
    pub analysis: Option<String>,
    /// The stated certainty in GRADE's words ("high", "moderate", "low", "very low").
    pub certainty: Option<&'static str>,
    pub participants: Option<u64>,
    pub studies: Option<u64>,
    /// The row's other cells as the table states them, "heading: value; …".
    pub stated: String,
}

/// What was read from one table.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Read {
    /// From the table's "Intervention:" line, or its title ("X compared with Y for Z").
    pub intervention: Option<String>,
    /// From the table's "Comparison:" line, or its title ("X compared with Y for Z").
    pub comparator: Option<String>,
    pub rows: Vec<Row>,
    /// For the import report: how each row was matched, or why it was not written.
    pub notes: Vec<String>,
}

impl Read {
    /// The rows `grade.toml` can hold: matched to an analysis, with a stated certainty.
    pub fn usable(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| r.analysis.is_some() && r.certainty.is_some())
    }
}

/// Read one table; its id ("SOF-01") names it in the notes.
pub fn read(table: &TitledTable, candidates: &[Candidate]) -> Read {
    let label = if table.id.is_empty() { rm5::plain(&table.title) } else { table.id.clone() };
    let grid: Vec<Vec<Option<&TableCell>>> = table.table.grid(Some, || None);
    let text = |c: &Option<&TableCell>| c.map(|c| rm5::plain_blocks(&c.blocks)).unwrap_or_default();
    let mut read = Read { intervention: intervention(table, &grid), comparator: comparator(table, &grid), ..Read::default() };

    // The heading rows: from the one that starts "Outcomes" while the first column is covered
    // by its row span or every cell is a heading.
    let Some(head) = grid.iter().position(|r| r.first().is_some_and(|c| text(c).to_lowercase().starts_with("outcome"))) else {
        read.notes.push(format!("{label}: not read as GRADE outcomes: no heading row starts with \"Outcomes\""));
        return read;
    };
    let mut body = head + 1;
    while body < grid.len() && (grid[body].first().is_none_or(|c| c.is_none()) || grid[body].iter().flatten().all(|c| c.header)) {
        body += 1;
    }
    let width = grid.iter().map(Vec::len).max().unwrap_or(0);
    let headings: Vec<String> = (0..width)
        .map(|col| {
            let mut parts: Vec<String> = Vec::new();
            for row in &grid[head..body] {
                let t = row.get(col).map(text).unwrap_or_default();
                if !t.is_empty() && !parts.contains(&t) {
                    parts.push(t);
                }
            }
            parts.join(", ")
        })
        .collect();
    let find = |words: &[&str]| (1..width).find(|&c| words.iter().any(|w| headings[c].to_lowercase().contains(w)));
    let (Some(people_col), Some(certainty_col)) = (find(&["participant"]), find(&["certainty", "quality", "grade"])) else {
        read.notes.push(format!("{label}: not read as GRADE outcomes: no column of participants (studies) and of certainty (quality) found"));
        return read;
    };

    for row in &grid[body..] {
        let cell = |c: usize| row.get(c).map(text).unwrap_or_default();
        let name = cell(0);
        let (people, certainty_text) = (cell(people_col), cell(certainty_col));
        if name.is_empty() || (people.is_empty() && certainty_text.is_empty()) {
            continue; // a footnote or a heading across the table
        }
        let (participants, studies) = participants(&people);
        let certainty = certainty(&certainty_text);
        let stated = (1..width)
            .filter(|&c| c != people_col && c != certainty_col)
            .filter_map(|c| {
                let v = cell(c);
                (!v.is_empty()).then(|| if headings[c].is_empty() { v } else { format!("{}: {v}", headings[c]) })
            })
            .collect::<Vec<_>>()
            .join("; ");
        let mut r = Row { name: name.clone(), analysis: None, certainty, participants, studies, stated };
        let (Some(p), Some(s)) = (participants, studies) else {
            read.notes.push(format!("{label}, \"{name}\": the participants (studies) cell \"{people}\" is not two numbers, so no analysis can be matched; kept in the table only"));
            read.rows.push(r);
            continue;
        };
        let matching: Vec<&Candidate> = candidates.iter().filter(|c| c.participants == Some(p) && c.studies == Some(s)).collect();
        let best = matching.iter().copied().enumerate().max_by_key(|(i, c)| (shared_words(&name, &c.title), !c.has_subgroups, std::cmp::Reverse(*i))).map(|(_, c)| c);
        match best {
            None => read.notes.push(format!("{label}, \"{name}\": no analysis has {p} participants in {s} studies; kept in the table only")),
            Some(c) => {
                let mut note = format!("{label}, \"{name}\" → Analysis {} (`{}`): {p} participants in {s} studies", c.number, c.name);
                if matching.len() > 1 {
                    let others: Vec<String> = matching.iter().filter(|o| o.name != c.name).map(|o| format!("Analysis {}", o.number)).collect();
                    let _ = write!(note, " (also {}; chosen by the name)", others.join(", "));
                }
                if certainty.is_none() {
                    let _ = write!(note, "; no certainty is stated (\"{certainty_text}\"), so it is kept in the table only");
                }
                read.notes.push(note);
                r.analysis = Some(c.name.clone());
            }
        }
        read.rows.push(r);
    }
    read
}

/// Whether an intervention's name reads as an English plural ("Antibiotics", "Corticosteroids"),
/// for the statements' verb; a guess the generated file says to check ("Physiotherapy",
/// "Tuberculosis", "Stress" are not).
fn looks_plural(name: &str) -> bool {
    let last = name.split_whitespace().last().unwrap_or("").to_lowercase();
    last.len() > 3 && last.ends_with('s') && !["ss", "us", "is"].iter().any(|e| last.ends_with(e))
}

/// The GRADE file for the usable rows, or None if there are none.
pub fn grade_toml(read: &Read, table_title: &str, quote: impl Fn(&str) -> String) -> Option<String> {
    if read.usable().next().is_none() {
        return None;
    }
    let intervention = read.intervention.clone().unwrap_or_else(|| "the intervention".into());
    let mut out = format!(
        "# GRADE outcomes read by `metabook import` from the RevMan file's summary-of-findings table\n\
         # \"{}\". The file gives each outcome's certainty but not the ratings behind it, nor the\n\
         # study design: they are `not reported`, and the certainty is the one the table states.\n\
         # Participants, studies and effects are computed from the analysis each outcome names\n\
         # (matched by its participants and studies). Replace `not reported` with your ratings.\n\n\
         intervention = {}\n",
        table_title.replace('\n', " "),
        quote(&intervention)
    );
    if looks_plural(&intervention) {
        let _ = writeln!(out, "intervention_plural = true   # \"{}\" reads as a plural (\"… result in\"); remove this line if it is not", intervention.replace(['"', '\\', '\n'], ""));
    }
    if let Some(c) = &read.comparator {
        let _ = writeln!(out, "comparator = {}", quote(c));
    }
    for r in read.usable() {
        let _ = write!(
            out,
            "\n[[outcome]]\nname = {}\nanalysis = {}\ndesign = \"not reported\"\ncertainty = {}\n",
            quote(&r.name),
            quote(r.analysis.as_deref().unwrap_or_default()),
            quote(r.certainty.unwrap_or_default())
        );
        for domain in ["risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias"] {
            let _ = writeln!(out, "{domain} = {{ rating = \"not reported\" }}");
        }
        if !r.stated.is_empty() {
            let _ = writeln!(out, "note = {}", quote(&format!("The RevMan file's table states: {}.", r.stated.trim_end_matches('.'))));
        }
    }
    Some(out)
}

/// "Comparison: placebo" in the table's first rows (where RevMan's template runs its labels
/// together in one paragraph: "… Intervention: antibiotics Comparison: placebo"), else the
/// title's "X compared with Y for Z".
fn comparator(table: &TitledTable, grid: &[Vec<Option<&TableCell>>]) -> Option<String> {
    const LABELS: [&str; 5] = ["patient or population:", "settings:", "setting:", "intervention:", "comparison:"];
    for cell in grid.iter().take(4).flatten().flatten() {
        for b in &cell.blocks {
            if let Block::Paragraph(p) = b {
                let t = rm5::plain(p);
                let lower = t.to_lowercase();
                if let Some(at) = lower.find("comparison:") {
                    let start = at + "comparison:".len();
                    let end = LABELS.iter().filter_map(|l| lower[start..].find(l).map(|i| start + i)).min().unwrap_or(t.len());
                    let value = t.get(start..end).unwrap_or("").trim();
                    if !value.is_empty() {
                        return Some(value.to_string());
                    }
                }
            }
        }
    }
    let title = grid.first().and_then(|r| r.first()).and_then(|c| *c).map(|c| rm5::plain_blocks(&c.blocks)).filter(|t| !t.is_empty()).unwrap_or_else(|| rm5::plain(&table.title));
    let lower = title.to_lowercase();
    [" compared with ", " compared to ", " versus ", " vs "].iter().find_map(|sep| {
        let start = lower.find(sep)? + sep.len();
        let end = [" for ", " in "].iter().filter_map(|w| lower[start..].find(w).map(|i| start + i)).min().unwrap_or(title.len());
        title.get(start..end).map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
    })
}

/// "Intervention: antibiotics" in the table's first rows, else the title's "X compared with Y".
fn intervention(table: &TitledTable, grid: &[Vec<Option<&TableCell>>]) -> Option<String> {
    for cell in grid.iter().take(4).flatten().flatten() {
        for b in &cell.blocks {
            if let Block::Paragraph(p) = b {
                let t = rm5::plain(p);
                if let Some((head, rest)) = t.split_once(':') {
                    if head.trim().eq_ignore_ascii_case("intervention") && !rest.trim().is_empty() {
                        return Some(rest.trim().to_string());
                    }
                }
            }
        }
    }
    let title = grid.first().and_then(|r| r.first()).and_then(|c| *c).map(|c| rm5::plain_blocks(&c.blocks)).filter(|t| !t.is_empty()).unwrap_or_else(|| rm5::plain(&table.title));
    [" compared with ", " compared to ", " versus ", " vs "].iter().find_map(|sep| {
        let lower = title.to_lowercase();
        lower.find(sep).map(|i| title[..i].trim().to_string()).filter(|s| !s.is_empty())
    })
}

/// "10,101 (16)" → (10101, 16); thousands may be separated by commas or (thin) spaces.
fn participants(text: &str) -> (Option<u64>, Option<u64>) {
    let (before, after) = text.split_once('(').unwrap_or((text, ""));
    let number = |s: &str| -> Option<u64> {
        let s = s.trim();
        let end = s.find(|c: char| !(c.is_ascii_digit() || matches!(c, ',' | ' ' | '\u{a0}' | '\u{2009}' | '\u{202f}'))).unwrap_or(s.len());
        let digits: String = s[..end].chars().filter(char::is_ascii_digit).collect();
        if digits.is_empty() || s[..end].trim_end().ends_with(',') {
            return None;
        }
        digits.parse().ok()
    };
    (number(before), number(after))
}

/// The certainty a cell states: GRADE's symbols (⊕ for each level) or its words.
fn certainty(text: &str) -> Option<&'static str> {
    const WORDS: [&str; 4] = ["very low", "low", "moderate", "high"];
    let filled = text.chars().filter(|&c| c == '\u{2295}' || c == '\u{2A01}').count();
    if (1..=4).contains(&filled) {
        return Some(WORDS[filled - 1]);
    }
    let lower = text.to_lowercase();
    let without_very_low = lower.replace("very low", "");
    let found: Vec<&'static str> = WORDS
        .into_iter()
        .filter(|w| if *w == "very low" { lower.contains(w) } else { without_very_low.split(|c: char| !c.is_alphabetic()).any(|x| x == *w) })
        .collect();
    match found[..] {
        [one] => Some(one),
        _ => None,
    }
}

/// How many words of three or more letters two names share.
fn shared_words(a: &str, b: &str) -> usize {
    let words = |s: &str| -> std::collections::BTreeSet<String> { s.to_lowercase().split(|c: char| !c.is_alphanumeric()).filter(|w| w.chars().count() >= 3).map(String::from).collect() };
    words(a).intersection(&words(b)).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rm5::{Inline, Table};

    fn cell(text: &str, header: bool, colspan: usize, rowspan: usize) -> TableCell {
        TableCell { header, colspan, rowspan, blocks: vec![Block::Paragraph(vec![Inline::Text(text.into())])] }
    }

    fn candidate(name: &str, title: &str, p: u64, s: u64, has_subgroups: bool) -> Candidate {
        Candidate { name: name.into(), number: name.trim_start_matches('a').replace('_', "."), title: title.into(), participants: Some(p), studies: Some(s), has_subgroups }
    }

    /// A table laid out as RevMan 5 (GRADEpro) writes one, with spans.
    fn table(rows: &[(&str, &str, &str)]) -> TitledTable {
        let mut t = vec![
            vec![cell("Antibiotics compared with placebo for sore throat", false, 5, 1)],
            vec![cell("Outcomes", true, 1, 2), cell("Risks* (95% CI)", true, 2, 1), cell("No of participants (studies)", true, 1, 2), cell("Quality of the evidence (GRADE)", true, 1, 2)],
            vec![cell("Assumed risk", true, 1, 1), cell("Corresponding risk", true, 1, 1)],
        ];
        for (name, people, quality) in rows {
            t.push(vec![cell(name, false, 1, 1), cell("20 per 1000", false, 1, 1), cell("", false, 1, 1), cell(people, false, 1, 1), cell(quality, false, 1, 1)]);
        }
        t.push(vec![cell("*The basis for the assumed risk …", false, 5, 1)]);
        TitledTable { id: "SOF-01".into(), title: vec![Inline::Text("Summary of findings".into())], table: Table { rows: t }, footnotes: vec![] }
    }

    #[test]
    fn rows_are_matched_by_their_participants_and_studies() {
        let candidates = [
            candidate("a1_1", "Symptom of sore throat on day 3", 3621, 15, false),
            candidate("a1_2", "Symptom of sore throat on day 3: subgroups", 3621, 15, true),
            candidate("a4_8", "Incidence of acute glomerulonephritis", 5147, 10, false),
            candidate("a4_9", "Incidence of quinsy", 2433, 8, false),
        ];
        let read = read(
            &table(&[("Sore throat: day 3", "3621 (15)", "High"), ("Glomerulonephritis", "5,147 (10 studies)", "⊕⊕⊝⊝ low¹"), ("Quinsy", "2433 (9)", "high"), ("Fever", "see comment", "moderate")]),
            &candidates,
        );
        assert_eq!(read.intervention.as_deref(), Some("Antibiotics"));
        assert_eq!(read.comparator.as_deref(), Some("placebo"));
        let got: Vec<(&str, Option<&str>, Option<&str>)> = read.rows.iter().map(|r| (r.name.as_str(), r.analysis.as_deref(), r.certainty)).collect();
        assert_eq!(got, [("Sore throat: day 3", Some("a1_1"), Some("high")), ("Glomerulonephritis", Some("a4_8"), Some("low")), ("Quinsy", None, Some("high")), ("Fever", None, Some("moderate"))]);
        assert!(read.notes[0].contains("also Analysis 1.2; chosen by the name"), "{:?}", read.notes);
        assert!(read.notes.iter().any(|n| n.contains("no analysis has 2433 participants in 9 studies")), "{:?}", read.notes);
        assert!(read.notes.iter().any(|n| n.contains("\"see comment\" is not two numbers")), "{:?}", read.notes);
        assert_eq!(read.rows[0].stated, "Risks* (95% CI), Assumed risk: 20 per 1000");
        let toml = grade_toml(&read, "Summary of findings", |s| format!("{s:?}")).unwrap();
        assert_eq!(toml.matches("[[outcome]]").count(), 2, "{toml}");
    }

    #[test]
    fn certainty_in_words_or_symbols() {
        assert_eq!(certainty("⊕⊕⊕⊝\nMODERATE a,b"), Some("moderate"));
        assert_eq!(certainty("⨁◯◯◯ very low"), Some("very low"));
        assert_eq!(certainty("Very low"), Some("very low"));
        assert_eq!(certainty("low"), Some("low"));
        assert_eq!(certainty("Low to moderate"), None);
        assert_eq!(certainty("not graded"), None);
        assert_eq!(certainty("slow"), None);
    }

    #[test]
    fn participants_and_studies() {
        assert_eq!(participants("10,101 (16)"), (Some(10101), Some(16)));
        assert_eq!(participants("3\u{2009}621 (15 RCTs)"), (Some(3621), Some(15)));
        assert_eq!(participants("see comment"), (None, None));
        assert_eq!(participants("120 (1 study)"), (Some(120), Some(1)));
        assert_eq!(participants("99999999999999999999999 (1)"), (None, Some(1)));
    }

    #[test]
    fn a_table_that_is_not_a_summary_of_findings_is_said_so() {
        let t = TitledTable { id: "SOF-02".into(), title: vec![], table: Table { rows: vec![vec![cell("Notes", false, 1, 1)]] }, footnotes: vec![] };
        let read = read(&t, &[]);
        assert!(read.rows.is_empty() && read.notes[0].contains("no heading row"), "{:?}", read.notes);
        assert_eq!(grade_toml(&read, "x", |s| s.to_string()), None);
    }

    #[test]
    fn plural_interventions_are_guessed() {
        for (name, plural) in [("Antibiotics", true), ("Corticosteroids", true), ("Oral iron supplements", true), ("Physiotherapy", false), ("Stress management", false), ("Acupressure", false), ("Tuberculosis vaccine", false), ("Stimulus", false), ("BCG", false), ("", false)] {
            assert_eq!(looks_plural(name), plural, "{name}");
        }
    }
}
