//! Mounts of a dev container: `docker run --mount` strings (`mounts` entries,
//! `workspaceMount`, `--mount` in `runArgs`) and `mounts` objects, as Compose volumes.

use super::text::{Str, is_workspace_path};
use crate::compose::model::{Volume, VolumeKind};
use crate::compose::yaml::Node;

/// A mount and whether it binds the workspace folder (or a folder in it).
pub struct Mounted {
    pub volume: Volume,
    pub workspace: bool,
}

fn kind_of(t: &str) -> VolumeKind {
    match t {
        "bind" => VolumeKind::Bind,
        "volume" => VolumeKind::Volume,
        "tmpfs" => VolumeKind::Tmpfs,
        "npipe" => VolumeKind::Npipe,
        "image" => VolumeKind::Image,
        "cluster" => VolumeKind::Cluster,
        _ => VolumeKind::Unknown,
    }
}

fn empty(span: crate::source::Span) -> Volume {
    Volume {
        span,
        // `docker run --mount` without `type=` mounts a volume
        kind: VolumeKind::Volume,
        source: None,
        target: None,
        read_only: false,
        read_only_span: None,
        options: Vec::new(),
        long: false,
    }
}

/// A `--mount` string: comma-separated `key=value` fields (`type`, `source`/`src`,
/// `target`/`destination`/`dst`, `readonly`/`ro` bare or `=true|1|false|0`,
/// `bind-propagation`); other fields are ignored. Each value is spanned exactly when the string
/// is written verbatim.
pub fn mount_string(s: &Str<'_>, workspace: &str) -> Mounted {
    let mut v = empty(s.span);
    let mut ws = false;
    let mut start = 0;
    let bytes = s.text.as_bytes();
    for end in (0..=bytes.len()).filter(|&i| i == bytes.len() || bytes[i] == b',') {
        let field = s.part(start..end);
        let (key, value) = match field.text.find('=') {
            Some(eq) => (
                &field.text[..eq],
                Some(field.part(eq + 1..field.text.len())),
            ),
            None => (field.text, None),
        };
        match (key.trim(), value) {
            ("type", Some(t)) => v.kind = kind_of(t.text.trim()),
            ("source" | "src", Some(src)) => {
                ws = is_workspace_path(src.text.trim());
                v.source = Some(src.value(workspace));
            }
            ("target" | "destination" | "dst", Some(dst)) => {
                v.target = Some(dst.value(workspace));
            }
            ("readonly" | "ro", value) => {
                let on = value
                    .as_ref()
                    .is_none_or(|x| matches!(x.text.trim(), "true" | "1"));
                v.read_only = on;
                v.read_only_span = Some(value.map_or(field.span, |x| x.span));
            }
            ("bind-propagation", Some(p)) => v.options.push(p.value(workspace)),
            _ => {}
        }
        start = end + 1;
    }
    Mounted {
        volume: v,
        workspace: ws,
    }
}

/// A `mounts` object: `{ "type": …, "source": …, "target": … }` (the Dev Containers CLI passes
/// it as `--mount type=…,src=…,dst=…`).
pub fn mount_object(node: &Node, text: &str, workspace: &str) -> Mounted {
    let mut v = empty(node.span);
    let mut ws = false;
    let get = |key: &str| crate::compose::jsonc::last(node, key).and_then(|n| Str::of(n, text));
    if let Some(t) = get("type") {
        v.kind = kind_of(t.text.trim());
    }
    if let Some(src) = get("source") {
        ws = is_workspace_path(src.text.trim());
        v.source = Some(src.value(workspace));
    }
    if let Some(dst) = get("target") {
        v.target = Some(dst.value(workspace));
    }
    Mounted {
        volume: v,
        workspace: ws,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test input is known")]
    use super::*;
    use crate::compose::model::Value;

    fn parse(json: &str) -> (Mounted, String) {
        let p = crate::compose::jsonc::parse_in(json, 0);
        let root = p.docs.first().unwrap().clone();
        let s = Str::of(&root, json).unwrap();
        (mount_string(&s, ".."), json.to_string())
    }

    #[test]
    fn string_form_spans_each_value() {
        let (m, text) =
            parse(r#""source=/var/run/docker.sock,target=/var/run/docker.sock,type=bind,ro""#);
        let v = &m.volume;
        assert_eq!(v.kind, VolumeKind::Bind);
        let src = v.source.as_ref().unwrap();
        assert_eq!(&text[src.span.range()], "/var/run/docker.sock");
        assert!(v.read_only);
        assert!(!m.workspace);
    }

    #[test]
    fn workspace_and_home() {
        let (m, _) = parse(r#""src=${localWorkspaceFolder}/x,dst=/x,type=bind""#);
        assert!(m.workspace);
        assert_eq!(
            m.volume.source.unwrap().value,
            Value::Known("../x".to_string())
        );
        let (m, _) = parse(r#""type=bind,source=${localEnv:HOME}/.aws,target=/a,readonly=false""#);
        assert!(!m.volume.read_only);
        assert_eq!(
            m.volume.source.unwrap().value,
            Value::Known("~/.aws".to_string())
        );
        let (m, _) = parse(r#""source=cache,target=/c""#);
        assert_eq!(m.volume.kind, VolumeKind::Volume);
    }
}
