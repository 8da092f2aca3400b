use crate::compose::model::{ComposeFile, VolumeKind};
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// A host bind mount that is not read-only.
pub struct WritableBindMount;

/// A bind made read-only: short syntax `:ro` (`./src:/app` → `./src:/app:ro`, `./src:/app:rw`
/// → `./src:/app:ro`, `./src:/app:z` → `./src:/app:z,ro`); long syntax `read_only: true`
/// added, or written over `false`. `None` for a Windows path, or anything else this cannot read
/// exactly.
fn ro_edit(
    text: &str,
    service: &crate::compose::model::Service,
    volume: &crate::compose::model::Volume,
) -> Option<(crate::source::Span, String)> {
    use crate::compose::edit::{insert_into_item, scalar_text, splice_scalar};
    let span = volume.span;
    if volume.long {
        return match volume.read_only_span {
            Some(ro) => {
                let len = scalar_text(text, service, ro)?.len();
                splice_scalar(text, service, ro, 0, len, "true")
            }
            None => insert_into_item(text, service, span, "read_only", "true"),
        };
    }
    let inner = scalar_text(text, service, span)?;
    let parts: Vec<&str> = inner.split(':').collect();
    match parts.as_slice() {
        [src, _] if src.len() > 1 => splice_scalar(text, service, span, inner.len(), 0, ":ro"),
        [src, _, opts] if src.len() > 1 => {
            let opts_at = inner.len() - opts.len();
            let list: Vec<&str> = opts.split(',').collect();
            if let Some(i) = list.iter().position(|o| *o == "rw") {
                let at = opts_at + list[..i].iter().map(|o| o.len() + 1).sum::<usize>();
                splice_scalar(text, service, span, at, 2, "ro")
            } else if opts.is_empty() {
                splice_scalar(text, service, span, inner.len(), 0, "ro")
            } else {
                splice_scalar(text, service, span, inner.len(), 0, ",ro")
            }
        }
        _ => None,
    }
}

impl Rule for WritableBindMount {
    fn meta(&self) -> &'static RuleMeta {
        docs::WRITABLE_BIND_MOUNT
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        let file = cx.file().clone();
        for service in &compose.services {
            for volume in &service.volumes {
                let mount = volume.mount(compose);
                if mount.kind != VolumeKind::Bind || mount.read_only {
                    continue;
                }
                // `container-socket-mount` reports these already.
                if super::socket_mount(&mount).is_some() {
                    continue;
                }
                let Some(source) = mount.source.and_then(|s| s.value.known()) else {
                    continue;
                };
                let help = if mount.via.is_some() {
                    "add `:ro` to the mount (or `ro` to the volume's `o:`), or use a named volume without `driver_opts`"
                } else {
                    "add `:ro` (long syntax: `read_only: true`), or keep written data in a named volume"
                };
                let fix = if mount.via.is_some() {
                    None
                } else {
                    super::editable(cx, service.span.file).and_then(|f| {
                        let edit = ro_edit(&f.text, service, volume);
                        super::fix_of(
                            &f,
                            crate::fix::Applicability::Unsafe,
                            if volume.long {
                                "mount it read-only (`read_only: true`)"
                            } else {
                                "mount it read-only (`:ro`)"
                            },
                            [edit],
                        )
                    })
                };
                let d = cx
                    .report(
                        volume.span,
                        format!(
                            "service `{}` bind-mounts `{}` writable{}",
                            super::svc(service),
                            crate::source::clip(source, 32),
                            super::through(&mount)
                        ),
                    )
                    .help(help);
                super::label_device(d, &file, &mount);
                super::attach(d, fix);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{findings, messages};

    const RULE: &str = "writable-bind-mount";

    #[test]
    fn short_syntax() {
        let text = "services:\n  web:\n    image: nginx\n    volumes:\n      - ./site:/srv\n      - ./conf:/etc/nginx:ro\n      - ./logs:/var/log:rw\n      - data:/data\n      - /anon\n      - /var/run/docker.sock:/var/run/docker.sock\nvolumes:\n  data: {}\n";
        assert_eq!(
            findings(RULE, text),
            vec![
                ("SLC010", "./site:/srv".to_string()),
                ("SLC010", "./logs:/var/log:rw".to_string())
            ]
        );
        assert_eq!(
            messages(RULE, text).first().map(String::as_str),
            Some("service `web` bind-mounts `./site` writable")
        );
    }

    #[test]
    fn long_syntax() {
        let text = "services:\n  web:\n    image: nginx\n    volumes:\n      - type: bind\n        source: ./a\n        target: /a\n      - type: bind\n        source: ./b\n        target: /b\n        read_only: true\n      - type: tmpfs\n        target: /tmp\n      - type: volume\n        source: data\n        target: /data\nvolumes:\n  data: {}\n";
        let found = findings(RULE, text);
        assert_eq!(found.len(), 1);
        assert!(found.iter().all(|(_, s)| s.contains("source: ./a")));
    }

    #[test]
    fn long_syntax_fix() {
        let text = "services:\n  web:\n    image: nginx\n    volumes:\n      - type: bind\n        source: ./a\n        target: /a # why\n      - type: bind\n        source: ./b\n        target: /b\n        read_only: \"false\"\n      - {type: bind, source: ./c, target: /c}\n      -\n        type: bind\n        source: ./d\n        target: /d\n";
        assert_eq!(
            super::super::test_util::fixed(RULE, text),
            "services:\n  web:\n    image: nginx\n    volumes:\n      - type: bind\n        source: ./a\n        target: /a # why\n        read_only: true\n      - type: bind\n        source: ./b\n        target: /b\n        read_only: \"true\"\n      - {type: bind, source: ./c, target: /c, read_only: true}\n      -\n        type: bind\n        source: ./d\n        target: /d\n        read_only: true\n"
        );
        // the item ends the service: its key stays inside it, before the service's own keys
        let text = "services:\n  web:\n    image: nginx\n    volumes:\n      - type: bind\n        source: ./a\n        target: /a\r\n\nnetworks: {}\n";
        let d = super::super::test_util::diagnostics("missing-no-new-privileges", text);
        let mut fixes: Vec<&crate::fix::Fix> = d.iter().filter_map(|d| d.fix.as_deref()).collect();
        let ro = super::super::test_util::diagnostics(RULE, text);
        fixes.extend(ro.iter().filter_map(|d| d.fix.as_deref()));
        let (out, done) = crate::fix::apply_round(text, fixes.iter().copied()).unwrap();
        assert_eq!(done.len(), 2);
        assert_eq!(
            out,
            "services:\n  web:\n    image: nginx\n    volumes:\n      - type: bind\n        source: ./a\n        target: /a\r\n        read_only: true\r\n    security_opt:\r\n      - no-new-privileges:true\r\n\nnetworks: {}\n"
        );
        // an entry from an anchor is not edited where it is used
        let text = "x-m: &m\n  type: bind\n  source: ./a\n  target: /a\nservices:\n  web:\n    image: nginx\n    volumes:\n      - *m\n";
        assert_eq!(super::super::test_util::fixed(RULE, text), text);
    }

    #[test]
    fn unknown_source_is_not_judged() {
        let text = "services:\n  web:\n    image: nginx\n    volumes:\n      - ${DATA_DIR}:/data\n";
        assert!(findings(RULE, text).is_empty());
    }

    #[test]
    fn named_volume_binds() {
        let text = "services:\n  web:\n    image: nginx\n    volumes:\n      - site:/srv\n      - site:/srv-ro:ro\n      - site-ro:/x\n      - rel:/r\n      - nfs:/n\n      - sock:/s\n      - proj:/p\nvolumes:\n  site:\n    driver_opts:\n      type: none\n      o: bind\n      device: /srv/site\n  site-ro:\n    driver_opts: {type: none, o: 'bind,ro', device: /srv/site}\n  rel:\n    driver_opts: {type: none, o: bind, device: ./data}\n  nfs:\n    driver_opts: {type: nfs, o: 'addr=10.0.0.1,rw', device: ':/export'}\n  sock:\n    driver_opts: {type: none, o: bind, device: /var/run/docker.sock}\n  proj:\n    driver: local\n    driver_opts: {type: none, o: bind, device: ./data}\n";
        assert_eq!(
            super::super::test_util::located(RULE, text),
            vec![
                (
                    "site:/srv".to_string(),
                    "service `web` bind-mounts `/srv/site` writable through named volume `site`"
                        .to_string(),
                    vec![(
                        "/srv/site".to_string(),
                        "named volume `site` binds host path `/srv/site`".to_string()
                    )]
                ),
                (
                    "rel:/r".to_string(),
                    "service `web` bind-mounts `./data` writable through named volume `rel`"
                        .to_string(),
                    vec![(
                        "./data".to_string(),
                        "named volume `rel` binds host path `./data` (relative to the Docker daemon's directory, not the project)".to_string()
                    )]
                ),
                // `driver: local` and `o: bind`: Compose resolves `./data` in the project
                (
                    "proj:/p".to_string(),
                    "service `web` bind-mounts `./data` writable through named volume `proj`"
                        .to_string(),
                    vec![(
                        "./data".to_string(),
                        "named volume `proj` binds host path `./data`".to_string()
                    )]
                ),
            ]
        );
    }
}
