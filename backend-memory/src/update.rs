//! Update (PUT), the status subresource, and the update pipeline that patches and apply share:
//! preconditions, server-owned fields, status and generation rules, finalizer rules,
//! validation, the no-op check, and "last finalizer gone -> delete".

use std::sync::Arc;

use operator_runtime_core::builtin_schema;
use operator_runtime_core::schema;
use operator_runtime_core::store::{StoreResult, WriteParams};
use operator_runtime_core::{Object, StoreError};

use crate::create::scope_namespace;
use crate::errors::{not_found, precondition, stale, unknown_kind};
use crate::kinds::{CRD_SLOT, KindSpec, NAMESPACE_SLOT};
use crate::meta::{keep_system_fields, now_seconds};
use crate::size::check_size;
use crate::state::State;
use crate::validation::{Causes, validate_meta};
use crate::{apply, crd, defaults, delete};

/// Whether an empty resourceVersion is acceptable for this write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RvRule {
    /// PUT: an empty resourceVersion is allowed only for kinds that allow unconditional updates.
    PerKind,
    /// Patches and apply: the write applies to the current version.
    Unconditional,
}

/// Looks up the kind of a type, or 404.
pub(crate) fn kind_of(state: &State, object: &Object) -> StoreResult<Arc<KindSpec>> {
    state
        .kinds
        .get_by(&object.api_version, &object.kind)
        .cloned()
        .ok_or_else(|| unknown_kind(&object.type_ref()))
}

/// Checks the body's resourceVersion and uid against the stored object.
fn check_preconditions(kind: &KindSpec, old: &Object, new: &Object, rule: RvRule) -> StoreResult<()> {
    match new.resource_version().filter(|rv| !rv.is_empty()) {
        Some(rv) if Some(rv) != old.resource_version() => return Err(stale(&kind.info, old.name())),
        Some(_) => {}
        None if rule == RvRule::PerKind && !kind.unconditional_update => {
            let mut causes = Causes::default();
            causes.invalid("metadata.resourceVersion", "0x0", "must be specified for an update");
            return causes.into_result(&kind.info.type_ref.kind, old.name());
        }
        None => {}
    }
    if let Some(uid) = new.uid().filter(|u| !u.is_empty()) {
        let actual = old.uid().unwrap_or("");
        if uid != actual {
            return Err(precondition(&kind.info, old.name(), "UID", uid, actual));
        }
    }
    Ok(())
}

/// The update pipeline for a main-resource write of `new` over the stored `old`.
pub(crate) fn update_main(
    state: &mut State,
    kind: &Arc<KindSpec>,
    old: &Arc<Object>,
    mut new: Object,
    rule: RvRule,
    manager: Option<&str>,
    dry_run: bool,
) -> StoreResult<Arc<Object>> {
    check_preconditions(kind, old, &new, rule)?;
    new.metadata.namespace.clone_from(&old.metadata.namespace);
    new.api_version.clone_from(&old.api_version);
    keep_system_fields(&mut new.metadata, &old.metadata);
    if kind.info.status_subresource {
        // Status changes through the main resource are ignored.
        match old.body.get("status") {
            Some(status) => {
                new.body.insert("status".into(), status.clone());
            }
            None => {
                new.body.remove("status");
            }
        }
    }
    if kind.slot == NAMESPACE_SLOT {
        // spec.finalizers only change through /finalize.
        match old.body.get("spec") {
            Some(spec) => new.body.insert("spec".into(), spec.clone()),
            None => new.body.remove("spec"),
        };
    }
    decode_write(state, kind, Some(old), &mut new, manager, None)?;
    if kind.uses_generation && new.body != old.body {
        new.metadata.generation = Some(old.metadata.generation.unwrap_or(0) + 1);
    }

    let mut causes = Causes::default();
    validate_meta(&new, &mut causes);
    validate_schema(kind, &new, &mut causes);
    if old.is_terminating() {
        let added: Vec<&String> = new
            .metadata
            .finalizers
            .iter()
            .flatten()
            .filter(|f| !old.has_finalizer(f))
            .collect();
        if !added.is_empty() {
            causes.forbidden(
                "metadata.finalizers",
                &format!(
                    "no new finalizers can be added if the object is being deleted, found new finalizers {added:?}"
                ),
            );
        }
    }
    if kind.slot == CRD_SLOT {
        crd::validate(&new, &mut causes);
    }
    causes.into_result(&kind.info.type_ref.kind, old.name())?;

    new.metadata.resource_version.clone_from(&old.metadata.resource_version);
    if new == **old {
        return Ok(Arc::clone(old));
    }
    check_size(&new)?;
    if dry_run {
        return Ok(Arc::new(new));
    }
    commit_update(state, kind, new)
}

/// The field manager of an update or patch that names none. The API server derives one from
/// the client's User-Agent, so every change moves the ownership of the fields it changes (an
/// applier's drift detection relies on it); the memory backend has no User-Agent.
pub(crate) const UNNAMED_MANAGER: &str = "unknown";

/// What the server does to every write's body before validating it: for a built-in kind,
/// decode its quantities (canonical text, 400 BadRequest for a malformed one) and apply the
/// kind's defaults ([`defaults`]); for a custom resource, prune and default it against the CRD
/// schema; then record the writer's managedFields `Update` entry (when the write names a field
/// manager). Apply records its own `Apply` entry and passes no manager.
pub(crate) fn decode_write(
    state: &State,
    kind: &KindSpec,
    old: Option<&Object>,
    new: &mut Object,
    manager: Option<&str>,
    subresource: Option<&str>,
) -> StoreResult<()> {
    if let Some(schema) = &kind.schema {
        schema::prune_and_default(schema, &mut new.body);
    } else {
        let type_ref = &kind.info.type_ref;
        builtin_schema::canonicalize_quantities(type_ref, &mut new.body).map_err(|error| {
            // The body does not decode into the Go type: kube-apiserver's message, word for word.
            let (kind, version) = (&type_ref.kind, type_ref.version());
            StoreError::BadRequest {
                message: format!("{kind} in version \"{version}\" cannot be handled as a {kind}: {error}"),
            }
        })?;
        defaults::apply_write(state, kind, old, new);
    }
    if let Some(manager) = manager {
        let now = now_seconds(state.clock.as_ref());
        apply::record_update(kind, old, new, manager, subresource, now);
    }
    Ok(())
}

/// Adds a cause per CRD schema violation of `object` (custom resources only).
pub(crate) fn validate_schema(kind: &KindSpec, object: &Object, causes: &mut Causes) {
    if let Some(schema) = &kind.schema {
        for violation in schema::validate(schema, &object.body) {
            causes.push(&violation.reason, &violation.field, violation.message);
        }
    }
}

/// Commits an update, or finishes the deletion when it empties a terminating object's finalizers.
///
/// Like the apiserver's `errEmptiedFinalizers` path (`deleteWithoutFinalizers`), the emptied object
/// is never written: the stored object is removed in one revision, so watchers see only Deleted
/// (carrying the last stored state), and the caller gets its body at the deletion's revision.
pub(crate) fn commit_update(state: &mut State, kind: &Arc<KindSpec>, mut new: Object) -> StoreResult<Arc<Object>> {
    if new.is_terminating()
        && new.metadata.finalizers.as_ref().is_none_or(Vec::is_empty)
        && let Some(old) = state
            .lookup(kind.slot, new.namespace().unwrap_or(""), new.name())
            .cloned()
        && let Some(gone) = delete::remove_now(state, kind, &old)
    {
        new.metadata
            .resource_version
            .clone_from(&gone.metadata.resource_version);
        return Ok(Arc::new(new));
    }
    let stored = state.commit_put(kind.slot, new);
    if kind.slot == CRD_SLOT {
        crd::established(state, &stored);
    }
    if stored.is_terminating() && stored.metadata.finalizers.as_ref().is_none_or(Vec::is_empty) {
        delete::remove_now(state, kind, &stored);
    }
    Ok(stored)
}

/// Finds the stored object a write targets, or 404.
pub(crate) fn stored(state: &State, kind: &KindSpec, object: &Object) -> StoreResult<Arc<Object>> {
    state
        .lookup(kind.slot, object.namespace().unwrap_or(""), object.name())
        .cloned()
        .ok_or_else(|| not_found(&kind.info, object.name()))
}

/// PUT.
pub(crate) fn replace(state: &mut State, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>> {
    let kind = kind_of(state, object)?;
    let mut new = object.clone();
    scope_namespace(&kind, &mut new)?;
    if new.name().is_empty() {
        let mut causes = Causes::default();
        causes.required("metadata.name", "name is required");
        return causes.fail(&kind.info.type_ref.kind, "");
    }
    let old = stored(state, &kind, &new)?;
    let manager = Some(params.field_manager.as_deref().unwrap_or(UNNAMED_MANAGER));
    update_main(state, &kind, &old, new, RvRule::PerKind, manager, params.dry_run)
}

/// PUT on `/status`: only `status` (and managedFields) of the body is written.
pub(crate) fn replace_status(state: &mut State, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>> {
    let kind = kind_of(state, object)?;
    if !kind.info.status_subresource {
        return Err(StoreError::not_found(format!(
            "the server could not find the requested resource ({} has no status subresource)",
            kind.info.type_ref
        )));
    }
    let mut body = object.clone();
    scope_namespace(&kind, &mut body)?;
    let old = stored(state, &kind, &body)?;
    check_preconditions(&kind, &old, &body, RvRule::PerKind)?;
    let mut new = Object::clone(&old);
    match body.body.remove("status") {
        Some(status) => new.body.insert("status".into(), status),
        None => new.body.remove("status"),
    };
    if body.metadata.managed_fields.is_some() {
        new.metadata.managed_fields = body.metadata.managed_fields;
    }
    decode_write(
        state,
        &kind,
        Some(&old),
        &mut new,
        params.field_manager.as_deref(),
        Some("status"),
    )?;
    let mut causes = Causes::default();
    validate_schema(&kind, &new, &mut causes);
    causes.into_result(&kind.info.type_ref.kind, new.name())?;
    if new == *old {
        return Ok(old);
    }
    check_size(&new)?;
    if params.dry_run {
        return Ok(Arc::new(new));
    }
    commit_update(state, &kind, new)
}
