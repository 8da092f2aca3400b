//! sandlint: a security linter for Dockerfiles and Docker Compose files, and a verified sandbox.
//!
//! Pipeline: `discover → read → parse (typed, spanned models) → rules → sort → report`.
//!
//! # The house
//!
//! Modules live on floors. A module may use what lives on a lower floor, never what lives on its
//! own floor or above: the parsers know nothing of rules, the rules nothing of the engine or the
//! disk, and only `cli.rs` knows clap. `tests/layers.rs` reads this table and fails on any
//! `crate::` path that breaks it, on any import cycle between files of different folders, on a
//! function over 120 lines and on a file over 1,000 lines (the hand-written parsers excepted).
//!
//! | floor | modules | what lives there |
//! |---|---|---|
//! | 0 | `source`, `escape` | source files, byte spans, line/column, small text and path helpers; safe output of hostile text |
//! | 1 | `meta`, `fsread`, `error` | rule metadata and severities; the one bounded reader and the project boundary; exit status and usage errors |
//! | 2 | `docs`, `fix` | rule docs embedded from `rules/*.md` (generated `RuleMeta`s, examples); fixes: byte-range edits, safe or unsafe, and the pure edit operation |
//! | 3 | `diagnostic` | a finding: rule, severity, spans, labels, its fix |
//! | 4 | `dockerfile`, `compose`, `discover`, `init` | the parsers and their analysed models (`devcontainer.json` is `compose::devcontainer`, lowered to the Compose model); finding files; `init`'s templates |
//! | 5 | `rules` | the rule catalog and its one registry: typed models in, findings out, no disk |
//! | 6 | `config`, `suppress` | `.sandlint.toml` and inline suppressions, resolved against the registry |
//! | 7 | `baseline`, `selection`, `workspace` | baselines; the rules that run for each file, at which severity; every disk read around a file (override files, `.env`, builds, contexts) |
//! | 8 | `linter` | the engine: the enabled rules over a file or a Compose project, suppressions, order |
//! | 9 | `report` | the output formats |
//! | 10 | `sandbox`, `server` | `sandlint run`'s engine (Docker Engine API); `sandlint server`'s (LSP: documents, project state, diagnostics, hover, code actions) |
//! | 11 | `cli` | the command line: every flag and value (all of clap) |
//! | 12 | `commands` | one function per subcommand, from the parsed command line to an exit status |
//! | 13 | `lib` | `lib.rs`/`main.rs`: dispatch |

pub mod baseline;
pub mod cli;
pub mod commands;
pub mod compose;
pub mod config;
pub mod diagnostic;
pub mod discover;
pub mod dockerfile;
pub mod docs;
pub mod error;
pub mod escape;
pub mod fix;
pub mod fsread;
pub mod init;
pub mod linter;
pub mod meta;
pub mod report;
pub mod rules;
#[cfg(feature = "sandbox")]
pub mod sandbox;
pub mod selection;
pub mod server;
pub mod source;
pub mod suppress;
#[cfg(test)]
mod testing;
pub mod workspace;

use std::io::{IsTerminal, Read, Write};

use cli::{Cli, ColorChoice, Command};

pub use meta::REPOSITORY_URL;

pub use error::{ExitStatus, UsageError, UsageErrorData};

/// A config error at the command boundary: located in its file (with a snippet) when it points
/// into it.
impl From<config::ConfigError> for UsageError {
    fn from(e: config::ConfigError) -> Self {
        match e.spot() {
            Some(at) => Self::in_file(&at.path, &at.text, e.to_string(), at.span.clone()),
            None => Self::new(e.to_string()),
        }
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
    // The language server reads and writes the standard streams from its own threads.
    if let Command::Server(args) = &cli.command {
        return commands::server::server(args);
    }
    let tty = std::io::stdout().is_terminal();
    let color = use_color(cli.color, tty);
    let mut stdin = std::io::stdin().lock();
    let mut stdout = std::io::stdout().lock();
    // Not locked for the run: a worker thread that writes to stderr would wait for the lock
    // while the main thread waits for the worker (stderr is unbuffered, written rarely).
    let mut stderr = std::io::stderr();
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
        Command::Audit(args) => commands::audit::audit(args, color, stdout, stderr),
        Command::Mcp(args) => commands::mcp::serve(args, stdin, stdout, stderr),
        Command::Guard(args) => commands::guard::guard(args, stderr),
        #[cfg(feature = "sandbox")]
        Command::Session(args) => commands::session::session(args, stdout, stderr),
        Command::Rules(args) => {
            commands::rules::list(args, stdout).map_or_else(io_err, |()| Ok(ExitStatus::Success))
        }
        Command::Explain(args) => commands::explain::explain(&args.rule, stdout)?
            .map_or_else(io_err, |()| Ok(ExitStatus::Success)),
        Command::Completions(args) => commands::completions::completions(args.shell, stdout)
            .map_or_else(io_err, |()| Ok(ExitStatus::Success)),
        Command::Server(_) => Err(UsageError::new(
            "`sandlint server` speaks LSP over the process's standard input and output; run it as a process",
        )),
        Command::Harden(args) => commands::check::harden(args, stdout, stderr),
        Command::Man => {
            commands::completions::man(stdout).map_or_else(io_err, |()| Ok(ExitStatus::Success))
        }
    }
}
