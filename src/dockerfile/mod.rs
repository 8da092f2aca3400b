//! Our Dockerfile parser, following BuildKit's parser semantics.

pub mod analysis;
mod checks;
pub mod dockerignore;
mod expand;
mod json;
mod lexer;
pub mod model;
mod parser;
pub mod semantics;
pub mod shell;
mod validate;

use model::Dockerfile;

/// Parses a Dockerfile. Never fails and never panics: syntax errors are in [`Dockerfile::errors`].
pub fn parse(text: &str) -> Dockerfile {
    parser::parse(text)
}
