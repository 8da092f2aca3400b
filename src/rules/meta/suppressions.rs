//! `invalid-suppression` and `unused-suppression`: their findings come from the suppression pass
//! in `linter.rs` (see `suppress.rs`); the rules exist so that they can be selected, ignored and
//! documented like any other.

use crate::docs::{self, RuleMeta};
use crate::rules::Rule;

pub struct InvalidSuppression;

impl Rule for InvalidSuppression {
    fn meta(&self) -> &'static RuleMeta {
        docs::INVALID_SUPPRESSION
    }
}

pub struct UnusedSuppression;

impl Rule for UnusedSuppression {
    fn meta(&self) -> &'static RuleMeta {
        docs::UNUSED_SUPPRESSION
    }
}
