//! `ValidateLabelSelector` (`k8s.io/apimachinery/pkg/apis/meta/v1/validation`), shared by
//! every kind with a `metav1.LabelSelector`: DaemonSet, Job, NetworkPolicy, claims,
//! PodDisruptionBudget and ClusterRole aggregation rules.

use serde_json::Value;

use super::pod_spec::{label_value_msgs, list_at, quote, str_at, validate_label_name, validate_labels};
use crate::validation::Causes;

/// Validates the selector at `path` (absent or null: nothing to check), in Go's order:
/// `matchLabels`, then each expression's operator, key and values. `allow_invalid_values` is
/// `AllowInvalidLabelValueInSelector` (an update keeps accepting the invalid values the old
/// object had). Returns whether it found nothing wrong.
pub(crate) fn validate_label_selector(
    selector: Option<&Value>,
    path: &str,
    allow_invalid_values: bool,
    causes: &mut Causes,
) -> bool {
    let Some(selector) = selector.filter(|s| !s.is_null()) else {
        return true;
    };
    let mut errs = Causes::default();
    validate_labels(selector.get("matchLabels"), &format!("{path}.matchLabels"), &mut errs);
    for (i, expr) in list_at(selector, "matchExpressions").iter().enumerate() {
        let idx = format!("{path}.matchExpressions[{i}]");
        let values = list_at(expr, "values");
        match str_at(expr, "operator") {
            "In" | "NotIn" if values.is_empty() => errs.required(
                &format!("{idx}.values"),
                "must be specified when `operator` is 'In' or 'NotIn'",
            ),
            "Exists" | "DoesNotExist" if !values.is_empty() => errs.forbidden(
                &format!("{idx}.values"),
                "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            ),
            "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
            other => errs.push(
                "FieldValueInvalid",
                &format!("{idx}.operator"),
                format!("Invalid value: {}: not a valid selector operator", quote(other)),
            ),
        }
        validate_label_name(str_at(expr, "key"), &format!("{idx}.key"), &mut errs);
        if allow_invalid_values {
            continue;
        }
        for (j, value) in values.iter().enumerate() {
            let value = value.as_str().unwrap_or("");
            for msg in label_value_msgs(value) {
                errs.push(
                    "FieldValueInvalid",
                    &format!("{idx}.values[{j}]"),
                    format!("Invalid value: {}: {msg}", quote(value)),
                );
            }
        }
    }
    let ok = errs.is_empty();
    causes.extend(errs);
    ok
}

/// Whether `ValidateLabelSelector` finds anything wrong with a stored selector (what
/// `AllowInvalidLabelValueInSelector` of an update looks at).
pub(crate) fn selector_has_errors(selector: Option<&Value>) -> bool {
    !validate_label_selector(selector, "", false, &mut Causes::default())
}
