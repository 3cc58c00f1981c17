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
