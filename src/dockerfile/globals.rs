//! The global scope (`ARG`s before the first `FROM`) as BuildKit's lint checks see it: which
//! names a `FROM` may use (declared `ARG`s and the predefined platform arguments), and the
//! `FROM` words as a build without any `--build-arg` expands them.

use super::model::Dockerfile;
use super::semantics::index;
use super::vars::var_refs;

/// The build arguments BuildKit defines in the global scope of every build (`defaultArgs` in
/// `dockerfile2llb`), with the values of a `linux/amd64` build of the default target.
pub const PREDEFINED: &[(&str, &str)] = &[
    ("BUILDPLATFORM", "linux/amd64"),
    ("BUILDOS", "linux"),
    ("BUILDOSVERSION", ""),
    ("BUILDARCH", "amd64"),
    ("BUILDVARIANT", ""),
    ("TARGETPLATFORM", "linux/amd64"),
    ("TARGETOS", "linux"),
    ("TARGETOSVERSION", ""),
    ("TARGETARCH", "amd64"),
    ("TARGETVARIANT", ""),
    ("TARGETSTAGE", "default"),
];

/// A global name as a build without `--build-arg`s sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GlobalArg<'a> {
    /// Neither a global `ARG` nor predefined.
    Undeclared,
    /// A global `ARG` without a default (empty in the build).
    NoValue,
    /// Its value: the `ARG`'s default, else the predefined value.
    Value(&'a str),
    /// Declared with a default sandlint could not expand.
    Unknown,
}

/// What `name` is in the global scope.
pub fn global_arg<'a>(df: &'a Dockerfile, name: &str) -> GlobalArg<'a> {
    let idx = index(df);
    let predefined = PREDEFINED.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
    match idx.globals.get(name) {
        Some(Some(v)) => GlobalArg::Value(v),
        Some(None) if idx.global_defaults.contains_key(name) => GlobalArg::Unknown,
        Some(None) => predefined.map_or(GlobalArg::NoValue, GlobalArg::Value),
        None => predefined.map_or(GlobalArg::Undeclared, GlobalArg::Value),
    }
}

/// The names a `FROM` may use: the global `ARG`s (sorted) and the predefined arguments.
pub fn global_names(df: &Dockerfile) -> Vec<&str> {
    let mut names: Vec<&str> = index(df).globals.keys().map(String::as_str).collect();
    names.sort_unstable();
    names.extend(PREDEFINED.iter().map(|(n, _)| *n));
    names
}

/// `text` (a `FROM` word, quotes processed) expanded as a build without `--build-arg`s does it:
/// global defaults and predefined values, an undeclared or default-less name empty. `None` where
/// that is not known: a default sandlint could not expand, a `${NAME-word}`/`${NAME+word}` of an
/// unset name (sandlint's expansion does not tell unset from empty), an unsupported modifier.
pub fn expand_with_defaults(df: &Dockerfile, text: &str) -> Option<String> {
    let esc = df.escape_char();
    for r in var_refs(text, esc, true) {
        match global_arg(df, r.name) {
            GlobalArg::Unknown => return None,
            GlobalArg::Undeclared | GlobalArg::NoValue if matches!(r.modifier, Some('-' | '+')) => {
                return None;
            }
            _ => {}
        }
    }
    let get = |n: &str| match global_arg(df, n) {
        GlobalArg::Value(v) => Some(v),
        _ => Some(""),
    };
    super::expand::expand_into(text, &get, esc, true, &index(df).budget, 0)
        .ok()
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_only() {
        let df =
            crate::dockerfile::parse("ARG V\nARG T=3.20\nARG U=$NOPE\nARG TARGETARCH\nFROM x\n");
        assert_eq!(global_arg(&df, "V"), GlobalArg::NoValue);
        assert_eq!(global_arg(&df, "T"), GlobalArg::Value("3.20"));
        assert_eq!(global_arg(&df, "TARGETARCH"), GlobalArg::Value("amd64"));
        assert_eq!(global_arg(&df, "NOPE"), GlobalArg::Undeclared);
        let e = |t: &str| expand_with_defaults(&df, t);
        assert_eq!(e("alpine:$V").as_deref(), Some("alpine:"));
        assert_eq!(e("alpine:${T}").as_deref(), Some("alpine:3.20"));
        assert_eq!(e("a:${V:-1}").as_deref(), Some("a:1"));
        assert_eq!(e("a:${V-1}"), None);
        assert_eq!(e("a:$BUILDOS"), Some("a:linux".to_string()));
    }
}
