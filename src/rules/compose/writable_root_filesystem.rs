use crate::compose::model::ComposeFile;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// `read_only` is not true.
pub struct WritableRootFilesystem;

const HELP: &str =
    "set `read_only: true` and mount `tmpfs` or volumes where the service must write";

impl Rule for WritableRootFilesystem {
    fn meta(&self) -> &'static RuleMeta {
        docs::WRITABLE_ROOT_FILESYSTEM
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        for service in &compose.services {
            let name = super::svc(service);
            match &service.read_only {
                None => {
                    cx.report(
                        service.name.span,
                        format!(
                            "service `{name}` has a writable root filesystem (`read_only` not set)"
                        ),
                    )
                    .help(HELP);
                }
                Some(v) if v.value.as_bool() == Some(false) => {
                    cx.report(
                        v.span,
                        format!(
                            "service `{name}` has a writable root filesystem (`read_only: {}`)",
                            crate::source::clip(v.value.text(), 12)
                        ),
                    )
                    .help(HELP);
                }
                Some(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::findings;

    const RULE: &str = "writable-root-filesystem";

    #[test]
    fn missing_and_false() {
        let text = "services:\n  a:\n    image: nginx\n  b:\n    image: nginx\n    read_only: false\n  c:\n    image: nginx\n    read_only: true\n  d:\n    image: nginx\n    read_only: ${RO}\n";
        assert_eq!(
            findings(RULE, text),
            vec![("SLC003", "a".to_string()), ("SLC003", "false".to_string())]
        );
    }
}
