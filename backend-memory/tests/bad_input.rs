//! Bad input, as a table: every row is a request a real API server rejects, with the status
//! code it rejects it with (and, for 422s, the field it names). Each row runs on a fresh
//! memory store and must (1) fail with that code and (2) leave the store exactly as it was:
//! same revision, same objects.
//!
//! Sources for the codes: `docs/apiserver-semantics.md`; the apiserver's
//! `handlers/patch.go` (JSON patch that does not decode -> 400, one that does not apply ->
//! 422, more than 10,000 operations -> 413, a patch that renames or moves the object -> 400
//! from `checkName`); `ValidateObjectMeta` for names, labels, annotations, finalizers and
//! ownerReferences (422); `labels.Parse` / `fields.ParseSelector` (400); the request body
//! limit (413).

use std::sync::Arc;

use futures::StreamExt;
use operator_runtime_core::clock::ManualClock;
use operator_runtime_core::model::OwnerReference;
use operator_runtime_core::store::{
    DeleteParams, ListParams, Patch, PatchParams, Preconditions, WatchParams, WriteParams,
};
use operator_runtime_core::{Object, ObjectList, ObjectRef, ObjectStore, StoreError, TypeRef};
use operator_runtime_memory::MemoryStore;
use serde_json::{Value, json};

const NS: &str = "ns";

fn configmap_type() -> TypeRef {
    TypeRef::new("v1", "ConfigMap")
}

fn widget_type() -> TypeRef {
    TypeRef::new("example.com/v1", "Widget")
}

fn configmap(name: &str) -> Object {
    Object::new(&configmap_type(), Some(NS), name).with("data", json!({ "key": "value" }))
}

fn widget(name: &str) -> Object {
    Object::new(&widget_type(), Some(NS), name).with("spec", json!({ "size": 1 }))
}

fn existing() -> ObjectRef {
    ObjectRef::namespaced(configmap_type(), NS, "existing")
}

fn with_labels(key: &str, value: &str) -> Object {
    let mut object = configmap("labelled");
    object.metadata.labels = Some([(key.to_owned(), value.to_owned())].into());
    object
}

fn with_annotation(key: &str) -> Object {
    let mut object = configmap("annotated");
    object.metadata.annotations = Some([(key.to_owned(), "x".to_owned())].into());
    object
}

fn owner(api_version: &str, kind: &str, name: &str, uid: &str, controller: bool) -> OwnerReference {
    OwnerReference {
        api_version: api_version.into(),
        kind: kind.into(),
        name: name.into(),
        uid: uid.into(),
        controller: Some(controller),
        block_owner_deletion: None,
    }
}

fn owned_by(refs: Vec<OwnerReference>) -> Object {
    let mut object = configmap("owned");
    object.metadata.owner_references = Some(refs);
    object
}

const UID: &str = "6f9619ff-8b86-d011-b42d-00c04fc964ff";

/// A ConfigMap whose data is `bytes` long.
fn sized(name: &str, bytes: usize) -> Object {
    Object::new(&configmap_type(), Some(NS), name).with("data", json!({ "blob": "x".repeat(bytes) }))
}

enum Request {
    Create(Object),
    Replace(Object),
    ReplaceStatus(Object),
    Patch(ObjectRef, Patch, PatchParams),
    Get(ObjectRef),
    List(TypeRef, ListParams),
    Watch(TypeRef, WatchParams),
    Delete(ObjectRef, DeleteParams),
}

struct Row {
    name: &'static str,
    request: Request,
    /// HTTP status code of the real API server's answer.
    code: u16,
    /// For 422: a cause whose field starts with this.
    field: Option<&'static str>,
}

fn row(name: &'static str, request: Request, code: u16) -> Row {
    Row {
        name,
        request,
        code,
        field: None,
    }
}

fn invalid(name: &'static str, request: Request, field: &'static str) -> Row {
    Row {
        name,
        request,
        code: 422,
        field: Some(field),
    }
}

fn json_patch(ops: Value) -> Request {
    Request::Patch(existing(), Patch::Json(ops), PatchParams::default())
}

fn list_labels(selector: &str) -> Request {
    Request::List(configmap_type(), ListParams::in_namespace(NS).labels(selector))
}

fn table() -> Vec<Row> {
    let long = "a".repeat(254);
    let long_label = "a".repeat(64);
    let too_many_ops: Vec<Value> = (0..10_001)
        .map(|_| json!({ "op": "add", "path": "/data/k", "value": "v" }))
        .collect();
    let mut with_rv = configmap("with-rv");
    with_rv.metadata.resource_version = Some("1".into());
    let mut widget_without_rv = widget("existing");
    widget_without_rv.metadata.resource_version = None;
    let mut bad_generate_name = configmap("");
    bad_generate_name.metadata.name = None;
    bad_generate_name.metadata.generate_name = Some("Bad_".into());
    let mut bad_finalizer = configmap("finalized");
    bad_finalizer.metadata.finalizers = Some(vec!["bad finalizer!".into()]);

    vec![
        // Names (DNS-1123 subdomain; DNS-1123 label for namespaces).
        invalid(
            "name with uppercase",
            Request::Create(configmap("Upper")),
            "metadata.name",
        ),
        invalid(
            "name with underscore",
            Request::Create(configmap("under_score")),
            "metadata.name",
        ),
        invalid(
            "name over 253 characters",
            Request::Create(configmap(&long)),
            "metadata.name",
        ),
        invalid(
            "empty name, no generateName",
            Request::Create(configmap("")),
            "metadata.name",
        ),
        invalid(
            "invalid generateName",
            Request::Create(bad_generate_name),
            "metadata.generateName",
        ),
        invalid(
            "custom resource with uppercase name",
            Request::Create(widget("Bad")),
            "metadata.name",
        ),
        invalid(
            "namespace name with a dot",
            Request::Create(Object::new(&TypeRef::new("v1", "Namespace"), None, "a.b")),
            "metadata.name",
        ),
        // Labels, annotations, finalizers.
        invalid(
            "label key with a space",
            Request::Create(with_labels("bad key", "v")),
            "metadata.labels",
        ),
        invalid(
            "label key starting with '-'",
            Request::Create(with_labels("-lead", "v")),
            "metadata.labels",
        ),
        invalid(
            "label key with uppercase prefix",
            Request::Create(with_labels("Example.com/x", "v")),
            "metadata.labels",
        ),
        invalid(
            "label key name over 63 characters",
            Request::Create(with_labels(&long_label, "v")),
            "metadata.labels",
        ),
        invalid(
            "label key with two slashes",
            Request::Create(with_labels("a/b/c", "v")),
            "metadata.labels",
        ),
        invalid(
            "label value with a space",
            Request::Create(with_labels("k", "bad value")),
            "metadata.labels",
        ),
        invalid(
            "label value over 63 characters",
            Request::Create(with_labels("k", &long_label)),
            "metadata.labels",
        ),
        invalid(
            "label value starting with '-'",
            Request::Create(with_labels("k", "-x")),
            "metadata.labels",
        ),
        invalid(
            "annotation key with a space",
            Request::Create(with_annotation("bad key")),
            "metadata.annotations",
        ),
        invalid(
            "finalizer that is not a qualified name",
            Request::Create(bad_finalizer),
            "metadata.finalizers",
        ),
        // Label selectors (labels.Parse -> 400).
        row("label selector with an unclosed set", list_labels("app in (a,b"), 400),
        row("label selector with two identifiers", list_labels("app web"), 400),
        row("label selector starting with '='", list_labels("=x"), 400),
        row("label selector with an invalid value", list_labels("app=-x"), 400),
        row(
            "label selector with an over-long key",
            list_labels(&format!("{long_label}=x")),
            400,
        ),
        row(
            "malformed label selector on a watch",
            Request::Watch(
                configmap_type(),
                WatchParams {
                    label_selector: Some("app in (a".into()),
                    ..WatchParams::default()
                },
            ),
            400,
        ),
        // Field selectors (only metadata.name / metadata.namespace are served here).
        row(
            "field selector on an unsupported ConfigMap field",
            Request::List(configmap_type(), ListParams::in_namespace(NS).fields("data.key=value")),
            400,
        ),
        row(
            "field selector on a custom resource's spec",
            Request::List(widget_type(), ListParams::in_namespace(NS).fields("spec.size=1")),
            400,
        ),
        row(
            "field selector without an operator",
            Request::List(configmap_type(), ListParams::in_namespace(NS).fields("metadata.name")),
            400,
        ),
        row(
            "unsupported field selector on a watch",
            Request::Watch(
                widget_type(),
                WatchParams {
                    field_selector: Some("status.phase=x".into()),
                    ..WatchParams::default()
                },
            ),
            400,
        ),
        // ownerReferences.
        invalid(
            "ownerReference with empty uid",
            Request::Create(owned_by(vec![owner("v1", "ConfigMap", "o", "", false)])),
            "metadata.ownerReferences",
        ),
        invalid(
            "ownerReference with empty name",
            Request::Create(owned_by(vec![owner("v1", "ConfigMap", "", UID, false)])),
            "metadata.ownerReferences",
        ),
        invalid(
            "ownerReference with empty kind",
            Request::Create(owned_by(vec![owner("v1", "", "o", UID, false)])),
            "metadata.ownerReferences",
        ),
        invalid(
            "ownerReference with empty apiVersion",
            Request::Create(owned_by(vec![owner("", "ConfigMap", "o", UID, false)])),
            "metadata.ownerReferences",
        ),
        invalid(
            "two controller ownerReferences",
            Request::Create(owned_by(vec![
                owner("v1", "ConfigMap", "o1", UID, true),
                owner("v1", "ConfigMap", "o2", "7f9619ff-8b86-d011-b42d-00c04fc964ff", true),
            ])),
            "metadata.ownerReferences",
        ),
        // JSON patch documents.
        row(
            "JSON patch that is an object, not an array",
            json_patch(json!({ "op": "add", "path": "/data/k", "value": "v" })),
            400,
        ),
        row("JSON patch of non-objects", json_patch(json!([1, 2])), 400),
        row(
            "JSON patch with an unknown op",
            json_patch(json!([{ "op": "frobnicate", "path": "/data/key" }])),
            422,
        ),
        row(
            "JSON patch replacing a missing path",
            json_patch(json!([{ "op": "replace", "path": "/data/missing", "value": "v" }])),
            422,
        ),
        row(
            "JSON patch removing a missing path",
            json_patch(json!([{ "op": "remove", "path": "/data/missing" }])),
            422,
        ),
        row(
            "JSON patch whose test fails",
            json_patch(json!([
                { "op": "test", "path": "/data/key", "value": "other" },
                { "op": "replace", "path": "/data/key", "value": "changed" }
            ])),
            422,
        ),
        row(
            "JSON patch with over 10,000 operations",
            json_patch(Value::Array(too_many_ops)),
            413,
        ),
        row(
            "JSON patch renaming the object",
            json_patch(json!([{ "op": "replace", "path": "/metadata/name", "value": "renamed" }])),
            400,
        ),
        row(
            "merge patch moving the object to another namespace",
            Request::Patch(
                existing(),
                Patch::Merge(json!({ "metadata": { "namespace": "other" } })),
                PatchParams::default(),
            ),
            400,
        ),
        // Size.
        row(
            "create of an object over 1.5 MiB",
            Request::Create(sized("big", 1_600 * 1024)),
            413,
        ),
        row(
            "create of an object over the 3 MiB request limit",
            Request::Create(sized("huge", 3_200 * 1024)),
            413,
        ),
        row(
            "replace growing an object over 1.5 MiB",
            Request::Replace(sized("existing", 1_600 * 1024)),
            413,
        ),
        row(
            "merge patch growing an object over 1.5 MiB",
            Request::Patch(
                existing(),
                Patch::Merge(json!({ "data": { "blob": "x".repeat(1_600 * 1024) } })),
                PatchParams::default(),
            ),
            413,
        ),
        // Unknown kinds (and known kinds at an unserved version).
        row(
            "create of an unknown kind",
            Request::Create(Object::new(&TypeRef::new("example.com/v1", "Nope"), Some(NS), "x")),
            404,
        ),
        row(
            "get of an unknown kind",
            Request::Get(ObjectRef::namespaced(TypeRef::new("example.com/v1", "Nope"), NS, "x")),
            404,
        ),
        row(
            "list of an unknown kind",
            Request::List(TypeRef::new("example.com/v1", "Nope"), ListParams::default()),
            404,
        ),
        row(
            "watch of an unknown kind",
            Request::Watch(TypeRef::new("example.com/v1", "Nope"), WatchParams::default()),
            404,
        ),
        row(
            "delete of an unknown kind",
            Request::Delete(
                ObjectRef::namespaced(TypeRef::new("example.com/v1", "Nope"), NS, "x"),
                DeleteParams::default(),
            ),
            404,
        ),
        row(
            "Deployment at an unserved version",
            Request::Create(Object::new(&TypeRef::new("apps/v2", "Deployment"), Some(NS), "d")),
            404,
        ),
        // Namespaces and other request errors.
        row(
            "create in a namespace that does not exist",
            Request::Create(Object::new(&configmap_type(), Some("missing"), "x")),
            404,
        ),
        row("create with a resourceVersion set", Request::Create(with_rv), 500),
        invalid(
            "custom resource replace without a resourceVersion",
            Request::Replace(widget_without_rv),
            "metadata.resourceVersion",
        ),
        row(
            "status write to a kind without a status subresource",
            Request::ReplaceStatus(configmap("existing")),
            404,
        ),
        invalid(
            "server-side apply without a field manager",
            Request::Patch(
                existing(),
                Patch::Apply(
                    json!({ "apiVersion": "v1", "kind": "ConfigMap", "metadata": { "name": "existing", "namespace": NS } }),
                ),
                PatchParams::default(),
            ),
            "fieldManager",
        ),
        row(
            "delete with a mismatched uid precondition",
            Request::Delete(
                existing(),
                DeleteParams {
                    preconditions: Some(Preconditions {
                        uid: Some(UID.into()),
                        resource_version: None,
                    }),
                    ..DeleteParams::default()
                },
            ),
            409,
        ),
    ]
}

fn widget_crd() -> Object {
    Object::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": { "name": "widgets.example.com" },
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": { "kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList" },
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "subresources": { "status": {} },
                "schema": { "openAPIV3Schema": { "type": "object", "x-kubernetes-preserve-unknown-fields": true } }
            }]
        }
    }))
    .unwrap()
}

async fn setup() -> MemoryStore {
    let store = MemoryStore::builder()
        .seed(7)
        .clock(Arc::new(ManualClock::at_epoch()))
        .build();
    let params = WriteParams::default();
    store
        .create(&Object::new(&TypeRef::new("v1", "Namespace"), None, NS), &params)
        .await
        .unwrap();
    store.create(&widget_crd(), &params).await.unwrap();
    store.create(&configmap("existing"), &params).await.unwrap();
    store.create(&widget("existing"), &params).await.unwrap();
    store
}

/// Everything a client could observe: the revision and every object of the kinds in play.
async fn snapshot(store: &MemoryStore) -> (u64, Vec<ObjectList>) {
    let mut lists = Vec::new();
    for type_ref in [TypeRef::new("v1", "Namespace"), configmap_type(), widget_type()] {
        lists.push(store.list(&type_ref, &ListParams::default()).await.unwrap());
    }
    (store.current_revision(), lists)
}

async fn send(store: &MemoryStore, request: &Request) -> Result<(), StoreError> {
    let params = WriteParams::default();
    match request {
        Request::Create(o) => store.create(o, &params).await.map(drop),
        Request::Replace(o) => {
            // Replace the live object: take its resourceVersion unless the row removed it on purpose.
            let mut o = o.clone();
            if o.resource_version().is_none() && o.kind != "Widget" {
                o.metadata.resource_version = store.get(&o.object_ref()).await?.metadata.resource_version.clone();
            }
            store.replace(&o, &params).await.map(drop)
        }
        Request::ReplaceStatus(o) => store.replace_status(o, &params).await.map(drop),
        Request::Patch(key, patch, params) => store.patch(key, patch, params).await.map(drop),
        Request::Get(key) => store.get(key).await.map(drop),
        Request::List(type_ref, params) => store.list(type_ref, params).await.map(drop),
        Request::Watch(type_ref, params) => {
            let mut stream = store.watch(type_ref, params).await?;
            // A watch may also report its error as the first item of the stream.
            match futures::FutureExt::now_or_never(stream.next()) {
                Some(Some(Err(error))) => Err(error),
                _ => Ok(()),
            }
        }
        Request::Delete(key, params) => store.delete(key, params).await.map(drop),
    }
}

#[tokio::test(start_paused = true)]
async fn bad_input_gets_the_api_servers_error_and_changes_nothing() {
    let mut failures = Vec::new();
    let rows = table();
    for row in &rows {
        let store = setup().await;
        let before = snapshot(&store).await;
        let outcome = send(&store, &row.request).await;
        let after = snapshot(&store).await;
        let mut problems = Vec::new();
        match &outcome {
            Ok(()) => problems.push(format!("accepted, expected {}", row.code)),
            Err(error) if error.code() != row.code => {
                problems.push(format!("got {} ({error}), expected {}", error.code(), row.code));
            }
            Err(error) => {
                if let Some(field) = row.field
                    && !error.causes().iter().any(|c| c.field.starts_with(field))
                {
                    problems.push(format!("no cause on field {field}: {:?}", error.causes()));
                }
            }
        }
        if before.0 != after.0 {
            problems.push(format!("revision moved from {} to {}", before.0, after.0));
        }
        if before.1 != after.1 {
            problems.push("stored objects changed".to_owned());
        }
        if !problems.is_empty() {
            failures.push(format!("{}: {}", row.name, problems.join("; ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} bad-input rows wrong:\n  {}",
        failures.len(),
        rows.len(),
        failures.join("\n  ")
    );
}
