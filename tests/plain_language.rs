//! The plain-language summary: its text for fixture analyses that cover every certainty level
//! (high, moderate, low, very low) and each direction (benefit, harm, little or no difference),
//! as a snapshot; and a check that every number in it is one the analyses give.

mod common;

use common::copy_dir;
use metabook::cmd::build::{prepare, Prepared};
use std::path::Path;

fn book(name: &str) -> Prepared {
    match prepare(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/books").join(name)) {
        Ok(p) => p,
        Err(d) => panic!("{}", metabook::diag::render(&d, false)),
    }
}

#[test]
fn every_certainty_level_and_direction_in_plain_words() {
    let p = book("pls");
    let summary = p.pls.as_ref().expect("the fixture has [pls]");
    let md = &summary.markdown;
    assert!(md.contains("The exercise plan reduces pain. We are confident in this result."), "high, benefit: {md}");
    assert!(md.contains("The exercise plan probably leads to more falls. The change is large."), "moderate, harm, SMD size: {md}");
    assert!(md.contains("The exercise plan may make little or no difference to sleep."), "low, no difference: {md}");
    assert!(md.contains("We are very uncertain whether the exercise plan improves mood."), "very low: {md}");
    assert!(summary.readability.grade.is_some_and(|g| g <= 8.0), "{:?}", summary.readability);
    insta::assert_snapshot!(md);
}

/// Every number in the summary's text is a count or an effect the analyses give, formatted
/// from the analyses' own JSON here (estimates and CIs to two decimals, k, participants), or
/// the year of the search book.toml gives.
#[test]
fn every_number_in_the_summary_comes_from_the_analyses() {
    for name in ["pls", "../../.."] {
        let p = book(name);
        let summary = p.pls.as_ref().expect("[pls]");
        let mut allowed: Vec<String> = vec!["95".to_string()];
        let mut people_total = 0.0;
        let mut labels: Vec<String> = Vec::new();
        for (_, result) in &p.analyses.by_name {
            let v = metabook::render::json::value(result);
            let ratio = v.get("estimate_exp").is_some_and(|x| !x.is_null());
            for key in ["estimate", "ci_lower", "ci_upper"] {
                let key = if ratio { format!("{key}_exp") } else { key.to_string() };
                let x = v[key.as_str()].as_f64().unwrap();
                allowed.push(format!("{x:.2}").replace('-', "\u{2212}"));
            }
            allowed.push(v["k"].to_string());
            for s in &result.table.studies {
                if !labels.contains(&s.label) {
                    labels.push(s.label.clone());
                }
            }
            let people: f64 = result.table.studies.iter().filter_map(|s| metabook::render::sof::study_participants(&s.data, name != "pls")).sum();
            allowed.push(format!("{people:.0}"));
            people_total += people;
        }
        allowed.push(labels.len().to_string());
        // The year of the last search ("up to date to February 2022"), from book.toml.
        allowed.extend(p.book.config.book.search_date().map(|d| d.year.to_string()));
        allowed.push(format!("{people_total:.0}"));
        let text = metabook::render::pls::plain_text(&summary.markdown);
        let numbers: Vec<String> = text
            .split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '\u{2212}'))
            .map(|t| t.trim_end_matches('.').to_string())
            .filter(|t| t.chars().any(|c| c.is_ascii_digit()))
            .collect();
        assert!(!numbers.is_empty());
        for n in numbers {
            assert!(allowed.contains(&n), "{name}: {n} is not a number of the analyses ({allowed:?})\n{text}");
        }
    }
}

/// A book's own template may use the analyses as the chapters do, with the same filters; a
/// study label from the data stays text.
#[test]
fn a_template_reads_the_analyses_with_the_chapters_filters() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("metabook-pls-analyses-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&root.join("tests/fixtures/books/pls"), &dir);
    let _ = std::fs::remove_dir_all(dir.join("book"));
    let harm = std::fs::read_to_string(dir.join("data/harm.csv")).unwrap().replace("Dunn 2003", "*Dunn* <2003>");
    std::fs::write(dir.join("data/harm.csv"), harm).unwrap();
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    let template = std::fs::read_to_string(root.join("templates/pls.md")).unwrap()
        + "\nFalls: {{ analyses.falls | effect }}; the first study is {{ analyses.falls.studies[0].study }}; I² {{ analyses.falls.i2 | pct }}.\n";
    std::fs::write(dir.join("templates/pls.md"), template).unwrap();
    let p = match prepare(&dir) {
        Ok(p) => p,
        Err(d) => panic!("{}", metabook::diag::render(&d, false)),
    };
    let md = &p.pls.as_ref().unwrap().markdown;
    let v = metabook::render::json::value(p.analyses.get("falls").unwrap());
    let effect = format!("SMD {:.2} (95% CI {:.2} to {:.2})", v["estimate"].as_f64().unwrap(), v["ci_lower"].as_f64().unwrap(), v["ci_upper"].as_f64().unwrap());
    assert!(md.contains(&format!("Falls: {effect}")), "{md}");
    assert!(md.contains("the first study is \\*Dunn\\* \\<2003\\>;"), "the label is escaped for Markdown: {md}");
    assert!(metabook::render::pls::plain_text(md).contains("the first study is *Dunn* <2003>;"), "and reads as typed");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A copy of the `pls` fixture with book.toml's `[pls]` texts changed by `edit`, prepared.
fn edited(tag: &str, edit: impl Fn(String) -> String) -> (std::path::PathBuf, Result<Prepared, Vec<metabook::diag::Diagnostic>>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("metabook-pls-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&root.join("tests/fixtures/books/pls"), &dir);
    let config = std::fs::read_to_string(dir.join("book.toml")).unwrap();
    std::fs::write(dir.join("book.toml"), edit(config)).unwrap();
    let p = prepare(&dir);
    (dir, p)
}

fn warnings(p: &Prepared) -> Vec<String> {
    p.pls.as_ref().unwrap().warnings.iter().map(|d| metabook::diag::render(std::slice::from_ref(d), false)).collect()
}

/// Cochrane's limits: each a warning naming the figure, and none when the summary meets them.
#[test]
fn the_word_and_readability_checks_fire_on_a_summary_that_misses_them() {
    // The fixture as it is: all findings, few other words.
    let (dir, p) = edited("short", |c| c);
    let w = warnings(p.as_ref().unwrap());
    assert!(w.iter().any(|w| w.contains("words, fewer than Cochrane's 400 to 850")), "{w:?}");
    assert!(!w.iter().any(|w| w.contains("grade") || w.contains("on average")), "easy and short sentences: {w:?}");
    let _ = std::fs::remove_dir_all(dir);

    // Too long: the background repeated, in short easy sentences.
    let (dir, p) = edited("long", |c| c.replace("[pls]\n", &format!("[pls]\nbackground = \"{}\"\n", "Back pain is common. It can stop you from working. ".repeat(90))));
    let w = warnings(p.as_ref().unwrap());
    assert!(w.iter().any(|w| w.contains("words, more than Cochrane's 400 to 850")), "{w:?}");
    assert!(!w.iter().any(|w| w.contains("grade") || w.contains("on average")), "{w:?}");
    let _ = std::fs::remove_dir_all(dir);

    // Long, hard sentences: both the grade and the sentence length.
    let hard = "Notwithstanding considerable methodological heterogeneity, comprehensive interdisciplinary rehabilitation incorporating individualised therapeutic exercise, cognitive reconceptualisation and pharmacological optimisation constitutes a reasonable evidence-informed recommendation for chronic musculoskeletal discomfort. ";
    let (dir, p) = edited("hard", |c| c.replace("[pls]\n", &format!("[pls]\nbackground = \"{}\"\n", hard.repeat(50))));
    let w = warnings(p.as_ref().unwrap());
    let grade = w.iter().find(|w| w.contains("reads at grade")).unwrap_or_else(|| panic!("{w:?}"));
    assert!(grade.contains("hardest words (syllables): "), "{grade}");
    let long = w.iter().find(|w| w.contains("words on average, more than 16")).unwrap_or_else(|| panic!("{w:?}"));
    assert!(long.contains("longest sentences: 25 words: “Notwithstanding"), "{long}");
    let _ = std::fs::remove_dir_all(dir);
}

/// A number typed into the summary's texts is a warning where it is typed: book.toml, a `pls`
/// block, the book's own template. A number in a name ("SF-36") is not one.
#[test]
fn a_number_typed_by_hand_is_a_warning_where_it_is_typed() {
    let (dir, p) = edited("typed", |c| c.replace("practice = \"Exercise may be worth trying.\"", "practice = \"Exercise helped 30 in 100 people on the SF-36.\""));
    let w = warnings(p.as_ref().unwrap());
    let typed: Vec<&String> = w.iter().filter(|w| w.contains("a number typed by hand")).collect();
    assert_eq!(typed.len(), 2, "30 and 100, not the 36 of SF-36: {w:?}");
    let line = std::fs::read_to_string(dir.join("book.toml")).unwrap().lines().position(|l| l.starts_with("practice")).unwrap() + 1;
    assert!(typed[0].contains("typed by hand: 30") && typed[0].contains(&format!("book.toml:{line}:29")) && typed[0].contains("in [pls] practice"), "{}", typed[0]);
    assert!(typed[1].contains("typed by hand: 100") && typed[1].contains(&format!("book.toml:{line}:35")), "{}", typed[1]);

    // In a pls block and in the template's text (not in its expressions or a list's "1.").
    let results = std::fs::read_to_string(dir.join("report/results.md")).unwrap().replace("meaning = \"how much it hurts\"", "meaning = \"how much it hurts, from 0 to 10\"");
    std::fs::write(dir.join("report/results.md"), results).unwrap();
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    let template = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/pls.md")).unwrap() + "\n1. About 12 people.\n2. {{ studies }} studies {% if 3 > 2 %}yes{% endif %}\n";
    std::fs::write(dir.join("templates/pls.md"), template).unwrap();
    let w = warnings(&prepare(&dir).unwrap());
    let typed: Vec<&String> = w.iter().filter(|w| w.contains("a number typed by hand")).collect();
    assert!(typed.iter().any(|w| w.contains("typed by hand: 0") && w.contains("report/results.md:") && w.contains("in this pls block")), "{typed:?}");
    assert!(typed.iter().any(|w| w.contains("typed by hand: 10") && w.contains("report/results.md:")), "{typed:?}");
    assert!(typed.iter().any(|w| w.contains("typed by hand: 12") && w.contains("templates/pls.md:")), "{typed:?}");
    assert_eq!(typed.len(), 5, "not the list markers, nor 3 and 2 inside a tag: {typed:?}");
    let _ = std::fs::remove_dir_all(dir);
}

/// The example review's summary: Cochrane's sections in order, within every limit.
#[test]
fn the_example_follows_cochranes_template_within_its_limits() {
    let p = book("../../..");
    let s = p.pls.as_ref().unwrap();
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    let r = &s.readability;
    assert!((400..=850).contains(&r.words) && r.grade.unwrap() <= 8.0 && r.mean_sentence() <= 16.0, "{r:?}");
    let headings: Vec<&str> = s.markdown.lines().filter(|l| l.starts_with("## ")).collect();
    assert_eq!(
        headings,
        [
            "## Key messages",
            "## What is spasticity after a stroke?",
            "## What did we want to find out?",
            "## What did we do?",
            "## What did we find?",
            "## What are the limitations of the evidence?",
            "## How up to date is this evidence?",
            "## Words used"
        ]
    );
    let key: Vec<&str> = s.markdown.split("## Key messages").nth(1).unwrap().split("## ").next().unwrap().lines().filter(|l| l.starts_with("- ")).collect();
    assert!((2..=3).contains(&key.len()), "{key:?}");
    assert!(s.markdown.contains("The evidence is up to date to February 2022."));
}

/// Continuous outcomes in numbers a reader can picture: a mean difference in its units, and an
/// SMD re-expressed on a familiar scale (the SMD × the scale's typical SD, given in the GRADE
/// file), each with its interval, computed here from the analysis' own numbers.
#[test]
fn a_mean_difference_and_a_re_expressed_smd_in_the_outcomes_units() {
    let (dir, p) = edited("units", |c| c);
    drop(p);
    let results = dir.join("report/results.md");
    let grade = dir.join("data/grade.toml");
    let original = std::fs::read_to_string(&results).unwrap();
    let numbers = |p: &Prepared| -> String { p.pls.as_ref().unwrap().outcomes.iter().find(|o| o.name == "falls").unwrap().numbers.clone().unwrap_or_default() };
    let falls = |p: &Prepared| -> (f64, f64, f64) {
        let v = metabook::render::json::value(p.analyses.get("falls").unwrap());
        (v["estimate"].as_f64().unwrap(), v["ci_lower"].as_f64().unwrap(), v["ci_upper"].as_f64().unwrap())
    };
    let higher = |x: f64| format!("{:.2} {}", x.abs(), if x < 0.0 { "lower" } else { "higher" });

    // A mean difference: falls more often with the exercise plan, in the data's units.
    std::fs::write(&results, original.replace("data = \"harm.csv\"\nmeasure = \"SMD\"", "data = \"harm.csv\"\nmeasure = \"MD\"")).unwrap();
    let p = prepare(&dir).unwrap();
    let (est, lo, hi) = falls(&p);
    assert_eq!(numbers(&p), format!("On average, falls was {} with the exercise plan (between {} and {}).", higher(est), higher(lo), higher(hi)));

    // An SMD on a familiar scale: × 3.5 points.
    std::fs::write(&results, &original).unwrap();
    let text = std::fs::read_to_string(&grade).unwrap().replace("name = \"Falls\"\nanalysis = \"falls\"\n", "name = \"Falls\"\nanalysis = \"falls\"\nscale = \"falls diary score\"\nscale_sd = 3.5\n");
    std::fs::write(&grade, text).unwrap();
    let p = prepare(&dir).unwrap();
    let (est, lo, hi) = falls(&p);
    assert_eq!(numbers(&p), format!("On the falls diary score, that is about {} (between {} and {}).", higher(est * 3.5), higher(lo * 3.5), higher(hi * 3.5)));
    let _ = std::fs::remove_dir_all(dir);
}

/// A plural intervention takes plural verbs: the base form of a block's verb, and the wording
/// table's plural patterns.
#[test]
fn a_plural_intervention_agrees_with_its_verbs() {
    let (dir, p) = edited("plural", |c| c.replace("intervention = \"the exercise plan\"", "intervention = \"exercises\"\nintervention-plural = true"));
    let md = p.unwrap().pls.unwrap().markdown;
    assert!(md.contains("Exercises reduce pain."), "{md}");
    assert!(md.contains("Exercises probably lead to more falls."), "{md}");
    assert!(md.contains("Exercises may make little or no difference to sleep."), "{md}");
    assert!(md.contains("We are very uncertain whether exercises improve mood."), "{md}");
    let _ = std::fs::remove_dir_all(dir);
}

/// A language without a readability formula (a book's own German table, say) is not scored by
/// the English one: no grade warning, and the build says so.
#[test]
fn a_language_without_a_formula_is_not_scored() {
    let (dir, _) = edited("unscored", |c| c.replace("[book]\n", "[book]\nlanguage = \"de\"\n"));
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/pls-en.toml"), dir.join("templates/pls-de.toml")).unwrap();
    let p = prepare(&dir).unwrap_or_else(|d| panic!("{}", metabook::diag::render(&d, false)));
    let s = p.pls.as_ref().unwrap();
    assert!(!s.scored && !warnings(&p).iter().any(|w| w.contains("grade")), "{:?}", warnings(&p));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_metabook")).args(["build", "--book"]).arg(&dir).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("no readability formula for the book's language"), "{}", String::from_utf8_lossy(&out.stdout));
    let _ = std::fs::remove_dir_all(dir);
}
