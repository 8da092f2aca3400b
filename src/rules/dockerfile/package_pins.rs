//! What the package-pinning rules (SLD043–SLD049) share: walking every install a `RUN` runs,
//! expanding a package word's `ARG`/`ENV` variables, and reporting each unpinned package at its
//! word. Each rule says which manager it judges and what counts as a pin there.

use std::collections::HashMap;

use crate::dockerfile::analysis;
use crate::dockerfile::model::Dockerfile;
use crate::dockerfile::packages::{self, Install, Manager};
use crate::dockerfile::semantics;
use crate::dockerfile::shell::{Command, Word};
use crate::rules::Ctx;
use crate::source::Span;

/// What a rule makes of one package operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Pinned (a version, a constraint, a file, a URL with a ref…): no finding.
    Pinned,
    /// Installed without a pin: a finding.
    Unpinned,
    /// Not a package this rule judges (a group, a removal, `-`).
    Skip,
}

/// One package-pinning rule: its manager, and its judgement.
pub(crate) trait Pins {
    /// The manager family whose installs the rule judges.
    fn manager(&self) -> Manager;

    /// Whether the operands of `install` are judged at all (`pip install -r req.txt x`: the
    /// requirements file may pin `x`; `gem install x -v 1`: the version option pins them).
    fn judged(&self, _install: &Install<'_>) -> bool {
        true
    }

    /// The verdict on one package operand, as the shell passes it (variables expanded).
    fn verdict(&self, install: &Install<'_>, package: &str) -> Verdict;

    /// What to do, for the finding's help.
    fn help(&self, install: &Install<'_>, package: &str) -> String;

    /// How the message ends: what is unpinned about an unpinned package.
    fn unpinned(&self, _install: &Install<'_>, _package: &str) -> &'static str {
        "without a version pin"
    }
}

/// A path to a local file or directory: `/x`, `./x`, `../x`, `~/x`, `.`.
pub(crate) fn is_path(package: &str) -> bool {
    package == "."
        || package == ".."
        || ["/", "./", "../", "~/"]
            .iter()
            .any(|p| package.starts_with(p))
}

/// `scheme://…`.
pub(crate) fn is_url(package: &str) -> bool {
    package.split_once("://").is_some_and(|(scheme, _)| {
        !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    })
}

/// Most shell variables a `RUN` is followed through (a bound on hostile scripts).
const MAX_SHELL_VARS: usize = 256;

/// Records the variables `cmd` assigns in the shell of its script: a command of assignments
/// only (`deps='curl git'`) and `export`/`declare`/`readonly`/`local`/`typeset NAME=value`. The
/// value is expanded with what is known before it; a value with a command substitution, or
/// one that does not expand, is unknown (a later `$deps` is then not judged).
fn remember_assignments(
    df: &Dockerfile,
    run: &analysis::Located<'_>,
    cmd: &Command,
    shell: &mut HashMap<String, Option<String>>,
) {
    let words: Vec<&Word> = if cmd.words.is_empty() {
        cmd.assignments.iter().collect()
    } else if matches!(
        cmd.program(),
        Some("export" | "declare" | "typeset" | "readonly" | "local")
    ) {
        analysis::env_assignments(cmd)
    } else {
        return;
    };
    for w in words {
        let Some((name, value)) = w.value.split_once('=') else {
            continue;
        };
        if shell.len() >= MAX_SHELL_VARS && !shell.contains_key(name) {
            continue;
        }
        let known = if w.substitutions.is_empty() {
            let set = |n: &str| shell.get(n).and_then(|v| v.as_deref());
            semantics::expand_with_shell(df, value, run.scope(), &set)
        } else {
            None
        };
        shell.insert(name.to_string(), known);
    }
}

/// Reports every unpinned package of the rule's manager in the `RUN`s of `df`.
pub(crate) fn check(rule: &dyn Pins, cx: &mut Ctx<'_>, df: &Dockerfile) {
    let mut found: Vec<(Span, String, String)> = Vec::new();
    // The shell variables the current `RUN` assigned so far (`deps='curl git' && apt-get
    // install $deps`), by name: the last assignment's value, `None` when it is not known.
    let mut shell: HashMap<String, Option<String>> = HashMap::new();
    let mut current_run = usize::MAX;
    analysis::for_each_run_command(df, &mut |run, cmd, origin| {
        if run.index != current_run {
            current_run = run.index;
            shell.clear();
        }
        let Some(install) = packages::install_of(cmd) else {
            remember_assignments(df, run, cmd, &mut shell);
            return;
        };
        if install.manager != rule.manager() || !rule.judged(&install) {
            return;
        }
        for word in &install.packages {
            // a command substitution's output is not known before the build
            if !word.substitutions.is_empty() {
                continue;
            }
            let written = word.value.as_str();
            let expanded = written.contains('$');
            let value = if expanded {
                // an unresolved variable (no default, a shell variable) is not judged
                let set = |name: &str| shell.get(name).and_then(|v| v.as_deref());
                match semantics::expand_with_shell(df, written, run.scope(), &set) {
                    Some(v) => v,
                    None => continue,
                }
            } else {
                written.to_string()
            };
            // an unquoted expansion is split into words by the shell
            let pieces: Vec<&str> = if expanded && !word.quoted {
                value.split_whitespace().collect()
            } else {
                vec![value.as_str()]
            };
            // options hidden in a variable (`$APT_OPTS`) may take the next piece as their
            // argument: such a word is not judged
            if expanded && pieces.iter().any(|p| p.starts_with('-')) {
                continue;
            }
            for piece in pieces {
                if piece.is_empty() || rule.verdict(&install, piece) != Verdict::Unpinned {
                    continue;
                }
                let shown = analysis::snippet(piece, 80);
                let message = if expanded {
                    format!(
                        "`{shown}` (from `{}`) is installed by {} {}",
                        analysis::snippet(written, 60),
                        install.program,
                        rule.unpinned(&install, piece)
                    )
                } else {
                    format!(
                        "`{shown}` is installed by {} {}",
                        install.program,
                        rule.unpinned(&install, piece)
                    )
                };
                found.push((origin.word(word), message, rule.help(&install, piece)));
            }
        }
    });
    found.sort_by(|a, b| (a.0.start, a.0.end, &a.1).cmp(&(b.0.start, b.0.end, &b.1)));
    found.dedup();
    for (span, message, help) in found {
        cx.report(span, message).help(help);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_urls() {
        for p in [".", "./x", "/tmp/x.deb", "../x", "~/x"] {
            assert!(is_path(p), "{p}");
        }
        for p in ["x", "x/y", ".deps", "~x"] {
            assert!(!is_path(p), "{p}");
        }
        assert!(is_url("git+https://x/y"));
        assert!(is_url("https://x"));
        assert!(!is_url("x==1 ://"));
        assert!(!is_url("://x"));
    }
}
