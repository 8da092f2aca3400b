use crate::dockerfile::model::Dockerfile;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// SLD029: a stage named `scratch` or `context` (BuildKit's `ReservedStageName`).
pub struct ReservedStageName;

impl Rule for ReservedStageName {
    fn meta(&self) -> &'static RuleMeta {
        docs::RESERVED_STAGE_NAME
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        for stage in &df.stages {
            let Some(name) = &stage.name else { continue };
            if matches!(name.value.as_str(), "scratch" | "context") {
                cx.report(
                    name.span,
                    format!("stage name `{}` is reserved", name.value),
                )
                .help(format!(
                    "rename the stage: `FROM {}` and `COPY --from={}` mean BuildKit's own, not this stage",
                    name.value, name.value
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::findings;

    #[test]
    fn flags_reserved_names() {
        let f = findings(
            "reserved-stage-name",
            "FROM a:1 AS Scratch\nFROM b:1 AS context\nFROM c:1 AS scratchy\n",
        );
        assert_eq!(
            f.iter().map(|f| f.1.as_str()).collect::<Vec<_>>(),
            ["1:13-1:20", "2:13-2:20"]
        );
        assert_eq!(f[0].2, "stage name `scratch` is reserved");
    }
}
