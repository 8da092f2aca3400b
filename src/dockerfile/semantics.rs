//! Facts derived from a parsed Dockerfile: stage ancestry, the effective user, ARG/ENV expansion.
//!
//! Everything here reads the model only; nothing re-parses instruction text beyond variable
//! references (`$VAR`, `${VAR}`, `${VAR:-default}`).

use std::collections::HashMap;

use super::model::{Dockerfile, Instruction, Keyword, Stage};
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
    let mut current = stage;
    let mut steps = 0usize;
    loop {
        let range = current.instructions.clone();
        let found = range
            .clone()
            .rev()
            .filter_map(|i| instruction(df, i).map(|ins| (i, ins)))
            .find(|(_, ins)| ins.kind == Keyword::User);
        if let Some((index, ins)) = found {
            let word = ins.words().first();
            let resolved = word.and_then(|w| {
                expand(
                    df,
                    &w.value,
                    Scope::Before {
                        stage: current,
                        index,
                    },
                    true,
                )
            });
            let user = word
                .map(|w| Spanned::new(resolved.clone().unwrap_or_else(|| w.value.clone()), w.span));
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
        steps += 1;
        match parent_stage(df, current) {
            Some(parent) if steps <= df.stages.len() => current = parent,
            _ => break,
        }
    }
    // No USER in the chain: the root-most stage's external base image decides.
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
            words: Vec::new(),
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
    let image = expand(df, &stage.image.value, Scope::Global, true)
        .unwrap_or_else(|| stage.image.value.clone());
    let lower = image.to_ascii_lowercase();
    df.stages
        .iter()
        .take(stage.index.min(df.stages.len()))
        .filter(|s| s.index < stage.index)
        .rev()
        .find(|s| {
            s.name
                .as_ref()
                .is_some_and(|n| n.value.to_ascii_lowercase() == lower)
        })
}

/// The chain of stages from `stage` up to its root-most ancestor (the stage itself first).
pub fn stage_chain<'a>(df: &'a Dockerfile, stage: &'a Stage) -> Vec<&'a Stage> {
    let mut chain = vec![stage];
    let mut current = stage;
    while let Some(parent) = parent_stage(df, current) {
        if chain.len() > df.stages.len() || chain.iter().any(|s| s.index == parent.index) {
            break;
        }
        chain.push(parent);
        current = parent;
    }
    chain
}

/// Expand `$VAR`/`${VAR}`/`${VAR:-d}` in `text` (quotes are processed too, as in a `FROM` or
/// `USER` word) using ARG defaults and ENV values visible in `scope`. `None` if something stays
/// unresolved (a variable with no known value, or an unsupported `${VAR#...}` form).
pub fn expand_with_args(df: &Dockerfile, text: &str, scope: Scope<'_>) -> Option<String> {
    expand(df, text, scope, true)
}

fn expand(df: &Dockerfile, text: &str, scope: Scope<'_>, quotes: bool) -> Option<String> {
    if !text.contains('$')
        && !(quotes && (text.contains(['"', '\'']) || text.contains(df_escape(df))))
    {
        return Some(text.to_string());
    }
    let vars = variables(df, scope);
    expand_vars(
        text,
        &|name| vars.get(name).cloned().flatten(),
        df_escape(df),
        quotes,
    )
}

fn df_escape(df: &Dockerfile) -> char {
    if df.escape == '\0' { '\\' } else { df.escape }
}

/// Variables visible in `scope`: name -> known value (`None` = declared, value unknown).
pub fn variables(df: &Dockerfile, scope: Scope<'_>) -> HashMap<String, Option<String>> {
    let esc = df_escape(df);
    let mut globals: HashMap<String, Option<String>> = HashMap::new();
    for ins in df.global_args() {
        if ins.kind != Keyword::Arg {
            continue;
        }
        for kv in ins.args.pairs() {
            let value = kv.raw_value.as_ref().and_then(|raw| {
                expand_vars(
                    &raw.value,
                    &|n| globals.get(n).cloned().flatten(),
                    esc,
                    true,
                )
            });
            globals.insert(kv.key.value.clone(), value);
        }
    }
    let Scope::Before { stage, index } = scope else {
        return globals;
    };
    let mut chain = stage_chain(df, stage);
    chain.reverse();
    let mut env: HashMap<String, Option<String>> = HashMap::new();
    let mut result = HashMap::new();
    for s in chain {
        let mut args: HashMap<String, Option<String>> = HashMap::new();
        let end = if s.index == stage.index {
            index.min(s.instructions.end)
        } else {
            s.instructions.end
        };
        for i in s.instructions.start..end {
            let Some(ins) = instruction(df, i) else {
                continue;
            };
            match ins.kind {
                Keyword::Arg => {
                    for kv in ins.args.pairs() {
                        let value = match &kv.raw_value {
                            Some(raw) => {
                                expand_vars(&raw.value, &|n| lookup(&env, &args, n), esc, true)
                            }
                            None => globals.get(&kv.key.value).cloned().flatten(),
                        };
                        args.insert(kv.key.value.clone(), value);
                    }
                }
                Keyword::Env => {
                    for kv in ins.args.pairs() {
                        let value = kv.raw_value.as_ref().and_then(|raw| {
                            expand_vars(&raw.value, &|n| lookup(&env, &args, n), esc, true)
                        });
                        env.insert(kv.key.value.clone(), value);
                    }
                }
                _ => {}
            }
        }
        if s.index == stage.index {
            result = args;
        }
    }
    // ENV wins over ARG of the same name.
    for (k, v) in env {
        result.insert(k, v);
    }
    result
}

fn lookup(
    env: &HashMap<String, Option<String>>,
    args: &HashMap<String, Option<String>>,
    name: &str,
) -> Option<String> {
    match env.get(name) {
        Some(v) => v.clone(),
        None => args.get(name).cloned().flatten(),
    }
}

/// Expands variable references in `text` with `get` (which returns `None` for an unset or unknown
/// variable). With `quotes`, single quotes keep their content literal, double quotes are removed,
/// and `escape` + char yields the char.
pub fn expand_vars(
    text: &str,
    get: &dyn Fn(&str) -> Option<String>,
    escape: char,
    quotes: bool,
) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0usize;
    let mut in_double = false;
    while let Some(&c) = chars.get(i) {
        if quotes && c == escape {
            if let Some(&next) = chars.get(i + 1) {
                out.push(next);
                i += 2;
            } else {
                out.push(c);
                i += 1;
            }
            continue;
        }
        if quotes && c == '\'' && !in_double {
            let close = chars.iter().skip(i + 1).position(|&x| x == '\'');
            match close {
                Some(p) => {
                    out.extend(chars.iter().skip(i + 1).take(p));
                    i += p + 2;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            }
            continue;
        }
        if quotes && c == '"' {
            in_double = !in_double;
            i += 1;
            continue;
        }
        if c != '$' {
            out.push(c);
            i += 1;
            continue;
        }
        // `$`
        match chars.get(i + 1) {
            Some('{') => {
                let close = find_closing_brace(&chars, i + 2)?;
                let inner: String = chars.iter().skip(i + 2).take(close - (i + 2)).collect();
                out.push_str(&expand_braced(&inner, get, escape)?);
                i = close + 1;
            }
            Some(&n) if n.is_ascii_alphabetic() || n == '_' => {
                let len = chars
                    .iter()
                    .skip(i + 1)
                    .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                    .count();
                let name: String = chars.iter().skip(i + 1).take(len).collect();
                out.push_str(&get(&name)?);
                i += 1 + len;
            }
            _ => {
                out.push('$');
                i += 1;
            }
        }
    }
    Some(out)
}

fn find_closing_brace(chars: &[char], from: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (k, c) in chars.iter().enumerate().skip(from) {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return Some(k),
            '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// `NAME`, `NAME:-word`, `NAME-word`, `NAME:+word`, `NAME+word`.
fn expand_braced(
    inner: &str,
    get: &dyn Fn(&str) -> Option<String>,
    escape: char,
) -> Option<String> {
    let name_len = inner
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
        .map_or(inner.len(), |(i, _)| i);
    let name = inner.get(..name_len)?;
    if name.is_empty() {
        return None;
    }
    let rest = inner.get(name_len..)?;
    let value = get(name);
    let word = |w: &str| expand_vars(w, get, escape, false);
    if rest.is_empty() {
        return value;
    }
    if let Some(w) = rest.strip_prefix(":-") {
        return match value {
            Some(v) if !v.is_empty() => Some(v),
            _ => word(w),
        };
    }
    if let Some(w) = rest.strip_prefix(":+") {
        return match value {
            Some(v) if !v.is_empty() => word(w),
            Some(_) => Some(String::new()),
            None => None,
        };
    }
    if let Some(w) = rest.strip_prefix('-') {
        return value.or_else(|| word(w));
    }
    if let Some(w) = rest.strip_prefix('+') {
        return value.and_then(|_| word(w));
    }
    None
}

/// Splits an image reference into `(name, tag, digest)`: `[registry[:port]/]path[:tag][@digest]`.
pub fn split_image_ref(image: &str) -> (&str, Option<&str>, Option<&str>) {
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image, None),
    };
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let tail = rest.get(last_slash..).unwrap_or("");
    match tail.rfind(':') {
        Some(colon) => {
            let split = last_slash + colon;
            (
                rest.get(..split).unwrap_or(rest),
                rest.get(split + 1..),
                digest,
            )
        }
        None => (rest, None, digest),
    }
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
