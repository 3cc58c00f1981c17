//! The update pipeline (`Store.Update` + `rest.BeforeUpdate`) shared by PUT, patches and apply,
//! and the status-subresource variant: preconditions, server-owned fields, the strategy's
//! preparation (status reset), decode, generation, finalizer rules, validation, the no-op
//! check, the size limit, dry-run, and the commit (which finishes a deletion when the last
//! finalizer goes).

use std::sync::Arc;

use operator_runtime_core::Object;
use operator_runtime_core::store::StoreResult;

use super::{WriteOptions, commit_update, decode_write, normalize};
use crate::errors::{precondition, stale};
use crate::kinds::KindSpec;
use crate::meta::keep_system_fields;
use crate::size::check_size;
use crate::state::State;
use crate::validation::{Causes, validate_meta};

/// Whether an empty resourceVersion is acceptable for this write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RvRule {
    /// PUT: an empty resourceVersion is allowed only for kinds that allow unconditional updates.
    PerKind,
    /// Patches and apply: the write applies to the current version.
    Unconditional,
}

/// Checks the body's resourceVersion and uid against the stored object.
fn check_preconditions(kind: &KindSpec, old: &Object, new: &Object, rule: RvRule) -> StoreResult<()> {
    match new.resource_version().filter(|rv| !rv.is_empty()) {
        Some(rv) if Some(rv) != old.resource_version() => return Err(stale(&kind.info, old.name())),
        Some(_) => {}
        None if rule == RvRule::PerKind && !kind.strategy.unconditional_update => {
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

/// `ValidateObjectMetaUpdate`'s rule for an object being deleted: a write (of the main
/// resource, or of a status that keeps metadata) adds no finalizer.
fn forbid_new_finalizers(new: &Object, old: &Object, causes: &mut Causes) {
    if !old.is_terminating() {
        return;
    }
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
            &format!("no new finalizers can be added if the object is being deleted, found new finalizers {added:?}"),
        );
    }
}

/// A main-resource write of `new` over the stored `old`.
pub(crate) fn update(
    state: &mut State,
    kind: &Arc<KindSpec>,
    old: &Arc<Object>,
    mut new: Object,
    rule: RvRule,
    opts: WriteOptions<'_>,
) -> StoreResult<Arc<Object>> {
    let strategy = &kind.strategy;
    if !opts.normalized {
        normalize(kind, &mut new)?;
    }
    check_preconditions(kind, old, &new, rule)?;
    new.metadata.namespace.clone_from(&old.metadata.namespace);
    new.api_version.clone_from(&old.api_version);
    keep_system_fields(&mut new.metadata, &old.metadata);
    if strategy.status_subresource {
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
    strategy.hooks.prepare_for_update(&mut new, old);
    decode_write(state, kind, Some(old), &mut new, opts.manager, None);
    if strategy.uses_generation && strategy.hooks.generation_changed(old, &new) {
        new.metadata.generation = Some(old.metadata.generation.unwrap_or(0) + 1);
    }

    let mut causes = Causes::default();
    validate_meta(&new, &mut causes);
    strategy.hooks.validate_update(&new, old, &mut causes);
    forbid_new_finalizers(&new, old, &mut causes);
    causes.into_result(&kind.info.type_ref.kind, old.name())?;

    new.metadata.resource_version.clone_from(&old.metadata.resource_version);
    // The storage layer's no-op check compares encoded bytes with the encoding of the
    // decoded stored object, whose typed metadata has no empty map: a write that keeps one,
    // or the first write after one (or after a claim's create), is never a no-op (checked
    // against kube-apiserver 1.37).
    if new == **old && !opts.keeps_empty_metadata && !state.stored_differs(old) {
        return Ok(Arc::clone(old));
    }
    check_size(&new)?;
    if opts.dry_run {
        return Ok(Arc::new(new));
    }
    let stored = commit_update(state, kind, new)?;
    state.set_stored_differs(&stored, opts.keeps_empty_metadata);
    Ok(stored)
}

/// A status write of `body` over `old`: `status` is taken from the body; with a strategy whose
/// status writes keep metadata (the built-in kinds) so are labels, annotations, finalizers and
/// owner references, less what the kind's status strategy resets; a custom resource's status
/// write takes only `status` (and managedFields).
pub(crate) fn update_status(
    state: &mut State,
    kind: &Arc<KindSpec>,
    old: &Arc<Object>,
    mut body: Object,
    rule: RvRule,
    opts: WriteOptions<'_>,
) -> StoreResult<Arc<Object>> {
    let strategy = &kind.strategy;
    // The status body decodes like any other (quantities, `omitempty` zeros dropped).
    if !opts.normalized {
        normalize(kind, &mut body)?;
    }
    check_preconditions(kind, old, &body, rule)?;
    // The stored object with the body's status: the stored status is not copied first.
    let mut new = Object {
        api_version: old.api_version.clone(),
        kind: old.kind.clone(),
        metadata: old.metadata.clone(),
        body: old
            .body
            .iter()
            .filter(|(k, _)| k.as_str() != "status")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    };
    if let Some(status) = body.body.remove("status") {
        new.body.insert("status".into(), status);
    }
    if strategy.status_keeps_metadata {
        let mut meta = std::mem::take(&mut body.metadata);
        keep_system_fields(&mut meta, &old.metadata);
        meta.namespace.clone_from(&old.metadata.namespace);
        meta.name.clone_from(&old.metadata.name);
        meta.resource_version.clone_from(&old.metadata.resource_version);
        new.metadata = meta;
        strategy.hooks.prepare_for_status_update(&mut new, old);
    } else if let Some(managed) = body.metadata.managed_fields {
        // `managedFields: [{}]` clears them here too.
        let clears = managed.len() == 1 && managed[0] == Default::default();
        new.metadata.managed_fields = (!clears).then_some(managed);
    }
    decode_write(state, kind, Some(old), &mut new, opts.manager, Some("status"));
    let mut causes = Causes::default();
    if strategy.status_keeps_metadata {
        validate_meta(&new, &mut causes);
        forbid_new_finalizers(&new, old, &mut causes);
    }
    strategy.hooks.validate_status_update(&new, old, &mut causes);
    causes.into_result(&kind.info.type_ref.kind, new.name())?;
    if new == **old && !state.stored_differs(old) {
        return Ok(Arc::clone(old));
    }
    check_size(&new)?;
    if opts.dry_run {
        return Ok(Arc::new(new));
    }
    commit_update(state, kind, new)
}
