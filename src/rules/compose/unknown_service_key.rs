use crate::compose::model::ComposeFile;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

use super::misspelled_security_key::{closest_key, misspelled_security_key};

/// A service key that the Compose specification does not define (and that is not `x-*`).
pub struct UnknownServiceKey;

/// Every property of `$defs.service` in the Compose specification's JSON schema
/// (`compose_spec.json`, draft 2020-12, as vendored in `../shared/spec/compose-spec.json`,
/// sha256 `73ca5878c775…`, 93 properties; the schema file carries no version or date).
/// `x-` keys are allowed by its `patternProperties`.
pub(super) const SERVICE_KEYS: &[&str] = &[
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
pub(super) fn is_known_key(key: &str) -> bool {
    key.starts_with("x-") || SERVICE_KEYS.contains(&key)
}

impl Rule for UnknownServiceKey {
    fn meta(&self) -> &'static RuleMeta {
        docs::UNKNOWN_SERVICE_KEY
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        for service in &compose.services {
            for key in &service.keys {
                let k = key.value.as_str();
                // `misspelled-security-key` reports those
                if is_known_key(k) || misspelled_security_key(k).is_some() {
                    continue;
                }
                let help = match closest_key(k) {
                    Some(known) => format!("rename to `{known}`"),
                    None => "remove the key, or prefix it with `x-` to mark it as an extension"
                        .to_string(),
                };
                cx.report(
                    key.span,
                    format!(
                        "service `{}` has unknown key `{}`",
                        super::svc(service),
                        crate::source::clip(k, 36)
                    ),
                )
                .help(help);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{findings, messages};
    use super::SERVICE_KEYS;

    const RULE: &str = "unknown-service-key";

    #[test]
    fn keys_are_sorted_and_unique() {
        assert!(SERVICE_KEYS.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(SERVICE_KEYS.len(), 93);
    }

    #[test]
    fn flags_unknown_keys() {
        let text = "services:\n  a:\n    image: x:1\n    enviroment: {A: b}\n    x-note: ok\n    read-only: true\n    log_driver: syslog\n    restart: always\n";
        assert_eq!(
            findings(RULE, text),
            vec![
                ("SLC031", "enviroment".to_string()),
                ("SLC031", "log_driver".to_string())
            ]
        );
        assert_eq!(
            messages(RULE, text),
            vec![
                "service `a` has unknown key `enviroment`",
                "service `a` has unknown key `log_driver`",
            ]
        );
    }
}
