//! Compose variable interpolation (compose-go `template` semantics):
//! `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?err}`, `${VAR?err}`,
//! `${VAR:+replacement}`, `${VAR+replacement}`, `$$` (a literal `$`), nested like `${A:-${B}}`.
//!
//! Variables come only from the given map (the `.env` file), never from the process environment.
//! A reference to an unset variable with no default that applies makes the result unknown.

use std::collections::HashMap;

/// Deepest `${A:-${B:-...}}` nesting accepted.
const MAX_NESTING: usize = 32;

/// The outcome of interpolating one string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Interpolated {
    /// Fully known.
    Known(String),
    /// Depends on an unset variable (without a default that applies), or on a required variable
    /// (`${VAR:?err}`) that is missing.
    Unknown,
    /// Not valid interpolation syntax (`${`, `${}`, `${1A}`, `${A%b}`): Compose rejects the file.
    Invalid(String),
}

/// Interpolates `raw` with `vars`.
pub fn interpolate(raw: &str, vars: &HashMap<String, String>) -> Interpolated {
    if !raw.contains('$') {
        return Interpolated::Known(raw.to_string());
    }
    let lookup = |name: &str| vars.get(name).cloned();
    let mut out = String::with_capacity(raw.len());
    let mut known = true;
    match substitute_into(raw, &lookup, 0, &mut out, &mut known) {
        Ok(()) if known => Interpolated::Known(out),
        Ok(()) => Interpolated::Unknown,
        Err(reason) => Interpolated::Invalid(reason),
    }
}

/// Substitutes where unset variables are empty (compose-go `.env` files); invalid syntax leaves
/// the text as written.
pub(crate) fn substitute_lenient(raw: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    if !raw.contains('$') {
        return raw.to_string();
    }
    let mut out = String::with_capacity(raw.len());
    match substitute_into(raw, lookup, 0, &mut out, &mut true) {
        Ok(()) => out,
        Err(_) => raw.to_string(),
    }
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Index of the `}` closing the `{` at `open` (compose-go counts every `{`, skipping the byte
/// after it).
fn closing_brace(bytes: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = open;
    while let Some(&b) = bytes.get(i) {
        if b == b'}' {
            depth = depth.saturating_sub(1);
            if depth == 0 {
                return Some(i);
            }
        }
        if b == b'{' {
            depth += 1;
            i += 1;
        }
        i += 1;
    }
    None
}

fn substitute_into(
    raw: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    depth: usize,
    out: &mut String,
    known: &mut bool,
) -> Result<(), String> {
    if depth > MAX_NESTING {
        return Err(format!("nested more than {MAX_NESTING} levels deep"));
    }
    let bytes = raw.as_bytes();
    let mut i = 0;
    let mut literal_start = 0;
    while let Some(pos) = bytes
        .get(i..)
        .and_then(|rest| rest.iter().position(|&b| b == b'$'))
    {
        let dollar = i + pos;
        out.push_str(raw.get(literal_start..dollar).unwrap_or(""));
        match bytes.get(dollar + 1) {
            Some(b'$') => {
                out.push('$');
                i = dollar + 2;
            }
            Some(&b) if is_name_start(b) => {
                let end = bytes
                    .get(dollar + 1..)
                    .and_then(|r| r.iter().position(|&c| !is_name_char(c)))
                    .map_or(bytes.len(), |p| dollar + 1 + p);
                let name = raw.get(dollar + 1..end).unwrap_or("");
                match lookup(name) {
                    Some(v) => out.push_str(&v),
                    None => *known = false,
                }
                i = end;
            }
            Some(b'{') => {
                let Some(close) = closing_brace(bytes, dollar + 1) else {
                    return Err(format!("unclosed `${{` in `{raw}`"));
                };
                let inner = raw.get(dollar + 2..close).unwrap_or("");
                braced(inner, lookup, depth, out, known)?;
                i = close + 1;
            }
            // `$` before anything else is kept as written (compose-go's pattern does not match it)
            _ => {
                out.push('$');
                i = dollar + 1;
            }
        }
        literal_start = i;
    }
    out.push_str(raw.get(literal_start..).unwrap_or(""));
    Ok(())
}

/// The inside of `${...}`.
fn braced(
    inner: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    depth: usize,
    out: &mut String,
    known: &mut bool,
) -> Result<(), String> {
    let bytes = inner.as_bytes();
    if !bytes.first().is_some_and(|&b| is_name_start(b)) {
        return Err(format!("invalid variable reference `${{{inner}}}`"));
    }
    let name_end = bytes
        .iter()
        .position(|&c| !is_name_char(c))
        .unwrap_or(bytes.len());
    let name = inner.get(..name_end).unwrap_or("");
    let rest = inner.get(name_end..).unwrap_or("");
    let value = lookup(name);
    let (colon, op, arg) = if rest.is_empty() {
        (false, None, "")
    } else {
        let (colon, after) = match rest.strip_prefix(':') {
            Some(a) => (true, a),
            None => (false, rest),
        };
        match after.as_bytes().first() {
            Some(&op @ (b'-' | b'+' | b'?')) => (colon, Some(op), after.get(1..).unwrap_or("")),
            _ => return Err(format!("invalid variable reference `${{{inner}}}`")),
        }
    };
    // `:` forms treat an empty value like an unset one.
    let set = match &value {
        Some(v) => !(colon && v.is_empty()),
        None => false,
    };
    match op {
        None => match value {
            Some(v) => out.push_str(&v),
            None => *known = false,
        },
        Some(b'-') => match value {
            Some(v) if set => out.push_str(&v),
            _ => substitute_into(arg, lookup, depth + 1, out, known)?,
        },
        Some(b'+') => {
            if set {
                substitute_into(arg, lookup, depth + 1, out, known)?;
            }
        }
        // `?`: a required variable; missing means Compose refuses to run, so the value is unknown
        _ => match value {
            Some(v) if set => out.push_str(&v),
            _ => *known = false,
        },
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> HashMap<String, String> {
        [("SET", "v"), ("EMPTY", ""), ("B", "bee"), ("PORT", "8080")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn known(raw: &str) -> String {
        match interpolate(raw, &vars()) {
            Interpolated::Known(s) => s,
            other => panic!("{raw}: {other:?}"),
        }
    }

    fn is_unknown(raw: &str) -> bool {
        interpolate(raw, &vars()) == Interpolated::Unknown
    }

    fn is_invalid(raw: &str) -> bool {
        matches!(interpolate(raw, &vars()), Interpolated::Invalid(_))
    }

    #[test]
    fn plain_and_escapes() {
        assert_eq!(known("no vars"), "no vars");
        assert_eq!(known("$$HOME"), "$HOME");
        assert_eq!(known("a$$$$b"), "a$$b");
        assert_eq!(
            known("cost $5 and $ and $(date) and $"),
            "cost $5 and $ and $(date) and $"
        );
        assert_eq!(known("é$SET✓"), "év✓");
    }

    #[test]
    fn simple_references() {
        assert_eq!(known("$SET"), "v");
        assert_eq!(known("${SET}"), "v");
        assert_eq!(known("x${SET}y$SET.z"), "xvyv.z");
        assert_eq!(known("$PORT:80"), "8080:80");
        assert_eq!(known("$EMPTY"), "");
        assert!(is_unknown("$UNSET"));
        assert!(is_unknown("${UNSET}"));
        assert!(is_unknown("a-${UNSET}-b"));
        // names are letters, digits and `_`; the reference ends at anything else
        assert_eq!(known("$SET-x"), "v-x");
        assert!(is_unknown("$SETX"));
    }

    #[test]
    fn defaults() {
        assert_eq!(known("${UNSET:-d}"), "d");
        assert_eq!(known("${UNSET-d}"), "d");
        assert_eq!(known("${EMPTY:-d}"), "d");
        assert_eq!(known("${EMPTY-d}"), "");
        assert_eq!(known("${SET:-d}"), "v");
        assert_eq!(known("${SET-d}"), "v");
        assert_eq!(known("${UNSET:-}"), "");
        assert_eq!(known("${UNSET:-a:b/c d}"), "a:b/c d");
        assert_eq!(known("${UNSET:-${B}}"), "bee");
        assert_eq!(known("${UNSET:-${UNSET2:-deep}}-x"), "deep-x");
        assert_eq!(known("${UNSET:-{x}}"), "{x}");
        assert!(is_unknown("${UNSET:-${UNSET2}}"));
        // the default is not evaluated when the variable is set
        assert_eq!(known("${SET:-${UNSET2}}"), "v");
    }

    #[test]
    fn replacements() {
        assert_eq!(known("${SET:+r}"), "r");
        assert_eq!(known("${SET+r}"), "r");
        assert_eq!(known("${EMPTY:+r}"), "");
        assert_eq!(known("${EMPTY+r}"), "r");
        assert_eq!(known("${UNSET:+r}"), "");
        assert_eq!(known("${UNSET+r}"), "");
        assert_eq!(known("${SET:+${B}}"), "bee");
    }

    #[test]
    fn required() {
        assert_eq!(known("${SET:?must be set}"), "v");
        assert_eq!(known("${SET?err}"), "v");
        assert_eq!(known("${EMPTY?err}"), "");
        assert!(is_unknown("${EMPTY:?err}"));
        assert!(is_unknown("${UNSET:?err}"));
        assert!(is_unknown("${UNSET?err}"));
        assert!(is_unknown("${UNSET:?}"));
    }

    #[test]
    fn invalid_syntax() {
        assert!(is_invalid("${"));
        assert!(is_invalid("abc ${SET"));
        assert!(is_invalid("${}"));
        assert!(is_invalid("${1A}"));
        assert!(is_invalid("${SET%x}"));
        assert!(is_invalid("${SET:x}"));
        assert!(is_invalid("${A B}"));
        assert!(is_invalid("${UNSET:-${}"));
        // nesting is bounded, not a stack overflow
        let deep = format!("{}x{}", "${A:-".repeat(10_000), "}".repeat(10_000));
        assert!(is_invalid(&deep));
        let ok = format!("{}x{}", "${A:-".repeat(20), "}".repeat(20));
        assert_eq!(known(&ok), "x");
    }
}
