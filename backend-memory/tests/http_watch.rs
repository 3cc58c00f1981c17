//! Watches over HTTP: kube-rs's watcher with list-then-watch and with streaming lists
//! (`sendInitialEvents`), and a too-old resourceVersion answered with 410 inside the stream.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, PostParams, WatchEvent, WatchParams};
use kube::runtime::watcher::{self, Event};
use operator_runtime_memory::MemoryStore;

fn config_map(name: &str) -> ConfigMap {
    let mut cm = ConfigMap::default();
    cm.metadata.name = Some(name.to_owned());
    cm
}

fn name(cm: &ConfigMap) -> String {
    cm.metadata.name.clone().unwrap_or_default()
}

/// The next watcher event, within 5 s.
async fn next<S>(stream: &mut S) -> Result<Event<ConfigMap>, Box<dyn std::error::Error>>
where
    S: futures::Stream<Item = Result<Event<ConfigMap>, watcher::Error>> + Unpin,
{
    match tokio::time::timeout(Duration::from_secs(5), stream.try_next()).await?? {
        Some(event) => Ok(event),
        None => Err("the watcher ended".into()),
    }
}

async fn initial_then_changes(config: watcher::Config) -> Result<(), Box<dyn std::error::Error>> {
    let server = operator_runtime_memory::http::start(MemoryStore::new()).await?;
    let cms: Api<ConfigMap> = Api::default_namespaced(server.client());
    cms.create(&PostParams::default(), &config_map("before")).await?;
    let mut events = watcher::watcher(cms.clone(), config).boxed();
    assert!(matches!(next(&mut events).await?, Event::Init));
    match next(&mut events).await? {
        Event::InitApply(cm) => assert_eq!(name(&cm), "before"),
        other => panic!("expected the existing object, got {other:?}"),
    }
    assert!(matches!(next(&mut events).await?, Event::InitDone));
    cms.create(&PostParams::default(), &config_map("after")).await?;
    match next(&mut events).await? {
        Event::Apply(cm) => assert_eq!(name(&cm), "after"),
        other => panic!("expected the new object, got {other:?}"),
    }
    cms.delete("before", &DeleteParams::default()).await?;
    match next(&mut events).await? {
        Event::Delete(cm) => assert_eq!(name(&cm), "before"),
        other => panic!("expected the deletion, got {other:?}"),
    }
    Ok(())
}

#[tokio::test]
async fn watcher_lists_then_watches() -> Result<(), Box<dyn std::error::Error>> {
    initial_then_changes(watcher::Config::default()).await
}

#[tokio::test]
async fn watcher_with_streaming_lists_gets_initial_events_then_changes() -> Result<(), Box<dyn std::error::Error>> {
    initial_then_changes(watcher::Config::default().streaming_lists()).await
}

#[tokio::test]
async fn a_too_old_resource_version_is_a_410_event() -> Result<(), Box<dyn std::error::Error>> {
    let server = operator_runtime_memory::http::start(MemoryStore::builder().history_limit(2).build()).await?;
    let cms: Api<ConfigMap> = Api::default_namespaced(server.client());
    for i in 0..5 {
        cms.create(&PostParams::default(), &config_map(&format!("c{i}")))
            .await?;
    }
    let mut stream = cms.watch(&WatchParams::default(), "1").await?.boxed();
    match tokio::time::timeout(Duration::from_secs(5), stream.next()).await? {
        Some(Ok(WatchEvent::Error(status))) => assert_eq!((status.code, status.reason.as_str()), (410, "Expired")),
        other => panic!("expected a 410 ERROR event, got {other:?}"),
    }
    Ok(())
}
