//! What the host's kernel and the daemon say about a running container: its cgroup limits and
//! memory pressure, the uids of its processes, and the evidence of an OOM kill.

use std::collections::HashMap;

use bollard::Docker;
use bollard::errors::Error as BollardError;
use bollard::query_parameters::EventsOptionsBuilder;

use super::super::verify::CgroupLimits;
use super::host_name;

/// Where container `id`'s `controller` cgroup keeps `v1_file` (cgroup v1) or `v2_file` (v2) on
/// this host, cgroupfs and systemd drivers, each with whether it is the v1 file. Empty when `id`
/// is not a container id.
fn cgroup_files(id: &str, controller: &str, v1_file: &str, v2_file: &str) -> Vec<(String, bool)> {
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_hexdigit()) {
        return Vec::new();
    }
    vec![
        (
            format!("/sys/fs/cgroup/{controller}/docker/{id}/{v1_file}"),
            true,
        ),
        (
            format!("/sys/fs/cgroup/{controller}/system.slice/docker-{id}.scope/{v1_file}"),
            true,
        ),
        (
            format!("/sys/fs/cgroup/system.slice/docker-{id}.scope/{v2_file}"),
            false,
        ),
        (format!("/sys/fs/cgroup/docker/{id}/{v2_file}"), false),
    ]
}

/// The uids of the container's processes as the kernel reports them (`/proc/<pid>/status`): the
/// init (`State.Pid`) and every process in the container's pids cgroup. Only processes whose
/// `/proc/<pid>/cgroup` names the container id count (a remote daemon's pid means nothing here).
/// Returns `(worst uid, how)`; any uid field (real, effective, saved, fs) of 0 makes it 0.
pub(super) fn kernel_uids(id: &str, init_pid: i64) -> Option<(u32, String)> {
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let mut pids: Vec<i64> = Vec::new();
    if init_pid > 0 {
        pids.push(init_pid);
    }
    if let Some(text) = cgroup_files(id, "pids", "cgroup.procs", "cgroup.procs")
        .iter()
        .find_map(|(path, _)| std::fs::read_to_string(path).ok())
    {
        pids.extend(text.lines().filter_map(|l| l.trim().parse::<i64>().ok()));
    }
    pids.sort_unstable();
    pids.dedup();
    let mut worst: Option<u32> = None;
    let mut seen = 0usize;
    for pid in pids {
        let cgroup = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
        if !cgroup.contains(id) {
            continue;
        }
        let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
            continue;
        };
        let Some(uids) = status.lines().find_map(|l| l.strip_prefix("Uid:")) else {
            continue;
        };
        let uids: Vec<u32> = uids
            .split_whitespace()
            .filter_map(|u| u.parse().ok())
            .collect();
        // The pid may have been reused since: the cgroup must still name the container.
        let again = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
        if uids.is_empty() || !again.contains(id) {
            continue;
        }
        let uid = if uids.contains(&0) {
            0
        } else {
            uids.get(1).copied().unwrap_or_default()
        };
        seen += 1;
        // root wins; otherwise the first process's (the init's) uid
        if uid == 0 || worst.is_none() {
            worst = Some(uid);
        }
    }
    worst.map(|w| {
        let s = if seen == 1 { "" } else { "es" };
        (
            w,
            format!("kernel: /proc/<pid>/status of {seen} running process{s} of the container"),
        )
    })
}

/// Whether the container's memory cgroup has hit its limit (cgroup v1 `memory.failcnt`, v2
/// `memory.events` `max`/`oom_kill`); `false` when the cgroup cannot be read.
pub(super) fn memory_limit_hit(id: &str) -> bool {
    let positive = |n: Option<&str>| {
        n.and_then(|n| n.trim().parse::<u64>().ok())
            .is_some_and(|n| n > 0)
    };
    cgroup_files(id, "memory", "memory.failcnt", "memory.events")
        .iter()
        .find_map(|(path, v1)| Some((std::fs::read_to_string(path).ok()?, *v1)))
        .is_some_and(|(text, v1)| {
            if v1 {
                positive(Some(&text))
            } else {
                text.lines().any(|l| {
                    let mut it = l.split_whitespace();
                    matches!(it.next(), Some("max" | "oom_kill")) && positive(it.next())
                })
            }
        })
}

/// The kernel's memory and pids limits of a container's cgroup, read on this host. `None` where
/// the files are not found (remote daemon, or the container is already gone).
pub(super) fn read_cgroup(id: &str) -> CgroupLimits {
    let read = |files: Vec<(String, bool)>| -> Option<i64> {
        files.iter().find_map(|(path, _)| {
            let t = std::fs::read_to_string(path).ok()?;
            let t = t.trim();
            if t == "max" {
                Some(i64::MAX)
            } else {
                t.parse().ok()
            }
        })
    };
    CgroupLimits {
        memory: read(cgroup_files(
            id,
            "memory",
            "memory.limit_in_bytes",
            "memory.max",
        )),
        pids: read(cgroup_files(id, "pids", "pids.max", "pids.max")),
    }
}

/// What says a run ended in an OOM kill. The daemon alone is not enough: its `OOMKilled` flag
/// and `oom` event come from containerd's OOM watcher, which drops the event when the container's
/// cgroup is already gone by the time it looks (a fast kill under load), so sandlint also keeps
/// its own evidence while the command runs.
#[derive(Debug, Default)]
pub(super) struct OomEvidence {
    /// The daemon's `State.OOMKilled`.
    pub(super) daemon: bool,
    /// An `oom` event for this container on the daemon's event stream.
    pub(super) event: bool,
    /// The container's memory cgroup hit its limit (sampled; local daemon only).
    pub(super) cgroup: bool,
    /// The kernel's OOM-kill counter (`/proc/vmstat` `oom_kill`) rose during the run (local
    /// daemon only). Counted only together with a SIGKILL exit (137) of the sandbox.
    pub(super) kernel: bool,
}

impl OomEvidence {
    pub(super) fn any(&self) -> bool {
        self.daemon || self.event || self.cgroup || self.kernel
    }
}

/// Whether the daemon runs on this host (its reported name is this host's name).
pub(super) async fn daemon_is_local(docker: &Docker) -> bool {
    let Some(here) = host_name() else {
        return false;
    };
    docker
        .info()
        .await
        .is_ok_and(|info| info.name.as_deref() == Some(here.as_str()))
}

/// The kernel's count of OOM kills since boot (`oom_kill` in `/proc/vmstat`, Linux 4.13+).
pub(super) fn kernel_oom_kills() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/vmstat").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("oom_kill "))
        .and_then(|n| n.trim().parse().ok())
}

/// The daemon's live stream of `oom` events for container `name`, from `since` (epoch seconds).
pub(super) fn oom_events(
    docker: &Docker,
    name: &str,
    since: u64,
) -> impl futures_util::Stream<Item = Result<bollard::models::EventMessage, BollardError>> + use<> {
    let mut filters = HashMap::new();
    filters.insert("type", vec!["container".to_string()]);
    filters.insert("container", vec![name.to_string()]);
    filters.insert("event", vec!["oom".to_string()]);
    let options = EventsOptionsBuilder::new()
        .since(&since.to_string())
        .filters(&filters)
        .build();
    docker.events(Some(options))
}
