use crate::dockerfile::model::{Dockerfile, Keyword};
use crate::docs::{self, RuleMeta};
use crate::fix::Applicability;
use crate::rules::{Ctx, Rule};

/// SLD030: a `CMD`, `ENTRYPOINT` or `HEALTHCHECK` that a later one of the same stage replaces
/// (BuildKit's `MultipleInstructionsDisallowed`).
pub struct MultipleInstructionsDisallowed;

impl Rule for MultipleInstructionsDisallowed {
    fn meta(&self) -> &'static RuleMeta {
        docs::MULTIPLE_INSTRUCTIONS_DISALLOWED
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        let file = cx.file().clone();
        for stage in &df.stages {
            // the last `CMD`, `ENTRYPOINT`, `HEALTHCHECK` seen in the stage
            let mut last: [Option<&crate::dockerfile::model::Instruction>; 3] = [None; 3];
            for ins in df.stage_instructions(stage) {
                let (slot, name) = match ins.kind {
                    Keyword::Cmd => (0, "CMD"),
                    Keyword::Entrypoint => (1, "ENTRYPOINT"),
                    Keyword::Healthcheck => (2, "HEALTHCHECK"),
                    _ => continue,
                };
                // as BuildKit: the earlier one is reported, it is the one that is ignored
                if let Some(earlier) = last[slot] {
                    let d = cx
                        .report(
                            earlier.keyword.span,
                            format!("this `{name}` is replaced by a later `{name}` of the stage and has no effect"),
                        )
                        .help(format!("keep only the last `{name}` of the stage"))
                        .label(&file, ins.keyword.span, "replaced by this one");
                    if let Some(edit) =
                        crate::dockerfile::edit::delete_instruction(&file.text, earlier)
                    {
                        d.fix(super::fix_of(
                            &file,
                            Applicability::Safe,
                            format!("remove the replaced `{name}`"),
                            [edit],
                        ));
                    }
                }
                last[slot] = Some(ins);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::findings;

    #[test]
    fn flags_the_replaced_one() {
        let text = "FROM a:1\nCMD a\nHEALTHCHECK NONE\nCMD b\nentrypoint x\nCMD [\"c\"]\nFROM b:1\nCMD d\n";
        let f = findings("multiple-instructions-disallowed", text);
        assert_eq!(
            f.iter().map(|f| f.1.as_str()).collect::<Vec<_>>(),
            ["2:1-2:4", "4:1-4:4"]
        );
        assert_eq!(
            f[0].2,
            "this `CMD` is replaced by a later `CMD` of the stage and has no effect"
        );
    }
}
