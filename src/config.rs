//! `.sandlint.toml`: options as read (spanned, so errors point into the file) and resolved
//! settings that decide, per finding, whether it is reported and at which severity.
//!
//! Layering: defaults < the config file (nearest `.sandlint.toml`/`sandlint.toml` walking up
//! from each checked file to the repository root, or `--config`) < command-line flags.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use toml::Spanned;

use crate::dockerfile::registry::{self, TrustedRegistry};
use crate::docs;
use crate::fsread;
use crate::meta::{FailOn, RuleMeta, Severity};
use crate::rules;

/// Config file names, in order of preference within one directory.
pub const CONFIG_NAMES: &[&str] = &[".sandlint.toml", "sandlint.toml"];

/// The file as written. Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Options {
    pub preset: Option<Spanned<String>>,
    pub select: Option<Vec<Spanned<String>>>,
    pub extend_select: Option<Vec<Spanned<String>>>,
    pub ignore: Option<Vec<Spanned<String>>>,
    pub fail_on: Option<Spanned<String>>,
    pub exclude: Option<Vec<Spanned<String>>>,
    pub trusted_registries: Option<Vec<Spanned<String>>>,
    pub severity: Option<BTreeMap<Spanned<String>, Spanned<String>>>,
    pub overrides: Option<Vec<OverrideOptions>>,
    pub allow_outside: Option<Vec<Spanned<String>>>,
}

/// `[[overrides]]`: settings for some paths and/or Compose services.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct OverrideOptions {
    pub paths: Option<Vec<Spanned<String>>>,
    pub services: Option<Vec<Spanned<String>>>,
    pub select: Option<Vec<Spanned<String>>>,
    pub extend_select: Option<Vec<Spanned<String>>>,
    pub ignore: Option<Vec<Spanned<String>>>,
    pub severity: Option<BTreeMap<Spanned<String>, Spanned<String>>>,
}

/// A rule preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Preset {
    /// The security rules at their default severities.
    #[default]
    Default,
    /// The "always sandboxed" posture for agent and untrusted-code containers: stricter severities.
    Sandbox,
}

impl Preset {
    fn parse(s: &str) -> Option<Preset> {
        match s {
            "default" => Some(Preset::Default),
            "sandbox" => Some(Preset::Sandbox),
            _ => None,
        }
    }

    /// The severity of a rule under this preset.
    pub fn severity(self, rule: &RuleMeta) -> Severity {
        match self {
            Preset::Default => rule.severity,
            Preset::Sandbox => rule.sandbox_severity(),
        }
    }
}

/// What a `select`/`ignore` entry names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// Every rule.
    All,
    /// One rule, by code.
    Rule(&'static str),
    /// A family (`privilege`, `network`, ...).
    Family(String),
}

impl Selector {
    pub fn matches(&self, rule: &RuleMeta) -> bool {
        match self {
            Selector::All => true,
            Selector::Rule(code) => rule.code == *code,
            Selector::Family(f) => rule.family == f,
        }
    }

    /// Parses a rule name, code, family or `all`.
    pub fn parse(s: &str) -> Result<Selector, String> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("all") {
            return Ok(Selector::All);
        }
        if let Some(rule) = rules::find(s) {
            return Ok(Selector::Rule(rule.meta().code));
        }
        if rules::ALL.iter().any(|r| r.meta().family == s) {
            return Ok(Selector::Family(s.to_string()));
        }
        let hint = docs::suggest(s)
            .map(|n| format!(" (did you mean `{n}`?)"))
            .unwrap_or_default();
        Err(format!("unknown rule or family `{s}`{hint}"))
    }
}

/// Rule and severity settings (the base of a config, or one override).
#[derive(Debug, Clone, Default)]
pub struct RuleSettings {
    /// Replaces the enabled set; `None` keeps the preset's.
    pub select: Option<Vec<Selector>>,
    pub extend_select: Vec<Selector>,
    pub ignore: Vec<Selector>,
    /// Severity by rule code.
    pub severity: HashMap<&'static str, Severity>,
}

impl RuleSettings {
    /// Applies these settings on top of `(enabled, severity)`.
    fn apply(&self, rule: &RuleMeta, enabled: bool, severity: Severity) -> (bool, Severity) {
        let mut enabled = match &self.select {
            Some(sel) => sel.iter().any(|s| s.matches(rule)),
            None => enabled,
        };
        if self.extend_select.iter().any(|s| s.matches(rule)) {
            enabled = true;
        }
        if self.ignore.iter().any(|s| s.matches(rule)) {
            enabled = false;
        }
        (
            enabled,
            self.severity.get(rule.code).copied().unwrap_or(severity),
        )
    }
}

/// One `[[overrides]]` block, resolved.
#[derive(Debug, Clone)]
pub struct Override {
    pub paths: Option<GlobSet>,
    pub services: Vec<String>,
    pub rules: RuleSettings,
}

/// A resolved configuration: one config file (or none) plus command-line flags.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The file it came from, if any.
    pub path: Option<PathBuf>,
    /// Globs in the file are relative to this directory.
    pub dir: PathBuf,
    pub preset: Preset,
    pub rules: RuleSettings,
    pub fail_on: Option<FailOn>,
    pub exclude: Option<GlobSet>,
    /// `trusted-registries`, checked (empty: not configured).
    pub trusted_registries: Arc<[TrustedRegistry]>,
    pub overrides: Vec<Override>,
    /// `allow-outside`: paths (absolute, normalized; relative entries are relative to the
    /// config's directory) that files may be read from although they are outside the project
    /// boundary. A discovered config may only name paths below its own directory.
    pub allow_outside: Vec<PathBuf>,
    /// Answers worked out once from the fields above (a `Config` is not changed once it is
    /// used; [`Config::with_cli`] starts a new one, and a clone starts empty).
    pub memo: Memo,
}

/// What [`Config`] works out once: for each rule of [`rules::ALL`] (by position), the severity
/// of its findings when no `[[overrides]]` apply, `None` when it is off. Asked for every check
/// (8,000 checks × 66 rules in the corpus), it was 8% of a `--select` run.
/// Also, for the one selection of a run, what the rules that may run read when no
/// `[[overrides]]` apply (asked for every file, and for every Dockerfile by every Compose
/// project's join question: 2% of a `--select` run).
#[derive(Default)]
pub struct Memo {
    base: std::sync::OnceLock<Box<[Option<Severity>]>>,
    reads: std::sync::OnceLock<(Selected, rules::Reads)>,
}

/// A selection's rule codes: those that run (`None`: all), those that do not.
pub type Selected = (Option<Vec<&'static str>>, Vec<&'static str>);

impl Memo {
    /// `work()`'s answer for the selection `selected`: the remembered one when it is the
    /// selection first asked for (else worked out again).
    pub fn reads(
        &self,
        only: &Option<Vec<&'static str>>,
        ignore: &[&'static str],
        work: impl Fn() -> rules::Reads,
    ) -> rules::Reads {
        let ((first_only, first_ignore), reads) =
            (self.reads).get_or_init(|| ((only.clone(), ignore.to_vec()), work()));
        if first_only == only && first_ignore.as_slice() == ignore {
            *reads
        } else {
            work()
        }
    }
}

impl Clone for Memo {
    fn clone(&self) -> Self {
        Memo::default()
    }
}

impl std::fmt::Debug for Memo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Memo")
    }
}

/// Command-line settings layered over every config file.
#[derive(Debug, Clone, Default)]
pub struct CliOverrides {
    pub preset: Option<Preset>,
    pub select: Option<Vec<Selector>>,
    pub extend_select: Vec<Selector>,
    pub ignore: Vec<Selector>,
    pub fail_on: Option<FailOn>,
}

impl Config {
    /// For each rule of [`rules::ALL`] (by position), the severity of its findings before any
    /// `[[overrides]]` apply, `None` when it is off.
    pub fn base_decisions(&self) -> &[Option<Severity>] {
        self.memo.base.get_or_init(|| {
            (rules::ALL.iter())
                .map(|r| self.base_decision(r.meta(), r.meta().default_enabled))
                .collect()
        })
    }

    /// [`Config::base_decisions`]' entry for `rule`, with the rule on (`on_by_default`) or off
    /// before `select`/`extend-select`/`ignore` apply.
    pub fn base_decision(&self, rule: &RuleMeta, on_by_default: bool) -> Option<Severity> {
        let (on, severity) = self
            .rules
            .apply(rule, on_by_default, self.preset.severity(rule));
        on.then_some(severity)
    }

    /// The severity a finding of `rule` gets in `path` (relative or absolute) and `scope`
    /// (`service:<name>` / `stage:<name>`), or `None` when the rule is not enabled there. A
    /// rule starts on or off as its doc's `default-enabled` says.
    pub fn decide(&self, rule: &RuleMeta, path: &Path, scope: Option<&str>) -> Option<Severity> {
        self.decide_from(rule.default_enabled, rule, path, scope)
    }

    /// [`Config::decide`] with the rule on (`on_by_default`) or off before the settings apply
    /// (a rule the caller named runs as if on by default: [`crate::selection::Selection`]).
    pub fn decide_from(
        &self,
        on_by_default: bool,
        rule: &RuleMeta,
        path: &Path,
        scope: Option<&str>,
    ) -> Option<Severity> {
        let (mut enabled, mut severity) =
            self.rules
                .apply(rule, on_by_default, self.preset.severity(rule));
        if !self.overrides.is_empty() {
            let rel = self.relative(path);
            let service = scope.and_then(|s| s.strip_prefix("service:"));
            for o in &self.overrides {
                let path_ok = o.paths.as_ref().is_none_or(|g| g.is_match(&rel));
                let service_ok = o.services.is_empty()
                    || service.is_some_and(|s| o.services.iter().any(|x| x == s));
                if path_ok && service_ok {
                    (enabled, severity) = o.rules.apply(rule, enabled, severity);
                }
            }
        }
        enabled.then_some(severity)
    }

    /// Whether `rule` is enabled in `path` for at least one scope (some service, stage or none):
    /// [`Config::decide`] with the scope left open, so a rule for which this is `false` can be
    /// left out of a check of `path` without losing a finding. (Overrides naming services are
    /// taken to apply and not to apply, each independently: the answer may be `true` for a rule
    /// that no actual service enables, never `false` for one that some scope does.)
    pub fn may_enable(&self, rule: &RuleMeta, path: &Path) -> bool {
        self.can_enable(rule.default_enabled, rule, Some(path))
    }

    /// Whether `rule` is enabled in some file for some scope: [`Config::may_enable`] with every
    /// override that names paths taken to apply and not to apply (the answer before any file
    /// of a check is known).
    pub fn may_enable_somewhere(&self, rule: &RuleMeta) -> bool {
        self.can_enable(rule.default_enabled, rule, None)
    }

    /// [`Config::may_enable`] in `path`, or anywhere (`None`), with the rule on
    /// (`on_by_default`) or off before the settings apply.
    pub fn can_enable(&self, on_by_default: bool, rule: &RuleMeta, path: Option<&Path>) -> bool {
        let severity = self.preset.severity(rule);
        let (enabled, _) = self.rules.apply(rule, on_by_default, severity);
        if self.overrides.is_empty() {
            return enabled;
        }
        let rel = path.map(|p| self.relative(p));
        // which of on/off the rule can be in, over all scopes
        let (mut can_on, mut can_off) = (enabled, !enabled);
        for o in &self.overrides {
            let sure = match (&o.paths, &rel) {
                (None, _) => true,
                (Some(g), Some(rel)) if g.is_match(rel) => true,
                (Some(_), Some(_)) => continue,
                (Some(_), None) => false,
            };
            let (from_on, _) = o.rules.apply(rule, true, severity);
            let (from_off, _) = o.rules.apply(rule, false, severity);
            let on = (can_on && from_on) || (can_off && from_off);
            let off = (can_on && !from_on) || (can_off && !from_off);
            if sure && o.services.is_empty() {
                (can_on, can_off) = (on, off);
            } else {
                (can_on, can_off) = (can_on || on, can_off || off);
            }
        }
        can_on
    }

    /// Whether a walked file is excluded by `exclude`.
    pub fn is_excluded(&self, path: &Path) -> bool {
        self.exclude
            .as_ref()
            .is_some_and(|g| g.is_match(self.relative(path)))
    }

    fn relative(&self, path: &Path) -> PathBuf {
        let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        abs.strip_prefix(&self.dir)
            .map(Path::to_path_buf)
            .unwrap_or(abs)
    }

    /// Layers command-line flags over this config.
    pub fn with_cli(mut self, cli: &CliOverrides) -> Config {
        self.memo = Memo::default();
        if let Some(p) = cli.preset {
            self.preset = p;
        }
        if let Some(sel) = &cli.select {
            self.rules.select = Some(sel.clone());
        }
        self.rules
            .extend_select
            .extend(cli.extend_select.iter().cloned());
        self.rules.ignore.extend(cli.ignore.iter().cloned());
        self.fail_on = cli.fail_on.or(self.fail_on);
        self
    }

    /// When the run fails: `--fail-on` (layered over the file by [`Config::with_cli`]), else the
    /// file's `fail-on`, else `warning`. The one place the setting is decided.
    pub fn fail_on(&self) -> FailOn {
        self.fail_on.unwrap_or_default()
    }

    /// Reads and resolves a config file the invoker named (`--config`): it is trusted, and its
    /// `allow-outside` may name any path. Errors point at the offending key or value.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = crate::fsread::read(path, None).map_err(|e| ConfigError::Unreadable {
            path: path.to_path_buf(),
            reason: e.describe(),
        })?;
        Self::parse(path, &text.text)
    }

    /// Reads a config file found by walking up from a checked file. It was written by whoever
    /// wrote the checked tree, so: a symbolic link resolving outside the project (the git work
    /// tree holding it, else its directory) is refused, and `allow-outside` may only name paths
    /// below the config's own directory (it cannot widen the boundary beyond what its author
    /// already controls).
    pub fn load_discovered(path: &Path) -> Result<Config, ConfigError> {
        let dir = path.parent().unwrap_or(Path::new("."));
        let boundary = crate::fsread::Boundary::around(dir);
        let text = crate::fsread::read(path, Some(&boundary)).map_err(|e| match e {
            crate::fsread::ReadError::Outside { .. } => ConfigError::OutsideProject {
                path: path.to_path_buf(),
            },
            e => ConfigError::Unreadable {
                path: path.to_path_buf(),
                reason: e.describe(),
            },
        })?;
        let config = Self::parse(path, &text.text)?;
        let own_dir = crate::fsread::absolute(dir);
        let canon_dir = std::fs::canonicalize(dir).unwrap_or_else(|_| own_dir.clone());
        let options: Options = toml::from_str(&text.text).unwrap_or_default();
        for (entry, resolved) in options
            .allow_outside
            .iter()
            .flatten()
            .zip(&config.allow_outside)
        {
            let canon = std::fs::canonicalize(resolved).unwrap_or_else(|_| resolved.clone());
            let inside = resolved.starts_with(&own_dir)
                && (canon.starts_with(&canon_dir) || canon.starts_with(&own_dir));
            if !inside {
                return Err(ConfigError::AllowOutside {
                    at: ConfigSpot::new(path, &text.text, Some(entry.span())),
                    entry: entry.get_ref().clone(),
                });
            }
        }
        Ok(config)
    }

    /// Parses config text (`path` names it in errors and anchors its globs).
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let p = Parsing { path, text };
        let options = p.options()?;
        let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let dir = abs.parent().map(Path::to_path_buf).unwrap_or_default();
        // Checked in this order: the first error is the one reported.
        let preset = p.preset(options.preset.as_ref())?;
        let fail_on = p.fail_on(options.fail_on.as_ref())?;
        let overrides = options
            .overrides
            .iter()
            .flatten()
            .map(|o| p.override_block(o))
            .collect::<Result<Vec<_>, _>>()?;
        let allow_outside = options
            .allow_outside
            .iter()
            .flatten()
            .map(|s| crate::fsread::absolute(&dir.join(s.get_ref())))
            .collect();
        Ok(Config {
            path: Some(path.to_path_buf()),
            dir,
            preset,
            rules: p.rule_settings(
                options.select.as_ref(),
                &options.extend_select,
                &options.ignore,
                &options.severity,
            )?,
            fail_on,
            exclude: p.globs(&options.exclude)?,
            trusted_registries: p.trusted_registries(&options.trusted_registries)?,
            overrides,
            allow_outside,
            memo: Memo::default(),
        })
    }
}

/// A spanned list of names, as written.
type SpannedList = Option<Vec<Spanned<String>>>;

/// A spanned `[severity]` table, as written.
type SpannedSeverities = Option<BTreeMap<Spanned<String>, Spanned<String>>>;

/// Config text being resolved: every error points into it.
struct Parsing<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Parsing<'_> {
    fn at(&self, span: Option<std::ops::Range<usize>>) -> ConfigSpot {
        ConfigSpot::new(self.path, self.text, span)
    }

    /// The file as written (TOML syntax, unknown keys, wrong types).
    fn options(&self) -> Result<Options, ConfigError> {
        toml::from_str(self.text).map_err(|e| {
            let message = e.message().trim().trim_end_matches('.').to_string();
            let at = self.at(e.span());
            if message.starts_with("unknown field") {
                ConfigError::UnknownKey { at, message }
            } else if [
                "invalid type",
                "invalid value",
                "invalid length",
                "unknown variant",
            ]
            .iter()
            .any(|p| message.starts_with(p))
            {
                ConfigError::InvalidValue { at, message }
            } else {
                ConfigError::Syntax { at, message }
            }
        })
    }

    fn preset(&self, p: Option<&Spanned<String>>) -> Result<Preset, ConfigError> {
        match p {
            None => Ok(Preset::Default),
            Some(p) => Preset::parse(p.get_ref()).ok_or_else(|| ConfigError::UnknownPreset {
                at: self.at(Some(p.span())),
                value: p.get_ref().clone(),
            }),
        }
    }

    fn fail_on(&self, f: Option<&Spanned<String>>) -> Result<Option<FailOn>, ConfigError> {
        let Some(f) = f else { return Ok(None) };
        f.get_ref()
            .parse::<FailOn>()
            .map(Some)
            .map_err(|message| ConfigError::UnknownFailOn {
                at: self.at(Some(f.span())),
                message,
            })
    }

    /// One `[[overrides]]` block.
    fn override_block(&self, o: &OverrideOptions) -> Result<Override, ConfigError> {
        Ok(Override {
            paths: self.globs(&o.paths)?,
            services: o
                .services
                .iter()
                .flatten()
                .map(|s| s.get_ref().clone())
                .collect(),
            rules: self.rule_settings(
                o.select.as_ref(),
                &o.extend_select,
                &o.ignore,
                &o.severity,
            )?,
        })
    }

    /// `select`, `extend-select`, `ignore` and `[severity]` (checked in that order).
    fn rule_settings(
        &self,
        select: Option<&Vec<Spanned<String>>>,
        extend_select: &SpannedList,
        ignore: &SpannedList,
        severity: &SpannedSeverities,
    ) -> Result<RuleSettings, ConfigError> {
        Ok(RuleSettings {
            select: select.map(|s| self.selectors(s)).transpose()?,
            extend_select: self.selectors(extend_select.iter().flatten())?,
            ignore: self.selectors(ignore.iter().flatten())?,
            severity: self.severities(severity)?,
        })
    }

    fn selectors<'s>(
        &self,
        v: impl IntoIterator<Item = &'s Spanned<String>>,
    ) -> Result<Vec<Selector>, ConfigError> {
        v.into_iter()
            .map(|s| {
                Selector::parse(s.get_ref()).map_err(|message| ConfigError::UnknownSelector {
                    at: self.at(Some(s.span())),
                    message,
                })
            })
            .collect()
    }

    fn severities(
        &self,
        m: &SpannedSeverities,
    ) -> Result<HashMap<&'static str, Severity>, ConfigError> {
        let mut out = HashMap::new();
        for (k, v) in m.iter().flatten() {
            let Some(rule) = rules::find(k.get_ref()).map(|r| r.meta()) else {
                let hint = docs::suggest(k.get_ref())
                    .map(|n| format!(" (did you mean `{n}`?)"))
                    .unwrap_or_default();
                return Err(ConfigError::UnknownRule {
                    at: self.at(Some(k.span())),
                    name: k.get_ref().clone(),
                    hint,
                });
            };
            let sev: Severity =
                v.get_ref()
                    .parse()
                    .map_err(|message| ConfigError::UnknownSeverity {
                        at: self.at(Some(v.span())),
                        message,
                    })?;
            out.insert(rule.code, sev);
        }
        Ok(out)
    }

    /// `trusted-registries`: every entry checked ([`TrustedRegistry::parse`]), at most
    /// [`registry::MAX_ENTRIES`] of them.
    fn trusted_registries(&self, v: &SpannedList) -> Result<Arc<[TrustedRegistry]>, ConfigError> {
        let list = v.as_deref().unwrap_or_default();
        let mut out = Vec::with_capacity(list.len().min(registry::MAX_ENTRIES));
        for (i, s) in list.iter().enumerate() {
            let entry = s.get_ref();
            let parsed = if i >= registry::MAX_ENTRIES {
                Err(format!(
                    "more than {} entries in `trusted-registries`",
                    registry::MAX_ENTRIES
                ))
            } else {
                TrustedRegistry::parse(entry)
            };
            match parsed {
                Ok(t) => out.push(t),
                Err(reason) => {
                    return Err(ConfigError::TrustedRegistry {
                        at: self.at(Some(s.span())),
                        entry: crate::escape::line(&crate::source::clip(entry, 0)).into_owned(),
                        reason,
                    });
                }
            }
        }
        Ok(out.into())
    }

    fn globs(&self, v: &SpannedList) -> Result<Option<GlobSet>, ConfigError> {
        let Some(list) = v else { return Ok(None) };
        let mut b = GlobSetBuilder::new();
        for g in list {
            let pattern = g.get_ref().trim_start_matches("./");
            let glob = Glob::new(pattern).map_err(|e| ConfigError::InvalidGlob {
                at: self.at(Some(g.span())),
                message: e.kind().to_string(),
            })?;
            b.add(glob);
            // `dir` also matches everything below it, as in .gitignore.
            if !pattern.contains('*')
                && let Ok(glob) = Glob::new(&format!("{}/**", pattern.trim_end_matches('/')))
            {
                b.add(glob);
            }
        }
        b.build().map(Some).map_err(|e| ConfigError::InvalidGlob {
            at: self.at(None),
            message: e.to_string(),
        })
    }
}

/// Where in a config file an error is: the file, its text, and the byte range of the offending
/// key or value (`None`: the file as a whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigSpot {
    pub path: PathBuf,
    pub text: String,
    pub span: Option<std::ops::Range<usize>>,
}

impl ConfigSpot {
    fn new(path: &Path, text: &str, span: Option<std::ops::Range<usize>>) -> Self {
        Self {
            path: path.to_path_buf(),
            text: text.to_string(),
            span,
        }
    }

    /// Line and column (1-based) of the start of the span.
    pub fn line_col(&self) -> Option<(u32, u32)> {
        let span = self.span.as_ref()?;
        let file = crate::source::SourceFile::virtual_file("", self.text.as_str());
        let lc = file.line_col(u32::try_from(span.start).unwrap_or(u32::MAX));
        Some((lc.line, lc.column))
    }
}

/// Why a config file cannot be used. The message (`Display`) is what the user reads; every
/// variant but the read errors points into the file ([`ConfigSpot`]), and the command boundary
/// turns it into a usage error (exit 2) with the location and a snippet.
#[derive(Debug, Clone, thiserror::Error, miette::Diagnostic)]
pub enum ConfigError {
    #[error("cannot read config {}: {reason}", path.display())]
    #[diagnostic(code(sandlint::config::unreadable))]
    Unreadable { path: PathBuf, reason: String },

    #[error(
        "{}: config is a symbolic link to a file outside the project; refusing to read it (name it with --config to use it)",
        crate::source::display_path(path)
    )]
    #[diagnostic(code(sandlint::config::outside_project))]
    OutsideProject { path: PathBuf },

    /// Not TOML.
    #[error("invalid config: {message}")]
    #[diagnostic(code(sandlint::config::syntax))]
    Syntax { at: ConfigSpot, message: String },

    #[error("invalid config: {message}")]
    #[diagnostic(code(sandlint::config::unknown_key))]
    UnknownKey { at: ConfigSpot, message: String },

    /// A value of the wrong type or form.
    #[error("invalid config: {message}")]
    #[diagnostic(code(sandlint::config::invalid_value))]
    InvalidValue { at: ConfigSpot, message: String },

    /// A `[severity]` key that is no rule.
    #[error("unknown rule `{name}`{hint}")]
    #[diagnostic(code(sandlint::config::unknown_rule))]
    UnknownRule {
        at: ConfigSpot,
        name: String,
        /// ` (did you mean `...`?)` or empty.
        hint: String,
    },

    /// A `select`/`extend-select`/`ignore` entry that is no rule, family or `all`.
    #[error("{message}")]
    #[diagnostic(code(sandlint::config::unknown_selector))]
    UnknownSelector { at: ConfigSpot, message: String },

    /// The message is [`Severity`]'s parser's.
    #[error("{message}")]
    #[diagnostic(code(sandlint::config::unknown_severity))]
    UnknownSeverity { at: ConfigSpot, message: String },

    #[error("unknown preset `{value}`: expected `default` or `sandbox`")]
    #[diagnostic(code(sandlint::config::unknown_preset))]
    UnknownPreset { at: ConfigSpot, value: String },

    /// The message is [`FailOn`]'s parser's (the same as for `--fail-on`'s config twin).
    #[error("{message}")]
    #[diagnostic(code(sandlint::config::unknown_fail_on))]
    UnknownFailOn { at: ConfigSpot, message: String },

    #[error("invalid glob: {message}")]
    #[diagnostic(code(sandlint::config::invalid_glob))]
    InvalidGlob { at: ConfigSpot, message: String },

    /// A `trusted-registries` entry of no accepted form (the entry is shown escaped and cut).
    #[error(
        "invalid `trusted-registries` entry `{entry}`: {reason}; {}",
        registry::ACCEPTED_FORMS
    )]
    #[diagnostic(code(sandlint::config::trusted_registry))]
    TrustedRegistry {
        at: ConfigSpot,
        entry: String,
        reason: String,
    },

    /// A discovered config's `allow-outside` entry outside its own directory.
    #[error(
        "allow-outside `{entry}` is outside the directory of this config; only --allow-outside or a config named with --config may allow paths outside the project"
    )]
    #[diagnostic(code(sandlint::config::allow_outside))]
    AllowOutside { at: ConfigSpot, entry: String },
}

impl ConfigError {
    /// Where in the file the error is; `None` for a file that could not be read.
    pub fn spot(&self) -> Option<&ConfigSpot> {
        match self {
            ConfigError::Unreadable { .. } | ConfigError::OutsideProject { .. } => None,
            ConfigError::Syntax { at, .. }
            | ConfigError::UnknownKey { at, .. }
            | ConfigError::InvalidValue { at, .. }
            | ConfigError::UnknownRule { at, .. }
            | ConfigError::UnknownSelector { at, .. }
            | ConfigError::UnknownSeverity { at, .. }
            | ConfigError::UnknownPreset { at, .. }
            | ConfigError::UnknownFailOn { at, .. }
            | ConfigError::InvalidGlob { at, .. }
            | ConfigError::TrustedRegistry { at, .. }
            | ConfigError::AllowOutside { at, .. } => Some(at),
        }
    }
}

/// Finds and caches the nearest config file for each directory (looked up under a shared
/// read lock; the probes themselves are answered from the run's directory listings). With the
/// run cache the answers are kept in its record of each directory, else here, keyed by the
/// directory's bytes; directories with the same answer share one path.
#[derive(Default)]
pub struct ConfigFinder {
    cache: RwLock<NearestByDir>,
}

/// A directory's bytes → its nearest config file.
type NearestByDir = HashMap<Box<[u8]>, Option<Arc<Path>>, foldhash::fast::RandomState>;

impl std::fmt::Debug for ConfigFinder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let known = self.cache.read().map_or(0, |c| c.len());
        f.debug_struct("ConfigFinder")
            .field("known", &known)
            .finish()
    }
}

impl ConfigFinder {
    /// The nearest config file at or above `dir`, stopping at the repository root (a directory
    /// holding `.git`).
    pub fn nearest(&self, dir: &Path) -> Option<PathBuf> {
        let abs = fsread::resolved_dir(dir);
        let mut visited = Vec::new();
        let mut found: Option<Arc<Path>> = None;
        for d in abs.ancestors() {
            if let Some(hit) = fsread::recall_nearest_config(d) {
                found = hit;
                break;
            }
            let key = d.as_os_str().as_encoded_bytes();
            if let Ok(cache) = self.cache.read()
                && let Some(hit) = cache.get(key)
            {
                found = hit.clone();
                break;
            }
            visited.push(d);
            if let Some(p) = (CONFIG_NAMES.iter().map(|n| d.join(n))).find(|p| fsread::is_file(p)) {
                found = Some(Arc::from(p));
                break;
            }
            if fsread::exists(&d.join(".git")) {
                break;
            }
        }
        // Every directory on the way up has the same nearest config: recorded with the run's
        // other records of each directory, else here.
        let unrecorded: Vec<&Path> = visited
            .into_iter()
            .filter(|d| !fsread::record_nearest_config(d, found.clone()))
            .collect();
        if !unrecorded.is_empty()
            && let Ok(mut cache) = self.cache.write()
        {
            for d in unrecorded {
                cache.insert(d.as_os_str().as_encoded_bytes().into(), found.clone());
            }
        }
        found.map(|p| p.to_path_buf())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("/repo/.sandlint.toml"), text)
    }

    fn line_col(e: &ConfigError) -> Option<(u32, u32)> {
        e.spot().and_then(ConfigSpot::line_col)
    }

    #[test]
    fn unknown_key_points_at_it() {
        let e = parse("preset = \"default\"\nselectt = []\n").unwrap_err();
        assert!(e.to_string().contains("unknown field `selectt`"), "{e}");
        assert!(matches!(e, ConfigError::UnknownKey { .. }), "{e:?}");
        assert_eq!(line_col(&e), Some((2, 1)));
    }

    #[test]
    fn unknown_rule_suggests() {
        let e = parse("ignore = [\"privileged-containr\"]\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown rule or family `privileged-containr` (did you mean `privileged-container`?)"
        );
        assert_eq!(line_col(&e), Some((1, 11)));
    }

    #[test]
    fn wrong_type_and_bad_glob() {
        let e = parse("fail-on = 3\n").unwrap_err();
        assert!(
            e.to_string().starts_with("invalid config: invalid type"),
            "{e}"
        );
        assert!(matches!(e, ConfigError::InvalidValue { .. }), "{e:?}");
        let e = parse("exclude = [\"a/[b\"]\n").unwrap_err();
        assert!(e.to_string().starts_with("invalid glob"), "{e}");
        assert_eq!(line_col(&e), Some((1, 12)));
    }

    #[test]
    fn trusted_registries_are_checked_where_written() {
        let c = parse("trusted-registries = [\"*.example.com\", \"docker.io/library\", \"*\"]\n")
            .unwrap();
        assert_eq!(c.trusted_registries.len(), 3);
        let e =
            parse("trusted-registries = [\n  \"ghcr.io\",\n  \"*example.com\",\n]\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid `trusted-registries` entry `*example.com`: `*` is accepted alone or at the start of `*.domain` only, and no other wildcard (`?`, `[…]`, `{…}`); expected `*`, a registry (`registry.example.com`, `registry.example.com:5000`, `localhost`, `docker.io`) or `*.example.com` (its subdomains), optionally followed by a repository path prefix (`registry.example.com/team`)"
        );
        assert!(matches!(e, ConfigError::TrustedRegistry { .. }), "{e:?}");
        assert_eq!(line_col(&e), Some((3, 3)));
        // Hostile entries are shown escaped and clipped.
        let e = parse("trusted-registries = [\"a\\u001b[31m.example.com\"]\n").unwrap_err();
        assert!(
            e.to_string().starts_with("invalid `trusted-registries` entry `a\\x1b[31m.example.com`: the entry contains whitespace or a control character; expected"),
            "{e}"
        );
        let long = format!("trusted-registries = [\"{}\"]\n", "a".repeat(5000));
        let e = parse(&long).unwrap_err();
        assert!(
            e.to_string()
                .contains("… (clipped, 5000 characters)`: the entry is longer than 255 characters"),
            "{e}"
        );
        let many = format!(
            "trusted-registries = [{}]\n",
            vec!["\"ghcr.io\""; registry::MAX_ENTRIES + 1].join(", ")
        );
        let e = parse(&many).unwrap_err();
        assert!(
            e.to_string()
                .contains("entry `ghcr.io`: more than 1000 entries in `trusted-registries`"),
            "{e}"
        );
        assert_eq!(
            line_col(&e),
            Some((1, 23 + 11 * registry::MAX_ENTRIES as u32))
        );
    }

    #[test]
    fn decide_layers() {
        let c = parse(
            r#"
ignore = ["missing-pids-limit"]
[severity]
missing-cpu-limit = "info"
[[overrides]]
paths = ["legacy"]
ignore = ["privilege"]
[[overrides]]
services = ["db"]
extend-select = ["missing-pids-limit"]
severity = { missing-cpu-limit = "error" }
"#,
        )
        .unwrap();
        let meta = |name| rules::find(name).unwrap().meta();
        let (pids, cpu, root) = (
            meta("missing-pids-limit"),
            meta("missing-cpu-limit"),
            meta("privileged-container"),
        );
        let f = Path::new("/repo/app/compose.yaml");
        assert_eq!(c.decide(pids, f, Some("service:web")), None);
        assert_eq!(c.decide(pids, f, Some("service:db")), Some(pids.severity));
        assert_eq!(c.decide(cpu, f, Some("service:web")), Some(Severity::Info));
        assert_eq!(c.decide(cpu, f, Some("service:db")), Some(Severity::Error));
        assert_eq!(c.decide(root, f, None), Some(root.severity));
        assert_eq!(
            c.decide(root, Path::new("/repo/legacy/x/compose.yaml"), None),
            None
        );
        assert!(!c.is_excluded(f));
    }
}
