//! Rules that reason about a Compose service together with the image it runs (`SLX###`).

pub(super) mod build_context_secrets;
pub(super) mod read_only_without_writable_paths;
pub(super) mod unknown_image_user;
