use std::process::ExitCode;

// Linting allocates many small short-lived values (tokens, spans, findings); mimalloc makes
// that markedly cheaper than the system allocator (see scripts/bench.sh).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's defaults for this process, set before mimalloc reads its options (its own
/// constructor runs at init priority 101; the first allocation reserves an arena): an arena's
/// memory is committed as it is used, not all at once (on Linux mimalloc commits the whole
/// arena eagerly, and the kernel backs it with transparent huge pages). Peak RSS on the corpus
/// 122 → 84–89 MB, CPU time flat (measurements in the commit message). A default only:
/// `MIMALLOC_ARENA_EAGER_COMMIT` in the environment still wins.
///
/// Freed memory is returned to the system at once (`purge_delay` 0 instead of v3's 1 s): the
/// streaming engine frees each file's text, model and findings as it goes, and with the delay
/// that memory stayed resident. Corpus 16×: peak RSS 143 → 121 MB, 1×: 51 → 43 MB; CPU within
/// the noise to +5% (three alternating runs). `MIMALLOC_PURGE_DELAY` still wins.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod allocator_defaults {
    use std::ffi::{c_int, c_long};

    // `mi_option_t` values of mimalloc v3 (`include/mimalloc.h`), the version libmimalloc-sys
    // builds by default (re-check both on a bump of libmimalloc-sys: `MIMALLOC_VERBOSE=1` prints
    // the options in effect).
    const MI_OPTION_ARENA_EAGER_COMMIT: c_int = 4;
    const MI_OPTION_PURGE_DELAY: c_int = 15;

    unsafe extern "C" {
        // Linked from libmimalloc-sys's static library (a dependency of `mimalloc`).
        fn mi_option_set_default(option: c_int, value: c_long);
    }

    extern "C" fn set_defaults() {
        // SAFETY: each sets one entry of mimalloc's static option table (in range); no
        // allocation, and no other thread exists yet.
        unsafe {
            mi_option_set_default(MI_OPTION_ARENA_EAGER_COMMIT, 0);
            mi_option_set_default(MI_OPTION_PURGE_DELAY, 0);
        }
    }

    /// Runs before mimalloc's constructor (priority 101) and before `main`.
    #[used]
    #[unsafe(link_section = ".init_array.00100")]
    static SET_DEFAULTS: extern "C" fn() = set_defaults;
}

fn main() -> ExitCode {
    use std::io::Write as _;
    // The YAML crate's caught panics are kept off stderr by `compose::yaml` itself (its panic
    // hook is installed once, on first use).
    let cli = sandlint::cli::parse();
    // One process, one run over a tree that does not change under it: directory listings,
    // canonical directories and the working directory are read once. Not for the language
    // server: it lives while the tree changes.
    if !matches!(cli.command, sandlint::cli::Command::Server(_)) {
        sandlint::fsread::enable_run_cache();
    }
    // A panic is a bug of sandlint, never a verdict on the files: after the panic's own message,
    // one line that says so, and exit 2 (an error), not Rust's 101.
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        previous(info);
        // Not `eprintln!`: a failed write (stderr a closed pipe) would panic inside the hook,
        // and a panic in a panic hook aborts.
        let _ = writeln!(
            std::io::stderr(),
            "error: internal error in sandlint (a bug, not a finding about your files); \
             please report it with the message above"
        );
    }));
    let outcome = std::panic::catch_unwind(|| sandlint::run(&cli));
    let Ok(outcome) = outcome else {
        return ExitCode::from(2);
    };
    match outcome {
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
