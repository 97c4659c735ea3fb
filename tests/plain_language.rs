//! The plain-language summary: its text for fixture analyses that cover every certainty level
//! (high, moderate, low, very low) and each direction (benefit, harm, little or no difference),
//! as a snapshot; and a check that every number in it is one the analyses give.

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
            let people: f64 = result.table.studies.iter().map(|s| metabook::render::sof::study_participants(&s.data, name != "pls")).sum();
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
