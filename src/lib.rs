//! sandlint: a security linter for Dockerfiles and Docker Compose files.
//!
//! Pipeline: `discover → read → parse (typed, spanned models) → rules → sort → report`.

pub mod baseline;
pub mod cli;
pub mod commands;
pub mod compose;
pub mod config;
pub mod diagnostic;
pub mod discover;
pub mod dockerfile;
pub mod docs;
pub mod fsread;
pub mod init;
pub mod linter;
pub mod report;
pub mod rules;
#[cfg(feature = "sandbox")]
pub mod sandbox;
pub mod source;
pub mod suppress;
#[cfg(test)]
mod testing;
pub mod workspace;

use std::io::{IsTerminal, Read, Write};

use cli::{Cli, ColorChoice, Command};

/// Where the project lives (rule doc links).
pub const REPOSITORY_URL: &str = "https://github.com/sandlint/sandlint";

/// How a command ended; `main` maps it to the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: nothing at or above the failure threshold.
    Success,
    /// 1: findings at or above the threshold.
    Failure,
    /// 2: usage, configuration or I/O error.
    Error,
    /// Any other code: `sandlint run` returns the command's status, 124 on timeout, 137 when
    /// OOM-killed, 125 when sandlint or the daemon failed first.
    Code(u8),
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Error => 2,
            ExitStatus::Code(code) => code,
        }
    }
}

/// A fatal usage, configuration or I/O error (exit 2). Config errors carry the file and the span
/// of the offending key or value, rendered with a snippet. Boxed: it is returned through every
/// layer and is rare.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error(transparent)]
#[diagnostic(transparent)]
pub struct UsageError(Box<UsageErrorData>);

/// The contents of a [`UsageError`].
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{}{message}", location.as_deref().map(|l| format!("{l}: ")).unwrap_or_default())]
pub struct UsageErrorData {
    pub message: String,
    /// `path:line:col` when the error is in a file.
    pub location: Option<String>,
    #[source_code]
    pub source_code: Option<miette::NamedSource<String>>,
    #[label("here")]
    pub span: Option<miette::SourceSpan>,
}

impl std::ops::Deref for UsageError {
    type Target = UsageErrorData;

    fn deref(&self) -> &UsageErrorData {
        &self.0
    }
}

impl UsageError {
    /// An error without a location. The message is escaped for the terminal
    /// ([`report::escape::line`]): it may quote paths or values from a hostile repository.
    pub fn new(message: impl Into<String>) -> Self {
        Self(Box::new(UsageErrorData {
            message: report::escape::line(&message.into()).into_owned(),
            location: None,
            source_code: None,
            span: None,
        }))
    }

    /// An error at `span` (byte range) of the file `path` whose text is `text`. The name, the
    /// message and the snippet are escaped for the terminal; the span is mapped into the escaped
    /// snippet, and `line:col` counts in the original text.
    pub fn in_file(
        path: &std::path::Path,
        text: &str,
        message: impl Into<String>,
        span: Option<std::ops::Range<usize>>,
    ) -> Self {
        // Show paths below the working directory relative to it.
        let shown = std::env::current_dir()
            .ok()
            .and_then(|cwd| {
                path.strip_prefix(cwd)
                    .ok()
                    .map(std::path::Path::to_path_buf)
            })
            .unwrap_or_else(|| path.to_path_buf());
        let name = report::escape::line(&source::display_path(&shown)).into_owned();
        let file = source::SourceFile::virtual_file(&name, text);
        let location = span.as_ref().map(|r| {
            let lc = file.line_col(u32::try_from(r.start).unwrap_or(u32::MAX));
            format!("{name}:{}:{}", lc.line, lc.column)
        });
        let view = report::escape::View::new(text);
        let to_view = |o: usize| {
            let o = u32::try_from(o.min(text.len())).unwrap_or(u32::MAX);
            view.as_ref().map_or(o, |v| v.to_view(o)) as usize
        };
        let span = span.map(|r| {
            let (start, end) = (to_view(r.start), to_view(r.end.max(r.start)));
            miette::SourceSpan::new(start.into(), end - start)
        });
        Self(Box::new(UsageErrorData {
            message: report::escape::line(&message.into()).into_owned(),
            location: location.or(Some(name.clone())),
            source_code: span.map(|_| {
                miette::NamedSource::new(
                    name,
                    view.as_ref()
                        .map_or_else(|| text.to_string(), |v| v.text.clone()),
                )
            }),
            span,
        }))
    }
}

/// Decides once whether to color output: `--color`, then `NO_COLOR`, then `FORCE_COLOR` /
/// `CLICOLOR_FORCE`, then whether stdout is a terminal (and `TERM` is not `dumb`).
pub fn use_color(choice: ColorChoice, stdout_is_tty: bool) -> bool {
    let env = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty() && v != "0");
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            if env("NO_COLOR") {
                false
            } else if env("FORCE_COLOR") || env("CLICOLOR_FORCE") {
                true
            } else {
                stdout_is_tty && std::env::var("TERM").map_or(true, |t| t != "dumb")
            }
        }
    }
}

/// Runs a parsed command line against the real standard streams.
pub fn run(cli: &Cli) -> Result<ExitStatus, UsageError> {
    let tty = std::io::stdout().is_terminal();
    let color = use_color(cli.color, tty);
    let mut stdin = std::io::stdin().lock();
    let mut stdout = std::io::stdout().lock();
    let mut stderr = std::io::stderr().lock();
    run_with(cli, color, &mut stdin, &mut stdout, &mut stderr)
}

/// Runs a parsed command line with explicit streams (tests).
pub fn run_with(
    cli: &Cli,
    color: bool,
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<ExitStatus, UsageError> {
    let io_err = |e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Ok(ExitStatus::Success)
        } else {
            Err(UsageError::new(format!("cannot write output: {e}")))
        }
    };
    match &cli.command {
        Command::Check(args) => commands::check::check(args, color, stdin, stdout, stderr),
        Command::Init(args) => commands::init::init(args, stdout, stderr),
        Command::Run(args) => commands::run::run(args, stdout, stderr),
        Command::Rules(args) => {
            commands::rules::list(args, stdout).map_or_else(io_err, |()| Ok(ExitStatus::Success))
        }
        Command::Explain(args) => commands::explain::explain(&args.rule, stdout)?
            .map_or_else(io_err, |()| Ok(ExitStatus::Success)),
        Command::Completions(args) => commands::completions::completions(args.shell, stdout)
            .map_or_else(io_err, |()| Ok(ExitStatus::Success)),
        Command::Man => {
            commands::completions::man(stdout).map_or_else(io_err, |()| Ok(ExitStatus::Success))
        }
    }
}
