//! The in-memory state of one tracked kind: objects by (namespace, name) plus an index from a
//! controller owner's uid to the objects it controls.
//!
//! Everything here is synchronous and pure; the watch loop in [`super::reflector`] feeds it.
//! Ordered maps keep every listing in (namespace, name) order, so simulations that read the
//! cache are reproducible (a `HashMap` would also pull its seed from the OS).

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use std::sync::Arc;

use crate::model::Object;
use crate::store::WatchEvent;

use super::{CacheEvent, ChangeKind};

/// An object's key within its kind: namespace (None when cluster-scoped), then name.
pub(crate) type ObjKey = (Option<String>, String);

fn key_of(object: &Object) -> ObjKey {
    (object.metadata.namespace.clone(), object.name().to_owned())
}

fn controller_uid(object: &Object) -> Option<&str> {
    object.controller_owner().map(|r| r.uid.as_str())
}

/// Objects of one kind, and the controller-owner index.
#[derive(Debug, Default)]
pub struct KindState {
    objects: BTreeMap<ObjKey, Arc<Object>>,
    by_owner: BTreeMap<String, BTreeSet<ObjKey>>,
}

impl KindState {
    /// An empty state.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of objects held.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// True when no object is held.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// The object with this namespace and name.
    pub fn get(&self, namespace: Option<&str>, name: &str) -> Option<&Arc<Object>> {
        // BTreeMap lookups need an owned key of the same type; the allocation is small.
        self.objects.get(&(namespace.map(str::to_owned), name.to_owned()))
    }

    /// Every object, or those in one namespace, in (namespace, name) order.
    pub fn iter_namespace<'a>(&'a self, namespace: Option<&'a str>) -> Box<dyn Iterator<Item = &'a Arc<Object>> + 'a> {
        match namespace {
            None => Box::new(self.objects.values()),
            Some(ns) => {
                let start = (Some(ns.to_owned()), String::new());
                Box::new(
                    self.objects
                        .range((Bound::Included(start), Bound::Unbounded))
                        .take_while(move |((n, _), _)| n.as_deref() == Some(ns))
                        .map(|(_, o)| o),
                )
            }
        }
    }

    /// Objects whose controller ownerReference has this uid, in (namespace, name) order.
    pub fn owned_by(&self, owner_uid: &str) -> impl Iterator<Item = &Arc<Object>> {
        self.by_owner
            .get(owner_uid)
            .into_iter()
            .flatten()
            .filter_map(|k| self.objects.get(k))
    }

    /// Applies one watch event. Returns the change it made, or None when it changed nothing (a
    /// bookmark, a repeat of the stored resourceVersion, a delete of an unknown object).
    ///
    /// Added and Modified are both upserts: which one the change is depends on what was held,
    /// not on the event's label (a resumed watch may repeat an Added).
    pub fn apply(&mut self, event: WatchEvent) -> Option<(ChangeKind, Arc<Object>, Option<Arc<Object>>)> {
        match event {
            WatchEvent::Added(object) | WatchEvent::Modified(object) => self.upsert(object),
            WatchEvent::Deleted(object) => {
                let old = self.remove(&key_of(&object))?;
                // The event carries the last state with the deletion resourceVersion.
                Some((ChangeKind::Deleted, object, Some(old)))
            }
            WatchEvent::Bookmark { .. } => None,
        }
    }

    /// Replaces the whole state with a fresh list, and returns the changes that turn the old
    /// state into the new one: Added and Modified for listed objects that are new or carry
    /// another resourceVersion, Deleted (with the last state held) for objects that vanished.
    pub fn replace(&mut self, items: Vec<Arc<Object>>) -> Vec<CacheEvent> {
        let mut old = std::mem::take(&mut self.objects);
        self.by_owner.clear();
        let mut changes = Vec::new();
        for object in items {
            let key = key_of(&object);
            let previous = old.remove(&key);
            self.index(&key, &object);
            match &previous {
                Some(p) if p.resource_version() == object.resource_version() => {}
                Some(_) => changes.push(CacheEvent::new(ChangeKind::Modified, object.clone(), previous)),
                None => changes.push(CacheEvent::new(ChangeKind::Added, object.clone(), None)),
            }
            self.objects.insert(key, object);
        }
        for (_, gone) in old {
            changes.push(CacheEvent::new(ChangeKind::Deleted, gone.clone(), Some(gone)));
        }
        changes
    }

    fn upsert(&mut self, object: Arc<Object>) -> Option<(ChangeKind, Arc<Object>, Option<Arc<Object>>)> {
        let key = key_of(&object);
        if let Some(current) = self.objects.get(&key)
            && current.resource_version().is_some()
            && current.resource_version() == object.resource_version()
        {
            return None;
        }
        let old = self.objects.insert(key.clone(), object.clone());
        if let Some(previous) = &old {
            let (was, is) = (controller_uid(previous), controller_uid(&object));
            if was != is {
                self.unindex(&key, previous);
                self.index(&key, &object);
            }
        } else {
            self.index(&key, &object);
        }
        let kind = if old.is_some() {
            ChangeKind::Modified
        } else {
            ChangeKind::Added
        };
        Some((kind, object, old))
    }

    fn remove(&mut self, key: &ObjKey) -> Option<Arc<Object>> {
        let old = self.objects.remove(key)?;
        self.unindex(key, &old);
        Some(old)
    }

    fn index(&mut self, key: &ObjKey, object: &Object) {
        if let Some(uid) = controller_uid(object) {
            if let Some(set) = self.by_owner.get_mut(uid) {
                set.insert(key.clone());
            } else {
                self.by_owner.insert(uid.to_owned(), BTreeSet::from([key.clone()]));
            }
        }
    }

    fn unindex(&mut self, key: &ObjKey, object: &Object) {
        if let Some(uid) = controller_uid(object)
            && let Some(set) = self.by_owner.get_mut(uid)
        {
            set.remove(key);
            if set.is_empty() {
                self.by_owner.remove(uid);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{OwnerReference, TypeRef};

    fn cm(ns: &str, name: &str, rv: &str, owner: Option<&str>) -> Arc<Object> {
        let mut o = Object::new(&TypeRef::new("v1", "ConfigMap"), Some(ns), name);
        o.metadata.resource_version = Some(rv.into());
        if let Some(uid) = owner {
            o.metadata.owner_references = Some(vec![OwnerReference {
                api_version: "x/v1".into(),
                kind: "P".into(),
                name: "p".into(),
                uid: uid.into(),
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]);
        }
        Arc::new(o)
    }

    fn names<'a>(it: impl Iterator<Item = &'a Arc<Object>>) -> Vec<String> {
        it.map(|o| o.name().to_owned()).collect()
    }

    #[test]
    fn upserts_classify_by_what_was_held() {
        let mut s = KindState::new();
        let (k, ..) = s.apply(WatchEvent::Modified(cm("a", "x", "1", None))).unwrap();
        assert_eq!(k, ChangeKind::Added);
        let (k, _, old) = s.apply(WatchEvent::Added(cm("a", "x", "2", None))).unwrap();
        assert_eq!(k, ChangeKind::Modified);
        assert_eq!(old.unwrap().resource_version(), Some("1"));
        assert!(s.apply(WatchEvent::Modified(cm("a", "x", "2", None))).is_none());
        assert!(s.apply(WatchEvent::Deleted(cm("a", "nope", "3", None))).is_none());
        let (k, obj, _) = s.apply(WatchEvent::Deleted(cm("a", "x", "4", None))).unwrap();
        assert_eq!((k, obj.resource_version()), (ChangeKind::Deleted, Some("4")));
        assert!(s.is_empty());
    }

    #[test]
    fn owner_index_follows_owner_changes_and_deletes() {
        let mut s = KindState::new();
        s.apply(WatchEvent::Added(cm("a", "x", "1", Some("u1"))));
        s.apply(WatchEvent::Added(cm("a", "y", "2", Some("u1"))));
        assert_eq!(names(s.owned_by("u1")), ["x", "y"]);
        s.apply(WatchEvent::Modified(cm("a", "x", "3", Some("u2"))));
        assert_eq!(names(s.owned_by("u1")), ["y"]);
        assert_eq!(names(s.owned_by("u2")), ["x"]);
        s.apply(WatchEvent::Modified(cm("a", "y", "4", None)));
        assert_eq!(names(s.owned_by("u1")), Vec::<String>::new());
        s.apply(WatchEvent::Deleted(cm("a", "x", "5", Some("u2"))));
        assert_eq!(names(s.owned_by("u2")), Vec::<String>::new());
        assert!(s.by_owner.is_empty());
    }

    #[test]
    fn replace_diffs_against_the_old_state() {
        let mut s = KindState::new();
        s.apply(WatchEvent::Added(cm("a", "keep", "1", Some("u"))));
        s.apply(WatchEvent::Added(cm("a", "change", "1", Some("u"))));
        s.apply(WatchEvent::Added(cm("a", "gone", "1", Some("u"))));
        let changes = s.replace(vec![
            cm("a", "keep", "1", Some("u")),
            cm("a", "change", "7", None),
            cm("b", "new", "7", None),
        ]);
        let summary: Vec<_> = changes.iter().map(|c| (c.kind, c.object.name().to_owned())).collect();
        assert_eq!(
            summary,
            [
                (ChangeKind::Modified, "change".to_owned()),
                (ChangeKind::Added, "new".to_owned()),
                (ChangeKind::Deleted, "gone".to_owned()),
            ]
        );
        assert_eq!(names(s.owned_by("u")), ["keep"]);
        assert_eq!(names(s.iter_namespace(Some("a"))), ["change", "keep"]);
        assert_eq!(names(s.iter_namespace(Some("b"))), ["new"]);
        assert_eq!(names(s.iter_namespace(None)), ["change", "keep", "new"]);
    }
}
