//! Command-line definitions (clap derive only; no logic here).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

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
    Check(CheckArgs),
    /// List the rules.
    Rules(RulesArgs),
    /// Print a rule's documentation.
    Explain(ExplainArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Files or directories to check (`-` reads standard input).
    #[arg(default_value = ".", value_name = "PATHS")]
    pub paths: Vec<PathBuf>,

    /// Output format.
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Full, env = "SANDLINT_FORMAT")]
    pub format: OutputFormat,

    /// Exit with 1 when a finding at or above this severity is reported.
    #[arg(long, value_enum, default_value_t = FailOn::Warning, env = "SANDLINT_FAIL_ON")]
    pub fail_on: FailOn,

    /// Run only these rules (names or codes, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    pub select: Vec<String>,

    /// Do not run these rules (names or codes, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    pub ignore: Vec<String>,

    /// Print findings only: no summary line.
    #[arg(short, long)]
    pub quiet: bool,

    /// Do not honour .gitignore, .ignore and other ignore files.
    #[arg(long)]
    pub no_ignore: bool,

    /// The kind of explicitly named files whose name and content do not tell.
    #[arg(long, value_enum)]
    pub kind: Option<KindArg>,

    /// The file name to report for standard input (`-`); its name also decides its kind.
    #[arg(long, value_name = "NAME")]
    pub stdin_filename: Option<String>,

    /// Write the report to this file instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = RulesFormat::Table)]
    pub format: RulesFormat,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Rich reports with source snippets (default).
    Full,
    /// One line per finding: `path:line:col: severity CODE [name] message`.
    Concise,
    /// Versioned JSON document (see README).
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Info,
    /// Always exit 0 unless sandlint itself fails.
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    Dockerfile,
    Compose,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RulesFormat {
    Table,
    Json,
    Markdown,
}
