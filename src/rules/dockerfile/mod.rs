//! Dockerfile rules (`SLD###`).

use super::Rule;

/// Every Dockerfile rule, in code order.
pub static RULES: &[&dyn Rule] = &[];
