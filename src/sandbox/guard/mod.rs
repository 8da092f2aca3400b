//! `sandlint guard`: a Docker Engine API proxy on a unix socket that an agent gets instead of
//! the daemon's. It forwards only what running sandboxes needs, and only for the containers it
//! created itself; every `create` is hardened, lowered to the Compose service model and checked
//! with the rules (see [`harden`]); every `start` is verified as `sandlint run` verifies its
//! container (see [`super::verify`]), and a container that fails is killed and removed.
//!
//! Ownership is the guard's memory, not a label: the ids of the containers it created (and of
//! the exec instances it created in them) are kept in this process. Its containers also carry
//! `dev.sandlint.managed=true`, `dev.sandlint.owner=<host>:<pid>` (so `sandlint run --gc`
//! removes them once the guard is gone) and `dev.sandlint.guard=<instance>`, where the instance
//! is 128 random bits drawn at start: the label lets `containers/json` ask the daemon for the
//! guard's containers, but a container that carries it without being in the guard's memory (made
//! with the real socket, or by an earlier guard) is not the guard's. Labels `dev.sandlint.*` of a
//! request are dropped.
//!
//! Bounds: request heads at most [`Limits::max_head`] bytes and [`Limits::max_headers`] headers
//! (431 beyond), read within [`Limits::head_timeout`]; judged bodies (create, exec) at most
//! [`Limits::max_body`] bytes read within [`Limits::body_timeout`] (413, 408); forwarded bodies
//! (archive, build) at most [`Limits::max_stream_body`]; at most [`Limits::max_connections`]
//! connections at once; non-streaming answers within [`Limits::answer_timeout`]; the guard keeps
//! at most [`MAX_OWNED`] containers and [`MAX_EXECS`] exec instances. Malformed HTTP gets 400
//! from hyper and never reaches the daemon: the upstream is dialled only for a routed request.

pub mod harden;
mod proxy;
pub mod route;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::SandboxError;
use super::profile::{HardenedProfile, LABEL_MANAGED, LABEL_OWNER};
pub use harden::Policy;

/// The label holding the guard's instance id.
pub const LABEL_GUARD: &str = "dev.sandlint.guard";
/// The most containers one guard keeps.
pub const MAX_OWNED: usize = 4096;
/// The most exec instances one guard keeps.
pub const MAX_EXECS: usize = 16384;

/// Sizes and times a client gets.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_head: usize,
    pub max_headers: usize,
    pub head_timeout: Duration,
    pub max_body: usize,
    pub body_timeout: Duration,
    pub max_stream_body: u64,
    pub max_connections: usize,
    pub answer_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_head: 64 * 1024,
            max_headers: 100,
            head_timeout: Duration::from_secs(10),
            max_body: 1024 * 1024,
            body_timeout: Duration::from_secs(30),
            max_stream_body: 4 * 1024 * 1024 * 1024,
            max_connections: 256,
            answer_timeout: Duration::from_secs(120),
        }
    }
}

/// How a guard runs.
#[derive(Debug, Clone)]
pub struct GuardOptions {
    /// The socket the guard listens on (created; a stale socket there is replaced).
    pub listen: PathBuf,
    /// The daemon's socket.
    pub upstream: PathBuf,
    /// Permission bits of the listening socket.
    pub socket_mode: u32,
    pub policy: Policy,
    pub allow_pull: bool,
    pub allow_build: bool,
    pub limits: Limits,
}

/// What the guard remembers.
struct State {
    options: GuardOptions,
    /// `dev.sandlint.guard`'s value: 32 hex digits drawn at start.
    instance: String,
    /// `<host>:<pid>`.
    owner: String,
    /// Full ids of the containers this guard created, with the profile each is verified
    /// against.
    owned: Mutex<HashMap<String, HardenedProfile>>,
    /// Exec instance id → its container's full id.
    execs: Mutex<HashMap<String, String>>,
    docker: bollard::Docker,
}

impl State {
    fn labels(&self) -> harden::Labels {
        vec![
            (LABEL_MANAGED.to_string(), "true".to_string()),
            (LABEL_OWNER.to_string(), self.owner.clone()),
            (LABEL_GUARD.to_string(), self.instance.clone()),
        ]
    }

    fn owned_profile(&self, id: &str) -> Option<HardenedProfile> {
        self.owned.lock().ok()?.get(id).cloned()
    }

    fn forget(&self, id: &str) {
        if let Ok(mut o) = self.owned.lock() {
            o.remove(id);
        }
        if let Ok(mut e) = self.execs.lock() {
            e.retain(|_, c| c != id);
        }
    }

    /// The owned container `reference` is the unique prefix of, if any.
    fn owned_by_prefix(&self, reference: &str) -> Option<String> {
        if reference.len() < 12 || !reference.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let owned = self.owned.lock().ok()?;
        let mut hits = owned.keys().filter(|k| k.starts_with(reference));
        let first = hits.next()?.clone();
        hits.next().is_none().then_some(first)
    }
}

/// `<hostname>:<pid>` of this process (`sandlint run`'s owner label).
fn owner() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".to_string());
    format!("{host}:{}", std::process::id())
}

/// 128 random bits as 32 hex digits (`/dev/urandom`).
fn instance_id() -> Result<String, SandboxError> {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| SandboxError::InvalidOption {
            message: format!("cannot read /dev/urandom for the guard's instance id: {e}"),
        })?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn io_error(what: &str, path: &Path) -> impl Fn(std::io::Error) -> SandboxError {
    let message = format!("{what} {}", path.display());
    move |e| SandboxError::InvalidOption {
        message: format!("{message}: {e}"),
    }
}

/// Binds the listening socket: a leftover socket nobody answers on is replaced; any other file
/// there is an error.
fn bind(options: &GuardOptions) -> Result<std::os::unix::net::UnixListener, SandboxError> {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    let path = &options.listen;
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        let live = std::os::unix::net::UnixStream::connect(path).is_ok();
        if !meta.file_type().is_socket() || live {
            return Err(SandboxError::InvalidOption {
                message: format!(
                    "--listen {}: {}",
                    path.display(),
                    if live {
                        "another process listens there"
                    } else {
                        "exists and is not a socket"
                    }
                ),
            });
        }
        std::fs::remove_file(path).map_err(io_error("cannot replace", path))?;
    }
    let listener =
        std::os::unix::net::UnixListener::bind(path).map_err(io_error("cannot listen on", path))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(options.socket_mode))
        .map_err(io_error("cannot set the mode of", path))?;
    listener
        .set_nonblocking(true)
        .map_err(io_error("cannot listen on", path))?;
    Ok(listener)
}

fn state(options: GuardOptions) -> Result<Arc<State>, SandboxError> {
    let upstream = options.upstream.to_string_lossy().into_owned();
    let docker = bollard::Docker::connect_with_socket(&upstream, 120, bollard::API_DEFAULT_VERSION)
        .map_err(|e| SandboxError::DaemonUnreachable {
            host: format!("unix://{upstream}"),
            how: "--upstream".to_string(),
            cause: e.to_string(),
        })?;
    Ok(Arc::new(State {
        instance: instance_id()?,
        owner: owner(),
        owned: Mutex::new(HashMap::new()),
        execs: Mutex::new(HashMap::new()),
        docker,
        options,
    }))
}

/// A guard running on its own thread (tests, embedders). Dropping it stops the guard, which
/// kills and removes the containers it created.
pub struct GuardHandle {
    socket: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl GuardHandle {
    /// The socket clients connect to.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Stops the guard and waits until its containers are removed.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for GuardHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Starts a guard on a thread of its own; the socket is listening when this returns. The daemon
/// is not contacted until a request needs it.
pub fn spawn(options: GuardOptions) -> Result<GuardHandle, SandboxError> {
    let listener = bind(&options)?;
    let socket = options.listen.clone();
    let state = state(options)?;
    let rt = super::runtime()?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("sandlint-guard".to_string())
        .spawn(move || {
            rt.block_on(async move {
                if let Ok(listener) = tokio::net::UnixListener::from_std(listener) {
                    proxy::serve(state, listener, async {
                        let _ = rx.await;
                    })
                    .await;
                }
            });
        })
        .map_err(|e| SandboxError::Runtime(e.to_string()))?;
    Ok(GuardHandle {
        socket,
        stop: Some(tx),
        thread: Some(thread),
    })
}

/// Runs a guard until SIGINT, SIGTERM or SIGHUP; then kills and removes its containers. The
/// daemon is asked for its version first (an unreachable daemon is an error); `ready` is called
/// with the daemon's version once the socket listens.
pub fn serve(options: GuardOptions, ready: impl FnOnce(&str)) -> Result<(), SandboxError> {
    let rt = super::runtime()?;
    rt.block_on(async move {
        let listener = bind(&options)?;
        let listen = options.listen.clone();
        let state = state(options).inspect_err(|_| {
            let _ = std::fs::remove_file(&listen);
        })?;
        let version = tokio::time::timeout(Duration::from_secs(15), state.docker.version())
            .await
            .map_err(|_| "no answer within 15s".to_string())
            .and_then(|r| r.map_err(|e| e.to_string()));
        let version = match version {
            Ok(v) => v.version.unwrap_or_default(),
            Err(cause) => {
                let _ = std::fs::remove_file(&listen);
                return Err(SandboxError::DaemonUnreachable {
                    host: format!("unix://{}", state.options.upstream.display()),
                    how: "--upstream".to_string(),
                    cause,
                });
            }
        };
        let listener = tokio::net::UnixListener::from_std(listener)
            .map_err(io_error("cannot listen on", &listen))
            .inspect_err(|_| {
                let _ = std::fs::remove_file(&listen);
            })?;
        ready(&version);
        proxy::serve(state, listener, stop_signal()).await;
        let _ = std::fs::remove_file(&listen);
        Ok(())
    })
}

async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut streams = Vec::new();
    for kind in [
        SignalKind::interrupt(),
        SignalKind::terminate(),
        SignalKind::hangup(),
    ] {
        if let Ok(s) = signal(kind) {
            streams.push(s);
        }
    }
    if streams.is_empty() {
        return std::future::pending().await;
    }
    let waits = streams.iter_mut().map(|s| Box::pin(s.recv()));
    futures_util::future::select_all(waits).await;
}
