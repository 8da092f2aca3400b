//! Dev container rules (`SLV###`): what only a `devcontainer.json` has — lifecycle commands
//! and features. Its container is judged by the Compose rules, lowered to one service.

pub(super) mod feature_not_pinned;
pub(super) mod initialize_command_on_host;
pub(super) mod lifecycle_command_downloads;
pub(super) mod privileged_feature;

use crate::compose::devcontainer::Run;
use crate::dockerfile::shell::{self, Script};
use crate::source::Span;

/// The script one command line runs, and the file span of a range of it: exact when the string
/// is written without escapes (or for an array's items), else the whole value at `whole`.
fn script_of(run: &Run, whole: Span) -> (Script, Box<dyn Fn(u32, u32) -> Span + '_>) {
    match run {
        Run::Shell { text, span, base } => {
            let map = move |s: u32, e: u32| match base {
                Some(b) => Span::new(b.saturating_add(s), b.saturating_add(e)).in_file(span.file),
                None => *span,
            };
            (shell::parse(text), Box::new(map))
        }
        Run::Exec(items) => {
            let script =
                shell::from_argv(items.iter().map(|(v, sp)| (v.clone(), sp.start, sp.end)));
            let map = move |s: u32, e: u32| {
                if whole.start <= s && e <= whole.end && s <= e {
                    Span::new(s, e).in_file(whole.file)
                } else {
                    whole
                }
            };
            (script, Box::new(map))
        }
    }
}

/// A feature reference (`ghcr.io/devcontainers/features/node:1`), taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FeatureRef<'a> {
    /// Without its tag or digest.
    path: &'a str,
    tag: Option<&'a str>,
    digest: bool,
    /// A folder of the repository (`./my-feature`): versioned with it.
    local: bool,
    /// A tarball URL (`https://…/feature.tgz`).
    url: bool,
    /// A short id of the retired `microsoft/vscode-dev-containers` features (`docker-in-docker`).
    legacy: bool,
}

fn feature_ref(id: &str) -> FeatureRef<'_> {
    let local = id.starts_with("./") || id.starts_with("../");
    let url = id.starts_with("https://") || id.starts_with("http://");
    let (rest, digest) = match id.split_once('@') {
        Some((p, d)) => (p, d.starts_with("sha256:")),
        None => (id, false),
    };
    let after_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (path, tag) = match rest[after_slash..].rfind(':') {
        Some(i) if !local && !url => (&rest[..after_slash + i], Some(&rest[after_slash + i + 1..])),
        _ => (rest, None),
    };
    FeatureRef {
        path,
        tag,
        digest,
        local,
        url,
        legacy: !local && !url && !id.contains('/'),
    }
}

/// The name of a feature of the `devcontainers/features` collection (`ghcr.io/devcontainers/
/// features/<name>`, or a legacy short id, which the CLI maps to the same feature).
fn official_name<'a>(r: &FeatureRef<'a>) -> Option<&'a str> {
    if r.legacy {
        return Some(r.path);
    }
    r.path.strip_prefix("ghcr.io/devcontainers/features/")
}

#[cfg(test)]
mod tests {
    use super::feature_ref;

    #[test]
    fn feature_references() {
        let r = feature_ref("ghcr.io/devcontainers/features/node:1");
        assert_eq!(
            (r.path, r.tag, r.digest),
            ("ghcr.io/devcontainers/features/node", Some("1"), false)
        );
        let r = feature_ref("localhost:5000/f/node");
        assert_eq!((r.path, r.tag), ("localhost:5000/f/node", None));
        let r = feature_ref("ghcr.io/x/y@sha256:abc");
        assert_eq!((r.path, r.tag, r.digest), ("ghcr.io/x/y", None, true));
        assert!(feature_ref("./local-features/nvs").local);
        assert!(feature_ref("https://e.com/f.tgz").url);
        let r = feature_ref("docker-in-docker");
        assert!(r.legacy);
        assert_eq!(feature_ref("docker-in-docker:1").tag, Some("1"));
    }
}
