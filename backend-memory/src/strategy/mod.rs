//! Per-kind strategies, the in-memory counterpart of the `RESTCreateStrategy` /
//! `RESTUpdateStrategy` of each resource in `k8s.io/kubernetes/pkg/registry/...`.
//!
//! A [`Strategy`] is plain data (name rule, generation, unconditional update, create on
//! update, status subresource, selectable fields) plus a [`KindHooks`] object for the behaviour
//! that differs per kind: defaulting, normalization, what a main or status write may change,
//! and validation on create and update. The write pipeline in [`crate::registry`] calls the
//! hooks at fixed steps; nothing outside this module branches on a kind.
//!
//! This module depends only on leaf modules (validation, schema, fieldpath helpers), never on
//! the registry or the kind table, so it can sit under both.

mod apps;
mod autoscaling;
mod batch;
mod claims;
mod core_kinds;
mod custom;
mod daemon_set;
mod declarative_errors;
mod events;
mod field_errors;
mod fields;
mod label_selector;
mod networking;
mod pod;
mod pod_spec;
mod policy;
mod rbac;
mod secret;

use std::fmt::Debug;
use std::sync::Arc;

use operator_runtime_core::store::StoreResult;
use operator_runtime_core::{Object, TypeRef};
use serde_json::Value;

use crate::validation::Causes;
pub(crate) use crate::validation::NameRule;

pub(crate) use custom::{crd_shape, custom_resource};
pub(crate) use events::EVENTS_GROUP;
pub(crate) use fields::{FieldLabels, field_value};

/// The per-kind behaviour the write pipeline calls at fixed steps. Every hook has a neutral
/// default, so a kind implements only what differs.
pub(crate) trait KindHooks: Send + Sync + Debug {
    /// `PrepareForCreate`: server-owned parts of the body set or wiped before validation
    /// (status of kinds with a status subresource is handled by the pipeline).
    fn prepare_for_create(&self, _object: &mut Object) {}

    /// `PrepareForUpdate` of a main-resource write: parts of `new` a main write cannot change
    /// are copied from `old` (status is handled by the pipeline).
    fn prepare_for_update(&self, _new: &mut Object, _old: &Object) {}

    /// Decode-time defaulting of the body (built-in kinds' `SetDefaults_*`, a CRD schema's
    /// `default`s). Runs before validation and before the generation and no-op comparisons.
    fn default(&self, _type_ref: &TypeRef, _object: &mut Object) {}

    /// Decode-time normalization (conversion to the stored form: Secret `stringData` folded
    /// into `data`, canonical quantities, pruning of unknown fields). An error is a decode
    /// error of the request (400).
    fn normalize(&self, _object: &mut Object) -> StoreResult<()> {
        Ok(())
    }

    /// The CRD schema of a custom resource (its list types drive the field manager), None
    /// for built-in kinds.
    fn schema(&self) -> Option<&Value> {
        None
    }

    /// Validation of an object about to be created.
    fn validate(&self, _object: &Object, _causes: &mut Causes) {}

    /// Validation of an update of `old` to `new` (main resource): by default the create
    /// validation of the new object; kinds with immutable fields add their checks.
    fn validate_update(&self, new: &Object, _old: &Object, causes: &mut Causes) {
        self.validate(new, causes);
    }

    /// `PrepareForUpdate` of the status strategy, after the pipeline has copied everything but
    /// `status` and metadata from `old` (kinds whose status writes keep metadata changes):
    /// what else a status write cannot change (a workload's labels, a Pod's ownerReferences).
    fn prepare_for_status_update(&self, _new: &mut Object, _old: &Object) {}

    /// Validation of a status write (the object as it will be stored).
    fn validate_status_update(&self, _new: &Object, _old: &Object, _causes: &mut Causes) {}

    /// Whether a delete always goes through the terminating state, finalizers or not
    /// (Namespace: the namespace controller empties it first).
    fn deletes_gracefully(&self) -> bool {
        false
    }

    /// `CheckGracefulDelete` (Pod): the grace period a delete without one in the request
    /// gives `object`. The deletion marks are written first; with 0 the object then goes at
    /// once, otherwise it waits (for a kubelet). None: the kind deletes without them.
    fn grace_period(&self, _object: &Object) -> Option<i64> {
        None
    }

    /// Changes made to the object when it starts terminating (besides the deletion
    /// timestamp): a Namespace's phase becomes `Terminating`.
    fn prepare_for_delete(&self, _object: &mut Object) {}

    /// Whether an update from `old` to `new` bumps `metadata.generation` (kinds that maintain
    /// it). By default any change outside metadata does; `status` never reaches this point
    /// changed for kinds with a status subresource.
    fn generation_changed(&self, old: &Object, new: &Object) -> bool {
        old.body != new.body
    }
}

/// A kind whose behaviour is only data (most built-in kinds without special rules).
#[derive(Debug)]
pub(crate) struct Plain;

impl KindHooks for Plain {}

/// Everything the pipeline needs to know about one kind.
#[derive(Clone, Debug)]
pub(crate) struct Strategy {
    /// Name validation rule.
    pub name_rule: NameRule,
    /// `metadata.generation` is set to 1 on create and bumped on non-metadata changes.
    pub uses_generation: bool,
    /// An update without a resourceVersion is accepted (`AllowUnconditionalUpdate`).
    pub unconditional_update: bool,
    /// A PUT of a missing object creates it (`AllowCreateOnUpdate`).
    pub create_on_update: bool,
    /// The kind serves `/status`: main writes keep the stored status, status writes change
    /// only status.
    pub status_subresource: bool,
    /// A status write keeps its metadata changes (labels, annotations, finalizers, owner
    /// references), as the built-in status strategies do; a custom resource's status write
    /// changes only `status`.
    pub status_keeps_metadata: bool,
    /// An immediate delete answers with the deleted object (`ReturnDeletedObject`: Pod,
    /// Service, Namespace, ...); other kinds answer with a `Status` naming only the object.
    pub returns_deleted_object: bool,
    /// A delete that names no propagation policy orphans the dependents
    /// (`DefaultGarbageCollectionPolicy` is `OrphanDependents`: batch/v1 Job, kept for
    /// backward compatibility); other kinds delete them in the background.
    pub orphans_by_default: bool,
    /// A create stores a form that every read's defaulting completes (a claim's status, reset
    /// by the create strategy, reads with phase `Pending`), so the first update after it is
    /// never a no-op (see `State::set_stored_differs`).
    pub created_form_differs: bool,
    /// The field selectors the kind accepts.
    pub field_labels: FieldLabels,
    /// The per-kind hooks.
    pub hooks: Arc<dyn KindHooks>,
}

/// One row of the built-in kind table.
pub(crate) struct Builtin {
    /// `apiVersion`.
    pub api_version: &'static str,
    /// `kind`.
    pub kind: &'static str,
    /// Resource name.
    pub plural: &'static str,
    /// Namespaced or cluster-scoped.
    pub namespaced: bool,
    /// The strategy.
    pub strategy: Strategy,
}

/// The built-in kinds an operator typically uses, with their strategies. Namespace comes
/// first and CustomResourceDefinition second (their table slots are fixed).
pub(crate) fn builtins() -> Vec<Builtin> {
    let mut out = Vec::new();
    core_kinds::register(&mut out);
    apps::register(&mut out);
    out
}

/// Starts a strategy with the usual built-in values: subdomain names, unconditional updates
/// allowed, no create on update, default field selectors and no special hooks.
pub(crate) fn base(status_subresource: bool, uses_generation: bool) -> Strategy {
    Strategy {
        name_rule: NameRule::Subdomain,
        uses_generation,
        unconditional_update: true,
        create_on_update: false,
        status_subresource,
        status_keeps_metadata: true,
        returns_deleted_object: false,
        orphans_by_default: false,
        created_form_differs: false,
        field_labels: FieldLabels::Default,
        hooks: Arc::new(Plain),
    }
}

impl Strategy {
    /// With another name rule.
    pub(crate) fn names(mut self, rule: NameRule) -> Self {
        self.name_rule = rule;
        self
    }
    /// With `AllowCreateOnUpdate`.
    pub(crate) fn create_on_update(mut self) -> Self {
        self.create_on_update = true;
        self
    }
    /// With `ReturnDeletedObject`: an immediate delete answers with the whole object.
    pub(crate) fn returns_deleted_object(mut self) -> Self {
        self.returns_deleted_object = true;
        self
    }
    /// With `OrphanDependents` as the default garbage-collection policy.
    pub(crate) fn orphans_by_default(mut self) -> Self {
        self.orphans_by_default = true;
        self
    }
    /// With a created form that reads complete (see [`Strategy::created_form_differs`]).
    pub(crate) fn created_form_differs(mut self) -> Self {
        self.created_form_differs = true;
        self
    }
    /// With kind-specific field selectors.
    pub(crate) fn fields(mut self, labels: FieldLabels) -> Self {
        self.field_labels = labels;
        self
    }
    /// With kind-specific hooks.
    pub(crate) fn hooks(mut self, hooks: impl KindHooks + 'static) -> Self {
        self.hooks = Arc::new(hooks);
        self
    }
}

/// An object as served at `api_version` (a copy only when the stored version differs; an
/// Event stored through the other Event API is converted, see `strategy::events`).
pub(crate) fn served_as(object: &Arc<Object>, api_version: &str) -> Arc<Object> {
    if object.api_version == api_version {
        Arc::clone(object)
    } else if events::needs_conversion(object, api_version) {
        Arc::new(events::convert(object, api_version))
    } else {
        let mut copy = Object::clone(object);
        copy.api_version = api_version.to_owned();
        Arc::new(copy)
    }
}
