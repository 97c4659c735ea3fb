//! Mutations of a book, applied in memory to a [`Draft`] (the book's input files as bytes) and
//! written to disk once per iteration. Most mutations know the format they change — a CSV
//! cell, a directive's TOML key, a line of Markdown, a `SUMMARY.md` entry — because a book that
//! no longer parses only tests the parser; a few flip, insert or splice bytes anywhere.
//!
//! Every mutation returns a line saying what it did; the lines go into each finding, so that a
//! finding says which edit of the seed book broke metabook.

pub mod csv;
pub mod files;
pub mod markdown;
pub mod rm5;
pub mod toml;

use crate::rng::Rng;
use std::collections::BTreeMap;

/// A book being mutated: its input files (everything but the build folder), by path relative
/// to the book's folder.
#[derive(Clone)]
pub struct Draft {
    pub files: BTreeMap<String, Vec<u8>>,
    /// Files to replace by symbolic links: (path in the book, link target).
    pub symlinks: Vec<(String, String)>,
    /// What was done, one line per mutation.
    pub log: Vec<String>,
    /// The names of the mutations applied (to tell findings apart).
    pub ops: Vec<&'static str>,
    /// Chapters created with a unique word, which must appear in the site if the build succeeds
    /// (a page that overwrote another loses it): (chapter path, word).
    pub page_marks: Vec<(String, String)>,
    /// The book's folders as its seed's book.toml names them.
    pub layout: Layout,
    /// The fuzzer's temporary folder, for absolute paths that stay inside it.
    pub root: String,
    next_id: usize,
}

#[derive(Clone, Debug)]
pub struct Layout {
    pub src: String,
    pub data: String,
    pub templates: String,
}

impl Draft {
    pub fn new(files: BTreeMap<String, Vec<u8>>, layout: Layout, root: String) -> Draft {
        Draft { files, symlinks: Vec::new(), log: Vec::new(), ops: Vec::new(), page_marks: Vec::new(), layout, root, next_id: 0 }
    }

    pub fn text(&self, path: &str) -> Option<String> {
        self.files.get(path).map(|b| String::from_utf8_lossy(b).into_owned())
    }

    pub fn set_text(&mut self, path: &str, text: String) {
        self.files.insert(path.to_string(), text.into_bytes());
    }

    /// A name no other mutation of this iteration uses.
    pub fn fresh(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}{}", self.next_id)
    }

    pub fn summary_path(&self) -> String {
        format!("{}/SUMMARY.md", self.layout.src)
    }

    /// The chapters' Markdown files (every `.md` under the source folder but SUMMARY.md).
    pub fn chapters(&self) -> Vec<String> {
        let prefix = format!("{}/", self.layout.src);
        let summary = self.summary_path();
        self.files.keys().filter(|p| p.starts_with(&prefix) && p.ends_with(".md") && **p != summary).cloned().collect()
    }

    /// The data folder's files ending in `ext`, by name inside the data folder.
    pub fn data_files(&self, ext: &str) -> Vec<String> {
        let prefix = format!("{}/", self.layout.data);
        self.files.keys().filter_map(|p| p.strip_prefix(&prefix)).filter(|p| p.ends_with(ext)).map(str::to_string).collect()
    }

    pub fn data_path(&self, name: &str) -> String {
        format!("{}/{name}", self.layout.data)
    }

    /// The names of the book's analyses (`name = "…"` in `metabook analysis` blocks).
    pub fn analysis_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        for c in self.chapters() {
            let text = self.text(&c).unwrap_or_default();
            for block in markdown::blocks(&text).iter().filter(|b| b.kind == "analysis") {
                if let Some(v) = block.value(&text, "name") {
                    names.push(v);
                }
            }
        }
        names
    }

    /// The data files read by `metabook analysis` blocks (names inside the data folder).
    pub fn analysis_data(&self) -> Vec<String> {
        let mut names = Vec::new();
        for c in self.chapters() {
            let text = self.text(&c).unwrap_or_default();
            for block in markdown::blocks(&text).iter().filter(|b| b.kind == "analysis") {
                if let Some(v) = block.value(&text, "data") {
                    names.push(v);
                }
            }
        }
        names
    }

    /// Every input's text, for the oracles that must not blame metabook for what the book says.
    pub fn all_text(&self) -> String {
        let mut s = String::new();
        for b in self.files.values() {
            s.push_str(&String::from_utf8_lossy(b));
            s.push('\n');
        }
        s
    }
}

type Mutation = fn(&mut Rng, &mut Draft) -> Option<String>;

/// The mutations and how often each is drawn.
const MUTATIONS: &[(u32, (&str, Mutation))] = &[
    (12, ("csv-cell", csv::cell)),
    (7, ("csv-structure", csv::structure)),
    (7, ("csv-recipe", csv::recipe)),
    (12, ("directive-value", markdown::directive_value)),
    (4, ("directive-structure", markdown::directive_structure)),
    (5, ("directive-new", markdown::directive_new)),
    (8, ("markdown-line", markdown::insert_line)),
    (3, ("markdown-edit", markdown::edit)),
    (2, ("markdown-image", markdown::image)),
    (8, ("book-toml", toml::book_toml)),
    (4, ("summary", files::summary)),
    (5, ("template", files::template)),
    (4, ("bibliography", files::bibliography)),
    (4, ("data-toml", toml::data_toml)),
    (2, ("symlink", files::symlink)),
    (4, ("bytes", files::bytes)),
    (1, ("font", files::font)),
    (1, ("reference-docx", files::reference_docx)),
];

/// Apply one mutation (drawing again when the one drawn has nothing to work on).
pub fn mutate(rng: &mut Rng, draft: &mut Draft) {
    for _ in 0..20 {
        let (name, mutation) = *rng.weighted(MUTATIONS);
        if let Some(what) = mutation(rng, draft) {
            draft.log.push(format!("{name}: {what}"));
            draft.ops.push(name);
            return;
        }
    }
}

/// `s` as a TOML basic string.
pub fn toml_string(s: impl AsRef<str>) -> String {
    let mut out = String::from("\"");
    for c in s.as_ref().chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A short form of a value for the log.
pub fn shorten(s: &str) -> String {
    let one_line = s.replace('\n', "⏎");
    if one_line.chars().count() > 90 {
        format!("{}…", one_line.chars().take(90).collect::<String>())
    } else {
        one_line
    }
}
