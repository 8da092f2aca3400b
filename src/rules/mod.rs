//! The rule trait and the registry of every rule.
//!
//! One rule = one file (`src/rules/<target>/<rule_name>.rs`) + its doc (`rules/<rule-name>.md`)
//! + fixtures (`fixtures/rules/<rule-name>/`). Metadata (code, severity, ...) lives only in the doc.

pub mod audit;
pub mod compose;
mod context;
pub mod cross;
pub mod devcontainer;
pub mod dockerfile;
pub mod meta;
mod secrets;
mod tokens;
pub mod well_known_images;

pub use context::{
    BuiltBy, BuiltImage, ComposeFacts, ContextListing, Ctx, DockerfileFacts, EnvFile, Facts,
    Refused,
};

use crate::compose::devcontainer::Devcontainer;
use crate::compose::model::ComposeFile;
use crate::dockerfile::model::Dockerfile;
use crate::meta::RuleMeta;

/// What a rule reads, so that the engine can skip the work for an input no running rule reads
/// (a Dockerfile not parsed when only Compose rules run, a Compose project not loaded when no
/// rule reads Compose nor the join).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reads {
    /// Dockerfile models (`check_dockerfile`).
    pub dockerfile: bool,
    /// Compose models (`check_compose`), with what the workspace gathered around them.
    pub compose: bool,
    /// For a Dockerfile rule: the Compose services that build the checked file
    /// ([`Ctx::built_by`]), which only loading the Compose projects tells.
    pub built_by: bool,
    /// Dev container models (`check_devcontainer`).
    pub devcontainer: bool,
}

impl Reads {
    /// The kinds a rule's doc `targets` name (the checks it implements, `tests/rule_docs.rs`),
    /// without the join.
    pub fn of(meta: &RuleMeta) -> Reads {
        Reads {
            dockerfile: meta.targets.contains(&"dockerfile"),
            compose: meta.targets.contains(&"compose"),
            built_by: false,
            devcontainer: meta.targets.contains(&"devcontainer"),
        }
    }

    /// What either reads.
    pub fn union(self, other: Reads) -> Reads {
        Reads {
            dockerfile: self.dockerfile || other.dockerfile,
            compose: self.compose || other.compose,
            built_by: self.built_by || other.built_by,
            devcontainer: self.devcontainer || other.devcontainer,
        }
    }
}

/// A lint rule. Rules read typed models only and push findings through [`Ctx`].
pub trait Rule: Sync {
    /// The rule's metadata: `crate::docs::ROOT_USER` etc. (generated from `rules/*.md`).
    fn meta(&self) -> &'static RuleMeta;

    /// What the rule reads: by default the kinds of its doc's `targets`; a Dockerfile rule that
    /// reads [`Ctx::built_by`] says so (`tests/kinds.rs` checks every declaration against the
    /// rule's findings over the fixtures). Meta rules read the kinds they report on.
    fn reads(&self) -> Reads {
        Reads::of(self.meta())
    }

    /// Checks one Dockerfile.
    fn check_dockerfile(&self, _cx: &mut Ctx<'_>, _df: &Dockerfile) {}

    /// Checks one Compose file (its services can be joined to the Dockerfiles they build: [`Ctx::build_of`]).
    fn check_compose(&self, _cx: &mut Ctx<'_>, _compose: &ComposeFile) {}

    /// Checks what only a `devcontainer.json` has (lifecycle commands, features). Its
    /// container is checked by [`Rule::check_compose`] too, lowered to one service.
    fn check_devcontainer(&self, _cx: &mut Ctx<'_>, _dc: &Devcontainer) {}
}

/// Every rule: the registry, and the only list of rules. Adding a rule adds one line here (and
/// its `mod` line in the target's folder). Order: input errors (`SLE`), Dockerfile (`SLD`),
/// Compose (`SLC`), cross-file (`SLX`), dev containers (`SLV`), audit (`SLA`), each by code; `sandlint rules` lists them so, and rules
/// run in this order.
pub static ALL: &[&dyn Rule] = &[
    &meta::dockerfile_syntax_error::DockerfileSyntaxError,
    &meta::compose_syntax_error::ComposeSyntaxError,
    &meta::suppressions::InvalidSuppression,
    &meta::suppressions::UnusedSuppression,
    &meta::unresolved_reference::UnresolvedReference,
    &meta::reference_outside_project::ReferenceOutsideProject,
    &meta::unreadable_file::UnreadableFile,
    &meta::expansion_limit_exceeded::ExpansionLimitExceeded,
    &dockerfile::root_user::RootUser,
    &dockerfile::unpinned_base_image::UnpinnedBaseImage,
    &dockerfile::add_instead_of_copy::AddInsteadOfCopy,
    &dockerfile::add_remote_without_checksum::AddRemoteWithoutChecksum,
    &dockerfile::curl_pipe_shell::CurlPipeShell,
    &dockerfile::secret_in_env::SecretInEnv,
    &dockerfile::sudo_in_run::SudoInRun,
    &dockerfile::tls_verification_disabled::TlsVerificationDisabled,
    &dockerfile::package_signature_check_disabled::PackageSignatureCheckDisabled,
    &dockerfile::secret_file_copied::SecretFileCopied,
    &dockerfile::literal_password_set::LiteralPasswordSet,
    &dockerfile::base_image_not_digest_pinned::BaseImageNotDigestPinned,
    &dockerfile::untrusted_registry::UntrustedRegistry,
    &dockerfile::world_writable_permissions::WorldWritablePermissions,
    &dockerfile::setuid_bit_added::SetuidBitAdded,
    &dockerfile::ssh_server_installed::SshServerInstalled,
    &dockerfile::insecure_run_mode::InsecureRunMode,
    &dockerfile::copy_filesystem_root_from_stage::CopyFilesystemRootFromStage,
    &dockerfile::sensitive_path_workdir_volume::SensitivePathWorkdirVolume,
    &dockerfile::pipe_without_pipefail::PipeWithoutPipefail,
    &dockerfile::missing_healthcheck::MissingHealthcheck,
    &dockerfile::onbuild_instruction::OnbuildInstruction,
    &dockerfile::copy_context_without_dockerignore::CopyContextWithoutDockerignore,
    &dockerfile::secret_named_arg_or_env::SecretNamedArgOrEnv,
    &dockerfile::maintainer_deprecated::MaintainerDeprecated,
    &dockerfile::json_args_recommended::JsonArgsRecommended,
    &dockerfile::workdir_relative_path::WorkdirRelativePath,
    &dockerfile::duplicate_stage_name::DuplicateStageName,
    &dockerfile::reserved_stage_name::ReservedStageName,
    &dockerfile::multiple_instructions_disallowed::MultipleInstructionsDisallowed,
    &dockerfile::stage_name_casing::StageNameCasing,
    &dockerfile::from_as_casing::FromAsCasing,
    &dockerfile::expose_proto_casing::ExposeProtoCasing,
    &dockerfile::expose_invalid_format::ExposeInvalidFormat,
    &dockerfile::legacy_key_value_format::LegacyKeyValueFormat,
    &dockerfile::consistent_instruction_casing::ConsistentInstructionCasing,
    &dockerfile::undefined_arg_in_from::UndefinedArgInFrom,
    &dockerfile::invalid_default_arg_in_from::InvalidDefaultArgInFrom,
    &dockerfile::redundant_target_platform::RedundantTargetPlatform,
    &dockerfile::from_platform_flag_const_disallowed::FromPlatformFlagConstDisallowed,
    &dockerfile::undefined_var::UndefinedVar,
    &dockerfile::no_empty_continuation::NoEmptyContinuation,
    &dockerfile::apt_package_unpinned::AptPackageUnpinned,
    &dockerfile::apk_package_unpinned::ApkPackageUnpinned,
    &dockerfile::rpm_package_unpinned::RpmPackageUnpinned,
    &dockerfile::zypper_package_unpinned::ZypperPackageUnpinned,
    &dockerfile::pip_package_unpinned::PipPackageUnpinned,
    &dockerfile::npm_package_unpinned::NpmPackageUnpinned,
    &dockerfile::gem_package_unpinned::GemPackageUnpinned,
    &dockerfile::package_index_update_alone::PackageIndexUpdateAlone,
    &dockerfile::non_numeric_user::NonNumericUser,
    &dockerfile::add_source_from_build_arg::AddSourceFromBuildArg,
    &dockerfile::copy_ignored_file::CopyIgnoredFile,
    &dockerfile::invalid_definition_description::InvalidDefinitionDescription,
    &dockerfile::go_package_unpinned::GoPackageUnpinned,
    &compose::privileged_container::PrivilegedContainer,
    &compose::missing_no_new_privileges::MissingNoNewPrivileges,
    &compose::writable_root_filesystem::WritableRootFilesystem,
    &compose::missing_memory_limit::MissingMemoryLimit,
    &compose::missing_cpu_limit::MissingCpuLimit,
    &compose::missing_pids_limit::MissingPidsLimit,
    &compose::service_root_user::ServiceRootUser,
    &compose::host_network_mode::HostNetworkMode,
    &compose::container_socket_mount::ContainerSocketMount,
    &compose::writable_bind_mount::WritableBindMount,
    &compose::dangerous_capability::DangerousCapability,
    &compose::missing_cap_drop_all::MissingCapDropAll,
    &compose::port_bound_to_all_interfaces::PortBoundToAllInterfaces,
    &compose::sensitive_host_path_mount::SensitiveHostPathMount,
    &compose::host_namespace_shared::HostNamespaceShared,
    &compose::host_uts_or_cgroup_namespace::HostUtsOrCgroupNamespace,
    &compose::confinement_disabled::ConfinementDisabled,
    &compose::host_device_mapped::HostDeviceMapped,
    &compose::shared_mount_propagation::SharedMountPropagation,
    &compose::oom_kill_disabled::OomKillDisabled,
    &compose::privileged_port_published::PrivilegedPortPublished,
    &compose::image_unpinned::ImageUnpinned,
    &compose::image_not_digest_pinned::ImageNotDigestPinned,
    &compose::credential_in_environment::CredentialInEnvironment,
    &compose::secret_in_build_args::SecretInBuildArgs,
    &compose::healthcheck_disabled::HealthcheckDisabled,
    &compose::tmpfs_exec_or_suid::TmpfsExecOrSuid,
    &compose::logging_disabled::LoggingDisabled,
    &compose::risky_sysctl::RiskySysctl,
    &compose::misspelled_security_key::MisspelledSecurityKey,
    &compose::unknown_service_key::UnknownServiceKey,
    &compose::network_not_isolated::NetworkNotIsolated,
    &compose::custom_cgroup_parent::CustomCgroupParent,
    &cross::unknown_image_user::UnknownImageUser,
    &cross::read_only_without_writable_paths::ReadOnlyWithoutWritablePaths,
    &cross::build_context_secrets::BuildContextSecrets,
    &cross::secret_token_literal::SecretTokenLiteral,
    &devcontainer::initialize_command_on_host::InitializeCommandOnHost,
    &devcontainer::lifecycle_command_downloads::LifecycleCommandDownloads,
    &devcontainer::feature_not_pinned::FeatureNotPinned,
    &devcontainer::privileged_feature::PrivilegedFeature,
    &audit::container_drift::ContainerDrift,
    &audit::restart_and_health::UnboundedRestartPolicy,
    &audit::restart_and_health::NoHealthcheck,
];

/// The rule with this code (case-insensitive) or name: the only lookup of a rule.
pub fn find(name_or_code: &str) -> Option<&'static dyn Rule> {
    ALL.iter().copied().find(|r| {
        let m = r.meta();
        m.name == name_or_code || m.code.eq_ignore_ascii_case(name_or_code)
    })
}
