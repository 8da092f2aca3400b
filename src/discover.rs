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
    /// The path named on the command line that it was found under (the file itself when named
    /// explicitly): its project boundary is the boundary of the check of this file.
    pub root: PathBuf,
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
///
/// Files with a Dockerfile or Compose name that are not regular files are returned too (the
/// reader refuses them with a finding, never silently): symbolic links (one to a file found
/// by the walk anyway is dropped, so a file is checked once), FIFOs, devices. Symbolic links to
/// directories are not entered. A directory whose ignore file (`.gitignore`, `.ignore`,
/// `.git/info/exclude`) is not a regular file within the project and the size cap is not
/// walked (an error), since the walker would otherwise block on it or read it unbounded.
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
                root: path.clone(),
            }),
            Err(e) => errors.push(WalkError {
                path: path.clone(),
                message: io_message(&e),
            }),
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
    let failed = std::sync::Arc::new(Mutex::new(Vec::new()));
    if let Some((first, rest)) = dirs.split_first() {
        let mut builder = ignore::WalkBuilder::new(first);
        for d in rest {
            builder.add(d);
        }
        let refused = failed.clone();
        builder
            .standard_filters(!no_ignore)
            .hidden(false)
            .follow_links(false)
            .require_git(false)
            .filter_entry(move |e| {
                if e.file_name() == ".git" {
                    return false;
                }
                if !no_ignore
                    && e.depth() > 0
                    && e.file_type().is_some_and(|t| t.is_dir())
                    && let Some(err) = unsafe_ignore_files(e.path(), false)
                {
                    if let Ok(mut f) = refused.lock() {
                        f.push(err);
                    }
                    return false;
                }
                true
            });
        let found = Mutex::new(Vec::new());
        let roots = dirs.clone();
        builder.build_parallel().run(|| {
            Box::new(|entry| {
                match entry {
                    Ok(entry) => {
                        let file_type = entry.file_type();
                        if file_type.is_some_and(|t| !t.is_dir())
                            && entry.depth() > 0
                            && let Some(kind) = kind_from_name(entry.path())
                            && let Ok(mut f) = found.lock()
                        {
                            let root = roots
                                .iter()
                                .filter(|r| entry.path().starts_with(r))
                                .max_by_key(|r| r.as_os_str().len())
                                .cloned()
                                .unwrap_or_default();
                            f.push((
                                Candidate {
                                    path: entry.into_path(),
                                    kind: Some(kind),
                                    explicit: false,
                                    root,
                                },
                                file_type.is_some_and(|t| t.is_symlink()),
                            ));
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
        let found = found.into_inner().unwrap_or_default();
        files.extend(without_duplicate_links(found));
    }
    if let Ok(mut f) = failed.lock() {
        errors.append(&mut f);
    }
    files.sort();
    // An explicitly named file sorts before the same path found by walking: keep the explicit one.
    files.dedup_by(|later, earlier| later.path == earlier.path);
    errors.sort_by(|a, b| a.path.cmp(&b.path));
    (files, errors)
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
    let boundary = crate::fsread::Boundary::around(dir);
    let abs = crate::fsread::absolute(dir);
    let dirs: Vec<&Path> = if parents {
        let top = crate::fsread::git_root(&abs);
        let mut v = Vec::new();
        for d in abs.ancestors() {
            v.push(d);
            if top.as_deref() == Some(d) {
                break;
            }
        }
        v
    } else {
        vec![dir]
    };
    for d in dirs {
        for name in [".gitignore", ".ignore", ".git/info/exclude"] {
            let p = d.join(name);
            if std::fs::symlink_metadata(&p).is_err() {
                continue;
            }
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
                return Some(WalkError {
                    path: p.clone(),
                    message: format!(
                        "{}; {} was not walked (pass --no-ignore to walk it without ignore files)",
                        e.describe(),
                        crate::source::display_path(dir)
                    ),
                });
            }
        }
    }
    None
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
