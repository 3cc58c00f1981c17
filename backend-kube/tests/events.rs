//! KubeEventRecorder writes events.k8s.io/v1 Events that fold repeats into a series.
use operator_runtime_core::events::{Event, EventRecorder, reason};
use operator_runtime_core::store::{ListParams, WriteParams};
use operator_runtime_core::{Object, ObjectStore, TypeRef};
use operator_runtime_kube::testenv::{self, TestEnv};
use operator_runtime_kube::{KubeEventRecorder, KubeStore};

#[tokio::test]
async fn events_are_written_and_repeats_become_a_series() {
    let Some(env) = testenv::available(TestEnv::shared()) else {
        return;
    };
    let client = env.client().unwrap();
    let ns = env.create_namespace(&client, "events").await.unwrap();
    let store = KubeStore::new(client.clone());
    let parent = Object::new(&TypeRef::new("v1", "ConfigMap"), Some(&ns), "parent");
    let parent = store.create(&parent, &WriteParams::default()).await.unwrap();

    let recorder = KubeEventRecorder::new(client, "test.operator-runtime.io/recorder", Some("test-1".into()));
    let event = Event::normal(
        reason::CREATED,
        "Create",
        "created ConfigMap child",
        parent.object_ref(),
    );
    recorder.record(event.clone()).await.unwrap();
    recorder.record(event).await.unwrap();

    let events = store
        .list(
            &TypeRef::new("events.k8s.io/v1", "Event"),
            &ListParams::in_namespace(&ns),
        )
        .await
        .unwrap();
    assert_eq!(events.items.len(), 1, "{:?}", events.items);
    let e = &events.items[0];
    assert_eq!(e.body["reason"], "Created");
    assert_eq!(e.body["note"], "created ConfigMap child");
    assert_eq!(e.body["regarding"]["name"], "parent");
    assert_eq!(e.body["reportingController"], "test.operator-runtime.io/recorder");
    assert_eq!(e.body["series"]["count"], 2);
}
