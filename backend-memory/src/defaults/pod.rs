//! Pod and pod-template defaults: `SetDefaults_PodSpec`, `SetDefaults_Container`,
//! `SetDefaults_Probe`, `SetDefaults_HTTPGetAction`, `SetDefaults_Volume` and the volume-source
//! defaulters, in the order `zz_generated.defaults.go` runs them for a template
//! (`k8s.io/kubernetes/pkg/apis/core/v1`, 1.37.2), plus what only a Pod gets
//! (`SetDefaults_Pod` and the admission plugins a default kube-apiserver runs).

use serde_json::{Value, json};

use super::fields::{Obj, default_nil, default_unset, each_mut, is_nil, is_unset, object_mut, present_mut, str_of};

/// `v1.TerminationMessagePathDefault`.
const TERMINATION_MESSAGE_PATH: &str = "/dev/termination-log";
/// `v1.DefaultTerminationGracePeriodSeconds`.
const TERMINATION_GRACE_PERIOD_SECONDS: i64 = 30;
/// Mode of configMap, secret, downwardAPI and projected volumes (0644).
const VOLUME_DEFAULT_MODE: i64 = 420;
/// The tolerations `DefaultTolerationSeconds` admission adds, and their key.
const DEFAULT_TOLERATION_KEYS: [&str; 2] = ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"];
/// `DefaultTolerationSeconds` admission's default (`--default-not-ready-toleration-seconds`).
const DEFAULT_TOLERATION_SECONDS: i64 = 300;

/// A pod template (`PodTemplateSpec`) as it appears in workloads: only its spec is defaulted.
/// Its `metadata` is a struct, which Go writes as `{}` when empty.
pub(crate) fn template(template: &mut Obj) {
    default_nil(template, "metadata", json!({}));
    if let Some(spec) = object_mut(template, "spec") {
        pod_spec(spec);
    }
}

/// `SetObjectDefaults_Pod`: the template defaults, then `SetDefaults_Pod`. The admission
/// plugins that also change a new pod are [`admit`].
pub(crate) fn pod(body: &mut Obj) {
    if let Some(status) = present_mut(body, "status") {
        pod_status(status);
    }
    let Some(spec) = object_mut(body, "spec") else { return };
    if spec
        .get("terminationGracePeriodSeconds")
        .and_then(Value::as_i64)
        .is_some_and(|s| s < 0)
    {
        spec.insert("terminationGracePeriodSeconds".into(), json!(1));
    }
    pod_spec(spec);
    for list in ["containers", "initContainers"] {
        for container in each_mut(spec, list) {
            requests_from_limits(container);
        }
    }
    default_nil(spec, "enableServiceLinks", json!(true));
    if spec.get("hostNetwork").and_then(Value::as_bool) == Some(true) {
        for list in ["containers", "initContainers"] {
            for container in each_mut(spec, list) {
                for port in each_mut(container, "ports") {
                    if is_unset(port, "hostPort") {
                        let container_port = port.get("containerPort").cloned().unwrap_or(json!(0));
                        port.insert("hostPort".into(), container_port);
                    }
                }
            }
        }
    }
}

/// `SetDefaults_PodStatus`: `podIP` and `podIPs` are kept in sync; when both are set and
/// differ, `podIP` wins (older kubelets set only it).
fn pod_status(status: &mut Obj) {
    let ip = str_of(status, "podIP").to_owned();
    let first = status
        .get("podIPs")
        .and_then(Value::as_array)
        .and_then(|ips| ips.first())
        .map(|p| p.get("ip").and_then(Value::as_str).unwrap_or("").to_owned());
    match first {
        None if !ip.is_empty() => {
            status.insert("podIPs".into(), json!([{"ip": ip}]));
        }
        Some(first) if ip.is_empty() && !first.is_empty() => {
            status.insert("podIP".into(), json!(first));
        }
        Some(first) if first != ip => {
            status.insert("podIPs".into(), json!([{"ip": ip}]));
        }
        _ => {}
    }
}

/// What the admission plugins a default kube-apiserver runs do to a pod on create:
/// `Priority` (no PriorityClass named: priority 0, `PreemptLowerPriority`) and
/// `DefaultTolerationSeconds` (NoExecute tolerations for not-ready and unreachable nodes,
/// unless the pod tolerates them already).
pub(crate) fn admit(body: &mut Obj) {
    let Some(spec) = object_mut(body, "spec") else { return };
    if is_unset(spec, "priorityClassName") {
        default_nil(spec, "priority", json!(0));
    }
    default_nil(spec, "preemptionPolicy", json!("PreemptLowerPriority"));
    default_tolerations(spec);
}

/// The same plugins on an update of the main resource (they skip subresources): `Priority`
/// keeps the stored priority and preemption policy when the new spec has none, and
/// `DefaultTolerationSeconds` adds its tolerations again (so a pod update that replaces the
/// tolerations keeps them, and `ValidatePodUpdate` sees only additions).
pub(crate) fn admit_update(body: &mut Obj, old: &Obj) {
    let old_spec = old.get("spec");
    let Some(spec) = object_mut(body, "spec") else { return };
    for field in ["priority", "preemptionPolicy"] {
        if let Some(value) = old_spec.and_then(|s| s.get(field)).filter(|v| !v.is_null()) {
            default_nil(spec, field, value.clone());
        }
    }
    default_tolerations(spec);
}

/// `DefaultTolerationSeconds`: NoExecute tolerations of not-ready and unreachable nodes for
/// 300 s, unless the pod tolerates those taints already.
fn default_tolerations(spec: &mut Obj) {
    let tolerations = spec.entry("tolerations").or_insert_with(|| json!([]));
    if tolerations.is_null() {
        *tolerations = json!([]);
    }
    let Some(list) = tolerations.as_array_mut() else { return };
    for key in DEFAULT_TOLERATION_KEYS {
        let tolerated = list.iter().any(|t| {
            let effect = t.get("effect").and_then(Value::as_str).unwrap_or("");
            let t_key = t.get("key").and_then(Value::as_str).unwrap_or("");
            let operator = t.get("operator").and_then(Value::as_str).unwrap_or("Equal");
            (effect.is_empty() || effect == "NoExecute") && (t_key == key || (t_key.is_empty() && operator == "Exists"))
        });
        if !tolerated {
            list.push(json!({
                "key": key,
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": DEFAULT_TOLERATION_SECONDS,
            }));
        }
    }
}

/// Copies each limit without a request into the requests (`SetDefaults_Pod`, containers only).
fn requests_from_limits(container: &mut Obj) {
    let Some(resources) = present_mut(container, "resources") else {
        return;
    };
    let Some(limits) = resources.get("limits").and_then(Value::as_object).cloned() else {
        return;
    };
    let Some(requests) = object_mut(resources, "requests") else {
        return;
    };
    for (name, quantity) in limits {
        requests.entry(name).or_insert(quantity);
    }
}

/// `SetDefaults_PodSpec` and the nested defaulters of its volumes and containers.
pub(crate) fn pod_spec(spec: &mut Obj) {
    // serviceAccount is the deprecated alias of serviceAccountName; the name wins.
    if is_unset(spec, "serviceAccountName") {
        let alias = spec.get("serviceAccount").cloned().unwrap_or(Value::Null);
        spec.insert("serviceAccountName".into(), alias);
    }
    match spec.get("serviceAccountName").cloned() {
        Some(Value::String(name)) if !name.is_empty() => {
            spec.insert("serviceAccount".into(), Value::String(name));
        }
        _ => {
            spec.remove("serviceAccountName");
            spec.remove("serviceAccount");
        }
    }
    default_unset(spec, "dnsPolicy", json!("ClusterFirst"));
    default_unset(spec, "restartPolicy", json!("Always"));
    default_nil(spec, "securityContext", json!({}));
    default_nil(
        spec,
        "terminationGracePeriodSeconds",
        json!(TERMINATION_GRACE_PERIOD_SECONDS),
    );
    default_unset(spec, "schedulerName", json!("default-scheduler"));
    for volume in each_mut(spec, "volumes") {
        self::volume(volume);
    }
    for list in ["initContainers", "containers"] {
        for c in each_mut(spec, list) {
            container(c);
        }
    }
    for c in each_mut(spec, "ephemeralContainers") {
        container(c);
    }
}

/// The volume sources of `v1.VolumeSource` (a volume with none of them is an emptyDir).
const VOLUME_SOURCES: &[&str] = &[
    "hostPath",
    "emptyDir",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "secret",
    "nfs",
    "iscsi",
    "glusterfs",
    "persistentVolumeClaim",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "downwardAPI",
    "fc",
    "azureFile",
    "configMap",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "projected",
    "portworxVolume",
    "scaleIO",
    "storageos",
    "csi",
    "ephemeral",
    "image",
];

/// `SetDefaults_Volume` and the defaulters of its source.
fn volume(volume: &mut Obj) {
    if VOLUME_SOURCES.iter().all(|source| is_nil(volume, source)) {
        volume.insert("emptyDir".into(), json!({}));
    }
    if let Some(image) = present_mut(volume, "image")
        && is_unset(image, "pullPolicy")
    {
        let policy = pull_policy(str_of(image, "reference"));
        image.insert("pullPolicy".into(), json!(policy));
    }
    if let Some(host_path) = present_mut(volume, "hostPath") {
        default_nil(host_path, "type", json!(""));
    }
    for source in ["secret", "configMap"] {
        if let Some(source) = present_mut(volume, source) {
            default_nil(source, "defaultMode", json!(VOLUME_DEFAULT_MODE));
        }
    }
    if let Some(iscsi) = present_mut(volume, "iscsi") {
        default_unset(iscsi, "iscsiInterface", json!("default"));
    }
    if let Some(rbd) = present_mut(volume, "rbd") {
        default_unset(rbd, "pool", json!("rbd"));
        default_unset(rbd, "user", json!("admin"));
        default_unset(rbd, "keyring", json!("/etc/ceph/keyring"));
    }
    if let Some(downward) = present_mut(volume, "downwardAPI") {
        default_nil(downward, "defaultMode", json!(VOLUME_DEFAULT_MODE));
        downward_items(downward);
    }
    if let Some(azure) = present_mut(volume, "azureDisk") {
        default_nil(azure, "cachingMode", json!("ReadWrite"));
        default_nil(azure, "fsType", json!("ext4"));
        default_nil(azure, "readOnly", json!(false));
        default_nil(azure, "kind", json!("Shared"));
    }
    if let Some(projected) = present_mut(volume, "projected") {
        default_nil(projected, "defaultMode", json!(VOLUME_DEFAULT_MODE));
        for source in each_mut(projected, "sources") {
            if let Some(downward) = present_mut(source, "downwardAPI") {
                downward_items(downward);
            }
            if let Some(token) = present_mut(source, "serviceAccountToken") {
                default_nil(token, "expirationSeconds", json!(3600));
            }
        }
    }
    if let Some(scale_io) = present_mut(volume, "scaleIO") {
        default_unset(scale_io, "storageMode", json!("ThinProvisioned"));
        default_unset(scale_io, "fsType", json!("xfs"));
    }
    if let Some(claim) = present_mut(volume, "ephemeral").and_then(|e| present_mut(e, "volumeClaimTemplate"))
        && let Some(spec) = object_mut(claim, "spec")
    {
        super::core_misc::claim_spec(spec);
    }
}

/// `SetDefaults_ObjectFieldSelector` on each item of a downward API projection.
fn downward_items(downward: &mut Obj) {
    for item in each_mut(downward, "items") {
        if let Some(field_ref) = present_mut(item, "fieldRef") {
            default_unset(field_ref, "apiVersion", json!("v1"));
        }
    }
}

/// `SetDefaults_Container` and the defaulters of its ports, env, probes and lifecycle hooks.
fn container(container: &mut Obj) {
    if is_unset(container, "imagePullPolicy") {
        let policy = pull_policy(str_of(container, "image"));
        container.insert("imagePullPolicy".into(), json!(policy));
    }
    default_unset(container, "terminationMessagePath", json!(TERMINATION_MESSAGE_PATH));
    default_unset(container, "terminationMessagePolicy", json!("File"));
    // `resources` is a struct, not a pointer: Go's encoder writes it even when empty.
    default_nil(container, "resources", json!({}));
    for port in each_mut(container, "ports") {
        default_unset(port, "protocol", json!("TCP"));
    }
    for env in each_mut(container, "env") {
        let Some(value_from) = present_mut(env, "valueFrom") else {
            continue;
        };
        if let Some(field_ref) = present_mut(value_from, "fieldRef") {
            default_unset(field_ref, "apiVersion", json!("v1"));
        }
        if let Some(file_key_ref) = present_mut(value_from, "fileKeyRef") {
            default_nil(file_key_ref, "optional", json!(false));
        }
    }
    for probe_key in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(probe) = present_mut(container, probe_key) {
            self::probe(probe);
        }
    }
    if let Some(lifecycle) = present_mut(container, "lifecycle") {
        for hook in ["postStart", "preStop"] {
            if let Some(http_get) = present_mut(lifecycle, hook).and_then(|h| present_mut(h, "httpGet")) {
                self::http_get(http_get);
            }
        }
    }
}

/// `SetDefaults_Probe` and its handler's defaults.
fn probe(probe: &mut Obj) {
    default_unset(probe, "timeoutSeconds", json!(1));
    default_unset(probe, "periodSeconds", json!(10));
    default_unset(probe, "successThreshold", json!(1));
    default_unset(probe, "failureThreshold", json!(3));
    if let Some(http_get) = present_mut(probe, "httpGet") {
        self::http_get(http_get);
    }
    if let Some(grpc) = present_mut(probe, "grpc") {
        default_nil(grpc, "service", json!(""));
    }
}

/// `SetDefaults_HTTPGetAction`.
fn http_get(action: &mut Obj) {
    default_unset(action, "path", json!("/"));
    default_unset(action, "scheme", json!("HTTP"));
}

/// `Always` for an image whose tag is `latest` (or that has neither tag nor digest), else
/// `IfNotPresent` (`parsers.ParseImageName`; an unparsable reference counts as no tag).
pub(crate) fn pull_policy(image: &str) -> &'static str {
    let (name, digest) = match image.split_once('@') {
        Some((name, digest)) => (name, Some(digest)),
        None => (image, None),
    };
    let last_segment_start = name.rfind('/').map_or(0, |i| i + 1);
    let tag = name[last_segment_start..].rsplit_once(':').map(|(_, tag)| tag);
    let repository = tag.map_or(name, |t| &name[..name.len() - t.len() - 1]);
    let valid = !image.is_empty()
        && !repository.is_empty()
        && !repository[repository.find('/').map_or(0, |i| i + 1)..]
            .chars()
            .any(|c| c.is_ascii_uppercase());
    match (valid, tag, digest) {
        (false, ..) => "IfNotPresent",
        (true, Some("latest"), _) | (true, None, None) => "Always",
        _ => "IfNotPresent",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_policy_follows_the_tag() {
        assert_eq!(pull_policy("nginx"), "Always");
        assert_eq!(pull_policy("nginx:latest"), "Always");
        assert_eq!(pull_policy("nginx:1.27"), "IfNotPresent");
        assert_eq!(pull_policy("registry.local:5000/team/app"), "Always");
        assert_eq!(pull_policy("registry.local:5000/team/app:v2"), "IfNotPresent");
        assert_eq!(pull_policy("app@sha256:0123"), "IfNotPresent");
        assert_eq!(pull_policy("app:latest@sha256:0123"), "Always");
        assert_eq!(pull_policy(""), "IfNotPresent");
    }

    #[test]
    fn empty_template_gets_the_pod_spec_defaults() {
        let mut t = json!({"spec": {"containers": [{"name": "c", "image": "busybox:1"}]}});
        template(t.as_object_mut().expect("object"));
        assert_eq!(
            t["spec"],
            json!({
                "containers": [{
                    "name": "c", "image": "busybox:1", "imagePullPolicy": "IfNotPresent",
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File", "resources": {}
                }],
                "dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "securityContext": {},
                "terminationGracePeriodSeconds": 30, "schedulerName": "default-scheduler"
            })
        );
    }
}
