use crate::docs::{self, RuleMeta};
use crate::rules::{Reads, Rule};

/// A running container and the Compose service it came from differ (reported by `sandlint
/// audit`, which compares the two; no file is checked for it).
pub struct ContainerDrift;

impl Rule for ContainerDrift {
    fn meta(&self) -> &'static RuleMeta {
        docs::CONTAINER_DRIFT
    }

    fn reads(&self) -> Reads {
        Reads::default()
    }
}
