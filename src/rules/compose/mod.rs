//! Compose rules (`SLC###`).

pub(super) mod confinement_disabled;
pub(super) mod container_socket_mount;
pub(super) mod credential_in_environment;
pub(super) mod custom_cgroup_parent;
pub(super) mod dangerous_capability;
pub(super) mod healthcheck_disabled;
pub(super) mod host_device_mapped;
pub(super) mod host_namespace_shared;
pub(super) mod host_network_mode;
pub(super) mod host_uts_or_cgroup_namespace;
pub(super) mod image_not_digest_pinned;
pub(super) mod image_unpinned;
pub(super) mod logging_disabled;
pub(super) mod missing_cap_drop_all;
pub(super) mod missing_cpu_limit;
pub(super) mod missing_memory_limit;
pub(super) mod missing_no_new_privileges;
pub(super) mod missing_pids_limit;
pub(super) mod misspelled_security_key;
pub(super) mod network_not_isolated;
pub(super) mod oom_kill_disabled;
pub(super) mod port_bound_to_all_interfaces;
pub(super) mod privileged_container;
pub(super) mod privileged_port_published;
pub(super) mod risky_sysctl;
pub(super) mod secret_in_build_args;
pub(super) mod sensitive_host_path_mount;
pub(super) mod service_root_user;
pub(super) mod shared_mount_propagation;
pub(super) mod tmpfs_exec_or_suid;
pub(super) mod unknown_service_key;
pub(super) mod writable_bind_mount;
pub(super) mod writable_root_filesystem;

use crate::compose::edit::{self, YValue};
use crate::compose::model::{Mount, SValue, Service, Value, VolumeKind};
use crate::diagnostic::Diagnostic;
use crate::fix::{Applicability, Edit, Fix};
use crate::source::{FileRef, Span};

/// The span of the service's own key `key` (after merges), if it has one.
fn key_span(service: &Service, key: &str) -> Option<Span> {
    service.keys.iter().find(|k| k.value == key).map(|k| k.span)
}

/// The file numbered `file` of the project (see `Span::file`), when a fix may edit it: a YAML
/// Compose file. A `devcontainer.json`'s service is lowered from JSON (no YAML edits there).
fn editable(cx: &super::Ctx<'_>, file: u16) -> Option<FileRef> {
    let f = if file == 0 {
        cx.file().clone()
    } else {
        cx.facts().files().get(usize::from(file))?.clone()
    };
    let json = f
        .path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    (!json).then_some(f)
}

/// A fix of `edits` placed in `file` by `crate::compose::edit`: `None` when any edit could not
/// be placed (the fix is then not offered at all).
fn fix_of(
    file: &FileRef,
    applicability: Applicability,
    message: impl Into<std::borrow::Cow<'static, str>>,
    edits: impl IntoIterator<Item = Option<(Span, String)>>,
) -> Option<Fix> {
    let edits = edits
        .into_iter()
        .map(|e| {
            e.map(|(span, replacement)| Edit {
                file: file.clone(),
                span,
                replacement,
            })
        })
        .collect::<Option<Vec<Edit>>>()?;
    (!edits.is_empty()).then(|| Fix::new(applicability, message, edits))
}

/// Adds `items` to the service's sequence `key` (whose current items are `current`): a new key
/// when it has none, else appended to the ones it has.
fn add_to_seq(
    text: &str,
    service: &Service,
    key: &str,
    current: &[SValue],
    items: &[&str],
) -> Option<(Span, String)> {
    if current.is_empty() {
        let value = YValue::Seq(items.iter().map(|i| (*i).to_string()).collect());
        edit::insert_key(text, service, key, &value)
    } else {
        edit::append_items(text, service, current, items)
    }
}

/// Attaches `fix` to the finding just reported, when there is one.
fn attach(d: &mut Diagnostic, fix: Option<Fix>) {
    if let Some(fix) = fix {
        d.fix(fix);
    }
}

/// The image a service pulls: its known, non-empty `image:`, unless the service has `build:`
/// (then `image:` names the image built, not one pulled).
fn pulled_image(service: &Service) -> Option<(&str, Span)> {
    if service.build.is_some() {
        return None;
    }
    let image = service.image.as_ref()?;
    let text = image.value.known()?.trim();
    (!text.is_empty()).then_some((text, image.span))
}

/// A service name as shown in messages.
fn svc(service: &Service) -> String {
    crate::source::clip(&service.name.value, 32)
}

/// Whether a known resource limit means "no limit" to Docker: a number `<= 0` (`0`, `-1`, `0.0`,
/// `0m`). `None` when the value is unknown or does not start with a number.
fn is_unlimited(value: &Value) -> Option<bool> {
    let text = value.known()?.trim();
    let end = text
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || (i == 0 && (c == '-' || c == '+'))))
        .map_or(text.len(), |(i, _)| i);
    let number: f64 = text.get(..end)?.parse().ok()?;
    Some(number <= 0.0)
}

/// Checks a "the service must set some limit" rule: `candidates` are the keys that satisfy it.
/// Reports at the service name when none is set, or at the first value when every value set
/// means "unlimited". Unknown or unparseable values satisfy the rule (not ours to judge).
fn check_limit(
    cx: &mut super::Ctx<'_>,
    service: &Service,
    what: &str,
    candidates: &[(&str, Option<&SValue>)],
    help: &'static str,
    value: &str,
) {
    let set: Vec<(&str, &SValue)> = candidates
        .iter()
        .filter_map(|(k, v)| v.map(|v| (*k, v)))
        .collect();
    let name = svc(service);
    let Some(&(key, first)) = set.first() else {
        // in the `deploy.resources.limits` block when there is one: where the limit goes
        let at = service.limits.block.unwrap_or(service.name.span);
        let fix = limit_fix(cx, service, what, candidates, value, &[]);
        let d = cx
            .report(at, format!("service `{name}` sets no {what}"))
            .help(help);
        attach(d, fix);
        return;
    };
    if set
        .iter()
        .all(|(_, v)| is_unlimited(&v.value) == Some(true))
    {
        let fix = limit_fix(cx, service, what, candidates, value, &set);
        let d = cx.report(
            first.span,
            format!(
                "service `{name}` has an unlimited {what} (`{}: {}`)",
                key.trim_start_matches("deploy.resources."),
                crate::source::clip(first.value.text(), 6)
            ),
        );
        d.help(help);
        attach(d, fix);
    }
}

/// The fix of a limit rule: `KEY: value` (`KEY` the first candidate) when no limit is set, else
/// `value` in place of each unlimited value `set` (only for the first candidate and the
/// `deploy.resources.limits` key, which take the same unit). Unsafe: a limit can stop a
/// service that works today (see the rules' docs for the values chosen).
fn limit_fix(
    cx: &super::Ctx<'_>,
    service: &Service,
    what: &str,
    candidates: &[(&str, Option<&SValue>)],
    value: &str,
    set: &[(&str, &SValue)],
) -> Option<Fix> {
    let (key, _) = candidates.first()?;
    let file = editable(cx, service.span.file)?;
    let text = &file.text;
    if set.is_empty() {
        // with a `deploy` block, Compose rejects a service-level limit that differs from the
        // `deploy.resources.limits` one (unset included): the limit goes into the block
        if service.limits.block.is_some() {
            return deploy_limit_fix(&file, service, what, candidates, value);
        }
        let edit = edit::insert_key(text, service, key, &YValue::Scalar(value.to_string()));
        return fix_of(
            &file,
            Applicability::Unsafe,
            format!("set a {what}: `{key}: {value}`"),
            [edit],
        );
    }
    let plain = value.trim_matches('"');
    let edits: Vec<Option<(Span, String)>> = (set.iter())
        .map(|(k, v)| {
            (k == key || k.starts_with("deploy.resources.limits."))
                .then(|| edit::replace_scalar(text, service, v, plain))
                .flatten()
        })
        .collect();
    fix_of(
        &file,
        Applicability::Unsafe,
        format!("set a {what} of `{plain}`"),
        edits,
    )
}

/// `limit: value` written into the service's `deploy` block, at its deepest written level
/// (`deploy:` gets `resources: {limits: …}`, `resources:` gets `limits: …`), `limit` the leaf of
/// the candidate `deploy.resources.limits.<limit>`. `None` when that level is not a mapping of
/// the service's own file.
fn deploy_limit_fix(
    file: &FileRef,
    service: &Service,
    what: &str,
    candidates: &[(&str, Option<&SValue>)],
    value: &str,
) -> Option<Fix> {
    let leaf = (candidates.iter()).find_map(|(k, _)| k.strip_prefix("deploy.resources.limits."))?;
    let (map, depth) = service.limits.block_map?;
    let scalar = YValue::Scalar(value.to_string());
    let (key, value_at) = match depth {
        1 => (
            "resources",
            YValue::Map(vec![(
                "limits".into(),
                YValue::Map(vec![(leaf.into(), scalar)]),
            )]),
        ),
        2 => ("limits", YValue::Map(vec![(leaf.into(), scalar)])),
        _ => (leaf, scalar),
    };
    let edit = edit::insert_into_mapping(&file.text, service, map, key, &value_at);
    fix_of(
        file,
        Applicability::Unsafe,
        format!("set a {what}: `deploy.resources.limits.{leaf}: {value}`"),
        [edit],
    )
}

/// A volume entry that gives the container the runtime API.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SocketMount {
    /// The socket (or Windows named pipe) itself; the text is the source as written after interpolation.
    Socket(String),
    /// A directory that holds a runtime socket.
    Directory(String),
}

/// Runtime socket file names (lowercase).
const SOCKET_NAMES: &[&str] = &[
    "docker.sock",
    "docker.sock.raw",
    "containerd.sock",
    "podman.sock",
    "crio.sock",
];

/// Windows named pipes of container engines (lowercase).
const PIPE_NAMES: &[&str] = &[
    "docker_engine",
    "dockerdesktoplinuxengine",
    "podman-machine-default",
];

/// Directories that hold a runtime socket, without the leading `/run` or `/var/run`.
const SOCKET_DIRS: &[&str] = &["", "/containerd", "/podman", "/crio", "/docker"];

/// `` through named volume `x` `` for a bind through a named volume, else nothing: the end of
/// a mount finding's message.
fn through(mount: &Mount<'_>) -> String {
    match &mount.via {
        Some(bind) => format!(
            " through named volume `{}`",
            crate::source::clip(&bind.volume.name.value, 24)
        ),
        None => String::new(),
    }
}

/// Labels a finding on a bind through a named volume at the volume's `device:`.
fn label_device(d: &mut Diagnostic, file: &FileRef, mount: &Mount<'_>) {
    if let Some(bind) = &mount.via {
        let device = bind.device.value.text().trim();
        // Unless Compose resolves it, `device:` reaches the daemon as written: a relative path
        // is the daemon's.
        let relative = if !bind.resolved_by_compose
            && bind.device.value.known().is_some()
            && !device.starts_with('/')
        {
            " (relative to the Docker daemon's directory, not the project)"
        } else {
            ""
        };
        d.label(
            file,
            bind.device.span,
            format!(
                "named volume `{}` binds host path `{}`{relative}",
                crate::source::clip(&bind.volume.name.value, 24),
                crate::source::clip(device, 26)
            ),
        );
    }
}

/// Whether a mount is of a container runtime socket or the directory holding one.
fn socket_mount(volume: &Mount<'_>) -> Option<SocketMount> {
    if !matches!(volume.kind, VolumeKind::Bind | VolumeKind::Npipe) {
        return None;
    }
    let source = volume.source?.value.known()?;
    let path = source.trim().replace('\\', "/").to_ascii_lowercase();
    let base = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    if SOCKET_NAMES.contains(&base) {
        return Some(SocketMount::Socket(source.to_string()));
    }
    let is_pipe = path.starts_with("//./pipe/") || volume.kind == VolumeKind::Npipe;
    if is_pipe && PIPE_NAMES.contains(&base) {
        return Some(SocketMount::Socket(source.to_string()));
    }
    if is_socket_dir(&path) {
        return Some(SocketMount::Directory(source.to_string()));
    }
    None
}

/// `/run`, `/var/run/containerd/`, `//run/user/1000`, ... (lowercased, `/` separators).
fn is_socket_dir(path: &str) -> bool {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if !path.starts_with('/') {
        return false;
    }
    let rest = match parts.as_slice() {
        ["run", rest @ ..] | ["var", "run", rest @ ..] => rest,
        _ => return false,
    };
    match rest {
        [] => true,
        [dir] => SOCKET_DIRS.contains(&format!("/{dir}").as_str()),
        ["user", uid] | ["user", uid, "podman" | "docker"] => {
            uid.chars().all(|c| c.is_ascii_digit())
        }
        _ => false,
    }
}

#[cfg(test)]
pub(crate) mod test_util {
    use crate::diagnostic::Diagnostic;
    use crate::testing::{FileKind, Selection, lint_text};

    /// Every finding of `rule` in `text` (linted as `compose.yaml`).
    pub fn diagnostics(rule: &str, text: &str) -> Vec<Diagnostic> {
        lint_text(
            FileKind::Compose,
            "compose.yaml",
            text,
            &Selection::only(rule),
        )
    }

    fn at(text: &str, span: crate::source::Span) -> String {
        text.get(span.range()).unwrap_or("<bad span>").to_string()
    }

    /// `(code, text under the span)` of every finding of `rule` in `text`.
    pub fn findings(rule: &str, text: &str) -> Vec<(&'static str, String)> {
        diagnostics(rule, text)
            .into_iter()
            .map(|d| (d.rule.code, at(text, d.span)))
            .collect()
    }

    /// A finding as `(text under the span, message, [(text under the label, label message)])`.
    pub type Located = (String, String, Vec<(String, String)>);

    /// Every finding of `rule` in `text`, located.
    pub fn located(rule: &str, text: &str) -> Vec<Located> {
        diagnostics(rule, text)
            .into_iter()
            .map(|d| {
                let labels = d
                    .labels
                    .iter()
                    .map(|l| (at(text, l.span), l.message.clone()));
                (at(text, d.span), d.message, labels.collect())
            })
            .collect()
    }

    /// `text` with every fix of `rule`'s findings applied, in rounds as the engine does.
    pub fn fixed(rule: &str, text: &str) -> String {
        crate::testing::fixed_with(|t| diagnostics(rule, t), text).0
    }

    /// The messages of every finding of `rule` in `text`.
    pub fn messages(rule: &str, text: &str) -> Vec<String> {
        diagnostics(rule, text)
            .into_iter()
            .map(|d| d.message)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unlimited_values() {
        let k = |s: &str| Value::Known(s.to_string());
        assert_eq!(is_unlimited(&k("0")), Some(true));
        assert_eq!(is_unlimited(&k("-1")), Some(true));
        assert_eq!(is_unlimited(&k("0.0")), Some(true));
        assert_eq!(is_unlimited(&k("0m")), Some(true));
        assert_eq!(is_unlimited(&k("512m")), Some(false));
        assert_eq!(is_unlimited(&k("0.5")), Some(false));
        assert_eq!(is_unlimited(&k("100")), Some(false));
        assert_eq!(is_unlimited(&k("abc")), None);
        assert_eq!(is_unlimited(&Value::Unknown("${X}".into())), None);
    }

    /// Every message of every Compose rule stays within the conventions, even for long names and values.
    #[test]
    fn messages_follow_conventions() {
        let long = "a-service-with-a-really-quite-extraordinarily-long-name";
        let text = format!(
            "services:\n  {long}:\n    image: x\n    privileged: true\n    read_only: false\n    \
             security_opt: [\"no-new-privileges:false\"]\n    mem_limit: 0\n    cpus: 0\n    \
             pids_limit: -1\n    cap_drop: [NET_RAW]\n    user: root\n    use_api_socket: true\n    cap_add: [CAP_DAC_READ_SEARCH, MAC_OVERRIDE, BPF]\n    \
             volumes:\n      - /run/user/1000/some/deeply/nested/runtime/directory/docker.sock:/s\n      \
             - /var/run:/host/var/run\n      - ./a/very/long/relative/path/to/some/configuration/directory:/etc/x\n    \
             ports: [\"65000-65010:65000-65010/udp\", \"8080\"]\n  {long}-2:\n    build: ./no-such-dir\n    network_mode: host\n  \
             {long}-3:\n    image: registry.example.com/some/deeply/nested/repository/name:some-very-long-tag-name\n    \
             pid: host\n    uts: host\n    security_opt: [\"systempaths=unconfined\"]\n    \
             devices: [\"/dev/some/really/long/device/path/name/that/goes/on:/dev/x\"]\n    \
             oom_kill_disable: true\n    ports: [\"1-1023:1-1023\"]\n    \
             environment:\n      A_VERY_LONG_ENVIRONMENT_VARIABLE_NAME_FOR_THE_DATABASE_PASSWORD: x\n    \
             healthcheck:\n      disable: true\n    tmpfs: [\"/some/really/long/tmpfs/path/for/scratch/files:exec,suid\"]\n    \
             logging:\n      driver: none\n    \
             sysctls: [\"net.ipv4.conf.all.some_really_long_sysctl_name_here=1\"]\n    \
             no-new-privileges: true\n    some_really_long_unknown_key_name_that_goes_on_and_on: 1\n    \
             extra_hosts: [\"some.really.long.host.name.for.the.host.gateway.example:host-gateway\"]\n    \
             cgroup_parent: some-really-long-cgroup-parent-name-for-a-batch-of-executors.slice\n    \
             volumes:\n      - /etc/some/really/long/path/to/a/configuration/directory:/x\n      \
             - /mnt/some/really/long/path/to/a/shared/directory:/y:rshared\n      \
             - {long}-volume:/z\n  \
             {long}-4:\n    build:\n      context: .\n      args:\n        \
             SOME_REALLY_LONG_BUILD_ARGUMENT_NAME_THAT_IS_A_TOKEN: https://u:p@x\n\
             volumes:\n  {long}-volume:\n    driver_opts:\n      type: none\n      o: bind\n      \
             device: /etc/some/really/long/path/to/a/configuration/directory/of/the/host\n"
        );
        let found = crate::testing::lint_text(
            crate::testing::FileKind::Compose,
            "compose.yaml",
            &text,
            &crate::testing::Selection::all(),
        );
        let ours: Vec<_> = found
            .iter()
            .filter(|d| d.rule.code.starts_with("SLC"))
            .collect();
        let through = ours
            .iter()
            .filter(|d| {
                d.message
                    .contains(&format!("through named volume `{long}-volume`"))
            })
            .count();
        assert_eq!(through, 2, "SLC010 and SLC014 through the named volume");
        let mut codes: Vec<&str> = ours.iter().map(|d| d.rule.code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), 33, "{codes:?}");
        for d in ours {
            let m = &d.message;
            // Names are shown whole (never cut short, so a fix can be pasted): the message
            // around them stays short, and only a value over `CLIP_LIMIT` is clipped.
            assert!(
                m.chars().count() <= 100 + 2 * crate::source::CLIP_LIMIT,
                "{} chars: {m}",
                m.chars().count()
            );
            if m.starts_with("service `") {
                assert!(m.contains(long), "service name cut short: {m}");
            }
            assert!(m.starts_with(|c: char| c.is_lowercase()), "{m}");
            assert!(!m.ends_with('.'), "{m}");
            assert!(d.help.is_some(), "{m}");
        }
    }

    #[test]
    fn socket_dirs() {
        for yes in [
            "/run",
            "/var/run/",
            "//var/run",
            "/run/containerd",
            "/run/user/1000",
            "/run/user/1000/podman",
        ] {
            assert!(is_socket_dir(yes), "{yes}");
        }
        for no in [
            "/",
            "/var",
            "/run/secrets",
            "/var/run/mysqld",
            "./run",
            "run",
            "/run/user/abc",
        ] {
            assert!(!is_socket_dir(no), "{no}");
        }
    }
}
