//! Writing the book: the only place metabook writes files.
//!
//! Every file is written to a temporary file beside it and renamed into place, so a failed or
//! interrupted build never leaves a half-written file. A build that fails before writing (a
//! mistake in the book) leaves the previous output as it was; a rebuild rewrites only the
//! files whose contents changed.

use std::fs;
use std::io::Write;
use std::path::Path;

/// Make the folder `dest` hold exactly `files` (name, contents), and return the names
/// written. A file whose contents are already those is left alone — a page open in a browser,
/// or anything watching the folder, sees no change — a new or changed file is written through a
/// temporary file and a rename, and a file not in `files` is removed. Every file is replaced
/// whole; should writing fail part-way, each page is either the old one or the new one.
pub fn update_folder(dest: &Path, files: &[(String, Vec<u8>)]) -> std::io::Result<Vec<String>> {
    fs::create_dir_all(dest)?;
    let mut written = Vec::new();
    for (name, contents) in files {
        let path = dest.join(name);
        if fs::read(&path).is_ok_and(|old| old == *contents) {
            continue;
        }
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        replace_file(&path, contents)?;
        written.push(name.clone());
    }
    let keep: std::collections::HashSet<std::path::PathBuf> = files.iter().map(|(name, _)| dest.join(name)).collect();
    remove_others(dest, &keep)?;
    Ok(written)
}

/// Remove every file under `dir` not in `keep`, and the folders left empty. Symbolic links are
/// removed, never followed.
fn remove_others(dir: &Path, keep: &std::collections::HashSet<std::path::PathBuf>) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if fs::symlink_metadata(&path)?.is_dir() {
            remove_others(&path, keep)?;
            if fs::read_dir(&path)?.next().is_none() {
                fs::remove_dir(&path)?;
            }
        } else if !keep.contains(&path) {
            fs::remove_file(&path)?;
        }
    }
    Ok(())
}

/// Write one file through a temporary file and a rename.
pub fn replace_file(dest: &Path, contents: &[u8]) -> std::io::Result<()> {
    let parent = dest.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(parent)?;
    let tmp = parent.join(format!(".{}.tmp-{}", dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(), std::process::id()));
    {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, dest)
}
