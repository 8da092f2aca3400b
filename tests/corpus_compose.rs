//! Loads every Compose file of the shared corpus (`../shared/corpus/MANIFEST.tsv`): no panic, and
//! a report of how many files load cleanly. `SANDLINT_CORPUS_ERRORS=1` lists every error.
//! The corpus is third-party and read at test time only.

#![allow(
    clippy::print_stderr,
    reason = "the test reports its counts and skips on stderr"
)]

use std::path::Path;
use std::time::{Duration, Instant};

use sandlint::compose;

#[test]
fn corpus_compose_files_load_without_panic() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let manifest = corpus.join("MANIFEST.tsv");
    if !manifest.is_file() {
        if std::env::var("SANDLINT_REQUIRE_SHARED").as_deref() == Ok("1") {
            panic!(
                "../shared not found ({}) and SANDLINT_REQUIRE_SHARED=1",
                corpus.display()
            );
        }
        eprintln!(
            "\n!!!!!!!! SKIPPED: ../shared not found ({}) !!!!!!!!\n",
            corpus.display()
        );
        return;
    }
    let list = std::env::var("SANDLINT_CORPUS_ERRORS").as_deref() == Ok("1");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let (mut clean, mut with_errors, mut bytes, mut services) = (0usize, 0usize, 0usize, 0usize);
    let mut load_time = Duration::ZERO;
    for line in text.lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        let [repo, _commit, path, kind, ..] = cols[..] else {
            continue;
        };
        if kind != "compose" {
            continue;
        }
        let file = corpus.join(repo.replace('/', "__")).join(path);
        let Ok(raw) = std::fs::read(&file) else {
            panic!("corpus file listed but missing: {}", file.display());
        };
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
    assert!(
        clean + with_errors > 0,
        "no Compose file in {}",
        manifest.display()
    );
}
