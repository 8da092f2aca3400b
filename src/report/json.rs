//! The versioned JSON report (schema documented in the README, "JSON output").

use std::borrow::Cow;
use std::io::{self, Write};

use serde::Serialize;

use super::{Counts, Emitter, ReportCtx};
use crate::diagnostic::{Diagnostic, Severity};
use crate::source::{FileRef, Span};

/// Bumped on any incompatible change to the JSON document.
pub const SCHEMA_VERSION: u32 = 1;

pub struct Json;

#[derive(Serialize)]
struct Report<'a> {
    schema_version: u32,
    tool: Tool,
    files_checked: usize,
    summary: Summary,
    findings: Findings<'a>,
    errors: Vec<PathError>,
    /// Files that look like Docker configs by name but were not checked.
    skipped: Vec<SkippedOut<'a>>,
    /// Reported findings per rule, most frequent first (as `--statistics` prints them).
    statistics: Vec<Statistic>,
}

#[derive(Serialize)]
struct SkippedOut<'a> {
    path: String,
    reason: &'a str,
}

#[derive(Serialize)]
struct Statistic {
    code: &'static str,
    name: &'static str,
    count: usize,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Summary {
    #[serde(flatten)]
    counts: Counts,
    total: usize,
}

#[derive(Serialize)]
struct Finding<'a> {
    code: &'static str,
    name: &'static str,
    severity: Severity,
    message: &'a str,
    help: Option<&'a str>,
    file: &'a str,
    /// The Compose service (`null` elsewhere); the first of `services`.
    service: Option<&'a str>,
    /// Every service the finding stands for: more than one when a YAML anchor puts the same
    /// location in several services (one finding, not one per service).
    services: Vec<&'a str>,
    /// The Dockerfile build stage (its name, else its base image); `null` elsewhere.
    stage: Option<&'a str>,
    start: Position,
    end: Position,
    labels: Vec<LabelOut<'a>>,
    url: String,
}

#[derive(Serialize)]
struct LabelOut<'a> {
    file: &'a str,
    message: &'a str,
    start: Position,
    end: Position,
}

#[derive(Serialize)]
struct Position {
    line: u32,
    column: u32,
    offset: u32,
}

#[derive(Serialize)]
struct PathError {
    path: String,
    message: String,
}

/// The reported findings, each turned into a [`Finding`] as it is written (the report keeps no
/// second copy of them).
struct Findings<'a>(&'a [Cow<'a, Diagnostic>]);

impl Serialize for Findings<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(super::reported(self.0).count()))?;
        for d in super::reported(self.0) {
            seq.serialize_element(&finding(d))?;
        }
        seq.end()
    }
}

fn finding(d: &Diagnostic) -> Finding<'_> {
    let (start, end) = positions(&d.file, d.span);
    Finding {
        code: d.rule.code,
        name: d.rule.name,
        severity: d.severity,
        message: &d.message,
        help: d.help.as_deref(),
        file: &d.file.display,
        service: d.service(),
        services: d.services(),
        stage: d.stage(),
        start,
        end,
        labels: d
            .labels
            .iter()
            .map(|l| {
                let (start, end) = positions(&l.file, l.span);
                LabelOut {
                    file: &l.file.display,
                    message: &l.message,
                    start,
                    end,
                }
            })
            .collect(),
        url: d.rule.url(),
    }
}

fn positions(file: &FileRef, span: Span) -> (Position, Position) {
    let s = file.line_col(span.start);
    let e = file.line_col(span.end);
    (
        Position {
            line: s.line,
            column: s.column,
            offset: span.start,
        },
        Position {
            line: e.line,
            column: e.column,
            offset: span.end,
        },
    )
}

impl Emitter for Json {
    fn emit(
        &mut self,
        w: &mut dyn Write,
        diagnostics: &[Diagnostic],
        cx: &ReportCtx,
    ) -> io::Result<()> {
        let counts = Counts::of(diagnostics);
        // One result per location: findings through one YAML anchor are merged.
        let merged = super::merge_locations(diagnostics);
        let statistics = super::statistics(diagnostics)
            .into_iter()
            .map(|(count, m)| Statistic {
                code: m.code,
                name: m.name,
                count,
            })
            .collect();
        let findings = Findings(&merged);
        let report = Report {
            schema_version: SCHEMA_VERSION,
            tool: Tool {
                name: "sandlint",
                version: env!("CARGO_PKG_VERSION"),
            },
            files_checked: cx.files.len(),
            summary: Summary {
                counts,
                total: counts.total(),
            },
            findings,
            errors: cx
                .errors
                .iter()
                .map(|e| PathError {
                    path: crate::source::display_path(e.path()),
                    message: e.to_string(),
                })
                .collect(),
            skipped: cx
                .skipped
                .iter()
                .map(|s| SkippedOut {
                    path: crate::source::display_path(&s.path),
                    reason: &s.reason,
                })
                .collect(),
            statistics,
        };
        crate::escape::to_writer_pretty(&mut *w, &report)?;
        writeln!(w)
    }
}
