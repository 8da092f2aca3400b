//! Build contexts: `.dockerignore` matching (BuildKit/moby `patternmatcher` semantics) and the
//! tarball sent to the Engine API's `/build`.

use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobMatcher};

/// One `.dockerignore` line.
#[derive(Debug, Clone)]
struct Pattern {
    matcher: GlobMatcher,
    negated: bool,
}

/// Parsed `.dockerignore` patterns. Semantics (as the Docker CLI and BuildKit):
/// lines are trimmed, `#` starts a comment line, a leading `!` negates, patterns are cleaned
/// (`./a/../b` → `b`, leading `/` dropped) and matched against slash-separated paths relative to
/// the context root with Go `filepath.Match` rules plus `**`; a pattern that matches a parent
/// directory matches everything below it; the last matching pattern wins.
#[derive(Debug, Clone, Default)]
pub struct DockerIgnore {
    patterns: Vec<Pattern>,
}

impl DockerIgnore {
    /// Parses `.dockerignore` text. Invalid patterns are reported as `Err(line)`.
    pub fn parse(text: &str) -> Result<DockerIgnore, String> {
        let mut patterns = Vec::new();
        for line in text.lines() {
            let mut p = line.trim();
            if p.is_empty() || p.starts_with('#') {
                continue;
            }
            let negated = if let Some(rest) = p.strip_prefix('!') {
                p = rest.trim();
                true
            } else {
                false
            };
            let cleaned = clean(p);
            if cleaned.is_empty() || cleaned == "." {
                continue;
            }
            let glob = GlobBuilder::new(&cleaned)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
                .map_err(|e| format!("invalid .dockerignore pattern `{line}`: {e}"))?;
            patterns.push(Pattern {
                matcher: glob.compile_matcher(),
                negated,
            });
        }
        Ok(DockerIgnore { patterns })
    }

    /// Whether `rel` (slash-separated, relative to the context root) is excluded.
    pub fn is_excluded(&self, rel: &str) -> bool {
        let mut excluded = false;
        let parents = parents(rel);
        for p in &self.patterns {
            let hit = p.matcher.is_match(rel) || parents.iter().any(|d| p.matcher.is_match(d));
            if hit {
                excluded = !p.negated;
            }
        }
        excluded
    }

    /// Whether any pattern re-includes something, so excluded directories must still be walked.
    pub fn has_negations(&self) -> bool {
        self.patterns.iter().any(|p| p.negated)
    }
}

/// The proper ancestors of a relative path: `a/b/c` → `a`, `a/b`.
fn parents(rel: &str) -> Vec<&str> {
    rel.match_indices('/').map(|(i, _)| &rel[..i]).collect()
}

/// Go `filepath.Clean` on a slash path, then the leading `/` dropped.
fn clean(p: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    out.join("/")
}

/// The files of a build context after `.dockerignore`, as slash-separated relative paths
/// (sorted). `keep` (the Dockerfile and `.dockerignore`) are always sent, as Docker does.
pub fn context_files(
    root: &Path,
    ignore: &DockerIgnore,
    keep: &[String],
) -> std::io::Result<Vec<String>> {
    let mut out = Vec::new();
    walk(root, String::new(), ignore, keep, &mut out)?;
    out.sort();
    Ok(out)
}

fn walk(
    dir: &Path,
    prefix: String,
    ignore: &DockerIgnore,
    keep: &[String],
    out: &mut Vec<String>,
) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let ft = e.file_type()?;
        let excluded = ignore.is_excluded(&rel) && !keep.contains(&rel);
        if ft.is_dir() {
            if excluded && !ignore.has_negations() {
                continue;
            }
            if !excluded {
                out.push(format!("{rel}/"));
            }
            walk(&e.path(), rel, ignore, keep, out)?;
        } else if !excluded {
            out.push(rel);
        }
    }
    Ok(())
}

/// Tars a build context (honouring `.dockerignore` at its root). `dockerfile` is the
/// Dockerfile's path relative to the root.
pub fn tar_context(root: &Path, dockerfile: &str) -> std::io::Result<Vec<u8>> {
    // The bounded reader, within the context's project boundary.
    let boundary = crate::fsread::Boundary::around(root);
    let ignore = match crate::fsread::read(&root.join(".dockerignore"), Some(&boundary)) {
        Ok(text) => DockerIgnore::parse(&text.text)
            .map_err(|m| std::io::Error::new(std::io::ErrorKind::InvalidData, m))?,
        Err(crate::fsread::ReadError::NotFound) => DockerIgnore::default(),
        Err(e) => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(".dockerignore {}; it was not read", e.describe()),
            ));
        }
    };
    let keep = vec![clean(dockerfile), ".dockerignore".to_string()];
    let files = context_files(root, &ignore, &keep)?;
    let mut builder = tar::Builder::new(Vec::new());
    builder.follow_symlinks(false);
    builder.mode(tar::HeaderMode::Deterministic);
    for rel in files {
        let (rel, is_dir) = match rel.strip_suffix('/') {
            Some(d) => (d.to_string(), true),
            None => (rel, false),
        };
        let path: PathBuf = root.join(&rel);
        if is_dir {
            builder.append_dir(&rel, &path)?;
        } else {
            builder.append_path_with_name(&path, &rel)?;
        }
    }
    builder.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ig(text: &str) -> DockerIgnore {
        DockerIgnore::parse(text).unwrap_or_default()
    }

    #[test]
    fn basic_patterns() {
        let i = ig("# comment\n*.log\n/build\nsecret.txt\n");
        assert!(i.is_excluded("a.log"));
        assert!(!i.is_excluded("dir/a.log"), "`*` does not cross `/`");
        assert!(i.is_excluded("build"));
        assert!(
            i.is_excluded("build/out/x"),
            "a matched directory excludes its contents"
        );
        assert!(i.is_excluded("secret.txt"));
        assert!(!i.is_excluded("src/main.rs"));
    }

    #[test]
    fn double_star_and_negation() {
        let i = ig("**/*.pyc\nnode_modules\n*.md\n!README.md\n");
        assert!(i.is_excluded("a/b/c.pyc"));
        assert!(i.is_excluded("c.pyc"));
        assert!(i.is_excluded("node_modules/x/y.js"));
        assert!(i.is_excluded("CHANGES.md"));
        assert!(!i.is_excluded("README.md"));
    }

    #[test]
    fn last_match_wins_and_cleaning() {
        let i = ig("!keep.txt\n*.txt\n./docs/../tmp/\n");
        assert!(
            i.is_excluded("keep.txt"),
            "a later exclusion wins over an earlier negation"
        );
        assert!(i.is_excluded("tmp/x"));
        let j = ig("data\n!data/keep\n");
        assert!(j.is_excluded("data/drop"));
        assert!(!j.is_excluded("data/keep"));
        assert!(j.has_negations());
    }

    #[test]
    fn context_walk_keeps_the_dockerfile() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("Dockerfile"), "FROM scratch\n").unwrap();
        std::fs::write(root.join(".dockerignore"), "*\n!app\n").unwrap();
        std::fs::create_dir(root.join("app")).unwrap();
        std::fs::write(root.join("app/main.sh"), "echo hi\n").unwrap();
        std::fs::write(root.join("secret.txt"), "s3cret\n").unwrap();
        let ignore = DockerIgnore::parse("*\n!app\n").unwrap();
        let files = context_files(
            root,
            &ignore,
            &["Dockerfile".to_string(), ".dockerignore".to_string()],
        )
        .unwrap();
        assert_eq!(
            files,
            [".dockerignore", "Dockerfile", "app/", "app/main.sh"]
        );
        let tar = tar_context(root, "Dockerfile").unwrap();
        let mut archive = tar::Archive::new(tar.as_slice());
        let names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.contains("secret")), "{names:?}");
        assert!(names.iter().any(|n| n == "app/main.sh"), "{names:?}");
    }
}
