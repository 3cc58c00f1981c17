//! A scripted in-test [`ObjectStore`] for the cache tests: objects in a map, watches fed by the
//! test (events, 410s, closed streams, silent changes), and queued list/watch failures.
#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use operator_runtime_core::model::OwnerReference;
use operator_runtime_core::selector::Selector;
use operator_runtime_core::store::{
    ApplySupport, Capabilities, DeleteOutcome, DeleteParams, KindInfo, ListParams, Patch, PatchParams, StoreResult,
    WatchEvent, WatchParams, WatchStream, WriteParams,
};
use operator_runtime_core::{Object, ObjectList, ObjectRef, ObjectStore, StoreError, TypeRef};
use tokio::sync::mpsc;

pub fn cm_type() -> TypeRef {
    TypeRef::new("v1", "ConfigMap")
}

pub fn cm(ns: &str, name: &str) -> Object {
    Object::new(&cm_type(), Some(ns), name)
}

pub fn with_labels(mut o: Object, labels: &[(&str, &str)]) -> Object {
    o.metadata.labels = Some(labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
    o
}

pub fn owned(mut o: Object, uid: &str) -> Object {
    o.metadata.owner_references = Some(vec![OwnerReference {
        api_version: "example.com/v1".into(),
        kind: "Parent".into(),
        name: format!("parent-{uid}"),
        uid: uid.into(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }]);
    o
}

#[derive(Default)]
struct State {
    revision: u64,
    objects: BTreeMap<ObjectRef, Arc<Object>>,
    watchers: Vec<(WatchParams, mpsc::UnboundedSender<StoreResult<WatchEvent>>)>,
    list_calls: Vec<ListParams>,
    watch_calls: Vec<WatchParams>,
    list_failures: VecDeque<StoreError>,
    watch_failures: VecDeque<StoreError>,
    /// Every watch opened from now on fails at once with 410 (a backend stuck expiring).
    always_expire: bool,
    /// Every watch opened from now on ends at once without an event.
    always_close: bool,
    /// Lists and watch events hand out fresh copies (as a remote backend does) instead of
    /// the store's own `Arc`s.
    fresh_copies: bool,
}

fn copy_if(fresh: bool, o: &Arc<Object>) -> Arc<Object> {
    if fresh { Arc::new((**o).clone()) } else { o.clone() }
}

/// The scripted store. Cheap to clone; clones share state.
#[derive(Clone, Default)]
pub struct ScriptedStore {
    state: Arc<Mutex<State>>,
}

fn in_scope(o: &Object, namespace: Option<&str>, selector: Option<&str>) -> bool {
    let ns_ok = namespace.is_none_or(|ns| o.namespace() == Some(ns));
    let sel_ok = selector.is_none_or(|s| Selector::parse(s).unwrap().matches_labels(o.metadata.labels.as_ref()));
    ns_ok && sel_ok
}

impl ScriptedStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes an object (bumping the revision) and tells open watches about it.
    pub fn put(&self, o: Object) -> Arc<Object> {
        self.write(o, true)
    }

    /// Writes an object without telling any watch (a change the cache can only learn by relisting).
    pub fn put_silently(&self, o: Object) -> Arc<Object> {
        self.write(o, false)
    }

    fn write(&self, mut o: Object, notify: bool) -> Arc<Object> {
        let mut st = self.state.lock().unwrap();
        st.revision += 1;
        o.metadata.resource_version = Some(st.revision.to_string());
        let o = Arc::new(o);
        let key = o.object_ref();
        let old = st.objects.insert(key, o.clone());
        if notify {
            for (params, tx) in &st.watchers {
                let matches_now = in_scope(&o, params.namespace.as_deref(), params.label_selector.as_deref());
                let matched_before = old
                    .as_ref()
                    .is_some_and(|p| in_scope(p, params.namespace.as_deref(), params.label_selector.as_deref()));
                let o = copy_if(st.fresh_copies, &o);
                let event = match (matched_before, matches_now) {
                    (false, true) => WatchEvent::Added(o),
                    (true, true) => WatchEvent::Modified(o),
                    (true, false) => WatchEvent::Deleted(o),
                    (false, false) => continue,
                };
                let _ = tx.send(Ok(event));
            }
        }
        o
    }

    /// Deletes an object and tells open watches (unless `silently`).
    pub fn delete_object(&self, key: &ObjectRef, silently: bool) {
        let mut st = self.state.lock().unwrap();
        st.revision += 1;
        let rv = st.revision.to_string();
        if let Some(old) = st.objects.remove(key) {
            let mut last = (*old).clone();
            last.metadata.resource_version = Some(rv);
            let last = Arc::new(last);
            if !silently {
                for (params, tx) in &st.watchers {
                    if in_scope(&old, params.namespace.as_deref(), params.label_selector.as_deref()) {
                        let _ = tx.send(Ok(WatchEvent::Deleted(last.clone())));
                    }
                }
            }
        }
    }

    /// Sends a 410 to every open watch and closes it.
    pub fn expire_watches(&self) {
        let mut st = self.state.lock().unwrap();
        for (_, tx) in st.watchers.drain(..) {
            let _ = tx.send(Err(StoreError::expired("too old resource version")));
        }
    }

    /// Sends an error to every open watch (the stream stays open on the store's side).
    pub fn fail_watches(&self, error: StoreError) {
        let st = self.state.lock().unwrap();
        for (_, tx) in &st.watchers {
            let _ = tx.send(Err(error.clone()));
        }
    }

    /// Ends every open watch stream, as a server timeout does.
    pub fn close_watches(&self) {
        self.state.lock().unwrap().watchers.clear();
    }

    /// Sends a bookmark at the current revision to every open watch.
    pub fn bookmark(&self) {
        let st = self.state.lock().unwrap();
        for (_, tx) in &st.watchers {
            let _ = tx.send(Ok(WatchEvent::Bookmark {
                resource_version: st.revision.to_string(),
            }));
        }
    }

    pub fn fail_next_lists(&self, errors: impl IntoIterator<Item = StoreError>) {
        self.state.lock().unwrap().list_failures.extend(errors);
    }

    pub fn fail_next_watches(&self, errors: impl IntoIterator<Item = StoreError>) {
        self.state.lock().unwrap().watch_failures.extend(errors);
    }

    pub fn set_always_expire(&self, on: bool) {
        self.state.lock().unwrap().always_expire = on;
    }

    pub fn set_always_close(&self, on: bool) {
        self.state.lock().unwrap().always_close = on;
    }

    pub fn set_fresh_copies(&self, on: bool) {
        self.state.lock().unwrap().fresh_copies = on;
    }

    pub fn list_calls(&self) -> Vec<ListParams> {
        self.state.lock().unwrap().list_calls.clone()
    }

    pub fn watch_calls(&self) -> Vec<WatchParams> {
        self.state.lock().unwrap().watch_calls.clone()
    }

    /// Open watch streams whose consumer is still alive.
    pub fn live_watches(&self) -> usize {
        let mut st = self.state.lock().unwrap();
        st.watchers.retain(|(_, tx)| !tx.is_closed());
        st.watchers.len()
    }

    /// The stored object (panics when absent: test helper).
    pub fn get_sync(&self, key: &ObjectRef) -> Arc<Object> {
        self.state.lock().unwrap().objects[key].clone()
    }

    pub fn revision(&self) -> String {
        self.state.lock().unwrap().revision.to_string()
    }
}

#[async_trait]
impl ObjectStore for ScriptedStore {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            name: "scripted".into(),
            server_side_apply: ApplySupport::None,
            garbage_collection: false,
            namespace_deletion: false,
            schema_validation: operator_runtime_core::store::SchemaValidation::None,
            dry_run: false,
            bookmarks: true,
            eventually_consistent_gc: false,
            workload_controllers: false,
        }
    }

    async fn kind_info(&self, type_ref: &TypeRef) -> StoreResult<KindInfo> {
        Ok(KindInfo {
            type_ref: type_ref.clone(),
            plural: format!("{}s", type_ref.kind.to_lowercase()),
            namespaced: true,
            status_subresource: false,
        })
    }

    async fn get(&self, key: &ObjectRef) -> StoreResult<Arc<Object>> {
        let st = self.state.lock().unwrap();
        st.objects
            .get(key)
            .cloned()
            .ok_or_else(|| StoreError::not_found(key.to_string()))
    }

    /// Pages of `limit` items; the continue token is the index of the next item.
    async fn list(&self, type_ref: &TypeRef, params: &ListParams) -> StoreResult<ObjectList> {
        let mut st = self.state.lock().unwrap();
        st.list_calls.push(params.clone());
        if let Some(e) = st.list_failures.pop_front() {
            return Err(e);
        }
        let all: Vec<_> = st
            .objects
            .values()
            .filter(|o| &o.type_ref() == type_ref)
            .filter(|o| in_scope(o, params.namespace.as_deref(), params.label_selector.as_deref()))
            .map(|o| copy_if(st.fresh_copies, o))
            .collect();
        let start: usize = params.continue_token.as_deref().map_or(0, |t| t.parse().unwrap());
        let end = params.limit.map_or(all.len(), |l| (start + l as usize).min(all.len()));
        Ok(ObjectList {
            items: all[start..end].to_vec(),
            resource_version: st.revision.to_string(),
            continue_token: (end < all.len()).then(|| end.to_string()),
        })
    }

    async fn create(&self, _: &Object, _: &WriteParams) -> StoreResult<Arc<Object>> {
        Err(StoreError::MethodNotAllowed {
            message: "scripted".into(),
        })
    }
    async fn replace(&self, _: &Object, _: &WriteParams) -> StoreResult<Arc<Object>> {
        Err(StoreError::MethodNotAllowed {
            message: "scripted".into(),
        })
    }
    async fn replace_status(&self, _: &Object, _: &WriteParams) -> StoreResult<Arc<Object>> {
        Err(StoreError::MethodNotAllowed {
            message: "scripted".into(),
        })
    }
    async fn patch(&self, _: &ObjectRef, _: &Patch, _: &PatchParams) -> StoreResult<Arc<Object>> {
        Err(StoreError::MethodNotAllowed {
            message: "scripted".into(),
        })
    }
    async fn delete(&self, _: &ObjectRef, _: &DeleteParams) -> StoreResult<DeleteOutcome> {
        Err(StoreError::MethodNotAllowed {
            message: "scripted".into(),
        })
    }

    async fn watch(&self, _type_ref: &TypeRef, params: &WatchParams) -> StoreResult<WatchStream> {
        let mut st = self.state.lock().unwrap();
        st.watch_calls.push(params.clone());
        if let Some(e) = st.watch_failures.pop_front() {
            return Err(e);
        }
        if st.always_expire {
            return Err(StoreError::expired("too old resource version"));
        }
        let (tx, rx) = mpsc::unbounded_channel();
        if !st.always_close {
            st.watchers.push((params.clone(), tx));
        }
        Ok(tokio_stream(rx))
    }
}

fn tokio_stream(mut rx: mpsc::UnboundedReceiver<StoreResult<WatchEvent>>) -> WatchStream {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx)).boxed()
}

/// Lets the cache's tasks run until they are idle (current-thread runtime, paused time).
pub async fn settle() {
    for _ in 0..200 {
        tokio::task::yield_now().await;
    }
}

/// Advances virtual time by `d` and lets the tasks run.
pub async fn advance(d: Duration) {
    tokio::time::sleep(d).await;
    settle().await;
}
