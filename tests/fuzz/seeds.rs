//! The seed inputs: the example review (the repository's root) and the fixture books, each
//! copied once per run and built cleanly so that every iteration starts from a book with
//! previous output; and the CSV files `metabook pool` is fuzzed with.
//!
//! Beside each book copy lies a decoy, `canary/`: the same chapters, data and templates with a
//! marker word in them, a `secret.md`, and an empty `out/`. A build that reads the decoy (a
//! symbolic link or a `[build]` path out of the book) shows the marker; a build that writes
//! outside the book changes the decoy or adds files beside the book.

use crate::files::{self, Digest};
use crate::mutate::files::CANARY;
use crate::mutate::Layout;
use crate::run;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The seed books and how often each is drawn: the example most (it has every feature), the
/// `directives` fixture next (one chapter per directive kind).
pub const BOOKS: &[(u32, &str)] = &[
    (6, "example"),
    (5, "directives"),
    (1, "minimal"),
    (1, "pls"),
    (1, "pls_hard"),
    (1, "rob_warning"),
    (1, "sof_warning"),
];

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A seed book, copied and built: `dir` holds `book/` (with its output) and `canary/`.
pub struct SeedBook {
    pub dir: PathBuf,
    /// The book's input files (everything outside its build folder).
    pub inputs: BTreeMap<String, Vec<u8>>,
    pub layout: Layout,
}

/// Copy a seed book into `dir/book`, build it, and lay the decoy beside it.
pub fn prepare(name: &str, dir: &Path, exe: &Path, limit: Duration) -> Result<SeedBook, String> {
    let book = dir.join("book");
    files::remove(dir);
    std::fs::create_dir_all(&book).map_err(|e| e.to_string())?;
    if name == "example" {
        for part in ["book.toml", "report", "data", "templates"] {
            let from = manifest_dir().join(part);
            if from.is_dir() {
                files::copy_dir(&from, &book.join(part)).map_err(|e| e.to_string())?;
            } else {
                std::fs::copy(&from, book.join(part)).map_err(|e| e.to_string())?;
            }
        }
    } else {
        files::copy_dir(&manifest_dir().join("tests/fixtures/books").join(name), &book).map_err(|e| e.to_string())?;
    }
    let layout = layout(&std::fs::read_to_string(book.join("book.toml")).unwrap_or_default());
    let mut inputs = BTreeMap::new();
    for (path, _) in files::digest(&book) {
        inputs.insert(path.clone(), std::fs::read(book.join(&path)).map_err(|e| e.to_string())?);
    }
    let outcome = run::run(exe, &["build".into(), "--book".into(), book.clone().into()], dir, dir, limit);
    if outcome.code() != Some(0) {
        return Err(format!("the seed book `{name}` does not build: {:?}\n{}", outcome.status, outcome.stderr));
    }
    decoy(&inputs, &layout, &dir.join("canary")).map_err(|e| e.to_string())?;
    Ok(SeedBook { dir: dir.to_path_buf(), inputs, layout })
}

/// The folders a book.toml names (metabook's defaults where it names none).
pub fn layout(book_toml: &str) -> Layout {
    let value: toml::Value = toml::from_str(book_toml).unwrap_or(toml::Value::Table(Default::default()));
    let get = |key: &str, default: &str| value.get("build").and_then(|b| b.get(key)).and_then(|v| v.as_str()).unwrap_or(default).trim_end_matches('/').to_string();
    Layout { src: get("src", "report"), data: get("data", "data"), templates: get("templates", "templates") }
}

/// The decoy: the book's chapters, data and templates with the marker in them.
fn decoy(inputs: &BTreeMap<String, Vec<u8>>, layout: &Layout, canary: &Path) -> std::io::Result<()> {
    let write = |rel: &str, text: String| -> std::io::Result<()> {
        let path = canary.join(rel);
        std::fs::create_dir_all(path.parent().expect("inside the decoy"))?;
        std::fs::write(path, text)
    };
    for (path, bytes) in inputs {
        let text = String::from_utf8_lossy(bytes);
        let into = |folder: &str| path.strip_prefix(&format!("{folder}/")).map(str::to_string);
        if let Some(rel) = into(&layout.src) {
            let marked = if rel.ends_with(".md") && !rel.ends_with("SUMMARY.md") { format!("{text}\n\nThe decoy says {CANARY}.\n") } else { text.into_owned() };
            write(&format!("report/{rel}"), marked)?;
        } else if let Some(rel) = into(&layout.data) {
            // The first study's label carries the marker.
            let marked = if rel.ends_with(".csv") {
                let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
                if lines.len() > 1 {
                    lines[1] = format!("{CANARY} {}", lines[1]);
                }
                lines.join("\n") + "\n"
            } else {
                text.into_owned()
            };
            write(&format!("data/{rel}"), marked)?;
        }
    }
    let page = include_str!("../../templates/page.html").replace("<body>", &format!("<body>\n<p>{CANARY}</p>"));
    write("templates/page.html", page)?;
    write("templates/pls.md", format!("{}\n\n{CANARY}\n", include_str!("../../templates/pls.md")))?;
    write("templates/pls-en.toml", include_str!("../../templates/pls-en.toml").to_string())?;
    write("secret.md", format!("# Secret\n\n{CANARY}\n"))?;
    std::fs::create_dir_all(canary.join("out"))
}

/// The CSV files for `metabook pool`: metafor's reference data, the bad-input fixtures and the
/// example's data.
pub fn pool_csvs() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for dir in ["tests/fixtures/metafor", "tests/fixtures/bad", "data", "tests/fixtures/books/directives/data"] {
        let mut names = files::names(&manifest_dir().join(dir));
        names.retain(|n| n.ends_with(".csv") && !n.starts_with("prisma") && !n.starts_with("rob") && n != "characteristics.csv" && n != "published.csv");
        for n in names {
            if let Ok(bytes) = std::fs::read(manifest_dir().join(dir).join(&n)) {
                out.push((n, bytes));
            }
        }
    }
    out
}

/// The fingerprint of a seed's decoy, to compare after each run.
pub fn canary_digest(seed: &SeedBook) -> Digest {
    files::digest(&seed.dir.join("canary"))
}
