//! Finding (and if needed building) the control-plane binaries.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::TestEnvError;

/// The Kubernetes version the Go mains in `backend-kube/controlplane` pin.
pub const KUBERNETES_VERSION: &str = "v1.37.2";

/// Environment variable naming a directory that already holds `etcd`, `kube-apiserver` and
/// `kube-controller-manager`; when set, nothing is built.
pub const BIN_DIR_ENV: &str = "OPERATOR_RUNTIME_K8S_BIN_DIR";

/// The three binaries, by file name.
pub(crate) const ETCD: &str = "etcd";
pub(crate) const KUBE_APISERVER: &str = "kube-apiserver";
pub(crate) const KUBE_CONTROLLER_MANAGER: &str = "kube-controller-manager";
pub(crate) const KUBE_SCHEDULER: &str = "kube-scheduler";

/// Where the binaries are.
#[derive(Clone, Debug)]
pub(crate) struct Binaries {
    pub(crate) etcd: PathBuf,
    pub(crate) kube_apiserver: PathBuf,
    pub(crate) kube_controller_manager: PathBuf,
    /// Optional: only [`super::TestEnvOptions::cluster`] needs it (a binary directory from an
    /// older build has none).
    pub(crate) kube_scheduler: Option<PathBuf>,
}

impl Binaries {
    /// Finds the binaries: `$OPERATOR_RUNTIME_K8S_BIN_DIR` if set; otherwise runs
    /// `controlplane/build.sh` from this crate's source (it returns at once when its cache is
    /// current, and builds otherwise). Without Go on `PATH` the cache directory is used as it
    /// is, and a cache without the binaries is [`TestEnvError::Unavailable`].
    pub(crate) fn locate() -> Result<Self, TestEnvError> {
        let dir = match std::env::var_os(BIN_DIR_ENV) {
            Some(dir) => PathBuf::from(dir),
            None if !go_on_path() => return Self::cached_without_go(),
            None => build()?,
        };
        Self::in_dir(&dir)
    }

    /// The binaries `build.sh` left in its cache, when Go is not there to check or rebuild them.
    fn cached_without_go() -> Result<Self, TestEnvError> {
        let dir = cache_dir();
        let unavailable = || TestEnvError::Unavailable {
            reason: format!(
                "Go not found (no control-plane binaries {KUBERNETES_VERSION} in {}, and building them needs \
                 the Go toolchain on PATH; or set {BIN_DIR_ENV})",
                dir.as_ref()
                    .map_or_else(|| "the cache (HOME is not set)".to_owned(), |d| d.display().to_string())
            ),
        };
        match &dir {
            Some(dir) => Self::in_dir(dir).map_err(|_| unavailable()),
            None => Err(unavailable()),
        }
    }

    fn in_dir(dir: &Path) -> Result<Self, TestEnvError> {
        let find = |name: &str| {
            let path = dir.join(name);
            if path.is_file() {
                Ok(path)
            } else {
                Err(TestEnvError::MissingBinary {
                    path,
                    hint: format!(
                        "run backend-kube/controlplane/build.sh (needs Go) or point {BIN_DIR_ENV} at a directory \
                         with etcd, kube-apiserver and kube-controller-manager {KUBERNETES_VERSION}"
                    ),
                })
            }
        };
        Ok(Self {
            etcd: find(ETCD)?,
            kube_apiserver: find(KUBE_APISERVER)?,
            kube_controller_manager: find(KUBE_CONTROLLER_MANAGER)?,
            kube_scheduler: find(KUBE_SCHEDULER).ok(),
        })
    }
}

/// Environment variable `build.sh` reads for its cache root (default `~/.cache/operator-runtime`).
const CACHE_ENV: &str = "OPERATOR_RUNTIME_CACHE";

/// Where `build.sh` puts the binaries: `${OPERATOR_RUNTIME_CACHE:-$HOME/.cache/operator-runtime}/k8s-<version>`.
fn cache_dir() -> Option<PathBuf> {
    let root = match std::env::var_os(CACHE_ENV).filter(|v| !v.is_empty()) {
        Some(root) => PathBuf::from(root),
        None => PathBuf::from(std::env::var_os("HOME")?)
            .join(".cache")
            .join("operator-runtime"),
    };
    Some(root.join(format!("k8s-{KUBERNETES_VERSION}")))
}

/// Whether an executable `go` is on `PATH` (what `build.sh` needs to build).
fn go_on_path() -> bool {
    std::env::var_os("PATH").is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join("go").is_file()))
}

/// Runs `build.sh`, which prints the binary directory as its last stdout line.
fn build() -> Result<PathBuf, TestEnvError> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("controlplane")
        .join("build.sh");
    if !script.is_file() {
        return Err(TestEnvError::Unavailable {
            reason: format!(
                "{} does not exist (not running from a source checkout?) and {BIN_DIR_ENV} is not set",
                script.display()
            ),
        });
    }
    // stderr is inherited so that a cold build's progress and Go's errors are visible.
    let output = Command::new("bash")
        .arg(&script)
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| TestEnvError::Build(format!("cannot run {}: {e}", script.display())))?;
    if !output.status.success() {
        return Err(TestEnvError::Build(format!(
            "{} failed ({}); its error is printed above",
            script.display(),
            output.status
        )));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| PathBuf::from(l.trim()))
        .ok_or_else(|| TestEnvError::Build(format!("{} printed no output directory", script.display())))
}
