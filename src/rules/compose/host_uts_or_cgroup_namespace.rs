use crate::compose::model::ComposeFile;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

use super::host_namespace_shared::is_host;

/// `uts: host`, `cgroup: host`.
pub struct HostUtsOrCgroupNamespace;

impl Rule for HostUtsOrCgroupNamespace {
    fn meta(&self) -> &'static RuleMeta {
        docs::HOST_UTS_OR_CGROUP_NAMESPACE
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        for service in &compose.services {
            let name = super::svc(service);
            let keys = [
                ("uts", "UTS", service.uts.as_ref()),
                ("cgroup", "cgroup", service.cgroup.as_ref()),
            ];
            for (key, what, value) in keys {
                let Some(value) = is_host(value) else {
                    continue;
                };
                let help = if key == "uts" {
                    "remove `uts: host`; set `hostname:` if the service needs a host name"
                        .to_string()
                } else {
                    "remove `cgroup: host`, or set `cgroup: private`".to_string()
                };
                cx.report(
                    value.span,
                    format!("service `{name}` shares the host {what} namespace (`{key}: host`)"),
                )
                .help(help);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{findings, messages};

    const RULE: &str = "host-uts-or-cgroup-namespace";

    #[test]
    fn flags_host_only() {
        let text = "services:\n  a:\n    image: x:1\n    pid: host\n    uts: host\n    cgroup: host\n  b:\n    image: x:1\n    cgroup: private\n    uts: ${U}\n";
        assert_eq!(
            findings(RULE, text),
            vec![
                ("SLC016", "host".to_string()),
                ("SLC016", "host".to_string())
            ]
        );
        assert_eq!(
            messages(RULE, text),
            vec![
                "service `a` shares the host UTS namespace (`uts: host`)",
                "service `a` shares the host cgroup namespace (`cgroup: host`)",
            ]
        );
    }
}
