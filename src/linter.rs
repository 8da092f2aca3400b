//! Per file: parse, join Compose services to the Dockerfiles they build, run the selected rules, sort.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::compose::{self, model::Value};
use crate::config::Config;
use crate::diagnostic::{Diagnostic, Suppression, SuppressionKind};
use crate::discover::FileKind;
use crate::dockerfile::{self, model::Dockerfile};
use crate::fsread::{Boundary, ReadError};
use crate::rules::{self, BuiltBy, BuiltImage, Ctx, Facts, Refused};
use crate::selection::RuleSet;
pub use crate::selection::Selection;
use crate::source::{FileRef, SourceFile, Span, display_path, normalize};
use crate::suppress;

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
    /// Where files named by the checked file may be read from; `None`: the boundary around the
    /// file itself (its git work tree, else its directory).
    pub boundary: Option<Arc<Boundary>>,
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
            boundary: None,
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
    let mut diagnostics = Vec::new();
    let scopes: Vec<(Span, String)>;
    let directives;
    let set;
    match kind {
        FileKind::Dockerfile => {
            let df = dockerfile::parse(&file.text);
            let facts = dockerfile_facts(&file, opts);
            set = RuleSet::new(&opts.selection, opts.config, files_read(&facts));
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
            directives = opts.inline_ignores.then(|| {
                let spans: Vec<Span> = df.instructions.iter().map(|i| i.span).collect();
                suppress::dockerfile(&file, &spans)
            });
        }
        FileKind::Compose => {
            let boundary = opts.boundary_for(&file);
            let mut refused = Vec::new();
            let inputs = match &opts.compose_set {
                Some(set) if !set.is_empty() => set.clone(),
                _ => {
                    let over = match override_file(&file, &boundary) {
                        Ok(o) => o,
                        Err((name, e)) => {
                            refused.push(refusal(
                                Span::at(0),
                                format!("`{name}` {}; it was not read", e.describe()),
                                &e,
                            ));
                            None
                        }
                    };
                    std::iter::once(file.clone()).chain(over).collect()
                }
            };
            return lint_compose_project(file, &inputs, opts, &boundary, refused);
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
    FileResult {
        file,
        kind,
        diagnostics,
        extra_files: Vec::new(),
        built: Vec::new(),
    }
}

/// Scopes, config, suppressions, order and fingerprints: the steps after the rules ran.
/// `files` are the files of the check (spans' `file` numbers index it).
fn finish(
    files: &[FileRef],
    scopes: &[(Span, String)],
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

/// Messages, help and labels that quote the source (a pipeline, a command, a value) never show
/// a secret value some rule marked in the same check: each one is replaced by `*`s. Values
/// shorter than 4 bytes are left alone (they would mask ordinary words).
fn mask_secrets_in_messages(diagnostics: &mut [Diagnostic]) {
    let mut secrets: Vec<String> = diagnostics
        .iter()
        .flat_map(|d| d.secrets.iter().map(|(f, s)| f.slice(*s).to_string()))
        .filter(|s| s.len() >= 4)
        .collect();
    if secrets.is_empty() {
        return;
    }
    secrets.sort();
    secrets.dedup();
    let Ok(ac) = aho_corasick::AhoCorasick::builder()
        .match_kind(aho_corasick::MatchKind::LeftmostLongest)
        .build(&secrets)
    else {
        return;
    };
    let stars: Vec<String> = secrets
        .iter()
        .map(|s| "*".repeat(s.chars().count()))
        .collect();
    let mask = |text: &mut String| {
        if ac.is_match(text.as_str()) {
            *text = ac.replace_all(text, &stars);
        }
    };
    for d in diagnostics.iter_mut() {
        mask(&mut d.message);
        if let Some(h) = &mut d.help {
            mask(h);
        }
        for l in &mut d.labels {
            mask(&mut l.message);
        }
    }
}

/// Points findings and labels whose span is in another file of the check at that file.
fn relocate(files: &[FileRef], diagnostics: &mut [Diagnostic]) {
    let Some(primary) = files.first() else { return };
    for d in diagnostics.iter_mut() {
        if d.span.file != 0
            && std::sync::Arc::ptr_eq(&d.file, primary)
            && let Some(f) = files.get(usize::from(d.span.file))
        {
            d.file = f.clone();
        }
        for l in &mut d.labels {
            if l.span.file != 0
                && std::sync::Arc::ptr_eq(&l.file, primary)
                && let Some(f) = files.get(usize::from(l.span.file))
            {
                l.file = f.clone();
            }
        }
        // Secret spans too: reports mask a secret in the file it is paired with, so one left
        // paired with the primary file would be printed in clear from the override/include.
        for (file, span) in &mut d.secrets {
            if span.file != 0
                && std::sync::Arc::ptr_eq(file, primary)
                && let Some(f) = files.get(usize::from(span.file))
            {
                *file = f.clone();
            }
        }
    }
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
            })
        })
        .collect()
}

/// The override file `docker compose` merges into `file` by default: `compose.override.yaml`
/// beside `compose.yaml` (likewise `.yml` and `docker-compose.*`), if it exists and can be read
/// inside the boundary around `file`.
pub fn override_files(file: &FileRef) -> Option<FileRef> {
    override_file(file, &Boundary::around(&file.path))
        .ok()
        .flatten()
}

/// [`override_files`] within `boundary`; a refusal names the override file.
fn override_file(
    file: &FileRef,
    boundary: &Boundary,
) -> Result<Option<FileRef>, (String, ReadError)> {
    let Some(name) = file.path.file_name().and_then(|n| n.to_str()) else {
        return Ok(None);
    };
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return Ok(None);
    };
    if !matches!(stem, "compose" | "docker-compose") || !matches!(ext, "yaml" | "yml") {
        return Ok(None);
    }
    let dir = file.path.parent().unwrap_or(Path::new(""));
    for e in ["yaml", "yml"] {
        let p = dir.join(format!("{stem}.override.{e}"));
        match read_source(&p, boundary) {
            Ok(f) => return Ok(Some(f)),
            Err(ReadError::NotFound) => {}
            Err(err) => return Err((format!("{stem}.override.{e}"), err)),
        }
    }
    Ok(None)
}

/// A refused read as a finding (`SLE006` when outside the boundary, else `SLE007`).
fn refusal(span: Span, message: String, e: &ReadError) -> Refused {
    Refused {
        outside: e.is_outside(),
        span,
        message,
        help: if e.is_outside() {
            OUTSIDE_HELP.to_string()
        } else {
            UNREADABLE_HELP.to_string()
        },
    }
}

const OUTSIDE_HELP: &str = "sandlint reads only files inside the project (the git work tree, else the checked directory); pass --allow-outside PATH to allow it";
const UNREADABLE_HELP: &str = "make it a regular file (at most 32 MiB)";

/// A finding about invalid UTF-8 in a file that is not shown (an env file: its lines may hold
/// secrets), located at what named it.
fn invalid_utf8_refusal(span: Span, what: &str, f: &SourceFile) -> Option<Refused> {
    let (at, byte) = f.invalid_utf8?;
    let lc = f.line_col(at);
    Some(Refused {
        outside: false,
        span,
        message: format!(
            "{what} is not valid UTF-8 at line {}, column {} (byte 0x{byte:02X})",
            lc.line, lc.column
        ),
        help: "save it as UTF-8".to_string(),
    })
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
    let display = display_path(path);
    let name = path
        .file_name()
        .map_or_else(|| display.clone(), |n| n.to_string_lossy().into_owned());
    let file = SourceFile::new(path.to_path_buf(), display, String::new()).into_ref();
    let facts = Facts {
        refused: vec![refusal(
            Span::at(0),
            format!("`{name}` {}; it was not read", error.describe()),
            error,
        )],
        files: vec![file.clone()],
        ..Facts::default()
    };
    let mut diagnostics = Vec::new();
    let codes = [
        crate::docs::REFERENCE_OUTSIDE_PROJECT.code,
        crate::docs::UNREADABLE_FILE.code,
    ];
    let set = RuleSet::new(&opts.selection, opts.config, files_read(&facts));
    for rule in set.rules().filter(|r| codes.contains(&r.meta().code)) {
        let mut cx = Ctx::new(rule.meta(), &file, &facts, &mut diagnostics);
        match kind {
            FileKind::Dockerfile => rule.check_dockerfile(&mut cx, &dockerfile::parse("")),
            FileKind::Compose => {
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

/// Whether `path` is a default override file whose base file exists beside it (then it is
/// checked as part of that project, not on its own).
pub fn is_override_of_existing_base(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let Some(stem) = name
        .strip_suffix(".override.yaml")
        .or_else(|| name.strip_suffix(".override.yml"))
    else {
        return false;
    };
    if !matches!(stem, "compose" | "docker-compose") {
        return false;
    }
    let dir = path.parent().unwrap_or(Path::new(""));
    ["yaml", "yml"]
        .iter()
        .any(|e| dir.join(format!("{stem}.{e}")).is_file())
}

/// Reads a file for a project (override, include, extends target, built Dockerfile) through
/// the bounded reader, within `boundary`.
fn read_source(path: &Path, boundary: &Boundary) -> Result<FileRef, ReadError> {
    crate::fsread::read_source(path, Some(boundary)).map(SourceFile::into_ref)
}

/// Checks a Compose project: `inputs[0]` and the files merged into it.
fn lint_compose_project(
    file: FileRef,
    inputs: &[FileRef],
    opts: &LintOptions<'_>,
    boundary: &Boundary,
    mut refused: Vec<Refused>,
) -> FileResult {
    let mut diagnostics = Vec::new();
    let on_disk = file.path.is_file();
    let (vars, env_limits) = if on_disk {
        read_dotenv(file.dir(), boundary, &mut refused)
    } else {
        Default::default()
    };
    // A file not on disk (stdin, doc examples) reads nothing; references that leave the
    // boundary as written are still refused.
    let reader = |p: &Path| {
        if on_disk {
            read_source(p, boundary)
        } else if boundary.contains_lexically(p) {
            Err(ReadError::NotFound)
        } else {
            Err(ReadError::Outside { symlink: false })
        }
    };
    let mut project = compose::project::load(inputs, &vars, &reader);
    project.compose.limits.extend(env_limits);
    let compose = &project.compose;
    let builds = resolve_builds(&project.files, compose, boundary, &mut refused);
    let env_files = if on_disk {
        env_files(&project.files, compose, boundary, &mut refused)
    } else {
        Vec::new()
    };
    let facts = Facts {
        builds,
        trusted_registries: opts.config.trusted_registries.clone(),
        files: project.files.clone(),
        env_files,
        refused,
        ..Facts::default()
    };
    let limits = compose.limits.iter().filter_map(|l| l.file.as_ref());
    let set = RuleSet::new(
        &opts.selection,
        opts.config,
        files_read(&facts).chain(limits.map(|f| f.path.as_path())),
    );
    for rule in set.rules() {
        let mut cx = Ctx::new(rule.meta(), &file, &facts, &mut diagnostics);
        rule.check_compose(&mut cx, compose);
    }
    let scopes: Vec<(Span, String)> = compose
        .services
        .iter()
        .map(|s| {
            (
                s.name.span.cover(s.span),
                format!("service:{}", s.name.value),
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
    finish(
        &project.files,
        &scopes,
        directives,
        &mut diagnostics,
        opts,
        &set,
    );
    let built = compose
        .services
        .iter()
        .filter_map(|s| {
            let b = facts.builds.get(&s.name.value)?;
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
        .collect();
    FileResult {
        kind: FileKind::Compose,
        diagnostics,
        extra_files: project.files.iter().skip(1).cloned().collect(),
        built,
        file,
    }
}

/// Checks text that is not on disk (doc examples, tests).
pub fn lint_text(kind: FileKind, name: &str, text: &str, selection: &Selection) -> Vec<Diagnostic> {
    let file = SourceFile::virtual_file(name, text).into_ref();
    lint_file(file, kind, selection).diagnostics
}

/// What Dockerfile rules may know about the file's surroundings.
fn dockerfile_facts(file: &FileRef, opts: &LintOptions<'_>) -> Facts {
    let on_disk = file.path.is_file();
    let context_dir = on_disk.then(|| file.dir().to_path_buf());
    let mut refused = Vec::new();
    let dockerignore = context_dir.as_ref().and_then(|dir| {
        let boundary = opts.boundary_for(file);
        let (ignore, refusal) = build_dockerignore(file, dir, &boundary, Span::at(0));
        refused.extend(refusal);
        ignore
    });
    Facts {
        built_by: opts.built_by.clone(),
        dockerignore,
        context_dir,
        trusted_registries: opts.config.trusted_registries.clone(),
        builds: HashMap::new(),
        files: vec![file.clone()],
        env_files: Vec::new(),
        refused,
    }
}

/// Stage spans of a Dockerfile, for finding scopes.
fn stage_scopes(df: &dockerfile::model::Dockerfile) -> Vec<(Span, String)> {
    df.stages
        .iter()
        .filter_map(|st| {
            let insts = df.stage_instructions(st);
            let span = insts.first()?.span.cover(insts.last()?.span);
            let name = st
                .name
                .as_ref()
                .map_or_else(|| st.image.value.clone(), |n| n.value.clone());
            Some((span, format!("stage:{name}")))
        })
        .collect()
}

/// Sets each finding's scope: the innermost service or stage holding its primary span.
fn assign_scopes(scopes: &[(Span, String)], diagnostics: &mut [Diagnostic]) {
    // The smallest scope containing each finding's start (the first of equal ones), found by a
    // sweep over both in position order: O((scopes + findings) log scopes), where a scan of
    // every scope per finding was quadratic in services.
    use std::cmp::Reverse;
    use std::collections::{BTreeSet, BinaryHeap};
    let mut order: Vec<usize> = (0..scopes.len()).collect();
    order.sort_by_key(|&i| scopes.get(i).map(|(s, _)| (s.file, s.start)));
    let mut todo: Vec<usize> = (0..diagnostics.len())
        .filter(|&i| diagnostics.get(i).is_some_and(|d| d.scope.is_none()))
        .collect();
    todo.sort_by_key(|&i| diagnostics.get(i).map(|d| (d.span.file, d.span.start)));
    let mut next = 0;
    let mut file = None;
    // (length, index) of the scopes that contain the current position, and their ends
    let mut active: BTreeSet<(u32, usize)> = BTreeSet::new();
    let mut ends: BinaryHeap<Reverse<(u32, u32, usize)>> = BinaryHeap::new();
    for i in todo {
        let Some(d) = diagnostics.get_mut(i) else {
            continue;
        };
        let (f, at) = (d.span.file, d.span.start);
        if file != Some(f) {
            file = Some(f);
            active.clear();
            ends.clear();
        }
        while let Some((span, _)) = order.get(next).and_then(|&k| scopes.get(k)) {
            if (span.file, span.start) > (f, at) {
                break;
            }
            if span.file == f {
                let k = order.get(next).copied().unwrap_or(0);
                active.insert((span.len(), k));
                ends.push(Reverse((span.end, span.len(), k)));
            }
            next += 1;
        }
        while let Some(&Reverse((end, len, k))) = ends.peek() {
            if end >= at {
                break;
            }
            active.remove(&(len, k));
            ends.pop();
        }
        d.scope = active
            .first()
            .and_then(|&(_, k)| scopes.get(k))
            .map(|(_, name)| name.clone());
    }
}

/// The paths of every file a check read (where its findings can be), for [`RuleSet::new`].
fn files_read(facts: &Facts) -> impl Iterator<Item = &Path> {
    let built = facts
        .builds
        .values()
        .flat_map(|b| std::iter::once(&b.file).chain(&b.dockerignore));
    facts
        .files
        .iter()
        .chain(facts.env_files.iter().map(|e| &e.file))
        .chain(built)
        .chain(&facts.dockerignore)
        .map(|f| f.path.as_path())
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
        d.help("write `# sandlint ignore=<rule>[,<rule>...] reason=\"...\"`");
        extra.push(d);
    }
    for directive in &directives.directives {
        let mut used = vec![false; directive.rules.len()];
        if let Some(scope) = directive.scope {
            for d in diagnostics.iter_mut() {
                if d.suppression.is_some()
                    || !std::sync::Arc::ptr_eq(&d.file, file)
                    || d.span.start < scope.start
                    || d.span.start > scope.end
                {
                    continue;
                }
                if let Some(i) = directive
                    .rules
                    .iter()
                    .position(|(_, r)| r.is_some_and(|r| r.code == d.rule.code))
                {
                    used[i] = true;
                    d.suppression = Some(Suppression {
                        kind: SuppressionKind::InSource,
                        reason: directive.reason.clone(),
                    });
                }
            }
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

/// Sets each finding's fingerprint: a stable hash of rule, file, scope, the whitespace-normalized
/// source text under the span, and the occurrence number among findings that share all of those.
/// Messages and line numbers are not part of it.
fn assign_fingerprints(diagnostics: &mut [Diagnostic]) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for d in diagnostics.iter_mut() {
        let mut snippet = d
            .file
            .slice(d.span)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if snippet.is_empty() {
            let line = d.file.line_col(d.span.start).line;
            let start = d.file.line_start(line).unwrap_or(0);
            let end = d.file.line_start(line + 1).unwrap_or(d.file.len());
            snippet = d.file.slice(Span::new(start, end)).trim().to_string();
        }
        let scope = d.scope.clone().unwrap_or_default();
        let key = crate::diagnostic::stable_hash(&[d.rule.code, &d.file.display, &scope, &snippet]);
        let n = seen.entry(key.clone()).or_insert(0);
        d.fingerprint = crate::diagnostic::stable_hash(&[&key, &n.to_string()]);
        *n += 1;
    }
}

/// Sorts findings by path, position and code, and drops exact duplicates.
pub fn sort(diagnostics: &mut Vec<Diagnostic>) {
    diagnostics.sort_by(|a, b| {
        a.sort_key()
            .cmp(&b.sort_key())
            .then_with(|| a.message.cmp(&b.message))
    });
    diagnostics.dedup_by(|a, b| a.sort_key() == b.sort_key() && a.message == b.message);
}

/// The `.env` beside the project's file (its variables interpolate the project), and where their
/// expansion passed the byte budget. A refusal or invalid UTF-8 is a finding at 1:1 of the
/// Compose file (the `.env` itself is never shown: it usually holds secrets).
fn read_dotenv(
    dir: &Path,
    boundary: &Boundary,
    refused: &mut Vec<Refused>,
) -> (compose::Vars, Vec<compose::model::ExpansionLimit>) {
    match read_source(&dir.join(".env"), boundary) {
        Ok(f) => {
            refused.extend(invalid_utf8_refusal(Span::at(0), "`.env`", &f));
            compose::load_dotenv(&f)
        }
        Err(ReadError::NotFound) => Default::default(),
        Err(e) => {
            let mut r = refusal(
                Span::at(0),
                format!("`.env` {}; it was not read", e.describe()),
                &e,
            );
            r.help = format!("variables from it are unknown; {}", r.help);
            refused.push(r);
            Default::default()
        }
    }
}

/// For each service with a local `build`, the Dockerfile it builds, parsed.
fn resolve_builds(
    files: &[FileRef],
    compose: &compose::model::ComposeFile,
    boundary: &Boundary,
    refused: &mut Vec<Refused>,
) -> HashMap<String, BuiltImage> {
    let mut builds = HashMap::new();
    // Services that build the same Dockerfile from the same context share one read, parse,
    // `.dockerignore` and context listing.
    type Shared = (
        FileRef,
        Arc<Dockerfile>,
        Option<FileRef>,
        Arc<std::sync::OnceLock<Vec<String>>>,
    );
    let mut cache: HashMap<(PathBuf, PathBuf), Option<Shared>> = HashMap::new();
    let mut failed_ignore: Option<Refused> = None;
    for service in &compose.services {
        let Some(build) = &service.build else {
            continue;
        };
        if build.dockerfile_inline.is_some() {
            continue;
        }
        let context = match &build.context {
            Some(c) => match &c.value {
                Value::Known(s) => s.clone(),
                Value::Unknown(_) => continue,
            },
            None => ".".to_string(),
        };
        let context_span = build.context.as_ref().map_or(build.span, |c| c.span);
        if context.contains("://") || context.starts_with("git@") {
            continue; // remote build context: nothing local to read
        }
        let dockerfile = match &build.dockerfile {
            Some(d) => match &d.value {
                Value::Known(s) => s.clone(),
                Value::Unknown(_) => continue,
            },
            None => "Dockerfile".to_string(),
        };
        let dockerfile_span = build.dockerfile.as_ref().map_or(build.span, |d| d.span);
        // Relative to the file that set `build` (an override or `extends` file may).
        let dir = files
            .get(usize::from(build.span.file))
            .map_or_else(|| PathBuf::from("."), |f| f.dir().to_path_buf());
        let context_dir = dir.join(&context);
        // The context is listed (file names) and its `.dockerignore` read: it must be inside.
        match boundary.resolve(&context_dir) {
            Ok(_) => {}
            Err(ReadError::NotFound) => continue,
            Err(e) => {
                let clipped = crate::source::clip(&context, 48);
                refused.push(refusal(
                    context_span,
                    format!(
                        "build context `{clipped}` {}; it was not read",
                        e.describe().replace(" file ", " directory ")
                    ),
                    &e,
                ));
                continue;
            }
        }
        let path = if Path::new(&dockerfile).is_absolute() {
            PathBuf::from(&dockerfile)
        } else {
            context_dir.join(&dockerfile)
        };
        let path = normalize(&path);
        let mut failed = None;
        let shared = cache
            .entry((path.clone(), context_dir.clone()))
            .or_insert_with(|| {
                let file = match read_source(&path, boundary) {
                    Ok(f) => f,
                    Err(e) => {
                        failed = Some(e);
                        return None;
                    }
                };
                let parsed = Arc::new(dockerfile::parse(&file.text));
                let (dockerignore, refusal) =
                    build_dockerignore(&file, &context_dir, boundary, context_span);
                failed_ignore = refusal;
                Some((file, parsed, dockerignore, Arc::default()))
            })
            .clone();
        refused.extend(failed_ignore.take());
        match failed {
            None | Some(ReadError::NotFound) => {}
            Some(e) => {
                let clipped = crate::source::clip(&dockerfile, 48);
                refused.push(refusal(
                    dockerfile_span,
                    format!("dockerfile `{clipped}` {}; it was not read", e.describe()),
                    &e,
                ));
            }
        }
        let Some((file, dockerfile, dockerignore, context_listing)) = shared else {
            continue;
        };
        let target = build
            .target
            .as_ref()
            .and_then(|t| t.value.known().map(str::to_string));
        builds.insert(
            service.name.value.clone(),
            BuiltImage {
                dockerfile,
                dockerignore,
                context_dir: context_dir.clone(),
                context_listing,
                file,
                target,
            },
        );
    }
    builds
}

/// The `env_file`s the services name that exist (relative to the file that names them).
fn env_files(
    files: &[FileRef],
    compose: &compose::model::ComposeFile,
    boundary: &Boundary,
    refused: &mut Vec<Refused>,
) -> Vec<crate::rules::EnvFile> {
    let mut out = Vec::new();
    for s in &compose.services {
        for entry in &s.env_files {
            let Some(rel) = entry.value.known() else {
                continue;
            };
            let dir = files
                .get(usize::from(entry.span.file))
                .map_or_else(|| PathBuf::from("."), |f| f.dir().to_path_buf());
            let path = normalize(&dir.join(rel));
            let clipped = crate::source::clip(rel, 48);
            let file = match read_source(&path, boundary) {
                Ok(f) => f,
                Err(ReadError::NotFound) => continue,
                Err(e) => {
                    // several services may name the same file: one finding per entry
                    if !refused.iter().any(|r| r.span == entry.span) {
                        refused.push(refusal(
                            entry.span,
                            format!("env_file `{clipped}` {}; it was not read", e.describe()),
                            &e,
                        ));
                    }
                    continue;
                }
            };
            if let Some(r) =
                invalid_utf8_refusal(entry.span, &format!("env_file `{clipped}`"), &file)
                && !refused.iter().any(|x| x.span == entry.span)
            {
                refused.push(r);
            }
            out.push(crate::rules::EnvFile {
                service: s.name.value.clone(),
                entry: entry.span,
                git_ignored: is_git_ignored(&path, boundary),
                file,
            });
        }
    }
    out
}

/// Whether a `.gitignore` in the file's directory or one above it (up to the repository root,
/// the directory holding `.git`) ignores `path`; the deepest `.gitignore` that matches decides.
/// Each `.gitignore` is read with the bounded reader within `boundary` (one that cannot be read
/// is treated as absent).
pub fn is_git_ignored(path: &Path, boundary: &Boundary) -> bool {
    let abs = crate::fsread::absolute(path);
    let mut dir = abs.parent();
    while let Some(d) = dir {
        let gi = d.join(".gitignore");
        if let Ok(text) = crate::fsread::read(&gi, Some(boundary)) {
            let mut builder = ignore::gitignore::GitignoreBuilder::new(d);
            for line in text.text.lines() {
                let _ = builder.add_line(Some(gi.clone()), line);
            }
            let Ok(matcher) = builder.build() else {
                dir = d.parent();
                continue;
            };
            match matcher.matched_path_or_any_parents(&abs, false) {
                ignore::Match::Ignore(_) => return true,
                ignore::Match::Whitelist(_) => return false,
                ignore::Match::None => {}
            }
        }
        if d.join(".git").exists() {
            break;
        }
        dir = d.parent();
    }
    false
}

/// The `.dockerignore` BuildKit uses for a build: `<Dockerfile name>.dockerignore` beside the
/// Dockerfile, else `.dockerignore` at the root of the context.
/// A `.dockerignore` that exists but is refused (outside, not a regular file) is a finding at
/// `span`; it is then treated as absent.
fn build_dockerignore(
    dockerfile: &FileRef,
    context_dir: &Path,
    boundary: &Boundary,
    span: Span,
) -> (Option<FileRef>, Option<Refused>) {
    let own = dockerfile.path.file_name().map(|n| {
        dockerfile
            .dir()
            .join(format!("{}.dockerignore", n.to_string_lossy()))
    });
    let Some(p) = own
        .into_iter()
        .chain(std::iter::once(context_dir.join(".dockerignore")))
        .find(|p| std::fs::symlink_metadata(p).is_ok())
    else {
        return (None, None);
    };
    match read_source(&p, boundary) {
        Ok(f) => (Some(f), None),
        Err(ReadError::NotFound) => (None, None),
        Err(e) => {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let r = refusal(
                span,
                format!("`{name}` {}; it was not read", e.describe()),
                &e,
            );
            (None, Some(r))
        }
    }
}

/// Most files listed from one build context, most directory entries looked at, and how deep
/// the listing goes.
const CONTEXT_FILES_MAX: usize = 5000;
const CONTEXT_ENTRIES_MAX: usize = 50_000;
const CONTEXT_DEPTH_MAX: usize = 6;

/// Regular files in a build context, relative to it (`/` separators, sorted). Bounded in size
/// and depth; `.git` and dependency/build folders (`node_modules`, `vendor`, `target`,
/// `__pycache__`, `.venv`) are not entered. Symbolic links are not followed (nor listed), so the
/// walk stays below `context_dir` (which the linter checked is inside the project boundary).
pub fn context_files(context_dir: &Path) -> Vec<String> {
    const SKIP: &[&str] = &[
        ".git",
        "node_modules",
        "vendor",
        "target",
        "__pycache__",
        ".venv",
    ];
    let mut out = Vec::new();
    let mut seen = 0usize;
    let mut stack = vec![(context_dir.to_path_buf(), String::new(), 0usize)];
    while let Some((dir, rel, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            seen += 1;
            if out.len() >= CONTEXT_FILES_MAX || seen > CONTEXT_ENTRIES_MAX {
                stack.clear();
                break;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            match entry.file_type() {
                Ok(t)
                    if t.is_dir()
                        && depth + 1 < CONTEXT_DEPTH_MAX
                        && !SKIP.contains(&name.as_str()) =>
                {
                    stack.push((entry.path(), path, depth + 1));
                }
                Ok(t) if t.is_file() => out.push(path),
                _ => {}
            }
        }
    }
    out.sort();
    out
}
