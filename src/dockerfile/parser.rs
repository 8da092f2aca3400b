//! Logical lines → instructions, following BuildKit's `parser.go`, `line_parsers.go` and
//! `split_command.go`, plus the argument checks of `instructions/parse.go` (reported as errors,
//! the instruction is kept).
//!
//! Errors that make BuildKit's parser reject the file (an `ENV` without value, a JSON array with
//! non-string items, an unterminated heredoc) drop the instruction; the other errors keep it.

use super::lexer::{Lexer, is_space};
use super::model::{
    Arguments, Dockerfile, Flag, Heredoc, Instruction, KeyValue, Keyword, ParseError, Stage, Text,
};
use crate::source::{Span, Spanned};

/// `[\t\v\f\r ]`, BuildKit's `reWhitespace`.
fn is_ws(c: char) -> bool {
    matches!(c, '\t' | '\u{0b}' | '\u{0c}' | '\r' | ' ')
}

fn off(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

fn err(message: impl Into<String>, span: Span, help: Option<&str>) -> ParseError {
    ParseError {
        message: message.into(),
        span,
        help: help.map(str::to_string),
    }
}

/// Parses a whole Dockerfile.
pub(crate) fn parse(src: &str) -> Dockerfile {
    let mut lx = Lexer::new(src);
    let mut errors = Vec::new();
    let mut instructions: Vec<Instruction> = Vec::new();
    let mut any = false;
    let mut saw_from = false;
    let mut before_from_reported = false;
    while let Some(line) = lx.next_logical() {
        any = true;
        let cx = Cx {
            text: &line.text,
            escape: lx.escape(),
        };
        let len = line.text.value.len();
        let mut built = match cx.node(0, len, 0) {
            Ok(b) => b,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        built.instr.span = Span::new(
            built.instr.keyword.span.start,
            line.end.max(built.instr.keyword.span.end),
        );
        // Heredocs (RUN/COPY/ADD, also as ONBUILD triggers, never in JSON form).
        let heredoc_target = match &built.instr.onbuild {
            Some(t) if built.instr.kind == Keyword::Onbuild => (t.kind, t.args.is_exec()),
            _ => (built.instr.kind, built.instr.args.is_exec()),
        };
        let mut broken = false;
        if matches!(
            heredoc_target.0,
            Keyword::Run | Keyword::Copy | Keyword::Add
        ) && !heredoc_target.1
            && line.text.value.contains("<<")
        {
            for m in heredoc_markers(&line.text.value) {
                let body = lx.read_heredoc(&m.name, m.chomp);
                let marker = line.text.source_span(off(m.start), off(m.end));
                let name_span = line.text.source_span(off(m.name_start), off(m.end));
                let end = body.terminator_end.unwrap_or(body.body.span.end);
                if body.terminator_end.is_none() && !broken {
                    broken = true;
                    errors.push(err(
                        format!("unterminated heredoc `{}`", m.name),
                        marker,
                        Some(&format!(
                            "end the heredoc with a line containing only `{}`",
                            m.name
                        )),
                    ));
                }
                built.instr.span.end = built.instr.span.end.max(end);
                built.instr.heredocs.push(Heredoc {
                    name: Spanned::new(m.name, name_span),
                    expand: m.expand,
                    chomp: m.chomp,
                    body: body.body,
                    span: Span::new(marker.start, end.max(marker.start)),
                });
            }
            if let Some(t) = built.instr.onbuild.as_mut() {
                t.heredocs = built.instr.heredocs.clone();
                t.span.end = built.instr.span.end;
            }
        }
        if broken {
            continue;
        }
        errors.append(&mut built.errors);
        check(&built.instr, &mut errors);
        super::validate::values(&built.instr, &mut errors);
        if let Some(t) = &built.instr.onbuild {
            check(t, &mut errors);
        }
        match built.instr.kind {
            Keyword::From => saw_from = true,
            Keyword::Arg | Keyword::Unknown => {}
            _ if !saw_from => {
                before_from_reported = true;
                errors.push(err(
                    format!(
                        "no build stage in current context: `{}` comes before the first `FROM`",
                        built.instr.keyword.value
                    ),
                    built.instr.keyword.span,
                    Some(
                        "start the build stage with `FROM <image>`; only `ARG` may come before it",
                    ),
                ));
            }
            _ => {}
        }
        instructions.push(built.instr);
    }
    if !any {
        errors.push(err(
            "file with no instructions",
            Span::at(0),
            Some("add a `FROM <image>` instruction"),
        ));
    } else if !saw_from && !before_from_reported {
        // BuildKit: "dockerfile contains no stages to build".
        let at = instructions.first().map_or(Span::at(0), |i| i.keyword.span);
        errors.push(err(
            "no build stage: the file has no `FROM` instruction",
            at,
            Some("start a build stage with `FROM <image>`"),
        ));
    }
    let mut directives = std::mem::take(&mut lx.directives);
    directives.sort_by_key(|d| d.span.start);
    let mut all_errors = std::mem::take(&mut lx.errors);
    all_errors.append(&mut errors);
    all_errors.sort_by_key(|e| e.span.start);
    let stages = stages(&instructions);
    Dockerfile {
        directives,
        escape: lx.escape(),
        instructions,
        stages,
        errors: all_errors,
        derived: Default::default(),
    }
}

fn stages(instructions: &[Instruction]) -> Vec<Stage> {
    let mut stages: Vec<Stage> = Vec::new();
    for (i, ins) in instructions.iter().enumerate() {
        if ins.kind != Keyword::From {
            continue;
        }
        let Some(image) = ins.words().first().cloned() else {
            continue;
        };
        if let Some(prev) = stages.last_mut() {
            prev.instructions.end = i;
        }
        let words = ins.words();
        let name = match (words.get(1), words.get(2)) {
            (Some(kw), Some(n))
                if words.len() == 3
                    && kw.value.eq_ignore_ascii_case("as")
                    && valid_stage_name(&n.value.to_ascii_lowercase()) =>
            {
                Some(Spanned::new(n.value.to_ascii_lowercase(), n.span))
            }
            _ => None,
        };
        stages.push(Stage {
            index: stages.len(),
            from: i,
            image,
            name,
            platform: ins.flag("platform").and_then(|f| f.value.clone()),
            instructions: i..instructions.len(),
        });
    }
    stages
}

/// An instruction before the file-level bookkeeping, plus errors found while parsing it.
struct Built {
    instr: Instruction,
    errors: Vec<ParseError>,
}

/// Offsets are byte offsets into `text.value`.
struct Cx<'a> {
    text: &'a Text,
    escape: char,
}

enum JsonErr {
    Invalid,
    NotStrings,
}

impl Cx<'_> {
    fn s(&self, a: usize, b: usize) -> &str {
        self.text.value.get(a..b).unwrap_or("")
    }

    fn span(&self, a: usize, b: usize) -> Span {
        self.text.source_span(off(a), off(b))
    }

    fn spanned(&self, a: usize, b: usize) -> Spanned<String> {
        Spanned::new(self.s(a, b).to_string(), self.span(a, b))
    }

    /// The part `a..b` of the line as a [`Text`] of its own.
    fn sub_text(&self, a: usize, b: usize) -> Text {
        if b <= a {
            return Text::contiguous(String::new(), self.text.source_offset(off(a)));
        }
        let (a32, b32) = (off(a), off(b));
        let first = match self.text.pieces.binary_search_by_key(&a32, |p| p.0) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let mut pieces = vec![(0, self.text.source_offset(a32))];
        for &(t, s) in self.text.pieces.iter().skip(first + 1) {
            if t >= b32 {
                break;
            }
            pieces.push((t - a32, s));
        }
        Text {
            value: self.s(a, b).to_string(),
            span: self.span(a, b),
            pieces,
        }
    }

    fn trim(&self, mut a: usize, mut b: usize) -> (usize, usize) {
        let s = self.s(a, b);
        let t = s.trim_start_matches(is_space);
        a += s.len() - t.len();
        b = a + t.trim_end_matches(is_space).len();
        (a, b)
    }

    /// `newNodeFromLine` on `a..b`; `depth` counts ONBUILD nesting.
    fn node(&self, a: usize, b: usize, depth: u32) -> Result<Built, ParseError> {
        let (a, b) = self.trim(a, b);
        let line = self.s(a, b);
        let cmd_end = a + line.find(is_ws).unwrap_or(line.len());
        let keyword = self.spanned(a, cmd_end);
        let rest = self.s(cmd_end, b);
        let rest_start = cmd_end + (rest.len() - rest.trim_start_matches(is_ws).len());
        let (flags, args_start) = self.flags(rest_start, b);
        let (aa, ab) = self.trim(args_start, b);
        let kind = Keyword::parse(&keyword.value);
        let mut instr = Instruction {
            span: self.span(a, b),
            keyword,
            kind,
            flags,
            args: Arguments::Text {
                text: self.sub_text(aa, ab),
                words: Vec::new(),
                pairs: Vec::new(),
            },
            heredocs: Vec::new(),
            onbuild: None,
        };
        let mut errors = Vec::new();
        let text = self.sub_text(aa, ab);
        instr.args = match kind {
            Keyword::Run | Keyword::Cmd | Keyword::Entrypoint | Keyword::Shell => {
                self.maybe_json(aa, ab, text, false)?
            }
            Keyword::Add | Keyword::Copy | Keyword::Volume => {
                self.maybe_json(aa, ab, text, true)?
            }
            Keyword::From | Keyword::Expose => Arguments::Text {
                text,
                words: self.ws_split(aa, ab),
                pairs: Vec::new(),
            },
            Keyword::Env | Keyword::Label => {
                let ranges = self.word_ranges(aa, ab);
                let pairs = self.name_val(aa, ab, &ranges, &instr.keyword, &mut errors)?;
                let words = ranges.iter().map(|&(x, y)| self.spanned(x, y)).collect();
                Arguments::Text { text, words, pairs }
            }
            Keyword::Arg => {
                let ranges = self.word_ranges(aa, ab);
                let pairs = ranges
                    .iter()
                    .map(|&r| self.arg_pair(r, &mut errors))
                    .collect();
                let words = ranges.iter().map(|&(x, y)| self.spanned(x, y)).collect();
                Arguments::Text { text, words, pairs }
            }
            Keyword::Healthcheck => self.healthcheck(aa, ab, text)?,
            Keyword::Onbuild => {
                if aa < ab && depth < 2 {
                    let child = self.node(aa, ab, depth + 1)?;
                    errors.extend(child.errors);
                    instr.onbuild = Some(Box::new(child.instr));
                }
                Arguments::Text {
                    text,
                    words: self.parse_words(aa, ab),
                    pairs: Vec::new(),
                }
            }
            _ => Arguments::Text {
                text,
                words: self.parse_words(aa, ab),
                pairs: Vec::new(),
            },
        };
        Ok(Built { instr, errors })
    }

    /// `extractBuilderFlags`: `--name[=value]` words before the arguments; `--` ends them.
    /// Returns the flags and where the arguments start.
    fn flags(&self, a: usize, b: usize) -> (Vec<Flag>, usize) {
        let mut flags = Vec::new();
        let s = self.s(a, b);
        let mut it = s.char_indices().peekable();
        loop {
            // In spaces.
            while let Some(&(_, c)) = it.peek() {
                if !is_space(c) {
                    break;
                }
                it.next();
            }
            let Some(&(ws, _)) = it.peek() else {
                return (flags, b);
            };
            if !s.get(ws..).is_some_and(|r| r.starts_with("--")) {
                return (flags, a + ws);
            }
            // In a word.
            let mut processed = String::new();
            let mut quote: Option<char> = None;
            let mut eq: Option<usize> = None;
            let mut blank_ok = false;
            let mut end = s.len();
            while let Some((i, c)) = it.next() {
                if let Some(q) = quote {
                    if c == q {
                        quote = None;
                    } else if c == '\\' {
                        match it.next() {
                            Some((_, n)) => processed.push(n),
                            None => quote = None,
                        }
                    } else {
                        processed.push(c);
                    }
                    continue;
                }
                if is_space(c) {
                    end = i;
                    break;
                }
                if c == '\'' || c == '"' {
                    quote = Some(c);
                    blank_ok = true;
                } else if c == '\\' {
                    if let Some((_, n)) = it.next() {
                        processed.push(n);
                    }
                } else {
                    if c == '=' && eq.is_none() {
                        eq = Some(i);
                    }
                    processed.push(c);
                }
            }
            if processed == "--" {
                return (flags, a + end);
            }
            if blank_ok || !processed.is_empty() {
                let (fa, fb) = (a + ws, a + end);
                let name_end = eq.map_or(fb, |e| a + e);
                flags.push(Flag {
                    span: self.span(fa, fb),
                    name: self.spanned(fa + 2, name_end),
                    value: eq.map(|e| self.spanned(a + e + 1, fb)),
                });
            }
            if end >= s.len() {
                return (flags, b);
            }
        }
    }

    /// `parseStringsWhitespaceDelimited`.
    fn ws_split(&self, a: usize, b: usize) -> Vec<Spanned<String>> {
        let s = self.s(a, b);
        let mut out = Vec::new();
        let mut start: Option<usize> = None;
        for (i, c) in s.char_indices() {
            match (is_ws(c), start) {
                (true, Some(st)) => {
                    out.push(self.spanned(a + st, a + i));
                    start = None;
                }
                (false, None) => start = Some(i),
                _ => {}
            }
        }
        if let Some(st) = start {
            out.push(self.spanned(a + st, b));
        }
        out
    }

    /// `parseWords`: whitespace-separated words, quotes and escapes kept as written.
    fn parse_words(&self, a: usize, b: usize) -> Vec<Spanned<String>> {
        self.word_ranges(a, b)
            .into_iter()
            .map(|(x, y)| self.spanned(x, y))
            .collect()
    }

    /// Text ranges of the `parseWords` words.
    fn word_ranges(&self, a: usize, b: usize) -> Vec<(usize, usize)> {
        let s = self.s(a, b);
        let mut out = Vec::new();
        let mut start: Option<usize> = None;
        let mut quote: Option<char> = None;
        let mut it = s.char_indices();
        let push = |st: usize, en: usize, out: &mut Vec<(usize, usize)>| {
            if en > st {
                out.push((a + st, a + en));
            }
        };
        while let Some((i, c)) = it.next() {
            let at_end = i + c.len_utf8() == s.len();
            match (start, quote) {
                (None, _) => {
                    if is_space(c) {
                        continue;
                    }
                    start = Some(i);
                }
                (Some(st), None) if is_space(c) => {
                    push(st, i, &mut out);
                    start = None;
                    continue;
                }
                (Some(_), Some(q)) => {
                    if c == q {
                        quote = None;
                    } else if c == self.escape && q != '\'' {
                        if at_end {
                            quote = None;
                            if let Some(st) = start.take() {
                                push(st, i, &mut out);
                            }
                            continue;
                        }
                        it.next();
                    }
                    continue;
                }
                _ => {}
            }
            // In a word, outside quotes.
            if c == '\'' || c == '"' {
                quote = Some(c);
            } else if c == self.escape {
                if at_end {
                    if let Some(st) = start.take() {
                        push(st, i, &mut out);
                    }
                    continue;
                }
                it.next();
            }
        }
        if let Some(st) = start {
            push(st, s.len(), &mut out);
        }
        out
    }

    /// `parseNameVal` for ENV and LABEL.
    fn name_val(
        &self,
        a: usize,
        b: usize,
        words: &[(usize, usize)],
        keyword: &Spanned<String>,
        errors: &mut Vec<ParseError>,
    ) -> Result<Vec<KeyValue>, ParseError> {
        let kw = keyword.value.to_ascii_uppercase();
        let Some(&(fa, fb)) = words.first() else {
            return Ok(Vec::new());
        };
        if !self.s(fa, fb).contains('=') {
            // Legacy `KEY name value`: the value is the rest of the line.
            let s = self.s(a, b);
            let Some(sep) = s.find(is_ws) else {
                return Err(err(
                    format!("`{kw} {}` has no value", s),
                    self.span(a, b),
                    Some(&format!("write `{kw} {s}=<value>`")),
                ));
            };
            let after = &s[sep..];
            let vstart = sep + (after.len() - after.trim_start_matches(is_ws).len());
            let key = self.spanned(a, a + sep);
            let raw = self.spanned(a + vstart, b);
            let value = self.unquote_checked(&raw, &kw, errors);
            return Ok(vec![KeyValue {
                span: key.span.cover(raw.span),
                key,
                value: Some(value),
                raw_value: Some(raw),
            }]);
        }
        let mut pairs = Vec::new();
        for &(wa, wb) in words {
            let Some(eq) = self.s(wa, wb).find('=') else {
                return Err(err(
                    format!("`{kw}` pair `{}` has no `=`", self.s(wa, wb)),
                    self.span(wa, wb),
                    Some("write every pair as `name=value`"),
                ));
            };
            pairs.push(self.pair((wa, wb), wa + eq, &kw, errors));
        }
        Ok(pairs)
    }

    /// Splits the `key=value` word `wa..wb` at the `=` at text offset `eq`.
    fn pair(
        &self,
        (wa, wb): (usize, usize),
        eq: usize,
        kw: &str,
        errors: &mut Vec<ParseError>,
    ) -> KeyValue {
        let span = self.span(wa, wb);
        let key = if eq > wa {
            self.spanned(wa, eq)
        } else {
            Spanned::new(String::new(), Span::at(span.start))
        };
        let raw = if wb > eq + 1 {
            self.spanned(eq + 1, wb)
        } else {
            Spanned::new(String::new(), Span::at(span.end))
        };
        let value = self.unquote_checked(&raw, kw, errors);
        KeyValue {
            key,
            raw_value: Some(raw),
            value: Some(value),
            span,
        }
    }

    fn arg_pair(&self, (wa, wb): (usize, usize), errors: &mut Vec<ParseError>) -> KeyValue {
        match self.s(wa, wb).find('=') {
            Some(eq) => self.pair((wa, wb), wa + eq, "ARG", errors),
            None => {
                let key = self.spanned(wa, wb);
                KeyValue {
                    span: key.span,
                    key,
                    raw_value: None,
                    value: None,
                }
            }
        }
    }

    fn unquote_checked(
        &self,
        raw: &Spanned<String>,
        kw: &str,
        errors: &mut Vec<ParseError>,
    ) -> String {
        let (v, ok) = unquote(&raw.value, self.escape, false);
        if !ok {
            errors.push(err(
                format!("unterminated quote in `{kw}` value `{}`", raw.value),
                raw.span,
                Some("close the quote"),
            ));
        }
        v
    }

    /// `parseMaybeJSON` / `parseMaybeJSONToList`.
    fn maybe_json(
        &self,
        a: usize,
        b: usize,
        text: Text,
        list: bool,
    ) -> Result<Arguments, ParseError> {
        if a < b {
            match self.json(a) {
                Ok((items, span)) => return Ok(Arguments::Exec { items, span }),
                Err(JsonErr::NotStrings) => {
                    return Err(err(
                        "when using JSON array syntax, arrays must be comprised of strings only",
                        self.span(a, b),
                        Some("quote every element, or use the shell form"),
                    ));
                }
                Err(JsonErr::Invalid) => {}
            }
        }
        let words = if list {
            self.ws_split(a, b)
        } else {
            self.parse_words(a, b)
        };
        Ok(Arguments::Text {
            text,
            words,
            pairs: Vec::new(),
        })
    }

    /// `parseHealthConfig`: the type word, then the command (JSON items or the rest as one word).
    fn healthcheck(&self, a: usize, b: usize, text: Text) -> Result<Arguments, ParseError> {
        let s = self.s(a, b);
        let sep = s.find(is_space).unwrap_or(s.len());
        let mut words = Vec::new();
        if sep > 0 {
            words.push(self.spanned(a, a + sep));
            let (ra, rb) = self.trim(a + sep, b);
            if ra < rb {
                match self.json(ra) {
                    Ok((items, _)) => words.extend(items),
                    Err(JsonErr::NotStrings) => {
                        return Err(err(
                            "when using JSON array syntax, arrays must be comprised of strings only",
                            self.span(ra, rb),
                            Some("quote every element, or use the shell form"),
                        ));
                    }
                    Err(JsonErr::Invalid) => words.push(self.spanned(ra, rb)),
                }
            }
        }
        Ok(Arguments::Text {
            text,
            words,
            pairs: Vec::new(),
        })
    }

    /// Decodes a JSON array of strings starting at `a` (trailing text is ignored, like Go's
    /// `json.Decoder`).
    fn json(&self, a: usize) -> Result<(Vec<Spanned<String>>, Span), JsonErr> {
        let b = self.text.value.as_bytes();
        if b.get(a) != Some(&b'[') {
            return Err(JsonErr::Invalid);
        }
        let mut i = skip_ws(b, a + 1);
        let mut items = Vec::new();
        let mut not_strings = false;
        if b.get(i) == Some(&b']') {
            return Ok((items, self.span(a, i + 1)));
        }
        loop {
            if b.get(i) == Some(&b'"') {
                let (v, end) = json_string(b, i).ok_or(JsonErr::Invalid)?;
                items.push(Spanned::new(v, self.span(i, end)));
                i = end;
            } else {
                i = skip_value(b, i).ok_or(JsonErr::Invalid)?;
                not_strings = true;
            }
            i = skip_ws(b, i);
            match b.get(i) {
                Some(b',') => i = skip_ws(b, i + 1),
                Some(b']') => break,
                _ => return Err(JsonErr::Invalid),
            }
        }
        if not_strings {
            return Err(JsonErr::NotStrings);
        }
        Ok((items, self.span(a, i + 1)))
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

fn hex4(b: &[u8], i: usize) -> Option<u32> {
    let s = std::str::from_utf8(b.get(i..i + 4)?).ok()?;
    if !s.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(s, 16).ok()
}

/// A JSON string at `b[i] == '"'`: its decoded value and the offset after the closing quote.
fn json_string(b: &[u8], i: usize) -> Option<(String, usize)> {
    let mut out: Vec<u8> = Vec::new();
    let mut j = i + 1;
    loop {
        let c = *b.get(j)?;
        match c {
            b'"' => return Some((String::from_utf8_lossy(&out).into_owned(), j + 1)),
            0..=0x1f => return None,
            b'\\' => {
                let e = *b.get(j + 1)?;
                j += 2;
                let ch = match e {
                    b'"' => '"',
                    b'\\' => '\\',
                    b'/' => '/',
                    b'b' => '\u{8}',
                    b'f' => '\u{c}',
                    b'n' => '\n',
                    b'r' => '\r',
                    b't' => '\t',
                    b'u' => {
                        let u = hex4(b, j)?;
                        j += 4;
                        if (0xD800..0xDC00).contains(&u)
                            && b.get(j) == Some(&b'\\')
                            && b.get(j + 1) == Some(&b'u')
                            && let Some(lo) = hex4(b, j + 2)
                            && (0xDC00..0xE000).contains(&lo)
                        {
                            j += 6;
                            char::from_u32(0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00))
                                .unwrap_or('\u{fffd}')
                        } else {
                            char::from_u32(u).unwrap_or('\u{fffd}')
                        }
                    }
                    _ => return None,
                };
                let mut buf = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            }
            _ => {
                out.push(c);
                j += 1;
            }
        }
    }
}

fn skip_number(b: &[u8], mut i: usize) -> Option<usize> {
    let digits = |b: &[u8], mut i: usize| {
        let s = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        (i > s).then_some(i)
    };
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i = digits(b, i)?,
        _ => return None,
    }
    if b.get(i) == Some(&b'.') {
        i = digits(b, i + 1)?;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        i = digits(b, i)?;
    }
    Some(i)
}

/// Validates any JSON value at `i` (iteratively: deep nesting cannot overflow the stack).
fn skip_value(b: &[u8], mut i: usize) -> Option<usize> {
    let mut stack: Vec<u8> = Vec::new();
    loop {
        if stack.len() > 10_000 {
            return None;
        }
        i = skip_ws(b, i);
        match *b.get(i)? {
            b'"' => i = json_string(b, i)?.1,
            b'[' => {
                i = skip_ws(b, i + 1);
                if b.get(i) == Some(&b']') {
                    i += 1;
                } else {
                    stack.push(b'[');
                    continue;
                }
            }
            b'{' => {
                i = skip_ws(b, i + 1);
                if b.get(i) == Some(&b'}') {
                    i += 1;
                } else {
                    stack.push(b'{');
                    i = object_key(b, i)?;
                    continue;
                }
            }
            b't' => i = literal(b, i, b"true")?,
            b'f' => i = literal(b, i, b"false")?,
            b'n' => i = literal(b, i, b"null")?,
            _ => i = skip_number(b, i)?,
        }
        // After a value: close containers or move to the next element.
        loop {
            let Some(&top) = stack.last() else {
                return Some(i);
            };
            i = skip_ws(b, i);
            match (*b.get(i)?, top) {
                (b',', b'[') => {
                    i += 1;
                    break;
                }
                (b',', _) => {
                    i = object_key(b, skip_ws(b, i + 1))?;
                    break;
                }
                (b']', b'[') | (b'}', b'{') => {
                    stack.pop();
                    i += 1;
                }
                _ => return None,
            }
        }
    }
}

/// `"key" :` at `i`; returns the offset after the colon.
fn object_key(b: &[u8], i: usize) -> Option<usize> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let i = skip_ws(b, json_string(b, i)?.1);
    (b.get(i) == Some(&b':')).then_some(i + 1)
}

fn literal(b: &[u8], i: usize, lit: &[u8]) -> Option<usize> {
    (b.get(i..i + lit.len()) == Some(lit)).then_some(i + lit.len())
}

/// Removes quotes and processes escapes like BuildKit's shell lexer (no variable expansion).
/// With `raw_quotes` the quote characters are kept. The flag is `false` on an unterminated quote.
pub(crate) fn unquote(s: &str, escape: char, raw_quotes: bool) -> (String, bool) {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c == escape {
            if let Some(n) = it.next() {
                out.push(n);
            }
        } else if c == '\'' {
            if raw_quotes {
                out.push(c);
            }
            loop {
                match it.next() {
                    Some('\'') => break,
                    Some(n) => out.push(n),
                    None => return (out, false),
                }
            }
            if raw_quotes {
                out.push(c);
            }
        } else if c == '"' {
            if raw_quotes {
                out.push(c);
            }
            loop {
                match it.next() {
                    Some('"') => break,
                    Some(n) if n == escape => match it.peek() {
                        None => {}
                        Some(&p) if p == '"' || p == '$' || p == escape => {
                            out.push(p);
                            it.next();
                        }
                        Some(_) => out.push(n),
                    },
                    Some(n) => out.push(n),
                    None => return (out, false),
                }
            }
            if raw_quotes {
                out.push(c);
            }
        } else {
            out.push(c);
        }
    }
    (out, true)
}

/// A heredoc marker found in an instruction line (text offsets).
#[derive(Debug)]
struct Marker {
    /// Offset of `<<`.
    start: usize,
    /// End of the marker word.
    end: usize,
    /// Start of the delimiter word (after `<<` / `<<-`).
    name_start: usize,
    name: String,
    chomp: bool,
    expand: bool,
}

/// `heredocsFromLine`: shell words of the line that look like `[n]<<[-]WORD`.
fn heredoc_markers(line: &str) -> Vec<Marker> {
    let mut out = Vec::new();
    for (a, b) in shell_words(line) {
        let w = line.get(a..b).unwrap_or("");
        let digits = w.len() - w.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let Some(after) = w.get(digits..).and_then(|r| r.strip_prefix("<<")) else {
            continue;
        };
        let (chomp, rest) = match after.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, after),
        };
        if rest.is_empty() || rest.contains('<') {
            continue;
        }
        let (name, _) = unquote(rest, '\\', false);
        let (raw, _) = unquote(rest, '\\', true);
        if name.is_empty() {
            continue;
        }
        let quotes = |s: &str| s.chars().filter(|&c| c == '\'' || c == '"').count();
        out.push(Marker {
            start: a + digits,
            end: b,
            name_start: b - rest.len(),
            expand: quotes(&name) == quotes(&raw),
            name,
            chomp,
        });
    }
    out
}

/// Shell-style raw word boundaries (quotes and backslash escapes keep whitespace inside a word).
fn shell_words(s: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut quote: Option<char> = None;
    let mut it = s.char_indices();
    while let Some((i, c)) = it.next() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            } else if c == '\\' && q == '"' {
                it.next();
            }
            continue;
        }
        if is_space(c) {
            if let Some(st) = start.take() {
                out.push((st, i));
            }
            continue;
        }
        if start.is_none() {
            start = Some(i);
        }
        if c == '\'' || c == '"' {
            quote = Some(c);
        } else if c == '\\' {
            it.next();
        }
    }
    if let Some(st) = start {
        out.push((st, s.len()));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Argument checks (`instructions/parse.go`).

#[derive(Clone, Copy, PartialEq)]
enum FlagKind {
    Str,
    Bool,
    Multi,
}

fn allowed_flags(kind: Keyword) -> Option<&'static [(&'static str, FlagKind)]> {
    use FlagKind::{Bool, Multi, Str};
    Some(match kind {
        Keyword::Add => &[
            ("chown", Str),
            ("chmod", Str),
            ("link", Bool),
            ("keep-git-dir", Bool),
            ("checksum", Str),
            ("exclude", Multi),
            ("unpack", Bool),
        ],
        Keyword::Copy => &[
            ("chown", Str),
            ("from", Str),
            ("chmod", Str),
            ("link", Bool),
            ("parents", Bool),
            ("exclude", Multi),
        ],
        Keyword::From => &[("platform", Str)],
        Keyword::Run => &[
            ("mount", Multi),
            ("network", Str),
            ("security", Str),
            ("device", Multi),
        ],
        Keyword::Healthcheck => &[
            ("interval", Str),
            ("timeout", Str),
            ("start-period", Str),
            ("start-interval", Str),
            ("retries", Str),
        ],
        // BuildKit never validates these flags.
        Keyword::StopSignal | Keyword::Unknown => return None,
        _ => &[],
    })
}

fn check_flags(ins: &Instruction, errors: &mut Vec<ParseError>) {
    if ins.kind == Keyword::Healthcheck
        && ins
            .words()
            .first()
            .is_some_and(|w| w.value.eq_ignore_ascii_case("none"))
    {
        return;
    }
    let Some(allowed) = allowed_flags(ins.kind) else {
        return;
    };
    let kw = ins.keyword.value.to_ascii_uppercase();
    let mut seen: Vec<&str> = Vec::new();
    for f in &ins.flags {
        let name = f.name.value.as_str();
        let Some(&(_, fk)) = allowed.iter().find(|(n, _)| *n == name) else {
            let help = if allowed.is_empty() {
                format!("`{kw}` takes no flags")
            } else {
                let names: Vec<String> = allowed.iter().map(|(n, _)| format!("`--{n}`")).collect();
                format!("`{kw}` accepts {}", names.join(", "))
            };
            errors.push(err(
                format!("unknown flag `--{name}` for `{kw}`"),
                f.span,
                Some(&help),
            ));
            continue;
        };
        if fk != FlagKind::Multi && seen.contains(&name) {
            errors.push(err(
                format!("duplicate flag `--{name}`"),
                f.span,
                Some("give the flag only once"),
            ));
        }
        seen.push(name);
        match (&f.value, fk) {
            (None, FlagKind::Str | FlagKind::Multi) => errors.push(err(
                format!("flag `--{name}` needs a value"),
                f.span,
                Some(&format!("write `--{name}=<value>`")),
            )),
            (Some(v), FlagKind::Bool) => {
                let u = f.unquoted_value().unwrap_or_default();
                if !u.eq_ignore_ascii_case("true") && !u.eq_ignore_ascii_case("false") {
                    errors.push(err(
                        format!(
                            "flag `--{name}` expects `true` or `false`, not `{}`",
                            v.value
                        ),
                        v.span,
                        None,
                    ));
                }
            }
            _ => {}
        }
    }
}

fn check(ins: &Instruction, errors: &mut Vec<ParseError>) {
    check_flags(ins, errors);
    let kw = ins.keyword.value.to_ascii_uppercase();
    let words = ins.words();
    let text_empty = ins.args.text().is_none_or(|t| t.value.is_empty());
    let at_kw = ins.keyword.span;
    let mut push = |m: String, span: Span, help: Option<&str>| errors.push(err(m, span, help));
    match ins.kind {
        Keyword::Unknown => {
            let help = suggest(&ins.keyword.value).map(|s| format!("did you mean `{s}`?"));
            push(
                format!("unknown instruction `{}`", ins.keyword.value),
                at_kw,
                help.as_deref()
                    .or(Some("see https://docs.docker.com/reference/dockerfile/")),
            );
        }
        Keyword::From => match words.len() {
            0 => push(
                "`FROM` requires a base image".into(),
                at_kw,
                Some("write `FROM <image>[:<tag>] [AS <name>]`"),
            ),
            1 => {}
            3 if words
                .get(1)
                .is_some_and(|w| w.value.eq_ignore_ascii_case("as")) =>
            {
                if let Some(n) = words.get(2) {
                    let lower = n.value.to_ascii_lowercase();
                    if !valid_stage_name(&lower) {
                        push(
                            format!("invalid name for build stage `{}`", n.value),
                            n.span,
                            Some(
                                "a stage name starts with a letter and has only letters, digits, `-`, `_` and `.`",
                            ),
                        );
                    }
                }
            }
            _ => {
                let span = words.get(1).map_or(at_kw, |w| {
                    w.span.cover(words.last().map_or(w.span, |l| l.span))
                });
                push(
                    "`FROM` requires either one or three arguments".into(),
                    span,
                    Some("write `FROM <image> AS <name>`"),
                );
            }
        },
        Keyword::Env | Keyword::Label | Keyword::Arg => {
            if ins.args.pairs().is_empty() {
                push(
                    format!("`{kw}` requires at least one argument"),
                    at_kw,
                    None,
                );
            }
            for p in ins.args.pairs() {
                if p.key.value.is_empty() {
                    push(
                        format!("`{kw}` names can not be blank"),
                        p.span,
                        Some("write `name=value`"),
                    );
                }
            }
        }
        Keyword::Maintainer | Keyword::Workdir | Keyword::User | Keyword::StopSignal
            if text_empty =>
        {
            push(format!("`{kw}` requires exactly one argument"), at_kw, None);
        }
        Keyword::Add | Keyword::Copy => {
            if words.len() < 2 {
                push(
                    format!("`{kw}` requires at least two arguments: a source and a destination"),
                    ins.span,
                    Some(&format!("write `{kw} <src>... <dest>`")),
                );
            } else if let Some(dest) = words.last()
                && !ins.args.is_exec()
                && !heredoc_markers(&dest.value).is_empty()
            {
                push(
                    format!("`{kw}` cannot accept a heredoc as a destination"),
                    dest.span,
                    None,
                );
            }
        }
        Keyword::Onbuild => match &ins.onbuild {
            None => push(
                "`ONBUILD` requires at least one argument".into(),
                at_kw,
                None,
            ),
            Some(t) => match t.kind {
                Keyword::Onbuild => push(
                    "chaining `ONBUILD` via `ONBUILD ONBUILD` isn't allowed".into(),
                    t.keyword.span,
                    None,
                ),
                Keyword::From | Keyword::Maintainer => push(
                    format!(
                        "`{}` isn't allowed as an `ONBUILD` trigger",
                        t.keyword.value.to_ascii_uppercase()
                    ),
                    t.keyword.span,
                    None,
                ),
                _ => {}
            },
        },
        Keyword::Healthcheck => {
            let typ = words.first().map(|w| w.value.to_ascii_uppercase());
            match typ.as_deref() {
                None => push(
                    "`HEALTHCHECK` requires at least one argument".into(),
                    at_kw,
                    Some("write `HEALTHCHECK CMD <command>` or `HEALTHCHECK NONE`"),
                ),
                Some("NONE") if words.len() > 1 => {
                    push(
                        "`HEALTHCHECK NONE` takes no arguments".into(),
                        ins.args.span(),
                        None,
                    );
                }
                Some("NONE") => {}
                Some("CMD") => {
                    if words.len() < 2 {
                        push(
                            "missing command after `HEALTHCHECK CMD`".into(),
                            ins.args.span(),
                            None,
                        );
                    }
                }
                Some(_) => {
                    let w = words.first().map_or(at_kw, |w| w.span);
                    push(
                        format!(
                            "unknown type `{}` in `HEALTHCHECK`",
                            words.first().map_or("", |w| w.value.as_str())
                        ),
                        w,
                        Some("use `HEALTHCHECK CMD <command>` or `HEALTHCHECK NONE`"),
                    );
                }
            }
        }
        Keyword::Expose if words.is_empty() => {
            push(
                "`EXPOSE` requires at least one argument".into(),
                at_kw,
                None,
            );
        }
        Keyword::Volume => {
            if words.is_empty() && text_empty {
                push(
                    "`VOLUME` requires at least one argument".into(),
                    at_kw,
                    None,
                );
            }
            for w in words {
                if w.value.trim().is_empty() {
                    push(
                        "`VOLUME` specified can not be an empty string".into(),
                        w.span,
                        None,
                    );
                }
            }
        }
        Keyword::Shell => {
            if !ins.args.is_exec() {
                push(
                    "`SHELL` requires the arguments to be in JSON form".into(),
                    if text_empty { at_kw } else { ins.args.span() },
                    Some("write `SHELL [\"executable\", \"parameters\"]`"),
                );
            } else if words.is_empty() {
                push(
                    "`SHELL` requires at least one argument".into(),
                    ins.args.span(),
                    None,
                );
            }
        }
        Keyword::Run if text_empty && !ins.args.is_exec() && ins.heredocs.is_empty() => {
            push(
                "`RUN` requires a command".into(),
                at_kw,
                Some("write `RUN <command>`"),
            );
        }
        _ => {}
    }
}

/// `^[a-z][a-z0-9-_.]*$`.
fn valid_stage_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
}

const KEYWORDS: [&str; 18] = [
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// The closest instruction name within edit distance 2.
fn suggest(word: &str) -> Option<&'static str> {
    let w = word.to_ascii_uppercase();
    if w.len() > 32 {
        return None;
    }
    KEYWORDS
        .iter()
        .map(|k| (levenshtein(&w, k), *k))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != *cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            cur.push(sub.min(del).min(ins));
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(src: &str) -> Dockerfile {
        parse(src)
    }

    fn slice(src: &str, span: Span) -> &str {
        &src[span.range()]
    }

    #[test]
    fn spans_through_continuations() {
        let src =
            "FROM a\nRUN --mount=type=cache,target=/x \\\n  # note\n  apt-get \\\n    install";
        let df = p(src);
        assert!(df.errors.is_empty(), "{:?}", df.errors);
        let run = &df.instructions[1];
        assert_eq!(slice(src, run.keyword.span), "RUN");
        let f = &run.flags[0];
        assert_eq!(slice(src, f.span), "--mount=type=cache,target=/x");
        assert_eq!(slice(src, f.name.span), "mount");
        assert_eq!(
            slice(src, f.value.as_ref().unwrap().span),
            "type=cache,target=/x"
        );
        let words: Vec<_> = run.words().iter().map(|w| slice(src, w.span)).collect();
        assert_eq!(words, vec!["apt-get", "install"]);
        let text = run.args.text().unwrap();
        assert_eq!(text.value, "apt-get     install");
        assert_eq!(slice(src, text.span), "apt-get \\\n    install");
        assert_eq!(slice(src, text.source_span(4, 9)), "get \\\n ");
        assert_eq!(run.span.end as usize, src.len());
    }

    #[test]
    fn text_source_span_inside_and_across_pieces() {
        let src = "RUN ab\\\ncd";
        let df = p(src);
        let t = df.instructions[0].args.text().unwrap();
        assert_eq!(t.value, "abcd");
        assert_eq!(t.pieces, vec![(0, 4), (2, 8)]);
        assert_eq!(t.source_span(1, 3), Span::new(5, 9));
        assert_eq!(t.source_span(2, 2), Span::new(8, 8));
    }

    #[test]
    fn escape_directive_backtick() {
        let src = "# escape=`\nFROM a\nRUN dir c:\\ `\n  && echo";
        let df = p(src);
        assert_eq!(df.escape, '`');
        assert_eq!(
            df.instructions[1].args.text().unwrap().value,
            "dir c:\\   && echo"
        );
    }

    #[test]
    fn env_forms() {
        let src = "FROM a\nENV A=1 B=\"x y\" C=a\\ b\nENV D hello world";
        let df = p(src);
        let pairs = df.instructions[1].args.pairs();
        let vals: Vec<_> = pairs
            .iter()
            .map(|p| (p.key.value.as_str(), p.value.as_deref()))
            .collect();
        assert_eq!(
            vals,
            vec![("A", Some("1")), ("B", Some("x y")), ("C", Some("a b"))]
        );
        assert_eq!(
            slice(src, pairs[1].raw_value.as_ref().unwrap().span),
            "\"x y\""
        );
        let legacy = &df.instructions[2].args.pairs()[0];
        assert_eq!(legacy.value.as_deref(), Some("hello world"));
        assert_eq!(slice(src, legacy.span), "D hello world");
    }

    #[test]
    fn errors_recover() {
        let src = "FROM a\nENV PATH\nFROBNICATE x\nRUN echo ok\nCMD [1]\nUSER me";
        let df = p(src);
        let msgs: Vec<_> = df.errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(
            msgs,
            vec![
                "`ENV PATH` has no value",
                "unknown instruction `FROBNICATE`",
                "when using JSON array syntax, arrays must be comprised of strings only"
            ]
        );
        let kinds: Vec<_> = df.instructions.iter().map(|i| i.kind).collect();
        assert_eq!(
            kinds,
            vec![Keyword::From, Keyword::Unknown, Keyword::Run, Keyword::User]
        );
    }

    #[test]
    fn json_edge_cases() {
        let df = p(
            "FROM a\nCMD [\"a\\u00e9\\ud83d\\ude00\"] trailing\nCMD [\"a\",]\nCMD [01]\nCMD [{\"a\":[1,2]}]",
        );
        assert_eq!(df.instructions[1].words()[0].value, "aé😀");
        assert!(df.instructions[1].args.is_exec());
        assert!(!df.instructions[2].args.is_exec());
        assert!(!df.instructions[3].args.is_exec());
        assert_eq!(df.instructions.len(), 4);
        assert_eq!(df.errors.len(), 1);
    }

    #[test]
    fn deep_json_does_not_overflow() {
        let src = format!("FROM a\nCMD [{}]", "[".repeat(200_000));
        let df = p(&src);
        assert!(!df.instructions[1].args.is_exec());
    }

    #[test]
    fn heredocs() {
        let src = "FROM a\nRUN <<EOF bash && cat <<-'X'\necho $A\nEOF\n\tliteral\n\tX\nCOPY <<\"F\" /f\nbody\nF\n";
        let df = p(src);
        assert!(df.errors.is_empty(), "{:?}", df.errors);
        let run = &df.instructions[1];
        assert_eq!(run.heredocs.len(), 2);
        assert_eq!(run.heredocs[0].name.value, "EOF");
        assert!(run.heredocs[0].expand);
        assert_eq!(run.heredocs[0].body.value, "echo $A\n");
        assert_eq!(run.heredocs[1].name.value, "X");
        assert!(!run.heredocs[1].expand && run.heredocs[1].chomp);
        assert_eq!(run.heredocs[1].body.value, "literal\n");
        assert_eq!(
            slice(src, run.heredocs[1].span),
            "<<-'X'\necho $A\nEOF\n\tliteral\n\tX"
        );
        assert!(slice(src, run.span).ends_with("\tX"));
        let copy = &df.instructions[2];
        assert_eq!(copy.heredocs[0].name.value, "F");
        assert!(!copy.heredocs[0].expand);
        assert_eq!(slice(src, copy.heredocs[0].name.span), "\"F\"");
    }

    #[test]
    fn unterminated_heredoc_is_an_error() {
        let df = p("FROM a\nRUN <<EOF\necho\n");
        assert_eq!(df.errors[0].message, "unterminated heredoc `EOF`");
        assert_eq!(df.instructions.len(), 1);
    }

    #[test]
    fn onbuild_trigger() {
        let df = p("FROM a\nONBUILD RUN [\"x\"]\nONBUILD ONBUILD RUN y");
        let t = df.instructions[1].onbuild.as_ref().unwrap();
        assert_eq!(t.kind, Keyword::Run);
        assert!(t.args.is_exec());
        assert_eq!(df.errors.len(), 1);
    }

    #[test]
    fn stages_and_names() {
        let df = p(
            "ARG V=1\nFROM --platform=$P golang:$V AS Build\nRUN x\nFROM scratch\nCOPY --from=build /a /b",
        );
        assert_eq!(df.stages.len(), 2);
        assert_eq!(df.stages[0].name.as_ref().unwrap().value, "build");
        assert_eq!(df.stages[0].platform.as_ref().unwrap().value, "$P");
        assert_eq!(df.stages[0].instructions, 1..3);
        assert_eq!(df.stages[1].instructions, 3..5);
        assert_eq!(df.global_args().len(), 1);
        assert!(df.errors.is_empty());
    }

    #[test]
    fn before_first_from() {
        let df = p("RUN x\nFROM a");
        assert_eq!(df.errors.len(), 1);
        assert!(df.errors[0].message.starts_with("no build stage"));
    }

    #[test]
    fn huge_file_parses_every_instruction() {
        // Linear time is measured by scripts/bench-hostile.sh, not asserted here.
        let mut src = String::from("FROM a\n");
        for i in 0..20_000 {
            src.push_str(&format!("RUN echo {i} && \\\n  ls # c\nENV K{i}=v\n"));
        }
        let df = p(&src);
        assert_eq!(df.instructions.len(), 40_001);
    }

    #[test]
    fn garbage_does_not_panic() {
        for s in [
            "",
            "\\",
            "`",
            "#",
            "\u{feff}",
            "RUN <<",
            "RUN <<\"",
            "RUN [\"\\u",
            "FROM a AS",
            "ENV =",
            "ARG =x",
            "ONBUILD",
            "HEALTHCHECK",
            "COPY --",
            "COPY --x=\"",
            "RUN \\\n",
            "é\\\né",
            "RUN \"\\",
            "LABEL a=\"",
            "# escape=`\nRUN `",
            "RUN --mount= \\",
            "CMD [\"\u{1}\"]",
            "ENV a b\\",
        ] {
            let _ = p(s);
        }
    }
}
