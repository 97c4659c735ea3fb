//! Writing the book: the only place metabook writes files.
//!
//! Everything a build produces goes into the book's build folder, and only after every output
//! has been made in memory (a failed build writes nothing, so the previous output stays as it
//! was). Every file is written to a temporary file beside it and renamed into place, so an
//! interrupted build never leaves a half-written file, and a file whose contents are unchanged is
//! not written at all (a page open in a browser, or anything watching the folder, sees no
//! change).
//!
//! The build folder may hold files metabook did not write (a `CNAME`, a hand-made page): a
//! manifest (`.metabook/manifest.json`) lists what metabook wrote, and only those files are
//! ever removed, when a later build no longer makes them. Nothing is written or removed through
//! a symbolic link that leads out of the build folder, and the build folder itself must lie
//! inside the book; what metabook keeps for itself there (manifest, ledger, cache) is not read
//! through one either ([`read_own`]).

use std::collections::BTreeSet;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The manifest of what metabook wrote, relative to the build folder.
pub const MANIFEST: &str = ".metabook/manifest.json";

/// Make the build folder `build_dir` (inside the book's folder `book_root`) hold `files`
/// (path relative to the build folder, contents) and return the paths written. A file metabook
/// wrote in an earlier build that is neither in `files` nor in `keep` is removed, with the
/// folders it leaves empty; files named in `keep` stay as they are (and stay metabook's).
pub fn update_build(book_root: &Path, build_dir: &Path, files: &[(String, Vec<u8>)], keep: &[String]) -> io::Result<Vec<String>> {
    let base = folder_inside(&book_root.canonicalize()?, build_dir)?;
    let previous = read_manifest(&base, build_dir);
    let mut written = Vec::new();
    for (name, contents) in files {
        let path = confined(&base, build_dir, name, true)?;
        if update_file(&path, contents)? {
            written.push(name.clone());
        }
    }
    let mut manifest: BTreeSet<String> = files.iter().map(|(name, _)| name.clone()).collect();
    manifest.extend(keep.iter().filter(|name| previous.contains(*name) && fs::symlink_metadata(build_dir.join(name)).is_ok()).cloned());
    for stale in previous.difference(&manifest) {
        // A file metabook wrote, no longer made: removed, never followed (a link is removed
        // itself), and never outside the build folder.
        let Ok(path) = confined(&base, build_dir, stale, false) else { continue };
        if fs::symlink_metadata(&path).is_ok_and(|m| !m.is_dir()) {
            fs::remove_file(&path)?;
        }
        remove_empty_parents(&base, &path);
    }
    let list: Vec<&String> = manifest.iter().collect();
    let json = serde_json::to_vec_pretty(&list).expect("a list of names");
    update_file(&confined(&base, build_dir, MANIFEST, true)?, &json)?;
    Ok(written)
}

/// The files metabook wrote into `build_dir`, from its manifest (none without one).
fn read_manifest(base: &Path, build_dir: &Path) -> BTreeSet<String> {
    read_own(base, &build_dir.join(MANIFEST)).and_then(|bytes| serde_json::from_slice::<Vec<String>>(&bytes).ok()).unwrap_or_default().into_iter().filter(|name| crate::config::inside(Path::new(name)).is_ok()).collect()
}

/// A file metabook keeps for itself (the manifest, the ledger of reported numbers, a build
/// cache entry), read only where its real path lies inside `base` (a real path): through a
/// symbolic link out of the book it counts as absent, as metabook would never have written it
/// there.
pub fn read_own(base: &Path, path: &Path) -> Option<Vec<u8>> {
    let real = path.canonicalize().ok()?;
    if !real.starts_with(base) {
        return None;
    }
    fs::read(real).ok()
}

/// `name` inside the build folder, whose real path is `base`: its folder (created when `create`)
/// must be inside the build folder when symbolic links are followed.
fn confined(base: &Path, build_dir: &Path, name: &str, create: bool) -> io::Result<PathBuf> {
    let relative = Path::new(name);
    crate::config::inside(relative).map_err(|why| io::Error::other(format!("`{name}` {why}")))?;
    let path = build_dir.join(relative);
    let folder = path.parent().unwrap_or(build_dir);
    if create {
        folder_inside(base, folder)?;
    } else if !folder.canonicalize()?.starts_with(base) {
        return Err(leads_out(folder));
    }
    Ok(path)
}

/// Create `folder` where it does not exist, after checking that what exists of it lies inside
/// `base` (a real path) when symbolic links are followed; its real path.
pub fn folder_inside(base: &Path, folder: &Path) -> io::Result<PathBuf> {
    if !crate::book::existing_part(folder)?.starts_with(base) {
        return Err(leads_out(folder));
    }
    fs::create_dir_all(folder)?;
    let real = folder.canonicalize()?;
    if !real.starts_with(base) {
        return Err(leads_out(folder));
    }
    Ok(real)
}

fn leads_out(path: &Path) -> io::Error {
    io::Error::other(format!("{} leads out of the book (a symbolic link?); metabook writes only inside the book's build folder", path.display()))
}

/// Remove the folders between `path` and the build folder `base` that are left empty.
fn remove_empty_parents(base: &Path, path: &Path) {
    let mut folder = path.parent();
    while let Some(f) = folder {
        if f.canonicalize().map_or(true, |real| real == base || !real.starts_with(base)) || fs::remove_dir(f).is_err() {
            break;
        }
        folder = f.parent();
    }
}

/// Write `contents` to `dest` through a temporary file and a rename, unless `dest` already
/// holds exactly that. Returns whether it wrote.
pub fn update_file(dest: &Path, contents: &[u8]) -> io::Result<bool> {
    if fs::read(dest).is_ok_and(|old| old == contents) {
        return Ok(false);
    }
    replace_file(dest, contents)?;
    Ok(true)
}

/// Write one file through a temporary file and a rename, its contents on the disk before the
/// rename (so that a crash leaves the old file or the new one, never a truncated one).
pub fn replace_file(dest: &Path, contents: &[u8]) -> io::Result<()> {
    replace(dest, contents, true)
}

/// [`replace_file`] without waiting for the disk: for files whose reader takes a damaged file
/// for a missing one (the build cache, whose entries are checked as they are read). A build of
/// 400 analyses writes 800 entries; waiting for each took 0.3 s.
pub fn replace_file_unsynced(dest: &Path, contents: &[u8]) -> io::Result<()> {
    replace(dest, contents, false)
}

fn replace(dest: &Path, contents: &[u8], sync: bool) -> io::Result<()> {
    let parent = dest.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(parent)?;
    let tmp = parent.join(format!(".{}.tmp-{}", dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(), std::process::id()));
    let written = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(contents)?;
        if sync {
            f.sync_all()?;
        }
        fs::rename(&tmp, dest)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

/// Create `dest` holding `contents`, never replacing a file that is there: the contents go to a
/// temporary file beside it, which is then linked into place (a link fails where `dest` exists,
/// so a file someone wrote meanwhile stays theirs). Where the file system has no hard links, the
/// file is created exclusively and written.
pub fn create_new_file(dest: &Path, contents: &[u8]) -> io::Result<()> {
    let parent = dest.parent().unwrap_or(Path::new("."));
    let tmp = parent.join(format!(".{}.tmp-{}", dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(), std::process::id()));
    let written = (|| {
        let mut f = fs::OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()
    })();
    let linked = written.and_then(|()| fs::hard_link(&tmp, dest));
    let _ = fs::remove_file(&tmp);
    match linked {
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists && !dest.exists() => {
            let mut f = fs::OpenOptions::new().write(true).create_new(true).open(dest)?;
            f.write_all(contents)?;
            f.sync_all()
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(pairs: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
        pairs.iter().map(|(n, c)| (n.to_string(), c.as_bytes().to_vec())).collect()
    }

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("metabook-output-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_build_writes_what_changed_and_removes_only_what_metabook_wrote() {
        let book = temp("update");
        let out = book.join("book");
        let written = update_build(&book, &out, &files(&[("html/index.html", "a"), ("html/images/x.png", "x"), ("html/old.html", "o"), ("book.pdf", "p")]), &[]).unwrap();
        assert_eq!(written, ["html/index.html", "html/images/x.png", "html/old.html", "book.pdf"]);
        // The author's own file in the build folder, and a file outside it reached through a
        // link inside it: never removed, never followed.
        fs::write(out.join("html/CNAME"), "review.example.org").unwrap();
        fs::write(book.join("outside.txt"), "keep").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(&book, out.join("html/images/link")).unwrap();
        let written = update_build(&book, &out, &files(&[("html/index.html", "b"), ("html/images/x.png", "x")]), &["book.pdf".to_string()]).unwrap();
        assert_eq!(written, ["html/index.html"], "the unchanged image is not rewritten");
        assert_eq!(fs::read_to_string(out.join("html/index.html")).unwrap(), "b");
        assert!(!out.join("html/old.html").exists(), "a page metabook no longer makes is removed");
        assert!(out.join("book.pdf").exists(), "a file to keep stays");
        assert_eq!(fs::read_to_string(out.join("html/CNAME")).unwrap(), "review.example.org", "a file metabook did not write stays");
        assert_eq!(fs::read_to_string(book.join("outside.txt")).unwrap(), "keep");
        let written = update_build(&book, &out, &files(&[("html/index.html", "b")]), &[]).unwrap();
        assert!(written.is_empty());
        assert!(!out.join("book.pdf").exists(), "kept once, then no longer made: removed");
        assert!(!out.join("html/images/x.png").exists());
        #[cfg(unix)]
        assert!(out.join("html/images/link").exists(), "the link metabook did not make stays, its folder too");
        let mut left: Vec<_> = fs::read_dir(out.join("html")).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        left.sort();
        assert_eq!(left, ["CNAME", "images", "index.html"], "no temporary files remain");
        let _ = fs::remove_dir_all(&book);
    }

    #[test]
    fn a_new_file_never_replaces_one_that_is_there() {
        let dir = temp("create-new");
        create_new_file(&dir.join("a.txt"), b"first").unwrap();
        let e = create_new_file(&dir.join("a.txt"), b"second").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read_to_string(dir.join("a.txt")).unwrap(), "first");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1, "no temporary file remains");
        let _ = fs::remove_dir_all(&dir);
    }

    #[cfg(unix)]
    #[test]
    fn a_build_folder_or_subfolder_linked_out_of_the_book_is_never_written() {
        let root = temp("linked");
        let (book, outside) = (root.join("review"), root.join("outside"));
        fs::create_dir_all(&book).unwrap();
        fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, book.join("book")).unwrap();
        assert!(update_build(&book, &book.join("book"), &files(&[("html/index.html", "a")]), &[]).is_err());
        fs::remove_file(book.join("book")).unwrap();
        fs::create_dir_all(book.join("book")).unwrap();
        std::os::unix::fs::symlink(&outside, book.join("book/html")).unwrap();
        assert!(update_build(&book, &book.join("book"), &files(&[("html/index.html", "a")]), &[]).is_err());
        assert_eq!(fs::read_dir(&outside).unwrap().count(), 0, "nothing written outside the book");
        // A manifest naming files outside the build folder removes nothing there.
        fs::remove_file(book.join("book/html")).unwrap();
        fs::write(outside.join("precious.txt"), "x").unwrap();
        fs::create_dir_all(book.join("book/.metabook")).unwrap();
        fs::write(book.join("book").join(MANIFEST), r#"["../../outside/precious.txt", "/etc/hostname"]"#).unwrap();
        update_build(&book, &book.join("book"), &files(&[("html/index.html", "a")]), &[]).unwrap();
        assert!(outside.join("precious.txt").exists());
        let _ = fs::remove_dir_all(&root);
    }
}
