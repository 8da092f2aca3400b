//! What a rule sees while it runs: the current file, the Dockerfiles joined to Compose services,
//! and the sink for findings.

use std::collections::HashMap;

use crate::diagnostic::Diagnostic;
use crate::dockerfile::model::Dockerfile;
use crate::docs::RuleMeta;
use crate::source::{FileRef, Span};

/// A Dockerfile that a Compose service builds, found and parsed by the linter.
#[derive(Debug)]
pub struct BuiltImage {
    pub file: FileRef,
    pub dockerfile: Dockerfile,
    /// `build.target`, when the service sets one (known value).
    pub target: Option<String>,
}

/// The context of one rule running on one file.
pub struct Ctx<'a> {
    rule: &'static RuleMeta,
    file: &'a FileRef,
    builds: &'a HashMap<String, BuiltImage>,
    diagnostics: &'a mut Vec<Diagnostic>,
}

impl<'a> Ctx<'a> {
    pub fn new(
        rule: &'static RuleMeta,
        file: &'a FileRef,
        builds: &'a HashMap<String, BuiltImage>,
        diagnostics: &'a mut Vec<Diagnostic>,
    ) -> Self {
        Self {
            rule,
            file,
            builds,
            diagnostics,
        }
    }

    /// The file being checked.
    pub fn file(&self) -> &FileRef {
        self.file
    }

    /// The file's text.
    pub fn text(&self) -> &str {
        &self.file.text
    }

    /// The Dockerfile that the service named `service` builds, when it has `build:` and the
    /// Dockerfile exists and was read.
    pub fn build_of(&self, service: &str) -> Option<&'a BuiltImage> {
        self.builds.get(service)
    }

    /// Reports a finding of this rule at `span` in the current file. Chain `.help(..)` / `.label(..)`.
    pub fn report(&mut self, span: Span, message: impl Into<String>) -> &mut Diagnostic {
        let file = self.file.clone();
        self.report_in(&file, span, message)
    }

    /// Reports a finding of this rule in another file (e.g. the Dockerfile a service builds).
    pub fn report_in(
        &mut self,
        file: &FileRef,
        span: Span,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        let len = self.diagnostics.len();
        self.diagnostics
            .push(Diagnostic::new(self.rule, file.clone(), span, message));
        &mut self.diagnostics[len]
    }
}
