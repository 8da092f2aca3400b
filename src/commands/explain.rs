//! `sandlint explain <rule>`: a rule's doc, offline.

use std::io::{self, Write};

use crate::error::UsageError;

pub fn explain(rule: &str, w: &mut dyn Write) -> Result<io::Result<()>, UsageError> {
    let Some(meta) = crate::rules::find(rule).map(|r| r.meta()) else {
        let hint = crate::docs::suggest(rule)
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        return Err(UsageError::new(format!(
            "unknown rule `{rule}`{hint}; `sandlint rules` lists them"
        )));
    };
    Ok((|| {
        writeln!(w, "# {} {}: {}", meta.code, meta.name, meta.title)?;
        writeln!(
            w,
            "\nSeverity: {} · Targets: {} · Family: {}",
            meta.severity,
            meta.targets.join(", "),
            meta.family
        )?;
        if !meta.default_enabled {
            writeln!(
                w,
                "Off by default: runs only when selected (`--extend-select {}`, or `extend-select = [\"{}\"]` in .sandlint.toml for the whole family)",
                meta.name, meta.family
            )?;
        }
        if !meta.references.is_empty() {
            writeln!(w, "References: {}", meta.references.join("; "))?;
        }
        writeln!(w)?;
        write!(w, "{}", meta.body())
    })())
}
