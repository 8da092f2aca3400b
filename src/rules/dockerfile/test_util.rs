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
    crate::testing::fixed_with(|t| diagnostics(rule, t), text)
}
