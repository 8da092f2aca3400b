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
//!
//! BuildKit's own `# check=skip=<checks>|all;error=true` (the parser directive at the top of a
//! Dockerfile, and a `# check=` comment above an instruction) is read here too
//! ([`buildkit_checks`]): it names BuildKit checks, which the rules implementing them carry in
//! [`RuleMeta::buildkit`].
//!
//! So are hadolint's pragmas in a Dockerfile ([`hadolint`]): `# hadolint ignore=DL3008,…` covers
//! the instruction on the next line, `# hadolint stage ignore=…` the rest of the stage,
//! `# hadolint global ignore=…` the file. They name hadolint codes, which the rules covering the
//! same concept carry in [`RuleMeta::hadolint`]; codes no rule carries are ignored, and a pragma
//! is never itself a finding (the file is hadolint's too).

use crate::meta::RuleMeta;
use crate::rules;
use crate::source::{SourceFile, Span, Spanned};
use std::collections::HashMap;

mod hadolint;

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
    /// Whose comment it is: a hadolint pragma suppresses, but is never reported (unknown codes,
    /// no reason, unused).
    pub kind: DirectiveKind,
}

/// Who wrote a [`Directive`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectiveKind {
    /// `# sandlint ignore=…`, `x-sandlint:`.
    Sandlint,
    /// `# hadolint ignore=…` (its codes translated through [`RuleMeta::hadolint`]).
    Hadolint,
}

/// A comment that starts like a directive but cannot be read.
#[derive(Debug, Clone)]
pub struct Malformed {
    pub span: Span,
    pub message: String,
    /// How to write it instead (`None`: the `# sandlint ignore=` syntax).
    pub help: Option<&'static str>,
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
            help: None,
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
        kind: DirectiveKind::Sandlint,
    }))
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

/// Directives of a Dockerfile: full-line comments outside instructions, `# sandlint ignore=…`
/// first, then hadolint's pragmas ([`hadolint::pragma`], read in the same pass: a finding both
/// cover is the sandlint suppression's use). `instructions`: each instruction's span and whether
/// it is a `FROM`, in order.
pub fn dockerfile(file: &SourceFile, instructions: &[(Span, bool)]) -> Directives {
    let mut out = Directives::default();
    let mut pragmas = Vec::new();
    let text = &file.text;
    // every directive is on a comment line: a file without `#` has none
    if !text.as_bytes().contains(&b'#') {
        return out;
    }
    let ls: Vec<(u32, u32)> = file.lines().collect();
    // For each line, the first line after it that is not a comment (computed backwards once,
    // so that a run of comment lines costs linear time, not its square).
    let comment: Vec<bool> = ls
        .iter()
        .map(|&(s, e)| file.slice(Span::new(s, e)).trim_start().starts_with('#'))
        .collect();
    let mut below: Vec<Option<usize>> = vec![None; ls.len()];
    for i in (0..ls.len().saturating_sub(1)).rev() {
        below[i] = if comment[i + 1] {
            below[i + 1]
        } else {
            Some(i + 1)
        };
    }
    for (idx, &(start, end)) in ls.iter().enumerate() {
        let line = file.slice(Span::new(start, end));
        let trimmed = line.trim_start();
        let Some(body) = trimmed.strip_prefix('#') else {
            continue;
        };
        let hash = start + to_u32(line.len() - trimmed.len());
        // Comments inside an instruction (continuations, heredoc bodies) are not directives.
        // One binary search: the first instruction ending after the comment.
        let next = instructions.partition_point(|(s, _)| s.end <= hash);
        if instructions.get(next).is_some_and(|(s, _)| s.start < hash) {
            continue;
        }
        let parsed = parse_comment(body, hash + 1, Span::new(hash, end));
        if parsed.is_none() {
            pragmas.extend(hadolint::pragma(
                file,
                &ls,
                idx,
                body,
                hash,
                end,
                instructions,
                next,
            ));
            continue;
        }
        // The instruction right below: only comment lines may stand between.
        let scope = below[idx]
            .and_then(|k| ls.get(k).copied())
            .filter(|&(s2, e2)| !file.slice(Span::new(s2, e2)).trim_start().is_empty())
            .and_then(|(s2, e2)| {
                (instructions.get(next))
                    .filter(|(s, _)| s.start <= e2 && s.start >= s2)
                    .map(|(s, _)| *s)
            });
        push(&mut out, parsed, scope, file);
    }
    out.directives.extend(pragmas);
    out
}

/// Byte index of a YAML comment `#` in `line`, outside quotes (a `#` starts a comment at the
/// start of the line or after whitespace).
fn yaml_comment_start(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    // most lines have no `#` at all (a memchr, not the byte loop below)
    if !bytes.contains(&b'#') {
        return None;
    }
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
    let ls: Vec<(u32, u32)> = file.lines().collect();
    // the first line of code after each line, computed backwards once, and each target's block
    // computed once: many comment lines above one key stay linear
    let code: Vec<bool> = ls
        .iter()
        .map(|&(s, e)| {
            let t = file.slice(Span::new(s, e)).trim();
            !t.is_empty() && !t.starts_with('#')
        })
        .collect();
    let mut below: Vec<Option<usize>> = vec![None; ls.len()];
    for i in (0..ls.len().saturating_sub(1)).rev() {
        below[i] = if code[i + 1] {
            Some(i + 1)
        } else {
            below[i + 1]
        };
    }
    let mut blocks: HashMap<usize, Span> = HashMap::new();
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
        let target = if own_line { below[idx] } else { Some(idx) };
        let scope = target.map(|t_idx| {
            *blocks.entry(t_idx).or_insert_with(|| {
                let (t_start, t_end) = ls[t_idx];
                block_span(file, &ls, t_idx, t_start, t_end)
            })
        });
        push(&mut out, parsed, scope, file);
    }
    out
}

/// Directives of a JSON-with-comments file (`devcontainer.json`): `// sandlint ignore=…` on
/// its own line covers the largest of `blocks` (the file's members and their items) that starts
/// on the next line of code, else that line; at the end of a line, that line's block.
pub fn jsonc(file: &SourceFile, blocks: &[Span]) -> Directives {
    let mut out = Directives::default();
    let ls: Vec<(u32, u32)> = file.lines().collect();
    // the largest block starting on each line, and the next line of code after each line: both
    // once, so that a file of many directives stays linear
    let mut largest: Vec<Option<Span>> = vec![None; ls.len()];
    for b in blocks {
        let line = ls.partition_point(|&(_, e)| e < b.start);
        if let Some(slot) = largest.get_mut(line)
            && slot.is_none_or(|l| b.len() > l.len())
        {
            *slot = Some(*b);
        }
    }
    let mut next_code = vec![None; ls.len()];
    let mut after = None;
    for (idx, &(s, e)) in ls.iter().enumerate().rev() {
        next_code[idx] = after;
        let t = file.slice(Span::new(s, e)).trim();
        if !t.is_empty() && !t.starts_with("//") {
            after = Some(idx);
        }
    }
    let block_on = |idx: usize| {
        let (s, e) = ls[idx];
        largest[idx].map_or(Span::new(s, e), |b| Span::new(s, b.end.max(e)))
    };
    for (idx, &(start, end)) in ls.iter().enumerate() {
        let line = file.slice(Span::new(start, end));
        let Some(c) = json_comment_start(line) else {
            continue;
        };
        let at = start + to_u32(c);
        let parsed = parse_comment(&line[c + 2..], at + 2, Span::new(at, end));
        if parsed.is_none() {
            continue;
        }
        let target = if line[..c].trim().is_empty() {
            next_code[idx]
        } else {
            Some(idx)
        };
        push(&mut out, parsed, target.map(block_on), file);
    }
    out
}

/// Where a `//` comment starts on a JSON line (outside strings).
fn json_comment_start(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    let (mut in_string, mut i) = (false, 0);
    while let Some(&b) = bytes.get(i) {
        match (in_string, b) {
            (true, b'\\') => i += 1,
            (_, b'"') => in_string = !in_string,
            (false, b'/') if bytes.get(i + 1) == Some(&b'/') => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
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

/// BuildKit checks that run only when `# check=experimental=` names them (or `all`), and that
/// `skip=` does not turn off (BuildKit's `LinterRule.Experimental`).
const BUILDKIT_EXPERIMENTAL: &[&str] = &["InvalidDefinitionDescription"];

/// One `# check=` value (BuildKit's `ParseLintOptions`): `skip=<check>[,<check>…]|all`,
/// `experimental=…`, `error=<bool>`, separated by `;`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckOptions {
    pub skip_all: bool,
    pub skip: Vec<String>,
    pub experimental_all: bool,
    pub experimental: Vec<String>,
    pub error: bool,
}

/// Go's `strconv.ParseBool`.
fn go_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Parses a `# check=` value as BuildKit does (at most three `;`-separated options; the last
/// keeps any further `;`). The error is BuildKit's complaint.
pub fn parse_check_options(value: &str) -> Result<CheckOptions, String> {
    let mut out = CheckOptions::default();
    let value = value.trim();
    if value.is_empty() {
        return Ok(out);
    }
    let list = |v: &str| -> Vec<String> { v.split(',').map(|r| r.trim().to_string()).collect() };
    for part in value.splitn(3, ';') {
        let Some((k, v)) = part.split_once('=') else {
            return Err(format!("invalid check option `{part}`"));
        };
        let v = v.trim();
        match k.trim() {
            "skip" if v == "all" => out.skip_all = true,
            "skip" => out.skip = list(v),
            "experimental" if v == "all" => out.experimental_all = true,
            "experimental" => out.experimental = list(v),
            "error" => {
                out.error = go_bool(v)
                    .ok_or_else(|| format!("invalid check option `{part}`: not a boolean"))?;
            }
            other => return Err(format!("invalid check option `{other}`")),
        }
    }
    Ok(out)
}

impl CheckOptions {
    /// Adds `other`'s skips and experimental checks (BuildKit's `WithMergedConfig`: `error` is
    /// not merged).
    fn merged(&self, other: &CheckOptions) -> CheckOptions {
        let mut out = self.clone();
        out.skip_all |= other.skip_all;
        out.experimental_all |= other.experimental_all;
        out.skip.extend(other.skip.iter().cloned());
        out.experimental.extend(other.experimental.iter().cloned());
        out
    }

    /// Whether BuildKit would run the check `name` under these options.
    pub fn runs(&self, name: &str) -> bool {
        if BUILDKIT_EXPERIMENTAL.contains(&name) {
            self.experimental_all || self.experimental.iter().any(|e| e == name)
        } else {
            !self.skip_all && !self.skip.iter().any(|s| s == name)
        }
    }
}

/// The `# check=` options of one Dockerfile: the parser directive's, for the whole file, and
/// those of a `# check=` comment above an instruction, merged for that instruction.
#[derive(Debug, Default)]
pub struct BuildkitChecks {
    /// The file's directive (`# check=` among the parser directives at the top).
    pub file: CheckOptions,
    /// `(instruction, options)`: the file's options merged with the first `# check=` comment
    /// of the comment block above the instruction (since the previous instruction; a bare `#`
    /// line ends a block, as in BuildKit's `PrevComment`).
    pub scoped: Vec<(Span, CheckOptions)>,
    /// A file directive BuildKit would refuse (`failed to parse check options`).
    pub malformed: Option<Malformed>,
}

impl BuildkitChecks {
    /// The options in force at byte `at` of the file.
    fn at(&self, at: u32) -> &CheckOptions {
        let i = self.scoped.partition_point(|(s, _)| s.start <= at);
        match i.checked_sub(1).and_then(|i| self.scoped.get(i)) {
            Some((s, o)) if at <= s.end => o,
            _ => &self.file,
        }
    }

    /// Whether `# check=skip=` turns off `rule`'s finding at byte `at` (only rules that
    /// implement a BuildKit check, [`RuleMeta::buildkit`]).
    pub fn skips(&self, rule: &RuleMeta, at: u32) -> bool {
        rule.buildkit.is_some_and(|name| {
            let opts = self.at(at);
            // an experimental check is ours to run: only `skip=` of its name turns it off
            if BUILDKIT_EXPERIMENTAL.contains(&name) {
                return opts.skip.iter().any(|s| s == name);
            }
            !opts.runs(name)
        })
    }

    /// Whether `# check=error=true` raises `rule`'s findings to errors.
    pub fn raises(&self, rule: &RuleMeta) -> bool {
        self.file.error && rule.buildkit.is_some()
    }
}

/// Reads BuildKit's `# check=` options of a Dockerfile (`instructions`: the spans of its
/// instructions, in order). One pass over the lines.
pub fn buildkit_checks(
    file: &SourceFile,
    directives: &[crate::dockerfile::model::Directive],
    instructions: &[Span],
) -> BuildkitChecks {
    let mut out = BuildkitChecks::default();
    if let Some(d) = directives.iter().find(|d| d.name.value == "check") {
        match parse_check_options(&d.value.value) {
            Ok(o) => out.file = o,
            Err(message) => {
                out.malformed = Some(Malformed {
                    span: d.span,
                    message: format!("BuildKit cannot read this `# check=` directive: {message}"),
                    help: Some(
                        "write `# check=skip=<check>[,<check>…]|all;error=true` (BuildKit fails the build on this one)",
                    ),
                });
            }
        }
    }
    let text = &file.text;
    let mut next = 0usize;
    // the first `check` comment of the block above the next instruction
    let mut pending: Option<String> = None;
    for (start, end) in file.lines() {
        while instructions.get(next).is_some_and(|s| s.end < start) {
            next += 1;
        }
        let Some(ins) = instructions.get(next) else {
            break;
        };
        if ins.start < start && start <= ins.end {
            continue; // a line inside an instruction (continuation, heredoc body)
        }
        if ins.start >= start && ins.start <= end {
            if let Some(v) = pending.take()
                && let Ok(o) = parse_check_options(v.split(' ').next().unwrap_or(""))
            {
                out.scoped.push((*ins, out.file.merged(&o)));
            }
            continue;
        }
        let line = file.slice(Span::new(start, end));
        let trimmed = line.trim_start();
        let Some(body) = trimmed.strip_prefix('#') else {
            continue;
        };
        if body.trim().is_empty() {
            pending = None;
            continue;
        }
        // a parser directive at the top is not a comment of the first instruction
        if directives
            .iter()
            .any(|d| d.span.start >= start && d.span.start <= end)
        {
            continue;
        }
        let hash = start + to_u32(line.len() - trimmed.len());
        if pending.is_none()
            && let Some(d) = crate::dockerfile::directive_at(text, hash as usize, end as usize)
            && d.name.value == "check"
        {
            pending = Some(d.value.value);
        }
    }
    out
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
        let spans = |t: &str| -> Vec<(Span, bool)> {
            crate::dockerfile::parse(t)
                .instructions
                .iter()
                .map(|i| (i.span, i.kind == crate::dockerfile::model::Keyword::From))
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
    #[test]
    fn check_options_as_buildkit_reads_them() {
        let o = parse_check_options(" skip = A, B ;error=true").unwrap();
        assert_eq!(o.skip, ["A", "B"]);
        assert!(o.error && !o.skip_all);
        assert!(parse_check_options("skip=all").unwrap().skip_all);
        assert!(parse_check_options("").unwrap() == CheckOptions::default());
        for bad in ["skip", "error=yes", "foo=bar", "skip=a;b"] {
            assert!(parse_check_options(bad).is_err(), "{bad}");
        }
        let o = parse_check_options("experimental=InvalidDefinitionDescription").unwrap();
        assert!(o.runs("InvalidDefinitionDescription") && o.runs("StageNameCasing"));
        assert!(
            !parse_check_options("skip=all")
                .unwrap()
                .runs("JSONArgsRecommended")
        );
    }

    #[test]
    fn check_directive_file_and_instruction_scopes() {
        let text = "# syntax=docker/dockerfile:1\n# check=skip=MaintainerDeprecated\nFROM a\n# check=skip=JSONArgsRecommended\n\n# more\nCMD x\n#\n# check=skip=all\n#\nCMD y\nRUN a \\\n# check=skip=all\n b\n";
        let f = SourceFile::virtual_file("Dockerfile", text);
        let df = crate::dockerfile::parse(text);
        let spans: Vec<Span> = df.instructions.iter().map(|i| i.span).collect();
        let c = buildkit_checks(&f, &df.directives, &spans);
        assert!(c.malformed.is_none());
        assert_eq!(c.file.skip, ["MaintainerDeprecated"]);
        assert_eq!(c.scoped.len(), 1, "{:?}", c.scoped);
        assert_eq!(f.slice(c.scoped[0].0), "CMD x");
        assert_eq!(
            c.scoped[0].1.skip,
            ["MaintainerDeprecated", "JSONArgsRecommended"]
        );
        let json = crate::docs::JSON_ARGS_RECOMMENDED;
        let at = |t: &str| to_u32(text.find(t).unwrap());
        assert!(c.skips(json, at("CMD x")));
        assert!(!c.skips(json, at("CMD y")));
        assert!(c.skips(crate::docs::MAINTAINER_DEPRECATED, at("CMD y")));
        assert!(
            !c.skips(crate::docs::ROOT_USER, at("CMD x")),
            "not a BuildKit check"
        );
        assert!(!c.raises(json));
        let text = "# check=error=true;skip\nFROM a\n";
        let df = crate::dockerfile::parse(text);
        let f = SourceFile::virtual_file("Dockerfile", text);
        let c = buildkit_checks(&f, &df.directives, &[]);
        assert_eq!(c.malformed.map(|m| m.span), Some(Span::new(0, 23)));
    }

    #[test]
    fn check_directive_in_the_engine() {
        use crate::linter::{Selection, lint_text};
        let lint = |text: &str| {
            lint_text(
                crate::discover::FileKind::Dockerfile,
                "Dockerfile",
                text,
                &Selection {
                    only: Some(vec!["SLD025", "SLE003"]),
                    ignore: Vec::new(),
                },
            )
        };
        let d = lint("# check=skip=MaintainerDeprecated\nFROM a\nMAINTAINER x\n");
        assert_eq!(d.len(), 1);
        assert!(d[0].suppression.is_some());
        let d = lint("# check=error=true\nFROM a\nMAINTAINER x\n");
        assert_eq!(d[0].severity, crate::meta::Severity::Error);
        assert!(d[0].suppression.is_none());
        let d = lint("# check=error=maybe\nFROM a\nMAINTAINER x\n");
        assert!(d.iter().any(|d| d.rule.code == "SLE003"), "{d:?}");
    }
}
