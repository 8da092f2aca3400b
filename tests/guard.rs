//! `sandlint guard`: a fuzz of malformed, oversized and refused HTTP requests against a guard
//! in this process whose upstream is a fake socket that records every connection (none may
//! come; the guard must answer or close, never panic), and, against the real daemon, the docker
//! CLI and the Python docker SDK through a `sandlint guard` process: hardened runs work
//! (`run --rm`, `-i`, `exec`, `logs -f`, `ps`), dangerous ones are refused with their reasons,
//! and the guard removes its containers when it is stopped.
//!
//! The live test skips loudly without a daemon and fails when `SANDLINT_REQUIRE_DOCKER=1`; its
//! Python part needs the `docker` package (`SANDLINT_DOCKER_SDK_PYTHON`, else `python3`) and fails without
//! it when `SANDLINT_REQUIRE_DOCKER_SDK=1`.
#![cfg(feature = "sandbox")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr,
    reason = "test helpers fail the test on setup errors"
)]

mod common;

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sandlint::config::{Config, Preset};
use sandlint::sandbox::guard::{self, GuardOptions, Limits, Policy};

const BIN: &str = env!("CARGO_BIN_EXE_sandlint");

fn policy() -> Policy {
    Policy {
        bind_roots: Vec::new(),
        network: None,
        memory: 256 << 20,
        nano_cpus: 1_000_000_000,
        pids: 64,
        tmp_size: 16 << 20,
        config: Config {
            preset: Preset::Sandbox,
            ..Config::default()
        },
    }
}

/// A socket that counts the connections made to it.
fn fake_upstream(path: &Path) -> Arc<AtomicUsize> {
    let listener = UnixListener::bind(path).unwrap();
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(conn);
        }
    });
    seen
}

/// Sends `bytes` (then closes the write side), reads the answer for at most `wait`.
fn exchange(socket: &Path, bytes: &[u8], wait: Duration) -> Vec<u8> {
    let Ok(mut s) = UnixStream::connect(socket) else {
        return Vec::new();
    };
    s.set_read_timeout(Some(wait)).unwrap();
    s.set_write_timeout(Some(wait)).unwrap();
    let _ = s.write_all(bytes);
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline && out.len() < 1 << 20 {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    out
}

fn status_of(answer: &[u8]) -> Option<u16> {
    let text = String::from_utf8_lossy(answer);
    let line = text.lines().next()?;
    line.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

fn request(method: &str, path: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "{method} {path} HTTP/1.1\r\nHost: docker\r\n{headers}Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

/// Requests answered without the daemon, with the status they get.
fn fixed_cases() -> Vec<(&'static str, Vec<u8>, Option<u16>)> {
    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    vec![
        ("root path", request("GET", "/", "", b""), Some(400)),
        ("unknown endpoint", request("GET", "/v1.41/nothing/here", "", b""), Some(403)),
        ("network create", request("POST", "/v1.41/networks/create", "Content-Type: application/json\r\n", br#"{"Name":"x"}"#), Some(403)),
        ("swarm", request("POST", "/swarm/init", "", b"{}"), Some(403)),
        ("events", request("GET", "/events", "", b""), Some(403)),
        ("prune", request("POST", "/v1.41/containers/prune", "", b""), Some(403)),
        ("pull disabled", request("POST", "/images/create?fromImage=x", "", b""), Some(403)),
        ("build disabled", request("POST", "/build", "", b"tar"), Some(403)),
        ("dot-dot", request("GET", "/v1.41/containers/../../etc/json", "", b""), Some(400)),
        ("encoded", request("GET", "/containers/%2e%2e/json", "", b""), Some(400)),
        ("bad ref", request("GET", "/containers/-x/json", "", b""), Some(404)),
        ("unknown exec", request("POST", "/exec/0123abcd/start", "Upgrade: tcp\r\nConnection: Upgrade\r\n", b"{}"), Some(403)),
        ("create: not JSON", request("POST", "/containers/create", "", b"{not json"), Some(400)),
        ("create: wrong types", request("POST", "/containers/create", "", br#"{"Image": 5, "HostConfig": []}"#), Some(400)),
        ("create: deep nesting", request("POST", "/containers/create", "", nested.as_bytes()), Some(400)),
        ("create: too large", request("POST", "/containers/create", "", &vec![b' '; 2 << 20]), Some(413)),
        ("create: no image", request("POST", "/containers/create", "", b"{}"), Some(400)),
        (
            "create: content-length lies",
            b"POST /containers/create HTTP/1.1\r\nHost: d\r\nContent-Length: 99999999999\r\n\r\n{}".to_vec(),
            None,
        ),
        (
            "content-length and chunked",
            b"POST /containers/create HTTP/1.1\r\nHost: d\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".to_vec(),
            Some(400),
        ),
        (
            "bad chunk",
            b"POST /containers/create HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n".to_vec(),
            None,
        ),
        ("header without colon", b"GET /info HTTP/1.1\r\nHost d\r\n\r\n".to_vec(), Some(400)),
        ("bad method", b"G\x00T /info HTTP/1.1\r\n\r\n".to_vec(), Some(400)),
        ("http2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec(), None),
        (
            "huge header",
            format!("GET /info HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(200_000)).into_bytes(),
            Some(431),
        ),
        (
            "many headers",
            format!("GET /info HTTP/1.1\r\n{}\r\n", "X: y\r\n".repeat(500)).into_bytes(),
            Some(431),
        ),
        ("garbage", (0..=255u8).cycle().take(5000).collect(), Some(400)),
        (
            "pipelined refusals",
            [request("GET", "/events", "", b""), request("POST", "/swarm/init", "", b"")].concat(),
            Some(403),
        ),
    ]
}

#[test]
fn fuzz_never_reaches_the_daemon_nor_panics() {
    let dir = tempfile::tempdir().unwrap();
    let upstream = dir.path().join("upstream.sock");
    let listen = dir.path().join("guard.sock");
    let seen = fake_upstream(&upstream);
    let panics = Arc::new(AtomicUsize::new(0));
    let counter = panics.clone();
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().name() == Some("sandlint-guard") {
            counter.fetch_add(1, Ordering::SeqCst);
        }
        default_hook(info);
    }));
    let limits = Limits {
        head_timeout: Duration::from_millis(500),
        body_timeout: Duration::from_millis(500),
        ..Limits::default()
    };
    let handle = guard::spawn(GuardOptions {
        listen: listen.clone(),
        upstream,
        socket_mode: 0o600,
        policy: policy(),
        allow_pull: false,
        allow_build: false,
        limits,
    })
    .unwrap();
    let wait = Duration::from_secs(3);
    for (what, bytes, want) in fixed_cases() {
        let answer = exchange(&listen, &bytes, wait);
        let got = status_of(&answer);
        if let Some(want) = want {
            assert_eq!(
                got,
                Some(want),
                "{what}: {}",
                String::from_utf8_lossy(&answer)
            );
        } else {
            assert!(
                got.is_none_or(|s| (400..500).contains(&s)),
                "{what}: {got:?}"
            );
        }
        if got == Some(403) {
            let text = String::from_utf8_lossy(&answer);
            assert!(
                text.contains(r#"{"message":"sandlint guard: "#),
                "{what}: {text}"
            );
        }
    }
    // A client that sends half a head and waits is cut off.
    let mut slow = UnixStream::connect(&listen).unwrap();
    slow.write_all(b"GET /info HTTP/1.1\r\nHost:").unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let started = Instant::now();
    let mut buf = Vec::new();
    let _ = slow.read_to_end(&mut buf);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "slow head not cut"
    );

    // Mutations of requests answered without the daemon.
    let seed = common::env_u64("SANDLINT_GUARD_FUZZ_SEED").unwrap_or(0x5eed_6a2d);
    let rounds = common::env_u64("SANDLINT_GUARD_FUZZ_ROUNDS").unwrap_or(300);
    let mut rng = common::Rng::new(seed);
    let templates: Vec<Vec<u8>> = fixed_cases().into_iter().map(|c| c.1).take(16).collect();
    let mut sent = 0;
    for round in 0..rounds {
        let mut bytes = rng.pick(&templates);
        bytes.truncate(4096);
        for _ in 0..=rng.below(8) {
            if bytes.is_empty() {
                break;
            }
            let at = rng.below(bytes.len());
            match rng.below(4) {
                0 => bytes[at] = u8::try_from(rng.below(256)).unwrap(),
                1 => {
                    bytes.remove(at);
                }
                2 => bytes.insert(at, rng.pick(b"\r\n:/ %\x00{}")),
                _ => bytes.truncate(at),
            }
        }
        // a mutation that reaches an endpoint the daemon answers would dial it: keep them out
        let text = String::from_utf8_lossy(&bytes);
        let dials = [
            "_ping",
            "/info",
            "/version",
            "/images/json",
            "containers/json",
            "/containers/create",
        ]
        .iter()
        .any(|p| text.contains(p))
            || text.contains("/containers/")
            || text.contains("/images/");
        if dials {
            continue;
        }
        sent += 1;
        let answer = exchange(&listen, &bytes, Duration::from_millis(1500));
        if let Some(s) = status_of(&answer) {
            assert!(
                (400..500).contains(&s),
                "round {round} (seed {seed}): {s}: {text:?}"
            );
        }
    }
    assert!(
        sent >= rounds / 4,
        "only {sent} of {rounds} mutations were sent"
    );
    eprintln!("{sent} of {rounds} mutations sent (seed {seed})");
    // Still alive, still refusing.
    let answer = exchange(&listen, &request("GET", "/system/df", "", b""), wait);
    assert_eq!(status_of(&answer), Some(403));
    assert_eq!(seen.load(Ordering::SeqCst), 0, "the upstream was contacted");
    assert_eq!(panics.load(Ordering::SeqCst), 0, "the guard panicked");
    handle.stop();
}

/// A fake daemon that answers what a create needs, and reports the created container without
/// the read-only root filesystem the guard asked for. Records `METHOD PATH` of each request.
fn degraded_daemon(path: &Path) -> Arc<std::sync::Mutex<Vec<String>>> {
    let listener = UnixListener::bind(path).unwrap();
    let log = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = log.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && conn.read(&mut byte).is_ok_and(|n| n == 1) {
                head.push(byte[0]);
            }
            let head = text(&head);
            let length: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap_or(0))
                })
                .unwrap_or(0);
            let mut body = vec![0u8; length];
            let _ = conn.read_exact(&mut body);
            let line = head.lines().next().unwrap_or_default().to_string();
            let mut parts = line.split(' ');
            let (method, target) = (
                parts.next().unwrap_or_default(),
                parts.next().unwrap_or_default(),
            );
            seen.lock().unwrap().push(format!("{method} {target}"));
            let id = "ab".repeat(32);
            let (status, answer) = if target.contains("/images/") {
                (
                    "200 OK",
                    r#"{"Id":"sha256:00","Config":{"User":""}}"#.to_string(),
                )
            } else if target.contains("/containers/create") {
                ("201 Created", format!(r#"{{"Id":"{id}","Warnings":[]}}"#))
            } else if method == "GET" && target.contains("/containers/") {
                let inspect = serde_json::json!({
                    "Id": id,
                    "Config": {"User": "65534:65534", "Image": "img"},
                    "HostConfig": {"ReadonlyRootfs": false, "CapDrop": ["ALL"],
                        "SecurityOpt": ["no-new-privileges:true"], "NetworkMode": "none",
                        "Memory": 268435456, "MemorySwap": 268435456, "NanoCpus": 1000000000,
                        "PidsLimit": 64, "Init": true,
                        "Tmpfs": {"/tmp": "size=16777216,noexec,nosuid,nodev"}},
                    "State": {"Running": false},
                    "Mounts": []
                });
                ("200 OK", inspect.to_string())
            } else if method == "DELETE" {
                ("204 No Content", String::new())
            } else {
                ("404 Not Found", r#"{"message":"no"}"#.to_string())
            };
            let _ = write!(
                conn,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    log
}

/// A container the daemon reports without a protection the guard asked for is removed, and the
/// create is refused naming the check; the container is then no longer the guard's.
#[test]
fn a_degraded_container_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let upstream = dir.path().join("daemon.sock");
    let listen = dir.path().join("guard.sock");
    let log = degraded_daemon(&upstream);
    let handle = guard::spawn(GuardOptions {
        listen: listen.clone(),
        upstream,
        socket_mode: 0o600,
        policy: policy(),
        allow_pull: false,
        allow_build: false,
        limits: Limits::default(),
    })
    .unwrap();
    let body = br#"{"Image":"img","Cmd":["true"],"HostConfig":{"NetworkMode":"default"}}"#;
    let answer = exchange(
        &listen,
        &request(
            "POST",
            "/v1.41/containers/create",
            "Content-Type: application/json\r\n",
            body,
        ),
        Duration::from_secs(10),
    );
    let answer = text(&answer);
    assert_eq!(status_of(answer.as_bytes()), Some(403), "{answer}");
    assert!(
        answer.contains("the container failed verification and was killed and removed"),
        "{answer}"
    );
    assert!(
        answer.contains("read-only-rootfs (expected true, daemon reports false)"),
        "{answer}"
    );
    let id = "ab".repeat(32);
    let seen = log.lock().unwrap().clone();
    assert!(
        seen.iter().any(|r| r.starts_with("DELETE /containers/")
            && r.contains(&id)
            && r.contains("force=true")),
        "{seen:?}"
    );
    // The create the daemon saw was hardened.
    assert!(
        seen.iter()
            .any(|r| r.starts_with("POST ") && r.contains("/containers/create")),
        "{seen:?}"
    );
    let answer = exchange(
        &listen,
        &request("POST", &format!("/containers/{id}/start"), "", b""),
        Duration::from_secs(10),
    );
    assert!(
        text(&answer).contains("was not created by this guard"),
        "{}",
        text(&answer)
    );
    handle.stop();
}

/// Usage errors exit 2 before anything listens; an unreachable daemon exits 125.
#[test]
fn usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let sock = format!("unix://{}", dir.path().join("g.sock").display());
    let run = |args: &[&str]| Command::new(BIN).arg("guard").args(args).output().unwrap();
    for (args, want) in [
        (
            vec!["--listen", "relative.sock"],
            "expected unix:///absolute/path",
        ),
        (
            vec!["--listen", &sock, "--allow-bind-root", "/"],
            "must be a directory other than `/`",
        ),
        (
            vec![
                "--listen",
                &sock,
                "--allow-bind-root",
                "/nonexistent-guard-root",
            ],
            "--allow-bind-root /nonexistent-guard-root",
        ),
        (
            vec!["--listen", &sock, "--memory", "lots"],
            "--memory `lots`",
        ),
        (
            vec!["--listen", &sock, "--socket-mode", "999"],
            "--socket-mode `999`",
        ),
        (
            vec!["--listen", &sock, "--upstream", "tcp://x:2375"],
            "only unix sockets",
        ),
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o.stderr));
        assert!(
            text(&o.stderr).contains(want),
            "{args:?}: {}",
            text(&o.stderr)
        );
        assert!(!dir.path().join("g.sock").exists(), "{args:?} listened");
    }
    let missing = format!("unix://{}", dir.path().join("no-daemon.sock").display());
    let o = run(&["--listen", &sock, "--upstream", &missing]);
    assert_eq!(o.status.code(), Some(125), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("cannot reach the Docker daemon"),
        "{}",
        text(&o.stderr)
    );
    assert!(!dir.path().join("g.sock").exists(), "the socket is removed");
}

// ---------------------------------------------------------------- live, against the daemon

fn docker(host: Option<&Path>, args: &[&str]) -> Output {
    let mut c = Command::new("docker");
    if let Some(h) = host {
        c.arg("-H").arg(format!("unix://{}", h.display()));
    }
    c.args(args).stdin(Stdio::null()).output().unwrap()
}

fn docker_stdin(host: &Path, args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new("docker")
        .arg("-H")
        .arg(format!("unix://{}", host.display()))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Kills the guard process and removes the image and foreign container, whatever happens.
struct Live {
    guard: Option<std::process::Child>,
    image: String,
    foreign: String,
    forged: String,
}

impl Drop for Live {
    fn drop(&mut self) {
        if let Some(mut g) = self.guard.take() {
            // SIGTERM lets it remove its containers; whatever it left is removed by its label.
            sigterm(g.id());
            let deadline = Instant::now() + Duration::from_secs(15);
            while g.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = g.kill();
            let _ = g.wait();
            let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
            let owner = format!("label=dev.sandlint.owner={}:{}", host.trim(), g.id());
            let left = docker(None, &["ps", "-aq", "--filter", &owner]);
            for id in text(&left.stdout).split_whitespace() {
                let _ = docker(None, &["rm", "-f", id]);
            }
        }
        let _ = docker(None, &["rm", "-f", &self.foreign]);
        if !self.forged.is_empty() {
            let _ = docker(None, &["rm", "-f", &self.forged]);
        }
        let _ = docker(None, &["rmi", "-f", &self.image]);
    }
}

fn daemon_up() -> bool {
    Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn build_image(tag: &str) {
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .expect("busybox-static is needed for the test image");
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(busybox, dir.path().join("busybox")).unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n",
    )
    .unwrap();
    let o = Command::new("docker")
        .args(["build", "-q", "-t", tag])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "build: {}", text(&o.stderr));
}

/// Starts `sandlint guard` and waits until it says it serves.
fn start_guard(listen: &Path, bind_root: &Path) -> std::process::Child {
    let log = listen.with_extension("log");
    let mut child = Command::new(BIN)
        .args(["guard", "--listen"])
        .arg(format!("unix://{}", listen.display()))
        .arg("--allow-bind-root")
        .arg(bind_root)
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let said = std::fs::read_to_string(&log).unwrap_or_default();
        if said.contains("serving unix://") {
            return child;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the guard exited ({status}): {said}");
        }
        assert!(Instant::now() < deadline, "the guard did not start: {said}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn assert_refused(sock: &Path, args: &[&str], reasons: &[&str]) {
    let o = docker(Some(sock), args);
    let err = text(&o.stderr);
    assert!(
        !o.status.success(),
        "{args:?} was not refused: {}",
        text(&o.stdout)
    );
    assert!(err.contains("sandlint guard: "), "{args:?}: {err}");
    for r in reasons {
        assert!(err.contains(r), "{args:?}: `{r}` not in: {err}");
    }
}

#[test]
fn live_docker_cli_and_sdk_through_the_guard() {
    if !daemon_up() {
        common::skip_or_fail(
            "SANDLINT_REQUIRE_DOCKER",
            "the live guard tests",
            "no Docker daemon reachable (docker version failed)",
        );
        return;
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let run_id = format!("{}-{nanos:x}", std::process::id());
    let image = format!("sandlint-guard-test:{run_id}");
    let foreign = format!("sandlint-guard-foreign-{run_id}");
    let mut live = Live {
        guard: None,
        image: image.clone(),
        foreign: foreign.clone(),
        forged: String::new(),
    };
    build_image(&image);
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("guard.sock");
    let root = dir.path().join("share");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(root.join("hello.txt"), "from the host\n").unwrap();
    live.guard = Some(start_guard(&sock, &root));

    // Allowed, hardened.
    let o = docker(
        Some(&sock),
        &[
            "run",
            "--rm",
            &image,
            "sh",
            "-c",
            "echo hi; id -u; cat /proc/self/status | grep -E '^(NoNewPrivs|CapEff)'",
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(
        text(&o.stdout),
        "hi\n65534\nCapEff:\t0000000000000000\nNoNewPrivs:\t1\n"
    );
    let o = docker(
        Some(&sock),
        &[
            "run",
            "--rm",
            &image,
            "sh",
            "-c",
            "touch /x 2>/dev/null || echo ro; touch /tmp/x && echo tmp",
        ],
    );
    assert_eq!(text(&o.stdout), "ro\ntmp\n", "{}", text(&o.stderr));
    let o = docker_stdin(
        &sock,
        &["run", "-i", "--rm", &image, "cat"],
        b"through stdin\n",
    );
    assert_eq!(text(&o.stdout), "through stdin\n", "{}", text(&o.stderr));
    let bind = format!("{}:/share:ro", root.display());
    let o = docker(
        Some(&sock),
        &[
            "run",
            "--rm",
            "-v",
            &bind,
            &image,
            "cat",
            "/share/hello.txt",
        ],
    );
    assert_eq!(text(&o.stdout), "from the host\n", "{}", text(&o.stderr));

    // Refused, with their reasons.
    assert_refused(
        &sock,
        &["run", "--rm", "--privileged", &image, "true"],
        &["privileged-container", "privileged mode is refused"],
    );
    assert_refused(
        &sock,
        &["run", "--rm", "-v", "/:/host", &image, "true"],
        &["bind `/` is refused"],
    );
    assert_refused(
        &sock,
        &["run", "--rm", "--pid", "host", &image, "true"],
        &["host-namespace-shared"],
    );
    assert_refused(
        &sock,
        &["run", "--rm", "--network", "host", &image, "true"],
        &["host-network-mode", "network `host` is refused"],
    );
    assert_refused(
        &sock,
        &["run", "--rm", "--cap-add", "SYS_ADMIN", &image, "true"],
        &["dangerous-capability"],
    );
    assert_refused(
        &sock,
        &[
            "run",
            "--rm",
            "-v",
            "/var/run/docker.sock:/s",
            &image,
            "true",
        ],
        &["container runtime socket"],
    );
    assert_refused(
        &sock,
        &["run", "--rm", "-u", "0", &image, "true"],
        &["service-root-user"],
    );
    assert_refused(
        &sock,
        &["run", "--rm", "-v", "/etc:/e:ro", &image, "true"],
        &["allowed bind root"],
    );
    assert_refused(
        &sock,
        &["network", "create", &format!("x-{run_id}")],
        &["networks cannot be created"],
    );
    assert_refused(&sock, &["volume", "create"], &["volumes cannot be created"]);
    assert_refused(
        &sock,
        &["system", "df"],
        &["not available through the guard"],
    );

    // A container the guard did not create.
    let o = docker(
        None,
        &["run", "-d", "--name", &foreign, &image, "sleep", "60"],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_refused(
        &sock,
        &["exec", &foreign, "true"],
        &["was not created by this guard"],
    );
    assert_refused(
        &sock,
        &["logs", &foreign],
        &["was not created by this guard"],
    );
    assert_refused(
        &sock,
        &["rm", "-f", &foreign],
        &["was not created by this guard"],
    );

    // Its own container: exec, logs -f, ps, cp.
    let o = docker(
        Some(&sock),
        &[
            "run",
            "-d",
            &image,
            "sh",
            "-c",
            "echo one; echo two; sleep 60",
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let mine = text(&o.stdout).trim().to_string();
    let o = docker(Some(&sock), &["exec", &mine, "id", "-u"]);
    assert_eq!(text(&o.stdout), "65534\n", "{}", text(&o.stderr));
    let o = docker_stdin(&sock, &["exec", "-i", &mine, "cat"], b"exec stdin\n");
    assert_eq!(text(&o.stdout), "exec stdin\n", "{}", text(&o.stderr));
    assert_refused(
        &sock,
        &["exec", "-u", "0", &mine, "true"],
        &["root is not allowed"],
    );
    assert_refused(
        &sock,
        &["exec", "--privileged", &mine, "true"],
        &["privileged exec is refused"],
    );
    let mut logs = Command::new("docker")
        .arg("-H")
        .arg(format!("unix://{}", sock.display()))
        .args(["logs", "-f", &mine])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = logs.stdout.take().unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 64];
    while !text(&got).contains("two\n") {
        let n = out.read(&mut buf).unwrap();
        assert!(n > 0, "logs -f ended early: {}", text(&got));
        got.extend_from_slice(&buf[..n]);
    }
    let _ = logs.kill();
    let _ = logs.wait();
    // The guard's labels on a container made with the real socket do not make it the guard's.
    let o = docker(
        Some(&sock),
        &[
            "inspect",
            "-f",
            "{{index .Config.Labels \"dev.sandlint.guard\"}}",
            &mine,
        ],
    );
    let instance = text(&o.stdout).trim().to_string();
    assert_eq!(instance.len(), 32, "{}", text(&o.stderr));
    let forged = format!("{foreign}-forged");
    live.forged = forged.clone();
    let label = format!("dev.sandlint.guard={instance}");
    let o = docker(
        None,
        &[
            "run", "-d", "--name", &forged, "--label", &label, &image, "sleep", "60",
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_refused(
        &sock,
        &["exec", &forged, "true"],
        &["was not created by this guard"],
    );
    let o = docker(Some(&sock), &["ps", "-a", "--format", "{{.ID}}"]);
    let listed = text(&o.stdout);
    assert!(
        mine.starts_with(listed.trim()),
        "ps lists only the guard's: {listed:?}"
    );
    assert!(!listed.is_empty());
    let o = docker(
        Some(&sock),
        &[
            "cp",
            &format!("{mine}:/bin/busybox"),
            &dir.path().join("bb").to_string_lossy(),
        ],
    );
    assert!(o.status.success(), "cp: {}", text(&o.stderr));

    python_sdk(&sock, &image);

    // Stopping the guard removes its containers.
    let mut g = live.guard.take().unwrap();
    sigterm(g.id());
    let status = g.wait().unwrap();
    assert!(status.success(), "{status}");
    let o = docker(None, &["inspect", &mine]);
    assert!(!o.status.success(), "the guard left {mine} behind");
    assert!(!sock.exists(), "the socket is removed");
}

fn sigterm(pid: u32) {
    let _ = Command::new("kill").arg(pid.to_string()).output();
}

fn python_sdk(sock: &Path, image: &str) {
    let python =
        std::env::var("SANDLINT_DOCKER_SDK_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let has_sdk = Command::new(&python)
        .args(["-c", "import docker"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_sdk {
        common::skip_or_fail(
            "SANDLINT_REQUIRE_DOCKER_SDK",
            "the guard's Python SDK test",
            &format!("`{python}` has no `docker` package (set SANDLINT_DOCKER_SDK_PYTHON)"),
        );
        return;
    }
    let script = r#"
import sys, docker
c = docker.DockerClient(base_url="unix://" + sys.argv[1])
image = sys.argv[2]
print(c.containers.run(image, ["sh", "-c", "echo sdk; id -u"], remove=True).decode(), end="")
try:
    c.containers.run(image, "true", privileged=True, remove=True)
    print("not refused")
except docker.errors.APIError as e:
    print(e.status_code, "privileged-container" in str(e.explanation))
ct = c.containers.run(image, ["sleep", "30"], detach=True)
print(ct.exec_run(["echo", "exec"]).output.decode(), end="")
print(ct.id in [x.id for x in c.containers.list()])
ct.remove(force=True)
"#;
    let o = Command::new(&python)
        .args(["-c", script])
        .arg(sock)
        .arg(image)
        .output()
        .unwrap();
    assert_eq!(
        text(&o.stdout),
        "sdk\n65534\n403 True\nexec\nTrue\n",
        "{}",
        text(&o.stderr)
    );
}
