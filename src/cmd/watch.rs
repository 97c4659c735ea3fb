//! `metabook watch`: rebuild the book whenever one of its inputs changes.
//!
//! The inputs are book.toml and the source, data, templates and fonts folders. Whether they changed
//! is decided by a fingerprint of every input file's path, size and modification time, so
//! that output written into the book's folder causes nothing. The
//! operating system's file events (inotify, FSEvents, … through `notify`) wake the check at
//! once; the check also runs ten times a second without them, which covers file systems that
//! report nothing (network mounts) and folders created after the watch began. A change is
//! acted on once the inputs have been still for 50 ms, so an editor that writes a file in
//! several steps causes one build, not several.
//!
//! All builds run in one [`Session`]: directives whose inputs did not change come from the
//! build cache, and typst reuses the layout it did in the previous builds, so an edited CSV
//! cell is on the page in tens of milliseconds (BENCHMARKS.md).

use super::build::Session;
use crate::diag::{self, Diagnostic};
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The longest wait between two checks when no file event comes.
const POLL: Duration = Duration::from_millis(100);
/// How long the inputs must be unchanged before a build starts.
pub const SETTLE: Duration = Duration::from_millis(50);

/// The folders and files a build reads, from book.toml where it can be read (defaults where
/// not, so that fixing a broken book.toml is noticed too).
pub fn inputs(root: &Path) -> Vec<PathBuf> {
    let build = crate::book::build_folders(root);
    vec![root.join("book.toml"), root.join(build.src), root.join(build.data), root.join(build.templates), root.join(build.fonts)]
}

/// Wakes the check as soon as the operating system reports a change under the inputs.
pub struct Waker {
    events: std::sync::mpsc::Receiver<()>,
    /// None where no watcher could be started: the check then just polls.
    _watcher: Option<notify::RecommendedWatcher>,
}

impl Waker {
    /// Watch the inputs of the book in `root` (each input folder with everything under it, and
    /// the book's folder itself for a replaced book.toml or a new input folder).
    pub fn new(root: &Path) -> Waker {
        use notify::{RecursiveMode, Watcher};
        let (tx, events) = std::sync::mpsc::channel();
        let watcher = notify::recommended_watcher(move |_| {
            let _ = tx.send(());
        })
        .ok()
        .map(|mut watcher| {
            for input in inputs(root).iter().filter(|p| p.is_dir()) {
                let _ = watcher.watch(input, RecursiveMode::Recursive);
            }
            let _ = watcher.watch(root, RecursiveMode::NonRecursive);
            watcher
        });
        Waker { events, _watcher: watcher }
    }

    /// Wait for a file event, at most `timeout`; whether one came.
    fn wait(&self, timeout: Duration) -> bool {
        match self.events.recv_timeout(timeout) {
            Ok(()) => true,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => false,
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                std::thread::sleep(timeout);
                false
            }
        }
    }

    /// Wait until no file event has come for `quiet`.
    fn settle(&self, quiet: Duration) {
        while self.events.recv_timeout(quiet).is_ok() {}
    }
}

/// A fingerprint of every input file: path, size and modification time.
pub fn fingerprint(root: &Path) -> u64 {
    let mut entries = Vec::new();
    for input in inputs(root) {
        collect(&input, &mut entries);
    }
    entries.sort();
    let mut h = DefaultHasher::new();
    entries.hash(&mut h);
    h.finish()
}

fn collect(path: &Path, out: &mut Vec<(PathBuf, u64, u128)>) {
    let Ok(meta) = std::fs::metadata(path) else { return };
    if meta.is_dir() {
        if let Ok(dir) = std::fs::read_dir(path) {
            for entry in dir.flatten() {
                collect(&entry.path(), out);
            }
        }
    } else {
        let modified = meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos());
        out.push((path.to_path_buf(), meta.len(), modified));
    }
}

/// Wait until the fingerprint differs from `last` and the inputs hold still; return the new
/// fingerprint. Woken by a file event, "still" means no further event for [`SETTLE`]; found by
/// polling, it means the same fingerprint twice, [`SETTLE`] apart.
pub fn wait_for_change(root: &Path, last: u64, waker: &Waker) -> u64 {
    loop {
        let woke = waker.wait(POLL);
        if woke {
            waker.settle(SETTLE);
        }
        let now = fingerprint(root);
        if now == last {
            continue;
        }
        if woke {
            return now;
        }
        let mut settled = now;
        loop {
            std::thread::sleep(SETTLE);
            let again = fingerprint(root);
            if again == settled {
                return settled;
            }
            settled = again;
        }
    }
}

/// One build in `session`, reported on the terminal: the closing lines and warnings, or the
/// diagnostics. `site_made` gets the site's files once they are made in memory, before the
/// PDFs ([`Session::build_then`]); `site_written` is called once a build that changed the site
/// is written. Returns the diagnostics as text when the build failed.
pub fn build_and_report(root: &Path, session: &mut Session, site_made: &mut super::build::SiteMade, site_written: &mut dyn FnMut()) -> Option<String> {
    let color = std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("NO_COLOR").is_none();
    match session.build_then(root, site_made, site_written) {
        Ok(super::build::Built { output, .. }) => {
            if !output.warnings.is_empty() {
                eprint!("{}", diag::render(&output.warnings, color));
            }
            print!("{}", output.stdout);
            None
        }
        Err(problems) => {
            eprint!("{}", diag::render(&problems, color));
            eprintln!("the previous output is left as it was; fix the problem and save to rebuild");
            Some(diag::render(&problems, false))
        }
    }
}

/// Build, then rebuild on every change, until interrupted.
pub fn run(root: &Path) -> Result<super::Output, Vec<Diagnostic>> {
    if !root.join("book.toml").exists() {
        return Err(vec![Diagnostic::error(format!("no book.toml in `{}`", root.display())).hint("run metabook in the book's folder, or pass --book DIR")]);
    }
    let waker = Waker::new(root);
    let mut last = fingerprint(root);
    let mut session = Session::default();
    build_and_report(root, &mut session, &mut |_| (), &mut || ());
    eprintln!("watching {} for changes (Ctrl-C to stop)", inputs(root).iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "));
    loop {
        last = wait_for_change(root, last, &waker);
        build_and_report(root, &mut session, &mut |_| (), &mut || ());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_follows_the_inputs_and_nothing_else() {
        let dir = std::env::temp_dir().join(format!("metabook-watch-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("data")).unwrap();
        std::fs::write(dir.join("book.toml"), "[book]\ntitle = \"x\"\n").unwrap();
        std::fs::write(dir.join("data/a.csv"), "study,yi,vi\n").unwrap();
        let first = fingerprint(&dir);
        assert_eq!(fingerprint(&dir), first);
        // Output and unrelated files do not count.
        std::fs::create_dir_all(dir.join("book")).unwrap();
        std::fs::write(dir.join("book/out.html"), "x").unwrap();
        std::fs::write(dir.join("notes.txt"), "x").unwrap();
        assert_eq!(fingerprint(&dir), first);
        std::fs::write(dir.join("data/a.csv"), "study,yi,vi\nA,1,1\n").unwrap();
        let second = fingerprint(&dir);
        assert_ne!(second, first);
        // A font added to the fonts folder is an input too.
        std::fs::create_dir_all(dir.join("fonts")).unwrap();
        std::fs::write(dir.join("fonts/a.ttf"), "x").unwrap();
        assert_ne!(fingerprint(&dir), second);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
