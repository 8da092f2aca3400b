//! `sandlint init` (being written: see src/init/).

use std::io::Write;

use clap::Args;

use crate::{ExitStatus, UsageError};

/// Options of `sandlint init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to write the files.
    #[arg(default_value = ".")]
    pub dir: std::path::PathBuf,
}

pub fn init(_args: &InitArgs, _stdout: &mut dyn Write, _stderr: &mut dyn Write) -> Result<ExitStatus, UsageError> {
    Err(UsageError::new("`sandlint init` is not implemented yet"))
}
