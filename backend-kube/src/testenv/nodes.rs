//! Fake nodes: a small node agent over the API, so pods run without containers.
//!
//! What a kubelet does that the workload controllers and the scheduler depend on, and nothing
//! more: it registers `Node` objects that are Ready (and removes the `not-ready` taint that
//! admission puts on a new node, since no node-lifecycle controller runs), moves every pod the
//! scheduler binds to one of its nodes to `Running` with every container ready (one status
//! write per pod), and finishes the graceful deletion of pods on its nodes (a kubelet confirms
//! a deletion once the containers are gone; here there are none). For StatefulSets with volume
//! claim templates it provisions a `PersistentVolume` per pending claim, which the
//! `persistentvolume-binder` controller then binds, as a dynamic provisioner would.
//!
//! kwok does the same for large simulated clusters; this agent exists because it needs no
//! separate Go build and starts with the control plane in a few milliseconds.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Node, PersistentVolume, PersistentVolumeClaim, Pod};
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams, Preconditions};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};
use serde_json::json;

use super::TestEnvError;

/// Field manager of every write the agent makes.
const MANAGER: &str = "operator-runtime-fake-kubelet";
/// Label on the nodes the agent registers (and on the volumes it provisions).
pub const FAKE_NODE_LABEL: &str = "operator-runtime.io/fake-node";

/// Registers `count` Ready nodes named `fake-node-<i>`.
pub(crate) async fn register_nodes(client: &Client, count: usize) -> Result<Vec<String>, TestEnvError> {
    let nodes = Api::<Node>::all(client.clone());
    let mut names = Vec::with_capacity(count);
    for i in 0..count {
        let name = format!("fake-node-{i}");
        let node: Node = serde_json::from_value(json!({
            "metadata": {"name": name, "labels": {
                FAKE_NODE_LABEL: "true",
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "topology.kubernetes.io/zone": format!("zone-{}", i % 3),
            }},
            "spec": {}
        }))
        .map_err(|e| client_error("building a Node", e))?;
        nodes
            .create(&PostParams::default(), &node)
            .await
            .map_err(|e| client_error(&format!("creating node {name}"), e))?;
        // Admission taints a new node `not-ready`; the node-lifecycle controller would lift it
        // once the node reports Ready. Nothing runs that controller here.
        let untaint = Patch::Merge(json!({"spec": {"taints": null}}));
        nodes
            .patch(&name, &PatchParams::default(), &untaint)
            .await
            .map_err(|e| client_error(&format!("untainting node {name}"), e))?;
        let resources = json!({"cpu": "64", "memory": "256Gi", "pods": "250", "ephemeral-storage": "1Ti"});
        let status = Patch::Merge(json!({"status": {
            "capacity": resources,
            "allocatable": resources,
            "conditions": [{
                "type": "Ready", "status": "True", "reason": "KubeletReady",
                "message": "fake node agent", "lastHeartbeatTime": now(), "lastTransitionTime": now(),
            }],
            "addresses": [{"type": "InternalIP", "address": format!("127.0.1.{}", i + 1)},
                          {"type": "Hostname", "address": name}],
            "nodeInfo": {
                "machineID": "", "systemUUID": "", "bootID": "", "kernelVersion": "", "osImage": "fake",
                "containerRuntimeVersion": "fake://1", "kubeletVersion": super::KUBERNETES_VERSION,
                "kubeProxyVersion": "", "operatingSystem": "linux", "architecture": "amd64",
            },
        }}));
        nodes
            .patch_status(
                &name,
                &PatchParams::apply(MANAGER).force(),
                &to_apply(status, "Node", &name),
            )
            .await
            .map_err(|e| client_error(&format!("reporting node {name} Ready"), e))?;
        names.push(name);
    }
    Ok(names)
}

/// Turns a merge patch body into a server-side apply patch of the given kind.
fn to_apply(patch: Patch<serde_json::Value>, kind: &str, name: &str) -> Patch<serde_json::Value> {
    let Patch::Merge(mut body) = patch else { return patch };
    body["apiVersion"] = json!("v1");
    body["kind"] = json!(kind);
    body["metadata"] = json!({"name": name});
    Patch::Apply(body)
}

/// Runs the agent until the client's server goes away: pods and claims are watched
/// cluster-wide; every error is logged and the watch resumes (a node agent never gives up).
pub(crate) async fn run_agent(client: Client, nodes: Vec<String>) {
    let pods = run_pods(client.clone(), Arc::new(nodes));
    let volumes = run_volumes(client);
    futures::join!(pods, volumes);
}

async fn run_pods(client: Client, nodes: Arc<Vec<String>>) {
    let next_ip = AtomicU32::new(1);
    let api = Api::<Pod>::all(client.clone());
    let stream = watcher(api, watcher::Config::default()).default_backoff();
    futures::pin_mut!(stream);
    while let Some(event) = stream.next().await {
        let pods: Vec<Pod> = match event {
            Ok(watcher::Event::Apply(pod) | watcher::Event::InitApply(pod)) => vec![pod],
            Ok(_) => continue,
            Err(e) => {
                tracing::debug!(error = %e, "fake node agent: pod watch error (retrying)");
                continue;
            }
        };
        for pod in pods {
            let on_our_node = pod
                .spec
                .as_ref()
                .and_then(|s| s.node_name.as_deref())
                .is_some_and(|n| nodes.iter().any(|ours| ours == n));
            if !on_our_node {
                continue;
            }
            if let Err(e) = step_pod(&client, &pod, &next_ip).await {
                tracing::debug!(error = %e, pod = ?pod.metadata.name, "fake node agent: pod step failed");
            }
        }
    }
}

/// One kubelet step for a pod bound to our node: finish its deletion, or make it Running+Ready.
async fn step_pod(client: &Client, pod: &Pod, next_ip: &AtomicU32) -> Result<(), kube::Error> {
    let (Some(ns), Some(name)) = (pod.metadata.namespace.as_deref(), pod.metadata.name.as_deref()) else {
        return Ok(());
    };
    let api = Api::<Pod>::namespaced(client.clone(), ns);
    if pod.metadata.deletion_timestamp.is_some() {
        let params = DeleteParams {
            grace_period_seconds: Some(0),
            preconditions: Some(Preconditions {
                uid: pod.metadata.uid.clone(),
                resource_version: None,
            }),
            ..DeleteParams::default()
        };
        return match api.delete(name, &params).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => Ok(()),
            Err(e) => Err(e),
        };
    }
    let status = pod.status.as_ref();
    let ready = status
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
    if ready && status.and_then(|s| s.phase.as_deref()) == Some("Running") {
        return Ok(());
    }
    let ip = status.and_then(|s| s.pod_ip.clone()).unwrap_or_else(|| {
        let n = next_ip.fetch_add(1, Ordering::Relaxed);
        format!("10.244.{}.{}", (n / 250) % 250, n % 250 + 1)
    });
    let host_ip = "127.0.1.1";
    let started = now();
    let containers: Vec<_> = pod
        .spec
        .as_ref()
        .map(|s| s.containers.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|c| {
            json!({
                "name": c.name, "image": c.image.clone().unwrap_or_default(), "imageID": "",
                "containerID": format!("fake://{ns}/{name}/{}", c.name),
                "ready": true, "started": true, "restartCount": 0,
                "state": {"running": {"startedAt": started}},
            })
        })
        .collect();
    let condition =
        |t: &str| json!({"type": t, "status": "True", "lastProbeTime": null, "lastTransitionTime": started});
    let patch = json!({"status": {
        "phase": "Running",
        "hostIP": host_ip, "hostIPs": [{"ip": host_ip}],
        "podIP": ip, "podIPs": [{"ip": ip}],
        "startTime": started,
        "conditions": [condition("PodReadyToStartContainers"), condition("Initialized"),
                       condition("ContainersReady"), condition("Ready"), condition("PodScheduled")],
        "containerStatuses": containers,
    }});
    api.patch_status(name, &PatchParams::default(), &Patch::Merge(patch))
        .await
        .map(|_| ())
}

async fn run_volumes(client: Client) {
    let claims = Api::<PersistentVolumeClaim>::all(client.clone());
    let volumes = Api::<PersistentVolume>::all(client);
    let stream = watcher(claims, watcher::Config::default()).default_backoff();
    futures::pin_mut!(stream);
    while let Some(event) = stream.next().await {
        let claim = match event {
            Ok(watcher::Event::Apply(c) | watcher::Event::InitApply(c)) => c,
            Ok(_) => continue,
            Err(e) => {
                tracing::debug!(error = %e, "fake node agent: claim watch error (retrying)");
                continue;
            }
        };
        if let Err(e) = provision(&volumes, &claim).await {
            tracing::debug!(error = %e, claim = ?claim.metadata.name, "fake node agent: provisioning failed");
        }
    }
}

/// Creates a volume pre-bound to a pending claim (the binder controller completes the binding).
async fn provision(volumes: &Api<PersistentVolume>, claim: &PersistentVolumeClaim) -> Result<(), kube::Error> {
    let (Some(ns), Some(name), Some(uid)) = (
        claim.metadata.namespace.as_deref(),
        claim.metadata.name.as_deref(),
        claim.metadata.uid.as_deref(),
    ) else {
        return Ok(());
    };
    let spec = claim.spec.clone().unwrap_or_default();
    if spec.volume_name.is_some() || claim.metadata.deletion_timestamp.is_some() {
        return Ok(());
    }
    let storage = spec
        .resources
        .as_ref()
        .and_then(|r| r.requests.as_ref())
        .and_then(|r| r.get("storage"))
        .map_or_else(|| "1Gi".to_owned(), |q| q.0.clone());
    let pv_name = format!("pv-{uid}");
    let mut labels = BTreeMap::new();
    labels.insert(FAKE_NODE_LABEL.to_owned(), "true".to_owned());
    let pv: PersistentVolume = serde_json::from_value(json!({
        "metadata": {"name": pv_name, "labels": labels},
        "spec": {
            "capacity": {"storage": storage},
            "accessModes": spec.access_modes.clone().unwrap_or_else(|| vec!["ReadWriteOnce".to_owned()]),
            "persistentVolumeReclaimPolicy": "Delete",
            "storageClassName": spec.storage_class_name.clone().unwrap_or_default(),
            "volumeMode": spec.volume_mode.clone().unwrap_or_else(|| "Filesystem".to_owned()),
            "hostPath": {"path": format!("/tmp/operator-runtime-fake-volumes/{pv_name}")},
            "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": ns, "name": name, "uid": uid},
        }
    }))
    .map_err(kube::Error::SerdeError)?;
    match volumes.create(&PostParams::default(), &pv).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(()),
        Err(e) => Err(e),
    }
}

/// Lists the fake nodes (for tests that want to check the agent registered them).
///
/// # Errors
/// The client's error.
pub async fn list_fake_nodes(client: &Client) -> Result<Vec<Node>, kube::Error> {
    let params = ListParams::default().labels(&format!("{FAKE_NODE_LABEL}=true"));
    Ok(Api::<Node>::all(client.clone()).list(&params).await?.items)
}

/// An RFC 3339 timestamp. Test infrastructure, not core: the wall clock is fine here.
fn now() -> String {
    k8s_openapi::jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn client_error(context: &str, e: impl std::fmt::Display) -> TestEnvError {
    TestEnvError::Client(format!("{context}: {e}"))
}
