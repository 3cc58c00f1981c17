//! Running behaviours: the registry, [`run_all`], and the functions behind [`crate::store_suite!`].

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use operator_runtime_core::ObjectStore;

use crate::outcome::{CaseResult, Outcome};
use crate::report::{Entry, Report};
use crate::support::ctx::NAMESPACE_PREFIX;

/// A behaviour function, monomorphised for one store type.
pub type BehaviourFn<S> = for<'a> fn(&'a S) -> BoxFuture<'a, CaseResult>;

/// One registered behaviour.
pub struct Behaviour<S: ?Sized> {
    /// Area (module).
    pub area: &'static str,
    /// Function name; also the test name and, in kebab case, the namespace name.
    pub name: &'static str,
    /// The behaviour.
    pub run: BehaviourFn<S>,
}

/// Every behaviour of the suite, in a stable order (by area, then as written).
pub fn behaviours<S: ObjectStore>() -> Vec<Behaviour<S>> {
    crate::__with_behaviours!(@registry S)
}

/// A behaviour that runs longer than this fails (a hung watch must not hang the run).
const BEHAVIOUR_TIMEOUT: Duration = Duration::from_secs(180);
/// How many behaviours [`run_all`] runs at once.
const PARALLELISM: usize = 8;

/// Runs one behaviour against a store, with a timeout, turning a panic into a failure.
pub async fn run_behaviour<S: ObjectStore>(behaviour: &Behaviour<S>, store: &S) -> CaseResult {
    let guarded = AssertUnwindSafe((behaviour.run)(store)).catch_unwind();
    match tokio::time::timeout(BEHAVIOUR_TIMEOUT, guarded).await {
        Err(_) => Err(format!("did not finish within {BEHAVIOUR_TIMEOUT:?}")),
        Ok(Err(panic)) => Err(format!("panicked: {}", panic_message(panic.as_ref()))),
        Ok(Ok(result)) => result,
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_owned())
}

/// Runs every behaviour, each against a store from `store_factory` (called once per behaviour),
/// several at a time, and returns the report. Namespaces are prefixed `r-`, so a report run can
/// share a real server with the per-behaviour tests (prefixed `c-`).
pub async fn run_all<S, F, Fut>(store_factory: F) -> Report
where
    S: ObjectStore,
    F: Fn() -> Fut,
    Fut: Future<Output = S>,
{
    let all = behaviours::<S>();
    let factory = &store_factory;
    let results: Vec<(Entry, String)> = futures::stream::iter(all.iter())
        .map(|behaviour| async move {
            let store = factory().await;
            let backend = store.capabilities().name;
            let result = NAMESPACE_PREFIX.scope("r", run_behaviour(behaviour, &store)).await;
            let entry = Entry {
                area: behaviour.area,
                name: behaviour.name,
                result,
            };
            (entry, backend)
        })
        .buffered(PARALLELISM)
        .collect()
        .await;
    let backend = results.first().map(|(_, b)| b.clone()).unwrap_or_default();
    Report {
        backend,
        entries: results.into_iter().map(|(entry, _)| entry).collect(),
    }
}

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    // A test harness: failing to build a runtime is a broken environment, not a user error.
    #[allow(clippy::expect_used)]
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("building the tokio runtime for a conformance test")
}

/// Runs the behaviour `name` as one `#[test]`: panics (fails the test) on failure, prints
/// `N/A: <reason>` to stderr when it does not apply. Used by [`crate::store_suite!`].
#[doc(hidden)]
pub fn __run_test<S, F, Fut>(name: &str, store_factory: F)
where
    S: ObjectStore,
    F: Fn() -> Fut,
    Fut: Future<Output = S>,
{
    let result = runtime().block_on(async {
        let all = behaviours::<S>();
        let Some(behaviour) = all.iter().find(|b| b.name == name) else {
            return Err(format!("no behaviour named {name}"));
        };
        let store = store_factory().await;
        NAMESPACE_PREFIX.scope("c", run_behaviour(behaviour, &store)).await
    });
    match result {
        Ok(Outcome::Passed) => {}
        Ok(Outcome::NotApplicable(reason)) => eprintln!("{name}: N/A: {reason}"),
        Err(why) => panic!("{name} FAILED: {why}"),
    }
}

/// Runs every behaviour, prints the report table to stderr and panics if any failed. Used by
/// [`crate::store_suite!`] as the `conformance_report` test.
#[doc(hidden)]
pub fn __run_report<S, F, Fut>(store_factory: F)
where
    S: ObjectStore,
    F: Fn() -> Fut,
    Fut: Future<Output = S>,
{
    let report = runtime().block_on(run_all(store_factory));
    eprintln!("{report}");
    assert!(report.is_success(), "{} behaviours failed", report.failed().count());
}
