//! Converting between the core [`Object`] and kube-rs's [`DynamicObject`].
//!
//! Both are "apiVersion + kind + metadata + the rest as JSON", so the conversion goes through
//! `serde_json::Value` and loses nothing. List responses omit `apiVersion` and `kind` on items,
//! so the requested type is filled in when the server left it out.

use std::sync::Arc;

use kube::api::DynamicObject;
use operator_runtime_core::{Object, StoreError, TypeRef};

/// A core object as a kube-rs dynamic object (for request bodies).
pub(crate) fn to_dynamic(object: &Object) -> Result<DynamicObject, StoreError> {
    let value = object
        .to_value()
        .map_err(|e| StoreError::bad_request(format!("cannot serialize {}: {e}", object.object_ref())))?;
    serde_json::from_value(value)
        .map_err(|e| StoreError::bad_request(format!("cannot serialize {}: {e}", object.object_ref())))
}

/// A server response as a core object of type `type_ref`.
pub(crate) fn from_dynamic(object: DynamicObject, type_ref: &TypeRef) -> Result<Arc<Object>, StoreError> {
    let mut value = serde_json::to_value(object).map_err(decode_error)?;
    if let Some(map) = value.as_object_mut() {
        for (key, want) in [("apiVersion", &type_ref.api_version), ("kind", &type_ref.kind)] {
            let missing = map.get(key).is_none_or(|v| v.as_str().is_none_or(str::is_empty));
            if missing {
                map.insert(key.to_owned(), serde_json::Value::String(want.clone()));
            }
        }
    }
    Object::from_value(value)
        .map(Arc::new)
        .map_err(|e| decode_error(e.to_string()))
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
}
