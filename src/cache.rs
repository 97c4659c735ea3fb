//! The build cache: what a directive computed, kept in the build folder under a hash of
//! everything it was computed from, so that the next build runs only what an edit touched.
//!
//! A key is a 128-bit SipHash of labelled inputs: the identity of the metabook that computed
//! the result ([`identity`]: its version and its executable, so that a rebuilt metabook never
//! reads an older one's results), the kind of result, the directive's own text (its
//! parameters) and the bytes of the data it reads. Keys are content hashes, never times: an
//! edit undone is a hit again, and a file touched without change costs nothing.
//!
//! Entries are CBOR files named by their key in `<build>/.metabook/cache/`, written through a
//! temporary file and a rename. A missing, unreadable or corrupt entry is a miss and the result
//! is computed again, so the cache can be deleted at any time. What a build stores is written
//! only once the build has succeeded, and the entries it did not use are then removed
//! ([`Cache::commit`]), which keeps the folder the size of one build. A [`Cache::disabled`]
//! cache (`metabook check`) never reads or writes.

use serde::{de::DeserializeOwned, Serialize};
use siphasher::sip128::{Hasher128, SipHasher13};
use std::any::Any;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::Hasher;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The cache folder inside the build folder.
pub const FOLDER: &str = ".metabook/cache";

/// A content hash of a result's inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key(u128);

impl Key {
    fn file_name(self) -> String {
        format!("{:032x}", self.0)
    }
}

/// The hash of some bytes, for a result to remember what it read.
pub fn hash(bytes: &[u8]) -> u128 {
    KeyBuilder::new("bytes").bytes(bytes).finish().0
}

/// Builds a [`Key`] from inputs added in order; each input is length-prefixed, so `("ab", "c")`
/// and `("a", "bc")` give different keys.
pub struct KeyBuilder(SipHasher13);

impl KeyBuilder {
    /// A key of `kind` from the inputs added next, without metabook's identity: for a part of
    /// another key (which has it).
    pub fn new(kind: &str) -> KeyBuilder {
        KeyBuilder(SipHasher13::new()).bytes(kind.as_bytes())
    }

    pub fn bytes(mut self, part: &[u8]) -> KeyBuilder {
        self.0.write_u64(part.len() as u64);
        self.0.write(part);
        self
    }

    pub fn text(self, part: &str) -> KeyBuilder {
        self.bytes(part.as_bytes())
    }

    pub fn number(self, n: u128) -> KeyBuilder {
        self.bytes(&n.to_le_bytes())
    }

    pub fn key(self, key: Key) -> KeyBuilder {
        self.number(key.0)
    }

    pub fn finish(self) -> Key {
        Key(self.0.finish128().as_u128())
    }
}

/// The metabook that computes: its version and the size and time of its executable, so that a
/// metabook built from changed sources does not trust results of the previous one.
pub fn identity() -> String {
    let exe = std::env::current_exe().ok().and_then(|p| std::fs::metadata(p).ok());
    let stamp = exe.map_or((0, 0), |m| (m.len(), m.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos())));
    format!("metabook {} ({} bytes, {})", env!("CARGO_PKG_VERSION"), stamp.0, stamp.1)
}

/// Results of earlier builds, read and written as a build goes.
#[derive(Debug)]
pub struct Cache {
    /// None: disabled.
    dir: Option<PathBuf>,
    /// The book's folder, a real path (entries are read only from inside it); None when it
    /// cannot be resolved, and nothing is read.
    base: Option<PathBuf>,
    identity: String,
    used: BTreeSet<Key>,
    /// What this build stored, written by [`Cache::commit`].
    pending: BTreeMap<Key, Vec<u8>>,
    /// The entries of the process' earlier builds, decoded (see [`Memory`]).
    memory: Option<Memory>,
    /// A cache entry that could not be written (the build goes on; the next one computes again).
    pub write_error: Option<String>,
}

impl Cache {
    /// The cache of the build folder `build_dir` of the book in `book_root`, for results
    /// computed by `identity`.
    pub fn open(book_root: &Path, build_dir: &Path, identity: &str) -> Cache {
        let base = book_root.canonicalize().ok();
        Cache { dir: Some(build_dir.join(FOLDER)), base, identity: identity.to_string(), used: BTreeSet::new(), pending: BTreeMap::new(), memory: None, write_error: None }
    }

    /// Also keep what is read and stored in `memory`, and look there first: for a process that
    /// builds the book again and again.
    pub fn remembering(mut self, memory: &Memory) -> Cache {
        self.memory = Some(memory.clone());
        self
    }

    /// A cache that holds nothing and keeps nothing.
    pub fn disabled() -> Cache {
        Cache { dir: None, base: None, identity: String::new(), used: BTreeSet::new(), pending: BTreeMap::new(), memory: None, write_error: None }
    }

    /// A key for a result of `kind`, from this metabook.
    pub fn key(&self, kind: &str) -> KeyBuilder {
        KeyBuilder::new(kind).text(&self.identity)
    }

    /// The result stored under `key`, if there is a readable one.
    pub fn get<T: DeserializeOwned + Clone + Send + Sync + 'static>(&mut self, key: Key) -> Option<T> {
        self.dir.as_ref()?;
        if let Some(value) = self.memory.as_ref().and_then(|m| m.get::<T>(key)) {
            self.used.insert(key);
            return Some(value);
        }
        let path = self.dir.as_ref()?.join(key.file_name());
        let bytes = crate::output::read_own(self.base.as_ref()?, &path)?;
        let value: T = ciborium::from_reader(bytes.as_slice()).ok()?;
        self.used.insert(key);
        if let Some(m) = &self.memory {
            m.put(key, value.clone());
        }
        Some(value)
    }

    /// Keep the entry under `key`, if there is one, without reading it: a build that did not
    /// need it (its output was current) but whose next build may.
    pub fn keep(&mut self, key: Key) {
        if self.dir.is_some() {
            self.used.insert(key);
        }
    }

    /// Store `value` under `key`, once the build has succeeded ([`Cache::commit`]).
    pub fn put<T: Serialize + Clone + Send + Sync + 'static>(&mut self, key: Key, value: &T) {
        if self.dir.is_none() {
            return;
        }
        let mut bytes = Vec::new();
        ciborium::into_writer(value, &mut bytes).expect("cached results are plain data");
        // Held until the build has succeeded, while the PDF is typeset: no spare room.
        bytes.shrink_to_fit();
        self.pending.insert(key, bytes);
        self.used.insert(key);
        if let Some(m) = &self.memory {
            m.put(key, value.clone());
        }
    }

    /// What `make` gives, kept in memory only (the [`Memory`] of a process that builds again
    /// and again, else made each time) under `key`, which must stand for everything it follows
    /// from.
    pub fn memo<T: Clone + Send + Sync + 'static>(&mut self, key: Key, make: impl FnOnce() -> T) -> T {
        let Some(memory) = &self.memory else { return make() };
        self.used.insert(key);
        if let Some(value) = memory.get::<T>(key) {
            return value;
        }
        let value = make();
        memory.put(key, value.clone());
        value
    }

    /// After a successful build: write what it stored, and remove the entries it did not use
    /// (only files named as entries are, so nothing else in the folder is touched). Nothing is
    /// written where the folder leads out of the book's folder `book_root`.
    pub fn commit(&mut self, book_root: &Path) {
        if let Some(m) = &self.memory {
            m.keep(&self.used);
        }
        let Some(dir) = &self.dir else { return };
        let written = book_root.canonicalize().and_then(|base| crate::output::folder_inside(&base, dir)).and_then(|_| {
            for (key, bytes) in std::mem::take(&mut self.pending) {
                crate::output::replace_file_unsynced(&dir.join(key.file_name()), &bytes)?;
            }
            Ok(())
        });
        if let Err(e) = written {
            self.write_error = Some(format!("cannot write the build cache in {}: {e}", dir.display()));
            return;
        }
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        let kept: BTreeSet<String> = self.used.iter().map(|k| k.file_name()).collect();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let an_entry = name.len() == 32 && name.bytes().all(|b| b.is_ascii_hexdigit());
            if an_entry && !kept.contains(&name) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// The cache's entries decoded, kept by a process that builds many times (`watch`, `serve`;
/// [`crate::cmd::build::Session`]). A rebuild after a small edit takes most of its results from
/// the cache; reading and decoding them again was a quarter of the time until the site is made
/// (12 of 52 ms for 200 analyses). Only the entries the last successful build used are kept, as
/// on disk. A clone shares the store.
#[derive(Clone, Default)]
pub struct Memory(Arc<Mutex<HashMap<Key, Arc<dyn Any + Send + Sync>>>>);

impl std::fmt::Debug for Memory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Memory({} entries)", self.0.lock().map_or(0, |m| m.len()))
    }
}

impl Memory {
    fn get<T: Clone + 'static>(&self, key: Key) -> Option<T> {
        let store = self.0.lock().unwrap_or_else(|e| e.into_inner());
        store.get(&key)?.downcast_ref::<T>().cloned()
    }

    fn put<T: Send + Sync + 'static>(&self, key: Key, value: T) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).insert(key, Arc::new(value));
    }

    fn keep(&self, used: &BTreeSet<Key>) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).retain(|k, _| used.contains(k));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_every_input_and_its_boundaries() {
        let cache = Cache::disabled();
        let k = |parts: &[&str]| parts.iter().fold(cache.key("view"), |b, p| b.text(p)).finish();
        assert_eq!(k(&["a", "b"]), k(&["a", "b"]));
        assert_ne!(k(&["a", "b"]), k(&["a", "c"]));
        assert_ne!(k(&["ab", "c"]), k(&["a", "bc"]));
        assert_ne!(cache.key("view").finish(), cache.key("analysis").finish());
        assert_ne!(Cache::open(Path::new("x"), Path::new("x"), "metabook 1").key("view").finish(), Cache::open(Path::new("x"), Path::new("x"), "metabook 2").key("view").finish());
    }

    #[test]
    fn a_corrupt_or_missing_entry_is_a_miss_and_unused_entries_are_pruned() {
        let dir = std::env::temp_dir().join(format!("metabook-cache-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut cache = Cache::open(&dir, &dir, "test");
        let (a, b) = (cache.key("x").text("a").finish(), cache.key("x").text("b").finish());
        assert_eq!(cache.get::<Vec<f64>>(a), None);
        cache.put(a, &vec![0.1_f64, f64::NAN.copysign(1.0), -0.0, 1e-300]);
        cache.put(b, &"b".to_string());
        assert!(!dir.join(FOLDER).exists(), "nothing is written before the build has succeeded");
        std::fs::create_dir_all(&dir).unwrap();
        cache.commit(&dir);
        let mut next = Cache::open(&dir, &dir, "test");
        let back: Vec<f64> = next.get(a).unwrap();
        assert_eq!(back[0].to_bits(), 0.1_f64.to_bits());
        assert!(back[1].is_nan());
        assert_eq!(back[2].to_bits(), (-0.0_f64).to_bits());
        assert_eq!(back[3], 1e-300);
        // The wrong type, or damaged bytes, read as nothing.
        assert_eq!(next.get::<u8>(b), None);
        std::fs::write(dir.join(FOLDER).join(b.file_name()), b"\xff\x00garbage").unwrap();
        assert_eq!(next.get::<String>(b), None);
        std::fs::write(dir.join(FOLDER).join("notes.txt"), "mine").unwrap();
        next.commit(&dir);
        assert!(dir.join(FOLDER).join("notes.txt").exists(), "only entries are pruned");
        assert!(dir.join(FOLDER).join(a.file_name()).exists());
        assert!(!dir.join(FOLDER).join(b.file_name()).exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_process_memory_serves_decoded_entries_and_keeps_only_those_in_use() {
        let dir = std::env::temp_dir().join(format!("metabook-cache-memory-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let memory = Memory::default();
        let mut first = Cache::open(&dir, &dir, "test").remembering(&memory);
        let (a, b) = (first.key("x").text("a").finish(), first.key("x").text("b").finish());
        first.put(a, &"a".to_string());
        first.put(b, &vec![1.5_f64]);
        let mut made = 0;
        let v: f64 = first.memo(first.key("memo").finish(), || {
            made += 1;
            2.5
        });
        assert_eq!(v, 2.5);
        first.commit(&dir);
        // The next build of the process reads from memory, not from the disk (damaged here).
        std::fs::write(dir.join(FOLDER).join(a.file_name()), b"\xff").unwrap();
        let mut second = Cache::open(&dir, &dir, "test").remembering(&memory);
        assert_eq!(second.get::<String>(a).as_deref(), Some("a"));
        assert_eq!(second.get::<u8>(a), None, "the wrong type is still a miss");
        let memo = second.key("memo").finish();
        assert_eq!(second.memo(memo, || -> f64 { unreachable!("made once") }), 2.5);
        assert_eq!(made, 1);
        // Without the memory the damaged entry is a miss; b is not used by this build.
        assert_eq!(Cache::open(&dir, &dir, "test").get::<String>(a), None);
        second.commit(&dir);
        let mut third = Cache::open(&dir, &dir, "test").remembering(&memory);
        std::fs::remove_dir_all(dir.join(FOLDER)).unwrap();
        assert_eq!(third.get::<String>(a).as_deref(), Some("a"));
        assert_eq!(third.get::<Vec<f64>>(b), None, "an entry the last build did not use is dropped from memory too");
        // A disabled cache neither reads nor remembers.
        let mut off = Cache::disabled().remembering(&memory);
        assert_eq!(off.get::<String>(a), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
