//! Safe output: the one place that decides which characters of attacker-controlled text (file
//! names, service and stage names, image names, messages quoting file content, source snippets)
//! may reach a terminal, a CI log or a line-based consumer verbatim.
//!
//! A character is *unsafe* when a terminal, a log viewer or a line-based parser would act on it
//! instead of showing it: the C0 controls (ESC starts CSI/OSC sequences that recolor, clear the
//! screen, set the title or plant hyperlinks; CR and BS overwrite what was printed; LF and the
//! other line breaks split one finding into forged lines), DEL, the C1 controls (U+0080–U+009F,
//! where U+009B is a one-character CSI), the Unicode bidirectional controls (U+061C, U+200E,
//! U+200F, U+202A–U+202E, U+2066–U+2069: "Trojan Source" reordering) and the Unicode line and
//! paragraph separators (U+2028, U+2029). [`line`] shows each as a visible escape —
//! `\x1b`, `\n`, `\r`, `\t`, `\u{202e}` — so the text stays readable and says what was there.
//! A backslash is not escaped: the escapes are for reading, not for decoding.
//!
//! Human and line-based formats (full, concise, github, gitlab, checkstyle, junit) pass every
//! piece of file-derived text through [`line`]; source snippets go through [`View`], which keeps
//! line breaks and tabs and maps byte offsets so that labels still point at the right place.
//! The JSON formats (json, sarif, gitlab) keep the exact text but write every unsafe character as
//! a `\uXXXX` escape ([`to_writer_pretty`]), so the document round-trips and a viewer that prints
//! it raw still shows no control character.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io;

/// Whether `c` must never be printed verbatim (see the module docs).
pub fn is_unsafe(c: char) -> bool {
    matches!(
        c,
        '\u{0}'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{61c}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
    )
}

/// `s` holds an unsafe character. Printable ASCII (nearly all text) is answered by a byte scan;
/// only text with other bytes is decoded.
fn has_unsafe(s: &str) -> bool {
    !printable_ascii(s.as_bytes()) && s.chars().any(is_unsafe)
}

/// Every byte is printable ASCII (0x20..=0x7e). Blocks of 16 without an early exit, which the
/// compiler turns into vector compares.
fn printable_ascii(bytes: &[u8]) -> bool {
    let ok = |b: u8| b.wrapping_sub(0x20) < 0x5f;
    let mut blocks = bytes.chunks_exact(16);
    blocks.all(|block| block.iter().fold(true, |all, &b| all & ok(b)))
        && blocks.remainder().iter().all(|&b| ok(b))
}

/// Appends the visible escape of an unsafe character.
fn push_escape(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if u32::from(c) <= 0xff => {
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        }
        c => {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
    }
}

/// `s` made safe for one line of output: every unsafe character (line breaks and tabs included)
/// becomes a visible escape. Borrows when nothing needs escaping.
pub fn line(s: &str) -> Cow<'_, str> {
    if !has_unsafe(s) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c) {
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A whole text made safe for a unified diff (`check --diff`): line feeds, tabs and a CR right
/// before a LF are kept (so a patch of a CRLF file still applies), every other unsafe character
/// is escaped as by [`line`]. A text with such a character does not apply as a patch: it fails
/// loudly rather than carrying the character to the terminal. Borrows when nothing needs
/// escaping.
pub fn diff_text(s: &str) -> Cow<'_, str> {
    let keep = |c: char, next: Option<char>| {
        c == '\n' || c == '\t' || (c == '\r' && next == Some('\n')) || !is_unsafe(c)
    };
    let mut chars = s.chars().peekable();
    let mut clean = true;
    while let Some(c) = chars.next() {
        if !keep(c, chars.peek().copied()) {
            clean = false;
            break;
        }
    }
    if clean {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if keep(c, chars.peek().copied()) {
            out.push(c);
        } else {
            push_escape(&mut out, c);
        }
    }
    Cow::Owned(out)
}

/// A source text made safe to show as a snippet: line feeds and tabs are kept, a CR right
/// before a LF is dropped (a CRLF file looks like an LF file), every other unsafe character is
/// escaped as by [`line`]. Offsets into the original map to offsets into the view and back, so
/// spans (and the columns computed from them) keep pointing at the same characters.
#[derive(Debug, Clone)]
pub struct View {
    pub text: String,
    /// One entry per replaced character: (original offset, original length, view offset, view
    /// length), sorted.
    edits: Vec<(u32, u32, u32, u32)>,
}

impl View {
    /// The view of `text`, or `None` when `text` has nothing to escape (show it as it is).
    pub fn new(text: &str) -> Option<View> {
        let needs = |c: char| is_unsafe(c) && c != '\n' && c != '\t';
        if !text.chars().any(needs) {
            return None;
        }
        let mut out = String::with_capacity(text.len() + 16);
        let mut edits = Vec::new();
        let mut chars = text.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if !needs(c) {
                out.push(c);
                continue;
            }
            let view_start = out.len();
            let crlf = c == '\r' && chars.peek().is_some_and(|&(_, n)| n == '\n');
            if !crlf {
                push_escape(&mut out, c);
            }
            edits.push((
                off(i),
                off(c.len_utf8()),
                off(view_start),
                off(out.len() - view_start),
            ));
        }
        Some(View { text: out, edits })
    }

    /// The view offset of original offset `offset` (inside a replaced character: its start).
    pub fn to_view(&self, offset: u32) -> u32 {
        let idx = self.edits.partition_point(|e| e.0 <= offset);
        match idx.checked_sub(1).and_then(|i| self.edits.get(i)) {
            None => offset,
            Some(&(o, ol, v, _)) if offset < o + ol => v,
            Some(&(o, ol, v, vl)) => v + vl + (offset - o - ol),
        }
    }

    /// The original offset of view offset `offset` (inside an escape: the escaped character).
    pub fn to_original(&self, offset: u32) -> u32 {
        let idx = self.edits.partition_point(|e| e.2 <= offset);
        match idx.checked_sub(1).and_then(|i| self.edits.get(i)) {
            None => offset,
            Some(&(o, _, v, vl)) if offset < v + vl => o,
            Some(&(o, ol, v, vl)) => o + ol + (offset - v - vl),
        }
    }
}

fn off(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// A `serde_json` formatter that writes like [`serde_json::ser::PrettyFormatter`] (two spaces
/// per level, starting `base` levels in) and also escapes every unsafe character that JSON
/// itself allows raw (DEL, C1, bidi controls, line separators) as `\uXXXX`. The value read back
/// is the same; the bytes carry no control.
struct SafeFormatter {
    base: usize,
    depth: usize,
    has_value: bool,
}

impl SafeFormatter {
    fn open<W: ?Sized + io::Write>(&mut self, writer: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        writer.write_all(bracket)
    }

    /// Closes an array or object: on its own line when it holds a value.
    fn close<W: ?Sized + io::Write>(&mut self, writer: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            writer.write_all(b"\n")?;
            self.indent(writer)?;
        }
        writer.write_all(bracket)
    }

    /// An array value or object key starts a line (after a comma unless it is the first).
    fn item<W: ?Sized + io::Write>(&self, writer: &mut W, first: bool) -> io::Result<()> {
        writer.write_all(if first { b"\n" } else { b",\n" })?;
        self.indent(writer)
    }

    fn indent<W: ?Sized + io::Write>(&self, writer: &mut W) -> io::Result<()> {
        // One write per line, not one per level.
        const SPACES: &[u8; 64] = &[b' '; 64];
        let mut n = 2 * (self.base + self.depth);
        while n > 0 {
            let k = n.min(SPACES.len());
            writer.write_all(&SPACES[..k])?;
            n -= k;
        }
        Ok(())
    }
}

impl serde_json::ser::Formatter for SafeFormatter {
    fn begin_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.open(writer, b"[")
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.close(writer, b"]")
    }

    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.item(writer, first)
    }

    fn end_array_value<W: ?Sized + io::Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.open(writer, b"{")
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.close(writer, b"}")
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.item(writer, first)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + io::Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        if !has_unsafe(fragment) {
            return writer.write_all(fragment.as_bytes());
        }
        let mut buf = [0u16; 2];
        for c in fragment.chars() {
            if is_unsafe(c) {
                for unit in c.encode_utf16(&mut buf) {
                    write!(writer, "\\u{unit:04x}")?;
                }
            } else {
                let mut b = [0u8; 4];
                writer.write_all(c.encode_utf8(&mut b).as_bytes())?;
            }
        }
        Ok(())
    }
}

/// `serde_json::to_writer_pretty`, with unsafe characters escaped (see [`SafeFormatter`]).
pub fn to_writer_pretty<T: serde::Serialize + ?Sized>(
    w: &mut dyn io::Write,
    value: &T,
) -> io::Result<()> {
    to_writer_pretty_at(w, value, 0)
}

/// [`to_writer_pretty`] for a value nested `levels` deep in a document: its inner lines are
/// indented as if the whole document were written at once. Generic over the writer so that
/// writing into a buffer (the streamed reports' case) inlines every small write.
pub fn to_writer_pretty_at<W: io::Write + ?Sized, T: serde::Serialize + ?Sized>(
    w: &mut W,
    value: &T,
    levels: usize,
) -> io::Result<()> {
    let formatter = SafeFormatter {
        base: levels,
        depth: 0,
        has_value: false,
    };
    let mut ser = serde_json::Serializer::with_formatter(w, formatter);
    value.serialize(&mut ser).map_err(io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_text_keeps_lines_tabs_and_crlf() {
        assert!(matches!(diff_text("a\tb\r\nc\n"), Cow::Borrowed(_)));
        assert_eq!(
            diff_text("a\rb\x1b[2J\u{202e}\n"),
            "a\\rb\\x1b[2J\\u{202e}\n"
        );
    }

    #[test]
    fn printable_ascii_blocks_and_tail() {
        assert!(printable_ascii(b""));
        assert!(printable_ascii(b" ~abcdefghijklmnopqrstuvwxyz0123456789"));
        for bad in [0x1f_u8, 0x7f, 0x80, 0xff, b'\n'] {
            for at in [0, 5, 15, 16, 20, 33] {
                let mut v = vec![b'a'; 34];
                v[at] = bad;
                assert!(!printable_ascii(&v), "{bad:#x} at {at}");
            }
        }
    }

    #[test]
    fn line_escapes_every_unsafe_character() {
        assert_eq!(line("plain ♥ text"), "plain ♥ text");
        assert!(matches!(line("plain"), Cow::Borrowed(_)));
        assert_eq!(
            line("a\nb\r\u{1b}[2J\u{7}\u{8}\t\u{7f}\u{9b}\u{202e}x\u{2066}\u{2028}"),
            "a\\nb\\r\\x1b[2J\\x07\\x08\\t\\x7f\\x9b\\u{202e}x\\u{2066}\\u{2028}"
        );
        // zero-width joiners, emoji and other visible text are left alone
        assert_eq!(line("👩\u{200d}💻 é"), "👩\u{200d}💻 é");
    }

    #[test]
    fn view_keeps_lines_and_maps_offsets() {
        assert!(View::new("FROM x\n\tRUN y\n").is_none());
        let src = "a\u{1b}[1mb\r\nc\u{202e}d\re";
        let v = View::new(src).unwrap();
        assert_eq!(v.text, "a\\x1b[1mb\nc\\u{202e}d\\re");
        // every original char boundary maps to the same character in the view
        for (i, c) in src.char_indices() {
            let vi = v.to_view(off(i)) as usize;
            if !is_unsafe(c) || c == '\n' {
                assert_eq!(v.text[vi..].chars().next(), Some(c), "at {i}");
            }
            // (the CR of a CRLF is dropped: its offset maps to the LF's)
            if !(c == '\r' && src[i + 1..].starts_with('\n')) {
                assert_eq!(v.to_original(off(vi)), off(i), "round trip at {i}");
            }
        }
        assert_eq!(v.to_view(off(src.len())), off(v.text.len()));
        // inside an escape maps back to the escaped character
        assert_eq!(v.to_original(3), 1);
    }

    #[test]
    fn json_round_trips_without_raw_controls() {
        let s = "a\u{1b}]8;;http://evil\u{7}b\u{9b}c\u{202e}d\u{2028}\n\"";
        let mut out = Vec::new();
        to_writer_pretty(&mut out, &serde_json::json!({ "k": [s] })).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.chars().any(|c| is_unsafe(c) && c != '\n'), "{text:?}");
        assert!(
            text.contains("\\u202e") && text.contains("\\u009b"),
            "{text}"
        );
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["k"][0], s);
        // the same layout as serde_json's pretty printer
        let mut plain = Vec::new();
        serde_json::to_writer_pretty(&mut plain, &serde_json::json!({"a": [1, {"b": "c"}]}))
            .unwrap();
        let mut safe = Vec::new();
        to_writer_pretty(&mut safe, &serde_json::json!({"a": [1, {"b": "c"}]})).unwrap();
        assert_eq!(plain, safe);
    }
}
