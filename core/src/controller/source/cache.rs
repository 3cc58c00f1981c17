//! The internal cache as the runner's source.

use std::sync::Arc;

use futures::StreamExt;
use futures::stream::BoxStream;
use tokio::sync::broadcast::error::RecvError;

use super::{Change, ObjectSource};
use crate::cache::{Cache, CacheError, ChangeKind, TrackSpec};
use crate::model::{Object, ObjectRef, TypeRef};

impl ObjectSource for Cache {
    type Error = CacheError;

    /// Tracks every kind (all namespaces) unless it is already tracked, with any scope.
    fn changes(&self, kinds: &[TypeRef]) -> Result<BoxStream<'static, Change>, CacheError> {
        // Subscribe first: nothing the new watch loops announce can be missed.
        let receiver = self.subscribe();
        for kind in kinds {
            if !self.is_tracked(kind) {
                self.track(TrackSpec::new(kind.clone()))?;
            }
        }
        let stream = futures::stream::unfold(receiver, |mut receiver| async move {
            let change = match receiver.recv().await {
                Ok(event) => match event.kind {
                    ChangeKind::Added | ChangeKind::Modified => Change::Applied {
                        object: event.object,
                        previous: event.previous,
                    },
                    ChangeKind::Deleted => Change::Deleted(event.object),
                },
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "controller fell behind the cache's notifications");
                    Change::Lagged
                }
                Err(RecvError::Closed) => return None,
            };
            Some((change, receiver))
        });
        Ok(stream.boxed())
    }

    /// Completes once every kind synced or was refused by the backend (Forbidden, NotFound):
    /// a forbidden or missing owned kind must not stop the parents from being reconciled
    /// (the reconciler reports it on each parent, see [`Cache::unservable`]).
    fn wait_synced(&self) -> impl Future<Output = ()> + Send {
        let cache = self.clone();
        async move {
            if let Err(error) = cache.wait_all_settled().await {
                tracing::error!(%error, "cache will never sync");
                std::future::pending::<()>().await;
            }
            for kind in cache.unservable() {
                tracing::warn!(%kind, "starting without this kind");
            }
        }
    }

    fn get(&self, key: &ObjectRef) -> Option<Arc<Object>> {
        Cache::get(self, key)
    }

    fn list(&self, type_ref: &TypeRef) -> Vec<Arc<Object>> {
        let namespace = self
            .tracked()
            .into_iter()
            .find(|spec| spec.type_ref() == type_ref)
            .and_then(|spec| spec.namespace().map(str::to_owned));
        Cache::list(self, type_ref, namespace.as_deref(), None).unwrap_or_default()
    }
}
