//! `metabook pool --format text`: an analysis as RevMan 5 shows it — a table of studies with
//! their group data, weights and effects with confidence intervals, a total row, and the footer
//! lines for heterogeneity and the test for the overall effect.

use crate::engine::AnalysisResult;
use crate::format::{self, fixed};
use crate::stats::{Analysis, Measure, Method, Pooled, StudyData};

/// Render a whole analysis as text.
pub fn render(result: &AnalysisResult) -> String {
    let a = &result.analysis;
    let spec = &a.spec;
    let ratio = spec.measure.is_ratio() || spec.method == Method::PETO;
    let mut out = String::new();
    out.push_str(&format!(
        "{}, {}, {}% CI ({} convention)\n",
        effect_title(spec.measure, spec.method),
        spec.method.revman_label(),
        fixed(spec.level, 0),
        spec.convention.name()
    ));
    out.push_str(&format!("Data: {} ({} studies)\n\n", result.table.source.name, result.table.studies.len()));

    let (group_head, group_cells) = group_columns(result);
    let mut table = Table::new();
    let mut head = vec!["Study or subgroup".to_string()];
    head.extend(group_head);
    head.push("Weight".to_string());
    head.push(format!("{} [{}% CI]", spec.measure.name(), fixed(spec.level, 0)));
    table.row(head);
    table.rule();
    let effect_text = |e: f64, lo: f64, hi: f64| {
        if ratio {
            format::effect_ci_brackets(e.exp(), lo.exp(), hi.exp(), 2)
        } else {
            format::effect_ci_brackets(e, lo, hi, 2)
        }
    };
    let z = crate::stats::dist::qnorm(1.0 - spec.alpha() / 2.0);
    let analysed: Vec<_> = a.studies().collect();
    let study_row = |i: usize| -> Vec<String> {
        let s = &result.table.studies[i];
        let r = &analysed[i];
        let mut row = vec![s.label.clone()];
        row.extend(group_cells[i].iter().cloned());
        row.push(r.weight.map_or("".to_string(), format::weight));
        row.push(match r.effect {
            Some(e) => effect_text(e.yi, e.yi - z * e.vi.sqrt(), e.yi + z * e.vi.sqrt()),
            None => "Not estimable".to_string(),
        });
        row
    };
    let total_row = |label: &str, members: &[usize], pooled: &Pooled, weight: f64| -> Vec<String> {
        let mut row = vec![label.to_string()];
        row.extend(group_totals(result, members));
        row.push(format::weight(weight));
        row.push(effect_text(pooled.estimate, pooled.ci_lower, pooled.ci_upper));
        row
    };
    let mut footer_after: Vec<(usize, Vec<String>)> = Vec::new();
    if let Some(sa) = &result.subgroups {
        for (n, g) in sa.subgroups.iter().enumerate() {
            table.row(vec![format!("{}. {}", n + 1, g.name)]);
            for &i in &g.members {
                table.row(study_row(i));
            }
            let w: f64 = g.members.iter().filter_map(|&i| analysed[i].weight).sum();
            table.row(total_row(&format!("Subtotal ({}% CI)", fixed(spec.level, 0)), &g.members, &g.analysis.pooled, w));
            footer_after.push((table.rows.len(), footer_lines(&g.analysis)));
            table.blank();
        }
    } else {
        for i in 0..result.table.studies.len() {
            table.row(study_row(i));
        }
        table.blank();
    }
    let all: Vec<usize> = (0..result.table.studies.len()).collect();
    table.row(total_row(&format!("Total ({}% CI)", fixed(spec.level, 0)), &all, &a.pooled, 100.0));
    out.push_str(&table.render(&footer_after));
    for line in footer_lines(a) {
        out.push_str(&line);
        out.push('\n');
    }
    if let Some(t) = result.subgroups.as_ref().and_then(|s| s.test.as_ref()) {
        out.push_str(&format!(
            "Test for subgroup differences: Chi² = {}, df = {} ({}), I² = {}\n",
            fixed(t.q, 2),
            fixed(t.df, 0),
            format::p_revman(t.p),
            format::percent0(t.i2)
        ));
    }
    if let Some((lo, hi)) = a.pooled.prediction.filter(|_| spec.method.is_random()) {
        let (lo, hi) = if ratio { (lo.exp(), hi.exp()) } else { (lo, hi) };
        out.push_str(&format!("Prediction interval: [{}, {}]\n", fixed(lo, 2), fixed(hi, 2)));
    }
    if let Some((lo, hi)) = a.pooled.tau2_ci {
        out.push_str(&format!("Tau² {}% CI (Q-profile): [{}, {}]\n", fixed(spec.level, 0), fixed(lo, 4), fixed(hi, 4)));
    }
    if !result.notes.is_empty() {
        out.push_str("\nNotes:\n");
        for n in &result.notes {
            out.push_str(&format!("- {n}\n"));
        }
    }
    out
}

fn effect_title(measure: Measure, method: Method) -> &'static str {
    if method == Method::PETO {
        "Peto Odds Ratio"
    } else {
        measure.long_name()
    }
}

/// The RevMan footer: heterogeneity and the test for the overall effect.
fn footer_lines(a: &Analysis) -> Vec<String> {
    let p = &a.pooled;
    let het = match &p.heterogeneity {
        None => "Heterogeneity: Not applicable".to_string(),
        Some(h) => {
            let tau = p.tau2.map_or(String::new(), |t| format!("Tau² = {}; ", fixed(t, 2)));
            format!(
                "Heterogeneity: {tau}Chi² = {}, df = {} ({}); I² = {}",
                fixed(h.q, 2),
                fixed(h.df, 0),
                format::p_revman(h.p),
                format::percent0(h.i2)
            )
        }
    };
    let test = match p.stat_df {
        None => format!("Test for overall effect: Z = {} ({})", fixed(p.stat.abs(), 2), format::p_revman(p.p)),
        Some(df) => format!("Test for overall effect: t = {}, df = {} ({})", fixed(p.stat.abs(), 2), fixed(df, 0), format::p_revman(p.p)),
    };
    vec![het, test]
}

/// Column headings and per-study cells for the group data, by design.
fn group_columns(result: &AnalysisResult) -> (Vec<String>, Vec<Vec<String>>) {
    let num = |x: f64| trim_number(x);
    let cells = result
        .table
        .studies
        .iter()
        .map(|s| match s.data {
            StudyData::Continuous { n1, mean1, sd1, n2, mean2, sd2 } => {
                vec![num(mean1), num(sd1), num(n1), num(mean2), num(sd2), num(n2)]
            }
            StudyData::PrePost { n, mean_pre, sd_pre, mean_post, sd_post, r } => {
                vec![num(mean_pre), num(sd_pre), num(mean_post), num(sd_post), num(n), num(r)]
            }
            StudyData::Binary { events1, n1, events2, n2 } => vec![num(events1), num(n1), num(events2), num(n2)],
            StudyData::Correlation { n, r } => vec![num(n), num(r)],
            StudyData::Generic { yi, vi } => vec![num(yi), num(vi.sqrt())],
        })
        .collect();
    let head = match result.table.studies.first().map(|s| s.data) {
        Some(StudyData::Continuous { .. }) => vec!["Exp. mean", "SD", "Total", "Ctrl mean", "SD", "Total"],
        Some(StudyData::PrePost { .. }) => vec!["Pre mean", "SD", "Post mean", "SD", "Total", "r"],
        Some(StudyData::Binary { .. }) => vec!["Exp. events", "Total", "Ctrl events", "Total"],
        Some(StudyData::Correlation { .. }) => vec!["Total", "r"],
        Some(StudyData::Generic { .. }) | None => vec!["Effect", "SE"],
    };
    (head.into_iter().map(String::from).collect(), cells)
}

/// Totals of the group sizes (and events) for a total or subtotal row.
fn group_totals(result: &AnalysisResult, members: &[usize]) -> Vec<String> {
    let sum = |f: &dyn Fn(&StudyData) -> f64| trim_number(members.iter().map(|&i| f(&result.table.studies[i].data)).sum());
    match result.table.studies.first().map(|s| s.data) {
        Some(StudyData::Continuous { .. }) => vec![
            String::new(),
            String::new(),
            sum(&|d| if let StudyData::Continuous { n1, .. } = d { *n1 } else { 0.0 }),
            String::new(),
            String::new(),
            sum(&|d| if let StudyData::Continuous { n2, .. } = d { *n2 } else { 0.0 }),
        ],
        Some(StudyData::PrePost { .. }) => vec![
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            sum(&|d| if let StudyData::PrePost { n, .. } = d { *n } else { 0.0 }),
            String::new(),
        ],
        Some(StudyData::Binary { .. }) => vec![
            sum(&|d| if let StudyData::Binary { events1, .. } = d { *events1 } else { 0.0 }),
            sum(&|d| if let StudyData::Binary { n1, .. } = d { *n1 } else { 0.0 }),
            sum(&|d| if let StudyData::Binary { events2, .. } = d { *events2 } else { 0.0 }),
            sum(&|d| if let StudyData::Binary { n2, .. } = d { *n2 } else { 0.0 }),
        ],
        Some(StudyData::Correlation { .. }) => {
            vec![sum(&|d| if let StudyData::Correlation { n, .. } = d { *n } else { 0.0 }), String::new()]
        }
        _ => vec![String::new(), String::new()],
    }
}

/// A data value as the user typed it (no trailing zeros), with a true minus sign.
fn trim_number(x: f64) -> String {
    let s = format!("{}", (x * 1e6).round() / 1e6);
    s.replace('-', &format::MINUS.to_string())
}

/// A plain-text table: first column left-aligned, the rest right-aligned, widths in characters.
struct Table {
    rows: Vec<Option<Vec<String>>>,
}

impl Table {
    fn new() -> Table {
        Table { rows: Vec::new() }
    }
    fn row(&mut self, cells: Vec<String>) {
        self.rows.push(Some(cells));
    }
    fn blank(&mut self) {
        self.rows.push(Some(Vec::new()));
    }
    fn rule(&mut self) {
        self.rows.push(None);
    }
    /// `after` inserts free lines (subgroup footers) after the given row counts.
    fn render(&self, after: &[(usize, Vec<String>)]) -> String {
        let width = |s: &str| s.chars().count();
        let ncols = self.rows.iter().flatten().map(Vec::len).max().unwrap_or(0);
        let mut widths = vec![0; ncols];
        for row in self.rows.iter().flatten() {
            // Section headings (a single cell) may run across the table.
            if row.len() == 1 {
                continue;
            }
            for (i, c) in row.iter().enumerate() {
                widths[i] = widths[i].max(width(c));
            }
        }
        let total: usize = widths.iter().sum::<usize>() + 2 * ncols.saturating_sub(1);
        let mut out = String::new();
        for (n, row) in self.rows.iter().enumerate() {
            match row {
                None => out.push_str(&"-".repeat(total)),
                Some(cells) => {
                    let mut line = String::new();
                    for (i, c) in cells.iter().enumerate() {
                        let pad = widths[i].saturating_sub(width(c));
                        if i == 0 {
                            line.push_str(c);
                            if cells.len() > 1 {
                                line.push_str(&" ".repeat(pad));
                            }
                        } else {
                            line.push_str("  ");
                            line.push_str(&" ".repeat(pad));
                            line.push_str(c);
                        }
                    }
                    out.push_str(line.trim_end());
                }
            }
            out.push('\n');
            for (at, lines) in after {
                if *at == n + 1 {
                    for l in lines {
                        out.push_str(l);
                        out.push('\n');
                    }
                }
            }
        }
        out
    }
}
