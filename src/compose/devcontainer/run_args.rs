//! `runArgs`: the `docker run` options a dev container is started with, each item one argument
//! as the Dev Containers CLI passes it.
//!
//! Options take their value as `--flag=value`, `--flag value`, `-fvalue`, `-f=value` or
//! `-f value`; short boolean options cluster (`-it`). The options `docker run` documents are
//! known with whether they take a value, so the next item is never taken for a value it is
//! not. An unknown option takes the next item as its value only when that item does not start
//! with `-` (`runArgs` holds no image or command, so such an item can only be a value).

/// `docker run` boolean options (`--flag`, `--flag=false`).
const BOOL_FLAGS: &[&str] = &[
    "detach",
    "disable-content-trust",
    "help",
    "init",
    "interactive",
    "no-healthcheck",
    "oom-kill-disable",
    "privileged",
    "publish-all",
    "quiet",
    "read-only",
    "rm",
    "sig-proxy",
    "tty",
    "use-api-socket",
];

/// `docker run` options that take a value.
const VALUE_FLAGS: &[&str] = &[
    "add-host",
    "annotation",
    "attach",
    "blkio-weight",
    "blkio-weight-device",
    "cap-add",
    "cap-drop",
    "cgroup-parent",
    "cgroupns",
    "cidfile",
    "cpu-count",
    "cpu-percent",
    "cpu-period",
    "cpu-quota",
    "cpu-rt-period",
    "cpu-rt-runtime",
    "cpu-shares",
    "cpus",
    "cpuset-cpus",
    "cpuset-mems",
    "detach-keys",
    "device",
    "device-cgroup-rule",
    "device-read-bps",
    "device-read-iops",
    "device-write-bps",
    "device-write-iops",
    "dns",
    "dns-opt",
    "dns-option",
    "dns-search",
    "domainname",
    "entrypoint",
    "env",
    "env-file",
    "expose",
    "gpus",
    "group-add",
    "health-cmd",
    "health-interval",
    "health-retries",
    "health-start-interval",
    "health-start-period",
    "health-timeout",
    "hostname",
    "io-maxbandwidth",
    "io-maxiops",
    "ip",
    "ip6",
    "ipc",
    "isolation",
    "kernel-memory",
    "label",
    "label-file",
    "link",
    "link-local-ip",
    "log-driver",
    "log-opt",
    "mac-address",
    "memory",
    "memory-reservation",
    "memory-swap",
    "memory-swappiness",
    "mount",
    "name",
    "net",
    "net-alias",
    "network",
    "network-alias",
    "oom-score-adj",
    "pid",
    "pids-limit",
    "platform",
    "publish",
    "pull",
    "restart",
    "runtime",
    "security-opt",
    "shm-size",
    "stop-signal",
    "stop-timeout",
    "storage-opt",
    "sysctl",
    "tmpfs",
    "ulimit",
    "user",
    "userns",
    "uts",
    "volume",
    "volume-driver",
    "volumes-from",
    "workdir",
];

/// Short options: the long option each stands for, and whether it is boolean.
fn short(c: char) -> Option<(&'static str, bool)> {
    Some(match c {
        'd' => ("detach", true),
        'i' => ("interactive", true),
        't' => ("tty", true),
        'P' => ("publish-all", true),
        'q' => ("quiet", true),
        'a' => ("attach", false),
        'c' => ("cpu-shares", false),
        'e' => ("env", false),
        'h' => ("hostname", false),
        'l' => ("label", false),
        'm' => ("memory", false),
        'p' => ("publish", false),
        'u' => ("user", false),
        'v' => ("volume", false),
        'w' => ("workdir", false),
        _ => return None,
    })
}

/// One option as parsed: its long name (as written for an unknown one) and its value: `Err(i)`
/// is the whole item `i` (`--flag value`, a bare boolean), `Ok((i, start))` the bytes of item
/// `i` from `start` (`--flag=value`, `-fvalue`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opt {
    pub name: String,
    /// The item holding the option.
    pub item: usize,
    /// Where its value is, or `None` for a boolean option written bare.
    pub value: Option<(usize, usize)>,
}

/// The options of `items` (one `docker run` argument each), in order. Items that are not
/// options (and everything after `--`) are skipped.
pub fn parse(items: &[&str]) -> Vec<Opt> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&item) = items.get(i) {
        let next_is_value = |j: usize| items.get(j).is_some_and(|n| !n.starts_with('-'));
        if item == "--" {
            break;
        }
        if let Some(long) = item.strip_prefix("--") {
            let (name, inline) = match long.find('=') {
                Some(eq) => (&long[..eq], Some(2 + eq + 1)),
                None => (long, None),
            };
            let takes = if BOOL_FLAGS.contains(&name) {
                false
            } else if VALUE_FLAGS.contains(&name) {
                true
            } else {
                inline.is_none() && next_is_value(i + 1)
            };
            let value = match inline {
                Some(at) => Some((i, at)),
                None if takes && i + 1 < items.len() => Some((i + 1, 0)),
                None => None,
            };
            out.push(Opt {
                name: name.to_string(),
                item: i,
                value,
            });
            i += if inline.is_none() && takes { 2 } else { 1 };
            continue;
        }
        let Some(cluster) = item.strip_prefix('-').filter(|c| !c.is_empty()) else {
            i += 1;
            continue;
        };
        let mut consumed = 1;
        for (k, c) in cluster.char_indices() {
            let rest = k + c.len_utf8();
            match short(c) {
                Some((name, true)) => out.push(Opt {
                    name: name.to_string(),
                    item: i,
                    value: None,
                }),
                Some((name, false)) => {
                    let value = if rest < cluster.len() {
                        // `-u=root` is `-u root`
                        let skip = usize::from(cluster.as_bytes().get(rest) == Some(&b'='));
                        Some((i, 1 + rest + skip))
                    } else if i + 1 < items.len() {
                        consumed = 2;
                        Some((i + 1, 0))
                    } else {
                        None
                    };
                    out.push(Opt {
                        name: name.to_string(),
                        item: i,
                        value,
                    });
                    break;
                }
                None => {
                    // unknown: its value is the rest, or the next item that is not an option
                    if rest == cluster.len() && next_is_value(i + 1) {
                        consumed = 2;
                    }
                    break;
                }
            }
        }
        i += consumed;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(items: &[&str]) -> Vec<String> {
        parse(items)
            .iter()
            .map(|o| match o.value {
                Some((i, at)) => format!("{}={}", o.name, &items[i][at..]),
                None => o.name.clone(),
            })
            .collect()
    }

    #[test]
    fn both_forms_and_clusters() {
        assert_eq!(
            show(&[
                "--cap-add=SYS_PTRACE",
                "--security-opt",
                "seccomp=unconfined",
                "-it",
                "-uroot",
                "-m",
                "512m",
                "--net",
                "host",
                "-u=0",
                "--privileged",
                "--read-only=false",
            ]),
            [
                "cap-add=SYS_PTRACE",
                "security-opt=seccomp=unconfined",
                "interactive",
                "tty",
                "user=root",
                "memory=512m",
                "net=host",
                "user=0",
                "privileged",
                "read-only=false",
            ]
        );
    }

    #[test]
    fn unknown_options_never_eat_an_option() {
        assert_eq!(
            show(&[
                "--some-bool",
                "--privileged",
                "--some-value",
                "x",
                "-Z",
                "--pid=host"
            ]),
            ["some-bool", "privileged", "some-value=x", "pid=host"]
        );
        // a boolean never takes the next item
        assert_eq!(show(&["--init", "SYS_ADMIN"]), ["init"]);
        // a value option at the end has no value
        assert_eq!(show(&["--cap-add"]), ["cap-add"]);
        assert_eq!(show(&["--", "--privileged"]), Vec::<String>::new());
    }
}
