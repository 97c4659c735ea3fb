//! `metabook import FILE.rm5 --into DIR` on real RevMan 5 files: the book's files exist and
//! hold RevMan's numbers as stored; the references, risk of bias and characteristics load with
//! metabook's own loaders; two imports give identical bytes; bad input is a located error with
//! exit code 1 and nothing written.

mod common;

use common::tree;
use metabook::diag::Source;
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/revman").join(name)
}

/// A fresh scratch folder (not created: the import creates the book's folder).
fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("metabook-import-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn metabook(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_metabook")).args(args).env("NO_COLOR", "1").output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

fn import(file: &Path, into: &Path) -> (i32, String, String) {
    metabook(&["import".as_ref(), file.as_os_str(), "--into".as_ref(), into.as_os_str()])
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// The CSV row whose first fields are `prefix`.
fn row<'a>(csv: &'a str, prefix: &str) -> &'a str {
    csv.lines().find(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no row `{prefix}` in\n{csv}"))
}

#[test]
fn fleiss_1993_imports_with_revmans_numbers() {
    let dir = scratch("fleiss");
    let (code, stdout, stderr) = import(&fixture("Fleiss1993.rm5"), &dir);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("# Import report") && stdout.contains("wrote"), "{stdout}");
    for f in ["book.toml", "report/SUMMARY.md", "report/comparison-1.md", "data/a1_1.csv", "data/a1_2.csv", "data/revman-results.csv", "data/references.bib", "import-report.md"] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    let toml = read(&dir, "book.toml");
    assert!(toml.contains("title = \"Examples from Fleiss 1993\"") && toml.contains("convention = \"revman5\""), "{toml}");

    // Analysis 1.1: studies in RevMan's order (SORT_BY = USER: the ORDER attribute).
    let a11 = read(&dir, "data/a1_1.csv");
    let studies: Vec<&str> = a11.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(studies, ["MRC-1", "CDP", "MRC-2", "GASP", "PARIS", "AMIS", "ISIS-2"]);
    assert!(a11.starts_with("study,events1,n1,events2,n2,"), "{a11}");
    assert!(row(&a11, "ISIS-2,").starts_with("ISIS-2,1570,8587,1720,8600,1988"), "{a11}");
    // Analysis 1.2 (SORT_BY = STUDY): continuous, by study name.
    let a12 = read(&dir, "data/a1_2.csv");
    assert!(a12.starts_with("study,n1,mean1,sd1,n2,mean2,sd2,"), "{a12}");
    assert!(row(&a12, "Davis,").starts_with("Davis,13,5.0,4.7,13,6.5,3.8"), "{a12}");

    let chapter = read(&dir, "report/comparison-1.md");
    for key in ["name = \"a1_1\"", "measure = \"OR\"", "method = \"MH\"", "model = \"fixed\"", "level = 95", "study-level = 95", "totals = \"all\"", "label = \"fig-a1_1\"", "groups = [\"Aspirin\", \"Control\"]", "favours = [\"Favours experimental\", \"Favours control\"]", "Odds Ratio (M-H, Fixed, 95% CI)", "measure = \"SMD\"", "method = \"IV\""] {
        assert!(chapter.contains(key), "{key} not in\n{chapter}");
    }

    // Every stored number, as stored; the same as RevMan's own CSV export.
    let results = read(&dir, "data/revman-results.csv");
    assert!(results.starts_with("analysis,row,subgroup,study,estimable,estimate,ci_lower,ci_upper,weight,chi2,df,p_chi2,i2,tau2,z,p_z\n"));
    assert_eq!(
        row(&results, "a1_1,total,"),
        "a1_1,total,,,YES,0.8968655609130709,0.8405144008917793,0.9569947088336491,100.00000000000001,9.946055983220074,6,0.1269422521561745,39.67458045558399,0.0,3.287633061337987,0.0010103343130005407"
    );
    assert_eq!(row(&results, "a1_1,study,,MRC-1,"), "a1_1,study,,MRC-1,YES,0.7197141500975687,0.4889745274989256,1.0593362817898602,3.176490004091248,,,,,,,");
    let export = std::fs::read_to_string(fixture("Fleiss1993_CR.csv")).unwrap();
    assert!(row(&export, "1,1,0,MRC-1,").contains("0.71971415,0.19721981,0.48897453,1.05933628,3.17649"));
    // Analysis 1.2's results are empty in the .rm5: empty cells, not zeros.
    assert_eq!(row(&results, "a1_2,total,"), "a1_2,total,,,YES,,,,99.99999999999999,,4,,,,,");

    // The references load in metabook's bibliography loader; empty ones keep the study's name.
    let bib = read(&dir, "data/references.bib");
    assert!(bib.contains("@misc{isis2,") && bib.contains("title = {ISIS-2}"), "{bib}");
    metabook::render::cite::parse_library(&Source::new("references.bib", bib)).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn antibiotics_for_sore_throat_imports_text_studies_bias_and_subgroups() {
    let dir = scratch("antibiotics");
    let (code, stdout, stderr) = import(&fixture("antibiotics-for-sore-throat.rm5"), &dir);
    assert_eq!(code, 0, "{stderr}");
    let toml = read(&dir, "book.toml");
    assert!(toml.contains("title = \"Antibiotics for sore throat\""), "{toml}");
    assert!(toml.contains("authors = [\"Anneliese Spinks\", \"Paul P Glasziou\""), "{toml}");

    // The text: ISO-8859-1 decoded, markup as Markdown, links as citations and cross-references.
    let summary = read(&dir, "report/SUMMARY.md");
    // The review's own plain-language summary is not named like the page metabook makes of
    // [pls] (plain-language-summary.html), which the author may add.
    for chapter in ["abstract.md", "plain-language-summary-2.md", "background.md", "methods.md", "results.md", "discussion.md", "comparison-1.md", "comparison-4.md", "studies.md", "references.md", "summary-of-findings.md"] {
        assert!(summary.contains(&format!("({chapter})")), "{chapter} not in\n{summary}");
        assert!(dir.join("report").join(chapter).is_file(), "{chapter}");
    }
    let results_text = read(&dir, "report/results.md");
    assert!(results_text.contains("Brink 1951 [@brink1951]"), "{results_text}");
    assert!(results_text.contains("(@fig-a1_1"), "analysis links become cross-references");
    let methods = read(&dir, "report/methods.md");
    assert!(methods.contains("Chi² test") && methods.contains("1. Symptoms of sore throat on day three."), "{methods}");
    let background = read(&dir, "report/background.md");
    assert!(background.contains("(ABS 1985 [@abs1985]"), "{background}");

    // Subgroups: a `subgroup` column, rows in subgroup order, then by study name.
    let a12 = read(&dir, "data/a1_2.csv");
    assert!(a12.starts_with("study,events1,n1,events2,n2,subgroup,"), "{a12}");
    assert!(row(&a12, "Chapple 1956,").starts_with("Chapple 1956,40,135,37,65,Symptom of sore throat on day 3: blinded studies,1956"), "{a12}");
    assert!(a12.lines().nth(1).unwrap().starts_with("Chapple 1956,") && a12.lines().last().unwrap().starts_with("Little 1997,"), "{a12}");
    let chapter = read(&dir, "report/comparison-1.md");
    assert!(chapter.contains("model = \"random\"") && chapter.contains("Risk Ratio (M-H, Random, 95% CI)"), "{chapter}");
    let results = read(&dir, "data/revman-results.csv");
    assert_eq!(row(&results, "a1_2,subgroup-test,"), "a1_2,subgroup-test,,,,,,,,1.3050116683610775,1,0.2532999343178899,23.37233265846059,,,");
    assert!(row(&results, "a1_2,subtotal,Symptom of sore throat on day 3: unblinded studies,,").contains(",0.7918520638501426,0.5970967483973693,1.0501308082931322,"));
    // Every study row, subtotal and total of the 21 analyses is there.
    let rows = |kind: &str| results.lines().filter(|l| l.split(',').nth(1) == Some(kind)).count();
    assert_eq!((rows("study"), rows("total"), rows("subtotal"), rows("subgroup-test")), (217, 21, 22, 10));

    // Risk of bias in RoB 1's words, with the support text beside it, loads with metabook's loader.
    let rob = read(&dir, "data/rob.csv");
    assert!(rob.starts_with("study,D1,D2,D3,D4,D5,D6\n"), "{rob}");
    assert!(row(&rob, "Bennike 1951,").starts_with("Bennike 1951,High,"), "{rob}");
    let studies = read(&dir, "report/studies.md");
    assert!(studies.contains("tool = \"custom\"") && studies.contains("\"Random sequence generation (selection bias)\""), "{studies}");
    assert!(studies.contains("\"Blinding (performance bias and detection bias): All outcomes\""), "{studies}");
    let domains: Vec<String> = studies.lines().find(|l| l.starts_with("domains = ")).unwrap().trim_start_matches("domains = [").trim_end_matches(']').split("\", \"").map(|d| d.trim_matches('"').to_string()).collect();
    let table = metabook::data::csv_table(&Source::new("rob.csv", rob)).unwrap();
    let loaded = metabook::data::rob::load_rob(&table, metabook::data::rob::tool("custom", Some(&domains)).unwrap()).unwrap();
    assert_eq!(loaded.rows.len(), 27);
    assert!(row(&read(&dir, "data/rob-support.csv"), "Bennike 1951,Random sequence generation").contains("Participants allocated to alternate conditions on alternate days"));

    // Characteristics of included studies; the bibliography loads; excluded studies are listed.
    let chars = read(&dir, "data/characteristics.csv");
    assert!(chars.starts_with("study,methods,participants,interventions,outcomes,notes\n"), "{chars}");
    assert!(row(&chars, "Brink 1951,").contains("395 young adult males"), "{chars}");
    let bib = read(&dir, "data/references.bib");
    let library = metabook::render::cite::parse_library(&Source::new("references.bib", bib.clone())).unwrap();
    assert_eq!(library.len(), 85, "one entry per reference of the file");
    assert!(bib.contains("@article{brink1951,\n  author = {Brink, W. R. R. and Denny, F. W. and Wannamaker, L. W.},"), "{bib}");
    assert!(studies.contains("## Excluded studies") && studies.contains("- Barwitz 1999 [@barwitz1999]: Participants were randomised"), "{studies}");

    // The figures RevMan stored are images of the book; the report says what is not shown.
    assert!(read(&dir, "report/figures.md").contains("![") && dir.join("report/figures/figure-1.png").is_file());
    let report = read(&dir, "import-report.md");
    assert!(stdout.contains(&report), "the command prints the report");
    assert!(report.contains("Summary of findings") && report.contains("sources of support") && report.contains("Analysis 2.4: RevMan finds no study estimable"), "{report}");

    // The summary of findings as GRADE outcomes: each row with the analysis its participants
    // and studies match, the certainty it states, the ratings behind it not reported.
    let grade = read(&dir, "data/grade.toml");
    let outcomes: Vec<(String, String, String)> = grade
        .split("[[outcome]]")
        .skip(1)
        .map(|o| {
            let key = |k: &str| o.lines().find_map(|l| l.strip_prefix(&format!("{k} = \""))).unwrap().trim_end_matches('"').to_string();
            (key("name"), key("analysis"), key("certainty"))
        })
        .collect();
    let want = [("Sore throat: day 3", "a1_1", "high"), ("Sore throat: day 7", "a1_5", "high"), ("Rheumatic fever", "a4_1", "high"), ("Glomerulonephritis", "a4_8", "low"), ("Quinsy", "a4_7", "high"), ("Otitis media", "a4_4", "high")];
    assert_eq!(outcomes, want.map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())));
    assert!(grade.contains("intervention = \"antibiotics\"") && grade.matches("imprecision = { rating = \"not reported\" }").count() == 6, "{grade}");
    assert!(grade.contains("note = \"The RevMan file's table states: Illustrative comparative risks* (95% CI), Assumed risk, Antibiotics: 0.001; Corresponding risk, Placebo: 0.22; Relative effect (95% CI): 0.07 to 1.32; Comments: Sparse data: 2 cases only.\""), "{grade}");
    assert!(report.contains("- SOF-01, \"Rheumatic fever\" → Analysis 4.1 (`a4_1`): 10101 participants in 16 studies (also Analysis 4.3; chosen by the name)"), "{report}");
    let sof = read(&dir, "report/summary-of-findings.md");
    assert!(sof.contains("```metabook sof\ndata = \"grade.toml\"") && sof.contains("### As stored in the RevMan file"), "{sof}");
    // "antibiotics" reads as a plural: the statements' verbs agree.
    assert!(grade.contains("intervention_plural = true"), "{grade}");
    let (code, _, stderr) = metabook(&["build".as_ref(), "--book".as_ref(), dir.as_os_str()]);
    assert_eq!(code, 0, "{stderr}");
    let page = read(&dir, "book/html/summary-of-findings.html");
    assert!(page.contains("Antibiotics result in") && !page.contains("Antibiotics results in"), "{page}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn two_imports_give_identical_bytes() {
    let (a, b) = (scratch("same-a"), scratch("same-b"));
    assert_eq!(import(&fixture("antibiotics-for-sore-throat.rm5"), &a).0, 0);
    assert_eq!(import(&fixture("antibiotics-for-sore-throat.rm5"), &b).0, 0);
    let (ta, tb) = (tree(&a), tree(&b));
    assert!(ta.len() > 40);
    assert!(ta == tb, "the two imports differ");
    let _ = std::fs::remove_dir_all(&a);
    let _ = std::fs::remove_dir_all(&b);
}

/// Import `bytes` as a file; the import must fail with exit code 1 and write nothing. Returns
/// stderr.
fn refused(tag: &str, bytes: &[u8]) -> String {
    let work = scratch(tag);
    std::fs::create_dir_all(&work).unwrap();
    let file = work.join("review.rm5");
    std::fs::write(&file, bytes).unwrap();
    let into = work.join("book");
    let (code, stdout, stderr) = import(&file, &into);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(!into.exists(), "nothing may be written");
    assert_eq!(std::fs::read_dir(&work).unwrap().count(), 1, "no temporary folder left behind");
    let _ = std::fs::remove_dir_all(&work);
    stderr
}

#[test]
fn bad_input_is_a_located_error_and_nothing_is_written() {
    let real = std::fs::read(fixture("Fleiss1993.rm5")).unwrap();

    let e = refused("not-xml", b"study,events1,n1\nA,1,10\n");
    assert!(e.contains("not XML") && e.contains("review.rm5:1:1"), "{e}");

    let e = refused("other-xml", b"<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n");
    assert!(e.contains("not a RevMan 5 review") && e.contains("root element is `svg`") && e.contains("review.rm5:2:1"), "{e}");

    let e = refused("truncated", &real[..real.len() / 2]);
    assert!(e.contains("truncated") && e.contains("review.rm5:"), "{e}");

    let text = String::from_utf8_lossy(&real).replace("<CONT_OUTCOME ", "<SURV_OUTCOME ").replace("</CONT_OUTCOME>", "</SURV_OUTCOME>");
    let line = text.lines().position(|l| l.contains("<SURV_OUTCOME")).unwrap() + 1;
    let e = refused("unknown-outcome", text.as_bytes());
    assert!(e.contains("unknown outcome type `SURV_OUTCOME`") && e.contains(&format!("review.rm5:{line}:1")), "{e}");

    // A target folder that holds anything is never touched.
    let into = scratch("not-empty");
    std::fs::create_dir_all(&into).unwrap();
    std::fs::write(into.join("notes.md"), "mine").unwrap();
    let (code, _, e) = import(&fixture("Fleiss1993.rm5"), &into);
    assert_eq!(code, 1);
    assert!(e.contains("exists and is not empty"), "{e}");
    assert_eq!(tree(&into), vec![("notes.md".to_string(), b"mine".to_vec())]);
    let _ = std::fs::remove_dir_all(&into);

    // A file that cannot be read (missing, or a folder).
    let into = scratch("unreadable");
    let (code, _, e) = import(&fixture("no-such-review.rm5"), &into);
    assert_eq!(code, 1);
    assert!(e.contains("cannot read") && e.contains("no-such-review.rm5"), "{e}");
    let (code, _, e) = import(&fixture(""), &into);
    assert_eq!(code, 1, "{e}");
    assert!(!into.exists());
}

#[test]
fn an_empty_target_folder_is_filled() {
    let into = scratch("empty");
    std::fs::create_dir_all(&into).unwrap();
    let (code, _, e) = import(&fixture("Fleiss1993.rm5"), &into);
    assert_eq!(code, 0, "{e}");
    assert!(into.join("book.toml").is_file());
    let _ = std::fs::remove_dir_all(&into);
}

/// The imported books build as they stand.
#[test]
fn imported_books_build() {
    for name in ["Fleiss1993.rm5", "antibiotics-for-sore-throat.rm5", "synthetic-all-outcomes.rm5"] {
        let dir = scratch(&format!("build-{name}"));
        assert_eq!(import(&fixture(name), &dir).0, 0);
        let (code, stdout, stderr) = metabook(&["build".as_ref(), "--book".as_ref(), dir.as_os_str()]);
        assert_eq!(code, 0, "{name}: {stdout}{stderr}");
        // The book checks itself against every number RevMan stored (its appendix), and the
        // real files' numbers are all reproduced.
        let analyses = match name {
            "Fleiss1993.rm5" => Some(2),
            "antibiotics-for-sore-throat.rm5" => Some(21),
            _ => None,
        };
        if let Some(n) = analyses {
            assert!(stdout.contains(&format!("RevMan: reproduces {n} of {n} RevMan analyses")), "{name}: {stdout}{stderr}");
            assert!(!stderr.contains("does not reproduce"), "{stderr}");
            assert!(read(&dir, "book/html/revman-versus-metabook.html").contains("reproduced"));
        }
        if name.starts_with("antibiotics") {
            // The summary of findings computed from the analyses the RevMan table's rows report:
            // every study counts, also those without events (16 for rheumatic fever, of which 7
            // are estimable).
            let sof = read(&dir, "book/html/summary-of-findings.html");
            for row in ["<td>RR 0.27 (0.12 to 0.60)</td><td>10,101 (16)</td>", "<td>RR 0.22 (0.02 to 2.08)</td><td>5,147 (10)</td>"] {
                assert!(sof.contains(row), "{row} not in\n{sof}");
            }
            // The risk with the comparator, from the placebo groups of the included studies,
            // is the assumed risk the RevMan file's own table states for each outcome (0.66,
            // 0.18, 0.017, 0.001, 0.023, 0.02; glomerulonephritis, 2 in 2,220, per 100,000).
            assert!(sof.contains("<th scope=\"col\">Risk with placebo</th><th scope=\"col\">Risk with antibiotics</th>"), "{sof}");
            for (outcome, risk) in [("Sore throat: day 3", "663 per 1,000"), ("Sore throat: day 7", "181 per 1,000"), ("Rheumatic fever", "17 per 1,000"), ("Glomerulonephritis", "90 per 100,000"), ("Quinsy", "23 per 1,000"), ("Otitis media", "20 per 1,000")] {
                let row = format!("<th scope=\"row\">{outcome}</th><td>{risk}");
                assert!(sof.contains(&row), "{row} not in\n{sof}");
            }
        }
        if name.starts_with("synthetic") {
            // User text stays text through Markdown, the template engine and TOML.
            let abstract_html = read(&dir, "book/html/abstract.html");
            assert!(abstract_html.contains("Text that must stay text: *stars*, {{ jinja }}, {% tag %}, [@notakey], mail@fig-x.org, $x$, &lt;b&gt;, 50% &amp; #1."), "{abstract_html}");
            assert!(read(&dir, "book/html/comparison-1.html").contains("Time to relapse {{ y }} {% if %}: Hazard Ratio (IV, Fixed, 95% CI)."));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn every_outcome_type_becomes_data_metabook_reads() {
    let dir = scratch("synthetic");
    let (code, _, stderr) = import(&fixture("synthetic-all-outcomes.rm5"), &dir);
    assert_eq!(code, 0, "{stderr}");
    let chapter = read(&dir, "report/comparison-1.md");
    // Continuous with subgroups, sorted by year within each subgroup; subtotals only.
    assert_eq!(read(&dir, "data/a1_1.csv"), "study,n1,mean1,sd1,n2,mean2,sd2,subgroup,year,estimable\nAbel 1999,20,3.0,1.0,20,3.5,1.0,Adults,1999,YES\nNg 2005,20,4.5,1.2,20,5.0,1.1,Adults,2005,YES\nO'Brien 2001,20,2.0,1.3,20,2.5,1.4,Children,2001,YES\n");
    assert!(chapter.contains("measure = \"MD\"\nmethod = \"IV\"\nmodel = \"random\"\nlevel = 95\nstudy-level = 90\n") && chapter.contains("totals = \"subtotals\""), "{chapter}");
    // Generic inverse variance on the log scale: natural logs (from RevMan's base-10 log, or
    // from the effect), named as RevMan names the measure.
    let a12 = read(&dir, "data/a1_2.csv");
    let yi = |label: &str| -> f64 { row(&a12, label).split(',').nth(1).unwrap().parse().unwrap() };
    assert!((yi("O'Brien 2001,") - (-0.11350927482751812f64 * std::f64::consts::LN_10)).abs() < 1e-15);
    assert!((yi("Ng 2005,") - 0.85f64.ln()).abs() < 1e-15);
    assert!(chapter.contains("measure = \"GEN\"") && chapter.contains("log-scale = true\neffect-name = \"Hazard Ratio\""), "{chapter}");
    // O − E and variance: yi = (O − E)/V, se = 1/√V, the raw numbers kept; USER order.
    assert_eq!(read(&dir, "data/a1_3.csv"), "study,yi,se,o_minus_e,variance,year,estimable\nNg 2005,-0.05,0.35355339059327373,-0.4,8.0,2005,YES\nAbel 1999,-0.125,0.2886751345948129,-1.5,12.0,1999,YES\n");
    // Peto odds ratio; a study without participants stays, as RevMan stores it.
    assert!(chapter.contains("measure = \"OR\"\nmethod = \"PETO\""), "{chapter}");
    assert!(read(&dir, "data/a1_4.csv").contains("Ng 2005,0,0,0,0,2005,NO"));
    // Other data: a table of its cells.
    assert_eq!(read(&dir, "data/a1_5.csv"), "study,col,col_2\nNg 2005,Better with drug,p = 0.04\n");
    assert!(chapter.contains("```metabook table\ndata = \"a1_5.csv\""), "{chapter}");
    // References: a primary and a second reference of one study, an organisation as author.
    let bib = read(&dir, "data/references.bib");
    assert!(bib.contains("@article{obrien2001,") && bib.contains("@inproceedings{obrien2001b,") && bib.contains("author = {{World Health Organization}}"), "{bib}");
    assert!(bib.contains("title = {A trial of \\{braces\\} \\& 100\\% \\_underscores\\_}") && bib.contains("doi = {10.1000/xyz}"), "{bib}");
    metabook::render::cite::parse_library(&Source::new("references.bib", bib)).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Import `bytes` (an edited RevMan file) from a scratch folder: the folder, the book's folder
/// and the import's exit code and output.
fn import_edited(tag: &str, bytes: &[u8]) -> (PathBuf, PathBuf, (i32, String, String)) {
    let dir = scratch(tag);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("review.rm5"), bytes).unwrap();
    let book = dir.join("book");
    let outcome = import(&dir.join("review.rm5"), &book);
    (dir, book, outcome)
}

/// A review whose every analysis metabook refuses (group sizes below 0): the book builds, says
/// why for each, and has no RevMan check with nothing to compare (fuzzer, seed 77 it. 2883).
#[test]
fn a_review_whose_data_metabook_refuses_still_builds() {
    let xml = std::fs::read_to_string(fixture("Fleiss1993.rm5")).unwrap().replace("TOTAL_1=\"", "TOTAL_1=\"-");
    let (dir, book, (code, stdout, stderr)) = import_edited("refused", xml.as_bytes());
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(stdout.matches("its directives are written as plain TOML blocks").count(), 2, "{stdout}");
    assert!(!book.join("data/revman-results.csv").exists() && !read(&book, "report/SUMMARY.md").contains("RevMan versus metabook"));
    let (code, out, err) = metabook(&["build".as_ref(), "--book".as_ref(), book.as_os_str()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(read(&book, "book/html/comparison-1.html").contains("metabook does not compute this analysis"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A figure whose stored image is damaged keeps its caption, and the book builds (fuzzer, seed
/// 78 it. 6695: bytes deleted inside the image's data).
#[test]
fn a_damaged_figure_keeps_its_caption() {
    let bytes = std::fs::read(fixture("antibiotics-for-sore-throat.rm5")).unwrap();
    let at = bytes.windows(6).position(|w| w == b"<FILE>").unwrap() + 2000;
    let damaged = [&bytes[..at], &bytes[at + 8..]].concat();
    let (dir, book, (code, stdout, stderr)) = import_edited("damaged-figure", &damaged);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("Figure 1 (Risk of bias graph.png): the image RevMan stored is not a PNG image typst can read"), "{stdout}");
    assert!(!book.join("report/figures/figure-1.png").exists() && book.join("report/figures/figure-2.png").exists());
    let (code, out, err) = metabook(&["build".as_ref(), "--book".as_ref(), book.as_os_str()]);
    assert_eq!(code, 0, "{out}{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// What the importer's fuzzer found (tests/fuzz/import.rs): RevMan files whose imported book did
/// not build. Each edit of the synthetic file stands for one finding; the book must build.
#[test]
fn imported_books_build_whatever_the_file_stores() {
    let base = std::fs::read_to_string(fixture("synthetic-all-outcomes.rm5")).unwrap();
    let cases: &[(&str, &[(&str, &str)])] = &[
        // A stored result that is not a number (RevMan's results table refused `inf`).
        ("stored-inf", &[("CI_END=\"0.6\" CI_START=\"-1.6\" EFFECT_SIZE=\"-0.5\" ESTIMABLE=\"YES\" MEAN_1", "CI_END=\"inf\" CI_START=\"-1.6\" EFFECT_SIZE=\"-0.5\" ESTIMABLE=\"maybe\" MEAN_1")]),
        // Two subgroups with one name, and one without a name (subtotal rows twice, or nameless).
        ("subgroup-names", &[("<NAME>Children</NAME>", "<NAME>Adults</NAME>")]),
        ("subgroup-unnamed", &[("<NAME>Children</NAME>", "<NAME> </NAME>")]),
        // Two outcomes with one number (two analyses and data files with one name).
        ("outcome-numbers", &[("ID=\"CMP-001.02\" LOG_DATA=\"YES\" METHOD=\"IV\" NO=\"2\"", "ID=\"CMP-001.02\" LOG_DATA=\"YES\" METHOD=\"IV\" NO=\"1\"")]),
        // A year BibTeX cannot read.
        ("year", &[("<YR>2001</YR>", "<YR>１２ in press</YR>"), ("<YR>2005</YR>", "<YR>2005a</YR>")]),
        // An escaped cross-reference at the start of emphasis.
        ("escaped-at", &[("<B>bold</B> second", "<B>@fig-a1_1</B> second <I>@fig-a1_1x</I>")]),
        // Confidence levels that are none, and a data row that names no study.
        ("levels", &[("CI_STUDY=\"90\" CI_TOTAL=\"95\"", "CI_STUDY=\"4294967296\" CI_TOTAL=\"99999999999999999999\"")]),
        ("no-study", &[("STUDY_ID=\"STD-Abel-1999\"", "STUDY_ID=\"\"")]),
        // Markup nested without end.
        ("deep", &[("<LI>first</LI>", &format!("<LI>{}first{}</LI>", "<I>".repeat(300), "</I>".repeat(300)))]),
        ("deep-lists", &[("<LI>first</LI>", &format!("<LI>{}first{}</LI>", "<UL>".repeat(100), "</UL>".repeat(100)))]),
        // Data metabook cannot pool (a mean of 1e308): the analysis is written turned off.
        ("absurd-mean", &[("MEAN_1=\"3.0\"", "MEAN_1=\"1e308\"")]),
    ];
    for (tag, edits) in cases {
        let mut xml = base.clone();
        for (from, to) in edits.iter() {
            assert!(xml.contains(from), "{tag}: `{from}` is not in the synthetic file");
            xml = xml.replacen(from, to, 1);
        }
        let (dir, book, (code, stdout, stderr)) = import_edited(&format!("found-{tag}"), xml.as_bytes());
        assert_eq!(code, 0, "{tag}: {stdout}{stderr}");
        let (code, out, err) = metabook(&["build".as_ref(), "--book".as_ref(), book.as_os_str()]);
        assert_eq!(code, 0, "{tag}: the imported book does not build\n{out}{err}\n(import report:)\n{stdout}");
        if *tag == "absurd-mean" {
            // The data stay as RevMan has them; the chapter and the report say why nothing is
            // computed, and where; the other analyses are computed and checked.
            assert!(read(&book, "data/a1_1.csv").contains("Abel 1999,20,1e308,"));
            assert!(stdout.contains("## Analyses not computed\n\n- Analysis 1.1 (`a1_1`): data/a1_1.csv:2:1: study `Abel 1999`: its effect 1.000e308 is beyond"), "{stdout}");
            let html = read(&book, "book/html/comparison-1.html");
            assert!(html.contains("metabook does not compute this analysis") && html.contains("data/a1_1.csv:2:1"), "{html}");
            assert!(!read(&book, "data/revman-results.csv").contains("\na1_1,") && out.contains("RevMan analyses"), "{out}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
