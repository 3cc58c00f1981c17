//! # operator-runtime-conformance
//!
//! A behaviour suite for [`operator_runtime_core::ObjectStore`] backends, in the style of the
//! `object_store` crate's integration suite: every behaviour is a plain `pub async fn` generic
//! over the store (`S: ObjectStore + ?Sized`) returning [`CaseResult`], grouped in modules by
//! area ([`create`], [`update`], [`status`], [`patch`], [`delete_finalizers`], [`gc`],
//! [`list_selectors`], [`watch`], [`apply`], [`dry_run`], [`namespaces`], [`crd`]). Each one
//! checks one line of the API-server checklist (`shared/reference/apiserver-semantics.md`, A.3),
//! and every assertion is one that holds on a real kube-apiserver: error *variants* are matched
//! ([`operator_runtime_core::StoreError::NotFound`], ...), never message texts.
//!
//! ## Running the suite against a backend
//! In the backend's `tests/conformance.rs`:
//! ```text
//! async fn make_store() -> impl operator_runtime_core::ObjectStore {
//!     operator_runtime_memory::MemoryStore::new()
//! }
//! operator_runtime_conformance::store_suite!(make_store);
//! ```
//! [`store_suite!`] expands to one `#[test]` per behaviour, named after it (so a failure names
//! the behaviour), each on its own two-worker multi-thread tokio runtime with a fresh store
//! from the factory, plus a `conformance_report` test that runs everything and prints the table:
//! `cargo test -p <backend> --test conformance conformance_report -- --nocapture`.
//! [`run_all`] does the same from any async context and returns a [`Report`].
//!
//! ## Not applicable
//! Backends differ only through [`operator_runtime_core::Capabilities`], never `cfg`. A
//! behaviour that needs something the backend says it lacks (a garbage collector, schema
//! validation, dry-run, full server-side apply, ...) returns [`Outcome::NotApplicable`] with the
//! reason. Its test still passes but prints `N/A: <reason>` to stderr, and the report lists it,
//! so nothing is skipped silently. A backend that *claims* a capability must pass its behaviours.
//!
//! ## Isolation and timing
//! Each behaviour creates its own namespace through the API, named after the behaviour in kebab
//! case (`c-<name>` for the per-behaviour tests, `r-<name>` in [`run_all`]), so all of them can
//! run in parallel against one shared server. Behaviours that need custom resources install the
//! `Widget`/`Gadget` CRDs of [`support::kinds`] through the API and wait until they are served.
//! Work done by controllers (garbage collection, namespace deletion) is polled for with a bounded
//! deadline ([`support::poll`]); the memory backend finishes it at once. resourceVersions are
//! compared for equality only, except through [`support::rv::revision`], which assumes decimal
//! global revisions (true for etcd and for the memory backend).

#[macro_use]
pub mod support;

pub mod create;
pub mod delete_finalizers;
pub mod dry_run;
pub mod patch;
pub mod runtime;
pub mod status;
pub mod update;

mod harness;
mod outcome;
mod report;

#[doc(hidden)]
pub use harness::{__run_report, __run_test};
pub use harness::{Behaviour, BehaviourFn, behaviours, run_all, run_behaviour};
pub use outcome::{CaseResult, Outcome, describe};
pub use report::{Entry, Report};

/// Expands to one `#[test]` per behaviour (named after it) plus `conformance_report`, each
/// running against a store from the given factory, an `async fn() -> impl ObjectStore` called
/// once per test. See the crate docs.
#[macro_export]
macro_rules! store_suite {
    ($($factory:tt)+) => {
        $crate::__with_behaviours!(@tests $($factory)+);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __each_behaviour {
    ([@registry $store:ty] $($area:ident :: $name:ident,)*) => {
        vec![$(
            $crate::Behaviour::<$store> {
                area: stringify!($area),
                name: stringify!($name),
                run: |store| ::std::boxed::Box::pin($crate::$area::$name(store)),
            },
        )*]
    };
    ([@tests $($factory:tt)+] $($area:ident :: $name:ident,)*) => {
        $(
            #[test]
            fn $name() {
                $crate::__run_test(stringify!($name), $($factory)+);
            }
        )*
        #[test]
        fn conformance_report() {
            $crate::__run_report($($factory)+);
        }
    };
}

/// The one list of behaviours, handed to [`__each_behaviour!`] with a mode.
#[doc(hidden)]
#[macro_export]
macro_rules! __with_behaviours {
    ($($mode:tt)+) => {
        $crate::__each_behaviour! {
            [$($mode)+]
            create::create_sets_uid_timestamp_rv_and_generation,
            create::create_assigns_distinct_uids_and_increasing_rvs,
            create::create_existing_name_is_already_exists,
            create::create_without_name_or_generate_name_is_invalid,
            create::create_with_uppercase_name_is_invalid,
            create::create_with_underscore_name_is_invalid,
            create::create_with_overlong_name_is_invalid,
            create::create_with_generate_name_appends_five_characters,
            create::create_with_resource_version_is_error,
            create::create_overwrites_client_uid_and_creation_timestamp,
            create::create_wipes_client_deletion_timestamp,
            create::create_drops_status_with_status_subresource,
            create::create_keeps_status_without_status_subresource,
            create::creation_timestamp_has_second_precision,
            create::get_of_missing_object_is_not_found,
            create::get_returns_last_written_state,
            create::create_with_invalid_label_value_is_invalid,
            create::create_with_invalid_label_key_is_invalid,
            create::create_response_matches_get,
            update::update_with_current_rv_succeeds_with_new_rv,
            update::update_with_stale_rv_conflicts,
            update::update_custom_resource_without_rv_is_invalid,
            update::update_config_map_without_rv_succeeds,
            update::update_with_mismatched_uid_conflicts,
            update::update_with_empty_uid_keeps_stored_uid,
            update::update_of_missing_custom_resource_is_not_found,
            update::update_with_identical_body_keeps_rv,
            update::update_of_labels_keeps_generation_and_bumps_rv,
            update::update_of_annotations_keeps_generation,
            update::update_of_spec_bumps_generation_by_one,
            update::update_cannot_set_generation,
            update::update_ignores_creation_timestamp_change,
            status::main_update_ignores_status_with_status_subresource,
            status::main_update_of_only_status_is_a_no_op,
            status::status_update_writes_only_status,
            status::status_update_with_stale_rv_conflicts,
            status::status_update_without_status_subresource_is_not_found,
            status::main_update_of_status_without_subresource_bumps_generation,
            status::status_update_of_missing_object_is_not_found,
            patch::merge_patch_of_missing_object_is_not_found,
            patch::merge_patch_with_stale_rv_conflicts,
            patch::merge_patch_without_rv_applies_to_latest,
            patch::merge_patch_null_removes_key,
            patch::merge_patch_without_change_keeps_rv,
            patch::merge_patch_of_spec_bumps_generation,
            patch::merge_patch_of_status_is_ignored_with_status_subresource,
            patch::json_patch_failed_test_is_error,
            patch::json_patch_applies_operations_in_order,
            patch::json_patch_removing_missing_path_is_error,
            patch::json_patch_of_missing_object_is_not_found,
            delete_finalizers::delete_of_missing_object_is_not_found,
            delete_finalizers::delete_without_finalizers_removes_object,
            delete_finalizers::delete_with_finalizers_marks_object_terminating,
            delete_finalizers::delete_with_finalizers_bumps_generation,
            delete_finalizers::second_delete_of_terminating_object_keeps_rv,
            delete_finalizers::adding_finalizer_to_terminating_object_is_invalid,
            delete_finalizers::removing_one_of_several_finalizers_keeps_object,
            delete_finalizers::removing_last_finalizer_deletes_object,
            delete_finalizers::update_cannot_clear_deletion_timestamp,
            delete_finalizers::delete_with_stale_rv_precondition_conflicts,
            delete_finalizers::delete_with_mismatched_uid_precondition_conflicts,
            delete_finalizers::delete_with_matching_preconditions_succeeds,
            delete_finalizers::recreate_after_delete_gets_new_uid,
            delete_finalizers::delete_collection_deletes_only_matching_objects,
            delete_finalizers::delete_collection_leaves_finalized_objects_terminating,
            delete_finalizers::terminating_object_is_listed_with_deletion_timestamp,
            dry_run::dry_run_create_persists_nothing,
            dry_run::dry_run_create_of_existing_name_is_already_exists,
            dry_run::dry_run_update_changes_nothing,
            dry_run::dry_run_update_with_stale_rv_conflicts,
            dry_run::dry_run_delete_keeps_object,
            dry_run::dry_run_patch_changes_nothing,
        }
    };
}

#[cfg(test)]
mod registry_tests;
