//! Input errors (`SLE###`): files that cannot be parsed are findings, so they can't hide.

pub(super) mod compose_syntax_error;
pub(super) mod dockerfile_syntax_error;
pub(super) mod expansion_limit_exceeded;
pub(super) mod reference_outside_project;
pub(super) mod suppressions;
pub(super) mod unreadable_file;
pub(super) mod unresolved_reference;

pub use expansion_limit_exceeded::report_dockerfile_limits;
