use serde_json::json;

use super::*;

fn deployment() -> TypeRef {
    TypeRef::new("apps/v1", "Deployment")
}

#[test]
fn tables_are_sorted_for_binary_search() {
    let kinds = kinds();
    assert!(kinds.len() > 20, "only {} kinds generated", kinds.len());
    assert!(
        kinds
            .windows(2)
            .all(|w| (w[0].api_version, w[0].kind) < (w[1].api_version, w[1].kind))
    );
    for kind in kinds {
        assert!(kind.quantity_paths.windows(2).all(|w| w[0] < w[1]), "{}", kind.kind);
        assert!(
            kind.list_types.windows(2).all(|w| w[0].path < w[1].path),
            "{}",
            kind.kind
        );
    }
}

#[test]
fn quantity_paths_of_workloads_claims_and_quotas() {
    let paths = quantity_paths(&deployment());
    for expected in [
        "spec.template.spec.containers[*].resources.limits{*}",
        "spec.template.spec.containers[*].resources.requests{*}",
        "spec.template.spec.initContainers[*].resources.requests{*}",
        "spec.template.spec.volumes[*].emptyDir.sizeLimit",
        "spec.template.spec.overhead{*}",
    ] {
        assert!(paths.contains(&expected), "Deployment lacks {expected}: {paths:?}");
    }
    assert!(is_quantity_path(
        &TypeRef::new("apps/v1", "StatefulSet"),
        "spec.volumeClaimTemplates[*].spec.resources.requests{*}"
    ));
    assert!(is_quantity_path(&TypeRef::new("v1", "ResourceQuota"), "spec.hard{*}"));
    assert!(is_quantity_path(
        &TypeRef::new("v1", "PersistentVolumeClaim"),
        "spec.resources.requests{*}"
    ));
    assert!(quantity_paths(&TypeRef::new("v1", "ConfigMap")).is_empty());
    assert!(quantity_paths(&TypeRef::new("example.com/v1", "Widget")).is_empty());
}

#[test]
fn list_types_with_their_keys() {
    let containers = list_type(&deployment(), "spec.template.spec.containers").expect("containers list type");
    assert_eq!(containers.list_type, ListType::Map);
    assert_eq!(containers.keys, ["name"]);
    assert!(list_type(&deployment(), "spec.template.spec.nope").is_none());
}

#[test]
fn canonicalize_rewrites_strings_numbers_and_null_list_values() {
    let mut body = json!({"spec": {"template": {"spec": {
        "containers": [
            {"name": "a", "resources": {"requests": {"cpu": "1000m", "memory": 1048576, "x": null},
                                        "limits": {"cpu": 0.5}}},
            {"name": "b"}
        ],
        "volumes": [{"name": "v", "emptyDir": {"sizeLimit": "0.1m"}}, {"name": "w", "emptyDir": {"sizeLimit": null}},
                    {"name": "t", "emptyDir": {"sizeLimit": " 1Gi "}}]
    }}}});
    let Some(map) = body.as_object_mut() else {
        unreachable!("an object literal")
    };
    canonicalize_quantities(&deployment(), map).expect("valid quantities");
    let pod = &body["spec"]["template"]["spec"];
    assert_eq!(
        pod["containers"][0]["resources"]["requests"],
        json!({"cpu": "1", "memory": "1048576", "x": "0"})
    );
    assert_eq!(pod["containers"][0]["resources"]["limits"], json!({"cpu": "500m"}));
    assert_eq!(pod["containers"][1], json!({"name": "b"}));
    assert_eq!(pod["volumes"][0]["emptyDir"]["sizeLimit"], json!("100u"));
    assert_eq!(
        pod["volumes"][1]["emptyDir"],
        json!({}),
        "a null single quantity is dropped"
    );
    assert_eq!(
        pod["volumes"][2]["emptyDir"]["sizeLimit"],
        json!("1Gi"),
        "spaces are trimmed"
    );
}

#[test]
fn canonicalize_rejects_malformed_quantities() {
    let quota = TypeRef::new("v1", "ResourceQuota");
    let mut body = json!({"spec": {"hard": {"pods": "ten"}}});
    let Some(map) = body.as_object_mut() else {
        unreachable!("an object literal")
    };
    let error = canonicalize_quantities(&quota, map).expect_err("ten");
    assert_eq!(error, QuantityError::FormatWrong { input: "ten".into() });
    let mut body = json!({"spec": {"hard": {"pods": true}}});
    let Some(map) = body.as_object_mut() else {
        unreachable!("an object literal")
    };
    let error = canonicalize_quantities(&quota, map).expect_err("true");
    assert_eq!(error.input(), "true");
    // Go sees the escaped JSON text: a tab is `\t`, not trimmed (kube-apiserver 1.37: 400).
    let mut body = json!({"spec": {"hard": {"pods": "\t1"}}});
    let Some(map) = body.as_object_mut() else {
        unreachable!("an object literal")
    };
    let error = canonicalize_quantities(&quota, map).expect_err("escaped tab");
    assert_eq!(error.input(), "\\t1");
}

#[test]
fn path_steps() {
    assert_eq!(
        steps("spec.a[*].b{*}"),
        vec![
            Step::Field("spec"),
            Step::Field("a"),
            Step::Items,
            Step::Field("b"),
            Step::Values
        ]
    );
}
