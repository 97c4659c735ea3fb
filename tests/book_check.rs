//! `metabook check` on fixture books (tests/fixtures/books/): a minimal book passes, and each
//! broken book fails with exit code 1 and a diagnostic located in the right file (snapshots).

use std::path::{Path, PathBuf};
use std::process::Command;

fn books() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/books")
}

fn check(book: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_metabook"))
        .args(["check", "--book"])
        .arg(book)
        .env("NO_COLOR", "1")
        .output()
        .expect("run metabook");
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn minimal_book_checks() {
    let (code, stdout, stderr) = check(&books().join("minimal"));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "ok: 1 chapters, 4 directives, 1 analyses (bcg: k = 13)\n");
}

#[test]
fn bad_directive_values_point_into_the_markdown() {
    let (code, _, stderr) = check(&books().join("bad_directive"));
    assert_eq!(code, 1);
    assert!(stderr.contains("report/results.md:7:10"), "{stderr}");
    assert!(stderr.contains("report/results.md:11:12"), "{stderr}");
    insta::assert_snapshot!(stderr);
}

#[test]
fn data_paths_cannot_leave_the_data_folder() {
    let (code, _, stderr) = check(&books().join("data_escape"));
    assert_eq!(code, 1);
    assert!(stderr.contains("report/results.md:5:8"), "{stderr}");
    assert!(stderr.contains("leaves its folder"), "{stderr}");
}

#[cfg(unix)]
#[test]
fn symbolic_links_out_of_the_data_folder_are_refused() {
    // A copy of the minimal book whose data file is a link to a file outside `data/`.
    let dir = std::env::temp_dir().join(format!("metabook-symlink-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for sub in ["report", "data"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let src = books().join("minimal");
    std::fs::copy(src.join("book.toml"), dir.join("book.toml")).unwrap();
    std::fs::copy(src.join("report/SUMMARY.md"), dir.join("report/SUMMARY.md")).unwrap();
    std::fs::copy(src.join("report/results.md"), dir.join("report/results.md")).unwrap();
    std::fs::copy(src.join("data/bcg.csv"), dir.join("outside.csv")).unwrap();
    std::os::unix::fs::symlink(dir.join("outside.csv"), dir.join("data/bcg.csv")).unwrap();
    let (code, _, stderr) = check(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(code, 1);
    assert!(stderr.contains("leads out of"), "{stderr}");
}

#[test]
fn unknown_config_keys_are_named() {
    let (code, _, stderr) = check(&books().join("unknown_key_config"));
    assert_eq!(code, 1);
    assert!(stderr.contains("book.toml:6:1"), "{stderr}");
    insta::assert_snapshot!(stderr);
}

#[test]
fn undefined_inline_values_are_located_with_a_suggestion() {
    let (code, _, stderr) = check(&books().join("undefined_value"));
    assert_eq!(code, 1);
    assert!(stderr.contains("report/results.md:3:"), "{stderr}");
    assert!(stderr.contains("did you mean `bcg`?"), "{stderr}");
    insta::assert_snapshot!(stderr);
}

#[test]
fn unknown_citation_keys_and_labels_are_located_with_suggestions() {
    let (code, _, stderr) = check(&books().join("bad_citation"));
    assert_eq!(code, 1);
    assert!(stderr.contains("report/results.md:3:12"), "{stderr}");
    assert!(stderr.contains("did you mean `@colditz1994`?"), "{stderr}");
    assert!(stderr.contains("report/results.md:3:40"), "{stderr}");
    assert!(stderr.contains("did you mean `@fig-forest`?"), "{stderr}");
    insta::assert_snapshot!(stderr);
}

#[test]
fn images_must_exist_inside_the_source_folder_in_a_known_format() {
    let (code, _, stderr) = check(&books().join("bad_image"));
    assert_eq!(code, 1);
    for at in ["report/results.md:3:17", "report/results.md:3:53", "report/results.md:3:91"] {
        assert!(stderr.contains(at), "{at}: {stderr}");
    }
    insta::assert_snapshot!(stderr);
}

#[test]
fn risk_of_bias_errors_are_located() {
    let (code, _, stderr) = check(&books().join("bad_rob"));
    assert_eq!(code, 1);
    assert!(stderr.contains("data/typo.csv:3:31"), "{stderr}");
    assert!(stderr.contains("did you mean `Low`?"), "{stderr}");
    assert!(stderr.contains("report/results.md:17:12"), "a study of the analysis without judgements: {stderr}");
    assert!(stderr.contains("unknown risk-of-bias tool `RoB 7`"), "{stderr}");
    insta::assert_snapshot!(stderr);
}

#[test]
fn judgements_for_a_study_outside_the_analysis_are_a_warning() {
    let (code, stdout, stderr) = check(&books().join("rob_warning"));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("ok: "));
    assert!(stderr.starts_with("warning: `Extra 2000` has risk-of-bias judgements but is not a study of the analysis `bcg`"), "{stderr}");
    assert!(stderr.contains("data/rob.csv:15:1"), "{stderr}");
}

#[test]
fn a_summary_of_findings_outcome_must_name_an_analysis() {
    let (code, _, stderr) = check(&books().join("bad_sof"));
    assert_eq!(code, 1);
    assert!(stderr.contains("data/grade.toml:5:12"), "{stderr}");
    insta::assert_snapshot!(stderr);
}

#[test]
fn a_rating_the_data_question_is_a_warning() {
    let (code, _, stderr) = check(&books().join("sof_warning"));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.starts_with("warning: outcome `Tuberculosis`: I² is 92%, above 50%, but inconsistency is rated not serious"), "{stderr}");
    assert!(stderr.contains("data/grade.toml:5:12"), "{stderr}");
}

#[test]
fn prisma_counts_are_checked_at_their_cells() {
    let (code, _, stderr) = check(&books().join("bad_prisma"));
    assert_eq!(code, 1);
    assert!(stderr.contains("data/prisma.csv:7:11"), "{stderr}");
    assert!(stderr.contains("data/boxes.csv:3:1"), "{stderr}");
    insta::assert_snapshot!(stderr);
}

#[test]
fn a_hard_plain_language_summary_is_a_warning_that_names_what_makes_it_hard() {
    let (code, _, stderr) = check(&books().join("pls_hard"));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("warning: the plain-language summary reads at grade "), "{stderr}");
    assert!(stderr.contains("longest sentences: 25 words: “Chronic nonspecific musculoskeletal"), "{stderr}");
    assert!(stderr.contains("hardest words (syllables): "), "{stderr}");
}

#[test]
fn funnel_and_sensitivity_errors_are_located_at_their_keys() {
    let (code, _, stderr) = check(&books().join("bad_sensitivity"));
    assert_eq!(code, 1);
    assert!(stderr.contains("unknown sensitivity analysis `leave-one-ot`") && stderr.contains("did you mean `leave-one-out`?"), "{stderr}");
    assert!(stderr.contains("report/results.md:17:6") && stderr.contains("did you mean `year`?"), "an unknown `by` column: {stderr}");
    assert!(stderr.contains("contour level 120"), "{stderr}");
    insta::assert_snapshot!(stderr);
}

#[test]
fn funnel_and_sensitivity_must_name_an_analysis() {
    let (code, _, stderr) = check(&books().join("bad_funnel"));
    assert_eq!(code, 1);
    assert!(stderr.contains("no analysis named `bgc`") && stderr.contains("did you mean `bcg`?"), "{stderr}");
    assert!(stderr.contains("report/results.md:10:12"), "{stderr}");
    assert!(stderr.contains("no analysis named `spasticity`"), "{stderr}");
    insta::assert_snapshot!(stderr);
}

#[test]
fn analysis_options_that_do_not_fit_point_at_their_keys() {
    // REML under RevMan 5, MH with generic data, Peto with RD, Knapp–Hartung with MH and with
    // one study, FE with a random model, and M-H random under metafor: each carried only a hint
    // naming the data file. (An analysis without an estimable study is "not estimable", not an
    // error: tests/revman_numbers.rs.)
    let (code, _, stderr) = check(&books().join("bad_options"));
    assert_eq!(code, 1);
    for (at, what) in [
        ("report/results.md:7:10", "does not offer the REML estimator"),
        ("report/results.md:14:10", "method MH cannot pool the measure GEN"),
        ("report/results.md:22:10", "method PETO cannot pool the measure RD"),
        ("report/results.md:30:8", "the knha test cannot be used with method MH"),
        ("report/results.md:39:8", "needs at least 2 studies, but there is 1"),
        ("report/results.md:48:9", "method FE is the fixed-effect model"),
        ("report/results.md:56:9", "Mantel–Haenszel with random effects"),
    ] {
        assert!(stderr.contains(at), "{what} at {at}: {stderr}");
        assert!(stderr.contains(what), "{what}: {stderr}");
    }
    assert!(!stderr.contains("data file:"), "{stderr}");
    assert!(!stderr.contains("`--"), "a book's hints name keys, not command-line flags: {stderr}");
    insta::assert_snapshot!(stderr);
}

#[test]
fn an_option_from_book_toml_points_at_its_default() {
    let (code, _, stderr) = check(&books().join("bad_defaults"));
    assert_eq!(code, 1);
    assert!(stderr.contains("method MH cannot pool the measure GEN") && stderr.contains("book.toml:5:10"), "{stderr}");
    assert!(stderr.contains("the analysis `generic` at report/results.md:11 takes its method from book.toml's [analysis]"), "{stderr}");
    assert_eq!(stderr.matches("error:").count(), 1, "the risk-ratio analysis pools by MH: {stderr}");
}
