//! Package installs in shell commands (`apt-get install`, `apk add`, `dnf install`, `zypper
//! install`, `pip install`, `npm install`, `gem install`, …): which package manager a command
//! runs, the options it was given, and which of its words are the packages it installs. Options
//! and their arguments are told apart the way each manager's own option parser reads them
//! (`apk add --virtual .deps gcc`: `.deps` is the virtual package's name, not a package). What
//! counts as a version pin is the rules' business.
//!
//! Reads [`super::shell`] only.

use crate::dockerfile::shell::{Command, Word};

/// A package manager family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Manager {
    /// `apt-get`, `apt`, `aptitude`.
    Apt,
    /// `apk`.
    Apk,
    /// `yum`, `dnf`, `dnf5`, `microdnf`, `tdnf`.
    Rpm,
    /// `zypper`.
    Zypper,
    /// `pip`, `pip3`, `pipx`, `python -m pip`.
    Pip,
    /// `npm`, `yarn`, `pnpm`.
    Npm,
    /// `gem`.
    Gem,
    /// `go install`, `go get`, `go run`.
    Go,
}

/// One option as the manager reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opt<'c> {
    /// `-v` or `--version` (one letter of a cluster `-qy` is `-q`, `-y`); without `=value`.
    pub name: String,
    /// Its argument, attached (`--repository=URL`, `-tNAME`) or the next word.
    pub value: Option<&'c str>,
}

/// A command that installs packages.
#[derive(Debug, Clone)]
pub struct Install<'c> {
    pub manager: Manager,
    /// How a message names the program: `apt-get`, `dnf`, `pip3`, `python3 -m pip`, `yarn`.
    pub program: String,
    /// `yum module install`/`dnf module install`: the operands are module specs.
    pub module: bool,
    /// Every option, before and after the subcommand.
    pub options: Vec<Opt<'c>>,
    /// The operands after the subcommand: the packages (and files, URLs) to install.
    pub packages: Vec<&'c Word>,
}

impl Install<'_> {
    /// Whether one of these options (`-r`, `--requirement`) was given.
    pub fn has(&self, names: &[&str]) -> bool {
        self.options
            .iter()
            .any(|o| names.contains(&o.name.as_str()))
    }

    /// The argument of the last of these options that was given with one.
    pub fn value(&self, names: &[&str]) -> Option<&str> {
        self.options
            .iter()
            .rev()
            .find(|o| names.contains(&o.name.as_str()))
            .and_then(|o| o.value)
    }
}

/// Which options of a manager take an argument.
struct OptSpec {
    /// Short options with a required argument (`-t NAME`, `-tNAME`).
    short: &'static [char],
    /// Long options (without `--`) with a required argument (`--virtual NAME`, `--virtual=NAME`).
    long: &'static [&'static str],
    /// Options whose argument is optional and, given as a separate word, is the next word unless
    /// that starts with `-` (Ruby OptionParser's "placed" arguments: `gem install -g [FILE]`).
    placed_short: &'static [char],
    placed_long: &'static [&'static str],
    /// `--` ends the operands (gem: what follows are build flags).
    dashdash_ends: bool,
}

const fn spec(short: &'static [char], long: &'static [&'static str]) -> OptSpec {
    OptSpec {
        short,
        long,
        placed_short: &[],
        placed_long: &[],
        dashdash_ends: false,
    }
}

/// apt-get and apt (apt-private/private-cmndline.cc: the options declared with an argument).
const APT: OptSpec = spec(
    &['o', 'c', 't', 'a', 'P'],
    &[
        "option",
        "config-file",
        "target-release",
        "default-release",
        "host-architecture",
        "build-profiles",
        "solver",
        "planner",
        "with-source",
        "snapshot",
    ],
);

const APTITUDE: OptSpec = spec(
    &['o', 't', 'F', 'w', 'O'],
    &[
        "option",
        "target-release",
        "default-release",
        "display-format",
        "width",
        "sort",
        "add-user-tag",
        "add-user-tag-to",
        "remove-user-tag",
        "remove-user-tag-from",
    ],
);

const APK: OptSpec = spec(
    &['X', 'p', 't'],
    &[
        "repository",
        "root",
        "arch",
        "cache-dir",
        "cache-max-age",
        "keys-dir",
        "repositories-file",
        "timeout",
        "wait",
        "progress-fd",
        "virtual",
    ],
);

/// yum, dnf (argparse: the options with a value), microdnf, tdnf.
const RPM: OptSpec = spec(
    &['c', 'd', 'e', 'x', 'R'],
    &[
        "config",
        "debuglevel",
        "errorlevel",
        "installroot",
        "releasever",
        "setopt",
        "enablerepo",
        "disablerepo",
        "repo",
        "repoid",
        "exclude",
        "excludepkgs",
        "disableexcludes",
        "disableexcludepkgs",
        "repofrompath",
        "enableplugin",
        "disableplugin",
        "color",
        "destdir",
        "downloaddir",
        "comment",
        "forcearch",
        "rpmverbosity",
        "advisory",
        "advisories",
        "bz",
        "bzs",
        "cve",
        "cves",
        "sec-severity",
        "secseverity",
        "platform-id",
        "from-repo",
    ],
);

/// zypper's global options (before the command).
const ZYPPER_GLOBAL: OptSpec = spec(
    &['c', 'R', 'D', 'C', 'p'],
    &[
        "config",
        "root",
        "installroot",
        "reposd-dir",
        "cache-dir",
        "raw-cache-dir",
        "solv-cache-dir",
        "pkg-cache-dir",
        "plus-repo",
        "plus-content",
        "userdata",
    ],
);

/// `zypper install`'s own options.
const ZYPPER_INSTALL: OptSpec = spec(&['r', 't'], &["repo", "type", "from", "download"]);

/// pip's general and `install` options with a value (pip/_internal/cli/cmdoptions.py).
const PIP: OptSpec = spec(
    &['r', 'c', 'e', 't', 'b', 'i', 'f', 'C'],
    &[
        "requirement",
        "constraint",
        "editable",
        "target",
        "platform",
        "python-version",
        "implementation",
        "abi",
        "root",
        "prefix",
        "src",
        "upgrade-strategy",
        "config-settings",
        "global-option",
        "install-option",
        "no-binary",
        "only-binary",
        "progress-bar",
        "root-user-action",
        "report",
        "index-url",
        "extra-index-url",
        "find-links",
        "group",
        "build",
        "build-dir",
        "python",
        "log",
        "log-file",
        "local-log",
        "proxy",
        "retries",
        "timeout",
        "exists-action",
        "trusted-host",
        "cert",
        "client-cert",
        "cache-dir",
        "use-feature",
        "use-deprecated",
        "resume-retries",
        "keyring-provider",
    ],
);

const PIPX: OptSpec = spec(
    &[],
    &[
        "python",
        "suffix",
        "pip-args",
        "index-url",
        "preinstall",
        "backend",
        "spec",
    ],
);

/// npm's options with a non-boolean value (npm's config definitions).
const NPM: OptSpec = spec(
    &['w', 'C'],
    &[
        "registry",
        "loglevel",
        "prefix",
        "cache",
        "userconfig",
        "globalconfig",
        "tag",
        "save-prefix",
        "workspace",
        "omit",
        "include",
        "install-strategy",
        "location",
        "before",
        "fetch-retries",
        "fetch-retry-factor",
        "fetch-retry-mintimeout",
        "fetch-retry-maxtimeout",
        "fetch-timeout",
        "proxy",
        "https-proxy",
        "noproxy",
        "cafile",
        "ca",
        "cert",
        "key",
        "otp",
        "scope",
        "auth-type",
        "script-shell",
        "node-options",
        "user-agent",
        "maxsockets",
        "logs-dir",
        "logs-max",
        "cpu",
        "os",
        "libc",
        "only",
        "also",
    ],
);

const YARN: OptSpec = spec(
    &[],
    &[
        "cwd",
        "modules-folder",
        "cache-folder",
        "registry",
        "network-timeout",
        "mutex",
        "global-folder",
        "prefix",
        "link-folder",
        "preferred-cache-folder",
        "otp",
        "network-concurrency",
        "use-yarnrc",
        "proxy",
        "https-proxy",
        "mode",
    ],
);

const PNPM: OptSpec = spec(
    &['F', 'C'],
    &[
        "filter",
        "dir",
        "registry",
        "store-dir",
        "virtual-store-dir",
        "global-dir",
        "modules-dir",
        "lockfile-dir",
        "reporter",
        "loglevel",
        "network-concurrency",
        "child-concurrency",
    ],
);

/// `gem install` (rubygems' install, local/remote and common options).
const GEM: OptSpec = OptSpec {
    short: &['v', 'i', 'n', 'P', 'B', 's'],
    long: &[
        "platform",
        "version",
        "install-dir",
        "bindir",
        "build-root",
        "trust-policy",
        "without",
        "bulk-threshold",
        "source",
        "config-file",
    ],
    placed_short: &['g', 'p'],
    placed_long: &["document", "file", "http-proxy", "target-rbconfig"],
    dashdash_ends: true,
};

/// npm's `install` and its abbreviations and misspellings (npm's command aliases), and `add`.
const NPM_INSTALL: &[&str] = &[
    "install", "i", "add", "in", "ins", "inst", "insta", "instal", "isnt", "isnta", "isntal",
    "isntall",
];

/// What one word of a command line is (with an option's separate argument).
enum Item<'c> {
    /// One option, or the options of a cluster (`-qy`).
    Opts(Vec<Opt<'c>>),
    Operand(&'c Word),
    /// `--` that ends the operands.
    End,
}

/// Reads the item at `*i` and moves past it (and past an option's separate argument).
fn next_item<'c>(words: &'c [Word], i: &mut usize, spec: &OptSpec) -> Option<Item<'c>> {
    let w = words.get(*i)?;
    *i += 1;
    let v = w.value.as_str();
    let next_value = |i: &mut usize, placed: bool| -> Option<&'c str> {
        let n = words.get(*i)?;
        if placed && n.value.starts_with('-') {
            return None;
        }
        *i += 1;
        Some(n.value.as_str())
    };
    let one = |name: String, value: Option<&'c str>| Item::Opts(vec![Opt { name, value }]);
    if v == "--" {
        return Some(if spec.dashdash_ends {
            Item::End
        } else {
            one("--".to_string(), None)
        });
    }
    if let Some(long) = v.strip_prefix("--") {
        let (name, attached) = match long.split_once('=') {
            Some((n, a)) => (n, Some(a)),
            None => (long, None),
        };
        let value = match attached {
            Some(a) => Some(a),
            None if spec.long.contains(&name) => next_value(i, false),
            None if spec.placed_long.contains(&name) => next_value(i, true),
            None => None,
        };
        return Some(one(format!("--{name}"), value));
    }
    let Some(cluster) = v.strip_prefix('-').filter(|c| !c.is_empty()) else {
        return Some(Item::Operand(w));
    };
    // a cluster of short options: the first that takes an argument takes the rest of the word,
    // or the next word
    let mut opts = Vec::new();
    for (at, c) in cluster.char_indices() {
        let required = spec.short.contains(&c);
        if required || spec.placed_short.contains(&c) {
            let rest = cluster.get(at + c.len_utf8()..).unwrap_or("");
            let value = if rest.is_empty() {
                next_value(i, !required)
            } else {
                Some(rest)
            };
            opts.push(Opt {
                name: format!("-{c}"),
                value,
            });
            break;
        }
        opts.push(Opt {
            name: format!("-{c}"),
            value: None,
        });
    }
    Some(Item::Opts(opts))
}

/// Reads `words`: options (kept in `options`) up to the first operand, which is returned with
/// the index after it; `None` when there is no operand (or `--` ends them first).
fn first_operand<'c>(
    words: &'c [Word],
    i: &mut usize,
    spec: &OptSpec,
    options: &mut Vec<Opt<'c>>,
) -> Option<&'c Word> {
    while let Some(item) = next_item(words, i, spec) {
        match item {
            Item::Opts(o) => options.extend(o),
            Item::Operand(w) => return Some(w),
            Item::End => return None,
        }
    }
    None
}

/// The operands from `*i` on (options kept in `options`), up to the end or `--`.
fn operands<'c>(
    words: &'c [Word],
    i: &mut usize,
    spec: &OptSpec,
    options: &mut Vec<Opt<'c>>,
) -> Vec<&'c Word> {
    let mut out = Vec::new();
    while let Some(item) = next_item(words, i, spec) {
        match item {
            Item::Opts(o) => options.extend(o),
            Item::Operand(w) if w.value != "-" => out.push(w),
            Item::Operand(_) => {}
            Item::End => break,
        }
    }
    out
}

/// The subcommand of an apt front end (`apt-get`, `apt`, `aptitude`; wrappers looked through):
/// its first operand, options and their arguments read as apt reads them (`apt-get -qq update`,
/// `apt-get -o Acquire::Retries=3 update`, `apt -t bookworm-backports install`).
pub fn apt_subcommand(cmd: &Command) -> Option<&str> {
    let spec = match cmd.program()? {
        "apt-get" | "apt" => &APT,
        "aptitude" => &APTITUDE,
        _ => return None,
    };
    let mut i = 0usize;
    first_operand(cmd.args(), &mut i, spec, &mut Vec::new()).map(|w| w.value.as_str())
}

/// `pip`, `pip3`, `pip3.12`.
fn is_pip(prog: &str) -> bool {
    prog.strip_prefix("pip")
        .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// `python`, `python3`, `python3.12`.
fn is_python(prog: &str) -> bool {
    prog.strip_prefix("python")
        .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// The install a command runs, if it runs one: `apt-get install`, `apk add`, `dnf install`,
/// `dnf module install`, `zypper install`, `pip install`, `python -m pip install`, `pipx
/// install`, `npm install`/`i`/`add`, `yarn add`, `yarn global add`, `pnpm add`, `gem install`, `go install`, `go get`, `go run`.
/// Wrappers (`sudo`, `env`, …) are looked through ([`Command::program`]).
pub fn install_of(cmd: &Command) -> Option<Install<'_>> {
    let prog = cmd.program()?;
    let args = cmd.args();
    let (manager, spec, after, verbs): (Manager, &OptSpec, &OptSpec, &[&str]) = match prog {
        "apt-get" | "apt" => (Manager::Apt, &APT, &APT, &["install"]),
        "aptitude" => (Manager::Apt, &APTITUDE, &APTITUDE, &["install"]),
        "apk" => (Manager::Apk, &APK, &APK, &["add"]),
        "yum" | "dnf" | "dnf5" | "microdnf" | "tdnf" => {
            return rpm_install(prog, args);
        }
        "zypper" => (
            Manager::Zypper,
            &ZYPPER_GLOBAL,
            &ZYPPER_INSTALL,
            &["install", "in"],
        ),
        "gem" => (Manager::Gem, &GEM, &GEM, &["install", "i"]),
        "npm" => (Manager::Npm, &NPM, &NPM, NPM_INSTALL),
        "pnpm" => (Manager::Npm, &PNPM, &PNPM, &["add"]),
        "yarn" => return yarn_add(args),
        "go" => return go_install(args),
        "pipx" => (Manager::Pip, &PIPX, &PIPX, &["install"]),
        p if is_pip(p) => (Manager::Pip, &PIP, &PIP, &["install"]),
        p if is_python(p) => return python_m_pip(p, args),
        _ => return None,
    };
    let mut options = Vec::new();
    let mut i = 0usize;
    let verb = first_operand(args, &mut i, spec, &mut options)?;
    if !verbs.contains(&verb.value.as_str()) {
        return None;
    }
    let packages = operands(args, &mut i, after, &mut options);
    Some(Install {
        manager,
        program: prog.to_string(),
        module: false,
        options,
        packages,
    })
}

/// `yum`/`dnf`/`microdnf`/`tdnf` `install`/`in`/`localinstall`, or `module install`.
fn rpm_install<'c>(prog: &str, args: &'c [Word]) -> Option<Install<'c>> {
    let mut options = Vec::new();
    let mut i = 0usize;
    let verb = first_operand(args, &mut i, &RPM, &mut options)?;
    let module = match verb.value.as_str() {
        "install" | "in" | "localinstall" => false,
        "module" => {
            let sub = first_operand(args, &mut i, &RPM, &mut options)?;
            if sub.value != "install" {
                return None;
            }
            true
        }
        _ => return None,
    };
    let packages = operands(args, &mut i, &RPM, &mut options);
    Some(Install {
        manager: Manager::Rpm,
        program: if module {
            format!("{prog} module install")
        } else {
            prog.to_string()
        },
        module,
        options,
        packages,
    })
}

/// The flags of `go install` (the build flags) that take a value; the others are booleans
/// (`-v`, `-x`, `-a`, `-race`, `-trimpath`, `-buildvcs=false`, …).
const GO_VALUE_FLAGS: &[&str] = &[
    "C",
    "o",
    "p",
    "asmflags",
    "buildmode",
    "compiler",
    "gccgoflags",
    "gcflags",
    "installsuffix",
    "ldflags",
    "mod",
    "modfile",
    "overlay",
    "pgo",
    "pkgdir",
    "tags",
    "toolexec",
    "covermode",
    "coverpkg",
];

/// `go install …`, `go get …` and `go run …` (program `go install`, …): Go's flag package reads
/// `-name` and `--name` alike, `-name=value` or `-name value` for a flag with a value, and stops
/// at `--` or the first operand.
fn go_install(args: &[Word]) -> Option<Install<'_>> {
    let verb = args.first()?.value.as_str();
    if !matches!(verb, "install" | "get" | "run") {
        return None;
    }
    let mut options = Vec::new();
    let mut i = 1usize;
    while let Some(w) = args.get(i) {
        let v = w.value.as_str();
        if v == "--" {
            i += 1;
            break;
        }
        let Some(flag) = v.strip_prefix("--").or_else(|| v.strip_prefix('-')) else {
            break;
        };
        if flag.is_empty() {
            break;
        }
        i += 1;
        let (name, attached) = match flag.split_once('=') {
            Some((n, val)) => (n, Some(val)),
            None => (flag, None),
        };
        let value = match attached {
            Some(val) => Some(val),
            None if GO_VALUE_FLAGS.contains(&name) => {
                i += 1;
                args.get(i - 1).map(|w| w.value.as_str())
            }
            None => None,
        };
        options.push(Opt {
            name: format!("-{name}"),
            value,
        });
    }
    Some(Install {
        manager: Manager::Go,
        program: format!("go {verb}"),
        module: false,
        options,
        // `go run PKG ARGS…`: what follows the package is the program's
        packages: args
            .get(i..)
            .unwrap_or(&[])
            .iter()
            .take(if verb == "run" { 1 } else { usize::MAX })
            .collect(),
    })
}

/// `yarn add` and `yarn global add`.
fn yarn_add(args: &[Word]) -> Option<Install<'_>> {
    let mut options = Vec::new();
    let mut i = 0usize;
    let mut verb = first_operand(args, &mut i, &YARN, &mut options)?;
    if verb.value == "global" {
        verb = first_operand(args, &mut i, &YARN, &mut options)?;
    }
    if verb.value != "add" {
        return None;
    }
    let packages = operands(args, &mut i, &YARN, &mut options);
    Some(Install {
        manager: Manager::Npm,
        program: "yarn".to_string(),
        module: false,
        options,
        packages,
    })
}

/// `python -m pip install …` (python's own options first: `-W arg`, `-X opt`; `-c` runs code).
fn python_m_pip<'c>(prog: &str, args: &'c [Word]) -> Option<Install<'c>> {
    let mut i = 0usize;
    let mut module = None;
    while let Some(w) = args.get(i) {
        i += 1;
        let v = w.value.as_str();
        match v {
            "-m" => {
                module = args.get(i).map(|m| m.value.as_str());
                i += 1;
                break;
            }
            "-W" | "-X" => i += 1,
            _ if v.starts_with("-m") => {
                module = v.get(2..);
                break;
            }
            _ if v.starts_with('-') && !v.contains('c') => {}
            _ => return None,
        }
    }
    if module != Some("pip") {
        return None;
    }
    let rest = args.get(i..)?;
    let mut options = Vec::new();
    let mut j = 0usize;
    let verb = first_operand(rest, &mut j, &PIP, &mut options)?;
    if verb.value != "install" {
        return None;
    }
    let packages = operands(rest, &mut j, &PIP, &mut options);
    Some(Install {
        manager: Manager::Pip,
        program: format!("{prog} -m pip"),
        module: false,
        options,
        packages,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dockerfile::shell;

    /// `(program, packages, options)` of the install in `text`.
    fn install(text: &str) -> Option<(String, Vec<String>, Vec<String>)> {
        let script = shell::parse(text);
        let mut out = None;
        script.for_each_command(&mut |c| {
            if let Some(i) = install_of(c) {
                out = Some((
                    i.program.clone(),
                    i.packages.iter().map(|w| w.value.clone()).collect(),
                    i.options
                        .iter()
                        .map(|o| match o.value {
                            Some(v) => format!("{}={v}", o.name),
                            None => o.name.clone(),
                        })
                        .collect(),
                ));
            }
        });
        out
    }

    fn packages(text: &str) -> Vec<String> {
        install(text).map(|(_, p, _)| p).unwrap_or_default()
    }

    #[test]
    fn options_and_their_arguments_are_not_packages() {
        assert_eq!(
            packages(
                "apt-get -o Dpkg::Options::=--force-confold install -y -t bookworm-backports curl"
            ),
            ["curl"]
        );
        assert_eq!(
            packages("apt-get install -qqy --no-install-recommends a b"),
            ["a", "b"]
        );
        assert_eq!(
            packages("apk add --virtual .deps -X https://r gcc"),
            ["gcc"]
        );
        assert_eq!(
            packages("apk add -t.deps --repository=https://r gcc"),
            ["gcc"]
        );
        assert_eq!(
            packages("dnf --setopt install_weak_deps=False -y install --enablerepo x tar"),
            ["tar"]
        );
        assert_eq!(
            packages("zypper -n --root /r install -y -t package git"),
            ["git"]
        );
        assert_eq!(
            packages("pip install --no-cache-dir -i https://x --root-user-action ignore flask"),
            ["flask"]
        );
        assert_eq!(
            packages("npm --prefix /app install --registry https://r -g x"),
            ["x"]
        );
        assert_eq!(
            packages("gem install -N --source https://r -g Gemfile rails -- --with-x=1 y"),
            ["rails"]
        );
        // a placed argument is not the next option
        assert_eq!(packages("gem install -p --no-document rails"), ["rails"]);
    }

    #[test]
    fn subcommands() {
        assert!(install("apt-get update").is_none());
        assert!(install("apt-get -y install").is_some_and(|(_, p, _)| p.is_empty()));
        assert!(install("apk del x").is_none());
        assert!(install("npm ci").is_none());
        assert!(install("npm run install").is_none());
        assert!(install("dnf group install x").is_none());
        assert!(install("pnpm install x").is_none());
        assert_eq!(
            install("dnf -y module install nodejs:18").map(|(p, ..)| p),
            Some("dnf module install".to_string())
        );
        assert_eq!(packages("yarn global add x"), ["x"]);
        assert_eq!(packages("npm i -D x"), ["x"]);
        assert_eq!(packages("sudo -E pip3 install x"), ["x"]);
        assert_eq!(packages("/usr/local/bin/pip3.12 install x"), ["x"]);
        assert_eq!(
            install("python3 -u -m pip install -U pip").map(|(p, k, _)| (p, k)),
            Some(("python3 -m pip".to_string(), vec!["pip".to_string()]))
        );
        assert_eq!(packages("python -mpip install x"), ["x"]);
        assert!(install("python -c 'import pip' install x").is_none());
        assert!(install("python -m venv install").is_none());
        assert!(install("pipenv install x").is_none());
    }

    #[test]
    fn options_are_kept() {
        let (_, _, opts) = install("gem install rails -v 7.1").unwrap();
        assert_eq!(opts, ["-v=7.1"]);
        let (_, _, opts) = install("pip install -qr req.txt").unwrap();
        assert_eq!(opts, ["-q", "-r=req.txt"]);
    }
}
