//! Events: what the runtime tells people about a parent (created a child, repaired drift,
//! failed a write), as events.k8s.io/v1 Events.
//!
//! # Expected flow
//! The reconcile driver builds an [`Event`] per action (reason a CamelCase constant from
//! [`reason`], a human note naming the child and the changed paths, `regarding` the parent,
//! `related` the child) and hands it to an [`EventRecorder`]. Nothing is recorded when nothing
//! changed.
//!
//! # Guarantees
//! - Reason and note are never swapped: the reason is a constant, the note is text.
//! - Repeats of the same (regarding, reason, note) fold into one series with a count, both in
//!   [`MemoryRecorder`] and in [`StoreEventRecorder`], so a failing reconcile cannot flood the
//!   API server with events.
//!
//! # Errors
//! Recording is best effort for the reconcile (an event write failure never fails a
//! reconcile), but [`EventRecorder::record`] reports it so callers can count it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::json;

use crate::clock::Clock;
use crate::error::StoreError;
use crate::model::{Object, ObjectRef, TypeRef};
use crate::store::{ObjectStore, WriteParams};

/// Event reasons used by the runtime (CamelCase constants, as Kubernetes expects).
pub mod reason {
    /// A child object was created.
    pub const CREATED: &str = "Created";
    /// A child object was updated because its desired state changed.
    pub const UPDATED: &str = "Updated";
    /// A child object was updated because someone edited a field the operator owns.
    pub const DRIFT_REPAIRED: &str = "DriftRepaired";
    /// A child object was deleted and created again (an immutable field changed).
    pub const RECREATED: &str = "Recreated";
    /// An orphaned child object was deleted.
    pub const DELETED: &str = "Deleted";
    /// A write to a child failed.
    pub const WRITE_FAILED: &str = "WriteFailed";
    /// An immutable field changed and the policy forbids recreating the object.
    pub const IMMUTABLE_FIELD_CHANGED: &str = "ImmutableFieldChanged";
    /// The operator's desired state could not be computed (invalid spec).
    pub const INVALID_SPEC: &str = "InvalidSpec";
    /// The operator's status hook failed; the runtime's own status fields were still written.
    pub const STATUS_FAILED: &str = "StatusFailed";
    /// A kind could not be listed for orphan cleanup (forbidden).
    pub const LIST_FORBIDDEN: &str = "ListForbidden";
    /// A desired child exists but another owner controls it (or nobody, and adoption is off).
    pub const OWNED_BY_OTHER: &str = "OwnedByOther";
    /// The parent is paused: no child is written.
    pub const PAUSED: &str = "Paused";
    /// An owned kind cannot be listed or watched (forbidden, or not installed).
    pub const KIND_UNAVAILABLE: &str = "KindUnavailable";
    /// The parent's pause was lifted: pending child writes are applied.
    pub const RESUMED: &str = "Resumed";
    /// Cleanup ran and the finalizer was removed.
    pub const CLEANED_UP: &str = "CleanedUp";
    /// A rollout group is waiting for the previous one.
    pub const WAITING: &str = "Waiting";
}

/// Normal or Warning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventType {
    /// Something expected happened.
    Normal,
    /// Something needs attention.
    Warning,
}

impl EventType {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "Normal",
            Self::Warning => "Warning",
        }
    }
}

/// One event, before it is written.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Event {
    /// Normal or Warning.
    pub type_: EventType,
    /// CamelCase reason (see [`reason`]).
    pub reason: String,
    /// What the runtime did (`Create`, `Update`, `Delete`, `Reconcile`).
    pub action: String,
    /// Human-readable text: the child's kind/name and the changed paths.
    pub note: String,
    /// The parent the event is about.
    pub regarding: ObjectRef,
    /// The child involved, if any.
    pub related: Option<ObjectRef>,
}

impl Event {
    /// A Normal event.
    pub fn normal(reason: &str, action: &str, note: impl Into<String>, regarding: ObjectRef) -> Self {
        Self {
            type_: EventType::Normal,
            reason: reason.to_owned(),
            action: action.to_owned(),
            note: note.into(),
            regarding,
            related: None,
        }
    }

    /// A Warning event.
    pub fn warning(reason: &str, action: &str, note: impl Into<String>, regarding: ObjectRef) -> Self {
        Self {
            type_: EventType::Warning,
            ..Self::normal(reason, action, note, regarding)
        }
    }

    /// Sets the related object.
    pub fn related_to(mut self, related: ObjectRef) -> Self {
        self.related = Some(related);
        self
    }
}

/// Receives events.
#[async_trait]
pub trait EventRecorder: Send + Sync {
    /// Records one event (repeats fold into a series).
    async fn record(&self, event: Event) -> Result<(), StoreError>;
}

/// An event and how many times it was recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedEvent {
    /// The event.
    pub event: Event,
    /// Occurrences (1 for a single event; more for a series).
    pub count: u32,
}

/// Keeps events in memory, in order of first occurrence, folding repeats. For tests and the
/// example's log.
#[derive(Clone, Debug, Default)]
pub struct MemoryRecorder {
    inner: Arc<Mutex<Recorded>>,
}

/// The events in order, and where each distinct event sits (repeats fold in O(1)).
#[derive(Debug, Default)]
struct Recorded {
    events: Vec<RecordedEvent>,
    index: std::collections::HashMap<Event, usize>,
}

impl MemoryRecorder {
    /// An empty recorder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every event so far.
    pub fn events(&self) -> Vec<RecordedEvent> {
        self.lock().events.clone()
    }

    /// Removes and returns every event so far.
    pub fn take(&self) -> Vec<RecordedEvent> {
        let mut recorded = self.lock();
        recorded.index.clear();
        std::mem::take(&mut recorded.events)
    }

    /// The reasons of every event so far, in order.
    pub fn reasons(&self) -> Vec<String> {
        self.lock().events.iter().map(|e| e.event.reason.clone()).collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Recorded> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait]
impl EventRecorder for MemoryRecorder {
    async fn record(&self, event: Event) -> Result<(), StoreError> {
        let mut recorded = self.lock();
        let Recorded { events, index } = &mut *recorded;
        match index.get(&event).and_then(|&at| events.get_mut(at)) {
            Some(existing) => existing.count += 1,
            None => {
                index.insert(event.clone(), events.len());
                events.push(RecordedEvent { event, count: 1 });
            }
        }
        Ok(())
    }
}

/// Writes events.k8s.io/v1 Events through any [`ObjectStore`], so events work (and are tested)
/// on every backend. Repeats of one (regarding, reason, note) update the first Event's
/// `series` instead of creating new objects.
pub struct StoreEventRecorder<S> {
    store: S,
    clock: Arc<dyn Clock>,
    controller: String,
    instance: String,
    series: Mutex<BTreeMap<Event, (String, u32)>>,
}

impl<S: ObjectStore> StoreEventRecorder<S> {
    /// A recorder writing as `controller` (reportingController) / `instance` (reportingInstance).
    pub fn new(store: S, clock: Arc<dyn Clock>, controller: impl Into<String>, instance: impl Into<String>) -> Self {
        Self {
            store,
            clock,
            controller: controller.into(),
            instance: instance.into(),
            series: Mutex::new(BTreeMap::new()),
        }
    }

    fn event_object(&self, event: &Event, name: &str, count: u32) -> Object {
        let now = self.clock.now();
        let micro = k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime(now);
        let time = serde_json::to_value(&micro).unwrap_or(serde_json::Value::Null);
        let namespace = event
            .regarding
            .namespace
            .clone()
            .unwrap_or_else(|| "default".to_owned());
        let mut obj = Object::new(&TypeRef::new("events.k8s.io/v1", "Event"), Some(&namespace), name)
            .with("eventTime", time.clone())
            .with("reportingController", json!(self.controller))
            .with("reportingInstance", json!(self.instance))
            .with("action", json!(event.action))
            .with("reason", json!(event.reason))
            .with("note", json!(truncate(&event.note, 1024)))
            .with("type", json!(event.type_.as_str()))
            .with("regarding", object_reference(&event.regarding));
        if let Some(related) = &event.related {
            obj = obj.with("related", object_reference(related));
        }
        if count > 1 {
            obj = obj.with("series", json!({"count": count, "lastObservedTime": time}));
        }
        obj
    }
}

#[async_trait]
impl<S: ObjectStore> EventRecorder for StoreEventRecorder<S> {
    async fn record(&self, event: Event) -> Result<(), StoreError> {
        let existing = {
            let mut series = self.series.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            series.get_mut(&event).map(|(name, count)| {
                *count += 1;
                (name.clone(), *count)
            })
        };
        match existing {
            Some((name, count)) => {
                let obj = self.event_object(&event, &name, count);
                let mut current = (*self.store.get(&obj.object_ref()).await?).clone();
                current.body.insert("series".into(), obj.body["series"].clone());
                self.store.replace(&current, &WriteParams::default()).await?;
            }
            None => {
                let mut obj = self.event_object(&event, "", 1);
                obj.metadata.name = None;
                // The server validates the prefix as a name once a trailing '-' is masked: a trailing
                // '.' (kube-runtime's `name.hex` style) is Invalid as a generateName.
                obj.metadata.generate_name = Some(format!("{}-", truncate(&event.regarding.name, 200)));
                let created = self.store.create(&obj, &WriteParams::default()).await?;
                let mut series = self.series.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                series.insert(event, (created.name().to_owned(), 1));
            }
        }
        Ok(())
    }
}

fn object_reference(r: &ObjectRef) -> serde_json::Value {
    let mut v = json!({"apiVersion": r.type_ref.api_version, "kind": r.type_ref.kind, "name": r.name});
    if let Some(ns) = &r.namespace {
        v["namespace"] = json!(ns);
    }
    v
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parent() -> ObjectRef {
        ObjectRef::namespaced(TypeRef::new("example.io/v1", "DataCluster"), "ns", "dc")
    }

    #[tokio::test]
    async fn memory_recorder_folds_repeats_into_a_series() {
        let rec = MemoryRecorder::new();
        let e = Event::warning(
            reason::WRITE_FAILED,
            "Update",
            "StatefulSet dc-broker: conflict",
            parent(),
        );
        rec.record(e.clone()).await.unwrap();
        rec.record(e.clone()).await.unwrap();
        rec.record(Event::normal(
            reason::CREATED,
            "Create",
            "ConfigMap dc-broker",
            parent(),
        ))
        .await
        .unwrap();
        let events = rec.events();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].count, 2);
        assert_eq!(events[0].event.reason, "WriteFailed");
        assert_eq!(events[0].event.note, "StatefulSet dc-broker: conflict");
        assert_eq!(rec.reasons(), vec!["WriteFailed", "Created"]);
    }

    #[test]
    fn truncate_respects_char_boundaries() {
        assert_eq!(truncate("héllo", 2), "hé");
        assert_eq!(truncate("hi", 10), "hi");
    }
}
