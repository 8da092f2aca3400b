//! The typed Compose model that rules read. Built from the YAML node tree after `<<` merges
//! and interpolation. Every field keeps its span; a value that depends on an unset variable is
//! [`Value::Unknown`].

use crate::source::{Span, Spanned};

/// A scalar after interpolation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// The value is fully known (interpolation done, `$$` unescaped). YAML `null`/`~`/empty is `Known("")`
    /// only where Compose treats it as a string; absent keys are `None` in the model instead.
    Known(String),
    /// The value depends on a variable that is not set and has no default: the raw text as written.
    Unknown(String),
}

impl Value {
    /// The known value, or `None` when it depends on an unset variable.
    pub fn known(&self) -> Option<&str> {
        match self {
            Value::Known(s) => Some(s),
            Value::Unknown(_) => None,
        }
    }

    /// The text as best known: the value, or the raw text for an unknown value.
    pub fn text(&self) -> &str {
        match self {
            Value::Known(s) | Value::Unknown(s) => s,
        }
    }

    /// Compose booleans: `true`/`false` (YAML 1.1 spellings `yes`/`no`/`on`/`off` too, any case).
    /// `None` for unknown values and anything else.
    pub fn as_bool(&self) -> Option<bool> {
        match self.known()?.to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "on" => Some(true),
            "false" | "no" | "n" | "off" => Some(false),
            _ => None,
        }
    }
}

/// A spanned scalar value.
pub type SValue = Spanned<Value>;

/// One Compose file, loaded.
#[derive(Debug, Clone, Default)]
pub struct ComposeFile {
    /// The top-level `services` key, if present.
    pub services_key: Option<Span>,
    /// Services in file order.
    pub services: Vec<Service>,
    /// Top-level `networks`, in file order.
    pub networks: Vec<Network>,
    /// Top-level `volumes` definitions (merged across the project's files), by name.
    pub volumes: VolumeDefs,
    /// Located errors (not YAML, not a mapping, `services` not a mapping, alias budget exceeded, ...).
    /// Loading goes on where it can.
    pub errors: Vec<LoadError>,
    /// Top-level `include:` entries.
    pub includes: Vec<Include>,
    /// Where expansion ran past a byte budget (alias expansion, interpolation, a `.env` file):
    /// reported as `expansion-limit-exceeded`; the value there is treated as unknown.
    pub limits: Vec<ExpansionLimit>,
    /// References that could not be followed (an `extends`/`include` file that does not exist,
    /// an `extends` service that is not there, a cycle): coverage gaps, reported as findings.
    pub unresolved: Vec<LoadError>,
    /// References that leave the project boundary and were not read (`SLE006`).
    pub outside: Vec<LoadError>,
    /// References to files that could not be read: not a regular file (FIFO, device, ...),
    /// too large, or an I/O error (`SLE007`).
    pub unreadable: Vec<LoadError>,
}

/// One `include:` entry (short form: a path; long form: `path:` a path or a list of paths).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Include {
    /// The whole entry.
    pub span: Span,
    pub paths: Vec<SValue>,
}

/// `command`/`entrypoint`: exec form (a list) or a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandLine {
    List(Vec<SValue>),
    String(SValue),
}

/// A service's `x-sandlint` extension: rules to suppress for the whole service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XSandlint {
    /// The `x-sandlint` key.
    pub span: Span,
    /// Rule names or codes (a list, or one string).
    pub ignore: Vec<SValue>,
    pub reason: Option<SValue>,
}

/// `extends: name` or `extends: { service: name, file: path }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extends {
    /// The `extends` key.
    pub span: Span,
    pub service: Option<SValue>,
    pub file: Option<SValue>,
}

/// A byte budget that expansion ran past, and where.
#[derive(Debug, Clone)]
pub struct ExpansionLimit {
    pub error: LoadError,
    /// The file the span is in when it is not one of the project's files (a `.env` file);
    /// `None`: the project file numbered [`Span::file`].
    pub file: Option<crate::source::FileRef>,
}

impl From<LoadError> for ExpansionLimit {
    fn from(error: LoadError) -> Self {
        Self { error, file: None }
    }
}

/// A located load error. The message starts lowercase and has no trailing period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub message: String,
    pub span: Span,
    pub help: Option<String>,
}

/// A top-level network definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    pub name: Spanned<String>,
    pub internal: Option<SValue>,
    pub external: Option<SValue>,
    pub driver: Option<SValue>,
}

/// One service, after `<<` merges (merged keys keep the span where they were written, e.g. in the anchor).
#[derive(Debug, Clone, Default)]
pub struct Service {
    /// The service name (the mapping key).
    pub name: Spanned<String>,
    /// The service's mapping value.
    pub span: Span,
    /// Every key of the service mapping after merges, in order (for unknown-key checks).
    pub keys: Vec<Spanned<String>>,
    /// `extends:`, if any (already applied when the service comes from a project load).
    pub extends: Option<Extends>,
    /// `x-sandlint: { ignore: [rule, ...], reason: "..." }`: suppressions for this service.
    pub x_sandlint: Option<XSandlint>,
    /// Keys tagged `!reset`: absent here, and they remove what an earlier file set.
    pub reset_keys: Vec<String>,
    /// Keys tagged `!override`: they replace what an earlier file set instead of merging.
    pub override_keys: Vec<String>,
    /// Keys of [`Service::keys`] whose value is empty: YAML null, `[]` or `{}` (they set
    /// nothing).
    pub empty_keys: Vec<String>,
    pub image: Option<SValue>,
    /// Boxed: most services have none (280 bytes inline in every service otherwise).
    pub build: Option<Box<Build>>,
    pub user: Option<SValue>,
    pub privileged: Option<SValue>,
    pub read_only: Option<SValue>,
    pub security_opt: Vec<SValue>,
    pub cap_add: Vec<SValue>,
    pub cap_drop: Vec<SValue>,
    pub network_mode: Option<SValue>,
    /// `networks:` (list or mapping form): the network names.
    pub networks: Vec<Spanned<String>>,
    /// The span of the `networks:` key, if present.
    pub networks_key: Option<Span>,
    pub ports: Vec<Port>,
    pub volumes: Vec<Volume>,
    pub mem_limit: Option<SValue>,
    pub memswap_limit: Option<SValue>,
    pub cpus: Option<SValue>,
    pub cpu_quota: Option<SValue>,
    pub cpu_shares: Option<SValue>,
    pub pids_limit: Option<SValue>,
    /// `deploy.resources.limits`.
    pub limits: Limits,
    pub environment: Vec<EnvVar>,
    /// `env_file:` paths (string, list, or long form `path:`), as written.
    pub env_files: Vec<SValue>,
    /// `command:`: the list items, or the one string (which Compose splits like a shell).
    pub command: Option<CommandLine>,
    /// `entrypoint:`, likewise.
    pub entrypoint: Option<CommandLine>,
    pub working_dir: Option<SValue>,
    pub pid: Option<SValue>,
    pub ipc: Option<SValue>,
    pub uts: Option<SValue>,
    pub userns_mode: Option<SValue>,
    pub cgroup: Option<SValue>,
    /// `cgroup_parent`: the cgroup the container's cgroup is created under, instead of the
    /// daemon's default parent.
    pub cgroup_parent: Option<SValue>,
    pub devices: Vec<SValue>,
    pub extra_hosts: Vec<SValue>,
    pub use_api_socket: Option<SValue>,
    pub tmpfs: Vec<SValue>,
    pub init: Option<SValue>,
    /// `device_cgroup_rules` (`c 1:3 rwm`, `a *:* rwm`, ...).
    pub device_cgroup_rules: Vec<SValue>,
    pub oom_kill_disable: Option<SValue>,
    pub oom_score_adj: Option<SValue>,
    /// `isolation` (Windows: `default`, `process`, `hyperv`).
    pub isolation: Option<SValue>,
    pub healthcheck: Option<Healthcheck>,
    /// `logging.driver`.
    pub logging_driver: Option<SValue>,
    /// `sysctls` (list or mapping form).
    pub sysctls: Vec<EnvVar>,
    /// `labels` (list or mapping form, like `environment`).
    pub labels: Vec<EnvVar>,
}

/// `healthcheck:`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Healthcheck {
    /// The `healthcheck` key.
    pub span: Span,
    pub disable: Option<SValue>,
    /// `test`: the list items, or the one string (the string form runs with `CMD-SHELL`).
    pub test: Vec<SValue>,
    /// Whether `test` is the list form.
    pub test_is_list: bool,
}

/// `build:` (short string form sets only `context`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Build {
    /// The `build` key.
    pub span: Span,
    pub context: Option<SValue>,
    pub dockerfile: Option<SValue>,
    /// `dockerfile_inline`, when set.
    pub dockerfile_inline: Option<SValue>,
    pub target: Option<SValue>,
    /// `args` (list or mapping form).
    pub args: Vec<EnvVar>,
    /// `build.labels` (list or mapping form).
    pub labels: Vec<EnvVar>,
    /// The other keys of a long-form `build:` (`network`, `privileged`, `secrets`, ...), as
    /// `build.KEY`, where they are written.
    pub other_keys: Vec<Spanned<String>>,
}

/// `deploy.resources.limits`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limits {
    /// The deepest of the `deploy`, `resources` and `limits` keys written: where a missing
    /// limit belongs.
    pub block: Option<Span>,
    /// The mapping under that key (`None` when it is not a mapping), and how deep it is: 1
    /// `deploy`, 2 `deploy.resources`, 3 `deploy.resources.limits`. Where a fix writes a limit.
    pub block_map: Option<(Span, u8)>,
    pub memory: Option<SValue>,
    pub cpus: Option<SValue>,
    pub pids: Option<SValue>,
    /// The keys of `deploy` other than `resources.limits.{memory,cpus,pids}` (`deploy.replicas`,
    /// `deploy.resources.reservations`, ...), as dotted paths, where they are written.
    pub other_keys: Vec<Spanned<String>>,
}

/// `KEY=value` / `KEY: value` / `KEY` (value taken from the environment at run time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVar {
    pub key: Spanned<String>,
    /// `None` for a bare `KEY` (list form without `=`, or mapping value null).
    pub value: Option<SValue>,
    /// The whole entry.
    pub span: Span,
    /// The value as written, before interpolation (`None` when `value` is `None`): tells a
    /// literal from a `${VAR}` that a `.env` file filled in.
    pub raw: Option<String>,
}

/// A published port, short (`"127.0.0.1:8080:80/tcp"`) or long syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    /// The whole entry.
    pub span: Span,
    /// Host IP (`host_ip`), if given. `None` means all interfaces.
    pub host_ip: Option<SValue>,
    /// Published host port or range, if given (`None`: only a container port, published on a random host port).
    pub published: Option<SValue>,
    pub target: Option<SValue>,
    pub protocol: Option<SValue>,
    /// Whether the entry could not be understood (e.g. an unknown variable in short syntax).
    pub unknown: bool,
    /// Written in the long syntax (a mapping with `target:`), not as one string.
    pub long: bool,
}

/// What a volume entry mounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VolumeKind {
    /// A host path (`./data:/data`, `/var/run/docker.sock:/var/run/docker.sock`, `type: bind`).
    Bind,
    /// A named volume (`data:/data`, `type: volume`) or an anonymous one (`/data`).
    Volume,
    Tmpfs,
    Npipe,
    Image,
    Cluster,
    /// The source depends on an unset variable, or the entry could not be understood.
    Unknown,
}

/// A `volumes:` entry, short or long syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    /// The whole entry.
    pub span: Span,
    pub kind: VolumeKind,
    /// Host path or volume name (interpolated; for short syntax, the part before the first `:`).
    pub source: Option<SValue>,
    pub target: Option<SValue>,
    /// `true` for `:ro` / `read_only: true`.
    pub read_only: bool,
    /// Where read-only-ness is stated (`ro` option or `read_only` key), if it is.
    pub read_only_span: Option<Span>,
    /// Short-syntax options (`ro`, `rw`, `z`, `rshared`, ...) or long-syntax `bind.propagation` etc.
    pub options: Vec<SValue>,
    /// Written in the long syntax (a mapping with `type:`), not as one string.
    pub long: bool,
}

/// A top-level `volumes:` definition (`data:`, `data: {}` and the full mapping all define one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeDef {
    /// The volume's key: the name services mount it by.
    pub name: Spanned<String>,
    pub driver: Option<SValue>,
    /// `driver_opts`, when the key is a mapping.
    pub driver_opts: Option<DriverOpts>,
    /// `external` (the legacy `external: { name: x }` is `true`, spanning the mapping).
    pub external: Option<SValue>,
    /// `name:`: the Docker volume's own name.
    pub volume_name: Option<SValue>,
}

/// `driver_opts` of a volume definition: for the `local` driver, the arguments of mount(8)
/// (`mount -t <type> -o <o> <device> <volume directory>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriverOpts {
    /// The `driver_opts` key.
    pub span: Span,
    /// `type`: the filesystem type (`none`, `nfs`, `cifs`, `tmpfs`, `ext4`, ...).
    pub fs_type: Option<SValue>,
    /// `o`: comma-separated mount options (`bind`, `ro`, `addr=10.0.0.1`, ...).
    pub o: Option<SValue>,
    /// `device`: what is mounted (a host path for a bind, `:/export` for NFS, `/dev/sdb1`, ...).
    pub device: Option<SValue>,
}

/// The top-level volume definitions, looked up by name in constant time (a later definition
/// of a name replaces the earlier one, as a later YAML document or a duplicate key does).
#[derive(Debug, Clone, Default)]
pub struct VolumeDefs {
    defs: Vec<VolumeDef>,
    index: std::collections::HashMap<String, usize>,
}

impl VolumeDefs {
    /// Adds `def`, replacing a definition of the same name in place.
    pub fn insert(&mut self, def: VolumeDef) {
        match self.index.get(&def.name.value) {
            Some(&i) if i < self.defs.len() => {
                if let Some(old) = self.defs.get_mut(i) {
                    *old = def;
                }
            }
            _ => {
                self.index.insert(def.name.value.clone(), self.defs.len());
                self.defs.push(def);
            }
        }
    }

    /// The definition named `name`.
    pub fn get(&self, name: &str) -> Option<&VolumeDef> {
        self.defs.get(*self.index.get(name)?)
    }

    /// The definitions in the order their names first appear.
    pub fn iter(&self) -> std::slice::Iter<'_, VolumeDef> {
        self.defs.iter()
    }

    pub fn len(&self) -> usize {
        self.defs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.defs.is_empty()
    }
}

/// A named volume that is really a bind mount of a host path: the `local` driver with `bind`
/// (or `rbind`) among the `o` options and a `device`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostBind<'a> {
    pub volume: &'a VolumeDef,
    /// The `device:` value: the host path.
    pub device: &'a SValue,
    /// The last of `ro`/`rw` in `o` is `ro`: the bind is read-only for every service.
    pub read_only: bool,
    /// Compose resolves a relative `device:` against the project directory (and `~` against
    /// the home directory), as it does a bind's source: only when `driver: local` is written
    /// and `o` is exactly `bind` (compose-go's `volumeDriverOpts`). Otherwise it passes the
    /// value through, and a relative path is relative to the Docker daemon's working directory.
    pub resolved_by_compose: bool,
}

impl VolumeDef {
    /// The host path this volume binds, if it is a bind (see [`HostBind`]). `None` for an
    /// `external` volume (its definition is not in the project), another driver, options that
    /// depend on an unset variable, and the local driver's other mounts (`type: nfs`, `cifs`,
    /// `tmpfs`, a block device such as `type: ext4` + `device: /dev/sdb1`).
    pub fn host_bind(&self) -> Option<HostBind<'_>> {
        if self.external.as_ref().and_then(|e| e.value.as_bool()) == Some(true) {
            return None;
        }
        if let Some(driver) = &self.driver
            && !matches!(driver.value.known().map(str::trim), Some("local" | ""))
        {
            return None;
        }
        let opts = self.driver_opts.as_ref()?;
        let device = opts.device.as_ref()?;
        let o = opts.o.as_ref()?.value.known()?;
        let (mut bind, mut read_only) = (false, false);
        for opt in o.split(',').map(str::trim) {
            match opt {
                "bind" | "rbind" => bind = true,
                "ro" => read_only = true,
                "rw" => read_only = false,
                _ => {}
            }
        }
        let resolved_by_compose =
            self.driver.as_ref().and_then(|d| d.value.known()) == Some("local") && o == "bind";
        bind.then_some(HostBind {
            volume: self,
            device,
            read_only,
            resolved_by_compose,
        })
    }
}

/// What a service's `volumes:` entry mounts, with named volumes that bind a host path resolved
/// to that path: what the mount rules judge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mount<'a> {
    /// [`VolumeKind::Bind`] for a named volume that binds a host path.
    pub kind: VolumeKind,
    /// The host path of a bind (the `device:` of a named one), else the entry's source.
    pub source: Option<&'a SValue>,
    /// The entry is read-only (`:ro`, `read_only: true`), or its named volume is (`o: bind,ro`).
    pub read_only: bool,
    /// The named volume the bind goes through, if it does.
    pub via: Option<HostBind<'a>>,
    /// Where the entry names what it mounts: its source (the volume's name for a named one),
    /// else the entry.
    pub at: Span,
}

impl Volume {
    /// The mount this entry makes in `file` (the project the service is in).
    pub fn mount<'a>(&'a self, file: &'a ComposeFile) -> Mount<'a> {
        let at = self.source.as_ref().map_or(self.span, |s| s.span);
        let via = match (self.kind, &self.source) {
            (VolumeKind::Volume, Some(name)) => name
                .value
                .known()
                .and_then(|n| file.volumes.get(n))
                .and_then(VolumeDef::host_bind),
            _ => None,
        };
        match via {
            Some(bind) => Mount {
                kind: VolumeKind::Bind,
                source: Some(bind.device),
                read_only: self.read_only || bind.read_only,
                via,
                at,
            },
            None => Mount {
                kind: self.kind,
                source: self.source.as_ref(),
                read_only: self.read_only,
                via: None,
                at,
            },
        }
    }
}
