//! sandlint's findings as LSP diagnostics.

use std::str::FromStr;

use lsp_types::{
    CodeDescription, DiagnosticRelatedInformation, DiagnosticSeverity, DiagnosticTag, Location,
    NumberOrString, Position, Range, Uri,
};

use crate::diagnostic::{Diagnostic, Severity};

use super::text::{self, Indexes};

/// The name clients show as the diagnostics' origin.
pub const SOURCE: &str = "sandlint";

/// A finding as an LSP diagnostic: its range in the negotiated encoding, its severity, the
/// rule's code and doc URL, and its labels as related information.
pub fn diagnostic<'a>(d: &'a Diagnostic, at: &mut Indexes<'a>) -> lsp_types::Diagnostic {
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let related: Vec<DiagnosticRelatedInformation> = (d.labels.iter())
        .filter_map(|l| {
            let uri =
                Uri::from_str(&text::path_to_uri(&crate::fsread::absolute(&l.file.path))).ok()?;
            Some(DiagnosticRelatedInformation {
                location: Location {
                    uri,
                    range: at.range(&l.file, l.span),
                },
                message: l.message.clone(),
            })
        })
        .collect();
    lsp_types::Diagnostic {
        range: at.range(&d.file, d.span),
        severity: Some(severity(d.severity)),
        code: Some(NumberOrString::String(d.rule.code.to_string())),
        code_description: Uri::from_str(&d.rule.url())
            .ok()
            .map(|href| CodeDescription { href }),
        source: Some(SOURCE.to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: (d.rule.code == crate::docs::UNUSED_SUPPRESSION.code)
            .then(|| vec![DiagnosticTag::UNNECESSARY]),
        data: None,
    }
}

pub fn severity(s: Severity) -> DiagnosticSeverity {
    match s {
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
        Severity::Info => DiagnosticSeverity::INFORMATION,
    }
}

/// Why a document was not checked, at its first line.
pub fn notice(message: &str) -> lsp_types::Diagnostic {
    lsp_types::Diagnostic {
        range: Range::new(Position::new(0, 0), Position::new(0, 0)),
        severity: Some(DiagnosticSeverity::WARNING),
        source: Some(SOURCE.to_string()),
        message: message.to_string(),
        ..lsp_types::Diagnostic::default()
    }
}
