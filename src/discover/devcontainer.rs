//! Where the Dev Containers tools look for a `devcontainer.json`.

use std::path::Path;

/// Where the Dev Containers tools look for a configuration (exact names, as they do):
/// `.devcontainer/devcontainer.json`, `.devcontainer.json`, and
/// `.devcontainer/<name>/devcontainer.json` (one folder deep).
pub fn is_devcontainer_path(path: &Path) -> bool {
    fn name(p: Option<&Path>) -> Option<&str> {
        p.and_then(Path::file_name).and_then(|n| n.to_str())
    }
    match name(Some(path)) {
        Some(".devcontainer.json") => true,
        Some("devcontainer.json") => {
            let parent = path.parent();
            name(parent) == Some(".devcontainer")
                || name(parent.and_then(Path::parent)) == Some(".devcontainer")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::is_devcontainer_path;
    use std::path::Path;

    #[test]
    fn the_three_places() {
        for yes in [
            "p/.devcontainer/devcontainer.json",
            ".devcontainer/devcontainer.json",
            "p/.devcontainer.json",
            "p/.devcontainer/python/devcontainer.json",
        ] {
            assert!(is_devcontainer_path(Path::new(yes)), "{yes}");
        }
        for no in [
            "p/devcontainer.json",
            "p/.devcontainer/a/b/devcontainer.json",
            "p/.devcontainer/devcontainer.jsonc",
            "p/.devcontainer/Devcontainer.json",
        ] {
            assert!(!is_devcontainer_path(Path::new(no)), "{no}");
        }
    }
}
