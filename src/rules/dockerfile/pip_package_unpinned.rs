use crate::dockerfile::model::Dockerfile;
use crate::dockerfile::packages::{Install, Manager};
use crate::docs::{self, RuleMeta};
use crate::rules::dockerfile::package_pins::{self, Pins, Verdict};
use crate::rules::{Ctx, Rule};

/// SLD047: `pip install` (`pip3`, `python -m pip`, `pipx`) of a package without a version.
pub struct PipPackageUnpinned;

/// PEP 440 comparison operators (`===` and `~=` included).
const SPECIFIERS: &[&str] = &["==", "!=", "~=", ">=", "<=", ">", "<"];

/// pip's version control schemes (`vcs+protocol://`, pip's VCS support).
const VCS: &[&str] = &["git+", "hg+", "svn+", "bzr+"];

/// Archive and wheel file names pip installs directly.
const ARCHIVES: &[&str] = &[
    ".whl", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".zip", ".tar",
];

/// A VCS URL with a ref after the repository path: `git+https://host/r.git@v1.0#egg=r`. An `@`
/// in the host part is a user (`git+ssh://git@github.com/r.git`), not a ref.
fn vcs_has_ref(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.split(['#', '?']).next().unwrap_or(rest);
    rest.split_once('/').is_some_and(|(_, path)| {
        path.rsplit_once('@')
            .is_some_and(|(repo, reference)| !repo.is_empty() && !reference.is_empty())
    })
}

fn url_verdict(url: &str) -> Verdict {
    if VCS.iter().any(|v| url.starts_with(v)) {
        if vcs_has_ref(url) {
            Verdict::Pinned
        } else {
            Verdict::Unpinned
        }
    } else {
        // an archive at a URL: that file
        Verdict::Pinned
    }
}

impl Pins for PipPackageUnpinned {
    fn manager(&self) -> Manager {
        Manager::Pip
    }

    /// A requirements or constraints file may pin what the command line names; `--no-index`
    /// installs only what `--find-links` holds (files of this build); `--dry-run` installs
    /// nothing; `pipx install --spec SPEC` installs SPEC, not the name.
    fn judged(&self, install: &Install<'_>) -> bool {
        !install.has(&[
            "-r",
            "--requirement",
            "-c",
            "--constraint",
            "--no-index",
            "--dry-run",
            "--spec",
        ])
    }

    fn verdict(&self, _install: &Install<'_>, package: &str) -> Verdict {
        let package = package.trim();
        // PEP 508 direct reference: `name @ url`
        if let Some((_, url)) = package
            .split_once(" @ ")
            .or_else(|| package.split_once("@ "))
        {
            return url_verdict(url.trim());
        }
        if package_pins::is_url(package) {
            return url_verdict(package);
        }
        let requirement = package.split(';').next().unwrap_or(package);
        if SPECIFIERS.iter().any(|s| requirement.contains(s)) {
            return Verdict::Pinned;
        }
        // a local project, a file or a directory (`.`, `./pkg`, `src/pkg`, `dist/x.whl`)
        if package_pins::is_path(package)
            || package.contains('/')
            || ARCHIVES.iter().any(|a| package.ends_with(a))
        {
            return Verdict::Pinned;
        }
        Verdict::Unpinned
    }

    fn help(&self, install: &Install<'_>, package: &str) -> String {
        let name = package.split('[').next().unwrap_or(package);
        format!(
            "pin the version: `{} install {package}==<version>`, or install from a requirements file (`-r requirements.txt`, with `--require-hashes` to pin the files too)",
            install.program,
            package = if name.is_empty() { package } else { name },
        )
    }
}

impl Rule for PipPackageUnpinned {
    fn meta(&self) -> &'static RuleMeta {
        docs::PIP_PACKAGE_UNPINNED
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        package_pins::check(self, cx, df);
    }
}

#[cfg(test)]
mod tests {
    use super::vcs_has_ref;
    use crate::rules::dockerfile::test_util::{findings, spans};

    const R: &str = "pip-package-unpinned";

    fn run(cmd: &str) -> Vec<String> {
        spans(R, &format!("FROM python:3.12\nRUN {cmd}\n"))
    }

    #[test]
    fn message_and_span() {
        assert_eq!(
            findings(
                R,
                "FROM python:3.12\nRUN pip install --no-cache-dir flask==3.0.3 gunicorn\n"
            ),
            vec![(
                "SLD047",
                "2:45-2:53".to_string(),
                "`gunicorn` is installed by pip without a version pin".to_string()
            )]
        );
    }

    #[test]
    fn refs() {
        assert!(vcs_has_ref(
            "git+https://github.com/r/x.git@0.6-alpha#egg=x"
        ));
        assert!(vcs_has_ref("git+ssh://git@github.com/r/x.git@v1"));
        assert!(!vcs_has_ref("git+ssh://git@github.com/r/x.git"));
        assert!(!vcs_has_ref("git+https://github.com/r/x.git#egg=x"));
    }

    #[test]
    fn flagged() {
        for (cmd, want) in [
            ("pip install flask", vec!["flask"]),
            (
                "pip3 install --user 'requests[socks]'",
                vec!["'requests[socks]'"],
            ),
            (
                "python3 -m pip install -U pip setuptools",
                vec!["pip", "setuptools"],
            ),
            (
                "python -m pip install --index-url https://x/simple example",
                vec!["example"],
            ),
            ("pipx install black", vec!["black"]),
            ("pip install --root-user-action=ignore mypkg", vec!["mypkg"]),
            ("pip install -e . flask", vec!["flask"]),
            (
                "pip install git+https://github.com/r/x.git#egg=x",
                vec!["git+https://github.com/r/x.git#egg=x"],
            ),
            (
                "pip install git+ssh://git@github.com/r/x.git",
                vec!["git+ssh://git@github.com/r/x.git"],
            ),
            ("sudo -H pip2 install x", vec!["x"]),
        ] {
            assert_eq!(run(cmd), want, "{cmd}");
        }
    }

    #[test]
    fn not_flagged() {
        for cmd in [
            "pip install flask==3.0.3",
            "pip install 'flask>=3' 'a<2' 'b~=1.2' 'c!=1' 'd===1.0'",
            "pip install -r requirements.txt",
            "pip install --requirement requirements.txt extra",
            "pip install -c constraints.txt flask",
            "pip install .",
            "pip install -e .",
            "pip install ./src/pkg dist/pkg-1.0-py3-none-any.whl pkg.tar.gz",
            "pip install https://example.com/pkg-1.0.tar.gz",
            "pip install git+https://github.com/r/x.git@v1.0#egg=x",
            "pip install 'x @ git+https://github.com/r/x.git@v1.0'",
            "pip install --no-index --find-links /wheels flask",
            "pip3 install --prefix /opt/x --target /opt/t yamllint==1.20.0",
            "pip download flask",
            "pipenv install flask",
            "pip install --upgrade pip==24.0",
            "pipx install --python \"$(which python)\" poetry==1.8.5",
        ] {
            assert_eq!(run(cmd), Vec::<String>::new(), "{cmd}");
        }
    }
}
