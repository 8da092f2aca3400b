//! The analysed Dockerfile (hadolint's `Shell` analogue): what rules read beyond the parsed
//! model. Instructions with their stage and `ONBUILD` origin ([`instructions_of`]), the shell
//! scripts every `RUN` runs, tokenized once per Dockerfile ([`Analysis`], kept with the model in
//! [`Dockerfile::derived`]), base images, file-mode sites, heredoc lines, `ADD`/`COPY` sources,
//! and small text helpers that the Dockerfile rules share.
//!
//! Reads the model, [`super::semantics`] and [`super::shell`] only; nothing here knows a rule.

pub(crate) use crate::dockerfile::model::unquote;
use crate::dockerfile::model::{Arguments, Dockerfile, Flag, Instruction, Keyword, Stage, Text};
use crate::dockerfile::semantics::{self, Scope};
use crate::dockerfile::shell::{self, Command, Script, Word};
use crate::source::Span;

/// The analysed model of one Dockerfile: the shell scripts of every `RUN` (and `ONBUILD RUN`
/// trigger), tokenized once on first use however many rules read them. Built by
/// [`Analysis::of`] and kept in [`Dockerfile::derived`] (a clone of the model starts without it).
#[derive(Debug, Default)]
pub struct Analysis {
    /// One entry per `RUN` or `ONBUILD RUN`, in file order (sorted by instruction index).
    runs: Vec<RunScripts>,
}

/// The tokenized scripts of one `RUN`.
#[derive(Debug)]
struct RunScripts {
    /// Index of the (outer) instruction in [`Dockerfile::instructions`].
    index: usize,
    /// The `RUN` is an `ONBUILD` trigger.
    onbuild: bool,
    scripts: Vec<(Script, ScriptSource)>,
}

impl Analysis {
    /// The analysis of `df`, built on the first call and kept with the model.
    pub fn of(df: &Dockerfile) -> &Analysis {
        df.derived.analysis.get_or_init(|| Analysis::build(df))
    }

    fn build(df: &Dockerfile) -> Analysis {
        let runs = instructions_of(df, Keyword::Run)
            .iter()
            .map(|run| RunScripts {
                index: run.index,
                onbuild: run.onbuild,
                scripts: tokenize_run(df, run),
            })
            .collect();
        Analysis { runs }
    }

    /// The tokenized scripts of the `RUN` at `index` (its `ONBUILD` trigger when `onbuild`).
    fn scripts(&self, index: usize, onbuild: bool) -> &[(Script, ScriptSource)] {
        self.runs
            .binary_search_by_key(&(index, onbuild), |r| (r.index, r.onbuild))
            .ok()
            .and_then(|i| self.runs.get(i))
            .map_or(&[], |r| r.scripts.as_slice())
    }
}

/// An instruction as a rule sees it: the instruction itself, or the trigger of an `ONBUILD`.
#[derive(Clone, Copy)]
pub(crate) struct Located<'a> {
    /// The instruction to check (for `ONBUILD RUN x`, the `RUN x` trigger).
    pub ins: &'a Instruction,
    /// The stage it belongs to (`None` before the first `FROM`).
    pub stage: Option<&'a Stage>,
    /// Index of the (outer) instruction in [`Dockerfile::instructions`].
    pub index: usize,
    /// The trigger came from an `ONBUILD`.
    pub onbuild: bool,
}

impl<'a> Located<'a> {
    /// Variable scope just before this instruction.
    pub fn scope(&self) -> Scope<'a> {
        match self.stage {
            Some(stage) => Scope::Before {
                stage,
                index: self.index,
            },
            None => Scope::Global,
        }
    }
}

/// The `COPY`/`ADD` instructions that read the build context, in file order: not `ONBUILD`
/// triggers (they copy a child build's context), not `--from` (another stage or image).
pub(crate) fn context_copies(df: &Dockerfile) -> Vec<Located<'_>> {
    let mut all = instructions_of(df, Keyword::Copy);
    all.extend(instructions_of(df, Keyword::Add));
    all.retain(|l| !l.onbuild && l.ins.flag("from").is_none());
    all.sort_by_key(|l| l.ins.span.start);
    all
}

/// Every instruction of kind `kind`, including `ONBUILD` triggers of that kind, in file order.
pub(crate) fn instructions_of<'a>(df: &'a Dockerfile, kind: Keyword) -> Vec<Located<'a>> {
    let mut out = Vec::new();
    // stages hold ascending, disjoint ranges: walk them alongside the instructions
    let mut stages = df.stages.iter().peekable();
    for (index, ins) in df.instructions.iter().enumerate() {
        while stages.peek().is_some_and(|s| s.instructions.end <= index) {
            stages.next();
        }
        let stage = stages
            .peek()
            .copied()
            .filter(|s| s.instructions.contains(&index));
        if ins.kind == kind {
            out.push(Located {
                ins,
                stage,
                index,
                onbuild: false,
            });
        }
        if ins.kind == Keyword::Onbuild
            && let Some(trigger) = ins.onbuild.as_deref()
            && trigger.kind == kind
        {
            out.push(Located {
                ins: trigger,
                stage,
                index,
                onbuild: true,
            });
        }
    }
    out
}

/// Where the byte ranges of a tokenized script point.
#[derive(Clone, Copy)]
pub(crate) enum Origin<'a> {
    /// Into a [`Text`] (shell-form arguments, heredoc bodies).
    Text(&'a Text),
    /// Directly into the file (exec-form items).
    File,
}

impl Origin<'_> {
    /// The file span of the script range `start..end`.
    pub fn span(&self, start: u32, end: u32) -> Span {
        match self {
            Origin::Text(t) => t.source_span(start, end),
            Origin::File => Span::new(start, end.max(start)),
        }
    }

    /// The file span of a whole word as written.
    pub fn word(&self, w: &Word) -> Span {
        self.span(w.start, w.end)
    }

    /// The file span of the value bytes `start..end` of a word.
    pub fn word_part(&self, w: &Word, start: usize, end: usize) -> Span {
        let (s, e) = w.value_range(start, end);
        self.span(s, e)
    }
}

/// Calls `f` for every simple command that a `RUN` runs (`ONBUILD RUN` triggers, heredoc scripts,
/// `sh -c` strings, groups and substitutions included), with where its ranges point.
pub(crate) fn for_each_run_command<'a>(
    df: &'a Dockerfile,
    f: &mut dyn FnMut(&Located<'a>, &Command, Origin<'a>),
) {
    for run in instructions_of(df, Keyword::Run) {
        for (script, origin) in run_scripts(df, &run) {
            script.for_each_command(&mut |c| f(&run, c, origin));
        }
    }
}

/// The `NAME=value` words a command sets in the environment: leading assignments, `env NAME=value`
/// before the program, and the arguments of `export`/`declare`/`typeset`/`readonly`/`local`.
pub(crate) fn env_assignments(cmd: &Command) -> Vec<&Word> {
    let mut out: Vec<&Word> = cmd.assignments.iter().collect();
    let prog_index = cmd.program_index().unwrap_or(cmd.words.len());
    out.extend(
        cmd.words
            .iter()
            .take(prog_index)
            .filter(|w| is_assignment(&w.value)),
    );
    if matches!(
        cmd.program(),
        Some("export" | "declare" | "typeset" | "readonly" | "local")
    ) {
        out.extend(cmd.args().iter().filter(|w| is_assignment(&w.value)));
    }
    out
}

fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// One line of a heredoc body attached to a `RUN`, `COPY` or `ADD` (or their `ONBUILD` triggers).
pub(crate) struct HeredocLine<'a> {
    /// The line without surrounding whitespace.
    pub text: &'a str,
    /// The trimmed line in the file.
    pub span: Span,
}

/// Every line of every heredoc body in the Dockerfile (file contents written by `COPY <<EOF`,
/// `RUN cat <<EOF > file`, and script bodies alike).
pub(crate) fn heredoc_lines(df: &Dockerfile) -> Vec<HeredocLine<'_>> {
    let mut out = Vec::new();
    for ins in &df.instructions {
        let ins = match (ins.kind, ins.onbuild.as_deref()) {
            (Keyword::Onbuild, Some(trigger)) => trigger,
            _ => ins,
        };
        for h in &ins.heredocs {
            let body = &h.body;
            let mut offset = 0usize;
            for line in body.value.split_inclusive('\n') {
                let trimmed = line.trim();
                if !trimmed.is_empty() {
                    let lead = line.len() - line.trim_start().len();
                    let start = u32::try_from(offset + lead).unwrap_or(u32::MAX);
                    let end = start.saturating_add(u32::try_from(trimmed.len()).unwrap_or(0));
                    out.push(HeredocLine {
                        text: trimmed,
                        span: body.source_span(start, end),
                    });
                }
                offset += line.len();
            }
        }
    }
    out
}

/// `key = value` in an INI-style line (`gpgcheck=0`, `sslverify = false`): the lowercased key and
/// value; `None` for other lines.
pub(crate) fn ini_pair(line: &str) -> Option<(String, String)> {
    let (k, v) = line.split_once('=')?;
    let k = k.trim();
    if k.is_empty()
        || !k
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return None;
    }
    let v = v.trim().trim_matches(|c| c == '"' || c == '\'');
    Some((k.to_ascii_lowercase(), v.to_ascii_lowercase()))
}

/// The value means "off": `0`, `false`, `no`, `off`.
pub(crate) fn is_off(value: &str) -> bool {
    matches!(
        value.to_ascii_lowercase().as_str(),
        "0" | "false" | "no" | "off"
    )
}

/// Finds `key=<off>` inside `text` (case-insensitive), where `key` is not part of a longer name
/// (`repo_gpgcheck=0` is not `gpgcheck=0`): the byte range of `key=value`.
pub(crate) fn find_key_off(text: &str, key: &str) -> Option<(usize, usize)> {
    // most words hold no key at all: skip the lowered copy and the searches
    if !contains_ignore_ascii_case(text, key) {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    let mut from = 0usize;
    while let Some(pos) = lower.get(from..).and_then(|r| r.find(key)) {
        let start = from + pos;
        let before_ok = lower[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'));
        let after = &lower[start + key.len()..];
        let rest = after.trim_start();
        if before_ok && let Some(value) = rest.strip_prefix('=') {
            let value = value.trim_start().trim_start_matches(['"', '\'']);
            let len = value
                .find(|c: char| !c.is_ascii_alphanumeric())
                .unwrap_or(value.len());
            if is_off(&value[..len]) {
                let end = lower.len() - (value.len() - len);
                return Some((start, end));
            }
        }
        from = start + key.len();
    }
    None
}

/// `needle` occurs in `hay`, ASCII letters compared without case: a cheap test before lowering
/// `hay` and searching it (it never says no where a search of the lowered text would find
/// `needle`).
pub(crate) fn contains_ignore_ascii_case(hay: &str, needle: &str) -> bool {
    let (hay, needle) = (hay.as_bytes(), needle.as_bytes());
    let Some(&first) = needle.first() else {
        return true;
    };
    let first = first.to_ascii_lowercase();
    hay.len() >= needle.len()
        && (0..=hay.len() - needle.len()).any(|i| {
            hay[i].to_ascii_lowercase() == first
                && hay[i..i + needle.len()].eq_ignore_ascii_case(needle)
        })
}

/// The replacement part of a `sed` `s` expression (`s/a/b/g` -> `b`), or the word when it is not one.
pub(crate) fn sed_replacement(expr: &str) -> &str {
    let mut chars = expr.char_indices();
    let Some((_, 's')) = chars.next() else {
        return expr;
    };
    let Some((at, delim)) = chars.next() else {
        return expr;
    };
    let rest = expr.get(at + delim.len_utf8()..).unwrap_or_default();
    let parts: Vec<&str> = rest.split(delim).collect();
    parts.get(1).copied().unwrap_or(expr)
}

/// What a file mode sets (`chmod` modes, `--chmod=`, `mkdir -m`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ModeEffect {
    /// Write permission for others.
    pub world_write: bool,
    /// The sticky bit.
    pub sticky: bool,
    pub setuid: bool,
    pub setgid: bool,
}

/// The bits a mode adds: octal (`0777`, `4755`) or symbolic (`u+s,o+w`, `a=rwx`). `None` when the
/// word is not a mode. A symbolic clause without `who` (`+w`) honours the umask, so it does not
/// count as world-writable (but `+s` sets both setuid and setgid).
pub(crate) fn mode_effect(mode: &str) -> Option<ModeEffect> {
    if mode.is_empty() {
        return None;
    }
    if mode.chars().all(|c| c.is_digit(8)) {
        if mode.len() > 5 {
            return None;
        }
        let v = u32::from_str_radix(mode, 8).ok()?;
        return Some(ModeEffect {
            world_write: v & 0o002 != 0,
            sticky: v & 0o1000 != 0,
            setuid: v & 0o4000 != 0,
            setgid: v & 0o2000 != 0,
        });
    }
    let mut effect = ModeEffect::default();
    for clause in mode.split(',') {
        let who_len = clause
            .find(|c: char| !matches!(c, 'u' | 'g' | 'o' | 'a'))
            .unwrap_or(clause.len());
        let who = &clause[..who_len];
        let mut rest = &clause[who_len..];
        if rest.is_empty() {
            return None;
        }
        while let Some(op) = rest.chars().next() {
            if !matches!(op, '+' | '-' | '=') {
                return None;
            }
            rest = &rest[1..];
            let perm_len = rest
                .find(|c: char| !matches!(c, 'r' | 'w' | 'x' | 'X' | 's' | 't' | 'u' | 'g' | 'o'))
                .unwrap_or(rest.len());
            let perms = &rest[..perm_len];
            rest = &rest[perm_len..];
            if op == '-' {
                continue;
            }
            let all = who.contains('a');
            if perms.contains('w') && (all || who.contains('o')) {
                effect.world_write = true;
            }
            if perms.contains('t') {
                effect.sticky = true;
            }
            if perms.contains('s') {
                effect.setuid |= who.is_empty() || all || who.contains('u');
                effect.setgid |= who.is_empty() || all || who.contains('g');
            }
        }
    }
    Some(effect)
}

/// A mode set by a command: `chmod MODE files…`, `mkdir -m MODE`, `install -m MODE`.
pub(crate) struct ModeSet<'c> {
    pub mode: &'c Word,
    /// The mode's text (`-m` prefix removed for `-mMODE`), and where it starts in the word value.
    pub value: &'c str,
    pub offset: usize,
    /// The files or directories (operands after the mode).
    pub targets: Vec<&'c Word>,
    /// The targets are known to be directories (`mkdir`, `install -d`, `find -type d`).
    pub dirs_only: bool,
}

/// A stage's base image that is pulled (not `scratch`, not an earlier stage), with global `ARG`
/// defaults expanded. Unresolvable references are left out.
pub(crate) struct BaseImage<'a> {
    pub stage: &'a Stage,
    /// As written in `FROM`.
    pub written: &'a str,
    /// After `ARG` expansion.
    pub image: String,
    /// For messages: `` `python:3.12` `` or `` `${BASE}` (`node:latest`) ``.
    pub shown: String,
}

impl BaseImage<'_> {
    /// `(name, tag, digest)` of the expanded reference.
    pub fn parts(&self) -> (&str, Option<&str>, Option<&str>) {
        semantics::split_image_ref(&self.image)
    }

    /// Labels the global `ARG` defaults that the `FROM` line uses.
    pub fn label_arg_defaults(
        &self,
        d: &mut crate::diagnostic::Diagnostic,
        df: &Dockerfile,
        file: &crate::source::FileRef,
    ) {
        if !self.written.contains('$') {
            return;
        }
        // only the names the line refers to: one lookup each, not a scan of every global ARG
        for (key, span) in semantics::global_defaults_used(df, self.written) {
            d.label(file, span, format!("`{key}` defaults to this value"));
        }
    }
}

/// Every pulled base image, in stage order.
pub(crate) fn base_images(df: &Dockerfile) -> Vec<BaseImage<'_>> {
    let mut out = Vec::new();
    for stage in &df.stages {
        if semantics::parent_stage(df, stage).is_some() {
            continue;
        }
        let written = stage.image.value.as_str();
        let Some(image) = semantics::expand_with_args(df, written, Scope::Global) else {
            continue;
        };
        if image.is_empty() || image.eq_ignore_ascii_case("scratch") {
            continue;
        }
        let shown = if written == image {
            format!("`{}`", snippet(written, 60))
        } else {
            format!("`{}` (`{}`)", snippet(written, 30), snippet(&image, 30))
        };
        out.push(BaseImage {
            stage,
            written,
            image,
            shown,
        });
    }
    out
}

/// A place where the Dockerfile sets a file mode: `chmod`/`mkdir -m`/`install -m` in a `RUN`, or
/// `COPY`/`ADD --chmod=`.
pub(crate) struct ModeSite {
    /// The mode as written in the file.
    pub span: Span,
    pub effect: ModeEffect,
    /// How it reads in a message: `chmod 4755`, `mkdir -m 777`, `COPY --chmod=777`.
    pub written: String,
    /// What it applies to, for messages: `` `/usr/bin/x` ``, `files` or `the copied files`.
    pub target: String,
    /// The paths it applies to (`RUN` only).
    pub targets: Vec<String>,
    /// Applied to directories only (`find -type d -exec chmod`).
    pub dirs_only: bool,
    /// The `RUN` instruction's index, for `RUN` sites.
    pub run_index: Option<usize>,
}

/// Every mode the Dockerfile sets, in file order.
pub(crate) fn mode_sites(df: &Dockerfile) -> Vec<ModeSite> {
    let mut out = Vec::new();
    for_each_run_command(df, &mut |run, cmd, origin| {
        let Some(set) = mode_sets(cmd) else { return };
        let Some(effect) = mode_effect(set.value) else {
            return;
        };
        let prog = match cmd.program() {
            Some(p @ ("mkdir" | "install")) => format!("{p} -m"),
            _ => "chmod".to_string(),
        };
        out.push(ModeSite {
            span: origin.word_part(set.mode, set.offset, set.offset + set.value.len()),
            effect,
            written: format!("{prog} {}", snippet(set.value, 20)),
            target: set.targets.first().map_or_else(
                || "files".to_string(),
                |t| format!("`{}`", snippet(&t.value, 40)),
            ),
            targets: set.targets.iter().map(|t| t.value.clone()).collect(),
            dirs_only: set.dirs_only,
            run_index: Some(run.index),
        });
    });
    let mut copies = instructions_of(df, Keyword::Copy);
    copies.extend(instructions_of(df, Keyword::Add));
    for loc in copies {
        let Some(flag) = loc.ins.flag("chmod") else {
            continue;
        };
        let (Some(raw), Some(value)) = (&flag.value, flag.unquoted_value()) else {
            continue;
        };
        let Some(effect) = mode_effect(&value) else {
            continue;
        };
        let keyword = loc.ins.keyword.value.to_ascii_uppercase();
        out.push(ModeSite {
            span: raw.span,
            effect,
            written: format!("{keyword} --chmod={}", snippet(&value, 20)),
            target: "the copied files".to_string(),
            targets: Vec::new(),
            dirs_only: false,
            run_index: None,
        });
    }
    out.sort_by_key(|m| (m.span.start, m.span.end));
    out
}

/// The mode a `chmod`, `mkdir` or `install` command sets (also `find … -exec chmod MODE {} +`).
pub(crate) fn mode_sets(cmd: &Command) -> Option<ModeSet<'_>> {
    let prog = cmd.program()?;
    let args = cmd.args();
    match prog {
        "chmod" => chmod_mode(args),
        "find" => {
            let exec = args.iter().position(|w| {
                matches!(w.value.as_str(), "-exec" | "-execdir" | "-ok" | "-okdir")
            })?;
            if args.get(exec + 1).map(|w| shell::basename(&w.value)) != Some("chmod") {
                return None;
            }
            let mut set = chmod_mode(args.get(exec + 2..)?)?;
            set.dirs_only = args
                .windows(2)
                .take(exec)
                .any(|p| matches!(p, [a, b] if a.value == "-type" && b.value == "d"));
            set.targets = args
                .iter()
                .take(exec)
                .take_while(|w| !w.value.starts_with('-'))
                .collect();
            Some(set)
        }
        "mkdir" | "install" => {
            for (i, w) in args.iter().enumerate() {
                let v = w.value.as_str();
                let (mode, value, offset) = if v == "-m" || v == "--mode" {
                    let m = args.get(i + 1)?;
                    (m, m.value.as_str(), 0)
                } else if let Some(rest) = v.strip_prefix("--mode=") {
                    (w, rest, 7)
                } else if let Some(rest) = v
                    .strip_prefix("-m")
                    .filter(|r| !r.is_empty() && !v.starts_with("--"))
                {
                    (w, rest, 2)
                } else {
                    continue;
                };
                let targets = args
                    .iter()
                    .skip(i + 1)
                    .filter(|t| !std::ptr::eq(*t, mode) && !t.value.starts_with('-'))
                    .collect();
                let dirs_only = prog == "mkdir"
                    || args.iter().any(|a| {
                        a.value == "--directory"
                            || (a.value.starts_with('-')
                                && !a.value.starts_with("--")
                                && a.value.contains('d'))
                    });
                return Some(ModeSet {
                    mode,
                    value,
                    offset,
                    targets,
                    dirs_only,
                });
            }
            None
        }
        _ => None,
    }
}

/// `chmod`'s arguments: options, the mode, then the files.
fn chmod_mode(args: &[Word]) -> Option<ModeSet<'_>> {
    let mut i = 0usize;
    while let Some(w) = args.get(i) {
        let v = w.value.as_str();
        if v == "--" {
            i += 1;
            break;
        }
        // Options; `-w`/`-x` style removals are modes, but they never add bits.
        if v.starts_with("--")
            || matches!(
                v,
                "-R" | "-v" | "-f" | "-c" | "-h" | "-H" | "-L" | "-P" | "-Rf" | "-fR"
            )
        {
            i += 1;
            continue;
        }
        break;
    }
    let mode = args.get(i)?;
    Some(ModeSet {
        mode,
        value: mode.value.as_str(),
        offset: 0,
        targets: args.iter().skip(i + 1).collect(),
        dirs_only: false,
    })
}

/// Whether an image reference names a build stage of `df` (by name or index) that is defined before
/// the instruction at `index`.
pub(crate) fn is_stage_ref(df: &Dockerfile, name: &str, index: usize) -> bool {
    semantics::stage_defined_before(df, name, index)
}

/// `--mount=` flag values of a `RUN`, each as `key=value` options: `(options, flag)`.
pub(crate) fn mount_options(ins: &Instruction) -> Vec<(Vec<(String, String)>, &Flag)> {
    ins.flags
        .iter()
        .filter(|f| f.name.value == "mount")
        .filter_map(|f| {
            let v = f.unquoted_value()?;
            let opts = v
                .split(',')
                .map(|o| match o.split_once('=') {
                    Some((k, v)) => (k.trim().to_ascii_lowercase(), v.trim().to_string()),
                    None => (o.trim().to_ascii_lowercase(), String::new()),
                })
                .collect();
            Some((opts, f))
        })
        .collect()
}

/// The shell scripts a `RUN` runs: its command (shell or exec form) and the heredoc bodies that
/// are scripts (`RUN <<EOF`, `RUN bash <<EOF`). Empty when the stage's shell is not POSIX.
/// Tokenized once per Dockerfile (see [`Analysis`]).
pub(crate) fn run_scripts<'a>(
    df: &'a Dockerfile,
    run: &Located<'a>,
) -> Vec<(&'a Script, Origin<'a>)> {
    Analysis::of(df)
        .scripts(run.index, run.onbuild)
        .iter()
        .map(|(script, source)| {
            let origin = match source {
                ScriptSource::Exec => Origin::File,
                ScriptSource::Args => run.ins.args.text().map_or(Origin::File, Origin::Text),
                ScriptSource::Heredoc(i) => run
                    .ins
                    .heredocs
                    .get(*i)
                    .map_or(Origin::File, |h| Origin::Text(&h.body)),
            };
            (script, origin)
        })
        .collect()
}

/// Where a tokenized RUN script came from, within its instruction.
#[derive(Debug, Clone, Copy)]
enum ScriptSource {
    Exec,
    Args,
    Heredoc(usize),
}

fn tokenize_run(df: &Dockerfile, run: &Located<'_>) -> Vec<(Script, ScriptSource)> {
    let ins = run.ins;
    if ins.kind != Keyword::Run {
        return Vec::new();
    }
    let mut out = Vec::new();
    match &ins.args {
        Arguments::Exec { items, .. } => {
            let script = shell::from_argv(
                items
                    .iter()
                    .map(|i| (i.value.clone(), i.span.start, i.span.end)),
            );
            out.push((script, ScriptSource::Exec));
        }
        Arguments::Text { text, .. } => {
            if !posix_shell(df, run) {
                return Vec::new();
            }
            let script = shell::parse(&text.value);
            let script_bodies: Vec<&str> = ins
                .heredocs
                .iter()
                .filter(|h| {
                    heredoc_is_script(&script, &h.name.value) && !non_shell_shebang(&h.body.value)
                })
                .map(|h| h.name.value.as_str())
                .collect();
            out.push((script, ScriptSource::Args));
            for (i, h) in ins.heredocs.iter().enumerate() {
                if script_bodies.contains(&h.name.value.as_str()) {
                    out.push((shell::parse(&h.body.value), ScriptSource::Heredoc(i)));
                }
            }
        }
    }
    out
}

/// The command that reads heredoc `name` is empty (`RUN <<EOF`: the body is the script) or a
/// shell reading its script from stdin (`RUN bash <<EOF`).
fn heredoc_is_script(script: &Script, name: &str) -> bool {
    let mut found = false;
    script.for_each_command(&mut |c| {
        let reads = c.redirects.iter().any(|r| {
            matches!(r.op.as_str(), "<<" | "<<-")
                && r.target.as_ref().is_some_and(|t| t.value == name)
        });
        if reads {
            let shell = c.program().is_some_and(|p| shell::SHELLS.contains(&p))
                && c.shell_c_script().is_none()
                && !c.args().iter().any(|a| !a.value.starts_with('-'));
            found |= c.words.is_empty() || shell;
        }
    });
    found
}

/// A heredoc script with a `#!` line for something other than a POSIX shell.
fn non_shell_shebang(body: &str) -> bool {
    let Some(line) = body.lines().next().and_then(|l| l.strip_prefix("#!")) else {
        return false;
    };
    let mut parts = line.split_whitespace();
    let mut prog = parts.next().map_or("", shell::basename);
    if prog == "env" {
        prog = parts
            .find(|p| !p.starts_with('-'))
            .map_or("", shell::basename);
    }
    !shell::SHELLS.contains(&prog)
}

/// The shell that runs shell-form `RUN` at this point is POSIX: the last `SHELL` of the stage or
/// its ancestors names a POSIX shell, or there is none and the root base image is not Windows.
fn posix_shell(df: &Dockerfile, run: &Located<'_>) -> bool {
    let Some(stage) = run.stage else { return true };
    if let Some(sh) = shell_in_force(df, run) {
        let prog = sh.words().first().map_or("", |w| shell::basename(&w.value));
        let prog = prog.strip_suffix(".exe").unwrap_or(prog);
        return shell::SHELLS.contains(&prog);
    }
    let root = semantics::root_stage(df, stage);
    let image = root.image.value.to_ascii_lowercase();
    !["windows", "nanoserver", "servercore"]
        .iter()
        .any(|w| image.contains(w))
}

/// The last `SHELL` before this instruction in its stage or the stages it builds on, if any
/// (looked up in the Dockerfile's index: no scan back over earlier instructions).
pub(crate) fn shell_in_force<'a>(df: &'a Dockerfile, run: &Located<'a>) -> Option<&'a Instruction> {
    let stage = run.stage?;
    let (_, i) = semantics::shell_before(df, stage, run.index)?;
    df.instructions.get(i)
}

/// `value` with whitespace runs collapsed, clipped only when huge (see [`crate::source::clip`]).
pub(crate) fn snippet(value: &str, max: usize) -> String {
    crate::source::clip(&value.split_whitespace().collect::<Vec<_>>().join(" "), max)
}

/// Shared by the `ADD` rules: the sources of an `ADD`/`COPY` (all words but the destination;
/// heredoc sources excluded), quotes removed, each with its span.
pub(crate) fn add_sources(ins: &Instruction) -> Vec<(String, Span)> {
    let words = ins.words();
    let Some((_, sources)) = words.split_last() else {
        return Vec::new();
    };
    let exec = ins.args.is_exec();
    sources
        .iter()
        .filter(|w| !w.value.starts_with("<<"))
        .map(|w| {
            let v = if exec {
                w.value.as_str()
            } else {
                unquote(&w.value)
            };
            (v.to_string(), w.span)
        })
        .collect()
}

/// BuildKit's idea of a git source: `git@…`, `git://…`, or an http(s) URL whose path ends in
/// `.git` (optionally followed by `#ref`).
pub(crate) fn is_git_url(src: &str) -> bool {
    let lower = src.to_ascii_lowercase();
    if lower.starts_with("git@") || lower.starts_with("git://") || lower.starts_with("ssh://") {
        return true;
    }
    let path = lower.split(['#', '?']).next().unwrap_or("");
    (lower.starts_with("http://") || lower.starts_with("https://"))
        && path.trim_end_matches('/').ends_with(".git")
}

/// `http://` or `https://` (case-insensitive).
pub(crate) fn is_http_url(src: &str) -> bool {
    let lower = src.get(..8).unwrap_or(src).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_and_http_urls() {
        assert!(is_git_url("git@github.com:moby/buildkit.git"));
        assert!(is_git_url("https://github.com/moby/buildkit.git#v0.10.1"));
        assert!(is_git_url("https://github.com/moby/buildkit.git/"));
        assert!(!is_git_url("https://example.com/a.tar.gz"));
        assert!(is_http_url("HTTPS://x"));
        assert!(!is_http_url("ftp://x"));
        assert!(!is_http_url("http"));
    }

    #[test]
    fn typed_arguments() {
        use crate::dockerfile::model::{HealthcheckArg, split_port};
        let df = crate::dockerfile::parse(
            "FROM a\nUSER app:staff\nWORKDIR \"/srv/x\"\nVOLUME [\"/data\", \"/logs\"]\nEXPOSE 22/tcp 80\nHEALTHCHECK NONE\n",
        );
        let user = df.instructions[1].user().expect("USER");
        assert_eq!(
            (user.written, user.user(), user.group()),
            ("app:staff", "app", Some("staff"))
        );
        let paths: Vec<&str> = df.instructions[2..4]
            .iter()
            .flat_map(|i| i.paths())
            .map(|p| p.path)
            .collect();
        assert_eq!(paths, ["/srv/x", "/data", "/logs"]);
        let ports: Vec<_> = df.instructions[4]
            .ports()
            .iter()
            .map(|p| split_port(p.written))
            .collect();
        assert_eq!(ports, [("22", Some("tcp")), ("80", None)]);
        assert!(matches!(
            df.instructions[5].healthcheck(),
            Some(HealthcheckArg::None { rest: [], .. })
        ));
        assert!(df.instructions[1].paths().is_empty() && df.instructions[2].user().is_none());
    }

    #[test]
    fn snippets() {
        assert_eq!(snippet("a  \n b", 10), "a b");
        assert_eq!(snippet("abcdefghij", 5), "abcdefghij");
    }

    #[test]
    fn shebangs() {
        assert!(non_shell_shebang("#!/usr/bin/env python3\nprint(1)"));
        assert!(!non_shell_shebang("#!/bin/bash\nset -e"));
        assert!(!non_shell_shebang("set -e"));
    }

    #[test]
    fn sed_replacement_with_any_delimiter() {
        assert_eq!(sed_replacement("s/a/b/g"), "b");
        assert_eq!(sed_replacement("s|x|y|"), "y");
        // a multi-byte delimiter (found by tests/mutation.rs: it used to slice inside it)
        assert_eq!(sed_replacement("s\u{feff}a\u{feff}b\u{feff}"), "b");
        assert_eq!(sed_replacement("s\u{feff}"), "s\u{feff}");
        assert_eq!(sed_replacement("other"), "other");
    }
}
