//! `metabook import FILE.rm5 --into DIR`: a RevMan 5 review as a new metabook book.
//!
//! An author's files are never overwritten: the target folder must not exist or be empty.
//! Everything is read and generated in memory first ([`crate::import`]); only then are the
//! files written, into a temporary folder beside the target, which is renamed into place — so
//! a failure leaves nothing behind, and the book appears whole or not at all.

use crate::diag::Diagnostic;
use crate::import::{book, rm5};
use std::path::{Path, PathBuf};

/// Import `file` into the new book folder `into`; on success, the import report.
pub fn run(file: &Path, into: &Path) -> Result<super::Output, Vec<Diagnostic>> {
    check_target(into)?;
    let bytes = std::fs::read(file).map_err(|e| {
        vec![Diagnostic::error(format!("cannot read {}: {e}", file.display())).hint("give the path of a RevMan 5 file (.rm5) you can read")]
    })?;
    let name = file.display().to_string();
    let review = rm5::read(&name, &bytes)?;
    let file_name = file.file_name().map_or(name.clone(), |n| n.to_string_lossy().into_owned());
    let imported = book::book(&review, &file_name);
    write_book(into, &imported.files).map_err(|e| vec![Diagnostic::error(format!("cannot write the book into {}: {e:#}", into.display())).hint("nothing was written; check the folder's permissions and free space")])?;
    let stdout = format!("{}\nwrote {} files into {}; build it with `metabook build --book {}`\n", imported.report, imported.files.len(), into.display(), into.display());
    Ok(super::Output::from(stdout))
}

/// The target must be a folder that does not exist yet, or an empty one.
fn check_target(into: &Path) -> Result<(), Vec<Diagnostic>> {
    match std::fs::symlink_metadata(into) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(vec![Diagnostic::error(format!("cannot use {} as the book's folder: {e}", into.display()))]),
        Ok(m) if m.is_dir() => {
            let empty = std::fs::read_dir(into).map(|mut d| d.next().is_none()).unwrap_or(false);
            if empty {
                Ok(())
            } else {
                Err(vec![Diagnostic::error(format!("{} exists and is not empty", into.display()))
                    .hint("metabook import never overwrites an author's files: name a new folder with --into")])
            }
        }
        Ok(_) => Err(vec![Diagnostic::error(format!("{} exists and is not a folder", into.display())).hint("name a new folder with --into")]),
    }
}

/// Write the files into a temporary folder beside `into`, then rename it into place.
fn write_book(into: &Path, files: &[(String, Vec<u8>)]) -> anyhow::Result<()> {
    use anyhow::Context;
    let parent = match into.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).with_context(|| format!("creating {}", parent.display()))?;
    let base = into.file_name().map_or("book".into(), |n| n.to_string_lossy().into_owned());
    let temp = parent.join(format!(".{base}.metabook-import-{}", std::process::id()));
    let result = (|| -> anyhow::Result<()> {
        if temp.exists() {
            std::fs::remove_dir_all(&temp).with_context(|| format!("removing the stale {}", temp.display()))?;
        }
        for (path, bytes) in files {
            let target = temp.join(path);
            if let Some(dir) = target.parent() {
                std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            }
            std::fs::write(&target, bytes).with_context(|| format!("writing {}", target.display()))?;
        }
        // An empty target folder gives way to the finished book.
        if into.is_dir() {
            std::fs::remove_dir(into).with_context(|| format!("replacing the empty {}", into.display()))?;
        }
        std::fs::rename(&temp, into).with_context(|| format!("renaming {} to {}", temp.display(), into.display()))
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&temp);
    }
    result
}
