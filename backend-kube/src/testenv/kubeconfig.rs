//! The admin kubeconfig: written to disk for kubectl and kube-controller-manager, and turned
//! into a [`kube::Config`] for clients.

use std::path::Path;

use kube::config::{
    AuthInfo, Cluster, Context, KubeConfigOptions, Kubeconfig, NamedAuthInfo, NamedCluster, NamedContext,
};

/// Name of the cluster, user and context in the kubeconfig (like envtest's `envtest`).
pub(crate) const NAME: &str = "operator-runtime-testenv";

/// File paths the kubeconfig refers to.
pub(crate) struct KubeconfigFiles<'a> {
    pub(crate) server: &'a str,
    pub(crate) ca_cert: &'a Path,
    pub(crate) client_cert: &'a Path,
    pub(crate) client_key: &'a Path,
}

/// A kubeconfig with one cluster, user and context, referring to certificate files by path.
pub(crate) fn admin_kubeconfig(files: &KubeconfigFiles<'_>) -> Kubeconfig {
    let path = |p: &Path| Some(p.display().to_string());
    Kubeconfig {
        clusters: vec![NamedCluster {
            name: NAME.to_owned(),
            cluster: Some(Cluster {
                server: Some(files.server.to_owned()),
                certificate_authority: path(files.ca_cert),
                ..Cluster::default()
            }),
            ..NamedCluster::default()
        }],
        auth_infos: vec![NamedAuthInfo {
            name: NAME.to_owned(),
            auth_info: Some(AuthInfo {
                client_certificate: path(files.client_cert),
                client_key: path(files.client_key),
                ..AuthInfo::default()
            }),
            ..NamedAuthInfo::default()
        }],
        contexts: vec![NamedContext {
            name: NAME.to_owned(),
            context: Some(Context {
                cluster: NAME.to_owned(),
                user: Some(NAME.to_owned()),
                ..Context::default()
            }),
            ..NamedContext::default()
        }],
        current_context: Some(NAME.to_owned()),
        kind: Some("Config".to_owned()),
        api_version: Some("v1".to_owned()),
        ..Kubeconfig::default()
    }
}

/// A client config for the kubeconfig.
pub(crate) async fn client_config(kubeconfig: Kubeconfig) -> Result<kube::Config, kube::config::KubeconfigError> {
    kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await
}
