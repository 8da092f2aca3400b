//! Strings of a `devcontainer.json` with where their bytes are, and the Dev Containers
//! variables (`${localWorkspaceFolder}`, `${localEnv:HOME}`) resolved as far as a file can tell.

use std::ops::Range;

use crate::compose::model::{SValue, Value};
use crate::compose::yaml::{Node, Style};
use crate::source::{Span, Spanned};

/// A scalar of the JSON tree: its decoded text, its span (quotes included), and the file
/// offset of its first decoded byte when the text is written verbatim (no escapes), so that
/// parts of it get exact spans.
#[derive(Debug, Clone)]
pub struct Str<'n> {
    pub text: &'n str,
    pub span: Span,
    base: Option<u32>,
}

impl<'n> Str<'n> {
    /// The scalar `node` of the file `text`; `None` for `null`, arrays and objects.
    pub fn of(node: &'n Node, text: &str) -> Option<Str<'n>> {
        if node.is_null() {
            return None;
        }
        let value = node.scalar()?;
        let (start, end) = match node.style()? {
            Style::DoubleQuoted => (
                node.span.start.saturating_add(1),
                node.span.end.saturating_sub(1),
            ),
            _ => (node.span.start, node.span.end),
        };
        let base = (text.get(start as usize..end as usize) == Some(value)).then_some(start);
        Some(Str {
            text: value,
            span: node.span,
            base,
        })
    }

    /// Where the bytes `r` of the text are: exact when written verbatim, else the whole string.
    pub fn sub(&self, r: Range<usize>) -> Span {
        match self.base {
            Some(b) => {
                let at = |i: usize| b.saturating_add(u32::try_from(i).unwrap_or(u32::MAX));
                Span::new(at(r.start), at(r.end)).in_file(self.span.file)
            }
            None => self.span,
        }
    }

    /// The part `r` as a string of its own.
    pub fn part(&self, r: Range<usize>) -> Str<'n> {
        let span = self.sub(r.clone());
        Str {
            text: self.text.get(r.clone()).unwrap_or(""),
            span,
            base: self
                .base
                .map(|b| b.saturating_add(u32::try_from(r.start).unwrap_or(u32::MAX))),
        }
    }

    /// The file offset of the first decoded byte, when verbatim.
    pub fn base(&self) -> Option<u32> {
        self.base
    }

    /// The value with the Dev Containers variables resolved ([`resolve`]), spanned.
    pub fn value(&self, workspace: &str) -> SValue {
        Spanned::new(resolve(self.text, workspace), self.span)
    }
}

/// Resolves the Dev Containers variables of `text`: `${localWorkspaceFolder}` is `workspace`
/// (the folder opened, relative to the `devcontainer.json`'s folder), `${localEnv:HOME}` and
/// `${localEnv:USERPROFILE}` are `~` (the home directory, which the mount rules judge). Any
/// other variable (`${localEnv:VAR}`, `${containerEnv:VAR}`, `${devcontainerId}`, …) depends on
/// the machine: the value is unknown, written as it is.
pub fn resolve(text: &str, workspace: &str) -> Value {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        let Some(close) = rest[at..].find('}') else {
            return Value::Unknown(text.to_string());
        };
        let name = &rest[at + 2..at + close];
        match name {
            "localWorkspaceFolder" => out.push_str(workspace),
            "localEnv:HOME" | "localEnv:USERPROFILE" => out.push('~'),
            _ => return Value::Unknown(text.to_string()),
        }
        rest = &rest[at + close + 1..];
    }
    out.push_str(rest);
    Value::Known(out)
}

/// Whether `text` starts with the workspace folder (`${localWorkspaceFolder}`), as the
/// source of a bind mount of the workspace or a part of it.
pub fn is_workspace_path(text: &str) -> bool {
    text.strip_prefix("${localWorkspaceFolder}")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The workspace folder relative to the folder of the `devcontainer.json` at `path`:
/// `.devcontainer/devcontainer.json` → `..`, `.devcontainer/<name>/devcontainer.json` →
/// `../..`, `.devcontainer.json` (and anything else) → `.`.
pub fn workspace_of(path: &std::path::Path) -> &'static str {
    let name = |p: Option<&std::path::Path>| {
        p.and_then(std::path::Path::file_name)
            .and_then(|n| n.to_str())
            .map(str::to_string)
    };
    let parent = path.parent();
    if name(parent).as_deref() == Some(".devcontainer") {
        return "..";
    }
    if name(parent.and_then(std::path::Path::parent)).as_deref() == Some(".devcontainer") {
        return "../..";
    }
    "."
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables() {
        assert_eq!(
            resolve("${localWorkspaceFolder}/x", ".."),
            Value::Known("../x".to_string())
        );
        assert_eq!(
            resolve("${localEnv:HOME}/.ssh", ".."),
            Value::Known("~/.ssh".to_string())
        );
        assert_eq!(
            resolve("${localEnv:FOO}/x", ".."),
            Value::Unknown("${localEnv:FOO}/x".to_string())
        );
        assert_eq!(resolve("${oops", "."), Value::Unknown("${oops".to_string()));
        assert!(is_workspace_path("${localWorkspaceFolder}"));
        assert!(is_workspace_path("${localWorkspaceFolder}/src"));
        assert!(!is_workspace_path("${localWorkspaceFolderBasename}"));
    }

    #[test]
    fn workspace_folder() {
        use std::path::Path;
        assert_eq!(
            workspace_of(Path::new("a/.devcontainer/devcontainer.json")),
            ".."
        );
        assert_eq!(
            workspace_of(Path::new("a/.devcontainer/py/devcontainer.json")),
            "../.."
        );
        assert_eq!(workspace_of(Path::new("a/.devcontainer.json")), ".");
    }
}
