//! The parse floor of `sandlint check DIR` (scripts/bench.sh): the read floor's walk
//! (`examples/read_floor.rs`), plus, for every file whose name is a Dockerfile or a Compose
//! file, the parse that any check of it needs: the Dockerfile parser with its RUN-script
//! analysis, or the YAML span tree. No model, no rules, no report. What sandlint spends above
//! this is the linter; what this spends above the read floor is parsing alone.
//!
//! `cargo run --release --example parse_floor -- DIR` prints `files bytes dockerfiles composes`.

use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};

use sandlint::discover::{FileKind, kind_from_name};

// The binary's allocator, so that the floor is not slower than sandlint for a different malloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| ".".to_string());
    let counts: [AtomicU64; 4] = Default::default();
    ignore::WalkBuilder::new(&dir).build_parallel().run(|| {
        let counts = &counts;
        let mut buf = Vec::new();
        Box::new(move |entry| {
            if let Ok(e) = entry
                && e.file_type().is_some_and(|t| t.is_file())
                && let Ok(mut f) = std::fs::File::open(e.path())
            {
                buf.clear();
                if f.read_to_end(&mut buf).is_ok() {
                    counts[0].fetch_add(1, Ordering::Relaxed);
                    counts[1].fetch_add(buf.len() as u64, Ordering::Relaxed);
                    let text = String::from_utf8_lossy(&buf);
                    match kind_from_name(e.path()) {
                        Some(FileKind::Dockerfile) => {
                            let df = sandlint::dockerfile::parse(&text);
                            std::hint::black_box(sandlint::dockerfile::analysis::Analysis::of(&df));
                            counts[2].fetch_add(1, Ordering::Relaxed);
                        }
                        Some(FileKind::Compose) => {
                            std::hint::black_box(sandlint::compose::yaml::parse(&text));
                            counts[3].fetch_add(1, Ordering::Relaxed);
                        }
                        _ => {}
                    }
                }
            }
            ignore::WalkState::Continue
        })
    });
    let [a, b, c, d] = counts.map(|c| c.load(Ordering::Relaxed));
    #[expect(clippy::print_stdout, reason = "the benchmark reads this line")]
    {
        println!("{a} {b} {c} {d}");
    }
}
