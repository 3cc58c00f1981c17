//! The runtime scenarios (reconcile driver end to end) on a working test cluster (kube-apiserver,
//! etcd, the workload controllers, scheduler and fake nodes), through `KubeStore` and server-side apply.

use operator_runtime_kube::KubeStore;
use operator_runtime_kube::testenv::TestEnv;

/// A store with a fresh client on the calling test's runtime. Fails the test (never skips)
/// when the control plane cannot be built or started.
async fn make_store() -> KubeStore {
    let env = match TestEnv::shared_cluster() {
        Ok(env) => env,
        Err(e) => panic!("the test control plane is not available: {e}"),
    };
    match env.client() {
        Ok(client) => KubeStore::new(client),
        Err(e) => panic!("cannot build a client for the test control plane: {e}"),
    }
}

operator_runtime_conformance::runtime_suite!(make_store);
