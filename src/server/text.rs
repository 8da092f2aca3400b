//! Text positions as LSP counts them, and document URIs.
//!
//! LSP positions are a 0-based line and a column in code units of the negotiated encoding:
//! UTF-16 by default (what every client supports), UTF-8 when the client offers it. Lines are
//! split at `\n` (a `\r` before it ends the line too), as [`SourceFile`] splits them.

use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use lsp_types::{Position, Range};

use crate::source::{SourceFile, Span};

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

    /// The column of byte `offset` in `line` (clamped to a char boundary and to the line).
    fn column(self, line: &str, offset: usize) -> u32 {
        let mut units = 0u32;
        for (i, c) in line.char_indices() {
            if i >= offset {
                break;
            }
            units = units.saturating_add(self.units(c));
        }
        units
    }
}

/// The LSP position of byte `offset` of `file`.
pub fn position(file: &SourceFile, enc: Encoding, offset: u32) -> Position {
    let lc = file.line_col(offset);
    let start = file.line_start(lc.line).unwrap_or(0);
    let offset = offset.min(file.len());
    let line_text = file
        .text
        .get(start as usize..)
        .unwrap_or_default()
        .split('\n')
        .next()
        .unwrap_or_default();
    Position {
        line: lc.line.saturating_sub(1),
        character: enc.column(line_text, offset.saturating_sub(start) as usize),
    }
}

/// The LSP range of `span` in `file`.
pub fn range(file: &SourceFile, enc: Encoding, span: Span) -> Range {
    Range {
        start: position(file, enc, span.start),
        end: position(file, enc, span.end.max(span.start)),
    }
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
