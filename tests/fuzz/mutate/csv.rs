//! CSV mutations: a cell's value, the table's shape (rows, columns, header names, ragged
//! rows, a byte-order mark, CRLF line ends), and recipes that turn a study file into a known
//! hard case (identical studies, generic effect data, subgroups).

use super::{markdown, shorten, toml_string, Draft};
use crate::rng::Rng;
use crate::tokens::{NUMBERS, TEXT};

/// A CSV file as rows of cells, plus the two things the reader must forgive.
#[derive(Clone, Debug)]
pub struct Table {
    pub rows: Vec<Vec<String>>,
    pub bom: bool,
    pub crlf: bool,
}

impl Table {
    pub fn parse(bytes: &[u8]) -> Option<Table> {
        let text = std::str::from_utf8(bytes).ok()?;
        let bom = text.starts_with('\u{feff}');
        let text = text.trim_start_matches('\u{feff}');
        let crlf = text.contains("\r\n");
        let mut reader = ::csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
        let mut rows = Vec::new();
        for record in reader.records() {
            rows.push(record.ok()?.iter().map(str::to_string).collect());
        }
        Some(Table { rows, bom, crlf })
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut writer = ::csv::WriterBuilder::new().flexible(true).terminator(if self.crlf { ::csv::Terminator::CRLF } else { ::csv::Terminator::Any(b'\n') }).from_writer(Vec::new());
        for row in &self.rows {
            // An empty record is written as an empty line.
            let _ = writer.write_record(row);
        }
        let mut bytes = if self.bom { "\u{feff}".as_bytes().to_vec() } else { Vec::new() };
        bytes.extend(writer.into_inner().unwrap_or_default());
        bytes
    }

    pub fn header(&self) -> Vec<String> {
        self.rows.first().cloned().unwrap_or_default()
    }

    pub fn column(&self, name: &str) -> Option<usize> {
        self.header().iter().position(|h| h.trim().eq_ignore_ascii_case(name))
    }
}

/// Column names metabook knows, to rename or add columns into a schema it reads.
const KNOWN_COLUMNS: &[&str] = &[
    "study", "n1", "mean1", "sd1", "n2", "mean2", "sd2", "events1", "events2", "n", "r", "yi", "vi", "se", "mean_pre", "sd_pre",
    "mean_post", "sd_post", "subgroup", "year", "box", "name", "overall", "D1", "STUDY", " sd1", "Study ",
];

/// Pick a CSV file of the book (analyses' data more often than others).
fn pick_csv(rng: &mut Rng, draft: &Draft) -> Option<String> {
    let analysed = draft.analysis_data();
    let all = draft.data_files(".csv");
    if all.is_empty() {
        return None;
    }
    let name = if !analysed.is_empty() && rng.chance(0.6) { rng.pick(&analysed).clone() } else { rng.pick(&all).clone() };
    let path = draft.data_path(&name);
    draft.files.contains_key(&path).then_some(path)
}

fn load(draft: &Draft, path: &str) -> Option<Table> {
    Table::parse(draft.files.get(path)?)
}

/// A new value for a cell: numbers for numbers, mostly, text for text.
pub fn new_cell(rng: &mut Rng, old: &str) -> String {
    match old.trim().parse::<f64>() {
        Ok(x) if rng.chance(0.35) => {
            let v = match rng.below(7) {
                0 => -x,
                1 => x * 1e-160,
                2 => x * 1e300,
                3 => x + 1.0,
                4 => x.trunc(),
                5 => x * 10.0,
                _ => x / 3.0,
            };
            v.to_string()
        }
        Ok(_) => rng.pick(NUMBERS).to_string(),
        Err(_) if rng.chance(0.7) => rng.pick(TEXT).to_string(),
        Err(_) => rng.pick(NUMBERS).to_string(),
    }
}

/// Change one cell (a header cell now and then).
pub fn cell(rng: &mut Rng, draft: &mut Draft) -> Option<String> {
    let path = pick_csv(rng, draft)?;
    let mut t = load(draft, &path)?;
    if t.rows.is_empty() {
        return None;
    }
    let r = if t.rows.len() == 1 || rng.chance(0.05) { 0 } else { rng.between(1, t.rows.len() - 1) };
    if t.rows[r].is_empty() {
        return None;
    }
    let c = rng.below(t.rows[r].len());
    let old = t.rows[r][c].clone();
    let new = if r == 0 { rng.pick(KNOWN_COLUMNS).to_string() } else { new_cell(rng, &old) };
    t.rows[r][c] = new.clone();
    let column = t.header().get(c).cloned().unwrap_or_default();
    draft.files.insert(path.clone(), t.to_bytes());
    Some(format!("{path} line {} column `{column}`: `{}` → `{}`", r + 1, shorten(&old), shorten(&new)))
}

/// Change the table's shape.
pub fn structure(rng: &mut Rng, draft: &mut Draft) -> Option<String> {
    let path = pick_csv(rng, draft)?;
    let mut t = load(draft, &path)?;
    let n = t.rows.len();
    let width = t.header().len();
    let what = match rng.below(15) {
        0 if n > 1 => {
            let r = rng.between(1, n - 1);
            t.rows.remove(r);
            format!("row {} deleted", r + 1)
        }
        1 if n > 1 => {
            let r = rng.between(1, n - 1);
            let row = t.rows[r].clone();
            t.rows.insert(r, row);
            format!("row {} duplicated", r + 1)
        }
        2 if width > 0 => {
            let c = rng.below(width);
            for row in &mut t.rows {
                if c < row.len() {
                    row.remove(c);
                }
            }
            format!("column {} deleted", c + 1)
        }
        3 if width > 0 => {
            // The same column twice, header and all: duplicate names must be refused.
            let c = rng.below(width);
            for row in &mut t.rows {
                if c < row.len() {
                    let v = row[c].clone();
                    row.push(v);
                }
            }
            format!("column `{}` duplicated (same header name)", t.header()[c])
        }
        4 if width > 1 => {
            let (a, b) = (rng.below(width), rng.below(width));
            t.rows[0].swap(a, b);
            format!("headers of columns {} and {} swapped", a + 1, b + 1)
        }
        5 => {
            let name = rng.pick(KNOWN_COLUMNS).to_string();
            for (i, row) in t.rows.iter_mut().enumerate() {
                row.push(if i == 0 { name.clone() } else { rng.pick(NUMBERS).to_string() });
            }
            format!("column `{name}` added")
        }
        6 if n > 1 => {
            let r = rng.between(1, n - 1);
            if rng.chance(0.5) {
                t.rows[r].pop();
                format!("row {} lost its last cell (ragged)", r + 1)
            } else {
                t.rows[r].push("extra".into());
                format!("row {} got an extra cell (ragged)", r + 1)
            }
        }
        7 => {
            t.rows.truncate(1);
            "only the header left".to_string()
        }
        8 => {
            t.rows.clear();
            "emptied".to_string()
        }
        9 => {
            t.bom = !t.bom;
            format!("byte-order mark {}", if t.bom { "added" } else { "removed" })
        }
        10 => {
            t.crlf = !t.crlf;
            format!("line ends {}", if t.crlf { "CRLF" } else { "LF" })
        }
        11 if n > 2 => {
            t.rows[1..].reverse();
            "rows reversed".to_string()
        }
        12 if n > 1 => {
            t.rows.truncate(2);
            "one study left".to_string()
        }
        13 if n > 1 => {
            let r = rng.between(1, n - 1);
            t.rows.insert(r, Vec::new());
            format!("blank line before row {}", r + 1)
        }
        14 if width > 0 => {
            let c = rng.below(width);
            let new = if rng.chance(0.5) { t.rows[0][c].to_uppercase() } else { format!(" {} ", t.rows[0][c]) };
            let old = std::mem::replace(&mut t.rows[0][c], new.clone());
            format!("header `{old}` → `{new}`")
        }
        _ => return None,
    };
    draft.files.insert(path.clone(), t.to_bytes());
    Some(format!("{path}: {what}"))
}

/// Turn an analysis' data into a known hard case, adjusting its directive where needed.
pub fn recipe(rng: &mut Rng, draft: &mut Draft) -> Option<String> {
    let analysed = draft.analysis_data();
    if analysed.is_empty() {
        return None;
    }
    let name = rng.pick(&analysed).clone();
    let path = draft.data_path(&name);
    let mut t = load(draft, &path)?;
    if t.rows.len() < 2 {
        return None;
    }
    let what = match rng.below(4) {
        0 => {
            // Identical effects with different weights: τ² is 0 and Q is 0, and the funnel
            // plot's tests and influence diagnostics divide by zero (issue 11: "t = NaN").
            identical(&mut t);
            let method = rng.pick(&["FE", "FE", "DL", "REML"]).to_string();
            let test = rng.pick(&["knha", "knha", "z"]).to_string();
            markdown::set_analysis_key(draft, &name, "method", &toml_string(&method));
            markdown::set_analysis_key(draft, &name, "test", &toml_string(&test));
            // RevMan 5 (the example's default) has no Knapp–Hartung test; an SMD's small-sample
            // correction would make the effects differ again.
            markdown::set_analysis_key(draft, &name, "convention", "\"metafor\"");
            if t.column("mean1").is_some() {
                markdown::set_analysis_key(draft, &name, "measure", "\"MD\"");
            }
            format!("every study's effect made the first one's (larger studies, same effect), method {method}, test {test}")
        }
        1 => {
            // Generic effect data (yi with vi or se) and measure GEN: the summary of findings
            // has no participants to count (issue 11: NaN participants).
            let se = rng.chance(0.5);
            let generic = to_generic(&t, se, rng);
            t = generic;
            markdown::set_analysis_key(draft, &name, "measure", "\"GEN\"");
            format!("rewritten as generic effect data (study, yi, {}), measure GEN", if se { "se" } else { "vi" })
        }
        2 => {
            let col = t.column("subgroup").unwrap_or_else(|| {
                for (i, row) in t.rows.iter_mut().enumerate() {
                    row.push(if i == 0 { "subgroup".into() } else { String::new() });
                }
                t.rows[0].len() - 1
            });
            let lone = rng.chance(0.5);
            let n = t.rows.len();
            for (i, row) in t.rows.iter_mut().enumerate().skip(1) {
                if col < row.len() {
                    row[col] = if lone && i == n - 1 { "<b>lone</b> – 1 study".into() } else { format!("group {}", i % 2) };
                }
            }
            format!("subgroups{}", if lone { ", one of them a single study" } else { "" })
        }
        _ => {
            let factor = *rng.pick(SPREAD_FACTORS);
            scale_spreads(&mut t, factor);
            format!("every spread multiplied by {factor}")
        }
    };
    draft.files.insert(path.clone(), t.to_bytes());
    Some(format!("{path}: {what}"))
}

/// Give every study the first study's effect with its own weight: counts and variances grow
/// with the row, proportions, means, SDs, correlations and effects are the first row's.
pub fn identical(t: &mut Table) {
    let Some(first) = t.rows.get(1).cloned() else { return };
    let header: Vec<String> = t.header().iter().map(|h| h.trim().to_ascii_lowercase()).collect();
    for (i, row) in t.rows.iter_mut().enumerate().skip(2) {
        let scale = i as f64;
        for (c, name) in header.iter().enumerate() {
            let (Some(x), Some(cell)) = (first.get(c).and_then(|v| v.trim().parse::<f64>().ok()), row.get_mut(c)) else { continue };
            *cell = match name.as_str() {
                "n1" | "n2" | "n" | "events1" | "events2" => (x * scale).to_string(),
                "vi" => (x * scale).to_string(),
                "se" => (x * scale.sqrt()).to_string(),
                "mean1" | "mean2" | "sd1" | "sd2" | "yi" | "r" | "mean_pre" | "sd_pre" | "mean_post" | "sd_post" => first[c].clone(),
                _ => continue,
            };
        }
    }
}

/// Identical effects in the CSV file at `path` (see [`identical`]).
pub fn identical_effects(_rng: &mut Rng, draft: &mut Draft, path: &str) -> Option<String> {
    let mut t = load(draft, path)?;
    identical(&mut t);
    draft.files.insert(path.to_string(), t.to_bytes());
    Some(format!("{path}: every study's effect made the first one's"))
}

/// Factors for every spread of a study table: variances that underflow or overflow.
const SPREAD_FACTORS: &[&str] = &["1e-160", "1e-300", "1e300", "1e-8"];

/// Multiply every SD, variance and SE by `factor`.
fn scale_spreads(t: &mut Table, factor: &str) {
    let f: f64 = factor.parse().unwrap_or(1.0);
    for c in ["sd1", "sd2", "vi", "se", "sd_pre", "sd_post"] {
        if let Some(col) = t.column(c) {
            for row in t.rows.iter_mut().skip(1) {
                if let Some(x) = row.get(col).and_then(|v| v.trim().parse::<f64>().ok()) {
                    row[col] = (x * f).to_string();
                }
            }
        }
    }
}

/// Tiny or huge spreads everywhere in the CSV file at `path`.
pub fn spreads(rng: &mut Rng, draft: &mut Draft, path: &str) -> Option<String> {
    let mut t = load(draft, path)?;
    let factor = *rng.pick(SPREAD_FACTORS);
    scale_spreads(&mut t, factor);
    draft.files.insert(path.to_string(), t.to_bytes());
    Some(format!("{path}: every spread multiplied by {factor}"))
}

/// A study table rewritten as `study,yi,vi` (or `se`), keeping the other columns.
fn to_generic(t: &Table, se: bool, rng: &mut Rng) -> Table {
    let num = |row: &[String], name: &str| t.column(name).and_then(|c| row.get(c)).and_then(|v| v.trim().parse::<f64>().ok());
    let schema = ["study", "n1", "mean1", "sd1", "n2", "mean2", "sd2", "events1", "events2", "n", "r", "yi", "vi", "se", "mean_pre", "sd_pre", "mean_post", "sd_post"];
    let header = t.header();
    let keep: Vec<usize> = (0..header.len()).filter(|&c| !schema.iter().any(|s| header[c].trim().eq_ignore_ascii_case(s))).collect();
    let mut rows = vec![{
        let mut h = vec!["study".to_string(), "yi".to_string(), if se { "se" } else { "vi" }.to_string()];
        h.extend(keep.iter().map(|&c| header[c].clone()));
        h
    }];
    let study = t.column("study").unwrap_or(0);
    for (i, row) in t.rows.iter().enumerate().skip(1) {
        let (yi, vi) = match (num(row, "mean1"), num(row, "mean2"), num(row, "sd1"), num(row, "sd2"), num(row, "n1"), num(row, "n2"), num(row, "events1"), num(row, "events2")) {
            (Some(m1), Some(m2), Some(s1), Some(s2), Some(n1), Some(n2), _, _) => (m1 - m2, s1 * s1 / n1 + s2 * s2 / n2),
            (_, _, _, _, Some(n1), Some(n2), Some(e1), Some(e2)) => {
                let (a, b, c, d) = (e1 + 0.5, n1 - e1 + 0.5, e2 + 0.5, n2 - e2 + 0.5);
                ((a / b).ln() - (c / d).ln(), 1.0 / a + 1.0 / b + 1.0 / c + 1.0 / d)
            }
            _ => (0.1 * i as f64 + rng.below(10) as f64 / 100.0, 0.05),
        };
        let spread = if se { vi.sqrt() } else { vi };
        let mut r = vec![row.get(study).cloned().unwrap_or_default(), format!("{yi}"), format!("{spread}")];
        r.extend(keep.iter().map(|&c| row.get(c).cloned().unwrap_or_default()));
        rows.push(r);
    }
    Table { rows, bom: t.bom, crlf: t.crlf }
}

/// The measures that fit a study table's columns (all of them when none fits).
pub fn measures_for(header: &[String]) -> &'static [&'static str] {
    let has = |name: &str| header.iter().any(|h| h.trim().eq_ignore_ascii_case(name));
    if has("yi") {
        &["GEN"]
    } else if has("events1") {
        &["OR", "RR", "RD"]
    } else if has("mean_pre") {
        &["SMCR"]
    } else if has("mean1") {
        &["MD", "SMD", "ROM"]
    } else if has("r") && has("n") {
        &["ZCOR"]
    } else {
        crate::tokens::MEASURES
    }
}
