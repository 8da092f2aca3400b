use crate::dockerfile::model::Dockerfile;
use crate::dockerfile::packages::{Install, Manager};
use crate::docs::{self, RuleMeta};
use crate::rules::dockerfile::package_pins::{self, Pins, Verdict};
use crate::rules::{Ctx, Rule};

/// SLD044: `apk add` of a package without a version constraint.
pub struct ApkPackageUnpinned;

impl Pins for ApkPackageUnpinned {
    fn manager(&self) -> Manager {
        Manager::Apk
    }

    fn judged(&self, install: &Install<'_>) -> bool {
        !install.has(&["-s", "--simulate"])
    }

    fn verdict(&self, _install: &Install<'_>, package: &str) -> Verdict {
        // `!pkg` is a conflict: nothing is installed
        if package.starts_with('!') {
            Verdict::Skip
        } else if package.contains(['=', '~', '>', '<'])
            || package.ends_with(".apk")
            || package_pins::is_path(package)
        {
            Verdict::Pinned
        } else {
            Verdict::Unpinned
        }
    }

    fn help(&self, _install: &Install<'_>, package: &str) -> String {
        let name = package.split('@').next().unwrap_or(package);
        format!(
            "pin the version: `apk add {name}=<version>` (or `{name}~<major.minor>` to follow patch releases), or opt out of this rule where the base image is pinned by digest"
        )
    }
}

impl Rule for ApkPackageUnpinned {
    fn meta(&self) -> &'static RuleMeta {
        docs::APK_PACKAGE_UNPINNED
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        package_pins::check(self, cx, df);
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::{findings, spans};

    const R: &str = "apk-package-unpinned";

    fn run(cmd: &str) -> Vec<String> {
        spans(R, &format!("FROM alpine:3.20\nRUN {cmd}\n"))
    }

    #[test]
    fn message_and_span() {
        assert_eq!(
            findings(
                R,
                "FROM alpine:3.20\nRUN apk add --no-cache curl=8.9.0-r0 git\n"
            ),
            vec![(
                "SLD044",
                "2:38-2:41".to_string(),
                "`git` is installed by apk without a version pin".to_string()
            )]
        );
    }

    #[test]
    fn flagged() {
        for (cmd, want) in [
            ("apk add curl", vec!["curl"]),
            ("apk --no-cache add curl git", vec!["curl", "git"]),
            (
                "apk add --virtual .build-deps gcc musl-dev",
                vec!["gcc", "musl-dev"],
            ),
            ("apk add -t .build-deps gcc", vec!["gcc"]),
            (
                "apk add -X https://dl-cdn.alpinelinux.org/alpine/edge/testing tool",
                vec!["tool"],
            ),
            ("apk add --repository=https://r/edge tool", vec!["tool"]),
            // a repository tag is not a version
            ("apk add tool@testing", vec!["tool@testing"]),
            ("apk add -U curl && apk del x", vec!["curl"]),
        ] {
            assert_eq!(run(cmd), want, "{cmd}");
        }
    }

    #[test]
    fn variables() {
        let text = "FROM alpine:3.20\nENV DEPS=\"gcc=13.2.1-r0 make\"\nRUN apk add --virtual .deps $DEPS\n";
        assert_eq!(spans(R, text), vec!["$DEPS"]);
        let text = "FROM alpine:3.20\nARG DEPS\nRUN apk add $DEPS\n";
        assert_eq!(spans(R, text), Vec::<String>::new());
    }

    #[test]
    fn not_flagged() {
        for cmd in [
            "apk add curl=8.9.0-r0",
            "apk add 'curl>=8.9' 'git<3' 'flex~2.6' 'libbz2=~1.0'",
            "apk add --allow-untrusted /tmp/tool-1.0-r0.apk",
            "apk add --virtual .build-deps",
            "apk add !curl",
            "apk update",
            "apk del curl",
            "apk add --simulate curl",
        ] {
            assert_eq!(run(cmd), Vec::<String>::new(), "{cmd}");
        }
    }
}
