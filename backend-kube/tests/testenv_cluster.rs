//! The working cluster of `TestEnvOptions::cluster()`: fake nodes, the scheduler and the real
//! workload controllers bring a Deployment and a StatefulSet (with volume claim templates) to
//! Ready, roll a template change through real pods, and honour a StatefulSet partition.
use std::future::Future;
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use operator_runtime_kube::testenv::nodes::list_fake_nodes;
use operator_runtime_kube::testenv::{self, TestEnv};
use serde_json::json;

const DEADLINE: Duration = Duration::from_secs(90);

async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let start = Instant::now();
    loop {
        match check().await {
            Ok(()) => return,
            Err(why) if start.elapsed() > DEADLINE => panic!("{what}: not within {DEADLINE:?}: {why}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

fn pod_template(app: &str, image: &str) -> serde_json::Value {
    json!({
        "metadata": {"labels": {"app": app}},
        "spec": {"containers": [{"name": "main", "image": image, "ports": [{"containerPort": 8080}]}]}
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workloads_become_ready_through_real_controllers_and_fake_nodes() {
    let started = Instant::now();
    let Some(env) = testenv::available(TestEnv::shared_cluster()) else {
        return;
    };
    eprintln!("cluster started in {:.1} s", started.elapsed().as_secs_f64());
    let client = env.client().unwrap();
    assert_eq!(list_fake_nodes(&client).await.unwrap().len(), 3);
    let ns = env.create_namespace(&client, "cluster").await.unwrap();

    let deployments = Api::<Deployment>::namespaced(client.clone(), &ns);
    let deployment: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": pod_template("web", "nginx:1")}
    }))
    .unwrap();
    deployments.create(&PostParams::default(), &deployment).await.unwrap();

    let statefulsets = Api::<StatefulSet>::namespaced(client.clone(), &ns);
    let sts: StatefulSet = serde_json::from_value(json!({
        "metadata": {"name": "db"},
        "spec": {
            "replicas": 3, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
            "template": pod_template("db", "postgres:1"),
            "volumeClaimTemplates": [{"metadata": {"name": "data"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]
        }
    }))
    .unwrap();
    statefulsets.create(&PostParams::default(), &sts).await.unwrap();

    let ready_at = Instant::now();
    eventually("the Deployment is available", || async {
        let d = deployments.get("web").await.map_err(|e| e.to_string())?;
        let s = d.status.unwrap_or_default();
        let ok = s.observed_generation == d.metadata.generation
            && s.ready_replicas == Some(2)
            && s.updated_replicas == Some(2)
            && s.available_replicas == Some(2);
        if ok { Ok(()) } else { Err(format!("{s:?}")) }
    })
    .await;
    eventually("the StatefulSet is ready", || async {
        let d = statefulsets.get("db").await.map_err(|e| e.to_string())?;
        let s = d.status.unwrap_or_default();
        let ok = s.observed_generation == d.metadata.generation
            && s.ready_replicas == Some(3)
            && s.current_revision.is_some()
            && s.current_revision == s.update_revision;
        if ok { Ok(()) } else { Err(format!("{s:?}")) }
    })
    .await;
    eprintln!("workloads ready in {:.1} s", ready_at.elapsed().as_secs_f64());
    let pods = Api::<Pod>::namespaced(client.clone(), &ns);
    let running = pods.list(&ListParams::default()).await.unwrap();
    assert_eq!(running.items.len(), 5, "2 Deployment pods and 3 StatefulSet pods");
    assert!(
        running
            .items
            .iter()
            .all(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")),
        "every pod runs on a fake node"
    );

    // A partitioned update: only ordinals >= 2 move to the new revision.
    let patch = json!({"spec": {
        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}},
        "template": {"spec": {"containers": [{"name": "main", "image": "postgres:2"}]}}
    }});
    statefulsets
        .patch("db", &PatchParams::default(), &Patch::Strategic(patch))
        .await
        .unwrap();
    eventually("the partition holds ordinals 0 and 1 back", || async {
        let d = statefulsets.get("db").await.map_err(|e| e.to_string())?;
        let s = d.status.unwrap_or_default();
        let images = images(&pods, "db").await?;
        let ok = s.observed_generation == d.metadata.generation
            && s.updated_replicas == Some(1)
            && s.ready_replicas == Some(3)
            && s.current_revision != s.update_revision
            && images == ["postgres:1", "postgres:1", "postgres:2"];
        if ok {
            Ok(())
        } else {
            Err(format!("{s:?} images {images:?}"))
        }
    })
    .await;
    let release = json!({"spec": {"updateStrategy": {"rollingUpdate": {"partition": 0}}}});
    statefulsets
        .patch("db", &PatchParams::default(), &Patch::Merge(release))
        .await
        .unwrap();
    eventually("the released rollout completes", || async {
        let d = statefulsets.get("db").await.map_err(|e| e.to_string())?;
        let s = d.status.unwrap_or_default();
        let images = images(&pods, "db").await?;
        let ok = s.updated_replicas == Some(3)
            && s.ready_replicas == Some(3)
            && s.current_revision == s.update_revision
            && images.iter().all(|i| i == "postgres:2");
        if ok {
            Ok(())
        } else {
            Err(format!("{s:?} images {images:?}"))
        }
    })
    .await;
}

/// The images of a StatefulSet's pods, by ordinal.
async fn images(pods: &Api<Pod>, app: &str) -> Result<Vec<String>, String> {
    let mut list = pods
        .list(&ListParams::default().labels(&format!("app={app}")))
        .await
        .map_err(|e| e.to_string())?
        .items;
    list.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    Ok(list
        .iter()
        .filter_map(|p| p.spec.as_ref()?.containers.first()?.image.clone())
        .collect())
}
