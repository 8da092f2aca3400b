use crate::compose::model::ComposeFile;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// `devices:` entries, and `device_cgroup_rules` that allow every device.
pub struct HostDeviceMapped;

/// Whether a device cgroup rule (`type major:minor access`) allows every device (of a type).
fn allows_all(rule: &str) -> bool {
    let mut parts = rule.split_whitespace();
    let kind = parts.next().unwrap_or("");
    let numbers = parts.next().unwrap_or("*:*");
    kind == "a" || (matches!(kind, "b" | "c") && numbers == "*:*")
}

impl Rule for HostDeviceMapped {
    fn meta(&self) -> &'static RuleMeta {
        docs::HOST_DEVICE_MAPPED
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        for service in &compose.services {
            let name = super::svc(service);
            for device in &service.devices {
                let text = device.value.text().trim();
                let host = text.split(':').next().unwrap_or(text);
                cx.report(
                    device.span,
                    format!(
                        "service `{name}` maps host device `{}`",
                        crate::source::clip(host, 36)
                    ),
                )
                .help("remove the device, or map it read-only (`:r`) if the service only reads it");
            }
            for rule in &service.device_cgroup_rules {
                let Some(text) = rule.value.known() else {
                    continue;
                };
                if !allows_all(text) {
                    continue;
                }
                cx.report(
                    rule.span,
                    format!(
                        "service `{name}` allows access to every host device (`{}`)",
                        crate::source::clip(text.trim(), 16)
                    ),
                )
                .help("allow only the devices the service needs, e.g. `c 189:* rwm`");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{findings, messages};
    use super::allows_all;

    const RULE: &str = "host-device-mapped";

    #[test]
    fn cgroup_rules() {
        for r in ["a", "a *:* rwm", "c *:* rwm", "b *:* rw", "a 1:3 r"] {
            assert!(allows_all(r), "{r}");
        }
        for r in ["c 189:* rwm", "c 1:3 mr", "b 8:* r"] {
            assert!(!allows_all(r), "{r}");
        }
    }

    #[test]
    fn devices_and_rules() {
        let text = "services:\n  a:\n    image: x:1\n    devices:\n      - /dev/kvm:/dev/kvm\n      - source: /dev/net/tun\n        target: /dev/net/tun\n    device_cgroup_rules:\n      - 'c 189:* rmw'\n      - 'a *:* rwm'\n";
        assert_eq!(findings(RULE, text).len(), 3);
        assert_eq!(
            messages(RULE, text),
            vec![
                "service `a` maps host device `/dev/kvm`",
                "service `a` maps host device `/dev/net/tun`",
                "service `a` allows access to every host device (`a *:* rwm`)",
            ]
        );
    }
}
