//! Dockerfile rules (`SLD###`).

mod add_instead_of_copy;
mod add_remote_without_checksum;
mod curl_pipe_shell;
mod root_user;
mod secret_in_env;
mod unpinned_base_image;

use crate::dockerfile::model::{Arguments, Dockerfile, Instruction, Keyword, Stage, Text};
use crate::dockerfile::semantics::{self, Scope};
use crate::dockerfile::shell::{self, Script};
use crate::source::Span;

use super::Rule;

/// Every Dockerfile rule, in code order.
pub static RULES: &[&dyn Rule] = &[
    &root_user::RootUser,
    &unpinned_base_image::UnpinnedBaseImage,
    &add_instead_of_copy::AddInsteadOfCopy,
    &add_remote_without_checksum::AddRemoteWithoutChecksum,
    &curl_pipe_shell::CurlPipeShell,
    &secret_in_env::SecretInEnv,
];

/// An instruction as a rule sees it: the instruction itself, or the trigger of an `ONBUILD`.
#[derive(Clone, Copy)]
pub(crate) struct Located<'a> {
    /// The instruction to check (for `ONBUILD RUN x`, the `RUN x` trigger).
    pub ins: &'a Instruction,
    /// The stage it belongs to (`None` before the first `FROM`).
    pub stage: Option<&'a Stage>,
    /// Index of the (outer) instruction in [`Dockerfile::instructions`].
    pub index: usize,
    /// The trigger came from an `ONBUILD`.
    pub onbuild: bool,
}

impl<'a> Located<'a> {
    /// Variable scope just before this instruction.
    pub fn scope(&self) -> Scope<'a> {
        match self.stage {
            Some(stage) => Scope::Before {
                stage,
                index: self.index,
            },
            None => Scope::Global,
        }
    }
}

/// Every instruction of kind `kind`, including `ONBUILD` triggers of that kind, in file order.
pub(crate) fn instructions_of<'a>(df: &'a Dockerfile, kind: Keyword) -> Vec<Located<'a>> {
    let mut out = Vec::new();
    for (index, ins) in df.instructions.iter().enumerate() {
        let stage = df.stages.iter().find(|s| s.instructions.contains(&index));
        if ins.kind == kind {
            out.push(Located {
                ins,
                stage,
                index,
                onbuild: false,
            });
        }
        if ins.kind == Keyword::Onbuild
            && let Some(trigger) = ins.onbuild.as_deref()
            && trigger.kind == kind
        {
            out.push(Located {
                ins: trigger,
                stage,
                index,
                onbuild: true,
            });
        }
    }
    out
}

/// Where the byte ranges of a tokenized script point.
#[derive(Clone, Copy)]
pub(crate) enum Origin<'a> {
    /// Into a [`Text`] (shell-form arguments, heredoc bodies).
    Text(&'a Text),
    /// Directly into the file (exec-form items).
    File,
}

impl Origin<'_> {
    /// The file span of the script range `start..end`.
    pub fn span(&self, start: u32, end: u32) -> Span {
        match self {
            Origin::Text(t) => t.source_span(start, end),
            Origin::File => Span::new(start, end.max(start)),
        }
    }
}

/// The shell scripts a `RUN` runs: its command (shell or exec form) and the heredoc bodies that
/// are scripts (`RUN <<EOF`, `RUN bash <<EOF`). Empty when the stage's shell is not POSIX.
pub(crate) fn run_scripts<'a>(df: &'a Dockerfile, run: &Located<'a>) -> Vec<(Script, Origin<'a>)> {
    let ins = run.ins;
    if ins.kind != Keyword::Run {
        return Vec::new();
    }
    let mut out = Vec::new();
    match &ins.args {
        Arguments::Exec { items, .. } => {
            let script = shell::from_argv(
                items
                    .iter()
                    .map(|i| (i.value.clone(), i.span.start, i.span.end)),
            );
            out.push((script, Origin::File));
        }
        Arguments::Text { text, .. } => {
            if !posix_shell(df, run) {
                return Vec::new();
            }
            let script = shell::parse(&text.value);
            let script_bodies: Vec<&str> = ins
                .heredocs
                .iter()
                .filter(|h| {
                    heredoc_is_script(&script, &h.name.value) && !non_shell_shebang(&h.body.value)
                })
                .map(|h| h.name.value.as_str())
                .collect();
            out.push((script, Origin::Text(text)));
            for h in &ins.heredocs {
                if script_bodies.contains(&h.name.value.as_str()) {
                    out.push((shell::parse(&h.body.value), Origin::Text(&h.body)));
                }
            }
        }
    }
    out
}

/// The command that reads heredoc `name` is empty (`RUN <<EOF`: the body is the script) or a
/// shell reading its script from stdin (`RUN bash <<EOF`).
fn heredoc_is_script(script: &Script, name: &str) -> bool {
    let mut found = false;
    script.for_each_command(&mut |c| {
        let reads = c.redirects.iter().any(|r| {
            matches!(r.op.as_str(), "<<" | "<<-")
                && r.target.as_ref().is_some_and(|t| t.value == name)
        });
        if reads {
            let shell = c.program().is_some_and(|p| shell::SHELLS.contains(&p))
                && c.shell_c_script().is_none()
                && !c.args().iter().any(|a| !a.value.starts_with('-'));
            found |= c.words.is_empty() || shell;
        }
    });
    found
}

/// A heredoc script with a `#!` line for something other than a POSIX shell.
fn non_shell_shebang(body: &str) -> bool {
    let Some(line) = body.lines().next().and_then(|l| l.strip_prefix("#!")) else {
        return false;
    };
    let mut parts = line.split_whitespace();
    let mut prog = parts.next().map_or("", shell::basename);
    if prog == "env" {
        prog = parts
            .find(|p| !p.starts_with('-'))
            .map_or("", shell::basename);
    }
    !shell::SHELLS.contains(&prog)
}

/// The shell that runs shell-form `RUN` at this point is POSIX: the last `SHELL` of the stage or
/// its ancestors names a POSIX shell, or there is none and the root base image is not Windows.
fn posix_shell(df: &Dockerfile, run: &Located<'_>) -> bool {
    let Some(stage) = run.stage else { return true };
    let chain = semantics::stage_chain(df, stage);
    for s in &chain {
        let end = if s.index == stage.index {
            run.index.min(s.instructions.end)
        } else {
            s.instructions.end
        };
        let last_shell = (s.instructions.start..end)
            .rev()
            .filter_map(|i| df.instructions.get(i))
            .find(|i| i.kind == Keyword::Shell);
        if let Some(sh) = last_shell {
            let prog = sh.words().first().map_or("", |w| shell::basename(&w.value));
            let prog = prog.strip_suffix(".exe").unwrap_or(prog);
            return shell::SHELLS.contains(&prog);
        }
    }
    let root = chain.last().map_or(stage, |s| *s);
    let image = root.image.value.to_ascii_lowercase();
    !["windows", "nanoserver", "servercore"]
        .iter()
        .any(|w| image.contains(w))
}

/// `value` shortened to at most `max` chars (with `…`), whitespace runs collapsed.
pub(crate) fn snippet(value: &str, max: usize) -> String {
    let collapsed = value.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.chars().count() <= max {
        return collapsed;
    }
    let mut s: String = collapsed.chars().take(max.saturating_sub(1)).collect();
    s.push('…');
    s
}

/// Removes one level of matching quotes around a word as written.
pub(crate) fn unquote(word: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = word.strip_prefix(q).and_then(|w| w.strip_suffix(q)) {
            return inner;
        }
    }
    word
}

/// Shared by the `ADD` rules: the sources of an `ADD`/`COPY` (all words but the destination;
/// heredoc sources excluded), quotes removed, each with its span.
pub(crate) fn add_sources(ins: &Instruction) -> Vec<(String, Span)> {
    let words = ins.words();
    let Some((_, sources)) = words.split_last() else {
        return Vec::new();
    };
    let exec = ins.args.is_exec();
    sources
        .iter()
        .filter(|w| !w.value.starts_with("<<"))
        .map(|w| {
            let v = if exec {
                w.value.as_str()
            } else {
                unquote(&w.value)
            };
            (v.to_string(), w.span)
        })
        .collect()
}

/// BuildKit's idea of a git source: `git@…`, `git://…`, or an http(s) URL whose path ends in
/// `.git` (optionally followed by `#ref`).
pub(crate) fn is_git_url(src: &str) -> bool {
    let lower = src.to_ascii_lowercase();
    if lower.starts_with("git@") || lower.starts_with("git://") || lower.starts_with("ssh://") {
        return true;
    }
    let path = lower.split(['#', '?']).next().unwrap_or("");
    (lower.starts_with("http://") || lower.starts_with("https://"))
        && path.trim_end_matches('/').ends_with(".git")
}

/// `http://` or `https://` (case-insensitive).
pub(crate) fn is_http_url(src: &str) -> bool {
    let lower = src.get(..8).unwrap_or(src).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

#[cfg(test)]
pub(crate) mod test_util {
    use crate::linter::{FileKind, Selection, lint_text};
    use crate::source::SourceFile;

    /// `(code, "line:col-line:col", message)` of every finding of `rule` on `text`.
    pub fn findings(rule: &str, text: &str) -> Vec<(&'static str, String, String)> {
        let file = SourceFile::virtual_file("Dockerfile", text);
        lint_text(
            FileKind::Dockerfile,
            "Dockerfile",
            text,
            &Selection::only(rule),
        )
        .into_iter()
        .map(|d| {
            let s = file.line_col(d.span.start);
            let e = file.line_col(d.span.end);
            (
                d.rule.code,
                format!("{}:{}-{}:{}", s.line, s.column, e.line, e.column),
                d.message,
            )
        })
        .collect()
    }

    /// The source text under each finding of `rule`.
    pub fn spans(rule: &str, text: &str) -> Vec<String> {
        lint_text(
            FileKind::Dockerfile,
            "Dockerfile",
            text,
            &Selection::only(rule),
        )
        .into_iter()
        .map(|d| text.get(d.span.range()).unwrap_or("<bad span>").to_string())
        .collect()
    }

    /// Full diagnostics (for labels and help).
    pub fn diagnostics(rule: &str, text: &str) -> Vec<crate::diagnostic::Diagnostic> {
        lint_text(
            FileKind::Dockerfile,
            "Dockerfile",
            text,
            &Selection::only(rule),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_and_http_urls() {
        assert!(is_git_url("git@github.com:moby/buildkit.git"));
        assert!(is_git_url("https://github.com/moby/buildkit.git#v0.10.1"));
        assert!(is_git_url("https://github.com/moby/buildkit.git/"));
        assert!(!is_git_url("https://example.com/a.tar.gz"));
        assert!(is_http_url("HTTPS://x"));
        assert!(!is_http_url("ftp://x"));
        assert!(!is_http_url("http"));
    }

    #[test]
    fn snippets() {
        assert_eq!(snippet("a  \n b", 10), "a b");
        assert_eq!(snippet("abcdefghij", 5), "abcd…");
    }

    #[test]
    fn shebangs() {
        assert!(non_shell_shebang("#!/usr/bin/env python3\nprint(1)"));
        assert!(!non_shell_shebang("#!/bin/bash\nset -e"));
        assert!(!non_shell_shebang("set -e"));
    }
}
