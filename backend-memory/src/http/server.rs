//! The server: a hyper HTTP/1.1 listener on a loopback port, and the [`ServerHandle`] a test
//! holds (a `kube::Client`, a kubeconfig file, the address).

use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use hyper::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use operator_runtime_core::ObjectStore;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

use super::handlers::{Ctx, handle};
use crate::MemoryStore;

/// Errors starting the server or building its client.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The kubeconfig file could not be written.
    #[error("cannot write the kubeconfig: {0}")]
    Kubeconfig(std::io::Error),
    /// The server URL did not parse (cannot happen for a socket address).
    #[error("invalid server URL: {0}")]
    Url(#[from] http::uri::InvalidUri),
    /// kube-rs refused the configuration.
    #[error("cannot build a kube client: {0}")]
    Client(#[from] kube::Error),
}

/// Configures and starts an API server over a [`MemoryStore`].
///
/// ```no_run
/// # async fn demo() -> Result<(), operator_runtime_memory::http::HttpError> {
/// use operator_runtime_memory::MemoryStore;
/// use operator_runtime_memory::http::ApiServer;
///
/// let server = ApiServer::new(MemoryStore::new()).start().await?;
/// let pods: kube::Api<k8s_openapi::api::core::v1::Pod> = kube::Api::default_namespaced(server.client());
/// println!("KUBECONFIG={}", server.kubeconfig().display());
/// # Ok(()) }
/// ```
pub struct ApiServer {
    memory: MemoryStore,
    store: Arc<dyn ObjectStore>,
    addr: SocketAddr,
}

impl std::fmt::Debug for ApiServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl ApiServer {
    /// A server for `memory` on a free loopback port; requests go straight to the store.
    pub fn new(memory: MemoryStore) -> Self {
        Self {
            store: Arc::new(memory.clone()),
            memory,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }

    /// Serves requests from `store` instead, for instance a `FaultyStore` wrapping the same
    /// memory store, so that its faults reach HTTP clients. Discovery still reads the kinds
    /// (and CRDs) of the memory store given to [`ApiServer::new`].
    pub fn serving(mut self, store: impl ObjectStore) -> Self {
        self.store = Arc::new(store);
        self
    }

    /// Listens on `addr` (default: 127.0.0.1 on a free port).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Starts serving on the current tokio runtime.
    ///
    /// # Errors
    /// [`HttpError`] when the port cannot be bound, the kubeconfig not written, or the client
    /// not built.
    pub async fn start(self) -> Result<ServerHandle, HttpError> {
        let listener = TcpListener::bind(self.addr).await.map_err(|source| HttpError::Bind {
            addr: self.addr,
            source,
        })?;
        let addr = listener.local_addr().map_err(|source| HttpError::Bind {
            addr: self.addr,
            source,
        })?;
        let ctx = Arc::new(Ctx {
            memory: self.memory,
            store: self.store,
            address: addr.to_string(),
            served: super::served::ServedCache::default(),
        });
        let task = tokio::spawn(accept_loop(listener, ctx));
        let url = format!("http://{addr}");
        let mut config = kube::Config::new(url.parse::<http::Uri>()?);
        config.default_namespace = "default".to_owned();
        let client = kube::Client::try_from(config)?;
        let kubeconfig = write_kubeconfig(&url).map_err(HttpError::Kubeconfig)?;
        Ok(ServerHandle {
            addr,
            url,
            client,
            kubeconfig,
            task,
        })
    }
}

/// Starts an API server for `memory` on a free loopback port: the one-line form of
/// [`ApiServer::start`].
///
/// # Errors
/// See [`ApiServer::start`].
pub async fn start(memory: MemoryStore) -> Result<ServerHandle, HttpError> {
    ApiServer::new(memory).start().await
}

async fn accept_loop(listener: TcpListener, ctx: Arc<Ctx>) {
    // Dropping the set (when the loop task is aborted) aborts every open connection, watches
    // included.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _peer)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let ctx = Arc::clone(&ctx);
                connections.spawn(async move {
                    let service = service_fn(move |req: Request<Incoming>| {
                        let ctx = Arc::clone(&ctx);
                        async move { Ok::<_, Infallible>(handle(ctx, req).await) }
                    });
                    // A client that goes away mid-request is not the server's problem.
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

fn write_kubeconfig(url: &str) -> std::io::Result<tempfile::NamedTempFile> {
    let mut file = tempfile::Builder::new()
        .prefix("memory-apiserver-")
        .suffix(".kubeconfig")
        .tempfile()?;
    write!(
        file,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: memory\n  cluster:\n    server: {url}\n\
         contexts:\n- name: memory\n  context:\n    cluster: memory\n    user: memory\n    namespace: default\n\
         current-context: memory\nusers:\n- name: memory\n  user: {{}}\npreferences: {{}}\n"
    )?;
    file.flush()?;
    Ok(file)
}

/// A running server. Dropping it stops the server, closes its connections and removes the
/// kubeconfig file.
pub struct ServerHandle {
    addr: SocketAddr,
    url: String,
    client: kube::Client,
    kubeconfig: tempfile::NamedTempFile,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerHandle")
            .field("url", &self.url)
            .field("kubeconfig", &self.kubeconfig.path())
            .finish_non_exhaustive()
    }
}

impl ServerHandle {
    /// A kube-rs client for the server (namespace `default`). Cheap to clone.
    pub fn client(&self) -> kube::Client {
        self.client.clone()
    }

    /// Path of a kubeconfig file pointing at the server (for kubectl: `KUBECONFIG=...`).
    pub fn kubeconfig(&self) -> &Path {
        self.kubeconfig.path()
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server URL (`http://127.0.0.1:port`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Serves until the task is cancelled; for binaries.
    ///
    /// # Errors
    /// Never in practice: the accept loop only ends when aborted.
    pub async fn run_forever(mut self) -> Result<(), tokio::task::JoinError> {
        (&mut self.task).await
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}
