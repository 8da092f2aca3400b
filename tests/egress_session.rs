//! `sandlint session --allow-host`, live against the daemon: a session's egress sidecar and
//! networks live as long as the session; every exec reaches the allowed name (a busybox `httpd`
//! container on the session's outer network as `allowed.test`/`denied.test`) and only it, and
//! reports its own decisions; tampering with the sidecar or the networks refuses the next call;
//! stop, gc, the TTL and a start killed midway leave no container and no network (by label). No
//! traffic leaves this machine. A missing daemon skips loudly, and fails when
//! `SANDLINT_REQUIRE_DOCKER=1` (CI).
#![cfg(feature = "sandbox")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test on setup errors"
)]

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::text;
#[path = "common/egress_cli.rs"]
mod egress_cli;
use egress_cli::{build_image, daemon_up, docker, docker_ok, leftovers};

const BIN: &str = env!("CARGO_BIN_EXE_sandlint");

/// `sandlint session` with this test's state directory.
fn session(state: &std::path::Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("session")
        .args(args)
        .env("SANDLINT_SESSION_DIR", state)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn session_json(state: &std::path::Path, args: &[&str]) -> serde_json::Value {
    let o = session(state, args);
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: {e} (exit {:?}): {}{}",
            o.status.code(),
            text(&o.stdout),
            text(&o.stderr)
        )
    })
}

fn start_session(state: &std::path::Path, image: &str, ttl: &str) -> serde_json::Value {
    let v = session_json(
        state,
        &[
            "start",
            "--image",
            image,
            "--allow-host",
            "allowed.test",
            "--allow-port",
            "8080",
            "--user",
            "65534:65534",
            "--ttl",
            ttl,
            "--json",
        ],
    );
    assert!(v["id"].is_string(), "{v}");
    v
}

/// What is left of a session: its container, its sidecar, its networks.
fn session_leftovers(id: &str) -> Vec<String> {
    let mut left = leftovers(&format!("sandlint-session-{id}"));
    left.extend(
        docker_ok(&[
            "ps",
            "-aq",
            "--filter",
            &format!("label=dev.sandlint.session={id}"),
        ])
        .lines()
        .map(str::to_string),
    );
    left
}

fn wait_session_gone(id: &str, within: Duration) -> Vec<String> {
    let started = Instant::now();
    loop {
        let left = session_leftovers(id);
        if left.is_empty() || started.elapsed() > within {
            return left;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn events(egress: &serde_json::Value, kind: &str) -> Vec<(String, u64, String)> {
    egress[kind]
        .as_array()
        .unwrap_or_else(|| panic!("no {kind} in {egress}"))
        .iter()
        .map(|e| {
            (
                e["host"].as_str().unwrap().to_string(),
                e["port"].as_u64().unwrap(),
                e["method"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A session with an allowlist: the sidecar and the networks live as long as the session;
/// every exec reaches the allowed name and only it, and reports its own decisions; tampering
/// with the sidecar or the networks refuses the next call; stop, gc, the TTL and a start killed
/// midway leave nothing.
#[test]
fn egress_session_live() {
    if !daemon_up() {
        common::skip_or_fail(
            "SANDLINT_REQUIRE_DOCKER",
            "the live egress session tests",
            "no Docker daemon reachable (docker info failed)",
        );
        return;
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let tag = format!("{}-{nanos:x}", std::process::id());
    let image = format!("sandlint-test-egress-session:{tag}");
    build_image(&image);
    let server = format!("sandlint-test-egress-ssrv-{tag}");
    let park = format!("sandlint-test-egress-park-{tag}");
    docker_ok(&["network", "create", "--internal", &park]);
    docker_ok(&[
        "run",
        "-d",
        "--name",
        &server,
        "--network",
        &park,
        "--read-only",
        "--cap-drop",
        "ALL",
        "--user",
        "65534:65534",
        &image,
        "httpd",
        "-f",
        "-p",
        "8080",
        "-h",
        "/www",
    ]);
    let state = tempfile::tempdir().unwrap();
    let ids = std::cell::RefCell::new(Vec::new());
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        session_scenario(state.path(), &image, &server, &park, &ids);
    }));
    for id in ids.borrow().iter() {
        let _ = session(state.path(), &["stop", id]);
    }
    let _ = docker(&["rm", "-f", &server]);
    let _ = docker(&["network", "rm", &park]);
    let _ = docker(&["rmi", "-f", &image]);
    for id in ids.borrow().iter() {
        assert_eq!(session_leftovers(id), Vec::<String>::new(), "session {id}");
    }
    if let Err(e) = outcome {
        std::panic::resume_unwind(e);
    }
}

fn session_scenario(
    state: &std::path::Path,
    image: &str,
    server: &str,
    park: &str,
    ids: &std::cell::RefCell<Vec<String>>,
) {
    let info = start_session(state, image, "10m");
    let id = info["id"].as_str().unwrap().to_string();
    ids.borrow_mut().push(id.clone());
    let egress = &info["egress"];
    let outside = egress["outer_network"].as_str().unwrap().to_string();
    assert_eq!(
        egress["proxy"],
        format!("sandlint-session-{id}-proxy"),
        "{info}"
    );
    for check in egress["checks"].as_array().unwrap() {
        assert_eq!(check["status"], "verified", "{check}");
    }
    docker_ok(&[
        "network",
        "connect",
        "--alias",
        "allowed.test",
        "--alias",
        "denied.test",
        &outside,
        server,
    ]);
    let srv_ip = docker_ok(&[
        "inspect",
        server,
        "--format",
        &format!("{{{{(index .NetworkSettings.Networks \"{outside}\").IPAddress}}}}"),
    ]);
    let exec = |script: &str| -> serde_json::Value {
        session_json(state, &["exec", &id, "--json", "--", "sh", "-c", script])
    };
    // two execs: the allowed name both times, the workspace kept, each its own decisions
    let first = exec("wget -q -O - http://allowed.test:8080/ && echo kept > /workspace/f");
    assert_eq!(first["exit_code"], 0, "{first}");
    assert_eq!(first["stdout"], "hello from allowed.test\n", "{first}");
    assert_eq!(
        events(&first["egress"], "allowed"),
        [("allowed.test".to_string(), 8080, "GET".to_string())],
        "{first}"
    );
    let second = exec("wget -q -O - http://allowed.test:8080/ && cat /workspace/f");
    assert_eq!(
        second["stdout"], "hello from allowed.test\nkept\n",
        "{second}"
    );
    assert_eq!(events(&second["egress"], "allowed").len(), 1, "{second}");
    assert!(events(&second["egress"], "blocked").is_empty(), "{second}");
    let names: Vec<&str> = second["verification"]["egress"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for want in [
        "sandbox-networks",
        "proxy-running",
        "proxy-read-only-rootfs",
        "proxy-uid",
        "proxy-networks",
        "network-internal",
        "network-no-host-address",
        "network-members",
    ] {
        assert!(names.contains(&want), "{want} not re-verified: {names:?}");
    }
    // an unlisted name: the proxy's 403; an address, past the proxy; DNS for outside names
    let denied = exec(
        "p=${HTTP_PROXY#http://}; printf 'GET http://denied.test:8080/ HTTP/1.1\\r\\nHost: denied.test\\r\\n\\r\\n' | timeout 10 nc ${p%:*} ${p##*:}",
    );
    let out = denied["stdout"].as_str().unwrap();
    assert!(out.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{denied}");
    assert!(
        out.contains("denied.test is not in the allowlist"),
        "{denied}"
    );
    assert_eq!(
        events(&denied["egress"], "blocked"),
        [("denied.test".to_string(), 8080, "GET".to_string())],
        "{denied}"
    );
    assert!(events(&denied["egress"], "allowed").is_empty(), "{denied}");
    let direct = exec(&format!(
        "timeout 5 wget -q -Y off -O - http://{srv_ip}:8080/; echo direct-rc=$?; timeout 8 nslookup outside.example >/dev/null 2>&1; echo dns-rc=$?"
    ));
    let out = direct["stdout"].as_str().unwrap();
    assert!(
        !out.contains("hello") && !out.contains("direct-rc=0\n"),
        "{direct}"
    );
    assert!(
        !out.contains("dns-rc=0\n") && out.contains("dns-rc="),
        "{direct}"
    );
    tampering(state, &id, park);
    // stop: nothing left
    let stopped = session_json(state, &["stop", &id, "--json"]);
    assert_eq!(stopped["removed"], true, "{stopped}");
    assert_eq!(session_leftovers(&id), Vec::<String>::new());
    assert!(docker(&["network", "inspect", &outside]).status.code() != Some(0));
    ttl_and_gc(state, image, ids);
    killed_start(state, image, ids);
    killed_after_create(state, image, ids);
}

/// The sandbox attached to another network, then the sidecar stopped: the next call refuses.
fn tampering(state: &std::path::Path, id: &str, park: &str) {
    let sandbox = format!("sandlint-session-{id}");
    docker_ok(&["network", "connect", park, &sandbox]);
    let o = session(state, &["exec", id, "--", "echo", "ran"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(125), "{err}");
    assert!(
        err.contains("session_tampered") && err.contains("sandbox-networks"),
        "{err}"
    );
    assert!(!text(&o.stdout).contains("ran"));
    docker_ok(&["network", "disconnect", park, &sandbox]);
    let o = session(state, &["exec", id, "--", "echo", "ran"]);
    assert_eq!(text(&o.stdout), "ran\n", "{}", text(&o.stderr));
    docker_ok(&["stop", "-t", "1", &format!("{sandbox}-proxy")]);
    let o = session(state, &["exec", id, "--", "echo", "ran"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(125), "{err}");
    assert!(
        err.contains("session_tampered") && err.contains("proxy-running"),
        "{err}"
    );
    let o = session(state, &["put", id, "/etc/hostname", "h"]);
    assert_eq!(o.status.code(), Some(125), "a put with the sidecar stopped");
}

/// The TTL with the watchdog alive: it removes everything at the deadline. With the watchdog
/// killed: the daemon removes the session's container and its sidecar (both end at the TTL,
/// `AutoRemove`), `session gc` the networks.
fn ttl_and_gc(state: &std::path::Path, image: &str, ids: &std::cell::RefCell<Vec<String>>) {
    let watched = start_session(state, image, "3s")["id"]
        .as_str()
        .unwrap()
        .to_string();
    ids.borrow_mut().push(watched.clone());
    let orphan = start_session(state, image, "3s")["id"]
        .as_str()
        .unwrap()
        .to_string();
    ids.borrow_mut().push(orphan.clone());
    let owner = docker_ok(&[
        "inspect",
        &format!("sandlint-session-{orphan}"),
        "--format",
        "{{index .Config.Labels \"dev.sandlint.owner\"}}",
    ]);
    let pid = owner.rsplit_once(':').unwrap().1.to_string();
    assert!(
        Command::new("kill")
            .args(["-KILL", &pid])
            .status()
            .unwrap()
            .success()
    );
    assert_eq!(
        wait_session_gone(&watched, Duration::from_secs(30)),
        Vec::<String>::new(),
        "the watchdog left some of the session at its TTL"
    );
    let started = Instant::now();
    while docker(&["inspect", &format!("sandlint-session-{orphan}")])
        .status
        .success()
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no auto-remove"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    // the sidecar's proxy ends at the TTL too, and the daemon removes it (AutoRemove); the
    // networks stay for gc
    let proxy = format!("sandlint-session-{orphan}-proxy");
    while docker(&["inspect", &proxy]).status.success() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the sidecar outlived its TTL with its watchdog killed"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    assert_eq!(
        docker_ok(&[
            "network",
            "ls",
            "-q",
            "--filter",
            &format!("label=dev.sandlint.egress-of=sandlint-session-{orphan}"),
        ])
        .lines()
        .count(),
        2,
        "the networks of a session whose watchdog was killed are removed by gc"
    );
    let o = session(state, &["gc"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(session_leftovers(&orphan), Vec::<String>::new());
}

/// `session start` SIGKILLed while it sets up the sidecar (no container, no state file yet):
/// its watchdog removes the sidecar and the networks within seconds, not at the TTL.
fn killed_start(state: &std::path::Path, image: &str, ids: &std::cell::RefCell<Vec<String>>) {
    let before = docker_ok(&[
        "ps",
        "-a",
        "--filter",
        "label=dev.sandlint.egress-of",
        "--format",
        "{{.Names}}",
    ]);
    let mut child = Command::new(BIN)
        .args([
            "session",
            "start",
            "--image",
            image,
            "--allow-host",
            "allowed.test",
        ])
        .args(["--user", "65534:65534", "--ttl", "10m"])
        .env("SANDLINT_SESSION_DIR", state)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let proxy = loop {
        let now = docker_ok(&[
            "ps",
            "-a",
            "--filter",
            "label=dev.sandlint.egress-of",
            "--format",
            "{{.Names}}",
        ]);
        if let Some(p) = now.lines().find(|n| !before.lines().any(|b| b == *n)) {
            break p.to_string();
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no sidecar appeared"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    child.kill().unwrap();
    let _ = child.wait();
    let id = proxy
        .strip_prefix("sandlint-session-")
        .and_then(|p| p.strip_suffix("-proxy"))
        .unwrap()
        .to_string();
    ids.borrow_mut().push(id.clone());
    assert!(
        !state.join(format!("{id}.json")).exists(),
        "killed too late"
    );
    assert!(!session_leftovers(&id).is_empty());
    assert_eq!(
        wait_session_gone(&id, Duration::from_secs(20)),
        Vec::<String>::new(),
        "a session killed during start outlived its start"
    );
}

/// `session start` SIGKILLed as soon as the daemon reports the session's container created
/// (`docker events`), before the start verified it and saved the state: the watchdog removes
/// the container, the sidecar and the networks within seconds.
fn killed_after_create(
    state: &std::path::Path,
    image: &str,
    ids: &std::cell::RefCell<Vec<String>>,
) {
    let mut hits = 0;
    for _ in 0..3 {
        let mut events = Command::new("docker")
            .args([
                "events",
                "--filter",
                "type=container",
                "--filter",
                "event=create",
            ])
            .args([
                "--filter",
                "label=dev.sandlint.session",
                "--format",
                "{{.Actor.Attributes.name}}",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(300));
        let mut child = Command::new(BIN)
            .args([
                "session",
                "start",
                "--image",
                image,
                "--allow-host",
                "allowed.test",
            ])
            .args(["--user", "65534:65534", "--ttl", "10m"])
            .env("SANDLINT_SESSION_DIR", state)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        let mut reader = std::io::BufReader::new(events.stdout.take().unwrap());
        std::io::BufRead::read_line(&mut reader, &mut line).unwrap();
        child.kill().unwrap();
        let _ = child.wait();
        let _ = events.kill();
        let _ = events.wait();
        let id = line
            .trim()
            .strip_prefix("sandlint-session-")
            .unwrap_or_else(|| panic!("not a session: {line}"))
            .to_string();
        ids.borrow_mut().push(id.clone());
        if state.join(format!("{id}.json")).exists() {
            // killed too late: a started session (removed at the end)
            continue;
        }
        hits += 1;
        assert_eq!(
            wait_session_gone(&id, Duration::from_secs(20)),
            Vec::<String>::new(),
            "a session killed after its container was created outlived its start"
        );
    }
    assert!(
        hits > 0,
        "no start was killed between create and its state file"
    );
}
