//! Where the runner reads objects and change notifications from.

use std::future::Future;
use std::sync::Arc;

use futures::stream::BoxStream;

use crate::model::{Object, ObjectRef, TypeRef};

/// One change seen by the source.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// The object was added or modified; this is its new state.
    Applied(Arc<Object>),
    /// The object was deleted; this is its last state.
    Deleted(Arc<Object>),
}

impl Change {
    /// The object the change is about.
    pub fn object(&self) -> &Arc<Object> {
        match self {
            Self::Applied(o) | Self::Deleted(o) => o,
        }
    }
}

/// A synced, in-memory view of the watched kinds plus their change notifications: the
/// internal cache in production, anything scriptable in tests.
pub trait ObjectSource: Send + Sync + 'static {
    /// Starts delivering changes of `kinds`. The runner calls it once, before waiting for the
    /// sync, so no change after the initial list is missed.
    fn changes(&self, kinds: &[TypeRef]) -> BoxStream<'static, Change>;

    /// Completes once the initial list of every kind passed to [`ObjectSource::changes`] is in.
    fn wait_synced(&self) -> impl Future<Output = ()> + Send;

    /// The cached object, if present.
    fn get(&self, key: &ObjectRef) -> Option<Arc<Object>>;

    /// Every cached object of a kind.
    fn list(&self, type_ref: &TypeRef) -> Vec<Arc<Object>>;
}
