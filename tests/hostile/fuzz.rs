//! Reproducers found by the fuzz targets (`fuzz/`) and the property test (`property.rs`), run
//! through the real binary.

use crate::harness::{project, sandlint};

/// Found by `property::generated_projects_on_disk_keep_the_invariants`: a credential written in
/// a file the Compose project pulls in (override, `include`, `extends: file:`) was printed in
/// clear in the snippet — its secret span stayed paired with the main file, so the full format
/// masked bytes of `compose.yaml` instead.
#[test]
fn a_credential_in_an_override_include_or_extends_file_is_masked() {
    let dir = project(
        &[
            (
                "compose.yaml",
                "include:\n  - inc/compose.yaml\nservices:\n  web:\n    image: nginx:1\n    \
                 extends:\n      file: base.yaml\n      service: base\n",
            ),
            (
                "compose.override.yaml",
                "services:\n  web:\n    environment:\n      DB_PASSWORD: Zq0verrideSecret1\n",
            ),
            (
                "inc/compose.yaml",
                "services:\n  db:\n    image: postgres:17\n    environment:\n      - \
                 POSTGRES_PASSWORD=Zq1ncludedSecret2\n",
            ),
            (
                "base.yaml",
                "services:\n  base:\n    image: nginx:1\n    environment:\n      API_TOKEN: \
                 Zq3xtendedSecret3\n",
            ),
        ],
        true,
    );
    for format in [
        "full",
        "concise",
        "json",
        "sarif",
        "github",
        "gitlab",
        "junit",
        "checkstyle",
    ] {
        let out = sandlint(
            dir.path(),
            &[
                "check",
                ".",
                "--select",
                "credential-in-environment",
                "--format",
                format,
            ],
        )
        .run();
        out.assert_code(1)
            .assert_absent("Zq0verrideSecret1")
            .assert_absent("Zq1ncludedSecret2")
            .assert_absent("Zq3xtendedSecret3");
        if format == "full" {
            // the three findings, each pointing into the file that holds the credential
            out.assert_present("compose.override.yaml:4:7")
                .assert_present("inc/compose.yaml:5:9")
                .assert_present("base.yaml:5:7")
                .assert_present("DB_PASSWORD: ****************");
        }
    }
}

/// A message that quotes the source (here SLD020's pipeline) never shows a value another rule
/// marked as a secret (SLD007's crypt hash): found by `tests/mutation.rs` once messages stopped
/// being clipped.
#[test]
fn messages_quoting_the_source_mask_secret_values() {
    let hash = "$6$abcdefgh$0123456789abcdefghijklmnopqrstuvwxyz";
    let dockerfile = format!(
        "FROM rockylinux:9\nRUN useradd -m -p '{hash}' deploy \\\n  echo 'S3cure-pass' | passwd --stdin operator\n"
    );
    let dir = project(&[("Dockerfile", &dockerfile)], true);
    for format in [
        "full",
        "concise",
        "json",
        "sarif",
        "github",
        "gitlab",
        "junit",
        "checkstyle",
    ] {
        let out = sandlint(
            dir.path(),
            &["check", ".", "--color", "never", "--format", format],
        )
        .run();
        // GitLab names the rule, every other format its code
        let rule = if format == "gitlab" {
            "pipe-without-pipefail"
        } else {
            "SLD020"
        };
        out.assert_code(1)
            .assert_present(rule)
            .assert_absent("0123456789abcdefghijklmnopqrstuvwxyz");
    }
}
