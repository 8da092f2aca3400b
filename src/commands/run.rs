//! `sandlint run` (being written: see src/sandbox/).

use std::io::Write;

use clap::Args;

use crate::{ExitStatus, UsageError};

/// Options of `sandlint run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The command to run in the sandbox.
    #[arg(last = true)]
    pub command: Vec<String>,
}

pub fn run(_args: &RunArgs, _stdout: &mut dyn Write, _stderr: &mut dyn Write) -> Result<ExitStatus, UsageError> {
    Err(UsageError::new("`sandlint run` is not implemented yet"))
}
