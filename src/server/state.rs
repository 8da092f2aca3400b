//! The open documents and what linting them found, with the project state that ties a Compose
//! file to the Dockerfiles its services build.
//!
//! A document is linted from its text in the editor, with the config, preset and project
//! boundary `check` would use for its directory. Files the check reads around it (override
//! files, `.env`, build contexts, the Dockerfile a service builds) come from the editor when
//! open (the Compose file and its default override file) and from disk otherwise, inside the
//! boundary only.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::{CliOverrides, Config, ConfigFinder};
use crate::diagnostic::Diagnostic;
use crate::discover::{self, FileKind, NameMatch};
use crate::fsread::{self, Boundary};
use crate::linter::{self, LintOptions, Selection};
use crate::rules::BuiltBy;
use crate::source::{FileRef, SourceFile, display_path, normalize};

/// At most this many documents are kept open; the ones past it are not checked.
pub const MAX_DOCUMENTS: usize = 512;

/// How many directories above a Dockerfile are searched for the Compose files that build it
/// (within the project boundary).
const COMPOSE_SEARCH_DEPTH: usize = 4;

/// Compose file names searched for beside and above a Dockerfile.
const COMPOSE_NAMES: [&str; 4] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
];

/// One open document.
#[derive(Debug)]
pub struct Doc {
    /// Absolute and normalized.
    pub path: PathBuf,
    pub text: String,
    pub version: i32,
    pub language: String,
    /// The text went over [`fsread::MAX_FILE_BYTES`]: it is not kept or checked until the
    /// client sends it whole again within the cap.
    pub too_large: bool,
}

/// What linting a document found.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The findings in the document, not suppressed, in order.
    pub findings: Vec<Diagnostic>,
    /// Why the document was not checked, or what went wrong around it (a config that cannot
    /// be loaded): shown at its first line.
    pub notice: Option<String>,
    pub kind: Option<FileKind>,
}

/// The open documents, the project state and the settings of the session.
#[derive(Debug, Default)]
pub struct State {
    pub docs: BTreeMap<String, Doc>,
    /// What each document's last lint found.
    pub linted: HashMap<String, Outcome>,
    /// Each open Compose document's builds: Dockerfile (normalized path) and who builds it.
    builds: HashMap<String, Vec<(PathBuf, BuiltBy)>>,
    /// The builds of Compose files on disk that are not open (dropped on every save).
    disk: HashMap<PathBuf, Vec<(PathBuf, BuiltBy)>>,
    pub cli: CliOverrides,
}

impl State {
    pub fn new(cli: CliOverrides) -> Self {
        State {
            cli,
            ..State::default()
        }
    }

    /// Something changed on disk: forget what was read from it.
    pub fn disk_changed(&mut self) {
        self.disk.clear();
    }

    /// Removes a document; returns the documents whose findings depended on it.
    pub fn close(&mut self, uri: &str) -> Vec<String> {
        self.docs.remove(uri);
        self.linted.remove(uri);
        let built = self.builds.remove(uri).unwrap_or_default();
        self.dockerfiles_in(&built)
    }

    /// The open documents whose path is one of `built`'s Dockerfiles.
    fn dockerfiles_in(&self, built: &[(PathBuf, BuiltBy)]) -> Vec<String> {
        (self.docs.iter())
            .filter(|(_, d)| built.iter().any(|(p, _)| *p == d.path))
            .map(|(u, _)| u.clone())
            .collect()
    }

    /// Lints document `uri` and keeps what it found; returns the other open documents whose
    /// findings depend on it (the Dockerfiles a Compose document builds, before or now).
    pub fn lint(&mut self, uri: &str) -> Vec<String> {
        let Some(doc) = self.docs.get(uri) else {
            return Vec::new();
        };
        if !doc.too_large
            && kind_of(&doc.path, &doc.language, &doc.text) == Some(FileKind::Dockerfile)
        {
            let path = doc.path.clone();
            self.remember_disk_builds(&path);
        }
        let Some(doc) = self.docs.get(uri) else {
            return Vec::new();
        };
        let run = self.run(doc, &doc.text);
        let mut dependants = Vec::new();
        if run.outcome.kind == Some(FileKind::Compose) || self.builds.contains_key(uri) {
            let before = self.builds.remove(uri).unwrap_or_default();
            dependants = self.dockerfiles_in(&before);
            dependants.extend(self.dockerfiles_in(&run.built));
            dependants.extend(self.override_partners(&doc.path));
            dependants.extend(self.pulled_in_documents());
            self.builds.insert(uri.to_string(), run.built);
        }
        self.linted.insert(uri.to_string(), run.outcome);
        dependants.sort();
        dependants.dedup();
        dependants.retain(|u| u != uri);
        dependants
    }

    /// The open YAML documents of no Docker name, whose findings come from the Compose files
    /// that use them.
    fn pulled_in_documents(&self) -> Vec<String> {
        (self.docs.iter())
            .filter(|(_, d)| is_yaml(&d.path) && kind_of(&d.path, &d.language, &d.text).is_none())
            .map(|(u, _)| u.clone())
            .collect()
    }

    /// The open documents merged with the Compose file at `path`: its base file when it is an
    /// override file, its override file when it is a base.
    fn override_partners(&self, path: &Path) -> Vec<String> {
        let base_of = |p: &Path| crate::workspace::base_taking_override(p).map(|b| normalize(&b));
        let own_base = base_of(path);
        (self.docs.iter())
            .filter(|(_, d)| {
                own_base.as_deref() == Some(d.path.as_path())
                    || base_of(&d.path).as_deref() == Some(path)
            })
            .map(|(u, _)| u.clone())
            .collect()
    }

    /// Lints `doc` as if its text were `text` (code actions check their edit this way).
    pub fn lint_text(&self, doc: &Doc, text: &str) -> Outcome {
        self.run(doc, text).outcome
    }

    fn run(&self, doc: &Doc, text: &str) -> Run {
        let caught =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.run_inner(doc, text)));
        caught.unwrap_or_else(|_| {
            Run::notice(
                None,
                "sandlint failed on this file (a bug: please report it)",
            )
        })
    }

    fn run_inner(&self, doc: &Doc, text: &str) -> Run {
        if doc.too_large {
            return Run::notice(
                None,
                format!(
                    "larger than {} MiB; not checked",
                    fsread::MAX_FILE_BYTES / (1024 * 1024)
                ),
            );
        }
        let Some(kind) = kind_of(&doc.path, &doc.language, text) else {
            return Run {
                outcome: self.pulled_in(doc),
                built: Vec::new(),
            };
        };
        let config = match config_for(&doc.path, &self.cli) {
            Ok(c) => c,
            Err(message) => return Run::notice(Some(kind), message),
        };
        if config.is_excluded(&doc.path) {
            return Run {
                outcome: Outcome {
                    kind: Some(kind),
                    ..Outcome::default()
                },
                built: Vec::new(),
            };
        }
        let boundary = Arc::new(Boundary::around(&doc.path).allowing(config.allow_outside.iter()));
        let file =
            SourceFile::new(doc.path.clone(), display_path(&doc.path), text.to_string()).into_ref();
        let mut opts = options(&config, &boundary);
        let result = match kind {
            FileKind::Dockerfile => {
                opts.built_by = self.built_by(&doc.path, &boundary);
                linter::lint_file_with(file, kind, &opts)
            }
            FileKind::Compose => self.lint_compose(file, &mut opts, &boundary),
            FileKind::Devcontainer => linter::lint_file_with(file, kind, &opts),
        };
        let mut findings = result.diagnostics;
        findings.retain(|d| d.suppression.is_none() && normalize(&d.file.path) == doc.path);
        // one finding per rule and place, naming the services that share it, as reports do
        let findings = (crate::report::merge_locations(&findings).into_iter())
            .map(crate::report::Merged::into_owned)
            .collect();
        Run {
            outcome: Outcome {
                findings,
                notice: None,
                kind: Some(kind),
            },
            built: result.built,
        }
    }

    /// A YAML document of no Docker name (`common.yml`): what the Compose projects beside it
    /// and up to [`COMPOSE_SEARCH_DEPTH`] directories above find in it when they pull it in
    /// (`extends`, `include`, as saved: those read it from disk); nothing for another file.
    fn pulled_in(&self, doc: &Doc) -> Outcome {
        if !is_yaml(&doc.path) {
            return Outcome::default();
        }
        let mut findings = Vec::new();
        for compose in compose_files_above(&doc.path, &Boundary::around(&doc.path)) {
            let Ok(config) = config_for(&compose, &self.cli) else {
                continue;
            };
            let boundary =
                Arc::new(Boundary::around(&compose).allowing(config.allow_outside.iter()));
            let file = match self.open_file(&compose) {
                Some(f) => f,
                None => match crate::workspace::read_found(&compose, Some(&boundary)) {
                    Ok(f) => f.into_ref(),
                    Err(_) => continue,
                },
            };
            let mut opts = options(&config, &boundary);
            opts.report_only = vec![doc.path.clone()];
            let result = linter::lint_file_with(file, FileKind::Compose, &opts);
            findings.extend(
                (result.diagnostics.into_iter())
                    .filter(|d| d.suppression.is_none() && normalize(&d.file.path) == doc.path),
            );
        }
        if findings.is_empty() {
            return Outcome::default();
        }
        linter::sort(&mut findings);
        let unsaved = findings.iter().any(|d| d.file.text != doc.text);
        Outcome {
            findings: (crate::report::merge_locations(&findings).into_iter())
                .map(crate::report::Merged::into_owned)
                .collect(),
            notice: unsaved.then(|| {
                "not saved: these are the findings of the saved file (the Compose files that \
                 use it read it from disk)"
                    .to_string()
            }),
            kind: Some(FileKind::Compose),
        }
    }

    /// A Compose document: with its default override file (open or on disk), or, when it is
    /// the override file of a base beside it, in the base's project, keeping what falls in it.
    fn lint_compose(
        &self,
        file: FileRef,
        opts: &mut LintOptions<'_>,
        boundary: &Boundary,
    ) -> linter::FileResult {
        if let Some(base) = crate::workspace::base_taking_override(&file.path) {
            let base = normalize(&base);
            let base_ref = match self.open_file(&base) {
                Some(f) => Some(f),
                None => crate::workspace::read_found(&base, Some(boundary))
                    .ok()
                    .map(SourceFile::into_ref),
            };
            if let Some(base_ref) = base_ref {
                opts.report_only = vec![file.path.clone()];
                opts.compose_set = Some(vec![base_ref.clone(), file]);
                return linter::lint_file_with(base_ref, FileKind::Compose, opts);
            }
        }
        let open_override = (self.docs.values()).find(|d| {
            crate::workspace::base_taking_override(&d.path)
                .is_some_and(|b| normalize(&b) == file.path)
        });
        if let Some(o) = open_override.and_then(|d| self.open_file(&d.path)) {
            opts.compose_set = Some(vec![file.clone(), o]);
        }
        linter::lint_file_with(file, FileKind::Compose, opts)
    }

    /// The open document at `path`, as a file.
    fn open_file(&self, path: &Path) -> Option<FileRef> {
        let d = self
            .docs
            .values()
            .find(|d| d.path == path && !d.too_large)?;
        Some(SourceFile::new(d.path.clone(), display_path(&d.path), d.text.clone()).into_ref())
    }

    /// The Compose services that build the Dockerfile at `path`: from the open Compose
    /// documents, and from the Compose files on disk beside it and up to
    /// [`COMPOSE_SEARCH_DEPTH`] directories above (inside the boundary) that are not open.
    fn built_by(&self, path: &Path, boundary: &Boundary) -> Vec<BuiltBy> {
        let mut out: Vec<BuiltBy> = (self.builds.values().flatten())
            .filter(|(p, _)| p == path)
            .map(|(_, b)| b.clone())
            .collect();
        let open: BTreeSet<&Path> = self.docs.values().map(|d| d.path.as_path()).collect();
        for compose in compose_files_above(path, boundary) {
            if open.contains(compose.as_path()) {
                continue;
            }
            let Some(built) = self.disk.get(&compose) else {
                continue;
            };
            out.extend(
                (built.iter())
                    .filter(|(p, _)| p == path)
                    .map(|(_, b)| b.clone()),
            );
        }
        out
    }

    /// Reads the builds of the Compose files on disk around the Dockerfile at `path` that are
    /// not known yet (each is read again only after a save).
    fn remember_disk_builds(&mut self, path: &Path) {
        let boundary = Boundary::around(path);
        for compose in compose_files_above(path, &boundary) {
            if !self.disk.contains_key(&compose) {
                let built = disk_builds(&compose, &self.cli);
                self.disk.insert(compose, built);
            }
        }
    }
}

/// A lint's outcome and, for Compose, its builds.
#[derive(Default)]
struct Run {
    outcome: Outcome,
    built: Vec<(PathBuf, BuiltBy)>,
}

impl Run {
    fn notice(kind: Option<FileKind>, message: impl Into<String>) -> Run {
        Run {
            outcome: Outcome {
                findings: Vec::new(),
                notice: Some(message.into()),
                kind,
            },
            built: Vec::new(),
        }
    }
}

/// How a document is linted: as `check` lints a file it found.
fn options<'c>(config: &'c Config, boundary: &Arc<Boundary>) -> LintOptions<'c> {
    LintOptions {
        selection: Selection::all(),
        compose_set: None,
        built_by: Vec::new(),
        config,
        inline_ignores: true,
        require_reason: false,
        report_unused: false,
        join_wanted: true,
        boundary: Some(boundary.clone()),
        report_only: Vec::new(),
    }
}

/// The config `check` would use for a file at `path`: the nearest config file at or above its
/// directory (up to the repository root), with the server's command-line settings over it.
fn config_for(path: &Path, cli: &CliOverrides) -> Result<Config, String> {
    let dir = path.parent().unwrap_or(Path::new("/"));
    match ConfigFinder::default().nearest(dir) {
        Some(found) => Config::load_discovered(&found)
            .map(|c| c.with_cli(cli))
            .map_err(|e| {
                let at = (e.spot().and_then(crate::config::ConfigSpot::line_col))
                    .map(|(line, col)| format!(":{line}:{col}"))
                    .unwrap_or_default();
                format!("cannot use config {}{at}: {e}", display_path(&found))
            }),
        None => Ok(Config::default().with_cli(cli)),
    }
}

fn is_yaml(path: &Path) -> bool {
    (path.extension().and_then(|e| e.to_str()))
        .is_some_and(|e| e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml"))
}

/// What a document is, as `check` decides it: by its name (a name that only looks like one,
/// `docker-compose-dev.yml`, when the content agrees; a template, `Dockerfile.j2`, never),
/// else by the editor's language id
/// (`dockerfile`, `dockercompose`, Helix's `docker-compose`, Neovim's `yaml.docker-compose`): a
/// YAML file of another name is not checked alone (as `check` does not find it), whatever it
/// holds. `None`: neither (nothing to check).
pub fn kind_of(path: &Path, language: &str, text: &str) -> Option<FileKind> {
    let by_language = match language.to_ascii_lowercase().as_str() {
        "dockerfile" | "containerfile" => Some(FileKind::Dockerfile),
        "dockercompose" | "docker-compose" | "yaml.docker-compose" | "compose" => {
            Some(FileKind::Compose)
        }
        _ => None,
    };
    match discover::classify_name(path) {
        Some(NameMatch::Known(k)) => Some(k),
        Some(NameMatch::Probable(k)) if discover::content_agrees(k, text) => Some(k),
        // a template (`Dockerfile.j2`): its markers are not Docker's syntax (`check` skips it
        // unless asked to mask them)
        Some(NameMatch::Template(_)) => None,
        // a name the content disagrees with: the editor's word, as `check --kind` would
        Some(NameMatch::Probable(_)) => by_language,
        // a name Docker tooling does not read (`common.yml`, pulled in by `extends`): checked
        // in the projects that use it, as `check` does, unless the editor says what it is
        None => by_language,
    }
}

/// The default Compose files in the directory of `path` and up to [`COMPOSE_SEARCH_DEPTH`]
/// directories above it, inside `boundary`.
fn compose_files_above(path: &Path, boundary: &Boundary) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Some(dir) = path.parent() else {
        return out;
    };
    for d in dir.ancestors().take(COMPOSE_SEARCH_DEPTH + 1) {
        if !boundary.contains_lexically(d) {
            break;
        }
        out.extend(
            (COMPOSE_NAMES.iter())
                .map(|n| d.join(n))
                .filter(|p| fsread::is_file(p)),
        );
    }
    out
}

/// The builds of the Compose file on disk at `path` (read inside the boundary around it).
fn disk_builds(path: &Path, cli: &CliOverrides) -> Vec<(PathBuf, BuiltBy)> {
    let Ok(config) = config_for(path, cli) else {
        return Vec::new();
    };
    let boundary = Arc::new(Boundary::around(path).allowing(config.allow_outside.iter()));
    let Ok(file) = crate::workspace::read_found(path, Some(&boundary)) else {
        return Vec::new();
    };
    if !discover::content_agrees(FileKind::Compose, &file.text) {
        return Vec::new();
    }
    let opts = options(&config, &boundary);
    linter::lint_file_with(file.into_ref(), FileKind::Compose, &opts).built
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_as_check_decides_them() {
        let df = Some(FileKind::Dockerfile);
        let compose = Some(FileKind::Compose);
        let services = "services:\n  a:\n    image: x\n";
        let cases: [(&str, &str, &str, Option<FileKind>); 9] = [
            ("Dockerfile", "plaintext", "anything", df),
            ("api.Dockerfile", "", "", df),
            ("compose.yaml", "yaml", "", compose),
            ("docker-compose-dev.yml", "yaml", services, compose),
            // the name only suggests it and the content disagrees: the editor's word
            ("docker-compose-dev.yml", "yaml", "a: 1\n", None),
            ("docker-compose-dev.yml", "dockercompose", "a: 1\n", compose),
            ("Dockerfile.j2", "dockerfile", "FROM {{ base }}\n", None),
            ("deploy.yaml", "yaml", services, None),
            ("notes.txt", "yaml.docker-compose", "", compose),
        ];
        for (name, language, text, want) in cases {
            assert_eq!(
                kind_of(Path::new(name), language, text),
                want,
                "{name} {language}"
            );
        }
    }
}
