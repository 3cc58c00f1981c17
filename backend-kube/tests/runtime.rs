//! The runtime scenarios (reconcile driver end to end) on a working test cluster (kube-apiserver,
//! etcd, the workload controllers, scheduler and fake nodes), through `KubeStore` and server-side apply.

use operator_runtime_kube::KubeStore;
use operator_runtime_kube::testenv::{self, TestEnv};

/// A store with a fresh client on the calling test's runtime. Fails the test when the control
/// plane cannot be built or started ([`control_plane`] has let the test through).
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

/// The guard of every scenario: false (and the test reported as not run) on a machine without
/// a control plane, unless `OPERATOR_RUNTIME_REQUIRE_CONTROL_PLANE` is set.
fn control_plane() -> bool {
    testenv::available(TestEnv::shared_cluster()).is_some()
}

operator_runtime_conformance::runtime_suite!(make_store, if control_plane);

/// Item 7 with real RBAC: the runtime runs as a user (impersonated by the admin client) whose
/// ClusterRole grants everything the Widget operator needs except `list` and `watch` on
/// Deployments; the API server itself answers 403. Granting them afterwards lets the
/// Deployments through.
#[test]
fn runtime_forbidden_kind_with_real_rbac() {
    if !control_plane() {
        return;
    }
    use std::sync::Arc;

    use operator_runtime_core::store::WriteParams;
    use operator_runtime_core::{Object, ObjectStore};
    use serde_json::json;

    const USER: &str = "widget-operator-limited";
    let role = |deployment_verbs: &[&str]| {
        Object::from_value(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": USER},
            "rules": [
                {"apiGroups": ["conformance.operator-runtime.io"], "resources": ["widgets", "widgets/status"], "verbs": ["*"]},
                {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["*"]},
                {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": deployment_verbs}
            ]
        }))
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("tokio runtime: {e}"));
    let result = runtime.block_on(async {
        let env = TestEnv::shared_cluster().map_err(|e| format!("the test control plane is not available: {e}"))?;
        let admin: Arc<dyn ObjectStore> = Arc::new(KubeStore::new(env.client().map_err(|e| e.to_string())?));
        let limited = role(&["get", "create", "update", "patch", "delete"]).map_err(|e| e.to_string())?;
        let binding = Object::from_value(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": USER},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": USER},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": USER}]
        }))
        .map_err(|e| e.to_string())?;
        let created = admin
            .create(&limited, &WriteParams::default())
            .await
            .map_err(|e| format!("ClusterRole: {e}"))?;
        admin
            .create(&binding, &WriteParams::default())
            .await
            .map_err(|e| format!("ClusterRoleBinding: {e}"))?;
        let mut config = env.config();
        config.auth_info.impersonate = Some(USER.to_owned());
        let client = kube::Client::try_from(config).map_err(|e| e.to_string())?;
        let as_user: Arc<dyn ObjectStore> = Arc::new(KubeStore::new(client));
        let allow = {
            let admin = Arc::clone(&admin);
            async move {
                let mut granted = role(&["get", "list", "watch", "create", "update", "patch", "delete"])
                    .map_err(|e| e.to_string())?;
                granted.metadata.resource_version = created.resource_version().map(str::to_owned);
                admin
                    .replace(&granted, &WriteParams::default())
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("granting list/watch: {e}"))
            }
        };
        let run = operator_runtime_conformance::runtime::safety::forbidden_deployments_then_allowed(
            Arc::clone(&admin),
            as_user,
            "runtime-forbidden-rbac",
            allow,
        );
        tokio::time::timeout(std::time::Duration::from_secs(180), run)
            .await
            .map_err(|_| "did not finish within 180 s".to_owned())?
    });
    match result {
        Ok(outcome) => eprintln!("runtime forbidden_kind_with_real_rbac: {outcome:?}"),
        Err(why) => panic!("runtime forbidden_kind_with_real_rbac FAILED: {why}"),
    }
}
