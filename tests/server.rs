//! `sandlint server` end to end: the real binary, spoken to over its standard streams with
//! JSON-RPC in LSP's `Content-Length` framing, as an editor would.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "integration tests"
)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

mod common;

/// How long any one answer may take.
const WAIT: Duration = Duration::from_secs(30);

struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    incoming: mpsc::Receiver<Value>,
    next_id: i64,
    /// Notifications received while waiting for something else.
    held: Vec<Value>,
}

fn read_frame(r: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length: ") {
            length = v.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    r.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

impl Client {
    fn start(dir: &Path, capabilities: Value) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sandlint"))
            .arg("server")
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, incoming) = mpsc::channel();
        std::thread::spawn(move || {
            while let Some(v) = read_frame(&mut stdout) {
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        let mut c = Client {
            child,
            stdin,
            incoming,
            next_id: 1,
            held: Vec::new(),
        };
        let root = uri(dir);
        let init = c.request(
            "initialize",
            json!({ "processId": null, "rootUri": root, "capabilities": capabilities }),
        );
        assert_eq!(init["serverInfo"]["name"], "sandlint", "{init}");
        c.notify("initialized", json!({}));
        c
    }

    fn send(&mut self, msg: &Value) {
        let body = msg.to_string();
        let stdin = self.stdin.as_mut().unwrap();
        write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// Sends a request and returns its result (panics on an error response).
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let msg = self.incoming.recv_timeout(WAIT).expect("no response");
            if msg["id"] == json!(id) && msg.get("method").is_none() {
                assert!(msg.get("error").is_none(), "{method}: {msg}");
                return msg["result"].clone();
            }
            self.held.push(msg);
        }
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        let is_for = |m: &Value| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
        };
        if let Some(i) = self.held.iter().position(is_for) {
            let m = self.held.remove(i);
            return m["params"]["diagnostics"].as_array().unwrap().clone();
        }
        loop {
            let msg = self.incoming.recv_timeout(WAIT).expect("no diagnostics");
            if is_for(&msg) {
                return msg["params"]["diagnostics"].as_array().unwrap().clone();
            }
            self.held.push(msg);
        }
    }

    fn open(&mut self, uri: &str, language: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": language, "version": 1, "text": text } }),
        );
    }

    /// `shutdown`, `exit`; the server's exit code.
    fn finish(mut self) -> Option<i32> {
        assert_eq!(self.request("shutdown", Value::Null), Value::Null);
        self.notify("exit", Value::Null);
        drop(self.stdin.take());
        self.child.wait().unwrap().code()
    }
}

fn uri(path: &Path) -> String {
    let mut out = String::from("file://");
    for b in path.to_str().unwrap().bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A project directory (its own git work tree: the project boundary).
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    dir
}

/// Each diagnostic as `CODE line:col-line:col`.
fn summary(diagnostics: &[Value]) -> Vec<String> {
    diagnostics
        .iter()
        .map(|d| {
            let r = &d["range"];
            format!(
                "{} {}:{}-{}:{}",
                d["code"].as_str().unwrap_or("-"),
                r["start"]["line"],
                r["start"]["character"],
                r["end"]["line"],
                r["end"]["character"]
            )
        })
        .collect()
}

const BAD: &str = "FROM alpine:3.19\nUSER root\n";
const DIGEST: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

fn fixed() -> String {
    format!("FROM alpine:3.19@{DIGEST}\nHEALTHCHECK CMD [\"/bin/true\"]\nUSER 10001\n")
}

#[test]
fn diagnostics_hover_code_actions_and_a_clean_exit() {
    let dir = project();
    let file = dir.path().join("Dockerfile");
    let uri = uri(&file);
    let mut c = Client::start(dir.path(), json!({}));
    c.open(&uri, "dockerfile", BAD);
    let found = c.diagnostics(&uri);
    assert_eq!(
        summary(&found),
        ["SLD021 0:0-0:16", "SLD012 0:5-0:16", "SLD001 1:5-1:9"]
    );
    let root = found.iter().find(|d| d["code"] == "SLD001").unwrap();
    assert_eq!(root["severity"], 1);
    assert_eq!(root["source"], "sandlint");
    assert_eq!(
        root["codeDescription"]["href"],
        "https://github.com/sandlint/sandlint/blob/main/rules/root-user.md"
    );
    assert!(
        root["message"]
            .as_str()
            .unwrap()
            .starts_with("final stage runs as root: `USER root`"),
        "{root}"
    );
    let severities: Vec<&Value> = found.iter().map(|d| &d["severity"]).collect();
    assert_eq!(severities, [&json!(3), &json!(3), &json!(1)]);

    // hover over `root`: the rule's doc
    let hover = c.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri }, "position": { "line": 1, "character": 6 } }),
    );
    assert_eq!(hover["contents"]["kind"], "markdown");
    let doc = hover["contents"]["value"].as_str().unwrap();
    assert!(doc.starts_with("**SLD001 `root-user`** (error)"), "{doc}");
    assert!(doc.contains("## What it does"), "{doc}");
    assert_eq!(hover["range"], root["range"]);
    // nothing there: no hover
    let none = c.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri }, "position": { "line": 5, "character": 0 } }),
    );
    assert_eq!(none, Value::Null);

    // code actions on `USER root`: suppress here (a comment above the instruction), in the file
    let actions = c.request(
        "textDocument/codeAction",
        json!({
            "textDocument": { "uri": uri },
            "range": root["range"],
            "context": { "diagnostics": [root] },
        }),
    );
    let titles: Vec<&str> = (actions.as_array().unwrap().iter())
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        [
            "Suppress `root-user` (SLD001) here",
            "Suppress `root-user` (SLD001) in this file"
        ]
    );
    let edit = |i: usize| actions[i]["edit"]["changes"][&uri][0].clone();
    assert_eq!(
        edit(0),
        json!({
            "range": { "start": { "line": 1, "character": 0 }, "end": { "line": 1, "character": 0 } },
            "newText": "# sandlint ignore=root-user reason=\"TODO: why is this accepted\"\n",
        })
    );
    assert_eq!(
        edit(1),
        json!({
            "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 0, "character": 0 } },
            "newText": "# sandlint global ignore=root-user reason=\"TODO: why is this accepted\"\n",
        })
    );
    assert_eq!(actions[0]["kind"], "quickfix");
    assert_eq!(actions[0]["diagnostics"][0]["code"], "SLD001");

    // applying the first edit (incremental sync) suppresses the finding
    c.notify(
        "textDocument/didChange",
        json!({
            "textDocument": { "uri": uri, "version": 2 },
            "contentChanges": [{ "range": edit(0)["range"], "text": edit(0)["newText"] }],
        }),
    );
    assert_eq!(
        summary(&c.diagnostics(&uri)),
        ["SLD021 0:0-0:16", "SLD012 0:5-0:16"]
    );

    // the fixed text (a full change): nothing
    c.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 3 }, "contentChanges": [{ "text": fixed() }] }),
    );
    assert_eq!(summary(&c.diagnostics(&uri)), Vec::<String>::new());

    // closing clears the diagnostics
    c.notify(
        "textDocument/didClose",
        json!({ "textDocument": { "uri": uri } }),
    );
    assert_eq!(c.diagnostics(&uri), Vec::<Value>::new());
    assert_eq!(c.finish(), Some(0));
}

/// Columns count UTF-16 code units by default, bytes when the client offers UTF-8.
#[test]
fn ranges_count_utf16_units_or_utf8_bytes() {
    let text = format!(
        "FROM alpine:3.19@{DIGEST}\nHEALTHCHECK NONE\nENV GREETING=\"héllo 🦀\" AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY\nRUN echo \"🦀 é\" && curl -fsSL https://example.com/i.sh | sh\nUSER 10001\n"
    );
    let dir = project();
    let uri = uri(&dir.path().join("Dockerfile"));
    let mut c = Client::start(dir.path(), json!({}));
    c.open(&uri, "dockerfile", &text);
    assert_eq!(
        summary(&c.diagnostics(&uri)),
        [
            "SLD021 0:0-0:88",
            "SLD006 2:24-2:45",
            "SLD005 3:19-3:59",
            "SLD020 3:19-3:59"
        ]
    );
    assert_eq!(c.finish(), Some(0));

    let mut c = Client::start(
        dir.path(),
        json!({ "general": { "positionEncodings": ["utf-8", "utf-16"] } }),
    );
    c.open(&uri, "dockerfile", &text);
    assert_eq!(
        summary(&c.diagnostics(&uri)),
        [
            "SLD021 0:0-0:88",
            "SLD006 2:27-2:48",
            "SLD005 3:22-3:62",
            "SLD020 3:22-3:62"
        ]
    );
    assert_eq!(c.finish(), Some(0));
}

/// A Compose file open in the editor (not saved) changes the findings of the Dockerfile its
/// service builds; closing it changes them back.
#[test]
fn a_compose_file_and_the_dockerfile_it_builds() {
    let dir = project();
    let dockerfile = dir.path().join("Dockerfile");
    let text = format!("FROM alpine:3.19@{DIGEST}\nUSER 10001\n");
    std::fs::write(&dockerfile, &text).unwrap();
    let (df, compose) = (uri(&dockerfile), uri(&dir.path().join("compose.yaml")));
    let mut c = Client::start(dir.path(), json!({}));
    c.open(&df, "dockerfile", &text);
    assert_eq!(summary(&c.diagnostics(&df)), ["SLD021 0:0-0:88"]);
    // the service that builds it defines a health check: the Dockerfile needs none
    let with_healthcheck = "services:\n  web:\n    build: .\n    healthcheck:\n      test: [\"CMD\", \"true\"]\n    privileged: true\n";
    c.open(&compose, "dockercompose", with_healthcheck);
    let compose_found = summary(&c.diagnostics(&compose));
    assert!(
        compose_found.contains(&"SLC001 5:16-5:20".to_string()),
        "{compose_found:?}"
    );
    assert_eq!(summary(&c.diagnostics(&df)), Vec::<String>::new());
    // the health check removed in the editor: the Dockerfile's finding is back
    c.notify(
        "textDocument/didChange",
        json!({
            "textDocument": { "uri": compose, "version": 2 },
            "contentChanges": [{ "text": "services:\n  web:\n    build: .\n" }],
        }),
    );
    c.diagnostics(&compose);
    assert_eq!(summary(&c.diagnostics(&df)), ["SLD021 0:0-0:88"]);

    // code actions on a Compose finding: a comment above the key, and at the top of the file
    let actions = c.request(
        "textDocument/codeAction",
        json!({
            "textDocument": { "uri": compose },
            "range": { "start": { "line": 1, "character": 2 }, "end": { "line": 1, "character": 2 } },
            "context": { "diagnostics": [] },
        }),
    );
    // the fix first (preferred: it is safe), then the suppressions
    assert_eq!(
        actions[0]["title"],
        "Fix: set `no-new-privileges:true` in `security_opt`"
    );
    let first = &actions[1];
    assert_eq!(
        first["title"],
        "Suppress `missing-no-new-privileges` (SLC002) here"
    );
    assert_eq!(
        first["edit"]["changes"][&compose][0]["newText"],
        "  # sandlint ignore=missing-no-new-privileges reason=\"TODO: why is this accepted\"\n"
    );

    // closed: the Compose file saved on disk (not open) is found beside the Dockerfile
    c.notify(
        "textDocument/didClose",
        json!({ "textDocument": { "uri": compose } }),
    );
    assert_eq!(c.diagnostics(&compose), Vec::<Value>::new());
    assert_eq!(summary(&c.diagnostics(&df)), ["SLD021 0:0-0:88"]);
    std::fs::write(dir.path().join("compose.yaml"), with_healthcheck).unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": compose, "type": 1 }] }),
    );
    assert_eq!(summary(&c.diagnostics(&df)), Vec::<String>::new());
    assert_eq!(c.finish(), Some(0));
}

/// A finding with a label in another file: the label is related information there; saving
/// that file updates the finding.
#[test]
fn related_information_and_saves() {
    let dir = project();
    std::fs::create_dir(dir.path().join("api")).unwrap();
    let api = dir.path().join("api/Dockerfile");
    std::fs::write(&api, "FROM alpine:3.19\nUSER root\n").unwrap();
    let compose = uri(&dir.path().join("compose.yaml"));
    let mut c = Client::start(dir.path(), json!({}));
    c.open(&compose, "yaml", "services:\n  api:\n    build: ./api\n");
    let found = c.diagnostics(&compose);
    let root = found.iter().find(|d| d["code"] == "SLC007").unwrap();
    assert_eq!(
        root["relatedInformation"],
        json!([{
            "location": {
                "uri": uri(&api),
                "range": { "start": { "line": 1, "character": 5 }, "end": { "line": 1, "character": 9 } },
            },
            "message": "the image's user is set to root here",
        }])
    );
    // the Dockerfile fixed and saved: the Compose file's finding goes
    let api_uri = uri(&api);
    let fixed = "FROM alpine:3.19\nUSER 10001\n";
    c.open(&api_uri, "dockerfile", fixed);
    std::fs::write(&api, fixed).unwrap();
    c.notify(
        "textDocument/didSave",
        json!({ "textDocument": { "uri": api_uri } }),
    );
    let mut codes: Vec<Value> = Vec::new();
    // the open (first) lint and the save's: the last one has no SLC007
    for _ in 0..2 {
        codes = (c.diagnostics(&compose).iter())
            .map(|d| d["code"].clone())
            .collect();
        if !codes.contains(&json!("SLC007")) {
            break;
        }
    }
    assert!(!codes.contains(&json!("SLC007")), "{codes:?}");
    assert_eq!(c.finish(), Some(0));
}

/// `exit` without `shutdown` is exit code 1 (as LSP asks); a broken frame is 2. Between
/// `shutdown` and `exit`, notifications are dropped and requests refused.
#[test]
fn exit_codes() {
    let dir = project();
    let mut c = Client::start(dir.path(), json!({}));
    assert_eq!(c.request("shutdown", Value::Null), Value::Null);
    c.notify(
        "textDocument/didClose",
        json!({ "textDocument": { "uri": "file:///x/Dockerfile" } }),
    );
    c.send(&json!({ "jsonrpc": "2.0", "id": 99, "method": "textDocument/hover", "params": {
        "textDocument": { "uri": "file:///x/Dockerfile" }, "position": { "line": 0, "character": 0 } } }));
    let refused = c.incoming.recv_timeout(WAIT).unwrap();
    assert_eq!(refused["id"], 99);
    assert_eq!(refused["error"]["code"], -32600);
    c.notify("exit", Value::Null);
    drop(c.stdin.take());
    assert_eq!(c.child.wait().unwrap().code(), Some(0));

    let mut c = Client::start(dir.path(), json!({}));
    c.notify("exit", Value::Null);
    drop(c.stdin.take());
    assert_eq!(c.child.wait().unwrap().code(), Some(1));

    let mut child = Command::new(env!("CARGO_BIN_EXE_sandlint"))
        .arg("server")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(b"Content-Length: 99999999999\r\n\r\n")
        .unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("over the limit"), "{stderr}");
}

/// A third-party client: pygls's LanguageClient runs `scripts/lsp-client-test.py` against the
/// server. Python with `pygls` and `lsprotocol`: `SANDLINT_PYGLS_PYTHON`, else `python3`.
#[test]
fn a_third_party_client_pygls() {
    let python = std::env::var("SANDLINT_PYGLS_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let has_pygls = Command::new(&python)
        .args(["-c", "import pygls.lsp.client, lsprotocol.types"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_pygls {
        common::skip_or_fail(
            "SANDLINT_REQUIRE_PYGLS",
            "the pygls client test",
            &format!(
                "`{python}` cannot import pygls and lsprotocol (pip install 'pygls>=2,<3' lsprotocol; SANDLINT_PYGLS_PYTHON names the python)"
            ),
        );
        return;
    }
    let out = Command::new(&python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/lsp-client-test.py"))
        .arg(env!("CARGO_BIN_EXE_sandlint"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("pygls client"));
}

/// The nearest `.sandlint.toml` applies as in `check`, and is read again when the client says
/// it changed; one that cannot be used is a warning at the top of the document.
#[test]
fn the_config_beside_the_file_and_its_changes() {
    let dir = project();
    let config = dir.path().join(".sandlint.toml");
    std::fs::write(
        &config,
        "ignore = [\"base-image-not-digest-pinned\"]\n[severity]\nroot-user = \"warning\"\n",
    )
    .unwrap();
    let uri = uri(&dir.path().join("Dockerfile"));
    let mut c = Client::start(
        dir.path(),
        json!({ "workspace": { "didChangeWatchedFiles": { "dynamicRegistration": true } } }),
    );
    c.open(&uri, "dockerfile", BAD);
    let found = c.diagnostics(&uri);
    assert_eq!(summary(&found), ["SLD021 0:0-0:16", "SLD001 1:5-1:9"]);
    assert_eq!(found[1]["severity"], 2);
    // the server asked to be told of config changes
    let register = (c.held.iter())
        .find(|m| m["method"] == "client/registerCapability")
        .expect("no client/registerCapability request");
    let glob =
        register["params"]["registrations"][0]["registerOptions"]["watchers"][0]["globPattern"]
            .as_str()
            .unwrap();
    assert!(glob.contains(".sandlint.toml"), "{glob}");

    std::fs::write(&config, "ignore = [\"root-usr\"]\n").unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": crate::uri(&config), "type": 2 }] }),
    );
    let found = c.diagnostics(&uri);
    assert_eq!(summary(&found), ["- 0:0-0:0"]);
    let message = found[0]["message"].as_str().unwrap();
    let want = format!(
        "cannot use config {}:1:11: unknown rule or family `root-usr` (did you mean `root-user`?)",
        config.display()
    );
    assert_eq!(message, want);
    assert_eq!(found[0]["severity"], 2);
    assert_eq!(c.finish(), Some(0));
}

/// An override file is linted in its base file's project, from the editor's text of both; what
/// falls in the override is its finding.
#[test]
fn an_open_override_file() {
    let dir = project();
    let base = dir.path().join("compose.yaml");
    let over = dir.path().join("compose.override.yaml");
    std::fs::write(&base, "services:\n  web:\n    image: alpine:3.19\n").unwrap();
    std::fs::write(&over, "services:\n  web:\n    privileged: false\n").unwrap();
    let (base_uri, over_uri) = (uri(&base), uri(&over));
    let mut c = Client::start(dir.path(), json!({}));
    c.open(
        &over_uri,
        "dockercompose",
        "services:\n  web:\n    privileged: true\n",
    );
    assert_eq!(summary(&c.diagnostics(&over_uri)), ["SLC001 2:16-2:20"]);
    // the base file, open too, has its own findings and none of the override's
    c.open(
        &base_uri,
        "dockercompose",
        "services:\n  web:\n    image: alpine:3.19\n    pid: host\n",
    );
    let found = summary(&c.diagnostics(&base_uri));
    assert!(found.contains(&"SLC015 3:9-3:13".to_string()), "{found:?}");
    assert!(!found.iter().any(|f| f.starts_with("SLC001")), "{found:?}");
    // opening the base lints the open override again (its project changed)
    assert_eq!(summary(&c.diagnostics(&over_uri)), ["SLC001 2:16-2:20"]);
    assert_eq!(c.finish(), Some(0));
}

/// Changes that arrive together are linted once, at the last version.
#[test]
fn rapid_changes_are_coalesced() {
    let dir = project();
    let uri = uri(&dir.path().join("Dockerfile"));
    let mut c = Client::start(dir.path(), json!({}));
    c.open(&uri, "dockerfile", BAD);
    c.diagnostics(&uri);
    // ten edits in one write: each appends a line
    let mut burst = Vec::new();
    for version in 2..12 {
        let body = json!({
            "jsonrpc": "2.0",
            "method": "textDocument/didChange",
            "params": {
                "textDocument": { "uri": uri, "version": version },
                "contentChanges": [{
                    "range": { "start": { "line": 99, "character": 0 }, "end": { "line": 99, "character": 0 } },
                    "text": "USER root\n",
                }],
            },
        })
        .to_string();
        burst.extend_from_slice(format!("Content-Length: {}\r\n\r\n{body}", body.len()).as_bytes());
    }
    let stdin = c.stdin.as_mut().unwrap();
    stdin.write_all(&burst).unwrap();
    stdin.flush().unwrap();
    // a request lints what changed first: its answer comes after the one publication
    c.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri }, "position": { "line": 0, "character": 0 } }),
    );
    let published: Vec<&Value> = (c.held.iter())
        .filter(|m| m["method"] == "textDocument/publishDiagnostics")
        .collect();
    assert_eq!(published.len(), 1, "{published:?}");
    assert_eq!(published[0]["params"]["version"], 11);
    // the final stage's last `USER root`, the tenth line appended
    let root = (published[0]["params"]["diagnostics"]
        .as_array()
        .unwrap()
        .iter())
    .find(|d| d["code"] == "SLD001")
    .unwrap();
    assert_eq!(root["range"]["start"]["line"], 11);
    assert_eq!(c.finish(), Some(0));
}

/// A document over the reader's 32 MiB cap is not kept or checked; sent again within it, it is.
#[test]
fn a_document_over_the_size_cap() {
    let dir = project();
    let uri = uri(&dir.path().join("Dockerfile"));
    let mut c = Client::start(dir.path(), json!({}));
    let huge = format!("FROM alpine:3.19\n#{}\n", "x".repeat(32 * 1024 * 1024));
    c.open(&uri, "dockerfile", &huge);
    let found = c.diagnostics(&uri);
    assert_eq!(summary(&found), ["- 0:0-0:0"]);
    assert_eq!(found[0]["message"], "larger than 32 MiB; not checked");
    // an incremental edit cannot apply to a text not kept: still not checked
    c.notify(
        "textDocument/didChange",
        json!({
            "textDocument": { "uri": uri, "version": 2 },
            "contentChanges": [{ "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 0, "character": 0 } }, "text": "#" }],
        }),
    );
    assert_eq!(summary(&c.diagnostics(&uri)), ["- 0:0-0:0"]);
    c.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 3 }, "contentChanges": [{ "text": BAD }] }),
    );
    assert_eq!(
        summary(&c.diagnostics(&uri)),
        ["SLD021 0:0-0:16", "SLD012 0:5-0:16", "SLD001 1:5-1:9"]
    );
    assert_eq!(c.finish(), Some(0));
}

/// At most 1,000 diagnostics per document: the most severe, and a warning saying how many are
/// left out.
#[test]
fn at_most_a_thousand_diagnostics() {
    let dir = project();
    let uri = uri(&dir.path().join("compose.yaml"));
    let services: String = (0..120)
        .map(|i| format!("  s{i}:\n    image: alpine:3.19\n    privileged: true\n"))
        .collect();
    let mut c = Client::start(dir.path(), json!({}));
    c.open(&uri, "dockercompose", &format!("services:\n{services}"));
    let found = c.diagnostics(&uri);
    assert_eq!(found.len(), 1001);
    let hidden = found[0]["message"].as_str().unwrap();
    assert!(hidden.ends_with("more findings, less severe, are not shown (at most 1000 are); `sandlint check` lists them all"), "{hidden}");
    let errors = found.iter().filter(|d| d["severity"] == 1).count();
    let privileged = found.iter().filter(|d| d["code"] == "SLC001").count();
    assert_eq!(privileged, 120);
    assert!(errors >= 120, "{errors}");
    // shown in order
    let lines: Vec<u64> = (found[1..].iter())
        .map(|d| d["range"]["start"]["line"].as_u64().unwrap())
        .collect();
    assert!(lines.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(c.finish(), Some(0));
}

/// Requests and edits that make no sense get an error or are ignored, never a crash: positions
/// far past the text, a reversed range, unknown methods, bad parameters, other URI schemes.
#[test]
fn nonsense_from_the_client() {
    let dir = project();
    let uri = uri(&dir.path().join("Dockerfile"));
    let mut c = Client::start(dir.path(), json!({}));
    c.open("untitled:Untitled-1", "dockerfile", BAD);
    c.open(&uri, "dockerfile", BAD);
    assert_eq!(c.diagnostics(&uri).len(), 3);
    let far = json!({ "line": 4_000_000_000u32, "character": 4_000_000_000u32 });
    c.notify(
        "textDocument/didChange",
        json!({
            "textDocument": { "uri": uri, "version": 2 },
            "contentChanges": [
                { "range": { "start": far, "end": { "line": 0, "character": 0 } }, "text": "# é🦀\n" },
                { "range": { "start": { "line": 1, "character": 3 }, "end": { "line": 1, "character": 1 } }, "text": "" },
            ],
        }),
    );
    // `# é🦀` was appended at the end; the reversed range removed nothing
    assert_eq!(
        summary(&c.diagnostics(&uri)),
        ["SLD021 0:0-0:16", "SLD012 0:5-0:16", "SLD001 1:5-1:9"]
    );
    let hover = c.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri }, "position": far }),
    );
    assert_eq!(hover, Value::Null);
    let none = c.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": "file:///not/open" }, "range": { "start": far, "end": far }, "context": { "diagnostics": [] } }),
    );
    assert_eq!(none, json!([]));
    for (method, params, code) in [
        ("textDocument/definition", json!({}), -32601),
        ("textDocument/hover", json!({ "position": 1 }), -32602),
    ] {
        c.send(&json!({ "jsonrpc": "2.0", "id": method, "method": method, "params": params }));
        let answer = loop {
            let m = c.incoming.recv_timeout(WAIT).unwrap();
            if m["id"] == method {
                break m;
            }
        };
        assert_eq!(answer["error"]["code"], code, "{answer}");
    }
    // unknown notifications and a change to a document never opened are ignored
    c.notify("$/cancelRequest", json!({ "id": 1 }));
    c.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": "file:///not/open", "version": 2 }, "contentChanges": [{ "text": "x" }] }),
    );
    assert_eq!(c.finish(), Some(0));
}

/// The server finds what `check` finds: every file of every rule fixture (its config, project
/// boundary, suppressions and the Compose files beside it), opened in one session, has the
/// findings `check` reports for it in its directory (same codes at the same lines).
#[test]
fn the_same_findings_as_check_on_every_rule_fixture() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs: Vec<std::path::PathBuf> = std::fs::read_dir(root.join("fixtures/rules"))
        .unwrap()
        .flat_map(|rule| std::fs::read_dir(rule.unwrap().path()).unwrap())
        .map(|d| d.unwrap().path())
        .filter(|d| d.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() > 300, "{}", dirs.len());
    let mut c = Client::start(root, json!({}));
    let mut compared = 0;
    for dir in &dirs {
        let out = Command::new(env!("CARGO_BIN_EXE_sandlint"))
            .args(["check", "--format", "json", "--fail-on", "never"])
            .arg(dir)
            .current_dir(root)
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut want: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for f in report["findings"].as_array().unwrap() {
            let line = f["start"]["line"].as_u64().unwrap() - 1;
            (want.entry(root.join(f["file"].as_str().unwrap()).display().to_string()))
                .or_default()
                .push(format!("{} {line}", f["code"].as_str().unwrap()));
        }
        // Docker files, and the YAML files they pull in (findings there come from them)
        let files: Vec<std::path::PathBuf> = walk(dir)
            .into_iter()
            .filter(|f| {
                let text = String::from_utf8_lossy(&std::fs::read(f).unwrap()).into_owned();
                sandlint::server::kind_of(f, "", &text).is_some()
                    || f.extension().is_some_and(|e| e == "yml" || e == "yaml")
            })
            .collect();
        let uris: Vec<String> = files.iter().map(|f| uri(f)).collect();
        for (f, u) in files.iter().zip(&uris) {
            c.open(u, "", &String::from_utf8_lossy(&std::fs::read(f).unwrap()));
        }
        // a request is answered after the publications of what changed before it
        flush(&mut c);
        for (f, u) in files.iter().zip(&uris) {
            let mut got: Vec<String> = Vec::new();
            for m in c.held.iter().filter(|m| {
                m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == *u
            }) {
                got = (m["params"]["diagnostics"].as_array().unwrap().iter())
                    .map(|d| {
                        format!(
                            "{} {}",
                            d["code"].as_str().unwrap_or("-"),
                            d["range"]["start"]["line"]
                        )
                    })
                    .collect();
            }
            let mut want = want.remove(&f.display().to_string()).unwrap_or_default();
            want.sort();
            got.sort();
            assert_eq!(got, want, "{}", f.display());
            compared += 1;
            c.notify(
                "textDocument/didClose",
                json!({ "textDocument": { "uri": u } }),
            );
        }
        flush(&mut c);
        c.held.clear();
    }
    assert!(compared > 350, "{compared}");
    assert_eq!(c.finish(), Some(0));
}

fn flush(c: &mut Client) {
    c.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": "file:///none" }, "position": { "line": 0, "character": 0 } }),
    );
}

/// The files under `dir`, recursively (fixtures are small).
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// `devcontainer.json`: its findings, and a `//` suppression above the member.
#[test]
fn a_devcontainer_json() {
    let dir = project();
    std::fs::create_dir(dir.path().join(".devcontainer")).unwrap();
    let uri = uri(&dir.path().join(".devcontainer/devcontainer.json"));
    let text = "{\n  \"image\": \"mcr.microsoft.com/devcontainers/base:ubuntu\",\n  \"features\": {\n    \"ghcr.io/devcontainers/features/node\": {},\n  },\n}\n";
    let mut c = Client::start(dir.path(), json!({}));
    c.open(&uri, "jsonc", text);
    let found = c.diagnostics(&uri);
    assert_eq!(
        summary(&found),
        ["SLC023 1:11-1:56", "SLX001 1:11-1:56", "SLV003 3:4-3:41"]
    );
    let feature = &found[2];
    let actions = c.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": uri }, "range": feature["range"], "context": { "diagnostics": [feature] } }),
    );
    assert_eq!(
        actions[0]["edit"]["changes"][&uri][0]["newText"],
        "    // sandlint ignore=feature-not-pinned reason=\"TODO: why is this accepted\"\n"
    );
    assert_eq!(
        actions[1]["edit"]["changes"][&uri][0]["newText"],
        "// sandlint global ignore=feature-not-pinned reason=\"TODO: why is this accepted\"\n"
    );
    assert_eq!(c.finish(), Some(0));
}

/// A finding with a fix offers "Fix: …" (preferred when safe) before the suppressions; its edit,
/// applied, removes the finding.
#[test]
fn fix_code_actions_apply_the_findings_fix() {
    let text = "services:\n  web: # the app\n    image: \"nginx:1.27\"\n";
    let dir = project();
    let uri = uri(&dir.path().join("compose.yaml"));
    let mut c = Client::start(dir.path(), json!({}));
    c.open(&uri, "yaml", text);
    let found = c.diagnostics(&uri);
    let nnp = found
        .iter()
        .find(|d| d["code"] == "SLC002")
        .unwrap()
        .clone();
    let actions = c.request(
        "textDocument/codeAction",
        json!({
            "textDocument": { "uri": uri },
            "range": nnp["range"],
            "context": { "diagnostics": [nnp] },
        }),
    );
    let fixes: Vec<&Value> = (actions.as_array().unwrap().iter())
        .filter(|a| a["title"].as_str().unwrap().starts_with("Fix: "))
        .collect();
    let safe = fixes
        .iter()
        .find(|a| a["diagnostics"][0]["code"] == "SLC002")
        .unwrap();
    assert_eq!(
        safe["title"],
        "Fix: set `no-new-privileges:true` in `security_opt`"
    );
    assert_eq!(safe["kind"], "quickfix");
    assert_eq!(safe["isPreferred"], true);
    let edit = safe["edit"]["changes"][&uri][0].clone();
    assert_eq!(
        edit,
        json!({
            "range": { "start": { "line": 3, "character": 0 }, "end": { "line": 3, "character": 0 } },
            "newText": "    security_opt:\n      - no-new-privileges:true\n",
        })
    );
    // unsafe fixes are offered, not preferred
    let unsafe_ = fixes
        .iter()
        .find(|a| a["diagnostics"][0]["code"] == "SLC003");
    if let Some(a) = unsafe_ {
        assert_eq!(a["isPreferred"], false);
        assert!(a["title"].as_str().unwrap().ends_with(" (unsafe)"), "{a}");
    }
    c.notify(
        "textDocument/didChange",
        json!({
            "textDocument": { "uri": uri, "version": 2 },
            "contentChanges": [{ "range": edit["range"], "text": edit["newText"] }],
        }),
    );
    let after = c.diagnostics(&uri);
    assert!(after.iter().all(|d| d["code"] != "SLC002"), "{after:?}");
    assert_eq!(c.finish(), Some(0));
}
