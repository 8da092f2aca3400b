//! The real binary: exit codes, formats, streams, discovery, stdin, colors.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr,
    reason = "integration tests"
)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

mod common;
use common::{text, transcript};

const SAMPLE: &str = "fixtures/projects/sample";

fn sandlint(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sandlint"));
    cmd.args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("NO_COLOR")
        .env_remove("FORCE_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("SANDLINT_FORMAT")
        .env_remove("SANDLINT_FAIL_ON")
        .env_remove("SANDLINT_COLOR")
        .env("COLUMNS", "100");
    cmd
}

fn run(args: &[&str]) -> Output {
    sandlint(args).output().unwrap()
}

fn run_stdin(args: &[&str], input: &str) -> Output {
    let mut child = sandlint(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn full_output_on_sample_project() {
    insta::assert_snapshot!(transcript(&run(&["check", SAMPLE, "--color", "never"])));
}

#[test]
fn concise_output() {
    insta::assert_snapshot!(transcript(&run(&["check", SAMPLE, "--format", "concise"])));
}

#[test]
fn json_output() {
    let o = run(&["check", SAMPLE, "--format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["tool"]["name"], "sandlint");
    // The version changes with releases; the rest of the document is snapshotted.
    let s = text(&o.stdout).replace(env!("CARGO_PKG_VERSION"), "[VERSION]");
    insta::assert_snapshot!(s);
}

#[test]
fn ignore_files_are_honoured_unless_no_ignore() {
    let o = run(&[
        "check",
        SAMPLE,
        "--format",
        "concise",
        "--quiet",
        "--fail-on",
        "never",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        !text(&o.stdout).contains("ignored/Dockerfile"),
        "{}",
        text(&o.stdout)
    );
    let o = run(&[
        "check",
        SAMPLE,
        "--format",
        "concise",
        "--no-ignore",
        "--fail-on",
        "never",
    ]);
    assert!(
        text(&o.stdout).contains("fixtures/projects/sample/ignored/Dockerfile:"),
        "{}",
        text(&o.stdout)
    );
}

#[test]
fn gitignore_is_honoured_in_a_git_free_tree() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("build")).unwrap();
    std::fs::write(dir.path().join(".gitignore"), "build/\n").unwrap();
    std::fs::write(dir.path().join("build/Dockerfile"), "FROM ubuntu\n").unwrap();
    std::fs::write(
        dir.path().join("Containerfile"),
        "FROM scratch\nUSER 10001\nHEALTHCHECK CMD [\"/app\", \"health\"]\n",
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_sandlint"))
        .args(["check", ".", "--format", "concise"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        transcript(&o),
        "exit: 0\n----- stdout -----\nChecked 1 file: 0 errors, 0 warnings, 0 info\n----- stderr -----\n"
    );
}

#[test]
fn missing_path_is_an_error_but_other_files_are_checked() {
    let o = run(&[
        "check",
        "does/not/exist",
        SAMPLE,
        "--format",
        "concise",
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        text(&o.stderr),
        "error: does/not/exist: no such file or directory\n"
    );
    assert!(text(&o.stdout).contains("fixtures/projects/sample/Dockerfile:"));
}

#[test]
fn explicit_file_kind_from_content_or_flag() {
    // An explicitly named file is checked whatever its name; its kind comes from its content.
    let o = run(&[
        "check",
        "fixtures/projects/sample/docs/notes.txt",
        "--format",
        "concise",
    ]);
    insta::assert_snapshot!(transcript(&o));
    let dir = tempfile::tempdir().unwrap();
    let odd = dir.path().join("odd.txt");
    std::fs::write(&odd, "hello\n").unwrap();
    let o = run(&["check", odd.to_str().unwrap(), "--format", "concise"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("pass --kind dockerfile|compose"),
        "{}",
        text(&o.stderr)
    );
    let o = run(&[
        "check",
        odd.to_str().unwrap(),
        "--kind",
        "dockerfile",
        "--format",
        "concise",
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", transcript(&o));
    assert!(text(&o.stdout).contains("SLE001"), "{}", transcript(&o));
}

#[test]
fn stdin_with_filename() {
    let o = run_stdin(
        &[
            "check",
            "-",
            "--stdin-filename",
            "web/Dockerfile",
            "--format",
            "concise",
        ],
        "FROM alpine:3.20\nUSER root\n",
    );
    insta::assert_snapshot!(transcript(&o));
}

#[test]
fn fail_on_thresholds() {
    let input = "FROM alpine\nUSER 10001\n"; // unpinned base image: a warning only
    let code = |fail_on: &str| {
        run_stdin(
            &[
                "check",
                "-",
                "--kind",
                "dockerfile",
                "--fail-on",
                fail_on,
                "-q",
                "--select",
                "unpinned-base-image",
            ],
            input,
        )
        .status
        .code()
    };
    assert_eq!(code("never"), Some(0));
    assert_eq!(code("error"), Some(0));
    assert_eq!(code("warning"), Some(1));
    assert_eq!(code("info"), Some(1));
}

#[test]
fn unknown_rule_is_a_usage_error_with_a_suggestion() {
    let o = run(&["check", SAMPLE, "--select", "privileged-containr"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains(
            "unknown rule or family `privileged-containr` (did you mean `privileged-container`?)"
        ),
        "{}",
        text(&o.stderr)
    );
    assert!(o.stdout.is_empty());
}

#[test]
fn select_and_ignore_by_code_or_name() {
    let o = run(&[
        "check",
        SAMPLE,
        "--format",
        "concise",
        "-q",
        "--select",
        "SLC001,container-socket-mount",
    ]);
    insta::assert_snapshot!(transcript(&o));
    let o = run(&[
        "check", SAMPLE, "--format", "concise", "-q", "--ignore", "slc001",
    ]);
    assert!(!text(&o.stdout).contains("SLC001"));
}

#[test]
fn colors() {
    let always = run(&["check", SAMPLE, "--color", "always"]);
    assert!(
        text(&always.stdout).contains("\u{1b}["),
        "no ANSI escapes with --color always"
    );
    // Not a terminal: no color by default, and NO_COLOR wins over auto.
    let auto = run(&["check", SAMPLE]);
    assert!(!text(&auto.stdout).contains("\u{1b}["));
    let no_color = sandlint(&["check", SAMPLE])
        .env("NO_COLOR", "1")
        .env("FORCE_COLOR", "1")
        .output()
        .unwrap();
    assert!(!text(&no_color.stdout).contains("\u{1b}["));
    let forced = sandlint(&["check", SAMPLE])
        .env("FORCE_COLOR", "1")
        .output()
        .unwrap();
    assert!(text(&forced.stdout).contains("\u{1b}["));
}

#[test]
fn output_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.json");
    let o = run(&[
        "check",
        SAMPLE,
        "--format",
        "json",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert!(v["summary"]["total"].as_u64().unwrap() > 0);
}

#[test]
fn hardened_project_exits_zero() {
    let o = run(&["check", "fixtures/projects/hardened", "--fail-on", "info"]);
    assert_eq!(o.status.code(), Some(0), "{}", transcript(&o));
}

#[test]
fn help_texts() {
    insta::assert_snapshot!("help", text(&run(&["--help"]).stdout));
    insta::assert_snapshot!("check_help", text(&run(&["check", "--help"]).stdout));
}

#[test]
fn rules_and_explain() {
    let o = run(&["rules"]);
    assert_eq!(o.status.code(), Some(0));
    insta::assert_snapshot!("rules_table", text(&o.stdout));
    let o = run(&["explain", "SLC001"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        text(&o.stdout).starts_with("# SLC001 privileged-container: "),
        "{}",
        text(&o.stdout)
    );
    let o = run(&["explain", "nope-rule"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn broken_pipe_is_not_an_error() {
    let mut child = sandlint(&[
        "check",
        "fixtures",
        "--format",
        "concise",
        "--fail-on",
        "never",
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    drop(child.stdout.take()); // close the read end at once
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(Path::new(SAMPLE).is_dir());
}

#[test]
fn rules_listing_by_preset_and_target() {
    let row = |args: &[&str], code: &str| {
        let o = run(args);
        assert_eq!(o.status.code(), Some(0));
        text(&o.stdout)
            .lines()
            .find(|l| l.starts_with(code))
            .map(|l| l.split_whitespace().nth(2).unwrap_or("").to_string())
    };
    assert_eq!(row(&["rules"], "SLC002").as_deref(), Some("warning"));
    assert_eq!(
        row(&["rules", "--preset", "sandbox"], "SLC002").as_deref(),
        Some("error")
    );
    assert_eq!(
        row(&["rules", "--preset", "sandbox"], "SLC032").as_deref(),
        Some("error")
    );
    assert_eq!(row(&["rules", "--target", "dockerfile"], "SLC002"), None);
    assert_eq!(
        row(&["rules", "--target", "dockerfile"], "SLD001").as_deref(),
        Some("error")
    );
}

#[test]
fn no_format_prints_a_secret_value() {
    for format in [
        "full",
        "concise",
        "json",
        "sarif",
        "github",
        "gitlab",
        "junit",
        "checkstyle",
    ] {
        let o = run(&[
            "check",
            "fixtures/projects/secrets",
            "--format",
            format,
            "--color",
            "never",
        ]);
        assert_eq!(o.status.code(), Some(1), "{format}");
        let out = text(&o.stdout);
        assert!(
            out.contains("SLC024") || out.contains("credential-in-environment"),
            "{format}: {out}"
        );
        for n in 1..=5 {
            let secret = format!("Zq9-fixture-secret-{n}");
            assert!(!out.contains(&secret), "{format} prints `{secret}`:\n{out}");
        }
    }
}

#[test]
fn base_file_suppression_covers_a_service_an_override_redefines() {
    // the override file redefines `app`: whole-service findings still point at the base file's
    // `app:`, so the suppression written there applies
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("compose.yaml"),
        "services:\n  app:  # sandlint ignore=SLC004 reason=\"the platform sets limits\"\n    image: app:1\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("compose.override.yaml"),
        "services:\n  app:\n    ports: [\"127.0.0.1:8080:80\"]\n",
    )
    .unwrap();
    let o = run(&[
        "check",
        "--format",
        "concise",
        "--select",
        "SLC004,SLC005",
        dir.path().to_str().unwrap(),
    ]);
    let out = text(&o.stdout);
    let lines: Vec<&str> = out
        .lines()
        .map(|l| l.rsplit_once('/').map_or(l, |(_, rest)| rest))
        .collect();
    assert_eq!(
        lines,
        [
            "compose.yaml:2:3: warning SLC005 service `app` sets no CPU limit",
            "Checked 2 files: 0 errors, 1 warning, 0 info (1 suppressed)",
        ],
        "{out}"
    );
}
