//! Value pools: realistic values and edge cases (quantities, base64, long names, immutable
//! flags, nulls, int-or-string), object bodies per kind, and the `Sprocket` CRD.

use operator_runtime_core::Object;
use rand::Rng;
use rand::seq::IndexedRandom;
use serde_json::{Value, json};

use super::ops::{GROUP, Kind};

/// Label keys: the common ones and one invalid key.
pub const LABEL_KEYS: &[&str] = &["app", "tier", "example.com/role", "bad key!"];
/// Label values: short ones, empty, and invalid ones (too long, a space).
pub const LABEL_VALUES: &[&str] = &[
    "a",
    "b",
    "web",
    "",
    "x-1.y_2",
    "bad value",
    "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv",
];
/// Quantities, valid and not, as strings and numbers.
pub const QUANTITIES: &[&str] = &[
    "1000m", "1", "0.5", "1024Mi", "1Gi", "100M", "1e3", "500m", "1.5Gi", "0", "abc", "-1",
];
/// Finalizer names (the second one is not qualified: a warning on the real server, accepted).
pub const FINALIZERS: &[&str] = &["differential.operator-runtime.io/hold", "example.com/second"];
/// Label selectors, one of them malformed.
pub const LABEL_SELECTORS: &[&str] = &[
    "app=a",
    "app!=a",
    "app in (a,b)",
    "app notin (a)",
    "tier",
    "!tier",
    "app=a,tier=web",
    "app in (",
];

/// A random element of a non-empty pool.
pub fn pick<'a, R: Rng>(rng: &mut R, pool: &'a [&'a str]) -> &'a str {
    pool.choose(rng).copied().unwrap_or_default()
}

/// A quantity: mostly strings, sometimes a JSON number.
pub fn quantity<R: Rng>(rng: &mut R) -> Value {
    if rng.random_bool(0.15) {
        [json!(1), json!(2), json!(0.5), json!(1000)][rng.random_range(0..4)].clone()
    } else {
        json!(pick(rng, QUANTITIES))
    }
}

/// A name: the symbol itself, or an edge case (too long, upper case, a leading digit).
pub fn object_name<R: Rng>(rng: &mut R, sym: &str) -> String {
    match rng.random_range(0..20) {
        0 => format!("{sym}-{}", "n".repeat(250)),
        1 => format!("{}{sym}", "Upper_"),
        2 => format!("1{sym}"),
        3 => format!("{sym}.dotted"),
        _ => sym.to_owned(),
    }
}

fn labels<R: Rng>(rng: &mut R) -> Value {
    let mut map = serde_json::Map::new();
    for _ in 0..rng.random_range(0..3) {
        let key = if rng.random_bool(0.9) {
            pick(rng, &LABEL_KEYS[..3])
        } else {
            pick(rng, LABEL_KEYS)
        };
        let value = if rng.random_bool(0.85) {
            pick(rng, &LABEL_VALUES[..5])
        } else {
            pick(rng, LABEL_VALUES)
        };
        map.insert(key.to_owned(), json!(value));
    }
    Value::Object(map)
}

fn b64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(TABLE[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A ConfigMap or Secret data value.
fn text<R: Rng>(rng: &mut R) -> String {
    ["v", "", "multi\nline", "ünïcode", "0.5", "true"][rng.random_range(0..6)].to_owned()
}

fn data_key<R: Rng>(rng: &mut R) -> &'static str {
    ["k", "config.yaml", "k2", "_under", "bad/key"][if rng.random_bool(0.9) {
        rng.random_range(0..4)
    } else {
        4
    }]
}

/// The body of a new object of `kind` (apiVersion, kind, metadata without name, fields).
pub fn body<R: Rng>(rng: &mut R, kind: Kind) -> Value {
    let t = kind.type_ref();
    let mut obj = json!({"apiVersion": t.api_version, "kind": t.kind, "metadata": {}});
    if rng.random_bool(0.6) {
        obj["metadata"]["labels"] = labels(rng);
    }
    if rng.random_bool(0.2) {
        obj["metadata"]["annotations"] = json!({"note": text(rng)});
    }
    if rng.random_bool(0.1) {
        obj["metadata"]["finalizers"] = json!([FINALIZERS[0]]);
    }
    let fields = match kind {
        Kind::ConfigMap => config_map_fields(rng),
        Kind::Secret => secret_fields(rng),
        Kind::Service => service_fields(rng),
        Kind::Deployment => workload_fields(rng, false),
        Kind::StatefulSet => workload_fields(rng, true),
        Kind::Sprocket => sprocket_fields(rng),
        Kind::Pod => json!({"spec": pod_spec(rng, "Always")}),
        Kind::Job => job_fields(rng),
        Kind::CronJob => cron_job_fields(rng),
        Kind::DaemonSet => daemon_set_fields(rng),
        Kind::PersistentVolumeClaim => claim_fields(rng),
        Kind::ServiceAccount => service_account_fields(rng),
        Kind::Ingress => ingress_fields(rng),
        Kind::NetworkPolicy => network_policy_fields(rng),
        Kind::PodDisruptionBudget => disruption_budget_fields(rng),
        Kind::HorizontalPodAutoscaler => autoscaler_fields(rng),
        Kind::Role => json!({"rules": [policy_rule(rng)]}),
        Kind::RoleBinding => role_binding_fields(rng),
    };
    if let (Some(target), Value::Object(fields)) = (obj.as_object_mut(), fields) {
        target.extend(fields);
    }
    obj
}

/// One of `pool`'s values.
fn one<R: Rng>(rng: &mut R, pool: &[Value]) -> Value {
    pool.choose(rng).cloned().unwrap_or(Value::Null)
}

/// A pod spec: one container, sometimes a restart policy (one of them invalid for `usual`'s
/// kind), a grace period (negative ones are defaulted), a volume, host networking with a port.
fn pod_spec<R: Rng>(rng: &mut R, usual: &str) -> Value {
    let mut spec = json!({"containers": [container(rng)]});
    match rng.random_range(0..6) {
        0 => spec["restartPolicy"] = json!(usual),
        1 => {
            spec["restartPolicy"] = one(
                rng,
                &[json!("Never"), json!("OnFailure"), json!("Always"), json!("Bogus")],
            )
        }
        _ => {}
    }
    if rng.random_bool(0.15) {
        spec["terminationGracePeriodSeconds"] = one(rng, &[json!(-5), json!(0), json!(10)]);
    }
    if rng.random_bool(0.25) {
        spec["volumes"] = one(
            rng,
            &[
                json!([{"name": "cfg", "configMap": {"name": "cm-0"}}]),
                json!([{"name": "scratch", "emptyDir": {}}]),
                json!([{"name": "creds", "secret": {"secretName": "secret-0", "defaultMode": 256}}]),
                json!([{"name": "x", "configMap": {"name": "a"}}, {"name": "x", "emptyDir": {}}]),
            ],
        );
    }
    if rng.random_bool(0.1) {
        spec["hostNetwork"] = json!(true);
        spec["containers"][0]["ports"] = json!([{"containerPort": 9090}]);
    }
    if rng.random_bool(0.1) {
        spec["activeDeadlineSeconds"] = one(rng, &[json!(30), json!(0)]);
    }
    if rng.random_bool(0.1) {
        spec["tolerations"] =
            json!([{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"}]);
    }
    spec
}

fn template<R: Rng>(rng: &mut R, labels: Value, restart: &str) -> Value {
    json!({"metadata": {"labels": labels}, "spec": pod_spec(rng, restart)})
}

fn job_spec<R: Rng>(rng: &mut R) -> Value {
    let mut spec = json!({"template": template(rng, json!({"app": "a"}), "Never")});
    if spec["template"]["spec"].get("restartPolicy").is_none() && rng.random_bool(0.8) {
        spec["template"]["spec"]["restartPolicy"] = json!("Never");
    }
    if rng.random_bool(0.3) {
        spec["backoffLimit"] = one(rng, &[json!(0), json!(3), json!(-1)]);
    }
    if rng.random_bool(0.3) {
        spec["completions"] = one(rng, &[json!(1), json!(5)]);
    }
    if rng.random_bool(0.3) {
        spec["parallelism"] = one(rng, &[json!(1), json!(2), json!(-1)]);
    }
    if rng.random_bool(0.15) {
        spec["completionMode"] = one(rng, &[json!("Indexed"), json!("NonIndexed"), json!("Bogus")]);
    }
    if rng.random_bool(0.2) {
        spec["suspend"] = json!(rng.random_bool(0.5));
    }
    if rng.random_bool(0.1) {
        spec["manualSelector"] = json!(true);
        spec["selector"] = json!({"matchLabels": {"app": "a"}});
    }
    if rng.random_bool(0.1) {
        spec["ttlSecondsAfterFinished"] = json!(100);
    }
    spec
}

fn job_fields<R: Rng>(rng: &mut R) -> Value {
    json!({"spec": job_spec(rng)})
}

fn cron_job_fields<R: Rng>(rng: &mut R) -> Value {
    let schedule = one(
        rng,
        &[
            json!("*/5 * * * *"),
            json!("@hourly"),
            json!("0 0 * * 1"),
            json!("bogus"),
            json!("61 * * * *"),
        ],
    );
    let mut spec = json!({"schedule": schedule, "jobTemplate": {"spec": job_spec(rng)}});
    if rng.random_bool(0.2) {
        spec["concurrencyPolicy"] = one(rng, &[json!("Forbid"), json!("Replace"), json!("Bogus")]);
    }
    if rng.random_bool(0.15) {
        spec["timeZone"] = one(rng, &[json!("Etc/UTC"), json!("Europe/Paris"), json!("Not/AZone")]);
    }
    if rng.random_bool(0.15) {
        spec["suspend"] = json!(true);
    }
    if rng.random_bool(0.15) {
        spec["successfulJobsHistoryLimit"] = one(rng, &[json!(0), json!(-1)]);
    }
    json!({"spec": spec})
}

fn daemon_set_fields<R: Rng>(rng: &mut R) -> Value {
    let app = if rng.random_bool(0.9) { "a" } else { "b" };
    let mut spec = json!({
        "selector": {"matchLabels": {"app": "a"}},
        "template": template(rng, json!({"app": app}), "Always"),
    });
    if rng.random_bool(0.25) {
        spec["updateStrategy"] = one(
            rng,
            &[
                json!({"type": "OnDelete"}),
                json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%"}}),
                json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 0}}),
            ],
        );
    }
    if rng.random_bool(0.1) {
        spec["minReadySeconds"] = json!(5);
    }
    json!({"spec": spec})
}

fn claim_fields<R: Rng>(rng: &mut R) -> Value {
    let mut spec = json!({"resources": {"requests": {"storage": quantity(rng)}}});
    if rng.random_bool(0.9) {
        spec["accessModes"] = one(
            rng,
            &[
                json!(["ReadWriteOnce"]),
                json!(["ReadWriteMany", "ReadOnlyMany"]),
                json!(["Bogus"]),
            ],
        );
    }
    if rng.random_bool(0.3) {
        spec["storageClassName"] = one(rng, &[json!("standard"), json!(""), json!(null)]);
    }
    if rng.random_bool(0.15) {
        spec["volumeMode"] = one(rng, &[json!("Block"), json!("Filesystem"), json!("Bogus")]);
    }
    if rng.random_bool(0.1) {
        spec["selector"] = json!({"matchLabels": {"tier": "fast"}});
    }
    json!({"spec": spec})
}

fn service_account_fields<R: Rng>(rng: &mut R) -> Value {
    let mut v = json!({});
    if rng.random_bool(0.3) {
        v["automountServiceAccountToken"] = json!(rng.random_bool(0.5));
    }
    if rng.random_bool(0.3) {
        v["secrets"] = json!([{"name": "secret-0"}]);
    }
    if rng.random_bool(0.3) {
        v["imagePullSecrets"] = one(rng, &[json!([{"name": "pull"}]), json!([{"name": ""}])]);
    }
    v
}

fn ingress_backend<R: Rng>(rng: &mut R) -> Value {
    let port = one(
        rng,
        &[json!({"number": 80}), json!({"name": "http"}), json!({"number": 0})],
    );
    json!({"service": {"name": "svc-0", "port": port}})
}

fn ingress_fields<R: Rng>(rng: &mut R) -> Value {
    let mut spec = json!({});
    if rng.random_bool(0.85) {
        let host = one(
            rng,
            &[
                json!("a.example.com"),
                json!("*.example.com"),
                json!("Bad_Host"),
                json!(""),
            ],
        );
        let path_type = one(
            rng,
            &[
                json!("Prefix"),
                json!("Exact"),
                json!("ImplementationSpecific"),
                json!("Bogus"),
            ],
        );
        let path = one(rng, &[json!("/"), json!("/api"), json!("relative")]);
        let mut rule =
            json!({"http": {"paths": [{"path": path, "pathType": path_type, "backend": ingress_backend(rng)}]}});
        if host != json!("") {
            rule["host"] = host;
        }
        spec["rules"] = json!([rule]);
    }
    if rng.random_bool(0.3) {
        spec["defaultBackend"] = ingress_backend(rng);
    }
    if rng.random_bool(0.3) {
        spec["ingressClassName"] = json!("nginx");
    }
    if rng.random_bool(0.15) {
        spec["tls"] = json!([{"hosts": ["a.example.com"], "secretName": "tls"}]);
    }
    json!({"spec": spec})
}

fn network_policy_fields<R: Rng>(rng: &mut R) -> Value {
    let mut spec = json!({"podSelector": one(rng, &[json!({}), json!({"matchLabels": {"app": "a"}})])});
    if rng.random_bool(0.5) {
        let port = one(
            rng,
            &[
                json!({"port": 80}),
                json!({"port": "http", "protocol": "UDP"}),
                json!({"port": 80, "endPort": 90}),
                json!({"protocol": "SCTP"}),
            ],
        );
        spec["ingress"] = json!([{"from": [{"podSelector": {}}], "ports": [port]}]);
    }
    if rng.random_bool(0.3) {
        spec["policyTypes"] = one(
            rng,
            &[
                json!(["Ingress"]),
                json!(["Egress"]),
                json!(["Ingress", "Egress"]),
                json!(["Bogus"]),
            ],
        );
    }
    if rng.random_bool(0.2) {
        spec["egress"] = json!([{"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}]}]);
    }
    json!({"spec": spec})
}

fn disruption_budget_fields<R: Rng>(rng: &mut R) -> Value {
    let mut spec = json!({});
    match rng.random_range(0..4) {
        0 => spec["minAvailable"] = one(rng, &[json!(1), json!("50%"), json!("bad%")]),
        1 => spec["maxUnavailable"] = one(rng, &[json!(1), json!("25%"), json!(-1)]),
        2 => {
            spec["minAvailable"] = json!(1);
            spec["maxUnavailable"] = json!(1);
        }
        _ => {}
    }
    if rng.random_bool(0.8) {
        spec["selector"] = json!({"matchLabels": {"app": "a"}});
    }
    if rng.random_bool(0.15) {
        spec["unhealthyPodEvictionPolicy"] =
            one(rng, &[json!("AlwaysAllow"), json!("IfHealthyBudget"), json!("Bogus")]);
    }
    json!({"spec": spec})
}

fn autoscaler_fields<R: Rng>(rng: &mut R) -> Value {
    let mut spec = json!({
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "deploy-0"},
        "maxReplicas": one(rng, &[json!(5), json!(1), json!(0)]),
    });
    if rng.random_bool(0.4) {
        spec["minReplicas"] = one(rng, &[json!(1), json!(0), json!(10)]);
    }
    if rng.random_bool(0.5) {
        spec["metrics"] = one(
            rng,
            &[
                json!([{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]),
                json!([{"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "500Mi"}}}]),
                json!([{"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "1k"}}}]),
                json!([{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Value"}}}]),
            ],
        );
    }
    if rng.random_bool(0.3) {
        spec["behavior"] = one(
            rng,
            &[
                json!({"scaleDown": {"stabilizationWindowSeconds": 60}}),
                json!({"scaleUp": {"policies": [{"type": "Pods", "value": 4, "periodSeconds": 15}]}}),
                json!({"scaleDown": {"selectPolicy": "Disabled"}}),
            ],
        );
    }
    json!({"spec": spec})
}

fn policy_rule<R: Rng>(rng: &mut R) -> Value {
    one(
        rng,
        &[
            json!({"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}),
            json!({"apiGroups": ["apps"], "resources": ["deployments", "deployments/scale"], "verbs": ["*"], "resourceNames": ["deploy-0"]}),
            json!({"apiGroups": [""], "resources": ["pods"], "verbs": []}),
            json!({"nonResourceURLs": ["/healthz"], "verbs": ["get"]}),
        ],
    )
}

fn role_binding_fields<R: Rng>(rng: &mut R) -> Value {
    let role_ref = one(
        rng,
        &[
            json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "role-0"}),
            json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"}),
            json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Bogus", "name": "x"}),
        ],
    );
    let subjects = one(
        rng,
        &[
            json!([{"kind": "ServiceAccount", "name": "sa-0"}]),
            json!([{"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"}]),
            json!([{"kind": "Group", "name": "devs"}]),
            json!([]),
        ],
    );
    json!({"roleRef": role_ref, "subjects": subjects})
}

fn config_map_fields<R: Rng>(rng: &mut R) -> Value {
    let mut v = json!({"data": {data_key(rng): text(rng)}});
    if rng.random_bool(0.15) {
        v["binaryData"] = json!({"bin": b64(b"\x00\x01binary")});
    }
    if rng.random_bool(0.15) {
        v["immutable"] = json!(rng.random_bool(0.5));
    }
    v
}

fn secret_fields<R: Rng>(rng: &mut R) -> Value {
    let mut v = json!({});
    match rng.random_range(0..4) {
        0 => v["data"] = json!({data_key(rng): b64(text(rng).as_bytes())}),
        1 => v["stringData"] = json!({data_key(rng): text(rng)}),
        2 => {
            v["data"] = json!({"k": b64(b"from-data")});
            v["stringData"] = json!({"k": "from-stringData"});
        }
        _ => v["data"] = json!({"k": "not base64!"}),
    }
    if rng.random_bool(0.3) {
        v["type"] = json!(["Opaque", "kubernetes.io/basic-auth", "example.com/custom"][rng.random_range(0..3)]);
    }
    if rng.random_bool(0.15) {
        v["immutable"] = json!(rng.random_bool(0.5));
    }
    v
}

fn port<R: Rng>(rng: &mut R) -> Value {
    let number = [80, 8080, 443][rng.random_range(0..3)];
    let mut p = json!({"name": "http", "port": number});
    match rng.random_range(0..4) {
        0 => p["targetPort"] = json!(8080),
        1 => p["targetPort"] = json!("http"),
        _ => {}
    }
    if rng.random_bool(0.3) {
        p["protocol"] = json!(["TCP", "UDP"][rng.random_range(0..2)]);
    }
    if rng.random_bool(0.05) {
        p["port"] = json!(70000);
    }
    p
}

fn service_fields<R: Rng>(rng: &mut R) -> Value {
    let mut spec = json!({"ports": [port(rng)], "selector": {"app": "a"}});
    match rng.random_range(0..5) {
        0 => spec["type"] = json!("NodePort"),
        1 => spec["clusterIP"] = json!("None"),
        2 => spec["type"] = json!("ClusterIP"),
        _ => {}
    }
    if rng.random_bool(0.1) {
        spec["sessionAffinity"] = json!("ClientIP");
    }
    json!({"spec": spec})
}

/// A container with resources drawn from the quantity pool.
pub fn container<R: Rng>(rng: &mut R) -> Value {
    let mut c = json!({"name": "main", "image": "nginx:1.27"});
    if rng.random_bool(0.6) {
        c["resources"] = json!({"limits": {"cpu": quantity(rng), "memory": quantity(rng)}});
        if rng.random_bool(0.5) {
            c["resources"]["requests"] = json!({"cpu": quantity(rng)});
        }
    }
    if rng.random_bool(0.4) {
        c["ports"] = json!([{"containerPort": 8080, "name": "http"}]);
    }
    if rng.random_bool(0.3) {
        c["env"] = json!([{"name": "MODE", "value": "fast"}]);
    }
    c
}

fn workload_fields<R: Rng>(rng: &mut R, stateful: bool) -> Value {
    let app = if rng.random_bool(0.9) { "a" } else { "b" };
    let mut spec = json!({
        "selector": {"matchLabels": {"app": "a"}},
        "template": {
            "metadata": {"labels": {"app": app}},
            "spec": {"containers": [container(rng)]}
        }
    });
    if rng.random_bool(0.7) {
        spec["replicas"] = json!([0, 1, 3, -1][rng.random_range(0..4)]);
    }
    if stateful {
        spec["serviceName"] = json!("svc-0");
    }
    json!({"spec": spec})
}

fn sprocket_fields<R: Rng>(rng: &mut R) -> Value {
    let mut spec = json!({});
    if rng.random_bool(0.8) {
        spec["size"] = json!([0, 3, 100, -1, 101][rng.random_range(0..5)]);
    }
    if rng.random_bool(0.1) {
        spec["size"] = json!("3");
    }
    if rng.random_bool(0.5) {
        spec["mode"] = json!(["fast", "slow", "bogus"][rng.random_range(0..3)]);
    }
    if rng.random_bool(0.4) {
        spec["port"] = [json!(8080), json!("http"), json!("8080")][rng.random_range(0..3)].clone();
    }
    if rng.random_bool(0.3) {
        spec["note"] = [json!(null), json!("hello"), json!("")][rng.random_range(0..3)].clone();
    }
    if rng.random_bool(0.3) {
        spec["tags"] = [json!(["a", "b"]), json!(["a"]), json!(["a", "a"])][rng.random_range(0..3)].clone();
    }
    if rng.random_bool(0.3) {
        spec["items"] = json!([{"name": "x", "value": 1}, {"name": "y"}]);
    }
    if rng.random_bool(0.2) {
        spec["unknownField"] = json!({"pruned": true});
    }
    if rng.random_bool(0.2) {
        spec["cpu"] = quantity(rng);
    }
    let mut v = json!({"spec": spec});
    if rng.random_bool(0.2) {
        v["status"] = json!({"phase": "Ready"});
    }
    v
}

/// A status for the kind (for replace_status), drawn from plausible values.
pub fn status<R: Rng>(rng: &mut R, kind: Kind) -> Value {
    match kind {
        Kind::Deployment | Kind::StatefulSet => {
            json!({"replicas": rng.random_range(0..3), "observedGeneration": 1})
        }
        Kind::Service => json!({"loadBalancer": {"ingress": [{"ip": "10.0.0.1"}]}}),
        Kind::Sprocket => [
            json!({"phase": "Ready", "ready": 1}),
            json!({"phase": 3}),
            json!({"ready": null}),
        ][rng.random_range(0..3)]
        .clone(),
        Kind::ConfigMap
        | Kind::Secret
        | Kind::ServiceAccount
        | Kind::Role
        | Kind::RoleBinding
        | Kind::NetworkPolicy => {
            json!({"phase": "x"})
        }
        Kind::Pod => one(
            rng,
            &[
                json!({"phase": "Running", "podIP": "10.1.0.5"}),
                json!({"phase": "Bogus"}),
                json!({"conditions": [{"type": "Ready", "status": "True"}]}),
            ],
        ),
        Kind::Job => one(
            rng,
            &[
                json!({"active": 1}),
                json!({"succeeded": -1}),
                json!({"ready": 0, "failed": 0}),
            ],
        ),
        Kind::CronJob => json!({"lastScheduleTime": "2026-01-01T00:00:00Z"}),
        Kind::DaemonSet => json!({
            "currentNumberScheduled": 1, "desiredNumberScheduled": 1, "numberMisscheduled": 0,
            "numberReady": rng.random_range(-1..2)
        }),
        Kind::PersistentVolumeClaim => one(
            rng,
            &[
                json!({"phase": "Bound"}),
                json!({"phase": "Lost", "capacity": {"storage": "1Gi"}}),
            ],
        ),
        Kind::Ingress => json!({"loadBalancer": {"ingress": [{"ip": "10.0.0.2"}]}}),
        Kind::PodDisruptionBudget => json!({
            "disruptionsAllowed": rng.random_range(-1..2), "currentHealthy": 1, "desiredHealthy": 1, "expectedPods": 1
        }),
        Kind::HorizontalPodAutoscaler => json!({"currentReplicas": 1, "desiredReplicas": rng.random_range(-1..3)}),
    }
}

/// The `Sprocket` CRD: a structural schema with bounds, an enum with a default, int-or-string,
/// a nullable field, a set list, a map list keyed by `name`, a quantity, and pruning.
pub fn sprocket_crd() -> Object {
    let schema = json!({
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {
                    "size": {"type": "integer", "minimum": 0, "maximum": 100},
                    "mode": {"type": "string", "enum": ["fast", "slow"], "default": "fast"},
                    "port": {"x-kubernetes-int-or-string": true},
                    "note": {"type": "string", "nullable": true},
                    "tags": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
                    "items": {
                        "type": "array",
                        "x-kubernetes-list-type": "map",
                        "x-kubernetes-list-map-keys": ["name"],
                        "items": {
                            "type": "object",
                            "required": ["name"],
                            "properties": {"name": {"type": "string"}, "value": {"type": "integer"}}
                        }
                    },
                    "cpu": {
                        "x-kubernetes-int-or-string": true,
                        "anyOf": [{"type": "integer"}, {"type": "string"}]
                    }
                }
            },
            "status": {
                "type": "object",
                "properties": {"phase": {"type": "string"}, "ready": {"type": "integer"}}
            }
        }
    });
    let value = json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("sprockets.{GROUP}")},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {"plural": "sprockets", "singular": "sprocket", "kind": "Sprocket", "listKind": "SprocketList"},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": schema},
                "subresources": {"status": {}}
            }]
        }
    });
    // The literal always carries apiVersion and kind.
    Object::from_value(value).unwrap_or_default()
}

/// The smallest valid object of `kind` named `name` (watch markers).
pub fn minimal(kind: Kind) -> Value {
    let t = kind.type_ref();
    let mut v = json!({"apiVersion": t.api_version, "kind": t.kind, "metadata": {}});
    let fields = match kind {
        Kind::ConfigMap | Kind::Secret | Kind::Sprocket => json!({}),
        Kind::Service => json!({"spec": {"ports": [{"port": 80}]}}),
        Kind::Deployment | Kind::StatefulSet | Kind::DaemonSet => json!({"spec": {
            "selector": {"matchLabels": {"app": "marker"}},
            "template": {"metadata": {"labels": {"app": "marker"}},
                         "spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]}}
        }}),
        Kind::ServiceAccount | Kind::Role => json!({}),
        Kind::Pod => json!({"spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]}}),
        Kind::Job => json!({"spec": {"template": {"spec": {
            "containers": [{"name": "main", "image": "nginx:1.27"}], "restartPolicy": "Never"
        }}}}),
        Kind::CronJob => json!({"spec": {"schedule": "@hourly", "jobTemplate": {"spec": {"template": {"spec": {
            "containers": [{"name": "main", "image": "nginx:1.27"}], "restartPolicy": "Never"
        }}}}}}),
        Kind::PersistentVolumeClaim => json!({"spec": {
            "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}
        }}),
        Kind::Ingress => json!({"spec": {"defaultBackend": {"service": {"name": "svc-0", "port": {"number": 80}}}}}),
        Kind::NetworkPolicy => json!({"spec": {"podSelector": {}}}),
        Kind::PodDisruptionBudget => json!({"spec": {"minAvailable": 1}}),
        Kind::HorizontalPodAutoscaler => json!({"spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "marker"}, "maxReplicas": 1
        }}),
        Kind::RoleBinding => json!({
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"}
        }),
    };
    if let (Some(target), Value::Object(fields)) = (v.as_object_mut(), fields) {
        target.extend(fields);
    }
    if kind == Kind::StatefulSet {
        v["spec"]["serviceName"] = json!("svc-0");
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_alphabet_and_padding() {
        assert_eq!(b64(b"v"), "dg==");
        assert_eq!(b64(b"ab"), "YWI=");
        assert_eq!(b64(b"abc"), "YWJj");
    }

    #[test]
    fn crd_names_the_sprocket_kind() {
        let crd = sprocket_crd();
        assert_eq!(crd.name(), "sprockets.differential.operator-runtime.io");
        assert_eq!(crd.body["spec"]["names"]["kind"], Kind::Sprocket.to_string());
    }
}
