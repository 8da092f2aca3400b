use crate::dockerfile::model::Dockerfile;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// Reports the Dockerfile parser's located errors.
pub struct DockerfileSyntaxError;

impl Rule for DockerfileSyntaxError {
    fn meta(&self) -> &'static RuleMeta {
        docs::DOCKERFILE_SYNTAX_ERROR
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        for e in &df.errors {
            let d = cx.report(e.span, e.message.clone());
            if let Some(help) = &e.help {
                d.help(help.clone());
            }
        }
    }
}
