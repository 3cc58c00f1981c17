//! Pause: a paused parent gets no child write; a `Paused` condition says so (with how many
//! writes are pending), and one event marks each transition (paused, resumed).
//!
//! The transition is read from the parent's own status (the `Paused` condition it carries), not
//! from memory, so a restarted operator neither repeats the event nor misses the resume.

use super::{DynamicOperator, Reconciler};
use crate::events::{Event, reason};
use crate::model::Object;
use crate::plan::Plan;
use crate::status::{ConditionState, PAUSED};

impl<O: DynamicOperator> Reconciler<O> {
    /// Whether `parent` is paused, by the pause annotation or by the operator's own flag.
    pub(super) fn is_paused(&self, parent: &Object) -> bool {
        parent.annotation(&self.config.pause_annotation) == Some("true") || self.operator.is_paused(parent)
    }

    /// Adds the `Paused` condition (True while paused; False once resumed, only on parents
    /// that were paused before) and records the Paused / Resumed event on a transition.
    pub(super) async fn note_pause(
        &self,
        parent: &Object,
        paused: bool,
        plan: &Plan,
        conditions: &mut Vec<ConditionState>,
    ) {
        let was_paused = paused_condition(parent);
        if paused {
            let pending = plan.items.iter().filter(|i| i.action.is_write()).count();
            let message = format!("paused: {pending} child write(s) pending");
            if was_paused != Some(true) {
                let note = format!("{message}; nothing is written until the pause is lifted");
                self.emit(Event::normal(reason::PAUSED, "Pause", note, parent.object_ref()))
                    .await;
            }
            conditions.push(ConditionState::new(PAUSED, true, "Paused", message));
        } else if let Some(was) = was_paused {
            if was {
                let note = format!("resumed: {} child write(s) applied", plan.writes().count());
                self.emit(Event::normal(reason::RESUMED, "Resume", note, parent.object_ref()))
                    .await;
            }
            conditions.push(ConditionState::new(PAUSED, false, "Resumed", "not paused"));
        }
    }
}

/// The status of the parent's `Paused` condition, if it has one.
fn paused_condition(parent: &Object) -> Option<bool> {
    parent
        .status()?
        .get("conditions")?
        .as_array()?
        .iter()
        .find(|c| c["type"] == PAUSED)
        .map(|c| c["status"] == "True")
}
