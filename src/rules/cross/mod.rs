//! Rules that reason about a Compose service together with the image it runs, or that check
//! Dockerfiles and Compose files alike (`SLX###`).

pub(super) mod build_context_secrets;
pub(super) mod read_only_without_writable_paths;
pub(super) mod secret_token_literal;
pub(super) mod unknown_image_user;
