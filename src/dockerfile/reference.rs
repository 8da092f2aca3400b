//! Image references as `docker build` accepts them in `FROM`: distribution/reference's
//! `ParseNormalizedNamed` (the grammar of `[domain/]path[:tag][@digest]`, lowercase paths, no
//! 64-hex image id) and containerd's platform specifiers (`os[/arch[/variant]]`), hand-written
//! and linear.

/// Splits an image reference into `(name, tag, digest)`: `[registry[:port]/]path[:tag][@digest]`.
pub fn split_image_ref(image: &str) -> (&str, Option<&str>, Option<&str>) {
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image, None),
    };
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let tail = rest.get(last_slash..).unwrap_or("");
    match tail.rfind(':') {
        Some(colon) => {
            let split = last_slash + colon;
            (
                rest.get(..split).unwrap_or(rest),
                rest.get(split + 1..),
                digest,
            )
        }
        None => (rest, None, digest),
    }
}

/// Whether `image` is a reference `ParseNormalizedNamed` accepts.
pub fn is_valid_reference(image: &str) -> bool {
    let (name, tag, digest) = split_image_ref(image);
    if digest.is_some_and(|d| !is_digest(d)) {
        return false;
    }
    if tag.is_some_and(|t| !is_tag(t)) || name.is_empty() || name.len() > 255 {
        return false;
    }
    let (domain, path) = match name.split_once('/') {
        Some((d, p))
            if d.contains(['.', ':'])
                || d == "localhost"
                || d.bytes().any(|b| b.is_ascii_uppercase()) =>
        {
            (Some(d), p)
        }
        _ => (None, name),
    };
    if domain.is_some_and(|d| !is_domain(d)) {
        return false;
    }
    if domain.is_none() && path.len() == 64 && path.bytes().all(|b| b.is_ascii_hexdigit()) {
        return false;
    }
    path.split('/').all(is_path_component)
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
pub(crate) fn is_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if !b.first().is_some_and(|&x| alnum(x)) || !b.last().is_some_and(|&x| alnum(x)) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let sep_start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[sep_start..i];
        if !(sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-')) {
            return false;
        }
    }
    true
}

/// `[\w][\w.-]{0,127}`
fn is_tag(t: &str) -> bool {
    let word = |x: u8| x.is_ascii_alphanumeric() || x == b'_';
    t.len() <= 128
        && t.bytes().next().is_some_and(word)
        && t.bytes().all(|x| word(x) || x == b'.' || x == b'-')
}

/// `[A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}`
fn is_digest(d: &str) -> bool {
    let Some((alg, hex)) = d.split_once(':') else {
        return false;
    };
    let alg_ok = alg.split(['-', '_', '+', '.']).all(|p| {
        p.bytes().next().is_some_and(|x| x.is_ascii_alphabetic())
            && p.bytes().all(|x| x.is_ascii_alphanumeric())
    });
    alg_ok && hex.len() >= 32 && hex.bytes().all(|x| x.is_ascii_hexdigit())
}

/// `host[:port]`: dot-separated labels `[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?` or `[ipv6]`.
fn is_domain(d: &str) -> bool {
    let (host, port) = match d.rfind(':') {
        Some(c) if !d[c..].contains(']') => (&d[..c], Some(&d[c + 1..])),
        _ => (d, None),
    };
    if port.is_some_and(|p| p.is_empty() || !p.bytes().all(|x| x.is_ascii_digit())) {
        return false;
    }
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return !v6.is_empty()
            && v6
                .bytes()
                .all(|x| x.is_ascii_hexdigit() || x == b':' || x == b'.');
    }
    !host.is_empty()
        && host.split('.').all(|l| {
            let b = l.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter().all(|x| x.is_ascii_alphanumeric() || *x == b'-')
        })
}

/// A platform as containerd's `platforms.Parse` reads it, normalized: (os, architecture).
/// `None` where `Parse` fails. A specifier without an architecture gets `amd64` (the
/// architecture of the machine that runs `Parse`, taken as the usual one).
pub fn parse_platform(spec: &str) -> Option<(String, String)> {
    let lower = spec.to_ascii_lowercase();
    let parts: Vec<&str> = lower.split('/').collect();
    if parts.len() > 3 {
        return None;
    }
    // `os(osversion)`: the version is not part of the comparison
    let os_part = parts[0].split_once('(').map_or(parts[0], |(o, _)| o);
    let component = |c: &str| {
        !c.is_empty()
            && c.bytes()
                .all(|x| x.is_ascii_alphanumeric() || matches!(x, b'_' | b'.' | b'-'))
    };
    if !component(os_part) || !parts[1..].iter().all(|p| component(p)) {
        return None;
    }
    let os = normalize_os(os_part);
    match parts.get(1) {
        Some(arch) => Some((os, normalize_arch(arch).to_string())),
        None if KNOWN_OS.contains(&os.as_str()) => Some((os, "amd64".to_string())),
        None if KNOWN_ARCH.contains(&os_part) => {
            Some(("linux".to_string(), normalize_arch(os_part).to_string()))
        }
        None => None,
    }
}

const KNOWN_OS: &[&str] = &[
    "aix",
    "android",
    "darwin",
    "dragonfly",
    "freebsd",
    "hurd",
    "illumos",
    "ios",
    "js",
    "linux",
    "nacl",
    "netbsd",
    "openbsd",
    "plan9",
    "solaris",
    "windows",
    "zos",
    "wasip1",
];

const KNOWN_ARCH: &[&str] = &[
    "386",
    "amd64",
    "amd64p32",
    "arm",
    "armbe",
    "arm64",
    "arm64be",
    "ppc64",
    "ppc64le",
    "loong64",
    "mips",
    "mipsle",
    "mips64",
    "mips64le",
    "mips64p32",
    "mips64p32le",
    "ppc",
    "riscv",
    "riscv64",
    "s390",
    "s390x",
    "sparc",
    "sparc64",
    "wasm",
    "i386",
    "x86_64",
    "x86-64",
    "aarch64",
    "armhf",
    "armel",
];

fn normalize_os(os: &str) -> String {
    if os == "macos" { "darwin" } else { os }.to_string()
}

fn normalize_arch(arch: &str) -> &str {
    match arch {
        "i386" => "386",
        "x86_64" | "x86-64" | "amd64" => "amd64",
        "aarch64" | "arm64" => "arm64",
        "armhf" | "armel" | "arm" => "arm",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        for ok in [
            "scratch",
            "busybox:latest",
            "docker.io/library/alpine:3.20",
            "localhost:5000/a/b_c__d-e:1.0",
            "Registry.example/x",
            "[::1]:5000/img",
            "golang@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert!(is_valid_reference(ok), "{ok}");
        }
        for bad in [
            "",
            "busybox:",
            "Busybox",
            "busy box",
            ":latest",
            "a//b",
            "a/",
            "x@sha256:12",
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "a_.b",
        ] {
            assert!(!is_valid_reference(bad), "{bad}");
        }
    }

    #[test]
    fn platforms() {
        let p = |s: &str| parse_platform(s).map(|(o, a)| format!("{o}/{a}"));
        assert_eq!(p("linux/amd64").as_deref(), Some("linux/amd64"));
        assert_eq!(p("Linux/x86_64").as_deref(), Some("linux/amd64"));
        assert_eq!(p("linux/arm64/v8").as_deref(), Some("linux/arm64"));
        assert_eq!(p("arm64").as_deref(), Some("linux/arm64"));
        assert_eq!(
            p("windows(10.0.17763)/amd64").as_deref(),
            Some("windows/amd64")
        );
        assert_eq!(p("nonsense"), None);
        assert_eq!(p("linux/"), None);
        assert_eq!(p("a/b/c/d"), None);
    }
}
