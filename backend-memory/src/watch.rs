//! Watch: bounded change history, selector-aware fan-out, and the event stream handed to
//! clients.
//!
//! Every committed write becomes one [`Change`] in a bounded history (the etcd compaction
//! window) and is pushed, under the store lock, into each matching watcher's unbounded
//! channel, so a write never waits for a slow reader and a watcher never misses an event that
//! happened after it registered. Events share the stored `Arc<Object>`: fan-out copies no
//! object unless a selector turns a Modified into a Deleted (which carries the previous content
//! with the new resourceVersion, as the cacher does).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use futures::StreamExt;
use operator_runtime_core::store::{StoreResult, WatchEvent, WatchStream};
use operator_runtime_core::{Object, StoreError};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::time::Instant;

use crate::selectors::Selector;
use crate::state::State;
use crate::strategy::served_as;

/// How long a watch with bookmarks stays quiet before the server sends a Bookmark.
pub(crate) const BOOKMARK_INTERVAL: Duration = Duration::from_secs(60);

/// What a committed write did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChangeType {
    Added,
    Modified,
    Deleted,
}

/// One committed write, as kept in the history.
#[derive(Clone, Debug)]
pub(crate) struct Change {
    /// The revision of the write.
    pub revision: u64,
    /// Table slot of the kind.
    pub slot: usize,
    /// Kind of change.
    pub change: ChangeType,
    /// The new state (for Deleted: the last state, carrying the deletion revision).
    pub object: Arc<Object>,
    /// The state before the write (None for Added).
    pub prev: Option<Arc<Object>>,
}

/// A registered watcher.
pub(crate) struct Watcher {
    slot: usize,
    api_version: String,
    namespace: Option<String>,
    selector: Selector,
    tx: UnboundedSender<StoreResult<WatchEvent>>,
}

impl Watcher {
    /// A watcher of one kind (served as `api_version`), optionally one namespace, with a selector.
    pub fn new(
        slot: usize,
        api_version: String,
        namespace: Option<String>,
        selector: Selector,
        tx: UnboundedSender<StoreResult<WatchEvent>>,
    ) -> Self {
        Self {
            slot,
            api_version,
            namespace,
            selector,
            tx,
        }
    }

    /// Whether an object of this watcher's kind is in scope (namespace and selector).
    pub fn selects(&self, object: &Object) -> bool {
        self.namespace
            .as_deref()
            .is_none_or(|ns| object.namespace().unwrap_or("") == ns)
            && self.selector.matches(object)
    }

    /// Presents a stored object at the version this watcher asked for.
    pub fn present(&self, object: &Arc<Object>) -> Arc<Object> {
        served_as(object, &self.api_version)
    }

    /// Translates a change into the event this watcher sees, if any (`convertToWatchEvent`).
    fn translate(&self, change: &Change) -> Option<WatchEvent> {
        if change.slot != self.slot {
            return None;
        }
        let now = self.selects(&change.object);
        match change.change {
            ChangeType::Added => now.then(|| WatchEvent::Added(self.present(&change.object))),
            ChangeType::Deleted => now.then(|| WatchEvent::Deleted(self.present(&change.object))),
            ChangeType::Modified => {
                let before = change.prev.as_ref().is_some_and(|p| self.selects(p));
                match (before, now) {
                    (true, true) => Some(WatchEvent::Modified(self.present(&change.object))),
                    (false, true) => Some(WatchEvent::Added(self.present(&change.object))),
                    (true, false) => {
                        let prev = change.prev.as_ref()?;
                        let mut gone = Object::clone(prev);
                        gone.metadata.resource_version = Some(change.revision.to_string());
                        Some(WatchEvent::Deleted(self.present(&Arc::new(gone))))
                    }
                    (false, false) => None,
                }
            }
        }
    }

    /// Sends an event; false when the receiver is gone.
    pub fn send(&self, event: StoreResult<WatchEvent>) -> bool {
        self.tx.send(event).is_ok()
    }

    /// Sends the event for a change, if this watcher sees it; false when the receiver is gone.
    pub fn deliver(&self, change: &Change) -> bool {
        match self.translate(change) {
            Some(event) => self.send(Ok(event)),
            None => !self.tx.is_closed(),
        }
    }
}

/// The change history and the registered watchers.
pub(crate) struct WatchHub {
    /// Each change with its approximate size (0 when no byte bound is set).
    history: VecDeque<(Change, usize)>,
    limit: usize,
    /// The byte bound of the history, if any, and the approximate bytes held now.
    byte_limit: Option<usize>,
    bytes: usize,
    /// The highest revision no longer in the history (0 while nothing was evicted).
    compacted: u64,
    watchers: Vec<Watcher>,
}

impl WatchHub {
    /// A hub keeping at most `limit` changes and, with `byte_limit`, changes of at most that
    /// many approximate bytes (always the last one).
    pub fn new(limit: usize, byte_limit: Option<usize>) -> Self {
        Self {
            history: VecDeque::new(),
            limit: limit.max(1),
            byte_limit,
            bytes: 0,
            compacted: 0,
            watchers: Vec::new(),
        }
    }

    /// Records a change and fans it out to every watcher.
    pub fn publish(&mut self, change: Change) {
        if !self.watchers.is_empty() {
            self.watchers.retain(|w| w.deliver(&change));
        }
        let size = if self.byte_limit.is_some() {
            crate::size::approx_heap_bytes(&change.object)
        } else {
            0
        };
        self.bytes += size;
        self.history.push_back((change, size));
        let over_bytes = |hub: &Self| hub.byte_limit.is_some_and(|max| hub.bytes > max) && hub.history.len() > 1;
        while self.history.len() > self.limit || over_bytes(self) {
            if let Some((old, size)) = self.history.pop_front() {
                self.compacted = old.revision;
                self.bytes -= size;
            }
        }
    }

    /// Drops all but the last `keep` changes (at least one is kept), as a compaction does.
    pub fn compact(&mut self, keep: usize) {
        while self.history.len() > keep.max(1) {
            if let Some((old, size)) = self.history.pop_front() {
                self.compacted = old.revision;
                self.bytes -= size;
            }
        }
        self.history.shrink_to_fit();
    }

    /// The highest revision that is no longer replayable.
    pub fn compacted(&self) -> u64 {
        self.compacted
    }

    /// Changes after `revision`, oldest first (the caller checked `compacted`).
    pub fn since(&self, revision: u64) -> impl Iterator<Item = &Change> {
        let start = self.history.partition_point(|(c, _)| c.revision <= revision);
        self.history.range(start..).map(|(c, _)| c)
    }

    /// Registers a watcher that has already received its initial events.
    pub fn register(&mut self, watcher: Watcher) {
        self.watchers.push(watcher);
    }

    /// Number of live watchers (for tests and diagnostics).
    pub fn watcher_count(&self) -> usize {
        self.watchers.iter().filter(|w| !w.tx.is_closed()).count()
    }
}

/// Per-stream state of [`into_stream`].
struct StreamState {
    rx: UnboundedReceiver<StoreResult<WatchEvent>>,
    deadline: Option<Instant>,
    bookmarks: bool,
    store: Weak<Mutex<State>>,
}

/// The current revision, read under the lock so that every event up to it is already queued.
fn revision_now(store: &Weak<Mutex<State>>) -> Option<u64> {
    let store = store.upgrade()?;
    let state = store.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    Some(state.revision)
}

/// Turns a watcher's receiver into the client's stream: events in order, a Bookmark after each
/// quiet [`BOOKMARK_INTERVAL`] when asked, and the end of the stream at the timeout.
pub(crate) fn into_stream(
    rx: UnboundedReceiver<StoreResult<WatchEvent>>,
    timeout: Option<Duration>,
    bookmarks: bool,
    store: Weak<Mutex<State>>,
) -> WatchStream {
    let state = StreamState {
        rx,
        deadline: timeout.map(|t| Instant::now() + t),
        bookmarks,
        store,
    };
    futures::stream::unfold(state, |mut s| async move {
        let wake = match (s.deadline, s.bookmarks) {
            (Some(d), true) => Some(d.min(Instant::now() + BOOKMARK_INTERVAL)),
            (Some(d), false) => Some(d),
            (None, true) => Some(Instant::now() + BOOKMARK_INTERVAL),
            (None, false) => None,
        };
        let next = match wake {
            Some(at) => match tokio::time::timeout_at(at, s.rx.recv()).await {
                Ok(item) => item,
                Err(_elapsed) => {
                    if s.deadline.is_some_and(|d| Instant::now() >= d) {
                        return None;
                    }
                    // Quiet period: report progress, unless an event raced in.
                    let revision = revision_now(&s.store)?;
                    match s.rx.try_recv() {
                        Ok(item) => Some(item),
                        Err(_) => {
                            let bookmark = WatchEvent::Bookmark {
                                resource_version: revision.to_string(),
                            };
                            return Some((Ok(bookmark), s));
                        }
                    }
                }
            },
            None => s.rx.recv().await,
        };
        match next {
            Some(Err(e)) => {
                // An error ends the watch after it is delivered.
                s.rx.close();
                Some((Err(e), s))
            }
            Some(item) => Some((item, s)),
            None => None,
        }
    })
    .boxed()
}

/// The 410 a too-old start revision gets.
pub(crate) fn too_old(requested: u64, oldest: u64) -> StoreError {
    StoreError::expired(format!("too old resource version: {requested} ({oldest})"))
}

/// Registers a watch: checks the start revision, queues the initial events (synthetic Added
/// for every selected object, or the history after the start revision), then registers the
/// watcher, all under the store lock so nothing falls between the initial events and live ones.
pub(crate) fn start(
    state: &mut State,
    type_ref: &operator_runtime_core::TypeRef,
    params: &operator_runtime_core::store::WatchParams,
    tx: UnboundedSender<StoreResult<WatchEvent>>,
) -> StoreResult<()> {
    let kind = state
        .kinds
        .get(type_ref)
        .cloned()
        .ok_or_else(|| crate::errors::unknown_kind(type_ref))?;
    let selector = Selector::parse(
        params.label_selector.as_deref(),
        params.field_selector.as_deref(),
        &kind.strategy.field_labels,
    )?;
    let namespace = params
        .namespace
        .clone()
        .filter(|ns| kind.info.namespaced && !ns.is_empty());
    let watcher = Watcher::new(kind.slot, type_ref.api_version.clone(), namespace, selector, tx);
    let start = match params.resource_version.as_deref() {
        None | Some("") | Some("0") => None,
        Some(rv) => Some(
            rv.parse::<u64>()
                .map_err(|_| StoreError::bad_request(format!("invalid resource version: {rv:?}")))?,
        ),
    };
    match start {
        None => {
            if let Some(table) = state.table(kind.slot) {
                for names in table.values() {
                    for object in names.values().filter(|o| watcher.selects(o)) {
                        watcher.send(Ok(WatchEvent::Added(watcher.present(object))));
                    }
                }
            }
        }
        Some(rv) => {
            let oldest = state.hub.compacted().max(kind.served_since);
            if rv < oldest {
                watcher.send(Err(too_old(rv, oldest + 1)));
                return Ok(());
            }
            for change in state.hub.since(rv) {
                watcher.deliver(change);
            }
        }
    }
    if params.bookmarks {
        watcher.send(Ok(WatchEvent::Bookmark {
            resource_version: state.revision.to_string(),
        }));
    }
    state.hub.register(watcher);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use operator_runtime_core::TypeRef;

    fn change(revision: u64, bytes: usize) -> Change {
        let object = Object::new(&TypeRef::new("v1", "ConfigMap"), Some("ns"), "a")
            .with("data", serde_json::json!({"k": "x".repeat(bytes)}));
        Change {
            revision,
            slot: 0,
            change: ChangeType::Modified,
            object: Arc::new(object),
            prev: None,
        }
    }

    #[test]
    fn the_byte_bound_evicts_old_changes_and_keeps_the_last() {
        let mut hub = WatchHub::new(100, Some(12_000));
        for revision in 1..=10 {
            hub.publish(change(revision, 3_000));
        }
        // About 3.6 KB each (3 KB of data and the fixed share): three fit under 12 KB, the
        // rest are compacted away.
        assert_eq!(hub.since(0).count(), 3);
        assert_eq!(hub.compacted(), 7);
        assert!(hub.bytes <= 12_000, "{}", hub.bytes);
        // One change over the bound on its own is still kept.
        hub.publish(change(11, 50_000));
        assert_eq!(hub.since(0).map(|c| c.revision).collect::<Vec<_>>(), vec![11]);
        // Without a byte bound, only the count bounds the history.
        let mut counted = WatchHub::new(4, None);
        for revision in 1..=10 {
            counted.publish(change(revision, 3_000));
        }
        assert_eq!(counted.since(0).count(), 4);
        assert_eq!(counted.compacted(), 6);
    }

    #[test]
    fn compacting_keeps_the_last_changes_and_at_least_one() {
        let mut hub = WatchHub::new(100, Some(1_000_000));
        for revision in 1..=10 {
            hub.publish(change(revision, 100));
        }
        hub.compact(3);
        assert_eq!(hub.since(0).map(|c| c.revision).collect::<Vec<_>>(), vec![8, 9, 10]);
        assert_eq!(hub.compacted(), 7);
        let held: usize = hub.history.iter().map(|(_, size)| size).sum();
        assert_eq!(hub.bytes, held, "the byte count follows what is held");
        hub.compact(0);
        assert_eq!(hub.since(0).map(|c| c.revision).collect::<Vec<_>>(), vec![10]);
        assert_eq!(hub.compacted(), 9);
    }
}
