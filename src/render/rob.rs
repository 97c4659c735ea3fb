//! Risk-of-bias figures as SVG, in the two forms robvis made standard: the traffic-light plot
//! (a coloured circle with a symbol per study and domain, the overall judgement last, the
//! domains spelt out under it) and the summary plot (per domain, a bar split into the share of
//! studies — or of the analysis' weight — at each judgement).
//!
//! Pure: a checked [`RobTable`] in, SVG text out, every user text escaped. Colours and symbols
//! come from [`Judgement`], so the two plots and the legend always agree; symbols are drawn as
//! well as colours, so the figures read in black and white and for colour-blind readers.

use super::forest::escape;
use crate::data::rob::{Judgement, RobTable};
use std::fmt::Write;

const FONT: f64 = 11.0;
const MARGIN: f64 = 8.0;
/// The size the HTML page shows a plot at, relative to its drawing units, so that its 11-unit
/// text reads at about 14 px beside the 17 px prose. (The PDF sizes it from the drawing units.)
const DISPLAY_SCALE: f64 = 1.3;

/// The widest a domain's name is set on one line (in the key under the traffic-light plot and
/// beside the summary plot's bars); a longer name wraps. Every tool's own names fit.
const NAME_WIDTH: f64 = 420.0;

fn text_width(text: &str) -> f64 {
    text.chars().count() as f64 * FONT * 0.52
}

/// The judgements that occur in the table, in the tool's order, for the legend.
fn used(table: &RobTable) -> Vec<Judgement> {
    let mut used: Vec<Judgement> = table.rows.iter().flat_map(|r| r.judgements.iter().copied().chain(r.overall)).collect();
    used.sort();
    used.dedup();
    table.tool.judgements.iter().copied().filter(|j| used.contains(j)).collect()
}

fn open_svg(out: &mut String, width: f64, height: f64, title: &str, desc: &str) {
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{:.0}\" height=\"{:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" role=\"img\" font-family=\"Libertinus Serif, Linux Libertine O, Georgia, serif\" font-size=\"{FONT}\">\n<title>{}</title>\n<desc>{}</desc>\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
        width * DISPLAY_SCALE,
        height * DISPLAY_SCALE,
        escape(title),
        escape(desc)
    );
}

/// The symbol of a judgement in a circle of radius `r` at (`x`, `y`).
fn light(out: &mut String, x: f64, y: f64, r: f64, j: Judgement) {
    let symbol_size = if j.symbol().chars().count() > 1 { r * 0.95 } else { r * 1.5 };
    let _ = writeln!(
        out,
        "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{r:.1}\" fill=\"{}\" stroke=\"#333\" stroke-width=\"0.6\"/><text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-family=\"DejaVu Sans Mono, monospace\" font-weight=\"bold\" font-size=\"{symbol_size:.1}\" fill=\"{}\">{}</text>",
        j.colour(),
        y + symbol_size * 0.35,
        if matches!(j, Judgement::SomeConcerns | Judgement::Moderate | Judgement::Unclear | Judgement::NotReported) { "#222" } else { "white" },
        escape(j.symbol())
    );
}

/// The legend of judgements, left to right from (`x`, `y`); returns its height.
fn legend(out: &mut String, x: f64, y: f64, judgements: &[Judgement]) -> f64 {
    let _ = writeln!(out, "<text x=\"{x:.1}\" y=\"{:.1}\" font-weight=\"bold\">Judgement</text>", y + FONT);
    let mut cx = x;
    let cy = y + FONT * 2.4;
    for &j in judgements {
        light(out, cx + 7.0, cy, 7.0, j);
        let _ = writeln!(out, "<text x=\"{:.1}\" y=\"{:.1}\">{}</text>", cx + 18.0, cy + 4.0, escape(j.name()));
        cx += 18.0 + text_width(j.name()) + 16.0;
    }
    FONT * 3.6
}

/// The traffic-light plot.
pub fn traffic_light(table: &RobTable) -> String {
    traffic_light_parts(table).0
}

/// Study rows in a band of a traffic-light plot cut for pages.
const BAND_ROWS: usize = 5;

/// The traffic-light plot whole, and cut for pages (see [`super::svg::cut`]): its column
/// headings, then bands of [`BAND_ROWS`] studies, the last with the key and the legend.
pub fn traffic_light_parts(table: &RobTable) -> (String, super::svg::Parts) {
    let domains = table.tool.domains.len();
    let cell = 26.0;
    // The overall column is as wide as its heading.
    let overall_cell = text_width("Overall") + 12.0;
    let row = 24.0;
    let label_width = table.rows.iter().map(|r| text_width(&r.study)).fold(text_width("Study"), f64::max) + 12.0;
    // The key under the plot, one domain each, wrapped to the plot's width (at least
    // NAME_WIDTH): a name is never wider than the figure.
    let key: Vec<String> = table.tool.domains.iter().enumerate().map(|(i, d)| format!("D{}: {d}", i + 1)).collect();
    let used = used(table);
    let legend_width: f64 = used.iter().map(|j| 34.0 + text_width(j.name())).sum();
    let lights_width = domains as f64 * cell + if table.has_overall { overall_cell } else { 0.0 };
    let grid_width = label_width + lights_width;
    let key: Vec<String> = key.iter().flat_map(|k| super::svg::wrap(k, grid_width.max(legend_width).max(NAME_WIDTH), text_width)).collect();
    let key_width = key.iter().map(|k| text_width(k)).fold(0.0, f64::max);
    let width = MARGIN * 2.0 + grid_width.max(key_width).max(legend_width);
    let top = MARGIN + FONT * 2.6;
    let grid_height = table.rows.len() as f64 * row;
    let height = top + grid_height + 10.0 + key.len() as f64 * (FONT + 4.0) + 8.0 + FONT * 3.6 + MARGIN;
    let mut out = String::new();
    let desc = format!(
        "Risk of bias ({}) of {} studies in {} domains{}; judgements: {}.",
        table.tool.name,
        table.rows.len(),
        domains,
        if table.has_overall { " and overall" } else { "" },
        table
            .rows
            .iter()
            .map(|r| format!("{}: {}", r.study, r.judgements.iter().chain(r.overall.iter()).map(|j| j.name()).collect::<Vec<_>>().join(", ")))
            .collect::<Vec<_>>()
            .join("; ")
    );
    open_svg(&mut out, width, height, &format!("Risk of bias ({}), traffic-light plot", table.tool.name), &desc);
    // Where each part was drawn, to cut the figure for pages.
    let mut marks: Vec<super::svg::Mark> = Vec::new();
    let mut mark = |out: &String, top: f64, bottom: f64, start: usize| marks.push(super::svg::Mark { top, bottom, bytes: start..out.len() });
    let head_start = out.len();
    let x0 = MARGIN;
    // The centre of column `c`: the domains, then the overall judgement.
    let centre = |c: usize| if c < domains { x0 + label_width + (c as f64 + 0.5) * cell } else { x0 + label_width + domains as f64 * cell + overall_cell / 2.0 };
    let _ = writeln!(out, "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-weight=\"bold\">Risk of bias domains</text>", x0 + label_width + domains as f64 * cell / 2.0, MARGIN + FONT);
    let _ = writeln!(out, "<text x=\"{x0:.1}\" y=\"{:.1}\" font-weight=\"bold\">Study</text>", top - 6.0);
    for c in 0..domains + usize::from(table.has_overall) {
        let head = if c < domains { format!("D{}", c + 1) } else { "Overall".to_string() };
        let _ = writeln!(out, "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-weight=\"bold\">{head}</text>", centre(c), top - 6.0);
    }
    mark(&out, 0.0, top, head_start);
    // Light grid behind the circles, and a rule before the overall column.
    let grid_start = out.len();
    let _ = writeln!(out, "<rect x=\"{:.1}\" y=\"{top:.1}\" width=\"{lights_width:.1}\" height=\"{grid_height:.1}\" fill=\"#f3f3f3\" stroke=\"#999\" stroke-width=\"0.5\"/>", x0 + label_width);
    if table.has_overall {
        let x = x0 + label_width + domains as f64 * cell;
        let _ = writeln!(out, "<line x1=\"{x:.1}\" y1=\"{top:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#999\" stroke-width=\"0.5\"/>", top + grid_height);
    }
    mark(&out, top, top + grid_height, grid_start);
    for (i, r) in table.rows.iter().enumerate() {
        let row_start = out.len();
        let cy = top + (i as f64 + 0.5) * row;
        let _ = writeln!(out, "<text x=\"{x0:.1}\" y=\"{:.1}\">{}</text>", cy + 4.0, escape(&r.study));
        for (c, j) in r.judgements.iter().chain(r.overall.iter()).enumerate() {
            light(&mut out, centre(c), cy, 9.0, *j);
        }
        mark(&out, cy - row / 2.0, cy + row / 2.0, row_start);
    }
    let key_start = out.len();
    let mut y = top + grid_height + 10.0;
    for k in &key {
        y += FONT + 4.0;
        let _ = writeln!(out, "<text x=\"{x0:.1}\" y=\"{y:.1}\">{}</text>", escape(k));
    }
    legend(&mut out, x0, y + 8.0, &used);
    mark(&out, top + grid_height, height, key_start);
    let n = table.rows.len();
    let breaks: Vec<f64> = (0..n).filter(|i| i % BAND_ROWS == 0 && i + BAND_ROWS <= n).map(|i| top + i as f64 * row).collect();
    let open = format!("<svg xmlns=\"http://www.w3.org/2000/svg\" font-family=\"Libertinus Serif, Linux Libertine O, Georgia, serif\" font-size=\"{FONT}\"");
    let parts = super::svg::cut(&out, &open, width, height, top, &breaks, &marks);
    out.push_str("</svg>\n");
    (out, parts)
}

/// The summary plot: per domain, the share of studies (or of `weights`, in the order of the
/// table's rows) at each judgement.
pub fn summary(table: &RobTable, weights: Option<&[f64]>) -> String {
    let mut labels: Vec<String> = table.tool.domains.clone();
    if table.has_overall {
        labels.push("Overall risk of bias".to_string());
    }
    let bar = 320.0;
    // A bar's row: 22 units, taller for a name that wraps; (top, height, lines) of each.
    let line = FONT + 3.0;
    let labels: Vec<Vec<String>> = labels.iter().map(|l| super::svg::wrap(l, NAME_WIDTH, text_width)).collect();
    let mut rows: Vec<(f64, f64)> = Vec::new();
    let top = MARGIN + 4.0;
    for l in &labels {
        let start = rows.last().map_or(top, |(t, h)| t + h);
        rows.push((start, 22.0f64.max(l.len() as f64 * line + 8.0)));
    }
    let bars_bottom = rows.last().map_or(top, |(t, h)| t + h);
    let label_width = labels.iter().flatten().map(|l| text_width(l)).fold(0.0, f64::max) + 14.0;
    let used = used(table);
    let legend_width: f64 = used.iter().map(|j| 34.0 + text_width(j.name())).sum();
    let width = MARGIN * 2.0 + (label_width + bar + 10.0).max(legend_width);
    let height = bars_bottom + 34.0 + FONT * 3.6 + MARGIN;
    let total: f64 = match weights {
        Some(w) => w.iter().sum(),
        None => table.rows.len() as f64,
    };
    let weight = |i: usize| weights.map_or(1.0, |w| w.get(i).copied().unwrap_or(0.0));
    let mut out = String::new();
    let mut desc = format!("Risk of bias ({}), share of {} by judgement per domain: ", table.tool.name, if weights.is_some() { "the analysis' weight" } else { "studies" });
    open_svg(&mut out, width, height, &format!("Risk of bias ({}), summary plot", table.tool.name), "");
    let x0 = MARGIN + label_width;
    for (d, (label, &(y, row))) in labels.iter().zip(&rows).enumerate() {
        // The name's lines centred on the bar.
        let first = y + row / 2.0 + 4.0 - (label.len() - 1) as f64 * line / 2.0;
        for (i, l) in label.iter().enumerate() {
            let _ = writeln!(out, "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>", x0 - 8.0, first + i as f64 * line, escape(l));
        }
        let label = label.join(" ");
        let mut x = x0;
        let mut shares = Vec::new();
        // Row `d` is a domain, or the overall judgement after the last domain.
        let judgement_of = |r: &crate::data::rob::RobRow| if d < table.tool.domains.len() { r.judgements.get(d).copied() } else { r.overall };
        for &j in table.tool.judgements {
            let share: f64 = table.rows.iter().enumerate().filter(|(_, r)| judgement_of(r) == Some(j)).map(|(i, _)| weight(i)).sum::<f64>() / total.max(f64::MIN_POSITIVE);
            if share <= 0.0 {
                continue;
            }
            let w = share * bar;
            let _ = writeln!(out, "<rect x=\"{x:.2}\" y=\"{:.1}\" width=\"{w:.2}\" height=\"16.0\" fill=\"{}\" stroke=\"#333\" stroke-width=\"0.5\"/>", y + row / 2.0 - 8.0, j.colour());
            shares.push(format!("{} {:.0}%", j.name(), share * 100.0));
            x += w;
        }
        let _ = write!(desc, "{label}: {}; ", shares.join(", "));
    }
    let axis_y = bars_bottom + 2.0;
    let _ = writeln!(out, "<line x1=\"{x0:.1}\" y1=\"{axis_y:.1}\" x2=\"{:.1}\" y2=\"{axis_y:.1}\" stroke=\"#333\" stroke-width=\"0.8\"/>", x0 + bar);
    for t in 0..=4 {
        let x = x0 + bar * t as f64 / 4.0;
        let _ = writeln!(out, "<line x1=\"{x:.1}\" y1=\"{axis_y:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#333\" stroke-width=\"0.8\"/><text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}%</text>", axis_y + 4.0, axis_y + 16.0, t * 25);
    }
    legend(&mut out, MARGIN, axis_y + 22.0, &used);
    out.push_str("</svg>\n");
    // The description lists every share; put it in now that it is known.
    out.replacen("<desc></desc>", &format!("<desc>{}</desc>", escape(desc.trim_end_matches("; "))), 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::rob::RobRow;

    fn table() -> RobTable {
        let tool = crate::data::rob::tool("RoB 2", None).unwrap();
        let row = |study: &str, j: [Judgement; 5], overall: Judgement| RobRow { study: study.into(), span: 0..0, judgements: j.to_vec(), overall: Some(overall) };
        use Judgement::*;
        RobTable {
            source: crate::diag::Source::new("rob.csv", ""),
            tool,
            rows: vec![
                row("Smith <2001> & co", [Low, Low, SomeConcerns, Low, High], High),
                row("Jones 2003", [Low, Low, Low, Low, Low], Low),
                row("Lee 2010", [NotReported, NotReported, NotReported, NotReported, NotReported], NotReported),
            ],
            has_overall: true,
        }
    }

    #[test]
    fn a_tall_traffic_light_is_cut_into_bands_of_whole_studies() {
        let mut t = table();
        let first = t.rows[1].clone();
        t.rows = (0..23).map(|i| RobRow { study: format!("Study {i:02}"), ..first.clone() }).collect();
        let (whole, parts) = traffic_light_parts(&t);
        assert_eq!(whole, traffic_light(&t));
        assert!(parts.head.contains(">Study<") && parts.head.contains(">D1<") && !parts.head.contains("Study 00"));
        // 23 studies: bands of 5, the last with the final 8 rows, the key and the legend.
        assert_eq!(parts.bands.len(), 4);
        for i in 0..23 {
            assert_eq!(parts.bands.iter().filter(|b| b.contains(&format!(">Study {i:02}<"))).count(), 1, "study {i}");
        }
        assert!(parts.bands.iter().all(|b| b.contains("fill=\"#f3f3f3\"")), "the grid behind the lights is in every band");
        assert!(parts.bands[3].contains(">Study 22<") && parts.bands[3].contains("Judgement") && !parts.bands[2].contains("Judgement"));
    }

    #[test]
    fn traffic_light_shows_every_judgement_with_symbol_and_escaped_labels() {
        let svg = traffic_light(&table());
        assert!(svg.contains("Smith &lt;2001&gt; &amp; co"));
        assert_eq!(svg.matches("<circle").count(), 3 * 6 + 4, "18 lights and 4 legend entries");
        assert!(svg.contains("D5: Bias in selection of the reported result"));
        assert!(svg.contains(">Not reported</text>") && svg.contains(">Overall</text>"));
    }

    #[test]
    fn summary_shares_by_count_and_by_weight() {
        let svg = summary(&table(), None);
        assert!(svg.contains("Bias arising from the randomization process: Low 67%, Not reported 33%"), "{svg}");
        let weighted = summary(&table(), Some(&[10.0, 80.0, 10.0]));
        assert!(weighted.contains("Bias in selection of the reported result: Low 80%, High 10%, Not reported 10%"), "{weighted}");
        assert!(weighted.contains("Overall risk of bias: Low 80%, High 10%, Not reported 10%"), "{weighted}");
    }
}
