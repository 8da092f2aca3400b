//! Inline suppressions: `# sandlint ignore=<rule>[,<rule>…] [reason="…"]` and
//! `# sandlint global ignore=…`.
//!
//! - Dockerfile: full-line comments directly above an instruction cover that instruction.
//! - Compose: a comment at the end of a key's line, or on its own line(s) above the key, covers
//!   that key's block (the key line and every line nested under it).
//! - `global` covers the whole file.
//!
//! A finding is covered when its primary span starts inside the covered range and its rule is
//! listed (by name or code).

use crate::meta::RuleMeta;
use crate::rules;
use crate::source::{SourceFile, Span, Spanned};

/// One parsed suppression comment.
#[derive(Debug, Clone)]
pub struct Directive {
    /// The comment text (from `#` to the end of the line).
    pub span: Span,
    pub global: bool,
    /// Listed rules as written, with the rule when it exists.
    pub rules: Vec<(Spanned<String>, Option<&'static RuleMeta>)>,
    pub reason: Option<String>,
    /// What the directive covers (`None`: nothing follows it to cover).
    pub scope: Option<Span>,
}

/// A comment that starts like a directive but cannot be read.
#[derive(Debug, Clone)]
pub struct Malformed {
    pub span: Span,
    pub message: String,
}

/// Directives and malformed directives of one file.
#[derive(Debug, Default)]
pub struct Directives {
    pub directives: Vec<Directive>,
    pub malformed: Vec<Malformed>,
}

/// Parses the body of a comment after `#` (offset `base` in the file). `None` when it is not a
/// sandlint comment at all.
fn parse_comment(body: &str, base: u32, span: Span) -> Option<Result<Directive, Malformed>> {
    let trimmed = body.trim_start();
    let rest = trimmed.strip_prefix("sandlint")?;
    if !rest.starts_with(char::is_whitespace) && !rest.starts_with(':') {
        return None;
    }
    let malformed = |message: &str| {
        Some(Err(Malformed {
            span,
            message: message.to_string(),
        }))
    };
    let rest = rest.strip_prefix(':').unwrap_or(rest);
    let after_ws = rest.trim_start();
    let (global, after) = match after_ws.strip_prefix("global") {
        Some(r) if r.starts_with(char::is_whitespace) => (true, r.trim_start()),
        _ => (false, after_ws),
    };
    let Some(list) = after.strip_prefix("ignore=") else {
        return malformed("unreadable suppression: expected `sandlint ignore=<rule>[,<rule>...]`");
    };
    // Position of the list within the comment body.
    let list_start = base + u32::try_from(body.len() - list.len()).unwrap_or(0);
    // Names are separated by commas; whitespace after a comma is allowed, other whitespace ends
    // the list.
    let bytes = list.as_bytes();
    let mut rules = Vec::new();
    let mut i = 0;
    let mut after_comma = true;
    let mut end_of_list = list.len();
    while i < bytes.len() {
        let c = bytes[i];
        if c == b',' {
            after_comma = true;
            i += 1;
        } else if c.is_ascii_whitespace() {
            if !after_comma {
                end_of_list = i;
                break;
            }
            i += 1;
        } else {
            let start = i;
            while i < bytes.len() && bytes[i] != b',' && !bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            let name = &list[start..i];
            let s = list_start + to_u32(start);
            rules.push((
                Spanned::new(name.to_string(), Span::new(s, s + to_u32(name.len()))),
                rules::find(name).map(|r| r.meta()),
            ));
            after_comma = false;
        }
    }
    let tail = list[end_of_list..].trim();
    if rules.is_empty() {
        return malformed("suppression lists no rule: expected `ignore=<rule>[,<rule>...]`");
    }
    let reason = if tail.is_empty() {
        None
    } else if let Some(r) = tail.strip_prefix("reason=") {
        let r = r.trim();
        let unquoted = r
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .or_else(|| r.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')));
        match unquoted {
            Some(u) if !u.trim().is_empty() => Some(u.trim().to_string()),
            Some(_) => return malformed("suppression has an empty reason"),
            None => return malformed("suppression reason must be quoted: `reason=\"...\"`"),
        }
    } else {
        return malformed("unreadable suppression: expected `reason=\"...\"` after the rule list");
    };
    Some(Ok(Directive {
        span,
        global,
        rules,
        reason,
        scope: None,
    }))
}

/// Where each line of the text starts and ends (end excludes the newline and a `\r`).
fn lines(text: &str) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    let mut start = 0usize;
    for (i, b) in text.bytes().enumerate() {
        if b == b'\n' {
            let end = if i > start && text.as_bytes().get(i - 1) == Some(&b'\r') {
                i - 1
            } else {
                i
            };
            out.push((to_u32(start), to_u32(end)));
            start = i + 1;
        }
    }
    if start < text.len() {
        out.push((to_u32(start), to_u32(text.len())));
    }
    out
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn whole_file(file: &SourceFile) -> Span {
    Span::new(0, file.len())
}

fn push(
    out: &mut Directives,
    parsed: Option<Result<Directive, Malformed>>,
    scope: Option<Span>,
    file: &SourceFile,
) {
    match parsed {
        Some(Ok(mut d)) => {
            d.scope = if d.global {
                Some(whole_file(file))
            } else {
                scope
            };
            out.directives.push(d);
        }
        Some(Err(m)) => out.malformed.push(m),
        None => {}
    }
}

/// Directives of a Dockerfile: full-line comments outside instructions. `instructions` are the
/// spans of the file's instructions, in order.
pub fn dockerfile(file: &SourceFile, instructions: &[Span]) -> Directives {
    let mut out = Directives::default();
    let text = &file.text;
    let ls = lines(text);
    for (idx, &(start, end)) in ls.iter().enumerate() {
        let line = file.slice(Span::new(start, end));
        let trimmed = line.trim_start();
        if !trimmed.starts_with('#') {
            continue;
        }
        let hash = start + to_u32(line.len() - trimmed.len());
        // Comments inside an instruction (continuations, heredoc bodies) are not directives.
        if instructions.iter().any(|s| s.start < hash && hash < s.end) {
            continue;
        }
        let parsed = parse_comment(&trimmed[1..], hash + 1, Span::new(hash, end));
        if parsed.is_none() {
            continue;
        }
        // The instruction right below: only comment lines may stand between.
        let mut scope = None;
        for &(s2, e2) in ls.iter().skip(idx + 1) {
            let l2 = file.slice(Span::new(s2, e2)).trim_start();
            if l2.starts_with('#') {
                continue;
            }
            if l2.is_empty() {
                break;
            }
            scope = instructions
                .iter()
                .find(|s| s.start <= e2 && s.start >= s2)
                .copied();
            break;
        }
        push(&mut out, parsed, scope, file);
    }
    out
}

/// Byte index of a YAML comment `#` in `line`, outside quotes (a `#` starts a comment at the
/// start of the line or after whitespace).
fn yaml_comment_start(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(b'"') if b == b'\\' => i += 1,
            Some(q) if b == q => {
                if q == b'\'' && bytes.get(i + 1) == Some(&b'\'') {
                    i += 1;
                } else {
                    quote = None;
                }
            }
            Some(_) => {}
            None => {
                if b == b'#' && (i == 0 || bytes[i - 1] == b' ' || bytes[i - 1] == b'\t') {
                    return Some(i);
                }
                if (b == b'"' || b == b'\'')
                    && (i == 0
                        || matches!(
                            bytes[i - 1],
                            b' ' | b'\t' | b'[' | b'{' | b',' | b':' | b'-'
                        ))
                {
                    quote = Some(b);
                }
            }
        }
        i += 1;
    }
    None
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// Directives of a Compose file.
pub fn compose(file: &SourceFile) -> Directives {
    let mut out = Directives::default();
    let ls = lines(&file.text);
    for (idx, &(start, end)) in ls.iter().enumerate() {
        let line = file.slice(Span::new(start, end));
        let Some(h) = yaml_comment_start(line) else {
            continue;
        };
        let hash = start + to_u32(h);
        let parsed = parse_comment(&line[h + 1..], hash + 1, Span::new(hash, end));
        if parsed.is_none() {
            continue;
        }
        let own_line = line[..h].trim().is_empty();
        let target = if own_line {
            ls.iter().enumerate().skip(idx + 1).find(|(_, (s, e))| {
                let t = file.slice(Span::new(*s, *e)).trim();
                !t.is_empty() && !t.starts_with('#')
            })
        } else {
            Some((idx, &ls[idx]))
        };
        let scope =
            target.map(|(t_idx, &(t_start, t_end))| block_span(file, &ls, t_idx, t_start, t_end));
        push(&mut out, parsed, scope, file);
    }
    out
}

/// The span of the YAML block that starts at line `t_idx`: that line and the lines nested under it.
fn block_span(
    file: &SourceFile,
    ls: &[(u32, u32)],
    t_idx: usize,
    t_start: u32,
    t_end: u32,
) -> Span {
    let first = file.slice(Span::new(t_start, t_end));
    let base = indent(first);
    let content = first.trim_start();
    // `- key: v` items nest under the position after the dash.
    let item_indent = content.strip_prefix("- ").map(|_| base + 2);
    let code = match yaml_comment_start(first) {
        Some(h) => first[..h].trim_end(),
        None => first.trim_end(),
    };
    let opens_block = code.ends_with(':')
        || code.ends_with('|')
        || code.ends_with('>')
        || code.ends_with("|-")
        || code.ends_with(">-");
    let mut end = t_end;
    for &(s, e) in ls.iter().skip(t_idx + 1) {
        let l = file.slice(Span::new(s, e));
        let t = l.trim_start();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let ind = indent(l);
        let nested = ind > base
            || (opens_block && ind == base && t.starts_with("- ") && item_indent.is_none())
            || item_indent.is_some_and(|ii| ind >= ii);
        if !nested {
            break;
        }
        end = e;
    }
    Span::new(t_start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Directive {
        let f = SourceFile::virtual_file("compose.yaml", text);
        let d = compose(&f);
        assert!(d.malformed.is_empty(), "{:?}", d.malformed);
        assert_eq!(d.directives.len(), 1);
        d.directives[0].clone()
    }

    #[test]
    fn parses_rules_and_reason() {
        let f = SourceFile::virtual_file(
            "x",
            "# sandlint ignore=SLC001, privileged-container reason=\"lab box\"\nx: 1\n",
        );
        let d = compose(&f);
        let d = &d.directives[0];
        let names: Vec<&str> = d.rules.iter().map(|r| f.slice(r.0.span)).collect();
        assert_eq!(names, ["SLC001", "privileged-container"]);
        assert_eq!(d.reason.as_deref(), Some("lab box"));
        let f = SourceFile::virtual_file("x", "# sandlint ignore=SLC001 privileged-container\n");
        assert_eq!(
            compose(&f).malformed.len(),
            1,
            "a space without a comma ends the list"
        );
    }

    #[test]
    fn reason_and_spans() {
        let text = "services:\n  web:  # sandlint ignore=SLC001,root-user reason=\"needs it\"\n    privileged: true\n  db:\n    image: x\n";
        let f = SourceFile::virtual_file("compose.yaml", text);
        let d = one(text);
        assert_eq!(d.reason.as_deref(), Some("needs it"));
        assert_eq!(
            d.rules
                .iter()
                .map(|r| f.slice(r.0.span))
                .collect::<Vec<_>>(),
            ["SLC001", "root-user"]
        );
        assert_eq!(
            f.slice(d.scope.unwrap()),
            "  web:  # sandlint ignore=SLC001,root-user reason=\"needs it\"\n    privileged: true"
        );
    }

    #[test]
    fn own_line_covers_next_key_block() {
        let text = "services:\n  web:\n    # sandlint ignore=writable-bind-mount\n    volumes:\n    - ./a:/a\n    - ./b:/b\n    user: \"1\"\n";
        let f = SourceFile::virtual_file("compose.yaml", text);
        let d = one(text);
        assert_eq!(
            f.slice(d.scope.unwrap()),
            "    volumes:\n    - ./a:/a\n    - ./b:/b"
        );
    }

    #[test]
    fn trailing_on_list_item() {
        let text = "x:\n  - /var/run/docker.sock:/s  # sandlint ignore=SLC009\n  - ./b:/b\n";
        let f = SourceFile::virtual_file("compose.yaml", text);
        let d = one(text);
        assert_eq!(
            f.slice(d.scope.unwrap()),
            "  - /var/run/docker.sock:/s  # sandlint ignore=SLC009"
        );
    }

    #[test]
    fn hash_in_quotes_is_not_a_comment() {
        let f = SourceFile::virtual_file("compose.yaml", "a: \"x # sandlint ignore=SLC001\"\n");
        assert!(compose(&f).directives.is_empty());
    }

    #[test]
    fn malformed() {
        for (text, msg) in [
            ("# sandlint ignore\n", "unreadable suppression"),
            ("# sandlint ignore=a reason=unquoted\n", "quoted"),
            ("# sandlint ignore=a because\n", "unreadable suppression"),
            ("# sandlint ignore=\n", "no rule"),
        ] {
            let f = SourceFile::virtual_file("compose.yaml", text);
            let d = compose(&f);
            assert_eq!(d.malformed.len(), 1, "{text}");
            assert!(
                d.malformed[0].message.contains(msg),
                "{text}: {}",
                d.malformed[0].message
            );
        }
        let f = SourceFile::virtual_file("compose.yaml", "# sandlinter ignore=x\n# nothing\n");
        assert!(compose(&f).malformed.is_empty());
    }

    #[test]
    fn dockerfile_comment_above_instruction() {
        let text = "FROM a\n# sandlint ignore=root-user\n# another comment\nUSER root\nRUN x\n";
        let f = SourceFile::virtual_file("Dockerfile", text);
        let spans = |t: &str| -> Vec<Span> {
            crate::dockerfile::parse(t)
                .instructions
                .iter()
                .map(|i| i.span)
                .collect()
        };
        let d = dockerfile(&f, &spans(text));
        assert_eq!(d.directives.len(), 1);
        assert_eq!(f.slice(d.directives[0].scope.unwrap()), "USER root");
        let text = "FROM a\n# sandlint global ignore=root-user\n\nRUN x\n";
        let f = SourceFile::virtual_file("Dockerfile", text);
        let d = dockerfile(&f, &spans(text));
        assert_eq!(d.directives[0].scope, Some(Span::new(0, f.len())));
    }
}
