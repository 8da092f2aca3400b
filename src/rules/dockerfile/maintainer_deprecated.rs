use crate::dockerfile::model::{Dockerfile, Keyword};
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// SLD025: `MAINTAINER` (BuildKit's `MaintainerDeprecated`).
pub struct MaintainerDeprecated;

impl Rule for MaintainerDeprecated {
    fn meta(&self) -> &'static RuleMeta {
        docs::MAINTAINER_DEPRECATED
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        for ins in (df.instructions.iter()).filter(|i| i.kind == Keyword::Maintainer) {
            cx.report(ins.keyword.span, "`MAINTAINER` is deprecated")
                .help("name the author with `LABEL org.opencontainers.image.authors=\"…\"`");
        }
    }
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
