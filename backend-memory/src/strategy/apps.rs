//! Strategies of the workload kinds (`apps/v1`), ported from `pkg/registry/apps/*/strategy.go`
//! and `pkg/apis/apps/validation`: the selector is required, not empty, matches the pod
//! template's labels and is immutable; the pod template has containers; a StatefulSet's name
//! is a DNS label and its `volumeClaimTemplates`, `serviceName` and `podManagementPolicy`
//! are immutable too (everything else of its spec may change).

use std::cmp::Ordering;
use std::collections::BTreeMap;

use operator_runtime_core::Object;
use operator_runtime_core::quantity::Quantity;
use operator_runtime_core::store::StoreResult;
use serde_json::Value;

use super::core_kinds::FIELD_IMMUTABLE;
use super::{Builtin, KindHooks, NameRule, base};
use crate::validation::Causes;

/// The hooks of one workload kind.
#[derive(Debug)]
struct WorkloadHooks {
    /// Lowercase kind name, as in "empty selector is invalid for deployment".
    noun: &'static str,
    /// Spec fields that cannot change after creation (besides the selector).
    immutable: &'static [&'static str],
    /// The status strategy resets labels too (Deployment).
    status_resets_labels: bool,
    /// An annotation change bumps the generation too (Deployment: its annotations are copied
    /// to its ReplicaSets).
    annotations_bump_generation: bool,
    /// The top-level fields of the kind's `spec` (its Go type): others are unknown fields,
    /// which the server drops when it decodes the body.
    spec_fields: &'static [&'static str],
    /// `omitempty` scalar fields of the Go type (`spec.minReadySeconds`, `status.replicas`
    /// of a Deployment): a zero value does not survive decoding, so it is never stored.
    omit_zero: &'static [(&'static str, &'static str)],
}

fn spec(object: &Object) -> Option<&Value> {
    object.body.get("spec")
}

fn at<'a>(value: Option<&'a Value>, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(value?, |v, key| v.get(*key))
}

fn string_map(value: Option<&Value>) -> BTreeMap<&str, &str> {
    value
        .and_then(Value::as_object)
        .map(|m| m.iter().filter_map(|(k, v)| Some((k.as_str(), v.as_str()?))).collect())
        .unwrap_or_default()
}

/// `metav1.LabelSelectorAsSelector(selector).Matches(labels)`.
pub(super) fn selector_matches(selector: &Value, labels: &BTreeMap<&str, &str>) -> bool {
    let labels_ok = string_map(selector.get("matchLabels"))
        .iter()
        .all(|(k, v)| labels.get(k) == Some(v));
    let expressions = selector.get("matchExpressions").and_then(Value::as_array);
    let expressions_ok = expressions.into_iter().flatten().all(|e| {
        let key = e.get("key").and_then(Value::as_str).unwrap_or("");
        let values: Vec<&str> = e
            .get("values")
            .and_then(Value::as_array)
            .map(|v| v.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let actual = labels.get(key);
        match e.get("operator").and_then(Value::as_str) {
            Some("In") => actual.is_some_and(|a| values.contains(a)),
            Some("NotIn") => actual.is_none_or(|a| !values.contains(a)),
            Some("Exists") => actual.is_some(),
            Some("DoesNotExist") => actual.is_none(),
            _ => false,
        }
    });
    labels_ok && expressions_ok
}

/// `ValidateContainerResourceRequirements` for cpu and memory style resources: every quantity
/// is nonnegative, and a request is at most its limit.
fn validate_resources(resources: Option<&Value>, path: &str, causes: &mut Causes) {
    let quantities = |key: &str| -> Vec<(String, Quantity)> {
        resources
            .and_then(|r| r.get(key))
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(name, v)| Some((name.clone(), Quantity::parse(v.as_str()?).ok()?)))
            .collect()
    };
    let (limits, requests) = (quantities("limits"), quantities("requests"));
    let zero = Quantity::parse("0").ok();
    let negative = |q: &Quantity| zero.as_ref().is_some_and(|z| q.cmp_value(z) == Ordering::Less);
    for (name, q) in &limits {
        if negative(q) {
            causes.invalid(
                &format!("{path}.limits[{name}]"),
                &q.canonical(),
                "must be greater than or equal to 0",
            );
        }
    }
    for (name, q) in &requests {
        if negative(q) {
            causes.invalid(
                &format!("{path}.requests[{name}]"),
                &q.canonical(),
                "must be greater than or equal to 0",
            );
        }
        if let Some((_, limit)) = limits.iter().find(|(n, _)| n == name)
            && q.cmp_value(limit) == Ordering::Greater
        {
            causes.invalid(
                &format!("{path}.requests"),
                &q.canonical(),
                &format!("must be less than or equal to {name} limit of {}", limit.canonical()),
            );
        }
    }
}

/// The Go zero value of a scalar (what `omitempty` leaves out).
fn is_zero(value: &Value) -> bool {
    match value {
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

fn selector_is_empty(selector: &Value) -> bool {
    let count = |k: &str| {
        selector.get(k).map_or(0, |v| {
            v.as_object().map_or(0, |m| m.len()) + v.as_array().map_or(0, Vec::len)
        })
    };
    count("matchLabels") + count("matchExpressions") == 0
}

impl KindHooks for WorkloadHooks {
    fn normalize(&self, object: &mut Object) -> StoreResult<()> {
        if let Some(Value::Object(spec)) = object.body.get_mut("spec") {
            spec.retain(|field, _| self.spec_fields.contains(&field.as_str()));
        }
        for (parent, field) in self.omit_zero {
            if let Some(Value::Object(map)) = object.body.get_mut(*parent)
                && map.get(*field).is_some_and(is_zero)
            {
                map.remove(*field);
            }
        }
        Ok(())
    }

    fn generation_changed(&self, old: &Object, new: &Object) -> bool {
        // `apiequality.Semantic.DeepEqual`: a nil and an empty map are equal.
        let annotations = |o: &Object| o.metadata.annotations.clone().filter(|a| !a.is_empty());
        old.body != new.body || (self.annotations_bump_generation && annotations(old) != annotations(new))
    }

    fn validate(&self, object: &Object, causes: &mut Causes) {
        let spec = spec(object);
        match at(spec, &["selector"]) {
            None | Some(Value::Null) => causes.required("spec.selector", ""),
            Some(selector) if selector_is_empty(selector) => {
                causes.invalid(
                    "spec.selector",
                    &selector.to_string(),
                    &format!("empty selector is invalid for {}", self.noun),
                );
            }
            Some(selector) => {
                let labels_value = at(spec, &["template", "metadata", "labels"]);
                if !selector_matches(selector, &string_map(labels_value)) {
                    causes.invalid(
                        "spec.template.metadata.labels",
                        &labels_value.map(Value::to_string).unwrap_or_default(),
                        "`selector` does not match template `labels`",
                    );
                }
            }
        }
        let containers = at(spec, &["template", "spec", "containers"]).and_then(Value::as_array);
        if containers.is_none_or(Vec::is_empty) {
            causes.required("spec.template.spec.containers", "");
        }
        for list in ["initContainers", "containers"] {
            let items = at(spec, &["template", "spec", list]).and_then(Value::as_array);
            for (i, container) in items.into_iter().flatten().enumerate() {
                let path = format!("spec.template.spec.{list}[{i}].resources");
                validate_resources(container.get("resources"), &path, causes);
            }
        }
        // `ValidateNonnegativeField` on the counts every workload kind has.
        for field in ["replicas", "minReadySeconds", "revisionHistoryLimit"] {
            if let Some(n) = at(spec, &[field]).and_then(Value::as_i64).filter(|n| *n < 0) {
                causes.invalid(
                    &format!("spec.{field}"),
                    &n.to_string(),
                    "must be greater than or equal to 0",
                );
            }
        }
    }

    fn prepare_for_status_update(&self, new: &mut Object, old: &Object) {
        if self.status_resets_labels {
            new.metadata.labels.clone_from(&old.metadata.labels);
        }
    }

    fn validate_update(&self, new: &Object, old: &Object, causes: &mut Causes) {
        self.validate(new, causes);
        for field in std::iter::once(&"selector").chain(self.immutable) {
            let (a, b) = (at(spec(new), &[field]), at(spec(old), &[field]));
            if a != b {
                causes.invalid(
                    &format!("spec.{field}"),
                    &a.map(Value::to_string).unwrap_or_default(),
                    FIELD_IMMUTABLE,
                );
            }
        }
    }
}

/// The fields of `apps/v1` `DeploymentSpec`.
const DEPLOYMENT_SPEC: &[&str] = &[
    "replicas",
    "selector",
    "template",
    "strategy",
    "minReadySeconds",
    "revisionHistoryLimit",
    "paused",
    "progressDeadlineSeconds",
];
/// The fields of `apps/v1` `StatefulSetSpec`.
const STATEFULSET_SPEC: &[&str] = &[
    "replicas",
    "selector",
    "template",
    "volumeClaimTemplates",
    "serviceName",
    "podManagementPolicy",
    "updateStrategy",
    "revisionHistoryLimit",
    "minReadySeconds",
    "persistentVolumeClaimRetentionPolicy",
    "ordinals",
];
/// The fields of `apps/v1` `DaemonSetSpec`.
const DAEMONSET_SPEC: &[&str] = &[
    "selector",
    "template",
    "updateStrategy",
    "minReadySeconds",
    "revisionHistoryLimit",
];
/// The fields of `apps/v1` `ReplicaSetSpec`.
const REPLICASET_SPEC: &[&str] = &["replicas", "minReadySeconds", "selector", "template"];

/// The `omitempty` scalars of `DeploymentSpec` and `DeploymentStatus`.
const DEPLOYMENT_OMIT_ZERO: &[(&str, &str)] = &[
    ("spec", "minReadySeconds"),
    ("spec", "paused"),
    ("status", "observedGeneration"),
    ("status", "replicas"),
    ("status", "updatedReplicas"),
    ("status", "readyReplicas"),
    ("status", "availableReplicas"),
    ("status", "unavailableReplicas"),
];
/// The `omitempty` scalars of `StatefulSetSpec` and `StatefulSetStatus` (its
/// `status.replicas` is not one: a zero is stored).
const STATEFULSET_OMIT_ZERO: &[(&str, &str)] = &[
    ("spec", "minReadySeconds"),
    ("status", "observedGeneration"),
    ("status", "readyReplicas"),
    ("status", "currentReplicas"),
    ("status", "updatedReplicas"),
    ("status", "currentRevision"),
    ("status", "updateRevision"),
];
/// The `omitempty` scalars of `DaemonSetSpec` and `DaemonSetStatus`.
const DAEMONSET_OMIT_ZERO: &[(&str, &str)] = &[
    ("spec", "minReadySeconds"),
    ("status", "observedGeneration"),
    ("status", "updatedNumberScheduled"),
    ("status", "numberAvailable"),
    ("status", "numberUnavailable"),
];
/// The `omitempty` scalars of `ReplicaSetSpec` and `ReplicaSetStatus`.
const REPLICASET_OMIT_ZERO: &[(&str, &str)] = &[
    ("spec", "minReadySeconds"),
    ("status", "fullyLabeledReplicas"),
    ("status", "readyReplicas"),
    ("status", "availableReplicas"),
    ("status", "observedGeneration"),
];

/// Registers Deployment, StatefulSet, DaemonSet and ReplicaSet.
pub(super) fn register(out: &mut Vec<Builtin>) {
    #[allow(clippy::type_complexity)]
    let workloads: [(
        &str,
        &str,
        &str,
        NameRule,
        &'static [&'static str],
        &'static [&'static str],
    ); 4] = [
        (
            "Deployment",
            "deployments",
            "deployment",
            NameRule::Subdomain,
            &[],
            DEPLOYMENT_SPEC,
        ),
        (
            "StatefulSet",
            "statefulsets",
            "statefulset",
            NameRule::Label,
            &["volumeClaimTemplates", "serviceName", "podManagementPolicy"],
            STATEFULSET_SPEC,
        ),
        (
            "DaemonSet",
            "daemonsets",
            "daemonset",
            NameRule::Subdomain,
            &[],
            DAEMONSET_SPEC,
        ),
        // The ReplicaSet validation words its empty selector as a deployment's.
        (
            "ReplicaSet",
            "replicasets",
            "deployment",
            NameRule::Subdomain,
            &[],
            REPLICASET_SPEC,
        ),
    ];
    for (kind, plural, noun, name_rule, immutable, spec_fields) in workloads {
        let omit_zero = match kind {
            "Deployment" => DEPLOYMENT_OMIT_ZERO,
            "StatefulSet" => STATEFULSET_OMIT_ZERO,
            "DaemonSet" => DAEMONSET_OMIT_ZERO,
            _ => REPLICASET_OMIT_ZERO,
        };
        out.push(Builtin {
            api_version: "apps/v1",
            kind,
            plural,
            namespaced: true,
            strategy: base(true, true).names(name_rule).hooks(WorkloadHooks {
                noun,
                immutable,
                status_resets_labels: kind == "Deployment",
                annotations_bump_generation: kind == "Deployment",
                spec_fields,
                omit_zero,
            }),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use operator_runtime_core::TypeRef;
    use serde_json::json;

    fn deployment(selector: Value, labels: Value) -> Object {
        Object::new(&TypeRef::new("apps/v1", "Deployment"), Some("ns"), "d").with(
            "spec",
            json!({"selector": selector, "template": {"metadata": {"labels": labels},
                "spec": {"containers": [{"name": "c", "image": "i"}]}}}),
        )
    }

    fn errors(hooks: &WorkloadHooks, object: &Object) -> Vec<String> {
        let mut causes = Causes::default();
        hooks.validate(object, &mut causes);
        causes
            .into_result("Deployment", "d")
            .err()
            .map(|e| e.causes().iter().map(|c| c.field.clone()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn selector_must_match_template_labels() {
        let hooks = WorkloadHooks {
            noun: "deployment",
            immutable: &[],
            status_resets_labels: true,
            annotations_bump_generation: true,
            spec_fields: DEPLOYMENT_SPEC,
            omit_zero: DEPLOYMENT_OMIT_ZERO,
        };
        assert!(
            errors(
                &hooks,
                &deployment(json!({"matchLabels": {"a": "1"}}), json!({"a": "1"}))
            )
            .is_empty()
        );
        assert_eq!(
            errors(
                &hooks,
                &deployment(json!({"matchLabels": {"a": "1"}}), json!({"a": "2"}))
            ),
            vec!["spec.template.metadata.labels"]
        );
        let expr = json!({"matchExpressions": [{"key": "a", "operator": "In", "values": ["1", "2"]}]});
        assert!(errors(&hooks, &deployment(expr, json!({"a": "2"}))).is_empty());
        assert_eq!(
            errors(&hooks, &deployment(json!({}), json!({"a": "1"}))),
            vec!["spec.selector"]
        );
    }
}
