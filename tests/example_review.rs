//! The repository's own example review (book.toml, report/, data/) checks and builds, and its
//! pages carry the recomputed results. The expected values are those the R fixture script
//! computed independently from RevMan 5's published formulas for the same data
//! (tests/fixtures/metafor/reference.json, cases seed_*_SMD_DL_z_revman5: spasticity
//! 1.5244 (1.0863 to 1.9624), gait −0.4062 (−0.7664 to −0.0460)), rounded as the book prints them.

mod common;

use common::copy_dir;
use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}


/// A private copy of the example review, so the tests never touch the repository's book/.
fn example_copy(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("metabook-example-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(root().join("book.toml"), dir.join("book.toml")).unwrap();
    copy_dir(&root().join("report"), &dir.join("report"));
    copy_dir(&root().join("data"), &dir.join("data"));
    dir
}

#[test]
fn the_example_review_builds_with_the_recomputed_numbers() {
    let dir = example_copy("html");
    let out = Command::new(env!("CARGO_BIN_EXE_metabook")).args(["build", "--book"]).arg(&dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let results = std::fs::read_to_string(dir.join("book/html/results.html")).unwrap();
    assert!(results.contains("SMD 1.52 (95% CI 1.09 to 1.96)"), "spasticity");
    assert!(results.contains("SMD \u{2212}0.41 (95% CI \u{2212}0.77 to \u{2212}0.05)"), "gait");
    assert!(results.contains("Before ITB") && results.contains("Favours after ITB"));
    let appendix = std::fs::read_to_string(dir.join("book/html/appendix.html")).unwrap();
    assert!(appendix.contains("1.86") && appendix.contains("1.16"), "the published values are shown beside");
    // The source review and its 18 references, numbered in order of first citation.
    let references = std::fs::read_to_string(dir.join("book/html/references.html")).unwrap();
    assert_eq!(references.matches("<li id=\"ref-").count(), 19);
    assert!(references.contains("<li id=\"ref-2\"><span class=\"label\">[2]</span> <span class=\"entry\">Lance JW. What is spasticity?"), "{references}");
    let introduction = std::fs::read_to_string(dir.join("book/html/introduction.html")).unwrap();
    assert!(introduction.contains("<a class=\"citation\" href=\"references.html#ref-2\">[2]</a>"), "{introduction}");
    // The PRISMA diagram in the Methods is Figure 1, the forest plots follow.
    assert!(results.contains("<a class=\"xref\" href=\"results.html#figure-4\">Figure\u{a0}4</a>"), "cross-reference");
    let methods = std::fs::read_to_string(dir.join("book/html/methods.html")).unwrap();
    assert!(methods.contains("<a class=\"xref\" href=\"methods.html#figure-1\">Figure\u{a0}1</a>"), "{methods}");
    assert!(methods.contains("Databases (n = 1,631)") && methods.contains("Studies included in review (n = 10)"), "PRISMA counts from the source");
    assert!(methods.contains("Records screened <tspan font-style=\"italic\">(not reported)</tspan>"), "the rest is not reported");
    // The plain-language summary: a page in the site, in plain words, from the same numbers.
    let pls = std::fs::read_to_string(dir.join("book/html/plain-language-summary.html")).unwrap();
    assert!(pls.contains("The baclofen pump probably reduces muscle stiffness. The change is large."), "{pls}");
    assert!(pls.contains("The baclofen pump may help people walk faster. The change is small."), "{pls}");
    assert!(pls.contains("We found five studies with 99 people in them."), "{pls}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let grade: f64 = stdout.split("Flesch–Kincaid grade ").nth(1).and_then(|g| g.lines().next()).and_then(|g| g.trim().parse().ok()).expect("the closing line gives the grade");
    assert!(grade <= 8.0, "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_example_pdf_holds_the_numbers_and_is_deterministic() {
    let dir = example_copy("pdf");
    let build = || {
        let out = Command::new(env!("CARGO_BIN_EXE_metabook")).args(["build", "--book"]).arg(&dir).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        // The book's PDF and the summary's, in that order.
        let mut pdfs: Vec<_> = std::fs::read_dir(dir.join("book")).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "pdf")).collect();
        pdfs.sort_by_key(|p| p.to_string_lossy().ends_with("-plain-language-summary.pdf"));
        assert_eq!(pdfs.len(), 2, "{pdfs:?}");
        (pdfs[0].clone(), pdfs.iter().map(|p| std::fs::read(p).unwrap()).collect::<Vec<_>>())
    };
    let (path, first) = build();
    let (_, second) = build();
    assert!(first == second, "two builds must give byte-identical PDFs (the book's and the summary's)");
    // The text of the PDF (pdftotext, from poppler-utils, which .ci/run installs).
    let text = Command::new("pdftotext").arg(&path).arg("-").output().expect("pdftotext (apt-get install poppler-utils)");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("SMD 1.52 (95% CI 1.09 to 1.96)"), "{text}");
    assert!(text.contains("SMD \u{2212}0.41 (95% CI \u{2212}0.77 to \u{2212}0.05)"), "{text}");
    assert!(text.contains("Figure 1"), "{text}");
    assert!(text.contains("[19] Stokic DS, Yablon SA, Hayes A."), "{text}");
    // Every kind of figure has its text set by Typst, as PDF text (a figure left to the SVG
    // reader would have it as outlines): PRISMA, forest and funnel plots.
    for figure_text in ["Identification of studies via databases and registers", "Favours after ITB", "Pooled estimate (1.52)", "95% pseudo-confidence limits"] {
        assert!(text.contains(figure_text), "{figure_text}: {text}");
    }
    // The plain-language summary's own PDF, two pages at most.
    let pls = path.with_file_name(path.file_stem().unwrap().to_string_lossy().to_string() + "-plain-language-summary.pdf");
    let pls_text = Command::new("pdftotext").arg(&pls).arg("-").output().expect("pdftotext");
    let pls_text = String::from_utf8_lossy(&pls_text.stdout);
    assert!(pls_text.contains("Does a baclofen pump help stiff muscles after a stroke?") && pls_text.contains("probably reduces muscle stiffness"), "{pls_text}");
    assert!(pls_text.matches('\u{c}').count() <= 2, "two pages at most");
    let _ = std::fs::remove_dir_all(&dir);
}
