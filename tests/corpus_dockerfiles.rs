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

/// Rounds of fixing one corpus file, as the engine does: at most this many.
const ROUNDS: usize = 8;

/// Every offered fix (safe and unsafe, all rules) applied in rounds to every corpus Dockerfile:
/// the result parses with no new error, the rounds end before the bound, and every rule a fix
/// was applied for fires at least that many times less. Reports files changed and fixes applied
/// per rule (`README.md`, "Autofix: Dockerfiles"); `SANDLINT_CORPUS_FIXED=<dir>` keeps the fixed
/// files there.
#[test]
fn corpus_dockerfiles_fix_cleanly() {
    use sandlint::discover::FileKind;
    use sandlint::linter::{Selection, lint_text};
    use std::collections::BTreeMap;

    let Some(files) = common::corpus_files("dockerfile") else {
        return;
    };
    let count = |diags: &[sandlint::diagnostic::Diagnostic]| {
        let mut by_rule: BTreeMap<&'static str, usize> = BTreeMap::new();
        for d in diags {
            *by_rule.entry(d.rule.name).or_default() += 1;
        }
        by_rule
    };
    // `SANDLINT_CORPUS_FIXED=<dir>` writes each changed file there, for review with `diff`
    let out_dir = std::env::var_os("SANDLINT_CORPUS_FIXED");
    let corpus = files[0]
        .ancestors()
        .find(|p| p.join("MANIFEST.tsv").is_file())
        .unwrap()
        .to_path_buf();
    let mut failures = Vec::new();
    let (mut changed, mut new_errors) = (0usize, 0usize);
    let mut applied: BTreeMap<&'static str, usize> = BTreeMap::new();
    let (mut safe, mut unsafe_) = (0usize, 0usize);
    for file in &files {
        let raw = std::fs::read(file).unwrap();
        let original = String::from_utf8_lossy(&raw).into_owned();
        let errors_before = sandlint::dockerfile::parse(&original).errors.len();
        let mut text = original.clone();
        let mut here: BTreeMap<&'static str, usize> = BTreeMap::new();
        let first = lint_text(FileKind::Dockerfile, "Dockerfile", &text, &Selection::all());
        let before = count(&first);
        let mut diags = first;
        let mut rounds = 0usize;
        loop {
            let fixes: Vec<_> = (diags.iter())
                .filter_map(|d| d.fix.as_deref().map(|f| (d.rule.name, f)))
                .collect();
            if fixes.is_empty() {
                break;
            }
            if rounds == ROUNDS {
                failures.push(format!(
                    "{}: fixes still offered after {ROUNDS} rounds",
                    file.display()
                ));
                break;
            }
            match sandlint::fix::apply_round(&text, fixes.iter().map(|(_, f)| *f)) {
                Ok((next, done)) => {
                    for i in done {
                        *here.entry(fixes[i].0).or_default() += 1;
                        match fixes[i].1.applicability {
                            sandlint::fix::Applicability::Safe => safe += 1,
                            sandlint::fix::Applicability::Unsafe => unsafe_ += 1,
                        }
                    }
                    text = next;
                }
                Err(e) => {
                    failures.push(format!("{}: fixes do not apply: {e:?}", file.display()));
                    break;
                }
            }
            rounds += 1;
            diags = lint_text(FileKind::Dockerfile, "Dockerfile", &text, &Selection::all());
        }
        if text == original {
            continue;
        }
        changed += 1;
        if let Some(dir) = &out_dir {
            let name = file.strip_prefix(&corpus).unwrap_or(file);
            let dest = std::path::Path::new(dir).join(name);
            std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
            std::fs::write(&dest, &text).unwrap();
        }
        let errors_after = sandlint::dockerfile::parse(&text).errors.len();
        if errors_after > errors_before {
            new_errors += errors_after - errors_before;
            failures.push(format!(
                "{}: {errors_before} parse errors before the fixes, {errors_after} after",
                file.display()
            ));
        }
        let after = count(&diags);
        for (rule, n) in &here {
            let (b, a) = (
                before.get(rule).copied().unwrap_or(0),
                after.get(rule).copied().unwrap_or(0),
            );
            // the rule fires less (one fix may settle several findings, or a finding come back
            // once another rule's fix changed the text: rounds settle it) and offers no more fix
            if a >= b {
                failures.push(format!(
                    "{}: {n} fix(es) of {rule} applied, its findings went from {b} to {a}",
                    file.display()
                ));
            }
            *applied.entry(rule).or_default() += n;
        }
    }
    let total: usize = applied.values().sum();
    eprintln!(
        "corpus autofix: {} Dockerfiles, {changed} changed, {total} fixes applied ({safe} safe, {unsafe_} unsafe), {new_errors} new parse errors; by rule: {applied:?}",
        files.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
