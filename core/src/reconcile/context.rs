//! What an operator's hooks may read besides the parent: other objects, through the cache
//! (never a request), and the observed children, both typed.

use std::sync::{Arc, Mutex, PoisonError};

use serde::de::DeserializeOwned;

use super::error::OperatorError;
use crate::builder::Scope;
use crate::cache::Cache;
use crate::clock::Timestamp;
use crate::model::{ModelError, Object, ObjectRef, TypeRef};

/// Why a lookup through the [`Context`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ContextError {
    /// The kind is not watched: declare it with `Ownership::reads::<K>()` (or own it).
    #[error("{kind} is not watched: declare it with Ownership::reads (or Ownership::owns)")]
    NotWatched {
        /// The kind looked up.
        kind: TypeRef,
    },
    /// The kind's cache has not synced yet (the runtime waits for it before reconciling, so
    /// this means a kind was added while running).
    #[error("{kind} has not synced yet")]
    NotSynced {
        /// The kind looked up.
        kind: TypeRef,
    },
    /// The cached object does not fit the Rust type.
    #[error("{key} does not convert to the requested type: {source}")]
    Decode {
        /// The object.
        key: Box<ObjectRef>,
        /// Why.
        #[source]
        source: ModelError,
    },
}

/// Read-only access to the cache during [`super::Operator::desired`]: typed lookups of other
/// objects (a Secret the parent names, say). Every lookup is remembered, found or not, so a
/// later change of that object (its creation included) reconciles the parent again.
pub struct Context<'a> {
    cache: &'a Cache,
    parent: &'a Object,
    now: Timestamp,
    reads: Mutex<Reads>,
}

/// What `desired` read through a [`Context`]: each lookup with the resourceVersion it found,
/// and whether it asked for the time. A pure operator's reconcile is skipped only while all of
/// these are unchanged (see [`super::DynamicOperator::is_pure`]).
#[derive(Debug, Default)]
pub(super) struct Reads {
    /// Each lookup and the resourceVersion of the object found (None: absent).
    pub lookups: Vec<(ObjectRef, Option<String>)>,
    /// A lookup of a kind not synced yet (its absence says nothing).
    pub unsynced: bool,
    /// [`Context::now`] was called.
    pub clock: bool,
}

impl<'a> Context<'a> {
    /// A context for `parent`, reading through `cache`, at `now`.
    pub fn new(cache: &'a Cache, parent: &'a Object, now: Timestamp) -> Self {
        Self {
            cache,
            parent,
            now,
            reads: Mutex::default(),
        }
    }

    /// The time of this reconcile (from the runtime's clock). A reconcile whose `desired`
    /// asked for it is never skipped as unchanged (see [`super::DynamicOperator::is_pure`]).
    pub fn now(&self) -> Timestamp {
        self.lock().clock = true;
        self.now
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Reads> {
        self.reads.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The parent as stored.
    pub fn parent(&self) -> &Object {
        self.parent
    }

    /// The object of kind `K` called `name` in the parent's namespace (or cluster-scoped).
    ///
    /// # Errors
    /// [`ContextError`] (as an [`OperatorError`]): the kind is not watched or not synced, or
    /// the object does not fit `K`.
    pub fn get<K>(&self, name: &str) -> Result<Option<K>, OperatorError>
    where
        K: kube_core::Resource<DynamicType = ()> + DeserializeOwned,
        K::Scope: 'static,
    {
        let namespace = match Scope::of::<K>() {
            Scope::Namespaced => self.parent.namespace(),
            Scope::Cluster => None,
        };
        self.get_in(namespace, name)
    }

    /// The object of kind `K` called `name` in `namespace` (None for cluster-scoped kinds).
    ///
    /// # Errors
    /// As [`Context::get`].
    pub fn get_in<K>(&self, namespace: Option<&str>, name: &str) -> Result<Option<K>, OperatorError>
    where
        K: kube_core::Resource<DynamicType = ()> + DeserializeOwned,
    {
        let type_ref = TypeRef::of::<K>();
        let key = match namespace {
            Some(ns) => ObjectRef::namespaced(type_ref, ns, name),
            None => ObjectRef::cluster(type_ref, name),
        };
        let Some(object) = self.get_object(&key)? else {
            return Ok(None);
        };
        object.to_resource().map(Some).map_err(|source| {
            ContextError::Decode {
                key: Box::new(key),
                source,
            }
            .into()
        })
    }

    /// The cached object `key`, for dynamic operators.
    ///
    /// # Errors
    /// [`ContextError::NotWatched`], [`ContextError::NotSynced`].
    pub fn get_object(&self, key: &ObjectRef) -> Result<Option<Arc<Object>>, ContextError> {
        if !self.cache.is_tracked(&key.type_ref) {
            return Err(ContextError::NotWatched {
                kind: key.type_ref.clone(),
            });
        }
        if !self.cache.has_synced(&key.type_ref) {
            let mut reads = self.lock();
            reads.lookups.push((key.clone(), None));
            reads.unsynced = true;
            return Err(ContextError::NotSynced {
                kind: key.type_ref.clone(),
            });
        }
        let found = self.cache.get(key);
        let version = found
            .as_ref()
            .map(|o| o.resource_version().unwrap_or_default().to_owned());
        self.lock().lookups.push((key.clone(), version));
        Ok(found)
    }

    /// Every object looked up so far.
    pub fn into_lookups(self) -> Vec<ObjectRef> {
        self.into_reads().lookups.into_iter().map(|(key, _)| key).collect()
    }

    /// Everything read so far.
    pub(super) fn into_reads(self) -> Reads {
        self.reads.into_inner().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The observed children of a parent, during [`super::Operator::status`]: typed lookups by
/// kind and name.
pub struct Children<'a> {
    children: &'a [Arc<Object>],
}

impl<'a> Children<'a> {
    /// A view of `children`.
    pub fn new(children: &'a [Arc<Object>]) -> Self {
        Self { children }
    }

    /// The child of kind `K` called `name`, converted (None when absent or not convertible).
    pub fn get<K>(&self, name: &str) -> Option<K>
    where
        K: kube_core::Resource<DynamicType = ()> + DeserializeOwned,
    {
        let type_ref = TypeRef::of::<K>();
        self.children
            .iter()
            .find(|c| c.kind == type_ref.kind && c.type_ref().group() == type_ref.group() && c.name() == name)
            .and_then(|c| c.to_resource().ok())
    }

    /// Every child of kind `K` that converts.
    pub fn of_kind<K>(&self) -> Vec<K>
    where
        K: kube_core::Resource<DynamicType = ()> + DeserializeOwned,
    {
        let type_ref = TypeRef::of::<K>();
        self.children
            .iter()
            .filter(|c| c.kind == type_ref.kind && c.type_ref().group() == type_ref.group())
            .filter_map(|c| c.to_resource().ok())
            .collect()
    }

    /// Every child as stored.
    pub fn objects(&self) -> &'a [Arc<Object>] {
        self.children
    }
}
