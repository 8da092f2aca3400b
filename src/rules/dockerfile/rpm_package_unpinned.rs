use crate::dockerfile::model::Dockerfile;
use crate::dockerfile::packages::{Install, Manager};
use crate::docs::{self, RuleMeta};
use crate::rules::dockerfile::package_pins::{self, Pins, Verdict};
use crate::rules::{Ctx, Rule};

/// SLD045: `yum`/`dnf`/`microdnf`/`tdnf install` (or `module install`) without a version.
pub struct RpmPackageUnpinned;

/// Characters of an rpm version or release (`1:1.1.1k`, `9.0.1-1.el8`, `2.6^20240101`, `1.*`).
fn is_version_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '~' | '^' | '_' | ':' | '+' | '*')
}

/// `name-version[-release][.arch]`: the last `-` part is a version or a release (it starts
/// with a digit). `java-17-openjdk-devel` is a name: its last part is not.
fn has_version(package: &str) -> bool {
    let Some((name, last)) = package.rsplit_once('-') else {
        return false;
    };
    !name.is_empty()
        && last.starts_with(|c: char| c.is_ascii_digit())
        && last.chars().all(is_version_char)
}

impl Pins for RpmPackageUnpinned {
    fn manager(&self) -> Manager {
        Manager::Rpm
    }

    fn judged(&self, install: &Install<'_>) -> bool {
        !install.has(&["--downloadonly", "--assumeno"])
    }

    fn verdict(&self, install: &Install<'_>, package: &str) -> Verdict {
        if install.module {
            // `name:stream[/profile]`
            return if package.contains(':') {
                Verdict::Pinned
            } else {
                Verdict::Unpinned
            };
        }
        // `@group`, `@module:stream`: groups have no version to pin
        if package.starts_with('@') {
            Verdict::Skip
        } else if package.ends_with(".rpm")
            || package.contains(['=', '<', '>'])
            || has_version(package)
        {
            Verdict::Pinned
        } else {
            Verdict::Unpinned
        }
    }

    fn help(&self, install: &Install<'_>, package: &str) -> String {
        if install.module {
            return format!("name the stream: `{} {package}:<stream>`", install.program);
        }
        format!(
            "pin the version: `{} install {package}-<version>` (`{} list --showduplicates {package}` lists them), or opt out of this rule where the base image is pinned by digest",
            install.program,
            if install.program == "microdnf" || install.program == "tdnf" {
                "dnf"
            } else {
                install.program.as_str()
            }
        )
    }
}

impl Rule for RpmPackageUnpinned {
    fn meta(&self) -> &'static RuleMeta {
        docs::RPM_PACKAGE_UNPINNED
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        package_pins::check(self, cx, df);
    }
}

#[cfg(test)]
mod tests {
    use super::has_version;
    use crate::rules::dockerfile::test_util::{findings, spans};

    const R: &str = "rpm-package-unpinned";

    fn run(cmd: &str) -> Vec<String> {
        spans(R, &format!("FROM rockylinux:9\nRUN {cmd}\n"))
    }

    #[test]
    fn message_and_span() {
        assert_eq!(
            findings(
                R,
                "FROM rockylinux:9\nRUN dnf install -y tar-1.34 git && dnf clean all\n"
            ),
            vec![(
                "SLD045",
                "2:29-2:32".to_string(),
                "`git` is installed by dnf without a version pin".to_string()
            )]
        );
    }

    #[test]
    fn versions() {
        for p in [
            "tomcat-9.2",
            "openssl-1:1.1.1k",
            "rpm-sign-4.16.1.3",
            "gcc-c++-1.1.1",
            "java-17-openjdk-17.0.9.0.9-1.el8",
            "x-1.*",
        ] {
            assert!(has_version(p), "{p}");
        }
        for p in [
            "tomcat",
            "python3-devel",
            "java-17-openjdk-devel",
            "glibc.i686",
            "-1",
        ] {
            assert!(!has_version(p), "{p}");
        }
    }

    #[test]
    fn flagged() {
        for (cmd, want) in [
            ("yum install -y httpd", vec!["httpd"]),
            (
                "dnf -y install python3-devel java-17-openjdk",
                vec!["python3-devel", "java-17-openjdk"],
            ),
            ("microdnf install --nodocs -y tar", vec!["tar"]),
            (
                "dnf install -y --setopt=tsflags=nodocs --enablerepo crb tar",
                vec!["tar"],
            ),
            ("dnf module install -y nodejs", vec!["nodejs"]),
            ("yum -y module install nodejs", vec!["nodejs"]),
            ("tdnf install -y tar", vec!["tar"]),
            (
                "dnf install -y 'dnf-command(config-manager)'",
                vec!["'dnf-command(config-manager)'"],
            ),
        ] {
            assert_eq!(run(cmd), want, "{cmd}");
        }
    }

    #[test]
    fn variables() {
        let text =
            "FROM fedora:40\nARG version=2.51.0-2.fc42\nRUN dnf -y install git-core-${version}\n";
        assert_eq!(spans(R, text), Vec::<String>::new());
        let text = "FROM fedora:40 AS build\nENV version=2.51.0\nFROM fedora:40\nRUN dnf -y install git-core-${version}\n";
        assert_eq!(
            spans(R, text),
            Vec::<String>::new(),
            "unresolved: not judged"
        );
        let text = "FROM fedora:40\nARG PKG=git-core\nRUN dnf -y install ${PKG}\n";
        assert_eq!(spans(R, text), vec!["${PKG}"]);
    }

    #[test]
    fn not_flagged() {
        for cmd in [
            "yum install -y tomcat-9.2 && yum clean all",
            "dnf install -y https://dl.fedoraproject.org/pub/epel/epel-release-latest-9.noarch.rpm",
            "dnf install -y /tmp/tool-1.0-1.x86_64.rpm",
            "dnf module install -y nodejs:18/common",
            "dnf group install -y 'Development Tools'",
            "yum groupinstall -y 'Development Tools'",
            "dnf install -y @development-tools",
            "dnf install -y --downloadonly tar",
            "dnf install -y 'tar >= 1.30'",
            "dnf update -y",
            "notdnf install tar",
        ] {
            assert_eq!(run(cmd), Vec::<String>::new(), "{cmd}");
        }
    }
}
