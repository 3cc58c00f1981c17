//! `rbac.authorization.k8s.io/v1` defaults (`k8s.io/kubernetes/pkg/apis/rbac/v1`, 1.37.2):
//! the API group of a binding's roleRef and of its User and Group subjects.

use serde_json::{Value, json};

use super::fields::{Obj, default_unset, each_mut, is_unset, object_mut, str_of};

/// The RBAC API group.
const GROUP: &str = "rbac.authorization.k8s.io";

/// A Role's (or ClusterRole's) `rules` has no `omitempty`: decoded and encoded again, a Role
/// without rules has `rules: null`, which an update that removes them then owns.
pub(crate) fn role(body: &mut Obj) {
    body.entry("rules").or_insert(Value::Null);
}

/// `SetObjectDefaults_RoleBinding` (and ClusterRoleBinding, which has the same shape). Its
/// `subjects` is `omitempty`: an empty list is not kept.
pub(crate) fn binding(body: &mut Obj) {
    if body
        .get("subjects")
        .is_some_and(|s| s.is_null() || s.as_array().is_some_and(Vec::is_empty))
    {
        body.remove("subjects");
    }
    if let Some(role_ref) = object_mut(body, "roleRef") {
        default_unset(role_ref, "apiGroup", json!(GROUP));
    }
    for subject in each_mut(body, "subjects") {
        if is_unset(subject, "apiGroup") && matches!(str_of(subject, "kind"), "User" | "Group") {
            subject.insert("apiGroup".into(), json!(GROUP));
        }
    }
}
