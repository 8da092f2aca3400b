//! `run --compose`: every service key is applied, refused or noted (no daemon needed: the plan
//! is built and judged offline).

use std::path::PathBuf;

use super::{HardenedProfile, ImageSource, LintReport, Program, Sandbox, SandboxOptions};

/// A project holding `compose.yaml` = `text`; its displayed path.
fn project(text: &str) -> (tempfile::TempDir, PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("compose.yaml");
    std::fs::write(&file, text).unwrap();
    let shown = crate::source::display_path(&file);
    (dir, file, shown)
}

fn plan(file: &std::path::Path) -> Result<(HardenedProfile, LintReport), String> {
    let options = SandboxOptions::with_source(ImageSource::Compose {
        file: file.to_path_buf(),
        service: "s".to_string(),
    });
    Sandbox::new(options)
        .plan(&Program::ImageDefault)
        .map_err(|e| e.to_string())
}

/// The service `s` (image `img:1`, then `extra`, indented as service keys).
fn service(extra: &str) -> String {
    format!("services:\n  s:\n    image: img:1\n{extra}")
}

fn refusing(report: &LintReport) -> Vec<&'static str> {
    let mut rules: Vec<&str> = report.refusing().map(|d| d.rule.name).collect();
    rules.dedup();
    rules
}

#[test]
fn uts_host_is_applied_and_judged() {
    let (_d, file, _) = project(&service("    uts: host\n"));
    let (profile, report) = plan(&file).unwrap();
    assert_eq!(profile.uts_mode.as_deref(), Some("host"));
    let body = profile.create_body();
    assert_eq!(
        body.host_config.and_then(|h| h.uts_mode).as_deref(),
        Some("host")
    );
    assert_eq!(refusing(&report), ["host-uts-or-cgroup-namespace"]);
}

#[test]
fn cgroup_host_is_applied_and_judged_private_is_applied() {
    let (_d, file, _) = project(&service("    cgroup: host\n"));
    let (profile, report) = plan(&file).unwrap();
    assert_eq!(profile.cgroupns_mode.as_deref(), Some("host"));
    assert_eq!(refusing(&report), ["host-uts-or-cgroup-namespace"]);
    let (_d, file, _) = project(&service("    cgroup: private\n"));
    let (profile, report) = plan(&file).unwrap();
    assert_eq!(
        profile
            .create_body()
            .host_config
            .and_then(|h| h.cgroupns_mode),
        Some(bollard::models::HostConfigCgroupnsModeEnum::PRIVATE)
    );
    assert!(refusing(&report).is_empty(), "{:?}", refusing(&report));
}

#[test]
fn userns_mode_host_is_applied_and_judged() {
    let (_d, file, _) = project(&service("    userns_mode: host\n"));
    let (profile, report) = plan(&file).unwrap();
    assert_eq!(profile.userns_mode.as_deref(), Some("host"));
    assert_eq!(
        profile
            .create_body()
            .host_config
            .and_then(|h| h.userns_mode)
            .as_deref(),
        Some("host")
    );
    assert_eq!(refusing(&report), ["host-namespace-shared"]);
}

#[test]
fn namespace_values_run_cannot_apply_are_refused_where_written() {
    let (_d, file, at) = project(&service("    uts: private\n"));
    assert_eq!(
        plan(&file).unwrap_err(),
        format!(
            "{at}:4:10: service `s` sets `uts: private`, which `sandlint run` refuses: it applies only `host`"
        )
    );
    let (_d, file, at) = project(&service("    pid: \"container:db\"\n"));
    assert_eq!(
        plan(&file).unwrap_err(),
        format!(
            "{at}:4:10: service `s` sets `pid: container:db`, which `sandlint run` refuses: a sandbox never joins another container's namespace"
        )
    );
}

#[test]
fn sysctls_are_refused_unless_empty() {
    let (_d, file, at) = project(&service("    sysctls:\n      net.ipv4.ip_forward: 1\n"));
    assert_eq!(
        plan(&file).unwrap_err(),
        format!(
            "{at}:5:7: service `s` sets `sysctls: net.ipv4.ip_forward=1`, which `sandlint run` refuses: `run` sets no sysctls (they change the kernel's behaviour for the sandbox and are not verified); only an empty `sysctls` is accepted"
        )
    );
    let (_d, file, at) = project(&service("    sysctls:\n      - net.core.somaxconn=1024\n"));
    assert!(plan(&file).unwrap_err().starts_with(&format!(
        "{at}:5:9: service `s` sets `sysctls: net.core.somaxconn=1024`"
    )),);
    let (_d, file, _) = project(&service("    sysctls: {}\n"));
    let (_, report) = plan(&file).unwrap();
    assert!(report.notes.is_empty(), "{:?}", report.notes);
}

#[test]
fn refused_keys_are_located_errors() {
    let (_d, file, at) = project(&service("    volumes_from: [db]\n"));
    assert_eq!(
        plan(&file).unwrap_err(),
        format!(
            "{at}:4:5: service `s` sets `volumes_from`, which `sandlint run` refuses: it mounts another container's volumes, which no rule can judge"
        )
    );
    let (_d, file, at) = project(&service("    use_api_socket: true\n"));
    assert_eq!(
        plan(&file).unwrap_err(),
        format!(
            "{at}:4:21: service `s` sets `use_api_socket: true`, which `sandlint run` refuses: the Docker socket is never given to a sandbox; only `false` is accepted"
        )
    );
    let (_d, file, at) = project(&service("    oom_score_adj: -500\n"));
    assert!(plan(&file).unwrap_err().starts_with(&format!(
        "{at}:4:20: service `s` sets `oom_score_adj: -500`"
    )),);
    let (_d, file, at) = project(&service("    privilegd: true\n"));
    assert_eq!(
        plan(&file).unwrap_err(),
        format!(
            "{at}:4:5: service `s` has `privilegd`, which is not a Compose service key; `sandlint run` refuses it"
        )
    );
    // defaults and empty values set nothing
    let (_d, file, _) = project(&service(
        "    use_api_socket: false\n    oom_score_adj: 0\n    oom_kill_disable: false\n    isolation: default\n    ulimits: {}\n    group_add: []\n",
    ));
    let (_, report) = plan(&file).unwrap();
    assert!(report.notes.is_empty(), "{:?}", report.notes);
}

#[test]
fn an_ignored_key_is_a_located_note() {
    let (_d, file, at) = project(&service("    restart: always\n    labels: [a=b]\n"));
    let (_, report) = plan(&file).unwrap();
    assert_eq!(
        report.notes,
        [
            format!("`restart` at {at}:4:5 is not used: a one-shot sandbox is never restarted"),
            format!(
                "`labels` at {at}:5:5 is not used: the container carries sandlint's own labels"
            ),
        ]
    );
}

#[test]
fn unused_deploy_and_build_keys_are_noted_and_extension_keys_escaped() {
    let (_d, file, at) = project(&service(
        "    build:\n      context: .\n      network: host\n    deploy:\n      replicas: 2\n      resources:\n        limits: { memory: 64m }\n    \"x-\\e[2J\": 1\n",
    ));
    let (profile, report) = plan(&file).unwrap();
    assert_eq!(profile.memory, 64 * 1024 * 1024);
    assert_eq!(
        report.notes,
        [
            format!(
                "`build.network` at {at}:6:7 is not used: the image is built from `context`, `dockerfile`, `target` and `args` only"
            ),
            format!(
                "`deploy.replicas` at {at}:8:7 is not used: only `deploy.resources.limits` (`memory`, `cpus`, `pids`) is applied"
            ),
            format!("`x-\\x1b[2J` at {at}:11:5 is not used: extension keys mean nothing to `run`"),
        ]
    );
}

#[test]
fn network_names_are_printed_escaped() {
    let (_d, file, _) = project(&service("    networks: [\"\\u001b[31mx\"]\n"));
    let (_, report) = plan(&file).unwrap();
    assert_eq!(
        report.notes,
        [
            "network: none (the service's `networks:` (\\x1b[31mx) are not used; --network to opt in)"
        ]
    );
    assert!(report.notes.iter().all(|n| !n.contains('\u{1b}')));
}

#[test]
fn devices_are_applied_and_refused_by_the_sandbox_preset() {
    let (_d, file, _) = project(&service("    devices: [\"/dev/kvm:/dev/kvm\"]\n"));
    let (profile, report) = plan(&file).unwrap();
    assert_eq!(profile.devices, ["/dev/kvm:/dev/kvm"]);
    assert_eq!(refusing(&report), ["host-device-mapped"]);
}

#[test]
fn an_executable_tmpfs_is_applied_and_refused_by_the_sandbox_preset() {
    let (_d, file, _) = project(&service("    tmpfs: [\"/tmp:exec\"]\n"));
    let (profile, report) = plan(&file).unwrap();
    assert!(
        profile
            .tmpfs
            .iter()
            .any(|t| t.target == "/tmp" && t.options == "exec")
    );
    assert_eq!(refusing(&report), ["tmpfs-exec-or-suid"]);
}

#[test]
fn merged_keys_are_decided_where_they_are_written() {
    let (_d, file, at) = project(
        "x-base: &base\n  restart: always\n  volumes_from: [db]\nservices:\n  s:\n    <<: *base\n    image: img:1\n",
    );
    assert_eq!(
        plan(&file).unwrap_err(),
        format!(
            "{at}:3:3: service `s` sets `volumes_from`, which `sandlint run` refuses: it mounts another container's volumes, which no rule can judge"
        )
    );
    let (_d, file, at) = project(
        "x-base: &base\n  restart: always\nservices:\n  s:\n    <<: *base\n    image: img:1\n",
    );
    let (_, report) = plan(&file).unwrap();
    assert_eq!(
        report.notes,
        [format!(
            "`restart` at {at}:2:3 is not used: a one-shot sandbox is never restarted"
        )]
    );
}

#[test]
fn volume_options_run_does_not_apply_are_noted() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    let file = dir.path().join("compose.yaml");
    std::fs::write(
        &file,
        service("    volumes:\n      - ./data:/data:ro,rshared\n      - type: bind\n        source: ./data\n        target: /more\n        read_only: true\n        bind: { selinux: z }\n"),
    )
    .unwrap();
    let at = crate::source::display_path(&file);
    let (profile, report) = plan(&file).unwrap();
    assert_eq!(profile.mounts.len(), 2);
    let why = "is not used: a `volumes` option; bind mounts are made with the daemon's defaults (private propagation, no SELinux relabelling)";
    assert_eq!(
        report.notes,
        [
            format!("`rshared` at {at}:5:25 {why}"),
            format!("`z` at {at}:10:26 {why}"),
        ]
    );
}
