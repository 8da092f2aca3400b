//! `sandlint completions <shell>` and `sandlint man`: generated from the clap definition in
//! [`crate::cli::Cli`], so they never drift from the real flags.

use std::io::{self, Write};

use clap::CommandFactory;
use clap_complete::Shell as Target;

use crate::cli::{Cli, Shell};

/// Writes the completion script for `shell`.
pub fn completions(shell: Shell, w: &mut dyn Write) -> io::Result<()> {
    let target = match shell {
        Shell::Bash => Target::Bash,
        Shell::Zsh => Target::Zsh,
        Shell::Fish => Target::Fish,
        Shell::Powershell => Target::PowerShell,
        Shell::Elvish => Target::Elvish,
    };
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(target, &mut cmd, "sandlint", &mut buf);
    w.write_all(&buf)
}

/// Writes the `sandlint(1)` man page (roff): the top-level page, then a section per subcommand
/// with its options.
pub fn man(w: &mut dyn Write) -> io::Result<()> {
    let cmd = Cli::command();
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut buf)?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let mut options = Vec::new();
        clap_mangen::Man::new(sub.clone()).render_options_section(&mut options)?;
        let options = String::from_utf8_lossy(&options);
        let mut section = format!(".SH \"SANDLINT {}\"\n", sub.get_name().to_uppercase());
        if let Some(about) = sub.get_long_about().or_else(|| sub.get_about()) {
            // Plain text in roff: escape backslashes and hyphens, and never start a control line.
            let about = about.to_string().replace('\\', "\\e").replace('-', "\\-");
            section.push_str(&format!("\\&{about}\n"));
        }
        // The subcommand's options, under this section instead of a second OPTIONS heading.
        for line in options.lines().filter(|l| !l.starts_with(".SH")) {
            section.push_str(line);
            section.push('\n');
        }
        buf.extend_from_slice(section.as_bytes());
    }
    w.write_all(&buf)
}
