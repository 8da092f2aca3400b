//! `sandlint audit`: the containers of the Docker daemon, each lowered to a one-service Compose
//! document (`src/sandbox/audit/`) and checked with the Compose rules under the config, preset,
//! selection and baseline `check` uses (its code, shared); reported in any format; exit status
//! as `check`'s.

use std::io::Write;

use crate::cli::AuditArgs;
use crate::error::{ExitStatus, UsageError};

#[cfg(feature = "sandbox")]
mod link;
#[cfg(feature = "sandbox")]
mod runtime;

#[cfg(not(feature = "sandbox"))]
pub fn audit(
    _args: &AuditArgs,
    _color: bool,
    _stdout: &mut dyn Write,
    _stderr: &mut dyn Write,
) -> Result<ExitStatus, UsageError> {
    Err(UsageError::new(
        "this sandlint was built without the `sandbox` feature: `sandlint audit` is unavailable",
    ))
}

#[cfg(feature = "sandbox")]
pub fn audit(
    args: &AuditArgs,
    color: bool,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<ExitStatus, UsageError> {
    imp::audit(args, color, stdout, stderr)
}

#[cfg(feature = "sandbox")]
mod imp {
    use std::io::{self, Write};
    use std::path::{Path, PathBuf};
    use std::sync::Arc;

    use super::AuditArgs;
    use crate::commands::check::{self, Configs, Out, Sink};
    use crate::diagnostic::{Diagnostic, Secrets};
    use crate::discover::FileKind;
    use crate::error::{ExitStatus, UsageError};
    use crate::fsread::Boundary;
    use crate::linter::stream::Group;
    use crate::linter::{self, LintOptions, Selection};
    use crate::report;
    use crate::sandbox::SandboxError;
    use crate::sandbox::audit::{self as engine, Audited};
    use crate::source::SourceFile;

    /// The scheme of a container's document name: `container://NAME`.
    pub const SCHEME: &str = "container://";

    /// Where a container's document "lives" on disk: a path that can never exist (`/dev/null`
    /// is no directory), so that nothing around it (`.env`, override files) is ever read.
    const NOWHERE: &str = "/dev/null/sandlint-audit";

    pub fn audit(
        args: &AuditArgs,
        color: bool,
        stdout: &mut dyn Write,
        stderr: &mut dyn Write,
    ) -> Result<ExitStatus, UsageError> {
        // Usage errors first: the config, the baseline, the output file.
        let cli = check::cli_overrides(&args.rules)?;
        let configs = Configs::new(&args.rules, &cli)?;
        let config = configs.for_dir(Path::new("."))?;
        let baseline = check::read_baseline(&args.results)?;
        let threshold = config.fail_on().threshold();
        let mut sink = Sink::new(&args.results, threshold, baseline.as_ref(), false);
        let containers = engine::audit(&args.containers, args.all).map_err(daemon_error)?;
        let boundary = Boundary::around(Path::new(".")).allowing(&args.allow_outside);
        let linker = (!args.no_compose_link).then(|| super::link::Linker::new(&config, &boundary));
        let mut out = Out::open(&args.results, args.output.as_deref(), stdout)?;
        let settings = report::Settings {
            containers: true,
            ..check::settings(&args.results, color && args.output.is_none())
        };
        let human = matches!(
            args.rules.format,
            report::OutputFormat::Full | report::OutputFormat::Concise
        );
        if human && !args.results.quiet {
            for c in &containers {
                let _ = writeln!(stderr, "{}", describe(c));
            }
            if containers.is_empty() {
                let what = if args.all {
                    "containers"
                } else {
                    "running containers (`--all` includes stopped ones)"
                };
                let _ = writeln!(stderr, "the daemon has no {what}");
            }
        }
        let opts = LintOptions {
            selection: Selection::all(),
            compose_set: None,
            built_by: Vec::new(),
            config: &config,
            // the document holds no comment from the daemon: nothing to honour
            inline_ignores: false,
            require_reason: false,
            report_unused: false,
            join_wanted: false,
            boundary: Some(Arc::new(Boundary::around(Path::new(NOWHERE)))),
            report_only: Vec::new(),
        };
        let mut notes = Vec::new();
        let fmt = args.rules.format;
        let written = write_report(
            fmt,
            settings,
            &mut out,
            &mut sink,
            |c| lint_one(c, &opts, linker.as_ref(), &mut notes),
            &containers,
        );
        if let Err(e) = written {
            return out.failed(&e);
        }
        for n in &notes {
            let _ = writeln!(stderr, "note: {}", crate::escape::line(n));
        }
        if let Some(path) = &args.results.write_baseline {
            return check::write_baseline(path, sink.entries, &[], stderr);
        }
        Ok(if sink.failed {
            ExitStatus::Failure
        } else {
            ExitStatus::Success
        })
    }

    /// `container://web: id 0123456789ab, image app:1, running (Compose service `web` of
    /// project `p`)`, escaped.
    fn describe(c: &Audited) -> String {
        let state = if c.running { "running" } else { "not running" };
        let compose = c.compose.as_ref().map_or_else(String::new, |o| {
            format!(
                " (Compose service `{}` of project `{}`)",
                o.service, o.project
            )
        });
        let line = format!(
            "{SCHEME}{}: id {}, image {}, {state}{compose}",
            c.name, c.short_id, c.image
        );
        crate::escape::line(&line).into_owned()
    }

    fn daemon_error(e: SandboxError) -> UsageError {
        match &e {
            SandboxError::DaemonUnreachable { .. } => UsageError::new(format!(
                "{e}; start the daemon (`dockerd`), or select it with DOCKER_HOST or a Docker context"
            )),
            _ => UsageError::new(e.to_string()),
        }
    }

    /// The report: each container's findings as they come, to `out` (none with
    /// `--write-baseline`), through `sink` (baseline, `--fail-on`).
    fn write_report(
        format: report::OutputFormat,
        settings: report::Settings,
        out: &mut Out<'_>,
        sink: &mut Sink<'_>,
        mut lint: impl FnMut(&Audited) -> (Group, Secrets),
        containers: &[Audited],
    ) -> io::Result<()> {
        let mut writer = match out.writer() {
            Some(w) => Some(report::Writer::begin(format, settings, w)?),
            None => None,
        };
        for c in containers {
            let (mut group, secrets) = lint(c);
            sink.take(&mut group);
            if let (Some(writer), Some(w)) = (&mut writer, out.writer()) {
                writer.file(
                    w,
                    &report::FileGroup {
                        display: &group.display,
                        checked: group.checked,
                        findings: &group.findings,
                        secrets: &secrets,
                    },
                )?;
            }
        }
        if let (Some(writer), Some(w)) = (writer, out.writer()) {
            writer.end(w, &[], &[])?;
        }
        out.flush()
    }

    /// One container's document, linted (and compared with its Compose file).
    fn lint_one(
        c: &Audited,
        opts: &LintOptions<'_>,
        linker: Option<&super::link::Linker<'_>>,
        notes: &mut Vec<String>,
    ) -> (Group, Secrets) {
        let display = format!("{SCHEME}{}", c.name);
        let path = PathBuf::from(NOWHERE).join(sanitized(&c.name));
        let file = SourceFile::new(path, display.clone(), c.document.clone()).into_ref();
        let mut findings =
            linter::lint_file_with(file.clone(), FileKind::Compose, opts).diagnostics;
        // a running container is not a file to edit: its findings carry no fix
        findings.iter_mut().for_each(|d| d.fix = None);
        super::runtime::check(c, &file, opts.config, &mut findings);
        if let Some(linker) = linker
            && let Some(origin) = &c.compose
            && let Err(note) = linker.compare(origin, &file, &mut findings)
        {
            notes.push(format!("{display}: {note}"));
        }
        let secrets = secrets_of(&findings);
        let group = Group {
            display,
            checked: true,
            findings,
        };
        (group, secrets)
    }

    /// A container name as one path component (`[A-Za-z0-9_.-]`, else `_`).
    fn sanitized(name: &str) -> String {
        name.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    }

    fn secrets_of(findings: &[Diagnostic]) -> Secrets {
        let mut secrets = Secrets::new();
        for (file, span) in findings.iter().flat_map(|d| &d.secrets) {
            secrets.entry(file.path.clone()).or_default().push(*span);
        }
        secrets
    }
}
