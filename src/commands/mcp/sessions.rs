//! The session tools (`sandlint session` through MCP): each acts only on a session this server
//! started, and takes nothing but its schema's arguments (checked by the caller).

use std::time::Duration;

use serde_json::{Value, json};

use super::imp::{Server, command_args, failure, timeout};
use super::tool_result;
use crate::sandbox::session::{Session, SessionOptions};
use crate::sandbox::{Lang, NoOutput};

use crate::commands::run::imp::options;

impl Server {
    /// The `session` argument, which must name a session this server started.
    fn own_session(&self, arguments: &Value) -> Result<String, String> {
        let sid = arguments
            .get("session")
            .and_then(Value::as_str)
            .ok_or("`session` (a string, from session_start) is required")?;
        if self.sessions.borrow().iter().any(|s| s == sid) {
            Ok(sid.to_string())
        } else {
            Err(format!(
                "no session `{}` started by this server",
                crate::escape::line(&crate::source::clip(sid, 40))
            ))
        }
    }

    pub(super) fn session_start(&self, id: &Value, arguments: &Value) -> Value {
        if self.sessions.borrow().len() >= self.max_sessions {
            return tool_result(
                id,
                format!(
                    "at most {} sessions at once (--max-sessions): stop one first",
                    self.max_sessions
                ),
                None,
                true,
            );
        }
        let ttl = match arguments.get("ttl") {
            None => self.session_ttl,
            Some(t) => match t.as_f64().filter(|s| s.is_finite() && *s >= 1.0) {
                Some(secs) => Duration::try_from_secs_f64(secs)
                    .unwrap_or(self.session_ttl)
                    .min(self.session_ttl),
                None => {
                    return tool_result(
                        id,
                        "`ttl` must be a number of seconds, at least 1".to_string(),
                        None,
                        true,
                    );
                }
            },
        };
        let mut args = self.base.clone();
        if args.image.is_none() && args.compose.is_none() {
            args.image = Some(Lang::Python.default_image().to_string());
        }
        let (mut sandbox, _) = match options(&args) {
            Ok(x) => x,
            Err(e) => return failure(id, &e),
        };
        sandbox.stdin = false;
        sandbox.handle_signals = false;
        let opts = SessionOptions {
            sandbox,
            ttl,
            workspace_size: crate::sandbox::session::DEFAULT_WORKSPACE_SIZE,
            bound_to: Some(std::process::id()),
        };
        match Session::start(&opts) {
            Ok(info) => {
                self.sessions.borrow_mut().push(info.id.clone());
                let text = format!(
                    "session {} started ({}, user {}, {} s left); verified: {}{}",
                    info.id,
                    info.image,
                    info.user,
                    info.ttl_left,
                    info.verified.join(", "),
                    if info.failed.is_empty() {
                        String::new()
                    } else {
                        format!("; degraded: {}", info.failed.join(", "))
                    }
                );
                let structured = json!({
                    "session": info.id,
                    "image": info.image,
                    "user": info.user,
                    "ttl_left": info.ttl_left,
                    "verified": info.verified,
                    "failed": info.failed,
                    "findings": info.findings,
                });
                tool_result(id, text, Some(structured), false)
            }
            Err(e) => failure(id, &e),
        }
    }

    pub(super) fn session_exec(&self, id: &Value, arguments: &Value) -> Value {
        let sid = match self.own_session(arguments) {
            Ok(s) => s,
            Err(m) => return tool_result(id, m, None, true),
        };
        let mut args = self.base.clone();
        if let Err(m) =
            command_args(&mut args, arguments).and_then(|()| timeout(&mut args, arguments))
        {
            return tool_result(id, m, None, true);
        }
        let limit = usize::try_from(args.output_limit).unwrap_or(usize::MAX);
        match Session::exec(
            &sid,
            &args.command,
            Some(args.timeout),
            Some(limit),
            &mut NoOutput,
        ) {
            Ok(r) => {
                if r.session_stopped {
                    self.sessions.borrow_mut().retain(|s| *s != sid);
                }
                let mut text = if r.timed_out {
                    format!(
                        "timed out after {} ms (killed, exit status 124){}",
                        r.duration_ms,
                        if r.session_stopped {
                            "; the session was removed"
                        } else {
                            ""
                        }
                    )
                } else {
                    format!("exit status {} ({} ms)", r.exit_code, r.duration_ms)
                };
                append_output(
                    &mut text,
                    &r.stdout,
                    r.truncated.stdout,
                    &r.stderr,
                    r.truncated.stderr,
                );
                let structured = json!({
                    "session": r.session,
                    "exit_code": r.exit_code,
                    "stdout": r.stdout,
                    "stderr": r.stderr,
                    "timed_out": r.timed_out,
                    "session_stopped": r.session_stopped,
                    "truncated": { "stdout": r.truncated.stdout, "stderr": r.truncated.stderr },
                    "duration_ms": r.duration_ms,
                    "verified": r.verification.verified,
                    "failed": r.verification.failed,
                    // the allowlist's decisions during this exec (`--allow-host`), null without
                    "egress": r.egress,
                });
                if let Some(e) = &r.egress {
                    text.push_str(&format!(
                        "\negress: {} allowed, {} blocked",
                        e.allowed.len(),
                        e.blocked.len()
                    ));
                }
                tool_result(id, text, Some(structured), false)
            }
            Err(e) => self.session_failure(id, &sid, &e),
        }
    }

    pub(super) fn write_file(&self, id: &Value, arguments: &Value) -> Value {
        let sid = match self.own_session(arguments) {
            Ok(s) => s,
            Err(m) => return tool_result(id, m, None, true),
        };
        let (Some(path), Some(content)) = (
            arguments.get("path").and_then(Value::as_str),
            arguments.get("content").and_then(Value::as_str),
        ) else {
            return tool_result(
                id,
                "`path` and `content` (strings) are required".to_string(),
                None,
                true,
            );
        };
        match Session::write_file(&sid, path, content.as_bytes()) {
            Ok(r) => tool_result(
                id,
                format!("wrote {} bytes to {}", r.bytes, r.remote),
                Some(json!({
                    "session": sid,
                    "path": r.remote,
                    "bytes": r.bytes,
                    "verified": r.verification.verified,
                })),
                false,
            ),
            Err(e) => self.session_failure(id, &sid, &e),
        }
    }

    pub(super) fn read_file(&self, id: &Value, arguments: &Value) -> Value {
        let sid = match self.own_session(arguments) {
            Ok(s) => s,
            Err(m) => return tool_result(id, m, None, true),
        };
        let Some(path) = arguments.get("path").and_then(Value::as_str) else {
            return tool_result(id, "`path` (a string) is required".to_string(), None, true);
        };
        let limit = u64::try_from(self.base.output_limit).unwrap_or(u64::MAX);
        match Session::read_file(&sid, path, limit) {
            Ok((data, verification)) => {
                let content = String::from_utf8_lossy(&data).into_owned();
                tool_result(
                    id,
                    content.clone(),
                    Some(json!({
                        "session": sid,
                        "path": crate::sandbox::session::workspace_path(path)
                            .map(|p| format!("/workspace/{}", p.join("/")))
                            .unwrap_or_default(),
                        "bytes": data.len(),
                        "content": content,
                        "truncated": false,
                        "verified": verification.verified,
                    })),
                    false,
                )
            }
            Err(e) => self.session_failure(id, &sid, &e),
        }
    }

    pub(super) fn session_stop(&self, id: &Value, arguments: &Value) -> Value {
        let sid = match self.own_session(arguments) {
            Ok(s) => s,
            Err(m) => return tool_result(id, m, None, true),
        };
        self.sessions.borrow_mut().retain(|s| *s != sid);
        match Session::stop(&sid) {
            Ok(removed) => tool_result(
                id,
                format!("session {sid} removed"),
                Some(json!({ "session": sid, "removed": removed })),
                false,
            ),
            Err(e) => failure(id, &e),
        }
    }

    /// A failed session call; a session that is gone or refused is forgotten.
    fn session_failure(&self, id: &Value, sid: &str, e: &crate::sandbox::SandboxError) -> Value {
        use crate::sandbox::SandboxError as E;
        if matches!(e, E::SessionNotFound { .. }) {
            self.sessions.borrow_mut().retain(|s| s != sid);
        }
        failure(id, e)
    }
}

fn append_output(text: &mut String, out: &str, out_cut: bool, err: &str, err_cut: bool) {
    for (name, body, cut) in [("stdout", out, out_cut), ("stderr", err, err_cut)] {
        if !body.is_empty() {
            text.push_str(&format!(
                "\n--- {name}{} ---\n{body}",
                if cut { " (truncated)" } else { "" }
            ));
        }
    }
}
