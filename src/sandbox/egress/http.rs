//! The proxy's request parsing: the request head (bounded), `CONNECT host:port` and
//! absolute-form `http://host[:port]/path` requests. Pure: bytes in, a [`Request`] or the
//! status to answer out.

use super::policy::shown;

/// Largest request head (request line and headers) read from a client.
pub const MAX_HEAD: usize = 16 * 1024;
/// Most header lines in a request head.
pub const MAX_HEADERS: usize = 100;

/// A parsed proxy request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `CONNECT`, `GET`, ... (as sent, checked to be a token).
    pub method: String,
    /// The target host as the client wrote it (checked by the policy).
    pub host: String,
    pub port: u16,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// `CONNECT host:port`: a tunnel (TLS is not intercepted).
    Connect,
    /// A plain HTTP request: the origin-form request line and the headers to pass on (hop-by-hop,
    /// proxy and `Host` headers removed); [`Request::forward_head`] completes them.
    Forward { line: String, headers: String },
    /// A request the proxy does not carry even to an allowed host (`GET https://...`: TLS is
    /// tunnelled with CONNECT, never originated): answered with this status and text after the
    /// policy (so an unlisted host still gets its 403).
    Unsupported { status: u16, message: String },
}

impl Request {
    /// The head sent upstream for a [`Kind::Forward`]: the request line, `Host` set to the
    /// target's (normalized) `name`, the client's other end-to-end headers, `Connection: close`.
    pub fn forward_head(&self, name: &str) -> Option<Vec<u8>> {
        let Kind::Forward { line, headers } = &self.kind else {
            return None;
        };
        let host = if self.port == 80 {
            name.to_string()
        } else {
            format!("{name}:{}", self.port)
        };
        Some(format!("{line}\r\nHost: {host}\r\n{headers}Connection: close\r\n\r\n").into_bytes())
    }
}

/// Why a request head was refused, as the HTTP status and text to answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub message: String,
}

fn bad(message: impl Into<String>) -> Refusal {
    Refusal {
        status: 400,
        message: message.into(),
    }
}

/// The end of the request head in `buf` (the index after the blank line), if it is complete.
pub fn head_end(buf: &[u8]) -> Option<usize> {
    let crlf = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
    let lf = buf.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Headers a proxy does not pass on (RFC 9110 §7.6.1), plus the proxy's own.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "proxy-connection",
    "keep-alive",
    "proxy-authorization",
    "proxy-authenticate",
    "te",
    "trailer",
    "upgrade",
    "host",
];

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Parses a complete request head (as [`head_end`] delimits it).
pub fn parse(head: &[u8]) -> Result<Request, Refusal> {
    if head.len() > MAX_HEAD {
        return Err(Refusal {
            status: 431,
            message: "request head too large".to_string(),
        });
    }
    let text = std::str::from_utf8(head).map_err(|_| bad("request head is not UTF-8"))?;
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("malformed request line"));
    };
    if !is_token(method) {
        return Err(bad("malformed method"));
    }
    if version != "HTTP/1.1" && version != "HTTP/1.0" {
        return Err(bad("only HTTP/1.0 and HTTP/1.1 are spoken"));
    }
    let mut headers: Vec<(&str, &str)> = Vec::new();
    for line in lines {
        if line.is_empty() {
            break;
        }
        if headers.len() == MAX_HEADERS {
            return Err(Refusal {
                status: 431,
                message: "too many header lines".to_string(),
            });
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(bad("malformed header line"));
        };
        if !is_token(name) {
            // also refuses obsolete line folding (a line starting with a space)
            return Err(bad("malformed header name"));
        }
        if value.bytes().any(|b| b == b'\r' || b == 0) {
            return Err(bad("control character in a header value"));
        }
        headers.push((name, value.trim()));
    }
    if method.eq_ignore_ascii_case("CONNECT") {
        let (host, port) = authority(target, None)?;
        return Ok(Request {
            method: "CONNECT".to_string(),
            host,
            port,
            kind: Kind::Connect,
        });
    }
    let Some(scheme_end) = target.find("://") else {
        return Err(bad(
            "not a proxy request: the target must be absolute (`http://host/path`) or CONNECT host:port",
        ));
    };
    let scheme = &target[..scheme_end];
    let https = scheme.eq_ignore_ascii_case("https");
    if !scheme.eq_ignore_ascii_case("http") && !https {
        return Err(bad(format!(
            "scheme `{}` is not proxied: use http:// or CONNECT for https",
            shown(scheme)
        )));
    }
    let rest = &target[scheme_end + 3..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (auth, path) = rest.split_at(end);
    let (host, port) = authority(auth, Some(if https { 443 } else { 80 }))?;
    if https {
        return Ok(Request {
            method: method.to_string(),
            host,
            port,
            kind: Kind::Unsupported {
                status: 400,
                message: "https:// requests are tunnelled with CONNECT, not sent in absolute form"
                    .to_string(),
            },
        });
    }
    let path = path.split('#').next().unwrap_or_default();
    let path = if path.is_empty() {
        "/".to_string()
    } else if path.starts_with('?') {
        format!("/{path}")
    } else {
        path.to_string()
    };
    let mut kept = String::new();
    for (name, value) in &headers {
        if HOP_BY_HOP.iter().any(|h| name.eq_ignore_ascii_case(h)) {
            continue;
        }
        kept.push_str(&format!("{name}: {value}\r\n"));
    }
    Ok(Request {
        method: method.to_string(),
        host,
        port,
        kind: Kind::Forward {
            line: format!("{method} {path} {version}"),
            headers: kept,
        },
    })
}

/// `host:port` (or `host` when `default_port` is given). No user information, no IPv6
/// literals (the policy refuses addresses; they are reported as such).
fn authority(text: &str, default_port: Option<u16>) -> Result<(String, u16), Refusal> {
    if text.contains('@') {
        return Err(Refusal {
            status: 403,
            message: format!(
                "{} is not in the allowlist (user information in the target is refused)",
                shown(text)
            ),
        });
    }
    if text.starts_with('[') {
        // an IPv6 literal: the policy refuses it as an address
        let end = text.find(']').map_or(text.len(), |i| i + 1);
        let port = match &text[end..] {
            "" => default_port.ok_or_else(|| bad("CONNECT target needs a port"))?,
            p => port_of(p.strip_prefix(':').ok_or_else(|| bad("malformed target"))?)?,
        };
        return Ok((text[..end].to_string(), port));
    }
    match text.rsplit_once(':') {
        Some((host, port)) => Ok((host.to_string(), port_of(port)?)),
        None => match default_port {
            Some(p) => Ok((text.to_string(), p)),
            None => Err(bad("CONNECT target must be host:port")),
        },
    }
}

fn port_of(text: &str) -> Result<u16, Refusal> {
    if text.is_empty() || text.len() > 5 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("malformed port"));
    }
    match text.parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(bad("malformed port")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(text: &str) -> Result<Request, Refusal> {
        parse(text.as_bytes())
    }

    #[test]
    fn connect() {
        let r = req("CONNECT pypi.org:443 HTTP/1.1\r\nHost: pypi.org:443\r\n\r\n").unwrap();
        assert_eq!(
            (r.host.as_str(), r.port, r.kind),
            ("pypi.org", 443, Kind::Connect)
        );
        assert_eq!(
            req("connect a.org:443 HTTP/1.0\n\n").unwrap().method,
            "CONNECT"
        );
        for bad in [
            "CONNECT pypi.org HTTP/1.1\r\n\r\n",
            "CONNECT pypi.org: HTTP/1.1\r\n\r\n",
            "CONNECT pypi.org:0 HTTP/1.1\r\n\r\n",
            "CONNECT pypi.org:65536 HTTP/1.1\r\n\r\n",
            "CONNECT pypi.org:+443 HTTP/1.1\r\n\r\n",
            "CONNECT pypi.org:443 extra HTTP/1.1\r\n\r\n",
            "CONNECT  pypi.org:443 HTTP/1.1\r\n\r\n",
            "CONNECT pypi.org:443 HTTP/2\r\n\r\n",
            "CONNECT [::1] HTTP/1.1\r\n\r\n",
        ] {
            assert_eq!(req(bad).map_err(|e| e.status), Err(400), "{bad:?}");
        }
    }

    #[test]
    fn ipv6_and_userinfo_targets() {
        let r = req("CONNECT [::1]:443 HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!((r.host.as_str(), r.port), ("[::1]", 443));
        let r = req("GET http://[fe80::1%25eth0]:80/ HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(r.host, "[fe80::1%25eth0]");
        // `host:port@evil`: user information, refused as a whole
        for t in [
            "CONNECT allowed.test:443@evil.com:443 HTTP/1.1\r\n\r\n",
            "CONNECT user@allowed.test:443 HTTP/1.1\r\n\r\n",
            "GET http://allowed.test:80@evil.com/ HTTP/1.1\r\n\r\n",
            "GET http://user:pw@allowed.test/ HTTP/1.1\r\n\r\n",
        ] {
            let e = req(t).unwrap_err();
            assert_eq!(e.status, 403, "{t:?}");
            assert!(e.message.contains("not in the allowlist"), "{e:?}");
        }
        // the `@` after the authority is the path's
        let r = req("GET http://a.org/x@evil.com HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(r.host, "a.org");
    }

    #[test]
    fn absolute_form_is_rewritten() {
        let r = req(
            "GET http://Allowed.Test:8080/p?q=1#frag HTTP/1.1\r\nHost: evil.com\r\nProxy-Connection: keep-alive\r\nProxy-Authorization: x\r\nConnection: keep-alive, X-Secret\r\nAccept: */*\r\n\r\n",
        )
        .unwrap();
        assert_eq!((r.host.as_str(), r.port), ("Allowed.Test", 8080));
        assert_eq!(
            String::from_utf8(r.forward_head("allowed.test").unwrap()).unwrap(),
            "GET /p?q=1 HTTP/1.1\r\nHost: allowed.test:8080\r\nAccept: */*\r\nConnection: close\r\n\r\n"
        );
        let r = req("GET http://a.org?x HTTP/1.0\r\n\r\n").unwrap();
        let head = r.forward_head("a.org").unwrap();
        assert!(head.starts_with(b"GET /?x HTTP/1.0\r\nHost: a.org\r\n"));
        assert!(
            req("CONNECT a.org:443 HTTP/1.1\r\n\r\n")
                .unwrap()
                .forward_head("a.org")
                .is_none()
        );
    }

    #[test]
    fn not_proxy_requests() {
        for (t, status) in [
            ("GET / HTTP/1.1\r\nHost: a.org\r\n\r\n", 400),
            ("GET ftp://a.org/ HTTP/1.1\r\n\r\n", 400),
            ("GET http://a.org/ HTTP/1.1\r\n folded\r\n\r\n", 400),
            ("GET http://a.org/ HTTP/1.1\r\nNoColon\r\n\r\n", 400),
            ("GET http://a.org/ HTTP/1.1\r\nX: a\rb\r\n\r\n", 400),
            ("G(T http://a.org/ HTTP/1.1\r\n\r\n", 400),
            ("\r\n\r\n", 400),
        ] {
            assert_eq!(req(t).map_err(|e| e.status), Err(status), "{t:?}");
        }
        assert_eq!(
            parse(b"GET http://a.org/ HTTP/1.1\r\n\xff\r\n\r\n").map_err(|e| e.status),
            Err(400)
        );
    }

    #[test]
    fn https_in_absolute_form_is_judged_then_refused() {
        let r = req("GET https://a.org/x HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!((r.host.as_str(), r.port), ("a.org", 443));
        assert!(matches!(r.kind, Kind::Unsupported { status: 400, .. }));
        assert!(r.forward_head("a.org").is_none());
    }

    #[test]
    fn bounded_heads() {
        let huge = format!(
            "GET http://a.org/ HTTP/1.1\r\nX: {}\r\n\r\n",
            "a".repeat(MAX_HEAD)
        );
        assert_eq!(req(&huge).map_err(|e| e.status), Err(431));
        let many = format!(
            "GET http://a.org/ HTTP/1.1\r\n{}\r\n",
            "X: 1\r\n".repeat(MAX_HEADERS + 1)
        );
        assert_eq!(req(&many).map_err(|e| e.status), Err(431));
        assert_eq!(head_end(b"GET x\r\n\r\nbody"), Some(9));
        assert_eq!(head_end(b"GET x\n\nbody"), Some(7));
        assert_eq!(head_end(b"GET x\r\n"), None);
    }

    #[test]
    fn percent_encoded_hosts_reach_the_policy() {
        // the parser passes the host text on; the policy refuses it (see policy tests)
        let r = req("CONNECT a%2eorg:443 HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(r.host, "a%2eorg");
    }
}
