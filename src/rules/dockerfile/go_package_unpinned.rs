use crate::dockerfile::model::Dockerfile;
use crate::dockerfile::packages::{Install, Manager};
use crate::docs::{self, RuleMeta};
use crate::rules::dockerfile::package_pins::{self, Pins, Verdict};
use crate::rules::{Ctx, Rule};

/// SLD055: `go install pkg@latest`, `go run pkg@latest`, `go get pkg` — a Go module fetched at
/// whatever version is newest.
pub struct GoPackageUnpinned;

/// A version that names one release or commit: a full semantic version (`v1.2.3`,
/// `v1.2.3-rc.1`, a pseudo-version `v0.0.0-20240101000000-abcdef123456`) or a commit hash (7 or
/// more hex digits). Queries that resolve to the newest match — `latest`, `upgrade`, `patch`, a
/// prefix `v1`/`v1.2`, a comparison `>=v1.2`, a branch `master` — are not.
fn is_exact_version(v: &str) -> bool {
    let semver = v.strip_prefix('v').is_some_and(|rest| {
        let core = rest.split(['-', '+']).next().unwrap_or("");
        let parts: Vec<&str> = core.split('.').collect();
        parts.len() == 3
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    });
    semver || (v.len() >= 7 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

impl Pins for GoPackageUnpinned {
    fn manager(&self) -> Manager {
        Manager::Go
    }

    /// `go get -u` upgrades the dependencies of what it names to their newest versions, pinned
    /// or not; `-n` prints what it would do.
    fn judged(&self, install: &Install<'_>) -> bool {
        !install.has(&["-n"])
    }

    fn verdict(&self, install: &Install<'_>, package: &str) -> Verdict {
        let get = install.program == "go get";
        if package_pins::is_path(package) || package.starts_with('-') {
            return Verdict::Skip;
        }
        match package.rsplit_once('@') {
            Some((_, "none")) => Verdict::Skip,
            Some((_, version)) if is_exact_version(version) && !(get && upgrades(install)) => {
                Verdict::Pinned
            }
            Some(_) => Verdict::Unpinned,
            // `go install pkg` and `go run pkg` build the version the current module's go.mod
            // requires (and fail outside a module); `go get pkg` asks for the newest
            None if get => Verdict::Unpinned,
            None => Verdict::Skip,
        }
    }

    fn unpinned(&self, install: &Install<'_>, package: &str) -> &'static str {
        let pinned = package
            .rsplit_once('@')
            .is_some_and(|(_, v)| is_exact_version(v));
        if pinned && install.program == "go get" && upgrades(install) {
            "with `-u`, which upgrades its dependencies to their newest versions"
        } else {
            "without a version pin"
        }
    }

    fn help(&self, install: &Install<'_>, package: &str) -> String {
        let name = package.rsplit_once('@').map_or(package, |(n, _)| n);
        if install.program == "go get" && upgrades(install) {
            return format!(
                "drop `-u` (it upgrades every dependency to its newest version) and name a version: `go get {name}@v<major>.<minor>.<patch>`"
            );
        }
        format!(
            "name the version: `{} {name}@v<major>.<minor>.<patch>` (or a commit hash); go.sum and the checksum database then verify it",
            install.program
        )
    }
}

/// `go get -u` / `-u=patch`.
fn upgrades(install: &Install<'_>) -> bool {
    install.has(&["-u"])
}

impl Rule for GoPackageUnpinned {
    fn meta(&self) -> &'static RuleMeta {
        docs::GO_PACKAGE_UNPINNED
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        package_pins::check(self, cx, df);
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::{findings, spans};

    const R: &str = "go-package-unpinned";

    fn run(cmd: &str) -> Vec<String> {
        spans(R, &format!("FROM golang:1.23\nRUN {cmd}\n"))
    }

    #[test]
    fn message_and_span() {
        assert_eq!(
            findings(
                R,
                "FROM golang:1.23\nRUN go install golang.org/x/tools/gopls@latest\n"
            ),
            vec![(
                "SLD055",
                "2:16-2:47".to_string(),
                "`golang.org/x/tools/gopls@latest` is installed by go install without a version pin"
                    .to_string()
            )]
        );
    }

    #[test]
    fn flagged() {
        for (cmd, want) in [
            (
                "go install example.com/cmd/tool@latest",
                vec!["example.com/cmd/tool@latest"],
            ),
            (
                "go install -v -ldflags '-s -w' example.com/tool@v1",
                vec!["example.com/tool@v1"],
            ),
            (
                "go install -tags netgo example.com/a@master example.com/b@v1.2.3",
                vec!["example.com/a@master"],
            ),
            (
                "go install 'example.com/a@>=v1.2.0'",
                vec!["'example.com/a@>=v1.2.0'"],
            ),
            ("go get github.com/acme/tool", vec!["github.com/acme/tool"]),
            (
                "go get -u github.com/acme/tool@v1.4.0",
                vec!["github.com/acme/tool@v1.4.0"],
            ),
            (
                "GO111MODULE=on go get golang.org/x/lint/golint@upgrade",
                vec!["golang.org/x/lint/golint@upgrade"],
            ),
            // the program's own arguments are not packages
            (
                "go run example.com/gen@latest -out x@y",
                vec!["example.com/gen@latest"],
            ),
        ] {
            assert_eq!(run(cmd), want, "{cmd}");
        }
    }

    #[test]
    fn not_flagged() {
        for cmd in [
            "go install golang.org/x/tools/gopls@v0.16.2",
            "go install example.com/tool@v1.2.3-rc.1",
            "go install example.com/tool@v0.0.0-20240101000000-abcdef123456",
            "go install example.com/tool@4f1c2b9",
            // the current module's go.mod decides
            "go install example.com/tool",
            "go install ./cmd/...",
            "go install .",
            "go get example.com/tool@v1.4.0",
            "go get example.com/old@none",
            "go get -n example.com/tool",
            "go run example.com/gen@v1.0.0 pkg@latest",
            "go run main.go",
            "go build ./...",
            "go mod download",
        ] {
            assert_eq!(run(cmd), Vec::<String>::new(), "{cmd}");
        }
    }
}
