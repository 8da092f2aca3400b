//! Rule documentation embedded from `rules/*.md` (see `build.rs`).
//!
//! The Markdown files are the only source of rule metadata and prose; Rust holds the logic.
//! [`RULES`] is the generated data behind the per-rule statics (`ROOT_USER`, ...); the rules
//! themselves, and the lookup by code or name, are `rules::ALL` and `rules::find`.

// The generated statics name these unqualified; `RuleMeta` and `Status` stay reachable here too.
use crate::meta::Severity;
pub use crate::meta::{RuleMeta, Status};

include!(concat!(env!("OUT_DIR"), "/rule_docs.rs"));

/// The rule names closest to `input`, for "did you mean" messages.
pub fn suggest(input: &str) -> Option<&'static str> {
    RULES
        .iter()
        .map(|r| {
            (
                strsim::levenshtein(&input.to_ascii_lowercase(), r.name),
                r.name,
            )
        })
        .filter(|(d, name)| *d <= (name.len() / 3).max(2))
        .min()
        .map(|(_, n)| n)
}

/// A fenced example in a rule doc: ```` ```dockerfile bad ````.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// `dockerfile` or `compose`.
    pub lang: &'static str,
    /// `true` for `bad`, `false` for `good`.
    pub bad: bool,
    pub code: &'static str,
    /// 1-based line of the opening fence in the doc.
    pub line: usize,
    /// The text of the last ```` ```toml ```` block before this example in the same `##`
    /// section: sandlint config the example runs with.
    pub config: Option<&'static str>,
}

/// Every `dockerfile`/`compose` example block with a `bad` or `good` tag, except `ignore`d ones.
pub fn examples(doc: &'static str) -> Vec<Example> {
    let mut out = Vec::new();
    let mut lines = doc.split_inclusive('\n').enumerate();
    let mut offset = 0usize;
    let mut positions = Vec::new();
    for (i, l) in doc.split_inclusive('\n').enumerate() {
        positions.push((i, offset));
        offset += l.len();
    }
    let mut config: Option<&'static str> = None;
    while let Some((i, line)) = lines.next() {
        if line.starts_with("## ") {
            config = None;
        }
        let Some(info) = line.trim_end().strip_prefix("```") else {
            continue;
        };
        let words: Vec<&str> = info.split_whitespace().collect();
        let start = positions.get(i + 1).map_or(doc.len(), |p| p.1);
        let mut end = start;
        for (j, l) in lines.by_ref() {
            if l.trim_end() == "```" {
                end = positions.get(j).map_or(doc.len(), |p| p.1);
                break;
            }
        }
        if words.first() == Some(&"toml") {
            config = Some(&doc[start..end]);
            continue;
        }
        let (Some(&lang), Some(&kind)) = (words.first(), words.get(1)) else {
            continue;
        };
        if !matches!(lang, "dockerfile" | "compose" | "devcontainer") || words.contains(&"ignore") {
            continue;
        }
        let lang: &'static str = match lang {
            "dockerfile" => "dockerfile",
            "devcontainer" => "devcontainer",
            _ => "compose",
        };
        match kind {
            "bad" | "good" => out.push(Example {
                lang,
                bad: kind == "bad",
                code: &doc[start..end],
                line: i + 1,
                config,
            }),
            _ => {}
        }
    }
    out
}
