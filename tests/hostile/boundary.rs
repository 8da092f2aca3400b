//! Issue 9, defects 1, 2 and the symlink / non-UTF-8 parts of 9: reads outside the project,
//! unbounded reads (devices, FIFOs, huge stdin), silently skipped symlinks and silently
//! replaced bytes. Every case runs bounded (address space and deadline, see `harness`).

use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::harness::{self, Outcome, sandlint};

/// Present in the environment or in an outside file; must never reach any output.
const CANARY: &str = "hostile-canary-5c1e0b";

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo").arg(path).status().unwrap().success();
    assert!(ok, "mkfifo {}", path.display());
}

/// A directory outside every project of the test (a sibling temp dir, not a git tree).
fn outside(files: &[(&str, &str)]) -> tempfile::TempDir {
    harness::project(files, false)
}

/// The concise line of the first finding of `code`, for exact-location assertions.
fn concise_line<'a>(o: &'a Outcome, code: &str) -> &'a str {
    o.stdout
        .lines()
        .find(|l| l.contains(&format!(" {code} ")))
        .unwrap_or_else(|| panic!("no {code} line\n{}", o.transcript()))
}

#[test]
fn include_of_proc_self_environ_is_refused_and_never_printed() {
    let p = harness::project(
        &[(
            "compose.yaml",
            "include:\n  - /proc/self/environ\nservices:\n  web:\n    image: nginx:1\n",
        )],
        true,
    );
    let secret = format!("MY_SECRET={CANARY}");
    let concise = sandlint(p.path(), &["check", ".", "--format", "concise"])
        .env("MY_SECRET", CANARY)
        .run();
    concise.assert_code(1).assert_absent(CANARY);
    assert_eq!(
        concise_line(&concise, "SLE006"),
        "compose.yaml:2:5: error SLE006 include `/proc/self/environ` is outside the project; it was not read"
    );
    for format in [
        "full",
        "json",
        "sarif",
        "github",
        "gitlab",
        "checkstyle",
        "junit",
    ] {
        let o = sandlint(p.path(), &["check", ".", "--format", format])
            .env("MY_SECRET", CANARY)
            .run();
        o.assert_code(1).assert_absent(CANARY);
        // gitlab names the rule, checkstyle gives its code, the others both
        assert!(
            o.stdout.contains("SLE006") || o.stdout.contains("reference-outside-project"),
            "{format}\n{}",
            o.transcript()
        );
        assert!(!o.stdout.contains(&secret), "{format}\n{}", o.transcript());
    }
    let json = sandlint(p.path(), &["check", ".", "--format", "json"])
        .env("MY_SECRET", CANARY)
        .run();
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let finding = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "SLE006")
        .unwrap();
    assert_eq!(finding["file"], "compose.yaml");
    assert_eq!(finding["start"]["line"], 2);
    assert_eq!(finding["start"]["column"], 5);
    assert_eq!(finding["severity"], "error");
}

#[test]
fn extends_file_absolute_and_dotdot_escape_are_refused() {
    let out = outside(&[(
        "common.yaml",
        &format!("services:\n  base:\n    image: {CANARY}:1\n    privileged: true\n"),
    )]);
    let abs = out.path().join("common.yaml");
    let name = out.path().file_name().unwrap().to_str().unwrap();
    let compose = format!(
        "services:\n  a:\n    extends:\n      file: {}\n      service: base\n  b:\n    extends:\n      file: ../{name}/common.yaml\n      service: base\n",
        abs.display()
    );
    let p = harness::project(&[("compose.yaml", &compose)], true);
    let o = sandlint(p.path(), &["check", ".", "--format", "concise"]).run();
    o.assert_code(1).assert_absent(CANARY);
    let lines: Vec<&str> = o.stdout.lines().filter(|l| l.contains("SLE006")).collect();
    assert_eq!(lines.len(), 2, "{}", o.transcript());
    assert!(lines[0].starts_with("compose.yaml:4:13: error SLE006 extends file `/"));
    assert!(lines[1].starts_with(&format!(
        "compose.yaml:8:13: error SLE006 extends file `../{name}/common.yaml` is outside the project"
    )));
    // nothing of the outside file was used: no privileged finding
    assert!(!o.stdout.contains("SLC001"), "{}", o.transcript());
}

#[test]
fn env_file_dev_zero_is_refused_without_reading() {
    let p = harness::project(
        &[(
            "compose.yaml",
            "services:\n  web:\n    image: nginx:1\n    env_file: /dev/zero\n",
        )],
        true,
    );
    let o = sandlint(p.path(), &["check", ".", "--format", "concise"]).run();
    o.assert_code(1);
    assert_eq!(
        concise_line(&o, "SLE006"),
        "compose.yaml:4:15: error SLE006 env_file `/dev/zero` is outside the project; it was not read"
    );
    // allowed outside, a device is still never read: a located SLE007
    let o = sandlint(
        p.path(),
        &[
            "check",
            ".",
            "--format",
            "concise",
            "--allow-outside",
            "/dev",
        ],
    )
    .run();
    o.assert_code(1);
    assert_eq!(
        concise_line(&o, "SLE007"),
        "compose.yaml:4:15: error SLE007 env_file `/dev/zero` is a character device, not a regular file; it was not read"
    );
}

#[test]
fn include_and_extends_of_dev_zero_are_bounded() {
    let p = harness::project(
        &[(
            "compose.yaml",
            "include:\n  - /dev/zero\nservices:\n  web:\n    image: nginx:1\n    extends:\n      file: /dev/zero\n      service: x\n",
        )],
        true,
    );
    let o = sandlint(p.path(), &["check", ".", "--format", "concise"]).run();
    o.assert_code(1);
    assert!(concise_line(&o, "SLE006").starts_with("compose.yaml:2:5: error SLE006 include"));
    let o = sandlint(
        p.path(),
        &[
            "check",
            ".",
            "--format",
            "concise",
            "--allow-outside",
            "/dev/zero",
        ],
    )
    .run();
    o.assert_code(1);
    let lines: Vec<&str> = o.stdout.lines().filter(|l| l.contains("SLE007")).collect();
    assert_eq!(
        lines,
        [
            "compose.yaml:2:5: error SLE007 include `/dev/zero` is a character device, not a regular file; it was not read",
            "compose.yaml:7:13: error SLE007 extends file `/dev/zero` is a character device, not a regular file; it was not read",
        ],
        "{}",
        o.transcript()
    );
}

#[test]
fn fifos_never_block() {
    let p = harness::project(
        &[(
            "compose.yaml",
            "include:\n  - inc.yaml\nservices:\n  web:\n    image: nginx:1\n    env_file: web.env\n",
        )],
        true,
    );
    mkfifo(&p.path().join("inc.yaml"));
    mkfifo(&p.path().join("web.env"));
    mkfifo(&p.path().join("pipe"));
    let o = sandlint(p.path(), &["check", ".", "--format", "concise"])
        .deadline(Duration::from_secs(10))
        .run();
    o.assert_code(1);
    let lines: Vec<&str> = o.stdout.lines().filter(|l| l.contains("SLE007")).collect();
    assert_eq!(
        lines,
        [
            "compose.yaml:2:5: error SLE007 include `inc.yaml` is a FIFO (named pipe), not a regular file; it was not read",
            "compose.yaml:6:15: error SLE007 env_file `web.env` is a FIFO (named pipe), not a regular file; it was not read",
        ],
        "{}",
        o.transcript()
    );
    // A FIFO named on the command line: an I/O error (exit 2); the other file is still checked.
    let o = sandlint(
        p.path(),
        &["check", "pipe", "compose.yaml", "--format", "concise"],
    )
    .deadline(Duration::from_secs(10))
    .run();
    o.assert_code(2)
        .assert_present("error: pipe: is a FIFO (named pipe), not a regular file; it was not read")
        .assert_present("SLE007");
}

#[test]
fn check_dev_zero_is_an_io_error() {
    let p = harness::project(&[], true);
    let o = sandlint(p.path(), &["check", "/dev/zero"])
        .deadline(Duration::from_secs(10))
        .run();
    o.assert_code(2).assert_present(
        "error: /dev/zero: is a character device, not a regular file; it was not read",
    );
}

#[test]
fn stdin_dev_zero_hits_the_cap() {
    let p = harness::project(&[], true);
    let o = sandlint(p.path(), &["check", "-", "--kind", "dockerfile"])
        .stdin_file(Path::new("/dev/zero"))
        .deadline(Duration::from_secs(10))
        .run();
    o.assert_code(2)
        .assert_present("error: -: standard input is larger than 32 MiB; it was not checked");
}

#[test]
fn symlinked_compose_file_inside_the_tree_is_checked() {
    let p = harness::project(
        &[(
            "deploy/base.yml",
            "services:\n  web:\n    image: nginx:1\n    privileged: true\n",
        )],
        true,
    );
    symlink("deploy/base.yml", p.path().join("compose.yaml")).unwrap();
    let o = sandlint(p.path(), &["check", ".", "--format", "concise"]).run();
    o.assert_code(1);
    assert!(
        concise_line(&o, "SLC001").starts_with("compose.yaml:4:17: error SLC001"),
        "{}",
        o.transcript()
    );
}

#[test]
fn symlink_to_an_outside_file_is_refused_and_not_read() {
    let out = outside(&[(
        "compose.yaml",
        &format!("services:\n  {CANARY}:\n    image: {CANARY}\n    privileged: true\n"),
    )]);
    let p = harness::project(&[], true);
    symlink(
        out.path().join("compose.yaml"),
        p.path().join("compose.yaml"),
    )
    .unwrap();
    symlink(out.path().join("compose.yaml"), p.path().join("Dockerfile")).unwrap();
    for format in ["concise", "full", "json", "sarif"] {
        let o = sandlint(p.path(), &["check", ".", "--format", format]).run();
        o.assert_code(1)
            .assert_absent(CANARY)
            .assert_present("SLE006");
    }
    let o = sandlint(p.path(), &["check", ".", "--format", "concise"]).run();
    let lines: Vec<&str> = o.stdout.lines().filter(|l| l.contains("SLE006")).collect();
    assert_eq!(
        lines,
        [
            "Dockerfile:1:1: error SLE006 `Dockerfile` is a symbolic link to a file outside the project; it was not read",
            "compose.yaml:1:1: error SLE006 `compose.yaml` is a symbolic link to a file outside the project; it was not read",
        ],
        "{}",
        o.transcript()
    );
}

#[test]
fn dotenv_symlinked_outside_is_refused() {
    let p = harness::project(
        &[(
            "compose.yaml",
            "services:\n  web:\n    image: \"nginx:${MY_SECRET}\"\n",
        )],
        true,
    );
    symlink("/proc/self/environ", p.path().join(".env")).unwrap();
    let o = sandlint(p.path(), &["check", ".", "--format", "concise"])
        .env("MY_SECRET", CANARY)
        .run();
    o.assert_code(1).assert_absent(CANARY);
    assert_eq!(
        concise_line(&o, "SLE006"),
        "compose.yaml:1:1: error SLE006 `.env` is a symbolic link to a file outside the project; it was not read"
    );
}

#[test]
fn symlinked_config_outside_is_refused() {
    let out = outside(&[("evil.toml", &format!("ignore = [\"all\"]\n{CANARY} = 1\n"))]);
    let p = harness::project(
        &[(
            "compose.yaml",
            "services:\n  web:\n    image: nginx:1\n    privileged: true\n",
        )],
        true,
    );
    symlink(
        out.path().join("evil.toml"),
        p.path().join(".sandlint.toml"),
    )
    .unwrap();
    let o = sandlint(p.path(), &["check", "."]).run();
    o.assert_code(2).assert_absent(CANARY).assert_present(
        ".sandlint.toml: config is a symbolic link to a file outside the project; refusing to read it (name it with --config to use it)",
    );
}

#[test]
fn discovered_config_cannot_widen_the_boundary() {
    let p = harness::project(
        &[
            (".sandlint.toml", "allow-outside = [\"/\"]\n"),
            (
                "compose.yaml",
                "include:\n  - /etc/hostname\nservices:\n  web:\n    image: nginx:1\n",
            ),
        ],
        true,
    );
    let o = sandlint(p.path(), &["check", "."]).run();
    o.assert_code(2).assert_present(
        "allow-outside `/` is outside the directory of this config; only --allow-outside or a config named with --config may allow paths outside the project",
    );
    // Named with --config, the same file is trusted.
    let cfg = p.path().join(".sandlint.toml");
    let o = sandlint(
        p.path(),
        &[
            "check",
            ".",
            "--format",
            "concise",
            "--config",
            cfg.to_str().unwrap(),
        ],
    )
    .run();
    assert!(!o.stdout.contains("SLE006"), "{}", o.transcript());
}

#[test]
fn invalid_utf8_is_a_located_finding() {
    let p = harness::project(&[], true);
    std::fs::write(
        p.path().join("Dockerfile"),
        b"FROM alpine:3.20\nLABEL x=\"a\xffb\"\nUSER 1000\n",
    )
    .unwrap();
    let o = sandlint(p.path(), &["check", ".", "--format", "concise"]).run();
    o.assert_code(1);
    assert_eq!(
        concise_line(&o, "SLE007"),
        "Dockerfile:2:11: error SLE007 not valid UTF-8 (first invalid byte 0xFF); checked with invalid bytes replaced"
    );
}

#[test]
fn allow_outside_lets_an_outside_include_be_read() {
    let out = outside(&[(
        "shared.yaml",
        "services:\n  db:\n    image: postgres:17\n    privileged: true\n",
    )]);
    let inc = out.path().join("shared.yaml");
    let compose = format!(
        "include:\n  - {}\nservices:\n  web:\n    image: nginx:1\n",
        inc.display()
    );
    let p = harness::project(&[("compose.yaml", &compose)], true);
    let o = sandlint(p.path(), &["check", ".", "--format", "concise"]).run();
    o.assert_code(1);
    assert!(o.stdout.contains("SLE006") && !o.stdout.contains("SLC001"));
    let o = sandlint(
        p.path(),
        &[
            "check",
            ".",
            "--format",
            "concise",
            "--allow-outside",
            out.path().to_str().unwrap(),
        ],
    )
    .run();
    o.assert_code(1);
    assert!(!o.stdout.contains("SLE006"), "{}", o.transcript());
    assert!(o.stdout.contains("SLC001"), "{}", o.transcript());
}

#[test]
fn ignore_file_fifo_does_not_hang_the_walk() {
    let p = harness::project(
        &[
            ("sub/Dockerfile", "FROM alpine:3.20\nUSER 1000\n"),
            (
                "compose.yaml",
                "services:\n  web:\n    image: nginx:1\n    privileged: true\n",
            ),
        ],
        true,
    );
    mkfifo(&p.path().join("sub/.gitignore"));
    let o = sandlint(p.path(), &["check", ".", "--format", "concise"])
        .deadline(Duration::from_secs(10))
        .run();
    o.assert_code(2).assert_present(
        "sub/.gitignore: is a FIFO (named pipe), not a regular file; sub was not walked",
    );
    assert!(o.stdout.contains("SLC001"), "{}", o.transcript());
}

#[test]
fn build_context_and_dockerfile_outside_are_refused() {
    let p = harness::project(
        &[(
            "compose.yaml",
            "services:\n  a:\n    build:\n      context: /\n  b:\n    build:\n      context: .\n      dockerfile: /proc/self/environ\n",
        )],
        true,
    );
    let o = sandlint(p.path(), &["check", ".", "--format", "concise"])
        .env("MY_SECRET", CANARY)
        .run();
    o.assert_code(1).assert_absent(CANARY);
    let lines: Vec<&str> = o.stdout.lines().filter(|l| l.contains("SLE006")).collect();
    assert_eq!(
        lines,
        [
            "compose.yaml:4:16: error SLE006 build context `/` is outside the project; it was not read",
            "compose.yaml:8:19: error SLE006 dockerfile `/proc/self/environ` is outside the project; it was not read",
        ],
        "{}",
        o.transcript()
    );
}
