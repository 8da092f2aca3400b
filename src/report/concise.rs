//! `path:line:col: severity CODE message`, one line per finding (editors, grep). Paths and
//! messages are escaped ([`crate::escape::line`]): a finding is always exactly one line.

use std::io::{self, Write};

use super::{Emitter, ReportCtx, start_end, summary_line};
use crate::diagnostic::Diagnostic;
use crate::escape::line;

pub struct Concise;

impl Emitter for Concise {
    fn emit(
        &mut self,
        w: &mut dyn Write,
        diagnostics: &[Diagnostic],
        cx: &ReportCtx,
    ) -> io::Result<()> {
        // One result per location: findings through one YAML anchor are merged.
        let merged = super::merge_locations(diagnostics);
        let all = diagnostics;
        let diagnostics = &merged[..];
        for d in super::reported(diagnostics) {
            writeln!(w, "{}", concise_line(d))?;
        }
        if cx.statistics {
            w.write_all(super::statistics_table(all).as_bytes())?;
        }
        if !cx.quiet {
            writeln!(w, "{}", summary_line(all, cx))?;
        }
        Ok(())
    }
}

/// `path:line:col: severity CODE message` for one finding, escaped (also the fallback of the
/// full report and the body of a JUnit failure).
pub fn concise_line(d: &Diagnostic) -> String {
    let (start, _) = start_end(d);
    format!(
        "{}:{}:{}: {} {} {}",
        line(&d.file.display),
        start.line,
        start.column,
        d.severity,
        d.rule.code,
        line(&d.message)
    )
}
