//! Rule docs: structure, the rule ↔ doc ↔ fixture bijection, and every example executed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr,
    reason = "integration tests"
)]

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use sandlint::config::Config;
use sandlint::discover::FileKind;
use sandlint::docs;
use sandlint::linter::{LintOptions, Selection, lint_file_with};
use sandlint::source::SourceFile;

const HEADINGS: &[&str] = &["## What it does", "## Why is this bad?", "## Example"];
const OPTIONAL: &[&str] = &["## Options", "## Exceptions", "## References"];

#[test]
fn every_rule_has_doc_and_fixtures() {
    let registered: BTreeSet<&str> = sandlint::rules::all().map(|r| r.meta().name).collect();
    let documented: BTreeSet<&str> = docs::RULES.iter().map(|m| m.name).collect();
    assert_eq!(
        registered, documented,
        "registered rules and rules/*.md differ"
    );
    for name in &registered {
        let dir = Path::new("fixtures/rules").join(name);
        let cases: Vec<String> = common::subdirs(&dir)
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert!(
            cases.iter().any(|c| c.starts_with("bad")),
            "{}: no bad* fixture case",
            dir.display()
        );
        assert!(
            cases.iter().any(|c| c.starts_with("good")),
            "{}: no good* fixture case",
            dir.display()
        );
    }
    for dir in common::subdirs(Path::new("fixtures/rules")) {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            registered.contains(name.as_str()),
            "{}: no such rule",
            dir.display()
        );
    }
}

#[test]
fn codes_follow_targets() {
    for m in docs::RULES {
        let want = match (m.family, m.targets) {
            ("meta", _) => "SLE",
            (_, ["dockerfile"]) => "SLD",
            (_, ["compose"]) => "SLC",
            _ => "SLX",
        };
        assert!(
            m.code.starts_with(want),
            "{} {}: code should start with {want}",
            m.code,
            m.name
        );
    }
}

#[test]
fn headings_in_order() {
    for m in docs::RULES {
        let body = m.body();
        let found: Vec<&str> = body.lines().filter(|l| l.starts_with("## ")).collect();
        assert!(
            found.len() >= HEADINGS.len(),
            "{}: needs headings {HEADINGS:?}, has {found:?}",
            m.name
        );
        assert_eq!(
            &found[..HEADINGS.len()],
            HEADINGS,
            "{}: headings out of order",
            m.name
        );
        let mut last = 0;
        for h in &found[HEADINGS.len()..] {
            let pos = OPTIONAL.iter().position(|o| o == h);
            let pos = pos.unwrap_or_else(|| panic!("{}: unexpected heading `{h}`", m.name));
            assert!(pos >= last, "{}: optional headings out of order", m.name);
            last = pos;
        }
        assert!(!m.summary().is_empty(), "{}: empty `What it does`", m.name);
    }
}

/// Each `bad` example gives exactly one finding of its rule; each `good` example none.
#[test]
fn examples_run() {
    let mut failures = Vec::new();
    let mut rendered = String::new();
    for m in docs::RULES {
        let examples = docs::examples(m.doc);
        // A bad example that needs more than one file (a Dockerfile beside a Compose file, a
        // build context) may be an `ignore`d block: it then runs as a fixture
        // (`every_rule_has_doc_and_fixtures` requires bad fixtures).
        let ignored_bad =
            m.doc.contains("```compose bad ignore") || m.doc.contains("```dockerfile bad ignore");
        assert!(
            examples.iter().any(|e| e.bad) || ignored_bad,
            "{}: no bad example",
            m.name
        );
        assert!(
            examples.iter().any(|e| !e.bad),
            "{}: no good example",
            m.name
        );
        for e in examples {
            let kind = match e.lang {
                "dockerfile" => FileKind::Dockerfile,
                _ => FileKind::Compose,
            };
            let label = format!("rules/{}.md:{}", m.name, e.line);
            // Meta rules (suppressions) judge other rules' findings: run everything for them.
            let selection = if m.family == "meta" {
                Selection::all()
            } else {
                Selection::only(m.code)
            };
            let config = match e.config {
                Some(text) => Config::parse(Path::new(&format!("rules/{}.md", m.name)), text)
                    .unwrap_or_else(|err| panic!("{label}: bad toml block: {err:?}")),
                None => Config::default(),
            };
            let file = SourceFile::virtual_file(&label, e.code).into_ref();
            let mut opts = LintOptions::new(selection);
            opts.config = &config;
            let diags = lint_file_with(file, kind, &opts).diagnostics;
            let hits: Vec<_> = diags.iter().filter(|d| d.rule.code == m.code).collect();
            let want = usize::from(e.bad);
            if hits.len() != want {
                failures.push(format!(
                    "{label} ({} example): expected {want} finding(s) of {}, got {}: {:?}",
                    if e.bad { "bad" } else { "good" },
                    m.name,
                    hits.len(),
                    hits.iter().map(|d| &d.message).collect::<Vec<_>>()
                ));
            }
            for d in hits {
                let start = d.file.line_col(d.span.start);
                rendered.push_str(&format!(
                    "{label} +{}:{} {} {}\n",
                    start.line, start.column, d.rule.code, d.message
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    insta::assert_snapshot!("doc_examples", rendered);
}
