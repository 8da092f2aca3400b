use crate::dockerfile::analysis;
use crate::dockerfile::model::{Dockerfile, Keyword};
use crate::dockerfile::registry::{is_trusted, registry_and_repo};
use crate::dockerfile::semantics::{self, Scope};
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};
use crate::source::Span;

/// SLD013: an image pulled from a registry outside `trusted-registries`.
pub struct UntrustedRegistry;

impl Rule for UntrustedRegistry {
    fn meta(&self) -> &'static RuleMeta {
        docs::UNTRUSTED_REGISTRY
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        let trusted = cx.trusted_registries();
        if trusted.is_empty() || trusted.iter().any(|t| t.is_any()) {
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
    use super::UntrustedRegistry;
    use crate::dockerfile::parse;
    use crate::dockerfile::registry::TrustedRegistry;
    use crate::rules::{Ctx, DockerfileFacts, Facts, Rule};
    use crate::source::SourceFile;

    fn spans(text: &str, trusted: &[&str]) -> Vec<String> {
        let file = SourceFile::virtual_file("Dockerfile", text).into_ref();
        let facts = Facts::Dockerfile(DockerfileFacts {
            trusted_registries: trusted
                .iter()
                .map(|s| TrustedRegistry::parse(s).expect("a valid entry"))
                .collect(),
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

    #[test]
    fn wildcard_entries() {
        let text = "FROM a.example.com/team/app:1\nFROM example.com/app:1\nFROM evilexample.com/app:1\nFROM alpine:3\nCOPY --from=b.c.example.com/x:1 /x /x\n";
        assert_eq!(
            spans(text, &["*.example.com"]),
            vec!["example.com/app:1", "evilexample.com/app:1", "alpine:3"]
        );
        assert_eq!(
            spans(text, &["*.example.com/team", "docker.io"]),
            vec![
                "example.com/app:1",
                "evilexample.com/app:1",
                "b.c.example.com/x:1"
            ]
        );
        // `*` trusts every registry: the rule is silent.
        assert_eq!(spans(text, &["*"]), Vec::<String>::new());
        assert_eq!(spans(text, &["ghcr.io", "*"]), Vec::<String>::new());
    }
}
