//! The kinds the suite uses: built-ins, and two test custom resources installed through the API.
//!
//! - `Widget` (`conformance.operator-runtime.io/v1`, namespaced) has the status subresource;
//!   `spec` and `status` keep unknown fields (`x-kubernetes-preserve-unknown-fields`) so any
//!   test data round-trips. A few typed properties under `spec` exist only for the schema
//!   behaviours (validation, CEL, pruning, defaulting); other behaviours never touch them.
//! - `Gadget` is the same without the status subresource.
//! - `Doodad` is never installed (behaviours about unknown kinds).

use operator_runtime_core::{Object, TypeRef};
use serde_json::{Value, json};

/// API group of the test custom resources.
pub const GROUP: &str = "conformance.operator-runtime.io";
/// A finalizer name the suite adds to hold objects in Terminating.
pub const HOLD_FINALIZER: &str = "conformance.operator-runtime.io/hold";
/// A second finalizer, for behaviours that need several.
pub const SECOND_FINALIZER: &str = "conformance.operator-runtime.io/second";

/// `v1 ConfigMap`.
pub fn config_map() -> TypeRef {
    TypeRef::new("v1", "ConfigMap")
}

/// `v1 Namespace`.
pub fn namespace() -> TypeRef {
    TypeRef::new("v1", "Namespace")
}

/// `apiextensions.k8s.io/v1 CustomResourceDefinition`.
pub fn crd() -> TypeRef {
    TypeRef::new("apiextensions.k8s.io/v1", "CustomResourceDefinition")
}

/// The Widget custom resource (status subresource on).
pub fn widget() -> TypeRef {
    TypeRef::new(format!("{GROUP}/v1"), "Widget")
}

/// The Gadget custom resource (no status subresource).
pub fn gadget() -> TypeRef {
    TypeRef::new(format!("{GROUP}/v1"), "Gadget")
}

/// A custom resource kind that is never installed.
pub fn doodad() -> TypeRef {
    TypeRef::new(format!("{GROUP}/v1"), "Doodad")
}

/// The schema of Widget: open `spec`/`status` plus typed properties for the schema behaviours.
fn widget_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "x-kubernetes-preserve-unknown-fields": true,
                "properties": {
                    "replicas": {"type": "integer", "minimum": 0},
                    "limits": {
                        "type": "object",
                        "required": ["min", "max"],
                        "properties": {"min": {"type": "integer"}, "max": {"type": "integer"}},
                        "x-kubernetes-validations": [
                            {"rule": "self.min <= self.max", "message": "min must not exceed max"}
                        ]
                    },
                    "defaulted": {
                        "type": "object",
                        "properties": {"mode": {"type": "string", "default": "auto"}}
                    },
                    "pruned": {
                        "type": "object",
                        "properties": {"kept": {"type": "string"}}
                    }
                }
            },
            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
        }
    })
}

fn open_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
        }
    })
}

fn definition(kind: &str, plural: &str, schema: Value, status_subresource: bool) -> Object {
    let mut version = json!({
        "name": "v1",
        "served": true,
        "storage": true,
        "schema": {"openAPIV3Schema": schema}
    });
    if status_subresource {
        version["subresources"] = json!({"status": {}});
    }
    let value = json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{plural}.{GROUP}")},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {
                "plural": plural,
                "singular": kind.to_lowercase(),
                "kind": kind,
                "listKind": format!("{kind}List")
            },
            "versions": [version]
        }
    });
    // The literal above always carries apiVersion and kind, so conversion cannot fail.
    Object::from_value(value).unwrap_or_default()
}

/// The Widget CustomResourceDefinition.
pub fn widget_crd() -> Object {
    definition("Widget", "widgets", widget_schema(), true)
}

/// The Gadget CustomResourceDefinition.
pub fn gadget_crd() -> Object {
    definition("Gadget", "gadgets", open_schema(), false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_are_well_formed() {
        let w = widget_crd();
        assert_eq!(w.type_ref(), crd());
        assert_eq!(w.name(), "widgets.conformance.operator-runtime.io");
        assert_eq!(w.body["spec"]["names"]["kind"], "Widget");
        assert!(w.body["spec"]["versions"][0]["subresources"]["status"].is_object());
        let g = gadget_crd();
        assert_eq!(g.name(), "gadgets.conformance.operator-runtime.io");
        assert!(g.body["spec"]["versions"][0].get("subresources").is_none());
        assert_eq!(widget().group(), GROUP);
    }
}
