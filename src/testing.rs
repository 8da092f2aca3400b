//! Helpers for unit tests of the rules: the engine, reached without the rules importing the
//! linter (rules sit below it).

pub(crate) use crate::discover::FileKind;
pub(crate) use crate::linter::{Selection, lint_file, lint_text};

/// `text` with every fix of the findings `diagnostics` gives applied, in rounds as the engine
/// does (at most 8), and the applicability of each fix applied.
pub(crate) fn fixed_with(
    diagnostics: impl Fn(&str) -> Vec<crate::diagnostic::Diagnostic>,
    text: &str,
) -> (String, Vec<crate::fix::Applicability>) {
    let mut text = text.to_owned();
    let mut classes = Vec::new();
    for _ in 0..8 {
        let diags = diagnostics(&text);
        let fixes: Vec<_> = diags.iter().filter_map(|d| d.fix.as_deref()).collect();
        if fixes.is_empty() {
            break;
        }
        let Ok((next, done)) = crate::fix::apply_round(&text, fixes.iter().copied()) else {
            return (String::from("<overlapping edits>"), classes);
        };
        classes.extend(
            done.iter()
                .filter_map(|&i| fixes.get(i))
                .map(|f| f.applicability),
        );
        text = next;
    }
    (text, classes)
}

/// Every path of one to `depth` segments drawn from `parts`, joined by `/` (relative; an empty
/// part makes an empty segment), for tests that hold a path function to another on all of them.
pub(crate) fn joined_paths(parts: &[&str], depth: usize) -> Vec<String> {
    let mut paths = Vec::new();
    let mut frontier = vec![String::new()];
    for d in 0..depth {
        let mut next = Vec::new();
        for p in &frontier {
            for part in parts {
                next.push(if d == 0 {
                    (*part).to_string()
                } else {
                    format!("{p}/{part}")
                });
            }
        }
        paths.extend(next.iter().cloned());
        frontier = next;
    }
    paths
}

/// Every regular file under the repository's folders `dirs` (symbolic links not followed),
/// sorted: the fixtures that tests run over.
pub(crate) fn repository_files(dirs: &[&str]) -> Vec<std::path::PathBuf> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut stack: Vec<_> = dirs.iter().map(|d| root.join(d)).collect();
    let mut files = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            match entry.file_type() {
                Ok(t) if t.is_dir() => stack.push(entry.path()),
                Ok(t) if t.is_file() => files.push(entry.path()),
                _ => {}
            }
        }
    }
    files.sort();
    files
}
