//! Behaviour tests of the in-memory API server through the `ObjectStore` trait.

use futures::StreamExt;
use operator_runtime_core::store::{
    DeleteOutcome, DeleteParams, ListParams, Patch, PatchParams, Preconditions, Propagation, WatchEvent, WatchParams,
    WriteParams,
};
use operator_runtime_core::{Object, ObjectRef, ObjectStore, ObjectStoreExt, StoreError, TypeRef};
use operator_runtime_memory::MemoryStore;
use serde_json::json;

fn cm_type() -> TypeRef {
    TypeRef::new("v1", "ConfigMap")
}

fn cm(name: &str) -> Object {
    Object::new(&cm_type(), Some("default"), name).with("data", json!({"k": "v"}))
}

fn w() -> WriteParams {
    WriteParams::default()
}

fn crd(plural: &str, kind: &str, status: bool) -> Object {
    let mut version = json!({"name": "v1", "served": true, "storage": true,
        "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}});
    if status {
        version["subresources"] = json!({"status": {}});
    }
    Object::new(&TypeRef::new("apiextensions.k8s.io/v1", "CustomResourceDefinition"), None, &format!("{plural}.x.io"))
        .with(
            "spec",
            json!({"group": "x.io", "scope": "Namespaced", "names": {"kind": kind, "plural": plural}, "versions": [version]}),
        )
}

fn widget_type() -> TypeRef {
    TypeRef::new("x.io/v1", "Widget")
}

async fn store_with_widgets() -> MemoryStore {
    let store = MemoryStore::new();
    store.create(&crd("widgets", "Widget", true), &w()).await.unwrap();
    store
}

fn widget(name: &str) -> Object {
    Object::new(&widget_type(), Some("default"), name).with("spec", json!({"size": 1}))
}

#[tokio::test]
async fn create_get_replace_noop_and_conflict() {
    let store = MemoryStore::new();
    let created = store.create(&cm("a"), &w()).await.unwrap();
    assert!(created.uid().is_some() && created.metadata.creation_timestamp.is_some());
    assert_eq!(created.metadata.generation, None);
    let got = store.get(&created.object_ref()).await.unwrap();
    assert_eq!(got, created);

    // No-op update: same RV.
    let same = store.replace(&created, &w()).await.unwrap();
    assert_eq!(same.resource_version(), created.resource_version());

    let mut changed = Object::clone(&created);
    changed.body.insert("data".into(), json!({"k": "w"}));
    let updated = store.replace(&changed, &w()).await.unwrap();
    assert_ne!(updated.resource_version(), created.resource_version());

    // Stale RV.
    let err = store.replace(&changed, &w()).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
    // Unconditional update is fine for ConfigMaps.
    changed.metadata.resource_version = None;
    changed.body.insert("data".into(), json!({"k": "x"}));
    store.replace(&changed, &w()).await.unwrap();

    assert!(matches!(
        store.create(&cm("a"), &w()).await,
        Err(StoreError::AlreadyExists { .. })
    ));
}

#[tokio::test]
async fn create_errors() {
    let store = MemoryStore::new();
    let mut bad = cm("Bad_Name");
    assert!(matches!(
        store.create(&bad, &w()).await,
        Err(StoreError::Invalid { .. })
    ));
    bad.metadata.name = None;
    assert!(matches!(
        store.create(&bad, &w()).await,
        Err(StoreError::Invalid { .. })
    ));
    let mut rv = cm("rv");
    rv.metadata.resource_version = Some("5".into());
    assert!(matches!(
        store.create(&rv, &w()).await,
        Err(StoreError::Internal { .. })
    ));
    let missing_ns = Object::new(&cm_type(), Some("nope"), "x");
    assert!(matches!(
        store.create(&missing_ns, &w()).await,
        Err(StoreError::NotFound { .. })
    ));
    let unknown = Object::new(&TypeRef::new("x.io/v1", "Nope"), Some("default"), "x");
    assert!(matches!(
        store.create(&unknown, &w()).await,
        Err(StoreError::NotFound { .. })
    ));
    let mut generated = cm("");
    generated.metadata.name = None;
    generated.metadata.generate_name = Some("x-".into());
    let a = store.create(&generated, &w()).await.unwrap();
    let b = store.create(&generated, &w()).await.unwrap();
    assert!(a.name().starts_with("x-") && a.name().len() == 7 && a.name() != b.name());
    let ns = Object::new(&TypeRef::new("v1", "Namespace"), Some("ignored"), "other");
    let ns = store.create(&ns, &w()).await.unwrap();
    assert_eq!(ns.namespace(), None);
    let big = cm("big").with("data", json!({"k": "x".repeat(2 * 1024 * 1024)}));
    assert!(matches!(
        store.create(&big, &w()).await,
        Err(StoreError::TooLarge { .. })
    ));
}

#[tokio::test]
async fn custom_resources_follow_crd_strategy() {
    let store = store_with_widgets().await;
    let crd_obj = store
        .get(&ObjectRef::cluster(
            TypeRef::new("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
            "widgets.x.io",
        ))
        .await
        .unwrap();
    assert_eq!(crd_obj.body["status"]["conditions"][1]["type"], "Established");
    let created = store
        .create(&widget("w").with("status", json!({"ready": true})), &w())
        .await
        .unwrap();
    assert_eq!(created.metadata.generation, Some(1));
    assert!(created.status().is_none());

    let mut unconditional = Object::clone(&created);
    unconditional.metadata.resource_version = None;
    assert!(matches!(
        store.replace(&unconditional, &w()).await,
        Err(StoreError::Invalid { .. })
    ));

    let mut labelled = Object::clone(&created);
    labelled.metadata.labels = Some([("a".to_string(), "b".to_string())].into());
    let labelled = store.replace(&labelled, &w()).await.unwrap();
    assert_eq!(labelled.metadata.generation, Some(1));

    let mut spec = Object::clone(&labelled);
    spec.body.insert("spec".into(), json!({"size": 2}));
    spec.metadata.generation = Some(10);
    let spec = store.replace(&spec, &w()).await.unwrap();
    assert_eq!(spec.metadata.generation, Some(2));

    let mut status_only = Object::clone(&spec);
    status_only.body.insert("status".into(), json!({"ready": true}));
    let same = store.replace(&status_only, &w()).await.unwrap();
    assert_eq!(same.resource_version(), spec.resource_version());

    let status = store.replace_status(&status_only, &w()).await.unwrap();
    assert_eq!(status.body["status"]["ready"], true);
    assert_eq!(status.metadata.generation, Some(2));
    assert!(matches!(
        store.replace_status(&status_only, &w()).await,
        Err(StoreError::Conflict { .. })
    ));
    assert!(matches!(
        store.replace_status(&cm("a"), &w()).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.replace(&widget("missing"), &w()).await,
        Err(StoreError::NotFound { .. })
    ));
}

#[tokio::test]
async fn finalizers_and_graceful_deletion() {
    let store = store_with_widgets().await;
    let mut obj = widget("f");
    obj.metadata.finalizers = Some(vec!["x.io/a".into(), "x.io/b".into()]);
    let created = store.create(&obj, &w()).await.unwrap();
    let mut watch = store
        .watch(
            &widget_type(),
            &WatchParams {
                resource_version: created.resource_version().map(str::to_owned),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let pending = store
        .delete(&created.object_ref(), &DeleteParams::default())
        .await
        .unwrap();
    let DeleteOutcome::Pending(pending) = pending else {
        panic!("expected pending")
    };
    assert!(pending.is_terminating());
    assert_eq!(pending.metadata.generation, Some(2));
    let again = store
        .delete(&created.object_ref(), &DeleteParams::default())
        .await
        .unwrap();
    assert_eq!(again.object().resource_version(), pending.resource_version());

    let mut add = Object::clone(&pending);
    add.metadata.finalizers.as_mut().unwrap().push("x.io/c".into());
    assert!(matches!(
        store.replace(&add, &w()).await,
        Err(StoreError::Invalid { .. })
    ));

    let mut one = Object::clone(&pending);
    one.metadata.finalizers = Some(vec!["x.io/b".into()]);
    one.metadata.deletion_timestamp = None;
    let one = store.replace(&one, &w()).await.unwrap();
    assert!(one.is_terminating());
    let mut none = Object::clone(&one);
    none.metadata.finalizers = None;
    store.replace(&none, &w()).await.unwrap();
    assert!(matches!(
        store.get(&created.object_ref()).await,
        Err(StoreError::NotFound { .. })
    ));

    // Emptying the finalizers is the delete itself: no Modified for that update (as the
    // apiserver's deleteWithoutFinalizers), and the Deleted object is the last stored state.
    let kinds: Vec<&str> = [watch.next().await, watch.next().await, watch.next().await]
        .iter()
        .map(|e| match e {
            Some(Ok(WatchEvent::Modified(_))) => "M",
            Some(Ok(WatchEvent::Deleted(_))) => "D",
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(kinds, ["M", "M", "D"]);
}

#[tokio::test]
async fn delete_preconditions_and_recreate() {
    let store = MemoryStore::new();
    let a = store.create(&cm("a"), &w()).await.unwrap();
    let stale = DeleteParams {
        preconditions: Some(Preconditions {
            uid: None,
            resource_version: Some("1".into()),
        }),
        ..Default::default()
    };
    assert!(matches!(
        store.delete(&a.object_ref(), &stale).await,
        Err(StoreError::Conflict { .. })
    ));
    let gone = store.delete(&a.object_ref(), &DeleteParams::default()).await.unwrap();
    assert!(matches!(gone, DeleteOutcome::Deleted(_)));
    assert!(matches!(
        store.delete(&a.object_ref(), &DeleteParams::default()).await,
        Err(StoreError::NotFound { .. })
    ));
    let b = store.create(&cm("a"), &w()).await.unwrap();
    assert_ne!(a.uid(), b.uid());
}

#[tokio::test]
async fn list_selectors_and_pages() {
    let store = MemoryStore::new();
    for (i, name) in ["e", "c", "a", "d", "b"].iter().enumerate() {
        let mut o = cm(name);
        o.metadata.labels = Some([("i".to_string(), (i % 2).to_string())].into());
        store.create(&o, &w()).await.unwrap();
    }
    let all = store
        .list(&cm_type(), &ListParams::in_namespace("default"))
        .await
        .unwrap();
    let names: Vec<&str> = all.items.iter().map(|o| o.name()).collect();
    assert_eq!(names, ["a", "b", "c", "d", "e"]);
    let odd = store
        .list(&cm_type(), &ListParams::default().labels("i=1"))
        .await
        .unwrap();
    assert_eq!(odd.items.len(), 2);
    assert!(matches!(
        store.list(&cm_type(), &ListParams::default().labels("i in (")).await,
        Err(StoreError::BadRequest { .. })
    ));
    assert!(matches!(
        store.list(&cm_type(), &ListParams::default().fields("data.k=v")).await,
        Err(StoreError::BadRequest { .. })
    ));
    let by_name = store
        .list(&cm_type(), &ListParams::default().fields("metadata.name=c"))
        .await
        .unwrap();
    assert_eq!(by_name.items.len(), 1);

    let first = store.list(&cm_type(), &ListParams::default().limit(2)).await.unwrap();
    assert_eq!(first.items.len(), 2);
    // A write between pages does not show up: the list is served at one revision.
    store.create(&cm("aa"), &w()).await.unwrap();
    store
        .delete(
            &ObjectRef::namespaced(cm_type(), "default", "e"),
            &DeleteParams::default(),
        )
        .await
        .unwrap();
    let mut seen: Vec<String> = first.items.iter().map(|o| o.name().to_owned()).collect();
    let mut token = first.continue_token.clone();
    while let Some(t) = token {
        let page = store
            .list(
                &cm_type(),
                &ListParams {
                    continue_token: Some(t),
                    limit: Some(2),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(page.resource_version, first.resource_version);
        seen.extend(page.items.iter().map(|o| o.name().to_owned()));
        token = page.continue_token;
    }
    assert_eq!(seen, ["a", "b", "c", "d", "e"]);
}

#[tokio::test]
async fn watch_semantics() {
    let store = MemoryStore::new();
    store.create(&cm("a"), &w()).await.unwrap();
    let mut from_now = store.watch(&cm_type(), &WatchParams::default()).await.unwrap();
    assert!(matches!(from_now.next().await, Some(Ok(WatchEvent::Added(o))) if o.name() == "a"));
    let mut labelled = cm("b");
    labelled.metadata.labels = Some([("x".to_string(), "1".to_string())].into());
    let b = store.create(&labelled, &w()).await.unwrap();
    let mut selected = store
        .watch(
            &cm_type(),
            &WatchParams {
                label_selector: Some("x=1".into()),
                resource_version: Some("1".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(matches!(selected.next().await, Some(Ok(WatchEvent::Added(o))) if o.name() == "b"));
    let mut unlabelled = Object::clone(&b);
    unlabelled.metadata.labels = None;
    let unlabelled = store.replace(&unlabelled, &w()).await.unwrap();
    match selected.next().await {
        Some(Ok(WatchEvent::Deleted(o))) => {
            assert_eq!(o.resource_version(), unlabelled.resource_version());
            assert_eq!(o.label("x"), Some("1"));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(from_now.next().await, Some(Ok(WatchEvent::Added(o))) if o.name() == "b"));
    assert!(matches!(from_now.next().await, Some(Ok(WatchEvent::Modified(_)))));
}

#[tokio::test]
async fn watch_history_expires() {
    let store = MemoryStore::builder().history_limit(2).build();
    for n in ["a", "b", "c", "d"] {
        store.create(&cm(n), &w()).await.unwrap();
    }
    let mut old = store
        .watch(
            &cm_type(),
            &WatchParams {
                resource_version: Some("1".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(matches!(old.next().await, Some(Err(StoreError::Expired { .. }))));
    assert!(old.next().await.is_none());
}

#[tokio::test(start_paused = true)]
async fn watch_bookmarks_and_timeout() {
    let store = MemoryStore::new();
    let params = WatchParams {
        bookmarks: true,
        timeout: Some(std::time::Duration::from_secs(150)),
        ..Default::default()
    };
    let events: Vec<_> = store.watch(&cm_type(), &params).await.unwrap().collect().await;
    // Initial bookmark, then one after each quiet minute, then the stream ends.
    assert_eq!(events.len(), 3);
    assert!(events.iter().all(|e| matches!(e, Ok(WatchEvent::Bookmark { .. }))));
}

#[tokio::test]
async fn patches() {
    let store = store_with_widgets().await;
    let created = store.create(&widget("p"), &w()).await.unwrap();
    let key = created.object_ref();
    let merged = store
        .patch(
            &key,
            &Patch::Merge(json!({"spec": {"size": 3}})),
            &PatchParams::default(),
        )
        .await
        .unwrap();
    assert_eq!(merged.body["spec"]["size"], 3);
    assert_eq!(merged.metadata.generation, Some(2));
    let stale = Patch::Merge(json!({"metadata": {"resourceVersion": created.resource_version()}, "spec": {"size": 4}}));
    assert!(matches!(
        store.patch(&key, &stale, &PatchParams::default()).await,
        Err(StoreError::Conflict { .. })
    ));
    let failing = Patch::Json(json!([{"op": "test", "path": "/spec/size", "value": 99}]));
    assert!(matches!(
        store.patch(&key, &failing, &PatchParams::default()).await,
        Err(StoreError::Invalid { .. })
    ));
    let garbage = Patch::Json(json!({"not": "a patch"}));
    assert!(matches!(
        store.patch(&key, &garbage, &PatchParams::default()).await,
        Err(StoreError::BadRequest { .. })
    ));
    let missing = ObjectRef::namespaced(widget_type(), "default", "nope");
    assert!(matches!(
        store
            .patch(&missing, &Patch::Merge(json!({})), &PatchParams::default())
            .await,
        Err(StoreError::NotFound { .. })
    ));
}

#[tokio::test]
async fn field_sets_are_stored_as_json_text_whichever_form_is_written_back() {
    let store = MemoryStore::new();
    let applied = store
        .apply(&cm("t").with("data", json!({"a": "1"})), "one", false)
        .await
        .unwrap();
    let entry_of = |o: &Object, manager: &str| {
        o.metadata
            .managed_fields
            .iter()
            .flatten()
            .find(|e| e.manager.as_deref() == Some(manager))
            .and_then(|e| e.fields_v1.clone())
            .map(|f| f.0)
    };
    // Stored as the server keeps `FieldsV1.Raw`: JSON text.
    assert_eq!(entry_of(&applied, "one"), Some(json!(r#"{"f:data":{"f:a":{}}}"#)));
    // The object as a client decodes it (typed, or over HTTP): field sets as trees.
    let mut from_client = (*applied).clone();
    operator_runtime_core::fields_v1::expand_managed_fields(&mut from_client.metadata);
    assert_eq!(entry_of(&from_client, "one"), Some(json!({"f:data": {"f:a": {}}})));
    from_client.body.insert("data".into(), json!({"a": "1", "b": "2"}));
    let replaced = store.replace(&from_client, &w()).await.unwrap();
    // The apply entry is kept, as the text it was.
    assert_eq!(entry_of(&replaced, "one"), entry_of(&applied, "one"));
    // And it still owns `a`: another manager's change of it is a conflict.
    let err = store
        .apply(&cm("t").with("data", json!({"a": "3"})), "two", false)
        .await
        .unwrap_err();
    assert_eq!(err.causes()[0].reason, "FieldManagerConflict");
}

#[tokio::test]
async fn server_side_apply_subset() {
    let store = MemoryStore::new();
    let desired = cm("s").with("data", json!({"a": "1", "b": "2"}));
    assert!(matches!(
        store.apply(&desired, "", false).await,
        Err(StoreError::Invalid { .. })
    ));
    let created = store.apply(&desired, "one", false).await.unwrap();
    let mf = created.metadata.managed_fields.as_ref().unwrap();
    assert_eq!(mf[0].operation.as_deref(), Some("Apply"));
    assert_eq!(
        operator_runtime_core::fields_v1::tree(&mf[0].fields_v1.as_ref().unwrap().0).as_deref(),
        Some(&json!({"f:data": {"f:a": {}, "f:b": {}}}))
    );
    let again = store.apply(&desired, "one", false).await.unwrap();
    assert_eq!(again.resource_version(), created.resource_version());

    let other = cm("s").with("data", json!({"a": "changed"}));
    let err = store.apply(&other, "two", false).await.unwrap_err();
    assert_eq!(err.causes()[0].reason, "FieldManagerConflict");
    let forced = store.apply(&other, "two", true).await.unwrap();
    assert_eq!(forced.body["data"]["a"], "changed");

    // "one" drops b: removed; a is owned by "two" now and stays.
    let fewer = cm("s").with("data", json!({}));
    let applied = store.apply(&fewer, "one", false).await.unwrap();
    assert_eq!(applied.body["data"], json!({"a": "changed"}));
}

#[tokio::test]
async fn garbage_collection_modes() {
    let store = MemoryStore::new();
    let owner = store.create(&cm("owner"), &w()).await.unwrap();
    let mut dep = cm("dep");
    dep.metadata.owner_references = Some(vec![owner.controller_owner_ref().unwrap()]);
    store.create(&dep, &w()).await.unwrap();
    store
        .delete(&owner.object_ref(), &DeleteParams::default())
        .await
        .unwrap();
    assert!(store.get_opt(&dep.object_ref()).await.unwrap().is_none());

    // Foreground: owner waits for the blocking dependent.
    let owner = store.create(&cm("owner"), &w()).await.unwrap();
    let mut dep = cm("dep");
    dep.metadata.owner_references = Some(vec![owner.controller_owner_ref().unwrap()]);
    dep.metadata.finalizers = Some(vec!["x.io/hold".into()]);
    let dep = store.create(&dep, &w()).await.unwrap();
    let fg = DeleteParams {
        propagation: Some(Propagation::Foreground),
        ..Default::default()
    };
    let pending = store.delete(&owner.object_ref(), &fg).await.unwrap();
    assert!(pending.object().has_finalizer("foregroundDeletion"));
    assert!(store.get(&owner.object_ref()).await.unwrap().is_terminating());
    let dep_now = store.get(&dep.object_ref()).await.unwrap();
    assert!(dep_now.is_terminating());
    let mut released = Object::clone(&dep_now);
    released.metadata.finalizers = None;
    store.replace(&released, &w()).await.unwrap();
    assert!(store.get_opt(&owner.object_ref()).await.unwrap().is_none());

    // Orphan: dependent keeps living without the reference.
    let owner = store.create(&cm("owner"), &w()).await.unwrap();
    let mut dep = cm("dep");
    dep.metadata.owner_references = Some(vec![owner.controller_owner_ref().unwrap()]);
    store.create(&dep, &w()).await.unwrap();
    let orphan = DeleteParams {
        propagation: Some(Propagation::Orphan),
        ..Default::default()
    };
    store.delete(&owner.object_ref(), &orphan).await.unwrap();
    assert!(store.get_opt(&owner.object_ref()).await.unwrap().is_none());
    let dep = store.get(&dep.object_ref()).await.unwrap();
    assert!(dep.metadata.owner_references.is_none());

    // GC off: nothing cascades until the controllers run.
    store.set_garbage_collection(false);
    let owner = store.create(&cm("owner2"), &w()).await.unwrap();
    let mut dep = cm("dep2");
    dep.metadata.owner_references = Some(vec![owner.controller_owner_ref().unwrap()]);
    store.create(&dep, &w()).await.unwrap();
    store
        .delete(&owner.object_ref(), &DeleteParams::default())
        .await
        .unwrap();
    assert!(store.get_opt(&dep.object_ref()).await.unwrap().is_some());
    store.run_controllers();
    assert!(store.get_opt(&dep.object_ref()).await.unwrap().is_none());
}

#[tokio::test]
async fn namespace_lifecycle() {
    let store = MemoryStore::new();
    store.set_garbage_collection(false);
    let ns_type = TypeRef::new("v1", "Namespace");
    store.create(&Object::new(&ns_type, None, "team"), &w()).await.unwrap();
    let obj = Object::new(&cm_type(), Some("team"), "x");
    store.create(&obj, &w()).await.unwrap();
    let out = store
        .delete(&ObjectRef::cluster(ns_type.clone(), "team"), &DeleteParams::default())
        .await
        .unwrap();
    assert_eq!(out.object().body["status"]["phase"], "Terminating");
    let err = store
        .create(&Object::new(&cm_type(), Some("team"), "y"), &w())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Forbidden { .. }));
    store.run_controllers();
    assert!(store.get_opt(&obj.object_ref()).await.unwrap().is_none());
    assert!(
        store
            .get_opt(&ObjectRef::cluster(ns_type, "team"))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn dry_run_changes_nothing() {
    let store = MemoryStore::new();
    let dry = WriteParams {
        dry_run: true,
        ..Default::default()
    };
    let rev = store.current_revision();
    let out = store.create(&cm("d"), &dry).await.unwrap();
    assert_eq!(out.name(), "d");
    assert_eq!(store.current_revision(), rev);
    assert!(store.get_opt(&out.object_ref()).await.unwrap().is_none());
    let real = store.create(&cm("d"), &w()).await.unwrap();
    assert!(matches!(
        store.create(&cm("d"), &dry).await,
        Err(StoreError::AlreadyExists { .. })
    ));
    let del = DeleteParams {
        dry_run: true,
        ..Default::default()
    };
    store.delete(&real.object_ref(), &del).await.unwrap();
    assert_eq!(
        store.get(&real.object_ref()).await.unwrap().resource_version(),
        real.resource_version()
    );
}

#[tokio::test]
async fn seeded_runs_are_identical() {
    async fn run(seed: u64) -> Vec<String> {
        let store = MemoryStore::builder().seed(seed).build();
        let mut g = cm("");
        g.metadata.name = None;
        g.metadata.generate_name = Some("g-".into());
        let a = store.create(&g, &w()).await.unwrap();
        vec![a.name().to_owned(), a.uid().unwrap().to_owned()]
    }
    assert_eq!(run(3).await, run(3).await);
    assert_ne!(run(3).await, run(4).await);
}

#[tokio::test]
async fn dangling_and_cross_namespace_owners() {
    let store = MemoryStore::new();
    let owner = store.create(&cm("owner"), &w()).await.unwrap();
    let old_ref = owner.controller_owner_ref().unwrap();
    store
        .delete(&owner.object_ref(), &DeleteParams::default())
        .await
        .unwrap();
    let recreated = store.create(&cm("owner"), &w()).await.unwrap();
    // Same name, old uid: the reference dangles and the dependent is collected.
    let mut dep = cm("dep");
    dep.metadata.owner_references = Some(vec![old_ref]);
    store.create(&dep, &w()).await.unwrap();
    assert!(store.get_opt(&dep.object_ref()).await.unwrap().is_none());

    // One live owner and one dangling: only the dangling reference goes.
    let mut gone = recreated.controller_owner_ref().unwrap();
    gone.uid = "00000000-0000-4000-8000-000000000000".into();
    gone.controller = None;
    let mut dep = cm("dep2");
    dep.metadata.owner_references = Some(vec![recreated.controller_owner_ref().unwrap(), gone]);
    store.create(&dep, &w()).await.unwrap();
    let dep = store.get(&dep.object_ref()).await.unwrap();
    assert_eq!(dep.metadata.owner_references.as_ref().unwrap().len(), 1);

    // An owner in another namespace never resolves.
    store
        .create(&Object::new(&TypeRef::new("v1", "Namespace"), None, "other"), &w())
        .await
        .unwrap();
    let mut cross = Object::new(&cm_type(), Some("other"), "cross");
    cross.metadata.owner_references = Some(vec![recreated.controller_owner_ref().unwrap()]);
    store.create(&cross, &w()).await.unwrap();
    assert!(store.get_opt(&cross.object_ref()).await.unwrap().is_none());
}

/// Bad input gives the API server's typed error and leaves the store unchanged.
#[tokio::test]
async fn bad_input_table() {
    let store = store_with_widgets().await;
    let existing = store.create(&widget("ok"), &w()).await.unwrap();
    let key = existing.object_ref();
    let with_meta = |f: &dyn Fn(&mut Object)| {
        let mut o = widget("x");
        f(&mut o);
        o
    };
    type Check = fn(&StoreError) -> bool;
    let invalid: Check = |e| matches!(e, StoreError::Invalid { .. });
    let bad_request: Check = |e| matches!(e, StoreError::BadRequest { .. });
    let not_found: Check = |e| matches!(e, StoreError::NotFound { .. });
    let too_large: Check = |e| matches!(e, StoreError::TooLarge { .. });
    let owner = |uid: &str, controller| operator_runtime_core::model::OwnerReference {
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
        name: "o".into(),
        uid: uid.into(),
        controller: Some(controller),
        block_owner_deletion: None,
    };
    let creates: Vec<(&str, Object, Check)> = vec![
        (
            "uppercase name",
            with_meta(&|o| o.metadata.name = Some("Bad".into())),
            invalid,
        ),
        (
            "underscore name",
            with_meta(&|o| o.metadata.name = Some("a_b".into())),
            invalid,
        ),
        (
            "long name",
            with_meta(&|o| o.metadata.name = Some("a".repeat(254))),
            invalid,
        ),
        (
            "label key",
            with_meta(&|o| o.metadata.labels = Some([("-x".into(), "v".into())].into())),
            invalid,
        ),
        (
            "label value",
            with_meta(&|o| o.metadata.labels = Some([("x".into(), "a b".into())].into())),
            invalid,
        ),
        (
            "owner uid empty",
            with_meta(&|o| o.metadata.owner_references = Some(vec![owner("", true)])),
            invalid,
        ),
        (
            "two controllers",
            with_meta(&|o| o.metadata.owner_references = Some(vec![owner("a", true), owner("b", true)])),
            invalid,
        ),
        (
            "too large",
            widget("big").with("spec", json!({"x": "y".repeat(1600 * 1024)})),
            too_large,
        ),
        (
            "unknown kind",
            Object::new(&TypeRef::new("x.io/v1", "Nope"), Some("default"), "n"),
            not_found,
        ),
        (
            "missing namespace",
            Object::new(&widget_type(), Some("absent"), "n"),
            not_found,
        ),
    ];
    for (what, object, check) in creates {
        let before = store.current_revision();
        let err = store.create(&object, &w()).await.unwrap_err();
        assert!(check(&err), "{what}: {err:?}");
        assert_eq!(store.current_revision(), before, "{what} changed the store");
    }
    let lists: Vec<(&str, ListParams)> = vec![
        ("selector syntax", ListParams::default().labels("a in (b")),
        ("selector key", ListParams::default().labels("-a=b")),
        ("field", ListParams::default().fields("spec.size=1")),
    ];
    for (what, params) in lists {
        let err = store.list(&widget_type(), &params).await.unwrap_err();
        assert!(bad_request(&err), "{what}: {err:?}");
    }
    let patches: Vec<(&str, Patch, Check)> = vec![
        ("json patch not a list", Patch::Json(json!({"op": "add"})), bad_request),
        (
            "json patch unknown op",
            Patch::Json(json!([{"op": "frobnicate", "path": "/a"}])),
            invalid,
        ),
        (
            "json patch missing path",
            Patch::Json(json!([{"op": "remove", "path": "/spec/nope"}])),
            invalid,
        ),
        (
            "merge patch renames",
            Patch::Merge(json!({"metadata": {"name": "other"}})),
            bad_request,
        ),
        (
            "merge patch moves namespace",
            Patch::Merge(json!({"metadata": {"namespace": "kube-system"}})),
            bad_request,
        ),
    ];
    for (what, patch, check) in patches {
        let before = store.current_revision();
        let err = store.patch(&key, &patch, &PatchParams::default()).await.unwrap_err();
        assert!(check(&err), "{what}: {err:?}");
        assert_eq!(store.current_revision(), before, "{what} changed the store");
    }
    assert_eq!(store.get(&key).await.unwrap(), existing);
}

/// Status writes with a field manager record an `Update` entry for the `status` subresource,
/// separate from the main resource's entries; a main update does not take status fields away.
#[tokio::test]
async fn status_writes_record_a_status_subresource_entry() {
    let store = store_with_widgets().await;
    let by = |manager: &str| WriteParams {
        dry_run: false,
        field_manager: Some(manager.into()),
    };
    let created = store.create(&widget("s"), &by("creator")).await.unwrap();
    let mut with_status = Object::clone(&created);
    with_status.body.insert("status".into(), json!({"ready": true}));
    let after_status = store.replace_status(&with_status, &by("controller")).await.unwrap();
    let mut edited = Object::clone(&after_status);
    edited.body.insert("spec".into(), json!({"size": 2}));
    let after_edit = store.replace(&edited, &by("editor")).await.unwrap();

    let entries: Vec<(String, Option<String>, String)> = after_edit
        .metadata
        .managed_fields
        .iter()
        .flatten()
        .map(|e| {
            let fields = e
                .fields_v1
                .as_ref()
                .and_then(|f| operator_runtime_core::fields_v1::tree(&f.0))
                .map(|t| t.to_string())
                .unwrap_or_default();
            (e.manager.clone().unwrap_or_default(), e.subresource.clone(), fields)
        })
        .collect();
    assert!(entries.iter().all(|(_, _, f)| !f.is_empty()), "{entries:?}");
    let find = |m: &str| entries.iter().find(|(manager, _, _)| manager == m).cloned();
    let (_, sub, fields) = find("controller").expect("controller entry");
    assert_eq!(sub.as_deref(), Some("status"));
    // `status` was absent: the status write added it as a whole, hence its self-marker.
    assert_eq!(fields, r#"{"f:status":{".":{},"f:ready":{}}}"#);
    let (_, sub, fields) = find("editor").expect("editor entry");
    assert_eq!(sub, None);
    assert_eq!(fields, r#"{"f:spec":{"f:size":{}}}"#);
    // The creator added `spec` as a whole and set spec.size; the editor's change took
    // spec.size, so the creator keeps only the `spec` map itself (as structured-merge-diff does).
    let (_, _, fields) = find("creator").expect("creator entry");
    assert_eq!(fields, r#"{"f:spec":{}}"#);
}
