use crate::dockerfile::model::{Dockerfile, Instruction};
use crate::docs::{self, RuleMeta};
use crate::fix::Applicability;
use crate::rules::{Ctx, Rule};
use crate::source::Span;

/// SLD042: an empty line inside an instruction continued with the escape character (BuildKit's
/// `NoEmptyContinuation`).
pub struct NoEmptyContinuation;

impl Rule for NoEmptyContinuation {
    fn meta(&self) -> &'static RuleMeta {
        docs::NO_EMPTY_CONTINUATION
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        let esc = u8::try_from(df.escape_char()).unwrap_or(b'\\');
        let mut found = Vec::new();
        for ins in &df.instructions {
            if let Some(at) = empty_continuation(cx.text(), ins, esc) {
                let blanks = blank_continuation_lines(cx.text(), ins, esc);
                found.push((Span::new(at, at + 1).in_file(ins.span.file), blanks));
            }
        }
        let file = cx.file().clone();
        for (span, blanks) in found {
            let d = cx
                .report(span, "this line continuation is followed by an empty line")
                .help("remove the empty line (or end the instruction here): BuildKit will make empty continuation lines an error");
            if !blanks.is_empty() {
                d.fix(super::fix_of(
                    &file,
                    Applicability::Safe,
                    "remove the empty lines of the continuation",
                    blanks.into_iter().map(|b| (b, String::new())),
                ));
            }
        }
    }
}

/// Every empty line (spaces and tabs only) inside the continuation of `ins`, each with its
/// line ending: what BuildKit drops from the instruction, so deleting them changes nothing
/// the build reads. Mirrors [`empty_continuation`], which stops at the first.
fn blank_continuation_lines(text: &str, ins: &Instruction, esc: u8) -> Vec<Span> {
    let mut out = Vec::new();
    let start = ins.span.start as usize;
    let mut end = (ins.span.end as usize).min(text.len());
    if let Some(h) = ins.heredocs.first() {
        let marker = (h.span.start as usize).min(end);
        end = (text.get(marker..end))
            .and_then(|r| r.find('\n'))
            .map_or(end, |p| marker + p);
    }
    let Some(region) = text.get(start..end) else {
        return out;
    };
    let mut pending = false;
    let mut offset = start;
    for line in region.split('\n') {
        let line_start = offset;
        offset += line.len() + 1;
        let body = line.strip_suffix('\r').unwrap_or(line);
        let trimmed = body.trim_start_matches([' ', '\t']);
        if pending {
            if trimmed.is_empty() {
                let stop = offset.min(text.len());
                if let (Ok(s), Ok(e)) = (u32::try_from(line_start), u32::try_from(stop)) {
                    out.push(Span::new(s, e));
                }
                continue;
            }
            if trimmed.starts_with('#') {
                continue;
            }
        } else if line_start != start {
            break;
        }
        let kept = body.trim_end_matches([' ', '\t']);
        pending = kept.as_bytes().last() == Some(&esc);
    }
    out
}

/// The offset of the escape character whose continuation runs into an empty line, in the
/// instruction's lines before its first heredoc body (BuildKit's parser reads heredoc bodies
/// apart). Comment lines inside the continuation are skipped, as BuildKit does.
fn empty_continuation(text: &str, ins: &Instruction, esc: u8) -> Option<u32> {
    let start = ins.span.start as usize;
    let mut end = (ins.span.end as usize).min(text.len());
    if let Some(h) = ins.heredocs.first() {
        let marker = (h.span.start as usize).min(end);
        end = text
            .get(marker..end)?
            .find('\n')
            .map_or(end, |p| marker + p);
    }
    let region = text.get(start..end)?;
    let mut pending: Option<usize> = None;
    let mut offset = start;
    for line in region.split('\n') {
        let line_start = offset;
        offset += line.len() + 1;
        let body = line.strip_suffix('\r').unwrap_or(line);
        let trimmed = body.trim_start_matches([' ', '\t']);
        if let Some(at) = pending {
            if trimmed.is_empty() {
                return u32::try_from(at).ok();
            }
            if trimmed.starts_with('#') {
                continue;
            }
        } else if line_start != start {
            return None; // the instruction ended before this line
        }
        let kept = body.trim_end_matches([' ', '\t']);
        pending = (kept.as_bytes().last() == Some(&esc)).then(|| line_start + kept.len() - 1);
    }
    None
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::findings;

    #[test]
    fn empty_lines_in_continuations() {
        let text = "FROM scratch\n# warning: empty continuation line\nCOPY Dockerfile \\\n\n.\nCOPY Dockerfile \\\n.\nRUN a \\\n  # comment\n   \\\n  b\nRUN <<EOF\nx \\\n\ny\nEOF\nRUN x \\\n \t\n  && y\n";
        let f = findings("no-empty-continuation", text);
        assert_eq!(
            f.iter().map(|f| f.1.as_str()).collect::<Vec<_>>(),
            ["3:17-3:18", "17:7-17:8"]
        );
    }
}
