use crate::compose::model::ComposeFile;
use crate::dockerfile::semantics::split_image_ref;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// `image:` with no tag, or the `latest` tag, and no digest (not for services that build it).
pub struct ImageUnpinned;

impl Rule for ImageUnpinned {
    fn meta(&self) -> &'static RuleMeta {
        docs::IMAGE_UNPINNED
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        for service in &compose.services {
            let Some((image, span)) = super::pulled_image(service) else {
                continue;
            };
            let (name, tag, digest) = split_image_ref(image);
            if digest.is_some() {
                continue;
            }
            let what = match tag {
                None => "has no tag",
                Some("latest") => "uses the `latest` tag",
                Some(_) => continue,
            };
            cx.report(
                span,
                format!(
                    "service `{}` image `{}` {what}",
                    super::svc(service),
                    crate::source::clip(image, 26)
                ),
            )
            .help(format!(
                "pin a version tag, ideally with its digest: `{}:<version>@sha256:<digest>`",
                crate::source::clip(name, 40)
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{findings, messages};

    const RULE: &str = "image-unpinned";

    #[test]
    fn flags_untagged_and_latest() {
        let text = "services:\n  a:\n    image: nginx\n  b:\n    image: \"registry:5000/app:latest\"\n  c:\n    image: nginx:1.27\n  d:\n    image: nginx@sha256:0000000000000000000000000000000000000000000000000000000000000000\n  e:\n    image: registry:5000/app\n  f:\n    image: myapp\n    build: .\n  g:\n    image: ${IMAGE}\n  h:\n    image: app:${TAG:-latest}\n";
        assert_eq!(
            findings(RULE, text),
            vec![
                ("SLC022", "nginx".to_string()),
                ("SLC022", "\"registry:5000/app:latest\"".to_string()),
                ("SLC022", "registry:5000/app".to_string()),
                ("SLC022", "app:${TAG:-latest}".to_string())
            ]
        );
        assert_eq!(
            messages(RULE, text).get(..2).map(<[String]>::to_vec),
            Some(vec![
                "service `a` image `nginx` has no tag".to_string(),
                "service `b` image `registry:5000/app:latest` uses the `latest` tag".to_string()
            ])
        );
    }
}
