//! Hover (the rule's doc) and code actions: the finding's fix (`Fix: …`, preferred when safe,
//! from the rule's edits), and suppress a finding here or in the file, with a reason to fill
//! in: [`REASON_PLACEHOLDER`].
//!
//! A suppression is offered only when it works: the edit is applied to a copy of the document
//! and linted again, and it must remove the finding without adding an `invalid-suppression`.

use std::collections::HashMap;
use std::str::FromStr;

use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, Hover, HoverContents, MarkupContent,
    MarkupKind, Position, Range, TextEdit, Uri, WorkspaceEdit,
};

use crate::diagnostic::Diagnostic;
use crate::discover::FileKind;
use crate::dockerfile;

use super::convert;
use super::state::{Doc, Outcome, State};
use super::text::{self, Encoding};

/// At most this many findings get code actions per request (each costs a lint or two).
const MAX_ACTION_FINDINGS: usize = 8;

/// The docs of the rules whose findings cover `pos`, with the range of the first.
pub fn hover(outcome: &Outcome, doc: &Doc, enc: Encoding, pos: Position) -> Option<Hover> {
    let at = text::offset(&doc.text, enc, pos);
    let mut shown: Vec<&str> = Vec::new();
    let mut parts: Vec<String> = Vec::new();
    let mut range = None;
    for d in &outcome.findings {
        let span = d.span.range();
        if at < span.start || at > span.end || shown.contains(&d.rule.code) {
            continue;
        }
        shown.push(d.rule.code);
        if range.is_none() {
            range = Some(text::Index::new(&d.file.text, enc).range(d.span));
        }
        parts.push(format!(
            "**{} `{}`** ({}): {}\n\n{}\n\n{}\n\n[{}]({})",
            d.rule.code,
            d.rule.name,
            d.severity.as_str(),
            d.rule.title,
            d.message,
            d.rule.body().trim_end(),
            d.rule.url(),
            d.rule.url()
        ));
    }
    (!parts.is_empty()).then(|| Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: parts.join("\n\n---\n\n"),
        }),
        range,
    })
}

/// "Suppress `rule` here" and "Suppress `rule` in this file" for the findings in `range`.
pub fn code_actions(
    state: &State,
    uri: &str,
    doc: &Doc,
    enc: Encoding,
    range: Range,
) -> Vec<CodeActionOrCommand> {
    let Some(outcome) = state.linted.get(uri) else {
        return Vec::new();
    };
    let Ok(lsp_uri) = Uri::from_str(uri) else {
        return Vec::new();
    };
    let (from, to) = (
        text::offset(&doc.text, enc, range.start),
        text::offset(&doc.text, enc, range.end),
    );
    let mut out = Vec::new();
    let mut indexes = text::Indexes::new(enc);
    let mut offered: Vec<(String, usize)> = Vec::new();
    let in_range = (outcome.findings.iter())
        .filter(|d| d.span.start as usize <= to && d.span.end as usize >= from)
        .take(MAX_ACTION_FINDINGS);
    for d in in_range {
        if let Some(action) = fix_action(d, doc, enc, &lsp_uri, &mut indexes) {
            out.push(action);
        }
        let kind = outcome.kind.unwrap_or(FileKind::Dockerfile);
        let candidates = [
            (here_edits(kind, &doc.text, d), "here"),
            (
                file_edit(kind, &doc.text, d).into_iter().collect(),
                "in this file",
            ),
        ];
        for (edits, place) in candidates {
            let Some(edit) = edits.into_iter().find(|e| works(state, doc, outcome, d, e)) else {
                continue;
            };
            let key = (format!("{}{place}", d.rule.code), edit.at);
            if offered.contains(&key) {
                continue;
            }
            offered.push(key);
            let insert_at = text::Index::new(&doc.text, enc)
                .position(u32::try_from(edit.at).unwrap_or(u32::MAX));
            #[expect(
                clippy::mutable_key_type,
                reason = "lsp-types' WorkspaceEdit is keyed by Uri; the key is never mutated"
            )]
            let changes = HashMap::from([(
                lsp_uri.clone(),
                vec![TextEdit {
                    range: Range::new(insert_at, insert_at),
                    new_text: edit.insert.clone(),
                }],
            )]);
            out.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: format!("Suppress `{}` ({}) {place}", d.rule.name, d.rule.code),
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![convert::diagnostic(d, &mut indexes)]),
                edit: Some(WorkspaceEdit {
                    changes: Some(changes),
                    ..WorkspaceEdit::default()
                }),
                ..CodeAction::default()
            }));
        }
    }
    out
}

/// "Fix: <message>" for a finding with a fix whose edits are all in this document (preferred
/// when the fix is safe). A fix with an edit in another file (an override, an included file) is
/// left to `sandlint check --fix`.
fn fix_action<'a>(
    d: &'a Diagnostic,
    doc: &Doc,
    enc: Encoding,
    uri: &Uri,
    indexes: &mut text::Indexes<'a>,
) -> Option<CodeActionOrCommand> {
    let fix = d.fix.as_ref()?;
    let here =
        |e: &crate::fix::Edit| std::sync::Arc::ptr_eq(&e.file, &d.file) && e.file.text == doc.text;
    if fix.edits.is_empty() || !fix.edits.iter().all(here) {
        return None;
    }
    let index = text::Index::new(&doc.text, enc);
    let edits: Vec<TextEdit> = (fix.edits.iter())
        .map(|e| TextEdit {
            range: index.range(e.span),
            new_text: e.replacement.clone(),
        })
        .collect();
    #[expect(
        clippy::mutable_key_type,
        reason = "lsp-types' WorkspaceEdit is keyed by Uri; the key is never mutated"
    )]
    let changes = HashMap::from([(uri.clone(), edits)]);
    let safe = fix.applicability == crate::fix::Applicability::Safe;
    Some(CodeActionOrCommand::CodeAction(CodeAction {
        title: format!(
            "Fix: {}{}",
            fix.message,
            if safe { "" } else { " (unsafe)" }
        ),
        kind: Some(CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![convert::diagnostic(d, indexes)]),
        edit: Some(WorkspaceEdit {
            changes: Some(changes),
            ..WorkspaceEdit::default()
        }),
        is_preferred: Some(safe),
        ..CodeAction::default()
    }))
}

/// Text to insert at a byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Insert {
    pub at: usize,
    pub insert: String,
}

/// Whether inserting `edit` removes a finding of `d`'s rule and adds no invalid suppression.
fn works(state: &State, doc: &Doc, before: &Outcome, d: &Diagnostic, edit: &Insert) -> bool {
    let mut text = doc.text.clone();
    if !text.is_char_boundary(edit.at) {
        return false;
    }
    text.insert_str(edit.at, &edit.insert);
    let after = state.lint_text(doc, &text);
    let count = |o: &Outcome, code: &str| o.findings.iter().filter(|f| f.rule.code == code).count();
    let invalid = crate::docs::INVALID_SUPPRESSION.code;
    after.notice.is_none()
        && count(&after, d.rule.code) < count(before, d.rule.code)
        && count(&after, invalid) <= count(before, invalid)
}

fn newline(text: &str) -> &'static str {
    if text.contains("\r\n") { "\r\n" } else { "\n" }
}

/// The start of the line holding byte `at`.
fn line_start(text: &str, at: usize) -> usize {
    text.get(..at)
        .and_then(|t| t.rfind('\n'))
        .map_or(0, |i| i + 1)
}

fn line_at(text: &str, start: usize) -> &str {
    let rest = text.get(start..).unwrap_or_default();
    let line = rest.split('\n').next().unwrap_or_default();
    line.strip_suffix('\r').unwrap_or(line)
}

fn indent_of(line: &str) -> &str {
    &line[..line.len() - line.trim_start_matches([' ', '\t']).len()]
}

/// The reason a suppression is written with, for the user to replace: an empty `reason=""`
/// is itself an `invalid-suppression` and suppresses nothing.
pub const REASON_PLACEHOLDER: &str = "TODO: why is this accepted";

/// The suppression comment: `#` (Dockerfile, Compose) or `//` (`devcontainer.json`).
fn comment(global: bool, d: &Diagnostic) -> String {
    let hash = d
        .file
        .path
        .extension()
        .is_none_or(|e| e != "json" && e != "jsonc");
    format!(
        "{} sandlint {}ignore={} reason=\"{REASON_PLACEHOLDER}\"",
        if hash { "#" } else { "//" },
        if global { "global " } else { "" },
        d.rule.name
    )
}

/// Where "suppress here" may go, best first. Dockerfile: a comment line right above the
/// instruction holding the finding. Compose: a comment line above the key holding it (out of a
/// block scalar the finding is inside), else at the end of that key's line. `devcontainer.json`:
/// a `//` comment line above the member's line, else at its end.
fn here_edits(kind: FileKind, text: &str, d: &Diagnostic) -> Vec<Insert> {
    let nl = newline(text);
    let at = d.span.start as usize;
    match kind {
        FileKind::Dockerfile => {
            let df = dockerfile::parse(text);
            let Some(i) = (df.instructions.iter())
                .find(|i| (i.span.start as usize) <= at && at <= i.span.end as usize)
            else {
                return Vec::new();
            };
            let start = line_start(text, i.span.start as usize);
            let indent = indent_of(line_at(text, start));
            vec![Insert {
                at: start,
                insert: format!("{indent}{}{nl}", comment(false, d)),
            }]
        }
        FileKind::Compose | FileKind::Devcontainer => {
            let start = if kind == FileKind::Compose {
                yaml_key_line(text, line_start(text, at))
            } else {
                line_start(text, at)
            };
            let line = line_at(text, start);
            let indent = indent_of(line);
            vec![
                Insert {
                    at: start,
                    insert: format!("{indent}{}{nl}", comment(false, d)),
                },
                Insert {
                    at: start + line.len(),
                    insert: format!(" {}", comment(false, d)),
                },
            ]
        }
    }
}

/// The line to put a Compose suppression at for a finding on the line starting at `start`: the
/// header of the block scalar (`key: |`) the line is inside, else the line itself.
fn yaml_key_line(text: &str, start: usize) -> usize {
    let own = line_at(text, start);
    let mut min = indent_of(own).len();
    let mut pos = start;
    // bounded by the lines above, each looked at once
    while pos > 0 && min > 0 {
        let prev = line_start(text, pos - 1);
        let line = line_at(text, prev);
        pos = prev;
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        let ind = indent_of(line).len();
        if ind < min {
            min = ind;
            if is_block_scalar_header(t) {
                return prev;
            }
        }
    }
    start
}

/// `key: |`, `key: >-`, `- |2`: a line that opens a block scalar.
fn is_block_scalar_header(trimmed: &str) -> bool {
    let body = trimmed.split(" #").next().unwrap_or(trimmed).trim_end();
    let Some(i) = body.rfind(['|', '>']) else {
        return false;
    };
    let (before, after) = (&body[..i], &body[i + 1..]);
    after
        .chars()
        .all(|c| c == '-' || c == '+' || c.is_ascii_digit())
        && (before.trim_end().ends_with(':') || before.trim_end() == "-" || before.is_empty())
}

/// Where "suppress in this file" goes: a Dockerfile's global comment right above its first
/// instruction (after the parser directives), a Compose file's at its top.
fn file_edit(kind: FileKind, text: &str, d: &Diagnostic) -> Option<Insert> {
    let nl = newline(text);
    let at = match kind {
        FileKind::Dockerfile => {
            let df = dockerfile::parse(text);
            match df.instructions.first() {
                Some(i) => line_start(text, i.span.start as usize),
                None if text.is_empty() || text.ends_with('\n') => text.len(),
                None => return None,
            }
        }
        FileKind::Compose | FileKind::Devcontainer => 0,
    };
    Some(Insert {
        at,
        insert: format!("{}{nl}", comment(true, d)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_scalars_are_left_whole() {
        let text =
            "services:\n  a:\n    command: |\n      run\n        deeper\n    privileged: true\n";
        let deeper = line_start(text, text.find("deeper").unwrap_or(0));
        let header = text.find("    command").unwrap_or(0);
        assert_eq!(yaml_key_line(text, deeper), header);
        let privileged = text.find("    privileged").unwrap_or(0);
        assert_eq!(yaml_key_line(text, privileged), privileged);
        assert!(is_block_scalar_header("key: >-"));
        assert!(is_block_scalar_header("- |2"));
        assert!(!is_block_scalar_header("key: a|b"));
        assert!(!is_block_scalar_header("key: value"));
    }
}
