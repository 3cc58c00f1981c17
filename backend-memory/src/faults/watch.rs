//! Watch streams with injected faults: lost, duplicated and delayed events, and 410 Expired.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use operator_runtime_core::StoreError;
use operator_runtime_core::store::{StoreResult, WatchEvent, WatchStream};

use super::state::{FaultState, WatchAction};

struct FaultyWatch {
    inner: WatchStream,
    state: Arc<Mutex<FaultState>>,
    /// Shown in the fault log: `watch#N <kind>`.
    target: String,
    /// Events owed to the consumer (the second copy of a duplicated event).
    pending: VecDeque<WatchEvent>,
    ended: bool,
}

/// Wraps `inner` so that every event it delivers goes through the fault plan of `state`.
pub(crate) fn faulty_watch(inner: WatchStream, state: Arc<Mutex<FaultState>>, target: String) -> WatchStream {
    let watch = FaultyWatch {
        inner,
        state,
        target,
        pending: VecDeque::new(),
        ended: false,
    };
    futures::stream::unfold(watch, |mut watch| async move {
        let item = watch.next_item().await?;
        Some((item, watch))
    })
    .boxed()
}

impl FaultyWatch {
    async fn next_item(&mut self) -> Option<StoreResult<WatchEvent>> {
        if self.ended {
            return None;
        }
        if let Some(event) = self.pending.pop_front() {
            return Some(Ok(event));
        }
        loop {
            let event = match self.inner.next().await? {
                Ok(event) => event,
                // The store's own errors (a real 410) pass through untouched.
                Err(error) => return Some(Err(error)),
            };
            // Bookmarks carry no object: losing or repeating one is not a fault worth testing.
            if matches!(event, WatchEvent::Bookmark { .. }) {
                return Some(Ok(event));
            }
            let target = &self.target;
            let action = FaultState::lock(&self.state).plan_watch_event(&|| target.clone(), &event);
            match action {
                None => return Some(Ok(event)),
                Some(WatchAction::Drop) => continue,
                Some(WatchAction::Duplicate) => {
                    self.pending.push_back(event.clone());
                    return Some(Ok(event));
                }
                Some(WatchAction::Delay(delay)) => {
                    tokio::time::sleep(delay).await;
                    return Some(Ok(event));
                }
                Some(WatchAction::Expire) => {
                    self.ended = true;
                    let rv = event.resource_version().unwrap_or_default().to_owned();
                    return Some(Err(StoreError::expired(format!(
                        "injected: too old resource version: {rv}"
                    ))));
                }
            }
        }
    }
}
