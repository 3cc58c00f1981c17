//! Resource quantities in drift detection, compared exactly as the API server stores them.
//!
//! The server rewrites a built-in kind's quantities into canonical text (`1000m` comes back as
//! `1`, `1024Mi` as `1Gi`, `0.1m` in a resource list as `1m`), so the planner compares the live
//! text with what the server would store for the desired one ([`crate::quantity`]), never by
//! floating point. For built-in kinds the paths come from the generated schema tables
//! ([`crate::builtin_schema`]) and the desired body is put in server form before comparing
//! ([`server_form`]); [`same_quantity`] is the fallback for paths the caller only knows by
//! field name.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::builtin_schema;
use crate::model::Object;
use crate::quantity::Quantity;

/// True if `live` is the text the server stores when `desired` is written, either as a single
/// quantity or as a resource-list value (rounded up to 1m): exact, no tolerance. Texts that are
/// not quantities are never the same.
pub fn same_quantity(desired: &str, live: &str) -> bool {
    let (Ok(want), Ok(have)) = (Quantity::parse_json_text(desired), Quantity::parse_json_text(live)) else {
        return false;
    };
    let have = have.canonical();
    if want.canonical() == have {
        return true;
    }
    let mut rounded = want;
    !rounded.round_up_milli() && rounded.canonical() == have
}

/// The desired body with every quantity of a built-in kind rewritten to the text the server
/// stores (borrowed unchanged for custom resources, for bodies without quantities, and for a
/// body holding an invalid quantity, which the server will reject on write).
pub fn server_form(desired: &Object) -> Cow<'_, Map<String, Value>> {
    let type_ref = desired.type_ref();
    if builtin_schema::quantity_paths(&type_ref).is_empty() {
        return Cow::Borrowed(&desired.body);
    }
    let mut body = desired.body.clone();
    match builtin_schema::canonicalize_quantities(&type_ref, &mut body) {
        Ok(()) => Cow::Owned(body),
        Err(_) => Cow::Borrowed(&desired.body),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn server_canonical_forms_are_the_same() {
        assert!(same_quantity("1000m", "1"));
        assert!(same_quantity("1024Mi", "1Gi"));
        assert!(same_quantity("0.5", "500m"));
        assert!(same_quantity("1.5Gi", "1536Mi"));
        assert!(same_quantity("0.1m", "1m"), "resource lists round up to 1m");
        assert!(same_quantity("0.1m", "100u"), "single quantities keep nano precision");
        assert!(same_quantity("1e3", "1e3"));
    }

    #[test]
    fn equal_values_in_another_spelling_are_drift() {
        // The server would store "2k" for 2k, so a live "2e3" was written by someone else.
        assert!(!same_quantity("2k", "2e3"));
        assert!(!same_quantity("1Gi", "1073741824"));
        assert!(!same_quantity("1Gi", "1G"));
        assert!(!same_quantity("1", "1000001u"));
        assert!(!same_quantity("abc", "abc"));
        assert!(!same_quantity("1x", "1x"));
    }

    #[test]
    fn server_form_rewrites_quantity_paths_of_builtin_kinds_only() {
        let deployment = Object::from_value(json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d"},
            "spec": {"template": {"spec": {"containers": [{"name": "a", "image": "i",
                "resources": {"requests": {"cpu": "1000m", "memory": "0.1m"}, "limits": {"cpu": 2}}}],
                "volumes": [{"name": "v", "emptyDir": {"sizeLimit": "0.1m"}}]}}}}))
        .expect("valid object");
        let body = server_form(&deployment);
        let pod = &body["spec"]["template"]["spec"];
        assert_eq!(
            pod["containers"][0]["resources"]["requests"],
            json!({"cpu": "1", "memory": "1m"})
        );
        assert_eq!(pod["containers"][0]["resources"]["limits"], json!({"cpu": "2"}));
        assert_eq!(pod["volumes"][0]["emptyDir"]["sizeLimit"], json!("100u"));

        let custom = Object::from_value(json!({"apiVersion": "example.com/v1", "kind": "Widget",
            "metadata": {"name": "w"}, "spec": {"resources": {"requests": {"cpu": "1000m"}}}}))
        .expect("valid object");
        assert!(matches!(server_form(&custom), Cow::Borrowed(_)));
    }
}
