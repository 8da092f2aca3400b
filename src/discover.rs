//! Finding the files to check: a parallel, gitignore-aware walk, and file kinds by name or content.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::source::io_message;

mod devcontainer;
mod walk;
pub use devcontainer::is_devcontainer_path;

/// What kind of file a path holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    Dockerfile,
    Compose,
    /// `devcontainer.json` (Dev Containers).
    Devcontainer,
}

impl FileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Dockerfile => "dockerfile",
            FileKind::Compose => "compose",
            FileKind::Devcontainer => "devcontainer",
        }
    }
}

/// A file to check.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Candidate {
    pub path: PathBuf,
    /// `None`: named explicitly, with a name that does not tell its kind (decided from content).
    pub kind: Option<FileKind>,
    /// Named on the command line (always checked, never excluded).
    pub explicit: bool,
    /// The path named on the command line that it was found under (the file itself when named
    /// explicitly): its project boundary is the boundary of the check of this file.
    pub root: PathBuf,
    /// The name only suggests `kind` (`docker-compose-dev.yml`, `Dockerfile_prod`): the file is
    /// checked only if its content agrees ([`content_agrees`]), else it is skipped with a reason.
    pub probe: bool,
    /// A template (`Dockerfile.j2`, `compose.yaml.tmpl`): checked with its template markers
    /// masked ([`mask_template`]); only with `--include-templates`.
    pub template: bool,
}

/// A file that looks like a Docker config by its name but was not checked, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
}

/// The reason given for a skipped template.
pub const TEMPLATE_REASON: &str = "template (pass --include-templates to check it)";

/// What the walk found.
#[derive(Debug, Default)]
pub struct Discovery {
    pub candidates: Vec<Candidate>,
    pub skipped: Vec<Skipped>,
    pub errors: Vec<WalkError>,
}

/// How to walk.
#[derive(Debug, Clone, Copy, Default)]
pub struct DiscoverOptions {
    /// Do not honour ignore files.
    pub no_ignore: bool,
    /// Return templates as candidates (to be checked masked) instead of skipping them.
    pub include_templates: bool,
}

/// A path that could not be walked, read or checked: reported as `error: PATH: MESSAGE` (the
/// message is the `Display`), and the check exits 2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
pub enum WalkError {
    /// A path named on the command line does not exist.
    #[error("no such file or directory")]
    #[diagnostic(code(sandlint::discover::not_found))]
    NotFound { path: PathBuf },

    /// It exists but cannot be read, or is not a regular file within the size cap.
    #[error("{message}")]
    #[diagnostic(code(sandlint::discover::unreadable))]
    Unreadable { path: PathBuf, message: String },

    /// An ignore file (`path`) the walker must not read: `dir` was not walked.
    #[error(
        "{problem}; {} was not walked (pass --no-ignore to walk it without ignore files)",
        crate::source::display_path(dir)
    )]
    #[diagnostic(code(sandlint::discover::unsafe_ignore_file))]
    UnsafeIgnoreFile {
        path: PathBuf,
        dir: PathBuf,
        /// What is wrong with it ([`crate::fsread::ReadError::describe`]).
        problem: String,
    },

    /// The walker failed at `path` (empty when it does not say where).
    #[error("{message}")]
    #[diagnostic(code(sandlint::discover::walk))]
    Walk { path: PathBuf, message: String },

    /// Read, but it cannot be checked (standard input of unknown kind, its config is invalid,
    /// no Compose file given).
    #[error("{message}")]
    #[diagnostic(code(sandlint::discover::unchecked))]
    Unchecked { path: PathBuf, message: String },
}

impl WalkError {
    /// The path the error is about.
    pub fn path(&self) -> &Path {
        match self {
            WalkError::NotFound { path }
            | WalkError::Unreadable { path, .. }
            | WalkError::UnsafeIgnoreFile { path, .. }
            | WalkError::Walk { path, .. }
            | WalkError::Unchecked { path, .. } => path,
        }
    }

    /// A path named on the command line whose metadata cannot be read.
    fn named(path: &Path, e: &std::io::Error) -> Self {
        let path = path.to_path_buf();
        match e.kind() {
            std::io::ErrorKind::NotFound => WalkError::NotFound { path },
            _ => WalkError::Unreadable {
                path,
                message: io_message(e),
            },
        }
    }
}

/// What a file's name says about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameMatch {
    /// A name Docker tooling reads as this kind (`Dockerfile`, `api.Dockerfile`,
    /// `Dockerfile.prod`, `compose.yaml`, `docker-compose.dev.yml`): always checked.
    Known(FileKind),
    /// A name that suggests this kind (`Dockerfile-dev`, `prod_Dockerfile`,
    /// `openhands-compose.yml`): checked when the content agrees ([`content_agrees`]).
    Probable(FileKind),
    /// A template of this kind (`Dockerfile.j2`, `Dockerfile-alpine.template`,
    /// `docker-compose.yml.tpl`): skipped unless `--include-templates`.
    Template(FileKind),
}

impl NameMatch {
    pub fn kind(self) -> FileKind {
        match self {
            NameMatch::Known(k) | NameMatch::Probable(k) | NameMatch::Template(k) => k,
        }
    }
}

/// File extensions of templates (the last ones of a name, or any inner one):
/// Jinja, Go templates, envsubst/docker-library `.template`, autoconf `.in`.
pub const TEMPLATE_EXTENSIONS: &[&str] = &[
    "j2", "jinja", "jinja2", "tpl", "tmpl", "gotmpl", "template", "in",
];

/// Extensions that make a `Dockerfile`-like name something else: sources, scripts, docs,
/// data, backups, ignore files (`Dockerfile.dockerignore` is BuildKit's ignore file, not a
/// Dockerfile; `dockerfile-generator.py` is Python).
pub const NOT_DOCKERFILE_EXTENSIONS: &[&str] = &[
    "md",
    "markdown",
    "txt",
    "rst",
    "adoc",
    "html",
    "htm",
    "sh",
    "bash",
    "zsh",
    "fish",
    "ps1",
    "psm1",
    "bat",
    "cmd",
    "py",
    "pyc",
    "rb",
    "pl",
    "php",
    "js",
    "mjs",
    "cjs",
    "ts",
    "tsx",
    "jsx",
    "go",
    "rs",
    "java",
    "kt",
    "scala",
    "c",
    "h",
    "cc",
    "cpp",
    "hpp",
    "cs",
    "swift",
    "lua",
    "r",
    "json",
    "jsonc",
    "yml",
    "yaml",
    "toml",
    "ini",
    "cfg",
    "conf",
    "xml",
    "csv",
    "lock",
    "log",
    "patch",
    "diff",
    "orig",
    "bak",
    "rej",
    "swp",
    "tmp",
    "old",
    "png",
    "jpg",
    "jpeg",
    "gif",
    "svg",
    "ico",
    "pdf",
    "zip",
    "gz",
    "tgz",
    "tar",
    "bz2",
    "xz",
    "dockerignore",
    "gitignore",
    "vim",
    "el",
    "nix",
    "bzl",
    "mk",
    "cmake",
    "gradle",
    "sbt",
    "erb",
    "mustache",
    "hbs",
    "sum",
];

/// The kind of a file from its name alone (case-insensitive); `None` for a template or a
/// name that is not Docker's. See [`classify_name`].
pub fn kind_from_name(path: &Path) -> Option<FileKind> {
    match classify_name(path)? {
        NameMatch::Known(k) | NameMatch::Probable(k) => Some(k),
        NameMatch::Template(_) => None,
    }
}

/// What a file's name says (case-insensitive).
///
/// Dockerfiles: `Dockerfile`/`Containerfile` as a whole word of the name, bounded by the
/// start, the end, `.`, `-` or `_`: known as `Dockerfile`, `*.Dockerfile`, `Dockerfile.*`
/// (and the same for `Containerfile`), probable otherwise (`Dockerfile-dev`, `prod_Dockerfile`,
/// `dev.Dockerfile.arm64`), unless the last extension is a source, data or backup one
/// ([`NOT_DOCKERFILE_EXTENSIONS`]). Compose: `*.yml`/`*.yaml` whose stem contains `compose`:
/// known as `compose.y(a)ml`, `docker-compose.y(a)ml`, `compose.*.y(a)ml`,
/// `docker-compose.*.y(a)ml`, probable otherwise (`compose-prod.yaml`, `openhands-compose.yml`).
/// Either is a template when an extension after the first part is a template one
/// ([`TEMPLATE_EXTENSIONS`]). A name with an empty part (`.Dockerfile`, `Dockerfile.`,
/// `compose..yaml`) is none of them.
pub fn classify_name(path: &Path) -> Option<NameMatch> {
    if is_devcontainer_path(path) {
        return Some(NameMatch::Known(FileKind::Devcontainer));
    }
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    if name.split('.').any(str::is_empty) {
        return None;
    }
    // Trailing template extensions, then any inner one.
    let mut core = name.as_str();
    let mut template = false;
    while let Some((rest, ext)) = core.rsplit_once('.')
        && TEMPLATE_EXTENSIONS.contains(&ext)
    {
        core = rest;
        template = true;
    }
    template |= core
        .split('.')
        .skip(1)
        .any(|seg| TEMPLATE_EXTENSIONS.contains(&seg));
    let found = dockerfile_name(core).or_else(|| compose_name(core))?;
    Some(if template {
        NameMatch::Template(found.kind())
    } else {
        found
    })
}

fn dockerfile_name(core: &str) -> Option<NameMatch> {
    let last_ext = core.rsplit_once('.').map(|(_, e)| e);
    for base in ["dockerfile", "containerfile"] {
        if last_ext.is_some_and(|e| e != base && NOT_DOCKERFILE_EXTENSIONS.contains(&e)) {
            return None;
        }
        if core == base
            || core.strip_suffix(base).is_some_and(|p| p.ends_with('.'))
            || core.strip_prefix(base).is_some_and(|s| s.starts_with('.'))
        {
            return Some(NameMatch::Known(FileKind::Dockerfile));
        }
        let sep = |c: Option<char>| c.is_none_or(|c| matches!(c, '.' | '-' | '_'));
        let word = core.match_indices(base).any(|(at, _)| {
            sep(core[..at].chars().next_back()) && sep(core[at + base.len()..].chars().next())
        });
        if word {
            return Some(NameMatch::Probable(FileKind::Dockerfile));
        }
    }
    None
}

fn compose_name(core: &str) -> Option<NameMatch> {
    let stem = core
        .strip_suffix(".yaml")
        .or_else(|| core.strip_suffix(".yml"))?;
    for base in ["compose", "docker-compose"] {
        if stem == base || stem.strip_prefix(base).is_some_and(|s| s.starts_with('.')) {
            return Some(NameMatch::Known(FileKind::Compose));
        }
    }
    stem.contains("compose")
        .then_some(NameMatch::Probable(FileKind::Compose))
}

/// Whether `text` is what a [`NameMatch::Probable`] name suggests: a Compose file has a
/// top-level `services:` or `include:` key; a Dockerfile's first instruction (after blank
/// lines, comments and parser directives) is a Dockerfile instruction.
pub fn content_agrees(kind: FileKind, text: &str) -> bool {
    match kind {
        FileKind::Compose => has_compose_key(text),
        FileKind::Dockerfile => starts_with_instruction(text),
        FileKind::Devcontainer => true,
    }
}

/// The reason a probable file whose content disagrees is skipped.
pub fn disagreement(kind: FileKind) -> &'static str {
    match kind {
        FileKind::Compose => {
            "its name looks like a Compose file, but it has no top-level `services:` or `include:`"
        }
        FileKind::Dockerfile => {
            "its name looks like a Dockerfile, but it does not start with a Dockerfile instruction"
        }
        FileKind::Devcontainer => "not a devcontainer.json",
    }
}

/// Dockerfile instructions (any may come first in a fragment; a full file starts with `FROM`
/// or `ARG`).
const INSTRUCTIONS: &[&str] = &[
    "FROM",
    "ARG",
    "RUN",
    "CMD",
    "LABEL",
    "MAINTAINER",
    "EXPOSE",
    "ENV",
    "ADD",
    "COPY",
    "ENTRYPOINT",
    "VOLUME",
    "USER",
    "WORKDIR",
    "ONBUILD",
    "STOPSIGNAL",
    "HEALTHCHECK",
    "SHELL",
];

fn first_line(text: &str) -> Option<&str> {
    text.trim_start_matches('\u{feff}')
        .lines()
        .map(str::trim)
        .find(|t| !t.is_empty() && !t.starts_with('#'))
}

fn starts_with_instruction(text: &str) -> bool {
    let Some(line) = first_line(text) else {
        return false;
    };
    let mut words = line.split_whitespace();
    let Some(word) = words.next() else {
        return false;
    };
    let word = word.to_ascii_uppercase();
    if !INSTRUCTIONS.contains(&word.as_str()) {
        return false;
    }
    // `from os import path` is Python.
    !(word == "FROM" && words.nth(1) == Some("import"))
}

fn has_compose_key(text: &str) -> bool {
    text.trim_start_matches('\u{feff}').lines().any(|l| {
        ["services", "include"].iter().any(|key| {
            let rest = l
                .strip_prefix(key)
                .or_else(|| l.strip_prefix(&format!("\"{key}\"")[..]))
                .or_else(|| l.strip_prefix(&format!("'{key}'")[..]));
            rest.and_then(|r| r.trim_end().strip_prefix(':'))
                .is_some_and(|r| r.is_empty() || r.starts_with([' ', '\t']))
        })
    })
}

/// Guesses a file's kind from its content: a Dockerfile starts (after comments and blank lines)
/// with an instruction; a Compose file has a top-level `services:` or `include:` key.
pub fn kind_from_content(text: &str) -> Option<FileKind> {
    let mut first_instruction = None;
    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        first_instruction = Some(t);
        break;
    }
    if has_compose_key(text) {
        return Some(FileKind::Compose);
    }
    let word = first_instruction?
        .split_whitespace()
        .next()?
        .to_ascii_uppercase();
    matches!(word.as_str(), "FROM" | "ARG").then_some(FileKind::Dockerfile)
}

/// A masked template: its text, and the byte ranges of the value substitutions in it.
pub type Masked = (String, Vec<std::ops::Range<usize>>);

/// Masks the template markers of `text` so that it can be linted, keeping every byte offset
/// and line: each value substitution inside a line (`{{ image }}`, Go's `{{ .Tag }}`,
/// docker-library's `%%VARIANT%%`, autoconf's `@VERSION@` when `at_markers`) becomes a variable
/// reference of the same length (`${________}`), which rules treat as an unknown value — they
/// neither pass nor fail on it; Jinja comments (`{# … #}`, `{{/* … */}}`) become spaces.
///
/// A template whose shape depends on rendering cannot be masked safely: a statement
/// (`{% if … %}`, `{% for %}`, Go's `{{ if }}`/`{{ range }}`/`{{ end }}`, whose branches would
/// both be linted), a marker alone on its line (`{{ install_docker() }}` expands to whole
/// instructions), or a marker spanning lines. Then the byte offset of the first one and what
/// it is are returned instead; so is a value marker inside a string that continues on the
/// next line (`pkgs="%%PACKAGES%%` — the value usually expands to several lines).
///
/// Also returned: the byte ranges of the value substitutions.
pub fn mask_template(text: &str, at_markers: bool) -> Result<Masked, (usize, &'static str)> {
    let bytes = text.as_bytes();
    let mut out = bytes.to_vec();
    let mut values = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        // (length, is a value substitution)
        let region = match rest {
            [b'{', b'{', ..] => find(&rest[2..], b"}}").map(|at| {
                let inner = &text[i + 2..i + 2 + at];
                let t = inner.trim_matches(|c: char| c == '-' || c.is_whitespace());
                if t.starts_with("/*") {
                    (at + 4, Some(false))
                } else if is_go_statement(t) {
                    (at + 4, None)
                } else {
                    (at + 4, Some(true))
                }
            }),
            [b'{', b'%', ..] => find(&rest[2..], b"%}").map(|at| (at + 4, None)),
            [b'{', b'#', ..] => find(&rest[2..], b"#}").map(|at| (at + 4, Some(false))),
            [b'%', b'%', ..] => word_between(&rest[2..], b"%%", false).map(|n| (n + 4, Some(true))),
            [b'@', ..] if at_markers => {
                word_between(&rest[1..], b"@", true).map(|n| (n + 2, Some(true)))
            }
            _ => None,
        };
        let Some((len, kind)) = region else {
            i += 1;
            continue;
        };
        let end = i + len;
        let Some(value) = kind else {
            return Err((
                i,
                "a template statement (its branches or loops need rendering)",
            ));
        };
        if bytes[i..end].contains(&b'\n') {
            return Err((i, "a template marker spanning lines"));
        }
        let line_start = text[..i].rfind('\n').map_or(0, |n| n + 1);
        let line_end = text[end..].find('\n').map_or(text.len(), |n| end + n);
        let alone = text[line_start..i].trim().is_empty()
            && text[end..line_end].trim_end_matches('\r').trim().is_empty();
        if value && alone {
            return Err((
                i,
                "a template marker alone on its line (it expands to whole lines)",
            ));
        }
        let open_quote = text[line_start..i].matches('"').count() % 2 == 1;
        if value && open_quote && !text[end..line_end].contains('"') {
            return Err((
                i,
                "a template marker in a string that continues on the next line",
            ));
        }
        if value && len >= 4 {
            values.push(i..end);
        }
        for (k, b) in out[i..end].iter_mut().enumerate() {
            *b = if !value || len < 4 {
                b' '
            } else if k == 0 {
                b'$'
            } else if k == 1 {
                b'{'
            } else if k == len - 1 {
                b'}'
            } else {
                b'_'
            };
        }
        i = end;
    }
    // Whole markers (which start and end on ASCII bytes) were replaced by ASCII: still UTF-8.
    let masked = String::from_utf8(out)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    Ok((masked, values))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The length of an identifier at the start of `rest` directly followed by `close`.
fn word_between(rest: &[u8], close: &[u8], ident: bool) -> Option<usize> {
    let n = rest
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
        .count();
    let starts_ok = !ident || rest.first().is_some_and(|b| !b.is_ascii_digit());
    (n > 0 && starts_ok && rest[n..].starts_with(close)).then_some(n)
}

/// `if …`, `end`, `range …` (trimmed of `-` and blanks): a Go template action.
fn is_go_statement(t: &str) -> bool {
    let word = t
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or_default();
    matches!(
        word,
        "if" | "else"
            | "end"
            | "range"
            | "with"
            | "define"
            | "template"
            | "block"
            | "break"
            | "continue"
    )
}

/// The first symbolic link in `path` that a `..` follows (`link/..`) into another directory
/// than the link's own: the system goes to the parent of the link's target, the path's lexical
/// form (how sandlint reads, bounds and shows paths) to the link's directory, so a file walked
/// under it would be read from elsewhere.
fn link_before_dot_dot(path: &Path) -> Option<PathBuf> {
    let mut prefix = PathBuf::new();
    for c in path.components() {
        if c == std::path::Component::ParentDir
            && !prefix.as_os_str().is_empty()
            && std::fs::symlink_metadata(&prefix).is_ok_and(|m| m.file_type().is_symlink())
        {
            let own = match prefix.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            let (system, lexical) = (prefix.join("..").canonicalize(), own.canonicalize());
            if system.ok() != lexical.ok() {
                return Some(prefix);
            }
        }
        prefix.push(c);
    }
    None
}

/// Walks `paths` in parallel. Directories are walked honouring ignore files unless `no_ignore`;
/// files named explicitly are always returned. The result is sorted and has no duplicates.
///
/// Files with a Dockerfile or Compose name that are not regular files are returned too (the
/// reader refuses them with a finding, never silently): symbolic links (one to a file found
/// by the walk anyway is dropped, so a file is checked once), FIFOs, devices. Symbolic links to
/// directories are not entered. A directory whose ignore file (`.gitignore`, `.ignore`,
/// `.git/info/exclude`) is not a regular file within the project and the size cap is not
/// walked (an error), since the walker would otherwise block on it or read it unbounded.
pub fn discover(paths: &[PathBuf], no_ignore: bool) -> (Vec<Candidate>, Vec<WalkError>) {
    let d = discover_with(
        paths,
        DiscoverOptions {
            no_ignore,
            include_templates: false,
        },
    );
    (d.candidates, d.errors)
}

/// Like [`discover`], also returning the files skipped for their content or as templates.
///
/// A file whose name is [`NameMatch::Probable`] is a candidate with `probe` set (the checker
/// reads it through the bounded reader and skips it when the content disagrees); a template
/// is skipped (`TEMPLATE_REASON`), or a candidate with `template` set when
/// `opts.include_templates`. An explicitly named file follows the same rules, except that one
/// whose name tells nothing is a candidate of unknown kind (decided from content or `--kind`).
pub fn discover_with(paths: &[PathBuf], opts: DiscoverOptions) -> Discovery {
    let no_ignore = opts.no_ignore;
    let mut files = Vec::new();
    let mut errors = Vec::new();
    let mut dirs = Vec::new();
    let names = Names {
        include_templates: opts.include_templates,
        skipped: Mutex::new(Vec::new()),
    };
    for path in paths {
        if let Some(link) = link_before_dot_dot(path) {
            errors.push(WalkError::Unreadable {
                path: path.clone(),
                message: format!(
                    "`..` after the symbolic link `{}` leads to the parent of its target, not \
                     back beside the link, where sandlint would read, bound and report the \
                     files; name the path without the link",
                    crate::source::display_path(&link)
                ),
            });
            continue;
        }
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => dirs.push(path.clone()),
            Ok(_) => files.extend(names.candidate(path.clone(), path.clone(), true)),
            Err(e) => errors.push(WalkError::named(path, &e)),
        }
    }
    if !no_ignore {
        dirs.retain(|d| match unsafe_ignore_files(d, true) {
            Some(e) => {
                errors.push(e);
                false
            }
            None => true,
        });
    }
    let (found, mut failed) = walk(&dirs, no_ignore, &names);
    files.extend(found);
    errors.append(&mut failed);
    // as `files.sort()` (by path first), with each path's order key built once
    let mut keyed: Vec<(Vec<u8>, Candidate)> = (files.into_iter())
        .map(|c| (crate::source::order_key(&c.path), c))
        .collect();
    keyed.sort_by(|(ka, a), (kb, b)| ka.cmp(kb).then_with(|| a.cmp(b)));
    let mut files: Vec<Candidate> = keyed.into_iter().map(|(_, c)| c).collect();
    // An explicitly named file sorts before the same path found by walking: keep the explicit one.
    files.dedup_by(|later, earlier| later.path == earlier.path);
    errors.sort_by(|a, b| a.path().cmp(b.path()));
    let mut skipped = names.skipped.into_inner().unwrap_or_default();
    skipped.sort();
    skipped.dedup_by(|later, earlier| later.path == earlier.path);
    Discovery {
        candidates: files,
        skipped,
        errors,
    }
}

/// Decides what a file with a given name is: a candidate (kind, probe, template), or skipped
/// as a template (collected in `skipped`).
struct Names {
    include_templates: bool,
    skipped: Mutex<Vec<Skipped>>,
}

impl Names {
    fn candidate(&self, path: PathBuf, root: PathBuf, explicit: bool) -> Option<Candidate> {
        let m = classify_name(&path);
        if let Some(NameMatch::Template(_)) = m
            && !self.include_templates
        {
            if let Ok(mut s) = self.skipped.lock() {
                s.push(Skipped {
                    path,
                    reason: TEMPLATE_REASON.to_string(),
                });
            }
            return None;
        }
        if m.is_none() && !explicit {
            return None;
        }
        // named explicitly, `devcontainer.json` is one wherever it is
        let m = m.or_else(|| {
            (path.file_name() == Some(std::ffi::OsStr::new("devcontainer.json")))
                .then_some(NameMatch::Known(FileKind::Devcontainer))
        });
        Some(Candidate {
            path,
            kind: m.map(NameMatch::kind),
            explicit,
            root,
            probe: matches!(m, Some(NameMatch::Probable(_))),
            template: matches!(m, Some(NameMatch::Template(_))),
        })
    }
}

/// Walks `dirs` in parallel ([`walk::walk`]): the candidates found below them (each with the
/// deepest of `dirs` it is under as its root), and the paths that could not be walked (in no
/// order).
fn walk(dirs: &[PathBuf], no_ignore: bool, names: &Names) -> (Vec<Candidate>, Vec<WalkError>) {
    let (found, failed) = walk::walk(dirs, no_ignore, names);
    (without_duplicate_links(found), failed)
}

/// Drops a discovered symbolic link whose target is also discovered (or is the target of an
/// earlier link): each file is checked once, under its own name when the walk finds it.
fn without_duplicate_links(found: Vec<(Candidate, bool)>) -> Vec<Candidate> {
    if !found.iter().any(|(_, link)| *link) {
        return found.into_iter().map(|(c, _)| c).collect();
    }
    let mut seen: std::collections::HashSet<(PathBuf, Option<FileKind>)> = found
        .iter()
        .filter(|(_, link)| !*link)
        .filter_map(|(c, _)| Some((std::fs::canonicalize(&c.path).ok()?, c.kind)))
        .collect();
    let mut found = found;
    found.sort();
    found
        .into_iter()
        .filter(|(c, link)| {
            !*link
                || std::fs::canonicalize(&c.path)
                    .map_or(true, |target| seen.insert((target, c.kind)))
        })
        .map(|(c, _)| c)
        .collect()
}

/// An ignore file of `dir` that the walker must not read: not a regular file (a FIFO would
/// block it, `/dev/zero` would grow it without end), over the size cap, or resolving outside
/// the project. With `parents`, the directories above `dir` up to its git work tree are
/// checked too (the walker reads their ignore files as well).
fn unsafe_ignore_files(dir: &Path, parents: bool) -> Option<WalkError> {
    // Made only for a directory that has an ignore file (most have none).
    let mut boundary = None;
    let abs;
    let dirs: Vec<&Path> = if parents {
        // the directories whose ignore files the walk reads: up to the git work tree (none
        // above a directory in no work tree)
        abs = crate::fsread::listing_key(dir);
        match crate::fsread::git_root(&abs) {
            Some(top) => abs
                .ancestors()
                .take_while(|d| d.starts_with(&top))
                .collect(),
            None => vec![abs.as_path()],
        }
    } else {
        vec![dir]
    };
    for d in dirs {
        // `.git/info/exclude` is looked for only where `.git` is (most directories have none)
        let has_git = crate::fsread::exists_nofollow(&d.join(".git"));
        for name in [".gitignore", ".ignore", ".git/info/exclude"] {
            if name.starts_with(".git/") && !has_git {
                continue;
            }
            let p = d.join(name);
            if !crate::fsread::exists_nofollow(&p) {
                continue;
            }
            let boundary = boundary.get_or_insert_with(|| crate::fsread::Boundary::around(dir));
            let problem = match boundary.resolve(&p) {
                Err(e) if e != crate::fsread::ReadError::NotFound => Some(e),
                Err(_) => None,
                Ok(target) => match std::fs::metadata(&target) {
                    Ok(m) if m.is_file() && m.len() <= crate::fsread::MAX_FILE_BYTES => None,
                    Ok(m) if m.is_file() => Some(crate::fsread::ReadError::TooLarge),
                    // a directory, FIFO, device, socket: `read` says which
                    Ok(_) => crate::fsread::read(&target, None).err(),
                    Err(_) => None,
                },
            };
            if let Some(e) = problem {
                return Some(WalkError::UnsafeIgnoreFile {
                    path: p.clone(),
                    dir: dir.to_path_buf(),
                    problem: e.describe(),
                });
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use NameMatch::{Known, Probable, Template};

    #[test]
    fn names() {
        let d = FileKind::Dockerfile;
        let c = FileKind::Compose;
        for (name, want) in [
            ("Dockerfile", Some(Known(d))),
            ("dockerfile", Some(Known(d))),
            ("Containerfile", Some(Known(d))),
            ("api.Dockerfile", Some(Known(d))),
            ("api.dockerfile", Some(Known(d))),
            ("x.containerfile", Some(Known(d))),
            ("Dockerfile.prod", Some(Known(d))),
            ("Containerfile.dev", Some(Known(d))),
            ("compose.yaml", Some(Known(c))),
            ("compose.yml", Some(Known(c))),
            ("docker-compose.yml", Some(Known(c))),
            ("docker-compose.prod.yaml", Some(Known(c))),
            ("compose.override.yml", Some(Known(c))),
            ("COMPOSE.YAML", Some(Known(c))),
            // Issue 10: names Docker users use, decided by content.
            ("Dockerfile-dev", Some(Probable(d))),
            ("Dockerfile_prod", Some(Probable(d))),
            ("prod-Dockerfile", Some(Probable(d))),
            ("prod_dockerfile", Some(Probable(d))),
            ("Containerfile-rhel", Some(Probable(d))),
            ("dev.Dockerfile.arm64", Some(Probable(d))),
            ("dockerfile-generator", Some(Probable(d))),
            ("openhands-compose.yml", Some(Probable(c))),
            ("docker-compose-dev.yml", Some(Probable(c))),
            ("compose-prod.yaml", Some(Probable(c))),
            ("metricbeat-compose.yml", Some(Probable(c))),
            ("xcompose.yml", Some(Probable(c))),
            // Templates.
            ("Dockerfile.j2", Some(Template(d))),
            ("Dockerfile-alpine.template", Some(Template(d))),
            ("Dockerfile.tmpl", Some(Template(d))),
            ("Dockerfile.in", Some(Template(d))),
            ("api.Dockerfile.tpl", Some(Template(d))),
            ("docker-compose.yml.j2", Some(Template(c))),
            ("docker-compose.template.yml", Some(Template(c))),
            ("compose.yaml.tmpl", Some(Template(c))),
            // Not ours.
            ("dockerfile-generator.py", None),
            ("Dockerfile.dockerignore", None),
            ("Dockerfile.md", None),
            ("Dockerfile.sh.j2", None),
            ("dockerfile.json", None),
            (".Dockerfile", None),
            ("Dockerfile.", None),
            ("Dockerfiles", None),
            ("mydockerfile", None),
            ("compose.json", None),
            ("compose..yaml", None),
            ("compose.yaml.bak", None),
            ("values.yaml", None),
            ("composer.json", None),
        ] {
            assert_eq!(classify_name(Path::new(name)), want, "{name}");
        }
        assert_eq!(kind_from_name(Path::new("Dockerfile.j2")), None);
        assert_eq!(kind_from_name(Path::new("Dockerfile-dev")), Some(d));
    }

    #[test]
    fn content() {
        assert_eq!(
            kind_from_content("# c\n\nFROM x\n"),
            Some(FileKind::Dockerfile)
        );
        assert_eq!(
            kind_from_content("arg X=1\nfrom x\n"),
            Some(FileKind::Dockerfile)
        );
        assert_eq!(
            kind_from_content("version: '3'\nservices:\n  a: {}\n"),
            Some(FileKind::Compose)
        );
        assert_eq!(kind_from_content("hello\n"), None);
        assert_eq!(kind_from_content("services:x\n"), None);
        let d = FileKind::Dockerfile;
        let c = FileKind::Compose;
        assert!(content_agrees(
            d,
            "\u{feff}# syntax=docker/dockerfile:1\nFROM x\n"
        ));
        assert!(content_agrees(d, "RUN make\n"));
        assert!(!content_agrees(d, "#!/bin/sh\nset -e\n"));
        assert!(!content_agrees(d, "from os import path\n"));
        assert!(!content_agrees(d, ""));
        assert!(content_agrees(c, "---\nservices: # the app\n  a: {}\n"));
        assert!(content_agrees(c, "\"include\":\n  - a.yml\n"));
        assert!(!content_agrees(c, "name: CI\non: push\njobs: {}\n"));
        assert!(!content_agrees(c, "x:\n  services:\n"));
    }

    #[test]
    fn template_masking() {
        let text = "FROM {{ base }}:{{tag}}\nUSER %%U%%\n{# c #}\n";
        let (m, values) = mask_template(text, false).unwrap();
        assert_eq!(m, "FROM ${_______}:${____}\nUSER ${__}\n       \n");
        assert_eq!(values, vec![5..15, 16..23, 29..34]);
        // Same offsets and lines as the original.
        assert_eq!(m.len(), text.len());
        let (m, _) = mask_template("FROM @BASE@\nRUN echo a@b.c\n", true).unwrap();
        assert_eq!(m, "FROM ${___}\nRUN echo a@b.c\n");
        let (m, _) = mask_template("FROM x\nLABEL v=\"{{ .V }}\"\n", false).unwrap();
        assert_eq!(m, "FROM x\nLABEL v=\"${_____}\"\n");
        for (text, at, why) in [
            (
                "FROM x\n{% if a %}\nUSER root\n{% endif %}\n",
                7,
                "statement",
            ),
            ("FROM x\n{{- if .A }}\n", 7, "statement"),
            ("FROM x\n  {{ install() }}\n", 9, "alone"),
            ("FROM {{ a\n }}\n", 5, "spanning"),
            ("RUN p=\"%%PKGS%%\n  \" x\n", 7, "string"),
        ] {
            let (got, msg) = mask_template(text, false).unwrap_err();
            assert_eq!(got, at, "{text:?}");
            assert!(msg.contains(why), "{text:?}: {msg}");
        }
    }
}
