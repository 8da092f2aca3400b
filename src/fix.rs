//! Fixes: byte-range edits on the original source that a rule attaches to a finding.
//!
//! A fix never re-serialises a file: it replaces byte ranges of the text that was read, so every
//! comment, quote and blank line it does not touch stays as it was. The engine that applies fixes
//! to files (rounds, conflicts, writing) lives above this layer; this module holds the data and
//! the pure text operation, so parsers' edit helpers and the rules can use them.

use crate::source::{FileRef, Span};

/// Whether applying a fix can change what a container that works today does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Applicability {
    /// Cannot break a working service (`--fix`).
    Safe,
    /// May break a working service; applied only with `--unsafe-fixes`.
    Unsafe,
}

impl Applicability {
    /// Its name in reports (as serialized).
    pub fn as_str(self) -> &'static str {
        match self {
            Applicability::Safe => "safe",
            Applicability::Unsafe => "unsafe",
        }
    }
}

/// One replacement: the bytes of `span` in `file` become `replacement` (an empty span inserts).
#[derive(Debug, Clone)]
pub struct Edit {
    pub file: FileRef,
    pub span: Span,
    pub replacement: String,
}

/// A rule's proposed change for one finding: all its edits are applied together or not at all.
#[derive(Debug, Clone)]
pub struct Fix {
    pub applicability: Applicability,
    /// What the fix does, in the imperative (`add \`no-new-privileges:true\` to security_opt`).
    /// Most fixes' messages are fixed texts: not copied per finding.
    pub message: std::borrow::Cow<'static, str>,
    pub edits: Vec<Edit>,
}

impl Fix {
    pub fn new(
        applicability: Applicability,
        message: impl Into<std::borrow::Cow<'static, str>>,
        edits: Vec<Edit>,
    ) -> Self {
        Self {
            applicability,
            message: message.into(),
            edits,
        }
    }

    pub fn safe(message: impl Into<std::borrow::Cow<'static, str>>, edits: Vec<Edit>) -> Self {
        Self::new(Applicability::Safe, message, edits)
    }

    pub fn unsafe_(message: impl Into<std::borrow::Cow<'static, str>>, edits: Vec<Edit>) -> Self {
        Self::new(Applicability::Unsafe, message, edits)
    }
}

/// Why edits could not be applied to a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditError {
    /// An edit's range is outside the text or not on a UTF-8 character boundary.
    OutOfBounds { start: u32, end: u32 },
    /// Two edits overlap (inserts at the same offset do not: they apply in the given order).
    Overlap {
        first: (u32, u32),
        second: (u32, u32),
    },
}

/// Applies `edits` (byte ranges of `text`) in one pass, linear in the text and the edits.
/// Edits are sorted by position (stable: inserts at one offset keep their order); overlapping
/// ranges are an error, so a caller can defer the later fix to another round.
pub fn apply_edits<'a>(
    text: &str,
    edits: impl IntoIterator<Item = (Span, &'a str)>,
) -> Result<String, EditError> {
    let mut edits: Vec<(Span, &str)> = edits.into_iter().collect();
    edits.sort_by_key(|(span, _)| (span.start, span.end));
    let mut out =
        String::with_capacity(text.len() + edits.iter().map(|(_, r)| r.len()).sum::<usize>());
    let mut at = 0usize;
    let mut prev: Option<Span> = None;
    for (span, replacement) in edits {
        let (start, end) = (span.start as usize, span.end as usize);
        if start > end
            || end > text.len()
            || !text.is_char_boundary(start)
            || !text.is_char_boundary(end)
        {
            return Err(EditError::OutOfBounds {
                start: span.start,
                end: span.end,
            });
        }
        if let Some(p) = prev
            && start < p.end as usize
        {
            return Err(EditError::Overlap {
                first: (p.start, p.end),
                second: (span.start, span.end),
            });
        }
        out.push_str(&text[at..start]);
        out.push_str(replacement);
        at = end;
        prev = Some(span);
    }
    out.push_str(&text[at..]);
    Ok(out)
}

/// One round of fixing a text: takes `fixes` in order of their first edit and keeps each fix
/// none of whose edits touches an edit of a fix already kept (overlapping ranges, or two edits
/// at the same offset, whose order would be a guess); the others wait for the next round, after
/// a re-lint. Returns the new text and the positions (in `fixes`, ascending) of the fixes
/// applied. Every edit must be on `text` (the caller keeps fixes of other files out).
/// `O(n log n)` in the edits.
pub fn apply_round<'a>(
    text: &str,
    fixes: impl IntoIterator<Item = &'a Fix>,
) -> Result<(String, Vec<usize>), EditError> {
    let mut fixes: Vec<(usize, &Fix)> = (fixes.into_iter().enumerate())
        .filter(|(_, f)| !f.edits.is_empty())
        .collect();
    fixes.sort_by_key(|(_, f)| f.edits.iter().map(|e| (e.span.start, e.span.end)).min());
    // the kept edits, disjoint, by start: a new edit can only touch its two neighbours
    let mut kept: std::collections::BTreeMap<u32, u32> = std::collections::BTreeMap::new();
    let touches = |kept: &std::collections::BTreeMap<u32, u32>, e: Span| {
        let before = kept.range(..=e.start).next_back();
        let after = kept.range(e.start.saturating_add(1)..).next();
        before.is_some_and(|(&s, &end)| s == e.start || end > e.start)
            || after.is_some_and(|(&s, _)| s < e.end)
    };
    let mut applied = Vec::new();
    let mut edits: Vec<(Span, &str)> = Vec::new();
    for (position, fix) in fixes {
        if fix.edits.iter().any(|e| touches(&kept, e.span)) {
            continue;
        }
        for e in &fix.edits {
            kept.insert(e.span.start, e.span.end);
            edits.push((e.span, e.replacement.as_str()));
        }
        applied.push(position);
    }
    applied.sort_unstable();
    Ok((apply_edits(text, edits)?, applied))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_in_position_order_and_keeps_the_rest() {
        let text = "a: 1\nb: 2\n";
        let out = apply_edits(
            text,
            [
                (Span::new(8, 9), "3"),
                (Span::new(0, 0), "# c\n"),
                (Span::new(3, 4), "x"),
            ],
        );
        assert_eq!(out, Ok("# c\na: x\nb: 3\n".to_owned()));
    }

    #[test]
    fn inserts_at_one_offset_keep_their_order() {
        let out = apply_edits("ab", [(Span::at(1), "1"), (Span::at(1), "2")]);
        assert_eq!(out, Ok("a12b".to_owned()));
    }

    fn fix(edits: &[(u32, u32, &str)]) -> Fix {
        let file = crate::source::SourceFile::virtual_file("x", "").into_ref();
        let edits = (edits.iter())
            .map(|&(s, e, r)| Edit {
                file: file.clone(),
                span: Span::new(s, e),
                replacement: r.to_owned(),
            })
            .collect();
        Fix::safe("x", edits)
    }

    #[test]
    fn a_round_defers_fixes_that_touch_a_kept_one() {
        let text = "0123456789";
        // taken in order of first edit: Z, <, (ab: same offset as <), Y+"", (X: starts at
        // the kept insert at 3), >+""
        let fixes = [
            fix(&[(2, 4, "ab")]),
            fix(&[(3, 5, "X")]),
            fix(&[(2, 2, "<")]),
            fix(&[(4, 4, ">"), (9, 10, "")]),
            fix(&[(6, 8, "Y"), (3, 3, "")]),
            fix(&[(0, 1, "Z")]),
        ];
        let (out, applied) = apply_round(text, &fixes).unwrap();
        assert_eq!(
            (out.as_str(), applied.as_slice()),
            ("Z1<23>45Y8", &[2, 3, 4, 5][..])
        );
        // a replacement over a kept insert clashes too
        let fixes = [fix(&[(5, 5, "i")]), fix(&[(3, 8, "R")])];
        assert_eq!(
            apply_round(text, &fixes).unwrap(),
            ("012R89".to_owned(), vec![1])
        );
    }

    #[test]
    fn overlap_and_out_of_bounds_are_errors() {
        assert_eq!(
            apply_edits("abcd", [(Span::new(0, 2), ""), (Span::new(1, 3), "")]),
            Err(EditError::Overlap {
                first: (0, 2),
                second: (1, 3)
            })
        );
        assert_eq!(
            apply_edits("ab", [(Span::new(1, 5), "")]),
            Err(EditError::OutOfBounds { start: 1, end: 5 })
        );
        assert_eq!(
            apply_edits("é", [(Span::new(1, 1), "x")]),
            Err(EditError::OutOfBounds { start: 1, end: 1 })
        );
    }
}
