//! A whole check: the Compose projects first (they tell which services build which
//! Dockerfile), then the Dockerfiles with the services that build them.

use std::collections::{HashMap, HashSet};
use std::io;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicUsize};

use rayon::prelude::*;

use crate::diagnostic::{Diagnostic, Secrets};
use crate::discover::{self, Candidate, Skipped, WalkError};
use crate::fsread::ReadError;
use crate::linter::stream::{self, Group, Merger};
use crate::linter::{self, FileKind, FileResult, LintOptions};
use crate::rules::BuiltBy;
use crate::source::{FileRef, SourceFile, display_path};
use crate::workspace;

/// What to check, each file with its options.
pub struct Batch<'a> {
    /// Compose files, each checked as a project.
    pub compose: Vec<(&'a Candidate, LintOptions<'a>)>,
    /// `-f a.yml -f b.yml`: one project from these files (`opts.compose_set`), or why they could
    /// not be read.
    pub compose_set: Option<Result<LintOptions<'a>, WalkError>>,
    /// Dockerfiles (and explicitly named files of unknown kind).
    pub others: Vec<(&'a Candidate, LintOptions<'a>)>,
    /// `--kind`.
    pub kind_arg: Option<FileKind>,
    /// Checked before the batch (standard input): reported in order with the rest.
    pub held: Vec<FileResult>,
    /// How many Compose findings phase 1 may keep ([`HELD_FINDINGS`] by default).
    pub held_findings: usize,
}

/// What a batch found besides the findings it handed over.
#[derive(Debug, Default)]
pub struct Linted {
    pub skipped: Vec<Skipped>,
    pub errors: Vec<WalkError>,
}

impl Linted {
    fn add(&mut self, outcome: Result<Checked, WalkError>, results: &mut Vec<FileResult>) {
        match outcome {
            Ok(Checked::File(r)) => results.push(r),
            Ok(Checked::Skipped(s)) => self.skipped.push(s),
            Err(e) => self.errors.push(e),
        }
    }
}

/// Checks a batch and hands each file's findings to `emit` in display-path order, as soon as
/// no check still running can add to them ([`stream`]).
///
/// Phase 1 goes over the Compose projects in parallel: they tell which services build which
/// Dockerfile (the join) and which projects another one covers. A project that builds nothing
/// and names no other file is only read ([`linter::join_compose`]): its summary (files, the
/// lowest path it can report into) needs no model. The others are checked, and their results
/// kept while they hold at most [`HELD_FINDINGS`] findings; once a project's do not fit, it
/// keeps only its summary (files, builds, the lowest file it reports into), and the projects
/// after it are loaded for the join but not checked. Phase 2 streams every Dockerfile and every
/// project not kept, in order, through a bounded window: each is checked once there.
/// Peak memory: the kept results, the summaries and each file's name, and the window.
///
/// An error of `emit` (the report cannot be written) stops the check.
pub fn lint_batch(
    mut batch: Batch<'_>,
    emit: &mut dyn FnMut(Group, &Secrets) -> io::Result<()>,
) -> io::Result<Linted> {
    let mut linted = Linted::default();
    let compose = std::mem::take(&mut batch.compose);
    let mut projects = compose_phase(compose, &batch, &mut linted);
    if let Some(set) = batch.compose_set {
        let outcome = set
            .and_then(|opts| lint_compose_set(&opts))
            .map(Checked::File);
        let mut results = Vec::new();
        linted.add(released(outcome), &mut results);
        projects.extend(results.into_iter().map(|r| Project::new(r, None, true)));
    }
    drop_covered_projects(&mut projects);
    let built_by = built_by(&projects);

    let mut held = batch.held;
    // What phase 2 checks (each Dockerfile, each project not kept) and, apart and small, the
    // order to check them in: both sized once, one entry per check.
    let unkept = projects.iter().filter(|p| p.result.is_none()).count();
    let mut checks: Vec<(&Candidate, LintOptions<'_>)> =
        Vec::with_capacity(unkept + batch.others.len());
    let mut units: Vec<Unit> = Vec::with_capacity(checks.capacity());
    for p in projects {
        match (p.result, p.unit) {
            (Some(r), _) => held.push(*r),
            (None, Some(check)) => {
                units.push(Unit::new(p.display, Some(p.lb), checks.len()));
                checks.push(check);
            }
            (None, None) => {}
        }
    }
    // Phase 2: Dockerfiles (and explicitly named files of unknown kind), each with the services
    // that build it, and the projects not kept.
    for (c, mut opts) in batch.others {
        opts.built_by = built_by
            .get(&crate::source::normalize(&c.path))
            .cloned()
            .unwrap_or_default();
        units.push(Unit::new(display_path(&c.path), None, checks.len()));
        checks.push((c, opts));
    }
    units.sort_by(|a, b| (a.lb(), &a.display).cmp(&(b.lb(), &b.display)));
    let mut merger = Merger::default();
    held.sort_by(|a, b| a.file.display.cmp(&b.file.display));
    held.into_iter().for_each(|r| merger.add(r));
    merger.flush(units.first().map(Unit::lb), emit)?;
    stream_units(
        &units,
        &checks,
        batch.kind_arg,
        &mut merger,
        &mut linted,
        emit,
    )?;
    merger.flush(None, emit)?;
    linted.skipped.sort();
    Ok(linted)
}

/// How many findings the Compose phase keeps (about 20 MB): in a tree with more Compose
/// findings, the projects past them are loaded twice (once for the join, once checked in the
/// stream) instead of their findings being held.
pub const HELD_FINDINGS: usize = 25_000;

/// A check of phase 2: where its file and options are, its display path, and the lowest
/// display path it reports into (`None`: the directory of `display`, a Dockerfile's).
struct Unit {
    display: Box<str>,
    lb: Option<Box<str>>,
    check: usize,
}

impl Unit {
    fn new(display: String, lb: Option<String>, check: usize) -> Unit {
        Unit {
            display: display.into_boxed_str(),
            lb: lb.map(String::into_boxed_str),
            check,
        }
    }

    fn lb(&self) -> &str {
        self.lb
            .as_deref()
            .unwrap_or_else(|| stream::lower_bound(&self.display))
    }
}

/// Phase 1: every Compose project, in parallel (see [`lint_batch`]).
fn compose_phase<'a>(
    mut compose: Vec<(&'a Candidate, LintOptions<'a>)>,
    batch: &Batch<'a>,
    linted: &mut Linted,
) -> Vec<Project<'a>> {
    let (others, kind_arg, budget) = (&batch.others, batch.kind_arg, batch.held_findings);
    // The join is wanted when a Dockerfile's rules read it, under whichever config.
    let join_wanted = (others.iter())
        .any(|(_, o)| crate::selection::reads_before(&o.selection, o.config, None).built_by);
    for (_, opts) in &mut compose {
        opts.join_wanted = join_wanted;
    }
    let lone = compose.len() <= 1;
    let kept = AtomicUsize::new(0);
    // Set once a project's findings did not fit: the projects after it are only joined.
    let full = AtomicBool::new(false);
    let check = |(c, opts): (&'a Candidate, LintOptions<'a>)| {
        let outcome = match read_candidate(c, kind_arg, &opts) {
            Ok(Read::File(file, FileKind::Compose)) if !c.template => {
                let file = file.into_ref();
                if let Some(j) = linter::join_compose(&file, &opts, full.load(Relaxed)) {
                    return Ok(Project::joined(j, (c, opts)));
                }
                Ok(Checked::File(linter::lint_file_with(
                    file,
                    FileKind::Compose,
                    &opts,
                )))
            }
            Ok(Read::File(file, kind)) => Ok(lint_read(c, file, kind, &opts)),
            Ok(Read::Done(checked)) => Ok(checked),
            Err(e) => Err(e),
        };
        match released(outcome) {
            Ok(Checked::File(r)) => {
                let n = r.diagnostics.len();
                // A project checked alone is kept whatever it holds: checked again in the
                // stream, all its findings would be held there too.
                let keep = lone || kept.fetch_add(n, Relaxed) + n <= budget;
                if !keep {
                    kept.fetch_sub(n, Relaxed);
                    full.store(true, Relaxed);
                }
                Ok(Project::new(r, Some((c, opts)), keep))
            }
            other => Err(other),
        }
    };
    // One project (a file named alone, the pre-commit path) is checked here: the thread pool
    // is not started for it.
    let outcomes: Vec<Result<Project<'a>, Result<Checked, WalkError>>> = if lone {
        compose.into_iter().map(check).collect()
    } else {
        compose.into_par_iter().map(check).collect()
    };
    let mut projects = Vec::with_capacity(outcomes.len());
    for o in outcomes {
        match o {
            Ok(p) => projects.push(p),
            Err(o) => linted.add(o, &mut Vec::new()),
        }
    }
    projects
}

/// Phase 2: the units in order, each result merged and every file below the next unit's
/// lowest path handed over.
fn stream_units(
    units: &[Unit],
    checks: &[(&Candidate, LintOptions<'_>)],
    kind_arg: Option<FileKind>,
    merger: &mut Merger,
    linted: &mut Linted,
    emit: &mut dyn FnMut(Group, &Secrets) -> io::Result<()>,
) -> io::Result<()> {
    let mut failed = None;
    // one unit runs on this thread, without starting the pool
    let threads = if units.len() <= 1 {
        1
    } else {
        rayon::current_num_threads()
    };
    let mut next = 1;
    stream::ordered(
        units,
        threads,
        threads * 16,
        |u| {
            let (c, opts) = &checks[u.check];
            released(check_candidate(c, kind_arg, opts))
        },
        |outcome| {
            // a project checked here reports nowhere below the bound it was ordered by
            if let (Ok(Checked::File(r)), Some(lb)) = (&outcome, &units[next - 1].lb) {
                debug_assert!(
                    r.lowest_shown() >= &**lb,
                    "{} reports into {} (below {lb})",
                    r.file.display,
                    r.lowest_shown()
                );
            }
            let mut results = Vec::new();
            linted.add(outcome, &mut results);
            results.into_iter().for_each(|r| merger.add(r));
            let below = units.get(next).map(Unit::lb);
            next += 1;
            match merger.flush(below, emit) {
                Ok(()) => ControlFlow::Continue(()),
                Err(e) => {
                    failed = Some(e);
                    ControlFlow::Break(())
                }
            }
        },
    );
    failed.map_or(Ok(()), Err)
}

/// A Compose project seen in phase 1: what the rest of the check needs of it, and its result
/// if kept (else it is checked in phase 2).
struct Project<'a> {
    display: String,
    /// Its file and the files merged into it (normalized), for [`drop_covered_projects`].
    own: PathBuf,
    extra: Vec<PathBuf>,
    built: Vec<(PathBuf, BuiltBy)>,
    /// No file it reports into or shows sorts below this: [`FileResult::lowest_shown`] of its
    /// result, or [`linter::Joined::reach`] when only joined.
    lb: String,
    result: Option<Box<FileResult>>,
    /// How to check it again (`None`: it is always kept).
    unit: Option<(&'a Candidate, LintOptions<'a>)>,
}

impl<'a> Project<'a> {
    fn new(r: FileResult, unit: Option<(&'a Candidate, LintOptions<'a>)>, keep: bool) -> Self {
        let lb = r.lowest_shown().to_string();
        let mut p = Project::summary(&r.file, &r.extra_files, &r.built, lb);
        p.result = (keep || unit.is_none()).then(|| Box::new(r));
        p.unit = unit;
        p
    }

    /// A project only joined (not checked): checked in phase 2.
    fn joined(j: linter::Joined, unit: (&'a Candidate, LintOptions<'a>)) -> Self {
        let mut p = Project::summary(&j.file, &j.extra_files, &j.built, j.reach);
        p.unit = Some(unit);
        p
    }

    /// What the join keeps of a project: names and builds, without the text of its files.
    fn summary(
        file: &FileRef,
        extra: &[FileRef],
        built: &[(PathBuf, BuiltBy)],
        lb: String,
    ) -> Self {
        Project {
            display: file.display.clone(),
            own: crate::source::normalize(&file.path),
            extra: (extra.iter())
                .map(|f| crate::source::normalize(&f.path))
                .collect(),
            built: (built.iter())
                .map(|(p, b)| {
                    let mut b = b.clone();
                    b.compose_file = b.compose_file.name_only();
                    (p.clone(), b)
                })
                .collect(),
            lb,
            result: None,
            unit: None,
        }
    }
}

/// A checked file's outcome with [`release_texts`] applied (in the worker, as soon as it is
/// checked).
fn released(outcome: Result<Checked, WalkError>) -> Result<Checked, WalkError> {
    let mut outcome = outcome;
    if let Ok(Checked::File(r)) = &mut outcome {
        release_texts(r);
    }
    outcome
}

/// Frees the texts of the files of a check that none of its findings points into (most files):
/// the result names them only. A file a finding points into stays whole (reports show its
/// lines); a Compose file its services' Dockerfiles are checked with is held by their
/// [`BuiltBy`] until those are checked.
fn release_texts(r: &mut FileResult) {
    let pointed: HashSet<*const SourceFile> = (r.diagnostics.iter())
        .flat_map(Diagnostic::files)
        .map(std::sync::Arc::as_ptr)
        .collect();
    for f in std::iter::once(&mut r.file).chain(r.extra_files.iter_mut()) {
        if !pointed.contains(&std::sync::Arc::as_ptr(f)) {
            *f = f.name_only();
        }
    }
    r.diagnostics.shrink_to_fit();
}

/// A file pulled into another project (included, or an override) is checked there only.
/// Larger projects first, so that of two files including each other one is kept.
fn drop_covered_projects(projects: &mut Vec<Project<'_>>) {
    projects.sort_by(|a, b| {
        b.extra
            .len()
            .cmp(&a.extra.len())
            .then_with(|| a.display.cmp(&b.display))
    });
    // A project is dropped only when every file of it is already covered: one whose default
    // override file is covered nowhere else (`a/compose.yaml` + `a/compose.override.yaml`, with
    // `a/compose.yaml` also pulled in by `b/compose.yaml`) is kept, or the override would be
    // checked by no one. Findings both projects share are reported once (`linter::sort`).
    let mut covered: HashSet<PathBuf> = HashSet::new();
    projects.retain(|p| {
        if covered.contains(&p.own) && p.extra.iter().all(|f| covered.contains(f)) {
            return false;
        }
        covered.insert(p.own.clone());
        covered.extend(p.extra.iter().cloned());
        true
    });
}

/// The services that build each Dockerfile (by normalized path), from the projects checked.
fn built_by(projects: &[Project<'_>]) -> HashMap<PathBuf, Vec<BuiltBy>> {
    let mut built_by: HashMap<PathBuf, Vec<BuiltBy>> = HashMap::new();
    for p in projects {
        for (path, b) in &p.built {
            built_by.entry(path.clone()).or_default().push(b.clone());
        }
    }
    built_by
}

/// `-f a.yml -f b.yml`: one project from `opts.compose_set`, in order.
fn lint_compose_set(opts: &LintOptions<'_>) -> Result<FileResult, WalkError> {
    let first = opts
        .compose_set
        .as_ref()
        .and_then(|s| s.first())
        .cloned()
        .ok_or_else(no_compose_file)?;
    Ok(linter::lint_file_with(first, FileKind::Compose, opts))
}

fn no_compose_file() -> WalkError {
    WalkError::Unchecked {
        path: PathBuf::new(),
        message: "no Compose file given".to_string(),
    }
}

/// `-f a.yml -f b.yml`: the files, read in order (each named on the command line).
pub fn read_compose_set(files: &[PathBuf]) -> Result<Vec<FileRef>, WalkError> {
    let mut refs = Vec::with_capacity(files.len());
    for path in files {
        refs.push(read_named(path)?.into_ref());
    }
    if refs.is_empty() {
        return Err(no_compose_file());
    }
    Ok(refs)
}

/// A file named on the command line: read wherever it is (the invoker named it), but only if it
/// is a regular file within the size cap; anything else is an I/O error (exit 2).
pub fn read_named(path: &std::path::Path) -> Result<SourceFile, WalkError> {
    workspace::read_named(path).map_err(|e| WalkError::Unreadable {
        path: path.to_path_buf(),
        message: walk_message(&e),
    })
}

/// A read error as the message of a path error.
pub fn walk_message(e: &ReadError) -> String {
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
    Ok(match read_candidate(c, kind_arg, opts)? {
        Read::Done(checked) => checked,
        Read::File(file, kind) => lint_read(c, file, kind, opts),
    })
}

/// A candidate read: its text and kind, or already its outcome (refused, skipped).
enum Read {
    File(SourceFile, FileKind),
    Done(Checked),
}

fn read_candidate(
    c: &Candidate,
    kind_arg: Option<FileKind>,
    opts: &LintOptions<'_>,
) -> Result<Read, WalkError> {
    let file = if c.explicit {
        read_named(&c.path)?
    } else {
        // Found by the walk: inside the boundary only, and a refusal is a finding.
        match workspace::read_found(&c.path, opts.boundary.as_deref()) {
            Ok(f) => f,
            Err(
                e @ (ReadError::Outside { .. } | ReadError::NotRegular(_) | ReadError::TooLarge),
            ) => {
                let kind = c.kind.or(kind_arg).unwrap_or(FileKind::Dockerfile);
                let refused = linter::lint_refused(&c.path, kind, &e, opts);
                return Ok(Read::Done(Checked::File(refused)));
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
                    return Ok(Read::Done(Checked::Skipped(discover::Skipped {
                        path: c.path.clone(),
                        reason: discover::disagreement(k).to_string(),
                    })));
                }
            }
        }
        Some(k) => k,
        None => discover::kind_from_content(&file.text)
            .or(kind_arg)
            .ok_or_else(|| WalkError::Unchecked {
                path: c.path.clone(),
                message: "cannot tell whether this is a Dockerfile or a Compose file; pass --kind dockerfile|compose|devcontainer"
                    .to_string(),
            })?,
    };
    Ok(Read::File(file, kind))
}

/// Lints a candidate read as `kind`.
fn lint_read(c: &Candidate, file: SourceFile, kind: FileKind, opts: &LintOptions<'_>) -> Checked {
    if c.template {
        return lint_template(file, kind, opts);
    }
    Checked::File(linter::lint_file_with(file.into_ref(), kind, opts))
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
                FileKind::Devcontainer => ".devcontainer/devcontainer.json",
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
