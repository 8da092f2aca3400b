use crate::compose::model::ComposeFile;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// `healthcheck: { disable: true }` or `test: ["NONE"]`.
pub struct HealthcheckDisabled;

impl Rule for HealthcheckDisabled {
    fn meta(&self) -> &'static RuleMeta {
        docs::HEALTHCHECK_DISABLED
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        for service in &compose.services {
            let Some(hc) = &service.healthcheck else {
                continue;
            };
            let found = match &hc.disable {
                Some(d) if d.value.as_bool() == Some(true) => Some((d.span, "disable: true")),
                _ => hc
                    .test
                    .first()
                    .filter(|t| hc.test_is_list && t.value.known().map(str::trim) == Some("NONE"))
                    .map(|t| (t.span, "test: [\"NONE\"]")),
            };
            let Some((span, how)) = found else {
                continue;
            };
            cx.report(
                span,
                format!(
                    "service `{}` disables its healthcheck (`{how}`)",
                    super::svc(service)
                ),
            )
            .help("give the service a `healthcheck:` test, or remove the override to keep the image's");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{findings, messages};

    const RULE: &str = "healthcheck-disabled";

    #[test]
    fn disable_and_none() {
        let text = "services:\n  a:\n    image: x:1\n    healthcheck:\n      disable: true\n  b:\n    image: x:1\n    healthcheck:\n      test: [\"NONE\"]\n  c:\n    image: x:1\n    healthcheck:\n      test: [\"CMD\", \"true\"]\n      disable: false\n  d:\n    image: x:1\n    healthcheck:\n      test: NONE\n";
        assert_eq!(
            findings(RULE, text),
            vec![
                ("SLC026", "true".to_string()),
                ("SLC026", "\"NONE\"".to_string())
            ]
        );
        assert_eq!(
            messages(RULE, text),
            vec![
                "service `a` disables its healthcheck (`disable: true`)",
                "service `b` disables its healthcheck (`test: [\"NONE\"]`)",
            ]
        );
    }
}
