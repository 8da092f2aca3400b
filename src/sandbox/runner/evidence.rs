//! What the host's kernel and the daemon say about a running container: its cgroup limits and
//! memory pressure, the uids of its processes, and the evidence of an OOM kill.

use std::collections::HashMap;

use std::time::Duration;

use bollard::Docker;
use bollard::errors::Error as BollardError;
use bollard::models::EventMessage;
use bollard::query_parameters::EventsOptionsBuilder;
use futures_util::{Stream, StreamExt};

use super::super::verify::CgroupLimits;
use super::super::{EXIT_OOM_KILLED, EXIT_TIMED_OUT, SandboxError};
use super::daemon::inspect;
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
pub(in crate::sandbox) fn kernel_uids(id: &str, init_pid: i64) -> Option<(u32, String)> {
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
fn memory_limit_hit(id: &str) -> bool {
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
pub(in crate::sandbox) fn read_cgroup(id: &str) -> CgroupLimits {
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
struct OomEvidence {
    /// The daemon's `State.OOMKilled`.
    daemon: bool,
    /// An `oom` event for this container on the daemon's event stream.
    event: bool,
    /// The container's memory cgroup hit its limit (sampled; local daemon only).
    cgroup: bool,
    /// The kernel's OOM-kill counter (`/proc/vmstat` `oom_kill`) rose during the run (local
    /// daemon only). Counted only together with a SIGKILL exit (137) of the sandbox.
    kernel: bool,
}

impl OomEvidence {
    fn any(&self) -> bool {
        self.daemon || self.event || self.cgroup || self.kernel
    }
}

/// The OOM evidence of one run, gathered from right before start to the [`OomWatch::verdict`].
pub(super) struct OomWatch<E> {
    /// The daemon's `oom` events for the container.
    pub(super) events: E,
    /// The event stream ended (or failed).
    events_done: bool,
    /// The kernel's count of OOM kills (all cgroups) before the command ran.
    kernel_before: Option<u64>,
    evidence: OomEvidence,
}

/// Starts watching container `name` for an OOM kill; called right before it starts.
pub(super) fn watch_ooms(
    docker: &Docker,
    name: &str,
) -> OomWatch<impl Stream<Item = Result<EventMessage, BollardError>> + use<>> {
    // Seconds since the epoch just before start (minus one for clock rounding): the window in
    // which to look for this container's `oom` event if `OOMKilled` lags behind (see below).
    let start_secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs().saturating_sub(1));
    // The daemon's `oom` events for this container, subscribed to before start so none is missed.
    let events = oom_events(docker, name, start_secs);
    // The kernel's count of OOM kills (all cgroups) before the command runs; see `OomEvidence`.
    let kernel_before = kernel_oom_kills();
    OomWatch {
        events,
        events_done: false,
        kernel_before,
        evidence: OomEvidence::default(),
    }
}

impl<E> OomWatch<E>
where
    E: Stream<Item = Result<EventMessage, BollardError>> + Unpin,
{
    /// Whether the memory cgroup is still sampled (it has not hit its limit yet).
    pub(super) fn sampling(&self) -> bool {
        !self.evidence.cgroup
    }

    /// Samples container `id`'s memory cgroup: whether it ever hit its limit (local daemon only;
    /// with `init`, an OOM kill can end the run before the daemon records it).
    pub(super) fn sample(&mut self, id: &str) {
        self.evidence.cgroup = memory_limit_hit(id);
    }

    /// Whether the event stream is still read (no `oom` event yet, and the stream is open).
    pub(super) fn watching(&self) -> bool {
        !self.evidence.event && !self.events_done
    }

    /// Takes one item of the event stream.
    pub(super) fn saw(&mut self, event: Option<Result<EventMessage, BollardError>>) {
        match event {
            Some(Ok(e)) => self.evidence.event = e.action.as_deref() == Some("oom"),
            Some(Err(_)) | None => self.events_done = true,
        }
    }

    /// After the command ended (`exit_code`: its wait status, if any) or timed out: the exit code
    /// of the run (124 on timeout, 137 on an OOM kill) and whether it was OOM-killed.
    /// `local_cgroup`: the container's cgroup was read on this host after start.
    pub(super) async fn verdict(
        mut self,
        docker: &Docker,
        name: &str,
        exit_code: Option<i64>,
        timed_out: bool,
        local_cgroup: bool,
    ) -> Result<(i64, bool), SandboxError> {
        let mut state = inspect(docker, name).await?.state.unwrap_or_default();
        let killed =
            !timed_out && exit_code.or(state.exit_code) == Some(i64::from(EXIT_OOM_KILLED));
        self.evidence.daemon = state.oom_killed.unwrap_or(false);
        // The kernel's counter is this host's: it speaks for the container only when the daemon
        // runs here. The cgroup read after start says so, unless the command was killed before
        // that read (a fast OOM): then the daemon's host name decides.
        if killed
            && kernel_oom_kills()
                .zip(self.kernel_before)
                .is_some_and(|(after, before)| after > before)
        {
            self.evidence.kernel = local_cgroup || daemon_is_local(docker).await;
        }
        // A SIGKILL with no word of an OOM yet: the daemon's `oom` event and `OOMKilled` flag can
        // trail the exit (with `init` as PID 1 the kernel kills the child and init exits 137), so
        // give them a moment before deciding.
        if killed && !self.evidence.any() && !self.events_done {
            let grace = tokio::time::Instant::now() + Duration::from_millis(1500);
            while let Ok(Some(event)) = tokio::time::timeout_at(grace, self.events.next()).await {
                if event.is_ok_and(|e| e.action.as_deref() == Some("oom")) {
                    self.evidence.event = true;
                    break;
                }
            }
            state = inspect(docker, name).await?.state.unwrap_or_default();
            self.evidence.daemon = state.oom_killed.unwrap_or(false);
        }
        drop(self.events);
        let evidence = self.evidence;
        let oom_killed = evidence.daemon || (killed && evidence.any());
        let exit_code = if timed_out {
            i64::from(EXIT_TIMED_OUT)
        } else if oom_killed {
            i64::from(EXIT_OOM_KILLED)
        } else {
            exit_code.or(state.exit_code).unwrap_or(-1)
        };
        Ok((exit_code, oom_killed))
    }
}

/// Whether the daemon runs on this host (its reported name is this host's name).
async fn daemon_is_local(docker: &Docker) -> bool {
    let Some(here) = host_name() else {
        return false;
    };
    docker
        .info()
        .await
        .is_ok_and(|info| info.name.as_deref() == Some(here.as_str()))
}

/// The kernel's count of OOM kills since boot (`oom_kill` in `/proc/vmstat`, Linux 4.13+).
fn kernel_oom_kills() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/vmstat").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("oom_kill "))
        .and_then(|n| n.trim().parse().ok())
}

/// The daemon's live stream of `oom` events for container `name`, from `since` (epoch seconds).
fn oom_events(
    docker: &Docker,
    name: &str,
    since: u64,
) -> impl Stream<Item = Result<EventMessage, BollardError>> + use<> {
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
