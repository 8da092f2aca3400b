//! Bytes → Compose loader and interpolation, alone and as a project with `include`/`extends`.
//!
//! The input is split at NUL bytes: the Compose file, then its `.env`, then the files named
//! `a.yaml`, `b.yaml`, … (in any directory) that `include:`/`extends: file:` may pull in, served
//! from memory (nothing is read from disk). Asserts, beyond "no panic": every span of the
//! loaded models lies inside the file it numbers, on character boundaries; no panic of the YAML
//! crate got through; interpolation of every line with the fuzzed variables terminates.
#![no_main]

#[path = "../../tests/common/invariants.rs"]
mod invariants;

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use sandlint::compose::{self, interpolate, project};
use sandlint::source::{FileRef, SourceFile};

/// Names of the extra files, in input order after the Compose file and `.env`.
const NAMES: [&str; 4] = ["a.yaml", "b.yaml", "c.yaml", "d.yaml"];

fuzz_target!(
    init: {
        // The loader catches the YAML crate's known panic (`[!!str, b]`) and works around it;
        // keep such panics from reaching libFuzzer's abort-on-panic hook. Any other panic aborts.
        sandlint::compose::yaml::quiet_caught_yaml_panics();
    },
    |data: &[u8]| {
        let text = String::from_utf8_lossy(data);
        let mut parts = text.split('\0');
        let compose_text = parts.next().unwrap_or_default().to_string();
        let env_text = parts.next().unwrap_or_default().to_string();
        let extra: Vec<String> = parts.take(NAMES.len()).map(str::to_string).collect();

        let vars = compose::parse_dotenv(&env_text);
        let _ = compose::dotenv::entries(&env_text);

        // one file
        let cf = compose::load(&compose_text, &vars);
        let spans = check(&format!("{cf:?}"), &[&compose_text]);
        // no span read off a model with services: `Span`'s Debug changed, nothing checked
        assert!(spans > 0 || cf.services.is_empty(), "no span found in the model's Debug");
        for e in cf.errors.iter().chain(&cf.unresolved) {
            assert!(
                !e.message.contains("the YAML parser failed"),
                "the YAML crate panicked: {}",
                e.message
            );
        }
        for line in compose_text.lines() {
            let _ = interpolate::interpolate(line, &vars);
        }

        // a project: the file, its includes and extends targets from memory
        let dir = Path::new("/sandlint-fuzz");
        let main = SourceFile::new(dir.join("compose.yaml"), "compose.yaml", compose_text.clone())
            .into_ref();
        let reader = |p: &Path| -> Option<FileRef> {
            let name = p.file_name()?.to_str()?;
            let text = if name == ".env" {
                env_text.clone()
            } else {
                extra.get(NAMES.iter().position(|n| *n == name)?)?.clone()
            };
            Some(SourceFile::new(p.to_path_buf(), name, text).into_ref())
        };
        let p = project::load(std::slice::from_ref(&main), &vars, &reader);
        let texts: Vec<&str> = p.files.iter().map(|f| f.text.as_str()).collect();
        check(&format!("{:?}", p.compose), &texts);
    }
);

/// Every span in `debug` inside its text; how many were checked.
fn check(debug: &str, texts: &[&str]) -> usize {
    invariants::model_spans(debug, texts).unwrap_or_else(|e| panic!("{e}"))
}
