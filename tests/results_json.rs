//! `book/results.json`: every build writes each analysis under its name, exactly as
//! `metabook pool --format json` prints it for the same data and options. The options are read
//! here from the chapters' `metabook analysis` blocks and book.toml's `[analysis]` defaults, and
//! `pool` is run as a separate process on the same CSV file, so the comparison does not go
//! through the build's own code.

mod common;

use common::copy_dir;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn metabook(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_metabook")).args(args).env("NO_COLOR", "1").output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

fn build(dir: &Path) -> String {
    let (code, out, err) = metabook(&["build", "--book", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    out
}

/// The options of each `metabook analysis` block of the book's chapters, with book.toml's
/// `[analysis]` defaults where a block leaves one out, as `pool` flags.
fn analysis_options(dir: &Path) -> Vec<(String, Vec<String>)> {
    let config: toml::Table = toml::from_str(&std::fs::read_to_string(dir.join("book.toml")).unwrap()).unwrap();
    let defaults = config.get("analysis").and_then(toml::Value::as_table).cloned().unwrap_or_default();
    let mut found = Vec::new();
    let mut chapters: Vec<PathBuf> = std::fs::read_dir(dir.join("report")).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "md")).collect();
    chapters.sort();
    for chapter in chapters {
        let text = std::fs::read_to_string(&chapter).unwrap();
        for block in text.split("```metabook analysis\n").skip(1) {
            let body = &block[..block.find("```").unwrap()];
            let keys: toml::Table = toml::from_str(body).unwrap();
            let get = |key: &str| keys.get(key).or_else(|| defaults.get(key)).map(|v| match v {
                toml::Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            let mut flags = vec!["--data".to_string(), dir.join("data").join(get("data").unwrap()).display().to_string(), "--measure".to_string(), get("measure").unwrap()];
            for key in ["method", "model", "test", "convention", "level", "study-level", "r", "effect-name"] {
                if let Some(v) = get(key) {
                    flags.push(format!("--{key}"));
                    flags.push(v);
                }
            }
            if get("log-scale").as_deref() == Some("true") {
                flags.push("--log-scale".to_string());
            }
            found.push((get("name").unwrap(), flags));
        }
    }
    found
}

/// Every analysis of the book in `dir` (built) is in results.json exactly as `pool` prints it.
fn check_against_pool(dir: &Path) -> usize {
    let written = std::fs::read_to_string(dir.join("book/results.json")).unwrap();
    let results: Value = serde_json::from_str(&written).unwrap();
    let by_name = results.as_object().expect("one object");
    let analyses = analysis_options(dir);
    assert!(!analyses.is_empty());
    let names: Vec<&str> = by_name.keys().map(String::as_str).collect();
    let mut expected: Vec<&str> = analyses.iter().map(|(n, _)| n.as_str()).collect();
    expected.sort();
    assert_eq!(names, expected, "one entry per analysis, names in sorted order");
    for (name, flags) in &analyses {
        let mut args = vec!["pool"];
        args.extend(flags.iter().map(String::as_str));
        args.extend(["--format", "json"]);
        let (code, out, err) = metabook(&args);
        assert_eq!(code, 0, "{err}");
        let pooled: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(by_name[name], pooled, "results.json's `{name}` is `metabook pool {}`", flags.join(" "));
    }
    analyses.len()
}

#[test]
fn results_json_holds_each_analysis_as_pool_prints_it_with_subgroups() {
    let dir = std::env::temp_dir().join(format!("metabook-results-json-minimal-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&root().join("tests/fixtures/books/minimal"), &dir);
    build(&dir);
    assert_eq!(check_against_pool(&dir), 1);
    let results: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("book/results.json")).unwrap()).unwrap();
    // The minimal book's data have a `subgroup` column: the subgroups are there by name.
    let subgroups: Vec<&str> = results["bcg"]["subgroups"].as_array().unwrap().iter().map(|g| g["subgroup"].as_str().unwrap()).collect();
    assert_eq!(subgroups, ["random", "alternate", "systematic"]);
    assert!(results["bcg"]["subgroup_test"]["q"].as_f64().unwrap() > 0.0);
    // Written like every other output: listed in the manifest, and byte-identical on a rebuild.
    let manifest = std::fs::read_to_string(dir.join("book/.metabook/manifest.json")).unwrap();
    assert!(manifest.contains("\"results.json\""), "{manifest}");
    let before = std::fs::read(dir.join("book/results.json")).unwrap();
    build(&dir);
    assert_eq!(std::fs::read(dir.join("book/results.json")).unwrap(), before, "two builds give identical bytes");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn results_json_of_the_example_review_matches_pool_for_every_analysis() {
    let dir = std::env::temp_dir().join(format!("metabook-results-json-example-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(root().join("book.toml"), dir.join("book.toml")).unwrap();
    copy_dir(&root().join("report"), &dir.join("report"));
    copy_dir(&root().join("data"), &dir.join("data"));
    build(&dir);
    assert!(check_against_pool(&dir) >= 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_data_edit_changes_results_json_and_a_failed_build_leaves_it() {
    let dir = std::env::temp_dir().join(format!("metabook-results-json-edit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&root().join("tests/fixtures/books/minimal"), &dir);
    build(&dir);
    let before = std::fs::read_to_string(dir.join("book/results.json")).unwrap();
    let data = dir.join("data/bcg.csv");
    let text = std::fs::read_to_string(&data).unwrap();
    std::fs::write(&data, text.replace("Aronson 1948,4,123,11,139", "Aronson 1948,40,123,1,139")).unwrap();
    build(&dir);
    let after = std::fs::read_to_string(dir.join("book/results.json")).unwrap();
    assert_ne!(before, after);
    check_against_pool(&dir);
    // A broken cell stops the build before anything is written.
    std::fs::write(&data, text.replace("Aronson 1948,4,123,11,139", "Aronson 1948,x,123,11,139")).unwrap();
    let (code, _, _) = metabook(&["build", "--book", dir.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(std::fs::read_to_string(dir.join("book/results.json")).unwrap(), after);
    let _ = std::fs::remove_dir_all(&dir);
}
