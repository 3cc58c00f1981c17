//! Typed errors returned while building a [`DesiredSet`](super::DesiredSet).

use crate::model::{ModelError, ObjectRef, TypeRef};

/// Why a parent or a child could not be added to a desired set.
///
/// Every variant is a mistake in the operator's `desired()` code or in the parent's spec: the
/// reconcile driver reports it as an `InvalidSpec` Warning and a Degraded condition instead of
/// retrying in a loop.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The parent has no `metadata.uid`: it was never read from the API server, so no
    /// ownerReference can point at it.
    #[error("parent {parent} has no uid (it must be read from the API server first)")]
    ParentWithoutUid {
        /// The parent's reference.
        parent: ObjectRef,
    },
    /// The parent has no name.
    #[error("parent of kind {kind} has no name")]
    ParentWithoutName {
        /// The parent's kind.
        kind: TypeRef,
    },
    /// A child has no `metadata.name` (and `generateName` is not supported: the planner needs
    /// a stable key to find the child again).
    #[error("child of kind {kind} in group {group:?} has no metadata.name")]
    MissingName {
        /// The child's kind.
        kind: TypeRef,
        /// The rollout group it was added to.
        group: String,
    },
    /// A child's name is longer than its kind allows.
    #[error("name of {kind} {name:?} is {len} characters long, the maximum is {max}")]
    NameTooLong {
        /// The child's kind.
        kind: TypeRef,
        /// The offending name.
        name: String,
        /// Its length in bytes.
        len: usize,
        /// The limit for this kind.
        max: usize,
    },
    /// A child's name is not a valid DNS name for its kind.
    #[error("name of {kind} {name:?} is invalid: {reason}")]
    InvalidName {
        /// The child's kind.
        kind: TypeRef,
        /// The offending name.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A label value the builder must set (instance = parent name, component, managed-by) is
    /// not a valid label value.
    #[error("label {key}={value:?} is not a valid label value: {reason}")]
    InvalidLabelValue {
        /// The label key.
        key: String,
        /// The value that was rejected.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The child carries one of the ownership labels with a value that contradicts the parent
    /// (the builder owns these labels; silently overwriting them would hide a bug).
    #[error("{child} sets ownership label {key}={found:?}, but this desired set needs {expected:?}")]
    ReservedLabel {
        /// The child.
        child: Box<ObjectRef>,
        /// The label key.
        key: String,
        /// The value the builder sets.
        expected: String,
        /// The value the child carried.
        found: String,
    },
    /// The same (kind, namespace, name) was added twice.
    #[error("{key} was added twice to the desired set")]
    DuplicateChild {
        /// The duplicated child.
        key: ObjectRef,
    },
    /// A namespaced child names a namespace other than its parent's. ownerReferences cannot
    /// cross namespaces, so the garbage collector would delete such a child at once.
    #[error("{child} is in namespace {namespace:?}, but its parent lives in {parent_namespace:?}")]
    ForeignNamespace {
        /// The child.
        child: Box<ObjectRef>,
        /// The namespace the child asked for.
        namespace: String,
        /// The parent's namespace.
        parent_namespace: String,
    },
    /// A namespaced child of a cluster-scoped parent must name its namespace.
    #[error("{kind} {name:?} is namespaced but has no namespace, and its parent is cluster-scoped")]
    MissingNamespace {
        /// The child's kind.
        kind: TypeRef,
        /// The child's name.
        name: String,
    },
    /// A cluster-scoped child carries a namespace.
    #[error("{kind} {name:?} is cluster-scoped but sets namespace {namespace:?}")]
    NamespaceOnClusterScoped {
        /// The child's kind.
        kind: TypeRef,
        /// The child's name.
        name: String,
        /// The namespace it set.
        namespace: String,
    },
    /// A cluster-scoped child cannot be owned by a namespaced parent (the garbage collector
    /// rejects such ownerReferences), so it could never be found as an orphan either.
    #[error("{kind} {name:?} is cluster-scoped and cannot be owned by the namespaced parent {parent}")]
    ClusterScopedChildOfNamespacedParent {
        /// The child's kind.
        kind: TypeRef,
        /// The child's name.
        name: String,
        /// The parent.
        parent: Box<ObjectRef>,
    },
    /// The child's kind is not declared in [`Ownership::owns`](super::Ownership::owns).
    /// Undeclared kinds are never scanned for orphans, so their children would leak.
    #[error("kind {kind} is not declared as owned (Ownership::owns); its orphans would never be deleted")]
    UndeclaredKind {
        /// The undeclared kind.
        kind: TypeRef,
    },
    /// A group was declared twice with different settings.
    #[error("group {group:?} was declared twice with different settings")]
    GroupRedeclared {
        /// The group's name.
        group: String,
    },
    /// A workload has no pod template to annotate.
    #[error("{kind} {name:?} has no pod template (spec.template) to annotate")]
    NoPodTemplate {
        /// The workload's kind.
        kind: TypeRef,
        /// The workload's name.
        name: String,
    },
    /// A typed child did not serialize into an object.
    #[error("child did not convert to an object: {0}")]
    Model(#[from] ModelError),
    /// The desired hash could not be computed.
    #[error("desired hash failed: {0}")]
    Hash(#[from] serde_json::Error),
}
