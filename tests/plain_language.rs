//! The plain-language summary: its text for fixture analyses that cover every certainty level
//! (high, moderate, low, very low) and each direction (benefit, harm, little or no difference),
//! as a snapshot; and a check that every number in it is one the analyses give.

mod common;

use common::copy_dir;
use metabook::cmd::build::{prepare, Prepared};
use std::path::Path;

fn book(name: &str) -> Prepared {
    match prepare(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/books").join(name)) {
        Ok(p) => p,
        Err(d) => panic!("{}", metabook::diag::render(&d, false)),
    }
}

#[test]
fn every_certainty_level_and_direction_in_plain_words() {
    let p = book("pls");
    let summary = p.pls.as_ref().expect("the fixture has [pls]");
    let md = &summary.markdown;
    assert!(md.contains("The exercise plan reduces pain. We are confident in this result."), "high, benefit: {md}");
    assert!(md.contains("The exercise plan probably leads to more falls. The change is large."), "moderate, harm, SMD size: {md}");
    assert!(md.contains("The exercise plan may make little or no difference to sleep."), "low, no difference: {md}");
    assert!(md.contains("We are very uncertain whether the exercise plan improves mood."), "very low: {md}");
    assert!(summary.readability.grade <= 8.0, "{:?}", summary.readability);
    insta::assert_snapshot!(md);
}

/// Every number in the summary's text is a count or an effect the analyses give, formatted
/// from the analyses' own JSON here (estimates and CIs to two decimals, k, participants).
#[test]
fn every_number_in_the_summary_comes_from_the_analyses() {
    for name in ["pls", "../../.."] {
        let p = book(name);
        let summary = p.pls.as_ref().expect("[pls]");
        let mut allowed: Vec<String> = vec!["95".to_string()];
        let mut people_total = 0.0;
        let mut labels: Vec<String> = Vec::new();
        for (_, result) in &p.analyses.by_name {
            let v = metabook::render::json::value(result);
            let ratio = v.get("estimate_exp").is_some_and(|x| !x.is_null());
            for key in ["estimate", "ci_lower", "ci_upper"] {
                let key = if ratio { format!("{key}_exp") } else { key.to_string() };
                let x = v[key.as_str()].as_f64().unwrap();
                allowed.push(format!("{x:.2}").replace('-', "\u{2212}"));
            }
            allowed.push(v["k"].to_string());
            for s in &result.table.studies {
                if !labels.contains(&s.label) {
                    labels.push(s.label.clone());
                }
            }
            let people: f64 = result.table.studies.iter().filter_map(|s| metabook::render::sof::study_participants(&s.data, name != "pls")).sum();
            allowed.push(format!("{people:.0}"));
            people_total += people;
        }
        allowed.push(labels.len().to_string());
        allowed.push(format!("{people_total:.0}"));
        let text = metabook::render::pls::plain_text(&summary.markdown);
        let numbers: Vec<String> = text
            .split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '\u{2212}'))
            .map(|t| t.trim_end_matches('.').to_string())
            .filter(|t| t.chars().any(|c| c.is_ascii_digit()))
            .collect();
        assert!(!numbers.is_empty());
        for n in numbers {
            assert!(allowed.contains(&n), "{name}: {n} is not a number of the analyses ({allowed:?})\n{text}");
        }
    }
}

/// A book's own template may use the analyses as the chapters do, with the same filters; a
/// study label from the data stays text.
#[test]
fn a_template_reads_the_analyses_with_the_chapters_filters() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("metabook-pls-analyses-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&root.join("tests/fixtures/books/pls"), &dir);
    let _ = std::fs::remove_dir_all(dir.join("book"));
    let harm = std::fs::read_to_string(dir.join("data/harm.csv")).unwrap().replace("Dunn 2003", "*Dunn* <2003>");
    std::fs::write(dir.join("data/harm.csv"), harm).unwrap();
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    let template = std::fs::read_to_string(root.join("templates/pls.md")).unwrap()
        + "\nFalls: {{ analyses.falls | effect }}; the first study is {{ analyses.falls.studies[0].study }}; I² {{ analyses.falls.i2 | pct }}.\n";
    std::fs::write(dir.join("templates/pls.md"), template).unwrap();
    let p = match prepare(&dir) {
        Ok(p) => p,
        Err(d) => panic!("{}", metabook::diag::render(&d, false)),
    };
    let md = &p.pls.as_ref().unwrap().markdown;
    let v = metabook::render::json::value(p.analyses.get("falls").unwrap());
    let effect = format!("SMD {:.2} (95% CI {:.2} to {:.2})", v["estimate"].as_f64().unwrap(), v["ci_lower"].as_f64().unwrap(), v["ci_upper"].as_f64().unwrap());
    assert!(md.contains(&format!("Falls: {effect}")), "{md}");
    assert!(md.contains("the first study is \\*Dunn\\* \\<2003\\>;"), "the label is escaped for Markdown: {md}");
    assert!(metabook::render::pls::plain_text(md).contains("the first study is *Dunn* <2003>;"), "and reads as typed");
    let _ = std::fs::remove_dir_all(&dir);
}
