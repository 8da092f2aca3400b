//! JUnit XML, in the shape Jenkins (junit plugin) and GitLab (`artifacts:reports:junit`) read:
//! `<testsuites>` → one `<testsuite>` per checked file → one `<testcase>` per finding, holding a
//! `<failure message type>`; a file without findings has one passing test case. No `time` or
//! `timestamp` attributes: the report is deterministic.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::{Emitter, start_end};
use crate::diagnostic::Diagnostic;
use crate::escape::line;

/// The suites are written to [`Body`] as the files come; the header, which carries the totals,
/// is written at the end, then the body.
#[derive(Default)]
pub struct Junit {
    body: Body,
    tests: usize,
    failures: usize,
}

impl Emitter for Junit {
    fn file(&mut self, _w: &mut dyn Write, group: &super::FileGroup<'_>) -> io::Result<()> {
        // One result per location: findings through one YAML anchor are merged.
        let merged = super::merge_locations(group.findings);
        let findings: Vec<&Diagnostic> = super::reported(&merged).collect();
        if findings.is_empty() && !group.checked {
            return Ok(());
        }
        self.tests += findings.len().max(1);
        self.failures += findings.len();
        let file = escape(group.display);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{file}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\">",
            findings.len().max(1),
            findings.len()
        );
        if findings.is_empty() {
            let _ = writeln!(
                out,
                "    <testcase name=\"sandlint\" classname=\"{file}\" file=\"{file}\"/>"
            );
        }
        for d in findings {
            let (start, _) = start_end(d);
            let _ = writeln!(
                out,
                "    <testcase name=\"{} {} at {}:{}\" classname=\"{file}\" file=\"{file}\" line=\"{}\">",
                d.rule.code, d.rule.name, start.line, start.column, start.line
            );
            let mut body = super::concise::concise_line(d);
            if let Some(help) = &d.help {
                let _ = write!(body, "\nhelp: {}", line(help));
            }
            let _ = write!(body, "\nsee: {}", d.rule.url());
            let _ = writeln!(
                out,
                "      <failure message=\"{}\" type=\"{}\">{}</failure>",
                escape(&d.message),
                d.rule.code,
                escape_text(&body)
            );
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
        self.body.write(out.as_bytes())
    }

    fn end(&mut self, w: &mut dyn Write, totals: &super::Totals<'_>) -> io::Result<()> {
        let errors = totals.errors;
        let mut out = String::new();
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<testsuites name=\"sandlint\" tests=\"{}\" failures=\"{}\" errors=\"{}\">",
            self.tests + errors.len(),
            self.failures,
            errors.len()
        );
        w.write_all(out.as_bytes())?;
        std::mem::take(&mut self.body).copy_to(w)?;
        out.clear();
        if !errors.is_empty() {
            // Unreadable paths: one suite with an `<error>` per path.
            let _ = writeln!(
                out,
                "  <testsuite name=\"sandlint\" tests=\"{0}\" failures=\"0\" errors=\"{0}\" skipped=\"0\">",
                errors.len()
            );
            for e in errors {
                let path = escape(&crate::source::display_path(e.path()));
                let _ = writeln!(
                    out,
                    "    <testcase name=\"read {path}\" classname=\"{path}\">\n      <error message=\"{}\" type=\"io\"/>\n    </testcase>",
                    escape(&e.to_string())
                );
            }
            out.push_str("  </testsuite>\n");
        }
        out.push_str("</testsuites>\n");
        w.write_all(out.as_bytes())
    }
}

/// Past this many bytes the body moves from memory to an anonymous temporary file (deleted when
/// closed, even if sandlint is killed): a report over a large tree does not hold tens of MB.
const SPILL_AT: usize = 4 << 20;

/// The suites written so far.
enum Body {
    Memory(Vec<u8>),
    File(io::BufWriter<std::fs::File>),
}

impl Default for Body {
    fn default() -> Self {
        Body::Memory(Vec::new())
    }
}

impl Body {
    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Body::Memory(v) => {
                v.extend_from_slice(bytes);
                // No temporary directory to write to: the body stays in memory.
                if v.len() > SPILL_AT
                    && let Ok(file) = tempfile::tempfile()
                {
                    let mut file = io::BufWriter::new(file);
                    file.write_all(v)?;
                    *self = Body::File(file);
                }
                Ok(())
            }
            Body::File(f) => f.write_all(bytes),
        }
    }

    fn copy_to(self, w: &mut dyn Write) -> io::Result<()> {
        match self {
            Body::Memory(v) => w.write_all(&v),
            Body::File(f) => {
                use std::io::Seek;
                let mut file = f.into_inner().map_err(io::IntoInnerError::into_error)?;
                file.seek(io::SeekFrom::Start(0))?;
                io::copy(&mut file, w).map(drop)
            }
        }
    }
}

/// Escapes file-derived text for an XML 1.0 attribute value (also safe in element content):
/// unsafe characters become visible escapes first ([`crate::escape::line`]: a report viewer shows
/// no control or bidi character, and XML 1.0 could not carry most of them anyway), then markup
/// characters become entities.
pub fn escape(s: &str) -> String {
    let s = crate::escape::line(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if !allowed_in_xml(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Escapes element content built from [`crate::escape::line`]-safe pieces joined by line breaks:
/// markup characters become entities, line breaks stay.
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' => out.push(c),
            c if crate::escape::is_unsafe(c) || !allowed_in_xml(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// XML 1.0 `Char`: `#x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]`.
fn allowed_in_xml(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(
            escape("a<b & \"c\" 'd'\n\u{1}\u{202e}"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;\\n\\x01\\u{202e}"
        );
        assert_eq!(escape_text("x > y\n]]>"), "x &gt; y\n]]&gt;");
    }
}
