//! RevMan 5 review files (`.rm5`) read into a typed [`Review`].
//!
//! An `.rm5` file is XML whose root is `COCHRANE_REVIEW`: the cover sheet (title, authors), the
//! text of the review in RevMan's own inline markup (`P`, `B`, `I`, `OL`/`LI`, `TABLE`, `LINK`
//! …), the studies with their references, the characteristics of studies, the risk-of-bias
//! items (`QUALITY_ITEMS`), summary-of-findings tables, and `ANALYSES_AND_DATA`: comparisons →
//! outcomes (dichotomous, continuous, generic inverse variance, O – E, other data) → subgroups →
//! one row per study, each level carrying the results RevMan computed and stored (Deeks &
//! Higgins, *Statistical algorithms in Review Manager 5*, 2010, gives the formulas).
//!
//! Reading is pure: [`read`] takes the file's bytes and returns the review or located
//! diagnostics (not XML, not a RevMan review, a truncated file, an unknown outcome type). The
//! bytes are decoded as the XML declaration says (UTF-8, ISO-8859-1 or windows-1252), and the
//! XML name escapes RevMan writes into ids (`STD-El_x002d_Daher-1991`) are decoded. Numbers are
//! kept as the text RevMan stored, so that nothing is rounded on the way to the book.

use crate::diag::{Diagnostic, Source};
use roxmltree::{Document, Node, ParsingOptions};
use std::sync::Arc;

/// A whole RevMan review.
#[derive(Debug, Clone, Default)]
pub struct Review {
    pub title: String,
    pub authors: Vec<String>,
    /// RevMan's version as the file states it (`5.2.11`).
    pub revman_version: String,
    /// The text of the review: abstract, plain-language summary, background … in file order.
    pub text: Vec<Section>,
    pub studies: Vec<Study>,
    /// References that belong to no study (additional, other versions, pending).
    pub references: Vec<Reference>,
    pub quality_items: Vec<QualityItem>,
    pub characteristics: Vec<Characteristics>,
    /// Excluded studies' reasons for exclusion: (study id, reason).
    pub exclusions: Vec<(String, Vec<Block>)>,
    pub sof_tables: Vec<TitledTable>,
    pub additional_tables: Vec<TitledTable>,
    pub comparisons: Vec<Comparison>,
    pub figures: Vec<Figure>,
    /// What's new and history entries: (event, date, text).
    pub history: Vec<(String, String, Vec<Block>)>,
    /// Parts of the file the model does not hold, in words ("cover sheet: contact person").
    pub skipped: Vec<String>,
}

/// A part of the text, with its subsections.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Section {
    /// RevMan's element name (`BACKGROUND`), or `SUBSECTION`.
    pub tag: String,
    pub title: Vec<Inline>,
    pub blocks: Vec<Block>,
    pub children: Vec<Section>,
}

impl Section {
    /// Whether the section or any subsection holds any text.
    pub fn has_text(&self) -> bool {
        self.blocks.iter().any(Block::has_text) || self.children.iter().any(Section::has_text)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Paragraph(Vec<Inline>),
    List { ordered: bool, items: Vec<Vec<Block>> },
    Table(Table),
}

impl Block {
    pub fn has_text(&self) -> bool {
        match self {
            Block::Paragraph(i) => i.iter().any(Inline::has_text),
            Block::List { items, .. } => items.iter().flatten().any(Block::has_text),
            Block::Table(t) => t.rows.iter().flatten().flat_map(|c| &c.blocks).any(Block::has_text),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Inline {
    Text(String),
    Bold(Vec<Inline>),
    Italic(Vec<Inline>),
    Underline(Vec<Inline>),
    Sup(Vec<Inline>),
    Sub(Vec<Inline>),
    Break,
    /// A link inside the review: `kind` is RevMan's TYPE (`STUDY`, `REFERENCE`, `ANALYSIS`,
    /// `FIGURE`, `APPENDIX`, …), `target` its REF, decoded.
    Link { kind: String, target: String, content: Vec<Inline> },
    /// A web address (`A HREF`).
    Url { href: String, content: Vec<Inline> },
    /// Markup the reader does not know: its content is kept, the tag is reported.
    Other { tag: String, content: Vec<Inline> },
}

impl Inline {
    pub fn has_text(&self) -> bool {
        match self {
            Inline::Text(t) => !t.trim().is_empty(),
            Inline::Break => false,
            Inline::Bold(c) | Inline::Italic(c) | Inline::Underline(c) | Inline::Sup(c) | Inline::Sub(c) => c.iter().any(Inline::has_text),
            Inline::Link { content, .. } | Inline::Url { content, .. } | Inline::Other { content, .. } => content.iter().any(Inline::has_text),
        }
    }
}

/// The plain text of inline content (links by their text), whitespace collapsed.
pub fn plain(inlines: &[Inline]) -> String {
    fn walk(i: &[Inline], out: &mut String) {
        for x in i {
            match x {
                Inline::Text(t) => out.push_str(t),
                Inline::Break => out.push(' '),
                Inline::Bold(c) | Inline::Italic(c) | Inline::Underline(c) | Inline::Sup(c) | Inline::Sub(c) => walk(c, out),
                Inline::Link { content, .. } | Inline::Url { content, .. } | Inline::Other { content, .. } => walk(content, out),
            }
        }
    }
    let mut s = String::new();
    walk(inlines, &mut s);
    collapse(&s)
}

/// The plain text of blocks: paragraphs and list items joined with a space.
pub fn plain_blocks(blocks: &[Block]) -> String {
    let mut parts = Vec::new();
    for b in blocks {
        match b {
            Block::Paragraph(i) => parts.push(plain(i)),
            Block::List { items, .. } => parts.extend(items.iter().map(|i| plain_blocks(i))),
            Block::Table(t) => parts.extend(t.rows.iter().flatten().map(|c| plain_blocks(&c.blocks))),
        }
    }
    collapse(&parts.join(" "))
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub rows: Vec<Vec<TableCell>>,
}

impl Table {
    /// The cells laid out on a grid with their spans expanded: each cell, made by `cell`, stands
    /// at its first row and column, and `empty()` fills the places its spans cover. Rows are as
    /// long as their cells reach; they may differ in length.
    pub fn grid<'a, T>(&'a self, mut cell: impl FnMut(&'a TableCell) -> T, empty: impl Fn() -> T) -> Vec<Vec<T>> {
        let mut grid = Vec::with_capacity(self.rows.len());
        // Columns still covered by a row span above: (column, rows left).
        let mut pending: Vec<(usize, usize)> = Vec::new();
        for row in &self.rows {
            let mut out: Vec<T> = Vec::new();
            let mut cells = row.iter();
            loop {
                let col = out.len();
                if let Some(p) = pending.iter_mut().find(|(c, left)| *c == col && *left > 0) {
                    p.1 -= 1;
                    out.push(empty());
                    continue;
                }
                let Some(c) = cells.next() else { break };
                out.push(cell(c));
                for _ in 1..c.colspan {
                    out.push(empty());
                }
                if c.rowspan > 1 {
                    pending.extend((col..col + c.colspan).map(|c2| (c2, c.rowspan - 1)));
                }
            }
            pending.retain(|(_, left)| *left > 0);
            grid.push(out);
        }
        grid
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableCell {
    pub header: bool,
    pub colspan: usize,
    pub rowspan: usize,
    pub blocks: Vec<Block>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TitledTable {
    pub id: String,
    pub title: Vec<Inline>,
    pub table: Table,
    pub footnotes: Vec<Block>,
}

/// Where a study stands in the review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StudyStatus {
    Included,
    Excluded,
    Awaiting,
    Ongoing,
}

impl StudyStatus {
    pub fn heading(self) -> &'static str {
        match self {
            StudyStatus::Included => "Included studies",
            StudyStatus::Excluded => "Excluded studies",
            StudyStatus::Awaiting => "Studies awaiting classification",
            StudyStatus::Ongoing => "Ongoing studies",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Study {
    /// The id, decoded (`STD-El-Daher-1991`).
    pub id: String,
    /// The label RevMan shows (`El-Daher 1991`).
    pub name: String,
    pub year: String,
    pub status: StudyStatus,
    pub references: Vec<Reference>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reference {
    pub id: String,
    /// RevMan's short name of an additional reference (`ABS 1985`).
    pub name: String,
    /// RevMan's TYPE: JOURNAL_ARTICLE, BOOK, BOOK_SECTION, CONFERENCE_PROC, COCHRANE_REVIEW, …
    pub kind: String,
    pub primary: bool,
    pub authors: String,
    pub title: String,
    /// The original-language title (`TO`).
    pub title_original: String,
    /// The journal or book (`SO`).
    pub source: String,
    pub year: String,
    pub volume: String,
    pub issue: String,
    pub pages: String,
    pub edition: String,
    pub editors: String,
    pub publisher: String,
    pub city: String,
    pub identifiers: Vec<(String, String)>,
    /// Which list it comes from: `additional`, `other versions`, `pending`, or `study`.
    pub group: String,
}

impl Reference {
    /// True when the reference has no bibliographic detail at all (RevMan keeps empty ones).
    pub fn is_empty(&self) -> bool {
        self.authors.is_empty() && self.title.is_empty() && self.source.is_empty() && self.year.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct QualityItem {
    pub id: String,
    pub name: String,
    /// The item's groups of outcomes (LEVEL = GROUP): (group id, name).
    pub groups: Vec<(String, String)>,
    pub entries: Vec<QualityEntry>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct QualityEntry {
    pub study_id: String,
    pub group_id: Option<String>,
    /// RevMan's RESULT: YES (low risk of bias), NO (high risk), UNKNOWN (unclear).
    pub result: String,
    pub support: Vec<Block>,
}

/// One study's characteristics: (field title, text), in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct Characteristics {
    pub study_id: String,
    pub fields: Vec<(String, Vec<Block>)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub id: String,
    pub no: String,
    pub kind: String,
    pub filename: String,
    pub caption: Vec<Block>,
    /// The image, base64 as stored (PNG, JPEG …), and its type.
    pub file_type: String,
    pub data_base64: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub id: String,
    pub no: String,
    pub name: String,
    pub outcomes: Vec<Outcome>,
}

/// The five kinds of RevMan 5 outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeKind {
    /// `DICH_OUTCOME`: events and totals.
    Dichotomous,
    /// `CONT_OUTCOME`: means, SDs and totals.
    Continuous,
    /// `IV_OUTCOME`: generic inverse variance, an estimate and its SE per study.
    GenericInverseVariance,
    /// `OE_OUTCOME` / `IPD_OUTCOME`: observed minus expected and its variance.
    ObservedMinusExpected,
    /// `OTHER_OUTCOME`: other data, a table.
    Other,
}

impl OutcomeKind {
    fn from_tag(tag: &str) -> Option<(OutcomeKind, &'static str)> {
        Some(match tag {
            "DICH_OUTCOME" => (OutcomeKind::Dichotomous, "DICH"),
            "CONT_OUTCOME" => (OutcomeKind::Continuous, "CONT"),
            "IV_OUTCOME" => (OutcomeKind::GenericInverseVariance, "IV"),
            "OE_OUTCOME" => (OutcomeKind::ObservedMinusExpected, "OE"),
            "IPD_OUTCOME" => (OutcomeKind::ObservedMinusExpected, "IPD"),
            "OTHER_OUTCOME" => (OutcomeKind::Other, "OTHER"),
            _ => return None,
        })
    }
}

/// An element's attributes, as stored (names and values).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Attrs(pub Vec<(String, String)>);

impl Attrs {
    fn of(node: Node) -> Attrs {
        Attrs(node.attributes().map(|a| (a.name().to_string(), a.value().to_string())).collect())
    }

    /// The value as stored, if the attribute is there.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The value as stored, or "" if absent.
    pub fn text(&self, name: &str) -> &str {
        self.get(name).unwrap_or("")
    }

    /// The value as a finite number, if it is one.
    pub fn num(&self, name: &str) -> Option<f64> {
        self.get(name).and_then(|v| v.trim().parse::<f64>().ok()).filter(|x| x.is_finite())
    }

    pub fn yes(&self, name: &str) -> bool {
        self.text(name).eq_ignore_ascii_case("YES")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub kind: OutcomeKind,
    pub id: String,
    pub no: String,
    pub name: String,
    /// Every attribute of the outcome element: METHOD, EFFECT_MEASURE, RANDOM, TOTALS, CI_*,
    /// and the stored totals (EFFECT_SIZE, CI_START, …, Q, P_Q, I2_Q).
    pub attrs: Attrs,
    pub group_labels: (String, String),
    pub graph_labels: (String, String),
    /// The effect measure's name where it is an element (generic inverse variance:
    /// "Hazard Ratio"), else "".
    pub effect_measure_name: String,
    /// Subgroups, in file order; empty when the outcome has none.
    pub subgroups: Vec<Subgroup>,
    /// The study rows outside subgroups.
    pub rows: Vec<DataRow>,
    /// Column headings of other data (OTHER_OUTCOME), where the file gives them.
    pub columns: Vec<String>,
    /// Child elements the reader does not know, by name.
    pub unknown: Vec<String>,
}

impl Outcome {
    /// Every study row: those of each subgroup in order, then those outside subgroups.
    pub fn all_rows(&self) -> impl Iterator<Item = (Option<&Subgroup>, &DataRow)> {
        self.subgroups.iter().flat_map(|s| s.rows.iter().map(move |r| (Some(s), r))).chain(self.rows.iter().map(|r| (None, r)))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Subgroup {
    pub id: String,
    pub no: String,
    pub name: String,
    pub attrs: Attrs,
    pub rows: Vec<DataRow>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DataRow {
    /// The study id, decoded.
    pub study_id: String,
    pub attrs: Attrs,
    /// Child elements' text (other data: one per column), as (element name, text).
    pub cells: Vec<(String, String)>,
}

/// Read a RevMan 5 file. `name` is the path as the user should see it in diagnostics.
pub fn read(name: &str, bytes: &[u8]) -> Result<Review, Vec<Diagnostic>> {
    let text = decode(name, bytes)?;
    let source = Source::new(name, text);
    let options = ParsingOptions { allow_dtd: false, ..ParsingOptions::default() };
    let doc = Document::parse_with_options(&source.text, options).map_err(|e| vec![xml_error(&source, &e)])?;
    let root = doc.root_element();
    if root.tag_name().name() != "COCHRANE_REVIEW" {
        let span = tag_span(&source, root);
        return Err(vec![Diagnostic::error(format!("this is XML, but not a RevMan 5 review: its root element is `{}`", root.tag_name().name()))
            .at(&source, span, "a RevMan review starts with COCHRANE_REVIEW")
            .hint("metabook import reads the .rm5 files RevMan 5 saves")]);
    }
    Reader { source: &source, problems: Vec::new(), depth: 0, too_deep: false }.review(root)
}

/// The XML declaration's encoding, and the text decoded with it.
fn decode(name: &str, bytes: &[u8]) -> Result<String, Vec<Diagnostic>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // The declaration is ASCII in every encoding RevMan writes.
    let head: String = bytes.iter().take(200).take_while(|&&b| b != b'>').map(|&b| b as char).collect();
    let encoding = if head.starts_with("<?xml") {
        declared_encoding(&head)
    } else {
        None
    };
    let label = encoding.as_deref().unwrap_or("UTF-8").to_ascii_lowercase();
    match label.as_str() {
        "utf-8" | "utf8" => match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_string()),
            Err(e) => {
                let text = String::from_utf8_lossy(bytes).into_owned();
                let at = String::from_utf8_lossy(&bytes[..e.valid_up_to()]).len();
                let source = Source::new(name, text);
                let end = (at + 1).min(source.text.len());
                Err(vec![Diagnostic::error("the file is not valid UTF-8 text")
                    .at(&source, at..end, "this byte")
                    .hint(if encoding.is_some() { "the XML declaration says UTF-8; RevMan writes UTF-8 or ISO-8859-1" } else { "a RevMan file starts with <?xml version=\"1.0\" encoding=\"…\"?>" })])
            }
        },
        // ISO-8859-1 is read as windows-1252, as browsers (the WHATWG Encoding Standard) do:
        // the two agree on every printable character, and where ISO-8859-1 has invisible C1
        // controls (0x80–0x9F) a file written on Windows means curly quotes and dashes.
        "iso-8859-1" | "iso8859-1" | "latin1" | "latin-1" | "l1" | "iso-ir-100" | "windows-1252" | "cp1252" | "us-ascii" | "ascii" => Ok(decode_windows_1252(bytes)),
        other => {
            let text = String::from_utf8_lossy(bytes).into_owned();
            let at = text.find(other).or_else(|| text.to_ascii_lowercase().find(other)).unwrap_or(0);
            let source = Source::new(name, text);
            Err(vec![Diagnostic::error(format!("unsupported encoding `{}`", encoding.unwrap_or_default()))
                .at(&source, at..at + other.len(), "declared here")
                .hint("RevMan 5 writes UTF-8 or ISO-8859-1; metabook reads UTF-8, ISO-8859-1 and windows-1252")])
        }
    }
}

fn declared_encoding(head: &str) -> Option<String> {
    let at = head.find("encoding")?;
    let rest = head[at + "encoding".len()..].trim_start().strip_prefix('=')?.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &rest[1..];
    Some(value[..value.find(quote)?].to_string())
}

/// windows-1252 to text: ASCII and 0xA0–0xFF are the same code points; 0x80–0x9F are the
/// printable characters Windows puts there (five unassigned ones stay C1 controls, as in the
/// WHATWG table).
pub fn decode_windows_1252(bytes: &[u8]) -> String {
    const HIGH: [char; 32] = [
        '\u{20AC}', '\u{81}', '\u{201A}', '\u{0192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}', '\u{02C6}', '\u{2030}', '\u{0160}', '\u{2039}', '\u{0152}', '\u{8D}', '\u{017D}', '\u{8F}', '\u{90}', '\u{2018}', '\u{2019}',
        '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}', '\u{02DC}', '\u{2122}', '\u{0161}', '\u{203A}', '\u{0153}', '\u{9D}', '\u{017E}', '\u{0178}',
    ];
    bytes.iter().map(|&b| if (0x80..0xA0).contains(&b) { HIGH[(b - 0x80) as usize] } else { b as char }).collect()
}

/// Decode the XML name escapes `_xHHHH_` RevMan writes into ids (`_x002d_` is `-`).
pub fn decode_name(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    let mut rest = id;
    while let Some(at) = rest.find("_x") {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let hex = tail.get(2..6).filter(|h| h.chars().all(|c| c.is_ascii_hexdigit()));
        match (hex, tail.as_bytes().get(6)) {
            (Some(h), Some(b'_')) => match u32::from_str_radix(h, 16).ok().and_then(char::from_u32) {
                Some(c) => {
                    out.push(c);
                    rest = &tail[7..];
                }
                None => {
                    out.push_str("_x");
                    rest = &tail[2..];
                }
            },
            _ => {
                out.push_str("_x");
                rest = &tail[2..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn xml_error(source: &Arc<Source>, e: &roxmltree::Error) -> Diagnostic {
    let pos = e.pos();
    let at = offset_of(&source.text, pos.row as usize, pos.col as usize);
    let end = source.text[at..].chars().next().map_or(at, |c| at + c.len_utf8());
    let truncated = at >= source.text.trim_end().len() || matches!(e, roxmltree::Error::UnexpectedEndOfStream | roxmltree::Error::UnclosedRootNode);
    let what = e.to_string();
    if truncated {
        // Point at the file's last character, where it stops.
        let text = source.text.trim_end();
        let last = text.char_indices().last().map_or(0, |(i, _)| i);
        Diagnostic::error("the file ends before the review does: it is truncated")
            .at(source, last..text.len(), "the XML stops here")
            .hint(format!("the XML parser says: {what}; open the original in RevMan and save it again"))
    } else if source.text.trim_start().starts_with('<') {
        Diagnostic::error("the file is not well-formed XML").at(source, at..end, "here").hint(format!("the XML parser says: {what}"))
    } else {
        Diagnostic::error("the file is not XML, so it is not a RevMan 5 review")
            .at(source, at..end, "here")
            .hint("metabook import reads the .rm5 files RevMan 5 saves (XML starting with <?xml …?> and <COCHRANE_REVIEW>)")
    }
}

/// Byte offset of a 1-based row and column (in characters).
fn offset_of(text: &str, row: usize, col: usize) -> usize {
    let mut line_start = 0;
    for _ in 1..row.max(1) {
        match text[line_start..].find('\n') {
            Some(i) => line_start += i + 1,
            None => return text.len(),
        }
    }
    let line = &text[line_start..];
    line.char_indices().nth(col.saturating_sub(1)).map_or(text.len().min(line_start + line.len()), |(i, _)| line_start + i)
}

/// The span of an element's start tag name (`<NAME`), for diagnostics.
fn tag_span(source: &Source, node: Node) -> std::ops::Range<usize> {
    let start = node.range().start;
    let len = node.tag_name().name().len() + 1;
    start..(start + len).min(source.text.len())
}

struct Reader<'s> {
    source: &'s Arc<Source>,
    problems: Vec<Diagnostic>,
    /// How deep the markup being read is nested (blocks and inlines).
    depth: usize,
    /// Whether some markup was nested deeper than [`MAX_MARKUP_DEPTH`].
    too_deep: bool,
}

/// Markup nested deeper than this (lists in lists, bold in italic …) is read as its plain text:
/// RevMan writes a few levels, and the book's PDF nests lists and quotes at most 10 deep (a
/// list level is one or two here: the list, and its item if it has one).
pub const MAX_MARKUP_DEPTH: usize = 10;

fn child<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    node.children().find(|c| c.is_element() && c.tag_name().name() == name)
}

fn children<'a, 'i: 'a>(node: Node<'a, 'i>, name: &'a str) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    node.children().filter(move |c| c.is_element() && c.tag_name().name() == name)
}

fn elements<'a, 'i: 'a>(node: Node<'a, 'i>) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    node.children().filter(|c| c.is_element())
}

/// An element's text, whitespace collapsed.
fn text_of(node: Option<Node>) -> String {
    node.map(|n| collapse(&n.descendants().filter(|d| d.is_text()).map(|d| d.text().unwrap_or("")).collect::<String>())).unwrap_or_default()
}

fn attr(node: Node, name: &str) -> String {
    node.attribute(name).unwrap_or("").to_string()
}

/// Block-level elements of RevMan's markup.
fn is_block(name: &str) -> bool {
    matches!(name, "P" | "OL" | "UL" | "LIST" | "TABLE" | "BLOCKQUOTE" | "PRE")
}

impl Reader<'_> {
    fn review(mut self, root: Node) -> Result<Review, Vec<Diagnostic>> {
        let mut review = Review { revman_version: attr(root, "REVMAN_SUB_VERSION").trim().to_string(), ..Review::default() };
        for part in elements(root) {
            match part.tag_name().name() {
                "COVER_SHEET" => self.cover_sheet(part, &mut review),
                "MAIN_TEXT" => {
                    for s in elements(part) {
                        review.text.push(self.section(s));
                    }
                }
                "STUDIES_AND_REFERENCES" => self.studies_and_references(part, &mut review),
                "CHARACTERISTICS_OF_STUDIES" => self.characteristics(part, &mut review),
                "QUALITY_ITEMS" => review.quality_items = children(part, "QUALITY_ITEM").map(|q| self.quality_item(q)).collect(),
                "SOF_TABLES" => review.sof_tables = elements(part).map(|t| self.titled_table(t)).collect(),
                "ADDITIONAL_TABLES" => review.additional_tables = elements(part).map(|t| self.titled_table(t)).collect(),
                "ANALYSES_AND_DATA" => {
                    for c in elements(part) {
                        if c.tag_name().name() == "COMPARISON" {
                            let comparison = self.comparison(c);
                            review.comparisons.push(comparison);
                        } else {
                            review.skipped.push(format!("analyses: `{}` element", c.tag_name().name()));
                        }
                    }
                }
                "FIGURES" => review.figures = children(part, "FIGURE").map(|f| self.figure(f)).collect(),
                "APPENDICES" => {
                    if elements(part).next().is_some() {
                        let mut section = Section { tag: "APPENDICES".into(), title: vec![Inline::Text("Appendices".into())], ..Section::default() };
                        for a in children(part, "APPENDIX") {
                            let title = child(a, "TITLE").map(|t| self.inlines(t)).unwrap_or_default();
                            let mut title = title;
                            title.insert(0, Inline::Text(format!("Appendix {}. ", attr(a, "NO"))));
                            let mut s = child(a, "APPENDIX_BODY").map(|b| self.section(b)).unwrap_or_default();
                            s.tag = "APPENDIX".into();
                            s.title = title;
                            section.children.push(s);
                        }
                        review.text.push(section);
                    }
                }
                "FEEDBACK" => {
                    if elements(part).next().is_some() {
                        let mut section = Section { tag: "FEEDBACK".into(), title: vec![Inline::Text("Feedback".into())], ..Section::default() };
                        for item in children(part, "FEEDBACK_ITEM") {
                            let mut s = Section { tag: "FEEDBACK_ITEM".into(), title: child(item, "TITLE").map(|t| self.inlines(t)).unwrap_or_default(), ..Section::default() };
                            if !s.title.iter().any(Inline::has_text) {
                                s.title = vec![Inline::Text(format!("Feedback {}", attr(item, "NO")))];
                            }
                            for p in elements(item).filter(|e| e.tag_name().name() != "TITLE") {
                                s.children.push(self.section(p));
                            }
                            section.children.push(s);
                        }
                        review.text.push(section);
                    }
                }
                "EXTENSIONS" => {
                    if elements(part).next().is_some() {
                        review.skipped.push("extensions (EXTENSIONS): RevMan's additional review data".into());
                    }
                }
                other => review.skipped.push(format!("`{other}` element of the review")),
            }
        }
        if self.too_deep {
            review.skipped.push(format!("markup nested more than {MAX_MARKUP_DEPTH} levels deep: the deeper levels are kept as plain text"));
        }
        if self.problems.is_empty() {
            Ok(review)
        } else {
            Err(self.problems)
        }
    }

    fn cover_sheet(&mut self, node: Node, review: &mut Review) {
        for part in elements(node) {
            match part.tag_name().name() {
                "TITLE" => review.title = text_of(Some(part)),
                "CREATORS" => {
                    for p in children(part, "PERSON") {
                        let name = [text_of(child(p, "FIRST_NAME")), text_of(child(p, "MIDDLE_INITIALS")), text_of(child(p, "LAST_NAME"))]
                            .into_iter()
                            .filter(|s| !s.is_empty())
                            .collect::<Vec<_>>()
                            .join(" ");
                        if !name.is_empty() {
                            review.authors.push(name);
                        }
                    }
                }
                "WHATS_NEW" | "HISTORY" => {
                    for e in children(part, "WHATS_NEW_ENTRY") {
                        let date = child(e, "DATE").map(|d| {
                            let (y, m, d) = (attr(d, "YEAR"), attr(d, "MONTH"), attr(d, "DAY"));
                            match (y.is_empty(), m.is_empty(), d.is_empty()) {
                                (false, false, false) => format!("{y}-{m:0>2}-{d:0>2}"),
                                (false, false, true) => format!("{y}-{m:0>2}"),
                                _ => y,
                            }
                        });
                        let text = child(e, "DESCRIPTION").map(|d| self.blocks(d)).unwrap_or_default();
                        let event = attr(e, "EVENT").replace('_', " ").to_lowercase();
                        review.history.push((event, date.unwrap_or_default(), text));
                    }
                }
                "CONTACT" => review.skipped.push("cover sheet: the contact person's details".into()),
                "DATES" => review.skipped.push("cover sheet: the review's dates (up to date, last search, next stage, published)".into()),
                "SOURCES_OF_SUPPORT" => {
                    let names: Vec<String> = part.descendants().filter(|d| d.has_tag_name("SOURCE")).map(|s| text_of(child(s, "NAME"))).filter(|n| !n.is_empty()).collect();
                    if !names.is_empty() {
                        review.skipped.push(format!("cover sheet: sources of support ({})", names.join("; ")));
                    }
                }
                "MESH_TERMS" | "KEYWORDS" => {
                    if elements(part).next().is_some() {
                        review.skipped.push(format!("cover sheet: {}", if part.has_tag_name("KEYWORDS") { "keywords" } else { "MeSH terms" }));
                    }
                }
                "CONTACT_PERSON" => review.skipped.push("cover sheet: the contact person's details".into()),
                other => {
                    if part.has_children() {
                        review.skipped.push(format!("cover sheet: `{other}`"))
                    }
                }
            }
        }
    }

    /// A structural part of the text: its own paragraphs, and each structural child (or
    /// SUBSECTION) as a subsection.
    fn section(&mut self, node: Node) -> Section {
        let tag = node.tag_name().name().to_string();
        let mut section = Section { title: vec![Inline::Text(section_title(&tag))], tag, ..Section::default() };
        for c in node.children() {
            if !c.is_element() {
                if let Some(t) = c.text().filter(|t| !t.trim().is_empty()) {
                    section.blocks.push(Block::Paragraph(vec![Inline::Text(t.to_string())]));
                }
                continue;
            }
            let name = c.tag_name().name();
            match name {
                "HEADING" => section.title = self.inlines(c),
                "TITLE" => section.children.push(Section { tag: "TITLE".into(), title: self.inlines(c), ..Section::default() }),
                n if is_block(n) => section.blocks.extend(self.block(c)),
                "SUBSECTION" => {
                    let mut s = self.section(c);
                    if s.title == vec![Inline::Text(section_title("SUBSECTION"))] {
                        s.title = Vec::new();
                    }
                    section.children.push(s);
                }
                _ if is_inline(name) => section.blocks.push(Block::Paragraph(self.inlines_of(std::iter::once(c)))),
                _ => section.children.push(self.section(c)),
            }
        }
        section
    }

    /// The blocks inside an element (paragraphs, lists, tables); loose text becomes a paragraph.
    fn blocks(&mut self, node: Node) -> Vec<Block> {
        if self.depth >= MAX_MARKUP_DEPTH {
            self.too_deep = true;
            return vec![Block::Paragraph(vec![Inline::Text(text_of(Some(node)))])];
        }
        self.depth += 1;
        let out = self.blocks_within(node);
        self.depth -= 1;
        out
    }

    fn blocks_within(&mut self, node: Node) -> Vec<Block> {
        let mut out = Vec::new();
        let mut loose: Vec<Node> = Vec::new();
        for c in node.children() {
            if c.is_element() && is_block(c.tag_name().name()) {
                self.flush(&mut loose, &mut out);
                out.extend(self.block(c));
            } else if c.is_element() && !is_inline(c.tag_name().name()) {
                self.flush(&mut loose, &mut out);
                out.extend(self.blocks(c));
            } else {
                loose.push(c);
            }
        }
        self.flush(&mut loose, &mut out);
        out
    }

    fn flush(&mut self, loose: &mut Vec<Node>, out: &mut Vec<Block>) {
        if loose.is_empty() {
            return;
        }
        let inlines = self.inlines_of(loose.drain(..));
        if inlines.iter().any(Inline::has_text) {
            out.push(Block::Paragraph(inlines));
        }
    }

    fn block(&mut self, node: Node) -> Vec<Block> {
        if self.depth >= MAX_MARKUP_DEPTH {
            self.too_deep = true;
            return vec![Block::Paragraph(vec![Inline::Text(text_of(Some(node)))])];
        }
        self.depth += 1;
        let out = self.block_within(node);
        self.depth -= 1;
        out
    }

    fn block_within(&mut self, node: Node) -> Vec<Block> {
        match node.tag_name().name() {
            "P" | "BLOCKQUOTE" | "PRE" => {
                // A paragraph may hold a list or table (RevMan allows it): split around them.
                if elements(node).any(|c| is_block(c.tag_name().name())) {
                    self.blocks(node)
                } else {
                    vec![Block::Paragraph(self.inlines(node))]
                }
            }
            "OL" | "UL" | "LIST" => {
                let ordered = node.has_tag_name("OL") || attr(node, "TYPE").to_uppercase().contains("NUMBER");
                let mut items: Vec<Vec<Block>> = Vec::new();
                for c in node.children() {
                    if !c.is_element() {
                        continue;
                    }
                    let name = c.tag_name().name();
                    if name == "LI" {
                        items.push(self.blocks(c));
                    } else if is_block(name) {
                        // A nested list stands beside the items in RevMan: it belongs to the item before.
                        let nested = self.block(c);
                        match items.last_mut() {
                            Some(last) => last.extend(nested),
                            None => items.push(nested),
                        }
                    }
                }
                vec![Block::List { ordered, items }]
            }
            "TABLE" => vec![Block::Table(self.table(node))],
            _ => vec![Block::Paragraph(self.inlines(node))],
        }
    }

    fn table(&mut self, node: Node) -> Table {
        let mut table = Table::default();
        // The table's own rows (in THEAD, TBODY …), not those of a table inside a cell.
        let mut own_rows = Vec::new();
        let mut stack: Vec<Node> = elements(node).collect();
        stack.reverse();
        while let Some(e) = stack.pop() {
            if e.has_tag_name("TR") {
                own_rows.push(e);
            } else if !e.has_tag_name("TABLE") {
                let at = stack.len();
                stack.extend(elements(e));
                stack[at..].reverse();
            }
        }
        for tr in own_rows {
            let row = elements(tr)
                .filter(|c| c.has_tag_name("TD") || c.has_tag_name("TH"))
                .map(|c| TableCell {
                    header: c.has_tag_name("TH"),
                    colspan: c.attribute("COLSPAN").and_then(|s| s.trim().parse().ok()).unwrap_or(1).clamp(1, 100),
                    rowspan: c.attribute("ROWSPAN").and_then(|s| s.trim().parse().ok()).unwrap_or(1).clamp(1, 1000),
                    blocks: self.blocks(c),
                })
                .collect();
            table.rows.push(row);
        }
        table
    }

    fn inlines(&mut self, node: Node) -> Vec<Inline> {
        if self.depth >= MAX_MARKUP_DEPTH {
            self.too_deep = true;
            return vec![Inline::Text(text_of(Some(node)))];
        }
        self.depth += 1;
        let out = self.inlines_of(node.children());
        self.depth -= 1;
        out
    }

    fn inlines_of<'a, 'i: 'a>(&mut self, nodes: impl Iterator<Item = Node<'a, 'i>>) -> Vec<Inline> {
        let mut out = Vec::new();
        for c in nodes {
            if c.is_text() {
                out.push(Inline::Text(c.text().unwrap_or("").to_string()));
                continue;
            }
            if !c.is_element() {
                continue;
            }
            let content = |r: &mut Self| r.inlines(c);
            out.push(match c.tag_name().name() {
                "B" => Inline::Bold(content(self)),
                "I" => Inline::Italic(content(self)),
                "U" => Inline::Underline(content(self)),
                "SUP" => Inline::Sup(content(self)),
                "SUB" => Inline::Sub(content(self)),
                "BR" => Inline::Break,
                "LINK" => Inline::Link { kind: attr(c, "TYPE"), target: decode_name(&attr(c, "REF")), content: content(self) },
                "A" => Inline::Url { href: attr(c, "HREF"), content: content(self) },
                other => Inline::Other { tag: other.to_string(), content: content(self) },
            });
        }
        out
    }

    fn studies_and_references(&mut self, node: Node, review: &mut Review) {
        for part in elements(node) {
            match part.tag_name().name() {
                "STUDIES" => {
                    for list in elements(part) {
                        let status = match list.tag_name().name() {
                            "INCLUDED_STUDIES" => StudyStatus::Included,
                            "EXCLUDED_STUDIES" => StudyStatus::Excluded,
                            "AWAITING_STUDIES" => StudyStatus::Awaiting,
                            "ONGOING_STUDIES" => StudyStatus::Ongoing,
                            other => {
                                review.skipped.push(format!("studies: `{other}` list"));
                                continue;
                            }
                        };
                        for s in children(list, "STUDY") {
                            review.studies.push(Study {
                                id: decode_name(&attr(s, "ID")),
                                name: collapse(&attr(s, "NAME")),
                                year: attr(s, "YEAR"),
                                status,
                                references: children(s, "REFERENCE").map(|r| reference(r, "study")).collect(),
                            });
                        }
                    }
                }
                "OTHER_REFERENCES" => {
                    for list in elements(part) {
                        let group = match list.tag_name().name() {
                            "ADDITIONAL_REFERENCES" => "additional",
                            "OTHER_VERSIONS_REFERENCES" => "other versions",
                            "PENDING_REFERENCES" => "pending",
                            _ => "other",
                        };
                        review.references.extend(children(list, "REFERENCE").map(|r| reference(r, group)));
                    }
                }
                other => review.skipped.push(format!("studies and references: `{other}`")),
            }
        }
    }

    fn characteristics(&mut self, node: Node, review: &mut Review) {
        for part in elements(node) {
            match part.tag_name().name() {
                "CHARACTERISTICS_OF_INCLUDED_STUDIES" => {
                    for c in children(part, "INCLUDED_CHAR") {
                        let fields = elements(c).map(|f| (characteristic_title(f.tag_name().name()), self.blocks(f))).collect();
                        review.characteristics.push(Characteristics { study_id: decode_name(&attr(c, "STUDY_ID")), fields });
                    }
                    for other in elements(part).filter(|c| !c.has_tag_name("INCLUDED_CHAR")) {
                        let text = plain_blocks(&self.blocks(other));
                        if !text.is_empty() {
                            review.skipped.push(format!("characteristics of included studies, {}: {text}", section_title(other.tag_name().name()).to_lowercase()));
                        }
                    }
                }
                "CHARACTERISTICS_OF_EXCLUDED_STUDIES" => {
                    for c in children(part, "EXCLUDED_CHAR") {
                        let reason = child(c, "CHAR_REASON_FOR_EXCLUSION").map(|r| self.blocks(r)).unwrap_or_default();
                        review.exclusions.push((decode_name(&attr(c, "STUDY_ID")), reason));
                    }
                }
                other => {
                    let studies = elements(part).filter(|c| c.has_attribute("STUDY_ID")).count();
                    if studies > 0 {
                        review.skipped.push(format!("{} ({studies} studies)", section_title(other)));
                    }
                }
            }
        }
    }

    fn quality_item(&mut self, node: Node) -> QualityItem {
        QualityItem {
            id: attr(node, "ID"),
            name: text_of(child(node, "NAME")),
            groups: children(node, "QUALITY_ITEM_DATA_ENTRY_GROUP").map(|g| (attr(g, "ID"), text_of(child(g, "NAME")))).collect(),
            entries: child(node, "QUALITY_ITEM_DATA")
                .map(|d| {
                    children(d, "QUALITY_ITEM_DATA_ENTRY")
                        .map(|e| QualityEntry {
                            study_id: decode_name(&attr(e, "STUDY_ID")),
                            group_id: e.attribute("GROUP_ID").map(str::to_string),
                            result: attr(e, "RESULT"),
                            support: child(e, "DESCRIPTION").map(|x| self.blocks(x)).unwrap_or_default(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    fn titled_table(&mut self, node: Node) -> TitledTable {
        TitledTable {
            id: attr(node, "ID"),
            title: child(node, "TITLE").map(|t| self.inlines(t)).unwrap_or_default(),
            table: child(node, "TABLE").map(|t| self.table(t)).unwrap_or_default(),
            footnotes: child(node, "FOOTNOTES").map(|f| self.blocks(f)).unwrap_or_default(),
        }
    }

    fn figure(&mut self, node: Node) -> Figure {
        Figure {
            id: attr(node, "ID"),
            no: attr(node, "NO"),
            kind: attr(node, "TYPE"),
            filename: attr(node, "FILENAME"),
            caption: child(node, "CAPTION").map(|c| self.blocks(c)).unwrap_or_default(),
            file_type: attr(node, "FILE_TYPE"),
            data_base64: child(node, "FILE").and_then(|f| f.text()).unwrap_or("").chars().filter(|c| !c.is_whitespace()).collect(),
        }
    }

    fn comparison(&mut self, node: Node) -> Comparison {
        let mut comparison = Comparison { id: decode_name(&attr(node, "ID")), no: attr(node, "NO"), name: text_of(child(node, "NAME")), outcomes: Vec::new() };
        for c in elements(node) {
            let tag = c.tag_name().name();
            if tag == "NAME" {
                continue;
            }
            match OutcomeKind::from_tag(tag) {
                Some((kind, prefix)) => comparison.outcomes.push(self.outcome(c, kind, prefix)),
                None => {
                    let span = tag_span(self.source, c);
                    self.problems.push(
                        Diagnostic::error(format!("unknown outcome type `{tag}` in comparison {}", comparison.no))
                            .at(self.source, span, "metabook does not know this outcome type")
                            .hint("RevMan 5 outcomes are DICH_OUTCOME, CONT_OUTCOME, IV_OUTCOME, OE_OUTCOME (IPD_OUTCOME) and OTHER_OUTCOME"),
                    );
                }
            }
        }
        comparison
    }

    fn outcome(&mut self, node: Node, kind: OutcomeKind, prefix: &str) -> Outcome {
        let data_tag = format!("{prefix}_DATA");
        let subgroup_tag = format!("{prefix}_SUBGROUP");
        let mut outcome = Outcome {
            kind,
            id: decode_name(&attr(node, "ID")),
            no: attr(node, "NO"),
            name: text_of(child(node, "NAME")),
            attrs: Attrs::of(node),
            group_labels: (text_of(child(node, "GROUP_LABEL_1")), text_of(child(node, "GROUP_LABEL_2"))),
            graph_labels: (text_of(child(node, "GRAPH_LABEL_1")), text_of(child(node, "GRAPH_LABEL_2"))),
            effect_measure_name: text_of(child(node, "EFFECT_MEASURE")),
            subgroups: Vec::new(),
            rows: Vec::new(),
            columns: Vec::new(),
            unknown: Vec::new(),
        };
        for c in elements(node) {
            let tag = c.tag_name().name();
            if tag == data_tag {
                outcome.rows.push(data_row(c));
            } else if tag == subgroup_tag {
                outcome.subgroups.push(Subgroup {
                    id: decode_name(&attr(c, "ID")),
                    no: attr(c, "NO"),
                    name: text_of(child(c, "NAME")),
                    attrs: Attrs::of(c),
                    rows: children(c, &data_tag).map(data_row).collect(),
                });
            } else if matches!(tag, "NAME" | "GROUP_LABEL_1" | "GROUP_LABEL_2" | "GRAPH_LABEL_1" | "GRAPH_LABEL_2" | "EFFECT_MEASURE") {
            } else if kind == OutcomeKind::Other && tag.contains("COLUMN") {
                outcome.columns.extend(elements(c).map(|h| text_of(Some(h))));
                if outcome.columns.is_empty() {
                    outcome.columns.push(text_of(Some(c)));
                }
            } else {
                outcome.unknown.push(tag.to_string());
            }
        }
        outcome
    }
}

fn data_row(node: Node) -> DataRow {
    DataRow {
        study_id: decode_name(&attr(node, "STUDY_ID")),
        attrs: Attrs::of(node),
        cells: {
            // Cells by position: a repeated element name (`COL`, `COL`) is numbered (`COL_2`).
            let mut seen: Vec<String> = Vec::new();
            elements(node)
                .map(|c| {
                    let name = c.tag_name().name().to_string();
                    let n = seen.iter().filter(|s| **s == name).count();
                    seen.push(name.clone());
                    (if n == 0 { name } else { format!("{name}_{}", n + 1) }, text_of(Some(c)))
                })
                .collect()
        },
    }
}

fn reference(node: Node, group: &str) -> Reference {
    let t = |name: &str| text_of(child(node, name));
    Reference {
        id: decode_name(&attr(node, "ID")),
        name: collapse(&attr(node, "NAME")),
        kind: attr(node, "TYPE"),
        primary: attr(node, "PRIMARY").eq_ignore_ascii_case("YES"),
        authors: t("AU"),
        title: t("TI"),
        title_original: t("TO"),
        source: t("SO"),
        year: t("YR"),
        volume: t("VL"),
        issue: t("NO"),
        pages: t("PG"),
        edition: t("ED"),
        editors: t("EN"),
        publisher: t("PB"),
        city: t("CY"),
        identifiers: child(node, "IDENTIFIERS")
            .map(|ids| children(ids, "IDENTIFIER").map(|i| (attr(i, "TYPE"), attr(i, "VALUE"))).filter(|(_, v)| !v.is_empty()).collect())
            .unwrap_or_default(),
        group: group.to_string(),
    }
}

fn is_inline(name: &str) -> bool {
    matches!(name, "B" | "I" | "U" | "SUP" | "SUB" | "BR" | "LINK" | "A")
}

/// The heading Cochrane reviews give each part of the text.
pub fn section_title(tag: &str) -> String {
    let known = match tag {
        "SUMMARY" => "Plain language summary",
        "SUMMARY_BODY" => "Summary",
        "ABSTRACT" => "Abstract",
        "ABS_BACKGROUND" => "Background",
        "ABS_OBJECTIVES" => "Objectives",
        "ABS_SEARCH_STRATEGY" => "Search methods",
        "ABS_SELECTION_CRITERIA" => "Selection criteria",
        "ABS_DATA_COLLECTION" => "Data collection and analysis",
        "ABS_RESULTS" => "Main results",
        "ABS_CONCLUSIONS" => "Authors' conclusions",
        "BODY" => "Review",
        "BACKGROUND" => "Background",
        "CONDITION" => "Description of the condition",
        "INTERVENTION" => "Description of the intervention",
        "THEORY" => "How the intervention might work",
        "IMPORTANCE" => "Why it is important to do this review",
        "OBJECTIVES" => "Objectives",
        "METHODS" => "Methods",
        "SELECTION_CRITERIA" => "Criteria for considering studies for this review",
        "CRIT_STUDIES" => "Types of studies",
        "CRIT_PARTICIPANTS" => "Types of participants",
        "CRIT_INTERVENTIONS" => "Types of interventions",
        "CRIT_OUTCOMES" => "Types of outcome measures",
        "CRIT_OUTCOMES_PRIMARY" => "Primary outcomes",
        "CRIT_OUTCOMES_SECONDARY" => "Secondary outcomes",
        "SEARCH_METHODS" => "Search methods for identification of studies",
        "ELECTRONIC_SEARCHES" => "Electronic searches",
        "OTHER_SEARCHES" => "Searching other resources",
        "DATA_COLLECTION" => "Data collection and analysis",
        "STUDY_SELECTION" => "Selection of studies",
        "DATA_EXTRACTION" => "Data extraction and management",
        "QUALITY_ASSESSMENT" => "Assessment of risk of bias in included studies",
        "EFFECT_MEASURES" => "Measures of treatment effect",
        "UNIT_OF_ANALYSIS" => "Unit of analysis issues",
        "MISSING_DATA" => "Dealing with missing data",
        "HETEROGENEITY_ASSESSMENT" => "Assessment of heterogeneity",
        "BIAS_ASSESSMENT" => "Assessment of reporting biases",
        "DATA_SYNTHESIS" => "Data synthesis",
        "SUBGROUP_ANALYSIS" => "Subgroup analysis and investigation of heterogeneity",
        "SENSITIVITY_ANALYSIS" => "Sensitivity analysis",
        "RESULTS" => "Results",
        "STUDY_DESCRIPTION" => "Description of studies",
        "SEARCH_RESULTS" => "Results of the search",
        "INCLUDED_STUDIES_DESCR" => "Included studies",
        "EXCLUDED_STUDIES_DESCR" => "Excluded studies",
        "STUDY_QUALITY" => "Risk of bias in included studies",
        "ALLOCATION" => "Allocation",
        "BLINDING" => "Blinding",
        "EXCLUSIONS" => "Incomplete outcome data",
        "SELECTIVE_REPORTING" => "Selective reporting",
        "OTHER_BIAS_SOURCES" => "Other potential sources of bias",
        "INTERVENTION_EFFECTS" => "Effects of interventions",
        "DISCUSSION" => "Discussion",
        "SUMMARY_OF_RESULTS" => "Summary of main results",
        "APPLICABILITY_OF_FINDINGS" => "Overall completeness and applicability of evidence",
        "QUALITY_OF_EVIDENCE" => "Quality of the evidence",
        "POTENTIAL_BIASES" => "Potential biases in the review process",
        "AGREEMENT" => "Agreements and disagreements with other studies or reviews",
        "CONCLUSIONS" => "Authors' conclusions",
        "IMPLICATIONS_PRACTICE" => "Implications for practice",
        "IMPLICATIONS_RESEARCH" => "Implications for research",
        "ACKNOWLEDGEMENTS" => "Acknowledgements",
        "CONFLICT_OF_INTEREST" => "Declarations of interest",
        "CONTRIBUTIONS" => "Contributions of authors",
        "PRO_REV_DIFF" => "Differences between protocol and review",
        "PUBLIC_NOTES" => "Notes",
        "FEEDBACK_SUMMARY" => "Summary",
        "FEEDBACK_REPLY" => "Reply",
        "FEEDBACK_CONTRIBUTORS" => "Contributors",
        "APPENDIX_BODY" => "Appendix",
        "CHARACTERISTICS_OF_AWAITING_STUDIES" => "Characteristics of studies awaiting classification",
        "CHARACTERISTICS_OF_ONGOING_STUDIES" => "Characteristics of ongoing studies",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_string();
    }
    // Unknown parts: the element name in words (`NEW_PART` → "New part").
    let words = tag.replace('_', " ").to_lowercase();
    let mut c = words.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

/// The column name of a characteristic (`CHAR_PARTICIPANTS` → `participants`).
fn characteristic_title(tag: &str) -> String {
    match tag {
        "CHAR_METHODS" => "methods".into(),
        "CHAR_PARTICIPANTS" => "participants".into(),
        "CHAR_INTERVENTIONS" => "interventions".into(),
        "CHAR_OUTCOMES" => "outcomes".into(),
        "CHAR_NOTES" => "notes".into(),
        other => other.strip_prefix("CHAR_").unwrap_or(other).to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_name_escapes_are_decoded() {
        assert_eq!(decode_name("STD-El_x002d_Daher-1991"), "STD-El-Daher-1991");
        assert_eq!(decode_name("STD-ISIS_x002d_2"), "STD-ISIS-2");
        assert_eq!(decode_name("STD-A_x0020_B"), "STD-A B");
        // Not an escape: kept as written.
        assert_eq!(decode_name("a_xZZ_b_x00_"), "a_xZZ_b_x00_");
        assert_eq!(decode_name("_x"), "_x");
    }

    #[test]
    fn iso_8859_1_is_decoded_as_the_declaration_says() {
        let bytes = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<COCHRANE_REVIEW><COVER_SHEET><TITLE>R\xe9my \x96 \xb5g</TITLE></COVER_SHEET></COCHRANE_REVIEW>";
        let review = read("x.rm5", bytes).unwrap();
        assert_eq!(review.title, "Rémy – µg");
        let utf8 = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><COCHRANE_REVIEW><COVER_SHEET><TITLE>Rémy</TITLE></COVER_SHEET></COCHRANE_REVIEW>";
        assert_eq!(read("x.rm5", utf8.as_bytes()).unwrap().title, "Rémy");
    }

    #[test]
    fn invalid_utf8_is_located() {
        let e = read("x.rm5", b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<COCHRANE_REVIEW>\xff</COCHRANE_REVIEW>").unwrap_err();
        assert_eq!(e[0].position().unwrap(), "x.rm5:2:18");
    }

    #[test]
    fn bad_inputs_are_located() {
        let e = read("x.rm5", b"study,n\nA,3\n").unwrap_err();
        assert!(e[0].message.contains("not XML"), "{e:?}");
        let e = read("x.rm5", b"<?xml version=\"1.0\"?>\n<html><body/></html>").unwrap_err();
        assert!(e[0].message.contains("not a RevMan 5 review"), "{e:?}");
        assert_eq!(e[0].position().unwrap(), "x.rm5:2:1");
        let e = read("x.rm5", b"<?xml version=\"1.0\"?>\n<COCHRANE_REVIEW><COVER_SHEET><TITLE>A").unwrap_err();
        assert!(e[0].message.contains("truncated"), "{e:?}");
        assert_eq!(e[0].position().unwrap(), "x.rm5:2:38");
        let e = read("x.rm5", b"<COCHRANE_REVIEW><ANALYSES_AND_DATA><COMPARISON NO=\"1\"><NAME>C</NAME>\n<XYZ_OUTCOME/></COMPARISON></ANALYSES_AND_DATA></COCHRANE_REVIEW>").unwrap_err();
        assert!(e[0].message.contains("unknown outcome type `XYZ_OUTCOME`"), "{e:?}");
        assert_eq!(e[0].position().unwrap(), "x.rm5:2:1");
    }

    #[test]
    fn markup_nested_without_end_is_read_as_text() {
        for tag in ["I", "UL", "P", "LI", "TABLE><TR><TD"] {
            let close: String = tag.split("><").collect::<Vec<_>>().into_iter().rev().map(|t| format!("</{t}>")).collect();
            let deep = format!("<{tag}>").repeat(1000) + "deep" + &close.repeat(1000);
            let xml = format!("<COCHRANE_REVIEW><MAIN_TEXT><BACKGROUND><P>x {deep}</P></BACKGROUND></MAIN_TEXT></COCHRANE_REVIEW>");
            let r = read("x.rm5", xml.as_bytes()).unwrap();
            assert!(r.skipped.iter().any(|s| s.contains("nested more than")), "{tag}: {:?}", r.skipped);
            fn depth(b: &[Block]) -> usize {
                fn inl(i: &[Inline]) -> usize {
                    i.iter().map(|x| match x {
                        Inline::Bold(c) | Inline::Italic(c) | Inline::Underline(c) | Inline::Sup(c) | Inline::Sub(c) => 1 + inl(c),
                        Inline::Link { content, .. } | Inline::Url { content, .. } | Inline::Other { content, .. } => 1 + inl(content),
                        _ => 0,
                    }).max().unwrap_or(0)
                }
                b.iter().map(|x| match x {
                    Block::Paragraph(i) => inl(i),
                    Block::List { items, .. } => 1 + items.iter().map(|i| depth(i)).max().unwrap_or(0),
                    Block::Table(t) => 1 + t.rows.iter().flatten().map(|c| depth(&c.blocks)).max().unwrap_or(0),
                }).max().unwrap_or(0)
            }
            let d = depth(&r.text[0].blocks);
            assert!(d <= 2 * MAX_MARKUP_DEPTH, "{tag}: nested {d} deep");
            assert!(plain_blocks(&r.text[0].blocks).contains("deep"), "{tag}: the text is kept");
        }
    }

    #[test]
    fn markup_is_read_into_blocks_and_inlines() {
        let xml = "<COCHRANE_REVIEW><MAIN_TEXT><BODY><OBJECTIVES><P>A <B>bold</B> <LINK REF=\"STD-El_x002d_Daher-1991\" TYPE=\"STUDY\">El-Daher 1991</LINK>.<BR/>I<SUP>2</SUP></P><OL><LI>one</LI><OL><LI>nested</LI></OL></OL></OBJECTIVES></BODY></MAIN_TEXT></COCHRANE_REVIEW>";
        let r = read("x.rm5", xml.as_bytes()).unwrap();
        let objectives = &r.text[0].children[0];
        assert_eq!(objectives.tag, "OBJECTIVES");
        let Block::Paragraph(p) = &objectives.blocks[0] else { panic!() };
        assert!(p.contains(&Inline::Link { kind: "STUDY".into(), target: "STD-El-Daher-1991".into(), content: vec![Inline::Text("El-Daher 1991".into())] }));
        assert!(p.contains(&Inline::Break));
        let Block::List { ordered: true, items } = &objectives.blocks[1] else { panic!() };
        assert_eq!(items.len(), 1);
        assert!(matches!(items[0][1], Block::List { .. }));
    }
}
