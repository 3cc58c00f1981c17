//! The smallest useful operator: a `WebApp` runs a Deployment and a Service, and restarts its
//! pods when the user's ConfigMap or Secret it names changes. It owns two kinds, reads two
//! others through the context, and lets the runtime do everything else.

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    ConfigMap, Container, EnvFromSource, PodSpec, PodTemplateSpec, Secret, Service, ServicePort, ServiceSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use kube::CustomResource;
use operator_runtime_core::builder::{DesiredSet, Ownership, config_hash_of};
use operator_runtime_core::reconcile::{Context, Operator, OperatorError};
use operator_runtime_core::status::RuntimeStatus;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A web application: an image, a replica count, and the user's ConfigMap and Secret.
#[derive(CustomResource, Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[kube(
    group = "example.io",
    version = "v1",
    kind = "WebApp",
    namespaced,
    status = "WebAppStatus"
)]
pub struct WebAppSpec {
    /// Container image.
    pub image: String,
    /// Number of pods.
    pub replicas: i32,
    /// ConfigMap whose keys become environment variables; a change restarts the pods.
    pub config: String,
    /// Secret whose keys become environment variables; a change restarts the pods.
    pub secret: String,
}

/// What the runtime writes.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
pub struct WebAppStatus {
    /// Conditions, observedGeneration, groups.
    #[serde(flatten)]
    pub runtime: RuntimeStatus,
}

/// Pod template annotation carrying the hash of the ConfigMap and the Secret.
pub const RESTART_ANNOTATION: &str = "example.io/config-hash";

/// The WebApp operator.
pub struct WebAppOperator(Ownership);

impl Default for WebAppOperator {
    fn default() -> Self {
        Self(
            Ownership::new("webapp")
                .owns::<Deployment>()
                .owns::<Service>()
                .reads::<ConfigMap>()
                .reads::<Secret>(),
        )
    }
}

impl Operator for WebAppOperator {
    type Parent = WebApp;

    fn ownership(&self) -> &Ownership {
        &self.0
    }

    fn desired(&self, app: &WebApp, ctx: &Context<'_>, set: &mut DesiredSet) -> Result<(), OperatorError> {
        let name = app.metadata.name.clone().unwrap_or_default();
        let config: ConfigMap = ctx
            .get(&app.spec.config)?
            .ok_or_else(|| OperatorError::spec("spec.config", "ConfigMap not found"))?;
        let secret: Secret = ctx
            .get(&app.spec.secret)?
            .ok_or_else(|| OperatorError::spec("spec.secret", "Secret not found"))?;
        let hash = format!(
            "{}-{}",
            &config_hash_of(&config)?[..16],
            &config_hash_of(&secret)?[..16]
        );
        let labels = std::collections::BTreeMap::from([("app".to_owned(), name.clone())]);
        let meta = |annotations| ObjectMeta {
            name: Some(name.clone()),
            labels: Some(labels.clone()),
            annotations,
            ..ObjectMeta::default()
        };
        let env_from = vec![
            EnvFromSource {
                config_map_ref: Some(k8s_openapi::api::core::v1::ConfigMapEnvSource {
                    name: app.spec.config.clone(),
                    ..Default::default()
                }),
                ..Default::default()
            },
            EnvFromSource {
                secret_ref: Some(k8s_openapi::api::core::v1::SecretEnvSource {
                    name: app.spec.secret.clone(),
                    ..Default::default()
                }),
                ..Default::default()
            },
        ];
        set.add(
            "app",
            Deployment {
                metadata: meta(None),
                spec: DeploymentSpec {
                    replicas: Some(app.spec.replicas),
                    selector: LabelSelector {
                        match_labels: Some(labels.clone()),
                        ..Default::default()
                    },
                    template: PodTemplateSpec {
                        metadata: Some(meta(Some([(RESTART_ANNOTATION.to_owned(), hash)].into()))),
                        spec: Some(PodSpec {
                            containers: vec![Container {
                                name: "app".into(),
                                image: Some(app.spec.image.clone()),
                                env_from: Some(env_from),
                                ..Default::default()
                            }],
                            ..Default::default()
                        }),
                    },
                    ..Default::default()
                },
                ..Default::default()
            },
        )?;
        set.add(
            "app",
            Service {
                metadata: meta(None),
                spec: Some(ServiceSpec {
                    selector: Some(labels.clone()),
                    ports: Some(vec![ServicePort {
                        port: 80,
                        ..Default::default()
                    }]),
                    ..Default::default()
                }),
                ..Default::default()
            },
        )?;
        Ok(())
    }
}
