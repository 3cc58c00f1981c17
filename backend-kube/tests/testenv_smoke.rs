//! The test control plane starts, serves requests, and garbage-collects.
use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::{DeleteParams, ObjectMeta, PostParams};
use operator_runtime_kube::testenv::{self, TestEnv};

#[tokio::test]
async fn control_plane_serves_and_collects_garbage() {
    let Some(env) = testenv::available(TestEnv::shared()) else {
        return;
    };
    let client = env.client().unwrap();
    let ns = env.create_namespace(&client, "smoke").await.unwrap();
    let api = Api::<ConfigMap>::namespaced(client, &ns);
    let owner = api.create(&PostParams::default(), &cm("owner", None)).await.unwrap();
    let owner_ref = k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
        name: "owner".into(),
        uid: owner.metadata.uid.clone().unwrap(),
        ..Default::default()
    };
    api.create(&PostParams::default(), &cm("dependent", Some(owner_ref)))
        .await
        .unwrap();
    api.delete("owner", &DeleteParams::background()).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while api.get_opt("dependent").await.unwrap().is_some() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "dependent was not garbage-collected in 30 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn cm(name: &str, owner: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference>) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.into()),
            owner_references: owner.map(|o| vec![o]),
            ..Default::default()
        },
        ..Default::default()
    }
}
