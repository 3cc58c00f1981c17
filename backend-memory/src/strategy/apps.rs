//! Strategies of the workload kinds (`apps/v1`), ported from `pkg/registry/apps/*/strategy.go`
//! and `pkg/apis/apps/validation`: the selector is required, not empty, matches the pod
//! template's labels and is immutable; the pod template has containers; a StatefulSet's name
//! is a DNS label and its `volumeClaimTemplates`, `serviceName` and `podManagementPolicy`
//! are immutable too (everything else of its spec may change).

use std::collections::BTreeMap;

use operator_runtime_core::Object;
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
fn selector_matches(selector: &Value, labels: &BTreeMap<&str, &str>) -> bool {
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

fn selector_is_empty(selector: &Value) -> bool {
    let count = |k: &str| {
        selector.get(k).map_or(0, |v| {
            v.as_object().map_or(0, |m| m.len()) + v.as_array().map_or(0, Vec::len)
        })
    };
    count("matchLabels") + count("matchExpressions") == 0
}

impl KindHooks for WorkloadHooks {
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

/// Registers Deployment, StatefulSet, DaemonSet and ReplicaSet.
pub(super) fn register(out: &mut Vec<Builtin>) {
    let workloads: [(&str, &str, &str, NameRule, &'static [&'static str]); 4] = [
        ("Deployment", "deployments", "deployment", NameRule::Subdomain, &[]),
        (
            "StatefulSet",
            "statefulsets",
            "statefulset",
            NameRule::Label,
            &["volumeClaimTemplates", "serviceName", "podManagementPolicy"],
        ),
        ("DaemonSet", "daemonsets", "daemonset", NameRule::Subdomain, &[]),
        // The ReplicaSet validation words its empty selector as a deployment's.
        ("ReplicaSet", "replicasets", "deployment", NameRule::Subdomain, &[]),
    ];
    for (kind, plural, noun, name_rule, immutable) in workloads {
        out.push(Builtin {
            api_version: "apps/v1",
            kind,
            plural,
            namespaced: true,
            strategy: base(true, true).names(name_rule).hooks(WorkloadHooks {
                noun,
                immutable,
                status_resets_labels: kind == "Deployment",
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
