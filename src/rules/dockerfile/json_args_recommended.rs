use crate::dockerfile::edit::TextEdit;
use crate::dockerfile::model::{Dockerfile, Instruction, Keyword};
use crate::dockerfile::semantics;
use crate::docs::{self, RuleMeta};
use crate::fix::Applicability;
use crate::rules::{Ctx, Rule};
use crate::source::Span;

/// SLD026: `CMD`/`ENTRYPOINT` in shell form (BuildKit's `JSONArgsRecommended`).
pub struct JsonArgsRecommended;

/// Shell builtins and keywords: as a program of exec form they do not exist.
const BUILTINS: &[&str] = &[
    "cd", "exec", "set", "export", "unset", ".", "source", "eval", "exit", "trap", "ulimit",
    "umask", "if", "for", "while", "until", "case", "!", "{", "(", "[[", "alias", "shift", "wait",
    "read", "test", "[",
];

/// `CMD a b c` → `CMD ["a", "b", "c"]` when the shell would run exactly that argv: one line of
/// plain words (letters, digits, `-_./:=,@+%`), the first not a builtin. The process changes
/// (the program is PID 1 instead of `sh`), hence unsafe.
fn exec_form(text: &str, ins: &Instruction) -> Option<TextEdit> {
    let args = ins.args.text()?;
    let written = text.get(args.span.range())?;
    if args.pieces.len() != 1 || written.contains(['\n', '\r']) || !ins.heredocs.is_empty() {
        return None;
    }
    let words: Vec<&str> = written.split_whitespace().collect();
    let plain = |w: &str| {
        w.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'-' | b'_' | b'.' | b'/' | b':' | b'=' | b',' | b'@' | b'+' | b'%'
                )
        })
    };
    let first = words.first()?;
    if BUILTINS.contains(first) || first.contains('=') || !words.iter().all(|w| plain(w)) {
        return None;
    }
    let items: Vec<String> = words.iter().map(|w| format!("\"{w}\"")).collect();
    let end = args.span.start as usize + written.trim_end().len();
    Some((
        Span::new(args.span.start, u32::try_from(end).ok()?),
        format!("[{}]", items.join(", ")),
    ))
}

impl Rule for JsonArgsRecommended {
    fn meta(&self) -> &'static RuleMeta {
        docs::JSON_ARGS_RECOMMENDED
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        let file = cx.file().clone();
        for stage in &df.stages {
            let first = stage.instructions.start;
            for (i, ins) in df.stage_instructions(stage).iter().enumerate() {
                let name = match ins.kind {
                    Keyword::Cmd => "CMD",
                    Keyword::Entrypoint => "ENTRYPOINT",
                    _ => continue,
                };
                // as BuildKit: not when a `SHELL` (here or in an ancestor stage) chose the shell
                if ins.args.is_exec()
                    || ins.args.text().is_none_or(|t| t.value.trim().is_empty())
                    || semantics::shell_before(df, stage, first + i).is_some()
                {
                    continue;
                }
                let fix = (ins.kind == Keyword::Cmd)
                    .then(|| exec_form(&file.text, ins))
                    .flatten();
                let d = cx
                    .report(
                        ins.keyword.span,
                        format!("`{name}` in shell form runs under `/bin/sh -c`, which does not pass signals on"),
                    )
                    .help(format!(
                        "write it in JSON (exec) form, `{name} [\"program\", \"arg\"]`, or `exec` the program from a script"
                    ));
                if let Some(edit) = fix {
                    d.fix(super::fix_of(
                        &file,
                        Applicability::Unsafe,
                        "write the command in JSON (exec) form",
                        [edit],
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::findings;

    const R: &str = "json-args-recommended";

    #[test]
    fn flags_shell_form() {
        let text = "FROM a:1\nCMD node server.js\nENTRYPOINT [\"tini\", \"--\"]\nentrypoint exec x\nFROM a:1 AS b\nSHELL [\"/bin/bash\", \"-c\"]\nFROM b\nCMD x\n";
        assert_eq!(
            findings(R, text)
                .into_iter()
                .map(|f| f.1)
                .collect::<Vec<_>>(),
            ["2:1-2:4", "4:1-4:11"]
        );
        assert_eq!(
            findings(R, "FROM a:1\nCMD x\n")[0].2,
            "`CMD` in shell form runs under `/bin/sh -c`, which does not pass signals on"
        );
    }
}
