//! Every number RevMan 5 stored in real RevMan files, recomputed by `metabook pool --convention
//! revman5` and compared to 1e-6 (relative, or absolute below 1): each study's effect, CI and
//! weight, each subgroup's and the overall total with heterogeneity, τ², z and P, and the test
//! for subgroup differences. The reference numbers are RevMan's own, extracted unchanged from
//! the .rm5 files in `../shared/revman/` by `tests/fixtures/revman-numbers/extract.py` (which
//! also writes the study data as CSV); nothing in the fixtures is computed by metabook.

use metabook::cmd::pool::{self, Format, PoolOptions};
use metabook::stats::IterControl;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/revman-numbers")
}

/// RevMan's EFFECT_MEASURE and METHOD as `pool`'s options.
fn options(case: &Value) -> PoolOptions {
    let s = |k: &str| case[k].as_str().unwrap_or_default().to_string();
    let (measure, method) = match (s("measure").as_str(), s("method").as_str()) {
        ("PETO_OR", _) => ("OR".to_string(), "PETO".to_string()),
        (m, "IV") if case["type"] == "IV" => (if m.is_empty() { "GEN".to_string() } else { m.to_string() }, "IV".to_string()),
        (m, method) => (m.to_string(), method.to_string()),
    };
    PoolOptions {
        data: fixtures().join(s("data")),
        measure,
        method,
        model: Some(if case["random"].as_bool().unwrap() { "random" } else { "fixed" }.to_string()),
        test: "z".to_string(),
        level: s("ci_total").parse().unwrap(),
        study_level: Some(s("ci_study").parse().unwrap()),
        log_scale: false,
        effect_name: None,
        totals: "all".to_string(),
        convention: "revman5".to_string(),
        format: Format::Json,
        r: None,
        control: IterControl::default(),
        forest: Default::default(),
        cumulative_by: None,
    }
}

fn num(stored: &Value, key: &str) -> Option<f64> {
    stored.get(key).and_then(Value::as_str).and_then(|s| s.parse::<f64>().ok())
}

struct Check<'a> {
    where_: String,
    out: &'a mut Vec<String>,
    compared: &'a mut usize,
}

impl Check<'_> {
    fn close(&mut self, what: &str, revman: Option<f64>, ours: Option<f64>) {
        let Some(r) = revman else { return };
        *self.compared += 1;
        match ours {
            Some(o) if (o - r).abs() <= 1e-6 * r.abs().max(1.0) => {}
            _ => self.out.push(format!("{} {what}: RevMan {r}, metabook {ours:?}", self.where_)),
        }
    }
}

/// A pooled block of RevMan's (a subgroup's or the total) against metabook's JSON for it.
fn compare_pooled(check: &mut Check<'_>, stored: &Value, ours: &Value, ratio: bool) {
    let key = |k: &str| if ratio { format!("{k}_exp") } else { k.to_string() };
    let f = |k: &str| ours.get(k).and_then(Value::as_f64);
    if stored["ESTIMABLE"] == "NO" {
        *check.compared += 1;
        if !ours["estimate"].is_null() {
            check.out.push(format!("{} RevMan: not estimable; metabook {}", check.where_, ours["estimate"]));
        }
        return;
    }
    check.close("estimate", num(stored, "EFFECT_SIZE"), f(&key("estimate")));
    check.close("CI lower", num(stored, "CI_START"), f(&key("ci_lower")));
    check.close("CI upper", num(stored, "CI_END"), f(&key("ci_upper")));
    check.close("z", num(stored, "Z"), f("stat").map(f64::abs));
    check.close("P", num(stored, "P_Z"), f("p"));
    if num(stored, "DF").unwrap_or(0.0) >= 1.0 {
        check.close("Chi²", num(stored, "CHI2"), f("q"));
        check.close("df", num(stored, "DF"), f("q_df"));
        check.close("P(Chi²)", num(stored, "P_CHI2"), f("q_p"));
        check.close("I²", num(stored, "I2"), f("i2"));
        if ours["tau2"].is_number() {
            check.close("Tau²", num(stored, "TAU2"), f("tau2"));
        }
    }
}

#[test]
fn every_number_revman_stored_is_reproduced() {
    let cases: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(fixtures().join("expected.json")).unwrap()).unwrap();
    assert!(cases.len() >= 22, "the fixtures hold the 22 analyses with results of the two RevMan files");
    let (mut out, mut compared) = (Vec::new(), 0usize);
    for case in &cases {
        let name = format!("{} {}", case["file"].as_str().unwrap(), case["analysis"].as_str().unwrap());
        let json: Value = match pool::run(&options(case)) {
            Ok(text) => serde_json::from_str(&text).unwrap(),
            Err(d) => {
                out.push(format!("{name}: {}", metabook::diag::render(&d, false)));
                continue;
            }
        };
        let ratio = json["log_scale"].as_bool().unwrap();
        compare_pooled(&mut Check { where_: format!("{name} total"), out: &mut out, compared: &mut compared }, &case["total"], &json, ratio);
        for g in case["subgroups"].as_array().unwrap() {
            let label = g["name"].as_str().unwrap();
            let ours = json["subgroups"].as_array().and_then(|s| s.iter().find(|s| s["subgroup"] == label));
            match ours {
                Some(o) => compare_pooled(&mut Check { where_: format!("{name} subgroup `{label}`"), out: &mut out, compared: &mut compared }, g, o, ratio),
                None => out.push(format!("{name}: no subgroup `{label}`")),
            }
        }
        let estimable_subgroups = case["subgroups"].as_array().unwrap().iter().filter(|g| g["ESTIMABLE"] == "YES").count();
        if estimable_subgroups == 1 {
            // RevMan stores Q = 0, P = 1 for its "Not applicable" test of one estimable subgroup.
            compared += 1;
            if !json["subgroup_test"].is_null() {
                out.push(format!("{name} subgroup differences: RevMan not applicable (one estimable subgroup), metabook {}", json["subgroup_test"]));
            }
        } else if estimable_subgroups >= 2 && case["total"]["Q"].is_string() {
            let t = &json["subgroup_test"];
            let mut c = Check { where_: format!("{name} subgroup differences"), out: &mut out, compared: &mut compared };
            c.close("Chi²", num(&case["total"], "Q"), t["q"].as_f64());
            c.close("P", num(&case["total"], "P_Q"), t["p"].as_f64());
            c.close("I²", num(&case["total"], "I2_Q"), t["i2"].as_f64());
        }
        let level: f64 = case["ci_study"].as_str().unwrap().parse().unwrap();
        let z = metabook::stats::dist::qnorm(1.0 - (1.0 - level / 100.0) / 2.0);
        let studies = json["studies"].as_array().unwrap();
        for (i, s) in case["studies"].as_array().unwrap().iter().enumerate() {
            let ours = &studies[i];
            let mut c = Check { where_: format!("{name} study `{}`", s["study"].as_str().unwrap()), out: &mut out, compared: &mut compared };
            assert_eq!(ours["study"], s["study"], "{name}: the studies are in RevMan's order");
            if s["ESTIMABLE"] == "NO" {
                *c.compared += 1;
                if !ours["yi"].is_null() {
                    c.out.push(format!("{} RevMan: not estimable; metabook yi = {}", c.where_, ours["yi"]));
                }
                continue;
            }
            let (yi, vi) = (ours["yi"].as_f64(), ours["vi"].as_f64());
            let shown = |x: f64| if ratio { x.exp() } else { x };
            c.close("effect", num(s, "EFFECT_SIZE"), yi.map(shown));
            c.close("CI lower", num(s, "CI_START"), yi.zip(vi).map(|(y, v)| shown(y - z * v.sqrt())));
            c.close("CI upper", num(s, "CI_END"), yi.zip(vi).map(|(y, v)| shown(y + z * v.sqrt())));
            c.close("weight", num(s, "WEIGHT"), Some(ours["weight"].as_f64().unwrap_or(0.0)));
        }
    }
    assert!(out.is_empty(), "{} of {compared} RevMan numbers differ:\n{}", out.len(), out.join("\n"));
    assert!(compared > 1000, "only {compared} numbers compared");
}

/// "I-V, Random" for 2×2 data (not in the RevMan files here) against metafor's DerSimonian–
/// Laird on the same per-study effects (`iv_random.R`, whose comment says why they are RevMan's).
#[test]
fn iv_random_is_dersimonian_laird_on_the_inverse_variance_q() {
    let cases: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(fixtures().join("iv_random.json")).unwrap()).unwrap();
    assert_eq!(cases.len(), 4);
    let (mut out, mut compared) = (Vec::new(), 0usize);
    for case in &cases {
        let opts = PoolOptions {
            data: fixtures().join(case["data"].as_str().unwrap()),
            measure: case["measure"].as_str().unwrap().to_string(),
            method: "IV".to_string(),
            model: Some("random".to_string()),
            ..options(&serde_json::json!({"data": "", "measure": "", "method": "IV", "random": true, "ci_total": "95", "ci_study": "95", "type": "DICH"}))
        };
        let json: Value = serde_json::from_str(&pool::run(&opts).unwrap()).unwrap();
        assert_eq!(json["revman"], format!("{} (IV, Random, 95% CI)", if case["measure"] == "RR" { "Risk Ratio" } else { "Odds Ratio" }));
        let mut c = Check { where_: format!("{} {}", case["data"], case["measure"]), out: &mut out, compared: &mut compared };
        let f = |k: &str| json[k].as_f64();
        c.close("estimate", case["estimate"].as_f64(), f("estimate_exp"));
        c.close("CI lower", case["ci_lower"].as_f64(), f("ci_lower_exp"));
        c.close("CI upper", case["ci_upper"].as_f64(), f("ci_upper_exp"));
        c.close("tau²", case["tau2"].as_f64(), f("tau2"));
        c.close("Q", case["q"].as_f64(), f("q"));
        c.close("P(Q)", case["q_p"].as_f64(), f("q_p"));
        c.close("I²", case["i2"].as_f64(), f("i2"));
        c.close("z", case["z"].as_f64(), f("stat"));
        c.close("P", case["p"].as_f64(), f("p"));
        let ours: Vec<f64> = json["studies"].as_array().unwrap().iter().filter_map(|s| s["weight"].as_f64()).collect();
        let theirs = case["weights"].as_array().unwrap();
        assert_eq!(ours.len(), theirs.len(), "pooled studies");
        for (o, t) in ours.iter().zip(theirs) {
            c.close("weight", t.as_f64(), Some(*o));
        }
    }
    assert!(out.is_empty(), "{}", out.join("\n"));
    assert!(compared > 40);
}

/// RevMan 5's own CSV export ("analysis data") of the Fleiss (1993) file: its Analysis 1.2
/// (Mean Difference, IV, Fixed), whose results the .rm5 leaves empty, and 1.1, recomputed from
/// the group data the export itself holds. The export rounds to 8 decimals.
#[test]
fn revman_s_csv_export_is_reproduced() {
    let export = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/revman/Fleiss1993_CR.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(export.as_bytes());
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap_or_else(|| panic!("column {name}"));
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let dir = std::env::temp_dir().join(format!("metabook-revman-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (mut out, mut compared) = (Vec::new(), 0usize);
    let num = |r: &csv::StringRecord, c: &str| r[col(c)].parse::<f64>().ok();
    for outcome in ["1", "2"] {
        let of: Vec<&csv::StringRecord> = rows.iter().filter(|r| &r[col("Outcome Number")] == outcome).collect();
        let (head, studies) = (of[0], &of[1..]);
        let dichotomous = &head[col("Data Type")] == "DIC";
        let mut data = String::from(if dichotomous { "study,events1,n1,events2,n2\n" } else { "study,n1,mean1,sd1,n2,mean2,sd2\n" });
        for s in studies {
            let f = |c: &str| s[col(c)].to_string();
            data.push_str(&if dichotomous {
                format!("{},{},{},{},{}\n", f("Name"), f("Events 1"), f("Total 1"), f("Events 2"), f("Total 2"))
            } else {
                format!("{},{},{},{},{},{},{}\n", f("Name"), f("Total 1"), f("Mean 1"), f("SD 1"), f("Total 2"), f("Mean 2"), f("SD 2"))
            });
        }
        let file = dir.join(format!("outcome{outcome}.csv"));
        std::fs::write(&file, data).unwrap();
        let opts = PoolOptions {
            data: file,
            measure: head[col("Effect Measure")].to_string(),
            method: head[col("Statistical Method")].to_string(),
            model: Some(head[col("Analysis Model")].to_lowercase()),
            ..options(&serde_json::json!({"data": "", "measure": "", "method": "", "random": false, "ci_total": "95", "ci_study": "95", "type": ""}))
        };
        let json: Value = serde_json::from_str(&pool::run(&opts).unwrap()).unwrap();
        let ratio = json["log_scale"].as_bool().unwrap();
        let shown = |x: f64| if ratio { x.exp() } else { x };
        let key = |k: &str| if ratio { format!("{k}_exp") } else { k.to_string() };
        let f = |k: &str| json[k].as_f64();
        let mut c = Check { where_: format!("export outcome {outcome} total"), out: &mut out, compared: &mut compared };
        c.close("estimate", num(head, "Effect Estimate"), f(&key("estimate")));
        c.close("CI lower", num(head, "CI Start"), f(&key("ci_lower")));
        c.close("CI upper", num(head, "CI End"), f(&key("ci_upper")));
        c.close("Q", num(head, "Q"), f("q"));
        c.close("P(Q)", num(head, "P(Q)"), f("q_p"));
        c.close("I²", num(head, "I²(Q)"), f("i2"));
        c.close("Z", num(head, "Z"), f("stat").map(f64::abs));
        c.close("P(Z)", num(head, "P(Z)"), f("p"));
        let z = metabook::stats::dist::qnorm(0.975);
        for (s, ours) in studies.iter().zip(json["studies"].as_array().unwrap()) {
            let mut c = Check { where_: format!("export outcome {outcome} `{}`", &s[col("Name")]), out: &mut out, compared: &mut compared };
            let (yi, vi) = (ours["yi"].as_f64().unwrap(), ours["vi"].as_f64().unwrap());
            c.close("effect", num(s, "Effect Estimate"), Some(shown(yi)));
            c.close("SE", num(s, "SE"), Some(vi.sqrt()));
            c.close("CI lower", num(s, "CI Start"), Some(shown(yi - z * vi.sqrt())));
            c.close("CI upper", num(s, "CI End"), Some(shown(yi + z * vi.sqrt())));
            c.close("weight", num(s, "Weight"), ours["weight"].as_f64());
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.is_empty(), "{}", out.join("\n"));
    assert!(compared >= 70, "{compared}");
}
