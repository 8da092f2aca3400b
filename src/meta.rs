//! The ground floor: what a rule is (its [`RuleMeta`]), how serious a finding is ([`Severity`]),
//! and when a run fails ([`FailOn`]). Imports nothing from the crate, so
//! every other module (diagnostics, docs, config, CLI, rules) can use it.
//!
//! Severity and fail-on words are parsed here, once ([`std::str::FromStr`], also behind
//! `Deserialize`), for the command line and the config file alike.

use std::str::FromStr;

/// Where the project lives (rule doc links).
pub const REPOSITORY_URL: &str = "https://github.com/sandlint/sandlint";

/// How serious a finding is. Ordered: `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    /// The message for an unknown word, as config errors show it.
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "error" => Ok(Severity::Error),
            "warning" => Ok(Severity::Warning),
            "info" => Ok(Severity::Info),
            other => Err(format!(
                "unknown severity `{other}`: expected `error`, `warning` or `info`"
            )),
        }
    }
}

/// The severity at and above which a finding fails the run (`--fail-on`, config `fail-on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailOn {
    Error,
    #[default]
    Warning,
    Info,
    /// Always exit 0 unless sandlint itself fails.
    Never,
}

impl FailOn {
    /// Every value, in the order `--help` lists them.
    pub const ALL: [FailOn; 4] = [FailOn::Error, FailOn::Warning, FailOn::Info, FailOn::Never];

    pub fn as_str(self) -> &'static str {
        match self {
            FailOn::Error => "error",
            FailOn::Warning => "warning",
            FailOn::Info => "info",
            FailOn::Never => "never",
        }
    }

    /// The lowest severity that fails the run; `None`: nothing does.
    pub fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Error => Some(Severity::Error),
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Info => Some(Severity::Info),
            FailOn::Never => None,
        }
    }
}

impl FromStr for FailOn {
    /// The message for an unknown word, as config errors show it.
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        FailOn::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| {
                format!("unknown fail-on `{s}`: expected `error`, `warning`, `info` or `never`")
            })
    }
}

/// Deserializes through [`FromStr`], so a config value and a flag are read by the same parser.
fn from_str_de<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: FromStr<Err = String>,
{
    let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
    s.parse().map_err(serde::de::Error::custom)
}

impl<'de> serde::Deserialize<'de> for Severity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        from_str_de(d)
    }
}

impl<'de> serde::Deserialize<'de> for FailOn {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        from_str_de(d)
    }
}

/// Lifecycle of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Preview,
    Stable,
    Deprecated,
}

/// A rule's metadata, from its doc's front matter (the statics are generated into `docs`).
#[derive(Debug)]
pub struct RuleMeta {
    /// Stable code, never reused: `SLD###` Dockerfile, `SLC###` Compose, `SLX###` both,
    /// `SLV###` dev containers (`devcontainer.json`), `SLE###` input errors, `SLA###` `sandlint
    /// audit` (a running container compared with its Compose file).
    pub code: &'static str,
    /// Kebab-case name of the flagged pattern.
    pub name: &'static str,
    pub title: &'static str,
    pub family: &'static str,
    pub targets: &'static [&'static str],
    /// Default severity.
    pub severity: Severity,
    /// Severity under `preset = "sandbox"` (front matter `sandbox-severity`, default `severity`).
    pub sandbox_severity: Severity,
    pub status: Status,
    pub since: &'static str,
    pub references: &'static [&'static str],
    /// The BuildKit build check (`docker build --check`) the rule implements, by BuildKit's name
    /// (`StageNameCasing`): what a Dockerfile's `# check=skip=…` names (front matter `buildkit`).
    pub buildkit: Option<&'static str>,
    /// The hadolint rules (`DL3006`) whose concept this rule covers, fully or in part (its doc
    /// says how they differ): what a Dockerfile's `# hadolint ignore=…` names (front matter
    /// `hadolint`, default none).
    pub hadolint: &'static [&'static str],
    /// Whether the rule runs without being asked for (front matter `default-enabled`, default
    /// `true`). A rule with `false` is not in the `default` or `sandbox` preset's set: it runs
    /// when `select`/`extend-select` (config, command line, `[[overrides]]`) name it by code,
    /// name, family or `all`, or when the caller names it (`Selection::only`).
    pub default_enabled: bool,
    /// The whole Markdown document, front matter included.
    pub doc: &'static str,
}

impl RuleMeta {
    /// Severity under the sandbox preset.
    pub fn sandbox_severity(&self) -> Severity {
        self.sandbox_severity
    }

    /// The Markdown body after the front matter.
    pub fn body(&self) -> &'static str {
        let doc = self.doc;
        doc.strip_prefix("---\n")
            .and_then(|rest| rest.find("\n---\n").map(|i| &rest[i + 5..]))
            .unwrap_or(doc)
            .trim_start()
    }

    /// The first paragraph of the "What it does" section, on one line.
    pub fn summary(&self) -> String {
        let body = self.body();
        let section = body
            .split("## What it does")
            .nth(1)
            .unwrap_or(body)
            .trim_start();
        section
            .split("\n\n")
            .next()
            .unwrap_or("")
            .lines()
            .map(str::trim)
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Where the rule is documented online.
    pub fn url(&self) -> String {
        self.url_parts().concat()
    }

    /// [`RuleMeta::url`] in the pieces it is made of (written without building it).
    pub fn url_parts(&self) -> [&'static str; 4] {
        [REPOSITORY_URL, "/blob/main/rules/", self.name, ".md"]
    }
}

impl PartialEq for RuleMeta {
    fn eq(&self, other: &Self) -> bool {
        self.code == other.code
    }
}
impl Eq for RuleMeta {}

#[cfg(test)]
mod tests {
    use super::{FailOn, Severity};

    #[test]
    fn words_round_trip_and_errors_name_the_choices() {
        for f in FailOn::ALL {
            assert_eq!(f.as_str().parse::<FailOn>(), Ok(f));
        }
        for s in [Severity::Info, Severity::Warning, Severity::Error] {
            assert_eq!(s.as_str().parse::<Severity>(), Ok(s));
        }
        assert_eq!(
            "fatal".parse::<Severity>(),
            Err("unknown severity `fatal`: expected `error`, `warning` or `info`".to_string())
        );
        assert_eq!(
            "always".parse::<FailOn>(),
            Err(
                "unknown fail-on `always`: expected `error`, `warning`, `info` or `never`"
                    .to_string()
            )
        );
    }

    #[test]
    fn fail_on_thresholds() {
        assert_eq!(FailOn::Never.threshold(), None);
        assert_eq!(FailOn::Info.threshold(), Some(Severity::Info));
    }
}
