//! `.env` files, with compose-go's dotenv semantics: `KEY=value` or `KEY: value`, optional
//! `export `, `#` comments, single quotes (literal), double quotes (escapes, may span lines),
//! ` #` comments after unquoted values, `${VAR}` references to earlier keys in unquoted and
//! double-quoted values (unset ones are empty). A bare `KEY` would inherit from the process
//! environment, which we deliberately ignore, so it sets nothing. CRLF is accepted.

use super::Vars;
use super::interpolate::{self, Budget, Stop, UNKNOWN_VALUE, Var, substitute_lenient};
use super::model::LoadError;
use crate::source::Span;

/// A `.env` file, parsed.
#[derive(Debug, Default)]
pub struct DotEnv {
    pub vars: Vars,
    /// Where expansion ran past the byte budget ([`interpolate::budget_for`] the file's
    /// length): at most one entry, at the first variable refused (spans into the file's text).
    /// That variable, and every one that refers to it, is set with an unknown value.
    pub limits: Vec<LoadError>,
}

/// Parses a `.env` file. Lines that cannot be parsed are skipped.
pub fn parse(text: &str) -> Vars {
    parse_checked(text).vars
}

/// Parses a `.env` file, reporting where variable expansion ran past its byte budget.
pub fn parse_checked(text: &str) -> DotEnv {
    // positions (in the normalized text) where a `\r` of a `\r\n` was removed
    let crs: Vec<usize> = text
        .match_indices("\r\n")
        .enumerate()
        .map(|(k, (o, _))| o - k)
        .collect();
    let normalized = text.replace("\r\n", "\n");
    let budget = Budget::new(interpolate::budget_for(text.len()));
    let mut p = Parse {
        len: normalized.len(),
        crs: &crs,
        budget: &budget,
        vars: Vars::new(),
        refused: None,
        more: 0,
    };
    let mut rest = normalized.as_str();
    loop {
        rest = statement_start(rest);
        if rest.is_empty() {
            break;
        }
        rest = p.statement(rest);
    }
    let mut limits = Vec::new();
    if let Some((name, span)) = p.refused {
        let more = interpolate::refused_too(p.more, "variable", "variables");
        limits.push(LoadError {
            message: format!(
                "variable `{}` passes the interpolation budget ({}); treated as unknown",
                interpolate::clip_name(&name),
                interpolate::show_bytes(budget.limit())
            ),
            span,
            help: Some(format!(
                "variables may copy {} bytes of values into one `.env` file{more}; each \
                 `${{VAR}}` copies the variable's value, so lines that repeat earlier ones grow \
                 exponentially (an expansion bomb): write the value out instead",
                budget.limit()
            )),
        });
    }
    DotEnv {
        vars: p.vars,
        limits,
    }
}

struct Parse<'a> {
    /// Length of the normalized text (offsets are `len - rest.len()`).
    len: usize,
    crs: &'a [usize],
    budget: &'a Budget,
    vars: Vars,
    /// The first variable refused for its size, and where its key is.
    refused: Option<(String, Span)>,
    /// Variables refused after it.
    more: usize,
}

fn is_space(c: char) -> bool {
    c != '\n' && c.is_whitespace()
}

/// Skips blank space (newlines included) and comment lines.
fn statement_start(mut src: &str) -> &str {
    loop {
        src = src.trim_start();
        if !src.starts_with('#') {
            return src;
        }
        src = src.find('\n').map_or("", |i| src.get(i..).unwrap_or(""));
    }
}

impl Parse<'_> {
    /// The offset in the file of the normalized text at `rest`.
    fn offset(&self, rest: &str) -> u32 {
        let n = self.len - rest.len();
        let original = n + self.crs.partition_point(|&p| p < n);
        u32::try_from(original).unwrap_or(u32::MAX)
    }

    /// A value substituted with the variables so far; [`UNKNOWN_VALUE`] when it depends on an
    /// unknown one or ran past the budget (recorded at `key`).
    fn substitute(&mut self, raw: &str, key: &str, key_at: &str) -> String {
        let vars = &self.vars;
        let lookup = |name: &str| Var::of(vars, name);
        match substitute_lenient(raw, &lookup, self.budget) {
            Ok(Some(v)) => v,
            Ok(None) => UNKNOWN_VALUE.to_string(),
            Err(Stop::Invalid(_)) => raw.to_string(),
            Err(Stop::TooLarge) => {
                if self.refused.is_none() {
                    let start = self.offset(key_at);
                    let end = start.saturating_add(u32::try_from(key.len()).unwrap_or(0));
                    self.refused = Some((key.to_string(), Span::new(start, end)));
                } else {
                    self.more += 1;
                }
                UNKNOWN_VALUE.to_string()
            }
        }
    }

    /// Parses one `KEY=value` statement; returns the text after it.
    fn statement<'s>(&mut self, src: &'s str) -> &'s str {
        let src = match src.strip_prefix("export") {
            Some(after) if after.starts_with(is_space) => after.trim_start_matches(is_space),
            _ => src,
        };
        let mut key_end = None;
        for (i, c) in src.char_indices() {
            match c {
                '=' | ':' => {
                    key_end = Some((i, i + 1));
                    break;
                }
                '\n' => {
                    // a bare `KEY`: inherited from the process environment, which we ignore
                    return src.get(i..).unwrap_or("");
                }
                c if is_space(c)
                    || c.is_alphanumeric()
                    || matches!(c, '_' | '.' | '-' | '[' | ']') => {}
                _ => {
                    // not a variable name: skip the line
                    return src.find('\n').map_or("", |i| src.get(i..).unwrap_or(""));
                }
            }
        }
        let Some((key_end, value_start)) = key_end else {
            return "";
        };
        let key = src.get(..key_end).unwrap_or("").trim_end().to_string();
        let value_src = src
            .get(value_start..)
            .unwrap_or("")
            .trim_start_matches(is_space);
        let (value, rest) = match value_src.chars().next() {
            Some(q @ ('\'' | '"')) => match quoted(value_src, q) {
                Some((raw, rest)) => {
                    let value = if q == '"' {
                        self.substitute(&unescape(&raw), &key, src)
                    } else {
                        raw
                    };
                    (value, rest)
                }
                None => {
                    // unterminated quote: compose rejects the file; skip the line
                    return value_src
                        .find('\n')
                        .map_or("", |i| value_src.get(i..).unwrap_or(""));
                }
            },
            _ => {
                let (line, rest) = value_src.split_once('\n').unwrap_or((value_src, ""));
                let line = line.split_once(" #").map_or(line, |(v, _)| v);
                (self.substitute(line.trim_end(), &key, src), rest)
            }
        };
        if !key.is_empty() {
            self.vars.insert(key, value);
        }
        rest
    }
}

/// A quoted value starting at `src[0]`: the text between the quotes (a backslash before the quote
/// character keeps the quote; other backslashes are kept for [`unescape`]) and what follows.
fn quoted(src: &str, quote: char) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut escape = false;
    for (i, c) in src.char_indices().skip(1) {
        if c != quote {
            if !escape && c == '\\' {
                escape = true;
                continue;
            }
            if escape {
                escape = false;
                out.push('\\');
            }
            out.push(c);
            continue;
        }
        if escape {
            escape = false;
            out.push(c);
            continue;
        }
        return Some((out, src.get(i + c.len_utf8()..).unwrap_or("")));
    }
    None
}

/// Double-quoted escapes: `\n`, `\r`, `\t`, `\\`, `\"`, `\$` ... (unknown escapes drop the backslash).
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('a') => out.push('\u{7}'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('v') => out.push('\u{b}'),
            Some('$') => out.push_str("$$"),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(vars: &Vars, k: &str) -> Option<String> {
        vars.get(k).cloned()
    }

    #[test]
    fn basic_forms() {
        let v = parse(
            "# comment\n\nA=1\nexport B=two words\n  C = spaced  \nD=a#b\nE=a #comment\nF=\nG: yaml\nBARE\nH=é✓\n",
        );
        assert_eq!(get(&v, "A").as_deref(), Some("1"));
        assert_eq!(get(&v, "B").as_deref(), Some("two words"));
        assert_eq!(get(&v, "C").as_deref(), Some("spaced"));
        assert_eq!(get(&v, "D").as_deref(), Some("a#b"));
        assert_eq!(get(&v, "E").as_deref(), Some("a"));
        assert_eq!(get(&v, "F").as_deref(), Some(""));
        assert_eq!(get(&v, "G").as_deref(), Some("yaml"));
        assert_eq!(get(&v, "BARE"), None);
        assert_eq!(get(&v, "H").as_deref(), Some("é✓"));
        assert_eq!(v.len(), 8);
    }

    #[test]
    fn quotes() {
        let v = parse(
            "S='lit $A \\n # not comment'\nD=\"l1\\nl2\\t\\\"q\\\" \\\\ ${A}\" # comment\nM=\"multi\nline\"\nN='it\\'s'\nA=x\nAFTER=${A}\n",
        );
        assert_eq!(get(&v, "S").as_deref(), Some("lit $A \\n # not comment"));
        // A is not defined yet when D is read
        assert_eq!(get(&v, "D").as_deref(), Some("l1\nl2\t\"q\" \\ "));
        assert_eq!(get(&v, "M").as_deref(), Some("multi\nline"));
        assert_eq!(get(&v, "N").as_deref(), Some("it's"));
        assert_eq!(get(&v, "AFTER").as_deref(), Some("x"));
    }

    #[test]
    fn references_to_earlier_keys() {
        let v = parse(
            "HOST=db\nURL=postgres://${HOST}:5432\nDEF=${MISSING:-fallback}\nGONE=$MISSING-x\nLIT=$$HOST\n",
        );
        assert_eq!(get(&v, "URL").as_deref(), Some("postgres://db:5432"));
        assert_eq!(get(&v, "DEF").as_deref(), Some("fallback"));
        assert_eq!(get(&v, "GONE").as_deref(), Some("-x"));
        assert_eq!(get(&v, "LIT").as_deref(), Some("$HOST"));
    }

    #[test]
    fn crlf_and_junk() {
        let v = parse("A=1\r\nB='2'\r\n\r\n# c\r\nbad line here\r\nC=3");
        assert_eq!(get(&v, "A").as_deref(), Some("1"));
        assert_eq!(get(&v, "B").as_deref(), Some("2"));
        assert_eq!(get(&v, "C").as_deref(), Some("3"));
        assert_eq!(get(&v, "bad line here"), None);
        assert_eq!(v.len(), 3);
        assert!(parse("").is_empty());
        assert!(!parse("X='unterminated\nY=1").contains_key("X"));
    }
}

/// One `KEY=value` line of an env file, with spans (for findings that point into the file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: crate::source::Spanned<String>,
    /// The value as written (quotes kept, a trailing ` # comment` of an unquoted value dropped).
    pub raw_value: crate::source::Spanned<String>,
}

/// The `KEY=value` lines of an env file, as written, in order. Line-based: a double-quoted
/// value spanning lines yields its first line only.
pub fn entries(text: &str) -> Vec<Entry> {
    use crate::source::{Span, Spanned};
    let mut out = Vec::new();
    let mut offset = 0usize;
    for raw_line in text.split_inclusive('\n') {
        let line_start = offset;
        offset += raw_line.len();
        let line = raw_line.trim_end_matches(['\n', '\r']);
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let lead = line.len() - trimmed.len();
        let (body, body_off) = match trimmed.strip_prefix("export ") {
            Some(rest) => (
                rest.trim_start(),
                lead + (trimmed.len() - rest.trim_start().len()),
            ),
            None => (trimmed, lead),
        };
        let Some(eq) = body.find(['=', ':']) else {
            continue;
        };
        let key = body[..eq].trim_end();
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        {
            continue;
        }
        let after = &body[eq + 1..];
        let value = after.trim_start();
        let value_off = body_off + eq + 1 + (after.len() - value.len());
        let value = if value.starts_with('"') || value.starts_with('\'') {
            value.trim_end()
        } else {
            match value.find(" #") {
                Some(i) => value[..i].trim_end(),
                None => value.trim_end(),
            }
        };
        let at = |rel: usize, len: usize| {
            let s = u32::try_from(line_start + rel).unwrap_or(u32::MAX);
            Span::new(s, s.saturating_add(u32::try_from(len).unwrap_or(0)))
        };
        out.push(Entry {
            key: Spanned::new(key.to_string(), at(body_off, key.len())),
            raw_value: Spanned::new(value.to_string(), at(value_off, value.len())),
        });
    }
    out
}

#[cfg(test)]
mod entry_tests {
    use super::entries;

    #[test]
    fn keys_values_and_spans() {
        let text = "# comment\nexport DB_PASSWORD=hunter2 # inline\n\nTOKEN='a b'\r\nURL: x\n";
        let e = entries(text);
        let got: Vec<(&str, &str, &str)> = e
            .iter()
            .map(|e| {
                (
                    e.key.value.as_str(),
                    e.raw_value.value.as_str(),
                    &text[e.raw_value.span.range()],
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("DB_PASSWORD", "hunter2", "hunter2"),
                ("TOKEN", "'a b'", "'a b'"),
                ("URL", "x", "x")
            ]
        );
        assert_eq!(&text[e[0].key.span.range()], "DB_PASSWORD");
    }
}

#[cfg(test)]
mod budget_tests {
    use super::*;

    fn doubling(lines: usize, eol: &str) -> String {
        let mut t = format!("V0=xxxxxxxx{eol}");
        for i in 1..lines {
            t.push_str(&format!("V{i}=${{V{0}}}${{V{0}}}{eol}", i - 1));
        }
        t
    }

    #[test]
    fn doubling_lines_stop_at_the_budget_with_the_line_located() {
        let text = doubling(40, "\n");
        let start = std::time::Instant::now();
        let env = parse_checked(&text);
        assert!(start.elapsed().as_secs() < 5);
        // V20 is 8 MiB and the values before it sum to 8 MiB: V21 (16 MiB) does not fit
        assert_eq!(env.vars.get("V20").map(String::len), Some(8 << 20));
        assert_eq!(env.limits.len(), 1, "{:?}", env.limits);
        let e = &env.limits[0];
        assert_eq!(&text[e.span.range()], "V21");
        assert!(text[..e.span.start as usize].ends_with('\n'));
        assert_eq!(
            e.message,
            "variable `V21` passes the interpolation budget (16 MiB); treated as unknown"
        );
        // it, and everything built on it, is set with an unknown value (not empty)
        for i in 21..40 {
            assert_eq!(
                env.vars.get(&format!("V{i}")).map(String::as_str),
                Some(UNKNOWN_VALUE)
            );
        }
    }

    #[test]
    fn crlf_files_locate_in_the_original_text() {
        let text = doubling(30, "\r\n");
        let env = parse_checked(&text);
        let e = &env.limits[0];
        assert_eq!(&text[e.span.range()], "V21");
    }

    #[test]
    fn independent_refusals_are_counted() {
        // 5 MiB written out: the budget is 4 x the file, a little over 20 MiB
        let big = "y".repeat(5 << 20);
        let text = format!("B={big}\nC=$B\nD=$B\nE=$B\nF=$B\nG=$B\nH=$B\nI=small\n");
        let env = parse_checked(&text);
        assert_eq!(env.vars.get("F").map(String::len), Some(5 << 20));
        assert_eq!(env.vars.get("I").map(String::as_str), Some("small"));
        // C..F fit, G does not, H does not either (counted, not reported apart)
        let e = &env.limits[0];
        assert_eq!(&text[e.span.range()], "G");
        let help = e.help.as_deref().unwrap_or("");
        assert!(help.contains("(1 more variable was refused too)"), "{help}");
    }
}
