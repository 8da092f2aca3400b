//! The `docker` CLI helpers of the live egress tests (tests/egress.rs, tests/egress_session.rs):
//! the test image with a page for `httpd`, and what sandlint left of a sandbox.
#![allow(dead_code, clippy::unwrap_used, clippy::panic, reason = "test helpers")]

use std::process::{Command, Output, Stdio};

use super::common::text;

pub fn docker(args: &[&str]) -> Output {
    Command::new("docker").args(args).output().unwrap()
}

pub fn docker_ok(args: &[&str]) -> String {
    let o = docker(args);
    assert!(o.status.success(), "docker {args:?}: {}", text(&o.stderr));
    text(&o.stdout).trim().to_string()
}

pub fn daemon_up() -> bool {
    Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

pub fn find_busybox() -> Option<std::path::PathBuf> {
    ["/usr/bin/busybox", "/bin/busybox", "/usr/local/bin/busybox"]
        .iter()
        .map(std::path::PathBuf::from)
        .find(|p| p.is_file())
}

/// The test's image: static busybox, its applets, and a page for `httpd`.
pub fn build_image(tag: &str) {
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
pub fn leftovers(name: &str) -> Vec<String> {
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

pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "unknown".to_string())
}
