//! [`KubeEventRecorder`]: core's [`EventRecorder`] writing events.k8s.io/v1 Events through
//! kube-runtime's [`Recorder`], which folds repeats into an Event series on the server.

use async_trait::async_trait;
use k8s_openapi::api::core::v1::ObjectReference;
use kube::Client;
use kube::runtime::events::{Event as KubeEvent, EventType as KubeEventType, Recorder, Reporter};
use operator_runtime_core::events::{Event, EventRecorder, EventType};
use operator_runtime_core::{ObjectRef, StoreError};

use crate::error::from_kube;

/// Writes core [`Event`]s as events.k8s.io/v1 Events.
#[derive(Clone)]
pub struct KubeEventRecorder {
    recorder: Recorder,
}

impl std::fmt::Debug for KubeEventRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeEventRecorder").finish_non_exhaustive()
    }
}

impl KubeEventRecorder {
    /// A recorder reporting as `controller` (`reportingController`, e.g.
    /// `example.com/datacluster-operator`) from `instance` (`reportingInstance`, e.g. the pod
    /// name; None uses the controller name).
    pub fn new(client: Client, controller: impl Into<String>, instance: Option<String>) -> Self {
        let reporter = Reporter {
            controller: controller.into(),
            instance,
        };
        Self {
            recorder: Recorder::new(client, reporter),
        }
    }
}

/// The `ObjectReference` an Event points at.
fn reference(r: &ObjectRef) -> ObjectReference {
    ObjectReference {
        api_version: Some(r.type_ref.api_version.clone()),
        kind: Some(r.type_ref.kind.clone()),
        name: Some(r.name.clone()),
        namespace: r.namespace.clone(),
        ..ObjectReference::default()
    }
}

#[async_trait]
impl EventRecorder for KubeEventRecorder {
    async fn record(&self, event: Event) -> Result<(), StoreError> {
        let kube_event = KubeEvent {
            type_: match event.type_ {
                EventType::Normal => KubeEventType::Normal,
                EventType::Warning => KubeEventType::Warning,
            },
            reason: event.reason,
            note: Some(event.note),
            action: event.action,
            secondary: event.related.as_ref().map(reference),
        };
        self.recorder
            .publish(&kube_event, &reference(&event.regarding))
            .await
            .map_err(from_kube)
    }
}
