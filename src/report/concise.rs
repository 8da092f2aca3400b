//! `path:line:col: severity CODE message`, one line per finding (editors, grep). Paths and
//! messages are escaped ([`crate::escape::line`]): a finding is always exactly one line.

use std::io::{self, Write};

use super::{Emitter, start_end};
use crate::diagnostic::Diagnostic;
use crate::escape::line;

pub struct Concise;

impl Emitter for Concise {
    fn file(&mut self, w: &mut dyn Write, group: &super::FileGroup<'_>) -> io::Result<()> {
        // One result per location: findings through one YAML anchor are merged.
        let merged = super::merge_locations(group.findings);
        for d in super::reported(&merged) {
            writeln!(w, "{}", concise_line(d))?;
        }
        Ok(())
    }

    fn end(&mut self, w: &mut dyn Write, totals: &super::Totals<'_>) -> io::Result<()> {
        super::write_trailer(w, totals)
    }
}

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
