//! SARIF 2.1.0 (GitHub code scanning and other SARIF viewers).
//!
//! One run. `tool.driver.rules` lists every rule (sorted by code), so a result's `ruleIndex` is
//! stable whichever rules ran. Relative paths become relative URIs against `%SRCROOT%` (the
//! directory sandlint ran in); absolute paths become `file://` URIs. Columns count Unicode code
//! points, as declared by `columnKind`. A container of `sandlint audit` (`container://NAME`) is
//! `NAME` against the base id `CONTAINERS` (`container:///`). Suppressed findings are reported with `suppressions`, so
//! that viewers show them as dismissed; every other format leaves them out.

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

#[derive(Default)]
pub struct Sarif {
    results: Option<super::jsonstream::Array>,
}

impl Emitter for Sarif {
    fn begin(&mut self, w: &mut dyn Write, _settings: &super::Settings) -> io::Result<()> {
        let split = super::jsonstream::split(&log(&[]))?;
        self.results = Some(super::jsonstream::Array::begin(
            w,
            &split.before,
            split.indent,
        )?);
        Ok(())
    }

    fn file(&mut self, w: &mut dyn Write, group: &super::FileGroup<'_>) -> io::Result<()> {
        match &mut self.results {
            Some(array) => {
                array.findings(w, group.findings, true, |a, w, d| a.element(w, &result(d)))
            }
            None => Ok(()),
        }
    }

    fn end(&mut self, w: &mut dyn Write, totals: &super::Totals<'_>) -> io::Result<()> {
        let split = super::jsonstream::split(&log(totals.errors))?;
        if let Some(array) = self.results.take() {
            array.end(w, &split.after)?;
        }
        writeln!(w)
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

fn log(errors: &[WalkError]) -> Log {
    let rules: Vec<Value> = RULES.iter().map(rule).collect();
    let notifications: Vec<Value> = errors
        .iter()
        .map(|e| {
            json!({
                "level": "error",
                "message": { "text": format!("{}: {}", display_path(e.path()), e) },
            })
        })
        .collect();
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
