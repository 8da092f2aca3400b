use crate::dockerfile::model::Dockerfile;
use crate::dockerfile::packages::{Install, Manager};
use crate::docs::{self, RuleMeta};
use crate::rules::dockerfile::package_pins::{self, Pins, Verdict};
use crate::rules::{Ctx, Rule};

/// SLD048: `npm install`/`yarn add`/`pnpm add` of a package without a version.
pub struct NpmPackageUnpinned;

/// Git specs npm reads (npm-package-arg): a commit-ish after `#` pins them.
const GIT: &[&str] = &[
    "git://",
    "git+ssh://",
    "git+http://",
    "git+https://",
    "git+file://",
    "git@",
    "github:",
    "gitlab:",
    "bitbucket:",
    "gist:",
];

const TARBALLS: &[&str] = &[".tgz", ".tar.gz", ".tar"];

/// The part of `name@spec` after the name's `@` (a scope's leading `@` is the name's):
/// `None` when there is no `@spec`.
fn spec_of(package: &str) -> Option<&str> {
    let rest = package.strip_prefix('@').unwrap_or(package);
    rest.split_once('@').map(|(_, spec)| spec)
}

/// A version or a range (`1.2.3`, `v1`, `^1.2`, `~1`, `>=1 <2`, `=1`), not a dist-tag (`latest`,
/// `next`) nor a range that matches every version (`*`, `x`, empty).
fn is_version_spec(spec: &str) -> bool {
    let spec = spec.trim();
    let body = spec.trim_start_matches(['=', 'v', 'V']);
    spec.starts_with(['^', '~', '>', '<']) || body.starts_with(|c: char| c.is_ascii_digit())
}

fn verdict(package: &str, depth: u32) -> Verdict {
    if package_pins::is_path(package) || package.starts_with("file:") {
        return Verdict::Pinned;
    }
    if GIT.iter().any(|g| package.starts_with(g)) {
        return match package.split_once('#') {
            Some((_, commit)) if !commit.is_empty() => Verdict::Pinned,
            _ => Verdict::Unpinned,
        };
    }
    if TARBALLS.iter().any(|t| package.ends_with(t)) {
        return Verdict::Pinned;
    }
    if package_pins::is_url(package) {
        return Verdict::Unpinned;
    }
    // GitHub shorthand `user/repo[#ref]`
    if !package.starts_with('@') && package.contains('/') && !package.contains('@') {
        return if package.split_once('#').is_some_and(|(_, r)| !r.is_empty()) {
            Verdict::Pinned
        } else {
            Verdict::Unpinned
        };
    }
    match spec_of(package) {
        // `alias@npm:name@spec`
        Some(spec) if spec.starts_with("npm:") && depth < 2 => {
            verdict(spec.trim_start_matches("npm:"), depth + 1)
        }
        Some(spec) if is_version_spec(spec) => Verdict::Pinned,
        _ => Verdict::Unpinned,
    }
}

impl Pins for NpmPackageUnpinned {
    fn manager(&self) -> Manager {
        Manager::Npm
    }

    fn judged(&self, install: &Install<'_>) -> bool {
        !install.has(&["--dry-run"])
    }

    fn verdict(&self, _install: &Install<'_>, package: &str) -> Verdict {
        verdict(package, 0)
    }

    fn help(&self, install: &Install<'_>, package: &str) -> String {
        let name = match spec_of(package) {
            Some(spec) => package
                .strip_suffix(spec)
                .and_then(|n| n.strip_suffix('@'))
                .unwrap_or(package),
            None => package,
        };
        let verb = if install.program == "npm" {
            "install"
        } else {
            "add"
        };
        format!(
            "pin the version: `{} {verb} {name}@<version>`, or add it to package.json and install from the lockfile (`npm ci`)",
            install.program
        )
    }
}

impl Rule for NpmPackageUnpinned {
    fn meta(&self) -> &'static RuleMeta {
        docs::NPM_PACKAGE_UNPINNED
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        package_pins::check(self, cx, df);
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::{diagnostics, findings, spans};

    const R: &str = "npm-package-unpinned";

    fn run(cmd: &str) -> Vec<String> {
        spans(R, &format!("FROM node:22\nRUN {cmd}\n"))
    }

    #[test]
    fn message_span_and_help() {
        let text = "FROM node:22\nRUN npm install -g pm2@5.4.2 @angular/cli\n";
        assert_eq!(
            findings(R, text),
            vec![(
                "SLD048",
                "2:30-2:42".to_string(),
                "`@angular/cli` is installed by npm without a version pin".to_string()
            )]
        );
        let d = diagnostics(R, "FROM node:22\nRUN npm i -g npm@latest\n");
        assert_eq!(
            d.first().and_then(|d| d.help.as_deref()),
            Some(
                "pin the version: `npm install npm@<version>`, or add it to package.json and install from the lockfile (`npm ci`)"
            )
        );
    }

    #[test]
    fn flagged() {
        for (cmd, want) in [
            ("npm install express", vec!["express"]),
            ("npm i -g express sax@0.1.1", vec!["express"]),
            ("npm add @myorg/pkg", vec!["@myorg/pkg"]),
            // a dist-tag moves
            ("npm install -g npm@latest", vec!["npm@latest"]),
            (
                "npm install -g corepack@next x@*",
                vec!["corepack@next", "x@*"],
            ),
            (
                "npm install --registry https://r.example.com express",
                vec!["express"],
            ),
            (
                "npm install git+https://github.com/npm/cli.git",
                vec!["git+https://github.com/npm/cli.git"],
            ),
            ("npm install npm/cli", vec!["npm/cli"]),
            ("yarn global add typescript", vec!["typescript"]),
            ("yarn add -D eslint", vec!["eslint"]),
            ("pnpm add -g pnpm", vec!["pnpm"]),
            ("npm --prefix /app install x", vec!["x"]),
        ] {
            assert_eq!(run(cmd), want, "{cmd}");
        }
    }

    #[test]
    fn not_flagged() {
        for cmd in [
            "npm install",
            "npm ci --omit=dev",
            "npm install --progress=false",
            "npm install express@4.1.1 'sax@^0.1' 'x@>=1 <2' y@v2 z@~1.2",
            "npm install @myorg/privatepackage@1.2.3",
            "npm install git+ssh://git@github.com:npm/cli.git#v1.0.27",
            "npm install git+https://github.com/npm/cli#semver:^5.0",
            "npm install github:npm/cli#abc123 npm/cli#v1",
            "npm install ./pkg ../pkg /pkg ~/pkg file:../pkg",
            "npm install pkg-1.2.3.tgz https://example.com/pkg-1.0.0.tar.gz",
            "npm install alias@npm:real@1.0.0",
            "npm run install",
            "npm install --loglevel verbose sax@0.1.1",
            "yarn install --frozen-lockfile",
            "yarn",
            "pnpm install --frozen-lockfile",
            "npm install --dry-run express",
        ] {
            assert_eq!(run(cmd), Vec::<String>::new(), "{cmd}");
        }
    }
}
