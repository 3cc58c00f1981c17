//! Core (`v1`) kinds other than Pod and Service: Secret, PersistentVolumeClaim (also as a
//! StatefulSet claim template or an ephemeral volume's claim), Namespace
//! (`k8s.io/kubernetes/pkg/apis/core/v1/defaults.go`, 1.37.2), plus a new claim's protection
//! finalizer (admission) and a ServiceAccount's empty `omitempty` strings, which decoding
//! drops. ConfigMap has no defaults that show in JSON (`SetDefaults_ConfigMap` makes `data` an
//! empty map, which `omitempty` drops).

use k8s_openapi::ByteString;
use operator_runtime_core::Object;
use serde_json::{Value, json};

use super::fields::{Obj, default_nil, default_unset, object_mut};

/// `SetDefaults_Secret` (`type: Opaque`), and the v1 conversion that merges `stringData`
/// into `data` (base64; a `stringData` key wins) and never stores `stringData`.
pub(crate) fn secret(body: &mut Obj) {
    default_unset(body, "type", json!("Opaque"));
    let Some(string_data) = body.remove("stringData") else {
        return;
    };
    let Value::Object(string_data) = string_data else {
        return;
    };
    let Some(data) = object_mut(body, "data") else { return };
    for (key, value) in string_data {
        let Value::String(text) = value else { continue };
        // k8s-openapi's ByteString serializes as standard base64, as the API server encodes.
        if let Ok(encoded) = serde_json::to_value(ByteString(text.into_bytes())) {
            data.insert(key, encoded);
        }
    }
}

/// `SetObjectDefaults_PersistentVolumeClaim`: the spec's volumeMode and `status.phase: Pending`
/// (a read decodes the stored object with defaults again, so the phase shows even though the
/// create strategy clears status).
pub(crate) fn claim(body: &mut Obj) {
    if let Some(status) = object_mut(body, "status") {
        default_unset(status, "phase", json!("Pending"));
    }
    if let Some(spec) = object_mut(body, "spec") {
        claim_spec(spec);
    }
}

/// `SetDefaults_PersistentVolumeClaimSpec`: `volumeMode: Filesystem`.
pub(crate) fn claim_spec(spec: &mut Obj) {
    default_nil(spec, "volumeMode", json!("Filesystem"));
}

/// `SetDefaults_Namespace`: the `kubernetes.io/metadata.name` label, set on every write.
pub(crate) fn namespace_label(namespace: &mut Object) {
    let name = namespace.name().to_owned();
    if name.is_empty() {
        return;
    }
    namespace
        .metadata
        .labels
        .get_or_insert_with(Default::default)
        .insert("kubernetes.io/metadata.name".to_owned(), name);
}

/// The `kubernetes.io/pvc-protection` finalizer `StorageObjectInUseProtection` admission puts
/// on every new claim.
pub(crate) fn protect_claim(claim: &mut Object) {
    const PVC_PROTECTION: &str = "kubernetes.io/pvc-protection";
    let finalizers = claim.metadata.finalizers.get_or_insert_with(Vec::new);
    if !finalizers.iter().any(|f| f == PVC_PROTECTION) {
        finalizers.push(PVC_PROTECTION.to_owned());
    }
}

/// A ServiceAccount as the server decodes it: `LocalObjectReference.name` and every
/// `ObjectReference` field are `omitempty`, so empty strings do not survive.
pub(crate) fn service_account(body: &mut Obj) {
    for list in ["imagePullSecrets", "secrets"] {
        let Some(Value::Array(items)) = body.get_mut(list) else {
            continue;
        };
        for item in items.iter_mut().filter_map(Value::as_object_mut) {
            item.retain(|_, v| v.as_str() != Some(""));
        }
    }
}

/// The ServiceAccount strategy's `cleanSecretReferences` (`PrepareForCreate` and
/// `PrepareForUpdate`, after the field manager): each `secrets` entry keeps only its name.
pub(crate) fn clean_secret_references(body: &mut Obj) {
    let Some(Value::Array(secrets)) = body.get_mut("secrets") else {
        return;
    };
    for secret in secrets.iter_mut() {
        let name = secret
            .get("name")
            .filter(|n| n.as_str().is_some_and(|n| !n.is_empty()))
            .cloned();
        *secret = match name {
            Some(name) => json!({ "name": name }),
            None => json!({}),
        };
    }
}
