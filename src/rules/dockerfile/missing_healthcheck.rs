use crate::dockerfile::analysis;
use crate::dockerfile::model::{Dockerfile, HealthcheckArg, Instruction, Keyword};
use crate::dockerfile::semantics;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Reads, Rule};

/// SLD021: the final stage has no `HEALTHCHECK` (nor inherits one from a parent stage).
pub struct MissingHealthcheck;

fn is_none(ins: &Instruction) -> bool {
    matches!(ins.healthcheck(), Some(HealthcheckArg::None { .. }))
}

impl Rule for MissingHealthcheck {
    fn meta(&self) -> &'static RuleMeta {
        docs::MISSING_HEALTHCHECK
    }

    /// A service that builds the file and defines a healthcheck covers it.
    fn reads(&self) -> Reads {
        Reads {
            built_by: true,
            ..Reads::of(self.meta())
        }
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        let Some(stage) = df.final_stage() else {
            return;
        };
        // A Compose service that builds this stage (no `build.target`, or the final stage's
        // name) defines the check.
        let builds_final = |target: Option<&str>| {
            target.is_none_or(|t| {
                crate::dockerfile::semantics::target_stage(df, Some(t))
                    .is_some_and(|s| s.index == stage.index)
            })
        };
        if cx
            .built_by()
            .iter()
            .any(|b| b.has_healthcheck && builds_final(b.target.as_deref()))
        {
            return;
        }
        let Some(from) = df.instructions.get(stage.from) else {
            return;
        };
        let last = semantics::stage_chain(df, stage).into_iter().find_map(|s| {
            df.stage_instructions(s)
                .iter()
                .rev()
                .find(|i| i.kind == Keyword::Healthcheck)
        });
        let name = stage.name.as_ref().map_or_else(
            || format!("`FROM {}`", analysis::snippet(&stage.image.value, 50)),
            |n| format!("`{}`", analysis::snippet(&n.value, 50)),
        );
        let file = cx.file().clone();
        match last {
            Some(h) if !is_none(h) => {}
            Some(h) => {
                cx.report(
                    from.span,
                    format!("final stage {name} disables the health check (`HEALTHCHECK NONE`)"),
                )
                .help("define a `HEALTHCHECK CMD …` that probes the service, or one in the Compose service")
                .label(&file, h.span, "health check disabled here");
            }
            None => {
                cx.report(from.span, format!("final stage {name} has no `HEALTHCHECK`"))
                    .help(
                        "add `HEALTHCHECK CMD …` that probes the service (or define `healthcheck:` in the Compose service)",
                    );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::MissingHealthcheck;
    use crate::dockerfile::parse;
    use crate::rules::dockerfile::test_util::{findings, spans};
    use crate::rules::{BuiltBy, Ctx, DockerfileFacts, Facts, Rule};
    use crate::source::SourceFile;

    const R: &str = "missing-healthcheck";

    #[test]
    fn flags_final_stage() {
        assert_eq!(
            findings(
                R,
                "FROM a:1 AS build\nHEALTHCHECK CMD true\nFROM b:1 AS run\nUSER 1\n"
            ),
            vec![(
                "SLD021",
                "3:1-3:16".to_string(),
                "final stage `run` has no `HEALTHCHECK`".to_string()
            )]
        );
        assert_eq!(
            spans(
                R,
                "FROM a:1 AS base\nHEALTHCHECK CMD true\nFROM base\nHEALTHCHECK NONE\n"
            ),
            vec!["FROM base"]
        );
    }

    #[test]
    fn not_flagged() {
        for text in [
            "FROM a:1\nHEALTHCHECK --interval=5s CMD wget -qO- http://localhost/ || exit 1\n",
            "FROM a:1 AS base\nHEALTHCHECK CMD true\nFROM base\nUSER 1\n",
            "FROM a:1\nHEALTHCHECK NONE\nHEALTHCHECK CMD true\n",
            "ARG X=1\n",
        ] {
            assert_eq!(spans(R, text), Vec::<String>::new(), "{text}");
        }
    }

    #[test]
    fn compose_healthcheck_counts() {
        let text = "FROM a:1 AS dev\nRUN true\nFROM a:1 AS prod\n";
        let file = SourceFile::virtual_file("Dockerfile", text).into_ref();
        let df = parse(text);
        let run = |has_healthcheck: bool, target: Option<&str>| {
            let facts = Facts::Dockerfile(DockerfileFacts {
                built_by: vec![BuiltBy {
                    compose_file: file.clone(),
                    service: "web".to_string(),
                    target: target.map(str::to_string),
                    has_healthcheck,
                }],
                ..DockerfileFacts::default()
            });
            let mut diags = Vec::new();
            let mut cx = Ctx::new(MissingHealthcheck.meta(), &file, &facts, &mut diags);
            MissingHealthcheck.check_dockerfile(&mut cx, &df);
            diags.len()
        };
        assert_eq!(run(true, None), 0);
        assert_eq!(run(true, Some("prod")), 0);
        assert_eq!(
            run(true, Some("dev")),
            1,
            "the service builds another stage"
        );
        assert_eq!(run(false, None), 1);
    }
}
