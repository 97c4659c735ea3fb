//! "The book checks itself against RevMan": a book whose `metabook revman` block reads the
//! numbers RevMan 5 stored (tests/fixtures/books/revman: Fleiss 1993, Analysis 1.1, Odds Ratio,
//! M-H, Fixed, copied from Fleiss1993.rm5 — see its data/README.md) shows a table saying they
//! are reproduced; one stored number altered makes the build warn, naming the analysis and the
//! number, at its cell.

mod common;

use common::copy_dir;
use std::path::{Path, PathBuf};
use std::process::Command;

fn book(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("metabook-revman-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/books/revman"), &dir);
    dir
}

/// Exit code, stdout, stderr.
fn build(dir: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_metabook")).args(["build", "--book"]).arg(dir).env("NO_COLOR", "1").output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{from}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

const PDF: &str = "book/aspirin-after-myocardial-infarction-checked-against-revman.pdf";

#[test]
fn the_book_reproduces_every_number_revman_stored() {
    let dir = book("same");
    let (code, out, err) = build(&dir);
    assert_eq!(code, 0, "{out}{err}");
    // 7 studies × (estimable, estimate, CI, weight) and the total's 12.
    assert!(out.contains("RevMan: reproduces 1 of 1 RevMan analysis (47 numbers compared, largest difference "), "{out}");
    assert!(!err.contains("warning"), "{err}");
    let page = std::fs::read_to_string(dir.join("book/html/results.html")).unwrap();
    assert!(page.contains("<caption>Table 1. RevMan versus metabook"), "{page}");
    assert!(page.contains("<th scope=\"row\">a1_1</th><td>7 studies, total</td><td class=\"num\">47</td>"), "{page}");
    assert!(page.contains("<td>reproduced</td>"), "{page}");
    assert!(page.contains("metabook reproduces 1 of 1 RevMan analysis."), "{page}");
    assert!(page.contains("href=\"results.html#table-1\">Table\u{a0}1</a>"), "the label is a cross-reference: {page}");
    let text = Command::new("pdftotext").arg(dir.join(PDF)).arg("-").output().expect("pdftotext (apt-get install poppler-utils)");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("RevMan versus metabook") && text.contains("reproduced"), "{text}");
    // The comparison is a cached view like the others: a rebuild says the same.
    let (code, again, _) = build(&dir);
    assert_eq!(code, 0);
    assert!(again.contains("RevMan: reproduces 1 of 1 RevMan analysis"), "{again}");
    assert!(again.contains("rebuilt: 0 of 3 directives run"), "{again}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_stored_number_that_differs_is_a_warning_naming_the_analysis_and_the_number() {
    let dir = book("differs");
    // The total's lower confidence limit, as if RevMan had stored 0.8408.
    edit(&dir, "data/revman-results.csv", ",0.8405144008917793,", ",0.8408,");
    let (code, out, err) = build(&dir);
    assert_eq!(code, 0, "a difference is a warning, the book is built: {out}{err}");
    assert!(err.contains("warning: `a1_1` does not reproduce RevMan: total: CI lower 0.8408 (RevMan) vs 0.8405 (metabook)"), "{err}");
    assert!(err.contains("revman-results.csv:9:"), "at the cell: {err}");
    assert_eq!(err.matches("warning:").count(), 1, "{err}");
    assert!(out.contains("RevMan: reproduces 0 of 1 RevMan analysis"), "{out}");
    assert!(out.contains("  a1_1 differs in 1 of 47 numbers (largest difference 2.856e-4): total: CI lower 0.8408 (RevMan) vs 0.8405 (metabook)"), "{out}");
    let page = std::fs::read_to_string(dir.join("book/html/results.html")).unwrap();
    assert!(page.contains("<td>1 of 47 differ: total: CI lower 0.8408 (RevMan) vs 0.8405 (metabook)</td>"), "{page}");
    assert!(page.contains("metabook reproduces 0 of 1 RevMan analysis."), "{page}");
    // A study's estimability, too.
    edit(&dir, "data/revman-results.csv", "a1_1,study,,GASP,YES,", "a1_1,study,,GASP,NO,");
    let (_, out, err) = build(&dir);
    assert!(err.contains("`a1_1` does not reproduce RevMan: GASP: not estimable (RevMan) vs estimable (metabook)"), "{err}");
    assert!(out.contains("a1_1 differs in 2 of 44 numbers"), "GASP's placeholders are not compared: {out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_study_or_analysis_the_book_does_not_have_stops_the_build_at_its_cell() {
    let dir = book("unknown");
    assert_eq!(build(&dir).0, 0);
    let before = std::fs::read(dir.join("book/html/results.html")).unwrap();
    edit(&dir, "data/revman-results.csv", "a1_1,study,,MRC-2,", "a1_1,study,,MRC 2,");
    edit(&dir, "data/revman-results.csv", "a1_1,total,", "a1_2,total,");
    edit(&dir, "data/revman-results.csv", ",3.287633061337987,", ",3.28x,");
    let (code, _, err) = build(&dir);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("error: `3.28x` is not a number") && err.contains("revman-results.csv:9:"), "{err}");
    edit(&dir, "data/revman-results.csv", ",3.28x,", ",3.287633061337987,");
    let (code, _, err) = build(&dir);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("error: RevMan's results name a study `MRC 2` that the analysis `a1_1` does not have"), "{err}");
    assert!(err.contains("did you mean `MRC-2`?"), "{err}");
    assert!(err.contains("error: RevMan's results name an analysis `a1_2` the book does not have") && err.contains("did you mean `a1_1`?"), "{err}");
    assert_eq!(std::fs::read(dir.join("book/html/results.html")).unwrap(), before, "nothing written");
    let _ = std::fs::remove_dir_all(&dir);
}
