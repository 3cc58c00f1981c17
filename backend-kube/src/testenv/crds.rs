//! Installing CustomResourceDefinitions and waiting until they can be used.

use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{ApiResource, DynamicObject, Patch, PatchParams, WatchEvent, WatchParams};
use kube::runtime::wait::{await_condition, conditions};
use kube::{Api, Client};

use super::{POLL_INTERVAL, TestEnv, TestEnvError};

/// Field manager for CRDs installed by the test environment.
const FIELD_MANAGER: &str = "operator-runtime-testenv";
/// How long a CRD may take to be Established and served (envtest waits 10 s).
const CRD_TIMEOUT: Duration = Duration::from_secs(30);

impl TestEnv {
    /// Creates or updates (server-side apply, forced) each CRD, then waits until each is
    /// Established, every served version lists it in discovery (Established can come before
    /// discovery serves the resource; envtest only checks discovery), and the API server's
    /// watch cache accepts watches for it.
    ///
    /// # Errors
    /// [`TestEnvError::Crd`] naming the CRD that failed or timed out.
    pub async fn install_crds(&self, client: &Client, crds: &[CustomResourceDefinition]) -> Result<(), TestEnvError> {
        let api = Api::<CustomResourceDefinition>::all(client.clone());
        for crd in crds {
            let name = crd.metadata.name.clone().unwrap_or_default();
            let err = |message: String| TestEnvError::Crd {
                name: name.clone(),
                message,
            };
            let mut body = crd.clone();
            body.metadata.managed_fields = None;
            body.metadata.resource_version = None;
            body.status = None;
            api.patch(&name, &PatchParams::apply(FIELD_MANAGER).force(), &Patch::Apply(&body))
                .await
                .map_err(|e| err(format!("apply failed: {e}")))?;
        }
        for crd in crds {
            let name = crd.metadata.name.clone().unwrap_or_default();
            let err = |message: String| TestEnvError::Crd {
                name: name.clone(),
                message,
            };
            tokio::time::timeout(
                CRD_TIMEOUT,
                await_condition(api.clone(), &name, conditions::is_crd_established()),
            )
            .await
            .map_err(|_| err(format!("not Established after {CRD_TIMEOUT:?}")))?
            .map_err(|e| err(format!("watching for Established: {e}")))?;
            wait_until_served(client, crd).await.map_err(err)?;
            wait_until_watchable(client, crd).await.map_err(err)?;
        }
        Ok(())
    }
}

/// Polls until a watch from the API server's watch cache is accepted: right after a CRD is
/// served, watches are refused for a moment with 429 "storage is (re)initializing".
async fn wait_until_watchable(client: &Client, crd: &CustomResourceDefinition) -> Result<(), String> {
    let start = Instant::now();
    for version in crd.spec.versions.iter().filter(|v| v.served) {
        let resource = ApiResource {
            group: crd.spec.group.clone(),
            version: version.name.clone(),
            api_version: format!("{}/{}", crd.spec.group, version.name),
            kind: crd.spec.names.kind.clone(),
            plural: crd.spec.names.plural.clone(),
        };
        let api = Api::<DynamicObject>::all_with(client.clone(), &resource);
        loop {
            let refused = match api.watch(&WatchParams::default().timeout(1), "0").await {
                Ok(stream) => {
                    // The cache answers a ready watch with objects or silence; an unready one
                    // with an ERROR event.
                    let first = tokio::time::timeout(Duration::from_secs(2), stream.boxed().next()).await;
                    matches!(first, Ok(Some(Err(_) | Ok(WatchEvent::Error(_)))))
                }
                Err(_) => true,
            };
            if !refused {
                break;
            }
            if start.elapsed() >= CRD_TIMEOUT {
                return Err(format!("{} not watchable after {CRD_TIMEOUT:?}", resource.api_version));
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }
    Ok(())
}

/// Polls discovery until every served version of the CRD lists its plural.
async fn wait_until_served(client: &Client, crd: &CustomResourceDefinition) -> Result<(), String> {
    let group = &crd.spec.group;
    let plural = &crd.spec.names.plural;
    let start = Instant::now();
    for version in crd.spec.versions.iter().filter(|v| v.served) {
        let group_version = format!("{group}/{}", version.name);
        loop {
            let listed = match client.list_api_group_resources(&group_version).await {
                Ok(list) => list.resources.iter().any(|r| &r.name == plural),
                Err(_) => false,
            };
            if listed {
                break;
            }
            if start.elapsed() >= CRD_TIMEOUT {
                return Err(format!(
                    "{plural} not served by discovery at {group_version} after {CRD_TIMEOUT:?}"
                ));
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }
    Ok(())
}
