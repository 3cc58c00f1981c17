// kube-scheduler for operator-runtime's test control plane: upstream's main.
package main

import (
	"os"
	_ "time/tzdata"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-scheduler/app"

	"operator-runtime.local/controlplane/internal/watchdog"
)

func main() {
	watchdog.Start()
	os.Exit(cli.Run(app.NewSchedulerCommand()))
}
