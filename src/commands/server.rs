//! `sandlint server`: the language server on the process's standard streams.

use crate::cli::ServerArgs;
use crate::config::CliOverrides;
use crate::error::{ExitStatus, UsageError};
use crate::server::{self, Ended};

/// Serves until the client exits: 0 after `shutdown` then `exit`, 1 when it exits (or its
/// input ends) without `shutdown` (as LSP asks), 2 when the connection breaks.
pub fn server(args: &ServerArgs) -> Result<ExitStatus, UsageError> {
    let cli = CliOverrides {
        preset: args.preset,
        ..CliOverrides::default()
    };
    let input = Box::new(std::io::BufReader::new(std::io::stdin()));
    let output = Box::new(std::io::stdout());
    match server::serve(input, output, cli) {
        Ok(Ended::Shutdown) => Ok(ExitStatus::Success),
        Ok(Ended::Abandoned) => Ok(ExitStatus::Failure),
        Err(e) => Err(UsageError::new(format!(
            "language server: {}",
            crate::source::io_message(&e)
        ))),
    }
}
