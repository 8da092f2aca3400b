//! `sandlint session` against the real daemon: start → exec → put/get → state persists → ls →
//! stop; the TTL removing a session with every sandlint process gone; tampering (a `docker
//! update`, a hand-made container carrying our labels) refused; path escapes refused both ways.
//! Skips loudly without a daemon, and fails when `SANDLINT_REQUIRE_DOCKER=1` (CI).
#![cfg(feature = "sandbox")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test on setup errors"
)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::query_parameters::{
    BuildImageOptionsBuilder, CreateContainerOptionsBuilder, ListContainersOptionsBuilder,
    RemoveContainerOptionsBuilder, RemoveImageOptionsBuilder,
};
use futures_util::StreamExt;
use serde_json::Value;

mod common;
use common::text;

const BIN: &str = env!("CARGO_BIN_EXE_sandlint");

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

/// The binary with this test's state directory.
struct Cli {
    state: PathBuf,
}

impl Cli {
    fn run(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .args(args)
            .env("SANDLINT_SESSION_DIR", &self.state)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    }

    fn json(&self, args: &[&str]) -> (Option<i32>, Value) {
        let o = self.run(args);
        let v = serde_json::from_slice(&o.stdout).unwrap_or_else(|_| {
            panic!(
                "{args:?}: no JSON (exit {:?}): {}{}",
                o.status.code(),
                text(&o.stdout),
                text(&o.stderr)
            )
        });
        (o.status.code(), v)
    }

    fn start(&self, image: &str, ttl: &str) -> String {
        let (code, v) = self.json(&["session", "start", "--image", image, "--ttl", ttl, "--json"]);
        assert_eq!(code, Some(0), "{v}");
        v["id"].as_str().unwrap().to_string()
    }
}

fn session_containers(docker: &Docker, rt: &tokio::runtime::Runtime, id: &str) -> Vec<String> {
    let mut filters = HashMap::new();
    filters.insert("label", vec![format!("dev.sandlint.session={id}")]);
    rt.block_on(
        docker.list_containers(Some(
            ListContainersOptionsBuilder::new()
                .all(true)
                .filters(&filters)
                .build(),
        )),
    )
    .unwrap_or_default()
    .into_iter()
    .filter_map(|c| c.id)
    .collect()
}

fn wait_gone(docker: &Docker, rt: &tokio::runtime::Runtime, id: &str, within: Duration) -> bool {
    let until = Instant::now() + within;
    while Instant::now() < until {
        if session_containers(docker, rt, id).is_empty() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    false
}

#[test]
fn live_sessions() {
    let rt = rt();
    let Some(docker) = rt.block_on(connect()) else {
        let msg = "no Docker daemon reachable (DOCKER_HOST or /var/run/docker.sock)";
        common::skip_or_fail("SANDLINT_REQUIRE_DOCKER", "the live session tests", msg);
        return;
    };
    let busybox = ["/usr/bin/busybox", "/bin/busybox"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .expect("busybox-static is needed for the test image (apt-get install busybox-static)");
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(&busybox, dir.path().join("busybox")).unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n",
    )
    .unwrap();
    let image = format!("sandlint-test-session:{}", std::process::id());
    rt.block_on(build(&docker, dir.path(), &image)).unwrap();
    let state = tempfile::tempdir().unwrap();
    let cli = Cli {
        state: state.path().to_path_buf(),
    };

    let ids = std::cell::RefCell::new(Vec::new());
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // the TTL, in parallel with the rest: a short-lived session whose watchdog is killed
        // too is removed by the daemon itself at its deadline
        let ttl_id = cli.start(&image, "3s");
        ids.borrow_mut().push(ttl_id.clone());
        let started = Instant::now();
        let main = cli.start(&image, "10m");
        ids.borrow_mut().push(main.clone());
        lifecycle(&cli, &docker, &rt, &main);
        escapes(&cli, &main);
        timeouts(&cli, &main);
        listing(&cli, &main);
        ttl(&cli, &docker, &rt, &ttl_id, started);
        tampering(&cli, &docker, &rt, &main, &image);
        let fresh = cli.start(&image, "10m");
        ids.borrow_mut().push(fresh.clone());
        stop(&cli, &docker, &rt, &fresh);
        bound(&cli, &docker, &rt, &image, &ids);
    }));
    for id in ids.borrow().iter() {
        let _ = cli.run(&["session", "stop", id]);
    }
    let _ = rt.block_on(docker.remove_image(
        &image,
        Some(RemoveImageOptionsBuilder::new().force(true).build()),
        None,
    ));
    for id in ids.borrow().iter() {
        assert!(
            session_containers(&docker, &rt, id).is_empty(),
            "session {id} left behind"
        );
    }
    if let Err(e) = outcome {
        std::panic::resume_unwind(e);
    }
}

/// start → exec → put/get → state persists.
fn lifecycle(cli: &Cli, docker: &Docker, rt: &tokio::runtime::Runtime, id: &str) {
    let c = rt
        .block_on(docker.inspect_container(&format!("sandlint-session-{id}"), None))
        .unwrap();
    let labels = c.config.unwrap().labels.unwrap();
    assert_eq!(labels["dev.sandlint.session"], id);
    assert!(labels["dev.sandlint.profile-hash"].starts_with("fnv1a64:"));
    assert!(labels["dev.sandlint.deadline"].parse::<u64>().is_ok());
    let hc = c.host_config.unwrap();
    assert_eq!(hc.readonly_rootfs, Some(true));
    assert_eq!(hc.cap_drop, Some(vec!["ALL".to_string()]));

    let o = cli.run(&[
        "session",
        "exec",
        id,
        "--",
        "sh",
        "-c",
        "echo a > /workspace/f; echo b > /tmp/g; id -u; pwd",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "65534\n/workspace\n");
    let o = cli.run(&["session", "exec", id, "--", "sh", "-c", "exit 3"]);
    assert_eq!(o.status.code(), Some(3));
    let (code, v) = cli.json(&[
        "session",
        "exec",
        id,
        "--json",
        "--",
        "cat",
        "/workspace/f",
        "/tmp/g",
    ]);
    assert_eq!(code, Some(0));
    assert_eq!(v["stdout"], "a\nb\n", "state did not persist: {v}");
    let verified: Vec<&str> = v["verification"]["verified"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for check in [
        "read-only-rootfs",
        "cap-drop",
        "pids-limit",
        "workspace-volume",
        "uid",
    ] {
        assert!(
            verified.contains(&check),
            "{check} not re-verified: {verified:?}"
        );
    }
    let (_, v) = cli.json(&[
        "session",
        "exec",
        id,
        "--json",
        "--output-limit",
        "1k",
        "--",
        "sh",
        "-c",
        "yes | head -c 100000",
    ]);
    assert_eq!(v["stdout"].as_str().unwrap().len(), 1024);
    assert_eq!(v["truncated"]["stdout"], true);

    // put a directory, read it inside, get a file and the directory back
    let host = tempfile::tempdir().unwrap();
    let src = host.path().join("src");
    std::fs::create_dir_all(src.join("deep")).unwrap();
    std::fs::write(src.join("one.txt"), "one\n").unwrap();
    std::fs::write(src.join("deep/two.txt"), "two\n").unwrap();
    let src_s = src.to_str().unwrap();
    let (code, v) = cli.json(&["session", "put", id, src_s, "proj/", "--json"]);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(
        (v["files"].as_u64(), v["remote"].as_str()),
        (Some(2), Some("/workspace/proj/src"))
    );
    let o = cli.run(&[
        "session",
        "exec",
        id,
        "--",
        "sh",
        "-c",
        "cat proj/src/deep/two.txt; stat -c %u proj/src/one.txt; echo new > proj/src/one.txt",
    ]);
    assert_eq!(text(&o.stdout), "two\n65534\n", "{}", text(&o.stderr));
    let back = host.path().join("one.back");
    let o = cli.run(&[
        "session",
        "get",
        id,
        "/workspace/proj/src/one.txt",
        back.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(std::fs::read_to_string(&back).unwrap(), "new\n");
    let tree = host.path().join("tree");
    let o = cli.run(&["session", "get", id, "proj", tree.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(
        std::fs::read_to_string(tree.join("src/deep/two.txt")).unwrap(),
        "two\n"
    );
}

/// Paths that leave /workspace, symlinks both ways, devices.
fn escapes(cli: &Cli, id: &str) {
    let host = tempfile::tempdir().unwrap();
    let file = host.path().join("f");
    std::fs::write(&file, "x").unwrap();
    let f = file.to_str().unwrap();
    let refused = |args: &[&str], why: &str| {
        let o = cli.run(args);
        let err = text(&o.stderr);
        assert_eq!(
            o.status.code(),
            Some(125),
            "{args:?} was not refused: {err}"
        );
        assert!(
            err.contains("path_refused") && err.contains(why),
            "{args:?}: {err}"
        );
    };
    refused(&["session", "put", id, f, "../x"], "`..` is not allowed");
    refused(
        &["session", "put", id, f, "/etc/x"],
        "only paths under /workspace",
    );
    refused(
        &["session", "get", id, "/etc/passwd", "/tmp/x"],
        "only paths under /workspace",
    );
    let o = cli.run(&[
        "session", "exec", id, "--", "sh", "-c",
        "ln -s /etc /workspace/etc && mkdir /workspace/d && ln -s /etc/passwd /workspace/d/p && ln -s /etc/passwd /workspace/lp",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    refused(&["session", "put", id, f, "etc/evil"], "symlink");
    refused(
        &["session", "get", id, "etc/passwd", "/tmp/never"],
        "symlink",
    );
    refused(&["session", "get", id, "lp", "/tmp/never"], "symlink");
    let out = host.path().join("d-out");
    refused(
        &["session", "get", id, "d", out.to_str().unwrap()],
        "symlink",
    );
    assert!(!out.exists(), "a refused get wrote something");
    // the host side: LOCAL a symlink to a file outside is never written through
    let victim = host.path().join("victim");
    std::fs::write(&victim, "keep").unwrap();
    let link = host.path().join("link");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let o = cli.run(&[
        "session",
        "exec",
        id,
        "--",
        "sh",
        "-c",
        "echo evil > /workspace/e",
    ]);
    assert_eq!(o.status.code(), Some(0));
    refused(
        &["session", "get", id, "e", link.to_str().unwrap()],
        "symlink",
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
    // a host symlink is never followed on put
    refused(
        &["session", "put", id, link.to_str().unwrap(), "l"],
        "only a regular file",
    );
    // a device is not copied in
    refused(
        &["session", "put", id, "/dev/null", "n"],
        "only a regular file",
    );
    // the container's root filesystem was not touched
    let o = cli.run(&["session", "exec", id, "--", "ls", "/etc"]);
    assert!(!text(&o.stdout).contains("evil"), "{}", text(&o.stdout));
}

/// A timed-out exec is killed with its children; the session lives on.
fn timeouts(cli: &Cli, id: &str) {
    let started = Instant::now();
    let o = cli.run(&[
        "session",
        "exec",
        id,
        "--timeout",
        "1s",
        "--",
        "sh",
        "-c",
        "sleep 61 & sleep 62",
    ]);
    assert_eq!(o.status.code(), Some(124), "{}", text(&o.stderr));
    assert!(started.elapsed() < Duration::from_secs(15));
    let o = cli.run(&["session", "exec", id, "--", "ps"]);
    let ps = text(&o.stdout);
    assert!(!ps.contains("sleep 61") && !ps.contains("sleep 62"), "{ps}");
}

fn listing(cli: &Cli, main: &str) {
    let (code, v) = cli.json(&["session", "ls", "--json"]);
    assert_eq!(code, Some(0));
    let mine = v
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == main)
        .unwrap_or_else(|| panic!("{main} not listed: {v}"));
    assert_eq!(mine["recorded"], true);
    assert_eq!(mine["state"], "running");
    assert!(mine["ttl_left"].as_u64().unwrap() > 500);
}

/// The 3 s session: its watchdog killed (SIGKILL), no sandlint process left for it; the daemon
/// removes it at the deadline (the sleep ends, AutoRemove), volume included.
fn ttl(cli: &Cli, docker: &Docker, rt: &tokio::runtime::Runtime, id: &str, started: Instant) {
    let owner = rt
        .block_on(docker.inspect_container(&format!("sandlint-session-{id}"), None))
        .ok()
        .and_then(|c| c.config?.labels?.get("dev.sandlint.owner").cloned());
    if let Some(pid) = owner
        .as_deref()
        .and_then(|o| o.rsplit_once(':'))
        .map(|(_, p)| p.to_string())
    {
        let _ = Command::new("kill").args(["-KILL", &pid]).status();
    }
    assert!(
        wait_gone(docker, rt, id, Duration::from_secs(30)),
        "the expired session is still there {:?} after start",
        started.elapsed()
    );
    let o = cli.run(&["session", "exec", id, "--", "true"]);
    assert_eq!(o.status.code(), Some(125));
    assert!(
        text(&o.stderr).contains("no session"),
        "{}",
        text(&o.stderr)
    );
    let mut filters = HashMap::new();
    filters.insert(
        "label".to_string(),
        vec![format!("dev.sandlint.session={id}")],
    );
    let vols = rt
        .block_on(
            docker.list_volumes(Some(
                bollard::query_parameters::ListVolumesOptionsBuilder::new()
                    .filters(&filters)
                    .build(),
            )),
        )
        .unwrap();
    assert!(
        vols.volumes.unwrap_or_default().is_empty(),
        "the /workspace volume is left"
    );
}

/// `docker update` of a limit, and a container made by hand with our labels: refused.
fn tampering(cli: &Cli, docker: &Docker, rt: &tokio::runtime::Runtime, id: &str, image: &str) {
    let name = format!("sandlint-session-{id}");
    let c = rt.block_on(docker.inspect_container(&name, None)).unwrap();
    let labels = c.config.unwrap().labels.unwrap();
    // a hand-made look-alike: our labels, another id
    let fake = "0123456789ab";
    let mut fake_labels = labels.clone();
    fake_labels.insert("dev.sandlint.session".to_string(), fake.to_string());
    let body = bollard::models::ContainerCreateBody {
        image: Some(image.to_string()),
        cmd: Some(vec!["sleep".to_string(), "60".to_string()]),
        labels: Some(fake_labels),
        ..Default::default()
    };
    let fake_name = format!("sandlint-session-{fake}");
    rt.block_on(
        docker.create_container(
            Some(
                CreateContainerOptionsBuilder::new()
                    .name(&fake_name)
                    .build(),
            ),
            body,
        ),
    )
    .unwrap();
    rt.block_on(docker.start_container(&fake_name, None))
        .unwrap();
    let o = cli.run(&["session", "exec", fake, "--", "id"]);
    let _ = rt.block_on(docker.remove_container(
        &fake_name,
        Some(RemoveContainerOptionsBuilder::new().force(true).build()),
    ));
    assert_eq!(o.status.code(), Some(125));
    assert!(
        text(&o.stderr).contains("no session"),
        "{}",
        text(&o.stderr)
    );
    assert!(text(&o.stdout).is_empty());

    // the real session, its pids limit raised behind sandlint's back
    rt.block_on(docker.update_container(
        &name,
        bollard::models::ContainerUpdateBody {
            pids_limit: Some(10_000),
            ..Default::default()
        },
    ))
    .unwrap();
    let o = cli.run(&["session", "exec", id, "--", "echo", "ran"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(125), "{err}");
    assert!(
        err.contains("session_tampered") && err.contains("pids-limit"),
        "{err}"
    );
    assert!(!text(&o.stdout).contains("ran"));
    let (code, _) = cli.json(&["session", "put", id, "/etc/hostname", "h", "--json"]);
    assert_eq!(code, Some(125), "a put into a tampered session");
}

fn stop(cli: &Cli, docker: &Docker, rt: &tokio::runtime::Runtime, id: &str) {
    assert!(!session_containers(docker, rt, id).is_empty());
    let (code, v) = cli.json(&["session", "stop", id, "--json"]);
    assert_eq!((code, v["removed"].as_bool()), (Some(0), Some(true)), "{v}");
    assert!(session_containers(docker, rt, id).is_empty());
    let o = cli.run(&["session", "stop", id]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!cli.state.join(format!("{id}.json")).exists());
}

/// `--bound-to PID`: the session goes when that process does (SIGKILL), TTL or not.
fn bound(
    cli: &Cli,
    docker: &Docker,
    rt: &tokio::runtime::Runtime,
    image: &str,
    ids: &std::cell::RefCell<Vec<String>>,
) {
    let mut owner = Command::new("sleep").arg("300").spawn().unwrap();
    let pid = owner.id().to_string();
    let (code, v) = cli.json(&[
        "session",
        "start",
        "--image",
        image,
        "--ttl",
        "10m",
        "--bound-to",
        &pid,
        "--json",
    ]);
    assert_eq!(code, Some(0), "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    ids.borrow_mut().push(id.clone());
    assert!(!session_containers(docker, rt, &id).is_empty());
    let _ = cli.run(&["session", "exec", &id, "--", "true"]);
    owner.kill().unwrap();
    owner.wait().unwrap();
    assert!(
        wait_gone(docker, rt, &id, Duration::from_secs(15)),
        "the session outlived the process it was bound to"
    );
}

/// `session start --allow-host` judges the allowlist before any daemon call, like `run` (the
/// live tests of sessions with an allowlist are in tests/egress_session.rs).
#[test]
fn a_session_allowlist_is_checked_before_the_daemon() {
    let state = tempfile::tempdir().unwrap();
    for (args, message) in [
        (
            vec!["--allow-host", "10.0.0.1"],
            "--allow-host: `10.0.0.1`: an IP address, not a host name",
        ),
        (
            vec!["--allow-host", "a.org", "--network", "bridge"],
            "--allow-host and --network bridge cannot be combined",
        ),
    ] {
        let o = Command::new(BIN)
            .args(["session", "start", "--image", "sandlint-no-such-image:1"])
            .args(&args)
            .env("SANDLINT_SESSION_DIR", state.path())
            .env(
                "DOCKER_HOST",
                "unix:///nonexistent/sandlint-test/docker.sock",
            )
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(125), "{args:?}: {err}");
        assert!(err.contains(message), "{args:?}: {err}");
    }
}
