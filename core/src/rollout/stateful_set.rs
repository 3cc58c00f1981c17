//! StatefulSet readiness.

use super::Readiness;
use super::fields::{Fields, Malformed};
use crate::model::Object;

pub(super) fn readiness(object: &Object) -> Readiness {
    check(&Fields::new(object)).unwrap_or_else(Readiness::from)
}

fn check(f: &Fields<'_>) -> Result<Readiness, Malformed> {
    if let Some(waiting) = f.generation_not_observed()? {
        return Ok(waiting);
    }
    let replicas = f.desired_replicas()?;
    let ready = f.int(&["status", "readyReplicas"])?.unwrap_or(0);
    // Servers before availableReplicas existed only report ready pods.
    let available = f.int(&["status", "availableReplicas"])?.unwrap_or(ready);
    let updated = f.int(&["status", "updatedReplicas"])?.unwrap_or(0);
    let pods = f.int(&["status", "replicas"])?.unwrap_or(0);

    if let Some(waiting) = f.at_least(ready, replicas, "pods ready") {
        return Ok(waiting);
    }
    if let Some(waiting) = f.at_least(available, replicas, "pods available") {
        return Ok(waiting);
    }
    match f.str(&["spec", "updateStrategy", "type"])?.unwrap_or("RollingUpdate") {
        // Pods are replaced only when someone deletes them: nothing more to wait for.
        "OnDelete" => {}
        "RollingUpdate" => {
            let partition = f
                .int(&["spec", "updateStrategy", "rollingUpdate", "partition"])?
                .unwrap_or(0)
                .max(0);
            // Only ordinals >= partition are moved to the update revision.
            let must_update = (replicas - partition).max(0);
            let what = if partition > 0 {
                format!("pods at ordinals >= {partition} updated")
            } else {
                "pods updated".to_owned()
            };
            if let Some(waiting) = f.at_least(updated, must_update, &what) {
                return Ok(waiting);
            }
            // The controller moves currentRevision to updateRevision once every pod is updated
            // and ready, which never happens while a partition holds pods back.
            if partition == 0 {
                let current = f.str(&["status", "currentRevision"])?;
                let update = f.str(&["status", "updateRevision"])?;
                if let (Some(current), Some(update)) = (current, update)
                    && current != update
                {
                    return Ok(Readiness::progressing(format!(
                        "current revision {current} is not yet the update revision {update}"
                    )));
                }
            }
        }
        other => {
            return Ok(Readiness::failed(format!("unknown update strategy type {other:?}")));
        }
    }
    if pods > replicas {
        return Ok(Readiness::progressing(format!(
            "scaling down, {pods} pods for {replicas} replicas"
        )));
    }
    Ok(Readiness::Ready)
}
