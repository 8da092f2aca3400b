//! GitHub Actions workflow commands: one `::error`/`::warning`/`::notice` line per finding, shown
//! as annotations on pull requests.
//!
//! `::error file=F,line=L,col=C,endLine=EL,endColumn=EC,title=CODE name::message`. Property values
//! and the message are escaped exactly as `@actions/core` does (`escapeProperty`/`escapeData` in
//! `toolkit/packages/core/src/command.ts`), after the text is made safe for a log line
//! ([`crate::escape::line`]: control characters, which the Actions log would render as colors or
//! links, and bidi controls become visible escapes; so `%0A` can only come from a literal `%`).

use std::io::{self, Write};

use super::Emitter;
use crate::diagnostic::Severity;
use crate::escape::line;

pub struct Github;

impl Emitter for Github {
    fn end(&mut self, _w: &mut dyn Write, _totals: &super::Totals<'_>) -> io::Result<()> {
        Ok(())
    }

    fn file(&mut self, w: &mut dyn Write, group: &super::FileGroup<'_>) -> io::Result<()> {
        // One result per location: findings through one YAML anchor are merged.
        let merged = super::merge_locations(group.findings);
        let diagnostics = &merged[..];
        for d in diagnostics.iter().filter(|d| d.suppression.is_none()) {
            let command = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "notice",
            };
            let (start, end) = super::gitlab::start_end_inclusive(d);
            writeln!(
                w,
                "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}",
                escape_property(&line(&d.file.display)),
                start.line,
                start.column,
                end.line,
                end.column,
                escape_property(&format!("{} {}", d.rule.code, d.rule.name)),
                escape_data(&line(&d.message)),
            )?;
        }
        Ok(())
    }
}

/// `escapeData`: `%`, `\r` and `\n`.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// `escapeProperty`: `%`, `\r`, `\n`, `:` and `,`.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_matches_the_toolkit() {
        assert_eq!(
            escape_data("50% done\r\nnext: a,b"),
            "50%25 done%0D%0Anext: a,b"
        );
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }
}
