use crate::compose::model::ComposeFile;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// SLC033: `cgroup_parent:` places the container under a cgroup of the file's choosing.
pub struct CustomCgroupParent;

const HELP: &str = "remove `cgroup_parent` so the container stays under the daemon's cgroup parent, or confirm the parent's limits and suppress with a reason";

impl Rule for CustomCgroupParent {
    fn meta(&self) -> &'static RuleMeta {
        docs::CUSTOM_CGROUP_PARENT
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        for service in &compose.services {
            let Some(value) = &service.cgroup_parent else {
                continue;
            };
            // An unset variable is not judged; an empty value is the daemon's default.
            let Some(parent) = value.value.known().map(str::trim) else {
                continue;
            };
            if parent.is_empty() {
                continue;
            }
            cx.report(
                value.span,
                format!(
                    "service `{}` runs under cgroup parent `{}` instead of the daemon's",
                    super::svc(service),
                    crate::source::clip(parent, 40)
                ),
            )
            .help(HELP);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{findings, messages};

    const RULE: &str = "custom-cgroup-parent";

    #[test]
    fn flags_a_known_parent_at_its_value() {
        let text = "services:\n  a:\n    image: x:1\n    cgroup_parent: m-executor-abcd\n  b:\n    image: x:1\n    cgroup_parent: \"/system.slice\"\n  c:\n    image: x:1\n    cgroup_parent: ${CG:-batch.slice}\n";
        assert_eq!(
            findings(RULE, text),
            vec![
                ("SLC033", "m-executor-abcd".to_string()),
                ("SLC033", "\"/system.slice\"".to_string()),
                ("SLC033", "${CG:-batch.slice}".to_string()),
            ]
        );
        assert_eq!(
            messages(RULE, text),
            vec![
                "service `a` runs under cgroup parent `m-executor-abcd` instead of the daemon's",
                "service `b` runs under cgroup parent `/system.slice` instead of the daemon's",
                "service `c` runs under cgroup parent `batch.slice` instead of the daemon's",
            ]
        );
    }

    #[test]
    fn not_flagged() {
        for text in [
            "services:\n  a:\n    image: x:1\n",
            "services:\n  a:\n    image: x:1\n    cgroup_parent: \"\"\n",
            "services:\n  a:\n    image: x:1\n    cgroup_parent: ${CGROUP_PARENT}\n",
            "services:\n  a:\n    image: x:1\n    cgroup: private\n",
            "services:\n  a:\n    image: x:1\n    x-cgroup_parent: p\n",
        ] {
            assert_eq!(findings(RULE, text), vec![], "{text}");
        }
    }

    #[test]
    fn merge_keys_and_extends_carry_it() {
        let text = "x-base: &base\n  cgroup_parent: batch.slice\nservices:\n  a:\n    <<: *base\n    image: x:1\n  b:\n    extends: a\n  c:\n    extends: a\n    cgroup_parent: \"\"\n";
        // `a` and `b` (extended from `a`); `c` resets it to the default
        assert_eq!(
            messages(RULE, text),
            vec![
                "service `a` runs under cgroup parent `batch.slice` instead of the daemon's",
                "service `b` runs under cgroup parent `batch.slice` instead of the daemon's",
            ]
        );
    }
}
