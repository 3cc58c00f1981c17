//! One control-plane process: spawned with its output in a log file, killed on drop.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::TestEnvError;

/// Environment variable that turns on the parent-death watchdog in our Go mains
/// (`controlplane/internal/watchdog`): the child exits when this process dies, even on abort.
const WATCHDOG_ENV: &str = "OPERATOR_RUNTIME_PARENT_WATCHDOG";
/// Directory the watchdog removes when it fires (our temporary directory).
const WATCHDOG_CLEANUP_ENV: &str = "OPERATOR_RUNTIME_WATCHDOG_CLEANUP_DIR";

/// How many log lines an error message carries.
const LOG_TAIL_LINES: usize = 30;

/// A running child process owned by the test environment.
#[derive(Debug)]
pub(crate) struct ManagedProcess {
    name: &'static str,
    child: Child,
    log_path: PathBuf,
}

impl ManagedProcess {
    /// Starts `program` with `args`; stdout and stderr go to `<log_dir>/<name>.log`.
    pub(crate) fn spawn(
        name: &'static str,
        program: &Path,
        args: &[String],
        log_dir: &Path,
        cleanup_dir: Option<&Path>,
    ) -> Result<Self, TestEnvError> {
        let log_path = log_dir.join(format!("{name}.log"));
        let io_err = |what: &str, e: std::io::Error| TestEnvError::Io {
            context: format!("{what} for {name}"),
            message: e.to_string(),
        };
        let log = File::create(&log_path).map_err(|e| io_err("creating the log file", e))?;
        let log_err = log.try_clone().map_err(|e| io_err("duplicating the log file", e))?;
        let mut command = Command::new(program);
        command
            .args(args)
            .env(WATCHDOG_ENV, "1")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err);
        if let Some(dir) = cleanup_dir {
            command.env(WATCHDOG_CLEANUP_ENV, dir);
        }
        let child = command
            .spawn()
            .map_err(|e| io_err(&format!("starting {}", program.display()), e))?;
        Ok(Self { name, child, log_path })
    }

    /// The process's name (`etcd`, `kube-apiserver`, ...).
    pub(crate) fn name(&self) -> &'static str {
        self.name
    }

    /// The log file.
    pub(crate) fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// Fails with the log's tail if the process has exited.
    pub(crate) fn ensure_running(&mut self) -> Result<(), TestEnvError> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(TestEnvError::ProcessExited {
                name: self.name,
                status: status.to_string(),
                log_path: self.log_path.clone(),
                log_tail: self.log_tail(),
            }),
            Err(e) => Err(TestEnvError::Io {
                context: format!("checking whether {} is running", self.name),
                message: e.to_string(),
            }),
        }
    }

    /// The last lines of the log.
    pub(crate) fn log_tail(&self) -> String {
        log_tail(&self.log_path)
    }

    /// Kills the process (SIGKILL: these are disposable test servers) and reaps it.
    pub(crate) fn kill(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // Errors here mean the process is already gone, which is the goal.
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

impl Drop for ManagedProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The last [`LOG_TAIL_LINES`] lines of a file ("" if it cannot be read).
pub(crate) fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n")
}
