//! The forest plot SVG: deterministic, accessible (title and description), user text escaped,
//! and laid out as RevMan does. The full SVG of the BCG analysis is a snapshot; it was looked
//! at as a PNG (rsvg-convert) when it changed.

use std::path::Path;
use std::process::Command;

fn svg(data: &str, extra: &[&str]) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let out = Command::new(env!("CARGO_BIN_EXE_metabook"))
        .args(["pool", "--data", data, "--format", "svg"])
        .args(extra)
        .current_dir(dir)
        .output()
        .expect("run metabook");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn bcg_forest_plot() {
    let s = svg("metafor/bcg.csv", &["--measure", "RR", "--favours", "vaccine,control", "--prediction"]);
    assert!(s.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(s.contains("<title id=\"forest-title\">Forest plot: Risk Ratio"));
    assert!(s.contains("Favours vaccine") && s.contains("Favours control"));
    assert!(s.contains("Test for subgroup differences"));
    // Two runs give the same bytes.
    assert_eq!(s, svg("metafor/bcg.csv", &["--measure", "RR", "--favours", "vaccine,control", "--prediction"]));
    insta::assert_snapshot!(s);
}

#[test]
fn study_labels_are_escaped() {
    let dir = std::env::temp_dir().join(format!("metabook-escape-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("labels.csv");
    std::fs::write(&file, "study,yi,vi\n\"<script>alert(1)</script>\",0.2,0.04\nA & B \"quoted\",0.1,0.05\n").unwrap();
    let s = svg(file.to_str().unwrap(), &["--measure", "GEN"]);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!s.contains("<script>"));
    assert!(s.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(s.contains("A &amp; B"));
}
