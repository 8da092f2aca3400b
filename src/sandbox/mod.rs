//! `sandlint run` as a library: run a command or a code snippet in a fresh, hardened container
//! through the Docker Engine API, and prove the isolation took effect.
//!
//! ```no_run
//! use sandlint::sandbox::{Lang, Sandbox, SandboxOptions};
//!
//! let mut options = SandboxOptions::new("python:3.13-slim");
//! options.lang = Lang::Python;
//! let result = Sandbox::new(options).run("print(6 * 7)")?;
//! assert_eq!(result.stdout, "42\n");
//! # Ok::<(), sandlint::sandbox::SandboxError>(())
//! ```
//!
//! Verification, in three steps:
//! 1. before anything is created, the planned container is rendered as a Compose service
//!    ([`HardenedProfile::to_compose`]) and checked with the rules under the `sandbox` preset; an
//!    error-level finding refuses the run unless its rule is in [`SandboxOptions::allow`];
//! 2. after the container is created (before it starts) and again after it started, the daemon's
//!    view of it is compared with the plan ([`verify::check_container`]); a protection that did
//!    not take effect fails closed unless [`SandboxOptions::allow_degraded`];
//! 3. the uid of the running processes is read from the kernel (`/proc/<pid>/status`, when the
//!    daemon is on this host) and a uid 0 kills the run unless [`SandboxOptions::allow_root`];
//!    before start, a user name is resolved against the image's own `/etc/passwd`, like runc;
//! 4. the [`RunResult`] lists every check and its outcome, the uid and how it is known, and
//!    every relaxation (`allowed`: rule, source, reason).
//!
//! Suppressions written in a Compose file never relax [`ISOLATION_RULES`]; only the invoker can.
//!
//! The container is removed on every path; a watchdog process ([`SandboxOptions::watchdog`]) and
//! the `dev.sandlint.deadline` label bound it even when this process is SIGKILLed. Tokio is used
//! only inside this module: each call builds a current-thread runtime.

pub mod audit;
mod compose;
#[cfg(test)]
mod compose_tests;
pub mod context;
pub mod egress;
pub mod guard;
pub mod profile;
mod runner;
pub mod service_keys;
pub mod session;
pub mod verify;
mod watchdog;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::diagnostic::{Diagnostic, Severity};
use crate::source::FileRef;

pub use profile::HardenedProfile;
pub use verify::{Check, CheckStatus};

/// Exit code when sandlint or the daemon fails before the command runs (`docker run`'s).
pub const EXIT_SANDBOX_FAILED: u8 = 125;
/// Exit code when the command timed out.
pub const EXIT_TIMED_OUT: u8 = 124;
/// Exit code when the reader of the output went away (128 + SIGPIPE, like a shell pipeline).
pub const EXIT_OUTPUT_CLOSED: u8 = 141;
/// Exit code when the command was OOM-killed.
pub const EXIT_OOM_KILLED: u8 = 137;

/// The rules that guard the sandbox's isolation: root, privileged mode, the runtime socket, host
/// namespaces, capabilities, devices, confinement, sensitive and writable host mounts, the
/// network, `no-new-privileges`, the read-only root filesystem and the limits. A suppression
/// written in the Compose file (`# sandlint ignore=`, `x-sandlint`) never relaxes them for
/// `run`: whoever can write that file (the agent, a pull request) must not be able to switch the
/// sandbox off. Only the invoker can, with [`SandboxOptions::allow`] (`--allow RULE`),
/// [`SandboxOptions::allow_root`] or [`SandboxOptions::config_allow`] (`--config FILE`, outside
/// the Compose project).
pub const ISOLATION_RULES: &[&str] = &[
    "service-root-user",
    "privileged-container",
    "container-socket-mount",
    "host-namespace-shared",
    "host-uts-or-cgroup-namespace",
    "host-network-mode",
    "network-not-isolated",
    "dangerous-capability",
    "missing-cap-drop-all",
    "missing-no-new-privileges",
    "confinement-disabled",
    "misspelled-security-key",
    "host-device-mapped",
    "risky-sysctl",
    "sensitive-host-path-mount",
    "writable-bind-mount",
    "shared-mount-propagation",
    "writable-root-filesystem",
    "tmpfs-exec-or-suid",
    "missing-memory-limit",
    "missing-cpu-limit",
    "missing-pids-limit",
    "oom-kill-disabled",
];

/// Whether `rule` (a rule name) is one of [`ISOLATION_RULES`].
pub fn is_isolation_rule(rule: &str) -> bool {
    ISOLATION_RULES.contains(&rule)
}

/// Who relaxed a rule for a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum AllowSource {
    /// `--allow RULE` ([`SandboxOptions::allow`]).
    #[serde(rename = "--allow")]
    Flag,
    /// `--allow-root`.
    #[serde(rename = "--allow-root")]
    AllowRoot,
    /// The invoker's `--config FILE` ([`SandboxOptions::config_allow`]).
    #[serde(rename = "config")]
    Config,
    /// A suppression in the Compose file (never one of [`ISOLATION_RULES`]).
    #[serde(rename = "file")]
    File,
    /// sandlint itself: the `--workspace` mount is the writable mount the invoker asked for.
    #[serde(rename = "--workspace")]
    Workspace,
    /// sandlint itself: a writable bind mount of a subdirectory of the Compose project that holds
    /// none of the files the run is built from (Compose file, `.env`, Dockerfile, `.git`).
    #[serde(rename = "project-scratch")]
    ProjectScratch,
}

impl AllowSource {
    pub fn as_str(self) -> &'static str {
        match self {
            AllowSource::Flag => "--allow",
            AllowSource::AllowRoot => "--allow-root",
            AllowSource::Config => "config",
            AllowSource::File => "file",
            AllowSource::Workspace => "--workspace",
            AllowSource::ProjectScratch => "project-scratch",
        }
    }
}

/// One relaxation of the rules for a run: an error-level finding that did not refuse it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Allowed {
    /// The rule's name.
    pub rule: String,
    pub source: AllowSource,
    pub reason: String,
}

/// The language of a snippet (`--code` / `--file`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Python,
    Node,
    #[default]
    Sh,
}

impl Lang {
    /// The image used when none is given.
    pub fn default_image(self) -> &'static str {
        match self {
            Lang::Python => "python:3.13-slim",
            Lang::Node => "node:22-slim",
            Lang::Sh => "busybox:stable",
        }
    }

    /// From a file extension.
    pub fn from_path(path: &std::path::Path) -> Option<Lang> {
        match path.extension()?.to_str()? {
            "py" => Some(Lang::Python),
            "js" | "mjs" | "cjs" => Some(Lang::Node),
            "sh" => Some(Lang::Sh),
            _ => None,
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Lang::Python => "py",
            Lang::Node => "js",
            Lang::Sh => "sh",
        }
    }

    /// argv running `code` inline.
    fn inline(self, code: &str, args: &[String]) -> Vec<String> {
        let mut argv: Vec<String> = match self {
            Lang::Python => vec!["python3".into(), "-c".into(), code.into()],
            Lang::Node => vec!["node".into(), "-e".into(), code.into()],
            Lang::Sh => vec!["sh".into(), "-c".into(), code.into(), "sh".into()],
        };
        argv.extend(args.iter().cloned());
        argv
    }

    /// argv running the file at `path` (in the container).
    fn script(self, path: &str, args: &[String]) -> Vec<String> {
        let interpreter = match self {
            Lang::Python => "python3",
            Lang::Node => "node",
            Lang::Sh => "sh",
        };
        let mut argv = vec![interpreter.to_string(), path.to_string()];
        argv.extend(args.iter().cloned());
        argv
    }
}

/// Where the image and the container settings come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageSource {
    /// A local image.
    Image(String),
    /// A service of a Compose file: its effective settings, and its `build:` when the image is
    /// missing.
    Compose { file: PathBuf, service: String },
}

/// A host path mounted into the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountSpec {
    pub source: PathBuf,
    pub target: String,
    pub read_only: bool,
}

impl MountSpec {
    /// Parses `SRC:DST[:ro|rw]` (read-only unless `rw`).
    pub fn parse(s: &str) -> Result<MountSpec, SandboxError> {
        let bad = || SandboxError::InvalidOption {
            message: format!("invalid --mount `{s}`: expected SRC:DST[:ro|rw]"),
        };
        let parts: Vec<&str> = s.split(':').collect();
        let (src, dst, mode) = match parts.as_slice() {
            [src, dst] => (*src, *dst, "ro"),
            [src, dst, mode] => (*src, *dst, *mode),
            _ => return Err(bad()),
        };
        if src.is_empty() || !dst.starts_with('/') {
            return Err(bad());
        }
        let read_only = match mode {
            "ro" | "readonly" => true,
            "rw" => false,
            _ => return Err(bad()),
        };
        Ok(MountSpec {
            source: PathBuf::from(src),
            target: dst.to_string(),
            read_only,
        })
    }
}

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Program {
    /// The image's own `ENTRYPOINT`/`CMD`.
    ImageDefault,
    /// A command (replaces the image's `CMD`, like `docker run IMAGE CMD...`).
    Command(Vec<String>),
    /// A snippet run inline by the interpreter of `lang`, with extra arguments.
    Code { code: String, args: Vec<String> },
    /// A host file, mounted read-only and run by the interpreter of `lang`.
    File { path: PathBuf, args: Vec<String> },
}

/// Options of a sandbox. [`SandboxOptions::new`] gives the hardened defaults.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    pub source: ImageSource,
    /// `uid[:gid]` or a name; `None`: the image's non-root `USER`, else `65534:65534`.
    pub user: Option<String>,
    /// Let a root user through (otherwise `service-root-user` refuses it).
    pub allow_root: bool,
    /// Bytes; `None`: 512 MiB (or the Compose service's limit).
    pub memory: Option<i64>,
    /// Nano-CPUs; `None`: 1 CPU (or the Compose service's limit).
    pub nano_cpus: Option<i64>,
    /// `None`: 256 (or the Compose service's limit).
    pub pids: Option<i64>,
    /// Size of the `/tmp` tmpfs in bytes.
    pub tmp_size: i64,
    /// `none` unless asked.
    pub network: Option<String>,
    pub timeout: Duration,
    /// Bytes kept of each of stdout and stderr.
    pub output_limit: usize,
    /// `KEY=VALUE` (or `KEY`, taken from this process's environment).
    pub env: Vec<String>,
    pub mounts: Vec<MountSpec>,
    /// Mounted read-write at [`profile::WORKSPACE`], which becomes the working directory.
    pub workspace: Option<PathBuf>,
    /// Rules (names or codes) whose error-level findings do not refuse the run (`--allow`).
    pub allow: Vec<String>,
    /// Rules (names or codes) the invoker's configuration file allows, with its reason
    /// (`--config FILE`, which must lie outside the Compose project).
    pub config_allow: Vec<(String, String)>,
    /// The OCI runtime (`runsc` for gVisor, `kata-runtime`, ...); `None`: the daemon's default.
    /// Verified against the daemon's `HostConfig.Runtime`.
    pub runtime: Option<String>,
    /// A sandlint binary to run as the watchdog: a detached process that kills and removes the
    /// container when this process dies (even by SIGKILL) or the deadline passes. The CLI sets it
    /// to itself; `None` (the library default) relies on the `dev.sandlint.deadline` label,
    /// which every run and `--gc` reaps.
    pub watchdog: Option<PathBuf>,
    /// Run even when a protection did not take effect (the result says which).
    pub allow_degraded: bool,
    /// Extra labels on the container.
    pub labels: BTreeMap<String, String>,
    /// The language of [`Program::Code`] and [`Program::File`].
    pub lang: Lang,
    /// Kill and remove the container on SIGINT, SIGTERM, SIGHUP, SIGQUIT and SIGPIPE. Tokio keeps its signal handlers
    /// installed for the rest of the process, so embedders that handle signals themselves leave
    /// this off (the CLI turns it on).
    pub handle_signals: bool,
    /// Feed this process's stdin to the command (`docker run -i`), closed at its end.
    pub stdin: bool,
    /// The egress allowlist (`--allow-host`): the sandbox's only network leads to a filtering
    /// proxy that lets these hosts through ([`egress`]). `None`: `network` as given.
    pub egress: Option<egress::EgressOptions>,
}

impl SandboxOptions {
    /// Hardened defaults for a local image.
    pub fn new(image: impl Into<String>) -> Self {
        Self::with_source(ImageSource::Image(image.into()))
    }

    /// Hardened defaults for a source.
    pub fn with_source(source: ImageSource) -> Self {
        SandboxOptions {
            source,
            user: None,
            allow_root: false,
            memory: None,
            nano_cpus: None,
            pids: None,
            tmp_size: profile::DEFAULT_TMPFS_SIZE,
            network: None,
            timeout: Duration::from_secs(30),
            output_limit: 1024 * 1024,
            env: Vec::new(),
            mounts: Vec::new(),
            workspace: None,
            allow: Vec::new(),
            config_allow: Vec::new(),
            runtime: None,
            watchdog: None,
            allow_degraded: false,
            labels: BTreeMap::new(),
            lang: Lang::Sh,
            handle_signals: false,
            stdin: false,
            egress: None,
        }
    }
}

/// The outcome of the rules check (step 1).
#[derive(Debug, Clone)]
pub struct LintReport {
    /// The planned container as a Compose file (what the rules saw).
    pub file: FileRef,
    /// Every finding (suppressed ones included, marked).
    pub findings: Vec<Diagnostic>,
    /// Rules the invoker allowed (`--allow`, `--allow-root`, `--config`), as names.
    pub allowed: Vec<String>,
    /// Every relaxation that took effect: an error-level finding that did not refuse the run,
    /// with who relaxed it and why.
    pub relaxations: Vec<Allowed>,
    /// What the plan changed in or left out of the requested settings, in words (a service
    /// mount replaced by `--workspace`, the service's `networks:` not used, the user chosen so
    /// the workspace is writable, the image's user not resolved).
    pub notes: Vec<String>,
}

impl LintReport {
    /// Unsuppressed findings that refuse the run.
    pub fn refusing<'a>(&'a self) -> impl Iterator<Item = &'a Diagnostic> + 'a {
        self.findings.iter().filter(|d| {
            d.suppression.is_none()
                && d.severity == Severity::Error
                && !self.allowed.iter().any(|a| a == d.rule.name)
        })
    }
}

/// What the result reports about verification.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Verification {
    /// Step 1: rules over the planned container.
    pub lint: LintSummary,
    /// Step 2: every protection checked after the container was created (and again after it
    /// started).
    pub checks: Vec<Check>,
    /// Names of the checks that passed.
    pub verified: Vec<&'static str>,
    /// Names of the checks that failed (non-empty only with `allow_degraded`).
    pub failed: Vec<&'static str>,
    /// Warnings the daemon returned when creating the container.
    pub daemon_warnings: Vec<String>,
}

/// Findings of step 1, summarized.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct LintSummary {
    pub preset: &'static str,
    /// `severity rule: message` for each unsuppressed finding.
    pub findings: Vec<String>,
}

/// The result of a run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunResult {
    /// The command's exit status; 124 on timeout, 137 when OOM-killed.
    pub exit_code: i64,
    /// Captured stdout (lossy UTF-8), at most `output_limit` bytes.
    pub stdout: String,
    pub stderr: String,
    /// Whether stdout / stderr went over `output_limit`.
    pub truncated: Truncated,
    pub duration_ms: u64,
    pub timed_out: bool,
    /// Killed by the kernel's OOM killer: the daemon says so, or (exit 137) the memory cgroup
    /// hit its limit or the kernel's OOM-kill counter rose during the run.
    pub oom_killed: bool,
    pub image: String,
    pub user: String,
    /// The uid the command ran as, and how sandlint knows (see [`verify::UidEvidence`]).
    pub uid: Option<verify::UidEvidence>,
    pub container: String,
    /// Every relaxation of the rules for this run (also printed as warnings by the CLI).
    pub allowed: Vec<Allowed>,
    /// What the plan changed or left out, in words (also printed as `note:` lines by the CLI).
    pub notes: Vec<String>,
    pub verification: Verification,
    /// The egress allowlist's proxy, its checks and its decisions (with `--allow-host`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub egress: Option<egress::EgressReport>,
}

/// Which streams were cut at the output limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Truncated {
    pub stdout: bool,
    pub stderr: bool,
}

/// Where live output goes while the command runs.
pub trait OutputSink {
    fn stdout(&mut self, bytes: &[u8]);
    fn stderr(&mut self, bytes: &[u8]);
    /// A progress line from sandlint itself (image build output); not part of the result.
    fn status(&mut self, _line: &str) {}
    /// Whether the reader of the live output went away (a closed pipe): the run then kills the
    /// command instead of waiting for it.
    fn closed(&self) -> bool {
        false
    }
}

/// Discards live output (it is still captured in the [`RunResult`]).
#[derive(Debug, Default)]
pub struct NoOutput;

impl OutputSink for NoOutput {
    fn stdout(&mut self, _: &[u8]) {}
    fn stderr(&mut self, _: &[u8]) {}
}

/// Why a sandbox run failed before (or instead of) reporting the command's status.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum SandboxError {
    #[error("refused to run: the planned container has {count} error-level finding{s}", s = if *count == 1 { "" } else { "s" })]
    #[diagnostic(code(sandlint::sandbox::refused), help("{hint}"))]
    Refused {
        count: usize,
        /// What to do: change the settings, or the exact `--allow` that accepts the findings.
        hint: String,
        /// The findings (rendered by the caller with the report renderer).
        report: Box<LintReport>,
    },

    #[error("cannot reach the Docker daemon at {host} ({how}): {cause}")]
    #[diagnostic(
        code(sandlint::sandbox::daemon_unreachable),
        help(
            "start the daemon (`dockerd`), or select it: DOCKER_HOST=unix:///path/to/docker.sock (or tcp://host:2375), or a Docker context (`docker context use NAME`, DOCKER_CONTEXT)"
        )
    )]
    DaemonUnreachable {
        host: String,
        how: String,
        cause: String,
    },

    #[error("image `{image}` is not available locally")]
    #[diagnostic(code(sandlint::sandbox::image_missing), help("{hint}"))]
    ImageMissing { image: String, hint: String },

    #[error("building image `{image}` failed: {message}")]
    #[diagnostic(code(sandlint::sandbox::build_failed))]
    BuildFailed { image: String, message: String },

    #[error("the sandbox is degraded: {}", failed.iter().map(|c| format!("{} (expected {}, daemon reports {})", c.name, c.expected, c.actual)).collect::<Vec<_>>().join("; "))]
    #[diagnostic(
        code(sandlint::sandbox::degraded),
        help(
            "the daemon or kernel did not apply these protections, so the container was killed and removed; rerun with `--allow-degraded` to accept that"
        )
    )]
    Degraded { failed: Vec<Check> },

    #[error("Docker API error while trying to {action}: {message}")]
    #[diagnostic(code(sandlint::sandbox::docker))]
    Docker {
        action: &'static str,
        message: String,
    },

    #[error("{message}")]
    #[diagnostic(code(sandlint::sandbox::invalid_option))]
    InvalidOption { message: String },

    #[error(
        "refused to run: the container's user {user} cannot write {path} (owner {owner}, mode {mode:o})"
    )]
    #[diagnostic(code(sandlint::sandbox::workspace_not_writable), help("{hint}"))]
    NotWritable {
        /// The planned user (`uid[:gid]`).
        user: String,
        path: String,
        /// `uid:gid` of the host directory.
        owner: String,
        mode: u32,
        hint: String,
    },

    #[error("refused to run: user `{user}` is uid 0 ({how})")]
    #[diagnostic(
        code(sandlint::sandbox::root_user),
        help("run as a non-root user (`--user 65534:65534`), or accept root with `--allow-root`")
    )]
    RootUser { user: String, how: String },

    #[error(
        "the command's output reader went away (closed pipe); the container was killed and removed"
    )]
    #[diagnostic(code(sandlint::sandbox::output_closed))]
    OutputClosed,

    #[error(
        "the command's output reader went away (closed pipe); the command was killed, the session lives on"
    )]
    #[diagnostic(code(sandlint::sandbox::output_closed))]
    SessionOutputClosed,

    #[error("interrupted by {signal}; the container was removed")]
    #[diagnostic(code(sandlint::sandbox::interrupted))]
    Interrupted { signal: &'static str, code: u8 },

    #[error("refused to copy {path}: {why}")]
    #[diagnostic(
        code(sandlint::sandbox::path_refused),
        help(
            "session files are copied under /workspace only: regular files and directories, no `..`, no symlinks or devices"
        )
    )]
    PathRefused { path: String, why: String },

    #[error("no session `{id}` on this host")]
    #[diagnostic(
        code(sandlint::sandbox::session_not_found),
        help("`sandlint session ls` lists the sessions; an expired one was removed")
    )]
    SessionNotFound { id: String },

    #[error(
        "refused: session `{id}` is no longer the container sandlint started and verified: {why}"
    )]
    #[diagnostic(
        code(sandlint::sandbox::session_tampered),
        help(
            "start a new session (`sandlint session start`); `sandlint session stop ID` removes this one"
        )
    )]
    SessionTampered { id: String, why: String },

    #[error("cannot start the async runtime: {0}")]
    #[diagnostic(code(sandlint::sandbox::runtime))]
    Runtime(String),
}

impl SandboxError {
    /// The process exit code for this error: 125, or 128 + signal when interrupted.
    pub fn exit_code(&self) -> u8 {
        match self {
            SandboxError::Interrupted { code, .. } => *code,
            SandboxError::OutputClosed | SandboxError::SessionOutputClosed => EXIT_OUTPUT_CLOSED,
            _ => EXIT_SANDBOX_FAILED,
        }
    }
}

/// A sandbox: options plus the entry points.
#[derive(Debug, Clone)]
pub struct Sandbox {
    options: SandboxOptions,
}

impl Sandbox {
    pub fn new(options: SandboxOptions) -> Self {
        Sandbox { options }
    }

    pub fn options(&self) -> &SandboxOptions {
        &self.options
    }

    /// Runs a snippet in `options.lang` and captures its output.
    pub fn run(&self, code: &str) -> Result<RunResult, SandboxError> {
        self.run_program(
            &Program::Code {
                code: code.to_string(),
                args: Vec::new(),
            },
            &mut NoOutput,
        )
    }

    /// Runs a command and captures its output.
    pub fn run_command(&self, argv: &[String]) -> Result<RunResult, SandboxError> {
        self.run_program(&Program::Command(argv.to_vec()), &mut NoOutput)
    }

    /// Runs a program, streaming its output to `sink` as it comes (and capturing it).
    pub fn run_program(
        &self,
        program: &Program,
        sink: &mut dyn OutputSink,
    ) -> Result<RunResult, SandboxError> {
        let rt = runtime()?;
        rt.block_on(runner::run(&self.options, program, sink))
    }

    /// Step 1 alone: the profile this sandbox would create for `program`, and the rules'
    /// findings over it. Needs no daemon; a Compose source is read but nothing is built. The
    /// user is the one the profile starts with (`65534:65534` unless named): see
    /// [`Sandbox::plan_resolved`] for the image's.
    pub fn plan(&self, program: &Program) -> Result<(HardenedProfile, LintReport), SandboxError> {
        let plan = runner::plan(&self.options, program)?;
        let mut report = runner::lint(&plan.profile, &runner::invoker_allows(&self.options))?;
        report.notes = plan.notes;
        Ok((plan.profile, report))
    }

    /// [`Sandbox::plan`] as the run would see it, when the daemon is reachable and the image is
    /// local: the image's own `USER` resolved (as the run resolves it) and the writable mounts
    /// checked against that user (the user switched to the workspace's owner, or an error).
    /// Otherwise the plan with [`HardenedProfile::user_unresolved`] set and a note saying why.
    /// Nothing is built or started (a user name is looked up in the image's `/etc/passwd`
    /// through a created, never-started container).
    pub fn plan_resolved(
        &self,
        program: &Program,
    ) -> Result<(HardenedProfile, LintReport), SandboxError> {
        let rt = runtime()?;
        rt.block_on(runner::plan_resolved(&self.options, program))
    }

    /// Removes containers carrying sandlint's label whose owning process is gone or whose
    /// `dev.sandlint.deadline` has passed (or every one, with `all`). Returns the removed
    /// containers' names.
    pub fn gc(all: bool) -> Result<Vec<String>, SandboxError> {
        let rt = runtime()?;
        rt.block_on(runner::gc(all))
    }

    /// The watchdog process's body (`sandlint run --watchdog NAME --watchdog-deadline UNIX`,
    /// started by a run whose [`SandboxOptions::watchdog`] is set): waits until the run says it
    /// removed `container`, dies, or `deadline_unix` passes; in the last two cases kills and
    /// removes the container (only if it carries sandlint's label).
    pub fn watch(container: &str, deadline_unix: u64) -> Result<(), SandboxError> {
        watchdog::watch(container, deadline_unix)
    }
}

/// The error a run returns for `report`'s refusing findings, with the flags that would accept
/// them in its help.
pub fn refusal(report: LintReport) -> SandboxError {
    runner::refused(report)
}

fn runtime() -> Result<tokio::runtime::Runtime, SandboxError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| SandboxError::Runtime(e.to_string()))
}
