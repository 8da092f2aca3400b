//! Parses every Dockerfile of the shared corpus (`../shared/corpus/MANIFEST.tsv`): no panic, and
//! a report of how many files parse cleanly. `SANDLINT_CORPUS_ERRORS=1` lists the first error of
//! each failing file.

#![allow(
    clippy::print_stderr,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: reports counts and skips on stderr, fails loudly"
)]

use std::time::{Duration, Instant};

mod common;

#[test]
fn corpus_dockerfiles_parse_without_panic() {
    let Some(files) = common::corpus_files("dockerfile") else {
        return;
    };
    let list = std::env::var("SANDLINT_CORPUS_ERRORS").as_deref() == Ok("1");
    let (mut clean, mut with_errors, mut bytes) = (0usize, 0usize, 0usize);
    let mut parse_time = Duration::ZERO;
    for file in files {
        let raw = std::fs::read(&file).unwrap();
        let src = String::from_utf8_lossy(&raw);
        bytes += src.len();
        let t = Instant::now();
        let df = sandlint::dockerfile::parse(&src);
        parse_time += t.elapsed();
        if df.errors.is_empty() {
            clean += 1;
        } else {
            with_errors += 1;
            if list {
                let e = &df.errors[0];
                let line_no = src[..(e.span.start as usize).min(src.len())]
                    .matches('\n')
                    .count()
                    + 1;
                eprintln!("{}:{line_no}: {}", file.display(), e.message);
            }
        }
    }
    eprintln!(
        "corpus: {} Dockerfiles, {clean} without errors, {with_errors} with errors; {} KiB parsed in {parse_time:?}",
        clean + with_errors,
        bytes / 1024
    );
    assert!(clean + with_errors > 0, "no Dockerfile read");
}
