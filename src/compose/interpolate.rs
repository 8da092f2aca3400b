//! Compose variable interpolation (compose-go `template` semantics):
//! `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?err}`, `${VAR?err}`,
//! `${VAR:+replacement}`, `${VAR+replacement}`, `$$` (a literal `$`), nested like `${A:-${B}}`.
//!
//! Variables come only from the given map (the `.env` file), never from the process environment.
//! A reference to an unset variable with no default that applies makes the result unknown.

use std::cell::Cell;
use std::collections::HashMap;

/// Deepest `${A:-${B:-...}}` nesting accepted.
const MAX_NESTING: usize = 32;

/// The smallest interpolation budget: 16 MiB.
pub const MIN_BUDGET: usize = 16 << 20;

/// Bytes that interpolation may substitute for input of `input_len` bytes: `max(16 MiB, 4 ×
/// input)`. Only the bytes of variable values copied in count (literal text is bounded by the
/// input already); a `.env` file whose lines double each other (`B=${A}${A}`, `C=${B}${B}`,
/// ...) would otherwise grow exponentially.
pub fn budget_for(input_len: usize) -> usize {
    MIN_BUDGET.max(input_len.saturating_mul(4))
}

/// The value a variable has in a [`super::Vars`] map when it is set but its value is unknown:
/// a `.env` line whose expansion ran past the budget. (NUL bytes: not something a value in a
/// text file holds by accident.)
pub const UNKNOWN_VALUE: &str = "\u{0}sandlint:unknown-value\u{0}";

/// A byte budget shared by the interpolations of one project (see [`budget_for`]).
#[derive(Debug)]
pub struct Budget {
    left: Cell<usize>,
    limit: usize,
}

impl Budget {
    pub fn new(limit: usize) -> Self {
        Self {
            left: Cell::new(limit),
            limit,
        }
    }

    /// The budget, in bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Takes `n` bytes; `false` (and nothing taken) when fewer are left.
    fn take(&self, n: usize) -> bool {
        match self.left.get().checked_sub(n) {
            Some(rest) => {
                self.left.set(rest);
                true
            }
            None => false,
        }
    }
}

/// `name` cut to 30 characters (with `…`), for messages.
pub fn clip_name(name: &str) -> String {
    if name.chars().count() <= 30 {
        return name.to_string();
    }
    let mut out: String = name.chars().take(29).collect();
    out.push('…');
    out
}

/// ` (N more … were refused too)` for a help text, or nothing.
pub fn refused_too(more: usize, one: &str, many: &str) -> String {
    match more {
        0 => String::new(),
        1 => format!(" (1 more {one} was refused too)"),
        n => format!(" ({n} more {many} were refused too)"),
    }
}

/// `limit` bytes in words: `16 MiB`, `1.5 MiB`, `640 KiB`.
pub fn show_bytes(limit: usize) -> String {
    const MIB: usize = 1 << 20;
    if limit >= MIB {
        if limit.is_multiple_of(MIB) {
            format!("{} MiB", limit / MIB)
        } else {
            format!("{:.1} MiB", limit as f64 / MIB as f64)
        }
    } else {
        format!("{} KiB", limit.div_ceil(1024))
    }
}

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
    /// Substituting would have taken more bytes than the budget has left: the value is unknown.
    TooLarge,
}

/// A variable as substitution sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Var<'v> {
    Set(&'v str),
    Unset,
    /// Set (and not empty), value unknown.
    Unknown,
}

impl<'v> Var<'v> {
    /// `name` in `vars`.
    pub(crate) fn of(vars: &'v HashMap<String, String>, name: &str) -> Self {
        match vars.get(name) {
            Some(v) if v == UNKNOWN_VALUE => Var::Unknown,
            Some(v) => Var::Set(v),
            None => Var::Unset,
        }
    }
}

/// Why substitution stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Stop {
    Invalid(String),
    TooLarge,
}

/// Interpolates `raw` with `vars`, with a budget of its own ([`budget_for`] its length).
pub fn interpolate(raw: &str, vars: &HashMap<String, String>) -> Interpolated {
    interpolate_with(raw, vars, &Budget::new(budget_for(raw.len())))
}

/// Interpolates `raw` with `vars`, charging substituted bytes to `budget`.
pub fn interpolate_with(
    raw: &str,
    vars: &HashMap<String, String>,
    budget: &Budget,
) -> Interpolated {
    if !raw.contains('$') {
        return Interpolated::Known(raw.to_string());
    }
    let lookup = |name: &str| Var::of(vars, name);
    let mut out = String::with_capacity(raw.len());
    let mut known = true;
    let mut s = Subst {
        lookup: &lookup,
        lenient: false,
        budget,
    };
    match s.run(raw, 0, &mut out, &mut known) {
        Ok(()) if known => Interpolated::Known(out),
        Ok(()) => Interpolated::Unknown,
        Err(Stop::Invalid(reason)) => Interpolated::Invalid(reason),
        Err(Stop::TooLarge) => Interpolated::TooLarge,
    }
}

/// Substitutes where unset variables are empty (compose-go `.env` files); invalid syntax leaves
/// the text as written. `Ok(None)`: the value depends on a variable whose value is unknown.
pub(crate) fn substitute_lenient<'v>(
    raw: &str,
    lookup: &dyn Fn(&str) -> Var<'v>,
    budget: &Budget,
) -> Result<Option<String>, Stop> {
    if !raw.contains('$') {
        return Ok(Some(raw.to_string()));
    }
    let mut out = String::with_capacity(raw.len());
    let mut known = true;
    let mut s = Subst {
        lookup,
        lenient: true,
        budget,
    };
    match s.run(raw, 0, &mut out, &mut known) {
        Ok(()) if known => Ok(Some(out)),
        Ok(()) => Ok(None),
        Err(Stop::Invalid(_)) => Ok(Some(raw.to_string())),
        Err(Stop::TooLarge) => Err(Stop::TooLarge),
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

/// One substitution: where variables come from, how unset ones count, and the budget.
struct Subst<'a, 'v> {
    lookup: &'a dyn Fn(&str) -> Var<'v>,
    /// Unset variables are empty (`.env` files) instead of making the value unknown.
    lenient: bool,
    budget: &'a Budget,
}

impl Subst<'_, '_> {
    /// Appends a variable's value, charged to the budget.
    fn value(&mut self, var: Var<'_>, out: &mut String, known: &mut bool) -> Result<(), Stop> {
        match var {
            Var::Set(v) => {
                if !self.budget.take(v.len()) {
                    return Err(Stop::TooLarge);
                }
                out.push_str(v);
            }
            Var::Unset if self.lenient => {}
            Var::Unset | Var::Unknown => *known = false,
        }
        Ok(())
    }

    fn run(
        &mut self,
        raw: &str,
        depth: usize,
        out: &mut String,
        known: &mut bool,
    ) -> Result<(), Stop> {
        if depth > MAX_NESTING {
            return Err(Stop::Invalid(format!(
                "nested more than {MAX_NESTING} levels deep"
            )));
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
                    let var = (self.lookup)(name);
                    self.value(var, out, known)?;
                    i = end;
                }
                Some(b'{') => {
                    let Some(close) = closing_brace(bytes, dollar + 1) else {
                        return Err(Stop::Invalid(format!("unclosed `${{` in `{raw}`")));
                    };
                    let inner = raw.get(dollar + 2..close).unwrap_or("");
                    self.braced(inner, depth, out, known)?;
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
        &mut self,
        inner: &str,
        depth: usize,
        out: &mut String,
        known: &mut bool,
    ) -> Result<(), Stop> {
        let invalid = || Stop::Invalid(format!("invalid variable reference `${{{inner}}}`"));
        let bytes = inner.as_bytes();
        if !bytes.first().is_some_and(|&b| is_name_start(b)) {
            return Err(invalid());
        }
        let name_end = bytes
            .iter()
            .position(|&c| !is_name_char(c))
            .unwrap_or(bytes.len());
        let name = inner.get(..name_end).unwrap_or("");
        let rest = inner.get(name_end..).unwrap_or("");
        let value = (self.lookup)(name);
        let (colon, op, arg) = if rest.is_empty() {
            (false, None, "")
        } else {
            let (colon, after) = match rest.strip_prefix(':') {
                Some(a) => (true, a),
                None => (false, rest),
            };
            match after.as_bytes().first() {
                Some(&op @ (b'-' | b'+' | b'?')) => (colon, Some(op), after.get(1..).unwrap_or("")),
                _ => return Err(invalid()),
            }
        };
        // `:` forms treat an empty value like an unset one; an unknown value is set and not
        // empty (it ran past the budget).
        let set = match value {
            Var::Set(v) => !(colon && v.is_empty()),
            Var::Unknown => true,
            Var::Unset => false,
        };
        match op {
            None => self.value(value, out, known)?,
            Some(b'-') => {
                if set {
                    self.value(value, out, known)?;
                } else {
                    self.run(arg, depth + 1, out, known)?;
                }
            }
            Some(b'+') => {
                if set {
                    self.run(arg, depth + 1, out, known)?;
                }
            }
            // `?`: a required variable; missing means Compose refuses to run, so the value is
            // unknown
            _ => {
                if set {
                    self.value(value, out, known)?;
                } else {
                    *known = false;
                }
            }
        }
        Ok(())
    }
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

#[cfg(test)]
mod budget_tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn substituted_bytes_are_charged_and_refused_past_the_budget() {
        let v = vars(&[("A", "0123456789")]);
        let budget = Budget::new(25);
        assert_eq!(
            interpolate_with("${A}-$A", &v, &budget),
            Interpolated::Known("0123456789-0123456789".into())
        );
        // 5 bytes left: the next value does not fit, and nothing is taken
        assert_eq!(interpolate_with("$A", &v, &budget), Interpolated::TooLarge);
        // literal text and defaults written in the file are not charged
        assert_eq!(
            interpolate_with("lit ${U:-def}", &v, &budget),
            Interpolated::Known("lit def".into())
        );
    }

    #[test]
    fn nested_default_bomb_is_bounded() {
        // every level doubles through defaults: `${U:-${V}${V}}`
        let mut v = vars(&[("V0", "xxxxxxxx")]);
        for i in 1..40 {
            let raw = format!("${{U:-${{V{0}}}${{V{0}}}}}", i - 1);
            let budget = Budget::new(1 << 20);
            match interpolate_with(&raw, &v, &budget) {
                Interpolated::Known(s) => {
                    v.insert(format!("V{i}"), s);
                }
                Interpolated::TooLarge => {
                    // level i copies 8 << i bytes: 1 MiB (level 17) fits exactly, 2 MiB does not
                    assert_eq!(i, 18);
                    return;
                }
                other => panic!("{other:?}"),
            }
        }
        panic!("never refused");
    }

    #[test]
    fn unknown_values_are_set_but_unknown() {
        let v = vars(&[("BIG", UNKNOWN_VALUE)]);
        assert_eq!(interpolate("$BIG", &v), Interpolated::Unknown);
        assert_eq!(interpolate("${BIG:-d}", &v), Interpolated::Unknown);
        // set and not empty: the replacement applies
        assert_eq!(
            interpolate("${BIG:+true}", &v),
            Interpolated::Known("true".into())
        );
        assert_eq!(interpolate("${BIG:?e}", &v), Interpolated::Unknown);
    }

    #[test]
    fn budget_sizes() {
        assert_eq!(budget_for(0), 16 << 20);
        assert_eq!(budget_for(10 << 20), 40 << 20);
        assert_eq!(show_bytes(16 << 20), "16 MiB");
        assert_eq!(show_bytes(3 << 19), "1.5 MiB");
        assert_eq!(show_bytes(1000), "1 KiB");
    }
}
