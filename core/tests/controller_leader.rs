//! Two replicas of a controller, each gated by its own leader elector on a shared memory
//! backend: only one reconciles at any virtual instant, and the other takes over.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use operator_runtime_core::cache::{Cache, CacheConfig};
use operator_runtime_core::clock::{Clock, Timestamp};
use operator_runtime_core::controller::{Action, Controller, ControllerConfig};
use operator_runtime_core::lease::{LeaderElector, LeaseConfig};
use operator_runtime_core::store::{KindInfo, WriteParams};
use operator_runtime_core::{Object, ObjectStore, StoreError, TypeRef};
use operator_runtime_memory::MemoryStore;
use operator_runtime_memory::faults::{FaultHandle, FaultyStore, Operation};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep};

fn parent_type() -> TypeRef {
    TypeRef::new("example.com/v1", "DataCluster")
}

/// Wall time that follows tokio's virtual clock.
struct TokioClock {
    base: Timestamp,
    start: Instant,
}

impl Clock for TokioClock {
    fn now(&self) -> Timestamp {
        self.base.checked_add(self.start.elapsed()).unwrap()
    }
}

/// (replica, start, end) of every reconcile; the end is recorded even when the run is
/// aborted (the guard is dropped with the future).
type Runs = Arc<Mutex<Vec<(&'static str, Duration, Duration)>>>;

struct RunGuard {
    runs: Runs,
    replica: &'static str,
    t0: Instant,
    start: Duration,
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        let end = self.t0.elapsed();
        self.runs.lock().unwrap().push((self.replica, self.start, end));
    }
}

struct Ctx {
    replica: &'static str,
    t0: Instant,
    runs: Runs,
}

#[derive(Debug, thiserror::Error)]
#[error("never")]
struct Never;

async fn reconcile(_object: Arc<Object>, ctx: Arc<Ctx>) -> Result<Action, Never> {
    let _guard = RunGuard {
        runs: Arc::clone(&ctx.runs),
        replica: ctx.replica,
        t0: ctx.t0,
        start: ctx.t0.elapsed(),
    };
    // Slow, always-busy reconciles: any overlap between replicas would show.
    sleep(Duration::from_secs(3)).await;
    Ok(Action::requeue(Duration::from_millis(500)))
}

struct Replica {
    lease_faults: FaultHandle,
    stops: Vec<oneshot::Sender<()>>,
    tasks: Vec<JoinHandle<()>>,
}

fn start_replica(store: &Arc<MemoryStore>, replica: &'static str, t0: Instant, runs: &Runs) -> Replica {
    let lease_store = FaultyStore::new(Arc::clone(store), 11);
    let lease_faults = lease_store.handle();
    let clock = Arc::new(TokioClock {
        base: Timestamp::from_second(1_767_225_600).unwrap(),
        start: t0,
    });
    let config = LeaseConfig::new("default", "datacluster-operator", replica)
        .unwrap()
        .with_timings(Duration::from_secs(15), Duration::from_secs(10), Duration::from_secs(2))
        .unwrap();
    let elector = LeaderElector::new(lease_store, clock, config);
    let controller = Controller::new(
        Arc::new(Cache::new(Arc::clone(store), CacheConfig::default())),
        parent_type(),
    )
    .with_config(ControllerConfig::default().with_concurrency(2).unwrap())
    .leader_gate(elector.subscribe());

    let (stop_elector, elector_stopped) = oneshot::channel::<()>();
    let (stop_controller, controller_stopped) = oneshot::channel::<()>();
    let ctx = Arc::new(Ctx {
        replica,
        t0,
        runs: Arc::clone(runs),
    });
    let tasks = vec![
        tokio::spawn(async move {
            elector
                .run(async move {
                    let _ = elector_stopped.await;
                })
                .await
                .unwrap();
        }),
        tokio::spawn(async move {
            controller
                .run(reconcile, ctx, async move {
                    let _ = controller_stopped.await;
                })
                .await
                .unwrap();
        }),
    ];
    Replica {
        lease_faults,
        stops: vec![stop_controller, stop_elector],
        tasks,
    }
}

#[tokio::test(start_paused = true)]
async fn only_one_replica_reconciles_at_any_instant_and_the_other_takes_over() {
    let store = MemoryStore::new();
    store.register_kind(KindInfo {
        type_ref: parent_type(),
        plural: "dataclusters".into(),
        namespaced: true,
        status_subresource: true,
    });
    let store = Arc::new(store);
    for name in ["one", "two", "three"] {
        store
            .create(
                &Object::new(&parent_type(), Some("default"), name),
                &WriteParams::default(),
            )
            .await
            .unwrap();
    }
    let t0 = Instant::now();
    let runs: Runs = Arc::default();
    let a = start_replica(&store, "a", t0, &runs);
    sleep(Duration::from_millis(700)).await;
    let b = start_replica(&store, "b", t0, &runs);

    sleep(Duration::from_secs(40)).await;
    // a's lease renewals fail from t = 40.7 s: it must stop, b must take over.
    a.lease_faults.fail_next(
        Operation::Replace,
        usize::MAX,
        StoreError::Unavailable {
            message: "partitioned".into(),
            retry_after: None,
            source: None,
        },
    );
    sleep(Duration::from_secs(60)).await;
    for replica in [a, b] {
        for stop in replica.stops {
            stop.send(()).unwrap();
        }
        for task in replica.tasks {
            task.await.unwrap();
        }
    }

    let runs = runs.lock().unwrap().clone();
    let of = |r: &str| runs.iter().filter(|(x, _, _)| *x == r).cloned().collect::<Vec<_>>();
    let (runs_a, runs_b) = (of("a"), of("b"));
    assert!(runs_a.len() > 10 && runs_b.len() > 10, "both replicas led in turn");
    for (_, sa, ea) in &runs_a {
        for (_, sb, eb) in &runs_b {
            assert!(ea <= sb || eb <= sa, "a ran {sa:?}..{ea:?} while b ran {sb:?}..{eb:?}");
        }
    }
    let partition = Duration::from_millis(40_700);
    let a_last = runs_a.iter().map(|(_, _, e)| *e).max().unwrap();
    let b_first = runs_b.iter().map(|(_, s, _)| *s).min().unwrap();
    assert!(
        a_last <= partition + Duration::from_secs(10),
        "a stopped within the renew deadline: {a_last:?}"
    );
    assert!(b_first > partition, "b never ran before the partition");
    assert!(
        b_first <= partition + Duration::from_secs(17),
        "b took over within the lease duration: {b_first:?}"
    );
}
