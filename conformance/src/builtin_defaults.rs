//! Defaulting of built-in kinds: a minimal object of each kind an operator creates is stored
//! with exactly the fields kube-apiserver 1.37.2 fills in (the expected JSON below is what the
//! real server returned), and a write that re-sends the pre-defaulting spec is a no-op.
//!
//! Values the server allocates (a Service's cluster IP and node ports) differ between runs of
//! the real server, so they are checked for their shape and then left out of the exact
//! comparison; the Job selector's controller uid is the Job's own uid (`<uid>` below).

use std::net::Ipv4Addr;
use std::sync::Arc;

use operator_runtime_core::{Object, ObjectStore, TypeRef};
use serde_json::{Value, json};

use crate::outcome::{CaseResult, Outcome};
use crate::support::{Ctx, edit, rv_of};

/// Creates `object` (named `d`, with `body` as its body) in the behaviour's namespace, reads
/// it back, and returns both after checking that they agree.
async fn create_and_read<S: ObjectStore + ?Sized>(
    cx: &Ctx<'_, S>,
    type_ref: &TypeRef,
    body: Value,
) -> Result<Arc<Object>, String> {
    let mut object = Object::new(type_ref, Some(&cx.ns), "d");
    if let Value::Object(fields) = body {
        object.body.extend(fields);
    }
    let created = cx.create(&object).await?;
    let stored = cx.get(&created.object_ref()).await?;
    ensure!(
        stored.body == created.body,
        "create response and stored object differ: {} vs {}",
        Value::Object(created.body.clone()),
        Value::Object(stored.body.clone())
    );
    Ok(stored)
}

/// Fails unless `actual` equals `expected`, printing both as JSON.
fn same(field: &str, actual: Option<&Value>, expected: &Value) -> Result<(), String> {
    let actual = actual.cloned().unwrap_or(Value::Null);
    ensure!(
        &actual == expected,
        "{field} differs from the real server's:\n  stored:   {actual}\n  expected: {expected}"
    );
    Ok(())
}

/// Creates a minimal object of `kind` and compares `field` of the stored body with `expected`.
async fn defaulted<S: ObjectStore + ?Sized>(
    store: &S,
    behaviour: &str,
    kind: (&str, &str),
    body: Value,
    field: &str,
    expected: Value,
) -> CaseResult {
    let cx = Ctx::new(store, behaviour).await?;
    let stored = create_and_read(&cx, &TypeRef::new(kind.0, kind.1), body).await?;
    same(field, stored.body.get(field), &expected)?;
    Ok(Outcome::Passed)
}

/// A container with a port, probes, a downward-API env var and no pull policy.
fn web_container(image: &str) -> Value {
    json!({
        "name": "web",
        "image": image,
        "ports": [{"containerPort": 8080}],
        "livenessProbe": {"httpGet": {"port": 8080}},
        "readinessProbe": {"tcpSocket": {"port": 8080}},
        "env": [{"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]
    })
}

/// That container as the real server stores it.
fn web_container_defaulted(image: &str, pull_policy: &str) -> Value {
    json!({
        "name": "web",
        "image": image,
        "imagePullPolicy": pull_policy,
        "ports": [{"containerPort": 8080, "protocol": "TCP"}],
        "livenessProbe": {
            "httpGet": {"port": 8080, "path": "/", "scheme": "HTTP"},
            "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3
        },
        "readinessProbe": {
            "tcpSocket": {"port": 8080},
            "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3
        },
        "env": [{"name": "POD", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}}],
        "resources": {},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File"
    })
}

/// The pod-spec fields every template gets.
fn template_spec_defaults(spec: Value) -> Value {
    let mut spec = spec;
    if let Some(fields) = spec.as_object_mut() {
        for (key, value) in [
            ("dnsPolicy", json!("ClusterFirst")),
            ("restartPolicy", json!("Always")),
            ("schedulerName", json!("default-scheduler")),
            ("securityContext", json!({})),
            ("terminationGracePeriodSeconds", json!(30)),
        ] {
            fields.entry(key).or_insert(value);
        }
    }
    spec
}

/// Deployment: replicas, RollingUpdate 25%/25%, history and progress deadline; the template's
/// containers, probes, ports, env and volume sources.
pub async fn deployment_spec_is_defaulted<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let volumes = json!([
        {"name": "cfg", "configMap": {"name": "c"}},
        {"name": "sec", "secret": {"secretName": "s"}},
        {"name": "scratch"},
        {"name": "info", "downwardAPI": {"items": [{"path": "n", "fieldRef": {"fieldPath": "metadata.name"}}]}},
        {"name": "token", "projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]}}
    ]);
    let body = json!({"spec": {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [web_container("nginx")], "volumes": volumes}
        }
    }});
    let expected = json!({
        "replicas": 1,
        "selector": {"matchLabels": {"app": "web"}},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
        "revisionHistoryLimit": 10,
        "progressDeadlineSeconds": 600,
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": template_spec_defaults(json!({
                "containers": [web_container_defaulted("nginx", "Always")],
                "volumes": [
                    {"name": "cfg", "configMap": {"name": "c", "defaultMode": 420}},
                    {"name": "sec", "secret": {"secretName": "s", "defaultMode": 420}},
                    {"name": "scratch", "emptyDir": {}},
                    {"name": "info", "downwardAPI": {"defaultMode": 420, "items": [
                        {"path": "n", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}
                    ]}},
                    {"name": "token", "projected": {"defaultMode": 420, "sources": [
                        {"serviceAccountToken": {"path": "t", "expirationSeconds": 3600}}
                    ]}}
                ]
            }))
        }
    });
    defaulted(
        store,
        "deployment_spec_is_defaulted",
        ("apps/v1", "Deployment"),
        body,
        "spec",
        expected,
    )
    .await
}

/// StatefulSet: pod management, update strategy, claim retention, replicas, history; claim
/// templates get volumeMode and a Pending status.
pub async fn stateful_set_spec_is_defaulted<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let body = json!({"spec": {
        "serviceName": "db",
        "selector": {"matchLabels": {"app": "db"}},
        "template": {
            "metadata": {"labels": {"app": "db"}},
            "spec": {"containers": [{
                "name": "db", "image": "postgres:17",
                "startupProbe": {"exec": {"command": ["true"]}},
                "volumeMounts": [{"name": "data", "mountPath": "/data"}]
            }]}
        },
        "volumeClaimTemplates": [{
            "metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
        }]
    }});
    let expected = json!({
        "replicas": 1,
        "serviceName": "db",
        "selector": {"matchLabels": {"app": "db"}},
        "podManagementPolicy": "OrderedReady",
        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0, "maxUnavailable": 1}},
        "revisionHistoryLimit": 10,
        "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
        "template": {
            "metadata": {"labels": {"app": "db"}},
            "spec": template_spec_defaults(json!({"containers": [{
                "name": "db", "image": "postgres:17", "imagePullPolicy": "IfNotPresent",
                "startupProbe": {
                    "exec": {"command": ["true"]},
                    "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3
                },
                "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                "resources": {},
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File"
            }]}))
        },
        "volumeClaimTemplates": [{
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data"},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "1Gi"}},
                "volumeMode": "Filesystem"
            },
            "status": {"phase": "Pending"}
        }]
    });
    defaulted(
        store,
        "stateful_set_spec_is_defaulted",
        ("apps/v1", "StatefulSet"),
        body,
        "spec",
        expected,
    )
    .await
}

/// A one-container template spec that runs `busybox:1.36` with `restartPolicy`.
fn batch_template(restart_policy: &str) -> Value {
    json!({"spec": {
        "restartPolicy": restart_policy,
        "containers": [{"name": "task", "image": "busybox:1.36", "command": ["true"]}]
    }})
}

/// That template's spec as the real server stores it.
fn batch_template_spec_defaulted(restart_policy: &str) -> Value {
    template_spec_defaults(json!({
        "restartPolicy": restart_policy,
        "containers": [{
            "name": "task", "image": "busybox:1.36", "command": ["true"],
            "imagePullPolicy": "IfNotPresent",
            "resources": {},
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File"
        }]
    }))
}

/// DaemonSet: RollingUpdate with maxUnavailable 1 and maxSurge 0, history, template; the
/// template generation annotation starts at 1.
pub async fn daemon_set_spec_is_defaulted<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "daemon_set_spec_is_defaulted").await?;
    let mut template = batch_template("Always");
    template["metadata"] = json!({"labels": {"app": "agent"}});
    let body = json!({"spec": {"selector": {"matchLabels": {"app": "agent"}}, "template": template}});
    let stored = create_and_read(&cx, &TypeRef::new("apps/v1", "DaemonSet"), body).await?;
    let expected = json!({
        "selector": {"matchLabels": {"app": "agent"}},
        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
        "revisionHistoryLimit": 10,
        "template": {"metadata": {"labels": {"app": "agent"}}, "spec": batch_template_spec_defaulted("Always")}
    });
    same("spec", stored.body.get("spec"), &expected)?;
    let generation = stored
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get("deprecated.daemonset.template.generation"));
    ensure!(
        generation.map(String::as_str) == Some("1"),
        "template generation annotation is {generation:?}"
    );
    Ok(Outcome::Passed)
}

/// Job: completions, parallelism, backoff, completion mode, suspend, replacement policy,
/// manualSelector false, and a generated selector and labels naming the Job's uid; the Job
/// takes its template's labels.
pub async fn job_spec_is_defaulted_with_generated_selector<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "job_spec_is_defaulted_with_generated_selector").await?;
    let stored = create_and_read(
        &cx,
        &TypeRef::new("batch/v1", "Job"),
        json!({"spec": {"template": batch_template("Never")}}),
    )
    .await?;
    let uid = stored.uid().unwrap_or_default();
    let labels = json!({
        "batch.kubernetes.io/controller-uid": uid,
        "batch.kubernetes.io/job-name": "d",
        "controller-uid": uid,
        "job-name": "d"
    });
    let expected = json!({
        "completions": 1,
        "parallelism": 1,
        "backoffLimit": 6,
        "completionMode": "NonIndexed",
        "suspend": false,
        "podReplacementPolicy": "TerminatingOrFailed",
        "manualSelector": false,
        "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}},
        "template": {"metadata": {"labels": labels}, "spec": batch_template_spec_defaulted("Never")}
    });
    same("spec", stored.body.get("spec"), &expected)?;
    let job_labels = serde_json::to_value(&stored.metadata.labels).map_err(|e| e.to_string())?;
    same("metadata.labels", Some(&job_labels), &labels)?;
    Ok(Outcome::Passed)
}

/// CronJob: concurrency, suspend, history limits; the job template gets only the pod
/// template defaults.
pub async fn cron_job_spec_is_defaulted<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let body = json!({"spec": {
        "schedule": "*/5 * * * *",
        "jobTemplate": {"spec": {"template": batch_template("OnFailure")}}
    }});
    let expected = json!({
        "schedule": "*/5 * * * *",
        "concurrencyPolicy": "Allow",
        "suspend": false,
        "successfulJobsHistoryLimit": 3,
        "failedJobsHistoryLimit": 1,
        "jobTemplate": {"metadata": {}, "spec": {"template": {"metadata": {}, "spec": batch_template_spec_defaulted("OnFailure")}}}
    });
    defaulted(
        store,
        "cron_job_spec_is_defaulted",
        ("batch/v1", "CronJob"),
        body,
        "spec",
        expected,
    )
    .await
}

/// Pod: the template defaults plus what only pods get (service links, priority, the
/// not-ready/unreachable tolerations of the DefaultTolerationSeconds admission plugin).
pub async fn pod_spec_is_defaulted<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let body = json!({"spec": {"containers": [
        {"name": "web", "image": "nginx:1.27", "resources": {"limits": {"cpu": "1"}}}
    ]}});
    let expected = json!({
        "containers": [{
            "name": "web", "image": "nginx:1.27", "imagePullPolicy": "IfNotPresent",
            "resources": {"limits": {"cpu": "1"}, "requests": {"cpu": "1"}},
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File"
        }],
        "dnsPolicy": "ClusterFirst",
        "enableServiceLinks": true,
        "preemptionPolicy": "PreemptLowerPriority",
        "priority": 0,
        "restartPolicy": "Always",
        "schedulerName": "default-scheduler",
        "securityContext": {},
        "terminationGracePeriodSeconds": 30,
        "tolerations": [
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
        ]
    });
    defaulted(store, "pod_spec_is_defaulted", ("v1", "Pod"), body, "spec", expected).await
}

/// Checks the shape of the allocated cluster IP (an IPv4 address, the only entry of
/// `clusterIPs`) and removes both for the exact comparison.
fn take_cluster_ip(spec: &mut Value) -> Result<(), String> {
    let ip = spec["clusterIP"].as_str().unwrap_or_default().to_owned();
    ensure!(
        ip.parse::<Ipv4Addr>().is_ok(),
        "clusterIP {ip:?} is not an IPv4 address"
    );
    ensure!(
        spec["clusterIPs"] == json!([ip]),
        "clusterIPs {} is not [clusterIP]",
        spec["clusterIPs"]
    );
    if let Some(fields) = spec.as_object_mut() {
        fields.remove("clusterIP");
        fields.remove("clusterIPs");
    }
    Ok(())
}

/// Service: type, session affinity, port protocol and targetPort, IP families, internal
/// traffic policy, an allocated cluster IP, and an empty load-balancer status.
pub async fn service_spec_is_defaulted_with_cluster_ip<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "service_spec_is_defaulted_with_cluster_ip").await?;
    let stored = create_and_read(
        &cx,
        &TypeRef::new("v1", "Service"),
        json!({"spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}),
    )
    .await?;
    let mut spec = stored.body.get("spec").cloned().unwrap_or(Value::Null);
    take_cluster_ip(&mut spec)?;
    let expected = json!({
        "selector": {"app": "web"},
        "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}],
        "type": "ClusterIP",
        "sessionAffinity": "None",
        "ipFamilies": ["IPv4"],
        "ipFamilyPolicy": "SingleStack",
        "internalTrafficPolicy": "Cluster"
    });
    same("spec", Some(&spec), &expected)?;
    same("status", stored.body.get("status"), &json!({"loadBalancer": {}}))?;
    Ok(Outcome::Passed)
}

/// NodePort Service: external traffic policy and an allocated node port per port (in the
/// default node port range), kept by an update that omits it.
pub async fn node_port_service_gets_node_ports<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "node_port_service_gets_node_ports").await?;
    let original =
        json!({"spec": {"type": "NodePort", "selector": {"app": "web"}, "ports": [{"name": "http", "port": 80}]}});
    let stored = create_and_read(&cx, &TypeRef::new("v1", "Service"), original.clone()).await?;
    let mut spec = stored.body.get("spec").cloned().unwrap_or(Value::Null);
    take_cluster_ip(&mut spec)?;
    let node_port = spec["ports"][0]["nodePort"].as_i64().unwrap_or_default();
    ensure!(
        (30000..=32767).contains(&node_port),
        "nodePort {node_port} outside 30000-32767"
    );
    let expected = json!({
        "type": "NodePort",
        "selector": {"app": "web"},
        "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 80, "nodePort": node_port}],
        "sessionAffinity": "None",
        "externalTrafficPolicy": "Cluster",
        "ipFamilies": ["IPv4"],
        "ipFamilyPolicy": "SingleStack",
        "internalTrafficPolicy": "Cluster"
    });
    same("spec", Some(&spec), &expected)?;
    let resent = edit(&stored).with("spec", original["spec"].clone());
    let updated = cx.replace(&resent).await?;
    same(
        "spec after re-sending the original spec",
        updated.body.get("spec"),
        &stored.body["spec"],
    )?;
    ensure!(
        rv_of(&updated)? == rv_of(&stored)?,
        "re-sending the original spec changed the resourceVersion"
    );
    Ok(Outcome::Passed)
}

/// Headless Service with a selector: cluster IP `None`, single-stack IPv4.
pub async fn headless_service_is_single_stack<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let body = json!({"spec": {"clusterIP": "None", "selector": {"app": "db"}, "ports": [{"port": 5432}]}});
    let expected = json!({
        "clusterIP": "None",
        "clusterIPs": ["None"],
        "selector": {"app": "db"},
        "ports": [{"port": 5432, "protocol": "TCP", "targetPort": 5432}],
        "type": "ClusterIP",
        "sessionAffinity": "None",
        "ipFamilies": ["IPv4"],
        "ipFamilyPolicy": "SingleStack",
        "internalTrafficPolicy": "Cluster"
    });
    defaulted(
        store,
        "headless_service_is_single_stack",
        ("v1", "Service"),
        body,
        "spec",
        expected,
    )
    .await
}

/// ConfigMap: data is stored as written.
pub async fn config_map_data_is_kept<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let data = json!({"app.properties": "a=1\n", "empty": ""});
    defaulted(
        store,
        "config_map_data_is_kept",
        ("v1", "ConfigMap"),
        json!({"data": data.clone()}),
        "data",
        data,
    )
    .await
}

/// Secret: `type: Opaque`, and `stringData` is merged into `data` (base64) and not stored.
pub async fn secret_is_opaque_and_string_data_moves_to_data<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "secret_is_opaque_and_string_data_moves_to_data").await?;
    let stored = create_and_read(
        &cx,
        &TypeRef::new("v1", "Secret"),
        json!({"data": {"a": "YQ=="}, "stringData": {"password": "hunter2", "a": "b"}}),
    )
    .await?;
    same("type", stored.body.get("type"), &json!("Opaque"))?;
    same(
        "data",
        stored.body.get("data"),
        &json!({"a": "Yg==", "password": "aHVudGVyMg=="}),
    )?;
    same("stringData", stored.body.get("stringData"), &Value::Null)?;
    Ok(Outcome::Passed)
}

/// PersistentVolumeClaim: `volumeMode: Filesystem` and a Pending phase.
pub async fn persistent_volume_claim_is_defaulted<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "persistent_volume_claim_is_defaulted").await?;
    let spec = json!({"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}});
    let stored = create_and_read(&cx, &TypeRef::new("v1", "PersistentVolumeClaim"), json!({"spec": spec})).await?;
    let expected = json!({
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "1Gi"}},
        "volumeMode": "Filesystem"
    });
    same("spec", stored.body.get("spec"), &expected)?;
    same("status", stored.body.get("status"), &json!({"phase": "Pending"}))?;
    Ok(Outcome::Passed)
}

/// PodDisruptionBudget: no defaults.
pub async fn pod_disruption_budget_spec_is_kept<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let spec = json!({"minAvailable": 1, "selector": {"matchLabels": {"app": "db"}}});
    defaulted(
        store,
        "pod_disruption_budget_spec_is_kept",
        ("policy/v1", "PodDisruptionBudget"),
        json!({"spec": spec.clone()}),
        "spec",
        spec,
    )
    .await
}

/// ServiceAccount: nothing added to the body (no token secrets are created).
pub async fn service_account_body_is_kept<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "service_account_body_is_kept").await?;
    let stored = create_and_read(&cx, &TypeRef::new("v1", "ServiceAccount"), json!({})).await?;
    let keys: Vec<&String> = stored.body.keys().collect();
    ensure!(keys.is_empty(), "unexpected fields in a new ServiceAccount: {keys:?}");
    Ok(Outcome::Passed)
}

/// Role: rules as written.
pub async fn role_rules_are_kept<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let rules = json!([{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]);
    defaulted(
        store,
        "role_rules_are_kept",
        ("rbac.authorization.k8s.io/v1", "Role"),
        json!({"rules": rules.clone()}),
        "rules",
        rules,
    )
    .await
}

/// RoleBinding: User and Group subjects get the RBAC API group, ServiceAccount subjects none.
pub async fn role_binding_subjects_get_api_group<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "role_binding_subjects_get_api_group").await?;
    let stored = create_and_read(
        &cx,
        &TypeRef::new("rbac.authorization.k8s.io/v1", "RoleBinding"),
        json!({
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
            "subjects": [
                {"kind": "User", "name": "alice"},
                {"kind": "Group", "name": "devs"},
                {"kind": "ServiceAccount", "name": "op", "namespace": "default"}
            ]
        }),
    )
    .await?;
    let expected = json!([
        {"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"},
        {"kind": "Group", "name": "devs", "apiGroup": "rbac.authorization.k8s.io"},
        {"kind": "ServiceAccount", "name": "op", "namespace": "default"}
    ]);
    same("subjects", stored.body.get("subjects"), &expected)?;
    same(
        "roleRef",
        stored.body.get("roleRef"),
        &json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"}),
    )?;
    Ok(Outcome::Passed)
}

/// Ingress: no defaults (pathType is required).
pub async fn ingress_spec_is_kept<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let spec = json!({"rules": [{"host": "a.example.com", "http": {"paths": [{
        "path": "/", "pathType": "Prefix",
        "backend": {"service": {"name": "web", "port": {"number": 80}}}
    }]}}]});
    defaulted(
        store,
        "ingress_spec_is_kept",
        ("networking.k8s.io/v1", "Ingress"),
        json!({"spec": spec.clone()}),
        "spec",
        spec,
    )
    .await
}

/// HorizontalPodAutoscaler v2: minReplicas, the 80% CPU metric, and a present behavior's
/// scaling rules completed (the scale-down window is left unset).
pub async fn horizontal_pod_autoscaler_spec_is_defaulted<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let target = json!({"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"});
    let body = json!({"spec": {
        "scaleTargetRef": target.clone(),
        "maxReplicas": 5,
        "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60}}
    }});
    let expected = json!({
        "scaleTargetRef": target,
        "minReplicas": 1,
        "maxReplicas": 5,
        "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}],
        "behavior": {
            "scaleUp": {
                "stabilizationWindowSeconds": 0,
                "selectPolicy": "Max",
                "policies": [
                    {"type": "Pods", "value": 4, "periodSeconds": 15},
                    {"type": "Percent", "value": 100, "periodSeconds": 15}
                ]
            },
            "scaleDown": {
                "stabilizationWindowSeconds": 60,
                "selectPolicy": "Max",
                "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]
            }
        }
    });
    defaulted(
        store,
        "horizontal_pod_autoscaler_spec_is_defaulted",
        ("autoscaling/v2", "HorizontalPodAutoscaler"),
        body,
        "spec",
        expected,
    )
    .await
}

/// NetworkPolicy: policy types from the rules present, TCP for ports without a protocol.
pub async fn network_policy_spec_is_defaulted<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let body = json!({"spec": {
        "podSelector": {},
        "ingress": [{"ports": [{"port": 80}]}],
        "egress": [{"ports": [{"port": 53, "protocol": "UDP"}]}]
    }});
    let expected = json!({
        "podSelector": {},
        "ingress": [{"ports": [{"port": 80, "protocol": "TCP"}]}],
        "egress": [{"ports": [{"port": 53, "protocol": "UDP"}]}],
        "policyTypes": ["Ingress", "Egress"]
    });
    defaulted(
        store,
        "network_policy_spec_is_defaulted",
        ("networking.k8s.io/v1", "NetworkPolicy"),
        body,
        "spec",
        expected,
    )
    .await
}

/// Lease: no defaults.
pub async fn lease_spec_is_kept<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let spec = json!({"holderIdentity": "op-0", "leaseDurationSeconds": 15});
    defaulted(
        store,
        "lease_spec_is_kept",
        ("coordination.k8s.io/v1", "Lease"),
        json!({"spec": spec.clone()}),
        "spec",
        spec,
    )
    .await
}

/// Namespace: the `kubernetes.io/metadata.name` label.
pub async fn namespace_gets_metadata_name_label<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "namespace_gets_metadata_name_label").await?;
    let namespace = cx
        .get(&operator_runtime_core::ObjectRef::cluster(
            TypeRef::new("v1", "Namespace"),
            &cx.ns,
        ))
        .await?;
    let label = namespace
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get("kubernetes.io/metadata.name"));
    ensure!(label == Some(&cx.ns), "kubernetes.io/metadata.name label is {label:?}");
    Ok(Outcome::Passed)
}

/// An update that re-sends the spec as first written (before defaulting) is a no-op: same
/// resourceVersion, same generation, same stored spec.
pub async fn update_resending_undefaulted_spec_is_a_no_op<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "update_resending_undefaulted_spec_is_a_no_op").await?;
    let original = json!({"spec": {
        "serviceName": "db",
        "selector": {"matchLabels": {"app": "db"}},
        "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [web_container("postgres:17")]}},
        "volumeClaimTemplates": [{
            "metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
        }]
    }});
    let created = create_and_read(&cx, &TypeRef::new("apps/v1", "StatefulSet"), original.clone()).await?;
    let resent = edit(&created).with("spec", original["spec"].clone());
    let updated = cx.replace(&resent).await?;
    ensure!(
        rv_of(&updated)? == rv_of(&created)?,
        "resourceVersion changed from {} to {}",
        rv_of(&created)?,
        rv_of(&updated)?
    );
    ensure!(
        updated.metadata.generation == created.metadata.generation,
        "generation changed from {:?} to {:?}",
        created.metadata.generation,
        updated.metadata.generation
    );
    same("spec", updated.body.get("spec"), &created.body["spec"])?;
    Ok(Outcome::Passed)
}

/// A new object's status reads back with the zero-valued fields the server encodes (and a
/// Pod's phase and QoS class), before any controller writes one.
pub async fn new_object_status_has_server_zero_values<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "new_object_status_has_server_zero_values").await?;
    let selector = json!({"matchLabels": {"app": "a"}});
    let template = json!({"metadata": {"labels": {"app": "a"}}, "spec": batch_template("Always")["spec"]});
    let job_template = json!({"spec": batch_template("Never")["spec"]});
    let cases = [
        (
            ("apps/v1", "Deployment"),
            json!({"spec": {"selector": selector, "template": template}}),
            json!({}),
        ),
        (
            ("apps/v1", "StatefulSet"),
            json!({"spec": {"selector": selector, "template": template}}),
            json!({"replicas": 0, "availableReplicas": 0}),
        ),
        (
            ("apps/v1", "DaemonSet"),
            json!({"spec": {"selector": selector, "template": template}}),
            json!({"currentNumberScheduled": 0, "desiredNumberScheduled": 0, "numberMisscheduled": 0, "numberReady": 0}),
        ),
        (
            ("batch/v1", "Job"),
            json!({"spec": {"template": job_template}}),
            json!({}),
        ),
        (
            ("batch/v1", "CronJob"),
            json!({"spec": {"schedule": "@hourly", "jobTemplate": {"spec": {"template": job_template}}}}),
            json!({}),
        ),
        (
            ("policy/v1", "PodDisruptionBudget"),
            json!({"spec": {"maxUnavailable": 1, "selector": selector}}),
            json!({"currentHealthy": 0, "desiredHealthy": 0, "disruptionsAllowed": 0, "expectedPods": 0}),
        ),
        (
            ("networking.k8s.io/v1", "Ingress"),
            json!({"spec": {"defaultBackend": {"service": {"name": "web", "port": {"number": 80}}}}}),
            json!({"loadBalancer": {}}),
        ),
        (
            ("autoscaling/v2", "HorizontalPodAutoscaler"),
            json!({"spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                "maxReplicas": 2
            }}),
            json!({"currentMetrics": null, "desiredReplicas": 0}),
        ),
        (
            ("v1", "Pod"),
            json!({"spec": {"containers": [{"name": "a", "image": "busybox:1.36"}]}}),
            json!({"phase": "Pending", "qosClass": "BestEffort"}),
        ),
    ];
    for ((api_version, kind), body, expected) in cases {
        let stored = create_and_read(&cx, &TypeRef::new(api_version, kind), body).await?;
        same(&format!("{kind} status"), stored.body.get("status"), &expected)?;
    }
    Ok(Outcome::Passed)
}
