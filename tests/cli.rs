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
        .env_remove("SANDLINT_HELD_FINDINGS")
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
    // a command that fails before reading its input (a usage error) closes the pipe: the
    // write then fails with EPIPE, depending on which process runs first
    if let Err(e) = child.stdin.take().unwrap().write_all(input.as_bytes()) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
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
fn rules_json_names_the_buildkit_check_and_hadolint_codes() {
    let o = run(&["rules", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rule = |name: &str| {
        v.as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(rule("undefined-var")["buildkit"], "UndefinedVar");
    assert_eq!(rule("root-user")["buildkit"], serde_json::Value::Null);
    assert_eq!(
        rule("unpinned-base-image")["hadolint"],
        serde_json::json!(["DL3006", "DL3007"])
    );
    assert_eq!(rule("curl-pipe-shell")["hadolint"], serde_json::json!([]));
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

/// hadolint's pragmas suppress the rules that carry their codes, and only those: DL3004 covers
/// `sudo-in-run` on its line, DL3008 (an apt pinning code) covers nothing here, the global DL3007
/// covers `unpinned-base-image` everywhere. Unused and unmapped pragmas are never findings, and
/// `--no-inline-ignores` turns them off.
#[test]
fn hadolint_pragmas_suppress_the_rules_with_their_codes() {
    let lines = |extra: &[&str]| {
        let mut args = vec![
            "check",
            "fixtures/projects/hadolint-pragmas",
            "--format",
            "concise",
            "--select",
            "root-user,unpinned-base-image,sudo-in-run,invalid-suppression,unused-suppression",
            "--report-unused-ignores",
            "--require-reason",
        ];
        args.extend_from_slice(extra);
        let o = run(&args);
        text(&o.stdout)
            .lines()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        lines(&[]),
        [
            "fixtures/projects/hadolint-pragmas/Dockerfile:7:5: warning SLD007 `sudo` runs `apk` in a `RUN` instruction",
            "Checked 1 file: 0 errors, 1 warning, 0 info (3 suppressed)",
        ]
    );
    let all = lines(&["--no-inline-ignores"]);
    assert_eq!(
        all.last().map(String::as_str),
        Some("Checked 1 file: 1 error, 3 warnings, 0 info"),
        "{all:?}"
    );
}

/// Issue 13: pre-commit passes only the staged files. A staged override file named alone is
/// checked in its project (from the base file Compose merges it into), so the base file's
/// `read_only: true` counts, and only the findings in the override are reported; named with its
/// base, the project is checked once and everything is reported.
#[test]
fn override_file_named_alone_is_checked_in_its_project() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("compose.yaml"),
        "services:\n  app:\n    image: app:1\n    read_only: true\n    privileged: true\n",
    )
    .unwrap();
    std::fs::write(
        d.join("compose.override.yaml"),
        "services:\n  app:\n    network_mode: host\n",
    )
    .unwrap();
    let check = |files: &[&str]| {
        let mut args = vec![
            "check",
            "--format",
            "concise",
            "--select",
            "SLC001,SLC003,SLC008",
        ];
        let paths: Vec<String> = files
            .iter()
            .map(|f| d.join(f).to_string_lossy().into_owned())
            .collect();
        args.extend(paths.iter().map(String::as_str));
        let o = run(&args);
        let out = text(&o.stdout);
        let lines: Vec<String> = out
            .lines()
            .map(|l| l.rsplit_once('/').map_or(l, |(_, rest)| rest).to_string())
            .collect();
        (o.status.code(), lines)
    };
    let (code, alone) = check(&["compose.override.yaml"]);
    assert_eq!(code, Some(1), "{alone:?}");
    assert_eq!(
        alone,
        [
            "compose.override.yaml:3:19: error SLC008 service `app` uses the host network (`network_mode: host`)",
            "Checked 2 files: 1 error, 0 warnings, 0 info",
        ],
    );
    let (_, both) = check(&["compose.yaml", "compose.override.yaml"]);
    assert_eq!(
        both,
        [
            "compose.override.yaml:3:19: error SLC008 service `app` uses the host network (`network_mode: host`)",
            "compose.yaml:5:17: error SLC001 service `app` runs privileged (`privileged: true`)",
            "Checked 2 files: 2 errors, 0 warnings, 0 info",
        ],
    );
}

/// Issue 10, item 1: a folder whose only Compose file is `openhands-compose.yml` (mounting the
/// Docker socket) was "Checked 0 files" and exit 0.
#[test]
fn docker_config_names_users_use_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let compose = "services:\n  app:\n    image: alpine:3.20\n    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock\n";
    let dockerfile = "FROM alpine:3.20\nUSER root\n";
    for (name, text) in [
        ("openhands-compose.yml", compose),
        ("docker-compose-dev.yml", compose),
        ("compose-prod.yaml", compose),
        ("Dockerfile-dev", dockerfile),
        ("Dockerfile_prod", dockerfile),
        ("prod-Dockerfile", dockerfile),
        // Names that look like ours, but are not: skipped, and said so.
        ("docker-compose-ci.yml", "name: CI\non: push\njobs: {}\n"),
        ("dockerfile-generator", "#!/bin/sh\nset -e\n"),
        // Not ours at all: not listed.
        ("dockerfile-generator.py", "print('FROM x')\n"),
    ] {
        std::fs::write(d.join(name), text).unwrap();
    }
    let o = run(&[
        "check",
        d.to_str().unwrap(),
        "--format",
        "concise",
        "--select",
        "container-socket-mount,root-user",
        "--show-files",
    ]);
    let out = text(&o.stdout).replace(&format!("{}/", d.display()), "");
    let err = text(&o.stderr).replace(&format!("{}/", d.display()), "");
    assert_eq!(o.status.code(), Some(1), "{}", transcript(&o));
    for name in [
        "openhands-compose.yml",
        "docker-compose-dev.yml",
        "compose-prod.yaml",
    ] {
        assert!(
            out.contains(&format!("{name}:5:9: error SLC")),
            "{name}: {out}"
        );
    }
    for name in ["Dockerfile-dev", "Dockerfile_prod", "prod-Dockerfile"] {
        assert!(
            out.contains(&format!("{name}:2:6: error SLD001")),
            "{name}: {out}"
        );
    }
    assert!(
        out.ends_with(
            "Checked 6 files: 6 errors, 0 warnings, 0 info; 2 skipped (see --show-files)\n"
        ),
        "{out}"
    );
    assert_eq!(
        err,
        "checked  Dockerfile-dev\n\
         checked  Dockerfile_prod\n\
         checked  compose-prod.yaml\n\
         skipped  docker-compose-ci.yml: its name looks like a Compose file, but it has no top-level `services:` or `include:`\n\
         checked  docker-compose-dev.yml\n\
         skipped  dockerfile-generator: its name looks like a Dockerfile, but it does not start with a Dockerfile instruction\n\
         checked  openhands-compose.yml\n\
         checked  prod-Dockerfile\n"
    );
    // JSON lists them too.
    let o = run(&[
        "check",
        d.to_str().unwrap(),
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["files_checked"], 6);
    let skipped: Vec<(String, String)> = v["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let p = s["path"].as_str().unwrap();
            (
                p.rsplit('/').next().unwrap().to_string(),
                s["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        skipped.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(),
        ["docker-compose-ci.yml", "dockerfile-generator"]
    );
}

/// Issue 10, item 2: templates are skipped (listed) by default; `--include-templates` checks
/// the ones whose markers can be masked, at the template's own offsets.
#[test]
fn templates_are_skipped_unless_included() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("Dockerfile.j2"),
        "FROM {{ base_image }}\nUSER root\nRUN echo {{ version }}\n",
    )
    .unwrap();
    std::fs::write(
        d.join("Dockerfile-alpine.template"),
        "FROM alpine:%%VERSION%%\n{% if debug %}\nUSER root\n{% endif %}\n",
    )
    .unwrap();
    std::fs::write(
        d.join("docker-compose.yml.tpl"),
        "services:\n  app:\n    image: {{ image }}\n    privileged: true\n",
    )
    .unwrap();
    let path = d.to_str().unwrap();
    let o = run(&["check", path, "--format", "concise", "--show-files"]);
    assert_eq!(o.status.code(), Some(0), "{}", transcript(&o));
    let out = text(&o.stdout);
    assert_eq!(
        out,
        "Checked 0 files: 0 errors, 0 warnings, 0 info; 3 skipped (see --show-files)\n"
    );
    let err = text(&o.stderr).replace(&format!("{path}/"), "");
    assert_eq!(
        err,
        "skipped  Dockerfile-alpine.template: template (pass --include-templates to check it)\n\
         skipped  Dockerfile.j2: template (pass --include-templates to check it)\n\
         skipped  docker-compose.yml.tpl: template (pass --include-templates to check it)\n"
    );
    let o = run(&[
        "check",
        path,
        "--format",
        "concise",
        "--include-templates",
        "--select",
        "root-user,privileged-container,SLE001,SLE002",
        "--show-files",
    ]);
    let out = text(&o.stdout).replace(&format!("{path}/"), "");
    let err = text(&o.stderr).replace(&format!("{path}/"), "");
    assert_eq!(o.status.code(), Some(1), "{}", transcript(&o));
    assert!(out.contains("Dockerfile.j2:2:6: error SLD001"), "{out}");
    assert!(
        out.contains("docker-compose.yml.tpl:4:17: error SLC001"),
        "{out}"
    );
    assert!(!out.contains("{{") && !out.contains("${_"), "{out}");
    assert!(out.contains("Checked 2 files"), "{out}");
    assert!(
        err.contains(
            "skipped  Dockerfile-alpine.template: template not checked: a template statement \
             (its branches or loops need rendering) at 2:1"
        ),
        "{err}"
    );
}

/// Issue 10, item 7: `--stdin-filename` without `-` silently linted `.`.
#[test]
fn stdin_filename_without_dash_is_a_usage_error() {
    let o = run_stdin(
        &[
            "check",
            "--stdin-filename",
            "Dockerfile",
            "--format",
            "concise",
        ],
        "FROM alpine:3.20\n",
    );
    assert_eq!(o.status.code(), Some(2), "{}", transcript(&o));
    assert!(
        text(&o.stderr).contains("`-` is not among the PATHS"),
        "{}",
        transcript(&o)
    );
    assert_eq!(text(&o.stdout), "");
}

/// Issue 10, item 7: a closed pipe exits 0 for every format (JSON and SARIF exited 2).
#[test]
fn broken_pipe_is_not_an_error_in_any_format() {
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
        let mut child = sandlint(&[
            "check",
            "fixtures",
            "--format",
            format,
            "--fail-on",
            "never",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
        drop(child.stdout.take()); // close the read end at once
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{format}: {}", text(&o.stderr));
        assert_eq!(text(&o.stderr), "", "{format}");
    }
}

/// A skipped test says so outside cargo's capture (issue 10: "the loud SKIPPED messages are
/// invisible without --nocapture"): the line lands in `target/test-skips.log` (and on the
/// terminal when there is one), and the `SANDLINT_REQUIRE_*` variable turns it into a failure.
#[test]
fn skips_are_recorded_outside_the_capture_and_fail_when_required() {
    let test = format!("skip-probe-{}", std::process::id());
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("skips.log");
    common::skip_or_fail_to(
        &log,
        "SANDLINT_REQUIRE_NOTHING_IS_SET",
        &test,
        "a probe tool is missing",
    );
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.lines().any(|l| l
            == format!(
                "*** SKIPPED {test}: a probe tool is missing \
                 (set SANDLINT_REQUIRE_NOTHING_IS_SET=1 to make this a failure) ***"
            )),
        "{text}"
    );
    // With the variable at 1 it panics, naming the variable and what is missing.
    let required = format!("SANDLINT_REQUIRE_PROBE_{}", std::process::id());
    // SAFETY: a variable name no other test reads.
    unsafe { std::env::set_var(&required, "1") };
    let err = std::panic::catch_unwind(|| {
        common::skip_or_fail_to(&log, &required, &test, "probe missing")
    })
    .unwrap_err();
    let msg = err.downcast_ref::<String>().unwrap();
    assert_eq!(msg, &format!("{required}=1 but probe missing"));
}

/// The allocator defaults set before mimalloc starts are the options mimalloc uses (their
/// numbers are those of the `mi_option_t` of the libmimalloc-sys in the lock file: a bump that
/// renumbers them fails here), and the environment still overrides them.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn allocator_defaults_are_in_effect() {
    let options = |env: &[(&str, &str)]| {
        let mut cmd = sandlint(&["check", SAMPLE, "--format", "json", "--fail-on", "never"]);
        cmd.env("MIMALLOC_VERBOSE", "1")
            .env_remove("MIMALLOC_ARENA_EAGER_COMMIT")
            .env_remove("MIMALLOC_PURGE_DELAY");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let o = cmd.output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        let err = text(&o.stderr);
        let mut seen: Vec<String> = err
            .lines()
            .filter_map(|l| l.split("option '").nth(1))
            .filter(|l| l.starts_with("arena_eager_commit'") || l.starts_with("purge_delay'"))
            .map(|l| l.trim().to_string())
            .collect();
        seen.sort();
        seen
    };
    assert_eq!(options(&[]), ["arena_eager_commit': 0", "purge_delay': 0"]);
    assert_eq!(
        options(&[("MIMALLOC_PURGE_DELAY", "250")]),
        ["arena_eager_commit': 0", "purge_delay': 250"]
    );
}

/// The report is streamed file by file whether the Compose phase keeps its results or checks
/// its projects again in the stream (`SANDLINT_HELD_FINDINGS`): the same bytes, in order.
#[test]
fn streamed_report_is_the_same_whatever_the_compose_phase_keeps() {
    for format in ["json", "full", "junit", "sarif"] {
        let args = [
            "check",
            "fixtures",
            "--format",
            format,
            "--fail-on",
            "never",
        ];
        let kept = run(&args);
        assert_eq!(kept.status.code(), Some(0), "{}", text(&kept.stderr));
        for held in ["0", "1", "100"] {
            let o = sandlint(&args)
                .env("SANDLINT_HELD_FINDINGS", held)
                .output()
                .unwrap();
            assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
            assert!(
                o.stdout == kept.stdout,
                "--format {format} with {held} kept differs"
            );
        }
    }
    let o = run(&[
        "check",
        "fixtures",
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let files: Vec<&str> = (v["findings"].as_array().unwrap().iter())
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert!(files.len() > 100, "{}", files.len());
    assert!(files.is_sorted(), "findings are in file order");
    assert!(v["files_checked"].as_u64().unwrap() > 50);
    let o = sandlint(&["check", "fixtures"])
        .env("SANDLINT_HELD_FINDINGS", "lots")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("SANDLINT_HELD_FINDINGS must be a number"),
        "{}",
        text(&o.stderr)
    );
}

/// The package-pinning rules are off by default: they run when the command line, the config or
/// an `[[overrides]]` entry names them (by code, name, family or `all`), and never otherwise.
#[test]
fn rules_off_by_default_run_only_when_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("svc")).unwrap();
    let df = "FROM debian:12@sha256:0000000000000000000000000000000000000000000000000000000000000000\n\
              RUN apt-get update && apt-get install -y curl && pip install flask\n\
              USER 10001\nHEALTHCHECK CMD [\"/app\", \"health\"]\n";
    std::fs::write(dir.path().join("Dockerfile"), df).unwrap();
    std::fs::write(dir.path().join("svc/Dockerfile"), df).unwrap();
    let codes = |args: &[&str], config: Option<&str>| -> Vec<String> {
        match config {
            Some(c) => std::fs::write(dir.path().join(".sandlint.toml"), c).unwrap(),
            None => {
                let _ = std::fs::remove_file(dir.path().join(".sandlint.toml"));
            }
        }
        let o = Command::new(env!("CARGO_BIN_EXE_sandlint"))
            .args([
                "check",
                ".",
                "--format",
                "concise",
                "-q",
                "--fail-on",
                "never",
            ])
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", transcript(&o));
        let mut found: Vec<String> = text(&o.stdout)
            .lines()
            .filter(|l| l.contains("SLD043") || l.contains("SLD047"))
            .map(|l| {
                l.split(": ").next().unwrap_or("").to_string()
                    + " "
                    + l.split(' ').nth(2).unwrap_or("")
            })
            .collect();
        found.sort();
        found
    };
    let both = vec![
        "Dockerfile:2:42 SLD043".to_string(),
        "Dockerfile:2:62 SLD047".to_string(),
        "svc/Dockerfile:2:42 SLD043".to_string(),
        "svc/Dockerfile:2:62 SLD047".to_string(),
    ];
    assert_eq!(codes(&[], None), Vec::<String>::new());
    assert_eq!(codes(&["--preset", "sandbox"], None), Vec::<String>::new());
    assert_eq!(
        codes(&["--select", "supply-chain"], None),
        Vec::<String>::new()
    );
    assert_eq!(codes(&["--select", "package-pinning"], None), both);
    assert_eq!(codes(&["--select", "all"], None), both);
    assert_eq!(
        codes(&["--extend-select", "SLD043"], None),
        vec!["Dockerfile:2:42 SLD043", "svc/Dockerfile:2:42 SLD043"]
    );
    assert_eq!(
        codes(&[], Some("extend-select = [\"pip-package-unpinned\"]\n")),
        vec!["Dockerfile:2:62 SLD047", "svc/Dockerfile:2:62 SLD047"]
    );
    assert_eq!(
        codes(
            &[],
            Some("[[overrides]]\npaths = [\"svc/**\"]\nextend-select = [\"package-pinning\"]\n")
        ),
        vec!["svc/Dockerfile:2:42 SLD043", "svc/Dockerfile:2:62 SLD047"]
    );
    // named, then ignored: the ignore wins
    assert_eq!(
        codes(
            &["--select", "package-pinning", "--ignore", "SLD043,SLD047"],
            None
        ),
        Vec::<String>::new()
    );
}

/// sandlint's own image (the root `Dockerfile`) passes its own sandbox preset with every rule
/// on: no finding but the two documented suppressions (the digest only the release build can
/// read, the health check a one-shot CLI has no use for).
#[test]
fn own_image_passes_the_sandbox_preset_clean() {
    let out = run(&[
        "check",
        "Dockerfile",
        "--preset",
        "sandbox",
        "--select",
        "all",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"], serde_json::json!([]));
    assert_eq!(v["summary"]["suppressed"], 2);
}

/// `sandlint mcp` over stdio, without a daemon: the handshake, the tool list, a bad call
/// answered as a tool error, an unknown method, a notification left unanswered; and the
/// program flags of `run` refused at start.
#[test]
fn mcp_server_speaks_json_rpc_over_stdio() {
    let input = [
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#,
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#,
        r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"run_code","arguments":{"code":"1","language":"cobol"}}}"#,
        r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"rm_rf","arguments":{}}}"#,
        r#"{"jsonrpc":"2.0","id":5,"method":"resources/list"}"#,
        r#"{"jsonrpc":"2.0","id":6,"method":"ping"}"#,
    ]
    .join("\n");
    let mut child = sandlint(&["mcp", "--image", "sandlint-no-such-image:0"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{input}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let replies: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ids: Vec<i64> = replies.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(
        ids,
        [1, 2, 3, 4, 5, 6],
        "one answer per request, none for the notification"
    );
    assert_eq!(replies[0]["result"]["protocolVersion"], "2025-06-18");
    assert_eq!(replies[0]["result"]["serverInfo"]["name"], "sandlint");
    let tools: Vec<&str> = replies[1]["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        tools,
        [
            "run_code",
            "run_command",
            "session_start",
            "session_exec",
            "write_file",
            "read_file",
            "session_stop"
        ]
    );
    assert_eq!(replies[2]["result"]["isError"], true);
    assert_eq!(
        replies[2]["result"]["content"][0]["text"],
        "`language` must be python, node or sh"
    );
    assert_eq!(replies[3]["error"]["code"], -32602);
    assert_eq!(replies[4]["error"]["code"], -32601);
    assert_eq!(replies[5]["result"], serde_json::json!({}));

    let refused = run(&["mcp", "--code", "print(1)"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        text(&refused.stderr).contains("not --code"),
        "{}",
        text(&refused.stderr)
    );
}

/// A check that panics on a worker thread (a bug, injected by a debug-only variable) ends the
/// run with the panic's message and exit 2; it must not hang. The main thread once held the
/// stderr lock for the whole run, so the panic hook of a worker blocked on it forever while the
/// main thread waited for that worker's file.
#[test]
fn a_panicking_check_ends_the_run_with_its_message() {
    for (file, args) in [
        ("api.Dockerfile", &["check", SAMPLE][..]),
        ("compose.yaml", &["check", SAMPLE]),
        ("api.Dockerfile", &["check", SAMPLE, "--format", "json"]),
        (
            "Dockerfile",
            &["check", "fixtures/projects/sample/Dockerfile"],
        ),
    ] {
        let mut child = sandlint(args)
            .env("SANDLINT_DEBUG_PANIC_IN", file)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let start = std::time::Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if start.elapsed() > std::time::Duration::from_secs(60) {
                let _ = child.kill();
                panic!("{file} {args:?}: still running after 60 s");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        assert_eq!(status.code(), Some(2), "{file} {args:?}: {stderr}");
        assert!(
            stderr.contains("SANDLINT_DEBUG_PANIC_IN: ") && stderr.contains(file),
            "{file} {args:?}: {stderr}"
        );
        assert!(
            stderr.contains("internal error in sandlint"),
            "{file} {args:?}: {stderr}"
        );
    }
}

/// The line the panic hook adds is written without `eprintln!`: with stderr a pipe no one reads
/// (EPIPE), a panic inside the hook aborted the process (SIGABRT) instead of exiting 2.
#[test]
fn a_panic_with_stderr_a_closed_pipe_still_exits_2() {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let status = sandlint(&["check", SAMPLE])
        .env("SANDLINT_DEBUG_PANIC_IN", "api.Dockerfile")
        .stdout(Stdio::null())
        .stderr(writer)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(2), "{status}");
}
