use std::process::ExitCode;

// Linting allocates many small short-lived values (tokens, spans, findings); mimalloc makes
// that markedly cheaper than the system allocator (see scripts/bench.sh).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // The YAML crate's caught panics are kept off stderr by `compose::yaml` itself (its panic
    // hook is installed once, on first use).
    let cli = sandlint::cli::parse();
    // One process, one run over a tree that does not change under it: directory listings,
    // canonical directories and the working directory are read once.
    sandlint::fsread::enable_run_cache();
    match sandlint::run(&cli) {
        Ok(status) => ExitCode::from(status.code()),
        Err(err) => {
            // Fatal errors are one line plus, for config errors, a snippet: never wrap them.
            let _ = miette::set_hook(Box::new(|_| {
                Box::new(miette::MietteHandlerOpts::new().wrap_lines(false).build())
            }));
            #[expect(clippy::print_stderr, reason = "main reports fatal errors")]
            {
                eprintln!("{:?}", miette::Report::new(err));
            }
            ExitCode::from(2)
        }
    }
}
