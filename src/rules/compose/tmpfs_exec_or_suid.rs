use crate::compose::model::ComposeFile;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// A service `tmpfs:` entry that turns `exec` or `suid` back on.
pub struct TmpfsExecOrSuid;

/// The options of `path:opt,opt` that undo Docker's `noexec,nosuid` default (the last of
/// `exec`/`noexec` and of `suid`/`nosuid` wins, as in the daemon).
fn enabled(entry: &str) -> Vec<&'static str> {
    let Some((_, options)) = entry.split_once(':') else {
        return Vec::new();
    };
    let (mut exec, mut suid) = (false, false);
    for option in options.split(',').map(str::trim) {
        match option {
            "exec" => exec = true,
            "noexec" => exec = false,
            "suid" => suid = true,
            "nosuid" => suid = false,
            _ => {}
        }
    }
    let mut out = Vec::new();
    if exec {
        out.push("exec");
    }
    if suid {
        out.push("suid");
    }
    out
}

impl Rule for TmpfsExecOrSuid {
    fn meta(&self) -> &'static RuleMeta {
        docs::TMPFS_EXEC_OR_SUID
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        for service in &compose.services {
            for entry in &service.tmpfs {
                let Some(text) = entry.value.known() else {
                    continue;
                };
                let on = enabled(text);
                if on.is_empty() {
                    continue;
                }
                let path = text.split(':').next().unwrap_or(text).trim();
                cx.report(
                    entry.span,
                    format!(
                        "service `{}` mounts tmpfs `{}` with `{}`",
                        super::svc(service),
                        crate::source::clip(path, 24),
                        on.join(",")
                    ),
                )
                .help(format!(
                    "remove `{}` (Docker mounts tmpfs `noexec,nosuid` by default)",
                    on.join("`, `")
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{findings, messages};
    use super::enabled;

    const RULE: &str = "tmpfs-exec-or-suid";

    #[test]
    fn options() {
        assert_eq!(enabled("/tmp:exec"), vec!["exec"]);
        assert_eq!(enabled("/tmp:size=1m,suid,exec"), vec!["exec", "suid"]);
        assert_eq!(enabled("/tmp:exec,noexec"), Vec::<&str>::new());
        assert_eq!(enabled("/tmp"), Vec::<&str>::new());
        assert_eq!(enabled("/tmp:size=64m,mode=1777"), Vec::<&str>::new());
    }

    #[test]
    fn flags_explicit_exec_or_suid() {
        let text = "services:\n  a:\n    image: x:1\n    tmpfs:\n      - /tmp:exec,size=64m\n      - /run\n      - /var/tmp:nosuid\n    volumes:\n      - type: tmpfs\n        target: /cache\n";
        assert_eq!(
            findings(RULE, text),
            vec![("SLC027", "/tmp:exec,size=64m".to_string())]
        );
        assert_eq!(
            messages(RULE, text),
            vec!["service `a` mounts tmpfs `/tmp` with `exec`"]
        );
        let one = "services:\n  a:\n    image: x:1\n    tmpfs: /build:suid\n";
        assert_eq!(findings(RULE, one).len(), 1);
    }
}
