//! Findings: our neutral diagnostic type. Formats live in `report/`.

use std::borrow::Cow;

use crate::fix::Fix;
use crate::meta::RuleMeta;
pub use crate::meta::Severity;
use crate::source::{FileRef, Span};

/// A secondary location: a cause or context elsewhere (possibly in another file).
#[derive(Debug, Clone)]
pub struct Label {
    pub file: FileRef,
    pub span: Span,
    pub message: String,
}

/// One finding of one rule.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub rule: &'static RuleMeta,
    pub severity: Severity,
    pub file: FileRef,
    /// The narrowest node that shows the problem.
    pub span: Span,
    /// What is wrong: lowercase start, no trailing period, names the offending value.
    pub message: String,
    pub labels: Vec<Label>,
    /// What to do, in the imperative (most rules' help is a fixed text: not copied per finding).
    pub help: Option<Cow<'static, str>>,
    /// The service or stage the finding belongs to (`service web`, `stage builder`), set by the
    /// linter; part of the fingerprint.
    /// Shared by the findings of one scope (not a copy per finding).
    pub scope: Option<std::sync::Arc<str>>,
    /// Stable identity across runs: rule, file, scope and the normalized source text of the span
    /// (not the message, not the line). Set by the linter.
    pub fingerprint: String,
    /// Set when a suppression (inline comment, config, baseline) covers the finding. Suppressed
    /// findings are counted and shown in SARIF, never printed as findings nor failing the run.
    /// Boxed: most findings have none.
    pub suppression: Option<Box<Suppression>>,
    /// Spans holding secret values: reports never print their text (snippets mask them).
    pub secrets: Vec<(FileRef, Span)>,
    /// The scopes of other findings of the same rule at the same location (a YAML anchor merged
    /// into several services), merged into this one by the report (see
    /// `report::merge_locations`); empty otherwise.
    pub shared: Vec<String>,
    /// The edits that fix this finding, when the rule knows them (see `crate::fix`). Boxed: a
    /// finding is held for every finding of a file, and most have no fix (56 bytes inline).
    pub fix: Option<Box<Fix>>,
}

/// Why a finding is suppressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    pub kind: SuppressionKind,
    /// The `reason="…"` given, if any.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SuppressionKind {
    /// A `# sandlint ignore=` comment (or `x-sandlint` in Compose).
    InSource,
    /// A `--baseline` file.
    External,
}

impl Diagnostic {
    /// The files this finding shows: its own, its labels' and its secrets'.
    pub fn files(&self) -> impl Iterator<Item = &FileRef> {
        std::iter::once(&self.file)
            .chain(self.labels.iter().map(|l| &l.file))
            .chain(self.secrets.iter().map(|(f, _)| f))
    }

    pub fn new(
        rule: &'static RuleMeta,
        file: FileRef,
        span: Span,
        message: impl Into<String>,
    ) -> Self {
        Self {
            rule,
            severity: rule.severity,
            file,
            span,
            message: message.into(),
            labels: Vec::new(),
            help: None,
            scope: None,
            fingerprint: String::new(),
            suppression: None,
            secrets: Vec::new(),
            shared: Vec::new(),
            fix: None,
        }
    }

    /// The service the finding belongs to (Compose): the service its message names first
    /// (`service `web` …`, as Compose rules' messages start: the rule knows which service it
    /// checked, even at a YAML anchor defined in another service or outside every service),
    /// else the service of its scope.
    pub fn service(&self) -> Option<&str> {
        self.message
            .strip_prefix("service `")
            .and_then(|rest| rest.split_once('`'))
            .map(|(name, _)| name)
            .filter(|name| !name.is_empty())
            .or_else(|| {
                self.scope
                    .as_deref()
                    .and_then(|s| s.strip_prefix("service:"))
            })
    }

    /// The build stage the finding belongs to (Dockerfiles), from its scope.
    pub fn stage(&self) -> Option<&str> {
        self.scope.as_deref().and_then(|s| s.strip_prefix("stage:"))
    }

    /// Every service this finding stands for: its own, then those merged into it.
    pub fn services(&self) -> Vec<&str> {
        self.service()
            .into_iter()
            .chain(
                self.shared
                    .iter()
                    .filter_map(|s| s.strip_prefix("service:")),
            )
            .collect()
    }

    /// Sets the help text.
    pub fn help(&mut self, help: impl Into<Cow<'static, str>>) -> &mut Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a secondary label in `file`.
    pub fn label(&mut self, file: &FileRef, span: Span, message: impl Into<String>) -> &mut Self {
        self.labels.push(Label {
            file: file.clone(),
            span,
            message: message.into(),
        });
        self
    }

    /// Attaches the fix for this finding.
    pub fn fix(&mut self, fix: Fix) -> &mut Self {
        self.fix = Some(Box::new(fix));
        self
    }

    /// Marks `span` in `file` as a secret value: no report prints its text.
    pub fn secret(&mut self, file: &FileRef, span: Span) -> &mut Self {
        self.secrets.push((file.clone(), span));
        self
    }

    /// Sort key: path, position, code.
    pub fn sort_key(&self) -> (&str, u32, u32, &'static str) {
        (
            &self.file.display,
            self.span.start,
            self.span.end,
            self.rule.code,
        )
    }
}

/// Secret spans by file path (every finding's [`Diagnostic::secrets`] of a run that point into
/// the file): a file's snippets are rendered with all of them masked, whichever finding shows it.
pub type Secrets = std::collections::HashMap<std::path::PathBuf, Vec<Span>>;

/// 64-bit FNV-1a, printed as 16 hex digits: a stable hash (the std hasher is not stable across
/// releases). Each part is followed by a 0 byte.
pub fn stable_hash(parts: &[&str]) -> String {
    let mut h = StableHasher::new();
    for part in parts {
        h.part(part);
    }
    h.hex()
}

/// [`stable_hash`] fed piece by piece: a part may be written in several pieces ([`write`]) and
/// is ended by [`end_part`], so nothing has to be joined into a string first.
///
/// [`write`]: StableHasher::write
/// [`end_part`]: StableHasher::end_part
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StableHasher(u64);

impl Default for StableHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl StableHasher {
    pub const fn new() -> Self {
        StableHasher(0xcbf2_9ce4_8422_2325)
    }

    /// Adds bytes to the current part.
    pub fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = h;
    }

    /// Ends the current part.
    pub fn end_part(&mut self) {
        self.write(&[0]);
    }

    /// Adds a whole part.
    pub fn part(&mut self, part: &str) {
        self.write(part.as_bytes());
        self.end_part();
    }

    /// Adds a whole part: `n` in decimal (what `n.to_string()` would hash).
    pub fn part_decimal(&mut self, n: u64) {
        self.write(crate::source::decimal(n, &mut [0; 20]));
        self.end_part();
    }

    /// Adds a whole part: `other`'s hash as its 16 hex digits (what [`hex`] would hash).
    ///
    /// [`hex`]: StableHasher::hex
    pub fn part_hex(&mut self, other: StableHasher) {
        self.write(&other.hex_digits());
        self.end_part();
    }

    /// The hash so far.
    pub fn finish(self) -> u64 {
        self.0
    }

    fn hex_digits(self) -> [u8; 16] {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 16];
        for (i, d) in out.iter_mut().enumerate() {
            *d = HEX[((self.0 >> (60 - 4 * i)) & 0xf) as usize];
        }
        out
    }

    /// The hash as 16 lowercase hex digits (`format!("{:016x}")`).
    pub fn hex(self) -> String {
        self.hex_digits().iter().map(|&b| char::from(b)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hash as first written (a joined string per part, `format!`): fingerprints in
    /// baselines depend on these exact digits.
    fn joined_hash(parts: &[&str]) -> String {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for part in parts {
            for b in part.bytes().chain(std::iter::once(0u8)) {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
        format!("{h:016x}")
    }

    #[test]
    fn streamed_hash_is_the_joined_hash() {
        let parts = ["SLD001", "app/Dockerfile", "", "USER root"];
        let key = stable_hash(&parts);
        assert_eq!(key, joined_hash(&parts));
        let mut k = StableHasher::new();
        k.part("SLD001");
        k.part("app/Dockerfile");
        k.part("");
        k.write(b"USER");
        k.write(b" ");
        k.write(b"root");
        k.end_part();
        assert_eq!(k.hex(), key);
        for n in [0u64, 7, 10, 12345, u64::MAX] {
            let mut f = StableHasher::new();
            f.part_hex(k);
            f.part_decimal(n);
            assert_eq!(f.hex(), joined_hash(&[&key, &n.to_string()]));
        }
        assert_eq!(StableHasher(0xab).hex(), "00000000000000ab");
    }
}
