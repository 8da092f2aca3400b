//! `devcontainer.json`: discovery, syntax errors, and the Compose rules on the lowered
//! service, with exact rule ids and positions.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "integration tests")]

use std::io::Write;
use std::process::{Command, Output, Stdio};

const FIXTURES: &str = "fixtures/devcontainer";

fn sandlint(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sandlint"));
    cmd.args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("NO_COLOR")
        .env_remove("SANDLINT_FORMAT")
        .env_remove("SANDLINT_FAIL_ON")
        .env("COLUMNS", "100");
    cmd
}

fn run(args: &[&str]) -> Output {
    sandlint(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// `(rule, line:col)` of each finding of the concise report in `file`.
fn found(o: &Output, file: &str) -> Vec<(String, String)> {
    stdout(o)
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix(file)?.strip_prefix(':')?;
            let mut parts = rest.split_whitespace();
            let at = parts.next()?.trim_end_matches(':').to_string();
            let _severity = parts.next()?;
            Some((parts.next()?.to_string(), at))
        })
        .collect()
}

fn pairs(want: &[(&str, &str)]) -> Vec<(String, String)> {
    want.iter()
        .map(|(r, a)| ((*r).to_string(), (*a).to_string()))
        .collect()
}

#[test]
fn every_fixture_concise() {
    let o = run(&["check", FIXTURES, "--format", "concise"]);
    assert_eq!(o.status.code(), Some(1));
    insta::assert_snapshot!(stdout(&o));
}

#[test]
fn lowered_properties_land_on_their_own_bytes() {
    let o = run(&["check", FIXTURES, "--format", "concise"]);
    let file = "fixtures/devcontainer/lowered/.devcontainer/devcontainer.json";
    assert_eq!(
        found(&o, file),
        pairs(&[
            ("SLC007", "4:3"),
            ("SLC001", "5:17"),
            ("SLC011", "7:14"),
            ("SLC017", "8:19"),
            ("SLC009", "10:5"),
            ("SLC010", "11:5"),
            ("SLC014", "11:17"),
            ("SLC015", "19:15"),
            ("SLC015", "20:12"),
            ("SLC014", "21:12"),
            ("SLC010", "21:12"),
            ("SLC011", "22:19"),
            ("SLC017", "23:40"),
            ("SLC013", "24:12"),
            ("SLC018", "25:15"),
            ("SLC010", "26:17"),
            ("SLC014", "26:31"),
            ("SLC013", "28:22"),
            ("SLC024", "29:21"),
        ])
    );
}

#[test]
fn the_three_places_are_found() {
    let o = run(&["check", FIXTURES, "--format", "concise"]);
    let out = stdout(&o);
    for file in [
        "fixtures/devcontainer/rootfile/.devcontainer.json:",
        "fixtures/devcontainer/variants/.devcontainer/python/devcontainer.json:",
        "fixtures/devcontainer/variants/.devcontainer/node/devcontainer.json:",
        "fixtures/devcontainer/lowered/.devcontainer/devcontainer.json:",
    ] {
        assert!(out.contains(file), "{file} not checked:\n{out}");
    }
    // the hardened one is checked and clean
    let o = run(&[
        "check",
        "fixtures/devcontainer/hardened",
        "--format",
        "concise",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("Checked 1 file"), "{}", stdout(&o));
}

#[test]
fn syntax_error_is_located() {
    let file = "fixtures/devcontainer/broken/.devcontainer/devcontainer.json";
    let o = run(&["check", file, "--format", "concise"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stdout(&o).lines().next(),
        Some(format!("{file}:3:30: error SLE002 expected `,` or `]`, found `\"`").as_str())
    );
}

#[test]
fn named_explicitly_anywhere_and_on_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("devcontainer.json");
    std::fs::write(
        &path,
        "{ \"image\": \"alpine:3.20\", \"privileged\": true }\n",
    )
    .unwrap();
    let o = run(&["check", path.to_str().unwrap(), "--format", "concise"]);
    assert!(stdout(&o).contains(":1:41: error SLC001"), "{}", stdout(&o));

    let mut child = sandlint(&[
        "check",
        "-",
        "--stdin-filename",
        "devcontainer.json",
        "--format",
        "concise",
    ])
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .spawn()
    .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"{\n  \"runArgs\": [\"--privileged\"]\n}\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(
        stdout(&o).lines().next(),
        Some(
            "devcontainer.json:2:15: error SLC001 service `devcontainer` runs privileged (`privileged: true`)"
        )
    );
}

#[test]
fn docker_compose_file_joins_the_service() {
    let o = run(&[
        "check",
        "fixtures/devcontainer/compose",
        "--format",
        "concise",
    ]);
    let dir = "fixtures/devcontainer/compose";
    // the override the devcontainer.json lists is merged; the dev service is spared the rules
    // that do not fit a dev box, the other services are not
    assert_eq!(
        found(&o, &format!("{dir}/.devcontainer/compose.dev.yaml")),
        pairs(&[("SLC008", "3:19")])
    );
    let base = found(&o, &format!("{dir}/compose.yaml"));
    assert_eq!(base[..2], pairs(&[("SLC007", "2:3"), ("SLC009", "5:9")]));
    assert!(base.contains(&("SLC004".to_string(), "8:3".to_string())));
    // the workspace bind of the dev service is not a finding, a bind of another service is
    assert!(!base.iter().any(|(_, at)| at == "7:9"), "{base:?}");
    assert!(
        base.contains(&("SLC010".to_string(), "11:15".to_string())),
        "{base:?}"
    );
    // runArgs is ignored with dockerComposeFile; capAdd and remoteUser are applied
    assert_eq!(
        found(&o, &format!("{dir}/.devcontainer/devcontainer.json")),
        pairs(&[("SLE005", "3:64"), ("SLC011", "9:14"), ("SLC007", "10:17")])
    );
    // the Dockerfile the dev service builds is not asked for a HEALTHCHECK
    assert!(
        !found(&o, &format!("{dir}/Dockerfile"))
            .iter()
            .any(|(r, _)| r == "SLD021")
    );
    assert!(stdout(&o).contains("Checked 4 files"), "{}", stdout(&o));
}

#[test]
fn comments_suppress_the_member_below_or_their_line() {
    let dir = "fixtures/devcontainer/suppressed";
    let o = run(&["check", dir, "--format", "concise"]);
    assert_eq!(
        found(&o, &format!("{dir}/.devcontainer/devcontainer.json")),
        pairs(&[
            ("SLC023", "2:12"),
            ("SLX001", "2:12"),
            ("SLC015", "9:12"),
            ("SLV001", "13:24"),
            ("SLE003", "13:54"),
        ])
    );
    assert!(stdout(&o).contains("(4 suppressed)"), "{}", stdout(&o));
    let o = run(&["check", dir, "--format", "concise", "--no-inline-ignores"]);
    assert_eq!(
        stdout(&o).lines().last(),
        Some("Checked 1 file: 5 errors, 1 warning, 2 info")
    );
}

#[test]
fn a_service_the_project_does_not_define_is_unresolved() {
    let dir = "fixtures/devcontainer/compose-bad-service";
    let o = run(&["check", dir, "--format", "concise"]);
    assert_eq!(
        found(&o, &format!("{dir}/.devcontainer/devcontainer.json")),
        pairs(&[("SLE005", "3:14")])
    );
}
