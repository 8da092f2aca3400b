//! Text positions as LSP counts them, and document URIs.
//!
//! LSP positions are a 0-based line and a column in code units of the negotiated encoding:
//! UTF-16 by default (what every client supports), UTF-8 when the client offers it. Lines are
//! split at `\n` (a `\r` before it ends the line too), as [`SourceFile`] splits them.

use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use lsp_types::{Position, Range};

use crate::source::{FileRef, SourceFile, Span};

/// How columns are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16,
}

impl Encoding {
    fn units(self, c: char) -> u32 {
        match self {
            Encoding::Utf8 => u32::try_from(c.len_utf8()).unwrap_or(4),
            Encoding::Utf16 => u32::try_from(c.len_utf16()).unwrap_or(2),
        }
    }
}

/// LSP positions of byte offsets in one text, each found in `O(log n)` plus at most
/// [`CHECKPOINT_BYTES`] of text: a text of one long line (minified YAML) with many findings
/// costs no more than one of many lines.
#[derive(Debug)]
pub struct Index<'t> {
    text: &'t str,
    enc: Encoding,
    /// Byte offset of each line's start.
    lines: Vec<u32>,
    /// Byte offset (a char boundary) and column there, about every [`CHECKPOINT_BYTES`].
    checkpoints: Vec<(u32, u32)>,
}

/// How far apart an [`Index`]'s checkpoints are.
pub const CHECKPOINT_BYTES: usize = 1024;

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl<'t> Index<'t> {
    pub fn new(text: &'t str, enc: Encoding) -> Self {
        let mut lines = vec![0u32];
        let mut checkpoints = Vec::new();
        let mut column = 0u32;
        let mut next = CHECKPOINT_BYTES;
        for (i, c) in text.char_indices() {
            if i >= next {
                checkpoints.push((to_u32(i), column));
                next = i + CHECKPOINT_BYTES;
            }
            if c == '\n' {
                lines.push(to_u32(i + 1));
                column = 0;
            } else {
                column = column.saturating_add(enc.units(c));
            }
        }
        Index {
            text,
            enc,
            lines,
            checkpoints,
        }
    }

    /// The position of byte `offset` (clamped to the text, and down to a char boundary).
    pub fn position(&self, offset: u32) -> Position {
        let mut at = (offset as usize).min(self.text.len());
        while !self.text.is_char_boundary(at) {
            at -= 1;
        }
        let at32 = to_u32(at);
        let line = self.lines.partition_point(|&s| s <= at32).saturating_sub(1);
        let line_start = self.lines.get(line).copied().unwrap_or(0);
        let (mut from, mut column) = (line_start, 0u32);
        let i = self.checkpoints.partition_point(|&(o, _)| o <= at32);
        if let Some(&(o, c)) = i.checked_sub(1).and_then(|i| self.checkpoints.get(i))
            && o >= line_start
        {
            (from, column) = (o, c);
        }
        let rest = self.text.get(from as usize..at).unwrap_or_default();
        let column = rest
            .chars()
            .fold(column, |n, c| n.saturating_add(self.enc.units(c)));
        Position {
            line: to_u32(line),
            character: column,
        }
    }

    pub fn range(&self, span: Span) -> Range {
        Range {
            start: self.position(span.start),
            end: self.position(span.end.max(span.start)),
        }
    }
}

/// The [`Index`] of each file a batch of ranges points into, built once per file.
#[derive(Debug)]
pub struct Indexes<'a> {
    enc: Encoding,
    files: Vec<(*const SourceFile, Index<'a>)>,
}

impl<'a> Indexes<'a> {
    pub fn new(enc: Encoding) -> Self {
        Indexes {
            enc,
            files: Vec::new(),
        }
    }

    pub fn range(&mut self, file: &'a FileRef, span: Span) -> Range {
        let ptr = std::sync::Arc::as_ptr(file);
        let k = match self.files.iter().position(|(p, _)| *p == ptr) {
            Some(k) => k,
            None => {
                self.files.push((ptr, Index::new(&file.text, self.enc)));
                self.files.len() - 1
            }
        };
        self.files[k].1.range(span)
    }
}

/// The LSP position of byte `offset` of `file` (indexes the whole text: for one position).
#[cfg(test)]
fn position(file: &SourceFile, enc: Encoding, offset: u32) -> Position {
    Index::new(&file.text, enc).position(offset)
}

/// The byte offset of an LSP position in `text`: past the end of a line is its end, past the
/// last line is the end of the text, inside a character is its start.
pub fn offset(text: &str, enc: Encoding, pos: Position) -> usize {
    let mut start = 0usize;
    for _ in 0..pos.line {
        match text.get(start..).and_then(|t| t.find('\n')) {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let line = text.get(start..).unwrap_or_default();
    let line = line.split('\n').next().unwrap_or_default();
    let line = line.strip_suffix('\r').unwrap_or(line);
    let mut units = 0u32;
    for (i, c) in line.char_indices() {
        let next = units.saturating_add(enc.units(c));
        if next > pos.character {
            return start + i;
        }
        units = next;
    }
    start + line.len()
}

/// The local file a `file:` URI names (absolute, percent-decoded); `None` for another scheme, a
/// remote host or a path that does not decode.
pub fn uri_to_path(uri: &str) -> Option<PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    // `file:///p` or `file://localhost/p`
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    if !rest.starts_with('/') {
        return None;
    }
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = rest.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    if out.contains(&0) {
        return None;
    }
    let path = PathBuf::from(std::ffi::OsString::from_vec(out));
    Some(crate::source::normalize(&path))
}

/// The `file:` URI of an absolute path (every byte outside the unreserved set and `/`
/// percent-encoded).
pub fn path_to_uri(path: &Path) -> String {
    let mut out = String::from("file://");
    for &b in path.as_os_str().as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(line: u32, character: u32) -> Position {
        Position { line, character }
    }

    #[test]
    fn columns_count_utf16_units_or_bytes() {
        // é: 2 bytes, 1 UTF-16 unit; 🦀: 4 bytes, 2 UTF-16 units
        let text = "FROM a\nLABEL x=\"é🦀\" y=1\r\nRUN b\n";
        let file = SourceFile::virtual_file("Dockerfile", text);
        let y = u32::try_from(text.find("y=1").unwrap_or(0)).unwrap_or(0);
        assert_eq!(position(&file, Encoding::Utf16, y), pos(1, 14));
        assert_eq!(position(&file, Encoding::Utf8, y), pos(1, 17));
        for enc in [Encoding::Utf16, Encoding::Utf8] {
            assert_eq!(offset(text, enc, position(&file, enc, y)), y as usize);
            // the start of every line, and the end of the text
            assert_eq!(position(&file, enc, 0), pos(0, 0));
            let run = u32::try_from(text.find("RUN").unwrap_or(0)).unwrap_or(0);
            assert_eq!(position(&file, enc, run), pos(2, 0));
            assert_eq!(offset(text, enc, pos(2, 0)), run as usize);
            assert_eq!(position(&file, enc, file.len()), pos(3, 0));
        }
        // inside the crab (UTF-16 unit 11 of 10..12) is its start; past a line's end its end
        let crab = text.find('🦀').unwrap_or(0);
        assert_eq!(offset(text, Encoding::Utf16, pos(1, 11)), crab);
        let eol = text.find("\r\n").unwrap_or(0);
        assert_eq!(offset(text, Encoding::Utf16, pos(1, 99)), eol);
        assert_eq!(offset(text, Encoding::Utf16, pos(9, 0)), text.len());
    }

    #[test]
    fn long_lines_are_indexed() {
        // 5,000 crabs and an `x` on one line, then a second line
        let text = format!("{}x\ny", "🦀".repeat(5000));
        let x = u32::try_from(text.find('x').unwrap_or(0)).unwrap_or(0);
        let index = Index::new(&text, Encoding::Utf16);
        assert!(index.checkpoints.len() > 15);
        assert_eq!(index.position(x), pos(0, 10_000));
        assert_eq!(index.position(x + 2), pos(1, 0));
        // inside a crab: its start
        assert_eq!(index.position(4097), pos(0, 2048));
        let utf8 = Index::new(&text, Encoding::Utf8);
        assert_eq!(utf8.position(x), pos(0, 20_000));
        for at in (0..x).step_by(997) {
            assert_eq!(
                offset(&text, Encoding::Utf16, index.position(at)),
                at as usize - (at as usize % 4)
            );
        }
    }

    #[test]
    fn file_uris_round_trip() {
        let p = Path::new("/tmp/a b/Dockerfile.é");
        let uri = path_to_uri(p);
        assert_eq!(uri, "file:///tmp/a%20b/Dockerfile.%C3%A9");
        assert_eq!(uri_to_path(&uri).as_deref(), Some(p));
        assert_eq!(
            uri_to_path("file://localhost/x/../y").as_deref(),
            Some(Path::new("/y"))
        );
        for bad in [
            "untitled:1",
            "file://host/x",
            "file:///a%00b",
            "file:///a%zz",
        ] {
            assert_eq!(uri_to_path(bad), None, "{bad}");
        }
    }
}
