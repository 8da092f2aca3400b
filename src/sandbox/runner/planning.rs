//! Step 0 and 1 of a run, no daemon: the options and the program become a planned container
//! ([`plan`]), which is rendered as a Compose service and judged by the rules under the sandbox
//! preset ([`lint`]); an error-level finding refuses the run ([`refused`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::super::profile::{
    BindMount, CODE_DIR, HardenedProfile, LABEL_MANAGED, LABEL_OWNER, MountOrigin, WORKSPACE,
    WORKSPACE_REASON, tmp_tmpfs,
};
use super::super::{
    AllowSource, Allowed, ImageSource, LintReport, Program, SandboxError, SandboxOptions, compose,
};
use super::owner;
use crate::config::{Config, Preset};
use crate::diagnostic::Severity;
use crate::discover::FileKind;
use crate::linter::{LintOptions, Selection, lint_file_with};
use crate::source::SourceFile;

/// How to build a missing image (from a Compose service's `build:`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::sandbox) struct BuildSpec {
    pub context: PathBuf,
    /// Relative to the context.
    pub dockerfile: String,
    pub target: Option<String>,
    pub args: HashMap<String, String>,
}

/// The planned container before the image is known.
#[derive(Debug, Clone)]
pub(in crate::sandbox) struct Plan {
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
            crate::escape::line(&old.source.to_string_lossy()),
            crate::escape::line(&old.target),
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
pub(in crate::sandbox) fn plan(
    options: &SandboxOptions,
    program: &Program,
) -> Result<Plan, SandboxError> {
    let mut profile = HardenedProfile::new(String::new());
    profile.tmpfs = vec![tmp_tmpfs(options.tmp_size)];
    profile.stdin = options.stdin;
    let mut plan = Plan {
        profile,
        explicit_user: false,
        build: None,
        from_compose: matches!(options.source, ImageSource::Compose { .. }),
        overridden: Vec::new(),
        notes: Vec::new(),
    };
    let service_networks = apply_source(&options.source, &mut plan)?;
    apply_settings(options, &service_networks, &mut plan)?;
    apply_egress(options, &mut plan)?;
    apply_env(&options.env, &mut plan.profile)?;
    apply_mounts(options, &mut plan)?;
    apply_workspace(options, &mut plan)?;
    apply_program(options, program, &mut plan.profile)?;
    let profile = &mut plan.profile;
    for (k, v) in &options.labels {
        profile.labels.insert(k.clone(), v.clone());
    }
    profile
        .labels
        .insert(LABEL_MANAGED.to_string(), "true".to_string());
    profile.labels.insert(LABEL_OWNER.to_string(), owner());
    Ok(plan)
}

fn invalid(message: String) -> SandboxError {
    SandboxError::InvalidOption { message }
}

/// The image, or the Compose service (which may name the user and a `build:`). Returns the
/// service's `networks:`.
fn apply_source(source: &ImageSource, plan: &mut Plan) -> Result<Vec<String>, SandboxError> {
    match source {
        ImageSource::Image(image) => {
            if image.trim().is_empty() {
                return Err(invalid("the image name is empty".to_string()));
            }
            plan.profile.image = image.clone();
            Ok(Vec::new())
        }
        ImageSource::Compose { file, service } => {
            let applied = compose::apply(file, service, &mut plan.profile)?;
            plan.explicit_user = applied.explicit_user;
            plan.build = applied.build;
            plan.overridden = applied.overridden;
            plan.notes.extend(applied.notes);
            Ok(applied.networks)
        }
    }
}

/// `--user`, the limits (`--memory`, `--cpus`, `--pids`), `--network` and `--runtime`.
fn apply_settings(
    options: &SandboxOptions,
    service_networks: &[String],
    plan: &mut Plan,
) -> Result<(), SandboxError> {
    let profile = &mut plan.profile;
    if let Some(user) = &options.user {
        profile.user = user.clone();
        plan.explicit_user = true;
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
        // network names come from the file: escaped, like every file text that is printed
        let names: Vec<String> = service_networks
            .iter()
            .map(|n| crate::escape::line(&crate::source::clip(n, 40)).into_owned())
            .collect();
        plan.notes.push(format!(
            "network: none (the service's `networks:` ({}) are not used; --network to opt in)",
            names.join(", ")
        ));
    }
    if let Some(r) = &options.runtime {
        if r.trim().is_empty() {
            return Err(invalid("--runtime is empty".to_string()));
        }
        profile.runtime = Some(r.clone());
    }
    Ok(())
}

/// `--allow-host`: the plan is judged with no network (the sandbox's only network is the
/// internal one to the proxy, which the rules accept like `none`); the run attaches it.
fn apply_egress(options: &SandboxOptions, plan: &mut Plan) -> Result<(), SandboxError> {
    let Some(egress) = &options.egress else {
        return Ok(());
    };
    if let Some(n) = options.network.as_deref().filter(|n| *n != "none") {
        return Err(invalid(format!(
            "--allow-host and --network {n} cannot be combined: with --allow-host the sandbox's only network is the egress proxy's"
        )));
    }
    let policy = egress.policy()?;
    plan.profile.network_mode = "none".to_string();
    let hosts: Vec<String> = policy.hosts.iter().map(ToString::to_string).collect();
    plan.notes.push(format!(
        "network: an internal network whose only way out is the egress proxy (hosts {}; ports {})",
        hosts.join(", "),
        policy
            .ports
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    ));
    Ok(())
}

/// `--env KEY=VALUE` (replaces the service's `KEY`) and `--env KEY` (this process's `KEY`, when
/// set).
fn apply_env(env: &[String], profile: &mut HardenedProfile) -> Result<(), SandboxError> {
    for e in env {
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
    Ok(())
}

/// `--mount SRC:DST[:ro]`: each target once; a flag's mount replaces the service's.
fn apply_mounts(options: &SandboxOptions, plan: &mut Plan) -> Result<(), SandboxError> {
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
            &mut plan.profile,
            &m.target,
            &format!("--mount {}", m.source.display()),
            &mut plan.notes,
        );
        plan.profile.mounts.push(BindMount {
            source,
            target: m.target.clone(),
            read_only: m.read_only,
            origin: MountOrigin::Mount,
        });
    }
    Ok(())
}

/// `--workspace DIR`: a writable mount on [`WORKSPACE`], the working directory.
fn apply_workspace(options: &SandboxOptions, plan: &mut Plan) -> Result<(), SandboxError> {
    let Some(ws) = &options.workspace else {
        return Ok(());
    };
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
        &mut plan.profile,
        WORKSPACE,
        &format!("--workspace {}", ws.display()),
        &mut plan.notes,
    );
    plan.profile.mounts.push(BindMount {
        source,
        target: WORKSPACE.to_string(),
        read_only: false,
        origin: MountOrigin::Workspace,
    });
    plan.profile.working_dir = Some(WORKSPACE.to_string());
    Ok(())
}

/// The program: the image's default, a command, inline code or a mounted file.
fn apply_program(
    options: &SandboxOptions,
    program: &Program,
    profile: &mut HardenedProfile,
) -> Result<(), SandboxError> {
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
    Ok(())
}

/// Canonical absolute path of an existing host path.
fn existing(path: &Path, what: &str) -> Result<PathBuf, SandboxError> {
    std::fs::canonicalize(path).map_err(|e| SandboxError::InvalidOption {
        message: format!("{what} {}: {e}", path.display()),
    })
}

/// A relaxation the invoker asked for: the rule as written, who asked, why.
pub(in crate::sandbox) type Allowance = (String, AllowSource, String);

/// The invoker's relaxations: `--allow`, `--allow-root`, `--config`.
pub(in crate::sandbox) fn invoker_allows(options: &SandboxOptions) -> Vec<Allowance> {
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
/// scratch mounts) and the Compose file's, minus [`super::super::ISOLATION_RULES`].
pub(in crate::sandbox) fn lint(
    profile: &HardenedProfile,
    allow: &[Allowance],
) -> Result<LintReport, SandboxError> {
    let mut allowed: Vec<(String, AllowSource, String)> = Vec::new();
    for (a, source, why) in allow {
        match crate::rules::find(a.trim()) {
            Some(rule) => allowed.push((rule.meta().name.to_string(), *source, why.clone())),
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
        join_wanted: true,
        boundary: None,
        report_only: Vec::new(),
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
                let source = if !super::super::is_isolation_rule(rule) {
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
pub(in crate::sandbox) fn refused(report: LintReport) -> SandboxError {
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
pub(super) fn judge_plan(report: LintReport) -> Result<LintReport, SandboxError> {
    if report.refusing().count() > 0 {
        Err(refused(report))
    } else {
        Ok(report)
    }
}
