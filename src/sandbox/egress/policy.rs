//! The allowlist: host-name patterns (`pypi.org`, `*.pythonhosted.org`) and ports, and the
//! decision for one requested `host:port`. Pure.
//!
//! Names are compared after [`normalize_host`]: ASCII lower case, one trailing dot removed,
//! letters, digits, `-` and `_` in labels of 1..=63 bytes, at most 253 bytes. A wildcard
//! `*.suffix` matches strict subdomains of `suffix` only (not `suffix` itself). IP literals
//! (IPv4 in any spelling a resolver accepts, IPv6 in brackets) are never allowed: the allowlist
//! names hosts, and an address would bypass it.

use std::fmt;

/// Ports allowed when none are configured.
pub const DEFAULT_PORTS: &[u16] = &[80, 443];

/// Longest host name (RFC 1035, without the trailing dot).
const MAX_NAME: usize = 253;

/// One allowlist entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPattern {
    /// Exactly this name.
    Exact(String),
    /// Strict subdomains of this name (`*.example.org`: `a.example.org`, not `example.org`).
    Subdomains(String),
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostPattern::Exact(n) => f.write_str(n),
            HostPattern::Subdomains(n) => write!(f, "*.{n}"),
        }
    }
}

impl HostPattern {
    /// Parses `name` or `*.name`. The error says why in words.
    pub fn parse(text: &str) -> Result<HostPattern, String> {
        let shown = crate::escape::line(&crate::source::clip(text, 80)).into_owned();
        let (wild, rest) = match text.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let name = normalize_host(rest).map_err(|why| format!("`{shown}`: {why}"))?;
        if wild && !name.contains('.') {
            return Err(format!(
                "`{shown}`: a wildcard needs at least two labels after `*.` (`*.example.org`), not a whole top-level domain"
            ));
        }
        Ok(if wild {
            HostPattern::Subdomains(name)
        } else {
            HostPattern::Exact(name)
        })
    }

    /// Whether the normalized `host` matches.
    pub fn matches(&self, host: &str) -> bool {
        match self {
            HostPattern::Exact(n) => host == n,
            HostPattern::Subdomains(n) => {
                host.len() > n.len() + 1
                    && host.ends_with(n.as_str())
                    && host.as_bytes()[host.len() - n.len() - 1] == b'.'
            }
        }
    }
}

/// Why a host text is not a host name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostError {
    /// An IP address (v4 in any spelling, v6 literal).
    IpLiteral,
    /// Not a DNS name (bad characters, empty or long labels, percent-encoding, userinfo ...).
    Invalid(&'static str),
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostError::IpLiteral => f.write_str("an IP address, not a host name"),
            HostError::Invalid(why) => f.write_str(why),
        }
    }
}

/// The canonical form of a host name: lower case, one trailing dot removed, checked.
pub fn normalize_host(text: &str) -> Result<String, HostError> {
    if text.starts_with('[') || text.contains(':') {
        return Err(HostError::IpLiteral);
    }
    let t = text.strip_suffix('.').unwrap_or(text);
    if t.is_empty() {
        return Err(HostError::Invalid("empty host name"));
    }
    if t.len() > MAX_NAME {
        return Err(HostError::Invalid("host name longer than 253 bytes"));
    }
    if t.contains('%') {
        return Err(HostError::Invalid("percent-encoding in a host name"));
    }
    if t.contains('@') {
        return Err(HostError::Invalid("user information (`@`) in a host name"));
    }
    let lower = t.to_ascii_lowercase();
    for label in lower.split('.') {
        if label.is_empty() {
            return Err(HostError::Invalid("empty label in a host name"));
        }
        if label.len() > 63 {
            return Err(HostError::Invalid("label longer than 63 bytes"));
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        {
            return Err(HostError::Invalid(
                "characters other than letters, digits, `-` and `_` in a host name",
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(HostError::Invalid("label starting or ending with `-`"));
        }
    }
    // A last label starting with a digit is what resolvers parse as an IPv4 address
    // (`10.0.0.1`, `2130706433`, `0x7f.1`, `127.1`); no top-level domain starts with one.
    let last = lower.rsplit('.').next().unwrap_or_default();
    if last.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
        return Err(HostError::IpLiteral);
    }
    Ok(lower)
}

/// The allowlist of a run: host patterns and ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub hosts: Vec<HostPattern>,
    pub ports: Vec<u16>,
}

/// The decision for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    /// Refused, with the reason shown to the client and logged.
    Blocked(String),
}

impl Policy {
    /// From the texts of `--allow-host` and `--allow-port` (no ports: [`DEFAULT_PORTS`]).
    pub fn parse(hosts: &[String], ports: &[u16]) -> Result<Policy, String> {
        let hosts = hosts
            .iter()
            .map(|h| HostPattern::parse(h.trim()))
            .collect::<Result<Vec<_>, _>>()?;
        if hosts.is_empty() {
            return Err("no host to allow".to_string());
        }
        if ports.contains(&0) {
            return Err("port 0 cannot be allowed".to_string());
        }
        let mut ports = if ports.is_empty() {
            DEFAULT_PORTS.to_vec()
        } else {
            ports.to_vec()
        };
        ports.sort_unstable();
        ports.dedup();
        Ok(Policy { hosts, ports })
    }

    /// Whether `host` (as the client sent it) on `port` may be reached.
    pub fn decide(&self, host: &str, port: u16) -> (Option<String>, Decision) {
        match normalize_host(host) {
            Err(HostError::IpLiteral) => (
                None,
                Decision::Blocked(format!(
                    "{} is not in the allowlist (IP addresses are never allowed, only host names)",
                    shown(host)
                )),
            ),
            Err(e) => (
                None,
                Decision::Blocked(format!("{} is not a host name: {e}", shown(host))),
            ),
            Ok(name) => {
                let decision = if !self.hosts.iter().any(|p| p.matches(&name)) {
                    Decision::Blocked(format!("{name} is not in the allowlist"))
                } else if !self.ports.contains(&port) {
                    Decision::Blocked(format!(
                        "port {port} of {name} is not in the allowlist (allowed ports: {})",
                        self.ports
                            .iter()
                            .map(u16::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                } else {
                    Decision::Allowed
                };
                (Some(name), decision)
            }
        }
    }
}

/// A client's host text for a message: clipped, control characters escaped.
pub fn shown(text: &str) -> String {
    crate::escape::line(&crate::source::clip(text, 80)).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(hosts: &[&str]) -> Policy {
        let hosts: Vec<String> = hosts.iter().map(|h| h.to_string()).collect();
        Policy::parse(&hosts, &[]).unwrap()
    }

    fn allowed(p: &Policy, host: &str, port: u16) -> bool {
        p.decide(host, port).1 == Decision::Allowed
    }

    #[test]
    fn exact_names_case_and_trailing_dot() {
        let p = policy(&["PyPI.org."]);
        assert!(allowed(&p, "pypi.org", 443));
        assert!(allowed(&p, "PYPI.ORG", 443));
        assert!(allowed(&p, "pypi.org.", 80));
        assert!(!allowed(&p, "pypi.org..", 443));
        assert!(!allowed(&p, "files.pypi.org", 443));
        assert!(!allowed(&p, "pypi.org.evil.com", 443));
        assert!(!allowed(&p, "evilpypi.org", 443));
        assert!(!allowed(&p, "pypi.org", 22));
        assert_eq!(
            p.decide("evil.com", 443).1,
            Decision::Blocked("evil.com is not in the allowlist".to_string())
        );
    }

    #[test]
    fn wildcards_match_strict_subdomains() {
        let p = policy(&["*.pythonhosted.org"]);
        assert!(allowed(&p, "files.pythonhosted.org", 443));
        assert!(allowed(&p, "a.b.pythonhosted.org", 443));
        assert!(!allowed(&p, "pythonhosted.org", 443));
        assert!(!allowed(&p, "evilpythonhosted.org", 443));
        assert!(!allowed(&p, ".pythonhosted.org", 443));
        assert!(!allowed(&p, "pythonhosted.org.evil.com", 443));
    }

    #[test]
    fn bad_patterns() {
        for bad in [
            "",
            "*",
            "*.",
            "*.com",
            "**.x.org",
            "a..b",
            "1.2.3.4",
            "[::1]",
            "::1",
            "a b",
            "x.org:443",
            "u@x.org",
            "x%2eorg",
            "-a.org",
            "*.*.x.org",
        ] {
            assert!(HostPattern::parse(bad).is_err(), "{bad:?} parsed");
        }
        assert!(Policy::parse(&["x.org".to_string()], &[0]).is_err());
        assert!(Policy::parse(&[], &[]).is_err());
        assert_eq!(
            Policy::parse(&["x.org".to_string()], &[8080, 443, 8080])
                .unwrap()
                .ports,
            vec![443, 8080]
        );
    }

    #[test]
    fn ip_literals_are_always_refused() {
        // even a pattern cannot name one, and a request naming one never matches
        let p = policy(&["x.org"]);
        for ip in [
            "127.0.0.1",
            "10.0.0.1",
            "2130706433",
            "0x7f.1",
            "127.1",
            "0177.0.0.1",
            "[::1]",
            "[::ffff:127.0.0.1]",
            "::1",
            "[fe80::1%25eth0]",
            "1.2.3.4.",
        ] {
            let (_, d) = p.decide(ip, 443);
            assert!(
                matches!(&d, Decision::Blocked(m) if m.contains("IP addresses are never allowed")),
                "{ip}: {d:?}"
            );
        }
    }

    #[test]
    fn hostile_host_texts() {
        let p = policy(&["x.org"]);
        let long = format!("{}.x.org", "a".repeat(64));
        let huge = "a.".repeat(200) + "x.org";
        for bad in [
            "x.org@evil.com",
            "evil.com@x.org",
            "x%2Eorg",
            "x.org\r\nHost: evil",
            "x.org/",
            "",
            ".",
            "x.org\0",
            "x\u{2024}org",
            long.as_str(),
            huge.as_str(),
        ] {
            let (name, d) = p.decide(bad, 443);
            assert!(matches!(d, Decision::Blocked(_)), "{bad:?}");
            if let Decision::Blocked(m) = d {
                assert!(
                    !m.contains('\r') && !m.contains('\n') && m.len() < 400,
                    "{m:?}"
                );
            }
            assert!(name.is_none() || bad.len() > 253, "{bad:?}");
        }
    }
}
