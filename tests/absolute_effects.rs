//! A dichotomous review end to end: the book `metabook import` makes of Fleiss 1993 (aspirin
//! after a heart attack, 2×2 data, odds ratio), with a GRADE file, a summary of findings and a
//! plain-language summary added (tests/fixtures/fleiss_pls). The absolute effects in the
//! summary of findings and the natural frequencies in the plain-language summary are checked
//! against a hand calculation from the pooled odds ratio and the comparator groups' risk, in
//! English and in Spanish, in the site and in the PDF.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn metabook(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_metabook")).args(args).env("NO_COLOR", "1").output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

/// The imported Fleiss book with the fixture's GRADE file, blocks and `[pls]` in `language`, in
/// a scratch folder of its own (`tag`: one per test, which run at the same time).
fn book(language: &str, tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("metabook-absolute-{language}-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (code, _, stderr) = metabook(&["import".as_ref(), fixtures().join("revman/Fleiss1993.rm5").as_os_str(), "--into".as_ref(), dir.as_os_str()]);
    assert_eq!(code, 0, "{stderr}");
    let extra = fixtures().join("fleiss_pls");
    std::fs::copy(extra.join("grade.toml"), dir.join("data/grade.toml")).unwrap();
    let chapter = std::fs::read_to_string(dir.join("report/comparison-1.md")).unwrap() + &std::fs::read_to_string(extra.join(format!("{language}.md"))).unwrap();
    std::fs::write(dir.join("report/comparison-1.md"), chapter).unwrap();
    let config = std::fs::read_to_string(dir.join("book.toml")).unwrap();
    let config = config.replace("language = \"en\"", &format!("language = \"{language}\"\nsearch-date = \"1993-06-30\""));
    let config = config + &std::fs::read_to_string(extra.join(format!("{language}.toml"))).unwrap();
    std::fs::write(dir.join("book.toml"), config).unwrap();
    dir
}

/// The hand calculation: the comparator groups' pooled risk (Σ events / Σ people of a1_1.csv's
/// second groups) and the corresponding risk at the pooled OR and its CI, ACR·OR / (1 − ACR +
/// ACR·OR), per 1,000: (comparator, intervention, lower, upper), unrounded.
fn by_hand(dir: &Path) -> (f64, f64, f64, f64) {
    let csv = std::fs::read_to_string(dir.join("data/a1_1.csv")).unwrap();
    let (mut events, mut people) = (0.0, 0.0);
    for line in csv.lines().skip(1) {
        let f: Vec<f64> = line.split(',').skip(1).take(4).map(|x| x.parse().unwrap()).collect();
        events += f[2];
        people += f[3];
    }
    let acr = events / people;
    let prepared = metabook::cmd::build::prepare(dir).unwrap_or_else(|d| panic!("{}", metabook::diag::render(&d, false)));
    let v = metabook::render::json::value(prepared.analyses.get("a1_1").unwrap());
    let or = |key: &str| v[key].as_f64().unwrap();
    let risk = |or: f64| acr * or / (1.0 - acr + acr * or) * 1000.0;
    (acr * 1000.0, risk(or("estimate_exp")), risk(or("ci_lower_exp")), risk(or("ci_upper_exp")))
}

/// Rounded to whole people, as printed.
fn people((a, b, c, d): (f64, f64, f64, f64)) -> (u64, u64, u64, u64) {
    let r = |x: f64| x.round() as u64;
    (r(a), r(b), r(c), r(d))
}

/// The summary's text as a reader reads it.
fn summary_text(dir: &Path) -> String {
    let prepared = metabook::cmd::build::prepare(dir).unwrap_or_else(|d| panic!("{}", metabook::diag::render(&d, false)));
    metabook::render::pls::plain_text(&prepared.pls.expect("[pls]").markdown)
}

/// Cochrane's sections, each a heading of the page, in this order.
fn in_order(page: &str, headings: &[&str]) {
    let mut at = 0;
    for h in headings {
        at += page[at..].find(&format!(">{h}</h2>")).unwrap_or_else(|| panic!("{h} missing or out of order:\n{page}"));
    }
}

fn build(dir: &Path) -> String {
    let (code, stdout, stderr) = metabook(&["build".as_ref(), "--book".as_ref(), dir.as_os_str()]);
    assert_eq!(code, 0, "{stderr}");
    stdout + &stderr
}

fn pdf_text(pdf: &Path) -> String {
    let out = Command::new("pdftotext").args(["-layout".as_ref(), pdf.as_os_str(), "-".as_ref()]).output().expect("pdftotext (poppler-utils) is installed");
    String::from_utf8(out.stdout).unwrap()
}

fn the_pdf(dir: &Path, ending: &str) -> PathBuf {
    std::fs::read_dir(dir.join("book"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(ending))
        .unwrap_or_else(|| panic!("no PDF ending in {ending}"))
}

#[test]
fn a_dichotomous_review_states_risks_per_1000_computed_by_hand() {
    let dir = book("en", "risks");
    let exact = by_hand(&dir);
    let (comparator, with, lower, upper) = people(exact);
    // Fewer deaths with aspirin (OR 0.90, 0.84 to 0.96), the whole interval below the risk
    // without it.
    assert!(with < comparator && lower < with && with < upper && upper < comparator, "{comparator} {with} {lower} {upper}");
    let output = build(&dir);
    assert!(!output.contains("warning: the plain-language summary"), "within Cochrane's limits: {output}");

    // The summary of findings: the comparator's risk, the intervention's with its CI and the
    // difference, beside the relative effect.
    let page = std::fs::read_to_string(dir.join("book/html/comparison-1.html")).unwrap();
    assert!(page.contains(&format!("{comparator} per 1,000")), "{page}");
    assert!(page.contains(&format!("{with} per 1,000 ({lower} to {upper})")), "{page}");
    // The difference from the unrounded risks, as GRADEpro computes it.
    let fewer = |x: f64| format!("{} fewer", (exact.0 - x).round());
    assert!(page.contains(&format!("{} per 1,000 (from {} to {})", fewer(exact.1), fewer(exact.2), fewer(exact.3))), "{page}");
    assert!(page.contains("OR 0.90 (0.84 to 0.96)"), "{page}");

    // The plain-language summary: Cochrane's sections and the same risks as natural frequencies.
    let summary = std::fs::read_to_string(dir.join("book/html/plain-language-summary.html")).unwrap();
    let text = summary_text(&dir);
    in_order(&summary, &["Key messages", "What is a heart attack?", "What did we want to find out?", "What did we do?", "What did we find?", "What are the limitations of the evidence?", "How up to date is this evidence?"]);
    let frequencies = format!("If 1,000 people do not have aspirin, about {comparator} of them die. If 1,000 people have it, about {with} die (between {lower} and {upper}).");
    assert!(text.contains(&frequencies), "{frequencies}\n{text}");
    assert!(text.contains("Aspirin probably reduces deaths."), "{text}");
    assert!(text.contains("We found seven studies with 28,003 people in them. In all of them, chance decided which treatment each person had."), "{text}");
    assert!(text.contains("The evidence is up to date to June 1993."), "{text}");
    let pdf = pdf_text(&the_pdf(&dir, "plain-language-summary.pdf"));
    assert!(pdf.contains("Key messages") && pdf.contains(&format!("about {comparator} of them die")), "{pdf}");
    // With the comparator named in [pls], the sentence names it.
    let config = std::fs::read_to_string(dir.join("book.toml")).unwrap().replace("intervention = \"aspirin\"\n", "intervention = \"aspirin\"\ncomparator = \"no treatment\"\n");
    std::fs::write(dir.join("book.toml"), config).unwrap();
    let named = format!("If 1,000 people have no treatment, about {comparator} of them die. If 1,000 people have aspirin, about {with} die (between {lower} and {upper}).");
    assert!(summary_text(&dir).contains(&named), "{named}\n{}", summary_text(&dir));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_spanish_summary_in_cochranes_template_in_the_site_and_the_pdf() {
    let dir = book("es", "spanish");
    let (comparator, with, lower, upper) = people(by_hand(&dir));
    let output = build(&dir);
    assert!(!output.contains("warning: the plain-language summary"), "within the limits: {output}");
    assert!(output.contains("Szigriszt-Pazos (INFLESZ)"), "{output}");
    let summary = std::fs::read_to_string(dir.join("book/html/plain-language-summary.html")).unwrap();
    assert!(summary.contains("lang=\"es\""), "{summary}");
    in_order(&summary, &["Mensajes clave", "¿Qué es un infarto?", "¿Qué queríamos averiguar?", "¿Qué hicimos?", "¿Qué encontramos?", "¿Cuáles son las limitaciones de la evidencia?", "¿Cuán actualizada está esta evidencia?"]);
    let text = summary_text(&dir);
    // Spanish numbers: no separator in a four-digit number, a no-break space in a longer one.
    let frequencies = format!("Si 1000 personas no reciben la aspirina, unas {comparator} mueren. Si 1000 personas reciben la aspirina, unas {with} mueren (entre {lower} y {upper}).");
    assert!(text.contains(&frequencies), "{frequencies}\n{text}");
    assert!(text.contains("La aspirina probablemente reduce las muertes."), "{text}");
    assert!(text.contains("Encontramos siete estudios con 28\u{a0}003 personas."), "{text}");
    assert!(text.contains("La evidencia está actualizada hasta junio de 1993."), "{text}");
    let pdf = pdf_text(&the_pdf(&dir, "plain-language-summary.pdf"));
    assert!(pdf.contains("Mensajes clave") && pdf.contains(&format!("unas {comparator} mueren")), "{pdf}");
    // What the site and the PDF say around the summary is Spanish too.
    assert!(summary.contains(">Resumen en lenguaje sencillo (PDF)</a>") && summary.contains(">Resumen en lenguaje sencillo</"), "{summary}");
    assert!(pdf.contains("Resumen en lenguaje sencillo de «Examples from Fleiss 1993»"), "{pdf}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// With the outcome's thresholds (per 1,000 people for 2×2 data), the size of the absolute
/// difference words both tables: about 14 fewer deaths per 1,000 is a slight reduction against
/// important = 10 and large = 50, and little or no difference against important = 20.
#[test]
fn thresholds_size_the_finding_in_both_summaries() {
    let dir = book("en", "thresholds");
    let (comparator, with, _, _) = by_hand(&dir);
    let fewer = comparator - with;
    assert!(fewer > 10.0 && fewer < 20.0, "the thresholds below bracket the difference: {fewer}");
    let grade = std::fs::read_to_string(dir.join("data/grade.toml")).unwrap();
    let with_thresholds = |important: u32| grade.replace("negative = \"reduction\"\n", &format!("negative = \"reduction\"\nimportant = {important}\nlarge = 50\n"));
    std::fs::write(dir.join("data/grade.toml"), with_thresholds(10)).unwrap();
    build(&dir);
    let text = summary_text(&dir);
    assert!(text.contains("Aspirin probably reduces deaths. The change is small."), "{text}");
    let page = std::fs::read_to_string(dir.join("book/html/comparison-1.html")).unwrap();
    assert!(page.contains("Aspirin likely results in a slight reduction in death."), "{page}");
    std::fs::write(dir.join("data/grade.toml"), with_thresholds(20)).unwrap();
    build(&dir);
    let text = summary_text(&dir);
    assert!(text.contains("Aspirin probably makes little or no difference to death."), "{text}");
    let page = std::fs::read_to_string(dir.join("book/html/comparison-1.html")).unwrap();
    assert!(page.contains("Aspirin likely results in little to no difference in death."), "{page}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A data edit that moves the absolute effects is reported with the plain-language finding's
/// numbers, old → new, in the changes report.
#[test]
fn moved_natural_frequencies_are_reported() {
    let dir = book("en", "changes");
    build(&dir);
    let before = people(by_hand(&dir));
    // ISIS-2: 1,570 of 8,587 died with aspirin; make it 1,370.
    let data = dir.join("data/a1_1.csv");
    let text = std::fs::read_to_string(&data).unwrap().replace("ISIS-2,1570,8587,", "ISIS-2,1370,8587,");
    std::fs::write(&data, text).unwrap();
    let output = build(&dir);
    assert!(output.contains("changed since the previous build"), "{output}");
    let after = people(by_hand(&dir));
    assert!(after.1 < before.1, "{before:?} {after:?}");
    let report = std::fs::read_to_string(dir.join("book/changes.md")).unwrap();
    let said = |(c, w, l, u): (u64, u64, u64, u64)| format!("about {c} of them die. If 1,000 people have it, about {w} die (between {l} and {u}).");
    let line = report.lines().find(|l| l.contains("death: the plain-language finding changed")).unwrap_or_else(|| panic!("{report}"));
    assert!(line.contains(&said(before)) && line.contains(&said(after)), "{line}");
    let _ = std::fs::remove_dir_all(&dir);
}
