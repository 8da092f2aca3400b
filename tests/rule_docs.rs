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
const OPTIONAL: &[&str] = &[
    "## Fix",
    "## Options",
    "## Exceptions",
    "## Compared with hadolint",
    "## References",
];

#[test]
fn every_rule_has_doc_and_fixtures() {
    let registered: BTreeSet<&str> = sandlint::rules::ALL.iter().map(|r| r.meta().name).collect();
    let documented: BTreeSet<&str> = docs::RULES.iter().map(|m| m.name).collect();
    assert_eq!(
        registered, documented,
        "registered rules and rules/*.md differ"
    );
    // Audit rules (`SLA`) compare a running container with its file: no file fixture makes
    // them; `tests/audit.rs` runs them against the daemon.
    let audit: BTreeSet<&str> = (docs::RULES.iter())
        .filter(|m| m.family == "audit")
        .map(|m| m.name)
        .collect();
    for name in registered.difference(&audit) {
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
            ("audit", _) => "SLA",
            (_, ["dockerfile"]) => "SLD",
            (_, ["compose"]) => "SLC",
            (_, ["devcontainer"]) => "SLV",
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
    // audit rules: see `every_rule_has_doc_and_fixtures`
    for m in docs::RULES.iter().filter(|m| m.family != "audit") {
        let examples = docs::examples(m.doc);
        // A bad example that needs more than one file (a Dockerfile beside a Compose file, a
        // build context) may be an `ignore`d block: it then runs as a fixture
        // (`every_rule_has_doc_and_fixtures` requires bad fixtures).
        let ignored_bad = m.doc.contains("```compose bad ignore")
            || m.doc.contains("```dockerfile bad ignore")
            || m.doc.contains("```devcontainer bad ignore");
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
                "devcontainer" => FileKind::Devcontainer,
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

/// The options an example of `m` runs with (its `toml` block) and the file kind.
fn example_setup(m: &docs::RuleMeta, e: &docs::Example) -> (FileKind, Config) {
    let kind = match e.lang {
        "dockerfile" => FileKind::Dockerfile,
        "devcontainer" => FileKind::Devcontainer,
        _ => FileKind::Compose,
    };
    let config = match e.config {
        Some(text) => Config::parse(Path::new(&format!("rules/{}.md", m.name)), text)
            .unwrap_or_else(|err| {
                panic!("rules/{}.md:{}: bad toml block: {err:?}", m.name, e.line)
            }),
        None => Config::default(),
    };
    (kind, config)
}

/// The findings of rule `m` (plus the input-error rules: a parse error) on `text`.
fn lint_for(
    m: &docs::RuleMeta,
    kind: FileKind,
    config: &Config,
    label: &str,
    text: &str,
) -> Vec<sandlint::diagnostic::Diagnostic> {
    let selection = Selection {
        only: Some(vec![m.code, "SLE001", "SLE002"]),
        ignore: Vec::new(),
    };
    let file = SourceFile::virtual_file(label, text).into_ref();
    let mut opts = LintOptions::new(selection);
    opts.config = config;
    lint_file_with(file, kind, &opts).diagnostics
}

/// Rounds of fixing a doc example, as the engine does: at most this many.
const ROUNDS: usize = 8;

/// Every fix is proven by its doc: the bad example with all the fixes of its rule's findings
/// (safe and unsafe) applied in rounds (re-linted between rounds, touching fixes deferred) is
/// the ```` ```<lang> fixed ```` block after it, byte for byte; the fixed text has no finding of
/// the rule and no parse error. Conversely a bad example whose findings offer a fix needs a
/// fixed block, and a fixed block whose bad example offers no fix is an error.
#[test]
fn fixed_examples_are_the_bad_ones_fixed() {
    let mut failures = Vec::new();
    let mut proven = 0usize;
    for m in docs::RULES.iter().filter(|m| m.family != "audit") {
        let fixed = match docs::fixed_examples(m.doc) {
            Ok(f) => f,
            Err(e) => {
                failures.push(format!("rules/{}.md: {e}", m.name));
                continue;
            }
        };
        for e in docs::examples(m.doc).into_iter().filter(|e| e.bad) {
            let label = format!("rules/{}.md:{}", m.name, e.line);
            let (kind, config) = example_setup(m, &e);
            let want = fixed.iter().find(|f| f.bad.line == e.line);
            let mut text = e.code.to_owned();
            let mut rounds = 0usize;
            let mut applied = 0usize;
            loop {
                let diags = lint_for(m, kind, &config, &label, &text);
                let fixes: Vec<_> = (diags.iter())
                    .filter(|d| d.rule.code == m.code)
                    .filter_map(|d| d.fix.as_deref())
                    .collect();
                if fixes.is_empty() {
                    break;
                }
                if rounds == ROUNDS {
                    failures.push(format!(
                        "{label}: fixes still offered after {ROUNDS} rounds"
                    ));
                    break;
                }
                if let Some(f) = fixes
                    .iter()
                    .find(|f| f.edits.iter().any(|ed| ed.file.path != Path::new(&label)))
                {
                    failures.push(format!("{label}: fix `{}` edits another file", f.message));
                    break;
                }
                match sandlint::fix::apply_round(&text, fixes.iter().copied()) {
                    Ok((next, done)) => {
                        applied += done.len();
                        text = next;
                    }
                    Err(err) => {
                        failures.push(format!("{label}: fixes do not apply: {err:?}"));
                        break;
                    }
                }
                rounds += 1;
            }
            match (want, applied) {
                (None, 0) => {}
                (None, _) => failures.push(format!(
                    "{label}: the findings of {} offer a fix: add a ```{} fixed``` block after the bad example with the fix applied:\n{text}",
                    m.name, e.lang
                )),
                (Some(f), 0) => failures.push(format!(
                    "rules/{}.md:{}: a `fixed` block, but the bad example offers no fix",
                    m.name, f.line
                )),
                (Some(f), _) => {
                    let fixed_label = format!("rules/{}.md:{}", m.name, f.line);
                    if text != f.fixed {
                        failures.push(format!(
                            "{fixed_label}: the bad example fixed is not the fixed block:\n--- fixed block\n{}--- bad example + fixes\n{text}",
                            f.fixed
                        ));
                    }
                    let left = lint_for(m, kind, &config, &fixed_label, f.fixed);
                    if !left.is_empty() {
                        failures.push(format!(
                            "{fixed_label}: the fixed example still has findings: {:?}",
                            left.iter().map(|d| (d.rule.code, &d.message)).collect::<Vec<_>>()
                        ));
                    }
                    proven += 1;
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!("{proven} fixed examples proven");
}

/// A rule's family (its code prefix and `targets`) follows from what it reads: the folder that
/// implements it and the checks it implements there. `SLD` rules live in `src/rules/dockerfile/`
/// and check Dockerfiles only, `SLC` in `src/rules/compose/` and check Compose files only, `SLX`
/// in `src/rules/cross/` and check both or join a service to the Dockerfile it builds
/// (`build_of`), `SLE` in `src/rules/meta/`.
#[test]
fn family_follows_from_what_the_rule_reads() {
    let mut sources = Vec::new();
    for folder in [
        "dockerfile",
        "compose",
        "cross",
        "devcontainer",
        "meta",
        "audit",
    ] {
        for entry in std::fs::read_dir(Path::new("src/rules").join(folder)).unwrap() {
            let path = entry.unwrap().path();
            if path.file_name().is_some_and(|n| n != "mod.rs") {
                sources.push((folder, std::fs::read_to_string(&path).unwrap(), path));
            }
        }
    }
    // the `docs::CONST` each `fn meta` returns, and the file that holds it
    let implemented: Vec<(&str, &str, &Path)> = sources
        .iter()
        .flat_map(|(folder, text, path)| {
            text.split("fn meta(&self) -> &'static RuleMeta {")
                .skip(1)
                .filter_map(|rest| rest.trim_start().strip_prefix("docs::"))
                .map(move |rest| {
                    let end = rest
                        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .unwrap_or(rest.len());
                    (&rest[..end], *folder, path.as_path())
                })
        })
        .collect();
    let mut failures = Vec::new();
    for rule in sandlint::rules::ALL {
        let m = rule.meta();
        let constant = m.name.to_ascii_uppercase().replace('-', "_");
        let homes: Vec<_> = implemented
            .iter()
            .filter(|(c, ..)| *c == constant)
            .collect();
        let [(_, folder, path)] = homes.as_slice() else {
            failures.push(format!("{} {}: implemented in {homes:?}", m.code, m.name));
            continue;
        };
        let text = &sources.iter().find(|(.., p)| p == path).unwrap().1;
        let (dockerfile, compose) = (
            text.contains("fn check_dockerfile("),
            text.contains("fn check_compose("),
        );
        let (prefix, targets, reads): (&str, &[&str], bool) = match *folder {
            "dockerfile" => ("SLD", &["dockerfile"], dockerfile && !compose),
            "compose" => ("SLC", &["compose"], compose && !dockerfile),
            "devcontainer" => (
                "SLV",
                &["devcontainer"],
                text.contains("fn check_devcontainer(") && !dockerfile && !compose,
            ),
            "cross" => (
                "SLX",
                &["dockerfile", "compose"],
                compose && (dockerfile || text.contains("build_of(")),
            ),
            "audit" => ("SLA", m.targets, !dockerfile && !compose),
            _ => ("SLE", m.targets, true),
        };
        if !m.code.starts_with(prefix) || m.targets != targets || !reads {
            failures.push(format!(
                "{} {} ({}): a rule in src/rules/{folder}/ is {prefix}###, targets {targets:?}, \
                 and implements {}; it has targets {:?}, check_dockerfile {dockerfile}, \
                 check_compose {compose}",
                m.code,
                m.name,
                path.display(),
                match *folder {
                    "dockerfile" => "check_dockerfile only",
                    "compose" => "check_compose only",
                    _ => "both checks, or check_compose with build_of",
                },
                m.targets
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `rules::ALL` is the registry: every documented rule once, input errors first, then
/// Dockerfile, Compose and cross-file rules, each by code (the order `sandlint rules` lists).
#[test]
fn registry_order() {
    let codes: Vec<&str> = sandlint::rules::ALL.iter().map(|r| r.meta().code).collect();
    let mut want: Vec<&str> = docs::RULES.iter().map(|m| m.code).collect();
    let block = |c: &str| {
        ["SLE", "SLD", "SLC", "SLX", "SLV", "SLA"]
            .iter()
            .position(|p| c.starts_with(p))
    };
    want.sort_by_key(|c| (block(c), *c));
    assert_eq!(codes, want);
    for m in docs::RULES {
        let found = sandlint::rules::find(m.code).map(|r| r.meta().code);
        assert_eq!(found, Some(m.code));
        let by_name = sandlint::rules::find(m.name).map(|r| r.meta().code);
        assert_eq!(by_name, Some(m.code));
        assert!(sandlint::rules::find(&m.code.to_ascii_lowercase()).is_some());
    }
}
