//! The Compose merge rules, on YAML node trees: how a later file (an override, an including or
//! extending file) combines with an earlier one.
//!
//! Mappings merge key by key, scalars are replaced, `environment`/`build.args`/`labels`/
//! `extra_hosts`/`sysctls` merge by name (list or mapping form), `volumes` by container path,
//! `ports` by host IP, published port, target and protocol, other sequences (`cap_add`,
//! `cap_drop`, `security_opt`, `devices`, `dns`, `tmpfs`, ...) are unioned, and `command`,
//! `entrypoint` and `healthcheck.test` are replaced. `!reset` removes a value, `!override`
//! replaces it. Every value keeps its node, so its span still points at the file that set it.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use super::merge;
use super::yaml::{self, Node, NodeKind};

/// A mapping node like `like`, with `pairs`.
pub(super) fn map_node(like: &Node, pairs: Vec<(Rc<Node>, Rc<Node>)>) -> Node {
    let size = pairs.iter().fold(1u64, |acc, (k, v)| {
        acc.saturating_add(k.size).saturating_add(v.size)
    });
    let height = pairs.iter().map(|(_, v)| v.height + 1).max().unwrap_or(1);
    Node {
        span: like.span,
        tag: None,
        kind: NodeKind::Map(pairs),
        size,
        height,
    }
}

fn seq_node(like: &Node, items: Vec<Rc<Node>>) -> Node {
    let size = items.iter().fold(1u64, |acc, n| acc.saturating_add(n.size));
    let height = items.iter().map(|n| n.height + 1).max().unwrap_or(1);
    Node {
        span: like.span,
        tag: None,
        kind: NodeKind::Seq(items),
        size,
        height,
    }
}

/// The entries of a mapping with `<<` merges resolved, as owned pairs.
fn flat_pairs(map: &Node) -> Vec<(Rc<Node>, Rc<Node>)> {
    match map.as_map() {
        Some(pairs) if !pairs.iter().any(|(k, _)| k.is_merge_key()) => pairs.to_vec(),
        _ => merge::entries(map)
            .into_iter()
            .map(|e| (Rc::new(e.key.clone()), Rc::new(e.value.clone())))
            .collect(),
    }
}

pub(super) fn without_key(node: &Rc<Node>, key: &str) -> Rc<Node> {
    if node.as_map().is_none() {
        return node.clone();
    }
    let pairs = flat_pairs(node)
        .into_iter()
        .filter(|(k, _)| k.scalar() != Some(key))
        .collect();
    Rc::new(map_node(node, pairs))
}

pub(super) fn replace_key(node: &Rc<Node>, key: &str, value: Rc<Node>) -> Rc<Node> {
    let pairs = flat_pairs(node)
        .into_iter()
        .map(|(k, v)| {
            if k.scalar() == Some(key) {
                (k, value.clone())
            } else {
                (k, v)
            }
        })
        .collect();
    Rc::new(map_node(node, pairs))
}

/// How the sequence at a path merges.
enum SeqRule {
    /// The later sequence replaces the earlier one.
    Replace,
    /// Items with the same key: the later wins; others are appended.
    Keyed(fn(&Node) -> Option<String>),
    /// A set: items already there stay (with their location); new ones are appended.
    Union,
}

fn seq_rule(path: &[&str]) -> SeqRule {
    let last = path.last().copied().unwrap_or("");
    let parent = path
        .len()
        .checked_sub(2)
        .and_then(|i| path.get(i))
        .copied()
        .unwrap_or("");
    match (parent, last) {
        (_, "command" | "entrypoint") | ("healthcheck", "test") => SeqRule::Replace,
        (_, "environment" | "args" | "labels" | "sysctls" | "annotations") => {
            SeqRule::Keyed(env_key)
        }
        (_, "extra_hosts") => SeqRule::Keyed(host_key),
        (_, "volumes") if path.first() == Some(&"services") => SeqRule::Keyed(volume_key),
        (_, "ports") if path.first() == Some(&"services") => SeqRule::Keyed(port_key),
        _ => SeqRule::Union,
    }
}

fn env_key(n: &Node) -> Option<String> {
    let s = n.scalar()?;
    Some(s.split('=').next().unwrap_or(s).trim().to_string())
}

fn host_key(n: &Node) -> Option<String> {
    let s = n.scalar()?;
    Some(s.split(['=', ':']).next().unwrap_or(s).trim().to_string())
}

/// A volume entry's container path (short `src:dst[:opts]` or long `target:`).
fn volume_key(n: &Node) -> Option<String> {
    if n.as_map().is_some() {
        return merge::get(n, "target").and_then(|e| e.value.scalar().map(str::to_string));
    }
    let s = n.scalar()?;
    let parts: Vec<&str> = s.split(':').collect();
    Some(match parts.as_slice() {
        [one] => (*one).to_string(),
        [_, dst] | [_, dst, _] => (*dst).to_string(),
        _ => s.to_string(),
    })
}

/// A published port's identity: host IP, published port, container port and protocol, from
/// the short (`[ip:][published:]target[/proto]`) or the long syntax.
fn port_key(n: &Node) -> Option<String> {
    if n.as_map().is_some() {
        let get = |k: &str| {
            merge::get(n, k)
                .and_then(|e| e.value.scalar().map(str::to_string))
                .unwrap_or_default()
        };
        let proto = get("protocol");
        return Some(format!(
            "{}|{}|{}|{}",
            get("host_ip"),
            get("published"),
            get("target"),
            if proto.is_empty() {
                "tcp".to_string()
            } else {
                proto
            }
        ));
    }
    let s = n.scalar()?;
    let (addr, proto) = s.rsplit_once('/').unwrap_or((s, "tcp"));
    // `[::1]:8080:80` keeps its brackets; split the rest on `:`.
    let (ip, rest) = match addr.strip_prefix('[') {
        Some(r) => match r.split_once("]:") {
            Some((ip, rest)) => (ip.to_string(), rest),
            None => (String::new(), addr),
        },
        None => (String::new(), addr),
    };
    let parts: Vec<&str> = rest.split(':').collect();
    let (ip, published, target) = match parts.as_slice() {
        [t] => (ip, String::new(), (*t).to_string()),
        [p, t] => (ip, (*p).to_string(), (*t).to_string()),
        [i, p, t] => ((*i).to_string(), (*p).to_string(), (*t).to_string()),
        _ => return Some(s.to_string()),
    };
    Some(format!("{ip}|{published}|{target}|{proto}"))
}

/// A scalar's text; mappings are keyed by their own canonical text.
fn scalar_key(n: &Node) -> Option<String> {
    match &n.kind {
        NodeKind::Scalar { value, .. } => Some(value.clone()),
        NodeKind::Map(_) => Some(
            merge::entries(n)
                .iter()
                .map(|e| {
                    format!(
                        "{}={}",
                        e.name().unwrap_or(""),
                        e.value.scalar().unwrap_or("")
                    )
                })
                .collect::<Vec<_>>()
                .join(","),
        ),
        NodeKind::Seq(_) => None,
    }
}

/// Keys whose value may be written as a mapping or as a list of `KEY=value` items.
const DUAL_FORM: &[&str] = &[
    "environment",
    "args",
    "labels",
    "sysctls",
    "annotations",
    "extra_hosts",
];

/// A `KEY=value` list as the equivalent mapping (each key and value spans its list item).
fn list_as_map(seq: &Node, items: &[Rc<Node>], host_style: bool) -> Node {
    let pairs = items
        .iter()
        .filter_map(|item| {
            let text = item.scalar()?;
            let split = if host_style {
                text.find(['=', ':'])
            } else {
                text.find('=')
            };
            let (k, v) = match split {
                Some(i) => (&text[..i], Some(&text[i + 1..])),
                None => (text, None),
            };
            let scalar = |value: &str, null: bool| Node {
                span: item.span,
                tag: null.then(|| "tag:yaml.org,2002:null".to_string()),
                kind: NodeKind::Scalar {
                    value: value.to_string(),
                    style: if null {
                        yaml::Style::Plain
                    } else {
                        yaml::Style::DoubleQuoted
                    },
                },
                size: 1,
                height: 0,
            };
            Some((
                Rc::new(scalar(k.trim(), false)),
                Rc::new(scalar(v.unwrap_or(""), v.is_none())),
            ))
        })
        .collect();
    map_node(seq, pairs)
}

/// Merges `over` onto `base` at `path` (keys from the root; services' names are `*`).
pub fn merge(base: &Rc<Node>, over: &Rc<Node>, path: &[&str]) -> Rc<Node> {
    if over.tag.as_deref() == Some("!override") || over.is_reset() {
        return over.clone();
    }
    // `environment: [A=1]` in one file and `environment: {B: 2}` in the other: merge as mappings.
    let last = path.last().copied().unwrap_or("");
    if DUAL_FORM.contains(&last) {
        let host_style = last == "extra_hosts";
        match (&base.kind, &over.kind) {
            (NodeKind::Seq(items), NodeKind::Map(_)) => {
                return merge(&Rc::new(list_as_map(base, items, host_style)), over, path);
            }
            (NodeKind::Map(_), NodeKind::Seq(items)) => {
                return merge(base, &Rc::new(list_as_map(over, items, host_style)), path);
            }
            _ => {}
        }
    }
    match (&base.kind, &over.kind) {
        (NodeKind::Map(_), NodeKind::Map(_)) => merge_maps(base, over, path),
        (NodeKind::Seq(b), NodeKind::Seq(o)) => match seq_rule(path) {
            SeqRule::Replace => over.clone(),
            SeqRule::Union => Rc::new(seq_node(over, union(b, o))),
            SeqRule::Keyed(key) => Rc::new(seq_node(over, keyed(b, o, key))),
        },
        _ => over.clone(),
    }
}

/// Two mappings: key by key, recursively; `!reset` removes a key.
fn merge_maps(base: &Rc<Node>, over: &Rc<Node>, path: &[&str]) -> Rc<Node> {
    // slots (`None`: removed by `!reset`) and the first slot of each key name: one hash
    // probe per key instead of a scan of the mapping (many services, many keys)
    let mut out: Vec<Option<(Rc<Node>, Rc<Node>)>> =
        flat_pairs(base).into_iter().map(Some).collect();
    let mut at: HashMap<String, usize> = HashMap::with_capacity(out.len());
    for (i, slot) in out.iter().enumerate() {
        if let Some(n) = slot.as_ref().and_then(|(k, _)| k.scalar()) {
            at.entry(n.to_string()).or_insert(i);
        }
    }
    for (k, v) in flat_pairs(over) {
        let name = k.scalar().map(str::to_string);
        let pos = name.as_deref().and_then(|n| at.get(n).copied());
        if v.is_reset() {
            if let (Some(i), Some(n)) = (pos, name.as_deref()) {
                if let Some(slot) = out.get_mut(i) {
                    *slot = None;
                }
                at.remove(n);
            }
            continue;
        }
        match pos {
            Some(i) => {
                let child_key = if path == ["services"] {
                    "*"
                } else {
                    name.as_deref().unwrap_or("")
                };
                let mut child_path = path.to_vec();
                child_path.push(child_key);
                if let Some(Some(slot)) = out.get_mut(i) {
                    let merged = merge(&slot.1, &v, &child_path);
                    // A service keeps the name where it was first defined (the base
                    // file): findings about the whole service ("no memory limit") point
                    // there, where its suppression comments are too.
                    let key = if path == ["services"] {
                        slot.0.clone()
                    } else {
                        k
                    };
                    *slot = (key, merged);
                }
            }
            None => {
                if let Some(n) = name {
                    at.entry(n).or_insert(out.len());
                }
                out.push(Some((k, v)));
            }
        }
    }
    Rc::new(map_node(over, out.into_iter().flatten().collect()))
}

/// A set: items of `b` stay (with their location); items of `o` not in it are appended.
fn union(b: &[Rc<Node>], o: &[Rc<Node>]) -> Vec<Rc<Node>> {
    let mut out: Vec<Rc<Node>> = b.to_vec();
    let mut seen: HashSet<String> = out.iter().filter_map(|x| scalar_key(x)).collect();
    for item in o {
        match scalar_key(item) {
            None => out.push(item.clone()),
            Some(k) => {
                if seen.insert(k) {
                    out.push(item.clone());
                }
            }
        }
    }
    out
}

/// Items of `o` replace the item of `b` with the same key (in its place); others are appended.
fn keyed(b: &[Rc<Node>], o: &[Rc<Node>], key: fn(&Node) -> Option<String>) -> Vec<Rc<Node>> {
    let mut out: Vec<Rc<Node>> = b.to_vec();
    let mut at: HashMap<String, usize> = HashMap::with_capacity(out.len());
    for (i, x) in out.iter().enumerate() {
        if let Some(k) = key(x) {
            at.entry(k).or_insert(i);
        }
    }
    for item in o {
        match key(item) {
            Some(k) => match at.get(&k) {
                Some(&i) => {
                    if let Some(slot) = out.get_mut(i) {
                        *slot = item.clone();
                    }
                }
                None => {
                    at.insert(k, out.len());
                    out.push(item.clone());
                }
            },
            None => out.push(item.clone()),
        }
    }
    out
}
