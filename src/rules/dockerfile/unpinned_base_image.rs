use crate::dockerfile::analysis;
use crate::dockerfile::model::Dockerfile;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// SLD002: a `FROM` image without a tag, or with `latest`, and no digest.
pub struct UnpinnedBaseImage;

impl Rule for UnpinnedBaseImage {
    fn meta(&self) -> &'static RuleMeta {
        docs::UNPINNED_BASE_IMAGE
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        let file = cx.file().clone();
        for base in analysis::base_images(df) {
            let (name, tag, digest) = base.parts();
            if digest.is_some() {
                continue;
            }
            let what = match tag {
                None => "has no tag",
                Some("latest") => "uses the `latest` tag",
                Some(_) => continue,
            };
            let d = cx.report(
                base.stage.image.span,
                format!("base image {} {what}", base.shown),
            );
            d.help(format!(
                "pin a version tag and a digest: `{}:<version>@sha256:<digest>`",
                analysis::snippet(name, 50)
            ));
            base.label_arg_defaults(d, df, &file);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::{diagnostics, findings, spans};

    const R: &str = "unpinned-base-image";

    #[test]
    fn flags_untagged_and_latest() {
        let text =
            "FROM --platform=$BUILDPLATFORM golang AS build\nFROM alpine:latest\nFROM build AS t\n";
        assert_eq!(
            findings(R, text),
            vec![
                (
                    "SLD002",
                    "1:32-1:38".to_string(),
                    "base image `golang` has no tag".to_string()
                ),
                (
                    "SLD002",
                    "2:6-2:19".to_string(),
                    "base image `alpine:latest` uses the `latest` tag".to_string()
                ),
            ]
        );
    }

    #[test]
    fn registry_port_is_not_a_tag() {
        assert_eq!(
            spans(R, "FROM localhost:5000/app\n"),
            vec!["localhost:5000/app"]
        );
        assert_eq!(
            spans(R, "FROM localhost:5000/app:1.2\n"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn resolves_global_args() {
        let text = "ARG BASE=node\nARG TAG=latest\nFROM ${BASE}:${TAG}\n";
        let d = diagnostics(R, text);
        assert_eq!(d.len(), 1);
        assert_eq!(
            d[0].message,
            "base image `${BASE}:${TAG}` (`node:latest`) uses the `latest` tag"
        );
        assert_eq!(d[0].labels.len(), 2);
        assert_eq!(&text[d[0].labels[1].span.range()], "TAG=latest");
    }

    #[test]
    fn not_flagged() {
        for text in [
            "FROM alpine:3.20\n",
            "FROM scratch\n",
            "FROM alpine@sha256:0123456789abcdef\n",
            "FROM alpine:latest@sha256:0123456789abcdef\n",
            "ARG TAG\nFROM alpine:$TAG\n",
            "ARG IMAGE\nFROM $IMAGE\n",
            "ARG V=3.20\nFROM alpine:${V}\n",
            "FROM alpine:3.20 AS Base\nFROM base\n",
            "ARG B=base\nFROM alpine:3.20 AS base\nFROM $B\n",
            "FROM --platform=linux/amd64 alpine:3.20\n",
        ] {
            assert_eq!(findings(R, text), vec![], "{text}");
        }
    }
}
