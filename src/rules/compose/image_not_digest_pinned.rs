use crate::compose::model::ComposeFile;
use crate::dockerfile::semantics::split_image_ref;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// `image:` without `@sha256:...` (not for services that build it).
pub struct ImageNotDigestPinned;

impl Rule for ImageNotDigestPinned {
    fn meta(&self) -> &'static RuleMeta {
        docs::IMAGE_NOT_DIGEST_PINNED
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        for service in &compose.services {
            let Some((image, span)) = super::pulled_image(service) else {
                continue;
            };
            if split_image_ref(image).2.is_some() {
                continue;
            }
            cx.report(
                span,
                format!(
                    "service `{}` image `{}` is not pinned by digest",
                    super::svc(service),
                    crate::source::clip(image, 24)
                ),
            )
            .help(format!(
                "append the digest the tag points to: `{}@sha256:<digest>`",
                crate::source::clip(image, 40)
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{findings, messages};

    const RULE: &str = "image-not-digest-pinned";

    #[test]
    fn flags_without_digest() {
        let text = "services:\n  a:\n    image: nginx:1.27\n  b:\n    image: nginx:1.27@sha256:0000000000000000000000000000000000000000000000000000000000000000\n  c:\n    image: myapp:dev\n    build: .\n  d:\n    image: ${IMAGE}\n";
        assert_eq!(
            findings(RULE, text),
            vec![("SLC023", "nginx:1.27".to_string())]
        );
        assert_eq!(
            messages(RULE, text),
            vec!["service `a` image `nginx:1.27` is not pinned by digest"]
        );
    }
}
