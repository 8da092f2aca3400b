use crate::dockerfile::analysis;
use crate::dockerfile::model::{Dockerfile, Keyword};
use crate::dockerfile::semantics::{self, Scope};
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};
use crate::source::Span;

/// SLD013: an image pulled from a registry outside `trusted-registries`.
pub struct UntrustedRegistry;

/// `(registry, repository)` of an image reference: `ghcr.io/acme/app:1` -> (`ghcr.io`,
/// `acme/app`), `alpine` -> (`docker.io`, `library/alpine`).
pub(crate) fn registry_and_repo(image: &str) -> (String, String) {
    let (name, _, _) = semantics::split_image_ref(image);
    let (registry, repo) = match name.split_once('/') {
        Some((first, rest))
            if first.contains('.')
                || first.contains(':')
                || first.eq_ignore_ascii_case("localhost") =>
        {
            (first.to_ascii_lowercase(), rest.to_string())
        }
        Some(_) => ("docker.io".to_string(), name.to_string()),
        None => ("docker.io".to_string(), format!("library/{name}")),
    };
    (normalize_registry(&registry).to_string(), repo)
}

/// The image is covered by an entry of `trusted` (a registry, or a registry/path prefix).
pub(crate) fn is_trusted(image: &str, trusted: &[String]) -> bool {
    let (registry, repo) = registry_and_repo(image);
    let full = format!("{registry}/{repo}");
    trusted.iter().any(|entry| {
        let entry = entry.trim().trim_end_matches('/').to_ascii_lowercase();
        let (first, rest) = match entry.split_once('/') {
            Some((r, p)) => (r, Some(p)),
            None => (entry.as_str(), None),
        };
        let first = normalize_registry(first);
        match rest {
            None => first == registry,
            Some(p) => {
                let prefix = format!("{first}/{p}");
                full == prefix || full.starts_with(&format!("{prefix}/"))
            }
        }
    })
}

/// Docker Hub's aliases are `docker.io`.
fn normalize_registry(registry: &str) -> &str {
    match registry {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => "docker.io",
        r => r,
    }
}

impl Rule for UntrustedRegistry {
    fn meta(&self) -> &'static RuleMeta {
        docs::UNTRUSTED_REGISTRY
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        let trusted = cx.trusted_registries();
        if trusted.is_empty() {
            return;
        }
        // (span, image, how it is used)
        let mut found: Vec<(Span, String, &str)> = Vec::new();
        for stage in &df.stages {
            if semantics::parent_stage(df, stage).is_some() {
                continue;
            }
            if let Some(image) = semantics::expand_with_args(df, &stage.image.value, Scope::Global)
                && !image.is_empty()
                && !image.eq_ignore_ascii_case("scratch")
            {
                found.push((stage.image.span, image, "base image"));
            }
        }
        let mut copies = analysis::instructions_of(df, Keyword::Copy);
        copies.extend(analysis::instructions_of(df, Keyword::Add));
        for loc in copies {
            let Some(flag) = loc.ins.flag("from") else {
                continue;
            };
            let (Some(raw), Some(value)) = (&flag.value, flag.unquoted_value()) else {
                continue;
            };
            let Some(image) = semantics::expand_with_args(df, &value, loc.scope()) else {
                continue;
            };
            if image.is_empty()
                || image.bytes().all(|b| b.is_ascii_digit())
                || analysis::is_stage_ref(df, &image, loc.index)
                || loc.onbuild
            {
                continue;
            }
            found.push((raw.span, image, "`COPY --from` image"));
        }
        for loc in analysis::instructions_of(df, Keyword::Run) {
            for (opts, flag) in analysis::mount_options(loc.ins) {
                let Some((_, from)) = opts.iter().find(|(k, _)| k == "from") else {
                    continue;
                };
                let Some(image) = semantics::expand_with_args(df, from, loc.scope()) else {
                    continue;
                };
                if image.is_empty() || analysis::is_stage_ref(df, &image, loc.index) || loc.onbuild
                {
                    continue;
                }
                // Point at `from=…` when the flag is written without quotes.
                let span = flag
                    .value
                    .as_ref()
                    .and_then(|v| {
                        let pos = v.value.find("from=")?;
                        let len = v.value[pos..].find(',').unwrap_or(v.value.len() - pos);
                        let start = v.span.start + u32::try_from(pos).ok()?;
                        Some(Span::new(start, start + u32::try_from(len).ok()?))
                    })
                    .filter(|_| {
                        !flag
                            .value
                            .as_ref()
                            .is_some_and(|v| v.value.contains(['"', '\'']))
                    })
                    .unwrap_or(flag.span);
                found.push((span, image, "`RUN --mount` image"));
            }
        }
        for (span, image, what) in found {
            if is_trusted(&image, trusted) {
                continue;
            }
            let (registry, _) = registry_and_repo(&image);
            cx.report(
                span,
                format!(
                    "{what} `{}` comes from `{}`, which is not in `trusted-registries`",
                    analysis::snippet(&image, 40),
                    analysis::snippet(&registry, 30)
                ),
            )
            .help(
                "pull it through a trusted registry (mirror the image there), or add the registry to `trusted-registries` in the config",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{UntrustedRegistry, is_trusted, registry_and_repo};
    use crate::dockerfile::parse;
    use crate::rules::{Ctx, DockerfileFacts, Facts, Rule};
    use crate::source::SourceFile;

    fn spans(text: &str, trusted: &[&str]) -> Vec<String> {
        let file = SourceFile::virtual_file("Dockerfile", text).into_ref();
        let facts = Facts::Dockerfile(DockerfileFacts {
            trusted_registries: trusted.iter().map(|s| (*s).to_string()).collect(),
            ..DockerfileFacts::default()
        });
        let df = parse(text);
        let mut diags = Vec::new();
        let rule = UntrustedRegistry;
        let mut cx = Ctx::new(rule.meta(), &file, &facts, &mut diags);
        rule.check_dockerfile(&mut cx, &df);
        diags
            .iter()
            .map(|d| text[d.span.range()].to_string())
            .collect()
    }

    #[test]
    fn registries() {
        let r = |i: &str| registry_and_repo(i);
        assert_eq!(r("alpine:3"), ("docker.io".into(), "library/alpine".into()));
        assert_eq!(r("acme/app"), ("docker.io".into(), "acme/app".into()));
        assert_eq!(
            r("ghcr.io/acme/app:1@sha256:ab"),
            ("ghcr.io".into(), "acme/app".into())
        );
        assert_eq!(r("localhost/app"), ("localhost".into(), "app".into()));
        assert_eq!(r("reg:5000/app"), ("reg:5000".into(), "app".into()));
        assert_eq!(
            r("index.docker.io/library/alpine"),
            ("docker.io".into(), "library/alpine".into())
        );
        let t = |i: &str, list: &[&str]| {
            is_trusted(
                i,
                &list.iter().map(|s| (*s).to_string()).collect::<Vec<_>>(),
            )
        };
        assert!(t(
            "registry.example.com/team/app:1",
            &["registry.example.com"]
        ));
        assert!(t(
            "registry.example.com/team/app:1",
            &["registry.example.com/team"]
        ));
        assert!(t(
            "registry.example.com/team/app:1",
            &["Registry.Example.com/team/"]
        ));
        assert!(!t(
            "registry.example.com/other/app:1",
            &["registry.example.com/team"]
        ));
        assert!(!t(
            "registry.example.com/teamx/app",
            &["registry.example.com/team"]
        ));
        assert!(t("alpine:3.20", &["docker.io"]));
        assert!(t("alpine:3.20", &["docker.io/library"]));
        assert!(!t("acme/app", &["docker.io/library"]));
        assert!(!t("alpine", &["ghcr.io"]));
        assert!(!t(
            "evil.registry.example.com/app",
            &["registry.example.com"]
        ));
    }

    #[test]
    fn flags_untrusted_images() {
        let text = "ARG BASE=ghcr.io/acme/base:1\nFROM ${BASE} AS build\nFROM registry.example.com/team/run:2 AS run\nCOPY --from=build /a /a\nCOPY --from=quay.io/x/tool:1 /t /t\nRUN --mount=type=bind,from=docker.io/library/busybox:1,target=/b true\nFROM run\n";
        assert_eq!(
            spans(text, &["registry.example.com"]),
            vec![
                "${BASE}",
                "quay.io/x/tool:1",
                "from=docker.io/library/busybox:1"
            ]
        );
        assert_eq!(spans(text, &[]), Vec::<String>::new());
        assert_eq!(
            spans(
                text,
                &[
                    "registry.example.com",
                    "ghcr.io/acme",
                    "quay.io",
                    "docker.io"
                ]
            ),
            Vec::<String>::new()
        );
        assert_eq!(
            spans(
                "FROM scratch\nFROM alpine AS a\nRUN --mount=from=a,target=/x true\nARG X\nFROM $X\n",
                &["ghcr.io"]
            ),
            vec!["alpine"]
        );
    }
}
