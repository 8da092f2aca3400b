//! Byte-range edits of a Compose file's text, placed from the model's spans: insert a key into a
//! service, append to a sequence, replace a scalar, remove a key. Every helper returns `None`
//! when it cannot place the edit exactly (a service whose mapping is anchored or aliased, a
//! value written in another file or through `<<`, tabs, unknown shapes): a fix that is not
//! offered is better than one that is guessed.
//!
//! Style: an inserted key goes at the end of the service's block (after its last entry and any
//! trailing comment on that line, before the next service), at the indentation of the service's
//! other keys; sequences follow the file (block `- x` or flow `[x]`, whichever the file uses
//! more, block when it uses neither; block items indented under their key as the file indents
//! them); sequence items copy the file's quoting (double, single or plain, by majority); line
//! ends follow the file (`\r\n` when it has one). In a flow service (`web: {image: x}`) the key
//! is written in flow style before the closing `}`.

use crate::compose::model::{SValue, Service};
use crate::source::Span;

/// A value to write: a scalar (written as given: the caller quotes what needs quoting), a
/// sequence of scalars (quoted per the file's style), or a mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum YValue {
    Scalar(String),
    Seq(Vec<String>),
    Map(Vec<(String, YValue)>),
}

/// How the file writes things (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStyle {
    pub eol: &'static str,
    /// Indentation step of mappings.
    pub indent: usize,
    /// Block sequence items' offset from their key (`0`: `key:\n- x`).
    pub seq_offset: usize,
    pub flow_seqs: bool,
    /// `"`, `'` or empty.
    pub quote: &'static str,
}

thread_local! {
    /// The style of the last text read (by address, length and a sample of its bytes): the
    /// rules place one edit per service, and reading the whole file for each would cost the
    /// file's size times its services.
    static LAST_STYLE: std::cell::RefCell<Option<(usize, usize, u64, FileStyle)>> =
        const { std::cell::RefCell::new(None) };
}

/// A cheap fingerprint of `text`: some of its bytes, spread over it.
fn sample(text: &str) -> u64 {
    let b = text.as_bytes();
    let step = (b.len() / 64).max(1);
    b.iter()
        .step_by(step)
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, &x| {
            (h ^ u64::from(x)).wrapping_mul(0x0100_0000_01b3)
        })
}

/// [`file_style`], read once per text (see `LAST_STYLE`).
fn style_of(text: &str) -> FileStyle {
    let key = (text.as_ptr() as usize, text.len(), sample(text));
    let hit = LAST_STYLE.with(|c| {
        c.borrow()
            .as_ref()
            .filter(|(p, l, h, _)| (*p, *l, *h) == key)
            .map(|(.., st)| st.clone())
    });
    if let Some(st) = hit {
        return st;
    }
    let st = file_style(text);
    LAST_STYLE.with(|c| *c.borrow_mut() = Some((key.0, key.1, key.2, st.clone())));
    st
}

/// Reads the style of `text` in one pass over its lines.
pub fn file_style(text: &str) -> FileStyle {
    let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let (mut flow, mut block, mut dq, mut sq, mut plain) = (0usize, 0usize, 0, 0, 0);
    let mut seq_offset = None;
    let mut indent = None;
    let mut prev: Option<(usize, &str)> = None;
    for line in text.lines() {
        let body = line.trim_end_matches('\r');
        let trimmed = body.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let col = body.len() - trimmed.len();
        if trimmed.contains(": [") {
            flow += 1;
        }
        if let Some(item) = trimmed.strip_prefix("- ") {
            match item.as_bytes().first() {
                Some(b'"') => dq += 1,
                Some(b'\'') => sq += 1,
                _ => plain += 1,
            }
            if let Some((pcol, ptext)) = prev
                && ptext.ends_with(':')
                && !ptext.starts_with("- ")
            {
                block += 1;
                if seq_offset.is_none() && col >= pcol {
                    seq_offset = Some(col - pcol);
                }
            }
        } else if let Some((pcol, ptext)) = prev
            && ptext.ends_with(':')
            && col > pcol
            && indent.is_none()
        {
            indent = Some(col - pcol);
        }
        prev = Some((col, trimmed));
    }
    let indent = indent.unwrap_or(2);
    FileStyle {
        eol,
        indent,
        seq_offset: seq_offset.unwrap_or(indent),
        flow_seqs: flow > block,
        quote: if dq > plain && dq >= sq {
            "\""
        } else if sq > plain {
            "'"
        } else {
            ""
        },
    }
}

fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |i| i + 1)
}

/// The offset after the end of the line holding `at` (after its `\n`), or the text's end.
fn after_line(text: &str, at: usize) -> usize {
    if at > 0 && text.as_bytes().get(at - 1) == Some(&b'\n') {
        return at;
    }
    text[at..].find('\n').map_or(text.len(), |i| at + i + 1)
}

/// Whether the text between a service's name and its mapping is only `:`, blanks and a
/// comment: the mapping is the service's own (no anchor `&x`, alias `*x` or tag).
fn owns_mapping(text: &str, service: &Service) -> bool {
    let (a, b) = (service.name.span.end as usize, service.span.start as usize);
    if service.name.span.file != service.span.file || a > b || b > text.len() {
        return false;
    }
    let Some(between) = text.get(a..b) else {
        return false;
    };
    let Some(rest) = between.trim_start_matches([' ']).strip_prefix(':') else {
        return false;
    };
    let mut in_comment = false;
    rest.chars().all(|c| match c {
        '\n' => {
            in_comment = false;
            true
        }
        _ if in_comment => true,
        '#' => {
            in_comment = true;
            true
        }
        ' ' | '\r' => true,
        _ => false,
    })
}

/// Whether `span` lies in the service's own mapping (same file, inside its span).
fn inside(service: &Service, span: Span) -> bool {
    span.file == service.span.file
        && span.start >= service.span.start
        && span.end <= service.span.end
}

fn quoted(style: &FileStyle, item: &str) -> String {
    format!("{q}{item}{q}", q = style.quote)
}

fn flow_value(style: &FileStyle, value: &YValue) -> String {
    match value {
        YValue::Scalar(s) => s.clone(),
        YValue::Seq(items) => {
            let items: Vec<String> = items.iter().map(|i| quoted(style, i)).collect();
            format!("[{}]", items.join(", "))
        }
        YValue::Map(pairs) => {
            let pairs: Vec<String> = (pairs.iter())
                .map(|(k, v)| format!("{k}: {}", flow_value(style, v)))
                .collect();
            format!("{{{}}}", pairs.join(", "))
        }
    }
}

fn block_entry(style: &FileStyle, col: usize, key: &str, value: &YValue, out: &mut String) {
    let pad = " ".repeat(col);
    let eol = style.eol;
    match value {
        YValue::Scalar(s) => out.push_str(&format!("{pad}{key}: {s}{eol}")),
        YValue::Seq(_) if style.flow_seqs => {
            out.push_str(&format!("{pad}{key}: {}{eol}", flow_value(style, value)));
        }
        YValue::Seq(items) => {
            out.push_str(&format!("{pad}{key}:{eol}"));
            let item_pad = " ".repeat(col + style.seq_offset);
            for i in items {
                out.push_str(&format!("{item_pad}- {}{eol}", quoted(style, i)));
            }
        }
        YValue::Map(pairs) => {
            out.push_str(&format!("{pad}{key}:{eol}"));
            for (k, v) in pairs {
                block_entry(style, col + style.indent, k, v, out);
            }
        }
    }
}

/// Inserts `key: value` into the service's own mapping (see the module docs for where).
/// `None` when the service already has the key, its mapping is not its own, or the shape is
/// not one this helper knows.
pub fn insert_key(
    text: &str,
    service: &Service,
    key: &str,
    value: &YValue,
) -> Option<(Span, String)> {
    if service.keys.iter().any(|k| k.value == key) || service.reset_keys.iter().any(|k| k == key) {
        return None;
    }
    if !owns_mapping(text, service) {
        return None;
    }
    let style = style_of(text);
    let (start, end) = (service.span.start as usize, service.span.end as usize);
    let bytes = text.as_bytes();
    if bytes.get(start) == Some(&b'{') {
        // flow mapping: before the closing brace, after the last entry
        if bytes.get(end.checked_sub(1)?) != Some(&b'}') {
            return None;
        }
        let inner = &text[start + 1..end - 1];
        let last = inner.trim_end_matches([' ', '\n', '\r']);
        let at = start + 1 + last.len();
        let entry = format!("{key}: {}", flow_value(&style, value));
        let replacement = if last.trim().is_empty() {
            entry
        } else if last.ends_with(',') {
            format!(" {entry}")
        } else {
            format!(", {entry}")
        };
        return Some((
            Span::from_range(at..at).in_file(service.span.file),
            replacement,
        ));
    }
    let ls = line_start(text, start);
    if !text[ls..start].bytes().all(|b| b == b' ') {
        return None;
    }
    let col = start - ls;
    let at = after_line(text, end);
    let mut out = String::new();
    block_entry(&style, col, key, value, &mut out);
    if at == text.len() && !text.ends_with('\n') {
        // no line end at the end of the file: the entry starts one and does not end with one,
        // so several entries inserted here stay one per line and the file still has none
        let entry = out.strip_suffix(style.eol).unwrap_or(&out);
        out = format!("{}{entry}", style.eol);
    }
    Some((Span::from_range(at..at).in_file(service.span.file), out))
}

/// Inserts `key: value` (plain-safe text) into a mapping item of one of the service's sequences
/// (a long-syntax port or volume, `item` its span); see [`insert_into_mapping`].
pub fn insert_into_item(
    text: &str,
    service: &Service,
    item: Span,
    key: &str,
    value: &str,
) -> Option<(Span, String)> {
    let plain = !value.is_empty()
        && (value.bytes()).all(|b| b.is_ascii_alphanumeric() || b".:/_-,=".contains(&b));
    plain.then(|| insert_into_mapping(text, service, item, key, &YValue::Scalar(value.into())))?
}

/// Inserts `key: value` into a mapping of the service other than its own (`map` its span: a
/// sequence item, or the value of a key such as `deploy`): in a block mapping, at the column
/// of its keys after its last line; in a flow mapping (`{target: 80}`), `, key: value` before
/// its `}`. The edit replaces the mapping's last character with itself and the entry, so that
/// two fixes inserting into the same mapping overlap and the second waits for the next round
/// (two fixes each adding `resources:` would write the key twice), and it stays before a key
/// inserted into the service after the mapping's last line. `None` when the mapping is not
/// the service's own, already spells `key:`, or holds an anchor, alias, tag, merge, `$`, a tab
/// or a shape this helper does not know.
pub fn insert_into_mapping(
    text: &str,
    service: &Service,
    map: Span,
    key: &str,
    value: &YValue,
) -> Option<(Span, String)> {
    let plain = |t: &str| {
        !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".:/_-,=".contains(&b))
    };
    if !plain(key) || !owns_mapping(text, service) || !inside(service, map) {
        return None;
    }
    let (start, end) = (map.start as usize, map.end as usize);
    let written = text.get(start..end)?;
    if written.contains(['&', '*', '!', '\t', '$', '|', '>'])
        || written.contains("<<")
        || written.contains(&format!("{key}:"))
    {
        return None;
    }
    let style = style_of(text);
    // the edit: the character before `at`, then `entry`
    let edit = |at: usize, entry: String| {
        let c = text.get(..at)?.chars().next_back()?;
        let from = at - c.len_utf8();
        Some((
            Span::from_range(from..at).in_file(map.file),
            format!("{c}{entry}"),
        ))
    };
    if let Some(inner) = written.strip_prefix('{') {
        let inner = inner.strip_suffix('}')?;
        if inner.contains(['{', '[', '#']) {
            return None;
        }
        let last = inner.trim_end_matches([' ', '\n', '\r']);
        let entry = format!("{key}: {}", flow_value(&style, value));
        return if last.trim().is_empty() {
            edit(start + 1, entry)
        } else if last.ends_with(',') {
            edit(start + 1 + last.len(), format!(" {entry}"))
        } else {
            edit(start + 1 + last.len(), format!(", {entry}"))
        };
    }
    // a block mapping: its first key follows a `- ` or starts its line
    let ls = line_start(text, start);
    let before = text[ls..start].trim_start_matches(' ');
    let after_dash = before.strip_prefix('-');
    let dashed = after_dash.is_some_and(|r| !r.is_empty() && r.bytes().all(|b| b == b' '));
    if !(dashed || before.is_empty()) || written.starts_with(['[', '"', '\'']) {
        return None;
    }
    let col = start - ls;
    let le = after_line(text, end);
    let line = &text[..le];
    let at = le
        - line
            .strip_suffix('\n')
            .map_or(0, |l| 1 + usize::from(l.ends_with('\r')));
    let mut lines = String::new();
    block_entry(&style, col, key, value, &mut lines);
    let lines = lines.strip_suffix(style.eol).unwrap_or(&lines);
    edit(at, format!("{}{lines}", style.eol))
}

/// Appends `new` items to the service's sequence whose items are `items` (not empty), in the
/// sequence's own style (flow `[a, b]` or block `- a`) and its last item's quoting.
pub fn append_items(
    text: &str,
    service: &Service,
    items: &[SValue],
    new: &[&str],
) -> Option<(Span, String)> {
    let last = items.last()?;
    let first = items.first()?;
    if !owns_mapping(text, service) || !items.iter().all(|i| inside(service, i.span)) {
        return None;
    }
    let (fs, le) = (first.span.start as usize, last.span.end as usize);
    let ls_text = text.get(..fs)?;
    let before = ls_text.trim_end_matches([' ', '\n', '\r']);
    let q = match text.as_bytes().get(last.span.start as usize) {
        Some(b'"') => "\"",
        Some(b'\'') => "'",
        _ => "",
    };
    let file = service.span.file;
    if before.ends_with('[') {
        let added: String = new.iter().map(|n| format!(", {q}{n}{q}")).collect();
        return Some((Span::from_range(le..le).in_file(file), added));
    }
    // block: the last item's line is `<spaces>- item`
    let ls = line_start(text, last.span.start as usize);
    let prefix = &text[ls..last.span.start as usize];
    let dash = prefix.trim_start_matches(' ');
    if !(dash.starts_with('-') && dash[1..].bytes().all(|b| b == b' ') && dash.len() >= 2) {
        return None;
    }
    // the item is one line
    if text[last.span.start as usize..le].contains('\n') {
        return None;
    }
    let style = style_of(text);
    let at = after_line(text, le);
    // The edit replaces the last byte before `at` (the line end, or the file's last byte) with
    // itself and the new items: it then sorts before any key inserted at `at` by another fix,
    // so the items stay under their key.
    let last = at.checked_sub(1)?;
    let kept = text.get(last..at)?;
    let mut out = kept.to_string();
    let lines: Vec<String> = new.iter().map(|n| format!("{prefix}{q}{n}{q}")).collect();
    if kept == "\n" {
        for l in &lines {
            out.push_str(&format!("{l}{}", style.eol));
        }
    } else {
        // the file's last line, without a line end
        for l in &lines {
            out.push_str(&format!("{}{l}", style.eol));
        }
    }
    Some((Span::from_range(last..at).in_file(file), out))
}

/// Replaces the scalar `value` of the service with `new` (plain-safe text: letters, digits and
/// `.:/_-,=`), keeping its quotes. `None` when the scalar is not the service's own or is a
/// block scalar.
pub fn replace_scalar(
    text: &str,
    service: &Service,
    value: &SValue,
    new: &str,
) -> Option<(Span, String)> {
    if !new
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b".:/_-,=".contains(&b))
    {
        return None;
    }
    if !owns_mapping(text, service) || !inside(service, value.span) {
        return None;
    }
    let (s, e) = (value.span.start as usize, value.span.end as usize);
    let written = text.get(s..e)?;
    let inner = match written.as_bytes().first() {
        Some(q @ (b'"' | b'\'')) if written.len() >= 2 && written.as_bytes().last() == Some(q) => {
            Span::from_range(s + 1..e - 1)
        }
        Some(b'|' | b'>' | b'"' | b'\'') => return None,
        _ => Span::from_range(s..e),
    };
    if written.contains(['\n', '$']) {
        return None;
    }
    Some((inner.in_file(value.span.file), new.to_string()))
}

/// Inserts `new` (plain-safe text) into the scalar `value` of the service at byte `at` of its
/// text (quotes excluded: 0 is its first character), or replaces its first `len` characters.
/// `None` for values that are not the service's own, hold `$`, span lines, or are block
/// scalars.
pub fn splice_scalar(
    text: &str,
    service: &Service,
    value: Span,
    at: usize,
    len: usize,
    new: &str,
) -> Option<(Span, String)> {
    if !new
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b".:/_-,=".contains(&b))
    {
        return None;
    }
    if !owns_mapping(text, service) || !inside(service, value) {
        return None;
    }
    let (s, e) = (value.start as usize, value.end as usize);
    let written = text.get(s..e)?;
    if written.contains(['\n', '$', '#']) {
        return None;
    }
    let (inner_start, inner) = match written.as_bytes().first() {
        Some(q @ (b'"' | b'\'')) if written.len() >= 2 && written.as_bytes().last() == Some(q) => {
            (s + 1, &written[1..written.len() - 1])
        }
        Some(b'|' | b'>' | b'"' | b'\'' | b'{' | b'[' | b'&' | b'*' | b'!') => return None,
        _ => (s, written),
    };
    if at + len > inner.len() || !inner.is_char_boundary(at) || !inner.is_char_boundary(at + len) {
        return None;
    }
    let start = inner_start + at;
    if len == 0 && at == inner.len() && at > 0 {
        // an insert at the scalar's end replaces its last character with itself and `new`:
        // a key inserted right after the scalar by another fix then goes after it
        let c = inner[..at].chars().next_back()?;
        let from = start - c.len_utf8();
        return Some((
            Span::from_range(from..start).in_file(value.file),
            format!("{c}{new}"),
        ));
    }
    Some((
        Span::from_range(start..start + len).in_file(value.file),
        new.to_string(),
    ))
}

/// The text of a short-syntax scalar entry (quotes removed), if `span` is one the service owns.
pub fn scalar_text<'t>(text: &'t str, service: &Service, span: Span) -> Option<&'t str> {
    if !inside(service, span) {
        return None;
    }
    let written = text.get(span.range())?;
    match written.as_bytes().first()? {
        q @ (b'"' | b'\'') if written.len() >= 2 && written.as_bytes().last() == Some(q) => {
            Some(&written[1..written.len() - 1])
        }
        b'|' | b'>' | b'"' | b'\'' | b'{' | b'[' | b'&' | b'*' | b'!' => None,
        _ => Some(written),
    }
}

/// Removes the whole line(s) of the service's key `key` whose value is `value` (block mapping
/// only: the key starts its line and the value ends its line, but for a comment). `None` for a
/// flow service or when the key is the service's only one.
pub fn remove_key(
    text: &str,
    service: &Service,
    key: &str,
    value: &SValue,
) -> Option<(Span, String)> {
    let k = service.keys.iter().find(|k| k.value == key)?;
    if !owns_mapping(text, service) || !inside(service, k.span) || !inside(service, value.span) {
        return None;
    }
    let own_keys = service
        .keys
        .iter()
        .filter(|k| inside(service, k.span))
        .count();
    if own_keys < 2 || text.as_bytes().get(service.span.start as usize) == Some(&b'{') {
        return None;
    }
    let ks = k.span.start as usize;
    let ls = line_start(text, ks);
    if !text[ls..ks].bytes().all(|b| b == b' ') {
        return None;
    }
    let ve = value.span.end as usize;
    let end = after_line(text, ve);
    let tail = text[ve..end].trim();
    if !(tail.is_empty() || tail.starts_with('#')) {
        return None;
    }
    Some((
        Span::from_range(ls..end).in_file(service.span.file),
        String::new(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::apply_edits;

    fn service(text: &str, name: &str) -> Service {
        let f = crate::compose::load(text, &crate::compose::Vars::new());
        assert!(f.errors.is_empty(), "{:?}", f.errors);
        f.services
            .into_iter()
            .find(|s| s.name.value == name)
            .unwrap()
    }

    fn apply(text: &str, edit: Option<(Span, String)>) -> String {
        let (span, r) = edit.expect("an edit");
        let out = apply_edits(text, [(span, r.as_str())]).unwrap();
        let f = crate::compose::load(&out, &crate::compose::Vars::new());
        assert!(f.errors.is_empty(), "{out}\n{:?}", f.errors);
        out
    }

    fn nnp() -> YValue {
        YValue::Seq(vec!["no-new-privileges:true".into()])
    }

    #[test]
    fn inserts_at_the_end_of_the_service_block() {
        let text = "services:\n  web:\n    image: x # the image\n  db:\n    image: y\n";
        let s = service(text, "web");
        let out = apply(text, insert_key(text, &s, "security_opt", &nnp()));
        assert_eq!(
            out,
            "services:\n  web:\n    image: x # the image\n    security_opt:\n      - no-new-privileges:true\n  db:\n    image: y\n"
        );
    }

    #[test]
    fn follows_indentation_sequence_offset_quotes_and_crlf() {
        let text =
            "services:\r\n    web:\r\n        image: x\r\n        ports:\r\n        - \"80\"\r\n";
        let s = service(text, "web");
        let out = apply(
            text,
            insert_key(text, &s, "cap_drop", &YValue::Seq(vec!["ALL".into()])),
        );
        assert_eq!(
            out,
            "services:\r\n    web:\r\n        image: x\r\n        ports:\r\n        - \"80\"\r\n        cap_drop:\r\n        - \"ALL\"\r\n"
        );
    }

    #[test]
    fn flow_files_get_flow_sequences() {
        let text = "services:\n  web:\n    image: x\n    ports: [\"80\"]\n    dns: [1.1.1.1]\n";
        let s = service(text, "web");
        let out = apply(text, insert_key(text, &s, "security_opt", &nnp()));
        assert!(
            out.ends_with("    security_opt: [no-new-privileges:true]\n"),
            "{out}"
        );
    }

    #[test]
    fn flow_service_and_end_without_newline() {
        let text = "services:\n  web: {image: x}\n  db:\n    image: y";
        let s = service(text, "web");
        let out = apply(
            text,
            insert_key(text, &s, "read_only", &YValue::Scalar("true".into())),
        );
        assert_eq!(
            out,
            "services:\n  web: {image: x, read_only: true}\n  db:\n    image: y"
        );
        let s = service(text, "db");
        let out = apply(
            text,
            insert_key(text, &s, "pids_limit", &YValue::Scalar("256".into())),
        );
        assert!(out.ends_with("    image: y\n    pids_limit: 256"), "{out}");
        let text = "services:\n  web: {}\n";
        let s = service(text, "web");
        let out = apply(
            text,
            insert_key(text, &s, "read_only", &YValue::Scalar("true".into())),
        );
        assert_eq!(out, "services:\n  web: {read_only: true}\n");
    }

    #[test]
    fn nested_maps_follow_the_indent() {
        let text = "services:\n web:\n  image: x\n";
        let s = service(text, "web");
        let v = YValue::Map(vec![(
            "limits".into(),
            YValue::Map(vec![("memory".into(), YValue::Scalar("512m".into()))]),
        )]);
        let out = apply(text, insert_key(text, &s, "resources", &v));
        assert_eq!(
            out,
            "services:\n web:\n  image: x\n  resources:\n   limits:\n    memory: 512m\n"
        );
    }

    #[test]
    fn anchored_or_aliased_services_are_refused() {
        let text = "services:\n  web: &w\n    image: x\n  api: *w\n";
        assert_eq!(
            insert_key(
                text,
                &service(text, "web"),
                "read_only",
                &YValue::Scalar("true".into())
            ),
            None
        );
        assert_eq!(
            insert_key(
                text,
                &service(text, "api"),
                "read_only",
                &YValue::Scalar("true".into())
            ),
            None
        );
        // a service merging an anchor gets its own key: the anchor is untouched
        let text = "x-base: &b\n  image: x\nservices:\n  web:\n    <<: *b\n    init: true\n";
        let s = service(text, "web");
        let out = apply(
            text,
            insert_key(text, &s, "read_only", &YValue::Scalar("true".into())),
        );
        assert!(
            out.ends_with("    init: true\n    read_only: true\n"),
            "{out}"
        );
    }

    #[test]
    fn existing_keys_are_not_inserted_again() {
        let text = "services:\n  web:\n    image: x\n    read_only: false\n";
        assert_eq!(
            insert_key(
                text,
                &service(text, "web"),
                "read_only",
                &YValue::Scalar("true".into())
            ),
            None
        );
    }

    #[test]
    fn appends_to_block_and_flow_sequences() {
        let text = "services:\n  web:\n    image: x\n    security_opt:\n      - 'label:disable' # why\n    init: true\n";
        let s = service(text, "web");
        let out = apply(
            text,
            append_items(text, &s, &s.security_opt, &["no-new-privileges:true"]),
        );
        assert_eq!(
            out,
            "services:\n  web:\n    image: x\n    security_opt:\n      - 'label:disable' # why\n      - 'no-new-privileges:true'\n    init: true\n"
        );
        let text = "services:\n  web:\n    image: x\n    security_opt: [\"label:disable\"]\n";
        let s = service(text, "web");
        let out = apply(
            text,
            append_items(text, &s, &s.security_opt, &["no-new-privileges:true"]),
        );
        assert!(
            out.contains("security_opt: [\"label:disable\", \"no-new-privileges:true\"]"),
            "{out}"
        );
    }

    #[test]
    fn sequences_from_anchors_are_refused() {
        let text =
            "x-o: &o [\"label:disable\"]\nservices:\n  web:\n    image: x\n    security_opt: *o\n";
        let s = service(text, "web");
        assert_eq!(
            append_items(text, &s, &s.security_opt, &["no-new-privileges:true"]),
            None
        );
    }

    #[test]
    fn replaces_scalars_keeping_quotes() {
        let text = "services:\n  web:\n    image: x\n    privileged: \"true\"\n    user: root\n";
        let s = service(text, "web");
        let out = apply(
            text,
            replace_scalar(text, &s, s.privileged.as_ref().unwrap(), "false"),
        );
        assert!(out.contains("privileged: \"false\""), "{out}");
        assert_eq!(
            replace_scalar(text, &s, s.user.as_ref().unwrap(), "a b"),
            None
        );
    }

    #[test]
    fn removes_block_keys_only() {
        let text =
            "services:\n  web:\n    image: x\n    network_mode: host # fast\n    init: true\n";
        let s = service(text, "web");
        let out = apply(
            text,
            remove_key(text, &s, "network_mode", s.network_mode.as_ref().unwrap()),
        );
        assert_eq!(out, "services:\n  web:\n    image: x\n    init: true\n");
        let text = "services:\n  web: {image: x, network_mode: host}\n";
        let s = service(text, "web");
        assert_eq!(
            remove_key(text, &s, "network_mode", s.network_mode.as_ref().unwrap()),
            None
        );
    }

    #[test]
    fn edits_at_the_end_of_a_file_without_a_line_end_stay_in_order() {
        let text = "services:\n  web:\n    image: x\n    cap_drop: [NET_RAW]\n    volumes:\n      - ./a:/a";
        let s = service(text, "web");
        let ro = splice_scalar(text, &s, s.volumes[0].span, 6, 0, ":ro").unwrap();
        let nnp = insert_key(text, &s, "security_opt", &nnp()).unwrap();
        let ro2 = insert_key(text, &s, "read_only", &YValue::Scalar("true".into())).unwrap();
        let edits = [
            (nnp.0, nnp.1.as_str()),
            (ro.0, ro.1.as_str()),
            (ro2.0, ro2.1.as_str()),
        ];
        let out = apply_edits(text, edits).unwrap();
        assert_eq!(
            out,
            "services:\n  web:\n    image: x\n    cap_drop: [NET_RAW]\n    volumes:\n      - ./a:/a:ro\n    security_opt:\n      - no-new-privileges:true\n    read_only: true"
        );
        // a block sequence appended to at the end of the service, and a key inserted there
        let text = "services:\n  web:\n    image: x\n    cap_drop:\n      - NET_RAW\n";
        let s = service(text, "web");
        let all = append_items(text, &s, &s.cap_drop, &["ALL"]).unwrap();
        let key = insert_key(text, &s, "read_only", &YValue::Scalar("true".into())).unwrap();
        let out = apply_edits(text, [(key.0, key.1.as_str()), (all.0, all.1.as_str())]).unwrap();
        assert_eq!(
            out,
            "services:\n  web:\n    image: x\n    cap_drop:\n      - NET_RAW\n      - ALL\n    read_only: true\n"
        );
    }

    #[test]
    fn style_detection() {
        let st = file_style("a:\n  b:\n  - x\n  - y\n");
        assert_eq!(
            (st.indent, st.seq_offset, st.flow_seqs, st.quote),
            (2, 0, false, "")
        );
        let st = file_style("a:\n    b: [x]\n    c: [y]\n    d:\n      - \"z\"\n");
        assert_eq!(
            (st.indent, st.seq_offset, st.flow_seqs, st.quote),
            (4, 2, true, "\"")
        );
    }
}
