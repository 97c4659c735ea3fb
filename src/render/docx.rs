//! The Word output: the book as a `.docx` a journal's editor can edit, drawn from the same
//! prepared chapters as the site and the PDF; the figures are PNGs that Typst draws as in the
//! PDF ([`super::typst::figure_png`]), the formulas Office Math from the same syntax tree as the
//! PDF's and the site's ([`super::math::to_omml`]).
//!
//! The file format is docx-rs's (the most used Rust writer). What it lacks, this module adds
//! after it has written the file, in [`finish`]: the header row of a table repeated on every
//! page (`w:tblHeader`, which docx-rs cannot write: its header rows are written as rows that
//! may not split, and only they are), a figure's alternative text (`descr`, with a unique id
//! per drawing), the section's properties in the schema's order and its line numbers, the
//! equations (docx-rs has none: a run holding a marker stands for each until then), and each
//! footnote's own number (`w:footnoteRef`, without which Word shows a footnote unnumbered).
//! docx-rs numbers footnotes, images and links from counters of the process, so a second build
//! in `serve` would number them differently: each is numbered here instead. It gives the
//! footnotes' part no relationships, so a link in a footnote keeps its address as text (a
//! citation's or cross-reference's link, to a bookmark, needs none). Text is cleaned of the
//! characters XML 1.0 cannot hold (control characters), which docx-rs writes as they are,
//! making a file Word refuses.
//!
//! Its styles are metabook's, or a book's `templates/reference.docx`'s where it has them.
//!
//! Not done: the figures' SVG beside their PNGs (Office 2016's `asvg:svgBlip`). Typst's SVG of
//! a figure holds its shapes as an SVG image inside the SVG, which neither LibreOffice (it
//! shows the PNG) nor anything here can check Word draws.

use super::chapter::{placeholder_number, table_cell, PreparedChapter, View};
use super::cite::{self, Inline, Piece, Run as StyledRun};
use crate::book::Book;
use crate::config::DocxOutput;
use crate::diag::Diagnostic;
use docx_rs::{
    AbstractNumbering, AlignmentType, BreakType, Docx, FieldCharType, Footnote, Hyperlink, HyperlinkType, IndentLevel, InstrText, Level, LevelJc, LevelText,
    NumberFormat, Numbering, NumberingId, Paragraph, Run, RunFonts, Start, Style, StyleType, Table, TableCell, TableRow,
};
use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};

/// The abstract numbering of bullet lists and of numbered lists, and the first numbering
/// instance's id: above docx-rs's own default numbering (1).
const BULLETS: usize = 10;
const NUMBERS: usize = 11;
const FIRST_LIST: usize = 10;

/// The text's width on the page, in twentieths of a point.
const TEXT_WIDTH: usize = 9412;

/// The text's height on an A4 page with the PDF's margins, less room for a caption, in points:
/// a figure taller than this is set in its parts.
const PAGE_HEIGHT_PT: f64 = 620.0;

/// The images a figure is set as: the whole, or, for one taller than a page that has parts (a
/// forest plot of many studies), its heading and its bands, which Word sets across pages.
pub fn figure_pieces<'a>(svg: &'a str, parts: Option<&'a super::svg::Parts>) -> Vec<&'a str> {
    match parts {
        Some(parts) if super::typst::figure_height_pt(svg) > PAGE_HEIGHT_PT => std::iter::once(parts.head.as_str()).chain(parts.bands.iter().map(String::as_str)).collect(),
        _ => vec![svg],
    }
}

/// Text as XML 1.0 can hold it: control characters (but tab and line feed) and the
/// noncharacters U+FFFE and U+FFFF removed; so are U+FDD0–U+FDEF, noncharacters too, which
/// mark where a formula goes ([`formula_marker`]).
pub fn clean(text: &str) -> String {
    text.chars().filter(|&c| !(c < ' ' && c != '\t' && c != '\n') && c != '\u{fffe}' && c != '\u{ffff}' && !('\u{fdd0}'..='\u{fdef}').contains(&c)).collect()
}

/// Inline formatting in force.
#[derive(Debug, Clone, Copy, Default)]
struct Format {
    italic: u8,
    bold: u8,
    strike: u8,
    superscript: u8,
    subscript: u8,
}

/// A run of `text` in the formatting in force.
fn run(text: &str, f: Format) -> Run {
    let mut r = Run::new().add_text(clean(text));
    if f.italic > 0 {
        r = r.italic();
    }
    if f.bold > 0 {
        r = r.bold();
    }
    if f.strike > 0 {
        r = r.strike();
    }
    if f.superscript > 0 {
        r = r.style("Superscript");
    } else if f.subscript > 0 {
        r = r.style("Subscript");
    }
    r
}

/// A run of code, in the monospaced style.
fn code_run(text: &str) -> Run {
    Run::new().add_text(clean(text)).style("CodeChar")
}

/// The runs of a citation style's formatted text.
fn styled_runs(runs: &[StyledRun]) -> Vec<Run> {
    runs.iter()
        .map(|r| {
            let f = Format { italic: r.italic.into(), bold: r.bold.into(), superscript: r.superscript.into(), subscript: r.subscript.into(), ..Format::default() };
            run(&r.text, f)
        })
        .collect()
}

/// What the writer holds: the document's blocks, and the numbering of footnotes and lists.
struct Writer {
    /// The next footnote's id (Word's ids 0 and 1 are its separators).
    next_footnote: usize,
    /// One numbering instance per numbered list, so that each starts at its own start.
    numberings: Vec<(usize, u32)>,
    /// Figures in order, with their alternative text, for [`finish`].
    alt_texts: Vec<String>,
    /// Formulas in order, as Office Math, for [`finish`]: each is a run holding its marker
    /// ([`formula_marker`]) until then, as docx-rs writes no equations.
    formulas: Vec<String>,
    /// Links so far, for their relationship ids.
    links: usize,
    /// Whether a link may be a Word hyperlink: not in a footnote, whose part docx-rs gives no
    /// relationships (there the address follows the text).
    hyperlinks: bool,
    /// Whether citations and cross-references link to their targets (bookmarks on the
    /// captions and the reference list's entries): not in the plain-language summary's file,
    /// which has neither.
    anchors: bool,
    /// Bookmarks so far, for their ids.
    bookmarks: usize,
}

/// A table's row: its cells' paragraphs, and whether it is the header.
type Row = (Vec<Paragraph>, bool);

enum Block {
    Paragraph(Box<Paragraph>),
    Table(Box<Table>),
}

/// A paragraph being written, and where its runs go while a link is open.
struct Open {
    paragraph: Paragraph,
    link: Option<Hyperlink>,
}

impl Open {
    fn new(paragraph: Paragraph) -> Open {
        Open { paragraph, link: None }
    }

    fn add(&mut self, r: Run) {
        match self.link.take() {
            Some(link) => self.link = Some(link.add_run(r)),
            None => self.paragraph = std::mem::replace(&mut self.paragraph, Paragraph::new()).add_run(r),
        }
    }

    /// Runs linked to a bookmark of the document (a citation, a cross-reference), or plain
    /// inside a Markdown link, as a link holds no link.
    fn add_linked(&mut self, runs: Vec<Run>, bookmark: Option<String>) {
        match bookmark {
            Some(name) if self.link.is_none() => {
                let link = runs.into_iter().fold(Hyperlink::new(name, HyperlinkType::Anchor), Hyperlink::add_run);
                self.paragraph = std::mem::replace(&mut self.paragraph, Paragraph::new()).add_hyperlink(link);
            }
            _ => runs.into_iter().for_each(|r| self.add(r)),
        }
    }
}

/// The Word bookmark for an anchor of the book (`figure-2`, `table-1`, `ref-3`): hidden (its
/// name starts with `_`, as Word's own cross-references' do) and of the letters Word allows.
fn bookmark(anchor: &str) -> String {
    format!("_mb_{}", anchor.replace(|c: char| !c.is_ascii_alphanumeric(), "_"))
}

/// A figure's SVG as a PNG: (bytes, width and height in pixels, width and height in points).
pub type Png = (Vec<u8>, u32, u32, f64, f64);

/// The state of one Markdown text's walk (a chapter, a caption, a footnote's body).
struct Walk<'a> {
    /// A citation or cross-reference: its runs, and the bookmark it links to.
    inline: &'a dyn Fn(usize) -> (Vec<Run>, Option<String>),
    view: &'a dyn Fn(&mut Writer, usize) -> Vec<Block>,
    footnotes: &'a std::collections::HashMap<String, Vec<Paragraph>>,
}

/// The text of the run that stands for formula `n` until [`finish`] puts its equation there:
/// between two noncharacters (not those of [`cite::marker`]), which [`clean`] takes out of every
/// text, so no text can forge it.
fn formula_marker(n: usize) -> String {
    format!("\u{FDD4}{n}\u{FDD5}")
}

impl Writer {
    /// `p` as the target of `anchor`'s links: inside a bookmark.
    fn bookmarked(&mut self, mut p: Paragraph, anchor: &str) -> Paragraph {
        self.bookmarks += 1;
        p.children.insert(0, docx_rs::ParagraphChild::BookmarkStart(docx_rs::BookmarkStart::new(self.bookmarks, bookmark(anchor))));
        p.add_bookmark_end(self.bookmarks)
    }

    /// A run standing for `latex` as a Word equation (a paragraph of its own when `display`),
    /// or None if metabook cannot read the formula.
    fn formula(&mut self, latex: &str, display: bool) -> Option<Run> {
        let omml = crate::render::math::to_omml(latex, display)?;
        self.formulas.push(omml);
        Some(Run::new().add_text(formula_marker(self.formulas.len() - 1)))
    }

    fn new() -> Writer {
        Writer { links: 0, hyperlinks: true, anchors: true, bookmarks: 0, next_footnote: 2, numberings: Vec::new(), alt_texts: Vec::new(), formulas: Vec::new() }
    }

    /// A numbering instance for a new list.
    fn list(&mut self, start: Option<u64>) -> usize {
        let id = FIRST_LIST + self.numberings.len();
        self.numberings.push((if start.is_some() { NUMBERS } else { BULLETS }, start.unwrap_or(1).min(u64::from(u32::MAX)) as u32));
        id
    }

    /// Walk `md`, adding its blocks.
    fn markdown(&mut self, md: &str, walk: &Walk) -> Vec<Block> {
        let options = super::chapter::markdown_options();
        let mut out: Vec<Block> = Vec::new();
        let mut open: Option<Open> = None;
        let mut format = Format::default();
        // Lists open: (numbering instance, depth).
        let mut lists: Vec<usize> = Vec::new();
        let mut quote = 0usize;
        let mut code: Option<Vec<String>> = None;
        // A Markdown table: its rows of cells, each cell's paragraph, and whether in the head.
        let mut table: Option<(Vec<Row>, bool)> = None;
        let mut row: Vec<Paragraph> = Vec::new();
        // Inside a footnote's definition everything is skipped (written where it is cited).
        let mut in_definition = 0usize;
        let mut image_alt: Option<String> = None;
        // For each link open: the address to write after its text, where it cannot be a
        // hyperlink (an unsafe or empty one is its text only).
        let mut after_link: Vec<Option<String>> = Vec::new();
        let close = |open: &mut Option<Open>, out: &mut Vec<Block>, row: &mut Vec<Paragraph>, in_table: bool| {
            if let Some(mut o) = open.take() {
                if let Some(link) = o.link.take() {
                    o.paragraph = o.paragraph.add_hyperlink(link);
                }
                if in_table {
                    row.push(o.paragraph);
                } else {
                    out.push(Block::Paragraph(Box::new(o.paragraph)));
                }
            }
        };
        for (event, _) in cite::merge_text(Parser::new_ext(md, options).into_offset_iter()) {
            if in_definition > 0 {
                match event {
                    Event::Start(Tag::FootnoteDefinition(_)) => in_definition += 1,
                    Event::End(TagEnd::FootnoteDefinition) => in_definition -= 1,
                    _ => {}
                }
                continue;
            }
            let in_table = table.is_some();
            match event {
                Event::Start(tag) => match tag {
                    // Within an item, the item's own paragraph is open already.
                    Tag::Paragraph if open.is_none() => {
                        let p = if quote > 0 {
                            Paragraph::new().style("Quote")
                        } else if !lists.is_empty() {
                            // An item's later paragraph: under its text, unnumbered ([`numberings`]'
                            // indents).
                            Paragraph::new().style("ListParagraph").indent(Some(LIST_INDENT * lists.len().min(9) as i32), None, None, None)
                        } else {
                            Paragraph::new().style("Normal")
                        };
                        open = Some(Open::new(p));
                    }
                    Tag::Heading { level, .. } => {
                        let n = level as usize; // H1 is 1
                        open = Some(Open::new(Paragraph::new().style(&format!("Heading{n}"))));
                    }
                    Tag::BlockQuote(_) => quote += 1,
                    Tag::CodeBlock(_kind @ (CodeBlockKind::Fenced(_) | CodeBlockKind::Indented)) => code = Some(Vec::new()),
                    Tag::List(start) => {
                        close(&mut open, &mut out, &mut row, in_table);
                        lists.push(self.list(start));
                    }
                    Tag::Item => {
                        // A tight list's item has no paragraph: open one.
                        close(&mut open, &mut out, &mut row, in_table);
                        let id = *lists.last().unwrap_or(&0);
                        open = Some(Open::new(Paragraph::new().style("ListParagraph").numbering(NumberingId::new(id), IndentLevel::new(lists.len().saturating_sub(1).min(8)))));
                    }
                    Tag::Emphasis => format.italic += 1,
                    Tag::Strong => format.bold += 1,
                    Tag::Strikethrough => format.strike += 1,
                    Tag::Superscript => format.superscript += 1,
                    Tag::Subscript => format.subscript += 1,
                    Tag::Link { dest_url, .. } if !self.hyperlinks && super::chapter::safe_url(&dest_url) && !dest_url.is_empty() => {
                        after_link.push(Some(format!(" ({dest_url})")));
                    }
                    Tag::Link { dest_url, .. } if super::chapter::safe_url(&dest_url) && !dest_url.is_empty() => {
                        after_link.push(None);
                        let o = open.get_or_insert_with(|| Open::new(Paragraph::new()));
                        let mut link = Hyperlink::new(clean(&dest_url), HyperlinkType::External);
                        // docx-rs numbers links from a counter of the process: number them here,
                        // so that a rebuild in `serve` gives the same file.
                        self.links += 1;
                        if let docx_rs::HyperlinkData::External { rid, .. } = &mut link.link {
                            *rid = format!("rIdHyperlink{}", self.links);
                        }
                        o.link = Some(link);
                    }
                    // A link that could run code, or one without a target: its text only.
                    Tag::Link { .. } => after_link.push(None),
                    Tag::Image { .. } => image_alt = Some(String::new()),
                    Tag::Table(_) => {
                        close(&mut open, &mut out, &mut row, in_table);
                        table = Some((Vec::new(), false));
                    }
                    Tag::TableHead => {
                        if let Some(t) = table.as_mut() {
                            t.1 = true;
                        }
                    }
                    Tag::TableCell => open = Some(Open::new(Paragraph::new())),
                    Tag::FootnoteDefinition(_) => in_definition = 1,
                    _ => {}
                },
                Event::End(tag) => match tag {
                    TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::TableCell => close(&mut open, &mut out, &mut row, in_table),
                    TagEnd::Item => close(&mut open, &mut out, &mut row, in_table),
                    TagEnd::BlockQuote(_) => quote = quote.saturating_sub(1),
                    TagEnd::CodeBlock => {
                        let mut p = Paragraph::new().style("Code");
                        for (i, line) in code.take().unwrap_or_default().concat().trim_end_matches('\n').split('\n').enumerate() {
                            let mut r = code_run(line);
                            if i > 0 {
                                r = Run::new().add_break(BreakType::TextWrapping);
                                p = p.add_run(r);
                                r = code_run(line);
                            }
                            p = p.add_run(r);
                        }
                        out.push(Block::Paragraph(Box::new(p)));
                    }
                    TagEnd::List(_) => {
                        lists.pop();
                    }
                    TagEnd::Emphasis => format.italic = format.italic.saturating_sub(1),
                    TagEnd::Strong => format.bold = format.bold.saturating_sub(1),
                    TagEnd::Strikethrough => format.strike = format.strike.saturating_sub(1),
                    TagEnd::Superscript => format.superscript = format.superscript.saturating_sub(1),
                    TagEnd::Subscript => format.subscript = format.subscript.saturating_sub(1),
                    TagEnd::Link => {
                        if let Some(Some(address)) = after_link.pop() {
                            open.get_or_insert_with(|| Open::new(Paragraph::new())).add(run(&address, format));
                        }
                        if let Some(o) = open.as_mut() {
                            if let Some(link) = o.link.take() {
                                o.paragraph = std::mem::replace(&mut o.paragraph, Paragraph::new()).add_hyperlink(link);
                            }
                        }
                    }
                    // An image in the text: its alternative text, as the PDF shows a remote one.
                    TagEnd::Image => {
                        if let Some(alt) = image_alt.take() {
                            open.get_or_insert_with(|| Open::new(Paragraph::new())).add(run(&alt, format));
                        }
                    }
                    TagEnd::TableHead => {
                        if let Some(t) = table.as_mut() {
                            t.0.push((std::mem::take(&mut row), true));
                            t.1 = false;
                        }
                    }
                    TagEnd::TableRow => {
                        if let Some(t) = table.as_mut() {
                            t.0.push((std::mem::take(&mut row), false));
                        }
                    }
                    TagEnd::Table => {
                        if let Some((rows, _)) = table.take() {
                            out.push(Block::Table(Box::new(word_table(rows))));
                        }
                    }
                    _ => {}
                },
                Event::Text(t) => {
                    if let Some(alt) = image_alt.as_mut() {
                        alt.push_str(&t);
                    } else if let Some(lines) = code.as_mut() {
                        lines.push(t.to_string());
                    } else {
                        let o = open.get_or_insert_with(|| Open::new(Paragraph::new()));
                        for piece in cite::pieces(&t) {
                            match piece {
                                Piece::Text(t) => o.add(run(t, format)),
                                Piece::Ref(n) => {
                                    let (runs, target) = (walk.inline)(n);
                                    o.add_linked(runs, target.filter(|_| self.anchors));
                                }
                            }
                        }
                    }
                }
                Event::Code(t) => open.get_or_insert_with(|| Open::new(Paragraph::new())).add(code_run(&t)),
                // A formula as a Word equation; one metabook cannot read (as the PDF and the
                // site) as it was typed.
                Event::InlineMath(t) => {
                    let r = self.formula(&t, false).unwrap_or_else(|| code_run(&t));
                    open.get_or_insert_with(|| Open::new(Paragraph::new())).add(r);
                }
                Event::DisplayMath(t) => {
                    close(&mut open, &mut out, &mut row, in_table);
                    let p = match self.formula(&t, true) {
                        Some(r) => Paragraph::new().add_run(r),
                        None => Paragraph::new().style("Code").add_run(code_run(&t)),
                    };
                    out.push(Block::Paragraph(Box::new(p)));
                }
                Event::Html(h) | Event::InlineHtml(h) => {
                    if let Some(n) = placeholder_number(h.trim()) {
                        close(&mut open, &mut out, &mut row, in_table);
                        out.extend((walk.view)(self, n));
                    }
                }
                Event::SoftBreak => open.get_or_insert_with(|| Open::new(Paragraph::new())).add(run(" ", format)),
                Event::HardBreak => open.get_or_insert_with(|| Open::new(Paragraph::new())).add(Run::new().add_break(BreakType::TextWrapping)),
                Event::Rule => {
                    close(&mut open, &mut out, &mut row, in_table);
                    out.push(Block::Paragraph(Box::new(Paragraph::new().style("Rule"))));
                }
                Event::FootnoteReference(label) => {
                    let o = open.get_or_insert_with(|| Open::new(Paragraph::new()));
                    match walk.footnotes.get(label.as_ref()) {
                        Some(body) => {
                            let id = self.next_footnote;
                            self.next_footnote += 1;
                            let note = Footnote { id, content: body.clone() };
                            o.add(Run::new().add_footnote_reference(note));
                        }
                        None => o.add(run(&label, Format { superscript: 1, ..format })),
                    }
                }
                Event::TaskListMarker(done) => open.get_or_insert_with(|| Open::new(Paragraph::new())).add(run(if done { "☑ " } else { "☐ " }, format)),
            }
        }
        close(&mut open, &mut out, &mut row, false);
        out
    }
}

/// A Word table from rows of cells (one paragraph each); rows marked `true` are the header,
/// repeated on every page ([`finish`]).
fn word_table(rows: Vec<Row>) -> Table {
    let columns = rows.iter().map(|(cells, _)| cells.len()).max().unwrap_or(1).max(1);
    let rows: Vec<TableRow> = rows
        .into_iter()
        .map(|(cells, head)| {
            let row = TableRow::new(cells.into_iter().map(|p| TableCell::new().add_paragraph(p)).collect());
            if head {
                row.cant_split()
            } else {
                row
            }
        })
        .collect();
    // The columns share the text's width (A4 with 2.2 cm margins, in twentieths of a point).
    Table::new(rows).style("MetabookTable").set_grid(vec![TEXT_WIDTH / columns; columns]).width(TEXT_WIDTH, docx_rs::WidthType::Dxa)
}

/// A caption: "Table 1. …" with the number as Word's SEQ field, so that Word renumbers it when
/// a table is added, and the same number as the PDF's.
fn caption(kind: &str, number: usize, text: Vec<Run>) -> Paragraph {
    let mut p = Paragraph::new()
        .style("Caption")
        .add_run(Run::new().add_text(format!("{kind} ")))
        .add_run(Run::new().add_field_char(FieldCharType::Begin, false))
        .add_run(Run::new().add_instr_text(InstrText::Unsupported(format!(" SEQ {kind} \\* ARABIC "))))
        .add_run(Run::new().add_field_char(FieldCharType::Separate, false))
        .add_run(Run::new().add_text(number.to_string()))
        .add_run(Run::new().add_field_char(FieldCharType::End, false))
        .add_run(Run::new().add_text(". "));
    for r in text {
        p = p.add_run(r);
    }
    p
}

/// The styles of a reference document (a book's `templates/reference.docx`, as pandoc takes
/// one): read from its bytes, for the Word file to use instead of its own where it has them.
pub fn reference_styles(name: &str, bytes: &[u8]) -> Result<docx_rs::Styles, Vec<Diagnostic>> {
    let unreadable = |why: String| vec![Diagnostic::error(format!("{name} is not a Word document metabook can read: {why}")).hint("save it from Word or LibreOffice as a .docx; only its styles are used")];
    // A damaged file must be an error, not a crash: docx-rs's reader unwraps what its zip and
    // XML readers return (a changed byte in a compressed part panicked on its checksum), so
    // every part is read, checksum and XML, before it sees the file; its panics are caught too.
    intact(bytes).map_err(unreadable)?;
    let read = std::panic::catch_unwind(|| docx_rs::read_docx(bytes).map(|d| d.styles));
    match read {
        Ok(Ok(styles)) => Ok(styles),
        Ok(Err(e)) => Err(unreadable(e.to_string())),
        Err(_) => Err(unreadable("its reader failed".to_string())),
    }
}

/// Whether a .docx is a zip file whose every part reads whole (its checksum right) and whose
/// XML parts are well-formed XML.
fn intact(bytes: &[u8]) -> Result<(), String> {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| e.to_string())?;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| e.to_string())?;
        let name = entry.name().to_string();
        let mut content = Vec::new();
        entry.read_to_end(&mut content).map_err(|e| format!("{name}: {e}"))?;
        if name.ends_with(".xml") || name.ends_with(".rels") {
            let text = std::str::from_utf8(&content).map_err(|e| format!("{name}: {e}"))?;
            roxmltree::Document::parse(text).map_err(|e| format!("{name}: {e}"))?;
        }
    }
    Ok(())
}

/// The document's styles: a reference document's where it has them, else metabook's own, clean
/// and journal-neutral. Word's own names, so that its navigation pane and a table of contents
/// see the headings.
fn styles(docx: Docx, reference: Option<&docx_rs::Styles>) -> Docx {
    let Some(reference) = reference else { return own_styles(docx) };
    let own = own_styles(Docx::new()).styles.styles;
    let mut styles = reference.clone();
    for style in own {
        if styles.find_style_by_id(&style.style_id).is_none() {
            styles = styles.add_style(style);
        }
    }
    docx.styles(styles)
}

fn own_styles(docx: Docx) -> Docx {
    // Headings with space above and below, kept with what follows them.
    let heading = |n: usize, size: usize| {
        let mut style = Style::new(format!("Heading{n}"), StyleType::Paragraph)
            .name(format!("heading {n}"))
            .based_on("Normal")
            .next("Normal")
            .bold()
            .size(size)
            .outline_lvl(n - 1)
            .line_spacing(docx_rs::LineSpacing::new().before(if n == 1 { 360 } else { 240 }).after(120));
        style.paragraph_property = style.paragraph_property.keep_next(true);
        style
    };
    // A manuscript's defaults, journal-neutral: Times New Roman 12 pt (which every Word has;
    // LibreOffice sets it in the metric-compatible Liberation Serif), 6 pt after a paragraph;
    // tables and captions at 10 pt.
    let serif = RunFonts::new().ascii("Times New Roman").hi_ansi("Times New Roman").cs("Times New Roman");
    docx.default_fonts(serif).default_size(24).default_line_spacing(docx_rs::LineSpacing::new().after(120)).add_style(Style::new("Title", StyleType::Paragraph).name("Title").based_on("Normal").bold().size(40).align(AlignmentType::Center))
        .add_style(Style::new("Subtitle", StyleType::Paragraph).name("Subtitle").based_on("Normal").size(24).align(AlignmentType::Center))
        .add_style(heading(1, 32))
        .add_style(heading(2, 28))
        .add_style(heading(3, 24))
        .add_style(heading(4, 22))
        .add_style(heading(5, 22))
        .add_style(heading(6, 22))
        .add_style(Style::new("Figure", StyleType::Paragraph).name("Figure").based_on("Normal"))
        .add_style(Style::new("Caption", StyleType::Paragraph).name("caption").based_on("Normal").size(20))
        .add_style(Style::new("Quote", StyleType::Paragraph).name("Quote").based_on("Normal").italic())
        .add_style(Style::new("Code", StyleType::Paragraph).name("Code").based_on("Normal").fonts(RunFonts::new().ascii("Courier New").hi_ansi("Courier New")).size(20))
        .add_style(Style::new("CodeChar", StyleType::Character).name("Code Char").fonts(RunFonts::new().ascii("Courier New").hi_ansi("Courier New")))
        .add_style(vertical("Superscript", docx_rs::VertAlignType::SuperScript))
        .add_style(vertical("Subscript", docx_rs::VertAlignType::SubScript))
        .add_style(Style::new("ListParagraph", StyleType::Paragraph).name("List Paragraph").based_on("Normal"))
        .add_style(Style::new("Rule", StyleType::Paragraph).name("Rule").based_on("Normal"))
        .add_style(Style::new("Bibliography", StyleType::Paragraph).name("Bibliography").based_on("Normal").size(20))
        .add_style(Style::new("TableNote", StyleType::Paragraph).name("Table note").based_on("Normal").size(16))
        .add_style(Style::new("FootnoteText", StyleType::Paragraph).name("footnote text").based_on("Normal").size(20))
        .add_style(vertical("FootnoteReference", docx_rs::VertAlignType::SuperScript).name("footnote reference"))
        .add_style(Style::new("MetabookTable", StyleType::Table).name("metabook table").size(20))
}

/// A character style raising or lowering its text.
fn vertical(name: &str, align: docx_rs::VertAlignType) -> Style {
    let mut style = Style::new(name, StyleType::Character).name(name);
    style.run_property = style.run_property.vert_align(align);
    style
}

/// How far each level of a list is indented, in twentieths of a point (a quarter inch).
const LIST_INDENT: i32 = 360;

/// The abstract numberings of bullet and numbered lists, nine levels each.
fn numberings(mut docx: Docx, instances: &[(usize, u32)]) -> Docx {
    for (id, format, text) in [(BULLETS, "bullet", "•"), (NUMBERS, "decimal", "")] {
        let mut a = AbstractNumbering::new(id);
        for level in 0..9 {
            let text = if text.is_empty() { format!("%{}.", level + 1) } else { text.to_string() };
            a = a.add_level(Level::new(level, Start::new(1), NumberFormat::new(format), LevelText::new(text), LevelJc::new("left")).indent(
                Some(LIST_INDENT * (level as i32 + 1)),
                Some(docx_rs::SpecialIndentType::Hanging(LIST_INDENT)),
                None,
                None,
            ));
        }
        docx = docx.add_abstract_numbering(a);
    }
    for (n, (abstract_id, start)) in instances.iter().enumerate() {
        let mut numbering = Numbering::new(FIRST_LIST + n, *abstract_id);
        if *abstract_id == NUMBERS {
            numbering = numbering.add_override(docx_rs::LevelOverride::new(0).start(*start as usize));
        }
        docx = docx.add_numbering(numbering);
    }
    docx
}

/// The whole book as a Word document's bytes; `figure` draws a figure's SVG as a PNG.
pub fn document(book: &Book, chapters: &[PreparedChapter], figure: &dyn Fn(&str) -> Result<Png, String>, reference: Option<&docx_rs::Styles>) -> Result<Vec<u8>, Vec<Diagnostic>> {
    let options = book.config.output.docx.unwrap_or_default();
    let meta = &book.config.book;
    let mut writer = Writer::new();
    // The title page: title, authors, description, as the PDF's.
    let mut body: Vec<Block> = vec![Block::Paragraph(Box::new(Paragraph::new().style("Title").add_run(Run::new().add_text(clean(&meta.title)))))];
    if !meta.authors.is_empty() {
        body.push(Block::Paragraph(Box::new(Paragraph::new().style("Subtitle").add_run(Run::new().add_text(clean(&meta.authors.join(", ")))))));
    }
    if let Some(d) = &meta.description {
        body.push(Block::Paragraph(Box::new(Paragraph::new().style("Subtitle").add_run(Run::new().add_text(clean(d)).italic()))));
    }
    for chapter in chapters {
        let mut blocks = chapter_blocks(&mut writer, chapter, figure);
        // Each chapter on a new page, as in the PDF (the first after the title page).
        if let Some(Block::Paragraph(p)) = blocks.first_mut() {
            **p = std::mem::replace(&mut **p, Paragraph::new()).page_break_before(true);
        }
        body.append(&mut blocks);
    }
    pack(writer, body, reference, options)
}

/// The plain-language summary as a Word file of its own: its page, then the line naming the
/// review it summarises (`colophon`), as its PDF has them.
pub fn summary_document(summary: &PreparedChapter, colophon: &str, reference: Option<&docx_rs::Styles>, options: DocxOutput) -> Result<Vec<u8>, Vec<Diagnostic>> {
    let mut writer = Writer::new();
    writer.anchors = false;
    let mut body = chapter_blocks(&mut writer, summary, &|_| Err("the summary has no figures".to_string()));
    body.push(Block::Paragraph(Box::new(Paragraph::new().style("Caption").add_run(run(colophon, Format::default())))));
    pack(writer, body, reference, options)
}

/// One chapter's blocks: its Markdown walked, its views drawn, its footnotes written where they
/// are cited.
fn chapter_blocks(writer: &mut Writer, chapter: &PreparedChapter, figure: &dyn Fn(&str) -> Result<Png, String>) -> Vec<Block> {
    let inline = |n: usize| -> (Vec<Run>, Option<String>) {
        match chapter.inlines.get(n).and_then(Option::as_ref) {
            Some(Inline::Citation { runs, target }) => (styled_runs(runs), Some(bookmark(&target.anchor))),
            Some(Inline::CrossRef { text, target }) => (vec![run(text, Format::default())], Some(bookmark(&target.anchor))),
            None => (Vec::new(), None),
        }
    };
    let no_notes = std::collections::HashMap::new();
    let plain = Walk { inline: &inline, view: &|_, _| Vec::new(), footnotes: &no_notes };
    // Footnotes: each definition's paragraphs, written where it is first cited.
    let mut footnotes = std::collections::HashMap::new();
    writer.hyperlinks = false;
    for (label, text) in definitions(&chapter.markdown) {
        let paragraphs: Vec<Paragraph> = writer.markdown(&text, &plain).into_iter().filter_map(|b| if let Block::Paragraph(p) = b { Some(p.style("FootnoteText")) } else { None }).collect();
        footnotes.insert(label, paragraphs);
    }
    writer.hyperlinks = true;
    let captions = |w: &mut Writer, text: &str| -> Vec<Run> {
        let blocks = w.markdown(text, &plain);
        blocks.into_iter().filter_map(|b| if let Block::Paragraph(p) = b { Some(*p) } else { None }).flat_map(|p| paragraph_runs(&p)).collect()
    };
    let view = |w: &mut Writer, n: usize| -> Vec<Block> { chapter.views.get(n).map_or_else(Vec::new, |v| view_blocks(w, v, &captions, figure)) };
    let walk = Walk { inline: &inline, view: &view, footnotes: &footnotes };
    writer.markdown(&chapter.markdown, &walk)
}

/// The document's blocks as a Word file: styles, lists' numbering, A4 pages with the PDF's
/// margins and page numbers, then what docx-rs cannot write ([`finish`]).
fn pack(writer: Writer, body: Vec<Block>, reference: Option<&docx_rs::Styles>, options: DocxOutput) -> Result<Vec<u8>, Vec<Diagnostic>> {
    // Page numbers at the foot of each page, centred (Word's PAGE field).
    let number = Paragraph::new()
        .align(AlignmentType::Center)
        .add_run(Run::new().add_field_char(FieldCharType::Begin, false))
        .add_run(Run::new().add_instr_text(InstrText::PAGE(docx_rs::InstrPAGE::new())))
        .add_run(Run::new().add_field_char(FieldCharType::Separate, false))
        .add_run(Run::new().add_text("1"))
        .add_run(Run::new().add_field_char(FieldCharType::End, false));
    // A4, with the PDF's margins (2.2 cm across, 2.5 cm down), in twentieths of a point.
    let margins = docx_rs::PageMargin::new().top(1417).bottom(1417).left(1247).right(1247);
    let mut docx = styles(Docx::new(), reference);
    if options.double_spacing {
        // Twice a single line (240 twentieths of a point).
        let spacing = docx_rs::LineSpacing::new().line(480).line_rule(docx_rs::LineSpacingType::Auto);
        docx = docx.default_line_spacing(if reference.is_none() { spacing.after(120) } else { spacing });
    }
    docx = docx.page_size(11906, 16838).page_margin(margins).footer(docx_rs::Footer::new().add_paragraph(number));
    docx = numberings(docx, &writer.numberings);
    for b in body {
        docx = match b {
            Block::Paragraph(p) => docx.add_paragraph(*p),
            Block::Table(t) => docx.add_table(*t),
        };
    }
    let mut bytes = std::io::Cursor::new(Vec::new());
    docx.build().pack(&mut bytes).map_err(|e| vec![Diagnostic::error(format!("the Word file could not be written: {e}"))])?;
    finish(&bytes.into_inner(), &writer.alt_texts, &writer.formulas, options.line_numbers).map_err(|e| vec![Diagnostic::error(format!("the Word file could not be written: {e}"))])
}

/// The runs of a paragraph (a caption's inline Markdown is one paragraph).
fn paragraph_runs(p: &Paragraph) -> Vec<Run> {
    p.children
        .iter()
        .filter_map(|c| match c {
            docx_rs::ParagraphChild::Run(r) => Some((**r).clone()),
            _ => None,
        })
        .collect()
}

/// The footnote definitions of a chapter's Markdown: (label, its text).
fn definitions(md: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current: Option<(String, usize)> = None;
    let mut depth = 0usize;
    for (event, span) in Parser::new_ext(md, super::chapter::markdown_options()).into_offset_iter() {
        match event {
            Event::Start(Tag::FootnoteDefinition(label)) => {
                if depth == 0 {
                    current = Some((label.to_string(), span.start));
                }
                depth += 1;
            }
            Event::End(TagEnd::FootnoteDefinition) => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    if let Some((label, start)) = current.take() {
                        let text = &md[start..span.end];
                        // The body after the `[^label]:` marker.
                        let body = text.split_once("]:").map_or(text, |(_, b)| b);
                        out.push((label, body.trim().to_string()));
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// A directive's view as Word blocks.
fn view_blocks(w: &mut Writer, v: &View, caption_runs: &dyn Fn(&mut Writer, &str) -> Vec<Run>, figure: &dyn Fn(&str) -> Result<Png, String>) -> Vec<Block> {
    match v {
        View::Nothing => Vec::new(),
        View::Figure { number, svg, caption: text, notes, parts, .. } => {
            let runs = caption_runs(w, text);
            let alt = super::pls::plain_text(text).trim().to_string();
            let mut out = Vec::new();
            // A figure taller than a page (a forest plot of many studies) is its parts, one
            // image each, which Word sets across pages as the PDF does.
            let pieces: Vec<(&str, Result<Png, String>)> = figure_pieces(svg, parts.as_ref()).into_iter().map(|s| (s, figure(s))).collect();
            let count = pieces.len();
            for (i, (_, png)) in pieces.into_iter().enumerate() {
                match png {
                    Ok((png, width_px, height_px, width_pt, height_pt)) => {
                        w.alt_texts.push(if i == 0 { alt.clone() } else { format!("{alt} (continued, part {} of {count})", i + 1) });
                        // English Metric Units: 12,700 to the point.
                        let mut pic = docx_rs::Pic::new_with_dimensions(png, width_px, height_px).size((width_pt * 12_700.0).round() as u32, (height_pt * 12_700.0).round() as u32);
                        pic.id = format!("rIdImage{}", w.alt_texts.len());
                        // The last image stays with the caption under it; the parts before may
                        // break across pages.
                        out.push(Block::Paragraph(Box::new(Paragraph::new().style("Figure").align(AlignmentType::Center).keep_next(i + 1 == count).add_run(Run::new().add_image(pic)))));
                    }
                    Err(why) => out.push(Block::Paragraph(Box::new(Paragraph::new().style("Normal").add_run(run(&format!("[The figure could not be drawn: {why}]"), Format::default()))))),
                }
            }
            let p = caption("Figure", *number, runs);
            out.push(Block::Paragraph(Box::new(w.bookmarked(p, &cite::figure_anchor(*number)))));
            out.extend(notes.iter().map(|n| Block::Paragraph(Box::new(Paragraph::new().style("Caption").add_run(run(n, Format::default()))))));
            out
        }
        View::Results { effect, method, k, lines } => {
            let mut out = vec![Block::Paragraph(Box::new(
                Paragraph::new().add_run(run(effect, Format { bold: 1, ..Format::default() })).add_run(run(&format!(" ({method}, {k} studies)"), Format::default())),
            ))];
            out.extend(lines.iter().map(|l| Block::Paragraph(Box::new(Paragraph::new().add_run(run(l, Format::default()))))));
            out
        }
        View::References { entries } => entries
            .iter()
            .map(|e| {
                let mut p = Paragraph::new().style("Bibliography");
                if let Some(label) = &e.label {
                    for r in styled_runs(label) {
                        p = p.add_run(r);
                    }
                    p = p.add_run(Run::new().add_tab());
                }
                for r in styled_runs(&e.runs) {
                    p = p.add_run(r);
                }
                Block::Paragraph(Box::new(w.bookmarked(p, &e.anchor)))
            })
            .collect(),
        View::Table { number, caption: text, headings, rows, notes, .. } => {
            let runs = caption_runs(w, text);
            let p = caption("Table", *number, runs).keep_next(true);
            let mut out = vec![Block::Paragraph(Box::new(w.bookmarked(p, &cite::table_anchor(*number))))];
            let head: Vec<Paragraph> = headings.iter().map(|h| Paragraph::new().add_run(run(h, Format { bold: 1, ..Format::default() }))).collect();
            let mut all = vec![(head, true)];
            for r in rows {
                let cells = r
                    .iter()
                    .enumerate()
                    .map(|(j, cell)| match table_cell(cell) {
                        (cell, true) if j > 0 => Paragraph::new().align(AlignmentType::Right).add_run(run(&cell, Format::default())),
                        (cell, _) => Paragraph::new().add_run(run(&cell, Format::default())),
                    })
                    .collect();
                all.push((cells, false));
            }
            out.push(Block::Table(Box::new(word_table(all))));
            out.extend(notes.iter().map(|n| Block::Paragraph(Box::new(Paragraph::new().style("TableNote").add_run(run(n, Format::default()))))));
            out
        }
    }
}

/// What docx-rs cannot write, added to its file: header rows repeated on every page (its
/// header rows are the only rows that may not split), and each drawing's unique id and
/// alternative text (`alt_texts`, in the order of the drawings). The entries keep their order
/// and a fixed date, so the file is the same for the same book.
fn finish(packed: &[u8], alt_texts: &[String], formulas: &[String], line_numbers: bool) -> Result<Vec<u8>, String> {
    use std::io::{Read, Write};
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(packed)).map_err(|e| e.to_string())?;
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    // The images are PNGs, compressed already: deflating them again took 20–30 ms for the
    // example's 1.3 MB and saved 1 %.
    let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| e.to_string())?;
        let name = entry.name().to_string();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
        if name == "word/document.xml" {
            let mut xml = String::from_utf8(bytes).map_err(|e| e.to_string())?;
            xml = xml.replace("<w:cantSplit />", "<w:cantSplit /><w:tblHeader />");
            xml = section(&xml, line_numbers);
            let mut n = 0;
            while let Some(at) = xml.find("<wp:docPr id=\"1\" name=\"Figure\" />") {
                n += 1;
                let alt = alt_texts.get(n - 1).map_or(String::new(), |a| attribute(a));
                xml.replace_range(at..at + "<wp:docPr id=\"1\" name=\"Figure\" />".len(), &format!("<wp:docPr id=\"{n}\" name=\"Figure {n}\" descr=\"{alt}\" />"));
            }
            bytes = equations(&xml, formulas).into_bytes();
        } else if name.starts_with("word/footer") && line_numbers {
            // The page number is not a line of the text (LibreOffice numbered it).
            let xml = String::from_utf8(bytes).map_err(|e| e.to_string())?;
            bytes = xml.replacen("<w:jc ", "<w:suppressLineNumbers /><w:jc ", 1).into_bytes();
        } else if name == "word/footnotes.xml" {
            bytes = equations(&footnote_marks(&String::from_utf8(bytes).map_err(|e| e.to_string())?), formulas).into_bytes();
        }
        let how = if name.starts_with("word/media/") { stored } else { options };
        out.start_file(name, how).map_err(|e| e.to_string())?;
        out.write_all(&bytes).map_err(|e| e.to_string())?;
    }
    Ok(out.finish().map_err(|e| e.to_string())?.into_inner())
}

/// Each footnote begins with its number (`w:footnoteRef`) and a space, as Word's own footnotes
/// do: docx-rs writes the text alone, which Word shows with no number.
fn footnote_marks(xml: &str) -> String {
    const MARK: &str = r#"<w:r><w:rPr><w:rStyle w:val="FootnoteReference" /></w:rPr><w:footnoteRef /></w:r><w:r><w:t xml:space="preserve"> </w:t></w:r>"#;
    let mut out = String::with_capacity(xml.len() + 200);
    let mut rest = xml;
    while let Some(at) = rest.find("<w:footnote w:id=\"") {
        let Some(properties) = rest[at..].find("</w:pPr>").map(|i| at + i + "</w:pPr>".len()) else { break };
        out.push_str(&rest[..properties]);
        out.push_str(MARK);
        rest = &rest[properties..];
    }
    out.push_str(rest);
    out
}

/// Each formula's equation in place of the run that holds its marker ([`formula_marker`]), and
/// the math namespace declared where docx-rs did not (document.xml).
fn equations(xml: &str, formulas: &[String]) -> String {
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml;
    const MATH: &str = "xmlns:m=\"http://schemas.openxmlformats.org/officeDocument/2006/math\"";
    if !formulas.is_empty() && !xml.contains(MATH) {
        if let Some(at) = xml.find(" xmlns:w=\"") {
            out.push_str(&xml[..at + 1]);
            out.push_str(MATH);
            out.push(' ');
            rest = &xml[at + 1..];
        }
    }
    while let Some(at) = rest.find('\u{FDD4}') {
        let found = (|| {
            let end = at + rest[at..].find('\u{FDD5}')?;
            let formula = formulas.get(rest[at + '\u{FDD4}'.len_utf8()..end].parse::<usize>().ok()?)?;
            let start = rest[..at].rfind("<w:r>")?;
            let close = end + rest[end..].find("</w:r>")? + "</w:r>".len();
            Some((start, formula, close))
        })();
        let Some((start, formula, close)) = found else { break };
        out.push_str(&rest[..start]);
        out.push_str(formula);
        rest = &rest[close..];
    }
    out.push_str(rest);
    out
}

/// The body's section properties in the schema's order (docx-rs writes the footer's reference
/// last; Word wants the references first), with the lines numbered if asked.
fn section(xml: &str, line_numbers: bool) -> String {
    let Some(start) = xml.rfind("<w:sectPr>") else { return xml.to_string() };
    let Some(end) = xml[start..].find("</w:sectPr>").map(|i| start + i) else { return xml.to_string() };
    let inner = &xml[start + "<w:sectPr>".len()..end];
    let mut references = String::new();
    let mut rest = String::new();
    let mut tail = inner;
    while let Some(open) = tail.find('<') {
        rest.push_str(&tail[..open]);
        let close = tail[open..].find("/>").map_or(tail.len(), |i| open + i + 2);
        let element = &tail[open..close];
        if element.starts_with("<w:footerReference") || element.starts_with("<w:headerReference") {
            references.push_str(element);
        } else {
            if line_numbers && element.starts_with("<w:cols") {
                rest.push_str("<w:lnNumType w:countBy=\"1\" w:restart=\"continuous\" />");
            }
            rest.push_str(element);
        }
        tail = &tail[close..];
    }
    rest.push_str(tail);
    format!("{}<w:sectPr>{references}{rest}{}", &xml[..start], &xml[end..])
}

/// Text as an XML attribute's value.
fn attribute(text: &str) -> String {
    clean(text).replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
