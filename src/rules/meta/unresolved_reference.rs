use crate::compose::model::ComposeFile;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// Reports `extends`/`include` references the project loader could not follow.
pub struct UnresolvedReference;

impl Rule for UnresolvedReference {
    fn meta(&self) -> &'static RuleMeta {
        docs::UNRESOLVED_REFERENCE
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        for e in &compose.unresolved {
            let d = cx.report(e.span, e.message.clone());
            if let Some(help) = &e.help {
                d.help(help.clone());
            }
        }
    }
}
