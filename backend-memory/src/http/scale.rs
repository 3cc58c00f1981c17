//! The `scale` subresource (`autoscaling/v1` `Scale`) of the workload kinds and of custom
//! resources whose CRD declares it.

use operator_runtime_core::Object;
use serde_json::{Map, Value, json};

use super::discovery::ScalePaths;

fn lookup<'a>(root: &'a Value, dotted: &str) -> Option<&'a Value> {
    dotted.split('.').try_fold(root, |v, k| v.get(k))
}

/// The `Scale` view of an object.
pub(crate) fn scale_of(object: &Object, paths: &ScalePaths) -> Value {
    let doc = object.to_value().unwrap_or(Value::Null);
    let spec_replicas = lookup(&doc, &paths.spec_replicas).and_then(Value::as_i64).unwrap_or(0);
    let status_replicas = lookup(&doc, &paths.status_replicas)
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let selector = paths
        .label_selector
        .as_deref()
        .and_then(|p| lookup(&doc, p))
        .map(selector_string)
        .unwrap_or_default();
    let m = &object.metadata;
    let mut metadata = Map::new();
    metadata.insert("name".into(), json!(m.name));
    if let Some(ns) = &m.namespace {
        metadata.insert("namespace".into(), json!(ns));
    }
    if let Some(uid) = &m.uid {
        metadata.insert("uid".into(), json!(uid));
    }
    if let Some(rv) = &m.resource_version {
        metadata.insert("resourceVersion".into(), json!(rv));
    }
    if let Some(ts) = &m.creation_timestamp {
        metadata.insert("creationTimestamp".into(), json!(ts));
    }
    let mut status = json!({"replicas": status_replicas});
    if !selector.is_empty() {
        status["selector"] = json!(selector);
    }
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": metadata,
        "spec": {"replicas": spec_replicas},
        "status": status,
    })
}

/// A label selector as the string form `Scale.status.selector` carries: a string stays as it
/// is; a `metav1.LabelSelector` becomes `k=v,k2 in (a,b),!k3`.
fn selector_string(v: &Value) -> String {
    if let Some(s) = v.as_str() {
        return s.to_owned();
    }
    let mut parts: Vec<String> = Vec::new();
    if let Some(labels) = v.get("matchLabels").and_then(Value::as_object) {
        parts.extend(
            labels
                .iter()
                .map(|(k, val)| format!("{k}={}", val.as_str().unwrap_or_default())),
        );
    }
    for e in v
        .get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = e["key"].as_str().unwrap_or_default();
        let values: Vec<&str> = e["values"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        match e["operator"].as_str() {
            Some("In") => parts.push(format!("{key} in ({})", values.join(","))),
            Some("NotIn") => parts.push(format!("{key} notin ({})", values.join(","))),
            Some("Exists") => parts.push(key.to_owned()),
            Some("DoesNotExist") => parts.push(format!("!{key}")),
            _ => {}
        }
    }
    parts.join(",")
}

/// A merge patch setting the desired replicas at `spec_replicas`, with an optional
/// resourceVersion precondition.
pub(crate) fn replicas_patch(paths: &ScalePaths, replicas: i64, resource_version: Option<&str>) -> Value {
    let mut value = json!(replicas);
    for key in paths.spec_replicas.rsplit('.') {
        let mut m = Map::new();
        m.insert(key.to_owned(), value);
        value = Value::Object(m);
    }
    if let Some(rv) = resource_version {
        value["metadata"] = json!({"resourceVersion": rv});
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use operator_runtime_core::TypeRef;

    fn paths() -> ScalePaths {
        ScalePaths {
            spec_replicas: "spec.replicas".into(),
            status_replicas: "status.replicas".into(),
            label_selector: Some("spec.selector".into()),
        }
    }

    #[test]
    fn scale_reads_replicas_and_renders_the_selector() {
        let d = Object::new(&TypeRef::new("apps/v1", "Deployment"), Some("ns"), "web")
            .with(
                "spec",
                json!({"replicas": 3, "selector": {"matchLabels": {"app": "web"},
                    "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}]}}),
            )
            .with("status", json!({"replicas": 2}));
        let s = scale_of(&d, &paths());
        assert_eq!(s["spec"]["replicas"], 3);
        assert_eq!(s["status"]["replicas"], 2);
        assert_eq!(s["status"]["selector"], "app=web,tier in (a,b)");
        assert_eq!(s["metadata"]["namespace"], "ns");
    }

    #[test]
    fn replicas_patch_nests_the_path() {
        assert_eq!(
            replicas_patch(&paths(), 5, Some("9")),
            json!({"spec": {"replicas": 5}, "metadata": {"resourceVersion": "9"}})
        );
    }
}
