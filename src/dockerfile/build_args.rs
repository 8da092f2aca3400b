//! Which build argument (an `ARG` without a default) a variable reference depends on: the
//! value `docker build --build-arg` chooses. Reads [`super::semantics`]' index of definitions.

use super::model::{Dockerfile, KeyValue};
use super::semantics::{Scope, index};

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
