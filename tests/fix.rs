//! `sandlint check --fix` and friends, through the real binary, on copies in temporary
//! directories: what is written (exactly), what is not (outside the project, symbolic links,
//! `--diff`), exit codes and summaries.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "integration tests"
)]

use std::path::Path;
use std::process::{Command, Output};

fn sandlint(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sandlint"))
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .env_remove("FORCE_COLOR")
        .env_remove("SANDLINT_FORMAT")
        .env_remove("SANDLINT_FAIL_ON")
        .env("COLUMNS", "100")
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let p = dir.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

const SAMPLE: &str = include_str!("../fixtures/projects/sample/app/compose.yaml");

#[test]
fn unsafe_fixes_harden_the_sample_in_place() {
    let dir = project(&[("compose.yaml", SAMPLE)]);
    let args = [
        "check",
        "--preset",
        "sandbox",
        "--fix",
        "--unsafe-fixes",
        "--format",
        "concise",
        "compose.yaml",
    ];
    let out = sandlint(dir.path(), &args);
    // what needs a human remains: the socket mount, the digest pin, the api's network
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    insta::assert_snapshot!("sample_fixed", read(dir.path(), "compose.yaml"));
    insta::assert_snapshot!(
        "sample_remaining",
        format!("{}\n--- stderr\n{}", stdout(&out), stderr(&out))
    );
    // a second run has nothing left to fix
    let again = sandlint(
        dir.path(),
        &[
            "check",
            "--preset",
            "sandbox",
            "--diff",
            "--unsafe-fixes",
            "compose.yaml",
        ],
    );
    assert_eq!(again.status.code(), Some(0), "{}", stdout(&again));
    assert_eq!(stdout(&again), "");
}

#[test]
fn safe_fixes_only_without_unsafe_fixes() {
    let dir = project(&[("compose.yaml", SAMPLE)]);
    let out = sandlint(
        dir.path(),
        &["check", "--preset", "sandbox", "--fix-only", "compose.yaml"],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "");
    assert_eq!(stderr(&out), "2 fixed, 15 remaining (1 file changed)\n");
    let text = read(dir.path(), "compose.yaml");
    assert_eq!(text.matches("no-new-privileges:true").count(), 2, "{text}");
    assert!(text.contains("privileged: true"), "{text}");
}

#[test]
fn diff_changes_nothing_and_exits_1() {
    let dir = project(&[("compose.yaml", "services:\n  web:\n    image: x\n")]);
    let out = sandlint(
        dir.path(),
        &[
            "check",
            "--select",
            "missing-no-new-privileges",
            "--diff",
            "compose.yaml",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out),
        "--- a/compose.yaml\n+++ b/compose.yaml\n@@ -1,3 +1,5 @@\n services:\n   web:\n     image: x\n+    security_opt:\n+      - no-new-privileges:true\n"
    );
    assert_eq!(stderr(&out), "1 fix would change 1 file\n");
    assert_eq!(
        read(dir.path(), "compose.yaml"),
        "services:\n  web:\n    image: x\n"
    );
}

/// `--diff` shows every round `--fix` would run, not only the first: dropping `network_mode:
/// host` makes room for `network_mode: none` in the round after it.
#[test]
fn diff_shows_what_fix_writes_over_all_rounds() {
    let text = "services:\n  web:\n    image: x\n    network_mode: host\n    restart: always\n";
    let dir = project(&[("compose.yaml", text)]);
    let args = [
        "check",
        "--unsafe-fixes",
        "--select",
        "host-network-mode,network-not-isolated",
        "compose.yaml",
    ];
    let diff = sandlint(dir.path(), &[&args[..], &["--diff"]].concat());
    assert_eq!(diff.status.code(), Some(1), "{}", stderr(&diff));
    assert_eq!(read(dir.path(), "compose.yaml"), text, "--diff wrote");
    let fix = sandlint(dir.path(), &[&args[..], &["--fix", "--fix-only"]].concat());
    assert_eq!(fix.status.code(), Some(0), "{}", stderr(&fix));
    let fixed = read(dir.path(), "compose.yaml");
    assert!(fixed.ends_with("    network_mode: none\n"), "{fixed}");
    assert!(!fixed.contains("host"), "{fixed}");
    let mut lines: Vec<String> = vec![
        "--- a/compose.yaml".into(),
        "+++ b/compose.yaml".into(),
        "@@ -1,5 +1,5 @@".into(),
    ];
    for l in similar_lines(text, &fixed) {
        lines.push(l);
    }
    assert_eq!(stdout(&diff), lines.join("\n") + "\n");
    let (d, f) = (stderr(&diff), stderr(&fix));
    let n = |s: &str| s.split_whitespace().next().unwrap().to_string();
    assert_eq!(n(&d), n(&f), "{d} / {f}");
    assert!(d.ends_with("would change 1 file\n"), "{d}");
}

/// The old and new lines of a one-hunk change, in diff order (deleted lines before added ones
/// at each place): enough for the small files of these tests.
fn similar_lines(old: &str, new: &str) -> Vec<String> {
    let (o, n): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < o.len() || j < n.len() {
        if i < o.len() && j < n.len() && o[i] == n[j] {
            out.push(format!(" {}", o[i]));
            i += 1;
            j += 1;
        } else if i < o.len() && !n[j..].contains(&o[i]) {
            out.push(format!("-{}", o[i]));
            i += 1;
        } else {
            out.push(format!("+{}", n[j]));
            j += 1;
        }
    }
    out
}

/// A file name with a line break, and a bidirectional control in the text, cannot forge or
/// reorder lines of `--diff`: both are escaped as in every other human format.
#[test]
fn diff_escapes_names_and_control_characters() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("p");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(
        sub.join("Dockerfile.x\n+++ evil"),
        "FROM a:1 # \u{202e}x\nRUN curl -fsSL https://x | sh\n",
    )
    .unwrap();
    let out = sandlint(
        dir.path(),
        &[
            "check",
            "--select",
            "pipe-without-pipefail",
            "--unsafe-fixes",
            "--diff",
            "p",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "--- a/p/Dockerfile.x\\n+++ evil\n+++ b/p/Dockerfile.x\\n+++ evil\n@@ -1,2 +1,3 @@\n FROM a:1 # \\u{202e}x\n+SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\n RUN curl -fsSL https://x | sh\n"
    );
}

#[test]
fn comments_crlf_and_flow_style_are_kept() {
    let text = "# top\r\nservices:\r\n  web: {image: x}   # flow\r\n  db:\r\n    image: y # db\r\n    security_opt: ['label:disable']\r\n";
    let dir = project(&[("compose.yaml", text)]);
    let out = sandlint(
        dir.path(),
        &[
            "check",
            "--select",
            "missing-no-new-privileges",
            "--fix",
            "compose.yaml",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(
        read(dir.path(), "compose.yaml"),
        "# top\r\nservices:\r\n  web: {image: x, security_opt: [no-new-privileges:true]}   # flow\r\n  db:\r\n    image: y # db\r\n    security_opt: ['label:disable', 'no-new-privileges:true']\r\n"
    );
    assert_eq!(stderr(&out), "2 fixed, 0 remaining (1 file changed)\n");
}

#[test]
fn a_service_of_an_override_file_is_fixed_there() {
    let dir = project(&[
        (
            "compose.yaml",
            "services:\n  web:\n    image: x\n    security_opt: [no-new-privileges:true]\n",
        ),
        (
            "compose.override.yaml",
            "services:\n  debug:\n    image: y\n",
        ),
    ]);
    let out = sandlint(
        dir.path(),
        &[
            "check",
            "--select",
            "missing-no-new-privileges",
            "--fix",
            ".",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert_eq!(
        read(dir.path(), "compose.override.yaml"),
        "services:\n  debug:\n    image: y\n    security_opt:\n      - no-new-privileges:true\n"
    );
    assert_eq!(
        read(dir.path(), "compose.yaml"),
        "services:\n  web:\n    image: x\n    security_opt: [no-new-privileges:true]\n"
    );
}

#[test]
fn files_outside_the_project_and_symbolic_links_are_never_written() {
    let outside = project(&[("shared.yaml", "services:\n  shared:\n    image: z\n")]);
    let shared = outside.path().join("shared.yaml");
    let dir = project(&[(
        "compose.yaml",
        &format!(
            "include:\n  - {}\nservices:\n  web:\n    image: x\n",
            shared.display()
        ),
    )]);
    let allow = outside.path().to_str().unwrap();
    let out = sandlint(
        dir.path(),
        &[
            "check",
            "--select",
            "missing-no-new-privileges",
            "--allow-outside",
            allow,
            "--fix",
            "compose.yaml",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert_eq!(
        read(outside.path(), "shared.yaml"),
        "services:\n  shared:\n    image: z\n"
    );
    assert!(read(dir.path(), "compose.yaml").contains("no-new-privileges:true"));
    assert_eq!(stderr(&out), "1 fixed, 1 remaining (1 file changed)\n");

    let real = project(&[("real.yaml", "services:\n  web:\n    image: x\n")]);
    let link_dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(
        real.path().join("real.yaml"),
        link_dir.path().join("compose.yaml"),
    )
    .unwrap();
    let out = sandlint(
        link_dir.path(),
        &[
            "check",
            "--select",
            "missing-no-new-privileges",
            "--fix",
            "compose.yaml",
        ],
    );
    assert_eq!(
        read(real.path(), "real.yaml"),
        "services:\n  web:\n    image: x\n"
    );
    assert!(stderr(&out).starts_with("0 fixed"), "{}", stderr(&out));
}

#[test]
fn anchored_services_get_no_fix() {
    let text = "x-base: &base\n  image: x\nservices:\n  web: *base\n  api: *base\n";
    let dir = project(&[("compose.yaml", text)]);
    let out = sandlint(
        dir.path(),
        &[
            "check",
            "--select",
            "missing-no-new-privileges",
            "--fix",
            "compose.yaml",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(read(dir.path(), "compose.yaml"), text);
}

#[test]
fn standard_input_cannot_be_fixed() {
    let dir = project(&[]);
    let out = sandlint(dir.path(), &["check", "--fix", "-"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot fix standard input"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn harden_reports_changes_checks_and_what_needs_a_human() {
    let dir = project(&[("compose.yaml", SAMPLE)]);
    let out = sandlint(dir.path(), &["harden", "compose.yaml"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    insta::assert_snapshot!(
        "harden_sample",
        format!("{}--- stderr\n{}", stdout(&out), stderr(&out))
    );
    // the same file as `check --fix --unsafe-fixes --preset sandbox` writes
    let other = project(&[("compose.yaml", SAMPLE)]);
    sandlint(
        other.path(),
        &[
            "check",
            "--preset",
            "sandbox",
            "--fix-only",
            "--unsafe-fixes",
            "compose.yaml",
        ],
    );
    assert_eq!(
        read(dir.path(), "compose.yaml"),
        read(other.path(), "compose.yaml")
    );
}
