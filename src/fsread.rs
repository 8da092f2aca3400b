//! The one way sandlint reads a file, and the project boundary it reads within.
//!
//! [`read`] is used for every file sandlint opens (paths on the command line, discovered files,
//! override/`include`/`extends`/`env_file`/`.env` files, `.dockerignore`, `.gitignore`, config,
//! baseline, the sandbox's Compose and context files):
//!
//! 1. the path is checked against the [`Boundary`] (lexically, then after resolving symbolic
//!    links) before anything is opened, so nothing outside the project is ever read;
//! 2. it is `stat`ed and must be a regular file: FIFOs, devices, sockets and directories are
//!    refused without being opened (opening some devices has side effects; a FIFO blocks);
//! 3. it is opened with `O_NONBLOCK` (a FIFO swapped in after the check cannot block) and
//!    `O_NOFOLLOW`, `fstat`ed again, and at most [`MAX_FILE_BYTES`]` + 1` bytes are read, so a
//!    file that claims to be small (`/proc` files say 0) cannot grow memory;
//! 4. it is decoded once: invalid UTF-8 is replaced, and the offset of the first invalid byte is
//!    kept so that the caller reports it (`SLE007 unreadable-file`) instead of hiding it.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use crate::source::{SourceFile, display_path, normalize};

mod cache;
use cache::RUN_CACHE;
#[cfg(test)]
use cache::{LISTING_MAX, RunCache};
pub use cache::{Probe, enable_run_cache, recall_nearest_config, record_nearest_config};

/// Largest file sandlint reads (Dockerfiles and Compose files are small; this bounds memory).
/// Standard input has the same cap.
pub const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// Why a file was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    NotFound,
    /// The path leaves the project boundary: `symlink` when only resolving a symbolic link
    /// shows it (the path as written is inside). Nothing was opened.
    Outside {
        symlink: bool,
    },
    /// Not a regular file; what it is (`a FIFO (named pipe)`, `a character device`, ...).
    NotRegular(&'static str),
    /// Larger than [`MAX_FILE_BYTES`].
    TooLarge,
    /// Any other I/O error (already a short lowercase message).
    Io(String),
}

impl ReadError {
    /// What is wrong, as the end of a sentence about the file: `is a FIFO (named pipe), not a
    /// regular file`. Never contains any of the file's content.
    pub fn describe(&self) -> String {
        match self {
            ReadError::NotFound => "does not exist".to_string(),
            ReadError::Outside { symlink: false } => "is outside the project".to_string(),
            ReadError::Outside { symlink: true } => {
                "is a symbolic link to a file outside the project".to_string()
            }
            ReadError::NotRegular(what) => format!("is {what}, not a regular file"),
            ReadError::TooLarge => format!("is larger than {} MiB", MAX_FILE_BYTES / (1024 * 1024)),
            ReadError::Io(m) => format!("cannot be read: {m}"),
        }
    }

    pub fn is_outside(&self) -> bool {
        matches!(self, ReadError::Outside { .. })
    }
}

/// A decoded file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    /// The text; invalid UTF-8 sequences are replaced by U+FFFD.
    pub text: String,
    /// Byte offset (in `text`, which equals the offset in the file) and value of the first
    /// invalid byte, if any.
    pub invalid_utf8: Option<(usize, u8)>,
}

/// Decodes bytes once, keeping where the first invalid byte was.
pub fn decode(bytes: Vec<u8>) -> Text {
    match String::from_utf8(bytes) {
        Ok(text) => Text {
            text,
            invalid_utf8: None,
        },
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let byte = e.as_bytes().get(at).copied().unwrap_or(0);
            Text {
                text: String::from_utf8_lossy(e.as_bytes()).into_owned(),
                invalid_utf8: Some((at, byte)),
            }
        }
    }
}

/// Reads at most `cap` bytes from `r`; more is [`ReadError::TooLarge`].
pub fn read_capped(r: &mut dyn Read, cap: u64) -> Result<Vec<u8>, ReadError> {
    read_capped_sized(r, cap, 0)
}

/// [`read_capped`] into a buffer made for `size` bytes (what `fstat` said: one `read` for the
/// content and one to see the end, when it is right).
fn read_capped_sized(r: &mut dyn Read, cap: u64, size: u64) -> Result<Vec<u8>, ReadError> {
    let hint = usize::try_from(size.min(cap).saturating_add(1)).unwrap_or(0);
    let mut bytes = Vec::with_capacity(if size == 0 { 0 } else { hint });
    r.take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| ReadError::Io(crate::source::io_message(&e)))?;
    if bytes.len() as u64 > cap {
        return Err(ReadError::TooLarge);
    }
    Ok(bytes)
}

/// Standard input, with the same cap as files.
pub fn read_stdin(r: &mut dyn Read) -> Result<Text, ReadError> {
    read_capped(r, MAX_FILE_BYTES).map(decode)
}

/// Reads the regular file `path` if it is inside `boundary` (`None`: the caller vouches for the
/// path, e.g. the user named it; it must still be a regular file within the size cap).
pub fn read(path: &Path, boundary: Option<&Boundary>) -> Result<Text, ReadError> {
    let (target, known) = match boundary {
        Some(b) => b.resolve_typed(path)?,
        None => match probe(path) {
            Probe::Missing => return Err(ReadError::NotFound),
            Probe::Is(t) if !t.is_symlink() => (path.to_path_buf(), Some(t)),
            _ => (path.to_path_buf(), None),
        },
    };
    // The type is known before opening: from the directory listing or `lstat` of a path that is
    // not a symbolic link, else from `stat`.
    match known {
        Some(t) => check_file_type(t)?,
        None => {
            let meta = std::fs::metadata(&target).map_err(|e| io_error(&e))?;
            check_type(&meta)?;
            if meta.len() > MAX_FILE_BYTES {
                return Err(ReadError::TooLarge);
            }
        }
    }
    let mut file = open(&target, boundary.is_some())?;
    let meta = file.metadata().map_err(|e| io_error(&e))?;
    check_type(&meta)?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(ReadError::TooLarge);
    }
    if let Some(text) = overlaid(&target) {
        return Ok(text);
    }
    read_capped_sized(&mut file, MAX_FILE_BYTES, meta.len()).map(decode)
}

/// Texts that stand in for files (`check --diff`: the text a round of fixes would write, so that
/// the next round is planned on it without writing). Keyed by the file's canonical path (links
/// and `..` resolved), so that every spelling of a path to the file reads the same text, while
/// two hard links stay two files, as `--fix` (which writes by renaming) leaves them. The file
/// must still be a regular file inside the boundary, as for any read. Empty except in
/// `--diff`.
static OVERLAY: RwLock<Option<HashMap<PathBuf, Arc<Text>>>> = RwLock::new(None);

fn overlaid(target: &Path) -> Option<Text> {
    let overlay = OVERLAY.read().ok()?;
    let overlay = overlay.as_ref()?;
    let text = overlay.get(&std::fs::canonicalize(target).ok()?)?;
    Some(Text::clone(text))
}

/// Makes later [`read`]s of the regular file `path` (not a symbolic link) return `text`
/// instead of its contents, until [`clear_overlay`]. Refused (false) for a path that is not a
/// regular file and for text past [`MAX_FILE_BYTES`].
pub fn overlay(path: &Path, text: String) -> bool {
    let regular = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file());
    let Some(key) = regular.then(|| std::fs::canonicalize(path).ok()).flatten() else {
        return false;
    };
    if text.len() as u64 > MAX_FILE_BYTES {
        return false;
    }
    let Ok(mut overlay) = OVERLAY.write() else {
        return false;
    };
    let text = Arc::new(Text {
        text,
        invalid_utf8: None,
    });
    overlay.get_or_insert_with(HashMap::new).insert(key, text);
    true
}

/// Ends [`overlay`]: every file reads as it is again.
pub fn clear_overlay() {
    if let Ok(mut overlay) = OVERLAY.write() {
        *overlay = None;
    }
}

fn io_error(e: &std::io::Error) -> ReadError {
    if e.kind() == std::io::ErrorKind::NotFound {
        ReadError::NotFound
    } else {
        ReadError::Io(crate::source::io_message(e))
    }
}

fn check_type(meta: &std::fs::Metadata) -> Result<(), ReadError> {
    check_file_type(meta.file_type())
}

fn check_file_type(t: std::fs::FileType) -> Result<(), ReadError> {
    if t.is_file() {
        return Ok(());
    }
    if t.is_dir() {
        return Err(ReadError::NotRegular("a directory"));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return Err(ReadError::NotRegular("a FIFO (named pipe)"));
        }
        if t.is_char_device() {
            return Err(ReadError::NotRegular("a character device"));
        }
        if t.is_block_device() {
            return Err(ReadError::NotRegular("a block device"));
        }
        if t.is_socket() {
            return Err(ReadError::NotRegular("a socket"));
        }
    }
    Err(ReadError::NotRegular("not a file"))
}

/// Opens without blocking (a FIFO swapped in after the `stat` returns at once) and, for a path
/// already resolved inside the boundary, without following a symbolic link swapped in since.
fn open(path: &Path, nofollow: bool) -> Result<std::fs::File, ReadError> {
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let mut flags = libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_NOCTTY;
        if nofollow {
            flags |= libc::O_NOFOLLOW;
        }
        opts.custom_flags(flags);
    }
    #[cfg(not(unix))]
    let _ = nofollow;
    opts.open(path).map_err(|e| io_error(&e))
}

/// `path` made absolute (against the working directory) and normalized, without touching the
/// filesystem.
pub fn absolute(path: &Path) -> PathBuf {
    absolute_from(RUN_CACHE.get().and_then(|c| c.cwd.as_deref()), path)
}

/// [`absolute`] against the working directory `cwd` when known. On Unix it is [`normalize`]
/// of the path (joined to `cwd` when relative) by bytes: `std::path::absolute` only drops what
/// `normalize` drops too (`.`, repeated and trailing `/`), and walks the components to do it.
fn absolute_from(cwd: Option<&Path>, path: &Path) -> PathBuf {
    #[cfg(unix)]
    if !path.as_os_str().is_empty() {
        if cache::is_plain_absolute(path) {
            return path.to_path_buf();
        }
        if path.is_absolute() {
            return normalize(path);
        }
        if let Some(cwd) = cwd {
            return normalize(&cwd.join(path));
        }
    }
    normalize(&absolute_std(path).unwrap_or_else(|_| path.to_path_buf()))
}

/// The git work tree holding `dir` (the nearest ancestor with a `.git` directory or file).
pub fn git_root(dir: &Path) -> Option<PathBuf> {
    // Asked for every walked directory and every read: remembered per directory for the run.
    match RUN_CACHE.get() {
        Some(cache) => cache.git_root(dir).map(|root| root.to_path_buf()),
        None => match dir.parent() {
            _ if exists_nofollow(&dir.join(".git")) => Some(dir.to_path_buf()),
            Some(parent) => git_root(parent),
            None => None,
        },
    }
}

/// `std::fs::canonicalize(abs)` for an absolute, normalized path, and the type of what it names
/// when that is not a symbolic link: a file that is not itself a symbolic link resolves to its
/// directory's canonical form joined with its name (one `lstat`, or a look in the directory
/// listing, instead of a `readlink` per component).
fn canonicalize_cached(abs: &Path) -> std::io::Result<(PathBuf, Option<std::fs::FileType>)> {
    let (Some(parent), Some(name)) = (abs.parent(), abs.file_name()) else {
        return Ok((std::fs::canonicalize(abs)?, None));
    };
    let t = match probe(abs) {
        Probe::Missing => return Err(std::io::ErrorKind::NotFound.into()),
        Probe::Is(t) => t,
        Probe::Unknown => std::fs::symlink_metadata(abs)?.file_type(),
    };
    if t.is_symlink() {
        return Ok((std::fs::canonicalize(abs)?, None));
    }
    Ok((canonical_dir(parent)?.join(name), Some(t)))
}

/// `std::fs::canonicalize(dir)` for an absolute, normalized directory; with the run cache, each
/// directory is resolved once from its parent's canonical form (symbolic links by the system).
fn canonical_dir(dir: &Path) -> std::io::Result<PathBuf> {
    match RUN_CACHE.get() {
        Some(cache) => cache.canonical_dir(dir),
        None => std::fs::canonicalize(dir),
    }
}

/// `dir` in the form the run's listings are kept by: absolute, `x/..` folded where `x` is not a
/// symbolic link (without the run cache: absolute as written). A plain name joined to it stays
/// in that form, so a walk that joins names to it is never normalized again.
pub fn listing_key(dir: &Path) -> PathBuf {
    match RUN_CACHE.get() {
        Some(cache) => cache.key(dir).into_owned(),
        None => absolute_std(dir).unwrap_or_else(|_| dir.to_path_buf()),
    }
}

/// `dir` absolute, with each `..` going where the system goes: the run's [`listing_key`], or,
/// where that keeps a `..` (after a symbolic link, or without the run cache), the canonical
/// form; folded lexically when the directory cannot be resolved. For a walk up the tree
/// (`ancestors`): a `..` kept would visit the directory it leaves (`a/../b` is not below `a`).
pub fn resolved_dir(dir: &Path) -> PathBuf {
    let key = listing_key(dir);
    if !key
        .components()
        .any(|c| c == std::path::Component::ParentDir)
    {
        return key;
    }
    canonical_dir(&key).unwrap_or_else(|_| absolute(&key))
}

/// Calls `f` with the name and type (a symbolic link not followed) of each entry of `dir`,
/// in no particular order: from the run's listing of `dir` when there is one (else the listing
/// is read now and kept, so the later probes of names in `dir` are answered from it), or from
/// the system. Entries whose type cannot be read are left out. `f` runs under the cache's lock:
/// it must not ask the filesystem anything through this module.
pub fn for_each_entry(dir: &Path, f: &mut cache::Entries<'_>) -> std::io::Result<()> {
    #[cfg(unix)]
    if let Some(cache) = RUN_CACHE.get()
        && let Some(done) = cache.for_each_entry(dir, f)
    {
        return done;
    }
    cache::list(dir, Some(f)).map(drop)
}

/// `lstat(path)`, answered from the run's directory listings when enabled.
pub fn probe(path: &Path) -> Probe {
    RUN_CACHE.get().map_or(Probe::Unknown, |c| c.probe(path))
}

/// `std::fs::symlink_metadata(path).is_ok()`, from the listings when they can tell.
pub fn exists_nofollow(path: &Path) -> bool {
    exists_nofollow_by(probe(path), path)
}

/// [`exists_nofollow`] given what the listing said of `path`.
fn exists_nofollow_by(said: Probe, path: &Path) -> bool {
    match said {
        Probe::Missing => false,
        Probe::Is(_) => true,
        Probe::Unknown => std::fs::symlink_metadata(path).is_ok(),
    }
}

/// `path.exists()` (following symbolic links), from the listings when they can tell.
pub fn exists(path: &Path) -> bool {
    match probe(path) {
        Probe::Missing => false,
        Probe::Is(t) if !t.is_symlink() => true,
        _ => path.exists(),
    }
}

/// `path.is_file()` (following symbolic links), from the listings when they can tell.
pub fn is_file(path: &Path) -> bool {
    match probe(path) {
        Probe::Missing => false,
        Probe::Is(t) if !t.is_symlink() => t.is_file(),
        _ => path.is_file(),
    }
}

/// `path.is_dir()` (following symbolic links), from the listings when they can tell.
pub fn is_dir(path: &Path) -> bool {
    match probe(path) {
        Probe::Missing => false,
        Probe::Is(t) if !t.is_symlink() => t.is_dir(),
        _ => path.is_dir(),
    }
}

/// `std::path::absolute(path)` (`..` kept), with the working directory read once per run.
pub fn absolute_std(path: &Path) -> std::io::Result<PathBuf> {
    match RUN_CACHE.get().and_then(|c| c.cwd.as_ref()) {
        Some(cwd) if !path.is_absolute() && !path.as_os_str().is_empty() => {
            std::path::absolute(cwd.join(path))
        }
        _ => std::path::absolute(path),
    }
}

/// Where a check may read: the git work tree containing the scanned path, else the scanned
/// directory (a file's own directory for a file named alone), plus the paths the invoker
/// allowed (`--allow-outside`, or `allow-outside` in a config named with `--config`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Boundary {
    /// The roots, each as written (absolute, normalized) and with symbolic links resolved.
    roots: Vec<PathBuf>,
}

impl Boundary {
    /// The boundary of a check of `scanned` (a directory or a file).
    pub fn around(scanned: &Path) -> Boundary {
        let abs = absolute(scanned);
        let start = if is_dir(&abs) {
            abs
        } else {
            abs.parent().map_or_else(|| abs.clone(), Path::to_path_buf)
        };
        let mut roots = Vec::new();
        let lexical_root = git_root(&start).unwrap_or_else(|| start.clone());
        if let Ok(canon) = canonical_dir(&start) {
            roots.push(git_root(&canon).unwrap_or(canon));
        }
        roots.push(lexical_root);
        roots.dedup();
        Boundary { roots }
    }

    /// The same boundary, also allowing `paths` (directories or files; relative paths are
    /// relative to the working directory).
    pub fn allowing<'p>(mut self, paths: impl IntoIterator<Item = &'p PathBuf>) -> Boundary {
        for p in paths {
            let abs = absolute(p);
            if let Ok(canon) = std::fs::canonicalize(&abs)
                && !self.roots.contains(&canon)
            {
                self.roots.push(canon);
            }
            if !self.roots.contains(&abs) {
                self.roots.push(abs);
            }
        }
        self
    }

    /// The main root (the git work tree or scanned directory, symbolic links resolved).
    pub fn root(&self) -> &Path {
        self.roots.first().map_or(Path::new("/"), PathBuf::as_path)
    }

    /// `abs` (absolute and normalized, as the roots are) is one of the roots or below one: on
    /// Unix by bytes, a root then nothing or a `/` (what `Path::starts_with` says of normalized
    /// paths, without walking both paths' components for every read).
    fn lexically_inside(&self, abs: &Path) -> bool {
        if cfg!(not(unix)) {
            return self.roots.iter().any(|r| abs.starts_with(r));
        }
        let inside = self.roots.iter().any(|r| {
            let (a, r) = (
                abs.as_os_str().as_encoded_bytes(),
                r.as_os_str().as_encoded_bytes(),
            );
            a.strip_prefix(r)
                .is_some_and(|rest| rest.is_empty() || rest[0] == b'/' || r.ends_with(b"/"))
        });
        debug_assert_eq!(
            inside,
            self.roots.iter().any(|r| abs.starts_with(r)),
            "{abs:?} in {:?}",
            self.roots
        );
        inside
    }

    /// Whether `path` is inside, as written (no filesystem access).
    pub fn contains_lexically(&self, path: &Path) -> bool {
        self.lexically_inside(&absolute(path))
    }

    /// The path to open for `path`: checked as written, then with symbolic links resolved.
    /// A path outside is never opened or resolved further than needed to tell.
    pub fn resolve(&self, path: &Path) -> Result<PathBuf, ReadError> {
        self.resolve_typed(path).map(|(p, _)| p)
    }

    /// [`Boundary::resolve`], with the type of the file when it is not a symbolic link.
    fn resolve_typed(
        &self,
        path: &Path,
    ) -> Result<(PathBuf, Option<std::fs::FileType>), ReadError> {
        let abs = absolute(path);
        if !self.lexically_inside(&abs) {
            return Err(ReadError::Outside { symlink: false });
        }
        let (canon, t) = canonicalize_cached(&abs).map_err(|e| io_error(&e))?;
        if !self.lexically_inside(&canon) {
            return Err(ReadError::Outside { symlink: true });
        }
        Ok((canon, t))
    }
}

/// A file read by [`read`] as a [`SourceFile`]: its text and where it was not valid UTF-8.
pub fn source_from_text(
    path: impl Into<PathBuf>,
    display: impl Into<String>,
    text: Text,
) -> SourceFile {
    SourceFile::with_invalid_utf8(path, display, text.text, text.invalid_utf8)
}

/// Reads `path` with [`read`] (within `boundary`, if given) as a [`SourceFile`].
pub fn read_source(path: &Path, boundary: Option<&Boundary>) -> Result<SourceFile, ReadError> {
    let text = read(path, boundary)?;
    Ok(source_from_text(
        path.to_path_buf(),
        display_path(path),
        text,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn tmp() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    fn write(p: &Path, b: &[u8]) {
        std::fs::write(p, b).unwrap();
    }

    /// [`absolute_from`]'s byte form against `std::path::absolute` then [`normalize`], over
    /// relative and absolute paths of up to four segments (names, `.`, `..`, empty), with a
    /// leading `//` and a trailing `/`.
    #[cfg(unix)]
    #[test]
    fn absolute_by_bytes_agrees_with_std() {
        let cwd = std::env::current_dir().unwrap();
        let all = (crate::testing::joined_paths(&["a", "b", ".", "..", ""], 4).into_iter())
            .flat_map(|p| [format!("/{p}"), format!("//{p}"), format!("/{p}/"), p]);
        for p in all.filter(|p| !p.is_empty()) {
            let path = Path::new(&p);
            let want = normalize(&std::path::absolute(path).unwrap());
            let got = absolute_from(Some(&cwd), path);
            assert_eq!(got.as_os_str(), want.as_os_str(), "{p}");
        }
    }

    #[test]
    fn an_overlay_stands_in_for_the_file_by_canonical_path() {
        let dir = tmp();
        let p = dir.path().join("Dockerfile");
        write(&p, b"FROM a\n");
        let other = dir.path().join("sub/../Dockerfile");
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        assert!(overlay(&p, "FROM b\n".to_string()));
        // every spelling of the path reads the overlay; the file is untouched
        assert_eq!(read(&other, None).unwrap().text, "FROM b\n");
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "FROM a\n");
        // a hard link is another file (as `--fix` leaves it: it writes by renaming)
        let link = dir.path().join("Dockerfile.link");
        std::fs::hard_link(&p, &link).unwrap();
        assert_eq!(read(&link, None).unwrap().text, "FROM a\n");
        // a directory or a missing path cannot be overlaid
        assert!(!overlay(dir.path(), String::new()));
        assert!(!overlay(&dir.path().join("missing"), String::new()));
        clear_overlay();
        assert_eq!(read(&p, None).unwrap().text, "FROM a\n");
    }

    #[test]
    fn reads_regular_files_inside() {
        let d = tmp();
        write(&d.path().join("a.yaml"), b"services: {}\n");
        let b = Boundary::around(d.path());
        let t = read(&d.path().join("a.yaml"), Some(&b));
        assert_eq!(
            t,
            Ok(Text {
                text: "services: {}\n".into(),
                invalid_utf8: None
            })
        );
        assert_eq!(
            read(&d.path().join("missing"), Some(&b)),
            Err(ReadError::NotFound)
        );
    }

    #[test]
    fn refuses_outside_lexically_and_through_symlinks() {
        let d = tmp();
        let out = tmp();
        write(&out.path().join("secret"), b"x");
        let proj = d.path().join("p");
        std::fs::create_dir(&proj).unwrap();
        symlink(out.path().join("secret"), proj.join("link")).unwrap();
        let b = Boundary::around(&proj);
        assert_eq!(
            read(&out.path().join("secret"), Some(&b)),
            Err(ReadError::Outside { symlink: false })
        );
        assert_eq!(
            read(
                &proj
                    .join("../p/../../")
                    .join(out.path().file_name().unwrap_or_default())
                    .join("secret"),
                Some(&b)
            ),
            Err(ReadError::Outside { symlink: false })
        );
        assert_eq!(
            read(&proj.join("link"), Some(&b)),
            Err(ReadError::Outside { symlink: true })
        );
        assert_eq!(
            read(Path::new("/etc/hostname"), Some(&b)),
            Err(ReadError::Outside { symlink: false })
        );
        // allowed by the invoker
        let b = b.allowing([&out.path().to_path_buf()]);
        assert_eq!(
            read(&proj.join("link"), Some(&b)).map(|t| t.text),
            Ok("x".into())
        );
    }

    #[test]
    fn refuses_devices_fifos_and_directories() {
        assert_eq!(
            read(Path::new("/dev/zero"), None),
            Err(ReadError::NotRegular("a character device"))
        );
        let d = tmp();
        assert_eq!(
            read(d.path(), None),
            Err(ReadError::NotRegular("a directory"))
        );
        let fifo = d.path().join("fifo");
        let ok = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok);
        assert_eq!(
            read(&fifo, Some(&Boundary::around(d.path()))),
            Err(ReadError::NotRegular("a FIFO (named pipe)"))
        );
        assert_eq!(
            ReadError::NotRegular("a FIFO (named pipe)").describe(),
            "is a FIFO (named pipe), not a regular file"
        );
    }

    #[test]
    fn caps_what_it_reads() {
        let mut zero = std::io::repeat(0);
        assert_eq!(read_capped(&mut zero, 16), Err(ReadError::TooLarge));
        let mut small: &[u8] = b"0123456789abcdef";
        assert_eq!(read_capped(&mut small, 16).map(|b| b.len()), Ok(16));
        // /proc files say they are empty; the cap still holds while reading
        assert!(read(Path::new("/proc/self/status"), None).is_ok());
    }

    #[test]
    fn decode_keeps_the_first_invalid_byte() {
        let t = decode(b"ab\nc\xffd\xfe".to_vec());
        assert_eq!(t.invalid_utf8, Some((4, 0xff)));
        assert_eq!(t.text, "ab\nc\u{fffd}d\u{fffd}");
        assert_eq!(decode(b"ok".to_vec()).invalid_utf8, None);
    }

    #[test]
    fn normalize_does_not_climb_above_root() {
        assert_eq!(normalize(Path::new("/a/../../b")), PathBuf::from("/b"));
        assert_eq!(normalize(Path::new("a/../../b")), PathBuf::from("../b"));
        assert_eq!(normalize(Path::new("./a/./b/..")), PathBuf::from("a"));
    }

    #[test]
    fn a_huge_directory_is_not_kept_in_the_listing_cache() {
        let tmp = tempfile::tempdir().unwrap();
        for i in 0..=LISTING_MAX {
            std::fs::write(tmp.path().join(format!("f{i}")), "").unwrap();
        }
        std::fs::write(tmp.path().join("Dockerfile"), "FROM scratch\n").unwrap();
        // The cache answers as the tree was when first asked: make both directories first.
        let small = tempfile::tempdir().unwrap();
        std::fs::write(small.path().join("Dockerfile"), "").unwrap();
        let cache = RunCache::new(None);
        // Over the cap the listing cannot tell: the caller asks the system (never "missing").
        assert_eq!(cache.probe(&tmp.path().join("Dockerfile")), Probe::Unknown);
        assert_eq!(cache.probe(&tmp.path().join("nope")), Probe::Unknown);
        assert!(
            matches!(cache.probe(&small.path().join("Dockerfile")), Probe::Is(t) if t.is_file())
        );
        assert_eq!(cache.probe(&small.path().join("nope")), Probe::Missing);
    }
}
