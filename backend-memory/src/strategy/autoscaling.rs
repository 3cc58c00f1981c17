//! HorizontalPodAutoscaler (`autoscaling/v2`), ported from `ValidateHorizontalPodAutoscaler`,
//! `validateHorizontalPodAutoscalerSpec` (replica bounds, `ValidateCrossVersionObjectReference`,
//! `validateMetrics`, `validateBehavior`), `ValidateHorizontalPodAutoscalerUpdate` and
//! `ValidateHorizontalPodAutoscalerStatusUpdate`, with the options
//! `validationOptionsForHorizontalPodAutoscaler` derives. 1.37 defaults: `HPAScaleToZero` is on
//! (minReplicas may be 0, given an Object or External metric), `HPAConfigurableTolerance` is GA
//! (tolerance kept), and the beta declarative replica rules are enforced in their wording.

use std::cmp::Ordering;

use operator_runtime_core::Object;
use operator_runtime_core::quantity::Quantity;
use operator_runtime_core::validation::{is_dns1123_label, is_qualified_name};
use serde_json::Value;

use super::declarative_errors::{Declarative, forbidden, invalid, not_supported, quote, required};
use super::policy::{NOT_NEGATIVE, nonnegative};
use super::{KindHooks, Strategy, base};
use crate::validation::{Causes, NameRule, name_error};

/// `MaxPeriodSeconds`.
const MAX_PERIOD_SECONDS: i64 = 1800;
/// `MaxStabilizationWindowSeconds`.
const MAX_STABILIZATION_WINDOW_SECONDS: i64 = 3600;
/// `validMetricSourceTypesList` (sorted).
const METRIC_SOURCE_TYPES: &[&str] = &["ContainerResource", "External", "Object", "Pods", "Resource"];
/// The metric source fields in the order `validateMetricSpec` looks at them, with the type
/// each belongs to.
const METRIC_SOURCES: &[(&str, &str)] = &[
    ("object", "Object"),
    ("external", "External"),
    ("pods", "Pods"),
    ("resource", "Resource"),
    ("containerResource", "ContainerResource"),
];

/// `CrossVersionObjectReferenceValidationOptions`.
#[derive(Clone, Copy, Default)]
struct RefOptions {
    allow_empty_api_group: bool,
    allow_invalid_api_version: bool,
}

/// `HorizontalPodAutoscalerSpecValidationOptions`.
struct Options {
    min_replicas_lower_bound: i64,
    scale_target_ref: RefOptions,
    object_metrics: RefOptions,
}

/// A field that is set (present and not null: Go's non-nil pointer).
fn set<'a>(parent: Option<&'a Value>, key: &str) -> Option<&'a Value> {
    parent.and_then(|p| p.get(key)).filter(|v| !v.is_null())
}

/// A string field, "" when unset.
fn text<'a>(parent: Option<&'a Value>, key: &str) -> &'a str {
    set(parent, key).and_then(Value::as_str).unwrap_or_default()
}

/// A list field, empty when unset.
fn list<'a>(parent: Option<&'a Value>, key: &str) -> &'a [Value] {
    set(parent, key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// `ValidateAPIVersion` after `schema.ParseGroupVersion`: the error message, if any.
fn api_version_error(api_version: &str, opts: RefOptions) -> Option<String> {
    if opts.allow_invalid_api_version {
        return None;
    }
    let group = match api_version.matches('/').count() {
        0 => "",
        1 => api_version.split('/').next().unwrap_or_default(),
        _ => return Some(format!("unexpected GroupVersion string: {api_version}")),
    };
    (group.is_empty() && !opts.allow_empty_api_group).then(|| "apiVersion must specify API group".to_owned())
}

/// `ValidateCrossVersionObjectReference` (its Required errors' declarative twins are alpha, so
/// they stay hand-written).
fn validate_reference(reference: Option<&Value>, path: &str, opts: RefOptions, causes: &mut Causes) {
    for key in ["kind", "name"] {
        let value = text(reference, key);
        if value.is_empty() {
            required(causes, &format!("{path}.{key}"), "");
        } else if let Some(msg) = name_error(value, NameRule::PathSegment) {
            invalid(causes, &format!("{path}.{key}"), &quote(value), &msg);
        }
    }
    let api_version = text(reference, "apiVersion");
    if let Some(msg) = api_version_error(api_version, opts) {
        invalid(causes, &format!("{path}.apiVersion"), &quote(api_version), &msg);
    }
}

/// A quantity field's value (string or JSON number), if it parses.
fn quantity(value: &Value) -> Option<Quantity> {
    match value {
        Value::String(s) => Quantity::parse(s).ok(),
        Value::Number(n) => Quantity::parse(&n.to_string()).ok(),
        _ => None,
    }
}

/// `Quantity.Sign() != 1`.
fn not_positive(q: &Quantity) -> bool {
    Quantity::parse("0").is_ok_and(|zero| q.cmp_value(&zero) != Ordering::Greater)
}

/// `validateMetricTarget`.
fn validate_target(target: Option<&Value>, path: &str, causes: &mut Causes) {
    let kind = text(target, "type");
    if kind.is_empty() {
        required(causes, &format!("{path}.type"), "must specify a metric target type");
    }
    if !matches!(kind, "Utilization" | "Value" | "AverageValue") {
        invalid(
            causes,
            &format!("{path}.type"),
            &quote(kind),
            "must be either Utilization, Value, or AverageValue",
        );
    }
    for key in ["value", "averageValue"] {
        if let Some(q) = set(target, key).and_then(quantity).filter(not_positive) {
            invalid(
                causes,
                &format!("{path}.{key}"),
                &quote(&q.canonical()),
                "must be positive",
            );
        }
    }
    if let Some(n) = set(target, "averageUtilization")
        .and_then(Value::as_i64)
        .filter(|n| *n < 1)
    {
        invalid(
            causes,
            &format!("{path}.averageUtilization"),
            &n.to_string(),
            "must be greater than 0",
        );
    }
}

/// `validateMetricIdentifier`.
fn validate_identifier(metric: Option<&Value>, path: &str, causes: &mut Causes) {
    let name = text(metric, "name");
    if name.is_empty() {
        required(causes, &format!("{path}.name"), "must specify a metric name");
    } else if let Some(msg) = name_error(name, NameRule::PathSegment) {
        invalid(causes, &format!("{path}.name"), &quote(name), &msg);
    }
}

/// `ValidateContainerResourceName`, simplified: a qualified name, and without a domain one of
/// the container resources (`cpu`, `memory`, `ephemeral-storage`, `hugepages-*`).
fn validate_container_resource_name(name: &str, path: &str, causes: &mut Causes) {
    if !is_qualified_name(name) {
        invalid(
            causes,
            path,
            &quote(name),
            "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        );
    } else if !name.contains('/')
        && !matches!(name, "cpu" | "memory" | "ephemeral-storage")
        && !name.starts_with("hugepages-")
    {
        invalid(causes, path, &quote(name), "must be a standard resource for containers");
    }
}

/// The checks of the one populated metric source `key` at `path` (`validateObjectSource`,
/// `validateExternalSource`, `validatePodsSource`, `validateResourceSource`,
/// `validateContainerResourceSource`).
fn validate_source(key: &str, source: Option<&Value>, path: &str, opts: &Options, causes: &mut Causes) {
    let target = set(source, "target");
    let target_path = format!("{path}.target");
    let has = |k: &str| set(target, k).is_some();
    match key {
        "object" => {
            validate_reference(
                set(source, "describedObject"),
                &format!("{path}.describedObject"),
                opts.object_metrics,
                causes,
            );
            validate_identifier(set(source, "metric"), &format!("{path}.metric"), causes);
            validate_target(target, &target_path, causes);
            if !has("value") && !has("averageValue") {
                required(
                    causes,
                    &format!("{target_path}.averageValue"),
                    "must set either a target value or averageValue",
                );
            }
        }
        "external" => {
            validate_identifier(set(source, "metric"), &format!("{path}.metric"), causes);
            validate_target(target, &target_path, causes);
            if !has("value") && !has("averageValue") {
                required(
                    causes,
                    &format!("{target_path}.averageValue"),
                    "must set either a target value for metric or a per-pod target",
                );
            }
            if has("value") && has("averageValue") {
                forbidden(
                    causes,
                    &format!("{target_path}.value"),
                    "may not set both a target value for metric and a per-pod target",
                );
            }
        }
        "pods" => {
            validate_identifier(set(source, "metric"), &format!("{path}.metric"), causes);
            validate_target(target, &target_path, causes);
            if !has("averageValue") {
                required(
                    causes,
                    &format!("{target_path}.averageValue"),
                    "must specify a positive target averageValue",
                );
            }
        }
        _ => {
            // "resource" and "containerResource".
            let name = text(source, "name");
            if name.is_empty() {
                required(causes, &format!("{path}.name"), "must specify a resource name");
            } else if key == "containerResource" {
                validate_container_resource_name(name, &format!("{path}.name"), causes);
            }
            if key == "containerResource" {
                let container = text(source, "container");
                if container.is_empty() {
                    required(causes, &format!("{path}.container"), "must specify a container");
                } else if !is_dns1123_label(container) {
                    invalid(
                        causes,
                        &format!("{path}.container"),
                        &quote(container),
                        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
                    );
                }
            }
            validate_target(target, &target_path, causes);
            if !has("averageUtilization") && !has("averageValue") {
                required(
                    causes,
                    &format!("{target_path}.averageUtilization"),
                    "must set either a target raw value or a target utilization",
                );
            }
            if has("averageUtilization") && has("averageValue") {
                forbidden(
                    causes,
                    &format!("{target_path}.averageValue"),
                    "may not set both a target raw value and a target utilization",
                );
            }
        }
    }
}

/// `validateMetricSpec`.
fn validate_metric(metric: &Value, path: &str, opts: &Options, causes: &mut Causes) {
    let metric = Some(metric);
    let kind = text(metric, "type");
    if kind.is_empty() {
        required(causes, &format!("{path}.type"), "must specify a metric source type");
    }
    if !METRIC_SOURCE_TYPES.contains(&kind) {
        not_supported(causes, &format!("{path}.type"), &quote(kind), METRIC_SOURCE_TYPES);
    }
    let present: Vec<&str> = METRIC_SOURCES
        .iter()
        .map(|(key, _)| *key)
        .filter(|key| set(metric, key).is_some())
        .collect();
    // Only the first populated source is validated.
    if let Some(first) = present.first() {
        validate_source(first, set(metric, first), &format!("{path}.{first}"), opts, causes);
    }
    let expected = METRIC_SOURCES.iter().find(|(_, t)| *t == kind).map(|(key, _)| *key);
    match expected {
        Some(key) if set(metric, key).is_none() => required(
            causes,
            &format!("{path}.{key}"),
            "must populate information for the given metric source",
        ),
        Some(_) => {}
        // `validateMetricSpec` reports an unknown type twice.
        None => not_supported(causes, &format!("{path}.type"), &quote(kind), METRIC_SOURCE_TYPES),
    }
    if present.len() != 1 {
        // Go walks a set here (random order); sorted is one of its orders.
        let mut others: Vec<&str> = present.into_iter().filter(|key| Some(*key) != expected).collect();
        others.sort_unstable();
        for key in others {
            forbidden(
                causes,
                &format!("{path}.{key}"),
                "must populate the given metric source only",
            );
        }
    }
}

/// `validateScalingRules` of `behavior[key]`.
fn validate_rules(rules: Option<&Value>, path: &str, causes: &mut Causes) {
    let Some(rules) = rules else { return };
    let rules = Some(rules);
    if let Some(window) = set(rules, "stabilizationWindowSeconds").and_then(Value::as_i64) {
        let field = format!("{path}.stabilizationWindowSeconds");
        if window < 0 {
            invalid(
                causes,
                &field,
                &window.to_string(),
                "must be greater than or equal to zero",
            );
        }
        if window > MAX_STABILIZATION_WINDOW_SECONDS {
            invalid(
                causes,
                &field,
                &window.to_string(),
                &format!("must be less than or equal to {MAX_STABILIZATION_WINDOW_SECONDS}"),
            );
        }
    }
    if let Some(policy) = set(rules, "selectPolicy") {
        let policy = policy.as_str().unwrap_or_default();
        if !matches!(policy, "Max" | "Min" | "Disabled") {
            not_supported(
                causes,
                &format!("{path}.selectPolicy"),
                &quote(policy),
                &["Disabled", "Max", "Min"],
            );
        }
    }
    let policies = list(rules, "policies");
    if policies.is_empty() {
        required(causes, &format!("{path}.policies"), "must specify at least one Policy");
    }
    for (i, policy) in policies.iter().enumerate() {
        // `validateScalingPolicy`.
        let path = format!("{path}.policies[{i}]");
        let policy = Some(policy);
        let kind = text(policy, "type");
        if !matches!(kind, "Pods" | "Percent") {
            not_supported(causes, &format!("{path}.type"), &quote(kind), &["Percent", "Pods"]);
        }
        let number = |key: &str| set(policy, key).and_then(Value::as_i64).unwrap_or(0);
        let value = number("value");
        if value <= 0 {
            invalid(
                causes,
                &format!("{path}.value"),
                &value.to_string(),
                "must be greater than zero",
            );
        }
        let period = number("periodSeconds");
        if period <= 0 {
            invalid(
                causes,
                &format!("{path}.periodSeconds"),
                &period.to_string(),
                "must be greater than zero",
            );
        }
        if period > MAX_PERIOD_SECONDS {
            invalid(
                causes,
                &format!("{path}.periodSeconds"),
                &period.to_string(),
                &format!("must be less than or equal to {MAX_PERIOD_SECONDS}"),
            );
        }
    }
    // `ValidateNonnegativeQuantity`.
    if let Some(tolerance) = set(rules, "tolerance").and_then(quantity)
        && Quantity::parse("0").is_ok_and(|zero| tolerance.cmp_value(&zero) == Ordering::Less)
    {
        invalid(
            causes,
            &format!("{path}.tolerance"),
            &quote(&tolerance.canonical()),
            NOT_NEGATIVE,
        );
    }
}

/// `validationOptionsForHorizontalPodAutoscaler`.
fn options(new: &Object, old: Option<&Object>) -> Options {
    let target = |o: &Object| {
        let reference = set(o.body.get("spec"), "scaleTargetRef");
        (
            text(reference, "apiVersion").to_owned(),
            text(reference, "kind").to_owned(),
        )
    };
    let mut scale_target_ref = RefOptions::default();
    let (_, kind) = target(new);
    if old.is_some_and(|o| target(o) == target(new)) {
        scale_target_ref.allow_invalid_api_version = true;
    } else if kind == "ReplicationController" {
        scale_target_ref.allow_empty_api_group = true;
    }
    let mut object_metrics = RefOptions {
        allow_empty_api_group: true,
        allow_invalid_api_version: false,
    };
    // An invalid describedObject apiVersion already stored may stay.
    let old_metrics = old.map(|o| list(o.body.get("spec"), "metrics")).unwrap_or_default();
    if old_metrics.iter().any(|m| {
        text(Some(m), "type") == "Object"
            && set(Some(m), "object").is_some_and(|o| {
                let described = set(Some(o), "describedObject");
                api_version_error(text(described, "apiVersion"), object_metrics).is_some()
            })
    }) {
        object_metrics.allow_invalid_api_version = true;
    }
    Options {
        // `HPAScaleToZero` is on by default in 1.37.
        min_replicas_lower_bound: 0,
        scale_target_ref,
        object_metrics,
    }
}

/// `validateHorizontalPodAutoscalerSpec`, with the enforced declarative replica rules.
fn validate_spec(new: &Object, old: Option<&Object>, causes: &mut Causes) {
    let opts = options(new, old);
    let spec = new.body.get("spec");
    let old_spec = old.map(|o| o.body.get("spec"));
    // Declarative validation skips a field an update left as it was.
    let unchanged = |key: &str| old_spec.is_some_and(|o| set(o, key) == set(spec, key));
    let mut declarative = Declarative::default();
    let min = set(spec, "minReplicas").and_then(Value::as_i64);
    let max = set(spec, "maxReplicas").and_then(Value::as_i64).unwrap_or(0);
    if let Some(min) = min.filter(|m| *m < opts.min_replicas_lower_bound) {
        let detail = format!("must be greater than or equal to {}", opts.min_replicas_lower_bound);
        let hand_detail = detail.clone();
        declarative.covered(
            causes,
            unchanged("minReplicas"),
            |c| invalid(c, "spec.minReplicas", &min.to_string(), &hand_detail),
            move |c| invalid(c, "spec.minReplicas", &min.to_string(), &detail),
        );
    }
    if max == 0 {
        declarative.covered(
            causes,
            unchanged("maxReplicas"),
            |c| required(c, "spec.maxReplicas", "must be set and greater than 0"),
            |c| required(c, "spec.maxReplicas", ""),
        );
    } else if max < 0 {
        let rule = move |c: &mut Causes| {
            invalid(
                c,
                "spec.maxReplicas",
                &max.to_string(),
                "must be greater than or equal to 1",
            );
        };
        declarative.covered(causes, unchanged("maxReplicas"), rule, rule);
    }
    if let Some(min) = min
        && max < min
    {
        invalid(
            causes,
            "spec.maxReplicas",
            &max.to_string(),
            "must be greater than or equal to `minReplicas`",
        );
    }
    validate_reference(
        set(spec, "scaleTargetRef"),
        "spec.scaleTargetRef",
        opts.scale_target_ref,
        causes,
    );
    // `validateMetrics`.
    let metrics = list(spec, "metrics");
    for (i, metric) in metrics.iter().enumerate() {
        validate_metric(metric, &format!("spec.metrics[{i}]"), &opts, causes);
    }
    let scales_on_objects = metrics
        .iter()
        .any(|m| matches!(text(Some(m), "type"), "Object" | "External"));
    if min == Some(0) && !scales_on_objects {
        forbidden(
            causes,
            "spec.metrics",
            "must specify at least one Object or External metric to support scaling to zero replicas",
        );
    }
    // `validateBehavior`.
    if let Some(behavior) = set(spec, "behavior") {
        validate_rules(set(Some(behavior), "scaleUp"), "spec.behavior.scaleUp", causes);
        validate_rules(set(Some(behavior), "scaleDown"), "spec.behavior.scaleDown", causes);
    }
    declarative.finish(causes);
}

/// The HorizontalPodAutoscaler hooks.
#[derive(Debug)]
struct HpaHooks;

/// The HorizontalPodAutoscaler strategy: status subresource and generation (`HPAGeneration`
/// is on by default in 1.37).
pub(super) fn hpa_strategy() -> Strategy {
    base(true, true).hooks(HpaHooks)
}

impl KindHooks for HpaHooks {
    fn validate(&self, object: &Object, causes: &mut Causes) {
        validate_spec(object, None, causes);
    }

    fn validate_update(&self, new: &Object, old: &Object, causes: &mut Causes) {
        validate_spec(new, Some(old), causes);
    }

    fn validate_status_update(&self, new: &Object, _old: &Object, causes: &mut Causes) {
        let status = new.body.get("status");
        for (i, condition) in list(status, "conditions").iter().enumerate() {
            let path = format!("status.conditions[{i}].observedGeneration");
            nonnegative(Some(condition), "observedGeneration", &path, causes);
        }
        nonnegative(status, "currentReplicas", "status.currentReplicas", causes);
        nonnegative(status, "desiredReplicas", "status.desiredReplicas", causes);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::declarative_errors::testing::{
        create, invalid_fields, invalid_messages, object, replace, replace_status,
    };

    fn hpa(extra: Value) -> operator_runtime_core::Object {
        let mut spec = json!({
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "deploy-0"},
            "maxReplicas": 5,
        });
        if let (Some(spec), Value::Object(extra)) = (spec.as_object_mut(), extra) {
            spec.extend(extra);
        }
        object(
            "autoscaling/v2",
            "HorizontalPodAutoscaler",
            "hpa-2",
            json!({"spec": spec}),
        )
    }

    #[test]
    fn replica_bounds() {
        create(&hpa(json!({}))).unwrap();
        create(&hpa(json!({"minReplicas": 5}))).unwrap();
        // The declarative Required error (beta, enforced) comes after the hand-written one.
        assert_eq!(
            invalid_messages(create(&hpa(json!({"maxReplicas": 0})))),
            vec![
                "spec.maxReplicas: Invalid value: 0: must be greater than or equal to `minReplicas`",
                "spec.maxReplicas: Required value",
            ]
        );
        assert_eq!(
            invalid_fields(create(&hpa(json!({"minReplicas": 10})))),
            vec!["spec.maxReplicas"]
        );
        assert_eq!(
            invalid_messages(create(&hpa(json!({"minReplicas": -1})))),
            vec!["spec.minReplicas: Invalid value: -1: must be greater than or equal to 0"]
        );
    }

    #[test]
    fn scale_to_zero_needs_an_object_or_external_metric() {
        // The defaulted CPU metric cannot scale to zero.
        assert_eq!(
            invalid_fields(create(&hpa(json!({"minReplicas": 0})))),
            vec!["spec.metrics"]
        );
        let external = json!([{"type": "External", "external": {
            "metric": {"name": "queue"}, "target": {"type": "AverageValue", "averageValue": "10"}}}]);
        create(&hpa(json!({"minReplicas": 0, "metrics": external}))).unwrap();
    }

    #[test]
    fn scale_target_ref_is_checked() {
        let reference = |r: Value| hpa(json!({"scaleTargetRef": r}));
        create(&reference(
            json!({"apiVersion": "v1", "kind": "ReplicationController", "name": "rc"}),
        ))
        .unwrap();
        assert_eq!(
            invalid_fields(create(&reference(
                json!({"apiVersion": "v1", "kind": "Deployment", "name": "d"})
            ))),
            vec!["spec.scaleTargetRef.apiVersion"]
        );
        assert_eq!(
            invalid_fields(create(&reference(json!({"apiVersion": "apps/v1/x", "name": "a/b"})))),
            vec![
                "spec.scaleTargetRef.kind",
                "spec.scaleTargetRef.name",
                "spec.scaleTargetRef.apiVersion",
            ]
        );
    }

    #[test]
    fn metrics_are_checked_per_source() {
        let ok = [
            json!([{"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "500Mi"}}}]),
            json!([{"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "1k"}}}]),
            json!([{"type": "ContainerResource", "containerResource": {"name": "cpu", "container": "main",
                "target": {"type": "Utilization", "averageUtilization": 50}}}]),
            json!([{"type": "Object", "object": {"describedObject": {"apiVersion": "v1", "kind": "Service", "name": "s"},
                "metric": {"name": "rps"}, "target": {"type": "Value", "value": "100"}}}]),
        ];
        for metrics in ok {
            create(&hpa(json!({"metrics": metrics}))).unwrap();
        }
        let no_target = json!([{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Value"}}}]);
        assert_eq!(
            invalid_messages(create(&hpa(json!({"metrics": no_target})))),
            vec![
                "spec.metrics[0].resource.target.averageUtilization: Required value: must set either a target raw value or a target utilization"
            ]
        );
        let bad = json!([
            {"type": "Bogus"},
            {"type": "Pods", "pods": {"metric": {"name": ""}, "target": {"type": "Odd", "averageValue": "-1"}},
             "resource": {"name": "cpu"}},
            {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 0}}}
        ]);
        assert_eq!(
            invalid_fields(create(&hpa(json!({"metrics": bad})))),
            vec![
                "spec.metrics[0].type",
                "spec.metrics[0].type",
                "spec.metrics[1].pods.metric.name",
                "spec.metrics[1].pods.target.type",
                "spec.metrics[1].pods.target.averageValue",
                "spec.metrics[1].resource",
                "spec.metrics[2].resource.target.averageUtilization",
            ]
        );
    }

    #[test]
    fn behavior_rules_are_checked() {
        for behavior in [
            json!({"scaleDown": {"stabilizationWindowSeconds": 60}}),
            json!({"scaleUp": {"policies": [{"type": "Pods", "value": 4, "periodSeconds": 15}]}}),
            json!({"scaleDown": {"selectPolicy": "Disabled"}}),
        ] {
            create(&hpa(json!({"behavior": behavior}))).unwrap();
        }
        let bad = json!({
            "scaleUp": {"selectPolicy": "Bogus", "stabilizationWindowSeconds": 4000},
            "scaleDown": {"policies": [{"type": "Nodes", "value": 0, "periodSeconds": 1801}], "tolerance": "-1"}
        });
        assert_eq!(
            invalid_fields(create(&hpa(json!({"behavior": bad})))),
            vec![
                "spec.behavior.scaleUp.stabilizationWindowSeconds",
                "spec.behavior.scaleUp.selectPolicy",
                "spec.behavior.scaleDown.policies[0].type",
                "spec.behavior.scaleDown.policies[0].value",
                "spec.behavior.scaleDown.policies[0].periodSeconds",
                "spec.behavior.scaleDown.tolerance",
            ]
        );
        let empty = json!({"scaleUp": {"policies": []}});
        assert_eq!(
            invalid_fields(create(&hpa(json!({"behavior": empty})))),
            vec!["spec.behavior.scaleUp.policies"]
        );
    }

    #[test]
    fn updates_are_validated() {
        let first = hpa(json!({}));
        replace(&first, |o| {
            o.body["spec"]["scaleTargetRef"]["kind"] = json!("StatefulSet");
            o.body["spec"]["minReplicas"] = json!(3);
        })
        .unwrap();
        let result = replace(&first, |o| {
            o.body["spec"]["maxReplicas"] = json!(0);
        });
        assert_eq!(invalid_fields(result), vec!["spec.maxReplicas", "spec.maxReplicas"]);
        let result = replace(&first, |o| {
            o.body["spec"]["behavior"] = json!({"scaleUp": {"selectPolicy": "Sideways"}});
        });
        assert_eq!(invalid_fields(result), vec!["spec.behavior.scaleUp.selectPolicy"]);
    }

    #[test]
    fn status_replicas_cannot_be_negative() {
        let first = hpa(json!({}));
        replace_status(&first, |o| {
            o.body
                .insert("status".into(), json!({"currentReplicas": 1, "desiredReplicas": 2}));
        })
        .unwrap();
        let result = replace_status(&first, |o| {
            o.body
                .insert("status".into(), json!({"currentReplicas": 1, "desiredReplicas": -1}));
        });
        assert_eq!(
            invalid_messages(result),
            vec!["status.desiredReplicas: Invalid value: -1: must be greater than or equal to 0"]
        );
    }
}
