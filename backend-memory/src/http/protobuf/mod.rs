//! Protobuf request bodies, turned into the JSON object the rest of the server reads.
//! Client-go's typed clients (kubectl's `create deployment|service|job|...` generators among
//! them) send protobuf for built-in kinds and accept a JSON answer, so only request bodies are
//! decoded.
//!
//! The envelope is the API server's: the magic `k8s\0`, then a `runtime.Unknown` message whose
//! `typeMeta` names the kind and whose `raw` holds the object's message. The messages are
//! described by tables generated from the Kubernetes `generated.proto` files and the Go struct
//! tags of the served group versions (`messages.rs`, by `protobuf_gen`): field number, JSON
//! name, type, and whether the JSON form leaves its zero value out (`omitempty` on a
//! non-pointer scalar, which a protobuf body still carries). The apimachinery types with their
//! own JSON form are decoded as the Go types encode them: Time (RFC 3339 seconds, `null` when
//! zero), MicroTime (microseconds), Duration (Go's duration string), Quantity (its string),
//! IntOrString, RawExtension and FieldsV1 (the JSON they hold). A field not in a table is
//! skipped, as any protobuf decoder skips unknown fields. A kind of a group version the
//! server does not serve is refused with 415, naming it.

use k8s_openapi::jiff::Timestamp;
use operator_runtime_core::StoreError;
use serde_json::{Map, Value};

mod messages;

use messages::{MESSAGES, PACKAGES};

/// The four bytes that open every Kubernetes protobuf body.
const MAGIC: &[u8] = b"k8s\0";

/// How one field's value reads.
#[derive(Clone, Copy, Debug)]
enum Ty {
    Str,
    Bool,
    /// int32 and int64 (two's complement in a varint).
    Int,
    // No served group version has one today; `protobuf_gen` emits it where one does.
    #[allow(dead_code)]
    Double,
    /// `bytes`: base64 in JSON.
    Bytes,
    /// `metav1.Time`: seconds, RFC 3339; `null` when zero.
    Time,
    /// `metav1.MicroTime`: RFC 3339 with microseconds.
    MicroTime,
    /// `metav1.Duration`: nanoseconds, printed as Go's `time.Duration`.
    // No served group version has one today; `protobuf_gen` emits it where one does.
    #[allow(dead_code)]
    Duration,
    /// `runtime.RawExtension`, `metav1.FieldsV1`: the JSON they hold.
    Raw,
    /// `resource.Quantity`: its string.
    Quantity,
    /// `intstr.IntOrString`.
    IntOrString,
    /// A Go `[]string` wrapped in a message (`+protobuf.nullable=true`): its `items`.
    // No served group version has one today; `protobuf_gen` emits it where one does.
    #[allow(dead_code)]
    StrItems,
    /// A message: an index into [`MESSAGES`].
    Msg(usize),
}

/// How many values a field holds.
#[derive(Clone, Copy, Debug)]
enum Cardinality {
    One,
    Repeated,
    /// `map<string, V>`: entries with the key in field 1 and the value in field 2.
    Map,
    /// An embedded Go struct tagged `json:",inline"`: its fields are the parent's in JSON.
    Inline,
}

/// One field of a message.
#[derive(Debug)]
struct Field {
    number: u32,
    name: &'static str,
    ty: Ty,
    cardinality: Cardinality,
    /// A Go field whose zero value (a scalar's, or a zero Time's `null`) the JSON form leaves
    /// out: a non-pointer `omitempty` value, or `omitzero`.
    omit_zero: bool,
}

/// A [`Field`] (the generated tables' shorthand).
const fn field(number: u32, name: &'static str, ty: Ty, cardinality: Cardinality, omit_zero: bool) -> Field {
    Field {
        number,
        name,
        ty,
        cardinality,
        omit_zero,
    }
}

/// One message: its absolute protobuf name and fields.
#[derive(Debug)]
struct Message {
    name: &'static str,
    fields: &'static [Field],
}

/// The message of a kind (`apiVersion`, `kind`), if its group version is served here.
fn message_of(api_version: &str, kind: &str) -> Option<&'static Message> {
    let (_, package) = PACKAGES.iter().find(|(gv, _)| *gv == api_version)?;
    let name = format!("{package}.{kind}");
    let i = MESSAGES.binary_search_by(|m| m.name.cmp(name.as_str())).ok()?;
    MESSAGES.get(i)
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
    let message_table = message_of(&api_version, &kind).ok_or_else(|| StoreError::UnsupportedMediaType {
        message: format!("the memory API server has no protobuf message for {kind} ({api_version}): send JSON"),
    })?;
    let mut object = message(raw, message_table)?;
    object.insert("apiVersion".into(), Value::String(api_version));
    object.insert("kind".into(), Value::String(kind));
    Ok(Value::Object(object))
}

/// Decodes one message by its table.
fn message(bytes: &[u8], table: &Message) -> Result<Map<String, Value>, StoreError> {
    let mut out = Map::new();
    for item in Reader(bytes) {
        let (number, wire) = item?;
        let Some(field) = table.fields.iter().find(|f| f.number == number) else {
            continue;
        };
        let name = field.name;
        match field.cardinality {
            Cardinality::One => {
                let v = value(field.ty, wire, name)?;
                if field.omit_zero && is_zero(&v) {
                    out.remove(name);
                } else {
                    out.insert(name.into(), v);
                }
            }
            Cardinality::Repeated => match (field.ty, wire) {
                // A packed list of varints.
                (Ty::Int | Ty::Bool, Wire::Len(packed)) => {
                    let mut reader = Reader(packed);
                    while !reader.0.is_empty() {
                        let v = reader.varint()?;
                        push(&mut out, name, value(field.ty, Wire::Varint(v), name)?);
                    }
                }
                (ty, wire) => push(&mut out, name, value(ty, wire, name)?),
            },
            Cardinality::Inline => match value(field.ty, wire, name)? {
                Value::Object(fields) => out.extend(fields),
                _ => return Err(bad(&format!("inline field {name} is not a message"))),
            },
            Cardinality::Map => {
                let Wire::Len(entry) = wire else {
                    return Err(bad(&format!("map field {name} is not length-delimited")));
                };
                let (key, v) = map_entry(entry, field.ty, name)?;
                if let Value::Object(map) = out.entry(name).or_insert_with(|| Value::Object(Map::new())) {
                    map.insert(key, v);
                }
            }
        }
    }
    Ok(out)
}

/// A zero value (what `omitempty` and `omitzero` leave out of the JSON form): a scalar's, or
/// the zero Time's `null`.
fn is_zero(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        _ => false,
    }
}

/// One value of type `ty`.
fn value(ty: Ty, wire: Wire<'_>, name: &str) -> Result<Value, StoreError> {
    Ok(match (ty, wire) {
        (Ty::Str, Wire::Len(v)) => Value::String(utf8(v)?.to_owned()),
        (Ty::Bool, Wire::Varint(v)) => Value::Bool(v != 0),
        (Ty::Int, Wire::Varint(v)) => Value::from(v.cast_signed()),
        (Ty::Double, Wire::Fixed64(v)) => {
            serde_json::Number::from_f64(f64::from_bits(v)).map_or(Value::Null, Value::Number)
        }
        (Ty::Bytes, Wire::Len(v)) => base64(v),
        (Ty::Time, Wire::Len(v)) => time(v, false)?,
        (Ty::MicroTime, Wire::Len(v)) => time(v, true)?,
        (Ty::Duration, Wire::Len(v)) => {
            let nanos = scalar_fields(v)?.varint(1).map_or(0, u64::cast_signed);
            Value::String(go_duration(nanos))
        }
        (Ty::Raw, Wire::Len(v)) => match scalar_fields(v)?.bytes(1) {
            Some(raw) if !raw.is_empty() => {
                serde_json::from_slice(raw).map_err(|e| bad(&format!("field {name} does not hold JSON: {e}")))?
            }
            _ => Value::Null,
        },
        (Ty::Quantity, Wire::Len(v)) => {
            let fields = scalar_fields(v)?;
            Value::String(utf8(fields.bytes(1).unwrap_or_default())?.to_owned())
        }
        (Ty::IntOrString, Wire::Len(v)) => {
            let fields = scalar_fields(v)?;
            if fields.varint(1) == Some(1) {
                Value::String(utf8(fields.bytes(3).unwrap_or_default())?.to_owned())
            } else {
                Value::from(fields.varint(2).map_or(0, |i| i.cast_signed()))
            }
        }
        (Ty::StrItems, Wire::Len(v)) => {
            let mut items = Vec::new();
            for item in Reader(v) {
                if let (1, Wire::Len(s)) = item? {
                    items.push(Value::String(utf8(s)?.to_owned()));
                }
            }
            Value::Array(items)
        }
        (Ty::Msg(i), Wire::Len(v)) => {
            let inner = MESSAGES.get(i).ok_or_else(|| bad("message table out of range"))?;
            Value::Object(message(v, inner)?)
        }
        _ => return Err(bad(&format!("field {name} has the wrong wire type"))),
    })
}

/// The last varint and length-delimited payload of each field number of a small message
/// (the apimachinery types with their own JSON form).
struct ScalarFields<'a>(Vec<(u32, Wire<'a>)>);

impl<'a> ScalarFields<'a> {
    fn varint(&self, number: u32) -> Option<u64> {
        self.0.iter().rev().find_map(|(n, w)| match w {
            Wire::Varint(v) if *n == number => Some(*v),
            _ => None,
        })
    }
    fn bytes(&self, number: u32) -> Option<&'a [u8]> {
        self.0.iter().rev().find_map(|(n, w)| match w {
            Wire::Len(v) if *n == number => Some(*v),
            _ => None,
        })
    }
}

fn scalar_fields(bytes: &[u8]) -> Result<ScalarFields<'_>, StoreError> {
    Reader(bytes).collect::<Result<Vec<_>, _>>().map(ScalarFields)
}

/// `metav1.Time` (whole seconds; an empty message is the zero time, `null`) or
/// `metav1.MicroTime` (microseconds).
fn time(bytes: &[u8], micro: bool) -> Result<Value, StoreError> {
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    let fields = scalar_fields(bytes)?;
    let seconds = fields.varint(1).map_or(0, u64::cast_signed);
    let nanos = if micro {
        fields.varint(2).map_or(0, |n| n.cast_signed()) / 1_000 * 1_000
    } else {
        0
    };
    let at = i32::try_from(nanos)
        .ok()
        .and_then(|n| Timestamp::new(seconds, n).ok())
        .ok_or_else(|| bad("a time out of range"))?;
    let format = if micro {
        "%Y-%m-%dT%H:%M:%S%.6fZ"
    } else {
        "%Y-%m-%dT%H:%M:%SZ"
    };
    Ok(Value::String(at.strftime(format).to_string()))
}

/// Go's `time.Duration.String()`: `1h2m3.5s`, `1.5ms`, `0s`.
fn go_duration(nanos: i64) -> String {
    if nanos == 0 {
        return "0s".into();
    }
    let sign = if nanos < 0 { "-" } else { "" };
    let n = nanos.unsigned_abs();
    // Below a second: one unit with a fraction.
    let fraction = |value: u64, unit: u64, suffix: &str| {
        let whole = value / unit;
        let rest = value % unit;
        let digits = unit.ilog10() as usize;
        let frac = format!("{rest:0digits$}");
        let frac = frac.trim_end_matches('0');
        if frac.is_empty() {
            format!("{whole}{suffix}")
        } else {
            format!("{whole}.{frac}{suffix}")
        }
    };
    if n < 1_000 {
        return format!("{sign}{n}ns");
    }
    if n < 1_000_000 {
        return format!("{sign}{}", fraction(n, 1_000, "µs"));
    }
    if n < 1_000_000_000 {
        return format!("{sign}{}", fraction(n, 1_000_000, "ms"));
    }
    let hours = n / 3_600_000_000_000;
    let minutes = n / 60_000_000_000 % 60;
    let seconds = fraction(n % 60_000_000_000, 1_000_000_000, "s");
    match (hours, minutes) {
        (0, 0) => format!("{sign}{seconds}"),
        (0, m) => format!("{sign}{m}m{seconds}"),
        (h, m) => format!("{sign}{h}h{m}m{seconds}"),
    }
}

/// A map entry: key = 1, value = 2 (a missing value is the type's zero value).
fn map_entry(entry: &[u8], ty: Ty, name: &str) -> Result<(String, Value), StoreError> {
    let mut key = String::new();
    let mut v = None;
    for item in Reader(entry) {
        match item? {
            (1, Wire::Len(k)) => utf8(k)?.clone_into(&mut key),
            (2, wire) => v = Some(value(ty, wire, name)?),
            _ => {}
        }
    }
    let v = match (v, ty) {
        (Some(v), _) => v,
        (None, Ty::Quantity) => Value::String("0".into()),
        (None, Ty::Int) => Value::from(0),
        (None, Ty::Bool) => Value::Bool(false),
        (None, Ty::Msg(_)) => Value::Object(Map::new()),
        (None, _) => Value::String(String::new()),
    };
    Ok((key, v))
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

/// A field's payload by wire type.
#[derive(Clone, Copy)]
enum Wire<'a> {
    Varint(u64),
    Len(&'a [u8]),
    Fixed64(u64),
    Fixed32,
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
                    let bytes: [u8; 8] = self.take(8)?.try_into().map_err(|_| bad("truncated fixed64"))?;
                    Wire::Fixed64(u64::from_le_bytes(bytes))
                }
                2 => {
                    let len = self.varint()?;
                    Wire::Len(self.take(len)?)
                }
                5 => {
                    self.take(4)?;
                    Wire::Fixed32
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
    fn zeros_the_json_form_omits_are_dropped_and_pointer_zeros_kept() {
        // A Deployment as client-go sends it: `replicas` (a pointer) set to 0, the non-pointer
        // `omitempty` scalars `minReadySeconds` and `paused` at their zero values, a zero
        // creationTimestamp (an empty Time) and an empty `terminationMessagePath`.
        let mut meta = len_field(1, b"d");
        meta.extend(len_field(2, b""));
        meta.extend(len_field(8, b""));
        let mut container = len_field(1, b"app");
        container.extend(len_field(2, b"nginx"));
        container.extend(len_field(13, b""));
        let mut pod_spec = len_field(2, &container);
        pod_spec.extend(len_field(3, b"Always"));
        let mut template = len_field(1, &len_field(1, b""));
        template.extend(len_field(2, &pod_spec));
        let mut spec = varint(1 << 3);
        spec.extend(varint(0));
        spec.extend(len_field(3, &template));
        spec.extend(varint(5 << 3));
        spec.extend(varint(0));
        spec.extend(varint(7 << 3));
        spec.extend(varint(0));
        let mut raw = len_field(1, &meta);
        raw.extend(len_field(2, &spec));
        let decoded = decode(&envelope("apps/v1", "Deployment", &raw)).expect("decodes");
        assert_eq!(
            decoded,
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "d"},
                "spec": {"replicas": 0, "template": {"metadata": {}, "spec": {
                    "containers": [{"name": "app", "image": "nginx"}], "restartPolicy": "Always"}}}})
        );
    }

    #[test]
    fn apimachinery_types_read_as_their_json() {
        // A Service port's targetPort (IntOrString) as a string and as a number.
        let named = {
            let mut ios = varint(1 << 3);
            ios.extend(varint(1));
            ios.extend(len_field(3, b"http"));
            let mut port = varint(3 << 3);
            port.extend(varint(80));
            port.extend(len_field(4, &ios));
            port
        };
        let mut spec = len_field(1, &named);
        spec.extend(len_field(2, &map_entry_bytes("app", b"web")));
        let raw = len_field(2, &spec);
        let decoded = decode(&envelope("v1", "Service", &raw)).expect("decodes");
        assert_eq!(decoded["spec"]["ports"], json!([{"port": 80, "targetPort": "http"}]));
        assert_eq!(decoded["spec"]["selector"], json!({"app": "web"}));
        // A Time and a Duration.
        let mut time = varint(1 << 3);
        time.extend(varint(1_700_000_000));
        assert_eq!(super::time(&time, false).ok(), Some(json!("2023-11-14T22:13:20Z")));
        assert_eq!(super::time(&[], false).ok(), Some(Value::Null));
        assert_eq!(go_duration(90 * 60 * 1_000_000_000 + 500_000_000), "1h30m0.5s");
        assert_eq!(go_duration(1_500_000), "1.5ms");
        assert_eq!(go_duration(0), "0s");
    }

    fn map_entry_bytes(key: &str, value: &[u8]) -> Vec<u8> {
        let mut entry = len_field(1, key.as_bytes());
        entry.extend(len_field(2, value));
        entry
    }

    #[test]
    fn kinds_of_unserved_group_versions_and_broken_bodies_are_refused() {
        let class = decode(&envelope(
            "storage.k8s.io/v1",
            "StorageClass",
            &len_field(1, &len_field(1, b"s")),
        ));
        assert!(matches!(class, Err(StoreError::UnsupportedMediaType { message }) if message.contains("StorageClass")));
        assert!(matches!(decode(b"{}"), Err(StoreError::BadRequest { .. })));
        let mut truncated = envelope("v1", "ConfigMap", &len_field(1, &len_field(1, b"c")));
        truncated.pop();
        assert!(matches!(decode(&truncated), Err(StoreError::BadRequest { .. })));
    }
}
