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
    /// `dockerfile`, `compose` or `devcontainer`.
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

/// A ```` ```dockerfile fixed ```` block and the `bad` example it follows: the bad example with
/// every fix of the rule's findings applied (in rounds), byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixedExample {
    /// The `bad` example just before the `fixed` block.
    pub bad: Example,
    pub fixed: &'static str,
    /// 1-based line of the `fixed` block's opening fence.
    pub line: usize,
}

/// One fenced block of a doc.
struct Fence {
    /// 0-based line of the opening fence.
    line: usize,
    info: Vec<&'static str>,
    code: &'static str,
}

/// Every fenced block of `doc`, with the `##` section index it stands in.
fn fences(doc: &'static str) -> Vec<(usize, Fence)> {
    let mut out = Vec::new();
    let mut lines = doc.split_inclusive('\n').enumerate();
    let mut offset = 0usize;
    let mut positions = Vec::new();
    for (i, l) in doc.split_inclusive('\n').enumerate() {
        positions.push((i, offset));
        offset += l.len();
    }
    let mut section = 0usize;
    while let Some((i, line)) = lines.next() {
        if line.starts_with("## ") {
            section += 1;
        }
        let Some(info) = line.trim_end().strip_prefix("```") else {
            continue;
        };
        let info: Vec<&'static str> = info.split_whitespace().collect();
        let start = positions.get(i + 1).map_or(doc.len(), |p| p.1);
        let mut end = doc.len();
        for (j, l) in lines.by_ref() {
            if l.trim_end() == "```" {
                end = positions.get(j).map_or(doc.len(), |p| p.1);
                break;
            }
        }
        out.push((
            section,
            Fence {
                line: i,
                info,
                code: doc.get(start..end).unwrap_or(""),
            },
        ));
    }
    out
}

fn example_lang(word: &str) -> Option<&'static str> {
    match word {
        "dockerfile" => Some("dockerfile"),
        "compose" => Some("compose"),
        "devcontainer" => Some("devcontainer"),
        _ => None,
    }
}

/// Every `dockerfile`/`compose`/`devcontainer` example block with a `bad` or `good` tag, except
/// `ignore`d ones (`fixed` blocks are [`fixed_examples`]').
pub fn examples(doc: &'static str) -> Vec<Example> {
    let mut out = Vec::new();
    let mut config: Option<(usize, &'static str)> = None;
    for (section, f) in fences(doc) {
        if config.is_some_and(|(s, _)| s != section) {
            config = None;
        }
        if f.info.first() == Some(&"toml") {
            config = Some((section, f.code));
            continue;
        }
        let (Some(lang), Some(&kind)) =
            (f.info.first().and_then(|l| example_lang(l)), f.info.get(1))
        else {
            continue;
        };
        if f.info.contains(&"ignore") || !matches!(kind, "bad" | "good") {
            continue;
        }
        out.push(Example {
            lang,
            bad: kind == "bad",
            code: f.code,
            line: f.line + 1,
            config: config.map(|(_, c)| c),
        });
    }
    out
}

/// The `fixed` blocks of `doc`, each with the `bad` example it follows. A `fixed` block must be
/// the next fenced block after a `bad` block of its language (prose may stand between) and
/// carry no other tag; an error names the doc line (`build.rs` checks the same when it embeds
/// the docs, so a malformed doc does not build).
pub fn fixed_examples(doc: &'static str) -> Result<Vec<FixedExample>, String> {
    let mut out = Vec::new();
    let bads = examples(doc);
    let all = fences(doc);
    for (k, (_, f)) in all.iter().enumerate() {
        if f.info.get(1) != Some(&"fixed") {
            continue;
        }
        let line = f.line + 1;
        let Some(lang) = f.info.first().and_then(|l| example_lang(l)) else {
            return Err(format!(
                "line {line}: a `fixed` block is `dockerfile fixed`, `compose fixed` or `devcontainer fixed`"
            ));
        };
        if f.info.len() != 2 {
            return Err(format!(
                "line {line}: a `{lang} fixed` block takes no other tag"
            ));
        }
        let prev = k.checked_sub(1).and_then(|p| all.get(p)).map(|(_, p)| p);
        let bad = prev
            .filter(|p| {
                p.info.len() == 2 && p.info.first() == Some(&lang) && p.info.get(1) == Some(&"bad")
            })
            .and_then(|p| bads.iter().find(|e| e.line == p.line + 1 && e.bad));
        let Some(bad) = bad else {
            return Err(format!(
                "line {line}: a `{lang} fixed` block must come right after a `{lang} bad` block (not `ignore`d)"
            ));
        };
        out.push(FixedExample {
            bad: bad.clone(),
            fixed: f.code,
            line,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_blocks_pair_with_the_bad_block_before_them() {
        let doc = "## Example\n```dockerfile bad\nA\n```\nFixed:\n```dockerfile fixed\nB\n```\n```dockerfile good\nB\n```\n";
        let fixed = fixed_examples(doc).unwrap();
        assert_eq!(fixed.len(), 1);
        assert_eq!(
            (fixed[0].bad.code, fixed[0].fixed, fixed[0].line),
            ("A\n", "B\n", 6)
        );
        // a fixed block is neither a bad nor a good example
        assert_eq!(examples(doc).len(), 2);
        for (doc, want) in [
            (
                "```dockerfile good\nA\n```\n```dockerfile fixed\nB\n```\n",
                "line 4: a `dockerfile fixed` block must come right after a `dockerfile bad` block (not `ignore`d)",
            ),
            (
                "```compose bad\nA\n```\n```dockerfile fixed\nB\n```\n",
                "line 4: a `dockerfile fixed` block must come right after a `dockerfile bad` block (not `ignore`d)",
            ),
            (
                "```dockerfile bad ignore\nA\n```\n```dockerfile fixed\nB\n```\n",
                "line 4: a `dockerfile fixed` block must come right after a `dockerfile bad` block (not `ignore`d)",
            ),
            (
                "```dockerfile bad\nA\n```\n```dockerfile fixed x\nB\n```\n",
                "line 4: a `dockerfile fixed` block takes no other tag",
            ),
            (
                "```yaml fixed\nB\n```\n",
                "line 1: a `fixed` block is `dockerfile fixed`, `compose fixed` or `devcontainer fixed`",
            ),
        ] {
            assert_eq!(fixed_examples(doc), Err(want.to_owned()), "{doc}");
        }
    }
}
