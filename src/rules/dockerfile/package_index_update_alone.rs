use crate::dockerfile::analysis::{self, Located};
use crate::dockerfile::model::{Dockerfile, Keyword};
use crate::dockerfile::packages;
use crate::dockerfile::semantics;
use crate::dockerfile::shell::Command;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};
use crate::source::Span;

/// SLD050: `apt-get update` in a `RUN` of its own, whose cached index a later `RUN` installs from.
pub struct PackageIndexUpdateAlone;

/// Subcommands that read the package index to fetch packages (apt-get, apt and aptitude).
const CONSUMERS: &[&str] = &[
    "install",
    "reinstall",
    "upgrade",
    "dist-upgrade",
    "full-upgrade",
    "safe-upgrade",
    "build-dep",
    "satisfy",
    "download",
    "source",
];

/// What one command does to the apt index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    /// `apt-get update`: the span from the program word to the last word.
    Update,
    /// `apt-get install …` and the other subcommands that read the index.
    Consume,
    /// `rm -rf /var/lib/apt/lists/*`: no index is left to install from.
    Clear,
}

fn action(cmd: &Command) -> Option<Action> {
    // the apt front ends share `/var/lib/apt/lists`, and none refreshes it on its own
    if let Some(sub) = packages::apt_subcommand(cmd) {
        if sub == "update" {
            return Some(Action::Update);
        }
        return CONSUMERS.contains(&sub).then_some(Action::Consume);
    }
    let clears = cmd.program()? == "rm"
        && cmd.args().iter().any(|w| {
            w.value
                .strip_prefix("/var/lib/apt/lists")
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        });
    clears.then_some(Action::Clear)
}

/// The index the next `RUN` would install from: the last `apt-get update` before it.
#[derive(Debug, Clone, Copy)]
struct Index {
    /// The update command: its number in the `updates` list of the check.
    update: usize,
    /// Its `RUN` installs nothing after it: the index was left for later `RUN`s.
    alone: bool,
}

/// An apt action of a `RUN`: what it does, the command from its program word to its last
/// word, and that command's words (for messages).
struct Step {
    action: Action,
    span: Span,
    shown: String,
}

/// One `RUN`'s apt actions, in the order they appear.
fn actions(df: &Dockerfile, run: &Located<'_>) -> Vec<Step> {
    let mut out = Vec::new();
    for (script, origin) in analysis::run_scripts(df, run) {
        script.for_each_command(&mut |cmd| {
            let Some(action) = action(cmd) else { return };
            let (Some(at), Some(last)) = (cmd.program_index(), cmd.words.last()) else {
                return;
            };
            let words = cmd.words.get(at..).unwrap_or_default();
            let Some(first) = words.first() else { return };
            let shown = words
                .iter()
                .map(|w| w.value.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            out.push(Step {
                action,
                span: origin.span(first.start, last.end.max(first.end)),
                shown: analysis::snippet(&shown, 60),
            });
        });
    }
    out.sort_by_key(|s| s.span.start);
    out
}

impl Rule for PackageIndexUpdateAlone {
    fn meta(&self) -> &'static RuleMeta {
        docs::PACKAGE_INDEX_UPDATE_ALONE
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        // `ONBUILD RUN` triggers run in another build: only this build's own RUNs are layers here
        let runs: Vec<Located<'_>> = analysis::instructions_of(df, Keyword::Run)
            .into_iter()
            .filter(|r| !r.onbuild)
            .collect();
        // the index left at the end of each stage, which a stage built `FROM` it starts with
        let mut at_end: Vec<Option<Index>> = Vec::with_capacity(df.stages.len());
        // every update command, and the first later install that reads its index
        let mut updates: Vec<(Step, Option<Step>)> = Vec::new();
        let mut next_run = 0usize;
        for stage in &df.stages {
            let mut index = semantics::parent_stage(df, stage)
                .and_then(|p| at_end.get(p.index).copied().flatten());
            while let Some(run) = runs.get(next_run) {
                if !stage.instructions.contains(&run.index) {
                    if run.index < stage.instructions.start {
                        next_run += 1; // a RUN before the first FROM (a parse error)
                        continue;
                    }
                    break;
                }
                next_run += 1;
                let mut updated_here = false;
                for step in actions(df, run) {
                    match step.action {
                        Action::Update => {
                            index = Some(Index {
                                update: updates.len(),
                                alone: true,
                            });
                            updates.push((step, None));
                            updated_here = true;
                        }
                        Action::Consume if updated_here => {
                            if let Some(i) = index.as_mut() {
                                i.alone = false;
                            }
                        }
                        Action::Consume => {
                            if let Some(i) = index.filter(|i| i.alone)
                                && let Some((_, reader @ None)) = updates.get_mut(i.update)
                            {
                                *reader = Some(step);
                            }
                        }
                        Action::Clear => index = None,
                    }
                }
            }
            at_end.push(index);
        }
        let file = cx.file().clone();
        for (update, reader) in updates {
            let Some(install) = reader else { continue };
            cx.report(
                update.span,
                format!(
                    "`{}` runs in a `RUN` of its own: a later `RUN` installs from its cached index",
                    update.shown
                ),
            )
            .help("update in the same `RUN` as the install that needs it: `RUN apt-get update && apt-get install -y …`")
            .label(&file, install.span, format!("`{}` reads that index", install.shown));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::{findings, spans};

    const R: &str = "package-index-update-alone";

    #[test]
    fn message_and_span() {
        assert_eq!(
            findings(
                R,
                "FROM debian:12\nRUN apt-get update\nRUN apt-get install -y curl\n"
            ),
            vec![(
                "SLD050",
                "2:5-2:19".to_string(),
                "`apt-get update` runs in a `RUN` of its own: a later `RUN` installs from its cached index"
                    .to_string()
            )]
        );
        let d = crate::rules::dockerfile::test_util::diagnostics(
            R,
            "FROM debian:12\nRUN apt-get update\nRUN apt-get install -y curl\n",
        );
        assert_eq!(
            d[0].labels
                .iter()
                .map(|l| l.message.as_str())
                .collect::<Vec<_>>(),
            ["`apt-get install -y curl` reads that index"]
        );
    }

    #[test]
    fn flagged() {
        for (text, want) in [
            (
                "FROM debian:12\nRUN apt-get -qq update\nRUN apt-get install -y curl\n",
                "apt-get -qq update",
            ),
            (
                "FROM debian:12\nRUN apt-get -o Acquire::Retries=3 update\nRUN apt-get install -y curl\n",
                "apt-get -o Acquire::Retries=3 update",
            ),
            (
                "FROM ubuntu:24.04\nRUN apt update\nRUN apt install -y curl\n",
                "apt update",
            ),
            (
                "FROM ubuntu:24.04\nRUN sudo apt-get update\nRUN apt-get upgrade -y\n",
                "apt-get update",
            ),
            (
                "FROM debian:12\nRUN aptitude update\nRUN aptitude install -y curl\n",
                "aptitude update",
            ),
            (
                "FROM debian:12\nRUN sh -c 'apt-get update'\nRUN apt-get install -y curl\n",
                "apt-get update",
            ),
            (
                "FROM debian:12\nRUN <<EOF\nset -e\napt-get update\nEOF\nRUN apt-get install -y curl\n",
                "apt-get update",
            ),
            (
                "FROM debian:12\nRUN [\"apt-get\", \"update\"]\nRUN apt-get install -y curl\n",
                "\"apt-get\", \"update\"",
            ),
            // the update after an install is left for the next RUN
            (
                "FROM debian:12\nRUN apt-get install -y ca-certificates && apt-get update\nRUN apt-get install -y curl\n",
                "apt-get update",
            ),
            // a stage built FROM the updating stage installs from its index
            (
                "FROM debian:12 AS base\nRUN apt-get update\nFROM base\nRUN apt-get install -y curl\n",
                "apt-get update",
            ),
        ] {
            assert_eq!(spans(R, text), vec![want.to_string()], "{text}");
        }
    }

    #[test]
    fn one_finding_per_update_at_the_nearest_update() {
        let text = "FROM debian:12\nRUN apt-get update\nRUN apt-get update\nRUN apt-get install -y a\nRUN apt-get install -y b\n";
        assert_eq!(
            findings(R, text)
                .iter()
                .map(|f| f.1.as_str())
                .collect::<Vec<_>>(),
            ["3:5-3:19"]
        );
    }

    #[test]
    fn not_flagged() {
        for text in [
            // combined, as Docker recommends
            "FROM debian:12\nRUN apt-get update && apt-get install -y curl\n",
            "FROM debian:12\nRUN apt-get update; apt-get -y upgrade\n",
            // the later RUN updates again before installing
            "FROM debian:12\nRUN apt-get update\nRUN apt-get update && apt-get install -y curl\n",
            // nothing installs later: pointless, but nothing reads the stale index
            "FROM debian:12\nRUN apt-get update\nCMD [\"bash\"]\n",
            // the lists are removed before the install (it fails; it cannot install stale)
            "FROM debian:12\nRUN apt-get update\nRUN rm -rf /var/lib/apt/lists/*\nRUN apt-get install -y curl\n",
            // another stage, not built on the updating one
            "FROM debian:12 AS a\nRUN apt-get update\nFROM debian:12\nRUN apt-get install -y curl\n",
            // apt-cache and dpkg read no remote index
            "FROM debian:12\nRUN apt-get update\nRUN apt-cache policy curl && dpkg -i /tmp/x.deb\n",
            // an ONBUILD trigger runs in another build
            "FROM debian:12\nONBUILD RUN apt-get update\nRUN apt-get install -y curl\n",
            "FROM debian:12\nRUN apt-get update\nONBUILD RUN apt-get install -y curl\n",
            // the word `update` as a package or an argument elsewhere
            "FROM debian:12\nRUN echo apt-get update\nRUN apt-get install -y update\n",
            // other package managers refresh their metadata themselves
            "FROM alpine:3.20\nRUN apk update\nRUN apk add curl\n",
            "FROM fedora:40\nRUN dnf makecache\nRUN dnf install -y curl\n",
        ] {
            assert_eq!(spans(R, text), Vec::<String>::new(), "{text}");
        }
    }

    #[test]
    fn hostile_input_is_linear_and_safe() {
        let mut text = String::from("FROM debian:12\n");
        for _ in 0..2000 {
            text.push_str("RUN apt-get update\nRUN apt-get install -y x\n");
        }
        assert_eq!(spans(R, &text).len(), 2000);
        assert!(spans(R, "RUN apt-get update\nFROM a\nRUN apt-get install x\n").is_empty());
        assert!(spans(R, "FROM a\nRUN apt-get -o\nRUN apt-get\n").is_empty());
    }
}
