//! Every rule's fixture cases: `fixtures/rules/<rule-name>/<case>/`.
//!
//! `bad*` cases must produce at least one finding of the rule, `good*` cases none. The output
//! (concise + full) of each case is snapshotted. Only the case's rule runs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr,
    reason = "integration tests"
)]

mod common;

use std::path::Path;

use sandlint::linter::Selection;

/// Only the rule itself, except for the suppression meta rules, which need the rules whose
/// findings they suppress.
fn selection_for(meta: &sandlint::docs::RuleMeta) -> Selection {
    if meta.family == "meta" {
        Selection::all()
    } else {
        Selection::only(meta.code)
    }
}

#[test]
fn rule_fixtures() {
    let root = Path::new("fixtures/rules");
    let mut failures = Vec::new();
    let mut cases = 0;
    for rule_dir in common::subdirs(root) {
        let rule = rule_dir.file_name().unwrap().to_str().unwrap().to_string();
        let Some(r) = sandlint::rules::find(&rule) else {
            failures.push(format!("fixtures/rules/{rule}: no rule named `{rule}`"));
            continue;
        };
        let code = r.meta().code;
        for case_dir in common::subdirs(&rule_dir) {
            cases += 1;
            let case = case_dir.file_name().unwrap().to_str().unwrap().to_string();
            let (results, diagnostics) = common::lint_dir(&case_dir, &selection_for(r.meta()));
            // Meta rules run with every rule (they judge the other rules' findings); only their
            // own findings are kept.
            let diagnostics: Vec<_> = diagnostics
                .into_iter()
                .filter(|d| d.rule.code == code)
                .collect();
            assert!(
                !results.is_empty(),
                "{}: no Dockerfile or Compose file found",
                case_dir.display()
            );
            let hits = diagnostics.iter().filter(|d| d.rule.code == code).count();
            if case.starts_with("bad") && hits == 0 {
                failures.push(format!(
                    "{}: expected findings of {rule}, got none",
                    case_dir.display()
                ));
            }
            if case.starts_with("good") && hits != 0 {
                failures.push(format!(
                    "{}: expected no findings of {rule}, got {hits}:\n{}",
                    case_dir.display(),
                    common::render(&results, &diagnostics)
                ));
            }
            if !case.starts_with("bad") && !case.starts_with("good") {
                failures.push(format!(
                    "{}: case names start with `bad` or `good`",
                    case_dir.display()
                ));
            }
            insta::with_settings!({
                snapshot_suffix => format!("{rule}@{case}"),
                omit_expression => true,
                prepend_module_to_snapshot => false,
            }, {
                insta::assert_snapshot!("rule", common::render(&results, &diagnostics));
            });
        }
    }
    assert!(cases > 0, "no fixture cases found");
    assert!(
        failures.is_empty(),
        "{} failing case(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// `# check=skip=<BuildKit check>` turns off the findings of the rules that implement it, those
/// that need the `.dockerignore` on disk included: the `bad-check-skip` fixtures have exactly one
/// finding each, suppressed by the directive (their snapshots show nothing).
#[test]
fn check_skip_suppresses_buildkit_checks() {
    for (rule, check) in [
        ("copy-ignored-file", "CopyIgnoredFile"),
        (
            "invalid-definition-description",
            "InvalidDefinitionDescription",
        ),
    ] {
        let dir = Path::new("fixtures/rules")
            .join(rule)
            .join("bad-check-skip");
        let (_, diagnostics) = common::lint_dir(&dir, &Selection::only(rule));
        assert_eq!(diagnostics.len(), 1, "{rule}: {diagnostics:?}");
        let s = diagnostics[0].suppression.as_ref().expect("suppressed");
        assert_eq!(
            s.reason.as_deref(),
            Some(format!("`# check=skip=` names BuildKit's {check}").as_str())
        );
        // without the directive line the same finding is reported
        let text = std::fs::read_to_string(dir.join("Dockerfile")).unwrap();
        assert!(text.contains(&format!("check=skip={check}")));
    }
}

/// Message conventions over every finding from every fixture (all rules enabled).
#[test]
fn message_conventions() {
    let (_, diagnostics) = common::lint_dir(Path::new("fixtures"), &Selection::all());
    assert!(!diagnostics.is_empty());
    let mut bad = Vec::new();
    for d in &diagnostics {
        let m = &d.message;
        let first = m.chars().next().unwrap_or(' ');
        // Quoted values (names, images, commands) are shown whole up to `CLIP_LIMIT`, so a fix
        // can be pasted; the words around them stay short.
        let words: String = m.split('`').step_by(2).collect();
        let values_ok = m
            .split('`')
            .skip(1)
            .step_by(2)
            .all(|v| v.chars().count() <= sandlint::source::CLIP_LIMIT + 40);
        if first.is_uppercase()
            || m.ends_with('.')
            || words.chars().count() > 100
            || !values_ok
            || m.is_empty()
        {
            bad.push(format!(
                "{} {}: message `{m}` (lowercase start, no trailing period, ≤ 100 chars besides quoted values)",
                d.rule.code, d.file.display
            ));
        }
        if d.help.as_deref().is_none_or(str::is_empty) && d.rule.family != "meta" {
            bad.push(format!(
                "{} {}: no help for `{m}`",
                d.rule.code, d.file.display
            ));
        }
        if d.span.end < d.span.start || d.span.end > d.file.len() {
            bad.push(format!(
                "{} {}: span {:?} out of the file",
                d.rule.code, d.file.display, d.span
            ));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// The hardened project must stay silent under every rule (its one deliberate exception is a
/// suppression with a reason).
#[test]
fn hardened_project_is_clean() {
    let dir = Path::new("fixtures/projects/hardened");
    let (results, diagnostics) = common::lint_dir(dir, &Selection::all());
    assert!(
        !results.is_empty(),
        "fixtures/projects/hardened has no files"
    );
    let reported: Vec<_> = diagnostics
        .iter()
        .filter(|d| d.suppression.is_none())
        .collect();
    assert!(
        reported.is_empty(),
        "{}",
        common::render(&results, &diagnostics)
    );
    let suppressed: Vec<_> = diagnostics
        .iter()
        .filter_map(|d| {
            d.suppression
                .as_ref()
                .map(|s| (d.rule.name, s.reason.is_some()))
        })
        .collect();
    assert_eq!(suppressed, [("network-not-isolated", true)]);
}
