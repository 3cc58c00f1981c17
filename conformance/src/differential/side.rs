//! One side of a differential run: a store, the sequence's namespace on it, and what this side
//! has learnt so far (names chosen by `generateName`, uids, the last object seen of each
//! symbol), used to resolve an operation's symbolic parts and to normalize answers.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use operator_runtime_core::model::OwnerReference;
use operator_runtime_core::store::{
    DeleteOutcome, DeleteParams, ListParams, Patch, PatchParams, Preconditions, WatchEvent, WatchParams, WatchStream,
    WriteParams,
};
use operator_runtime_core::{Object, ObjectRef, ObjectStore, StoreError};
use serde_json::{Value, json};

use super::normalize::{Symbols, view};
use super::ops::{Edit, Kind, NameChoice, Op, OwnerSpec, Precondition, RvChoice, Target};
use super::values;

/// A uid no object has (wrong-uid preconditions, owners that were never created).
const WRONG_UID: &str = "00000000-0000-0000-0000-00000000dead";
/// How long a watch may take to deliver the end-of-sequence marker.
const MARKER_DEADLINE: Duration = Duration::from_secs(10);
/// Most pages a paginated list may take (a server that never stops paging is a divergence).
const MAX_PAGES: usize = 100;

/// What one side answered to one operation, normalized.
#[derive(Clone, Debug, PartialEq)]
pub struct Observation {
    /// `{"Ok": view}`, `{"Deleted": view}`, `{"Pending": view}`, `{"Err": "<variant>"}`,
    /// `{"Names": [...]}`, `{"Events": {symbol: [types]}}` or `{"Watching": kind}`.
    pub outcome: Value,
    /// The error message, when the outcome is an error (printed, never compared).
    pub message: Option<String>,
}

impl Observation {
    fn ok(key: &str, value: Value) -> Self {
        Self {
            outcome: json!({ key: value }),
            message: None,
        }
    }

    fn err(e: &StoreError) -> Self {
        Self {
            outcome: json!({ "Err": variant(e) }),
            message: Some(e.to_string()),
        }
    }

    /// `Ok`, `Err(NotFound)`, ...: the outcome's shape, for classes.
    pub fn label(&self) -> String {
        match self.outcome.as_object().and_then(|m| m.iter().next()) {
            Some((k, v)) if k == "Err" => format!("Err({})", v.as_str().unwrap_or("?")),
            Some((k, _)) => k.clone(),
            None => "?".to_owned(),
        }
    }

    /// True when the operation succeeded.
    pub fn is_ok(&self) -> bool {
        self.outcome.get("Err").is_none()
    }
}

/// The name of a [`StoreError`] variant.
pub fn variant(e: &StoreError) -> &'static str {
    match e {
        StoreError::NotFound { .. } => "NotFound",
        StoreError::AlreadyExists { .. } => "AlreadyExists",
        StoreError::Conflict { .. } => "Conflict",
        StoreError::Invalid { .. } => "Invalid",
        StoreError::BadRequest { .. } => "BadRequest",
        StoreError::Forbidden { .. } => "Forbidden",
        StoreError::MethodNotAllowed { .. } => "MethodNotAllowed",
        StoreError::Expired { .. } => "Expired",
        StoreError::TooLarge { .. } => "TooLarge",
        StoreError::UnsupportedMediaType { .. } => "UnsupportedMediaType",
        StoreError::TooManyRequests { .. } => "TooManyRequests",
        StoreError::Unavailable { .. } => "Unavailable",
        StoreError::Timeout { .. } => "Timeout",
        StoreError::Internal { .. } => "Internal",
        _ => "Backend",
    }
}

/// The garbage-collection-relevant state of one object: finalizers, terminating, owners.
pub type GcState = BTreeMap<String, Value>;

/// One store and the sequence's state on it.
pub struct Side<'s, S: ObjectStore + ?Sized> {
    store: &'s S,
    ns: String,
    /// resourceVersion of the namespace: a "stale" revision older than every object.
    ns_rv: String,
    /// Symbol -> name on this server.
    names: HashMap<String, String>,
    /// Symbol -> uid on this server.
    uids: HashMap<String, String>,
    symbols: Symbols,
    /// Symbol -> last object seen (successful reads and persisted writes).
    last: HashMap<String, Arc<Object>>,
    /// Symbol -> the resourceVersion seen before the last one.
    previous_rv: HashMap<String, String>,
    watches: Vec<(Kind, WatchStream)>,
}

impl<'s, S: ObjectStore + ?Sized> Side<'s, S> {
    /// Creates the namespace `ns` on the store.
    ///
    /// # Errors
    /// The store's error when the namespace cannot be created (AlreadyExists included).
    pub async fn new(store: &'s S, ns: &str) -> Result<Self, StoreError> {
        let body = Object::new(&operator_runtime_core::TypeRef::new("v1", "Namespace"), None, ns);
        let created = store.create(&body, &WriteParams::default()).await?;
        Ok(Self {
            store,
            ns: ns.to_owned(),
            ns_rv: created.resource_version().unwrap_or("1").to_owned(),
            names: HashMap::new(),
            uids: HashMap::new(),
            symbols: Symbols::default(),
            last: HashMap::new(),
            previous_rv: HashMap::new(),
            watches: Vec::new(),
        })
    }

    fn name(&self, target: &Target) -> String {
        self.names
            .get(&target.sym)
            .cloned()
            .unwrap_or_else(|| target.sym.clone())
    }

    fn key(&self, target: &Target) -> ObjectRef {
        ObjectRef::namespaced(target.kind.type_ref(), &self.ns, self.name(target))
    }

    fn current_rv(&self, target: &Target) -> String {
        self.last
            .get(&target.sym)
            .and_then(|o| o.resource_version().map(str::to_owned))
            .unwrap_or_else(|| self.ns_rv.clone())
    }

    fn stale_rv(&self, target: &Target) -> String {
        self.previous_rv
            .get(&target.sym)
            .cloned()
            .unwrap_or_else(|| self.ns_rv.clone())
    }

    fn rv(&self, target: &Target, choice: RvChoice) -> Option<String> {
        match choice {
            RvChoice::Omit => None,
            RvChoice::Current => Some(self.current_rv(target)),
            RvChoice::Stale => Some(self.stale_rv(target)),
        }
    }

    fn owner_refs(&self, owners: &[OwnerSpec]) -> Vec<OwnerReference> {
        owners
            .iter()
            .map(|o| OwnerReference {
                api_version: o.owner.kind.type_ref().api_version,
                kind: o.owner.kind.type_ref().kind,
                name: self.name(&o.owner),
                uid: self
                    .uids
                    .get(&o.owner.sym)
                    .cloned()
                    .unwrap_or_else(|| WRONG_UID.to_owned()),
                controller: Some(o.controller),
                block_owner_deletion: Some(o.block),
            })
            .collect()
    }

    /// A new object from a generated body, with this side's name, namespace and owners.
    fn build(&self, target: &Target, body: &Value, name: Option<&NameChoice>, owners: &[OwnerSpec]) -> Object {
        let mut object = Object::from_value(body.clone()).unwrap_or_else(|_| Object {
            api_version: target.kind.type_ref().api_version,
            kind: target.kind.type_ref().kind,
            ..Object::default()
        });
        object.metadata.namespace = Some(self.ns.clone());
        match name {
            Some(NameChoice::Generate(prefix)) => object.metadata.generate_name = Some(prefix.clone()),
            Some(NameChoice::Fixed(n)) => object.metadata.name = Some(n.clone()),
            None => object.metadata.name = Some(self.name(target)),
        }
        if !owners.is_empty() {
            object.metadata.owner_references = Some(self.owner_refs(owners));
        }
        object
    }

    fn observe(&self, target: &Target, object: &Object) -> Value {
        let prev = self.last.get(&target.sym).and_then(|o| o.resource_version());
        view(object, &self.symbols, prev)
    }

    /// Records a persisted state of `target`.
    fn remember(&mut self, target: &Target, object: &Arc<Object>) {
        if let Some(old) = self.last.get(&target.sym).and_then(|o| o.resource_version())
            && Some(old) != object.resource_version()
        {
            self.previous_rv.insert(target.sym.clone(), old.to_owned());
        }
        if let Some(uid) = object.uid() {
            self.uids.insert(target.sym.clone(), uid.to_owned());
            self.symbols.by_uid.insert(uid.to_owned(), target.sym.clone());
        }
        self.last.insert(target.sym.clone(), Arc::clone(object));
    }

    /// Observes a write's answer and, unless dry-run, remembers it.
    fn written(&mut self, target: &Target, result: Result<Arc<Object>, StoreError>, dry_run: bool) -> Observation {
        match result {
            Ok(object) => {
                let seen = self.observe(target, &object);
                if !dry_run {
                    self.remember(target, &object);
                }
                Observation::ok("Ok", seen)
            }
            Err(e) => Observation::err(&e),
        }
    }

    /// Runs one operation.
    pub async fn run(&mut self, op: &Op) -> Observation {
        match op {
            Op::Create {
                target,
                name,
                body,
                owners,
                dry_run,
            } => {
                if let NameChoice::Fixed(n) = name {
                    self.names.insert(target.sym.clone(), n.clone());
                    self.symbols.by_name.insert(n.clone(), target.sym.clone());
                }
                let object = self.build(target, body, Some(name), owners);
                let params = write_params(*dry_run);
                let result = self.store.create(&object, &params).await;
                if let (Ok(created), NameChoice::Generate(_), false) = (&result, name, dry_run) {
                    self.names.insert(target.sym.clone(), created.name().to_owned());
                    self.symbols
                        .by_name
                        .insert(created.name().to_owned(), target.sym.clone());
                }
                self.written(target, result, *dry_run)
            }
            Op::Get { target } => {
                let result = self.store.get(&self.key(target)).await;
                self.written(target, result, false)
            }
            Op::List {
                kind,
                labels,
                fields,
                limit,
            } => self.list(*kind, labels, fields, *limit).await,
            Op::Replace {
                target,
                edits,
                fallback,
                rv,
                dry_run,
            } => {
                let mut object = match self.last.get(&target.sym) {
                    Some(last) => (**last).clone(),
                    None => self.build(target, fallback, None, &[]),
                };
                for edit in edits {
                    self.apply_edit(&mut object, edit);
                }
                object.metadata.resource_version = self.rv(target, *rv);
                let params = write_params(*dry_run);
                let result = self.store.replace(&object, &params).await;
                self.written(target, result, *dry_run)
            }
            Op::ReplaceStatus { target, status, rv } => {
                let mut object = match self.last.get(&target.sym) {
                    Some(last) => (**last).clone(),
                    None => self.build(target, &values::minimal(target.kind), None, &[]),
                };
                object.body.insert("status".to_owned(), status.clone());
                object.metadata.resource_version = self.rv(target, *rv);
                let result = self.store.replace_status(&object, &write_params(false)).await;
                self.written(target, result, false)
            }
            Op::MergePatch {
                target,
                patch,
                rv,
                dry_run,
            } => {
                let mut patch = patch.clone();
                if let Some(rv) = self.rv(target, *rv)
                    && let Some(map) = patch.as_object_mut()
                {
                    let meta = map.entry("metadata").or_insert_with(|| json!({}));
                    meta["resourceVersion"] = json!(rv);
                }
                let params = PatchParams {
                    dry_run: *dry_run,
                    field_manager: Some(FIELD_MANAGER.to_owned()),
                    ..PatchParams::default()
                };
                let result = self.store.patch(&self.key(target), &Patch::Merge(patch), &params).await;
                self.written(target, result, *dry_run)
            }
            Op::JsonPatch { target, patch, dry_run } => {
                let params = PatchParams {
                    dry_run: *dry_run,
                    field_manager: Some(FIELD_MANAGER.to_owned()),
                    ..PatchParams::default()
                };
                let result = self
                    .store
                    .patch(&self.key(target), &Patch::Json(patch.clone()), &params)
                    .await;
                self.written(target, result, *dry_run)
            }
            Op::Apply {
                target,
                manager,
                body,
                force,
                dry_run,
            } => {
                let mut body = body.clone();
                body["metadata"]["name"] = json!(self.name(target));
                body["metadata"]["namespace"] = json!(self.ns);
                self.symbols.by_name.insert(self.name(target), target.sym.clone());
                let params = PatchParams {
                    field_manager: Some(manager.clone()),
                    force: *force,
                    dry_run: *dry_run,
                    status: false,
                };
                let result = self.store.patch(&self.key(target), &Patch::Apply(body), &params).await;
                self.written(target, result, *dry_run)
            }
            Op::Delete {
                target,
                precondition,
                propagation,
                dry_run,
            } => self.delete(target, *precondition, *propagation, *dry_run).await,
            Op::Watch { kind } => self.watch(*kind).await,
        }
    }

    fn apply_edit(&self, object: &mut Object, edit: &Edit) {
        let meta = &mut object.metadata;
        match edit {
            Edit::SetLabel(k, v) => {
                meta.labels.get_or_insert_default().insert(k.clone(), v.clone());
            }
            Edit::RemoveLabel(k) => {
                if let Some(l) = meta.labels.as_mut() {
                    l.remove(k);
                }
            }
            Edit::SetAnnotation(k, v) => {
                meta.annotations.get_or_insert_default().insert(k.clone(), v.clone());
            }
            Edit::AddFinalizer(f) => {
                let list = meta.finalizers.get_or_insert_default();
                if !list.contains(f) {
                    list.push(f.clone());
                }
            }
            Edit::RemoveFinalizer(f) => {
                if let Some(list) = meta.finalizers.as_mut() {
                    list.retain(|x| x != f);
                }
            }
            Edit::SetOwners(owners) => meta.owner_references = Some(self.owner_refs(owners)),
            Edit::SetField(path, value) => {
                let mut body = Value::Object(std::mem::take(&mut object.body));
                set_path(&mut body, path, Some(value.clone()));
                object.body = into_map(body);
            }
            Edit::RemoveField(path) => {
                let mut body = Value::Object(std::mem::take(&mut object.body));
                set_path(&mut body, path, None);
                object.body = into_map(body);
            }
        }
    }

    async fn list(
        &mut self,
        kind: Kind,
        labels: &Option<String>,
        fields: &Option<String>,
        limit: Option<u32>,
    ) -> Observation {
        let mut params = ListParams::in_namespace(&self.ns);
        params.label_selector = labels.clone();
        params.field_selector = fields.clone();
        params.limit = limit;
        let mut names = Vec::new();
        for _ in 0..MAX_PAGES {
            match self.store.list(&kind.type_ref(), &params).await {
                Err(e) => return Observation::err(&e),
                Ok(page) => {
                    names.extend(page.items.iter().map(|o| self.symbols.name(o.name())));
                    match page.continue_token {
                        Some(token) if !token.is_empty() => params.continue_token = Some(token),
                        _ => return Observation::ok("Names", json!(names)),
                    }
                }
            }
        }
        Observation::ok("Names", json!({"unfinished after pages": MAX_PAGES, "names": names}))
    }

    async fn delete(
        &mut self,
        target: &Target,
        precondition: Precondition,
        propagation: Option<operator_runtime_core::store::Propagation>,
        dry_run: bool,
    ) -> Observation {
        let preconditions = match precondition {
            Precondition::None => None,
            Precondition::Uid => Some(Preconditions {
                uid: Some(
                    self.uids
                        .get(&target.sym)
                        .cloned()
                        .unwrap_or_else(|| WRONG_UID.to_owned()),
                ),
                resource_version: None,
            }),
            Precondition::WrongUid => Some(Preconditions {
                uid: Some(WRONG_UID.to_owned()),
                resource_version: None,
            }),
            Precondition::CurrentRv => Some(Preconditions {
                uid: None,
                resource_version: Some(self.current_rv(target)),
            }),
            Precondition::StaleRv => Some(Preconditions {
                uid: None,
                resource_version: Some(self.stale_rv(target)),
            }),
        };
        let params = DeleteParams {
            preconditions,
            propagation,
            dry_run,
        };
        match self.store.delete(&self.key(target), &params).await {
            Err(e) => Observation::err(&e),
            Ok(DeleteOutcome::Deleted(o)) => Observation::ok("Deleted", self.observe(target, &o)),
            Ok(DeleteOutcome::Pending(o)) => {
                let seen = self.observe(target, &o);
                if !dry_run {
                    self.remember(target, &o);
                }
                Observation::ok("Pending", seen)
            }
        }
    }

    async fn watch(&mut self, kind: Kind) -> Observation {
        let list = match self
            .store
            .list(&kind.type_ref(), &ListParams::in_namespace(&self.ns))
            .await
        {
            Ok(list) => list,
            Err(e) => return Observation::err(&e),
        };
        let params = WatchParams {
            namespace: Some(self.ns.clone()),
            resource_version: Some(list.resource_version),
            ..WatchParams::default()
        };
        match self.store.watch(&kind.type_ref(), &params).await {
            Ok(stream) => {
                self.watches.push((kind, stream));
                Observation::ok("Watching", json!(kind.to_string()))
            }
            Err(e) => Observation::err(&e),
        }
    }

    /// Number of watches started.
    pub fn watch_count(&self) -> usize {
        self.watches.len()
    }

    /// Ends watch `index`: writes a marker object of its kind, reads events until the marker
    /// arrives, and returns the event types seen per object (in order per object; the order
    /// between objects is not compared, since the garbage collector's order is not specified).
    pub async fn finish_watch(&mut self, index: usize) -> Observation {
        let Some((kind, _)) = self.watches.get(index) else {
            return Observation::ok("Events", json!("no such watch"));
        };
        let kind = *kind;
        let marker = format!("zz-marker-{index}");
        let mut body = Object::from_value(values::minimal(kind)).unwrap_or_default();
        body.metadata.name = Some(marker.clone());
        body.metadata.namespace = Some(self.ns.clone());
        if let Err(e) = self.store.create(&body, &WriteParams::default()).await {
            return Observation::err(&e);
        }
        let mut events: BTreeMap<String, Vec<&'static str>> = BTreeMap::new();
        let Some((_, stream)) = self.watches.get_mut(index) else {
            return Observation::ok("Events", json!("no such watch"));
        };
        let deadline = tokio::time::Instant::now() + MARKER_DEADLINE;
        loop {
            let next = match tokio::time::timeout_at(deadline, stream.next()).await {
                Err(_) => {
                    events.entry("<marker>".to_owned()).or_default().push("TIMEOUT");
                    break;
                }
                Ok(None) => {
                    events.entry("<stream>".to_owned()).or_default().push("ENDED");
                    break;
                }
                Ok(Some(Err(e))) => {
                    events.entry("<stream>".to_owned()).or_default().push(variant(&e));
                    break;
                }
                Ok(Some(Ok(event))) => event,
            };
            let (kind_of_event, object) = match &next {
                WatchEvent::Added(o) => ("ADDED", o),
                WatchEvent::Modified(o) => ("MODIFIED", o),
                WatchEvent::Deleted(o) => ("DELETED", o),
                WatchEvent::Bookmark { .. } => continue,
            };
            if object.name() == marker {
                break;
            }
            events
                .entry(self.symbols.name(object.name()))
                .or_default()
                .push(kind_of_event);
        }
        Observation::ok("Events", json!(events))
    }

    /// Deletes every Service of the namespace (finalizers removed first), best effort, so that
    /// their cluster IPs return to the server's range.
    pub async fn release_services(&self) {
        let kind = Kind::Service.type_ref();
        let Ok(list) = self.store.list(&kind, &ListParams::in_namespace(&self.ns)).await else {
            return;
        };
        for service in &list.items {
            let key = service.object_ref();
            if service.metadata.finalizers.as_ref().is_some_and(|f| !f.is_empty()) {
                let patch = Patch::Merge(json!({"metadata": {"finalizers": null}}));
                let _ = self.store.patch(&key, &patch, &PatchParams::default()).await;
            }
            let _ = self.store.delete(&key, &DeleteParams::default()).await;
        }
    }

    /// The garbage-collection-relevant state of every object of `kinds` in the namespace.
    ///
    /// # Errors
    /// A list error.
    pub async fn gc_state(&self, kinds: &[Kind]) -> Result<GcState, StoreError> {
        let mut out = GcState::new();
        for kind in kinds {
            let list = self
                .store
                .list(&kind.type_ref(), &ListParams::in_namespace(&self.ns))
                .await?;
            for o in &list.items {
                let owners: Vec<String> = o
                    .metadata
                    .owner_references
                    .iter()
                    .flatten()
                    .map(|r| self.symbols.name(&r.name))
                    .collect();
                out.insert(
                    format!("{kind} {}", self.symbols.name(o.name())),
                    json!({"finalizers": o.metadata.finalizers, "deleting": o.metadata.deletion_timestamp.is_some(),
                           "owners": owners}),
                );
            }
        }
        Ok(out)
    }
}

/// Field manager of every write but server-side apply (operators always name one; writes
/// without one are a separate divergence, see the findings).
pub const FIELD_MANAGER: &str = "differential";

fn write_params(dry_run: bool) -> WriteParams {
    WriteParams {
        dry_run,
        field_manager: Some(FIELD_MANAGER.to_owned()),
    }
}

fn into_map(value: Value) -> serde_json::Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    }
}

/// Sets (or, with None, removes) the field at `path`, creating objects on the way.
fn set_path(root: &mut Value, path: &[String], value: Option<Value>) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut node = root;
    for key in parents {
        if !node.is_object() {
            *node = json!({});
        }
        let Some(map) = node.as_object_mut() else { return };
        node = map.entry(key.clone()).or_insert_with(|| json!({}));
    }
    if !node.is_object() {
        *node = json!({});
    }
    if let Some(map) = node.as_object_mut() {
        match value {
            Some(v) => {
                map.insert(last.clone(), v);
            }
            None => {
                map.remove(last);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_path_creates_parents_and_removes_leaves() {
        let mut v = json!({"spec": {"a": 1}});
        set_path(&mut v, &["spec".into(), "b".into(), "c".into()], Some(json!(2)));
        assert_eq!(v, json!({"spec": {"a": 1, "b": {"c": 2}}}));
        set_path(&mut v, &["spec".into(), "a".into()], None);
        assert_eq!(v, json!({"spec": {"b": {"c": 2}}}));
    }
}
