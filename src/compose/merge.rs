//! YAML merge keys (`<<: *a`, `<<: [*a, *b]`): the entries of a mapping after merges.
//!
//! Explicit keys win over merged ones; with a list, earlier mappings win over later ones. Merged
//! entries are the nodes written in the anchor, so their spans point where users must edit.
//! Malformed `<<` values are reported by `yaml.rs` when the tree is built.

use std::collections::HashSet;

use super::yaml::{Node, NodeKind};

/// One entry of a mapping after merges.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    pub key: &'a Node,
    pub value: &'a Node,
    /// Whether the entry came in through a `<<` merge key.
    pub merged: bool,
}

impl<'a> Entry<'a> {
    /// The key's text (keys are never interpolated).
    pub fn name(&self) -> Option<&'a str> {
        self.key.scalar()
    }
}

/// The entries of `map` after `<<` merges, in order: explicit entries where they are written and
/// merged ones where the `<<` key is. Empty for a node that is not a mapping. Merge keys nest, so
/// this recurses at most as deep as the tree (bounded by [`super::yaml::MAX_DEPTH`]).
pub fn entries(map: &Node) -> Vec<Entry<'_>> {
    let Some(pairs) = map.as_map() else {
        return Vec::new();
    };
    if !pairs.iter().any(|(k, _)| k.is_merge_key()) {
        return pairs
            .iter()
            .map(|(k, v)| Entry {
                key: k,
                value: v,
                merged: false,
            })
            .collect();
    }
    // Keys written in this mapping win over merged ones wherever they are written.
    let mut seen: HashSet<&str> = pairs
        .iter()
        .filter(|(k, _)| !k.is_merge_key())
        .filter_map(|(k, _)| k.scalar())
        .collect();
    let mut out = Vec::with_capacity(pairs.len());
    for (key, value) in pairs {
        if !key.is_merge_key() {
            out.push(Entry {
                key,
                value,
                merged: false,
            });
            continue;
        }
        let sources: Vec<&Node> = match &value.kind {
            NodeKind::Map(_) => vec![&**value],
            NodeKind::Seq(items) => items.iter().map(|n| &**n).collect(),
            NodeKind::Scalar { .. } => Vec::new(),
        };
        for source in sources {
            if source.as_map().is_none() {
                continue;
            }
            for entry in entries(source) {
                let fresh = match entry.name() {
                    Some(name) => seen.insert(name),
                    None => true,
                };
                if fresh {
                    out.push(Entry {
                        merged: true,
                        ..entry
                    });
                }
            }
        }
    }
    out
}

/// The value of `key` in `map` after merges.
pub fn get<'a>(map: &'a Node, key: &str) -> Option<Entry<'a>> {
    entries(map).into_iter().find(|e| e.name() == Some(key))
}
