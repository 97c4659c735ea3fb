//! Writing the book: the only place metabook writes files.
//!
//! A site is written into a fresh folder next to its destination and swapped in only when
//! every file is written, so a failed or interrupted build leaves the previous output as it was.

use std::fs;
use std::io::Write;
use std::path::Path;

/// Write `files` (name, contents) as the folder `dest`, replacing it whole.
pub fn replace_folder(dest: &Path, files: &[(String, Vec<u8>)]) -> std::io::Result<()> {
    let parent = dest.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(parent)?;
    let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    let fresh = parent.join(format!(".{name}.new-{}", std::process::id()));
    let old = parent.join(format!(".{name}.old-{}", std::process::id()));
    let _ = fs::remove_dir_all(&fresh);
    fs::create_dir_all(&fresh)?;
    for (file, contents) in files {
        let path = fresh.join(file);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        let mut f = fs::File::create(&path)?;
        f.write_all(contents)?;
        f.sync_all()?;
    }
    if dest.exists() {
        fs::rename(dest, &old)?;
    }
    if let Err(e) = fs::rename(&fresh, dest) {
        // Put the previous output back.
        let _ = fs::rename(&old, dest);
        return Err(e);
    }
    let _ = fs::remove_dir_all(&old);
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
