//! One iteration on `metabook import`: a seed RevMan file with a few mutations (`mutate/rm5.rs`),
//! imported into a new folder, and the imported book built.
//!
//! The oracles: the import exits 0 or 1 (never a panic, an abort or a hang) and its errors are
//! located; a failed import writes nothing (the target folder absent, or as it was); nothing
//! is written beside the target. What the importer guarantees is that its book builds: a build
//! that fails is a finding, unless the import report said it would (text longer than a build
//! takes, megabytes in one chapter). An analysis whose data metabook refuses is written turned
//! off, with the reason in its chapter and the import report.

use crate::findings::Context;
use crate::mutate::rm5;
use crate::oracle::{self, Finding};
use crate::rng::Rng;
use crate::{files, Fuzzer};
use std::ffi::OsString;
use std::path::Path;

/// The seed RevMan files and how often each is drawn: the small ones most, the real review
/// cut down to two comparisons next, the whole real review (400 KB, a long build) now and then.
const SEEDS: &[(u32, &str)] = &[(5, "synthetic-all-outcomes"), (5, "Fleiss1993"), (3, "antibiotics-cut"), (1, "antibiotics-for-sore-throat")];

/// How many mutations an iteration applies.
const MUTATION_COUNTS: &[(u32, usize)] = &[(6, 1), (3, 2), (2, 3), (1, 5)];

/// Errors of `import` that may come without a position: they are about the disk, not the file.
const IMPORT_UNLOCATED_ALLOWED: &[(&str, &str)] = &[
    ("exists and is not", "the target folder exists (not empty, or not a folder)"),
    ("cannot read", "the RevMan file cannot be read"),
    ("cannot write the book", "the target cannot be written"),
];

pub fn rm5_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/revman");
    let read = |n: &str| std::fs::read(dir.join(format!("{n}.rm5"))).expect("the RevMan fixtures");
    let big = read("antibiotics-for-sore-throat");
    vec![
        ("synthetic-all-outcomes", read("synthetic-all-outcomes")),
        ("Fleiss1993", read("Fleiss1993")),
        ("antibiotics-cut", rm5::cut(&big, 2)),
        ("antibiotics-for-sore-throat", big),
    ]
}

impl Fuzzer {
    pub fn import_iteration(&mut self, rng: &mut Rng, iteration: u64) {
        let name = *rng.weighted(SEEDS);
        let mut xml = self.rm5_seeds.iter().find(|(n, _)| *n == name).expect("a seed").1.clone();
        let mut log = Vec::new();
        for _ in 0..*rng.weighted(MUTATION_COUNTS) {
            for _ in 0..10 {
                if let Some(what) = rm5::mutate(rng, &mut xml) {
                    log.push(what);
                    break;
                }
            }
        }
        // The file's name goes into the book (book.toml, the report).
        let file = if rng.chance(0.1) { rng.pick(&["we\"ird {{ x }} $y$.rm5", "a\\b [@c].rm5", "ünï cødé.rm5", "x.RM5", ".rm5"]).to_string() } else { "review.rm5".to_string() };
        // The target: a new folder, a nested new one, an empty one, or one with a file (refused).
        let iter = self.root.join("iter");
        files::remove(&iter);
        std::fs::create_dir_all(iter.join("canary")).expect("the iteration's folder");
        std::fs::write(iter.join("canary/keep.txt"), "the decoy").expect("the decoy");
        std::fs::write(iter.join(&file), &xml).expect("the RevMan file");
        let (into, existing) = match rng.below(10) {
            0 => ("book", Some(false)),
            1 => ("book", Some(true)),
            2 => ("deeper/still/book", None),
            3 => ("book/", None),
            _ => ("book", None),
        };
        let target = iter.join(into.trim_end_matches('/'));
        if let Some(nonempty) = existing {
            std::fs::create_dir_all(&target).expect("the target folder");
            if nonempty {
                std::fs::write(target.join("notes.md"), "an author's file").expect("the author's file");
                log.push("the target folder exists and holds a file".into());
            } else {
                log.push("the target folder exists, empty".into());
            }
        }
        let before = files::digest(&iter);
        let args: Vec<OsString> = vec!["import".into(), file.clone().into(), "--into".into(), into.into()];
        let outcome = self.run(&args, &iter);
        self.counts.imports += 1;
        let ops = "import".to_string();
        let mut found = oracle::process(&outcome, &ops, false)
            .into_iter()
            .filter(|f| !(f.kind == oracle::UNLOCATED && IMPORT_UNLOCATED_ALLOWED.iter().any(|(p, _)| f.message.contains(p))))
            .collect::<Vec<_>>();
        let after = files::digest(&iter);
        let imported = outcome.code() == Some(0);
        // Beside the target nothing may change: the RevMan file, the decoy, no stray folder.
        let target_rel = files::relative(&iter, &target);
        let top = target_rel.split('/').next().unwrap_or("").to_string();
        let outside: Vec<String> = after
            .keys()
            .chain(before.keys())
            .filter(|p| !p.starts_with(&format!("{top}/")) && before.get(*p) != after.get(*p))
            .cloned()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let parent = target.parent().unwrap_or(&iter);
        let strays: Vec<String> = files::names(parent).into_iter().filter(|n| n.contains(".metabook-import")).collect();
        if !outside.is_empty() || !strays.is_empty() {
            let mut what = outside;
            what.extend(strays);
            found.push(Finding { kind: oracle::WROTE_OUTSIDE, message: format!("`import` changed files beside its target folder\n{}", what.join(", ")) });
        }
        if existing == Some(true) && imported {
            found.push(Finding { kind: oracle::ACCEPTED, message: "`import` into a folder that holds a file succeeded".into() });
        }
        if !imported {
            let target_changed = after.iter().filter(|(p, _)| p.starts_with(&format!("{top}/"))).ne(before.iter().filter(|(p, _)| p.starts_with(&format!("{top}/"))));
            if target_changed || (existing.is_none() && std::fs::symlink_metadata(iter.join(&top)).is_ok()) {
                found.push(Finding { kind: oracle::FAILED_BUILD_WROTE, message: "a failed import left files in its target folder".into() });
            }
        }
        let mut stderr = outcome.stderr.clone();
        let mut command = format!("metabook import '{file}' --into {into}");
        if imported {
            let build = self.run(&[OsString::from("build"), "--book".into(), target.clone().into_os_string()], &iter);
            self.counts.builds += 1;
            command.push_str(&format!(" && metabook build --book {target_rel}"));
            stderr = format!("{stderr}\n(build:)\n{}", build.stderr);
            found.extend(oracle::process(&build, "build of an imported book", false));
            // The one failure the import may announce: text longer than a build takes.
            if build.code() == Some(1) && !outcome.stdout.contains(&format!("## {}", metabook::import::book::TOO_LONG)) {
                let first = build.stderr.lines().find(|l| l.starts_with("error")).unwrap_or("");
                let first = oracle::normalise(&oracle::without_paths(first));
                found.push(Finding { kind: IMPORTED_BOOK_FAILS, message: format!("an imported book does not build: `{first}`") });
            }
            if build.code() == Some(0) {
                let html_dir = target.join("book/html");
                for page in files::names(&html_dir).into_iter().filter(|n| n.ends_with(".html")) {
                    let html = std::fs::read_to_string(html_dir.join(&page)).unwrap_or_default();
                    for what in oracle::active_content(&html) {
                        found.push(Finding { kind: oracle::ACTIVE, message: format!("{what} in a page of an imported book") });
                    }
                    if !oracle::mentions_non_finite(&String::from_utf8_lossy(&xml)) {
                        if let Some(context) = oracle::non_finite(&html, false) {
                            found.push(Finding { kind: oracle::NON_FINITE, message: format!("NaN or infinity printed in an imported book: …{}…", oracle::normalise(&context)) });
                        }
                    }
                }
            }
        }
        let cx = Context { seed: self.seed, iteration, book: name, mutations: &log, command: &command, stderr: &stderr };
        for f in found {
            self.findings.add(f, &cx, &|dir| {
                std::fs::write(dir.join(&file), &xml)?;
                std::fs::write(dir.join("replay.sh"), format!("#!/bin/sh\n# from this folder\nrm -rf book\n{command}\n"))
            });
        }
    }
}

/// An imported book that `build` refuses, though the import report named no refused row.
pub const IMPORTED_BOOK_FAILS: &str = "imported-book-fails";
