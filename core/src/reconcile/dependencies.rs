//! Which parents read which objects through their [`super::Context`]: a change of such an
//! object reconciles the parents that looked it up in their last reconcile.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, PoisonError};

use crate::model::ObjectRef;

/// Parent -> objects it read, and the reverse index. Cheap to share (`Arc`).
#[derive(Debug, Default)]
pub struct Dependencies {
    inner: Mutex<Index>,
}

#[derive(Debug, Default)]
struct Index {
    by_parent: HashMap<ObjectRef, Vec<ObjectRef>>,
    by_object: HashMap<ObjectRef, BTreeSet<ObjectRef>>,
}

impl Dependencies {
    /// Replaces what `parent` read with `objects` (its latest reconcile's lookups).
    pub fn record(&self, parent: &ObjectRef, objects: Vec<ObjectRef>) {
        let mut index = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(previous) = index.by_parent.remove(parent) {
            for object in previous {
                if let Some(parents) = index.by_object.get_mut(&object) {
                    parents.remove(parent);
                    if parents.is_empty() {
                        index.by_object.remove(&object);
                    }
                }
            }
        }
        if objects.is_empty() {
            return;
        }
        for object in &objects {
            index
                .by_object
                .entry(object.clone())
                .or_default()
                .insert(parent.clone());
        }
        index.by_parent.insert(parent.clone(), objects);
    }

    /// Forgets `parent` (it is gone).
    pub fn forget(&self, parent: &ObjectRef) {
        self.record(parent, Vec::new());
    }

    /// The parents whose last reconcile read `object`.
    pub fn parents_of(&self, object: &ObjectRef) -> Vec<ObjectRef> {
        let index = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        index
            .by_object
            .get(object)
            .map(|p| p.iter().cloned().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TypeRef;

    fn key(kind: &str, name: &str) -> ObjectRef {
        ObjectRef::namespaced(TypeRef::new("v1", kind), "ns", name)
    }

    #[test]
    fn a_new_reconcile_replaces_what_a_parent_read() {
        let deps = Dependencies::default();
        let (p, q) = (key("Db", "p"), key("Db", "q"));
        deps.record(&p, vec![key("Secret", "a"), key("Secret", "b")]);
        deps.record(&q, vec![key("Secret", "a")]);
        assert_eq!(deps.parents_of(&key("Secret", "a")), vec![p.clone(), q.clone()]);
        deps.record(&p, vec![key("Secret", "b")]);
        assert_eq!(deps.parents_of(&key("Secret", "a")), vec![q.clone()]);
        assert_eq!(deps.parents_of(&key("Secret", "b")), vec![p.clone()]);
        deps.forget(&p);
        assert!(deps.parents_of(&key("Secret", "b")).is_empty());
    }
}
