//! Checkstyle XML (`<checkstyle version="4.3">`), read by Jenkins Warnings NG, reviewdog,
//! SonarQube and others: one `<file>` per checked file (empty when clean), one `<error>` per
//! finding with `source="sandlint.CODE"` and severity `error`, `warning` or `info`.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::junit::escape;
use super::{Emitter, start_end};
use crate::diagnostic::Diagnostic;

pub struct Checkstyle;

impl Emitter for Checkstyle {
    fn begin(&mut self, w: &mut dyn Write, _settings: &super::Settings) -> io::Result<()> {
        w.write_all(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<checkstyle version=\"4.3\">\n")
    }

    fn file(&mut self, w: &mut dyn Write, group: &super::FileGroup<'_>) -> io::Result<()> {
        // One result per location: findings through one YAML anchor are merged.
        let merged = super::merge_locations(group.findings);
        let findings: Vec<&Diagnostic> = super::reported(&merged).collect();
        if findings.is_empty() {
            if group.checked {
                writeln!(w, "  <file name=\"{}\"/>", escape(group.display))?;
            }
            return Ok(());
        }
        let mut out = String::new();
        let _ = writeln!(out, "  <file name=\"{}\">", escape(group.display));
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
        w.write_all(out.as_bytes())
    }

    fn end(&mut self, w: &mut dyn Write, totals: &super::Totals<'_>) -> io::Result<()> {
        let mut out = String::new();
        for e in totals.errors {
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
