//! Custom resource definitions: kinds that are not installed, discovery of installed ones, and
//! the schema (validation, CEL, pruning, defaulting) (A.3 items 79-81, 84). Schema behaviours
//! need `Capabilities::schema_validation`.

use operator_runtime_core::store::{ListParams, SchemaValidation, WriteParams};
use operator_runtime_core::{Object, ObjectStore, StoreError};
use serde_json::{Value, json};

use crate::outcome::{CaseResult, Outcome};
use crate::support::kinds::{config_map, doodad, gadget, widget};
use crate::support::{Ctx, OrFail};

const NO_SCHEMA: &str = "backend does not validate, prune or default against CRD schemas \
                         (Capabilities::schema_validation is None)";
const NO_CEL: &str = "backend does not evaluate CEL rules (x-kubernetes-validations): \
                      Capabilities::schema_validation is not Full; runs on the real API server";

fn schema_checked<S: ObjectStore + ?Sized>(store: &S) -> bool {
    store.capabilities().schema_validation != SchemaValidation::None
}

/// A.3 #84: get of a kind whose CRD is not installed is NotFound.
pub async fn get_of_uninstalled_kind_is_not_found<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "get_of_uninstalled_kind_is_not_found").await?;
    expect_err!(
        store.get(&cx.key(&doodad(), "d")).await,
        StoreError::NotFound { .. },
        "get Doodad"
    );
    Ok(Outcome::Passed)
}

/// A.3 #84: list of a kind whose CRD is not installed is NotFound.
pub async fn list_of_uninstalled_kind_is_not_found<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "list_of_uninstalled_kind_is_not_found").await?;
    expect_err!(
        store.list(&doodad(), &ListParams::in_namespace(&cx.ns)).await,
        StoreError::NotFound { .. },
        "list Doodads"
    );
    Ok(Outcome::Passed)
}

/// A.3 #84: create of a kind whose CRD is not installed is NotFound.
pub async fn create_of_uninstalled_kind_is_not_found<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "create_of_uninstalled_kind_is_not_found").await?;
    let body = Object::new(&doodad(), Some(&cx.ns), "d");
    expect_err!(
        store.create(&body, &WriteParams::default()).await,
        StoreError::NotFound { .. },
        "create Doodad"
    );
    Ok(Outcome::Passed)
}

/// Discovery of an uninstalled kind is NotFound.
pub async fn kind_info_of_uninstalled_kind_is_not_found<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    expect_err!(
        store.kind_info(&doodad()).await,
        StoreError::NotFound { .. },
        "kind_info Doodad"
    );
    Ok(Outcome::Passed)
}

/// Discovery reports plural and status subresource as the CRDs declare them.
pub async fn kind_info_reports_crd_plural_and_status_subresource<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "kind_info_reports_crd_plural_and_status_subresource").await?;
    cx.install_crds().await?;
    let w = store.kind_info(&widget()).await.or_fail("kind_info Widget")?;
    ensure!(w.plural == "widgets" && w.status_subresource, "Widget: {w:?}");
    let g = store.kind_info(&gadget()).await.or_fail("kind_info Gadget")?;
    ensure!(g.plural == "gadgets" && !g.status_subresource, "Gadget: {g:?}");
    let c = store.kind_info(&config_map()).await.or_fail("kind_info ConfigMap")?;
    ensure!(c.plural == "configmaps" && !c.status_subresource, "ConfigMap: {c:?}");
    Ok(Outcome::Passed)
}

/// With `x-kubernetes-preserve-unknown-fields`, arbitrary spec content is kept as written.
pub async fn preserve_unknown_fields_keeps_unknown_spec_fields<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "preserve_unknown_fields_keeps_unknown_spec_fields").await?;
    cx.install_crds().await?;
    let spec = json!({"anything": {"nested": [1, "two", {"three": true}]}, "size": 1});
    let created = cx.create(&cx.widget("w", spec.clone())).await?;
    ensure!(created.spec() == Some(&spec), "spec {:?}", created.spec());
    Ok(Outcome::Passed)
}

async fn invalid_spec<S: ObjectStore + ?Sized>(store: &S, behaviour: &str, spec: Value) -> CaseResult {
    require!(schema_checked(store), NO_SCHEMA);
    let cx = Ctx::new(store, behaviour).await?;
    cx.install_crds().await?;
    let err = expect_err!(
        store
            .create(&cx.widget("w", spec.clone()), &WriteParams::default())
            .await,
        StoreError::Invalid { .. },
        format!("create with spec {spec}")
    );
    ensure!(
        err.causes().iter().any(|c| c.field.starts_with("spec")),
        "no cause names a spec field: {:?}",
        err.causes()
    );
    Ok(Outcome::Passed)
}

/// A.3 #79: a value of the wrong type is Invalid, with a field path.
pub async fn schema_wrong_type_is_invalid<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    invalid_spec(store, "schema_wrong_type_is_invalid", json!({"replicas": "three"})).await
}

/// A.3 #79: a value below the schema minimum is Invalid.
pub async fn schema_minimum_violation_is_invalid<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    invalid_spec(store, "schema_minimum_violation_is_invalid", json!({"replicas": -1})).await
}

/// A.3 #79: a missing required field is Invalid.
pub async fn schema_missing_required_field_is_invalid<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    invalid_spec(
        store,
        "schema_missing_required_field_is_invalid",
        json!({"limits": {"min": 1}}),
    )
    .await
}

/// A.3 #79: a violated CEL rule (`x-kubernetes-validations`) is Invalid.
pub async fn schema_cel_rule_violation_is_invalid<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    require!(store.capabilities().schema_validation == SchemaValidation::Full, NO_CEL);
    invalid_spec(
        store,
        "schema_cel_rule_violation_is_invalid",
        json!({"limits": {"min": 5, "max": 1}}),
    )
    .await
}

/// A.3 #80: fields unknown to a structural schema without preserve-unknown-fields are pruned.
pub async fn schema_unknown_field_is_pruned<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    require!(schema_checked(store), NO_SCHEMA);
    let cx = Ctx::new(store, "schema_unknown_field_is_pruned").await?;
    cx.install_crds().await?;
    let created = cx
        .create(&cx.widget("w", json!({"pruned": {"kept": "a", "dropped": "b"}})))
        .await?;
    let stored = cx.get(&created.object_ref()).await?;
    let pruned = stored.spec().and_then(|s| s.get("pruned"));
    ensure!(
        pruned == Some(&json!({"kept": "a"})),
        "spec.pruned {pruned:?}, expected {{kept: a}}"
    );
    Ok(Outcome::Passed)
}

/// A.3 #81: schema defaults appear on the object returned from create.
pub async fn schema_default_is_applied_on_create<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    require!(schema_checked(store), NO_SCHEMA);
    let cx = Ctx::new(store, "schema_default_is_applied_on_create").await?;
    cx.install_crds().await?;
    let created = cx.create(&cx.widget("w", json!({"defaulted": {}}))).await?;
    let mode = created.spec().and_then(|s| s.pointer("/defaulted/mode"));
    ensure!(
        mode == Some(&json!("auto")),
        "spec.defaulted.mode {mode:?}, expected \"auto\""
    );
    Ok(Outcome::Passed)
}
