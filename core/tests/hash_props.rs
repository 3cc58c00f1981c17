//! Property tests for canonical hashing: the fast paths equal the reference definition
//! (`serde_json::to_value` then `to_vec`) on random JSON, the hash ignores the key order and
//! whitespace of its input and changes whenever a value changes.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetSpec};
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use operator_runtime_core::Object;
use operator_runtime_core::hash::{HASH_ANNOTATION, canonical_hash, canonical_json, desired_hash, intent_view};
use proptest::prelude::*;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::{Map, Number, Value};
use sha2::{Digest, Sha256};

fn reference_json(v: &impl Serialize) -> Vec<u8> {
    serde_json::to_vec(&serde_json::to_value(v).unwrap()).unwrap()
}

fn reference_hash(v: &impl Serialize) -> String {
    hex::encode(Sha256::digest(reference_json(v)))
}

/// Keys drawn from a small pool (so objects share and collide on keys) or arbitrary text.
fn arb_key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec!["a", "b", "B", "aa", "", "a\"b", "é", "\u{1}", "z\\"]).prop_map(String::from),
        any::<String>(),
    ]
}

fn arb_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        prop::sample::select(vec![u64::MAX, 0, 1]).prop_map(Value::from),
        prop::sample::select(vec![i64::MIN, i64::MAX, -1]).prop_map(Value::from),
        prop::num::f64::ANY.prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop::sample::select(vec![0.0, -0.0, 0.1, 1e21, 1e-7, f64::MAX, f64::MIN_POSITIVE, 5e-324])
            .prop_map(Value::from),
    ]
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        arb_number(),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((arb_key(), inner), 0..6).prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// A tiny deterministic permutation source for the tests (seeded by proptest).
struct Shuffler(u64);

impl Shuffler {
    fn next(&mut self) -> u64 {
        // xorshift64*: plenty for shuffling test input.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

/// Serializes a Value with every object's keys in a seeded random order.
struct Shuffled<'a>(&'a Value, u64);

impl Serialize for Shuffled<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut rng = Shuffler(self.1 | 1);
        match self.0 {
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&Shuffled(item, rng.next()))?;
                }
                seq.end()
            }
            Value::Object(map) => {
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                rng.shuffle(&mut entries);
                let mut m = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    m.serialize_entry(k, &Shuffled(v, rng.next()))?;
                }
                m.end()
            }
            other => other.serialize(s),
        }
    }
}

/// JSON text with shuffled keys and random insignificant whitespace.
fn messy_text(v: &Value, rng: &mut Shuffler, out: &mut String) {
    const WS: [&str; 5] = ["", " ", "\n", "\t", "\r\n  "];
    let ws = |rng: &mut Shuffler, out: &mut String| out.push_str(WS[(rng.next() % 5) as usize]);
    ws(rng, out);
    match v {
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                messy_text(item, rng, out);
            }
            ws(rng, out);
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            rng.shuffle(&mut entries);
            out.push('{');
            for (i, (k, val)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                ws(rng, out);
                out.push_str(&serde_json::to_string(k).unwrap());
                ws(rng, out);
                out.push(':');
                messy_text(val, rng, out);
            }
            ws(rng, out);
            out.push('}');
        }
        scalar => out.push_str(&serde_json::to_string(scalar).unwrap()),
    }
    ws(rng, out);
}

/// Every leaf (scalar or empty container) as a JSON pointer.
fn leaves(v: &Value, path: String, out: &mut Vec<String>) {
    match v {
        Value::Array(items) if !items.is_empty() => {
            for (i, item) in items.iter().enumerate() {
                leaves(item, format!("{path}/{i}"), out);
            }
        }
        Value::Object(map) if !map.is_empty() => {
            for (k, item) in map {
                let token = k.replace('~', "~0").replace('/', "~1");
                leaves(item, format!("{path}/{token}"), out);
            }
        }
        _ => out.push(path),
    }
}

/// A value of the same place that is certainly different.
fn mutated(leaf: &Value) -> Value {
    match leaf {
        Value::Null => Value::Bool(false),
        Value::Bool(b) => Value::Bool(!b),
        Value::Number(n) => Value::String(n.to_string()),
        Value::String(s) => Value::String(format!("{s}\u{0}")),
        Value::Array(_) => Value::Array(vec![Value::Null]),
        Value::Object(_) => Value::Object(Map::from_iter([(String::new(), Value::Null)])),
    }
}

fn arb_labels() -> impl Strategy<Value = Option<BTreeMap<String, String>>> {
    prop::option::of(prop::collection::btree_map("[a-z./-]{1,12}", "[ -~]{0,10}", 0..4))
}

fn arb_config_map() -> impl Strategy<Value = ConfigMap> {
    (
        "[a-z0-9-]{1,20}",
        prop::option::of("[a-z]{1,8}"),
        arb_labels(),
        arb_labels(),
        prop::option::of(prop::collection::btree_map(any::<String>(), any::<String>(), 0..5)),
        prop::option::of(any::<bool>()),
    )
        .prop_map(|(name, namespace, labels, mut annotations, data, immutable)| {
            if let Some(a) = annotations.as_mut() {
                a.insert(HASH_ANNOTATION.into(), "whatever".into());
            }
            ConfigMap {
                metadata: ObjectMeta {
                    name: Some(name),
                    namespace,
                    labels,
                    annotations,
                    uid: Some("uid-is-not-hashed".into()),
                    ..ObjectMeta::default()
                },
                data,
                immutable,
                ..ConfigMap::default()
            }
        })
}

fn arb_stateful_set() -> impl Strategy<Value = StatefulSet> {
    (
        "[a-z0-9-]{1,20}",
        arb_labels(),
        prop::option::of(any::<i32>()),
        prop::option::of("[A-Za-z]{0,10}"),
        arb_labels(),
    )
        .prop_map(|(name, labels, replicas, service_name, match_labels)| StatefulSet {
            metadata: ObjectMeta {
                name: Some(name),
                labels,
                ..ObjectMeta::default()
            },
            spec: StatefulSetSpec {
                replicas,
                service_name,
                selector: LabelSelector {
                    match_labels,
                    ..LabelSelector::default()
                },
                ..StatefulSetSpec::default()
            },
            status: None,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn fast_path_equals_the_reference_and_parses_back(v in arb_json()) {
        let fast = canonical_json(&v).unwrap();
        prop_assert_eq!(&fast, &reference_json(&v));
        prop_assert_eq!(canonical_hash(&v).unwrap(), reference_hash(&v));
        let parsed: Value = serde_json::from_slice(&fast).unwrap();
        prop_assert_eq!(parsed, v);
    }

    #[test]
    fn hash_ignores_input_key_order(v in arb_json(), seed in any::<u64>()) {
        prop_assert_eq!(canonical_hash(&Shuffled(&v, seed)).unwrap(), canonical_hash(&v).unwrap());
        prop_assert_eq!(canonical_json(&Shuffled(&v, seed)).unwrap(), reference_json(&v));
    }

    #[test]
    fn hash_ignores_input_whitespace_and_key_order(v in arb_json(), seed in any::<u64>()) {
        let mut text = String::new();
        messy_text(&v, &mut Shuffler(seed | 1), &mut text);
        let reparsed: Value = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(canonical_hash(&reparsed).unwrap(), canonical_hash(&v).unwrap());
    }

    #[test]
    fn hash_changes_when_any_leaf_changes(v in arb_json(), pick in any::<prop::sample::Index>()) {
        let mut paths = Vec::new();
        leaves(&v, String::new(), &mut paths);
        let path = &paths[pick.index(paths.len())];
        let mut changed = v.clone();
        let leaf = changed.pointer_mut(path).unwrap();
        *leaf = mutated(leaf);
        prop_assert_ne!(&changed, &v);
        prop_assert_ne!(canonical_hash(&changed).unwrap(), canonical_hash(&v).unwrap());
    }

    #[test]
    fn desired_hash_equals_the_reference_on_random_objects(
        name in "[a-z]{1,10}",
        labels in arb_labels(),
        annotations in arb_labels(),
        body in prop::collection::vec((arb_key(), arb_json()), 0..5),
        status in arb_json(),
    ) {
        let mut object = Object::new(&operator_runtime_core::TypeRef::new("x.io/v1", "Thing"), Some("ns"), &name);
        object.metadata.labels = labels;
        object.metadata.annotations = annotations;
        object.body = body.into_iter().collect();
        object.body.insert("status".into(), status);
        prop_assert_eq!(desired_hash(&object).unwrap(), reference_hash(&intent_view(&object)));
    }

    #[test]
    fn typed_config_maps_hash_like_their_object_form(cm in arb_config_map()) {
        let object = Object::from_typed(&cm).unwrap();
        prop_assert_eq!(canonical_hash(&cm).unwrap(), canonical_hash(&object).unwrap());
        prop_assert_eq!(canonical_hash(&cm).unwrap(), reference_hash(&cm));
        prop_assert_eq!(desired_hash(&object).unwrap(), reference_hash(&intent_view(&object)));
    }

    #[test]
    fn typed_stateful_sets_hash_like_their_object_form(sts in arb_stateful_set()) {
        let object = Object::from_typed(&sts).unwrap();
        prop_assert_eq!(canonical_hash(&sts).unwrap(), canonical_hash(&object).unwrap());
        prop_assert_eq!(canonical_hash(&sts).unwrap(), reference_hash(&sts));
        prop_assert_eq!(desired_hash(&object).unwrap(), reference_hash(&intent_view(&object)));
    }
}
