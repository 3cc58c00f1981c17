//! Generates `core/src/builtin_schema/generated.rs`: for every built-in kind the real API server
//! serves, the JSON paths whose schema is a resource `Quantity`, and the list types
//! (`x-kubernetes-list-type`, `x-kubernetes-list-map-keys`) of its lists, and the maps and
//! structs marked `x-kubernetes-map-type: atomic` (owned and replaced whole by server-side apply),
//! and the paths of the ObjectMeta below the root (pod templates, volume claim templates).
//!
//! ```text
//! cargo run -p operator-runtime-kube --features testenv --bin openapi_gen -- core/src/builtin_schema/generated.rs
//! ```
//!
//! It starts the test control plane (`TestEnv::start()`), reads the OpenAPI v3 index
//! (`/openapi/v3`), fetches the document of every served group version (`/openapi/v3/api/v1`,
//! `/openapi/v3/apis/apps/v1`, ...), and walks each kind's schema from its root, following
//! `$ref`s (also inside `allOf`). Paths are dotted field names, `[*]` for list items and `{*}`
//! for map values (`spec.template.spec.containers[*].resources.limits{*}`). A kind is a schema
//! with an `x-kubernetes-group-version-kind` of the document's group version and an ObjectMeta
//! `metadata`. The output is sorted, then formatted with `rustfmt`, so the same server gives
//! the same file byte for byte.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use operator_runtime_kube::testenv::{KUBERNETES_VERSION, TestEnv};
use serde_json::{Map, Value};

const QUANTITY: &str = "io.k8s.apimachinery.pkg.api.resource.Quantity";
const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
/// Deeper than any built-in schema; stops runaway recursion through self-referencing schemas.
const MAX_DEPTH: usize = 64;

/// What the walk found for one kind.
#[derive(Default)]
struct KindTables {
    quantity_paths: BTreeSet<String>,
    /// path -> (list type, map keys)
    list_types: BTreeMap<String, (String, Vec<String>)>,
    /// Paths whose schema says `x-kubernetes-map-type: atomic`.
    atomic_maps: BTreeSet<String>,
    /// Paths below the root whose schema is ObjectMeta (pod and volume claim templates).
    nested_object_meta: BTreeSet<String>,
}

/// (apiVersion, kind) -> tables; BTreeMap for a deterministic order.
type Tables = BTreeMap<(String, String), KindTables>;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let Some(output) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: openapi_gen <output .rs file>");
        return ExitCode::FAILURE;
    };
    match run(&output).await {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(output: &Path) -> Result<String, String> {
    eprintln!("starting the test control plane {KUBERNETES_VERSION} ...");
    let env = TestEnv::start().await.map_err(|e| format!("control plane: {e}"))?;
    let client = env.client().map_err(|e| format!("client: {e}"))?;
    let index = get_json(&client, "/openapi/v3").await?;
    let group_versions: Vec<String> = index
        .get("paths")
        .and_then(Value::as_object)
        .ok_or("the OpenAPI index has no paths")?
        .keys()
        .filter(|path| is_group_version(path))
        .cloned()
        .collect();
    let mut tables = Tables::new();
    for path in &group_versions {
        let document = get_json(&client, &format!("/openapi/v3/{path}")).await?;
        let api_version = path
            .strip_prefix("api/")
            .or_else(|| path.strip_prefix("apis/"))
            .unwrap_or(path);
        collect_kinds(api_version, &document, &mut tables)?;
    }
    tables.retain(|_, t| !t.quantity_paths.is_empty() || !t.list_types.is_empty() || !t.atomic_maps.is_empty());
    let source = render(&tables)?;
    std::fs::write(output, source).map_err(|e| format!("writing {}: {e}", output.display()))?;
    let status = std::process::Command::new("rustfmt")
        .arg("--edition=2024")
        .arg(output)
        .status()
        .map_err(|e| format!("running rustfmt: {e}"))?;
    if !status.success() {
        return Err(format!("rustfmt failed on {}", output.display()));
    }
    let quantity_kinds = tables.values().filter(|t| !t.quantity_paths.is_empty()).count();
    let quantity_paths: usize = tables.values().map(|t| t.quantity_paths.len()).sum();
    let list_paths: usize = tables.values().map(|t| t.list_types.len()).sum();
    Ok(format!(
        "{} group versions, {} kinds: {quantity_paths} Quantity paths in {quantity_kinds} kinds, {list_paths} typed lists -> {}",
        group_versions.len(),
        tables.len(),
        output.display()
    ))
}

/// `api/v1` and `apis/<group>/<version>`: the documents that describe kinds.
fn is_group_version(path: &str) -> bool {
    path == "api/v1" || (path.starts_with("apis/") && path.split('/').count() == 3)
}

async fn get_json(client: &kube::Client, path: &str) -> Result<Value, String> {
    let request = http::Request::get(path)
        .body(Vec::new())
        .map_err(|e| format!("GET {path}: {e}"))?;
    let text = client
        .request_text(request)
        .await
        .map_err(|e| format!("GET {path}: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("GET {path}: not JSON: {e}"))
}

/// Walks every kind of one group-version document.
fn collect_kinds(api_version: &str, document: &Value, tables: &mut Tables) -> Result<(), String> {
    let schemas = document
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .ok_or_else(|| format!("{api_version}: no components.schemas"))?;
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    for (name, schema) in schemas {
        let Some(kind) = kind_of(schema, group, version) else {
            continue;
        };
        let has_object_meta = schema
            .pointer("/properties/metadata")
            .and_then(ref_name)
            .is_some_and(|r| r == OBJECT_META);
        if !has_object_meta {
            continue;
        }
        let mut found = KindTables::default();
        let mut stack = vec![name.clone()];
        walk(schemas, schema, "", &mut stack, &mut found);
        tables.insert((api_version.to_owned(), kind), found);
    }
    Ok(())
}

/// The kind this schema is for in the given group version, if any.
fn kind_of(schema: &Value, group: &str, version: &str) -> Option<String> {
    schema
        .get("x-kubernetes-group-version-kind")?
        .as_array()?
        .iter()
        .find(|gvk| {
            gvk.get("group").and_then(Value::as_str) == Some(group)
                && gvk.get("version").and_then(Value::as_str) == Some(version)
        })?
        .get("kind")?
        .as_str()
        .map(str::to_owned)
}

/// The schema name a node refers to: `$ref` directly or as the only element of `allOf`.
fn ref_name(node: &Value) -> Option<&str> {
    let reference = node.get("$ref").or_else(|| {
        let all_of = node.get("allOf")?.as_array()?;
        all_of.iter().find_map(|part| part.get("$ref"))
    })?;
    reference.as_str()?.strip_prefix("#/components/schemas/")
}

fn walk(schemas: &Map<String, Value>, node: &Value, path: &str, stack: &mut Vec<String>, found: &mut KindTables) {
    if stack.len() > MAX_DEPTH {
        return;
    }
    if let Some(name) = ref_name(node) {
        if name == QUANTITY {
            found.quantity_paths.insert(path.to_owned());
            return;
        }
        if name == OBJECT_META && path != "metadata" {
            found.nested_object_meta.insert(path.to_owned());
        }
        if stack.iter().any(|seen| seen == name) {
            return; // recursive schema (JSONSchemaProps): its inner paths repeat the outer ones
        }
        // A list type may sit next to the $ref (allOf wrapper); record it before following.
        record_list_type(node, path, found);
        record_map_type(node, path, found);
        if let Some(target) = schemas.get(name) {
            stack.push(name.to_owned());
            walk(schemas, target, path, stack, found);
            stack.pop();
        }
        return;
    }
    record_list_type(node, path, found);
    record_map_type(node, path, found);
    if let Some(properties) = node.get("properties").and_then(Value::as_object) {
        for (field, schema) in properties {
            let child = if path.is_empty() {
                field.clone()
            } else {
                format!("{path}.{field}")
            };
            walk(schemas, schema, &child, stack, found);
        }
    }
    if let Some(values) = node.get("additionalProperties").filter(|v| v.is_object()) {
        walk(schemas, values, &format!("{path}{{*}}"), stack, found);
    }
    if let Some(items) = node.get("items") {
        walk(schemas, items, &format!("{path}[*]"), stack, found);
    }
}

fn record_list_type(node: &Value, path: &str, found: &mut KindTables) {
    let Some(list_type) = node.get("x-kubernetes-list-type").and_then(Value::as_str) else {
        return;
    };
    let keys = node
        .get("x-kubernetes-list-map-keys")
        .and_then(Value::as_array)
        .map(|keys| keys.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    found.list_types.insert(path.to_owned(), (list_type.to_owned(), keys));
}

fn record_map_type(node: &Value, path: &str, found: &mut KindTables) {
    if node.get("x-kubernetes-map-type").and_then(Value::as_str) == Some("atomic") {
        found.atomic_maps.insert(path.to_owned());
    }
}

fn render(tables: &Tables) -> Result<String, String> {
    let mut out = String::new();
    out.push_str(
        "//! Generated by `cargo run -p operator-runtime-kube --features testenv --bin openapi_gen -- core/src/builtin_schema/generated.rs`\n",
    );
    let _ = writeln!(
        out,
        "//! from the OpenAPI v3 documents of kube-apiserver {KUBERNETES_VERSION}; do not edit."
    );
    out.push_str("\nuse super::{KindSchema, ListType, ListTypeEntry};\n\n");
    out.push_str("/// Every built-in kind with a Quantity field or a typed list, by apiVersion then kind.\n");
    out.push_str("pub(super) static KINDS: &[KindSchema] = &[\n");
    for ((api_version, kind), t) in tables {
        let _ = writeln!(out, "KindSchema {{ api_version: {api_version:?}, kind: {kind:?},");
        out.push_str("quantity_paths: &[");
        for path in &t.quantity_paths {
            let _ = write!(out, "{path:?},");
        }
        out.push_str("],\nlist_types: &[");
        for (path, (list_type, keys)) in &t.list_types {
            let variant = match list_type.as_str() {
                "atomic" => "Atomic",
                "set" => "Set",
                "map" => "Map",
                other => return Err(format!("{api_version} {kind} {path}: unknown list type {other:?}")),
            };
            let _ = write!(out, "ListTypeEntry::new({path:?}, ListType::{variant}, &[");
            for key in keys {
                let _ = write!(out, "{key:?},");
            }
            out.push_str("]),");
        }
        out.push_str("],\natomic_maps: &[");
        for path in &t.atomic_maps {
            let _ = write!(out, "{path:?},");
        }
        out.push_str("],\nnested_object_meta: &[");
        for path in &t.nested_object_meta {
            let _ = write!(out, "{path:?},");
        }
        out.push_str("] },\n");
    }
    out.push_str("];\n");
    Ok(out)
}
