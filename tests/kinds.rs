//! What each rule reads ([`Rule::reads`]) is true, and the engine skips what no running rule
//! reads ("only what runs costs"): a Dockerfile is not parsed when only Compose rules run, a
//! Compose project not loaded when no rule reads Compose nor the join.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "integration tests"
)]

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use sandlint::discover::{self, FileKind};
use sandlint::linter::{self, FileResult, LintOptions, Selection};
use sandlint::rules::{self, BuiltBy, Rule};
use sandlint::source::{SourceFile, display_path};

/// Every case directory of the rule fixtures and the sample projects.
fn cases() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for root in [
        "fixtures/rules",
        "fixtures/projects",
        "fixtures/devcontainer",
    ] {
        for dir in std::fs::read_dir(root).unwrap() {
            let dir = dir.unwrap().path();
            if !root.ends_with("rules") {
                out.push(dir);
                continue;
            }
            for case in std::fs::read_dir(&dir).unwrap() {
                out.push(case.unwrap().path());
            }
        }
    }
    out.retain(|p| p.is_dir());
    out.sort();
    out
}

/// Every rule on, default config: nothing is skipped.
fn lint(path: &Path, kind: FileKind, built_by: Vec<BuiltBy>) -> FileResult {
    let text = std::fs::read_to_string(path).unwrap();
    let file = SourceFile::new(path.to_path_buf(), display_path(path), text).into_ref();
    let mut opts = LintOptions::new(Selection::all());
    opts.built_by = built_by;
    linter::lint_file_with(file, kind, &opts)
}

fn rule(code: &str) -> &'static dyn Rule {
    rules::find(code).unwrap()
}

/// A finding of a Dockerfile check is by a rule that reads Dockerfiles, one of a Compose check
/// by a rule that reads Compose; a finding that changes when the Dockerfile is joined to the
/// services that build it is by a rule that reads the join. (Checked with every rule running,
/// so that no skip hides a wrong declaration.)
#[test]
fn every_rule_reads_what_it_declares() {
    let mut failures = BTreeSet::new();
    let mut joined = BTreeSet::new();
    // a service that builds the Dockerfile and defines its healthcheck
    let join = tempfile::tempdir().unwrap();
    std::fs::write(join.path().join("Dockerfile"), "FROM alpine\nUSER app\n").unwrap();
    let compose = "services:\n  app:\n    build: .\n    healthcheck:\n      test: [CMD, true]\n";
    std::fs::write(join.path().join("compose.yaml"), compose).unwrap();
    for case in cases().into_iter().chain([join.path().to_path_buf()]) {
        let (candidates, _) = discover::discover(std::slice::from_ref(&case), true);
        let mut built: HashMap<PathBuf, Vec<BuiltBy>> = HashMap::new();
        let mut dockerfiles = Vec::new();
        for c in candidates {
            match c.kind {
                Some(kind @ (FileKind::Compose | FileKind::Devcontainer)) => {
                    let r = lint(&c.path, kind, Vec::new());
                    for d in &r.diagnostics {
                        let reads = rule(d.rule.code).reads();
                        // a dev container is checked as one Compose service, and by its own rules
                        let devcontainer = kind == FileKind::Devcontainer && reads.devcontainer;
                        if !reads.compose && !devcontainer {
                            failures.insert(format!(
                                "{} on Compose in {}",
                                d.rule.code,
                                case.display()
                            ));
                        }
                    }
                    for (path, b) in r.built {
                        built.entry(path).or_default().push(b);
                    }
                }
                Some(FileKind::Dockerfile) => dockerfiles.push(c.path),
                None => {}
            }
        }
        for path in dockerfiles {
            let alone = lint(&path, FileKind::Dockerfile, Vec::new());
            for d in &alone.diagnostics {
                if !rule(d.rule.code).reads().dockerfile {
                    failures.insert(format!(
                        "{} on a Dockerfile in {}",
                        d.rule.code,
                        case.display()
                    ));
                }
            }
            let by = built
                .get(&sandlint::source::normalize(&path))
                .cloned()
                .unwrap_or_default();
            if by.is_empty() {
                continue;
            }
            let key = |r: &FileResult| -> BTreeSet<(&'static str, String)> {
                r.diagnostics
                    .iter()
                    .map(|d| (d.rule.code, format!("{:?} {}", d.span, d.message)))
                    .collect()
            };
            let with = lint(&path, FileKind::Dockerfile, by);
            for (code, _) in key(&alone).symmetric_difference(&key(&with)) {
                joined.insert(*code);
                if !rule(code).reads().built_by {
                    failures.insert(format!(
                        "{code} changes with the join in {}",
                        case.display()
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    // not vacuous: the join changed some finding
    assert!(!joined.is_empty());
}

/// The rules that read the join are those whose source asks for it.
#[test]
fn reading_the_join_is_declared_where_it_is_read() {
    let mut seen = 0;
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
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap();
            let metas = code.split("fn meta(&self) -> &'static RuleMeta {").skip(1);
            for rest in metas {
                let Some(rest) = rest.trim_start().strip_prefix("docs::") else {
                    continue;
                };
                let constant: String = (rest.chars())
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                let r = (rules::ALL.iter())
                    .find(|r| r.meta().name.to_ascii_uppercase().replace('-', "_") == constant)
                    .unwrap();
                seen += 1;
                assert_eq!(
                    r.reads().built_by,
                    code.contains(".built_by()"),
                    "{}: reads().built_by must say whether it calls built_by()",
                    path.display()
                );
            }
        }
    }
    assert_eq!(seen, rules::ALL.len());
}

fn sandlint(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sandlint"))
        .arg("check")
        .arg(dir)
        .args(["--format", "json"])
        .args(args)
        .env_remove("SANDLINT_FORMAT")
        .env_remove("SANDLINT_FAIL_ON")
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

/// A Compose file that does not parse: not parsed at all when only a Dockerfile rule runs (no
/// SLE002, exit 0), still counted as checked; reported when a Compose rule runs.
#[test]
fn a_broken_compose_file_is_not_read_for_dockerfile_rules() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("compose.yaml"),
        "services:\n  app: [\n    image: x\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("compose.override.yaml"), "services: {}\n").unwrap();
    std::fs::write(dir.path().join("Dockerfile"), "FROM alpine@sha256:0000000000000000000000000000000000000000000000000000000000000000\nUSER app\n").unwrap();
    let (code, out) = sandlint(dir.path(), &["--select", "SLD001"]);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("SLE002"), "{out}");
    // the Dockerfile, compose.yaml and its override
    assert!(out.contains("\"files_checked\": 3"), "{out}");
    let (code, out) = sandlint(dir.path(), &["--select", "SLE002"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("SLE002") && out.contains("\"files_checked\": 3"),
        "{out}"
    );
}
