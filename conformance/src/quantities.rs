//! Resource quantities of built-in kinds: the server stores them in canonical form, rounds
//! resource lists up to 1m, accepts JSON numbers, and rejects malformed ones with 400.

use operator_runtime_core::store::WriteParams;
use operator_runtime_core::{Object, ObjectStore, StoreError};
use serde_json::{Value, json};

use crate::outcome::{CaseResult, Outcome};
use crate::support::{Ctx, edit};

/// A Deployment whose one container has the given requests and limits, and an `emptyDir`
/// volume of the given size limit.
fn deployment(ns: &str, name: &str, requests: Value, limits: Value, size_limit: Value) -> Result<Object, String> {
    Object::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [{"name": "app", "image": "registry.invalid/app:1",
                        "resources": {"requests": requests, "limits": limits}}],
                    "volumes": [{"name": "scratch", "emptyDir": {"sizeLimit": size_limit}}]
                }
            }
        }
    }))
    .map_err(|e| format!("deployment body: {e}"))
}

fn pod_spec(object: &Object) -> &Value {
    &object.body["spec"]["template"]["spec"]
}

/// Quantities come back canonical: `1000m` -> `1`, `1024Mi` -> `1Gi`, `0.5` -> `500m`, `1e3`
/// stays, `1.5Gi` -> `1536Mi`, a JSON number becomes its text, a resource-list value finer than
/// 1m is rounded up to `1m` while a single quantity (`emptyDir.sizeLimit`) keeps `100u`; a
/// PersistentVolumeClaim's storage request `1024Mi` comes back `1Gi`.
pub async fn quantities_are_stored_in_canonical_form<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "quantities_are_stored_in_canonical_form").await?;
    let created = cx
        .create(&deployment(
            &cx.ns,
            "canonical",
            json!({"cpu": "0.5", "memory": "1024Mi", "ephemeral-storage": "1e3"}),
            json!({"cpu": "1000m", "memory": "1.5Gi", "ephemeral-storage": 2000}),
            json!("0.1m"),
        )?)
        .await?;
    for stored in [created.clone(), cx.get(&created.object_ref()).await?] {
        let spec = pod_spec(&stored);
        let resources = &spec["containers"][0]["resources"];
        ensure!(
            resources["requests"] == json!({"cpu": "500m", "memory": "1Gi", "ephemeral-storage": "1e3"}),
            "requests stored as {}",
            resources["requests"]
        );
        ensure!(
            resources["limits"] == json!({"cpu": "1", "memory": "1536Mi", "ephemeral-storage": "2k"}),
            "limits stored as {}",
            resources["limits"]
        );
        let size_limit = &spec["volumes"][0]["emptyDir"]["sizeLimit"];
        ensure!(
            size_limit == &json!("100u"),
            "emptyDir.sizeLimit stored as {size_limit}"
        );
    }

    let rounded = cx
        .create(&deployment(
            &cx.ns,
            "rounded",
            json!({"cpu": "0.1m"}),
            json!({"cpu": "1.0005"}),
            json!("1.5Gi"),
        )?)
        .await?;
    let spec = pod_spec(&rounded);
    let resources = &spec["containers"][0]["resources"];
    ensure!(
        resources["requests"]["cpu"] == json!("1m"),
        "0.1m request stored as {}",
        resources["requests"]["cpu"]
    );
    ensure!(
        resources["limits"]["cpu"] == json!("1001m"),
        "1.0005 limit stored as {}",
        resources["limits"]["cpu"]
    );
    let size_limit = &spec["volumes"][0]["emptyDir"]["sizeLimit"];
    ensure!(size_limit == &json!("1536Mi"), "1.5Gi sizeLimit stored as {size_limit}");

    let claim = Object::from_value(json!({
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": cx.ns},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1024Mi"}}}
    }))
    .map_err(|e| format!("claim body: {e}"))?;
    let claim = cx.create(&claim).await?;
    let storage = &claim.body["spec"]["resources"]["requests"]["storage"];
    ensure!(storage == &json!("1Gi"), "PVC storage request stored as {storage}");
    Ok(Outcome::Passed)
}

/// Writing a quantity in another spelling of the stored canonical text (`1000m` over `1`) is a
/// no-op: the resourceVersion stays.
pub async fn quantity_respelling_is_a_no_op_update<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "quantity_respelling_is_a_no_op_update").await?;
    let created = cx
        .create(&deployment(
            &cx.ns,
            "respell",
            json!({"cpu": "1"}),
            json!({"cpu": "2"}),
            json!("1Gi"),
        )?)
        .await?;
    let mut respelled = edit(&created);
    respelled.body["spec"]["template"]["spec"]["containers"][0]["resources"] =
        json!({"requests": {"cpu": "1000m"}, "limits": {"cpu": 2}});
    respelled.body["spec"]["template"]["spec"]["volumes"][0]["emptyDir"]["sizeLimit"] = json!("1024Mi");
    let updated = cx.replace(&respelled).await?;
    ensure!(
        updated.resource_version() == created.resource_version(),
        "resourceVersion changed from {:?} to {:?}: {}",
        created.resource_version(),
        updated.resource_version(),
        pod_spec(&updated)
    );
    Ok(Outcome::Passed)
}

/// A malformed quantity is rejected with 400 BadRequest (the body cannot be decoded), and
/// nothing is stored.
pub async fn malformed_quantity_is_bad_request<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "malformed_quantity_is_bad_request").await?;
    let bad = deployment(&cx.ns, "bad", json!({"cpu": "1x"}), json!({}), json!("1Gi"))?;
    expect_err!(
        store.create(&bad, &WriteParams::default()).await,
        StoreError::BadRequest { .. },
        "create with cpu 1x"
    );
    cx.expect_gone(&bad.object_ref()).await?;
    Ok(Outcome::Passed)
}
