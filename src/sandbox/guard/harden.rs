//! A `POST /containers/create` body: hardened (the protections a sandbox needs are forced),
//! lowered to the Compose service model (`sandlint audit`'s lowering of an inspect, which has
//! the same shapes) and checked with the rules under the guard's preset, then held to the
//! guard's own policy (bind roots, no host namespaces, no devices, no other containers'
//! namespaces or volumes). Pure but for the bind roots, which are resolved on this host.
//!
//! The body is read into Bollard's typed model and written back from it: a field the model
//! does not know is dropped, so no new or misspelled Engine API field reaches the daemon.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use bollard::models::{
    ContainerConfig, ContainerCreateBody, ContainerInspectResponse, HostConfig,
    HostConfigLogConfig, MountPoint, MountType, RestartPolicyNameEnum,
};

use super::super::audit::lower;
use super::super::profile::{BindMount, HardenedProfile, MountOrigin, NOBODY, Tmpfs, tmp_tmpfs};
use super::super::verify::is_socket_path;
use crate::config::Config;
use crate::diagnostic::{Diagnostic, Severity};
use crate::discover::FileKind;
use crate::dockerfile::semantics::is_root_user;
use crate::linter::{LintOptions, Selection, lint_file_with};
use crate::source::SourceFile;

/// Capabilities a guarded container may add back after `cap_drop: [ALL]` (a subset of
/// Docker's defaults: no `NET_RAW`, `MKNOD`, `SETFCAP`, `SETPCAP`, `SYS_CHROOT`).
pub const SAFE_CAPS: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "NET_BIND_SERVICE",
    "SETGID",
    "SETUID",
];

/// What the guard enforces on every container it creates.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Canonical host directories under which binds are allowed.
    pub bind_roots: Vec<PathBuf>,
    /// The one network its containers may join; `None`: `none`.
    pub network: Option<String>,
    /// Default and maximum memory (bytes; swap is never added).
    pub memory: i64,
    /// Default and maximum CPUs (nano-CPUs).
    pub nano_cpus: i64,
    /// Default and maximum number of processes.
    pub pids: i64,
    /// Size of the `/tmp` tmpfs added when the request has none.
    pub tmp_size: i64,
    /// The rules' configuration (its preset decides the severities).
    pub config: Config,
}

/// A judged request: the body to forward and the profile the container is verified against.
#[derive(Debug, Clone)]
pub struct Judged {
    pub body: ContainerCreateBody,
    pub profile: HardenedProfile,
}

/// The labels that mark a container as the guard's.
pub type Labels = Vec<(String, String)>;

/// Judges and hardens `body`. `image_user` is the image's `USER` (empty: none). `labels` are
/// set on the container (any `dev.sandlint.*` label of the request is dropped first). `Err`
/// holds every reason for refusing, one line each.
pub fn judge(
    mut body: ContainerCreateBody,
    image_user: &str,
    policy: &Policy,
    labels: &Labels,
) -> Result<Judged, Vec<String>> {
    let mut reasons = Vec::new();
    let image = body.image.clone().unwrap_or_default();
    if image.is_empty() {
        return Err(vec!["the request names no image".to_string()]);
    }
    let mut hc = body.host_config.take().unwrap_or_default();
    harden_host_config(&mut hc, policy, &mut reasons);
    let user = body.user.clone().unwrap_or_default();
    if user.trim().is_empty() {
        let image_user = image_user.trim();
        body.user = Some(if is_root_user(image_user) == Some(false) {
            image_user.to_string()
        } else {
            NOBODY.to_string()
        });
    }
    body.network_disabled = Some(hc.network_mode.as_deref() == Some("none"));
    // Every endpoint the request asks for would be joined on top of `network_mode`.
    body.networking_config = None;
    let mut own: HashMap<String, String> = (body.labels.take().unwrap_or_default())
        .into_iter()
        .filter(|(k, _)| !k.starts_with("dev.sandlint."))
        .collect();
    own.extend(labels.iter().cloned());
    body.labels = Some(own);
    let binds = binds_of(&mut hc, policy, &mut reasons);
    hc.binds = (!binds.is_empty()).then(|| binds.iter().map(bind_text).collect());
    reasons.extend(lint(&body, &hc, &binds, &policy.config));
    if !reasons.is_empty() {
        return Err(reasons);
    }
    let profile = profile_of(&body, &hc, &binds);
    body.host_config = Some(hc);
    Ok(Judged { body, profile })
}

/// What no guarded container gets, whatever the rules' configuration says.
fn refusals(hc: &HostConfig, reasons: &mut Vec<String>) {
    let mut refuse = |r: String| reasons.push(r);
    if hc.privileged == Some(true) {
        refuse("privileged mode is refused (`--privileged`)".into());
    }
    for (what, mode) in [
        ("pid", &hc.pid_mode),
        ("ipc", &hc.ipc_mode),
        ("uts", &hc.uts_mode),
        ("userns", &hc.userns_mode),
    ] {
        let m = mode.as_deref().unwrap_or_default();
        if m == "host" || m.starts_with("container:") {
            refuse(format!(
                "the {what} namespace `{}` is refused: guarded containers get their own",
                crate::escape::line(m)
            ));
        }
    }
    if (hc.cgroupns_mode.as_ref()).is_some_and(|m| m.to_string() == "host") {
        refuse("the host's cgroup namespace is refused".into());
    }
    for cap in hc.cap_add.iter().flatten() {
        let name = cap.trim().to_ascii_uppercase();
        let name = name.strip_prefix("CAP_").unwrap_or(&name);
        if !SAFE_CAPS.contains(&name) {
            refuse(format!(
                "capability `{}` is refused (a guarded container may add back only {})",
                crate::escape::line(cap),
                SAFE_CAPS.join(", ")
            ));
        }
    }
    let nonempty = |v: &Option<Vec<String>>| v.as_ref().is_some_and(|v| !v.is_empty());
    if (hc.devices.as_ref()).is_some_and(|d| !d.is_empty()) {
        refuse("host devices are refused (`--device`)".into());
    }
    if (hc.device_requests.as_ref()).is_some_and(|d| !d.is_empty()) {
        refuse("device requests (GPUs) are refused".into());
    }
    if nonempty(&hc.device_cgroup_rules) {
        refuse("device cgroup rules are refused".into());
    }
    if nonempty(&hc.volumes_from) {
        refuse(
            "`--volumes-from` is refused: another container's volumes are not the guard's".into(),
        );
    }
    if nonempty(&hc.links) {
        refuse("links to other containers are refused".into());
    }
    if hc.cgroup_parent.as_deref().is_some_and(|p| !p.is_empty()) {
        refuse("a cgroup parent is refused".into());
    }
    if (hc.sysctls.as_ref()).is_some_and(|s| !s.is_empty()) {
        refuse("sysctls are refused".into());
    }
    if hc.oom_kill_disable == Some(true) {
        refuse("disabling the OOM killer is refused".into());
    }
    if hc.oom_score_adj.is_some_and(|n| n < 0) {
        refuse("a negative OOM score adjustment is refused (the host's processes would be killed first)".into());
    }
    if hc.cpu_realtime_runtime.is_some_and(|n| n > 0) {
        refuse("real-time CPU scheduling is refused".into());
    }
    if (hc.annotations.as_ref()).is_some_and(|a| !a.is_empty()) {
        refuse("OCI annotations are refused (they configure the runtime)".into());
    }
    if hc.cgroup.as_deref().is_some_and(|c| !c.is_empty()) {
        refuse("another container's cgroup is refused".into());
    }
    if hc.volume_driver.as_deref().is_some_and(|d| !d.is_empty()) {
        refuse("volume drivers are refused".into());
    }
    if hc.publish_all_ports == Some(true)
        || hc.port_bindings.as_ref().is_some_and(|p| !p.is_empty())
    {
        refuse("publishing ports on the host is refused".into());
    }
    if let Some(p) = &hc.restart_policy
        && let Some(name) = &p.name
        && !matches!(
            name,
            RestartPolicyNameEnum::EMPTY | RestartPolicyNameEnum::NO
        )
    {
        refuse(format!(
            "restart policy `{name}` is refused: a guarded container must stay removed once killed"
        ));
    }
    for o in hc.security_opt.iter().flatten() {
        if !o.starts_with("no-new-privileges") {
            refuse(format!(
                "security option `{}` is refused (the guard keeps the daemon's seccomp, AppArmor and SELinux confinement)",
                crate::escape::line(o)
            ));
        }
    }
}

/// Forces the protections and refuses what no sandbox gets.
fn harden_host_config(hc: &mut HostConfig, policy: &Policy, reasons: &mut Vec<String>) {
    refusals(hc, reasons);
    // Whatever no-new-privileges spelling the request had (`:false` too) becomes ours.
    hc.security_opt = Some(vec!["no-new-privileges:true".to_string()]);
    // An empty list would unmask /proc/kcore and friends (`systempaths=unconfined`).
    hc.masked_paths = None;
    hc.readonly_paths = None;
    hc.cap_drop = Some(vec!["ALL".to_string()]);
    hc.readonly_rootfs = Some(true);
    let mut tmpfs = hc.tmpfs.take().unwrap_or_default();
    if !tmpfs.contains_key("/tmp") {
        let t = tmp_tmpfs(policy.tmp_size);
        tmpfs.insert(t.target, t.options);
    }
    hc.tmpfs = Some(tmpfs);
    let cap = |v: Option<i64>, max: i64| match v {
        Some(n) if n > 0 && n <= max => n,
        _ => max,
    };
    let memory = cap(hc.memory, policy.memory);
    hc.memory = Some(memory);
    hc.memory_swap = Some(memory);
    hc.cpu_quota = None;
    hc.cpu_period = None;
    hc.nano_cpus = Some(cap(hc.nano_cpus, policy.nano_cpus));
    hc.pids_limit = Some(cap(hc.pids_limit, policy.pids));
    if hc.init.is_none() {
        hc.init = Some(true);
    }
    // `docker logs` needs a log on disk, bounded; `json-file` (not `local`): the Python SDK's
    // `containers.run` reads the output only from `json-file` or `journald`.
    hc.log_config = Some(HostConfigLogConfig {
        typ: Some("json-file".to_string()),
        config: Some(HashMap::from([
            ("max-size".to_string(), "8m".to_string()),
            ("max-file".to_string(), "2".to_string()),
        ])),
    });
    network(hc, policy, reasons);
}

/// `network_mode`: the daemon's default becomes `none` (or the guard's `--network`); any other
/// mode is refused.
fn network(hc: &mut HostConfig, policy: &Policy, reasons: &mut Vec<String>) {
    let want = policy.network.clone().unwrap_or_else(|| "none".to_string());
    let asked = hc.network_mode.clone().unwrap_or_default();
    match asked.as_str() {
        "none" => {}
        "" | "default" | "bridge" => hc.network_mode = Some(want),
        m if m == want => {}
        m => reasons.push(format!(
            "network `{}` is refused: guarded containers get network `{want}`",
            crate::escape::line(m)
        )),
    }
}

/// A bind mount the guard allows, its source canonical.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bind {
    pub source: PathBuf,
    pub target: String,
    pub read_only: bool,
}

fn bind_text(b: &Bind) -> String {
    format!(
        "{}:{}:{}",
        b.source.display(),
        b.target,
        if b.read_only { "ro" } else { "rw" }
    )
}

/// Binds (`-v SRC:DST[:OPTS]`) and `Mounts` entries: host paths only under a bind root, never
/// the runtime socket; named volumes refused (they belong to someone); anonymous volumes kept.
fn binds_of(hc: &mut HostConfig, policy: &Policy, reasons: &mut Vec<String>) -> Vec<Bind> {
    let mut out = Vec::new();
    for b in hc.binds.iter().flatten() {
        let mut parts = b.splitn(3, ':');
        let (src, dst, opts) = (
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
        );
        if !src.starts_with('/') {
            reasons.push(format!(
                "volume `{}` is refused: named volumes are not the guard's (bind a directory under an --allow-bind-root)",
                crate::escape::line(src)
            ));
            continue;
        }
        let opts: Vec<&str> = opts.split(',').collect();
        if opts
            .iter()
            .any(|o| o.contains("shared") || o.contains("slave"))
        {
            reasons.push(format!(
                "bind `{}`: mount propagation is refused",
                crate::escape::line(b)
            ));
        }
        let read_only = opts.contains(&"ro");
        if let Some(bind) = allowed_bind(src, dst, read_only, policy, reasons) {
            out.push(bind);
        }
    }
    let mut kept = Vec::new();
    for m in hc.mounts.take().unwrap_or_default() {
        let src = m.source.clone().unwrap_or_default();
        let dst = m.target.clone().unwrap_or_default();
        match m.typ {
            Some(MountType::BIND) => {
                if m.bind_options.as_ref().and_then(|o| o.propagation.as_ref()).is_some() {
                    reasons.push(format!(
                        "mount `{}`: mount propagation is refused",
                        crate::escape::line(&dst)
                    ));
                }
                if let Some(bind) =
                    allowed_bind(&src, &dst, m.read_only == Some(true), policy, reasons)
                {
                    out.push(bind);
                }
            }
            Some(MountType::VOLUME) if src.is_empty() => kept.push(m),
            Some(MountType::VOLUME) => reasons.push(format!(
                "volume `{}` is refused: named volumes are not the guard's",
                crate::escape::line(&src)
            )),
            _ => reasons.push(format!(
                "mount at `{}` is refused: only bind mounts under an --allow-bind-root and anonymous volumes (tmpfs: `--tmpfs`)",
                crate::escape::line(&dst)
            )),
        }
    }
    hc.mounts = (!kept.is_empty()).then_some(kept);
    out
}

/// One bind: canonical (symbolic links resolved), under a bind root, not `/`, not a socket.
fn allowed_bind(
    src: &str,
    dst: &str,
    read_only: bool,
    policy: &Policy,
    reasons: &mut Vec<String>,
) -> Option<Bind> {
    let shown = crate::escape::line(src).into_owned();
    if !dst.starts_with('/') {
        reasons.push(format!(
            "bind `{shown}`: the target must be an absolute path"
        ));
        return None;
    }
    if is_socket_path(src) {
        reasons.push(format!(
            "bind `{shown}` is refused: it is (or holds) a container runtime socket, which is root on the host"
        ));
        return None;
    }
    let canon = match std::fs::canonicalize(src) {
        Ok(c) => c,
        Err(e) => {
            reasons.push(format!("bind `{shown}` is refused: {e}"));
            return None;
        }
    };
    if canon == Path::new("/") || is_socket_path(&canon.to_string_lossy()) {
        reasons.push(format!(
            "bind `{shown}` is refused: it resolves to `{}`",
            crate::escape::line(&canon.to_string_lossy())
        ));
        return None;
    }
    if !policy.bind_roots.iter().any(|r| canon.starts_with(r)) {
        let roots = if policy.bind_roots.is_empty() {
            "none is configured (--allow-bind-root DIR)".to_string()
        } else {
            (policy.bind_roots.iter())
                .map(|r| r.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        reasons.push(format!(
            "bind `{shown}` is refused: host paths must resolve under an allowed bind root ({roots})"
        ));
        return None;
    }
    Some(Bind {
        source: canon,
        target: dst.to_string(),
        read_only,
    })
}

/// The hardened request as the rules see it, and its error-level findings as reasons.
fn lint(
    body: &ContainerCreateBody,
    hc: &HostConfig,
    binds: &[Bind],
    config: &Config,
) -> Vec<String> {
    let doc = lower::render(&inspect_of(body, hc, binds));
    let file = SourceFile::virtual_file("sandlint-guard.compose.yaml", doc).into_ref();
    let opts = LintOptions {
        selection: Selection::all(),
        compose_set: None,
        built_by: Vec::new(),
        config,
        inline_ignores: false,
        require_reason: false,
        report_unused: false,
        join_wanted: false,
        boundary: None,
        report_only: Vec::new(),
    };
    let findings = lint_file_with(file, FileKind::Compose, &opts).diagnostics;
    findings
        .iter()
        .filter(|d| d.suppression.is_none() && d.severity == Severity::Error)
        .map(finding_text)
        .collect()
}

fn finding_text(d: &Diagnostic) -> String {
    format!(
        "{} {}: {}",
        d.rule.code,
        d.rule.name,
        crate::escape::line(&d.message)
    )
}

/// The request as a container's inspect, for [`lower::render`].
fn inspect_of(
    body: &ContainerCreateBody,
    hc: &HostConfig,
    binds: &[Bind],
) -> ContainerInspectResponse {
    let mut mounts: Vec<MountPoint> = binds
        .iter()
        .map(|b| MountPoint {
            typ: Some("bind".to_string()),
            source: Some(b.source.to_string_lossy().into_owned()),
            destination: Some(b.target.clone()),
            rw: Some(!b.read_only),
            ..MountPoint::default()
        })
        .collect();
    for m in hc.mounts.iter().flatten() {
        mounts.push(MountPoint {
            typ: Some("volume".to_string()),
            destination: m.target.clone(),
            rw: Some(m.read_only != Some(true)),
            ..MountPoint::default()
        });
    }
    ContainerInspectResponse {
        id: Some("0".repeat(64)),
        name: Some("/sandbox".to_string()),
        config: Some(ContainerConfig {
            image: body.image.clone(),
            user: body.user.clone(),
            healthcheck: body.healthcheck.clone(),
            exposed_ports: body.exposed_ports.clone(),
            ..ContainerConfig::default()
        }),
        host_config: Some(hc.clone()),
        mounts: Some(mounts),
        ..ContainerInspectResponse::default()
    }
}

/// What the daemon must report for the container: `sandlint run`'s verification reads it.
fn profile_of(body: &ContainerCreateBody, hc: &HostConfig, binds: &[Bind]) -> HardenedProfile {
    let mut p = HardenedProfile::new(body.image.clone().unwrap_or_default());
    p.user = body.user.clone().unwrap_or_default();
    p.read_only_rootfs = true;
    p.cap_drop = vec!["ALL".to_string()];
    p.cap_add = hc.cap_add.clone().unwrap_or_default();
    p.security_opt = hc.security_opt.clone().unwrap_or_default();
    p.network_mode = hc.network_mode.clone().unwrap_or_default();
    p.memory = hc.memory.unwrap_or(0);
    p.memory_swap = hc.memory_swap.unwrap_or(0);
    p.nano_cpus = hc.nano_cpus.unwrap_or(0);
    p.pids_limit = hc.pids_limit.unwrap_or(0);
    p.init = hc.init == Some(true);
    p.runtime = hc.runtime.clone().filter(|r| !r.is_empty());
    let mut tmpfs: Vec<Tmpfs> = (hc.tmpfs.iter().flatten())
        .map(|(target, options)| Tmpfs {
            target: target.clone(),
            options: options.clone(),
        })
        .collect();
    tmpfs.sort_by(|a, b| a.target.cmp(&b.target));
    p.tmpfs = tmpfs;
    p.mounts = binds
        .iter()
        .map(|b| BindMount {
            source: b.source.clone(),
            target: b.target.clone(),
            read_only: b.read_only,
            origin: MountOrigin::Mount,
        })
        .collect();
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Preset;

    fn policy(roots: Vec<PathBuf>) -> Policy {
        Policy {
            bind_roots: roots,
            network: None,
            memory: 512 << 20,
            nano_cpus: 1_000_000_000,
            pids: 256,
            tmp_size: 64 << 20,
            config: Config {
                preset: Preset::Sandbox,
                ..Config::default()
            },
        }
    }

    /// The body the docker CLI sends for `docker run --rm IMAGE echo hi` (abridged).
    fn cli_body(extra_hc: serde_json::Value) -> ContainerCreateBody {
        let mut hc = serde_json::json!({
            "Binds": null, "NetworkMode": "default", "PortBindings": {},
            "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0}, "AutoRemove": true,
            "CapAdd": null, "CapDrop": null, "CgroupnsMode": "", "IpcMode": "", "PidMode": "",
            "Privileged": false, "ReadonlyRootfs": false, "SecurityOpt": null, "UTSMode": "",
            "ConsoleSize": [0, 0], "Memory": 0, "NanoCpus": 0, "PidsLimit": null,
            "MaskedPaths": null, "ReadonlyPaths": null
        });
        if let (Some(hc), Some(extra)) = (hc.as_object_mut(), extra_hc.as_object()) {
            for (k, v) in extra {
                hc.insert(k.clone(), v.clone());
            }
        }
        let body = serde_json::json!({
            "Hostname": "", "User": "", "AttachStdout": true, "AttachStderr": true,
            "Tty": false, "Env": [], "Cmd": ["echo", "hi"], "Image": "guard-img",
            "Volumes": {}, "Entrypoint": null, "Labels": {"dev.sandlint.guard": "forged"},
            "HostConfig": hc,
            "NetworkingConfig": {"EndpointsConfig": {"default": {}}}
        });
        serde_json::from_value(body).unwrap_or_default()
    }

    fn labels() -> Labels {
        vec![("dev.sandlint.guard".to_string(), "instance".to_string())]
    }

    #[test]
    fn a_plain_run_is_hardened_and_passes() {
        let judged = judge(
            cli_body(serde_json::json!({})),
            "",
            &policy(vec![]),
            &labels(),
        );
        let j = match judged {
            Ok(j) => j,
            Err(r) => panic!("refused: {r:?}"),
        };
        let hc = j.body.host_config.clone().unwrap_or_default();
        assert_eq!(hc.cap_drop, Some(vec!["ALL".to_string()]));
        assert_eq!(hc.readonly_rootfs, Some(true));
        assert_eq!(hc.network_mode.as_deref(), Some("none"));
        assert_eq!(hc.memory, Some(512 << 20));
        assert_eq!(hc.pids_limit, Some(256));
        assert_eq!(
            hc.security_opt,
            Some(vec!["no-new-privileges:true".to_string()])
        );
        assert_eq!(j.body.user.as_deref(), Some(NOBODY));
        assert!(j.body.networking_config.is_none());
        assert!(hc.masked_paths.is_none() && hc.readonly_paths.is_none());
        assert_eq!(
            hc.tmpfs
                .as_ref()
                .and_then(|t| t.get("/tmp"))
                .map(String::as_str),
            Some("size=67108864,noexec,nosuid,nodev")
        );
        let labels = j.body.labels.unwrap_or_default();
        assert_eq!(
            labels.get("dev.sandlint.guard").map(String::as_str),
            Some("instance")
        );
        assert_eq!(j.profile.network_mode, "none");
    }

    #[test]
    fn the_image_user_is_kept_when_not_root() {
        let j = judge(
            cli_body(serde_json::json!({})),
            "1000:1000",
            &policy(vec![]),
            &labels(),
        );
        assert_eq!(
            j.ok().and_then(|j| j.body.user),
            Some("1000:1000".to_string())
        );
        let j = judge(
            cli_body(serde_json::json!({})),
            "root",
            &policy(vec![]),
            &labels(),
        );
        assert_eq!(j.ok().and_then(|j| j.body.user), Some(NOBODY.to_string()));
    }

    fn refused(hc: serde_json::Value, user: &str) -> Vec<String> {
        let mut body = cli_body(hc);
        body.user = Some(user.to_string());
        judge(body, "", &policy(vec![std::env::temp_dir()]), &labels())
            .err()
            .unwrap_or_default()
    }

    #[test]
    fn dangerous_requests_are_refused_with_their_rule() {
        let has = |reasons: &[String], needle: &str| reasons.iter().any(|r| r.contains(needle));
        let r = refused(serde_json::json!({"Privileged": true}), "");
        assert!(
            has(&r, "privileged-container") && has(&r, "privileged mode is refused"),
            "{r:?}"
        );
        let r = refused(serde_json::json!({"PidMode": "host"}), "");
        assert!(has(&r, "host-namespace-shared"), "{r:?}");
        let r = refused(serde_json::json!({"NetworkMode": "host"}), "");
        assert!(has(&r, "network `host` is refused"), "{r:?}");
        let r = refused(serde_json::json!({"CapAdd": ["SYS_ADMIN"]}), "");
        assert!(
            has(&r, "dangerous-capability") && has(&r, "capability `SYS_ADMIN`"),
            "{r:?}"
        );
        let r = refused(serde_json::json!({"Binds": ["/:/host"]}), "");
        assert!(has(&r, "bind `/` is refused"), "{r:?}");
        let r = refused(
            serde_json::json!({"Binds": ["/var/run/docker.sock:/s"]}),
            "",
        );
        assert!(has(&r, "runtime socket"), "{r:?}");
        let r = refused(serde_json::json!({"Binds": ["/etc:/e:ro"]}), "");
        assert!(has(&r, "allowed bind root"), "{r:?}");
        let r = refused(serde_json::json!({"Binds": ["data:/d"]}), "");
        assert!(has(&r, "named volumes"), "{r:?}");
        let r = refused(
            serde_json::json!({"SecurityOpt": ["seccomp=unconfined"]}),
            "",
        );
        assert!(has(&r, "seccomp=unconfined"), "{r:?}");
        let r = refused(serde_json::json!({}), "0");
        assert!(has(&r, "service-root-user"), "{r:?}");
        let r = refused(
            serde_json::json!({"Devices": [{"PathOnHost": "/dev/sda", "PathInContainer": "/dev/sda", "CgroupPermissions": "rwm"}]}),
            "",
        );
        assert!(has(&r, "host devices are refused"), "{r:?}");
        let r = refused(
            serde_json::json!({"OomScoreAdj": -1000, "Annotations": {"a": "b"}, "MaskedPaths": []}),
            "",
        );
        assert!(
            has(&r, "negative OOM score") && has(&r, "OCI annotations"),
            "{r:?}"
        );
        let r = refused(
            serde_json::json!({"RestartPolicy": {"Name": "always"}, "PortBindings": {"80/tcp": [{"HostPort": "80"}]}}),
            "",
        );
        assert!(
            has(&r, "restart policy `always`") && has(&r, "publishing ports"),
            "{r:?}"
        );
    }

    #[test]
    fn a_symlink_out_of_a_root_is_refused() {
        let Ok(root) = tempfile::tempdir() else {
            return;
        };
        let root_path = std::fs::canonicalize(root.path()).unwrap_or_default();
        let inside = root_path.join("ok");
        let _ = std::fs::create_dir(&inside);
        let link = root_path.join("escape");
        let _ = std::os::unix::fs::symlink("/etc", &link);
        let p = policy(vec![root_path.clone()]);
        let body = |src: &Path| {
            cli_body(serde_json::json!({"Binds": [format!("{}:/w:ro", src.display())]}))
        };
        let j = judge(body(&inside), "", &p, &labels());
        assert!(j.is_ok(), "{:?}", j.err());
        let r = judge(body(&link), "", &p, &labels())
            .err()
            .unwrap_or_default();
        assert!(r.iter().any(|r| r.contains("allowed bind root")), "{r:?}");
    }
}
