//! Runtime scenarios: the reconcile driver end to end over a store (converge, zero requests in
//! steady state, drift repair, other managers' fields, orphans, cleanup, minimal writes).
//!
//! Each scenario is a plain `pub async fn(Arc<dyn ObjectStore>) -> CaseResult` in
//! [`mod@scenarios`]; a backend runs them all with [`crate::runtime_suite!`], one named test each
//! (`runtime_<scenario>`). Like the store behaviours, each works in its own namespace, so they
//! can share one real API server.

pub mod fixpoint;
pub mod fixture;
pub mod safety;
pub mod scenarios;
pub mod steady_state;

use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;
use operator_runtime_core::ObjectStore;

use crate::outcome::{CaseResult, Outcome};

/// A runtime scenario.
pub type ScenarioFn = fn(Arc<dyn ObjectStore>) -> BoxFuture<'static, CaseResult>;

/// Every runtime scenario, by name.
pub fn scenarios() -> Vec<(&'static str, ScenarioFn)> {
    crate::__with_scenarios!(@registry)
}

/// Runs the scenario `name` as one `#[test]` against a store from `store_factory`.
#[doc(hidden)]
pub fn __run_scenario<S, F, Fut>(name: &str, store_factory: F)
where
    S: ObjectStore,
    F: Fn() -> Fut,
    Fut: Future<Output = S>,
{
    let result = crate::harness::runtime().block_on(async {
        let Some((_, run)) = scenarios().into_iter().find(|(n, _)| *n == name) else {
            return Err(format!("no scenario named {name}"));
        };
        let store: Arc<dyn ObjectStore> = Arc::new(store_factory().await);
        let timeout = std::time::Duration::from_secs(180);
        tokio::time::timeout(timeout, run(store))
            .await
            .unwrap_or_else(|_| Err(format!("did not finish within {timeout:?}")))
    });
    match result {
        Ok(Outcome::Passed) => eprintln!("runtime {name}: passed"),
        Ok(Outcome::NotApplicable(reason)) => eprintln!("runtime {name}: N/A: {reason}"),
        Err(why) => panic!("runtime {name} FAILED: {why}"),
    }
}

/// Expands to one `#[test]` per runtime scenario, named `runtime_<scenario>`, each against a
/// store from the given factory (an `async fn() -> impl ObjectStore`).
/// `runtime_suite!(factory, if guard)` skips each test whose `guard()` is false, like
/// [`crate::store_suite!`].
#[macro_export]
macro_rules! runtime_suite {
    ($factory:path) => {
        $crate::__with_scenarios!(@tests $factory, $crate::__always);
    };
    ($factory:path, if $guard:path) => {
        $crate::__with_scenarios!(@tests $factory, $guard);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __each_scenario {
    ([@registry] $($name:ident => $test:ident,)*) => {
        vec![$(
            (stringify!($name), (|store| ::std::boxed::Box::pin($crate::runtime::scenarios::$name(store))) as $crate::runtime::ScenarioFn),
        )*]
    };
    ([@tests $factory:path, $guard:path] $($name:ident => $test:ident,)*) => {
        $(
            #[test]
            fn $test() {
                if $guard() {
                    $crate::runtime::__run_scenario(stringify!($name), $factory);
                }
            }
        )*
    };
}

/// The one list of runtime scenarios (name => test name).
#[doc(hidden)]
#[macro_export]
macro_rules! __with_scenarios {
    (@registry) => {
        $crate::__with_scenarios!(@list [@registry])
    };
    (@tests $factory:path, $guard:path) => {
        $crate::__with_scenarios! { @list [@tests $factory, $guard] }
    };
    (@list $mode:tt) => {
        $crate::__each_scenario! {
            $mode
            converge_from_empty => runtime_converge_from_empty,
            steady_state_reconcile_sends_no_request => runtime_steady_state_reconcile_sends_no_request,
            manual_edit_of_owned_field_is_repaired => runtime_manual_edit_of_owned_field_is_repaired,
            field_of_another_manager_is_preserved => runtime_field_of_another_manager_is_preserved,
            deleted_child_is_recreated => runtime_deleted_child_is_recreated,
            removing_node_type_deletes_exactly_its_children => runtime_removing_node_type_deletes_exactly_its_children,
            object_with_our_labels_but_other_owner_is_kept => runtime_object_with_our_labels_but_other_owner_is_kept,
            deleting_parent_cleans_up_then_parent_is_gone => runtime_deleting_parent_cleans_up_then_parent_is_gone,
            spec_change_writes_changed_children_and_one_status => runtime_spec_change_writes_changed_children_and_one_status,
            store_event_recorder_writes_events_and_folds_repeats => runtime_store_event_recorder_writes_events_and_folds_repeats,
            lease_lock_acquires_renews_takes_over_and_releases => runtime_lease_lock_acquires_renews_takes_over_and_releases,
            normalized_children_are_not_drift_and_edits_are_repaired_once => runtime_normalized_children_are_not_drift_and_edits_are_repaired_once,
            status_defaulted_by_the_schema_is_not_rewritten => runtime_status_defaulted_by_the_schema_is_not_rewritten,
            secret_values_never_appear_in_events_or_plans => runtime_secret_values_never_appear_in_events_or_plans,
            repeated_warning_is_sent_once_while_nothing_changes => runtime_repeated_warning_is_sent_once_while_nothing_changes,
            deleting_parent_with_orphan_propagation_keeps_children => runtime_deleting_parent_with_orphan_propagation_keeps_children,
            permanent_error_is_reported_once_and_not_retried => runtime_permanent_error_is_reported_once_and_not_retried,
            forbidden_kind_is_reported_and_other_kinds_keep_working => runtime_forbidden_kind_is_reported_and_other_kinds_keep_working,
            stale_relist_never_writes_from_an_older_spec => runtime_stale_relist_never_writes_from_an_older_spec,
            paused_parent_gets_no_child_writes_until_resumed => runtime_paused_parent_gets_no_child_writes_until_resumed,
            pure_operator_skips_only_unchanged_reconciles => runtime_pure_operator_skips_only_unchanged_reconciles,
        }
    };
}
