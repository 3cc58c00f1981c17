//! Objects as they go out on the wire. The store keeps each managedFields entry's `fieldsV1`
//! as its JSON text (as the API server keeps `FieldsV1.Raw`); a client gets the tree.

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use operator_runtime_core::Object;
use operator_runtime_core::model::ObjectMeta;

/// An object serialized as the API server sends it: `fieldsV1` as a JSON object.
pub(crate) struct Wire<'a>(pub(crate) &'a Object);

/// The same fields, in the same order, as `Object`'s own `Serialize`.
#[derive(Serialize)]
struct View<'a> {
    #[serde(rename = "apiVersion")]
    api_version: &'a str,
    kind: &'a str,
    metadata: &'a ObjectMeta,
    #[serde(flatten)]
    body: &'a Map<String, Value>,
}

impl Serialize for Wire<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let object = self.0;
        let has_text = object
            .metadata
            .managed_fields
            .iter()
            .flatten()
            .any(|e| e.fields_v1.as_ref().is_some_and(|f| f.0.is_string()));
        if !has_text {
            return object.serialize(serializer);
        }
        let mut metadata = object.metadata.clone();
        operator_runtime_core::fields_v1::expand_managed_fields(&mut metadata);
        View {
            api_version: &object.api_version,
            kind: &object.kind,
            metadata: &metadata,
            body: &object.body,
        }
        .serialize(serializer)
    }
}

/// [`Wire`] as a JSON value.
pub(crate) fn to_value(object: &Object) -> Result<Value, serde_json::Error> {
    serde_json::to_value(Wire(object))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn field_sets_kept_as_text_go_out_as_trees_and_nothing_else_changes() {
        let tree = json!({"f:data": {"f:a": {}}});
        let value = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "managedFields": [{"manager": "m", "operation": "Apply",
                "fieldsType": "FieldsV1", "fieldsV1": tree}]},
            "data": {"a": "1"}});
        let mut object = Object::from_value(value.clone()).unwrap_or_default();
        assert_eq!(to_value(&object).ok(), Some(value.clone()), "a tree goes out as it is");
        operator_runtime_core::fields_v1::compact_managed_fields(&mut object.metadata);
        assert_ne!(object.to_value().ok(), Some(value.clone()), "stored as text");
        assert_eq!(to_value(&object).ok(), Some(value));
    }
}
