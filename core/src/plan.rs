//! The planner: desired children + observed children -> one action per child. Pure and
//! synchronous: no IO, no clock, no randomness, so the same inputs always give the same plan.
//!
//! # Expected flow
//! 1. The operator's `desired()` builds a [`DesiredSet`] for the parent.
//! 2. The driver collects the observed objects of every owned kind
//!    ([`Ownership::owned_kinds`](crate::builder::Ownership::owned_kinds)), usually from the
//!    internal cache with the set's [`selector`](DesiredSet::selector) in the parent's namespace,
//!    and computes the readiness of each rollout group.
//! 3. `plan_with(&desired, &observed, &policy, &inputs)` (or [`plan`] without readiness).
//! 4. The driver applies [`Plan::items`] in order: [`Action::Create`] / [`Action::Update`] write
//!    [`PlanItem::desired`] (server-side apply or replace with the live resourceVersion);
//!    [`Action::Recreate`] deletes the live object (uid precondition) and creates it once gone;
//!    [`Action::Delete`] deletes the orphan with a uid precondition; [`Action::Blocked`] becomes a
//!    Warning event and a Degraded condition; [`Action::Wait`] and [`Action::Unchanged`] write
//!    nothing. A plan with [`Plan::is_converged`] needs no write at all.
//!
//! # Guarantees
//! - **Orphans**: an observed object is deleted only if it is of a scanned owned kind, carries
//!   both ownership labels (managed-by = the operator, instance = the parent's name), has a
//!   *controller* ownerReference to this parent's uid, is in the parent's namespace (namespaced
//!   parents), is not terminating, and is not in the desired set. Labels alone never delete.
//! - **Drift** ([`ownership`]): when the live object has the operator's `Apply` entry in its
//!   managedFields ([`PlanInputs::field_manager`]), a field the operator declares has drifted
//!   only if that entry no longer owns it (another manager changed it) or it is missing; the
//!   server's normalizations and defaults keep our ownership and are never drift. Without such
//!   an entry (replace mode), desired is compared as a subset of live by value ([`diff`]).
//!   Either way, fields other managers set are not drift, and drift is an
//!   [`UpdateReason::Drift`] update naming the path, old and new value.
//! - **Ownership**: an object with a desired name but another controller is never written
//!   ([`BlockReason::OwnedByOther`]); one without controller is adopted only if
//!   [`PlanPolicy::adopt_unowned`] says so.
//! - **Immutable fields** ([`immutable`]): recreate only for kinds the policy opts in,
//!   otherwise [`BlockReason::ImmutableChange`].
//! - **Rollout order**: on first install (no observed child controlled by the parent) every
//!   group is planned at once. Otherwise groups proceed in declared order: once a group has a
//!   pending action (anything but Unchanged) or is not ready, the actions of every later group
//!   become [`Action::Wait`]; deletes of orphans are never held back.
//! - **Determinism**: items are ordered by rollout group, then kind in dependency order
//!   (ConfigMap before StatefulSet), then kind, namespace and name; orphans come last. The order
//!   in which children were added to the set does not matter.
//! - **Idempotence**: applying a plan's writes and planning again yields only Unchanged items
//!   (one round per rollout group for upgrades).
//!
//! # Errors
//! Planning cannot fail: every problem with a child is an [`Action::Blocked`] item, so one bad
//! child never prevents the rest of the plan.

pub mod diff;
pub mod immutable;
pub mod ownership;

mod action;
mod display;
mod order;
mod policy;
mod quantity;
mod verified;

use foldhash::fast::FixedState;
use std::collections::HashMap;
use std::sync::Arc;

pub use action::{Action, BlockReason, PlanCounts, PlanItem, UpdateReason, WaitReason};
pub use diff::{FieldChange, FieldPath, PathSegment, REDACTED, UNSET};
pub use policy::{PlanInputs, PlanPolicy};
pub use verified::Verified;

use crate::builder::{ChildKey, DesiredSet, INSTANCE_LABEL, MANAGED_BY_LABEL};
use crate::hash::HASH_ANNOTATION;
use crate::model::{Object, ObjectRef, TypeRef};

/// The actions for one parent's children. See the [module docs](self).
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// The parent.
    pub parent: ObjectRef,
    /// One item per desired child and per orphan, in apply order.
    pub items: Vec<PlanItem>,
    /// The kinds whose observed objects were considered (owned kinds that were listed).
    pub scanned_kinds: Vec<TypeRef>,
    /// Owned kinds that were not listed (see [`PlanInputs::unlisted_kinds`]).
    pub skipped_kinds: Vec<TypeRef>,
    /// True when no observed child was controlled by the parent: every group is created at once.
    pub first_install: bool,
    /// The children this plan found without drift, for the next plan's
    /// [`PlanInputs::verified`].
    pub verified: Verified,
}

impl Plan {
    /// How many items get each action.
    pub fn counts(&self) -> PlanCounts {
        let mut c = PlanCounts::default();
        for item in &self.items {
            match item.action {
                Action::Create => c.creates += 1,
                Action::Update { .. } => c.updates += 1,
                Action::Recreate { .. } => c.recreates += 1,
                Action::Delete => c.deletes += 1,
                Action::Unchanged => c.unchanged += 1,
                Action::Wait { .. } => c.waiting += 1,
                Action::Blocked { .. } => c.blocked += 1,
            }
        }
        c
    }

    /// True when every item is Unchanged: nothing to write, nothing waiting or blocked.
    pub fn is_converged(&self) -> bool {
        self.items.iter().all(|i| i.action == Action::Unchanged)
    }

    /// The items that write now (create, update, recreate, delete), in apply order.
    pub fn writes(&self) -> impl Iterator<Item = &PlanItem> {
        self.items.iter().filter(|i| i.action.is_write())
    }

    /// The blocked items.
    pub fn blocked(&self) -> impl Iterator<Item = &PlanItem> {
        self.items.iter().filter(|i| matches!(i.action, Action::Blocked { .. }))
    }

    /// The first rollout group that holds later groups back, if any item waits on one.
    pub fn waiting_on(&self) -> Option<&str> {
        self.items.iter().find_map(|i| match &i.action {
            Action::Wait {
                reason: WaitReason::GroupNotReady { group },
                ..
            } => Some(group.as_str()),
            _ => None,
        })
    }

    /// The item for `key` (any version of its kind), if any.
    pub fn item(&self, key: &ObjectRef) -> Option<&PlanItem> {
        let key = ChildKey::from_ref(key);
        self.items.iter().find(|i| key.matches(&i.key))
    }
}

/// Plans with every rollout group counted as ready and every owned kind listed.
/// Equivalent to [`plan_with`] and `PlanInputs::default()`.
pub fn plan(desired: &DesiredSet, observed: &[Arc<Object>], policy: &PlanPolicy) -> Plan {
    plan_with(desired, observed, policy, &PlanInputs::default())
}

/// Plans one parent's children. `observed` may contain anything (objects of other parents,
/// other kinds, other namespaces): only owned kinds are considered, and only this parent's
/// objects are ever deleted. Like a store, it should hold one object per (kind, namespace,
/// name); if a key appears twice, the first occurrence is used.
pub fn plan_with(desired: &DesiredSet, observed: &[Arc<Object>], policy: &PlanPolicy, inputs: &PlanInputs) -> Plan {
    // `decide` returns None only where walks are refused.
    plan_inner(desired, observed, policy, inputs, Walk::Allowed).expect("with walks allowed, every child is decided")
}

/// The plan of a desired set whose children are known only by identity and desired hash (a
/// pure operator's set reused from its last reconcile, see
/// [`crate::reconcile::DynamicOperator::is_pure`]): Some only when it is all Unchanged and no
/// child needed its desired values read, that is when every child exists, is this parent's,
/// keeps its desired hash and was verified at its version or `Apply` entry by an earlier plan
/// ([`Verified`]), and no orphan is left. Then it equals what [`plan_with`] gives for the
/// full set; otherwise the caller plans the full set.
pub(crate) fn plan_verified(
    desired: &DesiredSet,
    observed: &[Arc<Object>],
    policy: &PlanPolicy,
    inputs: &PlanInputs,
) -> Option<Plan> {
    plan_inner(desired, observed, policy, inputs, Walk::Refused).filter(Plan::is_converged)
}

/// Whether a decision may read the desired object's values (its body, labels, annotations
/// but the hash) or must stop where it would.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Walk {
    Allowed,
    Refused,
}

fn plan_inner(
    desired: &DesiredSet,
    observed: &[Arc<Object>],
    policy: &PlanPolicy,
    inputs: &PlanInputs,
    walk: Walk,
) -> Option<Plan> {
    let ownership = desired.ownership();
    let (skipped, scanned): (Vec<TypeRef>, Vec<TypeRef>) = ownership
        .owned_kinds()
        .iter()
        .map(|k| k.type_ref.clone())
        .partition(|k| inputs.is_unlisted(k));

    // Matched by a borrowed key: the observed children are looked up once per desired child,
    // and what is left unmatched is the orphan candidates (sorted below, so the map's own
    // order never shows).
    let mut live: HashMap<LiveKey<'_>, &Arc<Object>, FixedState> = HashMap::default();
    for object in observed {
        let kind = object.type_ref();
        if ownership.owned_kind(&kind).is_some() && !inputs.is_unlisted(&kind) {
            live.entry(LiveKey::of(object)).or_insert(object);
        }
    }
    let parent_uid = desired.parent_uid();
    let first_install = !live.values().any(|o| o.is_controlled_by(parent_uid));
    let mut verified = Verified::default();

    let mut items: Vec<(usize, PlanItem)> = desired
        .children()
        .map(|child| {
            let current = live.remove(&LiveKey::of(&child.object)).cloned();
            let action = decide(
                desired,
                &child.object,
                current.as_deref(),
                policy,
                inputs,
                &mut verified,
                walk,
            )?;
            let rank = desired.group_rank(&child.group).unwrap_or(usize::MAX);
            let item = PlanItem {
                key: child.object.object_ref(),
                group: Some(child.group.clone()),
                desired: Some(Arc::clone(&child.object)),
                live: current,
                action,
            };
            Some((rank, item))
        })
        .collect::<Option<_>>()?;
    items.sort_by(|(ra, a), (rb, b)| (ra, sort_key(&a.key)).cmp(&(rb, sort_key(&b.key))));
    if !first_install {
        hold_back_later_groups(desired, &mut items, inputs);
    }

    let mut orphans: Vec<PlanItem> = live
        .into_values()
        .filter(|object| is_orphan(desired, object))
        .map(|object| PlanItem {
            key: object.object_ref(),
            group: None,
            desired: None,
            live: Some(Arc::clone(object)),
            action: Action::Delete,
        })
        .collect();
    orphans.sort_by(|a, b| sort_key(&a.key).cmp(&sort_key(&b.key)));

    Some(Plan {
        parent: desired.parent().clone(),
        items: items.into_iter().map(|(_, item)| item).chain(orphans).collect(),
        scanned_kinds: scanned,
        skipped_kinds: skipped,
        first_install,
        verified,
    })
}

/// A child's identity borrowed from the object (API group, kind, namespace, name; the version
/// is left out, as in [`ChildKey`]), so matching observed to desired children allocates nothing.
#[derive(PartialEq, Eq, Hash)]
struct LiveKey<'a> {
    name: &'a str,
    kind: &'a str,
    namespace: Option<&'a str>,
    group: &'a str,
}

impl<'a> LiveKey<'a> {
    fn of(object: &'a Object) -> Self {
        Self {
            name: object.name(),
            kind: &object.kind,
            namespace: object.metadata.namespace.as_deref(),
            group: object.api_version.rsplit_once('/').map_or("", |(group, _)| group),
        }
    }
}

/// Items sort by kind in install order, then kind, namespace and name.
fn sort_key(r: &ObjectRef) -> (usize, &str, &str, Option<&str>, &str) {
    (
        order::kind_rank(&r.type_ref.kind),
        r.type_ref.kind.as_str(),
        r.type_ref.group(),
        r.namespace.as_deref(),
        r.name.as_str(),
    )
}

fn decide(
    set: &DesiredSet,
    desired: &Object,
    live: Option<&Object>,
    policy: &PlanPolicy,
    inputs: &PlanInputs,
    verified: &mut Verified,
    walk: Walk,
) -> Option<Action> {
    if inputs.is_unlisted(&desired.type_ref()) {
        return Some(Action::Blocked {
            reason: BlockReason::KindNotListed,
        });
    }
    let Some(live) = live else {
        return Some(Action::Create);
    };
    if live.is_terminating() {
        return Some(Action::Wait {
            reason: WaitReason::Terminating,
            pending: Box::new(Action::Create),
        });
    }
    let adopt = match live.controller_owner() {
        Some(owner) if owner.uid == set.parent_uid() => false,
        Some(owner) => {
            return Some(Action::Blocked {
                reason: BlockReason::OwnedByOther { owner: owner.clone() },
            });
        }
        None if policy.adopts_unowned() => true,
        None => {
            return Some(Action::Blocked {
                reason: BlockReason::NotOwned,
            });
        }
    };
    let hash_changed = live.annotation(HASH_ANNOTATION) != desired.annotation(HASH_ANNOTATION);
    let manager = inputs.field_manager.as_deref();
    // Seen before without drift, at this very version: nothing to walk (see `verified`).
    let fingerprint = manager
        .filter(|_| !hash_changed)
        .and_then(|m| Verified::fingerprint(desired, live, m));
    // The entry's fingerprint, computed once and only for a child not remembered at its
    // version: a new version whose entry is the same text has the same drift, none.
    let mut entry = None;
    if let Some(fp) = fingerprint {
        if !adopt && let Some(known) = inputs.verified.entry_of(fp) {
            // A version remembered without its entry (a write's response carried the entry as
            // a tree, as a real API server's does): the cached object keeps it as text, so
            // the entry is remembered from now on and a later version with the same entry (a
            // status update) is verified too.
            let known = known.or_else(|| manager.and_then(|m| Verified::entry_fingerprint(desired, live, m)));
            verified.insert_with_entry(fp, known);
            return Some(Action::Unchanged);
        }
        entry = manager.and_then(|m| Verified::entry_fingerprint(desired, live, m));
        if !adopt && entry.is_some_and(|e| inputs.verified.contains_entry(e)) {
            verified.insert_with_entry(fp, entry);
            return Some(Action::Unchanged);
        }
    }
    // Everything below reads the desired object's values.
    if walk == Walk::Refused {
        return None;
    }
    // Same desired state: only a field we no longer own is drift (our entry is read only then).
    let owned_drift = manager
        .filter(|_| !hash_changed)
        .and_then(|manager| ownership::apply_fields(live, manager))
        .and_then(|fields| ownership::drift_from(desired, live, fields));
    let mut changes = match owned_drift {
        Some(changes) => {
            if let Some(fp) = fingerprint.filter(|_| changes.is_empty()) {
                verified.insert_with_entry(fp, entry);
            }
            changes
        }
        // A new desired state is written anyway: the value diff names what changes. Without
        // managedFields of ours (replace mode), values are all there is to compare.
        _ => diff::drift(desired, live),
    };
    // A field can only have been dropped from the desired object if its hash changed.
    if hash_changed && let Some(manager) = &inputs.field_manager {
        changes.extend(diff::dropped_fields(desired, live, manager));
    }
    let changes = policy.redact(&desired.type_ref(), changes);
    if changes.is_empty() && !hash_changed && !adopt {
        return Some(Action::Unchanged);
    }
    let immutable = immutable::immutable_changes(&desired.type_ref(), &changes);
    if !immutable.is_empty() {
        return Some(if policy.recreate_allowed(&desired.type_ref()) {
            Action::Recreate { immutable, changes }
        } else {
            Action::Blocked {
                reason: BlockReason::ImmutableChange { changes: immutable },
            }
        });
    }
    let reason = if adopt {
        UpdateReason::Adopt
    } else if hash_changed {
        UpdateReason::HashChanged
    } else {
        UpdateReason::Drift
    };
    Some(Action::Update { reason, changes })
}

/// Upgrade ordering: the first ordered group that is busy (has a pending action) or not ready holds
/// every later group's actions back as Wait. Blocked items stay Blocked (they need a human).
fn hold_back_later_groups(set: &DesiredSet, items: &mut [(usize, PlanItem)], inputs: &PlanInputs) {
    let mut holding: Option<String> = None;
    for group in set.groups().iter().filter(|g| g.ordered) {
        let members = items
            .iter_mut()
            .filter(|(_, i)| i.group.as_deref() == Some(group.name.as_str()));
        let mut busy = false;
        let mut has_children = false;
        for (_, item) in members {
            has_children = true;
            if let Some(blocker) = &holding {
                if item.action.is_write() {
                    let pending = std::mem::replace(&mut item.action, Action::Unchanged);
                    item.action = Action::Wait {
                        reason: WaitReason::GroupNotReady { group: blocker.clone() },
                        pending: Box::new(pending),
                    };
                }
            } else if item.action != Action::Unchanged {
                busy = true;
            }
        }
        if holding.is_none() && has_children && (busy || !inputs.is_ready(&group.name)) {
            holding = Some(group.name.clone());
        }
    }
}

/// An orphan must be provably ours: labels AND controller ownerReference to this parent's uid.
fn is_orphan(set: &DesiredSet, object: &Object) -> bool {
    let parent = set.parent();
    object.label(MANAGED_BY_LABEL) == Some(set.ownership().manager())
        && object.label(INSTANCE_LABEL) == Some(parent.name.as_str())
        && object.is_controlled_by(set.parent_uid())
        && (parent.namespace.is_none() || object.namespace() == parent.namespace.as_deref())
        && !object.is_terminating()
}

#[cfg(test)]
mod tests;
