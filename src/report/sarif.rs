//! SARIF 2.1.0 (GitHub code scanning and other SARIF viewers).
//!
//! One run. `tool.driver.rules` lists every rule (sorted by code), so a result's `ruleIndex` is
//! stable whichever rules ran. Relative paths become relative URIs against `%SRCROOT%` (the
//! directory sandlint ran in); absolute paths become `file://` URIs. Columns count Unicode code
//! points, as declared by `columnKind`. A container of `sandlint audit` (`container://NAME`) is
//! `NAME` against the base id `CONTAINERS` (`container:///`). Suppressed findings are reported with `suppressions`, so
//! that viewers show them as dismissed; every other format leaves them out.
//!
//! GitHub code scanning rejects a file past its hard limits (25,000 results per run, 1,000
//! locations per result, 20 tags per rule, 20 runs per file) and, since July 2025, a file with
//! two runs of the same tool and category: splitting the results across runs is not an option.
//! So the log keeps at most [`MAX_RESULTS`] results, the most severe ones (errors, then
//! warnings, then info, then suppressed findings; the first in report order among equals), in
//! report order, says what it dropped in `invocations[0].toolExecutionNotifications` and
//! warns on stderr. Results are therefore held until the end: at most [`MAX_RESULTS`]
//! serialized results (about 1 KB each).

use std::collections::BinaryHeap;
use std::io::{self, Write};

use serde_json::{Value, json};

use super::Emitter;
use crate::diagnostic::{Diagnostic, Severity, SuppressionKind};
use crate::discover::WalkError;
use crate::docs::{RULES, RuleMeta};
use crate::source::{FileRef, Span, display_path};

/// The schema URI of SARIF 2.1.0 (OASIS errata 01).
pub const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The key under which `partialFingerprints` carries [`Diagnostic::fingerprint`].
pub const FINGERPRINT_KEY: &str = "sandlintFingerprint/v1";

/// The base URI id that relative artifact URIs are resolved against.
pub const SRCROOT: &str = "%SRCROOT%";

/// The base URI id of `sandlint audit`'s containers: `container://NAME` is reported as
/// `{ "uri": "NAME", "uriBaseId": "CONTAINERS" }`, `CONTAINERS` being `container:///`.
pub const CONTAINERS: &str = "CONTAINERS";

/// The display-name prefix of an audited container's document.
pub const CONTAINER_SCHEME: &str = "container://";

/// GitHub code scanning's hard limit of results per run.
pub const MAX_RESULTS: usize = 25_000;

/// GitHub's hard limit of locations per result (applied to `relatedLocations`).
pub const MAX_RELATED: usize = 1_000;

/// GitHub shows 10 tags of a rule (and rejects more than 20).
pub const MAX_TAGS: usize = 10;

pub struct Sarif {
    results: Option<super::jsonstream::Array>,
    /// Most results kept.
    limit: usize,
    /// The results kept so far; the top is the next to drop.
    kept: BinaryHeap<Held>,
    /// Results seen (kept or not), the report order of the next.
    seen: u64,
    /// Results dropped, by [`rank`].
    dropped: [usize; 4],
    notices: Vec<String>,
}

impl Default for Sarif {
    fn default() -> Self {
        Sarif::with_limit(MAX_RESULTS)
    }
}

/// One serialized result, with what decides whether it is kept.
struct Held {
    rank: u8,
    seq: u64,
    json: Vec<u8>,
}

impl Held {
    /// The greatest is dropped first: the lowest rank, then the latest.
    fn key(&self) -> (std::cmp::Reverse<u8>, u64) {
        (std::cmp::Reverse(self.rank), self.seq)
    }
}

impl PartialEq for Held {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl Eq for Held {}
impl PartialOrd for Held {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Held {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

/// How much a result matters when some must go: 3 error, 2 warning, 1 info, 0 suppressed.
fn rank(d: &Diagnostic) -> u8 {
    if d.suppression.is_some() {
        return 0;
    }
    match d.severity {
        Severity::Error => 3,
        Severity::Warning => 2,
        Severity::Info => 1,
    }
}

impl Sarif {
    /// A log that keeps at most `limit` results.
    pub fn with_limit(limit: usize) -> Self {
        Sarif {
            results: None,
            limit,
            kept: BinaryHeap::new(),
            seen: 0,
            dropped: [0; 4],
            notices: Vec::new(),
        }
    }

    fn hold(&mut self, d: &Diagnostic) -> io::Result<()> {
        let held = Held {
            rank: rank(d),
            seq: self.seen,
            json: match &self.results {
                Some(array) => array.serialize(&result(d))?,
                None => return Ok(()),
            },
        };
        self.seen += 1;
        self.kept.push(held);
        if self.kept.len() > self.limit
            && let Some(out) = self.kept.pop()
        {
            self.dropped[usize::from(out.rank)] += 1;
        }
        Ok(())
    }

    /// The notice for what was dropped, if anything was.
    fn dropped_notice(&self) -> Option<String> {
        let total: usize = self.dropped.iter().sum();
        if total == 0 {
            return None;
        }
        let [suppressed, info, warning, error] = self.dropped;
        Some(format!(
            "{seen} results exceed GitHub code scanning's limit of {limit} per run: the {limit} \
             most severe are kept and {total} dropped ({error} errors, {warning} warnings, {info} \
             info, {suppressed} suppressed); narrow the report (--select, --ignore, a baseline) \
             to see them all",
            seen = self.seen,
            limit = self.limit,
        ))
    }
}

impl Emitter for Sarif {
    fn begin(&mut self, w: &mut dyn Write, _settings: &super::Settings) -> io::Result<()> {
        let split = super::jsonstream::split(&log(&[], None))?;
        self.results = Some(super::jsonstream::Array::begin(
            w,
            &split.before,
            split.indent,
        )?);
        Ok(())
    }

    fn file(&mut self, _w: &mut dyn Write, group: &super::FileGroup<'_>) -> io::Result<()> {
        for d in &super::merge_locations(group.findings) {
            self.hold(d)?;
        }
        Ok(())
    }

    fn end(&mut self, w: &mut dyn Write, totals: &super::Totals<'_>) -> io::Result<()> {
        let notice = self.dropped_notice();
        let split = super::jsonstream::split(&log(totals.errors, notice.as_deref()))?;
        let mut kept = std::mem::take(&mut self.kept).into_vec();
        kept.sort_unstable_by_key(|h| h.seq);
        if let Some(mut array) = self.results.take() {
            for held in &kept {
                array.element_serialized(w, &held.json)?;
            }
            array.end(w, &split.after)?;
        }
        self.notices.extend(notice);
        writeln!(w)
    }

    fn notices(&self) -> Vec<String> {
        self.notices.clone()
    }
}

/// The log (one run); `runs[0].results` is streamed, so what is known only at the end (the
/// invocation) comes after it.
#[derive(serde::Serialize)]
struct Log {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run; 1],
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: Value,
    original_uri_base_ids: Value,
    column_kind: &'static str,
    results: &'static str,
    invocations: Value,
}

fn log(errors: &[WalkError], dropped: Option<&str>) -> Log {
    let rules: Vec<Value> = RULES.iter().map(rule).collect();
    let mut notifications: Vec<Value> = errors
        .iter()
        .map(|e| {
            json!({
                "level": "error",
                "message": { "text": format!("{}: {}", display_path(e.path()), e) },
            })
        })
        .collect();
    if let Some(text) = dropped {
        notifications.push(json!({
            "level": "warning",
            "descriptor": { "id": "sarif-results-dropped" },
            "message": { "text": text },
        }));
    }
    Log {
        schema: SCHEMA_URI,
        version: "2.1.0",
        runs: [Run {
            tool: json!({
                "driver": {
                    "name": "sandlint",
                    "version": env!("CARGO_PKG_VERSION"),
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "informationUri": crate::meta::REPOSITORY_URL,
                    "rules": rules,
                }
            }),
            original_uri_base_ids: json!({
                SRCROOT: {
                    "description": { "text": "The directory sandlint was run from." }
                },
                CONTAINERS: {
                    "uri": "container:///",
                    "description": { "text": "The containers of the Docker daemon `sandlint audit` read; a result's uri is the container's name." }
                }
            }),
            column_kind: "unicodeCodePoints",
            results: super::jsonstream::MARKER,
            invocations: json!([{
                "executionSuccessful": errors.is_empty(),
                "toolExecutionNotifications": notifications,
            }]),
        }],
    }
}

/// SARIF `level` of a severity.
pub fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// GitHub's `security-severity` (a CVSS-like score, as a string): error 9.0 (critical), warning
/// 6.0 (medium), info 3.0 (low).
pub fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "9.0",
        Severity::Warning => "6.0",
        Severity::Info => "3.0",
    }
}

fn rule(meta: &'static RuleMeta) -> Value {
    json!({
        "id": meta.code,
        "name": meta.name,
        "shortDescription": { "text": meta.title },
        "fullDescription": { "text": meta.summary() },
        "help": { "text": meta.body(), "markdown": meta.body() },
        "helpUri": meta.url(),
        "defaultConfiguration": { "level": level(meta.severity) },
        "properties": {
            "security-severity": security_severity(meta.severity),
            "tags": tags(meta),
        },
    })
}

/// A rule's tags: `security`, its family, then its references in GitHub's `external/…` form
/// (`external/cwe/cwe-250`, `external/cis-docker/5.4`), at most [`MAX_TAGS`].
pub fn tags(meta: &RuleMeta) -> Vec<String> {
    let mut tags = vec!["security".to_string(), meta.family.to_string()];
    for r in meta.references {
        let tag = if let Some(n) = r.strip_prefix("CWE-") {
            format!("external/cwe/cwe-{n}")
        } else if let Some(rest) = r.strip_prefix("CIS Docker Benchmark ") {
            // `v1.6.0 5.4`: the item, whatever the version
            let item = rest.rsplit(' ').next().unwrap_or(rest);
            format!("external/cis-docker/{item}")
        } else {
            continue;
        };
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    tags.truncate(MAX_TAGS);
    tags
}

fn result(d: &Diagnostic) -> Value {
    let mut r = json!({
        "ruleId": d.rule.code,
        "level": level(d.severity),
        "message": { "text": d.message },
        "locations": [{ "physicalLocation": physical_location(&d.file, d.span) }],
        "partialFingerprints": { FINGERPRINT_KEY: d.fingerprint },
    });
    let Value::Object(map) = &mut r else {
        return r;
    };
    if let Some(index) = RULES.iter().position(|m| m.code == d.rule.code) {
        map.insert("ruleIndex".to_string(), json!(index));
    }
    if !d.labels.is_empty() {
        let related: Vec<Value> = d
            .labels
            .iter()
            .take(MAX_RELATED)
            .enumerate()
            .map(|(i, l)| {
                json!({
                    "id": i,
                    "physicalLocation": physical_location(&l.file, l.span),
                    "message": { "text": l.message },
                })
            })
            .collect();
        map.insert("relatedLocations".to_string(), Value::Array(related));
    }
    if let Some(fix) = &d.fix {
        map.insert("fixes".to_string(), json!([sarif_fix(fix)]));
    }
    if let Some(s) = &d.suppression {
        let kind = match s.kind {
            SuppressionKind::InSource => "inSource",
            SuppressionKind::External => "external",
        };
        let mut sup = json!({ "kind": kind });
        if let (Some(reason), Value::Object(m)) = (&s.reason, &mut sup) {
            m.insert("justification".to_string(), json!(reason));
        }
        map.insert("suppressions".to_string(), json!([sup]));
    }
    r
}

/// A SARIF `fix`: one `artifactChange` per file, each edit a `replacement` (the region deleted,
/// by line/column and by byte offset, and the text inserted).
fn sarif_fix(fix: &crate::fix::Fix) -> Value {
    let mut changes: Vec<(&FileRef, Vec<Value>)> = Vec::new();
    for e in &fix.edits {
        let start = e.file.line_col(e.span.start);
        let end = e.file.line_col(e.span.end.max(e.span.start));
        let replacement = json!({
            "deletedRegion": {
                "startLine": start.line,
                "startColumn": start.column,
                "endLine": end.line,
                "endColumn": end.column,
                "byteOffset": e.span.start,
                "byteLength": e.span.len(),
            },
            "insertedContent": { "text": e.replacement },
        });
        match changes.iter_mut().find(|(f, _)| f.path == e.file.path) {
            Some((_, r)) => r.push(replacement),
            None => changes.push((&e.file, vec![replacement])),
        }
    }
    let changes: Vec<Value> = (changes.into_iter())
        .map(|(f, replacements)| {
            json!({
                "artifactLocation": artifact_location(&f.display),
                "replacements": replacements,
            })
        })
        .collect();
    json!({
        "description": { "text": fix.message },
        "artifactChanges": changes,
        "properties": { "applicability": fix.applicability },
    })
}

fn physical_location(file: &FileRef, span: Span) -> Value {
    let start = file.line_col(span.start);
    let end = file.line_col(span.end.max(span.start));
    json!({
        "artifactLocation": artifact_location(&file.display),
        "region": {
            "startLine": start.line,
            "startColumn": start.column,
            "endLine": end.line,
            "endColumn": end.column,
        },
    })
}

fn artifact_location(display: &str) -> Value {
    if let Some(name) = display.strip_prefix(CONTAINER_SCHEME) {
        return json!({ "uri": encode(name), "uriBaseId": CONTAINERS });
    }
    match absolute_uri(display) {
        Some(uri) => json!({ "uri": uri }),
        None => json!({ "uri": relative_uri(display), "uriBaseId": SRCROOT }),
    }
}

/// A `file://` URI for an absolute path (`/x` or `C:/x`), `None` for a relative one.
fn absolute_uri(display: &str) -> Option<String> {
    let bytes = display.as_bytes();
    if display.starts_with('/') {
        return Some(format!("file://{}", encode(display)));
    }
    let drive =
        bytes.len() >= 3 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' && bytes[2] == b'/';
    drive.then(|| format!("file:///{}:{}", &display[..1], encode(&display[2..])))
}

/// A relative URI reference: `/` separators, no leading `./`, everything but unreserved
/// characters and `/` percent-encoded (so a `:` can never be read as a scheme).
pub fn relative_uri(display: &str) -> String {
    let path = display_path(std::path::Path::new(display));
    encode(&path)
}

fn encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::{Secrets, Suppression};
    use crate::report::{Counts, FileGroup, Settings, Totals};

    #[allow(clippy::unwrap_used, reason = "test helper")]
    fn finding(severity: Severity, suppressed: bool, at: u32) -> Diagnostic {
        let file = FileRef::new(crate::source::SourceFile::new(
            "Dockerfile",
            "Dockerfile",
            "FROM a\n".repeat(40),
        ));
        let mut d = Diagnostic::new(&RULES[0], file, Span::new(at, at + 4), format!("at {at}"));
        d.severity = severity;
        if suppressed {
            d.suppression = Some(Box::new(Suppression {
                kind: SuppressionKind::InSource,
                reason: None,
            }));
        }
        d
    }

    /// Past the limit the least severe go (suppressed first, then info, warnings, errors; the
    /// latest among equals), the rest stay in report order, and the log says what went.
    #[test]
    #[allow(clippy::unwrap_used, reason = "test")]
    fn keeps_the_most_severe_results_in_report_order() {
        let findings = [
            finding(Severity::Info, false, 0),
            finding(Severity::Error, true, 7),
            finding(Severity::Warning, false, 14),
            finding(Severity::Error, false, 21),
            finding(Severity::Warning, false, 28),
            finding(Severity::Info, false, 35),
            finding(Severity::Error, false, 42),
        ];
        let mut sarif = Sarif::with_limit(4);
        let mut out = Vec::new();
        sarif.begin(&mut out, &Settings::default()).unwrap();
        let secrets = Secrets::new();
        for chunk in findings.chunks(3) {
            let group = FileGroup {
                display: "Dockerfile",
                checked: true,
                findings: chunk,
                secrets: &secrets,
            };
            sarif.file(&mut out, &group).unwrap();
        }
        let totals = Totals {
            files_checked: 1,
            counts: Counts::default(),
            statistics: &[],
            errors: &[],
            skipped: &[],
            settings: Settings::default(),
        };
        sarif.end(&mut out, &totals).unwrap();
        let log: Value = serde_json::from_slice(&out).unwrap();
        let messages: Vec<&str> = log["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["message"]["text"].as_str().unwrap())
            .collect();
        assert_eq!(messages, ["at 14", "at 21", "at 28", "at 42"]);
        let text = "7 results exceed GitHub code scanning's limit of 4 per run: the 4 most \
                    severe are kept and 3 dropped (0 errors, 0 warnings, 2 info, 1 suppressed); \
                    narrow the report (--select, --ignore, a baseline) to see them all";
        assert_eq!(
            log["runs"][0]["invocations"][0]["toolExecutionNotifications"],
            json!([{
                "level": "warning",
                "descriptor": { "id": "sarif-results-dropped" },
                "message": { "text": text },
            }])
        );
        assert_eq!(sarif.notices(), [text]);
    }

    #[test]
    fn tags_carry_cwe_and_cis_references() {
        let rule = RULES.iter().find(|r| r.name == "privileged-container");
        let got = rule.map(tags).unwrap_or_default();
        assert_eq!(
            got,
            [
                "security",
                "privilege",
                "external/cis-docker/5.5",
                "external/cwe/cwe-250"
            ]
        );
        for meta in RULES {
            assert!(tags(meta).len() <= MAX_TAGS);
        }
    }

    #[test]
    fn uris() {
        assert_eq!(
            relative_uri("./my app/compose.yaml"),
            "my%20app/compose.yaml"
        );
        assert_eq!(relative_uri("a:b/Dockerfile"), "a%3Ab/Dockerfile");
        assert_eq!(relative_uri("café/Dockerfile"), "caf%C3%A9/Dockerfile");
        assert_eq!(relative_uri("../x/Dockerfile"), "../x/Dockerfile");
        assert_eq!(
            absolute_uri("/tmp/a b/Dockerfile").as_deref(),
            Some("file:///tmp/a%20b/Dockerfile")
        );
        assert_eq!(
            absolute_uri("C:/src/Dockerfile").as_deref(),
            Some("file:///C:/src/Dockerfile")
        );
        assert_eq!(absolute_uri("src/Dockerfile"), None);
    }
}
