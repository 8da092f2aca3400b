use crate::compose::model::ComposeFile;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// `oom_kill_disable: true`.
pub struct OomKillDisabled;

impl Rule for OomKillDisabled {
    fn meta(&self) -> &'static RuleMeta {
        docs::OOM_KILL_DISABLED
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        for service in &compose.services {
            let Some(value) = &service.oom_kill_disable else {
                continue;
            };
            if value.value.as_bool() != Some(true) {
                continue;
            }
            cx.report(
                value.span,
                format!(
                    "service `{}` disables the OOM killer (`oom_kill_disable: true`)",
                    super::svc(service)
                ),
            )
            .help("remove `oom_kill_disable: true` and set a memory limit (`mem_limit`)");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{findings, messages};

    const RULE: &str = "oom-kill-disabled";

    #[test]
    fn flags_true_only() {
        let text = "services:\n  a:\n    image: x:1\n    oom_kill_disable: true\n  b:\n    image: x:1\n    oom_kill_disable: false\n  c:\n    image: x:1\n    oom_kill_disable: ${OOM}\n";
        assert_eq!(findings(RULE, text), vec![("SLC020", "true".to_string())]);
        assert_eq!(
            messages(RULE, text),
            vec!["service `a` disables the OOM killer (`oom_kill_disable: true`)"]
        );
    }
}
