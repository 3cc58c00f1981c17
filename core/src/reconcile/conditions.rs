//! Status computed from the plan, the write outcome and workload readiness: conditions Ready,
//! Progressing and Degraded, observedGeneration and per-group readiness.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use foldhash::fast::FixedState;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::OperatorError;
use super::write::WriteOutcome;
use crate::builder::DesiredSet;
use crate::clock::Timestamp;
use crate::model::{Identity, Object};
use crate::plan::{Action, BlockReason, Plan};
use crate::rollout::{Readiness, readiness};
use crate::status::{ConditionState, DEGRADED, PROGRESSING, READY, set_condition};

/// Readiness of one group of children, as written to `status.groups`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct GroupStatus {
    /// Every workload of the group is ready.
    pub ready: bool,
    /// Why not, when not.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

/// Conditions and group readiness computed for one reconcile.
pub(super) struct Computed {
    pub conditions: Vec<ConditionState>,
    pub groups: BTreeMap<String, GroupStatus>,
    pub all_ready: bool,
}

impl Computed {
    pub fn summary(&self) -> Vec<(String, bool, String, String)> {
        self.conditions
            .iter()
            .map(|c| (c.type_.clone(), c.status, c.reason.clone(), c.message.clone()))
            .collect()
    }

    /// The full status value: `extra` fields, then conditions (transition times kept from the
    /// parent's current status when unchanged), observedGeneration and groups.
    pub fn to_status(&self, parent: &Object, extra: Map<String, Value>, now: Timestamp) -> Value {
        let current = parent.status();
        let mut conditions: Vec<Condition> = current
            .and_then(|s| s.get("conditions"))
            .and_then(|c| Vec::<Condition>::deserialize(c).ok())
            .unwrap_or_default();
        let generation = parent.metadata.generation;
        for state in &self.conditions {
            set_condition(&mut conditions, state, generation, now);
        }
        let mut status = extra;
        status.insert(
            "conditions".into(),
            serde_json::to_value(&conditions).unwrap_or(Value::Null),
        );
        if let Some(g) = generation {
            status.insert("observedGeneration".into(), Value::from(g));
        }
        if !self.groups.is_empty() {
            status.insert(
                "groups".into(),
                serde_json::to_value(&self.groups).unwrap_or(Value::Null),
            );
        }
        Value::Object(status)
    }
}

/// Readiness of the desired children as observed at the start of a reconcile, each child's
/// workload readiness read once: the planner's group gates and the conditions both use it.
pub(super) struct Assessment {
    /// Per group: ready when every desired workload of it exists and is ready.
    groups: BTreeMap<String, GroupStatus>,
    /// Per group, its first failed workload: (group, message).
    failed: Vec<(String, String)>,
}

impl Assessment {
    /// Readiness of each group, for the planner.
    pub fn group_readiness(&self) -> BTreeMap<String, bool> {
        self.groups.iter().map(|(g, s)| (g.clone(), s.ready)).collect()
    }
}

/// Assesses every desired child against its observed object.
pub(super) fn assess(desired: &DesiredSet, observed: &[Arc<Object>]) -> Assessment {
    let mut groups = BTreeMap::new();
    let mut failed = Vec::new();
    let mut by_identity: HashMap<Identity<'_>, &Arc<Object>, FixedState> = HashMap::default();
    for live in observed {
        by_identity.entry(Identity::of(live)).or_insert(live);
    }
    for group in desired.groups() {
        let mut status = GroupStatus {
            ready: true,
            message: String::new(),
        };
        let mut first_failure = None;
        for child in desired.children_of(&group.name) {
            let verdict = match by_identity.get(&Identity::of(&child.object)) {
                None => Readiness::Progressing {
                    reason: "not created yet".into(),
                },
                Some(live) => readiness(live),
            };
            let (reason, is_failure) = match verdict {
                Readiness::Ready => continue,
                Readiness::Progressing { reason } => (reason, false),
                Readiness::Failed { reason } => (reason, true),
            };
            let message = format!("{} {}: {reason}", child.object.kind, child.object.name());
            if is_failure && first_failure.is_none() {
                first_failure = Some(format!("group {}: {message}", group.name));
            }
            if status.ready {
                status = GroupStatus { ready: false, message };
            }
        }
        if let Some(message) = first_failure {
            failed.push((group.name.clone(), message));
        }
        groups.insert(group.name.clone(), status);
    }
    Assessment { groups, failed }
}

/// Conditions after a reconcile that planned (and maybe wrote), from the children's
/// [`assess`]ment at its start.
pub(super) fn compute(plan: &Plan, assessment: Assessment, outcome: &WriteOutcome, paused: bool) -> Computed {
    let Assessment { groups, failed } = assessment;
    let mut degraded: Vec<String> = Vec::new();
    for item in plan.items.iter() {
        if let Action::Blocked { reason } = &item.action {
            degraded.push(match reason {
                BlockReason::ImmutableChange { .. } => {
                    format!("{} {}: immutable field changed", item.key.type_ref.kind, item.key.name)
                }
                BlockReason::OwnedByOther { .. } | BlockReason::NotOwned => {
                    format!("{} {}: owned by someone else", item.key.type_ref.kind, item.key.name)
                }
                BlockReason::KindNotListed => {
                    format!("{} {}: kind cannot be listed", item.key.type_ref.kind, item.key.name)
                }
            });
        }
    }
    for f in &outcome.failures {
        degraded.push(format!("{} {}: {}", f.key.type_ref.kind, f.key.name, f.error));
    }
    let halted_at = plan.waiting_on();
    for (group, msg) in &failed {
        degraded.push(if halted_at == Some(group.as_str()) {
            format!("rollout halted: {msg}")
        } else {
            msg.clone()
        });
    }

    let pending = plan
        .items
        .iter()
        .any(|i| i.action.is_write() || matches!(i.action, Action::Wait { .. }));
    let all_ready = groups.values().all(|g| g.ready);
    let progressing = if paused && pending {
        ConditionState::new(
            PROGRESSING,
            false,
            "Paused",
            "paused: changes are pending and not applied",
        )
    } else if outcome.writes > 0 || pending {
        let msg = match plan.waiting_on() {
            Some(g) => format!("waiting for group {g} to become ready"),
            None => format!("{} change(s) applied", outcome.writes),
        };
        ConditionState::new(PROGRESSING, true, "Reconciling", msg)
    } else if !all_ready {
        let msg = groups
            .iter()
            .find(|(_, s)| !s.ready)
            .map(|(g, s)| format!("group {g}: {}", s.message))
            .unwrap_or_default();
        ConditionState::new(PROGRESSING, true, "RollingOut", msg)
    } else {
        ConditionState::new(PROGRESSING, false, "Stable", "all children are up to date")
    };
    let degraded_state = if degraded.is_empty() {
        ConditionState::new(DEGRADED, false, "Healthy", "")
    } else {
        ConditionState::new(DEGRADED, true, "ReconcileFailed", degraded.join("; "))
    };
    let ready = if degraded.is_empty() && !pending && all_ready && outcome.writes == 0 {
        ConditionState::new(READY, true, "Ready", "all groups are ready")
    } else if !degraded.is_empty() {
        ConditionState::new(READY, false, "Degraded", degraded.join("; "))
    } else {
        ConditionState::new(READY, false, "Progressing", progressing.message.clone())
    };
    Computed {
        conditions: vec![degraded_state, progressing, ready],
        groups,
        all_ready,
    }
}

/// Conditions for an invalid spec: Degraded, not Ready, nothing progressing.
pub(super) fn invalid_spec(error: &OperatorError) -> Computed {
    let msg = format!("invalid spec: {error}");
    Computed {
        conditions: vec![
            ConditionState::new(DEGRADED, true, "InvalidSpec", msg.clone()),
            ConditionState::new(
                PROGRESSING,
                false,
                "InvalidSpec",
                "no change is applied until the spec is fixed",
            ),
            ConditionState::new(READY, false, "InvalidSpec", msg),
        ],
        groups: BTreeMap::new(),
        all_ready: false,
    }
}
