//! `sandlint check`: discover, lint in parallel, report.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use std::collections::{HashMap, HashSet};

use crate::baseline::Baseline;
use crate::cli::{CheckArgs, KindArg};
use crate::config::{CliOverrides, Config, ConfigFinder, Selector};
use crate::diagnostic::Diagnostic;
use crate::discover::FileKind;
use crate::discover::{self, Candidate, WalkError};
use crate::error::{ExitStatus, UsageError};
use crate::fsread::{self, Boundary, ReadError};
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
    let cli = cli_overrides(args)?;
    if args.stdin_filename.is_some() && !args.paths.iter().any(|p| p.as_os_str() == "-") {
        return Err(UsageError::new(
            "--stdin-filename names standard input, but `-` is not among the PATHS; \
             pass `-` to read standard input (e.g. `sandlint check - --stdin-filename Dockerfile`)",
        ));
    }

    let (paths, read_stdin): (Vec<PathBuf>, bool) = {
        let stdin_named = args.paths.iter().any(|p| p.as_os_str() == "-");
        (
            args.paths
                .iter()
                .filter(|p| p.as_os_str() != "-")
                .cloned()
                .collect(),
            stdin_named,
        )
    };
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
    let candidates = discovery.candidates;
    let mut errors = discovery.errors;
    let mut skipped = discovery.skipped;
    // Files a config's `exclude` leaves out: listed by --show-files, not counted as skipped
    // (the user asked for it).
    let mut excluded: Vec<PathBuf> = Vec::new();

    // Configs: `--config` for everything, or the nearest file to each checked file.
    let configs = Configs::new(args, &cli)?;
    let first_dir = paths
        .first()
        .or(args.file.first())
        .map_or(Path::new("."), |p| dir_of(p));
    let run_config = configs.for_dir(first_dir)?;
    let mut compose_files = Vec::new();
    let mut other_files = Vec::new();
    for c in candidates {
        let config = configs.for_dir(dir_of(&c.path))?;
        if !c.explicit && config.is_excluded(&c.path) {
            excluded.push(c.path.clone());
            continue;
        }
        match c.kind {
            // A default override file is checked as part of its base file's project.
            Some(FileKind::Compose)
                if !c.explicit && linter::is_override_of_existing_base(&c.path) => {}
            Some(FileKind::Compose) => compose_files.push((c, config)),
            _ => other_files.push((c, config)),
        }
    }

    let kind_arg = args.kind.map(|k| match k {
        KindArg::Dockerfile => FileKind::Dockerfile,
        KindArg::Compose => FileKind::Compose,
    });
    let boundaries = Boundaries::new(args, &configs);
    fn options<'c>(
        args: &CheckArgs,
        boundaries: &Boundaries,
        config: &'c Config,
        root: &Path,
    ) -> LintOptions<'c> {
        LintOptions {
            selection: Selection::all(),
            compose_set: None,
            built_by: Vec::new(),
            config,
            inline_ignores: !args.no_inline_ignores,
            require_reason: args.require_reason,
            report_unused: args.report_unused_ignores,
            boundary: Some(boundaries.around(root, config)),
        }
    }

    // Phase 1: Compose projects (they tell which services build which Dockerfile).
    let mut outcomes: Vec<Result<Checked, WalkError>> = compose_files
        .par_iter()
        .map(|(c, config)| {
            check_candidate(c, kind_arg, &options(args, &boundaries, config, &c.root))
        })
        .collect();
    if !args.file.is_empty() {
        outcomes
            .push(check_compose_set(&args.file, &configs, args, &boundaries).map(Checked::File));
    }
    let mut results = Vec::with_capacity(outcomes.len());
    for o in outcomes {
        match o {
            Ok(Checked::File(r)) => results.push(r),
            Ok(Checked::Skipped(s)) => skipped.push(s),
            Err(e) => errors.push(e),
        }
    }
    // A file pulled into another project (included, or an override) is checked there only.
    // Larger projects first, so that of two files including each other one is kept.
    results.sort_by(|a, b| {
        b.extra_files
            .len()
            .cmp(&a.extra_files.len())
            .then_with(|| a.file.display.cmp(&b.file.display))
    });
    // A project is dropped only when every file of it is already covered: one whose default
    // override file is covered nowhere else (`a/compose.yaml` + `a/compose.override.yaml`, with
    // `a/compose.yaml` also pulled in by `b/compose.yaml`) is kept, or the override would be
    // checked by no one. Findings both projects share are reported once (`linter::sort`).
    let mut covered: HashSet<PathBuf> = HashSet::new();
    results.retain(|r| {
        let own = crate::source::normalize(&r.file.path);
        if covered.contains(&own)
            && r.extra_files
                .iter()
                .all(|f| covered.contains(&crate::source::normalize(&f.path)))
        {
            return false;
        }
        covered.insert(own);
        covered.extend(
            r.extra_files
                .iter()
                .map(|f| crate::source::normalize(&f.path)),
        );
        true
    });
    let mut built_by: HashMap<PathBuf, Vec<crate::rules::BuiltBy>> = HashMap::new();
    for r in &results {
        for (path, b) in &r.built {
            built_by.entry(path.clone()).or_default().push(b.clone());
        }
    }

    // Phase 2: Dockerfiles (and explicitly named files of unknown kind).
    let outcomes: Vec<Result<Checked, WalkError>> = other_files
        .par_iter()
        .map(|(c, config)| {
            let mut opts = options(args, &boundaries, config, &c.root);
            opts.built_by = built_by
                .get(&crate::source::normalize(&c.path))
                .cloned()
                .unwrap_or_default();
            check_candidate(c, kind_arg, &opts)
        })
        .collect();
    for o in outcomes {
        match o {
            Ok(Checked::File(r)) => results.push(r),
            Ok(Checked::Skipped(s)) => skipped.push(s),
            Err(e) => errors.push(e),
        }
    }
    skipped.sort();
    if read_stdin {
        let stdin_dir = args
            .stdin_filename
            .as_deref()
            .map_or(Path::new("."), |n| dir_of(Path::new(n)));
        let config = configs.for_dir(stdin_dir)?;
        // The boundary of standard input is the one around the working directory.
        match check_stdin(
            stdin,
            args.stdin_filename.as_deref(),
            kind_arg,
            &options(args, &boundaries, &config, Path::new(".")),
        ) {
            Ok(r) => results.push(r),
            Err(e) => errors.push(e),
        }
    }

    results.sort_by(|a, b| a.file.display.cmp(&b.file.display));
    errors.sort_by(|a, b| a.path().cmp(b.path()));
    let mut diagnostics: Vec<Diagnostic> = results
        .iter_mut()
        .flat_map(|r| std::mem::take(&mut r.diagnostics))
        .collect();
    linter::sort(&mut diagnostics);
    if let Some(path) = &args.baseline {
        Baseline::read(path)?.apply(&mut diagnostics);
    }
    if let Some(path) = &args.write_baseline {
        let baseline = Baseline::from_findings(&diagnostics);
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
        for e in &errors {
            let _ = writeln!(stderr, "{}", report::path_error_line(e));
        }
        return Ok(if errors.is_empty() {
            ExitStatus::Success
        } else {
            ExitStatus::Error
        });
    }

    // Every file read: the checked files and the files their projects pulled in.
    let mut seen = HashSet::new();
    let files: Vec<_> = results
        .iter()
        .flat_map(|r| std::iter::once(&r.file).chain(r.extra_files.iter()))
        .filter(|f| seen.insert(crate::source::normalize(&f.path)))
        .cloned()
        .collect();
    let cx = ReportCtx {
        files,
        errors,
        skipped,
        color: color && args.output.is_none(),
        quiet: args.quiet,
        width: terminal_width(),
        statistics: args.statistics,
    };
    if args.show_files {
        show_files(stderr, &cx, &excluded);
    }
    // Paths that could not be read go to stderr (like ripgrep); the report still counts them.
    for e in &cx.errors {
        let _ = writeln!(stderr, "{}", report::path_error_line(e));
    }
    let mut emitter = report::emitter(args.format);
    match &args.output {
        Some(path) => {
            let file = std::fs::File::create(path).map_err(|e| {
                UsageError::new(format!(
                    "cannot write {}: {}",
                    path.display(),
                    io_message(&e)
                ))
            })?;
            let mut w = io::BufWriter::new(file);
            emitter
                .emit(&mut w, &diagnostics, &cx)
                .and_then(|()| w.flush())
                .map_err(|e| {
                    UsageError::new(format!(
                        "cannot write {}: {}",
                        path.display(),
                        io_message(&e)
                    ))
                })?;
        }
        None => {
            let mut w = io::BufWriter::new(stdout);
            let written = emitter
                .emit(&mut w, &diagnostics, &cx)
                .and_then(|()| w.flush());
            match written {
                Ok(()) => {}
                Err(e) if is_broken_pipe(&e) => return Ok(ExitStatus::Success),
                Err(e) => {
                    return Err(UsageError::new(format!(
                        "cannot write output: {}",
                        io_message(&e)
                    )));
                }
            }
        }
    }

    if !cx.errors.is_empty() {
        return Ok(ExitStatus::Error);
    }
    let threshold = run_config.fail_on().threshold();
    let failed = threshold.is_some_and(|t| {
        diagnostics
            .iter()
            .any(|d| d.suppression.is_none() && d.severity >= t)
    });
    Ok(if failed {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
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
    if path.is_dir() {
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

/// `-f a.yml -f b.yml`: one project from these files, in order.
fn check_compose_set(
    files: &[PathBuf],
    configs: &Configs,
    args: &CheckArgs,
    boundaries: &Boundaries,
) -> Result<FileResult, WalkError> {
    let mut refs = Vec::with_capacity(files.len());
    for path in files {
        refs.push(read_named(path)?.into_ref());
    }
    let Some(first) = refs.first().cloned() else {
        return Err(WalkError::Unchecked {
            path: PathBuf::new(),
            message: "no Compose file given".to_string(),
        });
    };
    let config = configs
        .for_dir(dir_of(&first.path))
        .map_err(|e| WalkError::Unchecked {
            path: first.path.clone(),
            message: e.message.clone(),
        })?;
    let opts = LintOptions {
        selection: Selection::all(),
        compose_set: Some(refs),
        built_by: Vec::new(),
        config: &config,
        inline_ignores: !args.no_inline_ignores,
        require_reason: args.require_reason,
        report_unused: args.report_unused_ignores,
        boundary: Some(boundaries.around(&first.path, &config)),
    };
    Ok(linter::lint_file_with(first, FileKind::Compose, &opts))
}

/// A file named on the command line: read wherever it is (the invoker named it), but only if it
/// is a regular file within the size cap; anything else is an I/O error (exit 2).
fn read_named(path: &Path) -> Result<SourceFile, WalkError> {
    fsread::read_source(path, None).map_err(|e| WalkError::Unreadable {
        path: path.to_path_buf(),
        message: walk_message(&e),
    })
}

fn walk_message(e: &ReadError) -> String {
    match e {
        ReadError::NotFound => "no such file or directory".to_string(),
        ReadError::Io(m) => m.clone(),
        e => format!("{}; it was not read", e.describe()),
    }
}

/// A candidate's outcome: checked, or skipped because its content is not what its name says.
enum Checked {
    File(FileResult),
    Skipped(discover::Skipped),
}

fn check_candidate(
    c: &Candidate,
    kind_arg: Option<FileKind>,
    opts: &LintOptions<'_>,
) -> Result<Checked, WalkError> {
    let file = if c.explicit {
        read_named(&c.path)?
    } else {
        // Found by the walk: inside the boundary only, and a refusal is a finding.
        match fsread::read_source(&c.path, opts.boundary.as_deref()) {
            Ok(f) => f,
            Err(
                e @ (ReadError::Outside { .. } | ReadError::NotRegular(_) | ReadError::TooLarge),
            ) => {
                let kind = c.kind.or(kind_arg).unwrap_or(FileKind::Dockerfile);
                return Ok(Checked::File(linter::lint_refused(&c.path, kind, &e, opts)));
            }
            Err(e) => {
                return Err(WalkError::Unreadable {
                    path: c.path.clone(),
                    message: walk_message(&e),
                });
            }
        }
    };
    let kind = match c.kind {
        // A name like `docker-compose-dev.yml`: only when the content agrees (or, for a file
        // named on the command line, when --kind says what it is).
        Some(k) if c.probe && !discover::content_agrees(k, &file.text) => {
            match kind_arg.filter(|_| c.explicit) {
                Some(k) => k,
                None => {
                    return Ok(Checked::Skipped(discover::Skipped {
                        path: c.path.clone(),
                        reason: discover::disagreement(k).to_string(),
                    }));
                }
            }
        }
        Some(k) => k,
        None => discover::kind_from_content(&file.text)
            .or(kind_arg)
            .ok_or_else(|| WalkError::Unchecked {
                path: c.path.clone(),
                message: "cannot tell whether this is a Dockerfile or a Compose file; pass --kind dockerfile|compose"
                    .to_string(),
            })?,
    };
    if c.template {
        return Ok(lint_template(file, kind, opts));
    }
    Ok(Checked::File(linter::lint_file_with(
        file.into_ref(),
        kind,
        opts,
    )))
}

/// Lints a template with its markers masked ([`discover::mask_template`]); the findings point
/// into the file as written (same offsets), so snippets show the template's own text. One that
/// cannot be masked safely is skipped, saying where and how to check it instead.
fn lint_template(file: SourceFile, kind: FileKind, opts: &LintOptions<'_>) -> Checked {
    let at_markers = file
        .path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("in"));
    let (masked_text, values) = match discover::mask_template(&file.text, at_markers) {
        Ok(m) => m,
        Err((at, what)) => {
            let lc = file.line_col(u32::try_from(at).unwrap_or(u32::MAX));
            let name = match kind {
                FileKind::Dockerfile => "Dockerfile",
                FileKind::Compose => "compose.yaml",
            };
            return Checked::Skipped(discover::Skipped {
                path: file.path.clone(),
                reason: format!(
                    "template not checked: {what} at {}:{}; render it and check the output \
                     (`… | sandlint check - --stdin-filename {name}`)",
                    lc.line, lc.column
                ),
            });
        }
    };
    let mut masked = SourceFile::new(file.path.clone(), file.display.clone(), masked_text);
    masked.invalid_utf8 = file.invalid_utf8;
    let masked = masked.into_ref();
    let original = file.into_ref();
    let mut result = linter::lint_file_with(masked.clone(), kind, opts);
    let swap = |f: &mut crate::source::FileRef| {
        if std::sync::Arc::ptr_eq(f, &masked) {
            *f = original.clone();
        }
    };
    // A message quoting a masked value shows the template's marker instead (when the
    // placeholder stands for one marker only).
    let mut markers: HashMap<&str, Option<&str>> = HashMap::new();
    for r in &values {
        let (Some(placeholder), Some(marker)) =
            (masked.text.get(r.clone()), original.text.get(r.clone()))
        else {
            continue;
        };
        markers
            .entry(placeholder)
            .and_modify(|m| {
                if *m != Some(marker) {
                    *m = None;
                }
            })
            .or_insert(Some(marker));
    }
    swap(&mut result.file);
    for d in &mut result.diagnostics {
        for (placeholder, marker) in &markers {
            if let Some(marker) = marker
                && d.message.contains(placeholder)
            {
                d.message = d.message.replace(placeholder, marker);
            }
        }
        swap(&mut d.file);
        for l in &mut d.labels {
            swap(&mut l.file);
        }
    }
    Checked::File(result)
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
            e => format!("cannot read standard input: {}", walk_message(&e)),
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
