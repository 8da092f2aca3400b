//! Node tree -> typed model: merges (`merge.rs`) and interpolation (`interpolate.rs`) applied,
//! every field spanned. Lenient like `docker compose` where it can be: shapes it does not
//! understand are skipped, not reported (the JSON schema is not ours to enforce here).

use std::collections::HashMap;
use std::ops::Range;

use super::Vars;
use super::interpolate::{self, Budget, Interpolated, interpolate_with};
use super::merge::{self, Entry};
use super::model::{
    Build, ComposeFile, EnvVar, Healthcheck, Limits, LoadError, Network, Port, SValue, Service,
    Value, Volume, VolumeKind,
};
use super::yaml::{Node, NodeKind, Style};
use crate::source::{Span, Spanned};

mod parts;
mod volumes;

use parts::{PORT_SEPARATORS, Parts, VOLUME_SEPARATORS};

pub(crate) struct Ctx<'a> {
    /// The text of each file of the project, by [`Span::file`] number.
    texts: Vec<&'a str>,
    vars: &'a Vars,
    /// Variables for files with their own project directory (`include` targets), by file number;
    /// `None`: the project's `vars`.
    file_vars: Vec<Option<Vars>>,
    pub errors: Vec<LoadError>,
    /// Index in `ComposeFile::services` by name.
    service_index: HashMap<String, usize>,
    /// Bytes interpolation may still substitute ([`interpolate::budget_for`] all the texts).
    budget: Budget,
    /// The first value refused for the budget (see [`Ctx::take_limits`]), and how many after it.
    refused: Option<Span>,
    refused_more: usize,
}

impl<'a> Ctx<'a> {
    pub fn new(text: &'a str, vars: &'a Vars) -> Self {
        Self::with_texts(vec![text], vars)
    }

    /// A context for a tree whose nodes come from several files (`texts[span.file]`).
    pub fn with_texts(texts: Vec<&'a str>, vars: &'a Vars) -> Self {
        let input = texts.iter().map(|t| t.len()).sum();
        Self {
            texts,
            vars,
            file_vars: Vec::new(),
            errors: Vec::new(),
            service_index: HashMap::new(),
            budget: Budget::new(interpolate::budget_for(input)),
            refused: None,
            refused_more: 0,
        }
    }

    /// Where interpolation ran past its budget (at most one finding, at the first value).
    pub fn take_limits(&mut self) -> Vec<super::model::ExpansionLimit> {
        let Some(span) = self.refused.take() else {
            return Vec::new();
        };
        let more =
            interpolate::refused_too(std::mem::take(&mut self.refused_more), "value", "values");
        let limit = self.budget.limit();
        vec![
            LoadError {
                message: format!(
                    "interpolation passes the project's budget ({}); value treated as unknown",
                    interpolate::show_bytes(limit)
                ),
                span,
                help: Some(format!(
                    "interpolation may copy {limit} bytes of variable values into one \
                     project{more}; every `${{VAR}}` copies the variable's value, so a large \
                     value used in many places (or an expansion bomb in `.env`) adds up"
                )),
            }
            .into(),
        ]
    }

    /// Interpolates `raw` with the variables of the file of `span`, charging the budget;
    /// a value refused for its size is recorded and `TooLarge`.
    fn interpolate(&mut self, raw: &str, span: Span) -> Interpolated {
        let result = interpolate_with(raw, self.vars_for(span.file), &self.budget);
        if result == Interpolated::TooLarge {
            if self.refused.is_none() {
                self.refused = Some(span);
            } else {
                self.refused_more += 1;
            }
        }
        result
    }

    /// Uses `vars` for the files numbered like their index (`None`: the project's variables).
    pub fn set_file_vars(&mut self, file_vars: Vec<Option<Vars>>) {
        self.file_vars = file_vars;
    }

    /// The variables that interpolate values written in file number `file`.
    fn vars_for(&self, file: u16) -> &Vars {
        self.file_vars
            .get(usize::from(file))
            .and_then(Option::as_ref)
            .unwrap_or(self.vars)
    }

    /// Interpolates `raw` (written at `span`); invalid syntax is reported and unknown.
    fn interp(&mut self, raw: &str, span: Span) -> Value {
        match self.interpolate(raw, span) {
            Interpolated::Known(s) => Value::Known(s),
            Interpolated::Unknown | Interpolated::TooLarge => Value::Unknown(raw.to_string()),
            Interpolated::Invalid(reason) => {
                self.errors.push(LoadError {
                    message: format!("invalid interpolation: {reason}"),
                    span,
                    help: Some("write `$$` for a literal `$`".to_string()),
                });
                Value::Unknown(raw.to_string())
            }
        }
    }

    /// A non-null scalar, interpolated. `None` for null, absent and non-scalar values.
    fn value(&mut self, node: &Node) -> Option<SValue> {
        if node.is_null() {
            return None;
        }
        let raw = node.scalar()?;
        if is_unknown(node) {
            return Some(Spanned::new(Value::Unknown(raw.to_string()), node.span));
        }
        // `0x10`, `1_000`, `True`: what Compose types them as, written as Go writes it
        if let Some(typed) = super::scalar::typed_text(node) {
            return Some(Spanned::new(Value::Known(typed), node.span));
        }
        Some(Spanned::new(self.interp(raw, node.span), node.span))
    }

    /// Where `node`'s decoded text starts in the file, if it is written verbatim (plain on one
    /// line, or quoted without escapes), so that parts of it can be given exact spans.
    fn verbatim_base(&self, node: &Node) -> Option<u32> {
        let value = node.scalar()?;
        let (start, end) = match node.style()? {
            Style::Plain => (node.span.start, node.span.end),
            Style::SingleQuoted | Style::DoubleQuoted => (
                node.span.start.saturating_add(1),
                node.span.end.saturating_sub(1),
            ),
            Style::Literal | Style::Folded => return None,
        };
        let text = self.texts.get(usize::from(node.span.file))?;
        (text.get(start as usize..end as usize)? == value).then_some(start)
    }

    /// A string list: a sequence of scalars, or one scalar (lenient).
    fn list(&mut self, node: &Node) -> Vec<SValue> {
        match &node.kind {
            NodeKind::Seq(items) => items.iter().filter_map(|n| self.value(n)).collect(),
            NodeKind::Scalar { .. } => self.value(node).into_iter().collect(),
            NodeKind::Map(_) => Vec::new(),
        }
    }
}

/// A node standing for an alias that the alias budget refused: its value is unknown.
fn is_unknown(node: &Node) -> bool {
    node.tag.as_deref() == Some(super::yaml::UNKNOWN_TAG)
}

/// Loads the typed model from one document root into `file`.
pub(crate) fn document(ctx: &mut Ctx<'_>, root: &Node, file: &mut ComposeFile) {
    // an empty file (or document) is fine: override files are often empty on purpose
    if root.is_null() {
        return;
    }
    if root.as_map().is_none() {
        ctx.errors.push(LoadError {
            message: "the top level is not a mapping".to_string(),
            span: root.span,
            help: Some("a Compose file is a mapping with a `services:` key".to_string()),
        });
        return;
    }
    for entry in merge::entries(root) {
        match entry.name() {
            Some("services") => {
                file.services_key.get_or_insert(entry.key.span);
                services(ctx, entry.value, file);
            }
            Some("networks") => networks(ctx, entry.value, file),
            Some("volumes") => volumes::definitions(ctx, entry.value, file),
            Some("include") => {
                for item in seq_or_one(entry.value) {
                    let paths = match item.as_map() {
                        Some(_) => map_entries(item)
                            .find(|(k, _)| *k == "path")
                            .map(|(_, e)| ctx.list(e.value))
                            .unwrap_or_default(),
                        None => ctx.value(item).into_iter().collect(),
                    };
                    file.includes.push(super::model::Include {
                        span: item.span,
                        paths,
                    });
                }
            }
            _ => {}
        }
    }
}

/// `extends: name` or `extends: { service: name, file: path }`.
fn extends(ctx: &mut Ctx<'_>, key_span: Span, node: &Node) -> super::model::Extends {
    let mut e = super::model::Extends {
        span: key_span,
        service: None,
        file: None,
    };
    if node.as_map().is_none() {
        e.service = ctx.value(node);
        return e;
    }
    for (k, entry) in map_entries(node) {
        match k {
            "service" => e.service = ctx.value(entry.value),
            "file" => e.file = ctx.value(entry.value),
            _ => {}
        }
    }
    e
}

fn services(ctx: &mut Ctx<'_>, node: &Node, file: &mut ComposeFile) {
    if node.is_null() {
        return;
    }
    if node.as_map().is_none() {
        ctx.errors.push(LoadError {
            message: "`services` is not a mapping".to_string(),
            span: node.span,
            help: Some("list services as `name: { image: ... }` entries".to_string()),
        });
        return;
    }
    // sized once: a service is about 2 KB of model, and doubling kept up to half of that unused
    file.services.reserve(node.as_map().map_or(0, <[_]>::len));
    for entry in merge::entries(node) {
        let Some(name) = entry.name() else { continue };
        if entry.value.is_reset() {
            continue;
        }
        let name = Spanned::new(name.to_string(), entry.key.span);
        if !entry.value.is_null() && entry.value.as_map().is_none() {
            ctx.errors.push(LoadError {
                message: format!("service `{}` is not a mapping", name.value),
                span: entry.value.span,
                help: Some("a service is a mapping such as `{ image: nginx }`".to_string()),
            });
            continue;
        }
        let svc = service(ctx, name, entry.value);
        // a later YAML document (or a duplicate key) redefines a service of the same name
        match ctx.service_index.get(&svc.name.value) {
            Some(&i) if i < file.services.len() => {
                if let Some(old) = file.services.get_mut(i) {
                    *old = svc;
                }
            }
            _ => {
                ctx.service_index
                    .insert(svc.name.value.clone(), file.services.len());
                file.services.push(svc);
            }
        }
    }
}

fn service(ctx: &mut Ctx<'_>, name: Spanned<String>, node: &Node) -> Service {
    let mut s = Service {
        name,
        span: node.span,
        ..Service::default()
    };
    for Entry { key, value, .. } in merge::entries(node) {
        let Some(k) = key.scalar() else { continue };
        if value.is_reset() {
            s.reset_keys.push(k.to_string());
            continue;
        }
        if value.tag.as_deref() == Some("!override") {
            s.override_keys.push(k.to_string());
        }
        s.keys.push(Spanned::new(k.to_string(), key.span));
        let empty = value.is_null()
            || value.as_seq().is_some_and(<[_]>::is_empty)
            || (value.as_map().is_some() && merge::entries(value).is_empty());
        if empty {
            s.empty_keys.push(k.to_string());
        }
        match k {
            "extends" => s.extends = Some(extends(ctx, key.span, value)),
            "x-sandlint" => {
                let mut x = super::model::XSandlint {
                    span: key.span,
                    ignore: Vec::new(),
                    reason: None,
                };
                for (k, e) in map_entries(value) {
                    match k {
                        "ignore" => x.ignore = ctx.list(e.value),
                        "reason" => x.reason = ctx.value(e.value),
                        _ => {}
                    }
                }
                s.x_sandlint = Some(x);
            }
            "image" => s.image = ctx.value(value),
            "build" => s.build = Some(Box::new(build(ctx, key.span, value))),
            "user" => s.user = ctx.value(value),
            "privileged" => s.privileged = ctx.value(value),
            "read_only" => s.read_only = ctx.value(value),
            "security_opt" => s.security_opt = ctx.list(value),
            "cap_add" => s.cap_add = ctx.list(value),
            "cap_drop" => s.cap_drop = ctx.list(value),
            "network_mode" => s.network_mode = ctx.value(value),
            "networks" => {
                s.networks_key = Some(key.span);
                s.networks = service_networks(ctx, value);
            }
            "ports" => s.ports = exact(seq_or_one(value).filter_map(|n| port(ctx, n)).collect()),
            "volumes" => {
                s.volumes = exact(seq_or_one(value).filter_map(|n| volume(ctx, n)).collect());
            }
            "mem_limit" => s.mem_limit = ctx.value(value),
            "memswap_limit" => s.memswap_limit = ctx.value(value),
            "cpus" => s.cpus = ctx.value(value),
            "cpu_quota" => s.cpu_quota = ctx.value(value),
            "cpu_shares" => s.cpu_shares = ctx.value(value),
            "pids_limit" => s.pids_limit = ctx.value(value),
            "deploy" => s.limits = limits(ctx, key.span, value),
            "environment" => s.environment = env_vars(ctx, value),
            "command" | "entrypoint" => {
                let line = match &value.kind {
                    NodeKind::Seq(items) => Some(super::model::CommandLine::List(
                        items.iter().filter_map(|n| ctx.value(n)).collect(),
                    )),
                    _ => ctx.value(value).map(super::model::CommandLine::String),
                };
                if k == "command" {
                    s.command = line;
                } else {
                    s.entrypoint = line;
                }
            }
            "working_dir" => s.working_dir = ctx.value(value),
            "env_file" => {
                s.env_files = seq_or_one(value)
                    .filter_map(|item| match item.as_map() {
                        Some(_) => map_entries(item)
                            .find(|(k, _)| *k == "path")
                            .and_then(|(_, e)| ctx.value(e.value)),
                        None => ctx.value(item),
                    })
                    .collect();
            }
            "pid" => s.pid = ctx.value(value),
            "ipc" => s.ipc = ctx.value(value),
            "uts" => s.uts = ctx.value(value),
            "userns_mode" => s.userns_mode = ctx.value(value),
            "cgroup" => s.cgroup = ctx.value(value),
            "cgroup_parent" => s.cgroup_parent = ctx.value(value),
            "devices" => s.devices = devices(ctx, value),
            "extra_hosts" => s.extra_hosts = extra_hosts(ctx, value),
            "use_api_socket" => s.use_api_socket = ctx.value(value),
            "tmpfs" => s.tmpfs = ctx.list(value),
            "init" => s.init = ctx.value(value),
            "device_cgroup_rules" => s.device_cgroup_rules = ctx.list(value),
            "oom_kill_disable" => s.oom_kill_disable = ctx.value(value),
            "oom_score_adj" => s.oom_score_adj = ctx.value(value),
            "isolation" => s.isolation = ctx.value(value),
            "healthcheck" => s.healthcheck = Some(healthcheck(ctx, key.span, value)),
            "logging" => {
                s.logging_driver = map_entries(value)
                    .find(|(k, _)| *k == "driver")
                    .and_then(|(_, e)| ctx.value(e.value));
            }
            "sysctls" => s.sysctls = env_vars(ctx, value),
            "labels" => s.labels = env_vars(ctx, value),
            _ => {}
        }
    }
    s
}

/// The items of a sequence, or the node itself when it is a non-null scalar or mapping (lenient).
fn seq_or_one(node: &Node) -> Box<dyn Iterator<Item = &Node> + '_> {
    match &node.kind {
        NodeKind::Seq(items) => Box::new(items.iter().map(|n| &**n)),
        _ if node.is_null() => Box::new(std::iter::empty()),
        _ => Box::new(std::iter::once(node)),
    }
}

/// The entries of a mapping (after merges) that are not `!reset`.
fn map_entries(node: &Node) -> impl Iterator<Item = (&str, Entry<'_>)> {
    merge::entries(node)
        .into_iter()
        .filter(|e| !e.value.is_reset())
        .filter_map(|e| Some((e.name()?, e)))
}

fn build(ctx: &mut Ctx<'_>, key_span: Span, node: &Node) -> Build {
    let mut b = Build {
        span: key_span,
        ..Build::default()
    };
    if node.as_map().is_none() {
        b.context = ctx.value(node);
        return b;
    }
    for (k, e) in map_entries(node) {
        match k {
            "context" => b.context = ctx.value(e.value),
            "dockerfile" => b.dockerfile = ctx.value(e.value),
            "dockerfile_inline" => b.dockerfile_inline = ctx.value(e.value),
            "target" => b.target = ctx.value(e.value),
            "args" => b.args = env_vars(ctx, e.value),
            "labels" => b.labels = env_vars(ctx, e.value),
            other => b
                .other_keys
                .push(Spanned::new(format!("build.{other}"), e.key.span)),
        }
    }
    b
}

fn healthcheck(ctx: &mut Ctx<'_>, key_span: Span, node: &Node) -> Healthcheck {
    let mut h = Healthcheck {
        span: key_span,
        ..Healthcheck::default()
    };
    for (k, e) in map_entries(node) {
        match k {
            "disable" => h.disable = ctx.value(e.value),
            "test" => {
                h.test_is_list = e.value.as_seq().is_some();
                h.test = ctx.list(e.value);
            }
            _ => {}
        }
    }
    h
}

fn limits(ctx: &mut Ctx<'_>, deploy_key: Span, deploy: &Node) -> Limits {
    let map_of = |node: &Node, depth: u8| node.as_map().is_some().then_some((node.span, depth));
    let mut out = Limits {
        block: Some(deploy_key),
        block_map: map_of(deploy, 1),
        ..Limits::default()
    };
    let others = |node: &Node, path: &str, keep: &str, out: &mut Limits| {
        for (k, e) in map_entries(node) {
            if k != keep {
                out.other_keys
                    .push(Spanned::new(format!("{path}.{k}"), e.key.span));
            }
        }
    };
    others(deploy, "deploy", "resources", &mut out);
    let Some(resources) = map_entries(deploy).find(|(k, _)| *k == "resources") else {
        return out;
    };
    out.block = Some(resources.1.key.span);
    out.block_map = map_of(resources.1.value, 2);
    others(resources.1.value, "deploy.resources", "limits", &mut out);
    let Some(limits) = map_entries(resources.1.value).find(|(k, _)| *k == "limits") else {
        return out;
    };
    out.block = Some(limits.1.key.span);
    out.block_map = map_of(limits.1.value, 3);
    let limits = limits.1.value;
    for (k, e) in map_entries(limits) {
        match k {
            "memory" => out.memory = ctx.value(e.value),
            "cpus" => out.cpus = ctx.value(e.value),
            "pids" => out.pids = ctx.value(e.value),
            other => out.other_keys.push(Spanned::new(
                format!("deploy.resources.limits.{other}"),
                e.key.span,
            )),
        }
    }
    out
}

fn service_networks(ctx: &mut Ctx<'_>, node: &Node) -> Vec<Spanned<String>> {
    match &node.kind {
        NodeKind::Map(_) => map_entries(node)
            .map(|(k, e)| Spanned::new(k.to_string(), e.key.span))
            .collect(),
        _ => ctx
            .list(node)
            .into_iter()
            .map(|v| v.map(|v| v.text().to_string()))
            .collect(),
    }
}

fn networks(ctx: &mut Ctx<'_>, node: &Node, file: &mut ComposeFile) {
    for (k, e) in map_entries(node) {
        let mut net = Network {
            name: Spanned::new(k.to_string(), e.key.span),
            internal: None,
            external: None,
            driver: None,
        };
        for (k, e) in map_entries(e.value) {
            match k {
                "internal" => net.internal = ctx.value(e.value),
                "driver" => net.driver = ctx.value(e.value),
                "external" => {
                    // legacy `external: { name: x }` means external
                    net.external = if e.value.as_map().is_some() {
                        Some(Spanned::new(Value::Known("true".to_string()), e.value.span))
                    } else {
                        ctx.value(e.value)
                    };
                }
                _ => {}
            }
        }
        file.networks.push(net);
    }
}

/// `v` without spare capacity: a vector collected through a filter starts at 4 entries, and a
/// service has one of each for every service of the file.
fn exact<T>(mut v: Vec<T>) -> Vec<T> {
    v.shrink_to_fit();
    v
}

/// `environment` / `build.args` / `labels`: a list of `KEY=value` / `KEY`, or a mapping.
fn env_vars(ctx: &mut Ctx<'_>, node: &Node) -> Vec<EnvVar> {
    // sized from the node: a vector grown from empty holds at least 4 entries (~0.5 KB here)
    let mut out = Vec::with_capacity(match &node.kind {
        NodeKind::Map(pairs) => pairs.len(),
        NodeKind::Seq(items) => items.len(),
        NodeKind::Scalar { .. } => 0,
    });
    match &node.kind {
        NodeKind::Map(_) => {
            for (k, e) in map_entries(node) {
                let value = ctx.value(e.value);
                let end = value
                    .as_ref()
                    .map_or(e.key.span.end, |v| v.span.end.max(e.key.span.end));
                let raw = value.as_ref().and(e.value.scalar()).map(str::to_string);
                out.push(EnvVar {
                    key: Spanned::new(k.to_string(), e.key.span),
                    value,
                    span: Span::new(e.key.span.start, end).in_file(e.key.span.file),
                    raw,
                });
            }
        }
        NodeKind::Seq(items) => {
            for item in items {
                if item.scalar().is_some() {
                    // report interpolation syntax errors once, for the whole entry
                    let _ = ctx.value(item);
                }
                let Some(p) = Parts::raw(ctx, item) else {
                    continue;
                };
                let (key_r, value_r) = match p.first_sep(b'=') {
                    Some(eq) => (0..eq, Some(eq + 1..p.s.len())),
                    None => (0..p.s.len(), None),
                };
                let key = p.part(ctx, &key_r);
                let raw = value_r.as_ref().map(|r| p.text(r).to_string());
                out.push(EnvVar {
                    key: key.map(|v| v.text().to_string()),
                    value: value_r.map(|r| p.part(ctx, &r)),
                    span: item.span,
                    raw,
                });
            }
        }
        NodeKind::Scalar { .. } => {}
    }
    out
}

pub(in crate::compose) fn port(ctx: &mut Ctx<'_>, node: &Node) -> Option<Port> {
    if node.as_map().is_some() {
        let mut p = Port {
            span: node.span,
            host_ip: None,
            published: None,
            target: None,
            protocol: None,
            unknown: false,
            long: true,
        };
        for (k, e) in map_entries(node) {
            match k {
                "target" => p.target = ctx.value(e.value),
                "published" => p.published = ctx.value(e.value),
                "host_ip" => p.host_ip = ctx.value(e.value),
                "protocol" => p.protocol = ctx.value(e.value),
                _ => {}
            }
        }
        p.unknown = [&p.target, &p.published, &p.host_ip, &p.protocol]
            .iter()
            .any(|v| v.as_ref().is_some_and(|v| v.value.known().is_none()));
        return Some(p);
    }
    let parts = Parts::new(ctx, node, PORT_SEPARATORS)?;
    let nonempty = |r: Range<usize>| (!r.is_empty()).then_some(r);
    let all = 0..parts.s.len();
    // `[ip:][host:]container[/protocol]`
    let (port_r, proto_r) = match parts.split(all, b'/').as_slice() {
        [port] => (port.clone(), None),
        [port, proto, ..] => (port.clone(), nonempty(proto.clone())),
        [] => return None,
    };
    let (mut ip_r, mut host_r, container_r);
    if parts.text(&port_r).starts_with('[') {
        // `[::1]:8080:80`
        let close = parts.text(&port_r).find("]:").map(|i| port_r.start + i);
        match close {
            Some(close) => {
                ip_r = Some(port_r.start + 1..close);
                let rest = parts.split(close + 2..port_r.end, b':');
                match rest.as_slice() {
                    [c] => {
                        host_r = None;
                        container_r = c.clone();
                    }
                    [h, c, ..] => {
                        host_r = Some(h.clone());
                        container_r = c.clone();
                    }
                    [] => return None,
                }
            }
            None => {
                ip_r = None;
                host_r = None;
                container_r = port_r;
            }
        }
    } else {
        let pieces = parts.split(port_r, b':');
        let n = pieces.len();
        container_r = pieces.last()?.clone();
        host_r = n.checked_sub(2).and_then(|i| pieces.get(i)).cloned();
        ip_r = match (
            n >= 3,
            pieces.first(),
            n.checked_sub(3).and_then(|i| pieces.get(i)),
        ) {
            (true, Some(first), Some(last)) => Some(first.start..last.end),
            _ => None,
        };
    }
    ip_r = ip_r.and_then(nonempty);
    host_r = host_r.and_then(nonempty);
    Some(Port {
        span: node.span,
        host_ip: ip_r.map(|r| parts.part(ctx, &r)),
        published: host_r.map(|r| parts.part(ctx, &r)),
        target: nonempty(container_r).map(|r| parts.part(ctx, &r)),
        protocol: proto_r.map(|r| parts.part(ctx, &r)),
        unknown: parts.unknown,
        long: false,
    })
}

/// compose-go `isFilePath`: `.`, `/`, `~`, `\\` (named pipe) or a Windows drive `C:`.
fn is_file_path(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some('.' | '/' | '~') => true,
        Some('\\') => s.starts_with("\\\\"),
        Some(c) if c.is_alphabetic() => chars.next() == Some(':'),
        _ => false,
    }
}

pub(in crate::compose) fn volume(ctx: &mut Ctx<'_>, node: &Node) -> Option<Volume> {
    if node.as_map().is_some() {
        return Some(long_volume(ctx, node));
    }
    let parts = Parts::new(ctx, node, VOLUME_SEPARATORS)?;
    let mut v = Volume {
        span: node.span,
        kind: VolumeKind::Unknown,
        source: None,
        target: None,
        read_only: false,
        read_only_span: None,
        options: Vec::new(),
        long: false,
    };
    let Some((source_r, target_r, options_r)) = split_volume(&parts) else {
        return Some(v);
    };
    v.source = source_r.map(|r| parts.part(ctx, &r));
    v.target = Some(parts.part(ctx, &target_r));
    v.kind = match &v.source {
        None => VolumeKind::Volume,
        Some(s) => match &s.value {
            Value::Known(text) if is_file_path(text) => VolumeKind::Bind,
            Value::Known(_) => VolumeKind::Volume,
            Value::Unknown(raw) if raw.starts_with(['.', '/', '~']) => VolumeKind::Bind,
            Value::Unknown(_) => VolumeKind::Unknown,
        },
    };
    if let Some(r) = options_r {
        for r in parts.split(r, b',') {
            let opt = parts.part(ctx, &r);
            match opt.value.known() {
                Some("ro") => {
                    v.read_only = true;
                    v.read_only_span = Some(opt.span);
                }
                Some("rw") => {
                    v.read_only = false;
                    v.read_only_span = Some(opt.span);
                }
                _ => {}
            }
            v.options.push(opt);
        }
    }
    Some(v)
}

/// compose-go `ParseVolume`: `[source:]target[:options]`, Windows drives (`C:\x`) kept whole.
/// Returns `None` for specs Compose rejects (empty sections, too many colons).
#[expect(
    clippy::type_complexity,
    reason = "three ranges, named at the call site"
)]
fn split_volume(
    p: &Parts<'_>,
) -> Option<(Option<Range<usize>>, Range<usize>, Option<Range<usize>>)> {
    let len = p.s.len();
    if len == 0 {
        return None;
    }
    if p.s.chars().count() <= 2 {
        return Some((None, 0..len, None));
    }
    let seps = p.seps(b':');
    let (mut source, mut target, mut options) = (None, None, None);
    let mut start = 0;
    let mut fields: Vec<(Range<usize>, bool)> = Vec::new();
    for i in seps {
        let buf = start..i;
        // a one-letter buffer before `:` is a Windows drive
        let mut chars = p.text(&buf).chars();
        if let (Some(c), None) = (chars.next(), chars.next())
            && c.is_alphabetic()
        {
            continue;
        }
        fields.push((buf, false));
        start = i + 1;
    }
    fields.push((start..len, true));
    for (buf, end) in fields {
        if buf.is_empty() {
            return None;
        }
        if source.is_none() && end && target.is_none() {
            target = Some(buf);
        } else if source.is_none() {
            source = Some(buf);
        } else if target.is_none() {
            target = Some(buf);
        } else if !end {
            return None;
        } else {
            options = Some(buf);
        }
    }
    Some((source, target?, options))
}

fn long_volume(ctx: &mut Ctx<'_>, node: &Node) -> Volume {
    let mut v = Volume {
        span: node.span,
        kind: VolumeKind::Unknown,
        source: None,
        target: None,
        read_only: false,
        read_only_span: None,
        options: Vec::new(),
        long: true,
    };
    for (k, e) in map_entries(node) {
        match k {
            "type" => {
                v.kind = match ctx
                    .value(e.value)
                    .as_ref()
                    .and_then(|t| t.value.known().map(str::to_string))
                    .as_deref()
                {
                    Some("bind") => VolumeKind::Bind,
                    Some("volume") => VolumeKind::Volume,
                    Some("tmpfs") => VolumeKind::Tmpfs,
                    Some("npipe") => VolumeKind::Npipe,
                    Some("image") => VolumeKind::Image,
                    Some("cluster") => VolumeKind::Cluster,
                    _ => VolumeKind::Unknown,
                }
            }
            "source" => v.source = ctx.value(e.value),
            "target" => v.target = ctx.value(e.value),
            "read_only" => {
                if let Some(ro) = ctx.value(e.value) {
                    v.read_only = ro.value.as_bool() == Some(true);
                    v.read_only_span = Some(ro.span);
                }
            }
            "bind" => {
                for (k, e) in map_entries(e.value) {
                    if matches!(k, "propagation" | "selinux")
                        && let Some(opt) = ctx.value(e.value)
                    {
                        v.options.push(opt);
                    }
                }
            }
            _ => {}
        }
    }
    v
}

fn devices(ctx: &mut Ctx<'_>, node: &Node) -> Vec<SValue> {
    let mut out = Vec::new();
    for item in seq_or_one(node) {
        if item.as_map().is_none() {
            out.extend(ctx.value(item));
            continue;
        }
        // long syntax: `source:target:permissions`
        let mut fields = Vec::new();
        for (k, e) in map_entries(item) {
            if matches!(k, "source" | "target" | "permissions")
                && let Some(v) = ctx.value(e.value)
            {
                fields.push((k, v.value));
            }
        }
        fields.sort_by_key(|(k, _)| match *k {
            "source" => 0,
            "target" => 1,
            _ => 2,
        });
        let unknown = fields.iter().any(|(_, v)| v.known().is_none());
        let text = fields
            .iter()
            .map(|(_, v)| v.text())
            .collect::<Vec<_>>()
            .join(":");
        let value = if unknown {
            Value::Unknown(text)
        } else {
            Value::Known(text)
        };
        out.push(Spanned::new(value, item.span));
    }
    out
}

/// `extra_hosts`: a list of `host:ip` / `host=ip`, or a mapping `host: ip` (normalized to
/// `host:ip`, spanning the entry).
fn extra_hosts(ctx: &mut Ctx<'_>, node: &Node) -> Vec<SValue> {
    if node.as_map().is_none() {
        return ctx.list(node);
    }
    let mut out = Vec::new();
    for (k, e) in map_entries(node) {
        for ip in seq_or_one(e.value) {
            let Some(v) = ctx.value(ip) else { continue };
            let text = format!("{k}:{}", v.value.text());
            let value = match v.value {
                Value::Known(_) => Value::Known(text),
                Value::Unknown(_) => Value::Unknown(text),
            };
            out.push(Spanned::new(value, e.key.span.cover(v.span)));
        }
    }
    out
}
