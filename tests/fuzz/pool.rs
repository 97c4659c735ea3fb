//! One iteration on `metabook pool`: a seed CSV file with a few mutations, flags drawn from
//! the edges of their ranges, and the oracles on the exit, the output and what was accepted.

use crate::findings::Context;
use crate::mutate::{self, Draft};
use crate::oracle::{self, Finding};
use crate::rng::Rng;
use crate::{files, tokens, Fuzzer};
use std::ffi::OsString;

impl Fuzzer {
    pub fn pool_iteration(&mut self, rng: &mut Rng, iteration: u64) {
        let (name, bytes) = rng.pick(&self.pool_csvs).clone();
        let path = format!("data/{name}");
        let layout = mutate::Layout { src: "report".into(), data: "data".into(), templates: "templates".into() };
        let mut draft = Draft::new([(path.clone(), bytes)].into_iter().collect(), layout, self.root.display().to_string());
        for _ in 0..rng.below(4) {
            let what = match rng.below(11) {
                0..=4 => mutate::csv::cell(rng, &mut draft),
                5..=7 => mutate::csv::structure(rng, &mut draft),
                8 => mutate::csv::identical_effects(rng, &mut draft, &path),
                _ => mutate::csv::spreads(rng, &mut draft, &path),
            };
            if let Some(w) = what {
                draft.log.push(w);
            }
        }
        let data = draft.files[&path].clone();
        let table = mutate::csv::Table::parse(&data);
        let header = table.as_ref().map(|t| t.header()).unwrap_or_default();
        let (flags, doubtful) = pool_flags(rng, &header);
        let dir = self.root.join("iter");
        files::remove(&dir);
        std::fs::create_dir_all(&dir).expect("the iteration's folder");
        std::fs::write(dir.join(&name), &data).expect("the CSV file");
        let mut args: Vec<OsString> = vec!["pool".into(), "--data".into(), name.clone().into()];
        args.extend(flags.iter().map(OsString::from));
        let outcome = self.run(&args, &dir);
        self.counts.pools += 1;
        let ops = format!("pool {}", flags.iter().filter(|f| f.starts_with("--")).cloned().collect::<Vec<_>>().join(" "));
        let mut found = oracle::process(&outcome, &ops, true);
        if outcome.code() == Some(0) {
            let format = flags.iter().position(|f| f == "--format").map_or("text", |i| flags[i + 1].as_str());
            // A NaN the data or a flag (a label) spells out is the user's text, not a number.
            if format != "json" && !oracle::mentions_non_finite(&String::from_utf8_lossy(&data)) && !flags.iter().any(|f| oracle::mentions_non_finite(f)) && !oracle::mentions_non_finite(&name) {
                if let Some(context) = oracle::non_finite(&outcome.stdout, false) {
                    found.push(Finding { kind: oracle::NON_FINITE, message: format!("NaN or infinity printed by `pool --format {format}`: …{}…", oracle::normalise(&context)) });
                }
            }
            if format == "svg" {
                for what in oracle::active_content(&outcome.stdout) {
                    found.push(Finding { kind: oracle::ACTIVE, message: format!("{what} in `pool --format svg`") });
                }
            }
            if format == "json" {
                if let Ok(json) = serde_json::from_str::<serde_json::Value>(&outcome.stdout) {
                    // A null result is RevMan's "Not estimable" only with its reason (no study
                    // with events in either group, for OR and RR).
                    let reason = json.get("not_estimable").and_then(|v| v.as_str()).is_some_and(|r| !r.trim().is_empty());
                    for key in ["estimate", "se", "ci_lower", "ci_upper"] {
                        if json.get(key).is_some_and(|v| v.is_null()) && !reason {
                            found.push(Finding { kind: oracle::ACCEPTED, message: format!("`pool` exits 0 with a null `{key}`") });
                        }
                    }
                }
            }
            if let Some(dup) = oracle::duplicate_columns(&header) {
                found.push(Finding { kind: oracle::ACCEPTED, message: format!("a study file with two columns named `{}` was accepted by `pool`", oracle::normalise(&dup)) });
            }
            for d in doubtful {
                found.push(Finding { kind: oracle::ACCEPTED, message: format!("`pool` accepted {d}") });
            }
        }
        let quoted: Vec<String> = args.iter().map(|a| shell_quote(&a.to_string_lossy())).collect();
        let command = format!("metabook {}", quoted.join(" "));
        let cx = Context { seed: self.seed, iteration, book: &name, mutations: &draft.log, command: &command, stderr: &outcome.stderr };
        for f in found {
            self.findings.add(f, &cx, &|dir| {
                std::fs::write(dir.join(&name), &data)?;
                std::fs::write(dir.join("replay.sh"), format!("#!/bin/sh\n# from this folder\n{command}\n"))
            });
        }
    }
}


/// Flags for `pool`: a measure that fits the columns most of the time, and the other options
/// now and then, with values from the edges of their ranges. Also says which of the values
/// drawn are outside the option's documented range (which `pool` must refuse).
fn pool_flags(rng: &mut Rng, header: &[String]) -> (Vec<String>, Vec<String>) {
    let mut flags = Vec::new();
    let mut doubtful = Vec::new();
    let measure = *if rng.chance(0.85) { rng.pick(mutate::csv::measures_for(header)) } else { rng.pick(tokens::MEASURES) };
    flags.extend(["--measure".to_string(), measure.to_string()]);
    let mut method = "REML";
    if rng.chance(0.6) {
        method = *rng.pick(tokens::METHODS);
        flags.extend(["--method".to_string(), method.to_string()]);
    }
    if rng.chance(0.3) {
        flags.extend(["--test".to_string(), rng.pick(tokens::TESTS).to_string()]);
    }
    if rng.chance(0.3) {
        flags.extend(["--convention".to_string(), rng.pick(tokens::CONVENTIONS).to_string()]);
    }
    flags.extend(["--format".to_string(), rng.pick(&["text", "json", "json", "svg"]).to_string()]);
    let iterative = ["REML", "ML", "EB", "PM"].contains(&method);
    // (flag, values, whether a value is in range, whether the range matters for this run)
    type InRange = fn(f64) -> bool;
    let numeric: [(&str, &[&str], InRange, bool); 5] = [
        ("--level", &["95", "90", "0", "100", "-5", "NaN", "inf", "1e-300", "99.9999999"], |v| v > 0.0 && v < 100.0, true),
        ("--step", &["1", "0.5", "0", "-1", "NaN", "inf", "2", "1e-300"], |v| v > 0.0 && v <= 1.0, iterative),
        ("--threshold", &["1e-12", "0", "-1", "NaN", "inf", "1"], |v| v > 0.0 && v.is_finite(), iterative),
        ("--max-iter", &["1000", "0", "1", "2", "100000"], |v| v >= 1.0, iterative),
        ("--r", &["0.5", "0", "-0.99", "1", "-1", "2", "NaN"], |v| v > -1.0 && v < 1.0, measure == "SMCR"),
    ];
    for (flag, values, in_range, matters) in numeric {
        if rng.chance(0.15) {
            let v = *rng.pick(values);
            flags.extend([flag.to_string(), v.to_string()]);
            if matters && v.parse::<f64>().is_ok_and(|x| !in_range(x)) {
                doubtful.push(format!("{flag} {v}"));
            }
        }
    }
    if rng.chance(0.15) {
        let mut columns: Vec<String> = header.to_vec();
        columns.extend(["nope".to_string(), String::new()]);
        flags.extend(["--cumulative-by".to_string(), rng.pick(&columns).clone()]);
    }
    if rng.chance(0.2) {
        flags.extend(["--favours".to_string(), format!("{},{}", rng.pick(tokens::TEXT), rng.pick(tokens::TEXT))]);
    }
    if rng.chance(0.2) {
        flags.push("--prediction".to_string());
    }
    (flags, doubtful)
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=,:".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

