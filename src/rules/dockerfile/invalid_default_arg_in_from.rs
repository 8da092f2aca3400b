use crate::dockerfile::globals;
use crate::dockerfile::model::Dockerfile;
use crate::dockerfile::reference::is_valid_reference;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// SLD038: a `FROM` image that uses variables is empty or not a valid reference with the
/// global `ARG` defaults, i.e. in a build without `--build-arg` (BuildKit's
/// `InvalidDefaultArgInFrom`).
pub struct InvalidDefaultArgInFrom;

impl Rule for InvalidDefaultArgInFrom {
    fn meta(&self) -> &'static RuleMeta {
        docs::INVALID_DEFAULT_ARG_IN_FROM
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        for stage in &df.stages {
            let image = &stage.image;
            if !image.value.contains('$') {
                continue;
            }
            let Some(expanded) = globals::expand_with_defaults(df, &image.value) else {
                continue;
            };
            if is_valid_reference(&expanded) {
                continue;
            }
            let written = crate::source::clip(&image.value, 60);
            // a value with `@` that is not a digest could carry credentials: not shown
            let result = if expanded.is_empty() {
                "an empty image name".to_string()
            } else if expanded.contains('@') {
                "not a valid image reference".to_string()
            } else {
                format!(
                    "`{}`, not a valid image reference",
                    crate::source::clip(&expanded, 60)
                )
            };
            cx.report(
                image.span,
                format!("with the `ARG` defaults, `FROM {written}` is {result}"),
            )
            .help("give the global `ARG` a default that makes a valid image, so that a build without `--build-arg` works");
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::findings;

    #[test]
    fn defaults_that_break_from() {
        let text = "ARG VERSION\nARG IMAGE\nARG SFX=\"box:\"\nARG OK=latest\nARG V=\"\"\nFROM busybox:$VERSION\nFROM $IMAGE\nFROM busy${SFX}\nFROM busybox:${OK}\nFROM busybox:stable${V}\nFROM busybox:${VERSION:-1}\nFROM $UNSET_TOO\nFROM ${IMAGE-alpine}\n";
        let f = findings("invalid-default-arg-in-from", text);
        assert_eq!(
            f.iter().map(|f| f.1.as_str()).collect::<Vec<_>>(),
            ["6:6-6:22", "7:6-7:12", "8:6-8:16", "12:6-12:16"]
        );
        assert_eq!(
            f[0].2,
            "with the `ARG` defaults, `FROM busybox:$VERSION` is `busybox:`, not a valid image reference"
        );
        assert_eq!(
            f[1].2,
            "with the `ARG` defaults, `FROM $IMAGE` is an empty image name"
        );
    }
}
