use std::collections::HashMap;

use crate::dockerfile::model::{Dockerfile, Keyword};
use crate::docs::{self, RuleMeta};
use crate::fix::Applicability;
use crate::rules::{Ctx, Rule};
use crate::source::Span;

/// SLD031: a stage name with upper-case letters (BuildKit's `StageNameCasing`).
pub struct StageNameCasing;

/// The places that may name a stage, by their text as written: the image word of `FROM` and
/// the value of `COPY`/`ADD --from=` (`ONBUILD` triggers included). One pass over the file,
/// so that a rename costs a lookup, however many stages there are.
fn references<'t>(df: &Dockerfile, text: &'t str) -> HashMap<&'t str, Vec<Span>> {
    let mut out: HashMap<&str, Vec<Span>> = HashMap::new();
    for ins in &df.instructions {
        let ins = match (ins.kind, ins.onbuild.as_deref()) {
            (Keyword::Onbuild, Some(trigger)) => trigger,
            _ => ins,
        };
        let span = match ins.kind {
            Keyword::From => ins.words().first().map(|w| w.span),
            Keyword::Copy | Keyword::Add => (ins.flag("from"))
                .and_then(|f| f.value.as_ref())
                .map(|v| v.span),
            _ => None,
        };
        if let Some(span) = span
            && let Some(written) = text.get(span.range())
        {
            out.entry(written).or_default().push(span);
        }
    }
    out
}

impl Rule for StageNameCasing {
    fn meta(&self) -> &'static RuleMeta {
        docs::STAGE_NAME_CASING
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        let file = cx.file().clone();
        let mut refs: Option<HashMap<&str, Vec<Span>>> = None;
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
                // the definition, and the references that spell it exactly as written: safe,
                // BuildKit reads stage names without case, so each names the same stage
                let refs = refs.get_or_insert_with(|| references(df, &file.text));
                let mut edits = vec![(name.span, name.value.clone())];
                for &span in refs.get(written).map_or(&[][..], Vec::as_slice) {
                    edits.push((span, name.value.clone()));
                }
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
