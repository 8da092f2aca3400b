//! Unbounded expansion (issue 9, defect 3) and super-linear time (defect 4): every case runs
//! under the harness's address-space limit (1 GiB) and deadline, and the expansion bombs must
//! end with an `expansion-limit-exceeded` (SLE008) finding at the line that crossed the budget,
//! with the file's other findings still reported.

use std::fmt::Write as _;
use std::time::Duration;

use super::harness::{project, sandlint};

/// `V0=xxxxxxxx`, `V1=${V0}${V0}`, ... : 8 << 39 bytes (4 TiB) if expanded.
fn doubling_env(lines: usize) -> String {
    let mut t = String::from("V0=xxxxxxxx\n");
    for i in 1..lines {
        let _ = writeln!(t, "V{i}=${{V{0}}}${{V{0}}}", i - 1);
    }
    t
}

const PRIVILEGED: &str = "services:\n  web:\n    image: \"nginx:${V39}\"\n    privileged: true\n";

#[test]
fn doubling_dotenv_is_refused_at_its_line() {
    let env = doubling_env(40);
    assert!(env.len() < 700, "{}", env.len());
    let dir = project(&[(".env", &env), ("compose.yaml", PRIVILEGED)], false);
    let out = sandlint(dir.path(), &["check", ".", "--format", "concise"])
        .deadline(Duration::from_secs(20))
        .run();
    out.assert_code(1)
        // V21 (16 MiB) is the first line that does not fit after V0..V20 (16 MiB in all)
        .assert_present(
            ".env:22:1: error SLE008 variable `V21` passes the interpolation budget (16 MiB)",
        )
        // the value is unknown, not dropped with the rest of the file
        .assert_present("compose.yaml:4:17: error SLC001");
    assert!(out.elapsed < Duration::from_secs(10), "{:?}", out.elapsed);
}

#[test]
fn large_string_aliased_20000_times_is_refused() {
    let mut text = format!(
        "x-big: &big {}\nservices:\n  web:\n    image: nginx:1\n    privileged: true\n    environment:\n",
        "a".repeat(100_000)
    );
    for i in 0..20_000 {
        let _ = writeln!(text, "      V{i}: *big");
    }
    let dir = project(&[("compose.yaml", &text)], false);
    let out = sandlint(dir.path(), &["check", ".", "--format", "concise"]).run();
    // 16 MiB / 100,064 bytes per alias: the 168th alias (line 7 + 167) is refused
    out.assert_code(1)
        .assert_present("compose.yaml:174:13: error SLE008 alias `*big` passes the alias expansion budget (16 MiB)")
        .assert_present("compose.yaml:5:17: error SLC001");
    assert!(out.elapsed < Duration::from_secs(10), "{:?}", out.elapsed);
}

#[test]
fn nested_default_bomb_is_refused() {
    // every line doubles through nested defaults: `${U:-${X:-${V}}${V}}`
    let mut env = String::from("V0=xxxxxxxx\n");
    for i in 1..40 {
        let _ = writeln!(env, "V{i}=${{U:-${{X:-${{V{0}}}}}${{V{0}}}}}", i - 1);
    }
    let compose =
        "services:\n  web:\n    image: \"nginx:${U:-${X:-${V39}}}\"\n    privileged: true\n";
    let dir = project(&[(".env", &env), ("compose.yaml", compose)], false);
    let out = sandlint(dir.path(), &["check", ".", "--format", "concise"]).run();
    out.assert_code(1)
        .assert_present(".env:22:1: error SLE008 variable `V21`")
        .assert_present("compose.yaml:4:17: error SLC001");
}

#[test]
fn one_large_variable_used_everywhere_is_refused_in_the_compose_file() {
    // the `.env` file stays within its budget (V13 is 8 MB); the project's values do not
    let mut env = format!("V0={}\n", "x".repeat(1000));
    for i in 1..14 {
        let _ = writeln!(env, "V{i}=${{V{0}}}${{V{0}}}", i - 1);
    }
    let mut compose = String::from(
        "services:\n  web:\n    image: nginx:1\n    privileged: true\n    environment:\n",
    );
    for i in 0..10 {
        let _ = writeln!(compose, "      E{i}: ${{V13}}");
    }
    let dir = project(&[(".env", &env), ("compose.yaml", &compose)], false);
    let out = sandlint(dir.path(), &["check", ".", "--format", "concise"]).run();
    // two copies of 8,192,000 bytes fit in 16 MiB, the third (line 8) does not
    out.assert_code(1)
        .assert_present(
            "compose.yaml:8:11: error SLE008 interpolation passes the project's budget (16 MiB)",
        )
        .assert_present("compose.yaml:4:17: error SLC001")
        .assert_absent(".env:");
}

#[test]
fn merge_key_bomb_is_refused() {
    // each level merges the previous one twice: the merged mapping doubles per line
    let mut text = String::from("x-l0: &l0 {k0: v}\n");
    for i in 1..60 {
        let _ = writeln!(text, "x-l{i}: &l{i} {{<<: [*l{0}, *l{0}], k{i}: v}}", i - 1);
    }
    text.push_str("services:\n  web:\n    <<: *l59\n    image: nginx:1\n    privileged: true\n");
    let dir = project(&[("compose.yaml", &text)], false);
    let out = sandlint(dir.path(), &["check", ".", "--format", "concise"]).run();
    // `l13` would be 2^14 nodes merged: the second `*l13` does not fit
    out.assert_code(1)
        .assert_present(
            "compose.yaml:15:25: error SLE008 alias `*l13` passes the alias expansion budget",
        )
        .assert_present("compose.yaml:65:17: error SLC001");
}

#[test]
fn doubling_dockerfile_args_are_refused_at_their_line() {
    let mut df = String::from("FROM debian:12\nARG V0=xxxxxxxx\n");
    for i in 1..40 {
        let _ = writeln!(df, "ARG V{i}=${{V{0}}}${{V{0}}}", i - 1);
    }
    df.push_str("USER ${V39}\nRUN curl -k https://example.com/x | sh\n");
    let dir = project(&[("Dockerfile", &df)], false);
    let out = sandlint(dir.path(), &["check", ".", "--format", "concise"]).run();
    out.assert_code(1)
        .assert_present(
            "Dockerfile:23:5: error SLE008 variable `V21` passes the expansion budget (16 MiB)",
        )
        .assert_present("SLD005");
}

/// A hang guard, not a benchmark (`scripts/bench-hostile.sh` shows the time is linear): every
/// `RUN` scanned back over all earlier instructions for a `SHELL`, and every `ENV` value
/// rebuilt the variable scope from the top (30k lines: about 15 s with a release build, minutes
/// with the debug one these tests run). Sized for the debug binary on a loaded machine.
#[test]
fn many_runs_after_one_shell_finish() {
    let mut df = String::from("FROM debian:12\nSHELL [\"/bin/sh\", \"-c\"]\n");
    for i in 0..15_000 {
        let _ = writeln!(df, "ENV K{i}=$HOME/{i}\nRUN echo {i} | tee /tmp/x");
    }
    let dir = project(&[("Dockerfile", &df)], false);
    let out = sandlint(
        dir.path(),
        &["check", ".", "--format", "json", "-o", "/dev/null"],
    )
    .deadline(Duration::from_secs(60))
    .run();
    assert!(
        !out.timed_out && matches!(out.code, Some(0 | 1)),
        "{}",
        out.transcript()
    );
}

/// `copy-ignored-file` matches every `COPY` source against every `.dockerignore` pattern: a
/// hundred thousand patterns times ten thousand sources (10^9 pattern tests) stop at the rule's
/// match budget, with a finding at the first source not judged.
#[test]
fn huge_dockerignore_times_many_copies_stops_at_the_match_budget() {
    let mut ignore = String::new();
    for i in 0..100_000 {
        let _ = writeln!(ignore, "pat{i}/x*y");
    }
    let mut df = String::from("FROM scratch\n");
    for i in 0..10_000 {
        let _ = writeln!(df, "COPY src{i}/a/b/c.txt /x/");
    }
    let dir = project(&[(".dockerignore", &ignore), ("Dockerfile", &df)], false);
    let out = sandlint(
        dir.path(),
        &[
            "check",
            ".",
            "--select",
            "copy-ignored-file",
            "--format",
            "concise",
        ],
    )
    .deadline(Duration::from_secs(60))
    .run();
    out.assert_code(1).assert_present(
        "warning SLD053 `COPY` source `src4/a/b/c.txt` and those after it were not matched against `.dockerignore`",
    );
    assert!(out.elapsed < Duration::from_secs(30), "{:?}", out.elapsed);
}
