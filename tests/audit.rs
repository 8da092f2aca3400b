//! `sandlint audit` against the real daemon: containers created with known bad and hardened
//! settings from a `FROM scratch` static-busybox image, their exact findings snapshotted (ids and
//! the run's names normalized), and a container `docker compose` started, compared with its file
//! (a finding the file has too, and drift after the file changed).
//!
//! A missing daemon (or `docker` CLI) skips loudly, and fails when `SANDLINT_REQUIRE_DOCKER=1`
//! (CI); the Compose case needs Docker Compose v2 (`SANDLINT_DOCKER_COMPOSE`, else
//! `docker-compose` on `PATH`) and fails without it when `SANDLINT_REQUIRE_COMPOSE=1`. Every
//! container, network and image a test creates is removed by a drop guard, on failure too.
#![cfg(feature = "sandbox")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test on setup errors"
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_sandlint");

/// Removes what a test created, whatever happens.
#[derive(Default)]
struct Cleanup {
    containers: Vec<String>,
    images: Vec<String>,
    /// `(compose binary, project, dir)`: `down` for each.
    projects: Vec<(String, String, PathBuf)>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for (bin, project, dir) in &self.projects {
            let _ = Command::new(bin)
                .args(["-p", project, "down", "--remove-orphans", "--timeout", "1"])
                .current_dir(dir)
                .output();
            // whatever `down` could not do (its file gone or changed)
            let label = format!("label=com.docker.compose.project={project}");
            if let Ok(o) = Command::new("docker")
                .args(["ps", "-aq", "--filter", &label])
                .output()
            {
                for id in String::from_utf8_lossy(&o.stdout).split_whitespace() {
                    let _ = docker(&["rm", "-f", id]);
                }
            }
            let _ = docker(&["network", "rm", &format!("{project}_default")]);
        }
        if !self.containers.is_empty() {
            let _ = docker(&[&["rm", "-f"][..], &strs(&self.containers)].concat());
        }
        if !self.images.is_empty() {
            let _ = docker(&[&["rmi", "-f"][..], &strs(&self.images)].concat());
        }
    }
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn docker(args: &[&str]) -> Output {
    Command::new("docker").args(args).output().unwrap()
}

#[allow(clippy::unwrap_used, reason = "a failed docker call fails the test")]
fn docker_ok(args: &[&str]) -> String {
    let o = docker(args);
    assert!(
        o.status.success(),
        "docker {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap().trim().to_string()
}

/// Whether the daemon answers through the `docker` CLI; else skips (or fails in CI).
fn daemon(test: &str) -> bool {
    let ok = Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        common::skip_or_fail(
            "SANDLINT_REQUIRE_DOCKER",
            test,
            "no Docker daemon reachable through the `docker` CLI",
        );
    }
    ok
}

/// A name unique to this run.
fn run_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    // fixed width: the names' length shows in the snapshots (underlines, wrapping)
    format!("{:07}-{nanos:08x}", std::process::id() % 10_000_000)
}

/// Builds `FROM scratch` + static busybox as `tag` (removed by `cleanup`).
fn build_image(tag: &str, cleanup: &mut Cleanup) {
    let busybox = ["/bin/busybox", "/usr/bin/busybox", "/usr/local/bin/busybox"]
        .iter()
        .map(Path::new)
        .find(|p| p.exists())
        .expect("busybox-static is needed for the test image (apt-get install busybox-static)");
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(busybox, dir.path().join("busybox")).unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        "FROM scratch\nCOPY busybox /bin/busybox\nENTRYPOINT [\"/bin/busybox\"]\nCMD [\"sleep\", \"600\"]\n",
    )
    .unwrap();
    cleanup.images.push(tag.to_string());
    docker_ok(&["build", "-q", "-t", tag, dir.path().to_str().unwrap()]);
}

fn audit(args: &[&str], dir: &Path) -> Output {
    Command::new(BIN)
        .arg("audit")
        .args(args)
        .current_dir(dir)
        .env_remove("SANDLINT_FORMAT")
        .env_remove("SANDLINT_FAIL_ON")
        .env("SANDLINT_COLOR", "never")
        .env("COLUMNS", "100")
        .output()
        .unwrap()
}

/// Output with this run's names and the containers' ids replaced.
fn normalize(s: &str, run: &str, ids: &[(String, &str)]) -> String {
    let mut s = s.replace(run, "RUN");
    for (id, name) in ids {
        s = s.replace(&id[..12], &format!("<{name}-id>"));
    }
    s
}

#[test]
fn bad_and_hardened_containers() {
    if !daemon("the live audit tests") {
        return;
    }
    let run = run_id();
    let mut cleanup = Cleanup::default();
    let image = format!("sandlint-test-audit:{run}");
    build_image(&image, &mut cleanup);
    let bad = format!("sla-{run}-bad");
    let good = format!("sla-{run}-good");
    cleanup.containers.extend([bad.clone(), good.clone()]);
    // Created, not started: a privileged container cannot start on every CI daemon, and what
    // `audit` reads (the inspect) is the same.
    let bad_id = docker_ok(&[
        "create",
        "--name",
        &bad,
        "--privileged",
        "--cap-add",
        "SYS_ADMIN",
        "--pid",
        "host",
        "--cgroupns",
        "host",
        "--ipc",
        "private",
        "-v",
        "/var/run/docker.sock:/var/run/docker.sock",
        "-p",
        "8080:80",
        "--restart",
        "always",
        &image,
    ]);
    let good_id = docker_ok(&[
        "run",
        "-d",
        "--name",
        &good,
        "--read-only",
        "--cap-drop",
        "ALL",
        "--security-opt",
        "no-new-privileges",
        "--user",
        "1000:1000",
        "--memory",
        "64m",
        "--cpus",
        "0.5",
        "--pids-limit",
        "64",
        "--cgroupns",
        "private",
        "--ipc",
        "private",
        "--network",
        "none",
        "--health-cmd",
        "true",
        "--restart",
        "on-failure:5",
        &image,
    ]);
    let ids = [(bad_id, "bad"), (good_id, "good")];
    let dir = tempfile::tempdir().unwrap();

    let o = audit(&["--format", "concise", &bad, &good], dir.path());
    assert_eq!(o.status.code(), Some(1), "{}", common::text(&o.stderr));
    let concise = normalize(&common::text(&o.stdout), &run, &ids);
    insta::assert_snapshot!("bad_and_hardened_concise", concise);
    let stderr = normalize(&common::text(&o.stderr), &run, &ids);
    assert_eq!(
        stderr,
        "container://sla-RUN-bad: id <bad-id>, image sandlint-test-audit:RUN, not running\n\
         container://sla-RUN-good: id <good-id>, image sandlint-test-audit:RUN, running\n"
    );

    // The hardened container alone: only the digest pin (info) is left.
    let o = audit(&["--format", "concise", &good], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", common::text(&o.stdout));
    assert_eq!(
        normalize(&common::text(&o.stdout), &run, &ids),
        "container://sla-RUN-good:4:12: info SLC023 service `sla-RUN-good` image \
         `sandlint-test-audit:RUN` is not pinned by digest\nChecked 1 container: 0 errors, 0 warnings, 1 info\n"
    );

    // The full report shows the rendered inspect.
    let o = audit(&["--select", "container-socket-mount", &bad], dir.path());
    insta::assert_snapshot!(
        "socket_full",
        normalize(&common::text(&o.stdout), &run, &ids)
    );

    // SARIF: the container's name against the `CONTAINERS` base.
    let o = audit(
        &["--format", "sarif", "--select", "SLC001", &bad],
        dir.path(),
    );
    let sarif: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let run0 = &sarif["runs"][0];
    let loc = &run0["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
    assert_eq!(loc["uri"], serde_json::json!(bad));
    assert_eq!(loc["uriBaseId"], "CONTAINERS");
    assert_eq!(
        run0["originalUriBaseIds"]["CONTAINERS"]["uri"],
        "container:///"
    );

    // Baseline: written, then nothing new.
    let baseline = dir.path().join("baseline.json");
    let b = baseline.to_str().unwrap();
    let o = audit(&["--write-baseline", b, &bad], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", common::text(&o.stderr));
    let o = audit(&["--baseline", b, "--format", "concise", &bad], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", common::text(&o.stdout));

    // Running containers by default; --all adds the created one.
    let listed = |args: &[&str]| -> String {
        let o = audit(
            &[args, &["--format", "json", "--select", "SLC023"]].concat(),
            dir.path(),
        );
        common::text(&o.stdout)
    };
    let running = listed(&[]);
    assert!(
        running.contains(&format!("container://{good}")),
        "{running}"
    );
    assert!(
        !running.contains(&format!("container://{bad}")),
        "{running}"
    );
    assert!(listed(&["--all"]).contains(&format!("container://{bad}")));

    // An unknown container is exit 2 with its name.
    let o = audit(&[&format!("sla-{run}-missing")], dir.path());
    assert_eq!(o.status.code(), Some(2));
    let err = normalize(&common::text(&o.stderr), &run, &ids);
    assert!(
        err.contains("no such container: `sla-RUN-missing`"),
        "{err}"
    );
}

#[test]
fn no_daemon_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(BIN)
        .args(["audit"])
        .current_dir(dir.path())
        .env(
            "DOCKER_HOST",
            "unix:///nonexistent/sandlint-test/docker.sock",
        )
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = common::text(&o.stderr);
    assert!(
        err.contains(
            "cannot reach the Docker daemon at unix:///nonexistent/sandlint-test/docker.sock"
        ),
        "{err}"
    );
}

/// A Docker config directory whose context `name` points at `host` (and is current when
/// `current`), laid out as the `docker` CLI writes it.
fn docker_config(name: &str, host: &str, current: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let meta = dir.path().join("contexts/meta/0123abcd");
    std::fs::create_dir_all(&meta).unwrap();
    std::fs::write(
        meta.join("meta.json"),
        format!(r#"{{"Name":"{name}","Metadata":{{}},"Endpoints":{{"docker":{{"Host":"{host}","SkipTLSVerify":false}}}}}}"#),
    )
    .unwrap();
    if current {
        std::fs::write(
            dir.path().join("config.json"),
            format!(r#"{{"auths":{{}},"currentContext":"{name}"}}"#),
        )
        .unwrap();
    }
    dir
}

#[test]
fn the_docker_context_selects_the_daemon() {
    let work = tempfile::tempdir().unwrap();
    let config = docker_config(
        "sl-ctx",
        "unix:///nonexistent/sandlint-ctx/docker.sock",
        false,
    );
    let o = Command::new(BIN)
        .args(["audit"])
        .current_dir(work.path())
        .env_remove("DOCKER_HOST")
        .env("DOCKER_CONFIG", config.path())
        .env("DOCKER_CONTEXT", "sl-ctx")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = common::text(&o.stderr);
    assert!(
        err.contains("cannot reach the Docker daemon at unix:///nonexistent/sandlint-ctx/docker.sock (the Docker context `sl-ctx` (DOCKER_CONTEXT))"),
        "{err}"
    );
    // a context that does not exist is an error, never the default socket
    let o = Command::new(BIN)
        .args(["audit"])
        .current_dir(work.path())
        .env_remove("DOCKER_HOST")
        .env("DOCKER_CONFIG", config.path())
        .env("DOCKER_CONTEXT", "sl-missing")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = common::text(&o.stderr);
    assert!(
        err.contains("Docker context `sl-missing` (DOCKER_CONTEXT): no such context in"),
        "{err}"
    );
    // the config's currentContext, on the live daemon's socket
    if !daemon("the_docker_context_selects_the_daemon") {
        return;
    }
    let config = docker_config("sl-live", "unix:///var/run/docker.sock", true);
    let o = Command::new(BIN)
        .args(["audit", "--format", "json", "--fail-on", "never"])
        .current_dir(work.path())
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_CONTEXT")
        .env("DOCKER_CONFIG", config.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", common::text(&o.stderr));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(report["files_checked"].is_u64(), "{report}");
}

/// The Docker Compose v2 binary, or a loud skip.
fn compose_bin() -> Option<String> {
    let bin = std::env::var("SANDLINT_DOCKER_COMPOSE").unwrap_or_else(|_| "docker-compose".into());
    let ok = Command::new(&bin)
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains("v2"));
    if !ok {
        common::skip_or_fail(
            "SANDLINT_REQUIRE_COMPOSE",
            "the audit Compose link test",
            &format!("no Compose v2 `{bin}` (set SANDLINT_DOCKER_COMPOSE)"),
        );
        return None;
    }
    Some(bin)
}

#[test]
fn compose_started_container_links_to_its_file() {
    if !daemon("the audit Compose link test") {
        return;
    }
    let Some(bin) = compose_bin() else {
        return;
    };
    let run = run_id();
    // declared before the guard: dropped after it (`down` reads the file)
    let dir = tempfile::tempdir().unwrap();
    let mut cleanup = Cleanup::default();
    let image = format!("sandlint-test-audit-c:{run}");
    build_image(&image, &mut cleanup);
    let project = format!("slac{}", run.replace('-', ""));
    let file = |extra: &str| {
        format!(
            "services:\n  web:\n    image: {image}\n    user: \"1000:1000\"\n    read_only: true\n    \
             cap_drop: [ALL]\n    security_opt: [\"no-new-privileges:true\"]\n    mem_limit: 64m\n    \
             network_mode: none\n    cgroup: private\n{extra}"
        )
    };
    std::fs::write(dir.path().join("compose.yaml"), file("")).unwrap();
    cleanup
        .projects
        .push((bin.clone(), project.clone(), dir.path().to_path_buf()));
    let up = Command::new(&bin)
        .args(["-p", &project, "up", "-d"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(up.status.success(), "{}", common::text(&up.stderr));
    let name = format!("{project}-web-1");
    let id = docker_ok(&["inspect", "--format", "{{.Id}}", &name]);
    // The file changes after `up`: it now sets a pids limit the container does not have.
    std::fs::write(
        dir.path().join("compose.yaml"),
        file("    pids_limit: 100\n"),
    )
    .unwrap();
    let ids = [(id, "web")];
    let norm = |s: &str| normalize(s, &project, &ids).replace(&run, "RUN");
    let o = audit(
        &[
            "--select",
            "SLA001,missing-cpu-limit,missing-pids-limit",
            &name,
        ],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", common::text(&o.stderr));
    insta::assert_snapshot!("compose_link_full", norm(&common::text(&o.stdout)));
    assert_eq!(
        norm(&common::text(&o.stderr)),
        "container://RUN-web-1: id <web-id>, image sandlint-test-audit-c:RUN, running \
         (Compose service `web` of project `RUN`)\n"
    );
    // --no-compose-link: no comparison, no drift.
    let o = audit(
        &[
            "--no-compose-link",
            "--format",
            "concise",
            "--select",
            "SLA001,SLC006",
            &name,
        ],
        dir.path(),
    );
    assert_eq!(
        norm(&common::text(&o.stdout)),
        "container://RUN-web-1:3:3: warning SLC006 service `RUN-web-1` sets no process limit\n\
         Checked 1 container: 0 errors, 1 warning, 0 info\n"
    );
    // Outside the project (another working directory): not read, a note says why.
    let elsewhere = tempfile::tempdir().unwrap();
    let o = audit(
        &["--format", "concise", "--select", "SLA001,SLC006", &name],
        elsewhere.path(),
    );
    let err = norm(&common::text(&o.stderr));
    assert!(err.contains("is outside the project; not read"), "{err}");
    assert!(!common::text(&o.stdout).contains("SLA001"));
}
