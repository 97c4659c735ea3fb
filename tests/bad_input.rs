//! Bad input never panics: each case below runs the real `metabook` binary and expects exit
//! code 1, nothing on standard output, and a diagnostic that names the file, line and column
//! (where there is a file) with a hint. The rendered diagnostics are snapshots
//! (`tests/snapshots/`), so a change in wording is reviewed like code.

use std::path::Path;
use std::process::Command;

/// Run `metabook pool` in the bad-input fixture folder; return (exit code, stderr).
fn pool(args: &[&str]) -> (i32, String) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad");
    let out = Command::new(env!("CARGO_BIN_EXE_metabook"))
        .arg("pool")
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run metabook");
    assert!(out.stdout.is_empty(), "nothing may be printed on stdout on failure");
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stderr).unwrap())
}

fn fails_at(args: &[&str], location: &str) -> String {
    let (code, stderr) = pool(args);
    assert_eq!(code, 1, "exit code; stderr:\n{stderr}");
    assert!(stderr.contains(location), "expected location `{location}` in:\n{stderr}");
    assert!(stderr.contains("hint:"), "expected a hint in:\n{stderr}");
    stderr
}

#[test]
fn non_numeric_cell() {
    insta::assert_snapshot!(fails_at(&["--data", "non_numeric.csv", "--measure", "SMD"], "non_numeric.csv:3:15"));
}

#[test]
fn nan_cell() {
    insta::assert_snapshot!(fails_at(&["--data", "nan.csv", "--measure", "MD"], "nan.csv:2:11"));
}

#[test]
fn infinite_cell() {
    insta::assert_snapshot!(fails_at(&["--data", "inf.csv", "--measure", "GEN"], "inf.csv:3:8"));
}

#[test]
fn sd_not_positive() {
    insta::assert_snapshot!(fails_at(&["--data", "sd_zero.csv", "--measure", "SMD"], "sd_zero.csv:3:15"));
}

#[test]
fn sample_size_below_two() {
    insta::assert_snapshot!(fails_at(&["--data", "n_small.csv", "--measure", "SMD"], "n_small.csv:3:8"));
}

#[test]
fn more_events_than_participants() {
    insta::assert_snapshot!(fails_at(&["--data", "events_over_n.csv", "--measure", "OR"], "events_over_n.csv:3:8"));
}

#[test]
fn correlation_out_of_range() {
    insta::assert_snapshot!(fails_at(&["--data", "r_out_of_range.csv", "--measure", "ZCOR"], "r_out_of_range.csv:3:11"));
}

#[test]
fn duplicate_study_label() {
    insta::assert_snapshot!(fails_at(&["--data", "duplicate.csv", "--measure", "SMD"], "duplicate.csv:4:1"));
}

#[test]
fn empty_file() {
    insta::assert_snapshot!(fails_at(&["--data", "empty.csv", "--measure", "SMD"], "empty.csv:1:1"));
}

#[test]
fn missing_column() {
    insta::assert_snapshot!(fails_at(&["--data", "missing_column.csv", "--measure", "SMD"], "missing_column.csv:1:1"));
}

#[test]
fn row_with_too_few_fields() {
    insta::assert_snapshot!(fails_at(&["--data", "ragged.csv", "--measure", "SMD"], "ragged.csv:2:1"));
}

#[test]
fn pre_post_without_correlation() {
    insta::assert_snapshot!(fails_at(&["--data", "prepost_no_r.csv", "--measure", "SMCR"], "prepost_no_r.csv:1:1"));
}

#[test]
fn measure_that_does_not_fit_the_columns() {
    let err = fails_at(&["--data", "events_over_n.csv", "--measure", "SMD"], "events_over_n.csv:1:1");
    assert!(err.contains("--measure OR, RR or RD"), "{err}");
}

#[test]
fn unknown_measure_suggests_the_closest() {
    let (code, err) = pool(&["--data", "good_continuous.csv", "--measure", "SDM"]);
    assert_eq!(code, 1);
    assert!(err.contains("did you mean `SMD`?"), "{err}");
    insta::assert_snapshot!(err);
}

#[test]
fn unknown_method_suggests_the_closest() {
    let (code, err) = pool(&["--data", "good_continuous.csv", "--measure", "SMD", "--method", "RMEL"]);
    assert_eq!(code, 1);
    assert!(err.contains("did you mean `REML`?"), "{err}");
    insta::assert_snapshot!(err);
}

#[test]
fn missing_file() {
    let (code, err) = pool(&["--data", "no_such_file.csv", "--measure", "SMD"]);
    assert_eq!(code, 1);
    assert!(err.contains("cannot read the data file `no_such_file.csv`"), "{err}");
}

#[test]
fn estimator_that_does_not_converge() {
    let (code, err) = pool(&["--data", "good_continuous.csv", "--measure", "SMD", "--method", "REML", "--max-iter", "1"]);
    assert_eq!(code, 1);
    assert!(err.contains("did not converge in 1 iterations"), "{err}");
    assert!(err.contains("hint:"), "{err}");
}

#[test]
fn method_that_does_not_fit_the_measure() {
    let (code, err) = pool(&["--data", "good_continuous.csv", "--measure", "SMD", "--method", "MH"]);
    assert_eq!(code, 1);
    assert!(err.contains("method MH cannot pool the measure SMD"), "{err}");
}

#[test]
fn revman5_without_reml() {
    let (code, err) = pool(&["--data", "good_continuous.csv", "--measure", "SMD", "--convention", "revman5"]);
    assert_eq!(code, 1);
    assert!(err.contains("revman5 convention does not offer the REML estimator"), "{err}");
}

#[test]
fn iteration_controls_out_of_range_are_usage_errors() {
    // A step of 0 (or a negative or NaN one) never moves τ² from its starting value, which was
    // then reported as converged; a NaN or negative threshold never compares. Each is a usage
    // error (exit code 2, as clap reports any bad flag) naming the flag and its range.
    let cases = [
        ("--step", "0", "greater than 0 and at most 1"),
        ("--step", "-1", "greater than 0 and at most 1"),
        ("--step", "NaN", "greater than 0 and at most 1"),
        ("--step", "1.5", "greater than 0 and at most 1"),
        ("--threshold", "NaN", "a finite number greater than 0"),
        ("--threshold", "-1e-5", "a finite number greater than 0"),
        ("--threshold", "0", "a finite number greater than 0"),
        ("--threshold", "inf", "a finite number greater than 0"),
        ("--max-iter", "0", "at least 1"),
        ("--max-iter", "-3", "at least 1"),
        ("--level", "150", "between 0 and 100"),
        ("--level", "0", "between 0 and 100"),
        ("--level", "-95", "between 0 and 100"),
        ("--level", "NaN", "between 0 and 100"),
    ];
    for (flag, value, range) in cases {
        let (code, err) = pool(&["--data", "good_continuous.csv", "--measure", "SMD", "--method", "REML", flag, value]);
        assert_eq!(code, 2, "{flag} {value}: {err}");
        assert!(err.contains(&format!("invalid value '{value}' for '{flag} <")), "{flag} {value}: {err}");
        assert!(err.contains(range), "{flag} {value}: {err}");
    }
    let ok = Command::new(env!("CARGO_BIN_EXE_metabook"))
        .args(["pool", "--data", "good_continuous.csv", "--measure", "SMD", "--step", "0.5", "--threshold", "1e-10", "--max-iter", "50", "--level", "90"])
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad"))
        .output()
        .expect("run metabook");
    assert!(ok.status.success(), "values in range are accepted: {}", String::from_utf8_lossy(&ok.stderr));
}

#[test]
fn cumulative_order_by_a_missing_column_names_the_option() {
    let (code, err) = pool(&["--data", "good_continuous.csv", "--measure", "SMD", "--cumulative-by", "yeer"]);
    assert_eq!(code, 1);
    assert!(err.contains("no column `yeer` to order the cumulative analysis by (in --cumulative-by)"), "{err}");
}

#[test]
fn duplicate_column_name() {
    // Two `yi` columns: the first was used and the second silently ignored.
    insta::assert_snapshot!(fails_at(&["--data", "duplicate_column.csv", "--measure", "GEN"], "duplicate_column.csv:1:13"));
}

#[test]
fn standard_error_whose_square_underflows() {
    // An SE of 1e-160 squared to a subnormal variance (an infinite weight: a null estimate, SE 0
    // and Q 0 with exit 0); one of 1e-300 squared to 0 and ended in "did not converge … raise
    // --max-iter". Both are errors at their cells, about the units.
    let err = fails_at(&["--data", "se_underflow.csv", "--measure", "GEN"], "se_underflow.csv:2:12");
    assert!(err.contains("se_underflow.csv:3:12"), "{err}");
    assert!(!err.contains("converge") && !err.contains("--max-iter"), "{err}");
    insta::assert_snapshot!(err);
}

#[test]
fn effect_or_variance_out_of_range_is_an_error_at_its_cell() {
    let err = fails_at(&["--data", "vi_out_of_range.csv", "--measure", "GEN"], "vi_out_of_range.csv:2:12");
    assert!(err.contains("vi_out_of_range.csv:3:12") && err.contains("vi_out_of_range.csv:4:8"), "{err}");
    insta::assert_snapshot!(err);
}

#[test]
fn computed_variance_that_underflows_is_an_error_at_its_study() {
    // SDs of 1e-160 give a mean difference whose variance underflows: located at the study,
    // not "did not converge".
    for measure in ["MD", "SMD", "ROM"] {
        let err = fails_at(&["--data", "sd_underflow.csv", "--measure", measure], "sd_underflow.csv:2:1");
        assert!(err.contains("study `A 2001`") && err.contains("check this study's numbers"), "{measure}: {err}");
        assert!(!err.contains("converge"), "{measure}: {err}");
    }
}

#[test]
fn options_that_do_not_fit_name_their_flags() {
    // Said before the data are read, naming the flags rather than the data file.
    for (args, flags) in [
        (&["--measure", "SMD", "--method", "MH"][..], "from the flags `--method MH` and `--measure SMD`"),
        (&["--measure", "SMD", "--method", "REML", "--convention", "revman5"][..], "from the flags `--method REML` and `--convention revman5`"),
        (&["--measure", "SMD", "--method", "DL", "--test", "knha", "--convention", "revman5"][..], "from the flags `--test knha` and `--convention revman5`"),
    ] {
        let mut all = vec!["--data", "good_continuous.csv"];
        all.extend_from_slice(args);
        let (code, err) = pool(&all);
        assert_eq!(code, 1, "{err}");
        assert!(err.contains(flags), "{err}");
        assert!(!err.contains("data file:"), "{err}");
    }
    let (code, err) = pool(&["--data", "events_over_n.csv", "--measure", "OR", "--method", "MH", "--test", "knha"]);
    assert_eq!(code, 1);
    assert!(err.contains("the knha test cannot be used with method MH") && err.contains("use `--test z`"), "checked before the data: {err}");
}

#[test]
fn knapp_hartung_with_one_study() {
    let err = fails_at(&["--data", "one_study.csv", "--measure", "GEN", "--test", "knha"], "one_study.csv:1:1");
    assert!(err.contains("needs at least 2 studies, but there is 1") && err.contains("use `--test z`, or add studies"), "{err}");
}
