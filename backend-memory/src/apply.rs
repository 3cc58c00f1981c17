//! Server-side apply (PATCH with `application/apply-patch+yaml`), the documented subset. This
//! module is the verb; the merge, ownership and conflicts are in `src/fieldmanager.rs`, the
//! write goes through `src/registry`.
//!
//! What the in-memory server implements, ported from structured-merge-diff v6 and
//! `k8s.io/apimachinery/pkg/util/managedfields` (`src/fieldpath.rs`, `src/fieldmanager.rs`):
//! - **Field sets as the server computes them.** An apply owns the set of its configuration
//!   (`ToFieldSet`): scalars, atomic lists and maps, empty maps, and every entry of an
//!   associative list (itself, so its `fieldsV1` carries the `".": {}` self-marker, and its
//!   fields). Which lists are associative (`listType=map` with keys, `set`) and which maps
//!   and structs are atomic (`x-kubernetes-map-type: atomic`: a LabelSelector, a Service
//!   selector, owner references) comes from the tables generated from the server's OpenAPI
//!   (`operator_runtime_core::builtin_schema`), or from the CRD schema. `apiVersion`, `kind`
//!   and server-set metadata are never owned; the strategy's reset fields (`status` of the
//!   main resource, `spec` of `/status`) are nobody's in that write.
//! - **Update entries** (create, update, patch, status update with a field manager): the
//!   fields the write added or changed (`Compare` with the stored object, or with the kind's
//!   Go zero value on create, so a create owns `metadata.labels` as a whole but not `spec`)
//!   become that manager's `Update` entry and leave every other manager; removed fields leave
//!   everyone. Defaults are the writer's; what the strategy and allocation add after the field
//!   manager (a Service's cluster IP, node ports) is nobody's.
//! - **Apply**: the configuration is merged into the live object (associative lists entry by
//!   entry, atomic values replaced), fields this manager applied before and no manager owns
//!   any more are removed, and a field another manager owns that the merge adds or changes is
//!   a 409 Conflict (causes `FieldManagerConflict` named `.spec.containers[name="app"].image`)
//!   unless `force`, which takes it over. A manager left with no fields loses its entry.
//! - **Errors in the apply path** are the server's: a configuration that does not fit a CRD
//!   schema (undeclared field, wrong scalar type) and a merged object the kind's type cannot
//!   hold (bad base64, malformed quantity) are 500s; a missing field manager is a 422;
//!   `managedFields` in the body is a 400.
//! - **Create on apply** when the object does not exist; **no-op** applies keep the
//!   resourceVersion and emit nothing.
//!
//! - **Apply to `/status`** ([`PatchParams::status`]): the manager's entry carries
//!   `subresource: status` and is apart from its main-resource entry; `spec` (and what else
//!   the kind's status strategy resets) in the configuration is ignored and owned by nobody;
//!   the object must exist (NotFound otherwise: the status store does not create).
//!
//! Not implemented: apply to the `scale` subresource, multiple API versions of one kind, the
//! `before-first-apply` entry and the cap of ten `Update` entries, defaults of CRD list-map
//! keys, and the managedFields `time` of shared ownership.

use std::sync::Arc;

use operator_runtime_core::store::{PatchParams, StoreResult};
use operator_runtime_core::{Object, ObjectRef, StoreError, schema};
use serde_json::Value;

use crate::errors::{no_status_subresource, not_found};
use crate::fieldmanager;
use crate::fieldpath::{self, duplicate_entry};
use crate::meta::now_seconds;
use crate::registry::{self, RvRule, WriteOptions};
use crate::state::State;
use crate::validation::Causes;

/// Go's `%T` of a decoded JSON value.
fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// An associative list (`set`, or `map` with keys) of an apply configuration has each item
/// once (`duplicate entries for key [="a"]`).
fn duplicates(items: &[Value], schema: &Value, path: &str) -> Result<(), String> {
    let keys: Vec<&str> = schema
        .get("x-kubernetes-list-map-keys")
        .and_then(Value::as_array)
        .map(|k| k.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let element = |item: &Value| -> String {
        match schema.get("x-kubernetes-list-type").and_then(Value::as_str) {
            Some("map") => {
                let fields: Vec<String> = keys
                    .iter()
                    .filter_map(|k| Some(format!("{k}={}", item.get(*k)?)))
                    .collect();
                format!("[{}]", fields.join(","))
            }
            _ => format!("[={item}]"),
        }
    };
    if !matches!(
        schema.get("x-kubernetes-list-type").and_then(Value::as_str),
        Some("set" | "map")
    ) {
        return Ok(());
    }
    let mut seen = std::collections::BTreeSet::new();
    for item in items {
        let e = element(item);
        if !seen.insert(e.clone()) {
            return Err(format!("{path}: duplicate entries for key {e}"));
        }
    }
    Ok(())
}

/// structured-merge-diff's validation of an apply configuration against a CRD's schema (the
/// typed patch object): every field declared, every scalar of its type. `metadata`,
/// `apiVersion` and `kind` are the server's own types and not checked here.
fn typecheck_custom(body: &Value, schema: &Value) -> Result<(), String> {
    fn check(value: &Value, schema: &Value, path: &mut String) -> Result<(), String> {
        if value.is_null() || schema.get("x-kubernetes-int-or-string").is_some_and(|v| v == true) {
            return Ok(());
        }
        let fail = |what: &str, path: &str| Err(format!("{path}: expected {what}, got {}", go_type(value)));
        match schema.get("type").and_then(Value::as_str) {
            Some("integer" | "number") if !value.is_number() => fail("numeric (int or float)", path),
            Some("string") if !value.is_string() => fail("string", path),
            Some("boolean") if !value.is_boolean() => fail("boolean", path),
            Some("array") => {
                let Some(items) = value.as_array() else {
                    return Err(format!("{path}: expected list, got {value}"));
                };
                if let Some(item_schema) = schema.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        let len = path.len();
                        path.push_str(&format!("[{i}]"));
                        check(item, item_schema, path)?;
                        path.truncate(len);
                    }
                }
                duplicates(items, schema, path)
            }
            Some("object") => {
                let Some(map) = value.as_object() else {
                    return Err(format!("{path}: expected map, got {value}"));
                };
                let open = schema
                    .get("x-kubernetes-preserve-unknown-fields")
                    .is_some_and(|v| v == true);
                let properties = schema.get("properties").and_then(Value::as_object);
                let additional = schema.get("additionalProperties").filter(|a| a.is_object());
                for (k, v) in map {
                    let len = path.len();
                    path.push('.');
                    path.push_str(k);
                    match (properties.and_then(|p| p.get(k)), additional) {
                        (Some(s), _) | (None, Some(s)) => check(v, s, path)?,
                        (None, None) if open => {}
                        (None, None) => return Err(format!("{path}: field not declared in schema")),
                    }
                    path.truncate(len);
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
    let Some(map) = body.as_object() else {
        return Ok(());
    };
    let properties = schema.get("properties").and_then(Value::as_object);
    for (k, v) in map {
        if matches!(k.as_str(), "apiVersion" | "kind" | "metadata") {
            continue;
        }
        let mut path = format!(".{k}");
        match properties.and_then(|p| p.get(k)) {
            Some(s) => check(v, s, &mut path)?,
            None if schema
                .get("x-kubernetes-preserve-unknown-fields")
                .is_some_and(|v| v == true) => {}
            None => return Err(format!("{path}: field not declared in schema")),
        }
    }
    Ok(())
}

/// The manager that owns an object's fields from before its first apply.
const BEFORE_FIRST_APPLY: &str = "before-first-apply";

/// An apply configuration as the request carries it.
pub(crate) enum Configuration<'a> {
    /// A patch body's JSON.
    Json(&'a Value),
    /// A whole object (`ObjectStore::apply_object`) and the resourceVersion that stands for
    /// its own: the same apply as of its JSON, without building that JSON to decode it again.
    Object(&'a Object, Option<&'a str>),
}

/// PATCH with `application/apply-patch+yaml`, or `ObjectStore::apply_object`.
pub(crate) fn apply(
    state: &mut State,
    key: &ObjectRef,
    config: Configuration<'_>,
    params: &PatchParams,
) -> StoreResult<Arc<Object>> {
    let kind = registry::kind_of(state, &key.type_ref)?;
    if params.status && !kind.info.status_subresource {
        return Err(no_status_subresource(&kind.info));
    }
    let namespace = registry::request_namespace(&kind, key.namespace.as_deref());
    let Some(manager) = params.field_manager.as_deref().filter(|m| !m.is_empty()) else {
        let mut causes = Causes::default();
        causes.required("fieldManager", "is required for apply patch");
        return causes.fail("PatchOptions", "");
    };
    let applied = match config {
        Configuration::Json(body) => Object::from_value_ref(body)
            .map_err(|e| StoreError::bad_request(format!("invalid apply configuration: {e}")))?,
        Configuration::Object(object, resource_version) => {
            let mut applied = object.clone();
            if let Some(rv) = resource_version {
                applied.metadata.resource_version = Some(rv.to_owned());
            }
            applied
        }
    };
    if applied.metadata.managed_fields.as_ref().is_some_and(|m| !m.is_empty()) {
        return Err(StoreError::bad_request("metadata.managedFields must be nil"));
    }
    let applied = registry::check_identity(&kind, namespace, &key.name, applied)?;
    let old = registry::lookup_as(state, &kind, namespace, &key.name);
    // The status store never creates on apply (`StatusREST.Update` passes no
    // `forceAllowCreate`).
    if params.status && old.is_none() {
        return Err(not_found(&kind.info, &key.name));
    }
    let now = now_seconds(state.clock.as_ref());
    let schema = kind.strategy.hooks.schema();
    let gvk = format!("{}, Kind={}", kind.info.type_ref.api_version, kind.info.type_ref.kind);
    // A custom resource's configuration is checked as the JSON a request would carry.
    let typechecked = match (schema, &config) {
        (None, _) => Ok(()),
        (Some(schema), Configuration::Json(body)) => typecheck_custom(body, schema),
        (Some(schema), Configuration::Object(object, _)) => match object.to_value() {
            Ok(body) => typecheck_custom(&body, schema),
            Err(e) => Err(e.to_string()),
        },
    };
    // A built-in kind's configuration is typed too: two items with one key in an associative
    // list fail there, before any validation.
    let typechecked = typechecked.and_then(|()| match schema {
        Some(_) => Ok(()),
        None => {
            let root = fieldpath::Node::root(&kind.info.type_ref, None);
            applied
                .body
                .iter()
                .find_map(|(name, value)| duplicate_entry(value, &root.field(name), &mut format!(".{name}")))
                .map_or(Ok(()), Err)
        }
    });
    if let Err(error) = typechecked {
        return Err(StoreError::Internal {
            message: format!(
                "failed to create typed patch object ({namespace}/{}; {gvk}): {error}",
                key.name
            ),
        });
    }
    // `skipNonAppliedManager.Apply`: the fields of an object without managedFields become a
    // "before-first-apply" manager's first, so the apply can conflict with them.
    let stored = old.clone();
    let old = match old {
        Some(live) if live.metadata.managed_fields.as_ref().is_none_or(Vec::is_empty) => {
            let mut seeded = Object::clone(&live);
            fieldmanager::record_update(
                &kind.info,
                schema,
                None,
                &mut seeded,
                BEFORE_FIRST_APPLY,
                None,
                now.clone(),
            );
            Some(Arc::new(seeded))
        }
        other => other,
    };
    let subresource = params.status.then_some("status");
    let mut new = fieldmanager::apply(
        &kind.info,
        schema,
        old.as_deref(),
        applied,
        manager,
        subresource,
        params.force,
        now,
    )?;
    // A custom resource is stored as the merge left it: an emptied `labels: {}` stays in the
    // stored form, though no read shows it (the typed metadata drops it).
    let keeps_empty_metadata = schema.is_some() && {
        let meta = &new.metadata;
        meta.labels.as_ref().is_some_and(|m| m.is_empty()) || meta.annotations.as_ref().is_some_and(|m| m.is_empty())
    };
    // The request-body null pruning of custom resources does not run on an apply's result: a
    // field the prune emptied is `null`, Invalid unless its schema says `nullable`.
    if let Some(schema) = schema {
        let mut causes = Causes::default();
        for v in schema::null_violations(schema, &new.body) {
            causes.push(&v.reason, &v.field, v.message);
        }
        causes.into_result(&kind.info.type_ref.kind, &key.name)?;
    }
    // The merged object is converted to the kind's type only now: a body the type cannot hold
    // (bad base64, a malformed quantity) is the server's 500 here, not the 400 of other writes.
    registry::normalize(&kind, &mut new).map_err(|e| match e {
        StoreError::BadRequest { message } => StoreError::Internal {
            message: format!(
                "failed to convert new object ({namespace}/{}; {gvk}) to proper version: {message}",
                key.name
            ),
        },
        other => other,
    })?;
    // Apply records its own entry: the pipeline records no `Update` entry.
    let opts = WriteOptions {
        manager: None,
        dry_run: params.dry_run,
        subresource: None,
        keeps_empty_metadata,
        normalized: true,
    };
    // The pipeline compares with what is stored, not with the seeded copy: an apply that only
    // adds the "before-first-apply" entry is a change (a new resourceVersion), as on the server.
    match stored {
        Some(old) => {
            if new.metadata.managed_fields.is_none() {
                // No manager owns anything any more (an empty apply by the only one): the
                // update must clear the entries, not keep the stored ones as an update that
                // omits managedFields does. `[{}]` is the documented way to say so.
                new.metadata.managed_fields = Some(vec![Default::default()]);
            }
            if params.status {
                // The status store writes `status` (and the metadata the kind's status
                // strategy keeps) of the merged object.
                return registry::update_status(state, &kind, &old, new, RvRule::Unconditional, opts);
            }
            registry::update(state, &kind, &old, new, RvRule::Unconditional, opts)
        }
        None => {
            // Create-via-apply: the apiserver prepares the new object for storage, which drops
            // the resourceVersion an apply configuration carried as a precondition.
            new.metadata.resource_version = None;
            registry::create(state, &kind, new, opts)
        }
    }
}
