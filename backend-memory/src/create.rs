//! Create (POST): the verb; the pipeline is [`crate::registry::create`].

use std::sync::Arc;

use operator_runtime_core::Object;
use operator_runtime_core::store::{StoreResult, WriteParams};

use crate::registry::{self, WriteOptions};
use crate::state::State;

/// POST (`dry_run`: validates and returns the object without storing it). A create without
/// a field manager is recorded for [`registry::UNNAMED_MANAGER`], as the server records it for
/// the client's User-Agent: an object starts with managedFields, so later updates are tracked.
pub(crate) fn create(state: &mut State, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>> {
    let kind = registry::kind_of_object(state, object)?;
    let opts = WriteOptions {
        manager: Some(params.field_manager.as_deref().unwrap_or(registry::UNNAMED_MANAGER)),
        dry_run: params.dry_run,
        subresource: None,
        keeps_empty_metadata: false,
        normalized: false,
    };
    registry::create(state, &kind, object.clone(), opts)
}
