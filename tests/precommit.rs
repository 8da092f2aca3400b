//! `.pre-commit-hooks.yaml` with the real `pre-commit` tool: the manifest validates, and a local
//! hook built from the manifest's `entry`, `args` and `files` (so they cannot drift) runs the
//! built binary in a temporary git repository: a bad Dockerfile fails the commit, a good one
//! passes. (`language: rust` would compile this crate inside pre-commit: too slow for a test.)
//!
//! Skips loudly when `pre-commit` is not on PATH, unless `SANDLINT_REQUIRE_PRECOMMIT=1`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr,
    reason = "test helpers outside #[test] functions fail loudly"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sandlint::discover::classify_name;

mod common;
use common::{text, transcript};

fn manifest_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml")
}

/// The hook's fields, read line by line (the manifest is kept in this flat form; pre-commit
/// itself validates it in `manifest_is_valid`). Every hook of the manifest runs the same
/// command on the same files: the first defines `files` with the anchor `&files`, the others
/// refer to it.
struct Hook {
    entry: String,
    args: String,
    files: String,
}

fn hook() -> Hook {
    let text = std::fs::read_to_string(manifest_path()).unwrap();
    let fields = |name: &str| -> Vec<String> {
        let prefix = format!("{name}: ");
        text.lines()
            .filter_map(|l| {
                l.trim_start()
                    .trim_start_matches("- ")
                    .strip_prefix(prefix.as_str())
            })
            .map(|v| v.trim().to_string())
            .collect()
    };
    let one = |name: &str| -> String {
        let values = fields(name);
        assert_eq!(
            values.len(),
            2,
            "expected `{name}:` in each of the two hooks"
        );
        assert_eq!(values[0], values[1], "the hooks differ in `{name}`");
        values[0].clone()
    };
    let files = fields("files");
    assert_eq!(files.len(), 2, "expected `files:` in each of the two hooks");
    assert_eq!(
        files[1], "*files",
        "the second hook reuses the first's `files`"
    );
    let files = files[0]
        .strip_prefix("&files '")
        .and_then(|f| f.strip_suffix('\''))
        .expect("`files` is anchored as &files and single-quoted")
        .replace("''", "'");
    Hook {
        entry: one("entry"),
        args: one("args"),
        files,
    }
}

#[test]
fn manifest_fields() {
    let h = hook();
    assert_eq!(h.entry, "sandlint check");
    assert_eq!(h.args, r#"["--"]"#, "the file names must come after `--`");
    let text = std::fs::read_to_string(manifest_path()).unwrap();
    for line in [
        "- id: sandlint\n",
        "- id: sandlint-from-source\n",
        "language: python",
        "language: rust",
        "require_serial: false",
    ] {
        assert!(text.contains(line), "manifest lacks `{line}`");
    }
}

/// `pre-commit` on PATH, or `None` (skip) unless `SANDLINT_REQUIRE_PRECOMMIT=1`.
fn pre_commit() -> Option<&'static str> {
    let found = Command::new("pre-commit")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Some("pre-commit");
    }
    common::skip_or_fail(
        "SANDLINT_REQUIRE_PRECOMMIT",
        "the pre-commit hook tests",
        "`pre-commit` is not on PATH (pip install pre-commit)",
    );
    None
}

#[test]
fn manifest_is_valid() {
    let Some(pc) = pre_commit() else { return };
    let o = Command::new(pc)
        .arg("validate-manifest")
        .arg(manifest_path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", transcript(&o));
}

/// The `files` regex, through Python's `re` (pre-commit's engine), against `classify_name`:
/// every name sandlint checks, decides by content or lists as a skipped template reaches it.
/// Needs only `python3` (not pre-commit).
#[test]
fn files_regex_matches_discovery() {
    let names = [
        "Dockerfile",
        "dockerfile",
        "Containerfile",
        "sub dir/Dockerfile",
        "api.Dockerfile",
        "web.containerfile",
        "Dockerfile.prod",
        "Containerfile.dev",
        "--good.Dockerfile",
        "compose.yaml",
        "compose.yml",
        "docker-compose.yaml",
        "docker-compose.yml",
        "compose.prod.yaml",
        "docker-compose.override.yml",
        "COMPOSE.YAML",
        "deploy/compose.dev.yml",
        // Decided by content (issue 10).
        "Dockerfile-dev",
        "Dockerfile_prod",
        "prod-Dockerfile",
        "prod_dockerfile",
        "dev.Dockerfile.arm64",
        "Containerfile-rhel",
        "dockerfile-generator",
        "openhands-compose.yml",
        "docker-compose-dev.yml",
        "compose-prod.yaml",
        "my-compose.yaml",
        ".github/workflows/docker-compose-ci.yml",
        // Templates (skipped, listed).
        "Dockerfile.j2",
        "Dockerfile-alpine.template",
        "Dockerfile.tmpl",
        "Dockerfile.in",
        "api.Dockerfile.tpl",
        "docker-compose.yml.j2",
        "docker-compose.template.yml",
        "compose.yaml.tmpl",
        // Dev containers (the three places, exact names).
        ".devcontainer/devcontainer.json",
        "app/.devcontainer/devcontainer.json",
        ".devcontainer/python/devcontainer.json",
        ".devcontainer.json",
        "app/.devcontainer.json",
        // Not ours.
        "devcontainer.json",
        ".devcontainer/a/b/devcontainer.json",
        ".devcontainer/Devcontainer.json",
        ".DevContainer/devcontainer.json",
        ".devcontainer/devcontainer.jsonc",
        "dockerfile-generator.py",
        "Dockerfile.dockerignore",
        "x/Dockerfile.md",
        "Dockerfile.sh.j2",
        "Dockerfile.j2.sh",
        ".Dockerfile",
        "Dockerfile.",
        "notes.txt",
        "Dockerfile/notes.txt",
        "Dockerfiles",
        "mydockerfile",
        "compose.json",
        "compose..yaml",
        "compose.yaml.bak",
        "values.yaml",
        "composer.json",
        ".compose.yml",
    ];
    let script = "import re, sys\npat = re.compile(sys.argv[1])\nfor n in sys.argv[2:]:\n    print('1' if pat.search(n) else '0')\n";
    let o = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(hook().files)
        .args(names)
        .output()
        .expect("python3 runs the `files` regex as pre-commit does");
    assert!(o.status.success(), "{}", transcript(&o));
    let out = text(&o.stdout);
    let matched: Vec<bool> = out.lines().map(|l| l == "1").collect();
    assert_eq!(matched.len(), names.len());
    for (name, m) in names.iter().zip(matched) {
        assert_eq!(
            m,
            classify_name(Path::new(name)).is_some(),
            "`files` and classify_name disagree on {name:?}"
        );
    }
}

/// Runs `git` in `dir` with an isolated configuration.
fn git(dir: &Path, args: &[&str]) -> Output {
    Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", dir.join("../gitconfig"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "sandlint test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "sandlint test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .env("PRE_COMMIT_HOME", dir.join("../pre-commit-home"))
        .env_remove("SANDLINT_FORMAT")
        .env_remove("SANDLINT_FAIL_ON")
        .env_remove("SANDLINT_COLOR")
        .output()
        .unwrap()
}

/// Quotes a path for pre-commit's `shlex.split` of `entry`.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r#"'"'"'"#))
}

#[test]
fn commit_is_blocked_by_a_bad_dockerfile_and_allowed_by_a_good_one() {
    let Some(pc) = pre_commit() else { return };
    let h = hook();
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("gitconfig"), "").unwrap();
    let repo = tmp.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    let ok = |o: Output| {
        assert!(o.status.success(), "{}", transcript(&o));
        o
    };
    ok(git(&repo, &["init", "-q", "-b", "main"]));

    let bin = env!("CARGO_BIN_EXE_sandlint");
    // A JSON string is a YAML double-quoted scalar.
    let entry = serde_json::to_string(&h.entry.replacen("sandlint", &shell_quote(bin), 1)).unwrap();
    let config = format!(
        "repos:\n  - repo: local\n    hooks:\n      - id: sandlint\n        name: sandlint\n        entry: {entry}\n        args: {args}\n        language: system\n        files: '{files}'\n        require_serial: false\n",
        args = h.args,
        files = h.files.replace('\'', "''"),
    );
    std::fs::write(repo.join(".pre-commit-config.yaml"), &config).unwrap();
    let pre_commit = |args: &[&str]| {
        Command::new(pc)
            .args(args)
            .current_dir(&repo)
            .env("GIT_CONFIG_GLOBAL", tmp.path().join("gitconfig"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("PRE_COMMIT_HOME", tmp.path().join("pre-commit-home"))
            .output()
            .unwrap()
    };
    ok(pre_commit(&["validate-config", ".pre-commit-config.yaml"]));
    ok(pre_commit(&["install"]));
    ok(git(&repo, &["add", ".pre-commit-config.yaml"]));
    ok(git(&repo, &["commit", "-q", "-m", "config"]));

    // A clean Dockerfile whose name starts with `-`: read as a path only because of `--`. A text
    // file that is not ours is never passed to the hook.
    std::fs::write(
        repo.join("--good.Dockerfile"),
        "FROM alpine:3.20@sha256:beefdbd8a1da6d2915566fde36db9db0b524eb737fc57cd1367effd16dc0d06d\nUSER 10001:10001\n",
    )
    .unwrap();
    std::fs::write(repo.join("notes.txt"), "FROM ubuntu\n").unwrap();
    ok(git(&repo, &["add", "--", "--good.Dockerfile", "notes.txt"]));
    let good = git(&repo, &["commit", "-m", "good"]);
    assert!(
        good.status.success(),
        "a clean Dockerfile must commit:\n{}",
        transcript(&good)
    );

    // A bad Dockerfile under a directory with a space blocks the commit.
    std::fs::create_dir(repo.join("sub dir")).unwrap();
    std::fs::write(
        repo.join("sub dir/Dockerfile"),
        "FROM ubuntu\nRUN apt-get update\n",
    )
    .unwrap();
    ok(git(&repo, &["add", "sub dir/Dockerfile"]));
    let bad = git(&repo, &["commit", "-m", "bad"]);
    assert!(
        !bad.status.success(),
        "a root-user Dockerfile must not commit:\n{}",
        transcript(&bad)
    );
    let out = format!("{}{}", text(&bad.stdout), text(&bad.stderr));
    assert!(
        out.contains("SLD001") && out.contains("sub dir/Dockerfile"),
        "{out}"
    );
    let log = ok(git(&repo, &["log", "--format=%s"]));
    assert_eq!(text(&log.stdout), "good\nconfig\n");
}
