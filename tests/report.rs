//! Every output format over one shared multi-file fixture (`fixtures/report/project/`), run through
//! the real binary; SARIF against the official schema and GitHub's upload rules; XML
//! well-formedness; suppressed findings; fingerprint stability; completions and the man page.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly"
)]

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use sandlint::diagnostic::{Diagnostic, Suppression, SuppressionKind};
use sandlint::discover::FileKind;
use sandlint::linter::{self, Selection};
use sandlint::report::OutputFormat;
use sandlint::report::{self, ReportCtx};
use sandlint::source::SourceFile;
use serde_json::Value;

mod common;
use common::text;

const PROJECT: &str = "fixtures/report/project";
const SCHEMA: &str = "fixtures/report/sarif-schema-2.1.0.json";

fn sandlint(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sandlint"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("NO_COLOR")
        .env_remove("FORCE_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("SANDLINT_FORMAT")
        .env_remove("SANDLINT_FAIL_ON")
        .env_remove("SANDLINT_COLOR")
        .env("COLUMNS", "100")
        .output()
        .unwrap()
}

/// The fixture in `format`, through the binary; stdout with the version masked.
fn render_fixture(format: &str) -> String {
    let o = sandlint(&["check", PROJECT, "--format", format, "--color", "never"]);
    assert_eq!(o.status.code(), Some(1), "{format}: {}", text(&o.stderr));
    assert!(o.stderr.is_empty(), "{format}: {}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(!out.contains('\u{1b}'), "{format}: colored output");
    assert!(
        !out.contains(env!("CARGO_MANIFEST_DIR")),
        "{format}: absolute path in output"
    );
    out.replace(env!("CARGO_PKG_VERSION"), "[VERSION]")
}

const MACHINE_FORMATS: [&str; 6] = ["json", "sarif", "github", "gitlab", "junit", "checkstyle"];

// ---------------------------------------------------------------------------------------------
// The shared fixture in every format.

#[test]
fn fixture_has_the_findings_the_snapshots_rely_on() {
    let out = render_fixture("concise");
    let lines: Vec<&str> = out.lines().filter(|l| l.starts_with(PROJECT)).collect();
    assert!(lines.len() >= 10, "{out}");
    for code in [
        "SLD001", "SLD002", "SLD005", "SLD006", "SLC001", "SLC007", "SLC013",
    ] {
        assert!(
            lines.iter().any(|l| l.contains(code)),
            "no {code} in\n{out}"
        );
    }
    // All three files, including the one under a path with a space.
    for file in ["Dockerfile:", "compose.yaml:", "my app/Dockerfile:"] {
        assert!(
            lines
                .iter()
                .any(|l| l.contains(&format!("{PROJECT}/{file}"))),
            "no {file} in\n{out}"
        );
    }
}

#[test]
fn full() {
    insta::assert_snapshot!(render_fixture("full"));
}

#[test]
fn concise() {
    insta::assert_snapshot!(render_fixture("concise"));
}

#[test]
fn json() {
    insta::assert_snapshot!(render_fixture("json"));
}

#[test]
fn sarif() {
    // The rule descriptors embed every rule's whole doc; the snapshot keeps their identity and
    // levels (the prose is checked against the docs in `sarif_rule_metadata`).
    let mut v: Value = serde_json::from_str(&render_fixture("sarif")).unwrap();
    for rule in v["runs"][0]["tool"]["driver"]["rules"]
        .as_array_mut()
        .unwrap()
    {
        let r = rule.as_object_mut().unwrap();
        for key in ["fullDescription", "help"] {
            assert!(r.remove(key).is_some(), "rule without {key}");
        }
    }
    insta::assert_snapshot!(serde_json::to_string_pretty(&v).unwrap());
}

#[test]
fn github() {
    insta::assert_snapshot!(render_fixture("github"));
}

#[test]
fn gitlab() {
    insta::assert_snapshot!(render_fixture("gitlab"));
}

#[test]
fn junit() {
    insta::assert_snapshot!(render_fixture("junit"));
}

#[test]
fn checkstyle() {
    insta::assert_snapshot!(render_fixture("checkstyle"));
}

#[test]
fn machine_formats_print_no_summary_and_no_color() {
    for format in MACHINE_FORMATS {
        let o = sandlint(&["check", PROJECT, "--format", format, "--color", "always"]);
        let out = text(&o.stdout);
        assert!(!out.contains('\u{1b}'), "{format}: colored output");
        assert!(!out.contains("Checked 4 files"), "{format}: summary line");
    }
}

#[test]
fn output_is_deterministic() {
    for format in MACHINE_FORMATS {
        assert_eq!(render_fixture(format), render_fixture(format), "{format}");
    }
}

// ---------------------------------------------------------------------------------------------
// SARIF: schema, GitHub code scanning's upload rules, columns, URIs.

fn schema_validator() -> jsonschema::Validator {
    // The `language` patterns have a stray `]`, legal only under ECMA-262 Annex B; escaping it
    // keeps the same meaning and lets the schema pass meta-validation (fixtures/report/README.md).
    let raw = std::fs::read_to_string(SCHEMA).unwrap();
    let stray = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#;
    assert_eq!(raw.matches(stray).count(), 2, "the vendored schema changed");
    let raw = raw.replace(stray, r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\\]?$""#);
    let schema: Value = serde_json::from_str(&raw).unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

fn assert_valid_sarif(sarif: &Value) {
    let validator = schema_validator();
    let errors: Vec<String> = validator
        .iter_errors(sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF schema violations:\n{}",
        errors.join("\n")
    );
    assert_github_upload_rules(sarif);
}

/// GitHub code scanning's documented requirements and limits for uploaded SARIF ("SARIF support
/// for code scanning" and "SARIF results exceed limits" in the GitHub docs).
fn assert_github_upload_rules(sarif: &Value) {
    // the limit is on the gzip-compressed upload (what `upload-sarif` sends)
    let bytes = serde_json::to_vec(sarif).unwrap();
    if bytes.len() >= 10 * 1024 * 1024 {
        let mut gzip = Command::new("gzip")
            .arg("-c")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = gzip.stdin.take().unwrap();
        let writer = std::thread::spawn(move || std::io::Write::write_all(&mut stdin, &bytes));
        let out = gzip.wait_with_output().unwrap();
        writer.join().unwrap().unwrap();
        assert!(
            out.stdout.len() < 10 * 1024 * 1024,
            "gzip-compressed SARIF over 10 MB"
        );
    }
    assert_eq!(sarif["version"], "2.1.0");
    let runs = sarif["runs"].as_array().unwrap();
    assert!(!runs.is_empty() && runs.len() <= 20, "runs per file");
    for run in runs {
        let driver = &run["tool"]["driver"];
        assert!(
            driver["name"].as_str().is_some_and(|n| !n.is_empty()),
            "tool.driver.name"
        );
        let rules = driver["rules"].as_array().unwrap();
        assert!(rules.len() <= 25_000, "rules per run");
        for rule in rules {
            let id = rule["id"].as_str().unwrap();
            assert!(!id.is_empty() && id.len() <= 255, "rule id {id}");
            let tags = rule["properties"]["tags"].as_array().unwrap();
            assert!(tags.len() <= 10, "{id}: tags beyond the 10 GitHub displays");
            let sev: f64 = rule["properties"]["security-severity"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((0.0..=10.0).contains(&sev), "{id}: security-severity");
            assert!(
                rule["shortDescription"]["text"]
                    .as_str()
                    .is_some_and(|t| !t.is_empty()),
                "{id}"
            );
            assert!(
                rule["fullDescription"]["text"]
                    .as_str()
                    .is_some_and(|t| !t.is_empty()),
                "{id}"
            );
            assert!(
                rule["helpUri"]
                    .as_str()
                    .is_some_and(|u| u.starts_with("https://")),
                "{id}"
            );
        }
        let results = run["results"].as_array().unwrap();
        assert!(results.len() <= 25_000, "results per run");
        for r in results {
            let id = r["ruleId"].as_str().unwrap();
            assert!(!id.is_empty() && id.len() <= 255);
            let index = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[index]["id"], id, "ruleIndex points at another rule");
            assert!(r["message"]["text"].as_str().is_some_and(|t| !t.is_empty()));
            let locations = r["locations"].as_array().unwrap();
            assert!(
                !locations.is_empty() && locations.len() <= 1000,
                "locations per result"
            );
            for loc in locations
                .iter()
                .chain(r["relatedLocations"].as_array().into_iter().flatten())
            {
                let pl = &loc["physicalLocation"];
                assert!(
                    pl["artifactLocation"]["uri"]
                        .as_str()
                        .is_some_and(|u| !u.is_empty()),
                    "{loc}"
                );
                assert!(pl["region"]["startLine"].as_u64().unwrap() >= 1, "{loc}");
            }
            let fp = r["partialFingerprints"].as_object().unwrap();
            assert!(
                fp["sandlintFingerprint/v1"]
                    .as_str()
                    .is_some_and(|f| !f.is_empty())
            );
        }
    }
}

#[test]
fn the_schema_check_catches_invalid_sarif() {
    let mut v = fixture_sarif();
    assert!(schema_validator().is_valid(&v));
    v["runs"][0]["results"][0]["level"] = Value::from("fatal");
    assert!(
        !schema_validator().is_valid(&v),
        "an unknown level must fail"
    );
    let mut v = fixture_sarif();
    v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        Value::from(0);
    assert!(!schema_validator().is_valid(&v), "line 0 must fail");
    let mut v = fixture_sarif();
    v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] =
        Value::from("a b/c d");
    assert!(
        !schema_validator().is_valid(&v),
        "an unencoded space is not a uri-reference"
    );
}

fn fixture_sarif() -> Value {
    serde_json::from_str(&render_fixture("sarif")).unwrap()
}

#[test]
fn sarif_is_valid_and_uploadable() {
    let v = fixture_sarif();
    assert_valid_sarif(&v);
    assert!(!v["runs"][0]["results"].as_array().unwrap().is_empty());
}

#[test]
fn sarif_rule_metadata() {
    let v = fixture_sarif();
    let rules = v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    // All rules, in code order, so that ruleIndex is stable whichever rules ran.
    assert_eq!(rules.len(), sandlint::docs::RULES.len());
    for (rule, meta) in rules.iter().zip(sandlint::docs::RULES) {
        assert_eq!(rule["id"], meta.code);
        assert_eq!(rule["name"], meta.name);
        assert_eq!(rule["shortDescription"]["text"], meta.title);
        assert_eq!(rule["fullDescription"]["text"], meta.summary());
        assert_eq!(rule["help"]["markdown"], meta.body());
        assert_eq!(rule["helpUri"], meta.url());
        let (level, sev) = match meta.severity {
            sandlint::diagnostic::Severity::Error => ("error", "9.0"),
            sandlint::diagnostic::Severity::Warning => ("warning", "6.0"),
            sandlint::diagnostic::Severity::Info => ("note", "3.0"),
        };
        assert_eq!(rule["defaultConfiguration"]["level"], level);
        assert_eq!(rule["properties"]["security-severity"], sev);
        // security, the family, then the CWE and CIS Docker Benchmark references in GitHub's
        // `external/<taxonomy>/<id>` form
        let mut tags = vec!["security".to_string(), meta.family.to_string()];
        for r in meta.references {
            if let Some(n) = r.strip_prefix("CWE-") {
                tags.push(format!("external/cwe/cwe-{n}"));
            } else if let Some(item) = r.strip_prefix("CIS Docker Benchmark v1.6.0 ") {
                tags.push(format!("external/cis-docker/{item}"));
            }
        }
        assert_eq!(rule["properties"]["tags"], serde_json::json!(tags));
        // the rule's doc in the repository tree, which exists
        let doc = format!("rules/{}.md", meta.name);
        assert_eq!(
            rule["helpUri"],
            format!("{}/blob/main/{doc}", sandlint::meta::REPOSITORY_URL)
        );
        assert!(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(&doc).is_file(),
            "{doc}"
        );
    }
}

#[test]
fn sarif_locations_are_relative_encoded_and_count_code_points() {
    let v = fixture_sarif();
    let run = &v["runs"][0];
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    assert!(run["originalUriBaseIds"]["%SRCROOT%"].is_object());
    let results = run["results"].as_array().unwrap();
    let uris: Vec<&str> = results
        .iter()
        .map(|r| {
            let al = &r["locations"][0]["physicalLocation"]["artifactLocation"];
            assert_eq!(al["uriBaseId"], "%SRCROOT%");
            al["uri"].as_str().unwrap()
        })
        .collect();
    assert!(
        uris.contains(&"fixtures/report/project/my%20app/Dockerfile"),
        "{uris:?}"
    );
    assert!(
        uris.iter()
            .all(|u| !u.starts_with("./") && !u.contains(' ') && !u.contains("://"))
    );

    // The privileged finding follows CJK text and an emoji (2 UTF-16 code units) on its line.
    let compose = std::fs::read_to_string(format!("{PROJECT}/compose.yaml")).unwrap();
    let (line_no, line) = compose
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("privileged: true"))
        .unwrap();
    let byte = line.find("true").unwrap();
    let want_col = line[..byte].chars().count() + 1;
    assert_ne!(
        want_col,
        line[..byte].encode_utf16().count() + 1,
        "fixture must tell the column kinds apart"
    );
    let slc001 = results.iter().find(|r| r["ruleId"] == "SLC001").unwrap();
    let region = &slc001["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], line_no + 1);
    assert_eq!(region["startColumn"], want_col);
    assert_eq!(region["endColumn"], want_col + 4);
}

#[test]
fn sarif_label_in_another_file_is_a_related_location() {
    let v = fixture_sarif();
    let results = v["runs"][0]["results"].as_array().unwrap();
    let slc007 = results.iter().find(|r| r["ruleId"] == "SLC007").unwrap();
    assert_eq!(
        slc007["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "fixtures/report/project/compose.yaml"
    );
    let related = slc007["relatedLocations"].as_array().unwrap();
    assert!(
        related
            .iter()
            .any(|l| l["physicalLocation"]["artifactLocation"]["uri"]
                == "fixtures/report/project/Dockerfile"),
        "{related:?}"
    );
}

#[test]
fn sarif_absolute_paths_stay_absolute() {
    // Absolute paths are used only when the user passed them.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("my app").join("Dockerfile");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, "FROM ubuntu\n").unwrap();
    let o = sandlint(&["check", file.to_str().unwrap(), "--format", "sarif"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_valid_sarif(&v);
    let al = &v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
    assert!(al["uriBaseId"].is_null(), "{al}");
    let uri = al["uri"].as_str().unwrap();
    assert!(
        uri.starts_with("file:///") && uri.ends_with("/my%20app/Dockerfile"),
        "{uri}"
    );
}

#[test]
fn sarif_unreadable_path_is_a_notification() {
    let o = sandlint(&["check", "does/not/exist", "--format", "sarif"]);
    assert_eq!(o.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_valid_sarif(&v);
    let inv = &v["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false);
    assert_eq!(
        inv["toolExecutionNotifications"][0]["message"]["text"],
        "does/not/exist: no such file or directory"
    );
}

// ---------------------------------------------------------------------------------------------
// Findings built in the test: suppressions, fingerprints, escaping.

const COMPOSE: &str = "services:\n  agent:\n    image: \"example/agent:1.4\"\n    privileged: true\n    network_mode: host\n";

fn lint_compose() -> Vec<Diagnostic> {
    let ds = linter::lint_text(
        FileKind::Compose,
        "app/compose.yaml",
        COMPOSE,
        &Selection::all(),
    );
    assert!(ds.iter().any(|d| d.rule.code == "SLC001"), "{ds:#?}");
    assert!(ds.iter().any(|d| d.rule.code == "SLC008"), "{ds:#?}");
    ds
}

fn ctx(diagnostics: &[Diagnostic]) -> ReportCtx {
    let mut files: Vec<Arc<SourceFile>> = Vec::new();
    for d in diagnostics {
        if !files.iter().any(|f| Arc::ptr_eq(f, &d.file)) {
            files.push(d.file.clone());
        }
    }
    ReportCtx {
        files,
        errors: Vec::new(),
        skipped: Vec::new(),
        color: false,
        quiet: true,
        width: 100,
        statistics: false,
    }
}

/// SLC001 suppressed in source with a reason, SLC008 by a baseline; the rest reported.
fn with_suppressions() -> Vec<Diagnostic> {
    let mut ds = lint_compose();
    for d in &mut ds {
        match d.rule.code {
            "SLC001" => {
                d.suppression = Some(Box::new(Suppression {
                    kind: SuppressionKind::InSource,
                    reason: Some("needs /dev/kvm".to_string()),
                }));
            }
            "SLC008" => {
                d.suppression = Some(Box::new(Suppression {
                    kind: SuppressionKind::External,
                    reason: None,
                }));
            }
            _ => {}
        }
    }
    ds
}

#[test]
fn suppressed_findings_appear_only_in_sarif() {
    let ds = with_suppressions();
    let cx = ctx(&ds);
    let sarif: Value =
        serde_json::from_str(&report::render(OutputFormat::Sarif, &ds, &cx)).unwrap();
    assert_valid_sarif(&sarif);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), ds.len(), "SARIF keeps suppressed findings");
    let by_rule = |code: &str| results.iter().find(|r| r["ruleId"] == code).unwrap();
    assert_eq!(
        by_rule("SLC001")["suppressions"],
        serde_json::json!([{ "kind": "inSource", "justification": "needs /dev/kvm" }])
    );
    assert_eq!(
        by_rule("SLC008")["suppressions"],
        serde_json::json!([{ "kind": "external" }])
    );
    assert!(by_rule("SLC004")["suppressions"].is_null());

    for format in [
        OutputFormat::Github,
        OutputFormat::Gitlab,
        OutputFormat::Junit,
        OutputFormat::Checkstyle,
    ] {
        let out = report::render(format, &ds, &cx);
        assert!(
            out.contains("SLC004") || out.contains("missing-memory-limit"),
            "{format:?}: {out}"
        );
        assert!(
            !out.contains("SLC001") && !out.contains("privileged-container"),
            "{format:?}: {out}"
        );
        assert!(
            !out.contains("SLC008") && !out.contains("host-network-mode"),
            "{format:?}: {out}"
        );
    }
    let gitlab: Value =
        serde_json::from_str(&report::render(OutputFormat::Gitlab, &ds, &cx)).unwrap();
    assert_eq!(gitlab.as_array().unwrap().len(), ds.len() - 2);
}

#[test]
fn fingerprints_do_not_depend_on_the_message() {
    let ds = lint_compose();
    let mut changed = ds.clone();
    for d in &mut changed {
        d.message = format!("{} (reworded)", d.message);
    }
    let fingerprints = |ds: &[Diagnostic]| {
        let cx = ctx(ds);
        let sarif: Value =
            serde_json::from_str(&report::render(OutputFormat::Sarif, ds, &cx)).unwrap();
        let gitlab: Value =
            serde_json::from_str(&report::render(OutputFormat::Gitlab, ds, &cx)).unwrap();
        let s: Vec<Value> = sarif["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["partialFingerprints"]["sandlintFingerprint/v1"].clone())
            .collect();
        let g: Vec<Value> = gitlab
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["fingerprint"].clone())
            .collect();
        (s, g)
    };
    let (s1, g1) = fingerprints(&ds);
    let (s2, g2) = fingerprints(&changed);
    assert_eq!(s1, s2);
    assert_eq!(g1, g2);
    assert_eq!(s1, g1, "SARIF and GitLab carry the same fingerprint");
    // Unique within the report (GitLab requires it).
    let mut unique = g1.clone();
    unique.sort_by_key(|v| v.to_string());
    unique.dedup();
    assert_eq!(unique.len(), g1.len());
}

/// A finding whose message and path need escaping in every format.
fn nasty() -> (Vec<Diagnostic>, ReportCtx) {
    let rule = sandlint::rules::find("privileged-container")
        .unwrap()
        .meta();
    let file =
        SourceFile::virtual_file("dir, with: odd <chars> & \"quotes\"/compose.yaml", COMPOSE)
            .into_ref();
    let start = u32::try_from(COMPOSE.find("true").unwrap()).unwrap();
    let mut d = Diagnostic::new(
        rule,
        file,
        sandlint::source::Span::new(start, start + 4),
        "50% of <services> & \"quotes\" 'apos', a:b\r\nsecond line \u{1} ]]> 🐳",
    );
    d.fingerprint = "0123456789abcdef".to_string();
    let ds = vec![d];
    let cx = ctx(&ds);
    (ds, cx)
}

#[test]
fn github_escapes_like_the_actions_toolkit() {
    let (ds, cx) = nasty();
    let out = report::render(OutputFormat::Github, &ds, &cx);
    assert_eq!(
        out,
        "::error file=dir%2C with%3A odd <chars> & \"quotes\"/compose.yaml,line=4,col=17,endLine=4,endColumn=21,\
         title=SLC001 privileged-container::50%25 of <services> & \"quotes\" 'apos', a:b\\r\\nsecond line \\x01 ]]> 🐳\n"
    );
}

/// Parses `xml` with quick-xml: well-formed (matching tags, one root, valid references, only XML
/// 1.0 characters). Returns every attribute value, unescaped, and the text content.
fn parse_xml(xml: &str) -> (Vec<(String, String)>, String) {
    use quick_xml::events::Event;
    assert!(
        xml.chars().all(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)),
        "character not allowed in XML 1.0:\n{xml}"
    );
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack: Vec<String> = Vec::new();
    let mut roots = 0;
    let mut attrs = Vec::new();
    let mut texts = String::new();
    loop {
        let event = reader
            .read_event()
            .unwrap_or_else(|e| panic!("malformed XML: {e}\n{xml}"));
        let mut take_attrs = |e: &quick_xml::events::BytesStart<'_>| {
            for a in e.attributes() {
                let a = a.unwrap_or_else(|e| panic!("bad attribute: {e}\n{xml}"));
                let key = a.key.as_ref().to_string();
                let value = a
                    .normalized_value(quick_xml::XmlVersion::Explicit1_0)
                    .unwrap_or_else(|e| panic!("bad attribute value: {e}\n{xml}"));
                attrs.push((key, value.into_owned()));
            }
        };
        match event {
            Event::Start(e) => {
                if stack.is_empty() {
                    roots += 1;
                }
                take_attrs(&e);
                stack.push(e.name().as_ref().to_string());
            }
            Event::Empty(e) => {
                if stack.is_empty() {
                    roots += 1;
                }
                take_attrs(&e);
            }
            Event::End(e) => {
                assert_eq!(stack.pop().as_deref(), Some(e.name().as_ref()));
            }
            Event::Text(t) => {
                let s = t.xml10_content();
                if !stack.is_empty() {
                    texts.push_str(&s);
                } else {
                    assert!(s.trim().is_empty(), "text outside the root: {s:?}");
                }
            }
            Event::GeneralRef(r) => {
                let name: &str = r.as_ref();
                let resolved = match name {
                    "amp" => "&".to_string(),
                    "lt" => "<".to_string(),
                    "gt" => ">".to_string(),
                    "quot" => "\"".to_string(),
                    "apos" => "'".to_string(),
                    _ => r
                        .resolve_char_ref()
                        .unwrap_or_else(|e| panic!("bad reference &{name};: {e}"))
                        .unwrap_or_else(|| panic!("unknown entity &{name};"))
                        .to_string(),
                };
                texts.push_str(&resolved);
            }
            Event::Eof => break,
            Event::CData(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {
                panic!("unexpected node in\n{xml}")
            }
            Event::Decl(_) => {}
        }
    }
    assert!(stack.is_empty(), "unclosed elements {stack:?}");
    assert_eq!(roots, 1, "exactly one root element");
    (attrs, texts)
}

#[test]
fn xml_formats_are_well_formed_on_the_fixture() {
    for format in ["junit", "checkstyle"] {
        let out = render_fixture(format);
        let (attrs, _) = parse_xml(&out);
        assert!(
            attrs
                .iter()
                .any(|(k, v)| k == "name" && v == "fixtures/report/project/my app/Dockerfile"),
            "{format}: {attrs:?}"
        );
    }
}

#[test]
fn xml_formats_escape_everything() {
    let (ds, cx) = nasty();
    // Control characters are shown escaped (XML 1.0 could not carry U+0001 anyway); markup
    // characters survive the round trip.
    let want_message = ds[0]
        .message
        .replace('\u{1}', "\\x01")
        .replace("\r\n", "\\r\\n");
    let want_path = &ds[0].file.display;

    let junit = report::render(OutputFormat::Junit, &ds, &cx);
    let (attrs, texts) = parse_xml(&junit);
    assert!(
        attrs.contains(&("message".to_string(), want_message.clone())),
        "{attrs:?}"
    );
    assert!(
        attrs.contains(&("classname".to_string(), want_path.clone())),
        "{attrs:?}"
    );
    assert!(texts.contains(&want_message), "{texts:?}");
    assert!(attrs.contains(&("failures".to_string(), "1".to_string())));

    let checkstyle = report::render(OutputFormat::Checkstyle, &ds, &cx);
    let (attrs, _) = parse_xml(&checkstyle);
    assert!(
        attrs.contains(&("message".to_string(), want_message)),
        "{attrs:?}"
    );
    assert!(
        attrs.contains(&("name".to_string(), want_path.clone())),
        "{attrs:?}"
    );
    assert!(attrs.contains(&("source".to_string(), "sandlint.SLC001".to_string())));
    assert!(attrs.contains(&("severity".to_string(), "error".to_string())));
}

#[test]
fn gitlab_report_shape() {
    let (ds, cx) = nasty();
    let v: Value = serde_json::from_str(&report::render(OutputFormat::Gitlab, &ds, &cx)).unwrap();
    assert_eq!(
        v,
        serde_json::json!([{
            "type": "issue",
            "description": "50% of <services> & \"quotes\" 'apos', a:b\\r\\nsecond line \\x01 ]]> 🐳",
            "check_name": "privileged-container",
            "fingerprint": "0123456789abcdef",
            "severity": "critical",
            "categories": ["Security"],
            "location": { "path": ds[0].file.display, "lines": { "begin": 4, "end": 4 } },
        }])
    );
}

#[test]
fn empty_reports_are_valid() {
    let file = SourceFile::virtual_file("Dockerfile", "FROM scratch\n").into_ref();
    let cx = ReportCtx {
        files: vec![file],
        ..ReportCtx::default()
    };
    let sarif: Value =
        serde_json::from_str(&report::render(OutputFormat::Sarif, &[], &cx)).unwrap();
    assert_valid_sarif(&sarif);
    assert_eq!(report::render(OutputFormat::Github, &[], &cx), "");
    assert_eq!(report::render(OutputFormat::Gitlab, &[], &cx), "[]\n");
    let (attrs, _) = parse_xml(&report::render(OutputFormat::Junit, &[], &cx));
    assert!(
        attrs.contains(&("tests".to_string(), "1".to_string())),
        "a clean file is a passing test: {attrs:?}"
    );
    assert!(attrs.contains(&("failures".to_string(), "0".to_string())));
    parse_xml(&report::render(OutputFormat::Checkstyle, &[], &cx));
}

// ---------------------------------------------------------------------------------------------
// Completions and the man page (generated from the clap definition).

#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let o = sandlint(&["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}: {}", text(&o.stderr));
        let script = text(&o.stdout);
        assert!(!script.trim().is_empty(), "{shell}");
        assert!(script.contains("check"), "{shell}: no `check`");
        assert!(
            script.contains("--fail-on") || script.contains("fail-on"),
            "{shell}: no `--fail-on`"
        );
    }
}

#[test]
fn bash_completion_parses() {
    let script = text(&sandlint(&["completions", "bash"]).stdout);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sandlint.bash");
    std::fs::write(&path, script).unwrap();
    let o = Command::new("bash").arg("-n").arg(&path).output().unwrap();
    assert!(o.status.success(), "bash -n: {}", text(&o.stderr));
}

#[test]
fn man_page() {
    let o = sandlint(&["man"]);
    assert_eq!(o.status.code(), Some(0));
    let man = text(&o.stdout);
    assert!(man.contains(".TH sandlint"), "{man}");
    assert!(man.contains(".SH \"SANDLINT CHECK\""), "{man}");
    assert!(man.contains("fail\\-on"), "{man}");
    assert!(Path::new(SCHEMA).is_file());
}

// ---------------------------------------------------------------------------------------------
// Noise (issue 10, item 3) and names shown whole (item 7).
// ---------------------------------------------------------------------------------------------

/// Three services merge one anchor whose `cap_drop` lacks `ALL`; `solo` lacks every protection.
const ANCHORED: &str = "x-base: &base\n  image: docker.all-hands.dev/all-hands-ai/runtime:0.59-nikolaik\n  cap_drop: [NET_RAW]\n  read_only: true\nservices:\n  a:\n    <<: *base\n  b:\n    <<: *base\n  c:\n    <<: *base\n  solo:\n    image: nginx:1.27\n";

fn anchored() -> (Vec<Diagnostic>, ReportCtx) {
    let ds = linter::lint_text(
        FileKind::Compose,
        "compose.yaml",
        ANCHORED,
        &Selection::all(),
    );
    let cx = ctx(&ds);
    (ds, cx)
}

#[test]
fn one_anchor_is_one_result_listing_its_services_in_every_machine_format() {
    let (ds, cx) = anchored();
    // The linter reports one finding per (rule, service) ...
    let cap_drop = ANCHORED.find("cap_drop").unwrap() as u32;
    let per_service: Vec<_> = ds
        .iter()
        .filter(|d| d.rule.code == "SLC012" && d.span.start == cap_drop)
        .collect();
    assert_eq!(per_service.len(), 3, "{ds:#?}");
    // ... the reports show the location once.
    let json: Value = serde_json::from_str(&report::render(OutputFormat::Json, &ds, &cx)).unwrap();
    let at_anchor: Vec<&Value> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "SLC012" && f["start"]["line"] == 3)
        .collect();
    assert_eq!(at_anchor.len(), 1, "{json:#}");
    assert_eq!(at_anchor[0]["service"], "a");
    assert_eq!(at_anchor[0]["services"], serde_json::json!(["a", "b", "c"]));
    assert_eq!(
        at_anchor[0]["message"],
        "service `a` does not drop all capabilities (no `ALL` in `cap_drop`) (the same lines apply to 3 services: `a`, `b`, `c`)"
    );
    // The summary still counts one finding per (rule, service).
    assert_eq!(
        json["statistics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["code"] == "SLC012")
            .unwrap()["count"],
        4
    );
    let sarif: Value =
        serde_json::from_str(&report::render(OutputFormat::Sarif, &ds, &cx)).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let located = |r: &&Value| {
        r["ruleId"] == "SLC012" && r["locations"][0]["physicalLocation"]["region"]["startLine"] == 3
    };
    assert_eq!(results.iter().filter(located).count(), 1);
    for (format, per_result) in [
        (OutputFormat::Github, 1),
        (OutputFormat::Junit, 2),
        (OutputFormat::Checkstyle, 1),
        (OutputFormat::Concise, 1),
    ] {
        let out = report::render(format, &ds, &cx);
        assert_eq!(
            out.matches("does not drop all capabilities (no `ALL`")
                .count(),
            per_result,
            "{format:?}: {out}"
        );
    }
    let gitlab: Value =
        serde_json::from_str(&report::render(OutputFormat::Gitlab, &ds, &cx)).unwrap();
    let issues = gitlab.as_array().unwrap();
    assert_eq!(
        issues
            .iter()
            .filter(|i| i["check_name"] == "missing-cap-drop-all"
                && i["location"]["lines"]["begin"] == 3)
            .count(),
        1
    );
}

#[test]
fn full_report_shows_a_services_missing_protections_as_one_block() {
    let (ds, cx) = anchored();
    let out = report::render(OutputFormat::Full, &ds, &cx);
    // `solo`: six hardening findings at its name (SLC007 aside: its user is unknown, SLX001 at
    // the image), one header, one snippet, one line per finding in the help.
    assert_eq!(
        out.matches("service `solo` lacks 7 protections").count(),
        1,
        "{out}"
    );
    let block = out
        .split("\nhardening\n")
        .find(|b| b.contains("service `solo` lacks"))
        .unwrap();
    let block = block.split("\n\nSL").next().unwrap();
    assert_eq!(block.matches("╭─[compose.yaml:").count(), 1, "{block}");
    for code in [
        "SLC002", "SLC003", "SLC004", "SLC005", "SLC006", "SLC012", "SLX001",
    ] {
        assert!(block.contains(&format!("{code} ")), "{code}: {block}");
    }
    // Not also printed one by one.
    assert!(!out.contains("SLC004 missing-memory-limit\n"), "{out}");
    // Findings shared through the anchor are printed once.
    assert_eq!(
        out.matches("does not drop all capabilities (no `ALL`")
            .count(),
        1,
        "{out}"
    );
    // The summary counts every (rule, service).
    assert!(report::summary_line(&ds, &cx).contains("21 warnings"));
}

#[test]
fn statistics_table_and_json_statistics() {
    let (ds, mut cx) = anchored();
    cx.statistics = true;
    let out = report::render(OutputFormat::Concise, &ds, &cx);
    let table: Vec<&str> = out
        .lines()
        .filter(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    assert_eq!(
        table.first(),
        Some(&"4  SLC002  missing-no-new-privileges"),
        "{out}"
    );
    assert!(
        table.contains(&"1  SLC003  writable-root-filesystem"),
        "{out}"
    );
    let total: usize = table
        .iter()
        .map(|l| {
            l.split_whitespace()
                .next()
                .unwrap()
                .parse::<usize>()
                .unwrap()
        })
        .sum();
    assert_eq!(total, report::Counts::of(&ds).total());
    // Without the flag: no table.
    cx.statistics = false;
    let plain = report::render(OutputFormat::Concise, &ds, &cx);
    assert!(!plain.contains("  SLC002  "), "{plain}");
    // Through the CLI, after the findings and before the summary line.
    let o = sandlint(&[
        "check",
        PROJECT,
        "--statistics",
        "--format",
        "full",
        "--color",
        "never",
    ]);
    let out = text(&o.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[lines.len() - 1].starts_with("Checked "), "{out}");
    assert!(
        lines[lines.len() - 2].ends_with("unknown-image-user")
            || lines
                .iter()
                .any(|l| l.ends_with("  SLC007  service-root-user")),
        "{out}"
    );
}

#[test]
fn names_are_whole_in_messages_and_json_has_service_and_stage() {
    let (ds, cx) = anchored();
    let json: Value = serde_json::from_str(&report::render(OutputFormat::Json, &ds, &cx)).unwrap();
    let pinned = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "SLC023")
        .unwrap();
    assert_eq!(
        pinned["message"],
        "service `a` image `docker.all-hands.dev/all-hands-ai/runtime:0.59-nikolaik` is not pinned by digest (the same lines apply to 3 services: `a`, `b`, `c`)"
    );
    assert_eq!(pinned["stage"], Value::Null);
    let ds = linter::lint_text(
        FileKind::Dockerfile,
        "Dockerfile",
        "FROM ubuntu:24.04 AS builder\nRUN true\n",
        &Selection::all(),
    );
    let json: Value =
        serde_json::from_str(&report::render(OutputFormat::Json, &ds, &ctx(&ds))).unwrap();
    let f = &json["findings"][0];
    assert_eq!(f["stage"], "builder", "{json:#}");
    assert_eq!(f["service"], Value::Null);
    assert_eq!(f["services"], serde_json::json!([]));
}

#[test]
fn an_anchor_defined_in_one_service_and_merged_into_another_is_one_result() {
    let text = "services:\n  app: &app\n    image: example/app:latest\n  server:\n    <<: *app\n";
    let ds = linter::lint_text(FileKind::Compose, "compose.yaml", text, &Selection::all());
    let json: Value =
        serde_json::from_str(&report::render(OutputFormat::Json, &ds, &ctx(&ds))).unwrap();
    let latest: Vec<&Value> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "SLC022")
        .collect();
    assert_eq!(latest.len(), 1, "{json:#}");
    assert_eq!(latest[0]["services"], serde_json::json!(["app", "server"]));
}

/// Over the corpus (about 35,000 results at default severities), the SARIF log keeps GitHub's
/// 25,000 results per run, the most severe first, says so on stderr and in the run's
/// invocation, and stays a file GitHub accepts.
#[test]
fn sarif_over_the_corpus_keeps_githubs_result_limit() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let corpus = shared.join("corpus");
    let corpus = corpus.to_str().unwrap();
    let json = sandlint(&["check", corpus, "--format", "json", "--fail-on", "never"]);
    let json: Value = serde_json::from_slice(&json.stdout).unwrap();
    let findings = json["findings"].as_array().unwrap();
    let count = |k: &str| findings.iter().filter(|f| f["severity"] == k).count();
    let (errors, warnings, info) = (count("error"), count("warning"), count("info"));
    let total = findings.len();
    assert_eq!(errors + warnings + info, total);
    assert!(
        total > 25_000,
        "the corpus no longer exceeds the limit: {total}"
    );

    let out = sandlint(&["check", corpus, "--format", "sarif", "--fail-on", "never"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_github_upload_rules(&sarif);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 25_000);
    let kept = |level: &str| {
        results
            .iter()
            .filter(|r| r["level"] == level && r["suppressions"].is_null())
            .count()
    };
    // errors first, then warnings, then info: whatever is kept of a level, every finding of
    // each more severe level is kept
    let kept_errors = errors.min(25_000);
    let kept_warnings = warnings.min(25_000 - kept_errors);
    let kept_info = info.min(25_000 - kept_errors - kept_warnings);
    assert_eq!(
        (kept("error"), kept("warning"), kept("note")),
        (kept_errors, kept_warnings, kept_info)
    );
    let note = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["descriptor"]["id"] == "sarif-results-dropped")
        .unwrap();
    assert_eq!(note["level"], "warning");
    let note = note["message"]["text"].as_str().unwrap();
    // seen: every finding, suppressed ones included
    let seen: usize = note.split(' ').next().unwrap().parse().unwrap();
    assert!(seen >= total, "{note}");
    assert!(
        note.contains(&format!(
            "the 25000 most severe are kept and {} dropped ({} errors, {} warnings, {} info,",
            seen - 25_000,
            errors - kept_errors,
            warnings - kept_warnings,
            info - kept_info
        )),
        "{note}"
    );
    let stderr = text(&out.stderr);
    assert!(stderr.contains(&format!("warning: {note}")), "{stderr}");
}
