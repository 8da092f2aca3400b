//! Which daemon to talk to, chosen the way the `docker` CLI chooses it: `DOCKER_HOST` when set,
//! else the context named by `DOCKER_CONTEXT`, else the config's `currentContext`, else the
//! default socket. A context is read from `$DOCKER_CONFIG` (default `~/.docker`):
//! `contexts/meta/<id>/meta.json` holds `{"Name": …, "Endpoints": {"docker": {"Host": …}}}`.
//!
//! The files are the user's own, not scanned input, but they are still read bounded (size and
//! number of contexts), and a context this build cannot speak to (TLS, SSH) is refused by name
//! rather than silently replaced by the default socket: a run must never land on another daemon
//! than the one the user selected.

use std::io::Read;
use std::path::{Path, PathBuf};

/// The default daemon address on Unix.
pub(super) const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";

/// The largest `config.json` or `meta.json` read.
const MAX_FILE: u64 = 1 << 20;
/// The most context directories looked at.
const MAX_CONTEXTS: usize = 1000;

/// The daemon address and how it was chosen (for messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Choice {
    pub host: String,
    pub how: String,
}

/// Resolves the daemon from the environment (`var`) and the Docker config directory.
pub(super) fn resolve(var: &dyn Fn(&str) -> Option<String>) -> Result<Choice, String> {
    let var = |k: &str| var(k).filter(|v| !v.is_empty());
    if let Some(host) = var("DOCKER_HOST") {
        return Ok(Choice {
            host,
            how: "from DOCKER_HOST".to_string(),
        });
    }
    let config_dir = match var("DOCKER_CONFIG") {
        Some(dir) => Some(PathBuf::from(dir)),
        None => var("HOME").map(|home| Path::new(&home).join(".docker")),
    };
    let (name, how) = if let Some(name) = var("DOCKER_CONTEXT") {
        (name, "DOCKER_CONTEXT")
    } else if let Some(name) = config_dir.as_deref().and_then(current_context) {
        (name, "currentContext in the Docker config")
    } else {
        return Ok(Choice {
            host: DEFAULT_HOST.to_string(),
            how: "the default socket; DOCKER_HOST is not set and no Docker context is selected"
                .to_string(),
        });
    };
    if name == "default" {
        return Ok(Choice {
            host: DEFAULT_HOST.to_string(),
            how: format!("the `default` Docker context ({how})"),
        });
    }
    let Some(dir) = config_dir else {
        return Err(format!(
            "Docker context `{name}` ({how}) cannot be looked up: neither DOCKER_CONFIG nor HOME is set"
        ));
    };
    let host =
        context_host(&dir, &name).map_err(|e| format!("Docker context `{name}` ({how}): {e}"))?;
    Ok(Choice {
        host,
        how: format!("the Docker context `{name}` ({how})"),
    })
}

/// Reads at most `MAX_FILE` bytes of a regular file (`None` when absent).
fn read_small(path: &Path) -> Result<Option<String>, String> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let mut text = String::new();
    file.take(MAX_FILE + 1)
        .read_to_string(&mut text)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if text.len() as u64 > MAX_FILE {
        return Err(format!("{} is over {MAX_FILE} bytes", path.display()));
    }
    Ok(Some(text))
}

/// `currentContext` of `config.json`, if set (an unreadable or malformed config selects none, as
/// the CLI falls back to the default context).
fn current_context(config_dir: &Path) -> Option<String> {
    let text = read_small(&config_dir.join("config.json")).ok()??;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value
        .get("currentContext")?
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The Docker endpoint of context `name`, from its `meta.json`.
fn context_host(config_dir: &Path, name: &str) -> Result<String, String> {
    let meta_root = config_dir.join("contexts").join("meta");
    let entries = std::fs::read_dir(&meta_root)
        .map_err(|e| format!("no such context ({}: {e})", meta_root.display()))?;
    for entry in entries.take(MAX_CONTEXTS) {
        let Ok(entry) = entry else { continue };
        let Some(text) = read_small(&entry.path().join("meta.json"))? else {
            continue;
        };
        let Ok(meta) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        if meta.get("Name").and_then(|n| n.as_str()) != Some(name) {
            continue;
        }
        let endpoint = meta
            .pointer("/Endpoints/docker")
            .ok_or("it has no docker endpoint")?;
        let host = endpoint
            .get("Host")
            .and_then(|h| h.as_str())
            .filter(|h| !h.is_empty())
            .ok_or("its docker endpoint has no Host")?;
        let tls_dir = config_dir
            .join("contexts")
            .join("tls")
            .join(entry.file_name())
            .join("docker");
        let scheme_ok = host.starts_with("unix://")
            || host.starts_with("tcp://")
            || host.starts_with("http://");
        if !scheme_ok || tls_dir.exists() {
            return Err(format!(
                "its endpoint `{host}` needs {}, which sandlint does not speak; select a context on a unix socket or plain tcp, or set DOCKER_HOST",
                if host.starts_with("ssh://") {
                    "SSH"
                } else {
                    "TLS"
                }
            ));
        }
        return Ok(host.to_string());
    }
    Err(format!("no such context in {}", meta_root.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        let map: HashMap<&str, &str> = pairs.iter().copied().collect();
        move |k| map.get(k).map(|v| (*v).to_string())
    }

    fn write(path: &Path, text: &str) {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap_or_default();
        }
        std::fs::write(path, text).unwrap_or_default();
    }

    fn config_with_contexts() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap_or_else(|_| std::process::abort());
        let d = dir.path();
        write(&d.join("config.json"), r#"{"currentContext": "remote"}"#);
        write(
            &d.join("contexts/meta/aaa/meta.json"),
            r#"{"Name":"remote","Metadata":{},"Endpoints":{"docker":{"Host":"unix:///run/remote.sock","SkipTLSVerify":false}}}"#,
        );
        write(
            &d.join("contexts/meta/bbb/meta.json"),
            r#"{"Name":"tls","Endpoints":{"docker":{"Host":"tcp://10.0.0.1:2376"}}}"#,
        );
        write(&d.join("contexts/tls/bbb/docker/ca.pem"), "x");
        write(
            &d.join("contexts/meta/ccc/meta.json"),
            r#"{"Name":"ssh","Endpoints":{"docker":{"Host":"ssh://me@box"}}}"#,
        );
        dir
    }

    #[test]
    fn docker_host_wins_over_every_context() {
        let dir = config_with_contexts();
        let path = dir.path().to_string_lossy().to_string();
        let got = resolve(&env(&[
            ("DOCKER_HOST", "tcp://127.0.0.1:2375"),
            ("DOCKER_CONTEXT", "ssh"),
            ("DOCKER_CONFIG", &path),
        ]));
        assert_eq!(
            got,
            Ok(Choice {
                host: "tcp://127.0.0.1:2375".into(),
                how: "from DOCKER_HOST".into()
            })
        );
    }

    #[test]
    fn current_context_then_docker_context() {
        let dir = config_with_contexts();
        let path = dir.path().to_string_lossy().to_string();
        let got = resolve(&env(&[("DOCKER_CONFIG", &path)]));
        assert_eq!(
            got,
            Ok(Choice {
                host: "unix:///run/remote.sock".into(),
                how: "the Docker context `remote` (currentContext in the Docker config)".into()
            })
        );
        let got = resolve(&env(&[
            ("DOCKER_CONFIG", &path),
            ("DOCKER_CONTEXT", "default"),
        ]));
        assert_eq!(got.map(|c| c.host), Ok(DEFAULT_HOST.to_string()));
    }

    #[test]
    fn contexts_it_cannot_speak_to_are_refused_by_name() {
        let dir = config_with_contexts();
        let path = dir.path().to_string_lossy().to_string();
        for (name, needs) in [("tls", "TLS"), ("ssh", "SSH")] {
            let got = resolve(&env(&[("DOCKER_CONFIG", &path), ("DOCKER_CONTEXT", name)]));
            let err = got.err().unwrap_or_default();
            assert!(
                err.starts_with(&format!(
                    "Docker context `{name}` (DOCKER_CONTEXT): its endpoint"
                )),
                "{err}"
            );
            assert!(err.contains(&format!("needs {needs}")), "{err}");
        }
        let got = resolve(&env(&[
            ("DOCKER_CONFIG", &path),
            ("DOCKER_CONTEXT", "nope"),
        ]));
        assert!(got.err().unwrap_or_default().contains("no such context"));
    }

    #[test]
    fn nothing_selected_is_the_default_socket() {
        let dir = tempfile::tempdir().unwrap_or_else(|_| std::process::abort());
        let path = dir.path().to_string_lossy().to_string();
        let got = resolve(&env(&[("DOCKER_CONFIG", &path)]));
        assert_eq!(got.map(|c| c.host), Ok(DEFAULT_HOST.to_string()));
    }
}
