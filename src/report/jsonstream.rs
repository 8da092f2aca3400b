//! A pretty-printed JSON document whose one big array is written element by element: the
//! document is serialized as a skeleton with [`MARKER`] where the array goes, and split there.
//! The text before the marker is written first, then each element as it comes (indented as
//! `serde_json`'s pretty printer would), then the text after it (serialized at the end, so it
//! may hold totals). The bytes are those of serializing the whole document at once.

use std::io::{self, Write};

use serde::Serialize;

use crate::diagnostic::Diagnostic;

/// Stands for the streamed array in a skeleton; no other string of a report holds a NUL.
pub const MARKER: &str = "\u{0}sandlint:stream";

/// The skeleton's text before and after [`MARKER`], and the indentation of the line it is on.
pub struct Split {
    pub before: String,
    pub after: String,
    pub indent: usize,
}

/// Serializes `skeleton` (pretty, escaped like every JSON report) and splits it at [`MARKER`].
pub fn split<T: Serialize + ?Sized>(skeleton: &T) -> io::Result<Split> {
    let mut buf = Vec::new();
    crate::escape::to_writer_pretty(&mut buf, skeleton)?;
    let text = String::from_utf8(buf).map_err(io::Error::other)?;
    let quoted = "\"\\u0000sandlint:stream\"";
    let at = text
        .find(quoted)
        .ok_or_else(|| io::Error::other("report skeleton without its array marker"))?;
    let before = &text[..at];
    let line = before.rsplit('\n').next().unwrap_or_default();
    Ok(Split {
        indent: line.len() - line.trim_start_matches(' ').len(),
        before: before.to_string(),
        after: text[at + quoted.len()..].to_string(),
    })
}

/// The streamed array: its elements' indentation and how many were written.
pub struct Array {
    indent: usize,
    count: usize,
    buf: Vec<u8>,
}

impl Array {
    /// Writes `before` and opens the array (at a line indented by `indent`).
    pub fn begin(w: &mut dyn Write, before: &str, indent: usize) -> io::Result<Array> {
        w.write_all(before.as_bytes())?;
        w.write_all(b"[")?;
        Ok(Array {
            indent,
            count: 0,
            buf: Vec::new(),
        })
    }

    pub fn element<T: Serialize + ?Sized>(
        &mut self,
        w: &mut dyn Write,
        value: &T,
    ) -> io::Result<()> {
        self.element_with(w, |buf, level| {
            crate::escape::to_writer_pretty_at(buf, value, level)
        })
    }

    /// An element written by `write` into the buffer (with the nesting level it sits at, for
    /// [`super::jsonw::Object::open`]).
    pub fn element_with(
        &mut self,
        w: &mut dyn Write,
        write: impl FnOnce(&mut Vec<u8>, usize) -> io::Result<()>,
    ) -> io::Result<()> {
        let pad = self.indent + 2;
        self.buf.clear();
        self.buf
            .extend_from_slice(if self.count == 0 { b"\n" } else { b",\n" });
        self.buf.resize(self.buf.len() + pad, b' ');
        write(&mut self.buf, pad / 2)?;
        self.count += 1;
        w.write_all(&self.buf)
    }

    /// `value` serialized as an element of this array (for [`Array::element_serialized`]).
    pub fn serialize<T: Serialize + ?Sized>(&self, value: &T) -> io::Result<Vec<u8>> {
        let mut buf = Vec::new();
        crate::escape::to_writer_pretty_at(&mut buf, value, (self.indent + 2) / 2)?;
        Ok(buf)
    }

    /// Writes an element [`Array::serialize`] made.
    pub fn element_serialized(&mut self, w: &mut dyn Write, json: &[u8]) -> io::Result<()> {
        let pad = self.indent + 2;
        self.buf.clear();
        self.buf
            .extend_from_slice(if self.count == 0 { b"\n" } else { b",\n" });
        self.buf.resize(self.buf.len() + pad, b' ');
        self.buf.extend_from_slice(json);
        self.count += 1;
        w.write_all(&self.buf)
    }

    /// One file's findings, one element per location (findings through one YAML anchor are
    /// merged; suppressed ones only with `suppressed`), each written by `write` (which calls
    /// [`Array::element`] with the value it makes of the finding).
    pub fn findings(
        &mut self,
        w: &mut dyn Write,
        findings: &[Diagnostic],
        suppressed: bool,
        write: impl Fn(&mut Array, &mut dyn Write, &Diagnostic) -> io::Result<()>,
    ) -> io::Result<()> {
        for d in &super::merge_locations(findings) {
            if suppressed || d.suppression.is_none() {
                write(self, w, d)?;
            }
        }
        Ok(())
    }

    /// Closes the array and writes `after` (the rest of the document).
    pub fn end(self, w: &mut dyn Write, after: &str) -> io::Result<()> {
        if self.count > 0 {
            w.write_all(b"\n")?;
            w.write_all(" ".repeat(self.indent).as_bytes())?;
        }
        w.write_all(b"]")?;
        w.write_all(after.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Streaming gives the bytes of serializing the whole document at once.
    #[test]
    fn same_bytes_as_whole() {
        for items in [
            vec![],
            vec![json!(1)],
            vec![json!({"a": [1, {"b": "\u{202e}"}]}), json!("x\ny")],
        ] {
            let whole = json!({"head": {"k": 1}, "items": items, "tail": [true]});
            let mut expected = Vec::new();
            crate::escape::to_writer_pretty(&mut expected, &whole).unwrap();
            let skeleton = json!({"head": {"k": 1}, "items": MARKER, "tail": [true]});
            let s = split(&skeleton).unwrap();
            let mut out = Vec::new();
            let mut a = Array::begin(&mut out, &s.before, s.indent).unwrap();
            for i in &items {
                a.element(&mut out, i).unwrap();
            }
            a.end(&mut out, &s.after).unwrap();
            assert_eq!(
                String::from_utf8(out).unwrap(),
                String::from_utf8(expected).unwrap()
            );
        }
    }
}
