use crate::compose::model::{ComposeFile, SValue};
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// `pid: host`, `ipc: host`, `userns_mode: host`.
pub struct HostNamespaceShared;

/// Whether a namespace setting is exactly `host`.
pub(super) fn is_host(value: Option<&SValue>) -> Option<&SValue> {
    value.filter(|v| v.value.known().is_some_and(|m| m.trim() == "host"))
}

impl Rule for HostNamespaceShared {
    fn meta(&self) -> &'static RuleMeta {
        docs::HOST_NAMESPACE_SHARED
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        for service in &compose.services {
            let name = super::svc(service);
            let keys = [
                ("pid", "PID", service.pid.as_ref(), "processes"),
                ("ipc", "IPC", service.ipc.as_ref(), "shared memory"),
                (
                    "userns_mode",
                    "user",
                    service.userns_mode.as_ref(),
                    "user IDs",
                ),
            ];
            for (key, what, value, sees) in keys {
                let Some(value) = is_host(value) else {
                    continue;
                };
                cx.report(
                    value.span,
                    format!("service `{name}` shares the host {what} namespace (`{key}: host`)"),
                )
                .help(format!(
                    "remove `{key}: host`; the container then sees only its own {sees}"
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{findings, messages};

    const RULE: &str = "host-namespace-shared";

    #[test]
    fn flags_host_only() {
        let text = "services:\n  a:\n    image: x:1\n    pid: host\n    ipc: host\n    userns_mode: host\n    uts: host\n    cgroup: host\n  b:\n    image: x:1\n    pid: \"service:a\"\n    ipc: shareable\n    userns_mode: ${MODE}\n";
        assert_eq!(
            findings(RULE, text),
            vec![
                ("SLC015", "host".to_string()),
                ("SLC015", "host".to_string()),
                ("SLC015", "host".to_string())
            ]
        );
        assert_eq!(
            messages(RULE, text),
            vec![
                "service `a` shares the host PID namespace (`pid: host`)",
                "service `a` shares the host IPC namespace (`ipc: host`)",
                "service `a` shares the host user namespace (`userns_mode: host`)",
            ]
        );
    }
}
