//! `sandlint completions <shell>` and `sandlint man`: generated from the clap definition in
//! [`crate::cli::Cli`] (see [`crate::cli::completion_script`], [`crate::cli::man_page`]), so they
//! never drift from the real flags.

use std::io::{self, Write};

use crate::cli::{self, Shell};

/// Writes the completion script for `shell`.
pub fn completions(shell: Shell, w: &mut dyn Write) -> io::Result<()> {
    w.write_all(&cli::completion_script(shell))
}

/// Writes the `sandlint(1)` man page (roff): the top-level page, then a section per subcommand
/// with its options.
pub fn man(w: &mut dyn Write) -> io::Result<()> {
    w.write_all(&cli::man_page()?)
}
