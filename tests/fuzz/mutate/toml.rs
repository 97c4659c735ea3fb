//! TOML mutations, line by line so that comments and layout survive: book.toml, the GRADE
//! file, the plain-language summary's wording table, and (through [`super::markdown`]) the
//! bodies of directives. A key gets another value from the dictionary of that key — valid
//! values as often as invalid ones — or is deleted, doubled or joined by an unknown key.

use super::{shorten, toml_string, Draft};
use crate::rng::Rng;
use crate::tokens::*;

/// A `key = value` entry, possibly over several lines (`start..end`), and the table it is in.
#[derive(Debug, Clone)]
pub struct Entry {
    pub key: String,
    pub start: usize,
    pub end: usize,
    /// The index of its table header in [`headers`], `None` before the first header.
    pub table: Option<usize>,
}

/// Table headers: (line, name), for `[name]` and `[[name]]`.
pub fn headers(lines: &[String]) -> Vec<(usize, String)> {
    lines
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            let t = l.trim();
            (t.starts_with('[') && !t.contains('=')).then(|| (i, t.trim_matches(|c| c == '[' || c == ']').trim().to_string()))
        })
        .collect()
}

pub fn entries(lines: &[String]) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut table = None;
    let mut i = 0;
    while i < lines.len() {
        let t = lines[i].trim();
        if t.starts_with('[') && !t.contains('=') {
            table = Some(table.map_or(0, |n| n + 1));
            i += 1;
            continue;
        }
        let Some((key, value)) = t.split_once('=') else {
            i += 1;
            continue;
        };
        let key = key.trim();
        if key.is_empty() || key.starts_with('#') || !key.chars().all(|c| c.is_alphanumeric() || "_-.\"".contains(c)) {
            i += 1;
            continue;
        }
        let end = value_end(lines, i, value.trim());
        out.push(Entry { key: key.to_string(), start: i, end, table });
        i = end;
    }
    out
}

/// The line after a value that starts on line `i`: multi-line strings and arrays run on.
fn value_end(lines: &[String], i: usize, value: &str) -> usize {
    for quotes in ["\"\"\"", "'''"] {
        if let Some(rest) = value.strip_prefix(quotes) {
            if rest.contains(quotes) {
                return i + 1;
            }
            return (i + 1..lines.len()).find(|&j| lines[j].contains(quotes)).map_or(lines.len(), |j| j + 1);
        }
    }
    let depth = |s: &str| s.chars().fold(0i32, |d, c| d + (c == '[') as i32 - (c == ']') as i32);
    let mut d = depth(value);
    let mut j = i + 1;
    while d > 0 && j < lines.len() {
        d += depth(&lines[j]);
        j += 1;
    }
    j
}

pub fn split_lines(text: &str) -> Vec<String> {
    text.split('\n').map(str::to_string).collect()
}

/// A value for `key`, as TOML, where `context` is the directive kind or book.toml table it is
/// in (or `grade`, `words`).
pub fn value_for(rng: &mut Rng, draft: &Draft, context: &str, key: &str) -> String {
    let text = |rng: &mut Rng| toml_string(rng.pick(TEXT));
    let names = draft.analysis_names();
    match (context, key) {
        (_, "measure") => toml_string(rng.pick(MEASURES)),
        (_, "method") => toml_string(rng.pick(METHODS)),
        (_, "test") => toml_string(rng.pick(TESTS)),
        (_, "convention") => toml_string(rng.pick(CONVENTIONS)),
        (_, "level") => rng.pick(&["95", "90", "99.9", "50", "0", "100", "-1", "nan", "inf", "1e-300", "\"95\""]).to_string(),
        (_, "r") => rng.pick(&["0.5", "0", "-0.99", "0.999999", "1", "-1", "2", "nan", "\"x\""]).to_string(),
        ("analysis", "name") => {
            if !names.is_empty() && rng.chance(0.3) {
                toml_string(rng.pick(&names))
            } else {
                toml_string(rng.pick(&["x", "", "a b", "k", "studies", "effect", "analyses", "range", "true", "x.y", "fz"]))
            }
        }
        ("pls" | "bibliography", "grade" | "file") | (_, "data") => {
            let ext = match key {
                "grade" => ".toml",
                "file" => ".bib",
                _ => "",
            };
            let mut files = draft.data_files(ext);
            files.extend(["missing.csv", "../book.toml", "/etc/hostname", "../../canary/data/x.csv", "", ".", "sub/../x.csv", "grade.toml"].map(String::from));
            toml_string(rng.pick(&files))
        }
        (_, "analysis") => {
            if !names.is_empty() && rng.chance(0.7) {
                toml_string(rng.pick(&names))
            } else {
                toml_string(rng.pick(&["nope", "", "Spasticity"]))
            }
        }
        (_, "label") => toml_string(rng.pick(&["fig-x", "tbl-x", "fig-", "x", "fig-a b", "fig-\"><script>alert(1)</script>", "tbl-bcg", "fig-bcg", "fig-spasticity", "tbl-sof", "fig-x{onclick=y}"])),
        (_, "favours" | "groups") => match rng.below(5) {
            0 => "[]".to_string(),
            1 => format!("[{}]", text(rng)),
            2 => format!("[{}, {}, {}]", text(rng), text(rng), text(rng)),
            3 => text(rng),
            _ => format!("[{}, {}]", text(rng), text(rng)),
        },
        (_, "prediction" | "trimfill" | "weighted" | "same_people") => rng.pick(&["true", "false", "\"yes\"", "1"]).to_string(),
        (_, "plot") => rng.pick(&["true", "false", "\"summary\"", "\"table\"", "\"traffic-light\"", "\"bogus\""]).to_string(),
        (_, "contours") => rng.pick(&["[90, 95, 99]", "[]", "[0]", "[100]", "[nan]", "[-5]", "[99.999999]", "[50, 50]", "[1e300]", "95"]).to_string(),
        (_, "kind") => toml_string(rng.pick(&["leave-one-out", "cumulative", "influence", "Leave-one-out", "bogus", ""])),
        (_, "by") => toml_string(rng.pick(&["year", "study", "n1", "subgroup", "", "bogus", "yi"])),
        (_, "tool") => toml_string(rng.pick(&["RoB 2", "RoB 1", "ROBINS-I", "RoBANS 2", "custom", "rob2", ""])),
        (_, "domains") => rng.pick(&["[\"D1\"]", "[]", "[\"<b>x</b>\", \"y\"]", "[\"a\", \"b\", \"c\", \"d\", \"e\", \"f\", \"g\", \"h\", \"i\", \"j\", \"k\", \"l\"]"]).to_string(),
        (_, "columns") => {
            let mut headers: Vec<String> = Vec::new();
            for f in draft.data_files(".csv") {
                if let Some(t) = draft.files.get(&draft.data_path(&f)).and_then(|b| super::csv::Table::parse(b)) {
                    headers.extend(t.header());
                }
            }
            headers.extend(["nope", "study", ""].map(String::from));
            let n = rng.below(4);
            format!("[{}]", (0..n).map(|_| toml_string(rng.pick(&headers))).collect::<Vec<_>>().join(", "))
        }
        (_, "headings" | "unknown") => {
            let n = rng.below(4);
            format!("[{}]", (0..n).map(|_| text(rng)).collect::<Vec<_>>().join(", "))
        }
        ("book", "language") => toml_string(rng.pick(LANGUAGES)),
        ("book", "search-date") => toml_string(rng.pick(&["2022-02-28", "2022-02", "2024-02-29", "2023-02-29", "2022-13-01", "0000-01", "9999-12-31", "28/02/2022", "", "2022-02-28T00:00"])),
        ("pls", "practice" | "question" | "background") if rng.chance(0.3) => toml_string(rng.pick(&["About 30 in 100 people got better (SF-36).", "1,631 records; 0.5 points", &"Short words. ".repeat(400), "Notwithstanding considerable methodological heterogeneity, comprehensive interdisciplinary rehabilitation."])),
        ("book", "authors") => rng.pick(&["[]", "[\"<script>alert(1)</script>\"]", "\"x\"", "[\"A\", \"B & <C>\"]", "[\"\"]"]).to_string(),
        ("book", "title") => toml_string(rng.pick(&["", "   ", "../../x", "a/b", "???", "<script>alert(1)</script>", "Ünïcödé – ∞ 10–20%", "CON", "x".repeat(300).as_str()])),
        // The decoy beside the book first: reading or writing there is what must not happen.
        ("build", key) => {
            let decoy = match key {
                "src" => "../canary/report",
                "data" => "../canary/data",
                "templates" => "../canary/templates",
                _ => "../outside",
            };
            let path = if rng.chance(0.4) { decoy } else { rng.pick(BUILD_PATHS) };
            toml_string(path.replace("{ROOT}", &draft.root))
        }
        ("output.pdf", "paper") => toml_string(rng.pick(&["a4", "us-letter", "a5", ""])),
        ("output.pdf", "font") => toml_string(rng.pick(&["libertinus-serif", "new-computer-modern", "comic-sans", "Libertinus Serif", "DejaVu Sans Mono", ""])),
        ("bibliography", "style") => toml_string(rng.pick(&["vancouver", "apa", "american-medical-association", "ieee", "chicago-author-date", "nature", "bogus", "style.csl", "../x.csl", ""])),
        ("pls", "glossary") => rng.pick(&[
            "[{ term = \"<script>alert(1)</script>\", meaning = \"x\" }]",
            "[{ term = \"x\", meaning = \"<img src=x onerror=alert(1)>\" }]",
            "[{ term = \"[a](javascript:alert(1))\", meaning = \"{{ 1 }}\" }]",
            "[]",
            "[{ term = \"x\" }]",
        ])
        .to_string(),
        ("grade", "participants" | "studies") => rng.pick(&["0", "-1", "1", "1000000", "1e300", "nan", "\"12\"", "2.5"]).to_string(),
        ("grade", "certainty") => toml_string(rng.pick(&["high", "moderate", "low", "very low", "bogus", ""])),
        ("grade", "design") => toml_string(rng.pick(&["randomised", "non-randomised", "bogus", ""])),
        ("grade", "direction") => toml_string(rng.pick(&["positive", "negative", "none", "bogus"])),
        ("grade", "comparator_risk") => toml_string(rng.pick(&["pooled", "median", "bogus", ""])),
        ("grade", "comparator_risks") => rng.pick(&["[]", "[{ label = \"High risk\", risk = 0.2 }]", "[{ label = \"<b>x</b>\", risk = 0.0 }]", "[{ label = \"x\", risk = 1.5 }]", "[{ label = \"x\", risk = nan }]", "[{ risk = 0.1 }]", "\"x\""]).to_string(),
        ("grade", "scale_sd" | "important" | "large") => rng.pick(&["0", "-1", "0.5", "10", "1e308", "nan", "inf", "\"10\""]).to_string(),
        ("grade", "intervention_plural") | ("pls", "intervention-plural") => rng.pick(&["true", "false", "\"yes\"", "1"]).to_string(),
        ("grade", "risk_of_bias" | "inconsistency" | "indirectness" | "imprecision" | "publication_bias" | "large_effect" | "dose_response" | "confounding") => {
            rng.pick(GRADE_RATINGS).to_string()
        }
        ("words", "numbers") => rng.pick(&["[]", "[\"no\"]", "\"x\"", "[\"<b>none</b>\", \"one\"]"]).to_string(),
        ("words", "third-person-rules") => toml_string(rng.pick(&["english", "none", "bogus"])),
        ("words", _) => toml_string(rng.pick(&["{Intervention} {does}.", "{nope}", "{Intervention", "", "{{", "}", "<script>alert(1)</script>", "{outcome}{outcome}", "{does} {do} {intervention} [x](javascript:alert(1))"])),
        _ => {
            if rng.chance(0.8) {
                text(rng)
            } else {
                rng.pick(&["1", "true", "[]", "{}", "nan"]).to_string()
            }
        }
    }
}

/// book.toml's tables and their keys.
const BOOK_TABLES: &[(u32, (&str, &[&str]))] = &[
    (4, ("book", &["title", "authors", "language", "description", "search-date"])),
    (4, ("build", &["src", "data", "build-dir", "templates", "fonts"])),
    (1, ("output.pdf", &["paper", "font"])),
    (2, ("analysis", &["method", "test", "convention", "level"])),
    (2, ("bibliography", &["file", "style"])),
    (3, ("pls", &["title", "intervention", "question", "practice", "unknown", "glossary", "grade", "condition", "background", "comparator", "intervention-plural"])),
];

/// Set `key = value` in `[table]`, adding the table or the key where missing.
pub fn set_in_table(lines: &mut Vec<String>, table: &str, key: &str, value: &str) {
    let hs = headers(lines);
    let Some(h) = hs.iter().position(|(_, name)| name == table) else {
        lines.push(String::new());
        lines.push(format!("[{table}]"));
        lines.push(format!("{key} = {value}"));
        return;
    };
    let found = entries(lines).into_iter().find(|e| e.table == Some(h) && e.key == key);
    match found {
        Some(e) => {
            lines.splice(e.start..e.end, [format!("{key} = {value}")]);
        }
        None => lines.insert(hs[h].0 + 1, format!("{key} = {value}")),
    }
}

pub fn book_toml(rng: &mut Rng, draft: &mut Draft) -> Option<String> {
    let text = draft.text("book.toml")?;
    let mut lines = split_lines(&text);
    let all = entries(&lines);
    let what = match rng.below(12) {
        0 if !all.is_empty() => {
            let e = rng.pick(&all).clone();
            lines.drain(e.start..e.end);
            format!("`{}` deleted", e.key)
        }
        1 if !all.is_empty() => {
            let e = rng.pick(&all).clone();
            let copy: Vec<String> = lines[e.start..e.end].to_vec();
            lines.splice(e.end..e.end, copy);
            format!("`{}` twice", e.key)
        }
        2 => {
            let hs = headers(&lines);
            if hs.is_empty() {
                return None;
            }
            let h = rng.below(hs.len());
            let end = hs.get(h + 1).map_or(lines.len(), |n| n.0);
            lines.drain(hs[h].0..end);
            format!("[{}] deleted", hs[h].1)
        }
        3 => {
            let (table, _) = *rng.weighted(BOOK_TABLES);
            set_in_table(&mut lines, table, "colour", "\"blue\"");
            format!("unknown key `colour` in [{table}]")
        }
        4 if !text.contains("[pls]") => {
            // The example's plain-language summary settings, for books without one.
            let example = include_str!("../../../book.toml");
            let start = example.find("[pls]")?;
            lines.push(String::new());
            lines.extend(split_lines(&example[start..]));
            "[pls] of the example added".to_string()
        }
        5 if !text.contains("[output.docx]") => {
            // The Word output, for books without it.
            lines.push(String::new());
            lines.push("[output.docx]".to_string());
            "[output.docx] added".to_string()
        }
        _ => {
            let (table, keys) = *rng.weighted(BOOK_TABLES);
            let key = *rng.pick(keys);
            let value = value_for(rng, draft, table, key);
            set_in_table(&mut lines, table, key, &value);
            format!("[{table}] {key} = {}", shorten(&value))
        }
    };
    draft.set_text("book.toml", lines.join("\n"));
    Some(what)
}

/// Keys of a GRADE file's outcome, for adding one that was not there.
const GRADE_KEYS: &[&str] = &[
    "name", "analysis", "same_people", "design", "outcome", "positive", "negative", "direction", "narrative", "participants",
    "studies", "note", "certainty", "risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias",
    "large_effect", "dose_response", "confounding", "comparator_risk", "comparator_risks", "scale", "scale_sd", "important", "large",
    "comparator", "intervention_plural",
];

/// Mutate a TOML file of the data folder (the GRADE file).
pub fn data_toml(rng: &mut Rng, draft: &mut Draft) -> Option<String> {
    let files = draft.data_files(".toml");
    if files.is_empty() {
        return None;
    }
    let path = draft.data_path(rng.pick(&files).as_str());
    let what = mutate_doc(rng, draft, &path, "grade", GRADE_KEYS)?;
    Some(format!("{path}: {what}"))
}

/// Set, delete or double an entry of the TOML file at `path`, or add one of `keys`.
pub fn mutate_doc(rng: &mut Rng, draft: &mut Draft, path: &str, context: &str, keys: &[&str]) -> Option<String> {
    let mut lines = split_lines(&draft.text(path)?);
    let all = entries(&lines);
    let hs = headers(&lines);
    let what = match rng.below(10) {
        0 if !all.is_empty() => {
            let e = rng.pick(&all).clone();
            lines.drain(e.start..e.end);
            format!("`{}` deleted (line {})", e.key, e.start + 1)
        }
        1 if !hs.is_empty() => {
            // A whole table (an `[[outcome]]`) twice.
            let h = rng.below(hs.len());
            let end = hs.get(h + 1).map_or(lines.len(), |n| n.0);
            let copy: Vec<String> = lines[hs[h].0..end].to_vec();
            lines.extend(copy);
            format!("[{}] (line {}) doubled", hs[h].1, hs[h].0 + 1)
        }
        2 | 3 => {
            let key = *rng.pick(keys);
            let value = value_for(rng, draft, context, key);
            let at = if hs.is_empty() { lines.len() } else { rng.pick(&hs).0 + 1 };
            lines.insert(at, format!("{key} = {value}"));
            format!("`{key} = {}` added at line {}", shorten(&value), at + 1)
        }
        _ if !all.is_empty() => {
            let e = rng.pick(&all).clone();
            let value = value_for(rng, draft, context, &e.key);
            lines.splice(e.start..e.end, [format!("{} = {value}", e.key)]);
            format!("line {}: {} = {}", e.start + 1, e.key, shorten(&value))
        }
        _ => return None,
    };
    draft.set_text(path, lines.join("\n"));
    Some(what)
}
