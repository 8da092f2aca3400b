use crate::dockerfile::model::{Dockerfile, unquote};
use crate::dockerfile::vars::var_refs;
use crate::docs::{self, RuleMeta};
use crate::fix::Applicability;
use crate::rules::{Ctx, Rule};

/// SLD039: `FROM --platform=$TARGETPLATFORM` (BuildKit's `RedundantTargetPlatform`).
pub struct RedundantTargetPlatform;

impl Rule for RedundantTargetPlatform {
    fn meta(&self) -> &'static RuleMeta {
        docs::REDUNDANT_TARGET_PLATFORM
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        let esc = df.escape_char();
        for stage in &df.stages {
            let Some(platform) = &stage.platform else {
                continue;
            };
            let written = unquote(&platform.value);
            let refs = var_refs(written, esc, true);
            // the whole value is `$TARGETPLATFORM`, `${TARGETPLATFORM}` or a default of it
            // (TARGETPLATFORM is always set, so `${TARGETPLATFORM:-x}` is its value)
            let [r] = refs.as_slice() else { continue };
            if r.name != "TARGETPLATFORM"
                || !matches!(r.modifier, None | Some('-') | Some(':'))
                || (r.modifier == Some(':') && !written[r.range.clone()].contains(":-"))
                || r.range != (0..written.len())
            {
                continue;
            }
            let edit = (df.instructions.get(stage.from))
                .and_then(|ins| ins.flag("platform"))
                .and_then(|f| crate::dockerfile::edit::delete_flag(cx.text(), f));
            let file = cx.file().clone();
            let d = cx
                .report(
                    platform.span,
                    format!("`--platform={written}` is redundant: a stage is built for the target platform by default"),
                )
                .help("remove the `--platform` flag");
            if let Some(edit) = edit {
                d.fix(super::fix_of(
                    &file,
                    Applicability::Safe,
                    "remove the `--platform` flag",
                    [edit],
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::findings;

    #[test]
    fn target_platform_alone() {
        let text = "FROM --platform=$TARGETPLATFORM scratch\nFROM --platform=${TARGETPLATFORM} scratch\nFROM --platform=\"$TARGETPLATFORM\" a\nFROM --platform=$BUILDPLATFORM a\nFROM --platform=${TARGETPLATFORM:+x} a\nFROM --platform=$TARGETPLATFORM$X a\n";
        let f = findings("redundant-target-platform", text);
        assert_eq!(
            f.iter().map(|f| f.1.as_str()).collect::<Vec<_>>(),
            ["1:17-1:32", "2:17-2:34", "3:17-3:34"]
        );
        assert_eq!(
            f[0].2,
            "`--platform=$TARGETPLATFORM` is redundant: a stage is built for the target platform by default"
        );
    }
}
