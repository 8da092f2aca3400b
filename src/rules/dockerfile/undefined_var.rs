use std::collections::HashSet;

use crate::dockerfile::globals::{self, GlobalArg};
use crate::dockerfile::model::{Dockerfile, Instruction, Keyword, Stage};
use crate::dockerfile::semantics::{self, MAX_STAGE_CHAIN};
use crate::dockerfile::vars::{self, var_refs};
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};
use crate::source::Spanned;

use super::undefined_arg_in_from::within;

/// SLD041: a variable used in an instruction BuildKit expands (`ENV`, `ARG` defaults, `LABEL`,
/// `COPY`/`ADD`, `WORKDIR`, `USER`, `VOLUME`, `STOPSIGNAL`, `RUN --mount`) that no `ARG`/`ENV`
/// of the stage (or `ENV`/valued `ARG` of the stages it builds on) defines before it
/// (BuildKit's `UndefinedVar`).
pub struct UndefinedVar;

/// Names compared for spelling suggestions in one file (each comparison at most 64 × 64 steps).
const SUGGEST_BUDGET: usize = 20_000;

/// Names of one stage: its `ARG` names (`args`) and the names a child stage inherits
/// (`exported`: `ENV`s and `ARG`s with a value).
#[derive(Default)]
struct StageNames<'a> {
    args: HashSet<&'a str>,
    exported: HashSet<&'a str>,
}

impl Rule for UndefinedVar {
    fn meta(&self) -> &'static RuleMeta {
        docs::UNDEFINED_VAR
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        let names: Vec<StageNames<'_>> = df.stages.iter().map(|s| stage_names(df, s)).collect();
        let anywhere: HashSet<&str> = names.iter().flat_map(|n| n.args.iter().copied()).collect();
        // names compared for spelling suggestions, over the whole file: keeps a file with
        // thousands of names and thousands of unknown references linear
        let mut budget = SUGGEST_BUDGET;
        for stage in &df.stages {
            check_stage(cx, df, stage, &names, &anywhere, &mut budget);
        }
    }
}

fn stage_names<'a>(df: &'a Dockerfile, stage: &Stage) -> StageNames<'a> {
    let mut out = StageNames::default();
    for ins in df.stage_instructions(stage) {
        if !matches!(ins.kind, Keyword::Arg | Keyword::Env) {
            continue;
        }
        for kv in ins.args.pairs() {
            let name = kv.key.value.as_str();
            if ins.kind == Keyword::Arg {
                out.args.insert(name);
            }
            let valued = ins.kind == Keyword::Env
                || kv.raw_value.is_some()
                || !matches!(
                    globals::global_arg(df, name),
                    GlobalArg::Undeclared | GlobalArg::NoValue
                );
            if valued {
                out.exported.insert(name);
            }
        }
    }
    out
}

fn check_stage(
    cx: &mut Ctx<'_>,
    df: &Dockerfile,
    stage: &Stage,
    names: &[StageNames<'_>],
    anywhere: &HashSet<&str>,
    budget: &mut usize,
) {
    let esc = df.escape_char();
    // the stages this one builds on, and whether the chain starts at `scratch` (then every
    // variable is known: no base image brings its own `ENV`)
    let mut ancestors = Vec::new();
    let mut root = stage;
    while let Some(p) = semantics::parent_stage(df, root) {
        if ancestors.len() >= MAX_STAGE_CHAIN {
            return; // too deep to know: not judged
        }
        ancestors.push(p.index);
        root = p;
    }
    let scratch = root.image.value.eq_ignore_ascii_case("scratch");
    let mut local: HashSet<&str> = HashSet::new();
    for ins in df.stage_instructions(stage).iter().skip(1) {
        let visible = |n: &str, local: &HashSet<&str>| {
            n == "PATH"
                || local.contains(n)
                || ancestors
                    .iter()
                    .any(|&a| names.get(a).is_some_and(|s| s.exported.contains(n)))
        };
        let mut seen: Vec<&str> = Vec::new();
        for (word, exec) in expanded_words(ins) {
            if ins.kind == Keyword::Arg {
                // `ARG A=1 B=$A`: each pair sees the ones before it
                let before = ins
                    .args
                    .pairs()
                    .iter()
                    .filter(|kv| kv.span.end <= word.span.start);
                local.extend(before.map(|kv| kv.key.value.as_str()));
            }
            let offset = usize::from(exec);
            for r in var_refs(&word.value, esc, true) {
                if visible(r.name, &local) || seen.contains(&r.name) {
                    continue;
                }
                // an `ARG` anywhere (or a predefined one) is not an image's `ENV`; an `ENV` of
                // the name elsewhere proves nothing (`ENV LD_LIBRARY_PATH=$LD_LIBRARY_PATH:/x`
                // extends the image's own)
                let known_elsewhere = anywhere.contains(r.name)
                    || globals::global_arg(df, r.name) != GlobalArg::Undeclared;
                let hint = if *budget > 0 {
                    let options = visible_names(&local, &ancestors, names);
                    *budget = budget.saturating_sub(options.len());
                    vars::suggest(r.name, options.iter().copied())
                } else {
                    None
                };
                // on a base image sandlint cannot see, a name nobody declares may be the
                // image's own `ENV`: reported only when it is declared elsewhere in the file,
                // or looks like a typo of a visible name
                // `PATH` (assumed set) counts as a typo's target only for a name of its length:
                // `$PAHT`, not `$GOPATH` (a Go image's own)
                let typo = hint.is_some_and(|h| h != "PATH" || r.name.len() == 4);
                // `ENV X=/y:$X` extends the image's own `X`
                let extends = ins.kind == Keyword::Env
                    && ins.args.pairs().iter().any(|kv| kv.key.value == r.name);
                if !scratch && (extends || (!known_elsewhere && !typo)) {
                    continue;
                }
                seen.push(r.name);
                let range = r.range.start + offset..r.range.end + offset;
                report(cx, df, word, range, r.name, hint, r.modifier);
            }
        }
        if matches!(ins.kind, Keyword::Arg | Keyword::Env) {
            local.extend(ins.args.pairs().iter().map(|kv| kv.key.value.as_str()));
        }
    }
}

fn visible_names<'a>(
    local: &HashSet<&'a str>,
    ancestors: &[usize],
    names: &[StageNames<'a>],
) -> Vec<&'a str> {
    let mut v: Vec<&str> = local.iter().copied().collect();
    for &a in ancestors {
        v.extend(
            names
                .get(a)
                .into_iter()
                .flat_map(|s| s.exported.iter().copied()),
        );
    }
    v.push("PATH");
    v.sort_unstable();
    v.dedup();
    v
}

fn report(
    cx: &mut Ctx<'_>,
    df: &Dockerfile,
    word: &Spanned<String>,
    range: std::ops::Range<usize>,
    name: &str,
    hint: Option<&str>,
    modifier: Option<char>,
) {
    let shown = crate::source::clip(name, 60);
    let hint = hint
        .map(|h| format!(" (did you mean `${h}`?)"))
        .unwrap_or_default();
    let help = if globals::global_arg(df, name) == GlobalArg::Undeclared {
        format!(
            "define it before this instruction (`ARG {shown}` or `ENV {shown}=…`), or fix the name"
        )
    } else {
        format!(
            "a global `ARG` is not visible inside a stage: repeat `ARG {shown}` in the stage, before this instruction"
        )
    };
    cx.report(
        within(word, range),
        format!(
            "variable `${shown}` is not defined here{hint}: {}",
            if matches!(modifier, Some(':' | '-')) {
                "its default is always used"
            } else {
                "it expands to nothing"
            }
        ),
    )
    .help(help);
}

/// The words BuildKit expands in `ins` (its `SupportsSingleWordExpansion`), each with whether
/// it is a JSON item (whose span starts at its opening quote).
fn expanded_words(ins: &Instruction) -> Vec<(&Spanned<String>, bool)> {
    let exec = ins.args.is_exec();
    let flags = |names: &[&str]| -> Vec<(&Spanned<String>, bool)> {
        ins.flags
            .iter()
            .filter(|f| names.contains(&f.name.value.as_str()))
            .filter_map(|f| f.value.as_ref().map(|v| (v, false)))
            .collect()
    };
    match ins.kind {
        Keyword::Env | Keyword::Label | Keyword::Arg => ins
            .args
            .pairs()
            .iter()
            .filter_map(|kv| kv.raw_value.as_ref().map(|v| (v, false)))
            .collect(),
        Keyword::Copy | Keyword::Add => {
            let mut v = flags(&["chown", "chmod", "checksum"]);
            v.extend(ins.words().iter().map(|w| (w, exec)));
            v
        }
        Keyword::Workdir | Keyword::User | Keyword::Volume | Keyword::StopSignal => {
            ins.words().iter().map(|w| (w, exec)).collect()
        }
        Keyword::Run => flags(&["mount"]),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::{findings, spans};

    #[test]
    fn bytes_of_buildkits_cases() {
        let r = "undefined-var";
        assert!(findings(r, "FROM scratch\nARG foo\nCOPY Dockerfile${foo} .\n").is_empty());
        assert!(
            findings(
                r,
                "FROM alpine AS base\nARG foo=Dockerfile\n\nFROM base\nCOPY $foo .\n"
            )
            .is_empty()
        );
        assert!(findings(r, "FROM alpine\nRUN echo $PATH\n").is_empty());
        let f = findings(r, "FROM alpine\nCOPY $foo .\nARG foo=bar\nRUN echo $foo\n");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].1, "2:6-2:10");
        let f = findings(
            r,
            "FROM alpine\nARG DIR_BINARIES=binaries/\nARG DIR_ASSETS=assets/\nCOPY $DIR_ASSET .\n",
        );
        assert_eq!(
            f[0].2,
            "variable `$DIR_ASSET` is not defined here (did you mean `$DIR_ASSETS`?): it expands to nothing"
        );
        assert_eq!(
            spans(r, "FROM alpine\nENV PATH=$PAHT:/tmp/bin\n"),
            ["$PAHT"]
        );
        assert_eq!(spans(r, "FROM scratch AS first\nCOPY $foo .\n"), ["$foo"]);
    }

    #[test]
    fn scopes() {
        let r = "undefined-var";
        // a global ARG is not visible in the stage; a predefined one neither
        let text = "ARG VERSION=1\nFROM alpine\nLABEL v=$VERSION\nCOPY bin/$TARGETARCH/app /app\nARG TARGETARCH\nCOPY bin/$TARGETARCH/x /x\n";
        assert_eq!(spans(r, text), ["$VERSION", "$TARGETARCH"]);
        // an unknown name on an unknown base image may be its ENV; on scratch it is not
        assert!(findings(r, "FROM eclipse-temurin\nWORKDIR $JAVA_HOME\n").is_empty());
        assert!(findings(r, "FROM golang\nENV GOPATH=$GOPATH:/x\nENV L=$LD_LIBRARY_PATH\nENV LD_LIBRARY_PATH=/y\nENV DYLD_LIBRARY_PATH=/z:$DYLD_LIBRARY_PATH\n").is_empty());
        let f = findings(r, "FROM alpine\nARG VERSION=${VERSION:-master}\n");
        assert_eq!(
            f[0].2,
            "variable `$VERSION` is not defined here: its default is always used"
        );
        assert_eq!(
            spans(r, "FROM scratch\nWORKDIR $JAVA_HOME\n"),
            ["$JAVA_HOME"]
        );
        // ARG pairs see the earlier ones; ENV pairs do not; RUN text is not expanded
        assert!(
            findings(
                r,
                "FROM scratch\nARG A=1 B=$A\nARG C D=$C\nRUN echo $NOPE\n"
            )
            .is_empty()
        );
        assert_eq!(spans(r, "FROM scratch\nENV A=1 B=${A:-x}\n"), ["${A:-x}"]);
        assert_eq!(
            spans(
                r,
                "FROM scratch\nRUN --mount=type=cache,target=$C true\nCOPY [\"$S\", \"/d\"]\n"
            ),
            ["$C", "$S"]
        );
    }
}
