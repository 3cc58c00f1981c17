//! Rolling pods when their configuration changes: hash a ConfigMap or Secret and put the hash
//! into a workload's pod template, so that a config change changes the template and the
//! workload controller rolls the pods.

use serde_json::{Map, Value};

use super::error::BuildError;
use crate::model::Object;

/// Hash of the content of a ConfigMap or Secret (`data`, `binaryData`, `stringData` and
/// `immutable`), lower-case hex SHA-256 of their canonical JSON.
///
/// Metadata is not hashed: relabelling a ConfigMap must not restart pods. Any other object is
/// hashed on the same fields (absent fields hash as absent), so custom config kinds work too.
pub fn config_hash(config: &Object) -> String {
    // Borrowed and streamed into the digest through the canonical writer's buffer (serde_json
    // writing straight into the digest fed it a few bytes at a time). The bytes are those of
    // the compact JSON of an object holding these fields, keys sorted.
    let content: std::collections::BTreeMap<&str, &Value> = ["data", "binaryData", "stringData", "immutable"]
        .into_iter()
        .filter_map(|field| config.body.get(field).map(|v| (field, v)))
        .collect();
    // String keys and JSON values always serialize, so there is no error to report.
    crate::hash::canonical_hash(&content).unwrap_or_default()
}

/// [`config_hash`] of a typed ConfigMap or Secret (or any typed object with those fields).
///
/// # Errors
/// [`BuildError::Model`] when it does not serialize into an object.
pub fn config_hash_of<K: kube_core::Resource<DynamicType = ()> + serde::Serialize>(
    config: &K,
) -> Result<String, BuildError> {
    Ok(config_hash(&Object::from_typed(config)?))
}

/// Sets `key: value` in the pod template annotations of a workload (`spec.template` for
/// Deployments, StatefulSets, DaemonSets, ReplicaSets and Jobs, `spec.jobTemplate.spec.template`
/// for CronJobs), creating the annotation map if needed. Typically
/// `with_pod_template_annotation(&mut sts, "example.com/config-hash", &config_hash(&cm))`.
///
/// # Errors
/// [`BuildError::NoPodTemplate`] when the workload has no pod template object.
pub fn with_pod_template_annotation(workload: &mut Object, key: &str, value: &str) -> Result<(), BuildError> {
    let (kind, name) = (workload.type_ref(), workload.name().to_owned());
    let no_template = move || BuildError::NoPodTemplate { kind, name };
    let path: &[&str] = if workload.kind == "CronJob" {
        &["spec", "jobTemplate", "spec", "template"]
    } else {
        &["spec", "template"]
    };
    let mut template = workload.body.get_mut(path[0]);
    for field in &path[1..] {
        template = template.and_then(|v| v.get_mut(field));
    }
    let Some(Value::Object(template)) = template else {
        return Err(no_template());
    };
    let metadata = template.entry("metadata").or_insert_with(|| Value::Object(Map::new()));
    if !metadata.is_object() {
        *metadata = Value::Object(Map::new());
    }
    let Value::Object(metadata) = metadata else {
        return Err(no_template());
    };
    let annotations = metadata
        .entry("annotations")
        .or_insert_with(|| Value::Object(Map::new()));
    if !annotations.is_object() {
        *annotations = Value::Object(Map::new());
    }
    if let Value::Object(annotations) = annotations {
        annotations.insert(key.to_owned(), Value::String(value.to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cm(data: Value) -> Object {
        Object::from_value(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": data}))
            .unwrap()
    }

    #[test]
    fn hash_follows_content_not_metadata() {
        let a = cm(json!({"k": "v"}));
        let mut relabelled = a.clone();
        relabelled.metadata.labels = Some([("x".to_string(), "y".to_string())].into());
        assert_eq!(config_hash(&a), config_hash(&relabelled));
        assert_ne!(config_hash(&a), config_hash(&cm(json!({"k": "w"}))));
        assert_eq!(config_hash(&a).len(), 64);
    }

    #[test]
    fn hash_is_the_sha256_of_the_sorted_compact_json_of_the_content() {
        // Hashes already written into pod templates must not change: pin the bytes hashed.
        let mut config = cm(json!({"b": "2", "a": "1\n\"q\""}));
        config.body.insert("immutable".into(), json!(true));
        config.body.insert("binaryData".into(), json!({"z": "AA=="}));
        let text = r#"{"binaryData":{"z":"AA=="},"data":{"a":"1\n\"q\"","b":"2"},"immutable":true}"#;
        assert_eq!(
            config_hash(&config),
            hex::encode(<sha2::Sha256 as sha2::Digest>::digest(text.as_bytes()))
        );
    }

    #[test]
    fn annotates_the_pod_template() {
        let mut sts = Object::from_value(json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "s"}, "spec": {"template": {"spec": {}}}}))
        .unwrap();
        with_pod_template_annotation(&mut sts, "example.com/config", "abc").unwrap();
        assert_eq!(
            sts.body["spec"]["template"]["metadata"]["annotations"]["example.com/config"],
            "abc"
        );
        with_pod_template_annotation(&mut sts, "example.com/config", "def").unwrap();
        assert_eq!(
            sts.body["spec"]["template"]["metadata"]["annotations"]["example.com/config"],
            "def"
        );

        let mut cron = Object::from_value(json!({"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": "c"}, "spec": {"jobTemplate": {"spec": {"template": {}}}}}))
        .unwrap();
        with_pod_template_annotation(&mut cron, "k", "v").unwrap();
        assert_eq!(
            cron.body["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["annotations"]["k"],
            "v"
        );
    }

    #[test]
    fn no_template_is_a_typed_error() {
        let mut c = cm(json!({}));
        assert!(matches!(
            with_pod_template_annotation(&mut c, "k", "v"),
            Err(BuildError::NoPodTemplate { .. })
        ));
    }
}
