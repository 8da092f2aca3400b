use crate::docs::{self, RuleMeta};
use crate::rules::{Reads, Rule};

/// The restart policy restarts without bound (reported by `sandlint audit` from the inspect).
pub struct UnboundedRestartPolicy;

impl Rule for UnboundedRestartPolicy {
    fn meta(&self) -> &'static RuleMeta {
        docs::UNBOUNDED_RESTART_POLICY
    }

    fn reads(&self) -> Reads {
        Reads::default()
    }
}

/// Neither the image nor the run gives a health check (reported by `sandlint audit`).
pub struct NoHealthcheck;

impl Rule for NoHealthcheck {
    fn meta(&self) -> &'static RuleMeta {
        docs::NO_HEALTHCHECK
    }

    fn reads(&self) -> Reads {
        Reads::default()
    }
}
