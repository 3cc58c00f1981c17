//! Aggregated discovery (`apidiscovery.k8s.io/v2`): `/api` and `/apis` answer every served
//! resource of every group-version in one document when the client asks for it in `Accept`,
//! as kubectl and client-go do first (one request instead of one per group-version). Clients
//! that do not ask get the legacy documents of [`super::discovery`].

use serde_json::{Value, json};

use super::discovery::{Catalog, KindEntry};

/// The media type of the answer; clients check it before reading the document.
pub(crate) const CONTENT_TYPE: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// Whether the `Accept` header asks for the aggregated v2 document.
pub(crate) fn wanted(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| {
        a.split(',').any(|t| {
            let params: Vec<&str> = t.split(';').map(str::trim).collect();
            params.contains(&"as=APIGroupDiscoveryList")
                && params.contains(&"v=v2")
                && params.contains(&"g=apidiscovery.k8s.io")
        })
    })
}

/// `/api` (`core` true: the legacy group `v1`) or `/apis` (every named group).
pub(crate) fn document(catalog: &Catalog, core: bool) -> Value {
    let items: Vec<Value> = catalog
        .groups()
        .into_iter()
        .filter(|(group, _)| group.is_empty() == core)
        .map(|(group, versions)| {
            let versions: Vec<Value> = versions
                .iter()
                .map(|version| {
                    let api_version = if group.is_empty() {
                        version.clone()
                    } else {
                        format!("{group}/{version}")
                    };
                    let resources: Vec<Value> = catalog
                        .kinds
                        .iter()
                        .filter(|k| k.type_ref.api_version == api_version)
                        .map(resource)
                        .collect();
                    json!({"version": version, "resources": resources, "freshness": "Current"})
                })
                .collect();
            let metadata = if group.is_empty() {
                json!({"creationTimestamp": null})
            } else {
                json!({"name": group, "creationTimestamp": null})
            };
            json!({"metadata": metadata, "versions": versions})
        })
        .collect();
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    })
}

fn resource(kind: &KindEntry) -> Value {
    let response_kind = json!({
        "group": kind.type_ref.group(),
        "version": kind.type_ref.version(),
        "kind": kind.type_ref.kind,
    });
    let mut subresources = Vec::new();
    if kind.status {
        subresources.push(json!({
            "subresource": "status",
            "responseKind": response_kind,
            "verbs": ["get", "patch", "update"],
        }));
    }
    if kind.scale.is_some() {
        subresources.push(json!({
            "subresource": "scale",
            "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"},
            "verbs": ["get", "patch", "update"],
        }));
    }
    let mut out = json!({
        "resource": kind.plural,
        "responseKind": response_kind,
        "scope": if kind.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": kind.singular,
        "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
    });
    if !kind.short_names.is_empty() {
        out["shortNames"] = json!(kind.short_names);
    }
    if !kind.categories.is_empty() {
        out["categories"] = json!(kind.categories);
    }
    if !subresources.is_empty() {
        out["subresources"] = json!(subresources);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryStore;

    #[test]
    fn only_the_v2_aggregated_type_is_taken_for_one() {
        assert!(wanted(Some(
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
        )));
        assert!(!wanted(Some(
            "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
        )));
        assert!(!wanted(Some("application/json")));
        assert!(!wanted(None));
    }

    #[test]
    fn core_and_named_groups_list_their_resources_with_subresources() {
        let catalog = Catalog::read(&MemoryStore::new());
        let core = document(&catalog, true);
        let items = core["items"].as_array().expect("items");
        assert_eq!(items.len(), 1);
        assert!(items[0]["metadata"].get("name").is_none());
        let v1 = &items[0]["versions"][0];
        assert_eq!(v1["version"], "v1");
        let cm = v1["resources"]
            .as_array()
            .and_then(|r| r.iter().find(|r| r["resource"] == "configmaps"))
            .expect("configmaps");
        assert_eq!(cm["shortNames"], json!(["cm"]));
        assert_eq!(cm["scope"], "Namespaced");

        let named = document(&catalog, false);
        let apps = named["items"]
            .as_array()
            .and_then(|i| i.iter().find(|g| g["metadata"]["name"] == "apps"))
            .expect("apps");
        let deployments = apps["versions"][0]["resources"]
            .as_array()
            .and_then(|r| r.iter().find(|r| r["resource"] == "deployments"))
            .expect("deployments");
        let subresources: Vec<&str> = deployments["subresources"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["subresource"].as_str())
            .collect();
        assert_eq!(subresources, ["status", "scale"]);
    }
}
