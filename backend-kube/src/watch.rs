//! Turning a kube-rs watch into a core [`WatchStream`].

use futures::{StreamExt, TryStreamExt};
use kube::Api;
use kube::api::{DynamicObject, WatchEvent as KubeEvent, WatchParams as KubeWatchParams};
use operator_runtime_core::store::{WatchEvent, WatchParams, WatchStream};
use operator_runtime_core::{StoreError, TypeRef};

use crate::convert::from_dynamic;
use crate::error::{from_kube, from_status};

/// The longest server-side watch kube-rs accepts (its `WatchParams::validate` limit).
const MAX_TIMEOUT_SECS: u32 = 295;

/// Opens a watch. A resourceVersion that is too old surfaces as an `Err(Expired)` item, whether
/// the server rejects the request or (the usual case) sends an ERROR event with code 410.
pub(crate) async fn open(
    api: Api<DynamicObject>,
    type_ref: TypeRef,
    params: &WatchParams,
) -> Result<WatchStream, StoreError> {
    let kube_params = KubeWatchParams {
        label_selector: params.label_selector.clone(),
        field_selector: params.field_selector.clone(),
        timeout: params.timeout.map(|t| {
            let secs = t.as_secs() + u64::from(t.subsec_nanos() > 0);
            u32::try_from(secs)
                .unwrap_or(MAX_TIMEOUT_SECS)
                .clamp(1, MAX_TIMEOUT_SECS)
        }),
        bookmarks: params.bookmarks,
        ..KubeWatchParams::default()
    };
    // An unset resourceVersion means "the current state as synthetic Added events, then
    // changes", served consistently from etcd; kube-rs sends "" for that.
    let version = params.resource_version.clone().unwrap_or_default();
    let stream = match api.watch(&kube_params, &version).await {
        Ok(stream) => stream,
        Err(e) => {
            return match from_kube(e) {
                expired @ StoreError::Expired { .. } => Ok(futures::stream::iter([Err(expired)]).boxed()),
                other => Err(other),
            };
        }
    };
    Ok(stream
        .map_err(from_kube)
        .map(move |item| item.and_then(|event| convert(event, &type_ref)))
        .boxed())
}

fn convert(event: KubeEvent<DynamicObject>, type_ref: &TypeRef) -> Result<WatchEvent, StoreError> {
    Ok(match event {
        KubeEvent::Added(o) => WatchEvent::Added(from_dynamic(o, type_ref)?),
        KubeEvent::Modified(o) => WatchEvent::Modified(from_dynamic(o, type_ref)?),
        KubeEvent::Deleted(o) => WatchEvent::Deleted(from_dynamic(o, type_ref)?),
        KubeEvent::Bookmark(b) => WatchEvent::Bookmark {
            resource_version: b.metadata.resource_version,
        },
        KubeEvent::Error(status) => return Err(from_status(&status)),
    })
}
