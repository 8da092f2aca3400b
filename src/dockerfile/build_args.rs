//! Which build argument (an `ARG` without a default) a variable reference depends on: the
//! value `docker build --build-arg` chooses. Reads [`super::semantics`]' index of definitions.

use super::model::{Dockerfile, KeyValue};
use super::semantics::{self, Scope, index};
use super::vars::{VarRef, var_refs};

/// How many definitions [`build_arg_without_default`] follows (`ENV A=$B`, `ARG B=$C`, ...).
const MAX_TRACE: usize = 16;

/// The `ARG` without a default whose value a reference to `name` just before `scope` takes:
/// the build chooses it (`--build-arg NAME=...`), and without one it is empty. Followed through
/// definitions that copy other variables (`ARG SRC` then `ENV SRC=$SRC`; `ARG URL=$BASE/x` with
/// `ARG BASE`), at most [`MAX_TRACE`] deep. `None` when the value is known, when `name` is not
/// declared in the stage (BuildKit expands it to an empty string, which no `--build-arg` sets),
/// when it comes from elsewhere (a base image's `ENV PATH`), and for BuildKit's predefined
/// platform arguments (`ARG TARGETARCH`: set by the builder, from a short list of platforms).
/// The pair returned is the `ARG`'s, for a label.
pub fn build_arg_without_default<'a>(
    df: &'a Dockerfile,
    name: &str,
    scope: Scope<'_>,
) -> Option<&'a KeyValue> {
    let Scope::Before { stage, index } = scope else {
        return None;
    };
    let mut budget = MAX_TRACE;
    trace_build_arg(df, name, stage.index, index, &mut budget)
}

/// The first variable reference of `text` (a word of an instruction just before `scope`) whose
/// value is not known there, with what the text before it expands to (`None` when that does not
/// expand either): where the build's choice begins. References inside an earlier reference
/// (`${A:-$B}`) count with it. `None` when every reference is known.
pub fn first_unknown_ref<'t>(
    df: &Dockerfile,
    text: &'t str,
    scope: Scope<'_>,
) -> Option<(VarRef<'t>, Option<String>)> {
    let mut covered = 0;
    for r in var_refs(text, df.escape_char(), true) {
        if r.range.start < covered {
            continue;
        }
        covered = r.range.end;
        let written = text.get(r.range.clone())?;
        if semantics::expand_with_args(df, written, scope).is_some() {
            continue;
        }
        let before = text
            .get(..r.range.start)
            .and_then(|p| semantics::expand_with_args(df, p, scope));
        return Some((r, before));
    }
    None
}

fn trace_build_arg<'a>(
    df: &'a Dockerfile,
    name: &str,
    stage: usize,
    before: usize,
    budget: &mut usize,
) -> Option<&'a KeyValue> {
    *budget = budget.checked_sub(1)?;
    let idx = index(df);
    let def = idx.definition(name, stage, before)?;
    if def.value.is_some() {
        return None;
    }
    let ins = df.instructions.get(def.index)?;
    let pair = ins
        .args
        .pairs()
        .iter()
        .rev()
        .find(|kv| kv.key.value == name)?;
    match &pair.raw_value {
        None if def.env => None,
        None => {
            let predefined = super::globals::PREDEFINED.iter().any(|(n, _)| *n == name);
            // a global default that could not be expanded is unknown, not chosen by the build
            (!predefined && !idx.global_defaults.contains_key(name)).then_some(pair)
        }
        Some(raw) => super::vars::var_refs(&raw.value, df.escape_char(), true)
            .into_iter()
            .find_map(|r| trace_build_arg(df, r.name, def.stage, def.index, budget)),
    }
}
