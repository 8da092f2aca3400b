//! The comments above each instruction, as BuildKit's parser collects them (`Node.PrevComment`).
//!
//! BuildKit's `parser.Parse`: every comment line between two instructions is appended (its text
//! after the `#`, trimmed); a bare `#` line empties the list; the parser directives at the top
//! (`# syntax=`, `# escape=`, `# check=`) are not in it; blank lines change nothing; comments
//! inside an instruction (between continuation lines) are not collected. The list is handed to
//! the next instruction and starts empty again after it.

use super::model::Dockerfile;
use crate::source::{Span, Spanned};

/// For each instruction of `df` (same order as [`Dockerfile::instructions`]), its comment lines:
/// the text after `#`, trimmed, each with the span of the comment line (from its `#`).
pub fn prev_comments(df: &Dockerfile, text: &str) -> Vec<Vec<Spanned<String>>> {
    let mut out: Vec<Vec<Spanned<String>>> = vec![Vec::new(); df.instructions.len()];
    let mut pending: Vec<Spanned<String>> = Vec::new();
    let mut next = 0usize;
    let mut start = 0usize;
    while start < text.len() && next < df.instructions.len() {
        let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let (line_start, line_end) = (start, end);
        start = end + 1;
        while df
            .instructions
            .get(next)
            .is_some_and(|i| (i.span.end as usize) < line_start)
        {
            next += 1;
        }
        let Some(ins) = df.instructions.get(next) else {
            break;
        };
        let (ins_start, ins_end) = (ins.span.start as usize, ins.span.end as usize);
        if ins_start < line_start && line_start <= ins_end {
            continue; // a continuation line or heredoc body
        }
        if (line_start..=line_end).contains(&ins_start) {
            if let Some(slot) = out.get_mut(next) {
                *slot = std::mem::take(&mut pending);
            }
            continue;
        }
        let mut line = &text[line_start..line_end];
        let mut offset = line_start;
        if line_start == 0
            && let Some(rest) = line.strip_prefix('\u{feff}')
        {
            line = rest;
            offset += '\u{feff}'.len_utf8();
        }
        let trimmed = line.trim_start();
        if !trimmed.starts_with('#') {
            continue;
        }
        if df
            .directives
            .iter()
            .any(|d| (line_start..=line_end).contains(&(d.span.start as usize)))
        {
            continue;
        }
        // as BuildKit: the line without its first byte, trimmed (`  # x` keeps its `#`)
        let first = line.chars().next().map_or(0, char::len_utf8);
        let body = line[first..].trim();
        if body.is_empty() {
            pending.clear();
            continue;
        }
        let hash = offset + (line.len() - trimmed.len());
        let span = Span::from_range(hash..offset + line.trim_end().len());
        pending.push(Spanned::new(body.to_string(), span));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::prev_comments;
    use crate::dockerfile::parse;

    fn blocks(text: &str) -> Vec<Vec<String>> {
        let df = parse(text);
        prev_comments(&df, text)
            .into_iter()
            .map(|b| b.into_iter().map(|c| c.value).collect())
            .collect()
    }

    #[test]
    fn collects_as_buildkit() {
        let text = "# syntax=docker/dockerfile:1\n# check=skip=all\n# a one\n\n#  b two  \nFROM x AS b\n# c\n#\nARG y\nRUN a \\\n# inside\n  b\n# check=skip=all\nARG z\n";
        assert_eq!(
            blocks(text),
            vec![
                vec!["a one".to_string(), "b two".to_string()],
                vec![],
                vec![],
                vec!["check=skip=all".to_string()],
            ]
        );
        let df = parse(text);
        let c = &prev_comments(&df, text)[0][1];
        assert_eq!(&text[c.span.range()], "#  b two");
    }

    #[test]
    fn heredoc_bodies_and_indented_comments() {
        let text = "FROM x\nRUN <<EOF\n# not a comment\nEOF\n  # indented\nARG a\n";
        assert_eq!(
            blocks(text),
            vec![vec![], vec![], vec!["# indented".to_string()]]
        );
        let text = "\u{feff}# bom\r\nARG a\r\nFROM x\n";
        assert_eq!(blocks(text), vec![vec!["bom".to_string()], vec![]]);
    }
}
