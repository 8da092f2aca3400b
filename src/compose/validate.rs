//! What `docker compose config` rejects although the YAML loads: an empty project, `services`
//! or a service that is not a mapping, values of the wrong type (the Compose specification's
//! JSON schema, for the keys sandlint reads and the security-relevant ones), booleans Compose
//! cannot cast, ports it cannot parse, a service with neither `image` nor `build`. The loader
//! (`build.rs`) stays lenient; these checks run once on the effective tree of a project
//! (after `include`, `extends` and override merges, as Compose validates) and on its model (after
//! interpolation; values that depend on an unset variable are not judged). See
//! `rules/compose-syntax-error.md` for the table and the verdicts of `docker compose config`.

use super::model::{ComposeFile, LoadError, SValue};
use super::yaml::{Node, NodeKind, Style};
use crate::source::Span;

/// The schema type of a key's value.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ty {
    Str,
    /// `boolean` or `string` (cast by Compose).
    BoolOrStr,
    /// `number` or `string`.
    NumOrStr,
    /// An array of strings.
    StrSeq,
    /// An array (items checked elsewhere).
    Seq,
    /// An array or a mapping.
    SeqOrMap,
    /// A string or an array of strings.
    StrOrSeq,
    /// A string or an array of strings and mappings (`env_file`).
    StrOrSeqOfMaps,
    Map,
    /// `null`, a string or an array (`command`, `entrypoint`).
    Command,
    /// A string or a mapping (`build`, `extends`).
    StrOrMap,
    /// `null` or a mapping (`deploy`).
    MapOrNull,
    /// `null` or a string (`pid`).
    StrOrNull,
}

/// Top-level keys of the specification (besides `x-*` extensions).
const TOP_LEVEL: &[&str] = &[
    "version", "name", "include", "services", "models", "networks", "volumes", "secrets", "configs",
];

/// Service keys whose type is checked (from the specification's `service` definition).
fn service_key_type(key: &str) -> Option<Ty> {
    use Ty::*;
    Some(match key {
        "image" | "user" | "network_mode" | "ipc" | "uts" | "userns_mode" | "cgroup"
        | "cgroup_parent" | "container_name" | "hostname" | "domainname" | "platform"
        | "runtime" | "restart" | "working_dir" | "stop_signal" | "stop_grace_period"
        | "isolation" | "mac_address" | "cpuset" | "pull_policy" => Str,
        "privileged" | "read_only" | "init" | "oom_kill_disable" | "tty" | "stdin_open"
        | "attach" | "use_api_socket" => BoolOrStr,
        "mem_limit" | "memswap_limit" | "mem_reservation" | "cpus" | "cpu_shares" | "cpu_quota"
        | "cpu_period" | "pids_limit" | "shm_size" | "cpu_count" | "cpu_percent"
        | "mem_swappiness" | "oom_score_adj" | "scale" => NumOrStr,
        "cap_add"
        | "cap_drop"
        | "security_opt"
        | "device_cgroup_rules"
        | "profiles"
        | "dns_opt"
        | "group_add"
        | "links"
        | "external_links"
        | "volumes_from" => StrSeq,
        "ports" | "volumes" | "devices" | "expose" => Seq,
        "environment" | "labels" | "sysctls" | "extra_hosts" | "annotations" | "networks"
        | "depends_on" | "secrets" | "configs" => SeqOrMap,
        "dns" | "dns_search" | "tmpfs" => StrOrSeq,
        "env_file" => StrOrSeqOfMaps,
        "logging" | "healthcheck" | "ulimits" | "blkio_config" | "credential_spec"
        | "storage_opt" => Map,
        "command" | "entrypoint" => Command,
        "build" | "extends" => StrOrMap,
        "deploy" => MapOrNull,
        "pid" => StrOrNull,
        _ => return None,
    })
}

/// How YAML (1.2 core schema, as Compose's parser reads it) types a scalar.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scalar {
    Null,
    Bool,
    Number,
    Str,
}

fn scalar_type(n: &Node) -> Option<Scalar> {
    let NodeKind::Scalar { value, style } = &n.kind else {
        return None;
    };
    if n.is_null() {
        return Some(Scalar::Null);
    }
    match n.tag.as_deref() {
        Some("tag:yaml.org,2002:str") => return Some(Scalar::Str),
        Some("tag:yaml.org,2002:int" | "tag:yaml.org,2002:float") => return Some(Scalar::Number),
        Some("tag:yaml.org,2002:bool") => return Some(Scalar::Bool),
        _ => {}
    }
    if *style != Style::Plain {
        return Some(Scalar::Str);
    }
    Some(match value.as_str() {
        "true" | "True" | "TRUE" | "false" | "False" | "FALSE" => Scalar::Bool,
        v if is_yaml_number(v) => Scalar::Number,
        _ => Scalar::Str,
    })
}

/// YAML 1.2 core schema int/float (decimal, `0x`, `0o`, `.inf`, `.nan`).
fn is_yaml_number(v: &str) -> bool {
    let unsigned = v.strip_prefix(['-', '+']).unwrap_or(v);
    if matches!(unsigned, ".inf" | ".Inf" | ".INF") || matches!(v, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    if let Some(h) = v.strip_prefix("0x") {
        return !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit());
    }
    if let Some(o) = v.strip_prefix("0o") {
        return !o.is_empty() && o.bytes().all(|b| (b'0'..=b'7').contains(&b));
    }
    // [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
    let (mantissa, exp) = match unsigned.find(['e', 'E']) {
        Some(i) => (&unsigned[..i], Some(&unsigned[i + 1..])),
        None => (unsigned, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        None => digits(mantissa),
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
    };
    let exp_ok = exp.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)));
    mantissa_ok && exp_ok
}

fn type_ok(ty: Ty, n: &Node) -> bool {
    let scalar = scalar_type(n);
    let seq = n.as_seq().is_some();
    let map = n.as_map().is_some();
    match ty {
        Ty::Str => scalar == Some(Scalar::Str),
        Ty::BoolOrStr => matches!(scalar, Some(Scalar::Bool | Scalar::Str)),
        Ty::NumOrStr => matches!(scalar, Some(Scalar::Number | Scalar::Str)),
        Ty::StrSeq | Ty::Seq => seq,
        Ty::SeqOrMap => seq || map,
        Ty::StrOrSeq | Ty::StrOrSeqOfMaps => seq || scalar == Some(Scalar::Str),
        Ty::Map => map,
        Ty::Command => seq || matches!(scalar, Some(Scalar::Null | Scalar::Str)),
        Ty::StrOrMap => map || scalar == Some(Scalar::Str),
        Ty::MapOrNull => map || scalar == Some(Scalar::Null),
        Ty::StrOrNull => matches!(scalar, Some(Scalar::Null | Scalar::Str)),
    }
}

fn type_name(ty: Ty) -> &'static str {
    match ty {
        Ty::Str => "a string",
        Ty::BoolOrStr => "a boolean",
        Ty::NumOrStr => "a number or a string",
        Ty::StrSeq => "a list of strings",
        Ty::Seq => "a list",
        Ty::SeqOrMap => "a list or a mapping",
        Ty::StrOrSeq => "a string or a list of strings",
        Ty::StrOrSeqOfMaps => "a string or a list",
        Ty::Map => "a mapping",
        Ty::Command => "a string or a list",
        Ty::StrOrMap => "a string or a mapping",
        Ty::MapOrNull => "a mapping",
        Ty::StrOrNull => "a string",
    }
}

fn what(n: &Node) -> &'static str {
    match (scalar_type(n), &n.kind) {
        (Some(Scalar::Null), _) => "empty",
        (Some(Scalar::Bool), _) => "a boolean",
        (Some(Scalar::Number), _) => "a number",
        (Some(Scalar::Str), _) => "a string",
        (_, NodeKind::Seq(_)) => "a list",
        _ => "a mapping",
    }
}

fn error(errors: &mut Vec<LoadError>, message: String, span: Span, help: &str) {
    errors.push(LoadError {
        message,
        span,
        help: Some(help.to_string()),
    });
}

/// Key/value pairs of a mapping after `<<` merges (a merged key that the mapping also writes
/// itself is left out: the written one wins), `!reset` values left out.
fn pairs(map: &Node) -> Vec<(&str, &Node, &Node)> {
    let entries = super::merge::entries(map);
    let written: Vec<&str> = entries
        .iter()
        .filter(|e| !e.merged)
        .filter_map(super::merge::Entry::name)
        .collect();
    entries
        .iter()
        .filter(|e| {
            let shadowed = e.merged && e.name().is_some_and(|n| written.contains(&n));
            !(e.value.is_reset() || shadowed)
        })
        .filter_map(|e| Some((e.name()?, e.key, e.value)))
        .collect()
}

/// Checks the effective tree of a project. `root` is `None` when no file had a document;
/// `partial` says the project's first file is named like a variant (`compose.prod.yaml`), which
/// is merged onto a base at run time and need not name images itself.
pub fn tree(root: Option<&Node>, partial: bool, errors: &mut Vec<LoadError>) {
    let empty = match root {
        None => true,
        Some(r) => r.is_null() || r.as_map().is_some_and(<[_]>::is_empty),
    };
    if empty {
        error(
            errors,
            "empty compose file: it defines nothing".to_string(),
            Span::at(0),
            "`docker compose` refuses an empty project; define `services:`",
        );
        return;
    }
    let Some(root) = root.filter(|r| r.as_map().is_some()) else {
        return; // "the top level is not a mapping", reported by the loader
    };
    let top = pairs(root);
    let has_services = top.iter().any(|(key, ..)| *key == "services");
    let mut unknown = 0;
    for &(key, k, v) in &top {
        // Without `services:` it is the version-1 format (services at the top level): one error.
        if !TOP_LEVEL.contains(&key) && !key.starts_with("x-") && (has_services || unknown == 0) {
            unknown += 1;
            let help = if has_services {
                "the top level holds `services`, `networks`, `volumes`, `secrets`, `configs`, `include`, `name` and `x-*` extensions"
            } else {
                "this looks like the version-1 format, which `docker compose` no longer reads: put the services under `services:`"
            };
            error(
                errors,
                format!("unknown top-level key `{key}`"),
                k.span,
                help,
            );
        }
        if key == "services" {
            services(v, partial, errors);
        }
    }
}

fn services(node: &Node, partial: bool, errors: &mut Vec<LoadError>) {
    if node.is_null() {
        error(
            errors,
            "`services` must be a mapping, not empty".to_string(),
            node.span,
            "write `services: {}` for none, or list services as `name: { image: ... }`",
        );
        return;
    }
    for (name, k, svc) in pairs(node) {
        let svc: &Node = svc;
        if svc.is_null() {
            error(
                errors,
                format!("service `{name}` must be a mapping, not empty"),
                k.span,
                "a service is a mapping such as `{ image: nginx }`",
            );
            continue;
        }
        if svc.as_map().is_none() {
            continue; // reported by the loader
        }
        service(name, k.span, svc, partial, errors);
    }
}

fn service(name: &str, name_span: Span, svc: &Node, partial: bool, errors: &mut Vec<LoadError>) {
    let mut has_image = false;
    for (key, _, v) in pairs(svc) {
        // an `extends` still here could not be followed (reported as unresolved-reference)
        if matches!(key, "image" | "build" | "provider" | "extends") {
            has_image = true;
        }
        let Some(ty) = service_key_type(key) else {
            continue;
        };
        if !type_ok(ty, v) {
            error(
                errors,
                format!(
                    "`{key}` of service `{name}` must be {}, not {}",
                    type_name(ty),
                    what(v)
                ),
                v.span,
                "see the Compose specification for the form of this key",
            );
            continue;
        }
        items(name, key, ty, v, errors);
    }
    if !has_image && !partial {
        error(
            errors,
            format!("service `{name}` has neither `image` nor `build`"),
            name_span,
            "give the service an `image:` or a `build:` context",
        );
    }
}

/// Items of lists whose item type the specification fixes.
fn items(name: &str, key: &str, ty: Ty, v: &Node, errors: &mut Vec<LoadError>) {
    let Some(list) = v.as_seq() else { return };
    let allowed: &[Scalar] = match (ty, key) {
        (Ty::StrSeq | Ty::StrOrSeq, _) => &[Scalar::Str],
        (_, "ports" | "expose") => &[Scalar::Str, Scalar::Number],
        (_, "volumes" | "devices") | (Ty::StrOrSeqOfMaps, _) => &[Scalar::Str],
        _ => return,
    };
    let maps = matches!(key, "ports" | "volumes" | "devices" | "env_file");
    for (i, item) in list.iter().enumerate() {
        let ok = match scalar_type(item) {
            Some(s) => allowed.contains(&s),
            None => maps && item.as_map().is_some(),
        };
        if !ok {
            error(
                errors,
                format!(
                    "item {} of `{key}` of service `{name}` must be {}, not {}",
                    i + 1,
                    if maps {
                        "a string or a mapping"
                    } else if allowed.len() > 1 {
                        "a string or a number"
                    } else {
                        "a string"
                    },
                    what(item)
                ),
                item.span,
                "see the Compose specification for the form of this key",
            );
        }
    }
}

/// Both checks for a project loaded from `inputs` (the first is the base file); the errors to
/// add to the model's.
pub fn project(
    root: Option<&Node>,
    inputs: &[crate::source::FileRef],
    compose: &ComposeFile,
) -> Vec<LoadError> {
    let partial = inputs
        .first()
        .and_then(|f| f.path.file_name())
        .and_then(|n| n.to_str())
        .is_some_and(is_variant_name);
    let mut errors = Vec::new();
    // After an `extends`/`include` that could not be followed (an unresolved-reference finding)
    // a service may lack what the missing file would give it.
    // No root after a file that failed to load is not an empty project.
    if root.is_some() || compose.errors.is_empty() {
        tree(root, partial || !compose.unresolved.is_empty(), &mut errors);
    }
    // A value of the wrong shape (`ports: abc`) is reported once, for its shape.
    let mut values = Vec::new();
    model(compose, &mut values);
    values.retain(|v| !errors.iter().any(|e| e.span == v.span));
    errors.append(&mut values);
    errors
}

/// `compose.<x>.yaml`, `docker-compose.<x>.yml` (case-insensitive): a file merged onto a base.
fn is_variant_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let Some(stem) = lower
        .strip_suffix(".yaml")
        .or_else(|| lower.strip_suffix(".yml"))
    else {
        return false;
    };
    ["compose.", "docker-compose."]
        .iter()
        .any(|p| stem.strip_prefix(p).is_some_and(|rest| !rest.is_empty()))
}

/// Checks values of the loaded model (interpolated): booleans Compose cannot cast and ports it
/// cannot parse.
pub fn model(compose: &ComposeFile, errors: &mut Vec<LoadError>) {
    for s in &compose.services {
        let name = &s.name.value;
        for (key, v) in [
            ("privileged", &s.privileged),
            ("read_only", &s.read_only),
            ("init", &s.init),
            ("oom_kill_disable", &s.oom_kill_disable),
            ("use_api_socket", &s.use_api_socket),
        ] {
            if let Some(v) = v
                && let Some(text) = v.value.known()
                && !is_yaml_number(text)
                && v.value.as_bool().is_none()
            {
                error(
                    errors,
                    format!("`{key}` of service `{name}` is not a boolean: `{text}`"),
                    v.span,
                    "write `true` or `false`",
                );
            }
        }
        for p in &s.ports {
            if p.unknown {
                continue;
            }
            let check = |v: &Option<SValue>, what: &str, errors: &mut Vec<LoadError>| {
                let Some(v) = v else { return };
                let Some(text) = v.value.known() else { return };
                if let Err(reason) = port_range(text) {
                    error(
                        errors,
                        format!("invalid {what} `{text}` of service `{name}`: {reason}"),
                        v.span,
                        "write a port number (0-65535) or a range such as `8000-8010`",
                    );
                }
            };
            check(&p.target, "container port", errors);
            check(&p.published, "host port", errors);
            if let Some(proto) = &p.protocol
                && let Some(text) = proto.value.known()
                && !matches!(text.to_ascii_lowercase().as_str(), "tcp" | "udp" | "sctp")
            {
                error(
                    errors,
                    format!("invalid protocol `{text}` of a port of service `{name}`"),
                    proto.span,
                    "write `tcp`, `udp` or `sctp`",
                );
            }
        }
    }
}

fn port_range(s: &str) -> Result<(), &'static str> {
    let (a, b) = s.split_once('-').unwrap_or((s, s));
    let n = |p: &str| -> Result<u32, &'static str> {
        if p.is_empty() || !p.bytes().all(|c| c.is_ascii_digit()) {
            return Err("not a number");
        }
        p.parse::<u32>()
            .ok()
            .filter(|n| *n <= 65535)
            .ok_or("out of range (0-65535)")
    };
    let (a, b) = (n(a)?, n(b)?);
    if b < a {
        return Err("the range ends before it starts");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_numbers() {
        for n in [
            "0", "-1", "+2", "1.5", ".5", "1e3", "0x1F", "0o17", ".inf", "-.inf", ".nan",
        ] {
            assert!(is_yaml_number(n), "{n}");
        }
        for s in ["", "abc", "1a", "0x", "1.2.3", "yes", "1_000", "e3", "."] {
            assert!(!is_yaml_number(s), "{s}");
        }
    }

    #[test]
    fn ports() {
        assert!(port_range("80").is_ok() && port_range("8000-8010").is_ok());
        for bad in ["abc", "99999", "90-80", "", "-1", "80-"] {
            assert!(port_range(bad).is_err(), "{bad}");
        }
    }
}
