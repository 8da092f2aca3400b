//! `sandlint session`: a verified sandbox that lives across commands (see
//! `src/sandbox/session.rs`).
//!
//! Exit status: `exec` gives the command's (124 on timeout, 125 when sandlint, the rules or the
//! re-verification refuse); the other subcommands 0, or 125 on failure (`stop` of an unknown id:
//! 1).

use std::io::Write;

use crate::cli::{SessionArgs, SessionCommand, SessionExecArgs, SessionLsArgs, SessionStartArgs};
use crate::commands::run::imp::{fail, options, warn_allowed};
use crate::error::{ExitStatus, UsageError};
use crate::sandbox::session::{Session, SessionOptions, TransferResult};
use crate::sandbox::{EXIT_SANDBOX_FAILED, OutputSink, Program};

pub fn session(
    args: &SessionArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<ExitStatus, UsageError> {
    Ok(match &args.command {
        SessionCommand::Start(a) => return start(a, stdout, stderr),
        SessionCommand::Exec(a) => exec(a, stdout, stderr),
        SessionCommand::Put(a) => {
            let limit = u64::try_from(a.max_size).unwrap_or(0);
            let r = Session::put(&a.id, &a.local, &a.remote, limit);
            transfer(r, a.json, false, stdout, stderr)
        }
        SessionCommand::Get(a) => {
            let limit = u64::try_from(a.max_size).unwrap_or(0);
            let r = Session::get(&a.id, &a.remote, &a.local, limit);
            transfer(r, a.json, true, stdout, stderr)
        }
        SessionCommand::Ls(a) => ls(a, stdout, stderr),
        SessionCommand::Stop(a) => match Session::stop(&a.id) {
            Ok(removed) => {
                if a.json {
                    print_json(
                        &serde_json::json!({ "session": a.id, "removed": removed }),
                        stdout,
                    );
                } else if removed {
                    let _ = writeln!(stderr, "sandlint: session {} removed", a.id);
                } else {
                    let _ = writeln!(
                        stderr,
                        "sandlint: no session {}",
                        crate::escape::line(&a.id)
                    );
                }
                if removed {
                    ExitStatus::Success
                } else {
                    ExitStatus::Failure
                }
            }
            Err(e) => fail(&e, a.json, stdout, stderr),
        },
        SessionCommand::Gc(a) => match Session::gc() {
            Ok(removed) => {
                if a.json {
                    print_json(&serde_json::json!({ "removed": removed }), stdout);
                } else {
                    for id in &removed {
                        let _ = writeln!(stdout, "{id}");
                    }
                    let _ = writeln!(stderr, "sandlint: removed {} session(s)", removed.len());
                }
                ExitStatus::Success
            }
            Err(e) => fail(&e, a.json, stdout, stderr),
        },
        SessionCommand::Watch(a) => {
            match Session::watch(&a.id, &a.container, a.deadline, a.bound_to) {
                Ok(()) => ExitStatus::Success,
                Err(_) => ExitStatus::Code(EXIT_SANDBOX_FAILED),
            }
        }
    })
}

fn exec(a: &SessionExecArgs, stdout: &mut dyn Write, stderr: &mut dyn Write) -> ExitStatus {
    let mut sink = Live {
        stdout: &mut *stdout,
        stderr: &mut *stderr,
        quiet: a.json,
        closed: false,
    };
    let limit = a
        .output_limit
        .map(|l| usize::try_from(l).unwrap_or(usize::MAX));
    let r = match Session::exec(&a.id, &a.command, a.timeout, limit, &mut sink) {
        Ok(r) => r,
        Err(e) => return fail(&e, a.json, stdout, stderr),
    };
    let _ = stdout.flush();
    if a.json {
        print_json(&r, stdout);
    } else {
        if r.timed_out {
            let _ = writeln!(
                stderr,
                "sandlint: timed out after {} ms; the command was killed{}",
                r.duration_ms,
                if r.session_stopped {
                    " by removing the session (it could not be killed alone)"
                } else {
                    ""
                }
            );
        }
        for (name, cut) in [
            ("stdout", r.truncated.stdout),
            ("stderr", r.truncated.stderr),
        ] {
            if cut {
                let _ = writeln!(stderr, "sandlint: {name} truncated (--output-limit)");
            }
        }
    }
    ExitStatus::Code(u8::try_from(r.exit_code.clamp(0, 255)).unwrap_or(EXIT_SANDBOX_FAILED))
}

fn transfer(
    r: Result<TransferResult, crate::sandbox::SandboxError>,
    json: bool,
    to_host: bool,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> ExitStatus {
    match r {
        Ok(r) => {
            if json {
                print_json(&r, stdout);
            } else {
                let to = if to_host {
                    r.local.display().to_string()
                } else {
                    r.remote.clone()
                };
                let _ = writeln!(
                    stderr,
                    "sandlint: copied {} file(s), {} bytes to {to}",
                    r.files, r.bytes
                );
            }
            ExitStatus::Success
        }
        Err(e) => fail(&e, json, stdout, stderr),
    }
}

fn ls(a: &SessionLsArgs, stdout: &mut dyn Write, stderr: &mut dyn Write) -> ExitStatus {
    if a.gc
        && let Err(e) = Session::gc()
    {
        return fail(&e, a.json, stdout, stderr);
    }
    match Session::list() {
        Ok(list) => {
            if a.json {
                print_json(&list, stdout);
            } else {
                let _ = writeln!(
                    stdout,
                    "{:<14} {:<10} {:>9}  {:<8} IMAGE",
                    "ID", "STATE", "TTL LEFT", "VERIFIED"
                );
                for s in &list {
                    let _ = writeln!(
                        stdout,
                        "{:<14} {:<10} {:>8}s  {:<8} {}",
                        s.id,
                        s.state,
                        s.ttl_left,
                        if s.recorded { "yes" } else { "no" },
                        crate::escape::line(&s.image)
                    );
                }
            }
            ExitStatus::Success
        }
        Err(e) => fail(&e, a.json, stdout, stderr),
    }
}

/// The session options `args` describe: `run`'s, without a program.
pub(in crate::commands) fn session_options(
    a: &SessionStartArgs,
) -> Result<SessionOptions, crate::sandbox::SandboxError> {
    let run = &a.run;
    let program_flags = [
        (run.code.is_some(), "--code"),
        (run.file.is_some(), "--file"),
        (!run.command.is_empty(), "a CMD"),
        (run.dry_run, "--dry-run"),
        (run.gc, "--gc"),
        (run.interactive, "--interactive"),
        (run.watchdog.is_some(), "--watchdog"),
    ];
    if let Some((_, flag)) = program_flags.iter().find(|(set, _)| *set) {
        return Err(crate::sandbox::SandboxError::InvalidOption {
            message: format!(
                "sandlint session start takes `sandlint run`'s sandbox options, not {flag}: `session exec` names the commands"
            ),
        });
    }
    let (mut sandbox, program) = options(run)?;
    debug_assert!(matches!(program, Program::ImageDefault));
    sandbox.stdin = false;
    sandbox.handle_signals = false;
    Ok(SessionOptions {
        sandbox,
        ttl: a.ttl,
        workspace_size: a.workspace_size,
        bound_to: a.bound_to,
    })
}

fn start(
    a: &SessionStartArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<ExitStatus, UsageError> {
    let json = a.run.json;
    let opts = match session_options(a) {
        Ok(o) => o,
        Err(e) => return Ok(fail(&e, json, stdout, stderr)),
    };
    Ok(match Session::start(&opts) {
        Ok(info) => {
            warn_allowed(&info.allowed, stderr);
            for n in &info.notes {
                let _ = writeln!(stderr, "sandlint: note: {n}");
            }
            if !info.failed.is_empty() {
                let _ = writeln!(
                    stderr,
                    "sandlint: warning: degraded sandbox: {}",
                    info.failed.join(", ")
                );
            }
            if json {
                print_json(&info, stdout);
            } else {
                let _ = writeln!(stdout, "{}", info.id);
            }
            ExitStatus::Success
        }
        Err(e) => fail(&e, json, stdout, stderr),
    })
}

fn print_json<T: serde::Serialize>(value: &T, stdout: &mut dyn Write) {
    if let Ok(text) = serde_json::to_string_pretty(value) {
        let _ = writeln!(stdout, "{text}");
    }
}

/// Live output of an exec (nothing with `--json`).
struct Live<'a> {
    stdout: &'a mut dyn Write,
    stderr: &'a mut dyn Write,
    quiet: bool,
    closed: bool,
}

impl OutputSink for Live<'_> {
    fn stdout(&mut self, bytes: &[u8]) {
        if !self.quiet {
            let r = self
                .stdout
                .write_all(bytes)
                .and_then(|()| self.stdout.flush());
            self.closed |= r.is_err_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe);
        }
    }

    fn stderr(&mut self, bytes: &[u8]) {
        if !self.quiet {
            let r = self
                .stderr
                .write_all(bytes)
                .and_then(|()| self.stderr.flush());
            self.closed |= r.is_err_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe);
        }
    }

    fn closed(&self) -> bool {
        self.closed
    }
}
