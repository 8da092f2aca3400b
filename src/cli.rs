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
    Check(Box<CheckArgs>),
    /// Write hardened sandbox configs (Dockerfiles, compose.yaml, .sandlint.toml) that pass `check`.
    Init(Box<crate::commands::init::InitArgs>),
    /// Run a command in a hardened, verified sandbox container (Docker Engine API).
    Run(Box<crate::commands::run::RunArgs>),
    /// List the rules.
    Rules(RulesArgs),
    /// Print a rule's documentation.
    Explain(ExplainArgs),
    /// Print a shell completion script.
    Completions(CompletionsArgs),
    /// Print the man page (roff).
    Man,
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

    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Full, env = "SANDLINT_FORMAT")]
    pub format: OutputFormat,

    /// Exit with 1 when a finding at or above this severity is reported [default: warning,
    /// or `fail-on` from the config file].
    #[arg(long, value_enum, env = "SANDLINT_FAIL_ON")]
    pub fail_on: Option<FailOn>,

    /// Rule preset [default: `preset` from the config file, else `default`].
    #[arg(long, value_enum)]
    pub preset: Option<crate::config::Preset>,

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

    /// Ignore `# sandlint ignore=` comments (audits, central policy).
    #[arg(long)]
    pub no_inline_ignores: bool,

    /// Report a suppression without `reason="…"` as an `invalid-suppression` finding.
    #[arg(long)]
    pub require_reason: bool,

    /// Report suppressions that suppressed nothing (`unused-suppression`).
    #[arg(long)]
    pub report_unused_ignores: bool,

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
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = RulesFormat::Table)]
    pub format: RulesFormat,

    /// Show severities under this preset.
    #[arg(long, value_enum, default_value_t = crate::config::Preset::Default)]
    pub preset: crate::config::Preset,

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Rich reports with source snippets (default).
    Full,
    /// One line per finding: `path:line:col: severity CODE message` (editors, grep).
    #[value(alias = "compact")]
    Concise,
    /// Versioned JSON document (see README).
    Json,
    /// SARIF 2.1.0 (GitHub code scanning and other SARIF viewers).
    Sarif,
    /// GitHub Actions workflow commands (inline annotations on pull requests).
    Github,
    /// GitLab Code Quality report (JSON).
    Gitlab,
    /// JUnit XML (one test case per finding).
    Junit,
    /// Checkstyle XML.
    Checkstyle,
}

/// `--fail-on`: the type and its parser live beside `Severity` (the config reads the same words).
pub use crate::meta::FailOn;

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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RulesFormat {
    Table,
    Json,
    Markdown,
}
