//! Compose rules (`SLC###`).

use super::Rule;

/// Every Compose rule, in code order.
pub static RULES: &[&dyn Rule] = &[];
