//! Helpers for the Dockerfile rules' unit tests.

use crate::source::SourceFile;
use crate::testing::FileKind;
use crate::testing::{Selection, lint_text};

/// `(code, "line:col-line:col", message)` of every finding of `rule` on `text`.
pub fn findings(rule: &str, text: &str) -> Vec<(&'static str, String, String)> {
    let file = SourceFile::virtual_file("Dockerfile", text);
    diagnostics(rule, text)
        .into_iter()
        .map(|d| {
            let s = file.line_col(d.span.start);
            let e = file.line_col(d.span.end);
            (
                d.rule.code,
                format!("{}:{}-{}:{}", s.line, s.column, e.line, e.column),
                d.message,
            )
        })
        .collect()
}

/// The source text under each finding of `rule`.
pub fn spans(rule: &str, text: &str) -> Vec<String> {
    diagnostics(rule, text)
        .into_iter()
        .map(|d| text.get(d.span.range()).unwrap_or("<bad span>").to_string())
        .collect()
}

/// Full diagnostics (for labels and help).
pub fn diagnostics(rule: &str, text: &str) -> Vec<crate::diagnostic::Diagnostic> {
    lint_text(
        FileKind::Dockerfile,
        "Dockerfile",
        text,
        &Selection::only(rule),
    )
}

/// `text` with every fix of `rule`'s findings applied, in rounds as the engine does (at most 8),
/// and the applicability of each fix applied.
pub fn fixed(rule: &str, text: &str) -> (String, Vec<crate::fix::Applicability>) {
    let mut text = text.to_owned();
    let mut classes = Vec::new();
    for _ in 0..8 {
        let diags = diagnostics(rule, &text);
        let fixes: Vec<_> = diags.iter().filter_map(|d| d.fix.as_deref()).collect();
        if fixes.is_empty() {
            break;
        }
        let Ok((next, done)) = crate::fix::apply_round(&text, fixes.iter().copied()) else {
            return (String::from("<overlapping edits>"), classes);
        };
        classes.extend(
            done.iter()
                .filter_map(|&i| fixes.get(i))
                .map(|f| f.applicability),
        );
        text = next;
    }
    (text, classes)
}
