//! Issue 10, items 1 and 2: files decided by their content are read through the same bounded
//! reader as every other file — a FIFO, a huge file or a file with terminal escapes in its
//! name cannot block, exhaust or garble the run, and is never skipped silently.

use std::process::Command;
use std::time::Duration;

use super::harness::{self, sandlint};

#[test]
fn probable_names_that_are_fifos_or_huge_are_findings_not_hangs() {
    let p = harness::project(&[], true);
    for name in ["openhands-compose.yml", "Dockerfile-dev"] {
        let ok = Command::new("mkfifo")
            .arg(p.path().join(name))
            .status()
            .unwrap()
            .success();
        assert!(ok, "mkfifo {name}");
    }
    // Over the 32 MiB cap: refused before it is read, whatever the content.
    let big = std::fs::File::create(p.path().join("compose-prod.yaml")).unwrap();
    big.set_len(40 * 1024 * 1024).unwrap();
    let o = sandlint(p.path(), &["check", ".", "--format", "concise", "-v"])
        .memory_kib(256 * 1024)
        .deadline(Duration::from_secs(10))
        .run();
    o.assert_code(1);
    let lines: Vec<&str> = o.stdout.lines().filter(|l| l.contains("SLE007")).collect();
    assert_eq!(lines.len(), 3, "{}", o.transcript());
    for name in [
        "openhands-compose.yml",
        "Dockerfile-dev",
        "compose-prod.yaml",
    ] {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(&format!("{name}:1:1: error SLE007"))),
            "{name}: {}",
            o.transcript()
        );
    }
}

#[test]
fn show_files_escapes_control_characters_in_names() {
    let p = harness::project(
        &[("evil\u{1b}[2J-compose.yml", "name: not-compose\n")],
        true,
    );
    let o = sandlint(
        p.path(),
        &["check", ".", "--format", "concise", "--show-files"],
    )
    .deadline(Duration::from_secs(10))
    .run();
    o.assert_code(0);
    o.assert_absent("\u{1b}[2J");
    o.assert_present("skipped  evil\\u{1b}[2J-compose.yml: its name looks like a Compose file");
    o.assert_present("1 skipped (see --show-files)");
}
