//! Hostile and unlucky books: a template that loops for ever or writes gigabytes, a
//! bibliography whose entries inherit from each other in a circle, markup in the plain-language
//! summary's strings, and mistakes in the page and summary templates. Each is an error located
//! in the author's file with a hint and exit code 1 — never a crash, a hang, or HTML let through.

mod common;

use common::copy_dir;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A private copy of a fixture book.
fn book(fixture: &str, tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("metabook-hostile-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/books").join(fixture), &dir);
    dir
}

/// Run `metabook <command> --book dir`: exit code, stdout and stderr together, and the time taken.
fn run(command: &str, dir: &Path) -> (i32, String, Duration) {
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_metabook")).args([command, "--book"]).arg(dir).env("NO_COLOR", "1").output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr), start.elapsed())
}

fn append(path: &Path, text: &str) {
    let old = std::fs::read_to_string(path).unwrap();
    std::fs::write(path, old + text).unwrap();
}

#[test]
fn crossref_cycles_in_the_bibliography_are_errors_at_the_entry() {
    let dir = book("minimal", "crossref");
    append(&dir.join("book.toml"), "\n[bibliography]\nfile = \"refs.bib\"\n");
    std::fs::write(dir.join("data/refs.bib"), "@inproceedings{a, title={A}, year={2000},\n  crossref={b}}\n@proceedings{b, title={B}, year={2000}, crossref={a}}\n").unwrap();
    let (code, out, _) = run("check", &dir);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("error: the entry `a` takes its fields from itself: a → b → a"), "{out}");
    assert!(out.contains("data/refs.bib:2:3"), "{out}");
    assert!(out.contains("hint: "), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}
