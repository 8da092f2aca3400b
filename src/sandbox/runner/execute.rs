//! Step 2 and the command: create, verify, attach, start, verify again, then stream the output
//! and wait (timeout, OOM) — [`execute`]. The caller removes the container.

use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::errors::Error as BollardError;
use bollard::query_parameters::{AttachContainerOptionsBuilder, CreateContainerOptionsBuilder};
use futures_util::StreamExt;

use super::super::profile::HardenedProfile;
use super::super::verify::{self, CgroupLimits, Check, CheckStatus};
use super::super::{
    EXIT_OOM_KILLED, EXIT_TIMED_OUT, OutputSink, RunResult, SandboxError, SandboxOptions,
    Truncated, Verification,
};
use super::daemon::{api, inspect, kill};
use super::evidence::{
    OomEvidence, daemon_is_local, kernel_oom_kills, kernel_uids, memory_limit_hit, oom_events,
    read_cgroup,
};
use super::user::UserResolution;

/// Output kept for the result, up to a limit.
struct Capture {
    buf: Vec<u8>,
    limit: usize,
    truncated: bool,
}

impl Capture {
    fn new(limit: usize) -> Self {
        Capture {
            buf: Vec::new(),
            limit,
            truncated: false,
        }
    }

    /// Keeps what fits; returns the part to forward live.
    fn push<'a>(&mut self, bytes: &'a [u8]) -> &'a [u8] {
        let room = self.limit.saturating_sub(self.buf.len());
        let take = room.min(bytes.len());
        if take < bytes.len() {
            self.truncated = true;
        }
        self.buf.extend_from_slice(&bytes[..take]);
        &bytes[..take]
    }
}

/// Create, verify, start, verify, stream and wait. The caller removes the container.
pub(super) async fn execute(
    docker: &Docker,
    profile: &HardenedProfile,
    name: &str,
    options: &SandboxOptions,
    sink: &mut dyn OutputSink,
    started: Instant,
    resolution: &UserResolution,
) -> Result<RunResult, SandboxError> {
    let created = docker
        .create_container(
            Some(CreateContainerOptionsBuilder::new().name(name).build()),
            profile.create_body(),
        )
        .await
        .map_err(api("create the container"))?;
    let mut verification = Verification {
        daemon_warnings: created.warnings,
        ..Verification::default()
    };

    // Step 2a: the daemon's view of the created container, before any of its code runs.
    let created_view = inspect(docker, name).await?;
    let checks = verify::check_container(profile, &created_view, &CgroupLimits::default());
    judge(&checks, options.allow_degraded)?;

    let attach = docker
        .attach_container(
            name,
            Some(
                AttachContainerOptionsBuilder::new()
                    .stdin(profile.stdin)
                    .stdout(true)
                    .stderr(true)
                    .stream(true)
                    .logs(false)
                    .build(),
            ),
        )
        .await
        .map_err(api("attach to the container"))?;
    // Seconds since the epoch just before start (minus one for clock rounding): the window in
    // which to look for this container's `oom` event if `OOMKilled` lags behind (see below).
    let start_secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs().saturating_sub(1));
    // The daemon's `oom` events for this container, subscribed to before start so none is missed.
    let mut oom_events = oom_events(docker, name, start_secs);
    // The kernel's count of OOM kills (all cgroups) before the command runs; see `OomEvidence`.
    let kernel_ooms_before = kernel_oom_kills();
    docker
        .start_container(name, None)
        .await
        .map_err(api("start the container"))?;
    let deadline = tokio::time::Instant::now() + options.timeout;

    // Step 2b: again after start, with the kernel's cgroup limits when the daemon is local.
    let started_view = inspect(docker, name).await?;
    let container_id = started_view.id.clone().unwrap_or_default();
    let cgroup = read_cgroup(&container_id);
    let mut checks = verify::check_container(profile, &started_view, &cgroup);
    // The uid of the running processes, from the kernel when the daemon is on this host.
    let pid = started_view
        .state
        .as_ref()
        .and_then(|s| s.pid)
        .unwrap_or_default();
    let uid = verify::uid_evidence(
        kernel_uids(&container_id, pid),
        resolution.uid,
        &resolution.how,
    );
    if let Some(u) = &uid
        && u.uid == 0
        && !options.allow_root
    {
        kill(docker, name).await;
        return Err(SandboxError::RootUser {
            user: profile.user.clone(),
            how: u.how.clone(),
        });
    }
    checks.push(verify::uid_check(uid.as_ref(), options.allow_root));
    if let Err(e) = judge(&checks, options.allow_degraded) {
        kill(docker, name).await;
        return Err(e);
    }
    verification.verified = checks
        .iter()
        .filter(|c| c.status == CheckStatus::Verified)
        .map(|c| c.name)
        .collect();
    verification.failed = checks
        .iter()
        .filter(|c| c.status == CheckStatus::Failed)
        .map(|c| c.name)
        .collect();
    verification.verified.dedup();
    verification.failed.dedup();
    verification.checks = checks;

    let mut stdout = Capture::new(options.output_limit);
    let mut stderr = Capture::new(options.output_limit);
    let mut output = attach.output;
    // This process's stdin, fed to the command until its end, then closed (`StdinOnce`); the
    // task ends with the run (the runtime is dropped), the reading thread at its next read.
    let _feeder = profile
        .stdin
        .then(|| tokio::spawn(feed_stdin(attach.input, options.output_limit)));
    let mut wait = docker.wait_container(name, None);
    let mut exit_code: Option<i64> = None;
    let mut output_done = false;
    let mut timed_out = false;
    let mut drain_until: Option<tokio::time::Instant> = None;
    // Whether the memory cgroup ever hit its limit (sampled while the command runs; local
    // daemon only): with `init`, an OOM kill can end the run before the daemon records it.
    let mut hit_memory_limit = false;
    let mut oom_event = false;
    let mut oom_events_done = false;
    let mut sample = tokio::time::interval(Duration::from_millis(10));
    loop {
        if output_done && exit_code.is_some() {
            break;
        }
        let stop = drain_until.map_or(deadline, |d| d.min(deadline));
        tokio::select! {
            _ = sample.tick(), if !hit_memory_limit && exit_code.is_none() => {
                hit_memory_limit = memory_limit_hit(&container_id);
            },
            event = oom_events.next(), if !oom_event && !oom_events_done => match event {
                Some(Ok(e)) => oom_event = e.action.as_deref() == Some("oom"),
                Some(Err(_)) | None => oom_events_done = true,
            },
            chunk = output.next(), if !output_done => match chunk {
                Some(Ok(LogOutput::StdOut { message } | LogOutput::Console { message })) => {
                    let live = stdout.push(&message);
                    if !live.is_empty() {
                        sink.stdout(live);
                    }
                    if sink.closed() {
                        kill_draining(docker, name, &mut output).await;
                        return Err(SandboxError::OutputClosed);
                    }
                }
                Some(Ok(LogOutput::StdErr { message })) => {
                    let live = stderr.push(&message);
                    if !live.is_empty() {
                        sink.stderr(live);
                    }
                    if sink.closed() {
                        kill_draining(docker, name, &mut output).await;
                        return Err(SandboxError::OutputClosed);
                    }
                }
                Some(Ok(LogOutput::StdIn { .. })) => {}
                Some(Err(_)) | None => output_done = true,
            },
            status = wait.next(), if exit_code.is_none() => {
                exit_code = Some(match status {
                    Some(Ok(r)) => r.status_code,
                    Some(Err(BollardError::DockerContainerWaitError { code, .. })) => code,
                    Some(Err(e)) => return Err(api("wait for the container")(e)),
                    None => {
                        // The wait stream ended without a status: ask the daemon.
                        let i = inspect(docker, name).await?;
                        i.state.and_then(|s| s.exit_code).unwrap_or(-1)
                    }
                });
                // The attach stream ends right after the process; don't wait on it forever.
                drain_until = Some(tokio::time::Instant::now() + Duration::from_secs(2));
            },
            () = tokio::time::sleep_until(stop) => {
                if exit_code.is_none() {
                    timed_out = true;
                    kill_draining(docker, name, &mut output).await;
                }
                break;
            }
        }
    }
    let mut state = inspect(docker, name).await?.state.unwrap_or_default();
    let killed = !timed_out && exit_code.or(state.exit_code) == Some(i64::from(EXIT_OOM_KILLED));
    let mut evidence = OomEvidence {
        daemon: state.oom_killed.unwrap_or(false),
        event: oom_event,
        cgroup: hit_memory_limit,
        kernel: false,
    };
    // The kernel's counter is this host's: it speaks for the container only when the daemon runs
    // here. The cgroup read after start says so, unless the command was killed before that read
    // (a fast OOM): then the daemon's host name decides.
    if killed
        && kernel_oom_kills()
            .zip(kernel_ooms_before)
            .is_some_and(|(after, before)| after > before)
    {
        evidence.kernel = cgroup.memory.is_some() || daemon_is_local(docker).await;
    }
    // A SIGKILL with no word of an OOM yet: the daemon's `oom` event and `OOMKilled` flag can
    // trail the exit (with `init` as PID 1 the kernel kills the child and init exits 137), so
    // give them a moment before deciding.
    if killed && !evidence.any() && !oom_events_done {
        let grace = tokio::time::Instant::now() + Duration::from_millis(1500);
        while let Ok(Some(event)) = tokio::time::timeout_at(grace, oom_events.next()).await {
            if event.is_ok_and(|e| e.action.as_deref() == Some("oom")) {
                evidence.event = true;
                break;
            }
        }
        state = inspect(docker, name).await?.state.unwrap_or_default();
        evidence.daemon = state.oom_killed.unwrap_or(false);
    }
    drop(oom_events);
    let oom_killed = evidence.daemon || (killed && evidence.any());
    let exit_code = if timed_out {
        i64::from(EXIT_TIMED_OUT)
    } else if oom_killed {
        i64::from(EXIT_OOM_KILLED)
    } else {
        exit_code.or(state.exit_code).unwrap_or(-1)
    };
    Ok(RunResult {
        exit_code,
        stdout: String::from_utf8_lossy(&stdout.buf).into_owned(),
        stderr: String::from_utf8_lossy(&stderr.buf).into_owned(),
        truncated: Truncated {
            stdout: stdout.truncated,
            stderr: stderr.truncated,
        },
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        timed_out,
        oom_killed: oom_killed && !timed_out,
        image: profile.image.clone(),
        user: profile.user.clone(),
        uid,
        container: name.to_string(),
        allowed: Vec::new(),
        notes: Vec::new(),
        verification,
    })
}

/// Copies this process's stdin (a duplicate of fd 0: the CLI holds the lock of
/// `std::io::stdin()`) into the container's attached stdin, then closes it. A thread does the
/// blocking reads; a command that stops reading makes the copy wait, never the run.
///
/// At most `limit` bytes (the output cap) are passed, then the command's stdin is closed: an
/// endless input (`yes | sandlint run ... -- cat`) ends like a finite one. An input the
/// command does not read can block the daemon's copy into it, and with it the daemon's other
/// calls on the container (inspect, kill) while the command's output is not read: the run
/// reads the output while it kills ([`kill_draining`]).
async fn feed_stdin(mut input: std::pin::Pin<Box<dyn tokio::io::AsyncWrite + Send>>, limit: usize) {
    use tokio::io::AsyncWriteExt;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
    #[cfg(unix)]
    let source = {
        use std::os::fd::AsFd;
        std::io::stdin()
            .as_fd()
            .try_clone_to_owned()
            .map(std::fs::File::from)
    };
    #[cfg(not(unix))]
    let source: std::io::Result<std::fs::File> = Err(std::io::Error::other("no stdin"));
    if let Ok(mut file) = source {
        std::thread::spawn(move || {
            use std::io::Read;
            let mut buf = vec![0u8; 64 * 1024];
            let mut left = limit;
            while left > 0 {
                let want = buf.len().min(left);
                match file.read(&mut buf[..want]) {
                    Ok(0) => break,
                    Ok(n) => {
                        left -= n;
                        if tx.blocking_send(buf[..n].to_vec()).is_err() {
                            break;
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
        });
    } else {
        drop(tx);
    }
    while let Some(chunk) = rx.recv().await {
        if input.write_all(&chunk).await.is_err() {
            return;
        }
    }
    let _ = input.flush().await;
    let _ = input.shutdown().await;
}

/// Kills the container while reading (and dropping) its output: a command blocked on a full
/// output pipe can hold up the daemon's stdin copy and with it the kill.
async fn kill_draining(
    docker: &Docker,
    name: &str,
    output: &mut (impl futures_util::Stream<Item = Result<LogOutput, BollardError>> + Unpin),
) {
    let k = kill(docker, name);
    tokio::pin!(k);
    let mut open = true;
    loop {
        tokio::select! {
            () = &mut k => break,
            chunk = output.next(), if open => open = chunk.is_some(),
        }
    }
}

/// Fails closed when a requested protection did not take effect.
fn judge(checks: &[Check], allow_degraded: bool) -> Result<(), SandboxError> {
    let failed: Vec<Check> = checks
        .iter()
        .filter(|c| c.status == CheckStatus::Failed)
        .cloned()
        .collect();
    if failed.is_empty() || allow_degraded {
        Ok(())
    } else {
        Err(SandboxError::Degraded { failed })
    }
}
