//! RevMan 5's presentation of an analysis, shared by the text output and the forest plot: the
//! effect's title, the group-data columns by study design, their totals, and the footer lines
//! for heterogeneity and the test for the overall effect.

use crate::engine::AnalysisResult;
use crate::format::{self, fixed};
use crate::stats::{Analysis, Method, StudyData};

/// The effect's name above the plot, e.g. "Std. Mean Difference", "Peto Odds Ratio", or the
/// analysis' own name for a generic effect ("Hazard Ratio").
pub fn effect_title(result: &AnalysisResult) -> String {
    match (&result.effect_name, result.analysis.spec.method) {
        (Some(name), _) => name.clone(),
        (None, Method::PETO) => "Peto Odds Ratio".to_string(),
        (None, _) => result.analysis.spec.measure.long_name().to_string(),
    }
}

/// The RevMan footer: heterogeneity and the test for the overall effect ("Not applicable"
/// for both when no study is estimable, as RevMan prints them).
pub fn footer_lines(a: &Analysis) -> Vec<String> {
    let Some(p) = &a.pooled else {
        return vec!["Heterogeneity: Not applicable".to_string(), "Test for overall effect: Not applicable".to_string()];
    };
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
        // 0/0: a Knapp–Hartung standard error of 0 about an estimate of 0 (the notes say why).
        _ if p.stat.is_nan() => "Test for overall effect: not computed (standard error 0)".to_string(),
        None => format!("Test for overall effect: Z = {} ({})", fixed(p.stat.abs(), 2), format::p_revman(p.p)),
        Some(df) => format!("Test for overall effect: t = {}, df = {} ({})", fixed(p.stat.abs(), 2), fixed(df, 0), format::p_revman(p.p)),
    };
    vec![het, test]
}

/// Column headings and per-study cells for the group data, by design.
pub fn group_columns(result: &AnalysisResult) -> (Vec<String>, Vec<Vec<String>>) {
    let num = format::data_value;
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
pub fn group_totals(result: &AnalysisResult, members: &[usize]) -> Vec<String> {
    let sum = |f: &dyn Fn(&StudyData) -> f64| format::data_value(members.iter().map(|&i| f(&result.table.studies[i].data)).sum());
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


/// RevMan's two-level heading over the group-data columns: labels spanning columns, and the
/// column names under them, in the order of [`group_columns`].
pub fn group_header(result: &AnalysisResult) -> (Vec<(&'static str, usize)>, Vec<String>) {
    let strings = |v: &[&str]| v.iter().map(|h| h.to_string()).collect::<Vec<_>>();
    match result.table.studies.first().map(|s| s.data) {
        Some(StudyData::Continuous { .. }) => {
            (vec![("Experimental", 3), ("Control", 3)], strings(&["Mean", "SD", "Total", "Mean", "SD", "Total"]))
        }
        Some(StudyData::PrePost { .. }) => {
            (vec![("Before", 2), ("After", 2), ("", 2)], strings(&["Mean", "SD", "Mean", "SD", "Total", "r"]))
        }
        Some(StudyData::Binary { .. }) => (vec![("Experimental", 2), ("Control", 2)], strings(&["Events", "Total", "Events", "Total"])),
        Some(StudyData::Correlation { .. }) => (vec![("", 2)], strings(&["Total", "r"])),
        Some(StudyData::Generic { .. }) | None => (vec![("", 2)], vec![generic_head(result), "SE".to_string()]),
    }
}

/// The heading over generic effects: RevMan's "log[Hazard Ratio]" for effects given on the log
/// scale, else "Effect".
fn generic_head(result: &AnalysisResult) -> String {
    if result.analysis.spec.generic_log {
        format!("log[{}]", effect_title(result))
    } else {
        "Effect".to_string()
    }
}
