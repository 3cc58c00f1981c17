//! The kind registry: which kinds the server serves and how each one behaves.
//!
//! Per kind it records scope, the table slot and the kind's [`Strategy`] (the in-memory
//! equivalent of the API server's REST storage strategy, see [`crate::strategy`]).
//! Objects of a kind live in one table however many versions the kind is served at, like a CRD
//! with several served versions sharing one etcd key space.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use operator_runtime_core::TypeRef;
use operator_runtime_core::store::KindInfo;
use serde_json::Value;

use crate::strategy::{self, Strategy};

/// Everything the server knows about one served kind.
#[derive(Clone, Debug)]
pub(crate) struct KindSpec {
    /// Discovery information (the type as first registered).
    pub info: KindInfo,
    /// Index of the table holding this kind's objects.
    pub slot: usize,
    /// How writes of this kind behave.
    pub strategy: Strategy,
    /// Registered from a CustomResourceDefinition object (removed when the CRD goes).
    pub from_crd: Option<String>,
    /// The revision at which the kind started being served: like the API server's watch
    /// cache, which starts at its initial list, a watch from an older revision gets 410.
    pub served_since: u64,
}

/// Well-known type references.
pub(crate) fn namespace_type() -> TypeRef {
    TypeRef::new("v1", "Namespace")
}

/// The CustomResourceDefinition type.
#[cfg(any(test, feature = "http"))]
pub(crate) fn crd_type() -> TypeRef {
    TypeRef::new("apiextensions.k8s.io/v1", "CustomResourceDefinition")
}

/// The table slot of namespaces (registered first).
pub(crate) const NAMESPACE_SLOT: usize = 0;
/// The table slot of CustomResourceDefinitions (registered second).
pub(crate) const CRD_SLOT: usize = 1;

/// FNV-1a: kind lookups hash two short strings on every request, where SipHash's DoS
/// resistance buys nothing (the keys are the server's own kinds).
#[derive(Default)]
pub(crate) struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

type FnvMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;

/// Maps served `apiVersion`/`kind` pairs to their [`KindSpec`].
#[derive(Debug, Default)]
pub(crate) struct KindRegistry {
    /// apiVersion -> kind -> spec (nested so that lookups borrow instead of allocating).
    by_type: FnvMap<String, FnvMap<String, Arc<KindSpec>>>,
    /// (group, kind) -> slot, so every served version of a kind shares one table.
    slots: HashMap<(String, String), usize>,
    next_slot: usize,
}

impl KindRegistry {
    /// A registry holding the built-in kinds an operator typically uses.
    pub fn with_builtins() -> Self {
        let mut reg = Self::default();
        for b in strategy::builtins() {
            reg.insert(
                KindInfo {
                    type_ref: TypeRef::new(b.api_version, b.kind),
                    plural: b.plural.to_owned(),
                    namespaced: b.namespaced,
                    status_subresource: b.strategy.status_subresource,
                },
                b.strategy,
                None,
            );
        }
        reg
    }

    /// Registers (or re-registers) a kind; returns its spec.
    pub fn insert(&mut self, info: KindInfo, strategy: Strategy, from_crd: Option<String>) -> Arc<KindSpec> {
        // Both Event APIs are one storage (see `strategy::events`).
        let group = match (info.type_ref.group(), info.type_ref.kind.as_str()) {
            (strategy::EVENTS_GROUP, "Event") => "",
            (group, _) => group,
        };
        let group_kind = (group.to_owned(), info.type_ref.kind.clone());
        let slot = match self.slots.get(&group_kind) {
            Some(slot) => *slot,
            None => {
                let slot = self.next_slot;
                self.next_slot += 1;
                self.slots.insert(group_kind, slot);
                slot
            }
        };
        let spec = Arc::new(KindSpec {
            info,
            slot,
            strategy,
            from_crd,
            served_since: 0,
        });
        self.by_type
            .entry(spec.info.type_ref.api_version.clone())
            .or_default()
            .insert(spec.info.type_ref.kind.clone(), Arc::clone(&spec));
        spec
    }

    /// Registers a kind the way a custom resource is served (generation on, conditional updates).
    /// `revision` is when it starts being served; re-registering a served kind keeps the
    /// original start.
    pub fn insert_custom(
        &mut self,
        info: KindInfo,
        from_crd: Option<String>,
        revision: u64,
        schema: Option<Arc<Value>>,
    ) -> Arc<KindSpec> {
        let served_since = self.get(&info.type_ref).map_or(revision, |k| k.served_since);
        let strategy = strategy::custom_resource(info.status_subresource, schema);
        let spec = self.insert(info, strategy, from_crd);
        let spec = Arc::new(KindSpec {
            served_since,
            ..KindSpec::clone(&spec)
        });
        self.by_type
            .entry(spec.info.type_ref.api_version.clone())
            .or_default()
            .insert(spec.info.type_ref.kind.clone(), Arc::clone(&spec));
        spec
    }

    /// Stops serving the versions of a CRD that are not in `served`.
    pub fn retain_crd_versions(&mut self, crd_name: &str, served: &[TypeRef]) {
        for kinds in self.by_type.values_mut() {
            kinds.retain(|_, spec| spec.from_crd.as_deref() != Some(crd_name) || served.contains(&spec.info.type_ref));
        }
        self.by_type.retain(|_, kinds| !kinds.is_empty());
    }

    /// Removes every kind registered from the named CRD; returns the slots that are no longer served.
    pub fn remove_crd(&mut self, crd_name: &str) -> Vec<usize> {
        let mut slots: Vec<usize> = Vec::new();
        for kinds in self.by_type.values_mut() {
            kinds.retain(|_, spec| {
                if spec.from_crd.as_deref() == Some(crd_name) {
                    slots.push(spec.slot);
                    false
                } else {
                    true
                }
            });
        }
        self.by_type.retain(|_, kinds| !kinds.is_empty());
        slots.sort_unstable();
        slots.dedup();
        slots
    }

    /// Every served kind (discovery), in no particular order.
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub fn all(&self) -> Vec<Arc<KindSpec>> {
        self.by_type
            .values()
            .flat_map(|kinds| kinds.values().cloned())
            .collect()
    }

    /// Looks a served kind up.
    pub fn get(&self, type_ref: &TypeRef) -> Option<&Arc<KindSpec>> {
        self.get_by(&type_ref.api_version, &type_ref.kind)
    }

    /// Looks a served kind up by `apiVersion` and `kind`.
    pub fn get_by(&self, api_version: &str, kind: &str) -> Option<&Arc<KindSpec>> {
        self.by_type.get(api_version)?.get(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_have_fixed_slots_and_strategies() {
        let reg = KindRegistry::with_builtins();
        assert_eq!(reg.get(&namespace_type()).unwrap().slot, NAMESPACE_SLOT);
        assert_eq!(reg.get(&crd_type()).unwrap().slot, CRD_SLOT);
        let cm = reg.get(&TypeRef::new("v1", "ConfigMap")).unwrap();
        assert!(cm.strategy.unconditional_update && !cm.strategy.uses_generation && !cm.info.status_subresource);
        let deploy = reg.get(&TypeRef::new("apps/v1", "Deployment")).unwrap();
        assert!(deploy.strategy.uses_generation && deploy.info.status_subresource);
        assert!(reg.get(&TypeRef::new("apps/v1beta1", "Deployment")).is_none());
    }

    #[test]
    fn versions_of_one_kind_share_a_table_and_crd_removal_unregisters() {
        let mut reg = KindRegistry::with_builtins();
        let info = |v: &str| KindInfo {
            type_ref: TypeRef::new(format!("x.io/{v}"), "Foo"),
            plural: "foos".into(),
            namespaced: true,
            status_subresource: false,
        };
        let a = reg.insert_custom(info("v1"), Some("foos.x.io".into()), 5, None);
        let b = reg.insert_custom(info("v2"), Some("foos.x.io".into()), 6, None);
        assert_eq!(
            reg.insert_custom(info("v1"), Some("foos.x.io".into()), 9, None)
                .served_since,
            5
        );
        assert_eq!(a.slot, b.slot);
        assert!(!a.strategy.unconditional_update);
        assert_eq!(reg.remove_crd("foos.x.io"), vec![a.slot]);
        assert!(reg.get(&TypeRef::new("x.io/v1", "Foo")).is_none());
    }
}
