//! `metabook init`: a new book builds at once (site and PDF), and a folder that is not empty is
//! refused without a file written.

use std::path::{Path, PathBuf};
use std::process::Command;

fn temp(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("metabook-init-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Exit code, stdout, stderr of `metabook ARGS` run in `cwd`.
fn metabook(cwd: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_metabook")).args(args).current_dir(cwd).env("NO_COLOR", "1").output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

/// Every file under `dir`, relative, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                found.push(path.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    found.sort();
    found
}

#[test]
fn a_new_book_builds_at_once() {
    let root = temp("new");
    std::fs::create_dir_all(&root).unwrap();
    let (code, out, err) = metabook(&root, &["init", "review"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("created a new book in review:\n  book.toml\n  report/SUMMARY.md\n"), "{out}");
    assert!(out.ends_with("next: metabook build --book review\n"), "{out}");
    let dir = root.join("review");
    assert_eq!(files(&dir), [".gitignore", "book.toml", "data/README.md", "data/example.csv", "report/SUMMARY.md", "report/results.md"]);
    let (code, out, err) = metabook(&root, &["build", "--book", "review"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.is_empty(), "a new book builds without warnings: {err}");
    assert!(dir.join("book/a-new-systematic-review.pdf").exists());
    let page = std::fs::read_to_string(dir.join("book/html/results.html")).unwrap();
    assert!(dir.join("book/html/index.html").exists());
    assert!(page.contains("Example data.") && page.contains("invented"), "labelled as example data: {page}");
    assert!(page.contains("In 4 invented example studies") && page.contains("<svg"), "{page}");
    let results: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("book/results.json")).unwrap()).unwrap();
    assert_eq!(results["example"]["k"], 4);
    assert!(std::fs::read_to_string(dir.join("data/README.md")).unwrap().contains("invented example data"));
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn init_without_a_folder_uses_the_current_one_when_it_is_empty() {
    let dir = temp("here");
    std::fs::create_dir_all(&dir).unwrap();
    let (code, out, err) = metabook(&dir, &["init"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.ends_with("next: metabook build --book .\n"), "{out}");
    assert!(dir.join("book.toml").exists() && dir.join("report/results.md").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_folder_that_is_not_empty_is_refused_and_nothing_is_written() {
    let dir = temp("full");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    let (code, out, err) = metabook(&dir, &["init", "."]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("error: the folder `.` is not empty: it holds `notes.txt`"), "{err}");
    assert!(err.contains("never writes over an author's files"), "{err}");
    assert_eq!(files(&dir), ["notes.txt"]);
    assert_eq!(std::fs::read_to_string(dir.join("notes.txt")).unwrap(), "mine");
    // A book there already: refused too, the author's book.toml untouched.
    std::fs::write(dir.join("book.toml"), "[book]\ntitle = \"Mine\"\n").unwrap();
    assert_eq!(metabook(&dir, &["init"]).0, 1);
    assert_eq!(std::fs::read_to_string(dir.join("book.toml")).unwrap(), "[book]\ntitle = \"Mine\"\n");
    // A file given as the folder.
    let (code, _, err) = metabook(&dir, &["init", "notes.txt"]);
    assert_eq!(code, 1);
    assert!(err.contains("`notes.txt` is a file, not a folder"), "{err}");
    assert_eq!(files(&dir), ["book.toml", "notes.txt"]);
    let _ = std::fs::remove_dir_all(&dir);
}
