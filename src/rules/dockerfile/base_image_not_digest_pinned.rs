use crate::dockerfile::model::{Dockerfile, Keyword};
use crate::dockerfile::semantics::{self, Scope};
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
        for stage in &df.stages {
            if semantics::parent_stage(df, stage).is_some() {
                continue;
            }
            let written = stage.image.value.as_str();
            let Some(image) = semantics::expand_with_args(df, written, Scope::Global) else {
                continue;
            };
            if image.is_empty() || image.eq_ignore_ascii_case("scratch") {
                continue;
            }
            let (name, tag, digest) = semantics::split_image_ref(&image);
            if digest.is_some() {
                continue;
            }
            let shown = if written == image {
                format!("`{}`", super::snippet(written, 60))
            } else {
                format!(
                    "`{}` (`{}`)",
                    super::snippet(written, 30),
                    super::snippet(&image, 30)
                )
            };
            let d = cx.report(
                stage.image.span,
                format!("base image {shown} is not pinned by digest"),
            );
            d.help(format!(
                "pin the digest the tag points to: `{}:{}@sha256:<digest>` (see `docker buildx imagetools inspect`)",
                super::snippet(name, 40),
                tag.unwrap_or("<version>")
            ));
            if written.contains('$') {
                for ins in df.global_args().iter().filter(|i| i.kind == Keyword::Arg) {
                    for kv in ins.args.pairs() {
                        let key = &kv.key.value;
                        let used = written.contains(&format!("${key}"))
                            || written.contains(&format!("${{{key}"));
                        if used && kv.raw_value.is_some() {
                            d.label(&file, kv.span, format!("`{key}` defaults to this value"));
                        }
                    }
                }
            }
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
