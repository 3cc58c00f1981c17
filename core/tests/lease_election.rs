//! Leader election on the memory backend, in virtual time (tokio `start_paused`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use operator_runtime_core::clock::{Clock, Timestamp};
use operator_runtime_core::lease::{LeaderElector, LeaseConfig, LeaseLock, LockOutcome};
use operator_runtime_core::{ObjectStore, StoreError};
use operator_runtime_memory::MemoryStore;
use operator_runtime_memory::faults::{FaultHandle, FaultyStore, Operation};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep};

const LEASE: Duration = Duration::from_secs(15);
const RENEW_DEADLINE: Duration = Duration::from_secs(10);
const RETRY: Duration = Duration::from_secs(2);

/// Wall time that follows tokio's (virtual) clock, shifted by a fixed skew.
struct TokioClock {
    base: Timestamp,
    start: Instant,
    skew: Duration,
}

impl TokioClock {
    fn new(skew: Duration) -> Arc<Self> {
        Arc::new(Self {
            base: Timestamp::from_second(1_767_225_600).unwrap(),
            start: Instant::now(),
            skew,
        })
    }
}

impl Clock for TokioClock {
    fn now(&self) -> Timestamp {
        let elapsed = self.start.elapsed() + self.skew;
        self.base.checked_add(elapsed).unwrap()
    }
}

fn config(identity: &str) -> LeaseConfig {
    LeaseConfig::new("default", "operator-lock", identity)
        .unwrap()
        .with_timings(LEASE, RENEW_DEADLINE, RETRY)
        .unwrap()
}

/// One running candidate: its leadership channel, a fault handle on its own view of the
/// store, and how to stop it.
struct Candidate {
    leader: watch::Receiver<bool>,
    faults: FaultHandle,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Candidate {
    fn start(store: &Arc<MemoryStore>, identity: &str, skew: Duration) -> Self {
        let faulty = FaultyStore::new(Arc::clone(store), 7);
        let faults = faulty.handle();
        let elector = LeaderElector::new(faulty, TokioClock::new(skew), config(identity));
        let leader = elector.subscribe();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            elector
                .run(async move {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        Self {
            leader,
            faults,
            stop: Some(stop),
            task,
        }
    }

    fn is_leader(&self) -> bool {
        *self.leader.borrow()
    }

    /// Every renew (a replace) fails from now on, as in a partition from the API server.
    fn partition(&self) {
        self.faults.fail_next(
            Operation::Replace,
            usize::MAX,
            StoreError::Unavailable {
                message: "partitioned".into(),
                retry_after: None,
                source: None,
            },
        );
    }

    async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).unwrap();
        }
        self.task.await.unwrap();
    }
}

/// (virtual time, a is leader, b is leader) after every change of either.
type TransitionLog = Arc<Mutex<Vec<(Duration, bool, bool)>>>;

/// Records every leadership transition of two candidates, and fails if both are ever leader
/// at once (checked on every change of either channel).
fn monitor(mut a: watch::Receiver<bool>, mut b: watch::Receiver<bool>) -> (TransitionLog, JoinHandle<()>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let t0 = Instant::now();
    let out = Arc::clone(&log);
    let task = tokio::spawn(async move {
        loop {
            tokio::select! {
                r = a.changed() => if r.is_err() { break },
                r = b.changed() => if r.is_err() { break },
            }
            let (la, lb) = (*a.borrow_and_update(), *b.borrow_and_update());
            out.lock().unwrap().push((t0.elapsed(), la, lb));
            assert!(!(la && lb), "two leaders at {:?}", t0.elapsed());
        }
    });
    (log, task)
}

/// When `pick` first became true after `after`.
fn first_time(log: &[(Duration, bool, bool)], after: Duration, pick: impl Fn(bool, bool) -> bool) -> Option<Duration> {
    log.iter()
        .find(|(t, a, b)| *t >= after && pick(*a, *b))
        .map(|(t, _, _)| *t)
}

async fn read_lease(store: &MemoryStore) -> Lease {
    let key = operator_runtime_core::ObjectRef::namespaced(
        operator_runtime_core::TypeRef::of::<Lease>(),
        "default",
        "operator-lock",
    );
    store.get(&key).await.unwrap().to_typed().unwrap()
}

#[tokio::test(start_paused = true)]
async fn one_leader_at_a_time_and_failover_when_renewals_fail() {
    let store = Arc::new(MemoryStore::new());
    let a = Candidate::start(&store, "a", Duration::ZERO);
    sleep(Duration::from_millis(500)).await;
    let b = Candidate::start(&store, "b", Duration::ZERO);
    let (log, watcher) = monitor(a.leader.clone(), b.leader.clone());

    // Sample as well: never two leaders, and a stays leader while healthy.
    for _ in 0..300 {
        sleep(Duration::from_millis(100)).await;
        assert!(a.is_leader() && !b.is_leader());
    }
    let cut = Duration::from_secs(30);
    a.partition();
    let mut both = 0;
    for _ in 0..600 {
        sleep(Duration::from_millis(100)).await;
        both += usize::from(a.is_leader() && b.is_leader());
    }
    assert_eq!(both, 0);
    assert!(b.is_leader() && !a.is_leader(), "b took over, a stayed down");

    let log = log.lock().unwrap().clone();
    let a_down = first_time(&log, cut, |a, _| !a).expect("a stepped down");
    let b_up = first_time(&log, cut, |_, b| b).expect("b acquired");
    // a's last successful renew was at most RETRY before the cut; it stops RENEW_DEADLINE later.
    assert!(a_down <= cut + RENEW_DEADLINE, "a stepped down at {a_down:?}");
    assert!(
        a_down < b_up,
        "a stepped down ({a_down:?}) before b acquired ({b_up:?})"
    );
    assert!(
        b_up <= cut + LEASE + RETRY,
        "b took over within the lease duration: {b_up:?}"
    );
    assert!(
        b_up >= cut + LEASE - RETRY,
        "b did not take over a live lease: {b_up:?}"
    );

    let lease = read_lease(&store).await.spec.unwrap();
    assert_eq!(lease.holder_identity.as_deref(), Some("b"));
    assert_eq!(lease.lease_transitions, Some(1));

    // a's partition heals: it stays a follower while b renews.
    a.faults.clear();
    sleep(Duration::from_secs(60)).await;
    assert!(b.is_leader() && !a.is_leader());
    drop(log);
    b.shutdown().await;
    a.shutdown().await;
    watcher.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_crashed_leader_is_replaced_within_the_lease_duration() {
    let store = Arc::new(MemoryStore::new());
    let a = Candidate::start(&store, "a", Duration::ZERO);
    sleep(Duration::from_secs(1)).await;
    let b = Candidate::start(&store, "b", Duration::ZERO);
    sleep(Duration::from_secs(20)).await;
    assert!(a.is_leader() && !b.is_leader());
    let last_renew = read_lease(&store).await.spec.unwrap().renew_time.unwrap().0;
    // A crash: the task dies, nothing is released.
    a.task.abort();
    let crashed = Instant::now();
    let mut b_leader = b.leader.clone();
    b_leader.wait_for(|l| *l).await.unwrap();
    let took = crashed.elapsed();
    assert!(took <= LEASE + RETRY, "took over after {took:?}");
    let acquired = read_lease(&store).await.spec.unwrap().acquire_time.unwrap().0;
    let since_renew = acquired.duration_since(last_renew);
    assert!(
        since_renew >= LEASE.try_into().unwrap(),
        "b acquired {since_renew:?} after the last renew, before the lease expired"
    );
    b.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn shutdown_releases_the_lease_for_a_quick_handover() {
    let store = Arc::new(MemoryStore::new());
    let a = Candidate::start(&store, "a", Duration::ZERO);
    sleep(Duration::from_secs(1)).await;
    let b = Candidate::start(&store, "b", Duration::ZERO);
    sleep(Duration::from_secs(10)).await;
    let mut a_leader = a.leader.clone();
    assert!(*a_leader.borrow());
    let stopped = Instant::now();
    a.shutdown().await;
    assert!(!*a_leader.borrow_and_update(), "a reports no leadership after shutdown");
    let released = read_lease(&store).await.spec.unwrap();
    assert_eq!(released.holder_identity, None, "holderIdentity cleared on release");
    let mut b_leader = b.leader.clone();
    b_leader.wait_for(|l| *l).await.unwrap();
    assert!(stopped.elapsed() <= RETRY, "handover took {:?}", stopped.elapsed());
    b.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn bounded_clock_skew_keeps_a_single_leader() {
    // b's clock runs 4 s ahead: less than lease_duration - renew_deadline (5 s).
    let store = Arc::new(MemoryStore::new());
    let a = Candidate::start(&store, "a", Duration::ZERO);
    sleep(Duration::from_millis(300)).await;
    let b = Candidate::start(&store, "b", Duration::from_secs(4));
    let (log, watcher) = monitor(a.leader.clone(), b.leader.clone());
    sleep(Duration::from_secs(20)).await;
    a.partition();
    sleep(Duration::from_secs(40)).await;
    assert!(b.is_leader() && !a.is_leader());
    let log = log.lock().unwrap().clone();
    assert!(log.iter().all(|(_, a, b)| !(*a && *b)));
    b.shutdown().await;
    a.shutdown().await;
    watcher.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn the_lock_reports_a_live_foreign_lease_and_lost_races() {
    let store = Arc::new(MemoryStore::new());
    let clock = TokioClock::new(Duration::ZERO);
    let a = LeaseLock::new(Arc::clone(&store), clock.clone(), config("a"));
    let b = LeaseLock::new(Arc::clone(&store), clock.clone(), config("b"));
    assert!(matches!(
        a.try_acquire_or_renew().await.unwrap(),
        LockOutcome::Held { acquired: true, .. }
    ));
    assert!(matches!(
        a.try_acquire_or_renew().await.unwrap(),
        LockOutcome::Held { acquired: false, .. }
    ));
    match b.try_acquire_or_renew().await.unwrap() {
        LockOutcome::HeldByOther { holder, expires } => {
            assert_eq!(holder, "a");
            assert_eq!(expires, clock.now().checked_add(LEASE).unwrap());
        }
        other => panic!("expected HeldByOther, got {other:?}"),
    }
    assert!(!b.release().await.unwrap(), "b cannot release a's lease");
    sleep(LEASE + Duration::from_millis(1)).await;
    assert!(matches!(
        b.try_acquire_or_renew().await.unwrap(),
        LockOutcome::Held { acquired: true, .. }
    ));
    // a's next attempt sees b's live lease.
    assert!(matches!(
        a.try_acquire_or_renew().await.unwrap(),
        LockOutcome::HeldByOther { .. }
    ));
    assert!(b.release().await.unwrap());
}

#[tokio::test(start_paused = true)]
async fn a_write_that_loses_the_race_is_a_conflict_not_an_error() {
    let store = Arc::new(MemoryStore::new());
    let clock = TokioClock::new(Duration::ZERO);
    let slow = FaultyStore::new(Arc::clone(&store), 1);
    let slow_faults = slow.handle();
    let a = Arc::new(LeaseLock::new(slow, clock.clone(), config("a")));
    let b = LeaseLock::new(Arc::clone(&store), clock.clone(), config("b"));

    // Both see no Lease; a's create is held back, b's lands first.
    slow_faults.delay_next(Operation::Create, 1, Duration::from_secs(1));
    let a_attempt = tokio::spawn({
        let a = Arc::clone(&a);
        async move { a.try_acquire_or_renew().await.unwrap() }
    });
    sleep(Duration::from_millis(100)).await;
    assert!(matches!(
        b.try_acquire_or_renew().await.unwrap(),
        LockOutcome::Held { acquired: true, .. }
    ));
    assert_eq!(a_attempt.await.unwrap(), LockOutcome::Conflict);

    // The Lease expires; a reads it, its takeover is held back, b renews in between.
    sleep(LEASE + Duration::from_secs(1)).await;
    slow_faults.delay_next(Operation::Replace, 1, Duration::from_secs(1));
    let a_attempt = tokio::spawn({
        let a = Arc::clone(&a);
        async move { a.try_acquire_or_renew().await.unwrap() }
    });
    sleep(Duration::from_millis(100)).await;
    assert!(matches!(
        b.try_acquire_or_renew().await.unwrap(),
        LockOutcome::Held { .. }
    ));
    assert_eq!(a_attempt.await.unwrap(), LockOutcome::Conflict);
    let lease = read_lease(&store).await.spec.unwrap();
    assert_eq!(lease.holder_identity.as_deref(), Some("b"));
}
