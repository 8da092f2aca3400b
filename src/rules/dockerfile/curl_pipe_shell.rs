use crate::dockerfile::analysis;
use crate::dockerfile::model::{Dockerfile, Keyword};
use crate::dockerfile::shell::{self, Command, Element, Script, SubstitutionKind, Word};
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};
use crate::source::Span;

/// SLD005: a download executed without being saved and verified.
pub struct CurlPipeShell;

/// Interpreters that execute a program read from stdin, besides the POSIX shells.
const INTERPRETERS: &[&str] = &[
    "python", "python2", "python3", "perl", "ruby", "node", "nodejs", "php",
];

fn is_interpreter(prog: &str) -> bool {
    shell::SHELLS.contains(&prog)
        || INTERPRETERS.contains(&prog)
        || prog
            .strip_prefix("python")
            .is_some_and(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// Flags that take the program text (`-c`), or a module, so that stdin is data.
fn code_flags(prog: &str) -> (&'static [char], &'static [&'static str]) {
    if shell::SHELLS.contains(&prog) {
        (&['c'], &[])
    } else if prog.starts_with("python") {
        (&['c', 'm'], &[])
    } else if prog == "node" || prog == "nodejs" {
        (&['e', 'p'], &["--eval", "--print"])
    } else if prog == "php" {
        (&['r', 'f'], &[])
    } else {
        (&['e', 'E'], &[])
    }
}

/// Options that take a separate argument (not the program).
fn arg_flags(prog: &str) -> &'static [&'static str] {
    if shell::SHELLS.contains(&prog) {
        &["-o", "+o", "-O", "+O", "--rcfile", "--init-file"]
    } else if prog.starts_with("python") {
        &["-W", "-X", "-Q"]
    } else if prog == "node" || prog == "nodejs" {
        &["-r", "--require", "--import", "--loader"]
    } else if prog == "ruby" {
        &["-r", "-I"]
    } else if prog == "perl" {
        &["-I", "-M", "-m"]
    } else {
        &["-d", "-c"]
    }
}

/// How an interpreter gets its program.
enum ProgramSource<'w> {
    Stdin,
    /// A script file operand or inline code (`-c`, `-e`): the word.
    Word(&'w Word),
    None,
}

fn program_source(cmd: &Command) -> ProgramSource<'_> {
    let Some(prog) = cmd.program() else {
        return ProgramSource::None;
    };
    if matches!(prog, "eval" | "source" | ".") {
        return match cmd.args().first() {
            Some(w) => ProgramSource::Word(w),
            None => ProgramSource::None,
        };
    }
    if !is_interpreter(prog) {
        return ProgramSource::None;
    }
    let (code_short, code_long) = code_flags(prog);
    let takes_arg = arg_flags(prog);
    let is_shell = shell::SHELLS.contains(&prog);
    let args = cmd.args();
    let mut stdin_flag = false;
    let mut i = 0usize;
    while let Some(w) = args.get(i) {
        let v = w.value.as_str();
        if v == "-" {
            return ProgramSource::Stdin;
        }
        if v == "--" {
            i += 1;
            break;
        }
        if code_long.contains(&v) {
            return args
                .get(i + 1)
                .map_or(ProgramSource::None, ProgramSource::Word);
        }
        if v.starts_with("--") {
            i += 1;
            continue;
        }
        if let Some(cluster) = v
            .strip_prefix('-')
            .or_else(|| if is_shell { v.strip_prefix('+') } else { None })
        {
            let letters: Vec<char> = cluster
                .chars()
                .take_while(char::is_ascii_alphanumeric)
                .collect();
            if let Some(pos) = letters.iter().position(|c| code_short.contains(c)) {
                // `-c code` or `-ccode` (python), `-e code`.
                let attached = cluster.len() > pos + 1 && !is_shell;
                if attached {
                    return ProgramSource::None;
                }
                if is_shell {
                    return cmd
                        .shell_c_script()
                        .map_or(ProgramSource::None, ProgramSource::Word);
                }
                return args
                    .get(i + 1)
                    .map_or(ProgramSource::None, ProgramSource::Word);
            }
            if is_shell && letters.contains(&'s') {
                stdin_flag = true;
            }
            i += if takes_arg.contains(&v) { 2 } else { 1 };
            continue;
        }
        break;
    }
    if stdin_flag {
        return ProgramSource::Stdin;
    }
    match args.get(i) {
        Some(w)
            if matches!(
                w.value.as_str(),
                "/dev/stdin" | "/dev/fd/0" | "/proc/self/fd/0"
            ) =>
        {
            ProgramSource::Stdin
        }
        Some(w) => ProgramSource::Word(w),
        None => ProgramSource::Stdin,
    }
}

/// A downloader that writes the download to stdout.
fn is_download(cmd: &Command) -> bool {
    match cmd.program() {
        Some("curl") => {
            // `-o file`/`-O` save to a file; `-o -` is stdout.
            let args = cmd.args();
            let mut to_file = false;
            for (i, w) in args.iter().enumerate() {
                let v = w.value.as_str();
                if v == "--remote-name" || v == "--remote-name-all" {
                    to_file = true;
                } else if v == "--output" || v.starts_with("--output=") {
                    let target = v
                        .strip_prefix("--output=")
                        .or_else(|| args.get(i + 1).map(|w| w.value.as_str()));
                    to_file |= target != Some("-");
                } else if let Some(cluster) = v.strip_prefix('-').filter(|c| !c.starts_with('-')) {
                    let letters: String = cluster
                        .chars()
                        .take_while(char::is_ascii_alphanumeric)
                        .collect();
                    if letters.contains('O') {
                        to_file = true;
                    }
                    if let Some(pos) = letters.find('o') {
                        let rest = cluster.get(pos + 1..).unwrap_or("");
                        let target = if rest.is_empty() {
                            args.get(i + 1).map(|w| w.value.as_str())
                        } else {
                            Some(rest)
                        };
                        to_file |= target != Some("-");
                    }
                }
            }
            !to_file
        }
        Some("wget") => {
            let args = cmd.args();
            args.iter().enumerate().any(|(i, w)| {
                let v = w.value.as_str();
                if v == "--output-document=-" || v == "-O-" {
                    return true;
                }
                if v == "--output-document" {
                    return args.get(i + 1).is_some_and(|n| n.value == "-");
                }
                match v.strip_prefix('-').filter(|c| !c.starts_with('-')) {
                    Some(cluster) => {
                        cluster.ends_with("O-")
                            || (cluster.ends_with('O')
                                && args.get(i + 1).is_some_and(|n| n.value == "-"))
                    }
                    None => false,
                }
            })
        }
        Some("fetch") => {
            cmd.args()
                .windows(2)
                .any(|p| matches!(p, [a, b] if a.value == "-o" && b.value == "-"))
                || cmd.args().iter().any(|a| a.value == "-o-")
        }
        _ => false,
    }
}

/// A word holds a substitution whose script downloads.
fn has_download_substitution(word: &Word) -> bool {
    word.substitutions.iter().any(|s| {
        matches!(
            s.kind,
            SubstitutionKind::Command | SubstitutionKind::Backtick | SubstitutionKind::ProcessIn
        ) && s.script.any_command(&is_download)
    })
}

/// `(range, interpreter)` of each download that `script` executes unverified (`curl … | sh`,
/// `sh -c "$(curl …)"`, `bash <(wget -O- …)`), the outermost of nested ones only: what this
/// rule flags in a `RUN`, for the other places a shell script runs (a dev container's lifecycle
/// commands).
pub(crate) fn downloads_run(script: &Script) -> Vec<((u32, u32), String)> {
    let mut found = Vec::new();
    find(script, &mut found);
    let ranges: Vec<(u32, u32)> = found.iter().map(|(r, _)| *r).collect();
    let mut out: Vec<((u32, u32), String)> = Vec::new();
    for (r, prog) in found {
        let inside_other = ranges.iter().any(|o| *o != r && o.0 <= r.0 && r.1 <= o.1);
        if !inside_other && !out.iter().any(|(seen, _)| *seen == r) {
            out.push((r, prog));
        }
    }
    out
}

/// `(range, interpreter)` of each finding in a script.
fn find(script: &Script, out: &mut Vec<((u32, u32), String)>) {
    script.for_each_pipeline(&mut |p| {
        // download | ... | shell
        let mut downloaded = false;
        for el in &p.elements {
            if let Element::Simple(c) = el
                && downloaded
                && matches!(program_source(c), ProgramSource::Stdin)
                && let Some(prog) = c.program()
                && prog != "eval"
                && prog != "source"
                && prog != "."
            {
                out.push(((p.start, p.end), prog.to_string()));
                break;
            }
            downloaded |= el.any_command(&is_download);
        }
        // shell <(download), sh -c "$(download)", eval "$(download)", $(download)
        for el in &p.elements {
            let Element::Simple(c) = el else { continue };
            let prog_word = c.program_word();
            if let Some(w) = prog_word
                && has_download_substitution(w)
            {
                out.push(((c.start, c.end), "the shell".to_string()));
                continue;
            }
            if let ProgramSource::Word(w) = program_source(c)
                && has_download_substitution(w)
            {
                let prog = c.program().unwrap_or("sh").to_string();
                out.push(((c.start, c.end), prog));
            }
        }
    });
}

impl Rule for CurlPipeShell {
    fn meta(&self) -> &'static RuleMeta {
        docs::CURL_PIPE_SHELL
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        for run in analysis::instructions_of(df, Keyword::Run) {
            let mut found: Vec<(Span, String)> = Vec::new();
            for (script, origin) in analysis::run_scripts(df, &run) {
                let mut ranges = Vec::new();
                find(script, &mut ranges);
                found.extend(
                    ranges
                        .into_iter()
                        .map(|((s, e), prog)| (origin.span(s, e), prog)),
                );
            }
            // Keep the outermost of nested findings (`sh -c "curl x | sh"` inside another).
            let spans: Vec<Span> = found.iter().map(|(s, _)| *s).collect();
            let mut reported: Vec<Span> = Vec::new();
            for (span, prog) in found {
                let inside_other = spans
                    .iter()
                    .any(|o| *o != span && o.start <= span.start && span.end <= o.end);
                if inside_other || reported.contains(&span) {
                    continue;
                }
                reported.push(span);
                let text = cx.text().get(span.range()).unwrap_or("");
                let message = format!(
                    "download executed by `{prog}`: `{}`",
                    analysis::snippet(text, 60)
                );
                cx.report(span, message).help(
                    "download to a file, check it against a pinned checksum (`sha256sum -c`), then run it",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::{findings, spans};

    const R: &str = "curl-pipe-shell";

    fn run(cmd: &str) -> Vec<String> {
        spans(R, &format!("FROM alpine:3.20\nRUN {cmd}\n"))
    }

    #[test]
    fn message_and_span() {
        let text = "FROM alpine:3.20\nRUN apk add curl && curl -fsSL https://x.io/i.sh | sh\n";
        assert_eq!(
            findings(R, text),
            vec![(
                "SLD005",
                "2:21-2:54".to_string(),
                "download executed by `sh`: `curl -fsSL https://x.io/i.sh | sh`".to_string()
            )]
        );
    }

    #[test]
    fn flagged_pipelines() {
        for (cmd, want) in [
            ("curl https://x | bash", "curl https://x | bash"),
            ("wget -qO- https://x | sh", "wget -qO- https://x | sh"),
            ("wget -q -O - https://x | sh", "wget -q -O - https://x | sh"),
            (
                "curl -sL https://x | sudo -E bash -",
                "curl -sL https://x | sudo -E bash -",
            ),
            (
                "curl -sL https://x | sh -s -- --yes",
                "curl -sL https://x | sh -s -- --yes",
            ),
            (
                "curl https://x | tee /tmp/log | /bin/sh",
                "curl https://x | tee /tmp/log | /bin/sh",
            ),
            ("curl https://x | python3", "curl https://x | python3"),
            (
                "curl -sSL https://x | bash /dev/stdin -v 1",
                "curl -sSL https://x | bash /dev/stdin -v 1",
            ),
            (
                "curl https://x | python3 - --user",
                "curl https://x | python3 - --user",
            ),
            (
                "curl https://x | env FOO=1 perl",
                "curl https://x | env FOO=1 perl",
            ),
            ("(curl https://x) | sh", "(curl https://x) | sh"),
            (
                "bash <(curl -fsSL https://x)",
                "bash <(curl -fsSL https://x)",
            ),
            (
                "sh -c \"$(curl -fsSL https://x)\"",
                "sh -c \"$(curl -fsSL https://x)\"",
            ),
            (
                "/bin/bash -c \"$(wget -O- https://x)\"",
                "/bin/bash -c \"$(wget -O- https://x)\"",
            ),
            (
                "eval \"$(curl -s https://x)\"",
                "eval \"$(curl -s https://x)\"",
            ),
            ("source <(curl -s https://x)", "source <(curl -s https://x)"),
            (
                "python3 -c \"$(curl -s https://x)\"",
                "python3 -c \"$(curl -s https://x)\"",
            ),
            ("sh -c 'curl -s https://x | sh'", "curl -s https://x | sh"),
            (
                "set -e; if true; then curl https://x | sh; fi",
                "curl https://x | sh",
            ),
            ("curl https://x \\\n  | bash", "curl https://x \\\n  | bash"),
        ] {
            assert_eq!(run(cmd), vec![want.to_string()], "{cmd}");
        }
    }

    #[test]
    fn exec_form_heredoc_and_onbuild() {
        assert_eq!(
            spans(
                R,
                "FROM a:1\nRUN [\"sh\", \"-c\", \"curl -s https://x | sh\"]\n"
            ),
            vec!["curl -s https://x | sh"]
        );
        assert_eq!(
            spans(
                R,
                "FROM a:1\nRUN <<EOF\nset -e\ncurl -s https://x | sh\nEOF\n"
            ),
            vec!["curl -s https://x | sh"]
        );
        assert_eq!(
            spans(
                R,
                "FROM a:1\nRUN bash <<EOF\ncurl -s https://x | bash\nEOF\n"
            ),
            vec!["curl -s https://x | bash"]
        );
        assert_eq!(
            spans(R, "FROM a:1\nONBUILD RUN curl -s https://x | sh\n"),
            vec!["curl -s https://x | sh"]
        );
    }

    #[test]
    fn not_flagged() {
        for cmd in [
            "curl -fsSLo /tmp/i.sh https://x && sha256sum -c sums && sh /tmp/i.sh",
            "curl -fsSL https://x | tar xz -C /opt",
            "curl -fsSL https://x | grep sh",
            "curl -s https://x | python3 -c 'import sys, json; print(json.load(sys.stdin)[\"v\"])'",
            "curl -s https://x | node -e 'process.stdin.pipe(process.stdout)'",
            "curl -s https://x | python -m json.tool",
            "curl -s https://x | perl -ne 'print'",
            "curl -o /tmp/x https://x | sh",
            "wget https://x | sh",
            "echo 'curl https://x | sh'",
            "V=$(curl -s https://api/version) && echo $V",
            "bash install.sh $(curl -s https://api/version)",
            "sh -c 'echo hi' | sh",
            "curl https://x | bash /tmp/script.sh",
            "cat <<EOF > /x.sh\ncurl https://x | sh\nEOF",
        ] {
            assert_eq!(run(cmd), Vec::<String>::new(), "{cmd}");
        }
        // Heredoc data and non-shell heredoc scripts.
        for text in [
            "FROM a:1\nRUN cat <<EOF > /x.sh\ncurl -s https://x | sh\nEOF\n",
            "FROM a:1\nRUN python3 <<EOF\nprint('curl -s https://x | sh')\nEOF\n",
            "FROM a:1\nRUN <<EOF\n#!/usr/bin/env python3\nx = 1 | 2\nEOF\n",
            "FROM a:1\nSHELL [\"powershell\", \"-Command\"]\nRUN iwr https://x | iex; curl https://x | sh\n",
            "FROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN curl https://x | sh\n",
        ] {
            assert_eq!(spans(R, text), Vec::<String>::new(), "{text}");
        }
    }
}
