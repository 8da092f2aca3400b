use crate::dockerfile::analysis;
use crate::dockerfile::model::{Dockerfile, Keyword};
use crate::docs::{self, RuleMeta};
use crate::fix::Applicability;
use crate::rules::{Ctx, Rule};

/// SLD017: `RUN --security=insecure` or `RUN --network=host`.
pub struct InsecureRunMode;

impl Rule for InsecureRunMode {
    fn meta(&self) -> &'static RuleMeta {
        docs::INSECURE_RUN_MODE
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        let file = cx.file().clone();
        for loc in analysis::instructions_of(df, Keyword::Run) {
            for flag in &loc.ins.flags {
                let value = flag
                    .unquoted_value()
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                let (message, help) = match (flag.name.value.as_str(), value.as_str()) {
                    ("security", "insecure") => (
                        "`RUN --security=insecure` runs the build step without sandboxing (like `--privileged`)",
                        "remove `--security=insecure`; if a step needs a device or a capability, do it outside the image build",
                    ),
                    ("network", "host") => (
                        "`RUN --network=host` gives the build step the host's network",
                        "remove `--network=host`: use the default network, or `--network=none` for steps that need no network",
                    ),
                    _ => continue,
                };
                let edit = crate::dockerfile::edit::delete_flag(&file.text, flag);
                let d = cx.report(flag.span, message).help(help);
                if let Some(edit) = edit {
                    d.fix(super::fix_of(
                        &file,
                        Applicability::Unsafe,
                        format!("remove `{}`", file.slice(flag.span)),
                        [edit],
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::{findings, spans};

    const R: &str = "insecure-run-mode";

    #[test]
    fn flags_modes() {
        assert_eq!(
            findings(R, "FROM a:1\nRUN --network=host apk add curl\n"),
            vec![(
                "SLD017",
                "2:5-2:19".to_string(),
                "`RUN --network=host` gives the build step the host's network".to_string()
            )]
        );
        assert_eq!(
            spans(
                R,
                "FROM a:1\nRUN --security=insecure --network=\"host\" make\nONBUILD RUN --security=insecure x\n"
            ),
            vec![
                "--security=insecure",
                "--network=\"host\"",
                "--security=insecure"
            ]
        );
    }

    #[test]
    fn not_flagged() {
        for text in [
            "FROM a:1\nRUN --network=none make\n",
            "FROM a:1\nRUN --security=sandbox make\n",
            "FROM a:1\nRUN --mount=type=cache,target=/root/.cache make\n",
            "FROM a:1\nRUN echo --network=host\n",
        ] {
            assert_eq!(spans(R, text), Vec::<String>::new(), "{text}");
        }
    }
}
