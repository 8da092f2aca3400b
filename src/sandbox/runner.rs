//! The run: plan → rules → connect → image (build if needed) → create → verify → attach → start
//! → verify → stream/wait (timeout) → inspect (OOM) → remove. The container is removed on every
//! path, including Ctrl-C/SIGTERM when `handle_signals` is on.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::errors::Error as BollardError;
use bollard::models::ContainerInspectResponse;
use bollard::query_parameters::{
    AttachContainerOptionsBuilder, BuildImageOptionsBuilder, CreateContainerOptionsBuilder,
    DownloadFromContainerOptionsBuilder, EventsOptionsBuilder, KillContainerOptionsBuilder,
    ListContainersOptionsBuilder, RemoveContainerOptionsBuilder,
};
use futures_util::StreamExt;

use super::profile::{
    BindMount, CODE_DIR, HardenedProfile, LABEL_DEADLINE, LABEL_MANAGED, LABEL_OWNER, MountOrigin,
    NOBODY, WORKSPACE, WORKSPACE_REASON, tmp_tmpfs,
};
use super::verify::{self, CgroupLimits, Check, CheckStatus};
use super::{
    AllowSource, Allowed, EXIT_OOM_KILLED, EXIT_TIMED_OUT, ImageSource, LintReport, LintSummary,
    OutputSink, Program, RunResult, SandboxError, SandboxOptions, Truncated, Verification, compose,
};
use crate::config::{Config, Preset};
use crate::diagnostic::Severity;
use crate::linter::{FileKind, LintOptions, Selection, lint_file_with};
use crate::source::SourceFile;

/// How to build a missing image (from a Compose service's `build:`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct BuildSpec {
    pub context: PathBuf,
    /// Relative to the context.
    pub dockerfile: String,
    pub target: Option<String>,
    pub args: HashMap<String, String>,
}

/// The planned container before the image is known.
#[derive(Debug, Clone)]
pub(super) struct Plan {
    pub profile: HardenedProfile,
    /// The user was named (flag or Compose); otherwise the image's non-root `USER` or nobody.
    pub explicit_user: bool,
    pub build: Option<BuildSpec>,
    pub from_compose: bool,
    /// Isolation rules the Compose file's own suppressions tried to relax (ignored).
    pub overridden: Vec<String>,
    /// What the plan changed in or left out of the service, said to the user as `note:` lines
    /// (a service mount replaced by `--workspace`, the service's `networks:` not used).
    pub notes: Vec<String>,
}

/// A flag's mount replaces the service's mount on the same target (the daemon refuses two
/// mounts on one point: `Duplicate mount point`); the flag wins and a note says so.
fn replace_service_mount(
    profile: &mut HardenedProfile,
    target: &str,
    flag: &str,
    notes: &mut Vec<String>,
) {
    if let Some(i) = profile.mounts.iter().position(|m| {
        same_target(&m.target, target)
            && matches!(m.origin, MountOrigin::Compose | MountOrigin::Scratch)
    }) {
        let old = profile.mounts.remove(i);
        notes.push(format!(
            "{flag} replaces the service's mount of {} on {} ({})",
            old.source.display(),
            old.target,
            if old.read_only {
                "read-only"
            } else {
                "writable"
            }
        ));
    }
}

/// `/workspace/` and `/workspace` are the same mount point.
fn same_target(a: &str, b: &str) -> bool {
    let norm = |t: &str| {
        let t = t.trim_end_matches('/');
        if t.is_empty() {
            "/".to_string()
        } else {
            t.to_string()
        }
    };
    norm(a) == norm(b)
}

/// Builds the profile from the options and the program (no daemon).
pub(super) fn plan(options: &SandboxOptions, program: &Program) -> Result<Plan, SandboxError> {
    let invalid = |message: String| SandboxError::InvalidOption { message };
    let mut profile = HardenedProfile::new(String::new());
    profile.tmpfs = vec![tmp_tmpfs(options.tmp_size)];
    profile.stdin = options.stdin;
    let mut explicit_user = false;
    let mut build = None;
    let mut overridden = Vec::new();
    let mut notes = Vec::new();
    let mut service_networks = Vec::new();
    let from_compose = matches!(options.source, ImageSource::Compose { .. });
    match &options.source {
        ImageSource::Image(image) => {
            if image.trim().is_empty() {
                return Err(invalid("the image name is empty".to_string()));
            }
            profile.image = image.clone();
        }
        ImageSource::Compose { file, service } => {
            let applied = compose::apply(file, service, &mut profile)?;
            explicit_user = applied.explicit_user;
            build = applied.build;
            overridden = applied.overridden;
            service_networks = applied.networks;
        }
    }
    if let Some(user) = &options.user {
        profile.user = user.clone();
        explicit_user = true;
    }
    if let Some(m) = options.memory {
        if m < 6 * 1024 * 1024 {
            return Err(invalid(format!(
                "--memory {m} is below Docker's minimum of 6 MiB"
            )));
        }
        profile.set_memory(m);
    }
    if let Some(c) = options.nano_cpus {
        profile.nano_cpus = c;
    }
    if let Some(p) = options.pids {
        if p < 1 {
            return Err(invalid("--pids must be at least 1".to_string()));
        }
        profile.pids_limit = p;
    }
    if let Some(n) = &options.network {
        profile.network_mode = n.clone();
    } else if !service_networks.is_empty() {
        notes.push(format!(
            "network: none (the service's `networks:` ({}) are not used; --network to opt in)",
            service_networks.join(", ")
        ));
    }
    if let Some(r) = &options.runtime {
        if r.trim().is_empty() {
            return Err(invalid("--runtime is empty".to_string()));
        }
        profile.runtime = Some(r.clone());
    }
    for e in &options.env {
        match e.split_once('=') {
            Some((k, _)) if !k.is_empty() => {
                profile
                    .env
                    .retain(|x| x.split_once('=').map(|(k2, _)| k2) != Some(k));
                profile.env_from_host.retain(|h| h != k);
                profile.env.push(e.clone());
            }
            Some(_) => return Err(invalid(format!("invalid --env `{e}`: expected KEY=VALUE"))),
            None => {
                if let Ok(v) = std::env::var(e) {
                    profile
                        .env
                        .retain(|x| x.split_once('=').map(|(k, _)| k) != Some(e));
                    profile.env.push(format!("{e}={v}"));
                    if !profile.env_from_host.contains(e) {
                        profile.env_from_host.push(e.clone());
                    }
                }
            }
        }
    }
    for (i, m) in options.mounts.iter().enumerate() {
        if options.mounts[..i]
            .iter()
            .any(|o| same_target(&o.target, &m.target))
        {
            return Err(invalid(format!(
                "two --mount options on {}: give each target once",
                m.target
            )));
        }
        let source = existing(&m.source, "--mount source")?;
        replace_service_mount(
            &mut profile,
            &m.target,
            &format!("--mount {}", m.source.display()),
            &mut notes,
        );
        profile.mounts.push(BindMount {
            source,
            target: m.target.clone(),
            read_only: m.read_only,
            origin: MountOrigin::Mount,
        });
    }
    if let Some(ws) = &options.workspace {
        let source = existing(ws, "--workspace")?;
        if !source.is_dir() {
            return Err(invalid(format!(
                "--workspace {} is not a directory",
                ws.display()
            )));
        }
        if let Some(m) = options
            .mounts
            .iter()
            .find(|m| same_target(&m.target, WORKSPACE))
        {
            return Err(invalid(format!(
                "--mount {}:{} and --workspace {} both mount on {WORKSPACE}: give one of them",
                m.source.display(),
                m.target,
                ws.display()
            )));
        }
        replace_service_mount(
            &mut profile,
            WORKSPACE,
            &format!("--workspace {}", ws.display()),
            &mut notes,
        );
        profile.mounts.push(BindMount {
            source,
            target: WORKSPACE.to_string(),
            read_only: false,
            origin: MountOrigin::Workspace,
        });
        profile.working_dir = Some(WORKSPACE.to_string());
    }
    match program {
        Program::ImageDefault => {}
        Program::Command(argv) => {
            if !argv.is_empty() {
                profile.command = Some(argv.clone());
            }
        }
        Program::Code { code, args } => {
            profile.entrypoint = Some(vec![String::new()]);
            profile.command = Some(options.lang.inline(code, args));
        }
        Program::File { path, args } => {
            let source = existing(path, "--file")?;
            if !source.is_file() {
                return Err(invalid(format!("--file {} is not a file", path.display())));
            }
            let target = format!("{CODE_DIR}/main.{}", options.lang.extension());
            profile.mounts.push(BindMount {
                source,
                target: target.clone(),
                read_only: true,
                origin: MountOrigin::Code,
            });
            profile.entrypoint = Some(vec![String::new()]);
            profile.command = Some(options.lang.script(&target, args));
        }
    }
    for (k, v) in &options.labels {
        profile.labels.insert(k.clone(), v.clone());
    }
    profile
        .labels
        .insert(LABEL_MANAGED.to_string(), "true".to_string());
    profile.labels.insert(LABEL_OWNER.to_string(), owner());
    Ok(Plan {
        profile,
        explicit_user,
        build,
        from_compose,
        overridden,
        notes,
    })
}

/// Canonical absolute path of an existing host path.
fn existing(path: &Path, what: &str) -> Result<PathBuf, SandboxError> {
    std::fs::canonicalize(path).map_err(|e| SandboxError::InvalidOption {
        message: format!("{what} {}: {e}", path.display()),
    })
}

/// `<hostname>:<pid>` of this process.
fn owner() -> String {
    let host = host_name().unwrap_or_else(|| "unknown".to_string());
    format!("{host}:{}", std::process::id())
}

/// This host's name (Linux), if it can be read.
fn host_name() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    Some(name.trim().to_string()).filter(|n| !n.is_empty())
}

/// A relaxation the invoker asked for: the rule as written, who asked, why.
pub(super) type Allowance = (String, AllowSource, String);

/// The invoker's relaxations: `--allow`, `--allow-root`, `--config`.
pub(super) fn invoker_allows(options: &SandboxOptions) -> Vec<Allowance> {
    let mut out: Vec<Allowance> = options
        .allow
        .iter()
        .map(|a| (a.clone(), AllowSource::Flag, "named in --allow".to_string()))
        .collect();
    if options.allow_root {
        out.push((
            "service-root-user".to_string(),
            AllowSource::AllowRoot,
            "--allow-root".to_string(),
        ));
    }
    out.extend(
        options
            .config_allow
            .iter()
            .map(|(rule, why)| (rule.clone(), AllowSource::Config, why.clone())),
    );
    out
}

/// Step 1: the planned container as a Compose service, checked under the sandbox preset. The
/// only suppressions in the rendered service are sandlint's own (the `--workspace` and project
/// scratch mounts) and the Compose file's, minus [`super::ISOLATION_RULES`].
pub(super) fn lint(
    profile: &HardenedProfile,
    allow: &[Allowance],
) -> Result<LintReport, SandboxError> {
    let mut allowed: Vec<(String, AllowSource, String)> = Vec::new();
    for (a, source, why) in allow {
        match crate::docs::find(a.trim()) {
            Some(rule) => allowed.push((rule.name.to_string(), *source, why.clone())),
            None => {
                let hint = crate::docs::suggest(a.trim())
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                let what = match source {
                    AllowSource::Config => "--config allow",
                    _ => "--allow",
                };
                return Err(SandboxError::InvalidOption {
                    message: format!("{what}: unknown rule `{a}`{hint}"),
                });
            }
        }
    }
    let text = profile.to_compose("sandbox");
    let file = SourceFile::virtual_file("sandlint-run.compose.yaml", text).into_ref();
    let config = Config {
        preset: Preset::Sandbox,
        ..Config::default()
    };
    let opts = LintOptions {
        selection: Selection::all(),
        compose_set: None,
        built_by: Vec::new(),
        config: &config,
        inline_ignores: true,
        require_reason: false,
        report_unused: false,
        boundary: None,
    };
    let findings = lint_file_with(file.clone(), FileKind::Compose, &opts).diagnostics;
    let mut relaxations: Vec<Allowed> = Vec::new();
    let mut add = |a: Allowed| {
        if !relaxations.contains(&a) {
            relaxations.push(a);
        }
    };
    for d in findings.iter().filter(|d| d.severity == Severity::Error) {
        let rule = d.rule.name;
        match &d.suppression {
            Some(s) => {
                let reason = s.reason.clone().unwrap_or_default();
                // The rendered service carries the file's suppressions only for rules outside
                // ISOLATION_RULES; any other suppression in it is sandlint's own.
                let source = if !super::is_isolation_rule(rule) {
                    AllowSource::File
                } else if reason == WORKSPACE_REASON {
                    AllowSource::Workspace
                } else {
                    AllowSource::ProjectScratch
                };
                add(Allowed {
                    rule: rule.to_string(),
                    source,
                    reason,
                });
            }
            None => {
                if let Some((_, source, why)) = allowed.iter().find(|(r, _, _)| r == rule) {
                    add(Allowed {
                        rule: rule.to_string(),
                        source: *source,
                        reason: why.clone(),
                    });
                }
            }
        }
    }
    Ok(LintReport {
        file,
        findings,
        allowed: allowed.into_iter().map(|(r, _, _)| r).collect(),
        relaxations,
        notes: Vec::new(),
    })
}

/// The refusal of a plan with error-level findings, with the exact flags that would accept them.
pub(super) fn refused(report: LintReport) -> SandboxError {
    let mut rules: Vec<&str> = report.refusing().map(|d| d.rule.name).collect();
    rules.sort_unstable();
    rules.dedup();
    let root = rules.contains(&"service-root-user");
    rules.retain(|r| *r != "service-root-user");
    let mut ways = Vec::new();
    if !rules.is_empty() {
        ways.push(format!("`--allow {}`", rules.join(",")));
    }
    if root {
        ways.push("`--allow-root`".to_string());
    }
    let hint = format!(
        "change the settings, or accept the risk explicitly with {}",
        ways.join(" and ")
    );
    SandboxError::Refused {
        count: report.refusing().count(),
        hint,
        report: Box::new(report),
    }
}

/// Refuses a plan with error-level findings.
fn judge_plan(report: LintReport) -> Result<LintReport, SandboxError> {
    if report.refusing().count() > 0 {
        Err(refused(report))
    } else {
        Ok(report)
    }
}

/// Whether the host's view of the writable mounts' owners is the container's: the daemon runs
/// on this host and does not remap user ids (rootless, `userns-remap`). `Err`: why not.
async fn host_ids_apply(docker: &Docker) -> Result<(), String> {
    let info = docker
        .info()
        .await
        .map_err(|e| format!("the daemon's info is not available ({})", error_text(&e)))?;
    let here = host_name();
    if here.is_none() || info.name.as_deref() != here.as_deref() {
        return Err("the daemon runs on another host".to_string());
    }
    let remapped = info
        .security_options
        .unwrap_or_default()
        .iter()
        .any(|o| o.contains("name=rootless") || o.contains("name=userns"));
    if remapped {
        return Err("the daemon remaps user ids (rootless or userns-remap)".to_string());
    }
    Ok(())
}

/// Whether a user with `uid` and primary group `gid` (`None`: unknown) can create files in the
/// host directory (or write the host file) described by `meta`, by its owner and mode alone:
/// the container's capabilities are dropped, so root's override does not apply either; ACLs
/// are not read.
#[cfg(unix)]
fn may_write(meta: &std::fs::Metadata, uid: u32, gid: Option<u32>) -> bool {
    use std::os::unix::fs::MetadataExt;
    let need = if meta.is_dir() { 0o3 } else { 0o2 };
    let mode = meta.mode();
    let bits = if meta.uid() == uid {
        mode >> 6
    } else if gid == Some(meta.gid()) {
        mode >> 3
    } else {
        mode
    };
    bits & need == need
}

/// Item 6 of the first-hour issue: a writable mount the container's user cannot write fails
/// with a bare `Permission denied` inside. Before start, every writable bind mount is checked
/// against the planned uid/gid. When one is not writable and the invoker did not name the user
/// (`--user`; the image's or the Compose file's user may change), the user becomes the owner
/// of that directory (never root) if that makes every writable mount writable; a note says so.
/// Otherwise the run is refused with what to do (`chown`, `--user`).
#[cfg(unix)]
pub(super) fn fit_writable(
    profile: &mut HardenedProfile,
    resolution: &mut UserResolution,
    invoker_user: bool,
) -> Result<Option<String>, SandboxError> {
    use std::os::unix::fs::MetadataExt;
    let Some(uid) = resolution.uid else {
        return Ok(None);
    };
    let gid = profile
        .user
        .split_once(':')
        .and_then(|(_, g)| g.trim().parse::<u32>().ok());
    let writable: Vec<(PathBuf, String, std::fs::Metadata)> = profile
        .mounts
        .iter()
        .filter(|m| !m.read_only)
        .filter_map(|m| {
            std::fs::metadata(&m.source)
                .ok()
                .map(|meta| (m.source.clone(), m.target.clone(), meta))
        })
        .collect();
    let blocked = |uid: u32, gid: Option<u32>| {
        writable
            .iter()
            .find(|(_, _, meta)| !may_write(meta, uid, gid))
    };
    let Some((path, target, meta)) = blocked(uid, gid) else {
        return Ok(None);
    };
    let shown = path.display().to_string();
    let (owner, group) = (meta.uid(), meta.gid());
    let planned = profile.user.clone();
    if !invoker_user && owner != 0 {
        let g = if group != 0 { group } else { owner };
        if blocked(owner, Some(g)).is_none() {
            profile.user = format!("{owner}:{g}");
            resolution.uid = Some(owner);
            resolution.how = format!("the owner of {shown}, the writable mount on {target}");
            return Ok(Some(format!(
                "user: {owner}:{g}, the owner of {shown} (the planned user {planned} could not write it; to keep {planned}: `chown {planned} {shown}` and `--user {planned}`)"
            )));
        }
    }
    let who = gid.map_or_else(|| uid.to_string(), |g| format!("{uid}:{g}"));
    let all: Vec<String> = writable
        .iter()
        .filter(|(_, _, meta)| !may_write(meta, uid, gid))
        .map(|(p, _, _)| p.display().to_string())
        .collect();
    let mut hint = format!(
        "make {} writable for that user: `sudo chown {who} {}`",
        if all.len() == 1 { "it" } else { "them" },
        all.join(" ")
    );
    if owner != 0 {
        hint.push_str(&format!(", or run as its owner: `--user {owner}:{group}`"));
    } else {
        hint.push_str(
            " (it belongs to root, and sandlint does not run as root), or run as a user that can write it: `--user UID:GID`",
        );
    }
    Err(SandboxError::NotWritable {
        user: planned,
        path: shown,
        owner: format!("{owner}:{group}"),
        mode: meta.mode() & 0o7777,
        hint,
    })
}

#[cfg(not(unix))]
pub(super) fn fit_writable(
    _profile: &mut HardenedProfile,
    _resolution: &mut UserResolution,
    _invoker_user: bool,
) -> Result<Option<String>, SandboxError> {
    Ok(None)
}

/// After the user is resolved against the image: the writable mounts checked (and the user
/// possibly changed to their owner, [`fit_writable`]); the notes gain what was done.
async fn fit_mounts(
    docker: &Docker,
    plan: &mut Plan,
    resolution: &mut UserResolution,
    options: &SandboxOptions,
) -> Result<bool, SandboxError> {
    if !plan.profile.mounts.iter().any(|m| !m.read_only) {
        return Ok(false);
    }
    match host_ids_apply(docker).await {
        Ok(()) => match fit_writable(&mut plan.profile, resolution, options.user.is_some())? {
            Some(note) => {
                plan.notes.push(note);
                Ok(true)
            }
            None => Ok(false),
        },
        Err(why) => {
            plan.notes.push(format!(
                "the writable mounts' owners were not checked against the container's user: {why}"
            ));
            Ok(false)
        }
    }
}

/// [`super::Sandbox::plan_resolved`].
pub(super) async fn plan_resolved(
    options: &SandboxOptions,
    program: &Program,
) -> Result<(HardenedProfile, LintReport), SandboxError> {
    let mut plan = plan(options, program)?;
    let unresolved = |plan: &mut Plan, why: String| {
        if !plan.explicit_user {
            plan.profile.user_unresolved = true;
            plan.notes.push(format!(
                "user: image default (the image's non-root USER, else {NOBODY}); not resolved: {why}"
            ));
        }
    };
    match connect().await {
        Err(e) => unresolved(&mut plan, format!("{e}")),
        Ok(docker) => match docker.inspect_image(&plan.profile.image).await {
            Ok(image) => {
                let mut resolution =
                    resolve_user(&docker, &mut plan, &image, options.allow_root).await?;
                if !plan.explicit_user {
                    let how = &resolution.how;
                    plan.notes.push(if how.starts_with("the image") {
                        format!("user: {} ({how})", plan.profile.user)
                    } else {
                        format!("user: {} (the image's USER, {how})", plan.profile.user)
                    });
                }
                fit_mounts(&docker, &mut plan, &mut resolution, options).await?;
            }
            Err(e) if is_not_found(&e) => {
                let why = format!(
                    "the image `{}` is not available locally{}",
                    plan.profile.image,
                    if plan.build.is_some() {
                        " (the run builds it)"
                    } else {
                        ""
                    }
                );
                unresolved(&mut plan, why);
            }
            Err(e) => return Err(api("inspect the image")(e)),
        },
    }
    let mut report = lint(&plan.profile, &invoker_allows(options))?;
    report.notes = plan.notes;
    Ok((plan.profile, report))
}

fn summary(report: &LintReport) -> LintSummary {
    LintSummary {
        preset: "sandbox",
        findings: report
            .findings
            .iter()
            .filter(|d| d.suppression.is_none())
            .map(|d| format!("{} {}: {}", d.severity, d.rule.name, d.message))
            .collect(),
    }
}

/// The whole run.
pub(super) async fn run(
    options: &SandboxOptions,
    program: &Program,
    sink: &mut dyn OutputSink,
) -> Result<RunResult, SandboxError> {
    let started = Instant::now();
    let mut plan = plan(options, program)?;
    for rule in &plan.overridden {
        sink.status(&format!(
            "note: the Compose file's suppression of `{rule}` does not apply to `sandlint run` (an isolation rule: only --allow or --config can relax it)"
        ));
    }
    for note in &plan.notes {
        sink.status(&format!("note: {note}"));
    }
    let allows = invoker_allows(options);
    let mut report = judge_plan(lint(&plan.profile, &allows)?)?;
    let docker = connect().await?;
    // Expired leftovers of earlier runs (a SIGKILLed sandlint whose watchdog died too), while
    // the image is looked up.
    let (_, image) = tokio::join!(
        reap(&docker, Reap::Expired),
        ensure_image(&docker, &plan, sink)
    );
    let image = image?;
    let mut resolution = resolve_user(&docker, &mut plan, &image, options.allow_root).await?;
    let noted = plan.notes.len();
    if fit_mounts(&docker, &mut plan, &mut resolution, options).await? {
        // the user changed: the rules judge the container that will be created
        report = judge_plan(lint(&plan.profile, &allows)?)?;
    }
    for note in &plan.notes[noted..] {
        sink.status(&format!("note: {note}"));
    }
    let name = container_name();
    let deadline_unix = unix_now() + options.timeout.as_secs() + DEADLINE_GRACE_SECS;
    plan.profile
        .labels
        .insert(LABEL_DEADLINE.to_string(), deadline_unix.to_string());
    let watchdog = options
        .watchdog
        .as_deref()
        .and_then(|exe| super::watchdog::spawn(exe, &name, deadline_unix));
    let work = execute(
        &docker,
        &plan.profile,
        &name,
        options,
        sink,
        started,
        &resolution,
    );
    let outcome = if options.handle_signals {
        tokio::select! {
            r = work => r,
            (signal, code) = signals() => Err(SandboxError::Interrupted { signal, code }),
        }
    } else {
        work.await
    };
    remove(&docker, &name).await;
    if let Some(w) = watchdog {
        w.release();
    }
    let mut result = outcome?;
    result.verification.lint = summary(&report);
    result.allowed = report.relaxations.clone();
    result.notes = plan.notes;
    Ok(result)
}

/// Seconds past the command's timeout before the watchdog and the reaper remove a container
/// (the run's own create, verify and cleanup steps take place within it).
pub(super) const DEADLINE_GRACE_SECS: u64 = 15;

pub(super) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// How the user the command will run as was resolved before start.
#[derive(Debug, Clone)]
pub(super) struct UserResolution {
    /// The uid, when known before start.
    pub uid: Option<u32>,
    /// How it was resolved (`numeric user spec`, `the image's /etc/passwd`).
    pub how: String,
}

/// Resolves the planned user against the image, like runc: a number is the uid; a name is
/// looked up in the image's own `/etc/passwd` (read through the Engine API). A user that is
/// uid 0 is refused unless `allow_root`; the image's own root `USER` (in any spelling, or a
/// name that is uid 0 in its passwd) is replaced by nobody, as `USER root` is.
async fn resolve_user(
    docker: &Docker,
    plan: &mut Plan,
    image: &bollard::models::ImageInspect,
    allow_root: bool,
) -> Result<UserResolution, SandboxError> {
    use crate::dockerfile::semantics::{
        ResolvedUser, UserRef, is_root_user, resolve_user as resolve, user_ref,
    };
    if !plan.explicit_user {
        let image_user = image
            .config
            .as_ref()
            .and_then(|c| c.user.clone())
            .unwrap_or_default();
        plan.profile.user = image_user;
    }
    let spec = plan.profile.user.clone();
    let (passwd, how) = match user_ref(&spec) {
        UserRef::Name(_) => (
            read_image_file(docker, &plan.profile.image, "/etc/passwd").await?,
            "the image's /etc/passwd".to_string(),
        ),
        UserRef::Uid(_) => (None, "a numeric user spec".to_string()),
        UserRef::Default => (
            None,
            "an empty user: the runtime's default, root".to_string(),
        ),
    };
    let resolved = if spec.trim().is_empty() {
        ResolvedUser::Uid(0)
    } else {
        resolve(&spec, passwd.as_deref())
    };
    if !plan.explicit_user
        // unknown (`None`: empty, `$UID`) is the runtime's default, root
        && (is_root_user(&spec) != Some(false) || matches!(resolved, ResolvedUser::Uid(0)))
    {
        // The image's user is root, however spelt: nobody instead.
        plan.profile.user = NOBODY.to_string();
        return Ok(UserResolution {
            uid: Some(65534),
            how: if spec.trim().is_empty() {
                format!("the image sets no USER, so {NOBODY} is used")
            } else {
                format!("the image's USER is root (through {how}), so {NOBODY} is used")
            },
        });
    }
    match resolved {
        ResolvedUser::Uid(0) if !allow_root => Err(SandboxError::RootUser {
            user: spec,
            how: format!("resolved through {how}, as the runtime resolves it"),
        }),
        ResolvedUser::Uid(uid) => Ok(UserResolution {
            uid: Some(uid),
            how,
        }),
        // The runtime refuses to start such a container; the daemon's error says why.
        ResolvedUser::UnknownName(_) | ResolvedUser::OutOfRange(_) => {
            Ok(UserResolution { uid: None, how })
        }
    }
}

/// The most of an image file [`read_image_file`] reads.
const IMAGE_FILE_LIMIT: usize = 1024 * 1024;

/// Reads `path` from `image` through the Engine API: a created (never started) container and
/// the archive endpoint, following symlinks inside the image (a few hops), at most
/// [`IMAGE_FILE_LIMIT`] bytes. `None` when the image has no such file.
async fn read_image_file(
    docker: &Docker,
    image: &str,
    path: &str,
) -> Result<Option<String>, SandboxError> {
    let name = format!("{}-probe", container_name());
    let mut labels = HashMap::new();
    labels.insert(LABEL_MANAGED.to_string(), "true".to_string());
    labels.insert(LABEL_OWNER.to_string(), owner());
    labels.insert(LABEL_DEADLINE.to_string(), (unix_now() + 60).to_string());
    let body = bollard::models::ContainerCreateBody {
        image: Some(image.to_string()),
        entrypoint: Some(vec!["/sandlint-never-started".to_string()]),
        cmd: Some(Vec::new()),
        labels: Some(labels),
        network_disabled: Some(true),
        host_config: Some(bollard::models::HostConfig {
            network_mode: Some("none".to_string()),
            ..bollard::models::HostConfig::default()
        }),
        ..bollard::models::ContainerCreateBody::default()
    };
    docker
        .create_container(
            Some(CreateContainerOptionsBuilder::new().name(&name).build()),
            body,
        )
        .await
        .map_err(api("create a container to read the image's /etc/passwd"))?;
    let out = read_file_of(docker, &name, path).await;
    remove(docker, &name).await;
    out
}

async fn read_file_of(
    docker: &Docker,
    container: &str,
    path: &str,
) -> Result<Option<String>, SandboxError> {
    let mut path = path.to_string();
    for _ in 0..8 {
        let opts = DownloadFromContainerOptionsBuilder::new()
            .path(&path)
            .build();
        let mut stream = docker.download_from_container(container, Some(opts));
        let mut tar_bytes: Vec<u8> = Vec::new();
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(b) => {
                    tar_bytes.extend_from_slice(&b);
                    if tar_bytes.len() > IMAGE_FILE_LIMIT + 64 * 1024 {
                        return Err(SandboxError::InvalidOption {
                            message: format!(
                                "the image's {path} is larger than {IMAGE_FILE_LIMIT} bytes"
                            ),
                        });
                    }
                }
                Err(e) if is_not_found(&e) => return Ok(None),
                Err(e) => return Err(api("read a file of the image")(e)),
            }
        }
        let mut archive = tar::Archive::new(tar_bytes.as_slice());
        let entries = archive.entries().map_err(|e| SandboxError::Docker {
            action: "read a file of the image",
            message: e.to_string(),
        })?;
        let Some(entry) = entries.flatten().next() else {
            return Ok(None);
        };
        let mut entry = entry;
        let kind = entry.header().entry_type();
        if kind.is_symlink() {
            let Some(target) = entry.link_name().ok().flatten() else {
                return Ok(None);
            };
            let target = target.to_string_lossy().into_owned();
            path = if target.starts_with('/') {
                target
            } else {
                let parent = path.rsplit_once('/').map_or("", |(p, _)| p);
                format!("{parent}/{target}")
            };
            continue;
        }
        if !kind.is_file() {
            return Ok(None);
        }
        let mut text = Vec::new();
        std::io::Read::read_to_end(
            &mut std::io::Read::take(&mut entry, IMAGE_FILE_LIMIT as u64),
            &mut text,
        )
        .map_err(|e| SandboxError::Docker {
            action: "read a file of the image",
            message: e.to_string(),
        })?;
        return Ok(Some(String::from_utf8_lossy(&text).into_owned()));
    }
    Ok(None)
}

fn container_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    static SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("sandlint-{}-{nanos:08x}-{seq}", std::process::id())
}

/// Resolves on SIGINT, SIGTERM, SIGHUP, SIGQUIT or SIGPIPE with the signal's name and exit code
/// (128 + n).
async fn signals() -> (&'static str, u8) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let kinds = [
            (SignalKind::interrupt(), "SIGINT", 130),
            (SignalKind::terminate(), "SIGTERM", 143),
            (SignalKind::hangup(), "SIGHUP", 129),
            (SignalKind::quit(), "SIGQUIT", 131),
            (SignalKind::pipe(), "SIGPIPE", 141),
        ];
        let mut streams = Vec::new();
        for (kind, name, code) in kinds {
            if let Ok(s) = signal(kind) {
                streams.push((s, name, code));
            }
        }
        if streams.is_empty() {
            return std::future::pending().await;
        }
        let waits = streams.iter_mut().map(|(s, name, code)| {
            let (name, code) = (*name, *code);
            Box::pin(async move {
                s.recv().await;
                (name, code)
            })
        });
        futures_util::future::select_all(waits).await.0
    }
    #[cfg(not(unix))]
    {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
        ("SIGINT", 130)
    }
}

/// The daemon address bollard will use, and how it was chosen.
fn daemon_host() -> (String, String) {
    match std::env::var("DOCKER_HOST") {
        Ok(h) if !h.is_empty() => (h, "from DOCKER_HOST".to_string()),
        _ => (
            "unix:///var/run/docker.sock".to_string(),
            "the default socket; DOCKER_HOST is not set".to_string(),
        ),
    }
}

/// Connects and negotiates the API version (older daemons speak older versions).
pub(super) async fn connect() -> Result<Docker, SandboxError> {
    let (host, how) = daemon_host();
    let unreachable = |cause: String| SandboxError::DaemonUnreachable {
        host: host.clone(),
        how: how.clone(),
        cause,
    };
    if let Some(path) = host.strip_prefix("unix://")
        && !Path::new(path).exists()
    {
        return Err(unreachable(format!("{path} does not exist")));
    }
    let docker = Docker::connect_with_defaults().map_err(|e| unreachable(error_text(&e)))?;
    match tokio::time::timeout(Duration::from_secs(15), docker.negotiate_version()).await {
        Ok(Ok(d)) => Ok(d),
        Ok(Err(e)) => Err(unreachable(error_text(&e))),
        Err(_) => Err(unreachable("no answer within 15s".to_string())),
    }
}

/// An error with its causes, on one line.
fn error_text(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

fn api(action: &'static str) -> impl Fn(BollardError) -> SandboxError {
    move |e| SandboxError::Docker {
        action,
        message: match &e {
            BollardError::DockerResponseServerError { message, .. } => message.clone(),
            other => error_text(other),
        },
    }
}

fn is_not_found(e: &BollardError) -> bool {
    matches!(
        e,
        BollardError::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

/// Inspects the image, building it from the Compose `build:` when it is missing.
async fn ensure_image(
    docker: &Docker,
    plan: &Plan,
    sink: &mut dyn OutputSink,
) -> Result<bollard::models::ImageInspect, SandboxError> {
    let image = &plan.profile.image;
    match docker.inspect_image(image).await {
        Ok(i) => return Ok(i),
        Err(e) if is_not_found(&e) => {}
        Err(e) => return Err(api("inspect the image")(e)),
    }
    let Some(spec) = &plan.build else {
        let hint = if plan.from_compose {
            format!(
                "pull it (`docker pull {image}`) or give the service a `build:` section; `sandlint run` never pulls"
            )
        } else {
            format!(
                "build it (`docker build -t {image} DIR`) or pull it (`docker pull {image}`); `sandlint run` never pulls"
            )
        };
        return Err(SandboxError::ImageMissing {
            image: image.clone(),
            hint,
        });
    };
    build_image(docker, spec, image, sink).await?;
    docker
        .inspect_image(image)
        .await
        .map_err(api("inspect the built image"))
}

/// Builds `tag` from a local context through the Engine API (honouring `.dockerignore`).
pub(super) async fn build_image(
    docker: &Docker,
    spec: &BuildSpec,
    tag: &str,
    sink: &mut dyn OutputSink,
) -> Result<(), SandboxError> {
    let failed = |message: String| SandboxError::BuildFailed {
        image: tag.to_string(),
        message,
    };
    sink.status(&format!(
        "building image `{tag}` from {}",
        spec.context.display()
    ));
    let tar = super::context::tar_context(&spec.context, &spec.dockerfile)
        .map_err(|e| failed(format!("cannot read the build context: {e}")))?;
    let mut opts = BuildImageOptionsBuilder::new()
        .dockerfile(&spec.dockerfile)
        .t(tag)
        .rm(true)
        .forcerm(true);
    if let Some(t) = &spec.target {
        opts = opts.target(t);
    }
    if !spec.args.is_empty() {
        opts = opts.buildargs(&spec.args);
    }
    let mut stream = docker.build_image(opts.build(), None, Some(bollard::body_full(tar.into())));
    let mut last = String::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => {
                if let Some(detail) = info.error_detail {
                    return Err(failed(detail.message.unwrap_or(last)));
                }
                if let Some(line) = info.stream {
                    let line = line.trim_end();
                    if !line.is_empty() {
                        sink.status(line);
                        last = line.to_string();
                    }
                }
            }
            Err(e) => return Err(failed(error_text(&e))),
        }
    }
    Ok(())
}

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
async fn execute(
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

async fn inspect(docker: &Docker, name: &str) -> Result<ContainerInspectResponse, SandboxError> {
    docker
        .inspect_container(name, None)
        .await
        .map_err(api("inspect the container"))
}

async fn kill(docker: &Docker, name: &str) {
    let _ = docker
        .kill_container(
            name,
            Some(KillContainerOptionsBuilder::new().signal("KILL").build()),
        )
        .await;
}

/// Force-removes a container (and its anonymous volumes); a container that is already gone is
/// fine. Retries briefly: removal can race with a container that is still being torn down.
async fn remove(docker: &Docker, name: &str) {
    let opts = RemoveContainerOptionsBuilder::new()
        .force(true)
        .v(true)
        .build();
    for attempt in 0..5 {
        match docker.remove_container(name, Some(opts.clone())).await {
            Ok(()) => return,
            Err(e) if is_not_found(&e) => return,
            Err(_) => tokio::time::sleep(Duration::from_millis(100 * (attempt + 1))).await,
        }
    }
}

/// Where container `id`'s `controller` cgroup keeps `v1_file` (cgroup v1) or `v2_file` (v2) on
/// this host, cgroupfs and systemd drivers, each with whether it is the v1 file. Empty when `id`
/// is not a container id.
fn cgroup_files(id: &str, controller: &str, v1_file: &str, v2_file: &str) -> Vec<(String, bool)> {
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_hexdigit()) {
        return Vec::new();
    }
    vec![
        (
            format!("/sys/fs/cgroup/{controller}/docker/{id}/{v1_file}"),
            true,
        ),
        (
            format!("/sys/fs/cgroup/{controller}/system.slice/docker-{id}.scope/{v1_file}"),
            true,
        ),
        (
            format!("/sys/fs/cgroup/system.slice/docker-{id}.scope/{v2_file}"),
            false,
        ),
        (format!("/sys/fs/cgroup/docker/{id}/{v2_file}"), false),
    ]
}

/// The uids of the container's processes as the kernel reports them (`/proc/<pid>/status`): the
/// init (`State.Pid`) and every process in the container's pids cgroup. Only processes whose
/// `/proc/<pid>/cgroup` names the container id count (a remote daemon's pid means nothing here).
/// Returns `(worst uid, how)`; any uid field (real, effective, saved, fs) of 0 makes it 0.
fn kernel_uids(id: &str, init_pid: i64) -> Option<(u32, String)> {
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let mut pids: Vec<i64> = Vec::new();
    if init_pid > 0 {
        pids.push(init_pid);
    }
    if let Some(text) = cgroup_files(id, "pids", "cgroup.procs", "cgroup.procs")
        .iter()
        .find_map(|(path, _)| std::fs::read_to_string(path).ok())
    {
        pids.extend(text.lines().filter_map(|l| l.trim().parse::<i64>().ok()));
    }
    pids.sort_unstable();
    pids.dedup();
    let mut worst: Option<u32> = None;
    let mut seen = 0usize;
    for pid in pids {
        let cgroup = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
        if !cgroup.contains(id) {
            continue;
        }
        let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
            continue;
        };
        let Some(uids) = status.lines().find_map(|l| l.strip_prefix("Uid:")) else {
            continue;
        };
        let uids: Vec<u32> = uids
            .split_whitespace()
            .filter_map(|u| u.parse().ok())
            .collect();
        // The pid may have been reused since: the cgroup must still name the container.
        let again = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
        if uids.is_empty() || !again.contains(id) {
            continue;
        }
        let uid = if uids.contains(&0) {
            0
        } else {
            uids.get(1).copied().unwrap_or_default()
        };
        seen += 1;
        // root wins; otherwise the first process's (the init's) uid
        if uid == 0 || worst.is_none() {
            worst = Some(uid);
        }
    }
    worst.map(|w| {
        let s = if seen == 1 { "" } else { "es" };
        (
            w,
            format!("kernel: /proc/<pid>/status of {seen} running process{s} of the container"),
        )
    })
}

/// Whether the container's memory cgroup has hit its limit (cgroup v1 `memory.failcnt`, v2
/// `memory.events` `max`/`oom_kill`); `false` when the cgroup cannot be read.
fn memory_limit_hit(id: &str) -> bool {
    let positive = |n: Option<&str>| {
        n.and_then(|n| n.trim().parse::<u64>().ok())
            .is_some_and(|n| n > 0)
    };
    cgroup_files(id, "memory", "memory.failcnt", "memory.events")
        .iter()
        .find_map(|(path, v1)| Some((std::fs::read_to_string(path).ok()?, *v1)))
        .is_some_and(|(text, v1)| {
            if v1 {
                positive(Some(&text))
            } else {
                text.lines().any(|l| {
                    let mut it = l.split_whitespace();
                    matches!(it.next(), Some("max" | "oom_kill")) && positive(it.next())
                })
            }
        })
}

/// The kernel's memory and pids limits of a container's cgroup, read on this host. `None` where
/// the files are not found (remote daemon, or the container is already gone).
fn read_cgroup(id: &str) -> CgroupLimits {
    let read = |files: Vec<(String, bool)>| -> Option<i64> {
        files.iter().find_map(|(path, _)| {
            let t = std::fs::read_to_string(path).ok()?;
            let t = t.trim();
            if t == "max" {
                Some(i64::MAX)
            } else {
                t.parse().ok()
            }
        })
    };
    CgroupLimits {
        memory: read(cgroup_files(
            id,
            "memory",
            "memory.limit_in_bytes",
            "memory.max",
        )),
        pids: read(cgroup_files(id, "pids", "pids.max", "pids.max")),
    }
}

/// Which of sandlint's containers [`reap`] removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reap {
    /// Those past their `dev.sandlint.deadline` (whoever owns them).
    Expired,
    /// Those past their deadline, and those whose owner process on this host is gone.
    Orphans,
    /// Every one.
    All,
}

/// Removes containers carrying sandlint's label, as `mode` says. Returns their names.
pub(super) async fn reap(docker: &Docker, mode: Reap) -> Result<Vec<String>, SandboxError> {
    let mut filters = HashMap::new();
    filters.insert("label", vec![format!("{LABEL_MANAGED}=true")]);
    let list = docker
        .list_containers(Some(
            ListContainersOptionsBuilder::new()
                .all(true)
                .filters(&filters)
                .build(),
        ))
        .await
        .map_err(api("list containers"))?;
    let me = owner();
    let host = me.split(':').next().unwrap_or_default().to_string();
    let now = unix_now();
    let mut removed = Vec::new();
    for c in list {
        let label = |k: &str| c.labels.as_ref().and_then(|l| l.get(k).cloned());
        let expired = label(LABEL_DEADLINE)
            .and_then(|d| d.trim().parse::<u64>().ok())
            .is_some_and(|d| d < now);
        let owner = label(LABEL_OWNER).unwrap_or_default();
        let orphan = match owner.rsplit_once(':') {
            Some((h, pid)) if h == host => {
                pid != std::process::id().to_string() && !Path::new("/proc").join(pid).exists()
            }
            // another host's process: we cannot tell
            Some(_) => false,
            None => true,
        };
        let take = match mode {
            Reap::Expired => expired,
            Reap::Orphans => expired || orphan,
            Reap::All => true,
        };
        if !take {
            continue;
        }
        let name = c
            .names
            .as_ref()
            .and_then(|n| n.first().cloned())
            .map(|n| n.trim_start_matches('/').to_string())
            .or(c.id.clone())
            .unwrap_or_default();
        if let Some(id) = &c.id {
            kill(docker, id).await;
            remove(docker, id).await;
            removed.push(name);
        }
    }
    removed.sort();
    Ok(removed)
}

/// `--gc`: removes leftovers (orphans and expired containers; every one with `all`).
pub(super) async fn gc(all: bool) -> Result<Vec<String>, SandboxError> {
    let docker = connect().await?;
    reap(&docker, if all { Reap::All } else { Reap::Orphans }).await
}

/// The watchdog's action: kill and remove `container` if it carries the `label`=true label.
pub(super) async fn reap_one(container: &str, label: &str) -> Result<(), SandboxError> {
    let docker = connect().await?;
    let view = match docker.inspect_container(container, None).await {
        Ok(v) => v,
        Err(e) if is_not_found(&e) => return Ok(()),
        Err(e) => return Err(api("inspect the container")(e)),
    };
    let ours = view
        .config
        .and_then(|c| c.labels)
        .is_some_and(|l| l.get(label).is_some_and(|v| v == "true"));
    if ours {
        kill(&docker, container).await;
        remove(&docker, container).await;
    }
    Ok(())
}

/// What says a run ended in an OOM kill. The daemon alone is not enough: its `OOMKilled` flag
/// and `oom` event come from containerd's OOM watcher, which drops the event when the container's
/// cgroup is already gone by the time it looks (a fast kill under load), so sandlint also keeps
/// its own evidence while the command runs.
#[derive(Debug, Default)]
struct OomEvidence {
    /// The daemon's `State.OOMKilled`.
    daemon: bool,
    /// An `oom` event for this container on the daemon's event stream.
    event: bool,
    /// The container's memory cgroup hit its limit (sampled; local daemon only).
    cgroup: bool,
    /// The kernel's OOM-kill counter (`/proc/vmstat` `oom_kill`) rose during the run (local
    /// daemon only). Counted only together with a SIGKILL exit (137) of the sandbox.
    kernel: bool,
}

impl OomEvidence {
    fn any(&self) -> bool {
        self.daemon || self.event || self.cgroup || self.kernel
    }
}

/// Whether the daemon runs on this host (its reported name is this host's name).
async fn daemon_is_local(docker: &Docker) -> bool {
    let Some(here) = host_name() else {
        return false;
    };
    docker
        .info()
        .await
        .is_ok_and(|info| info.name.as_deref() == Some(here.as_str()))
}

/// The kernel's count of OOM kills since boot (`oom_kill` in `/proc/vmstat`, Linux 4.13+).
fn kernel_oom_kills() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/vmstat").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("oom_kill "))
        .and_then(|n| n.trim().parse().ok())
}

/// The daemon's live stream of `oom` events for container `name`, from `since` (epoch seconds).
fn oom_events(
    docker: &Docker,
    name: &str,
    since: u64,
) -> impl futures_util::Stream<Item = Result<bollard::models::EventMessage, BollardError>> + use<> {
    let mut filters = HashMap::new();
    filters.insert("type", vec!["container".to_string()]);
    filters.insert("container", vec![name.to_string()]);
    filters.insert("event", vec!["oom".to_string()]);
    let options = EventsOptionsBuilder::new()
        .since(&since.to_string())
        .filters(&filters)
        .build();
    docker.events(Some(options))
}
