//! Pod: `podStrategy` and `podStatusStrategy` (`pkg/registry/core/pod/strategy.go`) with
//! `ValidatePodCreate`, `ValidatePodUpdate` and `ValidatePodStatusUpdate`
//! (`pkg/apis/core/validation`, 1.37.2). The spec rules themselves are [`super::pod_spec`]'s.

use std::net::IpAddr;

use operator_runtime_core::Object;
use serde_json::{Map, Value};

use super::KindHooks;
use super::core_kinds::FIELD_IMMUTABLE;
use super::pod_spec::{
    MAX_INT32, SpecContext, dns1123_subdomain_msgs, invalid_int, invalid_json, list_at, present, quote, str_at,
    validate_label_name, validate_spec, validate_tolerations,
};
use crate::validation::Causes;

/// The Pod hooks.
#[derive(Debug)]
pub(crate) struct PodHooks;

fn spec(object: &Object) -> &Value {
    static NULL: Value = Value::Null;
    object.body.get("spec").unwrap_or(&NULL)
}

fn status(object: &Object) -> &Value {
    static NULL: Value = Value::Null;
    object.body.get("status").unwrap_or(&NULL)
}

/// `validatePodMetadataAndSpec` less the metadata rules the pipeline applies to every kind.
fn validate_metadata_and_spec(pod: &Object, causes: &mut Causes) {
    let spec = spec(pod);
    validate_spec(spec, "spec", SpecContext { resource_is_pod: true }, causes);
    if str_at(spec, "serviceAccountName").is_empty() {
        for (i, volume) in list_at(spec, "volumes").iter().enumerate() {
            let Some(projected) = present(volume, "projected") else {
                continue;
            };
            for (j, source) in list_at(projected, "sources").iter().enumerate() {
                if present(source, "serviceAccountToken").is_some() {
                    causes.forbidden(
                        &format!("spec.volumes[{i}].projected.sources[{j}].serviceAccountToken"),
                        "must not be specified when serviceAccountName is not set",
                    );
                }
            }
        }
    }
    // SetDefaults_Pod turns a negative grace period into 1, so this only fires on values the
    // defaulting does not see (none today); kept for parity.
    if let Some(grace) = spec.get("terminationGracePeriodSeconds").and_then(Value::as_i64)
        && grace < 0
    {
        invalid_int(
            causes,
            "spec.terminationGracePeriodSeconds",
            grace,
            "must be greater than or equal to 0",
        );
    }
    // `validateContainersOnlyForPod`.
    for list in ["containers", "initContainers"] {
        for (i, container) in list_at(spec, list).iter().enumerate() {
            let image = str_at(container, "image");
            if image.trim() != image {
                causes.push(
                    "FieldValueInvalid",
                    &format!("spec.{list}[{i}].image"),
                    format!(
                        "Invalid value: {}: must not have leading or trailing whitespace",
                        quote(image)
                    ),
                );
            }
        }
    }
}

/// `ValidateContainerUpdates`: the same number of containers, each with an image. Returns
/// false when validation stops there.
fn validate_container_updates(new: &[Value], old: &[Value], path: &str, causes: &mut Causes) -> bool {
    if new.len() != old.len() {
        causes.forbidden(path, "pod updates may not add or remove containers");
        return false;
    }
    for (i, container) in new.iter().enumerate() {
        let image = str_at(container, "image");
        if image.is_empty() {
            causes.required(&format!("{path}[{i}].image"), "");
        }
        if image.trim() != image {
            causes.push(
                "FieldValueInvalid",
                &format!("{path}[{i}].image"),
                format!(
                    "Invalid value: {}: must not have leading or trailing whitespace",
                    quote(image)
                ),
            );
        }
    }
    true
}

/// `apiequality.Semantic.DeepEqual` over decoded JSON: an absent field, `null`, an empty list
/// or map and a scalar's zero value all decode to Go's zero value (nil and empty slices and
/// maps compare equal there). A pointer field that is nil in one and points to a zero value
/// in the other compares equal here, unlike in Go.
pub(crate) fn semantic_eq(a: Option<&Value>, b: Option<&Value>) -> bool {
    let zero = |v: Option<&Value>| match v {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => !b,
        Some(Value::Number(n)) => n.as_f64() == Some(0.0),
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(m)) => m.is_empty(),
    };
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            x.keys().chain(y.keys()).all(|k| semantic_eq(x.get(k), y.get(k)))
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| semantic_eq(Some(p), Some(q)))
        }
        (Some(Value::Number(x)), Some(Value::Number(y))) => x.as_f64() == y.as_f64(),
        _ if zero(a) && zero(b) => true,
        _ => a == b,
    }
}

/// The updatable pod spec fields, as `updatablePodSpecFields` lists them.
const UPDATABLE: &str = "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

/// `validateOnlyAddedTolerations`: every old toleration is still there (its
/// tolerationSeconds may change), then `ValidateTolerations` of the new list.
fn validate_only_added_tolerations(new: &[Value], old: &[Value], causes: &mut Causes) {
    let same = |a: &Value, b: &Value| {
        ["key", "operator", "value", "effect"]
            .iter()
            .all(|k| str_at(a, k) == str_at(b, k))
    };
    if !old.iter().all(|o| new.iter().any(|n| same(o, n))) {
        causes.forbidden(
            "spec.tolerations",
            "existing toleration can not be modified except its tolerationSeconds",
        );
        return;
    }
    validate_tolerations(new, "spec.tolerations", causes);
}

/// `ValidatePodUpdate` less the metadata rules the pipeline applies.
fn validate_pod_update(new: &Object, old: &Object, causes: &mut Causes) {
    validate_metadata_and_spec(new, causes);
    let (new_spec, old_spec) = (spec(new), spec(old));
    for list in ["containers", "initContainers"] {
        let path = format!("spec.{list}");
        if !validate_container_updates(list_at(new_spec, list), list_at(old_spec, list), &path, causes) {
            return;
        }
    }
    let old_deadline = present(old_spec, "activeDeadlineSeconds").and_then(Value::as_i64);
    match present(new_spec, "activeDeadlineSeconds").and_then(Value::as_i64) {
        Some(deadline) if !(0..=MAX_INT32).contains(&deadline) => {
            invalid_int(
                causes,
                "spec.activeDeadlineSeconds",
                deadline,
                &format!("must be between 0 and {MAX_INT32}, inclusive"),
            );
            return;
        }
        Some(deadline) if old_deadline.is_some_and(|old| old < deadline) => {
            invalid_int(
                causes,
                "spec.activeDeadlineSeconds",
                deadline,
                "must be less than or equal to previous value",
            );
            return;
        }
        Some(_) => {}
        None if old_deadline.is_some() => invalid_json(
            causes,
            "spec.activeDeadlineSeconds",
            "null",
            "must not update from a positive integer to nil value",
        ),
        None => {}
    }
    validate_only_added_tolerations(
        list_at(new_spec, "tolerations"),
        list_at(old_spec, "tolerations"),
        causes,
    );
    validate_only_deleted_scheduling_gates(new_spec, old_spec, causes);
    if semantic_eq(Some(new_spec), Some(old_spec)) {
        return;
    }
    // The updatable fields take their old values; anything else that differs is forbidden.
    let mut munged: Map<String, Value> = new_spec.as_object().cloned().unwrap_or_default();
    for list in ["containers", "initContainers"] {
        if let Some(Value::Array(containers)) = munged.get_mut(list) {
            for (container, old_container) in containers.iter_mut().zip(list_at(old_spec, list)) {
                if let Some(c) = container.as_object_mut() {
                    match old_container.get("image") {
                        Some(image) => c.insert("image".into(), image.clone()),
                        None => c.remove("image"),
                    };
                }
            }
        }
    }
    for field in ["activeDeadlineSeconds", "schedulingGates", "tolerations"] {
        match old_spec.get(field) {
            Some(v) => munged.insert(field.into(), v.clone()),
            None => munged.remove(field),
        };
    }
    // A grace period may become 1 if it was negative.
    if let Some(old_grace) = old_spec.get("terminationGracePeriodSeconds")
        && old_grace.as_i64().is_some_and(|g| g < 0)
        && munged.get("terminationGracePeriodSeconds").and_then(Value::as_i64) == Some(1)
    {
        munged.insert("terminationGracePeriodSeconds".into(), old_grace.clone());
    }
    // A gated pod may also change its node selector and node affinity (Go restricts how;
    // not ported: any change is let through).
    if !list_at(old_spec, "schedulingGates").is_empty() {
        match old_spec.get("nodeSelector") {
            Some(v) => munged.insert("nodeSelector".into(), v.clone()),
            None => munged.remove("nodeSelector"),
        };
        let old_node_affinity = old_spec.get("affinity").and_then(|a| a.get("nodeAffinity")).cloned();
        if let Some(Value::Object(affinity)) = munged.get_mut("affinity") {
            match old_node_affinity {
                Some(v) => affinity.insert("nodeAffinity".into(), v),
                None => affinity.remove("nodeAffinity"),
            };
        }
    }
    let munged = Value::Object(munged);
    if !semantic_eq(Some(&munged), Some(old_spec)) {
        let changed: Vec<&str> = munged
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k.as_str())
            .chain(old_spec.as_object().into_iter().flatten().map(|(k, _)| k.as_str()))
            .filter(|k| !semantic_eq(munged.get(*k), old_spec.get(*k)))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        // Go appends a `cmp.Diff` of the specs; this names the differing fields instead.
        causes.forbidden(
            "spec",
            &format!(
                "pod updates may not change fields other than {UPDATABLE}\n  core.PodSpec{{ changed: {} }}",
                changed.join(", ")
            ),
        );
    }
}

/// `validateOnlyDeletedSchedulingGates`.
fn validate_only_deleted_scheduling_gates(new_spec: &Value, old_spec: &Value, causes: &mut Causes) {
    let old: Vec<&str> = list_at(old_spec, "schedulingGates")
        .iter()
        .map(|g| str_at(g, "name"))
        .collect();
    for (i, gate) in list_at(new_spec, "schedulingGates").iter().enumerate() {
        let name = str_at(gate, "name");
        if !old.contains(&name) {
            causes.forbidden(
                &format!("spec.schedulingGates[{i}].name"),
                &format!("only deletion is allowed, but found new scheduling gate '{name}'"),
            );
        }
    }
}

/// `IsValidIPForLegacyField` with StrictIPCIDRValidation (beta, on): IPs already in the old
/// list are kept as they are.
fn validate_ip(value: &str, old: &[&str], field: &str, causes: &mut Causes) {
    if old.contains(&value) {
        return;
    }
    match value.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_some() => causes.push(
            "FieldValueInvalid",
            field,
            format!(
                "Invalid value: {}: must not be an IPv4-mapped IPv6 address",
                quote(value)
            ),
        ),
        Ok(_) => {}
        Err(_) => {
            // ParseIPSloppy accepts IPv4 octets with leading zeros; the strict parser does not.
            let sloppy = value.split('.').count() == 4
                && value.split('.').all(|p| {
                    !p.is_empty()
                        && p.len() <= 3
                        && p.bytes().all(|b| b.is_ascii_digit())
                        && p.parse::<u16>().is_ok_and(|n| n < 256)
                });
            let detail = if sloppy {
                "must not have leading 0s"
            } else {
                "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
            };
            causes.push(
                "FieldValueInvalid",
                field,
                format!("Invalid value: {}: {detail}", quote(value)),
            );
        }
    }
}

/// The `ip` members of `status[key]`.
fn ips<'a>(status: &'a Value, key: &str) -> Vec<&'a str> {
    list_at(status, key).iter().map(|p| str_at(p, "ip")).collect()
}

/// Whether a list of IPs is one IPv4 and one IPv6 address (`IsDualStackIPStrings`).
fn dual_stack(list: &[&str]) -> bool {
    let v4 = list.iter().filter(|s| s.parse::<std::net::Ipv4Addr>().is_ok()).count();
    let v6 = list.iter().filter(|s| s.parse::<std::net::Ipv6Addr>().is_ok()).count();
    v4 >= 1 && v6 >= 1
}

/// `validatePodIPs` and `validateHostIPs`.
fn validate_status_ips(new: &Value, old: &Value, causes: &mut Causes) {
    let (pod_ips, old_pod_ips) = (ips(new, "podIPs"), ips(old, "podIPs"));
    for (i, ip) in pod_ips.iter().enumerate() {
        validate_ip(ip, &old_pod_ips, &format!("status.podIPs[{i}]"), causes);
    }
    let raw = |key: &str| new.get(key).map_or_else(|| "null".to_owned(), Value::to_string);
    if pod_ips.len() > 1 && (!dual_stack(&pod_ips) || pod_ips.len() > 2) {
        invalid_json(
            causes,
            "status.podIPs",
            &raw("podIPs"),
            "may specify no more than one IP for each IP family",
        );
    }
    let pod_ip = str_at(new, "podIP");
    match (pod_ip.is_empty(), pod_ips.first()) {
        (false, None) | (true, Some(_)) => invalid_json(
            causes,
            "status.podIPs",
            &raw("podIPs"),
            "podIP and podIPs must either both be set or both be unset",
        ),
        (false, Some(first)) if *first != pod_ip => causes.push(
            "FieldValueInvalid",
            "status.podIPs[0].ip",
            format!("Invalid value: {}: must be equal to `podIP`", quote(first)),
        ),
        _ => {}
    }
    let (host_ips, old_host_ips) = (ips(new, "hostIPs"), ips(old, "hostIPs"));
    let Some(first) = host_ips.first() else {
        return;
    };
    if *first != str_at(new, "hostIP") {
        causes.push(
            "FieldValueInvalid",
            "status.hostIPs[0].ip",
            format!("Invalid value: {}: must be equal to `hostIP`", quote(first)),
        );
    }
    for (i, ip) in host_ips.iter().enumerate() {
        validate_ip(ip, &old_host_ips, &format!("status.hostIPs[{i}]"), causes);
    }
    if host_ips.len() > 1 && (!dual_stack(&host_ips) || host_ips.len() > 2) {
        invalid_json(
            causes,
            "status.hostIPs",
            &raw("hostIPs"),
            "may specify no more than one IP for each IP family",
        );
    }
}

/// `ContainerShouldRestart` without restart rules: the container's own policy, else the pod's.
fn should_restart(container: Option<&Value>, pod_policy: &str, exit_code: i64) -> bool {
    let Some(container) = container else {
        return false;
    };
    let policy = container
        .get("restartPolicy")
        .and_then(Value::as_str)
        .unwrap_or(pod_policy);
    match policy {
        "Always" => true,
        "OnFailure" => exit_code != 0,
        _ => false,
    }
}

/// `ValidateContainerStateTransition` / `ValidateInitContainerStateTransition` (restart
/// rules on): a terminated container may only leave that state if it is to be restarted.
fn validate_state_transitions(new: &Value, old: &Value, pod_spec: &Value, causes: &mut Causes) {
    let pod_policy = str_at(pod_spec, "restartPolicy");
    for (statuses, containers) in [
        ("containerStatuses", "containers"),
        ("initContainerStatuses", "initContainers"),
    ] {
        let new_statuses = list_at(new, statuses);
        for (i, old_status) in list_at(old, statuses).iter().enumerate() {
            let Some(terminated) = old_status.get("state").and_then(|s| present(s, "terminated")) else {
                continue;
            };
            let name = str_at(old_status, "name");
            let Some(new_status) = new_statuses.iter().find(|s| str_at(s, "name") == name) else {
                continue;
            };
            if new_status.get("state").and_then(|s| present(s, "terminated")).is_some() {
                continue;
            }
            let exit_code = terminated.get("exitCode").and_then(Value::as_i64).unwrap_or(0);
            let container = list_at(pod_spec, containers).iter().find(|c| str_at(c, "name") == name);
            if !should_restart(container, pod_policy, exit_code) {
                causes.forbidden(
                    &format!("status.{statuses}[{i}].state"),
                    "may not be transitioned to non-terminated state",
                );
            }
        }
    }
}

/// `ValidatePodStatusUpdate` less the metadata rules the pipeline applies.
fn validate_pod_status_update(new: &Object, old: &Object, causes: &mut Causes) {
    let (new_status, old_status) = (status(new), status(old));
    // `validatePodConditions`.
    for (i, condition) in list_at(new_status, "conditions").iter().enumerate() {
        if let Some(generation) = condition.get("observedGeneration").and_then(Value::as_i64)
            && generation < 0
        {
            invalid_int(
                causes,
                &format!("status.conditions[{i}].observedGeneration"),
                generation,
                "must be a non-negative integer",
            );
        }
        let kind = str_at(condition, "type");
        if !matches!(kind, "PodScheduled" | "Ready" | "Initialized") {
            validate_label_name(kind, &format!("status.conditions[{i}].Type"), causes);
        }
    }
    let nominated = str_at(new_status, "nominatedNodeName");
    let nominated_changed = nominated != str_at(old_status, "nominatedNodeName");
    if nominated_changed && !nominated.is_empty() {
        for msg in dns1123_subdomain_msgs(nominated) {
            causes.push(
                "FieldValueInvalid",
                "status.nominatedNodeName",
                format!("Invalid value: {}: {msg}", quote(nominated)),
            );
        }
    }
    // ClearingNominatedNodeNameAfterBinding (beta, on).
    if !str_at(spec(old), "nodeName").is_empty() && !nominated.is_empty() && nominated_changed {
        causes.forbidden(
            "status.nominatedNodeName",
            "may not be set on pods that are already bound to a node",
        );
    }
    if let Some(generation) = new_status.get("observedGeneration").and_then(Value::as_i64)
        && generation < 0
    {
        invalid_int(
            causes,
            "status.observedGeneration",
            generation,
            "must be a non-negative integer",
        );
    }
    let (qos, old_qos) = (str_at(new_status, "qosClass"), str_at(old_status, "qosClass"));
    if qos != old_qos {
        causes.push(
            "FieldValueInvalid",
            "status.qosClass",
            format!("Invalid value: {}: {FIELD_IMMUTABLE}", quote(qos)),
        );
    }
    validate_state_transitions(new_status, old_status, spec(old), causes);
    validate_status_ips(new_status, old_status, causes);
}

impl KindHooks for PodHooks {
    /// The pod's `terminationGracePeriodSeconds`, but zero for a pod on no node or one that
    /// has finished.
    fn grace_period(&self, pod: &Object) -> Option<i64> {
        let spec = pod.body.get("spec");
        let on_node = spec.is_some_and(|s| !str_at(s, "nodeName").is_empty());
        let phase = pod.body.get("status").map_or("", |s| str_at(s, "phase"));
        if !on_node || matches!(phase, "Failed" | "Succeeded") {
            return Some(0);
        }
        let period = spec
            .and_then(|s| s.get("terminationGracePeriodSeconds"))
            .and_then(Value::as_i64);
        Some(period.unwrap_or(0).max(0))
    }
    /// `ValidatePodCreate`.
    fn validate(&self, object: &Object, causes: &mut Causes) {
        validate_metadata_and_spec(object, causes);
        let spec = spec(object);
        if !list_at(spec, "ephemeralContainers").is_empty() {
            causes.forbidden("spec.ephemeralContainers", "cannot be set on create");
        }
        if !str_at(spec, "nodeName").is_empty() && !list_at(spec, "schedulingGates").is_empty() {
            causes.forbidden(
                "spec.nodeName",
                "cannot be set until all schedulingGates have been cleared",
            );
        }
    }

    /// `ValidatePodUpdate`.
    fn validate_update(&self, new: &Object, old: &Object, causes: &mut Causes) {
        validate_pod_update(new, old, causes);
    }

    /// `podStatusStrategy.PrepareForUpdate`: ownerReferences are kept, an empty QoS class and
    /// observed generations are taken from the stored status (`preserveOldObservedGeneration`).
    fn prepare_for_status_update(&self, new: &mut Object, old: &Object) {
        new.metadata.owner_references.clone_from(&old.metadata.owner_references);
        let old_status = status(old).clone();
        let Some(Value::Object(status)) = new.body.get_mut("status") else {
            return;
        };
        // Go's zero values ("" and 0) count as unset.
        let is_zero = |v: &Value| v.is_null() || v.as_str() == Some("") || v.as_i64() == Some(0);
        for field in ["qosClass", "observedGeneration"] {
            let unset = status.get(field).is_none_or(is_zero);
            if unset && let Some(value) = old_status.get(field).filter(|v| !is_zero(v)) {
                status.insert(field.into(), value.clone());
            }
        }
        // Old conditions' generations, in order per type, fill the new ones that have none.
        let mut old_generations: Vec<(&str, i64)> = list_at(&old_status, "conditions")
            .iter()
            .map(|c| {
                (
                    str_at(c, "type"),
                    c.get("observedGeneration").and_then(Value::as_i64).unwrap_or(0),
                )
            })
            .collect();
        if let Some(Value::Array(conditions)) = status.get_mut("conditions") {
            for condition in conditions.iter_mut() {
                let kind = str_at(condition, "type").to_owned();
                let generation = old_generations
                    .iter()
                    .position(|(t, _)| *t == kind)
                    .map_or(0, |i| old_generations.remove(i).1);
                let unset = condition.get("observedGeneration").and_then(Value::as_i64).unwrap_or(0) == 0;
                if unset
                    && generation != 0
                    && let Some(c) = condition.as_object_mut()
                {
                    c.insert("observedGeneration".into(), generation.into());
                }
            }
        }
    }

    /// `ValidatePodStatusUpdate`.
    fn validate_status_update(&self, new: &Object, old: &Object, causes: &mut Causes) {
        validate_pod_status_update(new, old, causes);
    }
}

#[cfg(test)]
mod tests {
    use operator_runtime_core::store::WriteParams;
    use operator_runtime_core::{ObjectStore, StoreError, TypeRef};
    use serde_json::json;

    use super::*;
    use crate::MemoryStore;

    fn pod(name: &str, spec: Value) -> Object {
        Object::new(&TypeRef::new("v1", "Pod"), Some("default"), name).with("spec", spec)
    }

    fn daemon_set(name: &str, template_spec: Value) -> Object {
        Object::new(&TypeRef::new("apps/v1", "DaemonSet"), Some("default"), name).with(
            "spec",
            json!({"selector": {"matchLabels": {"app": "a"}},
                   "template": {"metadata": {"labels": {"app": "a"}}, "spec": template_spec}}),
        )
    }

    fn main_container() -> Value {
        json!([{"name": "main", "image": "nginx:1.27"}])
    }

    /// The fields of an Invalid error's causes (empty for success, a panic for other errors).
    fn fields<T>(result: Result<T, StoreError>) -> Vec<String> {
        match result {
            Ok(_) => Vec::new(),
            Err(StoreError::Invalid { causes, .. }) => causes.into_iter().map(|c| c.field).collect(),
            Err(other) => panic!("not an Invalid error: {other:?}"),
        }
    }

    #[test]
    fn semantic_equality_treats_absent_and_empty_alike() {
        let a = json!({"x": [], "y": {}, "z": false, "n": 0, "s": "", "q": null, "k": [1, {"a": null}]});
        let b = json!({"k": [1.0, {}]});
        assert!(semantic_eq(Some(&a), Some(&b)));
        assert!(!semantic_eq(Some(&json!({"k": [1]})), Some(&json!({"k": [1, 2]}))));
        assert!(!semantic_eq(Some(&json!({"s": "a"})), Some(&json!({}))));
    }

    #[tokio::test]
    async fn create_rejects_what_the_pod_spec_rules_reject() {
        let store = MemoryStore::new();
        let w = WriteParams::default();
        assert!(
            fields(
                store
                    .create(&pod("ok", json!({"containers": main_container()})), &w)
                    .await
            )
            .is_empty()
        );
        // The request is defaulted from the limit first, so both are reported.
        let negative = json!([{"name": "main", "image": "nginx", "resources": {"limits": {"cpu": "-1"}}}]);
        assert_eq!(
            fields(store.create(&pod("neg", json!({"containers": negative})), &w).await),
            vec![
                "spec.containers[0].resources.limits[cpu]",
                "spec.containers[0].resources.requests[cpu]"
            ]
        );
        let volumes = json!([{"name": "x", "configMap": {"name": "a"}}, {"name": "x", "emptyDir": {}}]);
        assert_eq!(
            fields(
                store
                    .create(
                        &pod("vol", json!({"containers": main_container(), "volumes": volumes})),
                        &w
                    )
                    .await
            ),
            vec!["spec.volumes[1].name"]
        );
        let bogus = json!({"containers": main_container(), "restartPolicy": "Bogus", "activeDeadlineSeconds": 0});
        assert_eq!(
            fields(store.create(&pod("bogus", bogus), &w).await),
            vec!["spec.restartPolicy", "spec.activeDeadlineSeconds"]
        );
        let ephemeral =
            json!({"containers": main_container(), "ephemeralContainers": [{"name": "d", "image": "busybox"}]});
        assert_eq!(
            fields(store.create(&pod("eph", ephemeral), &w).await),
            vec!["spec.ephemeralContainers"]
        );
        // A negative grace period is defaulted to 1, and a host-network port gets its host port.
        let host = json!({"containers": [{"name": "main", "image": "nginx", "ports": [{"containerPort": 9090}]}],
                          "hostNetwork": true, "terminationGracePeriodSeconds": -5});
        assert!(fields(store.create(&pod("host", host), &w).await).is_empty());
    }

    #[tokio::test]
    async fn updates_change_only_images_deadlines_and_added_tolerations() {
        let store = MemoryStore::new();
        let w = WriteParams::default();
        let spec = json!({"containers": main_container(), "activeDeadlineSeconds": 30});
        let created = store.create(&pod("p", spec), &w).await.expect("valid pod");

        let mut image = Object::clone(&created);
        image.body["spec"]["containers"][0]["image"] = json!("nginx:1.28");
        image.body["spec"]["activeDeadlineSeconds"] = json!(10);
        let updated = store.replace(&image, &w).await.expect("image and a lower deadline");

        let mut longer = Object::clone(&updated);
        longer.body["spec"]["activeDeadlineSeconds"] = json!(60);
        assert_eq!(
            fields(store.replace(&longer, &w).await),
            vec!["spec.activeDeadlineSeconds"]
        );

        let mut policy = Object::clone(&updated);
        policy.body["spec"]["restartPolicy"] = json!("Never");
        assert_eq!(fields(store.replace(&policy, &w).await), vec!["spec"]);

        let mut more = Object::clone(&updated);
        more.body["spec"]["containers"] = json!([{"name": "main", "image": "a"}, {"name": "b", "image": "b"}]);
        assert_eq!(fields(store.replace(&more, &w).await), vec!["spec.containers"]);

        // DefaultTolerationSeconds admission adds its tolerations back on update, so a
        // replaced list keeps them and only adds; a toleration of the user's may not go.
        let mut replaced = Object::clone(&updated);
        replaced.body["spec"]["tolerations"] = json!([{"key": "k", "operator": "Exists"}]);
        let stored = store.replace(&replaced, &w).await.expect("an added toleration");
        let keys: Vec<&str> = list_at(&stored.body["spec"], "tolerations")
            .iter()
            .map(|t| str_at(t, "key"))
            .collect();
        assert_eq!(
            keys,
            vec!["k", "node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"]
        );
        let mut dropped = Object::clone(&stored);
        dropped.body["spec"]["tolerations"] = json!([]);
        assert_eq!(fields(store.replace(&dropped, &w).await), vec!["spec.tolerations"]);
        // The stored priority is kept when an update leaves it out.
        let mut no_priority = Object::clone(&stored);
        no_priority.body["spec"].as_object_mut().map(|s| s.remove("priority"));
        let kept = store.replace(&no_priority, &w).await.expect("priority kept");
        assert_eq!(kept.body["spec"]["priority"], json!(0));
    }

    #[tokio::test]
    async fn status_writes_keep_the_qos_class_and_pair_pod_ips() {
        let store = MemoryStore::new();
        let w = WriteParams::default();
        let created = store
            .create(&pod("p", json!({"containers": main_container()})), &w)
            .await
            .expect("valid pod");
        let mut running = Object::clone(&created);
        running.body.insert("status".into(), json!({"phase": "Bogus"}));
        let stored = store.replace_status(&running, &w).await.expect("any phase");
        assert_eq!(stored.body["status"]["qosClass"], json!("BestEffort"));

        // SetDefaults_PodStatus fills podIPs from podIP (and podIP wins a mismatch).
        let mut ip = Object::clone(&stored);
        ip.body
            .insert("status".into(), json!({"phase": "Running", "podIP": "10.1.0.5"}));
        let paired = store.replace_status(&ip, &w).await.expect("podIP alone");
        assert_eq!(paired.body["status"]["podIPs"], json!([{"ip": "10.1.0.5"}]));
        let mut bad = Object::clone(&paired);
        bad.body["status"] = json!({"podIP": "not-an-ip"});
        assert_eq!(fields(store.replace_status(&bad, &w).await), vec!["status.podIPs[0]"]);
        bad.body["status"] = json!({"podIP": "10.1.0.5", "podIPs": [{"ip": "10.1.0.5"}, {"ip": "10.1.0.6"}]});
        assert_eq!(fields(store.replace_status(&bad, &w).await), vec!["status.podIPs"]);

        let mut qos = Object::clone(&paired);
        qos.body.insert(
            "status".into(),
            json!({"qosClass": "Guaranteed", "observedGeneration": -1,
            "conditions": [{"type": "Ready", "status": "True"}, {"type": "not valid!", "status": "True"}]}),
        );
        assert_eq!(
            fields(store.replace_status(&qos, &w).await),
            vec![
                "status.conditions[1].Type",
                "status.observedGeneration",
                "status.qosClass"
            ]
        );
    }

    #[tokio::test]
    async fn a_never_restarting_pod_keeps_terminated_containers_terminated() {
        let store = MemoryStore::new();
        let w = WriteParams::default();
        let created = store
            .create(
                &pod("p", json!({"containers": main_container(), "restartPolicy": "Never"})),
                &w,
            )
            .await
            .expect("valid pod");
        let mut done = Object::clone(&created);
        done.body["status"]["containerStatuses"] = json!([{"name": "main", "state": {"terminated": {"exitCode": 0}}}]);
        let stored = store.replace_status(&done, &w).await.expect("terminated");
        let mut again = Object::clone(&stored);
        again.body["status"]["containerStatuses"] = json!([{"name": "main", "state": {"running": {}}}]);
        assert_eq!(
            fields(store.replace_status(&again, &w).await),
            vec!["status.containerStatuses[0].state"]
        );
    }

    #[tokio::test]
    async fn daemon_sets_validate_their_template_and_status() {
        let store = MemoryStore::new();
        let w = WriteParams::default();
        let created = store
            .create(&daemon_set("ok", json!({"containers": main_container()})), &w)
            .await
            .expect("valid daemon set");
        let on_failure = json!({"containers": main_container(), "restartPolicy": "OnFailure"});
        assert_eq!(
            fields(store.create(&daemon_set("bad", on_failure), &w).await),
            vec!["spec.template.spec.restartPolicy"]
        );
        let bad_port = json!({"containers": [{"name": "main", "image": "nginx", "ports": [{"containerPort": 0}]}]});
        assert_eq!(
            fields(store.create(&daemon_set("port", bad_port), &w).await),
            vec!["spec.template.spec.containers[0].ports[0].containerPort"]
        );
        // A negative grace period is not defaulted in a template, and a template accepts it.
        let grace = json!({"containers": main_container(), "terminationGracePeriodSeconds": -5});
        assert!(fields(store.create(&daemon_set("grace", grace), &w).await).is_empty());

        let mut strategy = Object::clone(&created);
        strategy.body["spec"]["updateStrategy"] =
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 0}});
        assert_eq!(
            fields(store.replace(&strategy, &w).await),
            vec!["spec.updateStrategy.rollingUpdate.maxUnavailable"]
        );

        let mut status = Object::clone(&created);
        status.body["status"]["numberReady"] = json!(-1);
        assert_eq!(
            fields(store.replace_status(&status, &w).await),
            vec!["status.numberReady"]
        );
        status.body["status"]["numberReady"] = json!(1);
        assert!(fields(store.replace_status(&status, &w).await).is_empty());
    }
}
