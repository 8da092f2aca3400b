//! Rules that reason about a Compose service together with the image it runs (`SLX###`).

mod build_context_secrets;
mod read_only_without_writable_paths;
mod unknown_image_user;

use super::Rule;

/// Every cross-file rule, in code order.
pub static RULES: &[&dyn Rule] = &[
    &unknown_image_user::UnknownImageUser,
    &read_only_without_writable_paths::ReadOnlyWithoutWritablePaths,
    &build_context_secrets::BuildContextSecrets,
];
