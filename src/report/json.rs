//! The versioned JSON report (schema documented in the README, "JSON output").

use std::io::{self, Write};

use serde::Serialize;

use super::{Counts, Emitter, Totals};
use crate::diagnostic::{Diagnostic, Severity};
use crate::source::{FileRef, Span};

/// Bumped on any incompatible change to the JSON document.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Default)]
pub struct Json {
    findings: Option<super::jsonstream::Array>,
}

#[derive(Serialize)]
struct Report<'a> {
    schema_version: u32,
    tool: Tool,
    /// Written finding by finding as the files are checked (the totals follow them).
    findings: &'static str,
    files_checked: usize,
    summary: Summary,
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
    /// The edits that fix the finding (`null`: no fix): `sandlint check --fix` applies the safe
    /// ones, `--unsafe-fixes` the rest.
    fix: Option<FixOut<'a>>,
}

#[derive(Serialize)]
struct FixOut<'a> {
    applicability: crate::fix::Applicability,
    message: &'a str,
    edits: Vec<EditOut<'a>>,
}

/// One edit: the bytes from `start` to `end` of `file` become `replacement` (an empty range
/// inserts).
#[derive(Serialize)]
struct EditOut<'a> {
    file: &'a str,
    start: Position,
    end: Position,
    replacement: &'a str,
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
        fix: d.fix.as_ref().map(|f| FixOut {
            applicability: f.applicability,
            message: &f.message,
            edits: (f.edits.iter())
                .map(|e| {
                    let (start, end) = positions(&e.file, e.span);
                    EditOut {
                        file: &e.file.display,
                        start,
                        end,
                        replacement: &e.replacement,
                    }
                })
                .collect(),
        }),
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
    fn begin(&mut self, w: &mut dyn Write, _settings: &super::Settings) -> io::Result<()> {
        let split = super::jsonstream::split(&report(None))?;
        self.findings = Some(super::jsonstream::Array::begin(
            w,
            &split.before,
            split.indent,
        )?);
        Ok(())
    }

    fn file(&mut self, w: &mut dyn Write, group: &super::FileGroup<'_>) -> io::Result<()> {
        match &mut self.findings {
            Some(array) => array.findings(w, group.findings, false, |a, w, d| {
                a.element(w, &finding(d))
            }),
            None => Ok(()),
        }
    }

    fn end(&mut self, w: &mut dyn Write, totals: &Totals<'_>) -> io::Result<()> {
        let split = super::jsonstream::split(&report(Some(totals)))?;
        if let Some(array) = self.findings.take() {
            array.end(w, &split.after)?;
        }
        writeln!(w)
    }
}

/// The document around the findings (the totals empty before the end).
fn report<'a>(totals: Option<&Totals<'a>>) -> Report<'a> {
    let counts = totals.map(|t| t.counts).unwrap_or_default();
    Report {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: "sandlint",
            version: env!("CARGO_PKG_VERSION"),
        },
        findings: super::jsonstream::MARKER,
        files_checked: totals.map_or(0, |t| t.files_checked),
        summary: Summary {
            counts,
            total: counts.total(),
        },
        errors: (totals.map_or(&[][..], |t| t.errors).iter())
            .map(|e| PathError {
                path: crate::source::display_path(e.path()),
                message: e.to_string(),
            })
            .collect(),
        skipped: (totals.map_or(&[][..], |t| t.skipped).iter())
            .map(|s| SkippedOut {
                path: crate::source::display_path(&s.path),
                reason: &s.reason,
            })
            .collect(),
        statistics: (totals.map_or(&[][..], |t| t.statistics).iter())
            .map(|&(count, m)| Statistic {
                code: m.code,
                name: m.name,
                count,
            })
            .collect(),
    }
}
