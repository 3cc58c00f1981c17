//! PersistentVolumeClaim: kube-apiserver 1.37.2's `ValidatePersistentVolumeClaim` on create,
//! `ValidatePersistentVolumeClaimUpdate` (the spec is immutable but for a first volume name,
//! a storage class set from nothing, and the size and attributes class of a bound claim) and
//! `ValidatePersistentVolumeClaimStatusUpdate`, with the strategy's data-source handling
//! (`DropDisabledFields`, `EnforceDataSourceBackwardsCompatibility`, `NormalizeDataSources`).
//! Values arrive defaulted (`volumeMode: Filesystem`) and with canonical quantities.

use std::cmp::Ordering;

use operator_runtime_core::Object;
use operator_runtime_core::quantity::Quantity;
use serde_json::{Map, Value, json};

use super::KindHooks;
use super::core_kinds::FIELD_IMMUTABLE;
use super::field_errors::{
    dns1123_label, dns1123_subdomain, invalid, invalid_raw, not_supported, qualified_name, required,
};
use super::label_selector::{selector_has_errors, validate_label_selector};
use crate::validation::Causes;

/// The storage class annotation that predates `spec.storageClassName`.
const BETA_STORAGE_CLASS: &str = "volume.beta.kubernetes.io/storage-class";
/// `supportedAccessModes`, sorted as `sets.List` prints them.
const ACCESS_MODES: &[&str] = &["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"];
/// `resizeStatusSet`, sorted.
const RESIZE_STATUSES: &[&str] = &[
    "ControllerResizeInProgress",
    "ControllerResizeInfeasible",
    "NodeResizeInProgress",
    "NodeResizeInfeasible",
    "NodeResizePending",
];

/// A non-null field of a JSON object.
fn get<'a>(value: Option<&'a Value>, key: &str) -> Option<&'a Value> {
    value.and_then(|v| v.get(key)).filter(|v| !v.is_null())
}

/// A string field, empty when absent.
fn text<'a>(value: Option<&'a Value>, key: &str) -> &'a str {
    get(value, key).and_then(Value::as_str).unwrap_or_default()
}

/// A quantity as stored (canonical text); None when absent or unparsable.
fn quantity(value: Option<&Value>) -> Option<Quantity> {
    value.and_then(Value::as_str).and_then(|s| Quantity::parse(s).ok())
}

/// The requested storage of a claim's spec (None stands for Go's zero Quantity).
fn requested_storage(spec: &Map<String, Value>) -> Option<Quantity> {
    quantity(get(get(spec.get("resources"), "requests"), "storage"))
}

/// The sign of a quantity, as its comparison with zero.
fn sign(q: &Quantity) -> Ordering {
    if q.is_zero() {
        Ordering::Equal
    } else if q.approximate_f64() < 0.0 {
        Ordering::Less
    } else {
        Ordering::Greater
    }
}

/// `Quantity.Cmp` where None is the zero Quantity.
fn cmp_quantities(a: Option<&Quantity>, b: Option<&Quantity>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => a.cmp_value(b),
        (Some(a), None) => sign(a),
        (None, Some(b)) => sign(b).reverse(),
        (None, None) => Ordering::Equal,
    }
}

/// `PersistentVolumeClaimSpecValidationOptions` that depend on the old claim (the others are
/// fixed by 1.37's locked feature gates: recovery from expansion failure and volume attributes
/// classes are on).
#[derive(Clone, Copy, Default)]
struct ClaimOptions {
    /// `AllowInvalidLabelValueInSelector`.
    invalid_label_values: bool,
    /// `AllowInvalidAPIGroupInDataSourceOrRef`.
    invalid_api_group: bool,
}

impl ClaimOptions {
    /// `ValidationOptionsForPersistentVolumeClaim` of an update of `old`.
    fn for_update(old: &Object) -> Self {
        let spec = old.body.get("spec");
        let has_group = |field: &str| get(get(spec, field), "apiGroup").is_some();
        Self {
            invalid_label_values: selector_has_errors(get(spec, "selector")),
            invalid_api_group: has_group("dataSource") || has_group("dataSourceRef"),
        }
    }
}

/// The PersistentVolumeClaim hooks.
#[derive(Debug)]
pub(crate) struct ClaimHooks;

impl KindHooks for ClaimHooks {
    fn prepare_for_create(&self, object: &mut Object) {
        if let Some(Value::Object(spec)) = object.body.get_mut("spec") {
            prepare_data_sources(spec, None);
        }
    }

    fn prepare_for_update(&self, new: &mut Object, old: &Object) {
        let old_spec = old.body.get("spec").and_then(Value::as_object);
        if let Some(Value::Object(spec)) = new.body.get_mut("spec") {
            prepare_data_sources(spec, Some(old_spec.unwrap_or(&Map::new())));
        }
    }

    /// `DropDisabledFieldsFromStatus`: `status.healthStatus` needs the `CSIVolumeHealth` gate
    /// (alpha, off) unless the old claim already had one.
    fn prepare_for_status_update(&self, new: &mut Object, old: &Object) {
        if get(old.body.get("status"), "healthStatus").is_none()
            && let Some(Value::Object(status)) = new.body.get_mut("status")
        {
            status.remove("healthStatus");
        }
    }

    /// `ValidatePersistentVolumeClaim`.
    fn validate(&self, object: &Object, causes: &mut Causes) {
        claim_spec(causes, object.body.get("spec"), ClaimOptions::default());
    }

    /// `ValidatePersistentVolumeClaimUpdate`.
    fn validate_update(&self, new: &Object, old: &Object, causes: &mut Causes) {
        claim_spec(causes, new.body.get("spec"), ClaimOptions::for_update(old));
        claim_update(causes, new, old);
    }

    /// `ValidatePersistentVolumeClaimStatusUpdate`.
    fn validate_status_update(&self, new: &Object, _old: &Object, causes: &mut Causes) {
        let spec = new.body.get("spec");
        if get(spec, "accessModes")
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty)
        {
            required(causes, "Spec.accessModes", "");
        }
        let status = new.body.get("status");
        for (name, value) in get(status, "capacity").and_then(Value::as_object).into_iter().flatten() {
            basic_resource(causes, quantity(Some(value)), &format!("status.capacity[{name}]"));
        }
        let statuses = get(status, "allocatedResourceStatuses").and_then(Value::as_object);
        for (key, value) in statuses.into_iter().flatten() {
            resource_key(causes, key, "status.allocatedResourceStatuses");
            if !RESIZE_STATUSES.contains(&value.as_str().unwrap_or_default()) {
                // Go reports the key, not the status, as the unsupported value.
                not_supported(causes, "status.allocatedResourceStatuses", key, RESIZE_STATUSES);
            }
        }
        let allocated = get(status, "allocatedResources").and_then(Value::as_object);
        for (key, value) in allocated.into_iter().flatten() {
            let mut key_errors = Causes::default();
            resource_key(&mut key_errors, key, "status.allocatedResources");
            if !key_errors.is_empty() {
                resource_key(causes, key, "status.allocatedResources");
                continue;
            }
            // A negative value fails `validateBasicResource`; `ValidateResourceQuantityValue`
            // would find the same.
            basic_resource(
                causes,
                quantity(Some(value)),
                &format!("status.allocatedResources[{key}]"),
            );
        }
    }
}

/// `validateBasicResource`: `Value()` (rounded away from zero) must not be negative.
fn basic_resource(causes: &mut Causes, value: Option<Quantity>, path: &str) {
    if let Some(value) = value
        && sign(&value) == Ordering::Less
    {
        let whole = value.approximate_f64().floor();
        invalid_raw(causes, path, &format!("{whole}"), "must be a valid resource quantity");
    }
}

/// `validatePersistentVolumeClaimResourceKey`: a qualified name, and `storage` among the
/// native resource names.
fn resource_key(causes: &mut Causes, key: &str, path: &str) {
    let msgs = qualified_name(key);
    if !msgs.is_empty() {
        for msg in msgs {
            invalid(causes, path, key, &msg);
        }
        return;
    }
    let native = !key.contains('/') || key.contains("kubernetes.io/");
    if native && key != "storage" {
        not_supported(causes, path, key, &["storage"]);
    }
}

/// `ValidatePersistentVolumeClaimSpec`.
fn claim_spec(causes: &mut Causes, spec: Option<&Value>, opts: ClaimOptions) {
    let modes: Vec<&str> = get(spec, "accessModes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|m| m.as_str().unwrap_or_default())
        .collect();
    if modes.is_empty() {
        required(causes, "spec.accessModes", "at least 1 access mode is required");
    }
    validate_label_selector(
        get(spec, "selector"),
        "spec.selector",
        opts.invalid_label_values,
        causes,
    );
    let (mut once_pod, mut others) = (false, false);
    for mode in &modes {
        if !ACCESS_MODES.contains(mode) {
            not_supported(causes, "spec.accessModes", mode, ACCESS_MODES);
        } else if *mode == "ReadWriteOncePod" {
            once_pod = true;
        } else {
            others = true;
        }
    }
    if once_pod && others {
        causes.forbidden(
            "spec.accessModes",
            "may not use ReadWriteOncePod with other access modes",
        );
    }
    let storage_path = "spec.resources[storage]";
    match get(get(get(spec, "resources"), "requests"), "storage") {
        None => required(causes, storage_path, ""),
        Some(value) => {
            if let Some(q) = quantity(Some(value))
                && sign(&q) != Ordering::Greater
            {
                invalid(causes, storage_path, &q.canonical(), "must be greater than zero");
            }
        }
    }
    for field in ["storageClassName", "volumeAttributesClassName"] {
        let class = text(spec, field);
        if !class.is_empty() {
            for msg in dns1123_subdomain(class) {
                invalid(causes, &format!("spec.{field}"), class, &msg);
            }
        }
    }
    if let Some(mode) = get(spec, "volumeMode").and_then(Value::as_str)
        && !matches!(mode, "Block" | "Filesystem")
    {
        not_supported(causes, "spec.volumeMode", mode, &["Block", "Filesystem"]);
    }
    let source = get(spec, "dataSource");
    let source_ref = get(spec, "dataSourceRef");
    if let Some(source) = source {
        data_source(causes, source, "spec.dataSource", opts.invalid_api_group);
    }
    if let Some(source_ref) = source_ref {
        data_source(causes, source_ref, "spec.dataSourceRef", opts.invalid_api_group);
        let namespace = text(Some(source_ref), "namespace");
        if !namespace.is_empty() {
            for msg in dns1123_label(namespace) {
                invalid(causes, "spec.dataSourceRef.namespace", namespace, &msg);
            }
        }
    }
    // The bad value is a field path, which JSON-encodes as an empty object.
    if !text(source_ref, "namespace").is_empty() {
        if source.is_some() {
            invalid_raw(
                causes,
                "spec",
                "{}",
                "may not be specified when dataSourceRef.namespace is specified",
            );
        }
    } else if let (Some(source), Some(source_ref)) = (source, source_ref) {
        let same = ["kind", "name"]
            .iter()
            .all(|k| text(Some(source), k) == text(Some(source_ref), k))
            && get(Some(source), "apiGroup") == get(Some(source_ref), "apiGroup");
        if !same {
            invalid_raw(causes, "spec", "{}", "must match dataSourceRef");
        }
    }
}

/// `validateDataSource` / `validateDataSourceRef` (the namespace is checked by the caller).
fn data_source(causes: &mut Causes, source: &Value, path: &str, invalid_api_group: bool) {
    let name = text(Some(source), "name");
    let kind = text(Some(source), "kind");
    if name.is_empty() {
        required(causes, &format!("{path}.name"), "");
    }
    if kind.is_empty() {
        required(causes, &format!("{path}.kind"), "");
    }
    let group = text(Some(source), "apiGroup");
    if group.is_empty() && kind != "PersistentVolumeClaim" {
        invalid(
            causes,
            path,
            kind,
            "must be 'PersistentVolumeClaim' when referencing the default apiGroup",
        );
    }
    if !group.is_empty() && !invalid_api_group {
        for msg in dns1123_subdomain(group) {
            invalid(causes, &format!("{path}.apiGroup"), group, &msg);
        }
    }
}

/// Go's `apiequality.Semantic.DeepEqual` of two decoded claim specs (or parts): absent, null,
/// empty lists and empty maps are all the same (nil and empty slices and maps are equal in
/// it; an empty string is not absent, `*string` fields), and the quantities under `resources`
/// compare by value.
fn semantic_eq(a: Option<&Value>, b: Option<&Value>) -> bool {
    semantic_eq_at(a, b, false)
}

/// [`semantic_eq`]; `quantities` is true under `resources`.
fn semantic_eq_at(a: Option<&Value>, b: Option<&Value>, quantities: bool) -> bool {
    let empty = |v: Option<&Value>| match v {
        None | Some(Value::Null) => true,
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(m)) => m.is_empty(),
        _ => false,
    };
    if empty(a) && empty(b) {
        return true;
    }
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => x
            .keys()
            .chain(y.keys())
            .all(|k| semantic_eq_at(x.get(k), y.get(k), quantities || k == "resources")),
        (Some(Value::Array(x)), Some(Value::Array(y))) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|(p, q)| semantic_eq_at(Some(p), Some(q), quantities))
        }
        (Some(Value::String(x)), Some(Value::String(y))) if quantities && x != y => {
            // Canonical quantities may still differ in format ("1Gi" and "1073741824").
            matches!((Quantity::parse(x), Quantity::parse(y)), (Ok(p), Ok(q)) if p.cmp_value(&q) == Ordering::Equal)
        }
        _ => a == b,
    }
}

/// The spec immutability and resize rules of `ValidatePersistentVolumeClaimUpdate`.
fn claim_update(causes: &mut Causes, new: &Object, old: &Object) {
    let empty = Map::new();
    let new_spec = new.body.get("spec").and_then(Value::as_object).unwrap_or(&empty);
    let mut old_spec = old
        .body
        .get("spec")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    // The strategy normalizes the old claim's data sources too before validating.
    normalize_data_sources(&mut old_spec);
    let mut new_clone = new_spec.clone();
    let mut old_clone = old_spec.clone();

    // The volume controller binds a claim by setting its volume name, once.
    if old_spec
        .get("volumeName")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        set(&mut old_clone, "volumeName", new_spec.get("volumeName"));
    }

    let annotation = |o: &Object| {
        o.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(BETA_STORAGE_CLASS))
            .cloned()
    };
    let (old_annotation, new_annotation) = (annotation(old), annotation(new));
    let class = |spec: &Map<String, Value>| spec.get("storageClassName").and_then(Value::as_str).map(str::to_owned);
    let (old_class, new_class) = (class(&old_spec), class(new_spec));
    let upgrade_from_annotation = old_annotation.is_some()
        && old_class.is_none()
        && new_class.is_some()
        && new_class == old_annotation
        && (new_annotation.is_none() || new_annotation == old_annotation);
    if upgrade_from_annotation {
        new_clone.remove("storageClassName");
    } else {
        let (new_value, old_value) = (
            new_annotation.clone().unwrap_or_default(),
            old_annotation.clone().unwrap_or_default(),
        );
        if new_value != old_value {
            invalid(
                causes,
                &format!("metadata.annotations.{BETA_STORAGE_CLASS}"),
                &new_value,
                FIELD_IMMUTABLE,
            );
        }
        // A class may be set on a claim that had none (matching the old annotation if any).
        let upgrade_from_nil =
            new_class.is_some() && old_class.is_none() && (old_annotation.is_none() || new_class == old_annotation);
        if upgrade_from_nil {
            set(
                &mut new_clone,
                "storageClassName",
                old_clone.get("storageClassName").cloned().as_ref(),
            );
        }
    }

    // The status of `new` is the stored one (a main write cannot change it).
    let bound = text(new.body.get("status"), "phase") == "Bound";
    if bound {
        // A bound claim may be resized: the old size stands in for the new one.
        let old_storage = get(get(old_spec.get("resources"), "requests"), "storage")
            .cloned()
            .unwrap_or_else(|| json!("0"));
        if let Some(Value::Object(requests)) = new_clone
            .get_mut("resources")
            .and_then(Value::as_object_mut)
            .and_then(|r| r.get_mut("requests"))
        {
            requests.insert("storage".into(), old_storage);
        }
        set(
            &mut new_clone,
            "volumeAttributesClassName",
            old_clone.get("volumeAttributesClassName").cloned().as_ref(),
        );
    }

    if !semantic_eq(Some(&Value::Object(new_clone)), Some(&Value::Object(old_clone))) {
        causes.forbidden(
            "spec",
            "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims",
        );
    }

    let new_size = requested_storage(new_spec);
    let old_size = requested_storage(&old_spec);
    let status_size = quantity(get(get(old.body.get("status"), "capacity"), "storage"));
    // Recovery from a failed expansion (locked on): shrinking is allowed down to above the
    // capacity in status.
    if cmp_quantities(new_size.as_ref(), old_size.as_ref()) == Ordering::Less
        && cmp_quantities(new_size.as_ref(), status_size.as_ref()) != Ordering::Greater
    {
        causes.forbidden(
            "spec.resources.requests.storage",
            "field can not be less than status.capacity",
        );
    }

    let (new_mode, old_mode) = (new_spec.get("volumeMode"), old_spec.get("volumeMode"));
    if !semantic_eq(new_mode, old_mode) {
        let shown = new_mode
            .filter(|v| !v.is_null())
            .map_or_else(|| "null".to_owned(), Value::to_string);
        invalid_raw(causes, "volumeMode", &shown, FIELD_IMMUTABLE);
    }

    let new_vac = new_spec.get("volumeAttributesClassName").filter(|v| !v.is_null());
    let old_vac = old_spec.get("volumeAttributesClassName").filter(|v| !v.is_null());
    let applied = get(old.body.get("status"), "currentVolumeAttributesClassName").is_some();
    if new_vac != old_vac && applied {
        match new_vac.and_then(Value::as_str) {
            None => causes.forbidden(
                "spec.volumeAttributesClassName",
                "update to nil is forbidden when status.currentVolumeAttributesClassName is not nil",
            ),
            Some("") => causes.forbidden(
                "spec.volumeAttributesClassName",
                "update to empty string is forbidden when status.currentVolumeAttributesClassName is not nil",
            ),
            Some(_) => {}
        }
    }
}

/// Sets `key` to `value`, or removes it for None.
fn set(map: &mut Map<String, Value>, key: &str, value: Option<&Value>) {
    match value {
        Some(v) => map.insert(key.to_owned(), v.clone()),
        None => map.remove(key),
    };
}

/// `DropDisabledFields` (a cross-namespace `dataSourceRef` is dropped: its gate is alpha, off,
/// unless the old claim had a `dataSourceRef`), `EnforceDataSourceBackwardsCompatibility` (a
/// `dataSource` other than a claim or a volume snapshot is dropped when there is no
/// `dataSourceRef`, unless the old claim had a data source) and `NormalizeDataSources`.
/// `old` is the old claim's spec on an update.
fn prepare_data_sources(spec: &mut Map<String, Value>, old: Option<&Map<String, Value>>) {
    let present = |m: &Map<String, Value>, k: &str| m.get(k).is_some_and(|v| !v.is_null());
    let cross_namespace = !text(spec.get("dataSourceRef"), "namespace").is_empty();
    if cross_namespace && !old.is_some_and(|o| present(o, "dataSourceRef")) {
        spec.remove("dataSourceRef");
    }
    let old_in_use = old.is_some_and(|o| present(o, "dataSource") || present(o, "dataSourceRef"));
    if !old_in_use && !present(spec, "dataSourceRef") {
        let source = spec.get("dataSource").filter(|v| !v.is_null());
        let kind = text(source, "kind");
        let group = text(source, "apiGroup");
        let known = (kind == "PersistentVolumeClaim" && group.is_empty())
            || (kind == "VolumeSnapshot" && group == "snapshot.storage.k8s.io");
        if !known {
            spec.remove("dataSource");
        }
    }
    normalize_data_sources(spec);
}

/// `NormalizeDataSources`: `dataSource` and `dataSourceRef` mirror each other when only one is
/// set (a cross-namespace reference has no `dataSource` counterpart).
fn normalize_data_sources(spec: &mut Map<String, Value>) {
    let source = spec.get("dataSource").filter(|v| !v.is_null()).cloned();
    let source_ref = spec.get("dataSourceRef").filter(|v| !v.is_null()).cloned();
    let copy = |from: &Value| {
        let mut out = Map::new();
        for key in ["apiGroup", "kind", "name"] {
            if let Some(v) = from.get(key).filter(|v| !v.is_null()) {
                out.insert(key.to_owned(), v.clone());
            }
        }
        // `kind` and `name` are plain strings in Go: the copy always has them.
        for key in ["kind", "name"] {
            out.entry(key).or_insert_with(|| json!(""));
        }
        Value::Object(out)
    };
    match (source, source_ref) {
        (Some(source), None) => {
            spec.insert("dataSourceRef".into(), copy(&source));
        }
        (None, Some(source_ref)) if text(Some(&source_ref), "namespace").is_empty() => {
            spec.insert("dataSource".into(), copy(&source_ref));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use operator_runtime_core::TypeRef;

    fn claim(spec: Value) -> Object {
        let mut o = Object::new(&TypeRef::new("v1", "PersistentVolumeClaim"), Some("ns"), "pvc-1");
        o.body.insert("spec".into(), spec);
        o
    }

    fn errors(causes: Causes) -> Vec<(String, String)> {
        match causes.into_result("PersistentVolumeClaim", "pvc-1") {
            Ok(()) => Vec::new(),
            Err(e) => e
                .causes()
                .iter()
                .map(|c| (c.field.clone(), c.message.clone()))
                .collect(),
        }
    }

    fn create(spec: Value) -> Vec<(String, String)> {
        let mut causes = Causes::default();
        ClaimHooks.validate(&claim(spec), &mut causes);
        errors(causes)
    }

    fn update(old: &Object, new: &Object) -> Vec<(String, String)> {
        let mut causes = Causes::default();
        ClaimHooks.validate_update(new, old, &mut causes);
        errors(causes)
    }

    fn valid_spec() -> Value {
        json!({"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}},
            "volumeMode": "Filesystem"})
    }

    #[test]
    fn access_modes_storage_and_modes() {
        assert!(create(valid_spec()).is_empty());
        let mut spec = valid_spec();
        spec["accessModes"] = json!(["Bogus"]);
        assert_eq!(
            create(spec),
            vec![(
                "spec.accessModes".to_owned(),
                "Unsupported value: \"Bogus\": supported values: \"ReadOnlyMany\", \"ReadWriteMany\", \"ReadWriteOnce\", \"ReadWriteOncePod\"".to_owned()
            )]
        );
        let mut spec = valid_spec();
        spec.as_object_mut().unwrap().remove("accessModes");
        assert_eq!(create(spec)[0].0, "spec.accessModes");
        let mut spec = valid_spec();
        spec["accessModes"] = json!(["ReadWriteOncePod", "ReadWriteOnce"]);
        assert_eq!(create(spec).len(), 1);
        for (storage, ok) in [("500m", true), ("0", false), ("-1", false)] {
            let mut spec = valid_spec();
            spec["resources"]["requests"]["storage"] = json!(storage);
            assert_eq!(create(spec).is_empty(), ok, "{storage}");
        }
        let mut spec = valid_spec();
        spec["resources"] = json!({});
        assert_eq!(
            create(spec),
            vec![("spec.resources[storage]".to_owned(), "Required value".to_owned())]
        );
        let mut spec = valid_spec();
        spec["volumeMode"] = json!("Bogus");
        spec["storageClassName"] = json!("Bad_Class");
        assert_eq!(create(spec).len(), 2);
        let mut spec = valid_spec();
        spec["storageClassName"] = json!("");
        spec["selector"] = json!({"matchLabels": {"tier": "fast"}});
        assert!(create(spec).is_empty());
    }

    #[test]
    fn data_sources() {
        let mut spec = valid_spec();
        spec["dataSource"] = json!({"kind": "Bucket", "name": ""});
        assert_eq!(create(spec).len(), 2);
        let mut object = claim(valid_spec());
        object.body["spec"]["dataSourceRef"] = json!({"kind": "PersistentVolumeClaim", "name": "src"});
        ClaimHooks.prepare_for_create(&mut object);
        assert_eq!(
            object.body["spec"]["dataSource"],
            json!({"kind": "PersistentVolumeClaim", "name": "src"})
        );
        object.body["spec"]["dataSource"] = json!({"kind": "Bucket", "apiGroup": "x.io", "name": "b"});
        object.body["spec"].as_object_mut().unwrap().remove("dataSourceRef");
        ClaimHooks.prepare_for_create(&mut object);
        assert!(object.body["spec"].get("dataSource").is_none());
    }

    #[test]
    fn spec_is_immutable_but_for_its_exceptions() {
        let old = claim(valid_spec());
        let mut new = old.clone();
        new.body["spec"]["accessModes"] = json!(["ReadOnlyMany"]);
        assert_eq!(update(&old, &new)[0].0, "spec");
        // An unbound claim cannot be resized.
        let mut new = old.clone();
        new.body["spec"]["resources"]["requests"]["storage"] = json!("2Gi");
        assert_eq!(update(&old, &new).len(), 1);
        // A bound one can grow, and shrink down to above its capacity.
        let mut bound = old.clone();
        bound.body.insert(
            "status".into(),
            json!({"phase": "Bound", "capacity": {"storage": "1Gi"}}),
        );
        let mut new = bound.clone();
        new.body["spec"]["resources"]["requests"]["storage"] = json!("2Gi");
        assert!(update(&bound, &new).is_empty());
        let mut new = bound.clone();
        new.body["spec"]["resources"]["requests"]["storage"] = json!("500Mi");
        assert_eq!(update(&bound, &new)[0].0, "spec.resources.requests.storage");
        let mut large = bound.clone();
        large.body["spec"]["resources"]["requests"]["storage"] = json!("3Gi");
        let mut new = large.clone();
        new.body["spec"]["resources"]["requests"]["storage"] = json!("2Gi");
        assert!(update(&large, &new).is_empty());
        // The volume name once; a class from none.
        let mut new = old.clone();
        new.body["spec"]["volumeName"] = json!("pv-1");
        new.body["spec"]["storageClassName"] = json!("other");
        assert!(update(&old, &new).is_empty());
        let mut again = new.clone();
        again.body["spec"]["volumeName"] = json!("pv-2");
        assert_eq!(update(&new, &again).len(), 1);
        let mut other_class = new.clone();
        other_class.body["spec"]["storageClassName"] = json!("third");
        assert_eq!(update(&new, &other_class).len(), 1);
        // Equal quantities in other formats are no change.
        let mut same = old.clone();
        same.body["spec"]["resources"]["requests"]["storage"] = json!("1073741824");
        assert!(update(&old, &same).is_empty());
        let mut block = old.clone();
        block.body["spec"]["volumeMode"] = json!("Block");
        let errs = update(&old, &block);
        assert_eq!(errs.len(), 2);
        assert_eq!(
            errs[1],
            (
                "volumeMode".to_owned(),
                "Invalid value: \"Block\": field is immutable".to_owned()
            )
        );
    }

    #[test]
    fn status_updates() {
        let old = claim(valid_spec());
        let mut new = old.clone();
        new.body.insert(
            "status".into(),
            json!({"phase": "Lost", "capacity": {"storage": "1Gi"}, "allocatedResources": {"storage": "1Gi"},
                "allocatedResourceStatuses": {"storage": "ControllerResizeInProgress"}}),
        );
        let mut causes = Causes::default();
        ClaimHooks.validate_status_update(&new, &old, &mut causes);
        assert!(causes.is_empty());
        let mut health = new.clone();
        health.body["status"]["healthStatus"] = json!({"healthConditions": []});
        ClaimHooks.prepare_for_status_update(&mut health, &old);
        assert_eq!(health.body, new.body);
        new.body.insert(
            "status".into(),
            json!({"capacity": {"storage": "-1"}, "allocatedResources": {"cpu": "1"},
                "allocatedResourceStatuses": {"storage": "Bogus"}}),
        );
        let mut causes = Causes::default();
        ClaimHooks.validate_status_update(&new, &old, &mut causes);
        let errs = errors(causes);
        assert_eq!(errs.len(), 3, "{errs:?}");
        assert_eq!(errs[0].1, "Invalid value: -1: must be a valid resource quantity");
    }
}
