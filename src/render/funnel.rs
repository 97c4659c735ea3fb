//! The funnel plot, as one SVG used by both outputs: each study's effect against its standard
//! error, the axis of the standard error inverted (0 at the top) as in metafor's `funnel()`
//! and the Cochrane Handbook (chapter 13); the pooled estimate as a vertical line and the 95%
//! pseudo-confidence limits about it; optionally the contour-enhanced regions of statistical
//! significance about no effect (Peters et al. 2008; metafor `funnel(res, level = c(90, 95,
//! 99), refline = 0, shade = …)`), and trim-and-fill's filled studies drawn hollow with the
//! adjusted estimate as a dashed line. Ratio measures are drawn on the log scale and labelled
//! in natural units.
//!
//! Under the figure go the tests for small-study effects in words ([`notes`]): Egger's and
//! Begg's tests and trim-and-fill, or why one of them was not computed, and the Handbook's
//! caution with fewer than 10 studies.
//!
//! Pure: an [`AnalysisResult`] in, SVG text and sentences out. All user text is escaped.

use super::forest::escape;
use super::revman::effect_title;
use crate::engine::AnalysisResult;
use crate::format::{self, fixed};
use crate::stats::dist::qnorm;
use std::fmt::Write;

/// What the author chose in the `funnel` directive.
#[derive(Debug, Clone, Default)]
pub struct FunnelOptions {
    /// Contour levels in percent (e.g. 90, 95, 99); empty for a plain funnel plot.
    pub contours: Vec<f64>,
    /// Draw trim-and-fill's filled studies and adjusted estimate.
    pub trimfill: bool,
}

const FONT: f64 = 11.0;
const WIDTH: f64 = 440.0;
const PLOT_LEFT: f64 = 58.0;
const PLOT_RIGHT: f64 = WIDTH - 16.0;
const PLOT_TOP: f64 = 12.0;
const PLOT_HEIGHT: f64 = 250.0;

/// Estimated width of `text` at the plot's font size.
fn text_width(text: &str) -> f64 {
    text.chars().count() as f64 * FONT * 0.52
}

/// Ticks for a standard-error axis from 0 to at least `max`: a round step, about 4–6 ticks;
/// the axis's end, the ticks and their labels, so that no two read alike however small the
/// errors are.
fn se_ticks(max: f64) -> (f64, Vec<f64>, Vec<String>) {
    let max = if max > 0.0 && max.is_finite() { max } else { 1.0 };
    let raw = max / 4.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * magnitude).find(|s| *s >= raw).unwrap_or(10.0 * magnitude);
    let n = (max / step - 1e-9).ceil().max(1.0) as usize;
    let ticks: Vec<f64> = (0..=n).map(|i| i as f64 * step).collect();
    // One number of decimals for the whole axis ("0.0, 0.2, 0.4"), as metafor's funnel(); past
    // 4 decimals a power of ten, which fits beside the axis ("2.5e-8").
    let labels = ticks.iter().map(|&t| decimals_of(step).filter(|&d| d <= 4).map_or_else(|| format::scientific(t), |d| fixed(t, d))).collect();
    (step * n as f64, ticks, labels)
}

/// The fewest decimals (up to 12) that show `x` exactly; `None` when it needs more (a step too
/// small for decimals, or a number such as 1/3).
fn decimals_of(x: f64) -> Option<usize> {
    if x == 0.0 {
        return Some(0);
    }
    (0..=12).find(|&d| {
        let scaled = x * 10f64.powi(d as i32);
        scaled.round() != 0.0 && (scaled.round() - scaled).abs() < (scaled.abs() * 1e-12).max(1e-6)
    })
}

/// The label of the tick at `v` on an effect axis in steps of `step`, in the fewest decimals
/// that show it ("0.5", "1", "1.5"), or with a power of ten ("2.5e-15") when the step is too
/// small for decimals.
fn tick_label(v: f64, step: f64) -> String {
    match decimals_of(step) {
        Some(d) => fixed(v, decimals_of(v).unwrap_or(d).min(d)),
        None => format::scientific(v),
    }
}

/// Ticks for the effect axis over `[lo, hi]` (analysis scale): round numbers, or round ratios
/// on the log scale. Each tick with its label. The range should be at least a millionth of its
/// values wide (as [`svg`] makes it): narrower than a double can resolve, ticks would read alike.
pub fn effect_ticks(lo: f64, hi: f64, ratio: bool) -> Vec<(f64, String)> {
    if ratio {
        let label = |v: f64| fixed(v, decimals_of(v).unwrap_or(4));
        let sets: [&[f64]; 4] = [&[1.0], &[1.0, 2.0, 5.0], &[1.0, 1.5, 2.0, 3.0, 5.0, 7.0], &[1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0]];
        let in_range = |set: &[f64]| -> Vec<f64> {
            let mut out = Vec::new();
            for e in -6..=6 {
                for m in set {
                    let v = m * 10f64.powi(e);
                    if v.ln() >= lo - 1e-9 && v.ln() <= hi + 1e-9 {
                        out.push(v);
                    }
                }
            }
            out
        };
        let mut chosen = in_range(sets[3]);
        for set in sets {
            let t = in_range(set);
            if t.len() >= 4 {
                chosen = t;
                break;
            }
        }
        while chosen.len() > 8 {
            chosen = chosen.iter().copied().step_by(2).collect();
        }
        if chosen.is_empty() {
            // Too narrow a range for any round ratio: its middle, as the data give it.
            let mid = (lo + hi) / 2.0;
            return vec![(mid, format::data_value(mid.exp()))];
        }
        chosen.into_iter().map(|v| (v.ln(), label(v))).collect()
    } else {
        let raw = ((hi - lo) / 5.0).max(1e-9);
        let magnitude = 10f64.powf(raw.log10().floor());
        let step = [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * magnitude).find(|s| *s >= raw).unwrap_or(10.0 * magnitude);
        let first = (lo / step).ceil() as i64;
        let last = (hi / step).floor() as i64;
        (first..=last).map(|i| i as f64 * step).map(|v| (v, tick_label(if v.abs() < step * 1e-9 { 0.0 } else { v }, step))).collect()
    }
}

/// The funnel plot of `result`.
pub fn svg(result: &AnalysisResult, options: &FunnelOptions) -> String {
    let a = &result.analysis;
    let spec = &a.spec;
    let ratio = spec.log_scale();
    let (yi, vi, _) = a.pooled_effects();
    let sei: Vec<f64> = vi.iter().map(|v| v.sqrt()).collect();
    let trimfill = if options.trimfill { result.small_study.trimfill.as_ref() } else { None };
    let filled: Vec<(f64, f64)> = trimfill.map_or(Vec::new(), |t| t.filled.iter().map(|e| (e.yi, e.vi.sqrt())).collect());
    // A book asks for a funnel plot of an estimable analysis only (the chapter refuses the
    // others); 0 keeps a direct caller's plot of no studies finite.
    let estimate = a.pooled.as_ref().map_or(0.0, |p| p.estimate);
    let z95 = qnorm(0.975);
    let mut levels: Vec<f64> = options.contours.clone();
    levels.sort_by(|x, y| y.total_cmp(x));
    levels.dedup();

    // Axes: the standard error from 0 down to a round number past the largest; the effect
    // wide enough for every point, the funnel and the contours at the bottom of the plot.
    let max_se = sei.iter().chain(filled.iter().map(|(_, s)| s)).copied().fold(0.0, f64::max);
    let (se_max, se_ticks, se_labels) = se_ticks(max_se * 1.05);
    let mut lo = estimate - z95 * se_max;
    let mut hi = estimate + z95 * se_max;
    for &y in yi.iter().chain(filled.iter().map(|(y, _)| y)) {
        lo = lo.min(y);
        hi = hi.max(y);
    }
    if let Some(&widest) = levels.first() {
        let zl = qnorm(1.0 - (1.0 - widest / 100.0) / 2.0);
        lo = lo.min(-zl * se_max);
        hi = hi.max(zl * se_max);
    }
    if let Some(t) = trimfill {
        lo = lo.min(t.pooled.estimate);
        hi = hi.max(t.pooled.estimate);
    }
    // At least a millionth wide (all studies alike with tiny errors), so that ticks on it still
    // read apart.
    let min_width = 1e-6 * estimate.abs().max(1.0);
    if hi - lo < min_width {
        let centre = (lo + hi) / 2.0;
        (lo, hi) = (centre - min_width / 2.0, centre + min_width / 2.0);
    }
    let pad = (hi - lo) * 0.04;
    let (lo, hi) = (lo - pad, hi + pad);
    let plot_bottom = PLOT_TOP + PLOT_HEIGHT;
    let px = |x: f64| PLOT_LEFT + (x - lo) / (hi - lo) * (PLOT_RIGHT - PLOT_LEFT);
    let py = |se: f64| PLOT_TOP + se / se_max * PLOT_HEIGHT;

    let mut s = String::new();
    let measure = effect_title(result);
    let title = format!("Funnel plot: {measure}, {} studies", a.k);
    let desc = notes(result).join(" ");
    let clip = "funnel-clip";
    let body_top = PLOT_TOP;
    let _ = write!(s, r#"<title id="funnel-title">{}</title><desc id="funnel-desc">{}</desc>"#, escape(&title), escape(&desc));
    let _ = write!(s, r#"<defs><clipPath id="{clip}"><rect x="{PLOT_LEFT:.1}" y="{body_top:.1}" width="{:.1}" height="{PLOT_HEIGHT:.1}"/></clipPath></defs>"#, PLOT_RIGHT - PLOT_LEFT);
    let triangle = |centre: f64, z: f64| format!("M{:.1} {:.1} L{:.1} {:.1} L{:.1} {:.1} Z", px(centre), py(0.0), px(centre - z * se_max), py(se_max), px(centre + z * se_max), py(se_max));

    // Contours: from the widest region in, each painted over the last; outside the widest the
    // darkest shade, inside the narrowest white (not significant at any level).
    let shades = shade_colours(levels.len());
    let mut legend: Vec<(LegendMark, String)> = Vec::new();
    if !levels.is_empty() {
        let _ = write!(s, r#"<rect x="{PLOT_LEFT:.1}" y="{body_top:.1}" width="{:.1}" height="{PLOT_HEIGHT:.1}" fill="{}"/>"#, PLOT_RIGHT - PLOT_LEFT, shades[0]);
        let _ = write!(s, r#"<g clip-path="url(#{clip})">"#);
        for (i, l) in levels.iter().enumerate() {
            let zl = qnorm(1.0 - (1.0 - l / 100.0) / 2.0);
            let _ = write!(s, r#"<path d="{}" fill="{}"/>"#, triangle(0.0, zl), shades[i + 1]);
        }
        s.push_str("</g>");
        // Legend from the white (least significant) outwards, in P values.
        let mut ps: Vec<f64> = levels.iter().map(|l| 1.0 - l / 100.0).collect();
        ps.reverse();
        let p_text = |p: f64| fixed(p, decimals_of(p).unwrap_or(4).clamp(2, 4));
        for (i, p) in ps.iter().enumerate() {
            let text = if i == 0 { format!("P > {}", p_text(*p)) } else { format!("{} < P ≤ {}", p_text(*p), p_text(ps[i - 1])) };
            legend.push((LegendMark::Shade(shades[levels.len() - i]), text));
        }
        legend.push((LegendMark::Shade(shades[0]), format!("P ≤ {}", p_text(ps[ps.len() - 1]))));
    }
    let _ = write!(s, r#"<rect x="{PLOT_LEFT:.1}" y="{body_top:.1}" width="{:.1}" height="{PLOT_HEIGHT:.1}" fill="none" stroke="black" stroke-width="0.8"/>"#, PLOT_RIGHT - PLOT_LEFT);

    // The 95% pseudo-confidence limits about the pooled estimate, and the estimates.
    let _ = write!(s, r#"<g clip-path="url(#{clip})">"#);
    let (top, left_bottom, right_bottom) = ((px(estimate), py(0.0)), px(estimate - z95 * se_max), px(estimate + z95 * se_max));
    let _ = write!(
        s,
        r##"<path d="M{:.1} {:.1} L{top_x:.1} {top_y:.1} L{:.1} {:.1}" fill="none" stroke="#555" stroke-width="0.9" stroke-dasharray="2 2"/>"##,
        left_bottom,
        py(se_max),
        right_bottom,
        py(se_max),
        top_x = top.0,
        top_y = top.1
    );
    let _ = write!(s, r#"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="black" stroke-width="1"/>"#, py(0.0), py(se_max), x = px(estimate));
    if let Some(t) = trimfill {
        let _ = write!(s, r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#1f5fa8" stroke-width="1.2" stroke-dasharray="5 3"/>"##, py(0.0), py(se_max), x = px(t.pooled.estimate));
    }
    s.push_str("</g>");

    // Studies: filled dots; trim-and-fill's filled studies: open circles.
    for (y, se) in yi.iter().zip(&sei) {
        let _ = write!(s, r##"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="#1f5fa8" stroke="black" stroke-width="0.6"/>"##, px(*y), py(*se));
    }
    for (y, se) in &filled {
        let _ = write!(s, r#"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="white" stroke="black" stroke-width="1"/>"#, px(*y), py(*se));
    }

    // Axes.
    for (t, label) in se_ticks.iter().zip(&se_labels) {
        let y = py(*t);
        let _ = write!(s, r#"<line x1="{:.1}" y1="{y:.1}" x2="{PLOT_LEFT:.1}" y2="{y:.1}" stroke="black" stroke-width="0.8"/>"#, PLOT_LEFT - 4.0);
        let _ = write!(s, r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#, PLOT_LEFT - 6.0, y + 4.0, escape(label));
    }
    let mid_y = PLOT_TOP + PLOT_HEIGHT / 2.0;
    let _ = write!(s, r#"<text x="14" y="{mid_y:.1}" text-anchor="middle" transform="rotate(-90 14 {mid_y:.1})">Standard error</text>"#);
    for (t, label) in effect_ticks(lo, hi, ratio) {
        let x = px(t);
        let _ = write!(s, r#"<line x1="{x:.1}" y1="{plot_bottom:.1}" x2="{x:.1}" y2="{:.1}" stroke="black" stroke-width="0.8"/>"#, plot_bottom + 4.0);
        let _ = write!(s, r#"<text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"#, plot_bottom + 6.0 + FONT, escape(&label));
    }
    let axis_title = if ratio { format!("{measure} (log scale)") } else { measure.to_string() };
    let mut y = plot_bottom + 6.0 + 2.0 * FONT + 6.0;
    let _ = write!(s, r#"<text x="{:.1}" y="{y:.1}" text-anchor="middle">{}</text>"#, (PLOT_LEFT + PLOT_RIGHT) / 2.0, escape(&axis_title));

    // Legend: the marks, then the contour shades, wrapped to the plot's width.
    let mut marks = vec![(LegendMark::Dot, "Studies".to_string())];
    if trimfill.is_some() {
        marks.push((LegendMark::Circle, "Filled by trim-and-fill".to_string()));
    }
    marks.push((LegendMark::Line, format!("Pooled estimate ({})", format::fixed(estimate_shown(estimate, ratio), 2))));
    if let Some(t) = trimfill {
        marks.push((LegendMark::Dashed, format!("Adjusted estimate ({})", format::fixed(estimate_shown(t.pooled.estimate, ratio), 2))));
    }
    marks.push((LegendMark::Dotted, "95% pseudo-confidence limits".to_string()));
    marks.extend(legend);
    y += 8.0;
    let mut x = PLOT_LEFT;
    let mut line_y = y + FONT;
    let mut previous: Option<&LegendMark> = None;
    for (mark, label) in &marks {
        let w = 18.0 + text_width(label) + 12.0;
        // The shades of the contours start a line of their own.
        let first_shade = matches!(mark, LegendMark::Shade(_)) && !matches!(previous, Some(LegendMark::Shade(_)));
        previous = Some(mark);
        if (x + w > PLOT_RIGHT + 8.0 || first_shade) && x > PLOT_LEFT {
            x = PLOT_LEFT;
            line_y += FONT + 6.0;
        }
        let cy = line_y - 4.0;
        match mark {
            LegendMark::Dot => {
                let _ = write!(s, r##"<circle cx="{:.1}" cy="{cy:.1}" r="3.5" fill="#1f5fa8" stroke="black" stroke-width="0.6"/>"##, x + 6.0);
            }
            LegendMark::Circle => {
                let _ = write!(s, r#"<circle cx="{:.1}" cy="{cy:.1}" r="3.5" fill="white" stroke="black" stroke-width="1"/>"#, x + 6.0);
            }
            LegendMark::Line => {
                let _ = write!(s, r#"<line x1="{x:.1}" y1="{cy:.1}" x2="{:.1}" y2="{cy:.1}" stroke="black" stroke-width="1"/>"#, x + 13.0);
            }
            LegendMark::Dashed => {
                let _ = write!(s, r##"<line x1="{x:.1}" y1="{cy:.1}" x2="{:.1}" y2="{cy:.1}" stroke="#1f5fa8" stroke-width="1.2" stroke-dasharray="5 3"/>"##, x + 13.0);
            }
            LegendMark::Dotted => {
                let _ = write!(s, r##"<line x1="{x:.1}" y1="{cy:.1}" x2="{:.1}" y2="{cy:.1}" stroke="#555" stroke-width="0.9" stroke-dasharray="2 2"/>"##, x + 13.0);
            }
            LegendMark::Shade(colour) => {
                let _ = write!(s, r#"<rect x="{x:.1}" y="{:.1}" width="12" height="9" fill="{colour}" stroke="black" stroke-width="0.5"/>"#, cy - 4.5);
            }
        }
        let _ = write!(s, r#"<text x="{:.1}" y="{line_y:.1}">{}</text>"#, x + 18.0, escape(label));
        x += w;
    }
    let height = line_y + 8.0;
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH:.1} {height:.1}" width="{WIDTH:.1}" height="{height:.1}" role="img" aria-labelledby="funnel-title funnel-desc" font-family="Libertinus Serif, 'Linux Libertine O', serif" font-size="{FONT}">{s}</svg>
"#
    )
}

fn estimate_shown(x: f64, ratio: bool) -> f64 {
    if ratio {
        x.exp()
    } else {
        x
    }
}

enum LegendMark {
    Dot,
    Circle,
    Line,
    Dashed,
    Dotted,
    Shade(&'static str),
}

/// Fill colours for `n` contour levels: the first for outside the widest region (most
/// significant, darkest), the last white (inside the narrowest).
fn shade_colours(n: usize) -> Vec<&'static str> {
    const GREYS: [&str; 5] = ["#8f8f8f", "#a8a8a8", "#c2c2c2", "#dadada", "#efefef"];
    let mut out: Vec<&'static str> = GREYS[GREYS.len().saturating_sub(n.min(GREYS.len()))..].to_vec();
    while out.len() < n {
        out.insert(0, GREYS[0]);
    }
    out.push("white");
    out
}

/// The tests for small-study effects in words, for under the figure: one sentence with
/// Egger's test, Begg's test and trim-and-fill (or why each was not computed), then the
/// cautions (the Cochrane Handbook's with fewer than 10 studies first).
pub fn notes(result: &AnalysisResult) -> Vec<String> {
    let ss = &result.small_study;
    let spec = &result.analysis.spec;
    let ratio = spec.log_scale();
    let egger = match &ss.egger {
        Some(e) => match e.stat_df {
            Some(df) => format!("Egger's test: t = {}, df = {}, {}", fixed(e.stat, 2), fixed(df, 0), format::p_journal(e.p)),
            None => format!("Egger's test: z = {}, {}", fixed(e.stat, 2), format::p_journal(e.p)),
        },
        None => "Egger's test: not computed".to_string(),
    };
    let begg = match &ss.begg {
        Some(b) => format!("Begg's test: Kendall's τ = {}, {}", fixed(b.tau, 2), format::p_journal(b.p)),
        None => "Begg's test: not computed".to_string(),
    };
    let trimfill = match &ss.trimfill {
        Some(t) if t.k0 == 0 => "trim-and-fill: no studies estimated missing (k0 = 0)".to_string(),
        Some(t) => {
            let p = &t.pooled;
            format!(
                "trim-and-fill: k0 = {} {} filled on the {}; adjusted estimate {}",
                t.k0,
                if t.k0 == 1 { "study" } else { "studies" },
                t.side.name(),
                format::effect_sentence(spec.measure.name(), estimate_shown(p.estimate, ratio), estimate_shown(p.ci_lower, ratio), estimate_shown(p.ci_upper, ratio), spec.level, 2)
            )
        }
        None => "trim-and-fill: not computed".to_string(),
    };
    let mut out = vec![format!("{egger}; {begg}; {trimfill}.")];
    out.extend(ss.notes.iter().cloned());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_error_ticks_are_round() {
        let (max, ticks, labels) = se_ticks(0.43);
        assert_eq!((max, ticks.len(), labels), (0.6000000000000001, 4, vec!["0.0".to_string(), "0.2".into(), "0.4".into(), "0.6".into()]));
        let (max, ticks, labels) = se_ticks(0.9);
        assert_eq!((max, ticks.len(), labels[1].as_str()), (1.0, 5, "0.25"));
        let (max, _, labels) = se_ticks(0.11);
        assert_eq!((max, labels.last().unwrap().as_str()), (0.15000000000000002, "0.15"));
    }

    /// Fuzz finding (seed 1796048171, iteration 60): standard errors of 1e-8 gave an axis that
    /// ended at 0 (rounded to 4 decimals), so every y was NaN or ∞, and ticks all labelled "0".
    #[test]
    fn tiny_standard_errors_keep_an_axis_with_distinct_labels() {
        let (max, ticks, labels) = se_ticks(2.1e-8);
        assert!(max > 2.1e-8 && max < 5e-8, "{max}");
        assert_eq!(ticks.len(), labels.len());
        assert_eq!(labels, ["0", "1e-8", "2e-8", "3e-8"]);
        let (_, _, labels) = se_ticks(3e-15);
        assert_eq!(labels[1], "1e-15");
        let mut seen = std::collections::HashSet::new();
        for (_, label) in effect_ticks(-0.8656581, -0.8656561, false) {
            assert!(seen.insert(label.clone()), "two ticks read {label}");
        }
        assert!(seen.len() >= 3, "{seen:?}");
        let narrow = effect_ticks(0.42f64.ln() - 1e-8, 0.42f64.ln() + 1e-8, true);
        assert_eq!(narrow.len(), 1);
        assert_eq!(narrow[0].1, "0.42");
    }

    #[test]
    fn ratio_ticks_are_round_ratios() {
        let ticks: Vec<String> = effect_ticks(0.1f64.ln() - 0.01, 2.0f64.ln() + 0.01, true).into_iter().map(|(_, l)| l).collect();
        assert_eq!(ticks, ["0.1", "0.2", "0.5", "1", "2"]);
        let ticks: Vec<String> = effect_ticks(-1.3, 2.1, false).into_iter().map(|(_, l)| l).collect();
        assert_eq!(ticks, ["\u{2212}1", "0", "1", "2"]);
    }
}
