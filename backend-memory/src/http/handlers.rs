//! The verbs: get, list, watch, create, update, patch, delete and deletecollection on objects,
//! `status` and `scale`, answered from an [`ObjectStore`].

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use operator_runtime_core::store::{
    DeleteOutcome, DeleteParams, ListParams, ObjectStoreExt, Patch, PatchParams, Preconditions, Propagation,
    VersionMatch, WatchEvent, WatchParams, WriteParams,
};
use operator_runtime_core::{Object, ObjectRef, ObjectStore, StatusCause, StoreError};
use serde_json::{Value, json};

use super::discovery::{self, KindEntry};
use super::patch_types::{self, PatchKind};
use super::paths::{self, Query, ResourcePath, Route};
use super::status::{self, Subject};
use super::{aggregated, openapi, protobuf, scale, table, watch_stream, wire};
use crate::MemoryStore;

/// A response body: a whole JSON document or a watch stream.
pub(crate) type Body = UnsyncBoxBody<Bytes, Infallible>;

/// How often a patch computed here (strategic merge, subresources) is retried on a conflict
/// that the client did not ask for (no resourceVersion in its patch).
const PATCH_RETRIES: usize = 5;

/// What every request needs.
pub(crate) struct Ctx {
    /// The memory store: discovery and CRDs.
    pub memory: MemoryStore,
    /// The store requests are served from (the memory store, or a wrapper such as `FaultyStore`).
    pub store: Arc<dyn ObjectStore>,
    /// `host:port` the server listens on.
    pub address: String,
    /// The catalog and OpenAPI documents, rebuilt when the kinds change.
    pub served: super::served::ServedCache,
}

/// Answers one request.
pub(crate) async fn handle(ctx: Arc<Ctx>, req: Request<Incoming>) -> Response<Body> {
    let Some(route) = paths::parse(req.uri().path()) else {
        return not_found_path();
    };
    let served = ctx.served.get(&ctx.memory);
    let catalog = &served.catalog;
    let accept = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok());
    if aggregated::wanted(accept) && matches!(route, Route::CoreVersions | Route::Groups) {
        let document = aggregated::document(catalog, matches!(route, Route::CoreVersions));
        let mut response = json_response(StatusCode::OK, &document);
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(aggregated::CONTENT_TYPE));
        return response;
    }
    match route {
        Route::CoreVersions => json_response(StatusCode::OK, &catalog.core_versions(&ctx.address)),
        Route::Groups => json_response(StatusCode::OK, &catalog.group_list()),
        Route::Group { group } => catalog
            .group(&group)
            .map_or_else(not_found_path, |g| json_response(StatusCode::OK, &g)),
        Route::Resources { api_version } => catalog
            .resource_list(&api_version)
            .map_or_else(not_found_path, |l| json_response(StatusCode::OK, &l)),
        Route::Version => json_response(StatusCode::OK, &discovery::version()),
        Route::Health => text_response(StatusCode::OK, "ok"),
        Route::OpenApiV2 => json_response(StatusCode::OK, &openapi::v2(catalog)),
        Route::OpenApiV3Index => json_response(StatusCode::OK, &openapi::v3_index(catalog)),
        Route::OpenApiV3 { api_version } => match served.openapi_v3(&api_version) {
            Some(doc) => json_response(StatusCode::OK, &doc),
            None => not_found_path(),
        },
        Route::Resource(path) => {
            let Some(kind) = catalog.by_plural(&path.api_version, &path.plural).cloned() else {
                return not_found_path();
            };
            let subject = Subject {
                name: path.name.clone(),
                group: kind.type_ref.group().to_owned(),
                kind: kind.plural.clone(),
            };
            match resource(&ctx, req, &path, &kind).await {
                Ok(response) => response,
                Err(e) => error_response(&e, &subject),
            }
        }
    }
}

async fn resource(
    ctx: &Ctx,
    req: Request<Incoming>,
    path: &ResourcePath,
    kind: &KindEntry,
) -> Result<Response<Body>, StoreError> {
    let mut query = Query::parse(req.uri().query());
    if path.namespace.is_some() && !kind.namespaced {
        return Err(StoreError::not_found(
            "the server could not find the requested resource",
        ));
    }
    if kind.namespaced && path.namespace.is_none() && (path.name.is_some() || req.method() == Method::POST) {
        return Err(StoreError::not_found(
            "the server could not find the requested resource",
        ));
    }
    let method = req.method().clone();
    let table = table::wanted(req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()))
        .then(|| table::Include::parse(query.get("includeObject")));
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // Like the API server, a write without fieldManager is recorded under the User-Agent's
    // first word (`kubectl/v1.32.4 (linux/amd64) ...` -> `kubectl`); apply still requires one.
    let is_apply = content_type
        .as_deref()
        .is_some_and(|c| c.starts_with("application/apply-patch"));
    if let Some(agent) = req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok())
        && !is_apply
    {
        let prefix = agent.split('/').next().unwrap_or_default().trim();
        if !prefix.is_empty() && query.non_empty("fieldManager").is_none() {
            query.set("fieldManager", prefix.to_owned());
        }
    }
    // Client-go's typed clients (kubectl's `create` generators) send protobuf bodies; a create
    // or replace is decoded by `protobuf`'s tables, other verbs are refused.
    let protobuf = content_type.as_deref().is_some_and(|c| c.contains("protobuf"));
    if content_type.as_deref().is_some_and(|c| c.contains("cbor"))
        || (protobuf && !matches!(method, Method::POST | Method::PUT))
    {
        return Err(StoreError::UnsupportedMediaType {
            message: "the memory API server accepts JSON (YAML for apply, protobuf for creates and replaces); \
                      CBOR is not served"
                .to_owned(),
        });
    }
    let mut body = req
        .into_body()
        .collect()
        .await
        .map_err(|e| StoreError::bad_request(format!("cannot read the request body: {e}")))?
        .to_bytes();
    let content_type = if protobuf {
        let decoded = protobuf::decode(&body)?;
        body = Bytes::from(serde_json::to_vec(&decoded).map_err(|e| StoreError::backend(e.to_string()))?);
        Some("application/json".to_owned())
    } else {
        content_type
    };
    let Some(name) = path.name.clone() else {
        if let (Some(include), Method::GET) = (table, method.clone())
            && !(path.watch_prefix || query.flag("watch"))
        {
            let list = ctx
                .store
                .list(&kind.type_ref, &list_params(&query, path.namespace.clone())?)
                .await?;
            let items: Vec<Value> = list
                .items
                .iter()
                .map(|o| wire::to_value(o))
                .collect::<Result<_, _>>()
                .map_err(|e| StoreError::bad_request(e.to_string()))?;
            if let Some(t) = table_of(ctx, kind, list_metadata(&list), &items, include) {
                return Ok(t);
            }
        }
        return collection(ctx, &method, &query, path, kind, &body, table).await;
    };
    let key = ObjectRef {
        type_ref: kind.type_ref.clone(),
        namespace: path.namespace.clone(),
        name,
    };
    match (path.subresource.as_deref(), method) {
        (None, Method::GET) if table.is_some() => {
            let object = ctx.store.get(&key).await?;
            let item = wire::to_value(&object).map_err(|e| StoreError::bad_request(e.to_string()))?;
            let metadata = json!({"resourceVersion": object.resource_version()});
            Ok(table
                .and_then(|include| table_of(ctx, kind, metadata, std::slice::from_ref(&item), include))
                .unwrap_or_else(|| object_response(StatusCode::OK, &object)))
        }
        (None | Some("status"), Method::GET) => Ok(object_response(StatusCode::OK, &*ctx.store.get(&key).await?)),
        (None, Method::PUT) => {
            let object = body_object(&body, kind, &key)?;
            let written = ctx.store.replace(&object, &write_params(&query)).await?;
            Ok(object_response(StatusCode::OK, &written))
        }
        (Some("status"), Method::PUT) if kind.status => {
            let object = body_object(&body, kind, &key)?;
            let written = ctx.store.replace_status(&object, &write_params(&query)).await?;
            Ok(object_response(StatusCode::OK, &written))
        }
        (None, Method::PATCH) => patch(ctx, &key, kind, &query, content_type.as_deref(), &body, false).await,
        (Some("status"), Method::PATCH) if kind.status => {
            patch(ctx, &key, kind, &query, content_type.as_deref(), &body, true).await
        }
        (None, Method::DELETE) => delete(ctx, &key, kind, &query, &body).await,
        (Some("scale"), method) if kind.scale.is_some() => {
            scale_request(ctx, &key, kind, &method, &query, content_type.as_deref(), &body).await
        }
        (Some(_), _) => Err(StoreError::not_found(
            "the server could not find the requested resource",
        )),
        (None, other) => Err(StoreError::MethodNotAllowed {
            message: format!("the server does not allow this method on the requested resource ({other})"),
        }),
    }
}

async fn collection(
    ctx: &Ctx,
    method: &Method,
    query: &Query,
    path: &ResourcePath,
    kind: &KindEntry,
    body: &Bytes,
    table: Option<table::Include>,
) -> Result<Response<Body>, StoreError> {
    let namespace = path.namespace.clone();
    match *method {
        Method::GET if path.watch_prefix || query.flag("watch") => watch(ctx, query, kind, namespace, table).await,
        Method::GET => {
            let list = ctx.store.list(&kind.type_ref, &list_params(query, namespace)?).await?;
            Ok(list_response(
                kind,
                list_metadata(&list),
                list.items.iter().map(|o| &**o),
            ))
        }
        Method::POST => {
            let mut object = parse_object(body)?;
            check_type(&object, kind)?;
            if kind.namespaced {
                match object.metadata.namespace.as_deref() {
                    None | Some("") => object.metadata.namespace = namespace,
                    Some(ns) if Some(ns) != namespace.as_deref() => {
                        return Err(StoreError::bad_request(
                            "the namespace of the provided object does not match the namespace sent on the request",
                        ));
                    }
                    Some(_) => {}
                }
            } else {
                object.metadata.namespace = None;
            }
            let created = ctx.store.create(&object, &write_params(query)).await?;
            Ok(object_response(StatusCode::CREATED, &created))
        }
        Method::DELETE => {
            let list = ListParams {
                namespace,
                label_selector: query.non_empty("labelSelector"),
                field_selector: query.non_empty("fieldSelector"),
                ..ListParams::default()
            };
            let params = delete_params(query, body)?;
            let outcomes = ctx.store.delete_collection(&kind.type_ref, &list, &params).await?;
            Ok(list_response(kind, json!({}), outcomes.iter().map(|o| &**o.object())))
        }
        _ => Err(StoreError::MethodNotAllowed {
            message: format!("the server does not allow this method on the requested resource ({method})"),
        }),
    }
}

fn list_params(query: &Query, namespace: Option<String>) -> Result<ListParams, StoreError> {
    let version_match = match query.get("resourceVersionMatch") {
        None | Some("") => None,
        Some("Exact") => Some(VersionMatch::Exact),
        Some("NotOlderThan") => Some(VersionMatch::NotOlderThan),
        Some(other) => {
            let detail = format!("Unsupported value: \"{other}\": supported values: \"Exact\", \"NotOlderThan\", \"\"");
            return Err(StoreError::Invalid {
                message: format!("ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: {detail}"),
                causes: vec![StatusCause::new(
                    "FieldValueNotSupported",
                    "resourceVersionMatch",
                    detail,
                )],
            });
        }
    };
    Ok(ListParams {
        namespace,
        label_selector: query.non_empty("labelSelector"),
        field_selector: query.non_empty("fieldSelector"),
        limit: query.get("limit").and_then(|l| l.parse().ok()).filter(|l| *l > 0),
        continue_token: query.non_empty("continue"),
        resource_version: query.non_empty("resourceVersion"),
        version_match,
    })
}

fn list_metadata(list: &operator_runtime_core::ObjectList) -> Value {
    let mut metadata = json!({"resourceVersion": list.resource_version});
    if let Some(token) = &list.continue_token {
        metadata["continue"] = json!(token);
    }
    metadata
}

/// The Table answer for `items`, when the kind has a printer.
fn table_of(
    ctx: &Ctx,
    kind: &KindEntry,
    metadata: Value,
    items: &[Value],
    include: table::Include,
) -> Option<Response<Body>> {
    let now = ctx.memory.clock().now();
    table::table(kind, metadata, items, include, now).map(|t| json_response(StatusCode::OK, &t))
}

async fn watch(
    ctx: &Ctx,
    query: &Query,
    kind: &KindEntry,
    namespace: Option<String>,
    table: Option<table::Include>,
) -> Result<Response<Body>, StoreError> {
    let params = WatchParams {
        namespace,
        label_selector: query.non_empty("labelSelector"),
        field_selector: query.non_empty("fieldSelector"),
        // "" and "0" both mean: the current state as synthetic ADDED events, then changes.
        resource_version: query.non_empty("resourceVersion").filter(|rv| rv != "0"),
        bookmarks: query.flag("allowWatchBookmarks"),
        timeout: query
            .get("timeoutSeconds")
            .and_then(|t| t.parse::<u64>().ok())
            .filter(|t| *t > 0)
            .map(Duration::from_secs),
    };
    if query.flag("sendInitialEvents") {
        return streaming_list(ctx, params, kind).await;
    }
    let body: Body = match ctx.store.watch(&kind.type_ref, &params).await {
        Ok(stream) => {
            let table = table.map(|include| {
                let (kind, clock) = (kind.clone(), ctx.memory.clock());
                let table_of: watch_stream::TableOf = Arc::new(move |item: &Value| {
                    let metadata = json!({"resourceVersion": item["metadata"]["resourceVersion"]});
                    table::table(&kind, metadata, std::slice::from_ref(item), include, clock.now())
                });
                table_of
            });
            watch_stream::body(stream, kind.type_ref.clone(), table).boxed_unsync()
        }
        // A too-old start is reported inside the stream, as the API server does.
        Err(e @ StoreError::Expired { .. }) => {
            let mut line = serde_json::to_vec(&watch_stream::error_only(&e)).unwrap_or_default();
            line.push(b'\n');
            Full::new(Bytes::from(line)).boxed_unsync()
        }
        Err(e) => return Err(e),
    };
    let mut response = Response::new(body);
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(response)
}

/// `sendInitialEvents=true`: the current objects as ADDED events, a bookmark annotated
/// `k8s.io/initial-events-end`, then changes (kube-rs `watcher::Config::streaming_lists`).
async fn streaming_list(ctx: &Ctx, params: WatchParams, kind: &KindEntry) -> Result<Response<Body>, StoreError> {
    let list = ctx
        .store
        .list_all(
            &kind.type_ref,
            &ListParams {
                namespace: params.namespace.clone(),
                label_selector: params.label_selector.clone(),
                field_selector: params.field_selector.clone(),
                ..ListParams::default()
            },
        )
        .await?;
    let mut initial: Vec<Bytes> = list
        .items
        .into_iter()
        .map(|o| watch_stream::event_line(&Ok(WatchEvent::Added(o)), &kind.type_ref))
        .collect();
    initial.push(watch_stream::initial_events_end(&kind.type_ref, &list.resource_version));
    let params = WatchParams {
        resource_version: Some(list.resource_version),
        ..params
    };
    let stream = ctx.store.watch(&kind.type_ref, &params).await?;
    let mut response =
        Response::new(watch_stream::streaming_list_body(initial, stream, kind.type_ref.clone()).boxed_unsync());
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(response)
}

/// A PATCH of the object, or of its status subresource when `status` (every patch type,
/// server-side apply included, goes through the store with [`PatchParams::status`]).
async fn patch(
    ctx: &Ctx,
    key: &ObjectRef,
    kind: &KindEntry,
    query: &Query,
    content_type: Option<&str>,
    body: &Bytes,
    status: bool,
) -> Result<Response<Body>, StoreError> {
    let patch_kind = patch_types::kind_of(content_type)?;
    let value = patch_types::decode(patch_kind, body)?;
    let params = PatchParams {
        field_manager: query.non_empty("fieldManager"),
        force: query.flag("force"),
        dry_run: query.dry_run(),
        status,
    };
    let written = match patch_kind {
        PatchKind::Merge => ctx.store.patch(key, &Patch::Merge(value), &params).await?,
        PatchKind::Json => ctx.store.patch(key, &Patch::Json(value), &params).await?,
        PatchKind::Apply => ctx.store.patch(key, &Patch::Apply(value), &params).await?,
        PatchKind::Strategic => {
            if kind.custom {
                return Err(patch_types::strategic_unsupported());
            }
            strategic(ctx, key, kind, &value, &params).await?
        }
    };
    Ok(object_response(StatusCode::OK, &written))
}

/// A strategic merge patch: merged here on the current object, written as a merge patch with
/// the read resourceVersion as a precondition, retried when another write came in between.
async fn strategic(
    ctx: &Ctx,
    key: &ObjectRef,
    kind: &KindEntry,
    value: &Value,
    params: &PatchParams,
) -> Result<Arc<Object>, StoreError> {
    let client_rv = value["metadata"]["resourceVersion"].as_str().map(str::to_owned);
    let mut attempt = 0;
    loop {
        let current = ctx.store.get(key).await?;
        let before = wire::to_value(&current).map_err(|e| StoreError::backend(e.to_string()))?;
        let mut after = before.clone();
        patch_types::apply_locally(PatchKind::Strategic, &kind.type_ref, &mut after, value)?;
        let mut diff = patch_types::merge_diff(&before, &after);
        let rv = client_rv
            .clone()
            .or_else(|| current.resource_version().map(str::to_owned));
        if let Some(rv) = rv {
            diff["metadata"]["resourceVersion"] = json!(rv);
        }
        match ctx.store.patch(key, &Patch::Merge(diff), params).await {
            Err(StoreError::Conflict { .. }) if client_rv.is_none() && attempt < PATCH_RETRIES => attempt += 1,
            other => return other,
        }
    }
}

async fn scale_request(
    ctx: &Ctx,
    key: &ObjectRef,
    kind: &KindEntry,
    method: &Method,
    query: &Query,
    content_type: Option<&str>,
    body: &Bytes,
) -> Result<Response<Body>, StoreError> {
    let Some(paths) = &kind.scale else {
        return Err(StoreError::not_found(
            "the server could not find the requested resource",
        ));
    };
    let current = ctx.store.get(key).await?;
    let view = scale::scale_of(&current, paths);
    let desired = match *method {
        Method::GET => return Ok(json_response(StatusCode::OK, &view)),
        Method::PUT => serde_json::from_slice::<Value>(body)
            .map_err(|e| StoreError::bad_request(format!("cannot decode the Scale: {e}")))?,
        Method::PATCH => {
            let patch_kind = patch_types::kind_of(content_type)?;
            let value = patch_types::decode(patch_kind, body)?;
            let local_kind = if patch_kind == PatchKind::Apply {
                PatchKind::Merge
            } else {
                patch_kind
            };
            let mut doc = view.clone();
            patch_types::apply_locally(local_kind, &kind.type_ref, &mut doc, &value)?;
            doc
        }
        _ => {
            return Err(StoreError::MethodNotAllowed {
                message: format!("the server does not allow this method on the requested resource ({method})"),
            });
        }
    };
    let Some(replicas) = desired["spec"]["replicas"].as_i64() else {
        return Err(StoreError::invalid("spec.replicas", "Required value"));
    };
    let rv = desired["metadata"]["resourceVersion"].as_str();
    let params = PatchParams {
        field_manager: query.non_empty("fieldManager"),
        force: false,
        dry_run: query.dry_run(),
        status: false,
    };
    let patch = Patch::Merge(scale::replicas_patch(paths, replicas, rv));
    let written = ctx.store.patch(key, &patch, &params).await?;
    Ok(json_response(StatusCode::OK, &scale::scale_of(&written, paths)))
}

async fn delete(
    ctx: &Ctx,
    key: &ObjectRef,
    kind: &KindEntry,
    query: &Query,
    body: &Bytes,
) -> Result<Response<Body>, StoreError> {
    let params = delete_params(query, body)?;
    match ctx.store.delete(key, &params).await? {
        DeleteOutcome::Pending(object) => Ok(object_response(StatusCode::OK, &object)),
        // Kinds whose registry sets `ReturnDeletedObject` answer with the deleted object; the
        // others (custom resources among them) with a Status.
        DeleteOutcome::Deleted(object) if kind.returns_deleted_object => Ok(object_response(StatusCode::OK, &object)),
        DeleteOutcome::Deleted(object) => {
            let subject = Subject {
                name: Some(key.name.clone()),
                group: kind.type_ref.group().to_owned(),
                kind: kind.plural.clone(),
            };
            Ok(json_response(StatusCode::OK, &status::success(&subject, object.uid())))
        }
    }
}

/// `DeleteOptions` from the body (when there is one) and the query.
fn delete_params(query: &Query, body: &Bytes) -> Result<DeleteParams, StoreError> {
    let options: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        serde_json::from_slice(body)
            .map_err(|e| StoreError::bad_request(format!("cannot decode DeleteOptions: {e}")))?
    };
    let propagation = options["propagationPolicy"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| query.non_empty("propagationPolicy"));
    let propagation = match propagation.as_deref() {
        None => match options["orphanDependents"].as_bool() {
            Some(true) => Some(Propagation::Orphan),
            _ => None,
        },
        Some("Background") => Some(Propagation::Background),
        Some("Foreground") => Some(Propagation::Foreground),
        Some("Orphan") => Some(Propagation::Orphan),
        Some(other) => {
            return Err(StoreError::invalid(
                "propagationPolicy",
                format!("Unsupported value: \"{other}\": supported values: \"Foreground\", \"Background\", \"Orphan\""),
            ));
        }
    };
    let pre = &options["preconditions"];
    let preconditions = Preconditions {
        uid: pre["uid"].as_str().map(str::to_owned),
        resource_version: pre["resourceVersion"].as_str().map(str::to_owned),
    };
    let dry_run = query.dry_run()
        || options["dryRun"]
            .as_array()
            .is_some_and(|a| a.iter().any(|v| v.as_str() == Some("All")));
    Ok(DeleteParams {
        preconditions: (preconditions != Preconditions::default()).then_some(preconditions),
        propagation,
        dry_run,
    })
}

fn write_params(query: &Query) -> WriteParams {
    WriteParams {
        dry_run: query.dry_run(),
        field_manager: query.non_empty("fieldManager"),
    }
}

fn parse_object(body: &[u8]) -> Result<Object, StoreError> {
    let value: Value = serde_json::from_slice(body)
        .or_else(|_| serde_saphyr::from_slice::<Value>(body))
        .map_err(|e| StoreError::bad_request(format!("the body of the request could not be decoded: {e}")))?;
    Object::from_value(value).map_err(|e| StoreError::bad_request(format!("Object 'Kind' is missing in the body: {e}")))
}

fn check_type(object: &Object, kind: &KindEntry) -> Result<(), StoreError> {
    if object.api_version != kind.type_ref.api_version || object.kind != kind.type_ref.kind {
        return Err(StoreError::bad_request(format!(
            "the API version in the data ({}) does not match the expected API version ({}) or kind {} is not {}",
            object.api_version, kind.type_ref.api_version, object.kind, kind.type_ref.kind
        )));
    }
    Ok(())
}

/// The body of a PUT: of this kind, named as the URL, in the URL's namespace.
fn body_object(body: &[u8], kind: &KindEntry, key: &ObjectRef) -> Result<Object, StoreError> {
    let mut object = parse_object(body)?;
    check_type(&object, kind)?;
    if object.name() != key.name {
        return Err(StoreError::bad_request(format!(
            "the name of the object ({}) does not match the name on the URL ({})",
            object.name(),
            key.name
        )));
    }
    if kind.namespaced {
        match object.metadata.namespace.as_deref() {
            None | Some("") => object.metadata.namespace = key.namespace.clone(),
            Some(ns) if Some(ns) != key.namespace.as_deref() => {
                return Err(StoreError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            Some(_) => {}
        }
    }
    Ok(object)
}

fn list_response<'a>(kind: &KindEntry, metadata: Value, items: impl Iterator<Item = &'a Object>) -> Response<Body> {
    let items: Vec<wire::Wire<'_>> = items.map(wire::Wire).collect();
    let list = json!({
        "apiVersion": kind.type_ref.api_version,
        "kind": format!("{}List", kind.type_ref.kind),
        "metadata": metadata,
        "items": items,
    });
    json_response(StatusCode::OK, &list)
}

fn object_response(code: StatusCode, object: &Object) -> Response<Body> {
    match serde_json::to_vec(&wire::Wire(object)) {
        Ok(bytes) => bytes_response(code, bytes),
        Err(e) => error_response(&StoreError::backend(e.to_string()), &Subject::default()),
    }
}

pub(crate) fn json_response(code: StatusCode, value: &Value) -> Response<Body> {
    bytes_response(code, serde_json::to_vec(value).unwrap_or_default())
}

fn bytes_response(code: StatusCode, bytes: Vec<u8>) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(bytes)).boxed_unsync());
    *response.status_mut() = code;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn text_response(code: StatusCode, text: &'static str) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())).boxed_unsync());
    *response.status_mut() = code;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    response
}

/// A `Status` response for an error.
pub(crate) fn error_response(error: &StoreError, subject: &Subject) -> Response<Body> {
    let (code, _) = status::code_and_reason(error);
    let mut response = json_response(
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        &status::status_of(error, subject),
    );
    if let Some(after) = error.retry_after()
        && let Ok(v) = HeaderValue::from_str(&after.as_secs().max(1).to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

fn not_found_path() -> Response<Body> {
    error_response(
        &StoreError::not_found("the server could not find the requested resource"),
        &Subject::default(),
    )
}
