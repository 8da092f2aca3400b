use crate::compose::model::ComposeFile;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// `privileged: true`.
pub struct PrivilegedContainer;

impl Rule for PrivilegedContainer {
    fn meta(&self) -> &'static RuleMeta {
        docs::PRIVILEGED_CONTAINER
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        for service in &compose.services {
            let Some(privileged) = &service.privileged else {
                continue;
            };
            if privileged.value.as_bool() == Some(true) {
                let fix = super::editable(cx, service.span.file).and_then(|f| {
                    let edit =
                        crate::compose::edit::replace_scalar(&f.text, service, privileged, "false");
                    super::fix_of(
                        &f,
                        crate::fix::Applicability::Unsafe,
                        "set `privileged: false`",
                        [edit],
                    )
                });
                let d = cx.report(
                    privileged.span,
                    format!(
                        "service `{}` runs privileged (`privileged: {}`)",
                        super::svc(service),
                        crate::source::clip(privileged.value.text(), 16)
                    ),
                );
                d.help("remove `privileged: true` and add only the capabilities the service needs with `cap_add`");
                super::attach(d, fix);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{findings, messages};

    const RULE: &str = "privileged-container";

    #[test]
    fn flags_true_at_the_value() {
        let text = "services:\n  web:\n    image: nginx\n    privileged: true\n";
        assert_eq!(findings(RULE, text), vec![("SLC001", "true".to_string())]);
        assert_eq!(
            messages(RULE, text),
            vec!["service `web` runs privileged (`privileged: true`)"]
        );
    }

    #[test]
    fn flags_yaml11_spelling_and_anchor() {
        let text = "x-base: &base\n  privileged: yes\nservices:\n  a:\n    <<: *base\n    image: nginx\n  b:\n    image: nginx\n    privileged: false\n";
        assert_eq!(findings(RULE, text), vec![("SLC001", "yes".to_string())]);
    }

    #[test]
    fn unknown_and_missing_are_fine() {
        let text =
            "services:\n  a:\n    image: nginx\n    privileged: ${PRIV}\n  b:\n    image: nginx\n";
        assert!(findings(RULE, text).is_empty());
    }

    #[test]
    fn interpolated_default() {
        let text = "services:\n  a:\n    image: nginx\n    privileged: ${PRIV:-true}\n";
        assert_eq!(
            findings(RULE, text),
            vec![("SLC001", "${PRIV:-true}".to_string())]
        );
    }
}
