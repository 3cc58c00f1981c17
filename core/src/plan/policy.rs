//! What the planner may do (operator-wide policy) and what it knows about this reconcile
//! beyond the objects (per-reconcile inputs).

use std::collections::{BTreeMap, BTreeSet};

use super::diff::{FieldChange, FieldPath};
use crate::builder::same_kind;
use crate::model::TypeRef;

/// The fields of a core/v1 Secret whose values are never shown.
const SECRET_FIELDS: [&str; 2] = ["data", "stringData"];

/// Operator-wide planning policy.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlanPolicy {
    recreate: Vec<TypeRef>,
    adopt_unowned: bool,
    sensitive: Vec<(TypeRef, Vec<String>)>,
}

impl PlanPolicy {
    /// The conservative default: never recreate, never adopt.
    pub fn new() -> Self {
        Self::default()
    }

    /// Allows deleting and recreating objects of `kind` (any version) when an immutable field
    /// changed. Without it such a change is [`BlockReason::ImmutableChange`](super::BlockReason).
    /// Recreating a StatefulSet restarts its pods; recreating a PVC loses its data, so opt in
    /// per kind, knowingly.
    pub fn allow_recreate(mut self, kind: TypeRef) -> Self {
        if !self.recreate_allowed(&kind) {
            self.recreate.push(kind);
        }
        self
    }

    /// Lets the planner take over an existing object with the desired name that has no
    /// controller ownerReference (an Update adds ours). Objects controlled by another owner are
    /// never taken over.
    pub fn adopt_unowned(mut self, adopt: bool) -> Self {
        self.adopt_unowned = adopt;
        self
    }

    /// Marks the field at `path` (plain field names from the object root, e.g.
    /// `["spec", "auth", "password"]`) of objects of `kind` (any version) as sensitive: plan
    /// display, events, conditions and logs name its changes without values
    /// (`spec.auth.password: <redacted, changed>`). A Secret's `data` and `stringData` are
    /// always sensitive.
    pub fn sensitive(mut self, kind: TypeRef, path: &[&str]) -> Self {
        self.sensitive
            .push((kind, path.iter().map(|p| (*p).to_owned()).collect()));
        self
    }

    /// True if a change at `path` of an object of `kind` must not show values: the path is in,
    /// or contains, a sensitive field.
    pub fn is_sensitive(&self, kind: &TypeRef, path: &FieldPath) -> bool {
        let secret = kind.kind == "Secret" && kind.group().is_empty();
        (secret && SECRET_FIELDS.iter().any(|f| path.overlaps(&[(*f).to_owned()])))
            || self
                .sensitive
                .iter()
                .any(|(k, p)| same_kind(k, kind) && path.overlaps(p))
    }

    /// Replaces the values of every sensitive change of an object of `kind` by
    /// [`REDACTED`](super::diff::REDACTED).
    pub fn redact(&self, kind: &TypeRef, changes: Vec<FieldChange>) -> Vec<FieldChange> {
        changes
            .into_iter()
            .map(|c| {
                if self.is_sensitive(kind, &c.path) {
                    c.redacted()
                } else {
                    c
                }
            })
            .collect()
    }

    /// True if objects of `kind` may be recreated.
    pub fn recreate_allowed(&self, kind: &TypeRef) -> bool {
        self.recreate.iter().any(|k| same_kind(k, kind))
    }

    /// True if unowned objects may be adopted.
    pub fn adopts_unowned(&self) -> bool {
        self.adopt_unowned
    }
}

/// Per-reconcile facts the planner cannot see in the objects themselves.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlanInputs {
    /// Readiness of each rollout group (computed by the caller from workload status, e.g. by
    /// the rollout module). `None` counts every group as ready; a group missing from the map
    /// counts as not ready, except groups without children.
    pub group_ready: Option<BTreeMap<String, bool>>,
    /// Owned kinds that could not be listed (typically Forbidden). Their desired children are
    /// [`Blocked`](super::Action::Blocked) with [`BlockReason::KindNotListed`](super::BlockReason),
    /// and they are not scanned for orphans.
    pub unlisted_kinds: BTreeSet<TypeRef>,
    /// The field manager the operator applies with. When set, a field that manager's `Apply`
    /// entry in the live object's managedFields still owns but the desired object no longer
    /// sets is reported as a change to `<unset>` (server-side apply removes it on the next
    /// apply), so an Update always names its paths.
    pub field_manager: Option<String>,
    /// Children an earlier plan of this parent found without drift
    /// ([`Plan::verified`](super::Plan::verified)): seen again with the same resourceVersion
    /// and desired hash, they are Unchanged without walking their fields.
    pub verified: super::Verified,
}

impl PlanInputs {
    /// Inputs with a readiness map.
    pub fn with_readiness(group_ready: BTreeMap<String, bool>) -> Self {
        Self {
            group_ready: Some(group_ready),
            ..Self::default()
        }
    }

    /// Sets the field manager (builder style); see [`PlanInputs::field_manager`].
    pub fn field_manager(mut self, manager: impl Into<String>) -> Self {
        self.field_manager = Some(manager.into());
        self
    }

    /// Marks `kind` as not listed (builder style).
    pub fn unlisted(mut self, kind: TypeRef) -> Self {
        self.unlisted_kinds.insert(kind);
        self
    }

    pub(crate) fn is_ready(&self, group: &str) -> bool {
        self.group_ready
            .as_ref()
            .is_none_or(|m| m.get(group).copied().unwrap_or(false))
    }

    pub(crate) fn is_unlisted(&self, kind: &TypeRef) -> bool {
        self.unlisted_kinds.iter().any(|k| same_kind(k, kind))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::builder::{DesiredSet, GroupSpec, OwnedKind, Ownership};
    use crate::hash::HASH_ANNOTATION;
    use crate::model::Object;
    use crate::plan::{Action, plan};

    fn change(path: &[&str], from: &str, to: &str) -> FieldChange {
        FieldChange {
            path: FieldPath::fields(path),
            from: Some(from.to_owned()),
            to: to.to_owned(),
        }
    }

    #[test]
    fn secret_data_and_marked_paths_lose_their_values() {
        let policy = PlanPolicy::new().sensitive(TypeRef::new("example.io/v1", "Db"), &["spec", "auth", "password"]);
        let secret = TypeRef::new("v1", "Secret");
        let changes = vec![
            change(&["data", "password"], "b2xk", "bmV3"),
            change(&["stringData"], "{\"k\":\"old\"}", "{\"k\":\"new\"}"),
            change(&["metadata", "labels", "app"], "a", "b"),
        ];
        let shown: Vec<String> = policy
            .redact(&secret, changes)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            shown,
            [
                "data.password: <redacted, changed>",
                "stringData: <redacted, changed>",
                "metadata.labels.app: a -> b"
            ]
        );
        let db = TypeRef::new("example.io/v2", "Db");
        assert!(policy.is_sensitive(&db, &FieldPath::fields(&["spec", "auth"])));
        assert!(policy.is_sensitive(&db, &FieldPath::fields(&["spec", "auth", "password"])));
        assert!(!policy.is_sensitive(&db, &FieldPath::fields(&["spec", "replicas"])));
        assert!(!policy.is_sensitive(
            &TypeRef::new("v1", "ConfigMap"),
            &FieldPath::fields(&["data", "password"])
        ));
    }

    #[test]
    fn a_planned_secret_update_names_the_path_without_values() {
        let parent = Object::from_value(json!({"apiVersion": "example.io/v1", "kind": "Db",
            "metadata": {"name": "db", "namespace": "ns", "uid": "u1"}}))
        .unwrap();
        let ownership = Ownership::new("op").owns_kind(OwnedKind::namespaced(TypeRef::new("v1", "Secret")));
        let mut set = DesiredSet::new(&parent, &ownership).unwrap();
        set.declare(GroupSpec::ordered("g").component_label("g")).unwrap();
        let secret = Object::from_value(json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "s", "namespace": "ns"}, "data": {"password": "c2VjcmV0LW5ldw=="}}))
        .unwrap();
        set.add("g", secret).unwrap();
        let mut live = (*set.children().next().unwrap().object).clone();
        live.body["data"]["password"] = json!("c2VjcmV0LW9sZA==");
        live.metadata
            .annotations
            .get_or_insert_default()
            .insert(HASH_ANNOTATION.into(), "old".into());
        let p = plan(&set, &[Arc::new(live)], &PlanPolicy::new());
        let text = format!("{p:#}");
        assert!(matches!(p.items[0].action, Action::Update { .. }), "{text}");
        assert!(text.contains("data.password: <redacted, changed>"), "{text}");
        assert!(!text.contains("c2VjcmV0"), "{text}");
    }
}
