//! Owned kinds the backend refuses to serve (Forbidden by RBAC, or NotFound: the kind is not
//! installed): the parent says so in its Degraded condition, and one Warning event names the
//! kind and the refused verb. The kinds that can be served keep being reconciled.

use super::{DynamicOperator, Reconciler};
use crate::cache::Unservable;
use crate::events::{Event, reason};
use crate::model::Object;
use crate::status::{ConditionState, DEGRADED, READY};

impl<O: DynamicOperator> Reconciler<O> {
    /// The owned kinds whose last list or watch the backend refused.
    pub(super) fn unservable_owned(&self) -> Vec<Unservable> {
        let owned = self.operator.ownership().owned_kinds();
        self.cache
            .unservable()
            .into_iter()
            .filter(|u| owned.iter().any(|k| k.type_ref == u.type_ref))
            .collect()
    }

    /// Marks the parent Degraded (and not Ready) for each unservable kind; records one Warning
    /// event per kind, when the parent's current Degraded condition does not name it yet.
    pub(super) async fn note_unservable(
        &self,
        parent: &Object,
        kinds: &[Unservable],
        conditions: &mut [ConditionState],
    ) {
        if kinds.is_empty() {
            return;
        }
        for kind in kinds {
            let text = kind.to_string();
            if !super::surface::degraded_mentions(parent, &text) {
                let note = format!("{text}; children of this kind are neither read nor written");
                self.emit(Event::warning(
                    reason::KIND_UNAVAILABLE,
                    "Watch",
                    note,
                    parent.object_ref(),
                ))
                .await;
            }
        }
        let text = kinds.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
        for c in conditions.iter_mut() {
            if c.type_ == DEGRADED {
                if c.status {
                    c.message = format!("{text}; {}", c.message);
                } else {
                    *c = ConditionState::new(DEGRADED, true, "KindUnavailable", text.clone());
                }
            } else if c.type_ == READY {
                if c.status {
                    *c = ConditionState::new(READY, false, "Degraded", text.clone());
                } else {
                    c.message = format!("{text}; {}", c.message);
                }
            }
        }
    }
}
