//! The RevMan comparison on real RevMan files: a book with one analysis per analysis of the two
//! RevMan files in tests/fixtures/revman-numbers (22 analyses, with subgroups, random effects,
//! Peto, not estimable studies and totals), and a `metabook revman` block reading what RevMan
//! stored for them — copied unchanged from `expected.json` (extracted from the .rm5 files by
//! `extract.py`; nothing in it is computed by metabook). The build must reproduce all of them.

use serde_json::Value;
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/revman-numbers")
}

/// RevMan's stored attribute as a cell: as stored, empty where absent.
fn cell(stored: &Value, key: &str) -> String {
    stored.get(key).and_then(Value::as_str).unwrap_or("").to_string()
}

/// The book's name for an analysis of a file: `sore_a1_2`.
fn name(case: &Value) -> String {
    let file = if case["file"].as_str().unwrap().starts_with("Fleiss") { "fleiss" } else { "sore" };
    format!("{file}_{}", case["analysis"].as_str().unwrap())
}

/// The analysis block for a case: RevMan's measure, method and model as metabook's keys.
fn directive(case: &Value) -> String {
    let s = |k: &str| case[k].as_str().unwrap_or_default().to_string();
    let (measure, method) = match (s("measure").as_str(), s("method").as_str()) {
        ("PETO_OR", _) => ("OR".to_string(), "PETO".to_string()),
        (m, "IV") if case["type"] == "IV" => (if m.is_empty() { "GEN".to_string() } else { m.to_string() }, "IV".to_string()),
        (m, method) => (m.to_string(), method.to_string()),
    };
    let model = if case["random"].as_bool().unwrap() { "random" } else { "fixed" };
    format!(
        "```metabook analysis\nname = \"{}\"\ndata = \"{}\"\nmeasure = \"{measure}\"\nmethod = \"{method}\"\nmodel = \"{model}\"\nlevel = {}\nstudy-level = {}\n```\n\n",
        name(case),
        s("data"),
        s("ci_total"),
        s("ci_study")
    )
}

/// RevMan's stored numbers for a case, as `metabook import` writes them.
fn rows(case: &Value, out: &mut String) {
    let n = name(case);
    for s in case["studies"].as_array().unwrap() {
        let subgroup = s["subgroup"].as_str().unwrap_or("");
        let numbers: Vec<String> = ["EFFECT_SIZE", "CI_START", "CI_END", "WEIGHT"].iter().map(|k| cell(s, k)).collect();
        writeln!(out, "{n},study,\"{subgroup}\",\"{}\",{},{},,,,,,,", s["study"].as_str().unwrap(), cell(s, "ESTIMABLE"), numbers.join(",")).unwrap();
    }
    let pooled = ["ESTIMABLE", "EFFECT_SIZE", "CI_START", "CI_END", "WEIGHT", "CHI2", "DF", "P_CHI2", "I2", "TAU2", "Z", "P_Z"];
    for g in case["subgroups"].as_array().unwrap() {
        let numbers: Vec<String> = pooled.iter().map(|k| cell(g, k)).collect();
        writeln!(out, "{n},subtotal,\"{}\",,{}", g["name"].as_str().unwrap(), numbers.join(",")).unwrap();
    }
    let total = &case["total"];
    let numbers: Vec<String> = pooled.iter().map(|k| cell(total, k)).collect();
    writeln!(out, "{n},total,,,{}", numbers.join(",")).unwrap();
    if !case["subgroups"].as_array().unwrap().is_empty() {
        writeln!(out, "{n},subgroup-test,,,,,,,,{},,{},{},,,", cell(total, "Q"), cell(total, "P_Q"), cell(total, "I2_Q")).unwrap();
    }
}

#[test]
fn a_book_of_both_real_revman_files_reproduces_every_analysis() {
    let cases: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(fixtures().join("expected.json")).unwrap()).unwrap();
    let dir = std::env::temp_dir().join(format!("metabook-revman-real-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("report")).unwrap();
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(dir.join("book.toml"), "[book]\ntitle = \"Two RevMan files\"\n\n[analysis]\nconvention = \"revman5\"\n").unwrap();
    std::fs::write(dir.join("report/SUMMARY.md"), "# Summary\n\n- [Analyses](analyses.md)\n").unwrap();
    let mut chapter = "# Analyses\n\n".to_string();
    let mut results = "analysis,row,subgroup,study,estimable,estimate,ci_lower,ci_upper,weight,chi2,df,p_chi2,i2,tau2,z,p_z\n".to_string();
    for case in &cases {
        chapter.push_str(&directive(case));
        std::fs::copy(fixtures().join(case["data"].as_str().unwrap()), dir.join("data").join(case["data"].as_str().unwrap())).unwrap();
        rows(case, &mut results);
    }
    chapter.push_str("```metabook revman\ndata = \"revman-results.csv\"\n```\n");
    std::fs::write(dir.join("report/analyses.md"), chapter).unwrap();
    std::fs::write(dir.join("data/revman-results.csv"), results).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_metabook")).args(["build", "--book"]).arg(&dir).env("NO_COLOR", "1").output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stdout}{stderr}");
    let n = cases.len();
    assert!(n >= 22);
    assert!(stdout.contains(&format!("RevMan: reproduces {n} of {n} RevMan analyses (")), "{stdout}{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");
    eprintln!("{}", stdout.lines().find(|l| l.starts_with("RevMan:")).unwrap_or_default());
    let _ = std::fs::remove_dir_all(&dir);
}
