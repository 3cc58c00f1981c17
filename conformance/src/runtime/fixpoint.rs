//! Runtime scenario of a pure operator ([`DynamicOperator::is_pure`]): a reconcile whose inputs
//! are unchanged since the parent's last converged one is skipped without a request; a child
//! changed in a way that is not drift (annotated by someone else) reuses the kept desired set;
//! every other change (a child edited or deleted, a looked-up object created, the parent's
//! spec or status edited by someone else) runs it in full again. The runtime's own status
//! write is not a change; an operator that reads the clock, or is not pure, reuses nothing.

use std::sync::Arc;

use operator_runtime_core::builder::{DesiredSet, GroupSpec, OwnedKind, Ownership};
use operator_runtime_core::reconcile::{Context, DynamicOperator, OperatorError, ReconcileReport, Reused, SpecError};
use operator_runtime_core::store::{DeleteParams, Patch, PatchParams, WriteParams};
use operator_runtime_core::{Object, ObjectRef, ObjectStore, TypeRef};
use serde_json::{Map, Value, json};

use super::fixture::{World, config_map};
use crate::outcome::{CaseResult, Outcome};
use crate::support::kinds;

const MANAGER: &str = "fixpoint-operator";
const NAME: &str = "fp";

fn ensure(cond: bool, why: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(why()) }
}

/// Declares one ConfigMap `<parent>-cfg` holding `spec.data`, plus `input.<key>` for each key
/// of the ConfigMap `<parent>-input` when it exists (looked up through the context);
/// `spec.readClock: true` makes `desired` read the clock. Its status field `notes` counts
/// the children annotated `note`.
struct FixpointOperator {
    ownership: Ownership,
    pure: bool,
}

impl FixpointOperator {
    fn new(pure: bool) -> Self {
        Self {
            ownership: Ownership::new(MANAGER).owns_kind(OwnedKind::namespaced(config_map())),
            pure,
        }
    }
}

impl DynamicOperator for FixpointOperator {
    fn parent_type(&self) -> TypeRef {
        kinds::widget()
    }

    fn ownership(&self) -> &Ownership {
        &self.ownership
    }

    fn is_pure(&self) -> bool {
        self.pure
    }

    fn desired(&self, parent: &Object, ctx: &Context<'_>, set: &mut DesiredSet) -> Result<(), OperatorError> {
        let spec = parent.spec().cloned().unwrap_or_default();
        if spec["readClock"] == json!(true) {
            let _ = ctx.now();
        }
        let mut data = spec["data"].as_object().cloned().unwrap_or_default();
        let input = ObjectRef::namespaced(
            config_map(),
            parent.namespace().unwrap_or_default(),
            format!("{}-input", parent.name()),
        );
        if let Some(found) = ctx.get_object(&input)? {
            for (k, v) in found.body.get("data").and_then(Value::as_object).into_iter().flatten() {
                data.insert(format!("input.{k}"), v.clone());
            }
        }
        set.declare(GroupSpec::ordered("all"))
            .map_err(|e| SpecError::new("spec", e.to_string()))?;
        let child = Object::new(&config_map(), parent.namespace(), &format!("{}-cfg", parent.name()))
            .with("data", Value::Object(data));
        set.add("all", child)
            .map_err(|e| SpecError::new("spec.data", e.to_string()))?;
        Ok(())
    }

    fn status(&self, _parent: &Object, children: &[Arc<Object>]) -> Result<Map<String, Value>, OperatorError> {
        let notes = children.iter().filter(|c| c.annotation("note").is_some()).count();
        let mut extra = Map::new();
        extra.insert("notes".into(), json!(notes));
        Ok(extra)
    }
}

/// A reconcile after the cache caught up, with the requests it sent.
async fn reconcile(w: &World<FixpointOperator>) -> Result<(ReconcileReport, u64), String> {
    w.settle().await?;
    let before = w.counted.snapshot();
    let report = w.reconcile(NAME).await?;
    Ok((report, w.requests_since(&before).total()))
}

/// Converges, then checks that the next reconcile is skipped without a request.
async fn converged_then_skipped(w: &World<FixpointOperator>, step: &str) -> Result<(), String> {
    w.converge(NAME).await?;
    let (report, sent) = reconcile(w).await?;
    ensure(report.reused == Reused::Everything && sent == 0, || {
        format!(
            "{step}: the reconcile after converging was not skipped (reused {:?}, {sent} requests)",
            report.reused
        )
    })?;
    ensure(report.conditions.iter().any(|(t, s, _, _)| t == "Ready" && *s), || {
        format!(
            "{step}: the skipped reconcile did not repeat the Ready condition: {:?}",
            report.conditions
        )
    })
}

/// A merge patch of `key` by someone else.
async fn patch(w: &World<FixpointOperator>, key: &ObjectRef, body: Value) -> Result<(), String> {
    w.raw
        .patch(key, &Patch::Merge(body), &PatchParams::default())
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}

/// After `step`: a full reconcile writes the one child, then the parent converges and its
/// next reconcile is skipped again.
async fn one_child_write_then_skipped(w: &World<FixpointOperator>, step: &str) -> Result<(), String> {
    let report = runs(w, step, Reused::Nothing).await?;
    ensure(report.child_writes == 1, || {
        format!("{step}: {} child writes", report.child_writes)
    })?;
    converged_then_skipped(w, step).await
}

/// Runs a reconcile after `step` and checks it reused `reused` of the last one; returns its
/// report.
async fn runs(w: &World<FixpointOperator>, step: &str, reused: Reused) -> Result<ReconcileReport, String> {
    let (report, _) = reconcile(w).await?;
    ensure(report.reused == reused, || {
        format!("{step}: the reconcile reused {:?}, not {reused:?}", report.reused)
    })?;
    Ok(report)
}

/// A pure operator's unchanged reconcile is skipped, a child annotated by someone else reuses
/// the desired set, and each other change of its inputs (child edited or deleted; looked-up
/// object created; parent spec or status edited) runs it in full; its own status write is no
/// change; reading the clock or not being pure disables any reuse.
pub async fn pure_operator_skips_only_unchanged_reconciles(store: Arc<dyn ObjectStore>) -> CaseResult {
    let w = World::with_operator(
        Arc::clone(&store),
        "runtime-fixpoint",
        FixpointOperator::new(true),
        MANAGER,
    )
    .await?;
    let parent_key = w.key(&kinds::widget(), NAME);
    let child = w.key(&config_map(), "fp-cfg");
    let parent = Object::new(&kinds::widget(), Some(&w.ns), NAME).with("spec", json!({"data": {"k": "v1"}}));
    w.create(&parent).await?;
    converged_then_skipped(&w, "first converge").await?;
    let (again, sent) = reconcile(&w).await?;
    ensure(again.reused == Reused::Everything && sent == 0, || {
        "a second resync was not skipped".into()
    })?;

    // Another manager annotates the child: not drift, but the status counts it. That reconcile
    // plans the kept desired set (the parent did not change), writes the status, and the
    // runtime's own write is no reason to run again.
    patch(&w, &child, json!({"metadata": {"annotations": {"note": "hello"}}})).await?;
    let report = runs(&w, "child annotated", Reused::Desired).await?;
    ensure(report.status_written && report.child_writes == 0, || {
        format!(
            "child annotated: status written {}, child writes {}",
            report.status_written, report.child_writes
        )
    })?;
    let (after_status, sent) = reconcile(&w).await?;
    ensure(after_status.reused == Reused::Everything && sent == 0, || {
        "the reconcile after the runtime's own status write was not skipped".into()
    })?;

    // Someone else edits the parent's status: it runs and puts the status back.
    let current = w.get(&parent_key).await?.ok_or("parent gone")?;
    let mut edited = (*current).clone();
    edited.body.insert("status".into(), json!({"notes": 7}));
    w.raw
        .replace_status(&edited, &WriteParams::default())
        .await
        .map_err(|e| e.to_string())?;
    let report = runs(&w, "parent status edited", Reused::Nothing).await?;
    ensure(report.status_written, || {
        "parent status edited: the status was not restored".into()
    })?;
    converged_then_skipped(&w, "status restored").await?;

    // The looked-up object appears: the child gains its data.
    let input = Object::new(&config_map(), Some(&w.ns), "fp-input").with("data", json!({"x": "1"}));
    w.create(&input).await?;
    one_child_write_then_skipped(&w, "looked-up object created").await?;

    // A manual edit of an owned field, the child's deletion, a spec change: each written by a
    // full reconcile (the kept set's plan cannot verify the child).
    patch(&w, &child, json!({"data": {"k": "edited"}})).await?;
    one_child_write_then_skipped(&w, "child edited").await?;
    w.raw
        .delete(&child, &DeleteParams::default())
        .await
        .map_err(|e| e.to_string())?;
    one_child_write_then_skipped(&w, "child deleted").await?;
    patch(&w, &parent_key, json!({"spec": {"data": {"k": "v2"}}})).await?;
    one_child_write_then_skipped(&w, "spec changed").await?;

    // A spec whose `desired` reads the clock: never skipped.
    patch(&w, &parent_key, json!({"spec": {"readClock": true}})).await?;
    w.converge(NAME).await?;
    for round in 0..2 {
        let (report, sent) = reconcile(&w).await?;
        ensure(
            report.reused == Reused::Nothing && sent == 0 && report.child_writes == 0,
            || {
                format!(
                    "clock read, resync {round}: reused {:?}, {sent} requests",
                    report.reused
                )
            },
        )?;
    }

    // The same operator not declared pure: converged, a resync still runs in full.
    let impure = World::with_operator(store, "runtime-fixpoint-impure", FixpointOperator::new(false), MANAGER).await?;
    let parent = Object::new(&kinds::widget(), Some(&impure.ns), NAME).with("spec", json!({"data": {"k": "v1"}}));
    impure.create(&parent).await?;
    impure.converge(NAME).await?;
    let (report, sent) = reconcile(&impure).await?;
    ensure(report.reused == Reused::Nothing && sent == 0, || {
        format!("impure operator: reused {:?}, {sent} requests", report.reused)
    })?;
    Ok(Outcome::Passed)
}
