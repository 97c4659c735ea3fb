//! The forest plot, as one SVG used by both outputs, in RevMan 5's layout: study labels; the
//! group data (mean, SD and total, or events and total); weights; each effect with its
//! confidence interval as text; squares sized by weight (area ∝ weight) with CI whiskers that
//! end in arrows where they run off the axis; a diamond for each pooled result; the prediction
//! interval when asked; subgroup sections with subtotals; the footer lines; and a labelled axis
//! with "Favours …" under each side.
//!
//! A tall plot is also cut into parts (the headings, then bands of rows; [`draw`]) that the
//! PDF sets across pages; the site shows it whole.
//!
//! Pure: an [`AnalysisResult`] in, SVG text out. Text widths are estimated from character
//! counts (the PDF and the browser set the text with their own fonts), so columns are given
//! generous room. All user text is escaped for XML.

use super::revman::{effect_title, footer_lines, group_columns, group_header, group_totals};
use crate::engine::AnalysisResult;
use crate::format::{self, fixed};
use crate::stats::Pooled;
use std::fmt::Write;

/// What the author chose in the `forest` directive.
#[derive(Debug, Clone, Default)]
pub struct ForestOptions {
    /// Labels under the left and right half of the axis ("Favours …").
    pub favours: Option<(String, String)>,
    /// Draw the prediction interval under the total diamond.
    pub prediction: bool,
    /// Headings over the two groups' data, replacing "Experimental" and "Control".
    pub groups: Option<(String, String)>,
    /// Which pooled rows to draw.
    pub totals: Totals,
}

/// Which pooled rows a forest plot draws, as RevMan's "totals" setting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Totals {
    /// Subtotals and the overall total.
    #[default]
    All,
    /// Subgroup subtotals only (RevMan's "subtotals only").
    Subtotals,
    /// No pooled rows (RevMan's "no totals"): the studies alone.
    None,
}

impl Totals {
    pub fn name(self) -> &'static str {
        match self {
            Totals::All => "all",
            Totals::Subtotals => "subtotals",
            Totals::None => "none",
        }
    }
}

impl std::str::FromStr for Totals {
    type Err = crate::stats::spec::UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        let all = [Totals::All, Totals::Subtotals, Totals::None];
        all.iter().copied().find(|t| t.name().eq_ignore_ascii_case(wanted)).ok_or_else(|| crate::stats::spec::UnknownName {
            what: "totals",
            given: wanted.to_string(),
            suggestion: all.iter().map(|t| t.name()).find(|n| strsim::levenshtein(n, &wanted.to_ascii_lowercase()) <= 2),
            known: all.iter().map(|t| t.name()).collect(),
        })
    }
}

const FONT: f64 = 11.0;
const ROW: f64 = 16.0;
const GAP: f64 = 12.0;
const PLOT_WIDTH: f64 = 200.0;
const MARGIN: f64 = 8.0;
/// How far (estimated) a "Favours" line may reach past its half of the axis on each side.
pub const FAVOURS_OVERHANG: f64 = 3.0;

/// Estimated width of `text` at the plot's font size.
fn text_width(text: &str, bold: bool) -> f64 {
    let per_char = if bold { 0.56 } else { 0.52 };
    text.chars().count() as f64 * FONT * per_char
}

/// Escape text for SVG (XML) content and attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // What XML 1.0 cannot hold (a control character from a data file) is left out: an
            // SVG with it is not XML, and its figure could not be drawn.
            c if (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

/// The axis: symmetric around no effect, on the log scale for ratio measures.
pub(crate) struct Axis {
    ratio: bool,
    /// Half-width on the analysis scale.
    pub(crate) limit: f64,
    pub(crate) ticks: Vec<f64>,
}

impl Axis {
    pub(crate) fn new(ratio: bool, extent: f64) -> Axis {
        if ratio {
            let steps = [(2.0, vec![0.5, 0.7, 1.0, 1.5, 2.0]), (5.0, vec![0.2, 0.5, 1.0, 2.0, 5.0]), (10.0, vec![0.1, 0.2, 1.0, 5.0, 10.0]), (100.0, vec![0.01, 0.1, 1.0, 10.0, 100.0]), (1000.0, vec![0.001, 0.1, 1.0, 10.0, 1000.0])];
            let (l, ticks) = steps.iter().find(|(l, _)| f64::ln(*l) >= extent).cloned().unwrap_or(steps[4].clone());
            Axis { ratio, limit: l.ln(), ticks: ticks.iter().map(|t: &f64| t.ln()).collect() }
        } else {
            let mut l = 1e-6;
            let mut n = 0;
            while l < extent && n < 200 {
                l = [1.0, 2.0, 5.0].iter().map(|m| m * 10f64.powi((n / 3) - 6)).nth((n % 3) as usize).unwrap_or(l);
                n += 1;
            }
            Axis { ratio, limit: l, ticks: vec![-l, -l / 2.0, 0.0, l / 2.0, l] }
        }
    }
    pub(crate) fn label(&self, t: f64) -> String {
        let v = if self.ratio { t.exp() } else { t };
        let s = format!("{}", (v * 1e6).round() / 1e6);
        s.replace('-', "\u{2212}")
    }
}

/// "Favours …" under one side of the axis: the label as written when it says "Favours" itself
/// (RevMan's labels do: "Favours antibiotics"), else with "Favours " before it.
pub fn favours_text(label: &str) -> String {
    let label = label.trim();
    if label.get(..8).is_some_and(|w| w.eq_ignore_ascii_case("favours ")) {
        label.to_string()
    } else {
        format!("Favours {label}")
    }
}

/// Render the forest plot of `result`.
pub fn svg(result: &AnalysisResult, options: &ForestOptions) -> String {
    draw(result, options).0
}

/// Rows of a band of a forest plot cut for pages ([`draw`]). A page ends at a band's edge, so
/// it may end up to a band short; each band costs Typst a box, an image and a row of its grid
/// (about 44 KB and 0.3 ms: for 10,000 studies, bands of five took 305 MB and 157 pages, of ten
/// 261 MB and 170 pages).
const BAND_ROWS: usize = 10;

/// The forest plot whole, and cut for pages: its column headings, then bands of
/// [`BAND_ROWS`] rows, the last with the final rows, the axis and the "favours" labels, so that
/// the axis never stands alone.
pub fn draw(result: &AnalysisResult, options: &ForestOptions) -> (String, super::svg::Parts) {
    let a = &result.analysis;
    let spec = &a.spec;
    let ratio = spec.log_scale();
    let z = spec.study_z();
    let analysed: Vec<_> = a.studies().collect();
    let (groups, sub) = group_header(result);
    let (_, cells) = group_columns(result);
    let effect_head = effect_title(result);
    let method_head = format!("{}, {}% CI", spec.revman_label(), fixed(spec.study_level, 0));
    let shown = |e: f64| if ratio { e.exp() } else { e };
    let effect_text = |e: f64, lo: f64, hi: f64| format::effect_ci_brackets(shown(e), shown(lo), shown(hi), 2);

    // Rows: what each line of the table shows.
    enum Row<'a> {
        Heading(String),
        Study(usize),
        Total { label: String, members: Vec<usize>, pooled: Option<&'a Pooled>, weight: f64 },
        Text(String),
        Blank,
    }
    let mut rows = Vec::new();
    let all: Vec<usize> = (0..result.table.studies.len()).collect();
    if let Some(sa) = &result.subgroups {
        for (n, g) in sa.subgroups.iter().enumerate() {
            rows.push(Row::Heading(format!("{}.{} {}", 1, n + 1, g.name)));
            rows.extend(g.members.iter().map(|&i| Row::Study(i)));
            if options.totals != Totals::None {
                let weight = g.members.iter().filter_map(|&i| analysed[i].weight).sum();
                rows.push(Row::Total { label: format!("Subtotal ({}% CI)", fixed(spec.level, 0)), members: g.members.clone(), pooled: g.analysis.pooled.as_ref(), weight });
                rows.extend(footer_lines(&g.analysis).into_iter().map(Row::Text));
            }
            rows.push(Row::Blank);
        }
    } else {
        rows.extend(all.iter().map(|&i| Row::Study(i)));
        rows.push(Row::Blank);
    }
    if options.totals == Totals::All {
        let weight = if a.pooled.is_some() { 100.0 } else { 0.0 };
        rows.push(Row::Total { label: format!("Total ({}% CI)", fixed(spec.level, 0)), members: all.clone(), pooled: a.pooled.as_ref(), weight });
        rows.extend(footer_lines(a).into_iter().map(Row::Text));
    }
    if let (Some(t), false) = (result.subgroups.as_ref().and_then(|s| s.test.as_ref()), options.totals == Totals::None) {
        rows.push(Row::Text(format!("Test for subgroup differences: Chi² = {}, df = {} ({}), I² = {}", fixed(t.q, 2), fixed(t.df, 0), format::p_revman(t.p), format::percent0(t.i2))));
    }

    // Axis extent: every pooled interval, and the study intervals unless one is extreme.
    let pooled_extent = rows
        .iter()
        .filter_map(|r| if let Row::Total { pooled: Some(pooled), .. } = r { Some(pooled.ci_lower.abs().max(pooled.ci_upper.abs())) } else { None })
        .fold(0.0, f64::max);
    let study_extent = analysed
        .iter()
        .filter_map(|r| r.effect)
        .map(|e| {
            let (lo, hi) = e.ci(z);
            lo.abs().max(hi.abs())
        })
        .fold(0.0, f64::max);
    let extent = if pooled_extent > 0.0 { study_extent.min(4.0 * pooled_extent).max(pooled_extent) } else { study_extent } * 1.05;
    let axis = Axis::new(ratio, extent);

    // Columns: label, group data, weight, effect text, plot.
    let study_col = rows
        .iter()
        .map(|r| match r {
            Row::Heading(t) => text_width(t, true),
            Row::Study(i) => text_width(&result.table.studies[*i].label, false),
            Row::Total { label, .. } => text_width(label, true),
            _ => 0.0,
        })
        .fold(text_width("Study or Subgroup", true), f64::max);
    let ncols = sub.len();
    let mut data_cols = vec![0.0f64; ncols];
    for (j, h) in sub.iter().enumerate() {
        data_cols[j] = text_width(h, true);
        for c in &cells {
            data_cols[j] = data_cols[j].max(text_width(&c[j], false));
        }
        for r in &rows {
            if let Row::Total { members, .. } = r {
                data_cols[j] = data_cols[j].max(text_width(&group_totals(result, members)[j], true));
            }
        }
    }
    let weight_col = text_width("Weight", true).max(text_width("100.0%", false));
    let effect_col = text_width(&method_head, true).max(text_width(&effect_head, true)).max(text_width("−00.00 [−00.00, −00.00]", false));
    let mut x = MARGIN;
    let label_x = x;
    x += study_col + GAP;
    let mut data_right = Vec::with_capacity(ncols);
    for w in &data_cols {
        x += w;
        data_right.push(x);
        x += GAP;
    }
    x += weight_col;
    let weight_right = x;
    x += GAP + effect_col;
    let effect_right = x;
    x += GAP * 1.5;
    let plot_left = x;
    let plot_right = plot_left + PLOT_WIDTH;
    // The last tick's label is centred on the axis' end: leave room for its half ("1000").
    let last_tick_half = axis.ticks.last().map_or(0.0, |&t| text_width(&axis.label(t), false) / 2.0);
    let width = plot_right + MARGIN.max(last_tick_half + 2.0);
    let px = |v: f64| plot_left + (v.clamp(-axis.limit, axis.limit) + axis.limit) / (2.0 * axis.limit) * PLOT_WIDTH;

    let header_height = 2.0 * ROW + 6.0;
    let body_top = MARGIN + header_height;
    let table_rows = rows.iter().filter(|r| !matches!(r, Row::Text(_))).count();
    let height = body_top + (rows.len() as f64 + 4.0) * ROW + MARGIN;

    let mut s = String::new();
    let title = format!("Forest plot: {} ({}), {} studies", effect_head, method_head, a.k);
    // The description says what the figure shows: the total only where it is drawn.
    let desc = match options.totals {
        Totals::All => format!(
            "Total: {}. {}",
            match &a.pooled {
                Some(p) => format::effect_sentence(spec.measure.name(), shown(p.estimate), shown(p.ci_lower), shown(p.ci_upper), spec.level, 2),
                None => "not estimable".to_string(),
            },
            footer_lines(a).join(". ")
        ),
        Totals::Subtotals => "Each study with its subgroup's subtotal; no overall total.".to_string(),
        Totals::None => "Each study's effect; no totals.".to_string(),
    };
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w:.1} {h:.1}" width="{w:.1}" height="{h:.1}" role="img" aria-labelledby="forest-title forest-desc" font-family="Libertinus Serif, 'Linux Libertine O', serif" font-size="{FONT}">"#,
        w = width,
        h = height
    );
    let _ = write!(s, "<title id=\"forest-title\">{}</title><desc id=\"forest-desc\">{}</desc>", escape(&title), escape(&desc));
    // Where each part was drawn, to cut the figure for pages.
    let mut marks: Vec<super::svg::Mark> = Vec::new();
    let mut row_tops: Vec<f64> = Vec::new();
    let head_start = s.len();
    let text = |s: &mut String, x: f64, y: f64, anchor: &str, bold: bool, t: &str| {
        let _ = write!(s, r#"<text x="{x:.1}" y="{y:.1}" text-anchor="{anchor}"{}>{}</text>"#, if bold { r#" font-weight="bold""# } else { "" }, escape(t));
    };

    // Header.
    let y1 = MARGIN + ROW - 4.0;
    let y2 = y1 + ROW;
    let mut col = 0;
    for (g, (label, span)) in groups.iter().enumerate() {
        let label: &str = match (&options.groups, g) {
            (Some((first, _)), 0) if !label.is_empty() => first,
            (Some((_, second)), 1) if !label.is_empty() => second,
            _ => label,
        };
        if !label.is_empty() {
            let left = data_right[col] - data_cols[col];
            let right = data_right[col + span - 1];
            text(&mut s, (left + right) / 2.0, y1, "middle", true, label);
        }
        col += span;
    }
    text(&mut s, effect_right, y1, "end", true, &effect_head);
    text(&mut s, (plot_left + plot_right) / 2.0, y1, "middle", true, &effect_head);
    text(&mut s, label_x, y2, "start", true, "Study or Subgroup");
    for (j, h) in sub.iter().enumerate() {
        text(&mut s, data_right[j], y2, "end", true, h);
    }
    text(&mut s, weight_right, y2, "end", true, "Weight");
    text(&mut s, effect_right, y2, "end", true, &method_head);
    text(&mut s, (plot_left + plot_right) / 2.0, y2, "middle", true, &method_head);
    let _ = write!(s, r#"<line x1="{MARGIN}" y1="{y:.1}" x2="{x2:.1}" y2="{y:.1}" stroke="black" stroke-width="0.8"/>"#, y = y2 + 5.0, x2 = plot_right);
    marks.push(super::svg::Mark { top: 0.0, bottom: body_top, bytes: head_start..s.len() });

    // Body.
    let max_weight = analysed.iter().filter_map(|r| r.weight).fold(0.0, f64::max).max(1e-9);
    let mut y = body_top + ROW - 4.0;
    let first_row_y = y - ROW + 4.0;
    let mut last_table_y = y;
    for row in &rows {
        let (row_start, row_top) = (s.len(), y - ROW + 4.0);
        row_tops.push(row_top);
        match row {
            Row::Heading(t) => text(&mut s, label_x, y, "start", true, t),
            Row::Study(i) => {
                let st = &result.table.studies[*i];
                text(&mut s, label_x, y, "start", false, &st.label);
                for (j, c) in cells[*i].iter().enumerate() {
                    text(&mut s, data_right[j], y, "end", false, c);
                }
                let r = &analysed[*i];
                text(&mut s, weight_right, y, "end", false, &r.weight.map_or(String::new(), format::weight));
                match r.effect {
                    Some(e) => {
                        let (lo, hi) = e.ci(z);
                        text(&mut s, effect_right, y, "end", false, &effect_text(e.yi, lo, hi));
                        let cy = y - 4.0;
                        let _ = write!(s, r#"<line x1="{:.1}" y1="{cy:.1}" x2="{:.1}" y2="{cy:.1}" stroke="black" stroke-width="1"/>"#, px(lo), px(hi));
                        for (end, dir) in [(lo, -1.0), (hi, 1.0)] {
                            if end.abs() > axis.limit && end.signum() == dir {
                                let tip = px(end);
                                let _ = write!(s, r#"<path d="M{tip:.1} {cy:.1} l{:.1} -3 v6 z" fill="black"/>"#, -dir * 6.0);
                            }
                        }
                        if let Some(w) = r.weight {
                            if e.yi.abs() <= axis.limit {
                                let side = 3.0 + 9.0 * (w / max_weight).sqrt();
                                let _ = write!(s, r##"<rect x="{:.1}" y="{:.1}" width="{side:.1}" height="{side:.1}" fill="#1f5fa8"/>"##, px(e.yi) - side / 2.0, cy - side / 2.0);
                            }
                        }
                    }
                    None => text(&mut s, effect_right, y, "end", false, "Not estimable"),
                }
                last_table_y = y;
            }
            Row::Total { label, members, pooled, weight } => {
                text(&mut s, label_x, y, "start", true, label);
                for (j, c) in group_totals(result, members).iter().enumerate() {
                    text(&mut s, data_right[j], y, "end", true, c);
                }
                text(&mut s, weight_right, y, "end", true, &format::weight(*weight));
                let Some(pooled) = pooled else {
                    text(&mut s, effect_right, y, "end", true, "Not estimable");
                    last_table_y = y;
                    marks.push(super::svg::Mark { top: row_top, bottom: y + 4.0, bytes: row_start..s.len() });
                    y += ROW;
                    continue;
                };
                text(&mut s, effect_right, y, "end", true, &effect_text(pooled.estimate, pooled.ci_lower, pooled.ci_upper));
                let cy = y - 4.0;
                let _ = write!(
                    s,
                    r#"<path d="M{:.1} {cy:.1} L{:.1} {:.1} L{:.1} {cy:.1} L{:.1} {:.1} Z" fill="black"/>"#,
                    px(pooled.ci_lower),
                    px(pooled.estimate),
                    cy - 5.0,
                    px(pooled.ci_upper),
                    px(pooled.estimate),
                    cy + 5.0
                );
                if options.prediction && label.starts_with("Total") {
                    if let Some((lo, hi)) = pooled.prediction {
                        y += ROW;
                        text(&mut s, label_x, y, "start", false, "Prediction interval");
                        text(&mut s, effect_right, y, "end", false, &format!("[{}, {}]", fixed(shown(lo), 2), fixed(shown(hi), 2)));
                        let py = y - 4.0;
                        let _ = write!(s, r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="4" fill="#c33"/>"##, px(lo), py - 2.0, px(hi) - px(lo));
                    }
                }
                last_table_y = y;
            }
            Row::Text(t) => text(&mut s, label_x, y, "start", false, t),
            Row::Blank => {}
        }
        marks.push(super::svg::Mark { top: row_top, bottom: y + 4.0, bytes: row_start..s.len() });
        y += ROW;
    }
    let _ = table_rows;

    // No-effect line and axis.
    let axis_y = last_table_y + 10.0;
    let line_start = s.len();
    let _ = write!(s, r#"<line x1="{x:.1}" y1="{first_row_y:.1}" x2="{x:.1}" y2="{axis_y:.1}" stroke="black" stroke-width="0.8"/>"#, x = px(0.0));
    marks.push(super::svg::Mark { top: first_row_y, bottom: axis_y, bytes: line_start..s.len() });
    let axis_start = s.len();
    let _ = write!(s, r#"<line x1="{plot_left:.1}" y1="{axis_y:.1}" x2="{plot_right:.1}" y2="{axis_y:.1}" stroke="black" stroke-width="0.8"/>"#);
    for &t in &axis.ticks {
        let tx = px(t);
        let _ = write!(s, r#"<line x1="{tx:.1}" y1="{axis_y:.1}" x2="{tx:.1}" y2="{:.1}" stroke="black" stroke-width="0.8"/>"#, axis_y + 4.0);
        text(&mut s, tx, axis_y + 4.0 + FONT, "middle", false, &axis.label(t));
    }
    // "Favours …" centred under each half of the axis, wrapped at spaces to it (RevMan wraps
    // them too), so that long labels neither meet in the middle nor run past the figure's edge;
    // a single word longer than the half stays whole. A line may be estimated up to 3 px wider
    // than its half on each side: the estimate (0.52 em a character) is generous for the
    // serif the figures are set in (about 0.45 em), and "Favours before ITB" then keeps to
    // one line.
    let mut favours_lines = 1;
    if let Some((left, right)) = &options.favours {
        let fy = axis_y + 4.0 + 2.0 * FONT + 2.0;
        for (label, from, to) in [(left, plot_left, px(0.0)), (right, px(0.0), plot_right)] {
            let lines = super::svg::wrap(&favours_text(label), to - from + 2.0 * FAVOURS_OVERHANG, |t| text_width(t, false));
            for (i, line) in lines.iter().enumerate() {
                text(&mut s, (from + to) / 2.0, fy + i as f64 * (FONT + 2.0), "middle", false, line);
            }
            favours_lines = favours_lines.max(lines.len());
        }
    }
    // The height was estimated generously; set it to what was drawn.
    let drawn = axis_y + 3.0 * FONT + 8.0 + (favours_lines - 1) as f64 * (FONT + 2.0) + MARGIN;
    let used = drawn.max(y + MARGIN);
    marks.push(super::svg::Mark { top: axis_y - 1.0, bottom: used, bytes: axis_start..s.len() });
    // Breaks every few rows, none among the last rows (they go with the axis).
    let breaks: Vec<f64> = row_tops.iter().enumerate().filter(|(i, _)| i % BAND_ROWS == 0 && i + BAND_ROWS <= row_tops.len()).map(|(_, &t)| t).collect();
    let open = format!(r#"<svg xmlns="http://www.w3.org/2000/svg" font-family="Libertinus Serif, 'Linux Libertine O', serif" font-size="{FONT}""#);
    let parts = super::svg::cut(&s, &open, width, used, body_top, &breaks, &marks);
    s.push_str("</svg>\n");
    let whole = s.replacen(&format!("viewBox=\"0 0 {width:.1} {height:.1}\" width=\"{width:.1}\" height=\"{height:.1}\""), &format!("viewBox=\"0 0 {width:.1} {used:.1}\" width=\"{width:.1}\" height=\"{used:.1}\""), 1);
    (whole, parts)
}
