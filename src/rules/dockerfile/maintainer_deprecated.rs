use crate::dockerfile::edit::{self, TextEdit};
use crate::dockerfile::model::{Dockerfile, Instruction, Keyword};
use crate::docs::{self, RuleMeta};
use crate::fix::Applicability;
use crate::rules::{Ctx, Rule};
use crate::source::Span;

/// SLD025: `MAINTAINER` (BuildKit's `MaintainerDeprecated`).
pub struct MaintainerDeprecated;

impl Rule for MaintainerDeprecated {
    fn meta(&self) -> &'static RuleMeta {
        docs::MAINTAINER_DEPRECATED
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        let file = cx.file().clone();
        for ins in (df.instructions.iter()).filter(|i| i.kind == Keyword::Maintainer) {
            let d = cx
                .report(ins.keyword.span, "`MAINTAINER` is deprecated")
                .help("name the author with `LABEL org.opencontainers.image.authors=\"…\"`");
            if let Some(edit) = as_label(&file.text, ins) {
                d.fix(super::fix_of(
                    &file,
                    Applicability::Safe,
                    "write the author as the `org.opencontainers.image.authors` label",
                    [edit],
                ));
            }
        }
    }
}

/// `MAINTAINER text` → `LABEL org.opencontainers.image.authors="text"`, when the text is one
/// line that reads the same inside double quotes (no `"`, `\\`, `` ` ``, `$`: `LABEL` expands
/// variables, `MAINTAINER` does not).
fn as_label(text: &str, ins: &Instruction) -> Option<TextEdit> {
    let args = ins.args.text()?;
    let value = args.value.trim();
    let written = text.get(args.span.range())?;
    let plain = args.pieces.len() == 1
        && written.trim() == value
        && !value.is_empty()
        && !value.contains(['"', '\\', '`', '$', '\n', '\r']);
    if !plain || !ins.heredocs.is_empty() {
        return None;
    }
    let label = edit::keyword_in_case_of(ins, "LABEL");
    let end = args.span.start as usize + written.trim_end().len();
    Some((
        Span::new(ins.keyword.span.start, u32::try_from(end).ok()?),
        format!("{label} org.opencontainers.image.authors=\"{value}\""),
    ))
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::findings;

    #[test]
    fn flags_maintainer() {
        assert_eq!(
            findings(
                "maintainer-deprecated",
                "FROM a:1\nmaintainer Jo <jo@example.com>\nLABEL maintainer=jo\n"
            ),
            vec![(
                "SLD025",
                "2:1-2:11".to_string(),
                "`MAINTAINER` is deprecated".to_string()
            )]
        );
    }
}
