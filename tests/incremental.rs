//! The build cache on the example review: after each kind of edit — a data cell, a template, a
//! directive's parameter, book.toml's defaults, another metabook — a rebuild runs exactly the
//! directives the edit reaches, writes only the files that changed, typesets only the PDFs
//! whose source changed, and gives the same bytes as a clean build of the edited book.

mod common;

use common::copy_dir;
use metabook::cmd::build::{Built, Session};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const PDF: &str = "intrathecal-baclofen-for-spasticity-after-stroke-a-meta.pdf";
const PLS_PDF: &str = "intrathecal-baclofen-for-spasticity-after-stroke-a-meta-plain-language-summary.pdf";

/// The inputs of the example review, copied to a private folder.
fn example(tag: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("metabook-incremental-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(root.join("book.toml"), dir.join("book.toml")).unwrap();
    for folder in ["report", "data", "templates"] {
        copy_dir(&root.join(folder), &dir.join(folder));
    }
    dir
}

fn build(session: &mut Session, dir: &Path) -> Built {
    match session.build(dir) {
        Ok(built) => built,
        Err(problems) => panic!("{}", metabook::diag::render(&problems, false)),
    }
}

/// Every file a build leaves in book/, but the cache and the history of changes.
fn outputs(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.strip_prefix(base).unwrap().to_string_lossy().into_owned();
            if name == ".metabook" || name == "changes.md" {
                continue;
            }
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                out.insert(name, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(&dir.join("book"), &dir.join("book"), &mut out);
    out
}

/// The outputs of a clean build (no cache, no previous output) of the book's current inputs.
fn clean_build(dir: &Path, tag: &str) -> BTreeMap<String, Vec<u8>> {
    let fresh = std::env::temp_dir().join(format!("metabook-incremental-{tag}-clean-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&fresh);
    std::fs::create_dir_all(&fresh).unwrap();
    std::fs::copy(dir.join("book.toml"), fresh.join("book.toml")).unwrap();
    for folder in ["report", "data", "templates"] {
        copy_dir(&dir.join(folder), &fresh.join(folder));
    }
    let built = build(&mut Session::default(), &fresh);
    assert_eq!(built.reused, 0, "a clean build computes everything");
    let out = outputs(&fresh);
    let _ = std::fs::remove_dir_all(&fresh);
    out
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} has no `{from}`", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

fn assert_same(incremental: &BTreeMap<String, Vec<u8>>, clean: &BTreeMap<String, Vec<u8>>) {
    assert_eq!(incremental.keys().collect::<Vec<_>>(), clean.keys().collect::<Vec<_>>());
    for (name, bytes) in incremental {
        assert!(bytes == &clean[name], "{name} differs from a clean build's");
    }
}

#[test]
fn a_build_with_nothing_changed_runs_and_writes_nothing() {
    let dir = example("nothing");
    let mut session = Session::default();
    let first = build(&mut session, &dir);
    assert_eq!(first.reused, 0);
    assert_eq!(first.ran.len(), 12, "{:?}", first.ran);
    assert_eq!(first.typeset, [PDF, PLS_PDF]);
    let before = outputs(&dir);
    // A new process (a new session) reads the same cache from disk.
    let again = build(&mut Session::default(), &dir);
    assert!(again.ran.is_empty(), "{:?}", again.ran);
    assert_eq!(again.reused, 12);
    assert!(again.pages_written.is_empty() && again.typeset.is_empty(), "{:?} {:?}", again.pages_written, again.typeset);
    assert_same(&outputs(&dir), &before);
    // Deleting the cache only costs time: a process that builds again and again (watch, serve)
    // still has the results in memory; a new one computes them again.
    std::fs::remove_dir_all(dir.join("book/.metabook/cache")).unwrap();
    let remembered = build(&mut session, &dir);
    assert!(remembered.ran.is_empty() && remembered.pages_written.is_empty(), "{:?}", remembered.ran);
    assert_eq!(remembered.reused, 12);
    let recomputed = build(&mut Session::default(), &dir);
    assert_eq!(recomputed.ran.len(), 12);
    assert!(recomputed.pages_written.is_empty(), "same pages: nothing to write");
    assert_same(&outputs(&dir), &before);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_data_cell_reruns_its_analysis_and_what_shows_it() {
    let dir = example("data");
    let mut session = Session::default();
    build(&mut session, &dir);
    edit(&dir.join("data/gait.csv"), "Schiess 2011,26,0.55,", "Schiess 2011,26,0.50,");
    let built = build(&mut session, &dir);
    assert_eq!(built.ran[0], "analysis `gait`", "{:?}", built.ran);
    assert!(!built.ran.iter().any(|r| r.contains("spasticity")), "the other analysis is untouched: {:?}", built.ran);
    // The gait forest plot and the summary of findings (which reads every analysis).
    assert!(built.ran.iter().any(|r| r.starts_with("forest `gait`")) && built.ran.iter().any(|r| r.starts_with("sof")), "{:?}", built.ran);
    assert_eq!(built.ran.len(), 3, "{:?}", built.ran);
    assert_eq!(built.reused, 9);
    assert!(built.pages_written.contains(&"results.html".to_string()), "{:?}", built.pages_written);
    for untouched in ["index.html", "introduction.html", "methods.html", "style.css"] {
        assert!(!built.pages_written.contains(&untouched.to_string()), "{untouched} was rewritten: {:?}", built.pages_written);
    }
    assert!(built.typeset.contains(&PDF.to_string()));
    assert_same(&outputs(&dir), &clean_build(&dir, "data"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_template_rewrites_the_pages_and_runs_no_directive() {
    let dir = example("template");
    let mut session = Session::default();
    let first = build(&mut session, &dir);
    edit(&dir.join("templates/page.html"), "</head>", "<meta name=\"edited\" content=\"yes\">\n</head>");
    let built = build(&mut session, &dir);
    assert!(built.ran.is_empty(), "{:?}", built.ran);
    assert_eq!(built.reused, 12);
    let pages: Vec<&String> = first.pages_written.iter().filter(|p| p.ends_with(".html")).collect();
    assert_eq!(built.pages_written.iter().collect::<Vec<_>>(), pages, "every page and nothing else");
    assert!(built.typeset.is_empty(), "the PDFs do not use the HTML template: {:?}", built.typeset);
    assert!(built.words_written.is_empty() && !built.words_made, "nor do the Word files, which are not made again: {:?}", built.words_written);
    assert_same(&outputs(&dir), &clean_build(&dir, "template"));
    // A Word file that is not the one made is made again, as a PDF is typeset again.
    let docx = dir.join("book").join(PDF.replace(".pdf", ".docx"));
    let made = std::fs::read(&docx).unwrap();
    std::fs::write(&docx, b"edited by hand").unwrap();
    let built = build(&mut session, &dir);
    assert!(built.words_made && std::fs::read(&docx).unwrap() == made, "{:?}", built.words_written);
    assert_eq!(built.figures_drawn, 0, "the figures' PNGs come from the cache");
    // After builds whose Word files were current, an edit of one analysis draws only the
    // figures it changes: the others' PNGs stayed in the cache.
    edit(&dir.join("templates/page.html"), "<meta name=\"edited\" content=\"yes\">", "<meta name=\"edited\" content=\"twice\">");
    assert!(!build(&mut session, &dir).words_made);
    edit(&dir.join("data/gait.csv"), "Schiess 2011,26,0.55,", "Schiess 2011,26,0.50,");
    let built = build(&mut session, &dir);
    assert!(built.figures_drawn > 0 && built.figures_drawn < first.figures_drawn, "{} of {}", built.figures_drawn, first.figures_drawn);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_parameter_reruns_its_directive_and_a_default_every_analysis() {
    let dir = example("parameter");
    let mut session = Session::default();
    build(&mut session, &dir);
    // A directive's own parameter: only that figure.
    edit(&dir.join("report/results.md"), "favours = [\"after ITB\", \"before ITB\"]", "favours = [\"after treatment\", \"before ITB\"]");
    let built = build(&mut session, &dir);
    assert_eq!(built.ran.len(), 1, "{:?}", built.ran);
    assert!(built.ran[0].starts_with("forest `spasticity` at report/results.md:"), "{:?}", built.ran);
    assert_eq!(built.pages_written, ["results.html"]);
    assert_eq!(built.typeset, [PDF], "the summary does not show the figure");
    assert_eq!(built.words_written, [PDF.replace(".pdf", ".docx")], "the summary's Word file has no figure either");
    assert!(built.words_made);
    assert_same(&outputs(&dir), &clean_build(&dir, "parameter"));
    // The book's default method: every analysis and everything computed from one.
    edit(&dir.join("book.toml"), "method = \"DL\"", "method = \"FE\"");
    let built = build(&mut session, &dir);
    assert!(built.ran.contains(&"analysis `gait`".to_string()) && built.ran.contains(&"analysis `spasticity`".to_string()), "{:?}", built.ran);
    assert!(!built.ran.iter().any(|r| r.starts_with("prisma")), "the flow diagram reads no analysis: {:?}", built.ran);
    assert_same(&outputs(&dir), &clean_build(&dir, "default"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn another_metabook_trusts_no_earlier_result() {
    let dir = example("version");
    build(&mut Session::with_identity("metabook 0.1.0 (test build A)"), &dir);
    let before = outputs(&dir);
    let built = build(&mut Session::with_identity("metabook 0.1.0 (test build B)"), &dir);
    assert_eq!(built.ran.len(), 12, "{:?}", built.ran);
    assert_eq!(built.reused, 0);
    assert_eq!(built.typeset, [PDF, PLS_PDF]);
    assert!(built.pages_written.is_empty(), "same code, same pages");
    assert_same(&outputs(&dir), &before);
    // And back: B's results replaced A's, so A computes again too.
    let back = build(&mut Session::with_identity("metabook 0.1.0 (test build A)"), &dir);
    assert_eq!(back.ran.len(), 12);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bibliography_entry_rewrites_the_citations_and_nothing_else() {
    let dir = example("bibliography");
    let mut session = Session::default();
    build(&mut session, &dir);
    edit(&dir.join("data/references.bib"), "title = {What is spasticity?}", "title = {What is spasticity, really?}");
    let built = build(&mut session, &dir);
    assert!(built.ran.is_empty(), "no directive reads the bibliography: {:?}", built.ran);
    assert!(built.pages_written.contains(&"references.html".to_string()), "{:?}", built.pages_written);
    assert!(std::fs::read_to_string(dir.join("book/html/references.html")).unwrap().contains("What is spasticity, really?"));
    assert_eq!(built.typeset, [PDF]);
    assert_same(&outputs(&dir), &clean_build(&dir, "bibliography"));
    let _ = std::fs::remove_dir_all(&dir);
}
