//! `sandlint run` handed hostile settings (issue 9, defects 5, 6 and 10): each is refused before
//! any daemon is contacted (`DOCKER_HOST` points nowhere, so a refusal cannot be a connection
//! error), or shown without the secret. The live attacks (uid-0 names, signals, SIGKILL, closed
//! pipes) are in `tests/sandbox.rs`.

use super::harness::{project, sandlint};

const NOWHERE: &str = "unix:///nonexistent/sandlint-hostile/docker.sock";

/// Every spelling of uid 0 is refused as root, before connecting.
#[test]
fn uid_zero_spellings_are_refused() {
    let dir = project(&[], false);
    for user in ["+0", "00", "-0", "0:0", ":0", " 0", "+0:+0"] {
        let flag = format!("--user={user}");
        sandlint(dir.path(), &["run", "--image", "img:1", &flag, "--", "id"])
            .env("DOCKER_HOST", NOWHERE)
            .run()
            .assert_code(125)
            .assert_present("SLC007 service-root-user")
            .assert_present("refused to run")
            .assert_absent("cannot reach");
    }
}

/// `# sandlint ignore=` and `x-sandlint` in the Compose file do not relax isolation rules.
#[test]
fn in_file_suppressions_do_not_unlock_the_host() {
    let compose = "services:\n  # sandlint ignore=service-root-user,container-socket-mount,privileged-container,host-namespace-shared reason=\"x\"\n  app:\n    image: img:1\n    user: \"0\"\n    privileged: true\n    pid: host\n    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock\n  b:\n    image: img:1\n    x-sandlint: { ignore: [writable-bind-mount, sensitive-host-path-mount], reason: x }\n    volumes:\n      - /:/host\n";
    let dir = project(&[("compose.yaml", compose)], true);
    let socket_exists = std::path::Path::new("/var/run/docker.sock").exists();
    let out = sandlint(
        dir.path(),
        &[
            "run",
            "--compose",
            "compose.yaml",
            "--service",
            "app",
            "--",
            "id",
        ],
    )
    .env("DOCKER_HOST", NOWHERE)
    .run();
    if socket_exists {
        out.assert_code(125)
            .assert_present("SLC007 service-root-user")
            .assert_present("SLC009 container-socket-mount")
            .assert_present("SLC001 privileged-container")
            .assert_present("SLC015 host-namespace-shared")
            .assert_present("refused to run: the planned container has 4 error-level findings")
            .assert_present(
                "the Compose file's suppression of `container-socket-mount` does not apply",
            )
            .assert_absent("cannot reach");
    }
    sandlint(
        dir.path(),
        &[
            "run",
            "--compose",
            "compose.yaml",
            "--service",
            "b",
            "--",
            "id",
        ],
    )
    .env("DOCKER_HOST", NOWHERE)
    .run()
    .assert_code(125)
    .assert_present("SLC014 sensitive-host-path-mount")
    .assert_present("SLC010 writable-bind-mount")
    .assert_absent("cannot reach");
}

/// A `--config` the Compose file's authors could have written is not the invoker's.
#[test]
fn run_config_inside_the_project_is_refused() {
    let compose = "services:\n  app:\n    image: img:1\n    user: \"0\"\n";
    let dir = project(
        &[
            ("compose.yaml", compose),
            ("sub/run.toml", "allow = [\"service-root-user\"]\n"),
        ],
        true,
    );
    sandlint(
        dir.path(),
        &[
            "run",
            "--compose",
            "compose.yaml",
            "--service",
            "app",
            "--config",
            "sub/run.toml",
            "--",
            "id",
        ],
    )
    .env("DOCKER_HOST", NOWHERE)
    .run()
    .assert_code(125)
    .assert_present("--config sub/run.toml lies inside")
    .assert_absent("cannot reach");
    // The same file outside the project relaxes the rule, says so, and reaches the daemon.
    let outside = project(
        &[(
            "run.toml",
            "allow = [\"service-root-user\"]\nreason = \"the job needs root\"\n",
        )],
        false,
    );
    let config = outside.path().join("run.toml");
    sandlint(
        dir.path(),
        &[
            "run",
            "--compose",
            "compose.yaml",
            "--service",
            "app",
            "--config",
            config.to_str().unwrap(),
            "--dry-run",
        ],
    )
    .run()
    .assert_code(0)
    .assert_present("sandlint: warning: `service-root-user` relaxed by config: the job needs root");
}

/// Parents of protected paths are refused like the paths themselves.
#[test]
fn parents_of_protected_paths_are_refused() {
    let dir = project(&[], false);
    for src in ["/var/lib", "/var", "/"] {
        let mount = format!("{src}:/x:ro");
        sandlint(
            dir.path(),
            &["run", "--image", "img:1", "--mount", &mount, "--", "true"],
        )
        .env("DOCKER_HOST", NOWHERE)
        .run()
        .assert_code(125)
        .assert_present("SLC014 sensitive-host-path-mount")
        .assert_absent("cannot reach");
    }
}

/// `-e NAME` passes the host's value: not a literal credential, and never printed.
#[test]
fn env_pass_through_is_not_a_literal_and_is_masked() {
    let dir = project(&[], false);
    let secret = "sk-hostile-0123456789abcdefABCDEF";
    sandlint(
        dir.path(),
        &[
            "run",
            "--image",
            "img:1@sha256:0000000000000000000000000000000000000000000000000000000000000000",
            "-e",
            "OPENAI_API_KEY",
            "-e",
            "DATABASE_URL",
            "--dry-run",
        ],
    )
    .env("OPENAI_API_KEY", secret)
    .env("DATABASE_URL", "postgres://u:hunter2-hostile@db/x")
    .run()
    .assert_code(0)
    .assert_present("- \"OPENAI_API_KEY\"")
    .assert_present("- \"DATABASE_URL\"")
    .assert_absent(secret)
    .assert_absent("hunter2-hostile")
    .assert_absent("credential-in-environment");
    // A literal secret-looking value is masked in the plan too (and still refused).
    sandlint(
        dir.path(),
        &[
            "run",
            "--image",
            "img:1",
            "-e",
            "API_TOKEN=literal-hostile-987654321",
            "--dry-run",
        ],
    )
    .run()
    .assert_code(125)
    .assert_present("- \"API_TOKEN=****\"")
    .assert_absent("literal-hostile-987654321");
}
