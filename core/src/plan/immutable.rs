//! Fields the API server refuses to change after creation. Changing one needs the object
//! deleted and created again, which the policy must allow per kind.

use super::diff::FieldChange;
use crate::model::TypeRef;

/// One kind's immutable fields: any change under one of `fields` is immutable, unless it is
/// under one of `mutable` (exceptions inside an otherwise immutable subtree).
struct Rule {
    group: &'static str,
    kind: &'static str,
    fields: &'static [&'static [&'static str]],
    mutable: &'static [&'static [&'static str]],
}

const RULES: &[Rule] = &[
    Rule {
        group: "apps",
        kind: "StatefulSet",
        fields: &[
            &["spec", "selector"],
            &["spec", "serviceName"],
            &["spec", "volumeClaimTemplates"],
            &["spec", "podManagementPolicy"],
        ],
        mutable: &[],
    },
    Rule {
        group: "apps",
        kind: "Deployment",
        fields: &[&["spec", "selector"]],
        mutable: &[],
    },
    Rule {
        group: "apps",
        kind: "DaemonSet",
        fields: &[&["spec", "selector"]],
        mutable: &[],
    },
    Rule {
        group: "",
        kind: "Service",
        // Only reported when the desired object sets them: drift never looks at unset fields.
        fields: &[&["spec", "clusterIP"], &["spec", "clusterIPs"]],
        mutable: &[],
    },
    Rule {
        group: "",
        kind: "PersistentVolumeClaim",
        fields: &[&["spec"]],
        mutable: &[&["spec", "resources", "requests", "storage"]],
    },
    Rule {
        group: "batch",
        kind: "Job",
        fields: &[&["spec", "template"], &["spec", "selector"]],
        mutable: &[],
    },
];

/// The changes that touch an immutable field of `kind`.
pub fn immutable_changes(kind: &TypeRef, changes: &[FieldChange]) -> Vec<FieldChange> {
    let Some(rule) = RULES.iter().find(|r| r.group == kind.group() && r.kind == kind.kind) else {
        return Vec::new();
    };
    changes
        .iter()
        .filter(|c| {
            rule.fields.iter().any(|f| c.path.starts_with(f)) && !rule.mutable.iter().any(|m| c.path.starts_with(m))
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::diff::FieldPath;

    fn change(path: &[&str]) -> FieldChange {
        FieldChange {
            path: FieldPath::fields(path),
            from: Some("a".into()),
            to: "b".into(),
        }
    }

    #[test]
    fn rules_per_kind() {
        let sts = TypeRef::new("apps/v1", "StatefulSet");
        let all = [change(&["spec", "replicas"]), change(&["spec", "serviceName"])];
        assert_eq!(immutable_changes(&sts, &all), vec![change(&["spec", "serviceName"])]);

        let pvc = TypeRef::new("v1", "PersistentVolumeClaim");
        let grow = [change(&["spec", "resources", "requests", "storage"])];
        assert!(immutable_changes(&pvc, &grow).is_empty());
        let class = [change(&["spec", "storageClassName"])];
        assert_eq!(immutable_changes(&pvc, &class).len(), 1);

        let cm = TypeRef::new("v1", "ConfigMap");
        assert!(immutable_changes(&cm, &[change(&["data", "x"])]).is_empty());
        let fake_sts = TypeRef::new("example.com/v1", "StatefulSet");
        assert!(immutable_changes(&fake_sts, &all).is_empty());
    }
}
