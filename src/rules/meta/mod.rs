//! Input errors (`SLE###`): files that cannot be parsed are findings, so they can't hide.

mod compose_syntax_error;
mod dockerfile_syntax_error;
mod expansion_limit_exceeded;
mod reference_outside_project;
mod suppressions;
mod unreadable_file;
mod unresolved_reference;

use super::Rule;

pub use expansion_limit_exceeded::report_dockerfile_limits;

/// Every input-error rule, in code order.
pub static RULES: &[&dyn Rule] = &[
    &dockerfile_syntax_error::DockerfileSyntaxError,
    &compose_syntax_error::ComposeSyntaxError,
    &suppressions::InvalidSuppression,
    &suppressions::UnusedSuppression,
    &unresolved_reference::UnresolvedReference,
    &reference_outside_project::ReferenceOutsideProject,
    &unreadable_file::UnreadableFile,
    &expansion_limit_exceeded::ExpansionLimitExceeded,
];
