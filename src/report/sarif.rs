//! SARIF 2.1.0 (GitHub code scanning and other SARIF viewers).
//!
//! One run. `tool.driver.rules` lists every rule (sorted by code), so a result's `ruleIndex` is
//! stable whichever rules ran. Relative paths become relative URIs against `%SRCROOT%` (the
//! directory sandlint ran in); absolute paths become `file://` URIs. Columns count Unicode code
//! points, as declared by `columnKind`. Suppressed findings are reported with `suppressions`, so
//! that viewers show them as dismissed; every other format leaves them out.

use std::borrow::Cow;
use std::io::{self, Write};

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Value, json};

use super::{Emitter, ReportCtx};
use crate::diagnostic::{Diagnostic, Severity, SuppressionKind};
use crate::docs::{RULES, RuleMeta};
use crate::source::{FileRef, Span, display_path};

/// The schema URI of SARIF 2.1.0 (OASIS errata 01).
pub const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The key under which `partialFingerprints` carries [`Diagnostic::fingerprint`].
pub const FINGERPRINT_KEY: &str = "sandlintFingerprint/v1";

/// The base URI id that relative artifact URIs are resolved against.
pub const SRCROOT: &str = "%SRCROOT%";

pub struct Sarif;

impl Emitter for Sarif {
    fn emit(
        &mut self,
        w: &mut dyn Write,
        diagnostics: &[Diagnostic],
        cx: &ReportCtx,
    ) -> io::Result<()> {
        // One result per location: findings through one YAML anchor are merged.
        let merged = super::merge_locations(diagnostics);
        // The results are written one by one as the document is (each built only when it is
        // written), not gathered into one tree first: the rest of the log is small.
        let log = log(cx);
        let results = Results(&merged);
        let node = Node {
            value: &log,
            results: &results,
        };
        crate::escape::to_writer_pretty(&mut *w, &node)?;
        writeln!(w)
    }
}

/// Stands for `runs[0].results` in the log skeleton ([`Node`] writes the results there); no
/// other string of the log holds a NUL.
const RESULTS_MARKER: &str = "\u{0}sandlint:results";

/// The results, each turned into its JSON value as it is written.
struct Results<'a>(&'a [Cow<'a, Diagnostic>]);

impl Serialize for Results<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for d in self.0 {
            seq.serialize_element(&result(d))?;
        }
        seq.end()
    }
}

/// A value of the log skeleton written as `serde_json` writes a [`Value`] (maps in key order),
/// with the results spliced in at [`RESULTS_MARKER`].
struct Node<'a> {
    value: &'a Value,
    results: &'a Results<'a>,
}

impl Serialize for Node<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let node = |value| Node {
            value,
            results: self.results,
        };
        match self.value {
            Value::Object(map) => {
                let mut m = s.serialize_map(Some(map.len()))?;
                for (k, v) in map {
                    m.serialize_entry(k, &node(v))?;
                }
                m.end()
            }
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for v in items {
                    seq.serialize_element(&node(v))?;
                }
                seq.end()
            }
            Value::String(m) if m == RESULTS_MARKER => self.results.serialize(s),
            v => v.serialize(s),
        }
    }
}

fn log(cx: &ReportCtx) -> Value {
    let rules: Vec<Value> = RULES.iter().map(rule).collect();
    let notifications: Vec<Value> = cx
        .errors
        .iter()
        .map(|e| {
            json!({
                "level": "error",
                "message": { "text": format!("{}: {}", display_path(e.path()), e) },
            })
        })
        .collect();
    json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "sandlint",
                    "version": env!("CARGO_PKG_VERSION"),
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "informationUri": crate::meta::REPOSITORY_URL,
                    "rules": rules,
                }
            },
            "invocations": [{
                "executionSuccessful": cx.errors.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "originalUriBaseIds": {
                SRCROOT: {
                    "description": { "text": "The directory sandlint was run from." }
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": RESULTS_MARKER,
        }],
    })
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
            "tags": ["security", meta.family],
        },
    })
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
