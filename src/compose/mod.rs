//! The Compose loader: YAML events -> span-keeping node tree -> merges and interpolation -> typed model.

pub mod model;

use std::collections::HashMap;

use model::ComposeFile;

/// Variables available to interpolation (from the `.env` file beside the Compose file).
pub type Vars = HashMap<String, String>;

/// Loads one Compose file. Never fails and never panics: problems are in [`ComposeFile::errors`].
pub fn load(text: &str, vars: &Vars) -> ComposeFile {
    let _ = (text, vars);
    ComposeFile::default()
}

/// Parses a `.env` file (`KEY=value` lines, `#` comments, optional quotes, `export ` prefix).
pub fn parse_dotenv(text: &str) -> Vars {
    let _ = text;
    Vars::new()
}
