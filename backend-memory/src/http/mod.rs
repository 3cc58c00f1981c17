//! The memory store served as a Kubernetes REST API over HTTP, so that kube-rs clients
//! (`kube::Api`, `kube::runtime::Controller`, reflectors) and kubectl can run against it.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use k8s_openapi::api::core::v1::ConfigMap;
//! use kube::Api;
//! use operator_runtime_memory::MemoryStore;
//!
//! let server = operator_runtime_memory::http::start(MemoryStore::new()).await?;
//! let cms: Api<ConfigMap> = Api::default_namespaced(server.client());
//! let list = cms.list(&Default::default()).await?;
//! assert!(list.items.is_empty());
//! # Ok(()) }
//! ```
//!
//! What is served: every kind the store serves (built-in and from CRDs created through the API),
//! at the core and grouped paths, namespaced and cluster-scoped; the verbs get, list (label and
//! field selectors, limit/continue), watch (`?watch=true`, bookmarks, resourceVersion, a 410
//! `Status` in the stream, streaming lists with `sendInitialEvents`), create, update, patch (merge, JSON, strategic merge for built-in
//! kinds, server-side apply with `fieldManager` and `force`), delete (`DeleteOptions`,
//! preconditions, propagation) and deletecollection, `dryRun=All`; the `status` subresource
//! (every patch type, server-side apply with its own `subresource: status` ownership) and
//! `scale`; errors as `metav1.Status` with the API server's reason and code; discovery (legacy
//! and aggregated `apidiscovery.k8s.io/v2`, `/version`); OpenAPI v2/v3 documents with the
//! kinds' schemas (`kubectl explain`); Table output (`as=Table`) for the kinds with a ported
//! printer and for custom resources; protobuf request bodies of the kinds in `protobuf`.
//!
//! Not served: protobuf bodies of other kinds and CBOR (415), Table output of other kinds and
//! of watch streams (kubectl falls back to its own printing), lists at an exact older
//! resourceVersion (lists are served at the current revision), authentication and
//! authorization.

mod aggregated;
mod discovery;
mod handlers;
mod openapi;
mod patch_types;
mod paths;
mod protobuf;
mod scale;
mod schemas;
mod served;
mod server;
mod status;
mod table;
mod watch_stream;
mod wire;

pub use server::{ApiServer, HttpError, ServerHandle, start};
