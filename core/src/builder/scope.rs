//! Which kinds an operator owns, and whether they live in namespaces.

use std::any::TypeId;

use crate::model::TypeRef;

/// Where objects of a kind live.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// In a namespace (ConfigMap, StatefulSet, most custom resources).
    Namespaced,
    /// Cluster-wide (Namespace, ClusterRole, PersistentVolume...).
    Cluster,
}

impl Scope {
    /// The scope of a typed resource (k8s-openapi or `#[derive(CustomResource)]`), read from
    /// its `Scope` type.
    pub fn of<K>() -> Self
    where
        K: kube_core::Resource<DynamicType = ()>,
        K::Scope: 'static,
    {
        if TypeId::of::<K::Scope>() == TypeId::of::<k8s_openapi::ClusterResourceScope>() {
            Scope::Cluster
        } else {
            Scope::Namespaced
        }
    }

    /// The scope of a built-in kind from a small known list of cluster-scoped kinds
    /// (everything else, custom resources included, is assumed namespaced; declare a
    /// cluster-scoped custom resource with [`OwnedKind::cluster`]).
    pub fn guess(type_ref: &TypeRef) -> Self {
        let known = CLUSTER_SCOPED
            .iter()
            .any(|(group, kind)| *group == type_ref.group() && *kind == type_ref.kind);
        if known { Scope::Cluster } else { Scope::Namespaced }
    }
}

/// Built-in cluster-scoped kinds, as (API group, kind).
const CLUSTER_SCOPED: &[(&str, &str)] = &[
    ("", "Namespace"),
    ("", "Node"),
    ("", "PersistentVolume"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("storage.k8s.io", "StorageClass"),
    ("storage.k8s.io", "CSIDriver"),
    ("storage.k8s.io", "CSINode"),
    ("storage.k8s.io", "VolumeAttachment"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("apiregistration.k8s.io", "APIService"),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("networking.k8s.io", "IngressClass"),
    ("node.k8s.io", "RuntimeClass"),
    ("certificates.k8s.io", "CertificateSigningRequest"),
];

/// A kind the operator creates children of, with its scope.
///
/// The list of owned kinds is what the planner scans for orphans, and what the controller
/// watches; it is declared once per operator, never derived from one parent's desired set (a
/// kind that disappears from the desired set must still be scanned so its leftovers are
/// deleted).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OwnedKind {
    /// The kind.
    pub type_ref: TypeRef,
    /// Whether its objects live in namespaces.
    pub scope: Scope,
}

impl OwnedKind {
    /// A kind whose scope comes from the known list ([`Scope::guess`]).
    pub fn new(type_ref: TypeRef) -> Self {
        let scope = Scope::guess(&type_ref);
        Self { type_ref, scope }
    }

    /// A typed kind (k8s-openapi or `#[derive(CustomResource)]`), scope read from the type.
    pub fn of<K>() -> Self
    where
        K: kube_core::Resource<DynamicType = ()>,
        K::Scope: 'static,
    {
        Self {
            type_ref: TypeRef::of::<K>(),
            scope: Scope::of::<K>(),
        }
    }

    /// A namespaced kind (custom resources, usually).
    pub fn namespaced(type_ref: TypeRef) -> Self {
        Self {
            type_ref,
            scope: Scope::Namespaced,
        }
    }

    /// A cluster-scoped kind.
    pub fn cluster(type_ref: TypeRef) -> Self {
        Self {
            type_ref,
            scope: Scope::Cluster,
        }
    }

    /// True if `type_ref` is this kind (same API group and kind; the version may differ).
    pub fn matches(&self, type_ref: &TypeRef) -> bool {
        same_kind(&self.type_ref, type_ref)
    }
}

/// True if two type references name the same kind, whatever their version.
pub(crate) fn same_kind(a: &TypeRef, b: &TypeRef) -> bool {
    a.kind == b.kind && a.group() == b.group()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
    use k8s_openapi::api::rbac::v1::ClusterRole;

    #[test]
    fn typed_scope_comes_from_the_type() {
        assert_eq!(Scope::of::<ConfigMap>(), Scope::Namespaced);
        assert_eq!(Scope::of::<Namespace>(), Scope::Cluster);
        assert_eq!(Scope::of::<ClusterRole>(), Scope::Cluster);
    }

    #[test]
    fn known_list_and_default() {
        assert_eq!(Scope::guess(&TypeRef::new("v1", "Namespace")), Scope::Cluster);
        assert_eq!(
            Scope::guess(&TypeRef::new("example.com/v1", "Namespace")),
            Scope::Namespaced
        );
        assert_eq!(Scope::guess(&TypeRef::new("apps/v1", "StatefulSet")), Scope::Namespaced);
    }

    #[test]
    fn kinds_match_across_versions() {
        let k = OwnedKind::new(TypeRef::new("batch/v1", "CronJob"));
        assert!(k.matches(&TypeRef::new("batch/v1beta1", "CronJob")));
        assert!(!k.matches(&TypeRef::new("v1", "CronJob")));
    }
}
