//! The session tools' schemas (`tools/list`).

use serde_json::{Value, json};

/// `session_start`, `session_exec`, `write_file`, `read_file` and `session_stop`.
pub(super) fn session_tools(timeout: &Value) -> Vec<Value> {
    let (session_output, exec_output, file_output) = outputs();
    let tools = json!([
        {
            "name": "session_start",
            "title": "Start a sandbox session",
            "description": "Start a hardened, verified container that lives across calls (state in /workspace and /tmp persists) with the server's sandbox options; returns its id. It is removed by session_stop, at its TTL, or when the server exits.",
            "inputSchema": {
                "type": "object",
                "properties": {
                    "ttl": { "type": "number", "exclusiveMinimum": 0, "description": "Seconds the session lives; at most the server's --session-ttl, which is also the default" },
                },
                "additionalProperties": false,
            },
            "outputSchema": session_output,
        },
        {
            "name": "session_exec",
            "title": "Run a command in a session",
            "description": "Run a command (argv, no shell) in a session started by session_start, after re-verifying that its container is still the hardened one that was started; returns its exit status and output.",
            "inputSchema": {
                "type": "object",
                "properties": {
                    "session": { "type": "string" },
                    "argv": { "type": "array", "items": { "type": "string" }, "minItems": 1 },
                    "timeout": timeout,
                },
                "required": ["session", "argv"],
                "additionalProperties": false,
            },
            "outputSchema": exec_output,
        },
        {
            "name": "write_file",
            "title": "Write a file into a session",
            "description": "Write text to a file under /workspace of a session (parent directories are created; no `..`, no symlinks followed).",
            "inputSchema": {
                "type": "object",
                "properties": {
                    "session": { "type": "string" },
                    "path": { "type": "string", "description": "Relative to /workspace, or /workspace/..." },
                    "content": { "type": "string" },
                },
                "required": ["session", "path", "content"],
                "additionalProperties": false,
            },
            "outputSchema": file_output,
        },
        {
            "name": "read_file",
            "title": "Read a file from a session",
            "description": "Read a regular file under /workspace of a session (as text, lossy UTF-8, capped at the server's output limit).",
            "inputSchema": {
                "type": "object",
                "properties": {
                    "session": { "type": "string" },
                    "path": { "type": "string", "description": "Relative to /workspace, or /workspace/..." },
                },
                "required": ["session", "path"],
                "additionalProperties": false,
            },
            "outputSchema": file_output,
        },
        {
            "name": "session_stop",
            "title": "Stop a session",
            "description": "Remove a session started by session_start (its container and /workspace).",
            "inputSchema": {
                "type": "object",
                "properties": { "session": { "type": "string" } },
                "required": ["session"],
                "additionalProperties": false,
            },
            "outputSchema": { "type": "object", "properties": { "session": { "type": "string" }, "removed": { "type": "boolean" } }, "required": ["session", "removed"] },
        },
    ]);
    match tools {
        Value::Array(v) => v,
        _ => Vec::new(),
    }
}

/// The output schemas of `session_start`, `session_exec` and the file tools.
fn outputs() -> (Value, Value, Value) {
    let strings = json!({ "type": "array", "items": { "type": "string" } });
    let session_output = json!({
        "type": "object",
        "properties": {
            "session": { "type": "string" },
            "image": { "type": "string" },
            "user": { "type": "string" },
            "ttl_left": { "type": "integer" },
            "verified": strings,
            "failed": strings,
            "findings": strings,
        },
        "required": ["session", "image", "user", "ttl_left", "verified", "failed", "findings"],
    });
    let exec_output = json!({
        "type": "object",
        "properties": {
            "session": { "type": "string" },
            "exit_code": { "type": "integer", "description": "124 timed out" },
            "stdout": { "type": "string" },
            "stderr": { "type": "string" },
            "timed_out": { "type": "boolean" },
            "session_stopped": { "type": "boolean", "description": "the timed-out command could not be killed alone, so the session was removed" },
            "truncated": {
                "type": "object",
                "properties": { "stdout": { "type": "boolean" }, "stderr": { "type": "boolean" } },
                "required": ["stdout", "stderr"],
            },
            "duration_ms": { "type": "integer" },
            "verified": strings,
            "failed": strings,
            "egress": { "type": ["object", "null"], "description": "with an egress allowlist: the proxy's allowed and blocked requests during this exec, and the sidecar's checks" },
        },
        "required": ["session", "exit_code", "stdout", "stderr", "timed_out", "session_stopped", "truncated", "duration_ms", "verified", "failed"],
    });
    let file_output = json!({
        "type": "object",
        "properties": {
            "session": { "type": "string" },
            "path": { "type": "string" },
            "bytes": { "type": "integer" },
            "content": { "type": "string" },
            "truncated": { "type": "boolean" },
            "verified": strings,
        },
        "required": ["session", "path", "bytes", "verified"],
    });
    (session_output, exec_output, file_output)
}
