use crate::dockerfile::globals::{self, GlobalArg};
use crate::dockerfile::model::Dockerfile;
use crate::dockerfile::vars::{self, var_refs};
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};
use crate::source::{Span, Spanned};

/// SLD037: a `FROM` (its image or `--platform`) uses a variable that is neither a global `ARG`
/// nor a predefined platform argument (BuildKit's `UndefinedArgInFrom`).
pub struct UndefinedArgInFrom;

impl Rule for UndefinedArgInFrom {
    fn meta(&self) -> &'static RuleMeta {
        docs::UNDEFINED_ARG_IN_FROM
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        let esc = df.escape_char();
        let mut names: Option<Vec<&str>> = None;
        for stage in &df.stages {
            for word in [Some(&stage.image), stage.platform.as_ref()]
                .into_iter()
                .flatten()
            {
                let mut seen: Vec<&str> = Vec::new();
                for r in var_refs(&word.value, esc, true) {
                    if globals::global_arg(df, r.name) != GlobalArg::Undeclared
                        || seen.contains(&r.name)
                    {
                        continue;
                    }
                    seen.push(r.name);
                    let options = names.get_or_insert_with(|| globals::global_names(df));
                    let hint = vars::suggest(r.name, options.iter().copied())
                        .map(|s| format!(" (did you mean `{s}`?)"))
                        .unwrap_or_default();
                    let shown = crate::source::clip(r.name, 60);
                    cx.report(
                        within(word, r.range.clone()),
                        format!("`FROM` argument `{shown}` is not declared{hint}: it is empty in the build"),
                    )
                    .help("declare it with `ARG` before the first `FROM` (with a default), or fix the name");
                }
            }
        }
    }
}

/// The source span of bytes `range` of a word (clamped to the word: a word broken by a line
/// continuation maps approximately).
pub(super) fn within(word: &Spanned<String>, range: std::ops::Range<usize>) -> Span {
    let off = |n: usize| {
        word.span
            .start
            .saturating_add(u32::try_from(n).unwrap_or(u32::MAX))
            .min(word.span.end)
    };
    Span::new(off(range.start), off(range.end)).in_file(word.span.file)
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::{findings, spans};

    #[test]
    fn undeclared_names_in_from() {
        let text = "ARG tag=latest\nARG MY_ARCH=amd64\nARG DEBUG\nFROM busybox:${tag}${version} AS b\nFROM --platform=linux/${MYARCH} busybox\nFROM --platform=$BUILDPLATFORM scratch${DEBUG}\nFROM x:${DEBUG:-1}$version\n";
        let f = findings("undefined-arg-in-from", text);
        assert_eq!(
            f.iter().map(|f| f.1.as_str()).collect::<Vec<_>>(),
            ["4:20-4:30", "5:23-5:32", "7:19-7:27"]
        );
        assert_eq!(
            f[1].2,
            "`FROM` argument `MYARCH` is not declared (did you mean `MY_ARCH`?): it is empty in the build"
        );
        assert_eq!(
            spans("undefined-arg-in-from", text),
            ["${version}", "${MYARCH}", "$version"]
        );
    }
}
