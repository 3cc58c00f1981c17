//! The minimal WebApp operator on the runtime's front door over the memory backend: it renders
//! its Deployment and Service, and a change of the user's ConfigMap or Secret (kinds it only
//! reads) restarts the pods through the pod template annotation.

use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use operator_runtime_core::store::{KindInfo, ObjectStore, WriteParams};
use operator_runtime_core::{Object, ObjectRef, TypeRef};
use operator_runtime_examples::webapp::{RESTART_ANNOTATION, WebApp, WebAppOperator};
use operator_runtime_kube::Runtime;
use operator_runtime_memory::MemoryStore;
use serde_json::json;

async fn eventually<F, Fut, T>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Some(v) = check().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for: {what}");
}

fn restart_hash(d: &Object) -> Option<String> {
    d.to_typed::<Deployment>()
        .ok()?
        .spec
        .template
        .metadata?
        .annotations?
        .get(RESTART_ANNOTATION)
        .cloned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_change_restarts_the_pods() -> Result<(), Box<dyn std::error::Error>> {
    let store = MemoryStore::new();
    let webapp = TypeRef::of::<WebApp>();
    store.register_kind(KindInfo {
        type_ref: webapp.clone(),
        plural: "webapps".into(),
        namespaced: true,
        status_subresource: true,
    });
    let params = WriteParams::default();
    let cm = Object::from_value(json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "web-config", "namespace": "default"}, "data": {"MODE": "fast"}}))?;
    store.create(&cm, &params).await?;
    let secret = Object::from_value(json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "web-secret", "namespace": "default"}, "stringData": {"TOKEN": "t1"}}))?;
    store.create(&secret, &params).await?;

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let runtime = Runtime::new(store.clone()).operator(WebAppOperator::default());
    let running = tokio::spawn(runtime.run(async move {
        let _ = stopped.await;
    }));
    let app = Object::from_value(json!({"apiVersion": "example.io/v1", "kind": "WebApp",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"image": "nginx:1.27", "replicas": 2, "config": "web-config", "secret": "web-secret"}}))?;
    store.create(&app, &params).await?;

    let deployment = ObjectRef::namespaced(TypeRef::of::<Deployment>(), "default", "web");
    let service = ObjectRef::namespaced(TypeRef::new("v1", "Service"), "default", "web");
    let first = eventually("the Deployment exists with a config hash", || async {
        restart_hash(&*store.get(&deployment).await.ok()?)
    })
    .await;
    store.get(&service).await?;

    // The user's ConfigMap changes: the parent read it, so it is reconciled and the pods roll.
    let mut cm = (*store
        .get(&ObjectRef::namespaced(
            TypeRef::of::<ConfigMap>(),
            "default",
            "web-config",
        ))
        .await?)
        .clone();
    cm.body.insert("data".into(), json!({"MODE": "slow"}));
    store.replace(&cm, &params).await?;
    let second = eventually("the config hash follows the ConfigMap", || async {
        restart_hash(&*store.get(&deployment).await.ok()?).filter(|h| *h != first)
    })
    .await;

    // Same for the Secret.
    let mut secret = (*store
        .get(&ObjectRef::namespaced(TypeRef::of::<Secret>(), "default", "web-secret"))
        .await?)
        .clone();
    secret.body.insert("data".into(), json!({"TOKEN": "dDI="}));
    store.replace(&secret, &params).await?;
    eventually("the config hash follows the Secret", || async {
        restart_hash(&*store.get(&deployment).await.ok()?).filter(|h| *h != second)
    })
    .await;

    let _ = stop.send(());
    let summary = running.await??;
    assert!(summary.succeeded >= 3, "{summary:?}");
    Ok(())
}

#[test]
fn kinds_only_read_get_read_only_rbac() {
    let rules = operator_runtime_core::rbac::rules_for(&WebAppOperator::default(), true);
    let verbs_on = |resource: &str| {
        rules
            .iter()
            .find(|r| r.resources.iter().any(|x| x == resource))
            .map(|r| r.verbs.clone())
            .unwrap_or_default()
    };
    assert_eq!(verbs_on("secrets"), ["get", "list", "watch"]);
    assert_eq!(verbs_on("configmaps"), ["get", "list", "watch"]);
    assert!(verbs_on("deployments").iter().any(|v| v == "create"));
    assert!(verbs_on("webapps").iter().any(|v| v == "update"));
}
