use crate::dockerfile::edit::TextEdit;
use crate::dockerfile::model::{Dockerfile, Keyword};
use crate::docs::{self, RuleMeta};
use crate::fix::Applicability;
use crate::rules::{Ctx, Rule};
use crate::source::Span;

/// SLD031: a stage name with upper-case letters (BuildKit's `StageNameCasing`).
pub struct StageNameCasing;

/// The name's definition and the references that spell it exactly as written (`FROM Build`,
/// `COPY --from=Build`, `ONBUILD` triggers included): lowercased. Safe: BuildKit reads stage
/// names without case, so every reference still names the same stage.
fn rename_edits(
    df: &Dockerfile,
    text: &str,
    written: &str,
    lower: &str,
    def: Span,
) -> Vec<TextEdit> {
    let mut edits = vec![(def, lower.to_owned())];
    for ins in &df.instructions {
        let ins = match (ins.kind, ins.onbuild.as_deref()) {
            (Keyword::Onbuild, Some(trigger)) => trigger,
            _ => ins,
        };
        if ins.kind == Keyword::From
            && let Some(image) = ins.words().first()
            && text.get(image.span.range()) == Some(written)
        {
            edits.push((image.span, lower.to_owned()));
        }
        if matches!(ins.kind, Keyword::Copy | Keyword::Add)
            && let Some(value) = ins.flag("from").and_then(|f| f.value.as_ref())
            && text.get(value.span.range()) == Some(written)
        {
            edits.push((value.span, lower.to_owned()));
        }
    }
    edits
}

impl Rule for StageNameCasing {
    fn meta(&self) -> &'static RuleMeta {
        docs::STAGE_NAME_CASING
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        let file = cx.file().clone();
        for stage in &df.stages {
            let Some(name) = &stage.name else { continue };
            // the name as written (the model keeps it lowercased, as BuildKit does)
            let written = file.slice(name.span);
            // as BuildKit: only `FROM image AS name` with nothing after the name
            let words = df
                .instructions
                .get(stage.from)
                .map_or(0, |i| i.words().len());
            if words == 3 && written != written.to_lowercase() {
                let shown = crate::dockerfile::analysis::snippet(written, 60);
                let edits = rename_edits(df, &file.text, written, &name.value, name.span);
                cx.report(name.span, format!("stage name `{shown}` is not lowercase"))
                    .help(format!(
                        "write it `{}`: BuildKit lowercases stage names, so other spellings only mislead",
                        crate::dockerfile::analysis::snippet(&name.value, 60)
                    ))
                    .fix(super::fix_of(
                        &file,
                        Applicability::Safe,
                        format!(
                            "write the stage name `{}` here and where it is used",
                            crate::dockerfile::analysis::snippet(&name.value, 60)
                        ),
                        edits,
                    ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::findings;

    #[test]
    fn flags_upper_case_names() {
        let f = findings(
            "stage-name-casing",
            "FROM a:1 AS Build\nFROM b:1 AS build2\nFROM c:1 AS BASE\n",
        );
        assert_eq!(
            f.iter().map(|f| f.1.as_str()).collect::<Vec<_>>(),
            ["1:13-1:18", "3:13-3:17"]
        );
        assert_eq!(f[0].2, "stage name `Build` is not lowercase");
    }
}
