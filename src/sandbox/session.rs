//! Sessions: one hardened, verified container kept alive across many commands
//! (`sandlint session start|exec|put|get|ls|stop|gc`).
//!
//! A session is created like a `sandlint run` container (the rules judge the plan before
//! create, the daemon's view is verified after create and after start, root and degraded
//! protections fail closed) with one difference: its process is a harmless `sleep` for the TTL,
//! and the commands arrive later through the Engine API's exec endpoints.
//!
//! * **Identity.** The container carries `dev.sandlint.session=<id>`, `dev.sandlint.deadline`
//!   (the TTL's end, Unix seconds) and `dev.sandlint.profile-hash` (a fingerprint of the
//!   resolved hardening profile). The profile itself, the container's id and the checks that
//!   passed at start are kept in a state file on the host (`$SANDLINT_SESSION_DIR`, else
//!   `$XDG_STATE_HOME/sandlint/sessions`, else `~/.local/state/sandlint/sessions`, mode 0700).
//!   Labels alone prove nothing (anyone with the socket can write them): a container is a
//!   session only when its id is the one recorded at start.
//! * **Every exec, put and get re-verifies** the container first: the recorded id, running, our
//!   labels with the recorded values, the profile's checks against the daemon's current view
//!   (a `docker update` of a limit fails them), the workspace mount, and the kernel's uids.
//!   Anything else refuses the call ([`SandboxError::SessionTampered`]).
//! * **State.** `/workspace` is an anonymous volume backed by tmpfs (size-capped, owned by the
//!   session's user; removed with the container), reachable through the archive endpoints, which
//!   cannot see a plain tmpfs; `/tmp` is the run's tmpfs. Both live as long as the container.
//! * **TTL**, three ways. A detached watchdog process (`sandlint session watch`, the mechanism
//!   `run` uses: its own process group, terminal signals ignored) removes the container at its
//!   deadline with no other sandlint process alive. The container's `sleep` ends at the deadline
//!   too, and it is created with `AutoRemove`, so the daemon itself removes it (and its volume)
//!   then, even with the watchdog killed. And every `run`/`--gc`/`session gc` reaps expired ones
//!   by the deadline label. The watchdog's pid is the container's owner label, so `run --gc`
//!   keeps a live session and removes one whose watchdog was killed.
//!   The watchdog is spawned before anything is created and watches its parent too: a start
//!   killed before it saved the state file (nothing will ever vouch for the session) is removed
//!   at once, not at the TTL.
//! * **Egress** (`--allow-host`): `run`'s internal and outer networks and proxy sidecar, named
//!   after the session's container, recorded by id in the state file
//!   ([`super::egress::SessionEgress`]) and re-verified with the container before every call (the
//!   sandbox on the internal network only, the sidecar running, ours and hardened on its two
//!   networks, the internal network internal, without host address, IPv6 or other members).
//!   Each exec's result carries the proxy's decisions the daemon logged during it. Stop, gc, the
//!   watchdog and the reaper remove them with the session.
//! * **Files.** `put`/`get` go through the archive endpoints, under `/workspace` only, with the
//!   container paused (no process can swap a directory for a symlink between the checks and the
//!   copy): no `..`, every existing component a real directory, no symlinks or devices in either
//!   direction, size caps both ways. `get` writes only regular files and directories on the host,
//!   never through a symlink, and only inside LOCAL.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::profile::HardenedProfile;
use super::{Allowed, Check, SandboxError, SandboxOptions, Truncated};

/// The session's id, on its container.
pub const LABEL_SESSION: &str = "dev.sandlint.session";
/// A fingerprint of the session's hardening profile (FNV-1a of its JSON), on its container.
pub const LABEL_PROFILE_HASH: &str = "dev.sandlint.profile-hash";
/// The default cap of one `put` or `get`.
pub const DEFAULT_TRANSFER_LIMIT: u64 = 64 * 1024 * 1024;
/// At most this many entries in one `put` or `get`.
pub const MAX_ENTRIES: usize = 10_000;
/// The default size of the `/workspace` volume (tmpfs).
pub const DEFAULT_WORKSPACE_SIZE: i64 = 256 * 1024 * 1024;

/// How to start a session.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// The sandbox (`run`'s options; `timeout` is each exec's default, `output_limit` its cap).
    pub sandbox: SandboxOptions,
    /// The session is removed this long after it started.
    pub ttl: Duration,
    /// Bytes of the `/workspace` tmpfs volume (unless `sandbox.workspace` binds a host dir).
    pub workspace_size: i64,
    /// Remove the session as soon as this process (a pid of this host) is gone: the MCP server
    /// and the Python API bind their sessions to themselves, so a killed client leaves none.
    pub bound_to: Option<u32>,
}

/// A started (or listed) session.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SessionInfo {
    pub id: String,
    pub container: String,
    pub image: String,
    pub user: String,
    /// The TTL's end (Unix seconds).
    pub deadline: u64,
    /// Seconds left of the TTL.
    pub ttl_left: u64,
    pub profile_hash: String,
    /// `running`, `exited`, ... as the daemon says.
    pub state: String,
    /// Whether this host's state file vouches for the container (its id is the one recorded
    /// at start).
    pub recorded: bool,
    /// The start's verification (empty when listed).
    pub verified: Vec<&'static str>,
    pub failed: Vec<&'static str>,
    pub findings: Vec<String>,
    pub allowed: Vec<Allowed>,
    pub notes: Vec<String>,
    /// The egress allowlist's sidecar, networks and their checks (a started session with one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub egress: Option<super::egress::EgressReport>,
}

/// The outcome of `session exec`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ExecResult {
    /// The command's status; 124 on timeout.
    pub exit_code: i64,
    pub stdout: String,
    pub stderr: String,
    pub truncated: Truncated,
    pub duration_ms: u64,
    pub timed_out: bool,
    /// The timed-out command could not be killed, so the whole session was removed.
    pub session_stopped: bool,
    pub session: String,
    /// The re-verification before the command ran.
    pub verification: ExecVerification,
    /// With an egress allowlist: the proxy's decisions logged while the command ran (from its
    /// start to its end: also those of a process an earlier exec left running), and the
    /// sidecar's and the networks' re-verification.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub egress: Option<super::egress::EgressReport>,
}

/// What the re-verification before an exec (or a transfer) checked.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ExecVerification {
    pub checks: Vec<Check>,
    pub verified: Vec<&'static str>,
    pub failed: Vec<&'static str>,
    /// The egress sidecar's and networks' checks (a session with an allowlist).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub egress: Vec<Check>,
}

/// The outcome of `put` or `get`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TransferResult {
    pub session: String,
    /// The container path (under `/workspace`).
    pub remote: String,
    pub local: PathBuf,
    pub files: usize,
    pub bytes: u64,
    pub verification: ExecVerification,
}

/// What the host keeps of a session (the trust anchor of every later call).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(in crate::sandbox) struct SessionState {
    pub id: String,
    /// The container's full id: a container with our labels and another id is not the session.
    pub container_id: String,
    pub container: String,
    pub profile: HardenedProfile,
    pub profile_hash: String,
    pub deadline: u64,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    /// Whether `/workspace` is sandlint's tmpfs volume (else a `--workspace` bind mount).
    pub workspace_volume: bool,
    /// The volume's name, as the daemon reported it after start.
    pub volume_name: Option<String>,
    pub workspace_size: i64,
    pub allow_root: bool,
    pub allow_degraded: bool,
    /// Checks that had already failed at start (accepted with `--allow-degraded`).
    pub failed_at_start: Vec<String>,
    pub timeout_ms: u64,
    pub output_limit: usize,
    /// The egress allowlist's sidecar and networks (none in a state saved before sessions had
    /// them, or without `--allow-host`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub egress: Option<super::egress::SessionEgress>,
}

/// FNV-1a (64 bits) of the profile's JSON, hex: a fingerprint carried on the container, not a
/// secret (the state file is what vouches for it).
pub(in crate::sandbox) fn profile_hash(profile: &HardenedProfile) -> String {
    let mut p = profile.clone();
    p.labels.remove(LABEL_PROFILE_HASH);
    let text = serde_json::to_string(&p).unwrap_or_default();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("fnv1a64:{h:016x}")
}

/// A new session id: 12 hex digits from the kernel's random source (else time and pid).
pub(in crate::sandbox) fn new_id() -> String {
    let mut bytes = [0u8; 6];
    let random = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes))
        .is_ok();
    if !random {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let mixed = (nanos as u64) ^ (u64::from(std::process::id()) << 32);
        bytes.copy_from_slice(&mixed.to_le_bytes()[..6]);
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A session id as given on the command line: 12 lowercase hex digits (it names a file).
pub(in crate::sandbox) fn check_id(id: &str) -> Result<(), SandboxError> {
    if id.len() == 12
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(SandboxError::InvalidOption {
            message: format!(
                "`{}` is not a session id (12 hex digits, as `sandlint session start` prints)",
                crate::escape::line(&crate::source::clip(id, 40))
            ),
        })
    }
}

/// The container's name for a session id.
pub(in crate::sandbox) fn container_name(id: &str) -> String {
    format!("sandlint-session-{id}")
}

/// Where the state files live.
pub(in crate::sandbox) fn state_dir() -> Result<PathBuf, SandboxError> {
    let from = |v: &str| {
        std::env::var_os(v)
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
    };
    if let Some(d) = from("SANDLINT_SESSION_DIR") {
        return Ok(d);
    }
    if let Some(d) = from("XDG_STATE_HOME") {
        return Ok(d.join("sandlint").join("sessions"));
    }
    if let Some(h) = from("HOME") {
        return Ok(h.join(".local/state/sandlint/sessions"));
    }
    Err(SandboxError::InvalidOption {
        message: "no place for session state: set SANDLINT_SESSION_DIR, XDG_STATE_HOME or HOME"
            .to_string(),
    })
}

fn state_error(path: &Path, e: impl std::fmt::Display) -> SandboxError {
    SandboxError::InvalidOption {
        message: format!("session state {}: {e}", path.display()),
    }
}

/// Writes the state file (0600, in a 0700 directory), atomically.
pub(in crate::sandbox) fn save_state(state: &SessionState) -> Result<(), SandboxError> {
    let dir = state_dir()?;
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(&dir).map_err(|e| state_error(&dir, e))?;
    let path = dir.join(format!("{}.json", state.id));
    let tmp = dir.join(format!(".{}.json.tmp", state.id));
    let text = serde_json::to_string_pretty(state).map_err(|e| state_error(&path, e))?;
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        open.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    let mut f = open.open(&tmp).map_err(|e| state_error(&tmp, e))?;
    std::io::Write::write_all(&mut f, text.as_bytes()).map_err(|e| state_error(&tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| state_error(&path, e))
}

/// Reads the state file of `id` (`None`: no such session on this host).
pub(in crate::sandbox) fn load_state(id: &str) -> Result<Option<SessionState>, SandboxError> {
    check_id(id)?;
    let path = state_dir()?.join(format!("{id}.json"));
    if std::fs::symlink_metadata(&path).is_err() {
        return Ok(None);
    }
    let read = crate::fsread::read(&path, None).map_err(|e| state_error(&path, e.describe()))?;
    if read.text.len() > 4 * 1024 * 1024 {
        return Err(state_error(&path, "too large"));
    }
    serde_json::from_str(&read.text)
        .map(Some)
        .map_err(|e| state_error(&path, e))
}

/// Removes the state file of `id` (gone is fine).
pub(in crate::sandbox) fn forget(id: &str) {
    if check_id(id).is_ok()
        && let Ok(dir) = state_dir()
    {
        let _ = std::fs::remove_file(dir.join(format!("{id}.json")));
    }
}

/// The ids of every state file on this host.
pub(in crate::sandbox) fn recorded_ids() -> Vec<String> {
    let Ok(dir) = state_dir() else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .take(100_000)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let id = name.strip_suffix(".json")?.to_string();
            check_id(&id).is_ok().then_some(id)
        })
        .collect()
}

/// A container path for `put`/`get`: relative to `/workspace` (or absolute under it), no `..`,
/// no NUL. Returns its components under `/workspace` (empty: `/workspace` itself).
pub fn workspace_path(path: &str) -> Result<Vec<String>, SandboxError> {
    let bad = |why: &str| SandboxError::PathRefused {
        path: crate::escape::line(&crate::source::clip(path, 200)).into_owned(),
        why: why.to_string(),
    };
    if path.contains('\0') {
        return Err(bad("it contains a NUL byte"));
    }
    if path.len() > 4096 {
        return Err(bad("it is longer than 4096 bytes"));
    }
    let rest = if let Some(abs) = path.strip_prefix('/') {
        let abs = abs.trim_start_matches('/');
        match abs.strip_prefix("workspace") {
            Some(r) if r.is_empty() || r.starts_with('/') => r.to_string(),
            _ => return Err(bad("only paths under /workspace can be copied")),
        }
    } else {
        path.to_string()
    };
    let mut parts = Vec::new();
    for c in rest.split('/') {
        match c {
            "" | "." => {}
            ".." => return Err(bad("`..` is not allowed")),
            c => parts.push(c.to_string()),
        }
    }
    Ok(parts)
}

/// `/workspace/a/b` for `["a", "b"]`.
pub(in crate::sandbox) fn remote_string(parts: &[String]) -> String {
    let mut s = super::profile::WORKSPACE.to_string();
    for p in parts {
        s.push('/');
        s.push_str(p);
    }
    s
}

/// Go's `os.FileMode` type bits, as the archive endpoint's path stat reports them.
pub(in crate::sandbox) mod go_mode {
    pub const DIR: u32 = 1 << 31;
    pub const SYMLINK: u32 = 1 << 27;
    pub const TYPE: u32 = DIR
        | SYMLINK
        | (1 << 26) // device
        | (1 << 25) // named pipe
        | (1 << 24) // socket
        | (1 << 21) // char device
        | (1 << 19) // irregular
        | (1 << 30) // append-only
        | (1 << 29) // exclusive
        | (1 << 28); // temporary
}

/// A tar of the host path `local` (a regular file or a directory of them; never through a
/// symlink) to be extracted in `/workspace`, named `dest` there. Every parent of `dest` is an
/// explicit directory entry, so an existing symlink on the way is replaced by a directory, never
/// followed. Entries are owned by `uid:gid`. At most `limit` bytes of file content.
pub(in crate::sandbox) fn pack(
    source: PutSource<'_>,
    dest: &[String],
    uid: u32,
    gid: u32,
    limit: u64,
) -> Result<(Vec<u8>, usize, u64), SandboxError> {
    let local = match source {
        PutSource::Path(p) => p,
        PutSource::Bytes(data) => return pack_bytes(data, dest, uid, gid, limit),
    };
    let refused = |why: String| SandboxError::PathRefused {
        path: local.display().to_string(),
        why,
    };
    let meta = std::fs::symlink_metadata(local).map_err(|e| refused(e.to_string()))?;
    if !(meta.is_file() || meta.is_dir()) {
        return Err(refused(
            "only a regular file or a directory can be copied (not a symlink, device, pipe or socket)".to_string(),
        ));
    }
    let Some((name, parents)) = dest.split_last() else {
        return Err(refused("the destination is /workspace itself".to_string()));
    };
    let mut b = tar::Builder::new(Vec::new());
    let header = |kind: tar::EntryType, size: u64, mode: u32| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_size(size);
        h.set_mode(mode);
        h.set_uid(u64::from(uid));
        h.set_gid(u64::from(gid));
        h.set_mtime(super::runner::unix_now());
        h
    };
    let mut prefix = String::new();
    for p in parents {
        prefix.push_str(p);
        prefix.push('/');
        let mut h = header(tar::EntryType::Directory, 0, 0o755);
        b.append_data(&mut h, &prefix, std::io::empty())
            .map_err(|e| refused(e.to_string()))?;
    }
    let mut files = 0usize;
    let mut bytes = 0u64;
    let mut entries = 0usize;
    // (host path, archive name)
    let mut stack = vec![(local.to_path_buf(), format!("{prefix}{name}"))];
    while let Some((path, arc)) = stack.pop() {
        entries += 1;
        if entries > MAX_ENTRIES {
            return Err(refused(format!("more than {MAX_ENTRIES} entries")));
        }
        let m = std::fs::symlink_metadata(&path).map_err(|e| refused(e.to_string()))?;
        #[cfg(unix)]
        let mode = std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o755;
        #[cfg(not(unix))]
        let mode = 0o644;
        if m.is_dir() {
            let mut h = header(tar::EntryType::Directory, 0, mode | 0o700);
            b.append_data(&mut h, format!("{arc}/"), std::io::empty())
                .map_err(|e| refused(e.to_string()))?;
            let mut children: Vec<_> = std::fs::read_dir(&path)
                .map_err(|e| refused(e.to_string()))?
                .filter_map(Result::ok)
                .take(MAX_ENTRIES + 1)
                .map(|e| e.file_name())
                .collect();
            children.sort();
            for c in children.into_iter().rev() {
                let Some(s) = c.to_str() else {
                    return Err(refused(format!(
                        "{} has a name that is not UTF-8",
                        path.join(&c).display()
                    )));
                };
                stack.push((path.join(&c), format!("{arc}/{s}")));
            }
        } else if m.is_file() {
            bytes += m.len();
            if bytes > limit {
                return Err(refused(format!(
                    "more than {limit} bytes (the transfer cap)"
                )));
            }
            let f =
                open_nofollow(&path).map_err(|e| refused(format!("{}: {e}", path.display())))?;
            let mut h = header(tar::EntryType::Regular, m.len(), mode | 0o600);
            b.append_data(&mut h, &arc, std::io::Read::take(f, m.len()))
                .map_err(|e| refused(e.to_string()))?;
            files += 1;
        } else {
            return Err(refused(format!(
                "{} is a symlink, device, pipe or socket: only regular files and directories are copied",
                path.display()
            )));
        }
    }
    let data = b.into_inner().map_err(|e| refused(e.to_string()))?;
    Ok((data, files, bytes))
}

/// What `put` copies.
#[derive(Debug, Clone, Copy)]
pub enum PutSource<'a> {
    /// A host file or directory.
    Path(&'a Path),
    /// The content of one file.
    Bytes(&'a [u8]),
}

/// A tar of one file holding `data`, named `dest` under `/workspace` (parents as directories).
fn pack_bytes(
    data: &[u8],
    dest: &[String],
    uid: u32,
    gid: u32,
    limit: u64,
) -> Result<(Vec<u8>, usize, u64), SandboxError> {
    let refused = |why: String| SandboxError::PathRefused {
        path: remote_string(dest),
        why,
    };
    if data.len() as u64 > limit {
        return Err(refused(format!(
            "more than {limit} bytes (the transfer cap)"
        )));
    }
    let Some((name, parents)) = dest.split_last() else {
        return Err(refused("the destination is /workspace itself".to_string()));
    };
    let mut b = tar::Builder::new(Vec::new());
    let mut prefix = String::new();
    let header = |kind: tar::EntryType, size: u64, mode: u32| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_size(size);
        h.set_mode(mode);
        h.set_uid(u64::from(uid));
        h.set_gid(u64::from(gid));
        h.set_mtime(super::runner::unix_now());
        h
    };
    for p in parents {
        prefix.push_str(p);
        prefix.push('/');
        let mut h = header(tar::EntryType::Directory, 0, 0o755);
        b.append_data(&mut h, &prefix, std::io::empty())
            .map_err(|e| refused(e.to_string()))?;
    }
    let mut h = header(tar::EntryType::Regular, data.len() as u64, 0o644);
    b.append_data(&mut h, format!("{prefix}{name}"), data)
        .map_err(|e| refused(e.to_string()))?;
    let out = b.into_inner().map_err(|e| refused(e.to_string()))?;
    Ok((out, 1, data.len() as u64))
}

/// The content of the one regular file a downloaded archive of `name` holds (a directory, a
/// symlink or anything else is refused).
pub(in crate::sandbox) fn unpack_bytes(
    archive: &[u8],
    name: &str,
) -> Result<Vec<u8>, SandboxError> {
    let refused = |why: String| SandboxError::PathRefused {
        path: name.to_string(),
        why,
    };
    let mut a = tar::Archive::new(archive);
    let mut entries = a.entries().map_err(|e| refused(e.to_string()))?;
    let Some(first) = entries.next() else {
        return Err(refused("the archive is empty".to_string()));
    };
    let mut e = first.map_err(|e| refused(format!("a bad archive: {e}")))?;
    let path = String::from_utf8_lossy(&e.path_bytes()).into_owned();
    if path.trim_end_matches('/') != name {
        return Err(refused("the archive names another path".to_string()));
    }
    if !matches!(
        e.header().entry_type(),
        tar::EntryType::Regular | tar::EntryType::Continuous
    ) {
        return Err(refused("it is not a regular file".to_string()));
    }
    let mut data = Vec::new();
    std::io::Read::read_to_end(&mut e, &mut data).map_err(|err| refused(err.to_string()))?;
    Ok(data)
}

fn open_nofollow(path: &Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let f = o.open(path)?;
    if !f.metadata()?.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    Ok(f)
}

/// One checked entry of a downloaded archive.
enum Entry {
    Dir(PathBuf),
    File(PathBuf, Vec<u8>),
}

/// Unpacks a downloaded archive of the container path whose last component is `name` into
/// `local` on the host: a file archive becomes `local` (or `local/name` when `local` is an
/// existing directory); a directory archive becomes the new directory `local`. Only regular
/// files and directories; any symlink, hard link, device or path that leaves the archive's root
/// refuses the whole copy before anything is written. Never writes through a symlink.
pub(in crate::sandbox) fn unpack(
    archive: &[u8],
    name: &str,
    local: &Path,
    limit: u64,
) -> Result<(usize, u64), SandboxError> {
    let refused = |why: String| SandboxError::PathRefused {
        path: local.display().to_string(),
        why,
    };
    let mut entries = Vec::new();
    let mut a = tar::Archive::new(archive);
    let mut root_is_dir = None;
    let mut bytes = 0u64;
    for e in a.entries().map_err(|e| refused(e.to_string()))? {
        let mut e = e.map_err(|e| refused(format!("a bad archive: {e}")))?;
        if entries.len() >= MAX_ENTRIES {
            return Err(refused(format!("more than {MAX_ENTRIES} entries")));
        }
        let raw = e.path_bytes().into_owned();
        let text = String::from_utf8(raw)
            .map_err(|_| refused("an entry name is not UTF-8".to_string()))?;
        let shown = crate::escape::line(&crate::source::clip(&text, 200)).into_owned();
        let mut parts: Vec<&str> = Vec::new();
        for c in text.split('/') {
            match c {
                "" | "." => {}
                ".." => return Err(refused(format!("the entry `{shown}` contains `..`"))),
                c => parts.push(c),
            }
        }
        if text.starts_with('/') {
            return Err(refused(format!("the entry `{shown}` is absolute")));
        }
        let Some((first, rest)) = parts.split_first() else {
            continue;
        };
        if *first != name {
            return Err(refused(format!(
                "the entry `{shown}` is outside the copied path"
            )));
        }
        let rel: PathBuf = rest.iter().collect();
        let kind = e.header().entry_type();
        match kind {
            tar::EntryType::Directory => {
                if rest.is_empty() {
                    root_is_dir = Some(true);
                }
                entries.push(Entry::Dir(rel));
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                if rest.is_empty() {
                    root_is_dir = Some(false);
                }
                let mut data = Vec::new();
                std::io::Read::read_to_end(&mut e, &mut data)
                    .map_err(|err| refused(err.to_string()))?;
                bytes += data.len() as u64;
                if bytes > limit {
                    return Err(refused(format!(
                        "more than {limit} bytes (the transfer cap)"
                    )));
                }
                entries.push(Entry::File(rel, data));
            }
            _ => {
                return Err(refused(format!(
                    "the entry `{shown}` is a {}: only regular files and directories are copied",
                    match kind {
                        tar::EntryType::Symlink => "symlink",
                        tar::EntryType::Link => "hard link",
                        tar::EntryType::Char | tar::EntryType::Block => "device",
                        tar::EntryType::Fifo => "pipe",
                        _ => "special entry",
                    }
                )));
            }
        }
    }
    match root_is_dir {
        Some(false) => {
            let target = match std::fs::symlink_metadata(local) {
                Ok(m) if m.is_dir() => local.join(name),
                _ => local.to_path_buf(),
            };
            let Some(Entry::File(_, data)) =
                entries.into_iter().find(|e| matches!(e, Entry::File(..)))
            else {
                return Err(refused("the archive holds no file".to_string()));
            };
            write_file(&target, &data, false)
                .map_err(|e| refused(format!("{}: {e}", target.display())))?;
            Ok((1, bytes))
        }
        Some(true) => write_dir(local, entries)
            .map(|files| (files, bytes))
            .map_err(refused),
        None => Err(refused("the archive is empty".to_string())),
    }
}

/// A directory archive's entries as the new directory `local`. Returns the files written.
fn write_dir(local: &Path, entries: Vec<Entry>) -> Result<usize, String> {
    std::fs::create_dir(local).map_err(|e| {
        format!("cannot create the directory ({e}); a directory is copied into a new LOCAL")
    })?;
    let mut files = 0;
    for e in entries {
        match e {
            Entry::Dir(rel) if rel.as_os_str().is_empty() => {}
            Entry::Dir(rel) => {
                let p = local.join(rel);
                if !std::fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir()) {
                    std::fs::create_dir(&p).map_err(|err| format!("{}: {err}", p.display()))?;
                }
            }
            Entry::File(rel, data) => {
                let p = local.join(rel);
                write_file(&p, &data, true).map_err(|err| format!("{}: {err}", p.display()))?;
                files += 1;
            }
        }
    }
    Ok(files)
}

/// Writes a regular file, never through a symlink; `new` also refuses an existing file.
fn write_file(path: &Path, data: &[u8], new: bool) -> std::io::Result<()> {
    if let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
        && std::fs::symlink_metadata(parent).is_ok_and(|m| !m.is_dir())
    {
        return Err(std::io::Error::other("its parent is not a directory"));
    }
    if let Ok(m) = std::fs::symlink_metadata(path)
        && !m.is_file()
    {
        return Err(std::io::Error::other(
            "it exists and is not a regular file (a symlink is never written through)",
        ));
    }
    let mut o = std::fs::OpenOptions::new();
    o.write(true);
    if new {
        o.create_new(true);
    } else {
        o.create(true).truncate(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .mode(0o644);
    }
    let mut f = o.open(path)?;
    if !f.metadata()?.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    std::io::Write::write_all(&mut f, data)
}

/// The session entry points (each builds its own current-thread runtime, like [`super::Sandbox`]).
#[derive(Debug, Clone, Copy)]
pub struct Session;

impl Session {
    /// Starts a session: planned, judged by the rules, created, verified, started, verified.
    pub fn start(options: &SessionOptions) -> Result<SessionInfo, SandboxError> {
        super::runtime()?.block_on(super::runner::session::start(options))
    }

    /// Runs `argv` in the session (after re-verifying it), streaming to `sink`.
    pub fn exec(
        id: &str,
        argv: &[String],
        timeout: Option<Duration>,
        output_limit: Option<usize>,
        sink: &mut dyn super::OutputSink,
    ) -> Result<ExecResult, SandboxError> {
        super::runtime()?.block_on(super::runner::session::exec(
            id,
            argv,
            timeout,
            output_limit,
            sink,
        ))
    }

    /// Copies the host file or directory `local` to `remote` under `/workspace`.
    pub fn put(
        id: &str,
        local: &Path,
        remote: &str,
        limit: u64,
    ) -> Result<TransferResult, SandboxError> {
        super::runtime()?.block_on(super::runner::session::put(
            id,
            PutSource::Path(local),
            remote,
            limit,
        ))
    }

    /// Writes `data` as the file `remote` under `/workspace`.
    pub fn write_file(id: &str, remote: &str, data: &[u8]) -> Result<TransferResult, SandboxError> {
        let limit = data.len() as u64;
        super::runtime()?.block_on(super::runner::session::put(
            id,
            PutSource::Bytes(data),
            remote,
            limit,
        ))
    }

    /// Reads the regular file `remote` under `/workspace` (at most `limit` bytes).
    pub fn read_file(
        id: &str,
        remote: &str,
        limit: u64,
    ) -> Result<(Vec<u8>, ExecVerification), SandboxError> {
        super::runtime()?.block_on(super::runner::session::read(id, remote, limit))
    }

    /// Copies `remote` (under `/workspace`) to the host path `local`.
    pub fn get(
        id: &str,
        remote: &str,
        local: &Path,
        limit: u64,
    ) -> Result<TransferResult, SandboxError> {
        super::runtime()?.block_on(super::runner::session::get(id, remote, local, limit))
    }

    /// The daemon's sandlint sessions.
    pub fn list() -> Result<Vec<SessionInfo>, SandboxError> {
        super::runtime()?.block_on(super::runner::session::list())
    }

    /// Removes a session (its container and volume). `false`: there was none.
    pub fn stop(id: &str) -> Result<bool, SandboxError> {
        super::runtime()?.block_on(super::runner::session::stop(id))
    }

    /// Removes expired and exited sessions. Returns their ids.
    pub fn gc() -> Result<Vec<String>, SandboxError> {
        super::runtime()?.block_on(super::runner::session::gc())
    }

    /// The TTL watchdog's body (`sandlint session watch`): until `deadline`, checks every few
    /// seconds that the container still exists (and exits once it is gone, removing its egress
    /// sidecar and networks); at the deadline, once the process `bound_to` is gone, or once the
    /// starting process is gone with no state file saved (killed during start), removes it and
    /// its egress resources if they are still this session's. Terminal signals are ignored.
    pub fn watch(
        id: &str,
        container: &str,
        deadline: u64,
        bound_to: Option<u32>,
    ) -> Result<(), SandboxError> {
        let rt = super::runtime()?;
        rt.block_on(async {
            #[cfg(unix)]
            let _signals = {
                use tokio::signal::unix::{SignalKind, signal};
                [
                    SignalKind::hangup(),
                    SignalKind::interrupt(),
                    SignalKind::quit(),
                    SignalKind::pipe(),
                ]
                .into_iter()
                .filter_map(|k| signal(k).ok())
                .collect::<Vec<_>>()
            };
            // The process that started the session (this one's parent): if it is gone before a
            // state file vouches for the session (a SIGKILL during start), nothing ever will.
            #[cfg(unix)]
            let starter = std::os::unix::process::parent_id();
            let recorded = || state_dir().is_ok_and(|d| d.join(format!("{id}.json")).exists());
            let mut seen = false;
            loop {
                let left = deadline.saturating_sub(super::runner::unix_now());
                if left == 0 {
                    break;
                }
                let every = if bound_to.is_some() { 1 } else { 5 };
                tokio::time::sleep(Duration::from_secs(left.min(every))).await;
                if let Some(pid) = bound_to
                    && !Path::new("/proc").join(pid.to_string()).exists()
                {
                    break;
                }
                #[cfg(unix)]
                if !recorded() && std::os::unix::process::parent_id() != starter && !recorded() {
                    break;
                }
                // gone once seen (before, the start may still be creating it)
                if let Ok(docker) = super::runner::connect().await {
                    match docker.inspect_container(container, None).await {
                        Ok(_) => seen = true,
                        Err(e) if seen && super::runner::is_not_found(&e) => {
                            super::egress::remove_run(&docker, container).await;
                            return Ok(());
                        }
                        Err(_) => {}
                    }
                }
            }
            super::runner::session::expire(id, container, deadline).await
        })
    }
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
