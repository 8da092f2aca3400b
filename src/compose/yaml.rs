//! A span-keeping YAML node tree built from `libyaml-safer` events. This is the only file that
//! knows the YAML crate.
//!
//! - Spans are byte offsets into the text (libyaml marks count bytes of UTF-8 input; a leading
//!   byte-order mark, which libyaml does not count, is added back).
//! - Aliases share the anchored subtree (`Rc`), so spans of aliased nodes point at the anchor,
//!   which is what users edit. Alias expansion has a budget (billion laughs) and nesting depth a
//!   limit (the tree is built without recursion; libyaml's parser keeps its own explicit stack).
//! - Duplicate mapping keys and malformed `<<` values are reported here, as Compose's YAML parser
//!   rejects them.

use std::collections::HashMap;
use std::rc::Rc;

use libyaml_safer::{EventData, MappingStyle, Mark, Parser, ScalarStyle, SequenceStyle};

use super::model::LoadError;
use crate::source::Span;

/// Deepest nesting of collections accepted (aliases count with the depth of what they expand to).
pub const MAX_DEPTH: usize = 256;
/// What one node weighs in the alias budget, on top of its scalar's bytes: roughly what a node
/// costs once the model is built from it.
pub const NODE_WEIGHT: u64 = 64;

/// The smallest alias budget: 16 MiB.
pub const MIN_ALIAS_BUDGET: u64 = 16 << 20;

/// How much aliases may expand to in one file, in bytes: every alias costs the subtree it
/// stands for, [`NODE_WEIGHT`] per node plus the bytes of its scalars, and the total may not
/// pass `max(16 MiB, 4 × the file)` (billion laughs, and one large string aliased thousands of
/// times). An alias past the budget stands for an empty node of the same kind, whose value is
/// unknown ([`UNKNOWN_TAG`]); later aliases that fit are still expanded.
pub fn alias_budget(input_len: usize) -> u64 {
    MIN_ALIAS_BUDGET.max(
        u64::try_from(input_len)
            .unwrap_or(u64::MAX)
            .saturating_mul(4),
    )
}

/// The tag of a node that stands for an alias refused by the budget: its value is unknown.
pub const UNKNOWN_TAG: &str = "!sandlint/unknown";

/// How a scalar was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

/// One node. Collections hold `Rc` children so aliased subtrees are shared, not copied.
#[derive(Debug, Clone)]
pub struct Node {
    /// The node as written: a scalar without its anchor/tag, a block collection from its first
    /// entry to the end of its last one, a flow collection from `[`/`{` to `]`/`}`.
    pub span: Span,
    /// The tag as libyaml reports it (`!reset`, `!override`, `tag:yaml.org,2002:str`, ...).
    pub tag: Option<String>,
    pub kind: NodeKind,
    /// Weight of this subtree, counting alias expansions (saturating): [`NODE_WEIGHT`] per node
    /// plus the bytes of its scalars.
    pub size: u64,
    /// Collection nesting of this subtree (a scalar is 0).
    pub height: usize,
}

#[derive(Debug, Clone)]
pub enum NodeKind {
    Scalar {
        value: String,
        style: Style,
    },
    Seq(Vec<Rc<Node>>),
    /// Key/value pairs in file order (merge keys `<<` included; see `merge.rs`).
    Map(Vec<(Rc<Node>, Rc<Node>)>),
}

const NULL_TAG: &str = "tag:yaml.org,2002:null";
const MERGE_TAG: &str = "tag:yaml.org,2002:merge";

impl Node {
    /// The scalar's text, for any scalar (null included).
    pub fn scalar(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    pub fn style(&self) -> Option<Style> {
        match &self.kind {
            NodeKind::Scalar { style, .. } => Some(*style),
            _ => None,
        }
    }

    /// YAML null: a plain untagged `null`/`Null`/`NULL`/`~`/empty scalar, or any `!!null`.
    pub fn is_null(&self) -> bool {
        match &self.kind {
            NodeKind::Scalar { value, style } => match self.tag.as_deref() {
                Some(NULL_TAG) => true,
                Some(_) => false,
                None => {
                    *style == Style::Plain
                        && matches!(value.as_str(), "" | "~" | "null" | "Null" | "NULL")
                }
            },
            _ => false,
        }
    }

    /// A merge key: plain `<<`, untagged or tagged `!!merge`.
    pub fn is_merge_key(&self) -> bool {
        match &self.kind {
            NodeKind::Scalar { value, style } => {
                value == "<<"
                    && *style == Style::Plain
                    && matches!(self.tag.as_deref(), None | Some("!") | Some(MERGE_TAG))
            }
            _ => false,
        }
    }

    pub fn as_map(&self) -> Option<&[(Rc<Node>, Rc<Node>)]> {
        match &self.kind {
            NodeKind::Map(pairs) => Some(pairs),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Rc<Node>]> {
        match &self.kind {
            NodeKind::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// Tagged `!reset` (Compose: the key is treated as absent).
    pub fn is_reset(&self) -> bool {
        self.tag.as_deref() == Some("!reset")
    }
}

/// The documents of one YAML stream, and the problems found.
#[derive(Debug, Default)]
pub struct Parsed {
    /// One root per complete document (a document with nothing in it has a null scalar root).
    pub docs: Vec<Rc<Node>>,
    pub errors: Vec<LoadError>,
    /// Where alias expansion ran past its budget ([`alias_budget`]): at most one entry.
    pub limits: Vec<LoadError>,
    /// How much aliases expanded to (see [`alias_budget`]), in bytes.
    pub expanded: u64,
}

/// `root` with every span in file `file`, the tree otherwise the same (what [`parse_in`] gives
/// for that number): a tree parsed as one file number, reused as another. Subtrees shared
/// (aliases) stay shared, so this is linear in the distinct nodes, however much aliases
/// expand; the depth is the parse's (at most [`MAX_DEPTH`]).
pub fn in_file(root: &Rc<Node>, file: u16) -> Rc<Node> {
    fn go(node: &Rc<Node>, file: u16, done: &mut HashMap<*const Node, Rc<Node>>) -> Rc<Node> {
        if Rc::strong_count(node) > 1
            && let Some(n) = done.get(&Rc::as_ptr(node))
        {
            return n.clone();
        }
        let kind = match &node.kind {
            NodeKind::Scalar { .. } => node.kind.clone(),
            NodeKind::Seq(items) => {
                NodeKind::Seq(items.iter().map(|n| go(n, file, done)).collect())
            }
            NodeKind::Map(pairs) => NodeKind::Map(
                (pairs.iter())
                    .map(|(k, v)| (go(k, file, done), go(v, file, done)))
                    .collect(),
            ),
        };
        let out = Rc::new(Node {
            span: node.span.in_file(file),
            tag: node.tag.clone(),
            kind,
            size: node.size,
            height: node.height,
        });
        // a node held once (nearly all) is met once: only shared ones are remembered
        if Rc::strong_count(node) > 1 {
            done.insert(Rc::as_ptr(node), out.clone());
        }
        out
    }
    go(root, file, &mut HashMap::new())
}

#[cfg(test)]
thread_local! {
    /// YAML texts parsed on this thread (tests of the engine's skips count them).
    pub(crate) static PARSES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Parses `text` into node trees. Never panics: a panic inside the YAML crate becomes an error.
pub fn parse(text: &str) -> Parsed {
    parse_in(text, 0)
}

/// Parses `text`, the file numbered `file` (every span carries it; see [`Span::file`]).
pub fn parse_in(text: &str, file: u16) -> Parsed {
    #[cfg(test)]
    PARSES.with(|p| p.set(p.get() + 1));
    // libyaml-safer 0.3 panics ("TODO") on a tag directly followed by `,` in a flow collection
    // (`[!!str, b]`), which C libyaml (and so Compose's Go parser) accepts as an empty tagged
    // node. Such a panic is caught, a space is put between the tag and the `,` (spans are mapped
    // back, so nothing moves), and the text is parsed again. Any other panic becomes a located
    // error at the point the parser had reached.
    quiet_caught_yaml_panics();
    let mut spaces: Vec<usize> = Vec::new();
    loop {
        let reached = std::cell::Cell::new(0u32);
        let attempt = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            Builder::new(text, file, &spaces, &reached).run()
        }));
        match attempt {
            Ok(parsed) => return parsed,
            Err(_) => {
                let from = reached.get() as usize;
                // the scanner may have read ahead of the last event: take the first spot not
                // fixed yet
                let next = std::iter::successors(tag_before_comma(text, from), |&at| {
                    tag_before_comma(text, at + 1)
                })
                .find(|at| !spaces.contains(at));
                match next {
                    Some(at) if spaces.len() < MAX_TAG_FIXES => {
                        spaces.push(at);
                        spaces.sort_unstable();
                    }
                    _ => {
                        return Parsed {
                            docs: Vec::new(),
                            errors: vec![LoadError {
                                message: "invalid YAML: the YAML parser failed here".to_string(),
                                span: Span::at(reached.get()).in_file(file),
                                help: Some(
                                    "libyaml-safer could not read what follows; please report \
                                     this file to sandlint"
                                        .to_string(),
                                ),
                            }],
                            ..Parsed::default()
                        };
                    }
                }
            }
        }
    }
}

/// Keeps the panics of the YAML crate, which [`parse_in`] catches and reports as findings, off
/// stderr; every other panic still goes to the previous hook. Installed once per process, by
/// the first [`parse_in`] (a fuzz harness may install it earlier); later calls do nothing.
pub fn quiet_caught_yaml_panics() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let from_yaml_crate = info.location().is_some_and(|l| {
                l.file().contains("libyaml-safer") || l.file().contains("libyaml_safer")
            });
            if !from_yaml_crate {
                previous(info);
            }
        }));
    });
}

/// How many `!tag,` spots one file may need (each costs a parse).
const MAX_TAG_FIXES: usize = 64;

/// The offset of the `,` that ends the first tag (`!`, `!!x`, `!h!x`) at or after `from` whose
/// next character is a `,`: where libyaml-safer's scanner gives up.
fn tag_before_comma(text: &str, from: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = from.min(bytes.len());
    while i < bytes.len() {
        if bytes.get(i) == Some(&b'!') {
            let mut j = i + 1;
            while let Some(&b) = bytes.get(j) {
                if b.is_ascii_whitespace() || matches!(b, b',' | b'[' | b']' | b'{' | b'}') {
                    break;
                }
                j += 1;
            }
            if bytes.get(j) == Some(&b',') {
                return Some(j);
            }
            i = j;
        } else {
            i += 1;
        }
    }
    None
}

enum FrameKind {
    Seq(Vec<Rc<Node>>),
    Map {
        pairs: Vec<(Rc<Node>, Rc<Node>)>,
        key: Option<Rc<Node>>,
    },
}

struct Frame {
    start: u32,
    flow: bool,
    anchor: Option<String>,
    tag: Option<String>,
    kind: FrameKind,
}

struct Builder<'t> {
    text: &'t str,
    /// Offsets in `text` before which a space was put into the parser's input (see
    /// [`parse_in`]); libyaml's indexes are mapped back through them.
    spaces: &'t [usize],
    /// How far parsing got (a byte offset in `text`), for an error if the parser panics.
    reached: &'t std::cell::Cell<u32>,
    /// The file number every span gets (see [`Span::file`]).
    file: u16,
    /// Added to every libyaml index (a byte-order mark libyaml skipped).
    base: u64,
    stack: Vec<Frame>,
    anchors: HashMap<String, Rc<Node>>,
    expanded: u64,
    budget: u64,
    /// The first alias refused for the budget, and how many after it.
    refused: Option<(String, Span)>,
    refused_more: usize,
    /// Byte offsets where lines start, built on first use (help texts name lines).
    line_starts: Vec<u32>,
    out: Parsed,
}

/// Why building stopped early.
struct Abort;

impl<'t> Builder<'t> {
    fn new(
        text: &'t str,
        file: u16,
        spaces: &'t [usize],
        reached: &'t std::cell::Cell<u32>,
    ) -> Self {
        let base = if text.starts_with('\u{feff}') { 3 } else { 0 };
        Self {
            text,
            spaces,
            reached,
            file,
            base,
            stack: Vec::new(),
            anchors: HashMap::new(),
            expanded: 0,
            budget: alias_budget(text.len()),
            refused: None,
            refused_more: 0,
            line_starts: Vec::new(),
            out: Parsed::default(),
        }
    }

    /// `mark` as a byte offset in `text`, at most its length.
    fn offset(&self, mark: Mark) -> u32 {
        u32::try_from(self.unclamped_offset(mark).min(self.text.len())).unwrap_or(u32::MAX)
    }

    /// `mark` as a byte offset in `text`; past its end inside the line break added there.
    fn unclamped_offset(&self, mark: Mark) -> usize {
        let at = usize::try_from(mark.index.saturating_add(self.base)).unwrap_or(usize::MAX);
        // the i-th added space sits at `spaces[i] + i` in the parser's input
        let added = self
            .spaces
            .iter()
            .enumerate()
            .take_while(|&(i, &p)| p + i < at)
            .count();
        at.saturating_sub(added)
    }

    /// 1-based line of `offset`, in logarithmic time after the first call.
    fn line(&mut self, offset: u32) -> usize {
        if self.line_starts.is_empty() {
            self.line_starts.push(0);
            let ends = self.text.bytes().enumerate().filter(|&(_, b)| b == b'\n');
            self.line_starts
                .extend(ends.map(|(i, _)| u32::try_from(i + 1).unwrap_or(u32::MAX)));
        }
        match self.line_starts.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }

    fn error(&mut self, message: String, span: Span, help: Option<String>) {
        self.out.errors.push(LoadError {
            message,
            span,
            help,
        });
    }

    /// What the parser reads: the text with a space at each of [`Self::spaces`] and a final
    /// line break. libyaml-safer 0.3 panics on a block scalar that ends the input without a
    /// line break (C libyaml sees its terminating NUL there), so the input always ends with
    /// one. The only visible difference, a line break added to such a final block scalar, is
    /// undone in [`Self::run`].
    fn input(&self) -> std::borrow::Cow<'t, [u8]> {
        if self.text.ends_with('\n') && self.spaces.is_empty() {
            return std::borrow::Cow::Borrowed(self.text.as_bytes());
        }
        let mut owned = Vec::with_capacity(self.text.len() + self.spaces.len() + 1);
        let mut last = 0;
        for &at in self.spaces {
            owned.extend_from_slice(self.text.as_bytes().get(last..at).unwrap_or_default());
            owned.push(b' ');
            last = at;
        }
        owned.extend_from_slice(self.text.as_bytes().get(last..).unwrap_or_default());
        if !self.text.ends_with('\n') {
            owned.push(b'\n');
        }
        std::borrow::Cow::Owned(owned)
    }

    /// A parser error as a located `invalid YAML` error.
    fn parse_error(&mut self, err: &libyaml_safer::Error) {
        let span = Span::at(err.problem_mark().map_or(0, |m| self.offset(m))).in_file(self.file);
        let help = match (err.context(), err.context_mark()) {
            (Some(context), Some(mark)) => {
                let offset = self.offset(mark);
                let line = self.line(offset);
                Some(format!("{context} that starts on line {line}"))
            }
            _ => None,
        };
        self.error(format!("invalid YAML: {}", err.problem()), span, help);
    }

    /// The first alias refused for the budget (and how many after it), as the one limit.
    fn report_refused(&mut self) {
        let Some((name, span)) = self.refused.take() else {
            return;
        };
        let more = super::interpolate::refused_too(self.refused_more, "alias", "aliases");
        self.out.limits.push(LoadError {
            message: format!(
                "alias `*{}` passes the alias expansion budget ({}); treated as unknown",
                super::interpolate::clip_name(&name),
                super::interpolate::show_bytes(usize::try_from(self.budget).unwrap_or(usize::MAX))
            ),
            span,
            help: Some(format!(
                "aliases may expand to {} bytes per file (64 per node plus scalar bytes){more}; \
                 every alias copies what its anchor holds, so a large anchor used many \
                 times, or anchors that alias each other (\"billion laughs\"), add up",
                self.budget
            )),
        });
    }

    fn run(mut self) -> Parsed {
        let input = self.input();
        // where the added break is, when the last line has content a block scalar may end with
        let last_line = self.text.rsplit('\n').next().unwrap_or("");
        let added_break_at =
            (!self.text.ends_with('\n') && !last_line.trim().is_empty()).then_some(self.text.len());
        let mut parser = Parser::new();
        parser.set_input(&input[..]);
        loop {
            let event = match parser.parse() {
                Ok(event) => event,
                Err(err) => {
                    self.parse_error(&err);
                    break;
                }
            };
            let start = self.offset(event.start_mark);
            let end = self.offset(event.end_mark);
            self.reached.set(end);
            let step = match event.data {
                EventData::StreamEnd => break,
                EventData::StreamStart { .. } => Ok(()),
                EventData::DocumentStart { .. } => {
                    // anchors are per document; the alias budget is for the whole file
                    self.anchors.clear();
                    Ok(())
                }
                EventData::DocumentEnd { .. } => Ok(()),
                EventData::Alias { anchor } => {
                    self.alias(&anchor, Span::new(start, end).in_file(self.file))
                }
                EventData::Scalar {
                    anchor,
                    tag,
                    mut value,
                    style,
                    ..
                } => {
                    let block = matches!(style, ScalarStyle::Literal | ScalarStyle::Folded);
                    if block
                        && added_break_at
                            .is_some_and(|at| self.unclamped_offset(event.end_mark) > at)
                    {
                        // the line break we added (see above) is not part of the value
                        if value.ends_with('\n') {
                            value.pop();
                        }
                    }
                    let style = match style {
                        ScalarStyle::SingleQuoted => Style::SingleQuoted,
                        ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
                        ScalarStyle::Literal => Style::Literal,
                        ScalarStyle::Folded => Style::Folded,
                        _ => Style::Plain,
                    };
                    let start = if anchor.is_some() || tag.is_some() {
                        self.skip_properties(start, end)
                    } else {
                        start
                    };
                    let node = Node {
                        span: Span::new(start, end).in_file(self.file),
                        tag,
                        size: NODE_WEIGHT
                            .saturating_add(u64::try_from(value.len()).unwrap_or(u64::MAX)),
                        kind: NodeKind::Scalar { value, style },
                        height: 0,
                    };
                    self.push(node, anchor)
                }
                EventData::SequenceStart {
                    anchor, tag, style, ..
                } => {
                    let flow = style == SequenceStyle::Flow;
                    self.open(start, end, flow, anchor, tag, FrameKind::Seq(Vec::new()))
                }
                EventData::MappingStart {
                    anchor, tag, style, ..
                } => {
                    let flow = style == MappingStyle::Flow;
                    let kind = FrameKind::Map {
                        pairs: Vec::new(),
                        key: None,
                    };
                    self.open(start, end, flow, anchor, tag, kind)
                }
                EventData::SequenceEnd | EventData::MappingEnd => self.close(end),
            };
            if step.is_err() {
                break;
            }
        }
        self.out.expanded = self.expanded;
        self.report_refused();
        self.out
    }

    /// Start of a scalar after its `&anchor` / `!tag` properties (and any comment between).
    fn skip_properties(&self, start: u32, end: u32) -> u32 {
        let bytes = self.text.as_bytes();
        let (mut i, end) = (start as usize, (end as usize).min(bytes.len()));
        while i < end {
            match bytes.get(i) {
                Some(b'&' | b'!') => {
                    while i < end && !matches!(bytes.get(i), Some(b' ' | b'\t' | b'\r' | b'\n')) {
                        i += 1;
                    }
                }
                Some(b' ' | b'\t' | b'\r' | b'\n') => i += 1,
                Some(b'#') => {
                    while i < end && bytes.get(i) != Some(&b'\n') {
                        i += 1;
                    }
                }
                _ => break,
            }
        }
        u32::try_from(i.min(end)).unwrap_or(start)
    }

    fn open(
        &mut self,
        start: u32,
        end: u32,
        flow: bool,
        anchor: Option<String>,
        tag: Option<String>,
        kind: FrameKind,
    ) -> Result<(), Abort> {
        if self.stack.len() >= MAX_DEPTH {
            self.error(
                format!("nesting is too deep (more than {MAX_DEPTH} levels)"),
                Span::new(start, end).in_file(self.file),
                Some(
                    "flatten the structure; Compose files are never nested this deeply".to_string(),
                ),
            );
            return Err(Abort);
        }
        // Block collections start at their first entry (the `-` or the first key); flow ones at
        // the `[`/`{`, which ends the start event.
        let start = if flow {
            end.saturating_sub(1).max(start)
        } else {
            end
        };
        self.stack.push(Frame {
            start,
            flow,
            anchor,
            tag,
            kind,
        });
        Ok(())
    }

    fn close(&mut self, end: u32) -> Result<(), Abort> {
        let Some(frame) = self.stack.pop() else {
            return Ok(());
        };
        let (kind, children_end) = match frame.kind {
            FrameKind::Seq(items) => {
                let last = items.last().map(|n| n.span.end);
                (NodeKind::Seq(items), last)
            }
            FrameKind::Map { pairs, key } => {
                if let Some(key) = key {
                    // a key without a value event cannot happen with libyaml; keep it anyway
                    let value = null_at(Span::at(key.span.end).in_file(key.span.file));
                    let mut pairs = pairs;
                    pairs.push((key, Rc::new(value)));
                    self.check_map(&pairs);
                    let last = pairs.last().map(|(_, v)| v.span.end);
                    (NodeKind::Map(pairs), last)
                } else {
                    self.check_map(&pairs);
                    let last = pairs.last().map(|(k, v)| v.span.end.max(k.span.end));
                    (NodeKind::Map(pairs), last)
                }
            }
        };
        let end = if frame.flow {
            end
        } else {
            children_end.unwrap_or(frame.start).max(frame.start)
        };
        let (size, height) = match &kind {
            NodeKind::Seq(items) => items.iter().fold((NODE_WEIGHT, 0usize), |(s, h), n| {
                (s.saturating_add(n.size), h.max(n.height))
            }),
            NodeKind::Map(pairs) => pairs.iter().fold((NODE_WEIGHT, 0usize), |(s, h), (k, v)| {
                (
                    s.saturating_add(k.size).saturating_add(v.size),
                    h.max(k.height).max(v.height),
                )
            }),
            NodeKind::Scalar { .. } => (NODE_WEIGHT, 0),
        };
        let node = Node {
            span: Span::new(frame.start, end).in_file(self.file),
            tag: frame.tag,
            kind,
            size,
            height: height + 1,
        };
        self.push(node, frame.anchor)
    }

    fn alias(&mut self, name: &str, span: Span) -> Result<(), Abort> {
        let Some(target) = self.anchors.get(name).cloned() else {
            self.error(
                format!("undefined alias `*{name}`"),
                span,
                Some(format!("define `&{name}` on a node before this alias")),
            );
            // an empty mapping stands in, so a `<<: *missing` is not reported twice
            return self.attach(Rc::new(Node {
                span,
                tag: None,
                kind: NodeKind::Map(Vec::new()),
                size: NODE_WEIGHT,
                height: 1,
            }));
        };
        if self.stack.len() + target.height > MAX_DEPTH {
            self.error(
                format!(
                    "nesting is too deep (more than {MAX_DEPTH} levels) after expanding `*{name}`"
                ),
                span,
                None,
            );
            return Err(Abort);
        }
        let expanded = self.expanded.saturating_add(target.size);
        if expanded > self.budget {
            // refused: an empty node of the same kind stands in, its value unknown; the budget
            // is not charged, so later aliases that fit are still expanded
            if self.refused.is_none() {
                self.refused = Some((name.to_string(), span));
            } else {
                self.refused_more += 1;
            }
            let kind = match &target.kind {
                NodeKind::Scalar { style, .. } => NodeKind::Scalar {
                    value: format!("*{name}"),
                    style: *style,
                },
                NodeKind::Seq(_) => NodeKind::Seq(Vec::new()),
                NodeKind::Map(_) => NodeKind::Map(Vec::new()),
            };
            let height = usize::from(!matches!(kind, NodeKind::Scalar { .. }));
            return self.attach(Rc::new(Node {
                span,
                tag: Some(UNKNOWN_TAG.to_string()),
                kind,
                size: NODE_WEIGHT,
                height,
            }));
        }
        self.expanded = expanded;
        self.attach(target)
    }

    fn push(&mut self, node: Node, anchor: Option<String>) -> Result<(), Abort> {
        let node = Rc::new(node);
        if let Some(anchor) = anchor {
            self.anchors.insert(anchor, Rc::clone(&node));
        }
        self.attach(node)
    }

    fn attach(&mut self, node: Rc<Node>) -> Result<(), Abort> {
        match self.stack.last_mut() {
            None => self.out.docs.push(node),
            Some(Frame {
                kind: FrameKind::Seq(items),
                ..
            }) => items.push(node),
            Some(Frame {
                kind: FrameKind::Map { pairs, key },
                ..
            }) => match key.take() {
                None => *key = Some(node),
                Some(k) => pairs.push((k, node)),
            },
        }
        Ok(())
    }

    /// Duplicate keys (as Compose's YAML parser reports them) and malformed `<<` values.
    fn check_map(&mut self, pairs: &[(Rc<Node>, Rc<Node>)]) {
        let mut seen: HashMap<&str, Span> = HashMap::with_capacity(pairs.len());
        let mut errors = Vec::new();
        for (key, value) in pairs {
            if let Some(k) = key.scalar() {
                if let Some(first) = seen.get(k) {
                    let line = self.line(first.start);
                    errors.push(LoadError {
                        message: format!("duplicate key `{k}`"),
                        span: key.span,
                        help: Some(format!(
                            "`{k}` is already defined on line {line}; remove one of them"
                        )),
                    });
                } else {
                    seen.insert(k, key.span);
                }
            }
            if key.is_merge_key() {
                let ok = match &value.kind {
                    NodeKind::Map(_) => true,
                    NodeKind::Seq(items) => items.iter().all(|n| n.as_map().is_some()),
                    NodeKind::Scalar { .. } => false,
                };
                if !ok {
                    errors.push(LoadError {
                        message: "merge key `<<` needs a mapping or a list of mappings".to_string(),
                        span: value.span,
                        help: Some("use an alias to a mapping, e.g. `<<: *defaults`".to_string()),
                    });
                }
            }
        }
        self.out.errors.extend(errors);
    }
}

/// An empty plain scalar (YAML null) at `offset`.
fn null_at(span: Span) -> Node {
    Node {
        span,
        tag: None,
        kind: NodeKind::Scalar {
            value: String::new(),
            style: Style::Plain,
        },
        size: NODE_WEIGHT,
        height: 0,
    }
}

#[cfg(test)]
mod budget_tests {
    use super::*;

    /// [`in_file`] of a tree parsed as file 1 is the tree parsed as file 7: every fixture and
    /// hostile Compose file, and texts with aliases, merge keys, tags and several documents.
    #[test]
    fn a_tree_moved_to_another_file_is_that_file_s_parse() {
        let mut texts = vec![
            "a: &x {b: [1, *y]}\nc: *x\n<<: *x\n".to_string(),
            "x: &y [1, 2]\nz: !reset *y\n---\nw: !!str 3\n".to_string(),
        ];
        for path in crate::testing::repository_files(&["fixtures", "tests/hostile"]) {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if name.ends_with(".yml") || name.ends_with(".yaml") {
                texts.extend(std::fs::read_to_string(&path).ok());
            }
        }
        assert!(texts.len() > 100, "{}", texts.len());
        for text in &texts {
            let moved: Vec<String> = (parse_in(text, 1).docs.iter())
                .map(|d| format!("{:?}", in_file(d, 7)))
                .collect();
            let direct: Vec<String> = (parse_in(text, 7).docs.iter())
                .map(|d| format!("{d:?}"))
                .collect();
            assert_eq!(moved, direct, "{text}");
        }
    }

    #[test]
    fn one_large_string_aliased_many_times_is_refused_by_bytes() {
        // 100 KB aliased 2,000 times: few nodes, 200 MB of strings
        let mut text = format!("x: &big {}\nl:\n", "a".repeat(100_000));
        for _ in 0..2_000 {
            text.push_str("  - *big\n");
        }
        let parsed = parse(&text);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        assert_eq!(parsed.limits.len(), 1);
        let e = &parsed.limits[0];
        // 16 MiB / 100,064 bytes: 167 aliases fit, the 168th is refused
        let nth = text.match_indices("*big").nth(167).map(|(i, _)| i);
        assert_eq!(Some(e.span.start as usize), nth);
        let help = e.help.as_deref().unwrap_or("");
        assert!(
            help.contains("(1832 more aliases were refused too)"),
            "{help}"
        );
        assert!(parsed.expanded <= alias_budget(text.len()));
        // the refused ones stand for unknown scalars; the list keeps its length
        let root = parsed.docs[0].as_map().unwrap_or_default();
        let list = root[1].1.as_seq().unwrap_or_default();
        assert_eq!(list.len(), 2_000);
        assert_eq!(list[166].scalar().map(str::len), Some(100_000));
        assert_eq!(list[167].tag.as_deref(), Some(UNKNOWN_TAG));
        assert_eq!(list[167].scalar(), Some("*big"));
    }

    #[test]
    fn merge_key_bomb_is_refused() {
        // each level merges the previous one twice over: the merged mapping doubles
        let mut text = String::from("l0: &l0 {k0: v}\n");
        for i in 1..40 {
            text.push_str(&format!(
                "l{i}: &l{i} {{<<: [*l{0}, *l{0}], k{i}: v}}\n",
                i - 1
            ));
        }
        text.push_str("services:\n  web:\n    <<: *l39\n    image: nginx\n");
        let parsed = parse(&text);
        assert_eq!(parsed.limits.len(), 1);
        let at = parsed.limits[0].span.start as usize;
        assert!(text[at..].starts_with("*l"), "{}", &text[at..at + 10]);
        // a refused mapping is an empty mapping: `<<` still has a mapping to merge
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        assert!(parsed.expanded <= alias_budget(text.len()));
    }
}
