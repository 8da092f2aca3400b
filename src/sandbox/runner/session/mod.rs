//! Sessions on the daemon (see `src/sandbox/session.rs`): start (the run's plan, rules, create
//! and verification, with a `sleep` for the TTL; with `--allow-host`, the egress sidecar and
//! networks first), re-verification before every call (the egress resources too), exec,
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
    DownloadFromContainerOptionsBuilder, UploadToContainerOptionsBuilder,
};
use futures_util::StreamExt;

use super::super::egress::SessionEgress;
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

mod admin;
mod exec;
mod files;

pub(in crate::sandbox) use admin::{expire, gc, list, stop};
pub(in crate::sandbox) use exec::exec;
pub(in crate::sandbox) use files::get;
pub(in crate::sandbox) use files::{put, read};

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
        egress: Vec::new(),
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

/// The run's plan for a session: its options checked, its process a `sleep` past the TTL,
/// `/workspace` its volume unless `--workspace` binds a host directory (`true`: the volume).
fn session_plan(opts: &SessionOptions) -> Result<(super::planning::Plan, bool), SandboxError> {
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
    // The container's one process: a harmless sleep that ends at the deadline anyway.
    plan.profile.entrypoint = Some(vec!["sleep".to_string()]);
    plan.profile.command = Some(vec![(opts.ttl.as_secs() + 2).to_string()]);
    plan.profile.stdin = false;
    let volume = options.workspace.is_none();
    if volume {
        plan.profile.working_dir = Some(WORKSPACE.to_string());
        plan.notes.push(format!(
            "workspace: a {} MiB tmpfs volume on {WORKSPACE} (removed with the session)",
            opts.workspace_size / (1024 * 1024)
        ));
    }
    Ok((plan, volume))
}

/// `session start`.
pub(in crate::sandbox) async fn start(opts: &SessionOptions) -> Result<SessionInfo, SandboxError> {
    let options = &opts.sandbox;
    let (mut plan, volume) = session_plan(opts)?;
    let ttl = opts.ttl.as_secs();
    let allows = invoker_allows(options);
    let mut report = judge_plan(lint(&plan.profile, &allows)?)?;
    let docker = connect().await?;
    let mut quiet = super::super::NoOutput;
    let (_, image) = tokio::join!(
        super::cleanup::reap(&docker, super::cleanup::Reap::Expired),
        ensure_image(&docker, &plan, &mut quiet)
    );
    let image = image?;
    // The egress proxy's image (built when missing), before the TTL starts.
    let egress = match &options.egress {
        Some(e) => Some(super::super::egress::prepare(&docker, e).await?),
        None => None,
    };
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
    // The sidecar and the networks (labelled with the owner and the deadline, so the watchdog
    // and the reaper remove them with the session), then the sandbox pointed at the proxy.
    let egress = match egress {
        Some(p) => match start_egress(&docker, &name, p, deadline, profile, options).await {
            Ok(e) => Some(e),
            Err(e) => return Err(abandon(&docker, &name, watchdog, e).await),
        },
        None => None,
    };
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
        let hc = body.host_config.get_or_insert_with(Default::default);
        hc.mounts.get_or_insert_with(Vec::new).push(workspace_mount(
            &id,
            opts.workspace_size,
            uid,
            gid,
        ));
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
        Err(e) => return Err(abandon(&docker, &name, watchdog, e).await),
    };
    let egress_report = egress.as_ref().map(|(report, _)| report.clone());
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
        egress: egress.map(|(_, rec)| rec),
    };
    if let Err(e) = save_state(&state) {
        return Err(abandon(&docker, &name, watchdog, e).await);
    }
    watchdog.detach();
    let mut notes = plan.notes;
    notes.extend(daemon_warnings.into_iter().map(|w| format!("daemon: {w}")));
    Ok(started_info(&state, notes, checks, &report, egress_report))
}

/// A failed start: whatever of the session was created is removed, the watchdog stopped.
async fn abandon(
    docker: &Docker,
    name: &str,
    watchdog: SessionWatchdog,
    e: SandboxError,
) -> SandboxError {
    remove(docker, name).await;
    super::super::egress::remove_run(docker, name).await;
    watchdog.cancel();
    e
}

/// What `session start` answers.
fn started_info(
    state: &SessionState,
    notes: Vec<String>,
    checks: Vec<Check>,
    report: &super::super::LintReport,
    egress: Option<super::super::egress::EgressReport>,
) -> SessionInfo {
    let v = verification(checks);
    SessionInfo {
        id: state.id.clone(),
        container: state.container.clone(),
        image: state.profile.image.clone(),
        user: state.profile.user.clone(),
        deadline: state.deadline,
        ttl_left: state.deadline.saturating_sub(unix_now()),
        profile_hash: state.profile_hash.clone(),
        state: "running".to_string(),
        recorded: true,
        verified: v.verified,
        failed: v.failed,
        findings: summary(report).findings,
        allowed: report.relaxations.clone(),
        notes,
        egress,
    }
}

/// `/workspace`: an anonymous volume of the local driver backed by a size-capped tmpfs, owned by
/// the session's user (else sticky and world-writable), labelled with the session.
fn workspace_mount(id: &str, size: i64, uid: Option<u32>, gid: Option<u32>) -> Mount {
    let mut o = format!("size={size},nosuid,nodev");
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
    labels.insert(LABEL_SESSION.to_string(), id.to_string());
    Mount {
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
    }
}

/// The egress sidecar and networks of a session, started, verified and recorded by id.
/// The sidecar ends with the container's sleep (`deadline + 2`): the daemon removes both then.
async fn start_egress(
    docker: &Docker,
    name: &str,
    mut prepared: super::super::egress::Prepared,
    deadline: u64,
    profile: &mut super::super::profile::HardenedProfile,
    options: &super::super::SandboxOptions,
) -> Result<(super::super::egress::EgressReport, SessionEgress), SandboxError> {
    prepared.until = Some(deadline + 2);
    let started = super::super::egress::start(docker, name, &prepared, profile, options).await?;
    let rec = super::super::egress::record(docker, &started).await?;
    Ok((started.report, rec))
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
    verify::judge(
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
    verify::judge(&checks, options.allow_degraded)?;
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
            super::super::egress::remove_run(docker, &state.container).await;
            forget(id);
            return Err(SandboxError::SessionNotFound { id: id.to_string() });
        }
        Err(e) => return Err(api("inspect the session's container")(e)),
    };
    if state.deadline <= unix_now() {
        remove(docker, &state.container_id).await;
        super::super::egress::remove_run(docker, &state.container).await;
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
        super::super::egress::remove_run(docker, &state.container).await;
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
    let egress_checks = match &state.egress {
        Some(rec) => super::super::egress::reverify(docker, rec, &state.container, &view).await,
        None => Vec::new(),
    };
    let accepted = |c: &Check| {
        state.failed_at_start.iter().any(|f| f == c.name)
            || state
                .egress
                .as_ref()
                .is_some_and(|e| e.failed_at_start.iter().any(|f| f == c.name))
    };
    let new_failures: Vec<String> = checks
        .iter()
        .chain(&egress_checks)
        .filter(|c| c.status == CheckStatus::Failed && !accepted(c))
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
    let mut v = verification(checks);
    v.egress = egress_checks;
    Ok((state, v))
}
