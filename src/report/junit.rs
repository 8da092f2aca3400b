//! JUnit XML, in the shape Jenkins (junit plugin) and GitLab (`artifacts:reports:junit`) read:
//! `<testsuites>` → one `<testsuite>` per checked file → one `<testcase>` per finding, holding a
//! `<failure message type>`; a file without findings has one passing test case. No `time` or
//! `timestamp` attributes: the report is deterministic.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::{Emitter, ReportCtx, start_end};
use crate::diagnostic::Diagnostic;
use crate::escape::line;

pub struct Junit;

impl Emitter for Junit {
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
        let tests: usize =
            by_file.values().map(|v| v.len().max(1)).sum::<usize>() + cx.errors.len();
        let failures: usize = by_file.values().map(Vec::len).sum();

        let mut out = String::new();
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<testsuites name=\"sandlint\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{}\">",
            cx.errors.len()
        );
        for (file, findings) in &by_file {
            let file = escape(file);
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
            // Written suite by suite: the report is never whole in memory.
            w.write_all(out.as_bytes())?;
            out.clear();
        }
        if !cx.errors.is_empty() {
            // Unreadable paths: one suite with an `<error>` per path.
            let _ = writeln!(
                out,
                "  <testsuite name=\"sandlint\" tests=\"{0}\" failures=\"0\" errors=\"{0}\" skipped=\"0\">",
                cx.errors.len()
            );
            for e in &cx.errors {
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
