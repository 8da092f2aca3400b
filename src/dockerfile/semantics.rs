//! Facts derived from a parsed Dockerfile: stage ancestry, the effective user, ARG/ENV expansion.
//!
//! Everything here reads the model only; nothing re-parses instruction text beyond variable
//! references (`$VAR`, `${VAR}`, `${VAR:-default}`).

use std::collections::HashMap;

pub use super::build_args::{build_arg_without_default, first_unknown_ref};
use super::expand::{Budget, TooLarge, expand_into, referenced_names};
pub use super::expand::{expand_vars, expansion_budget};
use super::model::{Dockerfile, Instruction, Keyword, Stage};
pub use super::reference::split_image_ref;
use crate::source::{Span, Spanned};

/// Whether a user is root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserState {
    Root,
    NonRoot,
    /// The user could not be resolved (e.g. `USER $UID` with no default).
    Unknown,
}

/// The user a stage runs as.
#[derive(Debug, Clone)]
pub struct EffectiveUser<'a> {
    /// The USER instruction in force (in the stage or inherited from an ancestor stage `FROM <earlier stage>`), if any.
    pub instruction: Option<&'a Instruction>,
    /// The user after ARG/ENV default expansion where possible; span = the USER argument word.
    pub user: Option<Spanned<String>>,
    /// No USER anywhere in the chain -> `Root` (an external base image is assumed to run as root),
    /// except for base images known to default to a non-root user (see [`base_image_runs_as_nonroot`]).
    pub state: UserState,
    /// The FROM instruction of the examined stage (point here when no USER is set).
    pub from: &'a Instruction,
    /// The stage that holds `instruction` (the examined stage or one of its ancestors).
    pub stage: &'a Stage,
}

/// Where a variable reference is expanded.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// A `FROM` line: only the global `ARG` defaults (before the first `FROM`) are visible.
    Global,
    /// Inside `stage`, just before the instruction at `index` (an index into
    /// [`Dockerfile::instructions`]): the stage's `ARG`/`ENV` so far, plus `ENV` inherited from
    /// ancestor stages. `ENV` wins over an `ARG` of the same name, as in BuildKit.
    Before { stage: &'a Stage, index: usize },
}

/// The instruction at `index` of the Dockerfile, if any.
fn instruction(df: &Dockerfile, index: usize) -> Option<&Instruction> {
    df.instructions.get(index)
}

/// The user a stage runs as: the last `USER` of the stage, else of its parent stage, and so on.
pub fn effective_user<'a>(df: &'a Dockerfile, stage: &'a Stage) -> EffectiveUser<'a> {
    let from = instruction(df, stage.from);
    let idx = index(df);
    let found = idx
        .in_force(&idx.users, &idx.user_at_end, stage.index, usize::MAX)
        .and_then(|(s, i)| Some((df.stages.get(s)?, i, instruction(df, i)?)));
    if let Some((current, index, ins)) = found {
        let word = ins.user();
        let scope = Scope::Before {
            stage: current,
            index,
        };
        // The user part alone decides who runs: when the group does not resolve (`USER
        // app:$GID`, `USER root:${GID}`), the user part expanded on its own, the group as written.
        let resolved = word.and_then(|w| {
            expand(df, w.written, scope, true).or_else(|| {
                let (user, group) = w.written.split_once(':')?;
                let user = expand(df, user, scope, true)?;
                Some(format!("{user}:{group}"))
            })
        });
        let user = word.map(|w| {
            let value = resolved.clone().unwrap_or_else(|| w.written.to_string());
            Spanned::new(value, w.span)
        });
        let state = match resolved.as_deref().and_then(is_root_user) {
            Some(true) => UserState::Root,
            Some(false) => UserState::NonRoot,
            None => UserState::Unknown,
        };
        return EffectiveUser {
            instruction: Some(ins),
            user,
            state,
            from: from.unwrap_or(ins),
            stage: current,
        };
    }
    // No USER in the chain: the root-most stage's external base image decides.
    let current = root_stage(df, stage);
    let base = expand(df, &current.image.value, Scope::Global, true);
    let state = match base.as_deref() {
        Some(image) if base_image_runs_as_nonroot(image) => UserState::NonRoot,
        _ => UserState::Root,
    };
    let from = from.or_else(|| instruction(df, current.from));
    match from {
        Some(from) => EffectiveUser {
            instruction: None,
            user: None,
            state,
            from,
            stage: current,
        },
        // A stage always starts with its FROM; this only happens on an inconsistent model.
        None => EffectiveUser {
            instruction: None,
            user: None,
            state: UserState::Unknown,
            from: fallback_instruction(),
            stage: current,
        },
    }
}

fn fallback_instruction() -> &'static Instruction {
    use std::sync::OnceLock;
    static FALLBACK: OnceLock<Instruction> = OnceLock::new();
    FALLBACK.get_or_init(|| Instruction {
        span: Span::default(),
        keyword: Spanned::new("FROM".to_string(), Span::default()),
        kind: Keyword::From,
        flags: Vec::new(),
        args: super::model::Arguments::Text {
            text: super::model::Text::default(),
            words: super::model::Words::default(),
            pairs: Vec::new(),
        },
        heredocs: Vec::new(),
        onbuild: None,
    })
}

/// Base images that are documented to run as a non-root user by default: the `nonroot` tags of
/// distroless images (`gcr.io/distroless/static:nonroot`, `...:debug-nonroot`).
pub fn base_image_runs_as_nonroot(image: &str) -> bool {
    let (name, tag, _) = split_image_ref(image);
    let _ = name;
    tag.is_some_and(|t| t == "nonroot" || t.ends_with("-nonroot"))
}

/// The stage `docker build --target` builds: named stage, else the final stage.
pub fn target_stage<'a>(df: &'a Dockerfile, target: Option<&str>) -> Option<&'a Stage> {
    match target {
        Some(t) => df.stage_by_name(t),
        None => df.final_stage(),
    }
}

/// The user part of a `USER` / `user:` value as the container runtime reads it. Docker resolves
/// the value with runc's `user.GetExecUser`: the part before `:` is a uid when Go's
/// `strconv.Atoi` accepts it (an optional `+`/`-` sign, then decimal digits: `0`, `+0`, `00`,
/// `-0` are all uid 0), otherwise a name looked up in the image's `/etc/passwd`; an empty part
/// means the runtime's default user, root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserRef {
    /// Empty user part (`:0`, `:staff`): the runtime's default, uid 0.
    Default,
    /// A numeric uid (Go `int`; runc refuses values outside `0..=2^31-1` at start).
    Uid(i64),
    /// A name, resolved through the image's `/etc/passwd`.
    Name(String),
}

/// Go's `strconv.Atoi` on a 64-bit platform: optional sign, then one or more ASCII digits.
pub fn go_atoi(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<i64>().ok()
}

/// The user part of `user[:group]`. Surrounding whitespace is trimmed: runc would look ` 0` up
/// as a name (and fail to start), but it is meant as uid 0 and another runtime may trim it, so
/// sandlint judges it as `0`.
pub fn user_ref(spec: &str) -> UserRef {
    let user = spec.trim();
    let name = user.split(':').next().unwrap_or(user).trim();
    if name.is_empty() {
        return UserRef::Default;
    }
    match go_atoi(name) {
        Some(uid) => UserRef::Uid(uid),
        None => UserRef::Name(name.to_string()),
    }
}

/// The largest uid runc accepts.
pub const MAX_UID: i64 = (1 << 31) - 1;

/// How a user spec resolved against an image's `/etc/passwd`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolvedUser {
    /// The uid the process will run as.
    Uid(u32),
    /// A name with no `/etc/passwd` entry: the runtime refuses to start the container.
    UnknownName(String),
    /// A uid outside `0..=2^31-1`: the runtime refuses to start the container.
    OutOfRange(i64),
}

/// Resolves `spec` like runc's `GetExecUser` against the text of the image's `/etc/passwd`
/// (`None`: the image has none). A number is the uid; a name is the first passwd line whose name
/// field equals it, and that line's uid field is read with `Atoi`, which yields 0 when the field
/// is not a number (so `toor:x:abc:0:...` is uid 0, as in runc).
pub fn resolve_user(spec: &str, passwd: Option<&str>) -> ResolvedUser {
    match user_ref(spec) {
        UserRef::Default => ResolvedUser::Uid(0),
        UserRef::Uid(uid) => match u32::try_from(uid) {
            Ok(u) if uid <= MAX_UID => ResolvedUser::Uid(u),
            _ => ResolvedUser::OutOfRange(uid),
        },
        UserRef::Name(name) => {
            let found = passwd.into_iter().flat_map(str::lines).find_map(|line| {
                let line = line.trim();
                let mut fields = line.split(':');
                (fields.next() == Some(name.as_str()))
                    .then(|| fields.nth(1).and_then(go_atoi).unwrap_or(0))
            });
            match found {
                Some(uid) => match u32::try_from(uid) {
                    Ok(u) if uid <= MAX_UID => ResolvedUser::Uid(u),
                    _ => ResolvedUser::OutOfRange(uid),
                },
                None => ResolvedUser::UnknownName(name),
            }
        }
    }
}

/// Whether a user spec means root when the image's `/etc/passwd` is not known:
/// "root", "0", "+0", "00", "-0", " 0", "root:x", "0:0", ":0" -> Some(true); "10001", "app",
/// "app:app", "-1" -> Some(false); "$UID", "${USER}", "" -> None. A name other than `root` can
/// still be uid 0 in the image's own `/etc/passwd`: `sandlint run` resolves it with
/// [`resolve_user`] against the image.
pub fn is_root_user(user: &str) -> Option<bool> {
    let user = user.trim();
    if user.is_empty() || user.split(':').next().unwrap_or(user).contains('$') {
        return None;
    }
    Some(match user_ref(user) {
        UserRef::Default => true,
        UserRef::Uid(uid) => uid == 0,
        UserRef::Name(name) => name == "root",
    })
}

/// Parent stage when FROM names an earlier stage (case-insensitive), else None.
pub fn parent_stage<'a>(df: &'a Dockerfile, stage: &Stage) -> Option<&'a Stage> {
    let parent = index(df).parent.get(stage.index).copied().flatten()?;
    df.stages.get(parent)
}

/// Deepest stage ancestry followed (`FROM a AS b`, `FROM b AS c`, ...): [`stage_chain`] stops
/// there, and `ENV` inherited from further up is treated as unknown. Keeps every per-instruction
/// question linear in the file however the stages chain (real Dockerfiles chain a handful).
pub const MAX_STAGE_CHAIN: usize = 128;

/// The chain of stages from `stage` up to its root-most ancestor (the stage itself first), at
/// most [`MAX_STAGE_CHAIN`] long.
pub fn stage_chain<'a>(df: &'a Dockerfile, stage: &'a Stage) -> Vec<&'a Stage> {
    let idx = index(df);
    let mut chain = vec![stage];
    let mut current = stage.index;
    // a parent always comes earlier in the file, so the walk cannot cycle
    while let Some(parent) = idx.parent.get(current).copied().flatten() {
        let Some(s) = df.stages.get(parent) else {
            break;
        };
        if chain.len() >= MAX_STAGE_CHAIN {
            break;
        }
        chain.push(s);
        current = parent;
    }
    chain
}

/// Expand `$VAR`/`${VAR}`/`${VAR:-d}` in `text` (quotes are processed too, as in a `FROM` or
/// `USER` word) using ARG defaults and ENV values visible in `scope`. `None` if something stays
/// unresolved (a variable with no known value, or an unsupported `${VAR#...}` form), or when
/// expansions of this Dockerfile have used up their byte budget (see [`expansion_budget`]).
pub fn expand_with_args(df: &Dockerfile, text: &str, scope: Scope<'_>) -> Option<String> {
    expand(df, text, scope, true)
}

/// [`expand_with_args`] for a word of a `RUN` script: `shell` holds the variables the script
/// assigned before the word (`deps='curl git'; apt-get install $deps`), which shadow the
/// `ARG`/`ENV` values of the same names, as they do in the shell. Charged to the same budget.
pub fn expand_with_shell<'v>(
    df: &'v Dockerfile,
    text: &str,
    scope: Scope<'_>,
    shell: &dyn Fn(&str) -> Option<&'v str>,
) -> Option<String> {
    expand_from(df, text, scope, true, shell)
}

fn expand(df: &Dockerfile, text: &str, scope: Scope<'_>, quotes: bool) -> Option<String> {
    expand_from(df, text, scope, quotes, &|_| None)
}

fn expand_from<'v>(
    df: &'v Dockerfile,
    text: &str,
    scope: Scope<'_>,
    quotes: bool,
    shell: &dyn Fn(&str) -> Option<&'v str>,
) -> Option<String> {
    if !text.contains('$')
        && !(quotes && (text.contains(['"', '\'']) || text.contains(df.escape_char())))
    {
        return Some(text.to_string());
    }
    let idx = index(df);
    let get = |name: &str| shell(name).or_else(|| idx.get(name, scope));
    match expand_into(text, &get, df.escape_char(), quotes, &idx.budget, 0) {
        Ok(v) => v,
        Err(TooLarge) => {
            let at = match scope {
                Scope::Before { index, .. } => index,
                Scope::Global => df.stages.first().map_or(0, |s| s.from),
            };
            idx.overflow(df.instructions.get(at).map(|i| i.span), None);
            None
        }
    }
}

/// Where a Dockerfile's variable expansion stopped because it would have produced more than its
/// byte budget (reported as `expansion-limit-exceeded`); the value is treated as unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpansionLimit {
    /// The `ARG`/`ENV` pair whose value crossed the budget, or the instruction whose expansion did.
    pub span: Span,
    /// The variable defined there, for a definition.
    pub name: Option<String>,
    /// The budget, in bytes.
    pub limit: usize,
    /// Later expansions also refused (not reported separately).
    pub more: usize,
}

/// Where the Dockerfile's expansions ran out of budget (at most one entry: the first place).
pub fn expansion_limits(df: &Dockerfile) -> Vec<ExpansionLimit> {
    index(df)
        .limits
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
}

/// The last `SHELL` before instruction `before` in `stage` or, failing that, in force at the end
/// of its ancestors: (stage index, instruction index).
pub fn shell_before(df: &Dockerfile, stage: &Stage, before: usize) -> Option<(usize, usize)> {
    let idx = index(df);
    idx.in_force(&idx.shells, &idx.shell_at_end, stage.index, before)
}

/// Whether `name` (case-insensitive) names a stage, or is the number of a stage, whose `FROM`
/// comes before instruction `before`.
pub fn stage_defined_before(df: &Dockerfile, name: &str, before: usize) -> bool {
    let lower = name.to_ascii_lowercase();
    let idx = index(df);
    let named = idx
        .first_from
        .get(&lower)
        .is_some_and(|&from| from < before);
    let numbered = || {
        lower.parse::<usize>().ok().is_some_and(|n| {
            n.to_string() == lower && df.stages.get(n).is_some_and(|s| s.from < before)
        })
    };
    named || numbered()
}

/// The global `ARG` pairs (before the first `FROM`) that give a default to a variable `text`
/// refers to (`$NAME`, `${NAME...}`), in file order.
pub fn global_defaults_used<'t>(df: &Dockerfile, text: &'t str) -> Vec<(&'t str, Span)> {
    let idx = index(df);
    let mut names = referenced_names(text);
    names.sort_unstable();
    names.dedup();
    let mut out: Vec<(&str, Span)> = names
        .into_iter()
        .flat_map(|n| {
            idx.global_defaults
                .get(n)
                .into_iter()
                .flatten()
                .map(move |&span| (n, span))
        })
        .collect();
    out.sort_by_key(|(_, s)| (s.start, s.end));
    out
}

/// The root-most ancestor of `stage` (itself when it does not build on an earlier stage).
pub fn root_stage<'a>(df: &'a Dockerfile, stage: &'a Stage) -> &'a Stage {
    let idx = index(df);
    idx.root
        .get(stage.index)
        .and_then(|&r| df.stages.get(r))
        .unwrap_or(stage)
}

/// Per-name definitions in one stage: (instruction index, value), in file order.
type Defs = HashMap<String, Vec<(usize, Option<String>)>>;

/// Everything variable expansion and stage ancestry need, computed once per Dockerfile in one
/// pass over the instructions, so that each lookup costs a hash probe and a binary search
/// instead of a scan of everything before it.
#[derive(Debug)]
pub(crate) struct Index {
    /// Global `ARG` defaults (before the first `FROM`).
    pub(super) globals: HashMap<String, Option<String>>,
    /// Each stage's parent stage (`FROM <earlier stage>`), by stage index.
    parent: Vec<Option<usize>>,
    /// `ENV` definitions of each stage.
    env: Vec<Defs>,
    /// `ARG` definitions of each stage.
    args: Vec<Defs>,
    /// The `USER` and `SHELL` instructions of each stage (instruction indexes, in order).
    users: Vec<Vec<usize>>,
    shells: Vec<Vec<usize>>,
    /// The `USER` / `SHELL` in force at the end of each stage, inherited through its ancestors:
    /// (stage, instruction index).
    user_at_end: Vec<Option<(usize, usize)>>,
    shell_at_end: Vec<Option<(usize, usize)>>,
    /// The root-most ancestor of each stage (itself when it has no parent stage).
    root: Vec<usize>,
    /// The `FROM` instruction index of the first stage of each (lowercased) name.
    first_from: HashMap<String, usize>,
    /// The pairs of global `ARG`s that give a default, by name.
    pub(super) global_defaults: HashMap<String, Vec<Span>>,
    pub(super) budget: Budget,
    limits: std::sync::Mutex<Vec<ExpansionLimit>>,
}

impl Index {
    fn build(df: &Dockerfile) -> Self {
        let esc = df.escape_char();
        let input = df.instructions.last().map_or(0, |i| i.span.end as usize);
        let limit = expansion_budget(input);
        let mut idx = Index {
            globals: HashMap::new(),
            parent: Vec::with_capacity(df.stages.len()),
            env: Vec::with_capacity(df.stages.len()),
            args: Vec::with_capacity(df.stages.len()),
            users: Vec::with_capacity(df.stages.len()),
            shells: Vec::with_capacity(df.stages.len()),
            user_at_end: Vec::with_capacity(df.stages.len()),
            shell_at_end: Vec::with_capacity(df.stages.len()),
            root: Vec::with_capacity(df.stages.len()),
            first_from: HashMap::new(),
            global_defaults: HashMap::new(),
            budget: Budget::new(limit),
            limits: std::sync::Mutex::new(Vec::new()),
        };
        for ins in df.global_args() {
            if ins.kind != Keyword::Arg {
                continue;
            }
            for kv in ins.args.pairs() {
                if kv.raw_value.is_some() {
                    idx.global_defaults
                        .entry(kv.key.value.clone())
                        .or_default()
                        .push(kv.span);
                }
                let value = match &kv.raw_value {
                    Some(raw) => {
                        let get = |n: &str| idx.globals.get(n).and_then(|v| v.as_deref());
                        let v = expand_into(&raw.value, &get, esc, true, &idx.budget, 0);
                        idx.settle(v, kv.span, &kv.key.value)
                    }
                    None => None,
                };
                idx.globals.insert(kv.key.value.clone(), value);
            }
        }
        // latest stage of each (lowercased) name so far: a FROM names an earlier stage
        let mut by_name: HashMap<String, usize> = HashMap::new();
        for stage in &df.stages {
            let image = {
                let get = |n: &str| idx.globals.get(n).and_then(|v| v.as_deref());
                match expand_into(&stage.image.value, &get, esc, true, &idx.budget, 0) {
                    Ok(Some(v)) => v,
                    _ => stage.image.value.clone(),
                }
            };
            let parent = by_name.get(&image.to_ascii_lowercase()).copied();
            idx.parent.push(parent);
            if let Some(name) = &stage.name {
                by_name.insert(name.value.to_ascii_lowercase(), stage.index);
                idx.first_from
                    .entry(name.value.clone())
                    .or_insert(stage.from);
            }
            idx.env.push(Defs::new());
            idx.args.push(Defs::new());
            let (mut users, mut shells) = (Vec::new(), Vec::new());
            for i in stage.instructions.clone() {
                let Some(ins) = instruction(df, i) else {
                    continue;
                };
                match ins.kind {
                    Keyword::User => users.push(i),
                    Keyword::Shell => shells.push(i),
                    _ => {}
                }
                if !matches!(ins.kind, Keyword::Arg | Keyword::Env) {
                    continue;
                }
                for kv in ins.args.pairs() {
                    let value = match &kv.raw_value {
                        Some(raw) => {
                            let get = |n: &str| idx.lookup(n, stage.index, usize::MAX);
                            let v = expand_into(&raw.value, &get, esc, true, &idx.budget, 0);
                            idx.settle(v, kv.span, &kv.key.value)
                        }
                        None if ins.kind == Keyword::Arg => {
                            idx.globals.get(&kv.key.value).cloned().flatten()
                        }
                        None => None,
                    };
                    let defs = if ins.kind == Keyword::Env {
                        idx.env.last_mut()
                    } else {
                        idx.args.last_mut()
                    };
                    if let Some(defs) = defs {
                        defs.entry(kv.key.value.clone())
                            .or_default()
                            .push((i, value));
                    }
                }
            }
            let inherited = |at_end: &[Option<(usize, usize)>]| {
                parent.and_then(|p| at_end.get(p).copied().flatten())
            };
            let user = users.last().map(|&i| (stage.index, i));
            idx.user_at_end
                .push(user.or_else(|| inherited(&idx.user_at_end)));
            let shell = shells.last().map(|&i| (stage.index, i));
            idx.shell_at_end
                .push(shell.or_else(|| inherited(&idx.shell_at_end)));
            let root = parent
                .and_then(|p| idx.root.get(p).copied())
                .unwrap_or(stage.index);
            idx.root.push(root);
            idx.users.push(users);
            idx.shells.push(shells);
        }
        idx
    }

    /// The last of `own` (instruction indexes of stage `stage`) before `before`, else what the
    /// parent stage has in force at its end: (stage, instruction index).
    fn in_force(
        &self,
        own: &[Vec<usize>],
        at_end: &[Option<(usize, usize)>],
        stage: usize,
        before: usize,
    ) -> Option<(usize, usize)> {
        let list = own.get(stage)?;
        let k = list.partition_point(|&i| i < before);
        match k.checked_sub(1).and_then(|k| list.get(k)) {
            Some(&i) => Some((stage, i)),
            None => {
                let parent = self.parent.get(stage).copied().flatten()?;
                at_end.get(parent).copied().flatten()
            }
        }
    }

    /// The value of an expansion, recording where the budget ran out.
    fn settle(
        &self,
        v: Result<Option<String>, TooLarge>,
        span: Span,
        name: &str,
    ) -> Option<String> {
        v.unwrap_or_else(|TooLarge| {
            self.overflow(Some(span), Some(name));
            None
        })
    }

    fn overflow(&self, span: Option<Span>, name: Option<&str>) {
        let mut limits = self
            .limits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match limits.first_mut() {
            Some(first) => first.more += 1,
            None => limits.push(ExpansionLimit {
                span: span.unwrap_or_default(),
                name: name.map(str::to_string),
                limit: self.budget.limit,
                more: 0,
            }),
        }
    }

    /// The value of `name` just before instruction `before` of stage `stage`: the stage's `ENV`
    /// so far, else `ENV` inherited from its ancestors, else the stage's `ARG` so far. `None`:
    /// not declared, or declared without a known value.
    fn lookup(&self, name: &str, stage: usize, before: usize) -> Option<&str> {
        self.definition(name, stage, before)?.value
    }

    /// The definition [`Index::lookup`] reads `name` from: `None` when it is not declared there
    /// (or inherited from further up than [`MAX_STAGE_CHAIN`]).
    pub(super) fn definition(
        &self,
        name: &str,
        stage: usize,
        before: usize,
    ) -> Option<Definition<'_>> {
        fn last_before<'d>(
            defs: &'d Defs,
            name: &str,
            bound: usize,
        ) -> Option<&'d (usize, Option<String>)> {
            let list = defs.get(name)?;
            let k = list.partition_point(|(i, _)| *i < bound);
            k.checked_sub(1).and_then(|k| list.get(k))
        }
        let mut current = Some(stage);
        let mut bound = before;
        let mut hops = 0usize;
        while let Some(s) = current {
            if let Some((i, value)) = self.env.get(s).and_then(|d| last_before(d, name, bound)) {
                return Some(Definition {
                    env: true,
                    stage: s,
                    index: *i,
                    value: value.as_deref(),
                });
            }
            hops += 1;
            if hops >= MAX_STAGE_CHAIN {
                // inherited from too far up: unknown
                return None;
            }
            current = self.parent.get(s).copied().flatten();
            bound = usize::MAX;
        }
        let (i, value) = self
            .args
            .get(stage)
            .and_then(|d| last_before(d, name, before))?;
        Some(Definition {
            env: false,
            stage,
            index: *i,
            value: value.as_deref(),
        })
    }

    fn get(&self, name: &str, scope: Scope<'_>) -> Option<&str> {
        match scope {
            Scope::Global => self.globals.get(name).and_then(|v| v.as_deref()),
            Scope::Before { stage, index } => self.lookup(name, stage.index, index),
        }
    }
}

/// Where a variable's value comes from at some point of a stage (see [`Index::definition`]).
#[derive(Debug, Clone, Copy)]
pub(super) struct Definition<'i> {
    /// An `ENV` (else an `ARG`).
    pub(super) env: bool,
    /// The stage that holds it (an ancestor for an inherited `ENV`).
    pub(super) stage: usize,
    /// Its instruction.
    pub(super) index: usize,
    /// Its value, when known.
    pub(super) value: Option<&'i str>,
}

pub(super) fn index(df: &Dockerfile) -> &Index {
    df.derived
        .index
        .get_or_init(|| std::sync::Arc::new(Index::build(df)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dockerfile::parse;

    fn user_of_final(text: &str) -> (UserState, Option<String>) {
        let df = parse(text);
        let stage = df.final_stage().expect("a stage");
        let eu = effective_user(&df, stage);
        (eu.state, eu.user.map(|u| u.value))
    }

    #[test]
    fn root_user_values() {
        for u in [
            "root",
            "0",
            "root:x",
            "0:0",
            "0:root",
            "00",
            "+0",
            "-0",
            " 0",
            "0 ",
            "+00:0",
            ":0",
            ":staff",
            "000000000000000000000000",
        ] {
            assert_eq!(is_root_user(u), Some(true), "{u:?}");
        }
        for u in [
            "10001", "app", "app:app", "app:root", "nobody", "-1", "+1", "0x0", "1e0", "toor",
        ] {
            assert_eq!(is_root_user(u), Some(false), "{u:?}");
        }
        for u in ["$UID", "${USER}", "", "  "] {
            assert_eq!(is_root_user(u), None, "{u:?}");
        }
    }

    #[test]
    fn resolves_users_like_runc() {
        let passwd = "root:x:0:0:root:/root:/bin/sh\ntoor:x:0:0::/:/bin/sh\n\n  app:x:10001:10001::/app:/bin/sh\nodd:x:abc:0::/:/bin/sh\nbig:x:4294967296:0::/:/x\n";
        let r = |u: &str| resolve_user(u, Some(passwd));
        assert_eq!(r("+0"), ResolvedUser::Uid(0));
        assert_eq!(r("00"), ResolvedUser::Uid(0));
        assert_eq!(r("-0"), ResolvedUser::Uid(0));
        assert_eq!(r(" 0"), ResolvedUser::Uid(0));
        assert_eq!(r("root"), ResolvedUser::Uid(0));
        assert_eq!(r("0:0"), ResolvedUser::Uid(0));
        assert_eq!(r(":5"), ResolvedUser::Uid(0));
        assert_eq!(r("toor"), ResolvedUser::Uid(0));
        assert_eq!(r("toor:app"), ResolvedUser::Uid(0));
        assert_eq!(
            r("odd"),
            ResolvedUser::Uid(0),
            "a non-numeric uid field is 0 in runc"
        );
        assert_eq!(r("app"), ResolvedUser::Uid(10001));
        assert_eq!(r("10001:10001"), ResolvedUser::Uid(10001));
        assert_eq!(r("4321"), ResolvedUser::Uid(4321));
        assert_eq!(r("ghost"), ResolvedUser::UnknownName("ghost".to_string()));
        assert_eq!(r("-1"), ResolvedUser::OutOfRange(-1));
        assert_eq!(r("big"), ResolvedUser::OutOfRange(4_294_967_296));
        assert_eq!(r("2147483648"), ResolvedUser::OutOfRange(2_147_483_648));
        assert_eq!(
            resolve_user("root", None),
            ResolvedUser::UnknownName("root".to_string())
        );
        assert_eq!(resolve_user("0", None), ResolvedUser::Uid(0));
    }

    #[test]
    fn expands_vars() {
        let get = |n: &str| match n {
            "A" => Some("alpine".to_string()),
            "E" => Some(String::new()),
            _ => None,
        };
        let e = |t: &str| expand_vars(t, &get, '\\', true);
        assert_eq!(e("$A:3").as_deref(), Some("alpine:3"));
        assert_eq!(e("${A}:3").as_deref(), Some("alpine:3"));
        assert_eq!(e("${B:-debian}").as_deref(), Some("debian"));
        assert_eq!(e("${E:-debian}").as_deref(), Some("debian"));
        assert_eq!(e("${E-debian}").as_deref(), Some(""));
        assert_eq!(e("${A:+x}").as_deref(), Some("x"));
        assert_eq!(e("${B:-$A}").as_deref(), Some("alpine"));
        assert_eq!(e("'$A'").as_deref(), Some("$A"));
        assert_eq!(e("\"$A\"").as_deref(), Some("alpine"));
        assert_eq!(e("\\$A").as_deref(), Some("$A"));
        assert_eq!(e("$B"), None);
        assert_eq!(e("${A#al}"), None);
        assert_eq!(e("${A"), None);
        assert_eq!(e("a$").as_deref(), Some("a$"));
    }

    #[test]
    fn splits_image_refs() {
        assert_eq!(split_image_ref("alpine"), ("alpine", None, None));
        assert_eq!(
            split_image_ref("alpine:3.20"),
            ("alpine", Some("3.20"), None)
        );
        assert_eq!(
            split_image_ref("localhost:5000/app"),
            ("localhost:5000/app", None, None)
        );
        assert_eq!(
            split_image_ref("r.io:5000/a/b:1@sha256:ab"),
            ("r.io:5000/a/b", Some("1"), Some("sha256:ab"))
        );
    }

    #[test]
    fn global_args_expand_in_from() {
        let df = parse("ARG BASE=alpine\nARG TAG=${BASE_TAG:-3.20}\nARG NODEF\nFROM $BASE:$TAG\n");
        assert_eq!(
            expand_with_args(&df, "$BASE:$TAG", Scope::Global).as_deref(),
            Some("alpine:3.20")
        );
        assert_eq!(expand_with_args(&df, "$NODEF", Scope::Global), None);
        assert_eq!(
            expand_with_args(&df, "${NODEF:-x}", Scope::Global).as_deref(),
            Some("x")
        );
    }

    #[test]
    fn effective_user_cases() {
        assert_eq!(user_of_final("FROM alpine\nRUN true\n").0, UserState::Root);
        assert_eq!(
            user_of_final("FROM alpine\nUSER app\nUSER root\n"),
            (UserState::Root, Some("root".to_string()))
        );
        assert_eq!(
            user_of_final("FROM alpine\nUSER root\nUSER 10001:10001\n"),
            (UserState::NonRoot, Some("10001:10001".to_string()))
        );
        // Inherited from a parent stage, case-insensitive stage names.
        assert_eq!(
            user_of_final("FROM alpine AS Base\nUSER app\nFROM base\nRUN id\n"),
            (UserState::NonRoot, Some("app".to_string()))
        );
        // USER only in a builder stage the final stage does not derive from.
        assert_eq!(
            user_of_final("FROM alpine AS build\nUSER app\nFROM alpine\nCOPY --from=build /a /a\n")
                .0,
            UserState::Root
        );
        // ARG default and ENV expansion.
        assert_eq!(
            user_of_final("FROM alpine\nARG UID=10001\nUSER $UID\n"),
            (UserState::NonRoot, Some("10001".to_string()))
        );
        assert_eq!(
            user_of_final("ARG UID=0\nFROM alpine\nARG UID\nUSER ${UID}\n"),
            (UserState::Root, Some("0".to_string()))
        );
        assert_eq!(
            user_of_final("FROM alpine AS base\nENV APP_USER=app\nFROM base\nUSER ${APP_USER}\n"),
            (UserState::NonRoot, Some("app".to_string()))
        );
        assert_eq!(
            user_of_final("FROM alpine\nARG UID\nUSER $UID\n").0,
            UserState::Unknown
        );
        assert_eq!(
            user_of_final("FROM gcr.io/distroless/static-debian12:nonroot\n").0,
            UserState::NonRoot
        );
    }

    #[test]
    fn effective_user_points_at_from_and_user() {
        let text = "FROM alpine AS a\nUSER app\nFROM a\n";
        let df = parse(text);
        let stage = df.final_stage().expect("stage");
        let eu = effective_user(&df, stage);
        let ins = eu.instruction.expect("user instruction");
        assert_eq!(&text[ins.span.range()], "USER app");
        assert_eq!(&text[eu.from.span.range()], "FROM a");
        assert_eq!(eu.user.map(|u| &text[u.span.range()]), Some("app"));
        assert_eq!(eu.stage.index, 0);
    }

    #[test]
    fn parent_and_target_stages() {
        let df = parse(
            "ARG B=build\nFROM alpine AS build\nFROM $B AS test\nFROM build AS final\nFROM final\n",
        );
        let stages = &df.stages;
        assert_eq!(stages.len(), 4);
        assert_eq!(parent_stage(&df, &stages[0]).map(|s| s.index), None);
        assert_eq!(parent_stage(&df, &stages[1]).map(|s| s.index), Some(0));
        assert_eq!(parent_stage(&df, &stages[2]).map(|s| s.index), Some(0));
        assert_eq!(parent_stage(&df, &stages[3]).map(|s| s.index), Some(2));
        assert_eq!(target_stage(&df, None).map(|s| s.index), Some(3));
        assert_eq!(target_stage(&df, Some("TEST")).map(|s| s.index), Some(1));
        assert_eq!(target_stage(&df, Some("nope")).map(|s| s.index), None);
        assert_eq!(stage_chain(&df, &stages[3]).len(), 3);
    }

    #[test]
    fn self_reference_is_not_a_cycle() {
        // `FROM x AS x` refers to the external image `x`, not to itself.
        let df = parse("FROM x AS x\nFROM y AS y\nFROM y\n");
        let stages = &df.stages;
        assert_eq!(parent_stage(&df, &stages[0]).map(|s| s.index), None);
        assert_eq!(parent_stage(&df, &stages[1]).map(|s| s.index), None);
        assert_eq!(effective_user(&df, &stages[2]).state, UserState::Root);
    }
}

#[cfg(test)]
mod index_tests {
    use super::*;
    use crate::dockerfile::parse;

    #[test]
    fn doubling_args_stop_at_the_budget_with_the_pair_located() {
        let mut text = String::from("FROM debian:12\nARG V0=xxxxxxxx\n");
        for i in 1..40 {
            text.push_str(&format!("ARG V{i}=${{V{0}}}${{V{0}}}\n", i - 1));
        }
        text.push_str("USER ${V39}\n");
        let df = parse(&text);
        let stage = &df.stages[0];
        let user = effective_user(&df, stage);
        assert_eq!(user.state, UserState::Unknown);
        let limits = expansion_limits(&df);
        assert_eq!(limits.len(), 1);
        assert_eq!(&text[limits[0].span.range()], "V21=${V20}${V20}");
        assert_eq!(limits[0].name.as_deref(), Some("V21"));
    }

    #[test]
    fn nested_defaults_are_bounded_not_a_stack_overflow() {
        let deep = format!("{}x{}", "${A:-".repeat(100_000), "}".repeat(100_000));
        let text = format!("FROM a\nENV X={deep}\nUSER $X\n");
        let df = parse(&text);
        assert_eq!(effective_user(&df, &df.stages[0]).state, UserState::Unknown);
        let ok = format!(
            "FROM a\nENV X={}app{}\nUSER $X\n",
            "${A:-".repeat(20),
            "}".repeat(20)
        );
        let df = parse(&ok);
        assert_eq!(effective_user(&df, &df.stages[0]).state, UserState::NonRoot);
    }

    #[test]
    fn lookups_see_only_what_is_defined_before() {
        let text = "ARG G=g\nFROM a AS base\nENV E=1\nARG A=x\nFROM base AS next\nARG G\nARG A\nENV E=2\nFROM next\n";
        let df = parse(text);
        let next = &df.stages[1];
        let at = |index| Scope::Before { stage: next, index };
        let e = |t: &str, index| expand_with_args(&df, t, at(index));
        // before `ENV E=2` (index 7): E is inherited from base; ARG A of base does not carry
        assert_eq!(e("$E", 7).as_deref(), Some("1"));
        assert_eq!(e("$E", 8).as_deref(), Some("2"));
        assert_eq!(e("$G", 6).as_deref(), Some("g"));
        assert_eq!(e("$G", 5), None);
        assert_eq!(e("$A", 7), None);
        assert!(stage_defined_before(&df, "BASE", 4));
        assert!(!stage_defined_before(&df, "base", 1));
        assert!(stage_defined_before(&df, "1", 8));
        assert!(!stage_defined_before(&df, "01", 8));
        assert_eq!(root_stage(&df, &df.stages[2]).index, 0);
    }

    #[test]
    fn shell_in_force_is_inherited() {
        let text = "FROM a AS x\nSHELL [\"pwsh\"]\nRUN 1\nFROM x\nRUN 2\nSHELL [\"sh\"]\nRUN 3\n";
        let df = parse(text);
        let s1 = &df.stages[1];
        assert_eq!(shell_before(&df, &df.stages[0], 1), None);
        assert_eq!(shell_before(&df, &df.stages[0], 2), Some((0, 1)));
        assert_eq!(shell_before(&df, s1, 4), Some((0, 1)));
        assert_eq!(shell_before(&df, s1, 6), Some((1, 5)));
    }

    #[test]
    fn deep_stage_chains_stay_linear() {
        let mut text = String::from("FROM a AS s0\nUSER app\n");
        for i in 1..20_000 {
            text.push_str(&format!("FROM s{} AS s{i}\nENV X{i}=$X{}\n", i - 1, i - 1));
        }
        let df = parse(&text);
        let start = std::time::Instant::now();
        for stage in &df.stages {
            assert_eq!(effective_user(&df, stage).state, UserState::NonRoot);
            assert!(stage_chain(&df, stage).len() <= MAX_STAGE_CHAIN);
        }
        assert!(start.elapsed().as_secs() < 10, "{:?}", start.elapsed());
    }
}
