//! The garbage collector and the namespace controller, as built-in controllers of the
//! in-memory server (kube-controller-manager runs them on a real cluster).
//!
//! Both are steppable: [`run`] works until nothing changes. The store runs them after every
//! write while garbage collection is on, so a test sees cascades at once; with it off, they
//! run only when the test calls `MemoryStore::run_controllers`.
//!
//! Owners are matched by uid, as the real collector does: a dependent whose ownerReference
//! names a uid that no longer exists (or exists in another namespace, which a namespaced
//! owner reference can never resolve to) is dangling.
//! - Every owner dangling: the dependent is deleted (background).
//! - Some owners dangling, some alive: the dangling references are removed.
//! - Owner terminating with `orphan`: its references are stripped from every dependent, then
//!   the finalizer is removed.
//! - Owner terminating with `foregroundDeletion`: its dependents are deleted (in foreground
//!   when they have dependents of their own), and the finalizer is removed once no dependent
//!   with `blockOwnerDeletion: true` remains.
//! - A dependent is looked at when an owner of it goes or starts waiting for its dependents
//!   (afterwards, while the owner waits, only the blocking ones are), or when an owner it adds
//!   is missing or in another namespace: a non-blocking one added to an owner that is already
//!   waiting for its dependents stays until that owner goes.
//! - Namespace terminating: every object in it is deleted; once none remains, its
//!   `spec.finalizers` are cleared and it goes.

use std::collections::BTreeSet;

use operator_runtime_core::store::{DeleteParams, Propagation};
use operator_runtime_core::{Object, ObjectRef};

use crate::kinds::NAMESPACE_SLOT;
use crate::registry::{self, FOREGROUND_FINALIZER, ORPHAN_FINALIZER};
use crate::state::{ObjKey, State};
/// Bound on collector rounds, so a pathological ownership graph cannot spin forever.
const MAX_ROUNDS: usize = 10_000;

/// How an owner reference resolves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OwnerState {
    Dangling,
    WaitingForDependents,
    Solid,
}

fn owner_state(state: &State, dependent: &ObjKey, uid: &str) -> OwnerState {
    let Some(key) = state.uids.get(uid) else {
        return OwnerState::Dangling;
    };
    if !key.namespace.is_empty() && key.namespace != dependent.namespace {
        return OwnerState::Dangling;
    }
    match state.lookup_key(key) {
        Some(o) if o.is_terminating() && o.has_finalizer(FOREGROUND_FINALIZER) => OwnerState::WaitingForDependents,
        Some(_) => OwnerState::Solid,
        None => OwnerState::Dangling,
    }
}

fn object_ref(state: &State, key: &ObjKey, object: &Object) -> ObjectRef {
    let _ = state;
    ObjectRef {
        type_ref: object.type_ref(),
        namespace: (!key.namespace.is_empty()).then(|| key.namespace.clone()),
        name: key.name.clone(),
    }
}

/// Writes `object` with the ownerReferences to `uids` removed.
fn strip_owners(state: &mut State, key: &ObjKey, uids: &[String]) -> bool {
    let Some(current) = state.lookup_key(key).cloned() else {
        return false;
    };
    let Some(kind) = state.kinds.get_by(&current.api_version, &current.kind).cloned() else {
        return false;
    };
    let mut new = Object::clone(&current);
    let refs = new.metadata.owner_references.get_or_insert_with(Vec::new);
    refs.retain(|r| !uids.contains(&r.uid));
    if refs.is_empty() {
        new.metadata.owner_references = None;
    }
    registry::commit_controller_update(state, &kind, &current, new).is_ok()
}

/// Looks at one dependent: delete it, or drop its dangling references.
fn attempt_to_delete(state: &mut State, key: &ObjKey) -> bool {
    let Some(dependent) = state.lookup_key(key).cloned() else {
        return false;
    };
    if dependent.is_terminating() {
        return false;
    }
    let mut dangling = Vec::new();
    let (mut solid, mut waiting) = (0, 0);
    for owner in dependent.metadata.owner_references.iter().flatten() {
        match owner_state(state, key, &owner.uid) {
            OwnerState::Dangling => dangling.push(owner.uid.clone()),
            OwnerState::WaitingForDependents => waiting += 1,
            OwnerState::Solid => solid += 1,
        }
    }
    if solid > 0 {
        return !dangling.is_empty() && strip_owners(state, key, &dangling);
    }
    if waiting == 0 && dangling.is_empty() {
        return false;
    }
    let has_dependents = dependent.uid().is_some_and(|u| state.dependents.contains_key(u));
    let propagation = if waiting > 0 && has_dependents {
        Propagation::Foreground
    } else {
        Propagation::Background
    };
    let target = object_ref(state, key, &dependent);
    let params = DeleteParams {
        propagation: Some(propagation),
        ..DeleteParams::default()
    };
    registry::delete(state, &target, &params).is_ok()
}

/// Removes `finalizer` from a terminating owner (which may then go).
fn remove_finalizer(state: &mut State, key: &ObjKey, finalizer: &str) -> bool {
    let Some(current) = state.lookup_key(key).cloned() else {
        return false;
    };
    let Some(kind) = state.kinds.get_by(&current.api_version, &current.kind).cloned() else {
        return false;
    };
    let mut new = Object::clone(&current);
    if let Some(f) = new.metadata.finalizers.as_mut() {
        f.retain(|x| x != finalizer);
    }
    registry::commit_controller_update(state, &kind, &current, new).is_ok()
}

/// Whether the dependent at `key` blocks the deletion of owner `uid`.
fn blocks(state: &State, key: &ObjKey, uid: &str) -> bool {
    state.lookup_key(key).is_some_and(|o| {
        o.metadata
            .owner_references
            .iter()
            .flatten()
            .any(|r| r.uid == uid && r.block_owner_deletion == Some(true))
    })
}

/// Processes one owner uid: orphaning, its dependents, and foreground completion. A live,
/// non-terminating owner needs nothing: its dependents are fine.
fn process_owner(state: &mut State, uid: &str) -> bool {
    let owner = state
        .uids
        .get(uid)
        .cloned()
        .and_then(|k| state.lookup_key(&k).cloned().map(|o| (k, o)));
    if owner.as_ref().is_some_and(|(_, o)| !o.is_terminating()) {
        return false;
    }
    let dependents: Vec<ObjKey> = state
        .dependents
        .get(uid)
        .map(|d| d.iter().cloned().collect())
        .unwrap_or_default();
    let mut changed = false;
    match &owner {
        Some((owner_key, o)) if o.has_finalizer(ORPHAN_FINALIZER) => {
            for d in &dependents {
                changed |= strip_owners(state, d, &[uid.to_owned()]);
            }
            changed |= remove_finalizer(state, owner_key, ORPHAN_FINALIZER);
        }
        Some((owner_key, o)) if o.has_finalizer(FOREGROUND_FINALIZER) => {
            // Every dependent when the owner starts waiting; after that the blocking ones
            // (`processDeletingDependentsItem`): one added later stays until the owner goes.
            let started = state.gc_waiting_started.remove(uid);
            for d in &dependents {
                if started || blocks(state, d, uid) {
                    changed |= attempt_to_delete(state, d);
                }
            }
            let blocked = state
                .dependents
                .get(uid)
                .is_some_and(|deps| deps.iter().any(|d| blocks(state, d, uid)));
            if !blocked {
                changed |= remove_finalizer(state, owner_key, FOREGROUND_FINALIZER);
            }
        }
        // Terminating for other finalizers: dependents wait for the owner to go.
        Some(_) => {}
        None => {
            for d in &dependents {
                changed |= attempt_to_delete(state, d);
            }
        }
    }
    changed
}

/// The namespace controller: empties terminating namespaces and finalizes them.
fn namespaces(state: &mut State) -> bool {
    let terminating: Vec<String> = state
        .table(NAMESPACE_SLOT)
        .and_then(|t| t.get(""))
        .map(|names| {
            names
                .values()
                .filter(|n| n.is_terminating())
                .map(|n| n.name().to_owned())
                .collect()
        })
        .unwrap_or_default();
    let mut changed = false;
    for ns in terminating {
        let mut remaining = 0;
        let mut targets = Vec::new();
        for table in &state.tables {
            if let Some(names) = table.get(&ns) {
                remaining += names.len();
                targets.extend(names.values().filter(|o| !o.is_terminating()).map(|o| o.object_ref()));
            }
        }
        for target in targets {
            changed |= registry::delete(state, &target, &DeleteParams::default()).is_ok();
        }
        if remaining > 0 {
            continue;
        }
        changed |= registry::finalize_namespace(state, &ns);
    }
    changed
}

/// Every owner uid worth a look (referenced owners and terminating objects), and every
/// dependent.
fn everything(state: &State) -> (BTreeSet<String>, BTreeSet<ObjKey>) {
    let mut owners: BTreeSet<String> = state.dependents.keys().cloned().collect();
    let dependents: BTreeSet<ObjKey> = state.dependents.values().flatten().cloned().collect();
    for table in &state.tables {
        for names in table.values() {
            for o in names.values().filter(|o| o.is_terminating()) {
                if let Some(uid) = o.uid() {
                    owners.insert(uid.to_owned());
                }
            }
        }
    }
    (owners, dependents)
}

/// Runs both controllers until nothing changes. `full` looks at every owner and dependent,
/// not only the ones touched since the last run.
pub(crate) fn run(state: &mut State, full: bool) {
    if full {
        let (owners, dependents) = everything(state);
        // A manual run looks at every dependent of every waiting owner.
        state.gc_waiting_started.extend(owners.iter().cloned());
        state.gc_owners.extend(owners);
        state.gc_dependents.extend(dependents);
    }
    for _ in 0..MAX_ROUNDS {
        let owners = std::mem::take(&mut state.gc_owners);
        let dependents = std::mem::take(&mut state.gc_dependents);
        let mut changed = false;
        for key in &dependents {
            changed |= attempt_to_delete(state, key);
        }
        for uid in &owners {
            changed |= process_owner(state, uid);
        }
        changed |= namespaces(state);
        if !changed && state.gc_owners.is_empty() && state.gc_dependents.is_empty() {
            break;
        }
    }
    // Every owner that started waiting was looked at in this run.
    state.gc_waiting_started.clear();
}
