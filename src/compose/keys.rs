//! What the Compose specification allows in a service, and near misses of its security keys.
//!
//! [`SERVICE_KEYS`] is checked against `../shared/spec/compose-spec.json` by
//! `tests/compose_load.rs` (`service_keys_match_the_spec`), so it cannot drift from the schema.

/// Every property of `$defs.service` in the Compose specification's JSON schema
/// (`compose_spec.json`, draft 2020-12, as vendored in `../shared/spec/compose-spec.json`,
/// sha256 `73ca5878c775…`, 93 properties; the schema file carries no version or date).
/// `x-` keys are allowed by its `patternProperties`.
pub const SERVICE_KEYS: &[&str] = &[
    "annotations",
    "attach",
    "blkio_config",
    "build",
    "cap_add",
    "cap_drop",
    "cgroup",
    "cgroup_parent",
    "command",
    "configs",
    "container_name",
    "cpu_count",
    "cpu_percent",
    "cpu_period",
    "cpu_quota",
    "cpu_rt_period",
    "cpu_rt_runtime",
    "cpu_shares",
    "cpus",
    "cpuset",
    "credential_spec",
    "depends_on",
    "deploy",
    "develop",
    "device_cgroup_rules",
    "devices",
    "dns",
    "dns_opt",
    "dns_search",
    "domainname",
    "entrypoint",
    "env_file",
    "environment",
    "expose",
    "extends",
    "external_links",
    "extra_hosts",
    "gpus",
    "group_add",
    "healthcheck",
    "hostname",
    "image",
    "init",
    "ipc",
    "isolation",
    "label_file",
    "labels",
    "links",
    "logging",
    "mac_address",
    "mem_limit",
    "mem_reservation",
    "mem_swappiness",
    "memswap_limit",
    "models",
    "network_mode",
    "networks",
    "oom_kill_disable",
    "oom_score_adj",
    "pid",
    "pids_limit",
    "platform",
    "ports",
    "post_start",
    "pre_start",
    "pre_stop",
    "privileged",
    "profiles",
    "provider",
    "pull_policy",
    "pull_refresh_after",
    "read_only",
    "restart",
    "runtime",
    "scale",
    "secrets",
    "security_opt",
    "shm_size",
    "stdin_open",
    "stop_grace_period",
    "stop_signal",
    "storage_opt",
    "sysctls",
    "tmpfs",
    "tty",
    "ulimits",
    "use_api_socket",
    "user",
    "userns_mode",
    "uts",
    "volumes",
    "volumes_from",
    "working_dir",
];

/// Whether the Compose specification allows `key` in a service.
pub fn is_known_key(key: &str) -> bool {
    key.starts_with("x-") || SERVICE_KEYS.contains(&key)
}

/// Keys whose absence weakens the service.
const SECURITY_KEYS: &[&str] = &[
    "read_only",
    "security_opt",
    "cap_drop",
    "cap_add",
    "pids_limit",
    "mem_limit",
    "privileged",
    "user",
    "network_mode",
    "userns_mode",
];

/// The intended setting of a misspelled security key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intended {
    /// A key of the specification.
    Key(&'static str),
    /// `no-new-privileges` written as a key (it is a `security_opt` entry).
    NoNewPrivileges,
}

/// `Read-Only` -> `read_only`.
fn normalize(key: &str) -> String {
    key.trim()
        .to_ascii_lowercase()
        .replace(['-', ' ', '.'], "_")
}

/// How far a key may be from a known key to count as a misspelling of it.
fn max_distance(known: &str) -> usize {
    match known.len() {
        0..=4 => 1,
        5..=9 => 2,
        _ => 3,
    }
}

/// The known key closest to `key` (after normalizing case and separators), if it is close enough.
pub fn closest_key(key: &str) -> Option<&'static str> {
    let norm = normalize(key);
    SERVICE_KEYS
        .iter()
        .map(|k| (strsim::osa_distance(&norm, k), *k))
        .filter(|(d, k)| *d <= max_distance(k))
        .min_by_key(|(d, k)| (*d, !SECURITY_KEYS.contains(k)))
        .map(|(_, k)| k)
}

/// What an unknown key was meant to set, when it is a misspelled security key.
pub fn misspelled_security_key(key: &str) -> Option<Intended> {
    if is_known_key(key) {
        return None;
    }
    let squashed: String = normalize(key).chars().filter(|&c| c != '_').collect();
    match squashed.as_str() {
        "nonewprivileges" | "nonewprivs" | "nonewpriv" => return Some(Intended::NoNewPrivileges),
        "userns" | "usernamespace" => return Some(Intended::Key("userns_mode")),
        "readonlyrootfs" | "readonlyrootfilesystem" => return Some(Intended::Key("read_only")),
        "memory" | "memorylimit" | "memlimits" => return Some(Intended::Key("mem_limit")),
        _ => {}
    }
    let known = closest_key(key)?;
    SECURITY_KEYS
        .contains(&known)
        .then_some(Intended::Key(known))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_sorted_and_unique() {
        assert!(SERVICE_KEYS.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(SERVICE_KEYS.len(), 93);
    }

    #[test]
    fn distances() {
        assert_eq!(strsim::osa_distance("readonly", "read_only"), 1);
        assert_eq!(strsim::osa_distance("ab", "ba"), 1);
        assert_eq!(strsim::osa_distance("", "user"), 4);
        assert_eq!(strsim::osa_distance("privileged", "privileged"), 0);
        assert_eq!(strsim::osa_distance("priviledged", "privileged"), 1);
    }

    #[test]
    fn misspellings() {
        for (key, want) in [
            ("readonly", "read_only"),
            ("read-only", "read_only"),
            ("Read_Only", "read_only"),
            ("security-opt", "security_opt"),
            ("security_opts", "security_opt"),
            ("cap-drop", "cap_drop"),
            ("cap_drops", "cap_drop"),
            ("cap-add", "cap_add"),
            ("pids-limit", "pids_limit"),
            ("pid_limit", "pids_limit"),
            ("mem-limit", "mem_limit"),
            ("network-mode", "network_mode"),
            ("user_ns", "userns_mode"),
            ("userns-mode", "userns_mode"),
            ("priviledged", "privileged"),
            ("users", "user"),
            ("memory_limit", "mem_limit"),
        ] {
            assert_eq!(
                misspelled_security_key(key),
                Some(Intended::Key(want)),
                "{key}"
            );
        }
        for key in ["no_new_privileges", "no-new-privileges", "NoNewPrivileges"] {
            assert_eq!(
                misspelled_security_key(key),
                Some(Intended::NoNewPrivileges),
                "{key}"
            );
        }
        for key in [
            "read_only",
            "x-read-only",
            "enviroment",
            "mem-reservation",
            "log_driver",
            "uts",
            "cpu_limit",
        ] {
            assert_eq!(misspelled_security_key(key), None, "{key}");
        }
        assert_eq!(closest_key("mem-reservation"), Some("mem_reservation"));
        assert_eq!(closest_key("enviroment"), Some("environment"));
        assert_eq!(closest_key("log_driver"), None);
    }
}
