//! A tower layer on the kube client that counts every HTTP request an operator sends, by verb:
//! the same yardstick for the three operators (the runtime's `KubeStore`, kube-rs, the seed
//! loop all talk through a `kube::Client`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use http::{Method, Request};
use tower::{Layer, Service};

/// Requests by verb (`get`, `list`, `watch`, `create`, `update`, `patch`, `apply`, `delete`,
/// with a `-status` suffix for the status subresource).
pub type Counts = BTreeMap<String, u64>;

/// The verbs that change state.
pub fn is_write(verb: &str) -> bool {
    ["create", "update", "patch", "apply", "delete"]
        .iter()
        .any(|w| verb == *w || verb.strip_prefix(w).is_some_and(|rest| rest.starts_with('-')))
}

/// Total requests.
pub fn total(c: &Counts) -> u64 {
    c.values().sum()
}

/// Write requests.
pub fn writes(c: &Counts) -> u64 {
    c.iter().filter(|(v, _)| is_write(v)).map(|(_, n)| n).sum()
}

/// `after - before`, verb by verb (verbs that did not move are left out).
pub fn since(after: &Counts, before: &Counts) -> Counts {
    after
        .iter()
        .map(|(v, n)| (v.clone(), n - before.get(v).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// The shared counters.
#[derive(Clone, Debug, Default)]
pub struct Counter(Arc<Mutex<Counts>>);

impl Counter {
    /// The counts so far.
    pub fn snapshot(&self) -> Counts {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn add(&self, verb: String) {
        *self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(verb)
            .or_default() += 1;
    }
}

/// The verb of a Kubernetes API request, from its method, path, query and content type.
fn verb_of<B>(req: &Request<B>) -> String {
    let path = req.uri().path();
    let query = req.uri().query().unwrap_or("");
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    // /api/v1/... or /apis/<group>/<version>/...
    let rest = match segments.first() {
        Some(&"api") => segments.get(2..).unwrap_or(&[]),
        Some(&"apis") => segments.get(3..).unwrap_or(&[]),
        _ => &[][..],
    };
    let rest = match rest {
        ["namespaces", _, tail @ ..] if !tail.is_empty() => tail,
        other => other,
    };
    let status = rest.len() >= 3 && rest.get(2) == Some(&"status");
    let collection = rest.len() <= 1;
    let apply = req
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("apply-patch"));
    let verb = match *req.method() {
        Method::GET if query.split('&').any(|kv| kv == "watch=true" || kv == "watch=1") => "watch",
        Method::GET if collection => "list",
        Method::GET => "get",
        Method::POST => "create",
        Method::PUT => "update",
        Method::PATCH if apply => "apply",
        Method::PATCH => "patch",
        Method::DELETE => "delete",
        _ => "other",
    };
    if status {
        format!("{verb}-status")
    } else {
        verb.to_owned()
    }
}

/// The layer: wrap a kube client's service with it (`ClientBuilder::with_layer`).
#[derive(Clone, Debug)]
pub struct CountingLayer(pub Counter);

impl<S> Layer<S> for CountingLayer {
    type Service = CountingService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CountingService {
            inner,
            counter: self.0.clone(),
        }
    }
}

/// The service [`CountingLayer`] builds.
#[derive(Clone, Debug)]
pub struct CountingService<S> {
    inner: S,
    counter: Counter,
}

impl<S, B> Service<Request<B>> for CountingService<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        self.counter.add(verb_of(&req));
        self.inner.call(req)
    }
}
