//! A POSIX-ish shell tokenizer for `RUN` commands.
//!
//! [`parse`] splits shell text into pipelines of simple commands. Words have their quotes and
//! escapes resolved and keep the byte range they were read from in the input, and a per-byte map
//! back to it, so that a string re-tokenized later (`sh -c '...'`) still maps to the input. `$( )`,
//! backticks and `<( )` are parsed recursively. The tokenizer never fails: unbalanced input is
//! closed at the end of the text. It runs in linear time in the input (plus re-tokenizing of
//! `sh -c` strings, which helpers do on demand).

use std::sync::OnceLock;

/// Nesting limit for groups and substitutions; deeper text is skipped, not parsed.
const MAX_DEPTH: u32 = 48;

/// A word of a simple command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The word with quotes and escapes removed. Parameter expansions (`$VAR`, `${..}`) and
    /// substitutions (`$(..)`) are kept as written.
    pub value: String,
    /// Byte range in the input.
    pub start: u32,
    pub end: u32,
    /// Input offset of each byte of `value`.
    offsets: Vec<u32>,
    /// Some part of the word was quoted or escaped.
    pub quoted: bool,
    /// `$(..)`, backticks and `<(..)`/`>(..)` inside the word, parsed.
    pub substitutions: Vec<Substitution>,
}

impl Word {
    /// The input offset of byte `i` of the value (clamped).
    pub fn offset_of(&self, i: usize) -> u32 {
        match self.offsets.get(i) {
            Some(&o) => o,
            None => self
                .offsets
                .last()
                .map_or(self.start, |&o| o.saturating_add(1)),
        }
    }

    /// The input range of the value bytes `start..end`.
    pub fn value_range(&self, start: usize, end: usize) -> (u32, u32) {
        if end <= start {
            let o = self.offset_of(start);
            return (o, o);
        }
        let s = self.offset_of(start);
        let e = self.offset_of(end - 1).saturating_add(1);
        (s, e.max(s))
    }

    /// The word is exactly one substitution (`$(..)`, `` `..` ``, `<(..)`).
    pub fn is_substitution(&self) -> bool {
        self.substitutions.len() == 1
            && self
                .substitutions
                .first()
                .is_some_and(|s| s.start == self.start && s.end == self.end)
    }

    /// A word whose value maps one-to-one onto an input range (used for exec-form items).
    pub fn literal(value: String, start: u32, end: u32) -> Word {
        let inner_start = start.saturating_add(1);
        let last = end.saturating_sub(2).max(inner_start);
        let offsets = (0..value.len())
            .map(|i| {
                inner_start
                    .saturating_add(u32::try_from(i).unwrap_or(u32::MAX))
                    .min(last)
            })
            .collect();
        Word {
            value,
            start,
            end,
            offsets,
            quoted: true,
            substitutions: Vec::new(),
        }
    }

    /// Tokenizes this word's value as a shell script (for `sh -c '<script>'`); ranges map to the
    /// input the word came from.
    pub fn parse_as_script(&self) -> Script {
        let mut script = parse(&self.value);
        script.remap(&|o| self.offset_of(o as usize), self.end);
        script
    }
}

/// What kind of substitution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubstitutionKind {
    /// `$( .. )`
    Command,
    /// `` ` .. ` ``
    Backtick,
    /// `<( .. )`
    ProcessIn,
    /// `>( .. )`
    ProcessOut,
}

/// A parsed substitution inside a word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Substitution {
    pub kind: SubstitutionKind,
    pub script: Script,
    pub start: u32,
    pub end: u32,
}

/// A redirection: `>`, `>>`, `2>&1`, `<`, `<<EOF`, `&>`, ...
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    /// The operator without the fd number (`>`, `>&`, `<<`, `<<-`, ...).
    pub op: String,
    /// The explicit fd number before the operator, if any.
    pub fd: Option<u32>,
    /// The target word (file, fd, heredoc delimiter with quotes removed).
    pub target: Option<Word>,
    pub start: u32,
    pub end: u32,
}

/// A simple command: assignments, words and redirections.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Command {
    /// Leading `NAME=value` words.
    pub assignments: Vec<Word>,
    /// The argv words (the program first).
    pub words: Vec<Word>,
    pub redirects: Vec<Redirect>,
    pub start: u32,
    pub end: u32,
    /// What the queries below compute from the words, computed once however many rules ask.
    derived: Derived,
}

/// The program index and inline scripts of a [`Command`], computed on first use. The words are
/// not changed after parsing (remapping moves ranges only), so the values stay valid; a clone
/// keeps them, and they take no part in comparisons or debug output.
#[derive(Clone, Default)]
struct Derived {
    program_index: OnceLock<Option<usize>>,
    inline_scripts: OnceLock<Vec<Script>>,
}

impl PartialEq for Derived {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Derived {}

impl std::fmt::Debug for Derived {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("..")
    }
}

/// One element of a pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Element {
    Simple(Command),
    /// `( .. )` (subshell) or `{ ..; }` (group).
    Group {
        script: Script,
        subshell: bool,
        redirects: Vec<Redirect>,
        start: u32,
        end: u32,
    },
}

impl Element {
    pub fn range(&self) -> (u32, u32) {
        match self {
            Element::Simple(c) => (c.start, c.end),
            Element::Group { start, end, .. } => (*start, *end),
        }
    }
}

/// What follows a pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Separator {
    /// `&&`
    And,
    /// `||`
    Or,
    /// `;`, `;;` or a newline
    Seq,
    /// `&`
    Background,
}

/// Commands joined by `|` (or `|&`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pipeline {
    pub elements: Vec<Element>,
    /// `! cmd`
    pub negated: bool,
    pub separator: Option<Separator>,
    pub start: u32,
    pub end: u32,
}

/// A parsed script: pipelines in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Script {
    pub pipelines: Vec<Pipeline>,
}

/// Parses shell text. Never fails.
pub fn parse(input: &str) -> Script {
    let mut p = Parser {
        src: input.as_bytes(),
        pos: 0,
        depth: 0,
        pending_heredocs: Vec::new(),
    };
    p.script(Term::Eof)
}

/// Builds a script of one command from exec-form items: `(value, start, end)` where the range
/// covers the item as written (with its JSON quotes).
pub fn from_argv(items: impl IntoIterator<Item = (String, u32, u32)>) -> Script {
    let words: Vec<Word> = items
        .into_iter()
        .map(|(value, start, end)| Word::literal(value, start, end))
        .collect();
    let (Some(start), Some(end)) = (words.first().map(|w| w.start), words.last().map(|w| w.end))
    else {
        return Script::default();
    };
    let cmd = Command {
        assignments: Vec::new(),
        words,
        redirects: Vec::new(),
        start,
        end,
        derived: Derived::default(),
    };
    Script {
        pipelines: vec![Pipeline {
            elements: vec![Element::Simple(cmd)],
            negated: false,
            separator: None,
            start,
            end,
        }],
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Term {
    Eof,
    /// `)` of a subshell, `$( )` or `<( )`.
    Paren,
    /// `}` of a group, as a word at command start.
    Brace,
    /// The end of a `case` item: `;;`, `;&`, `;;&` or `esac`.
    Case,
    /// One of these reserved words at command position (`then`, `fi`, `do`, `done`, ...).
    Words(&'static [&'static str]),
}

struct Parser<'s> {
    src: &'s [u8],
    pos: usize,
    depth: u32,
    /// `(delimiter, strip_tabs)` of heredocs whose bodies start after the next newline.
    pending_heredocs: Vec<(String, bool)>,
}

fn u(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn is_meta(b: u8) -> bool {
    matches!(
        b,
        b' ' | b'\t' | b'\r' | b'\n' | b'|' | b'&' | b';' | b'<' | b'>' | b'(' | b')'
    )
}

/// Reserved words skipped where a command starts when no compound command claims them (an
/// unbalanced fragment); `if`, `while`, `until`, `for`, `select` and `case` start compounds.
const KEYWORDS_START: &[&str] = &["then", "else", "elif", "do", "!"];
const KEYWORDS_END: &[&str] = &["fi", "done", "esac"];

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn peek_at(&self, n: usize) -> Option<u8> {
        self.src.get(self.pos + n).copied()
    }

    fn starts_with(&self, s: &[u8]) -> bool {
        self.src.get(self.pos..).is_some_and(|r| r.starts_with(s))
    }

    fn skip_blanks(&mut self) {
        while let Some(b) = self.peek() {
            match b {
                b' ' | b'\t' | b'\r' => self.pos += 1,
                b'\\' if self.peek_at(1) == Some(b'\n') => self.pos += 2,
                b'#' => self.skip_comment(),
                _ => break,
            }
        }
    }

    fn skip_comment(&mut self) {
        while let Some(b) = self.peek() {
            if b == b'\n' {
                break;
            }
            self.pos += 1;
        }
    }

    /// After a newline: skips the bodies of heredocs opened on the previous line.
    fn skip_heredoc_bodies(&mut self) {
        let pending = std::mem::take(&mut self.pending_heredocs);
        for (delim, strip) in pending {
            while self.pos < self.src.len() {
                let line_end = self
                    .src
                    .get(self.pos..)
                    .and_then(|r| r.iter().position(|&b| b == b'\n'))
                    .map_or(self.src.len(), |i| self.pos + i);
                let line = self.src.get(self.pos..line_end).unwrap_or(&[]);
                let line = if strip {
                    let n = line.iter().take_while(|&&b| b == b'\t').count();
                    line.get(n..).unwrap_or(&[])
                } else {
                    line
                };
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                self.pos = (line_end + 1).min(self.src.len());
                if line == delim.as_bytes() {
                    break;
                }
            }
        }
    }

    fn script(&mut self, term: Term) -> Script {
        let mut pipelines = Vec::new();
        loop {
            self.skip_blanks();
            if term == Term::Case
                && (self.starts_with(b";;") || self.starts_with(b";&") || self.at_word(b"esac"))
            {
                break;
            }
            if let Term::Words(words) = term
                && words.iter().any(|w| self.at_word(w.as_bytes()))
            {
                break;
            }
            let Some(b) = self.peek() else { break };
            match b {
                b'\n' => {
                    self.pos += 1;
                    self.skip_heredoc_bodies();
                    continue;
                }
                b';' | b'&' | b'|' => {
                    // Stray separators (`;;` in case, a leading `&&` after a keyword).
                    self.pos += 1;
                    continue;
                }
                b')' => {
                    if term == Term::Paren {
                        break;
                    }
                    // `case` pattern terminator or stray paren.
                    self.pos += 1;
                    continue;
                }
                _ => {}
            }
            if term == Term::Brace && self.at_word(b"}") {
                break;
            }

            let before = self.pos;
            match self.pipeline(term) {
                Some(p) => pipelines.push(p),
                None => {
                    if self.pos == before {
                        // Nothing consumed: step over one byte so that we always progress.
                        self.pos += 1;
                    }
                }
            }
        }
        Script { pipelines }
    }

    /// The next token is exactly the reserved word `w` (followed by a metachar or the end).
    fn at_word(&self, w: &[u8]) -> bool {
        self.starts_with(w) && self.src.get(self.pos + w.len()).is_none_or(|&b| is_meta(b))
    }

    fn pipeline(&mut self, term: Term) -> Option<Pipeline> {
        let mut elements = Vec::new();
        let mut negated = false;
        let mut start = None;
        loop {
            self.skip_blanks();
            // Reserved words that start a command are dropped; ones that end a block are skipped.
            let mut skipped = false;
            for kw in KEYWORDS_START.iter().chain(KEYWORDS_END) {
                if self.at_word(kw.as_bytes()) {
                    if *kw == "!" {
                        negated = true;
                    }
                    self.pos += kw.len();
                    skipped = true;
                    break;
                }
            }
            if skipped {
                continue;
            }
            let el = self.element(term)?;
            start.get_or_insert(el.range().0);
            elements.push(el);
            self.skip_blanks();
            if self.peek() == Some(b'|') && self.peek_at(1) != Some(b'|') {
                self.pos += if self.peek_at(1) == Some(b'&') { 2 } else { 1 };
                // A newline may follow `|`.
                self.skip_blanks_and_newlines();
                continue;
            }
            break;
        }
        let end = elements.last().map(|e| e.range().1)?;
        let separator = self.separator();
        Some(Pipeline {
            elements,
            negated,
            separator,
            start: start.unwrap_or(end),
            end,
        })
    }

    fn separator(&mut self) -> Option<Separator> {
        self.skip_blanks();
        if self.starts_with(b"&&") {
            self.pos += 2;
            return Some(Separator::And);
        }
        if self.starts_with(b"||") {
            self.pos += 2;
            return Some(Separator::Or);
        }
        match self.peek() {
            // `;;` / `;&` end a `case` item: left for the `case` parser
            Some(b';') if matches!(self.peek_at(1), Some(b';' | b'&')) => None,
            Some(b';') => {
                self.pos += 1;
                Some(Separator::Seq)
            }
            Some(b'&') => {
                self.pos += 1;
                Some(Separator::Background)
            }
            Some(b'\n') => {
                self.pos += 1;
                self.skip_heredoc_bodies();
                Some(Separator::Seq)
            }
            _ => None,
        }
    }

    fn element(&mut self, term: Term) -> Option<Element> {
        self.skip_blanks();
        let start = self.pos;
        if self.peek() == Some(b'(') {
            self.pos += 1;
            let script = self.nested(Term::Paren);
            if self.peek() == Some(b')') {
                self.pos += 1;
            }
            let redirects = self.trailing_redirects();
            return Some(Element::Group {
                script,
                subshell: true,
                redirects,
                start: u(start),
                end: u(self.pos),
            });
        }
        if self.at_word(b"{") {
            self.pos += 1;
            let script = self.nested(Term::Brace);
            if self.at_word(b"}") {
                self.pos += 1;
            }
            let redirects = self.trailing_redirects();
            return Some(Element::Group {
                script,
                subshell: false,
                redirects,
                start: u(start),
                end: u(self.pos),
            });
        }
        if self.at_word(b"[[") {
            return Some(Element::Simple(self.conditional()));
        }
        if self.depth < MAX_DEPTH {
            if self.at_word(b"case") {
                return Some(self.case_clause(start));
            }
            if self.at_word(b"if") {
                return Some(self.if_clause(start));
            }
            for kw in ["while", "until", "for", "select"] {
                if self.at_word(kw.as_bytes()) {
                    return Some(self.loop_clause(start, kw));
                }
            }
        }
        let cmd = self.simple_command(term);
        if cmd.words.is_empty() && cmd.assignments.is_empty() && cmd.redirects.is_empty() {
            return None;
        }
        Some(Element::Simple(cmd))
    }

    /// `case WORD in [(]PATTERN[|PATTERN]...) LIST ;; ... esac`, as a group holding the
    /// commands of every item (the `|` between patterns is not a pipe, and the `)` after them
    /// does not close an enclosing `$(`).
    fn case_clause(&mut self, start: usize) -> Element {
        self.pos += "case".len();
        self.skip_blanks();
        let _subject = self.word();
        self.skip_blanks_and_newlines();
        if self.at_word(b"in") {
            self.pos += "in".len();
        }
        self.depth += 1;
        let mut pipelines = Vec::new();
        loop {
            self.skip_blanks_and_newlines();
            if self.peek().is_none() {
                break;
            }
            if self.at_word(b"esac") {
                self.pos += "esac".len();
                break;
            }
            // the pattern list, up to its `)`
            if self.peek() == Some(b'(') {
                self.pos += 1;
            }
            loop {
                self.skip_blanks_and_newlines();
                match self.peek() {
                    None => break,
                    Some(b')') => {
                        self.pos += 1;
                        break;
                    }
                    Some(b'|') => self.pos += 1,
                    Some(_) => {
                        let before = self.pos;
                        if self.word().is_none() && self.pos == before {
                            self.pos += 1;
                        }
                    }
                }
            }
            pipelines.extend(self.script(Term::Case).pipelines);
            for end in [&b";;&"[..], b";;", b";&"] {
                if self.starts_with(end) {
                    self.pos += end.len();
                    break;
                }
            }
        }
        self.depth -= 1;
        self.compound(start, pipelines)
    }

    /// `[[ EXPRESSION ]]` as one command whose words include its operators: `(`, `)`, `|`,
    /// `&&`, `<`, ... inside it are parts of the expression (`[[ $a =~ ^(x|y)$ ]]`), not pipes or
    /// subshells.
    fn conditional(&mut self) -> Command {
        let mut cmd = Command {
            start: u(self.pos),
            ..Command::default()
        };
        loop {
            self.skip_blanks_and_newlines();
            let before = self.pos;
            let word = match self.peek() {
                None | Some(b';') => break,
                Some(b'(' | b')' | b'|' | b'&' | b'<' | b'>') => {
                    while matches!(self.peek(), Some(b'(' | b')' | b'|' | b'&' | b'<' | b'>')) {
                        self.pos += 1;
                    }
                    let text = self.src.get(before..self.pos).unwrap_or_default();
                    Word::literal(
                        String::from_utf8_lossy(text).into_owned(),
                        u(before),
                        u(self.pos),
                    )
                }
                Some(_) => match self.word() {
                    Some(w) => w,
                    None => {
                        if self.pos == before {
                            self.pos += 1;
                        }
                        continue;
                    }
                },
            };
            let closed = word.value == "]]";
            cmd.end = word.end;
            cmd.words.push(word);
            if closed {
                break;
            }
        }
        cmd
    }

    /// `if LIST; then LIST; [elif LIST; then LIST;]... [else LIST;] fi` as a group of all its
    /// commands (conditions included: they run too).
    fn if_clause(&mut self, start: usize) -> Element {
        self.pos += "if".len();
        self.depth += 1;
        let mut pipelines = self.script(Term::Words(&["then"])).pipelines;
        loop {
            self.skip_blanks_and_newlines();
            if self.at_word(b"then") {
                self.pos += "then".len();
                pipelines.extend(self.script(Term::Words(&["elif", "else", "fi"])).pipelines);
            } else if self.at_word(b"elif") {
                self.pos += "elif".len();
                pipelines.extend(self.script(Term::Words(&["then"])).pipelines);
            } else if self.at_word(b"else") {
                self.pos += "else".len();
                pipelines.extend(self.script(Term::Words(&["fi"])).pipelines);
            } else {
                if self.at_word(b"fi") {
                    self.pos += "fi".len();
                }
                break;
            }
        }
        self.depth -= 1;
        self.compound(start, pipelines)
    }

    /// `while LIST; do LIST; done`, `until ...`, and `for NAME [in WORDS]; do LIST; done` /
    /// `select ...` (whose header is not a command), as a group of the commands that run.
    fn loop_clause(&mut self, start: usize, keyword: &str) -> Element {
        self.pos += keyword.len();
        self.depth += 1;
        let header = self.script(Term::Words(&["do"])).pipelines;
        let mut pipelines = if matches!(keyword, "for" | "select") {
            // `NAME in a b c` is not a command; substitutions in it still run
            let mut runs = Vec::new();
            for p in &header {
                for el in &p.elements {
                    if let Element::Simple(c) = el {
                        for w in c.words.iter().chain(&c.assignments) {
                            for sub in &w.substitutions {
                                runs.extend(sub.script.pipelines.iter().cloned());
                            }
                        }
                    }
                }
            }
            runs
        } else {
            header
        };
        if self.at_word(b"do") {
            self.pos += "do".len();
            pipelines.extend(self.script(Term::Words(&["done"])).pipelines);
        }
        if self.at_word(b"done") {
            self.pos += "done".len();
        }
        self.depth -= 1;
        self.compound(start, pipelines)
    }

    /// A compound command's group element, with the redirections after it.
    fn compound(&mut self, start: usize, pipelines: Vec<Pipeline>) -> Element {
        let end = self.pos;
        let redirects = self.trailing_redirects();
        Element::Group {
            script: Script { pipelines },
            subshell: false,
            end: u(if redirects.is_empty() { end } else { self.pos }),
            redirects,
            start: u(start),
        }
    }

    fn skip_blanks_and_newlines(&mut self) {
        loop {
            self.skip_blanks();
            if self.peek() == Some(b'\n') {
                self.pos += 1;
                self.skip_heredoc_bodies();
            } else {
                break;
            }
        }
    }

    fn nested(&mut self, term: Term) -> Script {
        if self.depth >= MAX_DEPTH {
            self.skip_balanced(term);
            return Script::default();
        }
        self.depth += 1;
        let s = self.script(term);
        self.depth -= 1;
        s
    }

    /// Skips to the closing `)`/`}` without parsing (depth limit).
    fn skip_balanced(&mut self, term: Term) {
        let (open, close) = match term {
            Term::Paren => (b'(', b')'),
            Term::Brace => (b'{', b'}'),
            Term::Eof | Term::Case | Term::Words(_) => {
                self.pos = self.src.len();
                return;
            }
        };
        let mut level = 0usize;
        while let Some(b) = self.peek() {
            if b == open {
                level += 1;
            } else if b == close {
                if level == 0 {
                    return;
                }
                level -= 1;
            }
            self.pos += 1;
        }
    }

    fn trailing_redirects(&mut self) -> Vec<Redirect> {
        let mut out = Vec::new();
        loop {
            self.skip_blanks();
            match self.redirect() {
                Some(r) => out.push(r),
                None => break,
            }
        }
        out
    }

    /// A redirection at the cursor (with an optional fd number), if any.
    fn redirect(&mut self) -> Option<Redirect> {
        let start = self.pos;
        let digits = self
            .src
            .get(self.pos..)
            .map_or(0, |r| r.iter().take_while(|b| b.is_ascii_digit()).count());
        let op_pos = self.pos + digits;
        let rest = self.src.get(op_pos..).unwrap_or(&[]);
        const OPS: &[&str] = &[
            "&>>", "<<<", "<<-", "<<", ">>", ">&", "<&", ">|", "<>", "&>", ">", "<",
        ];
        let op = OPS.iter().find(|op| rest.starts_with(op.as_bytes()))?;
        // `<(` / `>(` are process substitutions, not redirections.
        if (*op == "<" || *op == ">") && rest.get(1) == Some(&b'(') {
            return None;
        }
        if digits > 0 && op.starts_with('&') {
            return None;
        }
        let fd = if digits > 0 {
            std::str::from_utf8(self.src.get(self.pos..op_pos).unwrap_or(&[]))
                .ok()
                .and_then(|s| s.parse().ok())
        } else {
            None
        };
        self.pos = op_pos + op.len();
        self.skip_blanks();
        let target = self.word();
        if let (Some(t), true) = (&target, op.starts_with("<<") && *op != "<<<") {
            self.pending_heredocs.push((t.value.clone(), *op == "<<-"));
        }
        Some(Redirect {
            op: (*op).to_string(),
            fd,
            end: target.as_ref().map_or(u(self.pos), |t| t.end),
            target,
            start: u(start),
        })
    }

    fn simple_command(&mut self, term: Term) -> Command {
        let mut cmd = Command::default();
        let mut start = None;
        loop {
            self.skip_blanks();
            let Some(b) = self.peek() else { break };
            if matches!(b, b'\n' | b';' | b'|' | b')' | b'(') || self.starts_with(b"&&") {
                break;
            }
            if b == b'&' && !self.starts_with(b"&>") {
                break;
            }
            if term == Term::Brace
                && cmd.words.is_empty()
                && cmd.assignments.is_empty()
                && self.at_word(b"}")
            {
                break;
            }
            if let Some(r) = self.redirect() {
                start.get_or_insert(r.start);
                cmd.end = r.end;
                cmd.redirects.push(r);
                continue;
            }
            let Some(w) = self.word() else { break };
            start.get_or_insert(w.start);
            cmd.end = w.end;
            if cmd.words.is_empty() && is_assignment(&w) {
                cmd.assignments.push(w);
            } else {
                cmd.words.push(w);
            }
        }
        cmd.start = start.unwrap_or(u(self.pos));
        if start.is_none() {
            cmd.end = cmd.start;
        }
        cmd
    }

    /// One word at the cursor, or `None` at a metachar / the end.
    fn word(&mut self) -> Option<Word> {
        let start = self.pos;
        let mut w = WordBuf::default();
        // Process substitution at word start.
        if matches!(self.peek(), Some(b'<' | b'>')) && self.peek_at(1) == Some(b'(') {
            let kind = if self.peek() == Some(b'<') {
                SubstitutionKind::ProcessIn
            } else {
                SubstitutionKind::ProcessOut
            };
            self.pos += 2;
            let script = self.nested(Term::Paren);
            if self.peek() == Some(b')') {
                self.pos += 1;
            }
            w.push_raw(self.src, start, self.pos);
            w.subs.push(Substitution {
                kind,
                script,
                start: u(start),
                end: u(self.pos),
            });
        }
        while let Some(b) = self.peek() {
            match b {
                _ if is_meta(b) => break,
                b'\\' => match self.peek_at(1) {
                    Some(b'\n') => self.pos += 2,
                    Some(c) => {
                        w.quoted = true;
                        w.push(c, self.pos + 1);
                        self.pos += 2;
                    }
                    None => {
                        w.push(b, self.pos);
                        self.pos += 1;
                    }
                },
                b'\'' => {
                    w.quoted = true;
                    self.pos += 1;
                    while let Some(c) = self.peek() {
                        self.pos += 1;
                        if c == b'\'' {
                            break;
                        }
                        w.push(c, self.pos - 1);
                    }
                }
                b'"' => {
                    w.quoted = true;
                    self.pos += 1;
                    self.double_quoted(&mut w);
                }
                b'$' => self.dollar(&mut w),
                b'`' => self.backtick(&mut w),
                _ => {
                    w.push(b, self.pos);
                    self.pos += 1;
                }
            }
        }
        if self.pos == start {
            return None;
        }
        Some(w.finish(start, self.pos))
    }

    fn double_quoted(&mut self, w: &mut WordBuf) {
        while let Some(c) = self.peek() {
            match c {
                b'"' => {
                    self.pos += 1;
                    return;
                }
                b'\\' => match self.peek_at(1) {
                    Some(b'\n') => self.pos += 2,
                    Some(n @ (b'$' | b'`' | b'"' | b'\\')) => {
                        w.push(n, self.pos + 1);
                        self.pos += 2;
                    }
                    _ => {
                        w.push(c, self.pos);
                        self.pos += 1;
                    }
                },
                b'$' => self.dollar(w),
                b'`' => self.backtick(w),
                _ => {
                    w.push(c, self.pos);
                    self.pos += 1;
                }
            }
        }
    }

    /// `$(..)`, `$((..))`, `${..}`, `$'..'`, `$NAME` or a lone `$`.
    fn dollar(&mut self, w: &mut WordBuf) {
        let start = self.pos;
        match self.peek_at(1) {
            Some(b'(') if self.peek_at(2) == Some(b'(') => {
                // Arithmetic: kept as written.
                self.pos += 3;
                self.skip_balanced(Term::Paren);
                self.pos = (self.pos + 2).min(self.src.len());
                w.push_raw(self.src, start, self.pos);
            }
            Some(b'(') => {
                self.pos += 2;
                let saved = std::mem::take(&mut self.pending_heredocs);
                let script = self.nested(Term::Paren);
                self.pending_heredocs = saved;
                if self.peek() == Some(b')') {
                    self.pos += 1;
                }
                w.push_raw(self.src, start, self.pos);
                w.subs.push(Substitution {
                    kind: SubstitutionKind::Command,
                    script,
                    start: u(start),
                    end: u(self.pos),
                });
            }
            Some(b'{') => {
                self.pos += 2;
                self.skip_balanced(Term::Brace);
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                }
                w.push_raw(self.src, start, self.pos);
            }
            Some(b'\'') => {
                w.quoted = true;
                self.pos += 2;
                self.ansi_c(w);
            }
            Some(c)
                if c.is_ascii_alphanumeric()
                    || matches!(c, b'_' | b'@' | b'*' | b'#' | b'?' | b'$' | b'!' | b'-') =>
            {
                self.pos += 2;
                if c.is_ascii_alphabetic() || c == b'_' {
                    while self
                        .peek()
                        .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
                    {
                        self.pos += 1;
                    }
                }
                w.push_raw(self.src, start, self.pos);
            }
            _ => {
                w.push(b'$', start);
                self.pos += 1;
            }
        }
    }

    /// `$'..'` after the opening quote (best effort for escapes).
    fn ansi_c(&mut self, w: &mut WordBuf) {
        while let Some(c) = self.peek() {
            match c {
                b'\'' => {
                    self.pos += 1;
                    return;
                }
                b'\\' => {
                    let at = self.pos;
                    let out = match self.peek_at(1) {
                        Some(b'n') => b'\n',
                        Some(b't') => b'\t',
                        Some(b'r') => b'\r',
                        Some(b'a') => 0x07,
                        Some(b'e' | b'E') => 0x1b,
                        Some(b'0') => 0,
                        Some(n) => n,
                        None => b'\\',
                    };
                    w.push(out, at);
                    self.pos = (self.pos + 2).min(self.src.len());
                }
                _ => {
                    w.push(c, self.pos);
                    self.pos += 1;
                }
            }
        }
    }

    /// `` `..` ``: the content is parsed as a script of its own.
    fn backtick(&mut self, w: &mut WordBuf) {
        let start = self.pos;
        self.pos += 1;
        let body_start = self.pos;
        while let Some(c) = self.peek() {
            if c == b'\\' {
                self.pos = (self.pos + 2).min(self.src.len());
                continue;
            }
            if c == b'`' {
                break;
            }
            self.pos += 1;
        }
        let body_end = self.pos;
        if self.peek() == Some(b'`') {
            self.pos += 1;
        }
        let script = if self.depth >= MAX_DEPTH {
            Script::default()
        } else {
            let mut sub = Parser {
                src: self.src.get(..body_end).unwrap_or(self.src),
                pos: body_start,
                depth: self.depth + 1,
                pending_heredocs: Vec::new(),
            };
            sub.script(Term::Eof)
        };
        w.push_raw(self.src, start, self.pos);
        w.subs.push(Substitution {
            kind: SubstitutionKind::Backtick,
            script,
            start: u(start),
            end: u(self.pos),
        });
    }
}

#[derive(Default)]
struct WordBuf {
    value: Vec<u8>,
    offsets: Vec<u32>,
    quoted: bool,
    subs: Vec<Substitution>,
}

impl WordBuf {
    fn push(&mut self, b: u8, at: usize) {
        self.value.push(b);
        self.offsets.push(u(at));
    }

    fn push_raw(&mut self, src: &[u8], start: usize, end: usize) {
        for (i, &b) in src.get(start..end).unwrap_or(&[]).iter().enumerate() {
            self.push(b, start + i);
        }
    }

    fn finish(self, start: usize, end: usize) -> Word {
        let value = match String::from_utf8(self.value) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        Word {
            value,
            start: u(start),
            end: u(end),
            offsets: self.offsets,
            quoted: self.quoted,
            substitutions: self.subs,
        }
    }
}

/// `NAME=value` with a valid name and nothing quoted before the `=`.
fn is_assignment(w: &Word) -> bool {
    let Some((name, _)) = w.value.split_once('=') else {
        return false;
    };
    let raw_ok = w.offset_of(name.len()) == w.start.saturating_add(u(name.len()));
    raw_ok
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

// ---------------------------------------------------------------------------------------------
// Remapping (for re-tokenized strings)

/// Maps the range `start..end` through `f`: the start, and one past the mapped last byte.
fn remap_range(start: &mut u32, end: &mut u32, f: &dyn Fn(u32) -> u32) {
    let ns = f(*start);
    let ne = if *end > *start {
        f(*end - 1).saturating_add(1)
    } else {
        ns
    };
    *start = ns;
    *end = ne.max(ns);
}

impl Script {
    /// Maps every range through `f` (an offset in the re-tokenized text -> an input offset).
    fn remap(&mut self, f: &dyn Fn(u32) -> u32, end_of_input: u32) {
        let range = |s: &mut u32, e: &mut u32| {
            remap_range(s, e, f);
            *e = (*e).min(end_of_input.max(*s));
        };
        for p in &mut self.pipelines {
            range(&mut p.start, &mut p.end);
            for el in &mut p.elements {
                match el {
                    Element::Simple(c) => c.remap(f, end_of_input),
                    Element::Group {
                        script,
                        redirects,
                        start,
                        end,
                        ..
                    } => {
                        range(start, end);
                        script.remap(f, end_of_input);
                        for r in redirects {
                            r.remap(f, end_of_input);
                        }
                    }
                }
            }
        }
    }
}

impl Command {
    fn remap(&mut self, f: &dyn Fn(u32) -> u32, end_of_input: u32) {
        remap_range(&mut self.start, &mut self.end, f);
        for w in self.assignments.iter_mut().chain(self.words.iter_mut()) {
            w.remap(f, end_of_input);
        }
        for r in &mut self.redirects {
            r.remap(f, end_of_input);
        }
    }
}

impl Redirect {
    fn remap(&mut self, f: &dyn Fn(u32) -> u32, end_of_input: u32) {
        remap_range(&mut self.start, &mut self.end, f);
        if let Some(t) = &mut self.target {
            t.remap(f, end_of_input);
        }
    }
}

impl Word {
    fn remap(&mut self, f: &dyn Fn(u32) -> u32, end_of_input: u32) {
        remap_range(&mut self.start, &mut self.end, f);
        for o in &mut self.offsets {
            *o = f(*o);
        }
        for s in &mut self.substitutions {
            remap_range(&mut s.start, &mut s.end, f);
            s.script.remap(f, end_of_input);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Queries

/// Programs that run another command given as their arguments.
const WRAPPERS: &[&str] = &[
    "sudo", "doas", "env", "exec", "command", "builtin", "nohup", "nice", "time", "timeout",
    "busybox", "gosu", "su-exec", "stdbuf", "chronic", "xargs",
];

/// POSIX-family shells.
pub const SHELLS: &[&str] = &[
    "sh",
    "bash",
    "zsh",
    "dash",
    "ash",
    "ksh",
    "mksh",
    "busybox-sh",
];

/// Basename of a path-like word (`/usr/bin/curl` -> `curl`).
pub fn basename(word: &str) -> &str {
    // a byte loop: words are short, and this runs for every command of every rule
    match word.bytes().rposition(|b| b == b'/') {
        Some(i) => word.get(i + 1..).unwrap_or(word),
        None => word,
    }
}

impl Command {
    /// Index in `words` of the program actually run, after wrappers (`sudo`, `env VAR=x`, `exec`,
    /// `nice -n 5`, `timeout 10`, `gosu user`, ...).
    pub fn program_index(&self) -> Option<usize> {
        *self
            .derived
            .program_index
            .get_or_init(|| self.find_program_index())
    }

    fn find_program_index(&self) -> Option<usize> {
        let mut i = 0usize;
        let mut guard = 0usize;
        while let Some(w) = self.words.get(i) {
            guard += 1;
            if guard > self.words.len() + 1 {
                return None;
            }
            let name = basename(&w.value);
            if !WRAPPERS.contains(&name) {
                return Some(i);
            }
            i += 1;
            // Skip the wrapper's options (and their arguments), assignments and positional args.
            let takes_arg: &[&str] = match name {
                "sudo" => &[
                    "-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T", "--user", "--group",
                ],
                "doas" => &["-u", "-C"],
                "env" => &["-u", "-C", "-S", "--unset", "--chdir"],
                "nice" => &["-n", "--adjustment"],
                "timeout" => &["-s", "-k", "--signal", "--kill-after"],
                "stdbuf" => &["-i", "-o", "-e"],
                "xargs" => &["-I", "-L", "-n", "-P", "-d", "-E", "-s", "-a"],
                "time" => &["-f", "-o"],
                _ => &[],
            };
            while let Some(w) = self.words.get(i) {
                let v = w.value.as_str();
                if v == "--" {
                    i += 1;
                    break;
                }
                if v.starts_with('-') && v.len() > 1 {
                    i += if takes_arg.contains(&v) { 2 } else { 1 };
                    continue;
                }
                if name == "env" && v.contains('=') {
                    i += 1;
                    continue;
                }
                break;
            }
            // Positional arguments before the command.
            match name {
                "timeout" | "gosu" | "su-exec" => i += 1,
                _ => {}
            }
        }
        None
    }

    /// Basename of the program run (see [`Command::program_index`]).
    pub fn program(&self) -> Option<&str> {
        self.program_word().map(|w| basename(&w.value))
    }

    /// The word naming the program run.
    pub fn program_word(&self) -> Option<&Word> {
        self.program_index().and_then(|i| self.words.get(i))
    }

    /// The program's arguments (after the program word).
    pub fn args(&self) -> &[Word] {
        match self.program_index() {
            Some(i) => self.words.get(i + 1..).unwrap_or(&[]),
            None => &[],
        }
    }

    /// Whether the program's arguments (up to `--`) contain `-<short>` (also inside a cluster such
    /// as `-fsSL`) or `--<long>` (also `--<long>=value`).
    pub fn has_flag(&self, short: Option<char>, long: Option<&str>) -> bool {
        self.flag_index(short, long).is_some()
    }

    /// Index in [`Command::args`] of the first matching flag.
    pub fn flag_index(&self, short: Option<char>, long: Option<&str>) -> Option<usize> {
        for (i, w) in self.args().iter().enumerate() {
            let v = w.value.as_str();
            if v == "--" {
                return None;
            }
            if let Some(name) = v.strip_prefix("--") {
                let name = name.split_once('=').map_or(name, |(n, _)| n);
                if long.is_some_and(|l| l == name) {
                    return Some(i);
                }
                continue;
            }
            if let Some(cluster) = v.strip_prefix('-')
                && let Some(s) = short
                && cluster
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .any(|c| c == s)
            {
                return Some(i);
            }
        }
        None
    }

    /// For a shell run with `-c` (`sh -c '<script>'`, `bash -ec "..."`): the script word.
    pub fn shell_c_script(&self) -> Option<&Word> {
        let prog = self.program()?;
        if !SHELLS.contains(&prog) {
            return None;
        }
        let args = self.args();
        let mut saw_c = false;
        let mut i = 0usize;
        while let Some(w) = args.get(i) {
            let v = w.value.as_str();
            if v == "--" {
                i += 1;
                break;
            }
            if v.starts_with('-') || v.starts_with('+') {
                let cluster = v.get(1..).unwrap_or("");
                if !v.starts_with("--") && cluster.contains('c') {
                    saw_c = true;
                }
                if matches!(v, "-o" | "+o" | "-O" | "+O" | "--rcfile" | "--init-file") {
                    i += 1;
                }
                i += 1;
                continue;
            }
            break;
        }
        if saw_c { args.get(i) } else { None }
    }

    /// Scripts this command runs that are written inline in its words: the `-c` script of a shell,
    /// and the arguments of `eval`. Each is tokenized with ranges mapped to the input, once.
    pub fn inline_scripts(&self) -> &[Script] {
        self.derived
            .inline_scripts
            .get_or_init(|| self.parse_inline_scripts())
    }

    fn parse_inline_scripts(&self) -> Vec<Script> {
        if let Some(w) = self.shell_c_script() {
            return vec![w.parse_as_script()];
        }
        if self.program() == Some("eval") {
            return self.args().iter().map(Word::parse_as_script).collect();
        }
        Vec::new()
    }
}

impl Script {
    /// Calls `f` for every pipeline, depth first: nested groups, substitutions and the inline
    /// scripts of `sh -c`/`eval` included.
    pub fn for_each_pipeline(&self, f: &mut dyn FnMut(&Pipeline)) {
        self.walk(f, 0);
    }

    fn walk(&self, f: &mut dyn FnMut(&Pipeline), depth: u32) {
        if depth > MAX_DEPTH {
            return;
        }
        for p in &self.pipelines {
            f(p);
            for el in &p.elements {
                el.walk_children(f, depth + 1);
            }
        }
    }

    /// Every simple command, depth first (see [`Script::for_each_pipeline`]).
    pub fn for_each_command(&self, f: &mut dyn FnMut(&Command)) {
        self.for_each_pipeline(&mut |p| {
            for el in &p.elements {
                if let Element::Simple(c) = el {
                    f(c);
                }
            }
        });
    }

    /// Any simple command of the script (nested ones included) satisfies `pred`.
    pub fn any_command(&self, pred: &dyn Fn(&Command) -> bool) -> bool {
        let mut found = false;
        self.for_each_command(&mut |c| found |= pred(c));
        found
    }
}

impl Element {
    fn walk_children(&self, f: &mut dyn FnMut(&Pipeline), depth: u32) {
        match self {
            Element::Simple(c) => {
                for w in c.assignments.iter().chain(&c.words) {
                    for s in &w.substitutions {
                        s.script.walk(f, depth);
                    }
                }
                for r in &c.redirects {
                    if let Some(t) = &r.target {
                        for s in &t.substitutions {
                            s.script.walk(f, depth);
                        }
                    }
                }
                for s in c.inline_scripts() {
                    s.walk(f, depth);
                }
            }
            Element::Group { script, .. } => script.walk(f, depth),
        }
    }

    /// Any simple command in this element (nested included) satisfies `pred`.
    pub fn any_command(&self, pred: &dyn Fn(&Command) -> bool) -> bool {
        match self {
            Element::Simple(c) => {
                if pred(c) {
                    return true;
                }
                let mut found = false;
                self.walk_children(
                    &mut |p| {
                        for el in &p.elements {
                            if let Element::Simple(c) = el {
                                found |= pred(c);
                            }
                        }
                    },
                    0,
                );
                found
            }
            Element::Group { script, .. } => script.any_command(pred),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(c: &Command) -> Vec<&str> {
        c.words.iter().map(|w| w.value.as_str()).collect()
    }

    fn commands(s: &Script) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        s.for_each_command(&mut |c| out.push(argv(c).iter().map(|s| (*s).to_string()).collect()));
        out
    }

    fn simple(p: &Pipeline, i: usize) -> &Command {
        match p.elements.get(i) {
            Some(Element::Simple(c)) => c,
            other => panic!("not a simple command: {other:?}"),
        }
    }

    #[test]
    fn case_patterns_are_not_pipes() {
        // one line, as a RUN with continuations reads; `;;`, `;&`, a `(` before a pattern
        let text = "case \"$arch\" in x86_64|aarch64) apk add a | tee /log ;; (arm*|\"ppc 64\") echo b ;& *) exit 1 ;; esac && echo done";
        let s = parse(text);
        assert_eq!(s.pipelines.len(), 2, "{s:?}");
        let case = &s.pipelines[0];
        assert_eq!(case.elements.len(), 1, "the whole case is one element");
        assert_eq!(case.separator, Some(Separator::And));
        assert_eq!(
            commands(&s),
            [
                vec!["apk", "add", "a"],
                vec!["tee", "/log"],
                vec!["echo", "b"],
                vec!["exit", "1"],
                vec!["echo", "done"],
            ]
        );
        let Element::Group { script, .. } = &case.elements[0] else {
            panic!("not a group: {case:?}");
        };
        // the real pipe inside the first item is still a pipeline of two
        assert_eq!(script.pipelines[0].elements.len(), 2);
        assert_eq!(
            &text[case.start as usize..case.end as usize],
            &text[..text.find(" &&").unwrap()]
        );
    }

    #[test]
    fn compound_commands_are_groups_that_can_be_piped() {
        let text = "if curl -s x | grep -q y; then a; elif b; then c; else d; fi | tee /l && \
                    for f in $(ls /x); do cat $f; done > /out; while read l; do e; done < in; \
                    until f; do g; done";
        let s = parse(text);
        assert_eq!(s.pipelines.len(), 4, "{s:?}");
        // `if ... fi | tee` is a pipeline of two; the `if` group holds the condition too
        assert_eq!(s.pipelines[0].elements.len(), 2);
        assert_eq!(
            commands(&s),
            [
                // a pipeline's own commands come before those nested in its groups
                vec!["tee", "/l"],
                vec!["curl", "-s", "x"],
                vec!["grep", "-q", "y"],
                vec!["a"],
                vec!["b"],
                vec!["c"],
                vec!["d"],
                // the `for` header is not a command; its substitution is
                vec!["ls", "/x"],
                vec!["cat", "$f"],
                vec!["read", "l"],
                vec!["e"],
                vec!["f"],
                vec!["g"],
            ]
        );
        let Element::Group { redirects, end, .. } = &s.pipelines[1].elements[0] else {
            panic!("{s:?}");
        };
        assert_eq!(redirects[0].op, ">");
        assert!(text[..*end as usize].ends_with("> /out"));
    }

    #[test]
    fn conditional_expression_is_one_command() {
        let s = parse("[[ $a =~ ^(x|y)$ && ( -f b || -d c ) ]] && echo ok");
        assert_eq!(s.pipelines.len(), 2, "{s:?}");
        assert_eq!(s.pipelines[0].elements.len(), 1);
        let c = simple(&s.pipelines[0], 0);
        assert_eq!(c.program(), Some("[["));
        assert_eq!(c.words.last().map(|w| w.value.as_str()), Some("]]"));
    }

    #[test]
    fn case_on_lines_and_inside_a_substitution() {
        let text = "x=$(case $1 in\n  a) echo A;;\n  *) echo Z\nesac) ; curl -s https://x | sh";
        let s = parse(text);
        let all = commands(&s);
        assert!(
            all.contains(&vec!["curl".to_string(), "-s".into(), "https://x".into()]),
            "{all:?}"
        );
        assert!(all.contains(&vec!["sh".to_string()]), "{all:?}");
        let last = s.pipelines.last().unwrap();
        assert_eq!(
            last.elements.len(),
            2,
            "the `)` of a pattern did not end the `$(`: {s:?}"
        );
    }

    #[test]
    fn splits_operators_and_pipelines() {
        let text = "apt-get update && apt-get install -y curl; curl -fsSL https://x | sh -s -- --yes || true &";
        let s = parse(text);
        assert_eq!(s.pipelines.len(), 4);
        let seps: Vec<_> = s.pipelines.iter().map(|p| p.separator).collect();
        assert_eq!(
            seps,
            vec![
                Some(Separator::And),
                Some(Separator::Seq),
                Some(Separator::Or),
                Some(Separator::Background)
            ]
        );
        let p = &s.pipelines[2];
        assert_eq!(p.elements.len(), 2);
        assert_eq!(argv(simple(p, 0)), ["curl", "-fsSL", "https://x"]);
        assert_eq!(argv(simple(p, 1)), ["sh", "-s", "--", "--yes"]);
        assert_eq!(
            &text[p.start as usize..p.end as usize],
            "curl -fsSL https://x | sh -s -- --yes"
        );
    }

    #[test]
    fn resolves_quotes_and_escapes() {
        let text = r#"echo 'a b' "c \"d\" $HOME" e\ f $'g\nh' "$(echo x)""#;
        let s = parse(text);
        let c = simple(&s.pipelines[0], 0);
        assert_eq!(
            argv(c),
            ["echo", "a b", "c \"d\" $HOME", "e f", "g\nh", "$(echo x)"]
        );
        assert!(c.words[1].quoted);
        assert!(!c.words[0].quoted);
        let w = &c.words[2];
        assert_eq!(
            &text[w.start as usize..w.end as usize],
            r#""c \"d\" $HOME""#
        );
        // Value byte 2 (`"`) comes from the escaped quote at input offset 13 + 3.
        assert_eq!(w.offset_of(2), w.start + 4);
        assert_eq!(c.words[5].substitutions.len(), 1);
    }

    #[test]
    fn line_continuations_and_comments() {
        let s = parse("apt-get install \\\n  -y curl # the tool\n# a comment line\necho done");
        assert_eq!(
            commands(&s),
            vec![
                vec!["apt-get", "install", "-y", "curl"],
                vec!["echo", "done"]
            ]
        );
        // `#` inside a word is not a comment.
        let s = parse("echo a#b");
        assert_eq!(commands(&s), vec![vec!["echo", "a#b"]]);
    }

    #[test]
    fn redirections() {
        let s = parse("make >/dev/null 2>&1 < in.txt && cat <<EOF > out\nbody | sh\nEOF\necho ok");
        let c = simple(&s.pipelines[0], 0);
        assert_eq!(argv(c), ["make"]);
        let ops: Vec<_> = c.redirects.iter().map(|r| (r.fd, r.op.as_str())).collect();
        assert_eq!(ops, vec![(None, ">"), (Some(2), ">&"), (None, "<")]);
        assert_eq!(
            c.redirects[1].target.as_ref().map(|t| t.value.as_str()),
            Some("1")
        );
        // The heredoc body is skipped.
        assert_eq!(
            commands(&s),
            vec![vec!["make"], vec!["cat"], vec!["echo", "ok"]]
        );
    }

    #[test]
    fn groups_and_substitutions() {
        let s = parse(
            "(cd /x && make) | tee log; { echo a; echo b; } > f; v=$(curl -s u | jq .v) `id -u`",
        );
        assert_eq!(
            commands(&s),
            vec![
                vec!["tee", "log"],
                vec!["cd", "/x"],
                vec!["make"],
                vec!["echo", "a"],
                vec!["echo", "b"],
                vec!["`id -u`"],
                vec!["curl", "-s", "u"],
                vec!["jq", ".v"],
                vec!["id", "-u"],
            ]
        );
        let last = &s.pipelines[2];
        let c = simple(last, 0);
        assert_eq!(c.assignments.len(), 1);
        assert_eq!(
            c.assignments[0].substitutions[0].kind,
            SubstitutionKind::Command
        );
    }

    #[test]
    fn process_substitution() {
        let text = "bash <(curl -fsSL https://x)";
        let s = parse(text);
        let c = simple(&s.pipelines[0], 0);
        assert_eq!(c.words.len(), 2);
        assert!(c.words[1].is_substitution());
        assert_eq!(
            c.words[1].substitutions[0].kind,
            SubstitutionKind::ProcessIn
        );
        assert!(c.redirects.is_empty());
    }

    #[test]
    fn program_skips_wrappers() {
        let prog = |t: &str| {
            let s = parse(t);
            simple(&s.pipelines[0], 0).program().map(str::to_string)
        };
        assert_eq!(prog("/usr/bin/curl -s x").as_deref(), Some("curl"));
        assert_eq!(prog("sudo -E -u app bash").as_deref(), Some("bash"));
        assert_eq!(
            prog("FOO=1 BAR=2 env -i X=y exec nice -n 5 sh").as_deref(),
            Some("sh")
        );
        assert_eq!(
            prog("timeout 10 gosu app python3 -").as_deref(),
            Some("python3")
        );
        assert_eq!(prog("busybox wget -O- x").as_deref(), Some("wget"));
        assert_eq!(prog("sudo").as_deref(), None);
        assert_eq!(prog("FOO=1").as_deref(), None);
    }

    #[test]
    fn flags() {
        let s = parse("curl -fsSL --output=x.tgz https://x -- -o");
        let c = simple(&s.pipelines[0], 0);
        assert!(c.has_flag(Some('L'), None));
        assert!(c.has_flag(None, Some("output")));
        assert!(!c.has_flag(Some('o'), None));
        assert_eq!(c.args().len(), 5);
    }

    #[test]
    fn shell_c_is_retokenized_with_mapping() {
        let text = "sh -ec 'curl -s https://x | bash'";
        let s = parse(text);
        let c = simple(&s.pipelines[0], 0);
        assert_eq!(
            c.shell_c_script().map(|w| w.value.as_str()),
            Some("curl -s https://x | bash")
        );
        let inner = c.inline_scripts();
        let p = &inner[0].pipelines[0];
        assert_eq!(
            &text[p.start as usize..p.end as usize],
            "curl -s https://x | bash"
        );
        assert_eq!(commands(&s).len(), 3);
        assert_eq!(parse("bash -o pipefail -c 'x'").pipelines.len(), 1);
        let s = parse("bash -o pipefail -c 'x y'");
        assert_eq!(
            simple(&s.pipelines[0], 0)
                .shell_c_script()
                .map(|w| w.value.as_str()),
            Some("x y")
        );
        let s = parse("sh script.sh -c x");
        assert_eq!(simple(&s.pipelines[0], 0).shell_c_script(), None);
    }

    #[test]
    fn keywords_are_dropped() {
        let s = parse("if curl -f x | sh; then echo ok; else exit 1; fi");
        assert_eq!(
            commands(&s),
            vec![
                vec!["curl", "-f", "x"],
                vec!["sh"],
                vec!["echo", "ok"],
                vec!["exit", "1"]
            ]
        );
        // the `for` header is not a command
        let s = parse("for f in a b; do rm $f; done");
        assert_eq!(commands(&s), vec![vec!["rm", "$f"]]);
    }

    #[test]
    fn exec_form() {
        let s = from_argv(vec![
            ("sh".to_string(), 5, 9),
            ("-c".to_string(), 11, 15),
            ("a | b".to_string(), 17, 24),
        ]);
        let c = simple(&s.pipelines[0], 0);
        let inner = c.inline_scripts();
        let p = &inner[0].pipelines[0];
        assert_eq!((p.start, p.end), (18, 23));
    }

    #[test]
    fn never_panics_on_garbage() {
        for t in [
            "",
            "'",
            "\"",
            "$(",
            "`",
            "((((",
            "))))",
            "{ ",
            "}",
            "$'\\",
            "a\\",
            "<<",
            "2>",
            "<(",
            "${",
            "$((1",
            "| | &&",
            "\"$(\"",
            "`$(`",
            "é'ü\"ß",
            "&>",
            ";;",
            "case x in a) y;; esac",
            "f() { a; }",
        ] {
            let _ = parse(t);
        }
        let deep = "(".repeat(10_000) + &")".repeat(10_000);
        let _ = parse(&deep);
        let deep = "$(".repeat(10_000);
        let _ = parse(&deep);
        let deep = "sh -c \"".repeat(200);
        let s = parse(&deep);
        s.for_each_command(&mut |_| {});
    }
}
