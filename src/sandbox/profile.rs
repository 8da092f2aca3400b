//! The hardened container profile and its two renderings: the Engine API create body (what runs)
//! and a Compose service (what the rules check before anything runs). Pure: no daemon, no I/O.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use bollard::models::{
    ContainerCreateBody, DeviceMapping, HostConfig, HostConfigCgroupnsModeEnum,
    HostConfigLogConfig, Mount, MountType,
};

/// Label set on every container sandlint creates (`--gc` removes leftovers carrying it).
pub const LABEL_MANAGED: &str = "dev.sandlint.managed";
/// Label naming the process that owns a container: `<hostname>:<pid>`.
pub const LABEL_OWNER: &str = "dev.sandlint.owner";
/// Label holding the container's deadline (Unix seconds): past it, any `sandlint run` or
/// `--gc` removes the container, whoever owns it.
pub const LABEL_DEADLINE: &str = "dev.sandlint.deadline";
/// The reason the rendered Compose service gives for the `--workspace` mount.
pub const WORKSPACE_REASON: &str = "--workspace is the one writable mount";
/// The reason the rendered Compose service gives for a project scratch mount.
pub const SCRATCH_REASON: &str =
    "a project subdirectory holding none of the files the run is built from";
/// Where `--workspace DIR` is mounted (read-write) and the working directory when it is.
pub const WORKSPACE: &str = "/workspace";
/// Where `--file PATH` is mounted (read-only).
pub const CODE_DIR: &str = "/sandlint";
/// The user when neither the command line, the Compose service nor the image names a non-root one.
pub const NOBODY: &str = "65534:65534";

/// Default limits.
pub const DEFAULT_MEMORY: i64 = 512 * 1024 * 1024;
pub const DEFAULT_NANO_CPUS: i64 = 1_000_000_000;
pub const DEFAULT_PIDS: i64 = 256;
pub const DEFAULT_TMPFS_SIZE: i64 = 64 * 1024 * 1024;

/// A bind mount of a host path.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BindMount {
    /// Absolute host path.
    pub source: PathBuf,
    /// Absolute container path.
    pub target: String,
    pub read_only: bool,
    /// Why it exists (`workspace`, `code`, `mount`, `compose`): the `--workspace` mount is the one
    /// writable mount the user asked for, and is marked so in the rendered Compose service.
    pub origin: MountOrigin,
}

/// Where a bind mount comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MountOrigin {
    Workspace,
    Code,
    Mount,
    Compose,
    /// A writable Compose bind mount of a subdirectory of the Compose project that holds none
    /// of the files the run is built from: sandlint accepts it as scratch space (`./workspace`).
    Scratch,
}

/// A tmpfs mount.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Tmpfs {
    pub target: String,
    /// Mount options as Docker takes them (`size=67108864,noexec,nosuid,nodev`).
    pub options: String,
}

/// Everything sandlint decides about a container. [`HardenedProfile::new`] is the hardened
/// default; the Compose service and flags change fields; the rules judge the result.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HardenedProfile {
    pub image: String,
    /// `None` keeps the image's `ENTRYPOINT`; `Some([""])` resets it.
    pub entrypoint: Option<Vec<String>>,
    /// `None` keeps the image's `CMD`.
    pub command: Option<Vec<String>>,
    /// `uid[:gid]` or a user name.
    pub user: String,
    /// `KEY=VALUE`.
    pub env: Vec<String>,
    /// Keys of [`HardenedProfile::env`] whose value is this process's (`-e KEY`, a Compose
    /// `environment` entry without a value): rendered for the rules as `KEY` (pass-through,
    /// not a literal) and never printed.
    pub env_from_host: Vec<String>,
    /// The OCI runtime; `None`: the daemon's default.
    pub runtime: Option<String>,
    pub working_dir: Option<String>,
    pub read_only_rootfs: bool,
    pub privileged: bool,
    pub cap_drop: Vec<String>,
    pub cap_add: Vec<String>,
    pub security_opt: Vec<String>,
    pub network_mode: String,
    /// Bytes.
    pub memory: i64,
    /// Bytes of memory + swap; equal to `memory` means no swap.
    pub memory_swap: i64,
    pub nano_cpus: i64,
    pub pids_limit: i64,
    pub init: bool,
    pub tmpfs: Vec<Tmpfs>,
    pub mounts: Vec<BindMount>,
    /// `host[:container[:perms]]`.
    pub devices: Vec<String>,
    pub pid_mode: Option<String>,
    pub ipc_mode: Option<String>,
    /// `uts: host` (the Compose service's); `None`: a private UTS namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uts_mode: Option<String>,
    /// `cgroup: host|private` (the Compose service's); `None`: the daemon's default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cgroupns_mode: Option<String>,
    /// `userns_mode: host` (the Compose service's): no user-namespace remapping even when the
    /// daemon remaps; `None`: the daemon's setting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub userns_mode: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// Rules the Compose file suppresses for this service (inline comments or `x-sandlint`),
    /// with their reasons: the rendered service carries them as `x-sandlint`, so `run` accepts
    /// what `check` accepts.
    pub accepted: Vec<(String, String)>,
    /// The user is the image's default, not resolved yet (no daemon was asked): the display
    /// ([`HardenedProfile::to_compose_masked`]) says "image default" instead of `user`.
    pub user_unresolved: bool,
    /// Keep the command's stdin open and feed it (`docker run -i`): `OpenStdin`, `StdinOnce`
    /// (closed at the end of the input) and an attached stdin stream.
    pub stdin: bool,
    /// DNS servers of the container (`--dns`); empty: the daemon's. Set by the egress
    /// allowlist to a server that answers nothing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns: Vec<String>,
}

impl HardenedProfile {
    /// The hardened defaults for `image`.
    pub fn new(image: impl Into<String>) -> Self {
        let mut labels = BTreeMap::new();
        labels.insert(LABEL_MANAGED.to_string(), "true".to_string());
        HardenedProfile {
            image: image.into(),
            accepted: Vec::new(),
            user_unresolved: false,
            stdin: false,
            dns: Vec::new(),
            entrypoint: None,
            command: None,
            user: NOBODY.to_string(),
            env: Vec::new(),
            env_from_host: Vec::new(),
            runtime: None,
            working_dir: None,
            read_only_rootfs: true,
            privileged: false,
            cap_drop: vec!["ALL".to_string()],
            cap_add: Vec::new(),
            security_opt: vec!["no-new-privileges:true".to_string()],
            network_mode: "none".to_string(),
            memory: DEFAULT_MEMORY,
            memory_swap: DEFAULT_MEMORY,
            nano_cpus: DEFAULT_NANO_CPUS,
            pids_limit: DEFAULT_PIDS,
            init: true,
            tmpfs: vec![tmp_tmpfs(DEFAULT_TMPFS_SIZE)],
            mounts: Vec::new(),
            devices: Vec::new(),
            pid_mode: None,
            ipc_mode: None,
            uts_mode: None,
            cgroupns_mode: None,
            userns_mode: None,
            labels,
        }
    }

    /// Sets the memory limit and makes swap equal to it (no swap).
    pub fn set_memory(&mut self, bytes: i64) {
        self.memory = bytes;
        self.memory_swap = bytes;
    }

    /// The Engine API body that creates this container.
    pub fn create_body(&self) -> ContainerCreateBody {
        let non_empty = |v: &[String]| (!v.is_empty()).then(|| v.to_vec());
        let host_config = HostConfig {
            privileged: Some(self.privileged),
            readonly_rootfs: Some(self.read_only_rootfs),
            cap_drop: non_empty(&self.cap_drop),
            cap_add: non_empty(&self.cap_add),
            security_opt: non_empty(&self.security_opt),
            network_mode: Some(self.network_mode.clone()),
            memory: Some(self.memory),
            memory_swap: Some(self.memory_swap),
            nano_cpus: Some(self.nano_cpus),
            pids_limit: Some(self.pids_limit),
            init: Some(self.init),
            tmpfs: (!self.tmpfs.is_empty()).then(|| {
                self.tmpfs
                    .iter()
                    .map(|t| (t.target.clone(), t.options.clone()))
                    .collect::<HashMap<_, _>>()
            }),
            mounts: (!self.mounts.is_empty()).then(|| {
                self.mounts
                    .iter()
                    .map(|m| Mount {
                        target: Some(m.target.clone()),
                        source: Some(m.source.to_string_lossy().into_owned()),
                        typ: Some(MountType::BIND),
                        read_only: Some(m.read_only),
                        ..Mount::default()
                    })
                    .collect()
            }),
            devices: (!self.devices.is_empty())
                .then(|| self.devices.iter().map(|d| device_mapping(d)).collect()),
            pid_mode: self.pid_mode.clone(),
            ipc_mode: self.ipc_mode.clone(),
            uts_mode: self.uts_mode.clone(),
            userns_mode: self.userns_mode.clone(),
            cgroupns_mode: self.cgroupns_mode.as_deref().and_then(|m| match m {
                "host" => Some(HostConfigCgroupnsModeEnum::HOST),
                "private" => Some(HostConfigCgroupnsModeEnum::PRIVATE),
                _ => None,
            }),
            runtime: self.runtime.clone(),
            dns: non_empty(&self.dns),
            // Output goes through the attach stream only: an output flood must not fill the
            // daemon's disk with a json-file log.
            log_config: Some(HostConfigLogConfig {
                typ: Some("none".to_string()),
                config: None,
            }),
            ..HostConfig::default()
        };
        ContainerCreateBody {
            image: Some(self.image.clone()),
            entrypoint: self.entrypoint.clone(),
            cmd: self.command.clone(),
            user: Some(self.user.clone()),
            env: non_empty(&self.env),
            working_dir: self.working_dir.clone(),
            labels: Some(
                self.labels
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
            attach_stdin: Some(self.stdin),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            tty: Some(false),
            open_stdin: Some(self.stdin),
            stdin_once: self.stdin.then_some(true),
            network_disabled: Some(self.network_mode == "none"),
            host_config: Some(host_config),
            ..ContainerCreateBody::default()
        }
    }

    /// This profile as a Compose file with one service, `service`, for the rules to check. The
    /// `--workspace` mount (writable by request) carries an inline suppression of
    /// `writable-bind-mount` saying so.
    pub fn to_compose(&self, service: &str) -> String {
        self.render(service, false)
    }

    /// [`HardenedProfile::to_compose`] for display (`--dry-run`): the value of every variable
    /// that came from this process's environment or looks secret is masked.
    pub fn to_compose_masked(&self, service: &str) -> String {
        self.render(service, true)
    }

    fn render(&self, service: &str, mask: bool) -> String {
        let q = |s: &str| yaml_string(s);
        let list = |items: &[String]| {
            let items: Vec<String> = items.iter().map(|s| q(s)).collect();
            format!("[{}]", items.join(", "))
        };
        let mut y = String::new();
        y.push_str("# the container `sandlint run` plans to create\n");
        y.push_str("services:\n");
        y.push_str(&format!("  {}:\n", q(service)));
        if !self.accepted.is_empty() {
            let rules: Vec<String> = self.accepted.iter().map(|(r, _)| r.clone()).collect();
            let mut reasons: Vec<&str> =
                self.accepted.iter().map(|(_, why)| why.as_str()).collect();
            reasons.dedup();
            y.push_str(&format!(
                "    x-sandlint: {{ ignore: {}, reason: {} }}\n",
                list(&rules),
                q(&reasons.join("; "))
            ));
        }
        y.push_str(&format!("    image: {}\n", q(&self.image)));
        if mask && self.user_unresolved {
            y.push_str(&format!(
                "    # user: image default (the image's non-root USER, else {NOBODY}; not resolved)\n"
            ));
        } else {
            y.push_str(&format!("    user: {}\n", q(&self.user)));
        }
        y.push_str(&format!("    privileged: {}\n", self.privileged));
        y.push_str(&format!("    read_only: {}\n", self.read_only_rootfs));
        if !self.cap_drop.is_empty() {
            y.push_str(&format!("    cap_drop: {}\n", list(&self.cap_drop)));
        }
        if !self.cap_add.is_empty() {
            y.push_str(&format!("    cap_add: {}\n", list(&self.cap_add)));
        }
        if !self.security_opt.is_empty() {
            y.push_str(&format!("    security_opt: {}\n", list(&self.security_opt)));
        }
        y.push_str(&format!("    network_mode: {}\n", q(&self.network_mode)));
        y.push_str(&format!("    mem_limit: {}\n", self.memory));
        y.push_str(&format!("    memswap_limit: {}\n", self.memory_swap));
        y.push_str(&format!("    cpus: {}\n", cpus_text(self.nano_cpus)));
        y.push_str(&format!("    pids_limit: {}\n", self.pids_limit));
        y.push_str(&format!("    init: {}\n", self.init));
        if let Some(pid) = &self.pid_mode {
            y.push_str(&format!("    pid: {}\n", q(pid)));
        }
        if let Some(ipc) = &self.ipc_mode {
            y.push_str(&format!("    ipc: {}\n", q(ipc)));
        }
        if let Some(uts) = &self.uts_mode {
            y.push_str(&format!("    uts: {}\n", q(uts)));
        }
        if let Some(cgroup) = &self.cgroupns_mode {
            y.push_str(&format!("    cgroup: {}\n", q(cgroup)));
        }
        if let Some(userns) = &self.userns_mode {
            y.push_str(&format!("    userns_mode: {}\n", q(userns)));
        }
        if !self.devices.is_empty() {
            y.push_str(&format!("    devices: {}\n", list(&self.devices)));
        }
        if !self.tmpfs.is_empty() {
            let t: Vec<String> = self
                .tmpfs
                .iter()
                .map(|t| format!("{}:{}", t.target, t.options))
                .collect();
            y.push_str(&format!("    tmpfs: {}\n", list(&t)));
        }
        if !self.mounts.is_empty() {
            y.push_str("    volumes:\n");
            for m in &self.mounts {
                let reason = match m.origin {
                    MountOrigin::Workspace => Some(WORKSPACE_REASON),
                    MountOrigin::Scratch => Some(SCRATCH_REASON),
                    _ => None,
                };
                if let Some(reason) = reason
                    && !m.read_only
                {
                    y.push_str(&format!(
                        "      # sandlint ignore=writable-bind-mount reason=\"{reason}\"\n"
                    ));
                }
                y.push_str("      - type: bind\n");
                y.push_str(&format!(
                    "        source: {}\n",
                    q(&m.source.to_string_lossy())
                ));
                y.push_str(&format!("        target: {}\n", q(&m.target)));
                y.push_str(&format!("        read_only: {}\n", m.read_only));
            }
        }
        if !self.env.is_empty() {
            y.push_str("    environment:\n");
            for e in &self.env {
                let key = e.split_once('=').map_or(e.as_str(), |(k, _)| k);
                if self.env_from_host.iter().any(|h| h == key) {
                    // pass-through: the rules see no literal, and the value is never printed
                    y.push_str(&format!("      - {}\n", q(key)));
                } else if mask && looks_secret(e) {
                    y.push_str(&format!("      - {}\n", q(&format!("{key}=****"))));
                } else {
                    y.push_str(&format!("      - {}\n", q(e)));
                }
            }
        }
        y
    }
}

/// Whether a `KEY=VALUE` entry looks like it holds a secret (a credential-shaped name, or a
/// URL with a password).
fn looks_secret(entry: &str) -> bool {
    let (key, value) = entry.split_once('=').unwrap_or((entry, ""));
    let key = key.to_ascii_uppercase();
    let secret_name = [
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "PASS",
        "PWD",
        "KEY",
        "CREDENTIAL",
        "AUTH",
        "PRIVATE",
        "COOKIE",
        "SESSION",
        "SIGNATURE",
        "DSN",
    ]
    .iter()
    .any(|w| key.contains(w));
    // `scheme://user:password@host`
    let url_password = value.split_once("://").is_some_and(|(_, rest)| {
        rest.split(['/', '?', '#']).next().is_some_and(|authority| {
            authority
                .rsplit_once('@')
                .is_some_and(|(u, _)| u.contains(':'))
        })
    });
    secret_name || url_password
}

/// The default `/tmp`: size-limited, no executables, no setuid, no devices.
pub fn tmp_tmpfs(size: i64) -> Tmpfs {
    Tmpfs {
        target: "/tmp".to_string(),
        options: format!("size={size},noexec,nosuid,nodev"),
    }
}

/// A JSON string is a YAML double-quoted scalar; `$` is doubled so Compose interpolation
/// leaves it alone.
pub(in crate::sandbox) fn yaml_string(s: &str) -> String {
    serde_json::to_string(&s.replace('$', "$$")).unwrap_or_else(|_| "\"\"".to_string())
}

/// `1500000000` → `1.5` (also the audit's rendering of a container's `NanoCpus`).
pub(in crate::sandbox) fn cpus_text(nano: i64) -> String {
    let whole = nano / 1_000_000_000;
    let frac = nano % 1_000_000_000;
    if frac == 0 {
        format!("{whole}")
    } else {
        let f = format!("{frac:09}");
        format!("{whole}.{}", f.trim_end_matches('0'))
    }
}

fn device_mapping(spec: &str) -> DeviceMapping {
    let mut parts = spec.splitn(3, ':');
    let host = parts.next().unwrap_or_default().to_string();
    let container = parts.next().map_or_else(|| host.clone(), str::to_string);
    let perms = parts.next().unwrap_or("rwm").to_string();
    DeviceMapping {
        path_on_host: Some(host),
        path_in_container: Some(container),
        cgroup_permissions: Some(perms),
    }
}

/// Parses a byte size: `512m`, `1g`, `64k`, `1048576`, `1.5g` (binary units, like Docker).
pub fn parse_bytes(s: &str) -> Option<i64> {
    let t = s.trim().to_ascii_lowercase();
    let t = t.strip_suffix('b').unwrap_or(&t);
    let t = t.strip_suffix('i').unwrap_or(t);
    let (num, mult) = match t.chars().last()? {
        'k' => (&t[..t.len() - 1], 1024_f64),
        'm' => (&t[..t.len() - 1], 1024_f64 * 1024.0),
        'g' => (&t[..t.len() - 1], 1024_f64 * 1024.0 * 1024.0),
        't' => (&t[..t.len() - 1], 1024_f64 * 1024.0 * 1024.0 * 1024.0),
        _ => (t, 1.0),
    };
    let n: f64 = num.trim().parse().ok()?;
    if !n.is_finite() || n < 0.0 {
        return None;
    }
    let bytes = (n * mult).round();
    (bytes <= i64::MAX as f64).then_some(bytes as i64)
}

/// Parses a CPU count (`1`, `0.5`) into nano-CPUs.
pub fn parse_cpus(s: &str) -> Option<i64> {
    let n: f64 = s.trim().parse().ok()?;
    (n.is_finite() && n > 0.0 && n <= 1024.0).then(|| (n * 1e9).round() as i64)
}

/// Parses a duration: `30s`, `2m`, `500ms`, `1h`, or plain seconds (`30`, `1.5`).
pub fn parse_duration(s: &str) -> Option<std::time::Duration> {
    let t = s.trim();
    let (num, unit) = if let Some(n) = t.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60.0)
    } else if let Some(n) = t.strip_suffix('h') {
        (n, 3600.0)
    } else {
        (t, 1.0)
    };
    let n: f64 = num.trim().parse().ok()?;
    (n.is_finite() && n > 0.0 && n * unit < 1e9)
        .then(|| std::time::Duration::from_secs_f64(n * unit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(parse_bytes("512m"), Some(512 * 1024 * 1024));
        assert_eq!(parse_bytes("1G"), Some(1024 * 1024 * 1024));
        assert_eq!(parse_bytes("64MiB"), Some(64 * 1024 * 1024));
        assert_eq!(parse_bytes("1000"), Some(1000));
        assert_eq!(parse_bytes("x"), None);
        assert_eq!(parse_bytes("-1m"), None);
        assert_eq!(parse_cpus("1.5"), Some(1_500_000_000));
        assert_eq!(parse_cpus("0"), None);
        assert_eq!(cpus_text(1_500_000_000), "1.5");
        assert_eq!(cpus_text(2_000_000_000), "2");
        assert_eq!(
            parse_duration("2s"),
            Some(std::time::Duration::from_secs(2))
        );
        assert_eq!(
            parse_duration("500ms"),
            Some(std::time::Duration::from_millis(500))
        );
        assert_eq!(
            parse_duration("1m"),
            Some(std::time::Duration::from_secs(60))
        );
        assert_eq!(parse_duration("0s"), None);
    }

    #[test]
    fn yaml_strings_escape_interpolation() {
        assert_eq!(yaml_string("a$B\"c"), r#""a$$B\"c""#);
    }
}
