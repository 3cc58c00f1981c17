//! What an operator author implements: the typed [`Operator`] (a Rust parent type, typed
//! children) and the JSON-level [`DynamicOperator`] it is adapted to. Both run on the same
//! driver: every [`Operator`] is a [`DynamicOperator`] through a blanket implementation.

use std::sync::Arc;

use async_trait::async_trait;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::context::{Children, Context};
use super::error::OperatorError;
use super::policy::ErrorPolicy;
use crate::builder::{DesiredSet, Ownership, Scope};
use crate::error::StoreError;
use crate::model::{Object, TypeRef};

/// A parent type: a Rust type that knows its kind (any `#[derive(CustomResource)]` type, any
/// k8s-openapi type) and converts to and from JSON.
pub trait Parent:
    kube_core::Resource<DynamicType = (), Scope: 'static> + Serialize + DeserializeOwned + Send + Sync + 'static
{
}

impl<K> Parent for K where
    K: kube_core::Resource<DynamicType = (), Scope: 'static> + Serialize + DeserializeOwned + Send + Sync + 'static
{
}

/// Extra status fields an operator adds next to the runtime's (`conditions`,
/// `observedGeneration`, `groups`), filled in [`Operator::status`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StatusFields(Map<String, Value>);

impl StatusFields {
    /// No extra fields.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets one field.
    ///
    /// # Errors
    /// [`OperatorError::Model`] if the value does not serialize.
    pub fn set(&mut self, field: &str, value: impl Serialize) -> Result<(), OperatorError> {
        let value = serde_json::to_value(value).map_err(crate::model::ModelError::from)?;
        self.0.insert(field.to_owned(), value);
        Ok(())
    }

    /// Sets every field of a typed struct (a struct serializing to a JSON object; `None`
    /// fields skipped by serde stay unset).
    ///
    /// # Errors
    /// [`OperatorError::Model`] if it does not serialize into a JSON object.
    pub fn merge(&mut self, typed: &impl Serialize) -> Result<(), OperatorError> {
        match serde_json::to_value(typed).map_err(crate::model::ModelError::from)? {
            Value::Object(map) => {
                self.0.extend(map);
                Ok(())
            }
            Value::Null => Ok(()),
            other => Err(OperatorError::InvalidStatus(format!(
                "status fields must serialize to a JSON object, got {other}"
            ))),
        }
    }

    /// The fields as a JSON map.
    pub fn into_map(self) -> Map<String, Value> {
        self.0
    }
}

/// A typed operator: "parent -> desired children", optionally "children -> status" and
/// cleanup. See the [module docs](super) for the flow the driver runs around it.
///
/// ```
/// use k8s_openapi::api::core::v1::ConfigMap;
/// use kube::CustomResource;
/// use operator_runtime_core::builder::{DesiredSet, Ownership};
/// use operator_runtime_core::reconcile::{Context, Operator, OperatorError};
/// use schemars::JsonSchema;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(CustomResource, Clone, Debug, Deserialize, Serialize, JsonSchema)]
/// #[kube(group = "example.com", version = "v1", kind = "Greeter", namespaced)]
/// pub struct GreeterSpec { greeting: String }
///
/// struct GreeterOperator { ownership: Ownership }
///
/// impl Operator for GreeterOperator {
///     type Parent = Greeter;
///     fn ownership(&self) -> &Ownership { &self.ownership }
///     fn desired(&self, g: &Greeter, _: &Context<'_>, set: &mut DesiredSet) -> Result<(), OperatorError> {
///         let mut cm = ConfigMap::default();
///         cm.metadata.name = g.metadata.name.clone();
///         cm.data = Some([("greeting".to_owned(), g.spec.greeting.clone())].into());
///         set.add("config", cm)?;
///         Ok(())
///     }
/// }
/// let op = GreeterOperator { ownership: Ownership::new("greeter").owns::<ConfigMap>() };
/// # let _ = op;
/// ```
#[async_trait]
pub trait Operator: Send + Sync + 'static {
    /// The parent kind, a Rust type.
    type Parent: Parent;

    /// The manager name, the owned kinds (watched, scanned for orphans) and the kinds read
    /// through the context.
    fn ownership(&self) -> &Ownership;

    /// Parent -> desired children; `ctx` looks up other objects in the cache. An error marks
    /// the spec invalid (a Warning event and a Degraded condition, no retry until a change).
    ///
    /// # Errors
    /// Any [`OperatorError`]; `?` converts builder, context, model and spec errors.
    fn desired(&self, parent: &Self::Parent, ctx: &Context<'_>, set: &mut DesiredSet) -> Result<(), OperatorError>;

    /// Children -> extra status fields, merged next to the runtime's. The default adds none.
    ///
    /// # Errors
    /// An error is reported as a Warning event; the runtime's own status fields are still
    /// written.
    fn status(
        &self,
        _parent: &Self::Parent,
        _children: &Children<'_>,
        _status: &mut StatusFields,
    ) -> Result<(), OperatorError> {
        Ok(())
    }

    /// The `openAPIV3Schema` of the parent's CRD version (see
    /// [`crate::schema::crd_schema_of`]): the status is compared as the server stores it.
    fn parent_schema(&self) -> Option<&Value> {
        None
    }

    /// True when the parent's own spec asks for a pause.
    fn is_paused(&self, _parent: &Self::Parent) -> bool {
        false
    }

    /// What to do after a write for `parent` failed; the default is
    /// [`ErrorPolicy::default_for`].
    fn error_policy(&self, _parent: &Self::Parent, error: &StoreError) -> ErrorPolicy {
        ErrorPolicy::default_for(error)
    }

    /// Declares that [`Operator::desired`] and [`Operator::status`] are pure: their result
    /// depends only on the parent's spec and metadata (not its status, resourceVersion or
    /// managedFields), the observed children and the objects `desired` looks up through the
    /// [`Context`]; not on the clock, nor on anything outside the cluster.
    ///
    /// The driver then reuses what did not change since the parent's last reconcile (the
    /// runtime's own writes of the parent do not count as changes): while the parent and the
    /// looked-up objects are unchanged, `desired` is not called again when every child is
    /// verified unchanged (a child's status update, say), and a reconcile whose children are
    /// unchanged too after a converged one is skipped, so the reconcile that the runtime's own
    /// status write triggers, and every resync of a converged parent, cost a few cache
    /// lookups. See [`super::Reconciler::reconcile`] for what counts as an input, and
    /// [`super::ReconcileReport::reused`]. The default, false, runs every reconcile in full.
    fn is_pure(&self) -> bool {
        false
    }

    /// Cleanup before the finalizer is removed; children are deleted by the driver afterwards.
    ///
    /// # Errors
    /// An error is retried with backoff.
    async fn cleanup(&self, _parent: &Self::Parent) -> Result<(), OperatorError> {
        Ok(())
    }
}

/// The JSON-level operator the driver runs: parent and children as [`Object`]s, the parent
/// kind as a [`TypeRef`]. Implement it only when the parent kind is known at run time; every
/// [`Operator`] implements it.
#[async_trait]
pub trait DynamicOperator: Send + Sync + 'static {
    /// The parent kind.
    fn parent_type(&self) -> TypeRef;

    /// Whether parents live in namespaces (the default) or are cluster-scoped.
    fn parent_scope(&self) -> Scope {
        Scope::Namespaced
    }

    /// See [`Operator::ownership`].
    fn ownership(&self) -> &Ownership;

    /// See [`Operator::desired`].
    ///
    /// # Errors
    /// See [`Operator::desired`].
    fn desired(&self, parent: &Object, ctx: &Context<'_>, desired: &mut DesiredSet) -> Result<(), OperatorError>;

    /// See [`Operator::status`].
    ///
    /// # Errors
    /// See [`Operator::status`].
    fn status(&self, _parent: &Object, _children: &[Arc<Object>]) -> Result<Map<String, Value>, OperatorError> {
        Ok(Map::new())
    }

    /// See [`Operator::parent_schema`].
    fn parent_schema(&self) -> Option<&Value> {
        None
    }

    /// See [`Operator::is_paused`].
    fn is_paused(&self, _parent: &Object) -> bool {
        false
    }

    /// See [`Operator::error_policy`].
    fn error_policy(&self, _parent: &Object, error: &StoreError) -> ErrorPolicy {
        ErrorPolicy::default_for(error)
    }

    /// See [`Operator::is_pure`].
    fn is_pure(&self) -> bool {
        false
    }

    /// See [`Operator::cleanup`].
    ///
    /// # Errors
    /// See [`Operator::cleanup`].
    async fn cleanup(&self, _parent: &Object) -> Result<(), OperatorError> {
        Ok(())
    }
}

/// The parent converted to its Rust type; a parent that does not fit the type (a spec the
/// CRD's schema let through but the Rust type refuses) is an invalid spec.
///
/// One reconcile asks for the typed parent several times (pause, desired, status), and
/// converting means serializing the whole object and deserializing it again; the last few
/// conversions are kept per thread ([`recent`]) and reused for an equal parent.
fn typed<O: Operator>(parent: &Object) -> Result<Arc<O::Parent>, OperatorError> {
    if let Some(typed) = recent::get::<O::Parent>(parent) {
        return Ok(typed);
    }
    let typed: Arc<O::Parent> = Arc::new(
        parent
            .to_resource()
            .map_err(|e| OperatorError::spec("spec", format!("does not match the parent type: {e}")))?,
    );
    recent::put(parent, Arc::clone(&typed));
    Ok(typed)
}

/// The parents converted last on this thread, with their typed form. A hit needs an equal
/// object (not only the same resourceVersion: a parent built in a test may carry none), so
/// the reuse is invisible; comparing is far cheaper than a conversion.
mod recent {
    use std::any::{Any, TypeId};
    use std::cell::RefCell;
    use std::collections::VecDeque;
    use std::sync::Arc;

    use crate::model::Object;

    /// How many conversions a thread keeps (a few parents reconciled in turn).
    const KEPT: usize = 8;

    type Entry = (TypeId, Object, Arc<dyn Any + Send + Sync>);

    thread_local! {
        static RECENT: RefCell<VecDeque<Entry>> = const { RefCell::new(VecDeque::new()) };
    }

    fn same(a: &Object, b: &Object) -> bool {
        // The fields that usually differ first, then the whole object.
        a.metadata.resource_version == b.metadata.resource_version
            && a.metadata.uid == b.metadata.uid
            && a.metadata.generation == b.metadata.generation
            && a == b
    }

    pub(super) fn get<T: Any + Send + Sync>(object: &Object) -> Option<Arc<T>> {
        RECENT
            .try_with(|recent| {
                let recent = recent.try_borrow().ok()?;
                let (_, _, typed) = recent
                    .iter()
                    .find(|(ty, kept, _)| *ty == TypeId::of::<T>() && same(kept, object))?;
                Arc::clone(typed).downcast::<T>().ok()
            })
            .ok()
            .flatten()
    }

    pub(super) fn put<T: Any + Send + Sync>(object: &Object, typed: Arc<T>) {
        let _ = RECENT.try_with(|recent| {
            if let Ok(mut recent) = recent.try_borrow_mut() {
                if recent.len() >= KEPT {
                    recent.pop_back();
                }
                recent.push_front((TypeId::of::<T>(), object.clone(), typed));
            }
        });
    }
}

#[async_trait]
impl<O: Operator> DynamicOperator for O {
    fn parent_type(&self) -> TypeRef {
        TypeRef::of::<O::Parent>()
    }

    fn parent_scope(&self) -> Scope {
        Scope::of::<O::Parent>()
    }

    fn ownership(&self) -> &Ownership {
        Operator::ownership(self)
    }

    fn desired(&self, parent: &Object, ctx: &Context<'_>, desired: &mut DesiredSet) -> Result<(), OperatorError> {
        Operator::desired(self, &*typed::<O>(parent)?, ctx, desired)
    }

    fn status(&self, parent: &Object, children: &[Arc<Object>]) -> Result<Map<String, Value>, OperatorError> {
        let mut fields = StatusFields::new();
        Operator::status(self, &*typed::<O>(parent)?, &Children::new(children), &mut fields)?;
        Ok(fields.into_map())
    }

    fn parent_schema(&self) -> Option<&Value> {
        Operator::parent_schema(self)
    }

    fn is_paused(&self, parent: &Object) -> bool {
        typed::<O>(parent).is_ok_and(|p| Operator::is_paused(self, &*p))
    }

    fn error_policy(&self, parent: &Object, error: &StoreError) -> ErrorPolicy {
        match typed::<O>(parent) {
            Ok(p) => Operator::error_policy(self, &*p, error),
            Err(_) => ErrorPolicy::default_for(error),
        }
    }

    fn is_pure(&self) -> bool {
        Operator::is_pure(self)
    }

    async fn cleanup(&self, parent: &Object) -> Result<(), OperatorError> {
        Operator::cleanup(self, &*typed::<O>(parent)?).await
    }
}
