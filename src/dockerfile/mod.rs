//! Our Dockerfile parser, following BuildKit's parser semantics.

pub mod analysis;
mod build_args;
mod checks;
pub mod comments;
pub mod dockerignore;
pub mod edit;
mod expand;
pub mod globals;
mod json;
mod lexer;
pub mod model;
pub mod packages;
mod parser;
pub mod reference;
pub mod registry;
pub mod semantics;
pub mod shell;
mod validate;
pub mod vars;

use model::Dockerfile;

#[cfg(test)]
thread_local! {
    /// Dockerfiles parsed on this thread (tests of the engine's skips count them).
    pub(crate) static PARSES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Parses a Dockerfile. Never fails and never panics: syntax errors are in [`Dockerfile::errors`].
pub fn parse(text: &str) -> Dockerfile {
    #[cfg(test)]
    PARSES.with(|p| p.set(p.get() + 1));
    parser::parse(text)
}

/// The line `start..end` of `text` read as a parser directive (`# name=value`, BuildKit's
/// `DirectiveParser.ParseLine`), wherever it stands: BuildKit also reads `# check=…` in the
/// comments above an instruction. `None` when it is not one.
pub fn directive_at(text: &str, start: usize, end: usize) -> Option<model::Directive> {
    lexer::match_directive(text, start, end)
}
