//! Mutations of a RevMan 5 file (`.rm5`, XML) for `metabook import`: most know the XML — an
//! element deleted, duplicated, renamed or nested deep; an attribute deleted, duplicated,
//! renamed or given an edge number; text given markup; ids and study names made to collide —
//! and a few work on bytes: truncation, a broken encoding, a stray byte.
//!
//! The file is kept as bytes (the real review is ISO-8859-1) and scanned for tags with a small
//! tolerant scanner, not parsed: a mutation must still find elements in a file an earlier one
//! already broke.

use crate::rng::Rng;
use crate::tokens;

/// An element found in the file: byte ranges of its start tag, its name (inside the start
/// tag) and the whole element (start tag to end of the end tag; the start tag alone when it is
/// empty, `<X/>`, or never closed).
#[derive(Clone, Debug)]
pub struct Element {
    pub tag: std::ops::Range<usize>,
    pub name: std::ops::Range<usize>,
    pub whole: std::ops::Range<usize>,
    /// The end tag's name, when the element is closed: `</NAME>`.
    pub end_name: Option<std::ops::Range<usize>>,
}

/// The elements of `xml`, in document order of their start tags.
pub fn elements(xml: &[u8]) -> Vec<Element> {
    let mut out: Vec<Element> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    let mut i = 0;
    while let Some(off) = xml[i..].iter().position(|&b| b == b'<') {
        let at = i + off;
        let rest = &xml[at..];
        if rest.starts_with(b"<!--") {
            i = find(xml, at, b"-->").map_or(xml.len(), |e| e + 3);
            continue;
        }
        if rest.starts_with(b"<?") || rest.starts_with(b"<!") {
            i = find(xml, at, b">").map_or(xml.len(), |e| e + 1);
            continue;
        }
        let end = tag_end(xml, at);
        let closing = rest.get(1) == Some(&b'/');
        let name_start = at + 1 + closing as usize;
        let name_end = (name_start..end).find(|&k| !is_name_byte(xml[k])).unwrap_or(end);
        if closing {
            let name = &xml[name_start..name_end];
            if let Some(pos) = open.iter().rposition(|&e| &xml[out[e].name.clone()] == name) {
                let e = open[pos];
                out[e].whole.end = (end + 1).min(xml.len());
                out[e].end_name = Some(name_start..name_end);
                open.truncate(pos);
            }
        } else if name_end > name_start {
            let self_closing = end > 0 && xml.get(end - 1) == Some(&b'/');
            out.push(Element { tag: at..(end + 1).min(xml.len()), name: name_start..name_end, whole: at..(end + 1).min(xml.len()), end_name: None });
            if !self_closing {
                open.push(out.len() - 1);
            }
        }
        i = (end + 1).min(xml.len());
        if i >= xml.len() {
            break;
        }
    }
    out
}

fn find(xml: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    xml[from..].windows(needle.len()).position(|w| w == needle).map(|p| from + p)
}

/// The position of the `>` that ends the tag starting at `at` (quotes respected), or the end.
fn tag_end(xml: &[u8], at: usize) -> usize {
    let mut quote = None;
    for (k, &b) in xml.iter().enumerate().skip(at + 1) {
        match (quote, b) {
            (Some(q), b) if b == q => quote = None,
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'>') => return k,
            (None, b'<') => return k.saturating_sub(1),
            _ => {}
        }
    }
    xml.len().saturating_sub(1)
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"_-.:".contains(&b)
}

/// An attribute in a start tag: its name's and its value's byte ranges (the value without its
/// quotes) and the whole `NAME="value"`.
#[derive(Clone, Debug)]
pub struct Attribute {
    pub name: std::ops::Range<usize>,
    pub value: std::ops::Range<usize>,
    pub whole: std::ops::Range<usize>,
}

pub fn attributes(xml: &[u8], e: &Element) -> Vec<Attribute> {
    let mut out = Vec::new();
    let mut k = e.name.end;
    let end = e.tag.end;
    while k < end {
        while k < end && !is_name_byte(xml[k]) {
            k += 1;
        }
        let name_start = k;
        while k < end && is_name_byte(xml[k]) {
            k += 1;
        }
        let name_end = k;
        if name_end == name_start || k >= end || xml[k] != b'=' {
            continue;
        }
        k += 1;
        let Some(&q) = xml.get(k).filter(|&&b| b == b'"' || b == b'\'') else { continue };
        let value_start = k + 1;
        let Some(value_end) = (value_start..end).find(|&j| xml[j] == q) else { break };
        out.push(Attribute { name: name_start..name_end, value: value_start..value_end, whole: name_start..value_end + 1 });
        k = value_end + 1;
    }
    out
}

fn s(xml: &[u8], r: std::ops::Range<usize>) -> String {
    String::from_utf8_lossy(&xml[r]).into_owned()
}

fn splice(xml: &mut Vec<u8>, r: std::ops::Range<usize>, with: &[u8]) {
    xml.splice(r, with.iter().copied());
}

/// Text escaped for an XML attribute or text node.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Element names RevMan writes, for renaming into (and a few it does not).
const NAMES: &[&str] = &[
    "DICH_OUTCOME", "CONT_OUTCOME", "IV_OUTCOME", "IPD_OUTCOME", "OTHER_OUTCOME", "DICH_DATA", "CONT_DATA", "IV_DATA", "IPD_DATA", "OTHER_DATA",
    "DICH_SUBGROUP", "CONT_SUBGROUP", "COMPARISON", "STUDY", "REFERENCE", "NAME", "P", "B", "I", "U", "SUP", "SUB", "BR", "LINK", "A", "TABLE", "TR", "TD",
    "TH", "OL", "UL", "LI", "TITLE", "SUBSECTION", "HEADING", "QUALITY_ITEM", "QUALITY_ITEM_DATA_ENTRY", "INCLUDED_CHAR", "FIGURE", "XYZ_OUTCOME",
    "COCHRANE_REVIEW", "X", "",
];

/// Attribute names that hold numbers, where wrong numbers go most often.
const NUMERIC_ATTRS: &[&str] = &[
    "EVENTS_1", "EVENTS_2", "TOTAL_1", "TOTAL_2", "MEAN_1", "MEAN_2", "SD_1", "SD_2", "SE", "EFFECT_SIZE", "LOG_EFFECT_SIZE", "CI_START", "CI_END", "VAR",
    "O_E", "WEIGHT", "ORDER", "CI_TOTAL", "CI_STUDY", "NO", "DF", "CHI2", "I2", "TAU2", "Z", "P_Z", "STUDIES", "COLSPAN", "ROWSPAN", "YEAR",
];

/// Numbers for the numeric attributes: the fuzzer's edge numbers and RevMan's own spellings.
const NUMBERS: &[&str] = &["NaN", "Infinity", "-Infinity", "-1", "1e308", "-1e308", "4294967296", "99999999999999999999", "0", "-0", "1e-320", "0.0", "5", "", " ", "1,5", "YES"];

/// Markup that must stay text (XML-escaped when written).
const MARKUP: &[&str] = &[
    "{{ x }}", "{% if %}", "{#", "@fig-a1_1", "[@brink1951]", "$x$", "$$", "<script>alert(1)</script>", "\\", "`", "*", "_", "#", "| a |", "]]>", "-->",
    "&", "\u{7}\u{1b}", "\u{202e}", "a\u{0}b", "```metabook analysis", "\n```\n", "\n---\n", "\n# H\n", "<!--", "}}", "%}",
];

/// `_xHHHH_` escapes RevMan writes into ids, good and broken.
const NAME_ESCAPES: &[&str] = &["_x002d_", "_x0027_", "_x", "_x00", "_xZZZZ_", "_xD800_", "_x0000_", "_x0022_", "_x002f_", "_x002e__x002e_", "_x10FFFF_", "_xFFFFFFFF_", "_x1F600_", "_x_"];

/// Apply one mutation; what it did, or `None` if it found nothing to change.
pub fn mutate(rng: &mut Rng, xml: &mut Vec<u8>) -> Option<String> {
    let els = elements(xml);
    if els.is_empty() {
        return bytes(rng, xml);
    }
    let pick = |rng: &mut Rng, want: &dyn Fn(&str) -> bool| -> Option<Element> {
        let matching: Vec<&Element> = els.iter().filter(|e| want(&s(xml, e.name.clone()))).collect();
        (!matching.is_empty()).then(|| (*rng.pick(&matching)).clone())
    };
    let data = |n: &str| n.ends_with("_DATA") || n.ends_with("_OUTCOME") || n.ends_with("_SUBGROUP");
    match rng.below(20) {
        0 => {
            let e = pick(rng, &|_| true)?;
            let what = s(xml, e.name.clone());
            splice(xml, e.whole.clone(), b"");
            Some(format!("deleted an element <{what}>"))
        }
        1 => {
            let e = if rng.chance(0.5) { pick(rng, &data)? } else { pick(rng, &|_| true)? };
            let what = s(xml, e.name.clone());
            let copy = xml[e.whole.clone()].to_vec();
            let times = *rng.pick(&[1usize, 1, 2, 50, 500]);
            let at = e.whole.end;
            let all: Vec<u8> = copy.iter().copied().cycle().take(copy.len() * times).collect();
            splice(xml, at..at, &all);
            Some(format!("duplicated an element <{what}> ×{times}"))
        }
        2 => {
            let e = pick(rng, &|_| true)?;
            let old = s(xml, e.name.clone());
            let new = rng.pick(NAMES).to_string();
            if let Some(end) = e.end_name.clone() {
                if rng.chance(0.8) {
                    splice(xml, end, new.as_bytes());
                }
            }
            splice(xml, e.name.clone(), new.as_bytes());
            Some(format!("renamed an element <{old}> to <{new}>"))
        }
        3 | 4 | 5 => attribute(rng, xml, &els),
        6 => events_over_totals(rng, xml, &els),
        7 | 8 => text(rng, xml, &els),
        9 => {
            // Empty names: a study's NAME attribute, or a NAME element's text.
            let e = pick(rng, &|n| n == "STUDY" || n == "NAME" || n == "TITLE" || n == "COMPARISON")?;
            let what = s(xml, e.name.clone());
            if let Some(a) = attributes(xml, &e).into_iter().find(|a| matches!(&xml[a.name.clone()], b"NAME" | b"ID" | b"NO")) {
                let an = s(xml, a.name.clone());
                splice(xml, a.value, b"");
                Some(format!("emptied <{what} {an}>"))
            } else if e.end_name.is_some() {
                let inner = e.tag.end..e.whole.end - (e.end_name.as_ref()?.len() + 3);
                splice(xml, inner, b"");
                Some(format!("emptied <{what}>'s text"))
            } else {
                None
            }
        }
        10 | 11 => collide(rng, xml, &els),
        12 => {
            let e = pick(rng, &|_| true)?;
            let what = s(xml, e.name.clone());
            let a = attributes(xml, &e).into_iter().find(|a| matches!(&xml[a.name.clone()], b"ID" | b"STUDY_ID" | b"REF"));
            let esc = *rng.pick(NAME_ESCAPES);
            match a {
                Some(a) => {
                    let at = rng.between(a.value.start, a.value.end);
                    splice(xml, at..at, esc.as_bytes());
                    Some(format!("put `{esc}` into <{what} {}>", s(xml, a.name.clone())))
                }
                None => {
                    let at = e.tag.end.min(xml.len());
                    splice(xml, at..at, esc.as_bytes());
                    Some(format!("put `{esc}` after <{what}>"))
                }
            }
        }
        13 => encoding(rng, xml),
        14 => {
            // Deep nesting, inside a paragraph or a name.
            let e = pick(rng, &|n| n == "P" || n == "NAME" || n == "LI" || n == "TD" || n == "TITLE")?;
            let what = s(xml, e.name.clone());
            let tag = *rng.pick(&["B", "I", "P", "UL", "LI", "SUP", "TABLE", "SUBSECTION", "X"]);
            let depth = *rng.pick(&[100usize, 1000, 5000, 20000]);
            let mut deep = Vec::new();
            for _ in 0..depth {
                deep.extend_from_slice(format!("<{tag}>").as_bytes());
            }
            deep.extend_from_slice(b"deep");
            for _ in 0..depth {
                deep.extend_from_slice(format!("</{tag}>").as_bytes());
            }
            let at = e.tag.end;
            splice(xml, at..at, &deep);
            Some(format!("nested <{tag}> {depth} deep in <{what}>"))
        }
        15 => {
            let e = pick(rng, &|n| n == "P" || n == "NAME" || n == "TITLE" || n == "STUDY" || n == "TI" || n == "AU")?;
            let what = s(xml, e.name.clone());
            // Up to a megabyte of one piece: one word longer than the PDF writer's 64 KB runs,
            // a paragraph of a megabyte (typeset line by line, see render::typst), and
            // escapes that grow the chapter past what a build takes (the report says so).
            // Not yet a megabyte in a name or title: it becomes a heading (and its entry in
            // the contents and the PDF's bookmarks), which Typst takes 16-20 s and 3.5 GB to
            // set — an open finding of `build` (200 KB: 2.7 s).
            let piece = *rng.pick(&["word ", "x", "{{ ", "*", "é ", "éé", "a_b "]);
            let heading = matches!(what.as_str(), "NAME" | "TITLE");
            let len = *rng.pick(if heading { &[10_000usize, 50_000, 200_000][..] } else { &[10_000usize, 50_000, 200_000, 1_000_000][..] });
            let long = escape(&piece.repeat(len / piece.len()));
            let at = e.tag.end;
            splice(xml, at..at, long.as_bytes());
            Some(format!("{} bytes of `{piece}` in <{what}>", long.len()))
        }
        16 => {
            // An element moved into another place (a data row into the cover sheet …).
            let e = pick(rng, &data)?;
            let to = rng.pick(&els).clone();
            let (what, into) = (s(xml, e.name.clone()), s(xml, to.name.clone()));
            let copy = xml[e.whole.clone()].to_vec();
            let at = to.tag.end;
            if e.whole.contains(&at) {
                return None;
            }
            splice(xml, at..at, &copy);
            Some(format!("copied <{what}> into <{into}>"))
        }
        _ => bytes(rng, xml),
    }
}

fn attribute(rng: &mut Rng, xml: &mut Vec<u8>, els: &[Element]) -> Option<String> {
    let with: Vec<(&Element, Vec<Attribute>)> = els.iter().map(|e| (e, attributes(xml, e))).filter(|(_, a)| !a.is_empty()).collect();
    if with.is_empty() {
        return None;
    }
    // Numbers most of the time: a numeric attribute of a data element.
    let numeric: Vec<(&Element, Attribute)> = with.iter().flat_map(|(e, attrs)| attrs.iter().filter(|a| NUMERIC_ATTRS.contains(&s(xml, a.name.clone()).as_str())).map(move |a| (*e, a.clone()))).collect();
    if !numeric.is_empty() && rng.chance(0.6) {
        let (e, a) = rng.pick(&numeric).clone();
        let (what, an) = (s(xml, e.name.clone()), s(xml, a.name.clone()));
        let v = if rng.chance(0.8) { rng.pick(NUMBERS).to_string() } else { rng.pick(tokens::NUMBERS).to_string() };
        splice(xml, a.value, escape(&v).as_bytes());
        return Some(format!("<{what} {an}=\"{v}\">"));
    }
    let (e, attrs) = rng.pick(&with);
    let a = rng.pick(attrs).clone();
    let (what, an) = (s(xml, e.name.clone()), s(xml, a.name.clone()));
    match rng.below(4) {
        0 => {
            splice(xml, a.whole.start.saturating_sub(1)..a.whole.end, b"");
            Some(format!("deleted the attribute {an} of <{what}>"))
        }
        1 => {
            let copy = [b" ".as_slice(), &xml[a.whole.clone()]].concat();
            splice(xml, a.whole.end..a.whole.end, &copy);
            Some(format!("duplicated the attribute {an} of <{what}>"))
        }
        2 => {
            let new = *rng.pick(&["NAME", "ID", "STUDY_ID", "EFFECT_MEASURE", "METHOD", "TOTAL_1", "ESTIMABLE", "RANDOM", "X", "LOG_DATA", "SORT_BY", "TOTALS"]);
            splice(xml, a.name, new.as_bytes());
            Some(format!("renamed the attribute {an} of <{what}> to {new}"))
        }
        _ => {
            let v = *rng.pick(&["YES", "NO", "", "RR", "OR", "RD", "PETO_OR", "MD", "SMD", "MH", "PETO", "IV", "XX", "STUDY", "USER", "WEIGHT", "EFFECT_SIZE", "SUB", "NO", "INTERVENTION"]);
            let v = if rng.chance(0.3) { rng.pick(tokens::TEXT).to_string() } else { v.to_string() };
            splice(xml, a.value, escape(&v).as_bytes());
            Some(format!("<{what} {an}=\"{}\">", crate::mutate::shorten(&v)))
        }
    }
}

/// A dichotomous row with more events than participants, or a continuous one with a negative
/// SD or no participants.
fn events_over_totals(rng: &mut Rng, xml: &mut Vec<u8>, els: &[Element]) -> Option<String> {
    let rows: Vec<&Element> = els.iter().filter(|e| matches!(&xml[e.name.clone()], b"DICH_DATA" | b"CONT_DATA")).collect();
    if rows.is_empty() {
        return None;
    }
    let e = (*rng.pick(&rows)).clone();
    let attrs = attributes(xml, &e);
    let get = |n: &str| attrs.iter().find(|a| &xml[a.name.clone()] == n.as_bytes()).cloned();
    let arm = *rng.pick(&["1", "2"]);
    if &xml[e.name.clone()] == b"DICH_DATA" {
        let (ev, total) = (get(&format!("EVENTS_{arm}"))?, get(&format!("TOTAL_{arm}"))?);
        let t: f64 = s(xml, total.value.clone()).trim().parse().ok()?;
        let v = format!("{}", t + *rng.pick(&[1.0, 100.0, 0.5]));
        splice(xml, ev.value, v.as_bytes());
        Some(format!("events {v} over the arm's total {t}"))
    } else {
        let (key, v) = *rng.pick(&[("SD", "-1"), ("SD", "0"), ("TOTAL", "0"), ("TOTAL", "1"), ("TOTAL", "-3"), ("TOTAL", "2.5")]);
        let a = get(&format!("{key}_{arm}"))?;
        splice(xml, a.value, v.as_bytes());
        Some(format!("a continuous row's {key}_{arm} = {v}"))
    }
}

/// Markup or control characters in a text node (XML-escaped, so still well-formed, or not).
fn text(rng: &mut Rng, xml: &mut Vec<u8>, els: &[Element]) -> Option<String> {
    let closed: Vec<&Element> = els.iter().filter(|e| e.end_name.is_some()).collect();
    if closed.is_empty() {
        return None;
    }
    let e = *rng.pick(&closed);
    let what = s(xml, e.name.clone());
    let m = if rng.chance(0.8) { rng.pick(MARKUP).to_string() } else { rng.pick(tokens::TEXT).to_string() };
    // Control characters other than tab and newline are not XML 1.0: sometimes raw (the file is
    // then refused), mostly as a character reference (also not XML 1.0: refused too).
    let bytes = if rng.chance(0.85) { escape(&m) } else { m.clone() };
    let at = e.tag.end.min(xml.len());
    splice(xml, at..at, bytes.as_bytes());
    Some(format!("text `{}` in <{what}>", crate::mutate::shorten(&m)))
}

/// Two studies, comparisons, outcomes or references made to share an id, a name or a number;
/// a data row pointed at another (or no) study.
fn collide(rng: &mut Rng, xml: &mut Vec<u8>, els: &[Element]) -> Option<String> {
    let (tag, attr): (&[u8], &[u8]) = *rng.pick(&[
        (b"STUDY".as_slice(), b"ID".as_slice()),
        (b"STUDY", b"NAME"),
        (b"COMPARISON", b"NO"),
        (b"COMPARISON", b"ID"),
        (b"DICH_OUTCOME", b"NO"),
        (b"DICH_OUTCOME", b"ID"),
        (b"DICH_DATA", b"STUDY_ID"),
        (b"CONT_DATA", b"STUDY_ID"),
        (b"REFERENCE", b"ID"),
        (b"QUALITY_ITEM", b"ID"),
        (b"DICH_SUBGROUP", b"NO"),
    ]);
    let found: Vec<Attribute> = els.iter().filter(|e| &xml[e.name.clone()] == tag).filter_map(|e| attributes(xml, e).into_iter().find(|a| &xml[a.name.clone()] == attr)).collect();
    if found.is_empty() {
        return None;
    }
    let to = rng.pick(&found).clone();
    let value = if rng.chance(0.8) && found.len() > 1 {
        s(xml, rng.pick(&found).value.clone())
    } else {
        rng.pick(&["STD-Nobody-1900", "", "1", "0", "-1", "1.1", "STD-", "CMP-001"]).to_string()
    };
    let names = (String::from_utf8_lossy(tag).into_owned(), String::from_utf8_lossy(attr).into_owned());
    splice(xml, to.value, value.as_bytes());
    Some(format!("<{} {}=\"{}\"> (shared or unknown)", names.0, names.1, crate::mutate::shorten(&value)))
}

/// The declared encoding changed, or bytes that the declared encoding does not allow.
fn encoding(rng: &mut Rng, xml: &mut Vec<u8>) -> Option<String> {
    match rng.below(4) {
        0 => {
            let decl_end = if xml.starts_with(b"<?xml") { find(xml, 0, b"?>").map(|e| e + 2)? } else { 0 };
            let enc = *rng.pick(&["UTF-8", "ISO-8859-1", "windows-1252", "UTF-16", "latin1", "ebcdic", "", "utf-8\" encoding=\"ISO-8859-1"]);
            let decl = format!("<?xml version=\"1.0\" encoding=\"{enc}\"?>");
            splice(xml, 0..decl_end, decl.as_bytes());
            Some(format!("declared the encoding `{enc}`"))
        }
        1 => {
            let bad = *rng.pick(&[b"\xff\xfe".as_slice(), b"\xc3", b"\xe2\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf", b"\x80", b"\x00"]);
            let at = rng.below(xml.len() + 1);
            splice(xml, at..at, bad);
            Some(format!("bytes {bad:02x?} at {at}"))
        }
        2 => {
            let bom: &[u8] = *rng.pick(&[b"\xEF\xBB\xBF".as_slice(), b"\xFF\xFE".as_slice(), b"\xFE\xFF\x00<".as_slice()]);
            splice(xml, 0..0, bom);
            Some(format!("a byte-order mark {bom:02x?}"))
        }
        _ => {
            // A character entity (valid, out of range, or a surrogate).
            let e = *rng.pick(&["&#233;", "&#xD800;", "&#0;", "&#x110000;", "&#1;", "&nbsp;", "&amp", "&#99999999999;", "&unknown;"]);
            let els = elements(xml);
            let closed: Vec<&Element> = els.iter().filter(|e| e.end_name.is_some()).collect();
            let at = if closed.is_empty() { xml.len() } else { rng.pick(&closed).tag.end };
            splice(xml, at..at, e.as_bytes());
            Some(format!("the entity `{e}` in a text"))
        }
    }
}

/// Byte-level: truncation, a flipped or deleted byte, a copied slice.
pub fn bytes(rng: &mut Rng, xml: &mut Vec<u8>) -> Option<String> {
    if xml.is_empty() {
        return None;
    }
    let at = rng.below(xml.len());
    match rng.below(4) {
        0 => {
            xml.truncate(at);
            Some(format!("truncated at byte {at}"))
        }
        1 => {
            let b = xml[at];
            xml[at] = *rng.pick(&[b'<', b'>', b'&', b'"', b'/', 0, 0xff, b ^ 0x20]);
            Some(format!("byte {at} changed"))
        }
        2 => {
            let n = rng.between(1, 64.min(xml.len() - at));
            xml.drain(at..at + n);
            Some(format!("{n} bytes deleted at {at}"))
        }
        _ => {
            let from = rng.below(xml.len());
            let n = rng.between(1, 2000.min(xml.len() - from));
            let piece = xml[from..from + n].to_vec();
            splice(xml, at..at, &piece);
            Some(format!("{n} bytes copied to {at}"))
        }
    }
}

/// The seed made smaller: its figures (base64 images) and all but its first `keep`
/// comparisons removed, so that an iteration on the large real review stays fast.
pub fn cut(xml: &[u8], keep: usize) -> Vec<u8> {
    let els = elements(xml);
    let mut drop: Vec<std::ops::Range<usize>> = els.iter().filter(|e| &xml[e.name.clone()] == b"FIGURE").map(|e| e.whole.clone()).collect();
    drop.extend(els.iter().filter(|e| &xml[e.name.clone()] == b"COMPARISON").skip(keep).map(|e| e.whole.clone()));
    drop.sort_by_key(|r| std::cmp::Reverse(r.start));
    let mut out = xml.to_vec();
    let mut last = usize::MAX;
    for r in drop {
        if r.end <= last {
            out.drain(r.clone());
            last = r.start;
        }
    }
    out
}

/// The scanner on an input whose answer is known, run at start-up.
pub fn self_check() {
    let xml = b"<?xml version=\"1.0\"?><A X=\"1\" Y='a>b'><B/><C>t</C></A>";
    let els = elements(xml);
    let names: Vec<String> = els.iter().map(|e| s(xml, e.name.clone())).collect();
    assert_eq!(names, ["A", "B", "C"], "rm5 scanner: names");
    assert_eq!(s(xml, els[0].whole.clone()), "<A X=\"1\" Y='a>b'><B/><C>t</C></A>", "rm5 scanner: whole element");
    let attrs = attributes(xml, &els[0]);
    assert_eq!(attrs.iter().map(|a| s(xml, a.value.clone())).collect::<Vec<_>>(), ["1", "a>b"], "rm5 scanner: attributes");
}
