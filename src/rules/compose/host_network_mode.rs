use crate::compose::model::ComposeFile;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// `network_mode: host`.
pub struct HostNetworkMode;

impl Rule for HostNetworkMode {
    fn meta(&self) -> &'static RuleMeta {
        docs::HOST_NETWORK_MODE
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        for service in &compose.services {
            let Some(mode) = &service.network_mode else {
                continue;
            };
            if mode.value.known().is_some_and(|m| m.trim() == "host") {
                let fix = super::editable(cx, service.span.file).and_then(|f| {
                    let edit =
                        crate::compose::edit::remove_key(&f.text, service, "network_mode", mode);
                    super::fix_of(
                        &f,
                        crate::fix::Applicability::Unsafe,
                        "remove `network_mode: host`",
                        [edit],
                    )
                });
                let d = cx.report(
                    mode.span,
                    format!(
                        "service `{}` uses the host network (`network_mode: host`)",
                        super::svc(service)
                    ),
                );
                d.help("remove `network_mode: host`; use a Compose network and publish the ports the service needs");
                super::attach(d, fix);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{findings, messages};

    const RULE: &str = "host-network-mode";

    #[test]
    fn flags_host_only() {
        let text = "services:\n  a:\n    image: nginx\n    network_mode: host\n  b:\n    image: nginx\n    network_mode: bridge\n  c:\n    image: nginx\n    network_mode: \"service:a\"\n  d:\n    image: nginx\n    network_mode: ${NET}\n";
        assert_eq!(findings(RULE, text), vec![("SLC008", "host".to_string())]);
        assert_eq!(
            messages(RULE, text),
            vec!["service `a` uses the host network (`network_mode: host`)"]
        );
    }

    #[test]
    fn resolved_default() {
        let text = "services:\n  a:\n    image: nginx\n    network_mode: ${NET:-host}\n";
        assert_eq!(
            findings(RULE, text),
            vec![("SLC008", "${NET:-host}".to_string())]
        );
    }
}
