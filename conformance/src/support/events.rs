//! Reading watch streams with bounded waits.
//!
//! To show that something produced *no* event, a behaviour writes a marker object afterwards
//! and reads until the marker's event: every event the stream carries before it is one the
//! behaviour caused. This works the same on a backend that delivers at once and on a real
//! server that delivers asynchronously.

use futures::StreamExt;
use operator_runtime_core::store::{WatchEvent, WatchParams, WatchStream};
use operator_runtime_core::{ObjectStore, TypeRef};

use super::poll::EVENT_DEADLINE;

/// A watch stream and the events read from it so far.
pub struct Events {
    stream: WatchStream,
}

impl Events {
    /// Starts a watch; any error fails the behaviour.
    pub async fn start<S: ObjectStore + ?Sized>(
        store: &S,
        kind: &TypeRef,
        params: &WatchParams,
    ) -> Result<Self, String> {
        let stream = store
            .watch(kind, params)
            .await
            .map_err(|e| format!("watch {kind}: unexpected error {e:?}"))?;
        Ok(Self { stream })
    }

    /// The next event, bookmarks included; fails on a stream error, end, or timeout.
    pub async fn next_raw(&mut self) -> Result<WatchEvent, String> {
        match tokio::time::timeout(EVENT_DEADLINE, self.stream.next()).await {
            Err(_) => Err(format!("no watch event within {EVENT_DEADLINE:?}")),
            Ok(None) => Err("watch stream ended".to_owned()),
            Ok(Some(Err(e))) => Err(format!("watch stream error {e:?}")),
            Ok(Some(Ok(event))) => Ok(event),
        }
    }

    /// The next event that is not a bookmark.
    pub async fn next(&mut self) -> Result<WatchEvent, String> {
        loop {
            let event = self.next_raw().await?;
            if !matches!(event, WatchEvent::Bookmark { .. }) {
                return Ok(event);
            }
        }
    }

    /// Reads (non-bookmark) events until one concerns `name`; returns every event read, the
    /// one for `name` last.
    pub async fn through(&mut self, name: &str) -> Result<Vec<WatchEvent>, String> {
        let mut seen = Vec::new();
        loop {
            let event = self
                .next()
                .await
                .map_err(|e| format!("waiting for an event about {name:?} after {}: {e}", describe_all(&seen)))?;
            let done = name_of(&event) == Some(name);
            seen.push(event);
            if done {
                return Ok(seen);
            }
        }
    }

    /// Reads events until one concerns `marker` and returns those before it.
    pub async fn before(&mut self, marker: &str) -> Result<Vec<WatchEvent>, String> {
        let mut seen = self.through(marker).await?;
        seen.pop();
        Ok(seen)
    }

    /// The raw stream, for behaviours that inspect errors themselves.
    pub fn stream(&mut self) -> &mut WatchStream {
        &mut self.stream
    }
}

/// The name of the object an event carries (None for bookmarks).
pub fn name_of(event: &WatchEvent) -> Option<&str> {
    match event {
        WatchEvent::Added(o) | WatchEvent::Modified(o) | WatchEvent::Deleted(o) => Some(o.name()),
        WatchEvent::Bookmark { .. } => None,
    }
}

/// `Added(name@rv)`-style description of one event.
pub fn describe(event: &WatchEvent) -> String {
    let (kind, object) = match event {
        WatchEvent::Added(o) => ("Added", o),
        WatchEvent::Modified(o) => ("Modified", o),
        WatchEvent::Deleted(o) => ("Deleted", o),
        WatchEvent::Bookmark { resource_version } => return format!("Bookmark(@{resource_version})"),
    };
    format!("{kind}({}@{})", object.name(), object.resource_version().unwrap_or("?"))
}

/// Descriptions of several events, comma-separated, in brackets.
pub fn describe_all(events: &[WatchEvent]) -> String {
    format!("[{}]", events.iter().map(describe).collect::<Vec<_>>().join(", "))
}

/// `Added` / `Modified` / `Deleted` / `Bookmark`.
pub fn kind_of(event: &WatchEvent) -> &'static str {
    match event {
        WatchEvent::Added(_) => "Added",
        WatchEvent::Modified(_) => "Modified",
        WatchEvent::Deleted(_) => "Deleted",
        WatchEvent::Bookmark { .. } => "Bookmark",
    }
}

/// The events that concern `name`, described as `Kind` strings (for sequence assertions).
pub fn kinds_for(events: &[WatchEvent], name: &str) -> Vec<&'static str> {
    events
        .iter()
        .filter(|e| name_of(e) == Some(name))
        .map(kind_of)
        .collect()
}
