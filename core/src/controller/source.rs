//! Where the runner reads objects and change notifications from: the internal
//! [`Cache`](crate::cache::Cache) in production, anything scriptable in tests.

mod cache;

use std::future::Future;
use std::sync::Arc;

use futures::stream::BoxStream;

use crate::model::{Object, ObjectRef, TypeRef};

/// One change seen by the source.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// The object was added or modified.
    Applied {
        /// Its new state.
        object: Arc<Object>,
        /// The state the source held before, if any (a child that changed owner wakes both
        /// its old and its new parent).
        previous: Option<Arc<Object>>,
    },
    /// The object was deleted; this is its last state.
    Deleted(Arc<Object>),
    /// Changes were lost (the subscriber fell behind): every parent must be looked at again.
    Lagged,
}

impl Change {
    /// An added or modified object without a known previous state.
    pub fn applied(object: Arc<Object>) -> Self {
        Self::Applied { object, previous: None }
    }
}

/// A synced, in-memory view of the watched kinds plus their change notifications.
pub trait ObjectSource: Send + Sync + 'static {
    /// Why the source could not start watching.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Starts watching `kinds` and delivering their changes. The runner calls it once, before
    /// waiting for the sync, so no change after the initial list is missed.
    ///
    /// # Errors
    /// When the source cannot watch a kind.
    fn changes(&self, kinds: &[TypeRef]) -> Result<BoxStream<'static, Change>, Self::Error>;

    /// Completes once the initial list of every kind passed to [`ObjectSource::changes`] is in.
    fn wait_synced(&self) -> impl Future<Output = ()> + Send;

    /// The cached object, if present.
    fn get(&self, key: &ObjectRef) -> Option<Arc<Object>>;

    /// Every cached object of a kind.
    fn list(&self, type_ref: &TypeRef) -> Vec<Arc<Object>>;
}
