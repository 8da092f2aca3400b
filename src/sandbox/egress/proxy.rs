//! The filtering forward proxy (`sandlint run --egress-proxy ADDR`, run inside the sidecar):
//! std threads, one per connection (two while tunnelling), bounded in count, header size and
//! time. Each decision is one JSON line on stdout (`{"decision","host","port","method"}`),
//! which the run collects into its result.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::http::{self, Kind, MAX_HEAD, Refusal};
use super::policy::{Decision, Policy};

/// Limits of the proxy.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connections handled at once; more are answered 503 and closed.
    pub max_connections: usize,
    /// Time for a client to send its request head.
    pub head_timeout: Duration,
    /// Time to connect to an upstream (each of its addresses).
    pub connect_timeout: Duration,
    /// A tunnel or forward with no byte in either direction for this long is closed.
    pub idle_timeout: Duration,
    /// The proxy stops serving at this Unix second (a session's sidecar ends with its TTL, and
    /// the daemon's `AutoRemove` removes it then); `None`: never.
    pub until: Option<u64>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 64,
            head_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(120),
            until: None,
        }
    }
}

/// Stack of each connection thread (the work is copying buffers).
const STACK: usize = 128 * 1024;

/// Serves until the listener fails. Returns the error text.
pub fn serve(listen: &str, policy: Policy, limits: Limits) -> Result<(), String> {
    let listener =
        TcpListener::bind(listen).map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    log_line(&serde_json::json!({
        "event": "listening",
        "address": listen,
        "hosts": policy.hosts.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "ports": policy.ports,
    }));
    let policy = Arc::new(policy);
    let active = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    if let (Some(until), Ok(addr)) = (limits.until, listener.local_addr()) {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            std::thread::sleep(Duration::from_secs(until.saturating_sub(now)));
            stop.store(true, Ordering::SeqCst);
            // wake the accept below
            let mut wake = addr;
            if wake.ip().is_unspecified() {
                wake.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
            }
            let _ = std::net::TcpStream::connect_timeout(&wake, Duration::from_secs(1));
        });
    }
    loop {
        let accepted = listener.accept();
        if stop.load(Ordering::SeqCst) {
            log_line(&serde_json::json!({ "event": "deadline" }));
            return Ok(());
        }
        let (mut client, _) = match accepted {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            // out of file descriptors and the like: wait, don't spin
            Err(_) => {
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        if active.fetch_add(1, Ordering::SeqCst) >= limits.max_connections {
            active.fetch_sub(1, Ordering::SeqCst);
            let _ = client.set_write_timeout(Some(Duration::from_secs(1)));
            let _ = respond(
                &mut client,
                503,
                "too many connections through the egress proxy",
            );
            continue;
        }
        let (policy, active2) = (Arc::clone(&policy), Arc::clone(&active));
        let spawned = std::thread::Builder::new()
            .stack_size(STACK)
            .spawn(move || {
                handle(client, &policy, limits);
                active2.fetch_sub(1, Ordering::SeqCst);
            });
        if spawned.is_err() {
            active.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Where the decisions go: a duplicate of fd 1 (the CLI holds the lock of `std::io::stdout()`
/// for the whole command, so the connection threads cannot write through it).
static LOG: std::sync::OnceLock<std::sync::Mutex<Box<dyn Write + Send>>> =
    std::sync::OnceLock::new();

fn log_sink() -> &'static std::sync::Mutex<Box<dyn Write + Send>> {
    LOG.get_or_init(|| {
        #[cfg(unix)]
        {
            use std::os::fd::AsFd;
            if let Ok(fd) = std::io::stdout().as_fd().try_clone_to_owned() {
                return std::sync::Mutex::new(Box::new(std::fs::File::from(fd)));
            }
        }
        std::sync::Mutex::new(Box::new(std::io::sink()))
    })
}

/// One JSON line on stdout (a failed write is ignored: the log is best effort, the decision
/// is not).
fn log_line(value: &serde_json::Value) {
    if let Ok(mut out) = log_sink().lock() {
        let _ = out.write_all(format!("{value}\n").as_bytes());
        let _ = out.flush();
    }
}

fn log_decision(decision: &str, host: &str, port: u16, method: &str, reason: Option<&str>) {
    let mut v = serde_json::json!({
        "decision": decision,
        "host": host,
        "port": port,
        "method": method,
    });
    if let (Some(r), Some(obj)) = (reason, v.as_object_mut()) {
        obj.insert("reason".to_string(), serde_json::Value::from(r));
    }
    log_line(&v);
}

fn respond(stream: &mut TcpStream, status: u16, message: &str) -> std::io::Result<()> {
    let reason = match status {
        400 => "Bad Request",
        403 => "Forbidden",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Error",
    };
    let body = format!("sandlint egress proxy: {message}\n");
    let text = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(text.as_bytes())?;
    stream.flush()?;
    // Close without a reset: the client may still be sending (a head too large); read and drop
    // a bounded amount for a moment so it sees the answer.
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let mut sink = [0u8; 4096];
    let mut left = 256 * 1024usize;
    while left > 0 {
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(n) => left = left.saturating_sub(n),
        }
    }
    Ok(())
}

/// Reads the request head within the head timeout; returns it and the bytes after it.
fn read_head(client: &mut TcpStream, timeout: Duration) -> Result<(Vec<u8>, Vec<u8>), Refusal> {
    let started = Instant::now();
    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        let left = timeout.saturating_sub(started.elapsed());
        if left.is_zero() {
            return Err(Refusal {
                status: 408,
                message: "request head timed out".to_string(),
            });
        }
        let _ = client.set_read_timeout(Some(left));
        match client.read(&mut chunk) {
            Ok(0) => {
                return Err(Refusal {
                    status: 400,
                    message: "connection closed before the request head ended".to_string(),
                });
            }
            Ok(n) => {
                let from = buf.len().saturating_sub(3);
                buf.extend_from_slice(&chunk[..n]);
                if let Some(end) = http::head_end(&buf[from..]).map(|e| e + from) {
                    let rest = buf.split_off(end);
                    return Ok((buf, rest));
                }
                if buf.len() > MAX_HEAD {
                    return Err(Refusal {
                        status: 431,
                        message: "request head too large".to_string(),
                    });
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => {
                return Err(Refusal {
                    status: 408,
                    message: "request head timed out".to_string(),
                });
            }
        }
    }
}

fn handle(mut client: TcpStream, policy: &Policy, limits: Limits) {
    let _ = client.set_write_timeout(Some(limits.idle_timeout));
    let (head, rest) = match read_head(&mut client, limits.head_timeout) {
        Ok(x) => x,
        Err(r) => {
            let _ = respond(&mut client, r.status, &r.message);
            return;
        }
    };
    let request = match http::parse(&head) {
        Ok(r) => r,
        Err(r) => {
            let method = head
                .split(|b| *b == b' ')
                .next()
                .map(|m| String::from_utf8_lossy(&m[..m.len().min(16)]).into_owned())
                .unwrap_or_default();
            log_decision(
                "blocked",
                "",
                0,
                &super::policy::shown(&method),
                Some(&r.message),
            );
            let _ = respond(&mut client, r.status, &r.message);
            return;
        }
    };
    let (name, decision) = policy.decide(&request.host, request.port);
    let shown_host = name
        .clone()
        .unwrap_or_else(|| super::policy::shown(&request.host));
    if let Decision::Blocked(reason) = decision {
        log_decision(
            "blocked",
            &shown_host,
            request.port,
            &request.method,
            Some(&reason),
        );
        let _ = respond(&mut client, 403, &reason);
        return;
    }
    let Some(name) = name else { return };
    if let Kind::Unsupported { status, message } = &request.kind {
        log_decision(
            "blocked",
            &name,
            request.port,
            &request.method,
            Some(message),
        );
        let _ = respond(&mut client, *status, message);
        return;
    }
    let upstream = match connect(&name, request.port, limits.connect_timeout) {
        Ok(s) => s,
        Err(why) => {
            log_decision("allowed", &name, request.port, &request.method, Some(&why));
            let _ = respond(&mut client, 502, &why);
            return;
        }
    };
    log_decision("allowed", &name, request.port, &request.method, None);
    let mut upstream = upstream;
    let _ = upstream.set_write_timeout(Some(limits.idle_timeout));
    let sent = match request.forward_head(&name) {
        None => client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n"),
        Some(head) => upstream.write_all(&head),
    };
    if sent.is_err() || (!rest.is_empty() && upstream.write_all(&rest).is_err()) {
        return;
    }
    relay(client, upstream, limits.idle_timeout);
}

/// Resolves `name` (the container's resolver) and connects to its first reachable address.
fn connect(name: &str, port: u16, timeout: Duration) -> Result<TcpStream, String> {
    let addrs: Vec<SocketAddr> = (name, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {name}: {e}"))?
        .take(8)
        .collect();
    let mut last = format!("{name} has no address");
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(s) => return Ok(s),
            Err(e) => last = format!("cannot connect to {name}:{port}: {e}"),
        }
    }
    Err(last)
}

/// Copies both ways until both sides end, or neither sent a byte for `idle` (a long download
/// with a silent client is not idle).
fn relay(client: TcpStream, upstream: TcpStream, idle: Duration) {
    let (Ok(client2), Ok(upstream2)) = (client.try_clone(), upstream.try_clone()) else {
        return;
    };
    let activity = Arc::new(Activity {
        start: Instant::now(),
        last_ms: std::sync::atomic::AtomicU64::new(0),
    });
    let a2 = Arc::clone(&activity);
    let up = std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || copy(client2, upstream2, idle, &a2));
    copy(upstream, client, idle, &activity);
    if let Ok(h) = up {
        let _ = h.join();
    }
}

/// When either direction of a relay last carried a byte.
struct Activity {
    start: Instant,
    last_ms: std::sync::atomic::AtomicU64,
}

impl Activity {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn touch(&self) {
        self.last_ms.store(self.now_ms(), Ordering::Relaxed);
    }

    fn idle_for(&self) -> Duration {
        Duration::from_millis(
            self.now_ms()
                .saturating_sub(self.last_ms.load(Ordering::Relaxed)),
        )
    }
}

fn copy(mut from: TcpStream, mut to: TcpStream, idle: Duration, activity: &Activity) {
    let _ = from.set_read_timeout(Some(idle.min(Duration::from_secs(5))));
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                activity.touch();
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) && activity.idle_for() < idle => {}
            Err(_) => {
                // idle both ways, or reset: end both directions
                let _ = from.shutdown(Shutdown::Both);
                let _ = to.shutdown(Shutdown::Both);
                return;
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A connected loopback pair.
    fn pair() -> (TcpStream, TcpStream) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (b, _) = l.accept().unwrap();
        (a, b)
    }

    #[test]
    fn a_relay_is_idle_only_when_both_directions_are() {
        let (mut client_end, client) = pair();
        let (upstream, mut server_end) = pair();
        let idle = Duration::from_millis(300);
        let relay_thread = std::thread::spawn(move || relay(client, upstream, idle));
        // the server trickles 8 chunks over ~800 ms while the client sends nothing
        let writer = std::thread::spawn(move || {
            for i in 0..8u8 {
                server_end.write_all(&[b'0' + i]).unwrap();
                std::thread::sleep(Duration::from_millis(100));
            }
            server_end
        });
        let mut got = [0u8; 8];
        client_end.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"01234567");
        // then silence both ways: the relay ends within about `idle`
        let _server_end = writer.join().unwrap();
        let t = Instant::now();
        relay_thread.join().unwrap();
        assert!(t.elapsed() < Duration::from_secs(8), "{:?}", t.elapsed());
    }

    /// `until`: the proxy returns at its deadline (a session's sidecar then exits).
    #[test]
    fn stops_at_its_deadline() {
        let policy = Policy::parse(&["a.test".to_string()], &[]).unwrap();
        let limits = Limits {
            until: Some(0),
            ..Limits::default()
        };
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(serve("127.0.0.1:0", policy, limits));
        });
        let r = rx.recv_timeout(Duration::from_secs(10));
        assert!(matches!(r, Ok(Ok(()))), "{r:?}");
    }

    /// The proxy on loopback against a loopback upstream: allowed names are forwarded, others
    /// get 403 with the message. (`localhost` resolves through /etc/hosts.)
    #[test]
    fn serves_on_loopback() {
        let upstream = TcpListener::bind("127.0.0.1:0").unwrap();
        let up_port = upstream.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for s in upstream.incoming().take(2) {
                let mut s = s.unwrap();
                let mut buf = [0u8; 2048];
                let n = s.read(&mut buf).unwrap();
                let got = String::from_utf8_lossy(&buf[..n]).into_owned();
                let body = if got.starts_with(&format!(
                    "GET /hello HTTP/1.1\r\nHost: localhost:{up_port}\r\n"
                )) {
                    "upstream-ok"
                } else {
                    "unexpected"
                };
                let _ = write!(
                    s,
                    "HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        let probe = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = probe.local_addr().unwrap().to_string();
        drop(probe);
        let policy = Policy::parse(&["localhost".to_string()], &[up_port]).unwrap();
        let listen = addr.clone();
        std::thread::spawn(move || serve(&listen, policy, Limits::default()));
        let ask = |text: String| -> String {
            for _ in 0..50 {
                if let Ok(mut s) = TcpStream::connect(&addr) {
                    s.write_all(text.as_bytes()).unwrap();
                    let mut out = String::new();
                    let _ = s.read_to_string(&mut out);
                    return out;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            panic!("the proxy did not listen")
        };
        let ok = ask(format!(
            "GET http://LOCALHOST.:{up_port}/hello HTTP/1.1\r\nProxy-Connection: keep-alive\r\n\r\n"
        ));
        assert!(ok.ends_with("upstream-ok"), "{ok}");
        let denied = ask("GET http://denied.test/ HTTP/1.1\r\n\r\n".to_string());
        assert!(denied.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{denied}");
        assert!(
            denied.ends_with("denied.test is not in the allowlist\n"),
            "{denied}"
        );
        let ip = ask(format!("CONNECT 127.0.0.1:{up_port} HTTP/1.1\r\n\r\n"));
        assert!(ip.contains("IP addresses are never allowed"), "{ip}");
        let port = ask("CONNECT localhost:22 HTTP/1.1\r\n\r\n".to_string());
        assert!(
            port.starts_with("HTTP/1.1 403") && port.contains("port 22"),
            "{port}"
        );
        let tunnel = ask(format!(
            "CONNECT localhost:{up_port} HTTP/1.1\r\n\r\nGET /hello HTTP/1.1\r\nHost: localhost:{up_port}\r\n\r\n"
        ));
        assert!(
            tunnel.starts_with("HTTP/1.1 200 Connection established\r\n\r\nHTTP/1.0 200 OK"),
            "{tunnel}"
        );
        let huge = ask(format!(
            "GET http://localhost/ HTTP/1.1\r\nX: {}\r\n\r\n",
            "a".repeat(MAX_HEAD * 2)
        ));
        assert!(huge.starts_with("HTTP/1.1 431"), "{huge}");
    }
}
