use crate::dockerfile::model::{Dockerfile, Keyword};
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// SLD022: `ONBUILD` triggers.
pub struct OnbuildInstruction;

impl Rule for OnbuildInstruction {
    fn meta(&self) -> &'static RuleMeta {
        docs::ONBUILD_INSTRUCTION
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        for ins in df
            .instructions
            .iter()
            .filter(|i| i.kind == Keyword::Onbuild)
        {
            let trigger = ins.onbuild.as_deref().map_or_else(String::new, |t| {
                format!(" {}", t.keyword.value.to_ascii_uppercase())
            });
            cx.report(
                ins.keyword.span,
                format!("`ONBUILD{trigger}` runs in every build that uses this image as its base"),
            )
            .help(
                "move the step into the Dockerfiles that build on this image, where it can be seen and reviewed",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::{findings, spans};

    const R: &str = "onbuild-instruction";

    #[test]
    fn flags_onbuild() {
        assert_eq!(
            findings(R, "FROM a:1\nonbuild copy . /app\n"),
            vec![(
                "SLD022",
                "2:1-2:8".to_string(),
                "`ONBUILD COPY` runs in every build that uses this image as its base".to_string()
            )]
        );
        assert_eq!(
            spans(R, "FROM a:1\nRUN echo ONBUILD\n"),
            Vec::<String>::new()
        );
    }
}
