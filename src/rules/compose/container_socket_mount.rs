use crate::compose::model::ComposeFile;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

use super::SocketMount;

/// A container runtime socket (or its directory) mounted into a service, or `use_api_socket: true`.
pub struct ContainerSocketMount;

const HELP: &str =
    "remove the mount; if the service must use the API, give it a filtering socket proxy";

impl Rule for ContainerSocketMount {
    fn meta(&self) -> &'static RuleMeta {
        docs::CONTAINER_SOCKET_MOUNT
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        let file = cx.file().clone();
        for service in &compose.services {
            let name = super::svc(service);
            if let Some(api) = &service.use_api_socket
                && api.value.as_bool() == Some(true)
            {
                cx.report(
                    api.span,
                    format!("service `{name}` gets the Docker API socket (`use_api_socket: true`)"),
                )
                .help("remove `use_api_socket: true`");
            }
            for volume in &service.volumes {
                let mount = volume.mount(compose);
                let via = super::through(&mount);
                let message = match super::socket_mount(&mount) {
                    None => continue,
                    Some(SocketMount::Socket(path)) => {
                        format!(
                            "service `{name}` mounts runtime socket `{}`{via}",
                            crate::source::clip(&path, 22)
                        )
                    }
                    Some(SocketMount::Directory(path)) => {
                        format!(
                            "service `{name}` mounts runtime socket directory `{}`{via}",
                            crate::source::clip(&path, 22)
                        )
                    }
                };
                let d = cx.report(volume.span, message).help(HELP);
                super::label_device(d, &file, &mount);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{findings, messages};

    const RULE: &str = "container-socket-mount";

    fn one_volume(entry: &str) -> String {
        format!("services:\n  ci:\n    image: docker\n    volumes:\n      - {entry}\n")
    }

    #[test]
    fn short_syntax_socket_forms() {
        for entry in [
            "/var/run/docker.sock:/var/run/docker.sock",
            "/var/run/docker.sock:/var/run/docker.sock:ro",
            "/run/docker.sock:/var/run/docker.sock",
            "//var/run/docker.sock:/var/run/docker.sock",
            "/run/user/1000/podman/podman.sock:/var/run/docker.sock",
            "/run/containerd/containerd.sock:/run/containerd/containerd.sock",
            "/var/run/crio/crio.sock:/crio.sock",
            "/var/run:/var/run",
            "/run:/host/run:ro",
            "/run/user/1000:/run/user/1000",
        ] {
            let text = one_volume(entry);
            assert_eq!(
                findings(RULE, &text),
                vec![("SLC009", entry.to_string())],
                "{entry}"
            );
        }
    }

    #[test]
    fn message_names_the_path() {
        let text = one_volume("/var/run/docker.sock:/var/run/docker.sock");
        assert_eq!(
            messages(RULE, &text),
            vec!["service `ci` mounts runtime socket `/var/run/docker.sock`"]
        );
    }

    #[test]
    fn long_syntax_read_only_still_flagged() {
        let text = "services:\n  ci:\n    image: docker\n    volumes:\n      - type: bind\n        source: /var/run/docker.sock\n        target: /var/run/docker.sock\n        read_only: true\n";
        let found = findings(RULE, text);
        assert_eq!(found.len(), 1);
        assert!(
            found
                .iter()
                .all(|(c, s)| *c == "SLC009" && s.contains("source: /var/run/docker.sock"))
        );
    }

    #[test]
    fn npipe() {
        let text = "services:\n  ci:\n    image: docker\n    volumes:\n      - type: npipe\n        source: \\\\.\\pipe\\docker_engine\n        target: \\\\.\\pipe\\docker_engine\n";
        assert_eq!(findings(RULE, text).len(), 1);
    }

    #[test]
    fn use_api_socket() {
        let text = "services:\n  ci:\n    image: docker\n    use_api_socket: true\n";
        assert_eq!(findings(RULE, text), vec![("SLC009", "true".to_string())]);
    }

    #[test]
    fn not_sockets() {
        for entry in [
            "./data:/data",
            "docker.sock:/var/run/docker.sock",
            "/var/run/mysqld:/var/run/mysqld",
            "/var/lib/docker.socks:/x",
            "${SOCK}:/var/run/docker.sock",
        ] {
            let text = one_volume(entry);
            assert!(findings(RULE, &text).is_empty(), "{entry}");
        }
    }

    #[test]
    fn interpolated_runtime_dir() {
        let text = "services:\n  ci:\n    image: docker\n    volumes:\n      - ${XDG_RUNTIME_DIR:-/run/user/1000}/docker.sock:/var/run/docker.sock\n";
        assert_eq!(findings(RULE, text).len(), 1);
    }

    #[test]
    fn named_volume_binds() {
        let text = "services:\n  ci:\n    image: docker\n    volumes:\n      - sock:/var/run/docker.sock:ro\n      - run:/host-run\n      - plain:/p\nvolumes:\n  sock:\n    driver_opts:\n      type: none\n      o: bind,ro\n      device: /var/run/docker.sock\n  run:\n    driver_opts: {type: none, o: bind, device: /run}\n  plain:\n    driver_opts: {type: tmpfs, device: tmpfs}\n";
        assert_eq!(
            super::super::test_util::located(RULE, text),
            vec![
                (
                    "sock:/var/run/docker.sock:ro".to_string(),
                    "service `ci` mounts runtime socket `/var/run/docker.sock` through named volume `sock`".to_string(),
                    vec![(
                        "/var/run/docker.sock".to_string(),
                        "named volume `sock` binds host path `/var/run/docker.sock`".to_string()
                    )]
                ),
                (
                    "run:/host-run".to_string(),
                    "service `ci` mounts runtime socket directory `/run` through named volume `run`"
                        .to_string(),
                    vec![(
                        "/run".to_string(),
                        "named volume `run` binds host path `/run`".to_string()
                    )]
                ),
            ]
        );
    }
}
