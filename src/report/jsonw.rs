//! A pretty JSON writer for the hot path of the JSON reports (one element per finding): the
//! layout of `serde_json::to_writer_pretty` and the escaping of [`crate::escape::to_writer_pretty`],
//! written straight into a buffer. The JSON report writes its findings through it (about 1 KiB
//! each); the rest of every document is serialized by `serde_json`. Tests hold the two to the
//! same bytes.
//!
//! Why not `serde_json` here too: it escapes a string byte by byte through a table and hands
//! each run to the formatter, which scans it again for the characters only sandlint escapes
//! (`crate::escape::is_unsafe`). Nearly every string of a finding is printable ASCII with
//! no quote or backslash: here that is one vectorized scan and one copy.

use crate::escape::is_unsafe;

/// An object being written; its keys and values go in the order they are given.
pub struct Object<'o> {
    out: &'o mut Vec<u8>,
    /// The nesting level of the object itself (its keys are one deeper).
    level: usize,
    empty: bool,
}

impl<'o> Object<'o> {
    /// Opens an object that sits at nesting `level` (as `escape::to_writer_pretty_at`'s
    /// `levels`: its closing brace is indented by `2 * level` spaces).
    pub fn open(out: &'o mut Vec<u8>, level: usize) -> Object<'o> {
        out.push(b'{');
        Object {
            out,
            level,
            empty: true,
        }
    }

    /// Starts the member `key` and returns the buffer its value goes into.
    /// Keys are the report's own names: plain text, written without a scan.
    #[inline]
    fn key(&mut self, key: &'static str) -> &mut Vec<u8> {
        debug_assert!(plain(key.as_bytes()), "{key:?}");
        item(self.out, &mut self.empty, self.level + 1);
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\": ");
        self.out
    }

    #[inline]
    pub fn str(&mut self, key: &'static str, value: &str) {
        string(self.key(key), value);
    }

    /// A string of sandlint's own (a rule's code or name, a severity): plain text, written
    /// without a scan.
    #[inline]
    pub fn static_str(&mut self, key: &'static str, value: &'static str) {
        debug_assert!(plain(value.as_bytes()), "{value:?}");
        let out = self.key(key);
        out.push(b'"');
        out.extend_from_slice(value.as_bytes());
        out.push(b'"');
    }

    /// One string of sandlint's own made of `parts` (a rule's documentation URL), written
    /// without a scan.
    pub fn static_parts(&mut self, key: &'static str, parts: &[&'static str]) {
        let out = self.key(key);
        out.push(b'"');
        for part in parts {
            debug_assert!(plain(part.as_bytes()), "{part:?}");
            out.extend_from_slice(part.as_bytes());
        }
        out.push(b'"');
    }

    /// A string, or `null`.
    #[inline]
    pub fn opt_str(&mut self, key: &'static str, value: Option<&str>) {
        match value {
            Some(value) => self.str(key, value),
            None => self.null(key),
        }
    }

    #[inline]
    pub fn null(&mut self, key: &'static str) {
        self.key(key).extend_from_slice(b"null");
    }

    #[inline]
    pub fn u32(&mut self, key: &'static str, value: u32) {
        number(self.key(key), value);
    }

    /// A nested object; close it before writing the next member.
    #[inline]
    pub fn object(&mut self, key: &'static str) -> Object<'_> {
        let level = self.level + 1;
        Object::open(self.key(key), level)
    }

    /// A nested array; close it before writing the next member.
    #[inline]
    pub fn array(&mut self, key: &'static str) -> Array<'_> {
        let level = self.level + 1;
        Array::open(self.key(key), level)
    }

    #[inline]
    pub fn close(self) {
        end(self.out, self.empty, self.level, b'}');
    }
}

/// An array being written.
pub struct Array<'o> {
    out: &'o mut Vec<u8>,
    level: usize,
    empty: bool,
}

impl<'o> Array<'o> {
    fn open(out: &'o mut Vec<u8>, level: usize) -> Array<'o> {
        out.push(b'[');
        Array {
            out,
            level,
            empty: true,
        }
    }

    #[inline]
    pub fn str(&mut self, value: &str) {
        item(self.out, &mut self.empty, self.level + 1);
        string(self.out, value);
    }

    /// An object element; close it before writing the next element.
    #[inline]
    pub fn object(&mut self) -> Object<'_> {
        item(self.out, &mut self.empty, self.level + 1);
        Object::open(self.out, self.level + 1)
    }

    #[inline]
    pub fn close(self) {
        end(self.out, self.empty, self.level, b']');
    }
}

/// Starts a member or element on its own line, at `level`.
#[inline]
fn item(out: &mut Vec<u8>, empty: &mut bool, level: usize) {
    out.extend_from_slice(if *empty { b"\n" } else { b",\n" });
    *empty = false;
    indent(out, level);
}

/// Closes an object or array: on its own line when it holds something.
#[inline]
fn end(out: &mut Vec<u8>, empty: bool, level: usize, bracket: u8) {
    if !empty {
        out.push(b'\n');
        indent(out, level);
    }
    out.push(bracket);
}

#[inline]
fn indent(out: &mut Vec<u8>, level: usize) {
    out.resize(out.len() + 2 * level, b' ');
}

fn number(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(crate::source::decimal(u64::from(value), &mut [0; 20]));
}

/// `value` as a JSON string: quoted, with JSON's escapes (`\"`, `\\`, `\n`, … and `\u00XX` for
/// the other C0 controls, as `serde_json` writes them) and every other unsafe character
/// (`crate::escape::is_unsafe`) as `\uXXXX`.
#[inline]
pub fn string(out: &mut Vec<u8>, value: &str) {
    out.push(b'"');
    contents(out, value);
    out.push(b'"');
}

fn contents(out: &mut Vec<u8>, value: &str) {
    if plain(value.as_bytes()) {
        out.extend_from_slice(value.as_bytes());
    } else {
        escaped(out, value);
    }
}

/// Every byte is printable ASCII other than `"` and `\`: the string is written as it is.
/// Blocks of 16 without an early exit, which the compiler turns into vector compares.
fn plain(bytes: &[u8]) -> bool {
    let ok = |b: u8| b.wrapping_sub(0x20) < 0x5f && b != b'"' && b != b'\\';
    let mut blocks = bytes.chunks_exact(16);
    blocks.all(|block| block.iter().fold(true, |all, &b| all & ok(b)))
        && blocks.remainder().iter().all(|&b| ok(b))
}

/// `b` may start a character that is escaped (see [`escaped`]).
fn may_escape(b: u8) -> bool {
    matches!(b, 0..=0x1f | b'"' | b'\\' | 0x7f | 0xc2 | 0xd8 | 0xe2)
}

/// The escaping of a string that is not [`plain`]: runs of bytes that need none are copied
/// whole; only a byte that may start an escaped character is looked at as a character (ASCII
/// controls, `"`, `\\`, DEL, and the lead bytes of the unsafe characters past ASCII: `0xC2` for
/// the C1 controls, `0xD8` for U+061C, `0xE2` for the bidi controls and separators).
fn escaped(out: &mut Vec<u8>, value: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = value.as_bytes();
    let (mut run, mut at) = (0, 0);
    while let Some(&b) = bytes.get(at) {
        if !may_escape(b) {
            at += 1;
            continue;
        }
        // Such a byte is ASCII or a lead byte: a character starts there.
        let Some(c) = value.get(at..).and_then(|rest| rest.chars().next()) else {
            at += 1;
            continue;
        };
        let escape: &[u8] = match c {
            '"' => b"\\\"",
            '\\' => b"\\\\",
            '\u{8}' => b"\\b",
            '\u{c}' => b"\\f",
            '\n' => b"\\n",
            '\r' => b"\\r",
            '\t' => b"\\t",
            c if is_unsafe(c) => b"",
            _ => {
                at += c.len_utf8();
                continue;
            }
        };
        out.extend_from_slice(bytes.get(run..at).unwrap_or_default());
        if escape.is_empty() {
            // The unsafe characters are all in the Basic Multilingual Plane: one `\\uXXXX`.
            let unit = u32::from(c);
            out.extend_from_slice(b"\\u");
            for shift in [12, 8, 4, 0] {
                out.push(HEX[((unit >> shift) & 0xf) as usize]);
            }
        } else {
            out.extend_from_slice(escape);
        }
        at += c.len_utf8();
        run = at;
    }
    out.extend_from_slice(bytes.get(run..).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn serde_bytes(value: &serde_json::Value, level: usize) -> String {
        let mut out = Vec::new();
        crate::escape::to_writer_pretty_at(&mut out, value, level).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// Every character class the two writers treat differently, alone and between plain text.
    #[test]
    fn strings_are_escaped_as_serde_json_with_the_safe_formatter_escapes_them() {
        let mut samples: Vec<String> = (0u32..0x300)
            .chain([
                0x61c, 0x200d, 0x200e, 0x200f, 0x2027, 0x2028, 0x2029, 0x202a, 0x202e, 0x202f,
                0x2065, 0x2066, 0x2069, 0x206a, 0xfeff, 0xfffd, 0x1f469, 0x10ffff,
            ])
            .filter_map(char::from_u32)
            .flat_map(|c| [c.to_string(), format!("plain text {c} and more plain text")])
            .collect();
        samples
            .extend(["", "a\"b\\c", "\u{1b}]8;;http://x\u{7}", "éé\u{9b}\u{7f}"].map(String::from));
        for s in &samples {
            let mut fast = Vec::new();
            string(&mut fast, s);
            let mut slow = Vec::new();
            crate::escape::to_writer_pretty(&mut slow, s).unwrap();
            assert_eq!(
                String::from_utf8(fast).unwrap(),
                String::from_utf8(slow).unwrap()
            );
        }
    }

    /// `escaped` looks only at characters whose first byte [`may_escape`]: every unsafe
    /// character is one of them.
    #[test]
    fn every_unsafe_character_starts_with_a_byte_that_may_escape() {
        let mut utf8 = [0u8; 4];
        for c in (0..=0x10ffff).filter_map(char::from_u32) {
            let first = c.encode_utf8(&mut utf8).as_bytes()[0];
            if is_unsafe(c) || matches!(c, '"' | '\\') {
                assert!(may_escape(first), "{c:?}");
            }
        }
    }

    #[test]
    fn numbers() {
        for n in [0, 1, 9, 10, 99, 100, 12345, u32::MAX] {
            let mut out = Vec::new();
            number(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
        }
        let max = crate::source::decimal(u64::MAX, &mut [0; 20]).to_vec();
        assert_eq!(max, u64::MAX.to_string().as_bytes());
    }

    /// Nesting, empty and non-empty containers, at several starting levels.
    #[test]
    fn layout_is_serde_json_s_pretty_layout() {
        for level in [0, 1, 3] {
            let mut out = Vec::new();
            // (keys in sorted order: `json!` builds a sorted map)
            let mut o = Object::open(&mut out, level);
            o.str("a", "x");
            o.opt_str("b", None);
            o.opt_str("c", Some("y"));
            o.array("empty").close();
            let mut list = o.array("list");
            list.str("one");
            let mut inner = list.object();
            let mut deeper = inner.array("d");
            deeper.str("z");
            deeper.close();
            inner.u32("k", 0);
            inner.close();
            list.object().close();
            list.close();
            o.u32("n", 42);
            o.object("none").close();
            let mut obj = o.object("obj");
            obj.null("z");
            obj.close();
            o.close();
            let expected = json!({
                "a": "x", "b": null, "c": "y", "empty": [],
                "list": ["one", {"d": ["z"], "k": 0}, {}], "n": 42, "none": {}, "obj": {"z": null}
            });
            assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_bytes(&expected, level)
            );
        }
        let mut out = Vec::new();
        Object::open(&mut out, 0).close();
        assert_eq!(out, b"{}");
    }
}
