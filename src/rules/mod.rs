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

pub use context::{
    BuiltBy, BuiltImage, ComposeFacts, ContextListing, Ctx, DockerfileFacts, EnvFile, Facts,
    Refused,
};

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

/// Values longer than this many characters are clipped in messages; shorter ones are shown
/// whole, so a name in a message (a service, an image, a path) can be pasted into a fix.
pub const CLIP_LIMIT: usize = 200;

/// `s` for a message: whole, unless it is longer than [`CLIP_LIMIT`] characters; then its first
/// characters followed by `… (clipped, N characters)`, so a reader knows it was cut.
///
/// `_hint` is the width a caller once clipped to; names are no longer cut short to fit a line.
pub fn clip(s: &str, _hint: usize) -> String {
    let n = s.chars().count();
    if n <= CLIP_LIMIT {
        return s.to_string();
    }
    let mut out: String = s.chars().take(CLIP_LIMIT).collect();
    out.push_str(&format!("… (clipped, {n} characters)"));
    out
}

#[cfg(test)]
mod clip_tests {
    use super::{CLIP_LIMIT, clip};

    #[test]
    fn names_are_never_cut_short() {
        let image = "docker.all-hands.dev/all-hands-ai/runtime:0.59-nikolaik";
        assert_eq!(clip(image, 24), image);
        let exact = "x".repeat(CLIP_LIMIT);
        assert_eq!(clip(&exact, 8), exact);
    }

    #[test]
    fn huge_values_are_clipped_and_say_so() {
        let huge = "é".repeat(CLIP_LIMIT + 50);
        let shown = clip(&huge, 8);
        assert_eq!(
            shown,
            format!("{}… (clipped, 250 characters)", "é".repeat(CLIP_LIMIT))
        );
    }
}
