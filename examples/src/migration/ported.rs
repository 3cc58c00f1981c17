//! After: the same Greeting operator on operator-runtime. The finalizer, the owner reference,
//! the ownership labels, the conditions and observedGeneration, change detection (no write
//! when nothing changed), drift repair, events and leader election come from the runtime.

use k8s_openapi::api::core::v1::ConfigMap;
use kube::{Client, CustomResource};
use operator_runtime_core::builder::{DesiredSet, Ownership};
use operator_runtime_core::controller::RunSummary;
use operator_runtime_core::reconcile::{Context, Operator, OperatorError};
use operator_runtime_core::status::RuntimeStatus;
use operator_runtime_kube::{Runtime, RuntimeError};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A greeting rendered into a ConfigMap.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "example.com",
    version = "v1",
    kind = "Greeting",
    namespaced,
    status = "GreetingStatus"
)]
pub struct GreetingSpec {
    /// Text to render.
    pub message: String,
}

/// Observed state: what the runtime writes (Ready is one of its conditions).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GreetingStatus {
    /// Conditions, observedGeneration, groups.
    #[serde(flatten)]
    pub runtime: RuntimeStatus,
}

/// The Greeting operator.
pub struct GreetingOperator(Ownership);

impl Operator for GreetingOperator {
    type Parent = Greeting;

    fn ownership(&self) -> &Ownership {
        &self.0
    }

    fn desired(&self, greeting: &Greeting, _: &Context<'_>, set: &mut DesiredSet) -> Result<(), OperatorError> {
        let mut cm = ConfigMap::default();
        cm.metadata.name = Some(format!(
            "{}-greeting",
            greeting.metadata.name.as_deref().unwrap_or_default()
        ));
        cm.data = Some([("message".to_owned(), greeting.spec.message.clone())].into());
        set.add("config", cm)?;
        Ok(())
    }
}

/// Runs the operator until `shutdown` resolves, as one candidate of leader election.
///
/// # Errors
/// [`RuntimeError`] when it cannot start.
pub async fn run(
    client: Client,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<RunSummary, RuntimeError> {
    Runtime::kube(client)
        .operator(GreetingOperator(
            Ownership::new("greeting-controller").owns::<ConfigMap>(),
        ))
        .run(shutdown)
        .await
}
