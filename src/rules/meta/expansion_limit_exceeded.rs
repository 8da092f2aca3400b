use crate::compose::model::ComposeFile;
use crate::dockerfile::model::Dockerfile;
use crate::dockerfile::semantics;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// Reports where alias expansion, interpolation or `ARG`/`ENV` expansion ran past its byte
/// budget (the value there was treated as unknown).
pub struct ExpansionLimitExceeded;

impl Rule for ExpansionLimitExceeded {
    fn meta(&self) -> &'static RuleMeta {
        docs::EXPANSION_LIMIT_EXCEEDED
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        for limit in &compose.limits {
            let e = &limit.error;
            let d = match &limit.file {
                Some(file) => cx.report_in(file, e.span, e.message.clone()),
                None => cx.report(e.span, e.message.clone()),
            };
            if let Some(help) = &e.help {
                d.help(help.clone());
            }
        }
    }

    // Dockerfiles: see [`report_dockerfile_limits`], which runs after the other rules.
}

/// Reports where `ARG`/`ENV` expansion in `df` ran past its byte budget. The linter calls it
/// after every other rule has run: rules expand variables as they go, and this rule (a meta
/// rule) runs first.
pub fn report_dockerfile_limits(cx: &mut Ctx<'_>, df: &Dockerfile) {
    use crate::compose::interpolate::{clip_name, refused_too, show_bytes};
    for limit in semantics::expansion_limits(df) {
        let more = refused_too(limit.more, "expansion", "expansions");
        let what = match &limit.name {
            Some(name) => format!("variable `{}`", clip_name(name)),
            None => "expansion".to_string(),
        };
        cx.report(
            limit.span,
            format!(
                "{what} passes the expansion budget ({}); treated as unknown",
                show_bytes(limit.limit)
            ),
        )
        .help(format!(
            "`ARG`/`ENV` expansion may copy {} bytes of values per Dockerfile{more}; each `$VAR` \
             copies the variable's value, so definitions that repeat earlier ones grow \
             exponentially (an expansion bomb): write the value out instead",
            limit.limit
        ));
    }
}
