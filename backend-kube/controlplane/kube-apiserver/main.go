// kube-apiserver for operator-runtime's test control plane: upstream's cmd/kube-apiserver main.
package main

import (
	"os"
	_ "time/tzdata"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"

	"operator-runtime.local/controlplane/internal/watchdog"
)

func main() {
	watchdog.Start()
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
