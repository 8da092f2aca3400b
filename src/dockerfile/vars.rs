//! Where a word refers to variables, as BuildKit's shell lexer reads it (`$NAME`, `${NAME}`,
//! `${NAME<modifier>word}`): the names its expansion looks up, with their byte ranges. Values
//! and scopes are [`super::semantics`]' business; this only finds the references.

/// One variable reference in a word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarRef<'t> {
    /// The variable's name.
    pub name: &'t str,
    /// From the `$` to the end of the name, or to the `}` closing `${…}` (byte offsets into the
    /// word).
    pub range: std::ops::Range<usize>,
    /// The modifier after the name in `${NAME…}` (`-`, `+`, `?`, `#`, `%`, `/`, `:`), if any.
    pub modifier: Option<char>,
}

/// Every variable `text` looks up when BuildKit expands it, in order. With `quotes`, text in
/// single quotes and a character after the `escape` character are literal (as in `FROM`,
/// `COPY`, `ENV` words); without, only the escape is (heredoc bodies). Positional names (`$1`)
/// are not variables a Dockerfile can declare and are left out. Linear in `text`.
pub fn var_refs(text: &str, escape: char, quotes: bool) -> Vec<VarRef<'_>> {
    let bytes = text.as_bytes();
    let esc = u8::try_from(escape).unwrap_or(b'\\');
    let mut out = Vec::new();
    let mut in_double = false;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == esc {
            i += 2;
            continue;
        }
        if quotes && b == b'\'' && !in_double {
            i = bytes
                .get(i + 1..)
                .and_then(|r| r.iter().position(|&c| c == b'\''))
                .map_or(bytes.len(), |p| i + 1 + p + 1);
            continue;
        }
        if quotes && b == b'"' {
            in_double = !in_double;
            i += 1;
            continue;
        }
        if b != b'$' {
            i += 1;
            continue;
        }
        let braced = bytes.get(i + 1) == Some(&b'{');
        let start = i + 1 + usize::from(braced);
        let len = name_len(bytes.get(start..).unwrap_or(&[]));
        let Some(name) = text.get(start..start + len).filter(|n| !n.is_empty()) else {
            i = start;
            continue;
        };
        let after = start + len;
        let (end, modifier) = if braced {
            let close = closing_brace(bytes, after).unwrap_or(bytes.len());
            let m = bytes
                .get(after)
                .filter(|&&c| c != b'}')
                .map(|&c| char::from(c));
            ((close + 1).min(bytes.len()), m)
        } else {
            (after, None)
        };
        if !name.as_bytes()[0].is_ascii_digit() {
            out.push(VarRef {
                name,
                range: i..end,
                modifier,
            });
        }
        // the word of a `${NAME:-word}` is scanned too: BuildKit expands it
        i = after;
    }
    out
}

/// BuildKit's `processName`: digits alone (`$1`), else letters, digits and `_`.
fn name_len(rest: &[u8]) -> usize {
    match rest.first() {
        Some(c) if c.is_ascii_digit() => rest.iter().take_while(|c| c.is_ascii_digit()).count(),
        _ => rest
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
            .count(),
    }
}

/// The `}` closing a `${` whose name ends at `from`.
fn closing_brace(bytes: &[u8], from: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (k, &c) in bytes.get(from..)?.iter().enumerate() {
        match c {
            b'{' => depth += 1,
            b'}' if depth == 0 => return Some(from + k),
            b'}' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// BuildKit's Levenshtein suggestion (`util/suggest.Search`, case-sensitive): the option
/// closest to `name` at distance 1 or 2 (the first such at the smallest distance), `None` when
/// an option equals `name` or none is that close. Names over 64 bytes get no suggestion (keeps
/// the quadratic distance bounded).
pub fn suggest<'o>(name: &str, options: impl IntoIterator<Item = &'o str>) -> Option<&'o str> {
    if name.len() > 64 {
        return None;
    }
    let mut best: Option<&str> = None;
    let mut min = 3;
    for opt in options {
        if opt == name {
            return None;
        }
        if opt.len() > 64 || opt.len().abs_diff(name.len()) >= min {
            continue;
        }
        let d = levenshtein(name.as_bytes(), opt.as_bytes());
        if d < min {
            best = Some(opt);
            min = d;
        }
    }
    best
}

fn levenshtein(a: &[u8], b: &[u8]) -> usize {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, &ca) in a.iter().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str, quotes: bool) -> Vec<(&str, &str, Option<char>)> {
        var_refs(text, '\\', quotes)
            .into_iter()
            .map(|r| (r.name, &text[r.range], r.modifier))
            .collect()
    }

    #[test]
    fn references_as_the_lexer_reads_them() {
        assert_eq!(
            names("a$A-${B}x${C:-$D}'$E'\"$F\"\\$G$1$ ${", true),
            [
                ("A", "$A", None),
                ("B", "${B}", None),
                ("C", "${C:-$D}", Some(':')),
                ("D", "$D", None),
                ("F", "$F", None),
            ]
        );
        assert_eq!(names("'$E'", false), [("E", "$E", None)]);
        assert_eq!(names("${X", true), [("X", "${X", None)]);
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            suggest("DIR_ASSET", ["DIR_BINARIES", "DIR_ASSETS"]),
            Some("DIR_ASSETS")
        );
        assert_eq!(suggest("PAHT", ["PATH"]), Some("PATH"));
        assert_eq!(suggest("foo", ["bar"]), None);
        assert_eq!(suggest("foo", ["fo", "foo"]), None);
    }
}
