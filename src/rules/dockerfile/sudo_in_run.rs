use crate::dockerfile::analysis;
use crate::dockerfile::model::Dockerfile;
use crate::dockerfile::shell;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};
use crate::source::Span;

/// SLD007: `sudo` in a `RUN` command.
pub struct SudoInRun;

impl Rule for SudoInRun {
    fn meta(&self) -> &'static RuleMeta {
        docs::SUDO_IN_RUN
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        let mut found: Vec<(Span, String)> = Vec::new();
        analysis::for_each_run_command(df, &mut |_, cmd, origin| {
            let end = cmd.program_index().unwrap_or(cmd.words.len());
            let Some(sudo) = cmd
                .words
                .iter()
                .take(end)
                .find(|w| shell::basename(&w.value) == "sudo")
            else {
                return;
            };
            let what = cmd.program().map_or_else(
                || "`sudo`".to_string(),
                |p| format!("`sudo` runs `{}`", analysis::snippet(p, 40)),
            );
            found.push((origin.word(sudo), what));
        });
        for (span, what) in found {
            cx.report(span, format!("{what} in a `RUN` instruction")).help(
                "remove `sudo`: use `USER root` for the steps that need root, then switch back to a non-root `USER`",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::{findings, spans};

    const R: &str = "sudo-in-run";

    #[test]
    fn flags_sudo() {
        assert_eq!(
            findings(R, "FROM ubuntu:24.04\nRUN sudo apt-get update\n"),
            vec![(
                "SLD007",
                "2:5-2:9".to_string(),
                "`sudo` runs `apt-get` in a `RUN` instruction".to_string()
            )]
        );
        for (text, n) in [
            (
                "FROM a:1\nRUN apt-get update && /usr/bin/sudo -E make install\n",
                1,
            ),
            ("FROM a:1\nRUN sh -c 'sudo -u app id'\n", 1),
            ("FROM a:1\nONBUILD RUN sudo true\n", 1),
            ("FROM a:1\nRUN <<EOF\nset -e\nsudo true\nEOF\n", 1),
            ("FROM a:1\nRUN [\"sudo\", \"make\"]\n", 1),
        ] {
            assert_eq!(spans(R, text).len(), n, "{text}");
        }
    }

    #[test]
    fn not_flagged() {
        for text in [
            "FROM a:1\nRUN apt-get install -y sudo\n",
            "FROM a:1\nRUN echo 'app ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/app\n",
            "FROM a:1\nRUN echo sudo\n",
        ] {
            assert_eq!(spans(R, text), Vec::<String>::new(), "{text}");
        }
    }
}
