//! Reads: get, and list with selectors and limit/continue.
//!
//! A list page is served at one revision. A continue token carries that revision and the last
//! key returned; later pages are served from the same snapshot by rolling back, through the
//! watch history, every change made since (etcd serves continued lists the same way from its
//! MVCC store). When the history no longer reaches back that far the token has expired: 410.
//! A list with `resourceVersionMatch=Exact` is served at its resourceVersion the same way.

use std::collections::BTreeMap;
use std::sync::Arc;

use operator_runtime_core::store::{ListParams, StoreResult, VersionMatch};
use operator_runtime_core::{Object, ObjectList, ObjectRef, StoreError, TypeRef};

use crate::errors::{not_found, unknown_kind};
use crate::selectors::Selector;
use crate::state::State;
use crate::strategy::served_as;
use crate::validation::Causes;

/// GET.
pub(crate) fn get(state: &State, key: &ObjectRef) -> StoreResult<Arc<Object>> {
    let kind = state
        .kinds
        .get(&key.type_ref)
        .ok_or_else(|| unknown_kind(&key.type_ref))?;
    let namespace = if kind.info.namespaced {
        key.namespace.as_deref().unwrap_or("")
    } else {
        ""
    };
    state
        .lookup(kind.slot, namespace, &key.name)
        .map(|o| served_as(o, &key.type_ref.api_version))
        .ok_or_else(|| not_found(&kind.info, &key.name))
}

/// A decoded continue token.
struct Continue {
    revision: u64,
    namespace: String,
    name: String,
}

fn encode_continue(revision: u64, namespace: &str, name: &str) -> String {
    let raw = serde_json::json!([revision, namespace, name]).to_string();
    hex::encode(raw)
}

fn decode_continue(token: &str) -> StoreResult<Continue> {
    let bad = || StoreError::bad_request(format!("invalid continue token: {token:?}"));
    let raw = hex::decode(token).map_err(|_| bad())?;
    let (revision, namespace, name): (u64, String, String) = serde_json::from_slice(&raw).map_err(|_| bad())?;
    Ok(Continue {
        revision,
        namespace,
        name,
    })
}

/// The revision a first page is served at, from `resourceVersion` and
/// `resourceVersionMatch`: the current one, or an exact older one (rolled back like a
/// continued page). A revision the store has not reached is the API server's 504 (it waits
/// for its cache first; this store has nothing to wait for).
fn list_revision(state: &State, params: &ListParams) -> StoreResult<u64> {
    let rv = params.resource_version.as_deref().filter(|rv| !rv.is_empty());
    let mut causes = Causes::default();
    match (rv, params.version_match) {
        (None, Some(_)) => causes.forbidden(
            "resourceVersionMatch",
            "resourceVersionMatch is forbidden unless resourceVersion is provided",
        ),
        (Some("0"), Some(VersionMatch::Exact)) => causes.forbidden(
            "resourceVersionMatch",
            "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"",
        ),
        _ => {}
    }
    causes.into_result("ListOptions.meta.k8s.io", "")?;
    let Some(rv) = rv.filter(|rv| *rv != "0") else {
        return Ok(state.revision);
    };
    let wanted: u64 = rv
        .parse()
        .map_err(|_| StoreError::bad_request(format!("resourceVersion: Invalid value: \"{rv}\": must be a number")))?;
    if wanted > state.revision {
        return Err(StoreError::Timeout {
            message: format!("Too large resource version: {wanted}, current: {}", state.revision),
            source: None,
        });
    }
    Ok(match params.version_match {
        Some(VersionMatch::Exact) => wanted,
        _ => state.revision,
    })
}

/// LIST.
pub(crate) fn list(state: &State, type_ref: &TypeRef, params: &ListParams) -> StoreResult<ObjectList> {
    let kind = state.kinds.get(type_ref).ok_or_else(|| unknown_kind(type_ref))?;
    let selector = Selector::parse(
        params.label_selector.as_deref(),
        params.field_selector.as_deref(),
        &kind.strategy.field_labels,
    )?;
    let namespace = params
        .namespace
        .as_deref()
        .filter(|ns| kind.info.namespaced && !ns.is_empty());
    let cont = params.continue_token.as_deref().map(decode_continue).transpose()?;
    let revision = match &cont {
        Some(c) => c.revision,
        None => list_revision(state, params)?,
    };
    if revision < state.hub.compacted() {
        return Err(StoreError::expired(if cont.is_some() {
            "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter."
        } else {
            "The resourceVersion for the provided list is too old."
        }));
    }
    let after = cont.as_ref().map(|c| (c.namespace.as_str(), c.name.as_str()));
    let limit = params.limit.filter(|l| *l > 0).map(|l| l as usize);

    // Roll back changes made after the list revision (continued pages, exact lists).
    let mut rollback: BTreeMap<(&str, &str), Option<&Arc<Object>>> = BTreeMap::new();
    if revision < state.revision {
        for change in state.hub.since(revision).filter(|c| c.slot == kind.slot) {
            let key = (change.object.namespace().unwrap_or(""), change.object.name());
            rollback.entry(key).or_insert(change.prev.as_ref());
        }
    }

    let empty = BTreeMap::new();
    let table = state.table(kind.slot).unwrap_or(&empty);
    let current = table
        .iter()
        .filter(|(ns, _)| namespace.is_none_or(|want| want == ns.as_str()))
        .flat_map(|(ns, names)| names.iter().map(move |(name, o)| ((ns.as_str(), name.as_str()), o)));
    let mut items = Vec::new();
    let mut continue_token = None;
    let mut push = |key: (&str, &str), object: &Arc<Object>, items: &mut Vec<Arc<Object>>| -> bool {
        if after.is_some_and(|a| key <= a) || !selector.matches(object) {
            return true;
        }
        if limit.is_some_and(|l| items.len() >= l) {
            if let Some(last) = items.last() {
                continue_token = Some(encode_continue(revision, last.namespace().unwrap_or(""), last.name()));
            }
            return false;
        }
        items.push(served_as(object, &type_ref.api_version));
        true
    };
    if rollback.is_empty() {
        for (key, object) in current {
            if !push(key, object, &mut items) {
                break;
            }
        }
    } else {
        // Merge the current table with the rolled-back entries, in key order.
        let mut snapshot: BTreeMap<(&str, &str), &Arc<Object>> = current.collect();
        for (key, prev) in &rollback {
            if namespace.is_some_and(|want| want != key.0) {
                continue;
            }
            match prev {
                Some(o) => snapshot.insert(*key, o),
                None => snapshot.remove(key),
            };
        }
        for (key, object) in snapshot {
            if !push(key, object, &mut items) {
                break;
            }
        }
    }
    Ok(ObjectList {
        items,
        resource_version: revision.to_string(),
        continue_token,
    })
}
