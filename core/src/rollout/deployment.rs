//! Deployment readiness.

use super::Readiness;
use super::fields::{Fields, Malformed};
use crate::model::Object;

/// The reason the deployment controller puts on the `Progressing` condition when
/// `spec.progressDeadlineSeconds` passed without progress.
const PROGRESS_DEADLINE_EXCEEDED: &str = "ProgressDeadlineExceeded";

pub(super) fn readiness(object: &Object) -> Readiness {
    check(&Fields::new(object)).unwrap_or_else(Readiness::from)
}

fn check(f: &Fields<'_>) -> Result<Readiness, Malformed> {
    // A stale condition may describe the previous rollout: only trust status once observed.
    if let Some(waiting) = f.generation_not_observed()? {
        return Ok(waiting);
    }
    let progressing = f
        .array(&["status", "conditions"])?
        .iter()
        .find(|c| c.get("type").and_then(|t| t.as_str()) == Some("Progressing"));
    if let Some(condition) = progressing
        && condition.get("reason").and_then(|r| r.as_str()) == Some(PROGRESS_DEADLINE_EXCEEDED)
    {
        let message = condition.get("message").and_then(|m| m.as_str()).unwrap_or("");
        return Ok(Readiness::failed(format!("exceeded its progress deadline: {message}")));
    }
    let replicas = f.desired_replicas()?;
    let updated = f.int(&["status", "updatedReplicas"])?.unwrap_or(0);
    let pods = f.int(&["status", "replicas"])?.unwrap_or(0);
    let ready = f.int(&["status", "readyReplicas"])?.unwrap_or(0);
    let available = f.int(&["status", "availableReplicas"])?.unwrap_or(0);

    if let Some(waiting) = f.at_least(updated, replicas, "replicas updated") {
        return Ok(waiting);
    }
    if pods > updated {
        return Ok(Readiness::progressing(format!(
            "{} old replicas pending termination",
            pods - updated
        )));
    }
    if let Some(waiting) = f.at_least(ready, replicas, "replicas ready") {
        return Ok(waiting);
    }
    if let Some(waiting) = f.at_least(available, replicas, "replicas available") {
        return Ok(waiting);
    }
    Ok(Readiness::Ready)
}
