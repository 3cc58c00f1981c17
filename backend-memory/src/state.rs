//! The server state behind the store's mutex: tables, the revision counter, indexes, the RNG
//! and the watch hub, with the two primitive commits every write goes through.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use foldhash::fast::FixedState;
use operator_runtime_core::Object;
use operator_runtime_core::clock::Clock;
use rand_chacha::ChaCha8Rng;

use crate::kinds::KindRegistry;
use crate::watch::{Change, ChangeType, WatchHub};

/// Objects of one kind: namespace ("" for cluster-scoped) -> name -> object, in key order.
pub(crate) type Table = BTreeMap<String, BTreeMap<String, Arc<Object>>>;

/// The location of one stored object.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct ObjKey {
    /// Table slot of the kind.
    pub slot: usize,
    /// Namespace, "" for cluster-scoped objects.
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl ObjKey {
    /// The key of a stored object.
    pub fn of(slot: usize, object: &Object) -> Self {
        Self {
            slot,
            namespace: object.namespace().unwrap_or("").to_owned(),
            name: object.name().to_owned(),
        }
    }
}

/// Everything the API server keeps.
pub(crate) struct State {
    /// The global revision: the resourceVersion of the last write.
    pub revision: u64,
    /// Seeded randomness for uids and generated names.
    pub rng: ChaCha8Rng,
    /// Injected time.
    pub clock: Arc<dyn Clock>,
    /// Served kinds.
    pub kinds: KindRegistry,
    /// One table per kind slot.
    pub tables: Vec<Table>,
    /// History and watchers.
    pub hub: WatchHub,
    /// uid -> where the object lives. Hashed with foldhash: every create inserts here, and
    /// SipHash's resistance to chosen keys buys nothing for server-generated uids.
    pub uids: HashMap<String, ObjKey, FixedState>,
    /// owner uid -> objects whose ownerReferences name it.
    pub dependents: HashMap<String, BTreeSet<ObjKey>>,
    /// Whether the garbage collector and namespace controller run after writes.
    pub gc_enabled: bool,
    /// Owner uids the garbage collector must look at (removed or terminating owners).
    pub gc_owners: BTreeSet<String>,
    /// Dependents whose ownerReferences changed, for the collector to resolve.
    pub gc_dependents: BTreeSet<ObjKey>,
    /// Owner uids that just started waiting for their dependents (a delete that set
    /// `foregroundDeletion`): the collector looks at every dependent of such an owner once,
    /// and after that only at the blocking ones (`processDeletingDependentsItem`).
    pub gc_waiting_started: BTreeSet<String>,
    /// Uids of objects whose stored form differs from what every read decodes (see
    /// [`State::set_stored_differs`]).
    pub stored_differs: HashSet<String, FixedState>,
}

impl State {
    /// The table of a slot, created on first use.
    pub fn table_mut(&mut self, slot: usize) -> &mut Table {
        if self.tables.len() <= slot {
            self.tables.resize_with(slot + 1, Table::new);
        }
        &mut self.tables[slot]
    }

    /// The table of a slot, if any object was ever stored in it.
    pub fn table(&self, slot: usize) -> Option<&Table> {
        self.tables.get(slot)
    }

    /// Looks up a stored object.
    pub fn lookup(&self, slot: usize, namespace: &str, name: &str) -> Option<&Arc<Object>> {
        self.tables.get(slot)?.get(namespace)?.get(name)
    }

    /// Looks up a stored object by key.
    pub fn lookup_key(&self, key: &ObjKey) -> Option<&Arc<Object>> {
        self.lookup(key.slot, &key.namespace, &key.name)
    }

    /// Whether the stored form of `object` differs from what reads show.
    pub fn stored_differs(&self, object: &Object) -> bool {
        object.uid().is_some_and(|uid| self.stored_differs.contains(uid))
    }

    /// Records whether the just-committed `object` is stored in a form that reads do not
    /// show. Two cases: a server-side apply to a custom resource stores the merged object as
    /// the apply left it (`labels: {}` included), while every read decodes metadata through
    /// the typed `ObjectMeta`, whose `omitempty` maps drop it; and a new claim is stored with
    /// the empty status its create strategy left, which every read's defaulting gives phase
    /// `Pending`. The stored bytes then differ from what any later write encodes, so the next
    /// write, even one that changes nothing visible, is not a no-op: it gets a new
    /// resourceVersion. Any commit clears the mark.
    pub fn set_stored_differs(&mut self, object: &Object, keeps: bool) {
        if !keeps && self.stored_differs.is_empty() {
            return;
        }
        let Some(uid) = object.uid() else { return };
        if keeps && self.uids.contains_key(uid) {
            self.stored_differs.insert(uid.to_owned());
        } else {
            self.stored_differs.remove(uid);
        }
    }

    /// Stores `object` at the next revision and publishes Added or Modified.
    pub fn commit_put(&mut self, slot: usize, mut object: Object) -> Arc<Object> {
        // Only a custom resource's apply ever marks one: most stores never hash the uid here.
        if !self.stored_differs.is_empty()
            && let Some(uid) = object.uid()
        {
            self.stored_differs.remove(uid);
        }
        self.revision += 1;
        let revision = self.revision;
        object.metadata.resource_version = Some(revision.to_string());
        let object = Arc::new(object);
        let namespace = object.namespace().unwrap_or("");
        let table = self.table_mut(slot);
        let prev = match table.get_mut(namespace) {
            Some(names) => names.insert(object.name().to_owned(), Arc::clone(&object)),
            None => {
                let mut names = BTreeMap::new();
                names.insert(object.name().to_owned(), Arc::clone(&object));
                table.insert(namespace.to_owned(), names);
                None
            }
        };
        self.index(slot, prev.as_deref(), Some(&object));
        let change = if prev.is_some() {
            ChangeType::Modified
        } else {
            ChangeType::Added
        };
        self.hub.publish(Change {
            revision,
            slot,
            change,
            object: Arc::clone(&object),
            prev,
        });
        object
    }

    /// Removes an object at the next revision and publishes Deleted with its last state.
    pub fn commit_remove(&mut self, slot: usize, namespace: &str, name: &str) -> Option<Arc<Object>> {
        let table = self.tables.get_mut(slot)?;
        let names = table.get_mut(namespace)?;
        let prev = names.remove(name)?;
        if names.is_empty() {
            table.remove(namespace);
        }
        self.revision += 1;
        let revision = self.revision;
        let mut last = Object::clone(&prev);
        last.metadata.resource_version = Some(revision.to_string());
        let last = Arc::new(last);
        self.index(slot, Some(&prev), None);
        if let Some(uid) = prev.uid() {
            self.stored_differs.remove(uid);
            self.gc_owners.insert(uid.to_owned());
        }
        self.hub.publish(Change {
            revision,
            slot,
            change: ChangeType::Deleted,
            object: Arc::clone(&last),
            prev: Some(prev),
        });
        Some(last)
    }

    /// Keeps the uid and owner indexes in step with a write.
    fn index(&mut self, slot: usize, old: Option<&Object>, new: Option<&Object>) {
        let owners_changed = old.and_then(|o| o.metadata.owner_references.as_ref())
            != new.and_then(|o| o.metadata.owner_references.as_ref());
        if let Some(old) = old {
            if new.is_none()
                && let Some(uid) = old.uid()
            {
                self.uids.remove(uid);
            }
            if owners_changed {
                let key = ObjKey::of(slot, old);
                for owner in old.metadata.owner_references.iter().flatten() {
                    // A foreground owner may be waiting for this dependent.
                    self.gc_owners.insert(owner.uid.clone());
                    if let Some(set) = self.dependents.get_mut(&owner.uid) {
                        set.remove(&key);
                        if set.is_empty() {
                            self.dependents.remove(&owner.uid);
                        }
                    }
                }
            }
        }
        if let Some(new) = new {
            if old.is_none()
                && let Some(uid) = new.uid()
            {
                self.uids.insert(uid.to_owned(), ObjKey::of(slot, new));
            }
            if owners_changed {
                let key = ObjKey::of(slot, new);
                for owner in new.metadata.owner_references.iter().flatten() {
                    self.dependents
                        .entry(owner.uid.clone())
                        .or_default()
                        .insert(key.clone());
                }
                // The collector looks at a dependent whose owners changed only when an owner it
                // adds is missing or in another namespace (`addDependentToOwners`): a dependent
                // added to a present owner, even one waiting for its dependents to go, is left
                // alone until that owner moves.
                let had = |uid: &str| {
                    old.and_then(|o| o.metadata.owner_references.as_ref())
                        .is_some_and(|refs| refs.iter().any(|r| r.uid == uid))
                };
                let unresolved = new.metadata.owner_references.iter().flatten().any(|r| {
                    !had(&r.uid)
                        && self
                            .uids
                            .get(&r.uid)
                            .is_none_or(|owner| !owner.namespace.is_empty() && owner.namespace != key.namespace)
                });
                if unresolved {
                    self.gc_dependents.insert(key);
                }
            }
        }
    }
}
