use crate::compose::devcontainer::Devcontainer;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// SLV004: a feature whose metadata grants the container privileges.
pub struct PrivilegedFeature;

/// Features of `devcontainers/features` whose `devcontainer-feature.json` adds privileges to
/// the container (read at commit 765e8eb, 2026-07-14), with what they add. Legacy short ids
/// map to the same features.
const GRANTS: &[(&str, &str)] = &[
    (
        "docker-in-docker",
        "runs the container privileged (`privileged: true`)",
    ),
    (
        "docker-outside-of-docker",
        "bind-mounts the host's Docker socket (`/var/run/docker.sock`: root on the host) and \
         disables SELinux labels (`label=disable`)",
    ),
    (
        "docker-from-docker",
        "bind-mounts the host's Docker socket (`/var/run/docker.sock`: root on the host) and \
         disables SELinux labels (`label=disable`)",
    ),
    (
        "go",
        "adds `SYS_PTRACE` and disables seccomp (`seccomp=unconfined`)",
    ),
    (
        "rust",
        "adds `SYS_PTRACE` and disables seccomp (`seccomp=unconfined`)",
    ),
];

impl Rule for PrivilegedFeature {
    fn meta(&self) -> &'static RuleMeta {
        docs::PRIVILEGED_FEATURE
    }

    fn check_devcontainer(&self, cx: &mut Ctx<'_>, dc: &Devcontainer) {
        for f in &dc.features {
            let r = super::feature_ref(&f.id.value);
            let Some(name) = super::official_name(&r) else {
                continue;
            };
            let Some((_, grant)) = GRANTS.iter().find(|(n, _)| *n == name) else {
                continue;
            };
            let id = crate::source::clip(&f.id.value, 60);
            cx.report(f.id.span, format!("feature `{id}` {grant}"))
                .help(
                    "prefer a rootless alternative (a remote builder, Podman rootless, a debugger \
                 attached with the one capability it needs), or suppress with the reason the dev \
                 box needs it",
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
            &Selection::only("SLV004"),
        )
        .into_iter()
        .map(|d| d.message)
        .collect()
    }

    #[test]
    fn known_grants() {
        assert_eq!(
            found(
                r#""ghcr.io/devcontainers/features/docker-in-docker:2": {}, "ghcr.io/devcontainers/features/node:1": {}, "docker-from-docker": "latest", "ghcr.io/other/features/docker-in-docker:1": {}"#
            ),
            [
                "feature `ghcr.io/devcontainers/features/docker-in-docker:2` runs the container privileged (`privileged: true`)",
                "feature `docker-from-docker` bind-mounts the host's Docker socket (`/var/run/docker.sock`: root on the host) and disables SELinux labels (`label=disable`)",
            ]
        );
    }
}
