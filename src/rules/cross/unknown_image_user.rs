use crate::compose::model::{ComposeFile, Value};
use crate::dockerfile::model::Dockerfile;
use crate::dockerfile::semantics;
use crate::docs::{self, RuleMeta};
use crate::rules::well_known_images::{self, BaseUser, DefaultUser, base_user};
use crate::rules::{Ctx, Rule};

/// A service that runs an image by name without `user:`, or a Dockerfile whose final stage sets
/// no `USER` on a registry base image: the user is whatever that image says, which sandlint
/// cannot see (no registry access) unless the image is in [`well_known_images`].
pub struct UnknownImageUser;

const HELP_DOCKERFILE: &str = "add a numeric non-root `USER` (e.g. `USER 10001:10001`) that the image works with; `docker image inspect -f '{{.Config.User}}' IMAGE` shows the base image's user";

impl Rule for UnknownImageUser {
    fn meta(&self) -> &'static RuleMeta {
        docs::UNKNOWN_IMAGE_USER
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        let Some(stage) = df.final_stage() else {
            return;
        };
        let eu = semantics::effective_user(df, stage);
        if eu.instruction.is_some() {
            return;
        }
        let BaseUser::Unknown { image } = base_user(df, &eu) else {
            return;
        };
        let file = cx.file().clone();
        let d = cx.report(
            eu.from.span,
            format!(
                "no `USER` is set: the user of base image `{}` is unknown",
                crate::source::clip(&image, 40)
            ),
        );
        d.help(HELP_DOCKERFILE);
        if let Some(user) = crate::rules::dockerfile::builder_only_user(df, stage) {
            d.label(
                &file,
                user.span,
                "this `USER` applies only to an earlier build stage",
            );
        }
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
            let known = well_known_images::lookup(name).map(|k| k.user);
            if matches!(known, Some(DefaultUser::NonRoot(_)))
                || semantics::base_image_runs_as_nonroot(name)
            {
                continue;
            }
            let shown = crate::source::clip(name, 32);
            let service = crate::source::clip(&s.name.value, 24);
            let message = if known == Some(DefaultUser::Root) {
                format!("service `{service}` runs image `{shown}` as root (the image sets no user)")
            } else {
                format!("service `{service}` runs image `{shown}` as an unknown user")
            };
            cx.report(image.span, message)
            .help("set a numeric non-root `user:` (e.g. `user: \"10001:10001\"`) that the image works with");
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{FileKind, Selection, lint_text};

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
        // Known non-root images need no `user:`.
        assert!(codes("services:\n  a:\n    image: grafana/grafana:11.1.0\n").is_empty());
        assert!(codes("services:\n  a:\n    image: gcr.io/distroless/static:nonroot\n").is_empty());
    }

    fn dockerfile(text: &str) -> Vec<(String, String)> {
        lint_text(
            FileKind::Dockerfile,
            "Dockerfile",
            text,
            &Selection::only("unknown-image-user"),
        )
        .iter()
        .map(|d| {
            (
                format!("{}@{}", d.rule.code, d.file.slice(d.span)),
                d.message.clone(),
            )
        })
        .collect()
    }

    #[test]
    fn dockerfile_on_a_registry_base_without_user() {
        assert_eq!(
            dockerfile("FROM ghcr.io/acme/base:1\nRUN true\n"),
            [(
                "SLX001@FROM ghcr.io/acme/base:1".to_string(),
                "no `USER` is set: the user of base image `ghcr.io/acme/base:1` is unknown"
                    .to_string()
            )]
        );
        assert_eq!(dockerfile("ARG B\nFROM $B AS x\nFROM x\n").len(), 1);
        for text in [
            "FROM grafana/grafana\n",
            "FROM alpine:3.20\n",
            "FROM scratch\n",
            "FROM ghcr.io/acme/base:1\nUSER 10001\n",
            "FROM ghcr.io/acme/base:1\nUSER root\n",
            "FROM ghcr.io/acme/base:1\nARG U\nUSER $U\n",
            "FROM gcr.io/distroless/static:nonroot\n",
        ] {
            assert!(dockerfile(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn compose_image_known_to_run_as_root_says_so() {
        let d = lint_text(
            FileKind::Compose,
            "compose.yaml",
            "services:\n  db:\n    image: postgres:16\n",
            &Selection::only("unknown-image-user"),
        );
        assert_eq!(d.len(), 1);
        assert_eq!(
            d[0].message,
            "service `db` runs image `postgres:16` as root (the image sets no user)"
        );
    }
}
