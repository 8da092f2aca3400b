use crate::dockerfile::model::{Dockerfile, Keyword};
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};
use crate::source::Span;

use super::ModeEffect;

/// SLD014: files or directories made writable by every user.
pub struct WorldWritablePermissions;

/// Other-write without the sticky bit (`chmod 1777 /tmp` is the norm for shared directories).
fn is_world_writable(e: ModeEffect) -> bool {
    e.world_write && !e.sticky
}

impl Rule for WorldWritablePermissions {
    fn meta(&self) -> &'static RuleMeta {
        docs::WORLD_WRITABLE_PERMISSIONS
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        let mut found: Vec<(Span, String)> = Vec::new();
        super::for_each_run_command(df, &mut |_, cmd, origin| {
            let Some(set) = super::mode_sets(cmd) else {
                return;
            };
            if !super::mode_effect(set.value).is_some_and(is_world_writable) {
                return;
            }
            let prog = match cmd.program() {
                Some(p @ ("mkdir" | "install")) => format!("{p} -m"),
                _ => "chmod".to_string(),
            };
            let target = set.targets.first().map_or_else(
                || "files".to_string(),
                |t| format!("`{}`", super::snippet(&t.value, 40)),
            );
            let span = origin.word_part(set.mode, set.offset, set.offset + set.value.len());
            found.push((
                span,
                format!(
                    "`{prog} {}` makes {target} world-writable",
                    super::snippet(set.value, 20)
                ),
            ));
        });
        let mut copies = super::instructions_of(df, Keyword::Copy);
        copies.extend(super::instructions_of(df, Keyword::Add));
        for loc in copies {
            let Some(flag) = loc.ins.flag("chmod") else {
                continue;
            };
            let (Some(raw), Some(value)) = (&flag.value, flag.unquoted_value()) else {
                continue;
            };
            if super::mode_effect(&value).is_some_and(is_world_writable) {
                let keyword = loc.ins.keyword.value.to_ascii_uppercase();
                found.push((
                    raw.span,
                    format!(
                        "`{keyword} --chmod={}` makes the copied files world-writable",
                        super::snippet(&value, 20)
                    ),
                ));
            }
        }
        found.sort_by_key(|(s, _)| (s.start, s.end));
        for (span, message) in found {
            cx.report(span, message).help(
                "grant write access to the user that needs it (`chown 10001 <path>` with mode 755/644), or use `1777` for a shared scratch directory",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::{findings, spans};

    const R: &str = "world-writable-permissions";

    fn run(cmd: &str) -> Vec<String> {
        spans(R, &format!("FROM debian:12\nRUN {cmd}\n"))
    }

    #[test]
    fn message_and_span() {
        assert_eq!(
            findings(R, "FROM a:1\nRUN chmod -R 777 /app\n"),
            vec![(
                "SLD014",
                "2:14-2:17".to_string(),
                "`chmod 777` makes `/app` world-writable".to_string()
            )]
        );
        assert_eq!(
            findings(R, "FROM a:1\nCOPY --chmod=0666 a /a\n"),
            vec![(
                "SLD014",
                "2:14-2:18".to_string(),
                "`COPY --chmod=0666` makes the copied files world-writable".to_string()
            )]
        );
    }

    #[test]
    fn flagged() {
        for (cmd, want) in [
            ("chmod 0777 /data", "0777"),
            ("chmod 666 /etc/app.conf", "666"),
            ("chmod 772 /x", "772"),
            ("chmod o+w /x", "o+w"),
            ("chmod a+rwx /x", "a+rwx"),
            ("chmod ugo+w /x", "ugo+w"),
            ("chmod u+x,o=rwx /x", "u+x,o=rwx"),
            ("mkdir -p -m 777 /cache", "777"),
            ("mkdir --mode=777 /cache", "777"),
            ("install -d -m0777 /cache", "0777"),
            ("find /app -type d -exec chmod 777 {} +", "777"),
            ("sh -c 'chmod 777 /x'", "777"),
        ] {
            assert_eq!(run(cmd), vec![want.to_string()], "{cmd}");
        }
    }

    #[test]
    fn not_flagged() {
        for cmd in [
            "chmod 1777 /tmp",
            "chmod a+rwxt /shared",
            "chmod 755 /app",
            "chmod +x /entrypoint.sh",
            "chmod +w /x",
            "chmod u+w,g+w /x",
            "chmod o-w /x",
            "chmod -R go-w /app",
            "chmod $MODE /x",
            "mkdir -p /app",
            "echo chmod 777",
        ] {
            assert_eq!(run(cmd), Vec::<String>::new(), "{cmd}");
        }
    }
}
