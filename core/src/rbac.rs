//! Least-privilege RBAC rules derived from what an operator declares.
//!
//! The runtime knows every request it can make: on the parent kind it reads, watches and
//! patches (finalizer), and writes the status subresource; on each owned kind it reads,
//! watches, creates, updates, patches and deletes; it writes Events (events.k8s.io) and, with
//! leader election, a coordination.k8s.io Lease. [`operator_rules`] turns that into RBAC
//! `PolicyRule`s and [`cluster_role`] into a ClusterRole manifest, so an operator can run with
//! exactly these permissions and nothing more.
//!
//! Resource names are the lower-case plural guessed from the kind ([`guess_plural`]: the rule
//! of apimachinery's `UnsafeGuessKindToResource`, except that a vowel before a final `y` keeps
//! it, as English and CRD authors do); a kind whose plural is irregular (`Endpoints`) needs its
//! rule adjusted by hand.

use serde::Serialize;
use serde_json::{Value, json};

use crate::TypeRef;
use crate::reconcile::DynamicOperator;

/// One RBAC rule: these verbs on these resources of these API groups.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyRule {
    /// API groups (`""` is the core group).
    pub api_groups: Vec<String>,
    /// Resources, plural, with `/status` for the status subresource.
    pub resources: Vec<String>,
    /// Verbs.
    pub verbs: Vec<String>,
}

/// Verbs on the parent kind: read, watch, and patch/update for the finalizer.
const PARENT_VERBS: &[&str] = &["get", "list", "watch", "patch", "update"];
/// Verbs on the parent's status subresource.
const STATUS_VERBS: &[&str] = &["get", "patch", "update"];
/// Verbs on an owned kind.
const OWNED_VERBS: &[&str] = &["get", "list", "watch", "create", "update", "patch", "delete"];
/// Verbs on a kind the operator only reads.
const READ_VERBS: &[&str] = &["get", "list", "watch"];
/// Verbs on events.k8s.io Events (create a series, patch its count).
const EVENT_VERBS: &[&str] = &["create", "patch", "update"];
/// Verbs on the leader-election Lease.
const LEASE_VERBS: &[&str] = &["get", "create", "update"];

/// The rules an operator with this parent and these owned kinds needs; `leader_election` adds
/// the Lease rule.
pub fn operator_rules(parent: &TypeRef, owned: &[TypeRef], leader_election: bool) -> Vec<PolicyRule> {
    let mut rules = vec![
        rule(parent, &[plural_of(parent)], PARENT_VERBS),
        rule(parent, &[format!("{}/status", plural_of(parent))], STATUS_VERBS),
    ];
    for kind in owned {
        let resource = plural_of(kind);
        match rules
            .iter_mut()
            .skip(2)
            .find(|r| r.api_groups == [kind.group().to_owned()])
        {
            Some(existing) if !existing.resources.contains(&resource) => existing.resources.push(resource),
            Some(_) => {}
            None => rules.push(rule(kind, &[resource], OWNED_VERBS)),
        }
    }
    rules.push(rule(
        &TypeRef::new("events.k8s.io/v1", "Event"),
        &["events".to_owned()],
        EVENT_VERBS,
    ));
    if leader_election {
        rules.push(rule(
            &TypeRef::new("coordination.k8s.io/v1", "Lease"),
            &["leases".to_owned()],
            LEASE_VERBS,
        ));
    }
    rules
}

/// [`operator_rules`] for an operator (typed or dynamic): its parent type, every kind its
/// ownership owns, and get/list/watch on every kind it reads.
pub fn rules_for<O: DynamicOperator + ?Sized>(operator: &O, leader_election: bool) -> Vec<PolicyRule> {
    let ownership = operator.ownership();
    let owned: Vec<TypeRef> = ownership.owned_kinds().iter().map(|k| k.type_ref.clone()).collect();
    let mut rules = operator_rules(&operator.parent_type(), &owned, leader_election);
    for read in ownership
        .read_kinds()
        .iter()
        .filter(|k| ownership.owned_kind(&k.type_ref).is_none())
    {
        rules.push(rule(&read.type_ref, &[plural_of(&read.type_ref)], READ_VERBS));
    }
    rules
}

/// A `rbac.authorization.k8s.io/v1` ClusterRole named `name` holding `rules`.
pub fn cluster_role(name: &str, rules: &[PolicyRule]) -> Value {
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": name},
        "rules": rules,
    })
}

/// The lower-case plural resource name the API server guesses for a kind: `...s` -> `...ses`,
/// consonant + `y` -> `...ies`, otherwise `+s` (`Ingress` -> `ingresses`, `NetworkPolicy` ->
/// `networkpolicies`, `DataCluster` -> `dataclusters`).
pub fn guess_plural(kind: &str) -> String {
    let lower = kind.to_ascii_lowercase();
    if lower.is_empty() {
        return lower;
    }
    if lower.ends_with('s') {
        return format!("{lower}es");
    }
    if let Some(stem) = lower.strip_suffix('y') {
        let vowel_before = stem.ends_with(['a', 'e', 'i', 'o', 'u']);
        if !vowel_before {
            return format!("{stem}ies");
        }
    }
    format!("{lower}s")
}

fn plural_of(kind: &TypeRef) -> String {
    guess_plural(&kind.kind)
}

fn rule(kind: &TypeRef, resources: &[String], verbs: &[&str]) -> PolicyRule {
    PolicyRule {
        api_groups: vec![kind.group().to_owned()],
        resources: resources.to_vec(),
        verbs: verbs.iter().map(|v| (*v).to_owned()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals_follow_the_api_servers_guess() {
        for (kind, plural) in [
            ("ConfigMap", "configmaps"),
            ("Ingress", "ingresses"),
            ("NetworkPolicy", "networkpolicies"),
            ("Gateway", "gateways"),
            ("StatefulSet", "statefulsets"),
            ("DataCluster", "dataclusters"),
        ] {
            assert_eq!(guess_plural(kind), plural, "{kind}");
        }
    }

    #[test]
    fn rules_cover_parent_status_children_events_and_lease() {
        let parent = TypeRef::new("datainfra.io/v1alpha1", "DataCluster");
        let owned = [
            TypeRef::new("v1", "ConfigMap"),
            TypeRef::new("v1", "Service"),
            TypeRef::new("apps/v1", "StatefulSet"),
            TypeRef::new("apps/v1", "Deployment"),
        ];
        let rules = operator_rules(&parent, &owned, true);
        assert_eq!(rules.len(), 6, "{rules:#?}");
        assert_eq!(rules[0].resources, ["dataclusters"]);
        assert_eq!(rules[1].resources, ["dataclusters/status"]);
        assert_eq!(rules[1].verbs, ["get", "patch", "update"]);
        assert_eq!(rules[2].api_groups, [""]);
        assert_eq!(rules[2].resources, ["configmaps", "services"]);
        assert_eq!(rules[3].api_groups, ["apps"]);
        assert_eq!(rules[3].resources, ["statefulsets", "deployments"]);
        assert!(rules[3].verbs.contains(&"delete".to_owned()));
        assert_eq!(rules[4].resources, ["events"]);
        assert_eq!(rules[5].api_groups, ["coordination.k8s.io"]);
        assert_eq!(operator_rules(&parent, &owned, false).len(), 5);
        let role = cluster_role("op", &rules);
        assert_eq!(role["rules"][0]["apiGroups"], json!(["datainfra.io"]));
    }
}
