//! The memory backend's workload simulation checked against the real controllers: one rollout
//! sequence (create, scale up, template change, partition, partition lifted, scale down, OnDelete
//! with a template change, Recreate) runs on the memory backend with
//! `operator_runtime_memory::workloads::WorkloadSimulator` and on the test cluster
//! (kube-controller-manager, scheduler, fake nodes). After each step both sides settle and the
//! status fields the runtime reads are compared, together with the runtime's own verdict
//! (`operator_runtime_core::rollout::readiness`). Revision names differ by construction (hash of
//! the template vs ControllerRevision hash), so they are compared as relations (current revision
//! equals update revision), not as strings.

use std::time::{Duration, Instant};

use operator_runtime_core::rollout::readiness;
use operator_runtime_core::store::{Patch, PatchParams, WriteParams};
use operator_runtime_core::{Object, ObjectRef, ObjectStore, TypeRef};
use operator_runtime_kube::KubeStore;
use operator_runtime_kube::testenv::{self, TestEnv};
use operator_runtime_memory::MemoryStore;
use operator_runtime_memory::workloads::WorkloadSimulator;
use serde_json::{Value, json};

/// How long a real status must stay unchanged to count as settled.
const STABLE_FOR: Duration = Duration::from_secs(3);
const DEADLINE: Duration = Duration::from_secs(90);

fn sts_type() -> TypeRef {
    TypeRef::new("apps/v1", "StatefulSet")
}

fn deploy_type() -> TypeRef {
    TypeRef::new("apps/v1", "Deployment")
}

fn template(app: &str, image: &str) -> Value {
    json!({"metadata": {"labels": {"app": app}},
        "spec": {"containers": [{"name": "main", "image": image}]}})
}

/// One step of the sequence: a merge patch of each workload's spec (`None`: unchanged).
struct Step {
    name: &'static str,
    sts: Option<Value>,
    deploy: Option<Value>,
}

fn steps() -> Vec<Step> {
    vec![
        Step {
            name: "scale up",
            sts: Some(json!({"replicas": 4})),
            deploy: Some(json!({"replicas": 5})),
        },
        Step {
            name: "template change",
            sts: Some(json!({"template": template("db", "db:2")})),
            deploy: Some(json!({"template": template("web", "web:2")})),
        },
        Step {
            name: "partition 2 with a template change",
            sts: Some(
                json!({"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}},
                "template": template("db", "db:3")}),
            ),
            deploy: None,
        },
        Step {
            name: "partition lifted",
            sts: Some(json!({"updateStrategy": {"rollingUpdate": {"partition": 0}}})),
            deploy: None,
        },
        Step {
            name: "scale down",
            sts: Some(json!({"replicas": 2})),
            deploy: Some(json!({"replicas": 2})),
        },
        Step {
            name: "OnDelete / Recreate with a template change",
            sts: Some(json!({"updateStrategy": {"type": "OnDelete", "rollingUpdate": null},
                "template": template("db", "db:4")})),
            deploy: Some(json!({"strategy": {"type": "Recreate", "rollingUpdate": null},
                "template": template("web", "web:4")})),
        },
        Step {
            name: "scale up under OnDelete / Recreate",
            sts: Some(json!({"replicas": 3})),
            deploy: Some(json!({"replicas": 3})),
        },
        Step {
            name: "template back to an earlier one",
            sts: Some(json!({"updateStrategy": {"type": "RollingUpdate"}, "template": template("db", "db:2")})),
            deploy: Some(json!({"strategy": {"type": "RollingUpdate"}, "template": template("web", "web:2")})),
        },
    ]
}

/// What the runtime reads of a workload, revision names reduced to a relation.
fn view(w: &Object) -> Value {
    let status = w.status().cloned().unwrap_or(Value::Null);
    let int = |k: &str| status.get(k).and_then(Value::as_i64).unwrap_or(0);
    let mut v = json!({
        "generation observed": status.get("observedGeneration").and_then(Value::as_i64) == w.metadata.generation,
        "replicas": int("replicas"),
        "readyReplicas": int("readyReplicas"),
        "availableReplicas": int("availableReplicas"),
        "updatedReplicas": int("updatedReplicas"),
        "readiness": format!("{:?}", readiness(w)),
    });
    if w.kind == "StatefulSet" {
        v["currentReplicas"] = json!(int("currentReplicas"));
        v["current revision is the update revision"] = json!(
            status.get("currentRevision").is_some() && status.get("currentRevision") == status.get("updateRevision")
        );
    } else {
        let reason = |kind: &str| {
            status.get("conditions").and_then(Value::as_array).and_then(|cs| {
                cs.iter().find(|c| c["type"] == kind).map(|c| {
                    format!(
                        "{}/{}",
                        c["status"].as_str().unwrap_or(""),
                        c["reason"].as_str().unwrap_or("")
                    )
                })
            })
        };
        v["Available"] = json!(reason("Available"));
        v["Progressing"] = json!(reason("Progressing"));
    }
    // Revision strings inside readiness reasons differ by construction.
    if let Some(r) = v["readiness"].as_str()
        && r.contains("revision")
    {
        v["readiness"] = json!("Progressing(revision not yet the update revision)");
    }
    v
}

async fn views(store: &impl ObjectStore, ns: &str) -> Result<Value, String> {
    let get = |t: TypeRef, name: &'static str| async move {
        store
            .get(&ObjectRef::namespaced(t, ns, name))
            .await
            .map_err(|e| e.to_string())
    };
    let sts = get(sts_type(), "db").await?;
    let deploy = get(deploy_type(), "web").await?;
    Ok(json!({"StatefulSet db": view(&sts), "Deployment web": view(&deploy)}))
}

async fn create(store: &impl ObjectStore, ns: &str) -> Result<(), String> {
    let sts = Object::new(&sts_type(), Some(ns), "db").with(
        "spec",
        json!({"replicas": 3, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}}, "template": template("db", "db:1")}),
    );
    let deploy = Object::new(&deploy_type(), Some(ns), "web").with(
        "spec",
        json!({"replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "template": template("web", "web:1")}),
    );
    for o in [sts, deploy] {
        store
            .create(&o, &WriteParams::default())
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

async fn apply_step(store: &impl ObjectStore, ns: &str, step: &Step) -> Result<(), String> {
    for (t, name, patch) in [(sts_type(), "db", &step.sts), (deploy_type(), "web", &step.deploy)] {
        if let Some(spec) = patch {
            store
                .patch(
                    &ObjectRef::namespaced(t, ns, name),
                    &Patch::Merge(json!({"spec": spec})),
                    &PatchParams::default(),
                )
                .await
                .map_err(|e| format!("{}: {e}", step.name))?;
        }
    }
    Ok(())
}

/// The memory side: the simulator acts until it writes nothing for two passes.
async fn settle_memory(
    store: &MemoryStore,
    sim: &mut WorkloadSimulator<MemoryStore>,
    ns: &str,
) -> Result<Value, String> {
    let mut quiet = 0;
    for _ in 0..200 {
        if sim.step().await == 0 {
            quiet += 1;
            if quiet == 2 {
                return views(store, ns).await;
            }
        } else {
            quiet = 0;
        }
    }
    Err("the simulator never settled".into())
}

/// The real side: the view has stayed the same for [`STABLE_FOR`] with every generation observed.
async fn settle_real(store: &KubeStore, ns: &str) -> Result<Value, String> {
    let start = Instant::now();
    let mut last = (Value::Null, Instant::now());
    loop {
        let now = views(store, ns).await?;
        let observed = now
            .as_object()
            .is_some_and(|m| m.values().all(|v| v["generation observed"] == true));
        if now != last.0 {
            last = (now, Instant::now());
        } else if observed && last.1.elapsed() >= STABLE_FOR {
            return Ok(now);
        }
        if start.elapsed() > DEADLINE {
            return Err(format!(
                "the real controllers did not settle within {DEADLINE:?}: {}",
                last.0
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_workload_simulation_agrees_with_the_real_controllers() {
    let Some(env) = testenv::available(TestEnv::shared_cluster()) else {
        return;
    };
    let client = env.client().unwrap_or_else(|e| panic!("client: {e}"));
    let ns = env
        .create_namespace(&client, "workloads")
        .await
        .unwrap_or_else(|e| panic!("namespace: {e}"));
    let real = KubeStore::new(client);
    let memory = MemoryStore::new();
    memory
        .create(
            &Object::new(&TypeRef::new("v1", "Namespace"), None, &ns),
            &WriteParams::default(),
        )
        .await
        .unwrap_or_else(|e| panic!("memory namespace: {e}"));
    let mut sim = WorkloadSimulator::new(memory.clone(), Duration::ZERO);

    let mut differences = Vec::new();
    let mut compare = |step: &str, m: Value, r: Value| {
        eprintln!("{step}:\n  memory {m}\n  real   {r}");
        if m != r {
            differences.push(format!("{step}:\n  memory {m}\n  real   {r}"));
        }
    };
    create(&memory, &ns).await.unwrap();
    create(&real, &ns).await.unwrap();
    let (m, r) = (
        settle_memory(&memory, &mut sim, &ns).await.unwrap(),
        settle_real(&real, &ns).await.unwrap(),
    );
    compare("create", m, r);
    for step in steps() {
        apply_step(&memory, &ns, &step).await.unwrap();
        apply_step(&real, &ns, &step).await.unwrap();
        let m = settle_memory(&memory, &mut sim, &ns).await.unwrap();
        let r = settle_real(&real, &ns).await.unwrap();
        compare(step.name, m, r);
    }
    assert!(
        differences.is_empty(),
        "the simulator differs from the real controllers:\n{}",
        differences.join("\n")
    );
}
