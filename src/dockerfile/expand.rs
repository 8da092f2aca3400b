//! Variable expansion as BuildKit's shell lexer does it for `ARG`/`ENV`/`FROM`/`USER` words:
//! `$NAME`, `${NAME}`, `${NAME:-word}`, `${NAME-word}`, `${NAME:+word}`, `${NAME+word}`, with
//! quotes and the escape character, every substituted byte charged to a [`Budget`]. Text in,
//! text out: where the values come from is [`super::semantics`]' business.

use std::collections::HashMap;

/// Bytes that `ARG`/`ENV` expansion may produce (substituted variable values, counted over the
/// whole Dockerfile, definitions and lookups together): `max(16 MiB, 4 × the file)`. A
/// Dockerfile whose `ARG`s double each other (`ARG B=$A$A`, `ARG C=$B$B`, ...) would otherwise
/// grow exponentially.
pub fn expansion_budget(input_len: usize) -> usize {
    (16 << 20).max(input_len.saturating_mul(4))
}

/// An expansion ran past the byte budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct TooLarge;

/// The byte budget a Dockerfile's [`super::semantics`] index shares between definitions and lookups.
#[derive(Debug)]
pub(super) struct Budget {
    left: std::sync::atomic::AtomicUsize,
    pub(super) limit: usize,
}

impl Budget {
    pub(super) fn new(limit: usize) -> Self {
        Self {
            left: std::sync::atomic::AtomicUsize::new(limit),
            limit,
        }
    }

    fn take(&self, n: usize) -> Result<(), TooLarge> {
        use std::sync::atomic::Ordering;
        self.left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                left.checked_sub(n)
            })
            .map(|_| ())
            .map_err(|_| TooLarge)
    }
}

/// Deepest `${A:-${B:-...}}` nesting expanded (deeper is unknown, not a stack overflow).
const MAX_NESTING: usize = 32;

/// Expands variable references in `text` with `get` (which returns `None` for an unset or unknown
/// variable). With `quotes`, single quotes keep their content literal, double quotes are removed,
/// and `escape` + char yields the char.
pub fn expand_vars(
    text: &str,
    get: &dyn Fn(&str) -> Option<String>,
    escape: char,
    quotes: bool,
) -> Option<String> {
    let budget = Budget::new(expansion_budget(text.len()));
    // look every name up once, so that expansion can borrow the values
    let mut held: HashMap<&str, Option<String>> = HashMap::new();
    for name in referenced_names(text) {
        held.entry(name).or_insert_with(|| get(name));
    }
    let lookup = |n: &str| held.get(n).and_then(|v| v.as_deref());
    expand_into(text, &lookup, escape, quotes, &budget, 0)
        .ok()
        .flatten()
}

/// Every `$NAME` / `${NAME` in `text` (a superset of what expansion looks up).
pub(super) fn referenced_names(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(p) = bytes
        .get(i..)
        .and_then(|r| r.iter().position(|&b| b == b'$'))
    {
        let mut start = i + p + 1;
        if bytes.get(start) == Some(&b'{') {
            start += 1;
        }
        let len = bytes.get(start..).map_or(0, |r| {
            r.iter()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                .count()
        });
        if len > 0 {
            out.push(text.get(start..start + len).unwrap_or(""));
        }
        i = start.max(i + p + 1);
    }
    out
}

/// The expansion of `text` (see [`expand_vars`]), every substituted value charged to `budget`.
/// `Ok(None)`: something stays unresolved.
pub(super) fn expand_into<'v>(
    text: &str,
    get: &dyn Fn(&str) -> Option<&'v str>,
    escape: char,
    quotes: bool,
    budget: &Budget,
    depth: usize,
) -> Result<Option<String>, TooLarge> {
    if depth > MAX_NESTING {
        return Ok(None);
    }
    let mut out = String::with_capacity(text.len());
    let mut in_double = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let after = rest.get(c.len_utf8()..).unwrap_or("");
        if quotes && c == escape {
            match after.chars().next() {
                Some(next) => {
                    out.push(next);
                    rest = after.get(next.len_utf8()..).unwrap_or("");
                }
                None => {
                    out.push(c);
                    rest = after;
                }
            }
            continue;
        }
        if quotes && c == '\'' && !in_double {
            match after.find('\'') {
                Some(p) => {
                    out.push_str(after.get(..p).unwrap_or(""));
                    rest = after.get(p + 1..).unwrap_or("");
                }
                None => {
                    out.push(c);
                    rest = after;
                }
            }
            continue;
        }
        if quotes && c == '"' {
            in_double = !in_double;
            rest = after;
            continue;
        }
        if c != '$' {
            // copy the run of ordinary characters at once
            let stop = rest
                .char_indices()
                .skip(1)
                .find(|&(_, x)| x == '$' || (quotes && (x == escape || x == '\'' || x == '"')))
                .map_or(rest.len(), |(i, _)| i);
            out.push_str(rest.get(..stop).unwrap_or(""));
            rest = rest.get(stop..).unwrap_or("");
            continue;
        }
        // `$`
        match after.chars().next() {
            Some('{') => {
                let inner_all = after.get(1..).unwrap_or("");
                let Some(close) = find_closing_brace(inner_all) else {
                    return Ok(None);
                };
                let inner = inner_all.get(..close).unwrap_or("");
                match expand_braced(inner, get, escape, budget, depth)? {
                    Some(v) => push_charged(&mut out, &v, budget)?,
                    None => return Ok(None),
                }
                rest = inner_all.get(close + 1..).unwrap_or("");
            }
            Some(n) if n.is_ascii_alphabetic() || n == '_' => {
                let len = after
                    .bytes()
                    .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
                    .count();
                let name = after.get(..len).unwrap_or("");
                let Some(v) = get(name) else {
                    return Ok(None);
                };
                push_charged(&mut out, v, budget)?;
                rest = after.get(len..).unwrap_or("");
            }
            _ => {
                out.push('$');
                rest = after;
            }
        }
    }
    Ok(Some(out))
}

fn push_charged(out: &mut String, value: &str, budget: &Budget) -> Result<(), TooLarge> {
    budget.take(value.len())?;
    out.push_str(value);
    Ok(())
}

/// The index of the `}` closing an opened `${` in `s` (which starts after the `{`).
fn find_closing_brace(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (k, c) in s.bytes().enumerate() {
        match c {
            b'{' => depth += 1,
            b'}' if depth == 0 => return Some(k),
            b'}' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// `NAME`, `NAME:-word`, `NAME-word`, `NAME:+word`, `NAME+word`. Defaults and replacements are
/// charged when they are used, like any other expansion output; a looked-up value is returned
/// uncharged (the caller charges what it copies).
fn expand_braced<'v>(
    inner: &str,
    get: &dyn Fn(&str) -> Option<&'v str>,
    escape: char,
    budget: &Budget,
    depth: usize,
) -> Result<Option<std::borrow::Cow<'v, str>>, TooLarge> {
    use std::borrow::Cow;
    let name_len = inner
        .bytes()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
        .count();
    let Some(name) = inner.get(..name_len) else {
        return Ok(None);
    };
    if name.is_empty() {
        return Ok(None);
    }
    let rest = inner.get(name_len..).unwrap_or("");
    let value = get(name);
    let word = |w: &str| -> Result<Option<Cow<'v, str>>, TooLarge> {
        Ok(expand_into(w, get, escape, false, budget, depth + 1)?.map(Cow::Owned))
    };
    if rest.is_empty() {
        return Ok(value.map(Cow::Borrowed));
    }
    if let Some(w) = rest.strip_prefix(":-") {
        return match value {
            Some(v) if !v.is_empty() => Ok(Some(Cow::Borrowed(v))),
            _ => word(w),
        };
    }
    if let Some(w) = rest.strip_prefix(":+") {
        return match value {
            Some(v) if !v.is_empty() => word(w),
            Some(_) => Ok(Some(Cow::Borrowed(""))),
            None => Ok(None),
        };
    }
    if let Some(w) = rest.strip_prefix('-') {
        return match value {
            Some(v) => Ok(Some(Cow::Borrowed(v))),
            None => word(w),
        };
    }
    if let Some(w) = rest.strip_prefix('+') {
        return match value {
            Some(_) => word(w),
            None => Ok(None),
        };
    }
    Ok(None)
}
