//! The field manager: `metadata.managedFields` bookkeeping, pure over [`Object`] (no store
//! state), as `k8s.io/apimachinery/pkg/util/managedfields` and structured-merge-diff's
//! `merge.Updater` do it. [`record_update`] records the `Update` entry of a non-apply write;
//! [`apply`] merges a server-side apply configuration into the stored object, with ownership,
//! conflicts, force and removal of dropped fields (see [`crate::apply`]).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{FieldsV1, ManagedFieldsEntry, ObjectMeta, Time};
use operator_runtime_core::fields_v1::{View, with_view};
use operator_runtime_core::store::{KindInfo, StoreResult};
use operator_runtime_core::{Object, StatusCause, StoreError};
use serde_json::{Map, Value, json};

use crate::fieldpath::{
    ChangeSink, Comparison, FieldSet, FieldsBuilder, Node, Path, compare, compare_into, config_text, decode_view,
    display, drop_emptied, encode_text, in_subtrees, merge_owned, object_config_text, remove_items, to_field_set,
    with_named_ancestors, without_subtrees,
};

const APPLY: &str = "Apply";
const UPDATE: &str = "Update";

/// Paths no manager ever owns (`stripMetaManager`).
pub(crate) const STRIPPED: &[&[&str]] = &[
    &["apiVersion"],
    &["kind"],
    &["metadata"],
    &["metadata", "name"],
    &["metadata", "namespace"],
    &["metadata", "creationTimestamp"],
    &["metadata", "selfLink"],
    &["metadata", "uid"],
    &["metadata", "clusterName"],
    &["metadata", "generation"],
    &["metadata", "managedFields"],
    &["metadata", "resourceVersion"],
];

fn is_stripped(p: &[String]) -> bool {
    STRIPPED
        .iter()
        .any(|s| p.len() == s.len() && p.iter().zip(s.iter()).all(|(a, b)| a == b))
}

fn strip(mut set: FieldSet) -> FieldSet {
    set.retain(|p| !is_stripped(p));
    set
}

/// The strategy's `GetResetFields`: the subtrees a write to the main resource (`None`) or to
/// the status subresource leaves alone, and which are therefore nobody's in that write.
fn reset_fields(info: &KindInfo, custom: bool, subresource: Option<&str>) -> &'static [&'static [&'static str]] {
    if !info.status_subresource {
        return &[];
    }
    match subresource {
        Some("status") if custom => &[&["metadata"], &["spec"]],
        Some("status") if info.type_ref.kind == "Deployment" && info.type_ref.group() == "apps" => {
            &[&["spec"], &["metadata", "labels"]]
        }
        Some("status") => &[&["spec"]],
        _ => &[&["status"]],
    }
}

/// The shapes of [`zero_object`]: kinds with the same zero value share one.
#[derive(Clone, Copy)]
enum Zero {
    Custom,
    Deployment,
    StatefulSet,
    DaemonSet,
    ReplicaSet,
    Pod,
    Service,
    MetadataOnly,
    WithSpecAndStatus,
    Job,
    CronJob,
    Claim,
    Ingress,
    NetworkPolicy,
    DisruptionBudget,
    Autoscaler,
    RoleBinding,
    Role,
    SpecOnly,
}

/// Every [`Zero`], in declaration order (the index of [`ZERO_PARTS`]).
const ZEROS: [Zero; 19] = [
    Zero::Custom,
    Zero::Deployment,
    Zero::StatefulSet,
    Zero::DaemonSet,
    Zero::ReplicaSet,
    Zero::Pod,
    Zero::Service,
    Zero::MetadataOnly,
    Zero::WithSpecAndStatus,
    Zero::Job,
    Zero::CronJob,
    Zero::Claim,
    Zero::Ingress,
    Zero::NetworkPolicy,
    Zero::DisruptionBudget,
    Zero::Autoscaler,
    Zero::RoleBinding,
    Zero::Role,
    Zero::SpecOnly,
];

fn zero_of(info: &KindInfo, custom: bool) -> Zero {
    let t = &info.type_ref;
    if custom {
        return Zero::Custom;
    }
    match (t.group(), t.kind.as_str()) {
        ("apps", "Deployment") => Zero::Deployment,
        ("apps", "StatefulSet") => Zero::StatefulSet,
        ("apps", "DaemonSet") => Zero::DaemonSet,
        ("apps", "ReplicaSet") => Zero::ReplicaSet,
        ("", "Pod") => Zero::Pod,
        ("", "Service") => Zero::Service,
        ("", "PersistentVolumeClaim") => Zero::Claim,
        ("batch", "Job") => Zero::Job,
        ("batch", "CronJob") => Zero::CronJob,
        ("networking.k8s.io", "Ingress") => Zero::Ingress,
        ("networking.k8s.io", "NetworkPolicy") => Zero::NetworkPolicy,
        ("policy", "PodDisruptionBudget") => Zero::DisruptionBudget,
        ("autoscaling", "HorizontalPodAutoscaler") => Zero::Autoscaler,
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => Zero::RoleBinding,
        ("coordination.k8s.io", "Lease") | ("", "LimitRange") => Zero::SpecOnly,
        ("rbac.authorization.k8s.io", "Role" | "ClusterRole") => Zero::Role,
        ("", "ConfigMap" | "Secret" | "ServiceAccount" | "Endpoints" | "Event") => Zero::MetadataOnly,
        _ => Zero::WithSpecAndStatus,
    }
}

/// The JSON of the Go zero value of a shape (`scope.Creater.New`), whose non-omitempty struct
/// fields are present (so a create does not own `spec` itself, but owns `metadata.labels` as
/// a whole).
fn zero_value(zero: Zero) -> Map<String, Value> {
    let value = match zero {
        Zero::Custom => json!({}),
        Zero::Deployment => json!({"metadata": {}, "spec": {"selector": null,
            "template": {"metadata": {}, "spec": {"containers": null}}, "strategy": {}}, "status": {}}),
        Zero::StatefulSet => json!({"metadata": {}, "spec": {"selector": null,
            "template": {"metadata": {}, "spec": {"containers": null}}, "serviceName": "",
            "updateStrategy": {}}, "status": {"replicas": 0}}),
        Zero::DaemonSet => json!({"metadata": {}, "spec": {"selector": null,
            "template": {"metadata": {}, "spec": {"containers": null}}, "updateStrategy": {}}, "status": {}}),
        Zero::ReplicaSet => json!({"metadata": {}, "spec": {"selector": null,
            "template": {"metadata": {}, "spec": {"containers": null}}}, "status": {"replicas": 0}}),
        Zero::Pod => json!({"metadata": {}, "spec": {"containers": null}, "status": {}}),
        Zero::Service => json!({"metadata": {}, "spec": {}, "status": {"loadBalancer": {}}}),
        Zero::MetadataOnly => json!({"metadata": {}}),
        Zero::WithSpecAndStatus => json!({"metadata": {}, "spec": {}, "status": {}}),
        Zero::Job => json!({"metadata": {}, "spec": {
            "template": {"metadata": {}, "spec": {"containers": null}}}, "status": {}}),
        Zero::CronJob => json!({"metadata": {}, "spec": {"schedule": "", "jobTemplate": {"metadata": {},
            "spec": {"template": {"metadata": {}, "spec": {"containers": null}}}}}, "status": {}}),
        Zero::Claim => json!({"metadata": {}, "spec": {"resources": {}}, "status": {}}),
        Zero::Ingress => json!({"metadata": {}, "spec": {}, "status": {"loadBalancer": {}}}),
        // NetworkPolicy has had no status since 1.28; its pod selector is a struct.
        Zero::NetworkPolicy => json!({"metadata": {}, "spec": {"podSelector": {}}}),
        Zero::DisruptionBudget => json!({"metadata": {}, "spec": {}, "status": {
            "disruptionsAllowed": 0, "currentHealthy": 0, "desiredHealthy": 0, "expectedPods": 0}}),
        Zero::Autoscaler => json!({"metadata": {}, "spec": {"scaleTargetRef": {"kind": "", "name": ""},
            "maxReplicas": 0}, "status": {"desiredReplicas": 0}}),
        Zero::RoleBinding => json!({"metadata": {}, "roleRef": {"apiGroup": "", "kind": "", "name": ""}}),
        Zero::Role => json!({"metadata": {}, "rules": null}),
        Zero::SpecOnly => json!({"metadata": {}, "spec": {}}),
    };
    match value {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// The object a write is compared against when there is none yet: the zero value of the kind
/// (a copy of the one built once).
fn zero_object(info: &KindInfo, custom: bool) -> Map<String, Value> {
    let (body, metadata) = zero_parts(info, custom);
    let mut zero = body.clone();
    zero.extend(metadata.iter().map(|(k, v)| (k.clone(), v.clone())));
    zero
}

/// A zero value as the body and `{"metadata": ...}`.
type ZeroParts = (Map<String, Value>, Map<String, Value>);

/// Each shape's zero value split into the body and `{"metadata": ...}` (empty when the zero
/// value has no metadata), built once: every create compares against one.
static ZERO_PARTS: LazyLock<[ZeroParts; ZEROS.len()]> = LazyLock::new(|| {
    ZEROS.map(|zero| {
        let mut body = zero_value(zero);
        let metadata = body.remove_entry("metadata").into_iter().collect();
        (body, metadata)
    })
});

/// [`zero_object`] split as in [`ZERO_PARTS`]: the body and `{"metadata": ...}`.
fn zero_parts(info: &KindInfo, custom: bool) -> (&'static Map<String, Value>, &'static Map<String, Value>) {
    // `ZEROS` lists every shape in declaration order, so the discriminant is the index.
    let (body, metadata) = &ZERO_PARTS[zero_of(info, custom) as usize];
    (body, metadata)
}

/// The typed object of a write omits empty `omitempty` metadata maps and lists (`labels: {}`
/// is no label at all), so they are never owned; `managedFields` is never owned either.
fn drop_empty_metadata(object: &mut Map<String, Value>) {
    if let Some(Value::Object(meta)) = object.get_mut("metadata") {
        // Never owned (stripped): not worth comparing.
        meta.remove("managedFields");
        meta.retain(|_, v| match v {
            Value::Object(m) => !m.is_empty(),
            Value::Array(a) => !a.is_empty(),
            Value::Null => false,
            _ => true,
        });
    }
}

/// A field set as the server stores it: `fieldsV1` as its JSON text (Go's `FieldsV1.Raw`),
/// one allocation instead of a B-tree node per map.
fn stored(fields: &FieldSet) -> Value {
    Value::String(encode_text(fields))
}

/// A `fieldsV1` tree as the JSON text it is stored as.
fn as_text(tree: &Value) -> Value {
    Value::String(tree.to_string())
}

fn entry_fields(entry: &ManagedFieldsEntry) -> FieldSet {
    entry
        .fields_v1
        .as_ref()
        .and_then(|f| with_view(&f.0, decode_view))
        .unwrap_or_default()
}

fn is_entry_of(e: &ManagedFieldsEntry, manager: &str, operation: &str, subresource: Option<&str>) -> bool {
    e.manager.as_deref() == Some(manager)
        && e.operation.as_deref() == Some(operation)
        && e.subresource.as_deref().filter(|s| !s.is_empty()) == subresource
}

/// Records a non-apply write (create, update, patch, status update) by `manager` in
/// `new.metadata.managedFields`, as the API server's field manager does for `operation: Update`:
/// the fields this write added or changed (compared with the stored object, or with the kind's
/// zero value on create) become the manager's, and every other manager loses them; removed
/// fields are nobody's. A write that changes nothing leaves managedFields alone.
/// `subresource` is `Some("status")` for status writes.
pub(crate) fn record_update(
    info: &KindInfo,
    schema: Option<&Value>,
    old: Option<&Object>,
    new: &mut Object,
    manager: &str,
    subresource: Option<&str>,
    now: Time,
) {
    let custom = schema.is_some();
    let node = Node::root(&info.type_ref, schema);
    let reset = reset_fields(info, custom, subresource);
    let Some(old) = old else {
        // A create (or an unmanaged object seeded before its first apply): its callers clear
        // managedFields first (every field is the creator's), so there is no other entry to
        // take fields from and the entry is what the create added, built straight into
        // `fieldsV1`.
        let fields = fields_of_create(info, custom, new, &node, reset);
        new.metadata.managed_fields = fields.map(|fields| {
            vec![ManagedFieldsEntry {
                api_version: Some(info.type_ref.api_version.clone()),
                fields_type: Some("FieldsV1".into()),
                fields_v1: Some(FieldsV1(as_text(&fields))),
                manager: Some(manager.to_owned()),
                operation: Some(UPDATE.into()),
                subresource: subresource.map(str::to_owned),
                time: Some(now),
            }]
        });
        return;
    };
    // `skipNonAppliedManager`: an update of an object without managedFields (emptied by a
    // client, or by an apply that owns nothing) is not tracked; only a create or an apply
    // starts the bookkeeping again.
    if new.metadata.managed_fields.as_ref().is_none_or(Vec::is_empty) {
        return;
    }
    // A write that changes no owned field (the common no-op) needs no serialization at all.
    let (a, b) = (&old.metadata, &new.metadata);
    if old.body == new.body
        && a.labels == b.labels
        && a.annotations == b.annotations
        && a.finalizers == b.finalizers
        && a.owner_references == b.owner_references
        && a.generate_name == b.generate_name
    {
        return;
    }
    let cmp = compare_with_stored(old, new, &node);
    let mut changed = cmp.added;
    changed.extend(cmp.modified);
    let changed = without_subtrees(changed, reset);
    let removed = without_subtrees(cmp.removed, reset);
    if changed.is_empty() && removed.is_empty() {
        return;
    }
    if removed.is_empty() && touch_own_entry(info, new, &changed, manager, subresource, &now) {
        return;
    }
    let mine_now = strip(changed.clone());
    // The entry, what it keeps, and whether that is less than it had (a subset: sizes tell).
    let mut previous: Option<(ManagedFieldsEntry, FieldSet, bool)> = None;
    let mut managed = Vec::new();
    for e in new.metadata.managed_fields.take().into_iter().flatten() {
        let owned = entry_fields(&e);
        let kept: FieldSet = owned
            .iter()
            .filter(|p| !changed.contains(*p) && !removed.contains(*p))
            .cloned()
            .collect();
        if is_entry_of(&e, manager, UPDATE, subresource) {
            let shrunk = kept.len() != owned.len();
            previous = Some((e, kept, shrunk));
            continue;
        }
        if kept.is_empty() {
            continue;
        }
        let mut e = e;
        if kept.len() != owned.len() {
            e.fields_v1 = Some(FieldsV1(stored(&kept)));
        }
        managed.push(e);
    }
    match previous {
        _ if !mine_now.is_empty() => {
            let mut mine = mine_now;
            if let Some((_, kept, _)) = previous {
                mine.extend(kept);
            }
            managed.push(ManagedFieldsEntry {
                api_version: Some(info.type_ref.api_version.clone()),
                fields_type: Some("FieldsV1".into()),
                fields_v1: Some(FieldsV1(stored(&mine))),
                manager: Some(manager.to_owned()),
                operation: Some(UPDATE.into()),
                subresource: subresource.map(str::to_owned),
                time: Some(now),
            });
        }
        Some((mut e, kept, shrunk)) if !kept.is_empty() => {
            // Re-encoded only when it lost fields (parsing the stored text again to compare
            // would cost as much as the write's own bookkeeping).
            if shrunk {
                e.fields_v1 = Some(FieldsV1(stored(&kept)));
            }
            managed.push(e);
        }
        _ => {}
    }
    new.metadata.managed_fields = (!managed.is_empty()).then_some(managed);
}

/// The comparison of an update with the stored object, without serializing either whole:
/// the bodies are compared in place, and metadata (only its ownable fields: the stripped ones
/// are nobody's, so they change no ownership) only when it differs.
fn compare_with_stored(old: &Object, new: &Object, node: &Node<'_>) -> Comparison {
    let mut cmp = compare(&old.body, &new.body, node);
    let (a, b) = (&old.metadata, &new.metadata);
    let same_metadata = a.labels == b.labels
        && a.annotations == b.annotations
        && a.finalizers == b.finalizers
        && a.owner_references == b.owner_references
        && a.generate_name == b.generate_name
        && a.deletion_timestamp == b.deletion_timestamp
        && a.deletion_grace_period_seconds == b.deletion_grace_period_seconds;
    if !same_metadata {
        cmp.absorb(compare(&ownable_metadata(a), &ownable_metadata(b), node));
    }
    cmp
}

/// The `fieldsV1` of a create's entry: the paths it added to (or changed from) the kind's
/// zero value, less the stripped and reset ones, as `encode` of their
/// comparison would give them. None when it owns nothing.
fn fields_of_create(info: &KindInfo, custom: bool, new: &Object, node: &Node<'_>, reset: &[&[&str]]) -> Option<Value> {
    let (zero, zero_metadata) = zero_parts(info, custom);
    let skip = |p: &[String]| is_stripped(p) || in_subtrees(p, reset);
    let mut builder = FieldsBuilder::new(skip);
    compare_into(zero, &new.body, node, &mut builder);
    if !add_string_maps(&new.metadata, node, &mut builder) {
        compare_into(zero_metadata, &ownable_metadata(&new.metadata), node, &mut builder);
    }
    builder.finish()
}

/// The create's metadata paths when its only ownable metadata are labels and annotations
/// (the common case), reported to `sink` as [`compare_into`] of the zero metadata (which has
/// none of them) with [`ownable_metadata`] would, without building that map. Returns false,
/// reporting nothing, when other ownable metadata is set and the full comparison is needed.
fn add_string_maps(meta: &ObjectMeta, node: &Node<'_>, sink: &mut impl ChangeSink) -> bool {
    let only_maps = meta.finalizers.as_ref().is_none_or(Vec::is_empty)
        && meta.owner_references.as_ref().is_none_or(Vec::is_empty)
        && meta.generate_name.is_none()
        && meta.deletion_timestamp.is_none()
        && meta.deletion_grace_period_seconds.is_none();
    let metadata = node.field("metadata");
    if !only_maps || metadata.atomic_map() {
        return false;
    }
    let mut path = vec!["metadata".to_owned(), String::new(), String::new()];
    for (name, map) in [("annotations", &meta.annotations), ("labels", &meta.labels)] {
        // An empty map is not ownable (`omitempty`), as `ownable_metadata` drops it.
        let Some(map) = map.as_ref().filter(|m| !m.is_empty()) else {
            continue;
        };
        path[1].clear();
        path[1].push_str(name);
        // A map the schema makes atomic is a leaf: owned whole, its keys not listed.
        if !metadata.field(name).atomic_map() {
            for key in map.keys() {
                path[2].clear();
                path[2].push_str(key);
                sink.on_added(&path);
            }
        }
        // Added as a whole (the zero metadata has no such map).
        sink.on_added(&path[..2]);
    }
    true
}

/// `{"metadata": {...}}` with the metadata fields a manager can own, empty ones left out.
fn ownable_metadata(meta: &ObjectMeta) -> Map<String, Value> {
    let mut out = Map::new();
    let mut put = |key: &str, value: Result<Value, serde_json::Error>| {
        if let Ok(v) = value
            && !v.is_null()
        {
            out.insert(key.to_owned(), v);
        }
    };
    // Built by hand where the JSON form is plain (what `to_value` gives, without going
    // through a serializer): this runs on every create and on updates that change metadata.
    let strings = |map: &Option<BTreeMap<String, String>>| {
        Ok(map.as_ref().map_or(Value::Null, |map| {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect())
        }))
    };
    put("labels", strings(&meta.labels));
    put("annotations", strings(&meta.annotations));
    put(
        "finalizers",
        Ok(meta.finalizers.as_ref().map_or(Value::Null, |f| {
            Value::Array(f.iter().cloned().map(Value::String).collect())
        })),
    );
    if meta.owner_references.is_some() {
        put("ownerReferences", serde_json::to_value(&meta.owner_references));
    }
    put(
        "generateName",
        Ok(meta.generate_name.clone().map_or(Value::Null, Value::String)),
    );
    if meta.deletion_timestamp.is_some() {
        put("deletionTimestamp", serde_json::to_value(&meta.deletion_timestamp));
    }
    put(
        "deletionGracePeriodSeconds",
        Ok(meta.deletion_grace_period_seconds.map_or(Value::Null, Value::from)),
    );
    let mut root = Map::new();
    root.insert("metadata".to_owned(), Value::Object(out));
    drop_empty_metadata(&mut root);
    root
}

/// Whether `fields` has `path` as a member, read in place (what [`decode_view`] would list,
/// without building the set).
fn owns(fields: &View<'_>, path: &[String]) -> bool {
    let mut node = fields;
    // One buffer for the `f:` keys of the whole path (this runs per changed field per entry).
    let mut key = String::new();
    for segment in path {
        let child = if segment.starts_with("k:") || segment.starts_with("v:") {
            node.get(segment)
        } else {
            key.clear();
            key.push_str("f:");
            key.push_str(segment);
            node.get(&key)
        };
        match child {
            Some(next) => node = next,
            None => return false,
        }
    }
    node.is_empty() || node.get(".").is_some()
}

/// The common steady-state write (a controller or user changing fields it already owns):
/// when the manager's `Update` entry already has every changed field, no other entry has any
/// of them and nothing was removed, ownership is unchanged and only the entry's time (and its
/// place, last) moves. Returns false, changing nothing, when the full bookkeeping is needed.
fn touch_own_entry(
    info: &KindInfo,
    new: &mut Object,
    changed: &FieldSet,
    manager: &str,
    subresource: Option<&str>,
    now: &Time,
) -> bool {
    let Some(entries) = new.metadata.managed_fields.as_mut() else {
        return false;
    };
    let Some(mine) = entries
        .iter()
        .position(|e| is_entry_of(e, manager, UPDATE, subresource))
    else {
        return false;
    };
    // A stripped path is in `changed` but never in an entry: it must not defeat the check.
    let mine_now: Vec<&Path> = changed.iter().filter(|p| !is_stripped(p)).collect();
    if mine_now.is_empty() {
        return false;
    }
    let owns_all = |e: &ManagedFieldsEntry| {
        e.fields_v1
            .as_ref()
            .and_then(|f| with_view(&f.0, |own| !own.is_empty() && mine_now.iter().all(|p| owns(own, p))))
            .unwrap_or(false)
    };
    if !owns_all(&entries[mine]) {
        return false;
    }
    let untouched = |e: &ManagedFieldsEntry| {
        e.fields_v1
            .as_ref()
            .and_then(|f| with_view(&f.0, |v| !v.is_empty() && !changed.iter().any(|p| owns(v, p))))
            .unwrap_or(false)
    };
    if !entries.iter().enumerate().all(|(i, e)| i == mine || untouched(e)) {
        return false;
    }
    let mut entry = entries.remove(mine);
    entry.api_version = Some(info.type_ref.api_version.clone());
    entry.time = Some(now.clone());
    entries.push(entry);
    true
}

/// The conflict error of an apply (`internal.NewConflictError`).
fn conflict_error(conflicts: Vec<(String, Path)>) -> StoreError {
    let causes: Vec<StatusCause> = conflicts
        .iter()
        .map(|(who, path)| StatusCause::new("FieldManagerConflict", display(path), format!("conflict with {who}")))
        .collect();
    let message = if let [(who, path)] = conflicts.as_slice() {
        format!("Apply failed with 1 conflict: conflict with {who}: {}", display(path))
    } else {
        let mut by_manager: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
        for (who, path) in &conflicts {
            by_manager
                .entry(who.as_str())
                .or_default()
                .push(format!("- {}", display(path)));
        }
        let lines: Vec<String> = by_manager
            .into_iter()
            .flat_map(|(who, paths)| std::iter::once(format!("conflicts with {who}:")).chain(paths))
            .collect();
        format!("Apply failed with {} conflicts: {}", conflicts.len(), lines.join("\n"))
    };
    StoreError::Conflict { message, causes }
}

/// How the server names a manager in a conflict (`printManager`).
fn print_manager(e: &ManagedFieldsEntry) -> String {
    let mut out = format!("{:?}", e.manager.as_deref().unwrap_or_default());
    if let Some(sub) = e.subresource.as_deref().filter(|s| !s.is_empty()) {
        out.push_str(&format!(" with subresource {sub:?}"));
    }
    if e.operation.as_deref() == Some(UPDATE) {
        out.push_str(&format!(" using {}", e.api_version.as_deref().unwrap_or_default()));
        if let Some(t) = &e.time {
            out.push_str(&format!(" at {}", t.0));
        }
    }
    out
}

/// Server-side apply of `applied` (already checked to name the target) by `manager` over the
/// stored `old` (None: the apply creates the object). Returns the object to write, with this
/// manager's `Apply` entry and the other managers' entries updated; conflicts are a 409 whose
/// causes name each field (none with `force`, which takes the fields over).
///
/// `subresource` is `Some("status")` for an apply to `/status`: the manager's entry for that
/// subresource is its own (its entry for the main resource is another manager's, as on the
/// server), and the fields the status strategy resets (`spec`, ...) are nobody's in it.
#[allow(clippy::too_many_arguments)]
pub(crate) fn apply(
    info: &KindInfo,
    schema: Option<&Value>,
    old: Option<&Object>,
    applied: Object,
    manager: &str,
    subresource: Option<&str>,
    force: bool,
    now: Time,
) -> StoreResult<Object> {
    let applied = match old {
        None => match create_by_apply(info, schema, applied, manager, subresource, now.clone()) {
            Ok(created) => return Ok(created),
            Err(applied) => *applied,
        },
        Some(_) => applied,
    };
    apply_with_sets(info, schema, old, applied, manager, subresource, force, now)
}

/// [`apply`] that creates its object, without the JSON of the configuration's metadata: the
/// entry's text is written from the typed metadata and the body, and only the body is merged
/// into the kind's zero value (the metadata merges into an empty one, which leaves it as it
/// is). The configuration back (`Err`, boxed: the rare path) when [`object_config_text`]
/// leaves it to the JSON, or when its metadata has two finalizers or owner references or more
/// (the merge of such a list keeps the first of two items with one key twice, which only the
/// JSON walk does).
fn create_by_apply(
    info: &KindInfo,
    schema: Option<&Value>,
    applied: Object,
    manager: &str,
    subresource: Option<&str>,
    now: Time,
) -> Result<Object, Box<Object>> {
    let custom = schema.is_some();
    let (zero_body, zero_metadata) = zero_parts(info, custom);
    let meta = &applied.metadata;
    let lists_of_two = meta.finalizers.as_ref().is_some_and(|f| f.len() >= 2)
        || meta.owner_references.as_ref().is_some_and(|r| r.len() >= 2);
    // The zero value's metadata is empty or absent: merged with it, the configuration's stays.
    let zero_metadata_empty = zero_metadata
        .get("metadata")
        .is_none_or(|m| m.as_object().is_some_and(Map::is_empty));
    if lists_of_two || !zero_metadata_empty {
        return Err(Box::new(applied));
    }
    let node = Node::root(&info.type_ref, schema);
    let reset = reset_fields(info, custom, subresource);
    let Some(text) = object_config_text(meta, &applied.body, &node, STRIPPED, reset) else {
        return Err(Box::new(applied));
    };
    let Object {
        api_version,
        kind,
        mut metadata,
        body,
    } = applied;
    let body = match merge_owned(Some(&Value::Object(zero_body.clone())), Value::Object(body), &node) {
        Some(Value::Object(body)) => body,
        _ => Map::new(),
    };
    metadata.managed_fields = (text != "{}").then(|| {
        vec![ManagedFieldsEntry {
            api_version: Some(info.type_ref.api_version.clone()),
            fields_type: Some("FieldsV1".into()),
            fields_v1: Some(FieldsV1(Value::String(text))),
            manager: Some(manager.to_owned()),
            operation: Some(APPLY.into()),
            subresource: subresource.map(str::to_owned),
            time: Some(now),
        }]
    });
    Ok(Object {
        api_version,
        kind,
        metadata,
        body,
    })
}

/// [`apply`] through the field sets: any apply, the one to use when the object exists.
#[allow(clippy::too_many_arguments)]
fn apply_with_sets(
    info: &KindInfo,
    schema: Option<&Value>,
    old: Option<&Object>,
    applied: Object,
    manager: &str,
    subresource: Option<&str>,
    force: bool,
    now: Time,
) -> StoreResult<Object> {
    let applied_rv = applied.metadata.resource_version.clone();
    let Ok(Value::Object(config)) = applied.into_value() else {
        return Err(StoreError::bad_request("an apply configuration must be an object"));
    };
    let custom = schema.is_some();
    let node = Node::root(&info.type_ref, schema);
    let reset = reset_fields(info, custom, subresource);
    // An apply that creates its object compares its set with no other entry: only the text
    // is needed, written straight from the configuration.
    let created_text = match old {
        None => config_text(&config, &node, STRIPPED, reset),
        Some(_) => None,
    };
    let config = Value::Object(config);
    let mut fields = FieldSet::new();
    if created_text.is_none() {
        to_field_set(&config, &node, &mut Path::new(), &mut fields);
        fields = strip(without_subtrees(fields, reset));
    }

    let live_value = match old.map(Object::to_value) {
        Some(Ok(v @ Value::Object(_))) => v,
        Some(_) => return Err(StoreError::backend("stored object does not serialize")),
        None => Value::Object(zero_object(info, custom)),
    };
    let Value::Object(live) = &live_value else {
        return Err(StoreError::backend("stored object does not serialize"));
    };

    // Every other entry, its field set, and that set's size as stored: sets only lose paths
    // below, so a smaller size is what says the entry must be written again.
    let mut others: Vec<(ManagedFieldsEntry, FieldSet, usize)> = Vec::new();
    let mut last = FieldSet::new();
    let mut own_entry = None;
    for e in old
        .and_then(|o| o.metadata.managed_fields.as_ref())
        .into_iter()
        .flatten()
    {
        if is_entry_of(e, manager, APPLY, subresource) {
            last = entry_fields(e);
            own_entry = Some(e.clone());
        } else {
            let fields = entry_fields(e);
            let stored_len = fields.len();
            others.push((e.clone(), fields, stored_len));
        }
    }

    let mut merged = merge_owned(Some(&live_value), config, &node).unwrap_or(Value::Object(Map::new()));
    let mut before_prune = None;
    // Prune: what this manager applied before and applies no more goes, unless a manager
    // (this one included) still owns it or something below it.
    if !last.is_empty() {
        let mut owned: FieldSet = fields.clone();
        for (_, set, _) in &others {
            owned.extend(set.iter().cloned());
        }
        let owned = with_named_ancestors(&owned);
        let to_remove: FieldSet = with_named_ancestors(&last)
            .into_iter()
            .filter(|p| p.as_slice() != ["metadata"] && !owned.contains(p))
            .collect();
        if !to_remove.is_empty() {
            let pruned =
                remove_items(&merged, &to_remove, &node, &mut Path::new()).unwrap_or(Value::Object(Map::new()));
            before_prune = Some(std::mem::replace(&mut merged, pruned));
        }
    }
    let Value::Object(mut merged_map) = merged else {
        return Err(StoreError::bad_request("applied object is invalid"));
    };

    // Other managers owning a field this apply adds or changes conflict; with force they
    // lose it. Removed fields leave every other manager (a field emptied by the prune is
    // null here, so it is not removed: only its members are).
    // Only other managers' entries need the comparison (a create by apply has none).
    let cmp = if others.is_empty() {
        Comparison::default()
    } else {
        compare(live, &merged_map, &node)
    };
    if let Some(before) = &before_prune {
        if custom {
            // A custom resource is not decoded into a type after the merge: a field the prune
            // emptied stays `null` for its schema to judge. Metadata is typed even there.
            if let (Some(meta), Some(before)) = (merged_map.get_mut("metadata"), before.get("metadata")) {
                drop_emptied(meta, before);
            }
        } else {
            let mut value = Value::Object(merged_map);
            drop_emptied(&mut value, before);
            let Value::Object(map) = value else {
                return Err(StoreError::bad_request("applied object is invalid"));
            };
            merged_map = map;
        }
    }
    let mut changed = cmp.added;
    changed.extend(cmp.modified);
    let changed = without_subtrees(changed, reset);
    let removed = without_subtrees(cmp.removed, reset);
    let mut conflicts = Vec::new();
    for (e, owned, _) in &mut others {
        let clashing: Vec<Path> = owned.iter().filter(|p| changed.contains(*p)).cloned().collect();
        if clashing.is_empty() {
            continue;
        }
        if force {
            for p in &clashing {
                owned.remove(p);
            }
        } else {
            let who = print_manager(e);
            conflicts.extend(clashing.into_iter().map(|p| (who.clone(), p)));
        }
    }
    if !conflicts.is_empty() {
        return Err(conflict_error(conflicts));
    }
    for (_, owned, _) in &mut others {
        owned.retain(|p| !removed.contains(p));
    }

    let mut new = Object::from_value(Value::Object(merged_map))
        .map_err(|e| StoreError::bad_request(format!("applied object is invalid: {e}")))?;
    let mut managed = Vec::new();
    let owns_fields = match &created_text {
        Some(text) => text != "{}",
        None => !fields.is_empty(),
    };
    if owns_fields {
        managed.push(match own_entry {
            Some(e) if last == fields => e,
            _ => ManagedFieldsEntry {
                api_version: Some(info.type_ref.api_version.clone()),
                fields_type: Some("FieldsV1".into()),
                fields_v1: Some(FieldsV1(match created_text {
                    Some(text) => Value::String(text),
                    None => stored(&fields),
                })),
                manager: Some(manager.to_owned()),
                operation: Some(APPLY.into()),
                subresource: subresource.map(str::to_owned),
                time: Some(now),
            },
        });
    }
    for (mut e, owned, stored_len) in others {
        if owned.is_empty() {
            continue;
        }
        if owned.len() != stored_len {
            e.fields_v1 = Some(FieldsV1(stored(&owned)));
        }
        managed.push(e);
    }
    // Keep the stored order of entries when nothing about ownership changed.
    if let Some(stored) = old.and_then(|o| o.metadata.managed_fields.as_ref())
        && stored.len() == managed.len()
        && stored.iter().all(|e| managed.contains(e))
    {
        managed.clone_from(stored);
    }
    new.metadata.managed_fields = (!managed.is_empty()).then_some(managed);
    new.metadata.resource_version = applied_rv;
    Ok(new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fieldpath::encode;
    use operator_runtime_core::TypeRef;
    use operator_runtime_core::clock::Timestamp;

    fn info(api_version: &str, kind: &str, status_subresource: bool) -> KindInfo {
        KindInfo {
            type_ref: TypeRef::new(api_version, kind),
            plural: String::new(),
            namespaced: true,
            status_subresource,
        }
    }

    fn now() -> Time {
        Time(Timestamp::UNIX_EPOCH)
    }

    fn object(value: Value) -> Object {
        Object::from_value(value).unwrap_or_else(|e| panic!("object: {e}"))
    }

    fn fields_of(o: &Object, manager: &str) -> Option<Value> {
        o.metadata
            .managed_fields
            .iter()
            .flatten()
            .find(|e| e.manager.as_deref() == Some(manager))
            .and_then(|e| e.fields_v1.as_ref())
            .and_then(|f| {
                assert!(f.0.is_string(), "stored as JSON text, as the server's FieldsV1.Raw");
                operator_runtime_core::fields_v1::tree(&f.0).map(std::borrow::Cow::into_owned)
            })
    }

    #[test]
    fn a_create_owns_added_maps_with_self_markers() {
        let info = info("v1", "ConfigMap", false);
        let mut new = object(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "namespace": "d", "labels": {"x": "1"}}, "data": {"k": "v"}}));
        record_update(&info, None, None, &mut new, "me", None, now());
        assert_eq!(
            fields_of(&new, "me"),
            Some(json!({"f:metadata": {"f:labels": {".": {}, "f:x": {}}}, "f:data": {".": {}, "f:k": {}}}))
        );
    }

    /// What a create's entry is by definition: `encode` of the comparison with the zero
    /// value (body and ownable metadata), less the stripped and reset paths.
    fn fields_by_comparison(info: &KindInfo, new: &Object, subresource: Option<&str>) -> Option<Value> {
        let node = Node::root(&info.type_ref, None);
        let reset = reset_fields(info, false, subresource);
        let mut zero = zero_object(info, false);
        let zero_metadata: Map<String, Value> = zero.remove_entry("metadata").into_iter().collect();
        let mut cmp = compare(&zero, &new.body, &node);
        cmp.absorb(compare(&zero_metadata, &ownable_metadata(&new.metadata), &node));
        let mut set: FieldSet = cmp.added.into_iter().chain(cmp.modified).collect();
        set.retain(|p| !p.is_empty() && !is_stripped(p) && !in_subtrees(p, reset));
        (!set.is_empty()).then(|| encode(&set))
    }

    #[test]
    fn a_create_entry_is_the_encoded_comparison_with_the_zero_value() {
        let bodies = [
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "d"}}),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "d",
                "labels": {"x": "1", "y": ""}, "annotations": {"n": "v"}}, "data": {"k": "v", "e": ""}}),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "d",
                "labels": {}, "annotations": {}, "finalizers": []}, "data": {}}),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "a-", "namespace": "d",
                "labels": {"x": "1"}, "finalizers": ["f/g"], "ownerReferences": [{"apiVersion": "v1",
                "kind": "Secret", "name": "s", "uid": "u"}]}}),
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a", "namespace": "d",
                "labels": {"app": "a"}}, "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "a"}},
                "template": {"metadata": {"labels": {"app": "a"}}, "spec": {"containers": [{"name": "a",
                "image": "x", "ports": [{"containerPort": 80}]}]}}}, "status": {"replicas": 1}}),
        ];
        for body in bodies {
            let mut new = object(body);
            let info = info(&new.api_version.clone(), &new.kind.clone(), new.kind == "Deployment");
            for subresource in [None, Some("status")] {
                let expected = fields_by_comparison(&info, &new, subresource);
                record_update(&info, None, None, &mut new, "me", subresource, now());
                let got = new.metadata.managed_fields.take().and_then(|mut entries| entries.pop());
                let got = got
                    .and_then(|e| e.fields_v1)
                    .and_then(|f| operator_runtime_core::fields_v1::tree(&f.0).map(std::borrow::Cow::into_owned));
                assert_eq!(got, expected, "{new:?}");
            }
        }
    }

    mod create_by_apply_props {
        use std::collections::BTreeMap;

        use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
        use proptest::prelude::*;

        use super::*;
        use crate::fieldpath::config_text_tests::{crd_schema, json_value, shaped};

        fn string_map() -> impl Strategy<Value = Option<BTreeMap<String, String>>> {
            prop::option::of(prop::collection::btree_map(
                prop::sample::select(vec!["a", "b", "app.kubernetes.io/name", "q\"", "k:x"]).prop_map(str::to_owned),
                prop::sample::select(vec!["", "1"]).prop_map(str::to_owned),
                0..3,
            ))
        }

        fn metadata() -> impl Strategy<Value = ObjectMeta> {
            (
                (string_map(), string_map()),
                prop::option::of(prop::collection::vec(
                    prop::sample::select(vec!["f/a", "f/b", "f\"q"]).prop_map(str::to_owned),
                    0..3,
                )),
                prop::option::of(prop::collection::vec(prop::sample::select(vec!["u1", "u2"]), 0..3)),
                (
                    any::<bool>(),
                    any::<bool>(),
                    any::<bool>(),
                    any::<bool>(),
                    any::<bool>(),
                    any::<bool>(),
                ),
            )
                .prop_map(|((labels, annotations), finalizers, owners, flags)| ObjectMeta {
                    name: Some("n".into()),
                    namespace: flags.0.then(|| "d".into()),
                    labels,
                    annotations,
                    finalizers,
                    owner_references: owners.map(|uids| {
                        uids.into_iter()
                            .enumerate()
                            .map(|(i, uid)| OwnerReference {
                                api_version: "v1".into(),
                                kind: "Secret".into(),
                                // Told apart when two have one uid.
                                name: format!("o{i}"),
                                uid: uid.into(),
                                controller: Some(true),
                                block_owner_deletion: None,
                            })
                            .collect()
                    }),
                    generate_name: flags.1.then(|| "g-".into()),
                    resource_version: flags.2.then(|| "7".into()),
                    uid: flags.3.then(|| "x".into()),
                    generation: flags.4.then_some(3),
                    deletion_grace_period_seconds: flags.5.then_some(0),
                    ..ObjectMeta::default()
                })
        }

        fn body() -> impl Strategy<Value = Map<String, Value>> {
            prop_oneof![
                shaped().prop_map(|mut m| {
                    m.remove("apiVersion");
                    m.remove("kind");
                    m.remove("metadata");
                    m
                }),
                prop::collection::btree_map(
                    prop::sample::select(vec!["spec", "status", "data", "a", "z"]).prop_map(str::to_owned),
                    json_value(),
                    0..4,
                )
                .prop_map(|m| m.into_iter().collect()),
            ]
        }

        const KINDS: [(&str, &str, bool); 6] = [
            ("apps/v1", "StatefulSet", true),
            ("apps/v1", "Deployment", true),
            ("v1", "Service", true),
            ("v1", "ConfigMap", false),
            ("v1", "Pod", true),
            ("example.com/v1", "Thing", true),
        ];

        proptest! {
            /// The create without the metadata's JSON is the apply through the sets, object for
            /// object, whenever it does not leave the configuration to it.
            #[test]
            fn a_create_by_apply_is_the_apply_through_the_sets(meta in metadata(), body in body()) {
                let schema = crd_schema();
                for (api_version, kind, status) in KINDS {
                    let info = info(api_version, kind, status);
                    let schema = (kind == "Thing").then_some(&schema);
                    let applied = Object { api_version: api_version.into(), kind: kind.into(), metadata: meta.clone(), body: body.clone() };
                    let through_sets = apply_with_sets(&info, schema, None, applied.clone(), "m", None, false, now());
                    if let Ok(created) = create_by_apply(&info, schema, applied, "m", None, now()) {
                        match through_sets {
                            Ok(expected) => prop_assert_eq!(created, expected, "{}", kind),
                            Err(e) => prop_assert!(false, "{}: the sets refused it: {}", kind, e),
                        }
                    }
                }
            }
        }

        #[test]
        fn a_childs_create_by_apply_takes_the_typed_path_for_every_kind() {
            for (api_version, kind, status) in KINDS.into_iter().filter(|k| k.1 != "Thing") {
                let info = info(api_version, kind, status);
                let meta = ObjectMeta {
                    name: Some("n".into()),
                    namespace: Some("d".into()),
                    labels: Some(BTreeMap::from([("app".into(), "a".into())])),
                    annotations: Some(BTreeMap::from([("h".into(), "1".into())])),
                    owner_references: Some(vec![OwnerReference {
                        api_version: "v1".into(),
                        kind: "Secret".into(),
                        name: "o".into(),
                        uid: "u".into(),
                        ..OwnerReference::default()
                    }]),
                    ..ObjectMeta::default()
                };
                let applied = Object {
                    api_version: api_version.into(),
                    kind: kind.into(),
                    metadata: meta,
                    body: Map::new(),
                };
                let created = create_by_apply(&info, None, applied, "m", None, now());
                assert!(created.is_ok(), "{kind}: left to the sets");
            }
        }
    }

    #[test]
    fn an_apply_owns_atomic_selectors_whole_and_conflicts_on_changed_fields() {
        let info = info("apps/v1", "Deployment", true);
        let body = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a", "namespace": "d"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "a"}}}});
        let first = apply(&info, None, None, object(body.clone()), "one", None, false, now())
            .unwrap_or_else(|e| panic!("apply: {e}"));
        assert_eq!(
            fields_of(&first, "one"),
            Some(json!({"f:spec": {"f:replicas": {}, "f:selector": {}}}))
        );
        let mut other = body;
        other["spec"]["replicas"] = json!(2);
        let err = apply(&info, None, Some(&first), object(other), "two", None, false, now())
            .err()
            .unwrap_or_else(|| panic!("no conflict"));
        assert_eq!(err.code(), 409);
    }
}
