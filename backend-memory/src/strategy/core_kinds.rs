//! Strategies of the core (`v1`) kinds and the other non-workload built-in kinds, ported from
//! `pkg/registry/core/*/strategy.go` and `pkg/apis/core/validation`.

use operator_runtime_core::store::StoreResult;
use operator_runtime_core::{Object, StoreError};
use serde_json::{Value, json};

use super::fields::{self, FieldLabels};
use super::pod::PodHooks;
use super::secret::SecretHooks;
use super::{Builtin, KindHooks, NameRule, base, custom};
use crate::validation::Causes;

/// The message of `ValidateImmutableField`.
pub(crate) const FIELD_IMMUTABLE: &str = "field is immutable";
/// The message of the `immutable: true` checks of ConfigMap and Secret.
pub(crate) const IMMUTABLE_WHEN_SET: &str = "field is immutable when `immutable` is set";

/// Namespace: `spec.finalizers` is `["kubernetes"]` from creation and changes only through
/// `/finalize` (the namespace controller); a new namespace is `Active`.
#[derive(Debug)]
struct NamespaceHooks;

impl KindHooks for NamespaceHooks {
    fn prepare_for_create(&self, object: &mut Object) {
        object.body.insert("spec".into(), json!({"finalizers": ["kubernetes"]}));
        object.body.insert("status".into(), json!({"phase": "Active"}));
    }
    fn prepare_for_update(&self, new: &mut Object, old: &Object) {
        match old.body.get("spec") {
            Some(spec) => new.body.insert("spec".into(), spec.clone()),
            None => new.body.remove("spec"),
        };
    }
    fn deletes_gracefully(&self) -> bool {
        true
    }
    fn prepare_for_delete(&self, object: &mut Object) {
        let status = object.body.entry("status").or_insert_with(|| json!({}));
        if let Some(map) = status.as_object_mut() {
            map.insert("phase".into(), json!("Terminating"));
        }
    }
}

/// Whether `immutable: true` is set on the object.
pub(crate) fn is_immutable(object: &Object) -> bool {
    object.body.get("immutable").and_then(Value::as_bool) == Some(true)
}

/// The `immutable: true` rules shared by ConfigMap and Secret (`ValidateConfigMapUpdate`,
/// `ValidateSecretUpdate`): once set it cannot be unset, and the data fields cannot change.
pub(crate) fn check_immutable(new: &Object, old: &Object, data_fields: &[&str], causes: &mut Causes) {
    if !is_immutable(old) {
        return;
    }
    if !is_immutable(new) {
        causes.forbidden("immutable", IMMUTABLE_WHEN_SET);
    }
    for field in data_fields {
        if !same_map(new.body.get(*field), old.body.get(*field)) {
            causes.forbidden(field, IMMUTABLE_WHEN_SET);
        }
    }
}

/// Go's `reflect.DeepEqual` of two maps decoded from JSON: absent and empty differ only in
/// Go (nil vs empty map) and both come back as nil from an omitted or `{}` field after a
/// round trip through etcd, so they compare equal here.
fn same_map(a: Option<&Value>, b: Option<&Value>) -> bool {
    let empty = |v: Option<&Value>| v.is_none_or(|v| v.is_null() || v.as_object().is_some_and(|m| m.is_empty()));
    (empty(a) && empty(b)) || a == b
}

/// ConfigMap: the `immutable` rules.
#[derive(Debug)]
struct ConfigMapHooks;

impl KindHooks for ConfigMapHooks {
    /// `data` holds strings: anything else is the JSON decoder's 400.
    fn normalize(&self, object: &mut Object) -> StoreResult<()> {
        if let Some(data) = object.body.get("data").and_then(Value::as_object)
            && let Some(bad) = data.values().find(|v| !v.is_string() && !v.is_null())
        {
            let what = match bad {
                Value::Number(_) => "number",
                Value::Bool(_) => "bool",
                Value::Array(_) => "array",
                _ => "object",
            };
            return Err(StoreError::bad_request(format!(
                "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal {what} into Go struct field ConfigMap.data of type string"
            )));
        }
        Ok(())
    }

    fn validate(&self, object: &Object, causes: &mut Causes) {
        validate_config_keys(object, "data", causes);
        validate_config_keys(object, "binaryData", causes);
        let data = object.body.get("data").and_then(Value::as_object);
        for key in object
            .body
            .get("binaryData")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(k, _)| k)
        {
            if data.is_some_and(|d| d.contains_key(key)) {
                causes.invalid(&format!("binaryData[{key}]"), key, "duplicate of key present in data");
            }
        }
    }

    fn validate_update(&self, new: &Object, old: &Object, causes: &mut Causes) {
        self.validate(new, causes);
        check_immutable(new, old, &["data", "binaryData"], causes);
    }
}

/// `IsConfigMapKey` on the keys of `object[field]` (ConfigMap `data`/`binaryData`, Secret `data`).
pub(crate) fn validate_config_keys(object: &Object, field: &str, causes: &mut Causes) {
    for key in object
        .body
        .get(field)
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, _)| k)
    {
        // Built only for an error: most writes have none.
        let path = || format!("{field}[{key}]");
        if key.len() > 253 {
            causes.invalid(&path(), key, "must be no more than 253 characters");
        }
        if key.is_empty()
            // Bytes, not chars: a non-ASCII character fails either way (none of its bytes
            // is ASCII).
            || !key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            causes.invalid(
                &path(),
                key,
                "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
            );
        }
        if key == "." {
            causes.invalid(&path(), key, "must not be '.'");
        } else if key == ".." {
            causes.invalid(&path(), key, "must not be '..'");
        } else if key.starts_with("..") {
            causes.invalid(&path(), key, "must not start with '..'");
        }
    }
}

/// Service: `ValidateService`'s port rules (ports required unless headless or ExternalName,
/// names required when there are several and unique, port numbers in range).
#[derive(Debug)]
struct ServiceHooks;

fn is_unset_selector(spec: Option<&Value>) -> bool {
    spec.and_then(|s| s.get("selector"))
        .and_then(Value::as_object)
        .is_none_or(|m| m.is_empty())
}

/// `initIPFamilyFields` after its headless-and-selectorless special case: the cluster is
/// single-stack IPv4, so a Service that now needs addresses (a headless one that gained a
/// selector keeps the two families it was given without one) may ask for no other family.
fn cluster_families(spec: Option<&Value>, causes: &mut Causes) {
    let spec = spec.and_then(Value::as_object);
    let policy = spec.and_then(|s| s.get("ipFamilyPolicy")).and_then(Value::as_str);
    if policy == Some("RequireDualStack") {
        causes.invalid(
            "spec.ipFamilyPolicy",
            "RequireDualStack",
            "this cluster is not configured for dual-stack services",
        );
    }
    let families = spec.and_then(|s| s.get("ipFamilies")).and_then(Value::as_array);
    for (i, family) in families.into_iter().flatten().enumerate() {
        let family = family.as_str().unwrap_or_default();
        if family != "IPv4" {
            causes.invalid(
                &format!("spec.ipFamilies[{i}]"),
                family,
                "not configured on this cluster",
            );
        }
    }
}

impl KindHooks for ServiceHooks {
    fn prepare_for_update(&self, new: &mut Object, old: &Object) {
        crate::defaults::drop_type_dependent_fields(&mut new.body, &old.body);
    }

    fn validate(&self, object: &Object, causes: &mut Causes) {
        let spec = object.body.get("spec");
        let get = |k: &str| spec.and_then(|s| s.get(k)).and_then(Value::as_str);
        let headless = get("clusterIP") == Some("None");
        let external_name = get("type") == Some("ExternalName");
        let ports = spec
            .and_then(|s| s.get("ports"))
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        if ports.is_empty() && !headless && !external_name {
            causes.required("spec.ports", "");
        }
        if headless && matches!(get("type"), Some("NodePort" | "LoadBalancer")) {
            let t = get("type").unwrap_or_default();
            causes.invalid(
                "spec.clusterIPs[0]",
                "None",
                &format!("may not be set to 'None' for {t} services"),
            );
        }
        let mut names = std::collections::BTreeSet::new();
        for (i, port) in ports.iter().enumerate() {
            let path = format!("spec.ports[{i}]");
            match port.get("name").and_then(Value::as_str).filter(|n| !n.is_empty()) {
                None if ports.len() > 1 => causes.required(&format!("{path}.name"), ""),
                Some(name) if !names.insert(name) => causes.push(
                    "FieldValueDuplicate",
                    &format!("{path}.name"),
                    format!("Duplicate value: \"{name}\""),
                ),
                _ => {}
            }
            let number = port.get("port").and_then(Value::as_i64).unwrap_or(0);
            if !(1..=65535).contains(&number) {
                causes.invalid(
                    &format!("{path}.port"),
                    &number.to_string(),
                    "must be between 1 and 65535, inclusive",
                );
            }
        }
        // The allocator runs only after the object validated.
        if causes.is_empty() && !external_name && !(headless && is_unset_selector(spec)) {
            cluster_families(spec, causes);
        }
    }

    /// `ValidateServiceUpdate`: an allocated cluster IP cannot change.
    fn validate_update(&self, new: &Object, old: &Object, causes: &mut Causes) {
        self.validate(new, causes);
        let ip = |o: &Object| {
            o.body
                .get("spec")
                .and_then(|s| s.get("clusterIP"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let (new_ip, old_ip) = (ip(new), ip(old));
        if !old_ip.is_empty() && !new_ip.is_empty() && new_ip != old_ip {
            causes.invalid(
                "spec.clusterIPs[0]",
                &format!("[{:?}]", new_ip),
                "may not change once set",
            );
        }
    }

    /// `ValidateLoadBalancerStatus`: ingress points only on a LoadBalancer Service.
    fn validate_status_update(&self, new: &Object, _old: &Object, causes: &mut Causes) {
        let load_balancer =
            new.body.get("spec").and_then(|s| s.get("type")).and_then(Value::as_str) == Some("LoadBalancer");
        let ingress = new
            .body
            .get("status")
            .and_then(|s| s.get("loadBalancer"))
            .and_then(|l| l.get("ingress"))
            .and_then(Value::as_array);
        if !load_balancer && ingress.is_some_and(|i| !i.is_empty()) {
            causes.forbidden(
                "status.loadBalancer.ingress",
                "may only be used when `spec.type` is 'LoadBalancer'",
            );
        }
    }
}

/// Registers the core and other non-workload built-in kinds (Namespace first, CRD second).
pub(super) fn register(out: &mut Vec<Builtin>) {
    let mut add = |api_version, kind, plural, namespaced, strategy| {
        out.push(Builtin {
            api_version,
            kind,
            plural,
            namespaced,
            strategy,
        });
    };
    add(
        "v1",
        "Namespace",
        "namespaces",
        false,
        base(true, false)
            .names(NameRule::Label)
            .returns_deleted_object()
            .fields(FieldLabels::Only(fields::NAMESPACE))
            .hooks(NamespaceHooks),
    );
    add(
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        false,
        custom::crd_strategy(),
    );
    add(
        "v1",
        "ConfigMap",
        "configmaps",
        true,
        base(false, false).hooks(ConfigMapHooks),
    );
    add(
        "v1",
        "Secret",
        "secrets",
        true,
        base(false, false)
            .fields(FieldLabels::Only(fields::SECRET))
            .hooks(SecretHooks),
    );
    add(
        "v1",
        "Service",
        "services",
        true,
        base(true, false)
            .names(NameRule::Label)
            .create_on_update()
            .returns_deleted_object()
            .fields(FieldLabels::Only(fields::SERVICE))
            .hooks(ServiceHooks),
    );
    add(
        "v1",
        "ServiceAccount",
        "serviceaccounts",
        true,
        base(false, false).returns_deleted_object(),
    );
    add(
        "v1",
        "Endpoints",
        "endpoints",
        true,
        base(false, false).create_on_update(),
    );
    add(
        "v1",
        "LimitRange",
        "limitranges",
        true,
        base(false, false).create_on_update(),
    );
    add(
        "v1",
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        true,
        base(true, false)
            .returns_deleted_object()
            .created_form_differs()
            .hooks(super::claims::ClaimHooks),
    );
    add(
        "v1",
        "Pod",
        "pods",
        true,
        base(true, true)
            .returns_deleted_object()
            .fields(FieldLabels::Only(fields::POD))
            .hooks(PodHooks),
    );
    add(
        "v1",
        "Event",
        "events",
        true,
        base(false, false)
            .create_on_update()
            .fields(FieldLabels::Only(fields::CORE_EVENT))
            .hooks(super::events::EventHooks),
    );
    add(
        "events.k8s.io/v1",
        "Event",
        "events",
        true,
        base(false, false)
            .create_on_update()
            .fields(FieldLabels::Only(fields::EVENTS_EVENT))
            .hooks(super::events::EventHooks),
    );
    add(
        "coordination.k8s.io/v1",
        "Lease",
        "leases",
        true,
        base(false, false).create_on_update(),
    );
    for (kind, plural, namespaced) in [
        ("Role", "roles", true),
        ("RoleBinding", "rolebindings", true),
        ("ClusterRole", "clusterroles", false),
        ("ClusterRoleBinding", "clusterrolebindings", false),
    ] {
        add(
            "rbac.authorization.k8s.io/v1",
            kind,
            plural,
            namespaced,
            super::rbac::strategy(kind),
        );
    }
    add(
        "networking.k8s.io/v1",
        "NetworkPolicy",
        "networkpolicies",
        true,
        base(false, true).hooks(super::networking::NetworkPolicyHooks),
    );
    add(
        "networking.k8s.io/v1",
        "Ingress",
        "ingresses",
        true,
        base(true, true).hooks(super::networking::IngressHooks),
    );
    add(
        "policy/v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        true,
        super::policy::pdb_strategy(),
    );
    add(
        "autoscaling/v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        true,
        super::autoscaling::hpa_strategy(),
    );
    add(
        "batch/v1",
        "Job",
        "jobs",
        true,
        base(true, true)
            .orphans_by_default()
            .fields(FieldLabels::OnlyFor("Job", fields::JOB))
            .hooks(super::batch::JobHooks),
    );
    add(
        "batch/v1",
        "CronJob",
        "cronjobs",
        true,
        base(true, true).hooks(super::batch::CronJobHooks),
    );
}
