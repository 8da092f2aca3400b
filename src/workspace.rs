//! Every disk read around a checked file, through the one bounded reader ([`crate::fsread`]):
//! the default override file, `.env`, the Dockerfiles services build (with their
//! `.dockerignore` and build-context listing), `env_file`s and the `.gitignore`s that decide
//! whether those are committed. What it finds is handed to the rules as plain data
//! ([`Facts`]); a read it refuses is a [`Refused`] finding. Rules never touch the disk.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::compose::{self, model::Value};
use crate::config::Config;
use crate::dockerfile::{self, model::Dockerfile};
use crate::fsread::{Boundary, ReadError};
use crate::rules::{
    BuiltBy, BuiltImage, ComposeFacts, ContextListing, DockerfileFacts, EnvFile, Facts, Refused,
};
use crate::source::{FileRef, SourceFile, Span};

/// What Dockerfile rules may know about the file's surroundings: the `.dockerignore` of its
/// build context (the file's own directory) when it is on disk, and the services that build it.
/// `boundary` is asked for only when the file is on disk.
pub fn dockerfile_facts(
    file: &FileRef,
    built_by: &[BuiltBy],
    config: &Config,
    boundary: impl FnOnce() -> Arc<Boundary>,
) -> Facts {
    let on_disk = crate::fsread::is_file(&file.path);
    let context_dir = on_disk.then(|| file.dir().to_path_buf());
    let mut refused = Vec::new();
    let dockerignore = context_dir.as_ref().and_then(|dir| {
        let boundary = boundary();
        let (ignore, refusal) = build_dockerignore(file, dir, &boundary, Span::at(0));
        refused.extend(refusal);
        ignore
    });
    Facts::Dockerfile(DockerfileFacts {
        built_by: built_by.to_vec(),
        dockerignore,
        context_dir,
        trusted_registries: config.trusted_registries.clone(),
        refused,
    })
}

/// The facts of a file refused before it could be read: the refusal only.
pub fn refused_facts(file: &FileRef, is_compose: bool, error: &ReadError) -> Facts {
    let name = file.path.file_name().map_or_else(
        || file.display.clone(),
        |n| n.to_string_lossy().into_owned(),
    );
    let refused = vec![refusal(
        Span::at(0),
        format!("`{name}` {}; it was not read", error.describe()),
        error,
    )];
    if is_compose {
        Facts::Compose(ComposeFacts {
            files: vec![file.clone()],
            refused,
            ..ComposeFacts::default()
        })
    } else {
        Facts::Dockerfile(DockerfileFacts {
            refused,
            ..DockerfileFacts::default()
        })
    }
}

/// The files of the Compose project of `file`: `set` (`-f a.yml -f b.yml`) when given, else
/// `file` and its default override file. A refused override file is a finding.
pub fn compose_inputs(
    file: &FileRef,
    set: Option<&[FileRef]>,
    boundary: &Boundary,
) -> (Vec<FileRef>, Vec<Refused>) {
    let mut refused = Vec::new();
    let inputs = match set {
        Some(set) if !set.is_empty() => set.to_vec(),
        _ => {
            let over = match override_file(file, boundary) {
                Ok(o) => o,
                Err((name, e)) => {
                    refused.push(refusal(
                        Span::at(0),
                        format!("`{name}` {}; it was not read", e.describe()),
                        &e,
                    ));
                    None
                }
            };
            std::iter::once(file.clone()).chain(over).collect()
        }
    };
    (inputs, refused)
}

/// Loads the Compose project `inputs` (`inputs[0]` is the checked `file`) with the `.env` beside
/// it, and gathers what its rules may know: the Dockerfiles its services build and the
/// `env_file`s they name. A file not on disk (stdin, doc examples) reads nothing; references
/// that leave the boundary as written are still refused.
pub fn compose_project(
    file: &FileRef,
    inputs: &[FileRef],
    boundary: &Boundary,
    config: &Config,
    mut refused: Vec<Refused>,
) -> (compose::project::Project, Facts) {
    let on_disk = crate::fsread::is_file(&file.path);
    let project = load_project(file, inputs, boundary, on_disk, &mut refused);
    let compose = &project.compose;
    let builds = resolve_builds(&project.files, compose, boundary, &mut refused);
    let env_files = if on_disk {
        env_files(&project.files, compose, boundary, &mut refused)
    } else {
        Vec::new()
    };
    let facts = Facts::Compose(ComposeFacts {
        builds,
        trusted_registries: config.trusted_registries.clone(),
        files: project.files.clone(),
        env_files,
        refused,
    });
    (project, facts)
}

/// [`compose::project::load`] of `inputs` with the `.env` beside `file` (read only when `file`
/// is on disk); a refused read is pushed to `refused`.
fn load_project(
    file: &FileRef,
    inputs: &[FileRef],
    boundary: &Boundary,
    on_disk: bool,
    refused: &mut Vec<Refused>,
) -> compose::project::Project {
    let (vars, env_limits) = if on_disk {
        read_dotenv(file.dir(), boundary, refused)
    } else {
        Default::default()
    };
    let mut project = compose::project::load(inputs, &vars, &project_reader(boundary, on_disk));
    project.compose.limits.extend(env_limits);
    project
}

/// The Compose files a `devcontainer.json`'s `dockerComposeFile` names (relative to it), read
/// inside `boundary`, in order: the files read, the refusals (outside the project, not a regular
/// file), and the references to files that do not exist (located at each path).
pub fn devcontainer_compose_files(
    file: &FileRef,
    paths: &[compose::model::SValue],
    boundary: &Boundary,
) -> (Vec<FileRef>, Vec<Refused>, Vec<compose::model::LoadError>) {
    let (mut files, mut refused, mut missing) = (Vec::new(), Vec::new(), Vec::new());
    if !crate::fsread::is_file(&file.path) {
        return (files, refused, missing);
    }
    for p in paths {
        let Some(text) = p.value.known() else {
            continue;
        };
        let clipped = crate::source::clip(text, 48);
        match read_source(&crate::source::normalize(&file.dir().join(text)), boundary) {
            Ok(f) => files.push(f),
            Err(ReadError::NotFound) => missing.push(compose::model::LoadError {
                message: format!("`dockerComposeFile` names `{clipped}`, which does not exist"),
                span: p.span,
                help: Some(
                    "`dockerComposeFile` paths are relative to the devcontainer.json".to_string(),
                ),
            }),
            Err(e) => refused.push(refusal(
                p.span,
                format!(
                    "`dockerComposeFile` `{clipped}` {}; it was not read",
                    e.describe()
                ),
                &e,
            )),
        }
    }
    (files, refused, missing)
}

/// What the rules of a `devcontainer.json` may know: the Dockerfile its container builds
/// (`build.dockerfile`, lowered to the service's `build`), read inside `boundary`.
pub fn devcontainer_facts(
    file: &FileRef,
    compose: &compose::model::ComposeFile,
    boundary: &Boundary,
    config: &Config,
    mut refused: Vec<Refused>,
) -> Facts {
    let files = vec![file.clone()];
    let builds = if crate::fsread::is_file(&file.path) {
        resolve_builds(&files, compose, boundary, &mut refused)
    } else {
        HashMap::new()
    };
    Facts::Compose(ComposeFacts {
        builds,
        trusted_registries: config.trusted_registries.clone(),
        files,
        env_files: Vec::new(),
        refused,
    })
}

/// The files of the Compose project `inputs` (`inputs[0]` is `file`), numbered as
/// [`compose_project`] numbers them, for a check that runs no rule on it: the inputs, unless
/// one of them may pull in other files, and only then are the files that may pull in others
/// parsed ([`compose::project::files`]; the model is not built). Most projects are not parsed
/// at all.
pub fn compose_files(file: &FileRef, inputs: &[FileRef], boundary: &Boundary) -> Vec<FileRef> {
    let may_pull_in = |f: &FileRef| compose::project::may_pull_in(&f.text);
    if inputs.len() <= compose::project::MAX_FILES && !inputs.iter().any(may_pull_in) {
        let mut seen = std::collections::HashSet::new();
        return (inputs.iter())
            .filter(|f| seen.insert(crate::source::normalize(&f.path)))
            .cloned()
            .collect();
    }
    let on_disk = crate::fsread::is_file(&file.path);
    let vars = if on_disk {
        read_dotenv(file.dir(), boundary, &mut Vec::new()).0
    } else {
        Default::default()
    };
    compose::project::files(inputs, &vars, &project_reader(boundary, on_disk))
}

/// How a project reads the files it names: from disk inside `boundary` when its file is on disk;
/// else nothing is read (a path inside the boundary is a gap, one outside it a refusal).
fn project_reader(
    boundary: &Boundary,
    on_disk: bool,
) -> impl Fn(&Path) -> Result<FileRef, ReadError> + '_ {
    move |p: &Path| {
        if on_disk {
            read_source(p, boundary)
        } else if boundary.contains_lexically(p) {
            Err(ReadError::NotFound)
        } else {
            Err(ReadError::Outside { symlink: false })
        }
    }
}

/// A file named on the command line: read wherever it is (the invoker named it), but only if it
/// is a regular file within the size cap.
pub fn read_named(path: &Path) -> Result<SourceFile, ReadError> {
    crate::fsread::read_source(path, None)
}

/// A file found by the walk: read inside `boundary` only.
pub fn read_found(path: &Path, boundary: Option<&Boundary>) -> Result<SourceFile, ReadError> {
    crate::fsread::read_source(path, boundary)
}

/// The override file `docker compose` merges into `file` by default: `compose.override.yaml`
/// beside `compose.yaml` (likewise `.yml` and `docker-compose.*`), if it exists and can be read
/// inside the boundary around `file`.
pub fn override_files(file: &FileRef) -> Option<FileRef> {
    override_file(file, &Boundary::around(&file.path))
        .ok()
        .flatten()
}

/// [`override_files`] within `boundary`; a refusal names the override file.
pub fn override_file(
    file: &FileRef,
    boundary: &Boundary,
) -> Result<Option<FileRef>, (String, ReadError)> {
    let Some(name) = file.path.file_name().and_then(|n| n.to_str()) else {
        return Ok(None);
    };
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return Ok(None);
    };
    if !matches!(stem, "compose" | "docker-compose") || !matches!(ext, "yaml" | "yml") {
        return Ok(None);
    }
    let dir = file.path.parent().unwrap_or(Path::new(""));
    for p in override_candidates(dir, stem) {
        match read_source(&p, boundary) {
            Ok(f) => return Ok(Some(f)),
            Err(ReadError::NotFound) => {}
            Err(err) => {
                let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
                return Err((name.unwrap_or_default(), err));
            }
        }
    }
    Ok(None)
}

/// The override files `docker compose` looks for beside `<stem>.yaml`/`<stem>.yml`, in its
/// order: it takes the first that exists.
fn override_candidates(dir: &Path, stem: &str) -> [PathBuf; 2] {
    ["yaml", "yml"].map(|e| dir.join(format!("{stem}.override.{e}")))
}

/// A refused read as a finding (`SLE006` when outside the boundary, else `SLE007`).
fn refusal(span: Span, message: String, e: &ReadError) -> Refused {
    Refused {
        outside: e.is_outside(),
        span,
        message,
        help: if e.is_outside() {
            OUTSIDE_HELP.to_string()
        } else {
            UNREADABLE_HELP.to_string()
        },
    }
}

const OUTSIDE_HELP: &str = "sandlint reads only files inside the project (the git work tree, else the checked directory); pass --allow-outside PATH to allow it";
const UNREADABLE_HELP: &str = "make it a regular file (at most 32 MiB)";

/// A finding about invalid UTF-8 in a file that is not shown (an env file: its lines may hold
/// secrets), located at what named it.
fn invalid_utf8_refusal(span: Span, what: &str, f: &SourceFile) -> Option<Refused> {
    let (at, byte) = f.invalid_utf8?;
    let lc = f.line_col(at);
    Some(Refused {
        outside: false,
        span,
        message: format!(
            "{what} is not valid UTF-8 at line {}, column {} (byte 0x{byte:02X})",
            lc.line, lc.column
        ),
        help: "save it as UTF-8".to_string(),
    })
}

/// Whether `path` is a default override file whose base file exists beside it (then it is
/// checked as part of that project, not on its own).
pub fn is_override_of_existing_base(path: &Path) -> bool {
    base_of_override(path).is_some()
}

/// The base file beside `path` when `path` is a default override file
/// (`compose.override.yaml` → `compose.yaml`, else `compose.yml`; likewise `docker-compose.*`)
/// and its base exists: the file whose project `docker compose` merges it into.
pub fn base_of_override(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    let stem = name
        .strip_suffix(".override.yaml")
        .or_else(|| name.strip_suffix(".override.yml"))?;
    if !matches!(stem, "compose" | "docker-compose") {
        return None;
    }
    let dir = path.parent().unwrap_or(Path::new(""));
    ["yaml", "yml"]
        .iter()
        .map(|e| dir.join(format!("{stem}.{e}")))
        .find(|p| crate::fsread::is_file(p))
}

/// The base file a named override file is merged into: when `path` is the override that
/// `docker compose` (and the check of the base file) takes beside an existing base, `.yaml`
/// before `.yml`. `None`: the file is checked alone.
pub fn base_taking_override(path: &Path) -> Option<PathBuf> {
    let base = base_of_override(path)?;
    let stem = path.file_name()?.to_str()?.split('.').next()?;
    let dir = path.parent().unwrap_or(Path::new(""));
    let taken = override_candidates(dir, stem)
        .into_iter()
        .find(|p| crate::fsread::is_file(p))?;
    (taken == path).then_some(base)
}

/// Reads a file for a project (override, include, extends target, built Dockerfile) through
/// the bounded reader, within `boundary`.
pub fn read_source(path: &Path, boundary: &Boundary) -> Result<FileRef, ReadError> {
    crate::fsread::read_source(path, Some(boundary)).map(SourceFile::into_ref)
}

/// The `.env` beside the project's file (its variables interpolate the project), and where their
/// expansion passed the byte budget. A refusal or invalid UTF-8 is a finding at 1:1 of the
/// Compose file (the `.env` itself is never shown: it usually holds secrets).
fn read_dotenv(
    dir: &Path,
    boundary: &Boundary,
    refused: &mut Vec<Refused>,
) -> (compose::Vars, Vec<compose::model::ExpansionLimit>) {
    match read_source(&dir.join(".env"), boundary) {
        Ok(f) => {
            refused.extend(invalid_utf8_refusal(Span::at(0), "`.env`", &f));
            compose::load_dotenv(&f)
        }
        Err(ReadError::NotFound) => Default::default(),
        Err(e) => {
            let mut r = refusal(
                Span::at(0),
                format!("`.env` {}; it was not read", e.describe()),
                &e,
            );
            r.help = format!("variables from it are unknown; {}", r.help);
            refused.push(r);
            Default::default()
        }
    }
}

/// Where a service's local `build` points, as written: nothing read yet.
struct BuildRef {
    context: String,
    context_span: Span,
    dockerfile: String,
    dockerfile_span: Span,
    /// The directory the context is relative to: that of the file that set `build` (an override
    /// or `extends` file may).
    dir: PathBuf,
}

/// The local build of `service`, if it has one with known values (no inline Dockerfile, no
/// remote context).
fn build_ref(files: &[FileRef], service: &compose::model::Service) -> Option<BuildRef> {
    let build = service.build.as_ref()?;
    if build.dockerfile_inline.is_some() {
        return None;
    }
    let context = match &build.context {
        Some(c) => match &c.value {
            Value::Known(s) => s.clone(),
            Value::Unknown(_) => return None,
        },
        None => ".".to_string(),
    };
    let context_span = build.context.as_ref().map_or(build.span, |c| c.span);
    if context.contains("://") || context.starts_with("git@") {
        return None; // remote build context: nothing local to read
    }
    let dockerfile = match &build.dockerfile {
        Some(d) => match &d.value {
            Value::Known(s) => s.clone(),
            Value::Unknown(_) => return None,
        },
        None => "Dockerfile".to_string(),
    };
    let dockerfile_span = build.dockerfile.as_ref().map_or(build.span, |d| d.span);
    let dir = files
        .get(usize::from(build.span.file))
        .map_or_else(|| PathBuf::from("."), |f| f.dir().to_path_buf());
    Some(BuildRef {
        context,
        context_span,
        dockerfile,
        dockerfile_span,
        dir,
    })
}

/// A built Dockerfile read once per (Dockerfile, context): the file, parsed, its
/// `.dockerignore` and the context listing, shared by the services that build it.
type SharedBuild = (
    FileRef,
    Arc<Dockerfile>,
    Option<FileRef>,
    Arc<ContextListing>,
);

/// Reads and parses the Dockerfile at `path` with the `.dockerignore` of its build; the error
/// when the Dockerfile was not read, and a refusal of its `.dockerignore`.
fn read_build(
    path: &Path,
    context_dir: &Path,
    boundary: &Boundary,
    context_span: Span,
) -> Result<(SharedBuild, Option<Refused>), ReadError> {
    let file = read_source(path, boundary)?;
    let parsed = Arc::new(dockerfile::parse(&file.text));
    let (dockerignore, refusal) = build_dockerignore(&file, context_dir, boundary, context_span);
    let dir = context_dir.to_path_buf();
    let listing = Arc::new(ContextListing::new(move || context_files(&dir)));
    Ok(((file, parsed, dockerignore, listing), refusal))
}

/// For each service with a local `build`, the Dockerfile it builds, parsed.
fn resolve_builds(
    files: &[FileRef],
    compose: &compose::model::ComposeFile,
    boundary: &Boundary,
    refused: &mut Vec<Refused>,
) -> HashMap<String, BuiltImage> {
    let mut builds = HashMap::new();
    // Services that build the same Dockerfile from the same context share one read, parse,
    // `.dockerignore` and context listing.
    let mut cache: HashMap<(PathBuf, PathBuf), Option<SharedBuild>> = HashMap::new();
    for service in &compose.services {
        let Some(b) = build_ref(files, service) else {
            continue;
        };
        let context_dir = b.dir.join(&b.context);
        // The context is listed (file names) and its `.dockerignore` read: it must be inside.
        match boundary.resolve(&context_dir) {
            Ok(_) => {}
            Err(ReadError::NotFound) => continue,
            Err(e) => {
                let clipped = crate::source::clip(&b.context, 48);
                refused.push(refusal(
                    b.context_span,
                    format!(
                        "build context `{clipped}` {}; it was not read",
                        e.describe().replace(" file ", " directory ")
                    ),
                    &e,
                ));
                continue;
            }
        }
        let path = if Path::new(&b.dockerfile).is_absolute() {
            PathBuf::from(&b.dockerfile)
        } else {
            context_dir.join(&b.dockerfile)
        };
        let path = crate::source::normalize(&path);
        let mut failed = None;
        let mut failed_ignore = None;
        let shared = cache
            .entry((path.clone(), context_dir.clone()))
            .or_insert_with(
                || match read_build(&path, &context_dir, boundary, b.context_span) {
                    Ok((shared, refusal)) => {
                        failed_ignore = refusal;
                        Some(shared)
                    }
                    Err(e) => {
                        failed = Some(e);
                        None
                    }
                },
            )
            .clone();
        refused.extend(failed_ignore);
        match failed {
            None | Some(ReadError::NotFound) => {}
            Some(e) => {
                let clipped = crate::source::clip(&b.dockerfile, 48);
                refused.push(refusal(
                    b.dockerfile_span,
                    format!("dockerfile `{clipped}` {}; it was not read", e.describe()),
                    &e,
                ));
            }
        }
        let Some((file, dockerfile, dockerignore, context_listing)) = shared else {
            continue;
        };
        let target = service
            .build
            .as_ref()
            .and_then(|b| b.target.as_ref())
            .and_then(|t| t.value.known().map(str::to_string));
        builds.insert(
            service.name.value.clone(),
            BuiltImage {
                dockerfile,
                dockerignore,
                context_dir,
                context_listing,
                file,
                target,
            },
        );
    }
    builds
}

/// The `env_file`s the services name that exist (relative to the file that names them).
fn env_files(
    files: &[FileRef],
    compose: &compose::model::ComposeFile,
    boundary: &Boundary,
    refused: &mut Vec<Refused>,
) -> Vec<EnvFile> {
    let mut out = Vec::new();
    for s in &compose.services {
        for entry in &s.env_files {
            let Some(rel) = entry.value.known() else {
                continue;
            };
            let dir = files
                .get(usize::from(entry.span.file))
                .map_or_else(|| PathBuf::from("."), |f| f.dir().to_path_buf());
            let path = crate::source::normalize(&dir.join(rel));
            let clipped = crate::source::clip(rel, 48);
            let file = match read_source(&path, boundary) {
                Ok(f) => f,
                Err(ReadError::NotFound) => continue,
                Err(e) => {
                    // several services may name the same file: one finding per entry
                    if !refused.iter().any(|r| r.span == entry.span) {
                        refused.push(refusal(
                            entry.span,
                            format!("env_file `{clipped}` {}; it was not read", e.describe()),
                            &e,
                        ));
                    }
                    continue;
                }
            };
            if let Some(r) =
                invalid_utf8_refusal(entry.span, &format!("env_file `{clipped}`"), &file)
                && !refused.iter().any(|x| x.span == entry.span)
            {
                refused.push(r);
            }
            out.push(EnvFile {
                service: s.name.value.clone(),
                entry: entry.span,
                git_ignored: is_git_ignored(&path, boundary),
                file,
            });
        }
    }
    out
}

/// Whether a `.gitignore` in the file's directory or one above it (up to the repository root,
/// the directory holding `.git`) ignores `path`; the deepest `.gitignore` that matches decides.
/// Each `.gitignore` is read with the bounded reader within `boundary` (one that cannot be read
/// is treated as absent).
pub fn is_git_ignored(path: &Path, boundary: &Boundary) -> bool {
    let abs = crate::fsread::absolute(path);
    let mut dir = abs.parent();
    while let Some(d) = dir {
        let gi = d.join(".gitignore");
        if let Ok(text) = crate::fsread::read(&gi, Some(boundary)) {
            let mut builder = ignore::gitignore::GitignoreBuilder::new(d);
            for line in text.text.lines() {
                let _ = builder.add_line(Some(gi.clone()), line);
            }
            let Ok(matcher) = builder.build() else {
                dir = d.parent();
                continue;
            };
            match matcher.matched_path_or_any_parents(&abs, false) {
                ignore::Match::Ignore(_) => return true,
                ignore::Match::Whitelist(_) => return false,
                ignore::Match::None => {}
            }
        }
        if crate::fsread::exists(&d.join(".git")) {
            break;
        }
        dir = d.parent();
    }
    false
}

/// The `.dockerignore` BuildKit uses for a build: `<Dockerfile name>.dockerignore` beside the
/// Dockerfile, else `.dockerignore` at the root of the context.
/// A `.dockerignore` that exists but is refused (outside, not a regular file) is a finding at
/// `span`; it is then treated as absent.
fn build_dockerignore(
    dockerfile: &FileRef,
    context_dir: &Path,
    boundary: &Boundary,
    span: Span,
) -> (Option<FileRef>, Option<Refused>) {
    let own = dockerfile.path.file_name().map(|n| {
        dockerfile
            .dir()
            .join(format!("{}.dockerignore", n.to_string_lossy()))
    });
    let Some(p) = own
        .into_iter()
        .chain(std::iter::once(context_dir.join(".dockerignore")))
        .find(|p| crate::fsread::exists_nofollow(p))
    else {
        return (None, None);
    };
    match read_source(&p, boundary) {
        Ok(f) => (Some(f), None),
        Err(ReadError::NotFound) => (None, None),
        Err(e) => {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let r = refusal(
                span,
                format!("`{name}` {}; it was not read", e.describe()),
                &e,
            );
            (None, Some(r))
        }
    }
}

/// Most files listed from one build context, most directory entries looked at, and how deep
/// the listing goes.
const CONTEXT_FILES_MAX: usize = 5000;
const CONTEXT_ENTRIES_MAX: usize = 50_000;
const CONTEXT_DEPTH_MAX: usize = 6;

/// Regular files in a build context, relative to it (`/` separators, sorted). Bounded in size
/// and depth; `.git` and dependency/build folders (`node_modules`, `vendor`, `target`,
/// `__pycache__`, `.venv`) are not entered. Symbolic links are not followed (nor listed), so the
/// walk stays below `context_dir` (which the linter checked is inside the project boundary).
pub fn context_files(context_dir: &Path) -> Vec<String> {
    const SKIP: &[&str] = &[
        ".git",
        "node_modules",
        "vendor",
        "target",
        "__pycache__",
        ".venv",
    ];
    let mut out = Vec::new();
    let mut seen = 0usize;
    let mut stack = vec![(context_dir.to_path_buf(), String::new(), 0usize)];
    while let Some((dir, rel, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            seen += 1;
            if out.len() >= CONTEXT_FILES_MAX || seen > CONTEXT_ENTRIES_MAX {
                stack.clear();
                break;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            match entry.file_type() {
                Ok(t)
                    if t.is_dir()
                        && depth + 1 < CONTEXT_DEPTH_MAX
                        && !SKIP.contains(&name.as_str()) =>
                {
                    stack.push((entry.path(), path, depth + 1));
                }
                Ok(t) if t.is_file() => out.push(path),
                _ => {}
            }
        }
    }
    out.sort();
    out
}
