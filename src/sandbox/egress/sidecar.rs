//! The networks and the proxy sidecar of a run: created after the watchdog is started (so a
//! killed run's sidecar and networks are removed with its container), verified with the
//! sandbox's own checks, their log collected, removed on every path.

use std::collections::HashMap;
use std::time::Duration;

use bollard::Docker;
use bollard::models::{
    EndpointSettings, HostConfigLogConfig, NetworkConnectRequest, NetworkCreateRequest,
    NetworkDisconnectRequest,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, KillContainerOptionsBuilder, ListNetworksOptionsBuilder,
    LogsOptionsBuilder, RemoveContainerOptionsBuilder,
};
use futures_util::StreamExt;

use super::super::profile::{HardenedProfile, LABEL_DEADLINE, LABEL_MANAGED, LABEL_OWNER, NOBODY};
use super::super::runner::{api, is_not_found, kernel_uids, labelled, read_cgroup};
use super::super::verify::{self, CgroupLimits, Check, CheckStatus};
use super::super::{SandboxError, SandboxOptions};
use super::policy::Policy;
use super::{EgressReport, LABEL_EGRESS_NETWORK, LABEL_EGRESS_OF, PROXY_PORT, image};

/// Docker's bridge option that leaves the bridge without an IPv4 address: the host owns no
/// address on the internal network, so the sandbox cannot reach host services through the
/// gateway (see the README, "Egress allowlist").
pub(super) const INHIBIT_IPV4: &str = "com.docker.network.bridge.inhibit_ipv4";
/// The sidecar's limits.
const PROXY_MEMORY: i64 = 64 * 1024 * 1024;
const PROXY_PIDS: i64 = 200;
const PROXY_NANO_CPUS: i64 = 500_000_000;
/// Most bytes of the proxy's log read back.
pub(super) const MAX_LOG: usize = 4 * 1024 * 1024;

/// What [`prepare`] checked and built before the run's deadline is set.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub policy: Policy,
    pub image: String,
    /// The sidecar's end (Unix seconds): its proxy stops then and the daemon removes it
    /// (`AutoRemove`), as a session's container at its TTL. `None` (a run): removed by the run.
    pub until: Option<u64>,
}

/// The running sidecar of a run.
#[derive(Debug)]
pub struct Egress {
    pub report: EgressReport,
    /// The sidecar's profile (a session keeps it to re-verify the sidecar later).
    pub proxy_profile: HardenedProfile,
}

/// The policy, and the sidecar's image (built when missing).
pub async fn prepare(
    docker: &Docker,
    options: &super::EgressOptions,
) -> Result<Prepared, SandboxError> {
    let policy = options.policy()?;
    let exe = match &options.proxy_exe {
        Some(p) => p.clone(),
        None => std::env::current_exe().map_err(|e| SandboxError::InvalidOption {
            message: format!("--allow-host: cannot find the sandlint binary for the proxy: {e}"),
        })?,
    };
    let image = image::ensure(docker, &exe).await?;
    Ok(Prepared {
        policy,
        image,
        until: None,
    })
}

fn names(sandbox: &str) -> (String, String, String) {
    (
        format!("{sandbox}-proxy"),
        format!("{sandbox}-egress"),
        format!("{sandbox}-outside"),
    )
}

/// Labels of the sidecar and the networks: sandlint's, the owner and deadline of the sandbox,
/// and the sandbox's name.
fn labels(sandbox: &str, profile: &HardenedProfile) -> HashMap<String, String> {
    let mut l = HashMap::new();
    l.insert(LABEL_MANAGED.to_string(), "true".to_string());
    for key in [LABEL_OWNER, LABEL_DEADLINE] {
        if let Some(v) = profile.labels.get(key) {
            l.insert(key.to_string(), v.clone());
        }
    }
    l.insert(LABEL_EGRESS_OF.to_string(), sandbox.to_string());
    l
}

/// The sidecar's profile: the sandbox's hardening (non-root, read-only root, all capabilities
/// dropped, no-new-privileges, init, limits), its command the proxy.
fn proxy_profile(
    prepared: &Prepared,
    outer: &str,
    labels: &HashMap<String, String>,
) -> HardenedProfile {
    let mut p = HardenedProfile::new(prepared.image.clone());
    p.user = NOBODY.to_string();
    p.entrypoint = Some(vec![image::BINARY.to_string()]);
    let mut cmd = vec![
        "run".to_string(),
        "--egress-proxy".to_string(),
        format!("0.0.0.0:{PROXY_PORT}"),
    ];
    for h in &prepared.policy.hosts {
        cmd.push("--allow-host".to_string());
        cmd.push(h.to_string());
    }
    for port in &prepared.policy.ports {
        cmd.push("--allow-port".to_string());
        cmd.push(port.to_string());
    }
    if let Some(until) = prepared.until {
        cmd.push("--egress-until".to_string());
        cmd.push(until.to_string());
    }
    p.command = Some(cmd);
    p.set_memory(PROXY_MEMORY);
    p.pids_limit = PROXY_PIDS;
    p.nano_cpus = PROXY_NANO_CPUS;
    p.tmpfs = Vec::new();
    p.network_mode = outer.to_string();
    p.labels = labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    // the `network` check verifies the sidecar's planned network like the sandbox's
    p.labels
        .insert(LABEL_EGRESS_NETWORK.to_string(), outer.to_string());
    p
}

pub(super) fn check(name: &'static str, ok: bool, expected: String, actual: String) -> Check {
    Check {
        name,
        status: if ok {
            CheckStatus::Verified
        } else {
            CheckStatus::Failed
        },
        expected,
        actual,
    }
}

/// Creates the networks and the sidecar, verifies them, and points `profile` (the sandbox) at
/// the proxy: its network, `HTTP(S)_PROXY`/`NO_PROXY`, and a DNS server that answers nothing.
pub async fn start(
    docker: &Docker,
    sandbox: &str,
    prepared: &Prepared,
    profile: &mut HardenedProfile,
    options: &SandboxOptions,
) -> Result<Egress, SandboxError> {
    let (proxy, internal, outer) = names(sandbox);
    let labels = labels(sandbox, profile);
    create_networks(docker, &internal, &outer, &labels).await?;
    let pprofile = proxy_profile(prepared, &outer, &labels);
    let auto_remove = prepared.until.is_some();
    let (mut checks, proxy_ip) = run_proxy(
        docker,
        &proxy,
        &pprofile,
        &internal,
        (options.allow_degraded, auto_remove),
    )
    .await?;
    checks.extend(network_checks(docker, &internal).await?);
    verify::judge(&checks, options.allow_degraded)?;
    if proxy_ip.is_empty() {
        return Err(SandboxError::Docker {
            action: "find the egress proxy's address",
            message: format!("{proxy} has no address on {internal}"),
        });
    }
    let url = format!("http://{proxy_ip}:{PROXY_PORT}");
    point_sandbox(profile, &internal, &url, &proxy_ip);
    Ok(Egress {
        proxy_profile: pprofile,
        report: EgressReport {
            hosts: prepared
                .policy
                .hosts
                .iter()
                .map(ToString::to_string)
                .collect(),
            ports: prepared.policy.ports.clone(),
            proxy,
            internal_network: internal,
            outer_network: outer,
            proxy_url: url,
            checks,
            ..EgressReport::default()
        },
    })
}

/// The internal network (no host address, no IPv6) and the proxy's outer bridge network.
async fn create_networks(
    docker: &Docker,
    internal: &str,
    outer: &str,
    labels: &HashMap<String, String>,
) -> Result<(), SandboxError> {
    let mut internal_opts = HashMap::new();
    internal_opts.insert(INHIBIT_IPV4.to_string(), "true".to_string());
    docker
        .create_network(NetworkCreateRequest {
            name: internal.to_string(),
            driver: Some("bridge".to_string()),
            internal: Some(true),
            enable_ipv6: Some(false),
            options: Some(internal_opts),
            labels: Some(labels.clone()),
            ..NetworkCreateRequest::default()
        })
        .await
        .map_err(api("create the internal egress network"))?;
    docker
        .create_network(NetworkCreateRequest {
            name: outer.to_string(),
            driver: Some("bridge".to_string()),
            internal: Some(false),
            enable_ipv6: Some(false),
            labels: Some(labels.clone()),
            ..NetworkCreateRequest::default()
        })
        .await
        .map_err(api("create the proxy's outer network"))?;
    Ok(())
}

/// Creates the sidecar on the outer network, attaches it to the internal one, verifies it
/// (created, then started: the sandbox's checks, its uid, running, its two networks). Returns
/// the checks and its address on the internal network.
async fn run_proxy(
    docker: &Docker,
    proxy: &str,
    pprofile: &HardenedProfile,
    internal: &str,
    (allow_degraded, auto_remove): (bool, bool),
) -> Result<(Vec<Check>, String), SandboxError> {
    let mut body = pprofile.create_body();
    if let Some(hc) = body.host_config.as_mut() {
        hc.auto_remove = Some(auto_remove);
        // the proxy's decisions are read back from its log: bounded json-file
        let mut cfg = HashMap::new();
        cfg.insert("max-size".to_string(), "2m".to_string());
        cfg.insert("max-file".to_string(), "1".to_string());
        hc.log_config = Some(HostConfigLogConfig {
            typ: Some("json-file".to_string()),
            config: Some(cfg),
        });
    }
    body.attach_stdout = Some(false);
    body.attach_stderr = Some(false);
    docker
        .create_container(
            Some(CreateContainerOptionsBuilder::new().name(proxy).build()),
            body,
        )
        .await
        .map_err(api("create the egress proxy"))?;
    docker
        .connect_network(
            internal,
            NetworkConnectRequest {
                container: proxy.to_string(),
                endpoint_config: Some(EndpointSettings::default()),
            },
        )
        .await
        .map_err(api("attach the egress proxy to the internal network"))?;
    let created = docker
        .inspect_container(proxy, None)
        .await
        .map_err(api("inspect the egress proxy"))?;
    verify::judge(
        &verify::check_container(pprofile, &created, &CgroupLimits::default()),
        allow_degraded,
    )?;
    docker
        .start_container(proxy, None)
        .await
        .map_err(api("start the egress proxy"))?;
    let view = docker
        .inspect_container(proxy, None)
        .await
        .map_err(api("inspect the egress proxy"))?;
    let id = view.id.clone().unwrap_or_default();
    let mut checks = verify::check_container(pprofile, &view, &read_cgroup(&id));
    let pid = view.state.as_ref().and_then(|s| s.pid).unwrap_or_default();
    let uid = verify::uid_evidence(kernel_uids(&id, pid), Some(65534), "the proxy's --user");
    checks.push(verify::uid_check(uid.as_ref(), false));
    let running = view.state.as_ref().and_then(|s| s.running).unwrap_or(false);
    checks.push(check(
        "proxy-running",
        running,
        "running".to_string(),
        view.state
            .as_ref()
            .and_then(|s| s.status)
            .map_or("unknown".to_string(), |s| s.to_string()),
    ));
    let nets = view
        .network_settings
        .as_ref()
        .and_then(|n| n.networks.clone())
        .unwrap_or_default();
    let mut joined: Vec<String> = nets.keys().cloned().collect();
    joined.sort();
    let mut want = vec![internal.to_string(), pprofile.network_mode.clone()];
    want.sort();
    checks.push(check(
        "proxy-networks",
        joined == want,
        want.join(", "),
        joined.join(", "),
    ));
    let proxy_ip = nets
        .get(internal)
        .and_then(|e| e.ip_address.clone())
        .filter(|ip| !ip.is_empty())
        .unwrap_or_default();
    Ok((checks, proxy_ip))
}

/// The sandbox on the internal network, its proxy variables set (replacing any of its own),
/// and its DNS server the proxy's address.
fn point_sandbox(profile: &mut HardenedProfile, internal: &str, url: &str, proxy_ip: &str) {
    profile.network_mode = internal.to_string();
    profile
        .labels
        .insert(LABEL_EGRESS_NETWORK.to_string(), internal.to_string());
    let keys = [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "http_proxy",
        "https_proxy",
        "NO_PROXY",
        "no_proxy",
    ];
    profile
        .env
        .retain(|e| !keys.contains(&e.split_once('=').map_or(e.as_str(), |(k, _)| k)));
    profile
        .env_from_host
        .retain(|k| !keys.contains(&k.as_str()));
    for key in &keys[..4] {
        profile.env.push(format!("{key}={url}"));
    }
    for key in &keys[4..] {
        profile.env.push(format!("{key}=localhost,127.0.0.1,::1"));
    }
    // The sandbox needs no name resolution (the proxy resolves); Docker's embedded resolver
    // forwards the names it does not know to this server, the proxy's address, where nothing
    // listens on port 53: no DNS query leaves the internal network.
    profile.dns = vec![proxy_ip.to_string()];
}

/// The internal network as the daemon reports it: internal, no IPv4 address for the host, no
/// IPv6.
pub(super) async fn network_checks(
    docker: &Docker,
    internal: &str,
) -> Result<Vec<Check>, SandboxError> {
    let n = docker
        .inspect_network(internal, None)
        .await
        .map_err(api("inspect the internal egress network"))?;
    let inhibit = n
        .options
        .as_ref()
        .and_then(|o| o.get(INHIBIT_IPV4).cloned())
        .unwrap_or_default();
    Ok(vec![
        check(
            "network-internal",
            n.internal == Some(true),
            "true".to_string(),
            format!("{:?}", n.internal),
        ),
        check(
            "network-no-host-address",
            inhibit == "true",
            format!("{INHIBIT_IPV4}=true"),
            if inhibit.is_empty() {
                "unset".to_string()
            } else {
                inhibit
            },
        ),
        check(
            "network-no-ipv6",
            n.enable_ipv6 != Some(true),
            "false".to_string(),
            format!("{:?}", n.enable_ipv6),
        ),
    ])
}

/// The proxy's log (stdout), bounded, into the report.
pub async fn collect(docker: &Docker, egress: &mut Egress) {
    let mut logs = docker.logs(
        &egress.report.proxy,
        Some(
            LogsOptionsBuilder::new()
                .stdout(true)
                .stderr(false)
                .follow(false)
                .build(),
        ),
    );
    let mut buf: Vec<u8> = Vec::new();
    let read = async {
        while let Some(Ok(item)) = logs.next().await {
            let bytes = item.into_bytes();
            let room = MAX_LOG.saturating_sub(buf.len());
            if room == 0 {
                egress.report.dropped += 1;
                break;
            }
            buf.extend_from_slice(&bytes[..bytes.len().min(room)]);
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(10), read).await;
    super::collect_log(&mut egress.report, &buf);
}

pub(super) async fn kill_remove(docker: &Docker, id: &str) {
    let _ = docker
        .kill_container(
            id,
            Some(KillContainerOptionsBuilder::new().signal("KILL").build()),
        )
        .await;
    let opts = RemoveContainerOptionsBuilder::new()
        .force(true)
        .v(true)
        .build();
    for attempt in 0..5u64 {
        match docker.remove_container(id, Some(opts.clone())).await {
            Ok(()) => return,
            Err(e) if is_not_found(&e) => return,
            Err(_) => tokio::time::sleep(Duration::from_millis(100 * (attempt + 1))).await,
        }
    }
}

/// Removes a network of sandlint's, first disconnecting whatever is still attached (a
/// container someone connected to it).
pub(super) async fn remove_network(docker: &Docker, name: &str) -> bool {
    if let Ok(n) = docker.inspect_network(name, None).await {
        for id in n.containers.unwrap_or_default().into_keys() {
            let _ = docker
                .disconnect_network(
                    name,
                    NetworkDisconnectRequest {
                        container: id,
                        force: Some(true),
                    },
                )
                .await;
        }
    }
    for attempt in 0..5u64 {
        match docker.remove_network(name).await {
            Ok(()) => return true,
            Err(e) if is_not_found(&e) => return true,
            Err(_) => tokio::time::sleep(Duration::from_millis(100 * (attempt + 1))).await,
        }
    }
    false
}

/// Removes the sidecar and the networks of the sandbox `sandbox` (found by label: whatever
/// part of them was created). Call after the sandbox container is gone.
pub async fn remove_run(docker: &Docker, sandbox: &str) {
    let mut filters = HashMap::new();
    filters.insert("label", vec![format!("{LABEL_EGRESS_OF}={sandbox}")]);
    if let Ok(list) = labelled(docker, vec![format!("{LABEL_EGRESS_OF}={sandbox}")]).await {
        for c in list {
            if let Some(id) = &c.id {
                kill_remove(docker, id).await;
            }
        }
    }
    if let Ok(list) = docker
        .list_networks(Some(
            ListNetworksOptionsBuilder::new().filters(&filters).build(),
        ))
        .await
    {
        for n in list {
            if let Some(name) = n.name.as_deref().or(n.id.as_deref()) {
                remove_network(docker, name).await;
            }
        }
    }
}

/// Removes sandlint's networks whose labels `take` says to (the reaper's decision, applied to
/// networks after the containers). Returns their names.
pub async fn reap_networks(
    docker: &Docker,
    take: &dyn Fn(&HashMap<String, String>) -> bool,
) -> Vec<String> {
    let mut filters = HashMap::new();
    filters.insert("label", vec![format!("{LABEL_MANAGED}=true")]);
    let Ok(list) = docker
        .list_networks(Some(
            ListNetworksOptionsBuilder::new().filters(&filters).build(),
        ))
        .await
    else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for n in list {
        let labels = n.labels.clone().unwrap_or_default();
        if !take(&labels) {
            continue;
        }
        if let Some(name) = n.name.as_deref().or(n.id.as_deref()) {
            // a network still in use by a live container stays (its run removes it)
            if remove_network(docker, name).await {
                removed.push(name.to_string());
            }
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sandbox_is_pointed_at_the_proxy_only() {
        let mut p = HardenedProfile::new("x:1");
        p.env = vec![
            "HTTP_PROXY=http://elsewhere:1".to_string(),
            "no_proxy=*".to_string(),
            "KEEP=1".to_string(),
        ];
        p.env_from_host = vec!["no_proxy".to_string()];
        point_sandbox(&mut p, "run-egress", "http://172.30.0.2:3128", "172.30.0.2");
        assert_eq!(p.network_mode, "run-egress");
        assert_eq!(p.dns, vec!["172.30.0.2".to_string()]);
        assert!(p.env_from_host.is_empty());
        assert_eq!(
            p.env,
            [
                "KEEP=1",
                "HTTP_PROXY=http://172.30.0.2:3128",
                "HTTPS_PROXY=http://172.30.0.2:3128",
                "http_proxy=http://172.30.0.2:3128",
                "https_proxy=http://172.30.0.2:3128",
                "NO_PROXY=localhost,127.0.0.1,::1",
                "no_proxy=localhost,127.0.0.1,::1",
            ]
        );
        assert_eq!(
            p.labels.get(LABEL_EGRESS_NETWORK).map(String::as_str),
            Some("run-egress")
        );
    }

    #[test]
    fn the_sidecar_is_hardened_like_the_sandbox() {
        let prepared = Prepared {
            policy: Policy::parse(&["a.org".to_string(), "*.b.org".to_string()], &[]).unwrap(),
            image: "sandlint-egress-proxy:1".to_string(),
            until: None,
        };
        let mut labels = HashMap::new();
        labels.insert(LABEL_EGRESS_OF.to_string(), "run".to_string());
        let p = proxy_profile(&prepared, "run-outside", &labels);
        assert_eq!(p.user, NOBODY);
        assert!(p.read_only_rootfs && !p.privileged && p.init);
        assert_eq!(p.cap_drop, ["ALL"]);
        assert!(p.cap_add.is_empty());
        assert_eq!(p.security_opt, ["no-new-privileges:true"]);
        assert_eq!(
            (p.memory, p.memory_swap, p.pids_limit),
            (PROXY_MEMORY, PROXY_MEMORY, PROXY_PIDS)
        );
        assert!(p.mounts.is_empty());
        assert_eq!(
            p.command.as_deref().unwrap().join(" "),
            "run --egress-proxy 0.0.0.0:3128 --allow-host a.org --allow-host *.b.org --allow-port 80 --allow-port 443"
        );
    }
}
