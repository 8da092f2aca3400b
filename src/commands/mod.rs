//! One file per subcommand; each returns an [`ExitStatus`](crate::error::ExitStatus).

pub mod audit;
pub mod check;
pub mod completions;
pub mod explain;
pub mod guard;
pub mod init;
pub mod mcp;
pub mod rules;
pub mod run;
pub mod server;
#[cfg(feature = "sandbox")]
pub mod session;
