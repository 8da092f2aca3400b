use crate::dockerfile::model::{Dockerfile, Keyword, unquote};
use crate::docs::{self, RuleMeta};
use crate::fix::Applicability;
use crate::rules::{Ctx, Rule};

/// SLD033: `EXPOSE 80/TCP` (BuildKit's `ExposeProtoCasing`).
pub struct ExposeProtoCasing;

impl Rule for ExposeProtoCasing {
    fn meta(&self) -> &'static RuleMeta {
        docs::EXPOSE_PROTO_CASING
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        let file = cx.file().clone();
        for ins in df.instructions.iter().filter(|i| i.kind == Keyword::Expose) {
            for port in ins.ports() {
                let written = unquote(port.written);
                // a port from a variable is not known here
                if written.contains('$') {
                    continue;
                }
                // BuildKit's `splitProtoPort`: the protocol is the part after the first `/`
                let Some(proto) = written.split('/').nth(1) else {
                    continue;
                };
                if proto != proto.to_lowercase() {
                    let shown = crate::dockerfile::analysis::snippet(written, 40);
                    let raw = file.slice(port.span);
                    let fixed = raw
                        .split_once('/')
                        .map(|(p, rest)| format!("{p}/{}", rest.to_lowercase()));
                    let d = cx
                        .report(
                            port.span,
                            format!("protocol of `EXPOSE {shown}` is not lowercase"),
                        )
                        .help(format!(
                            "write `/{}`",
                            crate::dockerfile::analysis::snippet(&proto.to_lowercase(), 20)
                        ));
                    // one piece of text with no escape: lowercasing the protocol is exact
                    if let Some(fixed) = fixed.filter(|_| !raw.contains(['\\', '`', '\n'])) {
                        d.fix(super::fix_of(
                            &file,
                            Applicability::Safe,
                            "write the protocol in lower case",
                            [(port.span, fixed)],
                        ));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::findings;

    #[test]
    fn flags_upper_case_protocols() {
        let f = findings(
            "expose-proto-casing",
            "FROM a:1\nEXPOSE 80/TCP 53/udp 443 8000-8010/Udp $P/TCP\n",
        );
        assert_eq!(
            f.iter().map(|f| f.1.as_str()).collect::<Vec<_>>(),
            ["2:8-2:14", "2:26-2:39"]
        );
        assert_eq!(f[0].2, "protocol of `EXPOSE 80/TCP` is not lowercase");
    }
}
