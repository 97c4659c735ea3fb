//! `metabook pool --format text`: an analysis as RevMan 5 shows it — a table of studies with
//! their group data, weights and effects with confidence intervals, a total row, and the footer
//! lines for heterogeneity and the test for the overall effect — followed by the tests for
//! small-study effects and the leave-one-out, cumulative and influence analyses.

use crate::engine::AnalysisResult;
use super::sensitivity::{self, Kind, Series};
use super::revman::{effect_title, footer_lines, group_columns, group_totals};
use crate::format::{self, fixed};
use crate::stats::Pooled;

/// Render a whole analysis as text.
pub fn render(result: &AnalysisResult) -> String {
    let a = &result.analysis;
    let spec = &a.spec;
    let ratio = spec.log_scale();
    let mut out = String::new();
    out.push_str(&format!(
        "{}, {}, {}% CI ({} convention)\n",
        effect_title(result),
        spec.revman_label(),
        fixed(spec.level, 0),
        spec.convention.name()
    ));
    out.push_str(&format!("Data: {} ({} studies)\n\n", result.table.source.name, result.table.studies.len()));

    let (group_head, group_cells) = group_columns(result);
    let mut table = Table::new();
    let mut head = vec!["Study or subgroup".to_string()];
    head.extend(group_head);
    head.push("Weight".to_string());
    head.push(format!("{} [{}% CI]", spec.measure.name(), fixed(spec.study_level, 0)));
    table.row(head);
    table.rule();
    let effect_text = |e: f64, lo: f64, hi: f64| {
        if ratio {
            format::effect_ci_brackets(e.exp(), lo.exp(), hi.exp(), 2)
        } else {
            format::effect_ci_brackets(e, lo, hi, 2)
        }
    };
    let z = spec.study_z();
    let analysed: Vec<_> = a.studies().collect();
    let study_row = |i: usize| -> Vec<String> {
        let s = &result.table.studies[i];
        let r = &analysed[i];
        let mut row = vec![s.label.clone()];
        row.extend(group_cells[i].iter().cloned());
        row.push(r.weight.map_or("".to_string(), format::weight));
        row.push(match r.effect {
            Some(e) => {
                let (lo, hi) = e.ci(z);
                effect_text(e.yi, lo, hi)
            }
            None => "Not estimable".to_string(),
        });
        row
    };
    let total_row = |label: &str, members: &[usize], pooled: &Option<Pooled>, weight: f64| -> Vec<String> {
        let mut row = vec![label.to_string()];
        row.extend(group_totals(result, members));
        match pooled {
            Some(p) => {
                row.push(format::weight(weight));
                row.push(effect_text(p.estimate, p.ci_lower, p.ci_upper));
            }
            None => {
                row.push(format::weight(0.0));
                row.push("Not estimable".to_string());
            }
        }
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
    if let Some((lo, hi)) = a.pooled.as_ref().and_then(|p| p.prediction).filter(|_| spec.is_random()) {
        let (lo, hi) = if ratio { (lo.exp(), hi.exp()) } else { (lo, hi) };
        out.push_str(&format!("Prediction interval: [{}, {}]\n", fixed(lo, 2), fixed(hi, 2)));
    }
    if let Some((lo, hi)) = a.pooled.as_ref().and_then(|p| p.tau2_ci) {
        out.push_str(&format!("Tau² {}% CI (Q-profile): [{}, {}]\n", fixed(spec.level, 0), fixed(lo, 4), fixed(hi, 4)));
    }
    out.push_str(&small_study_and_sensitivity(result));
    if !result.notes.is_empty() {
        out.push_str("\nNotes:\n");
        for n in &result.notes {
            out.push_str(&format!("- {n}\n"));
        }
    }
    out
}

/// The tests for small-study effects and the sensitivity analyses, as a book shows them
/// (the same sentences and tables, [`super::funnel::notes`] and [`super::sensitivity`]).
fn small_study_and_sensitivity(result: &AnalysisResult) -> String {
    let mut out = String::from("\nSmall-study effects:\n");
    for line in super::funnel::notes(result) {
        out.push_str(&format!("{line}\n"));
    }
    let Some(sens) = &result.sensitivity else { return out };
    let mut section = |title: String, (headings, rows, notes): (Vec<String>, Vec<Vec<String>>, Vec<String>)| {
        let mut table = Table::new();
        table.row(headings);
        table.rule();
        for row in rows {
            table.row(row);
        }
        out.push_str(&format!("\n{title}:\n{}", table.render(&[])));
        for n in notes {
            out.push_str(&format!("{n}\n"));
        }
    };
    if let Some(rows) = &sens.leave_one_out {
        section("Leave-one-out analysis".to_string(), sensitivity::refit_table(result, &Series { kind: Kind::LeaveOneOut, rows, by: None }));
    }
    let by = result.cumulative_by.as_ref().map(|c| sensitivity::ordering_column(result, c, &sens.cumulative));
    let title = by.as_ref().map_or("Cumulative analysis (in the data's order)".to_string(), |(c, _)| format!("Cumulative analysis (by {c})"));
    section(title, sensitivity::refit_table(result, &Series { kind: Kind::Cumulative, rows: &sens.cumulative, by }));
    if let Some(rows) = &sens.influence {
        section("Influence diagnostics".to_string(), sensitivity::influence_table(result, rows));
    }
    out
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
