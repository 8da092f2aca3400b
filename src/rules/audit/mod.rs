//! Rules of `sandlint audit` (`SLA###`): findings the audit makes by comparing a running
//! container with its Compose file. They read no file model; `src/commands/audit/` reports them.

pub(super) mod container_drift;
pub(super) mod restart_and_health;
