//! `sandlint run` and `sandlint::sandbox`.
//!
//! Without a daemon: the profile's create body (insta JSON snapshot), its Compose rendering
//! linting clean, and refusals that happen before anything is created.
//!
//! With a daemon: `live_suite` builds a static-busybox image `FROM scratch` through the Engine
//! API, runs every scenario in parallel threads (through the real binary and the library), then
//! removes its images and checks that no container of this run is left. A missing daemon skips
//! loudly, and fails when `SANDLINT_REQUIRE_DOCKER=1` (CI). The fail-closed path is proven live
//! too: a proxy in front of the real daemon (`TamperProxy`) makes it "forget" the pids limit
//! after start, and sandlint must kill and remove the running container.
#![cfg(feature = "sandbox")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test on setup errors"
)]

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::query_parameters::{
    BuildImageOptionsBuilder, CreateContainerOptionsBuilder, ListContainersOptionsBuilder,
    RemoveContainerOptionsBuilder, RemoveImageOptionsBuilder,
};
use futures_util::StreamExt;
use sandlint::sandbox::profile::{BindMount, HardenedProfile, MountOrigin};
use sandlint::sandbox::{CheckStatus, Program, Sandbox, SandboxOptions};

mod common;
use common::text;

const BIN: &str = env!("CARGO_BIN_EXE_sandlint");
const RUN_LABEL: &str = "sandlint-test.run";

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/sandbox")
        .join(rel)
}

/// The binary with a daemon address that does not exist: proves a refusal happens before any
/// connection (so before any container could be created).
fn run_offline(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env(
            "DOCKER_HOST",
            "unix:///nonexistent/sandlint-test/docker.sock",
        )
        .output()
        .unwrap()
}

fn sample_profile() -> HardenedProfile {
    let mut p = HardenedProfile::new("example/sandbox:1.0");
    p.command = Some(vec!["python3".into(), "/sandlint/main.py".into()]);
    p.entrypoint = Some(vec![String::new()]);
    p.env = vec!["GREETING=hi".into()];
    p.mounts = vec![
        BindMount {
            source: "/home/u/project".into(),
            target: "/workspace".into(),
            read_only: false,
            origin: MountOrigin::Workspace,
        },
        BindMount {
            source: "/home/u/main.py".into(),
            target: "/sandlint/main.py".into(),
            read_only: true,
            origin: MountOrigin::Code,
        },
    ];
    p.working_dir = Some("/workspace".into());
    p.labels
        .insert("dev.sandlint.owner".to_string(), "host:1234".to_string());
    p
}

#[test]
fn profile_create_body_snapshot() {
    insta::with_settings!({sort_maps => true}, {
        insta::assert_json_snapshot!("profile_create_body", sample_profile().create_body());
    });
}

#[test]
fn profile_as_compose_snapshot_and_lints_clean() {
    let p = sample_profile();
    insta::assert_snapshot!("profile_as_compose", p.to_compose("sandbox"));
    let opts = SandboxOptions::new(
        "example/sandbox:1.0@sha256:0000000000000000000000000000000000000000000000000000000000000000",
    );
    let (_, report) = Sandbox::new(opts)
        .plan(&Program::Command(vec!["true".into()]))
        .unwrap();
    let errors: Vec<String> = report
        .refusing()
        .map(|d| format!("{}: {}", d.rule.name, d.message))
        .collect();
    assert!(
        errors.is_empty(),
        "the hardened default must pass: {errors:?}"
    );
}

#[test]
fn root_user_is_refused_before_anything_is_created() {
    let o = run_offline(&[
        "run",
        "--image",
        "busybox:stable",
        "--user",
        "0",
        "--",
        "id",
    ]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(125), "{err}");
    assert!(err.contains("service-root-user"), "{err}");
    assert!(err.contains("refused to run"), "{err}");
    assert!(
        !err.contains("cannot reach"),
        "refused before connecting: {err}"
    );

    let o = run_offline(&[
        "run",
        "--compose",
        fixture("root-user/compose.yaml").to_str().unwrap(),
        "--service",
        "app",
        "--",
        "id",
    ]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(125), "{err}");
    assert!(err.contains("service-root-user"), "{err}");

    // --allow-root lets the plan through; then the (missing) daemon is the failure.
    let o = run_offline(&[
        "run",
        "--image",
        "busybox:stable",
        "--user",
        "0",
        "--allow-root",
        "--",
        "id",
    ]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(125), "{err}");
    assert!(err.contains("cannot reach the Docker daemon"), "{err}");
}

#[test]
fn uid_zero_spellings_and_in_file_suppressions_are_refused_offline() {
    let o = run_offline(&[
        "run",
        "--image",
        "busybox:stable",
        "--user",
        "+0",
        "--",
        "id",
    ]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(125), "{err}");
    assert!(
        err.contains("service `sandbox` runs as root (`user: +0`)"),
        "{err}"
    );
    assert!(!err.contains("cannot reach"), "{err}");

    let o = run_offline(&[
        "run",
        "--compose",
        fixture("in-file-suppression/compose.yaml")
            .to_str()
            .unwrap(),
        "--service",
        "app",
        "--",
        "id",
    ]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(125), "{err}");
    assert!(err.contains("SLC007 service-root-user"), "{err}");
    assert!(err.contains("SLC009 container-socket-mount"), "{err}");
    assert!(
        err.contains("the Compose file's suppression of `service-root-user` does not apply"),
        "{err}"
    );
    assert!(!err.contains("cannot reach"), "{err}");
}

/// A writable Compose bind mount of a project subdirectory that holds none of the run's inputs
/// is scratch space (no `--allow` needed, but listed as a relaxation); one holding the Compose
/// file is refused.
#[test]
fn project_scratch_mounts_are_sandlints_decision() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("workspace")).unwrap();
    let compose = dir.path().join("compose.yaml");
    std::fs::write(
        &compose,
        "services:\n  s:\n    image: img:1\n    user: \"10001:10001\"\n    volumes:\n      - ./workspace:/workspace\n  t:\n    image: img:1\n    user: \"10001:10001\"\n    volumes:\n      - ./:/code\n",
    )
    .unwrap();
    let c = compose.to_str().unwrap();
    let o = run_offline(&["run", "--compose", c, "--service", "s", "--dry-run"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("sandlint: warning: `writable-bind-mount` relaxed by project-scratch"),
        "{err}"
    );
    let o = run_offline(&["run", "--compose", c, "--service", "t", "--dry-run"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(125), "{err}");
    assert!(err.contains("SLC010 writable-bind-mount"), "{err}");
}

/// A named volume whose `local` driver binds a host path is mounted as that bind, so the
/// mount rules judge the host path: it never reaches the daemon as a volume to create.
#[test]
fn named_volume_host_binds_are_the_binds_they_are() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("workspace")).unwrap();
    let compose = dir.path().join("compose.yaml");
    let workspace = dir.path().join("workspace");
    std::fs::write(
        &compose,
        format!(
            "services:\n  etc:\n    image: img:1\n    user: \"10001:10001\"\n    volumes: [host-etc:/host/etc:ro]\n  rel:\n    image: img:1\n    user: \"10001:10001\"\n    volumes: [rel:/r]\n  ws:\n    image: img:1\n    user: \"10001:10001\"\n    volumes: [ws:/workspace]\n  plain:\n    image: img:1\n    user: \"10001:10001\"\n    volumes: [data:/data]\n  proj:\n    image: img:1\n    user: \"10001:10001\"\n    volumes: [proj:/workspace]\nvolumes:\n  host-etc:\n    driver_opts: {{type: none, o: bind, device: /etc}}\n  rel:\n    driver_opts: {{type: none, o: bind, device: ./workspace}}\n  ws:\n    driver_opts: {{type: none, o: \"bind,ro\", device: \"{}\"}}\n  data:\n  proj:\n    driver: local\n    driver_opts: {{type: none, o: bind, device: ./workspace}}\n",
            workspace.display()
        ),
    )
    .unwrap();
    let c = compose.to_str().unwrap();
    let dry =
        |service: &str| run_offline(&["run", "--compose", c, "--service", service, "--dry-run"]);
    let o = dry("etc");
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(125), "{err}");
    assert!(err.contains("SLC014 sensitive-host-path-mount"), "{err}");
    let o = dry("rel");
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(125), "{err}");
    assert!(
        flat(&err).contains("service `rel`: named volume `rel` binds `./workspace`, a path relative to the Docker daemon's directory"),
        "{err}"
    );
    // read-only through the volume's `o:`: mounted as a read-only bind of the directory
    let o = dry("ws");
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    let canonical = std::fs::canonicalize(&workspace).unwrap();
    assert!(
        flat(&out).contains(&format!(
            "- type: bind source: \"{}\" target: \"/workspace\" read_only: true",
            canonical.display()
        )),
        "{out}"
    );
    // `driver: local` and `o: bind`: Compose resolves the device in the project (scratch here)
    let o = dry("proj");
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(
        flat(&out).contains(&format!(
            "- type: bind source: \"{}\" target: \"/workspace\" read_only: false",
            canonical.display()
        )),
        "{out}"
    );
    // a named volume that is not a bind is still refused
    let o = dry("plain");
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(125), "{err}");
    assert!(
        err.contains("only bind and tmpfs volumes are supported"),
        "{err}"
    );
}

#[test]
fn privileged_service_is_refused_before_anything_is_created() {
    let o = run_offline(&[
        "run",
        "--json",
        "--compose",
        fixture("privileged/compose.yaml").to_str().unwrap(),
        "--service",
        "app",
        "--",
        "true",
    ]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(125), "{err}");
    assert!(err.contains("privileged-container"), "{err}");
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["exit_code"], 125);
    assert_eq!(json["error"]["code"], "sandlint::sandbox::refused");
}

#[test]
fn unreachable_daemon_names_docker_host() {
    let o = run_offline(&["run", "--image", "busybox:stable", "--", "true"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(125), "{err}");
    assert!(
        err.contains("unix:///nonexistent/sandlint-test/docker.sock"),
        "{err}"
    );
    assert!(err.contains("DOCKER_HOST"), "{err}");
}

#[test]
fn unknown_allow_rule_is_an_error() {
    let o = run_offline(&[
        "run",
        "--image",
        "x",
        "--allow",
        "privileged-contaner",
        "--",
        "true",
    ]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(125), "{err}");
    assert!(err.contains("did you mean `privileged-container`"), "{err}");
}

/// A rendered error as one line: miette's wrapping and gutters removed.
fn flat(s: &str) -> String {
    s.replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A project with the init-style sandbox service (a service mount on /workspace, `networks:`).
fn first_hour_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("workspace")).unwrap();
    std::fs::create_dir(dir.path().join("other")).unwrap();
    std::fs::write(
        dir.path().join("compose.yaml"),
        "services:\n  sandbox:\n    image: img:1\n    user: \"10001:10001\"\n    network_mode: none\n    volumes:\n      - ./workspace:/workspace\n  agent:\n    image: img:1\n    user: \"10001:10001\"\n    networks: [egress]\nnetworks:\n  egress: {}\n",
    )
    .unwrap();
    dir
}

#[test]
fn workspace_flag_replaces_the_services_mount_on_the_same_target() {
    let dir = first_hour_project();
    let compose = dir.path().join("compose.yaml");
    let other = dir.path().join("other");
    let o = run_offline(&[
        "run",
        "--compose",
        compose.to_str().unwrap(),
        "--service",
        "sandbox",
        "--workspace",
        other.to_str().unwrap(),
        "--dry-run",
        "--",
        "true",
    ]);
    let out = text(&o.stdout);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    // one mount on /workspace, the flag's
    assert_eq!(out.matches("target: \"/workspace\"").count(), 1, "{out}");
    let real = std::fs::canonicalize(&other).unwrap();
    assert!(
        out.contains(&format!("source: \"{}\"", real.display())),
        "{out}"
    );
    let ws = std::fs::canonicalize(dir.path().join("workspace")).unwrap();
    assert!(
        err.contains(&format!(
            "sandlint: note: --workspace {} replaces the service's mount of {} on /workspace (writable)",
            other.display(),
            ws.display()
        )),
        "{err}"
    );
    // two flags on one target are a mistake, said before anything runs
    let o = run_offline(&[
        "run",
        "--json",
        "--image",
        "img:1",
        "--mount",
        &format!("{}:/workspace:rw", other.display()),
        "--workspace",
        other.to_str().unwrap(),
        "--",
        "true",
    ]);
    assert_eq!(o.status.code(), Some(125), "{}", text(&o.stderr));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        j["error"]["message"],
        format!(
            "--mount {0}:/workspace and --workspace {0} both mount on /workspace: give one of them",
            other.display()
        )
    );
}

#[test]
fn dry_run_says_what_it_does_not_know_and_what_it_drops() {
    let dir = first_hour_project();
    let compose = dir.path().join("compose.yaml");
    // no daemon: the image's user is not resolved, and the output says so
    let o = run_offline(&["run", "--image", "img:1", "--dry-run", "--", "true"]);
    let out = text(&o.stdout);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(
        out.contains("    # user: image default (the image's non-root USER, else 65534:65534; not resolved)\n"),
        "{out}"
    );
    assert!(!out.contains("    user: "), "{out}");
    assert!(
        err.contains("sandlint: note: user: image default (the image's non-root USER, else 65534:65534); not resolved: cannot reach the Docker daemon"),
        "{err}"
    );
    // a service's `networks:` are not silently dropped
    let o = run_offline(&[
        "run",
        "--compose",
        compose.to_str().unwrap(),
        "--service",
        "agent",
        "--dry-run",
        "--",
        "true",
    ]);
    let out = text(&o.stdout);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(out.contains("network_mode: \"none\""), "{out}");
    assert!(
        err.contains("sandlint: note: network: none (the service's `networks:` (egress) are not used; --network to opt in)"),
        "{err}"
    );
    // `--network` given: no such note
    let o = run_offline(&[
        "run",
        "--compose",
        compose.to_str().unwrap(),
        "--service",
        "agent",
        "--network",
        "none",
        "--dry-run",
    ]);
    assert!(
        !text(&o.stderr).contains("networks:"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn refusals_name_the_flag_that_accepts_them() {
    let o = run_offline(&[
        "run",
        "--image",
        "img:1",
        "--network",
        "bridge",
        "--",
        "true",
    ]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(125), "{err}");
    assert!(err.contains("SLC032 network-not-isolated"), "{err}");
    assert!(
        flat(&err).contains("help: change the settings, or accept the risk explicitly with `--allow network-not-isolated`"),
        "{err}"
    );
    let o = run_offline(&[
        "run",
        "--image",
        "img:1",
        "--network",
        "bridge",
        "--dry-run",
    ]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(125), "{err}");
    assert!(
        err.contains("sandlint: change the settings, or accept the risk explicitly with `--allow network-not-isolated`"),
        "{err}"
    );
    // root: the flag is --allow-root
    let o = run_offline(&[
        "run", "--json", "--image", "img:1", "--user", "root", "--", "true",
    ]);
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        j["error"]["help"],
        "change the settings, or accept the risk explicitly with `--allow-root`"
    );
}

/// A service's `cgroup_parent` (`custom-cgroup-parent`) is never taken into the run silently:
/// the sandbox stays under the daemon's cgroup parent and a note says where the file sets the
/// key, also when an override file sets it. The invoker's run configuration has no such key:
/// `cgroup_parent` there is a located error.
#[test]
fn cgroup_parent_is_not_applied_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("compose.yaml"),
        "services:\n  s:\n    image: img:1\n    user: \"10001:10001\"\n    cgroup_parent: batch.slice\n  t:\n    image: img:1\n    user: \"10001:10001\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("compose.override.yaml"),
        "services:\n  t:\n    cgroup_parent: \"/escape\"\n",
    )
    .unwrap();
    let compose = dir.path().join("compose.yaml");
    let c = compose.to_str().unwrap();
    let o = run_offline(&["run", "--compose", c, "--service", "s", "--dry-run"]);
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(!out.contains("cgroup"), "{out}");
    assert!(
        err.contains("sandlint: note: cgroup parent: the daemon's (the service's `cgroup_parent: batch.slice` at "),
        "{err}"
    );
    assert!(err.contains("compose.yaml:5:20 is not used)"), "{err}");
    let o = run_offline(&["run", "--compose", c, "--service", "t", "--dry-run"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("`cgroup_parent: /escape` at ")
            && err.contains("compose.override.yaml:3:20 is not used)"),
        "{err}"
    );
    // the invoker's run configuration (outside the project) accepts no such key
    let outside = tempfile::tempdir().unwrap();
    let config = outside.path().join("run.toml");
    std::fs::write(&config, "allow = []\ncgroup_parent = \"batch.slice\"\n").unwrap();
    let o = run_offline(&[
        "run",
        "--compose",
        c,
        "--service",
        "s",
        "--config",
        config.to_str().unwrap(),
        "--dry-run",
    ]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(125), "{err}");
    assert!(err.contains("unknown field `cgroup_parent`"), "{err}");
    assert!(err.contains("line 2, column 1"), "{err}");
}

/// `run --compose` decides about every service key, through the CLI: an ignored key is a
/// located note, a refused one a located error (exit 125) before any connection, a host
/// namespace a refusal by the rules (whose help names the `--allow` that accepts it).
#[test]
fn every_service_key_is_applied_refused_or_noted_offline() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("compose.yaml"),
        "services:\n  s:\n    image: img:1\n    user: \"10001:10001\"\n    restart: always\n  r:\n    image: img:1\n    userns_mode: host\n  u:\n    image: img:1\n    uts: host\n  y:\n    image: img:1\n    sysctls: [net.ipv4.ip_forward=1]\n",
    )
    .unwrap();
    let compose = dir.path().join("compose.yaml");
    let c = compose.to_str().unwrap();
    let o = run_offline(&["run", "--compose", c, "--service", "s", "--dry-run"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("sandlint: note: `restart` at ")
            && err
                .contains("compose.yaml:5:5 is not used: a one-shot sandbox is never restarted\n"),
        "{err}"
    );
    let o = run_offline(&["run", "--compose", c, "--service", "y", "--", "true"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(125), "{err}");
    assert!(
        err.contains(
            "compose.yaml:14:15: service `y` sets `sysctls: net.ipv4.ip_forward=1`, which\n"
        ),
        "{err}"
    );
    for (service, rule) in [
        ("r", "host-namespace-shared"),
        ("u", "host-uts-or-cgroup-namespace"),
    ] {
        let o = run_offline(&["run", "--compose", c, "--service", service, "--", "true"]);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(125), "{err}");
        assert!(
            err.contains(&format!(" {rule}\n"))
                && err.contains("refused to run: the planned container has 1 error-level finding")
                && err.contains("`--allow host-"),
            "{err}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Live tests.

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

async fn connect() -> Option<Docker> {
    let docker = Docker::connect_with_defaults().ok()?;
    let docker = tokio::time::timeout(Duration::from_secs(10), docker.negotiate_version())
        .await
        .ok()?
        .ok()?;
    docker.ping().await.ok()?;
    Some(docker)
}

fn find_busybox() -> Option<PathBuf> {
    ["/usr/bin/busybox", "/bin/busybox", "/usr/local/bin/busybox"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

/// A static program printing its effective uid, or `None` when no C compiler with a static
/// libc is available.
fn compile_euid(dir: &Path) -> Option<PathBuf> {
    let src = dir.join("euid.c");
    std::fs::write(
        &src,
        "#include <stdio.h>\n#include <unistd.h>\nint main(void){printf(\"euid=%d\\n\",(int)geteuid());return 0;}\n",
    )
    .ok()?;
    let out = dir.join("euid");
    let ok = Command::new("cc")
        .args(["-static", "-O2", "-o"])
        .arg(&out)
        .arg(&src)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok.then_some(out)
}

async fn build(docker: &Docker, dir: &Path, tag: &str) -> Result<(), String> {
    let tar =
        sandlint::sandbox::context::tar_context(dir, "Dockerfile").map_err(|e| e.to_string())?;
    let opts = BuildImageOptionsBuilder::new()
        .dockerfile("Dockerfile")
        .t(tag)
        .rm(true)
        .forcerm(true)
        .build();
    let mut stream = docker.build_image(opts, None, Some(bollard::body_full(tar.into())));
    while let Some(item) = stream.next().await {
        let info = item.map_err(|e| e.to_string())?;
        if let Some(d) = info.error_detail {
            return Err(d.message.unwrap_or_default());
        }
    }
    Ok(())
}

struct Env {
    image: String,
    user_image: String,
    /// `USER toor`, uid 0 in the image's own /etc/passwd.
    toor_image: String,
    run_id: String,
    has_euid: bool,
}

impl Env {
    fn label(&self) -> String {
        format!("{RUN_LABEL}={}", self.run_id)
    }

    /// `sandlint run --label <run> <args>`.
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.arg("run").arg("--label").arg(self.label()).args(args);
        c
    }

    fn run(&self, args: &[&str]) -> (Output, Duration) {
        let start = Instant::now();
        let o = self.cmd(args).output().unwrap();
        (o, start.elapsed())
    }

    fn json(&self, args: &[&str]) -> Result<serde_json::Value, String> {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let (o, _) = self.run(&all);
        serde_json::from_slice(&o.stdout).map_err(|e| {
            format!(
                "no JSON ({e}); exit {:?}; stdout {}; stderr {}",
                o.status.code(),
                text(&o.stdout),
                text(&o.stderr)
            )
        })
    }
}

macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err(format!($($fmt)+));
        }
    };
}

type Scenario = fn(&Env) -> Result<(), String>;

fn isolation(env: &Env) -> Result<(), String> {
    let script = "id -u; touch /x 2>/dev/null && echo ROOT-WRITABLE; touch /tmp/ok && echo TMP-OK; \
        cp /bin/busybox /tmp/bb && /tmp/bb true 2>/dev/null && echo TMP-EXEC; \
        echo IFACES $(ls /sys/class/net); grep NoNewPrivs /proc/self/status; \
        if nc -w 2 1.1.1.1 80 </dev/null 2>/dev/null; then echo NET-OK; else echo NET-FAIL; fi; \
        [ -x /suid/euid ] && /suid/euid; sleep 1; true";
    let j = env.json(&["--image", &env.image, "--", "sh", "-c", script])?;
    let out = j["stdout"].as_str().unwrap_or_default();
    ensure!(j["exit_code"] == 0, "exit {}: {j}", j["exit_code"]);
    let uid = out.lines().next().unwrap_or_default();
    ensure!(uid == "65534", "uid {uid:?} (want 65534, not 0): {out}");
    ensure!(!out.contains("ROOT-WRITABLE"), "/ is writable: {out}");
    ensure!(out.contains("TMP-OK"), "/tmp not writable: {out}");
    ensure!(!out.contains("TMP-EXEC"), "/tmp is not noexec: {out}");
    ensure!(
        out.contains("IFACES lo\n"),
        "interfaces other than lo: {out}"
    );
    ensure!(out.contains("NoNewPrivs:\t1"), "NoNewPrivs not set: {out}");
    ensure!(out.contains("NET-FAIL"), "a connection succeeded: {out}");
    if env.has_euid {
        ensure!(
            out.contains("euid=65534"),
            "setuid-root binary gained privileges: {out}"
        );
    }
    let failed = j["verification"]["failed"].as_array().map_or(0, Vec::len);
    ensure!(failed == 0, "degraded: {}", j["verification"]);
    // The uid comes from the kernel (the script ends with `sleep 1`: its processes are there
    // when sandlint looks, right after start).
    ensure!(
        j["uid"]["uid"] == 65534 && j["uid"]["source"] == "kernel",
        "uid not verified from the kernel: {}",
        j["uid"]
    );
    let verified: Vec<&str> = j["verification"]["verified"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    for want in [
        "user",
        "not-privileged",
        "read-only-rootfs",
        "network",
        "cap-drop",
        "no-new-privileges",
        "memory",
        "memory-swap",
        "pids-limit",
        "no-socket-mount",
        "uid",
    ] {
        ensure!(
            verified.contains(&want),
            "{want} not verified: {verified:?}"
        );
    }
    Ok(())
}

fn fork_bomb(env: &Env) -> Result<(), String> {
    let (o, took) = env.run(&[
        "--image",
        &env.image,
        "--pids",
        "48",
        "--timeout",
        "8s",
        "--",
        "sh",
        "-c",
        "b() { b | b & }; b; sleep 1; echo survived",
    ]);
    let err = text(&o.stderr);
    ensure!(
        took < Duration::from_secs(25),
        "the run did not end: {took:?}"
    );
    ensure!(
        err.contains("can't fork") || err.contains("Resource temporarily unavailable"),
        "the pids limit was never hit (exit {:?}): {err}",
        o.status.code()
    );
    Ok(())
}

fn oom(env: &Env) -> Result<(), String> {
    let j = env.json(&[
        "--image",
        &env.image,
        "--memory",
        "24m",
        "--timeout",
        "30s",
        "--",
        "sh",
        "-c",
        "tail /dev/zero",
    ])?;
    ensure!(j["exit_code"] == 137, "exit {}: {j}", j["exit_code"]);
    ensure!(j["oom_killed"] == true, "oom_killed not reported: {j}");
    ensure!(j["timed_out"] == false, "{j}");
    Ok(())
}

fn timeout(env: &Env) -> Result<(), String> {
    let (o, took) = env.run(&[
        "--image",
        &env.image,
        "--timeout",
        "2s",
        "--",
        "sleep",
        "600",
    ]);
    ensure!(
        o.status.code() == Some(124),
        "exit {:?}: {}",
        o.status.code(),
        text(&o.stderr)
    );
    // Ends at the timeout, not at the command's end (600 s). The bound leaves room for the 18
    // other scenarios running at the same time on a small, shared CI box.
    ensure!(took < Duration::from_secs(12), "took {took:?}");
    let j = env.json(&[
        "--image",
        &env.image,
        "--timeout",
        "1s",
        "--",
        "sleep",
        "600",
    ])?;
    ensure!(j["timed_out"] == true && j["exit_code"] == 124, "{j}");
    Ok(())
}

fn output_flood(env: &Env) -> Result<(), String> {
    let script = "yes | head -c 200000; yes e | head -c 50000 >&2";
    let j = env.json(&[
        "--image",
        &env.image,
        "--output-limit",
        "1000",
        "--",
        "sh",
        "-c",
        script,
    ])?;
    let out = j["stdout"].as_str().unwrap_or_default();
    let err = j["stderr"].as_str().unwrap_or_default();
    ensure!(
        out.len() == 1000 && err.len() == 1000,
        "{} / {} bytes",
        out.len(),
        err.len()
    );
    ensure!(
        j["truncated"]["stdout"] == true && j["truncated"]["stderr"] == true,
        "{}",
        j["truncated"]
    );
    // Live output is capped too.
    let (o, _) = env.run(&[
        "--image",
        &env.image,
        "--output-limit",
        "1000",
        "--",
        "sh",
        "-c",
        script,
    ]);
    ensure!(
        o.stdout.len() == 1000,
        "live stdout {} bytes",
        o.stdout.len()
    );
    ensure!(
        text(&o.stderr).contains("stdout truncated at 1000 bytes"),
        "{}",
        text(&o.stderr)
    );
    Ok(())
}

fn library(env: &Env) -> Result<(), String> {
    let mut opts = SandboxOptions::new(env.image.clone());
    opts.labels = BTreeMap::from([(RUN_LABEL.to_string(), env.run_id.clone())]);
    opts.pids = Some(64);
    let r = Sandbox::new(opts)
        .run("echo hello; id -u; exit 3")
        .map_err(|e| e.to_string())?;
    ensure!(r.exit_code == 3, "{r:?}");
    ensure!(r.stdout == "hello\n65534\n", "{:?}", r.stdout);
    let pids = r
        .verification
        .checks
        .iter()
        .find(|c| c.name == "pids-limit");
    ensure!(
        pids.is_some_and(|c| c.status == CheckStatus::Verified && c.expected == "64"),
        "{pids:?}"
    );
    Ok(())
}

fn image_user(env: &Env) -> Result<(), String> {
    let j = env.json(&["--image", &env.user_image, "--", "id", "-u"])?;
    ensure!(j["stdout"] == "4321\n", "{j}");
    ensure!(j["user"] == "4321:4321", "{j}");
    Ok(())
}

/// The README's own example on what `sandlint init` writes (issue 10, items 5 and 6, and stdin):
/// `sandlint run --compose compose.yaml --service sandbox --workspace ./workspace -- CMD`, run
/// in the project exactly so. The service mounts ./workspace on /workspace too (the daemon
/// refused the duplicate); the shared directories belong to the caller, not the service's
/// 10001 (it could not write them), so the run uses their owner and says so.
fn readme_run_on_init_output(env: &Env) -> Result<(), String> {
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let name = format!("firsthour{}", env.run_id.replace('-', ""));
    let proj = tmp.path().join(&name);
    let o = Command::new(BIN)
        .args(["init", "--template", "generic", "--base-image", &env.image])
        .arg(&proj)
        .output()
        .map_err(|e| e.to_string())?;
    ensure!(o.status.success(), "init: {}", text(&o.stderr));
    // As a normal user's checkout: the shared directories belong to the caller (uid 1000 when
    // the test runs as root, which owns them otherwise).
    #[cfg(unix)]
    if std::fs::metadata(&proj)
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
    {
        for d in ["workspace", "output"] {
            std::os::unix::fs::chown(proj.join(d), Some(1000), Some(1000))
                .map_err(|e| e.to_string())?;
        }
    }
    let owner = std::fs::metadata(proj.join("workspace"))
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m))
        .map_err(|e| e.to_string())?;
    let mut child = Command::new(BIN)
        .args([
            "run",
            "--compose",
            "compose.yaml",
            "--service",
            "sandbox",
            "--workspace",
            "./workspace",
            "--",
            "sh",
            "-c",
            "id -u; cat > /workspace/in.txt; echo done > /output/out.txt; cat /workspace/in.txt",
        ])
        .current_dir(&proj)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    {
        use std::io::Write;
        let mut input = child.stdin.take().ok_or("no stdin")?;
        input
            .write_all(b"from stdin\n")
            .map_err(|e| e.to_string())?;
    }
    let o = child.wait_with_output().map_err(|e| e.to_string())?;
    let image = format!("{name}-sandbox");
    let _ = Command::new("docker")
        .args(["image", "rm", "-f", &image])
        .output();
    let out = text(&o.stdout);
    let err = text(&o.stderr);
    ensure!(
        o.status.code() == Some(0),
        "exit {:?}: {out}{err}",
        o.status.code()
    );
    ensure!(
        out == format!("{owner}\nfrom stdin\n"),
        "stdout: {out:?}\n{err}"
    );
    let ws = std::fs::canonicalize(proj.join("workspace")).map_err(|e| e.to_string())?;
    ensure!(
        err.contains(&format!(
            "sandlint: note: --workspace ./workspace replaces the service's mount of {} on /workspace (writable)",
            ws.display()
        )),
        "{err}"
    );
    if owner != 10001 {
        ensure!(
            err.contains(&format!(
                "sandlint: note: user: {owner}:{owner}, the owner of "
            )),
            "{err}"
        );
    }
    let written = std::fs::read_to_string(proj.join("output/out.txt")).unwrap_or_default();
    ensure!(written == "done\n", "output/out.txt: {written:?}");
    Ok(())
}

/// A workspace the container's user cannot write is refused before start, saying what to do.
fn unwritable_workspace_is_refused(env: &Env) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let ws = dir.path().join("ws");
    std::fs::create_dir(&ws).map_err(|e| e.to_string())?;
    Command::new("chmod")
        .arg("0755")
        .arg(&ws)
        .status()
        .map_err(|e| e.to_string())?;
    let meta = std::fs::metadata(&ws).map_err(|e| e.to_string())?;
    let (owner, group) = (
        std::os::unix::fs::MetadataExt::uid(&meta),
        std::os::unix::fs::MetadataExt::gid(&meta),
    );
    let real = std::fs::canonicalize(&ws).map_err(|e| e.to_string())?;
    let shown = real.display();
    // the invoker named the user: not changed, refused before start
    let j = env.json(&[
        "--image",
        &env.image,
        "--user",
        "4321:4321",
        "--workspace",
        ws.to_str().unwrap_or_default(),
        "--",
        "touch",
        "/workspace/x",
    ])?;
    ensure!(j["exit_code"] == 125, "{j}");
    ensure!(
        j["error"]["code"] == "sandlint::sandbox::workspace_not_writable",
        "{j}"
    );
    ensure!(
        j["error"]["message"]
            == format!(
                "refused to run: the container's user 4321:4321 cannot write {shown} (owner {owner}:{group}, mode 755)"
            ),
        "{j}"
    );
    let root_hint = format!(
        "make it writable for that user: `sudo chown 4321:4321 {shown}` (it belongs to root, and sandlint does not run as root), or run as a user that can write it: `--user UID:GID`"
    );
    let owner_hint = format!(
        "make it writable for that user: `sudo chown 4321:4321 {shown}`, or run as its owner: `--user {owner}:{group}`"
    );
    let hint = if owner == 0 { root_hint } else { owner_hint };
    ensure!(j["error"]["help"] == hint.as_str(), "{j}");
    ensure!(!real.join("x").exists(), "written");
    // the default user on a root-owned directory: root is never chosen
    if owner == 0 {
        let j = env.json(&[
            "--image",
            &env.image,
            "--workspace",
            ws.to_str().unwrap_or_default(),
            "--",
            "touch",
            "/workspace/x",
        ])?;
        ensure!(
            j["error"]["message"]
                == format!(
                    "refused to run: the container's user 65534:65534 cannot write {shown} (owner 0:{group}, mode 755)"
                ),
            "{j}"
        );
        ensure!(
            j["error"]["help"]
                .as_str()
                .is_some_and(|h| h.starts_with(&format!("make it writable for that user: `sudo chown 65534:65534 {shown}` (it belongs to root"))),
            "{j}"
        );
    }
    Ok(())
}

fn stdin_reaches_the_command(env: &Env) -> Result<(), String> {
    let mut child = env
        .cmd(&["--image", &env.image, "--timeout", "20s", "--", "cat"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    {
        use std::io::Write;
        let mut input = child.stdin.take().ok_or("no stdin")?;
        input.write_all(b"hi\n").map_err(|e| e.to_string())?;
    }
    let start = Instant::now();
    let o = child.wait_with_output().map_err(|e| e.to_string())?;
    ensure!(
        o.status.code() == Some(0) && text(&o.stdout) == "hi\n",
        "exit {:?}: {}{}",
        o.status.code(),
        text(&o.stdout),
        text(&o.stderr)
    );
    ensure!(
        start.elapsed() < Duration::from_secs(15),
        "cat waited: {:?}",
        start.elapsed()
    );
    // an endless input is passed up to the output cap, then closed: cat ends
    let mut child = env
        .cmd(&[
            "--image",
            &env.image,
            "--timeout",
            "20s",
            "--output-limit",
            "64k",
            "--",
            "cat",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut input = child.stdin.take().ok_or("no stdin")?;
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let line = [b'y', b'\n'].repeat(4096);
        while input.write_all(&line).is_ok() {}
    });
    let start = Instant::now();
    let o = child.wait_with_output().map_err(|e| e.to_string())?;
    let _ = writer.join();
    ensure!(
        o.status.code() == Some(0) && o.stdout.len() == 65536,
        "exit {:?}, {} bytes: {}",
        o.status.code(),
        o.stdout.len(),
        text(&o.stderr)
    );
    ensure!(
        start.elapsed() < Duration::from_secs(15),
        "endless stdin: {:?}",
        start.elapsed()
    );
    // no input (stdin is /dev/null): cat ends at once
    let (o, t) = env.run(&["--image", &env.image, "--timeout", "20s", "--", "cat"]);
    ensure!(
        o.status.code() == Some(0) && o.stdout.is_empty() && t < Duration::from_secs(15),
        "exit {:?} after {t:?}: {}",
        o.status.code(),
        text(&o.stderr)
    );
    Ok(())
}

/// `--dry-run` shows the user the run will use: the image's own USER, from the daemon.
fn dry_run_resolves_the_image_user(env: &Env) -> Result<(), String> {
    let (o, _) = env.run(&["--image", &env.user_image, "--dry-run", "--", "id"]);
    let out = text(&o.stdout);
    let err = text(&o.stderr);
    ensure!(
        o.status.code() == Some(0),
        "exit {:?}: {err}",
        o.status.code()
    );
    ensure!(out.contains("    user: \"4321:4321\"\n"), "{out}");
    ensure!(
        err.contains("sandlint: note: user: 4321:4321 (the image's USER, a numeric user spec)"),
        "{err}"
    );
    let (o, _) = env.run(&["--image", &env.image, "--dry-run", "--", "id"]);
    let out = text(&o.stdout);
    ensure!(out.contains("    user: \"65534:65534\"\n"), "{out}");
    ensure!(
        text(&o.stderr).contains("the image sets no USER, so 65534:65534 is used"),
        "{}",
        text(&o.stderr)
    );
    Ok(())
}

fn file_and_workspace(env: &Env) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let ws = dir.path().join("ws");
    std::fs::create_dir(&ws).map_err(|e| e.to_string())?;
    // the container user must be able to write the workspace
    Command::new("chmod")
        .arg("0777")
        .arg(&ws)
        .status()
        .map_err(|e| e.to_string())?;
    let script = dir.path().join("job.sh");
    std::fs::write(
        &script,
        "pwd; echo \"$1\" > out.txt; echo tamper >> \"$0\" 2>/dev/null && echo SCRIPT-WRITABLE; echo done\n",
    )
    .map_err(|e| e.to_string())?;
    let j = env.json(&[
        "--image",
        &env.image,
        "--file",
        script.to_str().unwrap_or_default(),
        "--workspace",
        ws.to_str().unwrap_or_default(),
        "--",
        "from-args",
    ])?;
    let out = j["stdout"].as_str().unwrap_or_default();
    ensure!(j["exit_code"] == 0, "{j}");
    ensure!(out.starts_with("/workspace\n"), "{out}");
    ensure!(
        !out.contains("SCRIPT-WRITABLE"),
        "--file is writable: {out}"
    );
    let written = std::fs::read_to_string(ws.join("out.txt")).unwrap_or_default();
    ensure!(written == "from-args\n", "workspace file: {written:?}");
    let j = env.json(&["--image", &env.image, "--code", "echo $((6*7))"])?;
    ensure!(j["stdout"] == "42\n", "{j}");
    Ok(())
}

fn compose_build(env: &Env) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let src = fixture("compose-build");
    for f in [
        "compose.yaml",
        "Dockerfile",
        ".dockerignore",
        "secret.txt",
        "other.log",
        "keep.log",
    ] {
        std::fs::copy(src.join(f), dir.path().join(f)).map_err(|e| format!("{f}: {e}"))?;
    }
    let tag = format!("sandlint-test-compose:{}", env.run_id);
    std::fs::write(
        dir.path().join(".env"),
        format!("BASE={}\nAPP_IMAGE={tag}\n", env.image),
    )
    .map_err(|e| e.to_string())?;
    let compose = dir.path().join("compose.yaml");
    let j = env.json(&[
        "--compose",
        compose.to_str().unwrap_or_default(),
        "--service",
        "app",
        "--",
        "sh",
        "-c",
        "ls -a /app | tr '\\n' ' '; echo; echo \"$GREETING\"",
    ]);
    // Without a command on the command line, the service's `command` and `working_dir` run.
    let own = env.json(&[
        "--compose",
        compose.to_str().unwrap_or_default(),
        "--service",
        "app",
    ]);
    rt().block_on(async {
        if let Some(docker) = connect().await {
            let opts = RemoveImageOptionsBuilder::new().force(true).build();
            let _ = docker.remove_image(&tag, Some(opts), None).await;
        }
    });
    let j = j?;
    let out = j["stdout"].as_str().unwrap_or_default();
    ensure!(j["exit_code"] == 0, "{j}");
    ensure!(
        out.contains("keep.log") && out.contains("Dockerfile"),
        "{out}"
    );
    ensure!(
        !out.contains("secret.txt") && !out.contains("other.log"),
        ".dockerignore ignored: {out}"
    );
    ensure!(out.contains("hello from compose"), "{out}");
    let own = own?;
    ensure!(own["stdout"] == "compose command in /app\n", "{own}");
    let mem = j["verification"]["checks"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["name"] == "memory").cloned())
        .unwrap_or_default();
    ensure!(mem["expected"] == "67108864", "{mem}");
    Ok(())
}

fn missing_image(env: &Env) -> Result<(), String> {
    let (o, _) = env.run(&["--image", "sandlint-test-missing:nope", "--", "true"]);
    let err = text(&o.stderr);
    ensure!(o.status.code() == Some(125), "exit {:?}", o.status.code());
    ensure!(
        err.contains("not available locally") && err.contains("docker build"),
        "{err}"
    );
    Ok(())
}

/// A Docker API proxy on a unix socket in front of the real daemon that rewrites container
/// inspect answers from the `from_nth` one (per container) on with `tamper`: a daemon that
/// silently did not apply a protection, as sandlint must catch it. Every request gets
/// `Connection: close` (one request per connection, so none slips past on a kept-alive one);
/// attach's upgraded connections and streams are spliced through untouched. It records each
/// request line.
struct TamperProxy {
    socket: PathBuf,
    requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

fn upstream_socket() -> PathBuf {
    std::env::var("DOCKER_HOST")
        .ok()
        .and_then(|h| h.strip_prefix("unix://").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("/var/run/docker.sock"))
}

impl TamperProxy {
    fn start(from_nth: usize, tamper: fn(&mut serde_json::Value)) -> Self {
        use std::os::unix::net::UnixListener;
        use std::sync::{Arc, Mutex};
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("docker.sock");
        let listener = UnixListener::bind(&socket).unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let log = Arc::clone(&requests);
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (log, seen) = (Arc::clone(&log), Arc::clone(&seen));
                std::thread::spawn(move || {
                    let _ = proxy_one(client, &log, &seen, from_nth, tamper);
                });
            }
        });
        Self {
            socket,
            requests,
            _dir: dir,
        }
    }

    fn docker_host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    fn saw(&self, method: &str, path_part: &str) -> bool {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .any(|r| r.starts_with(method) && r.contains(path_part))
    }
}

/// Position just past the first `\r\n\r\n` in `buf`.
fn head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

fn proxy_one(
    mut client: std::os::unix::net::UnixStream,
    log: &std::sync::Mutex<Vec<String>>,
    seen: &std::sync::Mutex<HashMap<String, usize>>,
    from_nth: usize,
    tamper: fn(&mut serde_json::Value),
) -> std::io::Result<()> {
    use std::io::{Read, Write};
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let end = loop {
        if let Some(end) = head_end(&buf) {
            break end;
        }
        let n = client.read(&mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let rest = buf[end..].to_vec();
    let request_line = head.lines().next().unwrap_or_default().to_string();
    log.lock().unwrap().push(request_line.clone());
    let upgrade = head
        .lines()
        .any(|l| l.to_ascii_lowercase().starts_with("upgrade:"));
    let mut new_head = String::new();
    for line in head.trim_end().lines() {
        if !upgrade && line.to_ascii_lowercase().starts_with("connection:") {
            continue;
        }
        new_head.push_str(line);
        new_head.push_str("\r\n");
    }
    if !upgrade {
        new_head.push_str("Connection: close\r\n");
    }
    new_head.push_str("\r\n");

    // GET /v1.x/containers/<id>/json: a container inspect (`/containers/json` lists them)
    let mut parts = request_line.split(' ');
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let inspected = (method == "GET")
        .then(|| match segments.as_slice() {
            [v, "containers", id, "json"] if v.starts_with('v') => Some((*id).to_string()),
            ["containers", id, "json"] => Some((*id).to_string()),
            _ => None,
        })
        .flatten();
    let tampered = inspected.is_some_and(|id| {
        let mut seen = seen.lock().unwrap();
        let n = seen.entry(id).or_insert(0);
        *n += 1;
        *n >= from_nth
    });

    let mut upstream = std::os::unix::net::UnixStream::connect(upstream_socket())?;
    upstream.write_all(new_head.as_bytes())?;
    upstream.write_all(&rest)?;
    if tampered {
        let mut response = Vec::new();
        upstream.read_to_end(&mut response)?;
        let end = head_end(&response).unwrap_or(response.len());
        let head = String::from_utf8_lossy(&response[..end]).into_owned();
        let mut body = response[end..].to_vec();
        if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            body = dechunk(&body);
        }
        let mut json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        tamper(&mut json);
        let body = serde_json::to_vec(&json).unwrap();
        let mut out = String::new();
        for line in head.trim_end().lines() {
            let lower = line.to_ascii_lowercase();
            if lower.starts_with("content-length:")
                || lower.starts_with("transfer-encoding:")
                || lower.starts_with("connection:")
            {
                continue;
            }
            out.push_str(line);
            out.push_str("\r\n");
        }
        out.push_str(&format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        ));
        client.write_all(out.as_bytes())?;
        client.write_all(&body)?;
        return Ok(());
    }
    let mut up_read = upstream.try_clone()?;
    let mut client_write = client.try_clone()?;
    let down = std::thread::spawn(move || {
        let _ = std::io::copy(&mut up_read, &mut client_write);
        let _ = client_write.shutdown(std::net::Shutdown::Write);
    });
    let _ = std::io::copy(&mut client, &mut upstream);
    let _ = upstream.shutdown(std::net::Shutdown::Write);
    let _ = down.join();
    Ok(())
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = body.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&body[..line_end])
                .split(';')
                .next()
                .unwrap_or("0")
                .trim(),
            16,
        )
        .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = line_end + 2;
        out.extend_from_slice(&body[start..(start + size).min(body.len())]);
        body = &body[(start + size + 2).min(body.len())..];
    }
    out
}

/// The daemon "forgets" the pids limit after start: sandlint must kill and remove the started
/// container and exit 125, or run on with `--allow-degraded` and say what failed.
fn degraded_daemon_fails_closed(env: &Env) -> Result<(), String> {
    fn drop_pids_limit(inspect: &mut serde_json::Value) {
        if let Some(hc) = inspect.get_mut("HostConfig") {
            hc["PidsLimit"] = serde_json::Value::Null;
        }
    }
    // the first inspect (after create) is honest, the second (after start) is not
    let proxy = TamperProxy::start(2, drop_pids_limit);
    let marker = format!("sandlint-test-degraded={}", env.run_id);
    let o = env
        .cmd(&[
            "--label", &marker, "--image", &env.image, "--", "sleep", "600",
        ])
        .env("DOCKER_HOST", proxy.docker_host())
        .output()
        .map_err(|e| e.to_string())?;
    let err = text(&o.stderr);
    ensure!(
        o.status.code() == Some(125),
        "exit {:?}: {err}",
        o.status.code()
    );
    ensure!(
        err.contains("the sandbox is degraded: pids-limit (expected 256, daemon reports unset"),
        "{err}"
    );
    ensure!(
        proxy.saw("POST", "/start"),
        "the container was never started: {:?}",
        proxy.requests.lock().unwrap()
    );
    ensure!(
        proxy.saw("DELETE", "/containers/"),
        "no removal was requested: {:?}",
        proxy.requests.lock().unwrap()
    );
    ensure!(
        count_containers(&marker) == 0,
        "the degraded container is still there"
    );

    // accepted: it runs, and the report names the failed check
    let proxy = TamperProxy::start(2, drop_pids_limit);
    let o = env
        .cmd(&[
            "--json",
            "--allow-degraded",
            "--label",
            &marker,
            "--image",
            &env.image,
            "--",
            "echo",
            "ran",
        ])
        .env("DOCKER_HOST", proxy.docker_host())
        .output()
        .map_err(|e| e.to_string())?;
    let j: serde_json::Value = serde_json::from_slice(&o.stdout)
        .map_err(|e| format!("no JSON ({e}): {}", text(&o.stderr)))?;
    ensure!(j["exit_code"] == 0 && j["stdout"] == "ran\n", "{j}");
    ensure!(
        j["verification"]["failed"] == serde_json::json!(["pids-limit"]),
        "{}",
        j["verification"]
    );
    ensure!(count_containers(&marker) == 0, "container left");
    Ok(())
}

fn sigterm_removes_the_container(env: &Env) -> Result<(), String> {
    let marker = format!("sig-{}", env.run_id);
    let mut child = env
        .cmd(&[
            "--label",
            &format!("sandlint-test-signal={marker}"),
            "--image",
            &env.image,
            "--",
            "sleep",
            "600",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let filter = format!("sandlint-test-signal={marker}");
    let count = || count_containers(&filter);
    let start = Instant::now();
    while count() == 0 {
        if start.elapsed() > Duration::from_secs(15) {
            let _ = child.kill();
            return Err("the container never appeared".to_string());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(300));
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .map_err(|e| e.to_string())?;
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break s;
        }
        if start.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            return Err("sandlint did not exit after SIGTERM".to_string());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    ensure!(status.code() == Some(143), "exit {:?}", status.code());
    ensure!(count() == 0, "container left after SIGTERM");
    Ok(())
}

/// `--user +0` is root: refused; with `--allow-root` it runs as uid 0 and the result says so.
fn plus_zero_is_root(env: &Env) -> Result<(), String> {
    let (o, _) = env.run(&["--image", &env.image, "--user", "+0", "--", "id", "-u"]);
    ensure!(
        o.status.code() == Some(125) && o.stdout.is_empty(),
        "exit {:?}: {}",
        o.status.code(),
        text(&o.stderr)
    );
    ensure!(
        text(&o.stderr).contains("runs as root (`user: +0`)"),
        "{}",
        text(&o.stderr)
    );
    let mut c = env.cmd(&[
        "--json",
        "--image",
        &env.image,
        "--user",
        "+0",
        "--allow-root",
        "--",
        "sh",
        "-c",
        "sleep 1; id -u",
    ]);
    let o = c.output().map_err(|e| e.to_string())?;
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).map_err(|e| e.to_string())?;
    ensure!(j["stdout"] == "0\n", "{j}");
    ensure!(
        j["uid"]["uid"] == 0 && j["uid"]["source"] == "kernel",
        "{}",
        j["uid"]
    );
    ensure!(
        j["allowed"]
            == serde_json::json!([{"rule": "service-root-user", "source": "--allow-root", "reason": "--allow-root"}]),
        "{}",
        j["allowed"]
    );
    ensure!(
        text(&o.stderr).contains("sandlint: warning: `service-root-user` relaxed by --allow-root"),
        "{}",
        text(&o.stderr)
    );
    Ok(())
}

/// A name that is uid 0 in the image's own /etc/passwd is root.
fn uid_zero_name(env: &Env) -> Result<(), String> {
    let (o, _) = env.run(&[
        "--image",
        &env.toor_image,
        "--user",
        "toor",
        "--",
        "id",
        "-u",
    ]);
    let err = text(&o.stderr);
    ensure!(
        o.status.code() == Some(125) && o.stdout.is_empty(),
        "exit {:?}: {err}",
        o.status.code()
    );
    ensure!(
        err.contains("refused to run: user `toor` is uid 0") && err.contains("/etc/passwd"),
        "{err}"
    );
    // The image's own `USER toor` is root too: replaced by nobody, like `USER root`.
    let j = env.json(&["--image", &env.toor_image, "--", "id", "-u"])?;
    ensure!(
        j["stdout"] == "65534\n" && j["user"] == "65534:65534",
        "{j}"
    );
    Ok(())
}

/// `-e NAME` passes this process's value.
fn env_pass_through(env: &Env) -> Result<(), String> {
    let o = env
        .cmd(&[
            "--json",
            "--image",
            &env.image,
            "-e",
            "SANDLINT_TEST_API_KEY",
            "--",
            "sh",
            "-c",
            "echo \"$SANDLINT_TEST_API_KEY\"",
        ])
        .env("SANDLINT_TEST_API_KEY", "sk-test-passthrough-0123456789")
        .output()
        .map_err(|e| e.to_string())?;
    let j: serde_json::Value =
        serde_json::from_slice(&o.stdout).map_err(|e| format!("{e}: {}", text(&o.stderr)))?;
    ensure!(j["stdout"] == "sk-test-passthrough-0123456789\n", "{j}");
    // --runtime is checked against the daemon's HostConfig.Runtime.
    let j = env.json(&["--image", &env.image, "--runtime", "runc", "--", "true"])?;
    let runtime = j["verification"]["checks"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["name"] == "runtime").cloned())
        .unwrap_or_default();
    ensure!(
        runtime["status"] == "verified" && runtime["actual"] == "runc",
        "{runtime}"
    );
    let (o, _) = env.run(&[
        "--image",
        &env.image,
        "--runtime",
        "sandlint-no-such-runtime",
        "--",
        "true",
    ]);
    ensure!(
        o.status.code() == Some(125),
        "unknown runtime: exit {:?}",
        o.status.code()
    );
    Ok(())
}

/// Starts `sandlint run` on `sleep 600` with a marker label; waits until its container exists.
fn start_sleeper(
    env: &Env,
    marker: &str,
    extra: &[&str],
    stdout: Stdio,
) -> Result<std::process::Child, String> {
    let label = format!("sandlint-test-signal={marker}");
    let mut args = vec!["--label", label.as_str(), "--image", env.image.as_str()];
    args.extend_from_slice(extra);
    let mut child = env
        .cmd(&args)
        .stdout(stdout)
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let start = Instant::now();
    while count_containers(&label) == 0 {
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            return Err("the container never appeared".to_string());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // let it get past create/verify into the wait
    std::thread::sleep(Duration::from_millis(500));
    Ok(child)
}

fn wait_exit(
    child: &mut std::process::Child,
    within: Duration,
) -> Result<std::process::ExitStatus, String> {
    let start = Instant::now();
    loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            return Ok(s);
        }
        if start.elapsed() > within {
            let _ = child.kill();
            return Err(format!("sandlint did not exit within {within:?}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// SIGHUP and SIGQUIT clean up like SIGTERM: exit 128 + n, container gone.
fn sighup_and_sigquit_remove_the_container(env: &Env) -> Result<(), String> {
    for (sig, code) in [("HUP", 129), ("QUIT", 131)] {
        let marker = format!("{sig}-{}", env.run_id);
        let mut child = start_sleeper(env, &marker, &["--", "sleep", "600"], Stdio::null())?;
        Command::new("kill")
            .args([&format!("-{sig}"), &child.id().to_string()])
            .status()
            .map_err(|e| e.to_string())?;
        let status = wait_exit(&mut child, Duration::from_secs(15))?;
        ensure!(
            status.code() == Some(code),
            "SIG{sig}: exit {:?}",
            status.code()
        );
        let left = count_containers(&format!("sandlint-test-signal={marker}"));
        ensure!(left == 0, "container left after SIG{sig}");
    }
    Ok(())
}

/// SIGKILL of sandlint: the watchdog removes the container, well within timeout + 5 s.
fn sigkill_leaves_no_container(env: &Env) -> Result<(), String> {
    let marker = format!("kill-{}", env.run_id);
    let mut child = start_sleeper(
        env,
        &marker,
        &["--timeout", "3s", "--", "sleep", "600"],
        Stdio::null(),
    )?;
    child.kill().map_err(|e| e.to_string())?;
    let _ = child.wait();
    let killed = Instant::now();
    let filter = format!("sandlint-test-signal={marker}");
    while count_containers(&filter) > 0 {
        ensure!(
            killed.elapsed() < Duration::from_secs(8),
            "the container outlived SIGKILL of sandlint by {:?}",
            killed.elapsed()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(())
}

/// The output reader goes away (`| head -c1`): sandlint kills the command promptly (141).
fn closed_pipe_stops_the_command(env: &Env) -> Result<(), String> {
    let marker = format!("pipe-{}", env.run_id);
    let mut child = start_sleeper(
        env,
        &marker,
        &[
            "--timeout",
            "60s",
            "--",
            "sh",
            "-c",
            "while true; do echo more; sleep 0.2; done",
        ],
        Stdio::piped(),
    )?;
    let mut out = child.stdout.take().ok_or("no stdout")?;
    let mut first = [0u8; 1];
    std::io::Read::read_exact(&mut out, &mut first).map_err(|e| e.to_string())?;
    drop(out);
    let closed = Instant::now();
    let status = wait_exit(&mut child, Duration::from_secs(15))?;
    ensure!(status.code() == Some(141), "exit {:?}", status.code());
    ensure!(
        closed.elapsed() < Duration::from_secs(10),
        "took {:?}",
        closed.elapsed()
    );
    let left = count_containers(&format!("sandlint-test-signal={marker}"));
    ensure!(left == 0, "container left after the pipe closed");
    Ok(())
}

fn gc_removes_orphans(env: &Env) -> Result<(), String> {
    // A container whose owner process is gone, as a killed sandlint would leave it.
    let name = format!("sandlint-test-orphan-{}", env.run_id);
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let labels = HashMap::from([
        ("dev.sandlint.managed".to_string(), "true".to_string()),
        (
            "dev.sandlint.owner".to_string(),
            format!("{}:999999999", host.trim()),
        ),
        (RUN_LABEL.to_string(), env.run_id.clone()),
    ]);
    rt().block_on(async {
        let docker = connect().await.ok_or("no daemon")?;
        docker
            .create_container(
                Some(CreateContainerOptionsBuilder::new().name(&name).build()),
                bollard::models::ContainerCreateBody {
                    image: Some(env.image.clone()),
                    cmd: Some(vec!["true".to_string()]),
                    labels: Some(labels),
                    ..Default::default()
                },
            )
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    })?;
    let o = Command::new(BIN)
        .args(["run", "--gc"])
        .output()
        .map_err(|e| e.to_string())?;
    ensure!(o.status.success(), "{}", text(&o.stderr));
    ensure!(
        text(&o.stdout).contains(&name),
        "{} / {}",
        text(&o.stdout),
        text(&o.stderr)
    );
    ensure!(
        count_containers(&format!("name={name}")) == 0,
        "orphan left"
    );
    // A container whose owner is alive but whose deadline has passed goes too.
    let expired = format!("sandlint-test-expired-{}", env.run_id);
    let labels = HashMap::from([
        ("dev.sandlint.managed".to_string(), "true".to_string()),
        (
            "dev.sandlint.owner".to_string(),
            format!("{}:{}", host.trim(), std::process::id()),
        ),
        ("dev.sandlint.deadline".to_string(), "1".to_string()),
        (RUN_LABEL.to_string(), env.run_id.clone()),
    ]);
    rt().block_on(async {
        let docker = connect().await.ok_or("no daemon")?;
        docker
            .create_container(
                Some(CreateContainerOptionsBuilder::new().name(&expired).build()),
                bollard::models::ContainerCreateBody {
                    image: Some(env.image.clone()),
                    cmd: Some(vec!["true".to_string()]),
                    labels: Some(labels),
                    ..Default::default()
                },
            )
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    })?;
    let o = Command::new(BIN)
        .args(["run", "--gc"])
        .output()
        .map_err(|e| e.to_string())?;
    // (a concurrent scenario's `run` may have reaped it first: it must be gone, by either)
    ensure!(
        o.status.success() && count_containers(&format!("name={expired}")) == 0,
        "expired container not reaped: {} / {}",
        text(&o.stdout),
        text(&o.stderr)
    );
    Ok(())
}

fn list_containers(filter: &str) -> Vec<String> {
    rt().block_on(async {
        let Some(docker) = connect().await else {
            return Vec::new();
        };
        let (key, value) = if let Some(v) = filter.strip_prefix("name=") {
            ("name", v.to_string())
        } else {
            ("label", filter.to_string())
        };
        let filters = HashMap::from([(key, vec![value])]);
        docker
            .list_containers(Some(
                ListContainersOptionsBuilder::new()
                    .all(true)
                    .filters(&filters)
                    .build(),
            ))
            .await
            .unwrap_or_default()
            .into_iter()
            .filter_map(|c| c.id)
            .collect()
    })
}

fn count_containers(filter: &str) -> usize {
    list_containers(filter).len()
}

#[test]
fn live_suite() {
    let runtime = rt();
    let Some(docker) = runtime.block_on(connect()) else {
        let msg = "no Docker daemon reachable (DOCKER_HOST or /var/run/docker.sock)";
        common::skip_or_fail("SANDLINT_REQUIRE_DOCKER", "the live sandbox tests", msg);
        return;
    };
    let busybox = find_busybox()
        .expect("busybox-static is needed for the test image (apt-get install busybox-static)");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let run_id = format!("{}-{nanos:x}", std::process::id());
    let image = format!("sandlint-test-busybox:{run_id}");
    let user_image = format!("sandlint-test-busybox-user:{run_id}");
    let toor_image = format!("sandlint-test-busybox-toor:{run_id}");

    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(&busybox, dir.path().join("busybox")).unwrap();
    let euid = compile_euid(dir.path());
    let mut dockerfile = String::from(
        "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n",
    );
    if euid.is_some() {
        dockerfile.push_str(
            "COPY euid /suid/euid\nRUN [\"/bin/busybox\", \"chmod\", \"4755\", \"/suid/euid\"]\n",
        );
    } else {
        eprintln!("note: no static C compiler; the setuid-binary check only looks at NoNewPrivs");
    }
    std::fs::write(dir.path().join("Dockerfile"), dockerfile).unwrap();
    let built = runtime.block_on(build(&docker, dir.path(), &image));
    if let Err(e) = built {
        panic!("building the test image failed: {e}");
    }
    let user_dir = tempfile::tempdir().unwrap();
    std::fs::write(
        user_dir.path().join("Dockerfile"),
        format!("FROM {image}\nUSER 4321:4321\n"),
    )
    .unwrap();
    runtime
        .block_on(build(&docker, user_dir.path(), &user_image))
        .unwrap();

    let toor_dir = tempfile::tempdir().unwrap();
    std::fs::write(
        toor_dir.path().join("Dockerfile"),
        format!(
            "FROM {image}\nRUN [\"/bin/sh\", \"-c\", \"mkdir -p /etc && echo root:x:0:0::/:/bin/sh > /etc/passwd && echo toor:x:0:0::/:/bin/sh >> /etc/passwd\"]\nUSER toor\n"
        ),
    )
    .unwrap();
    runtime
        .block_on(build(&docker, toor_dir.path(), &toor_image))
        .unwrap();

    let env = Env {
        image: image.clone(),
        user_image: user_image.clone(),
        toor_image: toor_image.clone(),
        run_id: run_id.clone(),
        has_euid: euid.is_some(),
    };
    let scenarios: &[(&str, Scenario)] = &[
        ("isolation", isolation),
        ("fork_bomb", fork_bomb),
        ("oom", oom),
        ("timeout", timeout),
        ("output_flood", output_flood),
        ("library", library),
        ("image_user", image_user),
        ("file_and_workspace", file_and_workspace),
        ("readme_run_on_init_output", readme_run_on_init_output),
        (
            "unwritable_workspace_is_refused",
            unwritable_workspace_is_refused,
        ),
        ("stdin_reaches_the_command", stdin_reaches_the_command),
        (
            "dry_run_resolves_the_image_user",
            dry_run_resolves_the_image_user,
        ),
        ("compose_build", compose_build),
        ("missing_image", missing_image),
        ("degraded_daemon_fails_closed", degraded_daemon_fails_closed),
        (
            "sigterm_removes_the_container",
            sigterm_removes_the_container,
        ),
        ("gc_removes_orphans", gc_removes_orphans),
        ("plus_zero_is_root", plus_zero_is_root),
        ("uid_zero_name", uid_zero_name),
        ("env_pass_through", env_pass_through),
        (
            "sighup_and_sigquit_remove_the_container",
            sighup_and_sigquit_remove_the_container,
        ),
        ("sigkill_leaves_no_container", sigkill_leaves_no_container),
        (
            "closed_pipe_stops_the_command",
            closed_pipe_stops_the_command,
        ),
    ];
    let start = Instant::now();
    let results: Vec<(&str, Result<(), String>, Duration)> = std::thread::scope(|s| {
        let handles: Vec<_> = scenarios
            .iter()
            .map(|(name, f)| {
                let env = &env;
                (
                    *name,
                    s.spawn(move || {
                        let t = Instant::now();
                        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(env)))
                            .unwrap_or_else(|_| Err("panicked".to_string()));
                        (r, t.elapsed())
                    }),
                )
            })
            .collect();
        handles
            .into_iter()
            .map(|(name, h)| {
                let (r, t) = h
                    .join()
                    .unwrap_or((Err("panicked".to_string()), Duration::ZERO));
                (name, r, t)
            })
            .collect()
    });
    eprintln!("live scenarios took {:?}", start.elapsed());

    // Teardown: images, then the check that nothing of this run is left.
    runtime.block_on(async {
        for tag in [&toor_image, &user_image, &image] {
            let _ = docker
                .remove_image(
                    tag,
                    Some(RemoveImageOptionsBuilder::new().force(true).build()),
                    None,
                )
                .await;
        }
    });
    let leftover = list_containers(&env.label());
    for id in &leftover {
        runtime.block_on(async {
            let _ = docker
                .remove_container(
                    id,
                    Some(RemoveContainerOptionsBuilder::new().force(true).build()),
                )
                .await;
        });
    }

    let mut failures = Vec::new();
    for (name, r, t) in &results {
        eprintln!(
            "  {name}: {} ({t:?})",
            if r.is_ok() { "ok" } else { "FAILED" }
        );
        if let Err(e) = r {
            failures.push(format!("{name}: {e}"));
        }
    }
    if !leftover.is_empty() {
        failures.push(format!(
            "{} container(s) with sandlint's label left after the suite",
            leftover.len()
        ));
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}
