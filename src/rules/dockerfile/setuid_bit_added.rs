use crate::dockerfile::analysis;
use crate::dockerfile::model::Dockerfile;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

use crate::dockerfile::analysis::ModeEffect;

/// SLD015: setuid or setgid bits set on files.
pub struct SetuidBitAdded;

/// "the setuid bit", "the setgid bit", "the setuid and setgid bits"; `None` when neither is set.
fn bits(e: ModeEffect) -> Option<&'static str> {
    match (e.setuid, e.setgid) {
        (true, true) => Some("the setuid and setgid bits"),
        (true, false) => Some("the setuid bit"),
        (false, true) => Some("the setgid bit"),
        (false, false) => None,
    }
}

impl Rule for SetuidBitAdded {
    fn meta(&self) -> &'static RuleMeta {
        docs::SETUID_BIT_ADDED
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        // Directories each RUN creates with `mkdir` (a setgid directory only passes its group on).
        let mut made_dirs: Vec<(usize, String)> = Vec::new();
        analysis::for_each_run_command(df, &mut |run, cmd, _| {
            if cmd.program() == Some("mkdir") {
                for a in cmd.args().iter().filter(|a| !a.value.starts_with('-')) {
                    made_dirs.push((run.index, a.value.trim_end_matches('/').to_string()));
                }
            }
        });
        for site in analysis::mode_sites(df) {
            let effect = site.effect;
            let on_dirs = site.dirs_only
                || effect.sticky
                || (!site.targets.is_empty()
                    && site.targets.iter().all(|t| {
                        let t = t.trim_end_matches('/');
                        made_dirs
                            .iter()
                            .any(|(i, d)| Some(*i) == site.run_index && d == t)
                    }));
            if !effect.setuid && on_dirs {
                continue;
            }
            let Some(what) = bits(effect) else { continue };
            cx.report(site.span, format!("`{}` sets {what} on {}", site.written, site.target))
                .help(
                    "drop the setuid/setgid bit: grant the one capability the program needs (`setcap`), or run it as the right user",
                );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::{findings, spans};

    const R: &str = "setuid-bit-added";

    fn run(cmd: &str) -> Vec<String> {
        spans(R, &format!("FROM debian:12\nRUN {cmd}\n"))
    }

    #[test]
    fn message_and_span() {
        assert_eq!(
            findings(R, "FROM a:1\nRUN chmod u+s /usr/local/bin/tool\n"),
            vec![(
                "SLD015",
                "2:11-2:14".to_string(),
                "`chmod u+s` sets the setuid bit on `/usr/local/bin/tool`".to_string()
            )]
        );
    }

    #[test]
    fn flagged() {
        for (cmd, want) in [
            ("chmod 4755 /x", "4755"),
            ("chmod 2755 /x", "2755"),
            ("chmod 6755 /x", "6755"),
            ("chmod 04755 /x", "04755"),
            ("chmod g+s /x", "g+s"),
            ("chmod +s /x", "+s"),
            ("chmod ug+rs /x", "ug+rs"),
            ("install -m 4755 tool /usr/bin/tool", "4755"),
            ("mkdir -p /srv/a && chmod g+s /srv/a /srv/b", "g+s"),
        ] {
            assert_eq!(run(cmd), vec![want.to_string()], "{cmd}");
        }
        assert_eq!(
            spans(R, "FROM a:1\nCOPY --chmod=4755 tool /usr/bin/\n"),
            vec!["4755"]
        );
    }

    #[test]
    fn not_flagged() {
        for cmd in [
            "chmod 755 /x",
            "chmod 1777 /tmp",
            "chmod u-s /usr/bin/x",
            "chmod a-s /usr/bin/x",
            "find / -perm /6000 -type f -exec chmod a-s {} +",
            "chmod 0755 /x",
            "mkdir -m 2775 /srv/shared",
            "install -d -m 3777 /var/run/app",
            "mkdir -p /srv/shared && chmod g+s /srv/shared",
            "chmod 3777 /var/run/app",
            "find /opt -type d -exec chmod g+s {} +",
        ] {
            assert_eq!(run(cmd), Vec::<String>::new(), "{cmd}");
        }
    }
}
