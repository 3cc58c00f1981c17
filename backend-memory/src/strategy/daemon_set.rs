//! DaemonSet validation: `ValidateDaemonSetSpec` (selector, pod template, restart policy,
//! update strategy, counts) and `ValidateDaemonSetStatusUpdate`
//! (`pkg/apis/apps/validation`, 1.37.2). The selector stays immutable through the workload
//! hooks' update rule; `templateGeneration` is kept consistent by the strategy (see
//! `defaults::apps::template_generation`), so its checks are not repeated here.

use serde_json::Value;

use super::apps::{selector_is_empty, selector_matches, string_map};
use super::label_selector::validate_label_selector;
use super::pod_spec::{
    int_at, invalid_int, invalid_json, not_supported, present, quote, str_at, validate_pod_template,
};
use crate::validation::Causes;

const NONNEGATIVE: &str = "must be greater than or equal to 0";

/// `ValidateDaemonSetSpec`, in Go's order.
pub(crate) fn validate_spec(spec: Option<&Value>, causes: &mut Causes) {
    let null = Value::Null;
    let spec = spec.unwrap_or(&null);
    let selector = present(spec, "selector");
    let converts = validate_label_selector(selector, "spec.selector", false, causes);
    let template = spec.get("template").unwrap_or(&null);
    let labels = template.get("metadata").and_then(|m| m.get("labels"));
    // A missing selector selects nothing (`LabelSelectorAsSelector(nil)`).
    if converts && !selector.is_some_and(|s| selector_matches(s, &string_map(labels))) {
        invalid_json(
            causes,
            "spec.template.metadata.labels",
            &labels.map_or_else(|| "null".to_owned(), Value::to_string),
            "`selector` does not match template `labels`",
        );
    }
    if let Some(selector) = selector
        && selector_is_empty(selector)
    {
        invalid_json(
            causes,
            "spec.selector",
            &selector.to_string(),
            "empty selector is invalid for daemonset",
        );
    }
    validate_pod_template(template, "spec.template", causes);
    let pod_spec = template.get("spec").unwrap_or(&null);
    let restart_policy = str_at(pod_spec, "restartPolicy");
    if restart_policy != "Always" {
        not_supported(causes, "spec.template.spec.restartPolicy", restart_policy, &["Always"]);
    }
    if present(pod_spec, "activeDeadlineSeconds").is_some() {
        causes.forbidden(
            "spec.template.spec.activeDeadlineSeconds",
            "activeDeadlineSeconds in DaemonSet is not Supported",
        );
    }
    if let Some(n) = int_at(spec, "minReadySeconds").filter(|n| *n < 0) {
        invalid_int(causes, "spec.minReadySeconds", n, NONNEGATIVE);
    }
    validate_update_strategy(spec.get("updateStrategy").unwrap_or(&null), causes);
    if let Some(n) = int_at(spec, "revisionHistoryLimit").filter(|n| *n < 0) {
        invalid_int(causes, "spec.revisionHistoryLimit", n, NONNEGATIVE);
    }
}

/// `ValidateDaemonSetUpdateStrategy` (the type is defaulted to RollingUpdate).
fn validate_update_strategy(strategy: &Value, causes: &mut Causes) {
    const PATH: &str = "spec.updateStrategy";
    match str_at(strategy, "type") {
        "OnDelete" => {}
        "RollingUpdate" => match present(strategy, "rollingUpdate") {
            None => causes.required(&format!("{PATH}.rollingUpdate"), ""),
            Some(rolling) => validate_rolling_update(rolling, &format!("{PATH}.rollingUpdate"), causes),
        },
        other => {
            // The bad value is the internal strategy struct, printed as JSON without tags.
            let rolling = present(strategy, "rollingUpdate").map_or_else(
                || "null".to_owned(),
                |r| {
                    format!(
                        "{{\"MaxUnavailable\":{},\"MaxSurge\":{}}}",
                        r.get("maxUnavailable").map_or_else(|| "0".to_owned(), Value::to_string),
                        r.get("maxSurge").map_or_else(|| "0".to_owned(), Value::to_string)
                    )
                },
            );
            causes.push(
                "FieldValueNotSupported",
                PATH,
                format!(
                    "Unsupported value: {{\"Type\":{},\"RollingUpdate\":{rolling}}}: supported values: \"RollingUpdate\", \"OnDelete\"",
                    quote(other)
                ),
            );
        }
    }
}

/// An int-or-string as `intstr.IntOrString`: the integer, or the percent string.
enum IntOrPercent<'a> {
    Int(i64),
    Str(&'a str),
}

fn int_or_percent(value: Option<&Value>) -> IntOrPercent<'_> {
    match value {
        Some(Value::String(s)) => IntOrPercent::Str(s),
        Some(v) => IntOrPercent::Int(v.as_i64().unwrap_or(0)),
        None => IntOrPercent::Int(0),
    }
}

/// `IsValidPercent`: digits then `%`.
fn percent_value(s: &str) -> Option<i64> {
    let digits = s.strip_suffix('%')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Go's Atoi overflows to an error (value 0); so do we.
    Some(digits.parse().unwrap_or(0))
}

/// `getIntOrPercentValue`: the percent number, the integer, or (Go's `IntValue` of a
/// non-percent string) the string parsed as an integer.
fn int_or_percent_value(v: &IntOrPercent<'_>) -> i64 {
    match v {
        IntOrPercent::Int(n) => *n,
        IntOrPercent::Str(s) => percent_value(s).unwrap_or_else(|| s.parse().unwrap_or(0)),
    }
}

/// `ValidatePositiveIntOrPercent` and `IsNotMoreThan100Percent` of one field.
fn validate_int_or_percent(v: &IntOrPercent<'_>, path: &str, causes: &mut Causes) {
    match v {
        IntOrPercent::Str(s) if percent_value(s).is_none() => causes.push(
            "FieldValueInvalid",
            path,
            format!(
                "Invalid value: {}: a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
                quote(s)
            ),
        ),
        IntOrPercent::Int(n) if *n < 0 => invalid_int(causes, path, *n, NONNEGATIVE),
        _ => {}
    }
}

/// `ValidateRollingUpdateDaemonSet`.
fn validate_rolling_update(rolling: &Value, path: &str, causes: &mut Causes) {
    let unavailable = int_or_percent(present(rolling, "maxUnavailable"));
    let surge = int_or_percent(present(rolling, "maxSurge"));
    let unavailable_path = format!("{path}.maxUnavailable");
    let surge_path = format!("{path}.maxSurge");
    validate_int_or_percent(&unavailable, &unavailable_path, causes);
    validate_int_or_percent(&surge, &surge_path, causes);
    for (v, field) in [(&unavailable, &unavailable_path), (&surge, &surge_path)] {
        if let IntOrPercent::Str(s) = v
            && percent_value(s).is_some_and(|p| p > 100)
        {
            causes.push(
                "FieldValueInvalid",
                field,
                format!("Invalid value: {}: must not be greater than 100%", quote(s)),
            );
        }
    }
    let has_unavailable = int_or_percent_value(&unavailable) != 0;
    let has_surge = int_or_percent_value(&surge) != 0;
    match (has_unavailable, has_surge) {
        (true, true) => {
            let shown = match surge {
                IntOrPercent::Int(n) => n.to_string(),
                IntOrPercent::Str(s) => quote(s),
            };
            invalid_json(
                causes,
                &surge_path,
                &shown,
                "may not be set when maxUnavailable is non-zero",
            );
        }
        (false, false) => causes.required(&unavailable_path, "cannot be 0 when maxSurge is 0"),
        _ => {}
    }
}

/// `validateDaemonSetStatus` and the collision count rule of `ValidateDaemonSetStatusUpdate`.
pub(crate) fn validate_status(new: Option<&Value>, old: Option<&Value>, causes: &mut Causes) {
    let null = Value::Null;
    let status = new.unwrap_or(&null);
    for field in [
        "currentNumberScheduled",
        "numberMisscheduled",
        "desiredNumberScheduled",
        "numberReady",
        "observedGeneration",
        "updatedNumberScheduled",
        "numberAvailable",
        "numberUnavailable",
        "collisionCount",
    ] {
        if let Some(n) = int_at(status, field).filter(|n| *n < 0) {
            invalid_int(causes, &format!("status.{field}"), n, NONNEGATIVE);
        }
    }
    // `IsDecremented`: a set count may not go down or be unset.
    let old_count = old.and_then(|o| int_at(o, "collisionCount"));
    let new_count = int_at(status, "collisionCount");
    if let Some(old_count) = old_count
        && new_count.is_none_or(|n| n < old_count)
    {
        invalid_int(
            causes,
            "status.collisionCount",
            new_count.unwrap_or(0),
            "cannot be decremented",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn errors(spec: Value) -> Vec<String> {
        let mut causes = Causes::default();
        validate_spec(Some(&spec), &mut causes);
        causes
            .into_result("DaemonSet", "ds")
            .err()
            .map(|e| {
                e.causes()
                    .iter()
                    .map(|c| format!("{}: {}", c.field, c.message))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A defaulted DaemonSet spec with `template_spec` fields and `strategy`.
    fn daemon_set(template_spec: Value, strategy: Value) -> Value {
        let mut pod = json!({
            "containers": [{"name": "main", "image": "nginx:1.27", "imagePullPolicy": "IfNotPresent",
                            "terminationMessagePolicy": "File", "resources": {}}],
            "restartPolicy": "Always", "dnsPolicy": "ClusterFirst", "terminationGracePeriodSeconds": 30,
        });
        if let (Some(pod), Value::Object(extra)) = (pod.as_object_mut(), template_spec) {
            pod.extend(extra);
        }
        json!({
            "selector": {"matchLabels": {"app": "a"}},
            "template": {"metadata": {"labels": {"app": "a"}}, "spec": pod},
            "updateStrategy": strategy,
        })
    }

    fn rolling(rolling: Value) -> Value {
        json!({"type": "RollingUpdate", "rollingUpdate": rolling})
    }

    #[test]
    fn a_valid_daemon_set_passes() {
        assert!(
            errors(daemon_set(
                json!({}),
                rolling(json!({"maxUnavailable": 1, "maxSurge": 0}))
            ))
            .is_empty()
        );
        assert!(errors(daemon_set(json!({}), json!({"type": "OnDelete"}))).is_empty());
        assert!(
            errors(daemon_set(
                json!({}),
                rolling(json!({"maxUnavailable": "25%", "maxSurge": 0}))
            ))
            .is_empty()
        );
    }

    #[test]
    fn the_template_must_restart_always() {
        assert_eq!(
            errors(daemon_set(
                json!({"restartPolicy": "OnFailure"}),
                json!({"type": "OnDelete"})
            )),
            vec!["spec.template.spec.restartPolicy: Unsupported value: \"OnFailure\": supported values: \"Always\""]
        );
        // A value no pod accepts is reported twice: by the pod spec and by the DaemonSet.
        assert_eq!(
            errors(daemon_set(
                json!({"restartPolicy": "Bogus"}),
                json!({"type": "OnDelete"})
            ))
            .len(),
            2
        );
    }

    #[test]
    fn no_active_deadline_and_a_nonnegative_min_ready() {
        let mut spec = daemon_set(json!({"activeDeadlineSeconds": 30}), json!({"type": "OnDelete"}));
        spec["minReadySeconds"] = json!(-1);
        assert_eq!(
            errors(spec),
            vec![
                "spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in DaemonSet is not Supported",
                "spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0",
            ]
        );
    }

    #[test]
    fn rolling_update_needs_exactly_one_of_unavailable_and_surge() {
        assert_eq!(
            errors(daemon_set(
                json!({}),
                rolling(json!({"maxUnavailable": 0, "maxSurge": 0}))
            )),
            vec!["spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0"]
        );
        assert_eq!(
            errors(daemon_set(
                json!({}),
                rolling(json!({"maxUnavailable": 1, "maxSurge": "10%"}))
            )),
            vec![
                "spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: \"10%\": may not be set when maxUnavailable is non-zero"
            ]
        );
        assert_eq!(
            errors(daemon_set(
                json!({}),
                rolling(json!({"maxUnavailable": "150%", "maxSurge": 0}))
            )),
            vec![
                "spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: \"150%\": must not be greater than 100%"
            ]
        );
        assert_eq!(
            errors(daemon_set(
                json!({}),
                rolling(json!({"maxUnavailable": "x", "maxSurge": 0}))
            ))
            .len(),
            2
        );
        assert_eq!(
            errors(daemon_set(json!({}), json!({"type": "RollingUpdate"}))),
            vec!["spec.updateStrategy.rollingUpdate: Required value"]
        );
        assert_eq!(
            errors(daemon_set(json!({}), json!({"type": "Bogus"}))),
            vec![
                "spec.updateStrategy: Unsupported value: {\"Type\":\"Bogus\",\"RollingUpdate\":null}: supported values: \"RollingUpdate\", \"OnDelete\""
            ]
        );
    }

    #[test]
    fn a_missing_selector_matches_nothing() {
        let mut spec = daemon_set(json!({}), json!({"type": "OnDelete"}));
        spec.as_object_mut().map(|s| s.remove("selector"));
        assert_eq!(
            errors(spec),
            vec![
                "spec.template.metadata.labels: Invalid value: {\"app\":\"a\"}: `selector` does not match template `labels`"
            ]
        );
        let mut spec = daemon_set(json!({}), json!({"type": "OnDelete"}));
        spec["selector"] = json!({"matchExpressions": [{"key": "app", "operator": "Bogus"}]});
        assert_eq!(
            errors(spec),
            vec!["spec.selector.matchExpressions[0].operator: Invalid value: \"Bogus\": not a valid selector operator"]
        );
    }

    #[test]
    fn status_counts_are_nonnegative_and_collisions_never_go_down() {
        let mut causes = Causes::default();
        validate_status(Some(&json!({"numberReady": 1})), None, &mut causes);
        assert!(causes.is_empty());
        validate_status(
            Some(&json!({"numberReady": -1, "collisionCount": 1})),
            Some(&json!({"collisionCount": 2})),
            &mut causes,
        );
        let fields: Vec<String> = causes
            .into_result("DaemonSet", "ds")
            .err()
            .map(|e| e.causes().iter().map(|c| c.field.clone()).collect())
            .unwrap_or_default();
        assert_eq!(fields, vec!["status.numberReady", "status.collisionCount"]);
    }
}
