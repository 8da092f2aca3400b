//! `sandlint mcp`: the Model Context Protocol over stdio, so that an agent runs code in
//! `sandlint run`'s sandbox through tools it already speaks.
//!
//! Transport: one JSON-RPC 2.0 message per line on stdin and stdout (MCP's stdio transport);
//! nothing else is written to stdout. Methods: `initialize`, `ping`, `tools/list`, `tools/call`;
//! notifications are read and ignored. Tools: `run_code {code, language, timeout}` and
//! `run_command {argv, timeout}`, each one run; and the session tools (`sandlint session`):
//! `session_start {ttl}`, `session_exec {session, argv, timeout}`, `write_file {session, path,
//! content}`, `read_file {session, path}`, `session_stop {session}`. Every call uses the
//! server's own options (the command line's, checked at start): a call chooses the program, its
//! language, a file under `/workspace`, at most the server's timeout and at most its
//! `--session-ttl`, nothing else; an argument outside a tool's schema (`image`, `network`,
//! `allow`, ...) refuses the call, so no tool call can loosen the sandbox. The session tools act
//! only on sessions this server started (at most `--max-sessions`); each exec, write and read
//! re-verifies the container first. At end of input every session the server started is
//! removed; a server killed by a signal leaves them to their watchdogs, which are bound to its
//! pid (`session start --bound-to`) and remove them within a second. Calls are served one at a
//! time. A message is at most [`MAX_MESSAGE`] bytes; a longer line is answered with a parse
//! error and skipped without being held.
//!
//! Why not the official Rust SDK, `rmcp`: decided again for the session tools, and kept
//! hand-rolled. The protocol subset used (initialize, ping, tools/list, tools/call over
//! line-delimited stdio) is small and stable; `rmcp` is async and would nest a second Tokio
//! runtime around the sandbox's own per-call current-thread runtimes (every sandbox call here
//! blocks), and brings schema generation (schemars) and proc macros for seven tools whose
//! schemas are plain JSON here; it is also not in this project's offline dependency set.
//! Interoperability is proven with the official Python SDK's client (`scripts/mcp-test.py`).

use std::io::{BufRead, Write};

use serde_json::{Value, json};

use crate::cli::McpArgs;
use crate::error::{ExitStatus, UsageError};

mod schema;
#[cfg(feature = "sandbox")]
mod sessions;

/// The largest message read (code travels inside it).
pub const MAX_MESSAGE: usize = 8 * 1024 * 1024;

/// Protocol revisions this server was written against, newest last; a client asking for
/// another (newer) revision gets its own back, since the subset used (tools with text and
/// structured results) has not changed since 2025-06-18.
const PROTOCOL_VERSIONS: &[&str] = &["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];

#[cfg(feature = "sandbox")]
pub fn serve(
    args: &McpArgs,
    stdin: &mut dyn std::io::Read,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<ExitStatus, UsageError> {
    let server = imp::Server::new(args)?;
    let mut reader = std::io::BufReader::new(stdin);
    let status = serve_lines(&mut reader, stdout, stderr, &mut |m| server.handle(m));
    // End of input (or a closed output): every session this server started goes with it. A
    // server killed by a signal leaves them to their watchdogs, bound to this process.
    server.stop_all();
    Ok(status)
}

#[cfg(not(feature = "sandbox"))]
pub fn serve(
    _args: &McpArgs,
    _stdin: &mut dyn std::io::Read,
    _stdout: &mut dyn Write,
    _stderr: &mut dyn Write,
) -> Result<ExitStatus, UsageError> {
    Err(UsageError::new(
        "this sandlint was built without the `sandbox` feature: `sandlint mcp` is unavailable",
    ))
}

/// Reads messages until end of input, answering each through `handle` (which returns `None`
/// for a notification).
fn serve_lines(
    reader: &mut dyn BufRead,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    handle: &mut dyn FnMut(&Value) -> Option<Value>,
) -> ExitStatus {
    loop {
        let line = match read_line(reader) {
            Ok(Line::End) => return ExitStatus::Success,
            Ok(Line::TooLong) => Some(error(
                &Value::Null,
                -32700,
                &format!("message over {MAX_MESSAGE} bytes"),
            )),
            Ok(Line::Text(text)) if text.trim().is_empty() => None,
            Ok(Line::Text(text)) => match serde_json::from_str::<Value>(&text) {
                Ok(message) => answer(&message, handle),
                Err(e) => Some(error(&Value::Null, -32700, &format!("parse error: {e}"))),
            },
            Err(e) => {
                let _ = writeln!(stderr, "sandlint mcp: cannot read stdin: {e}");
                return ExitStatus::Error;
            }
        };
        if let Some(reply) = line {
            let written = serde_json::to_writer(&mut *stdout, &reply)
                .map_err(std::io::Error::from)
                .and_then(|()| stdout.write_all(b"\n"))
                .and_then(|()| stdout.flush());
            if written.is_err() {
                // the client went away
                return ExitStatus::Success;
            }
        }
    }
}

/// The reply to one message (`None` for a notification or a response).
fn answer(message: &Value, handle: &mut dyn FnMut(&Value) -> Option<Value>) -> Option<Value> {
    let Some(object) = message.as_object() else {
        return Some(error(
            &Value::Null,
            -32600,
            "invalid request: not a JSON-RPC object (batches are not supported)",
        ));
    };
    let id = object.get("id").cloned();
    if object.get("method").and_then(Value::as_str).is_none() {
        // a response is never answered (we send no requests, so it answers nothing)
        if object.contains_key("result") || object.contains_key("error") {
            return None;
        }
        return id.map(|id| error(&id, -32600, "invalid request: no method"));
    }
    let reply = handle(message)?;
    // notifications get no answer, whatever the handler says
    id.map(|_| reply)
}

enum Line {
    Text(String),
    TooLong,
    End,
}

/// One line of at most [`MAX_MESSAGE`] bytes; a longer one is consumed to its end, unkept.
fn read_line(reader: &mut dyn BufRead) -> std::io::Result<Line> {
    let mut buf = Vec::new();
    let limit = u64::try_from(MAX_MESSAGE).unwrap_or(u64::MAX);
    let n = std::io::Read::take(&mut *reader, limit + 1).read_until(b'\n', &mut buf)?;
    if n == 0 {
        return Ok(Line::End);
    }
    if buf.len() > MAX_MESSAGE && buf.last() != Some(&b'\n') {
        loop {
            let chunk = reader.fill_buf()?;
            if chunk.is_empty() {
                break;
            }
            match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    reader.consume(i + 1);
                    break;
                }
                None => {
                    let len = chunk.len();
                    reader.consume(len);
                }
            }
        }
        return Ok(Line::TooLong);
    }
    Ok(Line::Text(String::from_utf8_lossy(&buf).into_owned()))
}

fn result(id: &Value, result: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "result": result })
}

fn error(id: &Value, code: i64, message: &str) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } })
}

/// The `initialize` result for the revision the client asked for.
fn initialize(id: &Value, params: &Value) -> Value {
    let asked = params.get("protocolVersion").and_then(Value::as_str);
    let version = match asked {
        Some(v) if PROTOCOL_VERSIONS.contains(&v) => v,
        // a revision newer than ours that still has the shape of one (YYYY-MM-DD)
        Some(v)
            if v.len() == 10
                && v.bytes().all(|b| b.is_ascii_digit() || b == b'-')
                && PROTOCOL_VERSIONS.last().is_some_and(|last| v > *last) =>
        {
            v
        }
        _ => PROTOCOL_VERSIONS.last().copied().unwrap_or("2025-06-18"),
    };
    result(
        id,
        json!({
            "protocolVersion": version,
            "capabilities": { "tools": { "listChanged": false } },
            "serverInfo": { "name": "sandlint", "title": "sandlint sandbox", "version": env!("CARGO_PKG_VERSION") },
            "instructions": "Runs code and commands in a fresh hardened container per call \
                (non-root, read-only root filesystem, no capabilities, no-new-privileges, no \
                network unless the server allows it, memory/CPU/process limits), checked by \
                sandlint's rules before it is created and inspected after it starts. run_code and \
                run_command get a fresh container each: nothing persists between them. For \
                state across calls, session_start a session and use session_exec, write_file \
                and read_file (files under /workspace), then session_stop.",
        }),
    )
}

fn tools() -> Value {
    let timeout = json!({
        "type": "number",
        "exclusiveMinimum": 0,
        "description": "Seconds before the program is killed (exit status 124); at most the server's limit, which is also the default",
    });
    let output = json!({
        "type": "object",
        "properties": {
            "exit_code": { "type": "integer", "description": "124 timed out, 137 out of memory" },
            "stdout": { "type": "string" },
            "stderr": { "type": "string" },
            "timed_out": { "type": "boolean" },
            "oom_killed": { "type": "boolean" },
            "truncated": {
                "type": "object",
                "properties": { "stdout": { "type": "boolean" }, "stderr": { "type": "boolean" } },
                "required": ["stdout", "stderr"],
            },
            "duration_ms": { "type": "integer" },
            "image": { "type": "string" },
            "user": { "type": "string" },
            "verified": { "type": "array", "items": { "type": "string" }, "description": "protections inspected on the running container" },
            "failed": { "type": "array", "items": { "type": "string" } },
            "findings": { "type": "array", "items": { "type": "string" }, "description": "what the rules said of the planned container" },
        },
        "required": ["exit_code", "stdout", "stderr", "timed_out", "oom_killed", "truncated", "duration_ms", "image", "user", "verified", "failed", "findings"],
    });
    let tools = json!([
        {
            "name": "run_code",
            "title": "Run code in a sandbox",
            "description": "Run a snippet with an interpreter (python, node or sh) in a fresh hardened, verified container; returns its exit status and output.",
            "inputSchema": {
                "type": "object",
                "properties": {
                    "code": { "type": "string", "description": "The program text" },
                    "language": { "type": "string", "enum": ["python", "node", "sh"], "default": "python" },
                    "timeout": timeout,
                },
                "required": ["code"],
                "additionalProperties": false,
            },
            "outputSchema": output,
        },
        {
            "name": "run_command",
            "title": "Run a command in a sandbox",
            "description": "Run a command (argv, no shell) in a fresh hardened, verified container; returns its exit status and output.",
            "inputSchema": {
                "type": "object",
                "properties": {
                    "argv": { "type": "array", "items": { "type": "string" }, "minItems": 1 },
                    "timeout": timeout,
                },
                "required": ["argv"],
                "additionalProperties": false,
            },
            "outputSchema": output,
        },
    ]);
    let mut list = match tools {
        Value::Array(v) => v,
        _ => Vec::new(),
    };
    list.extend(schema::session_tools(&timeout));
    json!({ "tools": list })
}

/// A tool's answer: `text` for the model, `structured` for programs, `is_error` for a call
/// that did not run.
fn tool_result(id: &Value, text: String, structured: Option<Value>, is_error: bool) -> Value {
    let mut r = json!({ "content": [{ "type": "text", "text": text }], "isError": is_error });
    if let (Some(s), Value::Object(map)) = (structured, &mut r) {
        map.insert("structuredContent".to_string(), s);
    }
    result(id, r)
}

#[cfg(feature = "sandbox")]
mod imp {
    use std::cell::RefCell;
    use std::time::Duration;

    use serde_json::{Value, json};

    use super::{error, initialize, result, tool_result, tools};
    use crate::cli::{McpArgs, RunArgs};
    use crate::commands::run::imp::{error_json, options};
    use crate::error::UsageError;
    use crate::sandbox::session::Session;
    use crate::sandbox::{Lang, NoOutput, RunResult, Sandbox};

    /// The arguments each tool takes: anything else (`image`, `network`, `allow`, `user`...)
    /// is refused, so a call can never name a sandbox option.
    pub(super) fn known_arguments(tool: &str) -> &'static [&'static str] {
        match tool {
            "run_code" => &["code", "language", "timeout"],
            "run_command" => &["argv", "timeout"],
            "session_start" => &["ttl"],
            "session_exec" => &["session", "argv", "timeout"],
            "write_file" => &["session", "path", "content"],
            "read_file" => &["session", "path"],
            "session_stop" => &["session"],
            _ => &[],
        }
    }

    pub struct Server {
        pub(super) base: RunArgs,
        pub(super) session_ttl: Duration,
        pub(super) max_sessions: usize,
        /// The sessions this server started (the only ones its tools act on).
        pub(super) sessions: RefCell<Vec<String>>,
    }

    impl Server {
        /// Checks the options once, with a stand-in program, so that a bad flag stops the
        /// server at start (exit 2) instead of failing every call.
        pub fn new(args: &McpArgs) -> Result<Server, UsageError> {
            let run = &args.run;
            let program_flags = [
                (run.code.is_some(), "--code"),
                (run.file.is_some(), "--file"),
                (!run.command.is_empty(), "a CMD"),
                (run.json, "--json"),
                (run.dry_run, "--dry-run"),
                (run.gc, "--gc"),
                (run.interactive, "--interactive"),
                (run.watchdog.is_some(), "--watchdog"),
            ];
            if let Some((_, flag)) = program_flags.iter().find(|(set, _)| *set) {
                return Err(UsageError::new(format!(
                    "sandlint mcp takes `sandlint run`'s sandbox options, not {flag}: the tool calls name the program"
                )));
            }
            let mut probe = run.clone();
            probe.command = vec!["true".to_string()];
            if probe.image.is_none() && probe.compose.is_none() {
                probe.image = Some(Lang::default().default_image().to_string());
            }
            options(&probe).map_err(|e| UsageError::new(format!("sandlint mcp: {e}")))?;
            Ok(Server {
                base: run.clone(),
                session_ttl: args.session_ttl,
                max_sessions: args.max_sessions,
                sessions: RefCell::new(Vec::new()),
            })
        }

        /// Removes every session this server started.
        pub fn stop_all(&self) {
            for id in self.sessions.borrow_mut().drain(..) {
                let _ = Session::stop(&id);
            }
        }

        pub fn handle(&self, message: &Value) -> Option<Value> {
            let id = message.get("id").cloned().unwrap_or(Value::Null);
            let params = message.get("params").cloned().unwrap_or(Value::Null);
            match message.get("method").and_then(Value::as_str)? {
                "initialize" => Some(initialize(&id, &params)),
                "ping" => Some(result(&id, json!({}))),
                "tools/list" => Some(result(&id, tools())),
                "tools/call" => Some(self.call(&id, &params)),
                m if m.starts_with("notifications/") => None,
                m => Some(error(&id, -32601, &format!("method not found: {m}"))),
            }
        }

        fn call(&self, id: &Value, params: &Value) -> Value {
            let name = params.get("name").and_then(Value::as_str).unwrap_or("");
            let empty = json!({});
            let arguments = params.get("arguments").unwrap_or(&empty);
            if !matches!(
                name,
                "run_code"
                    | "run_command"
                    | "session_start"
                    | "session_exec"
                    | "write_file"
                    | "read_file"
                    | "session_stop"
            ) {
                return error(id, -32602, &format!("unknown tool `{name}`"));
            }
            let known = known_arguments(name);
            if let Some(map) = arguments.as_object()
                && let Some(extra) = map.keys().find(|k| !known.contains(&k.as_str()))
            {
                return tool_result(
                    id,
                    format!(
                        "refused: `{name}` takes no argument `{}`: the sandbox options are the server's own (its command line) and no tool call can change them",
                        crate::escape::line(&crate::source::clip(extra, 60))
                    ),
                    None,
                    true,
                );
            }
            match name {
                "session_start" => return self.session_start(id, arguments),
                "session_exec" => return self.session_exec(id, arguments),
                "write_file" => return self.write_file(id, arguments),
                "read_file" => return self.read_file(id, arguments),
                "session_stop" => return self.session_stop(id, arguments),
                _ => {}
            }
            let mut args = self.base.clone();
            let prepared = match name {
                "run_code" => code_args(&mut args, arguments),
                _ => command_args(&mut args, arguments),
            };
            if let Err(message) = prepared.and_then(|()| timeout(&mut args, arguments)) {
                return tool_result(id, message, None, true);
            }
            let (mut options, program) = match options(&args) {
                Ok(x) => x,
                Err(e) => return failure(id, &e),
            };
            // stdin is the protocol stream: never the program's
            options.stdin = false;
            // tokio would keep signal handlers for the rest of the process, and a client stops
            // its server with SIGTERM: the watchdog removes a container this process leaves
            options.handle_signals = false;
            match Sandbox::new(options).run_program(&program, &mut NoOutput) {
                Ok(r) => tool_result(id, summary(&r), Some(structured(&r)), false),
                Err(e) => failure(id, &e),
            }
        }
    }

    fn code_args(args: &mut RunArgs, arguments: &Value) -> Result<(), String> {
        let code = arguments
            .get("code")
            .and_then(Value::as_str)
            .ok_or("`code` (a string) is required")?;
        let lang = match arguments.get("language").map(|l| l.as_str()) {
            None | Some(Some("python")) => Lang::Python,
            Some(Some("node")) => Lang::Node,
            Some(Some("sh")) => Lang::Sh,
            _ => return Err("`language` must be python, node or sh".to_string()),
        };
        args.code = Some(code.to_string());
        args.lang = Some(lang);
        Ok(())
    }

    pub(super) fn command_args(args: &mut RunArgs, arguments: &Value) -> Result<(), String> {
        let argv: Option<Vec<String>> = arguments
            .get("argv")
            .and_then(Value::as_array)
            .and_then(|a| a.iter().map(|v| v.as_str().map(str::to_string)).collect());
        match argv {
            Some(argv) if !argv.is_empty() => {
                args.command = argv;
                Ok(())
            }
            _ => Err("`argv` (a non-empty array of strings) is required".to_string()),
        }
    }

    /// The call's timeout, capped at the server's.
    pub(super) fn timeout(args: &mut RunArgs, arguments: &Value) -> Result<(), String> {
        let Some(t) = arguments.get("timeout") else {
            return Ok(());
        };
        let seconds = t
            .as_f64()
            .filter(|s| s.is_finite() && *s > 0.0)
            .ok_or("`timeout` must be a positive number of seconds")?;
        let asked = Duration::try_from_secs_f64(seconds).unwrap_or(args.timeout);
        args.timeout = asked.min(args.timeout);
        Ok(())
    }

    fn structured(r: &RunResult) -> Value {
        json!({
            "exit_code": r.exit_code,
            "stdout": r.stdout,
            "stderr": r.stderr,
            "timed_out": r.timed_out,
            "oom_killed": r.oom_killed,
            "truncated": { "stdout": r.truncated.stdout, "stderr": r.truncated.stderr },
            "duration_ms": r.duration_ms,
            "image": r.image,
            "user": r.user,
            "verified": r.verification.verified,
            "failed": r.verification.failed,
            "findings": r.verification.lint.findings,
            // the allowlist's decisions (`--allow-host`), null without one
            "egress": r.egress,
        })
    }

    fn summary(r: &RunResult) -> String {
        let mut text = if r.timed_out {
            format!(
                "timed out after {} ms (killed, exit status 124)",
                r.duration_ms
            )
        } else if r.oom_killed {
            "killed: out of memory (exit status 137)".to_string()
        } else {
            format!("exit status {} ({} ms)", r.exit_code, r.duration_ms)
        };
        for (name, body, cut) in [
            ("stdout", &r.stdout, r.truncated.stdout),
            ("stderr", &r.stderr, r.truncated.stderr),
        ] {
            if !body.is_empty() {
                text.push_str(&format!(
                    "\n--- {name}{} ---\n{body}",
                    if cut { " (truncated)" } else { "" }
                ));
            }
        }
        if let Some(e) = &r.egress {
            let blocked: Vec<String> = e
                .blocked
                .iter()
                .take(5)
                .map(|b| b.host.chars().take(100).collect())
                .collect();
            text.push_str(&format!(
                "\negress: {} allowed, {} blocked{}",
                e.allowed.len(),
                e.blocked.len(),
                if blocked.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", blocked.join(", "))
                }
            ));
        }
        if !r.verification.failed.is_empty() {
            text.push_str(&format!(
                "\nsandbox degraded: {}",
                r.verification.failed.join(", ")
            ));
        }
        text
    }

    /// A call that did not run: the refusal's findings or the failure, as a tool error.
    pub(super) fn failure(id: &Value, e: &crate::sandbox::SandboxError) -> Value {
        let body = error_json(e);
        let err = &body["error"];
        let mut text = err["message"]
            .as_str()
            .unwrap_or("the sandbox failed")
            .to_string();
        for f in err["findings"].as_array().into_iter().flatten() {
            text.push_str(&format!("\n- {}", f.as_str().unwrap_or_default()));
        }
        if let Some(help) = err["help"].as_str() {
            text.push_str(&format!("\nhelp: {help}"));
        }
        tool_result(id, text, None, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &str, handle: &mut dyn FnMut(&Value) -> Option<Value>) -> Vec<Value> {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let status = serve_lines(&mut input.as_bytes(), &mut out, &mut err, handle);
        assert!(matches!(status, ExitStatus::Success));
        String::from_utf8_lossy(&out)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or(Value::Null))
            .collect()
    }

    #[test]
    fn framing_errors_and_notifications() {
        let long = format!("{}\n", "x".repeat(MAX_MESSAGE + 10));
        let input = format!(
            "{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}}\nnot json\n\n[1]\n{long}{{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}}\n{{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{{}}}}\n"
        );
        let mut handle = |m: &Value| match m["method"].as_str() {
            Some("ping") => Some(result(&m["id"], json!({}))),
            _ => Some(result(&m["id"], json!("handled"))),
        };
        let replies = run(&input, &mut handle);
        let codes: Vec<Value> = replies.iter().map(|r| r["error"]["code"].clone()).collect();
        assert_eq!(replies[0]["result"], json!({}));
        // not json, a batch, the oversized line; the notification and the response: nothing
        assert_eq!(codes[1..], [json!(-32700), json!(-32600), json!(-32700)]);
        assert_eq!(replies.len(), 4);
    }

    #[cfg(feature = "sandbox")]
    #[test]
    fn the_known_arguments_are_the_schemas() {
        for tool in tools()["tools"].as_array().into_iter().flatten() {
            let name = tool["name"].as_str().unwrap_or_default();
            let mut props: Vec<&str> = tool["inputSchema"]["properties"]
                .as_object()
                .map(|m| m.keys().map(String::as_str).collect())
                .unwrap_or_default();
            props.sort_unstable();
            let mut known = imp::known_arguments(name).to_vec();
            known.sort_unstable();
            assert_eq!(props, known, "{name}");
        }
    }

    #[test]
    fn initialize_negotiates_the_revision() {
        let v = |asked: Value| {
            initialize(&json!(1), &json!({ "protocolVersion": asked }))["result"]["protocolVersion"]
                .clone()
        };
        assert_eq!(v(json!("2025-06-18")), "2025-06-18");
        assert_eq!(v(json!("2099-01-01")), "2099-01-01");
        assert_eq!(v(json!("2020-01-01")), "2025-11-25");
        assert_eq!(v(json!("nonsense")), "2025-11-25");
        assert_eq!(v(Value::Null), "2025-11-25");
    }

    #[test]
    fn tools_declare_closed_input_schemas() {
        let t = tools();
        let names: Vec<&str> = t["tools"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t["name"].as_str())
            .collect();
        assert_eq!(
            names,
            [
                "run_code",
                "run_command",
                "session_start",
                "session_exec",
                "write_file",
                "read_file",
                "session_stop",
            ]
        );
        for tool in t["tools"].as_array().into_iter().flatten() {
            assert_eq!(tool["inputSchema"]["additionalProperties"], false);
            let required = tool["outputSchema"]["required"].as_array().map(Vec::len);
            if tool["name"].as_str().is_some_and(|n| n.starts_with("run_")) {
                assert_eq!(required, Some(12));
            } else {
                assert!(required.is_some_and(|r| r >= 2));
            }
        }
    }
}
