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

/// Long "Favours" labels ran past the figure's right edge and met in the middle (seen in a fuzz
/// finding's forest plot): each is wrapped to its half of the axis, and the figure is tall enough
/// for the lines.
#[test]
fn long_favours_labels_wrap_within_their_half() {
    // The example review's labels stay on one line each.
    let example = svg("metafor/bcg.csv", &["--measure", "RR", "--favours", "after ITB,before ITB"]);
    assert!(example.contains(">Favours after ITB<") && example.contains(">Favours before ITB<"), "{example}");
    let short = svg("metafor/bcg.csv", &["--measure", "RR", "--favours", "vaccine,control"]);
    let s = svg("metafor/bcg.csv", &["--measure", "RR", "--favours", "intrathecal baclofen with physiotherapy,placebo or usual care and physiotherapy"]);
    let attr = |s: &str, name: &str| -> f64 {
        let start = s.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
        s[start..start + s[start..].find('"').unwrap()].parse().unwrap()
    };
    let (width, height) = (attr(&s, "width"), attr(&s, "height"));
    assert!(height > attr(&short, "height"), "taller for the wrapped lines");
    // Each favours line: its centre and estimated width (11 px font, 0.52 em a character).
    let lines: Vec<(f64, usize)> = s
        .split("<text ")
        .skip(1)
        .filter_map(|t| {
            let body = &t[t.find('>')? + 1..t.find("</text>")?];
            let favours = ["Favours", "intrathecal", "baclofen", "physiotherapy", "placebo", "usual care"];
            favours.iter().any(|w| body.contains(w)).then(|| (attr(&format!(" {t}"), "x"), body.chars().count()))
        })
        .collect();
    assert!(lines.len() >= 4, "both labels wrapped: {lines:?}");
    let middle = (lines.iter().map(|l| l.0).fold(f64::MAX, f64::min) + lines.iter().map(|l| l.0).fold(0.0, f64::max)) / 2.0;
    for (x, chars) in lines {
        let half = chars as f64 * 11.0 * 0.52 / 2.0;
        // Estimated widths may reach FAVOURS_OVERHANG past the half (the estimate is generous).
        let slack = metabook::render::forest::FAVOURS_OVERHANG;
        assert!(x - half >= 0.0 && x + half <= width, "a line runs past the figure: x {x}, {chars} characters, width {width}");
        assert!(x + half <= middle + slack || x - half >= middle - slack, "a line crosses the middle: x {x}, {chars} characters");
    }
}

/// RevMan's totals setting, a not-estimable total, and generic log-scale effects with their
/// own name, as an imported RevMan review draws them.
#[test]
fn totals_not_estimable_rows_and_named_log_effects() {
    let dir = std::env::temp_dir().join(format!("metabook-totals-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let groups = dir.join("groups.csv");
    std::fs::write(&groups, "subgroup,study,events1,n1,events2,n2\nEarly,A 1951,3,20,6,20\nEarly,B 1953,2,30,5,31\nLate,C 1990,0,40,0,41\n").unwrap();
    let path = groups.to_str().unwrap();
    let all = svg(path, &["--measure", "RR", "--method", "MH", "--model", "random", "--convention", "revman5", "--favours", "Favours drug,placebo"]);
    // A label that says "Favours" itself (RevMan's do) is not prefixed again.
    assert!(all.contains(">Favours drug<") && all.contains(">Favours placebo<") && !all.contains("Favours Favours"));
    assert!(all.contains("M-H, Random, 95% CI"), "RevMan's method heading");
    assert!(all.contains(">Total (95% CI)<") && all.matches(">Subtotal (95% CI)<").count() == 2);
    // The late subgroup has no estimable study: its row and subtotal say so, the test for
    // subgroup differences (one estimable subgroup) is not drawn.
    assert_eq!(all.matches(">Not estimable<").count(), 2, "the study and its subtotal");
    assert!(all.contains("Heterogeneity: Not applicable") && !all.contains("Test for subgroup differences"));
    let sub = svg(path, &["--measure", "RR", "--method", "MH", "--model", "random", "--convention", "revman5", "--totals", "subtotals"]);
    assert!(!sub.contains(">Total (95% CI)<") && sub.matches(">Subtotal (95% CI)<").count() == 2);
    let none = svg(path, &["--measure", "RR", "--method", "MH", "--convention", "revman5", "--totals", "none"]);
    assert!(!none.contains("Total (95% CI)") && !none.contains("Heterogeneity"));
    assert!(none.contains(">A 1951<") && none.contains(">C 1990<"), "the studies stay");

    let hr = dir.join("hr.csv");
    std::fs::write(&hr, "study,yi,se\nA,-0.2,0.1\nB,-0.35,0.15\n").unwrap();
    let s = svg(hr.to_str().unwrap(), &["--measure", "GEN", "--log-scale", "--effect-name", "Hazard Ratio", "--method", "IV", "--model", "fixed"]);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(s.contains(">log[Hazard Ratio]<") && s.contains(">Hazard Ratio<") && s.contains("IV, Fixed, 95% CI"));
    // Exponentiated: exp(−0.2) = 0.82.
    assert!(s.contains(">0.82 [0.67, 1.00]<"), "{s}");
}
