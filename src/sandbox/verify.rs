//! Step 2 of verification: compare what the daemon reports for the created container with the
//! profile we asked for. Pure (the runner passes in the inspect response and cgroup readings).

use bollard::models::{ContainerConfig, ContainerInspectResponse, HostConfig, MountPoint};

use super::profile::HardenedProfile;
use crate::dockerfile::semantics::is_root_user;

/// How one protection turned out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckStatus {
    /// Asked for, and the daemon (or the kernel) reports it in effect.
    Verified,
    /// Asked for, but not in effect: the sandbox is degraded.
    Failed,
    /// The profile itself does not ask for it (a Compose service or flag turned it off; the
    /// rules reported that before the run).
    NotRequested,
}

/// One protection checked after the container was created.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Check {
    /// `read-only-rootfs`, `network`, `cap-drop`, `no-new-privileges`, `memory`, ...
    pub name: &'static str,
    pub status: CheckStatus,
    /// What the profile asked for.
    pub expected: String,
    /// What the daemon (or kernel) reports.
    pub actual: String,
}

impl Check {
    fn new(
        name: &'static str,
        requested: bool,
        ok: bool,
        expected: String,
        actual: String,
    ) -> Self {
        let status = if !requested {
            CheckStatus::NotRequested
        } else if ok {
            CheckStatus::Verified
        } else {
            CheckStatus::Failed
        };
        Check {
            name,
            status,
            expected,
            actual,
        }
    }
}

/// Limits the kernel reports for the container's cgroup (read on the host when the daemon is
/// local; `None` when the cgroup files could not be read).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CgroupLimits {
    pub memory: Option<i64>,
    pub pids: Option<i64>,
}

/// The uid the command runs as, and how sandlint knows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UidEvidence {
    pub uid: u32,
    /// `kernel` (read from `/proc/<pid>/status` of the running container's processes) or
    /// `resolved` (the user spec resolved before start, like the runtime does: the processes had
    /// exited, or the daemon is not on this host).
    pub source: &'static str,
    /// In words: which files or rules gave the uid.
    pub how: String,
}

/// The uid evidence: the kernel's when it could be read, else the pre-start resolution.
pub fn uid_evidence(
    kernel: Option<(u32, String)>,
    resolved: Option<u32>,
    resolved_how: &str,
) -> Option<UidEvidence> {
    match (kernel, resolved) {
        (Some((uid, how)), _) => Some(UidEvidence {
            uid,
            source: "kernel",
            how,
        }),
        (None, Some(uid)) => Some(UidEvidence {
            uid,
            source: "resolved",
            how: format!(
                "resolved before start through {resolved_how}; the kernel could not be asked (the processes had exited, or the daemon is not on this host)"
            ),
        }),
        (None, None) => None,
    }
}

/// The `uid` check: non-root, from the evidence (root is refused before this unless allowed).
pub fn uid_check(evidence: Option<&UidEvidence>, allow_root: bool) -> Check {
    let actual = evidence.map_or_else(
        || "unknown".to_string(),
        |e| format!("uid {} ({})", e.uid, e.how),
    );
    Check::new(
        "uid",
        !allow_root,
        evidence.is_some_and(|e| e.uid != 0),
        "a non-root uid".to_string(),
        actual,
    )
}

/// Every protection, judged from the daemon's inspect response (and the kernel's cgroup values
/// when available).
pub fn check_container(
    profile: &HardenedProfile,
    inspect: &ContainerInspectResponse,
    cgroup: &CgroupLimits,
) -> Vec<Check> {
    let hc = inspect.host_config.clone().unwrap_or_default();
    let config = inspect.config.clone().unwrap_or_default();
    let mut checks = vec![user_check(profile, &config)];
    checks.extend(runtime_check(profile, &hc));
    checks.extend(confinement_checks(profile, &hc));
    checks.extend(limit_checks(profile, &hc, cgroup));
    checks.extend(tmpfs_and_init_checks(profile, &hc));
    checks.extend(mount_checks(
        profile,
        &inspect.mounts.clone().unwrap_or_default(),
    ));
    checks
}

fn show(v: Option<String>) -> String {
    v.unwrap_or_else(|| "unset".to_string())
}

fn show_i(v: Option<i64>) -> String {
    show(v.map(|n| n.to_string()))
}

/// The `user` check. [`is_root_user`] is `None` for an empty or unexpanded (`$UID`) spec: the
/// runtime's default, root, for the sandbox. Only a spec known not to be root is a non-root user.
fn user_check(profile: &HardenedProfile, config: &ContainerConfig) -> Check {
    let user = config.user.clone().unwrap_or_default();
    Check::new(
        "user",
        is_root_user(&profile.user) == Some(false),
        user == profile.user && is_root_user(&user) == Some(false),
        profile.user.clone(),
        if user.is_empty() {
            "unset (root)".to_string()
        } else {
            user
        },
    )
}

/// The `runtime` check, when the profile names one.
fn runtime_check(profile: &HardenedProfile, hc: &HostConfig) -> Option<Check> {
    let runtime = profile.runtime.as_ref()?;
    let got = hc.runtime.clone().unwrap_or_default();
    Some(Check::new(
        "runtime",
        true,
        &got == runtime,
        runtime.clone(),
        show(hc.runtime.clone()),
    ))
}

/// Privileged mode, the read-only root filesystem, the network, the capabilities and
/// `no-new-privileges`.
fn confinement_checks(profile: &HardenedProfile, hc: &HostConfig) -> Vec<Check> {
    let mut checks = Vec::new();
    let privileged = hc.privileged.unwrap_or(false);
    checks.push(Check::new(
        "not-privileged",
        !profile.privileged,
        !privileged,
        "false".to_string(),
        privileged.to_string(),
    ));

    let ro = hc.readonly_rootfs.unwrap_or(false);
    checks.push(Check::new(
        "read-only-rootfs",
        profile.read_only_rootfs,
        ro,
        "true".to_string(),
        ro.to_string(),
    ));

    let net = hc.network_mode.clone().unwrap_or_default();
    checks.push(Check::new(
        "network",
        // `none`, or sandlint's internal egress network
        profile.network_mode == "none"
            || profile
                .labels
                .get(crate::sandbox::egress::LABEL_EGRESS_NETWORK)
                .is_some_and(|n| *n == profile.network_mode),
        net == profile.network_mode,
        profile.network_mode.clone(),
        show(hc.network_mode.clone()),
    ));

    if !profile.dns.is_empty() {
        let dns = hc.dns.clone().unwrap_or_default();
        checks.push(Check::new(
            "dns",
            true,
            dns == profile.dns,
            profile.dns.join(", "),
            dns.join(", "),
        ));
    }

    let dropped = hc.cap_drop.clone().unwrap_or_default();
    let drops_all = dropped.iter().any(|c| c.eq_ignore_ascii_case("ALL"));
    let added = hc.cap_add.clone().unwrap_or_default();
    checks.push(Check::new(
        "cap-drop",
        profile
            .cap_drop
            .iter()
            .any(|c| c.eq_ignore_ascii_case("ALL")),
        drops_all && added.len() == profile.cap_add.len(),
        format!("drop ALL, add {:?}", profile.cap_add),
        format!("drop {dropped:?}, add {added:?}"),
    ));

    let opts = hc.security_opt.clone().unwrap_or_default();
    let nnp = |o: &String| {
        let o = o.replace('=', ":");
        o == "no-new-privileges" || o == "no-new-privileges:true"
    };
    checks.push(Check::new(
        "no-new-privileges",
        profile.security_opt.iter().any(nnp),
        opts.iter().any(nnp),
        "no-new-privileges:true".to_string(),
        format!("{opts:?}"),
    ));
    checks
}

/// Memory, swap, CPUs and pids, against the kernel's cgroup values too when read.
fn limit_checks(profile: &HardenedProfile, hc: &HostConfig, cgroup: &CgroupLimits) -> Vec<Check> {
    let mem_ok = hc.memory == Some(profile.memory)
        && cgroup.memory.is_none_or(|kernel| kernel <= profile.memory);
    let pids_ok = hc.pids_limit == Some(profile.pids_limit)
        && cgroup
            .pids
            .is_none_or(|kernel| kernel <= profile.pids_limit);
    vec![
        Check::new(
            "memory",
            profile.memory > 0,
            mem_ok,
            profile.memory.to_string(),
            with_kernel(show_i(hc.memory), cgroup.memory),
        ),
        Check::new(
            "memory-swap",
            profile.memory_swap > 0,
            hc.memory_swap == Some(profile.memory_swap),
            profile.memory_swap.to_string(),
            show_i(hc.memory_swap),
        ),
        Check::new(
            "cpus",
            profile.nano_cpus > 0,
            hc.nano_cpus == Some(profile.nano_cpus),
            profile.nano_cpus.to_string(),
            show_i(hc.nano_cpus),
        ),
        Check::new(
            "pids-limit",
            profile.pids_limit > 0,
            pids_ok,
            profile.pids_limit.to_string(),
            with_kernel(show_i(hc.pids_limit), cgroup.pids),
        ),
    ]
}

/// Each planned tmpfs with its options, and `init`.
fn tmpfs_and_init_checks(profile: &HardenedProfile, hc: &HostConfig) -> Vec<Check> {
    let tmp = hc.tmpfs.clone().unwrap_or_default();
    let mut checks: Vec<Check> = profile
        .tmpfs
        .iter()
        .map(|want| {
            let got = tmp.get(&want.target);
            Check::new(
                "tmpfs",
                true,
                got == Some(&want.options),
                format!("{}:{}", want.target, want.options),
                got.map_or_else(|| "missing".to_string(), |o| format!("{}:{o}", want.target)),
            )
        })
        .collect();
    checks.push(Check::new(
        "init",
        profile.init,
        hc.init == Some(true),
        "true".to_string(),
        show(hc.init.map(|b| b.to_string())),
    ));
    checks
}

/// Mounts: exactly the planned ones, writable only where planned, and no runtime socket.
fn mount_checks(profile: &HardenedProfile, mounts: &[MountPoint]) -> [Check; 2] {
    let socket = mounts.iter().find(|m| {
        let s = m.source.as_deref().unwrap_or_default();
        is_socket_path(s)
    });
    let no_socket = Check::new(
        "no-socket-mount",
        !profile
            .mounts
            .iter()
            .any(|m| is_socket_path(&m.source.to_string_lossy())),
        socket.is_none(),
        "no container runtime socket".to_string(),
        socket
            .and_then(|m| m.source.clone())
            .unwrap_or_else(|| "none".to_string()),
    );
    let unexpected: Vec<String> = mounts
        .iter()
        .filter(|m| {
            let dest = m.destination.as_deref().unwrap_or_default();
            let planned = profile.mounts.iter().find(|p| p.target == dest);
            let tmpfs = profile.tmpfs.iter().any(|t| t.target == dest);
            match planned {
                Some(p) => m.rw.unwrap_or(true) && p.read_only,
                None => !tmpfs,
            }
        })
        .map(|m| {
            format!(
                "{} ({})",
                m.destination.as_deref().unwrap_or("?"),
                if m.rw.unwrap_or(true) { "rw" } else { "ro" }
            )
        })
        .collect();
    let writable: Vec<&str> = profile
        .mounts
        .iter()
        .filter(|m| !m.read_only)
        .map(|m| m.target.as_str())
        .collect();
    let planned = Check::new(
        "mounts",
        true,
        unexpected.is_empty(),
        if writable.is_empty() {
            "planned mounts only, all read-only".to_string()
        } else {
            format!("planned mounts only, writable: {}", writable.join(", "))
        },
        if unexpected.is_empty() {
            format!("{} mount(s) as planned", mounts.len())
        } else {
            format!("unexpected: {}", unexpected.join(", "))
        },
    );
    [no_socket, planned]
}

fn with_kernel(api: String, kernel: Option<i64>) -> String {
    match kernel {
        Some(k) => format!("{api} (kernel: {k})"),
        None => api,
    }
}

/// Whether a host path is (or holds) a container runtime socket.
pub fn is_socket_path(path: &str) -> bool {
    let p = path.trim_end_matches('/');
    p.ends_with("docker.sock")
        || p.ends_with("containerd.sock")
        || p.ends_with("podman.sock")
        || p.ends_with("crio.sock")
        || p == "/var/run"
        || p == "/run"
        || p == "/var/run/docker"
        || p == "/run/docker"
        || p == "/run/containerd"
}

/// Fails closed when a requested protection did not take effect (`--allow-degraded` accepts it).
pub(in crate::sandbox) fn judge(
    checks: &[Check],
    allow_degraded: bool,
) -> Result<(), super::SandboxError> {
    let failed: Vec<Check> = checks
        .iter()
        .filter(|c| c.status == CheckStatus::Failed)
        .cloned()
        .collect();
    if failed.is_empty() || allow_degraded {
        Ok(())
    } else {
        Err(super::SandboxError::Degraded { failed })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::{ContainerConfig, HostConfig};

    fn inspect_of(profile: &HardenedProfile) -> ContainerInspectResponse {
        let body = profile.create_body();
        ContainerInspectResponse {
            host_config: body.host_config,
            config: Some(ContainerConfig {
                user: body.user,
                ..ContainerConfig::default()
            }),
            ..ContainerInspectResponse::default()
        }
    }

    #[test]
    fn the_profile_as_created_verifies() {
        let p = HardenedProfile::new("img");
        let checks = check_container(&p, &inspect_of(&p), &CgroupLimits::default());
        let failed: Vec<_> = checks
            .iter()
            .filter(|c| c.status != CheckStatus::Verified)
            .collect();
        assert!(failed.is_empty(), "{failed:?}");
    }

    #[test]
    fn a_discarded_pids_limit_fails() {
        let p = HardenedProfile::new("img");
        let mut inspect = inspect_of(&p);
        if let Some(hc) = inspect.host_config.as_mut() {
            hc.pids_limit = None;
            hc.memory_swap = Some(-1);
        }
        let checks = check_container(&p, &inspect, &CgroupLimits::default());
        let failed: Vec<_> = checks
            .iter()
            .filter(|c| c.status == CheckStatus::Failed)
            .map(|c| c.name)
            .collect();
        assert_eq!(failed, ["memory-swap", "pids-limit"]);
    }

    #[test]
    fn kernel_values_above_the_plan_fail() {
        let p = HardenedProfile::new("img");
        let cg = CgroupLimits {
            memory: Some(i64::MAX),
            pids: Some(p.pids_limit),
        };
        let checks = check_container(&p, &inspect_of(&p), &cg);
        let mem = checks.iter().find(|c| c.name == "memory");
        assert_eq!(mem.map(|c| c.status), Some(CheckStatus::Failed));
    }

    #[test]
    fn opted_out_protections_are_not_requested() {
        let mut p = HardenedProfile::new("img");
        p.read_only_rootfs = false;
        let mut inspect = inspect_of(&p);
        inspect.host_config = Some(HostConfig {
            readonly_rootfs: Some(false),
            ..inspect.host_config.unwrap_or_default()
        });
        let checks = check_container(&p, &inspect, &CgroupLimits::default());
        let ro = checks.iter().find(|c| c.name == "read-only-rootfs");
        assert_eq!(ro.map(|c| c.status), Some(CheckStatus::NotRequested));
    }

    #[test]
    fn a_runtime_the_daemon_did_not_use_fails() {
        let mut p = HardenedProfile::new("img");
        p.runtime = Some("runsc".to_string());
        let mut inspect = inspect_of(&p);
        let ok = check_container(&p, &inspect, &CgroupLimits::default());
        let rt = ok.iter().find(|c| c.name == "runtime");
        assert_eq!(rt.map(|c| c.status), Some(CheckStatus::Verified));
        if let Some(hc) = inspect.host_config.as_mut() {
            hc.runtime = Some("runc".to_string());
        }
        let bad = check_container(&p, &inspect, &CgroupLimits::default());
        let rt = bad.iter().find(|c| c.name == "runtime");
        assert_eq!(rt.map(|c| c.status), Some(CheckStatus::Failed));
    }

    #[test]
    fn uid_evidence_prefers_the_kernel() {
        let k = uid_evidence(Some((0, "kernel: x".to_string())), Some(65534), "passwd");
        assert_eq!(k.as_ref().map(|e| (e.uid, e.source)), Some((0, "kernel")));
        assert_eq!(
            uid_check(k.as_ref(), false).status,
            CheckStatus::Failed,
            "the kernel's uid 0 fails"
        );
        assert_eq!(
            uid_check(k.as_ref(), true).status,
            CheckStatus::NotRequested
        );
        let r = uid_evidence(None, Some(65534), "a numeric user spec");
        assert_eq!(r.as_ref().map(|e| e.source), Some("resolved"));
        assert_eq!(uid_check(r.as_ref(), false).status, CheckStatus::Verified);
        assert_eq!(uid_check(None, false).status, CheckStatus::Failed);
    }

    /// The `user` check asks for a non-root user only when the spec is known not to be root:
    /// every spelling of uid 0, `root`, an empty spec (the runtime's default) and an unexpanded
    /// one (`$UID`) count as root.
    #[test]
    fn root_users() {
        let status = |user: &str| {
            let mut p = HardenedProfile::new("img");
            p.user = user.to_string();
            let checks = check_container(&p, &inspect_of(&p), &CgroupLimits::default());
            checks.iter().find(|c| c.name == "user").map(|c| c.status)
        };
        for root in [
            "0",
            "+0",
            "00:00",
            " 0",
            "root:staff",
            "",
            "$UID",
            "${USER}:1000",
        ] {
            assert_eq!(status(root), Some(CheckStatus::NotRequested), "{root:?}");
        }
        for user in ["65534:65534", "app", "nobody"] {
            assert_eq!(status(user), Some(CheckStatus::Verified), "{user:?}");
        }
    }
}
