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
#[path = "common/egress_cli.rs"]
mod egress_cli;
use egress_cli::{build_image, daemon_up, docker, docker_ok, host_name, leftovers};

const BIN: &str = env!("CARGO_BIN_EXE_sandlint");

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
