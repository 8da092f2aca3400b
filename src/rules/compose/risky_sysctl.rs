use crate::compose::model::ComposeFile;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// `sysctls` that reach kernel-wide settings or turn the container into a router.
pub struct RiskySysctl;

/// Whether setting `name` to `value` is risky (`value` `None`: unknown or not given).
fn is_risky(name: &str, value: Option<&str>) -> bool {
    let name = name.trim().replace('/', ".");
    if name.starts_with("kernel.") || name.starts_with("net.ipv4.conf.all.") {
        return true;
    }
    let forwarding = matches!(
        name.as_str(),
        "net.ipv4.ip_forward" | "net.ipv6.conf.all.forwarding"
    );
    forwarding && value.map(str::trim) != Some("0")
}

impl Rule for RiskySysctl {
    fn meta(&self) -> &'static RuleMeta {
        docs::RISKY_SYSCTL
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        for service in &compose.services {
            for sysctl in &service.sysctls {
                let value = sysctl.value.as_ref().map(|v| v.value.text());
                if !is_risky(&sysctl.key.value, value) {
                    continue;
                }
                let shown = match value {
                    Some(v) => format!("{}={}", sysctl.key.value.trim(), v.trim()),
                    None => sysctl.key.value.trim().to_string(),
                };
                cx.report(
                    sysctl.key.span,
                    format!(
                        "service `{}` sets risky sysctl `{}`",
                        super::svc(service),
                        crate::source::clip(&shown, 36)
                    ),
                )
                .help("remove the sysctl; a service that must route (VPN, gateway) should run isolated, with a suppression and a reason");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{findings, messages};
    use super::is_risky;

    const RULE: &str = "risky-sysctl";

    #[test]
    fn names() {
        assert!(is_risky("kernel.shmmax", Some("1")));
        assert!(is_risky("net.ipv4.ip_forward", Some("1")));
        assert!(is_risky("net/ipv4/ip_forward", Some("1")));
        assert!(is_risky("net.ipv4.conf.all.src_valid_mark", Some("1")));
        assert!(is_risky("net.ipv6.conf.all.forwarding", Some("1")));
        assert!(!is_risky("net.ipv4.ip_forward", Some("0")));
        assert!(!is_risky("net.core.somaxconn", Some("1024")));
        assert!(!is_risky("net.ipv6.conf.all.disable_ipv6", Some("1")));
        assert!(!is_risky("net.ipv4.ip_unprivileged_port_start", Some("0")));
    }

    #[test]
    fn list_and_map() {
        let text = "services:\n  vpn:\n    image: x:1\n    sysctls:\n      net.ipv4.ip_forward: 1\n      net.core.somaxconn: 1024\n  db:\n    image: x:1\n    sysctls:\n      - kernel.shmmax=1073741824\n      - net.ipv4.tcp_keepalive_time=600\n";
        assert_eq!(
            findings(RULE, text),
            vec![
                ("SLC029", "net.ipv4.ip_forward".to_string()),
                ("SLC029", "kernel.shmmax".to_string())
            ]
        );
        assert_eq!(
            messages(RULE, text),
            vec![
                "service `vpn` sets risky sysctl `net.ipv4.ip_forward=1`",
                "service `db` sets risky sysctl `kernel.shmmax=1073741824`",
            ]
        );
    }
}
