//! A container's `inspect` lowered to a one-service Compose document, so that every Compose
//! rule reads the running container as it reads a file.
//!
//! Every value that came from the daemon is written as a JSON string (a YAML double-quoted
//! scalar, `$` doubled so that interpolation leaves it alone): names, paths, images and options
//! can never break out of their scalar, whatever they hold. Nothing else from the daemon is
//! written, not even in comments. Each string is cut at [`MAX_TEXT`] bytes (a key at
//! [`MAX_KEY`]; keys are not interpolated, so their `$` stays single) and each list at
//! [`MAX_ITEMS`] items (a line says so). Environment values are never written (they hold
//! secrets); labels neither (the Compose labels are read by the caller, not rendered).

use std::collections::BTreeMap;

use bollard::models::{ContainerInspectResponse, HostConfig, MountPoint, PortBinding};

use super::super::profile::{cpus_text, yaml_string};

/// The longest string written (bytes); longer ones are cut at a character boundary.
pub const MAX_TEXT: usize = 4096;
/// The longest mapping key written (bytes): YAML allows implicit keys of at most 1024
/// characters, escapes included (at most 6 per byte).
pub const MAX_KEY: usize = 160;
/// The most items written per list (mounts, ports, devices, options).
pub const MAX_ITEMS: usize = 256;

/// A daemon string, bounded and quoted.
fn q(s: &str) -> String {
    if s.len() <= MAX_TEXT {
        return yaml_string(s);
    }
    let mut end = MAX_TEXT;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    yaml_string(&format!("{}…", &s[..end]))
}

/// A mapping key (Compose interpolates values, not keys: no `$` doubling), bounded and quoted.
fn qk(s: &str) -> String {
    let mut end = s.len().min(MAX_KEY);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let cut = if end < s.len() {
        format!("{}…", &s[..end])
    } else {
        s.to_string()
    };
    serde_json::to_string(&cut).unwrap_or_else(|_| "\"\"".to_string())
}

fn list(items: &[String]) -> String {
    let items: Vec<String> = items.iter().take(MAX_ITEMS).map(|s| q(s)).collect();
    format!("[{}]", items.join(", "))
}

/// A document being written: `key: value` lines under the service.
struct Doc {
    y: String,
}

impl Doc {
    fn key(&mut self, key: &str, value: &str) {
        self.y.push_str(&format!("    {key}: {value}\n"));
    }

    fn note_cut(&mut self, what: &str, n: usize) {
        if n > MAX_ITEMS {
            self.y.push_str(&format!(
                "    # {what}: {} more not shown (at most {MAX_ITEMS})\n",
                n - MAX_ITEMS
            ));
        }
    }
}

/// The container's name without the daemon's leading `/`.
pub fn container_name(c: &ContainerInspectResponse) -> String {
    let name = c.name.as_deref().unwrap_or_default();
    let name = name.strip_prefix('/').unwrap_or(name);
    if name.is_empty() {
        short_id(c.id.as_deref().unwrap_or_default())
    } else {
        name.to_string()
    }
}

/// The first 12 characters of an id, when it is hex (`?` otherwise).
pub fn short_id(id: &str) -> String {
    let id = id.strip_prefix("sha256:").unwrap_or(id);
    let short: String = id.chars().take(12).collect();
    if !short.is_empty() && short.chars().all(|c| c.is_ascii_hexdigit()) {
        short
    } else {
        "?".to_string()
    }
}

/// The Compose document of one container (see the module docs): one service named after it.
pub fn render(c: &ContainerInspectResponse) -> String {
    let empty_hc = HostConfig::default();
    let hc = c.host_config.as_ref().unwrap_or(&empty_hc);
    let config = c.config.as_ref();
    let mut d = Doc { y: String::new() };
    d.y.push_str(&format!(
        "# container {} as the Docker daemon reports it (`sandlint audit`)\n",
        short_id(c.id.as_deref().unwrap_or_default())
    ));
    d.y.push_str("services:\n");
    d.y.push_str(&format!("  {}:\n", qk(&container_name(c))));
    let image = config.and_then(|c| c.image.as_deref()).unwrap_or_default();
    d.key("image", &q(image));
    // The container's config is the image's merged with the run's: no user is root.
    match config
        .and_then(|c| c.user.as_deref())
        .filter(|u| !u.is_empty())
    {
        Some(u) => d.key("user", &q(u)),
        None => {
            d.y.push_str("    # no user set by the image or the run: root\n");
            d.key("user", "\"0\"");
        }
    }
    if hc.privileged == Some(true) {
        d.key("privileged", "true");
    }
    d.key("read_only", bool_text(hc.readonly_rootfs == Some(true)));
    strings(&mut d, "cap_add", hc.cap_add.as_deref());
    strings(&mut d, "cap_drop", hc.cap_drop.as_deref());
    let security_opt: Vec<String> = (hc.security_opt.iter().flatten())
        .map(|o| security_opt(o))
        .collect();
    strings(&mut d, "security_opt", Some(&security_opt));
    if hc.init == Some(true) {
        d.key("init", "true");
    }
    namespaces(&mut d, hc);
    limits(&mut d, hc);
    devices(&mut d, hc);
    tmpfs(&mut d, hc);
    mounts(&mut d, c.mounts.as_deref().unwrap_or_default());
    ports(&mut d, hc, config.and_then(|c| c.exposed_ports.as_deref()));
    other(&mut d, c, hc);
    networks(&mut d, hc)
}

fn bool_text(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

fn strings(d: &mut Doc, key: &str, items: Option<&[String]>) {
    let items = items.unwrap_or_default();
    if !items.is_empty() {
        d.key(key, &list(items));
        d.note_cut(key, items.len());
    }
}

/// A security option as Compose writes it: `seccomp=unconfined` → `seccomp:unconfined`. A
/// custom seccomp profile is stored by the daemon as its whole JSON text: written as
/// `seccomp:<custom profile>`.
fn security_opt(o: &str) -> String {
    let (key, value) = match o.split_once(['=', ':']) {
        Some((k, v)) => (k, Some(v)),
        None => (o, None),
    };
    match value {
        Some(v) if key == "seccomp" && v.trim_start().starts_with('{') => {
            "seccomp:<custom profile>".to_string()
        }
        Some(v) => format!("{key}:{v}"),
        None => key.to_string(),
    }
}

/// `pid`, `ipc`, `uts`, `userns_mode`, `cgroup`: written when the daemon reports a mode (an
/// empty mode is the default, private namespace).
fn namespaces(d: &mut Doc, hc: &HostConfig) {
    let modes = [
        ("pid", hc.pid_mode.clone()),
        ("ipc", hc.ipc_mode.clone()),
        ("uts", hc.uts_mode.clone()),
        ("userns_mode", hc.userns_mode.clone()),
        ("cgroup", hc.cgroupns_mode.as_ref().map(ToString::to_string)),
    ];
    for (key, mode) in modes {
        // `ipc: private`/`shareable` are the daemon's defaults, spelled out.
        if let Some(m) = mode.filter(|m| !m.is_empty()) {
            d.key(key, &q(&m));
        }
    }
}

/// Memory, CPU and pids limits; 0 (and a negative pids limit) is "unlimited": not written.
fn limits(d: &mut Doc, hc: &HostConfig) {
    let set = |v: Option<i64>| v.filter(|&v| v > 0);
    if let Some(m) = set(hc.memory) {
        d.key("mem_limit", &m.to_string());
    }
    if let Some(m) = hc.memory_swap.filter(|&m| m != 0) {
        d.key("memswap_limit", &m.to_string());
    }
    if let Some(n) = set(hc.nano_cpus) {
        d.key("cpus", &q(&cpus_text(n)));
    }
    if let Some(quota) = set(hc.cpu_quota) {
        d.key("cpu_quota", &quota.to_string());
        if let Some(p) = set(hc.cpu_period) {
            d.key("cpu_period", &p.to_string());
        }
    }
    if let Some(s) = set(hc.cpu_shares) {
        d.key("cpu_shares", &s.to_string());
    }
    if let Some(p) = set(hc.pids_limit) {
        d.key("pids_limit", &p.to_string());
    }
    if hc.oom_kill_disable == Some(true) {
        d.key("oom_kill_disable", "true");
    }
}

fn devices(d: &mut Doc, hc: &HostConfig) {
    let devices: Vec<String> = (hc.devices.iter().flatten())
        .map(|m| {
            let host = m.path_on_host.as_deref().unwrap_or_default();
            let inside = m.path_in_container.as_deref().unwrap_or(host);
            match m.cgroup_permissions.as_deref() {
                Some(p) if !p.is_empty() && p != "rwm" => format!("{host}:{inside}:{p}"),
                _ => format!("{host}:{inside}"),
            }
        })
        .collect();
    strings(d, "devices", Some(&devices));
}

fn tmpfs(d: &mut Doc, hc: &HostConfig) {
    let sorted: BTreeMap<&String, &String> = hc.tmpfs.iter().flatten().collect();
    let items: Vec<String> = (sorted.iter())
        .map(|(target, opts)| {
            if opts.is_empty() {
                (*target).clone()
            } else {
                format!("{target}:{opts}")
            }
        })
        .collect();
    strings(d, "tmpfs", Some(&items));
}

/// The mounts the container has (binds, volumes, tmpfs), in long syntax. A named or anonymous
/// volume is written without its name (it would need a top-level `volumes:` entry).
fn mounts(d: &mut Doc, mounts: &[MountPoint]) {
    if mounts.is_empty() {
        return;
    }
    d.y.push_str("    volumes:\n");
    for m in mounts.iter().take(MAX_ITEMS) {
        let typ = m.typ.as_deref().unwrap_or("bind");
        let target = m.destination.as_deref().unwrap_or_default();
        let read_only = m.rw == Some(false);
        match typ {
            "bind" => {
                d.y.push_str("      - type: bind\n");
                let source = m.source.as_deref().unwrap_or_default();
                d.y.push_str(&format!("        source: {}\n", q(source)));
            }
            "tmpfs" => d.y.push_str("      - type: tmpfs\n"),
            // volume, image, cluster, npipe: no host path the rules look at
            _ => d.y.push_str("      - type: volume\n"),
        }
        d.y.push_str(&format!("        target: {}\n", q(target)));
        if typ != "tmpfs" {
            d.y.push_str(&format!("        read_only: {}\n", bool_text(read_only)));
        }
        if let Some(p) = m.propagation.as_deref().filter(|p| !p.is_empty())
            && typ == "bind"
        {
            d.y.push_str(&format!("        bind:\n          propagation: {}\n", q(p)));
        }
    }
    d.note_cut("volumes", mounts.len());
}

/// Published ports, long syntax, sorted: `host_ip` only when bound to one address; with
/// `--publish-all`, every exposed port on all interfaces.
fn ports(d: &mut Doc, hc: &HostConfig, exposed: Option<&[String]>) {
    let mut out: Vec<(String, String, String, String)> = Vec::new();
    let bindings: BTreeMap<&String, &Option<Vec<PortBinding>>> =
        hc.port_bindings.iter().flatten().collect();
    for (port, binds) in bindings {
        let (target, protocol) = port.split_once('/').unwrap_or((port.as_str(), "tcp"));
        for b in binds.iter().flatten() {
            let host_ip = b.host_ip.clone().unwrap_or_default();
            let published = b.host_port.clone().unwrap_or_default();
            let item = (target.to_string(), published, host_ip, protocol.to_string());
            if !out.contains(&item) {
                out.push(item);
            }
        }
    }
    if hc.publish_all_ports == Some(true) {
        for port in exposed.unwrap_or_default() {
            let (target, protocol) = port.split_once('/').unwrap_or((port.as_str(), "tcp"));
            if !out.iter().any(|o| o.0 == target && o.3 == protocol) {
                out.push((
                    target.to_string(),
                    String::new(),
                    String::new(),
                    protocol.into(),
                ));
            }
        }
    }
    if out.is_empty() {
        return;
    }
    d.y.push_str("    ports:\n");
    for (target, published, host_ip, protocol) in out.iter().take(MAX_ITEMS) {
        d.y.push_str(&format!("      - target: {}\n", number_or_string(target)));
        if !published.is_empty() {
            d.y.push_str(&format!("        published: {}\n", q(published)));
        }
        if !host_ip.is_empty() {
            d.y.push_str(&format!("        host_ip: {}\n", q(host_ip)));
        }
        d.y.push_str(&format!("        protocol: {}\n", q(protocol)));
    }
    d.note_cut("ports", out.len());
}

fn number_or_string(s: &str) -> String {
    if !s.is_empty() && s.len() <= 5 && s.bytes().all(|b| b.is_ascii_digit()) {
        s.to_string()
    } else {
        q(s)
    }
}

/// Restart policy, healthcheck, sysctls, logging, cgroup parent.
fn other(d: &mut Doc, c: &ContainerInspectResponse, hc: &HostConfig) {
    if let Some(policy) = &hc.restart_policy
        && let Some(name) = policy.name.as_ref().map(ToString::to_string)
        && !name.is_empty()
    {
        let value = match policy.maximum_retry_count {
            Some(n) if name == "on-failure" && n > 0 => format!("on-failure:{n}"),
            _ => name,
        };
        d.key("restart", &q(&value));
    }
    let health = c.config.as_ref().and_then(|c| c.healthcheck.as_ref());
    if let Some(test) = health
        .and_then(|h| h.test.as_deref())
        .filter(|t| !t.is_empty())
    {
        d.y.push_str("    healthcheck:\n");
        d.y.push_str(&format!("      test: {}\n", list(test)));
    }
    let sysctls: BTreeMap<&String, &String> = hc.sysctls.iter().flatten().collect();
    if !sysctls.is_empty() {
        d.y.push_str("    sysctls:\n");
        for (k, v) in sysctls.iter().take(MAX_ITEMS) {
            d.y.push_str(&format!("      {}: {}\n", qk(k), q(v)));
        }
    }
    if let Some(driver) = (hc.log_config.as_ref()).and_then(|l| l.typ.as_deref())
        && !driver.is_empty()
    {
        d.y.push_str(&format!("    logging:\n      driver: {}\n", q(driver)));
    }
    if let Some(parent) = hc.cgroup_parent.as_deref().filter(|p| !p.is_empty()) {
        d.key("cgroup_parent", &q(parent));
    }
}

/// `network_mode` for the built-in modes (`host`, `none`, `bridge`, `container:…`); a
/// user-defined network as `networks:` with a top-level external network. Ends the document.
fn networks(d: &mut Doc, hc: &HostConfig) -> String {
    let mode = hc.network_mode.as_deref().unwrap_or("default");
    let builtin =
        matches!(mode, "host" | "none" | "bridge" | "default") || mode.starts_with("container:");
    if builtin {
        let mode = if mode == "default" { "bridge" } else { mode };
        d.key("network_mode", &q(mode));
        return std::mem::take(&mut d.y);
    }
    d.y.push_str(&format!("    networks: [{}]\n", q(mode)));
    d.y.push_str(&format!("networks:\n  {}:\n    external: true\n", qk(mode)));
    std::mem::take(&mut d.y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::{ContainerConfig, DeviceMapping, PortMap};

    fn inspect(name: &str, image: &str, hc: HostConfig) -> ContainerInspectResponse {
        ContainerInspectResponse {
            id: Some("0123456789abcdef0123".to_string()),
            name: Some(format!("/{name}")),
            config: Some(ContainerConfig {
                image: Some(image.to_string()),
                env: Some(vec!["TOKEN=hunter2-secret".to_string()]),
                ..Default::default()
            }),
            host_config: Some(hc),
            ..Default::default()
        }
    }

    fn load(doc: &str) -> crate::compose::model::ComposeFile {
        let model = crate::compose::load(doc, &crate::compose::Vars::default());
        assert!(model.errors.is_empty(), "{doc}\n{:?}", model.errors);
        model
    }

    /// Names, images and paths from the daemon stay inside their scalars: whatever they hold,
    /// the document is one service with exactly those values, and `$` is not interpolated.
    #[test]
    fn hostile_text_stays_in_its_scalar() {
        let name = "web\"\n  evil:\n    privileged: true\n#${HOME}";
        let image = "img:1\nprivileged: true $X";
        let hc = HostConfig {
            binds: None,
            security_opt: Some(vec!["label=disable\n    privileged: true".to_string()]),
            ..Default::default()
        };
        let doc = render(&inspect(name, image, hc));
        let model = load(&doc);
        assert_eq!(model.services.len(), 1, "{doc}");
        let s = &model.services[0];
        assert_eq!(s.name.value, name);
        assert_eq!(s.image.as_ref().unwrap().value.known(), Some(image));
        assert!(s.privileged.is_none(), "{doc}");
        assert!(
            !doc.contains("hunter2"),
            "environment values are never written"
        );
    }

    #[test]
    fn settings_are_lowered() {
        let mut ports = PortMap::new();
        ports.insert(
            "80/tcp".to_string(),
            Some(vec![PortBinding {
                host_ip: Some("127.0.0.1".to_string()),
                host_port: Some("8080".to_string()),
            }]),
        );
        let hc = HostConfig {
            privileged: Some(true),
            readonly_rootfs: Some(true),
            cap_add: Some(vec!["CAP_SYS_ADMIN".to_string()]),
            cap_drop: Some(vec!["ALL".to_string()]),
            security_opt: Some(vec![
                "no-new-privileges".to_string(),
                format!("seccomp={{\"defaultAction\":\"{}\"}}", "x".repeat(10_000)),
            ]),
            pid_mode: Some("host".to_string()),
            memory: Some(64 << 20),
            nano_cpus: Some(1_500_000_000),
            pids_limit: Some(-1),
            devices: Some(vec![DeviceMapping {
                path_on_host: Some("/dev/fuse".to_string()),
                path_in_container: Some("/dev/fuse".to_string()),
                cgroup_permissions: Some("rwm".to_string()),
            }]),
            port_bindings: Some(ports),
            network_mode: Some("proj_default".to_string()),
            ..Default::default()
        };
        let mut c = inspect("web", "app:1", hc);
        c.mounts = Some(vec![MountPoint {
            typ: Some("bind".to_string()),
            source: Some("/var/run/docker.sock".to_string()),
            destination: Some("/var/run/docker.sock".to_string()),
            rw: Some(true),
            ..Default::default()
        }]);
        let doc = render(&c);
        let s = &load(&doc).services[0];
        let texts = |v: &[crate::compose::model::SValue]| -> Vec<String> {
            v.iter().map(|x| x.value.text().to_string()).collect()
        };
        assert_eq!(
            texts(&s.security_opt),
            ["no-new-privileges", "seccomp:<custom profile>"]
        );
        assert_eq!(texts(&s.cap_add), ["CAP_SYS_ADMIN"]);
        assert_eq!(s.pid.as_ref().unwrap().value.text(), "host");
        assert_eq!(s.mem_limit.as_ref().unwrap().value.text(), "67108864");
        assert_eq!(s.cpus.as_ref().unwrap().value.text(), "1.5");
        assert!(s.pids_limit.is_none(), "-1 is unlimited: {doc}");
        assert_eq!(texts(&s.devices), ["/dev/fuse:/dev/fuse"]);
        assert_eq!(
            s.ports[0].host_ip.as_ref().unwrap().value.text(),
            "127.0.0.1"
        );
        assert_eq!(s.volumes.len(), 1);
        assert_eq!(s.networks.len(), 1, "{doc}");
        assert!(
            doc.len() < 4000,
            "the seccomp profile is not copied: {}",
            doc.len()
        );
    }

    #[test]
    fn long_text_and_lists_are_cut() {
        let hc = HostConfig {
            cap_add: Some((0..1000).map(|i| format!("CAP_{i}")).collect()),
            ..Default::default()
        };
        let doc = render(&inspect(&"n".repeat(100_000), "i", hc));
        let s = &load(&doc).services[0];
        assert_eq!(s.cap_add.len(), MAX_ITEMS);
        assert!(doc.contains(&format!("cap_add: {} more not shown", 1000 - MAX_ITEMS)));
        assert_eq!(s.name.value.len(), MAX_KEY + '…'.len_utf8());
    }

    #[test]
    fn control_characters_in_a_long_key() {
        let name = "\u{1}".repeat(10_000);
        let doc = render(&inspect(&name, "i", HostConfig::default()));
        assert_eq!(
            load(&doc).services[0].name.value,
            format!("{}…", &name[..MAX_KEY])
        );
    }

    #[test]
    fn short_ids() {
        assert_eq!(short_id("sha256:0123456789abcdef"), "0123456789ab");
        assert_eq!(short_id("../etc"), "?");
    }
}
