//! Command-line definitions (clap derive only; no logic here).

use std::path::PathBuf;

use clap::builder::PossibleValue;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::Preset;
use crate::init::{Extra, Template};
use crate::report::OutputFormat;
#[cfg(feature = "sandbox")]
use crate::sandbox::Lang;

/// A security linter for Dockerfiles and Docker Compose files.
#[derive(Debug, Parser)]
#[command(name = "sandlint", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// When to use colors in human output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true, env = "SANDLINT_COLOR")]
    pub color: ColorChoice,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Find Dockerfiles and Compose files under PATHS and report security findings.
    Check(Box<CheckArgs>),
    /// Write hardened sandbox configs (Dockerfiles, compose.yaml, .sandlint.toml) that pass `check`.
    Init(Box<InitArgs>),
    /// Run a command in a hardened, verified sandbox container (Docker Engine API).
    Run(Box<RunArgs>),
    /// Check the containers of the Docker daemon (running ones by default) with the Compose rules.
    Audit(Box<AuditArgs>),
    /// Serve the Model Context Protocol over stdio: tools that run code in `run`'s sandbox.
    Mcp(Box<McpArgs>),
    /// Serve a guarded Docker socket: an Engine API proxy that creates only containers that pass
    /// the rules, hardened and verified, and lets its clients touch only those.
    Guard(Box<GuardArgs>),
    /// A sandbox that lives across commands: start, exec, put/get files, ls, stop, gc.
    #[cfg(feature = "sandbox")]
    Session(Box<SessionArgs>),
    /// List the rules.
    Rules(RulesArgs),
    /// Print a rule's documentation.
    Explain(ExplainArgs),
    /// Print a shell completion script.
    Completions(CompletionsArgs),
    /// Print the man page (roff).
    Man,
    /// Run a language server (LSP over standard input and output) for editors: diagnostics as
    /// you type, rule docs on hover, quick fixes to suppress a finding.
    Server(ServerArgs),
    /// Harden Compose files in place: `check --fix --unsafe-fixes --preset sandbox` on them, then
    /// what changed and what still needs a human.
    Harden(HardenArgs),
}

#[derive(Debug, Args)]
pub struct HardenArgs {
    /// The Compose files (or directories) to harden.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
}

impl HardenArgs {
    /// The `check` that `harden` runs: `--preset sandbox --fix --unsafe-fixes --format concise`.
    pub fn check_args(&self) -> Result<CheckArgs, String> {
        let mut argv: Vec<std::ffi::OsString> = ["sandlint", "check", "--preset", "sandbox"]
            .into_iter()
            .chain(["--fix", "--unsafe-fixes", "--format", "concise", "--"])
            .map(Into::into)
            .collect();
        argv.extend(self.files.iter().map(|f| f.clone().into_os_string()));
        match Cli::try_parse_from(argv) {
            Ok(Cli {
                command: Command::Check(args),
                ..
            }) => Ok(*args),
            Ok(_) => Err("not a check".to_string()),
            Err(e) => Err(e.to_string()),
        }
    }
}

#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Rule preset [default: `preset` from each file's config, else `default`].
    #[arg(long, value_enum)]
    pub preset: Option<Preset>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
    Elvish,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Files or directories to check (`-` reads standard input) [default: `.`, unless `-f` is given].
    #[arg(value_name = "PATHS")]
    pub paths: Vec<PathBuf>,

    /// A Compose project made of these files, merged in order like `docker compose -f a.yml -f b.yml`
    /// (no default override file is added). Repeat for each file.
    #[arg(short = 'f', long = "file", value_name = "COMPOSE_FILE")]
    pub file: Vec<PathBuf>,

    #[command(flatten)]
    pub rules: RuleArgs,

    /// Ignore `# sandlint ignore=` comments (audits, central policy).
    #[arg(long)]
    pub no_inline_ignores: bool,

    /// Report a suppression without `reason="…"` as an `invalid-suppression` finding.
    #[arg(long)]
    pub require_reason: bool,

    /// Report suppressions that suppressed nothing (`unused-suppression`).
    #[arg(long)]
    pub report_unused_ignores: bool,

    #[command(flatten)]
    pub results: ResultArgs,

    /// Do not honour .gitignore, .ignore and other ignore files.
    #[arg(long)]
    pub no_ignore: bool,

    /// Also read files here, outside the project (the git work tree, else the checked
    /// directory): e.g. shared Compose files of a monorepo. Repeatable.
    #[arg(long, value_name = "PATH")]
    pub allow_outside: Vec<PathBuf>,

    /// The kind of explicitly named files whose name and content do not tell.
    #[arg(long, value_enum)]
    pub kind: Option<KindArg>,

    /// The file name to report for standard input (`-`); its name also decides its kind.
    #[arg(long, value_name = "NAME")]
    pub stdin_filename: Option<String>,

    /// Also check templates (`Dockerfile.j2`, `*.tpl`, `*.tmpl`, `*.template`, `*.in`), with
    /// their `{{ … }}`/`{% … %}`/`%%VAR%%` markers masked; they are skipped by default.
    #[arg(long)]
    pub include_templates: bool,

    /// List every file checked, skipped (and why) or excluded, on standard error.
    #[arg(short = 'v', long = "show-files", visible_alias = "verbose")]
    pub show_files: bool,

    /// Write the report to this file instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub fix: FixArgs,
}

/// Autofix (`check --fix`): byte-range edits of the files, inside the project only.
#[derive(Debug, Args, Default, Clone)]
pub struct FixArgs {
    /// Apply the safe fixes of the findings, in place (re-checking after each round of edits),
    /// then report what remains.
    #[arg(long, help_heading = "Fix")]
    pub fix: bool,

    /// Also apply the unsafe fixes (they may change what a working service does). Implies `--fix`
    /// unless `--diff` is given.
    #[arg(long, help_heading = "Fix")]
    pub unsafe_fixes: bool,

    /// Print the fixes as a unified diff and change nothing; exit 1 when there is something to fix.
    #[arg(long, help_heading = "Fix", conflicts_with = "fix_only")]
    pub diff: bool,

    /// Apply the fixes like `--fix` and print only a summary, not the remaining findings; exit 0
    /// unless a file could not be written.
    #[arg(long, help_heading = "Fix")]
    pub fix_only: bool,
}

/// What `check` and `audit` share: the output format, the rules and the config.
#[derive(Debug, Args)]
pub struct RuleArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Full, env = "SANDLINT_FORMAT")]
    pub format: OutputFormat,

    /// Exit with 1 when a finding at or above this severity is reported [default: warning,
    /// or `fail-on` from the config file].
    #[arg(long, value_enum, env = "SANDLINT_FAIL_ON")]
    pub fail_on: Option<FailOn>,

    /// Rule preset [default: `preset` from the config file, else `default`].
    #[arg(long, value_enum)]
    pub preset: Option<Preset>,

    /// Run only these rules (names, codes or families, comma-separated); replaces the config's `select`.
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    pub select: Vec<String>,

    /// Also run these rules (names, codes or families, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    pub extend_select: Vec<String>,

    /// Do not run these rules (names, codes or families, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    pub ignore: Vec<String>,

    /// Use this config file for every checked file (instead of the nearest `.sandlint.toml`).
    #[arg(long, value_name = "PATH", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,

    /// Ignore every config file.
    #[arg(long)]
    pub no_config: bool,
}

/// What `check` and `audit` share: the baseline and the summary.
#[derive(Debug, Args)]
pub struct ResultArgs {
    /// Report only findings that are not in this baseline file.
    #[arg(long, value_name = "FILE", conflicts_with = "write_baseline")]
    pub baseline: Option<PathBuf>,

    /// Record today's findings in this baseline file (and exit 0).
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,

    /// Print findings only: no summary line.
    #[arg(short, long)]
    pub quiet: bool,

    /// After the findings, print how many each rule reported (count, code, name), most
    /// frequent first (full and concise formats; JSON always has `statistics`).
    #[arg(long)]
    pub statistics: bool,
}

/// Options of `sandlint audit`.
#[derive(Debug, Args)]
#[command(
    after_help = "Each container's inspect is lowered to a one-service Compose document named                   `container://NAME` and checked with the Compose rules (see the README,                   \"Auditing running containers\"). Exit status as `check`: 0 clean, 1 findings at                   or above --fail-on, 2 no daemon, an unknown container or a usage error."
)]
pub struct AuditArgs {
    /// Containers to audit (names or ids) [default: every running container].
    #[arg(value_name = "CONTAINER")]
    pub containers: Vec<String>,

    /// Also audit stopped containers (without CONTAINER names).
    #[arg(short, long, conflicts_with = "containers")]
    pub all: bool,

    #[command(flatten)]
    pub rules: RuleArgs,

    #[command(flatten)]
    pub results: ResultArgs,

    /// Do not read the Compose file a container's `com.docker.compose.*` labels name (no
    /// comparison with the file, no drift findings).
    #[arg(long)]
    pub no_compose_link: bool,

    /// Also read Compose files here when a container's labels name them (by default only
    /// inside the project around the working directory: its git work tree, else itself).
    #[arg(long, value_name = "PATH")]
    pub allow_outside: Vec<PathBuf>,

    /// Write the report to this file instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = RulesFormat::Table)]
    pub format: RulesFormat,

    /// Show severities under this preset.
    #[arg(long, value_enum, default_value_t = Preset::Default)]
    pub preset: Preset,

    /// Only rules for this kind of file.
    #[arg(long, value_enum)]
    pub target: Option<KindArg>,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Rule name or code (`root-user`, `SLD001`).
    pub rule: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// `--fail-on`: the type and its parser live beside `Severity` (the config reads the same words).
use crate::meta::FailOn;

impl ValueEnum for FailOn {
    fn value_variants<'a>() -> &'a [Self] {
        &FailOn::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        let value = clap::builder::PossibleValue::new(self.as_str());
        Some(match self {
            FailOn::Never => value.help("Always exit 0 unless sandlint itself fails"),
            _ => value,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    Dockerfile,
    Compose,
    Devcontainer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RulesFormat {
    Table,
    Json,
    Markdown,
}

/// Options of `sandlint init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to write the files (created if missing).
    #[arg(default_value = ".")]
    pub dir: PathBuf,

    /// What the images are built for.
    #[arg(long, value_enum, default_value_t = Template::Python)]
    pub template: Template,

    /// Base image for both Dockerfiles instead of the template's (pin it by digest:
    /// `IMAGE@sha256:<digest>`).
    #[arg(long, value_name = "IMAGE")]
    pub base_image: Option<String>,

    /// Also write these files (comma-separated or repeated).
    #[arg(long = "with", value_enum, value_delimiter = ',', value_name = "EXTRA")]
    pub with: Vec<Extra>,

    /// Overwrite files that already exist.
    #[arg(long)]
    pub force: bool,

    /// Print what would be written; write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Options of `sandlint guard`.
#[derive(Debug, Args)]
#[command(
    after_help = "Give an agent this socket instead of /var/run/docker.sock. Every create is \
                  hardened (cap_drop ALL, no-new-privileges, read-only root and a /tmp tmpfs, \
                  memory/CPU/pids limits, network none, a non-root user), checked with the rules \
                  under --preset and refused (403, findings in the message) on an error-level \
                  finding; every start is verified like `sandlint run`'s container. Only the \
                  guard's own containers can be started, attached, exec'd into, copied to or \
                  from, listed and removed; networks, volumes, swarm, plugins, events and system \
                  endpoints are refused. On SIGINT/SIGTERM the guard removes its containers."
)]
pub struct GuardArgs {
    /// The socket to serve (`unix:///path` or a path); a stale socket there is replaced.
    #[arg(long, value_name = "unix:///PATH")]
    pub listen: String,

    /// The Docker daemon's socket.
    #[arg(
        long,
        value_name = "unix:///PATH",
        default_value = "unix:///var/run/docker.sock"
    )]
    pub upstream: String,

    /// Permission bits of the served socket (octal).
    #[arg(long, value_name = "MODE", default_value = "600")]
    pub socket_mode: String,

    /// Rule preset for created containers (it replaces the --config file's) [default: sandbox].
    #[arg(long, value_enum)]
    pub preset: Option<Preset>,

    /// A sandlint configuration (`.sandlint.toml` format) for the rules: severities, `ignore`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Allow bind mounts of host paths that resolve under DIR (repeatable); none by default.
    #[arg(long = "allow-bind-root", value_name = "DIR")]
    pub allow_bind_root: Vec<PathBuf>,

    /// The network guarded containers join [default: none].
    #[arg(long, value_name = "NAME")]
    pub network: Option<String>,

    /// Memory limit (and maximum) per container, e.g. `512m`.
    #[arg(long, value_name = "BYTES", default_value = "512m")]
    pub memory: String,

    /// CPU limit (and maximum) per container, e.g. `1.5`.
    #[arg(long, value_name = "CPUS", default_value = "1")]
    pub cpus: String,

    /// Process limit (and maximum) per container.
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub pids: i64,

    /// Let clients build images (`POST /build`, BuildKit sessions).
    #[arg(long)]
    pub allow_build: bool,

    /// Let clients pull images (`POST /images/create`).
    #[arg(long)]
    pub allow_pull: bool,
}

/// Options of `sandlint mcp`: `sandlint run`'s options, the settings of every tool call (a
/// call chooses only the code or command, its language and a shorter timeout).
#[derive(Debug, Args)]
#[command(
    after_help = "Every tool call is one `sandlint run` with these options: planned hardened, \
                  checked by the rules before create, inspected after start, removed on every path. \
                  A call cannot loosen them: it names the code (run_code) or argv (run_command), \
                  the language and at most this --timeout. --code, --file, a CMD, --json, \
                  --dry-run, --gc and -i are not accepted here."
)]
pub struct McpArgs {
    /// The longest TTL a `session_start` call gets (sessions are removed when the server exits).
    #[cfg(feature = "sandbox")]
    #[arg(long, value_name = "DURATION", default_value = "30m", value_parser = parse_duration)]
    pub session_ttl: std::time::Duration,

    /// At most this many sessions at once.
    #[cfg(feature = "sandbox")]
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub max_sessions: usize,

    #[command(flatten)]
    pub run: RunArgs,
}

/// `sandlint session`.
#[cfg(feature = "sandbox")]
#[derive(Debug, Args)]
#[command(
    after_help = "A session is one container hardened and verified like `sandlint run`'s, kept alive \
                  by a harmless `sleep` until its --ttl (removed then even when no sandlint runs). \
                  Every exec, put and get first re-verifies it (the container sandlint created, \
                  our labels, the same protections in effect) and refuses otherwise. State in \
                  /workspace (a size-capped tmpfs volume) and /tmp persists between execs."
)]
pub struct SessionArgs {
    #[command(subcommand)]
    pub command: SessionCommand,
}

#[cfg(feature = "sandbox")]
#[derive(Debug, Subcommand)]
pub enum SessionCommand {
    /// Start a session and print its id (`run`'s image and hardening options).
    Start(Box<SessionStartArgs>),
    /// Run a command in a session: `session exec ID [--timeout 30s] -- CMD...`.
    Exec(SessionExecArgs),
    /// Copy a host file or directory into the session's /workspace.
    Put(SessionPutArgs),
    /// Copy a file or directory out of the session's /workspace.
    Get(SessionGetArgs),
    /// List the daemon's sandlint sessions with the TTL left.
    Ls(SessionLsArgs),
    /// Remove a session (its container and its /workspace volume).
    Stop(SessionStopArgs),
    /// Remove expired and exited sessions.
    Gc(SessionGcArgs),
    /// Internal: the TTL watchdog of a session (started by `session start`).
    #[command(hide = true)]
    Watch(SessionWatchArgs),
}

#[cfg(feature = "sandbox")]
#[derive(Debug, Args)]
pub struct SessionStartArgs {
    /// Remove the session this long after it started (e.g. 30m, 2h).
    #[arg(long, value_name = "DURATION", default_value = "30m", value_parser = parse_duration)]
    pub ttl: std::time::Duration,

    /// Size of the /workspace tmpfs volume.
    #[arg(long, value_name = "SIZE", default_value = "256m", value_parser = parse_bytes)]
    pub workspace_size: i64,

    /// Also remove the session as soon as the process PID (of this host) exits.
    #[arg(long, value_name = "PID")]
    pub bound_to: Option<u32>,

    /// `sandlint run`'s options (--timeout and --output-limit are each exec's defaults).
    #[command(flatten)]
    pub run: RunArgs,
}

#[cfg(feature = "sandbox")]
#[derive(Debug, Args)]
pub struct SessionExecArgs {
    /// The session id.
    pub id: String,
    /// Kill the command after this long; exit 124 [default: the session's --timeout].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<std::time::Duration>,
    /// Keep at most this much of each of stdout and stderr [default: the session's].
    #[arg(long, value_name = "SIZE", value_parser = parse_bytes)]
    pub output_limit: Option<i64>,
    /// Print one JSON result object instead of streaming the output.
    #[arg(long)]
    pub json: bool,
    /// The command (after `--`).
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
}

#[cfg(feature = "sandbox")]
#[derive(Debug, Args)]
pub struct SessionPutArgs {
    pub id: String,
    /// A host file or directory (never followed through a symlink).
    pub local: PathBuf,
    /// Its path under /workspace (relative, or /workspace/...; ending in `/`: keep LOCAL's name).
    pub remote: String,
    /// Refuse to copy more than this many bytes.
    #[arg(long, value_name = "SIZE", default_value = "64MiB", value_parser = parse_bytes)]
    pub max_size: i64,
    #[arg(long)]
    pub json: bool,
}

#[cfg(feature = "sandbox")]
#[derive(Debug, Args)]
pub struct SessionGetArgs {
    pub id: String,
    /// A path under /workspace.
    pub remote: String,
    /// Where to write it on the host: a file (or into an existing directory), or a new directory.
    pub local: PathBuf,
    /// Refuse to copy more than this many bytes.
    #[arg(long, value_name = "SIZE", default_value = "64MiB", value_parser = parse_bytes)]
    pub max_size: i64,
    #[arg(long)]
    pub json: bool,
}

#[cfg(feature = "sandbox")]
#[derive(Debug, Args)]
pub struct SessionLsArgs {
    /// Remove expired and exited sessions first.
    #[arg(long)]
    pub gc: bool,
    #[arg(long)]
    pub json: bool,
}

#[cfg(feature = "sandbox")]
#[derive(Debug, Args)]
pub struct SessionStopArgs {
    pub id: String,
    #[arg(long)]
    pub json: bool,
}

#[cfg(feature = "sandbox")]
#[derive(Debug, Args)]
pub struct SessionGcArgs {
    #[arg(long)]
    pub json: bool,
}

#[cfg(feature = "sandbox")]
#[derive(Debug, Args)]
pub struct SessionWatchArgs {
    pub id: String,
    #[arg(long)]
    pub container: String,
    #[arg(long)]
    pub deadline: u64,
    #[arg(long)]
    pub bound_to: Option<u32>,
}

/// Options of `sandlint run` (without the `sandbox` feature: none; the command fails).
#[cfg(not(feature = "sandbox"))]
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// The command to run in the sandbox (after `--`).
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// Options of `sandlint run`.
#[cfg(feature = "sandbox")]
#[derive(Debug, Clone, Args)]
#[command(
    after_help = "Hardened by default: non-root user, read-only root filesystem, size-limited \
                  noexec /tmp, all capabilities dropped, no-new-privileges, no network, memory/CPU/pids \
                  limits, an init process, no Docker socket. The planned container is checked with \
                  the rules (preset `sandbox`) before it is created, and inspected after it starts.\n\n\
                  Exit status: the command's; 124 timeout; 137 OOM-killed; 125 refused or sandlint/daemon failure; \
                  141 output reader gone; 128+n on signal n."
)]
pub struct RunArgs {
    /// The image to run [default with --code/--file: busybox:stable, python:3.13-slim or
    /// node:22-slim by --lang]. Never pulled.
    #[arg(long, value_name = "IMAGE", conflicts_with = "compose")]
    pub image: Option<String>,

    /// Take the image and settings from a Compose service (builds `build:` if the image is missing).
    #[arg(long, value_name = "FILE", requires = "service")]
    pub compose: Option<PathBuf>,

    /// The service of --compose.
    #[arg(long, value_name = "NAME", requires = "compose")]
    pub service: Option<String>,

    /// Run this snippet with the interpreter of --lang (arguments after `--` are passed to it).
    #[arg(long, value_name = "STRING", conflicts_with = "file")]
    pub code: Option<String>,

    /// Run this file (mounted read-only) with the interpreter of --lang [default: by extension].
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,

    /// The language of --code / --file [default: sh, or from the --file extension].
    #[arg(long, value_enum)]
    pub lang: Option<Lang>,

    /// Run as this user (`uid[:gid]` or name) [default: the image's non-root USER, else 65534:65534].
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,

    /// Allow running as root (refused otherwise).
    #[arg(long)]
    pub allow_root: bool,

    /// Memory limit (swap is set equal: no swap), e.g. 256m, 1g [default: 512m].
    #[arg(long, value_name = "SIZE", value_parser = parse_bytes)]
    pub memory: Option<i64>,

    /// CPU limit, e.g. 0.5, 2 [default: 1].
    #[arg(long, value_name = "N", value_parser = parse_cpus)]
    pub cpus: Option<i64>,

    /// Maximum number of processes [default: 256].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i64).range(1..))]
    pub pids: Option<i64>,

    /// Kill the command after this long (e.g. 30s, 2m, 500ms); exit 124.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub timeout: std::time::Duration,

    /// Keep at most this much of each of stdout and stderr (e.g. 1MiB, 64k).
    #[arg(long, value_name = "SIZE", default_value = "1MiB", value_parser = parse_bytes)]
    pub output_limit: i64,

    /// Size of the /tmp tmpfs.
    #[arg(long, value_name = "SIZE", default_value = "64m", value_parser = parse_bytes)]
    pub tmp_size: i64,

    /// Network mode (`none` unless asked; `host` is refused by the rules).
    #[arg(long, value_name = "MODE")]
    pub network: Option<String>,

    /// Set an environment variable (`KEY=VALUE`, or `KEY` to pass this process's value).
    #[arg(short, long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,

    /// Mount a host path: `SRC:DST[:ro|rw]` (read-only unless `rw`).
    #[arg(long = "mount", value_name = "SRC:DST:ro")]
    pub mounts: Vec<String>,

    /// Mount this directory read-write at /workspace (the working directory).
    #[arg(long, value_name = "DIR")]
    pub workspace: Option<PathBuf>,

    /// Run despite error-level findings of these rules (names or codes, comma-separated).
    /// Suppressions written in the Compose file never relax the isolation rules; this does.
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    pub allow: Vec<String>,

    /// The invoker's run configuration (TOML: `allow = ["RULE", ...]`, `reason = "..."`); it
    /// must lie outside the Compose project, the workspace and every writable mount.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// The OCI runtime for the container, e.g. `runsc` (gVisor) or `kata-runtime`; verified
    /// against the daemon's view of the container [default: the daemon's].
    #[arg(long, value_name = "NAME")]
    pub runtime: Option<String>,

    /// Run even if the daemon did not apply a protection (the result lists which).
    #[arg(long)]
    pub allow_degraded: bool,

    /// Add a label to the container (`KEY=VALUE`).
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,

    /// Feed sandlint's stdin to the command (closed at its end). On by default when stdin is
    /// not a terminal (`echo hi | sandlint run ... -- cat`).
    #[arg(short = 'i', long)]
    pub interactive: bool,

    /// Print one JSON result object instead of streaming the output.
    #[arg(long)]
    pub json: bool,

    /// Print the planned container (as a Compose service) and the rules' findings; run nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Remove leftover containers carrying sandlint's label (whose sandlint process is gone), then exit.
    #[arg(long, conflicts_with_all = ["image", "compose", "code", "file"])]
    pub gc: bool,

    /// Internal: be the watchdog of this container (started by `sandlint run` itself).
    #[arg(
        long,
        hide = true,
        value_name = "CONTAINER",
        requires = "watchdog_deadline"
    )]
    pub watchdog: Option<String>,

    /// Let the sandbox reach this host name through a filtering HTTP/HTTPS proxy (repeatable;
    /// `*.example.org` allows its strict subdomains). The sandbox's only network is then an
    /// internal one whose only way out is that proxy: other names get 403, IP addresses, raw
    /// TCP/UDP, ICMP and outside DNS fail. The result lists allowed and blocked requests.
    #[arg(long = "allow-host", value_name = "NAME")]
    pub allow_hosts: Vec<String>,

    /// Ports the egress proxy connects to (repeatable, comma-separated) [default: 80,443].
    #[arg(long = "allow-port", value_delimiter = ',', value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
    pub allow_ports: Vec<u16>,

    /// Internal: be the egress proxy, listening on this address (run in the sidecar).
    #[arg(long, hide = true, value_name = "ADDR")]
    pub egress_proxy: Option<String>,

    /// Internal: the egress proxy stops at this Unix second (a session's sidecar).
    #[arg(long, hide = true, value_name = "UNIX", requires = "egress_proxy")]
    pub egress_until: Option<u64>,

    /// Internal: the watchdog's deadline (Unix seconds).
    #[arg(long, hide = true, value_name = "UNIX")]
    pub watchdog_deadline: Option<u64>,

    /// The command to run in the sandbox (after `--`).
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

#[cfg(feature = "sandbox")]
fn parse_bytes(s: &str) -> Result<i64, String> {
    crate::sandbox::profile::parse_bytes(s)
        .ok_or_else(|| format!("`{s}` is not a size (e.g. 512m, 1g, 1048576)"))
}

#[cfg(feature = "sandbox")]
fn parse_cpus(s: &str) -> Result<i64, String> {
    crate::sandbox::profile::parse_cpus(s)
        .ok_or_else(|| format!("`{s}` is not a CPU count (e.g. 0.5, 2)"))
}

#[cfg(feature = "sandbox")]
fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    crate::sandbox::profile::parse_duration(s)
        .ok_or_else(|| format!("`{s}` is not a duration (e.g. 30s, 2m, 500ms)"))
}

/// `clap::ValueEnum` for a type of a lower layer, which stays free of clap: its values in order,
/// each with its aliases and its help line (what `#[derive(ValueEnum)]` took from doc comments).
macro_rules! value_enum {
    ($ty:ident { $($variant:ident => $name:literal $([$($alias:literal),*])? $(: $help:literal)?),* $(,)? }) => {
        impl ValueEnum for $ty {
            fn value_variants<'a>() -> &'a [Self] {
                &[$($ty::$variant),*]
            }

            fn to_possible_value(&self) -> Option<PossibleValue> {
                Some(match self {
                    $($ty::$variant => PossibleValue::new($name) $($(.alias($alias))*)? $(.help($help))?,)*
                })
            }
        }
    };
}

value_enum!(OutputFormat {
    Full => "full": "Rich reports with source snippets (default)",
    Concise => "concise" ["compact"]: "One line per finding: `path:line:col: severity CODE message` (editors, grep)",
    Json => "json": "Versioned JSON document (see README)",
    Sarif => "sarif": "SARIF 2.1.0 (GitHub code scanning and other SARIF viewers)",
    Github => "github": "GitHub Actions workflow commands (inline annotations on pull requests)",
    Gitlab => "gitlab": "GitLab Code Quality report (JSON)",
    Junit => "junit": "JUnit XML (one test case per finding)",
    Checkstyle => "checkstyle": "Checkstyle XML",
});

value_enum!(Preset {
    Default => "default": "The security rules at their default severities",
    Sandbox => "sandbox": "The \"always sandboxed\" posture for agent and untrusted-code containers: stricter severities",
});

value_enum!(Template {
    Python => "python": "Python 3.12 (`python:3.12-slim`, pinned by digest)",
    Node => "node": "Node.js 22 (`node:22-slim`, pinned by digest)",
    Generic => "generic": "Any base image with a POSIX shell, even a minimal busybox (`debian:bookworm-slim` by default)",
});

value_enum!(Extra {
    PreCommit => "pre-commit": "`.pre-commit-config.yaml` with the sandlint hook",
    Github => "github": "`.github/workflows/sandlint.yml`: check, SARIF upload, pull-request annotations",
    Devcontainer => "devcontainer": "`.devcontainer/devcontainer.json`: the sandbox image as a hardened dev container",
    Guard => "guard": "`compose.guard.yaml`: the agent starts its sandboxes through `sandlint guard`, never the daemon's socket",
});

#[cfg(feature = "sandbox")]
value_enum!(Lang {
    Python => "python",
    Node => "node",
    Sh => "sh",
});

/// The completion script for `shell`.
pub fn completion_script(shell: Shell) -> Vec<u8> {
    use clap_complete::Shell as Target;
    let target = match shell {
        Shell::Bash => Target::Bash,
        Shell::Zsh => Target::Zsh,
        Shell::Fish => Target::Fish,
        Shell::Powershell => Target::PowerShell,
        Shell::Elvish => Target::Elvish,
    };
    let mut cmd = <Cli as clap::CommandFactory>::command();
    let mut buf = Vec::new();
    clap_complete::generate(target, &mut cmd, "sandlint", &mut buf);
    buf
}

/// The `sandlint(1)` man page (roff): the top-level page, then a section per subcommand with its
/// options.
pub fn man_page() -> std::io::Result<Vec<u8>> {
    let cmd = <Cli as clap::CommandFactory>::command();
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut buf)?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let mut options = Vec::new();
        clap_mangen::Man::new(sub.clone()).render_options_section(&mut options)?;
        let options = String::from_utf8_lossy(&options);
        let mut section = format!(".SH \"SANDLINT {}\"\n", sub.get_name().to_uppercase());
        if let Some(about) = sub.get_long_about().or_else(|| sub.get_about()) {
            // Plain text in roff: escape backslashes and hyphens, and never start a control line.
            let about = about.to_string().replace('\\', "\\e").replace('-', "\\-");
            section.push_str(&format!("\\&{about}\n"));
        }
        // The subcommand's options, under this section instead of a second OPTIONS heading.
        for line in options.lines().filter(|l| !l.starts_with(".SH")) {
            section.push_str(line);
            section.push('\n');
        }
        buf.extend_from_slice(section.as_bytes());
    }
    Ok(buf)
}

/// The command line of this process, parsed (exits with clap's message on a usage error).
pub fn parse() -> Cli {
    Cli::parse()
}
