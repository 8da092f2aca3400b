//! Logical lines → instructions, following BuildKit's `parser.go`, `line_parsers.go` and
//! `split_command.go`, plus the argument checks of `instructions/parse.go` (reported as errors,
//! the instruction is kept).
//!
//! Errors that make BuildKit's parser reject the file (an `ENV` without value, a JSON array with
//! non-string items, an unterminated heredoc) drop the instruction; the other errors keep it.

use super::checks::{check, valid_stage_name};
use super::json::{self, JsonErr};
use super::lexer::{Lexer, LogicalLine, is_space};
use super::model::{
    Arguments, Dockerfile, Flag, Heredoc, Instruction, KeyValue, Keyword, ParseError, Stage, Text,
    Words,
};
use crate::source::{Span, Spanned};

/// `[\t\v\f\r ]`, BuildKit's `reWhitespace`.
fn is_ws(c: char) -> bool {
    matches!(c, '\t' | '\u{0b}' | '\u{0c}' | '\r' | ' ')
}

fn off(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

pub(super) fn err(message: impl Into<String>, span: Span, help: Option<&str>) -> ParseError {
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
        let broken = attach_heredocs(&mut lx, &line, &mut built.instr, &mut errors);
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

/// Reads the heredoc bodies that the markers of `line` open (RUN/COPY/ADD, also as ONBUILD
/// triggers, never in JSON form) and attaches them to `instr`. `true` when one is unterminated
/// (BuildKit rejects the file: the instruction is dropped).
fn attach_heredocs(
    lx: &mut Lexer<'_>,
    line: &LogicalLine,
    instr: &mut Instruction,
    errors: &mut Vec<ParseError>,
) -> bool {
    let heredoc_target = match &instr.onbuild {
        Some(t) if instr.kind == Keyword::Onbuild => (t.kind, t.args.is_exec()),
        _ => (instr.kind, instr.args.is_exec()),
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
            instr.span.end = instr.span.end.max(end);
            instr.heredocs.push(Heredoc {
                name: Spanned::new(m.name, name_span),
                expand: m.expand,
                chomp: m.chomp,
                body: body.body,
                span: Span::new(marker.start, end.max(marker.start)),
            });
        }
        if let Some(t) = instr.onbuild.as_mut() {
            t.heredocs = instr.heredocs.clone();
            t.span.end = instr.span.end;
        }
    }
    broken
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
            // set below from `text` (the keyword is borrowed meanwhile)
            args: Arguments::Text {
                text: Text::contiguous(String::new(), 0),
                words: Words::default(),
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
                words: Words::new(self.ws_split(aa, ab)),
                pairs: Vec::new(),
            },
            Keyword::Env | Keyword::Label => {
                let ranges = self.word_ranges(aa, ab);
                let pairs = self.name_val(aa, ab, &ranges, &instr.keyword, &mut errors)?;
                let words = Words::new(ranges.iter().map(|&(x, y)| self.spanned(x, y)).collect());
                Arguments::Text { text, words, pairs }
            }
            Keyword::Arg => {
                let ranges = self.word_ranges(aa, ab);
                let pairs = ranges
                    .iter()
                    .map(|&r| self.arg_pair(r, &mut errors))
                    .collect();
                let words = Words::new(ranges.iter().map(|&(x, y)| self.spanned(x, y)).collect());
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
                    words: Words::new(self.parse_words(aa, ab)),
                    pairs: Vec::new(),
                }
            }
            _ => Arguments::Text {
                text,
                words: Words::new(self.parse_words(aa, ab)),
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
        let mut pairs = Vec::with_capacity(words.len());
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
        // `text` is the part `a..b`: its words are split from it when first asked for.
        let words = if list {
            Words::new(self.ws_split(a, b))
        } else {
            Words::later(self.escape)
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
            words: Words::new(words),
            pairs: Vec::new(),
        })
    }

    /// Decodes a JSON array of strings starting at `a` (see [`json::string_array`]).
    fn json(&self, a: usize) -> Result<(Vec<Spanned<String>>, Span), JsonErr> {
        let (items, end) = json::string_array(self.text.value.as_bytes(), a)?;
        let items = items
            .into_iter()
            .map(|(v, s, e)| Spanned::new(v, self.span(s, e)))
            .collect();
        Ok((items, self.span(a, end)))
    }
}

/// The `parseWords` words of an argument text (see [`super::model::Words::later`]): the same
/// words, and spans, as splitting the line it was cut from.
pub(super) fn text_words(text: &Text, escape: char) -> Vec<Spanned<String>> {
    Cx { text, escape }.parse_words(0, text.value.len())
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
pub(super) struct Marker {
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
pub(super) fn heredoc_markers(line: &str) -> Vec<Marker> {
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
