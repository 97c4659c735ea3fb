//! Sensitivity analyses as a book shows them: leave-one-out and cumulative analyses as tables
//! with the columns of metafor's printout (`leave1out`, `cumul`) or as forest-style plots of
//! the re-pooled estimates, and the influence diagnostics (`influence`) as a table with
//! metafor's mark for influential studies.
//!
//! Pure: the refits computed by [`crate::stats::sensitivity`] in, rows and SVG out. Ratio
//! measures are shown on the natural scale; τ² stays on the analysis scale, as metafor prints
//! it. All user text in the SVG is escaped.

use super::forest::{escape, Axis};
use crate::engine::AnalysisResult;
use crate::format::{self, fixed};
use crate::stats::sensitivity::{Influence, Refit};
use std::fmt::Write;

/// Which sensitivity analysis a directive shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    LeaveOneOut,
    Cumulative,
    Influence,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::LeaveOneOut, Kind::Cumulative, Kind::Influence];

    pub fn name(self) -> &'static str {
        match self {
            Kind::LeaveOneOut => "leave-one-out",
            Kind::Cumulative => "cumulative",
            Kind::Influence => "influence",
        }
    }
}

/// The rows of a leave-one-out or cumulative analysis with what each row is called: the study
/// left out or added, and (cumulative) the value of the ordering column.
pub struct Series<'a> {
    pub kind: Kind,
    pub rows: &'a [Refit],
    /// The column the cumulative analysis is ordered by, and each row's value of it.
    pub by: Option<(String, Vec<String>)>,
}

/// The column a cumulative analysis is ordered by, as the data file spells it, and each row's
/// value of it (the study's label when ordered by `study`).
pub fn ordering_column(result: &AnalysisResult, by: &str, rows: &[Refit]) -> (String, Vec<String>) {
    let values = rows
        .iter()
        .map(|r| {
            let st = &result.table.studies[r.study];
            if by.eq_ignore_ascii_case("study") {
                return st.label.clone();
            }
            st.attributes.iter().find(|(n, _)| n.eq_ignore_ascii_case(by)).map_or(String::new(), |(_, v)| v.trim().to_string())
        })
        .collect();
    let column = result.table.studies.first().and_then(|st| st.attributes.iter().find(|(n, _)| n.eq_ignore_ascii_case(by))).map_or(by.to_string(), |(n, _)| n.clone());
    (column, values)
}

fn p_cell(p: f64) -> String {
    let p = format::p_journal(p);
    p.strip_prefix("P = ").map_or_else(|| p.trim_start_matches("P ").to_string(), str::to_string)
}

/// A leave-one-out or cumulative analysis as a table: headings, rows, notes.
pub fn refit_table(result: &AnalysisResult, series: &Series<'_>) -> (Vec<String>, Vec<Vec<String>>, Vec<String>) {
    let a = &result.analysis;
    let spec = &a.spec;
    let shown = |x: f64| if spec.log_scale() { x.exp() } else { x };
    let random = a.pooled.as_ref().is_some_and(|p| p.tau2.is_some());
    let mut headings = vec![if series.kind == Kind::LeaveOneOut { "Study omitted" } else { "Study added" }.to_string()];
    if let Some((column, _)) = &series.by {
        headings.push(column.clone());
    }
    headings.push("k".to_string());
    headings.push(format!("{} [{}% CI]", spec.measure.name(), fixed(spec.level, 0)));
    headings.push("P".to_string());
    if random {
        headings.push("τ²".to_string());
    }
    headings.push("I²".to_string());
    let rows = series
        .rows
        .iter()
        .enumerate()
        .map(|(n, r)| {
            let mut row = vec![result.table.studies[r.study].label.clone()];
            if let Some((_, values)) = &series.by {
                row.push(values.get(n).cloned().unwrap_or_default());
            }
            row.push(r.k.to_string());
            match &r.fit {
                Ok(f) => {
                    row.push(format::effect_ci_brackets(shown(f.estimate), shown(f.ci_lower), shown(f.ci_upper), 2));
                    row.push(p_cell(f.p));
                    if random {
                        row.push(f.tau2.map_or(String::new(), |t| fixed(t, 3)));
                    }
                    row.push(f.i2.map_or(String::new(), format::percent0));
                }
                Err(_) => {
                    row.push("Not estimable".to_string());
                    row.push(String::new());
                    if random {
                        row.push(String::new());
                    }
                    row.push(String::new());
                }
            }
            row
        })
        .collect();
    let mut notes = vec![match series.kind {
        Kind::LeaveOneOut => format!("Each row pools the other {} studies ({}), as metafor's leave1out().", a.k.saturating_sub(1), spec.revman_label()),
        Kind::Cumulative => format!(
            "Each row pools the studies up to and including the one named{} ({}), as metafor's cumul().",
            series.by.as_ref().map_or(" (in the order of the data file)".to_string(), |(c, _)| format!(", ordered by {c}")),
            spec.revman_label()
        ),
        Kind::Influence => String::new(),
    }];
    if series.rows.iter().any(|r| r.fit.as_ref().is_ok_and(|f| f.i2.is_none())) {
        notes.push("I² and τ² are empty where one study is pooled: there is no heterogeneity to measure.".to_string());
    }
    notes.extend(failed_note(series.rows, series.kind));
    (headings, rows, notes)
}

fn failed_note(rows: &[Refit], kind: Kind) -> Option<String> {
    let failed: Vec<&Refit> = rows.iter().filter(|r| r.fit.is_err()).collect();
    let Err(e) = &failed.first()?.fit else { return None };
    Some(format!("{} of {} rows of the {} analysis could not be computed: {e}.", failed.len(), rows.len(), kind.name()))
}

/// Influence diagnostics as a table, with metafor's column names and its mark (*) for an
/// influential study.
pub fn influence_table(result: &AnalysisResult, rows: &[Influence]) -> (Vec<String>, Vec<Vec<String>>, Vec<String>) {
    let random = result.analysis.pooled.as_ref().is_some_and(|p| p.tau2.is_some());
    let mut headings: Vec<String> = ["Study", "rstudent", "dffits", "cook.d", "cov.r"].iter().map(|s| s.to_string()).collect();
    if random {
        headings.push("tau2.del".to_string());
    }
    headings.extend(["QE.del", "hat", "weight", "inf"].iter().map(|s| s.to_string()));
    let body = rows
        .iter()
        .map(|r| {
            let mut row = vec![result.table.studies[r.study].label.clone(), fixed(r.rstudent, 2), fixed(r.dffits, 2), fixed(r.cook_d, 2), fixed(r.cov_r, 2)];
            if random {
                row.push(r.tau2_del.map_or(String::new(), |t| fixed(t, 3)));
            }
            row.extend([fixed(r.q_del, 2), fixed(r.hat, 2), format::weight(r.weight), if r.influential { "*".to_string() } else { String::new() }]);
            row
        })
        .collect();
    let k = rows.len();
    let notes = vec![
        "rstudent: externally studentised residual; dffits: change in the pooled estimate in standard deviations; cook.d: Cook's distance; cov.r: covariance ratio; tau2.del and QE.del: τ² and Q without the study; hat: leverage; weight: in percent (metafor influence(); Viechtbauer & Cheung 2010).".to_string(),
        format!(
            "* Influential by metafor's rule: |dffits| > 3√(1/(k − 1)) = {}, cook.d above the median of χ²₁ (0.45), hat > 3/k = {} or |DFBETAS| > 1.{}",
            fixed(3.0 * (1.0 / (k as f64 - 1.0)).sqrt(), 2),
            fixed(3.0 / k as f64, 2),
            if rows.iter().any(|r| r.influential) { "" } else { " No study is." }
        ),
    ];
    (headings, body, notes)
}

const FONT: f64 = 11.0;
const ROW: f64 = 17.0;
const GAP: f64 = 14.0;
const PLOT_WIDTH: f64 = 220.0;
const MARGIN: f64 = 8.0;

fn text_width(text: &str, bold: bool) -> f64 {
    text.chars().count() as f64 * FONT * if bold { 0.56 } else { 0.52 }
}

/// Rows of a band of a plot cut for pages ([`draw`]).
const BAND_ROWS: usize = 5;

/// A leave-one-out or cumulative analysis drawn as a forest plot of the re-pooled estimates:
/// one row per refit (a square with its CI), the full analysis as a diamond and a dashed
/// reference line, and the line of no effect. Whole, and cut for pages like a forest plot:
/// the headings, then bands of [`BAND_ROWS`] rows, the last with the final rows, the full
/// analysis and the axis.
pub fn draw(result: &AnalysisResult, series: &Series<'_>) -> (String, super::svg::Parts) {
    let a = &result.analysis;
    let spec = &a.spec;
    let ratio = spec.log_scale();
    let shown = |x: f64| if ratio { x.exp() } else { x };
    let label_of = |n: usize, r: &Refit| {
        let name = &result.table.studies[r.study].label;
        match (&series.by, series.kind) {
            (Some((_, values)), _) if values.get(n).is_some_and(|v| !v.is_empty()) => format!("{name} ({})", values[n]),
            _ => name.clone(),
        }
    };
    let labels: Vec<String> = series.rows.iter().enumerate().map(|(n, r)| label_of(n, r)).collect();
    let head = match series.kind {
        Kind::LeaveOneOut => "Study omitted".to_string(),
        _ => match &series.by {
            Some((c, _)) => format!("Study added (by {c})"),
            None => "Study added".to_string(),
        },
    };
    let total_label = format!("All studies (k = {})", a.k);
    let effect_head = format!("{} [{}% CI]", spec.measure.name(), fixed(spec.level, 0));
    // The chapter shows a not-estimable analysis as "not computed" before it gets here.
    let Some(p) = a.pooled.as_ref() else {
        let svg = format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 30" width="200" height="30" role="img" font-size="{FONT}"><text x="{MARGIN}" y="20">Not estimable</text></svg>
"#
        );
        return (svg, super::svg::Parts::default());
    };

    let extent = series
        .rows
        .iter()
        .filter_map(|r| r.fit.as_ref().ok())
        .map(|f| f.ci_lower.abs().max(f.ci_upper.abs()))
        .fold(p.ci_lower.abs().max(p.ci_upper.abs()), f64::max)
        * 1.05;
    let axis = Axis::new(ratio, extent);
    let label_col = labels.iter().map(|l| text_width(l, false)).fold(text_width(&head, true).max(text_width(&total_label, true)), f64::max);
    let effect_col = text_width(&effect_head, true).max(text_width("−00.00 [−00.00, −00.00]", false));
    let label_x = MARGIN;
    let effect_right = label_x + label_col + GAP + effect_col;
    let plot_left = effect_right + GAP * 1.5;
    let plot_right = plot_left + PLOT_WIDTH;
    let width = plot_right + MARGIN;
    let px = |v: f64| plot_left + (v.clamp(-axis.limit, axis.limit) + axis.limit) / (2.0 * axis.limit) * PLOT_WIDTH;

    let mut s = String::new();
    let text = |s: &mut String, x: f64, y: f64, anchor: &str, bold: bool, t: &str| {
        let _ = write!(s, r#"<text x="{x:.1}" y="{y:.1}" text-anchor="{anchor}"{}>{}</text>"#, if bold { r#" font-weight="bold""# } else { "" }, escape(t));
    };
    let header_y = MARGIN + ROW - 4.0;
    text(&mut s, label_x, header_y, "start", true, &head);
    text(&mut s, effect_right, header_y, "end", true, &effect_head);
    text(&mut s, (plot_left + plot_right) / 2.0, header_y, "middle", true, &effect_head);
    let rule_y = header_y + 5.0;
    let _ = write!(s, r#"<line x1="{MARGIN}" y1="{rule_y:.1}" x2="{:.1}" y2="{rule_y:.1}" stroke="black" stroke-width="0.8"/>"#, width - MARGIN);
    // Where each part was drawn, to cut the plot for pages.
    let mut marks = vec![super::svg::Mark { top: 0.0, bottom: rule_y + 2.0, bytes: 0..s.len() }];
    let mut row_tops = Vec::new();
    let mut y = rule_y + ROW;
    let first_y = rule_y + 2.0;
    for (r, label) in series.rows.iter().zip(&labels) {
        let (start, top) = (s.len(), y - ROW + 4.0);
        row_tops.push(top);
        text(&mut s, label_x, y, "start", false, label);
        match &r.fit {
            Ok(f) => {
                text(&mut s, effect_right, y, "end", false, &format::effect_ci_brackets(shown(f.estimate), shown(f.ci_lower), shown(f.ci_upper), 2));
                let cy = y - 4.0;
                let _ = write!(s, r#"<line x1="{:.1}" y1="{cy:.1}" x2="{:.1}" y2="{cy:.1}" stroke="black" stroke-width="1"/>"#, px(f.ci_lower), px(f.ci_upper));
                for (end, dir) in [(f.ci_lower, -1.0), (f.ci_upper, 1.0)] {
                    if end.abs() > axis.limit && end.signum() == dir {
                        let _ = write!(s, r#"<path d="M{:.1} {cy:.1} l{:.1} -3 v6 z" fill="black"/>"#, px(end), -dir * 6.0);
                    }
                }
                if f.estimate.abs() <= axis.limit {
                    let _ = write!(s, r##"<rect x="{:.1}" y="{:.1}" width="7" height="7" fill="#1f5fa8"/>"##, px(f.estimate) - 3.5, cy - 3.5);
                }
            }
            Err(_) => text(&mut s, effect_right, y, "end", false, "Not estimable"),
        }
        marks.push(super::svg::Mark { top, bottom: y + 4.0, bytes: start..s.len() });
        y += ROW;
    }
    // The full analysis, as a diamond.
    let total_start = s.len();
    row_tops.push(y - ROW + 4.0);
    text(&mut s, label_x, y, "start", true, &total_label);
    text(&mut s, effect_right, y, "end", true, &format::effect_ci_brackets(shown(p.estimate), shown(p.ci_lower), shown(p.ci_upper), 2));
    let cy = y - 4.0;
    let _ = write!(
        s,
        r#"<path d="M{:.1} {cy:.1} L{:.1} {:.1} L{:.1} {cy:.1} L{:.1} {:.1} Z" fill="black"/>"#,
        px(p.ci_lower),
        px(p.estimate),
        cy - 5.0,
        px(p.ci_upper),
        px(p.estimate),
        cy + 5.0
    );
    let axis_y = y + 8.0;
    let total_end = s.len();
    let lines_start = s.len();
    let _ = write!(s, r#"<line x1="{x:.1}" y1="{first_y:.1}" x2="{x:.1}" y2="{axis_y:.1}" stroke="black" stroke-width="0.8"/>"#, x = px(0.0));
    let _ = write!(s, r##"<line x1="{x:.1}" y1="{first_y:.1}" x2="{x:.1}" y2="{:.1}" stroke="#1f5fa8" stroke-width="0.9" stroke-dasharray="4 3"/>"##, cy - 6.0, x = px(p.estimate));
    // Lines down the whole plot: in every band they reach, clipped to it.
    marks.push(super::svg::Mark { top: first_y, bottom: axis_y, bytes: lines_start..s.len() });
    let axis_start = s.len();
    let _ = write!(s, r#"<line x1="{plot_left:.1}" y1="{axis_y:.1}" x2="{plot_right:.1}" y2="{axis_y:.1}" stroke="black" stroke-width="0.8"/>"#);
    for &t in &axis.ticks {
        let tx = px(t);
        let _ = write!(s, r#"<line x1="{tx:.1}" y1="{axis_y:.1}" x2="{tx:.1}" y2="{:.1}" stroke="black" stroke-width="0.8"/>"#, axis_y + 4.0);
        text(&mut s, tx, axis_y + 4.0 + FONT, "middle", false, &axis.label(t));
    }
    let height = axis_y + 4.0 + FONT + 6.0 + MARGIN;
    marks.push(super::svg::Mark { top: y - ROW + 4.0, bottom: height, bytes: total_start..total_end });
    marks.push(super::svg::Mark { top: axis_y - 1.0, bottom: height, bytes: axis_start..s.len() });
    // Breaks every few rows, none among the last rows (they go with the total and the axis).
    let breaks: Vec<f64> = row_tops.iter().enumerate().filter(|(i, _)| i % BAND_ROWS == 0 && i + BAND_ROWS <= row_tops.len()).map(|(_, &t)| t).collect();
    let open = format!(r#"<svg xmlns="http://www.w3.org/2000/svg" font-family="Libertinus Serif, 'Linux Libertine O', serif" font-size="{FONT}""#);
    let parts = super::svg::cut(&s, &open, width, height, row_tops.first().copied().unwrap_or(rule_y + 2.0), &breaks, &marks);
    let title = format!("{} analysis: {}, {} studies", if series.kind == Kind::LeaveOneOut { "Leave-one-out" } else { "Cumulative" }, spec.measure.long_name(), a.k);
    let desc = format!(
        "Re-pooled estimates; the dashed line marks the estimate of all studies, {}.",
        format::effect_sentence(spec.measure.name(), shown(p.estimate), shown(p.ci_lower), shown(p.ci_upper), spec.level, 2)
    );
    let svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.1} {height:.1}" width="{width:.1}" height="{height:.1}" role="img" aria-labelledby="sensitivity-title sensitivity-desc" font-family="Libertinus Serif, 'Linux Libertine O', serif" font-size="{FONT}"><title id="sensitivity-title">{}</title><desc id="sensitivity-desc">{}</desc>{s}</svg>
"#,
        escape(&title),
        escape(&desc)
    );
    (svg, parts)
}
