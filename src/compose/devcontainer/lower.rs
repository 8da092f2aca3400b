//! The properties of a `devcontainer.json` as the fields of one Compose service.

use std::rc::Rc;

use super::mounts::{Mounted, mount_object, mount_string};
use super::run_args::{self, Opt};
use super::text::{Str, resolve};
use crate::compose::build::{self, Ctx};
use crate::compose::model::{Build, EnvVar, SValue, Service, Value};
use crate::compose::yaml::{Node, NodeKind, Style, UNKNOWN_TAG};
use crate::source::{Span, Spanned};

/// What the lowering reads: the file's text and the workspace folder (relative to the file's
/// folder), and the file's folder for the build's paths.
struct Input<'a> {
    text: &'a str,
    workspace: &'a str,
    dir: &'a std::path::Path,
}

/// The properties only a container the Dev Containers CLI runs itself reads.
const IMAGE_ONLY: &[&str] = &["image", "workspaceMount"];

fn get<'n>(root: &'n Node, key: &str) -> Option<&'n Rc<Node>> {
    crate::compose::jsonc::last(root, key)
}

fn key_span(root: &Node, key: &str) -> Option<Span> {
    super::key_span(root, key)
}

fn items(node: &Node) -> Vec<&Node> {
    match node.as_seq() {
        Some(items) => items.iter().map(Rc::as_ref).collect(),
        None => vec![node],
    }
}

/// The service (without its `user`, see [`Lowered`]).
pub struct Lowered {
    pub service: Service,
    /// The spans of the volume entries that bind the workspace folder.
    pub binds: Vec<Span>,
    /// The user the container runs as: `runArgs`' last `-u`, else `containerUser`.
    pub container_user: Option<SValue>,
    /// `remoteUser`.
    pub remote_user: Option<SValue>,
}

/// Lowers the properties of `root` (the file at `path`, holding `text`).
pub fn service(root: &Node, text: &str, path: &std::path::Path) -> Lowered {
    let input = Input {
        text,
        workspace: super::text::workspace_of(path),
        dir: path.parent().unwrap_or(std::path::Path::new("")),
    };
    // `image`, `build`, `appPort`, `runArgs` and `workspaceMount` are for a container the Dev
    // Containers CLI runs itself: with `dockerComposeFile`, Compose runs it and they are ignored
    let own = get(root, "dockerComposeFile").is_none();
    let str_of = |key: &str| {
        get(root, key)
            .filter(|_| own || !IMAGE_ONLY.contains(&key))
            .and_then(|n| Str::of(n, text))
    };
    let value = |key: &str| str_of(key).map(|s| s.value(input.workspace));
    let name_at = ["build", "dockerFile", "image", "dockerComposeFile"]
        .iter()
        .find_map(|k| key_span(root, k))
        .unwrap_or(Span::new(
            root.span.start,
            root.span.start.saturating_add(1),
        ));
    let mut s = Service {
        name: Spanned::new(super::SERVICE.to_string(), name_at),
        span: root.span,
        image: value("image"),
        privileged: value("privileged"),
        init: value("init"),
        ..Service::default()
    };
    s.build = build_of(root, &input).filter(|_| own).map(Box::new);
    for (key, list) in [("capAdd", 0), ("securityOpt", 1)] {
        let Some(node) = get(root, key) else { continue };
        let values = items(node)
            .into_iter()
            .filter_map(|n| Str::of(n, text))
            .map(|v| v.value(input.workspace));
        if list == 0 {
            s.cap_add.extend(values);
        } else {
            s.security_opt.extend(values);
        }
    }
    for key in ["containerEnv", "remoteEnv"] {
        s.environment
            .extend(get(root, key).map_or_else(Vec::new, |n| env_map(n, &input)));
    }
    let mut binds = Vec::new();
    let mut mount = |m: Mounted, s: &mut Service| {
        if m.workspace {
            binds.push(m.volume.span);
        }
        s.volumes.push(m.volume);
    };
    if let Some(ws) = str_of("workspaceMount") {
        mount(mount_string(&ws, input.workspace), &mut s);
    }
    for m in get(root, "mounts").map_or_else(Vec::new, |n| items(n)) {
        match Str::of(m, text) {
            Some(st) => mount(mount_string(&st, input.workspace), &mut s),
            None if m.as_map().is_some() => mount(mount_object(m, text, input.workspace), &mut s),
            None => {}
        }
    }
    let mut ctx = Ctx::new(text, &EMPTY);
    if let Some(node) = get(root, "appPort").filter(|_| own) {
        for p in items(node) {
            // a number is published on 127.0.0.1 by the Dev Containers CLI
            if let Some(st) = Str::of(p, text)
                && p.style() == Some(Style::DoubleQuoted)
                && let Some(port) = build::port(&mut ctx, &synthetic(&st, input.workspace))
            {
                s.ports.push(port);
            }
        }
    }
    let (run_user, run_binds) = if own {
        apply_run_args(root, &input, &mut ctx, &mut s)
    } else {
        (None, Vec::new())
    };
    binds.extend(run_binds);
    Lowered {
        service: s,
        binds,
        container_user: run_user.or_else(|| value("containerUser")),
        remote_user: value("remoteUser"),
    }
}

static EMPTY: std::sync::LazyLock<crate::compose::Vars> =
    std::sync::LazyLock::new(crate::compose::Vars::new);

/// A Compose scalar standing for a string of the file (its Dev Containers variables resolved),
/// for the Compose parsers of ports and volumes: at the string's exact bytes when it is written
/// verbatim and has no variables, so the parts get exact spans.
fn synthetic(s: &Str<'_>, workspace: &str) -> Node {
    let (value, tag) = match resolve(s.text, workspace) {
        // no `$` reaches Compose's interpolation unescaped
        Value::Known(v) => (v.replace('$', "$$"), None),
        Value::Unknown(v) => (v, Some(UNKNOWN_TAG.to_string())),
    };
    Node {
        span: s.sub(0..s.text.len()),
        tag,
        kind: NodeKind::Scalar {
            value,
            style: Style::Plain,
        },
        size: 0,
        height: 0,
    }
}

/// `containerEnv`/`remoteEnv`: `{ "KEY": "value" }`.
fn env_map(node: &Node, input: &Input<'_>) -> Vec<EnvVar> {
    let Some(map) = node.as_map() else {
        return Vec::new();
    };
    map.iter()
        .filter_map(|(k, v)| {
            let key = k.scalar()?;
            let value = Str::of(v, input.text)?;
            Some(EnvVar {
                key: Spanned::new(key.to_string(), k.span),
                span: k.span.cover(value.span),
                raw: Some(value.text.to_string()),
                value: Some(value.value(input.workspace)),
            })
        })
        .collect()
}

/// `build.dockerfile`/`build.context` (or the legacy top-level `dockerFile`/`context`), both
/// relative to the file's folder, as a Compose `build` (whose `dockerfile` is relative to the
/// context). A path that cannot be placed lexically is unknown: no Dockerfile is joined.
fn build_of(root: &Node, input: &Input<'_>) -> Option<Build> {
    let (holder, key, df_key, ctx_key) = match get(root, "build") {
        Some(b) if b.as_map().is_some() => (
            b.as_ref(),
            key_span(root, "build")?,
            "dockerfile",
            "context",
        ),
        _ => (root, key_span(root, "dockerFile")?, "dockerFile", "context"),
    };
    let str_of = |k: &str| get(holder, k).and_then(|n| Str::of(n, input.text));
    let dockerfile = str_of(df_key)?;
    let context = str_of(ctx_key);
    let context_value = context.as_ref().map_or(Value::Known(".".to_string()), |c| {
        resolve(c.text, input.workspace)
    });
    let df_value = match (resolve(dockerfile.text, input.workspace), &context_value) {
        (Value::Known(df), Value::Known(cx)) => match relative_to(&df, cx, input.dir) {
            Some(rel) => Value::Known(rel),
            None => Value::Unknown(dockerfile.text.to_string()),
        },
        _ => Value::Unknown(dockerfile.text.to_string()),
    };
    let target = str_of("target").map(|t| t.value(input.workspace));
    let args = get(holder, "args").map_or_else(Vec::new, |n| env_map(n, input));
    Some(Build {
        span: key,
        context: context.map(|c| Spanned::new(context_value, c.span)),
        dockerfile: Some(Spanned::new(df_value, dockerfile.span)),
        target,
        args,
        ..Build::default()
    })
}

/// `path` (relative to `dir`) relative to `base` (relative to `dir`), lexically; `None` when
/// `base` climbs above what `dir` names.
fn relative_to(path: &str, base: &str, dir: &std::path::Path) -> Option<String> {
    if path.starts_with('/') {
        return Some(path.to_string());
    }
    let dir: Vec<String> = dir
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(n) => Some(n.to_string_lossy().into_owned()),
            std::path::Component::ParentDir => Some("..".to_string()),
            _ => None,
        })
        .collect();
    let norm = |p: &str| -> Option<Vec<String>> {
        let mut out = if p.starts_with('/') {
            Vec::new()
        } else {
            dir.clone()
        };
        for part in p.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    if out.last().is_none_or(|l| l == "..") {
                        return None;
                    }
                    out.pop();
                }
                x => out.push(x.to_string()),
            }
        }
        Some(out)
    };
    if base.starts_with('/') {
        return None;
    }
    let (p, b) = (norm(path)?, norm(base)?);
    let common = p.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut rel: Vec<&str> = std::iter::repeat_n("..", b.len() - common).collect();
    rel.extend(p[common..].iter().map(String::as_str));
    Some(if rel.is_empty() {
        ".".to_string()
    } else {
        rel.join("/")
    })
}

/// `runArgs` onto the service: the user of its last `-u`, and the workspace binds of its
/// `--mount`s.
fn apply_run_args(
    root: &Node,
    input: &Input<'_>,
    ctx: &mut Ctx<'_>,
    s: &mut Service,
) -> (Option<SValue>, Vec<Span>) {
    let Some(node) = get(root, "runArgs") else {
        return (None, Vec::new());
    };
    let strs: Vec<Str<'_>> = items(node)
        .into_iter()
        .filter_map(|n| Str::of(n, input.text))
        .collect();
    let texts: Vec<&str> = strs.iter().map(|s| s.text).collect();
    let mut user = None;
    let mut binds = Vec::new();
    for opt in run_args::parse(&texts) {
        let item = &strs[opt.item];
        let value = opt.value.map(|(i, at)| {
            let s = &strs[i];
            s.part(at..s.text.len())
        });
        if let Some(u) = apply(&opt, item, value.as_ref(), input, ctx, s, &mut binds) {
            user = Some(u);
        }
    }
    (user, binds)
}

/// One `docker run` option onto the service; the user, for `-u`.
fn apply(
    opt: &Opt,
    item: &Str<'_>,
    value: Option<&Str<'_>>,
    input: &Input<'_>,
    ctx: &mut Ctx<'_>,
    s: &mut Service,
    binds: &mut Vec<Span>,
) -> Option<SValue> {
    let ws = input.workspace;
    // a boolean written bare is `true`, at the option
    let flag = || match value {
        Some(v) => v.value(ws),
        None => Spanned::new(Value::Known("true".to_string()), item.span),
    };
    match opt.name.as_str() {
        "privileged" => s.privileged = Some(flag()),
        "read-only" => s.read_only = Some(flag()),
        "init" => s.init = Some(flag()),
        "oom-kill-disable" => s.oom_kill_disable = Some(flag()),
        _ => {}
    }
    let v = value?;
    let sv = v.value(ws);
    match opt.name.as_str() {
        "cap-add" => s.cap_add.push(sv),
        "cap-drop" => s.cap_drop.push(sv),
        "security-opt" => s.security_opt.push(sv),
        "network" | "net" => s.network_mode = Some(sv),
        "pid" => s.pid = Some(sv),
        "ipc" => s.ipc = Some(sv),
        "uts" => s.uts = Some(sv),
        "userns" => s.userns_mode = Some(sv),
        "cgroupns" => s.cgroup = Some(sv),
        "cgroup-parent" => s.cgroup_parent = Some(sv),
        "device" => s.devices.push(sv),
        "device-cgroup-rule" => s.device_cgroup_rules.push(sv),
        "memory" => s.mem_limit = Some(sv),
        "memory-swap" => s.memswap_limit = Some(sv),
        "cpus" => s.cpus = Some(sv),
        "cpu-quota" => s.cpu_quota = Some(sv),
        "cpu-shares" => s.cpu_shares = Some(sv),
        "pids-limit" => s.pids_limit = Some(sv),
        "oom-score-adj" => s.oom_score_adj = Some(sv),
        "tmpfs" => s.tmpfs.push(sv),
        "add-host" => s.extra_hosts.push(sv),
        "log-driver" => s.logging_driver = Some(sv),
        "user" => return Some(sv),
        "env" | "sysctl" => {
            let var = key_value(v, ws);
            if opt.name == "env" {
                s.environment.push(var);
            } else {
                s.sysctls.push(var);
            }
        }
        "publish" => s.ports.extend(build::port(ctx, &synthetic(v, ws))),
        "volume" => {
            if let Some(vol) = build::volume(ctx, &synthetic(v, ws)) {
                if super::text::is_workspace_path(v.text) {
                    binds.push(vol.span);
                }
                s.volumes.push(vol);
            }
        }
        "mount" => {
            let m = mount_string(v, ws);
            if m.workspace {
                binds.push(m.volume.span);
            }
            s.volumes.push(m.volume);
        }
        _ => {}
    }
    None
}

/// `KEY=value` (`-e`, `--sysctl`).
fn key_value(v: &Str<'_>, ws: &str) -> EnvVar {
    let (key, value) = match v.text.find('=') {
        Some(eq) => (v.part(0..eq), Some(v.part(eq + 1..v.text.len()))),
        None => (v.part(0..v.text.len()), None),
    };
    EnvVar {
        key: Spanned::new(key.text.to_string(), key.span),
        raw: value.as_ref().map(|x| x.text.to_string()),
        value: value.map(|x| x.value(ws)),
        span: v.span,
    }
}

#[cfg(test)]
mod tests {
    use super::relative_to;
    use std::path::Path;

    #[test]
    fn dockerfile_relative_to_context() {
        let dir = Path::new("p/.devcontainer");
        assert_eq!(
            relative_to("Dockerfile", "..", dir).as_deref(),
            Some(".devcontainer/Dockerfile")
        );
        assert_eq!(
            relative_to("Dockerfile", ".", dir).as_deref(),
            Some("Dockerfile")
        );
        assert_eq!(
            relative_to("../docker/Dockerfile", "..", dir).as_deref(),
            Some("docker/Dockerfile")
        );
        assert_eq!(
            relative_to("Dockerfile", "../..", dir).as_deref(),
            Some("p/.devcontainer/Dockerfile")
        );
        assert_eq!(relative_to("Dockerfile", "../../..", dir), None);
        assert_eq!(relative_to("Dockerfile", "..", Path::new("")), None);
    }
}
