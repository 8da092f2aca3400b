//! `devcontainer.json`: read with [`super::jsonc`], lowered to one Compose service (named
//! [`SERVICE`]) so that the Compose rules judge it, every value spanned in the file itself.
//!
//! - `text.rs`: strings with exact spans; the Dev Containers variables.
//! - `mounts.rs`: `--mount` strings and `mounts` objects as Compose volumes.
//! - `run_args.rs`: the `docker run` options of `runArgs`.
//! - `lower.rs`: the properties, to the service.
//!
//! What the Dev Containers CLI does with the properties (`devcontainers/cli`,
//! `spawnDevContainer`): `appPort` numbers are published on `127.0.0.1`, strings are passed to
//! `-p` as written; `mounts` and `workspaceMount` go to `--mount`; `containerEnv` to `-e`;
//! `containerUser` to `-u`; then `runArgs`; then `init`, `privileged`, `capAdd` and
//! `securityOpt` (with what the features add). Docker takes the last `-u`.

mod lower;
mod mounts;
pub mod run_args;
pub mod text;

use std::rc::Rc;

use super::model::{ComposeFile, LoadError, SValue};
use super::yaml::Node;
use crate::source::{Span, Spanned};

/// The name of the one service a dev container is lowered to (in messages).
pub const SERVICE: &str = "devcontainer";

/// A loaded `devcontainer.json`.
#[derive(Debug, Default)]
pub struct Devcontainer {
    /// The container as a Compose file of one service (or none, when the file is not an
    /// object or names a Compose project), with the syntax errors.
    pub compose: ComposeFile,
    /// The lifecycle commands, in file order.
    pub commands: Vec<LifecycleCommand>,
    /// `features`, in file order.
    pub features: Vec<Feature>,
    /// `dockerComposeFile` and `service`, when the container is a service of a Compose project.
    pub compose_ref: Option<ComposeRef>,
    /// The bind mounts of the workspace folder (or a folder in it): the volume entries'
    /// spans. A dev container edits its workspace, so these are meant to be writable.
    pub workspace_binds: Vec<Span>,
    /// The spans of the top-level members (key to value) and of their items and members: what
    /// a `// sandlint ignore=` comment above one covers.
    pub blocks: Vec<Span>,
    /// The user the container runs as: `runArgs`' last `-u`, else `containerUser`.
    pub container_user: Option<SValue>,
    /// `remoteUser`: the user the tools run as (default: the container's).
    pub remote_user: Option<SValue>,
}

impl Devcontainer {
    /// Sets the service's `user`: the container's user or the tools' (`remoteUser`), whichever
    /// `is_root` says is root, else `remoteUser`, else the container's (`None`: the image's
    /// user, from the Dockerfile built when there is one).
    pub fn decide_user(&mut self, is_root: impl Fn(&str) -> bool) {
        let root = |u: &Option<SValue>| {
            u.as_ref()
                .and_then(|u| u.value.known())
                .is_some_and(&is_root)
        };
        let user = if root(&self.container_user)
            || (!root(&self.remote_user) && self.remote_user.is_none())
        {
            self.container_user.clone()
        } else {
            self.remote_user.clone()
        };
        if let Some(s) = self.compose.services.first_mut() {
            s.user = user;
        }
    }
}

/// `dockerComposeFile` (one path or a list, relative to the `devcontainer.json`) + `service`.
#[derive(Debug, Clone)]
pub struct ComposeRef {
    /// The `dockerComposeFile` key.
    pub key: Span,
    pub files: Vec<SValue>,
    pub service: Option<SValue>,
}

/// One of the lifecycle commands.
#[derive(Debug, Clone)]
pub struct LifecycleCommand {
    /// `initializeCommand`, `onCreateCommand`, … (its key's span).
    pub key: Spanned<String>,
    /// The value (string, array or object).
    pub span: Span,
    /// What runs: one for the string and array forms, one per entry of the object form.
    pub runs: Vec<Run>,
}

impl LifecycleCommand {
    /// `initializeCommand` runs on the host, before the container exists.
    pub fn on_host(&self) -> bool {
        self.key.value == "initializeCommand"
    }
}

/// One command line of a lifecycle command.
#[derive(Debug, Clone)]
pub enum Run {
    /// A string: run by `/bin/sh -c` (on the host, the user's shell). The text, where it is,
    /// and the file offset of its first byte when it is written without escapes.
    Shell {
        text: String,
        span: Span,
        base: Option<u32>,
    },
    /// An array: run directly, no shell. Each item's text and span.
    Exec(Vec<(String, Span)>),
}

/// A `features` entry.
#[derive(Debug, Clone)]
pub struct Feature {
    /// The feature's id (the key), span without the quotes' content changed.
    pub id: Spanned<String>,
    /// The options value (`{}`, `"latest"`, …).
    pub options: Span,
}

/// The lifecycle command keys, in the order the Dev Containers CLI runs them.
pub const LIFECYCLE_KEYS: &[&str] = &[
    "initializeCommand",
    "onCreateCommand",
    "updateContentCommand",
    "postCreateCommand",
    "postStartCommand",
    "postAttachCommand",
];

/// Loads the `devcontainer.json` at `path` (its text). Never fails, never panics: problems
/// are in `compose.errors`.
pub fn load(text: &str, path: &std::path::Path) -> Devcontainer {
    let parsed = super::jsonc::parse_in(text, 0);
    let mut dc = Devcontainer {
        compose: ComposeFile {
            errors: parsed.errors,
            ..ComposeFile::default()
        },
        ..Devcontainer::default()
    };
    let Some(root) = parsed.docs.first() else {
        return dc;
    };
    if root.as_map().is_none() {
        dc.compose.errors.push(LoadError {
            message: "a devcontainer.json must hold an object".to_string(),
            span: root.span,
            help: None,
        });
        return dc;
    }
    dc.blocks = blocks(root);
    dc.commands = commands(root, text);
    dc.features = features(root);
    dc.compose_ref = compose_ref(root, text);
    let lowered = lower::service(root, text, path);
    dc.workspace_binds = lowered.binds;
    dc.container_user = lowered.container_user;
    dc.remote_user = lowered.remote_user;
    dc.compose.services.push(lowered.service);
    dc
}

fn get<'n>(root: &'n Node, key: &str) -> Option<&'n Rc<Node>> {
    super::jsonc::last(root, key)
}

/// The span of the last key named `key` of `root`.
fn key_span(root: &Node, key: &str) -> Option<Span> {
    root.as_map()?
        .iter()
        .rev()
        .find(|(k, _)| k.scalar() == Some(key))
        .map(|(k, _)| k.span)
}

fn blocks(root: &Node) -> Vec<Span> {
    let mut out = Vec::new();
    for (k, v) in root.as_map().unwrap_or_default() {
        out.push(k.span.cover(v.span));
        out.extend(v.as_seq().unwrap_or_default().iter().map(|i| i.span));
        let members = v.as_map().unwrap_or_default().iter();
        out.extend(members.map(|(k, v)| k.span.cover(v.span)));
    }
    out
}

fn commands(root: &Node, text: &str) -> Vec<LifecycleCommand> {
    let mut out = Vec::new();
    for &key in LIFECYCLE_KEYS {
        let (Some(node), Some(key_at)) = (get(root, key), key_span(root, key)) else {
            continue;
        };
        let mut runs = Vec::new();
        match node.as_map() {
            Some(entries) => runs.extend(entries.iter().filter_map(|(_, v)| run(v, text))),
            None => runs.extend(run(node, text)),
        }
        out.push(LifecycleCommand {
            key: Spanned::new(key.to_string(), key_at),
            span: node.span,
            runs,
        });
    }
    out.sort_by_key(|c| c.key.span);
    out
}

fn run(node: &Node, text: &str) -> Option<Run> {
    if let Some(items) = node.as_seq() {
        let argv = items
            .iter()
            .filter_map(|i| text::Str::of(i, text))
            .map(|s| (s.text.to_string(), s.span))
            .collect();
        return Some(Run::Exec(argv));
    }
    let s = text::Str::of(node, text)?;
    Some(Run::Shell {
        text: s.text.to_string(),
        span: s.span,
        base: s.base(),
    })
}

fn features(root: &Node) -> Vec<Feature> {
    let Some(map) = get(root, "features").and_then(|f| f.as_map()) else {
        return Vec::new();
    };
    map.iter()
        .filter_map(|(k, v)| {
            Some(Feature {
                id: Spanned::new(k.scalar()?.to_string(), k.span),
                options: v.span,
            })
        })
        .collect()
}

fn compose_ref(root: &Node, text: &str) -> Option<ComposeRef> {
    let node = get(root, "dockerComposeFile")?;
    let key = key_span(root, "dockerComposeFile")?;
    let items: Vec<&Node> = match node.as_seq() {
        Some(items) => items.iter().map(Rc::as_ref).collect(),
        None => vec![node.as_ref()],
    };
    let files = items
        .into_iter()
        .filter_map(|n| text::Str::of(n, text))
        .map(|s| s.value("."))
        .collect();
    let service = get(root, "service")
        .and_then(|n| text::Str::of(n, text))
        .map(|s| s.value("."));
    Some(ComposeRef {
        key,
        files,
        service,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test input is known")]
    use super::*;
    use std::path::Path;

    fn load_at(text: &str) -> Devcontainer {
        load(text, Path::new("p/.devcontainer/devcontainer.json"))
    }

    #[test]
    fn a_root_that_is_not_an_object_is_an_error() {
        let dc = load_at("[1, 2]");
        assert_eq!(dc.compose.errors.len(), 1);
        assert_eq!(
            dc.compose.errors[0].message,
            "a devcontainer.json must hold an object"
        );
        assert!(dc.compose.services.is_empty());
        let dc = load_at("{ \"image\": \"x\" ");
        assert!(
            dc.compose.errors[0].message.starts_with("expected"),
            "{:?}",
            dc.compose.errors
        );
    }

    #[test]
    fn commands_features_and_compose_ref() {
        let text = r#"{
  "postCreateCommand": { "a": "make", "b": ["npm", "ci"] },
  "initializeCommand": "echo",
  "features": { "ghcr.io/x/y:1": {}, "./z": "latest" },
  "dockerComposeFile": ["a.yaml", "b.yaml"],
  "service": "app",
  "runArgs": ["--privileged"],
}"#;
        let dc = load_at(text);
        let keys: Vec<&str> = dc.commands.iter().map(|c| c.key.value.as_str()).collect();
        assert_eq!(keys, ["postCreateCommand", "initializeCommand"]);
        assert_eq!(dc.commands[0].runs.len(), 2);
        assert!(dc.commands[1].on_host());
        let ids: Vec<&str> = dc.features.iter().map(|f| f.id.value.as_str()).collect();
        assert_eq!(ids, ["ghcr.io/x/y:1", "./z"]);
        let r = dc.compose_ref.unwrap();
        assert_eq!(r.files.len(), 2);
        assert_eq!(r.service.unwrap().value.known(), Some("app"));
        // runArgs is the CLI's own container's: ignored with dockerComposeFile
        assert!(dc.compose.services[0].privileged.is_none());
    }

    #[test]
    fn the_user_decision() {
        let root = |u: &str| u == "root" || u == "0";
        let user = |text: &str| {
            let mut dc = load_at(text);
            dc.decide_user(root);
            dc.compose.services[0]
                .user
                .as_ref()
                .map(|u| u.value.text().to_string())
        };
        assert_eq!(
            user(r#"{ "containerUser": "root", "remoteUser": "dev" }"#).as_deref(),
            Some("root")
        );
        assert_eq!(
            user(r#"{ "containerUser": "dev", "remoteUser": "root" }"#).as_deref(),
            Some("root")
        );
        assert_eq!(
            user(r#"{ "containerUser": "a", "remoteUser": "b" }"#).as_deref(),
            Some("b")
        );
        assert_eq!(
            user(r#"{ "containerUser": "a", "runArgs": ["-u", "0"] }"#).as_deref(),
            Some("0")
        );
        assert_eq!(user(r#"{ "image": "x" }"#), None);
    }

    #[test]
    fn the_last_of_two_equal_keys_wins() {
        let dc = load_at(r#"{ "privileged": true, "privileged": false }"#);
        let p = dc.compose.services[0].privileged.as_ref().unwrap();
        assert_eq!(p.value.known(), Some("false"));
    }
}
