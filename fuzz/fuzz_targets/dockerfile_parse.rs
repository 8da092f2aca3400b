//! Bytes → Dockerfile parser → semantics and the shell tokenizer over every instruction's text.
//!
//! Asserts, beyond "no panic": every span of the parsed model lies inside the text on character
//! boundaries; every shell word of a `RUN`/`CMD`/… text maps back into the file the same way;
//! stage ancestry terminates and stays within the stages.
#![no_main]

#[path = "../../tests/common/invariants.rs"]
mod invariants;

use libfuzzer_sys::fuzz_target;
use sandlint::dockerfile::{self, semantics, shell};

fuzz_target!(|data: &[u8]| {
    // Valid UTF-8 as is; anything else the way a lossy reader would see it.
    let text = String::from_utf8_lossy(data);
    let df = dockerfile::parse(&text);
    match invariants::model_spans(&format!("{df:?}"), &[&text]) {
        // no span read off a model with instructions: `Span`'s Debug changed, nothing checked
        Ok(0) if !df.instructions.is_empty() => panic!("no span found in the model's Debug"),
        Ok(_) => {}
        Err(e) => panic!("{e}"),
    }
    for stage in &df.stages {
        let user = semantics::effective_user(&df, stage);
        if let Some(u) = &user.user {
            let _ = semantics::is_root_user(&u.value);
        }
        let chain = semantics::stage_chain(&df, stage);
        assert!(
            !chain.is_empty() && chain.len() <= df.stages.len(),
            "stage chain of {} stages for {} stages",
            chain.len(),
            df.stages.len()
        );
        let _ = semantics::parent_stage(&df, stage);
        let _ = semantics::expand_with_args(&df, &stage.image.value, semantics::Scope::Global);
        for index in stage.instructions.clone() {
            let scope = semantics::Scope::Before { stage, index };
            let _ = semantics::variables(&df, scope);
            if let Some(inst) = df.instructions.get(index) {
                for w in inst.words() {
                    let _ = semantics::expand_with_args(&df, &w.value, scope);
                }
            }
        }
    }
    let _ = semantics::target_stage(&df, None);
    for inst in df
        .instructions
        .iter()
        .chain(df.instructions.iter().filter_map(|i| i.onbuild.as_deref()))
    {
        let texts = inst
            .args
            .text()
            .into_iter()
            .chain(inst.heredocs.iter().map(|h| &h.body));
        for t in texts {
            let script = shell::parse(&t.value);
            let mut words = Vec::new();
            collect_words(&script, &mut words);
            for (start, end) in words {
                assert!(
                    start <= end && end as usize <= t.value.len(),
                    "shell word {start}..{end} outside its {}-byte text",
                    t.value.len()
                );
                if let Err(e) = invariants::span_in_text(&text, t.source_span(start, end)) {
                    panic!("shell word {start}..{end} of {:?}: {e}", t.value);
                }
            }
        }
    }
});

/// `(start, end)` of every word of every simple command, groups included.
fn collect_words(script: &shell::Script, out: &mut Vec<(u32, u32)>) {
    for p in &script.pipelines {
        for e in &p.elements {
            match e {
                shell::Element::Simple(c) => out.extend(
                    c.assignments
                        .iter()
                        .chain(&c.words)
                        .map(|w| (w.start, w.end)),
                ),
                shell::Element::Group { script, .. } => collect_words(script, out),
            }
        }
    }
}
