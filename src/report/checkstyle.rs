//! Checkstyle XML (`<checkstyle version="4.3">`), read by Jenkins Warnings NG, reviewdog,
//! SonarQube and others: one `<file>` per checked file (empty when clean), one `<error>` per
//! finding with `source="sandlint.CODE"` and severity `error`, `warning` or `info`.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::junit::escape;
use super::{Emitter, ReportCtx, start_end};
use crate::diagnostic::Diagnostic;

pub struct Checkstyle;

impl Emitter for Checkstyle {
    fn emit(
        &mut self,
        w: &mut dyn Write,
        diagnostics: &[Diagnostic],
        cx: &ReportCtx,
    ) -> io::Result<()> {
        // One result per location: findings through one YAML anchor are merged.
        let merged = super::merge_locations(diagnostics);
        let diagnostics = &merged[..];
        let by_file = super::by_file(diagnostics, cx);
        let mut out = String::new();
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<checkstyle version=\"4.3\">\n");
        for (file, findings) in &by_file {
            if findings.is_empty() {
                let _ = writeln!(out, "  <file name=\"{}\"/>", escape(file));
                continue;
            }
            let _ = writeln!(out, "  <file name=\"{}\">", escape(file));
            for d in findings {
                let (start, _) = start_end(d);
                let _ = writeln!(
                    out,
                    "    <error line=\"{}\" column=\"{}\" severity=\"{}\" message=\"{}\" source=\"sandlint.{}\"/>",
                    start.line,
                    start.column,
                    d.severity,
                    escape(&d.message),
                    d.rule.code
                );
            }
            out.push_str("  </file>\n");
            // Written file by file: the report is never whole in memory.
            w.write_all(out.as_bytes())?;
            out.clear();
        }
        for e in &cx.errors {
            // Unreadable paths, as checkstyle reports files it could not parse.
            let _ = writeln!(
                out,
                "  <file name=\"{}\">\n    <error severity=\"error\" message=\"{}\" source=\"sandlint.io\"/>\n  </file>",
                escape(&crate::source::display_path(e.path())),
                escape(&e.to_string())
            );
        }
        out.push_str("</checkstyle>\n");
        w.write_all(out.as_bytes())
    }
}
