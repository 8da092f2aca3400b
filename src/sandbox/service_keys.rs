//! What `sandlint run --compose FILE --service NAME` does with every key a Compose service may
//! set: [`SERVICE_KEYS`], one decision per key of the specification (checked against
//! `../shared/spec/compose-spec.json` by `tests/compose_load.rs`,
//! `every_service_key_has_a_run_decision`), plus the `x-` extension keys.
//!
//! The principle: the hardened profile is the sandbox; the file (possibly an attacker's) only
//! changes it through keys `run` applies and the rules then judge. A key is
//! - [`Treatment::Applied`] when `run` maps it onto the profile (the rendered plan is judged by
//!   the rules under the `sandbox` preset, so a weakening is refused unless the invoker accepts
//!   it with `--allow RULE`);
//! - [`Treatment::Refused`] when honouring it would weaken isolation in a way `run` cannot apply
//!   and the rules cannot judge (device access, other containers' volumes or namespaces,
//!   runtime-interpreted annotations, host-side hooks): running the service without it would
//!   silently run something else than the file asks, so the run stops with a located error;
//! - [`Treatment::RefusedUnlessDefault`] when only its default value is accepted (it sets
//!   nothing the profile does not already have) and any other value is refused as above;
//! - [`Treatment::Ignored`] when honouring it would not weaken isolation, or it means nothing for
//!   one short-lived container without a network: it is not used, and a located note says so.
//!
//! A key whose value is empty (YAML null, `[]`, `{}`) sets nothing: it is neither applied,
//! refused nor noted. A key outside the specification is refused (Compose rejects the file).

/// What `run` does with a service key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Treatment {
    /// Mapped onto the hardened profile, then judged by the rules.
    Applied,
    /// A located error (exit 125).
    Refused,
    /// Its default value is accepted; any other value is a located error (exit 125).
    RefusedUnlessDefault,
    /// Not used; a located `note:` says so.
    Ignored,
}

impl Treatment {
    /// The word the README table uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Treatment::Applied => "applied",
            Treatment::Refused => "refused",
            Treatment::RefusedUnlessDefault => "refused unless default",
            Treatment::Ignored => "ignored (note)",
        }
    }
}

/// One key's decision and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyPolicy {
    /// The key (`x-*` stands for every extension key but `x-sandlint`).
    pub key: &'static str,
    pub treatment: Treatment,
    /// Lowercase, no trailing period: the note or error quotes it.
    pub reason: &'static str,
}

const fn k(key: &'static str, treatment: Treatment, reason: &'static str) -> KeyPolicy {
    KeyPolicy {
        key,
        treatment,
        reason,
    }
}

use Treatment::{Applied, Ignored, Refused, RefusedUnlessDefault};

const HOOKS: &str = "lifecycle hooks run commands in the container, possibly as root or privileged; `run` does not run them";
const NO_NETWORK: &str =
    "the sandbox has no network unless `--network`, and none of the service's network settings";
const CPU_LIMIT: &str = "the CPU limit is `cpus` (or `--cpus`, default 1)";
const REAL_TIME: &str = "real-time CPU time is never given to a sandbox (it can starve the host)";
const NOT_LINKED: &str = "other containers are not linked (only the named service runs)";
const NOT_MOUNTED: &str = "not mounted; mount what the command needs with `--mount SRC:DST:ro`";
const NEVER_PULLS: &str = "sandlint never pulls: the image is used as it is, or built";
const KILLED_AT_DEADLINE: &str =
    "the container is killed and removed at the end of the run or at its deadline";

/// Every service key of the Compose specification, sorted, then `x-sandlint` and `x-*`.
pub const SERVICE_KEYS: &[KeyPolicy] = &[
    k(
        "annotations",
        Refused,
        "OCI annotations are read by runtimes (gVisor, Kata, crun) and can change how the container is isolated; `run` does not pass them",
    ),
    k(
        "attach",
        Ignored,
        "`run` always attaches the command's stdout and stderr",
    ),
    k(
        "blkio_config",
        Ignored,
        "block-I/O weights and throttles are not set (the daemon's defaults apply)",
    ),
    k(
        "build",
        Applied,
        "`context`, `dockerfile`, `target` and `args` build a missing image; a remote context and `dockerfile_inline` are refused; the other build keys are noted as not used",
    ),
    k(
        "cap_add",
        Applied,
        "judged by `dangerous-capability` (every capability is dropped by default)",
    ),
    k(
        "cap_drop",
        Applied,
        "replaces `cap_drop: [ALL]`; judged by `missing-cap-drop-all`",
    ),
    k(
        "cgroup",
        Applied,
        "`host` is judged by `host-uts-or-cgroup-namespace`, `private` is applied, other values are refused",
    ),
    k(
        "cgroup_parent",
        Ignored,
        "the sandbox stays under the daemon's cgroup parent, with its own limits (`custom-cgroup-parent`)",
    ),
    k(
        "command",
        Applied,
        "the command; a command given on the command line replaces it",
    ),
    k("configs", Ignored, NOT_MOUNTED),
    k(
        "container_name",
        Ignored,
        "sandlint names the container (one per run)",
    ),
    k("cpu_count", Ignored, CPU_LIMIT),
    k("cpu_percent", Ignored, CPU_LIMIT),
    k("cpu_period", Ignored, CPU_LIMIT),
    k("cpu_quota", Ignored, CPU_LIMIT),
    k("cpu_rt_period", Refused, REAL_TIME),
    k("cpu_rt_runtime", Refused, REAL_TIME),
    k("cpu_shares", Ignored, CPU_LIMIT),
    k(
        "cpus",
        Applied,
        "the CPU limit (else `deploy.resources.limits.cpus`, else 1); `--cpus` replaces it; judged by `missing-cpu-limit`",
    ),
    k("cpuset", Ignored, CPU_LIMIT),
    k(
        "credential_spec",
        Ignored,
        "Windows only (gMSA credentials)",
    ),
    k(
        "depends_on",
        Ignored,
        "only the named service runs; its dependencies are not started",
    ),
    k(
        "deploy",
        Applied,
        "`resources.limits` (`memory`, `cpus`, `pids`) where the service's own keys are not set; the other deploy keys are noted as not used",
    ),
    k(
        "develop",
        Ignored,
        "`compose watch` settings: a one-shot run watches nothing",
    ),
    k(
        "device_cgroup_rules",
        Refused,
        "they grant access to device nodes; `run` maps devices only through `devices` (judged by `host-device-mapped`)",
    ),
    k("devices", Applied, "judged by `host-device-mapped`"),
    k("dns", Ignored, NO_NETWORK),
    k("dns_opt", Ignored, NO_NETWORK),
    k("dns_search", Ignored, NO_NETWORK),
    k(
        "domainname",
        Ignored,
        "the sandbox's own UTS namespace keeps the daemon's names",
    ),
    k(
        "entrypoint",
        Applied,
        "the entrypoint (`--code` and `--file` reset it)",
    ),
    k(
        "env_file",
        Ignored,
        "env files are not read; pass values with `environment:` or `-e NAME`",
    ),
    k(
        "environment",
        Applied,
        "passed to the command (a bare `NAME` takes this process's value); `--env` replaces an entry",
    ),
    k("expose", Ignored, "no port is published"),
    k(
        "extends",
        Applied,
        "resolved by the loader: the effective service is what is applied",
    ),
    k("external_links", Ignored, NOT_LINKED),
    k("extra_hosts", Ignored, NO_NETWORK),
    k(
        "gpus",
        Refused,
        "device access (GPUs) is not given to a sandbox",
    ),
    k(
        "group_add",
        Refused,
        "supplementary groups grant access to files and sockets by group (`docker`, `disk`, `0`); `run` adds none",
    ),
    k(
        "healthcheck",
        Ignored,
        "a one-shot run is not health-checked",
    ),
    k(
        "hostname",
        Ignored,
        "the sandbox's own UTS namespace keeps the daemon's names",
    ),
    k(
        "image",
        Applied,
        "the image (never pulled; built from `build:` when missing)",
    ),
    k(
        "init",
        Applied,
        "the init process that reaps zombies (default `true`)",
    ),
    k(
        "ipc",
        Applied,
        "`host` is judged by `host-namespace-shared`; another container's namespace (`container:`, `service:`) is refused",
    ),
    k(
        "isolation",
        RefusedUnlessDefault,
        "a Windows isolation technology; only `default` is accepted",
    ),
    k(
        "label_file",
        Ignored,
        "the container carries sandlint's own labels",
    ),
    k(
        "labels",
        Ignored,
        "the container carries sandlint's own labels",
    ),
    k("links", Ignored, NOT_LINKED),
    k(
        "logging",
        Ignored,
        "output goes through the attach stream only (log driver `none`)",
    ),
    k("mac_address", Ignored, NO_NETWORK),
    k(
        "mem_limit",
        Applied,
        "the memory limit, swap equal to it (else `deploy.resources.limits.memory`, else 512 MiB); `--memory` replaces it; judged by `missing-memory-limit`",
    ),
    k(
        "mem_reservation",
        Ignored,
        "a soft limit; the hard one is `mem_limit` (or `--memory`)",
    ),
    k(
        "mem_swappiness",
        Ignored,
        "swap is off unless `memswap_limit` allows it",
    ),
    k(
        "memswap_limit",
        Applied,
        "memory plus swap (`-1`: unlimited swap)",
    ),
    k(
        "models",
        Ignored,
        "Docker Model Runner models are not attached",
    ),
    k(
        "network_mode",
        Applied,
        "judged by `host-network-mode` and `network-not-isolated` (default `none`); `--network` replaces it",
    ),
    k("networks", Ignored, NO_NETWORK),
    k(
        "oom_kill_disable",
        RefusedUnlessDefault,
        "the OOM killer enforces the memory limit (`oom-kill-disabled`); only `false` is accepted",
    ),
    k(
        "oom_score_adj",
        RefusedUnlessDefault,
        "a negative score has the host's processes killed before the sandbox's; only `0` is accepted",
    ),
    k(
        "pid",
        Applied,
        "`host` is judged by `host-namespace-shared`; another container's namespace (`container:`, `service:`) is refused",
    ),
    k(
        "pids_limit",
        Applied,
        "the pids limit (else `deploy.resources.limits.pids`, else 256); `--pids` replaces it; judged by `missing-pids-limit`",
    ),
    k("platform", Ignored, NEVER_PULLS),
    k("ports", Ignored, "no port is published"),
    k("post_start", Refused, HOOKS),
    k("pre_start", Refused, HOOKS),
    k("pre_stop", Refused, HOOKS),
    k("privileged", Applied, "judged by `privileged-container`"),
    k("profiles", Ignored, "the service is named with `--service`"),
    k(
        "provider",
        Refused,
        "a provider service is run by a plugin on the host, not in a container",
    ),
    k("pull_policy", Ignored, NEVER_PULLS),
    k("pull_refresh_after", Ignored, NEVER_PULLS),
    k(
        "read_only",
        Applied,
        "judged by `writable-root-filesystem` (default `true`)",
    ),
    k("restart", Ignored, "a one-shot sandbox is never restarted"),
    k(
        "runtime",
        Refused,
        "the OCI runtime is the invoker's choice (`--runtime`), verified after start",
    ),
    k("scale", Ignored, "one container per run"),
    k("secrets", Ignored, NOT_MOUNTED),
    k(
        "security_opt",
        Applied,
        "replaces `no-new-privileges:true`; judged by `missing-no-new-privileges`, `confinement-disabled` and `misspelled-security-key`",
    ),
    k(
        "shm_size",
        Ignored,
        "`/dev/shm` keeps the daemon's size (64 MiB, `noexec`, counted in the memory limit)",
    ),
    k(
        "stdin_open",
        Ignored,
        "stdin is passed when it is not a terminal, or with `-i`",
    ),
    k("stop_grace_period", Ignored, KILLED_AT_DEADLINE),
    k("stop_signal", Ignored, KILLED_AT_DEADLINE),
    k(
        "storage_opt",
        Ignored,
        "the root filesystem is read-only, so its size quota does not matter",
    ),
    // `sysctls`: refused rather than filtered. The daemon would accept the namespaced ones
    // (`kernel.shm*`, `kernel.msg*`, `kernel.sem`, `fs.mqueue.*`, `net.*`) and runc writes them
    // as root into the sandbox's namespaces before the command starts; some still reach past
    // the container (`net.ipv4.ip_forward`, `net.ipv4.ping_group_range`,
    // `net.ipv4.ip_unprivileged_port_start`), `risky-sysctl` judges only some of them, and no
    // check after start verifies them. A one-shot command without a network needs none, so an
    // allow-list that must track runc's would add risk for no use.
    k(
        "sysctls",
        RefusedUnlessDefault,
        "`run` sets no sysctls (they change the kernel's behaviour for the sandbox and are not verified); only an empty `sysctls` is accepted",
    ),
    k(
        "tmpfs",
        Applied,
        "added beside `/tmp`; judged by `tmpfs-exec-or-suid`",
    ),
    k(
        "tty",
        Ignored,
        "no terminal is allocated: the output is captured",
    ),
    k(
        "ulimits",
        Refused,
        "`run` sets no ulimits: raised ones (`nofile`, `nproc`, `memlock`, `core`) are more than a sandbox is given",
    ),
    k(
        "use_api_socket",
        RefusedUnlessDefault,
        "the Docker socket is never given to a sandbox; only `false` is accepted",
    ),
    k(
        "user",
        Applied,
        "the user (uid 0 refused unless `--allow-root`); `--user` replaces it",
    ),
    k(
        "userns_mode",
        Applied,
        "`host` (no user-namespace remapping) is judged by `host-namespace-shared`, other values are refused",
    ),
    k(
        "uts",
        Applied,
        "`host` is judged by `host-uts-or-cgroup-namespace`, other values are refused",
    ),
    k(
        "volumes",
        Applied,
        "bind mounts and tmpfs, judged by the mount rules; other volumes (named, except host binds) are refused; options other than `ro`/`rw` are noted as not used",
    ),
    k(
        "volumes_from",
        Refused,
        "it mounts another container's volumes, which no rule can judge",
    ),
    k(
        "working_dir",
        Applied,
        "the working directory (`--workspace` makes it `/workspace`)",
    ),
    k(
        "x-sandlint",
        Applied,
        "its suppressions are carried into the run, except those of isolation rules",
    ),
    k("x-*", Ignored, "extension keys mean nothing to `run`"),
];

/// The decision for `key`; `None` for a key outside the specification.
pub fn policy(key: &str) -> Option<&'static KeyPolicy> {
    let wanted = if key.starts_with("x-") && key != "x-sandlint" {
        "x-*"
    } else {
        key
    };
    SERVICE_KEYS.iter().find(|p| p.key == wanted)
}

/// The README's table of [`SERVICE_KEYS`] (between `<!-- begin run-keys -->` and
/// `<!-- end run-keys -->`; `tests/generated.rs` checks it).
pub fn markdown_table() -> String {
    let mut out = String::from("| Key | `run` | Why |\n|---|---|---|\n");
    for p in SERVICE_KEYS {
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            p.key,
            p.treatment.as_str(),
            p.reason.replace('|', "\\|")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_decision_per_specified_key_in_order() {
        let spec: Vec<&str> = SERVICE_KEYS
            .iter()
            .map(|p| p.key)
            .filter(|k| !k.starts_with("x-"))
            .collect();
        assert_eq!(spec, crate::compose::keys::SERVICE_KEYS);
        assert!(SERVICE_KEYS.iter().all(|p| !p.reason.ends_with('.')));
    }

    #[test]
    fn extension_keys() {
        assert_eq!(policy("x-sandlint").map(|p| p.treatment), Some(Applied));
        assert_eq!(policy("x-anything").map(|p| p.treatment), Some(Ignored));
        assert_eq!(policy("privilegd"), None);
    }
}
