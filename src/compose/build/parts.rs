//! A scalar split into parts (ports, volumes, `KEY=value`), each part with its own span where
//! the text allows it and interpolated on its own.

use std::ops::Range;

use super::{Ctx, is_unknown};
use crate::compose::interpolate::Interpolated;
use crate::compose::model::{SValue, Value};
use crate::compose::yaml::Node;
use crate::source::{Span, Spanned};

/// A scalar being split into parts (ports, volumes, `KEY=value`).
pub(super) struct Parts<'n> {
    /// The text being split: the interpolated value, or the raw value whose parts are then
    /// interpolated one by one (`${...}` is opaque to splits).
    pub(super) s: String,
    /// Whether `s` is the raw text.
    pub(super) raw: bool,
    /// Whether some part depends on an unset variable.
    pub(super) unknown: bool,
    /// File offset of `s[0]`, when offsets in `s` are offsets in the file.
    pub(super) base: Option<u32>,
    pub(super) node: &'n Node,
}

/// Characters that structure a port entry.
pub(super) const PORT_SEPARATORS: &[u8] = b":/[]";
/// Characters that structure a volume entry.
pub(super) const VOLUME_SEPARATORS: &[u8] = b":,";

impl<'n> Parts<'n> {
    /// `Parts` of a non-null scalar. Compose interpolates first and then splits; when that is
    /// unknown, or when no variable brought in a separator (so both orders agree), the raw text
    /// is split instead, which gives every part its own span.
    /// `separators` are the characters that structure the entry.
    pub(super) fn new(ctx: &mut Ctx<'_>, node: &'n Node, separators: &[u8]) -> Option<Self> {
        if node.is_null() {
            return None;
        }
        let raw = node.scalar()?;
        let base = ctx.verbatim_base(node);
        let value = if is_unknown(node) {
            Value::Unknown(raw.to_string())
        } else {
            ctx.interp(raw, node.span)
        };
        Some(match value {
            Value::Known(s) if s == raw => Parts {
                s,
                raw: false,
                unknown: false,
                base,
                node,
            },
            Value::Known(s) => {
                let mut split_raw = Parts {
                    s: raw.to_string(),
                    raw: true,
                    unknown: false,
                    base,
                    node,
                };
                let same = separators
                    .iter()
                    .all(|&c| split_raw.seps(c).len() == s.bytes().filter(|&b| b == c).count());
                if !same {
                    split_raw.s = s;
                    split_raw.raw = false;
                    split_raw.base = None;
                }
                split_raw
            }
            Value::Unknown(s) => Parts {
                s,
                raw: true,
                unknown: true,
                base,
                node,
            },
        })
    }

    /// Like [`Parts::new`] but always splitting the raw text (for `KEY=value`, where the key
    /// never holds variables).
    pub(super) fn raw(ctx: &Ctx<'_>, node: &'n Node) -> Option<Self> {
        if node.is_null() {
            return None;
        }
        Some(Parts {
            s: node.scalar()?.to_string(),
            raw: true,
            unknown: false,
            base: ctx.verbatim_base(node),
            node,
        })
    }

    pub(super) fn text(&self, r: &Range<usize>) -> &str {
        self.s.get(r.clone()).unwrap_or("")
    }

    pub(super) fn span(&self, r: &Range<usize>) -> Span {
        match self.base {
            Some(b) => {
                let at = |i: usize| b.saturating_add(u32::try_from(i).unwrap_or(u32::MAX));
                Span::new(at(r.start), at(r.end)).in_file(self.node.span.file)
            }
            None => self.node.span,
        }
    }

    pub(super) fn part(&self, ctx: &mut Ctx<'_>, r: &Range<usize>) -> SValue {
        let span = self.span(r);
        let text = self.text(r);
        let value = if is_unknown(self.node) {
            Value::Unknown(text.to_string())
        } else if self.raw {
            // syntax errors were reported for the whole value already
            match ctx.interpolate(text, span) {
                Interpolated::Known(s) => Value::Known(s),
                _ => Value::Unknown(text.to_string()),
            }
        } else {
            Value::Known(text.to_string())
        };
        Spanned::new(value, span)
    }

    /// Byte positions of `sep` outside `${...}` (when splitting raw text).
    pub(super) fn seps(&self, sep: u8) -> Vec<usize> {
        let bytes = self.s.as_bytes();
        let mut out = Vec::new();
        let mut depth = 0usize;
        let mut i = 0;
        while let Some(&b) = bytes.get(i) {
            if self.raw && b == b'$' && bytes.get(i + 1) == Some(&b'$') {
                i += 2;
                continue;
            }
            if self.raw && b == b'$' && bytes.get(i + 1) == Some(&b'{') {
                depth += 1;
                i += 2;
                continue;
            }
            if depth > 0 {
                if b == b'}' {
                    depth -= 1;
                }
            } else if b == sep {
                out.push(i);
            }
            i += 1;
        }
        out
    }

    /// `r` split at top-level `sep`.
    pub(super) fn split(&self, r: Range<usize>, sep: u8) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        let mut start = r.start;
        for i in self.seps(sep) {
            if i >= r.start && i < r.end {
                out.push(start..i);
                start = i + 1;
            }
        }
        out.push(start..r.end);
        out
    }

    pub(super) fn first_sep(&self, sep: u8) -> Option<usize> {
        self.seps(sep).first().copied()
    }
}
