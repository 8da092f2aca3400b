//! Bytes → the whole lint of one Dockerfile or Compose file through the library's public API
//! (`sandlint::linter::lint_file_with`: parse, every rule, suppressions, sort, fingerprints) →
//! rendering in every output format.
//!
//! The first byte picks the kind (bit 0: Compose), the options (bit 1: inline ignores off,
//! bit 2: `--require-reason`, bit 3: no unused-suppression report) and, in bits 4-6, one
//! more format to render besides the cheap full, concise, JSON and GitHub ones (SARIF embeds
//! every rule's documentation: rendering it for every input would cost most of the time, so
//! each format gets one input in eight); the rest is the file. The
//! file is virtual, in a directory that does not exist, so nothing beside it is read. Asserts
//! the invariants of `tests/common/invariants.rs`: every finding's span (and label and secret
//! span) inside its file on character boundaries, no panic of the YAML crate got through,
//! every format renders (bit 7: the colored full format too), JSON formats parse, one GitHub line per finding, no marked secret value
//! in any output.
#![no_main]

#[path = "../../tests/common/invariants.rs"]
mod invariants;

use libfuzzer_sys::fuzz_target;
use sandlint::report::OutputFormat;
use sandlint::discover::FileKind;
use sandlint::linter::{self, LintOptions, Selection};
use sandlint::source::SourceFile;

fuzz_target!(
    init: {
        sandlint::compose::yaml::quiet_caught_yaml_panics();
    },
    |data: &[u8]| {
        let Some((&mode, rest)) = data.split_first() else {
            return;
        };
        let text = String::from_utf8_lossy(rest).into_owned();
        let (kind, name) = if mode & 1 == 0 {
            (FileKind::Dockerfile, "/sandlint-fuzz/Dockerfile")
        } else {
            (FileKind::Compose, "/sandlint-fuzz/compose.yaml")
        };
        let file = SourceFile::virtual_file(name, text).into_ref();
        let mut opts = LintOptions::new(Selection::all());
        opts.inline_ignores = mode & 2 == 0;
        opts.require_reason = mode & 4 != 0;
        opts.report_unused = mode & 8 == 0;
        let result = linter::lint_file_with(file, kind, &opts);
        let extra = invariants::ALL_FORMATS[usize::from(mode >> 4) % invariants::ALL_FORMATS.len()];
        let formats = [
            OutputFormat::Full,
            OutputFormat::Concise,
            OutputFormat::Json,
            OutputFormat::Github,
            extra,
        ];
        if let Err(e) = invariants::check_result(&result, &formats) {
            panic!("{e}");
        }
        if mode & 0x80 != 0 {
            invariants::render_colored(&result.diagnostics, &invariants::report_ctx(&result));
        }
    }
);
