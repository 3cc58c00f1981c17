//! The store conformance suite on a real kube-apiserver + etcd + kube-controller-manager (the
//! shared test control plane of this test binary). Report:
//! `cargo test -p operator-runtime-kube --test conformance conformance_report -- --nocapture`.

use operator_runtime_kube::KubeStore;
use operator_runtime_kube::testenv::{self, TestEnv};

/// A store with a fresh client on the calling test's runtime. Fails the test when the control
/// plane cannot be built or started ([`control_plane`] has let the test through).
async fn make_store() -> KubeStore {
    let env = match TestEnv::shared() {
        Ok(env) => env,
        Err(e) => panic!("the test control plane is not available: {e}"),
    };
    match env.client() {
        Ok(client) => KubeStore::new(client),
        Err(e) => panic!("cannot build a client for the test control plane: {e}"),
    }
}

/// The guard of every test: false (and the test reported as not run) on a machine without a
/// control plane, unless `OPERATOR_RUNTIME_REQUIRE_CONTROL_PLANE` is set.
fn control_plane() -> bool {
    testenv::available(TestEnv::shared()).is_some()
}

operator_runtime_conformance::store_suite!(make_store, if control_plane);
