use crate::dockerfile::analysis;
use crate::dockerfile::model::{Dockerfile, Keyword};
use crate::dockerfile::semantics;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// SLD019: `WORKDIR` or `VOLUME` under a kernel or boot filesystem.
pub struct SensitivePathWorkdirVolume;

const SENSITIVE: &[&str] = &["/proc", "/sys", "/dev", "/boot"];

/// `path` with `.`/`..`/`//` resolved (it must be absolute).
fn normalize(path: &str) -> Option<String> {
    if !path.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    Some(format!("/{}", parts.join("/")))
}

/// The sensitive tree `path` is in.
fn sensitive_root(path: &str) -> Option<&'static str> {
    let path = normalize(path)?;
    SENSITIVE
        .iter()
        .find(|s| path == **s || path.starts_with(&format!("{s}/")))
        .copied()
}

impl Rule for SensitivePathWorkdirVolume {
    fn meta(&self) -> &'static RuleMeta {
        docs::SENSITIVE_PATH_WORKDIR_VOLUME
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        let mut all = analysis::instructions_of(df, Keyword::Workdir);
        all.extend(analysis::instructions_of(df, Keyword::Volume));
        all.sort_by_key(|l| l.ins.span.start);
        for loc in all {
            let keyword = loc.ins.kind.as_str().to_ascii_uppercase();
            for arg in loc.ins.paths() {
                let path = semantics::expand_with_args(df, arg.path, loc.scope())
                    .unwrap_or_else(|| arg.path.to_string());
                let Some(root) = sensitive_root(&path) else {
                    continue;
                };
                cx.report(
                    arg.span,
                    format!(
                        "`{keyword} {}` is under `{root}`",
                        analysis::snippet(&path, 50)
                    ),
                )
                .help(format!(
                    "use an application directory such as `/app` or `/data`; `{root}` belongs to the kernel or the host"
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::{findings, spans};

    const R: &str = "sensitive-path-workdir-volume";

    #[test]
    fn flags_paths() {
        assert_eq!(
            findings(R, "FROM a:1\nVOLUME /data /dev/shm\n"),
            vec![(
                "SLD019",
                "2:14-2:22".to_string(),
                "`VOLUME /dev/shm` is under `/dev`".to_string()
            )]
        );
        assert_eq!(
            spans(
                R,
                "FROM a:1\nWORKDIR /proc\nVOLUME [\"/sys/fs/cgroup\"]\nARG B=/boot\nWORKDIR $B/efi\nWORKDIR /app/../dev\n"
            ),
            vec!["/proc", "\"/sys/fs/cgroup\"", "$B/efi", "/app/../dev"]
        );
    }

    #[test]
    fn not_flagged() {
        for text in [
            "FROM a:1\nWORKDIR /app\nVOLUME /data\n",
            "FROM a:1\nWORKDIR /devices\nWORKDIR /system\nVOLUME /bootstrap\n",
            "FROM a:1\nWORKDIR proc\n",
        ] {
            assert_eq!(spans(R, text), Vec::<String>::new(), "{text}");
        }
    }
}
