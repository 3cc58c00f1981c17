//! DELETE: the verb; the pipeline is [`crate::registry::delete`].

use operator_runtime_core::ObjectRef;
use operator_runtime_core::store::{DeleteOutcome, DeleteParams, StoreResult};

use crate::registry;
use crate::state::State;

/// DELETE.
pub(crate) fn delete(state: &mut State, key: &ObjectRef, params: &DeleteParams) -> StoreResult<DeleteOutcome> {
    registry::delete(state, key, params)
}
