//! The watch loop of one tracked kind: list, watch, resume, relist on 410, back off on errors.

use std::sync::{Arc, PoisonError};

use futures::StreamExt;
use tokio::sync::broadcast;

use crate::error::StoreError;
use crate::fields_v1;
use crate::model::Object;
use crate::store::{ListParams, ObjectStore, ObjectStoreExt, WatchEvent, WatchParams};

use super::backoff::Attempts;
use super::{CacheConfig, CacheEvent, KindEntry, Verb};

/// Runs until aborted: list, then watch until a 410, then relist, forever.
pub(super) async fn run(
    store: Arc<dyn ObjectStore>,
    entry: Arc<KindEntry>,
    events: broadcast::Sender<CacheEvent>,
    config: CacheConfig,
) {
    // Consecutive attempts that made no progress. Only a watch that delivers something resets
    // it: a backend that answers every list and then 410s every watch must not make us spin.
    let mut attempts = Attempts::new(config.backoff);
    let mut first_list = true;
    loop {
        let list_params = ListParams {
            namespace: entry.spec.namespace.clone(),
            label_selector: selector_param(&entry),
            field_selector: None,
            limit: config.page_size,
            ..ListParams::default()
        };
        let list = match store.list_all(&entry.spec.type_ref, &list_params).await {
            Ok(list) => list,
            Err(error) => {
                let delay = attempts.next_delay(error.retry_after());
                record_error(&entry, Verb::List, error);
                tokio::time::sleep(delay).await;
                continue;
            }
        };
        let mut items = list.items;
        if config.strip_managed_fields {
            items.iter_mut().for_each(strip_managed_fields);
        }
        // A list from behind what was already seen (a lagging replica, a stale read served
        // after a 410) would take every reader back in time and make the reconciler write from
        // an older spec: keep serving the newer state, list again.
        let changes = {
            let mut state = entry.state.write().unwrap_or_else(PoisonError::into_inner);
            if state.is_behind(&list.resource_version) {
                None
            } else {
                let changes = state.replace(items);
                state.observe_rv(Some(&list.resource_version));
                Some(changes)
            }
        };
        let Some(changes) = changes else {
            let error = StoreError::expired(format!(
                "list at resourceVersion {} is older than what the cache already holds; relisting",
                list.resource_version
            ));
            let delay = attempts.next_delay(None);
            record_error(&entry, Verb::List, error);
            entry.status().stale_lists_rejected += 1;
            tokio::time::sleep(delay).await;
            continue;
        };
        record_success(&entry);
        if !first_list {
            entry.status().relists += 1;
        }
        first_list = false;
        entry.synced.send_replace(true);
        notify_all(&events, changes);

        watch(&*store, &entry, &events, &config, list.resource_version, &mut attempts).await;
        if let Some(delay) = attempts.expired_delay() {
            tokio::time::sleep(delay).await;
        }
    }
}

/// Watches from `resource_version`, resuming after every stream end; returns on a 410.
async fn watch(
    store: &dyn ObjectStore,
    entry: &KindEntry,
    events: &broadcast::Sender<CacheEvent>,
    config: &CacheConfig,
    mut resource_version: String,
    attempts: &mut Attempts,
) {
    loop {
        let params = WatchParams {
            namespace: entry.spec.namespace.clone(),
            label_selector: selector_param(entry),
            field_selector: None,
            resource_version: Some(resource_version.clone()),
            bookmarks: true,
            timeout: None,
        };
        let mut stream = match store.watch(&entry.spec.type_ref, &params).await {
            Ok(stream) => stream,
            Err(StoreError::Expired { .. }) => return,
            Err(error) => {
                let delay = attempts.next_delay(error.retry_after());
                record_error(entry, Verb::Watch, error);
                tokio::time::sleep(delay).await;
                continue;
            }
        };
        entry.status().watches += 1;
        let mut received = false;
        let mut failure = None;
        while let Some(item) = stream.next().await {
            match item {
                Ok(mut event) => {
                    if config.strip_managed_fields
                        && let WatchEvent::Added(o) | WatchEvent::Modified(o) | WatchEvent::Deleted(o) = &mut event
                    {
                        strip_managed_fields(o);
                    }
                    if !received {
                        received = true;
                        attempts.reset();
                        record_success(entry);
                    }
                    if let Some(rv) = event.resource_version() {
                        rv.clone_into(&mut resource_version);
                    }
                    apply(entry, events, event);
                }
                Err(StoreError::Expired { .. }) => return,
                Err(error) => {
                    failure = Some(error);
                    break;
                }
            }
        }
        // The stream ended (or failed): resume from the last resourceVersion. Only a stream
        // that delivered nothing, or failed, is followed by a delay.
        match failure {
            Some(error) => {
                let delay = attempts.next_delay(error.retry_after());
                record_error(entry, Verb::Watch, error);
                tokio::time::sleep(delay).await;
            }
            None if !received => tokio::time::sleep(attempts.next_delay(None)).await,
            None => {}
        }
    }
}

/// Applies one event to the state, then announces the change (if any).
fn apply(entry: &KindEntry, events: &broadcast::Sender<CacheEvent>, event: WatchEvent) {
    let change = entry.state.write().unwrap_or_else(PoisonError::into_inner).apply(event);
    if let Some((kind, object, previous)) = change
        && events.receiver_count() > 0
    {
        // A send error only means nobody is subscribed any more.
        let _ = events.send(CacheEvent::new(kind, object, previous));
    }
}

fn notify_all(events: &broadcast::Sender<CacheEvent>, changes: Vec<CacheEvent>) {
    if events.receiver_count() == 0 {
        return;
    }
    for change in changes {
        let _ = events.send(change);
    }
}

/// Drops managedFields in place when the cache holds the only reference (never copies), but
/// keeps the `Apply` entries of the main resource: the planner tells drift from the server's
/// normalizations by whether the operator's apply entry still owns a field. An operator's
/// child usually has one such entry (the operator's); `Update` entries, often many, go. A kept
/// entry's `fieldsV1` is kept as its JSON text ([`fields_v1::compact`]): as a tree it was
/// close to half of a cached child's heap.
fn strip_managed_fields(object: &mut Arc<Object>) {
    if let Some(o) = Arc::get_mut(object) {
        let kept: Vec<_> = o
            .metadata
            .managed_fields
            .take()
            .into_iter()
            .flatten()
            .filter(|e| e.operation.as_deref() == Some("Apply") && e.subresource.is_none())
            .map(|mut e| {
                if let Some(fields) = e.fields_v1.as_mut() {
                    fields_v1::compact(&mut fields.0);
                }
                e
            })
            .collect();
        o.metadata.managed_fields = (!kept.is_empty()).then_some(kept);
    }
}

fn selector_param(entry: &KindEntry) -> Option<String> {
    let selector = &entry.spec.selector;
    (!selector.matches_everything()).then(|| selector.to_string())
}

fn record_error(entry: &KindEntry, verb: Verb, error: StoreError) {
    tracing::warn!(kind = %entry.spec.type_ref, %verb, %error, "cache list/watch failed; retrying after backoff");
    // Forbidden (RBAC) and NotFound (the kind is not served) do not heal by retrying soon:
    // the kind is reported unservable so the runner starts without it. It keeps retrying.
    let unservable = matches!(error, StoreError::Forbidden { .. } | StoreError::NotFound { .. });
    {
        let mut status = entry.status();
        status.last_error = Some(error);
        status.failed_verb = Some(verb);
    }
    entry.unservable.send_replace(unservable);
}

/// Marks the kind healthy again after a successful list or watch event.
fn record_success(entry: &KindEntry) {
    {
        let mut status = entry.status();
        status.last_error = None;
        status.failed_verb = None;
    }
    entry.unservable.send_replace(false);
}
