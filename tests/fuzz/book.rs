//! One iteration on a book: copy a seed book, mutate it, run `metabook build` (or `check`) on
//! it, and hold what it did against the oracles — its exit, its stderr, the files of the book
//! and of the decoy beside it, and, after a successful build, the pages and PDFs it wrote.

use crate::findings::Context;
use crate::mutate::{self, Draft};
use crate::oracle::{self, Finding};
use crate::rng::Rng;
use crate::run::{self, Outcome, Status};
use crate::seeds::{self, SeedBook};
use crate::{files, Fuzzer};
use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// How many mutations an iteration applies.
const MUTATION_COUNTS: &[(u32, usize)] = &[(5, 1), (3, 2), (2, 3), (1, 4), (1, 6)];

impl Fuzzer {
    pub fn book_iteration(&mut self, rng: &mut Rng, iteration: u64) {
        let name = *rng.weighted(seeds::BOOKS);
        let root = self.root.clone();
        let seed = match self.seed_book(name) {
            Ok(s) => s,
            Err(why) => {
                let f = Finding { kind: "seed", message: format!("the seed book `{name}` does not build cleanly\n{why}") };
                let cx = Context { seed: self.seed, iteration, book: name, mutations: &[], command: "build", stderr: &why };
                self.findings.add(f, &cx, &|_| Ok(()));
                return;
            }
        };
        let mut draft = Draft::new(seed.inputs.clone(), seed.layout.clone(), root.display().to_string());
        for _ in 0..*rng.weighted(MUTATION_COUNTS) {
            mutate::mutate(rng, &mut draft);
        }
        let iter = root.join("iter");
        let book = iter.join("book");
        // A build folder out of the fuzzer's own folder would write into the real file system.
        if !build_dir(&draft, &book).0.starts_with(&root) {
            draft.files.insert("book.toml".into(), seed.inputs["book.toml"].clone());
            draft.log.push("(book.toml's edits undone: its build folder left the fuzzer's temporary folder)".into());
        }
        let command = if rng.chance(0.1) { "check" } else { "build" };
        materialise(&seed, &draft, &iter).expect("writing the mutated book");
        let canary_before = seeds::canary_digest(&seed);
        let (build_abs, build_rel) = build_dir(&draft, &book);
        let before = files::digest(&book);
        let args: Vec<OsString> = vec![command.into(), "--book".into(), book.clone().into()];
        let outcome = self.run(&args, &iter);
        match command {
            "check" => self.counts.checks += 1,
            _ => self.counts.builds += 1,
        }
        let after = files::digest(&book);
        let ops = {
            let mut ops = draft.ops.clone();
            ops.sort();
            ops.dedup();
            ops.join(", ")
        };
        let mut found = oracle::process(&outcome, &ops, false);
        let succeeded = outcome.code() == Some(0);
        let mut inputs: BTreeSet<String> = draft.files.keys().cloned().collect();
        inputs.extend(draft.symlinks.iter().map(|(p, _)| p.clone()));
        let changes = oracle::BookChanges { before: &before, after: &after, inputs: &inputs, build_dir: build_rel.as_deref() };
        if outcome.status != Status::TimedOut {
            found.extend(oracle::book_changes(&changes, command, succeeded));
        }
        let outside = writes_outside(&root, &iter, &canary_before);
        let linked = draft.symlinks.iter().any(|(p, _)| build_rel.as_deref() == Some(p.as_str()));
        if !outside.is_empty() && !oracle::may_write_outside(linked) {
            // A build folder that is itself a link out of the book is told apart: whether
            // metabook should follow it is a decision, not an obvious bug.
            let how = if linked { " through its build folder, a symbolic link out of the book" } else { "" };
            found.push(Finding { kind: oracle::WROTE_OUTSIDE, message: format!("`{command}` wrote outside the book folder{how}\n{}", outside.into_iter().take(8).collect::<Vec<_>>().join(", ")) });
        }
        let mut seen = format!("{}\n{}", outcome.stdout, outcome.stderr);
        if succeeded && command == "build" {
            found.extend(self.output_findings(&draft, &seed, &build_abs, &before, &outcome, &mut seen));
        }
        if seen.contains(mutate::files::CANARY) {
            found.push(Finding { kind: oracle::READ_OUTSIDE, message: format!("`{command}` showed a file from outside the book, reached through {}", routes_out(&draft)) });
        }
        let mut check_stderr = String::new();
        if command == "build" && outcome.code() == Some(1) {
            let check = self.run(&[OsString::from("check"), "--book".into(), book.clone().into()], &iter);
            self.counts.checks += 1;
            if check.code() == Some(0) {
                let first = outcome.stderr.lines().find(|l| l.starts_with("error")).unwrap_or("");
                let first = oracle::normalise(&oracle::without_paths(first));
                found.push(Finding { kind: oracle::CHECK_PASSES, message: format!("`check` passes a book whose build fails with `{first}`") });
            }
            found.extend(oracle::process(&check, &ops, false).into_iter().filter(|f| f.kind != oracle::UNLOCATED));
            check_stderr = check.stderr;
        }
        let command_line = format!("metabook {command} --book <finding>/book");
        let stderr = if check_stderr.is_empty() { outcome.stderr.clone() } else { format!("{}\n(check:)\n{check_stderr}", outcome.stderr) };
        let cx = Context { seed: self.seed, iteration, book: name, mutations: &draft.log, command: &command_line, stderr: &stderr };
        for f in found {
            self.findings.add(f, &cx, &|dir| materialise(&seed, &draft, dir));
        }
    }

    /// What a successful build wrote: no NaN or infinity printed, no active content, no page
    /// lost, no duplicate column names accepted. Adds the pages' text to `seen`.
    fn output_findings(&self, draft: &Draft, seed: &SeedBook, build: &Path, before: &files::Digest, outcome: &Outcome, seen: &mut String) -> Vec<Finding> {
        let mut found = Vec::new();
        let html_dir = build.join("html");
        let mut pages = String::new();
        // The book's own page template is its owner's HTML, written into every page as it is
        // (README: what is not content belongs there): what active content it holds itself is
        // not metabook's doing.
        let page_template = format!("{}/page.html", draft.layout.templates);
        let owners = draft.text(&page_template).map(|t| oracle::active_content(&t)).unwrap_or_default();
        for name in files::names(&html_dir).into_iter().filter(|n| n.ends_with(".html")) {
            let html = std::fs::read_to_string(html_dir.join(&name)).unwrap_or_default();
            for what in oracle::active_content(&html).into_iter().filter(|what| !owners.contains(what)) {
                found.push(Finding { kind: oracle::ACTIVE, message: format!("{what} in {}", page_kind(&name)) });
            }
            pages.push_str(&html);
        }
        let mut texts = vec![("a page".to_string(), pages.clone()), ("build's output".to_string(), outcome.stdout.clone())];
        texts.push(("changes.md".to_string(), std::fs::read_to_string(build.join("changes.md")).unwrap_or_default()));
        if self.pdftotext {
            // Only the PDFs this build typeset (pdftotext takes as long as a build).
            let rel = build.strip_prefix(self.root.join("iter/book")).ok().map(|r| files::relative(Path::new(""), r));
            let unchanged = |name: &str| {
                let key = rel.as_ref().map(|r| if r.is_empty() { name.to_string() } else { format!("{r}/{name}") });
                let now = std::fs::read(build.join(name)).map(|b| files::hash(&b)).ok();
                key.and_then(|k| before.get(&k).copied()) == now
            };
            for name in files::names(build).into_iter().filter(|n| n.ends_with(".pdf") && !unchanged(n)) {
                let pdf = run::run(Path::new("pdftotext"), &[build.join(&name).into(), "-".into()], build, &self.root.join("logs"), self.timeout);
                texts.push(("a PDF".to_string(), pdf.stdout));
            }
        }
        // Every Word file a build wrote opens: well-formed XML in every part.
        for name in files::names(build).into_iter().filter(|n| n.ends_with(".docx")) {
            if let Some(what) = std::fs::read(build.join(&name)).ok().and_then(|b| oracle::word_file(&b)) {
                found.push(Finding { kind: oracle::BAD_WORD_FILE, message: format!("{}: {what}", if name.contains("plain-language") { "the summary's Word file" } else { "the Word file" }) });
            }
        }
        if !oracle::mentions_non_finite(&draft.all_text()) {
            for (place, text) in &texts {
                if let Some(context) = oracle::non_finite(text, place == "a PDF") {
                    found.push(Finding { kind: oracle::NON_FINITE, message: format!("NaN or infinity printed in {place}: …{}…", oracle::normalise(&context)) });
                }
            }
        }
        for (_, text) in &texts {
            seen.push_str(text);
        }
        // The navigation and chapters' words can be judged only with metabook's page template.
        if draft.files.get(&page_template) == seed.inputs.get(&page_template) {
            let index = std::fs::read_to_string(html_dir.join("index.html")).unwrap_or_default();
            let summary = draft.text(&draft.summary_path()).unwrap_or_default();
            let links = oracle::markdown_links(&summary);
            let listed: Vec<(String, String)> = draft
                .page_marks
                .iter()
                .filter(|(chapter, _)| {
                    let rel = chapter.strip_prefix(&format!("{}/", draft.layout.src)).unwrap_or(chapter);
                    draft.files.contains_key(chapter) && links.iter().any(|l| l == rel)
                })
                .cloned()
                .collect();
            found.extend(oracle::lost_pages(&index, &pages, &listed));
        }
        for name in draft.analysis_data() {
            if let Some(dup) = draft.files.get(&draft.data_path(&name)).and_then(|b| mutate::csv::Table::parse(b)).and_then(|t| oracle::duplicate_columns(&t.header())) {
                found.push(Finding { kind: oracle::ACCEPTED, message: format!("a study file with two columns named `{dup}` was accepted by `build`") });
            }
        }
        found
    }

}

/// What a run left outside the book: files beside it or in the fuzzer's folder (removed again,
/// so that the next iteration starts clean), and changes to the decoy.
fn writes_outside(root: &Path, iter: &Path, canary_before: &files::Digest) -> Vec<String> {
    let strays: Vec<PathBuf> = files::names(iter)
        .into_iter()
        .filter(|n| n != "book" && n != "canary")
        .map(|n| iter.join(n))
        .chain(files::names(root).into_iter().filter(|n| !["seeds", "iter", "logs"].contains(&n.as_str())).map(|n| root.join(n)))
        .collect();
    let mut outside: Vec<String> = strays.iter().map(|p| format!("created {}", p.strip_prefix(root).unwrap_or(p).display())).collect();
    for stray in &strays {
        files::remove(stray);
    }
    let canary_after = files::digest(&iter.join("canary"));
    for (path, h) in &canary_after {
        if canary_before.get(path) != Some(h) {
            outside.push(format!("wrote ../canary/{path}"));
        }
    }
    outside.extend(canary_before.keys().filter(|p| !canary_after.contains_key(*p)).map(|p| format!("deleted ../canary/{p}")));
    outside
}

/// The ways out of the book that the mutations opened: symbolic links, and paths in book.toml,
/// SUMMARY.md or a chapter that name the decoy.
fn routes_out(draft: &Draft) -> String {
    let mut routes = BTreeSet::new();
    for (path, _) in &draft.symlinks {
        routes.insert(if *path == draft.summary_path() {
            "a linked SUMMARY.md"
        } else if *path == draft.layout.templates {
            "a linked templates folder"
        } else if path.ends_with(".md") {
            "a linked chapter"
        } else if path.starts_with(&format!("{}/", draft.layout.data)) {
            "a linked data file"
        } else {
            "a linked build folder"
        });
    }
    for (path, bytes) in &draft.files {
        if String::from_utf8_lossy(bytes).contains("canary") {
            routes.insert(if path == "book.toml" {
                "book.toml's [build] paths"
            } else if *path == draft.summary_path() {
                "a SUMMARY.md link"
            } else {
                "a path in a chapter"
            });
        }
    }
    routes.into_iter().collect::<Vec<_>>().join(" and ")
}

/// The build folder a (mutated) book.toml names: absolute, and relative to the book when inside it.
fn build_dir(draft: &Draft, book: &Path) -> (PathBuf, Option<String>) {
    let value: Option<toml::Value> = draft.text("book.toml").and_then(|t| toml::from_str(&t).ok());
    let dir = value.as_ref().and_then(|v| v.get("build")).and_then(|b| b.get("build-dir")).and_then(|d| d.as_str()).unwrap_or("book").to_string();
    let abs = files::resolve(book, &dir);
    let rel = abs.strip_prefix(book).ok().map(|r| files::relative(Path::new(""), r));
    (abs, rel)
}

/// Lay out the seed's built book with the draft's changes in `dir/book`, and the decoy in
/// `dir/canary`.
fn materialise(seed: &SeedBook, draft: &Draft, dir: &Path) -> std::io::Result<()> {
    files::remove(dir);
    let book = dir.join("book");
    files::copy_dir(&seed.dir.join("book"), &book)?;
    files::copy_dir(&seed.dir.join("canary"), &dir.join("canary"))?;
    for path in seed.inputs.keys().filter(|p| !draft.files.contains_key(*p)) {
        files::remove(&book.join(path));
    }
    for (path, bytes) in &draft.files {
        if seed.inputs.get(path) != Some(bytes) {
            let target = book.join(path);
            if let Some(parent) = target.parent() {
                let _ = std::fs::create_dir_all(parent);
            }
            let _ = std::fs::write(target, bytes);
        }
    }
    for (path, target) in &draft.symlinks {
        let at = book.join(path);
        files::remove(&at);
        if let Some(parent) = at.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        std::os::unix::fs::symlink(target, &at)?;
    }
    Ok(())
}

/// What a page is, for a finding's first line: the plain-language summary, the index or a chapter.
fn page_kind(name: &str) -> &'static str {
    match name {
        "index.html" => "the index page",
        "plain-language-summary.html" => "the plain-language summary",
        _ => "a chapter page",
    }
}

