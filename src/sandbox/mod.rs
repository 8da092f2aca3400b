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
//! 3. the [`RunResult`] lists every check and its outcome.
//!
//! The container is removed on every path. Tokio is used only inside this module: each call
//! builds a current-thread runtime.

mod compose;
pub mod context;
pub mod profile;
mod runner;
pub mod verify;

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
/// Exit code when the command was OOM-killed.
pub const EXIT_OOM_KILLED: u8 = 137;

/// The language of a snippet (`--code` / `--file`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, clap::ValueEnum)]
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
    /// Rules (names or codes) whose error-level findings do not refuse the run.
    pub allow: Vec<String>,
    /// Run even when a protection did not take effect (the result says which).
    pub allow_degraded: bool,
    /// Extra labels on the container.
    pub labels: BTreeMap<String, String>,
    /// The language of [`Program::Code`] and [`Program::File`].
    pub lang: Lang,
    /// Kill and remove the container on Ctrl-C / SIGTERM. Tokio keeps its signal handlers
    /// installed for the rest of the process, so embedders that handle signals themselves leave
    /// this off (the CLI turns it on).
    pub handle_signals: bool,
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
            allow_degraded: false,
            labels: BTreeMap::new(),
            lang: Lang::Sh,
            handle_signals: false,
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
    /// Error-level findings let through by `allow`.
    pub allowed: Vec<String>,
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
    /// Rules whose error-level findings `--allow` let through.
    pub allowed: Vec<String>,
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
    pub container: String,
    pub verification: Verification,
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
    #[diagnostic(
        code(sandlint::sandbox::refused),
        help("change the settings, or accept a rule's risk with `--allow RULE`")
    )]
    Refused {
        count: usize,
        /// The findings (rendered by the caller with the report renderer).
        report: Box<LintReport>,
    },

    #[error("cannot reach the Docker daemon at {host} ({how}): {cause}")]
    #[diagnostic(
        code(sandlint::sandbox::daemon_unreachable),
        help(
            "start the daemon (`dockerd`), or set DOCKER_HOST to its address (unix:///path/to/docker.sock or tcp://host:2375)"
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

    #[error("interrupted by {signal}; the container was removed")]
    #[diagnostic(code(sandlint::sandbox::interrupted))]
    Interrupted { signal: &'static str, code: u8 },

    #[error("cannot start the async runtime: {0}")]
    #[diagnostic(code(sandlint::sandbox::runtime))]
    Runtime(String),
}

impl SandboxError {
    /// The process exit code for this error: 125, or 128 + signal when interrupted.
    pub fn exit_code(&self) -> u8 {
        match self {
            SandboxError::Interrupted { code, .. } => *code,
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
    /// findings over it. Needs no daemon; a Compose source is read but nothing is built.
    pub fn plan(&self, program: &Program) -> Result<(HardenedProfile, LintReport), SandboxError> {
        let plan = runner::plan(&self.options, program)?;
        let report = runner::lint(&plan.profile, &self.options.allow)?;
        Ok((plan.profile, report))
    }

    /// Removes containers carrying sandlint's label whose owning process is gone (or every
    /// one, with `all`). Returns the removed containers' names.
    pub fn gc(all: bool) -> Result<Vec<String>, SandboxError> {
        let rt = runtime()?;
        rt.block_on(runner::gc(all))
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, SandboxError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| SandboxError::Runtime(e.to_string()))
}
