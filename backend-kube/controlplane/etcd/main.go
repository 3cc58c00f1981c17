// etcd for operator-runtime's test control plane: upstream's server main.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"

	"operator-runtime.local/controlplane/internal/watchdog"
)

func main() {
	watchdog.Start()
	etcdmain.Main(os.Args)
}
