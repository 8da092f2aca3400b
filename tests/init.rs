//! `sandlint init` through the real binary: the generated files lint clean under the sandbox
//! preset for every template × option combination, snapshots of every file, the never-overwrite
//! / `--force` / `--dry-run` contract and exit codes, and (with a Docker daemon) the generic
//! template on a minimal busybox base builds and runs with the isolation in force.
//!
//! The Docker test skips loudly without a daemon, unless `SANDLINT_REQUIRE_DOCKER=1`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr,
    reason = "integration tests"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::{text, transcript};

const TEMPLATES: &[&str] = &["python", "node", "generic"];
/// `--with` variants.
const WITHS: &[&[&str]] = &[
    &[],
    &["--with", "pre-commit"],
    &["--with", "github"],
    &["--with", "pre-commit,github"],
    &["--with", "devcontainer"],
    &["--with", "guard"],
];
/// `--base-image` variants (a digest-pinned custom base keeps everything clean).
const BASES: &[&[&str]] = &[
    &[],
    &[
        "--base-image",
        "registry.example.com/team/base:1.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    ],
];
const CORE_FILES: &[&str] = &[
    "Dockerfile.sandbox",
    "Dockerfile.agent",
    "compose.yaml",
    ".sandlint.toml",
    ".dockerignore",
    "workspace/.gitkeep",
    "output/.gitkeep",
];

fn sandlint(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sandlint"));
    cmd.args(args)
        .env_remove("SANDLINT_FORMAT")
        .env_remove("SANDLINT_FAIL_ON")
        .env_remove("SANDLINT_COLOR")
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100");
    cmd
}

fn run_in(dir: &Path, args: &[&str]) -> Output {
    sandlint(args).current_dir(dir).output().unwrap()
}

/// Runs `sandlint init proj ARGS` in a fresh temporary directory; returns (tempdir, proj).
fn init(args: &[&str]) -> (tempfile::TempDir, PathBuf, Output) {
    init_named("proj", args)
}

/// `sandlint init NAME ARGS` in a fresh temporary directory.
fn init_named(name: &str, args: &[&str]) -> (tempfile::TempDir, PathBuf, Output) {
    let tmp = tempfile::tempdir().unwrap();
    let mut all = vec!["init", name];
    all.extend_from_slice(args);
    let out = run_in(tmp.path(), &all);
    let proj = tmp.path().join(name);
    (tmp, proj, out)
}

/// Every regular file under `dir`, relative with `/`, sorted, with its bytes.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            let ty = entry.file_type().unwrap();
            if ty.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).unwrap();
                let rel = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                let bytes = if ty.is_symlink() {
                    Vec::new()
                } else {
                    std::fs::read(&path).unwrap()
                };
                out.push((rel, bytes));
            }
        }
    }
    let mut out = Vec::new();
    if dir.exists() {
        walk(dir, dir, &mut out);
    }
    out.sort();
    out
}

fn names(tree: &[(String, Vec<u8>)]) -> Vec<&str> {
    tree.iter().map(|(n, _)| n.as_str()).collect()
}

/// `sandlint check` over `proj` as JSON, with the strictest settings; asserts zero findings.
fn assert_clean(proj: &Path, extra: &[&str], what: &str) {
    let mut args = vec![
        "check",
        ".",
        "--preset",
        "sandbox",
        "--fail-on",
        "info",
        "--report-unused-ignores",
        "--require-reason",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let out = run_in(proj, &args);
    let devcontainer = proj.join(".devcontainer/devcontainer.json").is_file();
    let guard = proj.join("compose.guard.yaml").is_file();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{what}: not JSON ({e}):\n{}", transcript(&out)));
    assert_eq!(
        report["findings"].as_array().map(Vec::len),
        Some(0),
        "{what}: expected no findings, got:\n{}",
        serde_json::to_string_pretty(&report["findings"]).unwrap()
    );
    assert_eq!(
        report["files_checked"],
        3 + u64::from(devcontainer) + u64::from(guard),
        "{what}: both Dockerfiles and compose.yaml (and the devcontainer.json, compose.guard.yaml) are checked"
    );
    assert_eq!(out.status.code(), Some(0), "{what}:\n{}", transcript(&out));
}

#[test]
fn generated_files_lint_clean_for_every_combination() {
    for template in TEMPLATES {
        for with in WITHS {
            for base in BASES {
                let mut args = vec!["--template", template];
                args.extend_from_slice(with);
                args.extend_from_slice(base);
                let (_tmp, proj, out) = init(&args);
                assert_eq!(
                    out.status.code(),
                    Some(0),
                    "{args:?}:\n{}",
                    transcript(&out)
                );
                let what = format!("init {args:?}");
                // With the generated .sandlint.toml, and with no config at all (the files must not
                // depend on the config to be clean).
                assert_clean(&proj, &[], &what);
                assert_clean(&proj, &["--no-config"], &format!("{what} --no-config"));
            }
        }
    }
}

#[test]
fn writes_exactly_the_planned_files() {
    let (_tmp, proj, out) = init(&["--with", "github", "--with", "pre-commit"]);
    assert_eq!(out.status.code(), Some(0), "{}", transcript(&out));
    let files = tree(&proj);
    let mut expected: Vec<&str> = CORE_FILES.to_vec();
    expected.extend([".pre-commit-config.yaml", ".github/workflows/sandlint.yml"]);
    expected.sort_unstable();
    assert_eq!(names(&files), expected);
    assert!(proj.join("workspace").is_dir() && proj.join("output").is_dir());
}

#[test]
fn snapshots_of_every_generated_file() {
    for template in TEMPLATES {
        let (_tmp, proj, out) = init(&["--template", template]);
        assert_eq!(out.status.code(), Some(0), "{}", transcript(&out));
        for (name, bytes) in tree(&proj) {
            let snap = format!("{template}__{}", name.replace('/', "__"));
            insta::assert_snapshot!(snap, text(&bytes));
        }
        insta::assert_snapshot!(format!("{template}__stdout"), transcript(&out));
    }
    // The --with files are the same for every template.
    let (_tmp, proj, out) = init(&["--with", "pre-commit,github,devcontainer"]);
    insta::assert_snapshot!("with_extras__stdout", transcript(&out));
    for name in [
        ".pre-commit-config.yaml",
        ".github/workflows/sandlint.yml",
        ".devcontainer/devcontainer.json",
    ] {
        let bytes = std::fs::read(proj.join(name)).unwrap();
        insta::assert_snapshot!(
            format!("with__{}", name.trim_start_matches('.').replace('/', "__")),
            text(&bytes)
        );
    }
    let (_tmp, proj, out) = init(&["--with", "guard"]);
    insta::assert_snapshot!("with_guard__stdout", transcript(&out));
    let bytes = std::fs::read(proj.join("compose.guard.yaml")).unwrap();
    insta::assert_snapshot!("with__compose.guard.yaml", text(&bytes));
    // An unpinned --base-image: the Dockerfile says so, and so does stderr.
    let (_tmp, proj, out) = init(&["--template", "generic", "--base-image", "alpine:3.20"]);
    insta::assert_snapshot!("unpinned_base__stdout", transcript(&out));
    let bytes = std::fs::read(proj.join("Dockerfile.sandbox")).unwrap();
    insta::assert_snapshot!("unpinned_base__Dockerfile.sandbox", text(&bytes));
}

/// `.sandlint.toml` excludes what the agent and the sandbox write.
#[test]
fn config_excludes_workspace_and_output() {
    let (_tmp, proj, _) = init(&[]);
    std::fs::write(proj.join("workspace/Dockerfile"), "FROM ubuntu\n").unwrap();
    std::fs::write(
        proj.join("output/compose.yaml"),
        "services:\n  x:\n    privileged: true\n",
    )
    .unwrap();
    assert_clean(&proj, &[], "agent-written files");
}

#[test]
fn output_is_deterministic() {
    for template in TEMPLATES {
        let args = ["--template", template, "--with", "github,pre-commit"];
        let (_a, proj_a, _) = init(&args);
        let (_b, proj_b, _) = init(&args);
        assert_eq!(tree(&proj_a), tree(&proj_b), "{template}");
    }
}

#[test]
fn refuses_to_overwrite_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let proj = tmp.path().join("proj");
    std::fs::create_dir_all(proj.join("workspace")).unwrap();
    std::fs::write(proj.join("compose.yaml"), "mine\n").unwrap();
    std::fs::write(proj.join(".dockerignore"), "mine too\n").unwrap();
    let before = tree(&proj);

    let out = run_in(tmp.path(), &["init", "proj"]);
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!("refuses_to_overwrite", transcript(&out));
    assert_eq!(tree(&proj), before, "nothing was written");

    // The same with --dry-run: the conflict is reported, still exit 2.
    let out = run_in(tmp.path(), &["init", "proj", "--dry-run"]);
    assert_eq!(out.status.code(), Some(2), "{}", transcript(&out));
    assert_eq!(tree(&proj), before);

    // --force overwrites them and writes the rest.
    let out = run_in(tmp.path(), &["init", "proj", "--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", transcript(&out));
    insta::assert_snapshot!("force_overwrites", transcript(&out));
    let (_t2, fresh, _) = init(&[]);
    assert_eq!(
        tree(&proj),
        tree(&fresh),
        "same files as in an empty directory"
    );
}

#[test]
fn a_second_run_refuses_every_file() {
    let (tmp, proj, out) = init(&["--with", "github"]);
    assert_eq!(out.status.code(), Some(0));
    let before = tree(&proj);
    let out = run_in(tmp.path(), &["init", "proj", "--with", "github"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    for name in CORE_FILES
        .iter()
        .chain([".github/workflows/sandlint.yml"].iter())
    {
        assert!(
            stderr.contains(&format!("  {name}\n")),
            "{name} listed:\n{stderr}"
        );
    }
    assert_eq!(tree(&proj), before);
}

#[cfg(unix)]
#[test]
fn force_replaces_a_symlink_and_never_writes_through_it() {
    let tmp = tempfile::tempdir().unwrap();
    let proj = tmp.path().join("proj");
    std::fs::create_dir(&proj).unwrap();
    let outside = tmp.path().join("outside.txt");
    std::fs::write(&outside, "precious\n").unwrap();
    std::os::unix::fs::symlink(&outside, proj.join("compose.yaml")).unwrap();
    // A dangling link is an existing target too.
    std::os::unix::fs::symlink(tmp.path().join("nowhere"), proj.join(".dockerignore")).unwrap();

    let out = run_in(tmp.path(), &["init", "proj"]);
    assert_eq!(out.status.code(), Some(2), "{}", transcript(&out));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("  compose.yaml\n") && stderr.contains("  .dockerignore\n"));
    assert!(!tmp.path().join("nowhere").exists());

    let out = run_in(tmp.path(), &["init", "proj", "--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", transcript(&out));
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "precious\n");
    assert!(!tmp.path().join("nowhere").exists());
    let meta = std::fs::symlink_metadata(proj.join("compose.yaml")).unwrap();
    assert!(meta.is_file(), "the link itself was replaced by a file");
}

#[test]
fn dry_run_prints_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_in(
        tmp.path(),
        &[
            "init",
            "proj",
            "--dry-run",
            "--template",
            "node",
            "--with",
            "pre-commit",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", transcript(&out));
    assert!(!tmp.path().join("proj").exists(), "not even the directory");
    let stdout = text(&out.stdout);
    // The listing, then each file as it would be written.
    let (_t, proj, _) = init(&["--template", "node", "--with", "pre-commit"]);
    for (name, bytes) in tree(&proj) {
        let block = format!("\n==> {name} <==\n{}", text(&bytes));
        assert!(stdout.contains(&block), "{name} shown in full");
    }
    let head: String = stdout.split("\n==>").next().unwrap().to_string();
    insta::assert_snapshot!("dry_run_listing", head);

    // With --force over existing files: marked as overwrites, still nothing written.
    let (tmp, proj, _) = init(&[]);
    let before = tree(&proj);
    let out = run_in(tmp.path(), &["init", "proj", "--dry-run", "--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", transcript(&out));
    assert!(text(&out.stdout).contains("  compose.yaml (overwrite)\n"));
    assert_eq!(tree(&proj), before);
}

#[test]
fn usage_errors_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    for (args, needle) in [
        (&["init", "p", "--template", "cobol"][..], "invalid value"),
        (&["init", "p", "--with", "gitlab"][..], "invalid value"),
        (
            &["init", "p", "--base-image", "alpine\nRUN id"][..],
            "not an image reference",
        ),
        (&["init", "p", "--base-image", ""][..], "must not be empty"),
    ] {
        let out = run_in(tmp.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", transcript(&out));
        assert!(
            text(&out.stderr).contains(needle),
            "{args:?}: {}",
            transcript(&out)
        );
    }
    std::fs::write(tmp.path().join("afile"), "x").unwrap();
    let out = run_in(tmp.path(), &["init", "afile"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("not a directory"),
        "{}",
        transcript(&out)
    );
    assert_eq!(names(&tree(tmp.path())), ["afile"], "nothing was written");

    // A file where a directory must go is a conflict too.
    std::fs::create_dir(tmp.path().join("proj")).unwrap();
    std::fs::write(tmp.path().join("proj/output"), "x").unwrap();
    let out = run_in(tmp.path(), &["init", "proj"]);
    assert_eq!(out.status.code(), Some(2), "{}", transcript(&out));
    assert!(
        text(&out.stderr).contains("\n  output\n"),
        "{}",
        transcript(&out)
    );
    assert_eq!(names(&tree(&tmp.path().join("proj"))), ["output"]);
}

#[test]
fn defaults_to_the_current_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_in(tmp.path(), &["init"]);
    assert_eq!(out.status.code(), Some(0), "{}", transcript(&out));
    assert!(tmp.path().join("compose.yaml").is_file());
    assert!(!text(&out.stdout).contains("cd "), "no `cd` step for `.`");
}

/// `pre-commit` on PATH, or `None` (skip loudly) unless `SANDLINT_REQUIRE_PRECOMMIT=1`.
fn pre_commit_tool() -> Option<&'static str> {
    let found = Command::new("pre-commit")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Some("pre-commit");
    }
    common::skip_or_fail(
        "SANDLINT_REQUIRE_PRECOMMIT",
        "the generated pre-commit hook",
        "`pre-commit` is not on PATH (pip install pre-commit)",
    );
    None
}

/// The generated `.pre-commit-config.yaml` works today (issue 10 item 8): it points at no
/// release, and the real pre-commit runs it, with the built `sandlint` on PATH, in a fresh git
/// repository: a clean Dockerfile commits, a root one is refused with sandlint's finding.
#[test]
fn generated_pre_commit_hook_runs_under_real_pre_commit() {
    let (_tmp, proj, _) = init(&["--with", "pre-commit"]);
    let config = std::fs::read_to_string(proj.join(".pre-commit-config.yaml")).unwrap();
    assert!(config.contains("  - repo: local\n"), "{config}");
    assert!(config.contains("        language: system\n"), "{config}");
    assert!(
        !config
            .lines()
            .any(|l| !l.trim_start().starts_with('#') && l.contains("rev:")),
        "{config}"
    );
    let manifest = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    // the manifest's first hook anchors the pattern (`files: &files '…'`) for the second
    let files = manifest
        .lines()
        .find(|l| l.starts_with("  files: "))
        .unwrap()
        .replacen("files: &files ", "files: ", 1);
    assert!(
        config.contains(&format!("      {files}\n")),
        "files pattern differs from the manifest"
    );
    let Some(pc) = pre_commit_tool() else { return };

    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    std::fs::write(tmp.path().join("gitconfig"), "").unwrap();
    std::fs::copy(
        proj.join(".pre-commit-config.yaml"),
        repo.join(".pre-commit-config.yaml"),
    )
    .unwrap();
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_sandlint")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .current_dir(&repo)
            .env("PATH", &path)
            .env("GIT_CONFIG_GLOBAL", tmp.path().join("gitconfig"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .env("PRE_COMMIT_HOME", tmp.path().join("pre-commit-home"))
            .env_remove("SANDLINT_FORMAT")
            .env_remove("SANDLINT_FAIL_ON")
            .env_remove("SANDLINT_COLOR")
            .output()
            .unwrap()
    };
    let ok = |o: Output| {
        assert!(o.status.success(), "{}", transcript(&o));
        o
    };
    ok(run("git", &["init", "-q", "-b", "main"]));
    ok(run(pc, &["validate-config", ".pre-commit-config.yaml"]));
    ok(run(pc, &["install"]));
    ok(run("git", &["add", ".pre-commit-config.yaml"]));
    ok(run("git", &["commit", "-q", "-m", "config"]));

    std::fs::write(
        repo.join("Dockerfile"),
        "FROM alpine:3.20@sha256:beefdbd8a1da6d2915566fde36db9db0b524eb737fc57cd1367effd16dc0d06d\nUSER 10001:10001\n",
    )
    .unwrap();
    ok(run("git", &["add", "Dockerfile"]));
    let good = run("git", &["commit", "-m", "good"]);
    assert!(
        good.status.success(),
        "a clean Dockerfile must commit:\n{}",
        transcript(&good)
    );
    let shown = format!("{}{}", text(&good.stdout), text(&good.stderr));
    assert!(
        shown.contains("sandlint...") && shown.contains("Passed"),
        "the hook did not run:\n{shown}"
    );

    std::fs::create_dir(repo.join("app")).unwrap();
    std::fs::write(
        repo.join("app/Dockerfile"),
        "FROM ubuntu:24.04\nRUN apt-get update\n",
    )
    .unwrap();
    ok(run("git", &["add", "app/Dockerfile"]));
    let bad = run("git", &["commit", "-m", "bad"]);
    assert!(
        !bad.status.success(),
        "a root Dockerfile must not commit:\n{}",
        transcript(&bad)
    );
    let out = format!("{}{}", text(&bad.stdout), text(&bad.stderr));
    assert!(
        out.contains("SLD001") && out.contains("app/Dockerfile"),
        "{out}"
    );
    let log = ok(run("git", &["log", "--format=%s"]));
    assert_eq!(text(&log.stdout), "good\nconfig\n");
}

/// The generated workflow works without a release (issue 10 item 8): no `--tag v...` of a
/// release that does not exist, the binary cached on the version, the build only on a miss.
#[test]
fn generated_workflow_caches_the_binary_and_needs_no_release() {
    let (_tmp, proj, _) = init(&["--with", "github"]);
    let wf = std::fs::read_to_string(proj.join(".github/workflows/sandlint.yml")).unwrap();
    assert!(!wf.contains("--tag"), "{wf}");
    // YAML -> JSON through PyYAML (installed with pre-commit), the structure checked below.
    let py = Command::new("python3")
        .args([
            "-c",
            "import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))",
        ])
        .stdin(std::fs::File::open(proj.join(".github/workflows/sandlint.yml")).unwrap())
        .output();
    let doc: serde_json::Value = match py {
        Ok(o) if o.status.success() => serde_json::from_slice(&o.stdout).unwrap(),
        _ => {
            common::skip_or_fail(
                "SANDLINT_REQUIRE_PRECOMMIT",
                "the generated workflow's structure",
                "python3 with PyYAML is not available (pip install pre-commit)",
            );
            return;
        }
    };
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(doc["env"]["SANDLINT_VERSION"].as_str(), Some(version));
    let steps = doc["jobs"]["sandlint"]["steps"].as_array().unwrap();
    let cache = steps
        .iter()
        .find(|s| s["uses"].as_str() == Some("actions/cache@v4"))
        .expect("an actions/cache step");
    assert_eq!(cache["id"].as_str(), Some("sandlint-cache"));
    assert_eq!(
        cache["with"]["path"].as_str(),
        Some("~/.cargo/bin/sandlint")
    );
    let key = cache["with"]["key"].as_str().unwrap();
    assert!(
        key.contains("${{ env.SANDLINT_VERSION }}") && key.contains("${{ runner.os }}"),
        "{key}"
    );
    let miss = "steps.sandlint-cache.outputs.cache-hit != 'true'";
    let install = steps
        .iter()
        .find(|s| {
            s["run"]
                .as_str()
                .is_some_and(|r| r.contains("cargo install"))
        })
        .expect("a cargo install step");
    assert_eq!(install["if"].as_str(), Some(miss));
    let toolchain = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("dtolnay/rust-toolchain"))
        })
        .unwrap();
    assert_eq!(toolchain["if"].as_str(), Some(miss));
    let position = |pred: &dyn Fn(&serde_json::Value) -> bool| steps.iter().position(pred).unwrap();
    let cache_at = position(&|s| s["id"].as_str() == Some("sandlint-cache"));
    let check_at = position(&|s| {
        s["run"]
            .as_str()
            .is_some_and(|r| r.starts_with("sandlint check"))
    });
    assert!(cache_at < check_at);
}

// ---------------------------------------------------------------------------------------------
// Docker: the generic template on a minimal busybox base, run with the sandbox's isolation.

fn docker(args: &[&str]) -> Output {
    Command::new("docker").args(args).output().unwrap()
}

fn docker_ok(args: &[&str]) -> Output {
    let out = docker(args);
    assert!(
        out.status.success(),
        "docker {args:?}:\n{}",
        transcript(&out)
    );
    out
}

fn docker_available() -> bool {
    Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Removes the images and the container the test creates, on every exit path.
struct Cleanup {
    images: Vec<String>,
    container: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["rm", "-f", &self.container])
            .output();
        for image in &self.images {
            let _ = Command::new("docker").args(["rmi", "-f", image]).output();
        }
    }
}

/// The `docker run` flags for a Compose service, from the generated compose.yaml as sandlint
/// loads it. Every key of the service must be translated here: a key added to the template
/// without a translation fails the test instead of being silently dropped.
fn docker_run_flags(proj: &Path, service: &str) -> Vec<String> {
    use sandlint::compose::model::VolumeKind;

    let text = std::fs::read_to_string(proj.join("compose.yaml")).unwrap();
    let file = sandlint::compose::load(&text, &Default::default());
    assert!(file.errors.is_empty(), "{:?}", file.errors);
    let svc = file
        .services
        .iter()
        .find(|s| s.name.value == service)
        .unwrap();
    let known = |v: &Option<sandlint::compose::model::SValue>| {
        v.as_ref()
            .map(|v| v.value.known().unwrap().to_string())
            .unwrap()
    };
    let mut flags = Vec::new();
    for key in &svc.keys {
        match key.value.as_str() {
            "build" => {}
            "network_mode" => flags.extend(["--network".into(), known(&svc.network_mode)]),
            "user" => flags.extend(["--user".into(), known(&svc.user)]),
            "read_only" => {
                assert_eq!(known(&svc.read_only), "true");
                flags.push("--read-only".into());
            }
            "tmpfs" => {
                for t in &svc.tmpfs {
                    flags.extend(["--tmpfs".into(), t.value.known().unwrap().to_string()]);
                }
            }
            "cap_drop" => {
                for c in &svc.cap_drop {
                    flags.extend(["--cap-drop".into(), c.value.known().unwrap().to_string()]);
                }
            }
            "security_opt" => {
                for o in &svc.security_opt {
                    flags.extend([
                        "--security-opt".into(),
                        o.value.known().unwrap().to_string(),
                    ]);
                }
            }
            "init" => {
                assert_eq!(known(&svc.init), "true");
                flags.push("--init".into());
            }
            "mem_limit" => flags.extend(["--memory".into(), known(&svc.mem_limit)]),
            "cpus" => flags.extend(["--cpus".into(), known(&svc.cpus)]),
            "pids_limit" => flags.extend(["--pids-limit".into(), known(&svc.pids_limit)]),
            "volumes" => {
                for v in &svc.volumes {
                    assert_eq!(v.kind, VolumeKind::Bind);
                    let source = v.source.as_ref().unwrap().value.known().unwrap();
                    let target = v.target.as_ref().unwrap().value.known().unwrap();
                    let host = std::fs::canonicalize(proj.join(source)).unwrap();
                    let ro = if v.read_only { ":ro" } else { "" };
                    flags.extend(["-v".into(), format!("{}:{target}{ro}", host.display())]);
                }
            }
            other => panic!("service `{service}`: key `{other}` has no docker run translation"),
        }
    }
    flags
}

#[test]
fn generic_template_runs_isolated_on_busybox() {
    if !docker_available() {
        common::skip_or_fail(
            "SANDLINT_REQUIRE_DOCKER",
            "generic_template_runs_isolated_on_busybox",
            "no Docker daemon is reachable (`docker info` failed)",
        );
        return;
    }
    let busybox = Path::new("/usr/bin/busybox");
    assert!(
        busybox.is_file(),
        "a static /usr/bin/busybox is needed for the test image"
    );

    let unique = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let base = format!("sandlint-init-test-busybox:{unique}");
    let sandbox = format!("sandlint-init-test-sandbox:{unique}");
    let agent = format!("sandlint-init-test-agent:{unique}");
    let cleanup = Cleanup {
        images: vec![
            sandbox.clone(),
            agent.clone(),
            format!("sandlint-init-test-{unique}-sandbox"),
            base.clone(),
        ],
        container: format!("sandlint-init-test-{unique}"),
    };

    // A minimal base: FROM scratch + a static busybox and its applet links. No /etc, no
    // useradd/adduser, no package manager.
    let ctx = tempfile::tempdir().unwrap();
    std::fs::copy(busybox, ctx.path().join("busybox")).unwrap();
    std::fs::write(
        ctx.path().join("Dockerfile"),
        "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n",
    )
    .unwrap();
    docker_ok(&["build", "-q", "-t", &base, &ctx.path().to_string_lossy()]);

    // The directory name is the Compose project name, which names the image `sandlint run`
    // builds (`<project>-sandbox`): unique, and removed at the end.
    let project = format!("sandlint-init-test-{unique}");
    let (_tmp, proj, out) = init_named(&project, &["--template", "generic", "--base-image", &base]);
    assert_eq!(out.status.code(), Some(0), "{}", transcript(&out));
    let proj_s = proj.to_string_lossy().into_owned();
    for (dockerfile, tag) in [
        ("Dockerfile.sandbox", &sandbox),
        ("Dockerfile.agent", &agent),
    ] {
        let path = proj.join(dockerfile).to_string_lossy().into_owned();
        docker_ok(&["build", "-q", "-f", &path, "-t", tag, &proj_s]);
    }
    let config = docker_ok(&["image", "inspect", "--format", "{{json .Config}}", &sandbox]);
    let config: serde_json::Value = serde_json::from_slice(&config.stdout).unwrap();
    assert_eq!(config["User"], "10001:10001");
    assert!(config["Healthcheck"]["Test"].is_array(), "{config}");

    // As the next steps say: the shared directories belong to the containers' user.
    #[cfg(unix)]
    let chowned = std::os::unix::fs::chown(proj.join("workspace"), Some(10001), Some(10001))
        .and_then(|()| std::os::unix::fs::chown(proj.join("output"), Some(10001), Some(10001)))
        .is_ok();
    #[cfg(not(unix))]
    let chowned = false;

    let script = r#"
echo "uid=$(id -u)"
echo "gid=$(id -g)"
echo "ifaces=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\n' ' ')"
if touch /probe 2>/dev/null; then echo "rootfs=writable"; else echo "rootfs=readonly"; fi
if touch /code/probe 2>/dev/null; then echo "code=writable"; else echo "code=readonly"; fi
if touch /tmp/probe 2>/dev/null; then echo "tmp=writable"; else echo "tmp=readonly"; fi
cp /bin/busybox /tmp/bb && chmod +x /tmp/bb
if /tmp/bb true 2>/dev/null; then echo "tmpexec=yes"; else echo "tmpexec=no"; fi
if touch /workspace/probe 2>/dev/null; then echo "workspace=writable"; else echo "workspace=readonly"; fi
if touch /output/probe 2>/dev/null; then echo "output=writable"; else echo "output=readonly"; fi
grep -E '^(CapEff|NoNewPrivs):' /proc/self/status | tr -d '\t' | tr 'A-Z' 'a-z'
echo "pidone=$(cat /proc/1/comm)"
echo "memory=$(cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null)"
echo "pids=$(cat /sys/fs/cgroup/pids.max /sys/fs/cgroup/pids/pids.max 2>/dev/null)"
"#;
    let mut args: Vec<String> = vec![
        "run".into(),
        "--rm".into(),
        "--name".into(),
        cleanup.container.clone(),
    ];
    args.extend(docker_run_flags(&proj, "sandbox"));
    args.extend([sandbox.clone(), "sh".into(), "-c".into(), script.into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = docker_ok(&args);
    assert_isolated("docker run", &text(&out.stdout), chowned);

    // The same through `sandlint run --compose`, which builds the service's image, applies the
    // service's settings and verifies them. It re-checks the planned container without the
    // file's inline suppressions, so the two writable mounts must be allowed explicitly.
    let help = sandlint(&["run", "--help"]).output().unwrap();
    if text(&help.stdout).contains("--compose") {
        let out = sandlint(&[
            "run",
            "--compose",
            "compose.yaml",
            "--service",
            "sandbox",
            "--allow",
            "writable-bind-mount",
            "--",
            "sh",
            "-c",
            script,
        ])
        .current_dir(&proj)
        .output()
        .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "sandlint run:\n{}",
            transcript(&out)
        );
        assert_isolated("sandlint run", &text(&out.stdout), chowned);
    } else {
        eprintln!("SKIPPED the `sandlint run` leg: this build has no `sandlint run --compose`");
    }
    drop(cleanup);
}

/// Asserts the facts the probe script printed from inside the sandbox.
fn assert_isolated(how: &str, stdout: &str, chowned: bool) {
    eprintln!("inside the sandbox ({how}):\n{stdout}");
    let facts: std::collections::BTreeMap<&str, &str> = stdout
        .lines()
        .filter_map(|l| l.split_once(['=', ':']))
        .collect();
    let fact = |k: &str| {
        *facts
            .get(k)
            .unwrap_or_else(|| panic!("{how}: no `{k}` in:\n{stdout}"))
    };
    assert_eq!(fact("uid"), "10001", "non-root uid:\n{how}: {stdout}");
    assert_eq!(fact("gid"), "10001", "{how}: {stdout}");
    assert_eq!(
        fact("ifaces").trim(),
        "lo",
        "network none: only loopback:\n{how}: {stdout}"
    );
    assert_eq!(fact("rootfs"), "readonly", "{how}: {stdout}");
    assert_eq!(fact("code"), "readonly", "{how}: {stdout}");
    assert_eq!(fact("tmp"), "writable", "{how}: {stdout}");
    assert_eq!(fact("tmpexec"), "no", "/tmp is noexec:\n{how}: {stdout}");
    assert_eq!(
        fact("capeff"),
        "0000000000000000",
        "no capabilities:\n{how}: {stdout}"
    );
    assert_eq!(fact("nonewprivs"), "1", "{how}: {stdout}");
    assert_ne!(
        fact("pidone"),
        "sh",
        "init: true puts an init process at PID 1:\n{how}: {stdout}"
    );
    // mem_limit: 512m and pids_limit: 128 (cgroup v1 or v2 files).
    assert_eq!(
        fact("memory"),
        "536870912",
        "memory limit:\n{how}: {stdout}"
    );
    assert_eq!(fact("pids"), "128", "pids limit:\n{how}: {stdout}");
    if chowned {
        assert_eq!(fact("workspace"), "writable", "{how}: {stdout}");
        assert_eq!(fact("output"), "writable", "{how}: {stdout}");
    } else {
        eprintln!(
            "note: not root, so workspace/output were not chowned; their writability is not checked"
        );
    }
}
