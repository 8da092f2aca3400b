//! Compose projects: the files `docker compose` would combine, merged into one effective model.
//!
//! - Override files (`compose.override.yaml` beside `compose.yaml`, or `-f a.yml -f b.yml`) are
//!   merged in order with the Compose merge rules ([`super::overlay`]): mappings merge key by
//!   key, scalars are replaced, `environment`/`build.args`/`labels`/`extra_hosts`/`sysctls` merge
//!   by name (list or mapping form), `volumes` by container path, `ports` by host IP, published
//!   port, target and protocol, other sequences (`cap_add`, `cap_drop`, `security_opt`,
//!   `devices`, `dns`, `tmpfs`, ...) are unioned, and `command`, `entrypoint` and
//!   `healthcheck.test` are replaced. `!reset` removes a value, `!override` replaces it.
//! - `include:` files are loaded (relative to the file that names them) and their resources
//!   added; the including file wins on conflicts. Each is interpolated with its own directory's
//!   `.env`.
//! - `extends:` (same file or another file) is applied: the extended service, itself resolved,
//!   merged with the extending service's own keys.
//! - Order, as compose-go's loader: each file gets its `include`s and then its `extends`
//!   applied on its own, and only then is merged onto the files before it. A merged service
//!   keeps the name node of its first definition (findings about the whole service point
//!   there).
//!
//! The merge happens on the YAML node trees, so every value keeps the span of the file and
//! line that set it ([`Span::file`] numbers the files; [`Project::files`] lists them). A
//! reference that cannot be followed is recorded in [`ComposeFile::unresolved`].

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::interpolate::{self, Budget, Interpolated, interpolate_with};
use super::model::{ComposeFile, ExpansionLimit, LoadError};
use super::overlay::{map_node, merge, replace_key, without_key};
use super::yaml::{self, Node, NodeKind};
use super::{Vars, build, merge};
use crate::fsread::ReadError;
use crate::source::{FileRef, Span};

/// Most files one project may pull in (includes, extends targets, overrides).
pub const MAX_FILES: usize = 512;
/// Deepest chain of `extends` or `include`.
pub const MAX_DEPTH: usize = 16;

/// Reads a file named by a project (the linter reads from disk, through the bounded reader and
/// within the project boundary; tests from memory). A refusal becomes a finding at the
/// referencing key: `NotFound` a gap (`SLE005`), `Outside` `SLE006`, the rest `SLE007`.
pub type Reader<'r> = &'r dyn Fn(&Path) -> Result<FileRef, ReadError>;

/// A loaded project.
#[derive(Debug)]
pub struct Project {
    /// Every file of the project, numbered as in [`Span::file`]: the inputs first, in order,
    /// then files pulled in by `include` and `extends`.
    pub files: Vec<FileRef>,
    /// The effective model.
    pub compose: ComposeFile,
}

/// Loads `inputs` (a base file and its overrides, in order) as one project. `vars` interpolate
/// every file (the `.env` of the project directory).
pub fn load(inputs: &[FileRef], vars: &Vars, read: Reader<'_>) -> Project {
    let mut l = Loading::new(inputs, vars, read, false);
    let mut root: Option<Rc<Node>> = None;
    for input in inputs {
        let Some(idx) = l.add(input.clone()) else {
            continue;
        };
        let Some(r) = l.root(idx) else { continue };
        // As Compose does, each file gets its `include`s and `extends` applied on its own
        // before it is merged onto the files before it: so an override's `!reset` also removes
        // what its service inherited through `extends`, and an override's `extends` wins over
        // the base file's values.
        let r = l.includes(&r, 0, &mut HashSet::new());
        let r = l.extends_all(&r);
        root = Some(match root {
            None => r,
            Some(base) => merge(&base, &r, &[]),
        });
    }
    let mut compose = ComposeFile::default();
    if let Some(r) = &root {
        // An included file is its own project: its directory's `.env` interpolates it.
        let file_vars: Vec<Option<Vars>> = (0..l.files.len())
            .map(|i| {
                let idx = u16::try_from(i).ok()?;
                let &(_, span) = l.included.iter().find(|(f, _)| *f == idx)?;
                let dir = l.files.get(i)?.dir().to_path_buf();
                let path = dir.join(".env");
                Some(match (l.read)(&path) {
                    Ok(f) => {
                        let (vars, limits) = super::load_dotenv(&f);
                        l.limits.extend(limits);
                        vars
                    }
                    Err(ReadError::NotFound) => Vars::new(),
                    Err(e) => {
                        let shown = crate::source::display_path(&path);
                        let message = format!("`{shown}` {}; it was not read", e.describe());
                        let err = LoadError {
                            message,
                            span,
                            help: Some(DOTENV_HELP.to_string()),
                        };
                        if e.is_outside() {
                            l.outside.push(err);
                        } else {
                            l.unreadable.push(err);
                        }
                        Vars::new()
                    }
                })
            })
            .collect();
        let texts: Vec<&str> = l.files.iter().map(|f| f.text.as_str()).collect();
        let mut ctx = build::Ctx::with_texts(texts, vars);
        ctx.set_file_vars(file_vars);
        build::document(&mut ctx, r, &mut compose);
        compose.errors.append(&mut ctx.errors);
        compose.limits.extend(ctx.take_limits());
    }
    compose.errors.append(&mut l.errors);
    compose.limits.append(&mut l.limits);
    compose
        .errors
        .sort_by(|a, b| (a.span.file, a.span, &a.message).cmp(&(b.span.file, b.span, &b.message)));
    compose
        .errors
        .dedup_by(|a, b| a.span == b.span && a.message == b.message);
    compose.unresolved = l.unresolved;
    compose.outside = l.outside;
    compose.unreadable = l.unreadable;
    compose
        .errors
        .extend(super::validate::project(root.as_deref(), inputs, &compose));
    Project {
        files: l.files,
        compose,
    }
}

/// The files of the project `inputs`, numbered as [`load`] numbers them, without building its
/// model: for a check that runs no rule on the project but counts its files. A file can pull
/// in others only through an `include` or `extends` key, so a file whose text spells neither
/// (nor has a `\` escape, which could spell one) is numbered but not parsed: it pulls in
/// nothing, and the files after it are the same.
pub fn files(inputs: &[FileRef], vars: &Vars, read: Reader<'_>) -> Vec<FileRef> {
    let mut l = Loading::new(inputs, vars, read, true);
    for input in inputs {
        let Some(idx) = l.add(input.clone()) else {
            continue;
        };
        let Some(r) = l.root(idx) else { continue };
        let r = l.includes(&r, 0, &mut HashSet::new());
        l.extends_all(&r);
    }
    l.files
}

/// Whether the text of a Compose file may name a file outside its directory, or one to build:
/// [`may_pull_in`], or it spells `build` or `env_file`. Keys are not interpolated, and a key
/// can spell a word its text does not only through a `\` escape (a double-quoted key), so a
/// file for which this is false builds nothing, and its project reads only the files beside
/// it (its override and `.env`).
pub fn may_name_files(text: &str) -> bool {
    may_pull_in(text) || ["build", "env_file"].iter().any(|w| text.contains(w))
}

/// Whether the text of a Compose file may pull in other files: it spells `include` or
/// `extends`, or has a `\` escape (a quoted key could spell either through one).
pub fn may_pull_in(text: &str) -> bool {
    ["include", "extends", "\\"]
        .iter()
        .any(|w| text.contains(w))
}

/// The root of `file` parsed as file number `idx` (its documents merged, null ones skipped),
/// with what the parse reported (its documents taken).
fn parse_root(file: &FileRef, idx: u16) -> (Option<Rc<Node>>, yaml::Parsed) {
    let mut parsed = yaml::parse_in(&file.text, idx);
    let mut root: Option<Rc<Node>> = None;
    for doc in std::mem::take(&mut parsed.docs) {
        if doc.is_null() {
            continue;
        }
        root = Some(match root {
            None => doc,
            Some(base) => merge(&base, &doc, &[]),
        });
    }
    (root, parsed)
}

mod recent;

/// Help for a refused `.env` (its variables are then unknown).
const DOTENV_HELP: &str = "variables from it are unknown; make it a regular file inside the project, or pass --allow-outside";

struct Loading<'a> {
    /// Numbers of the files loaded through `include` (each is its own project directory), with
    /// the span of the first `include` entry that named each.
    included: Vec<(u16, Span)>,
    files: Vec<FileRef>,
    /// The merged root of each file (by file number), `None` when it has no usable root.
    roots: Vec<Option<Rc<Node>>>,
    by_path: HashMap<PathBuf, u16>,
    errors: Vec<LoadError>,
    unresolved: Vec<LoadError>,
    outside: Vec<LoadError>,
    unreadable: Vec<LoadError>,
    /// Where expansion passed a byte budget (aliases, `.env` files of includes, paths).
    limits: Vec<ExpansionLimit>,
    /// Bytes the interpolation of `include`/`extends` paths may substitute.
    budget: Budget,
    vars: &'a Vars,
    read: Reader<'a>,
    /// Only the files are wanted ([`files`]): a file that cannot pull in others is not parsed.
    files_only: bool,
}

impl<'a> Loading<'a> {
    fn new(inputs: &[FileRef], vars: &'a Vars, read: Reader<'a>, files_only: bool) -> Self {
        Loading {
            included: Vec::new(),
            files: Vec::new(),
            roots: Vec::new(),
            by_path: HashMap::new(),
            errors: Vec::new(),
            unresolved: Vec::new(),
            outside: Vec::new(),
            unreadable: Vec::new(),
            limits: Vec::new(),
            budget: Budget::new(interpolate::budget_for(
                inputs.iter().map(|f| f.text.len()).sum(),
            )),
            vars,
            read,
            files_only,
        }
    }

    /// Parses a file and gives it the next number.
    fn add(&mut self, file: FileRef) -> Option<u16> {
        let key = crate::source::normalize(&file.path);
        if let Some(&i) = self.by_path.get(&key) {
            return Some(i);
        }
        if self.files.len() >= MAX_FILES {
            return None;
        }
        let idx = u16::try_from(self.files.len()).ok()?;
        if self.files_only {
            let root = may_pull_in(&file.text)
                .then(|| recent::parsed(&key, idx, &file, |f| parse_root(f, idx).0))
                .flatten();
            self.by_path.insert(key, idx);
            self.files.push(file);
            self.roots.push(root);
            return Some(idx);
        }
        let (root, parsed) = parse_root(&file, idx);
        self.errors.extend(parsed.errors);
        self.limits
            .extend(parsed.limits.into_iter().map(ExpansionLimit::from));
        self.by_path.insert(key, idx);
        self.files.push(file);
        self.roots.push(root);
        Some(idx)
    }

    fn root(&self, idx: u16) -> Option<Rc<Node>> {
        self.roots.get(usize::from(idx)).cloned().flatten()
    }

    /// The directory of the file a span is in.
    fn dir_of(&self, span: Span) -> PathBuf {
        self.files
            .get(usize::from(span.file))
            .map(|f| f.dir().to_path_buf())
            .unwrap_or_else(|| PathBuf::from("."))
    }

    /// A scalar path value, interpolated; records a gap when it cannot be known.
    fn path_value(&mut self, node: &Node, what: &str) -> Option<String> {
        let raw = node.scalar()?;
        match interpolate_with(raw, self.vars, &self.budget) {
            Interpolated::Known(s) => Some(s),
            Interpolated::TooLarge => {
                self.limits.push(ExpansionLimit::from(LoadError {
                    message: format!(
                        "{what}: interpolation passes the budget ({}); not followed",
                        interpolate::show_bytes(self.budget.limit())
                    ),
                    span: node.span,
                    help: Some(format!(
                        "interpolation may copy {} bytes of variable values into the paths of \
                         one project; a path does not need variables this large",
                        self.budget.limit()
                    )),
                }));
                None
            }
            _ => {
                self.gap(
                    node.span,
                    format!("{what} `{raw}` depends on an unset variable; it was not followed"),
                    "set the variable in the `.env` file beside the Compose file",
                );
                None
            }
        }
    }

    fn gap(&mut self, span: Span, message: String, help: &str) {
        self.unresolved.push(LoadError {
            message,
            span,
            help: Some(help.to_string()),
        });
    }

    /// Reads and numbers the file `rel` named at `span` (relative to that span's file).
    fn file_at(&mut self, span: Span, rel: &str, what: &str) -> Option<u16> {
        if rel.contains("://") || rel.starts_with("git@") || rel.starts_with("oci://") {
            self.gap(
                span,
                format!("{what} `{rel}` is remote; it was not checked"),
                "check the remote file on its own",
            );
            return None;
        }
        let path = crate::source::normalize(&self.dir_of(span).join(rel));
        if let Some(&i) = self.by_path.get(&path) {
            return Some(i);
        }
        match (self.read)(&path) {
            Ok(file) => {
                let idx = self.add(file);
                if idx.is_none() {
                    self.gap(
                        span,
                        format!("{what} `{rel}` was not followed: the project has more than {MAX_FILES} files"),
                        "check that file on its own",
                    );
                }
                idx
            }
            Err(
                e @ (ReadError::Outside { .. }
                | ReadError::NotRegular(_)
                | ReadError::TooLarge
                | ReadError::Io(_)),
            ) => {
                let message = format!(
                    "{what} `{}` {}; it was not read",
                    crate::source::clip(rel, 48),
                    e.describe()
                );
                if e.is_outside() {
                    self.outside.push(LoadError {
                        message,
                        span,
                        help: Some("sandlint reads only files inside the project (the git work tree, else the checked directory); pass --allow-outside PATH to allow it".to_string()),
                    });
                } else {
                    self.unreadable.push(LoadError {
                        message,
                        span,
                        help: Some("make it a regular file (at most 32 MiB)".to_string()),
                    });
                }
                None
            }
            Err(ReadError::NotFound) => {
                let help = format!(
                    "looked for {}; fix the path, or check the file where it lives",
                    crate::source::display_path(&path)
                );
                self.gap(
                    span,
                    format!("{what} `{}` not found", crate::source::clip(rel, 48)),
                    &help,
                );
                None
            }
        }
    }

    /// Applies top-level `include:` entries (recursively): included resources first, the
    /// including file's own definitions win.
    fn includes(&mut self, root: &Rc<Node>, depth: usize, seen: &mut HashSet<u16>) -> Rc<Node> {
        let Some(include) = merge::get(root, "include") else {
            return root.clone();
        };
        let items: Vec<Node> = match &include.value.kind {
            NodeKind::Seq(items) => items.iter().map(|n| (**n).clone()).collect(),
            _ if include.value.is_null() => Vec::new(),
            _ => vec![include.value.clone()],
        };
        let mut base: Option<Rc<Node>> = None;
        for item in items {
            let paths: Vec<Node> = match item.as_map() {
                Some(_) => match merge::get(&item, "path") {
                    Some(e) => match &e.value.kind {
                        NodeKind::Seq(ps) => ps.iter().map(|n| (**n).clone()).collect(),
                        _ => vec![e.value.clone()],
                    },
                    None => Vec::new(),
                },
                None => vec![item.clone()],
            };
            for p in paths {
                let Some(rel) = self.path_value(&p, "include") else {
                    continue;
                };
                if depth >= MAX_DEPTH {
                    self.gap(
                        p.span,
                        format!("include `{rel}` is nested too deeply"),
                        "flatten the includes",
                    );
                    continue;
                }
                let Some(idx) = self.file_at(p.span, &rel, "include") else {
                    continue;
                };
                if !self.included.iter().any(|(f, _)| *f == idx) {
                    self.included.push((idx, p.span));
                }
                if !seen.insert(idx) {
                    self.gap(
                        p.span,
                        format!("include `{rel}` forms a cycle"),
                        "remove the cyclic include",
                    );
                    continue;
                }
                if let Some(inc_root) = self.root(idx) {
                    // an included file is a project of its own: its `extends` resolve in it
                    let inc = self.includes(&inc_root, depth + 1, seen);
                    let inc = self.extends_all(&without_key(&inc, "include"));
                    base = Some(match base {
                        None => inc,
                        Some(b) => merge(&b, &inc, &[]),
                    });
                }
                seen.remove(&idx);
            }
        }
        match base {
            Some(b) => merge(&b, root, &[]),
            None => root.clone(),
        }
    }

    /// Applies `extends` to every service of `root`.
    fn extends_all(&mut self, root: &Rc<Node>) -> Rc<Node> {
        let Some(services) = merge::get(root, "services") else {
            return root.clone();
        };
        if services.value.as_map().is_none() || !has_extends(services.value) {
            return root.clone();
        }
        let services_node = Rc::new(services.value.clone());
        let mut pairs = Vec::new();
        for e in merge::entries(&services_node) {
            let name = e.name().unwrap_or_default().to_string();
            let value = Rc::new(e.value.clone());
            let resolved = self.resolve(&services_node, &name, &value, 0, &mut Vec::new());
            pairs.push((Rc::new(e.key.clone()), resolved));
        }
        let new_services = Rc::new(map_node(services.value, pairs));
        replace_key(root, "services", new_services)
    }

    /// The service `node` (named `name`, defined in `scope`, a `services` mapping) with its
    /// `extends` chain applied.
    fn resolve(
        &mut self,
        scope: &Rc<Node>,
        name: &str,
        node: &Rc<Node>,
        depth: usize,
        chain: &mut Vec<(u16, String)>,
    ) -> Rc<Node> {
        let Some(ext) = merge::get(node, "extends") else {
            return node.clone();
        };
        let ext_span = ext.key.span;
        let (service, file) = match ext.value.as_map() {
            Some(_) => (
                merge::get(ext.value, "service").map(|e| e.value.clone()),
                merge::get(ext.value, "file").map(|e| e.value.clone()),
            ),
            None => (Some(ext.value.clone()), None),
        };
        let own = without_key(node, "extends");
        let Some(service) = service else {
            self.gap(
                ext_span,
                format!("`extends` of service `{name}` names no service"),
                "add `service: <name>`",
            );
            return own;
        };
        let Some(base_name) = self.path_value(&service, "extends service") else {
            return own;
        };
        let (base_scope, base_file) = match &file {
            Some(f) => {
                let Some(rel) = self.path_value(f, "extends file") else {
                    return own;
                };
                let Some(idx) = self.file_at(f.span, &rel, "extends file") else {
                    return own;
                };
                let scope = self
                    .root(idx)
                    .and_then(|r| merge::get(&r, "services").map(|e| Rc::new(e.value.clone())));
                let Some(scope) = scope else {
                    self.gap(
                        f.span,
                        format!("extends file `{rel}` has no `services`"),
                        "fix the `extends` reference",
                    );
                    return own;
                };
                (scope, idx)
            }
            None => (scope.clone(), service.span.file),
        };
        let Some(base) = merge::get(&base_scope, &base_name).map(|e| Rc::new(e.value.clone()))
        else {
            self.gap(
                service.span,
                format!(
                    "service `{}` extends `{}`, which is not defined there",
                    crate::source::clip(name, 30),
                    crate::source::clip(&base_name, 30)
                ),
                "fix the `extends` reference",
            );
            return own;
        };
        if depth >= MAX_DEPTH
            || chain
                .iter()
                .any(|(f, n)| *f == base_file && *n == base_name)
        {
            self.gap(
                ext_span,
                format!("`extends` of service `{name}` forms a cycle or is nested too deeply"),
                "remove the cycle",
            );
            return own;
        }
        chain.push((base_file, base_name.clone()));
        let base = self.resolve(&base_scope, &base_name, &base, depth + 1, chain);
        chain.pop();
        merge(&base, &own, &["services", "*"])
    }
}

fn has_extends(services: &Node) -> bool {
    merge::entries(services)
        .iter()
        .any(|e| merge::get(e.value, "extends").is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::model::Value;
    use crate::source::SourceFile;

    fn files(list: &[(&str, &str)]) -> HashMap<PathBuf, FileRef> {
        list.iter()
            .map(|(p, t)| {
                (
                    PathBuf::from(p),
                    SourceFile::new(*p, *p, t.to_string()).into_ref(),
                )
            })
            .collect()
    }

    fn project(list: &[(&str, &str)], inputs: &[&str]) -> Project {
        let fs = files(list);
        let read = |p: &Path| fs.get(p).cloned().ok_or(ReadError::NotFound);
        let inputs: Vec<FileRef> = inputs
            .iter()
            .filter_map(|p| fs.get(Path::new(p)).cloned())
            .collect();
        load(&inputs, &Vars::new(), &read)
    }

    /// The paths [`files`] lists for `inputs`, asserted equal to [`load`]'s.
    fn files_only(list: &[(&str, &str)], inputs: &[&str]) -> Vec<String> {
        let fs = files(list);
        let read = |p: &Path| fs.get(p).cloned().ok_or(ReadError::NotFound);
        let inputs: Vec<FileRef> = (inputs.iter())
            .filter_map(|p| fs.get(Path::new(p)).cloned())
            .collect();
        let shown = |fs: &[FileRef]| -> Vec<String> {
            fs.iter().map(|f| f.path.display().to_string()).collect()
        };
        let full = shown(&load(&inputs, &Vars::new(), &read).files);
        let only = shown(&super::files(&inputs, &Vars::new(), &read));
        assert_eq!(only, full);
        only
    }

    #[test]
    fn files_only_lists_what_a_load_numbers() {
        // a chain through a base that extends further; a leaf spelling `extends` only in a
        // comment; a same-file `extends` of a service an included leaf defines; a cycle
        let list = [
            (
                "p/compose.yaml",
                "include: [inc/leaf.yaml]\nservices:\n  a:\n    extends: {file: mid.yaml, service: m}\n  b:\n    extends: l\n  c:\n    extends: {file: \"c\\x79cle.yaml\", service: x}\n",
            ),
            (
                "p/compose.override.yaml",
                "services:\n  a:\n    extends: {file: other.yaml, service: o}\n",
            ),
            (
                "p/mid.yaml",
                "services:\n  m:\n    extends: {file: base.yaml, service: b}\n",
            ),
            (
                "p/base.yaml",
                "# extends: {file: never.yaml}\nservices:\n  b: {image: x}\n",
            ),
            ("p/never.yaml", "services: {}\n"),
            ("p/other.yaml", "services:\n  o: {image: y}\n"),
            ("p/inc/leaf.yaml", "services:\n  l: {image: z}\n"),
            (
                "p/cycle.yaml",
                "services:\n  x:\n    extends: {file: cycle.yaml, service: x}\n",
            ),
        ];
        let inputs = ["p/compose.yaml", "p/compose.override.yaml"];
        let want = [
            "p/compose.yaml",
            "p/inc/leaf.yaml",
            "p/mid.yaml",
            "p/base.yaml",
            "p/cycle.yaml",
            "p/compose.override.yaml",
            "p/other.yaml",
        ];
        assert_eq!(files_only(&list, &inputs), want);
        // again on this thread (recent parses reused), and with the files numbered otherwise
        assert_eq!(files_only(&list, &inputs), want);
        assert_eq!(
            files_only(&list, &["p/mid.yaml", "p/compose.yaml"]),
            [
                "p/mid.yaml",
                "p/base.yaml",
                "p/compose.yaml",
                "p/inc/leaf.yaml",
                "p/cycle.yaml"
            ]
        );
        assert!(!may_pull_in("services:\n  web: {image: nginx}\n"));
        assert!(may_pull_in("services:\n  \"\\x65xtends\": {}\n"));
    }

    fn known(v: &Option<crate::compose::model::SValue>) -> Option<&str> {
        v.as_ref().and_then(|v| v.value.known())
    }

    #[test]
    fn override_merges_and_keeps_file_of_each_value() {
        let p = project(
            &[
                (
                    "p/compose.yaml",
                    "services:\n  web:\n    image: nginx:1\n    cap_add: [NET_ADMIN]\n    environment: {A: '1', B: '2'}\n    read_only: true\n",
                ),
                (
                    "p/compose.override.yaml",
                    "services:\n  web:\n    image: nginx:2\n    cap_add: [SYS_TIME, NET_ADMIN]\n    environment: [B=3]\n    read_only: !reset null\n",
                ),
            ],
            &["p/compose.yaml", "p/compose.override.yaml"],
        );
        assert!(p.compose.errors.is_empty(), "{:?}", p.compose.errors);
        let web = &p.compose.services[0];
        assert_eq!(known(&web.image), Some("nginx:2"));
        assert_eq!(web.image.as_ref().map(|v| v.span.file), Some(1));
        let caps: Vec<_> = web
            .cap_add
            .iter()
            .map(|c| (c.value.text(), c.span.file))
            .collect();
        assert_eq!(caps, [("NET_ADMIN", 0), ("SYS_TIME", 1)]);
        assert!(web.read_only.is_none(), "!reset removes the base value");
        // environment: base map + override list: merged by name, the override's B wins
        let env: Vec<_> = web
            .environment
            .iter()
            .map(|e| {
                let v = e.value.as_ref().map(|v| v.value.text().to_string());
                (e.key.value.as_str(), v, e.key.span.file)
            })
            .collect();
        assert_eq!(
            env,
            [
                ("A", Some("1".to_string()), 0),
                ("B", Some("3".to_string()), 1)
            ]
        );
    }

    #[test]
    fn each_file_resolves_its_extends_before_the_merge() {
        // as Compose: the base file's `extends` is applied before the override is merged on,
        // so the override's `!reset` removes the inherited socket mount, and the override's
        // own `extends` wins over the base file's values
        let p = project(
            &[
                (
                    "p/compose.yaml",
                    "services:\n  app:\n    extends: {file: common.yaml, service: base}\n    image: app:1\n  worker:\n    image: worker:1\n",
                ),
                (
                    "p/common.yaml",
                    "services:\n  base:\n    volumes: [/var/run/docker.sock:/var/run/docker.sock]\n  other:\n    image: other:2\n",
                ),
                (
                    "p/compose.override.yaml",
                    "services:\n  app:\n    volumes: !reset []\n  worker:\n    extends: {file: common.yaml, service: other}\n",
                ),
            ],
            &["p/compose.yaml", "p/compose.override.yaml"],
        );
        assert!(p.compose.errors.is_empty(), "{:?}", p.compose.errors);
        assert!(
            p.compose.unresolved.is_empty(),
            "{:?}",
            p.compose.unresolved
        );
        let app = &p.compose.services[0];
        assert!(app.volumes.is_empty(), "{:?}", app.volumes);
        assert_eq!(known(&app.image), Some("app:1"));
        let worker = &p.compose.services[1];
        assert_eq!(known(&worker.image), Some("other:2"));
        // a service keeps the name where it was first defined: whole-service findings and
        // their suppression comments are in the base file
        assert_eq!((app.name.span.file, app.name.span.start), (0, 12));
        assert_eq!(worker.name.span.file, 0);
    }

    #[test]
    fn included_file_resolves_its_own_extends() {
        let p = project(
            &[
                (
                    "p/compose.yaml",
                    "include: [sub/compose.yaml]\nservices:\n  web:\n    image: web:1\n",
                ),
                (
                    "p/sub/compose.yaml",
                    "services:\n  db:\n    extends: base\n  base:\n    image: db:1\n    privileged: true\n",
                ),
            ],
            &["p/compose.yaml"],
        );
        assert!(
            p.compose.unresolved.is_empty(),
            "{:?}",
            p.compose.unresolved
        );
        let db = p
            .compose
            .services
            .iter()
            .find(|s| s.name.value == "db")
            .unwrap();
        assert_eq!(known(&db.image), Some("db:1"));
        assert!(db.privileged.is_some());
    }

    #[test]
    fn extends_other_file_and_missing_targets_are_gaps() {
        let p = project(
            &[
                (
                    "p/compose.yaml",
                    "services:\n  web:\n    extends: {file: common.yml, service: base}\n    image: app:1\n  api:\n    extends: nope\n  job:\n    extends: {file: missing.yml, service: x}\n",
                ),
                (
                    "p/common.yml",
                    "services:\n  base:\n    privileged: true\n    image: base:1\n",
                ),
            ],
            &["p/compose.yaml"],
        );
        let web = p
            .compose
            .services
            .iter()
            .find(|s| s.name.value == "web")
            .unwrap();
        assert_eq!(known(&web.privileged), Some("true"));
        assert_eq!(web.privileged.as_ref().map(|v| v.span.file), Some(1));
        assert_eq!(known(&web.image), Some("app:1"));
        assert_eq!(p.files.len(), 2);
        let gaps: Vec<_> = p
            .compose
            .unresolved
            .iter()
            .map(|g| g.message.as_str())
            .collect();
        assert_eq!(
            gaps,
            [
                "service `api` extends `nope`, which is not defined there",
                "extends file `missing.yml` not found",
            ]
        );
    }

    #[test]
    fn include_adds_services_and_includer_wins() {
        let p = project(
            &[
                (
                    "p/compose.yaml",
                    "include:\n  - db/compose.yaml\nservices:\n  web:\n    image: web:1\n  db:\n    user: '999'\n",
                ),
                (
                    "p/db/compose.yaml",
                    "services:\n  db:\n    image: postgres:17\n    user: root\n",
                ),
            ],
            &["p/compose.yaml"],
        );
        let names: Vec<_> = p
            .compose
            .services
            .iter()
            .map(|s| s.name.value.as_str())
            .collect();
        assert_eq!(names, ["db", "web"]);
        let db = &p.compose.services[0];
        assert_eq!(
            db.user.as_ref().map(|v| &v.value),
            Some(&Value::Known("999".into()))
        );
        assert_eq!(known(&db.image), Some("postgres:17"));
        assert_eq!(db.image.as_ref().map(|v| v.span.file), Some(1));
    }

    #[test]
    fn included_files_use_their_own_dotenv() {
        let p = project(
            &[
                (
                    "p/compose.yaml",
                    "include: [db/compose.yaml]\nservices:\n  web:\n    image: web:${TAG}\n",
                ),
                ("p/.env", "TAG=1.0\nDB_TAG=wrong\n"),
                (
                    "p/db/compose.yaml",
                    "services:\n  db:\n    image: postgres:${DB_TAG}\n",
                ),
                ("p/db/.env", "DB_TAG=17\n"),
            ],
            &["p/compose.yaml"],
        );
        // The base file's variables come from the caller (here none: `${TAG}` stays unknown).
        let images: Vec<_> = p.compose.services.iter().map(|s| known(&s.image)).collect();
        assert_eq!(images, [Some("postgres:17"), None]);
    }

    #[test]
    fn ports_merge_by_meaning() {
        let p = project(
            &[
                (
                    "p/compose.yaml",
                    "services:\n  w:\n    ports: ['8080:80', '127.0.0.1:9090:90/udp']\n",
                ),
                (
                    "p/compose.override.yaml",
                    "services:\n  w:\n    ports:\n      - target: 80\n        published: '8080'\n      - '443:443'\n",
                ),
            ],
            &["p/compose.yaml", "p/compose.override.yaml"],
        );
        let ports: Vec<_> = p.compose.services[0]
            .ports
            .iter()
            .map(|p| {
                (
                    p.published.as_ref().map(|v| v.value.text().to_string()),
                    p.span.file,
                )
            })
            .collect();
        assert_eq!(
            ports,
            [
                (Some("8080".to_string()), 1),
                (Some("9090".to_string()), 0),
                (Some("443".to_string()), 1)
            ]
        );
    }

    #[test]
    fn extends_cycle_is_reported_not_looped() {
        let p = project(
            &[(
                "p/compose.yaml",
                "services:\n  a:\n    extends: b\n  b:\n    extends: a\n",
            )],
            &["p/compose.yaml"],
        );
        assert_eq!(p.compose.services.len(), 2);
        assert!(
            p.compose
                .unresolved
                .iter()
                .any(|g| g.message.contains("cycle")),
            "{:?}",
            p.compose.unresolved
        );
    }

    #[test]
    fn volumes_merge_by_target_and_command_replaces() {
        let p = project(
            &[
                (
                    "p/compose.yaml",
                    "services:\n  w:\n    volumes: ['./a:/data', './b:/b']\n    command: [a, b]\n",
                ),
                (
                    "p/compose.override.yaml",
                    "services:\n  w:\n    volumes: ['./c:/data:ro']\n    command: [c]\n",
                ),
            ],
            &["p/compose.yaml", "p/compose.override.yaml"],
        );
        let vols: Vec<_> = p.compose.services[0]
            .volumes
            .iter()
            .map(|v| {
                v.source
                    .as_ref()
                    .map(|s| s.value.text().to_string())
                    .unwrap_or_default()
            })
            .collect();
        assert_eq!(vols, ["./c", "./b"]);
    }
}
