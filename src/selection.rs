//! Which rules run on a check, and at which severity their findings are reported: decided once
//! per check, before any rule runs, from the caller's [`Selection`] and the [`Config`] (preset,
//! `select`/`ignore`, per-rule `severity`, `[[overrides]]`). A rule that is off everywhere in
//! the check is never run.

use std::path::Path;

use crate::config::Config;
use crate::diagnostic::Diagnostic;
use crate::meta::{RuleMeta, Severity};
use crate::rules::{self, Reads, Rule};

/// The caller's restriction of the rules (tests, doc examples), applied on top of the config.
/// A rule named in `only` runs as if it were on by default: a rule whose doc says
/// `default-enabled: false` is asked for by naming it (as `--select` does), and the config's
/// `select`/`ignore` still apply to it.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Codes of rules that run; `None` = every rule the config enables.
    pub only: Option<Vec<&'static str>>,
    /// Codes of rules that do not run.
    pub ignore: Vec<&'static str>,
}

impl Selection {
    /// Every rule.
    pub fn all() -> Self {
        Self::default()
    }

    /// Only the rule with this code or name (tests, doc examples).
    pub fn only(name_or_code: &str) -> Self {
        Self {
            only: Some(
                rules::find(name_or_code)
                    .map(|r| r.meta().code)
                    .into_iter()
                    .collect(),
            ),
            ignore: Vec::new(),
        }
    }

    pub fn is_enabled(&self, rule: &dyn Rule) -> bool {
        self.enables(rule.meta())
    }

    /// Whether the selection lets `rule` run.
    pub fn enables(&self, rule: &RuleMeta) -> bool {
        let code = rule.code;
        self.only.as_ref().is_none_or(|o| o.contains(&code)) && !self.ignore.contains(&code)
    }

    /// Whether `rule` is on before the config's `select`/`extend-select`/`ignore` apply: its
    /// doc's `default-enabled`, or `true` when `only` names it.
    pub fn on_by_default(&self, rule: &RuleMeta) -> bool {
        rule.default_enabled || self.only.as_ref().is_some_and(|o| o.contains(&rule.code))
    }
}

/// What the rules that may run on a check read, answered from `selection` and `config` before
/// any file of the check is read: the union of [`Rule::reads`] over the rules `selection` allows
/// that `config` may enable in one of `files` (`None`: the files are not known yet, then in any
/// file). Conservative: a rule [`RuleSet::new`] would run on the check is always counted.
pub fn reads_before(selection: &Selection, config: &Config, files: Option<&[&Path]>) -> Reads {
    let allowed = || {
        (rules::ALL.iter().zip(config.base_decisions())).filter(|(r, _)| selection.is_enabled(**r))
    };
    if config.overrides.is_empty() {
        // the same answer for every file
        return config.memo.reads(&selection.only, &selection.ignore, || {
            allowed()
                .filter(|(r, base)| base_decision(selection, config, r.meta(), **base).is_some())
                .fold(Reads::default(), |all, (r, _)| all.union(r.reads()))
        });
    }
    allowed()
        .filter(|(r, _)| {
            let on = selection.on_by_default(r.meta());
            match files {
                Some(files) => files
                    .iter()
                    .any(|f| config.can_enable(on, r.meta(), Some(f))),
                None => config.can_enable(on, r.meta(), None),
            }
        })
        .fold(Reads::default(), |all, (r, _)| all.union(r.reads()))
}

/// The config's decision for `rule` before `[[overrides]]`: the remembered one (`memo`), or,
/// for a rule off by default that the selection names, worked out with the rule on.
fn base_decision(
    selection: &Selection,
    config: &Config,
    rule: &RuleMeta,
    memo: Option<Severity>,
) -> Option<Severity> {
    let on = selection.on_by_default(rule);
    if on == rule.default_enabled {
        memo
    } else {
        config.base_decision(rule, on)
    }
}

/// The rules that run on one check (one Dockerfile, or one Compose project), resolved before
/// they run, and the grading of their findings.
#[derive(Clone)]
pub struct RuleSet<'a> {
    selection: &'a Selection,
    config: &'a Config,
    /// The rules that run, in registry order, each with the severity of all its findings when
    /// that is the same everywhere (no `[[overrides]]`); `None`: it depends on the finding's
    /// file or service, and is decided per finding.
    run: Vec<(&'static dyn Rule, Option<Severity>)>,
}

impl std::fmt::Debug for RuleSet<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.run.iter().map(|(r, s)| (r.meta().code, s)))
            .finish()
    }
}

impl<'a> RuleSet<'a> {
    /// The rules that are on somewhere in `files` (every file the check read, where findings
    /// can be): allowed by `selection` and enabled by `config` for one of the files and some
    /// service or stage in it.
    pub fn new<'p>(
        selection: &'a Selection,
        config: &'a Config,
        files: impl IntoIterator<Item = &'p Path>,
    ) -> Self {
        let files: Vec<&Path> = files.into_iter().collect();
        let run = (rules::ALL.iter().copied())
            .zip(config.base_decisions())
            .filter(|(r, _)| selection.is_enabled(*r))
            .filter_map(|(r, base)| {
                let meta = r.meta();
                if config.overrides.is_empty() {
                    // Without overrides the decision is the same for every file and scope.
                    base_decision(selection, config, meta, *base).map(|s| (r, Some(s)))
                } else {
                    let on = selection.on_by_default(meta);
                    files
                        .iter()
                        .any(|f| config.can_enable(on, meta, Some(f)))
                        .then_some((r, None))
                }
            })
            .collect();
        RuleSet {
            selection,
            config,
            run,
        }
    }

    /// The rules that run, in registry order.
    pub fn rules(&self) -> impl Iterator<Item = &'static dyn Rule> + '_ {
        self.run.iter().map(|(r, _)| *r)
    }

    /// Whether `rule` runs on this check.
    pub fn runs(&self, rule: &RuleMeta) -> bool {
        self.entry(rule).is_some()
    }

    /// The entry of `rule` in `run`, by the address of its metadata: every rule's is an element
    /// of the one static `docs::RULES`, and `RuleMeta` cannot be copied.
    fn entry(&self, rule: &RuleMeta) -> Option<&(&'static dyn Rule, Option<Severity>)> {
        self.run.iter().find(|(r, _)| std::ptr::eq(r.meta(), rule))
    }

    /// The severity a finding of `rule` gets in `path` and `scope`, `fixed` being its entry's
    /// severity when that is the same everywhere; `None`: it is not reported.
    fn severity(
        &self,
        rule: &RuleMeta,
        fixed: Option<Severity>,
        path: &Path,
        scope: Option<&str>,
    ) -> Option<Severity> {
        fixed.or_else(|| {
            let on = self.selection.on_by_default(rule);
            self.config.decide_from(on, rule, path, scope)
        })
    }

    /// Drops the findings of rules that are off for their file and scope, and sets the
    /// severity of the others. A rule's entry is looked up once per run of its findings (they
    /// come grouped by rule), not once per finding.
    pub fn grade(&self, diagnostics: &mut Vec<Diagnostic>) {
        let mut last: Option<(&'static RuleMeta, Option<Option<Severity>>)> = None;
        diagnostics.retain_mut(|d| {
            let fixed = match last {
                Some((rule, fixed)) if std::ptr::eq(rule, d.rule) => fixed,
                _ => {
                    let fixed = self.entry(d.rule).map(|(_, fixed)| *fixed);
                    last = Some((d.rule, fixed));
                    fixed
                }
            };
            let Some(fixed) = fixed else { return false };
            match self.severity(d.rule, fixed, &d.file.path, d.scope.as_deref()) {
                Some(severity) => {
                    d.severity = severity;
                    true
                }
                None => false,
            }
        });
    }

    /// Whether a suppression of `rule` in `path` that matched nothing is worth reporting: the
    /// rule is selected, and on in that file (or `[[overrides]]` may turn it on somewhere).
    pub fn reports_unused(&self, rule: &RuleMeta, path: &Path) -> bool {
        let on = self.selection.on_by_default(rule);
        self.selection.enables(rule)
            && (self.config.decide_from(on, rule, path, None).is_some()
                || !self.config.overrides.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        Config::parse(Path::new("/repo/.sandlint.toml"), text).unwrap()
    }

    fn codes(set: &RuleSet<'_>) -> Vec<&'static str> {
        set.rules().map(|r| r.meta().code).collect()
    }

    #[test]
    fn the_remembered_decisions_are_the_configs_and_start_over_with_cli_flags() {
        let c = config("select = [\"root-user\"]\n[severity]\nroot-user = \"info\"\n");
        for (r, base) in rules::ALL.iter().zip(c.base_decisions()) {
            assert_eq!(
                *base,
                c.decide(r.meta(), Path::new("/repo/Dockerfile"), None)
            );
        }
        let on = |c: &Config| c.base_decisions().iter().filter(|d| d.is_some()).count();
        assert_eq!(on(&c), 1);
        let cli = crate::config::CliOverrides {
            extend_select: vec![crate::config::Selector::All],
            ..Default::default()
        };
        let wider = c.clone().with_cli(&cli);
        assert_eq!(on(&wider), rules::ALL.len());
        let all = Selection::all();
        let set = RuleSet::new(&all, &wider, [Path::new("/repo/Dockerfile")]);
        assert_eq!(set.rules().count(), rules::ALL.len());
        // the memo of the first config is untouched
        assert_eq!(on(&c), 1);
    }

    #[test]
    fn rules_the_config_turns_off_do_not_run() {
        let c = config("select = [\"root-user\", \"SLE001\"]\n");
        let all = Selection::all();
        let set = RuleSet::new(&all, &c, [Path::new("/repo/Dockerfile")]);
        assert_eq!(codes(&set), ["SLE001", "SLD001"]);
        let only = Selection::only("root-user");
        let set = RuleSet::new(&only, &c, [Path::new("/repo/Dockerfile")]);
        assert_eq!(codes(&set), ["SLD001"]);
        let default = Config::default();
        let every = RuleSet::new(&all, &default, [Path::new("/repo/Dockerfile")]);
        let on_by_default = rules::ALL.iter().filter(|r| r.meta().default_enabled);
        assert_eq!(every.rules().count(), on_by_default.count());
    }

    #[test]
    fn a_rule_off_by_default_runs_when_named() {
        let df = [Path::new("/repo/Dockerfile")];
        let default = Config::default();
        let all = Selection::all();
        let runs = |sel: &Selection, c: &Config| {
            RuleSet::new(sel, c, df).runs(crate::docs::APT_PACKAGE_UNPINNED)
        };
        assert!(!runs(&all, &default));
        assert!(!reads_before(&Selection::only("SLC001"), &default, None).dockerfile);
        // the caller names it
        let only = Selection::only("apt-package-unpinned");
        assert!(runs(&only, &default));
        assert!(reads_before(&only, &default, None).dockerfile);
        // the config's own select/ignore still apply
        assert!(!runs(&only, &config("ignore = [\"package-pinning\"]\n")));
        assert!(!runs(&only, &config("select = [\"root-user\"]\n")));
        // with overrides the decision is made per finding, from the same start
        let c = config("[[overrides]]\npaths = [\"legacy\"]\nignore = [\"root-user\"]\n");
        assert!(runs(&only, &c));
        assert!(!runs(&all, &c));
        let mut d = vec![crate::diagnostic::Diagnostic::new(
            crate::docs::APT_PACKAGE_UNPINNED,
            crate::source::SourceFile::virtual_file("/repo/Dockerfile", "FROM a\n").into_ref(),
            crate::source::Span::new(0, 1),
            "m".to_string(),
        )];
        RuleSet::new(&only, &c, df).grade(&mut d);
        assert_eq!(d.len(), 1);
    }

    #[test]
    fn what_the_rules_read_is_known_before_reading() {
        let all = Selection::all();
        let df = [Path::new("/repo/Dockerfile")];
        let reads = |c: &Config, files: Option<&[&Path]>| reads_before(&all, c, files);
        let every = Reads {
            dockerfile: true,
            compose: true,
            built_by: true,
            devcontainer: true,
        };
        assert_eq!(reads(&Config::default(), None), every);
        let root = config("select = [\"root-user\"]\n");
        let dockerfile_only = Reads {
            dockerfile: true,
            ..Reads::default()
        };
        assert_eq!(reads(&root, None), dockerfile_only);
        assert_eq!(reads(&root, Some(&df[..])), dockerfile_only);
        let join = config("select = [\"missing-healthcheck\"]\n");
        assert!(reads(&join, None).built_by);
        assert!(!reads(&join, None).compose);
        let compose = config("select = [\"privileged-container\"]\nignore = [\"SLD001\"]\n");
        assert!(!reads(&compose, None).dockerfile);
        // an override that may apply to some file counts, one for other paths does not
        let c = config(
            r#"
select = ["privileged-container"]
[[overrides]]
paths = ["legacy/**"]
extend-select = ["root-user"]
"#,
        );
        assert!(reads(&c, None).dockerfile);
        assert!(!reads(&c, Some(&df[..])).dockerfile);
        let legacy = [Path::new("/repo/legacy/Dockerfile")];
        assert!(reads(&c, Some(&legacy[..])).dockerfile);
        // meta rules read the kinds they report on
        let unused = config("select = [\"unused-suppression\"]\n");
        assert_eq!(
            reads(&unused, None),
            Reads {
                dockerfile: true,
                compose: true,
                built_by: false,
                devcontainer: false,
            }
        );
    }

    #[test]
    fn overrides_are_resolved_per_file_and_left_open_per_service() {
        let c = config(
            r#"
select = ["root-user"]
[[overrides]]
paths = ["legacy"]
ignore = ["root-user"]
[[overrides]]
services = ["db"]
extend-select = ["privileged-container"]
"#,
        );
        let all = Selection::all();
        let app = RuleSet::new(&all, &c, [Path::new("/repo/app/compose.yaml")]);
        assert_eq!(codes(&app), ["SLD001", "SLC001"]);
        let legacy = RuleSet::new(&all, &c, [Path::new("/repo/legacy/compose.yaml")]);
        assert_eq!(codes(&legacy), ["SLC001"]);
        // a project reading files in both runs what is on in either
        let both = RuleSet::new(
            &all,
            &c,
            [
                Path::new("/repo/legacy/compose.yaml"),
                Path::new("/repo/app/Dockerfile"),
            ],
        );
        assert_eq!(codes(&both), ["SLD001", "SLC001"]);
    }
}
