//! The user actor: a schedule of steps drawn from the seed before the run starts (so a step
//! can be dropped when shrinking without reshuffling the others), each resolved against the
//! world when it is taken: create, edit, pause, resume and delete parents; hand-edit, delete
//! and orphan children; create a bystander object; crash an operator replica.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use operator_runtime_core::store::{DeleteParams, ListParams, WriteParams};
use operator_runtime_core::{Object, ObjectStore, ObjectStoreExt, TypeRef};
use rand::{Rng, RngCore};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use super::replica::RunShared;
use super::world::World;

/// One thing the user does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum UserAction {
    Create { parent: usize },
    Edit { parent: usize, edit: usize, arg: u64 },
    Pause { parent: usize },
    Resume { parent: usize },
    Delete { parent: usize },
    EditChild { pick: u64, arg: u64 },
    DeleteChild { pick: u64 },
    OrphanChild { pick: u64 },
    Bystander { arg: u64 },
    Crash { replica: usize },
    Partition { replica: usize, millis: u64 },
}

/// One step of the schedule: wait `gap`, then act.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PlannedStep {
    pub(crate) gap: Duration,
    pub(crate) action: UserAction,
}

impl fmt::Display for UserAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

/// Draws the schedule of a run.
pub(crate) fn plan(rng: &mut ChaCha8Rng, world: &World) -> Vec<PlannedStep> {
    let parents = world.parents.len().max(1);
    let max_gap = u64::try_from(world.max_gap.as_millis()).unwrap_or(u64::MAX).max(1);
    let mut steps = Vec::with_capacity(world.steps + parents);
    // Every parent is created first, at a random moment of the first seconds.
    for parent in 0..world.parents.len() {
        steps.push(PlannedStep {
            gap: Duration::from_millis(rng.next_u64() % max_gap),
            action: UserAction::Create { parent },
        });
    }
    for _ in 0..world.steps {
        let gap = Duration::from_millis(rng.next_u64() % max_gap);
        let parent = (rng.next_u64() % parents as u64) as usize;
        let (pick, arg) = (rng.next_u64(), rng.next_u64());
        let roll: f64 = rng.random();
        let crash_roll: f64 = rng.random();
        let partition_roll: f64 = rng.random();
        let replica = (pick % world.replicas as u64) as usize;
        let action = if crash_roll < world.faults.crash {
            UserAction::Crash { replica }
        } else if partition_roll < world.faults.partition {
            let longest = u64::try_from(world.faults.max_partition.as_millis())
                .unwrap_or(u64::MAX)
                .max(4);
            UserAction::Partition {
                replica,
                millis: longest / 4 + arg % (longest - longest / 4),
            }
        } else {
            let edits = world.edits.len();
            match roll {
                r if r < 0.12 => UserAction::Create { parent },
                r if r < 0.45 && edits > 0 => UserAction::Edit {
                    parent,
                    edit: (pick % edits as u64) as usize,
                    arg,
                },
                r if r < 0.53 => UserAction::Pause { parent },
                r if r < 0.61 => UserAction::Resume { parent },
                r if r < 0.68 => UserAction::Delete { parent },
                r if r < 0.80 && world.hand_edits => UserAction::EditChild { pick, arg },
                r if r < 0.90 && world.hand_edits => UserAction::DeleteChild { pick },
                r if r < 0.93 && world.hand_edits && world.orphans => UserAction::OrphanChild { pick },
                r if r < 0.97 => UserAction::Bystander { arg },
                _ => UserAction::Create { parent },
            }
        };
        steps.push(PlannedStep { gap, action });
    }
    steps
}

/// The user's view of the world: the raw store (no faults: the user's own writes are not
/// under test), with the operator's kinds.
pub(crate) struct User<'a> {
    pub(crate) shared: &'a Arc<RunShared>,
    pub(crate) world: &'a World,
    pub(crate) owned: &'a [TypeRef],
}

impl User<'_> {
    fn parent_key(&self, index: usize) -> Option<operator_runtime_core::ObjectRef> {
        self.world.parents.get(index).map(Object::object_ref)
    }

    async fn live_parent(&self, index: usize) -> Option<Arc<Object>> {
        let key = self.parent_key(index)?;
        self.shared.raw.get_opt(&key).await.ok().flatten()
    }

    /// Children of every parent, in a stable order.
    async fn children(&self) -> Vec<Arc<Object>> {
        let mut children = Vec::new();
        for kind in self.owned {
            if let Ok(list) = self
                .shared
                .raw
                .list_all(kind, &ListParams::in_namespace(self.world.namespace.clone()))
                .await
            {
                children.extend(
                    list.items
                        .into_iter()
                        .filter(|o| o.controller_owner().is_some() && !o.is_terminating()),
                );
            }
        }
        children
    }

    async fn pick_child(&self, pick: u64) -> Option<Arc<Object>> {
        let children = self.children().await;
        if children.is_empty() {
            return None;
        }
        let index = (pick % children.len() as u64) as usize;
        children.into_iter().nth(index)
    }

    async fn replace(&self, object: &Object, what: &str) -> String {
        match self.shared.raw.replace(object, &WriteParams::default()).await {
            Ok(o) => format!("{what} (rv {})", o.resource_version().unwrap_or("-")),
            Err(e) => format!("{what}: refused ({})", e.code()),
        }
    }

    async fn set_pause(&self, parent: usize, paused: bool) -> String {
        let Some(live) = self.live_parent(parent).await else {
            return format!("{} parent {parent}: absent", if paused { "pause" } else { "resume" });
        };
        let mut updated = (*live).clone();
        let annotations = updated.metadata.annotations.get_or_insert_with(Default::default);
        if paused {
            annotations.insert(self.shared.pause_annotation.clone(), "true".into());
        } else if annotations.remove(&self.shared.pause_annotation).is_none() {
            return format!("resume {}: was not paused", live.object_ref());
        }
        let verb = if paused { "pause" } else { "resume" };
        self.replace(&updated, &format!("{verb} {}", live.object_ref())).await
    }

    /// Takes one step; returns what it did, for the trace.
    pub(crate) async fn perform(&self, action: &UserAction) -> String {
        match action {
            UserAction::Create { parent } => {
                let Some(template) = self.world.parents.get(*parent) else {
                    return "create: no parent template".into();
                };
                match self.shared.raw.create(template, &WriteParams::default()).await {
                    Ok(o) => format!("create {} (uid {})", o.object_ref(), o.uid().unwrap_or("-")),
                    Err(e) => format!("create {}: refused ({})", template.object_ref(), e.code()),
                }
            }
            UserAction::Edit { parent, edit, arg } => {
                let Some(live) = self.live_parent(*parent).await else {
                    return format!("edit parent {parent}: absent");
                };
                let Some(edit) = self.world.edits.get(*edit) else {
                    return "edit: no such edit".into();
                };
                let mut updated = (*live).clone();
                if let Some(spec) = updated.body.get_mut("spec") {
                    (edit.apply)(spec, *arg);
                }
                self.replace(&updated, &format!("edit {} ({})", live.object_ref(), edit.name))
                    .await
            }
            UserAction::Pause { parent } => self.set_pause(*parent, true).await,
            UserAction::Resume { parent } => self.set_pause(*parent, false).await,
            UserAction::Delete { parent } => {
                let Some(key) = self.parent_key(*parent) else {
                    return "delete: no parent".into();
                };
                match self.shared.raw.delete(&key, &DeleteParams::default()).await {
                    Ok(_) => format!("delete {key}"),
                    Err(e) => format!("delete {key}: refused ({})", e.code()),
                }
            }
            UserAction::EditChild { pick, arg } => {
                let Some(child) = self.pick_child(*pick).await else {
                    return "hand-edit a child: none".into();
                };
                let mut updated = (*child).clone();
                let what = hand_edit(&mut updated, *arg);
                self.replace(&updated, &format!("hand-edit {} ({what})", child.object_ref()))
                    .await
            }
            UserAction::DeleteChild { pick } => {
                let Some(child) = self.pick_child(*pick).await else {
                    return "delete a child: none".into();
                };
                match self
                    .shared
                    .raw
                    .delete(&child.object_ref(), &DeleteParams::default())
                    .await
                {
                    Ok(_) => format!("delete child {}", child.object_ref()),
                    Err(e) => format!("delete child {}: refused ({})", child.object_ref(), e.code()),
                }
            }
            UserAction::OrphanChild { pick } => {
                let Some(child) = self.pick_child(*pick).await else {
                    return "orphan a child: none".into();
                };
                let mut updated = (*child).clone();
                updated.metadata.owner_references = None;
                self.replace(
                    &updated,
                    &format!("orphan {} (ownerReferences removed)", child.object_ref()),
                )
                .await
            }
            UserAction::Bystander { arg } => {
                let name = format!("notes-{}", arg % 3);
                let cm = Object::new(&TypeRef::new("v1", "ConfigMap"), Some(&self.world.namespace), &name)
                    .with("data", json!({"note": format!("written by hand {arg}")}));
                match self.shared.raw.create(&cm, &WriteParams::default()).await {
                    Ok(_) => format!("create bystander ConfigMap {name}"),
                    Err(e) => format!("create bystander ConfigMap {name}: refused ({})", e.code()),
                }
            }
            UserAction::Crash { replica } => {
                if let Some(slot) = self.shared.crash_slots.get(*replica) {
                    self.shared.crashes.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    slot.notify_one();
                }
                format!("crash op-{replica}")
            }
            UserAction::Partition { replica, millis } => {
                let heal = tokio::time::Instant::now() + Duration::from_millis(*millis);
                self.shared.partition(*replica, Some(heal));
                format!("partition op-{replica} from the API server for {millis} ms")
            }
        }
    }
}

/// A hand edit of a child: a data value, the replica count, or an annotation.
fn hand_edit(object: &mut Object, arg: u64) -> String {
    if let Some(Value::Object(data)) = object.body.get_mut("data")
        && let Some(key) = data.keys().nth((arg % data.len().max(1) as u64) as usize).cloned()
    {
        data.insert(key.clone(), json!(format!("hand-edited-{}", arg % 100)));
        return format!("data.{key}");
    }
    if let Some(spec) = object.body.get_mut("spec")
        && spec.get("replicas").is_some()
    {
        spec["replicas"] = json!(arg % 5);
        return format!("spec.replicas={}", arg % 5);
    }
    object
        .metadata
        .annotations
        .get_or_insert_with(Default::default)
        .insert("example.com/touched".into(), format!("{}", arg % 100));
    "annotation example.com/touched".into()
}
