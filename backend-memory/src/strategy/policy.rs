//! PodDisruptionBudget (`policy/v1`), ported from `ValidatePodDisruptionBudget`,
//! `ValidatePodDisruptionBudgetSpec` and `ValidatePodDisruptionBudgetStatusUpdate`, and the
//! registry strategy's rules: path-segment names only (the strategy validates no metadata, so
//! only the generic `validatePathSegment` applies), no unconditional updates, and an update may
//! keep invalid label values in its selector if the stored one had them.
//!
//! Also the shared `metav1` helper these kinds use: `ValidateConditions`.

use operator_runtime_core::Object;
use operator_runtime_core::validation::is_qualified_name;
use serde_json::Value;

use super::declarative_errors::{invalid, not_supported, quote, render, required};
use super::label_selector::{selector_has_errors, validate_label_selector};
use super::{KindHooks, NameRule, Strategy, base};
use crate::validation::Causes;

/// `IsNegativeErrorMsg` of `ValidateNonnegativeField`.
pub(super) const NOT_NEGATIVE: &str = "must be greater than or equal to 0";

/// `supportedUnhealthyPodEvictionPolicies`, sorted as `sets.String.List` returns them.
const EVICTION_POLICIES: &[&str] = &["AlwaysAllow", "IfHealthyBudget"];

/// The message of `IsQualifiedName` for a label key (the name-part wording).
const QUALIFIED_NAME_MSG: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

/// `ValidateLabelName`.
fn validate_label_name(name: &str, path: &str, causes: &mut Causes) {
    if !is_qualified_name(name) {
        let msg = if name.is_empty() {
            "name part must be non-empty"
        } else {
            QUALIFIED_NAME_MSG
        };
        invalid(causes, path, &quote(name), msg);
    }
}

/// `ValidateNonnegativeField` of an optional integer at `parent[key]`.
pub(super) fn nonnegative(parent: Option<&Value>, key: &str, path: &str, causes: &mut Causes) {
    if let Some(n) = parent
        .and_then(|p| p.get(key))
        .and_then(Value::as_i64)
        .filter(|n| *n < 0)
    {
        invalid(causes, path, &n.to_string(), NOT_NEGATIVE);
    }
}

/// The message of `IsValidPercent`.
const PERCENT_MSG: &str = "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')";

/// The number of a valid percent string (`getPercentValue`; `strconv.Atoi` saturates).
fn percent_value(text: &str) -> Option<i64> {
    let digits = text.strip_suffix('%')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(digits.parse().unwrap_or(i64::MAX))
}

/// `ValidatePositiveIntOrPercent` and `IsNotMoreThan100Percent` of an int-or-string.
fn validate_int_or_percent(value: &Value, path: &str, causes: &mut Causes) {
    match value {
        Value::String(text) => match percent_value(text) {
            None => invalid(causes, path, &render(value), PERCENT_MSG),
            Some(n) if n > 100 => invalid(causes, path, &render(value), "must not be greater than 100%"),
            Some(_) => {}
        },
        Value::Number(n) => {
            if let Some(n) = n.as_i64().filter(|n| *n < 0) {
                invalid(causes, path, &n.to_string(), NOT_NEGATIVE);
            }
        }
        _ => invalid(
            causes,
            path,
            &render(value),
            "must be an integer or percentage (e.g '5%%')",
        ),
    }
}

/// A field of the body that is set (present and not null: Go's non-nil pointer).
fn set<'a>(parent: Option<&'a Value>, key: &str) -> Option<&'a Value> {
    parent.and_then(|p| p.get(key)).filter(|v| !v.is_null())
}

/// The internal `policy.PodDisruptionBudgetSpec` as `json.Marshal` prints it (Go field names,
/// struct order; the selector is the tagged `metav1.LabelSelector`).
fn render_spec(spec: Option<&Value>) -> String {
    let field = |key: &str| set(spec, key).map_or_else(|| "null".to_owned(), render);
    let selector = set(spec, "selector").map_or_else(
        || "null".to_owned(),
        |s| {
            let mut parts = Vec::new();
            for key in ["matchLabels", "matchExpressions"] {
                let non_empty = |v: &&Value| {
                    v.as_object().is_none_or(|m| !m.is_empty()) && v.as_array().is_none_or(|a| !a.is_empty())
                };
                if let Some(v) = set(Some(s), key).filter(non_empty) {
                    parts.push(format!("{}:{}", quote(key), render(v)));
                }
            }
            format!("{{{}}}", parts.join(","))
        },
    );
    format!(
        "{{\"MinAvailable\":{},\"Selector\":{},\"MaxUnavailable\":{},\"UnhealthyPodEvictionPolicy\":{}}}",
        field("minAvailable"),
        selector,
        field("maxUnavailable"),
        field("unhealthyPodEvictionPolicy"),
    )
}

/// `ValidatePodDisruptionBudgetSpec`.
fn validate_spec(object: &Object, allow_invalid_values: bool, causes: &mut Causes) {
    let spec = object.body.get("spec");
    let (min, max) = (set(spec, "minAvailable"), set(spec, "maxUnavailable"));
    if min.is_some() && max.is_some() {
        invalid(
            causes,
            "spec",
            &render_spec(spec),
            "minAvailable and maxUnavailable cannot be both set",
        );
    }
    if let Some(min) = min {
        validate_int_or_percent(min, "spec.minAvailable", causes);
    }
    if let Some(max) = max {
        validate_int_or_percent(max, "spec.maxUnavailable", causes);
    }
    validate_label_selector(set(spec, "selector"), "spec.selector", allow_invalid_values, causes);
    if let Some(policy) = set(spec, "unhealthyPodEvictionPolicy") {
        let text = policy.as_str().unwrap_or_default();
        if !EVICTION_POLICIES.contains(&text) {
            not_supported(
                causes,
                "spec.unhealthyPodEvictionPolicy",
                &render(policy),
                EVICTION_POLICIES,
            );
        }
    }
}

/// `ValidateConditions` of `metav1.Condition`s at `path` (their declarative twins are alpha,
/// so the hand-written errors are the ones returned).
pub(super) fn validate_conditions(conditions: Option<&Value>, path: &str, causes: &mut Causes) {
    let mut seen = std::collections::BTreeSet::new();
    let items = conditions
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for (i, condition) in items.iter().enumerate() {
        let path = format!("{path}[{i}]");
        let text = |key: &str| condition.get(key).and_then(Value::as_str).unwrap_or_default();
        let kind = text("type");
        if !seen.insert(kind) {
            causes.push(
                "FieldValueDuplicate",
                &path,
                format!("Duplicate value: {}", quote(kind)),
            );
        }
        if kind.is_empty() {
            required(causes, &format!("{path}.type"), "is required");
        } else {
            validate_label_name(kind, &format!("{path}.type"), causes);
        }
        match text("status") {
            "" => required(causes, &format!("{path}.status"), ""),
            "True" | "False" | "Unknown" => {}
            other => not_supported(
                causes,
                &format!("{path}.status"),
                &quote(other),
                &["False", "True", "Unknown"],
            ),
        }
        if let Some(n) = condition
            .get("observedGeneration")
            .and_then(Value::as_i64)
            .filter(|n| *n < 0)
        {
            invalid(
                causes,
                &format!("{path}.observedGeneration"),
                &n.to_string(),
                "must be greater than or equal to zero",
            );
        }
        if text("lastTransitionTime").is_empty() {
            required(causes, &format!("{path}.lastTransitionTime"), "");
        }
        let reason = text("reason");
        if reason.is_empty() {
            required(causes, &format!("{path}.reason"), "");
        } else {
            if !is_condition_reason(reason) {
                invalid(
                    causes,
                    &format!("{path}.reason"),
                    &quote(reason),
                    "a condition reason must start with alphabetic character, optionally followed by a string of alphanumeric characters or '_,:', and must end with an alphanumeric character or '_' (e.g. 'my_name',  or 'MY_NAME',  or 'MyName',  or 'ReasonA,ReasonB',  or 'ReasonA:ReasonB', regex used for validation is '[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?')",
                );
            }
            if reason.len() > 1024 {
                causes.push(
                    "FieldValueTooLong",
                    &format!("{path}.reason"),
                    "Too long: may not be more than 1024 bytes".to_owned(),
                );
            }
        }
        if text("message").len() > 32 * 1024 {
            causes.push(
                "FieldValueTooLong",
                &format!("{path}.message"),
                "Too long: may not be more than 32768 bytes".to_owned(),
            );
        }
    }
}

/// `IsValidConditionReason`: `[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?`.
fn is_condition_reason(reason: &str) -> bool {
    let bytes = reason.as_bytes();
    bytes.first().is_some_and(u8::is_ascii_alphabetic)
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b',' | b':'))
        && bytes.last().is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
}

/// The PodDisruptionBudget hooks.
#[derive(Debug)]
struct PdbHooks;

/// The PodDisruptionBudget strategy: status subresource, generation, path-segment names, and
/// no unconditional updates (`AllowUnconditionalUpdate` is false).
pub(super) fn pdb_strategy() -> Strategy {
    let mut strategy = base(true, true).names(NameRule::PathSegment).hooks(PdbHooks);
    strategy.unconditional_update = false;
    strategy
}

impl KindHooks for PdbHooks {
    fn validate(&self, object: &Object, causes: &mut Causes) {
        validate_spec(object, false, causes);
    }

    fn validate_update(&self, new: &Object, old: &Object, causes: &mut Causes) {
        let old_selector = set(old.body.get("spec"), "selector");
        validate_spec(new, selector_has_errors(old_selector), causes);
    }

    fn validate_status_update(&self, new: &Object, _old: &Object, causes: &mut Causes) {
        let status = new.body.get("status");
        validate_conditions(set(status, "conditions"), "status.conditions", causes);
        for key in ["disruptionsAllowed", "currentHealthy", "desiredHealthy", "expectedPods"] {
            nonnegative(status, key, &format!("status.{key}"), causes);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::declarative_errors::testing::{
        create, invalid_fields, invalid_messages, object, replace, replace_status,
    };

    fn pdb(spec: Value) -> operator_runtime_core::Object {
        object("policy/v1", "PodDisruptionBudget", "pdb-1", json!({"spec": spec}))
    }

    #[test]
    fn min_available_and_max_unavailable_are_exclusive() {
        create(&pdb(
            json!({"minAvailable": 1, "selector": {"matchLabels": {"app": "a"}}}),
        ))
        .unwrap();
        create(&pdb(json!({"maxUnavailable": "25%"}))).unwrap();
        create(&pdb(json!({}))).unwrap();
        let both = pdb(json!({"minAvailable": 1, "maxUnavailable": 1, "selector": {"matchLabels": {"app": "a"}}}));
        assert_eq!(
            invalid_messages(create(&both)),
            vec![
                "spec: Invalid value: {\"MinAvailable\":1,\"Selector\":{\"matchLabels\":{\"app\":\"a\"}},\"MaxUnavailable\":1,\"UnhealthyPodEvictionPolicy\":null}: minAvailable and maxUnavailable cannot be both set"
            ]
        );
    }

    #[test]
    fn int_or_percent_rules() {
        assert_eq!(
            invalid_fields(create(&pdb(json!({"minAvailable": "bad%"})))),
            vec!["spec.minAvailable"]
        );
        assert_eq!(
            invalid_messages(create(&pdb(json!({"maxUnavailable": -1})))),
            vec!["spec.maxUnavailable: Invalid value: -1: must be greater than or equal to 0"]
        );
        assert_eq!(
            invalid_fields(create(&pdb(json!({"minAvailable": "150%"})))),
            vec!["spec.minAvailable"]
        );
        create(&pdb(json!({"minAvailable": "100%"}))).unwrap();
        create(&pdb(json!({"minAvailable": 0}))).unwrap();
    }

    #[test]
    fn selector_and_eviction_policy_are_checked() {
        create(&pdb(json!({"unhealthyPodEvictionPolicy": "AlwaysAllow"}))).unwrap();
        create(&pdb(json!({"unhealthyPodEvictionPolicy": "IfHealthyBudget"}))).unwrap();
        assert_eq!(
            invalid_messages(create(&pdb(json!({"unhealthyPodEvictionPolicy": "Bogus"})))),
            vec![
                "spec.unhealthyPodEvictionPolicy: Unsupported value: \"Bogus\": supported values: \"AlwaysAllow\", \"IfHealthyBudget\""
            ]
        );
        let selector = json!({"matchLabels": {"app": "bad value"}, "matchExpressions": [
            {"key": "tier", "operator": "In", "values": []},
            {"key": "tier", "operator": "Exists", "values": ["x"]},
            {"key": "bad key!", "operator": "Near"}
        ]});
        assert_eq!(
            invalid_fields(create(&pdb(json!({"selector": selector})))),
            vec![
                "spec.selector.matchLabels",
                "spec.selector.matchExpressions[0].values",
                "spec.selector.matchExpressions[1].values",
                "spec.selector.matchExpressions[2].operator",
                "spec.selector.matchExpressions[2].key",
            ]
        );
    }

    #[test]
    fn updates_are_validated_and_need_a_resource_version() {
        let first = pdb(json!({"minAvailable": 1}));
        // The stored resourceVersion is kept: PodDisruptionBudget updates must be conditional.
        replace(&first, |o| {
            o.body["spec"]["minAvailable"] = json!("30%");
        })
        .unwrap();
        let result = replace(&first, |o| {
            o.body["spec"]["maxUnavailable"] = json!(2);
        });
        assert_eq!(invalid_fields(result), vec!["spec"]);
        let result = replace(&first, |o| {
            o.metadata.resource_version = None;
        });
        assert_eq!(invalid_fields(result), vec!["metadata.resourceVersion"]);
    }

    #[test]
    fn names_only_need_to_be_path_segments() {
        let upper = object("policy/v1", "PodDisruptionBudget", "Upper_pdb", json!({"spec": {}}));
        create(&upper).unwrap();
    }

    #[test]
    fn status_counts_cannot_be_negative() {
        let first = pdb(json!({"minAvailable": 1}));
        let status = |allowed: i64| json!({"disruptionsAllowed": allowed, "currentHealthy": 1, "desiredHealthy": 1, "expectedPods": 1});
        replace_status(&first, |o| {
            o.body.insert("status".into(), status(1));
        })
        .unwrap();
        let result = replace_status(&first, |o| {
            o.body.insert("status".into(), status(-1));
        });
        assert_eq!(
            invalid_messages(result),
            vec!["status.disruptionsAllowed: Invalid value: -1: must be greater than or equal to 0"]
        );
        let result = replace_status(&first, |o| {
            let mut s = status(0);
            s["conditions"] = json!([{"type": "DisruptionAllowed", "status": "Maybe", "reason": "1bad"}]);
            o.body.insert("status".into(), s);
        });
        assert_eq!(
            invalid_fields(result),
            vec![
                "status.conditions[0].status",
                "status.conditions[0].lastTransitionTime",
                "status.conditions[0].reason",
            ]
        );
    }
}
