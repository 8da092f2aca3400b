//! The per-run filesystem cache ([`enable_run_cache`]): one record per directory, its listing,
//! canonical form, git root and nearest config file.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use super::exists_nofollow_by;

/// The per-run filesystem cache of the `sandlint` process ([`enable_run_cache`]): the working
/// directory and one compact record per directory: its listing (what `lstat` of a name in it
/// would say), its canonical form and the git root above it. Without it (library use, tests
/// that change files between calls) every question is a system call.
///
/// One table for the three answers, keyed by the directory's bytes (hashed in one pass by
/// foldhash, seeded per process): the corpus copied 16 times holds 104k directories, and four
/// maps of `PathBuf`s (with `Path`'s component-wise hashing) were most of its memory and an
/// eighth of its instructions.
pub(super) struct RunCache {
    pub(super) cwd: Option<PathBuf>,
    /// Boxed: the table's slack (up to twice its entries, three times while it grows) is then
    /// 24 bytes a slot.
    dirs: RwLock<HashMap<Box<[u8]>, Box<Dir>, foldhash::fast::RandomState>>,
    /// The folded forms of the parts of paths through their last `..` ([`RunCache::key`]): a
    /// scan of `../repo` asks for one head, `/cwd/..`, for nearly every path. `None`: a `..`
    /// of it cannot be folded. At most [`HEADS_MAX`].
    heads: Mutex<Vec<Head>>,
}

/// A head's bytes and its folded form ([`RunCache::heads`]).
type Head = (Box<[u8]>, Option<PathBuf>);

/// Heads [`RunCache::key`] remembers; the paths of a hostile tree can spell any number of
/// them, and past this many each is folded again.
const HEADS_MAX: usize = 64;

/// What the run learned of one directory (`None`: not asked yet).
#[derive(Default)]
struct Dir {
    listing: Option<Listing>,
    canonical: Option<Canon>,
    /// Shared with the directories below it (one allocation per work tree).
    git_root: Option<Option<Arc<Path>>>,
    /// The nearest config file at or above it ([`recall_nearest_config`]).
    nearest_config: Option<Option<Arc<Path>>>,
}

/// What [`record_nearest_config`] recorded for `dir` (the config lookup's own walk up the
/// tree, kept with the directory's other records instead of in a second table keyed by every
/// directory again). `None`: not recorded, or no run cache.
pub fn recall_nearest_config(dir: &Path) -> Option<Option<Arc<Path>>> {
    RUN_CACHE.get()?.known(dir, |d| d.nearest_config.clone())
}

/// Records the nearest config file of `dir` for the run; `false` without a run cache.
pub fn record_nearest_config(dir: &Path, config: Option<Arc<Path>>) -> bool {
    match RUN_CACHE.get() {
        Some(cache) => {
            cache.learn(dir, |d| d.nearest_config = Some(config));
            true
        }
        None => false,
    }
}

/// A directory's canonical form: nearly always its own spelling.
enum Canon {
    Same,
    Other(Box<Path>),
}

/// One directory as read once: the type of each entry (not following symbolic links), or the
/// directory does not exist (then neither does anything in it), or it could not be listed (or
/// was too large to keep): then the system is asked.
enum Listing {
    Unreadable,
    Missing,
    Names(Names),
}

/// A directory's entries, sorted by name: the names end to end in one buffer, and for each the
/// end of its name there and its type (8 bytes and the name per entry).
pub(super) struct Names {
    text: Box<[u8]>,
    ends: Box<[(u32, std::fs::FileType)]>,
}

impl Names {
    fn new(mut entries: Vec<(OsString, std::fs::FileType)>) -> Names {
        entries.sort_unstable_by(|a, b| a.0.as_encoded_bytes().cmp(b.0.as_encoded_bytes()));
        let mut text = Vec::with_capacity(entries.iter().map(|(n, _)| n.len()).sum());
        let mut ends = Vec::with_capacity(entries.len());
        for (name, t) in entries {
            text.extend_from_slice(name.as_encoded_bytes());
            // At most LISTING_MAX names of at most a few KiB each: far below u32::MAX.
            ends.push((u32::try_from(text.len()).unwrap_or(u32::MAX), t));
        }
        Names {
            text: text.into_boxed_slice(),
            ends: ends.into_boxed_slice(),
        }
    }

    fn name(&self, i: usize) -> &[u8] {
        let start = i.checked_sub(1).map_or(0, |p| self.ends[p].0 as usize);
        self.text
            .get(start..self.ends[i].0 as usize)
            .unwrap_or_default()
    }

    fn get(&self, name: &[u8]) -> Option<std::fs::FileType> {
        let (mut lo, mut hi) = (0, self.ends.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.name(mid).cmp(name) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(self.ends[mid].1),
            }
        }
        None
    }
}

/// What is shown each entry of a listing: its name and type (a symbolic link not followed).
pub type Entries<'a> = dyn FnMut(&std::ffi::OsStr, std::fs::FileType) + 'a;

/// Lists `dir` through the system: its names when they fit a listing the cache keeps (at most
/// [`LISTING_MAX`]), else `None`. With `f`, every entry is shown to it; without, the listing
/// stops at the cap. An entry whose type cannot be read is left out, so every question about
/// the directory gets the same answer.
pub(super) fn list(dir: &Path, mut f: Option<&mut Entries<'_>>) -> std::io::Result<Option<Names>> {
    let mut names = Vec::new();
    let mut kept = true;
    for e in std::fs::read_dir(dir)?.flatten() {
        let Ok(t) = e.file_type() else { continue };
        if kept && names.len() == LISTING_MAX {
            kept = false;
            names = Vec::new();
            if f.is_none() {
                break;
            }
        }
        let name = e.file_name();
        if let Some(f) = f.as_mut() {
            f(&name, t);
        }
        if kept {
            names.push((name, t));
        }
    }
    Ok(kept.then(|| Names::new(names)))
}

impl Listing {
    fn probe(&self, name: &std::ffi::OsStr) -> Probe {
        match self {
            Listing::Unreadable => Probe::Unknown,
            Listing::Missing => Probe::Missing,
            Listing::Names(names) => names
                .get(name.as_encoded_bytes())
                .map_or(Probe::Missing, Probe::Is),
        }
    }
}

pub(super) static RUN_CACHE: OnceLock<RunCache> = OnceLock::new();

/// Entries kept of one directory listing: a larger directory is answered by system calls, so
/// the cache stays bounded however many files a scanned tree puts in one directory.
pub(super) const LISTING_MAX: usize = 10_000;

/// Remembers, for the rest of the process, what the filesystem looked like when first asked
/// (one `getdents` per directory instead of a `stat` per probed name, one `lstat` per directory
/// instead of a `readlink` per path component). For a process that lints a tree once (the
/// `sandlint` binary); call it before the first read.
pub fn enable_run_cache() {
    let _ = RUN_CACHE.set(RunCache::new(std::env::current_dir().ok()));
}

/// What `lstat` says about a path, from the directory listing when it can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    Missing,
    /// The entry's type (a symbolic link is not followed).
    Is(std::fs::FileType),
    /// The listing cannot tell (no cache, or the directory cannot be listed): ask the system.
    Unknown,
}

/// `path` is absolute and already in the form [`RunCache::key`] gives: no empty, `.` or `..`
/// component and no trailing `/` (then the key is the path itself, with no allocation).
pub(super) fn is_plain_absolute(path: &Path) -> bool {
    match path.as_os_str().as_encoded_bytes() {
        [b'/'] => true,
        [b'/', rest @ ..] => rest
            .split(|&b| b == b'/')
            .all(|c| !matches!(c, b"" | b"." | b"..")),
        _ => false,
    }
}

/// `path` split into its directory and last name when the name is plain (not empty, `.` or
/// `..`): `a/b` → (`a`, `b`), `/b` → (`/`, `b`), `b` → (`.`, `b`). By bytes, no component walk.
#[cfg(unix)]
fn split_plain(path: &Path) -> Option<(&Path, &std::ffi::OsStr)> {
    use std::os::unix::ffi::OsStrExt;
    let b = path.as_os_str().as_bytes();
    let (parent, name) = match b.iter().rposition(|&c| c == b'/') {
        Some(0) => (&b[..1], &b[1..]),
        Some(i) => (&b[..i], &b[i + 1..]),
        None => (&b"."[..], b),
    };
    if matches!(name, b"" | b"." | b"..") {
        return None;
    }
    Some((
        Path::new(std::ffi::OsStr::from_bytes(parent)),
        std::ffi::OsStr::from_bytes(name),
    ))
}

#[cfg(not(unix))]
fn split_plain(path: &Path) -> Option<(&Path, &std::ffi::OsStr)> {
    let plain = matches!(
        path.components().next_back(),
        Some(std::path::Component::Normal(_))
    );
    match (plain, path.parent(), path.file_name()) {
        (true, Some(parent), Some(name)) if parent.as_os_str().is_empty() => {
            Some((Path::new("."), name))
        }
        (true, Some(parent), Some(name)) => Some((parent, name)),
        _ => None,
    }
}

impl RunCache {
    pub(super) fn new(cwd: Option<PathBuf>) -> RunCache {
        RunCache {
            cwd,
            dirs: RwLock::default(),
            heads: Mutex::default(),
        }
    }

    /// `f` of what is known of `dir` (`None` when nothing is, or `f` says nothing).
    fn known<R>(&self, dir: &Path, f: impl FnOnce(&Dir) -> Option<R>) -> Option<R> {
        let dirs = self.dirs.read().ok()?;
        dirs.get(dir.as_os_str().as_encoded_bytes())
            .and_then(|d| f(d))
    }

    /// Records something learned of `dir`.
    fn learn(&self, dir: &Path, f: impl FnOnce(&mut Dir)) {
        if let Ok(mut dirs) = self.dirs.write() {
            f(dirs
                .entry(dir.as_os_str().as_encoded_bytes().into())
                .or_default()
                .as_mut());
        }
    }

    /// One spelling per directory: absolute, and `x/..` folded where `x` is not a symbolic
    /// link (there the kernel goes to `x`'s parent too); else the absolute path as written.
    /// Asked for nearly every probe of a scan named with `..` (`sandlint check ../repo`): the
    /// part of a path through its last `..` is folded once per run ([`RunCache::heads`]), and
    /// the names after it are appended.
    pub(super) fn key<'p>(&self, dir: &'p Path) -> std::borrow::Cow<'p, Path> {
        if is_plain_absolute(dir) {
            return std::borrow::Cow::Borrowed(dir);
        }
        let abs = match &self.cwd {
            Some(cwd) if dir.is_relative() => cwd.join(dir),
            _ => dir.to_path_buf(),
        };
        #[cfg(unix)]
        if let Some(key) = self.key_by_head(&abs) {
            return std::borrow::Cow::Owned(key.unwrap_or(abs));
        }
        std::borrow::Cow::Owned(self.fold(&abs).unwrap_or(abs))
    }

    /// [`RunCache::key`] of the absolute `abs` from the folded form of its part through the last
    /// `..`, remembered. `None`: not an absolute path; `Some(None)`: a `..` cannot be folded.
    #[cfg(unix)]
    fn key_by_head(&self, abs: &Path) -> Option<Option<PathBuf>> {
        use std::os::unix::ffi::{OsStrExt, OsStringExt};
        let b = abs.as_os_str().as_bytes();
        if b.first() != Some(&b'/') {
            return None;
        }
        // the end of the last `..` segment (0: none)
        let mut head_end = 0;
        let mut end = b.len();
        for seg in b.rsplit(|&c| c == b'/') {
            if seg == b".." {
                head_end = end;
                break;
            }
            end = end.saturating_sub(seg.len() + 1);
        }
        let (head, tail) = b.split_at(head_end);
        let mut out = Vec::with_capacity(b.len());
        if head.is_empty() {
            out.push(b'/');
        } else if !self.push_folded_head(head, &mut out) {
            return Some(None);
        }
        // the names after it, as `PathBuf::push` appends them
        for seg in tail.split(|&c| c == b'/') {
            if !matches!(seg, b"" | b".") {
                if out.last() != Some(&b'/') {
                    out.push(b'/');
                }
                out.extend_from_slice(seg);
            }
        }
        Some(Some(PathBuf::from(std::ffi::OsString::from_vec(out))))
    }

    /// Appends [`RunCache::fold`] of the head `head` (an absolute path ending in `..`) to `out`,
    /// remembered; `false`: it cannot be folded.
    #[cfg(unix)]
    fn push_folded_head(&self, head: &[u8], out: &mut Vec<u8>) -> bool {
        use std::os::unix::ffi::OsStrExt;
        let mut push = |folded: &Option<PathBuf>| match folded {
            Some(f) => {
                out.extend_from_slice(f.as_os_str().as_bytes());
                true
            }
            None => false,
        };
        if let Ok(heads) = self.heads.lock()
            && let Some((_, folded)) = heads.iter().find(|(k, _)| **k == *head)
        {
            return push(folded);
        }
        let folded = self.fold(Path::new(std::ffi::OsStr::from_bytes(head)));
        let pushed = push(&folded);
        if let Ok(mut heads) = self.heads.lock()
            && heads.len() < HEADS_MAX
        {
            heads.push((head.into(), folded));
        }
        pushed
    }

    /// `abs` with every `x/..` folded where `x` is a directory (not a symbolic link), by one
    /// probe per `..`. `None`: one cannot be folded.
    fn fold(&self, abs: &Path) -> Option<PathBuf> {
        let mut out = PathBuf::new();
        for c in abs.components() {
            match c {
                std::path::Component::ParentDir => match self.probe(&out) {
                    Probe::Is(t) if t.is_dir() => {
                        out.pop();
                    }
                    _ => return None,
                },
                std::path::Component::CurDir => {}
                c => out.push(c),
            }
        }
        Some(out)
    }

    /// Lists `dir` (a key): once per run. `None`: its parent's listing says it does not exist
    /// (or is not a directory), which that listing keeps answering; nothing is recorded for it
    /// (every directory's `.git/info` would be, most of them missing).
    fn read_listing(&self, dir: &Path) -> Option<Listing> {
        // A directory whose parent's listing lacks it does not exist: no `opendir` to tell.
        let parent_says = match (dir.parent(), dir.file_name()) {
            (Some(parent), Some(name)) if !parent.as_os_str().is_empty() => {
                self.probe_in(parent, name)
            }
            _ => Probe::Unknown,
        };
        Some(match parent_says {
            Probe::Missing => return None,
            Probe::Is(t) if !t.is_dir() && !t.is_symlink() => Listing::Unreadable,
            _ => match list(dir, None) {
                Ok(Some(names)) => Listing::Names(names),
                // A huge (hostile) directory is not kept: ask the system instead.
                Ok(None) => Listing::Unreadable,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Listing::Missing,
                Err(_) => Listing::Unreadable,
            },
        })
    }

    /// [`for_each_entry`] through the cache: the recorded listing of `dir`, or the system's,
    /// recorded now. `None`: the cache cannot tell (a directory too large to keep): ask the
    /// system.
    #[cfg(unix)]
    pub(super) fn for_each_entry(
        &self,
        dir: &Path,
        f: &mut Entries<'_>,
    ) -> Option<std::io::Result<()>> {
        use std::os::unix::ffi::OsStrExt;
        let key = self.key(dir);
        {
            let dirs = self.dirs.read().ok()?;
            match dirs
                .get(key.as_os_str().as_encoded_bytes())
                .and_then(|d| d.listing.as_ref())
            {
                Some(Listing::Names(names)) => {
                    for (i, (_, t)) in names.ends.iter().enumerate() {
                        f(std::ffi::OsStr::from_bytes(names.name(i)), *t);
                    }
                    return Some(Ok(()));
                }
                Some(Listing::Missing) => return Some(Err(std::io::ErrorKind::NotFound.into())),
                Some(Listing::Unreadable) => return None,
                None => {}
            }
        }
        let listing = match list(&key, Some(f)) {
            Ok(Some(names)) => Listing::Names(names),
            Ok(None) => Listing::Unreadable,
            Err(e) => {
                let listing = if e.kind() == std::io::ErrorKind::NotFound {
                    Listing::Missing
                } else {
                    Listing::Unreadable
                };
                self.learn(&key, |d| d.listing = Some(listing));
                return Some(Err(e));
            }
        };
        self.learn(&key, |d| d.listing = Some(listing));
        Some(Ok(()))
    }

    fn probe_in(&self, dir: &Path, name: &std::ffi::OsStr) -> Probe {
        let key = self.key(dir);
        if let Some(hit) = self.known(&key, |d| d.listing.as_ref().map(|l| l.probe(name))) {
            return hit;
        }
        let Some(listing) = self.read_listing(&key) else {
            return Probe::Missing;
        };
        let answer = listing.probe(name);
        self.learn(&key, |d| d.listing = Some(listing));
        answer
    }

    pub(super) fn probe(&self, path: &Path) -> Probe {
        // Only a plain `dir/name` (no trailing `/`, `.` or `..`) is looked up in a listing.
        match split_plain(path) {
            Some((parent, name)) => self.probe_in(parent, name),
            None => Probe::Unknown,
        }
    }

    pub(super) fn exists_nofollow(&self, path: &Path) -> bool {
        exists_nofollow_by(self.probe(path), path)
    }

    pub(super) fn git_root(&self, dir: &Path) -> Option<Arc<Path>> {
        if let Some(hit) = self.known(dir, |d| d.git_root.clone()) {
            return hit;
        }
        let root = match dir.parent() {
            _ if self.exists_nofollow(&dir.join(".git")) => Some(Arc::from(dir)),
            Some(parent) => self.git_root(parent),
            None => None,
        };
        self.learn(dir, |d| d.git_root = Some(root.clone()));
        root
    }

    pub(super) fn canonical_dir(&self, dir: &Path) -> std::io::Result<PathBuf> {
        let hit = self.known(dir, |d| match &d.canonical {
            Some(Canon::Same) => Some(dir.to_path_buf()),
            Some(Canon::Other(canon)) => Some(canon.to_path_buf()),
            None => None,
        });
        if let Some(hit) = hit {
            return Ok(hit);
        }
        let canon = match (dir.parent(), dir.file_name()) {
            (Some(parent), Some(name)) => {
                let t = match self.probe(dir) {
                    Probe::Missing => return Err(std::io::ErrorKind::NotFound.into()),
                    Probe::Is(t) => t,
                    Probe::Unknown => std::fs::symlink_metadata(dir)?.file_type(),
                };
                if t.is_dir() {
                    self.canonical_dir(parent)?.join(name)
                } else {
                    std::fs::canonicalize(dir)?
                }
            }
            _ => std::fs::canonicalize(dir)?,
        };
        let record = if canon == dir {
            Canon::Same
        } else {
            Canon::Other(canon.clone().into_boxed_path())
        };
        self.learn(dir, |d| d.canonical = Some(record));
        Ok(canon)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test")]
    use super::*;

    /// [`RunCache::key`] (the head through the last `..` folded once) against folding the whole
    /// path, over paths of up to four segments (names of a directory, a file, a symbolic link to
    /// a directory, a missing name, `.`, `..`, empty), relative to a working directory in a
    /// real tree and absolute, asked twice (the second time from the remembered heads).
    #[cfg(unix)]
    #[test]
    fn key_by_head_agrees_with_folding_the_whole_path() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("d/e")).unwrap();
        std::fs::write(root.join("d/f"), "").unwrap();
        std::os::unix::fs::symlink(root.join("d/e"), root.join("d/l")).unwrap();
        let cwd = root.join("d/e");
        let cache = RunCache::new(Some(cwd.clone()));
        let paths = crate::testing::joined_paths(&["d", "e", "f", "l", "m", "", ".", ".."], 4);
        let root_s = root.to_str().unwrap();
        let all: Vec<String> = (paths.iter().filter(|p| !p.is_empty()).cloned())
            .chain(paths.iter().map(|p| format!("{root_s}/{p}")))
            .collect();
        for round in 0..2 {
            for p in &all {
                let path = Path::new(p);
                let abs = if path.is_relative() {
                    cwd.join(path)
                } else {
                    path.to_path_buf()
                };
                let whole = cache.fold(&abs).unwrap_or_else(|| abs.clone());
                // as bytes: `Path`'s equality skips `.` components
                let key = cache.key(path).as_os_str().to_os_string();
                assert_eq!(key, whole.into_os_string(), "{p} (round {round})");
            }
        }
        assert!(cache.heads.lock().unwrap().len() <= HEADS_MAX);
    }
}
