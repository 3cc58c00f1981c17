//! One parent with many children (1,500 ConfigMaps): the driver matches, plans and remembers
//! them through hash maps, not by comparing every pair, and what it decides is the same as for
//! a few children: one converge writes each child once, a resync sends no request, and a
//! manual edit of one child is undone by one write of that child alone.

use std::sync::Arc;

use operator_runtime_conformance::runtime::fixture::World;
use operator_runtime_conformance::support::kinds;
use operator_runtime_core::builder::{DesiredSet, OwnedKind, Ownership};
use operator_runtime_core::reconcile::{Context, DynamicOperator, OperatorError, SpecError};
use operator_runtime_core::store::WriteParams;
use operator_runtime_core::{Object, ObjectRef, ObjectStore, TypeRef};
use operator_runtime_memory::MemoryStore;
use serde_json::json;

const CHILDREN: usize = 1_500;
const MANAGER: &str = "large-parent-operator";

fn config_map() -> TypeRef {
    TypeRef::new("v1", "ConfigMap")
}

/// `CHILDREN` ConfigMaps per parent, added in an order that is not their sorted one.
struct ManyChildren {
    ownership: Ownership,
}

impl DynamicOperator for ManyChildren {
    fn parent_type(&self) -> TypeRef {
        kinds::widget()
    }

    fn ownership(&self) -> &Ownership {
        &self.ownership
    }

    fn desired(&self, parent: &Object, _ctx: &Context<'_>, set: &mut DesiredSet) -> Result<(), OperatorError> {
        for i in (0..CHILDREN).rev() {
            let name = format!("{}-{i:05}", parent.name());
            let child =
                Object::new(&config_map(), parent.namespace(), &name).with("data", json!({"index": i.to_string()}));
            set.add("configs", child)
                .map_err(|e| SpecError::new("spec", e.to_string()))?;
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_parent_with_many_children_converges_rests_and_repairs_one_edit_with_one_write() {
    let store: Arc<dyn ObjectStore> = Arc::new(MemoryStore::new());
    let operator = ManyChildren {
        ownership: Ownership::new(MANAGER).owns_kind(OwnedKind::namespaced(config_map())),
    };
    let world = World::with_operator(Arc::clone(&store), "large-parent", operator, MANAGER)
        .await
        .expect("world");
    let parent = world
        .create(&Object::new(&kinds::widget(), Some(&world.ns), "big").with("spec", json!({})))
        .await
        .expect("parent");
    world.settle().await.expect("settle");
    let key = parent.object_ref();

    let first = world.reconciler.reconcile(&key).await.expect("first reconcile");
    assert_eq!(first.child_writes, CHILDREN, "every child is written once");
    world.settle().await.expect("settle");
    let verified = world.reconciler.verified(&key).expect("children remembered");
    assert_eq!(verified.len(), CHILDREN, "each written child is remembered once");

    // Until a reconcile writes nothing (the first one's status write comes back as a change).
    for _ in 0..3 {
        let report = world.reconciler.reconcile(&key).await.expect("reconcile");
        world.settle().await.expect("settle");
        if report.child_writes == 0 && !report.status_written {
            break;
        }
    }
    let before = world.counted.snapshot();
    let resync = world.reconciler.reconcile(&key).await.expect("resync");
    assert_eq!(resync.child_writes, 0);
    assert!(!resync.status_written);
    assert_eq!(
        world.counted.snapshot().since(&before).total(),
        0,
        "a resync sends no request"
    );

    // Someone edits one child: the next reconcile writes that child back, and only it.
    let edited_key = ObjectRef::namespaced(config_map(), &world.ns, format!("big-{:05}", 737));
    let live = world.get(&edited_key).await.expect("get").expect("child exists");
    let mut edited = (*live).clone();
    edited.body.insert("data".into(), json!({"index": "edited by hand"}));
    world
        .raw
        .replace(&edited, &WriteParams::default())
        .await
        .expect("manual edit");
    world.settle().await.expect("settle");
    let before = world.counted.snapshot();
    let repair = world.reconciler.reconcile(&key).await.expect("repair");
    assert_eq!(repair.child_writes, 1, "only the edited child is written");
    let requests = world.counted.snapshot().since(&before);
    let child_writes: u64 = requests
        .iter()
        .filter(|(verb, kind, _)| verb.is_write() && **kind == config_map())
        .map(|(_, _, n)| n)
        .sum();
    assert_eq!(child_writes, 1, "one child write request: {requests:?}");
    let repaired = world.get(&edited_key).await.expect("get").expect("child exists");
    assert_eq!(repaired.body.get("data"), Some(&json!({"index": "737"})));
}
