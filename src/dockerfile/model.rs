//! The Dockerfile model: what the parser produces and what rules read.
//!
//! Every node keeps byte spans into the Dockerfile's text. Rules never re-parse text.

use crate::source::{Span, Spanned};

/// A parsed Dockerfile. Parsing never fails as a whole: broken instructions land in `errors`.
#[derive(Debug, Clone, Default)]
pub struct Dockerfile {
    /// Parser directives at the top of the file (`# syntax=`, `# escape=`, `# check=`).
    pub directives: Vec<Directive>,
    /// The escape character in force (`\` unless `# escape=` says otherwise).
    pub escape: char,
    /// All instructions in file order, including `ARG`s before the first `FROM`.
    pub instructions: Vec<Instruction>,
    /// Build stages, in order. Derived from `instructions`.
    pub stages: Vec<Stage>,
    /// Located syntax errors. Parsing went on after each of them.
    pub errors: Vec<ParseError>,
    /// Facts derived from the above on first use (stage ancestry, variable definitions: see
    /// `semantics.rs`; tokenized `RUN` scripts: see `analysis.rs`). Left empty by the parser; a
    /// clone starts empty again.
    pub derived: Derived,
}

/// Lazily computed facts of a [`Dockerfile`], so that every lookup is a hash probe instead of a
/// scan over the instructions before it, and every `RUN` is tokenized once.
#[derive(Default)]
pub struct Derived {
    pub(crate) index: std::sync::OnceLock<std::sync::Arc<super::semantics::Index>>,
    pub(crate) analysis: std::sync::OnceLock<super::analysis::Analysis>,
}

impl Clone for Derived {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl std::fmt::Debug for Derived {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Derived")
    }
}

/// `# name=value` at the top of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// Lowercased name: `syntax`, `escape`, `check`.
    pub name: Spanned<String>,
    pub value: Spanned<String>,
    /// The whole comment line.
    pub span: Span,
}

/// A syntax error at a location. The message starts lowercase and has no trailing period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub message: String,
    pub span: Span,
    pub help: Option<String>,
}

/// Normalized instruction keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Keyword {
    Add,
    Arg,
    Cmd,
    Copy,
    Entrypoint,
    Env,
    Expose,
    From,
    Healthcheck,
    Label,
    Maintainer,
    Onbuild,
    Run,
    Shell,
    StopSignal,
    User,
    Volume,
    Workdir,
    /// A keyword BuildKit does not know (kept so that rules and errors can point at it).
    Unknown,
}

impl Keyword {
    /// Parses a keyword case-insensitively.
    pub fn parse(word: &str) -> Keyword {
        match word.to_ascii_lowercase().as_str() {
            "add" => Keyword::Add,
            "arg" => Keyword::Arg,
            "cmd" => Keyword::Cmd,
            "copy" => Keyword::Copy,
            "entrypoint" => Keyword::Entrypoint,
            "env" => Keyword::Env,
            "expose" => Keyword::Expose,
            "from" => Keyword::From,
            "healthcheck" => Keyword::Healthcheck,
            "label" => Keyword::Label,
            "maintainer" => Keyword::Maintainer,
            "onbuild" => Keyword::Onbuild,
            "run" => Keyword::Run,
            "shell" => Keyword::Shell,
            "stopsignal" => Keyword::StopSignal,
            "user" => Keyword::User,
            "volume" => Keyword::Volume,
            "workdir" => Keyword::Workdir,
            _ => Keyword::Unknown,
        }
    }

    /// Lowercase name as BuildKit prints it (`unknown` for [`Keyword::Unknown`]).
    pub fn as_str(self) -> &'static str {
        match self {
            Keyword::Add => "add",
            Keyword::Arg => "arg",
            Keyword::Cmd => "cmd",
            Keyword::Copy => "copy",
            Keyword::Entrypoint => "entrypoint",
            Keyword::Env => "env",
            Keyword::Expose => "expose",
            Keyword::From => "from",
            Keyword::Healthcheck => "healthcheck",
            Keyword::Label => "label",
            Keyword::Maintainer => "maintainer",
            Keyword::Onbuild => "onbuild",
            Keyword::Run => "run",
            Keyword::Shell => "shell",
            Keyword::StopSignal => "stopsignal",
            Keyword::User => "user",
            Keyword::Volume => "volume",
            Keyword::Workdir => "workdir",
            Keyword::Unknown => "unknown",
        }
    }
}

/// One instruction, with its continuation lines and heredoc bodies.
#[derive(Debug, Clone)]
pub struct Instruction {
    /// From the keyword to the end of the last line or heredoc terminator (no trailing newline).
    pub span: Span,
    /// The keyword as written (`run`, `RUN`, ...).
    pub keyword: Spanned<String>,
    pub kind: Keyword,
    /// `--name[=value]` flags before the arguments, in order.
    pub flags: Vec<Flag>,
    pub args: Arguments,
    /// Heredoc bodies attached to this instruction, in order of their `<<` markers.
    pub heredocs: Vec<Heredoc>,
    /// For `ONBUILD`: the trigger instruction, parsed as an instruction of its own.
    pub onbuild: Option<Box<Instruction>>,
}

impl Instruction {
    /// The flag named `name` (without the `--`), last one wins as in BuildKit.
    pub fn flag(&self, name: &str) -> Option<&Flag> {
        self.flags.iter().rev().find(|f| f.name.value == name)
    }

    /// The instruction's words (see [`Arguments::words`]).
    pub fn words(&self) -> &[Spanned<String>] {
        self.args.words()
    }

    /// `USER user[:group]`: the argument word (`None` for other instructions or no argument).
    pub fn user(&self) -> Option<UserArg<'_>> {
        if self.kind != Keyword::User {
            return None;
        }
        let word = self.words().first()?;
        Some(UserArg {
            written: &word.value,
            span: word.span,
        })
    }

    /// The paths of `WORKDIR` or `VOLUME` (empty for other instructions): each word with one
    /// level of quotes removed in shell form, each decoded item in JSON form.
    pub fn paths(&self) -> Vec<PathArg<'_>> {
        if !matches!(self.kind, Keyword::Workdir | Keyword::Volume) {
            return Vec::new();
        }
        let exec = self.args.is_exec();
        self.words()
            .iter()
            .map(|w| PathArg {
                path: if exec { &w.value } else { unquote(&w.value) },
                span: w.span,
            })
            .collect()
    }

    /// The `port[/protocol]` words of `EXPOSE` (empty for other instructions).
    pub fn ports(&self) -> Vec<PortArg<'_>> {
        if self.kind != Keyword::Expose {
            return Vec::new();
        }
        self.words()
            .iter()
            .map(|w| PortArg {
                written: &w.value,
                span: w.span,
            })
            .collect()
    }

    /// The type and command of `HEALTHCHECK` (`None` for other instructions or no argument).
    pub fn healthcheck(&self) -> Option<HealthcheckArg<'_>> {
        if self.kind != Keyword::Healthcheck {
            return None;
        }
        let words = self.words();
        let kind = words.first()?;
        let rest = words.get(1..).unwrap_or(&[]);
        Some(if kind.value.eq_ignore_ascii_case("none") {
            HealthcheckArg::None { kind, rest }
        } else if kind.value.eq_ignore_ascii_case("cmd") {
            HealthcheckArg::Cmd {
                kind,
                command: rest,
            }
        } else {
            HealthcheckArg::Other { kind }
        })
    }
}

/// Removes one level of matching quotes around a word as written (`"/a b"` -> `/a b`).
pub fn unquote(word: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = word.strip_prefix(q).and_then(|w| w.strip_suffix(q)) {
            return inner;
        }
    }
    word
}

/// The argument of `USER`, as written (variables not expanded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserArg<'a> {
    /// `user[:group]` as written.
    pub written: &'a str,
    pub span: Span,
}

impl<'a> UserArg<'a> {
    /// The part before `:`.
    pub fn user(&self) -> &'a str {
        self.written.split(':').next().unwrap_or(self.written)
    }

    /// The part after the first `:`, if any.
    pub fn group(&self) -> Option<&'a str> {
        self.written.split_once(':').map(|(_, g)| g)
    }
}

/// A path of `WORKDIR` or `VOLUME` (variables not expanded), with the span of its word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathArg<'a> {
    pub path: &'a str,
    pub span: Span,
}

/// A port of `EXPOSE`, as written (variables not expanded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortArg<'a> {
    /// `port[/protocol]` or a range `8000-8010/tcp`.
    pub written: &'a str,
    pub span: Span,
}

/// Splits `port[/protocol]` (a [`PortArg`] after expansion) into the port and the protocol.
pub fn split_port(spec: &str) -> (&str, Option<&str>) {
    match spec.split_once('/') {
        Some((port, proto)) => (port, Some(proto)),
        None => (spec, None),
    }
}

/// The arguments of `HEALTHCHECK` (flags are in [`Instruction::flags`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthcheckArg<'a> {
    /// `HEALTHCHECK NONE` (any case); `rest`: words after it (an error).
    None {
        kind: &'a Spanned<String>,
        rest: &'a [Spanned<String>],
    },
    /// `HEALTHCHECK CMD …`: the command's JSON items, or the shell command as one word.
    Cmd {
        kind: &'a Spanned<String>,
        command: &'a [Spanned<String>],
    },
    /// Another type word (an error).
    Other { kind: &'a Spanned<String> },
}

/// `--name=value` or `--name` (boolean).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    /// The whole flag, `--` included.
    pub span: Span,
    /// Name without the leading `--`.
    pub name: Spanned<String>,
    /// The value after `=` (quotes kept as written), or `None` for a bare `--flag`.
    pub value: Option<Spanned<String>>,
}

impl Flag {
    /// The value as BuildKit reads it: quotes removed, `\\` escapes processed (`None` for a bare
    /// `--flag`).
    pub fn unquoted_value(&self) -> Option<String> {
        let raw = &self.value.as_ref()?.value;
        let mut out = String::with_capacity(raw.len());
        let mut quote: Option<char> = None;
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (None, '\'' | '"') => quote = Some(c),
                (_, '\\') => {
                    if let Some(n) = chars.next() {
                        out.push(n);
                    }
                }
                (_, c) => out.push(c),
            }
        }
        Some(out)
    }
}

/// The arguments after the keyword and flags.
#[derive(Debug, Clone)]
pub enum Arguments {
    /// JSON array (exec) form: `["a", "b"]`. Each string is decoded; its span covers the JSON literal with quotes.
    Exec {
        items: Vec<Spanned<String>>,
        /// The whole `[...]`.
        span: Span,
    },
    /// Anything else: shell form, and the plain arguments of `FROM`, `COPY`, `ENV`, ...
    Text {
        text: Text,
        /// Words split on whitespace outside quotes, BuildKit style. Quotes and escapes are kept as
        /// written; each word's span points at the source. For `ENV`/`ARG`/`LABEL` see `pairs`.
        /// Read them through [`Arguments::words`] (those of a shell form are split on first use).
        words: Words,
        /// `ENV`/`ARG`/`LABEL` key-value pairs (`k=v` or legacy `k v`); empty for other instructions.
        pairs: Vec<KeyValue>,
    },
}

/// The words of a text argument: split by the parser, or split from the text on first use.
///
/// The shell form of `RUN`, `CMD`, `ENTRYPOINT` and `SHELL` is split on first use: those are
/// most of a Dockerfile's bytes, and the rules read a script through its shell parse; its words
/// are wanted only by a few rules about `CMD`/`ENTRYPOINT`/`SHELL` (a `--select` of another
/// rule never splits them). The words are the same either way (`tests/dockerfile_parse.rs`
/// prints every instruction's words).
#[derive(Debug, Clone, Default)]
pub struct Words {
    split: std::sync::OnceLock<Vec<Spanned<String>>>,
    /// The escape character to split with on first use; `None` when the parser split them.
    escape: Option<char>,
}

impl Words {
    /// Words the parser split.
    pub fn new(words: Vec<Spanned<String>>) -> Words {
        Words {
            split: std::sync::OnceLock::from(words),
            escape: None,
        }
    }

    /// The words of the text they belong to, split (`parseWords`) when first asked for.
    pub fn later(escape: char) -> Words {
        Words {
            split: std::sync::OnceLock::new(),
            escape: Some(escape),
        }
    }

    /// The words of `text` (the argument text they belong to).
    pub fn of(&self, text: &Text) -> &[Spanned<String>] {
        self.split.get_or_init(|| match self.escape {
            Some(escape) => super::parser::text_words(text, escape),
            None => Vec::new(),
        })
    }
}

impl Arguments {
    /// JSON items for exec form, whitespace-separated words for text form.
    pub fn words(&self) -> &[Spanned<String>] {
        match self {
            Arguments::Exec { items, .. } => items,
            Arguments::Text { text, words, .. } => words.of(text),
        }
    }

    pub fn is_exec(&self) -> bool {
        matches!(self, Arguments::Exec { .. })
    }

    pub fn text(&self) -> Option<&Text> {
        match self {
            Arguments::Text { text, .. } => Some(text),
            Arguments::Exec { .. } => None,
        }
    }

    pub fn pairs(&self) -> &[KeyValue] {
        match self {
            Arguments::Text { pairs, .. } => pairs,
            Arguments::Exec { .. } => &[],
        }
    }

    /// The span of all arguments.
    pub fn span(&self) -> Span {
        match self {
            Arguments::Exec { span, .. } => *span,
            Arguments::Text { text, .. } => text.span,
        }
    }
}

/// `key=value` (or `key value` in the legacy one-pair form, or `key` alone for `ARG`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    pub key: Spanned<String>,
    /// The value as written (quotes and escapes kept), `None` for `ARG name` without default.
    pub raw_value: Option<Spanned<String>>,
    /// The value with quotes removed and escapes processed (what the build sees before variable expansion).
    pub value: Option<String>,
    /// The whole pair.
    pub span: Span,
}

/// Text assembled from one or more source pieces: line continuations (the escape character and the
/// newline) and comment lines inside a continuation are removed, so the text is what BuildKit sees.
/// [`Text::source_span`] maps a range of the text back to the source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Text {
    pub value: String,
    /// From the first to the last source byte of the text.
    pub span: Span,
    /// `(text_offset, source_offset)` at the start of each contiguous source piece, sorted by
    /// text offset. The first piece starts at text offset 0.
    pub pieces: Vec<(u32, u32)>,
}

impl Text {
    /// Text that is one contiguous piece of source starting at `start`.
    pub fn contiguous(value: String, start: u32) -> Text {
        let len = u32::try_from(value.len()).unwrap_or(u32::MAX);
        Text {
            value,
            span: Span::new(start, start.saturating_add(len)),
            pieces: vec![(0, start)],
        }
    }

    /// The source offset of text offset `offset`.
    pub fn source_offset(&self, offset: u32) -> u32 {
        let idx = match self.pieces.binary_search_by_key(&offset, |p| p.0) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        match self.pieces.get(idx) {
            Some(&(t, s)) => s + (offset - t.min(offset)),
            None => self.span.start + offset,
        }
    }

    /// The source span of the text range `start..end`.
    pub fn source_span(&self, start: u32, end: u32) -> Span {
        let s = self.source_offset(start);
        let e = if end > start {
            self.source_offset(end - 1) + 1
        } else {
            s
        };
        Span::new(s, e.max(s))
    }
}

/// A heredoc attached to an instruction (`RUN <<EOF`, `COPY <<EOF /dst`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    /// The delimiter word without quotes (`EOF`).
    pub name: Spanned<String>,
    /// `false` when the delimiter was quoted (`<<"EOF"`, `<<'EOF'`): no variable expansion.
    pub expand: bool,
    /// `<<-`: leading tabs are stripped from the body.
    pub chomp: bool,
    /// The body, without the terminator line (after tab-stripping when `chomp`).
    pub body: Text,
    /// From the `<<` marker to the end of the terminator line.
    pub span: Span,
}

/// A build stage: a `FROM` and the instructions up to the next `FROM`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// 0-based position among stages.
    pub index: usize,
    /// Index of the `FROM` instruction in [`Dockerfile::instructions`].
    pub from: usize,
    /// The base image reference as written (variables not expanded).
    pub image: Spanned<String>,
    /// `AS name`, lowercased as BuildKit does.
    pub name: Option<Spanned<String>>,
    /// `--platform=` value if any.
    pub platform: Option<Spanned<String>>,
    /// Indexes into [`Dockerfile::instructions`]: the `FROM` itself up to the next `FROM` (exclusive).
    pub instructions: std::ops::Range<usize>,
}

impl Dockerfile {
    /// The escape character in force: [`Dockerfile::escape`], `\` for a model built without
    /// one (`'\0'`).
    pub fn escape_char(&self) -> char {
        if self.escape == '\0' {
            '\\'
        } else {
            self.escape
        }
    }

    /// The last stage (the image that `docker build` produces without `--target`).
    pub fn final_stage(&self) -> Option<&Stage> {
        self.stages.last()
    }

    /// The stage named `name` (case-insensitive) or with that index.
    pub fn stage_by_name(&self, name: &str) -> Option<&Stage> {
        let lower = name.to_ascii_lowercase();
        self.stages
            .iter()
            .find(|s| s.name.as_ref().is_some_and(|n| n.value == lower))
            .or_else(|| name.parse::<usize>().ok().and_then(|i| self.stages.get(i)))
    }

    /// The instructions of a stage (its `FROM` first).
    pub fn stage_instructions(&self, stage: &Stage) -> &[Instruction] {
        self.instructions
            .get(stage.instructions.clone())
            .unwrap_or(&[])
    }

    /// `ARG`s before the first `FROM` (they may be used in `FROM` lines).
    pub fn global_args(&self) -> &[Instruction] {
        let end = self
            .stages
            .first()
            .map_or(self.instructions.len(), |s| s.from);
        &self.instructions[..end.min(self.instructions.len())]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A shell form's words are split when first asked for, not by the parse nor by the
    /// accessors of other instructions; once split they are `parseWords`' words and spans.
    #[test]
    fn shell_form_words_are_split_on_first_use() {
        let src = "FROM a\nRUN echo \\\n  \"a b\"  c\\ d\nUSER x\n";
        let df = super::super::parse(src);
        let run = &df.instructions[1];
        let Arguments::Text { words, .. } = &run.args else {
            unreachable!("shell form")
        };
        assert!(run.user().is_none() && run.healthcheck().is_none());
        assert!(run.paths().is_empty() && run.ports().is_empty());
        assert!(words.split.get().is_none(), "split before use");
        let got: Vec<(&str, &str)> = (run.words().iter())
            .map(|w| {
                (
                    w.value.as_str(),
                    &src[w.span.start as usize..w.span.end as usize],
                )
            })
            .collect();
        assert_eq!(
            got,
            [("echo", "echo"), ("\"a b\"", "\"a b\""), ("c\\ d", "c\\ d")]
        );
        assert!(words.split.get().is_some());
        // `USER`'s words are split by the parser.
        assert_eq!(df.instructions[2].user().map(|u| u.written), Some("x"));
    }
}
