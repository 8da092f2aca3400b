//! The Compose loader: YAML events -> span-keeping node tree -> merges and interpolation -> typed model.
//!
//! - `yaml.rs`: the node tree (the only file that knows the YAML crate): spans, anchors and
//!   aliases (shared, with an expansion budget), depth limit, duplicate keys.
//! - `merge.rs`: `<<` merge keys.
//! - `project.rs`: the files of a project (overrides, `include`, `extends`); `overlay.rs`: the
//!   Compose merge rules that combine them.
//! - `interpolate.rs`: `${VAR}` and friends, from `.env` variables only.
//! - `build.rs`: node tree -> [`model`].
//! - `dotenv.rs`: `.env` files.
//! - `keys.rs`: the service keys of the specification and near misses of its security keys.
//! - `jsonc.rs`, `devcontainer/`: `devcontainer.json` (JSON with comments) lowered to the
//!   same model, one service.

mod build;
pub mod devcontainer;
pub mod dotenv;
pub mod edit;
pub mod interpolate;
pub mod jsonc;
pub mod keys;
pub mod merge;
pub mod model;
pub mod overlay;
pub mod project;
pub mod scalar;
pub mod validate;
pub mod yaml;

use std::collections::HashMap;

use model::ComposeFile;

/// Variables available to interpolation (from the `.env` file beside the Compose file).
pub type Vars = HashMap<String, String>;

/// Loads one Compose file. Never fails and never panics: problems are in [`ComposeFile::errors`].
///
/// Every YAML document of the stream is loaded; a service defined again in a later document
/// replaces the earlier one. Errors are sorted by position.
pub fn load(text: &str, vars: &Vars) -> ComposeFile {
    load_in(text, vars, 0)
}

/// [`load`] for the file numbered `file` in a project (every span carries the number).
pub fn load_in(text: &str, vars: &Vars, file: u16) -> ComposeFile {
    let parsed = yaml::parse_in(text, file);
    let mut file = ComposeFile {
        errors: parsed.errors,
        limits: parsed.limits.into_iter().map(Into::into).collect(),
        ..ComposeFile::default()
    };
    let mut ctx = build::Ctx::new(text, vars);
    for doc in &parsed.docs {
        build::document(&mut ctx, doc, &mut file);
    }
    file.errors.append(&mut ctx.errors);
    file.limits.extend(ctx.take_limits());
    // aliased nodes are visited once per use: report each problem once
    file.errors
        .sort_by(|a, b| (a.span, &a.message).cmp(&(b.span, &b.message)));
    file.errors
        .dedup_by(|a, b| a.span == b.span && a.message == b.message);
    file
}

/// Parses a `.env` file (`KEY=value` lines, `#` comments, optional quotes, `export ` prefix).
/// A variable whose expansion passes the byte budget is set with an unknown value; see
/// [`load_dotenv`] for the finding.
pub fn parse_dotenv(text: &str) -> Vars {
    dotenv::parse(text)
}

/// Parses the `.env` file `file`: its variables, and where expansion passed the byte budget
/// (located in `file`).
pub fn load_dotenv(file: &crate::source::FileRef) -> (Vars, Vec<model::ExpansionLimit>) {
    let parsed = dotenv::parse_checked(&file.text);
    let limits = parsed
        .limits
        .into_iter()
        .map(|error| model::ExpansionLimit {
            error,
            file: Some(file.clone()),
        })
        .collect();
    (parsed.vars, limits)
}
