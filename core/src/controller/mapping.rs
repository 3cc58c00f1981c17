//! From a changed object to the parent keys to reconcile.

use std::fmt;
use std::sync::Arc;

use super::reason::ReconcileReason;
use super::source::Change;
use crate::model::{Object, ObjectRef, TypeRef};

/// A custom mapper: a related object to the parents it affects.
pub type Mapper = Arc<dyn Fn(&Object) -> Vec<ObjectRef> + Send + Sync>;

/// How a watched kind relates to the parent kind.
#[derive(Clone)]
enum Relation {
    /// Children found through their controller ownerReference.
    Owned,
    /// Related objects mapped by a closure.
    Mapped(Mapper),
}

impl fmt::Debug for Relation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Owned => f.write_str("Owned"),
            Self::Mapped(_) => f.write_str("Mapped(..)"),
        }
    }
}

/// The parent kind, and every other watched kind with how it maps to parents.
#[derive(Clone, Debug)]
pub(crate) struct Watches {
    parent: TypeRef,
    parent_namespaced: bool,
    related: Vec<(TypeRef, Relation)>,
}

impl Watches {
    pub(crate) fn new(parent: TypeRef) -> Self {
        Self {
            parent,
            parent_namespaced: true,
            related: Vec::new(),
        }
    }

    pub(crate) fn parent(&self) -> &TypeRef {
        &self.parent
    }

    pub(crate) fn set_parent_cluster_scoped(&mut self) {
        self.parent_namespaced = false;
    }

    pub(crate) fn add_owned(&mut self, kind: TypeRef) {
        self.related.push((kind, Relation::Owned));
    }

    pub(crate) fn add_mapped(&mut self, kind: TypeRef, mapper: Mapper) {
        self.related.push((kind, Relation::Mapped(mapper)));
    }

    /// Every watched kind, parent first, without duplicates.
    pub(crate) fn kinds(&self) -> Vec<TypeRef> {
        let mut kinds = vec![self.parent.clone()];
        for (kind, _) in &self.related {
            if !kinds.contains(kind) {
                kinds.push(kind.clone());
            }
        }
        kinds
    }

    /// The parent keys a change affects, each with its reason. For an object that changed, its
    /// previous state is mapped too, so a child that moved to another owner wakes both. A lag
    /// maps to nothing here: the runner requeues every parent.
    pub(crate) fn keys_for(&self, change: &Change) -> Vec<(ObjectRef, ReconcileReason)> {
        let mut keys = Vec::new();
        match change {
            Change::Applied { object, previous } => {
                self.add_keys(object, &mut keys);
                if let Some(previous) = previous {
                    self.add_keys(previous, &mut keys);
                }
            }
            Change::Deleted(object) => self.add_keys(object, &mut keys),
            Change::Lagged => {}
        }
        keys
    }

    fn add_keys(&self, object: &Object, keys: &mut Vec<(ObjectRef, ReconcileReason)>) {
        let type_ref = object.type_ref();
        if type_ref == self.parent {
            let key = object.object_ref();
            if !keys.iter().any(|(k, _)| *k == key) {
                keys.push((key, ReconcileReason::ObjectChanged));
            }
        }
        for (kind, relation) in &self.related {
            if *kind != type_ref {
                continue;
            }
            let parents = match relation {
                Relation::Owned => self.controller_parent(object).into_iter().collect(),
                Relation::Mapped(mapper) => mapper(object),
            };
            for parent in parents.into_iter().filter(|p| p.type_ref == self.parent) {
                if !keys.iter().any(|(k, _)| *k == parent) {
                    keys.push((parent, ReconcileReason::RelatedChanged(object.object_ref())));
                }
            }
        }
    }

    /// The parent named by the object's controller ownerReference, if that reference points
    /// to the parent kind (same group and kind; any version).
    fn controller_parent(&self, object: &Object) -> Option<ObjectRef> {
        let owner = object.controller_owner()?;
        let owner_type = TypeRef::new(owner.api_version.clone(), owner.kind.clone());
        if owner_type.kind != self.parent.kind || owner_type.group() != self.parent.group() {
            return None;
        }
        // Owners live in their dependent's namespace (or are cluster-scoped).
        let namespace = if self.parent_namespaced {
            Some(object.namespace()?.to_owned())
        } else {
            None
        };
        Some(ObjectRef {
            type_ref: self.parent.clone(),
            namespace,
            name: owner.name.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::OwnerReference;

    fn parent_type() -> TypeRef {
        TypeRef::new("example.com/v1", "DataCluster")
    }

    fn child(owner_api_version: &str, controller: bool) -> Object {
        let mut cm = Object::new(&TypeRef::new("v1", "ConfigMap"), Some("ns"), "cm");
        cm.metadata.owner_references = Some(vec![OwnerReference {
            api_version: owner_api_version.into(),
            kind: "DataCluster".into(),
            name: "dc".into(),
            uid: "u1".into(),
            controller: Some(controller),
            block_owner_deletion: None,
        }]);
        cm
    }

    #[test]
    fn maps_children_by_controller_owner_reference_only() {
        let mut watches = Watches::new(parent_type());
        watches.add_owned(TypeRef::new("v1", "ConfigMap"));
        let parent = ObjectRef::namespaced(parent_type(), "ns", "dc");
        let keys = watches.keys_for(&Change::applied(Arc::new(child("example.com/v2", true))));
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].0, parent, "any version of the parent's group maps");
        assert!(
            watches
                .keys_for(&Change::applied(Arc::new(child("example.com/v1", false))))
                .is_empty(),
            "a non-controller owner does not map"
        );
        assert!(
            watches
                .keys_for(&Change::Deleted(Arc::new(child("other.io/v1", true))))
                .is_empty()
        );
    }

    #[test]
    fn a_child_that_changes_owner_wakes_both_parents() {
        let mut watches = Watches::new(parent_type());
        watches.add_owned(TypeRef::new("v1", "ConfigMap"));
        let before = child("example.com/v1", true);
        let mut after = before.clone();
        if let Some(refs) = after.metadata.owner_references.as_mut() {
            refs[0].name = "other".into();
        }
        let keys = watches.keys_for(&Change::Applied {
            object: Arc::new(after),
            previous: Some(Arc::new(before)),
        });
        let names: Vec<_> = keys.iter().map(|(k, _)| k.name.as_str()).collect();
        assert_eq!(names, ["other", "dc"]);
    }

    #[test]
    fn custom_mappers_and_the_parent_itself() {
        let mut watches = Watches::new(parent_type());
        let secret = TypeRef::new("v1", "Secret");
        watches.add_mapped(
            secret.clone(),
            Arc::new(|o: &Object| vec![ObjectRef::namespaced(parent_type(), "ns", o.name())]),
        );
        let keys = watches.keys_for(&Change::applied(Arc::new(Object::new(&secret, Some("ns"), "dc"))));
        assert_eq!(keys[0].0, ObjectRef::namespaced(parent_type(), "ns", "dc"));
        let own = watches.keys_for(&Change::applied(Arc::new(Object::new(&parent_type(), Some("ns"), "p"))));
        assert_eq!(
            own,
            vec![(
                ObjectRef::namespaced(parent_type(), "ns", "p"),
                ReconcileReason::ObjectChanged
            )]
        );
        assert_eq!(watches.kinds(), vec![parent_type(), secret]);
    }
}
