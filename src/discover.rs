//! Finding the files to check: a parallel, gitignore-aware walk, and file kinds by name or content.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::linter::FileKind;

/// A file to check.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Candidate {
    pub path: PathBuf,
    /// `None`: named explicitly, with a name that does not tell its kind (decided from content).
    pub kind: Option<FileKind>,
    /// Named on the command line (always checked, never excluded).
    pub explicit: bool,
}

/// A path that could not be walked or does not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkError {
    pub path: PathBuf,
    pub message: String,
}

/// The kind of a file from its name alone (case-insensitive).
///
/// Dockerfiles: `Dockerfile`, `Containerfile`, `*.Dockerfile`, `*.containerfile`, `Dockerfile.*`,
/// `Containerfile.*`. Compose: `compose.y(a)ml`, `docker-compose.y(a)ml`, `compose.*.y(a)ml`,
/// `docker-compose.*.y(a)ml`.
pub fn kind_from_name(path: &Path) -> Option<FileKind> {
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    for base in ["dockerfile", "containerfile"] {
        if name == base
            || name
                .strip_suffix(base)
                .is_some_and(|p| p.ends_with('.') && p.len() > 1)
            || name
                .strip_prefix(base)
                .is_some_and(|s| s.starts_with('.') && s.len() > 1)
        {
            return Some(FileKind::Dockerfile);
        }
    }
    let stem = name
        .strip_suffix(".yaml")
        .or_else(|| name.strip_suffix(".yml"))?;
    for base in ["compose", "docker-compose"] {
        if stem == base
            || stem
                .strip_prefix(base)
                .is_some_and(|s| s.starts_with('.') && s.len() > 1)
        {
            return Some(FileKind::Compose);
        }
    }
    None
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
    if text
        .lines()
        .any(|l| l.starts_with("services:") || l.starts_with("include:"))
    {
        return Some(FileKind::Compose);
    }
    let word = first_instruction?
        .split_whitespace()
        .next()?
        .to_ascii_uppercase();
    matches!(word.as_str(), "FROM" | "ARG").then_some(FileKind::Dockerfile)
}

/// Walks `paths` in parallel. Directories are walked honouring ignore files unless `no_ignore`;
/// files named explicitly are always returned. The result is sorted and has no duplicates.
pub fn discover(paths: &[PathBuf], no_ignore: bool) -> (Vec<Candidate>, Vec<WalkError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    let mut dirs = Vec::new();
    for path in paths {
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => dirs.push(path.clone()),
            Ok(_) => files.push(Candidate {
                path: path.clone(),
                kind: kind_from_name(path),
                explicit: true,
            }),
            Err(e) => errors.push(WalkError {
                path: path.clone(),
                message: io_message(&e),
            }),
        }
    }
    if let Some((first, rest)) = dirs.split_first() {
        let mut builder = ignore::WalkBuilder::new(first);
        for d in rest {
            builder.add(d);
        }
        builder
            .standard_filters(!no_ignore)
            .hidden(false)
            .follow_links(false)
            .require_git(false)
            .filter_entry(|e| e.file_name() != ".git");
        let found = Mutex::new(Vec::new());
        let failed = Mutex::new(Vec::new());
        builder.build_parallel().run(|| {
            Box::new(|entry| {
                match entry {
                    Ok(entry) => {
                        if entry.file_type().is_some_and(|t| t.is_file())
                            && let Some(kind) = kind_from_name(entry.path())
                            && let Ok(mut f) = found.lock()
                        {
                            f.push(Candidate {
                                path: entry.into_path(),
                                kind: Some(kind),
                                explicit: false,
                            });
                        }
                    }
                    Err(err) => {
                        if let Ok(mut f) = failed.lock() {
                            f.push(walk_error(&err));
                        }
                    }
                }
                ignore::WalkState::Continue
            })
        });
        files.extend(found.into_inner().unwrap_or_default());
        errors.extend(failed.into_inner().unwrap_or_default());
    }
    files.sort();
    // An explicitly named file sorts before the same path found by walking: keep the explicit one.
    files.dedup_by(|later, earlier| later.path == earlier.path);
    errors.sort_by(|a, b| a.path.cmp(&b.path));
    (files, errors)
}

fn walk_error(err: &ignore::Error) -> WalkError {
    let path = match err {
        ignore::Error::WithPath { path, .. } => path.clone(),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            return walk_error(err);
        }
        _ => PathBuf::new(),
    };
    let message = match err {
        ignore::Error::WithPath { err, .. } => match err.as_ref() {
            ignore::Error::Io(e) => io_message(e),
            other => other.to_string(),
        },
        ignore::Error::Io(e) => io_message(e),
        other => other.to_string(),
    };
    WalkError { path, message }
}

/// A short, lowercase description of an I/O error.
pub fn io_message(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => {
            let s = e.to_string();
            // "Is a directory (os error 21)" -> "is a directory (os error 21)"
            let mut c = s.chars();
            c.next()
                .map(|f| f.to_lowercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let d = Some(FileKind::Dockerfile);
        let c = Some(FileKind::Compose);
        for (name, want) in [
            ("Dockerfile", d),
            ("dockerfile", d),
            ("Containerfile", d),
            ("api.Dockerfile", d),
            ("api.dockerfile", d),
            ("x.containerfile", d),
            ("Dockerfile.prod", d),
            ("Containerfile.dev", d),
            ("compose.yaml", c),
            ("compose.yml", c),
            ("docker-compose.yml", c),
            ("docker-compose.prod.yaml", c),
            ("compose.override.yml", c),
            ("COMPOSE.YAML", c),
            (".Dockerfile", None),
            ("Dockerfile.", None),
            ("Dockerfiles", None),
            ("mydockerfile", None),
            ("compose.json", None),
            ("xcompose.yml", None),
            ("docker-compose-dev.yml", None),
        ] {
            assert_eq!(kind_from_name(Path::new(name)), want, "{name}");
        }
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
    }
}
