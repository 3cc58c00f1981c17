//! The operator's HTTP endpoint: `/metrics`, `/healthz`, `/readyz`.
//!
//! Expected flow: bind a [`TcpListener`] (port 0 picks a free one), build a [`Probes`] that
//! shares the runner's [`Metrics`] and a readiness flag, and run [`serve`] next to the
//! controller until the shutdown future resolves.
//!
//! Guarantees:
//! - `GET /metrics`: 200 with every series of [`Metrics`] in the OpenMetrics text format
//!   (`prometheus-client`'s encoder, which Prometheus scrapes).
//! - `GET /healthz`: 200 `ok` while the process serves (liveness).
//! - `GET /readyz`: 200 `ready` once [`Probes::set_ready`] was called (the caches synced),
//!   503 `not ready` before; 503 naming each kind the cluster refuses to serve (one
//!   `cannot <verb> <kind>: <error>` line each, see [`Probes::set_missing`]) while there is one.
//! - any other path: 404; any other method: 405.
//!
//! Errors: [`serve`] returns the accept error that ended it; a failing connection is logged and
//! does not stop the server.

use std::convert::Infallible;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use operator_runtime_core::metrics::Metrics;
use tokio::net::TcpListener;

/// The OpenMetrics content type of `/metrics`.
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// What the endpoint reports: the metrics and whether the operator is ready.
#[derive(Clone, Default)]
pub struct Probes {
    metrics: Metrics,
    ready: Arc<AtomicBool>,
    missing: Arc<Mutex<Vec<String>>>,
}

impl Probes {
    /// Probes over `metrics` (share the runner's and the reconciler's), not ready yet.
    pub fn new(metrics: Metrics) -> Self {
        Self {
            metrics,
            ready: Arc::default(),
            missing: Arc::default(),
        }
    }

    /// The metrics served on `/metrics`.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Whether [`Probes::set_ready`] was called.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// Marks the operator ready (`/readyz` answers 200 from now on).
    pub fn set_ready(&self) {
        self.ready.store(true, Ordering::Release);
    }

    /// Sets the kinds the operator cannot list or watch (one line each, naming the kind and
    /// the verb); `/readyz` is 503 and lists them while any is set.
    pub fn set_missing(&self, missing: Vec<String>) {
        *self.missing.lock().unwrap_or_else(PoisonError::into_inner) = missing;
    }

    /// The kinds set by [`Probes::set_missing`].
    pub fn missing(&self) -> Vec<String> {
        self.missing.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The answer to one request.
    pub fn respond(&self, method: &Method, path: &str) -> Response<Full<Bytes>> {
        if method != Method::GET && method != Method::HEAD {
            return text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
        }
        match path {
            "/metrics" => match self.metrics.encode_text() {
                Ok(body) => with_type(StatusCode::OK, OPENMETRICS, body),
                Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, &format!("encoding failed: {e}\n")),
            },
            "/healthz" => text(StatusCode::OK, "ok\n"),
            "/readyz" if !self.missing().is_empty() => {
                let lines: String = self.missing().iter().map(|m| format!("{m}\n")).collect();
                text(StatusCode::SERVICE_UNAVAILABLE, &format!("not ready\n{lines}"))
            }
            "/readyz" if self.is_ready() => text(StatusCode::OK, "ready\n"),
            "/readyz" => text(StatusCode::SERVICE_UNAVAILABLE, "not ready\n"),
            _ => text(StatusCode::NOT_FOUND, "not found\n"),
        }
    }
}

fn text(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    with_type(status, "text/plain; charset=utf-8", body.to_owned())
}

fn with_type(status: StatusCode, content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, header::HeaderValue::from_static(content_type));
    response
}

/// Serves `probes` on `listener` (HTTP/1.1) until `shutdown` resolves.
///
/// # Errors
/// The error of `accept` that stopped the server.
pub async fn serve(
    listener: TcpListener,
    probes: Probes,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => accepted?,
            () = &mut shutdown => return Ok(()),
        };
        let probes = probes.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req: Request<Incoming>| {
                let response = probes.respond(req.method(), req.uri().path());
                async move { Ok::<_, Infallible>(response) }
            });
            if let Err(e) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(%peer, error = %e, "metrics connection failed");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readyz_names_the_kinds_the_cluster_refuses() {
        let probes = Probes::new(Metrics::new());
        probes.set_ready();
        assert_eq!(probes.respond(&Method::GET, "/readyz").status(), StatusCode::OK);
        probes.set_missing(vec!["cannot list apps/v1/Deployment: forbidden: no".to_owned()]);
        let response = probes.respond(&Method::GET, "/readyz");
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(probes.missing(), ["cannot list apps/v1/Deployment: forbidden: no"]);
        probes.set_missing(Vec::new());
        assert_eq!(probes.respond(&Method::GET, "/readyz").status(), StatusCode::OK);
    }
}
