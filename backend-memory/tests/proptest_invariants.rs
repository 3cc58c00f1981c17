//! Property tests of the memory backend: random sequences of writes over a few kinds (a
//! built-in, a namespaced custom resource with a status subresource, a cluster-scoped one
//! without), names and namespaces keep the API server's invariants:
//! - a successful write moves the global revision forward and the object's resourceVersion
//!   is the revision of that write; a failed or no-op write moves nothing;
//! - every stored object's resourceVersion is the revision of its last write;
//! - a watch from the revision before the workload, opened before or after it, replays
//!   exactly the listed state, with strictly increasing resourceVersions;
//! - nothing panics (errors are fine).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use operator_runtime_core::clock::ManualClock;
use operator_runtime_core::store::{
    DeleteOutcome, DeleteParams, ListParams, Patch, PatchParams, WatchEvent, WatchParams, WatchStream, WriteParams,
};
use operator_runtime_core::{Object, ObjectRef, ObjectStore, StoreError, TypeRef};
use operator_runtime_memory::MemoryStore;
use proptest::prelude::*;
use serde_json::{Value, json};

const NAMESPACES: [&str; 2] = ["ns-a", "ns-b"];
const NAMES: [&str; 2] = ["a", "b"];
const FINALIZER: &str = "example.com/keep";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    ConfigMap,
    /// Namespaced custom resource with a status subresource.
    Widget,
    /// Cluster-scoped custom resource without a status subresource.
    Gadget,
}

const KINDS: [Kind; 3] = [Kind::ConfigMap, Kind::Widget, Kind::Gadget];

impl Kind {
    fn type_ref(self) -> TypeRef {
        match self {
            Self::ConfigMap => TypeRef::new("v1", "ConfigMap"),
            Self::Widget => TypeRef::new("example.com/v1", "Widget"),
            Self::Gadget => TypeRef::new("example.com/v1", "Gadget"),
        }
    }

    /// The body field a spec change writes.
    fn content_patch(self, value: u8) -> Value {
        match self {
            Self::ConfigMap => json!({ "data": { "v": value.to_string() } }),
            Self::Widget | Self::Gadget => json!({ "spec": { "v": value } }),
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Target {
    kind: Kind,
    namespace: usize,
    name: usize,
}

impl Target {
    fn key(self) -> ObjectRef {
        let name = NAMES[self.name];
        match self.kind {
            Kind::Gadget => ObjectRef::cluster(self.kind.type_ref(), name),
            _ => ObjectRef::namespaced(self.kind.type_ref(), NAMESPACES[self.namespace], name),
        }
    }

    fn fresh(self, value: u8) -> Object {
        let key = self.key();
        let mut object = Object::new(&key.type_ref, key.namespace.as_deref(), &key.name);
        if let Value::Object(fields) = self.kind.content_patch(value) {
            object.body.extend(fields);
        }
        if self.kind != Kind::ConfigMap {
            object.body.insert("status".into(), json!({ "s": value }));
        }
        object
    }
}

/// How a replace sets `metadata.resourceVersion`.
#[derive(Clone, Copy, Debug)]
enum Rv {
    Current,
    Stale,
    Missing,
}

#[derive(Clone, Debug)]
enum Op {
    Create { target: Target, value: u8, finalizer: bool },
    Replace { target: Target, value: u8, rv: Rv },
    ReplaceUnchanged { target: Target },
    ReplaceStatus { target: Target, value: u8 },
    MergePatch { target: Target, value: u8 },
    AddFinalizer { target: Target },
    RemoveFinalizers { target: Target },
    Delete { target: Target },
}

impl Op {
    fn target(&self) -> Target {
        match self {
            Self::Create { target, .. }
            | Self::Replace { target, .. }
            | Self::ReplaceUnchanged { target }
            | Self::ReplaceStatus { target, .. }
            | Self::MergePatch { target, .. }
            | Self::AddFinalizer { target }
            | Self::RemoveFinalizers { target }
            | Self::Delete { target } => *target,
        }
    }
}

fn target() -> impl Strategy<Value = Target> {
    (0..KINDS.len(), 0..NAMESPACES.len(), 0..NAMES.len()).prop_map(|(k, namespace, name)| Target {
        kind: KINDS[k],
        namespace,
        name,
    })
}

fn rv() -> impl Strategy<Value = Rv> {
    prop_oneof![4 => Just(Rv::Current), 1 => Just(Rv::Stale), 1 => Just(Rv::Missing)]
}

fn op() -> impl Strategy<Value = Op> {
    // Values from a small range so that many writes repeat the stored content (no-ops).
    let value = 0u8..3;
    prop_oneof![
        5 => (target(), value.clone(), any::<bool>()).prop_map(|(target, value, finalizer)| Op::Create { target, value, finalizer }),
        3 => (target(), value.clone(), rv()).prop_map(|(target, value, rv)| Op::Replace { target, value, rv }),
        1 => target().prop_map(|target| Op::ReplaceUnchanged { target }),
        2 => (target(), value.clone()).prop_map(|(target, value)| Op::ReplaceStatus { target, value }),
        2 => (target(), value).prop_map(|(target, value)| Op::MergePatch { target, value }),
        1 => target().prop_map(|target| Op::AddFinalizer { target }),
        2 => target().prop_map(|target| Op::RemoveFinalizers { target }),
        2 => target().prop_map(|target| Op::Delete { target }),
    ]
}

fn crd(plural: &str, kind: &str, scope: &str, status: bool) -> Object {
    let subresources = if status { json!({ "status": {} }) } else { json!({}) };
    Object::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": { "name": format!("{plural}.example.com") },
        "spec": {
            "group": "example.com",
            "scope": scope,
            "names": { "kind": kind, "plural": plural, "singular": kind.to_lowercase(), "listKind": format!("{kind}List") },
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "subresources": subresources,
                "schema": { "openAPIV3Schema": { "type": "object", "x-kubernetes-preserve-unknown-fields": true } }
            }]
        }
    }))
    .unwrap()
}

async fn setup(seed: u64) -> MemoryStore {
    let store = MemoryStore::builder()
        .seed(seed)
        .clock(Arc::new(ManualClock::at_epoch()))
        .history_limit(1_000_000)
        .build();
    let params = WriteParams::default();
    for ns in NAMESPACES {
        let namespace = Object::new(&TypeRef::new("v1", "Namespace"), None, ns);
        store.create(&namespace, &params).await.unwrap();
    }
    store
        .create(&crd("widgets", "Widget", "Namespaced", true), &params)
        .await
        .unwrap();
    store
        .create(&crd("gadgets", "Gadget", "Cluster", false), &params)
        .await
        .unwrap();
    store
}

fn rv_of(object: &Object) -> u64 {
    object
        .resource_version()
        .and_then(|rv| rv.parse().ok())
        .unwrap_or_else(|| panic!("unparsable resourceVersion on {}", object.object_ref()))
}

/// Runs one operation; returns what the store answered and whether the answer says the
/// object is gone (a completed delete).
async fn run(store: &MemoryStore, op: &Op) -> (Result<Arc<Object>, StoreError>, bool) {
    let target = op.target();
    let key = target.key();
    let current = store.get(&key).await.ok();
    let params = WriteParams::default();
    let result = match op {
        Op::Create { value, finalizer, .. } => {
            let mut object = target.fresh(*value);
            if *finalizer {
                object.metadata.finalizers = Some(vec![FINALIZER.into()]);
            }
            store.create(&object, &params).await
        }
        Op::Replace { value, rv, .. } => {
            let mut object = match &current {
                Some(current) => {
                    let mut object = (**current).clone();
                    if let Value::Object(fields) = target.kind.content_patch(*value) {
                        object.body.extend(fields);
                    }
                    object
                }
                None => target.fresh(*value),
            };
            object.metadata.resource_version = match rv {
                Rv::Current => object.metadata.resource_version.take(),
                Rv::Stale => Some("1".into()),
                Rv::Missing => None,
            };
            store.replace(&object, &params).await
        }
        Op::ReplaceUnchanged { .. } => match &current {
            Some(current) => store.replace(current, &params).await,
            None => store.replace(&target.fresh(0), &params).await,
        },
        Op::ReplaceStatus { value, .. } => {
            let mut object = current.as_deref().cloned().unwrap_or_else(|| target.fresh(*value));
            object.body.insert("status".into(), json!({ "s": value }));
            store.replace_status(&object, &params).await
        }
        Op::MergePatch { value, .. } => {
            let patch = Patch::Merge(target.kind.content_patch(*value));
            store.patch(&key, &patch, &PatchParams::default()).await
        }
        Op::AddFinalizer { .. } => {
            let patch = Patch::Merge(json!({ "metadata": { "finalizers": [FINALIZER] } }));
            store.patch(&key, &patch, &PatchParams::default()).await
        }
        Op::RemoveFinalizers { .. } => {
            let patch = Patch::Merge(json!({ "metadata": { "finalizers": null } }));
            store.patch(&key, &patch, &PatchParams::default()).await
        }
        Op::Delete { .. } => {
            return match store.delete(&key, &DeleteParams::default()).await {
                Ok(DeleteOutcome::Deleted(object)) => (Ok(object), true),
                Ok(DeleteOutcome::Pending(object)) => (Ok(object), false),
                Err(error) => (Err(error), false),
            };
        }
    };
    (result, false)
}

/// Checks one operation's effect on the revision and the stored object, and keeps `model`
/// (key -> revision of the object's last write) up to date.
async fn apply(store: &MemoryStore, op: &Op, model: &mut HashMap<ObjectRef, u64>) -> Result<(), TestCaseError> {
    let key = op.target().key();
    let before = store.current_revision();
    let previous = store.get(&key).await.ok();
    let (result, deleted) = run(store, op).await;
    let after = store.current_revision();
    let now = store.get(&key).await.ok();
    match result {
        Err(error) => {
            prop_assert_eq!(after, before, "{:?} failed ({}) but moved the revision", op, error);
            prop_assert_eq!(&now, &previous, "{:?} failed ({}) but changed the object", op, error);
        }
        Ok(object) if deleted => {
            // A completed delete answers like kube-apiserver's Status: the object's identity
            // only (no resourceVersion); the removal is one revision.
            prop_assert!(now.is_none(), "{:?}: deleted but still readable", op);
            prop_assert_eq!(after, before + 1, "{:?}: the delete is not one revision", op);
            prop_assert_eq!(object.name(), key.name.as_str());
            model.remove(&key);
        }
        Ok(object) if now.is_none() => {
            // An update that removed the last finalizer of a terminating object: not written,
            // deleted in one revision, and answered with the request's object at the
            // resourceVersion it updated.
            prop_assert!(object.is_terminating(), "{:?}: object vanished", op);
            prop_assert_eq!(
                after,
                before + 1,
                "{:?}: the last finalizer's removal is the delete",
                op
            );
            prop_assert_eq!(
                previous.as_ref().and_then(|p| p.resource_version()),
                object.resource_version(),
                "{:?}: answered at another resourceVersion",
                op
            );
            model.remove(&key);
        }
        Ok(object) => {
            let rv = rv_of(&object);
            let unchanged = previous
                .as_ref()
                .is_some_and(|p| p.resource_version() == object.resource_version());
            if unchanged {
                prop_assert_eq!(after, before, "no-op {:?} moved the revision", op);
                prop_assert_eq!(&now, &previous, "no-op {:?} changed the object", op);
            } else {
                prop_assert!(
                    rv > before,
                    "{:?}: resourceVersion {} not after revision {}",
                    op,
                    rv,
                    before
                );
                prop_assert_eq!(after, rv, "{:?}: revision is not the write's resourceVersion", op);
                prop_assert_eq!(
                    now.as_ref(),
                    Some(&object),
                    "{:?}: get differs from the write's answer",
                    op
                );
                model.insert(key.clone(), rv);
            }
        }
    }
    if let Some(stored) = &now {
        prop_assert_eq!(
            Some(&rv_of(stored)),
            model.get(&key),
            "{} is not at its last write",
            key
        );
    }
    Ok(())
}

fn watch_params(from: u64) -> WatchParams {
    WatchParams {
        resource_version: Some(from.to_string()),
        ..WatchParams::default()
    }
}

/// Applies every event that arrives until the stream is quiet; checks RV order.
async fn replay(stream: &mut WatchStream) -> Result<BTreeMap<ObjectRef, Arc<Object>>, TestCaseError> {
    let mut state = BTreeMap::new();
    let mut last = 0;
    while let Ok(Some(event)) = tokio::time::timeout(Duration::from_secs(1), stream.next()).await {
        let event = event.map_err(|e| TestCaseError::fail(format!("watch error: {e}")))?;
        if let Some(rv) = event.resource_version().and_then(|rv| rv.parse::<u64>().ok()) {
            prop_assert!(
                rv > last,
                "watch resourceVersions not increasing: {} after {}",
                rv,
                last
            );
            last = rv;
        }
        match event {
            WatchEvent::Added(o) | WatchEvent::Modified(o) => {
                state.insert(o.object_ref(), o);
            }
            WatchEvent::Deleted(o) => {
                state.remove(&o.object_ref());
            }
            WatchEvent::Bookmark { .. } => {}
        }
    }
    Ok(state)
}

async fn check_sequence(seed: u64, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let store = setup(seed).await;
    let start = store.current_revision();
    let mut live = Vec::new();
    for kind in KINDS {
        live.push(store.watch(&kind.type_ref(), &watch_params(start)).await.unwrap());
    }
    let mut model = HashMap::new();
    for op in &ops {
        apply(&store, op, &mut model).await?;
    }
    for (kind, live) in KINDS.into_iter().zip(live.iter_mut()) {
        let listed = store.list(&kind.type_ref(), &ListParams::default()).await.unwrap();
        prop_assert_eq!(listed.resource_version.clone(), store.current_revision().to_string());
        let listed: BTreeMap<ObjectRef, Arc<Object>> = listed.items.into_iter().map(|o| (o.object_ref(), o)).collect();
        for (key, object) in &listed {
            prop_assert_eq!(Some(&rv_of(object)), model.get(key), "{} is not at its last write", key);
        }
        let expected = model.keys().filter(|k| k.type_ref == kind.type_ref()).count();
        prop_assert_eq!(listed.len(), expected, "list of {} misses objects", kind.type_ref());

        prop_assert_eq!(
            &replay(live).await?,
            &listed,
            "live watch of {:?} disagrees with the list",
            kind
        );
        let mut late = store.watch(&kind.type_ref(), &watch_params(start)).await.unwrap();
        prop_assert_eq!(
            &replay(&mut late).await?,
            &listed,
            "replayed watch of {:?} disagrees with the list",
            kind
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn random_write_sequences_keep_the_revision_invariants(
        seed in any::<u64>(),
        ops in prop::collection::vec(op(), 1..80),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        runtime.block_on(check_sequence(seed, ops))?;
    }
}
