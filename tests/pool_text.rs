//! `metabook pool --format text` shows the small-study tests and the sensitivity analyses with
//! the numbers of the JSON output (which tests/metafor_parity.rs checks against metafor).

use std::process::Command;

fn pool(format: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_metabook"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["pool", "--data", "tests/fixtures/metafor/bcg.csv", "--measure", "RR", "--method", "REML", "--cumulative-by", "year", "--format", format])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The line of `section` in `text` that starts with `study`.
fn row<'a>(text: &'a str, section: &str, study: &str) -> &'a str {
    let start = text.find(section).unwrap_or_else(|| panic!("no `{section}` in\n{text}"));
    text[start..].lines().find(|l| l.starts_with(study)).unwrap_or_else(|| panic!("no row `{study}` under `{section}`"))
}

#[test]
fn the_text_report_shows_the_sensitivity_analyses_of_the_json() {
    let text = pool("text");
    let json: serde_json::Value = serde_json::from_str(&pool("json")).unwrap();
    let ratio = |x: &serde_json::Value| format!("{:.2}", x.as_f64().unwrap().exp());
    let loo = json["sensitivity"]["leave_one_out"].as_array().unwrap().iter().find(|r| r["study"] == "TPT Madras 1980").unwrap();
    let line = row(&text, "Leave-one-out analysis:", "TPT Madras 1980");
    assert!(line.contains(&format!("{} [{}, {}]", ratio(&loo["estimate"]), ratio(&loo["ci_lower"]), ratio(&loo["ci_upper"]))), "{line}");
    // Cumulative, ordered by year: the row adding the 1953 trial pools 3 studies.
    let line = row(&text, "Cumulative analysis (by year):", "Stein & Aronson 1953");
    let cumulative = json["sensitivity"]["cumulative"].as_array().unwrap().iter().find(|r| r["study"] == "Stein & Aronson 1953").unwrap();
    assert_eq!(cumulative["k"], 3);
    assert!(line.contains(" 1953 ") && line.contains(&format!("{} [{}, {}]", ratio(&cumulative["estimate"]), ratio(&cumulative["ci_lower"]), ratio(&cumulative["ci_upper"]))), "{line}");
    let influence = json["sensitivity"]["influence"].as_array().unwrap().iter().find(|r| r["study"] == "TPT Madras 1980").unwrap();
    let line = row(&text, "Influence diagnostics:", "TPT Madras 1980");
    assert!(line.contains(&format!("{:.2}", influence["rstudent"].as_f64().unwrap())), "{line}");
    let egger = &json["small_study"]["egger"];
    assert!(text.contains(&format!("Egger's test: z = {}", format!("{:.2}", egger["stat"].as_f64().unwrap()).replace('-', "\u{2212}"))), "{text}");
}

fn pool_file(file: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_metabook"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["pool", "--data", file, "--measure", "GEN"])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn identical_effects_under_knapp_hartung_print_no_nan() {
    // The funnel sentence said "Egger's test: t = NaN", the influence table was all NaN and,
    // for identical effects of 0, the overall test read "t = NaN". Now: "not computed" with
    // the reason in the notes, and `null` plus a note in the JSON.
    for (file, method) in [("identical.csv", "FE"), ("identical.csv", "REML"), ("identical_zero.csv", "FE"), ("identical_zero.csv", "DL")] {
        let path = format!("tests/fixtures/degenerate/{file}");
        let text = pool_file(&path, &["--method", method, "--test", "knha"]);
        assert!(!text.contains("NaN"), "{file} {method}:\n{text}");
        assert!(text.contains("Egger's test: not computed"), "{file} {method}:\n{text}");
        assert!(!text.contains("Influence diagnostics:"), "no table of NaNs: {file} {method}:\n{text}");
        assert!(text.contains("Knapp–Hartung standard error is 0"), "the notes say why: {file} {method}:\n{text}");
        if file == "identical_zero.csv" {
            assert!(text.contains("Test for overall effect: not computed"), "{file} {method}:\n{text}");
        }
        let json: serde_json::Value = serde_json::from_str(&pool_file(&path, &["--method", method, "--test", "knha", "--format", "json"])).unwrap();
        assert!(json["small_study"]["egger"].is_null());
        assert!(json["small_study"]["notes"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().starts_with("Egger's test could not be computed")));
        assert!(json["sensitivity"]["influence"].is_null());
        assert!(json["sensitivity"]["notes"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().starts_with("Influence diagnostics could not be computed")));
        assert!(json["notes"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().contains("Knapp–Hartung standard error is 0")));
    }
}

#[test]
fn a_subgroup_with_a_standard_error_of_zero_gets_no_test_for_differences() {
    // Subgroup `a` has identical effects: under Knapp–Hartung its SE is 0, its weight in the
    // test for subgroup differences infinite, and the test printed "Chi² = NaN" (a panic of
    // the formatter's debug assertion now).
    let text = pool_file("tests/fixtures/degenerate/subgroups.csv", &["--method", "FE", "--test", "knha"]);
    assert!(!text.contains("NaN") && !text.contains("Test for subgroup differences"), "{text}");
    assert!(text.contains("The test for subgroup differences is not computed: the standard error of subgroup `a` is 0"), "{text}");
    let json: serde_json::Value = serde_json::from_str(&pool_file("tests/fixtures/degenerate/subgroups.csv", &["--method", "FE", "--test", "knha", "--format", "json"])).unwrap();
    assert!(json.get("subgroup_test").is_none_or(|t| t.is_null()), "{json}");
}
