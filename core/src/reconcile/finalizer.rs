//! The parent's finalizer: added before the first child exists, removed only after cleanup
//! succeeded; both with the parent's resourceVersion as a precondition.

use std::sync::Arc;

use super::{DynamicOperator, ReconcileError, ReconcileReport, Reconciler};
use crate::error::StoreError;
use crate::events::{Event, reason};
use crate::model::Object;
use crate::store::{DeleteParams, Preconditions, WriteParams};

/// The finalizer the API server adds to an object deleted with propagation policy Orphan; the
/// garbage collector removes it once the dependents' ownerReferences are gone.
const ORPHAN_FINALIZER: &str = "orphan";

impl<O: DynamicOperator> Reconciler<O> {
    /// Adds the finalizer if missing; returns the parent as stored afterwards.
    pub(super) async fn ensure_finalizer(
        &self,
        parent: Arc<Object>,
        report: &mut ReconcileReport,
    ) -> Result<Arc<Object>, ReconcileError> {
        if parent.has_finalizer(&self.config.finalizer) || parent.is_terminating() {
            return Ok(parent);
        }
        let mut updated = (*parent).clone();
        updated
            .metadata
            .finalizers
            .get_or_insert_with(Vec::new)
            .push(self.config.finalizer.clone());
        let written = self.replace_parent(&updated).await?;
        report.finalizer_written = true;
        Ok(written)
    }

    /// Runs cleanup, deletes the children, removes the finalizer.
    pub(super) async fn finalize(&self, parent: &Object, report: &mut ReconcileReport) -> Result<(), ReconcileError> {
        if !parent.has_finalizer(&self.config.finalizer) {
            return Ok(());
        }
        if let Err(e) = self.operator.cleanup(parent).await {
            let note = format!("cleanup failed: {e}");
            self.emit(Event::warning(
                reason::WRITE_FAILED,
                "Cleanup",
                note,
                parent.object_ref(),
            ))
            .await;
            return Err(ReconcileError::Cleanup(e.to_string()));
        }
        // `kubectl delete --cascade=orphan` (propagationPolicy Orphan) puts the `orphan`
        // finalizer on the parent: the user wants the children kept, and the garbage collector
        // strips their ownerReferences. Deleting them here would race it and defeat the policy.
        let orphaning = parent.has_finalizer(ORPHAN_FINALIZER);
        if !orphaning {
            self.delete_children(parent, report).await?;
        }
        let mut updated = parent.clone();
        if let Some(f) = updated.metadata.finalizers.as_mut() {
            f.retain(|x| x != &self.config.finalizer);
        }
        self.replace_parent(&updated).await?;
        report.finalizer_written = true;
        let note = if orphaning {
            format!(
                "children kept (orphan propagation), finalizer {} removed",
                self.config.finalizer
            )
        } else {
            format!("cleanup done, finalizer {} removed", self.config.finalizer)
        };
        self.emit(Event::normal(reason::CLEANED_UP, "Delete", note, parent.object_ref()))
            .await;
        Ok(())
    }

    /// Deletes every child the cache shows as controlled by `parent`, each with its uid and
    /// cached resourceVersion as preconditions: a child that changed since the cache saw it
    /// (the garbage collector orphaned it after the `orphan` finalizer went, someone recreated
    /// it) is not deleted; the Conflict requeues the parent, whose next reconcile reads the
    /// child's current state.
    async fn delete_children(&self, parent: &Object, report: &mut ReconcileReport) -> Result<(), ReconcileError> {
        let uid = parent.uid().unwrap_or_default();
        for child in self.cache.owned_by(uid) {
            if child.is_terminating() {
                continue;
            }
            let params = DeleteParams {
                preconditions: Some(Preconditions {
                    uid: child.uid().map(str::to_owned),
                    resource_version: child.resource_version().map(str::to_owned),
                }),
                ..DeleteParams::default()
            };
            match self.store.delete(&child.object_ref(), &params).await {
                Ok(_) | Err(StoreError::NotFound { .. }) => report.child_writes += 1,
                Err(e @ StoreError::Conflict { .. }) => return Err(ReconcileError::Retryable(e)),
                Err(e) if e.is_retryable() => return Err(ReconcileError::Retryable(e)),
                Err(e) => {
                    let note = format!("{}: delete failed: {e}", child.object_ref());
                    let event = Event::warning(reason::WRITE_FAILED, "Delete", note, parent.object_ref())
                        .related_to(child.object_ref());
                    self.emit(event).await;
                    return Err(ReconcileError::Retryable(e));
                }
            }
        }
        Ok(())
    }

    /// Replaces the parent's metadata with its resourceVersion as precondition. A Conflict
    /// means the parent changed: the runner requeues and the next reconcile sees the new one.
    async fn replace_parent(&self, updated: &Object) -> Result<Arc<Object>, ReconcileError> {
        let written = self
            .store
            .replace(updated, &WriteParams::default())
            .await
            .map_err(ReconcileError::Retryable)?;
        self.note_own_write(&written);
        Ok(written)
    }
}
