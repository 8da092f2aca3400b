//! What a rule sees while it runs: the current file, the Dockerfiles joined to Compose services,
//! and the sink for findings.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use crate::diagnostic::Diagnostic;
use crate::dockerfile::model::Dockerfile;
use crate::dockerfile::registry::TrustedRegistry;
use crate::docs::RuleMeta;
use crate::source::{FileRef, Span};

/// A Dockerfile that a Compose service builds, found and parsed by the workspace.
#[derive(Debug)]
pub struct BuiltImage {
    pub file: FileRef,
    /// Parsed once per Dockerfile and build context, shared by every service that builds it.
    pub dockerfile: Arc<Dockerfile>,
    /// `build.target`, when the service sets one (known value).
    pub target: Option<String>,
    /// The `.dockerignore` that applies to the build (`<Dockerfile>.dockerignore` beside the
    /// Dockerfile, else `.dockerignore` at the context root), if any.
    pub dockerignore: Option<FileRef>,
    /// The build context directory.
    pub context_dir: std::path::PathBuf,
    /// Files in the build context (see [`BuiltImage::context_files`]); shared by the services
    /// that build from the same context.
    pub context_listing: Arc<ContextListing>,
}

impl BuiltImage {
    /// Files in the build context, relative to it with `/` separators (a bounded walk by the
    /// workspace: see `workspace::context_files`; `.git` and dependency folders skipped).
    pub fn context_files(&self) -> &[String] {
        self.context_listing.files()
    }
}

/// The files of a build context, listed by the workspace when a rule first asks (most builds
/// are never listed: only a whole-context `COPY` needs it).
pub struct ContextListing {
    files: OnceLock<Vec<String>>,
    list: Box<dyn Fn() -> Vec<String> + Send + Sync>,
}

impl ContextListing {
    /// A listing that `list` makes on first use.
    pub fn new(list: impl Fn() -> Vec<String> + Send + Sync + 'static) -> Self {
        Self {
            files: OnceLock::new(),
            list: Box::new(list),
        }
    }

    /// A listing known already.
    pub fn listed(files: Vec<String>) -> Self {
        Self {
            files: OnceLock::from(files),
            list: Box::new(Vec::new),
        }
    }

    /// The files, relative to the context with `/` separators, sorted.
    pub fn files(&self) -> &[String] {
        self.files.get_or_init(|| (self.list)())
    }
}

impl std::fmt::Debug for ContextListing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContextListing")
            .field("files", &self.files.get())
            .finish_non_exhaustive()
    }
}

/// A Compose service that builds the Dockerfile being checked (found by the linter).
#[derive(Debug, Clone)]
pub struct BuiltBy {
    pub compose_file: FileRef,
    pub service: String,
    /// `build.target`, when set (known value).
    pub target: Option<String>,
    /// The service defines a `healthcheck` (that is not `disable: true`).
    pub has_healthcheck: bool,
}

/// Facts about the file's surroundings that rules may not read from disk themselves; the
/// workspace gathers them, per target.
#[derive(Debug)]
pub enum Facts {
    Dockerfile(DockerfileFacts),
    Compose(ComposeFacts),
}

impl Default for Facts {
    fn default() -> Self {
        Facts::Dockerfile(DockerfileFacts::default())
    }
}

/// What a Dockerfile's rules may know.
#[derive(Debug, Default)]
pub struct DockerfileFacts {
    /// The Compose services that build this Dockerfile.
    pub built_by: Vec<BuiltBy>,
    /// The `.dockerignore` of the build context (`<Dockerfile>.dockerignore` first, as BuildKit
    /// does, else `.dockerignore` in the context directory), if it exists.
    pub dockerignore: Option<FileRef>,
    /// Whether the build context directory is known (it is the Dockerfile's own directory
    /// unless a Compose service says otherwise); `None` for stdin/virtual files.
    pub context_dir: Option<std::path::PathBuf>,
    /// `trusted-registries` from the config (empty: not configured).
    pub trusted_registries: Arc<[TrustedRegistry]>,
    /// Files not read: see [`Refused`].
    pub refused: Vec<Refused>,
}

/// What a Compose project's rules may know.
#[derive(Debug, Default)]
pub struct ComposeFacts {
    /// The Dockerfile each service builds, by service name.
    pub builds: HashMap<String, BuiltImage>,
    /// `trusted-registries` from the config (empty: not configured).
    pub trusted_registries: Arc<[TrustedRegistry]>,
    /// Every file of the project, numbered as in `Span::file` (0 is the checked file).
    pub files: Vec<FileRef>,
    /// The `env_file`s that services name and that exist.
    pub env_files: Vec<EnvFile>,
    /// Files not read: see [`Refused`].
    pub refused: Vec<Refused>,
}

impl Facts {
    /// Files the workspace did not read (outside the project boundary, not a regular file, too
    /// large) or read with invalid UTF-8, located at what named them: reported by `SLE006` and
    /// `SLE007`.
    pub fn refused(&self) -> &[Refused] {
        match self {
            Facts::Dockerfile(f) => &f.refused,
            Facts::Compose(f) => &f.refused,
        }
    }

    /// `trusted-registries` from the config (empty: not configured).
    pub fn trusted_registries(&self) -> &[TrustedRegistry] {
        match self {
            Facts::Dockerfile(f) => &f.trusted_registries,
            Facts::Compose(f) => &f.trusted_registries,
        }
    }

    /// For Compose projects: every file, numbered as in `Span::file` (0 is the checked file).
    pub fn files(&self) -> &[FileRef] {
        match self {
            Facts::Dockerfile(_) => &[],
            Facts::Compose(f) => &f.files,
        }
    }

    /// For Compose projects: the `env_file`s that services name and that exist.
    pub fn env_files(&self) -> &[EnvFile] {
        match self {
            Facts::Dockerfile(_) => &[],
            Facts::Compose(f) => &f.env_files,
        }
    }

    /// For Dockerfiles: the build context directory, when known.
    pub fn context_dir(&self) -> Option<&std::path::Path> {
        match self {
            Facts::Dockerfile(f) => f.context_dir.as_deref(),
            Facts::Compose(_) => None,
        }
    }

    /// For Dockerfiles: the Compose services that build this Dockerfile.
    pub fn built_by(&self) -> &[BuiltBy] {
        match self {
            Facts::Dockerfile(f) => &f.built_by,
            Facts::Compose(_) => &[],
        }
    }

    /// For Dockerfiles: the `.dockerignore` of the build context, if any.
    pub fn dockerignore(&self) -> Option<&FileRef> {
        match self {
            Facts::Dockerfile(f) => f.dockerignore.as_ref(),
            Facts::Compose(_) => None,
        }
    }

    /// For Compose projects: the Dockerfile that the service named `service` builds.
    pub fn build_of(&self, service: &str) -> Option<&BuiltImage> {
        match self {
            Facts::Dockerfile(_) => None,
            Facts::Compose(f) => f.builds.get(service),
        }
    }
}

/// A file the workspace refused to read (or read with invalid UTF-8), located at the key that
/// named it (spans of a Compose project are in file `span.file` of [`Facts::files`]).
#[derive(Debug, Clone)]
pub struct Refused {
    /// Outside the project boundary (`SLE006`); otherwise unreadable (`SLE007`).
    pub outside: bool,
    pub span: Span,
    /// Names the reference as written, never anything the file holds.
    pub message: String,
    pub help: String,
}

/// An `env_file` a service names, read by the workspace (for secrets detection only: its values
/// are never used for interpolation).
#[derive(Debug, Clone)]
pub struct EnvFile {
    pub service: String,
    /// The `env_file` entry in the Compose file.
    pub entry: Span,
    pub file: FileRef,
    /// A `.gitignore` between the file and the repository root ignores it (so it is not committed).
    pub git_ignored: bool,
}

/// The context of one rule running on one file.
pub struct Ctx<'a> {
    rule: &'static RuleMeta,
    file: &'a FileRef,
    facts: &'a Facts,
    diagnostics: &'a mut Vec<Diagnostic>,
}

impl<'a> Ctx<'a> {
    pub fn new(
        rule: &'static RuleMeta,
        file: &'a FileRef,
        facts: &'a Facts,
        diagnostics: &'a mut Vec<Diagnostic>,
    ) -> Self {
        Self {
            rule,
            file,
            facts,
            diagnostics,
        }
    }

    /// Everything the workspace gathered around this file.
    pub fn facts(&self) -> &'a Facts {
        self.facts
    }

    /// Compose services that build this Dockerfile.
    pub fn built_by(&self) -> &'a [BuiltBy] {
        self.facts.built_by()
    }

    /// The `.dockerignore` that applies to this Dockerfile's build context, if any.
    pub fn dockerignore(&self) -> Option<&'a FileRef> {
        self.facts.dockerignore()
    }

    /// `trusted-registries` from the config (empty when not configured).
    pub fn trusted_registries(&self) -> &'a [TrustedRegistry] {
        self.facts.trusted_registries()
    }

    /// The file being checked.
    pub fn file(&self) -> &FileRef {
        self.file
    }

    /// The file's text.
    pub fn text(&self) -> &str {
        &self.file.text
    }

    /// The Dockerfile that the service named `service` builds, when it has `build:` and the
    /// Dockerfile exists and was read.
    pub fn build_of(&self, service: &str) -> Option<&'a BuiltImage> {
        self.facts.build_of(service)
    }

    /// Reports a finding of this rule at `span` in the current file. Chain `.help(..)` / `.label(..)`.
    pub fn report(&mut self, span: Span, message: impl Into<String>) -> &mut Diagnostic {
        let file = self.file.clone();
        self.report_in(&file, span, message)
    }

    /// Reports a finding of this rule in another file (e.g. the Dockerfile a service builds).
    pub fn report_in(
        &mut self,
        file: &FileRef,
        span: Span,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        let len = self.diagnostics.len();
        self.diagnostics
            .push(Diagnostic::new(self.rule, file.clone(), span, message));
        &mut self.diagnostics[len]
    }
}
