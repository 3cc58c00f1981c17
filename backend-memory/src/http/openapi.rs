//! Just enough OpenAPI for kubectl: a v2 document without definitions, and v3 documents that
//! list every served resource path with its `x-kubernetes-group-version-kind` and the
//! `fieldValidation` parameter (kubectl checks it before choosing server-side validation), and
//! the kinds' schemas under `components.schemas` for `kubectl explain`.

use serde_json::{Map, Value, json};

use super::discovery::{Catalog, KindEntry};

/// `/openapi/v2`.
pub(crate) fn v2(_catalog: &Catalog) -> Value {
    json!({
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0-memory"},
        "paths": {},
        "definitions": {},
    })
}

fn gv_path(api_version: &str) -> String {
    if api_version.contains('/') {
        format!("apis/{api_version}")
    } else {
        format!("api/{api_version}")
    }
}

/// `/openapi/v3`: one entry per served group-version.
pub(crate) fn v3_index(catalog: &Catalog) -> Value {
    let mut paths = Map::new();
    for gv in catalog.api_versions() {
        let path = gv_path(&gv);
        // The hash only has to change when the document does; the kinds served decide it.
        let hash =
            catalog
                .kinds
                .iter()
                .filter(|k| k.type_ref.api_version == gv)
                .fold(0xcbf2_9ce4_8422_2325_u64, |h, k| {
                    k.plural
                        .bytes()
                        .fold(h, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
                });
        paths.insert(
            path.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{path}?hash={hash:016X}")}),
        );
    }
    json!({"paths": paths})
}

fn operation(kind: &KindEntry, verb: &str) -> Value {
    json!({
        "operationId": format!("{verb}{}", kind.type_ref.kind),
        "x-kubernetes-action": verb,
        "x-kubernetes-group-version-kind": {
            "group": kind.type_ref.group(),
            "version": kind.type_ref.version(),
            "kind": kind.type_ref.kind,
        },
        "parameters": [
            {"name": "dryRun", "in": "query", "schema": {"type": "string"}},
            {"name": "fieldManager", "in": "query", "schema": {"type": "string"}},
            {"name": "fieldValidation", "in": "query", "schema": {"type": "string"}},
        ],
        "responses": {"200": {"description": "OK"}},
    })
}

/// `/openapi/v3/api/v1`, `/openapi/v3/apis/{group}/{version}`; None when not served.
pub(crate) fn v3(catalog: &Catalog, api_version: &str) -> Option<Value> {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    for kind in catalog.kinds.iter().filter(|k| k.type_ref.api_version == api_version) {
        super::schemas::add_schema(kind, &mut schemas);
        let base = format!("/{}", gv_path(api_version));
        let (collection, item) = if kind.namespaced {
            (
                format!("{base}/namespaces/{{namespace}}/{}", kind.plural),
                format!("{base}/namespaces/{{namespace}}/{}/{{name}}", kind.plural),
            )
        } else {
            (
                format!("{base}/{}", kind.plural),
                format!("{base}/{}/{{name}}", kind.plural),
            )
        };
        paths.insert(
            collection,
            json!({"post": operation(kind, "post"), "get": operation(kind, "list")}),
        );
        paths.insert(
            item,
            json!({
                "get": operation(kind, "get"),
                "put": operation(kind, "put"),
                "patch": operation(kind, "patch"),
                "delete": operation(kind, "delete"),
            }),
        );
    }
    if paths.is_empty() {
        return None;
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0-memory"},
        "paths": paths,
        "components": {"schemas": schemas},
    }))
}
