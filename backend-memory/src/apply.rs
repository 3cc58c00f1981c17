//! Server-side apply (PATCH with `application/apply-patch+yaml`), the documented subset. This
//! module is the verb; the merge, ownership and conflicts are in `crate::fieldmanager`, the
//! write goes through `crate::registry`.
//!
//! What the in-memory server implements:
//! - **Field ownership at leaf paths.** The fields of an applied configuration are its leaf
//!   paths: nested maps are descended into, and every scalar, list or empty map is a leaf.
//!   From `metadata`, only `labels`, `annotations` (per key), `finalizers` and
//!   `ownerReferences` are owned; `apiVersion`, `kind`, names and server-set metadata are not.
//!   For kinds with a status subresource, `status` in an apply to the main resource is ignored.
//! - **Keyed lists merge by entry** for the lists the built-in kinds declare as maps by
//!   `name` (containers, initContainers, ephemeralContainers, volumes, env), `mountPath`
//!   (volumeMounts), `type` (conditions), (`containerPort`, `protocol`) for container ports
//!   and (`port`, `protocol`) for Service ports, `protocol` defaulting to `TCP` in the key
//!   (`src/fieldpath.rs`): each entry is owned per field under its `k:{...}` key, so two
//!   managers' entries live side by side and a manager dropping its entry removes only that
//!   entry. For custom resources, the CRD schema's `x-kubernetes-list-type: map` with
//!   `x-kubernetes-list-map-keys`, and `set`, decide instead.
//! - **Sets**: `metadata.finalizers` (and CRD `x-kubernetes-list-type: set` lists) own each
//!   item on its own (`v:"..."`), so two managers can each own one finalizer. Every other
//!   list is atomic: one leaf, owned and replaced as a whole.
//! - **managedFields** gets one entry per applying manager, with `operation: Apply`,
//!   `fieldsType: FieldsV1` and `fieldsV1` in the real `f:` format (`{"f:spec":{"f:replicas":{}}}`).
//!   Writes other than apply (create, update, patch, status update) with a field manager
//!   record an `operation: Update` entry the same way: the fields the write changed become
//!   that manager's and leave every other manager's set, so an edit of an applied field is a
//!   conflict for the applier's next apply without force, as on the real server. A write
//!   without a field manager records nothing (the real server derives one from the user agent).
//! - **Conflicts**: applying a value for a field that another manager owns (the same path, or a
//!   path above or below it) with a different value is a 409 Conflict whose causes have reason
//!   `FieldManagerConflict`, one per field; with `force` the applier takes the field over and
//!   the other manager loses it. Applying the same value shares ownership.
//! - **Removal**: a field this manager applied before and omits now is removed from the
//!   object unless another manager still owns it; maps and keyed entries emptied by the
//!   removal go too.
//! - **Create on apply** when the object does not exist; **no-op** applies keep the
//!   resourceVersion and emit nothing.
//! - A missing field manager is a 422 Invalid; `managedFields` in the body is a 400.
//!
//! Not implemented: `x-kubernetes-map-type`, defaults of CRD list-map keys, apply to
//! subresources, and the managedFields `time` of shared ownership.

use std::sync::Arc;

use operator_runtime_core::store::{PatchParams, StoreResult};
use operator_runtime_core::{Object, ObjectRef, StoreError};
use serde_json::Value;

use crate::fieldmanager;
use crate::meta::now_seconds;
use crate::registry::{self, RvRule, WriteOptions};
use crate::state::State;
use crate::validation::Causes;

/// PATCH with `application/apply-patch+yaml`.
pub(crate) fn apply(
    state: &mut State,
    key: &ObjectRef,
    body: &Value,
    params: &PatchParams,
) -> StoreResult<Arc<Object>> {
    let kind = registry::kind_of(state, &key.type_ref)?;
    let namespace = registry::request_namespace(&kind, key.namespace.as_deref());
    let Some(manager) = params.field_manager.as_deref().filter(|m| !m.is_empty()) else {
        let mut causes = Causes::default();
        causes.required("fieldManager", "is required for apply patch");
        return causes.fail("PatchOptions", "");
    };
    let applied = Object::from_value(body.clone())
        .map_err(|e| StoreError::bad_request(format!("invalid apply configuration: {e}")))?;
    if applied.metadata.managed_fields.as_ref().is_some_and(|m| !m.is_empty()) {
        return Err(StoreError::bad_request("metadata.managedFields must be nil"));
    }
    let applied = registry::check_identity(&kind, namespace, &key.name, applied)?;
    let old = state.lookup(kind.slot, namespace, &key.name).cloned();
    let now = now_seconds(state.clock.as_ref());
    let schema = kind.strategy.hooks.schema();
    let new = fieldmanager::apply(&kind.info, schema, old.as_deref(), applied, manager, params.force, now)?;
    // Apply records its own entry: the pipeline records no `Update` entry.
    let opts = WriteOptions {
        manager: None,
        dry_run: params.dry_run,
    };
    match old {
        Some(old) => registry::update(state, &kind, &old, new, RvRule::Unconditional, opts),
        None => registry::create(state, &kind, new, opts),
    }
}
