use crate::compose::model::ComposeFile;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// Reports the Compose loader's located errors.
pub struct ComposeSyntaxError;

impl Rule for ComposeSyntaxError {
    fn meta(&self) -> &'static RuleMeta {
        docs::COMPOSE_SYNTAX_ERROR
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        for e in &compose.errors {
            let d = cx.report(e.span, e.message.clone());
            if let Some(help) = &e.help {
                d.help(help.clone());
            }
        }
    }
}
