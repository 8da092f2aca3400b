//! The registry an image comes from, and `trusted-registries` entries: their grammar (checked
//! when the config is loaded) and what they trust.
//!
//! An image's registry follows distribution/reference's `splitDockerDomain`: the first path
//! component when it contains `.` or `:`, is `localhost` or has an uppercase letter, else Docker
//! Hub. Docker Hub is `docker.io` under every name that serves it (`index.docker.io`,
//! `registry-1.docker.io`, `registry.hub.docker.com`), and its one-component names are
//! `library/<name>` (`alpine` and `docker.io/alpine` are `docker.io/library/alpine`).

use super::semantics;

/// Longest entry accepted (distribution/reference's longest name is 255 characters).
pub const MAX_ENTRY_LEN: usize = 255;

/// Most entries accepted in one `trusted-registries` list.
pub const MAX_ENTRIES: usize = 1000;

/// Docker Hub's other names.
fn normalize_registry(registry: &str) -> &str {
    match registry {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => "docker.io",
        r => r,
    }
}

/// `(registry, repository)` of an image reference: `ghcr.io/acme/app:1` -> (`ghcr.io`,
/// `acme/app`), `alpine` -> (`docker.io`, `library/alpine`). The registry is lowercased (host
/// names are case-insensitive); the repository is kept as written.
pub fn registry_and_repo(image: &str) -> (String, String) {
    let (name, _, _) = semantics::split_image_ref(image);
    let (registry, repo) = match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first.eq_ignore_ascii_case("localhost")
                || first.bytes().any(|b| b.is_ascii_uppercase()) =>
        {
            (first.to_ascii_lowercase(), rest.to_string())
        }
        _ => ("docker.io".to_string(), name.to_string()),
    };
    let registry = normalize_registry(&registry).to_string();
    let repo = if registry == "docker.io" && !repo.contains('/') {
        format!("library/{repo}")
    } else {
        repo
    };
    (registry, repo)
}

/// Which registries an entry covers.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Hosts {
    /// `*`: every registry.
    Any,
    /// `registry.example.com[:port]`, lowercased, Docker Hub's names as `docker.io`.
    Exact(String),
    /// `*.example.com[:port]`: the subdomains of `domain` (lowercased) at any depth, with
    /// exactly this port (`None`: none written).
    Subdomains {
        domain: String,
        port: Option<String>,
    },
}

/// One `trusted-registries` entry, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedRegistry {
    hosts: Hosts,
    /// Whole repository path components the repository must start with (`None`: any).
    path: Option<String>,
}

/// What the error for a rejected entry says the accepted forms are.
pub const ACCEPTED_FORMS: &str = "expected `*`, a registry (`registry.example.com`, `registry.example.com:5000`, `localhost`, `docker.io`) or `*.example.com` (its subdomains), optionally followed by a repository path prefix (`registry.example.com/team`)";

impl TrustedRegistry {
    /// Parses an entry; the error says what is wrong with it (without quoting it).
    pub fn parse(entry: &str) -> Result<TrustedRegistry, String> {
        if entry.is_empty() {
            return Err("the entry is empty".into());
        }
        if entry.len() > MAX_ENTRY_LEN {
            return Err(format!(
                "the entry is longer than {MAX_ENTRY_LEN} characters"
            ));
        }
        if entry.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("the entry contains whitespace or a control character".into());
        }
        if entry.contains("://") {
            return Err("a registry is written without a scheme (`https://`)".into());
        }
        if entry.contains('@') {
            return Err("an entry names no digest (`@sha256:…`)".into());
        }
        if entry == "*" {
            return Ok(TrustedRegistry {
                hosts: Hosts::Any,
                path: None,
            });
        }
        let (host, path) = match entry.split_once('/') {
            Some((h, p)) => (h, Some(p.strip_suffix('/').unwrap_or(p))),
            None => (entry, None),
        };
        let (pattern, rest) = match host.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, host),
        };
        if rest.contains(['*', '?', '[', ']', '{', '}', '!']) {
            return Err("`*` is accepted alone or at the start of `*.domain` only, and no other wildcard (`?`, `[…]`, `{…}`)".into());
        }
        let (name, port) = match rest.split_once(':') {
            Some((n, p)) => (n, Some(p)),
            None => (rest, None),
        };
        if let Some(p) = port
            && (!(1..=5).contains(&p.len())
                || !p.bytes().all(|b| b.is_ascii_digit())
                || p.parse::<u32>().is_ok_and(|n| n == 0 || n > 65535))
        {
            return Err("the port is not a number from 1 to 65535".into());
        }
        let label_ok = |l: &str| {
            let b = l.as_bytes();
            (1..=63).contains(&b.len())
                && b.first().is_some_and(u8::is_ascii_alphanumeric)
                && b.last().is_some_and(u8::is_ascii_alphanumeric)
                && b.iter().all(|x| x.is_ascii_alphanumeric() || *x == b'-')
        };
        if !name.split('.').all(label_ok) {
            return Err(
                "the registry is not a host name (labels of letters, digits and `-`, separated by `.`)"
                    .into(),
            );
        }
        let name = name.to_ascii_lowercase();
        if !pattern && port.is_none() && !name.contains('.') && name != "localhost" {
            return Err("a registry contains a `.` or a `:port` or is `localhost` (an image's first path component is its registry only then; Docker Hub's `<name>/…` is `docker.io/<name>`)".into());
        }
        if let Some(p) = path {
            if p.contains(':') {
                return Err("an entry names no tag (`:tag`)".into());
            }
            if p.contains(['*', '?', '[', ']', '{', '}', '!']) {
                return Err("`*` is accepted alone or at the start of `*.domain` only, and no other wildcard (`?`, `[…]`, `{…}`)".into());
            }
            if !p.split('/').all(is_path_component) {
                return Err("the path is not a repository path (components of lowercase letters and digits, separated by `.`, `_`, `__` or `-`, joined by `/`)".into());
            }
        }
        let hosts = if pattern {
            Hosts::Subdomains {
                domain: name,
                port: port.map(str::to_string),
            }
        } else {
            let host = match port {
                Some(p) => format!("{name}:{p}"),
                None => normalize_registry(&name).to_string(),
            };
            Hosts::Exact(host)
        };
        Ok(TrustedRegistry {
            hosts,
            path: path.map(str::to_string),
        })
    }

    /// `*`: trusts every image.
    pub fn is_any(&self) -> bool {
        self.hosts == Hosts::Any
    }

    /// Whether the entry covers `repo` in `registry` (as [`registry_and_repo`] gives them).
    pub fn trusts(&self, registry: &str, repo: &str) -> bool {
        let host_ok = match &self.hosts {
            Hosts::Any => true,
            Hosts::Exact(h) => h == registry,
            Hosts::Subdomains { domain, port } => {
                let (host, p) = match registry.rsplit_once(':') {
                    Some((h, p)) if !p.contains(']') => (h, Some(p)),
                    _ => (registry, None),
                };
                p == port.as_deref()
                    && host.len() > domain.len() + 1
                    && host.ends_with(domain.as_str())
                    && host.as_bytes().get(host.len() - domain.len() - 1) == Some(&b'.')
            }
        };
        host_ok
            && self.path.as_deref().is_none_or(|prefix| {
                repo.strip_prefix(prefix)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
            })
    }
}

/// Whether an entry of `trusted` covers `image`.
pub fn is_trusted(image: &str, trusted: &[TrustedRegistry]) -> bool {
    if trusted.iter().any(TrustedRegistry::is_any) {
        return true;
    }
    let (registry, repo) = registry_and_repo(image);
    trusted.iter().any(|t| t.trusts(&registry, &repo))
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn is_path_component(c: &str) -> bool {
    super::reference::is_path_component(c)
}

#[cfg(test)]
mod tests {
    use super::{TrustedRegistry, is_trusted, registry_and_repo};

    #[test]
    fn registries_of_images() {
        let r = |i: &str| registry_and_repo(i);
        let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(r("alpine:3"), pair("docker.io", "library/alpine"));
        assert_eq!(r("acme/app"), pair("docker.io", "acme/app"));
        assert_eq!(r("docker.io/alpine"), pair("docker.io", "library/alpine"));
        assert_eq!(
            r("ghcr.io/acme/app:1@sha256:ab"),
            pair("ghcr.io", "acme/app")
        );
        assert_eq!(r("GHCR.io/acme/app"), pair("ghcr.io", "acme/app"));
        assert_eq!(r("localhost/app"), pair("localhost", "app"));
        assert_eq!(r("reg:5000/app"), pair("reg:5000", "app"));
        // An uppercase first component is a host to Docker, not a Docker Hub user.
        assert_eq!(r("Evil/app"), pair("evil", "app"));
        assert_eq!(
            r("index.docker.io/library/alpine"),
            pair("docker.io", "library/alpine")
        );
        assert_eq!(
            r("registry-1.docker.io/alpine"),
            pair("docker.io", "library/alpine")
        );
    }

    /// entry × image → trusted?
    #[test]
    fn matcher_table() {
        let table: &[(&str, &str, bool)] = &[
            ("*", "ghcr.io/acme/app:1", true),
            ("*", "alpine", true),
            (
                "registry.example.com",
                "registry.example.com/team/app:1",
                true,
            ),
            (
                "Registry.Example.COM",
                "registry.example.com/team/app",
                true,
            ),
            (
                "registry.example.com",
                "REGISTRY.example.com/team/app",
                true,
            ),
            (
                "registry.example.com",
                "evil.registry.example.com/app",
                false,
            ),
            (
                "registry.example.com",
                "registry.example.com:5000/app",
                false,
            ),
            (
                "registry.example.com:5000",
                "registry.example.com:5000/app",
                true,
            ),
            (
                "registry.example.com:5000",
                "registry.example.com/app",
                false,
            ),
            (
                "registry.example.com/team",
                "registry.example.com/team/app",
                true,
            ),
            (
                "registry.example.com/team/",
                "registry.example.com/team/app",
                true,
            ),
            (
                "registry.example.com/team",
                "registry.example.com/team",
                true,
            ),
            (
                "registry.example.com/team",
                "registry.example.com/teamx/app",
                false,
            ),
            (
                "registry.example.com/team",
                "registry.example.com/other/app",
                false,
            ),
            (
                "registry.example.com/team",
                "registry.example.com/Team/app",
                false,
            ),
            (
                "registry.example.com/team/app",
                "registry.example.com/team/app:2",
                true,
            ),
            ("*.example.com", "a.example.com/x", true),
            ("*.example.com", "a.b.example.com/x", true),
            ("*.example.com", "A.Example.com/x", true),
            ("*.EXAMPLE.com", "a.example.com/x", true),
            ("*.example.com", "example.com/x", false),
            ("*.example.com", "evilexample.com/x", false),
            ("*.example.com", "a.evilexample.com/x", false),
            ("*.example.com", "example.com.evil.net/x", false),
            ("*.example.com", "a.example.com:5000/x", false),
            ("*.example.com:5000", "a.example.com:5000/x", true),
            ("*.example.com:5000", "a.example.com/x", false),
            ("*.example.com/team", "a.example.com/team/app", true),
            ("*.example.com/team", "a.example.com/teamx/app", false),
            ("*.example.com/team", "example.com/team/app", false),
            ("*.com", "ghcr.com/x", true),
            ("docker.io", "alpine:3", true),
            ("docker.io", "acme/app", true),
            ("docker.io", "docker.io/library/alpine", true),
            ("docker.io", "index.docker.io/library/alpine", true),
            ("docker.io", "registry-1.docker.io/acme/app", true),
            ("index.docker.io", "alpine", true),
            ("docker.io", "Evil/app", false),
            ("docker.io", "localhost/app", false),
            ("docker.io", "reg:5000/app", false),
            ("docker.io", "hub.docker.com/x", false),
            ("*.docker.io", "alpine", false),
            ("docker.io/library", "alpine", true),
            ("docker.io/library", "docker.io/alpine", true),
            ("docker.io/library", "acme/app", false),
            ("docker.io/acme", "acme/app", true),
            ("localhost", "localhost/app", true),
            ("localhost", "localhost:5000/app", false),
            ("localhost:5000", "localhost:5000/app", true),
            ("ghcr.io", "alpine", false),
            ("ghcr.io", "ghcr.io.evil.net/x", false),
        ];
        let mut wrong = Vec::new();
        for &(entry, image, want) in table {
            let t = TrustedRegistry::parse(entry).unwrap_or_else(|e| panic!("{entry}: {e}"));
            if is_trusted(image, &[t]) != want {
                wrong.push(format!("{entry} × {image}: expected {want}"));
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    #[test]
    fn rejected_entries() {
        let table: &[(&str, &str)] = &[
            ("", "the entry is empty"),
            (
                " ghcr.io",
                "the entry contains whitespace or a control character",
            ),
            (
                "ghcr.io\n",
                "the entry contains whitespace or a control character",
            ),
            (
                "https://ghcr.io",
                "a registry is written without a scheme (`https://`)",
            ),
            (
                "ghcr.io/acme/app@sha256:00",
                "an entry names no digest (`@sha256:…`)",
            ),
            ("ghcr.io/acme/app:1", "an entry names no tag (`:tag`)"),
            (
                "registry.*.com",
                "`*` is accepted alone or at the start of `*.domain` only, and no other wildcard (`?`, `[…]`, `{…}`)",
            ),
            (
                "*example.com",
                "`*` is accepted alone or at the start of `*.domain` only, and no other wildcard (`?`, `[…]`, `{…}`)",
            ),
            (
                "example.*",
                "`*` is accepted alone or at the start of `*.domain` only, and no other wildcard (`?`, `[…]`, `{…}`)",
            ),
            (
                "**",
                "`*` is accepted alone or at the start of `*.domain` only, and no other wildcard (`?`, `[…]`, `{…}`)",
            ),
            (
                "*.*.example.com",
                "`*` is accepted alone or at the start of `*.domain` only, and no other wildcard (`?`, `[…]`, `{…}`)",
            ),
            (
                "reg?.example.com",
                "`*` is accepted alone or at the start of `*.domain` only, and no other wildcard (`?`, `[…]`, `{…}`)",
            ),
            (
                "[ab].example.com",
                "`*` is accepted alone or at the start of `*.domain` only, and no other wildcard (`?`, `[…]`, `{…}`)",
            ),
            (
                "ghcr.io/team/*",
                "`*` is accepted alone or at the start of `*.domain` only, and no other wildcard (`?`, `[…]`, `{…}`)",
            ),
            (
                "*/team",
                "`*` is accepted alone or at the start of `*.domain` only, and no other wildcard (`?`, `[…]`, `{…}`)",
            ),
            (
                "*.",
                "the registry is not a host name (labels of letters, digits and `-`, separated by `.`)",
            ),
            (
                "reg..example.com",
                "the registry is not a host name (labels of letters, digits and `-`, separated by `.`)",
            ),
            (
                "-reg.example.com",
                "the registry is not a host name (labels of letters, digits and `-`, separated by `.`)",
            ),
            (
                "reg_x.example.com",
                "the registry is not a host name (labels of letters, digits and `-`, separated by `.`)",
            ),
            ("reg:0", "the port is not a number from 1 to 65535"),
            ("reg:65536", "the port is not a number from 1 to 65535"),
            ("reg:", "the port is not a number from 1 to 65535"),
            ("reg:http", "the port is not a number from 1 to 65535"),
            (
                "myregistry",
                "a registry contains a `.` or a `:port` or is `localhost` (an image's first path component is its registry only then; Docker Hub's `<name>/…` is `docker.io/<name>`)",
            ),
            (
                "ghcr.io//acme",
                "the path is not a repository path (components of lowercase letters and digits, separated by `.`, `_`, `__` or `-`, joined by `/`)",
            ),
            (
                "ghcr.io/Acme",
                "the path is not a repository path (components of lowercase letters and digits, separated by `.`, `_`, `__` or `-`, joined by `/`)",
            ),
        ];
        let mut wrong = Vec::new();
        for &(entry, want) in table {
            match TrustedRegistry::parse(entry) {
                Ok(t) => wrong.push(format!("{entry:?}: accepted as {t:?}")),
                Err(e) if e != want => wrong.push(format!("{entry:?}: {e}")),
                Err(_) => {}
            }
        }
        let long = format!("{}.example.com", "a".repeat(250));
        assert_eq!(
            TrustedRegistry::parse(&long),
            Err("the entry is longer than 255 characters".to_string())
        );
        assert!(wrong.is_empty(), "{wrong:#?}");
    }
}
