//! Rule documentation embedded from `rules/*.md` (see `build.rs`).
//!
//! The Markdown files are the only source of rule metadata and prose; Rust holds the logic.

use crate::diagnostic::Severity;

/// Where the project lives (rule doc links).
pub const REPOSITORY_URL: &str = "https://github.com/sandlint/sandlint";

/// Lifecycle of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Preview,
    Stable,
    Deprecated,
}

/// A rule's metadata, from its doc's front matter.
#[derive(Debug)]
pub struct RuleMeta {
    /// Stable code, never reused: `SLD###` Dockerfile, `SLC###` Compose, `SLX###` both, `SLE###` input errors.
    pub code: &'static str,
    /// Kebab-case name of the flagged pattern.
    pub name: &'static str,
    pub title: &'static str,
    pub family: &'static str,
    pub targets: &'static [&'static str],
    /// Default severity.
    pub severity: Severity,
    /// Severity under `preset = "sandbox"` (front matter `sandbox-severity`, default `severity`).
    pub sandbox_severity: Severity,
    pub status: Status,
    pub since: &'static str,
    pub references: &'static [&'static str],
    /// The whole Markdown document, front matter included.
    pub doc: &'static str,
}

impl RuleMeta {
    /// Severity under the sandbox preset.
    pub fn sandbox_severity(&self) -> Severity {
        self.sandbox_severity
    }

    /// The Markdown body after the front matter.
    pub fn body(&self) -> &'static str {
        let doc = self.doc;
        doc.strip_prefix("---\n")
            .and_then(|rest| rest.find("\n---\n").map(|i| &rest[i + 5..]))
            .unwrap_or(doc)
            .trim_start()
    }

    /// The first paragraph of the "What it does" section, on one line.
    pub fn summary(&self) -> String {
        let body = self.body();
        let section = body
            .split("## What it does")
            .nth(1)
            .unwrap_or(body)
            .trim_start();
        section
            .split("\n\n")
            .next()
            .unwrap_or("")
            .lines()
            .map(str::trim)
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Where the rule is documented online.
    pub fn url(&self) -> String {
        format!("{}/blob/main/rules/{}.md", REPOSITORY_URL, self.name)
    }
}

impl PartialEq for RuleMeta {
    fn eq(&self, other: &Self) -> bool {
        self.code == other.code
    }
}
impl Eq for RuleMeta {}

include!(concat!(env!("OUT_DIR"), "/rule_docs.rs"));

/// Looks a rule up by code (`SLD001`, case-insensitive) or name (`root-user`).
pub fn find(name_or_code: &str) -> Option<&'static RuleMeta> {
    RULES
        .iter()
        .find(|r| r.name == name_or_code || r.code.eq_ignore_ascii_case(name_or_code))
}

/// The rule names closest to `input`, for "did you mean" messages.
pub fn suggest(input: &str) -> Option<&'static str> {
    RULES
        .iter()
        .map(|r| (edit_distance(&input.to_ascii_lowercase(), r.name), r.name))
        .filter(|(d, name)| *d <= (name.len() / 3).max(2))
        .min()
        .map(|(_, n)| n)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
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
        if !matches!(lang, "dockerfile" | "compose") || words.contains(&"ignore") {
            continue;
        }
        let lang: &'static str = if lang == "dockerfile" {
            "dockerfile"
        } else {
            "compose"
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
