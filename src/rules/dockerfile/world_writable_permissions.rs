use crate::dockerfile::analysis;
use crate::dockerfile::model::Dockerfile;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

use crate::dockerfile::analysis::ModeEffect;

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
        for site in analysis::mode_sites(df) {
            if !is_world_writable(site.effect) {
                continue;
            }
            cx.report(site.span, format!("`{}` makes {} world-writable", site.written, site.target))
                .help(
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
