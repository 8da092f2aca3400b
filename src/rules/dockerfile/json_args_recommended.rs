use crate::dockerfile::model::{Dockerfile, Keyword};
use crate::dockerfile::semantics;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// SLD026: `CMD`/`ENTRYPOINT` in shell form (BuildKit's `JSONArgsRecommended`).
pub struct JsonArgsRecommended;

impl Rule for JsonArgsRecommended {
    fn meta(&self) -> &'static RuleMeta {
        docs::JSON_ARGS_RECOMMENDED
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
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
                cx.report(
                    ins.keyword.span,
                    format!("`{name}` in shell form runs under `/bin/sh -c`, which does not pass signals on"),
                )
                .help(format!(
                    "write it in JSON (exec) form, `{name} [\"program\", \"arg\"]`, or `exec` the program from a script"
                ));
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
