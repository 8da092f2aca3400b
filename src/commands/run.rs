//! `sandlint run`: a command or snippet in a hardened, verified container (see `src/sandbox/`).
//!
//! Exit status: the command's; 124 on timeout; 137 when OOM-killed; 125 when sandlint, the
//! rules (a refused plan) or the daemon fail before the command runs (`docker run`'s convention);
//! 141 when the reader of the output went away (closed pipe); 128 + n on signal n (SIGINT,
//! SIGTERM, SIGHUP, SIGQUIT, SIGPIPE), the container removed.

use std::io::Write;

use crate::cli::RunArgs;
use crate::error::{ExitStatus, UsageError};

#[cfg(feature = "sandbox")]
pub fn run(
    args: &RunArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<ExitStatus, UsageError> {
    imp::run(args, stdout, stderr)
}

#[cfg(not(feature = "sandbox"))]
pub fn run(
    _args: &RunArgs,
    _stdout: &mut dyn Write,
    _stderr: &mut dyn Write,
) -> Result<ExitStatus, UsageError> {
    Err(UsageError::new(
        "this sandlint was built without the `sandbox` feature: `sandlint run` is unavailable",
    ))
}

#[cfg(feature = "sandbox")]
pub(super) mod imp {
    use std::collections::BTreeMap;
    use std::io::Write;

    use super::RunArgs;
    use crate::error::{ExitStatus, UsageError};
    use crate::report::OutputFormat;
    use crate::report::{self, ReportCtx};
    use crate::sandbox::{
        Allowed, CheckStatus, EXIT_SANDBOX_FAILED, ImageSource, Lang, MountSpec, OutputSink,
        Program, RunResult, Sandbox, SandboxError, SandboxOptions,
    };

    /// Live output to our streams (nothing in `--json` mode). A write to a closed pipe marks
    /// the sink closed: the run then kills the command (exit 141).
    struct Live<'a> {
        stdout: &'a mut dyn Write,
        stderr: &'a mut dyn Write,
        quiet: bool,
        closed: bool,
    }

    fn broken(r: std::io::Result<()>) -> bool {
        r.is_err_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    }

    impl OutputSink for Live<'_> {
        fn stdout(&mut self, bytes: &[u8]) {
            if !self.quiet {
                let r = self
                    .stdout
                    .write_all(bytes)
                    .and_then(|()| self.stdout.flush());
                self.closed |= broken(r);
            }
        }

        fn stderr(&mut self, bytes: &[u8]) {
            if !self.quiet {
                let r = self
                    .stderr
                    .write_all(bytes)
                    .and_then(|()| self.stderr.flush());
                self.closed |= broken(r);
            }
        }

        fn status(&mut self, line: &str) {
            let _ = writeln!(self.stderr, "sandlint: {line}");
        }

        fn closed(&self) -> bool {
            self.closed
        }
    }

    /// Every relaxation, as a warning line each.
    pub(in crate::commands) fn warn_allowed(allowed: &[Allowed], stderr: &mut dyn Write) {
        for a in allowed {
            let _ = writeln!(
                stderr,
                "sandlint: warning: `{}` relaxed by {}: {}",
                a.rule,
                a.source.as_str(),
                a.reason
            );
        }
    }

    pub(super) fn run(
        args: &RunArgs,
        stdout: &mut dyn Write,
        stderr: &mut dyn Write,
    ) -> Result<ExitStatus, UsageError> {
        if let (Some(container), Some(deadline)) = (&args.watchdog, args.watchdog_deadline) {
            return Ok(match Sandbox::watch(container, deadline) {
                Ok(()) => ExitStatus::Success,
                Err(_) => ExitStatus::Code(EXIT_SANDBOX_FAILED),
            });
        }
        if let Some(listen) = &args.egress_proxy {
            return Ok(egress_proxy(listen, args, stderr));
        }
        if args.gc {
            return Ok(gc(stdout, stderr));
        }
        let (options, program) = match options(args) {
            Ok(x) => x,
            Err(e) => return Ok(fail(&e, args.json, stdout, stderr)),
        };
        let sandbox = Sandbox::new(options);
        if args.dry_run {
            return Ok(dry_run(&sandbox, &program, stdout, stderr));
        }
        let mut sink = Live {
            stdout: &mut *stdout,
            stderr: &mut *stderr,
            quiet: args.json,
            closed: false,
        };
        match sandbox.run_program(&program, &mut sink) {
            Ok(result) => Ok(finish(&result, args, stdout, stderr)),
            Err(e) => Ok(fail(&e, args.json, stdout, stderr)),
        }
    }

    /// The egress proxy of a run's sidecar (`--egress-proxy ADDR`): serves until killed.
    fn egress_proxy(listen: &str, args: &RunArgs, stderr: &mut dyn Write) -> ExitStatus {
        use crate::sandbox::egress::{policy::Policy, proxy};
        let served = Policy::parse(&args.allow_hosts, &args.allow_ports).and_then(|p| {
            let limits = proxy::Limits {
                until: args.egress_until,
                ..proxy::Limits::default()
            };
            proxy::serve(listen, p, limits)
        });
        match served {
            Ok(()) => ExitStatus::Success,
            Err(e) => {
                let _ = writeln!(stderr, "sandlint: egress proxy: {e}");
                ExitStatus::Code(EXIT_SANDBOX_FAILED)
            }
        }
    }

    /// The sandbox and program `args` describe (shared with `sandlint mcp`).
    pub(in crate::commands) fn options(
        args: &RunArgs,
    ) -> Result<(SandboxOptions, Program), SandboxError> {
        let invalid = |message: String| SandboxError::InvalidOption { message };
        let lang = args
            .lang
            .or_else(|| args.file.as_deref().and_then(Lang::from_path))
            .unwrap_or_default();
        let program = if let Some(code) = &args.code {
            Program::Code {
                code: code.clone(),
                args: args.command.clone(),
            }
        } else if let Some(path) = &args.file {
            Program::File {
                path: path.clone(),
                args: args.command.clone(),
            }
        } else if !args.command.is_empty() {
            Program::Command(args.command.clone())
        } else {
            Program::ImageDefault
        };
        let snippet = matches!(program, Program::Code { .. } | Program::File { .. });
        let source = match (&args.image, &args.compose, &args.service) {
            (Some(image), _, _) => ImageSource::Image(image.clone()),
            (None, Some(file), Some(service)) => ImageSource::Compose {
                file: file.clone(),
                service: service.clone(),
            },
            _ if snippet => ImageSource::Image(lang.default_image().to_string()),
            _ => {
                return Err(invalid(
                    "no image: pass --image IMAGE, or --compose FILE --service NAME".to_string(),
                ));
            }
        };
        let mut labels = BTreeMap::new();
        for l in &args.labels {
            let (k, v) = l.split_once('=').unwrap_or((l.as_str(), ""));
            if k.is_empty() || k.starts_with("dev.sandlint.") {
                return Err(invalid(format!(
                    "invalid --label `{l}`: expected KEY=VALUE (keys under dev.sandlint. are reserved)"
                )));
            }
            labels.insert(k.to_string(), v.to_string());
        }
        let mounts = args
            .mounts
            .iter()
            .map(|m| MountSpec::parse(m))
            .collect::<Result<Vec<_>, _>>()?;
        let mut o = SandboxOptions::with_source(source);
        o.user = args.user.clone();
        o.allow_root = args.allow_root;
        o.memory = args.memory;
        o.nano_cpus = args.cpus;
        o.pids = args.pids;
        o.tmp_size = args.tmp_size;
        o.network = args.network.clone();
        o.timeout = args.timeout;
        o.output_limit = usize::try_from(args.output_limit).unwrap_or(usize::MAX);
        o.env = args.env.clone();
        o.mounts = mounts;
        o.workspace = args.workspace.clone();
        o.allow = args.allow.clone();
        let mut allow_hosts = args.allow_hosts.clone();
        let mut allow_ports = args.allow_ports.clone();
        if let Some(path) = &args.config {
            let config = run_config(path, args)?;
            o.config_allow = config.allow;
            allow_hosts.extend(config.allow_hosts);
            allow_ports.extend(config.allow_ports);
        }
        if !allow_hosts.is_empty() {
            o.egress = Some(crate::sandbox::egress::EgressOptions {
                hosts: allow_hosts,
                ports: allow_ports,
                proxy_exe: std::env::current_exe().ok(),
            });
        } else if !allow_ports.is_empty() {
            return Err(invalid(
                "--allow-port needs --allow-host: the ports are the egress proxy's".to_string(),
            ));
        }
        o.runtime = args.runtime.clone();
        o.watchdog = std::env::current_exe().ok();
        o.allow_degraded = args.allow_degraded;
        o.labels = labels;
        o.lang = lang;
        o.handle_signals = true;
        o.stdin = args.interactive || !std::io::IsTerminal::is_terminal(&std::io::stdin());
        Ok((o, program))
    }

    /// The invoker's run configuration.
    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RunConfig {
        #[serde(default)]
        allow: Vec<String>,
        reason: Option<String>,
        /// The egress allowlist (added to `--allow-host`).
        #[serde(default)]
        allow_hosts: Vec<String>,
        /// The egress proxy's ports (added to `--allow-port`).
        #[serde(default)]
        allow_ports: Vec<u16>,
    }

    /// What `--config FILE` gives a run.
    struct RunConfigured {
        allow: Vec<(String, String)>,
        allow_hosts: Vec<String>,
        allow_ports: Vec<u16>,
    }

    /// Reads `--config FILE`: it must lie outside everything the sandboxed command or the
    /// Compose file's authors can write (the Compose project — its git work tree, else its
    /// directory — the workspace and every writable mount).
    fn run_config(path: &std::path::Path, args: &RunArgs) -> Result<RunConfigured, SandboxError> {
        let invalid = |message: String| SandboxError::InvalidOption { message };
        let shown = path.display();
        let real =
            std::fs::canonicalize(path).map_err(|e| invalid(format!("--config {shown}: {e}")))?;
        let mut fenced: Vec<std::path::PathBuf> = Vec::new();
        if let Some(compose) = &args.compose
            && let Ok(file) = std::fs::canonicalize(compose)
            && let Some(dir) = file.parent()
        {
            let root = dir
                .ancestors()
                .find(|a| a.join(".git").exists())
                .unwrap_or(dir);
            fenced.push(root.to_path_buf());
        }
        if let Some(ws) = &args.workspace {
            fenced.extend(std::fs::canonicalize(ws).ok());
        }
        for m in &args.mounts {
            if let Ok(spec) = MountSpec::parse(m)
                && !spec.read_only
            {
                fenced.extend(std::fs::canonicalize(&spec.source).ok());
            }
        }
        if let Some(f) = fenced.iter().find(|f| real.starts_with(f)) {
            return Err(invalid(format!(
                "--config {shown} lies inside {}, which the Compose file's authors or the sandboxed command can write; keep the run configuration outside it",
                f.display()
            )));
        }
        // The one bounded reader: a regular file, opened without blocking, read once.
        let read = crate::fsread::read(&real, None)
            .map_err(|e| invalid(format!("--config {shown} {}", e.describe())))?;
        if read.text.len() > 1024 * 1024 || read.invalid_utf8.is_some() {
            return Err(invalid(format!(
                "--config {shown} is not a UTF-8 file of at most 1 MiB"
            )));
        }
        let text = read.text;
        let config: RunConfig =
            toml::from_str(&text).map_err(|e| invalid(format!("--config {shown}: {e}")))?;
        let reason = config
            .reason
            .unwrap_or_else(|| format!("allowed by {}", real.display()));
        Ok(RunConfigured {
            allow: config
                .allow
                .into_iter()
                .map(|rule| (rule, reason.clone()))
                .collect(),
            allow_hosts: config.allow_hosts,
            allow_ports: config.allow_ports,
        })
    }

    fn finish(
        result: &RunResult,
        args: &RunArgs,
        stdout: &mut dyn Write,
        stderr: &mut dyn Write,
    ) -> ExitStatus {
        let code = u8::try_from(result.exit_code.clamp(0, 255)).unwrap_or(EXIT_SANDBOX_FAILED);
        let _ = stdout.flush();
        warn_allowed(&result.allowed, stderr);
        if args.json {
            if let Ok(text) = serde_json::to_string_pretty(result) {
                let _ = writeln!(stdout, "{text}");
            }
            return ExitStatus::Code(code);
        }
        let _ = stdout.flush();
        for f in &result.verification.lint.findings {
            if f.starts_with("info ") {
                continue;
            }
            let _ = writeln!(stderr, "sandlint: {f}");
        }
        for c in result
            .verification
            .checks
            .iter()
            .filter(|c| c.status == CheckStatus::Failed)
        {
            let _ = writeln!(
                stderr,
                "sandlint: warning: degraded sandbox: {} (expected {}, daemon reports {})",
                c.name, c.expected, c.actual
            );
        }
        let limit = args.output_limit;
        if result.truncated.stdout {
            let _ = writeln!(
                stderr,
                "sandlint: stdout truncated at {limit} bytes (--output-limit)"
            );
        }
        if result.truncated.stderr {
            let _ = writeln!(
                stderr,
                "sandlint: stderr truncated at {limit} bytes (--output-limit)"
            );
        }
        if result.timed_out {
            let _ = writeln!(
                stderr,
                "sandlint: timed out after {:?}; the container was killed and removed",
                args.timeout
            );
        } else if result.oom_killed {
            let _ = writeln!(
                stderr,
                "sandlint: the command was killed for exceeding the memory limit (OOM)"
            );
        }
        ExitStatus::Code(code)
    }

    fn render_error(e: &SandboxError) -> String {
        let handler =
            miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
                .with_width(100);
        let mut out = String::new();
        if handler.render_report(&mut out, e).is_err() {
            out = e.to_string();
        }
        out
    }

    /// `{"exit_code", "error": {"code", "message", "help", "findings"}}`: a failed run in
    /// `--json` (and to `sandlint mcp`'s clients).
    pub(in crate::commands) fn error_json(e: &SandboxError) -> serde_json::Value {
        let findings: Vec<String> = match e {
            SandboxError::Refused { report, .. } => report
                .refusing()
                .map(|d| format!("{} {}: {}", d.severity, d.rule.name, d.message))
                .collect(),
            _ => Vec::new(),
        };
        let code = miette::Diagnostic::code(e).map(|c| c.to_string());
        let help = miette::Diagnostic::help(e).map(|h| h.to_string());
        serde_json::json!({
            "exit_code": e.exit_code(),
            "error": { "code": code, "message": e.to_string(), "help": help, "findings": findings },
        })
    }

    pub(in crate::commands) fn fail(
        e: &SandboxError,
        json: bool,
        stdout: &mut dyn Write,
        stderr: &mut dyn Write,
    ) -> ExitStatus {
        if let SandboxError::Refused { report, .. } = e {
            let refusing: Vec<_> = report.refusing().cloned().collect();
            let cx = ReportCtx {
                files: vec![report.file.clone()],
                quiet: true,
                width: 100,
                ..ReportCtx::default()
            };
            let _ = stderr.write_all(report::render(OutputFormat::Full, &refusing, &cx).as_bytes());
        }
        let _ = write!(stderr, "{}", render_error(e));
        if json {
            let obj = error_json(e);
            if let Ok(text) = serde_json::to_string_pretty(&obj) {
                let _ = writeln!(stdout, "{text}");
            }
        }
        ExitStatus::Code(e.exit_code())
    }

    fn dry_run(
        sandbox: &Sandbox,
        program: &Program,
        stdout: &mut dyn Write,
        stderr: &mut dyn Write,
    ) -> ExitStatus {
        match sandbox.plan_resolved(program) {
            Ok((profile, report)) => {
                let _ = write!(stdout, "{}", profile.to_compose_masked("sandbox"));
                for note in &report.notes {
                    let _ = writeln!(stderr, "sandlint: note: {note}");
                }
                warn_allowed(&report.relaxations, stderr);
                let shown: Vec<_> = report::reported(&report.findings).cloned().collect();
                let cx = ReportCtx {
                    files: vec![report.file.clone()],
                    quiet: true,
                    width: 100,
                    ..ReportCtx::default()
                };
                let _ =
                    stderr.write_all(report::render(OutputFormat::Full, &shown, &cx).as_bytes());
                let refusing = report.refusing().count();
                if refusing > 0 {
                    let _ = writeln!(
                        stderr,
                        "sandlint: would refuse to run: {refusing} error-level finding(s)"
                    );
                    if let Some(help) = miette::Diagnostic::help(&crate::sandbox::refusal(report)) {
                        let _ = writeln!(stderr, "sandlint: {help}");
                    }
                    ExitStatus::Code(EXIT_SANDBOX_FAILED)
                } else {
                    ExitStatus::Success
                }
            }
            Err(e) => fail(&e, false, stdout, stderr),
        }
    }

    fn gc(stdout: &mut dyn Write, stderr: &mut dyn Write) -> ExitStatus {
        match Sandbox::gc(false) {
            Ok(removed) => {
                for name in &removed {
                    let _ = writeln!(stdout, "{name}");
                }
                let _ = writeln!(
                    stderr,
                    "sandlint: removed {} leftover container{}",
                    removed.len(),
                    if removed.len() == 1 { "" } else { "s" }
                );
                ExitStatus::Success
            }
            Err(e) => fail(&e, false, stdout, stderr),
        }
    }
}
