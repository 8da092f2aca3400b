//! Runs `sandlint` as an attacker's victim would: in a child process with an address-space
//! limit (`ulimit -v`, so an unbounded read or expansion dies instead of eating the machine) and
//! a wall-clock deadline (a hang is killed and fails the test instead of hanging the suite).
#![allow(dead_code, reason = "each case module uses part of it")]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Address space allowed to one sandlint run (KiB): generous for real inputs, far below what
/// any of the reproduced attacks needed (gigabytes).
pub const MEMORY_KIB: u64 = 1024 * 1024;
/// Wall-clock deadline for one run.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// What one bounded run did.
#[derive(Debug)]
pub struct Outcome {
    /// `None` when killed by a signal (or by the deadline).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    pub timed_out: bool,
}

impl Outcome {
    /// Exit code, stdout and stderr, for failure messages.
    pub fn transcript(&self) -> String {
        format!(
            "exit: {:?}{}\n----- stdout -----\n{}----- stderr -----\n{}",
            self.code,
            if self.timed_out { " (deadline)" } else { "" },
            self.stdout,
            self.stderr
        )
    }

    /// Fails unless the run ended by itself with `code`.
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert!(
            !self.timed_out && self.code == Some(code),
            "expected exit {code}\n{}",
            self.transcript()
        );
        self
    }

    /// Fails if `needle` appears anywhere in stdout or stderr.
    #[track_caller]
    pub fn assert_absent(&self, needle: &str) -> &Self {
        assert!(
            !self.stdout.contains(needle) && !self.stderr.contains(needle),
            "`{needle}` leaked into the output\n{}",
            self.transcript()
        );
        self
    }

    /// Fails unless stdout or stderr contains `needle`.
    #[track_caller]
    pub fn assert_present(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle) || self.stderr.contains(needle),
            "expected `{needle}` in the output\n{}",
            self.transcript()
        );
        self
    }
}

/// A `sandlint` command line to run bounded. `cwd` is where it runs; `stdin` what it reads.
pub struct Run {
    args: Vec<String>,
    cwd: PathBuf,
    envs: Vec<(String, String)>,
    stdin: Option<Stdio>,
    memory_kib: u64,
    deadline: Duration,
}

/// `sandlint ARGS…` in `cwd`.
pub fn sandlint(cwd: &Path, args: &[&str]) -> Run {
    Run {
        args: args.iter().map(|s| (*s).to_string()).collect(),
        cwd: cwd.to_path_buf(),
        envs: Vec::new(),
        stdin: None,
        memory_kib: MEMORY_KIB,
        deadline: DEADLINE,
    }
}

impl Run {
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.envs.push((key.to_string(), value.to_string()));
        self
    }

    /// Standard input from this file (e.g. `/dev/zero`).
    pub fn stdin_file(mut self, path: &Path) -> Self {
        self.stdin = Some(Stdio::from(std::fs::File::open(path).unwrap()));
        self
    }

    pub fn memory_kib(mut self, kib: u64) -> Self {
        self.memory_kib = kib;
        self
    }

    pub fn deadline(mut self, d: Duration) -> Self {
        self.deadline = d;
        self
    }

    /// Runs it: `sh -c 'ulimit -v N; exec sandlint "$@"'`, killed at the deadline.
    pub fn run(self) -> Outcome {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(format!("ulimit -v {}; exec \"$0\" \"$@\"", self.memory_kib))
            .arg(env!("CARGO_BIN_EXE_sandlint"))
            .args(&self.args)
            .current_dir(&self.cwd)
            .env_remove("NO_COLOR")
            .env_remove("FORCE_COLOR")
            .env_remove("CLICOLOR_FORCE")
            .env_remove("SANDLINT_FORMAT")
            .env_remove("SANDLINT_FAIL_ON")
            .env_remove("SANDLINT_COLOR")
            .env("COLUMNS", "100")
            .stdin(self.stdin.unwrap_or_else(Stdio::null))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &self.envs {
            cmd.env(k, v);
        }
        let start = Instant::now();
        let mut child = cmd.spawn().unwrap();
        // Drain both pipes on threads so a chatty child cannot block on a full pipe.
        let mut out = child.stdout.take().unwrap();
        let mut err = child.stderr.take().unwrap();
        let out_t = std::thread::spawn(move || {
            let mut b = Vec::new();
            let _ = out.read_to_end(&mut b);
            b
        });
        let err_t = std::thread::spawn(move || {
            let mut b = Vec::new();
            let _ = err.read_to_end(&mut b);
            b
        });
        let mut timed_out = false;
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if start.elapsed() > self.deadline {
                timed_out = true;
                let _ = child.kill();
                break child.wait().unwrap();
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let elapsed = start.elapsed();
        Outcome {
            code: status.code(),
            stdout: String::from_utf8_lossy(&out_t.join().unwrap()).into_owned(),
            stderr: String::from_utf8_lossy(&err_t.join().unwrap()).into_owned(),
            elapsed,
            timed_out,
        }
    }
}

/// A scratch project directory with `files` (path → contents) written into it, made a git work
/// tree when `git` is true (the project boundary is then the work tree).
pub fn project(files: &[(&str, &str)], git: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    if git {
        let ok = Command::new("git")
            .args(["init", "-q"])
            .current_dir(dir.path())
            .status()
            .unwrap()
            .success();
        assert!(ok, "git init failed");
    }
    dir
}
