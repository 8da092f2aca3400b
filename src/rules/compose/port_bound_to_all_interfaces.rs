use crate::compose::model::{ComposeFile, Port};
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// A published port without a specific host IP.
pub struct PortBoundToAllInterfaces;

/// Whether the port listens on every host interface; `None` when it depends on an unset variable.
fn on_all_interfaces(port: &Port) -> Option<bool> {
    if port.unknown {
        return None;
    }
    // `published: "127.0.0.1:8080"` (long syntax): an address where a port belongs. Compose
    // passes it on and the engine refuses it; `compose-syntax-error` reports it, and saying
    // "all interfaces" of an entry that names one would contradict its data.
    if (port.published.as_ref())
        .and_then(|p| p.value.known())
        .is_some_and(|p| p.contains(':'))
    {
        return None;
    }
    let Some(ip) = &port.host_ip else {
        return Some(true);
    };
    let ip = ip.value.known()?.trim();
    Some(matches!(ip, "" | "0.0.0.0" | "::" | "[::]"))
}

/// `published:target/proto` as the user would write it.
fn describe(port: &Port) -> String {
    let target = port.target.as_ref().map_or("?", |t| t.value.text());
    let mut out = match &port.published {
        Some(p) => format!("{}:{target}", p.value.text()),
        None => target.to_string(),
    };
    if let Some(proto) = port.protocol.as_ref().and_then(|p| p.value.known())
        && !proto.eq_ignore_ascii_case("tcp")
    {
        out.push('/');
        out.push_str(proto);
    }
    out
}

/// `127.0.0.1` as the host IP of an entry with a published port: short syntax `8080:80` →
/// `127.0.0.1:8080:80`, `0.0.0.0:8080:80` → `127.0.0.1:8080:80`; long syntax `host_ip:
/// 127.0.0.1` added, or written over `0.0.0.0`. `None` for IPv6 and an entry without a
/// published port.
fn loopback_edit(
    text: &str,
    service: &crate::compose::model::Service,
    port: &Port,
) -> Option<(crate::source::Span, String)> {
    use crate::compose::edit::{insert_into_item, replace_scalar, scalar_text, splice_scalar};
    port.published.as_ref()?;
    if port.long {
        return match &port.host_ip {
            Some(ip) if ip.value.known().is_some_and(|v| v.trim() == "0.0.0.0") => {
                replace_scalar(text, service, ip, "127.0.0.1")
            }
            Some(_) => None,
            None => insert_into_item(text, service, port.span, "host_ip", "127.0.0.1"),
        };
    }
    let inner = scalar_text(text, service, port.span)?;
    if inner.contains('[') {
        return None;
    }
    match inner.split(':').count() {
        2 => splice_scalar(text, service, port.span, 0, 0, "127.0.0.1:"),
        3 if inner.starts_with("0.0.0.0:") => {
            splice_scalar(text, service, port.span, 0, 7, "127.0.0.1")
        }
        _ => None,
    }
}

impl Rule for PortBoundToAllInterfaces {
    fn meta(&self) -> &'static RuleMeta {
        docs::PORT_BOUND_TO_ALL_INTERFACES
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        for service in &compose.services {
            // Docker ignores `ports` on the host network; `host-network-mode` reports that.
            let host_net = service
                .network_mode
                .as_ref()
                .and_then(|m| m.value.known())
                .is_some_and(|m| m.trim() == "host");
            if host_net {
                continue;
            }
            let name = super::svc(service);
            for port in &service.ports {
                if on_all_interfaces(port) != Some(true) {
                    continue;
                }
                let shown = crate::source::clip(&describe(port), 22);
                let message = if port.published.is_some() {
                    format!("service `{name}` publishes port `{shown}` on all interfaces")
                } else {
                    format!(
                        "service `{name}` publishes `{shown}` on a random port on all interfaces"
                    )
                };
                let target = port.target.as_ref().map_or("80", |t| t.value.text());
                let published = port.published.as_ref().map_or(target, |p| p.value.text());
                let fix = super::editable(cx, service.span.file).and_then(|f| {
                    let edit = loopback_edit(&f.text, service, port);
                    super::fix_of(
                        &f,
                        crate::fix::Applicability::Unsafe,
                        "bind it to `127.0.0.1`",
                        [edit],
                    )
                });
                let d = cx.report(port.span, message);
                d.help(format!(
                    "bind it to one interface, e.g. `127.0.0.1:{}:{}`",
                    crate::source::clip(published, 20),
                    crate::source::clip(target, 20)
                ));
                super::attach(d, fix);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{findings, messages};

    const RULE: &str = "port-bound-to-all-interfaces";

    #[test]
    fn short_syntax() {
        let text = "services:\n  web:\n    image: nginx\n    ports:\n      - \"8080:80\"\n      - \"127.0.0.1:8443:443\"\n      - \"0.0.0.0:9000:9000\"\n      - \"[::]:9001:9001\"\n      - \"9090\"\n      - \"[::1]:9002:9002\"\n    expose:\n      - \"3000\"\n";
        assert_eq!(
            findings(RULE, text),
            vec![
                ("SLC013", "\"8080:80\"".to_string()),
                ("SLC013", "\"0.0.0.0:9000:9000\"".to_string()),
                ("SLC013", "\"[::]:9001:9001\"".to_string()),
                ("SLC013", "\"9090\"".to_string()),
            ]
        );
        assert_eq!(
            messages(RULE, text),
            vec![
                "service `web` publishes port `8080:80` on all interfaces",
                "service `web` publishes port `9000:9000` on all interfaces",
                "service `web` publishes port `9001:9001` on all interfaces",
                "service `web` publishes `9090` on a random port on all interfaces",
            ]
        );
    }

    #[test]
    fn long_syntax_fix() {
        let text = "services:\n  web:\n    image: nginx\n    ports:\n      - target: 80\n        published: \"8080\"\n      - {target: 443, published: 8443, host_ip: 0.0.0.0}\n      - target: 81\n        published: 8081\n        protocol: tcp # why\n      - target: 82\n        host_ip: '::'\n        published: 8082\n      - target: 83\n";
        assert_eq!(
            super::super::test_util::fixed(RULE, text),
            "services:\n  web:\n    image: nginx\n    ports:\n      - target: 80\n        published: \"8080\"\n        host_ip: 127.0.0.1\n      - {target: 443, published: 8443, host_ip: 127.0.0.1}\n      - target: 81\n        published: 8081\n        protocol: tcp # why\n        host_ip: 127.0.0.1\n      - target: 82\n        host_ip: '::'\n        published: 8082\n      - target: 83\n"
        );
    }

    #[test]
    fn long_syntax() {
        let text = "services:\n  web:\n    image: nginx\n    ports:\n      - target: 80\n        published: \"8080\"\n      - target: 443\n        published: \"8443\"\n        host_ip: 127.0.0.1\n";
        let found = findings(RULE, text);
        assert_eq!(found.len(), 1);
        assert!(found.iter().all(|(_, s)| s.contains("target: 80")));
    }

    /// Issue 13: the message never contradicts the data (`published` holding an address).
    #[test]
    fn address_in_published_is_not_all_interfaces() {
        let text = "services:\n  web:\n    image: nginx\n    ports:\n      - target: 80\n        published: \"127.0.0.1:8080\"\n      - target: 81\n        published: \"8081\"\n";
        let found = findings(RULE, text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].1.contains("target: 81"), "{found:?}");
    }

    #[test]
    fn unknown_and_host_network_are_skipped() {
        let text = "services:\n  a:\n    image: nginx\n    ports:\n      - \"${BIND}:8080:80\"\n  b:\n    image: nginx\n    network_mode: host\n    ports:\n      - \"8080:80\"\n";
        assert!(findings(RULE, text).is_empty());
    }

    #[test]
    fn dotenv_style_default_resolves() {
        let text =
            "services:\n  a:\n    image: nginx\n    ports:\n      - \"${BIND:-0.0.0.0}:8080:80\"\n";
        assert_eq!(findings(RULE, text).len(), 1);
    }
}
