//! The object model: type and object references, and a dynamic [`Object`] that converts
//! losslessly to and from typed k8s-openapi objects and `#[derive(CustomResource)]` types.
//!
//! Core never depends on a client library: an object is `apiVersion` + `kind` + a k8s-openapi
//! [`ObjectMeta`] + the rest of the body as a JSON map.

use std::fmt;
use std::sync::Arc;

pub use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use serde::de::DeserializeOwned;
use serde::de::value::{MapAccessDeserializer, MapDeserializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A kind: `apiVersion` (`v1`, `apps/v1`, `example.com/v1alpha1`) and `kind`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TypeRef {
    /// `group/version`, or just `version` for the core group.
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    /// CamelCase kind name.
    pub kind: String,
}

impl TypeRef {
    /// A type reference from an `apiVersion` and a `kind`.
    pub fn new(api_version: impl Into<String>, kind: impl Into<String>) -> Self {
        Self {
            api_version: api_version.into(),
            kind: kind.into(),
        }
    }

    /// The type reference of a Rust type that knows its kind: any k8s-openapi type and any
    /// `#[derive(CustomResource)]` type (both implement kube-core's client-free `Resource`).
    pub fn of<K: kube_core::Resource<DynamicType = ()>>() -> Self {
        Self::new(K::api_version(&()), K::kind(&()))
    }

    /// The API group (empty for the core group).
    pub fn group(&self) -> &str {
        self.api_version.rsplit_once('/').map_or("", |(group, _)| group)
    }

    /// The API version without its group.
    pub fn version(&self) -> &str {
        self.api_version
            .rsplit_once('/')
            .map_or(self.api_version.as_str(), |(_, v)| v)
    }
}

impl fmt::Display for TypeRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.api_version, self.kind)
    }
}

/// Something that becomes an [`Object`]: a dynamic object as is, or a typed one (any
/// k8s-openapi type, any `#[derive(CustomResource)]` type) by serialization.
pub trait IntoObject {
    /// The object.
    ///
    /// # Errors
    /// [`ModelError`] when a typed value does not serialize into an object with apiVersion
    /// and kind.
    fn into_object(self) -> Result<Object, ModelError>;
}

impl IntoObject for Object {
    fn into_object(self) -> Result<Object, ModelError> {
        Ok(self)
    }
}

impl<K: kube_core::Resource<DynamicType = ()> + Serialize> IntoObject for K {
    fn into_object(mut self) -> Result<Object, ModelError> {
        // The metadata is moved over rather than serialized and parsed again.
        let metadata = std::mem::take(self.meta_mut());
        let mut object = Object::from_typed(&self)?;
        object.metadata = metadata;
        Ok(object)
    }
}

/// One object's identity: its type, namespace (None for cluster-scoped kinds) and name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectRef {
    /// The object's kind.
    pub type_ref: TypeRef,
    /// The namespace, None for cluster-scoped objects.
    pub namespace: Option<String>,
    /// The object's name.
    pub name: String,
}

impl ObjectRef {
    /// A reference to a namespaced object.
    pub fn namespaced(type_ref: TypeRef, namespace: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            type_ref,
            namespace: Some(namespace.into()),
            name: name.into(),
        }
    }

    /// A reference to a cluster-scoped object.
    pub fn cluster(type_ref: TypeRef, name: impl Into<String>) -> Self {
        Self {
            type_ref,
            namespace: None,
            name: name.into(),
        }
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {}/{}", self.type_ref.kind, ns, self.name),
            None => write!(f, "{} {}", self.type_ref.kind, self.name),
        }
    }
}

/// Error converting between typed and dynamic objects.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The value did not serialize or deserialize.
    #[error("object conversion failed: {0}")]
    Serde(#[from] serde_json::Error),
    /// The serialized value was not a JSON object carrying `apiVersion` and `kind`.
    #[error("not a Kubernetes object: {0}")]
    NotAnObject(String),
}

/// A Kubernetes object of any kind.
///
/// The body (everything but `apiVersion`, `kind` and `metadata`) is kept as a JSON map, so an
/// `Object` round-trips any kind, custom resources included, without loss.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct Object {
    /// `apiVersion` of the object.
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    /// `kind` of the object.
    pub kind: String,
    /// Standard object metadata.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// Every other top-level field (`spec`, `status`, `data`, ...).
    #[serde(flatten)]
    pub body: Map<String, Value>,
}

/// An object's identity borrowed from it, as [`Object::same_identity`] compares it: a hash key,
/// so matching many objects against many does not compare every pair.
#[derive(PartialEq, Eq, Hash)]
pub(crate) struct Identity<'a> {
    name: &'a str,
    namespace: Option<&'a str>,
    kind: &'a str,
    api_version: &'a str,
}

impl<'a> Identity<'a> {
    /// The identity of `object`.
    pub(crate) fn of(object: &'a Object) -> Self {
        Self {
            name: object.name(),
            namespace: object.metadata.namespace.as_deref(),
            kind: &object.kind,
            api_version: &object.api_version,
        }
    }
}

impl Object {
    /// An empty object of the given type with the given name and optional namespace.
    pub fn new(type_ref: &TypeRef, namespace: Option<&str>, name: &str) -> Self {
        Self {
            api_version: type_ref.api_version.clone(),
            kind: type_ref.kind.clone(),
            metadata: ObjectMeta {
                name: Some(name.to_owned()),
                namespace: namespace.map(str::to_owned),
                ..ObjectMeta::default()
            },
            body: Map::new(),
        }
    }

    /// Sets a top-level body field (builder style).
    pub fn with(mut self, field: &str, value: Value) -> Self {
        self.body.insert(field.to_owned(), value);
        self
    }

    /// Converts any serializable Kubernetes object (k8s-openapi types, `#[derive(CustomResource)]`
    /// types, or a `serde_json::Value`) into a dynamic object.
    pub fn from_typed<T: Serialize>(typed: &T) -> Result<Self, ModelError> {
        let value = serde_json::to_value(typed)?;
        Self::from_value(value)
    }

    /// Converts a JSON value into a dynamic object; it must carry `apiVersion` and `kind`.
    pub fn from_value(value: Value) -> Result<Self, ModelError> {
        match &value {
            Value::Object(map)
                if map.get("apiVersion").is_some_and(Value::is_string)
                    && map.get("kind").is_some_and(Value::is_string) => {}
            _ => return Err(ModelError::NotAnObject("apiVersion and kind must be strings".into())),
        }
        // By hand rather than through the derived `Deserialize`: its flattened body buffers
        // every value in serde's `Content` first; here the body is the map itself, moved.
        let Value::Object(mut body) = value else {
            return Err(ModelError::NotAnObject("apiVersion and kind must be strings".into()));
        };
        let text = |v: Option<Value>| match v {
            Some(Value::String(s)) => s,
            _ => String::new(),
        };
        let api_version = text(body.remove("apiVersion"));
        let kind = text(body.remove("kind"));
        let metadata = match body.remove("metadata") {
            Some(metadata) => serde_json::from_value(metadata)?,
            None => ObjectMeta::default(),
        };
        Ok(Self {
            api_version,
            kind,
            metadata,
            body,
        })
    }

    /// [`Object::from_value`] of a borrowed value, without copying it first.
    pub fn from_value_ref(value: &Value) -> Result<Self, ModelError> {
        match value {
            Value::Object(map)
                if map.get("apiVersion").is_some_and(Value::is_string)
                    && map.get("kind").is_some_and(Value::is_string) => {}
            _ => return Err(ModelError::NotAnObject("apiVersion and kind must be strings".into())),
        }
        // As in `from_value`: no `Content` buffering of the flattened body.
        let Value::Object(map) = value else {
            return Err(ModelError::NotAnObject("apiVersion and kind must be strings".into()));
        };
        let text = |key: &str| map.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
        let metadata = match map.get("metadata") {
            Some(metadata) => ObjectMeta::deserialize(metadata)?,
            None => ObjectMeta::default(),
        };
        let body = map
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "apiVersion" | "kind" | "metadata"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Ok(Self {
            api_version: text("apiVersion"),
            kind: text("kind"),
            metadata,
            body,
        })
    }

    /// Converts into a typed object (k8s-openapi or a custom resource type).
    pub fn to_typed<T: DeserializeOwned>(&self) -> Result<T, ModelError> {
        Ok(serde_json::from_value(self.to_value()?)?)
    }

    /// [`Object::to_typed`] for a Kubernetes resource type (a k8s-openapi type or a
    /// `#[derive(CustomResource)]` type): the metadata is cloned into the typed object instead
    /// of being serialized and parsed again (managedFields and timestamps are most of the cost
    /// of a conversion). The result equals [`Object::to_typed`]'s, except that a timestamp
    /// keeps a sub-second part that JSON (whole seconds) would drop.
    ///
    /// # Errors
    /// [`ModelError::Serde`] when the body does not fit `K`.
    pub fn to_resource<K>(&self) -> Result<K, ModelError>
    where
        K: kube_core::Resource + DeserializeOwned,
    {
        if self.body.contains_key("metadata") {
            // A body field `metadata` would be serialized over the real one.
            return self.to_typed();
        }
        // Deserialized from the borrowed body (no copy of it first), with the type and an
        // empty metadata in front; the body's own `apiVersion` or `kind` wins, as when
        // serialized.
        let api_version = Value::String(self.api_version.clone());
        let kind = Value::String(self.kind.clone());
        let metadata = Value::Object(Map::new());
        let head = [("apiVersion", &api_version), ("kind", &kind), ("metadata", &metadata)]
            .into_iter()
            .filter(|(key, _)| !self.body.contains_key(*key));
        let fields = head.chain(self.body.iter().map(|(k, v)| (k.as_str(), v)));
        let mut deserializer = MapDeserializer::<_, serde_json::Error>::new(fields);
        let mut typed = K::deserialize(MapAccessDeserializer::new(&mut deserializer))?;
        deserializer.end()?;
        *typed.meta_mut() = self.metadata.clone();
        Ok(typed)
    }

    /// The object as a JSON value.
    pub fn to_value(&self) -> Result<Value, ModelError> {
        // The same value as the derived `Serialize` (a body field named like a top-level one
        // wins, as it is serialized last), with the body cloned as a map rather than
        // serialized value by value.
        let mut map = self.body.clone();
        map.entry("apiVersion")
            .or_insert_with(|| Value::String(self.api_version.clone()));
        map.entry("kind").or_insert_with(|| Value::String(self.kind.clone()));
        if !map.contains_key("metadata") {
            map.insert("metadata".into(), serde_json::to_value(&self.metadata)?);
        }
        Ok(Value::Object(map))
    }

    /// The object as a JSON value, its body moved rather than cloned ([`Object::to_value`]
    /// for an object kept).
    ///
    /// # Errors
    /// [`ModelError::Serde`] when the metadata does not serialize.
    pub fn into_value(self) -> Result<Value, ModelError> {
        let mut map = self.body;
        map.entry("apiVersion").or_insert(Value::String(self.api_version));
        map.entry("kind").or_insert(Value::String(self.kind));
        if !map.contains_key("metadata") {
            map.insert("metadata".into(), serde_json::to_value(&self.metadata)?);
        }
        Ok(Value::Object(map))
    }

    /// The object's type.
    pub fn type_ref(&self) -> TypeRef {
        TypeRef::new(self.api_version.clone(), self.kind.clone())
    }

    /// The object's name, or "" when unset.
    pub fn name(&self) -> &str {
        self.metadata.name.as_deref().unwrap_or("")
    }

    /// The object's namespace, if any.
    pub fn namespace(&self) -> Option<&str> {
        self.metadata.namespace.as_deref()
    }

    /// The object's uid, if the server assigned one.
    pub fn uid(&self) -> Option<&str> {
        self.metadata.uid.as_deref()
    }

    /// The object's resourceVersion, if any.
    pub fn resource_version(&self) -> Option<&str> {
        self.metadata.resource_version.as_deref()
    }

    /// Whether `other` is the same object: same apiVersion, kind, namespace and name (what
    /// [`Object::object_ref`] of both compares, without building either).
    pub fn same_identity(&self, other: &Object) -> bool {
        self.name() == other.name()
            && self.metadata.namespace == other.metadata.namespace
            && self.kind == other.kind
            && self.api_version == other.api_version
    }

    /// A reference to this object.
    pub fn object_ref(&self) -> ObjectRef {
        ObjectRef {
            type_ref: self.type_ref(),
            namespace: self.metadata.namespace.clone(),
            name: self.name().to_owned(),
        }
    }

    /// The `spec` field, if present.
    pub fn spec(&self) -> Option<&Value> {
        self.body.get("spec")
    }

    /// The `status` field, if present.
    pub fn status(&self) -> Option<&Value> {
        self.body.get("status")
    }

    /// True once deletion has started (deletionTimestamp set).
    pub fn is_terminating(&self) -> bool {
        self.metadata.deletion_timestamp.is_some()
    }

    /// The label value for `key`, if set.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(key))
            .map(String::as_str)
    }

    /// The annotation value for `key`, if set.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(key))
            .map(String::as_str)
    }

    /// The ownerReference marked `controller: true`, if any.
    pub fn controller_owner(&self) -> Option<&OwnerReference> {
        self.metadata
            .owner_references
            .as_ref()?
            .iter()
            .find(|r| r.controller == Some(true))
    }

    /// True if a controller ownerReference points to an owner with this uid.
    pub fn is_controlled_by(&self, owner_uid: &str) -> bool {
        self.controller_owner().is_some_and(|r| r.uid == owner_uid)
    }

    /// True if this object carries `finalizer`.
    pub fn has_finalizer(&self, finalizer: &str) -> bool {
        self.metadata
            .finalizers
            .as_ref()
            .is_some_and(|f| f.iter().any(|x| x == finalizer))
    }

    /// Builds a controller ownerReference (with `blockOwnerDeletion`) pointing at this object,
    /// or None when the object has no uid yet.
    pub fn controller_owner_ref(&self) -> Option<OwnerReference> {
        Some(OwnerReference {
            api_version: self.api_version.clone(),
            kind: self.kind.clone(),
            name: self.name().to_owned(),
            uid: self.metadata.uid.clone()?,
            controller: Some(true),
            block_owner_deletion: Some(true),
        })
    }
}

/// A page of a list: items, the revision the list was built at, and a continue token.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ObjectList {
    /// The objects, in (namespace, name) order.
    pub items: Vec<Arc<Object>>,
    /// The resourceVersion at which the list was built.
    pub resource_version: String,
    /// Token for the next page, when `limit` cut the list.
    pub continue_token: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::StatefulSet;
    use k8s_openapi::api::core::v1::ConfigMap;

    #[test]
    fn from_a_borrowed_value_is_from_an_owned_one() {
        let value = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "labels": {"x": "y"}}, "data": {"k": "v"}});
        assert_eq!(
            Object::from_value_ref(&value).unwrap(),
            Object::from_value(value.clone()).unwrap()
        );
        let no_kind = serde_json::json!({"apiVersion": "v1", "metadata": {"name": "a"}});
        assert!(matches!(
            Object::from_value_ref(&no_kind),
            Err(ModelError::NotAnObject(_))
        ));
    }

    #[test]
    fn hand_written_conversions_match_the_derived_serde() {
        let value = serde_json::json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "a", "namespace": "ns", "uid": "u1", "resourceVersion": "7",
                "creationTimestamp": "2026-01-01T00:00:00Z", "labels": {"x": "y"},
                "managedFields": [{"manager": "m", "operation": "Apply", "apiVersion": "apps/v1",
                    "time": "2026-01-01T00:00:01Z", "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:spec": {"f:replicas": {}}}}]},
            "spec": {"replicas": 3, "template": {"spec": {"containers": [{"name": "c"}]}}},
            "status": {"replicas": 3}});
        let derived = Object::deserialize(&value).unwrap();
        assert_eq!(Object::from_value(value.clone()).unwrap(), derived);
        assert_eq!(Object::from_value_ref(&value).unwrap(), derived);
        assert_eq!(derived.to_value().unwrap(), serde_json::to_value(&derived).unwrap());
        assert_eq!(
            derived.clone().into_value().unwrap(),
            serde_json::to_value(&derived).unwrap()
        );
        let bare = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap"});
        let derived = Object::deserialize(&bare).unwrap();
        assert_eq!(Object::from_value(bare.clone()).unwrap(), derived);
        assert_eq!(derived.to_value().unwrap(), serde_json::to_value(&derived).unwrap());
        let bad_meta = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": 3});
        assert!(Object::from_value(bad_meta.clone()).is_err());
        assert!(Object::from_value_ref(&bad_meta).is_err());
        // A body field named like a top-level one is serialized last, so it wins.
        let mut odd = Object::new(&TypeRef::new("v1", "ConfigMap"), None, "a");
        odd.body.insert("kind".into(), serde_json::json!("Other"));
        assert_eq!(odd.to_value().unwrap(), serde_json::to_value(&odd).unwrap());
        assert_eq!(odd.clone().into_value().unwrap(), serde_json::to_value(&odd).unwrap());
    }

    #[test]
    fn to_resource_is_to_typed() {
        let value = serde_json::json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "a", "namespace": "ns", "uid": "u1", "resourceVersion": "7",
                "creationTimestamp": "2026-01-01T00:00:00Z", "labels": {"x": "y"},
                "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "o", "uid": "u0", "controller": true}],
                "managedFields": [{"manager": "m", "operation": "Apply", "apiVersion": "apps/v1",
                    "time": "2026-01-01T00:00:01Z", "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:spec": {"f:replicas": {}}}}]},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"x": "y"}},
                "template": {"spec": {"containers": [{"name": "c"}]}}},
            "status": {"replicas": 3, "readyReplicas": 2}});
        let object = Object::from_value(value).unwrap();
        let fast: StatefulSet = object.to_resource().unwrap();
        let slow: StatefulSet = object.to_typed().unwrap();
        assert_eq!(fast, slow);
        let bad = Object::new(&TypeRef::of::<StatefulSet>(), None, "a").with("spec", serde_json::json!(3));
        assert!(bad.to_resource::<StatefulSet>().is_err());
        let cm: ConfigMap = Object::new(&TypeRef::of::<ConfigMap>(), Some("ns"), "b")
            .to_resource()
            .unwrap();
        assert_eq!(cm.metadata.name.as_deref(), Some("b"));
    }

    #[test]
    fn typed_round_trip_is_lossless() {
        let cm = ConfigMap {
            metadata: ObjectMeta {
                name: Some("a".into()),
                namespace: Some("ns".into()),
                ..Default::default()
            },
            data: Some([("k".to_string(), "v".to_string())].into()),
            ..Default::default()
        };
        let obj = Object::from_typed(&cm).unwrap();
        assert_eq!(obj.type_ref(), TypeRef::of::<ConfigMap>());
        assert_eq!(obj.body["data"]["k"], "v");
        let back: ConfigMap = obj.to_typed().unwrap();
        assert_eq!(back, cm);
    }

    #[test]
    fn unknown_fields_survive_a_round_trip() {
        let v = serde_json::json!({"apiVersion": "x.io/v1", "kind": "Foo", "metadata": {"name": "f"},
            "spec": {"a": [1, 2, {"b": null}]}, "extra": true});
        let obj = Object::from_value(v.clone()).unwrap();
        assert_eq!(obj.to_value().unwrap(), v);
        assert_eq!(obj.type_ref().group(), "x.io");
        assert_eq!(obj.type_ref().version(), "v1");
    }

    #[test]
    fn non_objects_are_rejected() {
        assert!(Object::from_value(serde_json::json!({"kind": "Foo"})).is_err());
        assert!(Object::from_value(serde_json::json!([1])).is_err());
        let sts = StatefulSet::default();
        // k8s-openapi serializes apiVersion/kind even for a default object.
        assert_eq!(Object::from_typed(&sts).unwrap().kind, "StatefulSet");
    }
}
