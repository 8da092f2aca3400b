//! The egress allowlist of a session (`sandlint session start --allow-host`): the sidecar and
//! the networks of [`super::start`], recorded in the session's state by id, re-verified before
//! every exec, put and get, the decisions of one exec read back from the proxy's log by the
//! daemon's timestamps, and removed with the session on every path.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use bollard::Docker;
use bollard::models::ContainerInspectResponse;
use bollard::query_parameters::LogsOptionsBuilder;
use futures_util::StreamExt;

use super::super::SandboxError;
use super::super::profile::{HardenedProfile, LABEL_MANAGED};
use super::super::runner::{api, is_not_found, kernel_uids, labelled, read_cgroup};
use super::super::verify::{self, Check, CheckStatus};
use super::sidecar::{Egress, check, network_checks};
use super::{EgressReport, LABEL_EGRESS_OF};

/// The egress resources of a session, as its state file keeps them (the trust anchor: the
/// sidecar and the networks are the session's only when their ids are these).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SessionEgress {
    /// The sidecar's name and full id.
    pub proxy: String,
    pub proxy_id: String,
    /// The sidecar's hardening profile, re-verified like the session's own.
    pub proxy_profile: HardenedProfile,
    pub internal_network: String,
    pub internal_id: String,
    pub outer_network: String,
    pub outer_id: String,
    pub proxy_url: String,
    pub hosts: Vec<String>,
    pub ports: Vec<u16>,
    /// Sidecar checks that had already failed at start (accepted with `--allow-degraded`).
    #[serde(default)]
    pub failed_at_start: Vec<String>,
}

/// The ids of what [`super::start`] created, for the state file.
pub async fn record(docker: &Docker, egress: &Egress) -> Result<SessionEgress, SandboxError> {
    let r = &egress.report;
    let proxy = docker
        .inspect_container(&r.proxy, None)
        .await
        .map_err(api("inspect the egress proxy"))?;
    let net_id = |name: String| async move {
        docker
            .inspect_network(&name, None)
            .await
            .map_err(api("inspect the egress networks"))
            .map(|n| n.id.unwrap_or_default())
    };
    Ok(SessionEgress {
        proxy: r.proxy.clone(),
        proxy_id: proxy.id.unwrap_or_default(),
        proxy_profile: egress.proxy_profile.clone(),
        internal_network: r.internal_network.clone(),
        internal_id: net_id(r.internal_network.clone()).await?,
        outer_network: r.outer_network.clone(),
        outer_id: net_id(r.outer_network.clone()).await?,
        proxy_url: r.proxy_url.clone(),
        hosts: r.hosts.clone(),
        ports: r.ports.clone(),
        failed_at_start: r
            .checks
            .iter()
            .filter(|c| c.status == CheckStatus::Failed)
            // the start's sidecar checks carry the sandbox's names (`uid`: `proxy-uid` later)
            .map(|c| match c.name {
                "uid" => "proxy-uid".to_string(),
                n => proxy_name(n).to_string(),
            })
            .collect(),
    })
}

fn failed(name: &'static str, expected: String, actual: String) -> Check {
    check(name, false, expected, actual)
}

/// The networks an inspect response says a container is on: name → network id.
fn attached(view: &ContainerInspectResponse) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = view
        .network_settings
        .as_ref()
        .and_then(|n| n.networks.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|(name, e)| (name, e.network_id.unwrap_or_default()))
        .collect();
    v.sort();
    v
}

fn show(nets: &[(String, String)]) -> String {
    if nets.is_empty() {
        return "none".to_string();
    }
    nets.iter()
        .map(|(n, id)| {
            format!(
                "{} ({})",
                crate::escape::line(n),
                id.get(..12).unwrap_or(id)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Before every call of an egress session: the sandbox on the internal network only; the
/// sidecar (the recorded id, running, our labels, its profile's checks, its uid, its two
/// networks); the internal network (the recorded id, internal, no host address, no IPv6, no
/// member but the sandbox and the sidecar). Failed checks are returned, not judged here.
pub async fn reverify(
    docker: &Docker,
    rec: &SessionEgress,
    sandbox: &str,
    sandbox_view: &ContainerInspectResponse,
) -> Vec<Check> {
    let mut checks = Vec::new();
    let want = vec![(rec.internal_network.clone(), rec.internal_id.clone())];
    let got = attached(sandbox_view);
    checks.push(check(
        "sandbox-networks",
        got == want,
        show(&want),
        show(&got),
    ));
    match docker.inspect_container(&rec.proxy_id, None).await {
        Ok(view) => checks.extend(proxy_checks(rec, sandbox, &view)),
        Err(e) => checks.push(failed(
            "proxy-running",
            format!("the sidecar {}", rec.proxy),
            if is_not_found(&e) {
                "gone".to_string()
            } else {
                super::super::runner::error_text(&e)
            },
        )),
    }
    match network_checks(docker, &rec.internal_id).await {
        Ok(n) => checks.extend(n),
        Err(e) => checks.push(failed(
            "network-internal",
            format!("the network {}", rec.internal_network),
            e.to_string(),
        )),
    }
    checks.push(internal_members(docker, rec, sandbox_view).await);
    checks
}

fn proxy_checks(rec: &SessionEgress, sandbox: &str, view: &ContainerInspectResponse) -> Vec<Check> {
    let id = view.id.clone().unwrap_or_default();
    let st = view.state.clone().unwrap_or_default();
    let running = st.running == Some(true) && st.paused != Some(true);
    let mut checks = vec![check(
        "proxy-running",
        running && id == rec.proxy_id,
        format!("the sidecar {} running", rec.proxy),
        st.status.map_or("unknown".to_string(), |s| s.to_string()),
    )];
    let labels = view
        .config
        .as_ref()
        .and_then(|c| c.labels.clone())
        .unwrap_or_default();
    let ours = labels.get(LABEL_MANAGED).map(String::as_str) == Some("true")
        && labels.get(LABEL_EGRESS_OF).map(String::as_str) == Some(sandbox);
    checks.push(check(
        "proxy-labels",
        ours,
        format!("{LABEL_MANAGED}=true, {LABEL_EGRESS_OF}={sandbox}"),
        format!(
            "{LABEL_EGRESS_OF}={}",
            crate::escape::line(labels.get(LABEL_EGRESS_OF).map_or("missing", |s| s))
        ),
    ));
    checks.extend(
        verify::check_container(&rec.proxy_profile, view, &read_cgroup(&id))
            .into_iter()
            .map(|mut c| {
                // the sidecar's own names, apart from the sandbox's checks of the same kind
                c.name = proxy_name(c.name);
                c
            }),
    );
    let pid = st.pid.unwrap_or_default();
    let uid = verify::uid_evidence(kernel_uids(&id, pid), Some(65534), "the proxy's --user");
    let mut u = verify::uid_check(uid.as_ref(), false);
    u.name = "proxy-uid";
    checks.push(u);
    let mut want = vec![
        (rec.internal_network.clone(), rec.internal_id.clone()),
        (rec.outer_network.clone(), rec.outer_id.clone()),
    ];
    want.sort();
    let got = attached(view);
    checks.push(check(
        "proxy-networks",
        got == want,
        show(&want),
        show(&got),
    ));
    checks
}

/// `proxy-<check>` for the sidecar's copy of a sandbox check.
fn proxy_name(name: &'static str) -> &'static str {
    match name {
        "user" => "proxy-user",
        "runtime" => "proxy-runtime",
        "not-privileged" => "proxy-not-privileged",
        "read-only-rootfs" => "proxy-read-only-rootfs",
        "network" => "proxy-network",
        "dns" => "proxy-dns",
        "cap-drop" => "proxy-cap-drop",
        "no-new-privileges" => "proxy-no-new-privileges",
        "memory" => "proxy-memory",
        "memory-swap" => "proxy-memory-swap",
        "cpus" => "proxy-cpus",
        "pids-limit" => "proxy-pids-limit",
        "tmpfs" => "proxy-tmpfs",
        "init" => "proxy-init",
        "mounts" => "proxy-mounts",
        "no-socket-mount" => "proxy-no-socket-mount",
        other => other,
    }
}

/// No container on the internal network but the sandbox and the sidecar (another one would be
/// a way around the proxy).
async fn internal_members(
    docker: &Docker,
    rec: &SessionEgress,
    sandbox_view: &ContainerInspectResponse,
) -> Check {
    let sandbox_id = sandbox_view.id.clone().unwrap_or_default();
    let members: Vec<String> = match docker.inspect_network(&rec.internal_id, None).await {
        Ok(n) => n.containers.unwrap_or_default().into_keys().collect(),
        Err(e) => vec![format!(
            "unknown ({})",
            super::super::runner::error_text(&e)
        )],
    };
    let strangers: Vec<&String> = members
        .iter()
        .filter(|m| **m != sandbox_id && **m != rec.proxy_id)
        .collect();
    check(
        "network-members",
        strangers.is_empty(),
        "the sandbox and the sidecar only".to_string(),
        if strangers.is_empty() {
            format!("{} members", members.len())
        } else {
            format!(
                "also {}",
                strangers
                    .iter()
                    .map(|s| crate::escape::line(s.get(..12).unwrap_or(s)).into_owned())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        },
    )
}

/// The report of one exec: the proxy's decisions the daemon logged since `since` (the exec's
/// start), bounded like a run's, with the re-verification's checks.
pub async fn exec_report(
    docker: &Docker,
    rec: &SessionEgress,
    since: SystemTime,
    checks: Vec<Check>,
) -> EgressReport {
    let mut report = EgressReport {
        hosts: rec.hosts.clone(),
        ports: rec.ports.clone(),
        proxy: rec.proxy.clone(),
        internal_network: rec.internal_network.clone(),
        outer_network: rec.outer_network.clone(),
        proxy_url: rec.proxy_url.clone(),
        checks,
        ..EgressReport::default()
    };
    let from = since
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = i32::try_from(from.as_secs().saturating_sub(1)).unwrap_or(i32::MAX);
    // the daemon's log driver stamps a line when it reads it: a moment for the last ones
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut logs = docker.logs(
        &rec.proxy_id,
        Some(
            LogsOptionsBuilder::new()
                .stdout(true)
                .stderr(false)
                .follow(false)
                .timestamps(true)
                .since(secs)
                .build(),
        ),
    );
    let mut buf: Vec<u8> = Vec::new();
    let mut dropped = 0u64;
    let read = async {
        while let Some(Ok(item)) = logs.next().await {
            let bytes = item.into_bytes();
            for line in bytes.split(|b| *b == b'\n') {
                let Some(at) = line.iter().position(|b| *b == b' ') else {
                    continue;
                };
                let stamp = std::str::from_utf8(&line[..at]).ok().and_then(rfc3339);
                if stamp.is_none_or(|t| t < from) {
                    continue;
                }
                if buf.len() + line.len() > super::sidecar::MAX_LOG {
                    dropped += 1;
                    continue;
                }
                buf.extend_from_slice(&line[at + 1..]);
                buf.push(b'\n');
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(10), read).await;
    super::collect_log(&mut report, &buf);
    report.dropped += dropped;
    report
}

/// A UTC RFC 3339 timestamp as the daemon writes it (`2026-12-07T07:30:00.123456789Z`), as
/// the time since the Unix epoch.
fn rfc3339(s: &str) -> Option<Duration> {
    let s = s.strip_suffix('Z')?;
    let (date, time) = s.split_once('T')?;
    let mut d = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    let mut t = hms.splitn(3, ':').map(|p| p.parse::<u64>().ok());
    let (h, min, sec) = (t.next()??, t.next()??, t.next()??);
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || h > 23 || min > 59 || sec > 60 {
        return None;
    }
    // days from the civil date (Howard Hinnant's algorithm)
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = u64::try_from(era * 146_097 + doe - 719_468).ok()?;
    let digits: String = frac.chars().take(9).collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) || digits.is_empty() {
        return None;
    }
    let nanos = digits.parse::<u32>().ok()? * 10u32.pow(9 - digits.len() as u32);
    Some(Duration::new(
        days * 86_400 + h * 3600 + min * 60 + sec,
        nanos,
    ))
}

/// `session gc`: the sidecars and networks of sessions whose container is gone (the daemon
/// removed it at its deadline, or it was removed by hand). Returns the sessions' names.
pub async fn sweep(docker: &Docker) -> Vec<String> {
    let mut of: Vec<String> = labelled(docker, vec![LABEL_EGRESS_OF.to_string()])
        .await
        .unwrap_or_default()
        .into_iter()
        .filter_map(|c| c.labels?.get(LABEL_EGRESS_OF).cloned())
        .collect();
    let mut filters = HashMap::new();
    filters.insert("label", vec![LABEL_EGRESS_OF.to_string()]);
    if let Ok(nets) = docker
        .list_networks(Some(
            bollard::query_parameters::ListNetworksOptionsBuilder::new()
                .filters(&filters)
                .build(),
        ))
        .await
    {
        of.extend(
            nets.into_iter()
                .filter_map(|n| n.labels?.get(LABEL_EGRESS_OF).cloned()),
        );
    }
    of.sort();
    of.dedup();
    let mut removed = Vec::new();
    for sandbox in of {
        if !sandbox.starts_with("sandlint-session-") {
            continue;
        }
        if let Err(e) = docker.inspect_container(&sandbox, None).await
            && is_not_found(&e)
        {
            super::remove_run(docker, &sandbox).await;
            removed.push(sandbox);
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daemon_timestamps() {
        assert_eq!(
            rfc3339("1970-01-01T00:00:01.5Z"),
            Some(Duration::new(1, 500_000_000))
        );
        assert_eq!(
            rfc3339("2026-12-07T07:30:00.123456789Z"),
            Some(Duration::new(1_796_628_600, 123_456_789))
        );
        assert_eq!(
            rfc3339("2000-03-01T00:00:00Z"),
            Some(Duration::from_secs(951_868_800))
        );
        for bad in ["", "2026-13-01T00:00:00Z", "2026-12-07T07:30:00", "x"] {
            assert_eq!(rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn an_old_state_without_failed_checks_loads() {
        let mut v = serde_json::to_value(SessionEgress {
            proxy: "p".into(),
            proxy_id: "1".into(),
            proxy_profile: HardenedProfile::new("x:1"),
            internal_network: "i".into(),
            internal_id: "2".into(),
            outer_network: "o".into(),
            outer_id: "3".into(),
            proxy_url: "http://10.0.0.2:3128".into(),
            hosts: vec!["a.test".into()],
            ports: vec![80],
            failed_at_start: Vec::new(),
        })
        .unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.remove("failed_at_start");
        }
        assert!(serde_json::from_value::<SessionEgress>(v).is_ok());
    }
}
