//! GitLab Code Quality report: a JSON array of issues (the Code Climate subset GitLab reads).
//! Descriptions and paths are escaped like a log line ([`crate::escape::line`]): GitLab shows
//! them in merge requests, where a bidi control would reorder the text.
//!
//! Severity mapping (GitLab's values are `info`, `minor`, `major`, `critical`, `blocker`):
//! error → `critical`, warning → `major`, info → `info`. `blocker` is not used: no finding stops
//! a build by itself; `--fail-on` decides that. `fingerprint` is the finding's stable hash (rule,
//! file, scope and source text; not the message or the line), so GitLab tracks an issue across
//! commits that move it.

use std::io::{self, Write};

use serde::Serialize;

use super::Emitter;
use crate::diagnostic::{Diagnostic, Severity};
use crate::source::LineCol;

#[derive(Default)]
pub struct Gitlab {
    issues: Option<super::jsonstream::Array>,
}

#[derive(Serialize)]
struct Issue<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    description: std::borrow::Cow<'a, str>,
    check_name: &'static str,
    fingerprint: &'a str,
    severity: &'static str,
    categories: [&'static str; 1],
    location: Location<'a>,
}

#[derive(Serialize)]
struct Location<'a> {
    path: std::borrow::Cow<'a, str>,
    lines: Lines,
}

#[derive(Serialize)]
struct Lines {
    begin: u32,
    end: u32,
}

/// GitLab's severity for ours.
pub fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "critical",
        Severity::Warning => "major",
        Severity::Info => "info",
    }
}

/// Start and end of the primary span; a span that ends just after a line break ends on the line
/// before (so `lines.end` is the last line that holds part of the finding).
pub fn start_end_inclusive(d: &Diagnostic) -> (LineCol, LineCol) {
    let start = d.file.line_col(d.span.start);
    let mut end = d.file.line_col(d.span.end.max(d.span.start));
    if end.line > start.line && end.column == 1 {
        end = d.file.line_col(d.span.end.saturating_sub(1));
    }
    (start, end)
}

fn issue(d: &Diagnostic) -> Issue<'_> {
    let (start, end) = start_end_inclusive(d);
    Issue {
        kind: "issue",
        description: crate::escape::line(&d.message),
        check_name: d.rule.name,
        fingerprint: &d.fingerprint,
        severity: severity(d.severity),
        categories: ["Security"],
        location: Location {
            path: crate::escape::line(&d.file.display),
            lines: Lines {
                begin: start.line,
                end: end.line,
            },
        },
    }
}

impl Emitter for Gitlab {
    fn begin(&mut self, w: &mut dyn Write, _settings: &super::Settings) -> io::Result<()> {
        self.issues = Some(super::jsonstream::Array::begin(w, "", 0)?);
        Ok(())
    }

    fn file(&mut self, w: &mut dyn Write, group: &super::FileGroup<'_>) -> io::Result<()> {
        match &mut self.issues {
            Some(array) => {
                array.findings(w, group.findings, false, |a, w, d| a.element(w, &issue(d)))
            }
            None => Ok(()),
        }
    }

    fn end(&mut self, w: &mut dyn Write, _totals: &super::Totals<'_>) -> io::Result<()> {
        if let Some(array) = self.issues.take() {
            array.end(w, "")?;
        }
        writeln!(w)
    }
}
