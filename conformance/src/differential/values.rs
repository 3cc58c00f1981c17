//! Value pools: realistic values and edge cases (quantities, base64, long names, immutable
//! flags, nulls, int-or-string), object bodies per kind, and the `Sprocket` CRD.

use operator_runtime_core::Object;
use rand::Rng;
use rand::seq::IndexedRandom;
use serde_json::{Value, json};

use super::ops::{GROUP, Kind};

/// Label keys: the common ones and one invalid key.
pub const LABEL_KEYS: &[&str] = &["app", "tier", "example.com/role", "bad key!"];
/// Label values: short ones, empty, and invalid ones (too long, a space).
pub const LABEL_VALUES: &[&str] = &[
    "a",
    "b",
    "web",
    "",
    "x-1.y_2",
    "bad value",
    "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv",
];
/// Quantities, valid and not, as strings and numbers.
pub const QUANTITIES: &[&str] = &[
    "1000m", "1", "0.5", "1024Mi", "1Gi", "100M", "1e3", "500m", "1.5Gi", "0", "abc", "-1",
];
/// Finalizer names (the second one is not qualified: a warning on the real server, accepted).
pub const FINALIZERS: &[&str] = &["differential.operator-runtime.io/hold", "example.com/second"];
/// Label selectors, one of them malformed.
pub const LABEL_SELECTORS: &[&str] = &[
    "app=a",
    "app!=a",
    "app in (a,b)",
    "app notin (a)",
    "tier",
    "!tier",
    "app=a,tier=web",
    "app in (",
];

/// A random element of a non-empty pool.
pub fn pick<'a, R: Rng>(rng: &mut R, pool: &'a [&'a str]) -> &'a str {
    pool.choose(rng).copied().unwrap_or_default()
}

/// A quantity: mostly strings, sometimes a JSON number.
pub fn quantity<R: Rng>(rng: &mut R) -> Value {
    if rng.random_bool(0.15) {
        [json!(1), json!(2), json!(0.5), json!(1000)][rng.random_range(0..4)].clone()
    } else {
        json!(pick(rng, QUANTITIES))
    }
}

/// A name: the symbol itself, or an edge case (too long, upper case, a leading digit).
pub fn object_name<R: Rng>(rng: &mut R, sym: &str) -> String {
    match rng.random_range(0..20) {
        0 => format!("{sym}-{}", "n".repeat(250)),
        1 => format!("{}{sym}", "Upper_"),
        2 => format!("1{sym}"),
        3 => format!("{sym}.dotted"),
        _ => sym.to_owned(),
    }
}

fn labels<R: Rng>(rng: &mut R) -> Value {
    let mut map = serde_json::Map::new();
    for _ in 0..rng.random_range(0..3) {
        let key = if rng.random_bool(0.9) {
            pick(rng, &LABEL_KEYS[..3])
        } else {
            pick(rng, LABEL_KEYS)
        };
        let value = if rng.random_bool(0.85) {
            pick(rng, &LABEL_VALUES[..5])
        } else {
            pick(rng, LABEL_VALUES)
        };
        map.insert(key.to_owned(), json!(value));
    }
    Value::Object(map)
}

fn b64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(TABLE[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A ConfigMap or Secret data value.
fn text<R: Rng>(rng: &mut R) -> String {
    ["v", "", "multi\nline", "ünïcode", "0.5", "true"][rng.random_range(0..6)].to_owned()
}

fn data_key<R: Rng>(rng: &mut R) -> &'static str {
    ["k", "config.yaml", "k2", "_under", "bad/key"][if rng.random_bool(0.9) {
        rng.random_range(0..4)
    } else {
        4
    }]
}

/// The body of a new object of `kind` (apiVersion, kind, metadata without name, fields).
pub fn body<R: Rng>(rng: &mut R, kind: Kind) -> Value {
    let t = kind.type_ref();
    let mut obj = json!({"apiVersion": t.api_version, "kind": t.kind, "metadata": {}});
    if rng.random_bool(0.6) {
        obj["metadata"]["labels"] = labels(rng);
    }
    if rng.random_bool(0.2) {
        obj["metadata"]["annotations"] = json!({"note": text(rng)});
    }
    if rng.random_bool(0.1) {
        obj["metadata"]["finalizers"] = json!([FINALIZERS[0]]);
    }
    let fields = match kind {
        Kind::ConfigMap => config_map_fields(rng),
        Kind::Secret => secret_fields(rng),
        Kind::Service => service_fields(rng),
        Kind::Deployment => workload_fields(rng, false),
        Kind::StatefulSet => workload_fields(rng, true),
        Kind::Sprocket => sprocket_fields(rng),
    };
    if let (Some(target), Value::Object(fields)) = (obj.as_object_mut(), fields) {
        target.extend(fields);
    }
    obj
}

fn config_map_fields<R: Rng>(rng: &mut R) -> Value {
    let mut v = json!({"data": {data_key(rng): text(rng)}});
    if rng.random_bool(0.15) {
        v["binaryData"] = json!({"bin": b64(b"\x00\x01binary")});
    }
    if rng.random_bool(0.15) {
        v["immutable"] = json!(rng.random_bool(0.5));
    }
    v
}

fn secret_fields<R: Rng>(rng: &mut R) -> Value {
    let mut v = json!({});
    match rng.random_range(0..4) {
        0 => v["data"] = json!({data_key(rng): b64(text(rng).as_bytes())}),
        1 => v["stringData"] = json!({data_key(rng): text(rng)}),
        2 => {
            v["data"] = json!({"k": b64(b"from-data")});
            v["stringData"] = json!({"k": "from-stringData"});
        }
        _ => v["data"] = json!({"k": "not base64!"}),
    }
    if rng.random_bool(0.3) {
        v["type"] = json!(["Opaque", "kubernetes.io/basic-auth", "example.com/custom"][rng.random_range(0..3)]);
    }
    if rng.random_bool(0.15) {
        v["immutable"] = json!(rng.random_bool(0.5));
    }
    v
}

fn port<R: Rng>(rng: &mut R) -> Value {
    let number = [80, 8080, 443][rng.random_range(0..3)];
    let mut p = json!({"name": "http", "port": number});
    match rng.random_range(0..4) {
        0 => p["targetPort"] = json!(8080),
        1 => p["targetPort"] = json!("http"),
        _ => {}
    }
    if rng.random_bool(0.3) {
        p["protocol"] = json!(["TCP", "UDP"][rng.random_range(0..2)]);
    }
    if rng.random_bool(0.05) {
        p["port"] = json!(70000);
    }
    p
}

fn service_fields<R: Rng>(rng: &mut R) -> Value {
    let mut spec = json!({"ports": [port(rng)], "selector": {"app": "a"}});
    match rng.random_range(0..5) {
        0 => spec["type"] = json!("NodePort"),
        1 => spec["clusterIP"] = json!("None"),
        2 => spec["type"] = json!("ClusterIP"),
        _ => {}
    }
    if rng.random_bool(0.1) {
        spec["sessionAffinity"] = json!("ClientIP");
    }
    json!({"spec": spec})
}

/// A container with resources drawn from the quantity pool.
pub fn container<R: Rng>(rng: &mut R) -> Value {
    let mut c = json!({"name": "main", "image": "nginx:1.27"});
    if rng.random_bool(0.6) {
        c["resources"] = json!({"limits": {"cpu": quantity(rng), "memory": quantity(rng)}});
        if rng.random_bool(0.5) {
            c["resources"]["requests"] = json!({"cpu": quantity(rng)});
        }
    }
    if rng.random_bool(0.4) {
        c["ports"] = json!([{"containerPort": 8080, "name": "http"}]);
    }
    if rng.random_bool(0.3) {
        c["env"] = json!([{"name": "MODE", "value": "fast"}]);
    }
    c
}

fn workload_fields<R: Rng>(rng: &mut R, stateful: bool) -> Value {
    let app = if rng.random_bool(0.9) { "a" } else { "b" };
    let mut spec = json!({
        "selector": {"matchLabels": {"app": "a"}},
        "template": {
            "metadata": {"labels": {"app": app}},
            "spec": {"containers": [container(rng)]}
        }
    });
    if rng.random_bool(0.7) {
        spec["replicas"] = json!([0, 1, 3, -1][rng.random_range(0..4)]);
    }
    if stateful {
        spec["serviceName"] = json!("svc-0");
    }
    json!({"spec": spec})
}

fn sprocket_fields<R: Rng>(rng: &mut R) -> Value {
    let mut spec = json!({});
    if rng.random_bool(0.8) {
        spec["size"] = json!([0, 3, 100, -1, 101][rng.random_range(0..5)]);
    }
    if rng.random_bool(0.1) {
        spec["size"] = json!("3");
    }
    if rng.random_bool(0.5) {
        spec["mode"] = json!(["fast", "slow", "bogus"][rng.random_range(0..3)]);
    }
    if rng.random_bool(0.4) {
        spec["port"] = [json!(8080), json!("http"), json!("8080")][rng.random_range(0..3)].clone();
    }
    if rng.random_bool(0.3) {
        spec["note"] = [json!(null), json!("hello"), json!("")][rng.random_range(0..3)].clone();
    }
    if rng.random_bool(0.3) {
        spec["tags"] = [json!(["a", "b"]), json!(["a"]), json!(["a", "a"])][rng.random_range(0..3)].clone();
    }
    if rng.random_bool(0.3) {
        spec["items"] = json!([{"name": "x", "value": 1}, {"name": "y"}]);
    }
    if rng.random_bool(0.2) {
        spec["unknownField"] = json!({"pruned": true});
    }
    if rng.random_bool(0.2) {
        spec["cpu"] = quantity(rng);
    }
    let mut v = json!({"spec": spec});
    if rng.random_bool(0.2) {
        v["status"] = json!({"phase": "Ready"});
    }
    v
}

/// A status for the kind (for replace_status), drawn from plausible values.
pub fn status<R: Rng>(rng: &mut R, kind: Kind) -> Value {
    match kind {
        Kind::Deployment | Kind::StatefulSet => {
            json!({"replicas": rng.random_range(0..3), "observedGeneration": 1})
        }
        Kind::Service => json!({"loadBalancer": {"ingress": [{"ip": "10.0.0.1"}]}}),
        Kind::Sprocket => [
            json!({"phase": "Ready", "ready": 1}),
            json!({"phase": 3}),
            json!({"ready": null}),
        ][rng.random_range(0..3)]
        .clone(),
        Kind::ConfigMap | Kind::Secret => json!({"phase": "x"}),
    }
}

/// The `Sprocket` CRD: a structural schema with bounds, an enum with a default, int-or-string,
/// a nullable field, a set list, a map list keyed by `name`, a quantity, and pruning.
pub fn sprocket_crd() -> Object {
    let schema = json!({
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {
                    "size": {"type": "integer", "minimum": 0, "maximum": 100},
                    "mode": {"type": "string", "enum": ["fast", "slow"], "default": "fast"},
                    "port": {"x-kubernetes-int-or-string": true},
                    "note": {"type": "string", "nullable": true},
                    "tags": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
                    "items": {
                        "type": "array",
                        "x-kubernetes-list-type": "map",
                        "x-kubernetes-list-map-keys": ["name"],
                        "items": {
                            "type": "object",
                            "required": ["name"],
                            "properties": {"name": {"type": "string"}, "value": {"type": "integer"}}
                        }
                    },
                    "cpu": {
                        "x-kubernetes-int-or-string": true,
                        "anyOf": [{"type": "integer"}, {"type": "string"}]
                    }
                }
            },
            "status": {
                "type": "object",
                "properties": {"phase": {"type": "string"}, "ready": {"type": "integer"}}
            }
        }
    });
    let value = json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("sprockets.{GROUP}")},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {"plural": "sprockets", "singular": "sprocket", "kind": "Sprocket", "listKind": "SprocketList"},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": schema},
                "subresources": {"status": {}}
            }]
        }
    });
    // The literal always carries apiVersion and kind.
    Object::from_value(value).unwrap_or_default()
}

/// The smallest valid object of `kind` named `name` (watch markers).
pub fn minimal(kind: Kind) -> Value {
    let t = kind.type_ref();
    let mut v = json!({"apiVersion": t.api_version, "kind": t.kind, "metadata": {}});
    let fields = match kind {
        Kind::ConfigMap | Kind::Secret | Kind::Sprocket => json!({}),
        Kind::Service => json!({"spec": {"ports": [{"port": 80}]}}),
        Kind::Deployment | Kind::StatefulSet => json!({"spec": {
            "selector": {"matchLabels": {"app": "marker"}},
            "template": {"metadata": {"labels": {"app": "marker"}},
                         "spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]}}
        }}),
    };
    if let (Some(target), Value::Object(fields)) = (v.as_object_mut(), fields) {
        target.extend(fields);
    }
    if kind == Kind::StatefulSet {
        v["spec"]["serviceName"] = json!("svc-0");
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_alphabet_and_padding() {
        assert_eq!(b64(b"v"), "dg==");
        assert_eq!(b64(b"ab"), "YWI=");
        assert_eq!(b64(b"abc"), "YWJj");
    }

    #[test]
    fn crd_names_the_sprocket_kind() {
        let crd = sprocket_crd();
        assert_eq!(crd.name(), "sprockets.differential.operator-runtime.io");
        assert_eq!(crd.body["spec"]["names"]["kind"], Kind::Sprocket.to_string());
    }
}
