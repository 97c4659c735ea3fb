//! `metabook build` on the minimal fixture book: the HTML holds the computed numbers, user text
//! is escaped, two builds give identical bytes, and a failed build leaves the previous site as
//! it was.

mod common;

use common::copy_dir;
use std::path::{Path, PathBuf};
use std::process::Command;


/// A private copy of the minimal book.
fn book(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("metabook-build-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/books/minimal"), &dir);
    dir
}

fn build(dir: &Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_metabook")).args(["build", "--book"]).arg(dir).env("NO_COLOR", "1").output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap() + &String::from_utf8(out.stderr).unwrap())
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join("book/html").join(file)).unwrap()
}

#[test]
fn the_site_holds_the_computed_numbers_and_escapes_user_text() {
    let dir = book("numbers");
    let (code, out) = build(&dir);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("built 2 pages, 1 figures, 1 tables from 1 analyses into book/html and book/a-minimal-review.pdf"), "{out}");
    let page = read(&dir, "results.html");
    // DerSimonian–Laird (the book's [analysis] default) on dat.bcg: RR 0.49 (0.34 to 0.70).
    assert!(page.contains("RR 0.49 (95% CI 0.34 to 0.70)"), "{page}");
    assert!(page.contains("<caption>Table 1. Trials of BCG vaccine &amp; tuberculosis &lt;by allocation&gt;</caption>"));
    assert!(page.contains("<th scope=\"col\">Study</th>") && page.contains("<th scope=\"row\">Aronson 1948</th>"));
    assert!(page.contains("<figcaption><strong>Figure 1.</strong>"));
    assert!(page.contains("rel=\"prev\"") || page.contains("aria-current=\"page\""));
    let index = read(&dir, "index.html");
    assert!(index.contains("<h1>A minimal review</h1>") && index.contains("href=\"results.html\""));
    // The site offers the PDF: a copy inside it, linked from every page.
    assert!(index.contains("<a href=\"a-minimal-review.pdf\" type=\"application/pdf\">The review (PDF)</a>"), "{index}");
    assert!(std::fs::read(dir.join("book/html/a-minimal-review.pdf")).unwrap() == std::fs::read(dir.join("book/a-minimal-review.pdf")).unwrap());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn two_builds_give_identical_bytes() {
    let dir = book("twice");
    assert_eq!(build(&dir).0, 0);
    let first: Vec<String> = ["index.html", "results.html", "style.css"].iter().map(|f| read(&dir, f)).collect();
    let (code, out) = build(&dir);
    assert_eq!(code, 0);
    assert!(out.contains("rebuilt: 0 of 4 directives run (4 from the cache), 0 of 3 site files written, 0 of 1 PDFs typeset"), "{out}");
    let second: Vec<String> = ["index.html", "results.html", "style.css"].iter().map(|f| read(&dir, f)).collect();
    assert_eq!(first, second);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_failed_build_leaves_the_previous_site_intact() {
    let dir = book("atomic");
    assert_eq!(build(&dir).0, 0);
    let before = read(&dir, "results.html");
    let pdf_before = std::fs::read(dir.join("book/a-minimal-review.pdf")).unwrap();
    let chapter = dir.join("report/results.md");
    let text = std::fs::read_to_string(&chapter).unwrap().replace("{{ bcg | effect }}", "{{ bcg | efect }}");
    std::fs::write(&chapter, text).unwrap();
    let (code, out) = build(&dir);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("report/results.md:3:"), "{out}");
    assert_eq!(read(&dir, "results.html"), before);
    assert!(std::fs::read(dir.join("book/a-minimal-review.pdf")).unwrap() == pdf_before, "the PDF is untouched");
    let mut leftovers: Vec<_> = std::fs::read_dir(dir.join("book")).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    leftovers.sort();
    assert_eq!(leftovers, [".metabook", "a-minimal-review.pdf", "html", "results.json"], "no temporary files or folders remain");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_changed_data_file_is_reported_number_by_number_with_the_conclusions_first() {
    let dir = book("changes");
    let (code, out) = build(&dir);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("changed since"), "a first build has nothing to compare with: {out}");
    assert!(!dir.join("book/changes.md").exists());
    // Rebuilding the same inputs changes nothing.
    assert!(!build(&dir).1.contains("changed since"));
    // Aronson 1948: 4 of 123 vaccinated fell ill; make it 40, and 11 of 139 unvaccinated 1.
    let data = dir.join("data/bcg.csv");
    let text = std::fs::read_to_string(&data).unwrap().replace("Aronson 1948,4,123,11,139", "Aronson 1948,40,123,1,139");
    std::fs::write(&data, text).unwrap();
    let (code, out) = build(&dir);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("changed since the previous build (book/changes.md):"), "{out}");
    let report = std::fs::read_to_string(dir.join("book/changes.md")).unwrap();
    assert!(report.starts_with("# What changed since the previous build"), "{report}");
    assert!(report.contains("- `bcg` effect: RR 0.49 (95% CI 0.34 to 0.70) → "), "{report}");
    assert!(report.contains("(in report/results.md)"), "{report}");
    let _ = std::fs::remove_dir_all(&dir);
}
