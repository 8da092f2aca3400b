//! Per file: parse, join Compose services to the Dockerfiles they build, run the selected rules, sort.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::compose::{self, model::Value};
use crate::diagnostic::Diagnostic;
use crate::dockerfile;
use crate::rules::{self, BuiltImage, Ctx, Rule};
use crate::source::{FileRef, SourceFile, display_path};

/// What kind of file a path holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    Dockerfile,
    Compose,
}

impl FileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Dockerfile => "dockerfile",
            FileKind::Compose => "compose",
        }
    }
}

/// Which rules run, and at which severity.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Codes of rules that run; `None` = every rule.
    pub only: Option<Vec<&'static str>>,
    /// Codes of rules that do not run.
    pub ignore: Vec<&'static str>,
}

impl Selection {
    /// Every rule.
    pub fn all() -> Self {
        Self::default()
    }

    /// Only the rule with this code or name (tests, doc examples).
    pub fn only(name_or_code: &str) -> Self {
        Self {
            only: Some(rules::find(name_or_code).map(|r| r.meta().code).into_iter().collect()),
            ignore: Vec::new(),
        }
    }

    pub fn is_enabled(&self, rule: &dyn Rule) -> bool {
        let code = rule.meta().code;
        self.only.as_ref().is_none_or(|o| o.contains(&code)) && !self.ignore.contains(&code)
    }
}

/// The outcome of checking one file.
#[derive(Debug)]
pub struct FileResult {
    pub file: FileRef,
    pub kind: FileKind,
    pub diagnostics: Vec<Diagnostic>,
}

/// Checks a file already in memory. `file.path` is used to find the Compose project directory
/// (`.env`, build contexts); a virtual file's directory is `.`.
pub fn lint_file(file: FileRef, kind: FileKind, selection: &Selection) -> FileResult {
    let mut diagnostics = Vec::new();
    let no_builds = HashMap::new();
    match kind {
        FileKind::Dockerfile => {
            let df = dockerfile::parse(&file.text);
            for rule in rules::all().filter(|r| selection.is_enabled(*r)) {
                let mut cx = Ctx::new(rule.meta(), &file, &no_builds, &mut diagnostics);
                rule.check_dockerfile(&mut cx, &df);
            }
        }
        FileKind::Compose => {
            let dir = file.dir().to_path_buf();
            let vars = read_dotenv(&dir);
            let compose = compose::load(&file.text, &vars);
            let builds = resolve_builds(&dir, &compose);
            for rule in rules::all().filter(|r| selection.is_enabled(*r)) {
                let mut cx = Ctx::new(rule.meta(), &file, &builds, &mut diagnostics);
                rule.check_compose(&mut cx, &compose);
            }
        }
    }
    sort(&mut diagnostics);
    FileResult {
        file,
        kind,
        diagnostics,
    }
}

/// Checks text that is not on disk (doc examples, tests).
pub fn lint_text(kind: FileKind, name: &str, text: &str, selection: &Selection) -> Vec<Diagnostic> {
    let file = SourceFile::virtual_file(name, text).into_ref();
    lint_file(file, kind, selection).diagnostics
}

/// Sorts findings by path, position and code, and drops exact duplicates.
pub fn sort(diagnostics: &mut Vec<Diagnostic>) {
    diagnostics.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()).then_with(|| a.message.cmp(&b.message)));
    diagnostics.dedup_by(|a, b| a.sort_key() == b.sort_key() && a.message == b.message);
}

fn read_dotenv(dir: &Path) -> compose::Vars {
    match std::fs::read_to_string(dir.join(".env")) {
        Ok(text) => compose::parse_dotenv(&text),
        Err(_) => compose::Vars::new(),
    }
}

/// For each service with a local `build`, the Dockerfile it builds, parsed.
fn resolve_builds(dir: &Path, compose: &compose::model::ComposeFile) -> HashMap<String, BuiltImage> {
    let mut builds = HashMap::new();
    let mut cache: HashMap<PathBuf, Option<FileRef>> = HashMap::new();
    for service in &compose.services {
        let Some(build) = &service.build else { continue };
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
        let context_dir = dir.join(&context);
        let path = if Path::new(&dockerfile).is_absolute() {
            PathBuf::from(&dockerfile)
        } else {
            context_dir.join(&dockerfile)
        };
        let path = normalize(&path);
        let file = cache
            .entry(path.clone())
            .or_insert_with(|| {
                std::fs::read_to_string(&path)
                    .ok()
                    .map(|text| SourceFile::new(path.clone(), display_path(&path), text).into_ref())
            })
            .clone();
        let Some(file) = file else { continue };
        let target = build.target.as_ref().and_then(|t| t.value.known().map(str::to_string));
        builds.insert(
            service.name.value.clone(),
            BuiltImage {
                dockerfile: dockerfile::parse(&file.text),
                file,
                target,
            },
        );
    }
    builds
}

/// Removes `.` and resolvable `..` components without touching the filesystem.
pub fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                let last_is_normal = matches!(out.components().next_back(), Some(Component::Normal(_)));
                if last_is_normal {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}
