use crate::compose::model::ComposeFile;
use crate::dockerfile::analysis::{add_sources, instructions_of};
use crate::dockerfile::dockerignore::Dockerignore;
use crate::dockerfile::model::Keyword;
use crate::docs::{self, RuleMeta};
use crate::rules::dockerfile::{is_whole_context, secret_kind};
use crate::rules::{Ctx, Rule};
use crate::source::clip;

/// A service builds a Dockerfile that copies its whole build context, and the context holds
/// secret files that `.dockerignore` does not exclude: they end up in the image.
pub struct BuildContextSecrets;

impl Rule for BuildContextSecrets {
    fn meta(&self) -> &'static RuleMeta {
        docs::BUILD_CONTEXT_SECRETS
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        for s in &compose.services {
            let Some(build) = &s.build else { continue };
            let Some(built) = cx.build_of(&s.name.value) else {
                continue;
            };
            let df = &built.dockerfile;
            // A `COPY .` in any stage counts (a builder stage's layers can be pushed or cached
            // too); copies from other stages (`--from`) do not read the context.
            let mut copies = instructions_of(df, Keyword::Copy);
            copies.extend(instructions_of(df, Keyword::Add));
            copies.sort_by_key(|l| l.ins.span.start);
            let Some((copy, copy_span)) = copies
                .iter()
                .filter(|l| !l.onbuild && l.ins.flag("from").is_none())
                .find_map(|l| {
                    add_sources(l.ins)
                        .into_iter()
                        .find(|(src, _)| is_whole_context(src))
                        .map(|(_, span)| (l, span))
                })
            else {
                continue;
            };
            let ignore = built
                .dockerignore
                .as_ref()
                .map(|f| Dockerignore::parse(&f.text))
                .unwrap_or_default();
            let secrets: Vec<&String> = built
                .context_files()
                .iter()
                .filter(|f| secret_kind(f).is_some() && !ignore.is_excluded(f))
                .collect();
            let Some(first) = secrets.first() else {
                continue;
            };
            let more = if secrets.len() > 1 {
                format!(" (+{} more)", secrets.len() - 1)
            } else {
                String::new()
            };
            let keyword = copy.ins.kind.as_str().to_ascii_uppercase();
            let service = clip(&s.name.value, 24);
            cx.report(
                build.span,
                format!("service `{service}` builds a context holding `{}`{more}, copied into the image", clip(first, 32)),
            )
            .help(format!(
                "exclude secret files in `.dockerignore` (e.g. `.env*`, `**/*.pem`, `**/id_*`): {}",
                secrets.iter().take(5).map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ")
            ))
            .label(&built.file, copy_span, format!("`{keyword}` copies the whole context here"));
        }
    }
}
