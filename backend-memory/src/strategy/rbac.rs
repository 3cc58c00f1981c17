//! RBAC kinds (`rbac.authorization.k8s.io/v1`): Role, ClusterRole, RoleBinding and
//! ClusterRoleBinding, ported from `ValidateRole`, `ValidateClusterRole`, `ValidatePolicyRule`,
//! `ValidateRoleBinding`, `ValidateClusterRoleBinding`, `ValidateRoleBindingSubject` and their
//! `...Update` variants (a binding's roleRef is immutable), with the beta declarative rules of
//! 1.37 (`+k8s:required` on a rule's verbs, a roleRef's and a subject's name) enforced in their
//! wording. Names only have to be URL path segments (`ValidateRBACName`).

use serde_json::{Value, json};

use super::declarative_errors::{Declarative, invalid, not_supported, quote, render, required};
use super::label_selector::validate_label_selector;
use super::{KindHooks, NameRule, Strategy, base};
use crate::validation::{Causes, name_error};
use operator_runtime_core::Object;

/// `rbac.GroupName`.
const GROUP: &str = "rbac.authorization.k8s.io";

/// Which RBAC kind, and whether it is namespaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RbacKind {
    Role,
    ClusterRole,
    RoleBinding,
    ClusterRoleBinding,
}

/// The hooks of one RBAC kind.
#[derive(Debug)]
struct RbacHooks(RbacKind);

/// The strategy of an RBAC kind (`Role`, `ClusterRole`, `RoleBinding`, `ClusterRoleBinding`):
/// path-segment names and create on update, as all four registry strategies have.
pub(super) fn strategy(kind: &str) -> Strategy {
    let kind = match kind {
        "Role" => RbacKind::Role,
        "ClusterRole" => RbacKind::ClusterRole,
        "RoleBinding" => RbacKind::RoleBinding,
        _ => RbacKind::ClusterRoleBinding,
    };
    base(false, false)
        .names(NameRule::PathSegment)
        .create_on_update()
        .hooks(RbacHooks(kind))
}

/// `object[key]` as a string, "" when absent or not a string (Go's zero value).
fn text<'a>(value: Option<&'a Value>, key: &str) -> &'a str {
    value
        .and_then(|v| v.get(key))
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// A list, empty when absent or null (Go's nil slice).
fn array(value: Option<&Value>) -> &[Value] {
    value.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
}

/// `object[key]` as a list, empty when absent or null.
fn list<'a>(value: Option<&'a Value>, key: &str) -> &'a [Value] {
    array(value.and_then(|v| v.get(key)))
}

/// `ValidatePolicyRule`. `ratcheted`: an update that left the rules as they were (declarative
/// validation then skips them).
fn validate_policy_rule<'a>(
    rule: &'a Value,
    namespaced: bool,
    path: String,
    ratcheted: bool,
    causes: &mut Causes,
    declarative: &mut Declarative<'a>,
) {
    let rule = Some(rule);
    if list(rule, "verbs").is_empty() {
        let field = format!("{path}.verbs");
        let hand_field = field.clone();
        declarative.covered(
            causes,
            ratcheted,
            |c| required(c, &hand_field, "verbs must contain at least one value"),
            move |c| required(c, &field, ""),
        );
    }
    let urls = list(rule, "nonResourceURLs");
    if !urls.is_empty() {
        let field = format!("{path}.nonResourceURLs");
        let rendered = render(&Value::Array(urls.to_vec()));
        if namespaced {
            invalid(
                causes,
                &field,
                &rendered,
                "namespaced rules cannot apply to non-resource URLs",
            );
        }
        if ["apiGroups", "resources", "resourceNames"]
            .iter()
            .any(|key| !list(rule, key).is_empty())
        {
            invalid(
                causes,
                &field,
                &rendered,
                "rules cannot apply to both regular resources and non-resource URLs",
            );
        }
        return;
    }
    if list(rule, "apiGroups").is_empty() {
        required(
            causes,
            &format!("{path}.apiGroups"),
            "resource rules must supply at least one api group",
        );
    }
    if list(rule, "resources").is_empty() {
        required(
            causes,
            &format!("{path}.resources"),
            "resource rules must supply at least one resource",
        );
    }
}

/// `ValidateRole` / `ValidateClusterRole` (without the metadata, which the pipeline checks).
fn validate_role(object: &Object, old: Option<&Object>, namespaced: bool, causes: &mut Causes) {
    let rules = object.body.get("rules");
    // `Semantic.DeepEqual` of the decoded lists (absent and empty are alike).
    let ratcheted = old.is_some_and(|o| array(o.body.get("rules")) == array(rules));
    let mut declarative = Declarative::default();
    for (i, rule) in array(rules).iter().enumerate() {
        validate_policy_rule(
            rule,
            namespaced,
            format!("rules[{i}]"),
            ratcheted,
            causes,
            &mut declarative,
        );
    }
    if !namespaced && let Some(aggregation) = object.body.get("aggregationRule").filter(|v| !v.is_null()) {
        let selectors = list(Some(aggregation), "clusterRoleSelectors");
        if selectors.is_empty() {
            required(
                causes,
                "aggregationRule.clusterRoleSelectors",
                "at least one clusterRoleSelector required if aggregationRule is non-nil",
            );
        }
        for (i, selector) in selectors.iter().enumerate() {
            let path = format!("aggregationRule.clusterRoleSelectors[{i}]");
            validate_label_selector(Some(selector), &path, false, causes);
        }
    }
    declarative.finish(causes);
}

/// `ValidateRoleBindingSubject`.
fn validate_subject<'a>(
    subject: &'a Value,
    namespaced: bool,
    path: String,
    ratcheted: bool,
    causes: &mut Causes,
    declarative: &mut Declarative<'a>,
) {
    let subject = Some(subject);
    let name = text(subject, "name");
    if name.is_empty() {
        let field = format!("{path}.name");
        let hand_field = field.clone();
        declarative.covered(
            causes,
            ratcheted,
            |c| required(c, &hand_field, ""),
            move |c| required(c, &field, ""),
        );
    }
    let api_group = text(subject, "apiGroup");
    match text(subject, "kind") {
        "ServiceAccount" => {
            // `ValidateServiceAccountName`: a DNS subdomain.
            if let Some(msg) = (!name.is_empty())
                .then(|| name_error(name, NameRule::Subdomain))
                .flatten()
            {
                invalid(causes, &format!("{path}.name"), &quote(name), &msg);
            }
            if !api_group.is_empty() {
                not_supported(causes, &format!("{path}.apiGroup"), &quote(api_group), &[""]);
            }
            if !namespaced && text(subject, "namespace").is_empty() {
                required(causes, &format!("{path}.namespace"), "");
            }
        }
        "User" | "Group" => {
            if api_group != GROUP {
                not_supported(causes, &format!("{path}.apiGroup"), &quote(api_group), &[GROUP]);
            }
        }
        kind => not_supported(
            causes,
            &format!("{path}.kind"),
            &quote(kind),
            &["ServiceAccount", "User", "Group"],
        ),
    }
}

/// `ValidateRoleBinding` / `ValidateClusterRoleBinding`, and on update the immutable roleRef
/// of `ValidateRoleBindingUpdate` / `ValidateClusterRoleBindingUpdate`.
fn validate_binding(object: &Object, old: Option<&Object>, namespaced: bool, causes: &mut Causes) {
    let role_ref = object.body.get("roleRef");
    let mut declarative = Declarative::default();
    let api_group = text(role_ref, "apiGroup");
    if api_group != GROUP {
        not_supported(causes, "roleRef.apiGroup", &quote(api_group), &[GROUP]);
    }
    let kind = text(role_ref, "kind");
    let kinds: &[&str] = if namespaced {
        &["Role", "ClusterRole"]
    } else {
        &["ClusterRole"]
    };
    if !kinds.contains(&kind) {
        not_supported(causes, "roleRef.kind", &quote(kind), kinds);
    }
    let name = text(role_ref, "name");
    if name.is_empty() {
        // On update the roleRef is either unchanged (ratcheted) or changed, and then the
        // alpha immutability check short-circuits its declarative validation: either way the
        // hand-written error stays.
        declarative.covered(
            causes,
            old.is_some(),
            |c| required(c, "roleRef.name", ""),
            |c| required(c, "roleRef.name", ""),
        );
    } else if let Some(msg) = name_error(name, NameRule::PathSegment) {
        invalid(causes, "roleRef.name", &quote(name), &msg);
    }
    let subjects = array(object.body.get("subjects"));
    let ratcheted = old.is_some_and(|o| array(o.body.get("subjects")) == subjects);
    for (i, subject) in subjects.iter().enumerate() {
        validate_subject(
            subject,
            namespaced,
            format!("subjects[{i}]"),
            ratcheted,
            causes,
            &mut declarative,
        );
    }
    if let Some(old) = old {
        fn fields(v: Option<&Value>) -> [&str; 3] {
            [text(v, "apiGroup"), text(v, "kind"), text(v, "name")]
        }
        let [group, kind, name] = fields(role_ref);
        if [group, kind, name] != fields(old.body.get("roleRef")) {
            // `ValidateImmutableField` renders the internal `rbac.RoleRef`, which has no JSON
            // tags (its Go field names are in alphabetical order, as `json!` keeps them).
            let rendered = json!({"APIGroup": group, "Kind": kind, "Name": name});
            invalid(causes, "roleRef", &render(&rendered), "field is immutable");
        }
    }
    declarative.finish(causes);
}

impl KindHooks for RbacHooks {
    fn validate(&self, object: &Object, causes: &mut Causes) {
        self.check(object, None, causes);
    }

    fn validate_update(&self, new: &Object, old: &Object, causes: &mut Causes) {
        self.check(new, Some(old), causes);
    }
}

impl RbacHooks {
    fn check(&self, object: &Object, old: Option<&Object>, causes: &mut Causes) {
        match self.0 {
            RbacKind::Role => validate_role(object, old, true, causes),
            RbacKind::ClusterRole => validate_role(object, old, false, causes),
            RbacKind::RoleBinding => validate_binding(object, old, true, causes),
            RbacKind::ClusterRoleBinding => validate_binding(object, old, false, causes),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::declarative_errors::testing::{
        create, invalid_fields, invalid_messages, object, put_new, replace,
    };

    const V1: &str = "rbac.authorization.k8s.io/v1";

    fn role(rules: serde_json::Value) -> operator_runtime_core::Object {
        object(V1, "Role", "role-0", json!({"rules": rules}))
    }

    fn binding(role_ref: serde_json::Value, subjects: serde_json::Value) -> operator_runtime_core::Object {
        object(
            V1,
            "RoleBinding",
            "rb-0",
            json!({"roleRef": role_ref, "subjects": subjects}),
        )
    }

    fn cluster_role_ref() -> serde_json::Value {
        json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"})
    }

    #[test]
    fn resource_rules_are_accepted() {
        create(&role(
            json!([{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]),
        ))
        .unwrap();
        create(&role(json!([]))).unwrap();
        create(&object(V1, "Role", "role-0", json!({}))).unwrap();
    }

    #[test]
    fn namespaced_rules_cannot_name_non_resource_urls() {
        let result = create(&role(json!([{"nonResourceURLs": ["/healthz"], "verbs": ["get"]}])));
        assert_eq!(
            invalid_messages(result),
            vec![
                "rules[0].nonResourceURLs: Invalid value: [\"/healthz\"]: namespaced rules cannot apply to non-resource URLs"
            ]
        );
        // A cluster role may, but not together with resources.
        let cluster = |rules| object(V1, "ClusterRole", "cr-0", json!({"rules": rules}));
        create(&cluster(json!([{"nonResourceURLs": ["/healthz"], "verbs": ["get"]}]))).unwrap();
        let both = cluster(json!([{"nonResourceURLs": ["/healthz"], "resources": ["pods"], "verbs": ["get"]}]));
        assert_eq!(invalid_fields(create(&both)), vec!["rules[0].nonResourceURLs"]);
    }

    #[test]
    fn verbs_api_groups_and_resources_are_required() {
        // The declarative `verbs` error (beta, enforced) comes last and has no detail.
        let result = create(&role(json!([{"verbs": []}])));
        assert_eq!(
            invalid_messages(result),
            vec![
                "rules[0].apiGroups: Required value: resource rules must supply at least one api group",
                "rules[0].resources: Required value: resource rules must supply at least one resource",
                "rules[0].verbs: Required value",
            ]
        );
    }

    #[test]
    fn role_updates_are_validated_and_put_creates() {
        let first = role(json!([{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]));
        replace(&first, |o| {
            o.body.insert(
                "rules".into(),
                json!([{"apiGroups": [""], "resources": ["secrets"], "verbs": ["watch"]}]),
            );
        })
        .unwrap();
        let result = replace(&first, |o| {
            o.body.insert("rules".into(), json!([{"verbs": ["get"]}]));
        });
        assert_eq!(invalid_fields(result), vec!["rules[0].apiGroups", "rules[0].resources"]);
        // A PUT of a missing role creates it, with the create validation.
        put_new(&first).unwrap();
        let result = put_new(&role(json!([{"nonResourceURLs": ["/healthz"], "verbs": ["get"]}])));
        assert_eq!(invalid_fields(result), vec!["rules[0].nonResourceURLs"]);
    }

    #[test]
    fn names_only_need_to_be_path_segments() {
        create(&object(V1, "Role", "Upper_role", json!({}))).unwrap();
        assert_eq!(
            invalid_fields(create(&object(V1, "Role", "a%b", json!({})))),
            vec!["metadata.name"]
        );
    }

    #[test]
    fn role_refs_are_checked() {
        create(&binding(cluster_role_ref(), json!([]))).unwrap();
        let bogus = json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Bogus", "name": "x"});
        assert_eq!(
            invalid_messages(create(&binding(bogus, json!([])))),
            vec!["roleRef.kind: Unsupported value: \"Bogus\": supported values: \"Role\", \"ClusterRole\""]
        );
        let bad = json!({"apiGroup": "example.com", "kind": "Role", "name": ""});
        assert_eq!(
            invalid_fields(create(&binding(bad, json!([])))),
            vec!["roleRef.apiGroup", "roleRef.name"]
        );
        // A cluster role binding may only name a ClusterRole.
        let crb = object(
            V1,
            "ClusterRoleBinding",
            "crb-0",
            json!({"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"}}),
        );
        assert_eq!(invalid_fields(create(&crb)), vec!["roleRef.kind"]);
    }

    #[test]
    fn subjects_are_checked_per_kind() {
        let ok = json!([
            {"kind": "ServiceAccount", "name": "sa-0", "namespace": "elsewhere"},
            {"kind": "User", "name": "alice"},
            {"kind": "Group", "name": "devs", "apiGroup": "rbac.authorization.k8s.io"}
        ]);
        create(&binding(cluster_role_ref(), ok)).unwrap();
        let bad = json!([
            {"kind": "User", "name": ""},
            {"kind": "ServiceAccount", "name": "Bad_Name", "apiGroup": "rbac.authorization.k8s.io"},
            {"kind": "Robot", "name": "r"},
            {"kind": "Group", "name": "g", "apiGroup": "example.com"}
        ]);
        assert_eq!(
            invalid_fields(create(&binding(cluster_role_ref(), bad))),
            vec![
                "subjects[1].name",
                "subjects[1].apiGroup",
                "subjects[2].kind",
                "subjects[3].apiGroup",
                "subjects[0].name",
            ]
        );
        // A cluster role binding's service account needs a namespace.
        let crb = object(
            V1,
            "ClusterRoleBinding",
            "crb-0",
            json!({"roleRef": cluster_role_ref(), "subjects": [{"kind": "ServiceAccount", "name": "sa"}]}),
        );
        assert_eq!(invalid_fields(create(&crb)), vec!["subjects[0].namespace"]);
    }

    #[test]
    fn role_ref_is_immutable() {
        let first = binding(cluster_role_ref(), json!([{"kind": "ServiceAccount", "name": "sa-0"}]));
        replace(&first, |o| {
            o.body
                .insert("subjects".into(), json!([{"kind": "ServiceAccount", "name": "sa-1"}]));
        })
        .unwrap();
        let result = replace(&first, |o| {
            o.body["roleRef"]["name"] = json!("edit");
        });
        assert_eq!(
            invalid_messages(result),
            vec![
                "roleRef: Invalid value: {\"APIGroup\":\"rbac.authorization.k8s.io\",\"Kind\":\"ClusterRole\",\"Name\":\"edit\"}: field is immutable"
            ]
        );
    }
}
