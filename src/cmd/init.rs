//! `metabook init [DIR]`: a small book that builds at once — book.toml with both outputs, a
//! SUMMARY.md, one chapter with an analysis and its forest plot, and a data file of invented
//! example studies, labelled as such in the chapter and in the data folder's README — as
//! `mdbook init` starts a book.
//!
//! It never overwrites anything: the folder must be new or empty, and each file is created
//! through [`crate::output::create_new_file`], which refuses a file that is there. If any file
//! cannot be written, the ones written are removed again, so the folder is as it was.

use crate::diag::Diagnostic;
use std::path::{Path, PathBuf};

/// The files of a new book, relative to its folder.
const FILES: [(&str, &str); 6] = [
    ("book.toml", BOOK_TOML),
    ("report/SUMMARY.md", SUMMARY),
    ("report/results.md", CHAPTER),
    ("data/example.csv", EXAMPLE_CSV),
    ("data/README.md", DATA_README),
    (".gitignore", "book/\n"),
];

const BOOK_TOML: &str = r#"[book]
title = "A new systematic review"
authors = ["Your Name"]
language = "en"

[build]
src = "report"
data = "data"
build-dir = "book"

[output.html]

[output.pdf]
paper = "a4"

# A Word file of the review (book/<title>.docx); `double-spacing = true` and `line-numbers =
# true` if the journal asks for them.
[output.docx]

[analysis]
# Defaults for every `metabook analysis` block (a block may set its own).
method = "DL"
"#;

const SUMMARY: &str = "# Summary

- [Results](results.md)
";

const CHAPTER: &str = r#"# Results

> **Example data.** The four studies in `data/example.csv` (Example A 2001 to Example D 2016)
> are invented, to show how a book works. Replace them with the studies of your review, and
> this text with your own.

```metabook analysis
name = "example"
data = "example.csv"
measure = "RR"
```

In {{ example.k }} invented example studies, the risk of the outcome with the intervention
compared with control was {{ example | effect }} ({{ example.p | pval }}; I² = {{ example.i2 | pct }}),
shown in @fig-example.

```metabook forest
analysis = "example"
favours = ["intervention", "control"]
label = "fig-example"
caption = "Example data (invented): risk of the outcome, intervention versus control."
```
"#;

const EXAMPLE_CSV: &str = "study,events1,n1,events2,n2
Example A 2001,12,100,20,98
Example B 2005,8,60,15,62
Example C 2010,30,240,41,236
Example D 2016,5,45,9,44
";

const DATA_README: &str = "# Data

`example.csv` holds **invented example data**: four studies that do not exist (Example A 2001
to Example D 2016), so that the new book builds at once. Replace it with your review's data.

Columns for dichotomous outcomes: `study,events1,n1,events2,n2` (group 1 is the intervention).
Other measures take other columns (continuous: `study,n1,mean1,sd1,n2,mean2,sd2`); an optional
`subgroup` column gives subgroup analyses. See metabook's README for every schema.
";

/// Create a new book in `dir` (created if it does not exist; it must be empty if it does).
pub fn run(dir: &Path) -> Result<super::Output, Vec<Diagnostic>> {
    let shown = dir.display().to_string();
    match std::fs::symlink_metadata(dir) {
        Ok(meta) if !meta.is_dir() => {
            return Err(vec![Diagnostic::error(format!("`{shown}` is a file, not a folder")).hint("give a new or empty folder for the book, e.g. `metabook init my-review`")]);
        }
        Ok(_) => {
            let entries = std::fs::read_dir(dir).map_err(|e| vec![Diagnostic::error(format!("cannot read the folder `{shown}`: {e}"))])?;
            let mut names: Vec<String> = entries.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
            if !names.is_empty() {
                names.sort();
                let listed = names.iter().take(3).map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
                let more = if names.len() > 3 { format!(" and {} more", names.len() - 3) } else { String::new() };
                return Err(vec![Diagnostic::error(format!("the folder `{shown}` is not empty: it holds {listed}{more}"))
                    .hint("metabook init never writes over an author's files: give a new or empty folder, e.g. `metabook init my-review`")]);
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(vec![Diagnostic::error(format!("cannot read `{shown}`: {e}"))]),
    }
    let mut made = Made::default();
    if let Err((path, e)) = write_book(dir, &mut made) {
        made.undo();
        return Err(vec![Diagnostic::error(format!("cannot write `{}`: {e}", path.display())).hint(format!("nothing was left in `{shown}`; check that it can be written"))]);
    }
    let mut stdout = format!("created a new book in {shown}:\n");
    for (file, _) in FILES {
        stdout.push_str(&format!("  {file}\n"));
    }
    stdout.push_str(&format!("the studies in data/example.csv are invented example data: replace them with your own\nnext: metabook build --book {}\n", quoted(&shown)));
    Ok(stdout.into())
}

/// What [`write_book`] created, to remove it again if a later file fails.
#[derive(Default)]
struct Made {
    files: Vec<PathBuf>,
    folders: Vec<PathBuf>,
}

impl Made {
    fn undo(&self) {
        for f in self.files.iter().rev() {
            let _ = std::fs::remove_file(f);
        }
        for d in self.folders.iter().rev() {
            let _ = std::fs::remove_dir(d);
        }
    }
}

fn write_book(dir: &Path, made: &mut Made) -> Result<(), (PathBuf, std::io::Error)> {
    for (file, contents) in FILES {
        let path = dir.join(file);
        let folder = path.parent().unwrap_or(dir).to_path_buf();
        // The folders made, outermost first, to remove them innermost first.
        let mut missing: Vec<PathBuf> = folder.ancestors().take_while(|f| !f.as_os_str().is_empty() && !f.exists()).map(Path::to_path_buf).collect();
        missing.reverse();
        for f in missing {
            std::fs::create_dir(&f).map_err(|e| (f.clone(), e))?;
            made.folders.push(f);
        }
        crate::output::create_new_file(&path, contents.as_bytes()).map_err(|e| (path.clone(), e))?;
        made.files.push(path);
    }
    Ok(())
}

/// A path as a shell reads it: quoted where it holds a space or a quote.
fn quoted(path: &str) -> String {
    if path.chars().all(|c| c.is_ascii_alphanumeric() || "/._-~".contains(c)) {
        path.to_string()
    } else {
        format!("'{}'", path.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_appears_meanwhile_stays_and_what_was_written_is_removed() {
        let dir = std::env::temp_dir().join(format!("metabook-init-undo-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("data")).unwrap();
        std::fs::write(dir.join("data/example.csv"), "theirs").unwrap();
        let mut made = Made::default();
        let (path, e) = write_book(&dir, &mut made).unwrap_err();
        assert_eq!(path, dir.join("data/example.csv"));
        assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(made.files.len(), 3, "book.toml, SUMMARY.md and the chapter were written first");
        made.undo();
        assert_eq!(std::fs::read_to_string(dir.join("data/example.csv")).unwrap(), "theirs");
        let mut left: Vec<String> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        left.sort();
        assert_eq!(left, ["data"], "book.toml and report/ are gone again");
        assert_eq!(std::fs::read_dir(dir.join("data")).unwrap().count(), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_next_command_is_quoted_for_a_shell() {
        assert_eq!(quoted("my-review"), "my-review");
        assert_eq!(quoted("my review"), "'my review'");
        assert_eq!(quoted("it's"), r"'it'\''s'");
    }
}
