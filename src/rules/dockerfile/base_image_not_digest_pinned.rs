use crate::dockerfile::analysis;
use crate::dockerfile::model::Dockerfile;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// SLD012: a `FROM` image without an `@sha256:` digest.
pub struct BaseImageNotDigestPinned;

impl Rule for BaseImageNotDigestPinned {
    fn meta(&self) -> &'static RuleMeta {
        docs::BASE_IMAGE_NOT_DIGEST_PINNED
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        let file = cx.file().clone();
        for base in analysis::base_images(df) {
            let (name, tag, digest) = base.parts();
            if digest.is_some() {
                continue;
            }
            let d = cx.report(
                base.stage.image.span,
                format!("base image {} is not pinned by digest", base.shown),
            );
            d.help(format!(
                "pin the digest the tag points to: `{}:{}@sha256:<digest>` (see `docker buildx imagetools inspect`)",
                analysis::snippet(name, 40),
                tag.unwrap_or("<version>")
            ));
            base.label_arg_defaults(d, df, &file);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::{findings, spans};

    const R: &str = "base-image-not-digest-pinned";

    #[test]
    fn flags_missing_digest() {
        assert_eq!(
            findings(
                R,
                "FROM python:3.12-slim AS build\nFROM build\nFROM alpine\n"
            ),
            vec![
                (
                    "SLD012",
                    "1:6-1:22".to_string(),
                    "base image `python:3.12-slim` is not pinned by digest".to_string()
                ),
                (
                    "SLD012",
                    "3:6-3:12".to_string(),
                    "base image `alpine` is not pinned by digest".to_string()
                ),
            ]
        );
        assert_eq!(
            spans(R, "ARG TAG=3.20\nFROM alpine:${TAG}\n"),
            vec!["alpine:${TAG}"]
        );
    }

    #[test]
    fn not_flagged() {
        for text in [
            "FROM scratch\n",
            "FROM alpine:3.20@sha256:0123456789abcdef\n",
            "ARG D=sha256:0123\nFROM alpine@${D}\n",
            "ARG IMAGE\nFROM $IMAGE\n",
            "FROM alpine@sha256:0123 AS a\nFROM a\n",
        ] {
            assert_eq!(spans(R, text), Vec::<String>::new(), "{text}");
        }
    }
}
