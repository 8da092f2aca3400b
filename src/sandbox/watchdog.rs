//! The watchdog: a detached sandlint process (its own process group, terminal signals ignored)
//! that kills and removes a run's container when the run's process goes away without saying it
//! cleaned up (SIGKILL, a crash: its end of the watchdog's stdin pipe closes), or at the
//! container's deadline (a run that hangs or is stopped). It is the part of "no container
//! outlives its deadline" that needs no other sandlint to ever run again; the
//! `dev.sandlint.deadline` label, which every run and `--gc` reaps, covers a watchdog that was
//! killed too.

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::SandboxError;
use super::profile::LABEL_MANAGED;

/// What the run tells its watchdog after it removed the container itself.
const DONE: &str = "done";

/// A running watchdog. Dropping it without [`Watchdog::release`] closes its stdin: it then
/// removes the container at once.
#[derive(Debug)]
pub(super) struct Watchdog {
    child: Child,
}

/// Starts `exe run --watchdog CONTAINER --watchdog-deadline UNIX` detached. `None` when it
/// cannot be started (the run goes on: the deadline label still bounds the container).
pub(super) fn spawn(exe: &Path, container: &str, deadline_unix: u64) -> Option<Watchdog> {
    let mut cmd = Command::new(exe);
    cmd.args([
        "run",
        "--watchdog",
        container,
        "--watchdog-deadline",
        &deadline_unix.to_string(),
    ])
    .stdin(Stdio::piped())
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // Its own process group: Ctrl-C, a terminal hangup and `kill -- -PGID` of the run's
        // group do not reach it.
        cmd.process_group(0);
    }
    cmd.spawn().ok().map(|child| Watchdog { child })
}

impl Watchdog {
    /// The run removed the container: the watchdog exits without touching the daemon. Not
    /// waited for here (a loaded host may still be starting it); a thread reaps it.
    pub(super) fn release(mut self) {
        if let Some(mut stdin) = self.child.stdin.take() {
            let _ = stdin.write_all(format!("{DONE}\n").as_bytes());
        }
        let mut child = self.child;
        if !matches!(child.try_wait(), Ok(Some(_))) {
            std::thread::spawn(move || child.wait());
        }
    }
}

/// The watchdog process: waits for the run's word, its death or the deadline; then (unless the
/// run said it was done) kills and removes `container` if it carries sandlint's label.
pub fn watch(container: &str, deadline_unix: u64) -> Result<(), SandboxError> {
    let rt = super::runtime()?;
    // A terminal hangup, Ctrl-C, SIGQUIT or a broken pipe must not end the watchdog: tokio's
    // handlers stay installed for the life of the process, so registering them ignores them.
    #[cfg(unix)]
    let _signals = rt.block_on(async {
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
    });
    let (tx, rx) = std::sync::mpsc::channel::<bool>();
    std::thread::spawn(move || {
        // Its own handle on the pipe: the CLI holds the lock of `std::io::stdin()` for the whole
        // command, so reading through it would wait for the process to end.
        let mut line = String::new();
        let said_done = match std::fs::File::open("/dev/stdin") {
            Ok(f) => std::io::BufRead::read_line(&mut std::io::BufReader::new(f), &mut line),
            Err(_) => std::io::stdin().read_line(&mut line),
        }
        .is_ok()
            && line.trim() == DONE;
        let _ = tx.send(said_done);
    });
    let wait = deadline_unix.saturating_sub(super::runner::unix_now());
    if let Ok(true) = rx.recv_timeout(Duration::from_secs(wait)) {
        return Ok(());
    }
    rt.block_on(super::runner::reap_one(container, LABEL_MANAGED))
}
