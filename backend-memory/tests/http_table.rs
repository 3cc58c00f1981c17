//! Server-side Tables over HTTP (what `kubectl get` asks for): each `includeObject` choice
//! gives the rows the object the real server gives them.

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams};
use operator_runtime_memory::MemoryStore;
use serde_json::Value;

const TABLE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";

async fn table(client: &kube::Client, query: &str) -> Result<Value, Box<dyn std::error::Error>> {
    let request = http::Request::get(format!("/api/v1/namespaces/default/configmaps{query}"))
        .header(http::header::ACCEPT, TABLE)
        .body(Vec::new())?;
    Ok(serde_json::from_str(&client.request_text(request).await?)?)
}

#[tokio::test]
async fn include_object_chooses_what_each_row_carries() -> Result<(), Box<dyn std::error::Error>> {
    let server = operator_runtime_memory::http::start(MemoryStore::new()).await?;
    let client = server.client();
    let cms: Api<ConfigMap> = Api::default_namespaced(client.clone());
    let mut cm = ConfigMap::default();
    cm.metadata.name = Some("settings".to_owned());
    cm.data = Some([("k".to_owned(), "v".to_owned())].into());
    cms.create(&PostParams::default(), &cm).await?;

    let default = table(&client, "").await?;
    assert_eq!(default["kind"], "Table");
    let row = &default["rows"][0];
    assert_eq!(row["cells"][0], "settings");
    assert_eq!(row["cells"][1], 1, "the DATA column counts the keys");
    assert_eq!(row["object"]["kind"], "PartialObjectMetadata");
    assert_eq!(row["object"]["metadata"]["name"], "settings");
    assert_eq!(row["object"].get("data"), None);

    let none = table(&client, "?includeObject=None").await?;
    assert_eq!(none["rows"][0].get("object"), None);
    assert_eq!(none["rows"][0]["cells"][0], "settings");

    let object = table(&client, "?includeObject=Object").await?;
    assert_eq!(object["rows"][0]["object"]["kind"], "ConfigMap");
    assert_eq!(object["rows"][0]["object"]["data"]["k"], "v");
    Ok(())
}

/// The printers of more built-in kinds give the cells kube-apiserver 1.37.2 gives for the
/// same objects (compared with `kubectl get -o wide` on both servers), and a kind the server
/// has no printer for gets its default `Name` and `Created At`.
#[tokio::test]
async fn more_kinds_print_the_servers_cells() -> Result<(), Box<dyn std::error::Error>> {
    let server = operator_runtime_memory::http::start(MemoryStore::new()).await?;
    let client = server.client();
    let objects = [
        (
            "/apis/apps/v1/namespaces/default/daemonsets",
            serde_json::json!({
            "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "ds"},
            "spec": {"selector": {"matchLabels": {"app": "ds"}}, "template": {"metadata": {"labels": {"app": "ds"}},
                "spec": {"nodeSelector": {"disk": "ssd"}, "containers": [{"name": "c", "image": "nginx"},
                {"name": "d", "image": "busybox"}]}}}}),
        ),
        (
            "/api/v1/namespaces/default/persistentvolumeclaims",
            serde_json::json!({
            "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "pvc"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}},
                "storageClassName": "fast"}}),
        ),
        (
            "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings",
            serde_json::json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "rb"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
            "subjects": [{"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"},
                {"kind": "ServiceAccount", "name": "sa", "namespace": "default"}]}),
        ),
        (
            "/apis/policy/v1/namespaces/default/poddisruptionbudgets",
            serde_json::json!({
            "apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "pdb"},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "x"}}}}),
        ),
        (
            "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles",
            serde_json::json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "r"},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}),
        ),
    ];
    let mut cells = Vec::new();
    for (path, body) in objects {
        let create = http::Request::post(path)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(serde_json::to_vec(&body)?)?;
        client.request_text(create).await?;
        let get = http::Request::get(path)
            .header(http::header::ACCEPT, TABLE)
            .body(Vec::new())?;
        let table: Value = serde_json::from_str(&client.request_text(get).await?)?;
        let names: Vec<&str> = table["columnDefinitions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["name"].as_str())
            .collect();
        cells.push((names.join("|"), table["rows"][0]["cells"].clone()));
    }
    let age = cells[0].1[7].clone();
    let expected = [
        (
            "Name|Desired|Current|Ready|Up-to-date|Available|Node Selector|Age|Containers|Images|Selector",
            serde_json::json!(["ds", 0, 0, 0, 0, 0, "disk=ssd", age, "c,d", "nginx,busybox", "app=ds"]),
        ),
        (
            "Name|Status|Volume|Capacity|Access Modes|StorageClass|VolumeAttributesClass|Age|VolumeMode",
            serde_json::json!(["pvc", "Pending", "", "", "", "fast", "<unset>", age, "Filesystem"]),
        ),
        (
            "Name|Role|Age|Users|Groups|ServiceAccounts",
            serde_json::json!(["rb", "Role/r", age, "alice", "", "default/sa"]),
        ),
        (
            "Name|Min Available|Max Unavailable|Allowed Disruptions|Age",
            serde_json::json!(["pdb", "1", "N/A", 0, age]),
        ),
    ];
    for ((names, row), (want_names, want_row)) in cells.iter().zip(expected.iter()) {
        assert_eq!((names.as_str(), row), (*want_names, want_row));
    }
    let (names, role) = &cells[4];
    assert_eq!(names, "Name|Created At");
    assert_eq!(role[0], "r");
    assert!(role[1].as_str().is_some_and(|t| t.ends_with('Z')), "{role}");
    Ok(())
}
