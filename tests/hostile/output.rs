//! Output spoofing (issue 9, defect 8) and files Docker rejects (defect 9b).
//!
//! A hostile repository names services, images, env keys and files with terminal escapes
//! (CSI, OSC hyperlinks and titles), carriage returns, backspaces, bidi overrides and line breaks
//! followed by a forged `path:1:1: error …` finding. In every format no such character may reach
//! the output raw, and every line-based format prints exactly one line per finding.

use super::harness::{self, Outcome};

/// The forged finding a line break in a name would plant.
const FAKE: &str = "x.yml:1:1: error SLC001 forged";
/// A service name carrying every spoofing device (quoted YAML, so the escapes are real bytes).
const HOSTILE_SERVICE: &str =
    r#""a\nx.yml:1:1: error SLC001 forged\e[31m\e]8;;http://evil\alink\e]8;;\a\r\u202Eevil\b\b""#;
/// A short one (not clipped in messages): the JSON report must carry it exactly.
const SHORT_SERVICE_YAML: &str = r#""s\e[31m\u202E\r\n""#;
const SHORT_SERVICE: &str = "s\u{1b}[31m\u{202e}\r\n";
/// An SGR sequence miette never emits itself: raw in a colored report means it leaked.
const DISTINCT_SGR: &str = "\u{1b}[38;5;99m";
/// A Dockerfile whose name carries a clear-screen, a line break and a forged finding.
const HOSTILE_FILE: &str = "Dockerfile.\u{1b}[2J\n\u{202e}x.yml:1:1: error SLD001 forged";

fn hostile_project() -> tempfile::TempDir {
    let compose = format!(
        "services:\n  {HOSTILE_SERVICE}:\n    image: \"nginx\\e[38;5;99m\\e]0;title\\a:1\"\n    privileged: true\n    environment:\n      \"K\\e[2J\\u202E\": v\n    # comment \u{202e} reversed\n  {SHORT_SERVICE_YAML}:\n    image: nginx:1\n"
    );
    harness::project(
        &[
            ("compose.yaml", &compose),
            (
                HOSTILE_FILE,
                "FROM alpine\u{1b}]8;;http://evil\u{7}\u{1b}[38;5;99m\nUSER root # \u{202e}\u{8}\u{8}\r\n",
            ),
        ],
        false,
    )
}

fn check(dir: &std::path::Path, format: &str, extra: &[&str]) -> Outcome {
    let mut args = vec!["check", "--no-config", "--format", format, "."];
    args.extend_from_slice(extra);
    let o = harness::sandlint(dir, &args).run();
    o.assert_code(1);
    o
}

/// No character that a terminal or log viewer acts on, except line feeds (and, when `sgr`, the
/// report's own color sequences).
#[track_caller]
fn assert_inert(o: &Outcome, what: &str, sgr: bool) {
    for (stream, text) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
        let mut text = text.clone();
        if sgr {
            assert!(
                !text.contains(DISTINCT_SGR),
                "{what}: raw attacker SGR on {stream}"
            );
            text = strip_sgr(&text);
        }
        for c in text.chars() {
            let bad = (c.is_control() && c != '\n')
                || matches!(
                    c,
                    '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{2028}' | '\u{2029}'
                )
                || ('\u{202a}'..='\u{202e}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c);
            assert!(
                !bad,
                "{what}: raw {:?} on {stream}\n{}",
                c,
                o.transcript().escape_debug()
            );
        }
    }
}

/// Removes `ESC [ params m` sequences.
fn strip_sgr(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('\u{1b}') {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 1..];
        let params = tail.strip_prefix('[').map(|t| {
            t.len()
                - t.trim_start_matches(|c: char| c.is_ascii_digit() || c == ';')
                    .len()
        });
        match params {
            Some(n) if tail[1 + n..].starts_with('m') => rest = &tail[2 + n..],
            _ => {
                out.push('\u{1b}');
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
}

fn total_findings(dir: &std::path::Path) -> usize {
    let o = check(dir, "json", &[]);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    usize::try_from(v["summary"]["total"].as_u64().unwrap()).unwrap()
}

#[test]
fn no_format_lets_control_or_bidi_characters_through() {
    let p = hostile_project();
    let dir = p.path();
    let total = total_findings(dir);
    assert!(total >= 10, "{total}");
    for format in [
        "concise",
        "github",
        "gitlab",
        "checkstyle",
        "junit",
        "json",
        "sarif",
    ] {
        let o = check(dir, format, &[]);
        assert_inert(&o, format, false);
    }
    let never = check(dir, "full", &["--color", "never"]);
    assert_inert(&never, "full --color never", false);
    never
        .assert_present("\\x1b[31m")
        .assert_present("\\x1b]8;;http://evil\\x07")
        .assert_present("\\u{202e}")
        .assert_present("Dockerfile.\\x1b[2J\\n\\u{202e}x.yml:1:1");
    let always = check(dir, "full", &["--color", "always"]);
    assert!(always.stdout.contains('\u{1b}'), "colored report expected");
    assert_inert(&always, "full --color always", true);
}

#[test]
fn line_formats_print_one_line_per_finding() {
    let p = hostile_project();
    let dir = p.path();
    let total = total_findings(dir);
    let concise = check(dir, "concise", &["-q"]);
    assert_eq!(
        concise.stdout.lines().count(),
        total,
        "{}",
        concise.transcript()
    );
    for l in concise.stdout.lines() {
        assert!(
            l.starts_with("compose.yaml:") || l.starts_with("Dockerfile.\\x1b[2J\\n"),
            "forged line {l:?}"
        );
        assert!(!l.contains(FAKE) || l.contains("\\nx.yml:1:1"), "{l:?}");
    }
    let github = check(dir, "github", &[]);
    assert_eq!(
        github.stdout.lines().count(),
        total,
        "{}",
        github.transcript()
    );
    for l in github.stdout.lines() {
        assert!(
            ["::error file=", "::warning file=", "::notice file="]
                .iter()
                .any(|p| l.starts_with(p)),
            "forged annotation {l:?}"
        );
        // a property value never carries a raw `,` or `:` of the file name
        let file = l.split(",line=").next().unwrap();
        assert!(!file.contains("x.yml:1"), "{l:?}");
    }
    github.assert_present(
        "file=Dockerfile.\\x1b[2J\\n\\u{202e}x.yml%3A1%3A1%3A error SLD001 forged,",
    );
}

#[test]
fn structured_formats_parse_and_keep_the_exact_text() {
    let p = hostile_project();
    let dir = p.path();
    let json = check(dir, "json", &[]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let findings = v["findings"].as_array().unwrap();
    assert!(
        findings.iter().any(|f| f["file"] == HOSTILE_FILE),
        "{json:?}"
    );
    assert!(
        findings.iter().any(|f| f["message"]
            .as_str()
            .is_some_and(|m| m.contains(&format!("`{SHORT_SERVICE}`")))),
        "{}",
        json.stdout
    );
    let sarif = check(dir, "sarif", &[]);
    let s: serde_json::Value = serde_json::from_str(&sarif.stdout).unwrap();
    assert!(!s["runs"][0]["results"].as_array().unwrap().is_empty());
    let gitlab = check(dir, "gitlab", &[]);
    let g: serde_json::Value = serde_json::from_str(&gitlab.stdout).unwrap();
    assert_eq!(g.as_array().unwrap().len(), findings.len());
    for format in ["checkstyle", "junit"] {
        let o = check(dir, format, &[]);
        let mut reader = quick_xml::Reader::from_str(&o.stdout);
        let mut elements = 0;
        loop {
            match reader.read_event() {
                Ok(quick_xml::events::Event::Eof) => break,
                Ok(quick_xml::events::Event::Start(_) | quick_xml::events::Event::Empty(_)) => {
                    elements += 1;
                }
                Ok(_) => {}
                Err(e) => panic!("{format}: malformed XML: {e}\n{}", o.stdout),
            }
        }
        assert!(elements > findings.len(), "{format}: {elements} elements");
        o.assert_present("Dockerfile.\\x1b[2J\\n\\u{202e}x.yml:1:1: error SLD001 forged");
    }
}

#[test]
fn unreadable_path_errors_on_stderr_are_escaped() {
    let p = harness::project(&[], false);
    let o = harness::sandlint(
        p.path(),
        &[
            "check",
            "--no-config",
            "missing\u{1b}]0;pwned\u{7}\nerror: forged",
        ],
    )
    .run();
    o.assert_code(2);
    assert_inert(&o, "stderr path error", false);
    o.assert_present("missing\\x1b]0;pwned\\x07\\nerror: forged");
    assert_eq!(
        o.stderr.lines().filter(|l| l.starts_with("error:")).count(),
        1,
        "{}",
        o.transcript()
    );
}

#[test]
fn config_errors_are_escaped() {
    let p = harness::project(
        &[
            (
                ".sandlint.toml",
                "ignore = [\"root-usr\u{1b}]0;pwned\u{7}\u{202e}\"]\n",
            ),
            ("Dockerfile", "FROM alpine:3\n"),
        ],
        false,
    );
    let o = harness::sandlint(p.path(), &["check", "."]).run();
    o.assert_code(2);
    assert_inert(&o, "config error", false);
    o.assert_present("root-usr\\x1b]0;pwned\\x07\\u{202e}");
}

// ---------------------------------------------------------------------------------------------
// Files Docker rejects are findings (exit 1), located at the value.

/// `(file name, contents, expected concise line without the file name)`.
const REJECTED: &[(&str, &str, &str)] = &[
    (
        "compose.yaml",
        "",
        "1:1: error SLE002 empty compose file: it defines nothing",
    ),
    (
        "compose.yaml",
        "# only a comment\n",
        "1:1: error SLE002 empty compose file: it defines nothing",
    ),
    (
        "compose.yaml",
        "{}\n",
        "1:1: error SLE002 empty compose file: it defines nothing",
    ),
    (
        "compose.yaml",
        "services:\n",
        "1:10: error SLE002 `services` must be a mapping, not empty",
    ),
    (
        "compose.yaml",
        "services:\n  web:\n",
        "2:3: error SLE002 service `web` must be a mapping, not empty",
    ),
    (
        "compose.yaml",
        "services:\n  web:\n    privileged: true\n",
        "2:3: error SLE002 service `web` has neither `image` nor `build`",
    ),
    (
        "compose.yaml",
        "services:\n  web:\n    image: nginx:1\n    privileged: maybe\n",
        "4:17: error SLE002 `privileged` of service `web` is not a boolean: `maybe`",
    ),
    (
        "compose.yaml",
        "services:\n  web:\n    image: nginx:1\n    privileged: 1\n",
        "4:17: error SLE002 `privileged` of service `web` must be a boolean, not a number",
    ),
    (
        "compose.yaml",
        "services:\n  web:\n    image: nginx:1\n    ports: abc\n",
        "4:12: error SLE002 `ports` of service `web` must be a list, not a string",
    ),
    (
        "compose.yaml",
        "services:\n  web:\n    image: nginx:1\n    ports: [\"99999:80\"]\n",
        "4:14: error SLE002 invalid host port `99999` of service `web`: out of range (0-65535)",
    ),
    (
        "compose.yaml",
        "services:\n  web:\n    image: nginx:1\n    user: 0\n",
        "4:11: error SLE002 `user` of service `web` must be a string, not a number",
    ),
    (
        "compose.yaml",
        "services:\n  web:\n    image: nginx:1\n    cap_add: ALL\n",
        "4:14: error SLE002 `cap_add` of service `web` must be a list of strings, not a string",
    ),
    (
        "compose.yaml",
        "services:\n  web:\n    image: nginx:1\n    security_opt: [1]\n",
        "4:20: error SLE002 item 1 of `security_opt` of service `web` must be a string, not a number",
    ),
    (
        "compose.yaml",
        "web:\n  image: nginx:1\n",
        "1:1: error SLE002 unknown top-level key `web`",
    ),
    (
        "Dockerfile",
        "ARG BASE=alpine:3\n",
        "1:1: error SLE001 no build stage: the file has no `FROM` instruction",
    ),
    (
        "Dockerfile",
        "FROM alpine:3\nHEALTHCHECK --interval=bad CMD true\n",
        "2:24: error SLE001 invalid duration `bad` for `--interval`: not a number followed by a unit",
    ),
    (
        "Dockerfile",
        "FROM alpine:3\nHEALTHCHECK --timeout=30 CMD true\n",
        "2:23: error SLE001 invalid duration `30` for `--timeout`: missing unit",
    ),
    (
        "Dockerfile",
        "FROM alpine:3\nHEALTHCHECK --retries=-1 CMD true\n",
        "2:23: error SLE001 `--retries` cannot be negative (`-1`)",
    ),
    (
        "Dockerfile",
        "FROM alpine:3\nEXPOSE 80 abc\n",
        "2:11: error SLE001 invalid port `abc` in `EXPOSE`: invalid container port `abc`: not a number",
    ),
    (
        "Dockerfile",
        "FROM alpine:3\nEXPOSE 80/http\n",
        "2:8: error SLE001 invalid port `80/http` in `EXPOSE`: unknown protocol `http`",
    ),
    (
        "Dockerfile",
        "FROM alpine:3\nRUN --network=bridge true\n",
        "2:15: error SLE001 invalid `--network` mode `bridge`",
    ),
    (
        "Dockerfile",
        "FROM alpine:3\nCOPY --chmod=999 a /a\n",
        "2:14: error SLE001 invalid `--chmod` mode `999`: not an octal mode up to 07777",
    ),
    (
        "Dockerfile",
        "FROM alpine:3\nSTOPSIGNAL SIGFOO\n",
        "2:12: error SLE001 invalid signal `SIGFOO` in `STOPSIGNAL`",
    ),
];

#[test]
fn files_docker_rejects_fail_the_run_at_the_value() {
    for (name, text, want) in REJECTED {
        let p = harness::project(&[(name, text)], false);
        let o = harness::sandlint(
            p.path(),
            &[
                "check",
                "--no-config",
                "--select",
                "meta",
                "--format",
                "concise",
                "-q",
                name,
            ],
        )
        .run();
        o.assert_code(1);
        assert_eq!(
            o.stdout,
            format!("{name}:{want}\n"),
            "{text:?}\n{}",
            o.transcript()
        );
    }
}

/// What Docker accepts stays clean (no false syntax error).
#[test]
fn files_docker_accepts_stay_clean() {
    for (name, text) in [
        ("compose.yaml", "services: {}\n"),
        ("compose.yaml", "name: x\n"),
        (
            "compose.yaml",
            "services:\n  web:\n    image: nginx:1\n    privileged: \"yes\"\n    ports: [\"8080:80/udp\", 443]\n    user: \"0\"\n",
        ),
        (
            "compose.prod.yaml",
            "services:\n  web:\n    environment: [A=b]\n",
        ),
        (
            "Dockerfile",
            "FROM alpine:3\nHEALTHCHECK --interval=1m30s --timeout=0 --retries=3 CMD true\nEXPOSE 80/tcp 53/udp 8000-8010 $PORT\nRUN --network=none true\nCOPY --chmod=0755 a /a\nSTOPSIGNAL SIGRTMIN+3\n",
        ),
    ] {
        let p = harness::project(&[(name, text)], false);
        let o = harness::sandlint(
            p.path(),
            &[
                "check",
                "--no-config",
                "--select",
                "meta",
                "--format",
                "concise",
                "-q",
                name,
            ],
        )
        .run();
        o.assert_code(0);
        assert_eq!(o.stdout, "", "{text:?}");
    }
}

/// The oracle: `docker compose config` (compose-go) rejects every Compose case above and accepts
/// the clean ones. Needs `docker-compose` (v2) on `PATH` or in `SANDLINT_DOCKER_COMPOSE`; with
/// `SANDLINT_REQUIRE_COMPOSE=1` its absence fails the test, otherwise it is skipped loudly.
#[test]
fn docker_compose_config_agrees() {
    let bin = std::env::var("SANDLINT_DOCKER_COMPOSE").unwrap_or_else(|_| "docker-compose".into());
    let works = std::process::Command::new(&bin)
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains("v2"));
    if !works {
        crate::common::skip_or_fail(
            "SANDLINT_REQUIRE_COMPOSE",
            "docker_compose_config_agrees",
            &format!("no Compose v2 `{bin}` (set SANDLINT_DOCKER_COMPOSE)"),
        );
        return;
    }
    let verdict = |text: &str| {
        let p = harness::project(&[("compose.yaml", text)], false);
        std::process::Command::new(&bin)
            .args(["-f", "compose.yaml", "config", "-q"])
            .current_dir(p.path())
            .output()
            .unwrap()
            .status
            .success()
    };
    for (name, text, _) in REJECTED.iter().filter(|c| c.0 == "compose.yaml") {
        assert!(!verdict(text), "docker compose accepts {name} {text:?}");
    }
    for text in [
        "services: {}\n",
        "services:\n  web:\n    image: nginx:1\n    privileged: \"yes\"\n    ports: [\"8080:80/udp\", 443]\n    user: \"0\"\n",
    ] {
        assert!(verdict(text), "docker compose rejects {text:?}");
    }
}
