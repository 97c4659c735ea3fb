//! The PRISMA 2020 flow diagram, as one SVG used by both outputs, in the layout of the template
//! for new systematic reviews which included searches of databases and registers only (Page et
//! al. 2021, BMJ 372:n71): a heading bar; the phases Identification, Screening and Included as
//! bands on the left with their names turned upright; the boxes of the main column joined by
//! arrows down; the records and reports that leave at each step in boxes to the right.
//!
//! When the data give any box of the other methods (websites, citation searching…), the layout
//! is that of the template for reviews which included searches of databases, registers and
//! other methods: a second column "Identification of studies via other methods" to the right,
//! with its own heading bar — records identified, reports sought for retrieval, reports assessed
//! for eligibility, each with what leaves the flow to its right — whose last arrow turns into
//! the shared box of included studies. The four boxes of a row are then narrower, so that the
//! diagram still fits the text width of the PDF.
//!
//! Pure: a checked [`Flow`] in, SVG text out. A box the source does not report says "not
//! reported" (in italics) — nothing is computed to fill it. Text is wrapped to the boxes from
//! estimated widths (the PDF and the browser set it with their own fonts), with room to spare,
//! and every text is escaped for XML.

use super::forest::escape;
use crate::data::prisma::{Flow, ListKind, Stage};
use crate::format;
use std::fmt::Write;

const FONT: f64 = 10.0;
const LINE: f64 = 13.0;
const PAD: f64 = 7.0;
const MARGIN: f64 = 8.0;
const BAND_WIDTH: f64 = 22.0;
const BAND_GAP: f64 = 10.0;
const MAIN_WIDTH: f64 = 236.0;
const ARROW_GAP: f64 = 36.0;
const SIDE_WIDTH: f64 = 236.0;
const HEADING: f64 = 26.0;
const ROW_GAP: f64 = 22.0;
const INDENT: f64 = 10.0;
/// The width of every box, and of the gaps the side arrows cross, when the diagram has the
/// column of other methods.
const NARROW_WIDTH: f64 = 150.0;
const NARROW_ARROW_GAP: f64 = 24.0;
/// The gap between the column of databases and registers and that of other methods.
const COLUMN_GAP: f64 = 20.0;
const NOT_REPORTED: &str = "(not\u{a0}reported)";
const BAND_FILL: &str = "#dbe7f4";
/// The size the HTML page shows the diagram at, relative to its drawing units: the drawing's
/// 10-unit text then reads at 14 px beside the 17 px prose. (The PDF sets it to the text width.)
const DISPLAY_SCALE: f64 = 1.4;

/// Estimated width of `text` at the diagram's font size (generous, as in the forest plot).
fn text_width(text: &str, bold: bool) -> f64 {
    text.chars().count() as f64 * FONT * if bold { 0.56 } else { 0.5 }
}

/// "(n = 1,631)" or "(not reported)", kept on one line.
fn count(n: Option<u64>) -> String {
    match n {
        Some(n) => format!("(n\u{a0}=\u{a0}{})", format::count(n)),
        None => NOT_REPORTED.to_string(),
    }
}

/// One paragraph of a box: its text and its indentation level.
struct Para {
    text: String,
    indent: usize,
}

fn para(indent: usize, text: String) -> Para {
    Para { text, indent }
}

/// Wrap a paragraph into lines that fit `width` (at spaces; a no-break space holds).
fn wrap(text: &str, width: f64) -> Vec<String> {
    super::svg::wrap(text, width, |t| text_width(t, false))
}

/// A box's lines: (x offset from the box's inner left edge, text).
fn layout(paras: &[Para], width: f64) -> Vec<(f64, String)> {
    let inner = width - 2.0 * PAD;
    let mut out = Vec::new();
    for p in paras {
        let indent = p.indent as f64 * INDENT;
        for (i, line) in wrap(&p.text, inner - indent).into_iter().enumerate() {
            // Continuation lines hang a little further in, so each entry stands out.
            let hang = if i > 0 { INDENT / 2.0 } else { 0.0 };
            out.push((indent + hang, line));
        }
    }
    out
}

type Lines = Vec<(f64, String)>;

/// A row of the diagram: the main box and, to its right, what leaves the flow at that step; then
/// the same in the column of other methods, where it has a box in this row.
struct Row {
    main: Lines,
    side: Option<Lines>,
    other: Option<(Lines, Option<Lines>)>,
}

impl Row {
    fn height(&self) -> f64 {
        let other = self.other.as_ref().map_or(0, |(o, side)| o.len().max(side.as_ref().map_or(0, Vec::len)));
        let lines = self.main.len().max(self.side.as_ref().map_or(0, Vec::len)).max(other);
        lines as f64 * LINE + 2.0 * PAD - (LINE - FONT) + 2.0
    }
}

fn cap(text: &str) -> String {
    let mut c = text.chars();
    c.next().map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
}

/// Render the flow diagram.
pub fn svg(flow: &Flow) -> String {
    let two = flow.other_methods();
    let (main_w, side_w, arrow_gap) = if two { (NARROW_WIDTH, NARROW_WIDTH, NARROW_ARROW_GAP) } else { (MAIN_WIDTH, SIDE_WIDTH, ARROW_GAP) };
    let n = |s: Stage| count(flow.n(s));
    let named = |kind: ListKind, indent: usize| flow.list(kind).map(move |i| para(indent, format!("{} {}", i.name, count(i.count.n)))).collect::<Vec<_>>();

    let mut identified = vec![para(0, "Records identified from:".into()), para(1, format!("Databases {}", n(Stage::Databases)))];
    identified.extend(named(ListKind::Database, 2));
    identified.push(para(1, format!("Registers {}", n(Stage::Registers))));
    identified.extend(named(ListKind::Register, 2));
    let removed = vec![
        para(0, "Records removed before screening:".into()),
        para(1, format!("Duplicate records removed {}", n(Stage::Duplicates))),
        para(1, format!("Records marked as ineligible by automation tools {}", n(Stage::Automation))),
        para(1, format!("Records removed for other reasons {}", n(Stage::RemovedOther))),
    ];
    // "Reports excluded (n = …):" and the reasons under it.
    let excluded_box = |total: Stage, kind: ListKind| {
        let reasons = named(kind, 1);
        let mut excluded = vec![para(0, format!("Reports excluded {}{}", n(total), if reasons.is_empty() { "" } else { ":" }))];
        excluded.extend(reasons);
        excluded
    };
    let excluded = excluded_box(Stage::ReportsExcluded, ListKind::Reason);
    let included = vec![para(0, format!("Studies included in review {}", n(Stage::Studies))), para(0, format!("Reports of included studies {}", n(Stage::Reports)))];
    // The column of other methods: its boxes in the rows of identification, retrieval and
    // assessment.
    let mut other: [Option<(Lines, Option<Lines>)>; 5] = Default::default();
    if two {
        let sources = named(ListKind::OtherSource, 1);
        let mut identified = vec![para(0, format!("Records identified {}{}", n(Stage::OtherSources), if sources.is_empty() { "" } else { ":" }))];
        identified.extend(sources);
        other[0] = Some((layout(&identified, main_w), None));
        other[2] = Some((
            layout(&[para(0, format!("Reports sought for retrieval {}", n(Stage::OtherSought)))], main_w),
            Some(layout(&[para(0, format!("Reports not retrieved {}", n(Stage::OtherNotRetrieved)))], side_w)),
        ));
        other[3] = Some((
            layout(&[para(0, format!("Reports assessed for eligibility {}", n(Stage::OtherAssessed)))], main_w),
            Some(layout(&excluded_box(Stage::OtherReportsExcluded, ListKind::OtherReason), side_w)),
        ));
    }
    let [other0, other1, other2, other3, other4] = other;
    let rows = [
        Row { main: layout(&identified, main_w), side: Some(layout(&removed, side_w)), other: other0 },
        Row {
            main: layout(&[para(0, format!("Records screened {}", n(Stage::Screened)))], main_w),
            side: Some(layout(&[para(0, format!("Records excluded {}", n(Stage::Excluded)))], side_w)),
            other: other1,
        },
        Row {
            main: layout(&[para(0, format!("Reports sought for retrieval {}", n(Stage::Sought)))], main_w),
            side: Some(layout(&[para(0, format!("Reports not retrieved {}", n(Stage::NotRetrieved)))], side_w)),
            other: other2,
        },
        Row { main: layout(&[para(0, format!("Reports assessed for eligibility {}", n(Stage::Assessed)))], main_w), side: Some(layout(&excluded, side_w)), other: other3 },
        Row { main: layout(&included, main_w), side: None, other: other4 },
    ];
    // The phases and the rows they span; a band must be tall enough for its upright name.
    let bands: [(&str, std::ops::Range<usize>); 3] = [("Identification", 0..1), ("Screening", 1..4), ("Included", 4..5)];
    let mut heights: Vec<f64> = rows.iter().map(Row::height).collect();
    for (name, span) in &bands {
        let need = text_width(name, true) + 2.0 * PAD;
        let have: f64 = heights[span.clone()].iter().sum::<f64>() + ROW_GAP * (span.len() - 1) as f64;
        if have < need {
            heights[span.end - 1] += need - have;
        }
    }

    let band_x = MARGIN;
    let main_x = band_x + BAND_WIDTH + BAND_GAP;
    let side_x = main_x + main_w + arrow_gap;
    let other_x = side_x + side_w + COLUMN_GAP;
    let other_side_x = other_x + main_w + arrow_gap;
    let width = if two { other_side_x + side_w + MARGIN } else { side_x + side_w + MARGIN };
    let mut tops = Vec::with_capacity(rows.len());
    let mut y = MARGIN + HEADING + ROW_GAP * 0.6;
    for h in &heights {
        tops.push(y);
        y += h + ROW_GAP;
    }
    let height = y - ROW_GAP + MARGIN;

    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.1} {height:.1}" width="{:.1}" height="{:.1}" role="img" aria-labelledby="prisma-title prisma-desc" font-family="Libertinus Serif, 'Linux Libertine O', serif" font-size="{FONT}">"#,
        width * DISPLAY_SCALE,
        height * DISPLAY_SCALE
    );
    let _ = write!(s, "<title id=\"prisma-title\">PRISMA 2020 flow diagram</title><desc id=\"prisma-desc\">{}</desc>", escape(&description(flow)));

    // A heading bar over the main and side boxes of each column.
    let mut headings = vec![(main_x, side_x + side_w, "Identification of studies via databases and registers")];
    if two {
        headings.push((other_x, other_side_x + side_w, "Identification of studies via other methods"));
    }
    for (left, right, text) in headings {
        let _ = write!(s, r#"<rect x="{left:.1}" y="{MARGIN:.1}" width="{:.1}" height="{HEADING:.1}" rx="4" fill="{BAND_FILL}" stroke="black" stroke-width="0.8"/>"#, right - left);
        let _ = write!(s, r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-weight="bold">{text}</text>"#, (left + right) / 2.0, MARGIN + HEADING / 2.0 + FONT * 0.35);
    }

    for (name, span) in &bands {
        let top = tops[span.start];
        let bottom = tops[span.end - 1] + heights[span.end - 1];
        let _ = write!(s, r#"<rect x="{band_x:.1}" y="{top:.1}" width="{BAND_WIDTH:.1}" height="{:.1}" rx="4" fill="{BAND_FILL}" stroke="black" stroke-width="0.8"/>"#, bottom - top);
        let _ = write!(
            s,
            r#"<text transform="translate({:.1} {:.1}) rotate(-90)" x="0" y="{:.1}" text-anchor="middle" font-weight="bold">{}</text>"#,
            band_x + BAND_WIDTH / 2.0,
            (top + bottom) / 2.0,
            FONT * 0.35,
            escape(name)
        );
    }

    for (i, row) in rows.iter().enumerate() {
        let (top, h) = (tops[i], heights[i]);
        draw_box(&mut s, main_x, top, main_w, h, &row.main);
        if let Some(side) = &row.side {
            draw_box(&mut s, side_x, top, side_w, h, side);
            arrow(&mut s, (main_x + main_w, top + h / 2.0), (side_x, top + h / 2.0));
        }
        if i + 1 < rows.len() {
            let x = main_x + main_w / 2.0;
            arrow(&mut s, (x, top + h), (x, tops[i + 1]));
        }
    }
    // The column of other methods: its boxes, each joined to the next one down (across the row
    // of screening, where it has none); the last turns into the box of included studies.
    let others: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].other.is_some()).collect();
    for (k, &i) in others.iter().enumerate() {
        let Some((lines, side)) = &rows[i].other else { continue };
        let (top, h) = (tops[i], heights[i]);
        draw_box(&mut s, other_x, top, main_w, h, lines);
        if let Some(side) = side {
            draw_box(&mut s, other_side_x, top, side_w, h, side);
            arrow(&mut s, (other_x + main_w, top + h / 2.0), (other_side_x, top + h / 2.0));
        }
        let x = other_x + main_w / 2.0;
        match others.get(k + 1) {
            Some(&next) => arrow(&mut s, (x, top + h), (x, tops[next])),
            None => {
                let last = rows.len() - 1;
                let y = tops[last] + heights[last] / 2.0;
                let _ = write!(s, r#"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{y:.1}" stroke="black" stroke-width="1" stroke-linecap="square"/>"#, top + h);
                arrow(&mut s, (x, y), (main_x + main_w, y));
            }
        }
    }
    s.push_str("</svg>\n");
    s
}

/// A box with its lines of text, the lines centred vertically.
fn draw_box(s: &mut String, x: f64, y: f64, w: f64, h: f64, lines: &[(f64, String)]) {
    let _ = write!(s, r#"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" fill="white" stroke="black" stroke-width="0.8"/>"#);
    let block = lines.len() as f64 * LINE - (LINE - FONT);
    let mut baseline = y + (h - block) / 2.0 + FONT * 0.8;
    for (dx, line) in lines {
        let shown = match line.split_once(NOT_REPORTED) {
            Some((before, after)) => format!("{}<tspan font-style=\"italic\">{}</tspan>{}", escape(before), escape(&NOT_REPORTED.replace('\u{a0}', " ")), escape(after)),
            None => escape(line),
        };
        let _ = write!(s, r#"<text x="{:.1}" y="{baseline:.1}">{}</text>"#, x + PAD + dx, shown.replace('\u{a0}', " "));
        baseline += LINE;
    }
}

/// A straight arrow from `from` to `to`, with its head at `to`.
fn arrow(s: &mut String, from: (f64, f64), to: (f64, f64)) {
    let (dx, dy) = (to.0 - from.0, to.1 - from.1);
    let len = (dx * dx + dy * dy).sqrt().max(1e-9);
    let (ux, uy) = (dx / len, dy / len);
    let head = 7.0;
    let base = (to.0 - ux * head, to.1 - uy * head);
    let _ = write!(s, r#"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="black" stroke-width="1"/>"#, from.0, from.1, base.0, base.1);
    let _ = write!(
        s,
        r#"<path d="M{:.1} {:.1} L{:.1} {:.1} L{:.1} {:.1} Z" fill="black"/>"#,
        to.0,
        to.1,
        base.0 - uy * 3.5,
        base.1 + ux * 3.5,
        base.0 + uy * 3.5,
        base.1 - ux * 3.5
    );
}

/// The diagram in words, for the SVG's `<desc>`: every box and its count.
fn description(flow: &Flow) -> String {
    let shown = |n: Option<u64>| n.map_or("not reported".to_string(), format::count);
    let two = flow.other_methods();
    let mut parts: Vec<String> = Stage::ALL.iter().filter(|s| two || !s.other_methods()).map(|&s| format!("{}: {}", cap(s.wording()), shown(flow.n(s)))).collect();
    for kind in ListKind::ALL {
        let items: Vec<String> = flow.list(kind).map(|i| format!("{} {}", i.name, shown(i.count.n))).collect();
        if !items.is_empty() {
            let what = match kind {
                ListKind::Database => "By database",
                ListKind::Register => "By register",
                ListKind::Reason => "Reasons for excluding reports",
                ListKind::OtherSource => "Via other methods, by source",
                ListKind::OtherReason => "Reasons for excluding reports found via other methods",
            };
            parts.push(format!("{what}: {}", items.join(", ")));
        }
    }
    format!("PRISMA 2020 flow diagram. {}.", parts.join(". "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_counts_whole_and_fits_the_width() {
        let lines = wrap(&format!("Records marked as ineligible by automation tools {}", count(None)), 150.0);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| text_width(l, false) <= 150.0), "{lines:?}");
        assert!(lines.last().unwrap().ends_with(NOT_REPORTED));
    }
}
