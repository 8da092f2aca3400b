use crate::compose::model::ComposeFile;
use crate::dockerfile::model::Dockerfile;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// SLE006: a file reference that leaves the project boundary; the file was not read.
pub struct ReferenceOutsideProject;

impl ReferenceOutsideProject {
    fn refused(cx: &mut Ctx<'_>) {
        for r in cx.facts().refused() {
            if r.outside {
                cx.report(r.span, r.message.clone()).help(r.help.clone());
            }
        }
    }
}

impl Rule for ReferenceOutsideProject {
    fn meta(&self) -> &'static RuleMeta {
        docs::REFERENCE_OUTSIDE_PROJECT
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, _df: &Dockerfile) {
        Self::refused(cx);
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        for e in &compose.outside {
            let d = cx.report(e.span, e.message.clone());
            if let Some(help) = &e.help {
                d.help(help.clone());
            }
        }
        Self::refused(cx);
    }
}
