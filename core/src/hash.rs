//! Content hashing: canonical JSON (sorted keys, no insignificant whitespace) -> SHA-256 -> hex.
//!
//! The desired hash covers an object's intent only: `apiVersion`, `kind`, name, namespace,
//! labels, annotations (without [`HASH_ANNOTATION`] itself) and every body field except
//! `status`. Server-set metadata (uid, resourceVersion, generation, timestamps, managedFields)
//! and ownerReferences (they carry the owner's uid) are never hashed, so recreating the parent
//! or reading the object back from the server does not change the hash.
//!
//! # The canonical form
//!
//! Canonical JSON is defined as `serde_json::to_vec(&serde_json::to_value(x)?)` without the
//! `preserve_order` feature: object keys sorted by their UTF-8 bytes (a repeated key keeps its
//! last value), no whitespace, strings and numbers exactly as serde_json writes them, `f32`
//! widened to `f64`, non-finite floats as `null`. Golden vectors in `tests/hash_golden.rs` pin
//! it across releases.
//!
//! The implementation never builds that `Value`: a streaming serializer writes the canonical
//! bytes into the hasher and only holds back the entries of maps whose keys may need reordering,
//! and [`desired_hash`] writes the intent straight from the [`Object`]'s fields.

mod intent;
mod json;
mod key;
mod serializer;

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::model::Object;
use serializer::{Canonical, KeepAll};

/// The annotation that stores the desired hash on every child object.
pub const HASH_ANNOTATION: &str = "operator-runtime.io/desired-hash";

/// Serializes `value` as canonical JSON: object keys sorted by their UTF-8 bytes, no
/// whitespace, numbers and strings as serde_json writes them.
///
/// Fails where `serde_json::to_value` fails: a map key that is not a string, integer, bool,
/// char or finite float; a 128-bit integer outside the `i64`/`u64` range; an error raised by
/// `value`'s own `Serialize` impl.
pub fn canonical_json<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    let mut writer = Canonical::new(KeepAll);
    value.serialize(&mut writer)?;
    Ok(writer.finish().1)
}

/// SHA-256 of the canonical JSON of `value`, lower-case hex.
pub fn canonical_hash<T: Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
    let mut writer = Canonical::new(Sha256::new());
    value.serialize(&mut writer)?;
    Ok(to_hex(&writer.finish().0.finalize().into()))
}

/// The desired hash of an object: see the module docs for what it covers.
///
/// Equal to `canonical_hash(&intent_view(object))`, computed without building the view.
pub fn desired_hash(object: &Object) -> Result<String, serde_json::Error> {
    let mut writer = Canonical::new(Sha256::new());
    intent::write_intent(&mut writer, object)?;
    Ok(to_hex(&writer.finish().0.finalize().into()))
}

/// A SHA-256 digest in lower-case hex, written through a stack buffer: `hex::encode` goes
/// through a char iterator, which showed in profiles of this hash (one per desired child per
/// reconcile).
pub(crate) fn to_hex(digest: &[u8; 32]) -> String {
    let mut buf = [0u8; 64];
    // Cannot fail: the buffer is exactly twice the digest's length.
    let _ = hex::encode_to_slice(digest, &mut buf);
    // Hex digits are ASCII, so the bytes are one valid string, copied whole.
    String::from_utf8_lossy(&buf).into_owned()
}

/// The part of an object that expresses intent, as a JSON value.
pub fn intent_view(object: &Object) -> Value {
    intent::intent_view(object)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reference(v: &impl Serialize) -> Vec<u8> {
        serde_json::to_vec(&serde_json::to_value(v).unwrap()).unwrap()
    }

    #[test]
    fn unsorted_and_repeated_map_keys_are_sorted_last_value_wins() {
        // A Vec of pairs serialized as a map keeps its order, unlike serde_json::Map.
        struct Pairs(Vec<(&'static str, Value)>);
        impl Serialize for Pairs {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
            }
        }
        let pairs = Pairs(vec![
            ("b", json!(1)),
            ("a", json!({"z": [1, {"y": 2, "x": 3}], "c": null})),
            ("b", json!(2)),
            ("", json!("empty key")),
        ]);
        let out = canonical_json(&pairs).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"":"empty key","a":{"c":null,"z":[1,{"x":3,"y":2}]},"b":2}"#
        );
    }

    #[test]
    fn non_string_keys_follow_serde_json_value_rules() {
        use std::collections::BTreeMap;
        let ints: BTreeMap<i32, bool> = [(10, true), (-1, false), (2, true)].into();
        assert_eq!(canonical_json(&ints).unwrap(), reference(&ints));
        let chars: BTreeMap<char, u8> = [('b', 1), ('a', 2)].into();
        assert_eq!(canonical_json(&chars).unwrap(), reference(&chars));
        let bad: BTreeMap<Vec<u8>, u8> = [(vec![1], 1)].into();
        assert!(canonical_json(&bad).is_err());
        assert!(serde_json::to_value(&bad).is_err());
    }

    #[test]
    fn enums_floats_and_big_integers_match_the_value_path() {
        #[derive(Serialize)]
        enum E {
            Unit,
            New(u8),
            Tuple(u8, &'static str),
            Struct { z: f32, a: Option<f64> },
        }
        let v = (
            vec![E::Unit, E::New(7), E::Tuple(1, "x"), E::Struct { z: 1.1, a: None }],
            (f64::NAN, f64::INFINITY, -0.0f64, 1e21f64),
            (i128::from(i64::MIN), u128::from(u64::MAX), 'é', b"bytes".as_slice()),
        );
        assert_eq!(canonical_json(&v).unwrap(), reference(&v));
        assert!(canonical_json(&(i128::from(i64::MIN) - 1)).is_err());
        assert!(canonical_json(&(u128::from(u64::MAX) + 1)).is_err());
    }

    #[test]
    fn hash_streams_past_the_flush_threshold() {
        // An array of many maps crosses the sink's flush size several times.
        let big: Vec<Value> = (0..5000).map(|i| json!({"n": i, "id": format!("x{i}")})).collect();
        let expected = hex::encode(Sha256::digest(reference(&big)));
        assert_eq!(canonical_hash(&big).unwrap(), expected);
    }

    #[test]
    fn desired_hash_ignores_status_and_the_hash_annotation() {
        let obj = Object::from_value(json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "namespace": "ns", "uid": "u1",
                "annotations": {HASH_ANNOTATION: "old"}},
            "data": {"k": "v"}, "status": {"x": 1}
        }))
        .unwrap();
        let mut other = obj.clone();
        other.body.insert("status".into(), json!({"x": 2}));
        other.metadata.uid = Some("u2".into());
        other
            .metadata
            .annotations
            .get_or_insert_default()
            .insert(HASH_ANNOTATION.into(), "new".into());
        assert_eq!(desired_hash(&obj).unwrap(), desired_hash(&other).unwrap());
        assert_eq!(desired_hash(&obj).unwrap(), canonical_hash(&intent_view(&obj)).unwrap());
        assert_eq!(
            String::from_utf8(canonical_json(&intent_view(&obj)).unwrap()).unwrap(),
            r#"{"apiVersion":"v1","data":{"k":"v"},"kind":"ConfigMap","metadata":{"name":"a","namespace":"ns"}}"#
        );
    }

    #[test]
    fn a_body_field_shadowing_a_fixed_member_wins_like_in_the_view() {
        let obj = Object::new(&crate::TypeRef::new("v1", "ConfigMap"), None, "a")
            .with("kind", json!("Shadow"))
            .with("metadata", json!({"name": "other"}));
        assert_eq!(desired_hash(&obj).unwrap(), canonical_hash(&intent_view(&obj)).unwrap());
    }
}
