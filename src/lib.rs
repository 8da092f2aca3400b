//! sandlint: a security linter for Dockerfiles and Docker Compose files.

pub mod compose;
pub mod diagnostic;
pub mod docs;
pub mod dockerfile;
pub mod linter;
pub mod rules;
pub mod source;

/// Where the project lives (rule doc links).
pub const REPOSITORY_URL: &str = "https://github.com/sandlint/sandlint";
