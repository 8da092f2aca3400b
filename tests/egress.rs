//! The egress allowlist (`sandlint run --allow-host`), live against the daemon.
//!
//! A tiny HTTP server container (static busybox `httpd`, `FROM scratch`) is attached to the
//! run's outer network (created by the run: the test waits for it) under the aliases
//! `allowed.test` and `denied.test`. From the sandbox: the allowed name is reached through the
//! proxy (plain HTTP and a CONNECT tunnel), the other name gets the proxy's 403, an IP address
//! through the proxy, a direct connection to the server, the internal network's gateway (a
//! port this test listens on, on every host address), ping and DNS for outside names all fail.
//! A control container on a plain `internal: true` network does reach that port: the gateway
//! fact the mitigation (`inhibit_ipv4`) exists for. The result JSON lists the decisions, and
//! nothing with the run's labels is left; a SIGKILLed run's sidecar and networks are removed by
//! its watchdog. No traffic leaves this machine: every address is a container's or the host's
//! own bridge. A missing daemon skips loudly, and fails when `SANDLINT_REQUIRE_DOCKER=1` (CI).
#![cfg(feature = "sandbox")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr,
    reason = "test helpers fail the test on setup errors and show the probes' output"
)]

use std::io::Read;
use std::net::TcpListener;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

mod common;
use common::text;

const BIN: &str = env!("CARGO_BIN_EXE_sandlint");

fn docker(args: &[&str]) -> Output {
    Command::new("docker").args(args).output().unwrap()
}

fn docker_ok(args: &[&str]) -> String {
    let o = docker(args);
    assert!(o.status.success(), "docker {args:?}: {}", text(&o.stderr));
    text(&o.stdout).trim().to_string()
}

fn daemon_up() -> bool {
    Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn find_busybox() -> Option<std::path::PathBuf> {
    ["/usr/bin/busybox", "/bin/busybox", "/usr/local/bin/busybox"]
        .iter()
        .map(std::path::PathBuf::from)
        .find(|p| p.is_file())
}

/// The test's image: static busybox, its applets, and a page for `httpd`.
fn build_image(tag: &str) {
    let busybox = find_busybox()
        .expect("busybox-static is needed for the test image (apt-get install busybox-static)");
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(&busybox, dir.path().join("busybox")).unwrap();
    std::fs::create_dir(dir.path().join("www")).unwrap();
    std::fs::write(
        dir.path().join("www/index.html"),
        "hello from allowed.test\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\nCOPY www /www\n",
    )
    .unwrap();
    docker_ok(&["build", "-q", "-t", tag, &dir.path().to_string_lossy()]);
}

/// Names of sandlint's containers and networks serving the sandbox `name`.
fn leftovers(name: &str) -> Vec<String> {
    let filter = format!("label=dev.sandlint.egress-of={name}");
    let mut out: Vec<String> = docker_ok(&["ps", "-aq", "--filter", &filter])
        .lines()
        .map(str::to_string)
        .collect();
    out.extend(
        docker_ok(&["network", "ls", "-q", "--filter", &filter])
            .lines()
            .map(str::to_string),
    );
    out.extend(
        docker_ok(&["ps", "-aq", "--filter", &format!("name=^{name}$")])
            .lines()
            .map(str::to_string),
    );
    out
}

/// Waits for a network with `label` whose name ends with `suffix`; returns its name.
fn wait_network(label: &str, suffix: &str, limit: Duration) -> Option<String> {
    let started = Instant::now();
    while started.elapsed() < limit {
        let names = docker_ok(&["network", "ls", "--filter", label, "--format", "{{.Name}}"]);
        if let Some(n) = names.lines().find(|n| n.ends_with(suffix)) {
            return Some(n.to_string());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

/// A listener on every address of this host, counting the connections it accepts.
fn host_listener() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("0.0.0.0:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let h = Arc::clone(&hits);
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            {
                h.fetch_add(1, Ordering::SeqCst);
                let mut buf = [0u8; 512];
                let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
                let _ = s.read(&mut buf);
                let _ = std::io::Write::write_all(
                    &mut s,
                    b"HTTP/1.0 200 OK\r\nContent-Length: 12\r\n\r\nHOST-REACHED",
                );
            }
        }
    });
    (port, hits)
}

/// The sandbox's script: each probe prints a marker line the test asserts on.
const SCRIPT: &str = r#"
w=/workspace
for i in $(seq 1 300); do [ -s $w/ready ] && break; sleep 0.1; done
. $w/ready
p=${HTTP_PROXY#http://}; ph=${p%:*}; pp=${p##*:}
echo "proxy=$ph:$pp"
for i in $(seq 1 50); do wget -q -O - http://allowed.test:8080/ 2>/dev/null && break; sleep 0.2; done
echo "--- tunnel"
printf 'CONNECT allowed.test:8080 HTTP/1.1\r\nHost: allowed.test:8080\r\n\r\nGET / HTTP/1.0\r\nHost: allowed.test\r\n\r\n' | timeout 10 nc $ph $pp
echo "--- denied"
printf 'GET http://denied.test/ HTTP/1.1\r\nHost: denied.test\r\n\r\n' | timeout 10 nc $ph $pp
echo "--- denied-connect"
printf 'CONNECT Denied.Test.:443 HTTP/1.1\r\n\r\n' | timeout 10 nc $ph $pp
echo "--- ip-through-proxy"
printf "GET http://$SRV:8080/ HTTP/1.1\r\n\r\n" | timeout 10 nc $ph $pp
echo "--- userinfo"
printf 'CONNECT allowed.test:8080@denied.test:8080 HTTP/1.1\r\n\r\n' | timeout 10 nc $ph $pp
echo "--- port"
printf 'CONNECT allowed.test:22 HTTP/1.1\r\n\r\n' | timeout 10 nc $ph $pp
echo "--- direct"
timeout 5 wget -q -Y off -O - http://$SRV:8080/ 2>&1; echo "direct-rc=$?"
echo "--- gateway"
gw=$(ip route | awk '/^default/ {print $3}')
echo "gateway=$gw"
for h in $gw 172.17.0.1 127.0.0.1; do timeout 5 wget -q -Y off -O - http://$h:$HOSTPORT/ 2>&1; echo "host-$h-rc=$?"; done
echo "--- ping"
timeout 5 ping -c 1 -W 2 $SRV >/dev/null 2>&1; echo "ping-rc=$?"
echo "--- dns"
timeout 8 nslookup outside.example >/dev/null 2>&1; echo "dns-outside-rc=$?"
timeout 8 nslookup allowed.test >/dev/null 2>&1; echo "dns-allowed-rc=$?"
echo "--- end"
"#;

#[test]
fn egress_allowlist_live() {
    if !daemon_up() {
        common::skip_or_fail(
            "SANDLINT_REQUIRE_DOCKER",
            "the live egress tests",
            "no Docker daemon reachable (docker info failed)",
        );
        return;
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let id = format!("{}-{nanos:x}", std::process::id());
    let image = format!("sandlint-test-egress:{id}");
    build_image(&image);
    let server = format!("sandlint-test-egress-srv-{id}");
    // the server waits on an internal network of the test's until the run's outer one exists;
    // the control container uses it too
    let control_net = format!("sandlint-test-egress-control-{id}");
    docker_ok(&["network", "create", "--internal", &control_net]);
    docker_ok(&[
        "run",
        "-d",
        "--name",
        &server,
        "--network",
        &control_net,
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
    let outcome = std::panic::catch_unwind(|| scenario(&image, &server, &control_net));
    let _ = docker(&["rm", "-f", &server]);
    let _ = docker(&["network", "rm", &control_net]);
    let _ = docker(&["rmi", "-f", &image]);
    if let Err(e) = outcome {
        std::panic::resume_unwind(e);
    }
}

fn scenario(image: &str, server: &str, control_net: &str) {
    let (port, hits) = host_listener();

    // The control: a plain internal network's gateway is the host, which answers on it.
    let control = docker(&[
        "run",
        "--rm",
        "--network",
        control_net,
        "--cap-drop",
        "ALL",
        image,
        "sh",
        "-c",
        &format!(
            "gw=$(ip route | awk '/^default/ {{print $3}}'); timeout 5 wget -q -O - http://$gw:{port}/"
        ),
    ]);
    assert!(
        text(&control.stdout).contains("HOST-REACHED"),
        "control: a container on a plain internal network reaches the host through the gateway: {}{}",
        text(&control.stdout),
        text(&control.stderr)
    );
    let control_hits = hits.load(Ordering::SeqCst);
    assert!(control_hits >= 1);

    let ws = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        ws.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    let mut child = Command::new(BIN)
        .args([
            "run",
            "--image",
            image,
            "--allow-host",
            "allowed.test",
            "--allow-port",
            "8080,443",
            "--user",
            "65534:65534",
            "--workspace",
        ])
        .arg(ws.path())
        .args(["--timeout", "120s", "--json", "--", "sh", "-c", SCRIPT])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let owner_label = format!("label=dev.sandlint.owner={}:{}", host_name(), child.id());
    // The run's outer network appears once the sidecar's image is built (a first build copies
    // the debug binary: tens of seconds).
    let outside = wait_network(&owner_label, "-outside", Duration::from_secs(240));
    let Some(outside) = outside else {
        let _ = child.kill();
        let o = child.wait_with_output().unwrap();
        panic!("no outer network appeared: {}", text(&o.stderr));
    };
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
    assert!(!srv_ip.is_empty());
    std::fs::write(
        ws.path().join("ready"),
        format!("SRV={srv_ip}\nHOSTPORT={port}\n"),
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", text(&out.stdout), text(&out.stderr)));
    let stdout = json["stdout"].as_str().unwrap_or_default().to_string();
    let shown = format!(
        "{stdout}\n{}",
        serde_json::to_string_pretty(&json["egress"]).unwrap()
    );
    eprintln!("the sandbox's probes and the result's egress:\n{shown}");
    assert_eq!(json["exit_code"], 0, "{shown}\n{}", text(&out.stderr));

    let section = |name: &str| -> String {
        let start = stdout
            .find(&format!("--- {name}\n"))
            .unwrap_or_else(|| panic!("no section {name}: {shown}"));
        let rest = &stdout[start + name.len() + 5..];
        rest[..rest.find("--- ").unwrap_or(rest.len())].to_string()
    };
    // allowed.test through the proxy: plain HTTP, and a CONNECT tunnel
    assert!(
        stdout.contains("hello from allowed.test\n--- tunnel"),
        "{shown}"
    );
    let tunnel = section("tunnel");
    assert!(
        tunnel.starts_with("HTTP/1.1 200 Connection established\r\n\r\n"),
        "{shown}"
    );
    assert!(tunnel.contains("hello from allowed.test"), "{shown}");
    // every other name: the proxy's 403 with the message
    let denied = section("denied");
    assert!(denied.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{shown}");
    assert!(
        denied.contains("denied.test is not in the allowlist"),
        "{shown}"
    );
    let denied_connect = section("denied-connect");
    assert!(
        denied_connect.starts_with("HTTP/1.1 403 Forbidden\r\n"),
        "{shown}"
    );
    assert!(
        denied_connect.contains("denied.test is not in the allowlist"),
        "{shown}"
    );
    assert!(
        section("ip-through-proxy").contains("IP addresses are never allowed"),
        "{shown}"
    );
    assert!(section("userinfo").starts_with("HTTP/1.1 403"), "{shown}");
    let port_refused = section("port");
    assert!(port_refused.starts_with("HTTP/1.1 403"), "{shown}");
    assert!(
        port_refused.contains("port 22 of allowed.test is not in the allowlist"),
        "{shown}"
    );
    // no route past the proxy: the server's address, the host, ping, DNS
    assert!(!section("direct").contains("hello"), "{shown}");
    assert!(!section("direct").contains("direct-rc=0"), "{shown}");
    let gateway = section("gateway");
    assert!(!gateway.contains("HOST-REACHED"), "{shown}");
    assert!(!gateway.contains("-rc=0"), "{shown}");
    assert_eq!(
        hits.load(Ordering::SeqCst),
        control_hits,
        "the sandbox reached the host: {shown}"
    );
    assert!(!section("ping").contains("ping-rc=0"), "{shown}");
    let dns = section("dns");
    assert!(!dns.contains("dns-outside-rc=0"), "{shown}");
    assert!(!dns.contains("dns-allowed-rc=0"), "{shown}");

    // the result: the decisions, and the sidecar's and the network's checks
    let egress = &json["egress"];
    assert_eq!(
        egress["hosts"],
        serde_json::json!(["allowed.test"]),
        "{shown}"
    );
    let events = |kind: &str| -> Vec<(String, u64, String)> {
        egress[kind]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["host"].as_str().unwrap().to_string(),
                    e["port"].as_u64().unwrap(),
                    e["method"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let allowed = events("allowed");
    assert!(
        allowed.contains(&("allowed.test".into(), 8080, "GET".into())),
        "{shown}"
    );
    assert!(
        allowed.contains(&("allowed.test".into(), 8080, "CONNECT".into())),
        "{shown}"
    );
    assert!(
        allowed.iter().all(|(h, _, _)| h == "allowed.test"),
        "{shown}"
    );
    let blocked = events("blocked");
    assert!(
        blocked.contains(&("denied.test".into(), 80, "GET".into())),
        "{shown}"
    );
    assert!(
        blocked.contains(&("denied.test".into(), 443, "CONNECT".into())),
        "{shown}"
    );
    assert!(
        blocked.iter().any(|(h, _, _)| h == srv_ip.as_str()),
        "{shown}"
    );
    for check in egress["checks"].as_array().unwrap() {
        assert_eq!(check["status"], "verified", "{check}");
    }
    let names: Vec<&str> = egress["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for want in [
        "user",
        "read-only-rootfs",
        "cap-drop",
        "no-new-privileges",
        "memory",
        "pids-limit",
        "uid",
        "proxy-networks",
        "network-internal",
        "network-no-host-address",
    ] {
        assert!(names.contains(&want), "{want} not checked: {names:?}");
    }
    let sandbox_checks = json["verification"]["checks"].as_array().unwrap();
    for want in ["network", "dns"] {
        let c = sandbox_checks.iter().find(|c| c["name"] == want).unwrap();
        assert_eq!(c["status"], "verified", "{c}");
    }
    // nothing left
    let name = json["container"].as_str().unwrap();
    assert_eq!(leftovers(name), Vec::<String>::new());
    assert!(docker(&["network", "inspect", &outside]).status.code() != Some(0));

    timed_out_run_is_cleaned(image);
    orphaned_networks_are_reaped();
    stopped_run_is_cleaned(image, "INT");
    stopped_run_is_cleaned(image, "KILL");
}

/// `sandlint run --gc` removes egress networks whose run is gone (a dead owner process) or whose
/// deadline passed, and leaves those of a live run.
fn orphaned_networks_are_reaped() {
    let mut dead = Command::new("true").spawn().unwrap();
    let dead_pid = dead.id();
    dead.wait().unwrap();
    let host = host_name();
    let me = std::process::id();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let far = 4_000_000_000u64;
    let cases = [
        ("orphan", format!("{host}:{dead_pid}"), far, false),
        ("expired", format!("{host}:{me}"), 1, false),
        ("live", format!("{host}:{me}"), far, true),
    ];
    for (what, owner, deadline, _) in &cases {
        docker_ok(&[
            "network",
            "create",
            "--internal",
            "--label",
            "dev.sandlint.managed=true",
            "--label",
            &format!("dev.sandlint.owner={owner}"),
            "--label",
            &format!("dev.sandlint.deadline={deadline}"),
            "--label",
            &format!("dev.sandlint.egress-of=sandlint-test-{nanos:x}"),
            &format!("sandlint-test-{nanos:x}-{what}"),
        ]);
    }
    let o = Command::new(BIN).args(["run", "--gc"]).output().unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    for (what, _, _, stays) in &cases {
        let name = format!("sandlint-test-{nanos:x}-{what}");
        let exists = docker(&["network", "inspect", &name]).status.success();
        let _ = docker(&["network", "rm", &name]);
        assert_eq!(exists, *stays, "{what}");
    }
}

/// A `sandlint run --allow-host` that times out (124) leaves nothing behind either.
fn timed_out_run_is_cleaned(image: &str) {
    let o = Command::new(BIN)
        .args([
            "run",
            "--image",
            image,
            "--allow-host",
            "allowed.test",
            "--user",
            "65534:65534",
            "--timeout",
            "2s",
            "--json",
            "--",
            "sleep",
            "60",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let json: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o.stderr)));
    assert_eq!(json["exit_code"], 124, "{json}");
    assert_eq!(json["timed_out"], true);
    let name = json["container"].as_str().unwrap();
    assert_eq!(json["egress"]["proxy"], format!("{name}-proxy"));
    assert_eq!(leftovers(name), Vec::<String>::new());
}

/// A `sandlint run --allow-host` stopped by `signal`: on SIGINT the run removes the sandbox, the
/// sidecar and both networks itself before it exits (130); when SIGKILLed, its watchdog does.
fn stopped_run_is_cleaned(image: &str, signal: &str) {
    let mut child = Command::new(BIN)
        .args([
            "run",
            "--image",
            image,
            "--allow-host",
            "allowed.test",
            "--user",
            "65534:65534",
            "--timeout",
            "120s",
            "--",
            "sleep",
            "100",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let owner = format!("label=dev.sandlint.owner={}:{}", host_name(), child.id());
    let started = Instant::now();
    let name = loop {
        let running = docker_ok(&["ps", "--filter", &owner, "--format", "{{.Names}}"]);
        if let Some(n) = running.lines().find(|n| !n.ends_with("-proxy")) {
            break n.to_string();
        }
        assert!(
            started.elapsed() < Duration::from_secs(240),
            "the sandbox did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(!leftovers(&name).is_empty());
    if signal == "KILL" {
        child.kill().unwrap();
        let _ = child.wait();
    } else {
        let sent = Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(130), "{}", text(&o.stderr));
        // removed by the run itself, before it exited
        assert_eq!(leftovers(&name), Vec::<String>::new());
        return;
    }
    let started = Instant::now();
    loop {
        let left = leftovers(&name);
        if left.is_empty() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "left after the run was killed: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "unknown".to_string())
}

/// The binary with a daemon address that does not exist: what is refused or planned before any
/// connection.
fn run_offline(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env(
            "DOCKER_HOST",
            "unix:///nonexistent/sandlint-test/docker.sock",
        )
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn allow_host_is_planned_and_checked_before_the_daemon() {
    let cfg = tempfile::tempdir().unwrap();
    let path = cfg.path().join("run.toml");
    std::fs::write(
        &path,
        "allow_hosts = [\"*.pythonhosted.org\"]\nallow_ports = [8443]\n",
    )
    .unwrap();
    let o = run_offline(&[
        "run",
        "--image",
        "busybox:stable",
        "--allow-host",
        "PyPI.org.",
        "--config",
        &path.to_string_lossy(),
        "--dry-run",
        "--",
        "true",
    ]);
    let err = text(&o.stderr);
    assert!(
        err.contains("note: network: an internal network whose only way out is the egress proxy (hosts pypi.org, *.pythonhosted.org; ports 8443)"),
        "{err}"
    );
    // the rules judge the sandbox as network-less: its only network is the internal one
    assert!(
        text(&o.stdout).contains("network_mode: \"none\""),
        "{}",
        text(&o.stdout)
    );

    for (args, message) in [
        (
            vec!["--allow-host", "10.0.0.1"],
            "--allow-host: `10.0.0.1`: an IP address, not a host name",
        ),
        (
            vec!["--allow-host", "*.org"],
            "a wildcard needs at least two labels",
        ),
        (
            vec!["--allow-host", "a.org", "--network", "bridge"],
            "--allow-host and --network bridge cannot be combined",
        ),
        (
            vec!["--allow-port", "8080"],
            "--allow-port needs --allow-host",
        ),
    ] {
        let mut all = vec!["run", "--image", "busybox:stable"];
        all.extend(args.iter().copied());
        all.extend(["--", "true"]);
        let o = run_offline(&all);
        assert_eq!(o.status.code(), Some(125), "{args:?}: {}", text(&o.stderr));
        assert!(
            text(&o.stderr).contains(message),
            "{args:?}: {}",
            text(&o.stderr)
        );
    }
}

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
    killed_start(state, image);
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
/// killed: the daemon removes the session's container, `session gc` the sidecar and networks.
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
    assert!(
        !session_leftovers(&orphan).is_empty(),
        "the sidecar of a session whose watchdog was killed is removed by gc"
    );
    let o = session(state, &["gc"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(session_leftovers(&orphan), Vec::<String>::new());
}

/// `session start` SIGKILLed while it sets up the sidecar (no container, no state file yet):
/// its watchdog removes the sidecar and the networks within seconds, not at the TTL.
fn killed_start(state: &std::path::Path, image: &str) {
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
