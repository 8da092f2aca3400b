//! The rule trait and the registry of every rule.
//!
//! One rule = one file (`src/rules/<target>/<rule_name>.rs`) + its doc (`rules/<rule-name>.md`)
//! + fixtures (`fixtures/rules/<rule-name>/`). Metadata (code, severity, ...) lives only in the doc.

pub mod compose;
mod context;
pub mod cross;
pub mod dockerfile;
pub mod meta;
mod secrets;
pub mod well_known_images;

pub use context::{BuiltBy, BuiltImage, Ctx, EnvFile, Facts, Refused};

use crate::compose::model::ComposeFile;
use crate::dockerfile::model::Dockerfile;
use crate::docs::RuleMeta;

/// A lint rule. Rules read typed models only and push findings through [`Ctx`].
pub trait Rule: Sync {
    /// The rule's metadata: `crate::docs::ROOT_USER` etc. (generated from `rules/*.md`).
    fn meta(&self) -> &'static RuleMeta;

    /// Checks one Dockerfile.
    fn check_dockerfile(&self, _cx: &mut Ctx<'_>, _df: &Dockerfile) {}

    /// Checks one Compose file (its services can be joined to the Dockerfiles they build: [`Ctx::build_of`]).
    fn check_compose(&self, _cx: &mut Ctx<'_>, _compose: &ComposeFile) {}
}

/// Every rule, in code order within each target.
pub fn all() -> impl Iterator<Item = &'static dyn Rule> {
    meta::RULES
        .iter()
        .chain(dockerfile::RULES.iter())
        .chain(compose::RULES.iter())
        .chain(cross::RULES.iter())
        .copied()
}

/// The rule with this code or name.
pub fn find(name_or_code: &str) -> Option<&'static dyn Rule> {
    all().find(|r| {
        let m = r.meta();
        m.name == name_or_code || m.code.eq_ignore_ascii_case(name_or_code)
    })
}

pub use crate::source::{CLIP_LIMIT, clip};
