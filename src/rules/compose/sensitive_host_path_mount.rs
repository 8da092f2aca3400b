use crate::compose::model::{ComposeFile, Mount, Value, VolumeKind};
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// A bind mount of a host path that gives the container the host: `/`, `/etc`, `/proc`, a home
/// directory, `~/.ssh`, ...
pub struct SensitiveHostPathMount;

const HELP: &str =
    "mount only the files the service needs, read-only, or keep the data in a named volume";

/// Files and directories under `/etc` that hold host secrets or control host access: flagged
/// even when mounted read-only.
const ETC_SECRETS: &[&[&str]] = &[
    &["shadow"],
    &["shadow-"],
    &["gshadow"],
    &["gshadow-"],
    &["sudoers"],
    &["sudoers.d"],
    &["ssh"],
    &["docker"],
    &["containerd"],
    &["kubernetes"],
    &["ssl", "private"],
    &["pki", "tls", "private"],
];

/// Credential stores in a home directory.
const HOME_SECRETS: &[&[&str]] = &[
    &[".ssh"],
    &[".aws"],
    &[".azure"],
    &[".kube"],
    &[".docker"],
    &[".gnupg"],
    &[".netrc"],
    &[".git-credentials"],
    &[".config", "gcloud"],
];

/// Device nodes every container gets anyway (mounting them changes nothing), and the syslog socket.
const HARMLESS_DEV: &[&str] = &["null", "zero", "full", "random", "urandom", "log"];

/// Top-level directories whose whole tree is sensitive, read-only or not.
const SENSITIVE_TREES: &[&[&str]] = &[
    &["root"],
    &["boot"],
    &["proc"],
    &["sys"],
    &["var", "lib", "docker"],
    &["var", "lib", "containerd"],
];

/// A host path, split into its segments.
#[derive(Debug, PartialEq, Eq)]
enum HostPath {
    /// An absolute path (`..` resolved, `.` and empty segments dropped).
    Absolute(Vec<String>),
    /// A path under the home directory of the user running Compose (`~/x`, `$HOME/x`).
    Home(Vec<String>),
}

/// Why a mount is flagged.
#[derive(Debug, PartialEq, Eq)]
enum Why {
    /// Sensitive whether or not it is read-only.
    Sensitive,
    /// Host configuration, mounted writable.
    Writable,
}

fn segments(path: &str) -> Option<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            p if p.contains('$') => return None,
            p => out.push(p.to_string()),
        }
    }
    Some(out)
}

/// `$HOME/x`, `${HOME}/x`, `${HOME:-/home/me}/x`: the part after the reference.
fn after_home_var(raw: &str) -> Option<&str> {
    if let Some(rest) = raw.strip_prefix("$HOME") {
        return (rest.is_empty() || rest.starts_with('/')).then_some(rest);
    }
    let inner = raw.strip_prefix("${HOME")?;
    if !(inner.starts_with('}') || inner.starts_with(':') || inner.starts_with('-')) {
        return None;
    }
    let close = inner.find('}')?;
    inner.get(close + 1..)
}

fn host_path(volume: &Mount<'_>) -> Option<HostPath> {
    if !matches!(volume.kind, VolumeKind::Bind | VolumeKind::Unknown) {
        return None;
    }
    match &volume.source?.value {
        Value::Known(text) => {
            let text = text.trim();
            // Unless Compose resolves it, a named volume's `device:` reaches the daemon as
            // written: `~` is not expanded, and a relative path is the daemon's.
            if volume.via.is_some_and(|b| !b.resolved_by_compose) && !text.starts_with('/') {
                return None;
            }
            if text == "~" || text.starts_with("~/") {
                return segments(text.get(1..).unwrap_or("")).map(HostPath::Home);
            }
            if let Some(rest) = text.strip_prefix('~') {
                // `~user/x` is `/home/user/x` on Linux
                return segments(&format!("/home/{rest}")).map(HostPath::Absolute);
            }
            if text.starts_with('/') && !text.starts_with("//./") {
                return segments(text).map(HostPath::Absolute);
            }
            None
        }
        Value::Unknown(raw) => segments(after_home_var(raw.trim())?).map(HostPath::Home),
    }
}

fn starts_with(path: &[String], prefix: &[&str]) -> bool {
    path.len() >= prefix.len() && path.iter().zip(prefix).all(|(a, b)| a == b)
}

fn home_secret(rest: &[String]) -> bool {
    HOME_SECRETS.iter().any(|p| starts_with(rest, p))
}

fn classify(path: &HostPath, read_only: bool) -> Option<Why> {
    let segs = match path {
        HostPath::Home(rest) => {
            return (rest.is_empty() || home_secret(rest)).then_some(Why::Sensitive);
        }
        HostPath::Absolute(segs) => segs,
    };
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    if SENSITIVE_TREES.iter().any(|p| starts_with(segs, p)) {
        return Some(Why::Sensitive);
    }
    // A parent of a protected path holds it: `/var` and `/var/lib` hold `/var/lib/docker`,
    // `/etc/ssl` holds `/etc/ssl/private`.
    let holds = |p: &[&str]| p.len() > s.len() && p.starts_with(&s);
    if SENSITIVE_TREES.iter().any(|p| holds(p))
        || ETC_SECRETS.iter().any(|p| {
            let full: Vec<&str> = std::iter::once("etc").chain(p.iter().copied()).collect();
            holds(&full)
        })
    {
        return Some(Why::Sensitive);
    }
    match s.as_slice() {
        [] | ["etc"] | ["dev"] | ["run"] | ["var", "run"] | ["home" | "Users"] => {
            Some(Why::Sensitive)
        }
        ["home" | "Users", _] => Some(Why::Sensitive),
        ["home" | "Users", _, rest @ ..] => {
            let rest: Vec<String> = rest.iter().map(|s| (*s).to_string()).collect();
            home_secret(&rest).then_some(Why::Sensitive)
        }
        ["etc", ..] => {
            let rest = segs.get(1..).unwrap_or_default();
            if ETC_SECRETS.iter().any(|p| starts_with(rest, p)) {
                Some(Why::Sensitive)
            } else if read_only {
                None
            } else {
                Some(Why::Writable)
            }
        }
        ["dev", node] if HARMLESS_DEV.contains(node) => None,
        ["dev", ..] | ["run", ..] | ["var", "run", ..] => Some(Why::Sensitive),
        _ => None,
    }
}

impl Rule for SensitiveHostPathMount {
    fn meta(&self) -> &'static RuleMeta {
        docs::SENSITIVE_HOST_PATH_MOUNT
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        let file = cx.file().clone();
        for service in &compose.services {
            for volume in &service.volumes {
                let mount = volume.mount(compose);
                // `container-socket-mount` reports runtime sockets and their directories.
                if super::socket_mount(&mount).is_some() {
                    continue;
                }
                let (Some(path), Some(source)) = (host_path(&mount), mount.source) else {
                    continue;
                };
                let Some(why) = classify(&path, mount.read_only) else {
                    continue;
                };
                let shown = crate::source::clip(source.value.text().trim(), 26);
                let via = super::through(&mount);
                let message = match why {
                    Why::Sensitive => format!(
                        "service `{}` mounts sensitive host path `{shown}`{via}",
                        super::svc(service)
                    ),
                    Why::Writable => format!(
                        "service `{}` can write host configuration `{shown}`{via}",
                        super::svc(service)
                    ),
                };
                let help = match why {
                    Why::Sensitive => HELP,
                    Why::Writable => {
                        "mount it read-only (`:ro`), or only the file the service needs"
                    }
                };
                let d = cx.report(mount.at, message).help(help);
                super::label_device(d, &file, &mount);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{findings, messages};

    const RULE: &str = "sensitive-host-path-mount";

    fn one(entry: &str) -> String {
        format!("services:\n  app:\n    image: alpine:3.20\n    volumes:\n      - {entry}\n")
    }

    #[test]
    fn flagged() {
        for (entry, source) in [
            ("/:/host", "/"),
            ("/:/host:ro", "/"),
            ("/etc:/host/etc:ro", "/etc"),
            ("/etc/:/host/etc", "/etc/"),
            ("/etc/shadow:/etc/shadow:ro", "/etc/shadow"),
            ("/etc/ssh:/etc/ssh:ro", "/etc/ssh"),
            ("/etc/localtime:/etc/localtime", "/etc/localtime"),
            ("/root:/root", "/root"),
            ("/root/.ssh:/keys:ro", "/root/.ssh"),
            ("/proc:/host/proc:ro", "/proc"),
            ("/proc/1/ns:/ns", "/proc/1/ns"),
            ("/sys:/sys:ro", "/sys"),
            ("/sys/fs/cgroup:/sys/fs/cgroup:ro", "/sys/fs/cgroup"),
            ("/dev:/dev", "/dev"),
            ("/dev/shm:/dev/shm", "/dev/shm"),
            ("/boot:/boot:ro", "/boot"),
            ("/var/lib/docker:/var/lib/docker:ro", "/var/lib/docker"),
            (
                "/var/lib/docker/containers:/c:ro",
                "/var/lib/docker/containers",
            ),
            ("/run/dbus:/run/dbus:ro", "/run/dbus"),
            (
                "/var/run/dbus/system_bus_socket:/s",
                "/var/run/dbus/system_bus_socket",
            ),
            ("~/.ssh:/root/.ssh:ro", "~/.ssh"),
            ("~/.aws/credentials:/c:ro", "~/.aws/credentials"),
            ("~:/home/me", "~"),
            ("$HOME/.ssh:/root/.ssh:ro", "$HOME/.ssh"),
            ("${HOME}/.kube:/k:ro", "${HOME}/.kube"),
            (
                "/home/alice/.ssh/id_ed25519:/key:ro",
                "/home/alice/.ssh/id_ed25519",
            ),
            ("/home:/home", "/home"),
            ("/home/alice:/data", "/home/alice"),
            ("/Users/alice/.ssh:/ssh:ro", "/Users/alice/.ssh"),
            ("/etc/../etc:/x:ro", "/etc/../etc"),
            ("//etc:/x:ro", "//etc"),
            ("/var:/x:ro", "/var"),
            ("/var/lib:/x:ro", "/var/lib"),
            ("/var/lib/:/x:ro", "/var/lib/"),
            ("/var/./lib:/x", "/var/./lib"),
            ("/etc/ssl:/x:ro", "/etc/ssl"),
            ("/etc/pki/tls:/x:ro", "/etc/pki/tls"),
        ] {
            assert_eq!(
                findings(RULE, &one(entry)),
                vec![("SLC014", source.to_string())],
                "{entry}"
            );
        }
    }

    #[test]
    fn not_flagged() {
        for entry in [
            "/etc/localtime:/etc/localtime:ro",
            "/etc/timezone:/etc/timezone:ro",
            "/etc/ssl/certs:/etc/ssl/certs:ro",
            "/etc/passwd:/etc/passwd:ro",
            "./etc:/etc",
            "etc:/etc",
            "/dev/urandom:/dev/random:ro",
            "/dev/log:/dev/log",
            "/home/alice/projects/app:/app",
            "/var/lib/app:/data",
            "/var/log:/var/log:ro",
            "/srv/data:/data",
            "/var/run/docker.sock:/var/run/docker.sock",
            "/run:/run",
            "/var/run:/var/run",
            "${DATA}:/data",
            "$HOMEDIR/.ssh:/x",
            "/tmp:/tmp",
        ] {
            assert!(findings(RULE, &one(entry)).is_empty(), "{entry}");
        }
    }

    #[test]
    fn long_syntax_and_messages() {
        let text = "services:\n  app:\n    image: alpine:3.20\n    volumes:\n      - type: bind\n        source: /etc/nginx\n        target: /etc/nginx\n      - type: bind\n        source: /proc\n        target: /host/proc\n        read_only: true\n      - type: bind\n        source: /etc/nginx\n        target: /x\n        read_only: true\n";
        assert_eq!(
            messages(RULE, text),
            vec![
                "service `app` can write host configuration `/etc/nginx`",
                "service `app` mounts sensitive host path `/proc`",
            ]
        );
        assert_eq!(
            findings(RULE, text),
            vec![
                ("SLC014", "/etc/nginx".to_string()),
                ("SLC014", "/proc".to_string())
            ]
        );
    }

    #[test]
    fn named_volume_binds() {
        let text = "services:\n  app:\n    image: alpine:3.20\n    volumes:\n      - etc:/host-etc:ro\n      - type: volume\n        source: conf\n        target: /c\n      - conf-ro:/c-ro\n      - home:/h\n      - rel:/r\n      - nfs:/n\n      - data:/d\n      - keys:/k\nvolumes:\n  etc:\n    driver_opts:\n      type: none\n      o: bind\n      device: /etc\n  conf:\n    driver_opts: {type: none, o: bind, device: /etc/nginx}\n  conf-ro:\n    driver_opts: {type: none, o: 'bind,ro', device: /etc/nginx}\n  home:\n    driver_opts: {type: none, o: rbind, device: /root/.ssh}\n  rel:\n    driver_opts: {type: none, o: bind, device: ~/.ssh}\n  nfs:\n    driver_opts: {type: nfs, o: addr=10.0.0.1, device: /etc}\n  data:\n  keys:\n    driver: local\n    driver_opts: {type: none, o: bind, device: ~/.ssh}\n";
        let label = |path: &str, device: &str, name: &str| {
            vec![(
                device.to_string(),
                format!("named volume `{name}` binds host path `{path}`"),
            )]
        };
        assert_eq!(
            super::super::test_util::located(RULE, text),
            vec![
                (
                    "etc".to_string(),
                    "service `app` mounts sensitive host path `/etc` through named volume `etc`"
                        .to_string(),
                    label("/etc", "/etc", "etc")
                ),
                (
                    "conf".to_string(),
                    "service `app` can write host configuration `/etc/nginx` through named volume `conf`"
                        .to_string(),
                    label("/etc/nginx", "/etc/nginx", "conf")
                ),
                (
                    "home".to_string(),
                    "service `app` mounts sensitive host path `/root/.ssh` through named volume `home`"
                        .to_string(),
                    label("/root/.ssh", "/root/.ssh", "home")
                ),
                // `driver: local` and `o: bind`: Compose expands `~` (not for `rel`)
                (
                    "keys".to_string(),
                    "service `app` mounts sensitive host path `~/.ssh` through named volume `keys`"
                        .to_string(),
                    label("~/.ssh", "~/.ssh", "keys")
                ),
            ]
        );
    }
}
