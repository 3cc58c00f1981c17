//! Converting between the core [`Object`] and kube-rs's [`DynamicObject`].
//!
//! Both are "apiVersion + kind + typed metadata + the rest as JSON", so the conversion moves
//! the fields across (no `serde_json::Value` round trip of the whole object per request). List
//! responses omit `apiVersion` and `kind` on items, so the requested type is filled in when
//! the server left it out.

use std::sync::Arc;

use kube::api::{DynamicObject, TypeMeta};
use operator_runtime_core::{Object, StoreError, TypeRef, fields_v1};
use serde_json::{Map, Value};

/// A core object as a kube-rs dynamic object (for request bodies).
pub(crate) fn to_dynamic(object: &Object) -> Result<DynamicObject, StoreError> {
    Ok(DynamicObject {
        types: Some(TypeMeta {
            api_version: object.api_version.clone(),
            kind: object.kind.clone(),
        }),
        metadata: {
            let mut metadata = object.metadata.clone();
            // A cached object keeps field sets as JSON text; the server wants the tree.
            fields_v1::expand_managed_fields(&mut metadata);
            metadata
        },
        data: Value::Object(object.body.clone()),
    })
}

/// A server response as a core object of type `type_ref`.
pub(crate) fn from_dynamic(object: DynamicObject, type_ref: &TypeRef) -> Result<Arc<Object>, StoreError> {
    let (api_version, kind) = match object.types {
        Some(t) if !t.api_version.is_empty() && !t.kind.is_empty() => (t.api_version, t.kind),
        _ => (type_ref.api_version.clone(), type_ref.kind.clone()),
    };
    let body = match object.data {
        Value::Object(map) => map,
        Value::Null => Map::new(),
        other => return Err(decode_error(format!("the body is not a JSON object: {other}"))),
    };
    Ok(Arc::new(Object {
        api_version,
        kind,
        metadata: object.metadata,
        body,
    }))
}

fn decode_error(e: impl std::fmt::Display) -> StoreError {
    StoreError::backend(format!("cannot decode an object from the server: {e}"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn round_trips_and_fills_in_missing_type() {
        let t = TypeRef::new("v1", "ConfigMap");
        let obj = Object::from_value(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "namespace": "n"}, "data": {"k": "v"}}))
        .unwrap();
        let mut dynamic = to_dynamic(&obj).unwrap();
        assert_eq!(dynamic.data["data"]["k"], "v");
        dynamic.types = None; // as in a list response
        let back = from_dynamic(dynamic, &t).unwrap();
        assert_eq!(*back, obj);
    }

    #[test]
    fn field_sets_kept_as_text_are_sent_as_trees() {
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::{FieldsV1, ManagedFieldsEntry};
        let tree = json!({"f:data": {"f:k": {}}});
        let mut obj = Object::from_value(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "namespace": "n"}, "data": {"k": "v"}}))
        .unwrap();
        let mut fields = tree.clone();
        fields_v1::compact(&mut fields);
        obj.metadata.managed_fields = Some(vec![ManagedFieldsEntry {
            manager: Some("op".into()),
            operation: Some("Apply".into()),
            fields_v1: Some(FieldsV1(fields)),
            ..Default::default()
        }]);
        let sent = to_dynamic(&obj).unwrap();
        let entries = sent.metadata.managed_fields.unwrap_or_default();
        assert_eq!(entries[0].fields_v1.as_ref().map(|f| &f.0), Some(&tree));
    }
}
