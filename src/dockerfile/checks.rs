//! The argument checks of BuildKit's `instructions/parse.go`: flags each instruction accepts,
//! argument counts and shapes. Reported as errors; the instruction is kept.

use super::model::{HealthcheckArg, Instruction, Keyword, ParseError};
use super::parser::{err, heredoc_markers};
use crate::source::{Span, Spanned};

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
    if let Some(HealthcheckArg::None { .. }) = ins.healthcheck() {
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

pub(super) fn check(ins: &Instruction, errors: &mut Vec<ParseError>) {
    check_flags(ins, errors);
    let kw = ins.keyword.value.to_ascii_uppercase();
    // Asked for only where it is used: a shell form's words are split on first use.
    let words = || ins.words();
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
        Keyword::From => check_from(words(), at_kw, &mut push),
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
            if words().len() < 2 {
                push(
                    format!("`{kw}` requires at least two arguments: a source and a destination"),
                    ins.span,
                    Some(&format!("write `{kw} <src>... <dest>`")),
                );
            } else if let Some(dest) = words().last()
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
        Keyword::Onbuild => check_onbuild(ins, at_kw, &mut push),
        Keyword::Healthcheck => check_healthcheck(ins, at_kw, &mut push),
        Keyword::Expose if words().is_empty() => {
            push(
                "`EXPOSE` requires at least one argument".into(),
                at_kw,
                None,
            );
        }
        Keyword::Volume => {
            if words().is_empty() && text_empty {
                push(
                    "`VOLUME` requires at least one argument".into(),
                    at_kw,
                    None,
                );
            }
            for w in words() {
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
            } else if words().is_empty() {
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

/// `FROM <image> [AS <name>]`.
fn check_from(
    words: &[Spanned<String>],
    at_kw: Span,
    push: &mut dyn FnMut(String, Span, Option<&str>),
) {
    match words.len() {
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
    }
}

/// `ONBUILD <trigger>`: not `ONBUILD`, `FROM` or `MAINTAINER`.
fn check_onbuild(ins: &Instruction, at_kw: Span, push: &mut dyn FnMut(String, Span, Option<&str>)) {
    match &ins.onbuild {
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
    }
}

/// `HEALTHCHECK NONE` or `HEALTHCHECK CMD <command>`.
fn check_healthcheck(
    ins: &Instruction,
    at_kw: Span,
    push: &mut dyn FnMut(String, Span, Option<&str>),
) {
    match ins.healthcheck() {
        None => push(
            "`HEALTHCHECK` requires at least one argument".into(),
            at_kw,
            Some("write `HEALTHCHECK CMD <command>` or `HEALTHCHECK NONE`"),
        ),
        Some(HealthcheckArg::None { rest, .. }) if !rest.is_empty() => {
            push(
                "`HEALTHCHECK NONE` takes no arguments".into(),
                ins.args.span(),
                None,
            );
        }
        Some(HealthcheckArg::None { .. }) => {}
        Some(HealthcheckArg::Cmd { command, .. }) => {
            if command.is_empty() {
                push(
                    "missing command after `HEALTHCHECK CMD`".into(),
                    ins.args.span(),
                    None,
                );
            }
        }
        Some(HealthcheckArg::Other { kind }) => {
            push(
                format!("unknown type `{}` in `HEALTHCHECK`", kind.value),
                kind.span,
                Some("use `HEALTHCHECK CMD <command>` or `HEALTHCHECK NONE`"),
            );
        }
    }
}

/// `^[a-z][a-z0-9-_.]*$`.
pub(super) fn valid_stage_name(s: &str) -> bool {
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
        .map(|k| (strsim::levenshtein(&w, k), *k))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}
