//! Findings, deduplicated on their kind and the first line of their message: the first
//! occurrence is saved with what reproduces it (the mutated book beside its decoy, or the CSV
//! file and the `pool` command) and everything is printed at the end.

use crate::files;
use crate::oracle::Finding;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// Where and how a finding was made.
pub struct Context<'a> {
    pub seed: u64,
    pub iteration: u64,
    pub book: &'a str,
    pub mutations: &'a [String],
    pub command: &'a str,
    pub stderr: &'a str,
}

struct Entry {
    kind: &'static str,
    count: usize,
    text: String,
}

pub struct Findings {
    dir: PathBuf,
    entries: BTreeMap<(&'static str, String), Entry>,
}

impl Findings {
    pub fn new(dir: PathBuf) -> Findings {
        Findings { dir, entries: BTreeMap::new() }
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn occurrences(&self) -> usize {
        self.entries.values().map(|e| e.count).sum()
    }

    /// Record a finding; the first of its kind and first line is described and saved by
    /// `save` (which gets the folder to fill).
    pub fn add(&mut self, finding: Finding, cx: &Context, save: &dyn Fn(&Path) -> std::io::Result<()>) {
        let first = finding.message.lines().next().unwrap_or("").to_string();
        let key = (finding.kind, first.clone());
        if let Some(e) = self.entries.get_mut(&key) {
            e.count += 1;
            return;
        }
        let name = format!("{}-{:08x}", finding.kind, files::hash(format!("{}\n{first}", finding.kind).as_bytes()) as u32);
        let folder = self.dir.join(name);
        files::remove(&folder);
        let saved = std::fs::create_dir_all(&folder).and_then(|_| save(&folder));
        let mut text = String::new();
        let _ = writeln!(text, "[{}] {}", finding.kind, finding.message.trim_end().replace('\n', "\n    "));
        let _ = writeln!(text, "  found: seed {} iteration {} ({}), replay: cargo test --release --test fuzz -- --seed {} --from {} --iterations 1", cx.seed, cx.iteration, cx.book, cx.seed, cx.iteration);
        let _ = writeln!(text, "  command: {}", cx.command);
        for m in cx.mutations {
            let _ = writeln!(text, "  mutation: {m}");
        }
        let excerpt: Vec<&str> = cx.stderr.lines().take(14).collect();
        if !excerpt.is_empty() {
            let _ = writeln!(text, "  stderr:\n    {}", excerpt.join("\n    "));
        }
        let folder = match saved {
            Ok(()) => {
                let _ = std::fs::write(folder.join("finding.txt"), &text);
                Some(folder)
            }
            Err(e) => {
                let _ = writeln!(text, "  (could not save the reproducer: {e})");
                None
            }
        };
        if let Some(f) = &folder {
            let _ = writeln!(text, "  saved: {}", f.display());
        }
        println!("fuzz: new finding\n{text}");
        self.entries.insert(key, Entry { kind: finding.kind, count: 1, text });
    }

    /// Every finding, by kind, with its count and reproducer.
    pub fn report(&self) -> String {
        let mut by_kind: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for e in self.entries.values() {
            let k = by_kind.entry(e.kind).or_default();
            k.0 += 1;
            k.1 += e.count;
        }
        let mut out = String::new();
        let _ = writeln!(out, "fuzz: {} distinct findings ({} occurrences):", self.entries.len(), self.occurrences());
        for (kind, (distinct, total)) in &by_kind {
            let _ = writeln!(out, "  {kind}: {distinct} distinct, {total} occurrences");
        }
        for e in self.entries.values() {
            let _ = writeln!(out, "\n×{} {}", e.count, e.text.trim_end());
        }
        out
    }
}
