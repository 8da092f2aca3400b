use crate::compose::devcontainer::Devcontainer;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// SLV003: a feature referenced without a version tag or digest.
pub struct FeatureNotPinned;

impl Rule for FeatureNotPinned {
    fn meta(&self) -> &'static RuleMeta {
        docs::FEATURE_NOT_PINNED
    }

    fn check_devcontainer(&self, cx: &mut Ctx<'_>, dc: &Devcontainer) {
        for f in &dc.features {
            let r = super::feature_ref(&f.id.value);
            if r.local || r.url || r.digest {
                continue;
            }
            let id = crate::source::clip(&f.id.value, 60);
            let message = match r.tag {
                Some("latest") => format!("feature `{id}` is referenced by `latest`"),
                Some(_) => continue,
                None if r.legacy => format!(
                    "feature `{id}` is a legacy short id: the latest version of a retired feature"
                ),
                None => format!("feature `{id}` has no version: the latest one is installed"),
            };
            cx.report(f.id.span, message).help(
                "pin it to a version (`…/node:1.5.0`) or a digest (`…/node@sha256:…`); \
                 `devcontainer-lock.json` records the digests",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{FileKind, Selection, lint_text};

    fn found(features: &str) -> Vec<String> {
        let text = format!("{{ \"image\": \"x\", \"features\": {{ {features} }} }}");
        lint_text(
            FileKind::Devcontainer,
            "devcontainer.json",
            &text,
            &Selection::only("SLV003"),
        )
        .into_iter()
        .map(|d| text[d.span.range()].to_string())
        .collect()
    }

    #[test]
    fn unversioned_latest_and_legacy() {
        assert_eq!(
            found(
                r#""ghcr.io/devcontainers/features/node": {}, "ghcr.io/devcontainers/features/go:1": {}, "ghcr.io/a/b:latest": {}, "git": "latest", "./local": {}, "ghcr.io/a/c@sha256:00": {}"#
            ),
            [
                "\"ghcr.io/devcontainers/features/node\"",
                "\"ghcr.io/a/b:latest\"",
                "\"git\""
            ]
        );
    }
}
