use std::process::ExitCode;

use clap::Parser;
use sandlint::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match sandlint::run(&cli) {
        Ok(status) => ExitCode::from(status.code()),
        Err(err) => {
            #[expect(clippy::print_stderr, reason = "main reports fatal errors")]
            {
                eprintln!("{:?}", miette::Report::new(err));
            }
            ExitCode::from(2)
        }
    }
}
