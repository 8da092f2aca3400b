//! Physical lines → logical lines, BuildKit style (`frontend/dockerfile/parser/parser.go`).
//!
//! - parser directives (`# syntax=`, `# escape=`, `# check=`) are recognised on every line until the
//!   first line that is not a directive (an instruction, a blank line, any other comment);
//! - a line ending with the escape character (optionally followed by spaces/tabs) continues on the
//!   next line, unless the escape character is itself escaped; comment lines and blank lines inside a
//!   continuation are dropped;
//! - line endings (`\n`, `\r\n`) are not part of a line; a UTF-8 BOM on the first line is skipped;
//! - heredoc bodies are read on request by the parser, which knows which instructions may have them.
//!
//! Everything is byte-offset based and linear in the input size.

use super::model::{Directive, ParseError, Text};
use crate::source::{Span, Spanned};

/// BuildKit's `bufio.Scanner` refuses longer lines.
const MAX_LINE: usize = 65535;

/// One physical line: `start..end` excludes the line ending; `next` is where the following line starts.
#[derive(Debug, Clone, Copy)]
struct PhysLine {
    start: usize,
    end: usize,
    next: usize,
}

/// An instruction's text with its continuations removed.
#[derive(Debug, Clone)]
pub(crate) struct LogicalLine {
    /// The joined text and where each piece came from.
    pub text: Text,
    /// End (exclusive, source offset) of the last line that contributed text, trailing blanks excluded.
    pub end: u32,
}

/// A heredoc body read from the source.
#[derive(Debug, Clone)]
pub(crate) struct HeredocBody {
    pub body: Text,
    /// End of the terminator line (without its line ending); `None` when the heredoc is unterminated.
    pub terminator_end: Option<u32>,
}

pub(crate) struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    first_line: bool,
    escape: char,
    directives_done: bool,
    pub directives: Vec<Directive>,
    pub errors: Vec<ParseError>,
}

fn off(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// `unicode.IsSpace`.
pub(crate) fn is_space(c: char) -> bool {
    c.is_whitespace()
}

impl<'a> Lexer<'a> {
    pub fn new(src: &'a str) -> Self {
        Lexer {
            src,
            pos: 0,
            first_line: true,
            escape: '\\',
            directives_done: false,
            directives: Vec::new(),
            errors: Vec::new(),
        }
    }

    pub fn escape(&self) -> char {
        self.escape
    }

    fn next_phys(&mut self) -> Option<PhysLine> {
        let bytes = self.src.as_bytes();
        if self.pos >= bytes.len() {
            return None;
        }
        let mut start = self.pos;
        if self.first_line {
            self.first_line = false;
            if bytes.get(start..start + 3) == Some(&[0xEF, 0xBB, 0xBF][..]) {
                start += 3;
            }
        }
        let rest = bytes.get(start..).unwrap_or(&[]);
        let (mut end, next) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (start + i, start + i + 1),
            None => (bytes.len(), bytes.len()),
        };
        // trimNewline: every trailing \r and \n goes.
        while end > start && bytes.get(end - 1) == Some(&b'\r') {
            end -= 1;
        }
        if next - self.pos > MAX_LINE + 1 {
            self.errors.push(ParseError {
                message: format!("line longer than the {MAX_LINE} bytes BuildKit accepts"),
                span: Span::from_range(start..end),
                help: Some("split the line with line continuations".to_string()),
            });
        }
        self.pos = next;
        Some(PhysLine { start, end, next })
    }

    fn slice(&self, start: usize, end: usize) -> &'a str {
        self.src.get(start..end).unwrap_or("")
    }

    /// Start of the line after skipping leading whitespace (`unicode.IsSpace`).
    fn trim_start(&self, line: PhysLine) -> usize {
        let s = self.slice(line.start, line.end);
        line.start + (s.len() - s.trim_start_matches(is_space).len())
    }

    fn is_comment(&self, line: PhysLine) -> bool {
        let s = self.slice(line.start, line.end);
        s.trim_start_matches(is_space).starts_with('#')
    }

    /// The continuation check of `trimContinuationCharacter`: returns the end of the kept text when
    /// the line (from `start`) ends with an unescaped escape character plus optional blanks.
    fn continuation(&self, start: usize, end: usize) -> Option<usize> {
        let s = self.slice(start, end);
        let t = s.trim_end_matches([' ', '\t']);
        let before = t.strip_suffix(self.escape)?;
        if before.is_empty() || !before.ends_with(self.escape) {
            Some(start + before.len())
        } else {
            None
        }
    }

    /// Feeds a line to the directive parser (`DirectiveParser.ParseLine`).
    fn directive(&mut self, start: usize, end: usize) {
        if self.directives_done {
            return;
        }
        let Some(d) = match_directive(self.src, start, end) else {
            self.directives_done = true;
            return;
        };
        let name = d.name.value.clone();
        if !matches!(name.as_str(), "syntax" | "escape" | "check") {
            self.directives_done = true;
            return;
        }
        if self.directives.iter().any(|x| x.name.value == name) {
            self.errors.push(ParseError {
                message: format!("only one `{name}` parser directive can be used"),
                span: d.span,
                help: Some("remove the repeated directive".to_string()),
            });
            return;
        }
        if name == "escape" {
            match d.value.value.as_str() {
                "\\" => self.escape = '\\',
                "`" => self.escape = '`',
                other => self.errors.push(ParseError {
                    message: format!("invalid escape character `{other}`"),
                    span: d.value.span,
                    help: Some("use `# escape=\\` or `# escape=``".to_string()),
                }),
            }
        }
        self.directives.push(d);
    }

    /// The next instruction line, continuations joined. `None` at end of input.
    pub fn next_logical(&mut self) -> Option<LogicalLine> {
        loop {
            let line = self.next_phys()?;
            let start = self.trim_start(line);
            self.directive(start, line.end);
            if self.slice(start, line.end).starts_with('#') {
                continue;
            }
            let (keep_end, mut more) = match self.continuation(start, line.end) {
                Some(e) => (e, true),
                None => (line.end, false),
            };
            if !more && keep_end == start {
                continue;
            }
            let mut b = TextBuilder::default();
            b.push(self.src, start, keep_end);
            let mut last_end = trim_blank_end(self.src, start, line.end);
            while more {
                let Some(line) = self.next_phys() else { break };
                self.directive(line.start, line.end);
                if self.is_comment(line) {
                    continue;
                }
                if self
                    .slice(line.start, line.end)
                    .trim_start_matches(is_space)
                    .is_empty()
                {
                    continue;
                }
                let keep_end = match self.continuation(line.start, line.end) {
                    Some(e) => e,
                    None => {
                        more = false;
                        line.end
                    }
                };
                b.push(self.src, line.start, keep_end);
                last_end = trim_blank_end(self.src, line.start, line.end);
            }
            let text = b.finish(off(start));
            return Some(LogicalLine {
                text,
                end: off(last_end),
            });
        }
    }

    /// Reads a heredoc body up to the line equal to `name` (leading tabs ignored when `chomp`).
    pub fn read_heredoc(&mut self, name: &str, chomp: bool) -> HeredocBody {
        let body_start = self.pos;
        let mut b = TextBuilder::default();
        while let Some(line) = self.next_phys() {
            let s = self.slice(line.start, line.end);
            let tabs = s.len() - s.trim_start_matches('\t').len();
            let candidate = if chomp {
                s.get(tabs..).unwrap_or("")
            } else {
                s
            };
            if candidate == name {
                let body = if chomp {
                    b.finish(off(body_start))
                } else {
                    contiguous(self.src, body_start, line.start)
                };
                return HeredocBody {
                    body,
                    terminator_end: Some(off(line.end)),
                };
            }
            if chomp {
                b.push(self.src, line.start + tabs, line.next);
            }
        }
        let body = if chomp {
            b.finish(off(body_start))
        } else {
            contiguous(self.src, body_start, self.src.len())
        };
        HeredocBody {
            body,
            terminator_end: None,
        }
    }
}

fn contiguous(src: &str, start: usize, end: usize) -> Text {
    Text::contiguous(src.get(start..end).unwrap_or("").to_string(), off(start))
}

fn trim_blank_end(src: &str, start: usize, end: usize) -> usize {
    let s = src.get(start..end).unwrap_or("");
    start + s.trim_end_matches(is_space).len()
}

/// Builds a [`Text`] from source pieces.
#[derive(Default)]
pub(crate) struct TextBuilder {
    value: String,
    pieces: Vec<(u32, u32)>,
    last: Option<u32>,
}

impl TextBuilder {
    pub fn push(&mut self, src: &str, start: usize, end: usize) {
        if end <= start {
            return;
        }
        let Some(s) = src.get(start..end) else { return };
        // Merge with the previous piece when it is adjacent in the source.
        if self.last != Some(off(start)) {
            self.pieces.push((off(self.value.len()), off(start)));
        }
        self.value.push_str(s);
        self.last = Some(off(end));
    }

    /// `start` is used for the span of an empty text.
    pub fn finish(self, start: u32) -> Text {
        if self.pieces.is_empty() {
            return Text::contiguous(String::new(), start);
        }
        let mut text = Text {
            value: self.value,
            span: Span::at(start),
            pieces: self.pieces,
        };
        let len = off(text.value.len());
        text.span = text.source_span(0, len);
        text
    }
}

/// `^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$` on `src[start..end]`, with spans.
pub(super) fn match_directive(src: &str, start: usize, end: usize) -> Option<Directive> {
    let line = src.get(start..end)?;
    let b = line.as_bytes();
    let ws = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0c);
    let mut i = 0;
    if b.first() != Some(&b'#') {
        return None;
    }
    i += 1;
    while b.get(i).is_some_and(|&c| ws(c)) {
        i += 1;
    }
    let name_start = i;
    if !b.get(i).is_some_and(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    while b.get(i).is_some_and(|c| c.is_ascii_alphanumeric()) {
        i += 1;
    }
    let name_end = i;
    while b.get(i).is_some_and(|&c| ws(c)) {
        i += 1;
    }
    if b.get(i) != Some(&b'=') {
        return None;
    }
    i += 1;
    while b.get(i).is_some_and(|&c| ws(c)) {
        i += 1;
    }
    let value_start = i;
    let mut value_end = b.len();
    while value_end > value_start && b.get(value_end - 1).is_some_and(|&c| ws(c)) {
        value_end -= 1;
    }
    if value_end <= value_start {
        return None;
    }
    let name = line.get(name_start..name_end)?.to_ascii_lowercase();
    let value = line.get(value_start..value_end)?.to_string();
    Some(Directive {
        name: Spanned::new(name, Span::from_range(start + name_start..start + name_end)),
        value: Spanned::new(
            value,
            Span::from_range(start + value_start..start + value_end),
        ),
        span: Span::from_range(start..end),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(src: &str) -> Vec<String> {
        let mut lx = Lexer::new(src);
        let mut out = Vec::new();
        while let Some(l) = lx.next_logical() {
            out.push(l.text.value);
        }
        out
    }

    #[test]
    fn continuation_comments_and_blank_lines() {
        let src = "RUN a \\\n# c\n\n  b \\\n\\\n c\nRUN d";
        assert_eq!(lines(src), vec!["RUN a   b  c", "RUN d"]);
    }

    #[test]
    fn escaped_escape_is_not_a_continuation() {
        assert_eq!(
            lines("ENV C x\\\\\nENV D y"),
            vec!["ENV C x\\\\", "ENV D y"]
        );
    }

    #[test]
    fn crlf_and_bom() {
        let src = "\u{feff}FROM a\r\nRUN b \\\r\n c\r\n";
        assert_eq!(lines(src), vec!["FROM a", "RUN b  c"]);
    }

    #[test]
    fn continuation_at_eof() {
        assert_eq!(lines("RUN a \\"), vec!["RUN a "]);
    }

    #[test]
    fn pieces_map_back_through_continuations() {
        let src = "RUN ab \\\n  # x\n   cd";
        let mut lx = Lexer::new(src);
        let l = lx.next_logical().unwrap();
        assert_eq!(l.text.value, "RUN ab    cd");
        let t = &l.text;
        let cd = t.value.find("cd").unwrap() as u32;
        let span = t.source_span(cd, cd + 2);
        assert_eq!(&src[span.range()], "cd");
        // A range across the removed continuation covers it in the source.
        let ab = t.value.find("ab").unwrap() as u32;
        let span = t.source_span(ab, cd + 2);
        assert_eq!(&src[span.range()], "ab \\\n  # x\n   cd");
        assert_eq!(t.span, Span::new(0, src.len() as u32));
        assert_eq!(l.end as usize, src.len());
    }

    #[test]
    fn escape_directive_and_section_end() {
        let mut lx =
            Lexer::new("# syntax=docker/dockerfile:1\n#escape = `\nFROM a `\n  b\n# escape=\\\n");
        let l = lx.next_logical().unwrap();
        assert_eq!(l.text.value, "FROM a   b");
        assert!(lx.next_logical().is_none());
        assert_eq!(lx.escape(), '`');
        assert_eq!(lx.directives.len(), 2);
        assert_eq!(lx.directives[1].name.value, "escape");
        assert!(lx.errors.is_empty());
    }

    #[test]
    fn directive_after_comment_is_a_comment() {
        let mut lx = Lexer::new("# hello\n# escape=`\nFROM a");
        assert!(lx.next_logical().is_some());
        assert_eq!(lx.escape(), '\\');
        assert!(lx.directives.is_empty());
    }

    #[test]
    fn bad_and_repeated_directives() {
        let mut lx = Lexer::new("# escape=x\n# syntax=a\n# syntax=b\nFROM a");
        while lx.next_logical().is_some() {}
        let msgs: Vec<_> = lx.errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(
            msgs,
            vec![
                "invalid escape character `x`",
                "only one `syntax` parser directive can be used"
            ]
        );
        assert_eq!(lx.errors[0].span, Span::new(9, 10));
    }

    #[test]
    fn heredoc_body_and_chomp() {
        let src = "RUN <<-EOF\n\t\tone\n\ttwo\n\tEOF\nNEXT";
        let mut lx = Lexer::new(src);
        lx.next_logical().unwrap();
        let h = lx.read_heredoc("EOF", true);
        assert_eq!(h.body.value, "one\ntwo\n");
        let two = h.body.value.find("two").unwrap() as u32;
        assert_eq!(&src[h.body.source_span(two, two + 3).range()], "two");
        assert_eq!(h.terminator_end, Some(26));
        assert_eq!(lx.next_logical().unwrap().text.value, "NEXT");
    }

    #[test]
    fn unterminated_heredoc_reads_to_eof() {
        let mut lx = Lexer::new("RUN <<EOF\nabc\n");
        lx.next_logical().unwrap();
        let h = lx.read_heredoc("EOF", false);
        assert_eq!(h.body.value, "abc\n");
        assert!(h.terminator_end.is_none());
    }

    #[test]
    fn huge_continuation_is_linear() {
        let mut src = String::from("RUN a");
        for _ in 0..200_000 {
            src.push_str(" \\\n b");
        }
        let l = lines(&src);
        assert_eq!(l.len(), 1);
    }
}
