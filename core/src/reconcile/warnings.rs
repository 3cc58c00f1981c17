//! Warnings are not re-sent while nothing changed: a Warning event identical to one sent in
//! the previous reconcile of the same parent is skipped (its condition still says it), so a
//! parent with an invalid spec or a child write that keeps failing the same way gets one event
//! (one series), not one per resync. A warning that goes away and comes back is sent again and
//! folds into the recorder's series.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use crate::events::{Event, EventType};
use crate::model::ObjectRef;

/// Per parent: the warnings sent (or skipped as repeats) in its previous and current reconcile.
#[derive(Debug, Default)]
pub(super) struct WarningMemory {
    parents: Mutex<HashMap<ObjectRef, Rounds>>,
}

#[derive(Debug, Default)]
struct Rounds {
    previous: HashSet<Event>,
    current: HashSet<Event>,
}

impl WarningMemory {
    /// A new reconcile of `parent` starts: its current warnings become the previous ones.
    pub fn begin(&self, parent: &ObjectRef) {
        let mut parents = self.lock();
        let rounds = parents.entry(parent.clone()).or_default();
        rounds.previous = std::mem::take(&mut rounds.current);
    }

    /// Forgets `parent` (it is gone).
    pub fn forget(&self, parent: &ObjectRef) {
        self.lock().remove(parent);
    }

    /// Notes `event`; false when it is a Warning already sent in the previous reconcile of the
    /// parent it is about (do not send it again).
    pub fn should_send(&self, event: &Event) -> bool {
        if event.type_ != EventType::Warning {
            return true;
        }
        let mut parents = self.lock();
        let rounds = parents.entry(event.regarding.clone()).or_default();
        rounds.current.insert(event.clone());
        !rounds.previous.contains(event)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ObjectRef, Rounds>> {
        self.parents.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::reason;
    use crate::model::TypeRef;

    #[test]
    fn a_warning_is_sent_once_while_it_repeats_and_again_after_it_cleared() {
        let parent = ObjectRef::namespaced(TypeRef::new("example.io/v1", "Db"), "ns", "db");
        let warning = Event::warning(reason::INVALID_SPEC, "Reconcile", "invalid spec: x", parent.clone());
        let normal = Event::normal(reason::CREATED, "Create", "ConfigMap c created", parent.clone());
        let memory = WarningMemory::default();
        let mut sent = Vec::new();
        for round in [true, true, true, false, true] {
            memory.begin(&parent);
            assert!(memory.should_send(&normal));
            if round {
                sent.push(memory.should_send(&warning));
            }
        }
        assert_eq!(sent, [true, false, false, true]);
        memory.forget(&parent);
        memory.begin(&parent);
        assert!(memory.should_send(&warning));
    }
}
