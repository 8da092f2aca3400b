//! The versioned JSON report (schema documented in the README, "JSON output").

use std::io::{self, Write};

use serde::Serialize;

use super::{Counts, Emitter, Totals, jsonw};
use crate::diagnostic::Diagnostic;
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
struct PathError {
    path: String,
    message: String,
}

/// One finding of the `findings` array (the README's "JSON output" documents the members),
/// written into `out` as an element nested `level` deep. The members, in order: `code`, `name`,
/// `severity`, `message`, `help`, `file`; `service` (the Compose service, `null` elsewhere: the
/// first of `services`); `services` (every service the finding stands for: more than one when
/// a YAML anchor puts the same location in several services, one finding, not one per
/// service); `stage` (the Dockerfile build stage: its name, else its base image; `null`
/// elsewhere); `start`, `end`, `labels`, `url`; `fix` (the edits that fix the finding, `null`
/// when it has none: `sandlint check --fix` applies the safe ones, `--unsafe-fixes` the rest;
/// an edit's bytes from `start` to `end` of its `file` become `replacement`, an empty range
/// inserts). The tests hold it to the serde structs it replaced.
fn write_finding(out: &mut Vec<u8>, level: usize, d: &Diagnostic) {
    let mut o = jsonw::Object::open(out, level);
    o.static_str("code", d.rule.code);
    o.static_str("name", d.rule.name);
    o.static_str("severity", d.severity.as_str());
    o.str("message", &d.message);
    o.opt_str("help", d.help.as_deref());
    o.str("file", &d.file.display);
    o.opt_str("service", d.service());
    let mut services = o.array("services");
    for service in d.services() {
        services.str(service);
    }
    services.close();
    o.opt_str("stage", d.stage());
    positions(&mut o, &d.file, d.span);
    let mut labels = o.array("labels");
    for l in &d.labels {
        let mut label = labels.object();
        label.str("file", &l.file.display);
        label.str("message", &l.message);
        positions(&mut label, &l.file, l.span);
        label.close();
    }
    labels.close();
    o.static_parts("url", &d.rule.url_parts());
    match &d.fix {
        None => o.null("fix"),
        Some(f) => {
            let mut fix = o.object("fix");
            fix.static_str("applicability", f.applicability.as_str());
            fix.str("message", &f.message);
            let mut edits = fix.array("edits");
            for e in &f.edits {
                let mut edit = edits.object();
                edit.str("file", &e.file.display);
                positions(&mut edit, &e.file, e.span);
                edit.str("replacement", &e.replacement);
                edit.close();
            }
            edits.close();
            fix.close();
        }
    }
    o.close();
}

/// The `start` and `end` members of `span` in `file`: line, column (both from 1) and offset.
fn positions(o: &mut jsonw::Object<'_>, file: &FileRef, span: Span) {
    for (key, offset) in [("start", span.start), ("end", span.end)] {
        let at = file.line_col(offset);
        let mut p = o.object(key);
        p.u32("line", at.line);
        p.u32("column", at.column);
        p.u32("offset", offset);
        p.close();
    }
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
                a.element_with(w, |out, level| {
                    write_finding(out, level, d);
                    Ok(())
                })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::{Label, Severity};
    use crate::discover::{NameMatch, classify_name};
    use crate::fix::{Applicability, Edit, Fix};
    use crate::source::SourceFile;

    // The serde structs the JSON report's findings were written from before `write_finding`
    // (its oracle: the same member order, `serde_json`'s layout and the report's escaping).
    #[derive(Serialize)]
    struct Finding<'a> {
        code: &'static str,
        name: &'static str,
        severity: Severity,
        message: &'a str,
        help: Option<&'a str>,
        file: &'a str,
        service: Option<&'a str>,
        services: Vec<&'a str>,
        stage: Option<&'a str>,
        start: Position,
        end: Position,
        labels: Vec<LabelOut<'a>>,
        url: String,
        fix: Option<FixOut<'a>>,
    }

    #[derive(Serialize)]
    struct FixOut<'a> {
        applicability: Applicability,
        message: &'a str,
        edits: Vec<EditOut<'a>>,
    }

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

    fn position(file: &FileRef, offset: u32) -> Position {
        let at = file.line_col(offset);
        Position {
            line: at.line,
            column: at.column,
            offset,
        }
    }

    fn oracle(d: &Diagnostic) -> Finding<'_> {
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
            start: position(&d.file, d.span.start),
            end: position(&d.file, d.span.end),
            labels: (d.labels.iter())
                .map(|l| LabelOut {
                    file: &l.file.display,
                    message: &l.message,
                    start: position(&l.file, l.span.start),
                    end: position(&l.file, l.span.end),
                })
                .collect(),
            url: d.rule.url(),
            fix: d.fix.as_ref().map(|f| FixOut {
                applicability: f.applicability,
                message: &f.message,
                edits: (f.edits.iter())
                    .map(|e| EditOut {
                        file: &e.file.display,
                        start: position(&e.file, e.span.start),
                        end: position(&e.file, e.span.end),
                        replacement: &e.replacement,
                    })
                    .collect(),
            }),
        }
    }

    fn assert_same(d: &Diagnostic) {
        for level in [0, 2] {
            let mut fast = Vec::new();
            write_finding(&mut fast, level, d);
            let mut serde = Vec::new();
            crate::escape::to_writer_pretty_at(&mut serde, &oracle(d), level).unwrap();
            assert_eq!(
                String::from_utf8(fast).unwrap(),
                String::from_utf8(serde).unwrap(),
                "{d:?}"
            );
        }
    }

    /// Every finding of every fixture the linter reads by name: what the rules really report
    /// (labels, fixes, scopes, messages quoting file content).
    #[test]
    fn findings_of_the_fixtures_are_written_as_serde_writes_them() {
        let (mut files, mut findings, mut with) = (0, 0, [0; 3]);
        let all = crate::selection::Selection::all();
        for path in crate::testing::repository_files(&["fixtures"]) {
            let Some(NameMatch::Known(kind) | NameMatch::Probable(kind)) = classify_name(&path)
            else {
                continue;
            };
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            files += 1;
            for d in crate::linter::lint_text(kind, &path.to_string_lossy(), &text, &all) {
                findings += 1;
                with[0] += usize::from(!d.labels.is_empty());
                with[1] += usize::from(d.fix.is_some());
                with[2] += usize::from(d.service().is_some() || d.stage().is_some());
                assert_same(&d);
            }
        }
        // The walk found what it is for: many files, and findings with each optional part.
        assert!(
            files > 100 && findings > 500,
            "{files} files, {findings} findings"
        );
        assert!(with.iter().all(|&n| n > 20), "{with:?}");
    }

    /// Hostile text in every string member, several services, labels, a fix of two edits.
    #[test]
    fn a_finding_with_every_part_and_hostile_text() {
        let hostile = "a\"b\\c\n\r\t\u{8}\u{c}\u{1b}[2J\u{7f}\u{9b}\u{202e}é👩\u{2028}";
        let file =
            SourceFile::virtual_file(&format!("dir/{hostile}/compose.yaml"), "x: 1\ny♥: 2\n")
                .into_ref();
        let meta = crate::rules::ALL.first().unwrap().meta();
        let mut d = Diagnostic::new(
            meta,
            file.clone(),
            Span::new(2, 9),
            format!("service `{hostile}` sets"),
        );
        d.severity = Severity::Error;
        d.help = Some(hostile.to_string().into());
        d.shared = vec![format!("service:{hostile}"), "service:b".into()];
        d.labels = vec![Label {
            file: file.clone(),
            span: Span::new(5, 8),
            message: hostile.into(),
        }];
        d.fix = Some(Box::new(Fix::new(
            Applicability::Unsafe,
            hostile.to_string(),
            vec![
                Edit {
                    file: file.clone(),
                    span: Span::new(0, 0),
                    replacement: hostile.into(),
                },
                Edit {
                    file,
                    span: Span::new(11, 11),
                    replacement: String::new(),
                },
            ],
        )));
        assert_same(&d);
        d.fix = None;
        d.labels.clear();
        d.help = None;
        d.message = "no service".into();
        d.scope = Some("stage:build".into());
        assert_same(&d);
    }
}
