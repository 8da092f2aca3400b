//! Phase 1 of a batch only joins the Compose projects whose findings it does not keep
//! ([`linter::join_compose`]): what it finds must be what the whole check finds, and its
//! `reach` a bound the check never reports below (the stream orders projects by it). The
//! oracle is the whole check of the same file, over the fixtures and the corpus.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "integration tests"
)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sandlint::discover::FileKind;
use sandlint::fsread::Boundary;
use sandlint::linter::{self, Joined, LintOptions, Selection};
use sandlint::source::{FileRef, SourceFile, display_path};

fn read(path: &Path) -> FileRef {
    let text = std::fs::read_to_string(path).unwrap();
    SourceFile::new(path.to_path_buf(), display_path(path), text).into_ref()
}

fn paths(files: &[FileRef]) -> Vec<PathBuf> {
    files.iter().map(|f| f.path.clone()).collect()
}

fn builds(built: &[(PathBuf, sandlint::rules::BuiltBy)]) -> Vec<(PathBuf, String)> {
    (built.iter())
        .map(|(p, b)| (p.clone(), b.service.clone()))
        .collect()
}

/// What the join says of `file` against the whole check: the same files and builds, and a
/// reach at or below every file the check reports into. Returns whether the join needed no
/// model (the project reads only files beside it).
fn agrees(file: &FileRef, opts: &LintOptions<'_>) -> bool {
    let full = linter::lint_file_with(file.clone(), FileKind::Compose, opts);
    let check = |j: &Joined| {
        let at = &file.display;
        assert_eq!(paths(&j.extra_files), paths(&full.extra_files), "{at}");
        assert_eq!(builds(&j.built), builds(&full.built), "{at}");
        let lowest = full.lowest_shown();
        assert!(
            j.reach.as_str() <= lowest,
            "{at}: the check reports into {lowest}, below the reach {}",
            j.reach
        );
    };
    check(&linter::join_compose(file, opts, true).unwrap());
    let local = linter::join_compose(file, opts, false);
    if let Some(j) = &local {
        check(j);
        assert!(j.built.is_empty(), "{}", file.display);
    }
    local.is_some()
}

fn compose_named(path: &Path) -> bool {
    let name = path.file_name().unwrap().to_string_lossy();
    (name.contains("compose") && (name.ends_with(".yml") || name.ends_with(".yaml")))
        && !name.contains("override")
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(&p, out);
        } else if compose_named(&p) {
            out.push(p);
        }
    }
}

#[test]
fn the_join_agrees_with_the_check_on_the_fixtures() {
    let mut files = Vec::new();
    walk(Path::new("fixtures"), &mut files);
    files.sort();
    let opts = LintOptions::new(Selection::all());
    let (mut local, mut loaded) = (0, 0);
    for path in &files {
        let mut opts = opts.clone();
        // as a check of the fixtures does: the repository is the project
        opts.boundary = Some(Arc::new(Boundary::around(Path::new("."))));
        if agrees(&read(path), &opts) {
            local += 1;
        } else {
            loaded += 1;
        }
    }
    assert!(local > 100 && loaded > 30, "{local} local, {loaded} loaded");
}

#[test]
fn the_join_agrees_with_the_check_on_the_corpus() {
    let Some(files) = common::corpus_files("compose") else {
        return;
    };
    let opts = LintOptions::new(Selection::all());
    let local = files.iter().filter(|p| agrees(&read(p), &opts)).count();
    eprintln!(
        "{local} of {} corpus projects joined without a model",
        files.len()
    );
    assert!(
        local > 500 && files.len() - local > 300,
        "{local} of {}",
        files.len()
    );
}

/// A project whose `env_file` is in a directory that sorts before its own: the check reports
/// the credential there, and the reach says so.
#[test]
fn the_reach_covers_an_env_file_elsewhere() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir_all(dir.join("a")).unwrap();
    std::fs::create_dir_all(dir.join("b")).unwrap();
    std::fs::write(
        dir.join("a/api.env"),
        "API_DB_PASSWORD=fixture-not-a-real-password\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("b/compose.yaml"),
        "services:\n  api:\n    image: \"example/api:2.1\"\n    env_file: ../a/api.env\n",
    )
    .unwrap();
    let mut opts = LintOptions::new(Selection::all());
    opts.boundary = Some(Arc::new(Boundary::around(dir)));
    let file = read(&dir.join("b/compose.yaml"));
    assert!(
        !agrees(&file, &opts),
        "an env_file elsewhere needs the model"
    );
    let j = linter::join_compose(&file, &opts, true).unwrap();
    assert_eq!(j.reach, display_path(&dir.join("a/api.env")));
    let full = linter::lint_file_with(file, FileKind::Compose, &opts);
    assert!(
        (full.diagnostics.iter()).any(|d| d.file.display == j.reach),
        "the check reports into the env file"
    );
}
