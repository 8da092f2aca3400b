use crate::dockerfile::model::Dockerfile;
use crate::dockerfile::packages::{Install, Manager};
use crate::docs::{self, RuleMeta};
use crate::rules::dockerfile::package_pins::{self, Pins, Verdict};
use crate::rules::{Ctx, Rule};

/// SLD043: `apt-get`/`apt`/`aptitude install` of a package without `=version`.
pub struct AptPackageUnpinned;

/// apt options that make `install` download or simulate only.
const NOT_INSTALLING: &[&str] = &[
    "-s",
    "--simulate",
    "--just-print",
    "--dry-run",
    "--recon",
    "--no-act",
    "-d",
    "--download-only",
    "--print-uris",
];

impl Pins for AptPackageUnpinned {
    fn manager(&self) -> Manager {
        Manager::Apt
    }

    fn judged(&self, install: &Install<'_>) -> bool {
        !install.has(NOT_INSTALLING)
    }

    fn verdict(&self, _install: &Install<'_>, package: &str) -> Verdict {
        // `pkg-` removes a package in the same transaction
        if package.ends_with('-') {
            Verdict::Skip
        } else if package.contains('=')
            || package.ends_with(".deb")
            || package_pins::is_path(package)
        {
            Verdict::Pinned
        } else {
            Verdict::Unpinned
        }
    }

    fn help(&self, install: &Install<'_>, package: &str) -> String {
        let name = package.split('/').next().unwrap_or(package);
        format!(
            "pin the version: `{} install {name}=<version>` (`apt-cache policy {name}` lists them), or opt out of this rule where the base image is pinned by digest",
            install.program
        )
    }
}

impl Rule for AptPackageUnpinned {
    fn meta(&self) -> &'static RuleMeta {
        docs::APT_PACKAGE_UNPINNED
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        package_pins::check(self, cx, df);
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::{findings, spans};

    const R: &str = "apt-package-unpinned";

    fn run(cmd: &str) -> Vec<String> {
        spans(R, &format!("FROM debian:12\nRUN {cmd}\n"))
    }

    #[test]
    fn message_and_span() {
        assert_eq!(
            findings(
                R,
                "FROM debian:12\nRUN apt-get update && apt-get install -y curl=8.5.0-2 git\n"
            ),
            vec![(
                "SLD043",
                "2:55-2:58".to_string(),
                "`git` is installed by apt-get without a version pin".to_string()
            )]
        );
    }

    /// Shell variables the `RUN` assigned before the install are followed; other `RUN`s', an
    /// environment prefix's and unknown values are not.
    #[test]
    fn shell_variables_of_the_run() {
        let messages = |text: &str| -> Vec<String> {
            crate::rules::dockerfile::test_util::diagnostics(R, text)
                .into_iter()
                .map(|d| d.message)
                .collect()
        };
        assert_eq!(
            messages("FROM debian:12\nRUN deps='curl git=1:2.39' && apt-get install -y $deps\n"),
            vec!["`curl` (from `$deps`) is installed by apt-get without a version pin"]
        );
        assert_eq!(
            messages(
                "FROM debian:12\nRUN set -e; export D=\"jq\"; E=\"$D htop\"; apt-get install -y $E\n"
            ),
            vec![
                "`htop` (from `$E`) is installed by apt-get without a version pin",
                "`jq` (from `$E`) is installed by apt-get without a version pin",
            ]
        );
        // a shell assignment shadows the ARG
        assert_eq!(
            messages("FROM debian:12\nARG P=curl=8.5.0-2\nRUN P=wget && apt-get install -y $P\n"),
            vec!["`wget` (from `$P`) is installed by apt-get without a version pin"]
        );
        for text in [
            "FROM debian:12\nRUN D=curl\nRUN apt-get install -y $D\n",
            "FROM debian:12\nRUN D=curl apt-get install -y $D\n",
            "FROM debian:12\nRUN D=$(cat /pkgs) && apt-get install -y $D\n",
            "FROM debian:12\nRUN D=\"curl $UNKNOWN\" && apt-get install -y $D\n",
            "FROM debian:12\nRUN D='curl=8.5.0-2 ./x.deb' && apt-get install -y $D\n",
        ] {
            assert_eq!(messages(text), Vec::<String>::new(), "{text}");
        }
    }

    #[test]
    fn flagged() {
        for (cmd, want) in [
            ("apt-get install -y curl", vec!["curl"]),
            ("apt install -y curl wget", vec!["curl", "wget"]),
            ("aptitude install -y curl", vec!["curl"]),
            ("sudo apt-get -y install curl", vec!["curl"]),
            ("apt-get install -t bookworm-backports curl", vec!["curl"]),
            // a target release is not a version
            (
                "apt-get install curl/bookworm-backports",
                vec!["curl/bookworm-backports"],
            ),
            ("apt-get install 'libc6:i386'", vec!["'libc6:i386'"]),
            (
                "apt-get install -o Dpkg::Options::=--force-confnew -y curl",
                vec!["curl"],
            ),
            ("sh -c 'apt-get install -y curl'", vec!["curl"]),
        ] {
            assert_eq!(run(cmd), want, "{cmd}");
        }
    }

    #[test]
    fn variables_expand_with_their_defaults() {
        let text = "FROM debian:12\nARG PKGS=\"curl git=1:2.39\"\nRUN apt-get install -y $PKGS\n";
        assert_eq!(
            findings(R, text),
            vec![(
                "SLD043",
                "3:24-3:29".to_string(),
                "`curl` (from `$PKGS`) is installed by apt-get without a version pin".to_string()
            )]
        );
        // no default, a shell variable, a substitution: not judged
        for text in [
            "FROM debian:12\nARG PKGS\nRUN apt-get install -y $PKGS\n",
            "FROM debian:12\nRUN for p in a b; do apt-get install -y $p; done\n",
            "FROM debian:12\nRUN apt-get install -y $(cat /pkgs.txt)\n",
            "FROM debian:12\nARG OPTS=\"-t bookworm-backports\"\nRUN apt-get install $OPTS curl=1\n",
        ] {
            assert_eq!(spans(R, text), Vec::<String>::new(), "{text}");
        }
        // the pin is in the literal part
        let text = "FROM debian:12\nRUN apt-get install -y curl=${CURL_VERSION}\n";
        assert_eq!(spans(R, text), Vec::<String>::new());
    }

    #[test]
    fn not_flagged() {
        for cmd in [
            "apt-get install -y curl=8.5.0-2",
            "apt-get install -y 'curl=8.5*'",
            "apt-get install -y ./tool_1.2_amd64.deb",
            "apt install -y /tmp/tool.deb",
            "apt-get install -y",
            "apt-get update && apt-get upgrade -y",
            "apt-get install -y --simulate curl",
            "apt-get install -y curl=1 nano-",
            "apt-get build-dep -y curl",
            "echo apt-get install curl",
            "apt-get -o APT::Install-Recommends=false install",
        ] {
            assert_eq!(run(cmd), Vec::<String>::new(), "{cmd}");
        }
    }
}
