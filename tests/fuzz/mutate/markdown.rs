//! Chapter mutations: the TOML of ```` ```metabook ```` directive blocks (values, keys, whole
//! blocks, new blocks), lines of Markdown and template expressions, and images whose bytes do
//! not match their name.

use super::toml::{entries, split_lines, value_for};
use super::{shorten, toml_string, Draft};
use crate::rng::Rng;
use crate::tokens::{EXPRESSIONS, MARKDOWN_LINES, TEXT};

/// The directive kinds and their keys.
pub const KINDS: &[(&str, &[&str])] = &[
    ("analysis", &["name", "data", "measure", "method", "test", "convention", "level", "r"]),
    ("forest", &["analysis", "favours", "groups", "prediction", "caption", "label"]),
    ("table", &["data", "analysis", "columns", "headings", "caption", "label"]),
    ("results", &["analysis"]),
    ("references", &[]),
    ("rob", &["data", "tool", "domains", "analysis", "plot", "weighted", "caption", "label"]),
    ("sof", &["data", "caption", "label"]),
    ("prisma", &["data", "caption", "label"]),
    ("pls", &["analysis", "outcome", "meaning", "positive", "negative", "positive_s", "negative_s"]),
    ("funnel", &["analysis", "contours", "trimfill", "caption", "label"]),
    ("sensitivity", &["analysis", "kind", "by", "plot", "caption", "label"]),
];

fn keys_of(kind: &str) -> &'static [&'static str] {
    KINDS.iter().find(|(k, _)| *k == kind).map_or(&[], |(_, keys)| keys)
}

/// A fenced ```` ```metabook kind ```` block: the line of its opening fence and of its closing
/// fence (none when the chapter ends first).
#[derive(Debug, Clone)]
pub struct Block {
    pub kind: String,
    pub open: usize,
    pub close: Option<usize>,
}

impl Block {
    /// The lines of its TOML body.
    pub fn body(&self, line_count: usize) -> std::ops::Range<usize> {
        self.open + 1..self.close.unwrap_or(line_count)
    }

    /// The string value of `key`, if the body has one on a line of its own.
    pub fn value(&self, text: &str, key: &str) -> Option<String> {
        let lines = split_lines(text);
        lines[self.body(lines.len())].iter().find_map(|l| {
            let (k, v) = l.split_once('=')?;
            (k.trim() == key).then(|| v.trim().trim_matches('"').to_string())
        })
    }
}

/// The directive blocks of a chapter (other fenced code is skipped).
pub fn blocks(text: &str) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::new();
    let mut open: Option<(usize, Option<String>)> = None;
    for (i, line) in text.split('\n').enumerate() {
        let t = line.trim_start();
        if !t.starts_with("```") {
            continue;
        }
        match open.take() {
            Some((start, kind)) => {
                if let Some(kind) = kind {
                    out.push(Block { kind, open: start, close: Some(i) });
                }
            }
            None => {
                let info = t.trim_start_matches('`').trim();
                let mut words = info.split_whitespace();
                let kind = (words.next() == Some("metabook")).then(|| words.next().unwrap_or("").to_string());
                open = Some((i, kind));
            }
        }
    }
    if let Some((start, Some(kind))) = open {
        out.push(Block { kind, open: start, close: None });
    }
    out
}

/// A chapter and one of its directive blocks, at random.
fn pick_block(rng: &mut Rng, draft: &Draft) -> Option<(String, Block)> {
    let candidates: Vec<(String, Block)> =
        draft.chapters().into_iter().flat_map(|c| blocks(&draft.text(&c).unwrap_or_default()).into_iter().map(move |b| (c.clone(), b))).collect();
    (!candidates.is_empty()).then(|| rng.pick(&candidates).clone())
}

/// Set `key = value` in a block's body (replacing the key where it is, else adding it).
fn set_key(lines: &mut Vec<String>, block: &Block, key: &str, value: &str) {
    let body = block.body(lines.len());
    let existing = entries(&lines[body.clone()]).into_iter().find(|e| e.key == key);
    match existing {
        Some(e) => {
            lines.splice(body.start + e.start..body.start + e.end, [format!("{key} = {value}")]);
        }
        None => lines.insert(body.start, format!("{key} = {value}")),
    }
}

/// Set a key of every analysis that reads the data file `data`.
pub fn set_analysis_key(draft: &mut Draft, data: &str, key: &str, value: &str) {
    for c in draft.chapters() {
        let text = draft.text(&c).unwrap_or_default();
        let mut lines = split_lines(&text);
        let mut changed = false;
        for b in blocks(&text).iter().rev().filter(|b| b.kind == "analysis") {
            if b.value(&text, "data").as_deref() == Some(data) {
                set_key(&mut lines, b, key, value);
                changed = true;
            }
        }
        if changed {
            draft.set_text(&c, lines.join("\n"));
        }
    }
}

/// Give a directive's key another value.
pub fn directive_value(rng: &mut Rng, draft: &mut Draft) -> Option<String> {
    let (chapter, block) = pick_block(rng, draft)?;
    let text = draft.text(&chapter)?;
    let mut lines = split_lines(&text);
    let present: Vec<String> = entries(&lines[block.body(lines.len())]).into_iter().map(|e| e.key).collect();
    let key = if !present.is_empty() && rng.chance(0.7) {
        rng.pick(&present).clone()
    } else {
        let keys = keys_of(&block.kind);
        if keys.is_empty() {
            return None;
        }
        rng.pick(keys).to_string()
    };
    let value = value_for(rng, draft, &block.kind, &key);
    set_key(&mut lines, &block, &key, &value);
    draft.set_text(&chapter, lines.join("\n"));
    Some(format!("{chapter} line {}: {} {key} = {}", block.open + 1, block.kind, shorten(&value)))
}

/// Change a directive block's shape: a key deleted or doubled, an unknown key, another kind, no
/// closing fence, the whole block doubled or emptied.
pub fn directive_structure(rng: &mut Rng, draft: &mut Draft) -> Option<String> {
    let (chapter, block) = pick_block(rng, draft)?;
    let text = draft.text(&chapter)?;
    let mut lines = split_lines(&text);
    let body = block.body(lines.len());
    let keys = entries(&lines[body.clone()]);
    let what = match rng.below(7) {
        0 if !keys.is_empty() => {
            let e = rng.pick(&keys).clone();
            lines.drain(body.start + e.start..body.start + e.end);
            format!("`{}` deleted", e.key)
        }
        1 if !keys.is_empty() => {
            let e = rng.pick(&keys).clone();
            let copy = lines[body.start + e.start..body.start + e.end].to_vec();
            lines.splice(body.start + e.end..body.start + e.end, copy);
            format!("`{}` twice", e.key)
        }
        2 => {
            lines.insert(body.start, "colour = \"blue\"".into());
            "unknown key `colour`".to_string()
        }
        3 => {
            let kind = if rng.chance(0.8) { rng.pick(KINDS).0 } else { *rng.pick(&["nope", "", "Forest", "analysis extra"]) };
            lines[block.open] = format!("```metabook {kind}");
            format!("kind `{}` → `{kind}`", block.kind)
        }
        4 if block.close.is_some() => {
            lines.remove(block.close.unwrap_or_default());
            "closing fence removed".to_string()
        }
        5 => {
            let end = block.close.map_or(lines.len(), |c| c + 1);
            let copy = lines[block.open..end].to_vec();
            lines.splice(end..end, std::iter::once(String::new()).chain(copy));
            "block doubled".to_string()
        }
        _ => {
            lines.drain(body);
            "body emptied".to_string()
        }
    };
    draft.set_text(&chapter, lines.join("\n"));
    Some(format!("{chapter} line {} ({}): {what}", block.open + 1, block.kind))
}

/// A new directive block with plausible values, somewhere in a chapter.
pub fn directive_new(rng: &mut Rng, draft: &mut Draft) -> Option<String> {
    let chapters = draft.chapters();
    if chapters.is_empty() {
        return None;
    }
    let chapter = rng.pick(&chapters).clone();
    let names = draft.analysis_names();
    let csvs = draft.data_files(".csv");
    let kind = *rng.weighted(&[(4, "table"), (3, "analysis"), (2, "sensitivity"), (2, "funnel"), (2, "forest"), (1, "results"), (1, "sof"), (1, "rob"), (1, "prisma"), (1, "pls"), (1, "references")]);
    let mut body: Vec<String> = Vec::new();
    match kind {
        "analysis" | "table" => {
            if csvs.is_empty() {
                return None;
            }
            let data = rng.pick(&csvs).clone();
            let header = draft.files.get(&draft.data_path(&data)).and_then(|b| super::csv::Table::parse(b)).map(|t| t.header()).unwrap_or_default();
            body.push(format!("data = {}", toml_string(&data)));
            if kind == "analysis" {
                body.insert(0, format!("name = {}", toml_string(draft.fresh("fz"))));
                body.push(format!("measure = {}", toml_string(*rng.pick(super::csv::measures_for(&header)))));
                if rng.chance(0.5) {
                    body.push(format!("method = {}", value_for(rng, draft, kind, "method")));
                }
                if rng.chance(0.3) {
                    body.push(format!("test = {}", value_for(rng, draft, kind, "test")));
                }
            } else if !header.is_empty() && rng.chance(0.5) {
                let cols: Vec<String> = (0..rng.between(1, 3)).map(|_| toml_string(rng.pick(&header).as_str())).collect();
                body.push(format!("columns = [{}]", cols.join(", ")));
            }
        }
        "sof" => body.push(format!("data = {}", value_for(rng, draft, "pls", "grade"))),
        "rob" | "prisma" => {
            if csvs.is_empty() {
                return None;
            }
            body.push(format!("data = {}", toml_string(rng.pick(&csvs).as_str())));
            if kind == "rob" {
                body.push(format!("tool = {}", value_for(rng, draft, kind, "tool")));
            }
        }
        "references" => {}
        _ => {
            if names.is_empty() {
                return None;
            }
            body.push(format!("analysis = {}", toml_string(rng.pick(&names).as_str())));
            match kind {
                "sensitivity" => body.push(format!("kind = {}", value_for(rng, draft, kind, "kind"))),
                "pls" => {
                    for key in ["outcome", "meaning", "positive", "negative"] {
                        let text = *rng.pick(TEXT);
                        body.push(format!("{key} = {}", toml_string(*rng.pick(&["stiffness", "how stiff", "reduce it", "increase it", text]))));
                    }
                }
                _ => {}
            }
        }
    }
    for _ in 0..rng.below(3) {
        let keys = keys_of(kind);
        if !keys.is_empty() {
            let key = *rng.pick(keys);
            if !body.iter().any(|l| l.starts_with(&format!("{key} ="))) {
                body.push(format!("{key} = {}", value_for(rng, draft, kind, key)));
            }
        }
    }
    let text = draft.text(&chapter)?;
    let mut lines = split_lines(&text);
    let at = paragraph_boundary(rng, &text);
    let block: Vec<String> = std::iter::once(String::new()).chain(std::iter::once(format!("```metabook {kind}"))).chain(body.iter().cloned()).chain(["```".to_string(), String::new()]).collect();
    lines.splice(at..at, block);
    draft.set_text(&chapter, lines.join("\n"));
    Some(format!("{chapter} line {}: new `{kind}` block: {}", at + 1, shorten(&body.join("; "))))
}

/// A line index outside fenced blocks, preferring blank lines (so an insertion is a paragraph).
fn paragraph_boundary(rng: &mut Rng, text: &str) -> usize {
    let lines = split_lines(text);
    let mut fenced = vec![false; lines.len() + 1];
    let mut inside = false;
    for (i, l) in lines.iter().enumerate() {
        if l.trim_start().starts_with("```") {
            inside = !inside;
            fenced[i] = true;
        } else {
            fenced[i] = inside;
        }
    }
    let blank: Vec<usize> = (0..lines.len()).filter(|&i| !fenced[i] && lines[i].trim().is_empty()).collect();
    if !blank.is_empty() && rng.chance(0.8) {
        *rng.pick(&blank)
    } else {
        let free: Vec<usize> = (0..=lines.len()).filter(|&i| !fenced[i]).collect();
        if free.is_empty() {
            lines.len()
        } else {
            *rng.pick(&free)
        }
    }
}

/// An expression from the dictionary, about one of the book's analyses.
fn expression(rng: &mut Rng, draft: &Draft) -> String {
    let names = draft.analysis_names();
    let name = if names.is_empty() { "x".to_string() } else { rng.pick(&names).clone() };
    rng.pick(EXPRESSIONS).replace("x.", &format!("{name}.")).replace("x |", &format!("{name} |")).replace(".x ", &format!(".{name} "))
}

/// Insert a line of Markdown, an expression or some text into a chapter.
pub fn insert_line(rng: &mut Rng, draft: &mut Draft) -> Option<String> {
    let chapters = draft.chapters();
    if chapters.is_empty() {
        return None;
    }
    let chapter = rng.pick(&chapters).clone();
    let text = draft.text(&chapter)?;
    let line = match rng.below(10) {
        0..=4 => rng.pick(MARKDOWN_LINES).to_string(),
        5..=7 => format!("The value is {}.", expression(rng, draft)),
        _ => format!("Some text: {}", rng.pick(TEXT)),
    };
    let mut lines = split_lines(&text);
    let at = paragraph_boundary(rng, &text);
    lines.splice(at..at, [String::new(), line.clone(), String::new()]);
    draft.set_text(&chapter, lines.join("\n"));
    Some(format!("{chapter} line {}: inserted `{}`", at + 2, shorten(&line)))
}

/// Delete, double or swap lines, or replace an inline expression.
pub fn edit(rng: &mut Rng, draft: &mut Draft) -> Option<String> {
    let chapters = draft.chapters();
    if chapters.is_empty() {
        return None;
    }
    let chapter = rng.pick(&chapters).clone();
    let text = draft.text(&chapter)?;
    let mut lines = split_lines(&text);
    let n = lines.len();
    let what = match rng.below(4) {
        0 => {
            let i = rng.below(n);
            let gone = lines.remove(i);
            format!("line {} deleted (`{}`)", i + 1, shorten(&gone))
        }
        1 => {
            let i = rng.below(n);
            let copy = lines[i].clone();
            lines.insert(i, copy.clone());
            format!("line {} doubled (`{}`)", i + 1, shorten(&copy))
        }
        2 => {
            let (a, b) = (rng.below(n), rng.below(n));
            lines.swap(a, b);
            format!("lines {} and {} swapped", a + 1, b + 1)
        }
        _ => {
            let start = text.match_indices("{{").map(|(i, _)| i).collect::<Vec<_>>();
            if start.is_empty() {
                return None;
            }
            let s = *rng.pick(&start);
            let e = text[s..].find("}}").map_or(text.len(), |e| s + e + 2);
            let new = expression(rng, draft);
            let replaced = format!("{}{}{}", &text[..s], new, &text[e..]);
            lines = split_lines(&replaced);
            format!("`{}` → `{}`", shorten(&text[s..e]), shorten(&new))
        }
    };
    draft.set_text(&chapter, lines.join("\n"));
    Some(format!("{chapter}: {what}"))
}

/// An image whose bytes do not match its extension, an SVG that links another file or runs
/// script, shown by a chapter.
pub fn image(rng: &mut Rng, draft: &mut Draft) -> Option<String> {
    let chapters = draft.chapters();
    if chapters.is_empty() {
        return None;
    }
    let chapter = rng.pick(&chapters).clone();
    let ext = *rng.pick(&["png", "jpg", "gif", "svg"]);
    let (what, bytes): (&str, Vec<u8>) = match rng.below(7) {
        0 => ("PNG bytes", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\x90wS\xde".to_vec()),
        1 => ("a JPEG's first bytes", b"\xff\xd8\xff\xe0\0\x10JFIF\0".to_vec()),
        2 => ("GIF bytes", b"GIF89a\x01\0\x01\0\0\0\0;".to_vec()),
        3 => ("an SVG linking an image by absolute path", b"<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" width=\"10\" height=\"10\"><image href=\"/etc/x.png\" xlink:href=\"/etc/x.png\" width=\"10\" height=\"10\"/></svg>".to_vec()),
        4 => ("an SVG with a script", b"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\" onload=\"alert(1)\"><script>alert(1)</script><rect width=\"10\" height=\"10\"/></svg>".to_vec()),
        5 => ("text", b"not an image".to_vec()),
        _ => ("nothing", Vec::new()),
    };
    let dir = chapter.rsplit_once('/').map_or(String::new(), |(d, _)| format!("{d}/"));
    let name = format!("{}.{ext}", draft.fresh("fzimage"));
    draft.files.insert(format!("{dir}{name}"), bytes);
    let text = draft.text(&chapter)?;
    let mut lines = split_lines(&text);
    let at = paragraph_boundary(rng, &text);
    lines.splice(at..at, [String::new(), format!("![an image]({name})"), String::new()]);
    draft.set_text(&chapter, lines.join("\n"));
    Some(format!("{chapter} line {}: image `{name}` holding {what}", at + 2))
}
