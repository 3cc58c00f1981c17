//! Secret: `stringData` folded into `data` at decode (`Convert_v1_Secret_To_core_Secret`, so
//! it is never stored), `data` values must be base64 (a decode error, 400), `type` immutable,
//! the `immutable: true` rules, and the keys each well-known type requires (`ValidateSecret`).

use k8s_openapi::ByteString;
use operator_runtime_core::store::StoreResult;
use operator_runtime_core::{Object, StoreError};
use serde_json::{Map, Value};

use super::KindHooks;
use super::core_kinds::{FIELD_IMMUTABLE, check_immutable, validate_config_keys};
use crate::validation::Causes;

/// The Secret hooks.
#[derive(Debug)]
pub(crate) struct SecretHooks;

/// `type` as stored; an omitted type is `Opaque` (`SetDefaults_Secret`).
fn secret_type(object: &Object) -> &str {
    object.body.get("type").and_then(Value::as_str).unwrap_or("Opaque")
}

fn decode_error(detail: &str) -> StoreError {
    StoreError::bad_request(format!(
        "Secret in version \"v1\" cannot be handled as a Secret: {detail}"
    ))
}

/// Decodes a base64 `data` value as the API server's JSON decoder does.
fn decode_bytes(value: &Value) -> StoreResult<Vec<u8>> {
    serde_json::from_value::<ByteString>(value.clone())
        .map(|b| b.0)
        .map_err(|e| decode_error(&format!("illegal base64 data: {e}")))
}

fn encode_bytes(bytes: Vec<u8>) -> Value {
    serde_json::to_value(ByteString(bytes)).unwrap_or(Value::Null)
}

impl KindHooks for SecretHooks {
    fn normalize(&self, object: &mut Object) -> StoreResult<()> {
        let mut data: Map<String, Value> = match object.body.remove("data") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(map)) => map,
            Some(_) => return Err(decode_error("data: expected a map")),
        };
        for value in data.values_mut() {
            // Round trip, so the stored form is canonical base64.
            *value = encode_bytes(decode_bytes(value)?);
        }
        match object.body.remove("stringData") {
            None | Some(Value::Null) => {}
            Some(Value::Object(strings)) => {
                for (key, value) in strings {
                    let Value::String(s) = value else {
                        return Err(decode_error("stringData: expected string values"));
                    };
                    data.insert(key, encode_bytes(s.into_bytes()));
                }
            }
            Some(_) => return Err(decode_error("stringData: expected a map")),
        }
        if !data.is_empty() {
            object.body.insert("data".into(), Value::Object(data));
        }
        Ok(())
    }

    fn validate(&self, object: &Object, causes: &mut Causes) {
        validate_config_keys(object, "data", causes);
        let data = object.body.get("data").and_then(Value::as_object);
        let has = |key: &str| data.is_some_and(|d| d.contains_key(key));
        let non_empty = |key: &str| {
            data.and_then(|d| d.get(key))
                .and_then(|v| decode_bytes(v).ok())
                .is_some_and(|b| !b.is_empty())
        };
        let json_ok = |key: &str| {
            data.and_then(|d| d.get(key))
                .and_then(|v| decode_bytes(v).ok())
                .is_some_and(|b| serde_json::from_slice::<Map<String, Value>>(&b).is_ok())
        };
        match secret_type(object) {
            "kubernetes.io/service-account-token" => {
                let named = object
                    .metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get("kubernetes.io/service-account.name"))
                    .is_some_and(|v| !v.is_empty());
                if !named {
                    causes.required("metadata.annotations[kubernetes.io/service-account.name]", "");
                }
            }
            "kubernetes.io/dockercfg" => json_key(causes, ".dockercfg", has(".dockercfg"), json_ok(".dockercfg")),
            "kubernetes.io/dockerconfigjson" => json_key(
                causes,
                ".dockerconfigjson",
                has(".dockerconfigjson"),
                json_ok(".dockerconfigjson"),
            ),
            "kubernetes.io/basic-auth" if !has("username") && !has("password") => {
                causes.required("data[username]", "");
                causes.required("data[password]", "");
            }
            "kubernetes.io/ssh-auth" if !non_empty("ssh-privatekey") => causes.required("data[ssh-privatekey]", ""),
            "kubernetes.io/tls" => {
                for key in ["tls.crt", "tls.key"] {
                    if !has(key) {
                        causes.required(&format!("data[{key}]"), "");
                    }
                }
            }
            _ => {}
        }
    }

    fn validate_update(&self, new: &Object, old: &Object, causes: &mut Causes) {
        let (new_type, old_type) = (secret_type(new), secret_type(old));
        if new_type != old_type {
            causes.invalid("type", new_type, FIELD_IMMUTABLE);
        }
        check_immutable(new, old, &["data"], causes);
        self.validate(new, causes);
    }
}

/// A required key holding JSON (`.dockercfg`, `.dockerconfigjson`).
fn json_key(causes: &mut Causes, key: &str, present: bool, valid_json: bool) {
    if !present {
        causes.required(&format!("data[{key}]"), "");
    } else if !valid_json {
        causes.invalid(&format!("data[{key}]"), "<secret contents redacted>", "invalid JSON");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use operator_runtime_core::TypeRef;
    use serde_json::json;

    fn secret(body: Value) -> Object {
        let mut o = Object::new(&TypeRef::new("v1", "Secret"), Some("ns"), "s");
        if let Value::Object(map) = body {
            o.body.extend(map);
        }
        o
    }

    #[test]
    fn string_data_is_folded_into_data_and_overrides_it() {
        let mut s = secret(json!({"data": {"a": "eA==", "b": "eQ=="}, "stringData": {"a": "z"}}));
        SecretHooks.normalize(&mut s).unwrap();
        assert_eq!(s.body.get("data"), Some(&json!({"a": "eg==", "b": "eQ=="})));
        assert!(!s.body.contains_key("stringData"));
    }

    #[test]
    fn bad_base64_is_a_bad_request() {
        let mut s = secret(json!({"data": {"a": "not base64!"}}));
        assert!(matches!(
            SecretHooks.normalize(&mut s),
            Err(StoreError::BadRequest { .. })
        ));
    }

    #[test]
    fn tls_secrets_need_both_keys() {
        let s = secret(json!({"type": "kubernetes.io/tls", "data": {"tls.crt": "eA=="}}));
        let mut causes = Causes::default();
        SecretHooks.validate(&s, &mut causes);
        let err = causes.into_result("Secret", "s").unwrap_err();
        assert_eq!(err.causes()[0].field, "data[tls.key]");
    }
}
