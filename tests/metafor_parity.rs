//! Parity with metafor 3.8: every case in `fixtures/metafor/reference.json` (written by
//! `fixtures/metafor/make_fixtures.R`) is run through the same path as `metabook pool`
//! (CSV → studies → analysis → JSON) and every expected number is compared at 1e-6 relative
//! (with an absolute floor of 1e-9 for values near zero). Expected `null`s must be `null` too.
//! Cases that carry `small_study` and `sensitivity` check Egger's and Begg's tests,
//! trim-and-fill, leave-one-out, cumulative and influence analyses the same way: for
//! inverse-variance fits all of them, for Mantel–Haenszel and Peto fits Begg's test,
//! leave-one-out and cumulative analyses (what metafor computes for `rma.mh`/`rma.peto`), and
//! for the RevMan 5 convention leave-one-out and cumulative analyses (from the script's own
//! RevMan 5 code, refitted on each subset).

use metabook::cmd::pool::{self, Format, PoolOptions};
use metabook::stats::IterControl;
use serde_json::Value;
use std::path::{Path, PathBuf};

const REL_TOL: f64 = 1e-6;
const ABS_TOL: f64 = 1e-9;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/metafor")
}

fn run_case(case: &Value) -> Value {
    let o = &case["options"];
    let opts = PoolOptions {
        data: fixtures().join(case["data"].as_str().unwrap()),
        measure: o["measure"].as_str().unwrap().to_string(),
        method: o["method"].as_str().unwrap().to_string(),
        model: o.get("model").and_then(Value::as_str).map(str::to_string),
        study_level: None,
        log_scale: false,
        effect_name: None,
        totals: "all".to_string(),
        test: o["test"].as_str().unwrap().to_string(),
        level: o["level"].as_f64().unwrap(),
        convention: o["convention"].as_str().unwrap().to_string(),
        format: Format::Json,
        r: o.get("r").and_then(Value::as_f64),
        control: IterControl::default(),
        forest: Default::default(),
        cumulative_by: o.get("cumulative_by").and_then(Value::as_str).map(str::to_string),
    };
    let out = pool::run(&opts).unwrap_or_else(|d| panic!("{}: {}", case["name"], metabook::diag::render(&d, false)));
    serde_json::from_str(&out).unwrap()
}

/// Compare `expected` against `actual` recursively; collect mismatches with their JSON path.
fn compare(path: &str, expected: &Value, actual: &Value, out: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Null, Value::Null) => {}
        (Value::Number(e), Value::Number(a)) => {
            let (e, a) = (e.as_f64().unwrap(), a.as_f64().unwrap());
            if (e - a).abs() > REL_TOL * e.abs() + ABS_TOL {
                out.push(format!("{path}: expected {e:e}, got {a:e} (rel {:.1e})", ((e - a) / e).abs()));
            }
        }
        (Value::String(e), Value::String(a)) if e == a => {}
        (Value::Bool(e), Value::Bool(a)) if e == a => {}
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
            for (i, (e, a)) in e.iter().zip(a).enumerate() {
                compare(&format!("{path}[{i}]"), e, a, out);
            }
        }
        (Value::Object(e), Value::Object(a)) => {
            for (key, ev) in e {
                match a.get(key) {
                    Some(av) => compare(&format!("{path}.{key}"), ev, av, out),
                    None => out.push(format!("{path}.{key}: missing in metabook's output")),
                }
            }
        }
        _ => out.push(format!("{path}: expected {expected}, got {actual}")),
    }
}

#[test]
fn every_reference_case_matches_metafor() {
    let text = std::fs::read_to_string(fixtures().join("reference.json")).expect("reference.json");
    let reference: Value = serde_json::from_str(&text).unwrap();
    let cases = reference["cases"].as_array().unwrap();
    assert!(cases.len() >= 150, "the fixture should cover every estimator, test and measure");
    let with_bias = cases.iter().filter(|c| c["expected"].get("small_study").is_some()).count();
    assert!(with_bias >= 20, "the fixture should check the small-study and sensitivity analyses ({with_bias} cases)");
    let sensitivity_of = |pick: &dyn Fn(&Value) -> bool| {
        cases.iter().filter(|c| c["expected"].get("sensitivity").is_some() && pick(&c["options"])).count()
    };
    let mh_peto = sensitivity_of(&|o| matches!(o["method"].as_str(), Some("MH" | "PETO")) && o["convention"] == "metafor");
    assert!(mh_peto >= 4, "the fixture should check the sensitivity analyses of MH and Peto fits ({mh_peto} cases)");
    let revman5 = sensitivity_of(&|o| o["convention"] == "revman5");
    assert!(revman5 >= 4, "the fixture should check the sensitivity analyses under RevMan 5 ({revman5} cases)");
    let mut failures = Vec::new();
    for case in cases {
        let actual = run_case(case);
        let mut mismatches = Vec::new();
        compare("", &case["expected"], &actual, &mut mismatches);
        if !mismatches.is_empty() {
            failures.push(format!("{}:\n  {}", case["name"].as_str().unwrap(), mismatches.join("\n  ")));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases differ from metafor:\n{}", failures.len(), cases.len(), failures.join("\n"));
}
