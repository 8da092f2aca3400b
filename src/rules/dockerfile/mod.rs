//! Dockerfile rules (`SLD###`).

pub(super) mod add_instead_of_copy;
pub(super) mod add_remote_without_checksum;
pub(super) mod add_source_from_build_arg;
pub(super) mod apk_package_unpinned;
pub(super) mod apt_package_unpinned;
pub(super) mod base_image_not_digest_pinned;
pub(super) mod consistent_instruction_casing;
pub(super) mod copy_context_without_dockerignore;
pub(super) mod copy_filesystem_root_from_stage;
pub(super) mod copy_ignored_file;
pub(super) mod curl_pipe_shell;
pub(super) mod duplicate_stage_name;
pub(super) mod expose_invalid_format;
pub(super) mod expose_proto_casing;
#[cfg(test)]
mod fix_shapes;
pub(super) mod from_as_casing;
pub(super) mod from_platform_flag_const_disallowed;
pub(super) mod gem_package_unpinned;
pub(super) mod go_package_unpinned;
pub(super) mod insecure_run_mode;
pub(super) mod invalid_default_arg_in_from;
pub(super) mod invalid_definition_description;
pub(super) mod json_args_recommended;
pub(super) mod legacy_key_value_format;
pub(super) mod literal_password_set;
pub(super) mod maintainer_deprecated;
pub(super) mod missing_healthcheck;
pub(super) mod multiple_instructions_disallowed;
pub(super) mod no_empty_continuation;
pub(super) mod non_numeric_user;
pub(super) mod npm_package_unpinned;
pub(super) mod onbuild_instruction;
pub(super) mod package_index_update_alone;
mod package_pins;
pub(super) mod package_signature_check_disabled;
pub(super) mod pip_package_unpinned;
pub(super) mod pipe_without_pipefail;
pub(super) mod redundant_target_platform;
pub(super) mod reserved_stage_name;
pub(super) mod root_user;
pub(crate) use root_user::builder_only_user;
pub(super) mod rpm_package_unpinned;
pub(super) mod secret_file_copied;
pub(super) mod secret_in_env;
pub(super) mod secret_named_arg_or_env;
pub(super) mod sensitive_path_workdir_volume;
pub(super) mod setuid_bit_added;
pub(super) mod ssh_server_installed;
pub(super) mod stage_name_casing;
pub(super) mod sudo_in_run;
#[cfg(test)]
pub(crate) mod test_util;
pub(super) mod tls_verification_disabled;
pub(super) mod undefined_arg_in_from;
pub(super) mod undefined_var;
pub(super) mod unpinned_base_image;
pub(super) mod untrusted_registry;
pub(super) mod workdir_relative_path;
pub(super) mod world_writable_permissions;
pub(super) mod zypper_package_unpinned;

pub(crate) use copy_context_without_dockerignore::is_whole_context;
pub(crate) use literal_password_set::literal_passwords;
pub(crate) use secret_file_copied::secret_kind;

/// A fix of the current file from the text edits of `crate::dockerfile::edit`.
pub(super) fn fix_of(
    file: &crate::source::FileRef,
    applicability: crate::fix::Applicability,
    message: impl Into<std::borrow::Cow<'static, str>>,
    edits: impl IntoIterator<Item = crate::dockerfile::edit::TextEdit>,
) -> crate::fix::Fix {
    let edits = (edits.into_iter())
        .map(|(span, replacement)| crate::fix::Edit {
            file: file.clone(),
            span,
            replacement,
        })
        .collect();
    crate::fix::Fix::new(applicability, message, edits)
}
