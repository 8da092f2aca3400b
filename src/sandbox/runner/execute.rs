//! Step 2 and the command: create, verify, attach, start, verify again, then stream the output
//! and wait (timeout, OOM) — [`execute`]. The caller removes the container.

use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::container::{AttachContainerResults, LogOutput};
use bollard::errors::Error as BollardError;
use bollard::models::{ContainerInspectResponse, ContainerWaitResponse, EventMessage};
use bollard::query_parameters::{AttachContainerOptionsBuilder, CreateContainerOptionsBuilder};
use futures_util::{Stream, StreamExt};

use super::super::profile::HardenedProfile;
use super::super::verify::{self, CgroupLimits, Check, CheckStatus, UidEvidence};
use super::super::{OutputSink, RunResult, SandboxError, SandboxOptions, Truncated, Verification};
use super::daemon::{api, inspect, kill};
use super::evidence::{OomWatch, kernel_uids, read_cgroup, watch_ooms};
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
    let target = Target {
        docker,
        name,
        profile,
        options,
    };
    let mut verification = create(&target).await?;
    let attach = attach(docker, name, profile.stdin).await?;
    // Subscribed to before start so no `oom` event is missed.
    let mut ooms = watch_ooms(docker, name);
    docker
        .start_container(name, None)
        .await
        .map_err(api("start the container"))?;
    let deadline = tokio::time::Instant::now() + options.timeout;

    // Step 2b: again after start, with the kernel's cgroup limits when the daemon is local.
    let started_view = inspect(docker, name).await?;
    let container_id = started_view.id.clone().unwrap_or_default();
    let cgroup = read_cgroup(&container_id);
    let (checks, uid) = verify_started(&target, &started_view, &cgroup, resolution).await?;
    record(&mut verification, checks);

    let mut output = attach.output;
    // This process's stdin, fed to the command until its end, then closed (`StdinOnce`); the
    // task ends with the run (the runtime is dropped), the reading thread at its next read.
    let _feeder = profile
        .stdin
        .then(|| tokio::spawn(feed_stdin(attach.input, options.output_limit)));
    let mut wait = docker.wait_container(name, None);
    let running = Running {
        docker,
        name,
        id: &container_id,
        deadline,
    };
    let streamed = stream(&running, &mut output, &mut wait, &mut ooms, sink, options).await?;
    let (exit_code, oom_killed) = ooms
        .verdict(
            docker,
            name,
            streamed.exit_code,
            streamed.timed_out,
            cgroup.memory.is_some(),
        )
        .await?;
    let timed_out = streamed.timed_out;
    Ok(RunResult {
        exit_code,
        stdout: String::from_utf8_lossy(&streamed.stdout.buf).into_owned(),
        stderr: String::from_utf8_lossy(&streamed.stderr.buf).into_owned(),
        truncated: Truncated {
            stdout: streamed.stdout.truncated,
            stderr: streamed.stderr.truncated,
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
        egress: None,
    })
}

/// The container of this run as planned, and the options it runs under.
struct Target<'a> {
    docker: &'a Docker,
    name: &'a str,
    profile: &'a HardenedProfile,
    options: &'a SandboxOptions,
}

/// The started container whose output and exit [`stream`] waits for.
struct Running<'a> {
    docker: &'a Docker,
    name: &'a str,
    /// The container id (its cgroup's name on this host).
    id: &'a str,
    /// When the command times out.
    deadline: tokio::time::Instant,
}

/// Creates the container, then step 2a: the daemon's view of it, before any of its code runs,
/// checked against the plan. The verification so far: the daemon's warnings.
async fn create(target: &Target<'_>) -> Result<Verification, SandboxError> {
    let Target {
        docker,
        name,
        profile,
        options,
    } = *target;
    let created = docker
        .create_container(
            Some(CreateContainerOptionsBuilder::new().name(name).build()),
            profile.create_body(),
        )
        .await
        .map_err(api("create the container"))?;
    let verification = Verification {
        daemon_warnings: created.warnings,
        ..Verification::default()
    };
    let created_view = inspect(docker, name).await?;
    let checks = verify::check_container(profile, &created_view, &CgroupLimits::default());
    verify::judge(&checks, options.allow_degraded)?;
    Ok(verification)
}

/// Attaches to the container's output (and stdin when the profile feeds it), before start.
async fn attach(
    docker: &Docker,
    name: &str,
    stdin: bool,
) -> Result<AttachContainerResults, SandboxError> {
    docker
        .attach_container(
            name,
            Some(
                AttachContainerOptionsBuilder::new()
                    .stdin(stdin)
                    .stdout(true)
                    .stderr(true)
                    .stream(true)
                    .logs(false)
                    .build(),
            ),
        )
        .await
        .map_err(api("attach to the container"))
}

/// Step 2b: the started container checked against the plan (with the kernel's cgroup limits),
/// and the uid of its running processes, from the kernel when the daemon is on this host. A
/// root uid (unless allowed) or a failed check (unless degraded runs are allowed) kills the
/// container and fails the run.
async fn verify_started(
    target: &Target<'_>,
    view: &ContainerInspectResponse,
    cgroup: &CgroupLimits,
    resolution: &UserResolution,
) -> Result<(Vec<Check>, Option<UidEvidence>), SandboxError> {
    let Target {
        docker,
        name,
        profile,
        options,
    } = *target;
    let container_id = view.id.clone().unwrap_or_default();
    let mut checks = verify::check_container(profile, view, cgroup);
    let pid = view.state.as_ref().and_then(|s| s.pid).unwrap_or_default();
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
    if let Err(e) = verify::judge(&checks, options.allow_degraded) {
        kill(docker, name).await;
        return Err(e);
    }
    Ok((checks, uid))
}

/// The checks of the started container into the result: every check, and the names of those
/// verified and those failed.
fn record(verification: &mut Verification, checks: Vec<Check>) {
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
}

/// What [`stream`] saw until the command ended or timed out.
struct Streamed {
    stdout: Capture,
    stderr: Capture,
    /// The command's exit status, when it ended before the deadline.
    exit_code: Option<i64>,
    timed_out: bool,
}

/// Forwards the command's output to the sink (and keeps it, up to the limit) until it has
/// exited and its output has ended (or 2 s after the exit), or the deadline passed (then the
/// container is killed). While it runs, the memory cgroup is sampled and the `oom` events are
/// read ([`OomWatch`]). Fails when the reader of the output went away.
async fn stream<O, W, E>(
    running: &Running<'_>,
    output: &mut O,
    wait: &mut W,
    ooms: &mut OomWatch<E>,
    sink: &mut dyn OutputSink,
    options: &SandboxOptions,
) -> Result<Streamed, SandboxError>
where
    O: Stream<Item = Result<LogOutput, BollardError>> + Unpin,
    W: Stream<Item = Result<ContainerWaitResponse, BollardError>> + Unpin,
    E: Stream<Item = Result<EventMessage, BollardError>> + Unpin,
{
    let Running {
        docker,
        name,
        id,
        deadline,
    } = *running;
    let mut s = Streamed {
        stdout: Capture::new(options.output_limit),
        stderr: Capture::new(options.output_limit),
        exit_code: None,
        timed_out: false,
    };
    let mut output_done = false;
    let mut drain_until: Option<tokio::time::Instant> = None;
    let mut sample = tokio::time::interval(Duration::from_millis(10));
    loop {
        if output_done && s.exit_code.is_some() {
            break;
        }
        let stop = drain_until.map_or(deadline, |d| d.min(deadline));
        tokio::select! {
            _ = sample.tick(), if ooms.sampling() && s.exit_code.is_none() => ooms.sample(id),
            event = ooms.events.next(), if ooms.watching() => ooms.saw(event),
            chunk = output.next(), if !output_done => match forward(chunk, &mut s, sink) {
                Chunk::Forwarded => {}
                Chunk::Ended => output_done = true,
                Chunk::ReaderGone => {
                    kill_draining(docker, name, output).await;
                    return Err(SandboxError::OutputClosed);
                }
            },
            status = wait.next(), if s.exit_code.is_none() => {
                s.exit_code = Some(exit_status(docker, name, status).await?);
                // The attach stream ends right after the process; don't wait on it forever.
                drain_until = Some(tokio::time::Instant::now() + Duration::from_secs(2));
            },
            () = tokio::time::sleep_until(stop) => {
                if s.exit_code.is_none() {
                    s.timed_out = true;
                    kill_draining(docker, name, output).await;
                }
                break;
            }
        }
    }
    Ok(s)
}

/// What became of one item of the attach stream.
enum Chunk {
    Forwarded,
    /// The stream ended (or failed).
    Ended,
    /// The reader of the output went away.
    ReaderGone,
}

/// Keeps and forwards one item of the attach stream.
fn forward(
    chunk: Option<Result<LogOutput, BollardError>>,
    s: &mut Streamed,
    sink: &mut dyn OutputSink,
) -> Chunk {
    match chunk {
        Some(Ok(LogOutput::StdOut { message } | LogOutput::Console { message })) => {
            let live = s.stdout.push(&message);
            if !live.is_empty() {
                sink.stdout(live);
            }
        }
        Some(Ok(LogOutput::StdErr { message })) => {
            let live = s.stderr.push(&message);
            if !live.is_empty() {
                sink.stderr(live);
            }
        }
        Some(Ok(LogOutput::StdIn { .. })) => return Chunk::Forwarded,
        Some(Err(_)) | None => return Chunk::Ended,
    }
    if sink.closed() {
        Chunk::ReaderGone
    } else {
        Chunk::Forwarded
    }
}

/// The exit status from the wait stream's item; when the stream ended without one, the
/// daemon's.
async fn exit_status(
    docker: &Docker,
    name: &str,
    status: Option<Result<ContainerWaitResponse, BollardError>>,
) -> Result<i64, SandboxError> {
    Ok(match status {
        Some(Ok(r)) => r.status_code,
        Some(Err(BollardError::DockerContainerWaitError { code, .. })) => code,
        Some(Err(e)) => return Err(api("wait for the container")(e)),
        None => {
            // The wait stream ended without a status: ask the daemon.
            let i = inspect(docker, name).await?;
            i.state.and_then(|s| s.exit_code).unwrap_or(-1)
        }
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
