//! Loads every Compose file of the shared corpus (`../shared/corpus/MANIFEST.tsv`): no panic, and
//! a report of how many files load cleanly. `SANDLINT_CORPUS_ERRORS=1` lists every error.
//! The corpus is third-party and read at test time only.

#![allow(
    clippy::print_stderr,
    reason = "the test reports its counts and skips on stderr"
)]

use std::time::{Duration, Instant};

use sandlint::compose;

mod common;

#[test]
fn corpus_compose_files_load_without_panic() {
    let Some(files) = common::corpus_files("compose") else {
        return;
    };
    let list = std::env::var("SANDLINT_CORPUS_ERRORS").as_deref() == Ok("1");
    let (mut clean, mut with_errors, mut bytes, mut services) = (0usize, 0usize, 0usize, 0usize);
    let mut load_time = Duration::ZERO;
    for file in files {
        let raw = std::fs::read(&file).unwrap();
        let src = String::from_utf8_lossy(&raw);
        let vars = file
            .parent()
            .and_then(|d| std::fs::read_to_string(d.join(".env")).ok())
            .map(|t| compose::parse_dotenv(&t))
            .unwrap_or_default();
        bytes += src.len();
        let t = Instant::now();
        let loaded = compose::load(&src, &vars);
        load_time += t.elapsed();
        services += loaded.services.len();
        if loaded.errors.is_empty() {
            clean += 1;
        } else {
            with_errors += 1;
            if list {
                for e in &loaded.errors {
                    let line_no = src[..(e.span.start as usize).min(src.len())]
                        .matches('\n')
                        .count()
                        + 1;
                    eprintln!("{}:{line_no}: {}", file.display(), e.message);
                }
            }
        }
    }
    eprintln!(
        "corpus: {} Compose files, {clean} without errors, {with_errors} with errors; {services} services; {} KiB loaded in {load_time:?}",
        clean + with_errors,
        bytes / 1024
    );
    assert!(clean + with_errors > 0, "no Compose file read");
}

/// The files-only pass ([`compose::project::files`], what a check that runs no Compose rule
/// counts) numbers the same files as a full load, for every Compose file of the corpus with its
/// default override file, and for two files of one directory in a row (the per-thread cache of
/// recent parses is used across projects).
#[test]
fn corpus_projects_list_the_same_files_without_building_the_model() {
    let Some(files) = common::corpus_files("compose") else {
        return;
    };
    let (mut pulling, mut compared) = (0usize, 0usize);
    for file in &files {
        let boundary = sandlint::fsread::Boundary::around(file);
        let Ok(src) = sandlint::workspace::read_found(file, Some(&boundary)) else {
            continue;
        };
        let src = src.into_ref();
        let (inputs, _) = sandlint::workspace::compose_inputs(&src, None, &boundary);
        pulling += usize::from(
            inputs
                .iter()
                .any(|f| compose::project::may_pull_in(&f.text)),
        );
        let vars = compose::Vars::new();
        let read = |p: &std::path::Path| {
            sandlint::workspace::read_found(p, Some(&boundary)).map(|f| f.into_ref())
        };
        let paths = |fs: &[sandlint::source::FileRef]| -> Vec<std::path::PathBuf> {
            fs.iter().map(|f| f.path.clone()).collect()
        };
        let full = compose::project::load(&inputs, &vars, &read).files;
        for _ in 0..2 {
            let only = compose::project::files(&inputs, &vars, &read);
            assert_eq!(paths(&only), paths(&full), "{}", file.display());
        }
        compared += 1;
    }
    eprintln!("corpus: {compared} Compose projects compared, {pulling} may pull in other files");
    assert!(pulling > 50, "the corpus has projects with include/extends");
}
