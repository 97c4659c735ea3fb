//! The funnel plot SVG of dat.bcg (risk ratios, REML as metafor's default), contour-enhanced
//! with trim-and-fill: a snapshot, looked at as a PNG (headless Chromium) when it changed; and
//! the sentences under it — the tests in words, the Cochrane Handbook's caution with fewer than
//! 10 studies, and "not computed" (never NaN) where a test cannot be.

use metabook::data::{csv_table, studies::load_studies};
use metabook::diag::Source;
use metabook::engine::{analyse, AnalysisResult};
use metabook::render::funnel::{notes, svg, FunnelOptions};
use metabook::stats::{Measure, Spec};
use std::path::Path;

fn bcg(rows: Option<usize>) -> AnalysisResult {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/metafor/bcg.csv");
    let text = std::fs::read_to_string(path).unwrap();
    let text: String = match rows {
        Some(n) => text.lines().take(n + 1).map(|l| format!("{l}\n")).collect(),
        None => text,
    };
    let table = csv_table(&Source::new("data/bcg.csv", text)).unwrap();
    let studies = load_studies(&table, Measure::RR, None).unwrap();
    analyse(studies, &Spec::new(Measure::RR)).unwrap()
}

#[test]
fn bcg_funnel_plot_with_contours_and_trim_and_fill() {
    let result = bcg(None);
    let options = FunnelOptions { contours: vec![90.0, 95.0, 99.0], trimfill: true };
    let s = svg(&result, &options);
    assert!(s.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(s.contains("<title id=\"funnel-title\">Funnel plot: Risk Ratio, 13 studies</title>"));
    assert!(s.contains("Risk Ratio (log scale)"));
    assert!(s.contains("Filled by trim-and-fill") && s.contains("Adjusted estimate"));
    assert!(s.contains("0.01 &lt; P ≤ 0.05"));
    let hollow = s.matches(r#"fill="white" stroke="black" stroke-width="1"/>"#).count();
    assert_eq!(hollow, result.small_study.trimfill.as_ref().unwrap().k0 + 1, "each filled study, and its legend mark");
    assert!(!s.contains("NaN"));
    assert_eq!(s, svg(&result, &options), "deterministic");
    insta::assert_snapshot!(s);
}

#[test]
fn the_tests_are_said_in_words_under_the_plot() {
    let n = notes(&bcg(None));
    assert_eq!(n.len(), 1, "{n:?}");
    assert!(n[0].starts_with("Egger's test: z = "), "{}", n[0]);
    assert!(n[0].contains("Begg's test: Kendall's τ = "));
    assert!(n[0].contains("trim-and-fill: k0 = "));
    insta::assert_snapshot!(n.join("\n"));
}

#[test]
fn fewer_than_ten_studies_show_the_handbook_caution() {
    let n = notes(&bcg(Some(5)));
    assert!(n.iter().any(|l| l.contains("fewer than 10") && l.contains("Cochrane Handbook")), "{n:?}");
}

#[test]
fn tests_that_cannot_be_computed_are_said_so() {
    let result = bcg(Some(2));
    let n = notes(&result).join(" ");
    assert!(n.contains("Egger's test: not computed") && n.contains("Begg's test: not computed") && n.contains("trim-and-fill: not computed"), "{n}");
    assert!(n.contains("need at least 3 studies"), "{n}");
    let s = svg(&result, &FunnelOptions { contours: vec![95.0], trimfill: true });
    assert!(!s.contains("NaN") && !n.contains("NaN"));
}

fn generic(file: &str, spec: Spec) -> AnalysisResult {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/degenerate").join(file);
    let table = csv_table(&Source::new(file, std::fs::read_to_string(path).unwrap())).unwrap();
    analyse(load_studies(&table, Measure::GEN, None).unwrap(), &spec).unwrap()
}

#[test]
fn identical_effects_under_knapp_hartung_say_not_computed_with_the_reason() {
    // Egger's test printed "t = NaN": with identical effects the Knapp–Hartung residual
    // variance is 0 (metafor's regtest gives t = -Inf, its influence() stops with an error).
    for method in [metabook::stats::Method::FE, metabook::stats::Method::REML] {
        let spec = Spec { method, test: metabook::stats::Test::Knha, ..Spec::new(Measure::GEN) };
        let result = generic("identical.csv", spec);
        assert!(result.small_study.egger.is_none());
        let n = notes(&result).join(" ");
        assert!(n.contains("Egger's test: not computed"), "{n}");
        assert!(n.contains("Egger's test could not be computed: the effects lie exactly on a straight line") && n.contains("Knapp–Hartung residual variance is 0"), "{n}");
        assert!(!n.contains("NaN"), "{n}");
        let s = svg(&result, &FunnelOptions { contours: vec![95.0], trimfill: true });
        assert!(!s.contains("NaN"));
    }
}

/// Fuzz finding (seed 1796048171, iteration 60): identical effects with standard errors near
/// 1e-8 drew every point at y = ∞ and the axis at NaN, its ticks all "0" and the effect axis's
/// all "−0.8657". Every coordinate is finite now and no two ticks read alike.
#[test]
fn tiny_standard_errors_draw_a_finite_plot_with_distinct_ticks() {
    let mut csv = String::from("study,yi,se\n");
    for i in 0..13 {
        csv.push_str(&format!("S{i},-0.8656571056292215,{}\n", 5.7e-9 + i as f64 * 1.2e-9));
    }
    let table = csv_table(&Source::new("data/tiny.csv", csv)).unwrap();
    let spec = Spec { method: metabook::stats::Method::DL, test: metabook::stats::Test::Knha, ..Spec::new(Measure::GEN) };
    let result = analyse(load_studies(&table, Measure::GEN, None).unwrap(), &spec).unwrap();
    let s = svg(&result, &FunnelOptions::default());
    assert!(!s.contains("NaN") && !s.contains("inf"), "{s}");
    let labels = |anchor: &str| -> Vec<String> {
        s.split(&format!(r#"text-anchor="{anchor}">"#)).skip(1).map(|t| t[..t.find('<').unwrap()].to_string()).collect()
    };
    let se_labels = labels("end");
    assert!(se_labels.len() >= 3, "{se_labels:?}");
    let mut distinct = se_labels.clone();
    distinct.dedup();
    assert_eq!(distinct, se_labels);
    assert!(se_labels.contains(&"1e-8".to_string()), "{se_labels:?}");
    let effect_labels: Vec<String> = labels("middle").into_iter().filter(|l| l.starts_with('\u{2212}')).collect();
    assert!(effect_labels.len() >= 3, "{effect_labels:?}");
    let mut distinct = effect_labels.clone();
    distinct.dedup();
    assert_eq!(distinct, effect_labels);
}
