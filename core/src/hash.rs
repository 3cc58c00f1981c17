//! Content hashing: canonical JSON (sorted keys, no insignificant whitespace) -> SHA-256 -> hex.
//!
//! The desired hash covers an object's intent only: `apiVersion`, `kind`, name, namespace,
//! labels, annotations (without [`HASH_ANNOTATION`] itself) and every body field except
//! `status`. Server-set metadata (uid, resourceVersion, generation, timestamps, managedFields)
//! and ownerReferences (they carry the owner's uid) are never hashed, so recreating the parent
//! or reading the object back from the server does not change the hash.

use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::model::Object;

/// The annotation that stores the desired hash on every child object.
pub const HASH_ANNOTATION: &str = "operator-runtime.io/desired-hash";

/// Serializes `value` as canonical JSON: object keys sorted by their UTF-8 bytes, no
/// whitespace, numbers and strings as serde_json writes them.
pub fn canonical_json<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    // serde_json's Map is a BTreeMap (no `preserve_order`), so going through Value sorts keys.
    let v = serde_json::to_value(value)?;
    serde_json::to_vec(&v)
}

/// SHA-256 of the canonical JSON of `value`, lower-case hex.
pub fn canonical_hash<T: Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
    Ok(hex::encode(Sha256::digest(canonical_json(value)?)))
}

/// The desired hash of an object: see the module docs for what it covers.
pub fn desired_hash(object: &Object) -> Result<String, serde_json::Error> {
    canonical_hash(&intent_view(object))
}

/// The part of an object that expresses intent, as a JSON value.
pub fn intent_view(object: &Object) -> Value {
    let mut meta = Map::new();
    if let Some(name) = &object.metadata.name {
        meta.insert("name".into(), Value::String(name.clone()));
    }
    if let Some(ns) = &object.metadata.namespace {
        meta.insert("namespace".into(), Value::String(ns.clone()));
    }
    if let Some(labels) = object.metadata.labels.as_ref().filter(|l| !l.is_empty()) {
        meta.insert(
            "labels".into(),
            Value::Object(
                labels
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect(),
            ),
        );
    }
    let annotations: Map<String, Value> = object
        .metadata
        .annotations
        .iter()
        .flatten()
        .filter(|(k, _)| k.as_str() != HASH_ANNOTATION)
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    if !annotations.is_empty() {
        meta.insert("annotations".into(), Value::Object(annotations));
    }
    let mut view = Map::new();
    view.insert("apiVersion".into(), Value::String(object.api_version.clone()));
    view.insert("kind".into(), Value::String(object.kind.clone()));
    view.insert("metadata".into(), Value::Object(meta));
    for (k, v) in &object.body {
        if k != "status" {
            view.insert(k.clone(), v.clone());
        }
    }
    Value::Object(view)
}
