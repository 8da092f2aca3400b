//! JSON with comments (`//`, `/* */`) and trailing commas — the dialect of `devcontainer.json`,
//! as the Dev Containers CLI reads it (VS Code's `jsonc-parser`) — into the same span-keeping
//! [`Node`] tree the YAML reader builds, so that the models built from it share the YAML
//! model's helpers and every finding lands on the file's own bytes.
//!
//! - Strings are [`Style::DoubleQuoted`] scalars (their span includes the quotes); numbers,
//!   `true`, `false` and `null` are [`Style::Plain`] scalars written as they are in the file.
//! - An object keeps every member in file order, duplicates included: the Dev Containers CLI
//!   builds a JavaScript object, where the last of two equal keys wins, and a model must read
//!   the last one ([`last`]) — a reader who looks at the first would see what the tool ignores.
//! - Hostile input: no recursion (an explicit stack, at most [`MAX_DEPTH`] levels), one pass,
//!   time and memory linear in the text. The first syntax error stops the parse and is reported
//!   at its byte, with what was expected.
//!
//! - A file with a syntax error is refused, never read with recovery: VS Code's parser recovers
//!   and goes on, and a reader that guessed differently could be shown one value while the tool
//!   uses another.
//!
//! Measured against `jsonc-parser` 3 from npm (VS Code's, which the Dev Containers CLI reads
//! with) by `scripts/jsonc-differential.sh`: the 125 `devcontainer.json`,
//! `devcontainer-feature.json` and `devcontainer-template.json` files of `devcontainers/images`
//! and `microsoft/vscode-dev-containers`, plus 8 random one-character mutations of each —
//! 1,125/1,125 files read to the same value or rejected by both.
//!
//! Written here rather than taken from a crate: the tree is the YAML reader's own type, the
//! spans are this crate's (a file number and byte offsets), and the depth bound is ours; the
//! grammar is small (RFC 8259 plus the two comment forms and trailing commas).

use std::rc::Rc;

use super::model::LoadError;
use super::yaml::{MAX_DEPTH, NODE_WEIGHT, Node, NodeKind, Parsed, Style};
use crate::source::Span;

/// The value of the last member of `object` named `key` (see the module doc: the last wins).
pub fn last<'n>(object: &'n Node, key: &str) -> Option<&'n Rc<Node>> {
    object
        .as_map()?
        .iter()
        .rev()
        .find(|(k, _)| k.scalar() == Some(key))
        .map(|(_, v)| v)
}

/// Parses `text` (the file numbered `file`) into one root node, or the first syntax error.
pub fn parse_in(text: &str, file: u16) -> Parsed {
    let mut parsed = Parsed::default();
    if u32::try_from(text.len()).is_err() {
        parsed.errors.push(LoadError {
            message: "file too large to parse (more than 4 GiB)".to_string(),
            span: Span::new(0, 0).in_file(file),
            help: None,
        });
        return parsed;
    }
    match (Parser { text, pos: 0, file }).document() {
        Ok(root) => parsed.docs.push(root),
        Err(e) => parsed.errors.push(e),
    }
    parsed
}

/// What the parser looks for next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// A value (the document's, or a member's after its `:`).
    Value,
    /// After `[` or an item's `,`: an item, or `]` (a trailing comma is allowed).
    ItemOrEnd,
    /// After an item: `,` or `]`.
    AfterItem,
    /// After `{` or a member's `,`: a key, or `}`.
    KeyOrEnd,
    /// After a key.
    Colon,
    /// After a member's value: `,` or `}`.
    AfterMember,
    /// After the document's value: nothing but comments and blanks.
    End,
}

/// An object's members so far, and a key waiting for its value.
type Members = (Vec<(Rc<Node>, Rc<Node>)>, Option<Rc<Node>>);

/// An open array or object.
struct Frame {
    start: u32,
    items: Vec<Rc<Node>>,
    /// For an object: its members (`items` unused), and a key waiting for its value.
    members: Option<Members>,
}

struct Parser<'t> {
    text: &'t str,
    pos: usize,
    file: u16,
}

type Result<T> = std::result::Result<T, LoadError>;

impl Parser<'_> {
    fn span(&self, start: usize, end: usize) -> Span {
        // the text is at most u32::MAX bytes (checked by `parse_in`)
        let at = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Span::new(at(start), at(end)).in_file(self.file)
    }

    fn error(&self, start: usize, end: usize, message: String) -> LoadError {
        LoadError {
            message,
            span: self.span(start, end),
            help: None,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    /// The character at the parser's position, for a message.
    fn here(&self) -> String {
        match self.text.get(self.pos..).and_then(|t| t.chars().next()) {
            None => "the end of the file".to_string(),
            Some(c) if c.is_control() || c.is_whitespace() => format!("{:?}", c),
            Some(c) => format!("`{c}`"),
        }
    }

    fn expected(&self, what: &str) -> LoadError {
        let len = self
            .text
            .get(self.pos..)
            .and_then(|t| t.chars().next())
            .map_or(0, char::len_utf8);
        self.error(
            self.pos,
            self.pos + len,
            format!("expected {what}, found {}", self.here()),
        )
    }

    /// Skips blanks, `// …` and `/* … */`.
    fn trivia(&mut self) -> Result<()> {
        let bytes = self.text.as_bytes();
        loop {
            match bytes.get(self.pos..self.pos + 2) {
                Some(b"//") => {
                    self.pos = bytes[self.pos..]
                        .iter()
                        .position(|&b| b == b'\n')
                        .map_or(bytes.len(), |n| self.pos + n);
                }
                Some(b"/*") => {
                    let start = self.pos;
                    let close = self.text.get(start + 2..).and_then(|t| t.find("*/"));
                    match close {
                        Some(n) => self.pos = start + 2 + n + 2,
                        None => {
                            return Err(self.error(
                                start,
                                start + 2,
                                "unterminated comment: `/*` without `*/`".to_string(),
                            ));
                        }
                    }
                }
                _ => match self.peek() {
                    Some(b' ' | b'\t' | b'\n' | b'\r') => self.pos += 1,
                    _ => return Ok(()),
                },
            }
        }
    }

    fn document(&mut self) -> Result<Rc<Node>> {
        // a byte-order mark is not part of the document
        if self.text.starts_with('\u{feff}') {
            self.pos = '\u{feff}'.len_utf8();
        }
        let mut stack: Vec<Frame> = Vec::new();
        let mut expect = Expect::Value;
        let mut root: Option<Rc<Node>> = None;
        loop {
            self.trivia()?;
            let b = self.peek();
            let done: Option<Rc<Node>> = match expect {
                Expect::End => match b {
                    None => break,
                    Some(_) => return Err(self.expected("the end of the file")),
                },
                Expect::Colon => {
                    if b != Some(b':') {
                        return Err(self.expected("`:`"));
                    }
                    self.pos += 1;
                    expect = Expect::Value;
                    None
                }
                Expect::AfterItem | Expect::AfterMember => {
                    let close = if expect == Expect::AfterItem {
                        b']'
                    } else {
                        b'}'
                    };
                    match b {
                        Some(b',') => {
                            self.pos += 1;
                            expect = if expect == Expect::AfterItem {
                                Expect::ItemOrEnd
                            } else {
                                Expect::KeyOrEnd
                            };
                            None
                        }
                        Some(c) if c == close => Some(self.close(&mut stack)?),
                        _ if close == b']' => return Err(self.expected("`,` or `]`")),
                        _ => return Err(self.expected("`,` or `}`")),
                    }
                }
                Expect::KeyOrEnd => match b {
                    Some(b'}') => Some(self.close(&mut stack)?),
                    Some(b'"') => {
                        let key = self.string()?;
                        if let Some(Frame {
                            members: Some((_, pending)),
                            ..
                        }) = stack.last_mut()
                        {
                            *pending = Some(key);
                        }
                        expect = Expect::Colon;
                        None
                    }
                    _ => return Err(self.expected("a property name in double quotes, or `}`")),
                },
                Expect::ItemOrEnd if b == Some(b']') => Some(self.close(&mut stack)?),
                Expect::Value | Expect::ItemOrEnd => match b {
                    Some(open @ (b'{' | b'[')) => {
                        if stack.len() >= MAX_DEPTH {
                            return Err(self.error(
                                self.pos,
                                self.pos + 1,
                                format!("nesting is too deep (more than {MAX_DEPTH} levels)"),
                            ));
                        }
                        stack.push(Frame {
                            start: self.span(self.pos, self.pos).start,
                            items: Vec::new(),
                            members: (open == b'{').then(|| (Vec::new(), None)),
                        });
                        self.pos += 1;
                        expect = if open == b'{' {
                            Expect::KeyOrEnd
                        } else {
                            Expect::ItemOrEnd
                        };
                        None
                    }
                    Some(b'"') => Some(self.string()?),
                    Some(b'-' | b'0'..=b'9') => Some(self.number()?),
                    Some(b't' | b'f' | b'n') => Some(self.literal()?),
                    _ => return Err(self.expected("a value")),
                },
            };
            let Some(node) = done else {
                continue;
            };
            // the finished value goes into the open collection, or is the document
            match stack.last_mut() {
                None => {
                    root = Some(node);
                    expect = Expect::End;
                }
                Some(Frame {
                    members: Some((members, pending)),
                    ..
                }) => {
                    if let Some(key) = pending.take() {
                        members.push((key, node));
                    }
                    expect = Expect::AfterMember;
                }
                Some(frame) => {
                    frame.items.push(node);
                    expect = Expect::AfterItem;
                }
            }
        }
        root.ok_or_else(|| self.expected("a value"))
    }

    /// Closes the innermost collection at its `]`/`}` (the parser's position).
    fn close(&mut self, stack: &mut Vec<Frame>) -> Result<Rc<Node>> {
        let Some(frame) = stack.pop() else {
            return Err(self.expected("a value"));
        };
        self.pos += 1;
        let span = self.span(frame.start as usize, self.pos);
        let (kind, size, height) = match frame.members {
            Some((members, _)) => {
                let size = members
                    .iter()
                    .map(|(k, v)| k.size.saturating_add(v.size))
                    .fold(NODE_WEIGHT, u64::saturating_add);
                let height = 1 + members.iter().map(|(_, v)| v.height).max().unwrap_or(0);
                (NodeKind::Map(members), size, height)
            }
            None => {
                let size = frame
                    .items
                    .iter()
                    .map(|n| n.size)
                    .fold(NODE_WEIGHT, u64::saturating_add);
                let height = 1 + frame.items.iter().map(|n| n.height).max().unwrap_or(0);
                (NodeKind::Seq(frame.items), size, height)
            }
        };
        Ok(Rc::new(Node {
            span,
            tag: None,
            kind,
            size,
            height,
        }))
    }

    fn scalar(&self, start: usize, value: String, style: Style) -> Rc<Node> {
        let size = NODE_WEIGHT.saturating_add(u64::try_from(value.len()).unwrap_or(u64::MAX));
        Rc::new(Node {
            span: self.span(start, self.pos),
            tag: None,
            kind: NodeKind::Scalar { value, style },
            size,
            height: 0,
        })
    }

    /// A string, at its opening `"`.
    fn string(&mut self) -> Result<Rc<Node>> {
        let start = self.pos;
        let bytes = self.text.as_bytes();
        let mut out = String::new();
        let mut i = start + 1;
        loop {
            // copy the run of plain characters up to the next quote, escape or control byte
            let run = bytes[i..]
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                .map_or(bytes.len(), |n| i + n);
            out.push_str(self.text.get(i..run).unwrap_or(""));
            i = run;
            match bytes.get(i) {
                None => {
                    return Err(self.error(
                        start,
                        start + 1,
                        "unterminated string: `\"` without its closing `\"`".to_string(),
                    ));
                }
                Some(b'"') => {
                    self.pos = i + 1;
                    return Ok(self.scalar(start, out, Style::DoubleQuoted));
                }
                Some(b'\\') => {
                    i = self.escape(i, &mut out)?;
                }
                Some(&b) => {
                    let what = if b == b'\n' || b == b'\r' {
                        "unterminated string: a line break before its closing `\"`".to_string()
                    } else {
                        format!(
                            "control character {:?} in a string: write it as an escape",
                            b as char
                        )
                    };
                    return Err(self.error(i, i + 1, what));
                }
            }
        }
    }

    /// The escape at `i` (its `\`), appended to `out`; returns the position after it.
    fn escape(&self, i: usize, out: &mut String) -> Result<usize> {
        let bytes = self.text.as_bytes();
        let simple = match bytes.get(i + 1) {
            Some(b'"') => Some('"'),
            Some(b'\\') => Some('\\'),
            Some(b'/') => Some('/'),
            Some(b'b') => Some('\u{8}'),
            Some(b'f') => Some('\u{c}'),
            Some(b'n') => Some('\n'),
            Some(b'r') => Some('\r'),
            Some(b't') => Some('\t'),
            Some(b'u') => None,
            _ => {
                let len = self
                    .text
                    .get(i + 1..)
                    .and_then(|t| t.chars().next())
                    .map_or(0, char::len_utf8);
                return Err(self.error(
                    i,
                    i + 1 + len,
                    "invalid escape: JSON has `\\\"`, `\\\\`, `\\/`, `\\b`, `\\f`, `\\n`, `\\r`, `\\t` and `\\uXXXX`"
                        .to_string(),
                ));
            }
        };
        if let Some(c) = simple {
            out.push(c);
            return Ok(i + 2);
        }
        let hex = |at: usize| -> Option<u32> {
            let digits = self.text.get(at..at + 4)?;
            if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            u32::from_str_radix(digits, 16).ok()
        };
        let Some(unit) = hex(i + 2) else {
            return Err(self.error(
                i,
                (i + 6).min(bytes.len()),
                "invalid escape: `\\u` takes four hexadecimal digits".to_string(),
            ));
        };
        // a surrogate pair is one character; a lone surrogate has none (U+FFFD, as JavaScript
        // would show it)
        if (0xD800..0xDC00).contains(&unit)
            && bytes.get(i + 6..i + 8) == Some(b"\\u")
            && let Some(low) = hex(i + 8).filter(|l| (0xDC00..0xE000).contains(l))
        {
            let c = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
            out.push(char::from_u32(c).unwrap_or('\u{fffd}'));
            return Ok(i + 12);
        }
        out.push(char::from_u32(unit).unwrap_or('\u{fffd}'));
        Ok(i + 6)
    }

    /// A number, as RFC 8259 writes one: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    fn number(&mut self) -> Result<Rc<Node>> {
        let start = self.pos;
        let bytes = self.text.as_bytes();
        let digits = |from: usize| {
            bytes[from.min(bytes.len())..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count()
        };
        let mut i = start;
        if bytes.get(i) == Some(&b'-') {
            i += 1;
        }
        let int = digits(i);
        let bad = |this: &Self, at: usize| {
            this.error(
                start,
                at.max(start + 1),
                format!(
                    "invalid number `{}`",
                    this.text.get(start..at.max(start + 1)).unwrap_or("")
                ),
            )
        };
        if int == 0 || (int > 1 && bytes.get(i) == Some(&b'0')) {
            return Err(bad(self, i + int));
        }
        i += int;
        if bytes.get(i) == Some(&b'.') {
            let frac = digits(i + 1);
            if frac == 0 {
                return Err(bad(self, i + 1));
            }
            i += 1 + frac;
        }
        if matches!(bytes.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(bytes.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            let exp = digits(i);
            if exp == 0 {
                return Err(bad(self, i));
            }
            i += exp;
        }
        if bytes
            .get(i)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'.')
        {
            return Err(bad(self, i + 1));
        }
        self.pos = i;
        let text = self.text.get(start..i).unwrap_or("").to_string();
        Ok(self.scalar(start, text, Style::Plain))
    }

    /// `true`, `false` or `null`.
    fn literal(&mut self) -> Result<Rc<Node>> {
        let start = self.pos;
        let rest = self.text.get(start..).unwrap_or("");
        let word_len = rest
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count();
        let word = rest.get(..word_len).unwrap_or("");
        if !matches!(word, "true" | "false" | "null") {
            return Err(self.error(
                start,
                start + word_len.max(1),
                format!(
                    "expected a value, found `{}` (strings are written in double quotes)",
                    crate::source::clip(word, 40)
                ),
            ));
        }
        self.pos = start + word_len;
        Ok(self.scalar(start, word.to_string(), Style::Plain))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(text: &str) -> Rc<Node> {
        let p = parse_in(text, 0);
        assert!(p.errors.is_empty(), "{text}: {:?}", p.errors);
        p.docs[0].clone()
    }

    fn error(text: &str) -> (String, String) {
        let p = parse_in(text, 0);
        assert!(p.docs.is_empty(), "{text}: parsed");
        let e = &p.errors[0];
        (
            e.message.clone(),
            text.get(e.span.start as usize..e.span.end as usize)
                .unwrap_or("<bad span>")
                .to_string(),
        )
    }

    fn at<'t>(text: &'t str, n: &Node) -> &'t str {
        &text[n.span.start as usize..n.span.end as usize]
    }

    #[test]
    fn comments_trailing_commas_and_spans() {
        let text = "\u{feff}// a dev container\n{\n  /* the image */ \"image\": \"mcr.microsoft.com/devcontainers/base:1\", // trailing\n  \"runArgs\": [\"--cap-add=SYS_ADMIN\", \"--init\",],\n  \"privileged\": true,\n  \"n\": -1.5e3,\n  \"x\": null,\n}\n";
        let r = root(text);
        let members = r.as_map().unwrap();
        let keys: Vec<&str> = members.iter().map(|(k, _)| k.scalar().unwrap()).collect();
        assert_eq!(keys, ["image", "runArgs", "privileged", "n", "x"]);
        assert_eq!(at(text, &members[0].0), "\"image\"");
        assert_eq!(
            at(text, &members[0].1),
            "\"mcr.microsoft.com/devcontainers/base:1\""
        );
        assert_eq!(
            members[0].1.scalar(),
            Some("mcr.microsoft.com/devcontainers/base:1")
        );
        assert_eq!(members[0].1.style(), Some(Style::DoubleQuoted));
        let args = members[1].1.as_seq().unwrap();
        assert_eq!(at(text, &args[0]), "\"--cap-add=SYS_ADMIN\"");
        assert_eq!(
            at(text, &members[1].1),
            "[\"--cap-add=SYS_ADMIN\", \"--init\",]"
        );
        assert_eq!(members[2].1.scalar(), Some("true"));
        assert_eq!(members[2].1.style(), Some(Style::Plain));
        assert_eq!(members[3].1.scalar(), Some("-1.5e3"));
        assert!(members[4].1.is_null());
        assert!(at(text, &r).starts_with('{') && at(text, &r).ends_with('}'));
        assert_eq!(r.height, 2);
    }

    #[test]
    fn the_last_of_equal_keys_wins() {
        let r = root(r#"{"privileged": false, "privileged": true}"#);
        assert_eq!(r.as_map().unwrap().len(), 2);
        assert_eq!(
            last(&r, "privileged").and_then(|v| v.scalar()),
            Some("true")
        );
        assert!(last(&r, "capAdd").is_none());
    }

    #[test]
    fn escapes() {
        let r = root(r#"["a\"b\\c\/d\n\t\u00e9\ud83d\ude00", "\ud800x", "é✓"]"#);
        let items = r.as_seq().unwrap();
        assert_eq!(items[0].scalar(), Some("a\"b\\c/d\n\té😀"));
        assert_eq!(items[1].scalar(), Some("\u{fffd}x"));
        assert_eq!(items[2].scalar(), Some("é✓"));
    }

    #[test]
    fn errors_are_located_with_what_was_expected() {
        for (text, message, span) in [
            ("", "expected a value, found the end of the file", ""),
            (
                "  // only a comment\n",
                "expected a value, found the end of the file",
                "",
            ),
            (
                "{\"a\": 1 \"b\": 2}",
                "expected `,` or `}`, found `\"`",
                "\"",
            ),
            ("[1 2]", "expected `,` or `]`, found `2`", "2"),
            (
                "{a: 1}",
                "expected a property name in double quotes, or `}`, found `a`",
                "a",
            ),
            ("{\"a\" 1}", "expected `:`, found `1`", "1"),
            ("{\"a\": 'x'}", "expected a value, found `'`", "'"),
            (
                "{\"a\": tru}",
                "expected a value, found `tru` (strings are written in double quotes)",
                "tru",
            ),
            (
                "{\"a\": 1} x",
                "expected the end of the file, found `x`",
                "x",
            ),
            ("[,]", "expected a value, found `,`", ","),
            (
                "{\"a\":1,,}",
                "expected a property name in double quotes, or `}`, found `,`",
                ",",
            ),
            ("/* open", "unterminated comment: `/*` without `*/`", "/*"),
            (
                "[\"abc",
                "unterminated string: `\"` without its closing `\"`",
                "\"",
            ),
            (
                "[\"a\nb\"]",
                "unterminated string: a line break before its closing `\"`",
                "\n",
            ),
            (
                "[\"a\tb\"]",
                "control character '\\t' in a string: write it as an escape",
                "\t",
            ),
            (
                "[\"\\x\"]",
                "invalid escape: JSON has `\\\"`, `\\\\`, `\\/`, `\\b`, `\\f`, `\\n`, `\\r`, `\\t` and `\\uXXXX`",
                "\\x",
            ),
            (
                "[\"\\u12\"]",
                "invalid escape: `\\u` takes four hexadecimal digits",
                "\\u12\"]",
            ),
            ("[01]", "invalid number `01`", "01"),
            ("[1.]", "invalid number `1.`", "1."),
            ("[-]", "invalid number `-`", "-"),
            ("[1e]", "invalid number `1e`", "1e"),
            ("[12a]", "invalid number `12a`", "12a"),
            ("{\"a\": [1}", "expected `,` or `]`, found `}`", "}"),
        ] {
            assert_eq!(
                error(text),
                (message.to_string(), span.to_string()),
                "{text:?}"
            );
        }
    }

    #[test]
    fn hostile_input_is_bounded() {
        // nesting past the limit is an error, not a stack overflow
        let deep = "[".repeat(100_000);
        let (message, span) = error(&deep);
        assert_eq!(
            message,
            format!("nesting is too deep (more than {MAX_DEPTH} levels)")
        );
        assert_eq!(span, "[");
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert_eq!(root(&ok).height, MAX_DEPTH);
        // long inputs take one pass
        let wide = format!("[{}1]", "1, ".repeat(200_000));
        assert_eq!(root(&wide).as_seq().unwrap().len(), 200_001);
        let comments = format!("{}[]", "/* x */ // y\n".repeat(100_000));
        assert!(root(&comments).as_seq().unwrap().is_empty());
    }
}
