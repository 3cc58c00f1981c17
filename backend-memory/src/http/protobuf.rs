//! Protobuf request bodies of the kinds kubectl's `create` generators send
//! (`kubectl create configmap|secret|namespace|serviceaccount`), turned into the JSON object the
//! rest of the server reads. Client-go's typed clients send protobuf for built-in kinds and
//! accept a JSON answer, so only request bodies are decoded.
//!
//! The envelope is the API server's: the magic `k8s\0`, then a `runtime.Unknown` message whose
//! `typeMeta` names the kind and whose `raw` holds the object's message. The messages are
//! described by field tables taken from the Kubernetes `generated.proto` files (field number,
//! JSON name, type); a field not in a table is skipped, as any protobuf decoder skips unknown
//! fields. A kind without a table is refused with 415, naming the kind.

use operator_runtime_core::StoreError;
use serde_json::{Map, Value};

/// The four bytes that open every Kubernetes protobuf body.
const MAGIC: &[u8] = b"k8s\0";

/// How one field of a message reads.
#[derive(Clone, Copy)]
enum Field {
    Str,
    Bool,
    Int,
    Message(&'static [(u32, &'static str, Field)]),
    RepeatedStr,
    RepeatedMessage(&'static [(u32, &'static str, Field)]),
    MapStr,
    /// `map<string, bytes>`: base64 values in JSON.
    MapBytes,
}

use Field::{Bool, Int, MapBytes, MapStr, Message, RepeatedMessage, RepeatedStr, Str};

const OWNER_REFERENCE: &[(u32, &str, Field)] = &[
    (1, "kind", Str),
    (3, "name", Str),
    (4, "uid", Str),
    (5, "apiVersion", Str),
    (6, "controller", Bool),
    (7, "blockOwnerDeletion", Bool),
];

/// `metav1.ObjectMeta` without the fields a client does not set on a write (timestamps,
/// managedFields): the server resets those anyway.
const OBJECT_META: &[(u32, &str, Field)] = &[
    (1, "name", Str),
    (2, "generateName", Str),
    (3, "namespace", Str),
    (5, "uid", Str),
    (6, "resourceVersion", Str),
    (7, "generation", Int),
    (10, "deletionGracePeriodSeconds", Int),
    (11, "labels", MapStr),
    (12, "annotations", MapStr),
    (13, "ownerReferences", RepeatedMessage(OWNER_REFERENCE)),
    (14, "finalizers", RepeatedStr),
];

const CONFIG_MAP: &[(u32, &str, Field)] = &[
    (1, "metadata", Message(OBJECT_META)),
    (2, "data", MapStr),
    (3, "binaryData", MapBytes),
    (4, "immutable", Bool),
];

const SECRET: &[(u32, &str, Field)] = &[
    (1, "metadata", Message(OBJECT_META)),
    (2, "data", MapBytes),
    (3, "type", Str),
    (4, "stringData", MapStr),
    (5, "immutable", Bool),
];

const NAMESPACE: &[(u32, &str, Field)] = &[
    (1, "metadata", Message(OBJECT_META)),
    (2, "spec", Message(&[(1, "finalizers", RepeatedStr)])),
];

const OBJECT_REFERENCE: &[(u32, &str, Field)] = &[
    (1, "kind", Str),
    (2, "namespace", Str),
    (3, "name", Str),
    (4, "uid", Str),
    (5, "apiVersion", Str),
    (6, "resourceVersion", Str),
    (7, "fieldPath", Str),
];

const SERVICE_ACCOUNT: &[(u32, &str, Field)] = &[
    (1, "metadata", Message(OBJECT_META)),
    (2, "secrets", RepeatedMessage(OBJECT_REFERENCE)),
    (3, "imagePullSecrets", RepeatedMessage(&[(1, "name", Str)])),
    (4, "automountServiceAccountToken", Bool),
];

/// The message table of a kind (`apiVersion`, `kind`), if it has one.
fn table_of(api_version: &str, kind: &str) -> Option<&'static [(u32, &'static str, Field)]> {
    match (api_version, kind) {
        ("v1", "ConfigMap") => Some(CONFIG_MAP),
        ("v1", "Secret") => Some(SECRET),
        ("v1", "Namespace") => Some(NAMESPACE),
        ("v1", "ServiceAccount") => Some(SERVICE_ACCOUNT),
        _ => None,
    }
}

/// Decodes a protobuf request body into the JSON object it stands for.
///
/// # Errors
/// `BadRequest` for a body that is not a well-formed Kubernetes protobuf envelope;
/// `UnsupportedMediaType` for a kind this server has no message table for.
pub(crate) fn decode(body: &[u8]) -> Result<Value, StoreError> {
    let envelope = body
        .strip_prefix(MAGIC)
        .ok_or_else(|| bad("the body does not start with the Kubernetes protobuf magic"))?;
    let mut api_version = String::new();
    let mut kind = String::new();
    let mut raw: &[u8] = &[];
    for item in Reader(envelope) {
        match item? {
            (1, Wire::Len(type_meta)) => {
                for inner in Reader(type_meta) {
                    match inner? {
                        (1, Wire::Len(v)) => api_version = utf8(v)?.to_owned(),
                        (2, Wire::Len(v)) => kind = utf8(v)?.to_owned(),
                        _ => {}
                    }
                }
            }
            (2, Wire::Len(bytes)) => raw = bytes,
            _ => {}
        }
    }
    let table = table_of(&api_version, &kind).ok_or_else(|| StoreError::UnsupportedMediaType {
        message: format!(
            "the memory API server decodes protobuf bodies of ConfigMap, Secret, Namespace and \
             ServiceAccount only, not {kind} ({api_version}): send JSON"
        ),
    })?;
    let mut object = message(raw, table)?;
    object.insert("apiVersion".into(), Value::String(api_version));
    object.insert("kind".into(), Value::String(kind));
    Ok(Value::Object(object))
}

/// Decodes one message by its table.
fn message(bytes: &[u8], table: &[(u32, &'static str, Field)]) -> Result<Map<String, Value>, StoreError> {
    let mut out = Map::new();
    for item in Reader(bytes) {
        let (number, wire) = item?;
        let Some(&(_, name, field)) = table.iter().find(|(n, _, _)| *n == number) else {
            continue;
        };
        match (field, wire) {
            (Str, Wire::Len(v)) => {
                out.insert(name.into(), Value::String(utf8(v)?.to_owned()));
            }
            (Bool, Wire::Varint(v)) => {
                out.insert(name.into(), Value::Bool(v != 0));
            }
            // int64 is two's complement in a varint.
            (Int, Wire::Varint(v)) => {
                out.insert(name.into(), Value::from(v.cast_signed()));
            }
            (Message(inner), Wire::Len(v)) => {
                out.insert(name.into(), Value::Object(message(v, inner)?));
            }
            (RepeatedStr, Wire::Len(v)) => push(&mut out, name, Value::String(utf8(v)?.to_owned())),
            (RepeatedMessage(inner), Wire::Len(v)) => push(&mut out, name, Value::Object(message(v, inner)?)),
            (MapStr | MapBytes, Wire::Len(entry)) => {
                let (key, value) = map_entry(entry, matches!(field, MapBytes))?;
                if let Value::Object(map) = out.entry(name).or_insert_with(|| Value::Object(Map::new())) {
                    map.insert(key, value);
                }
            }
            _ => return Err(bad(&format!("field {name} has the wrong wire type"))),
        }
    }
    Ok(out)
}

/// A map entry: key = 1, value = 2.
fn map_entry(entry: &[u8], bytes_value: bool) -> Result<(String, Value), StoreError> {
    let mut key = String::new();
    let mut value = Value::String(String::new());
    for item in Reader(entry) {
        match item? {
            (1, Wire::Len(k)) => utf8(k)?.clone_into(&mut key),
            (2, Wire::Len(v)) if bytes_value => value = base64(v),
            (2, Wire::Len(v)) => value = Value::String(utf8(v)?.to_owned()),
            _ => {}
        }
    }
    Ok((key, value))
}

fn push(out: &mut Map<String, Value>, name: &str, value: Value) {
    if let Value::Array(items) = out.entry(name).or_insert_with(|| Value::Array(Vec::new())) {
        items.push(value);
    }
}

/// `bytes` as JSON: base64, as k8s-openapi's `ByteString` writes it.
fn base64(bytes: &[u8]) -> Value {
    serde_json::to_value(k8s_openapi::ByteString(bytes.to_vec())).unwrap_or(Value::Null)
}

fn utf8(bytes: &[u8]) -> Result<&str, StoreError> {
    std::str::from_utf8(bytes).map_err(|_| bad("a string field is not UTF-8"))
}

fn bad(why: &str) -> StoreError {
    StoreError::bad_request(format!("cannot decode the protobuf body: {why}"))
}

/// A field's payload by wire type (fixed-width fields are skipped: no table uses them).
enum Wire<'a> {
    Varint(u64),
    Len(&'a [u8]),
    Fixed,
}

/// Iterates over the (field number, payload) pairs of a message.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Result<u64, StoreError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = self.0.split_first().ok_or_else(|| bad("truncated varint"))?;
            self.0 = rest;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(bad("varint longer than 10 bytes"))
    }

    fn take(&mut self, len: u64) -> Result<&'a [u8], StoreError> {
        let len = usize::try_from(len).map_err(|_| bad("length out of range"))?;
        if len > self.0.len() {
            return Err(bad("truncated field"));
        }
        let (head, rest) = self.0.split_at(len);
        self.0 = rest;
        Ok(head)
    }
}

impl<'a> Iterator for Reader<'a> {
    type Item = Result<(u32, Wire<'a>), StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.0.is_empty() {
            return None;
        }
        let item = (|| {
            let tag = self.varint()?;
            let number = u32::try_from(tag >> 3).map_err(|_| bad("field number out of range"))?;
            let wire = match tag & 7 {
                0 => Wire::Varint(self.varint()?),
                1 => {
                    self.take(8)?;
                    Wire::Fixed
                }
                2 => {
                    let len = self.varint()?;
                    Wire::Len(self.take(len)?)
                }
                5 => {
                    self.take(4)?;
                    Wire::Fixed
                }
                other => return Err(bad(&format!("unsupported wire type {other}"))),
            };
            Ok((number, wire))
        })();
        if item.is_err() {
            // A malformed body ends the iteration after its error.
            self.0 = &[];
        }
        Some(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Encodes a length-delimited field.
    fn len_field(number: u32, bytes: &[u8]) -> Vec<u8> {
        let mut out = varint(u64::from(number) << 3 | 2);
        out.extend(varint(bytes.len() as u64));
        out.extend_from_slice(bytes);
        out
    }

    fn varint(mut v: u64) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(byte);
                return out;
            }
            out.push(byte | 0x80);
        }
    }

    fn map_entry(number: u32, key: &str, value: &[u8]) -> Vec<u8> {
        let mut entry = len_field(1, key.as_bytes());
        entry.extend(len_field(2, value));
        len_field(number, &entry)
    }

    fn envelope(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
        let mut type_meta = len_field(1, api_version.as_bytes());
        type_meta.extend(len_field(2, kind.as_bytes()));
        let mut body = MAGIC.to_vec();
        body.extend(len_field(1, &type_meta));
        body.extend(len_field(2, raw));
        body
    }

    #[test]
    fn a_secret_reads_as_its_json() {
        let mut meta = len_field(1, b"s");
        meta.extend(len_field(3, b"ns"));
        meta.extend(map_entry(11, "app", b"x"));
        meta.extend(len_field(14, b"keep"));
        let mut raw = len_field(1, &meta);
        raw.extend(map_entry(2, "k", &[0xff, 0x00]));
        raw.extend(len_field(3, b"Opaque"));
        raw.extend(varint(5 << 3));
        raw.extend(varint(1));
        raw.extend(varint(99 << 3 | 5));
        raw.extend([0, 0, 0, 0]);
        let decoded = decode(&envelope("v1", "Secret", &raw)).expect("decodes");
        assert_eq!(
            decoded,
            json!({"apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": "s", "namespace": "ns", "labels": {"app": "x"}, "finalizers": ["keep"]},
                "data": {"k": "/wA="}, "type": "Opaque", "immutable": true})
        );
    }

    #[test]
    fn other_kinds_and_broken_bodies_are_refused() {
        let pod = decode(&envelope("v1", "Pod", &len_field(1, &len_field(1, b"p"))));
        assert!(matches!(pod, Err(StoreError::UnsupportedMediaType { message }) if message.contains("not Pod")));
        assert!(matches!(decode(b"{}"), Err(StoreError::BadRequest { .. })));
        let mut truncated = envelope("v1", "ConfigMap", &len_field(1, &len_field(1, b"c")));
        truncated.pop();
        assert!(matches!(decode(&truncated), Err(StoreError::BadRequest { .. })));
    }
}
