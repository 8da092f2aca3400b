use crate::compose::model::{ComposeFile, Value};
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// A service that runs an image by name without `user:`: the user is whatever the image says,
/// which sandlint cannot see (no registry access), and most images say root.
pub struct UnknownImageUser;

impl Rule for UnknownImageUser {
    fn meta(&self) -> &'static RuleMeta {
        docs::UNKNOWN_IMAGE_USER
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        for s in &compose.services {
            if s.user.is_some() || s.build.is_some() {
                continue;
            }
            let Some(image) = &s.image else { continue };
            let Value::Known(name) = &image.value else {
                continue;
            };
            if name.is_empty() {
                continue;
            }
            let shown = crate::rules::clip(name, 32);
            let service = crate::rules::clip(&s.name.value, 24);
            cx.report(image.span, format!("service `{service}` runs image `{shown}` as an unknown user"))
            .help("set a numeric non-root `user:` (e.g. `user: \"10001:10001\"`) that the image works with");
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::linter::{FileKind, Selection, lint_text};

    fn codes(text: &str) -> Vec<String> {
        lint_text(
            FileKind::Compose,
            "compose.yaml",
            text,
            &Selection::only("unknown-image-user"),
        )
        .iter()
        .map(|d| format!("{}@{}", d.rule.code, d.file.slice(d.span)))
        .collect()
    }

    #[test]
    fn image_without_user() {
        assert_eq!(
            codes("services:\n  a:\n    image: redis:7\n"),
            ["SLX001@redis:7"]
        );
        assert!(codes("services:\n  a:\n    image: redis:7\n    user: '999'\n").is_empty());
        assert!(codes("services:\n  a:\n    image: app:1\n    build: .\n").is_empty());
        assert!(codes("services:\n  a:\n    image: ${IMG}\n").is_empty());
    }
}
