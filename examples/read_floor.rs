//! The read-only floor of `sandlint check DIR` (scripts/bench.sh): the same parallel walk
//! (`ignore`, gitignore honoured, no symlinks followed) that reads every regular file whole and
//! does nothing else. sandlint's own time is compared against this in the same run.
//!
//! `cargo run --release --example read_floor -- DIR` prints `files bytes`.

use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| ".".to_string());
    let files = AtomicU64::new(0);
    let bytes = AtomicU64::new(0);
    ignore::WalkBuilder::new(&dir).build_parallel().run(|| {
        let (files, bytes) = (&files, &bytes);
        let mut buf = Vec::new();
        Box::new(move |entry| {
            if let Ok(e) = entry
                && e.file_type().is_some_and(|t| t.is_file())
                && let Ok(mut f) = std::fs::File::open(e.path())
            {
                buf.clear();
                if f.read_to_end(&mut buf).is_ok() {
                    files.fetch_add(1, Ordering::Relaxed);
                    bytes.fetch_add(buf.len() as u64, Ordering::Relaxed);
                }
            }
            ignore::WalkState::Continue
        })
    });
    #[expect(clippy::print_stdout, reason = "the benchmark reads this line")]
    {
        println!(
            "{} {}",
            files.load(Ordering::Relaxed),
            bytes.load(Ordering::Relaxed)
        );
    }
}
