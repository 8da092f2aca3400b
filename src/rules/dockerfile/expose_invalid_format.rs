use crate::dockerfile::model::{Dockerfile, Keyword, unquote};
use crate::docs::{self, RuleMeta};
use crate::fix::Applicability;
use crate::rules::{Ctx, Rule};

/// SLD034: `EXPOSE` with an IP address or a host port (BuildKit's `ExposeInvalidFormat`).
pub struct ExposeInvalidFormat;

impl Rule for ExposeInvalidFormat {
    fn meta(&self) -> &'static RuleMeta {
        docs::EXPOSE_INVALID_FORMAT
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        let file = cx.file().clone();
        for ins in df.instructions.iter().filter(|i| i.kind == Keyword::Expose) {
            for port in ins.ports() {
                let written = unquote(port.written);
                if written.contains('$') || !has_ip_or_host_port(written) {
                    continue;
                }
                let shown = crate::dockerfile::analysis::snippet(written, 40);
                // the container part, `[ip:][host]:container[/proto]`, written as it is read
                let container = written.rsplit(':').next().unwrap_or("");
                let exact = file.slice(port.span) == written && !container.is_empty();
                let d = cx
                    .report(
                        port.span,
                        format!("`EXPOSE {shown}` names an IP address or a host port"),
                    )
                    .help("`EXPOSE` takes the container port only (`EXPOSE 8080`); publish it with `docker run -p` or Compose `ports:`, which choose the host side");
                if exact {
                    d.fix(super::fix_of(
                        &file,
                        Applicability::Safe,
                        format!(
                            "keep the container port `{}`",
                            crate::dockerfile::analysis::snippet(container, 40)
                        ),
                        [(port.span, container.to_owned())],
                    ));
                }
            }
        }
    }
}

/// BuildKit's `splitParts` (`[ip:]host_port:container_port`): whether the IP or the host port
/// is given (not empty).
fn has_ip_or_host_port(spec: &str) -> bool {
    let parts: Vec<&str> = spec.split(':').collect();
    match parts.as_slice() {
        [_] => false,
        [host, _] => !host.is_empty(),
        [.., host, _] => {
            let ip_len = spec.len() - host.len() - parts[parts.len() - 1].len() - 2;
            ip_len > 0 || !host.is_empty()
        }
        [] => false,
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::findings;

    #[test]
    fn flags_host_parts() {
        let f = findings(
            "expose-invalid-format",
            "FROM a:1\nEXPOSE 80 8080:80 127.0.0.1:53:53/udp :90 [::1]:1:2\n",
        );
        assert_eq!(
            f.iter().map(|f| f.1.as_str()).collect::<Vec<_>>(),
            ["2:11-2:18", "2:19-2:38", "2:43-2:52"]
        );
        assert_eq!(
            f[0].2,
            "`EXPOSE 8080:80` names an IP address or a host port"
        );
        assert!(!super::has_ip_or_host_port("::90"));
    }
}
