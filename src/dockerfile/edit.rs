//! Exact text edits on a Dockerfile, for the rules' fixes (`crate::fix`).
//!
//! Each helper returns the byte range of the original text to replace and the replacement, or
//! `None` when the edit cannot be made exactly: a rule then offers no fix rather than a guess.
//! Nothing is re-serialised: line endings (`\n` or `\r\n`), indentation, comments, continuation
//! lines and heredoc bodies the edit does not touch stay byte for byte.

use crate::dockerfile::model::{Arguments, Flag, Instruction, Keyword};
use crate::dockerfile::shell;
use crate::source::Span;

/// An edit of the text: the bytes of `span` become `replacement` (an empty span inserts).
pub type TextEdit = (Span, String);

fn off(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// The file's line ending: `\r\n` when its first line ends so, else `\n`.
pub fn line_ending(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if i > 0 && text.as_bytes().get(i - 1) == Some(&b'\r') => "\r\n",
        _ => "\n",
    }
}

/// The offset where the line holding `offset` starts.
pub fn line_start(text: &str, offset: u32) -> u32 {
    let at = (offset as usize).min(text.len());
    off(text.as_bytes()[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1))
}

/// The whitespace before `ins` on its line, when only whitespace stands there (not for an
/// `ONBUILD` trigger or a keyword after other text).
pub fn indentation<'t>(text: &'t str, ins: &Instruction) -> Option<&'t str> {
    let start = line_start(text, ins.span.start);
    let indent = text.get(start as usize..ins.span.start as usize)?;
    indent
        .bytes()
        .all(|b| b == b' ' || b == b'\t')
        .then_some(indent)
}

/// The keyword of `ins` becomes `keyword` (flags and arguments untouched).
pub fn replace_keyword(ins: &Instruction, keyword: &str) -> TextEdit {
    (ins.keyword.span, keyword.to_owned())
}

/// `keyword` in the case `ins` writes its keyword: `COPY` for `ADD`, `copy` for `add`; the
/// upper case for a mixed-case keyword.
pub fn keyword_in_case_of(ins: &Instruction, keyword: &str) -> String {
    let written = ins.keyword.value.as_str();
    if written == written.to_ascii_lowercase() {
        keyword.to_ascii_lowercase()
    } else {
        keyword.to_ascii_uppercase()
    }
}

/// Inserts the instruction line `line` (without line ending) on its own line before `ins`, with
/// the indentation of `ins` and the file's line ending. `None` when `ins` does not start its
/// line, or `line` is not one line.
pub fn insert_line_before(text: &str, ins: &Instruction, line: &str) -> Option<TextEdit> {
    if line.contains(['\n', '\r']) {
        return None;
    }
    let indent = indentation(text, ins)?;
    let at = line_start(text, ins.span.start);
    let nl = line_ending(text);
    Some((Span::at(at), format!("{indent}{line}{nl}")))
}

/// Deletes `ins` with its whole lines (its heredoc bodies and continuation lines included) and
/// the line ending after it. `None` when other text shares its first or last line.
pub fn delete_instruction(text: &str, ins: &Instruction) -> Option<TextEdit> {
    indentation(text, ins)?;
    let start = line_start(text, ins.span.start);
    let end = ins.span.end as usize;
    let rest = text.get(end..)?;
    let line_rest = rest.split('\n').next().unwrap_or("");
    if !line_rest.trim().is_empty() {
        return None;
    }
    let mut stop = end + line_rest.len();
    if text.as_bytes().get(stop) == Some(&b'\n') {
        stop += 1;
    }
    Some((Span::new(start, off(stop)), String::new()))
}

/// Deletes the flag `flag` of an instruction (`--platform=…`) with the blanks after it. `None`
/// when no blank follows it (the flag would run into the next word).
pub fn delete_flag(text: &str, flag: &Flag) -> Option<TextEdit> {
    let rest = text.get(flag.span.end as usize..)?;
    let blanks = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    let end = flag.span.end.checked_add(u32::try_from(blanks).ok()?)?;
    (blanks > 0).then(|| (Span::new(flag.span.start, end), String::new()))
}

/// The file span of a shell word of a shell-form `RUN` (its script from the instruction's
/// arguments or a heredoc body), when the word is written in one piece, unquoted, exactly as
/// its value: an insertion right after it is then exact. `None` for exec form, a quoted or
/// escaped word, or a word split by a line continuation.
pub fn plain_word_span(text: &str, ins: &Instruction, word: &shell::Word) -> Option<Span> {
    if ins.kind != Keyword::Run || word.quoted || word.value.is_empty() {
        return None;
    }
    let Arguments::Text { text: args, .. } = &ins.args else {
        return None;
    };
    // the word's range is in the script: the arguments' text or one heredoc body
    let value_in = |t: &crate::dockerfile::model::Text| {
        t.value.get(word.start as usize..word.end as usize) == Some(word.value.as_str())
    };
    let mut candidates = std::iter::once(args).chain(ins.heredocs.iter().map(|h| &h.body));
    let owner = candidates.find(|t| value_in(t))?;
    let span = owner.source_span(word.start, word.end);
    (text.get(span.range()) == Some(word.value.as_str())).then_some(span)
}

/// Inserts ` flag` right after the shell word `after` of a shell-form `RUN` (`apt-get install`
/// → `apt-get install --no-install-recommends`). `None` where the insertion cannot be exact
/// (see [`plain_word_span`]) or `flag` is not one plain word.
pub fn insert_flag_after(
    text: &str,
    ins: &Instruction,
    after: &shell::Word,
    flag: &str,
) -> Option<TextEdit> {
    let plain = !flag.is_empty()
        && flag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'=' | b'.' | b'/'));
    if !plain {
        return None;
    }
    let span = plain_word_span(text, ins, after)?;
    Some((Span::at(span.end), format!(" {flag}")))
}

/// Appends ` && command` to the shell command of a shell-form `RUN`, so that `command` runs
/// after the rest succeeded. `None` for exec form, a `RUN` with heredocs, a script that ends
/// in a comment, `&`, `;`, an open quote or a continuation, or a non-`\` escape character in
/// `command`'s way (`command` must be one line with no `#`).
pub fn append_to_run(text: &str, ins: &Instruction, command: &str) -> Option<TextEdit> {
    if ins.kind != Keyword::Run || !ins.heredocs.is_empty() || command.contains(['\n', '\r', '#']) {
        return None;
    }
    let Arguments::Text { text: args, .. } = &ins.args else {
        return None;
    };
    let script = shell::parse(&args.value);
    let last = script.pipelines.last()?;
    let trimmed = args.value.trim_end();
    // the last pipeline ends the text: no trailing comment, separator or unclosed construct
    if last.end as usize != trimmed.len() || last.separator.is_some() || trimmed.ends_with(';') {
        return None;
    }
    // the appended command must parse as a pipeline of its own (not inside an open quote)
    let joined = shell::parse(&format!("{trimmed} && {command}"));
    let own = joined.pipelines.len() == script.pipelines.len() + 1
        && joined
            .pipelines
            .last()
            .is_some_and(|p| p.start as usize == trimmed.len() + 4);
    if !own {
        return None;
    }
    let end = args
        .source_offset(off(trimmed.len()).saturating_sub(1))
        .saturating_add(1);
    // the byte before the insertion point must be the script's last byte as written
    let last_byte = trimmed.as_bytes().last()?;
    if text.as_bytes().get(end as usize - 1) != Some(last_byte) || end > ins.span.end {
        return None;
    }
    Some((Span::at(end), format!(" && {command}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dockerfile::model::Dockerfile;

    fn apply(text: &str, edit: Option<TextEdit>) -> Option<String> {
        let (span, r) = edit?;
        crate::fix::apply_edits(text, [(span, r.as_str())]).ok()
    }

    fn run_words(df: &Dockerfile, i: usize) -> Vec<shell::Word> {
        let ins = &df.instructions[i];
        let mut out = Vec::new();
        let mut scripts = Vec::new();
        if let Some(t) = ins.args.text() {
            scripts.push(shell::parse(&t.value));
        }
        for h in &ins.heredocs {
            scripts.push(shell::parse(&h.body.value));
        }
        for s in &scripts {
            s.for_each_command(&mut |c| out.extend(c.words.iter().cloned()));
        }
        out
    }

    #[test]
    fn line_endings_and_indentation() {
        assert_eq!(line_ending("FROM a\r\nRUN b\r\n"), "\r\n");
        assert_eq!(line_ending("FROM a\nRUN b\r\n"), "\n");
        assert_eq!(line_ending("FROM a"), "\n");
        let text = "FROM a\r\n  RUN x | y\r\n";
        let df = crate::dockerfile::parse(text);
        let edit = insert_line_before(text, &df.instructions[1], "SHELL [\"/bin/sh\"]");
        assert_eq!(
            apply(text, edit).as_deref(),
            Some("FROM a\r\n  SHELL [\"/bin/sh\"]\r\n  RUN x | y\r\n")
        );
        // an ONBUILD trigger does not start its line
        let text = "FROM a\nONBUILD RUN x\n";
        let df = crate::dockerfile::parse(text);
        let trigger = df.instructions[1].onbuild.as_deref().unwrap();
        assert_eq!(insert_line_before(text, trigger, "X"), None);
        assert_eq!(insert_line_before(text, &df.instructions[1], "A\nB"), None);
    }

    #[test]
    fn keywords_keep_their_case() {
        let text = "from a\nadd x /y\nFROM b\nAdd x /y\n";
        let df = crate::dockerfile::parse(text);
        assert_eq!(keyword_in_case_of(&df.instructions[1], "COPY"), "copy");
        assert_eq!(keyword_in_case_of(&df.instructions[3], "copy"), "COPY");
        let edit = replace_keyword(&df.instructions[1], "copy");
        assert_eq!(
            apply(text, Some(edit)).as_deref(),
            Some("from a\ncopy x /y\nFROM b\nAdd x /y\n")
        );
    }

    #[test]
    fn deletes_whole_instructions() {
        let text = "FROM a\nCMD x \\\n  y\r\n# keep\nCMD z\n";
        let df = crate::dockerfile::parse(text);
        let edit = delete_instruction(text, &df.instructions[1]);
        assert_eq!(
            apply(text, edit).as_deref(),
            Some("FROM a\n# keep\nCMD z\n")
        );
        let text = "FROM a\nRUN <<EOF\necho hi\nEOF\nCMD z";
        let df = crate::dockerfile::parse(text);
        let edit = delete_instruction(text, &df.instructions[1]);
        assert_eq!(apply(text, edit).as_deref(), Some("FROM a\nCMD z"));
        let edit = delete_instruction(text, &df.instructions[2]);
        assert_eq!(
            apply(text, edit).as_deref(),
            Some("FROM a\nRUN <<EOF\necho hi\nEOF\n")
        );
    }

    #[test]
    fn flags_go_after_plain_words_only() {
        let text = "FROM a\nRUN apt-get update && apt-get \\\n    install -y curl\n";
        let df = crate::dockerfile::parse(text);
        let words = run_words(&df, 1);
        let install = words.iter().find(|w| w.value == "install").unwrap();
        let edit = insert_flag_after(
            text,
            &df.instructions[1],
            install,
            "--no-install-recommends",
        );
        assert_eq!(
            apply(text, edit).as_deref(),
            Some(
                "FROM a\nRUN apt-get update && apt-get \\\n    install --no-install-recommends -y curl\n"
            )
        );
        // the word before a continuation
        let get = words
            .iter()
            .filter(|w| w.value == "apt-get")
            .nth(1)
            .unwrap();
        let edit = insert_flag_after(text, &df.instructions[1], get, "-q");
        assert_eq!(
            apply(text, edit).as_deref(),
            Some("FROM a\nRUN apt-get update && apt-get -q \\\n    install -y curl\n")
        );
        assert_eq!(
            insert_flag_after(text, &df.instructions[1], install, "a b"),
            None
        );
        // a quoted word, a word split by a continuation, exec form: refused
        for (text, word) in [
            ("FROM a\nRUN apk \"add\" x\n", "add"),
            ("FROM a\nRUN apk ad\\\nd x\n", "add"),
            ("FROM a\nRUN [\"apk\", \"add\", \"x\"]\n", "add"),
        ] {
            let df = crate::dockerfile::parse(text);
            let ins = &df.instructions[1];
            let w = match &ins.args {
                Arguments::Exec { items, .. } => {
                    let i = items.iter().find(|i| i.value == word).unwrap();
                    shell::Word::literal(i.value.clone(), i.span.start, i.span.end)
                }
                _ => run_words(&df, 1)
                    .into_iter()
                    .find(|w| w.value == word)
                    .unwrap(),
            };
            assert_eq!(
                insert_flag_after(text, ins, &w, "--no-cache"),
                None,
                "{text}"
            );
        }
    }

    #[test]
    fn flags_in_heredocs_and_escape_directive() {
        let text = "FROM a\nRUN <<EOF\napk add curl\nEOF\n";
        let df = crate::dockerfile::parse(text);
        let words = run_words(&df, 1);
        let add = words.iter().find(|w| w.value == "add").unwrap();
        let edit = insert_flag_after(text, &df.instructions[1], add, "--no-cache");
        assert_eq!(
            apply(text, edit).as_deref(),
            Some("FROM a\nRUN <<EOF\napk add --no-cache curl\nEOF\n")
        );
        let text = "# escape=`\nFROM a\nRUN apk `\r\n  add curl\r\n";
        let df = crate::dockerfile::parse(text);
        let words = run_words(&df, 1);
        let add = words.iter().find(|w| w.value == "add").unwrap();
        let edit = insert_flag_after(text, &df.instructions[1], add, "--no-cache");
        assert_eq!(
            apply(text, edit).as_deref(),
            Some("# escape=`\nFROM a\nRUN apk `\r\n  add --no-cache curl\r\n")
        );
    }

    #[test]
    fn deletes_flags_with_their_blanks() {
        let text = "FROM a\nRUN --network=host \t--mount=type=cache,target=/x  apk add x\n";
        let df = crate::dockerfile::parse(text);
        let ins = &df.instructions[1];
        let edit = delete_flag(text, &ins.flags[0]);
        assert_eq!(
            apply(text, edit).as_deref(),
            Some("FROM a\nRUN --mount=type=cache,target=/x  apk add x\n")
        );
        let edit = delete_flag(text, &ins.flags[1]);
        assert_eq!(
            apply(text, edit).as_deref(),
            Some("FROM a\nRUN --network=host \tapk add x\n")
        );
    }

    #[test]
    fn appends_to_a_run_chain() {
        let text = "FROM a\nRUN apt-get update \\\n && apt-get install -y x  \r\nCMD y\n";
        let df = crate::dockerfile::parse(text);
        let edit = append_to_run(text, &df.instructions[1], "rm -rf /var/lib/apt/lists/*");
        assert_eq!(
            apply(text, edit).as_deref(),
            Some(
                "FROM a\nRUN apt-get update \\\n && apt-get install -y x && rm -rf /var/lib/apt/lists/*  \r\nCMD y\n"
            )
        );
        for text in [
            "FROM a\nRUN x # note\n",
            "FROM a\nRUN x &\n",
            "FROM a\nRUN x;\n",
            "FROM a\nRUN [\"x\"]\n",
            "FROM a\nRUN <<EOF\nx\nEOF\n",
            "FROM a\nRUN echo 'open\n",
        ] {
            let df = crate::dockerfile::parse(text);
            assert_eq!(
                append_to_run(text, &df.instructions[1], "y"),
                None,
                "{text}"
            );
        }
    }
}
