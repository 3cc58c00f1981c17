//! `FaultyStore` faults reach HTTP clients: the memory API server serves a `FaultyStore`
//! wrapping the store, and kube-rs sees the API server's status codes, reasons and
//! Retry-After, an ambiguous write as a 504 whose change happened, and a watch ended by a 410.

use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use operator_runtime_core::{StatusCause, StoreError};
use operator_runtime_memory::MemoryStore;
use operator_runtime_memory::faults::{FaultyStore, Operation};
use operator_runtime_memory::http::ApiServer;
use serde_json::json;

fn config_map(name: &str) -> ConfigMap {
    let mut cm = ConfigMap::default();
    cm.metadata.name = Some(name.to_owned());
    cm
}

fn api_status(result: Result<impl std::fmt::Debug, kube::Error>) -> (u16, String, String) {
    match result {
        Err(kube::Error::Api(status)) => (status.code, status.reason.clone(), status.message.clone()),
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn faults_of_a_faulty_store_are_served_as_api_errors() -> Result<(), Box<dyn std::error::Error>> {
    let memory = MemoryStore::new();
    let faulty = FaultyStore::new(memory.clone(), 7);
    let faults = faulty.handle();
    let server = ApiServer::new(memory.clone()).serving(faulty).start().await?;
    let cms: Api<ConfigMap> = Api::default_namespaced(server.client());

    // 429 with Retry-After: kube-rs's default retry policy waits and retries; the second
    // attempt reaches the store.
    faults.fail_next(
        Operation::Create,
        1,
        StoreError::TooManyRequests {
            message: "slow down".into(),
            retry_after: Some(Duration::from_secs(1)),
        },
    );
    cms.create(&PostParams::default(), &config_map("a")).await?;
    assert_eq!(faults.injected(), 1);

    // Not retryable: the client sees the status as the API server sends it.
    faults.fail_next(
        Operation::Get,
        1,
        StoreError::forbidden("configmaps \"a\" is forbidden"),
    );
    let (code, reason, message) = api_status(cms.get("a").await);
    assert_eq!(
        (code, reason.as_str(), message.as_str()),
        (403, "Forbidden", "configmaps \"a\" is forbidden")
    );
    faults.fail_next(
        Operation::Patch,
        1,
        StoreError::Invalid {
            message: "ConfigMap \"a\" is invalid".into(),
            causes: vec![StatusCause::new("FieldValueInvalid", "data", "bad")],
        },
    );
    match cms
        .patch("a", &PatchParams::default(), &Patch::Merge(json!({"data": {"x": "1"}})))
        .await
    {
        Err(kube::Error::Api(status)) => {
            assert_eq!((status.code, status.reason.as_str()), (422, "Invalid"));
            let causes = status.details.map(|d| d.causes).unwrap_or_default();
            assert_eq!(causes.first().map(|c| c.field.as_str()), Some("data"));
        }
        other => panic!("expected 422, got {other:?}"),
    }
    assert_eq!(cms.get("a").await?.data, None, "the failed patch was not applied");

    // The write happens and the response is lost (504): kube-rs retries the POST, which now
    // finds the object: AlreadyExists, the classic ambiguous-create outcome.
    faults.timeout_after_next_writes(Operation::Create, 1);
    let (code, reason, _) = api_status(cms.create(&PostParams::default(), &config_map("b")).await);
    assert_eq!((code, reason.as_str()), (409, "AlreadyExists"));
    assert!(cms.get_opt("b").await?.is_some(), "the ambiguous create was applied");

    // A watch ended by the server with 410 Expired, inside the stream.
    faults.expire_next_watches(1);
    let mut stream = cms.watch(&WatchParams::default(), "0").await?.boxed();
    let mut expired = false;
    while let Some(event) = tokio::time::timeout(Duration::from_secs(5), stream.next()).await? {
        if let WatchEvent::Error(status) = event? {
            assert_eq!((status.code, status.reason.as_str()), (410, "Expired"));
            expired = true;
            break;
        }
    }
    assert!(expired, "the watch ended with a 410 ERROR event");
    assert!(faults.injected() >= 4, "{}", faults.injected());
    Ok(())
}
