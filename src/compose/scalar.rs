//! What Docker Compose makes of a plain YAML scalar that is not a string.
//!
//! Compose (compose-go, on go-yaml v3) types a plain, untagged scalar before it becomes a
//! string field's value: `True` is the boolean `true`, `0x10` and `017` are the integer 16 and
//! 15, `1_000` is 1000, `1.50` is the float 1.5. The string Compose then uses is Go's rendering
//! of that value (`fmt.Sprint`): `environment: {A: 0x10}` sets `A=16`, `B: 1e7` sets `B=1e+07`.
//! The model holds the value Compose uses, so a rule sees what the container gets. Measured
//! against `docker compose config` v2.40 (`scripts/compose-differential.py`, and the unit tests
//! below). Timestamps (`2001-12-14`) are left as written: Compose rejects them in every field
//! sandlint reads.

use super::yaml::{Node, NodeKind, Style};

/// The string Compose uses for `node` when it is a plain, untagged boolean, integer or float;
/// `None` when the text is used as written (strings, quoted or tagged scalars, nulls).
pub fn typed_text(node: &Node) -> Option<String> {
    let NodeKind::Scalar { value, style } = &node.kind else {
        return None;
    };
    if *style != Style::Plain || node.tag.is_some() {
        return None;
    }
    typed(value)
}

/// [`typed_text`] of a plain scalar's text.
fn typed(s: &str) -> Option<String> {
    match s {
        "true" | "True" | "TRUE" => return Some("true".into()),
        "false" | "False" | "FALSE" => return Some("false".into()),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Some("+Inf".into()),
        "-.inf" | "-.Inf" | "-.INF" => return Some("-Inf".into()),
        ".nan" | ".NaN" | ".NAN" => return Some("NaN".into()),
        _ => {}
    }
    let first = s.as_bytes().first()?;
    if !(first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.')) || s.len() > 400 {
        return None;
    }
    let plain: String = s.chars().filter(|&c| c != '_').collect();
    if let Some(i) = go_parse_int(&plain) {
        return Some(i.to_string());
    }
    if is_yaml_float(&plain) {
        let f: f64 = plain.parse().ok()?;
        return Some(go_format_float(f));
    }
    None
}

/// Go's `strconv.ParseInt(s, 0, 64)`, then `ParseUint(s, 0, 64)`: an optional sign, then `0x`
/// hex, `0o` or a leading `0` octal, `0b` binary, or decimal.
fn go_parse_int(s: &str) -> Option<i128> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.get(..2).map(str::to_ascii_lowercase);
    let (radix, digits) = match lower.as_deref() {
        Some("0x") => (16, &body[2..]),
        Some("0o") => (8, &body[2..]),
        Some("0b") => (2, &body[2..]),
        _ if body.len() > 1 && body.starts_with('0') => (8, &body[1..]),
        _ => (10, body),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, radix).ok()?;
    let v = if neg {
        -i128::from(magnitude)
    } else {
        i128::from(magnitude)
    };
    // ParseInt takes i64, ParseUint the rest of u64; a negative past i64 is a float.
    (v >= i128::from(i64::MIN)).then_some(v)
}

/// go-yaml's float syntax: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'-' | b'+')));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return false;
        }
    } else {
        if !digits(&mut i) {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
    }
    i == b.len()
}

/// Go's `fmt.Sprint(f)` of a float64 (`strconv`'s shortest `%g`): the shortest digits that
/// read back as `f`, in `%e` form when the decimal exponent is below -4 or at least 6
/// (`1e+06`, `1e-05`), else in `%f` form without trailing zeros (`123456.7`, `0.0001`).
fn go_format_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    // Rust's `{:e}` is the shortest round-trip form too: `1.234567e5`, `-1e-5`, `0e0`.
    let e = format!("{:e}", f.abs());
    let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if f.is_sign_negative() { "-" } else { "" };
    if !(-4..6).contains(&exp) {
        let (first, rest) = digits.split_at(1);
        let dot = if rest.is_empty() { "" } else { "." };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{dot}{rest}e{esign}{:02}", exp.abs());
    }
    // %f: the decimal point after `exp + 1` digits
    let point = exp + 1;
    let s = if point <= 0 {
        format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
    } else {
        let point = point as usize;
        if digits.len() <= point {
            format!("{digits}{}", "0".repeat(point - digits.len()))
        } else {
            format!("{}.{}", &digits[..point], &digits[point..])
        }
    };
    format!("{sign}{s}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `docker compose config` (v2.40.3) printed for `environment: {K: <plain>}`.
    #[test]
    fn plain_scalars_become_what_compose_uses() {
        for (plain, compose) in [
            ("20_000_000", "20000000"),
            ("1.0", "1"),
            ("1.50", "1.5"),
            ("0x10", "16"),
            ("0o17", "15"),
            ("017", "15"),
            ("1e3", "1000"),
            ("True", "true"),
            (".inf", "+Inf"),
            ("123456789012345678901234", "1.2345678901234569e+23"),
            ("1e7", "1e+07"),
            ("1000000.0", "1e+06"),
            ("123456.7", "123456.7"),
            ("1e-5", "1e-05"),
            ("0.0001", "0.0001"),
            ("08", "8"),
            ("0b101", "5"),
            ("-0o17", "-15"),
            ("+12", "12"),
            (".5", "0.5"),
            ("9223372036854775808", "9223372036854775808"),
            ("-.inf", "-Inf"),
            (".NaN", "NaN"),
            ("1_0.5", "10.5"),
        ] {
            assert_eq!(typed(plain).as_deref(), Some(compose), "{plain}");
        }
    }

    /// Strings stay as written: YAML 1.1 booleans are strings to go-yaml v3, and so are
    /// versions, addresses, sizes and times.
    #[test]
    fn strings_stay_as_written() {
        for s in [
            "yes", "no", "on", "off", "1.2.3", "8080:80", "512m", "10s", "-", "+", ".", "0x", "1e",
            "--5", "0.0.0.0", "v1", "1_000m", "",
        ] {
            assert_eq!(typed(s), None, "{s}");
        }
    }

    #[test]
    fn quoted_and_tagged_scalars_are_strings() {
        let parsed = super::super::yaml::parse("a: \"0x10\"\nb: !!str 0x10\nc: 0x10\n");
        let root = parsed.docs.first().expect("a document");
        let map = root.as_map().expect("a mapping");
        let texts: Vec<Option<String>> = map.iter().map(|(_, v)| typed_text(v)).collect();
        assert_eq!(texts, [None, None, Some("16".to_string())]);
    }
}
