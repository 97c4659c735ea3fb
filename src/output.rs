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
/// Files named in `keep` are left as they are (they are written later, see [`update_file`]).
pub fn update_folder(dest: &Path, files: &[(String, Vec<u8>)], keep: &[String]) -> std::io::Result<Vec<String>> {
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
    let keep: std::collections::HashSet<std::path::PathBuf> = files.iter().map(|(name, _)| dest.join(name)).chain(keep.iter().map(|name| dest.join(name))).collect();
    remove_others(dest, &keep)?;
    Ok(written)
}

/// Write `contents` to `dest` through a temporary file and a rename, unless `dest` already
/// holds exactly that. Returns whether it wrote.
pub fn update_file(dest: &Path, contents: &[u8]) -> std::io::Result<bool> {
    if fs::read(dest).is_ok_and(|old| old == contents) {
        return Ok(false);
    }
    replace_file(dest, contents)?;
    Ok(true)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_update_writes_what_changed_and_removes_what_is_gone() {
        let dir = std::env::temp_dir().join(format!("metabook-output-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let site = dir.join("html");
        let files = |pairs: &[(&str, &str)]| pairs.iter().map(|(n, c)| (n.to_string(), c.as_bytes().to_vec())).collect::<Vec<_>>();
        let written = update_folder(&site, &files(&[("index.html", "a"), ("images/x.png", "x"), ("old.html", "o"), ("book.pdf", "p")]), &[]).unwrap();
        assert_eq!(written, ["index.html", "images/x.png", "old.html", "book.pdf"]);
        // Outside the site, reached through a link inside it: never followed or removed.
        fs::write(dir.join("outside.txt"), "keep").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(&dir, site.join("images/link")).unwrap();
        let written = update_folder(&site, &files(&[("index.html", "b"), ("images/x.png", "x")]), &["book.pdf".to_string()]).unwrap();
        assert_eq!(written, ["index.html"], "the unchanged image is not rewritten");
        assert_eq!(fs::read_to_string(site.join("index.html")).unwrap(), "b");
        assert!(!site.join("old.html").exists() && !site.join("images/link").exists());
        assert!(site.join("book.pdf").exists(), "a file to keep stays");
        assert_eq!(fs::read_to_string(dir.join("outside.txt")).unwrap(), "keep");
        let written = update_folder(&site, &files(&[("index.html", "b")]), &[]).unwrap();
        assert!(written.is_empty());
        assert!(!site.join("book.pdf").exists());
        assert!(!site.join("images").exists(), "a folder left empty is removed");
        let leftovers: Vec<_> = fs::read_dir(&site).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(leftovers, ["index.html"], "no temporary files remain");
        let _ = fs::remove_dir_all(&dir);
    }
}
