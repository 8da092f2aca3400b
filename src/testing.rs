//! Helpers for unit tests of the rules: the engine, reached without the rules importing the
//! linter (rules sit below it).

pub(crate) use crate::discover::FileKind;
pub(crate) use crate::linter::{Selection, lint_file, lint_text};
