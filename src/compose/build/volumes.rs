//! Top-level `volumes:` definitions: `name:` (null), `name: {}` or the full mapping.

use super::super::model::{ComposeFile, DriverOpts, SValue, Value, VolumeDef};
use super::super::yaml::Node;
use super::{Ctx, map_entries};
use crate::source::Spanned;

/// Adds the definitions of a top-level `volumes:` mapping to `file` (anything else is skipped).
pub(super) fn definitions(ctx: &mut Ctx<'_>, node: &Node, file: &mut ComposeFile) {
    for (name, e) in map_entries(node) {
        let mut def = VolumeDef {
            name: Spanned::new(name.to_string(), e.key.span),
            driver: None,
            driver_opts: None,
            external: None,
            volume_name: None,
        };
        for (k, e) in map_entries(e.value) {
            match k {
                "driver" => def.driver = ctx.value(e.value),
                "name" => def.volume_name = ctx.value(e.value),
                "external" => {
                    // legacy `external: { name: x }` means external
                    def.external = if e.value.as_map().is_some() {
                        Some(Spanned::new(Value::Known("true".to_string()), e.value.span))
                    } else {
                        ctx.value(e.value)
                    };
                }
                "driver_opts" if e.value.as_map().is_some() => {
                    def.driver_opts = Some(driver_opts(ctx, e.key.span, e.value));
                }
                _ => {}
            }
        }
        file.volumes.insert(def);
    }
}

fn driver_opts(ctx: &mut Ctx<'_>, span: crate::source::Span, node: &Node) -> DriverOpts {
    let mut opts = DriverOpts {
        span,
        fs_type: None,
        o: None,
        device: None,
    };
    for (k, e) in map_entries(node) {
        let slot: &mut Option<SValue> = match k {
            "type" => &mut opts.fs_type,
            "o" => &mut opts.o,
            "device" => &mut opts.device,
            _ => continue,
        };
        *slot = ctx.value(e.value);
    }
    opts
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::{Path, PathBuf};

    use crate::compose::model::{ComposeFile, VolumeKind};
    use crate::compose::{Vars, load};
    use crate::fsread::ReadError;
    use crate::source::{FileRef, SourceFile};

    fn text_at(text: &str, span: crate::source::Span) -> &str {
        text.get(span.range()).unwrap_or("<bad span>")
    }

    const DEFS: &str = "services:\n  a:\n    image: x\nvolumes:\n  data:\n  empty: {}\n  etc:\n    driver: local\n    driver_opts:\n      type: none\n      o: bind\n      device: /etc\n  nfs:\n    driver_opts: {type: nfs, o: \"addr=10.0.0.1,rw\", device: \":/export\"}\n  ext:\n    external: {name: other}\n  named:\n    name: real-name\n    driver_opts:\n      size: 5\n";

    #[test]
    fn every_form_is_a_definition_with_spans() {
        let f = load(DEFS, &Vars::new());
        let names: Vec<&str> = f.volumes.iter().map(|d| d.name.value.as_str()).collect();
        assert_eq!(names, ["data", "empty", "etc", "nfs", "ext", "named"]);
        let etc = f.volumes.get("etc").unwrap();
        assert_eq!(text_at(DEFS, etc.name.span), "etc");
        assert_eq!(
            etc.driver.as_ref().and_then(|d| d.value.known()),
            Some("local")
        );
        let opts = etc.driver_opts.as_ref().unwrap();
        assert_eq!(text_at(DEFS, opts.span), "driver_opts");
        let at =
            |v: &Option<crate::compose::model::SValue>| text_at(DEFS, v.as_ref().unwrap().span);
        assert_eq!(at(&opts.fs_type), "none");
        assert_eq!(at(&opts.o), "bind");
        assert_eq!(at(&opts.device), "/etc");
        let nfs = f.volumes.get("nfs").unwrap().driver_opts.as_ref().unwrap();
        assert_eq!(at(&nfs.device), "\":/export\"");
        assert_eq!(
            nfs.o.as_ref().and_then(|o| o.value.known()),
            Some("addr=10.0.0.1,rw")
        );
        let ext = f.volumes.get("ext").unwrap();
        assert_eq!(
            ext.external.as_ref().and_then(|e| e.value.as_bool()),
            Some(true)
        );
        let named = f.volumes.get("named").unwrap();
        assert_eq!(at(&named.volume_name), "real-name");
        assert!(f.volumes.get("data").unwrap().driver_opts.is_none());
        assert!(f.volumes.get("nope").is_none());
    }

    #[test]
    fn only_local_binds_are_host_binds() {
        let f = load(DEFS, &Vars::new());
        let bind = |name: &str| f.volumes.get(name).and_then(|d| d.host_bind());
        let etc = bind("etc").unwrap();
        assert_eq!(etc.device.value.known(), Some("/etc"));
        assert!(!etc.read_only);
        for name in ["data", "empty", "nfs", "ext", "named"] {
            assert!(bind(name).is_none(), "{name}");
        }
        let one = |opts: &str| {
            let text = format!("volumes:\n  v:\n{opts}");
            let f = load(&text, &Vars::new());
            f.volumes
                .get("v")
                .and_then(|d| d.host_bind())
                .map(|b| b.read_only)
        };
        let local = |o: &str| {
            one(&format!(
                "    driver_opts: {{type: none, o: '{o}', device: /srv}}\n"
            ))
        };
        assert_eq!(local("bind"), Some(false));
        assert_eq!(local("rbind"), Some(false));
        assert_eq!(local("bind,ro"), Some(true));
        assert_eq!(local(" ro , bind "), Some(true));
        assert_eq!(local("ro,bind,rw"), Some(false));
        assert_eq!(local("addr=bind,nobind"), None);
        assert_eq!(local("${OPTS}"), None);
        // the type does not matter to a bind (mount(2) ignores it with MS_BIND)
        assert_eq!(
            one("    driver_opts: {type: ext4, o: bind, device: /srv}\n"),
            Some(false)
        );
        assert_eq!(
            one("    driver_opts: {type: ext4, device: /dev/sdb1}\n"),
            None
        );
        assert_eq!(one("    driver_opts: {type: none, o: bind}\n"), None);
        assert_eq!(
            one(
                "    driver: local-persist\n    driver_opts: {type: none, o: bind, device: /srv}\n"
            ),
            None
        );
        assert_eq!(
            one("    external: true\n    driver_opts: {type: none, o: bind, device: /srv}\n"),
            None
        );
    }

    /// compose-go resolves `device:` as a path only with `driver: local` written and `o`
    /// exactly `bind` (checked against `docker compose config`, v2.40).
    #[test]
    fn which_devices_compose_resolves() {
        let resolved = |def: &str| {
            let text = format!("volumes:\n  v:\n{def}");
            let f = load(&text, &Vars::new());
            f.volumes
                .get("v")
                .and_then(|d| d.host_bind())
                .map(|b| b.resolved_by_compose)
        };
        let opts = |o: &str| format!("    driver_opts: {{type: none, o: '{o}', device: ./data}}\n");
        assert_eq!(
            resolved(&format!("    driver: local\n{}", opts("bind"))),
            Some(true)
        );
        assert_eq!(resolved(&opts("bind")), Some(false));
        assert_eq!(
            resolved(&format!("    driver: local\n{}", opts("bind,ro"))),
            Some(false)
        );
        assert_eq!(
            resolved(&format!("    driver: local\n{}", opts("rbind"))),
            Some(false)
        );
    }

    #[test]
    fn a_named_use_resolves_to_the_bind() {
        let text = "services:\n  a:\n    image: x\n    volumes:\n      - etc:/host-etc\n      - etc:/ro:ro\n      - type: volume\n        source: etc\n        target: /long\n      - data:/data\n      - /etc:/plain\nvolumes:\n  etc:\n    driver_opts: {type: none, o: bind, device: /etc}\n  data:\n";
        let f: ComposeFile = load(text, &Vars::new());
        let mounts: Vec<_> = f.services[0]
            .volumes
            .iter()
            .map(|v| {
                let m = v.mount(&f);
                (
                    m.kind,
                    m.source.map(|s| text_at(text, s.span)),
                    m.read_only,
                    m.via.map(|b| b.volume.name.value.as_str()),
                    text_at(text, m.at),
                )
            })
            .collect();
        use VolumeKind::{Bind, Volume};
        assert_eq!(
            mounts,
            [
                (Bind, Some("/etc"), false, Some("etc"), "etc"),
                (Bind, Some("/etc"), true, Some("etc"), "etc"),
                (Bind, Some("/etc"), false, Some("etc"), "etc"),
                (Volume, Some("data"), false, None, "data"),
                (Bind, Some("/etc"), false, None, "/etc"),
            ]
        );
    }

    #[test]
    fn an_override_files_driver_opts_are_seen() {
        let list = [
            (
                "p/compose.yaml",
                "services:\n  a:\n    image: x\n    volumes: [cfg:/cfg]\nvolumes:\n  cfg:\n",
            ),
            (
                "p/compose.override.yaml",
                "volumes:\n  cfg:\n    driver_opts:\n      type: none\n      o: bind\n      device: /etc\n",
            ),
        ];
        let fs: HashMap<PathBuf, FileRef> = list
            .iter()
            .map(|(p, t)| {
                (
                    PathBuf::from(p),
                    SourceFile::new(*p, *p, t.to_string()).into_ref(),
                )
            })
            .collect();
        let read = |p: &Path| fs.get(p).cloned().ok_or(ReadError::NotFound);
        let inputs: Vec<FileRef> = list
            .iter()
            .filter_map(|(p, _)| fs.get(Path::new(p)).cloned())
            .collect();
        let p = crate::compose::project::load(&inputs, &Vars::new(), &read);
        let m = p.compose.services[0].volumes[0].mount(&p.compose);
        let device = m.source.unwrap();
        assert_eq!(m.kind, VolumeKind::Bind);
        assert_eq!(device.value.known(), Some("/etc"));
        assert_eq!(device.span.file, 1);
        assert_eq!(text_at(list[1].1, device.span), "/etc");
    }

    /// Many definitions and many uses stay linear: each use is one lookup.
    #[test]
    fn many_definitions_and_uses() {
        let n = 20_000;
        let mut text = String::from("services:\n  a:\n    image: x\n    volumes:\n");
        for i in 0..n {
            text.push_str(&format!("      - v{i}:/m{i}\n"));
        }
        text.push_str("volumes:\n");
        for i in 0..n {
            text.push_str(&format!(
                "  v{i}:\n    driver_opts: {{type: none, o: bind, device: /d{i}}}\n"
            ));
        }
        let f = load(&text, &Vars::new());
        assert_eq!(f.volumes.len(), n);
        let binds = f.services[0]
            .volumes
            .iter()
            .filter(|v| v.mount(&f).via.is_some())
            .count();
        assert_eq!(binds, n);
    }
}
