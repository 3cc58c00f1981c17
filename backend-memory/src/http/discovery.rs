//! Discovery: the served kinds as `/api`, `/apis`, `/api/v1`, `/apis/{group}/{version}` and
//! `/version` documents in the legacy form (clients that ask get the aggregated form of [`super::aggregated`]).

use std::collections::BTreeMap;

use operator_runtime_core::TypeRef;
use operator_runtime_core::store::ListParams;
use serde_json::{Value, json};

use crate::MemoryStore;
use crate::kinds::crd_type;

/// The Kubernetes version the server reports on `/version`.
pub(crate) const SERVER_MINOR: &str = "32";

/// Where a kind's scale subresource reads and writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ScalePaths {
    /// Dotted path of the desired replicas (`spec.replicas`).
    pub spec_replicas: String,
    /// Dotted path of the observed replicas (`status.replicas`).
    pub status_replicas: String,
    /// Dotted path of the label selector: a string for custom resources, a
    /// `metav1.LabelSelector` for the built-in workloads.
    pub label_selector: Option<String>,
}

/// One served kind, as discovery shows it.
#[derive(Clone, Debug)]
pub(crate) struct KindEntry {
    /// apiVersion and kind.
    pub type_ref: TypeRef,
    /// Resource name.
    pub plural: String,
    /// Singular resource name.
    pub singular: String,
    /// Namespaced or cluster-scoped.
    pub namespaced: bool,
    /// A `/status` subresource is served.
    pub status: bool,
    /// A `/scale` subresource is served.
    pub scale: Option<ScalePaths>,
    /// Short names (`cm`, `deploy`).
    pub short_names: Vec<String>,
    /// Categories (`all`).
    pub categories: Vec<String>,
    /// Served from a CustomResourceDefinition.
    pub custom: bool,
    /// A completed delete answers with the deleted object (`ReturnDeletedObject`: Service,
    /// Pod, ...); otherwise with a `Status`.
    pub returns_deleted_object: bool,
    /// The CustomResourceDefinition version's `openAPIV3Schema` (custom kinds only).
    pub schema: Option<Value>,
    /// The CustomResourceDefinition version's `additionalPrinterColumns` (custom kinds only).
    pub printer_columns: Vec<Value>,
}

/// Every kind the store serves now.
#[derive(Clone, Debug, Default)]
pub(crate) struct Catalog {
    /// The kinds, sorted by apiVersion then plural.
    pub kinds: Vec<KindEntry>,
}

const BUILTIN_SHORT_NAMES: &[(&str, &[&str])] = &[
    ("configmaps", &["cm"]),
    ("customresourcedefinitions", &["crd", "crds"]),
    ("cronjobs", &["cj"]),
    ("daemonsets", &["ds"]),
    ("deployments", &["deploy"]),
    ("endpoints", &["ep"]),
    ("events", &["ev"]),
    ("horizontalpodautoscalers", &["hpa"]),
    ("ingresses", &["ing"]),
    ("limitranges", &["limits"]),
    ("namespaces", &["ns"]),
    ("networkpolicies", &["netpol"]),
    ("nodes", &["no"]),
    ("persistentvolumeclaims", &["pvc"]),
    ("persistentvolumes", &["pv"]),
    ("poddisruptionbudgets", &["pdb"]),
    ("pods", &["po"]),
    ("priorityclasses", &["pc"]),
    ("replicasets", &["rs"]),
    ("replicationcontrollers", &["rc"]),
    ("resourcequotas", &["quota"]),
    ("serviceaccounts", &["sa"]),
    ("services", &["svc"]),
    ("statefulsets", &["sts"]),
    ("storageclasses", &["sc"]),
];

const ALL_CATEGORY: &[&str] = &[
    "pods",
    "services",
    "deployments",
    "statefulsets",
    "replicasets",
    "daemonsets",
    "jobs",
    "cronjobs",
    "replicationcontrollers",
    "horizontalpodautoscalers",
];

/// The workload kinds whose scale subresource the API server serves.
const BUILTIN_SCALE: &[(&str, &str)] = &[
    ("apps/v1", "Deployment"),
    ("apps/v1", "StatefulSet"),
    ("apps/v1", "ReplicaSet"),
    ("v1", "ReplicationController"),
];

impl Catalog {
    /// Reads the served kinds (and, for custom resources, names and subresources from their
    /// CustomResourceDefinition) from the store.
    pub(crate) fn read(memory: &MemoryStore) -> Self {
        let state = memory.lock();
        let crds = crate::read::list(&state, &crd_type(), &ListParams::default())
            .map(|l| l.items)
            .unwrap_or_default();
        let mut kinds: Vec<KindEntry> = state
            .kinds
            .all()
            .into_iter()
            .map(|spec| {
                let info = &spec.info;
                let crd = spec
                    .from_crd
                    .as_ref()
                    .and_then(|name| crds.iter().find(|c| c.name() == name));
                let mut entry = KindEntry {
                    type_ref: info.type_ref.clone(),
                    plural: info.plural.clone(),
                    singular: info.type_ref.kind.to_lowercase(),
                    namespaced: info.namespaced,
                    status: info.status_subresource,
                    scale: None,
                    short_names: BUILTIN_SHORT_NAMES
                        .iter()
                        .find(|(p, _)| *p == info.plural)
                        .map(|(_, s)| s.iter().map(|s| (*s).to_owned()).collect())
                        .unwrap_or_default(),
                    custom: spec.from_crd.is_some(),
                    returns_deleted_object: spec.strategy.returns_deleted_object,
                    schema: None,
                    printer_columns: Vec::new(),
                    categories: if ALL_CATEGORY.contains(&info.plural.as_str()) && crd.is_none() {
                        vec!["all".to_owned()]
                    } else {
                        Vec::new()
                    },
                };
                if crd.is_none()
                    && BUILTIN_SCALE.contains(&(info.type_ref.api_version.as_str(), info.type_ref.kind.as_str()))
                {
                    entry.scale = Some(ScalePaths {
                        spec_replicas: "spec.replicas".into(),
                        status_replicas: "status.replicas".into(),
                        label_selector: Some("spec.selector".into()),
                    });
                }
                if let Some(crd) = crd {
                    apply_crd(&mut entry, crd.body.get("spec"));
                }
                entry
            })
            .collect();
        kinds.sort_by(|a, b| (&a.type_ref.api_version, &a.plural).cmp(&(&b.type_ref.api_version, &b.plural)));
        Self { kinds }
    }

    /// The kind served at `api_version`/`plural`.
    pub(crate) fn by_plural(&self, api_version: &str, plural: &str) -> Option<&KindEntry> {
        self.kinds
            .iter()
            .find(|k| k.type_ref.api_version == api_version && k.plural == plural)
    }

    /// The group-versions served, grouped by group, versions in preference order.
    pub(crate) fn groups(&self) -> BTreeMap<String, Vec<String>> {
        let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for k in &self.kinds {
            let versions = groups.entry(k.type_ref.group().to_owned()).or_default();
            let v = k.type_ref.version().to_owned();
            if !versions.contains(&v) {
                versions.push(v);
            }
        }
        for versions in groups.values_mut() {
            versions.sort_by_key(|v| std::cmp::Reverse(version_priority(v)));
        }
        groups
    }

    /// `/api`.
    pub(crate) fn core_versions(&self, server_address: &str) -> Value {
        json!({
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
        })
    }

    /// `/apis`.
    pub(crate) fn group_list(&self) -> Value {
        let groups: Vec<Value> = self
            .groups()
            .into_iter()
            .filter(|(g, _)| !g.is_empty())
            .map(|(g, versions)| group_json(&g, &versions))
            .collect();
        json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
    }

    /// `/apis/{group}`; None when the group is not served.
    pub(crate) fn group(&self, group: &str) -> Option<Value> {
        let groups = self.groups();
        let versions = groups.get(group).filter(|_| !group.is_empty())?;
        let mut g = group_json(group, versions);
        g["kind"] = json!("APIGroup");
        g["apiVersion"] = json!("v1");
        Some(g)
    }

    /// `/api/v1`, `/apis/{group}/{version}`; None when the group-version is not served.
    pub(crate) fn resource_list(&self, api_version: &str) -> Option<Value> {
        let mut resources = Vec::new();
        for k in self.kinds.iter().filter(|k| k.type_ref.api_version == api_version) {
            let mut r = json!({
                "name": k.plural,
                "singularName": k.singular,
                "namespaced": k.namespaced,
                "kind": k.type_ref.kind,
                "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
            });
            if !k.short_names.is_empty() {
                r["shortNames"] = json!(k.short_names);
            }
            if !k.categories.is_empty() {
                r["categories"] = json!(k.categories);
            }
            resources.push(r);
            if k.status {
                resources.push(json!({
                    "name": format!("{}/status", k.plural),
                    "singularName": "",
                    "namespaced": k.namespaced,
                    "kind": k.type_ref.kind,
                    "verbs": ["get", "patch", "update"],
                }));
            }
            if k.scale.is_some() {
                resources.push(json!({
                    "name": format!("{}/scale", k.plural),
                    "singularName": "",
                    "namespaced": k.namespaced,
                    "group": "autoscaling",
                    "version": "v1",
                    "kind": "Scale",
                    "verbs": ["get", "patch", "update"],
                }));
            }
        }
        if resources.is_empty() {
            return None;
        }
        Some(json!({
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": api_version,
            "resources": resources,
        }))
    }

    /// Every served group-version (`v1`, `apps/v1`, ...).
    pub(crate) fn api_versions(&self) -> Vec<String> {
        let mut out: Vec<String> = self.kinds.iter().map(|k| k.type_ref.api_version.clone()).collect();
        out.sort();
        out.dedup();
        out
    }
}

fn group_json(group: &str, versions: &[String]) -> Value {
    let vs: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
        .collect();
    let preferred = vs.first().cloned().unwrap_or(Value::Null);
    json!({"name": group, "versions": vs, "preferredVersion": preferred})
}

/// `/version`.
pub(crate) fn version() -> Value {
    json!({
        "major": "1",
        "minor": SERVER_MINOR,
        "gitVersion": format!("v1.{SERVER_MINOR}.0-memory"),
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "1970-01-01T00:00:00Z",
        "goVersion": "go1.23.0",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

/// Kubernetes version priority: GA over beta over alpha, higher numbers first.
fn version_priority(v: &str) -> (u8, u32, u32) {
    let Some(rest) = v.strip_prefix('v') else {
        return (0, 0, 0);
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let major = digits.parse().unwrap_or(0);
    let tail = &rest[digits.len()..];
    let (level, minor) = if tail.is_empty() {
        (3, 0)
    } else if let Some(n) = tail.strip_prefix("beta") {
        (2, n.parse().unwrap_or(0))
    } else if let Some(n) = tail.strip_prefix("alpha") {
        (1, n.parse().unwrap_or(0))
    } else {
        (0, 0)
    };
    (level, major, minor)
}

/// Names, short names, categories and the scale subresource from a CRD's spec.
fn apply_crd(entry: &mut KindEntry, spec: Option<&Value>) {
    let Some(spec) = spec else { return };
    let names = &spec["names"];
    if let Some(s) = names["singular"].as_str().filter(|s| !s.is_empty()) {
        entry.singular = s.to_owned();
    }
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    };
    entry.short_names = strings(&names["shortNames"]);
    entry.categories = strings(&names["categories"]);
    let version = entry.type_ref.version();
    let scale = spec["versions"]
        .as_array()
        .and_then(|vs| vs.iter().find(|v| v["name"].as_str() == Some(version)))
        .map(|v| &v["subresources"]["scale"])
        .filter(|s| s.is_object());
    let served = spec["versions"]
        .as_array()
        .and_then(|vs| vs.iter().find(|v| v["name"].as_str() == Some(version)));
    entry.schema = served
        .map(|v| &v["schema"]["openAPIV3Schema"])
        .filter(|s| s.is_object())
        .cloned();
    entry.printer_columns = served
        .and_then(|v| v["additionalPrinterColumns"].as_array())
        .cloned()
        .unwrap_or_default();
    if let Some(scale) = scale {
        let path = |key: &str| scale[key].as_str().map(|p| p.trim_start_matches('.').to_owned());
        if let (Some(spec_replicas), Some(status_replicas)) = (path("specReplicasPath"), path("statusReplicasPath")) {
            entry.scale = Some(ScalePaths {
                spec_replicas,
                status_replicas,
                label_selector: path("labelSelectorPath"),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_sort_ga_then_beta_then_alpha() {
        let mut vs = vec!["v1alpha1", "v2", "v1beta1", "v1", "v1beta2"];
        vs.sort_by_key(|v| std::cmp::Reverse(version_priority(v)));
        assert_eq!(vs, ["v2", "v1", "v1beta2", "v1beta1", "v1alpha1"]);
    }

    #[test]
    fn builtin_catalog_serves_core_and_apps_with_subresources() {
        let catalog = Catalog::read(&MemoryStore::new());
        let deploy = catalog.by_plural("apps/v1", "deployments").expect("deployments served");
        assert!(deploy.namespaced && deploy.status && deploy.scale.is_some());
        assert_eq!(deploy.short_names, ["deploy"]);
        let list = catalog.resource_list("apps/v1").expect("apps/v1 served");
        let names: Vec<&str> = list["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["name"].as_str())
            .collect();
        assert!(names.contains(&"deployments/scale") && names.contains(&"deployments/status"));
        assert!(catalog.resource_list("nothing/v1").is_none());
        let ns = catalog.by_plural("v1", "namespaces").expect("namespaces served");
        assert!(!ns.namespaced);
    }
}
