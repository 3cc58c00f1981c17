//! Status conditions: Ready, Progressing and Degraded, with a stable `lastTransitionTime`.
//!
//! # Guarantees
//! - [`set_condition`] changes `lastTransitionTime` only when the condition's status flips, so
//!   a reconcile that recomputes the same conditions produces byte-identical status and the
//!   driver can skip the status write.
//! - Conditions are kept sorted by type, so their order never causes a spurious write.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

use crate::clock::Timestamp;

/// The parent is fully rolled out and every workload is ready.
pub const READY: &str = "Ready";
/// The runtime is creating or updating children, or waiting for a rollout group.
pub const PROGRESSING: &str = "Progressing";
/// Something needs a human: an invalid spec, a forbidden immutable change, a failing write, a
/// rollout group that does not become ready.
pub const DEGRADED: &str = "Degraded";
/// The parent is paused (pause annotation or the operator's own flag): no child is written.
/// Present only on parents that were paused at least once.
pub const PAUSED: &str = "Paused";

/// The desired state of one condition, without timestamps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConditionState {
    /// Condition type (`Ready`, ...).
    pub type_: String,
    /// True or False.
    pub status: bool,
    /// CamelCase reason.
    pub reason: String,
    /// Human-readable message.
    pub message: String,
}

impl ConditionState {
    /// A condition state.
    pub fn new(type_: &str, status: bool, reason: &str, message: impl Into<String>) -> Self {
        Self {
            type_: type_.to_owned(),
            status,
            reason: reason.to_owned(),
            message: message.into(),
        }
    }
}

/// Sets `state` in `conditions` (sorted by type). `lastTransitionTime` becomes `now` only if
/// the condition is new or its status flipped. Returns true if anything changed.
pub fn set_condition(
    conditions: &mut Vec<Condition>,
    state: &ConditionState,
    observed_generation: Option<i64>,
    now: Timestamp,
) -> bool {
    let status = if state.status { "True" } else { "False" };
    match conditions.iter_mut().find(|c| c.type_ == state.type_) {
        Some(c) => {
            let before = c.clone();
            if c.status != status {
                c.status = status.to_owned();
                c.last_transition_time = Time(now);
            }
            c.reason = state.reason.clone();
            c.message = state.message.clone();
            c.observed_generation = observed_generation;
            *c != before
        }
        None => {
            conditions.push(Condition {
                type_: state.type_.clone(),
                status: status.to_owned(),
                reason: state.reason.clone(),
                message: state.message.clone(),
                observed_generation,
                last_transition_time: Time(now),
            });
            conditions.sort_by(|a, b| a.type_.cmp(&b.type_));
            true
        }
    }
}

/// Reads a condition's status (`Some(true)` for "True").
pub fn condition_status(conditions: &[Condition], type_: &str) -> Option<bool> {
    conditions.iter().find(|c| c.type_ == type_).map(|c| c.status == "True")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(s).unwrap()
    }

    #[test]
    fn transition_time_moves_only_on_flip() {
        let mut c = Vec::new();
        assert!(set_condition(
            &mut c,
            &ConditionState::new(READY, false, "Progressing", "wait"),
            Some(1),
            at(10)
        ));
        assert!(!set_condition(
            &mut c,
            &ConditionState::new(READY, false, "Progressing", "wait"),
            Some(1),
            at(20)
        ));
        assert_eq!(c[0].last_transition_time, Time(at(10)));
        assert!(set_condition(
            &mut c,
            &ConditionState::new(READY, false, "Waiting", "group b"),
            Some(1),
            at(30)
        ));
        assert_eq!(
            c[0].last_transition_time,
            Time(at(10)),
            "message change is not a transition"
        );
        assert!(set_condition(
            &mut c,
            &ConditionState::new(READY, true, "Ready", "all ready"),
            Some(2),
            at(40)
        ));
        assert_eq!(c[0].last_transition_time, Time(at(40)));
        assert_eq!(condition_status(&c, READY), Some(true));
    }

    #[test]
    fn conditions_stay_sorted() {
        let mut c = Vec::new();
        set_condition(&mut c, &ConditionState::new(READY, true, "Ready", ""), None, at(1));
        set_condition(
            &mut c,
            &ConditionState::new(DEGRADED, false, "Healthy", ""),
            None,
            at(1),
        );
        set_condition(
            &mut c,
            &ConditionState::new(PROGRESSING, false, "Stable", ""),
            None,
            at(1),
        );
        let types: Vec<_> = c.iter().map(|c| c.type_.as_str()).collect();
        assert_eq!(types, vec!["Degraded", "Progressing", "Ready"]);
    }
}
