use crate::dockerfile::analysis;
use crate::dockerfile::model::{Dockerfile, Keyword};
use crate::dockerfile::semantics;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// SLD018: `COPY --from=<stage> / <dst>` copies a whole filesystem.
pub struct CopyFilesystemRootFromStage;

/// Sources that mean "the root of the other filesystem".
fn is_root(src: &str) -> bool {
    let trimmed = src.trim_end_matches(['/', '.', '*']);
    src.starts_with('/')
        && trimmed.is_empty()
        && !src.contains("..")
        && matches!(src, "/" | "//" | "/." | "/./" | "/*")
}

impl Rule for CopyFilesystemRootFromStage {
    fn meta(&self) -> &'static RuleMeta {
        docs::COPY_FILESYSTEM_ROOT_FROM_STAGE
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        for loc in analysis::instructions_of(df, Keyword::Copy) {
            let Some(from) = loc.ins.flag("from").and_then(|f| f.unquoted_value()) else {
                continue;
            };
            let from = semantics::expand_with_args(df, &from, loc.scope()).unwrap_or(from);
            let what = if analysis::is_stage_ref(df, &from, loc.index)
                || from.bytes().all(|b| b.is_ascii_digit())
            {
                "stage"
            } else {
                "image"
            };
            for (src, span) in analysis::add_sources(loc.ins) {
                if is_root(&src) {
                    cx.report(
                        span,
                        format!(
                            "`COPY --from={}` copies the whole filesystem of {what} `{}`",
                            analysis::snippet(&from, 30),
                            analysis::snippet(&from, 30)
                        ),
                    )
                    .help(
                        "copy only the files the image needs (the built binary, its assets), e.g. `COPY --from=build /out/app /usr/local/bin/app`",
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::{findings, spans};

    const R: &str = "copy-filesystem-root-from-stage";

    #[test]
    fn flags_root() {
        assert_eq!(
            findings(
                R,
                "FROM alpine:3 AS build\nRUN make\nFROM scratch\nCOPY --from=build / /\n"
            ),
            vec![(
                "SLD018",
                "4:19-4:20".to_string(),
                "`COPY --from=build` copies the whole filesystem of stage `build`".to_string()
            )]
        );
        assert_eq!(
            spans(
                R,
                "FROM a:1\nCOPY --from=busybox:1.36 /. /rootfs/\nCOPY --from=0 [\"/\", \"/x\"]\n"
            ),
            vec!["/.", "\"/\""]
        );
    }

    #[test]
    fn not_flagged() {
        for text in [
            "FROM a:1 AS b\nFROM a:1\nCOPY --from=b /out/app /app\n",
            "FROM a:1\nCOPY / /x\n",
            "FROM a:1 AS b\nFROM a:1\nCOPY --from=b /etc/ /etc/\n",
        ] {
            assert_eq!(spans(R, text), Vec::<String>::new(), "{text}");
        }
    }
}
