//! The in-memory state of one tracked kind: objects grouped by namespace, plus an index from a
//! controller owner's uid to the objects it controls.
//!
//! Everything here is synchronous and pure; the watch loop in [`super::reflector`] feeds it.
//!
//! Lookups are hashed (one probe per event, which is what keeps applying a watch event cheap
//! with tens of thousands of objects); every listing is sorted by (namespace, name) on the way
//! out, so simulations that read the cache are reproducible. The hasher is seeded from
//! [`super::CacheConfig::hash_seed`], never from the OS.
//!
//! No map stores a copy of an object's key: an object is hashed and compared by its own name
//! (and namespace), and looked up with a borrowed `&str` or key view.

use std::borrow::Borrow;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use foldhash::fast::FixedState;

use crate::model::Object;
use crate::store::WatchEvent;

use super::{CacheEvent, ChangeKind};

/// A change made to the state: its kind, the object now (last state for Deleted), and what
/// was held before.
pub type Change = (ChangeKind, Arc<Object>, Option<Arc<Object>>);

/// An object in its namespace's set: hashed and compared by name.
#[derive(Clone, Debug)]
struct ByName(Arc<Object>);

impl Borrow<str> for ByName {
    fn borrow(&self) -> &str {
        self.0.name()
    }
}
impl Hash for ByName {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.name().hash(state);
    }
}
impl PartialEq for ByName {
    fn eq(&self, other: &Self) -> bool {
        self.0.name() == other.0.name()
    }
}
impl Eq for ByName {}

/// Something with a full object key: namespace (None when cluster-scoped), then name.
trait Keyed {
    fn key(&self) -> (Option<&str>, &str);
}

impl Hash for dyn Keyed + '_ {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}
impl PartialEq for dyn Keyed + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl Eq for dyn Keyed + '_ {}

/// A full key to search with.
struct Lookup<'a>(Option<&'a str>, &'a str);

impl Keyed for Lookup<'_> {
    fn key(&self) -> (Option<&str>, &str) {
        (self.0, self.1)
    }
}

/// An object in an owner's set: hashed and compared by (namespace, name).
#[derive(Clone, Debug)]
struct ByKey(Arc<Object>);

impl Keyed for ByKey {
    fn key(&self) -> (Option<&str>, &str) {
        (self.0.namespace(), self.0.name())
    }
}
impl<'a> Borrow<dyn Keyed + 'a> for ByKey {
    fn borrow(&self) -> &(dyn Keyed + 'a) {
        self
    }
}
impl Hash for ByKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}
impl PartialEq for ByKey {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl Eq for ByKey {}

fn controller_uid(object: &Object) -> Option<&str> {
    object.controller_owner().map(|r| r.uid.as_str())
}

fn sort_by_key(objects: &mut [&Arc<Object>]) {
    objects.sort_unstable_by(|a, b| (a.namespace(), a.name()).cmp(&(b.namespace(), b.name())));
}

/// Objects of one kind by namespace, and the controller-owner index.
///
/// The index holds the same `Arc`s as the namespace sets (never an older version), so it costs
/// one pointer per object and never keeps a replaced object alive.
#[derive(Debug)]
pub struct KindState {
    hasher: FixedState,
    namespaces: HashMap<Option<String>, HashSet<ByName, FixedState>, FixedState>,
    by_owner: HashMap<String, HashSet<ByKey, FixedState>, FixedState>,
    len: usize,
    /// The newest resourceVersion reflected (a list's, an event's, a bookmark's), when the
    /// backend's resourceVersions are numbers; what a later list must not be older than.
    newest: Option<u64>,
}

/// A resourceVersion as a number, when it is one. The API server documents resourceVersions
/// as opaque, but for one resource from one server they are etcd revisions that only grow
/// (the watch cache and kube-rs's reflector compare them the same way); a backend whose
/// versions are not numbers is never compared.
pub(crate) fn numeric_rv(rv: Option<&str>) -> Option<u64> {
    rv?.parse().ok()
}

/// True when `candidate` is known to be older than `held` (both numeric).
fn is_older(candidate: Option<&str>, held: Option<&str>) -> bool {
    matches!((numeric_rv(candidate), numeric_rv(held)), (Some(c), Some(h)) if c < h)
}

impl Default for KindState {
    fn default() -> Self {
        Self::new()
    }
}

impl KindState {
    /// An empty state with the default hash seed.
    pub fn new() -> Self {
        Self::with_hash_seed(super::DEFAULT_HASH_SEED)
    }

    /// An empty state whose hash tables are seeded with `seed`.
    pub fn with_hash_seed(seed: u64) -> Self {
        let hasher = FixedState::with_seed(seed);
        Self {
            namespaces: HashMap::with_hasher(hasher.clone()),
            by_owner: HashMap::with_hasher(hasher.clone()),
            hasher,
            len: 0,
            newest: None,
        }
    }

    /// Number of objects held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no object is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The object with this namespace and name.
    pub fn get(&self, namespace: Option<&str>, name: &str) -> Option<&Arc<Object>> {
        self.bucket(namespace)?.get(name).map(|h| &h.0)
    }

    /// Every object, or those in one namespace, sorted by (namespace, name).
    pub fn list(&self, namespace: Option<&str>) -> Vec<&Arc<Object>> {
        let mut out: Vec<&Arc<Object>> = match namespace {
            Some(ns) => self.bucket(Some(ns)).into_iter().flatten().map(|h| &h.0).collect(),
            None => self.namespaces.values().flatten().map(|h| &h.0).collect(),
        };
        sort_by_key(&mut out);
        out
    }

    /// Objects whose controller ownerReference has this uid, sorted by (namespace, name).
    pub fn owned_by(&self, owner_uid: &str) -> Vec<&Arc<Object>> {
        let mut out: Vec<&Arc<Object>> = self
            .by_owner
            .get(owner_uid)
            .into_iter()
            .flatten()
            .map(|h| &h.0)
            .collect();
        sort_by_key(&mut out);
        out
    }

    /// Applies one watch event. Returns the change it made, or None when it changed nothing (a
    /// bookmark, a repeat of the stored resourceVersion, a delete of an unknown object).
    ///
    /// Added and Modified are both upserts: which one the change is depends on what was held,
    /// not on the event's label (a resumed watch may repeat an Added).
    ///
    /// An event older than what is held for its object (numeric resourceVersions) is dropped:
    /// the cache never goes back in time, whatever order a backend delivers in.
    pub fn apply(&mut self, event: WatchEvent) -> Option<Change> {
        self.observe_rv(event.resource_version());
        match event {
            WatchEvent::Added(object) | WatchEvent::Modified(object) => {
                let held = self.get(object.namespace(), object.name());
                if held.is_some_and(|h| is_older(object.resource_version(), h.resource_version())) {
                    return None;
                }
                self.upsert(object)
            }
            WatchEvent::Deleted(object) => {
                let held = self.get(object.namespace(), object.name())?;
                if is_older(object.resource_version(), held.resource_version()) {
                    return None;
                }
                let old = self.remove(object.namespace(), object.name())?;
                // The event carries the last state with the deletion resourceVersion.
                Some((ChangeKind::Deleted, object, Some(old)))
            }
            WatchEvent::Bookmark { .. } => None,
        }
    }

    /// Records that the state reflects the store at `rv` (a list's resourceVersion).
    pub fn observe_rv(&mut self, rv: Option<&str>) {
        if let Some(rv) = numeric_rv(rv) {
            self.newest = Some(self.newest.map_or(rv, |n| n.max(rv)));
        }
    }

    /// True when a list at `list_rv` would take the state back in time: it is older than the
    /// newest resourceVersion already reflected (both numeric).
    pub fn is_behind(&self, list_rv: &str) -> bool {
        matches!((numeric_rv(Some(list_rv)), self.newest), (Some(l), Some(n)) if l < n)
    }

    /// Replaces the whole state with a fresh list, and returns the changes that turn the old
    /// state into the new one, sorted by (namespace, name) within each group: Added and
    /// Modified for listed objects that are new or carry another resourceVersion, then Deleted
    /// (with the last state held) for objects that vanished.
    pub fn replace(&mut self, items: Vec<Arc<Object>>) -> Vec<CacheEvent> {
        let mut old = std::mem::replace(self, Self::with_hasher(self.hasher.clone()));
        self.newest = old.newest;
        let mut changes = Vec::new();
        for object in items {
            let previous = old.remove(object.namespace(), object.name());
            match &previous {
                Some(p) if p.resource_version() == object.resource_version() => {}
                Some(_) => changes.push(CacheEvent::new(ChangeKind::Modified, object.clone(), previous)),
                None => changes.push(CacheEvent::new(ChangeKind::Added, object.clone(), None)),
            }
            self.upsert(object);
        }
        changes.sort_by(|a, b| {
            let key = |e: &CacheEvent| (e.object.namespace().map(str::to_owned), e.object.name().to_owned());
            key(a).cmp(&key(b))
        });
        for gone in old.list(None) {
            changes.push(CacheEvent::new(ChangeKind::Deleted, gone.clone(), Some(gone.clone())));
        }
        changes
    }

    fn with_hasher(hasher: FixedState) -> Self {
        Self {
            namespaces: HashMap::with_hasher(hasher.clone()),
            by_owner: HashMap::with_hasher(hasher.clone()),
            hasher,
            len: 0,
            newest: None,
        }
    }

    fn bucket(&self, namespace: Option<&str>) -> Option<&HashSet<ByName, FixedState>> {
        // `Option<String>` cannot be borrowed as `Option<&str>`; namespaces are few and the
        // cluster-scoped bucket needs no allocation, so a short probe key is fine.
        match namespace {
            None => self.namespaces.get(&None),
            Some(ns) => self.namespaces.get(&Some(ns.to_owned())),
        }
    }

    fn upsert(&mut self, object: Arc<Object>) -> Option<Change> {
        let bucket = match self.namespaces.get_mut(&object.metadata.namespace) {
            Some(bucket) => bucket,
            None => self
                .namespaces
                .entry(object.metadata.namespace.clone())
                .or_insert_with(|| HashSet::with_hasher(self.hasher.clone())),
        };
        // One probe: swap the new version in, then look at what it replaced.
        let Some(ByName(previous)) = bucket.replace(ByName(object.clone())) else {
            self.len += 1;
            self.index(&object);
            return Some((ChangeKind::Added, object, None));
        };
        if controller_uid(&previous) != controller_uid(&object) {
            self.unindex(&previous);
        }
        // Also swaps the new version into the owner's set when the owner did not change.
        self.index(&object);
        if previous.resource_version().is_some() && previous.resource_version() == object.resource_version() {
            return None;
        }
        Some((ChangeKind::Modified, object, Some(previous)))
    }

    fn remove(&mut self, namespace: Option<&str>, name: &str) -> Option<Arc<Object>> {
        let key = namespace.map(str::to_owned);
        let bucket = self.namespaces.get_mut(&key)?;
        let ByName(old) = bucket.take(name)?;
        if bucket.is_empty() {
            self.namespaces.remove(&key);
        }
        self.len -= 1;
        self.unindex(&old);
        Some(old)
    }

    fn index(&mut self, object: &Arc<Object>) {
        if let Some(uid) = controller_uid(object) {
            match self.by_owner.get_mut(uid) {
                Some(set) => {
                    set.replace(ByKey(object.clone()));
                }
                None => {
                    let mut set = HashSet::with_hasher(self.hasher.clone());
                    set.insert(ByKey(object.clone()));
                    self.by_owner.insert(uid.to_owned(), set);
                }
            }
        }
    }

    fn unindex(&mut self, object: &Object) {
        if let Some(uid) = controller_uid(object)
            && let Some(set) = self.by_owner.get_mut(uid)
        {
            let lookup: &dyn Keyed = &Lookup(object.namespace(), object.name());
            set.remove(lookup);
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

    fn names(objects: Vec<&Arc<Object>>) -> Vec<String> {
        objects.iter().map(|o| o.name().to_owned()).collect()
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
    fn the_index_holds_the_current_version_not_a_replaced_one() {
        let mut s = KindState::new();
        s.apply(WatchEvent::Added(cm("a", "x", "1", Some("u"))));
        let newer = cm("a", "x", "2", Some("u"));
        s.apply(WatchEvent::Modified(newer.clone()));
        assert!(Arc::ptr_eq(s.owned_by("u")[0], &newer));
        assert!(Arc::ptr_eq(s.get(Some("a"), "x").unwrap(), &newer));
        assert_eq!(Arc::strong_count(&newer), 3, "held by the set, the index and this test");
    }

    #[test]
    fn cluster_scoped_objects_live_apart_from_namespaced_ones() {
        let mut s = KindState::new();
        let mut node = Object::new(&TypeRef::new("v1", "Node"), None, "n1");
        node.metadata.resource_version = Some("1".into());
        s.apply(WatchEvent::Added(Arc::new(node)));
        s.apply(WatchEvent::Added(cm("a", "n1", "2", None)));
        assert_eq!(s.len(), 2);
        assert!(s.get(None, "n1").unwrap().namespace().is_none());
        assert_eq!(s.get(Some("a"), "n1").unwrap().namespace(), Some("a"));
        assert_eq!(names(s.list(None)), ["n1", "n1"]);
        s.apply(WatchEvent::Deleted(cm("a", "n1", "3", None)));
        assert_eq!(s.len(), 1);
        assert!(s.get(Some("a"), "n1").is_none());
    }

    #[test]
    fn events_older_than_what_is_held_are_dropped() {
        let mut s = KindState::new();
        s.apply(WatchEvent::Added(cm("a", "x", "5", Some("u"))));
        assert!(s.apply(WatchEvent::Modified(cm("a", "x", "4", None))).is_none());
        assert_eq!(s.get(Some("a"), "x").unwrap().resource_version(), Some("5"));
        assert_eq!(names(s.owned_by("u")), ["x"]);
        assert!(s.apply(WatchEvent::Deleted(cm("a", "x", "3", None))).is_none());
        assert_eq!(s.len(), 1);
        let (k, ..) = s.apply(WatchEvent::Modified(cm("a", "x", "6", None))).unwrap();
        assert_eq!(k, ChangeKind::Modified);
        // Versions that are not numbers are never compared.
        let (k, ..) = s.apply(WatchEvent::Modified(cm("a", "x", "opaque", None))).unwrap();
        assert_eq!(k, ChangeKind::Modified);
    }

    #[test]
    fn a_list_older_than_what_was_reflected_is_behind() {
        let mut s = KindState::new();
        assert!(!s.is_behind("1"));
        s.observe_rv(Some("10"));
        s.replace(vec![cm("a", "x", "9", None)]);
        s.apply(WatchEvent::Modified(cm("a", "x", "12", None)));
        assert!(s.is_behind("11"));
        assert!(!s.is_behind("12"));
        assert!(!s.is_behind("opaque"));
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
        assert_eq!(names(s.list(Some("a"))), ["change", "keep"]);
        assert_eq!(names(s.list(Some("b"))), ["new"]);
        assert_eq!(names(s.list(None)), ["change", "keep", "new"]);
    }
}
