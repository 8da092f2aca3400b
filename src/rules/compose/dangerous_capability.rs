use crate::compose::model::ComposeFile;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// `cap_add` of a capability that reaches beyond the container.
pub struct DangerousCapability;

/// Flagged capabilities (upper case, no `CAP_` prefix) and why, for the message.
/// `DAC_OVERRIDE` and `NET_RAW` are in Docker's default set and deliberately absent (see the doc).
const DANGEROUS: &[(&str, &str)] = &[
    ("ALL", "every capability"),
    ("SYS_ADMIN", "mounts, namespaces, more"),
    ("SYS_MODULE", "loads kernel modules"),
    ("SYS_PTRACE", "traces other processes"),
    ("SYS_RAWIO", "raw device and port I/O"),
    ("SYS_BOOT", "reboots the host"),
    ("SYS_TIME", "sets the host clock"),
    ("NET_ADMIN", "reconfigures the network"),
    ("DAC_READ_SEARCH", "opens host files by handle"),
    ("BPF", "loads BPF programs"),
    ("PERFMON", "kernel perf monitoring"),
    ("MAC_ADMIN", "changes the MAC policy"),
    ("MAC_OVERRIDE", "bypasses the MAC policy"),
    ("SYSLOG", "reads the kernel log"),
];

fn why(cap: &str) -> Option<&'static str> {
    let upper = cap.trim().to_ascii_uppercase();
    let bare = upper.strip_prefix("CAP_").unwrap_or(&upper);
    DANGEROUS
        .iter()
        .find(|(name, _)| *name == bare)
        .map(|(_, why)| *why)
}

impl Rule for DangerousCapability {
    fn meta(&self) -> &'static RuleMeta {
        docs::DANGEROUS_CAPABILITY
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        for service in &compose.services {
            for cap in &service.cap_add {
                let Some(text) = cap.value.known() else {
                    continue;
                };
                let Some(why) = why(text) else { continue };
                let shown = crate::source::clip(text.trim(), 20);
                cx.report(
                    cap.span,
                    format!("service `{}` adds `{shown}` ({why})", super::svc(service)),
                )
                .help(format!("remove `{shown}` from `cap_add`, or add a narrower capability that covers the need"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{findings, messages};

    const RULE: &str = "dangerous-capability";

    #[test]
    fn one_finding_per_capability() {
        let text = "services:\n  app:\n    image: alpine\n    cap_add:\n      - SYS_ADMIN\n      - CHOWN\n      - cap_net_admin\n      - DAC_OVERRIDE\n      - NET_RAW\n      - all\n      - ${CAP}\n";
        assert_eq!(
            findings(RULE, text),
            vec![
                ("SLC011", "SYS_ADMIN".to_string()),
                ("SLC011", "cap_net_admin".to_string()),
                ("SLC011", "all".to_string()),
            ]
        );
        assert_eq!(
            messages(RULE, text).first().map(String::as_str),
            Some("service `app` adds `SYS_ADMIN` (mounts, namespaces, more)")
        );
    }

    #[test]
    fn flow_sequence_from_anchor() {
        let text = "x-caps: &caps\n  cap_add: [SYS_PTRACE]\nservices:\n  app:\n    <<: *caps\n    image: alpine\n";
        assert_eq!(
            findings(RULE, text),
            vec![("SLC011", "SYS_PTRACE".to_string())]
        );
    }
}
