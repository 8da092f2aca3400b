use crate::dockerfile::analysis;
use crate::dockerfile::edit::{self, TextEdit};
use crate::dockerfile::model::{Dockerfile, Keyword};
use crate::dockerfile::semantics;
use crate::dockerfile::shell::{Command, Element, Redirect, Script, Word};
use crate::docs::{self, RuleMeta};
use crate::fix::Applicability;
use crate::rules::{Ctx, Rule};
use crate::source::Span;

use crate::dockerfile::analysis::Located;

/// SLD020: a pipeline in a shell-form `RUN` while `pipefail` is off.
pub struct PipeWithoutPipefail;

const MAX_DEPTH: u32 = 32;

/// The options turn `pipefail` on (`Some(true)`), off (`Some(false)`), or leave it alone:
/// `-o pipefail`, `-euo pipefail`, `+o pipefail`.
fn pipefail_option<'w>(args: impl IntoIterator<Item = &'w str>) -> Option<bool> {
    let args: Vec<&str> = args.into_iter().collect();
    let mut state = None;
    for (i, a) in args.iter().enumerate() {
        let (on, cluster) = match (a.strip_prefix('-'), a.strip_prefix('+')) {
            (Some(c), _) if !c.starts_with('-') => (true, c),
            (_, Some(c)) => (false, c),
            _ => continue,
        };
        if cluster.ends_with('o') && args.get(i + 1) == Some(&"pipefail") {
            state = Some(on);
        }
    }
    state
}

/// The `SHELL` in force for this `RUN` sets `-o pipefail`.
fn shell_has_pipefail(df: &Dockerfile, run: &Located<'_>) -> bool {
    analysis::shell_in_force(df, run).is_some_and(|sh| {
        pipefail_option(sh.words().iter().map(|w| w.value.as_str())) == Some(true)
    })
}

fn word_values(words: &[Word]) -> impl Iterator<Item = &str> {
    words.iter().map(|w| w.value.as_str())
}

/// Whether a command feeding a pipe can fail in a way `pipefail` would catch (`echo`, `printf`,
/// `yes`, `true` cannot usefully).
fn may_fail(c: &Command) -> bool {
    !matches!(c.program(), Some("echo" | "printf" | "yes" | "true" | ":"))
}

/// Ranges of pipelines that run while `pipefail` is off.
fn walk(script: &Script, pipefail: &mut bool, out: &mut Vec<(u32, u32)>, depth: u32) {
    if depth > MAX_DEPTH {
        return;
    }
    for p in &script.pipelines {
        let upstream = p.elements.split_last().map_or(&[][..], |(_, u)| u);
        let can_fail = upstream.iter().any(|el| match el {
            Element::Simple(c) => may_fail(c),
            // `while true; do echo y; done | installer` is `yes | installer`
            Element::Group { script, .. } => script.any_command(&may_fail),
        });
        if p.elements.len() > 1 && !*pipefail && can_fail {
            out.push((p.start, p.end));
        }
        for el in &p.elements {
            match el {
                Element::Simple(c) => walk_command(c, pipefail, out, depth),
                Element::Group {
                    script,
                    subshell,
                    redirects,
                    ..
                } => {
                    if *subshell {
                        let mut inner = *pipefail;
                        walk(script, &mut inner, out, depth + 1);
                    } else {
                        walk(script, pipefail, out, depth + 1);
                    }
                    walk_redirects(redirects, *pipefail, out, depth);
                }
            }
        }
    }
}

/// Process substitutions in redirections (`done < <(ls | sort)`) run with the same options.
fn walk_redirects(redirects: &[Redirect], pipefail: bool, out: &mut Vec<(u32, u32)>, depth: u32) {
    for target in redirects.iter().filter_map(|r| r.target.as_ref()) {
        for s in &target.substitutions {
            let mut inner = pipefail;
            walk(&s.script, &mut inner, out, depth + 1);
        }
    }
}

fn walk_command(c: &Command, pipefail: &mut bool, out: &mut Vec<(u32, u32)>, depth: u32) {
    // Substitutions run in subshells that inherit the options.
    for w in c.assignments.iter().chain(&c.words) {
        for s in &w.substitutions {
            let mut inner = *pipefail;
            walk(&s.script, &mut inner, out, depth + 1);
        }
    }
    walk_redirects(&c.redirects, *pipefail, out, depth);
    if c.shell_c_script().is_some() {
        // A new shell: only its own options count.
        let mut inner = pipefail_option(word_values(c.args())) == Some(true);
        if let Some(script) = c.inline_scripts().first() {
            walk(script, &mut inner, out, depth + 1);
        }
    } else if c.program() == Some("eval") {
        for s in c.inline_scripts() {
            walk(s, pipefail, out, depth + 1);
        }
    }
    if c.program() == Some("set")
        && let Some(on) = pipefail_option(word_values(c.args()))
    {
        *pipefail = on;
    }
}

/// The images whose shell is BusyBox `ash` (no bash): the `SHELL` a fix inserts runs `/bin/ash`.
fn ash_image(image: &str) -> bool {
    let name = image.rsplit('/').next().unwrap_or(image);
    let name = name
        .split([':', '@'])
        .next()
        .unwrap_or(name)
        .to_ascii_lowercase();
    matches!(name.as_str(), "alpine" | "busybox")
}

/// The stages offered a `SHELL` by a fix, and whether an ancestor of a stage was: a `SHELL`
/// reaches every stage built on its stage. Ancestors come first in the file, so their offers
/// are all made when a descendant is asked about; each stage's answer is computed once
/// (linear in the stages, however long the chains).
struct Offers {
    offered: Vec<bool>,
    ancestor: Vec<Option<bool>>,
}

impl Offers {
    fn new(stages: usize) -> Self {
        Self {
            offered: vec![false; stages],
            ancestor: vec![None; stages],
        }
    }

    fn covered(&mut self, df: &Dockerfile, stage: usize) -> bool {
        if self.offered.get(stage).copied().unwrap_or(true) {
            return true;
        }
        // walk up to a stage whose answer is known (or the root), then fill the chain down
        let mut chain = vec![stage];
        let mut above = false;
        while let Some(&s) = chain.last() {
            if let Some(k) = self.ancestor.get(s).copied().flatten() {
                chain.pop();
                above = k || self.offered.get(s).copied().unwrap_or(false);
                break;
            }
            match df
                .stages
                .get(s)
                .and_then(|st| semantics::parent_stage(df, st))
            {
                Some(parent) if parent.index < s => chain.push(parent.index),
                _ => break,
            }
        }
        // `chain` runs from the stage up to the root, or to below a stage whose answer is known
        while let Some(s) = chain.pop() {
            if let Some(slot) = self.ancestor.get_mut(s) {
                *slot = Some(above);
            }
            above = above || self.offered.get(s).copied().unwrap_or(false);
        }
        self.ancestor.get(stage).copied().flatten().unwrap_or(false)
    }
}

/// The fix: `SHELL ["/bin/bash", "-o", "pipefail", "-c"]` (`/bin/ash` on an Alpine or BusyBox
/// base) on a line of its own before the first flagged `RUN` of a stage that has no `SHELL` in
/// force; `None` for an `ONBUILD` trigger, a `RUN` not at the start of its line, or a stage
/// already offered one (itself or an ancestor).
fn shell_fix(
    df: &Dockerfile,
    run: &Located<'_>,
    text: &str,
    offers: &mut Offers,
) -> Option<(String, TextEdit)> {
    let stage = run.stage?;
    if run.onbuild || offers.covered(df, stage.index) || analysis::shell_in_force(df, run).is_some()
    {
        return None;
    }
    let root = semantics::root_stage(df, stage);
    let sh = if ash_image(&root.image.value) {
        "/bin/ash"
    } else {
        "/bin/bash"
    };
    let keyword = edit::keyword_in_case_of(run.ins, "SHELL");
    let line = format!("{keyword} [\"{sh}\", \"-o\", \"pipefail\", \"-c\"]");
    let edit = edit::insert_line_before(text, run.ins, &line)?;
    if let Some(o) = offers.offered.get_mut(stage.index) {
        *o = true;
    }
    Some((line, edit))
}

impl Rule for PipeWithoutPipefail {
    fn meta(&self) -> &'static RuleMeta {
        docs::PIPE_WITHOUT_PIPEFAIL
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        let file = cx.file().clone();
        // one `SHELL` per stage: the first flagged `RUN` offers it, it fixes the later ones
        let mut offers = Offers::new(df.stages.len());
        for run in analysis::instructions_of(df, Keyword::Run) {
            // Exec form runs no shell.
            if run.ins.args.is_exec() {
                continue;
            }
            let from_shell = shell_has_pipefail(df, &run);
            let mut first: Option<Span> = None;
            // a `SHELL` with pipefail fixes the pipelines of the RUN's own shell, not those of an
            // inner `sh -c` or a heredoc script run by its `#!` line
            let mut shell_fixes =
                !(run.ins.heredocs.iter()).any(|h| h.body.value.starts_with("#!"));
            for (script, origin) in analysis::run_scripts(df, &run) {
                let mut ranges = Vec::new();
                let mut state = from_shell;
                walk(script, &mut state, &mut ranges, 0);
                if let Some(&(s, e)) = ranges.first() {
                    first.get_or_insert(origin.span(s, e));
                }
                let mut left = Vec::new();
                walk(script, &mut true, &mut left, 0);
                shell_fixes &= left.is_empty();
            }
            let Some(span) = first else { continue };
            let text = cx.text().get(span.range()).unwrap_or("");
            let message = format!(
                "pipeline `{}` runs without `set -o pipefail`",
                analysis::snippet(text, 50)
            );
            let fix = if shell_fixes {
                shell_fix(df, &run, &file.text, &mut offers)
            } else {
                None
            };
            let d = cx.report(span, message).help(
                "start the `RUN` with `set -o pipefail &&`, or set `SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]` (use `/bin/ash` on Alpine)",
            );
            if let Some((line, edit)) = fix {
                d.fix(super::fix_of(
                    &file,
                    Applicability::Unsafe,
                    format!("insert `{line}` before the `RUN`"),
                    [edit],
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::{findings, spans};

    const R: &str = "pipe-without-pipefail";

    #[test]
    fn message_and_span() {
        assert_eq!(
            findings(
                R,
                "FROM a:1\nRUN apk add curl && curl -fsSL https://x | tar -xz -C /opt\n"
            ),
            vec![(
                "SLD020",
                "2:21-2:59".to_string(),
                "pipeline `curl -fsSL https://x | tar -xz -C /opt` runs without `set -o pipefail`"
                    .to_string()
            )]
        );
    }

    #[test]
    fn flagged() {
        for (text, want) in [
            ("FROM a:1\nRUN a | b; c | d\n", "a | b"),
            ("FROM a:1\nRUN set -e && a | b\n", "a | b"),
            ("FROM a:1\nRUN a | b && set -o pipefail\n", "a | b"),
            (
                "FROM a:1\nRUN set -o pipefail; set +o pipefail; a | b\n",
                "a | b",
            ),
            ("FROM a:1\nRUN (set -o pipefail); a | b\n", "a | b"),
            ("FROM a:1\nRUN set -o pipefail; bash -c 'a | b'\n", "a | b"),
            ("FROM a:1\nRUN <<EOF\nset -e\na | b\nEOF\n", "a | b"),
            (
                "FROM a:1\nSHELL [\"/bin/bash\", \"-c\"]\nRUN a | b\n",
                "a | b",
            ),
            ("FROM a:1\nONBUILD RUN a | b\n", "a | b"),
            // compound commands pipe too
            (
                "FROM a:1\nRUN for f in *; do cat $f; done | sort\n",
                "for f in *; do cat $f; done | sort",
            ),
            (
                "FROM a:1\nRUN case $a in x|y) curl u | sh ;; esac\n",
                "curl u | sh",
            ),
            (
                "FROM a:1\nRUN while read l; do a; done < <(ls | sort)\n",
                "ls | sort",
            ),
            ("FROM a:1\nRUN diff <(a | b) c > >(d | e)\n", "a | b"),
        ] {
            assert_eq!(spans(R, text), vec![want.to_string()], "{text}");
        }
    }

    #[test]
    fn not_flagged() {
        for text in [
            "FROM a:1\nRUN set -o pipefail && a | b\n",
            "FROM a:1\nRUN set -euo pipefail; a | b\n",
            "FROM a:1\nRUN set -eux -o pipefail\nRUN a\n",
            "FROM a:1\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nRUN a | b\n",
            "FROM a:1 AS base\nSHELL [\"/bin/ash\", \"-eo\", \"pipefail\", \"-c\"]\nFROM base\nRUN a | b\n",
            "FROM a:1\nRUN [\"sh\", \"-c\", \"a | b\"]\n",
            "FROM a:1\nRUN bash -o pipefail -c 'a | b'\n",
            "FROM a:1\nRUN a || b\n",
            "FROM a:1\nRUN echo 'a | b'\n",
            "FROM a:1\nSHELL [\"pwsh\", \"-Command\"]\nRUN a | b\n",
            "FROM a:1\nRUN <<EOF\nset -o pipefail\na | b\nEOF\n",
            "FROM a:1\nRUN echo \"$SUM  /x.tgz\" | sha256sum -c - && yes | pecl install x\n",
            // a loop that only prints is `yes`; `case` patterns and `[[ ]]` have no pipes
            "FROM a:1\nRUN while true; do echo y; done | ./installer --licenses\n",
            "FROM a:1\nRUN case \"$arch\" in x86_64|aarch64) a ;; esac\n",
            "FROM a:1\nRUN if [[ $a =~ ^(x|y)$ ]]; then a; fi\n",
        ] {
            assert_eq!(spans(R, text), Vec::<String>::new(), "{text}");
        }
    }
}
