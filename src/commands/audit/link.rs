//! The Compose link of `sandlint audit`: a container `docker compose` started (its
//! `com.docker.compose.*` labels) is compared with the service of the files its labels name.
//! The Compose rules run on both; a finding both have gets the label "the file says so too" at
//! the file's finding; a rule that holds for one only is drift, `container-drift` (SLA001).
//!
//! The files are read only inside the boundary (the project around the working directory and
//! `--allow-outside`): a label is text anyone who creates a container can write, and a file it
//! names outside the project is not read.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::Config;
use crate::diagnostic::{Diagnostic, Label, StableHasher};
use crate::discover::FileKind;
use crate::fsread::Boundary;
use crate::linter::{self, LintOptions, Selection};
use crate::sandbox::audit::ComposeOrigin;
use crate::source::{FileRef, Span, display_path};

/// What the container's rule is matched with in the file besides itself: a file that leaves
/// the user to the image (`unknown-image-user`) says what a container running as root shows.
const SAME: &[(&str, &str)] = &[("service-root-user", "unknown-image-user")];

/// A project's findings, by service (`Err`: why it was not compared).
type Loaded = Result<Arc<Project>, String>;

struct Project {
    findings: Vec<Diagnostic>,
    /// Each service's name in the first file that defines it, and its keys there.
    services: HashMap<String, Service>,
    /// The files, as shown (`compose.yaml`, `../x/compose.yaml`).
    shown: String,
}

struct Service {
    file: FileRef,
    name: Span,
    keys: Vec<(String, Span)>,
}

impl Service {
    /// Where the file sets what `rule` (on the container) says is missing: the key, else the
    /// service's name.
    fn setting(&self, rule: &str) -> (FileRef, Span) {
        let keys: &[&str] = match rule {
            "missing-memory-limit" => &["mem_limit", "deploy"],
            "missing-cpu-limit" => &["cpus", "cpu_quota", "deploy"],
            "missing-pids-limit" => &["pids_limit", "deploy"],
            "writable-root-filesystem" => &["read_only"],
            "missing-cap-drop-all" => &["cap_drop"],
            "missing-no-new-privileges" => &["security_opt"],
            "service-root-user" => &["user"],
            _ => &[],
        };
        let span = (keys.iter())
            .find_map(|k| self.keys.iter().find(|(n, _)| n == k).map(|(_, s)| *s))
            .unwrap_or(self.name);
        (self.file.clone(), span)
    }
}

/// Loads the Compose projects containers came from (each once) and compares.
pub struct Linker<'a> {
    config: &'a Config,
    boundary: Arc<Boundary>,
    loaded: RefCell<HashMap<Vec<PathBuf>, Loaded>>,
}

impl<'a> Linker<'a> {
    pub fn new(config: &'a Config, boundary: &Boundary) -> Self {
        Linker {
            config,
            boundary: Arc::new(boundary.clone()),
            loaded: RefCell::new(HashMap::new()),
        }
    }

    /// Labels the findings the file has too, and adds the drift findings (when the config runs
    /// `container-drift`). `Err`: why the file was not compared (a note for the user).
    pub fn compare(
        &self,
        origin: &ComposeOrigin,
        doc: &FileRef,
        findings: &mut Vec<Diagnostic>,
    ) -> Result<(), String> {
        let files = files_of(origin)?;
        let project = self.load(&files)?;
        let Some(service) = project.services.get(&origin.service) else {
            return Err(format!(
                "service `{}` is not in {}; not compared",
                origin.service, project.shown
            ));
        };
        let in_file: Vec<&Diagnostic> = (project.findings.iter())
            .filter(|d| d.service() == Some(origin.service.as_str()) && compared(d.rule.code))
            .collect();
        let has = |rule: &str, among: &[&Diagnostic]| -> Option<(FileRef, Span)> {
            let alt = SAME.iter().find(|(a, _)| *a == rule).map(|(_, b)| *b);
            (among.iter())
                .find(|d| d.rule.name == rule || Some(d.rule.name) == alt)
                .map(|d| (d.file.clone(), d.span))
        };
        let mut drift = Vec::new();
        let container: Vec<Diagnostic> = findings.clone();
        for d in findings.iter_mut().filter(|d| compared(d.rule.code)) {
            match has(d.rule.name, &in_file) {
                Some((file, span)) => {
                    d.labels.push(Label {
                        file,
                        span,
                        message: "the Compose file says so too".to_string(),
                    });
                }
                None => drift.push(Drift {
                    rule: d.rule.name,
                    at: (d.file.clone(), d.span),
                    file: service.setting(d.rule.name),
                    container_has: true,
                }),
            }
        }
        let container_refs: Vec<&Diagnostic> = container.iter().collect();
        let service_span = container_service_span(doc);
        for fd in &in_file {
            let other = SAME
                .iter()
                .find(|(_, b)| *b == fd.rule.name)
                .map(|(a, _)| *a);
            let matched = has(fd.rule.name, &container_refs).is_some()
                || other.is_some_and(|o| has(o, &container_refs).is_some());
            if !matched && let Some(at) = &service_span {
                drift.push(Drift {
                    rule: fd.rule.name,
                    at: at.clone(),
                    file: (fd.file.clone(), fd.span),
                    container_has: false,
                });
            }
        }
        self.report_drift(origin, &project.shown, drift, findings);
        Ok(())
    }

    fn load(&self, files: &[PathBuf]) -> Result<Arc<Project>, String> {
        if let Some(l) = self.loaded.borrow().get(files) {
            return l.clone();
        }
        let loaded = self.load_uncached(files);
        self.loaded
            .borrow_mut()
            .insert(files.to_vec(), loaded.clone());
        loaded
    }

    fn load_uncached(&self, files: &[PathBuf]) -> Loaded {
        let mut refs = Vec::with_capacity(files.len());
        for path in files {
            let shown = shown(path);
            let source = crate::workspace::read_found(path, Some(&self.boundary)).map_err(|e| {
                match e {
                    crate::fsread::ReadError::Outside { .. } => format!(
                        "its Compose file {shown} is outside the project; not read (`--allow-outside DIR` reads it)"
                    ),
                    e => format!("its Compose file {shown} was not read: {}", e.describe()),
                }
            })?;
            let source = crate::source::SourceFile::new(path.clone(), shown, source.text.clone());
            refs.push(source.into_ref());
        }
        let first = refs
            .first()
            .cloned()
            .ok_or("its labels name no Compose file")?;
        let opts = LintOptions {
            selection: Selection::all(),
            compose_set: Some(refs.clone()),
            built_by: Vec::new(),
            config: self.config,
            inline_ignores: true,
            require_reason: false,
            report_unused: false,
            join_wanted: true,
            boundary: Some(self.boundary.clone()),
            report_only: Vec::new(),
        };
        let findings = linter::lint_file_with(first, FileKind::Compose, &opts).diagnostics;
        let mut services = HashMap::new();
        for file in &refs {
            let model = crate::compose::load(&file.text, &crate::compose::Vars::default());
            for s in model.services {
                services
                    .entry(s.name.value.clone())
                    .or_insert_with(|| Service {
                        file: file.clone(),
                        name: s.name.span,
                        keys: s.keys.iter().map(|k| (k.value.clone(), k.span)).collect(),
                    });
            }
        }
        let shown: Vec<String> = refs.iter().map(|f| f.display.clone()).collect();
        Ok(Arc::new(Project {
            findings,
            services,
            shown: shown.join(", "),
        }))
    }

    fn report_drift(
        &self,
        origin: &ComposeOrigin,
        shown: &str,
        drift: Vec<Drift>,
        findings: &mut Vec<Diagnostic>,
    ) {
        let meta = crate::docs::CONTAINER_DRIFT;
        for d in drift {
            let (file, span) = d.at;
            let Some(severity) = self.config.decide(meta, &file.path, Some(&origin.service)) else {
                return;
            };
            let message = if d.container_has {
                format!(
                    "drift: the running container has `{}`, service `{}` of {shown} does not",
                    d.rule, origin.service
                )
            } else {
                format!(
                    "drift: service `{}` of {shown} has `{}`, the running container does not",
                    origin.service, d.rule
                )
            };
            let mut finding = Diagnostic::new(meta, file.clone(), span, message);
            finding.severity = severity;
            finding.scope = Some(origin.service.as_str().into());
            let label = if d.container_has {
                "the file's setting"
            } else {
                "what the file says"
            };
            finding.label(&d.file.0, d.file.1, label);
            finding.help(
                "recreate the container from the file (`docker compose up -d --force-recreate SERVICE`), or change the file to what runs",
            );
            let mut h = StableHasher::new();
            h.part(meta.code);
            h.part(&file.display);
            h.part(&origin.service);
            h.part(d.rule);
            h.part(if d.container_has { "container" } else { "file" });
            finding.fingerprint = h.hex();
            findings.push(finding);
        }
        findings.sort_by_key(|d| (d.span.start, d.rule.code));
    }
}

/// One difference: `rule` holds for the container (`container_has`) or for the file only.
struct Drift {
    rule: &'static str,
    /// Where it is reported: in the container's document.
    at: (FileRef, Span),
    /// Where the file says it (the file's finding, or its service's name).
    file: (FileRef, Span),
    container_has: bool,
}

/// Whether a rule's findings are compared: the Compose rules (`SLC`) and the user of the image
/// (`unknown-image-user`, matched with `service-root-user`); not input errors, not what only a
/// file can hold (build arguments, literals).
fn compared(code: &str) -> bool {
    code.starts_with("SLC") && code != crate::docs::SECRET_IN_BUILD_ARGS.code
        || code == crate::docs::UNKNOWN_IMAGE_USER.code
}

/// The span of the container document's service name.
fn container_service_span(file: &FileRef) -> Option<(FileRef, Span)> {
    let file = file.clone();
    let model = crate::compose::load(&file.text, &crate::compose::Vars::default());
    let s = model.services.first()?;
    Some((file, s.name.span))
}

/// The Compose files of the labels, absolute (relative ones against the working-dir label).
fn files_of(origin: &ComposeOrigin) -> Result<Vec<PathBuf>, String> {
    if origin.config_files.is_empty() {
        return Err("its Compose labels name no config file; not compared".to_string());
    }
    Ok((origin.config_files.iter())
        .map(|f| {
            let p = PathBuf::from(f);
            match &origin.working_dir {
                Some(dir) if p.is_relative() => Path::new(dir).join(p),
                _ => p,
            }
        })
        .collect())
}

/// A path as reports show it: relative to the working directory when below it.
fn shown(path: &Path) -> String {
    let rel = std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf));
    display_path(rel.as_deref().unwrap_or(path))
}
