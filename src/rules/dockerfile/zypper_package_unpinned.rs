use crate::dockerfile::model::Dockerfile;
use crate::dockerfile::packages::{Install, Manager};
use crate::docs::{self, RuleMeta};
use crate::rules::dockerfile::package_pins::{self, Pins, Verdict};
use crate::rules::{Ctx, Rule};

/// SLD046: `zypper install` of a package without a version.
pub struct ZypperPackageUnpinned;

/// Resolvable kinds other than packages (`zypper in -t pattern x`, `pattern:x`): they have no
/// version to pin.
const OTHER_KINDS: &[&str] = &["pattern", "patch", "product", "srcpackage", "application"];

impl Pins for ZypperPackageUnpinned {
    fn manager(&self) -> Manager {
        Manager::Zypper
    }

    fn judged(&self, install: &Install<'_>) -> bool {
        install
            .value(&["-t", "--type"])
            .is_none_or(|t| t == "package")
            && !install.has(&["-D", "--dry-run", "-d", "--download-only"])
    }

    fn verdict(&self, _install: &Install<'_>, package: &str) -> Verdict {
        let kind = package.split_once(':').map(|(k, _)| k);
        // `!pkg`/`~pkg` remove a package in the same transaction
        if package.starts_with(['!', '~']) || kind.is_some_and(|k| OTHER_KINDS.contains(&k)) {
            Verdict::Skip
        } else if package.contains(['=', '<', '>'])
            || package.ends_with(".rpm")
            || package_pins::is_path(package)
        {
            Verdict::Pinned
        } else {
            Verdict::Unpinned
        }
    }

    fn help(&self, _install: &Install<'_>, package: &str) -> String {
        format!(
            "pin the version: `zypper install {package}=<version>` (`zypper search -s {package}` lists them), or opt out of this rule where the base image is pinned by digest"
        )
    }
}

impl Rule for ZypperPackageUnpinned {
    fn meta(&self) -> &'static RuleMeta {
        docs::ZYPPER_PACKAGE_UNPINNED
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        package_pins::check(self, cx, df);
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::{findings, spans};

    const R: &str = "zypper-package-unpinned";

    fn run(cmd: &str) -> Vec<String> {
        spans(R, &format!("FROM opensuse/leap:15.6\nRUN {cmd}\n"))
    }

    #[test]
    fn message_and_span() {
        assert_eq!(
            findings(R, "FROM opensuse/leap:15.6\nRUN zypper -n in -y git\n"),
            vec![(
                "SLD046",
                "2:21-2:24".to_string(),
                "`git` is installed by zypper without a version pin".to_string()
            )]
        );
    }

    #[test]
    fn flagged() {
        for (cmd, want) in [
            ("zypper install -y tomcat && zypper clean", vec!["tomcat"]),
            (
                "zypper --non-interactive install --no-recommends git curl",
                vec!["git", "curl"],
            ),
            (
                "zypper -n --gpg-auto-import-keys in -r oss -t package git",
                vec!["git"],
            ),
            ("zypper in package:git", vec!["package:git"]),
        ] {
            assert_eq!(run(cmd), want, "{cmd}");
        }
    }

    #[test]
    fn not_flagged() {
        for cmd in [
            "zypper install -y tomcat=9.0.39 && zypper clean",
            "zypper install -y 'tomcat>=9.0' 'git<3' tomcat\\<9.0",
            "zypper install -y tomcat-9.0.39-1.rpm",
            "zypper install -y -t pattern devel_basis",
            "zypper install -y pattern:devel_basis",
            "zypper install -y git=2.43 !vim",
            "zypper refresh",
            "zypper install --dry-run git",
        ] {
            assert_eq!(run(cmd), Vec::<String>::new(), "{cmd}");
        }
    }
}
