//! Server-side apply of the list types the real server declares: `metadata.finalizers` is a
//! set (each finalizer owned on its own) and Service ports are a map keyed by (`port`,
//! `protocol`), so two managers' entries live side by side.

use std::sync::Arc;

use operator_runtime_core::store::{ApplySupport, Patch, PatchParams, StoreResult};
use operator_runtime_core::{Object, ObjectStore, TypeRef};
use serde_json::{Value, json};

use crate::outcome::{CaseResult, Outcome};
use crate::support::Ctx;
use crate::support::kinds::config_map;

const NO_APPLY: &str = "the backend has no server-side apply";

async fn apply<S: ObjectStore + ?Sized>(
    cx: &Ctx<'_, S>,
    kind: &TypeRef,
    name: &str,
    body: Value,
    manager: &str,
) -> StoreResult<Arc<Object>> {
    let params = PatchParams {
        field_manager: Some(manager.to_owned()),
        ..PatchParams::default()
    };
    cx.store.patch(&cx.key(kind, name), &Patch::Apply(body), &params).await
}

fn finalizers(object: &Object) -> Vec<&str> {
    object
        .metadata
        .finalizers
        .iter()
        .flatten()
        .map(String::as_str)
        .collect()
}

/// Two managers each apply one finalizer: both are kept without a conflict, and a manager
/// that stops applying its finalizer removes only that one.
pub async fn apply_finalizers_are_owned_one_by_one<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    require!(store.capabilities().server_side_apply != ApplySupport::None, NO_APPLY);
    let cx = Ctx::new(store, "apply_finalizers_are_owned_one_by_one").await?;
    let body = |finalizers: Value| {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "held", "namespace": cx.ns, "finalizers": finalizers}})
    };
    let key = cx.key(&config_map(), "held");
    let result = async {
        apply(&cx, &config_map(), "held", body(json!(["example.com/a"])), "alpha")
            .await
            .map_err(|e| format!("alpha applies a: {e:?}"))?;
        let both = apply(&cx, &config_map(), "held", body(json!(["example.com/b"])), "beta")
            .await
            .map_err(|e| format!("beta applies b: {e:?}"))?;
        ensure!(
            finalizers(&both) == ["example.com/a", "example.com/b"],
            "finalizers {:?}",
            finalizers(&both)
        );
        let without = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "held", "namespace": cx.ns}});
        let after = apply(&cx, &config_map(), "held", without, "alpha")
            .await
            .map_err(|e| format!("alpha drops a: {e:?}"))?;
        ensure!(
            finalizers(&after) == ["example.com/b"],
            "finalizers {:?}",
            finalizers(&after)
        );
        Ok(Outcome::Passed)
    }
    .await;
    cx.release(&key).await;
    result
}

/// Service ports are keyed by (`port`, `protocol`): two managers' ports are merged.
pub async fn apply_service_ports_merge_by_port_and_protocol<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    require!(store.capabilities().server_side_apply != ApplySupport::None, NO_APPLY);
    let cx = Ctx::new(store, "apply_service_ports_merge_by_port_and_protocol").await?;
    let service = TypeRef::new("v1", "Service");
    let body = |port: u16, name: &str| {
        json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "namespace": cx.ns},
            "spec": {"ports": [{"name": name, "port": port, "protocol": "TCP"}]}})
    };
    apply(&cx, &service, "web", body(80, "http"), "alpha")
        .await
        .map_err(|e| format!("alpha applies port 80: {e:?}"))?;
    let merged = apply(&cx, &service, "web", body(443, "https"), "beta")
        .await
        .map_err(|e| format!("beta applies port 443: {e:?}"))?;
    let ports: Vec<i64> = merged
        .body
        .get("spec")
        .and_then(|s| s.get("ports"))
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .filter_map(|p| p.get("port").and_then(Value::as_i64))
                .collect()
        })
        .unwrap_or_default();
    ensure!(ports == [80, 443], "ports {ports:?}, expected [80, 443]");
    Ok(Outcome::Passed)
}
