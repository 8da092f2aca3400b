//! Baselines: record today's findings by fingerprint, then report only new ones.
//!
//! A fingerprint is a stable hash of rule, file, service/stage and the normalized source text
//! of the finding (see `linter::assign_fingerprints`): not the message, not the line number, so
//! editing messages or moving code does not bring baselined findings back.

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::diagnostic::{Diagnostic, Suppression, SuppressionKind};
use crate::error::UsageError;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub schema_version: u32,
    pub findings: Vec<Entry>,
}

/// One recorded finding. Only `fingerprint` is used for matching; the rest is for readers.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub fingerprint: String,
    pub code: String,
    pub name: String,
    pub file: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    pub message: String,
}

impl Baseline {
    /// The unsuppressed findings, as a baseline.
    pub fn from_findings(diagnostics: &[Diagnostic]) -> Self {
        Self::from_entries(entries(diagnostics).collect())
    }

    /// Recorded findings (in report order), as a baseline.
    pub fn from_entries(findings: Vec<Entry>) -> Self {
        Baseline {
            schema_version: SCHEMA_VERSION,
            findings,
        }
    }

    /// Matches findings against the baseline, file by file as they come.
    pub fn matcher(&self) -> Matcher<'_> {
        Matcher {
            known: self
                .findings
                .iter()
                .map(|e| e.fingerprint.as_str())
                .collect(),
        }
    }

    pub fn write(&self, path: &Path) -> Result<(), UsageError> {
        let mut text =
            serde_json::to_string_pretty(self).map_err(|e| UsageError::new(e.to_string()))?;
        text.push('\n');
        std::fs::write(path, text).map_err(|e| {
            UsageError::new(format!(
                "cannot write baseline {}: {}",
                path.display(),
                crate::source::io_message(&e)
            ))
        })
    }

    pub fn read(path: &Path) -> Result<Self, UsageError> {
        let text = crate::fsread::read(path, None)
            .map_err(|e| {
                UsageError::new(format!(
                    "cannot read baseline {}: {}",
                    path.display(),
                    e.describe()
                ))
            })?
            .text;
        let b: Baseline = serde_json::from_str(&text).map_err(|e| {
            let offset = crate::source::SourceFile::virtual_file("", text.as_str())
                .line_start(u32::try_from(e.line()).unwrap_or(1))
                .map_or(0, |s| s as usize + e.column().saturating_sub(1));
            UsageError::in_file(
                path,
                &text,
                format!("invalid baseline: {e}"),
                Some(offset..offset),
            )
        })?;
        if b.schema_version != SCHEMA_VERSION {
            return Err(UsageError::new(format!(
                "baseline {} has schema version {}; this sandlint reads version {SCHEMA_VERSION}",
                path.display(),
                b.schema_version
            )));
        }
        Ok(b)
    }

    /// Marks findings recorded in the baseline as suppressed. Returns how many matched.
    pub fn apply(&self, diagnostics: &mut [Diagnostic]) -> usize {
        self.matcher().apply(diagnostics)
    }
}

/// The unsuppressed findings of `diagnostics` as baseline entries.
pub fn entries(diagnostics: &[Diagnostic]) -> impl Iterator<Item = Entry> + '_ {
    diagnostics
        .iter()
        .filter(|d| d.suppression.is_none())
        .map(|d| Entry {
            fingerprint: d.fingerprint.clone(),
            code: d.rule.code.to_string(),
            name: d.rule.name.to_string(),
            file: d.file.display.clone(),
            scope: d.scope.as_deref().map(str::to_string),
            message: d.message.clone(),
        })
}

/// A baseline's fingerprints, for [`Matcher::apply`].
pub struct Matcher<'b> {
    known: HashSet<&'b str>,
}

impl Matcher<'_> {
    /// Marks findings recorded in the baseline as suppressed. Returns how many matched.
    pub fn apply(&self, diagnostics: &mut [Diagnostic]) -> usize {
        let known = &self.known;
        let mut n = 0;
        for d in diagnostics.iter_mut().filter(|d| d.suppression.is_none()) {
            if known.contains(d.fingerprint.as_str()) {
                d.suppression = Some(Box::new(Suppression {
                    kind: SuppressionKind::External,
                    reason: Some("recorded in the baseline".to_string()),
                }));
                n += 1;
            }
        }
        n
    }
}
