use crate::dockerfile::analysis;
use crate::dockerfile::model::{Dockerfile, Keyword, split_port};
use crate::dockerfile::packages::{self, Manager};
use crate::dockerfile::semantics;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};
use crate::source::Span;

/// SLD016: an SSH server installed in the image, or port 22 exposed.
pub struct SshServerInstalled;

/// SSH server packages, for every package manager.
const SERVERS: &[&str] = &[
    "openssh-server",
    "dropbear",
    "dropbear-bin",
    "dropbear-run",
    "sshd",
    "tinysshd",
];

/// The package is an SSH server for this package manager.
fn is_ssh_server(manager: Manager, package: &str) -> bool {
    let lower = package.to_ascii_lowercase();
    let name = lower
        .split(['=', '<', '>', '~', ':'])
        .next()
        .unwrap_or(&lower);
    let name = name.split('/').next().unwrap_or(name);
    let versioned = |pkg: &str| {
        name.strip_prefix(pkg)
            .and_then(|r| r.strip_prefix('-'))
            .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
    };
    if SERVERS.iter().any(|s| name == *s || versioned(s)) {
        return true;
    }
    // Meta packages that pull in the server: Debian's `ssh`, Alpine's `openssh`.
    match manager {
        Manager::Apt => name == "ssh",
        Manager::Apk => name == "openssh",
        _ => false,
    }
}

impl Rule for SshServerInstalled {
    fn meta(&self) -> &'static RuleMeta {
        docs::SSH_SERVER_INSTALLED
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        let mut found: Vec<(Span, String, &str)> = Vec::new();
        analysis::for_each_run_command(df, &mut |_, cmd, origin| {
            // the system package managers' installs (a module stream is not a package)
            let Some(install) = packages::install_of(cmd).filter(|i| {
                !i.module
                    && matches!(
                        i.manager,
                        Manager::Apt | Manager::Apk | Manager::Rpm | Manager::Zypper
                    )
            }) else {
                return;
            };
            let manager = install.program.as_str();
            for p in &install.packages {
                if is_ssh_server(install.manager, &p.value) {
                    let meta = matches!(p.value.to_ascii_lowercase().as_str(), "ssh" | "openssh");
                    let message = if meta {
                        format!(
                            "`{manager}` installs `{}`, which includes the SSH server",
                            analysis::snippet(&p.value, 40)
                        )
                    } else {
                        format!(
                            "`{manager}` installs SSH server package `{}`",
                            analysis::snippet(&p.value, 40)
                        )
                    };
                    found.push((
                        origin.word(p),
                        message,
                        "don't run an SSH server in a container: use `docker exec` for access, and install only the client (`openssh-client`) if you need `ssh`",
                    ));
                }
            }
        });
        for loc in analysis::instructions_of(df, Keyword::Expose) {
            for arg in loc.ins.ports() {
                let value = semantics::expand_with_args(df, arg.written, loc.scope())
                    .unwrap_or_else(|| arg.written.to_string());
                let (port, _) = split_port(&value);
                if port == "22" {
                    found.push((
                        arg.span,
                        format!("port `{}` (SSH) is exposed", analysis::snippet(&value, 20)),
                        "remove `EXPOSE 22`: use `docker exec` for shell access instead of an SSH server",
                    ));
                }
            }
        }
        found.sort_by_key(|(s, _, _)| (s.start, s.end));
        for (span, message, help) in found {
            cx.report(span, message).help(help);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::{findings, spans};

    const R: &str = "ssh-server-installed";

    fn run(cmd: &str) -> Vec<String> {
        spans(R, &format!("FROM debian:12\nRUN {cmd}\n"))
    }

    #[test]
    fn message_and_span() {
        assert_eq!(
            findings(
                R,
                "FROM a:1\nRUN apt-get install -y openssh-server\nEXPOSE 80 22/tcp\n"
            ),
            vec![
                (
                    "SLD016",
                    "2:24-2:38".to_string(),
                    "`apt-get` installs SSH server package `openssh-server`".to_string()
                ),
                (
                    "SLD016",
                    "3:11-3:17".to_string(),
                    "port `22/tcp` (SSH) is exposed".to_string()
                ),
            ]
        );
    }

    #[test]
    fn flagged() {
        for (cmd, want) in [
            (
                "apt-get update && apt-get install -y --no-install-recommends curl openssh-server=1:9.2p1-2",
                "openssh-server=1:9.2p1-2",
            ),
            ("apt-get install -y ssh", "ssh"),
            ("apk add --no-cache openssh", "openssh"),
            ("apk add dropbear", "dropbear"),
            (
                "yum install -y openssh-server-8.0p1",
                "openssh-server-8.0p1",
            ),
            ("dnf -y install openssh-server", "openssh-server"),
            ("zypper in -y openssh-server", "openssh-server"),
        ] {
            assert_eq!(run(cmd), vec![want.to_string()], "{cmd}");
        }
        assert_eq!(spans(R, "FROM a:1\nARG P=22\nEXPOSE $P\n"), vec!["$P"]);
    }

    #[test]
    fn not_flagged() {
        for cmd in [
            "apt-get install -y openssh-client",
            "apk add openssh-client",
            "yum install -y openssh openssh-clients",
            "apt-get install -y -t bookworm-backports ssh-askpass",
            "apt-get remove -y openssh-server",
            "echo openssh-server",
        ] {
            assert_eq!(run(cmd), Vec::<String>::new(), "{cmd}");
        }
        assert_eq!(
            spans(R, "FROM a:1\nEXPOSE 2222 8022/tcp\n"),
            Vec::<String>::new()
        );
    }
}
