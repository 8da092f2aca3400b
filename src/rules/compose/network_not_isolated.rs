use crate::compose::model::{ComposeFile, SValue, Service};
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};
use crate::source::{Span, Spanned};

/// A service that can reach the outside or the host: not `network_mode: none` and on a network
/// that is not `internal: true`, or with an `extra_hosts` entry mapped to `host-gateway`.
pub struct NetworkNotIsolated;

/// How deep `network_mode: service:x` chains are followed.
const MAX_HOPS: usize = 8;

/// Why a service can reach beyond its internal networks.
enum Exposure<'a> {
    /// `network_mode: host`.
    HostNetwork(&'a SValue),
    /// `network_mode: bridge` (or any mode that is not `none`, `host` or `service:`).
    Mode(&'a SValue),
    /// `network_mode: service:x` where `x` is not isolated (or not in this file).
    SharesWith(&'a SValue, String),
    /// No `networks:`: the project's default network, which is not internal.
    DefaultNetwork,
    /// A network that is not `internal: true`.
    Network(&'a Spanned<String>),
}

/// Whether the top-level network `name` is internal (unknown values count as internal: not judged).
fn is_internal(compose: &ComposeFile, name: &str) -> bool {
    compose
        .networks
        .iter()
        .find(|n| n.name.value == name)
        .and_then(|n| n.internal.as_ref())
        .is_some_and(|v| v.value.as_bool() != Some(false))
}

fn exposure<'a>(
    compose: &'a ComposeFile,
    service: &'a Service,
    hops: usize,
) -> Option<Exposure<'a>> {
    if let Some(mode) = &service.network_mode {
        let text = mode.value.known()?.trim();
        if text == "none" {
            return None;
        }
        if text == "host" {
            return Some(Exposure::HostNetwork(mode));
        }
        if let Some(other) = text.strip_prefix("service:") {
            let target = compose.services.iter().find(|s| s.name.value == other);
            return match target {
                Some(t) if hops < MAX_HOPS => exposure(compose, t, hops + 1)
                    .map(|_| Exposure::SharesWith(mode, other.to_string())),
                Some(_) => None,
                None => Some(Exposure::SharesWith(mode, other.to_string())),
            };
        }
        return Some(Exposure::Mode(mode));
    }
    if service.networks.is_empty() {
        return (!is_internal(compose, "default")).then_some(Exposure::DefaultNetwork);
    }
    service
        .networks
        .iter()
        .find(|n| !is_internal(compose, &n.value))
        .map(Exposure::Network)
}

/// Whether an `extra_hosts` entry (`name:ip`, `name=ip`) maps to `host-gateway`: the name.
fn host_gateway(entry: &str) -> Option<&str> {
    let at = entry.find([':', '='])?;
    let (name, ip) = (entry.get(..at)?, entry.get(at + 1..)?);
    (ip.trim() == "host-gateway").then_some(name.trim())
}

const HELP: &str =
    "attach the service only to networks with `internal: true`, or set `network_mode: none`";

/// `network_mode: none` for a service on the default network that publishes no port and names no
/// network (with ports, Docker refuses the mode; with networks, the user chose them).
fn none_fix(cx: &Ctx<'_>, service: &Service) -> Option<crate::fix::Fix> {
    let blocked = [
        "ports",
        "networks",
        "network_mode",
        "links",
        "expose",
        "extra_hosts",
    ];
    if service
        .keys
        .iter()
        .any(|k| blocked.contains(&k.value.as_str()))
    {
        return None;
    }
    let f = super::editable(cx, service.span.file)?;
    let value = crate::compose::edit::YValue::Scalar("none".into());
    let edit = crate::compose::edit::insert_key(&f.text, service, "network_mode", &value);
    super::fix_of(
        &f,
        crate::fix::Applicability::Unsafe,
        "set `network_mode: none`",
        [edit],
    )
}

impl Rule for NetworkNotIsolated {
    fn meta(&self) -> &'static RuleMeta {
        docs::NETWORK_NOT_ISOLATED
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        for service in &compose.services {
            let name = super::svc(service);
            let isolated_mode = service
                .network_mode
                .as_ref()
                .and_then(|m| m.value.known())
                .is_some_and(|m| m.trim() == "none");
            if isolated_mode {
                continue;
            }
            let found: Option<(Span, String)> = match exposure(compose, service, 0) {
                None => None,
                Some(Exposure::HostNetwork(mode)) => Some((
                    mode.span,
                    format!(
                        "service `{name}` can reach the host and the outside (`network_mode: host`)"
                    ),
                )),
                Some(Exposure::Mode(mode)) => Some((
                    mode.span,
                    format!(
                        "service `{name}` can reach the outside (`network_mode: {}`)",
                        crate::source::clip(mode.value.text().trim(), 12)
                    ),
                )),
                Some(Exposure::SharesWith(mode, other)) => Some((
                    mode.span,
                    format!(
                        "service `{name}` can reach the outside via service `{}`",
                        crate::source::clip(&other, 16)
                    ),
                )),
                Some(Exposure::DefaultNetwork) => Some((
                    service.name.span,
                    format!("service `{name}` can reach the outside via the default network"),
                )),
                Some(Exposure::Network(net)) => Some((
                    net.span,
                    format!(
                        "service `{name}` can reach the outside via network `{}`",
                        crate::source::clip(&net.value, 20)
                    ),
                )),
            };
            if let Some((span, message)) = found {
                let default = span == service.name.span;
                let fix = default.then(|| none_fix(cx, service)).flatten();
                let d = cx.report(span, message);
                d.help(HELP);
                super::attach(d, fix);
            }
            for entry in &service.extra_hosts {
                let Some(host) = entry.value.known().and_then(host_gateway) else {
                    continue;
                };
                cx.report(
                    entry.span,
                    format!(
                        "service `{name}` can reach the host via `{}`",
                        crate::source::clip(host, 28)
                    ),
                )
                .help("remove the entry mapped to `host-gateway`; reach host services through an internal network");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{findings, messages};
    use super::host_gateway;

    const RULE: &str = "network-not-isolated";

    #[test]
    fn gateway_entries() {
        assert_eq!(
            host_gateway("host.docker.internal:host-gateway"),
            Some("host.docker.internal")
        );
        assert_eq!(host_gateway("h=host-gateway"), Some("h"));
        assert_eq!(host_gateway("db:10.0.0.2"), None);
        assert_eq!(host_gateway("v6:::1"), None);
    }

    #[test]
    fn default_and_named_networks() {
        let text = "services:\n  a:\n    image: x:1\n  b:\n    image: x:1\n    networks: [back]\n  c:\n    image: x:1\n    networks:\n      back:\n      front:\n  d:\n    image: x:1\n    network_mode: none\n    extra_hosts: [\"h:host-gateway\"]\nnetworks:\n  back:\n    internal: true\n  front: {}\n";
        assert_eq!(
            findings(RULE, text),
            vec![("SLC032", "a".to_string()), ("SLC032", "front".to_string())]
        );
        assert_eq!(
            messages(RULE, text),
            vec![
                "service `a` can reach the outside via the default network",
                "service `c` can reach the outside via network `front`",
            ]
        );
    }

    #[test]
    fn internal_default_network() {
        let text = "services:\n  a:\n    image: x:1\nnetworks:\n  default:\n    internal: true\n";
        assert!(findings(RULE, text).is_empty());
    }

    #[test]
    fn network_modes() {
        let text = "services:\n  a:\n    image: x:1\n    network_mode: host\n  b:\n    image: x:1\n    network_mode: bridge\n  c:\n    image: x:1\n    network_mode: \"service:d\"\n  d:\n    image: x:1\n    network_mode: none\n  e:\n    image: x:1\n    network_mode: \"service:b\"\n  f:\n    image: x:1\n    network_mode: ${MODE}\n";
        assert_eq!(
            messages(RULE, text),
            vec![
                "service `a` can reach the host and the outside (`network_mode: host`)",
                "service `b` can reach the outside (`network_mode: bridge`)",
                "service `e` can reach the outside via service `b`",
            ]
        );
    }

    #[test]
    fn host_gateway_is_reported_separately() {
        let text = "services:\n  a:\n    image: x:1\n    networks: [back]\n    extra_hosts:\n      - \"host.docker.internal:host-gateway\"\nnetworks:\n  back:\n    internal: true\n";
        assert_eq!(
            messages(RULE, text),
            vec!["service `a` can reach the host via `host.docker.internal`"]
        );
    }
}
