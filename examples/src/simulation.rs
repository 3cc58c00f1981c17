//! The DataCluster operator under deterministic simulation
//! (`operator_runtime_memory::simulation`): two DataClusters, a user who scales, reconfigures,
//! upgrades, pauses, deletes and hand-edits, the workload controllers, and every fault class.

use std::time::Duration;

use operator_runtime_core::Object;
use operator_runtime_memory::simulation::{Simulation, World};
use serde_json::json;

use crate::crd::DataCluster;
use crate::operator::DataClusterOperator;
use crate::story::{NAMESPACE, sample_cluster};

/// The DataCluster world: its CRD, two clusters, three spec edits, workload controllers that
/// roll a change out in 10 s.
///
/// # Errors
/// When the CRD or the sample cluster cannot be converted to an [`Object`].
pub fn datacluster_world() -> Result<World, String> {
    let crd = Object::from_typed(&<DataCluster as kube::CustomResourceExt>::crd()).map_err(|e| e.to_string())?;
    let first = sample_cluster().map_err(|e| e.to_string())?;
    let mut second = first.clone();
    second.metadata.name = Some("pinot-b".into());
    Ok(World::new(NAMESPACE)
        .object(crd)
        .parent(first)
        .parent(second)
        .edit("scale the servers", |spec, n| {
            spec["nodes"][2]["replicas"] = json!(1 + n % 4)
        })
        .edit("change the broker config", |spec, n| {
            spec["nodes"][1]["config"]["pinot.broker.timeoutMs"] = json!(format!("{}", 1000 * (1 + n % 5)));
        })
        .edit("upgrade the image", |spec, n| {
            spec["image"] = json!(format!("apache/pinot:1.{}.0", 2 + n % 3));
        })
        .workload_controllers(Duration::from_secs(10)))
}

/// The DataCluster operator in [`datacluster_world`].
///
/// # Errors
/// As [`datacluster_world`].
pub fn datacluster_simulation() -> Result<Simulation, String> {
    // One operator built up front and cloned per replica start: building it derives the CRD
    // schema, which cost a tenth of every seed.
    let operator = DataClusterOperator::default();
    Ok(Simulation::new(move |_| operator.clone()).world(datacluster_world()?))
}
