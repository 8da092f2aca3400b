//! Unit tests of `session.rs` (paths, ids, archives).

use super::*;

#[test]
fn workspace_paths() {
    assert_eq!(
        workspace_path("a/b").ok(),
        Some(vec!["a".into(), "b".into()])
    );
    assert_eq!(workspace_path("/workspace/a").ok(), Some(vec!["a".into()]));
    assert_eq!(workspace_path("/workspace").ok(), Some(vec![]));
    assert_eq!(
        workspace_path("./a/./b/").ok(),
        Some(vec!["a".into(), "b".into()])
    );
    for bad in [
        "../x",
        "a/../../etc",
        "/etc/passwd",
        "/workspacex/a",
        "/",
        "a\0b",
    ] {
        assert!(
            matches!(workspace_path(bad), Err(SandboxError::PathRefused { .. })),
            "{bad}"
        );
    }
}

#[test]
fn ids() {
    let id = new_id();
    assert!(check_id(&id).is_ok(), "{id}");
    assert!(check_id("../../etc").is_err());
    assert!(check_id("ABCDEF012345").is_err());
}

fn tar_of(entries: &[(&str, tar::EntryType, &[u8], Option<&str>)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, kind, data, link) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(*kind);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        if let Some(l) = link {
            let _ = h.set_link_name(l);
        }
        // raw name bytes: the tar crate refuses to write `..`, a hostile daemon would not
        if let Some(gnu) = h.as_gnu_mut() {
            gnu.name[..name.len()].copy_from_slice(name.as_bytes());
        }
        h.set_cksum();
        let _ = b.append(&h, *data);
    }
    b.into_inner().unwrap_or_default()
}

#[test]
fn unpack_refuses_links_devices_and_escapes() {
    let dir = tempfile::tempdir().unwrap_or_else(|_| unreachable!());
    let cases: Vec<Vec<u8>> = vec![
        tar_of(&[
            ("d/", tar::EntryType::Directory, b"", None),
            ("d/evil", tar::EntryType::Symlink, b"", Some("/etc/passwd")),
        ]),
        tar_of(&[
            ("d/", tar::EntryType::Directory, b"", None),
            ("d/../../x", tar::EntryType::Regular, b"x", None),
        ]),
        tar_of(&[
            ("d/", tar::EntryType::Directory, b"", None),
            ("d/null", tar::EntryType::Char, b"", None),
        ]),
        tar_of(&[("other/x", tar::EntryType::Regular, b"x", None)]),
    ];
    for (i, t) in cases.iter().enumerate() {
        let local = dir.path().join(format!("out{i}"));
        assert!(
            matches!(
                unpack(t, "d", &local, 1024),
                Err(SandboxError::PathRefused { .. })
            ),
            "case {i}"
        );
        assert!(!local.exists(), "case {i} wrote something");
    }
}

#[cfg(unix)]
#[test]
fn unpack_never_writes_through_a_host_symlink() {
    let dir = tempfile::tempdir().unwrap_or_else(|_| unreachable!());
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "keep").unwrap_or_default();
    let link = dir.path().join("link");
    let _ = std::os::unix::fs::symlink(&victim, &link);
    let t = tar_of(&[("f", tar::EntryType::Regular, b"evil", None)]);
    assert!(unpack(&t, "f", &link, 1024).is_err());
    assert_eq!(std::fs::read_to_string(&victim).unwrap_or_default(), "keep");
    let ok = dir.path().join("ok");
    assert!(unpack(&t, "f", &ok, 1024).is_ok());
    assert_eq!(std::fs::read_to_string(&ok).unwrap_or_default(), "evil");
}

#[cfg(unix)]
#[test]
fn pack_refuses_symlinks() {
    let dir = tempfile::tempdir().unwrap_or_else(|_| unreachable!());
    let _ = std::os::unix::fs::symlink("/etc/passwd", dir.path().join("l"));
    let dest = vec!["x".to_string()];
    let p = |path: &Path, limit| pack(PutSource::Path(path), &dest, 1, 1, limit);
    assert!(p(&dir.path().join("l"), 1024).is_err());
    assert!(p(dir.path(), 1024).is_err());
    std::fs::remove_file(dir.path().join("l")).unwrap_or_default();
    std::fs::write(dir.path().join("f"), "hello").unwrap_or_default();
    assert!(p(dir.path(), 1024).is_ok());
    assert!(p(dir.path(), 2).is_err());
}

/// A state file saved before sessions had egress (no `egress` key) still loads, and one with
/// egress keeps it.
#[test]
fn old_states_load() {
    let state = SessionState {
        id: "0123456789ab".into(),
        container_id: "c".into(),
        container: "sandlint-session-0123456789ab".into(),
        profile: HardenedProfile::new("x:1"),
        profile_hash: "h".into(),
        deadline: 1,
        uid: Some(65534),
        gid: Some(65534),
        workspace_volume: true,
        volume_name: None,
        workspace_size: DEFAULT_WORKSPACE_SIZE,
        allow_root: false,
        allow_degraded: false,
        failed_at_start: Vec::new(),
        timeout_ms: 1000,
        output_limit: 1024,
        egress: None,
    };
    let mut v = serde_json::to_value(&state).unwrap_or_default();
    assert!(v.get("egress").is_none());
    if let Some(o) = v.as_object_mut() {
        o.remove("egress");
    }
    let back: Result<SessionState, _> = serde_json::from_value(v);
    assert!(back.is_ok_and(|s| s.egress.is_none()));
}
