//! Config files, inline suppressions and baselines, through the real binary in temp dirs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr,
    reason = "integration tests"
)]

use std::path::Path;
use std::process::{Command, Output};

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sandlint"))
        .args(args)
        .current_dir(dir)
        .env_remove("SANDLINT_FORMAT")
        .env_remove("SANDLINT_FAIL_ON")
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn err(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// stderr with miette's line wrapping undone.
fn err_unwrapped(o: &Output) -> String {
    err(o).replace("\n  │ ", " ")
}

/// A repo (with `.git`) holding a root-user Dockerfile and an unhardened compose service.
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    write(dir.path(), "Dockerfile", "FROM alpine:3.20\nUSER root\n");
    write(
        dir.path(),
        "svc/compose.yaml",
        "services:\n  web:\n    image: \"nginx:1.27\"\n    privileged: true\n  db:\n    image: \"postgres:17\"\n    privileged: true\n",
    );
    dir
}

fn codes(o: &Output) -> Vec<String> {
    out(o)
        .lines()
        .filter(|l| !l.starts_with("Checked"))
        .map(|l| {
            let mut parts = l.splitn(4, ' ');
            let loc = parts.next().unwrap_or("");
            parts.next();
            format!("{loc} {}", parts.next().unwrap_or(""))
        })
        .collect()
}

#[test]
fn nearest_config_wins_and_cli_flags_layer_on_top() {
    let dir = repo();
    let p = dir.path();
    write(
        p,
        ".sandlint.toml",
        "select = [\"privileged-container\", \"root-user\"]\n",
    );
    write(
        p,
        "svc/.sandlint.toml",
        "select = [\"privilege\"]\nignore = [\"root-user\", \"SLC001\", \"missing-no-new-privileges\", \"missing-cap-drop-all\", \"unknown-image-user\"]\n",
    );
    let o = run(p, &["check", "--format", "concise", "-q"]);
    assert_eq!(codes(&o), ["Dockerfile:2:6: SLD001"], "{}", out(&o));
    // --ignore adds to the config's ignore list.
    let o = run(
        p,
        &[
            "check",
            "--format",
            "concise",
            "-q",
            "--ignore",
            "root-user",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    // --config replaces discovery; --no-config turns configs off.
    let o = run(
        p,
        &[
            "check",
            "--format",
            "concise",
            "-q",
            "--config",
            "svc/.sandlint.toml",
        ],
    );
    assert!(codes(&o).is_empty(), "{}", out(&o));
    let o = run(
        p,
        &[
            "check",
            "--format",
            "concise",
            "-q",
            "--no-config",
            "--select",
            "SLC001",
        ],
    );
    assert_eq!(
        codes(&o),
        [
            "svc/compose.yaml:4:17: SLC001",
            "svc/compose.yaml:7:17: SLC001"
        ]
    );
}

#[test]
fn overrides_by_path_and_service_severity_and_fail_on() {
    let dir = repo();
    let p = dir.path();
    write(
        p,
        ".sandlint.toml",
        r#"select = ["SLC001", "SLD001"]
fail-on = "error"
[severity]
root-user = "warning"
[[overrides]]
paths = ["svc/**"]
services = ["db"]
ignore = ["privileged-container"]
"#,
    );
    let o = run(p, &["check", "--format", "concise", "-q"]);
    assert_eq!(
        codes(&o),
        ["Dockerfile:2:6: SLD001", "svc/compose.yaml:4:17: SLC001"]
    );
    assert!(out(&o).contains("Dockerfile:2:6: warning SLD001"));
    assert_eq!(o.status.code(), Some(1), "SLC001 is an error");
    let o = run(p, &["check", "Dockerfile", "--format", "concise", "-q"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "only a warning, and fail-on = error: {}",
        out(&o)
    );
    // The command line beats the config.
    let o = run(p, &["check", "Dockerfile", "-q", "--fail-on", "warning"]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn exclude_skips_walked_files_but_not_named_ones() {
    let dir = repo();
    let p = dir.path();
    write(p, ".sandlint.toml", "exclude = [\"svc\"]\n");
    let o = run(p, &["check", "--format", "concise", "--select", "SLC001"]);
    assert!(
        out(&o).ends_with("Checked 1 file: 0 errors, 0 warnings, 0 info\n"),
        "{}",
        out(&o)
    );
    let o = run(
        p,
        &[
            "check",
            "svc/compose.yaml",
            "--format",
            "concise",
            "-q",
            "--select",
            "SLC001",
        ],
    );
    assert_eq!(codes(&o).len(), 2);
}

#[test]
fn config_errors_point_into_the_file() {
    let dir = repo();
    let p = dir.path();
    for (text, want) in [
        (
            "select = [\"root-user\"]\nfail_on = \"error\"\n",
            ".sandlint.toml:2:1: invalid config: unknown field `fail_on`",
        ),
        (
            "ignore = [\"root-usr\"]\n",
            ".sandlint.toml:1:11: unknown rule or family `root-usr` (did you mean `root-user`?)",
        ),
        (
            "[severity]\nroot-user = \"fatal\"\n",
            ".sandlint.toml:2:13: unknown severity `fatal`",
        ),
        (
            "preset = 3\n",
            ".sandlint.toml:1:10: invalid config: invalid type",
        ),
        ("exclude = [\"{a\"]\n", ".sandlint.toml:1:12: invalid glob"),
        (
            "trusted-registries = [\"docker.io\", \"https://ghcr.io\"]\n",
            ".sandlint.toml:1:36: invalid `trusted-registries` entry `https://ghcr.io`: a registry is written without a scheme (`https://`); expected `*`, a registry",
        ),
        (
            "trusted-registries = [\n  \"registry.*.com\",\n]\n",
            ".sandlint.toml:2:3: invalid `trusted-registries` entry `registry.*.com`: `*` is accepted alone or at the start of `*.domain` only",
        ),
    ] {
        write(p, ".sandlint.toml", text);
        let o = run(p, &["check"]);
        assert_eq!(o.status.code(), Some(2), "{text}");
        let e = err_unwrapped(&o);
        assert!(e.contains(&format!("× {want}")), "{text}: {e}");
        assert!(e.contains("here"), "a labelled snippet: {e}");
        assert!(out(&o).is_empty());
    }
}

#[test]
fn inline_suppressions() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    write(
        p,
        "Dockerfile",
        "FROM alpine:3.20\n# sandlint ignore=root-user reason=\"init drops privileges\"\nUSER root\n",
    );
    write(
        p,
        "compose.yaml",
        "services:\n  web:  # sandlint ignore=SLC001\n    image: \"nginx:1.27\"\n    privileged: true\n  db:\n    # sandlint ignore=SLC003,privileged-container\n    privileged: true\n",
    );
    let sel = "root-user,privileged-container,invalid-suppression,unused-suppression";
    let o = run(p, &["check", "--format", "concise", "--select", sel]);
    assert_eq!(
        out(&o),
        "Checked 2 files: 0 errors, 0 warnings, 0 info (3 suppressed)\n"
    );
    assert_eq!(o.status.code(), Some(0));

    // SLC003 points at the service name, outside the block the comment above `privileged` covers.
    let sel3 = format!("{sel},writable-root-filesystem");
    let o = run(
        p,
        &[
            "check",
            "--format",
            "concise",
            "-q",
            "--select",
            &sel3,
            "--report-unused-ignores",
        ],
    );
    assert_eq!(
        out(&o),
        "compose.yaml:2:3: warning SLC003 service `web` has a writable root filesystem (`read_only` not set)\n\
         compose.yaml:5:3: warning SLC003 service `db` has a writable root filesystem (`read_only` not set)\n\
         compose.yaml:6:23: warning SLE004 suppression of `writable-root-filesystem` matches no finding\n"
    );
    // Without the flag, unused suppressions are not reported; a disabled rule's never are.
    let o = run(
        p,
        &[
            "check",
            "--format",
            "concise",
            "-q",
            "--select",
            sel,
            "--report-unused-ignores",
        ],
    );
    assert_eq!(out(&o), "");

    let o = run(
        p,
        &[
            "check",
            "--format",
            "concise",
            "-q",
            "--select",
            sel,
            "--require-reason",
        ],
    );
    assert_eq!(
        out(&o),
        "compose.yaml:2:9: error SLE003 suppression has no reason\ncompose.yaml:6:5: error SLE003 suppression has no reason\n"
    );

    let o = run(
        p,
        &[
            "check",
            "--format",
            "concise",
            "-q",
            "--select",
            sel,
            "--no-inline-ignores",
        ],
    );
    assert_eq!(
        out(&o),
        "Dockerfile:3:6: error SLD001 final stage runs as root: `USER root`\n\
         compose.yaml:4:17: error SLC001 service `web` runs privileged (`privileged: true`)\n\
         compose.yaml:7:17: error SLC001 service `db` runs privileged (`privileged: true`)\n"
    );
}

#[test]
fn baseline_reports_only_new_findings_and_survives_moves() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let compose = "services:\n  web:\n    image: \"nginx:1.27\"\n    privileged: true\n";
    write(p, "compose.yaml", compose);
    let o = run(
        p,
        &[
            "check",
            "--select",
            "SLC001",
            "--write-baseline",
            "base.json",
        ],
    );
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(err(&o), "wrote 1 finding to baseline base.json\n");
    let o = run(
        p,
        &[
            "check",
            "--format",
            "concise",
            "--select",
            "SLC001",
            "--baseline",
            "base.json",
        ],
    );
    assert_eq!(
        out(&o),
        "Checked 1 file: 0 errors, 0 warnings, 0 info (1 suppressed)\n"
    );
    assert_eq!(o.status.code(), Some(0));

    // Move the service down (a new service above it): still baselined; the new one is reported.
    write(
        p,
        "compose.yaml",
        "# a comment\nservices:\n  api:\n    image: \"api:2\"\n    privileged: true\n\n  web:\n      image: \"nginx:1.27\"\n      privileged:   true\n",
    );
    let o = run(
        p,
        &[
            "check",
            "--format",
            "concise",
            "-q",
            "--select",
            "SLC001",
            "--baseline",
            "base.json",
        ],
    );
    assert_eq!(
        out(&o),
        "compose.yaml:5:17: error SLC001 service `api` runs privileged (`privileged: true`)\n"
    );
    assert_eq!(o.status.code(), Some(1));

    let o = run(p, &["check", "--baseline", "missing.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("cannot read baseline missing.json"),
        "{}",
        err(&o)
    );
}

#[test]
fn x_sandlint_service_suppressions() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    write(
        p,
        "compose.yaml",
        "services:\n  emu:\n    image: \"qemu:9\"\n    privileged: true\n    x-sandlint:\n      ignore: [privileged-container, SLC008, nope-rule]\n      reason: \"needs /dev/kvm\"\n  web:\n    image: \"nginx:1.27\"\n    privileged: true\n",
    );
    let sel = "privileged-container,host-network-mode,invalid-suppression,unused-suppression";
    let o = run(
        p,
        &[
            "check",
            "--format",
            "concise",
            "--select",
            sel,
            "--report-unused-ignores",
        ],
    );
    assert_eq!(
        out(&o),
        "compose.yaml:6:38: warning SLE004 suppression of `host-network-mode` matches no finding\n\
         compose.yaml:6:46: error SLE003 unknown rule `nope-rule` in suppression\n\
         compose.yaml:10:17: error SLC001 service `web` runs privileged (`privileged: true`)\n\
         Checked 1 file: 2 errors, 1 warning, 0 info (1 suppressed)\n"
    );
    let o = run(p, &["check", "--format", "sarif", "--select", sel]);
    let sarif: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let suppressed: Vec<_> = results
        .iter()
        .filter(|r| r.get("suppressions").is_some())
        .collect();
    assert_eq!(suppressed.len(), 1);
    assert_eq!(
        suppressed[0]["suppressions"][0]["justification"],
        "needs /dev/kvm"
    );
}

/// A Dockerfile whose final stage runs as root (SLD001 at 2:6).
const ROOT_USER: &str = "FROM alpine:3.20\nUSER root\n";

/// `check`, concise and quiet, root-user only.
const ROOT_USER_ONLY: [&str; 6] = [
    "check",
    "--format",
    "concise",
    "-q",
    "--select",
    "root-user",
];

/// A temporary directory holding `files` (path, text).
fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (rel, text) in files {
        write(dir.path(), rel, text);
    }
    dir
}

/// The nearest config is looked for above each checked file, not above the path as written: a
/// scan of `../b` from `a` does not read `a/.sandlint.toml` (`a/../b` lexically has `a` above
/// it), and `a/../b` named from the parent does not either.
#[test]
fn a_path_through_dot_dot_finds_the_config_above_the_file() {
    let dir = tree(&[
        ("a/.sandlint.toml", "ignore = [\"root-user\"]\n"),
        ("a/x/keep", ""),
        ("b/Dockerfile", ROOT_USER),
        ("b/c/Dockerfile", ROOT_USER),
    ]);
    let p = dir.path();
    let args = ROOT_USER_ONLY;
    let want = ["Dockerfile:2:6: SLD001", "c/Dockerfile:2:6: SLD001"];
    for (cwd, scanned, shown) in [
        ("a", "../b", "../b/"),
        ("a/x", "../../b", "../../b/"),
        (".", "a/../b", "a/../b/"),
        ("a", "../a/../b", "../a/../b/"),
    ] {
        let o = run(&p.join(cwd), &[&args[..], &[scanned]].concat());
        let want: Vec<String> = want.iter().map(|w| format!("{shown}{w}")).collect();
        assert_eq!(
            codes(&o),
            want,
            "{cwd}: check {scanned}\n{}{}",
            out(&o),
            err(&o)
        );
    }
    // a config that is above the files still applies when the path goes through `..`
    write(p, "b/.sandlint.toml", "ignore = [\"root-user\"]\n");
    let o = run(&p.join("a"), &[&args[..], &["../b"]].concat());
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
}

/// A named path where `..` follows a symbolic link into another directory than the link's
/// own is refused (exit 2, said where): the system would walk the parent of the link's
/// target, but sandlint reads, bounds and reports paths as written. A link whose `..` is its
/// own directory is fine.
#[cfg(unix)]
#[test]
fn dot_dot_after_a_link_elsewhere_is_refused() {
    let dir = tree(&[
        ("a/x/keep", ""),
        ("a/y/Dockerfile", ROOT_USER),
        ("y/Dockerfile", "FROM alpine:3.20\n"),
    ]);
    let p = dir.path();
    std::os::unix::fs::symlink(p.join("a/x"), p.join("deep")).unwrap();
    std::os::unix::fs::symlink(p.join("a"), p.join("near")).unwrap();
    let args = [&ROOT_USER_ONLY[..], &["--no-config"]].concat();
    let o = run(p, &[&args[..], &["deep/../y"]].concat());
    assert_eq!(o.status.code(), Some(2), "{}{}", out(&o), err(&o));
    assert!(codes(&o).is_empty(), "{}", out(&o));
    assert!(
        err_unwrapped(&o).contains(
            "deep/../y: `..` after the symbolic link `deep` leads to the parent of its target"
        ),
        "{}",
        err(&o)
    );
    // `near/..` is the directory `near` is in, whichever way it is read
    let o = run(p, &[&args[..], &["near/../y"]].concat());
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert_eq!(
        codes(&o),
        ["near/../y/Dockerfile:1:1: SLD001"],
        "{}",
        err(&o)
    );
}
