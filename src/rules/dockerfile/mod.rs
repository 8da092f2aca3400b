//! Dockerfile rules (`SLD###`).

mod add_instead_of_copy;
mod add_remote_without_checksum;
mod base_image_not_digest_pinned;
mod copy_context_without_dockerignore;
mod copy_filesystem_root_from_stage;
mod curl_pipe_shell;
mod insecure_run_mode;
mod literal_password_set;
mod missing_healthcheck;
mod onbuild_instruction;
mod package_signature_check_disabled;
mod pipe_without_pipefail;
mod root_user;
pub(crate) use root_user::builder_only_user;
mod secret_file_copied;
mod secret_in_env;
mod sensitive_path_workdir_volume;
mod setuid_bit_added;
mod ssh_server_installed;
mod sudo_in_run;
#[cfg(test)]
mod test_util;
mod tls_verification_disabled;
mod unpinned_base_image;
mod untrusted_registry;
mod world_writable_permissions;

use super::Rule;

pub(crate) use copy_context_without_dockerignore::is_whole_context;
pub(crate) use secret_file_copied::secret_kind;

/// Every Dockerfile rule, in code order.
pub static RULES: &[&dyn Rule] = &[
    &root_user::RootUser,
    &unpinned_base_image::UnpinnedBaseImage,
    &add_instead_of_copy::AddInsteadOfCopy,
    &add_remote_without_checksum::AddRemoteWithoutChecksum,
    &curl_pipe_shell::CurlPipeShell,
    &secret_in_env::SecretInEnv,
    &sudo_in_run::SudoInRun,
    &tls_verification_disabled::TlsVerificationDisabled,
    &package_signature_check_disabled::PackageSignatureCheckDisabled,
    &secret_file_copied::SecretFileCopied,
    &literal_password_set::LiteralPasswordSet,
    &base_image_not_digest_pinned::BaseImageNotDigestPinned,
    &untrusted_registry::UntrustedRegistry,
    &world_writable_permissions::WorldWritablePermissions,
    &setuid_bit_added::SetuidBitAdded,
    &ssh_server_installed::SshServerInstalled,
    &insecure_run_mode::InsecureRunMode,
    &copy_filesystem_root_from_stage::CopyFilesystemRootFromStage,
    &sensitive_path_workdir_volume::SensitivePathWorkdirVolume,
    &pipe_without_pipefail::PipeWithoutPipefail,
    &missing_healthcheck::MissingHealthcheck,
    &onbuild_instruction::OnbuildInstruction,
    &copy_context_without_dockerignore::CopyContextWithoutDockerignore,
];
