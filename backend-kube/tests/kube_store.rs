//! KubeStore against the real API server of the test control plane.
use std::time::Duration;

use futures::StreamExt;
use operator_runtime_core::store::{
    DeleteOutcome, DeleteParams, Patch, PatchParams, Preconditions, WatchEvent, WatchParams, WriteParams,
};
use operator_runtime_core::{Object, ObjectRef, ObjectStore, ObjectStoreExt, StoreError, TypeRef};
use operator_runtime_kube::KubeStore;
use operator_runtime_kube::testenv::{self, TestEnv};
use serde_json::json;

/// A store on the shared control plane and a fresh namespace; `None` (the test is reported as
/// not run) when this machine has no control plane.
async fn store(test: &str) -> Option<(KubeStore, String)> {
    let env = testenv::available(TestEnv::shared())?;
    let client = env.client().unwrap();
    let ns = env.create_namespace(&client, test).await.unwrap();
    Some((KubeStore::new(client), ns))
}

fn cm_type() -> TypeRef {
    TypeRef::new("v1", "ConfigMap")
}

fn cm(ns: &str, name: &str, value: &str) -> Object {
    Object::new(&cm_type(), Some(ns), name).with("data", json!({ "k": value }))
}

async fn eventually_gone(store: &KubeStore, key: &ObjectRef) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while store.get_opt(key).await.unwrap().is_some() {
        assert!(tokio::time::Instant::now() < deadline, "{key} still exists after 30 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn create_get_and_garbage_collect_a_dependent() {
    let Some((store, ns)) = store("create-get-gc").await else {
        return;
    };
    let owner = store
        .create(&cm(&ns, "owner", "1"), &WriteParams::default())
        .await
        .unwrap();
    let got = store.get(&owner.object_ref()).await.unwrap();
    assert_eq!(got.body["data"]["k"], "1");
    assert_eq!(got.uid(), owner.uid());

    let mut dependent = cm(&ns, "dependent", "2");
    dependent.metadata.owner_references = Some(vec![owner.controller_owner_ref().unwrap()]);
    let dependent = store.create(&dependent, &WriteParams::default()).await.unwrap();
    let outcome = store
        .delete(&owner.object_ref(), &DeleteParams::default())
        .await
        .unwrap();
    assert!(matches!(outcome, DeleteOutcome::Deleted(_)), "{outcome:?}");
    eventually_gone(&store, &dependent.object_ref()).await;
}

#[tokio::test]
async fn errors_are_mapped_from_status_codes_and_reasons() {
    let Some((store, ns)) = store("errors").await else {
        return;
    };
    let created = store.create(&cm(&ns, "a", "1"), &WriteParams::default()).await.unwrap();

    let missing = ObjectRef::namespaced(cm_type(), &ns, "missing");
    assert!(matches!(store.get(&missing).await, Err(StoreError::NotFound { .. })));
    assert!(matches!(
        store.create(&cm(&ns, "a", "1"), &WriteParams::default()).await,
        Err(StoreError::AlreadyExists { .. })
    ));

    let mut stale = (*created).clone();
    stale.body.insert("data".into(), json!({"k": "2"}));
    store.replace(&stale, &WriteParams::default()).await.unwrap();
    assert!(matches!(
        store.replace(&stale, &WriteParams::default()).await,
        Err(StoreError::Conflict { .. })
    ));

    let err = store
        .create(&cm(&ns, "Not_A_Valid_Name", "1"), &WriteParams::default())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid { .. }), "{err:?}");
    assert_eq!(err.causes()[0].field, "metadata.name");

    let unknown = TypeRef::new("nothing.example.com/v1", "Nothing");
    assert!(matches!(
        store.kind_info(&unknown).await,
        Err(StoreError::NotFound { .. })
    ));

    let bad_selector = operator_runtime_core::store::ListParams::in_namespace(&ns).labels("a in (");
    assert!(matches!(
        store.list(&cm_type(), &bad_selector).await,
        Err(StoreError::BadRequest { .. })
    ));

    let wrong_uid = DeleteParams {
        preconditions: Some(Preconditions {
            uid: Some("00000000-0000-0000-0000-000000000000".into()),
            resource_version: None,
        }),
        ..DeleteParams::default()
    };
    assert!(matches!(
        store.delete(&created.object_ref(), &wrong_uid).await,
        Err(StoreError::Conflict { .. })
    ));
}

#[tokio::test]
async fn kind_info_comes_from_discovery() {
    let Some((store, _)) = store("discovery").await else {
        return;
    };
    let cm = store.kind_info(&cm_type()).await.unwrap();
    assert_eq!(
        (cm.plural.as_str(), cm.namespaced, cm.status_subresource),
        ("configmaps", true, false)
    );
    let ns = store.kind_info(&TypeRef::new("v1", "Namespace")).await.unwrap();
    assert!(!ns.namespaced && ns.status_subresource);
    let deploy = store.kind_info(&TypeRef::new("apps/v1", "Deployment")).await.unwrap();
    assert!(deploy.namespaced && deploy.status_subresource);
}

#[tokio::test]
async fn server_side_apply_tracks_managers_and_conflicts() {
    let Some((store, ns)) = store("apply").await else {
        return;
    };
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": ns}, "data": {"k": "a"}});
    let key = ObjectRef::namespaced(cm_type(), &ns, "x");
    store
        .patch(&key, &Patch::Apply(body.clone()), &PatchParams::apply("one"))
        .await
        .unwrap();
    let mut other = body.clone();
    other["data"]["k"] = json!("b");
    let err = store
        .patch(&key, &Patch::Apply(other.clone()), &PatchParams::apply("two"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
    assert!(!err.causes().is_empty());
    let forced = store
        .patch(&key, &Patch::Apply(other), &PatchParams::apply("two").force())
        .await
        .unwrap();
    assert_eq!(forced.body["data"]["k"], "b");

    let dry = PatchParams {
        dry_run: true,
        ..PatchParams::default()
    };
    let merged = store
        .patch(&key, &Patch::Merge(json!({"data": {"k": "c"}})), &dry)
        .await
        .unwrap();
    assert_eq!(merged.body["data"]["k"], "c");
    assert_eq!(store.get(&key).await.unwrap().body["data"]["k"], "b");

    let json_patch = Patch::Json(json!([{"op": "replace", "path": "/data/k", "value": "d"}]));
    let patched = store.patch(&key, &json_patch, &PatchParams::default()).await.unwrap();
    assert_eq!(patched.body["data"]["k"], "d");
    let bad = Patch::Json(json!({"not": "an array"}));
    assert!(matches!(
        store.patch(&key, &bad, &PatchParams::default()).await,
        Err(StoreError::BadRequest { .. })
    ));
}

#[tokio::test]
async fn watch_resumes_from_a_resource_version_and_reports_expiry() {
    let Some((store, ns)) = store("watch").await else {
        return;
    };
    let first = store
        .create(&cm(&ns, "w1", "1"), &WriteParams::default())
        .await
        .unwrap();
    let params = WatchParams {
        namespace: Some(ns.clone()),
        resource_version: first.resource_version().map(str::to_owned),
        ..WatchParams::default()
    };
    let mut stream = store.watch(&cm_type(), &params).await.unwrap();
    store
        .create(&cm(&ns, "w2", "2"), &WriteParams::default())
        .await
        .unwrap();
    let event = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    match event {
        WatchEvent::Added(o) => assert_eq!(o.name(), "w2"),
        other => panic!("expected Added w2, got {other:?}"),
    }

    // A watch with no resourceVersion starts with the current state.
    let mut initial = store
        .watch(
            &cm_type(),
            &WatchParams {
                namespace: Some(ns.clone()),
                ..WatchParams::default()
            },
        )
        .await
        .unwrap();
    let mut names = Vec::new();
    for _ in 0..2 {
        match tokio::time::timeout(Duration::from_secs(10), initial.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap()
        {
            WatchEvent::Added(o) => names.push(o.name().to_owned()),
            other => panic!("expected synthetic Added, got {other:?}"),
        }
    }
    names.sort();
    assert_eq!(names, ["w1", "w2"]);

    // A kind whose watch cache started after resourceVersion 1 cannot serve a watch from it:
    // the server sends an ERROR event with 410 Expired.
    let env = TestEnv::shared().unwrap();
    env.install_crds(store.client(), &[widget_crd()]).await.unwrap();
    let expired = WatchParams {
        namespace: Some(ns.clone()),
        resource_version: Some("1".into()),
        ..WatchParams::default()
    };
    let widget = TypeRef::new("test.operator-runtime.io/v1", "Widget");
    let mut stream = store.watch(&widget, &expired).await.unwrap();
    let item = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .unwrap();
    assert!(matches!(item, Some(Err(StoreError::Expired { .. }))), "{item:?}");
}

fn widget_crd() -> k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition {
    serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.test.operator-runtime.io"},
        "spec": {
            "group": "test.operator-runtime.io",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
            "scope": "Namespaced",
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}
            }]
        }
    }))
    .unwrap()
}

#[tokio::test]
async fn delete_outcome_carries_what_the_server_returns() {
    let Some((store, ns)) = store("delete-outcome").await else {
        return;
    };
    // A completed delete is answered with a Status: only identity is known.
    let a = store.create(&cm(&ns, "a", "1"), &WriteParams::default()).await.unwrap();
    match store.delete(&a.object_ref(), &DeleteParams::default()).await.unwrap() {
        DeleteOutcome::Deleted(o) => {
            assert_eq!(o.uid(), a.uid());
            assert!(o.body.get("data").is_none());
        }
        other => panic!("expected Deleted, got {other:?}"),
    }
    // Custom resources too (kube-apiserver 1.37).
    TestEnv::shared()
        .unwrap()
        .install_crds(store.client(), &[widget_crd()])
        .await
        .unwrap();
    let widget = Object::new(&TypeRef::new("test.operator-runtime.io/v1", "Widget"), Some(&ns), "w")
        .with("spec", json!({"size": 3}));
    let w = store.create(&widget, &WriteParams::default()).await.unwrap();
    match store.delete(&w.object_ref(), &DeleteParams::default()).await.unwrap() {
        DeleteOutcome::Deleted(o) => {
            assert_eq!(o.uid(), w.uid());
            assert!(o.body.get("spec").is_none(), "{o:?}");
        }
        other => panic!("expected Deleted, got {other:?}"),
    }
    // With a finalizer the object stays, terminating.
    let mut held = cm(&ns, "held", "1");
    held.metadata.finalizers = Some(vec!["test.operator-runtime.io/hold".into()]);
    let held = store.create(&held, &WriteParams::default()).await.unwrap();
    match store
        .delete(&held.object_ref(), &DeleteParams::default())
        .await
        .unwrap()
    {
        DeleteOutcome::Pending(o) => assert!(o.is_terminating()),
        other => panic!("expected Pending, got {other:?}"),
    }
}
