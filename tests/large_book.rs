//! A large review is correct on every page (issue 13): a book of 200 analyses (the benchmark's
//! generator, `tests/common/large.rs`) whose every inline value and forest plot total is what
//! `metabook pool` computes from the same CSV, and two builds of it in different folders give
//! the same bytes. Timings are in the benchmark (`bench/large.sh`), not here.

mod common;

use common::large::{self, Shape};
use std::path::{Path, PathBuf};
use std::process::Command;

fn metabook(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_metabook"))
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn fresh(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("metabook-large-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A number as the book prints it: two decimals, a true minus sign.
fn two(v: f64) -> String {
    format!("{v:.2}").replace('-', "\u{2212}")
}

#[test]
fn a_200_analysis_book_reports_what_pool_computes_and_rebuilds_to_the_same_bytes() {
    let n = 200;
    let dir = fresh("n200");
    large::write(&dir, Shape::analyses(n)).unwrap();
    let (code, out, err) = metabook(&dir, &["build"]);
    assert_eq!(code, 0, "{out}{err}");

    // The chapters in order; in each analysis' order its sentence and its forest plot.
    let mut sentences = Vec::new();
    let mut totals = Vec::new();
    for c in 1..=n.div_ceil(10) {
        let html = std::fs::read_to_string(dir.join(format!("book/html/c{c:03}.html"))).unwrap();
        sentences.extend(
            html.split("In ")
                .skip(1)
                .filter_map(|s| s.split_once(" studies the effect was "))
                .map(|(k, rest)| {
                    (
                        k.to_string(),
                        rest.split(", shown in").next().unwrap().to_string(),
                    )
                }),
        );
        for svg in html.split("<svg").skip(1) {
            let after = svg
                .split_once(">Total (95% CI)</text>")
                .expect("a total row")
                .1;
            let effect = after
                .split("</text>")
                .map(|t| t.rsplit('>').next().unwrap())
                .find(|t| t.contains(" ["))
                .expect("the total's effect")
                .to_string();
            totals.push(effect);
        }
    }
    assert_eq!((sentences.len(), totals.len()), (n, n));

    for j in 1..=n {
        let name = large::analysis_name(j);
        let measure = if large::is_continuous(j) { "MD" } else { "RR" };
        let (code, json, err) = metabook(
            &dir,
            &[
                "pool",
                "--data",
                &format!("data/{name}.csv"),
                "--measure",
                measure,
                "--method",
                "DL",
                "--format",
                "json",
            ],
        );
        assert_eq!(code, 0, "{err}");
        let r: serde_json::Value = serde_json::from_str(&json).unwrap();
        let value = |key: &str| {
            let key = if measure == "RR" {
                format!("{key}_exp")
            } else {
                key.to_string()
            };
            r[key.as_str()].as_f64().unwrap()
        };
        let (est, lo, hi) = (value("estimate"), value("ci_lower"), value("ci_upper"));
        let (k, sentence) = &sentences[j - 1];
        assert_eq!(k, &r["k"].to_string(), "{name}");
        let expected = format!("{measure} {} (95% CI {} to {})", two(est), two(lo), two(hi));
        assert!(
            sentence.starts_with(&expected),
            "{name}: `{sentence}` does not start with `{expected}`"
        );
        assert!(
            sentence.contains(&format!("I² = {:.0}%", r["i2"].as_f64().unwrap())),
            "{name}: {sentence}"
        );
        assert_eq!(
            totals[j - 1],
            format!("{} [{}, {}]", two(est), two(lo), two(hi)),
            "{name}'s forest plot total"
        );
    }

    // The PDF has every analysis' forest plot, each with its total.
    let pdf = std::fs::read_dir(dir.join("book"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "pdf"))
        .unwrap();
    let text = String::from_utf8_lossy(
        &Command::new("pdftotext")
            .arg(&pdf)
            .arg("-")
            .output()
            .expect("pdftotext (poppler-utils)")
            .stdout,
    )
    .into_owned();
    assert_eq!(text.matches("Total (95% CI)").count(), n);
    for t in &totals {
        assert!(text.contains(t.as_str()), "the PDF lacks the total {t}");
    }

    // The same inputs in another folder give the same bytes, file for file.
    let again = fresh("n200-again");
    large::write(&again, Shape::analyses(n)).unwrap();
    let (code, out, err) = metabook(&again, &["build"]);
    assert_eq!(code, 0, "{out}{err}");
    let (first, second) = (common::tree(&dir.join("book")), common::tree(&again.join("book")));
    assert_eq!(
        first.iter().map(|f| &f.0).collect::<Vec<_>>(),
        second.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    for ((path, a), (_, b)) in first.iter().zip(&second) {
        assert!(a == b, "{path} differs between two builds of the same book");
    }
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&again);
}
