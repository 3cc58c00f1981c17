//! The write pipeline every verb goes through, shaped like `k8s.io/apiserver`'s
//! `registry/generic/registry.Store`: kind and scope lookup, preconditions, decode (the
//! strategy's defaulting and normalization, CRD pruning, the field manager's `Update` entry),
//! the strategy's preparation and validation, the no-op check, the size limit, dry-run, the
//! commit, and finalize-delete (a terminating object whose last finalizer went is removed).
//!
//! The verb modules (`create`, `update`, `patch`, `apply`, `delete`) only build the object to
//! write and call one entry point here; the garbage and namespace controllers call the
//! controller entry points ([`commit_update`], [`delete`], [`finalize_namespace`]). Kind-specific
//! behaviour comes from the kind's [`crate::strategy::Strategy`], never from branches here,
//! except for the side effects of committing a CRD (its kinds are served or stop being served).

mod create;
mod delete;
mod update;

use std::sync::Arc;

use operator_runtime_core::store::StoreResult;
use operator_runtime_core::{Object, StoreError, TypeRef};

use operator_runtime_core::builtin_schema;

use crate::crd;
use crate::defaults;
use crate::errors::{namespace_not_found, not_found, unknown_kind};
use crate::fieldmanager;
use crate::kinds::{CRD_SLOT, KindSpec, NAMESPACE_SLOT};
use crate::meta::now_seconds;
use crate::state::State;
use crate::validation::Causes;

pub(crate) use create::create;
pub(crate) use delete::{FOREGROUND_FINALIZER, ORPHAN_FINALIZER, delete};
pub(crate) use update::{RvRule, update, update_status};

/// What a request asks of the pipeline beyond the object.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct WriteOptions<'a> {
    /// The field manager recording an `Update` entry (None: nothing recorded).
    pub manager: Option<&'a str>,
    /// Validate and return the result without storing it.
    pub dry_run: bool,
    /// The subresource store the write goes through (`Some("status")`: a create-on-update
    /// PUT on `/status`, recorded as a status write, without the main store's `BeginCreate`).
    pub subresource: Option<&'a str>,
    /// The new object is stored with an empty `labels` or `annotations` map that reads do not
    /// show (a server-side apply to a custom resource): see
    /// [`State::set_stored_differs`].
    pub keeps_empty_metadata: bool,
    /// The object was decoded to its stored form already ([`normalize`]): a server-side apply
    /// converts its merged object itself, to report a failure as the server's 500.
    pub normalized: bool,
}

/// Looks up a served kind, or 404.
pub(crate) fn kind_of(state: &State, type_ref: &TypeRef) -> StoreResult<Arc<KindSpec>> {
    state.kinds.get(type_ref).cloned().ok_or_else(|| unknown_kind(type_ref))
}

/// Looks up the kind of an object body, or 404.
pub(crate) fn kind_of_object(state: &State, object: &Object) -> StoreResult<Arc<KindSpec>> {
    state
        .kinds
        .get_by(&object.api_version, &object.kind)
        .cloned()
        .ok_or_else(|| unknown_kind(&object.type_ref()))
}

/// The namespace a request addresses for this kind ("" for cluster-scoped kinds).
pub(crate) fn request_namespace<'a>(kind: &KindSpec, namespace: Option<&'a str>) -> &'a str {
    if kind.info.namespaced {
        namespace.unwrap_or("")
    } else {
        ""
    }
}

/// Finds the stored object, or 404.
pub(crate) fn stored(state: &State, kind: &KindSpec, namespace: &str, name: &str) -> StoreResult<Arc<Object>> {
    lookup_as(state, kind, namespace, name).ok_or_else(|| not_found(&kind.info, name))
}

/// The stored object as `kind` serves it, the starting point of every write: an Event last
/// written through the other Event API is converted (`strategy::events`), and an object of a
/// kind served at several versions (a CRD's) carries the version the write goes through, so
/// the no-op check and the patch see what the client sees. A copy only when they differ.
pub(crate) fn lookup_as(state: &State, kind: &KindSpec, namespace: &str, name: &str) -> Option<Arc<Object>> {
    state
        .lookup(kind.slot, namespace, name)
        .map(|o| crate::strategy::served_as(o, &kind.info.type_ref.api_version))
}

/// Normalises the body namespace against the kind's scope (the request namespace is the
/// body's own, so there is nothing to mismatch here; patches check it with [`check_identity`]).
pub(crate) fn scope_namespace(kind: &KindSpec, object: &mut Object) -> StoreResult<()> {
    if !kind.info.namespaced {
        object.metadata.namespace = None;
        return Ok(());
    }
    match object.metadata.namespace.as_deref() {
        Some(ns) if !ns.is_empty() => Ok(()),
        _ => {
            let mut causes = Causes::default();
            causes.required("metadata.namespace", "");
            causes.into_result(&kind.info.type_ref.kind, object.name())
        }
    }
}

/// NamespaceLifecycle: the namespace must exist and must not be terminating.
pub(crate) fn admit_namespace(state: &State, namespace: &str) -> StoreResult<()> {
    match state.lookup(NAMESPACE_SLOT, "", namespace) {
        None => Err(namespace_not_found(namespace)),
        Some(ns) if ns.is_terminating() => Err(StoreError::forbidden(format!(
            "unable to create new content in namespace {namespace} because it is being terminated"
        ))),
        Some(_) => Ok(()),
    }
}

/// The patched (or applied) object must still be the object the request names.
pub(crate) fn check_identity(kind: &KindSpec, namespace: &str, name: &str, mut new: Object) -> StoreResult<Object> {
    let want = &kind.info.type_ref;
    let got = new.type_ref();
    if got.kind != want.kind || got.group() != want.group() {
        return Err(StoreError::bad_request(format!(
            "the kind of the object ({got}) does not match the kind on the request ({want})"
        )));
    }
    if new.name().is_empty() {
        new.metadata.name = Some(name.to_owned());
    } else if new.name() != name {
        return Err(StoreError::bad_request(format!(
            "the name of the object ({}) does not match the name on the URL ({name})",
            new.name()
        )));
    }
    if kind.info.namespaced {
        match new.metadata.namespace.as_deref() {
            None | Some("") => new.metadata.namespace = Some(namespace.to_owned()),
            Some(ns) if ns != namespace => {
                return Err(StoreError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            Some(_) => {}
        }
    } else {
        new.metadata.namespace = None;
    }
    Ok(new)
}

/// The field manager of a create, update or patch that names none. The API server derives one from
/// the client's User-Agent, so every change moves the ownership of the fields it changes (an
/// applier's drift detection relies on it); the memory backend has no User-Agent.
pub(crate) const UNNAMED_MANAGER: &str = "unknown";

/// Decode-time conversion of a request body to its stored form: the quantities of a built-in
/// kind in canonical text (a malformed one is kube-apiserver's decode error, word for word),
/// then the strategy's normalization (Secret `stringData`, base64). An error is the request's
/// decode error (400), so it wins over preconditions and validation.
pub(crate) fn normalize(kind: &KindSpec, object: &mut Object) -> StoreResult<()> {
    drop_empty_metadata(object);
    if is_builtin(kind) {
        // A pod template's `creationTimestamp: null` (what `kubectl create --dry-run -o yaml`
        // prints) is not stored (checked against kube-apiserver 1.37.2).
        builtin_schema::drop_null_nested_creation_timestamps(&kind.info.type_ref, &mut object.body);
        let type_ref = &kind.info.type_ref;
        builtin_schema::canonicalize_quantities(type_ref, &mut object.body).map_err(|error| {
            let (kind, version) = (&type_ref.kind, type_ref.version());
            StoreError::BadRequest {
                message: format!("{kind} in version \"{version}\" cannot be handled as a {kind}: {error}"),
            }
        })?;
    }
    kind.strategy.hooks.normalize(object)
}

/// `ObjectMeta`'s maps and lists are `omitempty`: an empty one is not stored (`finalizers: []`
/// reads back as no finalizers), for built-in kinds and custom resources alike.
fn drop_empty_metadata(object: &mut Object) {
    let meta = &mut object.metadata;
    if meta.labels.as_ref().is_some_and(|m| m.is_empty()) {
        meta.labels = None;
    }
    if meta.annotations.as_ref().is_some_and(|m| m.is_empty()) {
        meta.annotations = None;
    }
    if meta.finalizers.as_ref().is_some_and(Vec::is_empty) {
        meta.finalizers = None;
    }
    if meta.owner_references.as_ref().is_some_and(Vec::is_empty) {
        meta.owner_references = None;
    }
}

/// A kind compiled into the server (not served from a CRD).
pub(crate) fn is_builtin(kind: &KindSpec) -> bool {
    kind.from_crd.is_none() && kind.strategy.hooks.schema().is_none()
}

/// What the server does to every write's body before validating it: defaulting (built-in
/// defaults, or pruning and defaults from a CRD schema), then the writer's managedFields
/// `Update` entry (when the write names a field manager), then what the strategy and
/// allocation add (Service addresses), which nobody owns. Apply records its own `Apply` entry
/// and passes no manager.
pub(crate) fn decode_write(
    state: &State,
    kind: &KindSpec,
    old: Option<&Object>,
    new: &mut Object,
    manager: Option<&str>,
    subresource: Option<&str>,
) {
    // Field sets are stored as their JSON text, as the server stores `FieldsV1.Raw`: a tree
    // written back (a client that decoded the object) becomes the same text again.
    operator_runtime_core::fields_v1::compact_managed_fields(&mut new.metadata);
    kind.strategy.hooks.default(&kind.info.type_ref, new);
    let builtin = is_builtin(kind);
    let decoded = if builtin {
        defaults::apply_write(kind, new)
    } else {
        defaults::Decoded::default()
    };
    if let Some(manager) = manager {
        let now = now_seconds(state.clock.as_ref());
        fieldmanager::record_update(
            &kind.info,
            kind.strategy.hooks.schema(),
            old,
            new,
            manager,
            subresource,
            now,
        );
    }
    // A create through a subresource store has no `BeginCreate` hook (a Service created by a
    // PUT on `/status` gets no cluster IP).
    let subresource_create = old.is_none() && subresource.is_some();
    if builtin && !subresource_create {
        defaults::after_field_manager(state, kind, old, new, decoded);
    }
}

/// Runs the kind-specific side effects of a stored object (a CRD serves its kinds).
fn after_commit(state: &mut State, kind: &KindSpec, stored: &Object) {
    if kind.slot == CRD_SLOT {
        crd::established(state, stored);
    }
}

/// Removes an object now (no finalizers left) and runs the kind-specific clean-up.
pub(crate) fn remove_now(state: &mut State, kind: &KindSpec, object: &Object) -> Option<Arc<Object>> {
    let gone = state.commit_remove(kind.slot, object.namespace().unwrap_or(""), object.name())?;
    if kind.slot == CRD_SLOT {
        crd::removed(state, &gone);
    }
    Some(gone)
}

/// Commits an update, or finishes the deletion when it empties a terminating object's
/// finalizers. Controllers call it directly: their writes are not validated.
///
/// Like the apiserver's `errEmptiedFinalizers` path (`deleteWithoutFinalizers`), the emptied object
/// is never written: the stored object is removed in one revision, so watchers see only Deleted
/// (carrying the last stored state), and the caller gets the object of its request back, at
/// the resourceVersion it updated (the server returns "the object in the request").
pub(crate) fn commit_update(state: &mut State, kind: &Arc<KindSpec>, new: Object) -> StoreResult<Arc<Object>> {
    if new.is_terminating()
        && new.metadata.finalizers.as_ref().is_none_or(Vec::is_empty)
        && let Some(old) = state
            .lookup(kind.slot, new.namespace().unwrap_or(""), new.name())
            .cloned()
        && remove_now(state, kind, &old).is_some()
    {
        return Ok(Arc::new(new));
    }
    let stored = state.commit_put(kind.slot, new);
    after_commit(state, kind, &stored);
    if stored.is_terminating() && stored.metadata.finalizers.as_ref().is_none_or(Vec::is_empty) {
        remove_now(state, kind, &stored);
    }
    Ok(stored)
}

/// The field manager of the built-in controllers' writes (kube-controller-manager's clients
/// are named by their User-Agent).
pub(crate) const CONTROLLER_MANAGER: &str = "kube-controller-manager";

/// A built-in controller's update of `old` to `new` (the garbage collector dropping an owner
/// reference or its finalizer): recorded by the field manager like any update (a removed field
/// leaves its owner's entry), then committed like [`commit_update`].
pub(crate) fn commit_controller_update(
    state: &mut State,
    kind: &Arc<KindSpec>,
    old: &Object,
    mut new: Object,
) -> StoreResult<Arc<Object>> {
    let now = now_seconds(state.clock.as_ref());
    let schema = kind.strategy.hooks.schema();
    fieldmanager::record_update(&kind.info, schema, Some(old), &mut new, CONTROLLER_MANAGER, None, now);
    commit_update(state, kind, new)
}

/// The namespace controller's last step: the finalize write (empty `spec.finalizers`), then,
/// when no finalizer of its own remains, the namespace goes. Returns whether anything changed.
pub(crate) fn finalize_namespace(state: &mut State, name: &str) -> bool {
    let Some(current) = state.lookup(NAMESPACE_SLOT, "", name).cloned() else {
        return false;
    };
    let Some(kind) = state.kinds.get_by(&current.api_version, &current.kind).cloned() else {
        return false;
    };
    let mut new = Object::clone(&current);
    new.body.insert("spec".into(), serde_json::json!({}));
    if new.metadata.finalizers.as_ref().is_none_or(Vec::is_empty) {
        let stored = state.commit_put(kind.slot, new);
        remove_now(state, &kind, &stored);
        true
    } else if new != *current {
        commit_update(state, &kind, new).is_ok()
    } else {
        false
    }
}
