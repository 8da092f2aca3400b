//! `sandlint check`: plan (discover, configs, boundaries), lint in parallel, baseline, report,
//! exit status.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use std::collections::{HashMap, HashSet};

use crate::baseline::Baseline;
use crate::cli::{CheckArgs, KindArg};
use crate::config::{CliOverrides, Config, ConfigFinder, Selector};
use crate::diagnostic::Diagnostic;
use crate::discover::{self, Candidate, FileKind, Skipped, WalkError};
use crate::error::{ExitStatus, UsageError};
use crate::fsread::{self, Boundary, ReadError};
use crate::linter::batch::{self, Batch, Linted};
use crate::linter::{self, FileResult, LintOptions, Selection};
use crate::report::{self, ReportCtx};
use crate::source::{SourceFile, display_path, io_message};

pub fn check(
    args: &CheckArgs,
    color: bool,
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<ExitStatus, UsageError> {
    let plan = Plan::new(args)?;
    let mut checked = lint(&plan, args, stdin)?;
    if let Some(status) = apply_baseline(args, &mut checked, stderr)? {
        return Ok(status);
    }
    let cx = report_ctx(args, color, &mut checked);
    if let Some(status) = emit(args, &plan, &checked, &cx, stdout, stderr)? {
        return Ok(status);
    }
    Ok(exit_status(&plan, &checked.diagnostics, &cx))
}

/// What to check and how: the files discovery found (Compose files apart, each with its
/// config), the configs and the project boundaries.
struct Plan {
    /// `-` is among the PATHS.
    read_stdin: bool,
    configs: Configs,
    /// The config of the first path (its `fail-on` decides the exit status).
    run_config: Arc<Config>,
    compose_files: Vec<(Candidate, Arc<Config>)>,
    other_files: Vec<(Candidate, Arc<Config>)>,
    /// Found by discovery.
    errors: Vec<WalkError>,
    skipped: Vec<Skipped>,
    /// Files a config's `exclude` leaves out: listed by --show-files, not counted as skipped
    /// (the user asked for it).
    excluded: Vec<PathBuf>,
    kind_arg: Option<FileKind>,
    boundaries: Boundaries,
}

impl Plan {
    fn new(args: &CheckArgs) -> Result<Self, UsageError> {
        let cli = cli_overrides(args)?;
        if args.stdin_filename.is_some() && !args.paths.iter().any(|p| p.as_os_str() == "-") {
            return Err(UsageError::new(
                "--stdin-filename names standard input, but `-` is not among the PATHS; \
                 pass `-` to read standard input (e.g. `sandlint check - --stdin-filename Dockerfile`)",
            ));
        }
        let read_stdin = args.paths.iter().any(|p| p.as_os_str() == "-");
        let paths: Vec<PathBuf> = args
            .paths
            .iter()
            .filter(|p| p.as_os_str() != "-")
            .cloned()
            .collect();
        // No PATHS: "." unless `-f` names a Compose project (then only that project is checked).
        let paths = if paths.is_empty() && !read_stdin && args.file.is_empty() {
            vec![PathBuf::from(".")]
        } else {
            paths
        };
        let discovery = if paths.is_empty() {
            discover::Discovery::default()
        } else {
            discover::discover_with(
                &paths,
                discover::DiscoverOptions {
                    no_ignore: args.no_ignore,
                    include_templates: args.include_templates,
                },
            )
        };
        // Configs: `--config` for everything, or the nearest file to each checked file.
        let configs = Configs::new(args, &cli)?;
        let first_dir = paths
            .first()
            .or(args.file.first())
            .map_or(Path::new("."), |p| dir_of(p));
        let run_config = configs.for_dir(first_dir)?;
        let mut plan = Plan {
            read_stdin,
            run_config,
            compose_files: Vec::new(),
            other_files: Vec::new(),
            errors: discovery.errors,
            skipped: discovery.skipped,
            excluded: Vec::new(),
            kind_arg: args.kind.map(|k| match k {
                KindArg::Dockerfile => FileKind::Dockerfile,
                KindArg::Compose => FileKind::Compose,
            }),
            boundaries: Boundaries::new(args, &configs),
            configs,
        };
        plan.sort_candidates(discovery.candidates)?;
        Ok(plan)
    }

    /// Each candidate with its config, Compose files apart; excluded ones set aside.
    fn sort_candidates(&mut self, candidates: Vec<Candidate>) -> Result<(), UsageError> {
        for c in candidates {
            let config = self.configs.for_dir(dir_of(&c.path))?;
            if !c.explicit && config.is_excluded(&c.path) {
                self.excluded.push(c.path.clone());
                continue;
            }
            match c.kind {
                // A default override file is checked as part of its base file's project.
                Some(FileKind::Compose)
                    if !c.explicit && crate::workspace::is_override_of_existing_base(&c.path) => {}
                Some(FileKind::Compose) => self.compose_files.push((c, config)),
                _ => self.other_files.push((c, config)),
            }
        }
        Ok(())
    }

    /// How to lint a file found under `root` with `config`.
    fn options<'c>(&self, args: &CheckArgs, config: &'c Config, root: &Path) -> LintOptions<'c> {
        LintOptions {
            selection: Selection::all(),
            compose_set: None,
            built_by: Vec::new(),
            config,
            inline_ignores: !args.no_inline_ignores,
            require_reason: args.require_reason,
            report_unused: args.report_unused_ignores,
            boundary: Some(self.boundaries.around(root, config)),
        }
    }
}

/// What the check found: the files checked, their findings (sorted), and what was skipped or
/// could not be read.
struct Checked {
    results: Vec<FileResult>,
    diagnostics: Vec<Diagnostic>,
    errors: Vec<WalkError>,
    skipped: Vec<Skipped>,
}

/// Lints the plan: Compose projects, then Dockerfiles (see [`batch::lint_batch`]), then
/// standard input.
fn lint(plan: &Plan, args: &CheckArgs, stdin: &mut dyn Read) -> Result<Checked, UsageError> {
    // `-f a.yml -f b.yml`: one project from these files, in order.
    let set = (!args.file.is_empty()).then(|| -> Result<_, WalkError> {
        let refs = batch::read_compose_set(&args.file)?;
        let dir = refs.first().map_or(Path::new("."), |f| dir_of(&f.path));
        let config = plan
            .configs
            .for_dir(dir)
            .map_err(|e| WalkError::Unchecked {
                path: refs.first().map(|f| f.path.clone()).unwrap_or_default(),
                message: e.message.clone(),
            })?;
        Ok((refs, config))
    });
    let compose_set = set.as_ref().map(|s| match s {
        Ok((refs, config)) => {
            let mut opts = plan.options(args, config, &refs[0].path);
            opts.compose_set = Some(refs.clone());
            Ok(opts)
        }
        Err(e) => Err(e.clone()),
    });
    let Linted {
        mut results,
        skipped,
        errors,
    } = batch::lint_batch(Batch {
        compose: (plan.compose_files.iter())
            .map(|(c, config)| (c, plan.options(args, config, &c.root)))
            .collect(),
        compose_set,
        others: (plan.other_files.iter())
            .map(|(c, config)| (c, plan.options(args, config, &c.root)))
            .collect(),
        kind_arg: plan.kind_arg,
    });
    let mut all_errors = plan.errors.clone();
    all_errors.extend(errors);
    let mut all_skipped = plan.skipped.clone();
    all_skipped.extend(skipped);
    all_skipped.sort();
    if plan.read_stdin {
        let stdin_dir = args
            .stdin_filename
            .as_deref()
            .map_or(Path::new("."), |n| dir_of(Path::new(n)));
        let config = plan.configs.for_dir(stdin_dir)?;
        // The boundary of standard input is the one around the working directory.
        match check_stdin(
            stdin,
            args.stdin_filename.as_deref(),
            plan.kind_arg,
            &plan.options(args, &config, Path::new(".")),
        ) {
            Ok(r) => results.push(r),
            Err(e) => all_errors.push(e),
        }
    }
    results.sort_by(|a, b| a.file.display.cmp(&b.file.display));
    all_errors.sort_by(|a, b| a.path().cmp(b.path()));
    let mut diagnostics: Vec<Diagnostic> =
        Vec::with_capacity(results.iter().map(|r| r.diagnostics.len()).sum());
    for r in &mut results {
        diagnostics.append(&mut r.diagnostics);
    }
    linter::sort(&mut diagnostics);
    Ok(Checked {
        results,
        diagnostics,
        errors: all_errors,
        skipped: all_skipped,
    })
}

/// `--baseline`: marks the findings it holds. `--write-baseline`: writes the findings to it;
/// then the check ends here (the returned status).
fn apply_baseline(
    args: &CheckArgs,
    checked: &mut Checked,
    stderr: &mut dyn Write,
) -> Result<Option<ExitStatus>, UsageError> {
    if let Some(path) = &args.baseline {
        Baseline::read(path)?.apply(&mut checked.diagnostics);
    }
    let Some(path) = &args.write_baseline else {
        return Ok(None);
    };
    let baseline = Baseline::from_findings(&checked.diagnostics);
    baseline.write(path)?;
    let _ = writeln!(
        stderr,
        "wrote {} finding{} to baseline {}",
        baseline.findings.len(),
        if baseline.findings.len() == 1 {
            ""
        } else {
            "s"
        },
        path.display()
    );
    for e in &checked.errors {
        let _ = writeln!(stderr, "{}", report::path_error_line(e));
    }
    Ok(Some(if checked.errors.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::Error
    }))
}

/// What the report needs besides the findings: every file read (the checked files and the
/// files their projects pulled in), the path errors and skipped files, display settings.
///
/// The results are consumed: a file no finding points into is listed by its name only, so its
/// text is freed here (most files' texts; the findings keep the rest alive).
fn report_ctx(args: &CheckArgs, color: bool, checked: &mut Checked) -> ReportCtx {
    let mut seen = HashSet::new();
    let results = std::mem::take(&mut checked.results);
    let pointed: HashSet<*const SourceFile> = (checked.diagnostics.iter())
        .flat_map(|d| {
            std::iter::once(&d.file)
                .chain(d.labels.iter().map(|l| &l.file))
                .chain(d.secrets.iter().map(|(f, _)| f))
        })
        .map(Arc::as_ptr)
        .collect();
    let files: Vec<_> = results
        .into_iter()
        .flat_map(|r| std::iter::once(r.file).chain(r.extra_files))
        .filter(|f| seen.insert(crate::source::normalize(&f.path)))
        .map(|f| {
            if pointed.contains(&Arc::as_ptr(&f)) {
                f
            } else {
                f.name_only()
            }
        })
        .collect();
    ReportCtx {
        files,
        errors: std::mem::take(&mut checked.errors),
        skipped: std::mem::take(&mut checked.skipped),
        color: color && args.output.is_none(),
        quiet: args.quiet,
        width: terminal_width(),
        statistics: args.statistics,
    }
}

/// `--show-files`, path errors (to stderr, like ripgrep; the report still counts them), and
/// the report to `--output` or stdout. A reader that went away ends the check successfully
/// (the returned status).
fn emit(
    args: &CheckArgs,
    plan: &Plan,
    checked: &Checked,
    cx: &ReportCtx,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<Option<ExitStatus>, UsageError> {
    if args.show_files {
        show_files(stderr, cx, &plan.excluded);
    }
    for e in &cx.errors {
        let _ = writeln!(stderr, "{}", report::path_error_line(e));
    }
    let diagnostics = &checked.diagnostics;
    let mut emitter = report::emitter(args.format);
    match &args.output {
        Some(path) => {
            let cannot_write = |e: io::Error| {
                UsageError::new(format!(
                    "cannot write {}: {}",
                    path.display(),
                    io_message(&e)
                ))
            };
            let file = std::fs::File::create(path).map_err(cannot_write)?;
            let mut w = io::BufWriter::new(file);
            emitter
                .emit(&mut w, diagnostics, cx)
                .and_then(|()| w.flush())
                .map_err(cannot_write)?;
        }
        None => {
            let mut w = io::BufWriter::new(stdout);
            let written = emitter
                .emit(&mut w, diagnostics, cx)
                .and_then(|()| w.flush());
            match written {
                Ok(()) => {}
                Err(e) if is_broken_pipe(&e) => return Ok(Some(ExitStatus::Success)),
                Err(e) => {
                    return Err(UsageError::new(format!(
                        "cannot write output: {}",
                        io_message(&e)
                    )));
                }
            }
        }
    }
    Ok(None)
}

/// Error when a path could not be read; failure when an unsuppressed finding is at or above
/// the `--fail-on` threshold; else success.
fn exit_status(plan: &Plan, diagnostics: &[Diagnostic], cx: &ReportCtx) -> ExitStatus {
    if !cx.errors.is_empty() {
        return ExitStatus::Error;
    }
    let run_config = &plan.run_config;
    let threshold = run_config.fail_on().threshold();
    let failed = threshold.is_some_and(|t| {
        diagnostics
            .iter()
            .any(|d| d.suppression.is_none() && d.severity >= t)
    });
    if failed {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    }
}

/// Command-line rule settings; unknown names are usage errors with a suggestion.
fn cli_overrides(args: &CheckArgs) -> Result<CliOverrides, UsageError> {
    let parse = |names: &[String]| -> Result<Vec<Selector>, UsageError> {
        names
            .iter()
            .map(|n| n.trim())
            .filter(|n| !n.is_empty())
            .map(|n| {
                Selector::parse(n)
                    .map_err(|m| UsageError::new(format!("{m}; `sandlint rules` lists the rules")))
            })
            .collect()
    };
    let select = parse(&args.select)?;
    Ok(CliOverrides {
        preset: args.preset,
        select: if select.is_empty() {
            None
        } else {
            Some(select)
        },
        extend_select: parse(&args.extend_select)?,
        ignore: parse(&args.ignore)?,
        fail_on: args.fail_on,
    })
}

/// The directory to start a config search from for `path`.
fn dir_of(path: &Path) -> &Path {
    if fsread::is_dir(path) {
        path
    } else {
        match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        }
    }
}

type BoundaryKey = (PathBuf, Option<PathBuf>);

/// The project boundary of each checked root (the path named on the command line), with the
/// paths `--allow-outside`, a `--config` file or the applicable discovered config allow.
struct Boundaries {
    cli: Vec<PathBuf>,
    /// By (checked root, config file).
    cache: std::sync::Mutex<HashMap<BoundaryKey, std::sync::Arc<Boundary>>>,
}

impl Boundaries {
    fn new(args: &CheckArgs, configs: &Configs) -> Self {
        let mut cli = args.allow_outside.clone();
        if let Some(c) = &configs.fixed {
            cli.extend(c.allow_outside.iter().cloned());
        }
        Boundaries {
            cli,
            cache: std::sync::Mutex::new(HashMap::new()),
        }
    }

    fn around(&self, root: &Path, config: &Config) -> std::sync::Arc<Boundary> {
        let key = (root.to_path_buf(), config.path.clone());
        if let Ok(cache) = self.cache.lock()
            && let Some(b) = cache.get(&key)
        {
            return b.clone();
        }
        let b = std::sync::Arc::new(
            Boundary::around(root).allowing(self.cli.iter().chain(&config.allow_outside)),
        );
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(key, b.clone());
        }
        b
    }
}

/// Loads each config file once.
struct Configs {
    fixed: Option<Config>,
    none: bool,
    finder: ConfigFinder,
    loaded: std::sync::Mutex<HashMap<PathBuf, std::sync::Arc<Config>>>,
    cli: CliOverrides,
}

impl Configs {
    fn new(args: &CheckArgs, cli: &CliOverrides) -> Result<Self, UsageError> {
        let fixed = match &args.config {
            Some(p) => Some(Config::load(p)?.with_cli(cli)),
            None => None,
        };
        Ok(Configs {
            fixed,
            none: args.no_config,
            finder: ConfigFinder::default(),
            loaded: std::sync::Mutex::new(HashMap::new()),
            cli: cli.clone(),
        })
    }

    fn for_dir(&self, dir: &Path) -> Result<std::sync::Arc<Config>, UsageError> {
        if let Some(c) = &self.fixed {
            return Ok(std::sync::Arc::new(c.clone()));
        }
        let found = if self.none {
            None
        } else {
            self.finder.nearest(dir)
        };
        let key = found.clone().unwrap_or_default();
        if let Ok(map) = self.loaded.lock()
            && let Some(c) = map.get(&key)
        {
            return Ok(c.clone());
        }
        let config = match &found {
            Some(p) => Config::load_discovered(p)?,
            None => Config::default(),
        };
        let config = std::sync::Arc::new(config.with_cli(&self.cli));
        if let Ok(mut map) = self.loaded.lock() {
            map.insert(key, config.clone());
        }
        Ok(config)
    }
}

/// Whether writing failed because the reader went away (also through a serializer, which
/// wraps the I/O error).
fn is_broken_pipe(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::BrokenPipe
        || e.get_ref()
            .and_then(|inner| inner.downcast_ref::<serde_json::Error>())
            .and_then(serde_json::Error::io_error_kind)
            == Some(io::ErrorKind::BrokenPipe)
}

/// `--show-files`: every file checked, skipped or excluded, to stderr (stdout stays the report).
fn show_files(w: &mut dyn Write, cx: &ReportCtx, excluded: &[PathBuf]) {
    let mut lines: Vec<(String, String)> = Vec::new();
    for f in &cx.files {
        lines.push((f.display.clone(), format!("checked  {}", f.display)));
    }
    for s in &cx.skipped {
        let p = display_path(&s.path);
        lines.push((p.clone(), format!("skipped  {p}: {}", s.reason)));
    }
    for e in excluded {
        let p = display_path(e);
        lines.push((
            p.clone(),
            format!("excluded {p}: matched by `exclude` in the config"),
        ));
    }
    lines.sort();
    for (_, line) in lines {
        let _ = writeln!(w, "{}", escape_controls(&line));
    }
}

/// A file name may hold terminal escapes or newlines: print control characters escaped.
fn escape_controls(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn check_stdin(
    stdin: &mut dyn Read,
    name: Option<&str>,
    kind_arg: Option<FileKind>,
    opts: &LintOptions<'_>,
) -> Result<FileResult, WalkError> {
    let display = name.unwrap_or("-");
    let text = fsread::read_stdin(stdin).map_err(|e| WalkError::Unreadable {
        path: PathBuf::from(display),
        message: match e {
            ReadError::TooLarge => format!(
                "standard input is larger than {} MiB; it was not checked",
                fsread::MAX_FILE_BYTES / (1024 * 1024)
            ),
            e => format!("cannot read standard input: {}", batch::walk_message(&e)),
        },
    })?;
    let kind = kind_arg
        .or_else(|| name.and_then(|n| discover::kind_from_name(Path::new(n))))
        .or_else(|| discover::kind_from_content(&text.text))
        .ok_or_else(|| WalkError::Unchecked {
            path: PathBuf::from(display),
            message: "cannot tell whether standard input is a Dockerfile or a Compose file; pass --kind or --stdin-filename"
                .to_string(),
        })?;
    // The Compose project directory of stdin is the directory of --stdin-filename (or `.`).
    let file = fsread::source_from_text(
        PathBuf::from(display),
        display_path(Path::new(display)),
        text,
    )
    .into_ref();
    Ok(linter::lint_file_with(file, kind, opts))
}

fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .filter(|&w: &usize| w >= 40)
        .unwrap_or(100)
}
