//! The hostile-input suite: sandlint pointed at files and code written by an attacker.
//!
//! Every case runs the real binary in a child process under an address-space limit and a
//! wall-clock deadline (see [`harness`]), and asserts the exact finding or error — and, for the
//! leak cases, that no byte of what the attacker pointed at reaches stdout, stderr or a report.
//! One module per class of attack (issue 9); the live `run` attacks are in `tests/sandbox.rs`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr,
    reason = "integration tests"
)]

mod boundary;
mod budgets;
#[path = "../common/mod.rs"]
mod common;
mod discover;
mod fuzz;
mod harness;
mod output;
mod property;
mod run;
