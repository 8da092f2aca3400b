//! The egress allowlist (`sandlint run --allow-host NAME`): the sandbox's only network is an
//! internal Docker network created for the run, whose only other member is a filtering
//! HTTP/HTTPS forward proxy (this binary, `sandlint run --egress-proxy ADDR`) in a hardened
//! sidecar container that is also on a second, per-run bridge network to the outside.
//!
//! - [`policy`]: the host patterns and the decision (pure);
//! - [`http`]: the request parsing (pure);
//! - [`proxy`]: the proxy server (std threads; runs in the sidecar);
//! - `image`: the sidecar's image, built locally `FROM scratch` from this binary and its
//!   shared libraries;
//! - `sidecar`: the networks and the sidecar: created, verified, collected, removed;
//! - `session`: the same for a session: recorded in its state, re-verified before every call,
//!   the decisions of one exec read back by time, swept with the session.
//!
//! See the README section "Egress allowlist" for the guarantees and the limits.

pub mod http;
mod image;
pub mod policy;
pub mod proxy;
mod session;
mod sidecar;

use std::path::PathBuf;

pub(super) use session::{SessionEgress, exec_report, record, reverify, sweep};
pub(super) use sidecar::{Prepared, collect, prepare, reap_networks, remove_run, start};

use super::verify::Check;

/// Label on the sidecar and both networks: the name of the sandbox container they serve.
pub const LABEL_EGRESS_OF: &str = "dev.sandlint.egress-of";
/// Label on the sandbox container when its network is sandlint's internal egress network (the
/// `network` check then verifies it like `none`).
pub const LABEL_EGRESS_NETWORK: &str = "dev.sandlint.egress-network";
/// The port the proxy listens on (in the sidecar).
pub const PROXY_PORT: u16 = 3128;

/// The egress allowlist of a run ([`super::SandboxOptions::egress`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EgressOptions {
    /// `name` or `*.suffix` (strict subdomains).
    pub hosts: Vec<String>,
    /// Ports the proxy connects to; empty: 80 and 443.
    pub ports: Vec<u16>,
    /// The sandlint binary copied into the sidecar's image; `None`: this process's executable.
    pub proxy_exe: Option<PathBuf>,
}

impl EgressOptions {
    /// Checks the hosts and ports (no daemon).
    pub fn policy(&self) -> Result<policy::Policy, super::SandboxError> {
        policy::Policy::parse(&self.hosts, &self.ports).map_err(|e| {
            super::SandboxError::InvalidOption {
                message: format!("--allow-host: {e}"),
            }
        })
    }
}

/// One request the proxy decided on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EgressEvent {
    pub host: String,
    pub port: u16,
    pub method: String,
    /// Why it was refused (blocked), or why an allowed one failed upstream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What the result says about egress.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct EgressReport {
    /// The allowlist, normalized.
    pub hosts: Vec<String>,
    pub ports: Vec<u16>,
    /// The sidecar container and the two networks.
    pub proxy: String,
    pub internal_network: String,
    pub outer_network: String,
    /// The proxy's address as the sandbox sees it (`HTTP_PROXY`).
    pub proxy_url: String,
    /// Requests the proxy let through, in order (at most [`MAX_EVENTS`]).
    pub allowed: Vec<EgressEvent>,
    /// Requests the proxy refused, in order (at most [`MAX_EVENTS`]).
    pub blocked: Vec<EgressEvent>,
    /// Decisions past [`MAX_EVENTS`] (or past the collected log) not listed.
    pub dropped: u64,
    /// The sidecar's and the networks' checks (the sandbox's own are in `verification`).
    pub checks: Vec<Check>,
}

/// Most events of each kind kept in the result.
pub const MAX_EVENTS: usize = 1000;

/// Parses the proxy's log lines into the report (bounded; malformed lines are skipped and
/// counted as dropped).
pub fn collect_log(report: &mut EgressReport, log: &[u8]) {
    #[derive(serde::Deserialize)]
    struct Line {
        decision: String,
        #[serde(flatten)]
        event: EgressEvent,
    }
    for line in log.split(|b| *b == b'\n') {
        if line.is_empty() || !line.starts_with(b"{\"decision\"") {
            continue;
        }
        let Ok(l) = serde_json::from_slice::<Line>(line) else {
            report.dropped += 1;
            continue;
        };
        let list = match l.decision.as_str() {
            "allowed" => &mut report.allowed,
            "blocked" => &mut report.blocked,
            _ => {
                report.dropped += 1;
                continue;
            }
        };
        if list.len() < MAX_EVENTS {
            list.push(l.event);
        } else {
            report.dropped += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_is_collected() {
        let mut r = EgressReport::default();
        collect_log(
            &mut r,
            b"{\"event\":\"listening\"}\n{\"decision\":\"allowed\",\"host\":\"a.test\",\"port\":80,\"method\":\"GET\"}\n{\"decision\":\"blocked\",\"host\":\"b.test\",\"port\":443,\"method\":\"CONNECT\",\"reason\":\"b.test is not in the allowlist\"}\n{\"decision\":\"blocked\",\"host\":1}\n",
        );
        assert_eq!(r.allowed.len(), 1);
        assert_eq!(r.blocked[0].host, "b.test");
        assert_eq!(
            r.blocked[0].reason.as_deref(),
            Some("b.test is not in the allowlist")
        );
        assert_eq!(r.dropped, 1);
    }
}
