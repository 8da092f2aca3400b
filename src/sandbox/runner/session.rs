//! Sessions on the daemon (see `src/sandbox/session.rs`): start (the run's plan, rules, create
//! and verification, with a `sleep` for the TTL), re-verification before every call, exec,
//! archive copies, listing, stop, gc and the TTL watchdog.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecResults};
use bollard::models::{
    ContainerInspectResponse, Mount, MountType, MountVolumeOptions, MountVolumeOptionsDriverConfig,
};
use bollard::query_parameters::{
    ContainerArchiveInfoOptionsBuilder, CreateContainerOptionsBuilder,
    DownloadFromContainerOptionsBuilder, ListContainersOptionsBuilder,
    UploadToContainerOptionsBuilder,
};
use futures_util::StreamExt;

use super::super::profile::{LABEL_DEADLINE, LABEL_MANAGED, LABEL_OWNER, WORKSPACE};
use super::super::session::{
    ExecResult, ExecVerification, LABEL_PROFILE_HASH, LABEL_SESSION, PutSource, SessionInfo,
    SessionOptions, SessionState, TransferResult, container_name, forget, go_mode, load_state,
    new_id, pack, profile_hash, recorded_ids, remote_string, save_state, unpack, unpack_bytes,
    workspace_path,
};
use super::super::verify::{self, CgroupLimits, Check, CheckStatus};
use super::super::{EXIT_TIMED_OUT, OutputSink, Program, SandboxError, Truncated};
use super::daemon::{api, ensure_image, inspect, is_not_found, kill, remove};
use super::evidence::{kernel_uids, read_cgroup};
use super::planning::{invoker_allows, judge_plan, lint, plan};
use super::user::{fit_mounts, resolve_user};
use super::{connect, host_name, summary, unix_now};

fn failed_names(checks: &[Check]) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = checks
        .iter()
        .filter(|c| c.status == CheckStatus::Failed)
        .map(|c| c.name)
        .collect();
    v.dedup();
    v
}

fn verification(checks: Vec<Check>) -> ExecVerification {
    let mut verified: Vec<&'static str> = checks
        .iter()
        .filter(|c| c.status == CheckStatus::Verified)
        .map(|c| c.name)
        .collect();
    verified.dedup();
    ExecVerification {
        failed: failed_names(&checks),
        verified,
        checks,
    }
}

/// The daemon's view without sandlint's `/workspace` volume (checked on its own by
/// [`workspace_check`]): the run's mount check knows bind mounts and tmpfs only.
fn without_workspace_volume(view: &ContainerInspectResponse) -> ContainerInspectResponse {
    let mut v = view.clone();
    if let Some(mounts) = &mut v.mounts {
        mounts.retain(|m| {
            !(m.destination.as_deref() == Some(WORKSPACE) && m.typ.as_deref() == Some("volume"))
        });
    }
    v
}

/// `/workspace` is the session's own tmpfs volume: one writable volume mount named `expected`
/// (or, before it is known, any anonymous one of the local driver).
fn workspace_check(view: &ContainerInspectResponse, expected: Option<&str>) -> Check {
    let found: Vec<_> = view
        .mounts
        .iter()
        .flatten()
        .filter(|m| {
            m.destination.as_deref() == Some(WORKSPACE) && m.typ.as_deref() == Some("volume")
        })
        .collect();
    let ok = match found.as_slice() {
        [m] => {
            m.rw == Some(true)
                && m.driver.as_deref() == Some("local")
                && expected.is_none_or(|e| m.name.as_deref() == Some(e))
        }
        _ => false,
    };
    let actual = match found.as_slice() {
        [] => "missing".to_string(),
        [m] => format!(
            "volume {} ({}, driver {})",
            m.name.as_deref().unwrap_or("?"),
            if m.rw == Some(true) { "rw" } else { "ro" },
            m.driver.as_deref().unwrap_or("?")
        ),
        more => format!("{} volumes", more.len()),
    };
    Check {
        name: "workspace-volume",
        status: if ok {
            CheckStatus::Verified
        } else {
            CheckStatus::Failed
        },
        expected: format!(
            "the session's tmpfs volume on {WORKSPACE}{}",
            expected.map(|e| format!(" ({e})")).unwrap_or_default()
        ),
        actual,
    }
}

/// The run's checks of the daemon's view, plus the workspace volume.
fn check_view(
    state_profile: &super::super::profile::HardenedProfile,
    view: &ContainerInspectResponse,
    cgroup: &CgroupLimits,
    volume: Option<Option<&str>>,
) -> Vec<Check> {
    let mut checks =
        verify::check_container(state_profile, &without_workspace_volume(view), cgroup);
    if let Some(expected) = volume {
        checks.push(workspace_check(view, expected));
    }
    checks
}

fn degraded(checks: &[Check], allow_degraded: bool) -> Result<(), SandboxError> {
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

/// A started watchdog: its pid names the owner of the container.
struct SessionWatchdog {
    child: Option<std::process::Child>,
}

impl SessionWatchdog {
    fn spawn(
        exe: Option<&Path>,
        id: &str,
        container: &str,
        deadline: u64,
        bound_to: Option<u32>,
    ) -> SessionWatchdog {
        let Some(exe) = exe else {
            return SessionWatchdog { child: None };
        };
        let mut cmd = std::process::Command::new(exe);
        cmd.args([
            "session",
            "watch",
            id,
            "--container",
            container,
            "--deadline",
            &deadline.to_string(),
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
        if let Some(pid) = bound_to {
            cmd.args(["--bound-to", &pid.to_string()]);
        }
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
        }
        SessionWatchdog {
            child: cmd.spawn().ok(),
        }
    }

    /// `host:pid` of the watchdog (which lives as long as the session), else `session:ID`
    /// (never an orphan by pid: the deadline bounds it).
    fn owner(&self, id: &str) -> String {
        match &self.child {
            Some(c) => format!(
                "{}:{}",
                host_name().unwrap_or_else(|| "unknown".to_string()),
                c.id()
            ),
            None => format!("session:{id}"),
        }
    }

    /// The start failed: the watchdog has nothing to watch.
    fn cancel(mut self) {
        if let Some(c) = &mut self.child {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// The session started: the watchdog lives on alone (a thread would reap it, but this
    /// process is about to exit; init adopts it).
    fn detach(self) {}
}

/// `session start`.
pub(in crate::sandbox) async fn start(opts: &SessionOptions) -> Result<SessionInfo, SandboxError> {
    let options = &opts.sandbox;
    let invalid = |message: String| SandboxError::InvalidOption { message };
    if opts.ttl.as_secs() < 1 {
        return Err(invalid("--ttl must be at least 1s".to_string()));
    }
    if opts.workspace_size < 1024 * 1024 {
        return Err(invalid(
            "--workspace-size must be at least 1MiB".to_string(),
        ));
    }
    let mut plan = plan(options, &Program::ImageDefault)?;
    let ttl = opts.ttl.as_secs();
    // The container's one process: a harmless sleep that ends at the deadline anyway.
    plan.profile.entrypoint = Some(vec!["sleep".to_string()]);
    plan.profile.command = Some(vec![(ttl + 2).to_string()]);
    plan.profile.stdin = false;
    let volume = options.workspace.is_none();
    if volume {
        plan.profile.working_dir = Some(WORKSPACE.to_string());
        plan.notes.push(format!(
            "workspace: a {} MiB tmpfs volume on {WORKSPACE} (removed with the session)",
            opts.workspace_size / (1024 * 1024)
        ));
    }
    let allows = invoker_allows(options);
    let mut report = judge_plan(lint(&plan.profile, &allows)?)?;
    let docker = connect().await?;
    let mut quiet = super::super::NoOutput;
    let (_, image) = tokio::join!(
        super::cleanup::reap(&docker, super::cleanup::Reap::Expired),
        ensure_image(&docker, &plan, &mut quiet)
    );
    let image = image?;
    let mut resolution = resolve_user(&docker, &mut plan, &image, options.allow_root).await?;
    if fit_mounts(&docker, &mut plan, &mut resolution, options).await? {
        report = judge_plan(lint(&plan.profile, &allows)?)?;
    }
    let id = new_id();
    let name = container_name(&id);
    let deadline = unix_now() + ttl;
    let watchdog = SessionWatchdog::spawn(
        options.watchdog.as_deref(),
        &id,
        &name,
        deadline,
        opts.bound_to,
    );
    let profile = &mut plan.profile;
    profile
        .labels
        .insert(LABEL_DEADLINE.to_string(), deadline.to_string());
    profile.labels.insert(LABEL_SESSION.to_string(), id.clone());
    profile
        .labels
        .insert(LABEL_OWNER.to_string(), watchdog.owner(&id));
    let hash = profile_hash(profile);
    profile
        .labels
        .insert(LABEL_PROFILE_HASH.to_string(), hash.clone());
    let uid = resolution.uid;
    let gid = profile
        .user
        .split_once(':')
        .and_then(|(_, g)| g.trim().parse::<u32>().ok())
        .or(uid);
    let mut body = profile.create_body();
    // The daemon itself removes the container (and its anonymous /workspace volume) once its
    // sleep ends at the deadline: the TTL holds even with every sandlint process killed.
    body.host_config
        .get_or_insert_with(Default::default)
        .auto_remove = Some(true);
    if volume {
        let mut o = format!("size={},nosuid,nodev", opts.workspace_size);
        match (uid, gid) {
            (Some(u), Some(g)) => o.push_str(&format!(",uid={u},gid={g},mode=0700")),
            _ => o.push_str(",mode=1777"),
        }
        let mut driver_opts = HashMap::new();
        driver_opts.insert("type".to_string(), "tmpfs".to_string());
        driver_opts.insert("device".to_string(), "tmpfs".to_string());
        driver_opts.insert("o".to_string(), o);
        let mut labels = HashMap::new();
        labels.insert(LABEL_MANAGED.to_string(), "true".to_string());
        labels.insert(LABEL_SESSION.to_string(), id.clone());
        let hc = body.host_config.get_or_insert_with(Default::default);
        hc.mounts.get_or_insert_with(Vec::new).push(Mount {
            target: Some(WORKSPACE.to_string()),
            typ: Some(MountType::VOLUME),
            read_only: Some(false),
            volume_options: Some(MountVolumeOptions {
                driver_config: Some(MountVolumeOptionsDriverConfig {
                    name: Some("local".to_string()),
                    options: Some(driver_opts),
                }),
                labels: Some(labels),
                ..MountVolumeOptions::default()
            }),
            ..Mount::default()
        });
    }
    let created = create_and_verify(
        &docker,
        &plan.profile,
        &name,
        body,
        volume,
        options,
        &resolution,
    )
    .await;
    let (container_id, volume_name, checks, daemon_warnings) = match created {
        Ok(x) => x,
        Err(e) => {
            remove(&docker, &name).await;
            watchdog.cancel();
            return Err(e);
        }
    };
    let state = SessionState {
        id: id.clone(),
        container_id,
        container: name.clone(),
        profile: plan.profile.clone(),
        profile_hash: hash.clone(),
        deadline,
        uid,
        gid,
        workspace_volume: volume,
        volume_name,
        workspace_size: opts.workspace_size,
        allow_root: options.allow_root,
        allow_degraded: options.allow_degraded,
        failed_at_start: failed_names(&checks)
            .iter()
            .map(|s| s.to_string())
            .collect(),
        timeout_ms: u64::try_from(options.timeout.as_millis()).unwrap_or(u64::MAX),
        output_limit: options.output_limit,
    };
    if let Err(e) = save_state(&state) {
        remove(&docker, &name).await;
        watchdog.cancel();
        return Err(e);
    }
    watchdog.detach();
    let v = verification(checks);
    let mut notes = plan.notes;
    notes.extend(daemon_warnings.into_iter().map(|w| format!("daemon: {w}")));
    Ok(SessionInfo {
        id,
        container: name,
        image: plan.profile.image.clone(),
        user: plan.profile.user.clone(),
        deadline,
        ttl_left: deadline.saturating_sub(unix_now()),
        profile_hash: hash,
        state: "running".to_string(),
        recorded: true,
        verified: v.verified,
        failed: v.failed,
        findings: summary(&report).findings,
        allowed: report.relaxations.clone(),
        notes,
    })
}

type Created = (String, Option<String>, Vec<Check>, Vec<String>);

/// Create, verify (before start), start, verify again with the kernel's view.
async fn create_and_verify(
    docker: &Docker,
    profile: &super::super::profile::HardenedProfile,
    name: &str,
    body: bollard::models::ContainerCreateBody,
    volume: bool,
    options: &super::super::SandboxOptions,
    resolution: &super::user::UserResolution,
) -> Result<Created, SandboxError> {
    let created = docker
        .create_container(
            Some(CreateContainerOptionsBuilder::new().name(name).build()),
            body,
        )
        .await
        .map_err(api("create the container"))?;
    let view = inspect(docker, name).await?;
    let vol = volume.then_some(None);
    degraded(
        &check_view(profile, &view, &CgroupLimits::default(), vol),
        options.allow_degraded,
    )?;
    docker
        .start_container(name, None)
        .await
        .map_err(api("start the container"))?;
    let view = inspect(docker, name).await?;
    let cid = view.id.clone().unwrap_or_default();
    let volume_name = view
        .mounts
        .iter()
        .flatten()
        .find(|m| m.destination.as_deref() == Some(WORKSPACE) && m.typ.as_deref() == Some("volume"))
        .and_then(|m| m.name.clone());
    let cgroup = read_cgroup(&cid);
    let mut checks = check_view(
        profile,
        &view,
        &cgroup,
        volume.then_some(volume_name.as_deref()),
    );
    let pid = view.state.as_ref().and_then(|s| s.pid).unwrap_or_default();
    let uid = verify::uid_evidence(kernel_uids(&cid, pid), resolution.uid, &resolution.how);
    if let Some(u) = &uid
        && u.uid == 0
        && !options.allow_root
    {
        return Err(SandboxError::RootUser {
            user: profile.user.clone(),
            how: u.how.clone(),
        });
    }
    checks.push(verify::uid_check(uid.as_ref(), options.allow_root));
    degraded(&checks, options.allow_degraded)?;
    Ok((cid, volume_name, checks, created.warnings))
}

fn tampered(id: &str, why: String) -> SandboxError {
    SandboxError::SessionTampered {
        id: id.to_string(),
        why,
    }
}

/// Before every call: the session's state file, and the container it names still as sandlint
/// created and verified it.
async fn reverify(
    docker: &Docker,
    id: &str,
) -> Result<(SessionState, ExecVerification), SandboxError> {
    let Some(state) = load_state(id)? else {
        return Err(SandboxError::SessionNotFound { id: id.to_string() });
    };
    let view = match docker.inspect_container(&state.container_id, None).await {
        Ok(v) => v,
        Err(e) if is_not_found(&e) => {
            forget(id);
            return Err(SandboxError::SessionNotFound { id: id.to_string() });
        }
        Err(e) => return Err(api("inspect the session's container")(e)),
    };
    if state.deadline <= unix_now() {
        remove(docker, &state.container_id).await;
        forget(id);
        return Err(tampered(id, "its TTL ended; it was removed".to_string()));
    }
    if profile_hash(&state.profile) != state.profile_hash {
        return Err(tampered(
            id,
            "its state file does not match its profile hash".to_string(),
        ));
    }
    let labels = view
        .config
        .as_ref()
        .and_then(|c| c.labels.clone())
        .unwrap_or_default();
    let want = [
        (LABEL_MANAGED, "true".to_string()),
        (LABEL_SESSION, id.to_string()),
        (LABEL_DEADLINE, state.deadline.to_string()),
        (LABEL_PROFILE_HASH, state.profile_hash.clone()),
    ];
    for (k, v) in &want {
        if labels.get(*k) != Some(v) {
            return Err(tampered(
                id,
                format!(
                    "its label {k} is {}, not {v}",
                    labels
                        .get(*k)
                        .map_or("missing".to_string(), |l| crate::escape::line(l)
                            .into_owned())
                ),
            ));
        }
    }
    let st = view.state.clone().unwrap_or_default();
    if st.running != Some(true) || st.paused == Some(true) || st.restarting == Some(true) {
        return Err(tampered(
            id,
            format!(
                "its container is not running ({})",
                st.status.map_or("unknown".to_string(), |s| s.to_string())
            ),
        ));
    }
    let cid = view.id.clone().unwrap_or_default();
    let cgroup = read_cgroup(&cid);
    let vol = state
        .workspace_volume
        .then_some(state.volume_name.as_deref());
    let mut checks = check_view(&state.profile, &view, &cgroup, vol);
    let pid = st.pid.unwrap_or_default();
    let uid = verify::uid_evidence(kernel_uids(&cid, pid), state.uid, "the session's start");
    if let Some(u) = &uid
        && u.uid == 0
        && !state.allow_root
    {
        kill(docker, &cid).await;
        remove(docker, &cid).await;
        forget(id);
        return Err(tampered(
            id,
            format!(
                "a process runs as uid 0 ({}); the session was removed",
                u.how
            ),
        ));
    }
    checks.push(verify::uid_check(uid.as_ref(), state.allow_root));
    let new_failures: Vec<String> = checks
        .iter()
        .filter(|c| {
            c.status == CheckStatus::Failed && !state.failed_at_start.iter().any(|f| f == c.name)
        })
        .map(|c| {
            format!(
                "{} (expected {}, daemon reports {})",
                c.name, c.expected, c.actual
            )
        })
        .collect();
    if !new_failures.is_empty() {
        return Err(tampered(
            id,
            format!("it was modified since start: {}", new_failures.join("; ")),
        ));
    }
    Ok((state, verification(checks)))
}

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
    let created = docker
        .create_exec(
            &cid,
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
        .map_err(api("create the exec"))?;
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
        drop(output);
        if !kill_exec(&docker, &created.id, &cid).await {
            // Fail closed: a command that cannot be stopped takes its session with it.
            kill(&docker, &cid).await;
            remove(&docker, &cid).await;
            forget(id);
            session_stopped = true;
        }
        if reader_gone {
            return Err(SandboxError::OutputClosed);
        }
        i64::from(EXIT_TIMED_OUT)
    } else {
        exec_status(&docker, &created.id).await?
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
    })
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
    for _ in 0..60 {
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

/// The container paused for the duration of `f` (no process in it can change a path between
/// the checks and the copy); unpaused on every path.
async fn paused<T>(
    docker: &Docker,
    cid: &str,
    f: impl std::future::Future<Output = Result<T, SandboxError>>,
) -> Result<T, SandboxError> {
    docker
        .pause_container(cid)
        .await
        .map_err(api("pause the session"))?;
    let r = f.await;
    if let Err(e) = docker.unpause_container(cid).await {
        // a session we cannot resume is removed, not left frozen
        kill(docker, cid).await;
        remove(docker, cid).await;
        return Err(api("unpause the session")(e));
    }
    r
}

/// The path stat of `/workspace/<parts>` (`None`: it does not exist).
async fn stat(
    docker: &Docker,
    cid: &str,
    parts: &[String],
) -> Result<Option<bollard::container::PathStatResponse>, SandboxError> {
    let path = remote_string(parts);
    match docker
        .get_container_archive_info(
            cid,
            Some(
                ContainerArchiveInfoOptionsBuilder::new()
                    .path(&path)
                    .build(),
            ),
        )
        .await
    {
        Ok(s) => Ok(Some(s)),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(api("stat a path in the session")(e)),
    }
}

fn refused(parts: &[String], why: &str) -> SandboxError {
    SandboxError::PathRefused {
        path: crate::escape::line(&remote_string(parts)).into_owned(),
        why: why.to_string(),
    }
}

/// Every existing ancestor of `/workspace/<parts>` is a real directory (no symlink on the way).
async fn check_ancestors(docker: &Docker, cid: &str, parts: &[String]) -> Result<(), SandboxError> {
    for n in 1..parts.len() {
        match stat(docker, cid, &parts[..n]).await? {
            None => return Ok(()),
            Some(s) if !s.link_target.is_empty() || s.file_mode & go_mode::SYMLINK != 0 => {
                return Err(refused(&parts[..n], "it is a symlink"));
            }
            Some(s) if s.file_mode & go_mode::DIR == 0 => {
                return Err(refused(&parts[..n], "it is not a directory"));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// `session put`.
pub(in crate::sandbox) async fn put(
    id: &str,
    source: PutSource<'_>,
    remote: &str,
    limit: u64,
) -> Result<TransferResult, SandboxError> {
    let mut parts = workspace_path(remote)?;
    let local = match source {
        PutSource::Path(p) => p,
        PutSource::Bytes(_) => Path::new(""),
    };
    if parts.is_empty() || remote.ends_with('/') {
        let base = local
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| refused(&parts, "LOCAL has no file name to copy it under"))?;
        parts.push(base.to_string());
    }
    let docker = connect().await?;
    let (state, verification) = reverify(&docker, id).await?;
    let uid = state.uid.unwrap_or(65534);
    let gid = state.gid.unwrap_or(uid);
    let (tar, files, bytes) = pack(source, &parts, uid, gid, limit)?;
    let cid = state.container_id.clone();
    paused(&docker, &cid, async {
        check_ancestors(&docker, &cid, &parts).await?;
        docker
            .upload_to_container(
                &cid,
                Some(
                    UploadToContainerOptionsBuilder::new()
                        .path(WORKSPACE)
                        .build(),
                ),
                bollard::body_full(tar.into()),
            )
            .await
            .map_err(api("copy into the session"))
    })
    .await?;
    Ok(TransferResult {
        session: id.to_string(),
        remote: remote_string(&parts),
        local: local.to_path_buf(),
        files,
        bytes,
        verification,
    })
}

/// The archive of `/workspace/<parts>` (a regular file or a directory, no symlink on the way),
/// downloaded with the container paused, at most `limit` bytes of content (plus headers).
async fn download(
    docker: &Docker,
    cid: &str,
    parts: &[String],
    limit: u64,
) -> Result<Vec<u8>, SandboxError> {
    paused(docker, cid, async {
        check_ancestors(docker, cid, parts).await?;
        match stat(docker, cid, parts).await? {
            None => return Err(refused(parts, "it does not exist")),
            Some(s) if !s.link_target.is_empty() || s.file_mode & go_mode::SYMLINK != 0 => {
                return Err(refused(parts, "it is a symlink"));
            }
            Some(s) if s.file_mode & go_mode::TYPE & !go_mode::DIR != 0 => {
                return Err(refused(parts, "it is not a regular file or a directory"));
            }
            Some(_) => {}
        }
        let mut stream = docker.download_from_container(
            cid,
            Some(
                DownloadFromContainerOptionsBuilder::new()
                    .path(&remote_string(parts))
                    .build(),
            ),
        );
        // the content's cap, plus the tar's headers
        let cap =
            limit.saturating_add(1024 * 1024 + 1024 * super::super::session::MAX_ENTRIES as u64);
        let mut data: Vec<u8> = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(api("copy from the session"))?;
            data.extend_from_slice(&chunk);
            if data.len() as u64 > cap {
                return Err(refused(
                    parts,
                    &format!("more than {limit} bytes (the transfer cap)"),
                ));
            }
        }
        Ok(data)
    })
    .await
}

/// `session get`.
pub(in crate::sandbox) async fn get(
    id: &str,
    remote: &str,
    local: &Path,
    limit: u64,
) -> Result<TransferResult, SandboxError> {
    let parts = workspace_path(remote)?;
    let docker = connect().await?;
    let (state, verification) = reverify(&docker, id).await?;
    let archive = download(&docker, &state.container_id, &parts, limit).await?;
    let name = parts.last().map_or("workspace", String::as_str);
    let (files, bytes) = unpack(&archive, name, local, limit)?;
    Ok(TransferResult {
        session: id.to_string(),
        remote: remote_string(&parts),
        local: local.to_path_buf(),
        files,
        bytes,
        verification,
    })
}

/// A file's content (MCP `read_file`).
pub(in crate::sandbox) async fn read(
    id: &str,
    remote: &str,
    limit: u64,
) -> Result<(Vec<u8>, ExecVerification), SandboxError> {
    let parts = workspace_path(remote)?;
    if parts.is_empty() {
        return Err(refused(&parts, "it is a directory"));
    }
    let docker = connect().await?;
    let (state, verification) = reverify(&docker, id).await?;
    let archive = download(&docker, &state.container_id, &parts, limit).await?;
    let name = parts.last().map_or("workspace", String::as_str);
    let data = unpack_bytes(&archive, name)?;
    if data.len() as u64 > limit {
        return Err(refused(
            &parts,
            &format!("more than {limit} bytes (the transfer cap)"),
        ));
    }
    Ok((data, verification))
}

/// The daemon's containers that carry the session label.
async fn session_containers(
    docker: &Docker,
) -> Result<Vec<bollard::models::ContainerSummary>, SandboxError> {
    let mut filters = HashMap::new();
    filters.insert(
        "label",
        vec![format!("{LABEL_MANAGED}=true"), LABEL_SESSION.to_string()],
    );
    docker
        .list_containers(Some(
            ListContainersOptionsBuilder::new()
                .all(true)
                .filters(&filters)
                .build(),
        ))
        .await
        .map_err(api("list containers"))
}

/// `session ls`.
pub(in crate::sandbox) async fn list() -> Result<Vec<SessionInfo>, SandboxError> {
    let docker = connect().await?;
    let now = unix_now();
    let mut out = Vec::new();
    for c in session_containers(&docker).await? {
        let labels = c.labels.clone().unwrap_or_default();
        let id = labels.get(LABEL_SESSION).cloned().unwrap_or_default();
        let deadline = labels
            .get(LABEL_DEADLINE)
            .and_then(|d| d.parse::<u64>().ok())
            .unwrap_or(0);
        let recorded = load_state(&id)
            .ok()
            .flatten()
            .is_some_and(|s| Some(&s.container_id) == c.id.as_ref());
        out.push(SessionInfo {
            id: crate::escape::line(&crate::source::clip(&id, 40)).into_owned(),
            container: c
                .names
                .as_ref()
                .and_then(|n| n.first().cloned())
                .map(|n| n.trim_start_matches('/').to_string())
                .unwrap_or_default(),
            image: c.image.clone().unwrap_or_default(),
            user: String::new(),
            deadline,
            ttl_left: deadline.saturating_sub(now),
            profile_hash: labels.get(LABEL_PROFILE_HASH).cloned().unwrap_or_default(),
            state: c.state.map_or("unknown".to_string(), |s| s.to_string()),
            recorded,
            verified: Vec::new(),
            failed: Vec::new(),
            findings: Vec::new(),
            allowed: Vec::new(),
            notes: Vec::new(),
        });
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// `session stop`: removes the session's container (and its volume). `false`: none was found.
pub(in crate::sandbox) async fn stop(id: &str) -> Result<bool, SandboxError> {
    super::super::session::check_id(id)?;
    let docker = connect().await?;
    let state = load_state(id).ok().flatten();
    let target = match &state {
        Some(s) => Some(s.container_id.clone()),
        None => {
            // No state on this host: only a container that carries this session's labels.
            let name = container_name(id);
            match docker.inspect_container(&name, None).await {
                Ok(v) => {
                    let labels = v.config.and_then(|c| c.labels).unwrap_or_default();
                    (labels.get(LABEL_SESSION).map(String::as_str) == Some(id)
                        && labels.get(LABEL_MANAGED).map(String::as_str) == Some("true"))
                    .then_some(name)
                }
                Err(_) => None,
            }
        }
    };
    forget(id);
    let Some(target) = target else {
        return Ok(false);
    };
    let exists = docker.inspect_container(&target, None).await.is_ok();
    kill(&docker, &target).await;
    remove(&docker, &target).await;
    Ok(exists)
}

/// `session gc`: removes expired or exited sessions and state files whose container is gone.
pub(in crate::sandbox) async fn gc() -> Result<Vec<String>, SandboxError> {
    let docker = connect().await?;
    let now = unix_now();
    let mut removed = Vec::new();
    for c in session_containers(&docker).await? {
        let labels = c.labels.clone().unwrap_or_default();
        let expired = labels
            .get(LABEL_DEADLINE)
            .and_then(|d| d.parse::<u64>().ok())
            .is_none_or(|d| d <= now);
        let running = c.state.is_some_and(|s| s.to_string() == "running");
        if (expired || !running)
            && let Some(cid) = &c.id
        {
            kill(&docker, cid).await;
            remove(&docker, cid).await;
            let id = labels.get(LABEL_SESSION).cloned().unwrap_or_default();
            forget(&id);
            removed.push(crate::escape::line(&id).into_owned());
        }
    }
    for id in recorded_ids() {
        let Ok(Some(s)) = load_state(&id) else {
            continue;
        };
        let gone = matches!(docker.inspect_container(&s.container_id, None).await, Err(e) if is_not_found(&e));
        if gone || s.deadline <= now {
            if !gone {
                kill(&docker, &s.container_id).await;
                remove(&docker, &s.container_id).await;
            }
            forget(&id);
            if !removed.contains(&id) {
                removed.push(id);
            }
        }
    }
    removed.sort();
    Ok(removed)
}

/// The session watchdog's action at the deadline: remove `container` if it is still this
/// session's (its labels name `id` and `deadline`).
pub(in crate::sandbox) async fn expire(
    id: &str,
    container: &str,
    deadline: u64,
) -> Result<(), SandboxError> {
    let docker = connect().await?;
    let view = match docker.inspect_container(container, None).await {
        Ok(v) => v,
        Err(e) if is_not_found(&e) => {
            forget(id);
            return Ok(());
        }
        Err(e) => return Err(api("inspect the container")(e)),
    };
    let labels = view.config.and_then(|c| c.labels).unwrap_or_default();
    let ours = labels.get(LABEL_SESSION).map(String::as_str) == Some(id)
        && labels.get(LABEL_DEADLINE) == Some(&deadline.to_string())
        && labels.get(LABEL_MANAGED).map(String::as_str) == Some("true");
    if ours {
        kill(&docker, container).await;
        remove(&docker, container).await;
        forget(id);
    }
    Ok(())
}
