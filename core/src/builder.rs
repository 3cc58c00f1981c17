//! Builders: the desired children of one parent, ready for the planner.
//!
//! A [`DesiredSet`] collects what one parent (one custom resource) should own. Every child
//! gets the same treatment, so an operator author only writes the interesting fields.
//!
//! # Expected flow
//! ```
//! use k8s_openapi::api::apps::v1::StatefulSet;
//! use k8s_openapi::api::core::v1::ConfigMap;
//! use operator_runtime_core::builder::{config_hash, with_pod_template_annotation, DesiredSet, GroupSpec, Ownership};
//! use operator_runtime_core::{Object, TypeRef};
//! # use serde_json::json;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Once per operator: who we are and which kinds we own (scanned for orphans).
//! let ownership = Ownership::new("my-operator").owns::<ConfigMap>().owns::<StatefulSet>();
//! // Per reconcile: the parent as read from the API server (it must have a uid).
//! # let parent = Object::from_value(json!({"apiVersion": "example.com/v1", "kind": "Db",
//! #     "metadata": {"name": "db1", "namespace": "prod", "uid": "u-1"}}))?;
//! let mut set = DesiredSet::new(&parent, &ownership)?;
//! // Ordering and labelling are separate, explicit choices.
//! set.declare(GroupSpec::ordered("config"))?; // ordered groups roll out in declaration order
//! set.declare(GroupSpec::ordered("data").component_label("data"))?;
//! let cm = ConfigMap { metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
//!     name: Some("db1-config".into()), ..Default::default() }, ..Default::default() };
//! let cm_ref = set.add("config", cm)?; // typed children and dynamic ones alike
//! let mut sts = Object::from_value(json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
//!     "metadata": {"name": "db1-data"}, "spec": {"template": {"spec": {}}}}))?;
//! let hash = config_hash(set.get(&cm_ref).expect("just added"));
//! with_pod_template_annotation(&mut sts, "example.com/config-hash", &hash)?;
//! set.add("data", sts)?;
//! assert_eq!(set.len(), 2);
//! # Ok(()) }
//! ```
//! The set then goes to [`crate::plan::plan`] together with the observed children.
//!
//! # Guarantees
//! Every child in the set:
//! - is in the parent's namespace (namespaced kinds of a namespaced parent), or in the namespace
//!   it names (namespaced kinds of a cluster-scoped parent), or in none (cluster-scoped kinds);
//! - carries exactly one controller ownerReference, to the parent's uid, with
//!   `blockOwnerDeletion: true` (any other controller reference the caller set is replaced,
//!   non-controller references are kept);
//! - carries the ownership labels [`MANAGED_BY_LABEL`] (the operator's name) and
//!   [`INSTANCE_LABEL`] (the parent's name), and [`COMPONENT_LABEL`] when the child sets it or
//!   its group was declared with [`GroupSpec::component_label`];
//! - has no server-set metadata (uid, resourceVersion, generation, timestamps, managedFields)
//!   and no `status`: these are never intent;
//! - for a Secret, has its `stringData` folded into base64 `data`, as the API server stores it;
//! - carries [`HASH_ANNOTATION`] = [`hash::desired_hash`] of the finished object, computed after
//!   labels are set (it excludes ownerReferences and the annotation itself, so a recreated parent
//!   with a new uid produces the same hashes).
//!
//! The builder never mutates what the caller passed in: typed children are serialized from a
//! reference, and label and annotation maps are copied before they are changed.
//! Children are kept in a sorted map, so the order of `add` calls does not matter; only the
//! order in which ordered groups are declared does.
//!
//! # Errors
//! Every mistake is a [`BuildError`] variant: a parent without uid, a missing or invalid name,
//! a duplicate child, a namespace other than the parent's, a kind not declared in
//! [`Ownership::owns`], an ownership label with a contradicting value, an invalid label value.

mod config;
mod error;
mod scope;
mod skeleton;
mod validate;

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::sync::Arc;

pub use crate::model::IntoObject;
pub use config::{config_hash, config_hash_of, with_pod_template_annotation};
pub use error::BuildError;
pub use scope::{OwnedKind, Scope};
pub(crate) use skeleton::Skeleton;
pub use validate::{MAX_LABEL_NAME_LEN, MAX_LABEL_VALUE_LEN, MAX_NAME_LEN, check_label_value, check_name};

use crate::hash::{self, HASH_ANNOTATION};
use crate::model::{Object, ObjectRef, OwnerReference, TypeRef};
pub(crate) use scope::same_kind;

/// Label naming the operator that manages an object.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// Label naming the parent (instance) an object belongs to.
pub const INSTANCE_LABEL: &str = "app.kubernetes.io/instance";
/// Label naming the component (rollout group or the child's own) of an object.
pub const COMPONENT_LABEL: &str = "app.kubernetes.io/component";

/// Operator-wide ownership settings: the manager name written to [`MANAGED_BY_LABEL`] and the
/// kinds the operator owns (the kinds scanned for orphans and watched by the controller).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ownership {
    manager: String,
    owned: Vec<OwnedKind>,
    read: Vec<OwnedKind>,
}

impl Ownership {
    /// Ownership for the operator called `manager` (also a sensible field manager name).
    pub fn new(manager: impl Into<String>) -> Self {
        Self {
            manager: manager.into(),
            owned: Vec::new(),
            read: Vec::new(),
        }
    }

    /// Declares the owned kind `K` (any k8s-openapi type or `#[derive(CustomResource)]` type;
    /// scope read from the type).
    #[must_use]
    pub fn owns<K>(self) -> Self
    where
        K: kube_core::Resource<DynamicType = ()>,
        K::Scope: 'static,
    {
        self.owns_kind(OwnedKind::of::<K>())
    }

    /// Declares an owned kind known only at run time (dynamic operators). Declaring a kind
    /// twice keeps the first scope.
    #[must_use]
    pub fn owns_kind(mut self, kind: OwnedKind) -> Self {
        if !self.owned.iter().any(|k| k.matches(&kind.type_ref)) {
            self.owned.push(kind);
        }
        self
    }

    /// Declares a kind the operator reads through its [`crate::reconcile::Context`] without
    /// owning it (a user's Secret or ConfigMap, say): the runtime watches it, and a change of
    /// an object a parent looked up reconciles that parent again.
    #[must_use]
    pub fn reads<K>(self) -> Self
    where
        K: kube_core::Resource<DynamicType = ()>,
        K::Scope: 'static,
    {
        self.reads_kind(OwnedKind::of::<K>())
    }

    /// [`Ownership::reads`] for a kind known only at run time.
    #[must_use]
    pub fn reads_kind(mut self, kind: OwnedKind) -> Self {
        if !self.read.iter().any(|k| k.matches(&kind.type_ref)) {
            self.read.push(kind);
        }
        self
    }

    /// The kinds declared with [`Ownership::reads`], in declaration order.
    pub fn read_kinds(&self) -> &[OwnedKind] {
        &self.read
    }

    /// The operator's name, the value of [`MANAGED_BY_LABEL`].
    pub fn manager(&self) -> &str {
        &self.manager
    }

    /// The declared owned kinds, in declaration order.
    pub fn owned_kinds(&self) -> &[OwnedKind] {
        &self.owned
    }

    /// The declaration of `type_ref`, if owned (any version of the same group and kind).
    pub fn owned_kind(&self, type_ref: &TypeRef) -> Option<&OwnedKind> {
        self.owned.iter().find(|k| k.matches(type_ref))
    }

    /// Label selector matching every child of the parent named `parent_name`
    /// (`app.kubernetes.io/managed-by=<manager>,app.kubernetes.io/instance=<parent>`).
    /// Labels alone never prove ownership; the planner also checks the owner uid.
    pub fn selector(&self, parent_name: &str) -> String {
        format!("{MANAGED_BY_LABEL}={},{INSTANCE_LABEL}={parent_name}", self.manager)
    }
}

/// One group of children (a node type): its name, whether it takes part in the ordered
/// rollout, and the component label its children get.
///
/// Ordering and labelling are separate choices, both explicit ([`GroupSpec`]): an ordered
/// group waits until every ordered group declared before it is ready; a labelled group sets
/// [`COMPONENT_LABEL`] on children that do not set their own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    /// The group's name.
    pub name: String,
    /// Whether the group takes part in the ordered rollout ([`GroupSpec::ordered`]).
    pub ordered: bool,
    /// Value of [`COMPONENT_LABEL`] for children that do not set their own; None sets no label.
    pub component: Option<String>,
}

/// How a group of children rolls out and whether its children are labelled: the argument of
/// [`DesiredSet::declare`].
///
/// ```
/// use operator_runtime_core::builder::GroupSpec;
/// // Waits for every ordered group declared before it; children get component=broker.
/// let broker = GroupSpec::ordered("broker").component_label("broker");
/// // Never waits and sets no label.
/// let extras = GroupSpec::independent("extras");
/// assert!(broker.is_ordered() && !extras.is_ordered());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupSpec {
    group: Group,
}

impl GroupSpec {
    /// A group that waits until every ordered group declared before it has no pending write
    /// and is ready, and holds back every ordered group declared after it until then.
    pub fn ordered(name: impl Into<String>) -> Self {
        Self {
            group: Group {
                name: name.into(),
                ordered: true,
                component: None,
            },
        }
    }

    /// A group that rolls out independently of every other group (what an undeclared group
    /// passed to [`DesiredSet::add`] is).
    pub fn independent(name: impl Into<String>) -> Self {
        Self {
            group: Group {
                name: name.into(),
                ordered: false,
                component: None,
            },
        }
    }

    /// Children of the group that do not set [`COMPONENT_LABEL`] get `value`.
    #[must_use]
    pub fn component_label(mut self, value: impl Into<String>) -> Self {
        self.group.component = Some(value.into());
        self
    }

    /// Whether the group takes part in the ordered rollout.
    pub fn is_ordered(&self) -> bool {
        self.group.ordered
    }
}

/// One desired child: its rollout group and the finished object.
#[derive(Clone, Debug, PartialEq)]
pub struct Child {
    /// Name of the rollout group the child belongs to.
    pub group: String,
    /// The finished object (namespace, ownerReference, labels and hash set).
    pub object: Arc<Object>,
}

/// Identity of a child for matching desired against observed: API group, kind, namespace and
/// name. The version is left out so that `apps/v1` and a later version are the same object.
///
/// Held as one string, `group NUL kind NUL [SOH namespace] NUL name`, so a key costs one
/// allocation and compares with one `memcmp` (a set is a sorted map of them, and its twelve
/// children's four strings each were a twentieth of a reconcile that writes nothing). NUL sorts
/// before every other byte, so the order is the order of the tuple (group, kind, namespace,
/// name), and SOH marks a namespace, so an empty one differs from none and sorts after it. No
/// API group, kind, namespace or name the API server accepts holds a NUL.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct ChildKey(String);

impl ChildKey {
    fn encode(group: &str, kind: &str, namespace: Option<&str>, name: &str) -> Self {
        let len = group.len() + kind.len() + namespace.map_or(0, |ns| ns.len() + 1) + name.len() + 3;
        let mut key = String::with_capacity(len);
        key.push_str(group);
        key.push('\0');
        key.push_str(kind);
        key.push('\0');
        if let Some(ns) = namespace {
            key.push('\u{1}');
            key.push_str(ns);
        }
        key.push('\0');
        key.push_str(name);
        Self(key)
    }

    pub(crate) fn of(object: &Object) -> Self {
        let group = object.api_version.rsplit_once('/').map_or("", |(group, _)| group);
        Self::encode(group, &object.kind, object.namespace(), object.name())
    }

    /// Whether `r` names this key (any version of its kind), without building a key of it.
    pub(crate) fn matches(&self, r: &ObjectRef) -> bool {
        let mut parts = self.0.splitn(4, '\0');
        let (Some(group), Some(kind), Some(namespace), Some(name)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return false;
        };
        let same_namespace = match r.namespace.as_deref() {
            None => namespace.is_empty(),
            Some(ns) => namespace.strip_prefix('\u{1}') == Some(ns),
        };
        group == r.type_ref.group() && kind == r.type_ref.kind && same_namespace && name == r.name
    }

    pub(crate) fn from_ref(r: &ObjectRef) -> Self {
        Self::encode(r.type_ref.group(), &r.type_ref.kind, r.namespace.as_deref(), &r.name)
    }
}

/// The desired children of one parent, grouped into ordered rollout groups.
/// See the [module docs](self).
#[derive(Clone, Debug)]
pub struct DesiredSet {
    parent: ObjectRef,
    owner_ref: OwnerReference,
    ownership: Ownership,
    groups: Vec<Group>,
    children: BTreeMap<ChildKey, Child>,
}

impl DesiredSet {
    /// An empty set for `parent`, which must have a name and a uid (read it from the server).
    ///
    /// # Errors
    /// [`BuildError::ParentWithoutName`], [`BuildError::ParentWithoutUid`], or
    /// [`BuildError::InvalidLabelValue`] when the parent's name or the manager name cannot be a
    /// label value (longer than 63 characters, for instance).
    pub fn new(parent: &Object, ownership: &Ownership) -> Result<Self, BuildError> {
        if parent.name().is_empty() {
            return Err(BuildError::ParentWithoutName {
                kind: parent.type_ref(),
            });
        }
        let Some(owner_ref) = parent.controller_owner_ref() else {
            return Err(BuildError::ParentWithoutUid {
                parent: parent.object_ref(),
            });
        };
        check_label_value(MANAGED_BY_LABEL, ownership.manager())?;
        check_label_value(INSTANCE_LABEL, parent.name())?;
        Ok(Self {
            parent: parent.object_ref(),
            owner_ref,
            ownership: ownership.clone(),
            groups: Vec::new(),
            children: BTreeMap::new(),
        })
    }

    /// Declares a group (see [`GroupSpec`]). Ordered groups roll out in the order they are
    /// declared. Declaring the same group again with the same settings does nothing.
    ///
    /// # Errors
    /// [`BuildError::InvalidLabelValue`] if the component label cannot be a label value;
    /// [`BuildError::GroupRedeclared`] if the group exists with other settings.
    pub fn declare(&mut self, spec: GroupSpec) -> Result<(), BuildError> {
        let group = spec.group;
        if let Some(existing) = self.groups.iter().find(|g| g.name == group.name) {
            if *existing == group {
                return Ok(());
            }
            return Err(BuildError::GroupRedeclared { group: group.name });
        }
        if let Some(component) = &group.component {
            check_label_value(COMPONENT_LABEL, component)?;
        }
        self.groups.push(group);
        Ok(())
    }

    /// Adds a child to `group`: a typed object (any k8s-openapi type, a
    /// `#[derive(CustomResource)]` type) or a dynamic [`Object`]. A group not declared with
    /// [`DesiredSet::declare`] is an independent group without a component label. Returns the
    /// finished child's reference.
    ///
    /// # Errors
    /// Any [`BuildError`] about the child: undeclared kind, missing/invalid name, namespace
    /// problems, contradicting ownership labels, duplicates; [`BuildError::Model`] if a typed
    /// child does not serialize.
    pub fn add(&mut self, group: &str, child: impl IntoObject) -> Result<ObjectRef, BuildError> {
        let mut child = child.into_object()?;
        let type_ref = child.type_ref();
        let Some(owned) = self.ownership.owned_kind(&type_ref) else {
            return Err(BuildError::UndeclaredKind { kind: type_ref });
        };
        let scope = owned.scope;
        if child.name().is_empty() {
            return Err(BuildError::MissingName {
                kind: type_ref,
                group: group.to_owned(),
            });
        }
        check_name(&type_ref, child.name())?;
        child.metadata.namespace = self.child_namespace(&child, scope)?;
        if self.group_rank(group).is_none() {
            self.declare(GroupSpec::independent(group))?;
        }
        let component = self
            .groups
            .iter()
            .find(|g| g.name == group)
            .and_then(|g| g.component.clone());

        strip_server_fields(&mut child);
        fold_secret_string_data(&mut child)?;
        self.set_labels(&mut child, component.as_deref())?;
        let mut refs: Vec<OwnerReference> = child
            .metadata
            .owner_references
            .take()
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.controller != Some(true) && r.uid != self.owner_ref.uid)
            .collect();
        refs.push(self.owner_ref.clone());
        child.metadata.owner_references = Some(refs);

        let mut annotations = child.metadata.annotations.take().unwrap_or_default();
        annotations.remove(HASH_ANNOTATION);
        child.metadata.annotations = Some(annotations);
        let hash = hash::desired_hash(&child)?;
        if let Some(a) = child.metadata.annotations.as_mut() {
            a.insert(HASH_ANNOTATION.to_owned(), hash);
        }

        let object_ref = child.object_ref();
        match self.children.entry(ChildKey::of(&child)) {
            Entry::Occupied(_) => Err(BuildError::DuplicateChild { key: object_ref }),
            Entry::Vacant(slot) => {
                slot.insert(Child {
                    group: group.to_owned(),
                    object: Arc::new(child),
                });
                Ok(object_ref)
            }
        }
    }

    fn child_namespace(&self, child: &Object, scope: Scope) -> Result<Option<String>, BuildError> {
        let asked = child.namespace().filter(|ns| !ns.is_empty());
        match (scope, self.parent.namespace.as_deref()) {
            (Scope::Cluster, Some(_)) => Err(BuildError::ClusterScopedChildOfNamespacedParent {
                kind: child.type_ref(),
                name: child.name().to_owned(),
                parent: Box::new(self.parent.clone()),
            }),
            (Scope::Cluster, None) => match asked {
                Some(ns) => Err(BuildError::NamespaceOnClusterScoped {
                    kind: child.type_ref(),
                    name: child.name().to_owned(),
                    namespace: ns.to_owned(),
                }),
                None => Ok(None),
            },
            (Scope::Namespaced, Some(parent_ns)) => match asked {
                Some(ns) if ns != parent_ns => Err(BuildError::ForeignNamespace {
                    child: Box::new(child.object_ref()),
                    namespace: ns.to_owned(),
                    parent_namespace: parent_ns.to_owned(),
                }),
                _ => Ok(Some(parent_ns.to_owned())),
            },
            (Scope::Namespaced, None) => match asked {
                Some(ns) => Ok(Some(ns.to_owned())),
                None => Err(BuildError::MissingNamespace {
                    kind: child.type_ref(),
                    name: child.name().to_owned(),
                }),
            },
        }
    }

    fn set_labels(&self, child: &mut Object, component: Option<&str>) -> Result<(), BuildError> {
        let mut labels = child.metadata.labels.take().unwrap_or_default();
        for (key, expected) in [
            (MANAGED_BY_LABEL, self.ownership.manager()),
            (INSTANCE_LABEL, self.parent.name.as_str()),
        ] {
            match labels.get(key) {
                Some(found) if found != expected => {
                    return Err(BuildError::ReservedLabel {
                        child: Box::new(child.object_ref()),
                        key: key.to_owned(),
                        expected: expected.to_owned(),
                        found: found.clone(),
                    });
                }
                _ => {
                    labels.insert(key.to_owned(), expected.to_owned());
                }
            }
        }
        match (labels.get(COMPONENT_LABEL), component) {
            (Some(own), _) => check_label_value(COMPONENT_LABEL, own)?,
            (None, Some(component)) => {
                labels.insert(COMPONENT_LABEL.to_owned(), component.to_owned());
            }
            (None, None) => {}
        }
        child.metadata.labels = Some(labels);
        Ok(())
    }

    /// The parent's reference.
    pub fn parent(&self) -> &ObjectRef {
        &self.parent
    }

    /// The parent's uid (every child's controller ownerReference points to it).
    pub fn parent_uid(&self) -> &str {
        &self.owner_ref.uid
    }

    /// The controller ownerReference every child carries.
    pub fn owner_reference(&self) -> &OwnerReference {
        &self.owner_ref
    }

    /// The operator-wide ownership settings.
    pub fn ownership(&self) -> &Ownership {
        &self.ownership
    }

    /// Label selector for listing this parent's children (see [`Ownership::selector`]).
    pub fn selector(&self) -> String {
        self.ownership.selector(&self.parent.name)
    }

    /// The groups in declaration order (the rollout order of the ordered ones).
    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    /// Position of `group` in declaration order.
    pub fn group_rank(&self, group: &str) -> Option<usize> {
        self.groups.iter().position(|g| g.name == group)
    }

    /// Every child, sorted by API group, kind, namespace and name.
    pub fn children(&self) -> impl Iterator<Item = &Child> {
        self.children.values()
    }

    /// The children of one rollout group.
    pub fn children_of<'a>(&'a self, group: &'a str) -> impl Iterator<Item = &'a Child> + 'a {
        self.children.values().filter(move |c| c.group == group)
    }

    /// The finished child with this reference (any version of its kind), if present.
    pub fn get(&self, key: &ObjectRef) -> Option<&Arc<Object>> {
        self.child(key).map(|c| &c.object)
    }

    /// The child entry (group and object) with this reference, if present.
    pub fn child(&self, key: &ObjectRef) -> Option<&Child> {
        self.children.get(&ChildKey::from_ref(key))
    }

    /// Number of children.
    pub fn len(&self) -> usize {
        self.children.len()
    }

    /// True when the set has no children.
    pub fn is_empty(&self) -> bool {
        self.children.is_empty()
    }
}

/// Removes what the server sets and what is never intent, so a child built from a copy of a
/// live object does not carry a stale resourceVersion or status into the plan.
fn strip_server_fields(child: &mut Object) {
    let m = &mut child.metadata;
    m.uid = None;
    m.resource_version = None;
    m.generation = None;
    m.creation_timestamp = None;
    m.deletion_timestamp = None;
    m.deletion_grace_period_seconds = None;
    m.managed_fields = None;
    m.self_link = None;
    m.generate_name = None;
    child.body.remove("status");
}

/// The API server folds a Secret's write-only `stringData` into base64 `data` and never
/// returns `stringData`; doing the same here keeps the desired object comparable with the live
/// one (otherwise a Secret built with `stringData` would look drifted forever).
fn fold_secret_string_data(child: &mut Object) -> Result<(), BuildError> {
    if child.kind != "Secret" || !child.type_ref().group().is_empty() {
        return Ok(());
    }
    let Some(serde_json::Value::Object(strings)) = child.body.remove("stringData") else {
        return Ok(());
    };
    let data = child
        .body
        .entry("data")
        .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
    if !data.is_object() {
        *data = serde_json::Value::Object(serde_json::Map::new());
    }
    if let serde_json::Value::Object(data) = data {
        for (key, value) in strings {
            let bytes = match value {
                serde_json::Value::String(text) => text.into_bytes(),
                other => other.to_string().into_bytes(),
            };
            // k8s-openapi's ByteString serializes as standard base64, exactly like `data`.
            data.insert(key, serde_json::to_value(k8s_openapi::ByteString(bytes))?);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
