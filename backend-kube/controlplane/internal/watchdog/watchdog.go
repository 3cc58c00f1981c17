// Package watchdog makes a control-plane process exit when the process that started it dies.
//
// The Rust test harness starts etcd, kube-apiserver and kube-controller-manager as child
// processes. It kills them on drop, but a test binary that aborts (or is SIGKILLed) never runs
// its destructors, and Rust code in this project may not use `unsafe` to set
// PR_SET_PDEATHSIG. So each child watches its own parent pid instead: when the parent dies the
// child is re-parented (to init or a subreaper), its parent pid changes, and it exits.
package watchdog

import (
	"fmt"
	"os"
	"time"
)

// EnvVar turns the watchdog on when set to "1". The harness sets it; a person running a
// binary by hand does not get a process that exits when their shell does.
const EnvVar = "OPERATOR_RUNTIME_PARENT_WATCHDOG"

// CleanupDirEnvVar optionally names a directory the watchdog removes before exiting: the
// harness's temporary directory, which a killed test binary cannot remove itself.
const CleanupDirEnvVar = "OPERATOR_RUNTIME_WATCHDOG_CLEANUP_DIR"

// pollInterval bounds how long an orphaned control-plane process outlives its parent.
const pollInterval = 250 * time.Millisecond

// Start launches the watchdog goroutine if EnvVar is "1".
func Start() {
	if os.Getenv(EnvVar) != "1" {
		return
	}
	parent := os.Getppid()
	cleanup := os.Getenv(CleanupDirEnvVar)
	go func() {
		for {
			time.Sleep(pollInterval)
			if now := os.Getppid(); now != parent {
				fmt.Fprintf(os.Stderr, "watchdog: parent process %d is gone (parent is now %d), exiting\n", parent, now)
				if cleanup != "" {
					_ = os.RemoveAll(cleanup)
				}
				os.Exit(3)
			}
		}
	}()
}
