//! The engine, per file: parse, run the selected rules on what the [`workspace`] gathered
//! around the file, then relocate, scope, configure, suppress, fingerprint and sort.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::compose;
use crate::config::Config;
use crate::diagnostic::{Diagnostic, Suppression, SuppressionKind};
use crate::discover::FileKind;
use crate::dockerfile;
use crate::fsread::{Boundary, ReadError};
use crate::rules::{self, BuiltBy, Ctx, Facts, Refused};
use crate::source::{FileRef, SourceFile, Span, display_path, normalize};
use crate::suppress;
use crate::workspace;

use post::{assign_fingerprints, assign_scopes, mask_secrets_in_messages, relocate, stage_scopes};

pub mod batch;
pub mod devcontainer;
pub mod fix;
mod post;
pub mod stream;

use crate::selection::RuleSet;
pub use crate::selection::Selection;

/// The outcome of checking one file.
#[derive(Debug)]
pub struct FileResult {
    pub file: FileRef,
    pub kind: FileKind,
    pub diagnostics: Vec<Diagnostic>,
    /// Other files the check read: a Compose project's override, `include` and `extends` files.
    pub extra_files: Vec<FileRef>,
    /// For Compose: the Dockerfiles its services build (normalized path) and who builds them.
    pub built: Vec<(PathBuf, BuiltBy)>,
}

impl FileResult {
    /// The lowest display path among the files this result reports into or shows (its
    /// findings', their labels' and secrets' files, its own files).
    pub fn lowest_shown(&self) -> &str {
        let shown = self.diagnostics.iter().flat_map(Diagnostic::files);
        (std::iter::once(&self.file)
            .chain(&self.extra_files)
            .chain(shown))
        .map(|f| f.display.as_str())
        .min()
        .unwrap_or_default()
    }
}

/// How to lint: which rules, which config, how to treat inline suppressions.
#[derive(Debug, Clone)]
pub struct LintOptions<'a> {
    pub selection: Selection,
    /// `-f a.yml -f b.yml`: the Compose files of one project, in order (no default override).
    pub compose_set: Option<Vec<FileRef>>,
    /// For a Dockerfile: the Compose services that build it (found by checking Compose files first).
    pub built_by: Vec<BuiltBy>,
    pub config: &'a Config,
    /// Honour `# sandlint ignore=` comments (`--no-inline-ignores` turns this off).
    pub inline_ignores: bool,
    /// A suppression without `reason="…"` is an `invalid-suppression` finding.
    pub require_reason: bool,
    /// Report suppressions that suppressed nothing (`unused-suppression`).
    pub report_unused: bool,
    /// Some Dockerfile of the check runs a rule that reads which services build it: a Compose
    /// project is loaded for the join even when none of its own rules runs.
    pub join_wanted: bool,
    /// Where files named by the checked file may be read from; `None`: the boundary around the
    /// file itself (its git work tree, else its directory).
    pub boundary: Option<Arc<Boundary>>,
    /// Report only the findings in these files (normalized paths): an override file named alone
    /// (pre-commit passes only the staged files) is checked in its project, from the base file
    /// Compose merges it into, and only what falls in the override is its finding. Empty: all.
    pub report_only: Vec<PathBuf>,
}

impl LintOptions<'_> {
    /// The project boundary for `file`.
    pub fn boundary_for(&self, file: &SourceFile) -> Arc<Boundary> {
        self.boundary
            .clone()
            .unwrap_or_else(|| Arc::new(Boundary::around(&file.path)))
    }
}

static DEFAULT_CONFIG: std::sync::LazyLock<Config> = std::sync::LazyLock::new(Config::default);

impl LintOptions<'static> {
    /// Default config, inline ignores honoured, unused ones reported.
    pub fn new(selection: Selection) -> Self {
        LintOptions {
            selection,
            compose_set: None,
            built_by: Vec::new(),
            config: &DEFAULT_CONFIG,
            inline_ignores: true,
            require_reason: false,
            report_unused: true,
            // no Dockerfile is checked with the join of a file linted alone
            join_wanted: false,
            boundary: None,
            report_only: Vec::new(),
        }
    }
}

/// Checks a file already in memory with the default config. `file.path` is used to find the
/// Compose project directory (`.env`, build contexts); a virtual file's directory is `.`.
pub fn lint_file(file: FileRef, kind: FileKind, selection: &Selection) -> FileResult {
    lint_file_with(file, kind, &LintOptions::new(selection.clone()))
}

/// Checks a file: parse, run rules, apply config and suppressions, sort.
pub fn lint_file_with(file: FileRef, kind: FileKind, opts: &LintOptions<'_>) -> FileResult {
    // Debug builds only: a check that panics, for the tests of what a panic in a worker does.
    #[cfg(debug_assertions)]
    #[expect(clippy::panic, reason = "the panic is what the test hook is for")]
    if std::env::var_os("SANDLINT_DEBUG_PANIC_IN").is_some_and(|n| file.path.ends_with(n)) {
        panic!("SANDLINT_DEBUG_PANIC_IN: {}", file.path.display());
    }
    let mut diagnostics = Vec::new();
    let scopes: Vec<(Span, Arc<str>)>;
    let directives;
    let set;
    let checks;
    match kind {
        FileKind::Dockerfile if !reads_dockerfile(&file, opts) => {
            return unread(file, kind, Vec::new());
        }
        FileKind::Dockerfile => {
            let df = dockerfile::parse(&file.text);
            let facts = workspace::dockerfile_facts(&file, &opts.built_by, opts.config, || {
                opts.boundary_for(&file)
            });
            set = RuleSet::new(&opts.selection, opts.config, files_read(&file, &facts));
            for rule in set.rules() {
                let mut cx = Ctx::new(rule.meta(), &file, &facts, &mut diagnostics);
                rule.check_dockerfile(&mut cx, &df);
            }
            // the expansion budgets the rules ran into as they looked variables up
            let limits = crate::docs::EXPANSION_LIMIT_EXCEEDED;
            if set.runs(limits) {
                let mut cx = Ctx::new(limits, &file, &facts, &mut diagnostics);
                rules::meta::report_dockerfile_limits(&mut cx, &df);
            }
            scopes = stage_scopes(&df);
            let spans: Vec<Span> = df.instructions.iter().map(|i| i.span).collect();
            let found = suppress::buildkit_checks(&file, &df.directives, &spans);
            directives = opts.inline_ignores.then(|| {
                let kinds: Vec<(Span, bool)> = (df.instructions.iter())
                    .map(|i| (i.span, i.kind == dockerfile::model::Keyword::From))
                    .collect();
                let mut d = suppress::dockerfile(&file, &kinds);
                d.malformed.extend(found.malformed.clone());
                apply_check_skips(&found, &mut diagnostics);
                d
            });
            checks = found;
        }
        FileKind::Devcontainer => return devcontainer::lint_devcontainer(file, opts),
        FileKind::Compose => {
            let boundary = opts.boundary_for(&file);
            let (inputs, refused) =
                workspace::compose_inputs(&file, opts.compose_set.as_deref(), &boundary);
            // Not loaded when no rule of its config reads Compose and no Dockerfile of the check
            // (under whichever config) reads the join.
            let reads = crate::selection::reads_before(&opts.selection, opts.config, None);
            if !reads.compose && !reads.built_by && !opts.join_wanted {
                // Counted as checked with every file of the project, as a loaded one is.
                let files = workspace::compose_files(&file, &inputs, &boundary);
                return unread(file, kind, files.into_iter().skip(1).collect());
            }
            let mut result = lint_compose_project(file, &inputs, opts, &boundary, refused, None);
            if !opts.report_only.is_empty() {
                (result.diagnostics).retain(|d| {
                    let path = crate::source::normalize(&d.file.path);
                    opts.report_only.contains(&path)
                });
            }
            return result;
        }
    }
    finish(
        std::slice::from_ref(&file),
        &scopes,
        directives.into_iter().map(|d| (file.clone(), d)).collect(),
        &mut diagnostics,
        opts,
        &set,
    );
    raise_check_errors(&checks, &mut diagnostics);
    FileResult {
        file,
        kind,
        diagnostics,
        extra_files: Vec::new(),
        built: Vec::new(),
    }
}

/// Whether a rule that may run on the Dockerfile `file` reads Dockerfiles (else it is not
/// parsed, nor its `.dockerignore` read). Asked of the files a Dockerfile check reads: the file
/// and the `.dockerignore`s that may apply to it.
fn reads_dockerfile(file: &FileRef, opts: &LintOptions<'_>) -> bool {
    let name = file.path.file_name().unwrap_or_default().to_string_lossy();
    let own_ignore = file.dir().join(format!("{name}.dockerignore"));
    let context_ignore = file.dir().join(".dockerignore");
    let files = [file.path.as_path(), &own_ignore, &context_ignore];
    crate::selection::reads_before(&opts.selection, opts.config, Some(&files)).dockerfile
}

/// The result of a check that no rule that may run on it reads: the file (and `extra_files`,
/// the other files of its Compose project) counted as checked, nothing found.
fn unread(file: FileRef, kind: FileKind, extra_files: Vec<FileRef>) -> FileResult {
    FileResult {
        file,
        kind,
        diagnostics: Vec::new(),
        extra_files,
        built: Vec::new(),
    }
}

/// Scopes, config, suppressions, order and fingerprints: the steps after the rules ran.
/// `files` are the files of the check (spans' `file` numbers index it).
fn finish(
    files: &[FileRef],
    scopes: &[(Span, Arc<str>)],
    directives: Vec<(FileRef, suppress::Directives)>,
    diagnostics: &mut Vec<Diagnostic>,
    opts: &LintOptions<'_>,
    set: &RuleSet<'_>,
) {
    relocate(files, diagnostics);
    assign_scopes(scopes, diagnostics);
    set.grade(diagnostics);
    for (file, directives) in directives {
        let mut extra = apply_suppressions(&file, directives, diagnostics, opts, set);
        assign_scopes(scopes, &mut extra);
        set.grade(&mut extra);
        diagnostics.extend(extra);
    }
    mask_secrets_in_messages(diagnostics);
    sort(diagnostics);
    assign_fingerprints(diagnostics);
}

/// `x-sandlint: { ignore: [...], reason: "..." }` of the services written in file number `file`,
/// as directives covering each such service.
fn x_sandlint_directives(
    compose: &compose::model::ComposeFile,
    file: usize,
) -> Vec<suppress::Directive> {
    compose
        .services
        .iter()
        .filter_map(|s| {
            let x = s.x_sandlint.as_ref()?;
            (usize::from(x.span.file) == file).then(|| suppress::Directive {
                span: x.span,
                global: false,
                rules: x
                    .ignore
                    .iter()
                    .map(|r| {
                        let name = r.value.text().to_string();
                        let rule = rules::find(&name).map(|r| r.meta());
                        (crate::source::Spanned::new(name, r.span), rule)
                    })
                    .collect(),
                reason: x.reason.as_ref().map(|r| r.value.text().to_string()),
                scope: Some(s.name.span.cover(s.span)),
                kind: suppress::DirectiveKind::Sandlint,
            })
        })
        .collect()
}

/// Checks a file that was refused before it could be read (a discovered symbolic link to a
/// file outside the project, a FIFO or device with a Dockerfile/Compose name, a file over the
/// size cap): the refusal is the finding, at 1:1 of the (empty) file.
pub fn lint_refused(
    path: &Path,
    kind: FileKind,
    error: &ReadError,
    opts: &LintOptions<'_>,
) -> FileResult {
    let file = SourceFile::new(path.to_path_buf(), display_path(path), String::new()).into_ref();
    let facts = workspace::refused_facts(&file, kind != FileKind::Dockerfile, error);
    let mut diagnostics = Vec::new();
    let codes = [
        crate::docs::REFERENCE_OUTSIDE_PROJECT.code,
        crate::docs::UNREADABLE_FILE.code,
    ];
    let set = RuleSet::new(&opts.selection, opts.config, files_read(&file, &facts));
    for rule in set.rules().filter(|r| codes.contains(&r.meta().code)) {
        let mut cx = Ctx::new(rule.meta(), &file, &facts, &mut diagnostics);
        match kind {
            FileKind::Dockerfile => rule.check_dockerfile(&mut cx, &dockerfile::parse("")),
            FileKind::Compose | FileKind::Devcontainer => {
                rule.check_compose(&mut cx, &compose::model::ComposeFile::default())
            }
        }
    }
    finish(
        std::slice::from_ref(&file),
        &[],
        Vec::new(),
        &mut diagnostics,
        opts,
        &set,
    );
    FileResult {
        file,
        kind,
        diagnostics,
        extra_files: Vec::new(),
        built: Vec::new(),
    }
}

/// Checks a Compose project: `inputs[0]` and the files merged into it (the names of its
/// services into `services`, when given).
fn lint_compose_project(
    file: FileRef,
    inputs: &[FileRef],
    opts: &LintOptions<'_>,
    boundary: &Boundary,
    refused: Vec<Refused>,
    services: Option<&mut Vec<String>>,
) -> FileResult {
    let mut diagnostics = Vec::new();
    let (project, facts) =
        workspace::compose_project(&file, inputs, boundary, opts.config, refused);
    let compose = &project.compose;
    if let Some(names) = services {
        names.extend(compose.services.iter().map(|s| s.name.value.clone()));
    }
    let set = RuleSet::new(
        &opts.selection,
        opts.config,
        compose_reads(&file, &facts, compose).map(|f| f.path.as_path()),
    );
    for rule in set.rules() {
        let mut cx = Ctx::new(rule.meta(), &file, &facts, &mut diagnostics);
        rule.check_compose(&mut cx, compose);
    }
    let scopes: Vec<(Span, Arc<str>)> = compose
        .services
        .iter()
        .map(|s| {
            (
                s.name.span.cover(s.span),
                format!("service:{}", s.name.value).into(),
            )
        })
        .collect();
    let directives = if opts.inline_ignores {
        project
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let mut d = suppress::compose(f);
                d.directives.extend(x_sandlint_directives(compose, i));
                (f.clone(), d)
            })
            .collect()
    } else {
        Vec::new()
    };
    let built = built_of(&file, compose, &facts);
    // the model is not needed past this point: freed before the findings' last steps
    let files = project.files;
    drop(project.compose);
    finish(&files, &scopes, directives, &mut diagnostics, opts, &set);
    FileResult {
        kind: FileKind::Compose,
        diagnostics,
        extra_files: files.iter().skip(1).cloned().collect(),
        built,
        file,
    }
}

/// The Dockerfiles the services of `compose` build (normalized path) and who builds them.
fn built_of(
    file: &FileRef,
    compose: &compose::model::ComposeFile,
    facts: &Facts,
) -> Vec<(PathBuf, BuiltBy)> {
    compose
        .services
        .iter()
        .filter_map(|s| {
            let b = facts.build_of(&s.name.value)?;
            let has_healthcheck = s.healthcheck.as_ref().is_some_and(|h| {
                let disabled = h.disable.as_ref().and_then(|d| d.value.as_bool()) == Some(true)
                    || h.test.first().and_then(|t| t.value.known()) == Some("NONE");
                !disabled
            });
            Some((
                normalize(&b.file.path),
                BuiltBy {
                    compose_file: file.clone(),
                    service: s.name.value.clone(),
                    target: b.target.clone(),
                    has_healthcheck,
                },
            ))
        })
        .collect()
}

/// What phase 1 of a batch needs of a Compose project whose findings it does not keep, found
/// without running a rule: its files, the Dockerfiles its services build, and `reach`, a
/// display path no file its check reports into or shows sorts below.
#[derive(Debug)]
pub struct Joined {
    pub file: FileRef,
    /// The other files of the project (override, `include`d, `extends` files), as
    /// [`FileResult::extra_files`].
    pub extra_files: Vec<FileRef>,
    pub built: Vec<(PathBuf, BuiltBy)>,
    pub reach: String,
}

/// [`Joined`] for the Compose project of `file`. A project none of whose files names another
/// file or builds anything (no `build`, `env_file`, `include`, `extends` or escape in its
/// text) reads only files beside it, so its model is not needed; any other is loaded only when
/// `load` is set. `None`: the caller checks it whole instead (also when no rule would run on
/// it: that check is as cheap, and finds nothing to hold).
pub fn join_compose(file: &FileRef, opts: &LintOptions<'_>, load: bool) -> Option<Joined> {
    let reads = crate::selection::reads_before(&opts.selection, opts.config, None);
    if !reads.compose && !reads.built_by && !opts.join_wanted {
        return None;
    }
    let names_none = |f: &FileRef| !compose::project::may_name_files(&f.text);
    if !load && !names_none(file) {
        return None;
    }
    let boundary = opts.boundary_for(file);
    let (inputs, refused) = workspace::compose_inputs(file, opts.compose_set.as_deref(), &boundary);
    let joined = |extra_files: Vec<FileRef>, built, reach: Option<&str>| {
        let shown = std::iter::once(file).chain(&extra_files);
        let reach = (shown.map(|f| f.display.as_str()).chain(reach).min())
            .unwrap_or_default()
            .to_string();
        Joined {
            file: file.clone(),
            extra_files,
            built,
            reach,
        }
    };
    if inputs.len() <= compose::project::MAX_FILES && inputs.iter().all(names_none) {
        // its findings are in its files, its override and its `.env`: all in its directory
        let files = workspace::compose_files(file, &inputs, &boundary);
        let dir = stream::lower_bound(&file.display);
        return Some(joined(
            files.into_iter().skip(1).collect(),
            Vec::new(),
            Some(dir),
        ));
    }
    if !load {
        return None;
    }
    let (project, facts) =
        workspace::compose_project(file, &inputs, &boundary, opts.config, refused);
    let built = built_of(file, &project.compose, &facts);
    let reach = compose_reads(file, &facts, &project.compose)
        .map(|f| f.display.as_str())
        .min()
        .map(str::to_string);
    let extra = project.files.iter().skip(1).cloned().collect();
    Some(joined(extra, built, reach.as_deref()))
}

/// Checks text that is not on disk (doc examples, tests).
pub fn lint_text(kind: FileKind, name: &str, text: &str, selection: &Selection) -> Vec<Diagnostic> {
    let file = SourceFile::virtual_file(name, text).into_ref();
    lint_file(file, kind, selection).diagnostics
}

/// The paths of every file a check read (where its findings can be), for [`RuleSet::new`].
fn files_read<'f>(file: &'f FileRef, facts: &'f Facts) -> impl Iterator<Item = &'f Path> + 'f {
    refs_read(file, facts).map(|f| f.path.as_path())
}

/// Every file a Compose check read (where its findings can be): [`refs_read`] and the `.env`
/// its expansion limits name. What [`RuleSet::new`] is told, and [`Joined::reach`]'s bound.
fn compose_reads<'f>(
    file: &'f FileRef,
    facts: &'f Facts,
    compose: &'f compose::model::ComposeFile,
) -> impl Iterator<Item = &'f FileRef> + 'f {
    let limits = compose.limits.iter().filter_map(|l| l.file.as_ref());
    refs_read(file, facts).chain(limits)
}

/// The files a check read besides those a Compose model names itself (see [`compose_reads`]).
fn refs_read<'f>(
    file: &'f FileRef,
    facts: &'f Facts,
) -> Box<dyn Iterator<Item = &'f FileRef> + 'f> {
    let checked = std::iter::once(file);
    match facts {
        Facts::Dockerfile(f) => Box::new(checked.chain(f.dockerignore.iter())),
        Facts::Compose(f) => {
            let built = f
                .builds
                .values()
                .flat_map(|b| std::iter::once(&b.file).chain(&b.dockerignore));
            Box::new(
                checked.chain(
                    f.files
                        .iter()
                        .chain(f.env_files.iter().map(|e| &e.file))
                        .chain(built),
                ),
            )
        }
    }
}

/// BuildKit's `# check=skip=…`: the findings of the rules implementing a skipped check are
/// suppressed (in source, with the directive as the reason).
fn apply_check_skips(checks: &suppress::BuildkitChecks, diagnostics: &mut [Diagnostic]) {
    for d in diagnostics.iter_mut() {
        if d.suppression.is_none() && checks.skips(d.rule, d.span.start) {
            d.suppression = Some(Box::new(Suppression {
                kind: SuppressionKind::InSource,
                reason: Some(format!(
                    "`# check=skip=` names BuildKit's {}",
                    d.rule.buildkit.unwrap_or_default()
                )),
            }));
        }
    }
}

/// BuildKit's `# check=error=true`: the findings of the rules implementing a BuildKit check are
/// errors (BuildKit fails the build on them).
fn raise_check_errors(checks: &suppress::BuildkitChecks, diagnostics: &mut [Diagnostic]) {
    for d in diagnostics.iter_mut() {
        if checks.raises(d.rule) {
            d.severity = crate::meta::Severity::Error;
        }
    }
}

/// Marks findings covered by a directive as suppressed. Returns the findings about the
/// directives themselves (malformed, unknown rule, missing reason, unused).
fn apply_suppressions(
    file: &FileRef,
    directives: suppress::Directives,
    diagnostics: &mut [Diagnostic],
    opts: &LintOptions<'_>,
    set: &RuleSet<'_>,
) -> Vec<Diagnostic> {
    let mut extra = Vec::new();
    let invalid = crate::docs::INVALID_SUPPRESSION;
    let unused = crate::docs::UNUSED_SUPPRESSION;
    for m in &directives.malformed {
        let mut d = Diagnostic::new(invalid, file.clone(), m.span, m.message.clone());
        d.help(
            m.help
                .unwrap_or("write `# sandlint ignore=<rule>[,<rule>...] reason=\"...\"`"),
        );
        extra.push(d);
    }
    // this file's findings by start, so that a directive visits only those in its scope
    // (linear in findings + directives for line-scoped ones, not their product)
    let mut order: Vec<usize> = (0..diagnostics.len())
        .filter(|&i| std::sync::Arc::ptr_eq(&diagnostics[i].file, file))
        .collect();
    order.sort_by_key(|&i| diagnostics[i].span.start);
    let starts: Vec<u32> = order.iter().map(|&i| diagnostics[i].span.start).collect();
    // rules a global directive already claimed in this file: a later global one naming only
    // those has nothing left to suppress (so many global directives stay linear too)
    let mut claimed: HashSet<&'static str> = HashSet::new();
    for directive in &directives.directives {
        let mut used = vec![false; directive.rules.len()];
        let fresh = !directive.global
            || directive
                .rules
                .iter()
                .any(|(_, r)| r.is_some_and(|r| !claimed.contains(r.code)));
        if directive.global {
            claimed.extend(
                directive
                    .rules
                    .iter()
                    .filter_map(|(_, r)| r.map(|r| r.code)),
            );
        }
        if let Some(scope) = directive.scope.filter(|_| fresh) {
            let lo = starts.partition_point(|&s| s < scope.start);
            let hi = starts.partition_point(|&s| s <= scope.end).max(lo);
            for &i in &order[lo..hi] {
                let d = &mut diagnostics[i];
                if d.suppression.is_some() {
                    continue;
                }
                if let Some(i) = directive
                    .rules
                    .iter()
                    .position(|(_, r)| r.is_some_and(|r| r.code == d.rule.code))
                {
                    used[i] = true;
                    d.suppression = Some(Box::new(Suppression {
                        kind: SuppressionKind::InSource,
                        reason: directive.reason.clone(),
                    }));
                }
            }
        }
        // a hadolint pragma is hadolint's to judge: its unknown codes, missing reason or lack of
        // use are not sandlint's findings
        if directive.kind == suppress::DirectiveKind::Hadolint {
            continue;
        }
        if opts.require_reason && directive.reason.is_none() {
            let mut d = Diagnostic::new(
                invalid,
                file.clone(),
                directive.span,
                "suppression has no reason",
            );
            d.help("add `reason=\"...\"` saying why the finding is accepted");
            extra.push(d);
        }
        for ((name, rule), used) in directive.rules.iter().zip(used) {
            match rule {
                None => {
                    let hint = crate::docs::suggest(&name.value)
                        .map(|s| format!(" (did you mean `{s}`?)"))
                        .unwrap_or_default();
                    let mut d = Diagnostic::new(
                        invalid,
                        file.clone(),
                        name.span,
                        format!("unknown rule `{}` in suppression{hint}", name.value),
                    );
                    d.help("name a rule by its name or code; `sandlint rules` lists them");
                    extra.push(d);
                }
                Some(rule) if !used && opts.report_unused => {
                    if set.reports_unused(rule, &file.path) {
                        let mut d = Diagnostic::new(
                            unused,
                            file.clone(),
                            name.span,
                            format!("suppression of `{}` matches no finding", rule.name),
                        );
                        d.help(
                            "remove it, or move it above the instruction or key it is meant for",
                        );
                        extra.push(d);
                    }
                }
                Some(_) => {}
            }
        }
    }
    extra
}

/// Sorts findings by path, position and code, and drops exact duplicates.
///
/// A stable sort of 4-byte indices, then the permutation applied in place: a stable sort of the
/// findings themselves (`sort_by`) takes a buffer of half of them (~150 bytes per finding).
pub fn sort(diagnostics: &mut Vec<Diagnostic>) {
    let order = |a: &Diagnostic, b: &Diagnostic| {
        a.sort_key()
            .cmp(&b.sort_key())
            .then_with(|| a.message.cmp(&b.message))
    };
    if diagnostics.is_sorted_by(|a, b| order(a, b).is_le()) {
        // nothing to move
    } else if let Ok(n) = u32::try_from(diagnostics.len()) {
        let mut perm: Vec<u32> = (0..n).collect();
        perm.sort_by(
            |&a, &b| match (diagnostics.get(a as usize), diagnostics.get(b as usize)) {
                (Some(a), Some(b)) => order(a, b),
                _ => std::cmp::Ordering::Equal,
            },
        );
        permute(diagnostics, &mut perm);
    } else {
        diagnostics.sort_by(order);
    }
    diagnostics.dedup_by(|a, b| a.sort_key() == b.sort_key() && a.message == b.message);
}

/// Puts `items[perm[i]]` at `i` for every `i`, in place (cycle by cycle; `perm` is consumed).
fn permute<T>(items: &mut [T], perm: &mut [u32]) {
    const DONE: u32 = u32::MAX;
    for start in 0..perm.len() {
        let mut at = start;
        while let Some(&from) = perm.get(at) {
            if from == DONE {
                break;
            }
            if let Some(p) = perm.get_mut(at) {
                *p = DONE;
            }
            let from = from as usize;
            if from == start {
                break;
            }
            items.swap(at, from);
            at = from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `sort`'s in-place permutation puts `items[perm[i]]` at `i`, whatever the cycles.
    #[test]
    fn permute_applies_the_sorted_order() {
        let orders: [&[u32]; 5] = [&[], &[0], &[1, 0], &[2, 0, 1], &[3, 4, 0, 2, 1, 6, 5]];
        for perm in orders {
            let items: Vec<u32> = (0..perm.len() as u32).map(|i| i * 10).collect();
            let want: Vec<u32> = perm.iter().map(|&p| p * 10).collect();
            let mut got = items.clone();
            let mut p = perm.to_vec();
            permute(&mut got, &mut p);
            assert_eq!(got, want, "{perm:?}");
        }
        // a stable order: equal keys keep their first-come order
        let mut keys: Vec<(u32, u32)> = vec![(3, 0), (1, 1), (3, 2), (0, 3), (1, 4), (3, 5)];
        let mut perm: Vec<u32> = (0..keys.len() as u32).collect();
        perm.sort_by_key(|&i| keys.get(i as usize).map(|k| k.0));
        permute(&mut keys, &mut perm);
        assert_eq!(keys, [(0, 3), (1, 1), (1, 4), (3, 0), (3, 2), (3, 5)]);
    }

    fn parses() -> (usize, usize) {
        (
            dockerfile::PARSES.with(std::cell::Cell::get),
            compose::yaml::PARSES.with(std::cell::Cell::get),
        )
    }

    /// Lints `text` with only `rule` selected; the findings' codes and how many Dockerfile and
    /// YAML parses it took.
    fn lint(
        kind: FileKind,
        name: &str,
        text: &str,
        rule: &str,
    ) -> (Vec<&'static str>, (usize, usize)) {
        let before = parses();
        let found = lint_text(kind, name, text, &Selection::only(rule));
        let after = parses();
        let codes = found.iter().map(|d| d.rule.code).collect();
        (codes, (after.0 - before.0, after.1 - before.1))
    }

    #[test]
    fn a_kind_no_selected_rule_reads_is_not_parsed() {
        let broken_yaml = "services:\n  app: [\n    image: x\n";
        let (codes, (_, yaml)) = lint(FileKind::Compose, "compose.yaml", broken_yaml, "SLE002");
        assert_eq!((codes, yaml), (vec!["SLE002"], 1));
        let (codes, (_, yaml)) = lint(FileKind::Compose, "compose.yaml", broken_yaml, "SLD001");
        assert_eq!((codes, yaml), (vec![], 0));

        let broken_dockerfile = "FROM alpine\nRUNN true\n";
        let (codes, (df, _)) = lint(
            FileKind::Dockerfile,
            "Dockerfile",
            broken_dockerfile,
            "SLE001",
        );
        assert_eq!((codes, df), (vec!["SLE001"], 1));
        for rule in ["SLC001", "SLE002", "SLE005"] {
            let (codes, (df, _)) =
                lint(FileKind::Dockerfile, "Dockerfile", broken_dockerfile, rule);
            assert_eq!((codes, df), (vec![], 0), "{rule}");
        }
        // the join needs the Compose project: it is loaded for a Dockerfile rule that reads it
        let (_, (_, yaml)) = lint(FileKind::Compose, "compose.yaml", broken_yaml, "SLD021");
        assert_eq!(yaml, 1);
        // rules that report on both kinds read both
        let (_, (_, yaml)) = lint(FileKind::Compose, "compose.yaml", broken_yaml, "SLE004");
        assert_eq!(yaml, 1);
    }

    #[test]
    fn an_unread_project_still_counts_the_files_it_pulls_in() {
        let opts = LintOptions::new(Selection::only("SLD001"));
        let file = |text: &str| SourceFile::virtual_file("compose.yaml", text).into_ref();
        let before = parses().1;
        let r = lint_file_with(
            file("services:\n  app:\n    image: x\n"),
            FileKind::Compose,
            &opts,
        );
        assert_eq!(
            (
                r.diagnostics.len(),
                r.extra_files.len(),
                parses().1 - before
            ),
            (0, 0, 0)
        );
        // a text that may `include` another file is loaded to know the files (not checked)
        let before = parses().1;
        let r = lint_file_with(
            file("include: [other.yaml]\nservices: {}\n"),
            FileKind::Compose,
            &opts,
        );
        assert_eq!((r.diagnostics.len(), parses().1 - before), (0, 1));
    }
}
