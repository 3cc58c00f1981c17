//! [`TestEnvError`]: why the test control plane could not be built, started or used.

use std::path::PathBuf;
use std::time::Duration;

/// Why the test control plane could not be built, started or used.
///
/// Cloneable so that a failed shared start can be reported to every test.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestEnvError {
    /// The control plane cannot be had on this machine at all: the binaries are not cached and
    /// cannot be built (no Go toolchain, or not running from a source checkout). Tests that
    /// need a real server report this through [`super::available`] instead of failing, unless
    /// [`super::REQUIRE_ENV`] is set.
    #[error("control plane unavailable: {reason}")]
    Unavailable {
        /// Why, and how to get it.
        reason: String,
    },
    /// A control-plane binary is missing.
    #[error("control-plane binary {path} is missing: {hint}")]
    MissingBinary {
        /// The path that was looked for.
        path: PathBuf,
        /// How to get it.
        hint: String,
    },
    /// Building the control plane failed.
    #[error("building the control plane failed: {0}")]
    Build(String),
    /// Generating certificates failed.
    #[error("generating certificates failed: {0}")]
    Certificates(String),
    /// A filesystem or process operation failed.
    #[error("{context}: {message}")]
    Io {
        /// What was being done.
        context: String,
        /// The OS error.
        message: String,
    },
    /// A process exited while it was expected to run.
    #[error("{name} exited ({status}); log {log_path}:\n{log_tail}", log_path = log_path.display())]
    ProcessExited {
        /// The process.
        name: &'static str,
        /// Its exit status.
        status: String,
        /// Its log file.
        log_path: PathBuf,
        /// The log's last lines.
        log_tail: String,
    },
    /// A process did not become healthy in time.
    #[error("{name} not ready after {waited:?} ({last_error}); log {log_path}:\n{log_tail}", log_path = log_path.display())]
    NotReady {
        /// The process.
        name: &'static str,
        /// How long we waited.
        waited: Duration,
        /// The last health-check failure.
        last_error: String,
        /// Its log file.
        log_path: PathBuf,
        /// The log's last lines.
        log_tail: String,
    },
    /// A request to the control plane failed.
    #[error("control-plane client error: {0}")]
    Client(String),
    /// A CustomResourceDefinition could not be installed or did not become served.
    #[error("installing CRD {name}: {message}")]
    Crd {
        /// The CRD's name.
        name: String,
        /// What went wrong.
        message: String,
    },
}

impl TestEnvError {
    /// True for [`TestEnvError::Unavailable`]: nothing is broken, the machine just cannot run a
    /// control plane (as opposed to one that was built but failed to start).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable { .. })
    }
}
