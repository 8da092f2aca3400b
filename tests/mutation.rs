//! Robustness: every fixture, cut short at every character and mutated at random (seeded, so a
//! failure reproduces), goes through the linter and the renderers (the full one for every prefix,
//! full and JSON for the mutations, every format for a tenth of them) without a panic, and every
//! finding's span stays inside its file on a character boundary. A multi-file project (override
//! file, `extends`, `include` with its own `.env`, a built Dockerfile) is mutated one file at a
//! time and checked from disk, through the cross-file paths.
//!
//! The corpus tests prove real files parse; this proves half-typed and damaged ones do too (what
//! a pre-commit hook or an editor sees). A panic inside the YAML crate is caught by the loader
//! and reported as "the YAML parser failed"; that message counts as a failure here, so such a
//! case gets a proper workaround instead of a vague finding.
//!
//! Dig deeper with `SANDLINT_MUTATION_ROUNDS=2000 SANDLINT_MUTATION_SEED=7 cargo test --release
//! --test mutation` (defaults: 60 rounds per fixture, a fixed seed), and over other files with
//! `SANDLINT_MUTATION_DIR=../shared/corpus`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code"
)]

mod common;

use std::path::{Path, PathBuf};

use sandlint::discover;
use sandlint::discover::FileKind;
use sandlint::linter::{self, Selection};
use sandlint::report::OutputFormat;
use sandlint::source::SourceFile;

use common::{Rng, SPECIAL, env_u64, invariants, panic_message};

fn fixtures() -> Vec<(PathBuf, FileKind, String)> {
    let root = std::env::var_os("SANDLINT_MUTATION_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"),
        PathBuf::from,
    );
    let mut files = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let kind = discover::kind_from_name(&path).or_else(|| {
                let yaml = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
                (yaml && !path.to_string_lossy().contains("pre-commit"))
                    .then_some(FileKind::Compose)
            });
            if let Some(kind) = kind {
                files.push((path, kind, text));
            }
        }
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(files.len() > 100, "only {} fixtures found", files.len());
    files
}

fn char_boundary_floor(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Lints `text` as `kind` and renders the result in `formats`; returns a description of what
/// went wrong (see `common::invariants`).
fn check(kind: FileKind, name: &str, text: &str, formats: &[OutputFormat]) -> Result<(), String> {
    let outcome = std::panic::catch_unwind(|| {
        let file = SourceFile::virtual_file(name, text).into_ref();
        let result = linter::lint_file(file, kind, &Selection::all());
        invariants::check_result(&result, formats)
    });
    outcome.unwrap_or_else(|p| Err(format!("panic: {}", panic_message(p.as_ref()))))
}

fn report(failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{} failing input(s); the first ones:\n{}",
        failures.len(),
        failures
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n")
    );
}

#[test]
fn every_prefix_of_every_fixture() {
    let mut failures = Vec::new();
    let mut cases = 0;
    for (path, kind, text) in fixtures() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        for (i, _) in text.char_indices().chain([(text.len(), ' ')]) {
            cases += 1;
            if let Err(e) = check(kind, &name, &text[..i], &[OutputFormat::Full]) {
                failures.push(format!(
                    "{} cut at byte {i}: {e}\n--- input ---\n{}",
                    path.display(),
                    &text[..i]
                ));
            }
        }
    }
    assert!(cases > 10_000, "only {cases} cases");
    report(&failures);
}

#[test]
fn random_mutations_of_every_fixture() {
    let mut failures = Vec::new();
    let rounds = env_u64("SANDLINT_MUTATION_ROUNDS").unwrap_or(60);
    let mut rng = Rng::new(env_u64("SANDLINT_MUTATION_SEED").unwrap_or(0x5A4D_11E7_2026_1129));
    for (path, kind, text) in fixtures() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        for round in 0..rounds {
            let mut t = text.clone();
            for _ in 0..=rng.below(4) {
                let at = char_boundary_floor(&t, rng.below(t.len() + 1));
                match rng.below(4) {
                    // insert a special sequence
                    0 | 1 => t.insert_str(at, SPECIAL[rng.below(SPECIAL.len())]),
                    // delete a short run
                    2 => {
                        let end = char_boundary_floor(&t, (at + 1 + rng.below(8)).min(t.len()));
                        t.replace_range(at..end.max(at), "");
                    }
                    // duplicate a line-sized slice (repeats keys, instructions, heredocs)
                    _ => {
                        let end = char_boundary_floor(&t, (at + rng.below(80)).min(t.len()));
                        let slice = t[at..end.max(at)].to_string();
                        t.insert_str(at, &slice);
                    }
                }
            }
            // every format for a tenth of the rounds (SARIF and the XML ones are slow to build)
            let formats = if round % 10 == 0 {
                &invariants::ALL_FORMATS[..]
            } else {
                &[OutputFormat::Full, OutputFormat::Json][..]
            };
            if let Err(e) = check(kind, &name, &t, formats) {
                failures.push(format!(
                    "{} round {round}: {e}\n--- input ---\n{t}",
                    path.display()
                ));
            }
        }
    }
    report(&failures);
}

/// A project whose Compose file pulls in an override file, `extends` (same and other file),
/// `include` (with its own `.env`) and a Dockerfile it builds: the cross-file paths.
const PROJECT: &[(&str, &str)] = &[
    (
        "compose.yaml",
        "include:\n  - inc/compose.yaml\nx-common: &common\n  read_only: true\n  cap_drop: [ALL]\nservices:\n  app:\n    <<: *common\n    extends:\n      file: base.yaml\n      service: base\n    build:\n      context: .\n      target: final\n    environment:\n      TOKEN: ${TOKEN:-x}\n  worker:\n    extends: app\n    user: \"${UID}:${GID}\"\n",
    ),
    (
        "compose.override.yaml",
        "services:\n  app:\n    ports: !override [\"127.0.0.1:8080:80\"]\n    cap_add: [NET_BIND_SERVICE]\n    volumes: !reset []\n",
    ),
    (
        "base.yaml",
        "services:\n  base:\n    image: example/base:1.2\n    volumes:\n      - ./data:/data:ro\n      - /var/run/docker.sock:/var/run/docker.sock\n    security_opt: [\"no-new-privileges:true\"]\n",
    ),
    (".env", "UID=1000\nGID=1000\nTOKEN=abc\n"),
    (
        "inc/compose.yaml",
        "services:\n  db:\n    image: ${DB_IMAGE}\n    environment:\n      - POSTGRES_PASSWORD=${DB_PASSWORD}\n",
    ),
    ("inc/.env", "DB_IMAGE=postgres:16\nDB_PASSWORD=hunter2\n"),
    (
        "Dockerfile",
        "# syntax=docker/dockerfile:1\nFROM alpine:3.20 AS build\nRUN <<EOF\nset -e\napk add --no-cache curl\nEOF\nFROM build AS final\nCOPY --chown=10001 . /app\nUSER 10001\nHEALTHCHECK CMD [\"true\"]\n",
    ),
];

#[test]
fn random_mutations_of_a_multi_file_project() {
    let mut rng = Rng::new(0x0BAD_CAFE_2026_1129);
    let mut failures = Vec::new();
    for round in 0..150 {
        let dir = tempfile::tempdir().unwrap();
        let pick = rng.below(PROJECT.len());
        let mut mutated = String::new();
        for (i, (name, text)) in PROJECT.iter().enumerate() {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            let mut t = (*text).to_string();
            if i == pick {
                for _ in 0..=rng.below(3) {
                    let at = char_boundary_floor(&t, rng.below(t.len() + 1));
                    t.insert_str(at, SPECIAL[rng.below(SPECIAL.len())]);
                }
                mutated = format!("{name}:\n{t}");
            }
            std::fs::write(&path, t).unwrap();
        }
        let outcome = std::panic::catch_unwind(|| {
            let (results, all) = common::lint_dir(dir.path(), &Selection::all());
            common::render(&results, &all)
        });
        if let Err(p) = outcome {
            let msg = panic_message(p.as_ref());
            failures.push(format!("round {round}: panic: {msg}\n--- {mutated}"));
        }
    }
    report(&failures);
}
