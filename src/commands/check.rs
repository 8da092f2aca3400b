//! `sandlint check`: plan (discover, configs, boundaries), lint in parallel, baseline, report,
//! exit status.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use std::collections::{HashMap, HashSet};

use crate::baseline::Baseline;
use crate::cli::{CheckArgs, KindArg, ResultArgs, RuleArgs};
use crate::config::{CliOverrides, Config, ConfigFinder, Selector};
use crate::diagnostic::Secrets;
use crate::discover::{self, Candidate, FileKind, Skipped, WalkError};
use crate::error::{ExitStatus, UsageError};
use crate::fsread::{self, Boundary, ReadError};
use crate::linter::batch::{self, Batch};
use crate::linter::stream::Group;
use crate::linter::{self, FileResult, LintOptions, Selection};
use crate::report;
use crate::source::{display_path, io_message};

mod fix;
use fix::autofix;
pub use fix::harden;

pub fn check(
    args: &CheckArgs,
    color: bool,
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<ExitStatus, UsageError> {
    let plan = Plan::new(args)?;
    let fixing = args.fix.fix || args.fix.unsafe_fixes || args.fix.diff || args.fix.fix_only;
    let fixed = if fixing {
        let fixed = autofix(&plan, args, stdout, stderr)?;
        if args.fix.diff {
            return Ok(if fixed.fixed > 0 {
                ExitStatus::Failure
            } else {
                ExitStatus::Success
            });
        }
        if args.fix.fix_only {
            let _ = writeln!(stderr, "{}", fixed.summary());
            return Ok(ExitStatus::Success);
        }
        Some(fixed)
    } else {
        None
    };
    let status = check_once(&plan, args, color, stdin, stdout, stderr)?;
    if let Some(fixed) = fixed {
        let _ = writeln!(stderr, "{}", fixed.summary());
    }
    Ok(status)
}

/// One check of the plan: the report, the exit status.
fn check_once(
    plan: &Plan,
    args: &CheckArgs,
    color: bool,
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<ExitStatus, UsageError> {
    let baseline = read_baseline(&args.results)?;
    let threshold = plan.run_config.fail_on().threshold();
    let mut sink = Sink::new(&args.results, threshold, baseline.as_ref(), args.show_files);
    // The report is written as the files are checked: `--output` is opened first.
    let mut out = Out::open(&args.results, args.output.as_deref(), stdout)?;
    let settings = settings(&args.results, color && args.output.is_none());
    let written = lint(plan, args, stdin, &mut out, settings, &mut sink)?;
    let checked = match written {
        Ok(checked) => checked,
        Err(e) => return out.failed(&e),
    };
    if let Some(path) = &args.results.write_baseline {
        return write_baseline(path, sink.entries, &checked.errors, stderr);
    }
    if args.show_files {
        show_files(stderr, &sink.listed, &checked.skipped, &plan.excluded);
    }
    for e in &checked.errors {
        let _ = writeln!(stderr, "{}", report::path_error_line(e));
    }
    for notice in &checked.notices {
        let _ = writeln!(stderr, "warning: {notice}");
    }
    Ok(if !checked.errors.is_empty() {
        ExitStatus::Error
    } else if sink.failed {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

/// `--baseline`, read.
pub(crate) fn read_baseline(results: &ResultArgs) -> Result<Option<Baseline>, UsageError> {
    match &results.baseline {
        Some(path) => Ok(Some(Baseline::read(path)?)),
        None => Ok(None),
    }
}

/// The report settings of `--quiet`/`--statistics` (colored when `color`).
pub(crate) fn settings(results: &ResultArgs, color: bool) -> report::Settings {
    report::Settings {
        color,
        quiet: results.quiet,
        width: terminal_width(),
        statistics: results.statistics,
        containers: false,
    }
}

/// Where the report goes.
pub(crate) enum Out<'w> {
    /// `--write-baseline`: no report.
    None,
    File(io::BufWriter<std::fs::File>, PathBuf),
    Stdout(io::BufWriter<&'w mut dyn Write>),
}

impl<'w> Out<'w> {
    /// No report with `--write-baseline`; else `--output`, opened now, or standard output.
    pub(crate) fn open(
        results: &ResultArgs,
        output: Option<&Path>,
        stdout: &'w mut dyn Write,
    ) -> Result<Self, UsageError> {
        Ok(match (&results.write_baseline, output) {
            (Some(_), _) => Out::None,
            (None, Some(path)) => Out::File(
                io::BufWriter::new(
                    std::fs::File::create(path).map_err(|e| cannot_write(path, &e))?,
                ),
                path.to_path_buf(),
            ),
            (None, None) => Out::Stdout(io::BufWriter::new(stdout)),
        })
    }

    pub(crate) fn writer(&mut self) -> Option<&mut dyn Write> {
        match self {
            Out::None => None,
            Out::File(w, _) => Some(w),
            Out::Stdout(w) => Some(w),
        }
    }

    pub(crate) fn flush(&mut self) -> io::Result<()> {
        self.writer().map_or(Ok(()), Write::flush)
    }

    /// The report could not be written: a reader that went away ends the check successfully.
    pub(crate) fn failed(&self, e: &io::Error) -> Result<ExitStatus, UsageError> {
        match self {
            Out::File(_, path) => Err(cannot_write(path, e)),
            _ if is_broken_pipe(e) => Ok(ExitStatus::Success),
            _ => Err(UsageError::new(format!(
                "cannot write output: {}",
                io_message(e)
            ))),
        }
    }
}

fn cannot_write(path: &Path, e: &io::Error) -> UsageError {
    UsageError::new(format!(
        "cannot write {}: {}",
        path.display(),
        io_message(e)
    ))
}

/// What the check keeps of the findings as they pass to the report: the baseline's matches,
/// what `--write-baseline` records, the files listed, whether one is at the `fail-on` level.
pub(crate) struct Sink<'b> {
    baseline: Option<crate::baseline::Matcher<'b>>,
    threshold: Option<crate::meta::Severity>,
    pub(crate) failed: bool,
    /// `--write-baseline`: the unsuppressed findings, compactly.
    pub(crate) entries: Option<Vec<crate::baseline::Entry>>,
    /// `--show-files`: the files checked.
    listed: Vec<String>,
    show_files: bool,
}

impl<'b> Sink<'b> {
    pub(crate) fn new(
        results: &ResultArgs,
        threshold: Option<crate::meta::Severity>,
        baseline: Option<&'b Baseline>,
        show_files: bool,
    ) -> Self {
        Sink {
            baseline: baseline.map(Baseline::matcher),
            threshold,
            failed: false,
            entries: results.write_baseline.as_ref().map(|_| Vec::new()),
            listed: Vec::new(),
            show_files,
        }
    }

    /// A file's findings on their way to the report.
    pub(crate) fn take(&mut self, group: &mut Group) {
        if let Some(b) = &self.baseline {
            b.apply(&mut group.findings);
        }
        if let Some(entries) = &mut self.entries {
            entries.extend(crate::baseline::entries(&group.findings));
        }
        if self.show_files && group.checked {
            self.listed.push(group.display.clone());
        }
        self.failed |= self.threshold.is_some_and(|t| {
            (group.findings.iter()).any(|d| d.suppression.is_none() && d.severity >= t)
        });
    }
}

/// `--write-baseline`: writes the findings to it; the check ends here.
pub(crate) fn write_baseline(
    path: &Path,
    entries: Option<Vec<crate::baseline::Entry>>,
    errors: &[WalkError],
    stderr: &mut dyn Write,
) -> Result<ExitStatus, UsageError> {
    let baseline = Baseline::from_entries(entries.unwrap_or_default());
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
    for e in errors {
        let _ = writeln!(stderr, "{}", report::path_error_line(e));
    }
    Ok(if errors.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::Error
    })
}

/// What to check and how: the files discovery found (Compose files apart, each with its
/// config), the configs and the project boundaries.
struct Plan {
    /// `-` is among the PATHS.
    read_stdin: bool,
    configs: Configs,
    /// The config of the first path (its `fail-on` decides the exit status).
    run_config: Arc<Config>,
    /// With the files whose findings alone are reported (empty: all; see
    /// [`LintOptions::report_only`]).
    compose_files: Vec<(Candidate, Arc<Config>, Vec<PathBuf>)>,
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
        let cli = cli_overrides(&args.rules)?;
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
        let configs = Configs::new(&args.rules, &cli)?;
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
                KindArg::Devcontainer => FileKind::Devcontainer,
            }),
            boundaries: Boundaries::new(args, &configs),
            configs,
        };
        plan.sort_candidates(discovery.candidates)?;
        Ok(plan)
    }

    /// Each candidate with its config, Compose files apart; excluded ones set aside.
    fn sort_candidates(&mut self, candidates: Vec<Candidate>) -> Result<(), UsageError> {
        // Named Compose files: an override named alone is checked from its base file.
        let named: HashSet<PathBuf> = (candidates.iter())
            .filter(|c| c.explicit && c.kind == Some(FileKind::Compose))
            .map(|c| crate::source::normalize(&c.path))
            .collect();
        let mut overrides: Vec<(Candidate, PathBuf)> = Vec::new();
        // The candidates come sorted: the files of a directory one after another share its
        // config, looked up once (the lookup walks up the tree).
        let mut last: Option<(PathBuf, Arc<Config>)> = None;
        for c in candidates {
            let dir = dir_of(&c.path);
            let config = match &last {
                Some((d, config)) if d.as_os_str() == dir.as_os_str() => config.clone(),
                _ => {
                    let config = self.configs.for_dir(dir)?;
                    last = Some((dir.to_path_buf(), config.clone()));
                    config
                }
            };
            if !c.explicit && config.is_excluded(&c.path) {
                self.excluded.push(c.path.clone());
                continue;
            }
            match c.kind {
                // A default override file is checked as part of its base file's project.
                Some(FileKind::Compose)
                    if !c.explicit && crate::workspace::is_override_of_existing_base(&c.path) => {}
                Some(FileKind::Compose) => match crate::workspace::base_taking_override(&c.path) {
                    // named with its base: the base file's project holds it
                    Some(base) if named.contains(&crate::source::normalize(&base)) => {}
                    Some(base) => overrides.push((c, base)),
                    None => self.compose_files.push((c, config, Vec::new())),
                },
                // checked with the Compose projects: it tells which Dockerfile it builds
                Some(FileKind::Devcontainer) => self.compose_files.push((c, config, Vec::new())),
                _ => self.other_files.push((c, config)),
            }
        }
        // Each base once, reporting what falls in the overrides named.
        for (c, base) in overrides {
            let only = crate::source::normalize(&c.path);
            let key = crate::source::normalize(&base);
            let same_base = |(b, ..): &&mut (Candidate, Arc<Config>, Vec<PathBuf>)| {
                crate::source::normalize(&b.path) == key
            };
            if let Some(entry) = self.compose_files.iter_mut().find(same_base) {
                entry.2.push(only);
                continue;
            }
            let config = self.configs.for_dir(dir_of(&base))?;
            let c = Candidate { path: base, ..c };
            self.compose_files.push((c, config, vec![only]));
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
            join_wanted: true,
            boundary: Some(self.boundaries.around(root, config)),
            report_only: Vec::new(),
        }
    }
}

/// What the check found besides the findings (those went to the report as they came): what
/// was skipped or could not be read.
struct Checked {
    errors: Vec<WalkError>,
    skipped: Vec<Skipped>,
    /// What the report format had to leave out (`warning:` lines on stderr).
    notices: Vec<String>,
}

/// Lints the plan (see [`batch::lint_batch`]) and writes the report as the files come. The
/// inner error: the report could not be written.
fn lint(
    plan: &Plan,
    args: &CheckArgs,
    stdin: &mut dyn Read,
    out: &mut Out<'_>,
    settings: report::Settings,
    sink: &mut Sink<'_>,
) -> Result<io::Result<Checked>, UsageError> {
    let mut errors = plan.errors.clone();
    let mut held = Vec::new();
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
            Ok(r) => held.push(r),
            Err(e) => errors.push(e),
        }
    }
    let mut writer = match out.writer() {
        Some(w) => match report::Writer::begin(args.rules.format, settings, w) {
            Ok(writer) => Some(writer),
            Err(e) => return Ok(Err(e)),
        },
        None => None,
    };
    let mut emit = |mut group: Group, secrets: &Secrets| -> io::Result<()> {
        sink.take(&mut group);
        match (&mut writer, out.writer()) {
            (Some(writer), Some(w)) => writer.file(
                w,
                &report::FileGroup {
                    display: &group.display,
                    checked: group.checked,
                    findings: &group.findings,
                    secrets,
                },
            ),
            _ => Ok(()),
        }
    };
    let linted = run_batch(plan, args, held, &mut emit)?;
    let linted = match linted {
        Ok(l) => l,
        Err(e) => return Ok(Err(e)),
    };
    errors.extend(linted.errors);
    errors.sort_by(|a, b| a.path().cmp(b.path()));
    let mut skipped = plan.skipped.clone();
    skipped.extend(linted.skipped);
    skipped.sort();
    let mut notices = Vec::new();
    if let (Some(writer), Some(w)) = (writer, out.writer()) {
        match writer.end(w, &errors, &skipped) {
            Ok(tally) => notices = tally.notices,
            Err(e) => return Ok(Err(e)),
        }
    }
    if let Err(e) = out.flush() {
        return Ok(Err(e));
    }
    Ok(Ok(Checked {
        errors,
        skipped,
        notices,
    }))
}

/// Lints the plan's files (with `held`, checked before) and hands each file's findings to
/// `emit` in order (see [`batch::lint_batch`]).
fn run_batch(
    plan: &Plan,
    args: &CheckArgs,
    held: Vec<FileResult>,
    emit: &mut dyn FnMut(Group, &Secrets) -> io::Result<()>,
) -> Result<io::Result<batch::Linted>, UsageError> {
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
    let linted = batch::lint_batch(
        Batch {
            compose: (plan.compose_files.iter())
                .map(|(c, config, only)| {
                    let mut opts = plan.options(args, config, &c.root);
                    opts.report_only.clone_from(only);
                    (c, opts)
                })
                .collect(),
            compose_set,
            others: (plan.other_files.iter())
                .map(|(c, config)| (c, plan.options(args, config, &c.root)))
                .collect(),
            kind_arg: plan.kind_arg,
            held,
            held_findings: held_findings()?,
        },
        emit,
    );
    Ok(linted)
}

/// `SANDLINT_HELD_FINDINGS`: how many Compose findings to keep while the join is made (see
/// [`batch::lint_batch`]); lower caps memory on a huge tree at the cost of checking its Compose
/// projects twice. The output is the same whatever the value.
fn held_findings() -> Result<usize, UsageError> {
    match std::env::var("SANDLINT_HELD_FINDINGS") {
        Err(_) => Ok(batch::HELD_FINDINGS),
        Ok(v) => v.trim().parse().map_err(|_| {
            UsageError::new(format!(
                "SANDLINT_HELD_FINDINGS must be a number of findings, not `{}`",
                crate::escape::line(&v)
            ))
        }),
    }
}

/// Command-line rule settings; unknown names are usage errors with a suggestion.
pub(crate) fn cli_overrides(args: &RuleArgs) -> Result<CliOverrides, UsageError> {
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
pub(crate) struct Configs {
    fixed: Option<Config>,
    none: bool,
    finder: ConfigFinder,
    loaded: std::sync::Mutex<HashMap<PathBuf, std::sync::Arc<Config>>>,
    cli: CliOverrides,
}

impl Configs {
    pub(crate) fn new(args: &RuleArgs, cli: &CliOverrides) -> Result<Self, UsageError> {
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

    pub(crate) fn for_dir(&self, dir: &Path) -> Result<std::sync::Arc<Config>, UsageError> {
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
fn show_files(w: &mut dyn Write, listed: &[String], skipped: &[Skipped], excluded: &[PathBuf]) {
    let mut lines: Vec<(String, String)> = Vec::new();
    for f in listed {
        lines.push((f.clone(), format!("checked  {f}")));
    }
    for s in skipped {
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
        // `--stdin-filename devcontainer.json` (wherever it is)
        .or_else(|| {
            name.filter(|n| Path::new(n).file_name() == Some("devcontainer.json".as_ref()))
                .map(|_| FileKind::Devcontainer)
        })
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

pub(crate) fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .filter(|&w: &usize| w >= 40)
        .unwrap_or(100)
}
