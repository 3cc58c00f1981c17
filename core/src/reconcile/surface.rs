//! Reading back what the parent's status already reports, so a lasting problem is surfaced
//! once (one event) rather than on every reconcile.

use crate::model::Object;
use crate::status::DEGRADED;

/// The message of the parent's `Degraded` condition, when it is True.
pub(super) fn degraded_message(parent: &Object) -> Option<&str> {
    parent
        .status()?
        .get("conditions")?
        .as_array()?
        .iter()
        .find(|c| c["type"] == DEGRADED && c["status"] == "True")?
        .get("message")?
        .as_str()
}

/// True when the parent's `Degraded` condition already mentions `text`.
pub(super) fn degraded_mentions(parent: &Object, text: &str) -> bool {
    degraded_message(parent).is_some_and(|m| m.contains(text))
}
