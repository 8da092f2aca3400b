//! `session exec`: the command through the Engine API's exec endpoints, its output capped, a timeout
//! killing it (through the kernel) or, failing that, the session.

#[allow(
    clippy::wildcard_imports,
    reason = "the session module's imports and helpers"
)]
use super::*;

/// `session exec`.
pub(in crate::sandbox) async fn exec(
    id: &str,
    argv: &[String],
    timeout: Option<Duration>,
    output_limit: Option<usize>,
    sink: &mut dyn OutputSink,
) -> Result<ExecResult, SandboxError> {
    if argv.is_empty() {
        return Err(SandboxError::InvalidOption {
            message: "no command: give it after `--`".to_string(),
        });
    }
    let started = Instant::now();
    let docker = connect().await?;
    let (state, verification) = reverify(&docker, id).await?;
    let cid = state.container_id.clone();
    let timeout = timeout.unwrap_or(Duration::from_millis(state.timeout_ms));
    let limit = output_limit.unwrap_or(state.output_limit);
    let left = Duration::from_secs(state.deadline.saturating_sub(unix_now()));
    let deadline = tokio::time::Instant::now() + timeout.min(left);
    // the proxy's log lines from here on are this exec's
    let since = std::time::SystemTime::now();
    let created = create_exec(&docker, &state, argv).await?;
    let mut output = match docker
        .start_exec(&created.id, None)
        .await
        .map_err(api("start the exec"))?
    {
        StartExecResults::Attached { output, .. } => output,
        StartExecResults::Detached => {
            return Err(SandboxError::Docker {
                action: "start the exec",
                message: "the daemon detached it".to_string(),
            });
        }
    };
    let mut out = Cap::new(limit);
    let mut err = Cap::new(limit);
    let mut timed_out = false;
    let mut reader_gone = false;
    loop {
        tokio::select! {
            chunk = output.next() => match chunk {
                Some(Ok(LogOutput::StdOut { message } | LogOutput::Console { message })) => {
                    let live = out.push(&message);
                    if !live.is_empty() { sink.stdout(live); }
                }
                Some(Ok(LogOutput::StdErr { message })) => {
                    let live = err.push(&message);
                    if !live.is_empty() { sink.stderr(live); }
                }
                Some(Ok(LogOutput::StdIn { .. })) => {}
                Some(Err(_)) | None => break,
            },
            () = tokio::time::sleep_until(deadline) => {
                timed_out = true;
                break;
            }
        }
        if sink.closed() {
            reader_gone = true;
            break;
        }
    }
    let mut session_stopped = false;
    let exit_code = if timed_out || reader_gone {
        // The output is read (and dropped) while the command is killed: a command blocked on a
        // full output pipe must not hold up the daemon's view of its end.
        let killing = kill_exec(&docker, &created.id, &cid);
        tokio::pin!(killing);
        let mut open = true;
        let killed = loop {
            tokio::select! {
                k = &mut killing => break k,
                chunk = output.next(), if open => open = chunk.is_some(),
            }
        };
        drop(output);
        if !killed {
            // Fail closed: a command that cannot be stopped takes its session with it.
            kill(&docker, &cid).await;
            remove(&docker, &cid).await;
            super::super::super::egress::remove_run(&docker, &state.container).await;
            forget(id);
            session_stopped = true;
        }
        if reader_gone {
            return Err(SandboxError::SessionOutputClosed);
        }
        i64::from(EXIT_TIMED_OUT)
    } else {
        exec_status(&docker, &created.id).await?
    };
    let egress = match &state.egress {
        Some(rec) => Some(egress_report(&docker, rec, since, &verification).await),
        None => None,
    };
    Ok(ExecResult {
        exit_code,
        stdout: String::from_utf8_lossy(&out.buf).into_owned(),
        stderr: String::from_utf8_lossy(&err.buf).into_owned(),
        truncated: Truncated {
            stdout: out.truncated,
            stderr: err.truncated,
        },
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        timed_out,
        session_stopped,
        session: id.to_string(),
        verification,
        egress,
    })
}

/// The exec, as the session's user in its working directory, no stdin, no privileges.
async fn create_exec(
    docker: &Docker,
    state: &SessionState,
    argv: &[String],
) -> Result<bollard::exec::CreateExecResults, SandboxError> {
    docker
        .create_exec(
            &state.container_id,
            CreateExecOptions {
                attach_stdin: Some(false),
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                tty: Some(false),
                cmd: Some(argv.to_vec()),
                privileged: Some(false),
                user: Some(state.profile.user.clone()),
                working_dir: state.profile.working_dir.clone(),
                ..CreateExecOptions::default()
            },
        )
        .await
        .map_err(api("create the exec"))
}

/// The proxy's decisions since the exec's start, with the re-verification's egress checks.
async fn egress_report(
    docker: &Docker,
    rec: &super::super::super::egress::SessionEgress,
    since: std::time::SystemTime,
    verification: &ExecVerification,
) -> super::super::super::egress::EgressReport {
    super::super::super::egress::exec_report(docker, rec, since, verification.egress.clone()).await
}

/// Output kept up to a limit.
struct Cap {
    buf: Vec<u8>,
    limit: usize,
    truncated: bool,
}

impl Cap {
    fn new(limit: usize) -> Cap {
        Cap {
            buf: Vec::new(),
            limit,
            truncated: false,
        }
    }

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

/// The exit status of a finished exec (the daemon may report it a moment after the stream ends).
async fn exec_status(docker: &Docker, exec_id: &str) -> Result<i64, SandboxError> {
    for _ in 0..50 {
        let i = docker
            .inspect_exec(exec_id)
            .await
            .map_err(api("inspect the exec"))?;
        if i.running != Some(true) {
            return Ok(i.exit_code.unwrap_or(-1));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(-1)
}

/// Kills a timed-out exec and its descendants through the kernel (the Engine API cannot kill an
/// exec): only processes whose cgroup names the container, so a remote daemon's pid never
/// reaches a process of this host. `false` when it could not be done, or it still runs.
async fn kill_exec(docker: &Docker, exec_id: &str, container_id: &str) -> bool {
    let Ok(i) = docker.inspect_exec(exec_id).await else {
        return false;
    };
    if i.running != Some(true) {
        return true;
    }
    let Some(pid) = i.pid.filter(|p| *p > 0) else {
        return false;
    };
    if !kill_tree(container_id, pid) {
        return false;
    }
    // up to 10 s: a loaded daemon can be slow to see the end
    for _ in 0..200 {
        match docker.inspect_exec(exec_id).await {
            Ok(i) if i.running != Some(true) => return true,
            Ok(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            Err(_) => return false,
        }
    }
    false
}

/// Whether `/proc/<pid>/cgroup` names the container.
fn in_container(pid: i64, container_id: &str) -> bool {
    !container_id.is_empty()
        && std::fs::read_to_string(format!("/proc/{pid}/cgroup"))
            .is_ok_and(|c| c.contains(container_id))
}

/// SIGKILLs `pid` and every descendant in the container (stopped first, so none forks away).
#[cfg(unix)]
fn kill_tree(container_id: &str, pid: i64) -> bool {
    if !in_container(pid, container_id) {
        return false;
    }
    let mut parents: HashMap<i64, Vec<i64>> = HashMap::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.filter_map(Result::ok).take(1_000_000) {
            let Some(p) = e.file_name().to_str().and_then(|s| s.parse::<i64>().ok()) else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
                continue;
            };
            // pid (comm) state ppid ...: comm may hold spaces and parentheses
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|s| s.parse::<i64>().ok());
            if let Some(pp) = ppid {
                parents.entry(pp).or_default().push(p);
            }
        }
    }
    let mut tree = vec![pid];
    let mut i = 0;
    while i < tree.len() && tree.len() < 100_000 {
        if let Some(children) = parents.get(&tree[i]) {
            tree.extend(children.iter().copied());
        }
        i += 1;
    }
    let tree: Vec<i32> = tree
        .into_iter()
        .filter(|p| in_container(*p, container_id))
        .filter_map(|p| i32::try_from(p).ok())
        .collect();
    for p in &tree {
        // SAFETY: kill(2) with a pid read from /proc and checked to be in the container.
        unsafe { libc::kill(*p, libc::SIGSTOP) };
    }
    let mut sent = false;
    for p in &tree {
        // SAFETY: as above.
        sent |= unsafe { libc::kill(*p, libc::SIGKILL) } == 0;
    }
    sent
}

#[cfg(not(unix))]
fn kill_tree(_container_id: &str, _pid: i64) -> bool {
    false
}
