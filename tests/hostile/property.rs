//! Property test (stable toolchain, no fuzzing engine): seeded, bounded random generation of
//! *structured* hostile inputs — Dockerfiles (random instructions and flags, heredocs,
//! continuations, escape directives, JSON forms, odd Unicode, control characters, huge words)
//! and Compose YAML (anchors, aliases, merge keys, tags, flow and block styles, `${…}`
//! interpolation with nested defaults, suppressions, multi-document streams) — through the
//! library's lint and every renderer. Where the mutation test damages our fixtures, this builds
//! inputs an attacker would write.
//!
//! Each case must keep the invariants of `tests/common/invariants.rs` (no panic, spans inside
//! their files on char boundaries, JSON formats parse, one GitHub line per finding, no marked
//! secret in any output, no raw control character in the already-escaped formats), and the lint
//! must be deterministic. A failure prints the seed, the round and the input (escaped).
//!
//! Defaults keep a debug run well under 20 s; dig deeper with
//! `SANDLINT_PROPERTY_ROUNDS=5000 SANDLINT_PROPERTY_SEED=7 cargo test --release --test hostile
//! property`. The coverage assertions (most generated files parse, the rules fire) keep the
//! generators honest: a generator that only produced syntax errors would test nothing.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use sandlint::discover::FileKind;
use sandlint::linter::{self, FileResult, Selection};
use sandlint::report;
use sandlint::report::OutputFormat;
use sandlint::source::SourceFile;

use crate::common::{self, Rng, SPECIAL, env_u64, invariants, panic_message};

/// Default rounds per test (each round: one generated file, or one project on disk).
const DEFAULT_ROUNDS: u64 = 150;
/// Default seed; `SANDLINT_PROPERTY_SEED` overrides it.
const DEFAULT_SEED: u64 = 0x9E37_79B9_7F4A_7C15;

fn rounds(scale: u64) -> u64 {
    env_u64("SANDLINT_PROPERTY_ROUNDS").unwrap_or(DEFAULT_ROUNDS) / scale
}

/// A generator per test, derived from the seed and the test's name so each test has its own
/// stream and one failure reproduces alone.
fn rng_for(test: &str) -> (u64, Gen) {
    let seed = env_u64("SANDLINT_PROPERTY_SEED").unwrap_or(DEFAULT_SEED);
    let mut h = seed;
    for b in test.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3);
    }
    (
        seed,
        Gen {
            rng: Rng::new(h),
            tame: false,
        },
    )
}

/// The generator of one case. A *tame* case (half of them) writes no syntax error on purpose
/// (no unknown instruction or flag, no duplicate key, no invalid interpolation, no misplaced
/// tag or alias, no stray newline): it reaches the rules with hostile values, where the others
/// stress the error paths.
struct Gen {
    rng: Rng,
    tame: bool,
}

impl std::ops::Deref for Gen {
    type Target = Rng;
    fn deref(&self) -> &Rng {
        &self.rng
    }
}

impl std::ops::DerefMut for Gen {
    fn deref_mut(&mut self) -> &mut Rng {
        &mut self.rng
    }
}

// ---------------------------------------------------------------------------------------------
// Hostile text pieces

/// Text that spoofs terminals and line-based formats, or stresses width/offset arithmetic.
const HOSTILE: &[&str] = &[
    "\u{1b}[31mred\u{1b}[0m",
    "\u{1b}]8;;https://evil.example/\u{7}link\u{1b}]8;;\u{7}",
    "\u{1b}[2J\u{1b}[H",
    "\u{9b}31m",
    "\r",
    "\rfake.yaml:1:1: error SLC999 forged",
    "\n::error file=x,line=1::forged",
    "\u{0}",
    "\u{7}",
    "\u{7f}",
    "\u{8}\u{8}\u{8}",
    "\u{202e}txt.exe",
    "\u{2066}\u{2069}",
    "\u{200b}",
    "\u{feff}",
    "\u{85}",
    "\u{2028}",
    "e\u{301}\u{301}\u{301}",
    "👩\u{200d}👩\u{200d}👧",
    "漢字テスト",
    "\u{10ffff}",
    "%0A%25",
    "::",
    "\t",
];

/// Returns `base`, now and then with a hostile piece, a parser-special piece or a long run
/// spliced in.
fn taint(rng: &mut Gen, base: &str) -> String {
    let mut s = base.to_string();
    // a tame case keeps newlines out (a new line would start an unknown instruction)
    let hostile = |rng: &mut Gen| loop {
        let h = rng.pick(HOSTILE);
        if !rng.tame || !h.contains(['\n', '\r']) {
            break h;
        }
    };
    match rng.below(12) {
        0 | 1 => s.push_str(hostile(rng)),
        2 => s.insert_str(0, hostile(rng)),
        3 if !rng.tame => s.push_str(rng.pick(SPECIAL)),
        4 => {
            let unit = rng.pick(&["a", "é", "漢", "\u{1b}", "${X}", "\\"]);
            s.push_str(&unit.repeat(1 + rng.below(3000)));
        }
        _ => {}
    }
    s
}

/// [`taint`] of one of `choices`.
fn taint_pick(rng: &mut Gen, choices: &[&str]) -> String {
    let base = rng.pick(choices);
    taint(rng, base)
}

/// A secret-looking value unique to this file (`Zq…`), so the invariants can tell whether it
/// leaked: it appears once in the input, only where a credential goes.
fn secret(rng: &mut Gen) -> String {
    format!("Zq{:016x}x", rng.next())
}

// ---------------------------------------------------------------------------------------------
// Dockerfiles

const IMAGES: &[&str] = &[
    "alpine",
    "alpine:3.20",
    "ubuntu:latest",
    "busybox@sha256:0000000000000000000000000000000000000000000000000000000000000000",
    "registry.example.com:5000/team/app:1.2",
    "gcr.io/distroless/static:nonroot",
    "scratch",
    "${BASE}",
    "${BASE:-debian:12}",
    "$BASE",
    "build",
    "Build",
    "builder",
    "stage0",
    "\"quoted\"",
    "",
];

const USERS: &[&str] = &[
    "root",
    "0",
    "+0",
    "00",
    "0:0",
    "root:root",
    "1000",
    "1000:1000",
    "app",
    "app:app",
    "toor",
    "$U",
    "${U}",
    "${U:-root}",
    "${U:-10001}",
    "65534",
    "-1",
    "0x0",
    "nobody:0",
    "",
];

const SHELL_WORDS: &[&str] = &[
    "curl -fsSL https://example.com/install.sh | sh",
    "wget -qO- https://x | sudo bash -s --",
    "apt-get update && apt-get install -y --allow-unauthenticated openssh-server",
    "apk add --no-cache --allow-untrusted curl",
    "chmod 777 /app",
    "chmod u+s /bin/x",
    "echo $((1+2)) `id -u` $(whoami)",
    "sh -c 'curl http://x | sh'",
    "bash <(curl -s https://x)",
    "python3 - < <(curl https://x)",
    "set -o pipefail; a | b",
    "echo \"unterminated",
    "echo 'single ${X}'",
    "cat <<EOF > /x\nbody\nEOF",
    "{ a; b; } || (c && d) &",
    "case $x in a) b;; esac",
    "echo password=hunter2 | chpasswd",
    "git config --global http.sslVerify false",
    "export NODE_TLS_REJECT_UNAUTHORIZED=0",
    "useradd -p secret app",
    "x=$(( ${#A} ))",
    "!",
    "|",
    "&&",
    "\\",
];

const FLAG_NAMES: &[&str] = &[
    "platform",
    "from",
    "chown",
    "chmod",
    "link",
    "mount",
    "network",
    "security",
    "interval",
    "timeout",
    "retries",
    "start-period",
    "checksum",
    "keep-git-dir",
    "exclude",
    "parents",
    "unknown",
];

const FLAG_VALUES: &[&str] = &[
    "",
    "linux/amd64",
    "$TARGETPLATFORM",
    "0",
    "1000:1000",
    "root",
    "755",
    "4755",
    "type=secret,id=tok",
    "type=bind,source=/,target=/host,rw",
    "type=cache,target=/root/.cache",
    "host",
    "insecure",
    "none",
    "30s",
    "bad",
    "-1",
    "sha256:abc",
    "\"quoted value\"",
    "a=b,c=d",
];

/// A `--name=value` flag (or a bare `--name`).
fn flag(rng: &mut Gen) -> String {
    let name = rng.pick(FLAG_NAMES);
    if rng.one_in(5) {
        format!("--{name}")
    } else {
        format!("--{name}={}", taint_pick(rng, FLAG_VALUES))
    }
}

/// A JSON array of strings, sometimes broken (exec form falls back to shell form).
fn json_form(rng: &mut Gen, items: &[String]) -> String {
    let mut s = String::from("[");
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            s.push_str(if !rng.tame && rng.one_in(15) {
                " "
            } else {
                ", "
            });
        }
        if !rng.tame && rng.one_in(20) {
            s.push_str(it); // unquoted
        } else {
            let escaped = it.replace('\\', "\\\\").replace('"', "\\\"");
            let escaped = if rng.one_in(6) {
                escaped.replace('\u{1b}', "\\u001b")
            } else {
                escaped
            };
            write!(s, "\"{escaped}\"").unwrap();
        }
    }
    if rng.tame || !rng.one_in(15) {
        s.push(']');
    }
    s
}

/// A shell command line.
fn shell_line(rng: &mut Gen) -> String {
    let n = 1 + rng.below(3);
    let parts: Vec<String> = (0..n).map(|_| taint_pick(rng, SHELL_WORDS)).collect();
    parts.join(rng.pick(&[" && ", "; ", " | ", " || ", "\n"]))
}

/// A heredoc opener and its body (`<<EOF`, `<<-'EOT'`, `<<"X"`), the terminator sometimes
/// missing.
fn heredoc(rng: &mut Gen) -> (String, String) {
    let word = rng.pick(&["EOF", "EOT", "X", "END_OF_TEXT", "eof"]);
    let open = match rng.below(4) {
        0 => format!("<<{word}"),
        1 => format!("<<-{word}"),
        2 => format!("<<'{word}'"),
        _ => format!("<<\"{word}\""),
    };
    let mut body = String::new();
    for _ in 0..rng.below(4) {
        body.push_str(&shell_line(rng));
        body.push('\n');
    }
    if rng.tame || !rng.one_in(8) {
        if open.starts_with("<<-") {
            body.push('\t');
        }
        body.push_str(word);
        body.push('\n');
    }
    (open, body)
}

/// One instruction (without its line end); `stages` are the names declared so far.
fn instruction(rng: &mut Gen, stages: &mut Vec<String>, sec: &mut Vec<String>) -> String {
    let kw = |rng: &mut Gen, k: &str| -> String {
        match rng.below(10) {
            0 => k.to_lowercase(),
            1 => {
                let mut c = k.chars();
                c.next()
                    .map(|f| f.to_string() + &c.as_str().to_lowercase())
                    .unwrap_or_default()
            }
            _ => k.to_string(),
        }
    };
    let mut flags = String::new();
    for _ in 0..if rng.tame { 0 } else { rng.below(3) } {
        flags.push_str(&flag(rng));
        flags.push(' ');
    }
    match rng.below(22) {
        0..=2 => {
            let images = if rng.tame { &IMAGES[..7] } else { IMAGES };
            let mut image = rng.pick(images).to_string();
            if !stages.is_empty() && rng.one_in(3) {
                image = rng.pick(stages);
            }
            let image = taint(rng, &image);
            let mut s = format!("{} {flags}{image}", kw(rng, "FROM"));
            if rng.one_in(2) {
                let name = rng.pick(&["build", "builder", "final", "Stage0", "base", "x"]);
                write!(s, " {} {name}", rng.pick(&["AS", "as", "As"])).unwrap();
                stages.push((*name).to_string());
            }
            s
        }
        3..=5 => {
            if rng.one_in(3) {
                let (open, body) = heredoc(rng);
                format!("{} {flags}{open}\n{body}", kw(rng, "RUN"))
                    .trim_end_matches('\n')
                    .to_string()
            } else if rng.one_in(3) {
                let items: Vec<String> = (0..1 + rng.below(4))
                    .map(|_| taint_pick(rng, &["sh", "-c", "curl x|sh", "id", ""]))
                    .collect();
                format!("{} {flags}{}", kw(rng, "RUN"), json_form(rng, &items))
            } else {
                format!("{} {flags}{}", kw(rng, "RUN"), shell_line(rng))
            }
        }
        6 => {
            let (name, value) = (
                rng.pick(&["PASSWORD", "API_KEY", "GITHUB_TOKEN", "PATH", "HOME", "X"]),
                secret(rng),
            );
            // a value is a secret by its name here (`Zq…` has no credential shape): the value of
            // `HOME` may show in another finding's message (`WORKDIR $HOME` expanded), and must
            if matches!(name, "PASSWORD" | "API_KEY" | "GITHUB_TOKEN") {
                sec.push(value.clone());
            }
            match rng.below(4) {
                0 => format!("{} {name} {value}", kw(rng, "ENV")),
                1 => format!("{} {name}=\"{value}\" OTHER=${{{name}}}", kw(rng, "ENV")),
                2 => format!("{} {name}={value}", kw(rng, "ARG")),
                _ => format!("{} {name}", kw(rng, "ARG")),
            }
        }
        7 => {
            let name = rng.pick(&["BASE", "U", "TARGETPLATFORM", "V"]);
            let value = taint_pick(rng, &["", "alpine:3", "root", "1000", "${V}"]);
            format!("{} {name}={value}", kw(rng, "ARG"))
        }
        8 | 9 => {
            // the last user is empty: a syntax error
            let users = if rng.tame {
                &USERS[..USERS.len() - 1]
            } else {
                USERS
            };
            format!("{} {}", kw(rng, "USER"), taint_pick(rng, users))
        }
        10 | 11 => {
            let k = rng.pick(&["COPY", "ADD"]);
            if rng.one_in(4) {
                let (open, body) = heredoc(rng);
                format!("{} {flags}{open} /dst\n{body}", kw(rng, k))
                    .trim_end_matches('\n')
                    .to_string()
            } else {
                let src = taint_pick(
                    rng,
                    &[
                        ".",
                        "/",
                        "id_rsa",
                        ".env",
                        "https://example.com/x.tar.gz",
                        "git@github.com:o/r.git",
                        "app.tar.gz",
                        "*.pem",
                    ],
                );
                let srcs = vec![src, "/app/".to_string()];
                if rng.one_in(3) {
                    format!("{} {flags}{}", kw(rng, k), json_form(rng, &srcs))
                } else {
                    format!("{} {flags}{}", kw(rng, k), srcs.join(" "))
                }
            }
        }
        12 => format!(
            "{} {}",
            kw(rng, "EXPOSE"),
            taint_pick(rng, &["80", "80/tcp", "abc", "1-65536", "22", "$P", "0"])
        ),
        13 => {
            let body = match rng.below(3) {
                0 => "NONE".to_string(),
                1 => format!("CMD {}", shell_line(rng)),
                _ => format!("CMD {}", json_form(rng, &["true".to_string()])),
            };
            format!("{} {flags}{body}", kw(rng, "HEALTHCHECK"))
        }
        14 => {
            let k = rng.pick(&["CMD", "ENTRYPOINT", "SHELL"]);
            let items: Vec<String> = (0..1 + rng.below(3))
                .map(|_| taint_pick(rng, &["/bin/sh", "-c", "-o", "pipefail", "x"]))
                .collect();
            if rng.one_in(3) && !(rng.tame && k == "SHELL") {
                format!("{} {}", kw(rng, k), shell_line(rng))
            } else {
                format!("{} {}", kw(rng, k), json_form(rng, &items))
            }
        }
        15 => format!(
            "{} {}",
            kw(rng, "WORKDIR"),
            taint_pick(rng, &["/app", "/", "/root/.ssh", "$HOME", "rel"])
        ),
        16 => format!(
            "{} a=b \"c d\"=\"{}\" {}",
            kw(rng, "LABEL"),
            taint(rng, "v"),
            taint(rng, "e=f")
        ),
        17 => format!(
            "{} {}",
            {
                let k = rng.pick(&["VOLUME", "STOPSIGNAL", "MAINTAINER"]);
                kw(rng, k)
            },
            taint(rng, "/data")
        ),
        18 | 19 if rng.tame => format!("{} {}", kw(rng, "USER"), taint_pick(rng, &USERS[..10])),
        18 => {
            // ONBUILD wraps another instruction (sometimes ONBUILD itself: an error)
            let inner = instruction(rng, stages, sec);
            format!("{} {inner}", kw(rng, "ONBUILD"))
        }
        19 => format!("{} {}", taint(rng, "FOO"), shell_line(rng)), // unknown instruction
        20 => format!("# {}", taint_pick(rng, SUPPRESSIONS)),
        _ => String::new(),
    }
}

/// Suppression comments, valid and not.
const SUPPRESSIONS: &[&str] = &[
    "sandlint ignore=root-user reason=\"test\"",
    "sandlint ignore=SLD001,curl-pipe-shell",
    "sandlint ignore=all",
    "sandlint ignore=",
    "sandlint ignore=no-such-rule reason=",
    "sandlint ignore-file=root-user",
    "sandlint ignore=privileged-container,container-socket-mount reason=\"x\"",
    "sandlint",
];

/// Splits some of the spaces of `line` into continuations (`escape` + newline), sometimes with
/// comment lines and blank lines in between, as BuildKit allows.
fn continue_lines(rng: &mut Gen, line: &str, escape: char) -> String {
    if line.contains('\n') || !rng.one_in(3) {
        return line.to_string();
    }
    let mut out = String::new();
    for (i, part) in line.split(' ').enumerate() {
        if i > 0 {
            if rng.one_in(3) {
                out.push(' ');
                out.push(escape);
                if rng.one_in(4) {
                    out.push_str("  ");
                }
                out.push('\n');
                if rng.one_in(4) {
                    out.push_str("# inside a continuation\n");
                }
                if rng.one_in(6) {
                    out.push('\n');
                }
                out.push_str("    ");
            } else {
                out.push(' ');
            }
        }
        out.push_str(part);
    }
    if !rng.tame && rng.one_in(10) {
        out.push(' ');
        out.push(escape); // continuation at the end of the file
    }
    out
}

/// A generated Dockerfile and the secret values it planted.
fn dockerfile(rng: &mut Gen) -> (String, Vec<String>) {
    let mut out = String::new();
    if rng.one_in(10) {
        out.push('\u{feff}');
    }
    let mut escape = '\\';
    // BuildKit keeps the first `escape` directive; a repeated one is a comment
    let mut escape_set = false;
    for _ in 0..rng.below(3) {
        match rng.below(5) {
            0 => out.push_str("# syntax=docker/dockerfile:1\n"),
            1 => {
                out.push_str("# escape=`\n");
                if !escape_set {
                    escape = '`';
                }
                escape_set = true;
            }
            2 => {
                out.push_str("# escape=\\\n");
                escape_set = true;
            }
            3 => out.push_str("# check=skip=all;error=true\n"),
            _ => out.push_str("# escape=xyz\n"),
        }
    }
    let mut stages = Vec::new();
    let mut secrets = Vec::new();
    if rng.tame || !rng.one_in(8) {
        out.push_str("FROM alpine:3.20\n");
    }
    let eol = if rng.one_in(8) { "\r\n" } else { "\n" };
    for _ in 0..1 + rng.below(14) {
        let inst = instruction(rng, &mut stages, &mut secrets);
        let line = continue_lines(rng, &inst, escape);
        let line = if eol == "\n" {
            line
        } else {
            line.replace('\n', eol)
        };
        out.push_str(&line);
        out.push_str(if rng.one_in(25) { "" } else { eol });
    }
    (out, secrets)
}

// ---------------------------------------------------------------------------------------------
// Compose YAML: a small tree, emitted in block or flow style with anchors, aliases and tags

#[derive(Debug, Clone)]
enum Y {
    /// A scalar, written as given (the generator picks its quoting).
    Scalar(String),
    Seq(Vec<Y>),
    Map(Vec<(String, Y)>),
    /// `*name`
    Alias(String),
    /// A node with a tag and/or anchor.
    Decorated {
        tag: Option<String>,
        anchor: Option<String>,
        node: Box<Y>,
    },
}

/// Quotes `s` as a YAML scalar: plain when safe, else double-quoted with escapes (so control
/// characters reach the loaded value), sometimes single-quoted.
fn scalar(rng: &mut Gen, s: &str) -> Y {
    let plain_ok = !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || "._/-+@=".contains(c))
        && !s.starts_with(['-', '@']);
    if plain_ok && !rng.one_in(4) {
        return Y::Scalar(s.to_string());
    }
    if !s.chars().any(char::is_control) && rng.one_in(4) {
        return Y::Scalar(format!("'{}'", s.replace('\'', "''")));
    }
    let mut q = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\u{1b}' => q.push_str(if rng.one_in(2) { "\\e" } else { "\\x1b" }),
            '\n' => q.push_str("\\n"),
            '\r' => q.push_str("\\r"),
            '\t' => q.push_str("\\t"),
            '\u{0}' => q.push_str("\\0"),
            c if c.is_control() || c == '\u{feff}' => {
                write!(q, "\\u{:04x}", u32::from(c)).unwrap();
            }
            c => q.push(c),
        }
    }
    q.push('"');
    Y::Scalar(q)
}

/// A string with interpolation: `$V`, `${V}`, defaults (nested), required, alternatives, `$$`,
/// and now and then an invalid form.
fn interpolated(rng: &mut Gen, depth: usize) -> String {
    let var = rng.pick(&["V", "IMAGE", "UID", "PRIV", "HOST_DIR", "UNSET", "_x1", "E"]);
    let inner = if depth < 4 && rng.one_in(3) {
        interpolated(rng, depth + 1)
    } else {
        rng.pick(&[
            "",
            "alpine:3",
            "0",
            "true",
            "/var/run/docker.sock",
            "host",
            "a b",
        ])
        .to_string()
    };
    let forms = if rng.tame { 7 } else { 12 };
    match rng.below(forms) {
        0 => format!("${var}"),
        1 => format!("${{{var}}}"),
        2 => format!("${{{var}:-{inner}}}"),
        3 => format!("${{{var}-{inner}}}"),
        4 => format!("${{{var}:?{inner}}}"),
        5 => format!("${{{var}:+{inner}}}"),
        6 => format!("pre-${{{var}:-{inner}}}-post $${var}"),
        7 => "${".to_string(),
        8 => "${}".to_string(),
        9 => format!("${{{var}%x}}"),
        _ => format!("${{1{var}}}"),
    }
}

/// A scalar value for a service key: a known value, an interpolation, or tainted text.
fn value(rng: &mut Gen, choices: &[&str]) -> Y {
    let s = match rng.below(6) {
        0 => interpolated(rng, 0),
        1 => taint_pick(rng, choices),
        _ => rng.pick(choices).to_string(),
    };
    scalar(rng, &s)
}

fn list(rng: &mut Gen, choices: &[&str]) -> Y {
    Y::Seq((0..rng.below(4)).map(|_| value(rng, choices)).collect())
}

/// One service body; `names` are the services of the file (for `extends`), `anchors` the
/// anchors defined so far (for aliases and merge keys).
fn service(rng: &mut Gen, names: &[String], anchors: &[String], sec: &mut Vec<String>) -> Y {
    let mut keys: Vec<(String, Y)> = Vec::new();
    for _ in 0..1 + rng.below(9) {
        let (k, v): (&str, Y) = match rng.below(30) {
            0 | 1 => (
                "image",
                value(
                    rng,
                    &[
                        "nginx",
                        "nginx:1.27",
                        "alpine@sha256:00",
                        "${IMAGE}",
                        "x:latest",
                    ],
                ),
            ),
            2 => (
                "build",
                if rng.one_in(2) {
                    value(rng, &[".", "./app", "nonexistent-dir", "https://x/y.git"])
                } else {
                    Y::Map(vec![
                        ("context".into(), value(rng, &[".", "sub", "nonexistent"])),
                        (
                            "dockerfile".into(),
                            value(rng, &["Dockerfile", "Containerfile", "missing.Dockerfile"]),
                        ),
                        ("target".into(), value(rng, &["final", "build", "nope"])),
                    ])
                },
            ),
            3 | 4 => ("user", value(rng, USERS)),
            5 => (
                "privileged",
                value(rng, &["true", "false", "yes", "${PRIV:-true}", "1"]),
            ),
            6 => ("read_only", value(rng, &["true", "false", "no"])),
            7 => (
                "cap_add",
                list(
                    rng,
                    &["ALL", "SYS_ADMIN", "cap_net_raw", "NET_BIND_SERVICE"],
                ),
            ),
            8 => ("cap_drop", list(rng, &["ALL", "all", "NET_RAW"])),
            9 => (
                "security_opt",
                list(
                    rng,
                    &[
                        "no-new-privileges:true",
                        "no-new-privileges=false",
                        "seccomp:unconfined",
                        "apparmor=unconfined",
                        "label:disable",
                    ],
                ),
            ),
            10 => (
                "network_mode",
                value(rng, &["host", "none", "bridge", "service:db"]),
            ),
            11 => (
                "ports",
                if rng.one_in(3) {
                    Y::Seq(vec![Y::Map(vec![
                        ("target".into(), value(rng, &["80", "22"])),
                        ("published".into(), value(rng, &["8080", "80", "${P}"])),
                        (
                            "host_ip".into(),
                            value(rng, &["0.0.0.0", "127.0.0.1", "::"]),
                        ),
                    ])])
                } else {
                    list(
                        rng,
                        &[
                            "80:80",
                            "127.0.0.1:8080:80",
                            "22",
                            "1-1024:1-1024/udp",
                            "[::]:80:80",
                        ],
                    )
                },
            ),
            12 | 13 => (
                "volumes",
                if rng.one_in(3) {
                    Y::Seq(vec![Y::Map(vec![
                        ("type".into(), value(rng, &["bind", "volume", "tmpfs"])),
                        (
                            "source".into(),
                            value(rng, &["/var/run/docker.sock", "/", "./data"]),
                        ),
                        ("target".into(), value(rng, &["/x", "/var/run/docker.sock"])),
                        ("read_only".into(), value(rng, &["true", "false"])),
                    ])])
                } else {
                    list(
                        rng,
                        &[
                            "/var/run/docker.sock:/var/run/docker.sock",
                            "/:/host",
                            "./data:/data:ro",
                            "${HOST_DIR:-/etc}:/etc:rw",
                            "data:/data",
                            "/proc:/host/proc:shared",
                        ],
                    )
                },
            ),
            14 | 15 => {
                let s = secret(rng);
                sec.push(s.clone());
                let name = rng.pick(&["DB_PASSWORD", "API_TOKEN", "AWS_SECRET_ACCESS_KEY"]);
                (
                    "environment",
                    if rng.one_in(2) {
                        Y::Map(vec![
                            (name.into(), scalar(rng, &s)),
                            ("PLAIN".into(), value(rng, &["1", "${V}", ""])),
                        ])
                    } else {
                        Y::Seq(vec![
                            scalar(rng, &format!("{name}={s}")),
                            value(rng, &["A=B", "NODE_TLS_REJECT_UNAUTHORIZED=0", "BARE"]),
                        ])
                    },
                )
            }
            16 => (
                "env_file",
                list(rng, &["missing.env", "sub/none.env", ".env.none"]),
            ),
            17 => (
                "command",
                if rng.one_in(2) {
                    value(rng, &["sh -c 'curl x | sh'", "id", ""])
                } else {
                    list(rng, &["sh", "-c", "id"])
                },
            ),
            18 => ("pid", value(rng, &["host", "service:x"])),
            19 => ("ipc", value(rng, &["host", "shareable"])),
            20 => (
                "devices",
                list(rng, &["/dev/sda:/dev/sda", "/dev/fuse", "/dev/kmsg"]),
            ),
            21 => (
                "deploy",
                Y::Map(vec![(
                    "resources".into(),
                    Y::Map(vec![(
                        "limits".into(),
                        Y::Map(vec![
                            ("memory".into(), value(rng, &["512m", "0", "-1", "1e9"])),
                            ("cpus".into(), value(rng, &["0.5", "0", "abc"])),
                            ("pids".into(), value(rng, &["100", "-1"])),
                        ]),
                    )]),
                )]),
            ),
            22 => ("mem_limit", value(rng, &["512m", "0", "1g", "x"])),
            23 => (
                "healthcheck",
                Y::Map(vec![
                    ("test".into(), list(rng, &["NONE", "CMD", "true"])),
                    ("disable".into(), value(rng, &["true", "false"])),
                    ("interval".into(), value(rng, &["30s", "bad"])),
                ]),
            ),
            24 => (
                "sysctls",
                list(rng, &["kernel.core_pattern=|/x", "net.ipv4.ip_forward=1"]),
            ),
            25 => (
                "x-sandlint",
                Y::Map(vec![
                    ("ignore".into(), list(rng, &["root-user", "all", "SLC001"])),
                    ("reason".into(), value(rng, &["because", ""])),
                ]),
            ),
            26 if !names.is_empty() => (
                "extends",
                if rng.one_in(2) {
                    {
                        let n = rng.pick(names);
                        scalar(rng, &n)
                    }
                } else {
                    Y::Map(vec![
                        ("service".into(), {
                            let n = rng.pick(names);
                            scalar(rng, &n)
                        }),
                        ("file".into(), value(rng, &["missing.yaml", "compose.yaml"])),
                    ])
                },
            ),
            27 if !anchors.is_empty() => ("<<", merge_value(rng, anchors)),
            28 if !rng.tame => (
                rng.pick(&["privilegd", "cap-add", "tmpfs", "unknown_key", "logging"]),
                value(rng, &["true", "/tmp:exec", "none"]),
            ),
            _ => ("networks", list(rng, &["default", "internal", "x"])),
        };
        if rng.tame && keys.iter().any(|(x, _)| x == k) {
            continue; // a duplicate key is a syntax error
        }
        let v = decorate(rng, v, anchors);
        keys.push((k.to_string(), v));
    }
    if rng.tame && !keys.iter().any(|(k, _)| k == "image" || k == "build") {
        // Compose rejects a service with neither (SLE002): a tame case has an image
        keys.insert(0, ("image".into(), scalar(rng, "nginx:1.27")));
    }
    Y::Map(keys)
}

/// The value of a merge key: an alias, a list of aliases, or an inline map.
fn merge_value(rng: &mut Gen, anchors: &[String]) -> Y {
    match rng.below(3) {
        0 => Y::Alias(rng.pick(anchors)),
        1 => Y::Seq(
            (0..1 + rng.below(3))
                .map(|_| Y::Alias(rng.pick(anchors)))
                .collect(),
        ),
        _ => Y::Map(vec![("ipc".into(), scalar(rng, "host"))]),
    }
}

/// Now and then a tag (`!reset`, `!override`, `!!str`, …) on a node, or the node replaced by an
/// alias.
fn decorate(rng: &mut Gen, node: Y, anchors: &[String]) -> Y {
    if rng.tame {
        return node;
    }
    match rng.below(14) {
        0 => Y::Decorated {
            tag: Some(
                rng.pick(&["!reset", "!override", "!!str", "!!int", "!!map", "!custom"])
                    .into(),
            ),
            anchor: None,
            node: Box::new(node),
        },
        1 if !anchors.is_empty() => Y::Alias(rng.pick(anchors)),
        _ => node,
    }
}

/// Writes `node` in block style at `indent` (the caller wrote the key or `- `).
fn emit_block(rng: &mut Gen, node: &Y, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match node {
        Y::Scalar(_) | Y::Alias(_) => {
            out.push(' ');
            emit_flow(node, out);
            out.push('\n');
        }
        Y::Decorated { tag, anchor, node } => {
            for d in [anchor.as_ref().map(|a| format!("&{a}")), tag.clone()]
                .into_iter()
                .flatten()
            {
                out.push(' ');
                out.push_str(&d);
            }
            if matches!(**node, Y::Map(_) | Y::Seq(_)) && rng.one_in(3) {
                out.push(' ');
                emit_flow(node, out);
                out.push('\n');
            } else {
                emit_block(rng, node, indent, out);
            }
        }
        Y::Seq(items) if items.is_empty() => out.push_str(" []\n"),
        Y::Map(pairs) if pairs.is_empty() => out.push_str(" {}\n"),
        Y::Seq(items) => {
            if rng.one_in(4) {
                out.push(' ');
                emit_flow(node, out);
                out.push('\n');
                return;
            }
            out.push('\n');
            for it in items {
                write!(out, "{pad}-").unwrap();
                emit_block(rng, it, indent + 2, out);
            }
        }
        Y::Map(pairs) => {
            if rng.one_in(6) {
                out.push(' ');
                emit_flow(node, out);
                out.push('\n');
                return;
            }
            out.push('\n');
            for (k, v) in pairs {
                if rng.one_in(30) {
                    let directive = rng.pick(SUPPRESSIONS);
                    writeln!(out, "{pad}# {directive}").unwrap();
                }
                write!(out, "{pad}{k}:").unwrap();
                emit_block(rng, v, indent + 2, out);
            }
        }
    }
}

/// Writes `node` in flow style.
fn emit_flow(node: &Y, out: &mut String) {
    match node {
        Y::Scalar(s) => out.push_str(s),
        Y::Alias(a) => write!(out, "*{a}").unwrap(),
        Y::Decorated { tag, anchor, node } => {
            if let Some(a) = anchor {
                write!(out, "&{a} ").unwrap();
            }
            if let Some(t) = tag {
                write!(out, "{t} ").unwrap();
            }
            emit_flow(node, out);
        }
        Y::Seq(items) => {
            out.push('[');
            for (i, it) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                emit_flow(it, out);
            }
            out.push(']');
        }
        Y::Map(pairs) => {
            out.push('{');
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write!(out, "{k}: ").unwrap();
                emit_flow(v, out);
            }
            out.push('}');
        }
    }
}

/// A generated Compose file and the secret values it planted. `include`: paths an `include:`
/// may name.
fn compose(rng: &mut Gen, include: &[&str]) -> (String, Vec<String>) {
    let mut secrets = Vec::new();
    let mut top: Vec<(String, Y)> = Vec::new();
    let mut anchors: Vec<String> = Vec::new();
    // x- blocks with anchors, for aliases and merge keys
    for i in 0..rng.below(3) {
        let name = format!("a{i}");
        let body = service(rng, &[], &anchors, &mut secrets);
        top.push((
            format!("x-common{i}"),
            Y::Decorated {
                tag: None,
                anchor: Some(name.clone()),
                node: Box::new(body),
            },
        ));
        anchors.push(name);
    }
    if !include.is_empty() && rng.one_in(3) {
        top.push((
            "include".into(),
            Y::Seq(include.iter().map(|p| scalar(rng, p)).collect()),
        ));
    }
    let mut names: Vec<String> = Vec::new();
    let mut services = Vec::new();
    for _ in 0..1 + rng.below(4) {
        let name = taint_pick(rng, &["web", "db", "app", "sandbox", "wörker"]);
        let body = service(rng, &names, &anchors, &mut secrets);
        let key = match scalar(rng, &name) {
            Y::Scalar(s) => s,
            _ => name.clone(),
        };
        if rng.tame && names.contains(&key) {
            continue;
        }
        names.push(key.clone());
        services.push((key, body));
    }
    top.push(("services".into(), Y::Map(services)));
    if rng.one_in(4) {
        top.push((
            "networks".into(),
            Y::Map(vec![(
                "internal".into(),
                Y::Map(vec![("internal".into(), value(rng, &["true", "false"]))]),
            )]),
        ));
    }
    let mut out = String::new();
    if rng.one_in(10) {
        out.push_str("%YAML 1.2\n---\n");
    }
    if rng.one_in(8) {
        out.push('\u{feff}');
    }
    if rng.one_in(5) {
        out.push_str("# ");
        out.push_str(rng.pick(SUPPRESSIONS));
        out.push('\n');
    }
    let doc = Y::Map(top);
    if rng.one_in(8) {
        emit_flow(&doc, &mut out);
        out.push('\n');
    } else if let Y::Map(pairs) = &doc {
        for (k, v) in pairs {
            write!(out, "{k}:").unwrap();
            emit_block(rng, v, 2, &mut out);
        }
    }
    if rng.one_in(10) {
        out.push_str("---\nservices:\n  web:\n    privileged: true\n");
    }
    (out, secrets)
}

/// A JSON string of `s`: escaped (a tame case, or mostly), or now and then written raw (control
/// characters and quotes then break the syntax, which the error path must report).
fn json_str(rng: &mut Gen, s: &str) -> String {
    if !rng.tame && rng.one_in(8) {
        return format!("\"{s}\"");
    }
    serde_json::to_string(s).unwrap()
}

/// A `devcontainer.json`: the properties the lowering reads, with hostile values, comments and
/// trailing commas.
fn devcontainer(rng: &mut Gen) -> (String, Vec<String>) {
    const RUN_ARGS: &[&str] = &[
        "--privileged",
        "--cap-add",
        "--cap-add=SYS_ADMIN",
        "--security-opt",
        "seccomp=unconfined",
        "--network=host",
        "--net",
        "host",
        "--pid=host",
        "--ipc",
        "host",
        "-v",
        "/etc:/etc",
        "--volume=/var/run/docker.sock:/var/run/docker.sock",
        "--mount",
        "type=bind,src=/,dst=/host",
        "--device=/dev/kmsg",
        "-u",
        "0",
        "-uroot",
        "--read-only",
        "-m",
        "512m",
        "--cpus=1",
        "--pids-limit",
        "-1",
        "-p",
        "8080:80",
        "-it",
        "-e",
        "--",
        "-",
        "--unknown",
        "-Z",
        "=",
        "--user=",
    ];
    let mut secrets = Vec::new();
    let mut members: Vec<String> = Vec::new();
    let str_of = |rng: &mut Gen, choices: &[&str]| {
        let base = taint_pick(rng, choices);
        json_str(rng, &base)
    };
    if rng.one_in(2) {
        members.push(format!("\"image\": {}", str_of(rng, IMAGES)));
    } else {
        members.push(format!(
            "\"build\": {{ \"dockerfile\": {}, \"context\": {} }}",
            str_of(rng, &["Dockerfile", "../x/Dockerfile", "/abs", ""]),
            str_of(rng, &["..", ".", "../../..", "${localWorkspaceFolder}"])
        ));
    }
    for key in ["privileged", "init"] {
        if rng.one_in(2) {
            let v = rng.pick(&["true", "false", "\"true\"", "1", "null", "[]"]);
            members.push(format!("\"{key}\": {v}"));
        }
    }
    let list = |rng: &mut Gen, key: &str, choices: &[&str], n: usize| {
        let items: Vec<String> = (0..rng.below(n)).map(|_| str_of(rng, choices)).collect();
        format!("\"{key}\": [{}]", items.join(", "))
    };
    members.push(list(
        rng,
        "capAdd",
        &["SYS_ADMIN", "ALL", "NET_RAW", "cap_sys_ptrace"],
        3,
    ));
    members.push(list(
        rng,
        "securityOpt",
        &["seccomp=unconfined", "label=disable", "apparmor:unconfined"],
        3,
    ));
    members.push(list(rng, "runArgs", RUN_ARGS, 12));
    members.push(list(
        rng,
        "mounts",
        &[
            "source=/var/run/docker.sock,target=/var/run/docker.sock,type=bind",
            "source=${localEnv:HOME}/.ssh,target=/s,type=bind,readonly",
            "source=${localWorkspaceFolder}/x,target=/x,type=bind",
            "src=v,dst=/v",
            "type=bind,,source=",
            "readonly=maybe",
        ],
        4,
    ));
    if rng.one_in(2) {
        let secret = secret(rng);
        members.push(format!(
            "\"containerEnv\": {{ \"API_TOKEN\": \"{secret}\" }}"
        ));
        secrets.push(secret);
    }
    for key in [
        "containerUser",
        "remoteUser",
        "workspaceMount",
        "initializeCommand",
        "postCreateCommand",
    ] {
        if rng.one_in(2) {
            let v = str_of(
                rng,
                &[
                    "root",
                    "0:0",
                    "vscode",
                    "curl -fsSL https://x.io/i | sh",
                    "source=/,target=/w,type=bind",
                ],
            );
            members.push(format!("\"{key}\": {v}"));
        }
    }
    if rng.one_in(3) {
        members.push(format!(
            "\"features\": {{ {}: {{}}, \"ghcr.io/devcontainers/features/docker-in-docker\": \"latest\" }}",
            str_of(rng, &["ghcr.io/devcontainers/features/node", "git", "./local", "x:1"])
        ));
    }
    if rng.one_in(3) {
        members.push(format!(
            "\"appPort\": [{}, 3000]",
            str_of(rng, &["9000:9000", "0.0.0.0:22:22", "x"])
        ));
    }
    let mut out = String::new();
    if rng.one_in(5) {
        out.push_str("// ");
        out.push_str(&rng.pick(SUPPRESSIONS).replace('#', "//"));
        out.push('\n');
    }
    out.push_str("{\n");
    for m in &members {
        if rng.one_in(6) {
            out.push_str("  /* a comment */ // sandlint ignore=privileged-container\n");
        }
        writeln!(out, "  {m},").unwrap();
    }
    if rng.tame || rng.one_in(2) {
        out.push_str("}\n");
    }
    (out, secrets)
}

/// A `.env` file: plain values, quoted ones, references to earlier keys (a bounded chain).
fn dotenv(rng: &mut Gen) -> String {
    let mut out = String::new();
    for i in 0..rng.below(8) {
        let name = rng.pick(&["V", "IMAGE", "UID", "PRIV", "HOST_DIR", "E", "P"]);
        let v = match rng.below(6) {
            0 => format!("\"{}\"", taint(rng, "quoted value")),
            1 => format!("'{}'", taint(rng, "single")),
            2 => format!("${{V}}-{i}"),
            3 => interpolated(rng, 2),
            4 => rng
                .pick(&["nginx:1", "0", "true", "/var/run/docker.sock", "host"])
                .into(),
            _ => taint(rng, "plain # comment"),
        };
        let export = if rng.one_in(5) { "export " } else { "" };
        writeln!(out, "{export}{name}={v}").unwrap();
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Checking

/// Lints `text` as `kind` (a virtual file: nothing beside it is read), checks the invariants,
/// and that a second lint renders the same JSON.
fn check_text(
    kind: FileKind,
    text: &str,
    secrets: &[String],
    deep: bool,
) -> Result<Summary, String> {
    let name = match kind {
        FileKind::Dockerfile => "/nonexistent-sandlint-property/Dockerfile",
        FileKind::Compose => "/nonexistent-sandlint-property/compose.yaml",
        FileKind::Devcontainer => "/nonexistent-sandlint-property/.devcontainer/devcontainer.json",
    };
    let outcome = std::panic::catch_unwind(|| {
        let lint = || {
            let file = SourceFile::virtual_file(name, text).into_ref();
            linter::lint_file(file, kind, &Selection::all())
        };
        let result = lint();
        let formats: &[OutputFormat] = if deep {
            &invariants::ALL_FORMATS
        } else {
            &[
                OutputFormat::Full,
                OutputFormat::Concise,
                OutputFormat::Json,
                OutputFormat::Github,
            ]
        };
        invariants::check_result(&result, formats)?;
        no_planted_secret(&result, secrets)?;
        if deep {
            // every span of the parsed model too, not only the findings'
            let model = match kind {
                FileKind::Dockerfile => format!("{:?}", sandlint::dockerfile::parse(text)),
                FileKind::Compose => format!(
                    "{:?}",
                    sandlint::compose::load(text, &sandlint::compose::Vars::new())
                ),
                FileKind::Devcontainer => format!(
                    "{:?}",
                    sandlint::compose::devcontainer::load(text, std::path::Path::new(name))
                ),
            };
            if invariants::model_spans(&model, &[text])? == 0 {
                return Err("no span found in the model's Debug text".to_string());
            }
            let cx = invariants::report_ctx(&result);
            invariants::render_colored(&result.diagnostics, &cx);
            let again = lint();
            let (a, b) = (
                report::render(OutputFormat::Json, &result.diagnostics, &cx),
                report::render(OutputFormat::Json, &again.diagnostics, &cx),
            );
            if a != b {
                return Err(format!("two lints of the same text differ:\n{a}\n---\n{b}"));
            }
        }
        Ok(Summary::of(&result))
    });
    outcome.unwrap_or_else(|p| Err(format!("panic: {}", panic_message(p.as_ref()))))
}

/// No planted secret value appears in any finding's message or help.
fn no_planted_secret(result: &FileResult, secrets: &[String]) -> Result<(), String> {
    for d in &result.diagnostics {
        for s in secrets {
            if d.message.contains(s.as_str())
                || d.help.as_deref().is_some_and(|h| h.contains(s.as_str()))
            {
                return Err(format!(
                    "{} names the secret value {s}: {}",
                    d.rule.code, d.message
                ));
            }
        }
    }
    Ok(())
}

/// What the generated cases reached (to keep the generators honest).
#[derive(Default)]
struct Summary {
    /// The file had a syntax error finding (SLE001/SLE002).
    syntax_error: bool,
    codes: BTreeSet<&'static str>,
}

impl Summary {
    fn of(result: &FileResult) -> Self {
        let codes: BTreeSet<&'static str> =
            result.diagnostics.iter().map(|d| d.rule.code).collect();
        Summary {
            syntax_error: result
                .diagnostics
                .iter()
                .any(|d| d.rule.name.ends_with("syntax-error")),
            codes,
        }
    }
}

/// Runs `rounds` generated cases; fails with every failing input (escaped) and the seed.
fn run_cases(
    test: &str,
    scale: u64,
    mut case: impl FnMut(&mut Gen, u64) -> (String, Result<Summary, String>),
) -> (u64, usize, BTreeSet<&'static str>) {
    let (seed, mut rng) = rng_for(test);
    let rounds = rounds(scale);
    let mut failures = Vec::new();
    let mut clean = 0usize;
    let mut codes = BTreeSet::new();
    for round in 0..rounds {
        rng.tame = rng.one_in(2);
        let (input, outcome) = case(&mut rng, round);
        match outcome {
            Ok(s) => {
                clean += usize::from(!s.syntax_error);
                codes.extend(s.codes);
            }
            Err(e) => failures.push(format!("round {round}: {e}\n--- input ---\n{input:?}")),
        }
    }
    eprintln!(
        "{test}: {rounds} cases (seed {seed}), {clean} without a syntax error, {} rules reached",
        codes.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {rounds} generated inputs broke an invariant (SANDLINT_PROPERTY_SEED={seed}); the \
         first ones:\n{}",
        failures.len(),
        failures
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n")
    );
    (rounds, clean, codes)
}

/// The generators reach the parsers' good paths and the rules, not only syntax errors.
fn assert_coverage(
    what: &str,
    rounds: u64,
    clean: usize,
    codes: &BTreeSet<&str>,
    min_codes: usize,
) {
    if rounds < 100 {
        return; // too few rounds to say (a small SANDLINT_PROPERTY_ROUNDS)
    }
    // A fifth: tame cases are valid YAML and Dockerfile syntax, but some of their values
    // (`user: 1000`, `privileged: 1`) are ones Compose itself rejects, which SLE002 reports.
    assert!(
        clean as u64 * 5 >= rounds,
        "only {clean} of {rounds} generated {what} had no syntax error: the generator tests \
         little beyond the error paths"
    );
    assert!(
        codes.len() >= min_codes,
        "generated {what} reached only {} rules: {codes:?}",
        codes.len()
    );
}

#[test]
fn generated_dockerfiles_keep_the_invariants() {
    let (rounds, clean, codes) = run_cases("dockerfiles", 1, |rng, round| {
        let (text, secrets) = dockerfile(rng);
        let outcome = check_text(FileKind::Dockerfile, &text, &secrets, round % 5 == 0);
        (text, outcome)
    });
    assert_coverage("Dockerfiles", rounds, clean, &codes, 15);
}

#[test]
fn generated_compose_files_keep_the_invariants() {
    let (rounds, clean, codes) = run_cases("compose", 1, |rng, round| {
        let (text, secrets) = compose(rng, &[]);
        let outcome = check_text(FileKind::Compose, &text, &secrets, round % 5 == 0);
        (text, outcome)
    });
    assert_coverage("Compose files", rounds, clean, &codes, 15);
}

#[test]
fn generated_devcontainers_keep_the_invariants() {
    let (rounds, clean, codes) = run_cases("devcontainer", 1, |rng, round| {
        let (text, secrets) = devcontainer(rng);
        let outcome = check_text(FileKind::Devcontainer, &text, &secrets, round % 5 == 0);
        (text, outcome)
    });
    assert_coverage("devcontainer.json files", rounds, clean, &codes, 15);
}

/// A project on disk: a generated `compose.yaml` with its `.env`, an included file with its
/// own `.env`, an override file and a Dockerfile the services may build, linted from disk as the
/// CLI would (discovery, cross-file rules).
#[test]
fn generated_projects_on_disk_keep_the_invariants() {
    let (rounds, _, codes) = run_cases("projects", 10, |rng, _| {
        let (main, mut secrets) = compose(rng, &["inc/compose.yaml", "missing/compose.yaml"]);
        let (inc, s2) = compose(rng, &[]);
        let (over, s3) = compose(rng, &[]);
        let (df, s4) = dockerfile(rng);
        secrets.extend(s2.into_iter().chain(s3).chain(s4));
        let files = [
            ("compose.yaml", main),
            (".env", dotenv(rng)),
            ("inc/compose.yaml", inc),
            ("inc/.env", dotenv(rng)),
            ("compose.override.yaml", over),
            ("Dockerfile", df),
        ];
        let shown: String = files.iter().map(|(p, t)| format!("== {p}\n{t}")).collect();
        let dir = tempfile::tempdir().unwrap();
        for (p, t) in &files {
            let path = dir.path().join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, t).unwrap();
        }
        let outcome = std::panic::catch_unwind(|| {
            let (results, _) = common::lint_dir(dir.path(), &Selection::all());
            let mut summary = Summary::default();
            for r in &results {
                invariants::check_result(r, &invariants::ALL_FORMATS)?;
                no_planted_secret(r, &secrets)?;
                summary.codes.extend(Summary::of(r).codes);
            }
            Ok(summary)
        });
        let outcome =
            outcome.unwrap_or_else(|p| Err(format!("panic: {}", panic_message(p.as_ref()))));
        (shown, outcome)
    });
    if rounds >= 20 {
        assert!(
            codes.len() >= 10,
            "generated projects reached only {codes:?}"
        );
    }
}
