//! A real control plane for tests: etcd, kube-apiserver and kube-controller-manager started as
//! local processes, like controller-runtime's envtest, plus the garbage-collector and namespace
//! controllers so ownerReference cascades and namespace deletion work as in a cluster.
//!
//! [`TestEnvOptions::cluster`] goes further than envtest: a working cluster without containers.
//! kube-scheduler, the workload controllers (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job,
//! CronJob, EndpointSlice, ServiceAccount and token, ResourceQuota, disruption, pod GC, volume
//! binding) and fake nodes ([`nodes`]: a small node agent in this process) whose pods go from
//! Pending to Running and Ready. Readiness and rollouts then come from the real controllers:
//! `observedGeneration`, `updatedReplicas`, `readyReplicas`, revisions, partitions, OnDelete.
//!
//! The binaries are built from Go modules by `backend-kube/controlplane/build.sh` into
//! `${OPERATOR_RUNTIME_CACHE:-~/.cache/operator-runtime}/k8s-v1.37.2/` (once per machine), or
//! taken from `$OPERATOR_RUNTIME_K8S_BIN_DIR`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), operator_runtime_kube::testenv::TestEnvError> {
//! use operator_runtime_kube::testenv::TestEnv;
//! let env = TestEnv::shared()?;          // one control plane per test binary
//! let client = env.client()?;            // a fresh client for this test's runtime
//! let ns = env.create_namespace(&client, "my-test").await?;
//! # Ok(()) }
//! ```
//!
//! Every process is killed when the [`TestEnv`] is dropped. A shared environment lives in a
//! `static` and is never dropped; its processes exit on their own when the test binary exits
//! (each Go main watches its parent pid and removes the temporary directory).

mod binaries;
mod certs;
mod crds;
mod error;
mod kubeconfig;
pub mod nodes;
mod process;

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{ObjectMeta, PostParams};
use kube::{Api, Client};

pub use binaries::{BIN_DIR_ENV, KUBERNETES_VERSION};
pub use error::TestEnvError;

use binaries::Binaries;
use certs::Pki;
use kubeconfig::KubeconfigFiles;
use process::ManagedProcess;

/// Environment variable overriding how long each component may take to become healthy, in
/// seconds (default 60).
pub const START_TIMEOUT_ENV: &str = "OPERATOR_RUNTIME_TESTENV_START_TIMEOUT";

/// Environment variable: when set (to anything but empty or `0`), a control plane that is
/// [unavailable](TestEnvError::Unavailable) fails the tests that need it instead of letting
/// [`available`] report them as not run. `scripts/test.sh`, and so CI, sets it.
pub const REQUIRE_ENV: &str = "OPERATOR_RUNTIME_REQUIRE_CONTROL_PLANE";

/// The gate of every test that needs a real server: the environment when it started; `None`
/// after printing one line `NOT RUN (no control plane): <test>: <why>; run scripts/test.sh`
/// when the control plane is [unavailable](TestEnvError::Unavailable) on this machine (no Go,
/// nothing cached) and [`REQUIRE_ENV`] is not set. Any other start failure, or an unavailable
/// control plane with [`REQUIRE_ENV`] set, panics (fails the test).
///
/// The line goes straight to the process's stderr, past the test harness's output capture,
/// so a plain `cargo test` shows it. The test name is the current thread's (libtest names each
/// test's thread after the test).
///
/// ```no_run
/// use operator_runtime_kube::testenv::{self, TestEnv};
/// # fn demo() {
/// let Some(env) = testenv::available(TestEnv::shared()) else { return };
/// # let _ = env; }
/// ```
pub fn available<T>(started: Result<T, TestEnvError>) -> Option<T> {
    match started {
        Ok(env) => Some(env),
        Err(e) if e.is_unavailable() && !control_plane_required() => {
            use std::io::Write as _;
            let thread = std::thread::current();
            let test = thread.name().unwrap_or("this test");
            // Written to the stderr handle, not with eprintln!, which the test harness captures.
            let _ = writeln!(
                std::io::stderr().lock(),
                "NOT RUN (no control plane): {test}: {e}; run scripts/test.sh"
            );
            None
        }
        Err(e) if e.is_unavailable() => panic!("the test control plane is required ({REQUIRE_ENV} is set): {e}"),
        Err(e) => panic!("the test control plane did not start: {e}"),
    }
}

/// Whether [`REQUIRE_ENV`] asks for a loud failure when the control plane is unavailable.
pub fn control_plane_required() -> bool {
    std::env::var_os(REQUIRE_ENV).is_some_and(|v| !v.is_empty() && v != "0")
}

const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(60);
/// Readiness poll interval (envtest uses 100 ms).
const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// Free ports are probed, not reserved, so a start can lose a race; retry like envtest does.
const START_ATTEMPTS: usize = 3;

/// The kube-controller-manager controllers of [`TestEnvOptions::minimal`].
const MINIMAL_CONTROLLERS: &[&str] = &["garbagecollector", "namespace"];
/// The kube-controller-manager controllers of [`TestEnvOptions::cluster`].
const CLUSTER_CONTROLLERS: &[&str] = &[
    "garbagecollector",
    "namespace",
    "deployment",
    "replicaset",
    "statefulset",
    "daemonset",
    "job",
    "cronjob",
    "ttl-after-finished",
    "endpointslice",
    "serviceaccount",
    "serviceaccount-token",
    "resourcequota",
    "disruption",
    "podgc",
    "persistentvolume-binder",
];

/// Which components a [`TestEnv`] runs besides etcd and kube-apiserver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestEnvOptions {
    /// kube-controller-manager's `--controllers`.
    pub controllers: Vec<String>,
    /// Whether kube-scheduler runs (pods are bound to nodes).
    pub scheduler: bool,
    /// How many fake nodes the in-process node agent registers (0: no agent).
    pub fake_nodes: usize,
}

impl TestEnvOptions {
    /// What [`TestEnv::start`] runs: the garbage-collector and namespace controllers only
    /// (no pods ever exist; workload status never changes unless a test writes it).
    pub fn minimal() -> Self {
        Self {
            controllers: MINIMAL_CONTROLLERS.iter().map(|c| (*c).to_owned()).collect(),
            scheduler: false,
            fake_nodes: 0,
        }
    }

    /// A working cluster without containers: the workload controllers, kube-scheduler and three
    /// fake nodes.
    pub fn cluster() -> Self {
        Self {
            controllers: CLUSTER_CONTROLLERS.iter().map(|c| (*c).to_owned()).collect(),
            scheduler: true,
            fake_nodes: 3,
        }
    }
}

impl Default for TestEnvOptions {
    fn default() -> Self {
        Self::minimal()
    }
}

/// A running control plane. Dropping it kills every process it started and removes its files.
#[derive(Debug)]
pub struct TestEnv {
    /// Stops the fake node agent's thread (dropped first).
    agent: Option<AgentHandle>,
    // Field order matters: processes are killed before the directory they use is removed.
    processes: Vec<ManagedProcess>,
    config: kube::Config,
    kubeconfig_path: PathBuf,
    server_url: String,
    dir: tempfile::TempDir,
}

impl TestEnv {
    /// Starts a new control plane (builds the binaries first if they are missing or stale).
    ///
    /// # Errors
    /// A [`TestEnvError`] saying which step failed and, for a process, the tail of its log.
    pub async fn start() -> Result<Self, TestEnvError> {
        Self::start_with(&TestEnvOptions::minimal()).await
    }

    /// Starts a new control plane with the given components.
    ///
    /// # Errors
    /// A [`TestEnvError`] saying which step failed and, for a process, the tail of its log.
    pub async fn start_with(options: &TestEnvOptions) -> Result<Self, TestEnvError> {
        let binaries = Binaries::locate()?;
        let mut last_error = None;
        for attempt in 1..=START_ATTEMPTS {
            match Self::start_once(&binaries, options).await {
                Ok(env) => return Ok(env),
                Err(e) => {
                    tracing::warn!(attempt, error = %e, "test control plane failed to start");
                    last_error = Some(e);
                }
            }
        }
        Err(last_error.unwrap_or_else(|| TestEnvError::Io {
            context: "starting the control plane".into(),
            message: "no attempt was made".into(),
        }))
    }

    /// The process-wide control plane, started on first use (one per test binary).
    ///
    /// Blocks the calling thread while starting; safe to call from inside any tokio runtime,
    /// since the start runs on a thread of its own. A failed start is remembered: every later
    /// call returns the same error, so each test fails with the reason.
    ///
    /// # Errors
    /// The [`TestEnvError`] of the (first) failed start.
    pub fn shared() -> Result<&'static Self, TestEnvError> {
        static SHARED: OnceLock<Result<TestEnv, TestEnvError>> = OnceLock::new();
        Self::shared_in(&SHARED, TestEnvOptions::minimal())
    }

    /// The process-wide working cluster ([`TestEnvOptions::cluster`]: workload controllers,
    /// scheduler, fake nodes), started on first use, separate from [`TestEnv::shared`].
    ///
    /// # Errors
    /// The [`TestEnvError`] of the (first) failed start.
    pub fn shared_cluster() -> Result<&'static Self, TestEnvError> {
        static SHARED: OnceLock<Result<TestEnv, TestEnvError>> = OnceLock::new();
        Self::shared_in(&SHARED, TestEnvOptions::cluster())
    }

    fn shared_in(
        cell: &'static OnceLock<Result<TestEnv, TestEnvError>>,
        options: TestEnvOptions,
    ) -> Result<&'static Self, TestEnvError> {
        cell.get_or_init(|| {
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| TestEnvError::Io {
                        context: "building a runtime to start the control plane".into(),
                        message: e.to_string(),
                    })?;
                runtime.block_on(Self::start_with(&options))
            })
            .join()
            .unwrap_or_else(|_| {
                Err(TestEnvError::Io {
                    context: "starting the control plane".into(),
                    message: "the start thread panicked".into(),
                })
            })
        })
        .as_ref()
        .map_err(Clone::clone)
    }

    /// Path of the admin kubeconfig (for kubectl: `KUBECONFIG=<path> kubectl get ns`).
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig_path
    }

    /// The API server's URL (`https://127.0.0.1:<port>`).
    pub fn server_url(&self) -> &str {
        &self.server_url
    }

    /// The directory holding certificates, the etcd data and the process logs.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A client configuration for the admin user (group `system:masters`).
    pub fn config(&self) -> kube::Config {
        self.config.clone()
    }

    /// A new admin client. Create one per tokio runtime (per test): a client's pooled
    /// connections belong to the runtime that opened them.
    ///
    /// # Errors
    /// [`TestEnvError::Client`] if the client cannot be built.
    pub fn client(&self) -> Result<Client, TestEnvError> {
        Client::try_from(self.config()).map_err(|e| TestEnvError::Client(e.to_string()))
    }

    /// Creates a namespace named `<prefix>-<n>` (unique within this process) and returns its
    /// name. Tests get one each, so they never see each other's objects.
    ///
    /// # Errors
    /// [`TestEnvError::Client`] if the namespace cannot be created.
    pub async fn create_namespace(&self, client: &Client, prefix: &str) -> Result<String, TestEnvError> {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let name = format!("{}-{}", sanitize(prefix), NEXT.fetch_add(1, Ordering::Relaxed));
        let ns = Namespace {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        };
        Api::<Namespace>::all(client.clone())
            .create(&PostParams::default(), &ns)
            .await
            .map_err(|e| TestEnvError::Client(format!("creating namespace {name}: {e}")))?;
        Ok(name)
    }

    /// Stops every process now (also done on drop).
    pub fn stop(&mut self) {
        self.agent = None;
        // Reverse start order: the scheduler, the controller manager, the API server, etcd.
        while let Some(mut process) = self.processes.pop() {
            process.kill();
        }
    }

    async fn start_once(binaries: &Binaries, options: &TestEnvOptions) -> Result<Self, TestEnvError> {
        let io = |context: &str| {
            let context = context.to_owned();
            move |e: std::io::Error| TestEnvError::Io {
                context,
                message: e.to_string(),
            }
        };
        let dir = tempfile::Builder::new()
            .prefix("operator-runtime-testenv-")
            .tempdir()
            .map_err(io("creating the temporary directory"))?;
        let files = Files::write(
            dir.path(),
            &Pki::generate().map_err(|e| TestEnvError::Certificates(e.to_string()))?,
        )?;
        let timeout = start_timeout();

        let etcd_port = free_port()?;
        let etcd_peer_port = free_port()?;
        let apiserver_port = free_port()?;
        let kcm_port = free_port()?;
        let mut processes = Vec::new();

        let etcd_url = format!("http://127.0.0.1:{etcd_port}");
        let peer_url = format!("http://127.0.0.1:{etcd_peer_port}");
        let etcd_args = vec![
            "--name=testenv".to_owned(),
            format!("--data-dir={}", dir.path().join("etcd").display()),
            format!("--listen-client-urls={etcd_url}"),
            format!("--advertise-client-urls={etcd_url}"),
            format!("--listen-peer-urls={peer_url}"),
            format!("--initial-advertise-peer-urls={peer_url}"),
            format!("--initial-cluster=testenv={peer_url}"),
            "--unsafe-no-fsync=true".to_owned(),
            "--log-level=warn".to_owned(),
        ];
        let mut etcd = ManagedProcess::spawn("etcd", &binaries.etcd, &etcd_args, dir.path(), Some(dir.path()))?;
        wait_for_port(&mut etcd, etcd_port, timeout).await?;
        processes.push(etcd);

        let server_url = format!("https://127.0.0.1:{apiserver_port}");
        let apiserver_args = vec![
            format!("--etcd-servers={etcd_url}"),
            "--bind-address=127.0.0.1".to_owned(),
            "--advertise-address=127.0.0.1".to_owned(),
            // The endpoint reconciler rejects loopback advertise addresses (1.37), and nothing
            // here routes to the `kubernetes` Service anyway.
            "--endpoint-reconciler-type=none".to_owned(),
            format!("--secure-port={apiserver_port}"),
            format!("--cert-dir={}", dir.path().join("apiserver").display()),
            format!("--tls-cert-file={}", files.serving_cert.display()),
            format!("--tls-private-key-file={}", files.serving_key.display()),
            format!("--client-ca-file={}", files.client_ca.display()),
            "--authorization-mode=RBAC".to_owned(),
            "--disable-admission-plugins=ServiceAccount".to_owned(),
            "--service-cluster-ip-range=10.0.0.0/24".to_owned(),
            "--allow-privileged=true".to_owned(),
            format!("--service-account-issuer={server_url}/"),
            format!("--service-account-key-file={}", files.service_account_public.display()),
            format!(
                "--service-account-signing-key-file={}",
                files.service_account_key.display()
            ),
        ];
        let apiserver = ManagedProcess::spawn(
            "kube-apiserver",
            &binaries.kube_apiserver,
            &apiserver_args,
            dir.path(),
            None,
        )?;
        processes.push(apiserver);

        let kubeconfig = kubeconfig::admin_kubeconfig(&KubeconfigFiles {
            server: &server_url,
            ca_cert: &files.serving_ca,
            client_cert: &files.admin_cert,
            client_key: &files.admin_key,
        });
        let kubeconfig_path = dir.path().join("admin.kubeconfig");
        let kubeconfig_json = serde_json::to_vec_pretty(&kubeconfig).map_err(|e| TestEnvError::Io {
            context: "serializing the kubeconfig".into(),
            message: e.to_string(),
        })?;
        // JSON is YAML: kubectl reads this file as is.
        std::fs::write(&kubeconfig_path, kubeconfig_json).map_err(io("writing the kubeconfig"))?;
        let mut config = kubeconfig::client_config(kubeconfig)
            .await
            .map_err(|e| TestEnvError::Client(format!("loading the generated kubeconfig: {e}")))?;
        // Tests want to see throttling and unavailability as errors, not have them retried.
        config.default_retry = false;

        let client = Client::try_from(config.clone()).map_err(|e| TestEnvError::Client(e.to_string()))?;
        wait_for_http_ok(&mut processes[1], &client, "/readyz", timeout).await?;
        wait_for_default_namespace(&mut processes[1], &client, timeout).await?;

        let kcm_args = vec![
            format!("--kubeconfig={}", kubeconfig_path.display()),
            format!("--authentication-kubeconfig={}", kubeconfig_path.display()),
            format!("--authorization-kubeconfig={}", kubeconfig_path.display()),
            format!("--controllers={}", options.controllers.join(",")),
            "--leader-elect=false".to_owned(),
            "--bind-address=127.0.0.1".to_owned(),
            format!("--secure-port={kcm_port}"),
            format!("--cert-dir={}", dir.path().join("kube-controller-manager").display()),
            format!("--root-ca-file={}", files.serving_ca.display()),
            format!(
                "--service-account-private-key-file={}",
                files.service_account_key.display()
            ),
        ];
        let kcm = ManagedProcess::spawn(
            "kube-controller-manager",
            &binaries.kube_controller_manager,
            &kcm_args,
            dir.path(),
            None,
        )?;
        processes.push(kcm);
        let kcm_client = insecure_client(&format!("https://127.0.0.1:{kcm_port}"))?;
        wait_for_http_ok(&mut processes[2], &kcm_client, "/healthz", timeout).await?;

        if options.scheduler {
            let path = binaries
                .kube_scheduler
                .as_ref()
                .ok_or_else(|| TestEnvError::MissingBinary {
                    path: PathBuf::from(binaries::KUBE_SCHEDULER),
                    hint: "rebuild the control plane with backend-kube/controlplane/build.sh".into(),
                })?;
            let port = free_port()?;
            let args = vec![
                format!("--kubeconfig={}", kubeconfig_path.display()),
                format!("--authentication-kubeconfig={}", kubeconfig_path.display()),
                format!("--authorization-kubeconfig={}", kubeconfig_path.display()),
                "--leader-elect=false".to_owned(),
                "--bind-address=127.0.0.1".to_owned(),
                format!("--secure-port={port}"),
                format!("--cert-dir={}", dir.path().join("kube-scheduler").display()),
            ];
            let mut scheduler = ManagedProcess::spawn("kube-scheduler", path, &args, dir.path(), None)?;
            let scheduler_client = insecure_client(&format!("https://127.0.0.1:{port}"))?;
            wait_for_http_ok(&mut scheduler, &scheduler_client, "/healthz", timeout).await?;
            processes.push(scheduler);
        }
        let agent = if options.fake_nodes > 0 {
            let names = nodes::register_nodes(&client, options.fake_nodes).await?;
            Some(AgentHandle::spawn(config.clone(), names)?)
        } else {
            None
        };

        Ok(Self {
            agent,
            processes,
            config,
            kubeconfig_path,
            server_url,
            dir,
        })
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The fake node agent, on a thread with its own runtime (so it outlives the runtime that
/// started the control plane, as [`TestEnv::shared`] needs). Dropping the handle stops it.
#[derive(Debug)]
struct AgentHandle {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl AgentHandle {
    fn spawn(config: kube::Config, nodes: Vec<String>) -> Result<Self, TestEnvError> {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| TestEnvError::Io {
                context: "building the fake node agent's runtime".into(),
                message: e.to_string(),
            })?;
        std::thread::Builder::new()
            .name("fake-node-agent".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(client) = Client::try_from(config) else { return };
                    tokio::select! {
                        () = nodes::run_agent(client, nodes) => {}
                        _ = stopped => {}
                    }
                });
            })
            .map_err(|e| TestEnvError::Io {
                context: "starting the fake node agent".into(),
                message: e.to_string(),
            })?;
        Ok(Self { stop: Some(stop) })
    }
}

impl Drop for AgentHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Paths of the certificate and key files written for the processes.
struct Files {
    serving_ca: PathBuf,
    serving_cert: PathBuf,
    serving_key: PathBuf,
    client_ca: PathBuf,
    admin_cert: PathBuf,
    admin_key: PathBuf,
    service_account_key: PathBuf,
    service_account_public: PathBuf,
}

impl Files {
    fn write(dir: &Path, pki: &Pki) -> Result<Self, TestEnvError> {
        let pki_dir = dir.join("pki");
        let write = |name: &str, contents: &str| -> Result<PathBuf, TestEnvError> {
            let path = pki_dir.join(name);
            std::fs::write(&path, contents).map_err(|e| TestEnvError::Io {
                context: format!("writing {}", path.display()),
                message: e.to_string(),
            })?;
            Ok(path)
        };
        std::fs::create_dir_all(&pki_dir).map_err(|e| TestEnvError::Io {
            context: format!("creating {}", pki_dir.display()),
            message: e.to_string(),
        })?;
        Ok(Self {
            serving_ca: write("serving-ca.crt", &pki.serving_ca.cert_pem)?,
            serving_cert: write("apiserver.crt", &pki.serving.cert_pem)?,
            serving_key: write("apiserver.key", &pki.serving.key_pem)?,
            client_ca: write("client-ca.crt", &pki.client_ca.cert_pem)?,
            admin_cert: write("admin.crt", &pki.admin.cert_pem)?,
            admin_key: write("admin.key", &pki.admin.key_pem)?,
            service_account_key: write("sa.key", &pki.service_account_key_pem)?,
            service_account_public: write("sa.pub", &pki.service_account_public_pem)?,
        })
    }
}

fn start_timeout() -> Duration {
    std::env::var(START_TIMEOUT_ENV)
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .map_or(DEFAULT_START_TIMEOUT, Duration::from_secs)
}

/// A loopback port that was free a moment ago (probed, not reserved).
fn free_port() -> Result<u16, TestEnvError> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| TestEnvError::Io {
            context: "finding a free loopback port".into(),
            message: e.to_string(),
        })
}

/// A client for a component's self-signed serving certificate (health checks only).
fn insecure_client(url: &str) -> Result<Client, TestEnvError> {
    let uri = url
        .parse()
        .map_err(|e| TestEnvError::Client(format!("invalid URL {url}: {e}")))?;
    let mut config = kube::Config::new(uri);
    config.accept_invalid_certs = true;
    config.default_retry = false;
    Client::try_from(config).map_err(|e| TestEnvError::Client(e.to_string()))
}

async fn wait_for_port(process: &mut ManagedProcess, port: u16, timeout: Duration) -> Result<(), TestEnvError> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    poll_until(process, timeout, |_| async move {
        TcpStream::connect_timeout(&addr, POLL_INTERVAL)
            .map(|_| ())
            .map_err(|e| format!("connecting to {addr}: {e}"))
    })
    .await
}

async fn wait_for_http_ok(
    process: &mut ManagedProcess,
    client: &Client,
    path: &str,
    timeout: Duration,
) -> Result<(), TestEnvError> {
    poll_until(process, timeout, |_| async move {
        let request = http::Request::get(path)
            .body(Vec::new())
            .map_err(|e| format!("building GET {path}: {e}"))?;
        match client.request_text(request).await {
            Ok(body) if body.trim() == "ok" => Ok(()),
            Ok(body) => Err(format!("GET {path} answered {body:?}")),
            Err(e) => Err(format!("GET {path}: {e}")),
        }
    })
    .await
}

async fn wait_for_default_namespace(
    process: &mut ManagedProcess,
    client: &Client,
    timeout: Duration,
) -> Result<(), TestEnvError> {
    let namespaces = Api::<Namespace>::all(client.clone());
    poll_until(process, timeout, |_| {
        let namespaces = namespaces.clone();
        async move {
            match namespaces.get_opt("default").await {
                Ok(Some(_)) => Ok(()),
                Ok(None) => Err("namespace default does not exist yet".to_owned()),
                Err(e) => Err(format!("getting namespace default: {e}")),
            }
        }
    })
    .await
}

/// Polls `check` every [`POLL_INTERVAL`] until it succeeds, the process exits, or `timeout`.
async fn poll_until<F, Fut>(process: &mut ManagedProcess, timeout: Duration, check: F) -> Result<(), TestEnvError>
where
    F: Fn(()) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let start = Instant::now();
    loop {
        process.ensure_running()?;
        let last_error = match check(()).await {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        if start.elapsed() >= timeout {
            return Err(TestEnvError::NotReady {
                name: process.name(),
                waited: timeout,
                last_error,
                log_path: process.log_path().to_owned(),
                log_tail: process.log_tail(),
            });
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// A namespace-name-safe version of a test name.
fn sanitize(prefix: &str) -> String {
    let mut s: String = prefix
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    s.truncate(40);
    let s = s.trim_matches('-');
    if s.is_empty() { "test".to_owned() } else { s.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_prefixes_are_dns_labels() {
        assert_eq!(sanitize("store_suite::create_Then_get"), "store-suite--create-then-get");
        assert_eq!(sanitize("__"), "test");
        assert!(sanitize(&"x".repeat(100)).len() <= 40);
    }

    #[test]
    fn free_ports_are_nonzero() {
        assert_ne!(free_port().unwrap(), 0);
    }
}
