//! # operator-runtime-conformance
//!
//! A behaviour suite for [`operator_runtime_core::ObjectStore`] backends, in the style of the
//! `object_store` crate's integration suite: every behaviour is a plain `pub async fn` generic
//! over the store (`S: ObjectStore + ?Sized`) returning [`CaseResult`], grouped in modules by
//! area ([`create`], [`update`], [`status`], [`patch`], [`delete_finalizers`], [`gc`],
//! [`list_selectors`], [`watch`], [`apply`], [`dry_run`], [`namespaces`], [`crd`], [`quantities`],
//! [`builtin_defaults`]). Each one checks one line of the API-server checklist
//! (`docs/apiserver-semantics.md`, A.3),
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

pub mod bench;
pub mod differential;

pub mod apply;
pub mod apply_lists;
pub mod builtin_defaults;
pub mod builtin_kinds;
pub mod builtin_writes;
pub mod crd;
pub mod create;
pub mod delete_finalizers;
pub mod dry_run;
pub mod gc;
pub mod list_selectors;
pub mod namespaces;
pub mod patch;
pub mod quantities;
pub mod secrets;
pub mod status;
pub mod update;
pub mod watch;

pub mod runtime;

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
///
/// `store_suite!(factory, if guard)` first calls `guard: fn() -> bool` in each test and returns
/// at once (the test does nothing) when it is false: for a backend whose server may be missing
/// on a developer's machine; the guard says why itself.
#[macro_export]
macro_rules! store_suite {
    ($factory:path) => {
        $crate::__with_behaviours!(@tests $factory, $crate::__always);
    };
    ($factory:path, if $guard:path) => {
        $crate::__with_behaviours!(@tests $factory, $guard);
    };
}

/// The guard of a suite without one.
#[doc(hidden)]
pub fn __always() -> bool {
    true
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
    ([@tests $factory:path, $guard:path] $($area:ident :: $name:ident,)*) => {
        $(
            #[test]
            fn $name() {
                if $guard() {
                    $crate::__run_test(stringify!($name), $factory);
                }
            }
        )*
        #[test]
        fn conformance_report() {
            if $guard() {
                $crate::__run_report($factory);
            }
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
            status::status_apply_owns_status_fields_apart_from_the_main_resource,
            status::status_merge_patch_writes_only_status,
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
            delete_finalizers::adding_finalizer_to_terminating_object_by_status_is_invalid,
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
            gc::foreground_delete_adds_foreground_finalizer,
            gc::foreground_delete_removes_dependents_then_owner,
            gc::dependent_added_to_waiting_owner_is_collected_only_after_it,
            gc::orphan_delete_adds_orphan_finalizer,
            gc::orphan_delete_keeps_dependents_without_owner_reference,
            gc::background_delete_collects_dependents,
            gc::default_delete_collects_dependents,
            gc::dependent_of_owner_with_other_uid_is_collected,
            gc::dependent_with_live_owner_survives_and_loses_dangling_reference,
            gc::owner_reference_without_uid_is_invalid,
            gc::owner_reference_without_name_is_invalid,
            gc::owner_reference_without_kind_is_invalid,
            gc::owner_reference_without_api_version_is_invalid,
            gc::two_controller_owner_references_are_invalid,
            list_selectors::list_returns_namespace_objects_and_rv,
            list_selectors::list_at_a_resource_version_follows_its_match,
            list_selectors::list_across_namespaces_includes_each_namespace,
            list_selectors::list_label_selector_equality,
            list_selectors::list_label_selector_double_equals,
            list_selectors::list_label_selector_inequality,
            list_selectors::list_label_selector_in_set,
            list_selectors::list_label_selector_notin_set,
            list_selectors::list_label_selector_exists,
            list_selectors::list_label_selector_does_not_exist,
            list_selectors::list_label_selector_requirements_are_anded,
            list_selectors::list_with_malformed_label_selector_is_bad_request,
            list_selectors::list_field_selector_on_name,
            list_selectors::list_field_selector_name_inequality,
            list_selectors::list_field_selector_on_namespace,
            list_selectors::list_unsupported_field_selector_is_bad_request,
            list_selectors::list_with_limit_pages_every_item_once,
            list_selectors::list_within_limit_has_no_continue_token,
            list_selectors::list_items_are_ordered_by_name,
            watch::watch_from_list_rv_sees_each_change_once_in_order,
            watch::watch_without_rv_starts_with_synthetic_added,
            watch::watch_from_rv_sends_no_synthetic_added,
            watch::watch_event_rvs_strictly_increase,
            watch::watch_deleted_event_carries_last_state_and_new_rv,
            watch::watch_selector_sends_deleted_when_label_removed,
            watch::watch_selector_sends_added_when_label_added,
            watch::watch_with_bookmarks_still_delivers_every_change,
            watch::watch_from_too_old_rv_is_expired_and_relist_recovers,
            watch::watch_resumes_from_last_seen_rv_without_gaps,
            watch::watch_status_update_emits_modified,
            watch::watch_label_change_emits_modified,
            watch::watch_finalizer_change_emits_modified,
            watch::watch_noop_update_emits_nothing,
            watch::watch_in_namespace_sees_only_that_namespace,
            watch::watch_update_emits_one_modified,
            watch::watch_delete_emits_deleted,
            watch::watch_delete_with_finalizers_emits_modified,
            watch::watch_removing_last_finalizer_emits_only_deleted,
            apply::apply_creates_missing_object_with_apply_entry,
            apply::apply_without_field_manager_is_invalid,
            apply::apply_of_field_owned_by_other_manager_conflicts,
            apply::apply_with_force_takes_ownership,
            apply::apply_omitting_field_removes_it,
            apply::apply_omitted_field_shared_with_other_manager_stays,
            apply::apply_of_same_value_by_two_managers_shares_ownership,
            apply::apply_of_same_config_twice_keeps_rv,
            apply::apply_with_resource_version_creates_or_conflicts,
            apply::apply_object_is_the_apply_of_its_json,
            apply::apply_of_different_atomic_list_conflicts,
            apply::apply_with_managed_fields_in_body_is_error,
            apply::apply_merges_keyed_list_entries_of_two_managers,
            apply::apply_dropping_a_keyed_entry_removes_only_that_entry,
            apply::update_records_update_entry_for_its_manager,
            apply::update_takes_changed_fields_from_the_applier,
            apply::apply_owns_atomic_selector_whole_and_marks_keyed_entries,
            apply::create_owns_added_maps_but_not_allocated_fields,
            dry_run::dry_run_create_persists_nothing,
            dry_run::dry_run_create_of_existing_name_is_already_exists,
            dry_run::dry_run_update_changes_nothing,
            dry_run::dry_run_update_with_stale_rv_conflicts,
            dry_run::dry_run_delete_keeps_object,
            dry_run::dry_run_patch_changes_nothing,
            namespaces::create_in_missing_namespace_is_not_found,
            namespaces::create_in_terminating_namespace_is_forbidden,
            namespaces::namespace_deletion_removes_contents,
            namespaces::namespace_deletion_waits_for_finalizers,
            namespaces::create_cluster_scoped_object_clears_namespace,
            namespaces::list_in_missing_namespace_is_empty,
            namespaces::get_in_other_namespace_is_not_found,
            namespaces::kind_info_reports_scope,
            crd::get_of_uninstalled_kind_is_not_found,
            crd::list_of_uninstalled_kind_is_not_found,
            crd::create_of_uninstalled_kind_is_not_found,
            crd::kind_info_of_uninstalled_kind_is_not_found,
            crd::kind_info_reports_crd_plural_and_status_subresource,
            crd::preserve_unknown_fields_keeps_unknown_spec_fields,
            crd::schema_wrong_type_is_invalid,
            crd::schema_minimum_violation_is_invalid,
            crd::schema_missing_required_field_is_invalid,
            crd::schema_cel_rule_violation_is_invalid,
            crd::schema_unknown_field_is_pruned,
            crd::schema_default_is_applied_on_create,
            quantities::quantities_are_stored_in_canonical_form,
            quantities::quantity_respelling_is_a_no_op_update,
            quantities::malformed_quantity_is_bad_request,
            builtin_defaults::deployment_spec_is_defaulted,
            builtin_defaults::stateful_set_spec_is_defaulted,
            builtin_defaults::daemon_set_spec_is_defaulted,
            builtin_defaults::job_spec_is_defaulted_with_generated_selector,
            builtin_defaults::cron_job_spec_is_defaulted,
            builtin_defaults::pod_spec_is_defaulted,
            builtin_defaults::service_spec_is_defaulted_with_cluster_ip,
            builtin_defaults::node_port_service_gets_node_ports,
            builtin_defaults::headless_service_is_single_stack,
            builtin_defaults::config_map_data_is_kept,
            builtin_defaults::secret_is_opaque_and_string_data_moves_to_data,
            builtin_defaults::persistent_volume_claim_is_defaulted,
            builtin_defaults::pod_disruption_budget_spec_is_kept,
            builtin_defaults::service_account_body_is_kept,
            builtin_defaults::role_rules_are_kept,
            builtin_defaults::role_binding_subjects_get_api_group,
            builtin_defaults::ingress_spec_is_kept,
            builtin_defaults::horizontal_pod_autoscaler_spec_is_defaulted,
            builtin_defaults::network_policy_spec_is_defaulted,
            builtin_defaults::lease_spec_is_kept,
            builtin_defaults::namespace_gets_metadata_name_label,
            builtin_defaults::update_resending_undefaulted_spec_is_a_no_op,
            builtin_defaults::new_object_status_has_server_zero_values,
            builtin_kinds::put_of_missing_lease_creates_it,
            builtin_kinds::put_of_missing_role_creates_it,
            builtin_kinds::put_of_missing_config_map_is_not_found,
            builtin_kinds::stale_update_with_invalid_body_conflicts,
            builtin_kinds::service_name_must_be_a_dns_label,
            builtin_kinds::statefulset_name_with_dot_is_invalid,
            builtin_kinds::role_name_is_a_path_segment,
            builtin_kinds::generate_name_prefix_is_cut_to_58_characters,
            builtin_kinds::service_without_ports_is_invalid,
            builtin_kinds::deployment_selector_must_match_template_labels,
            builtin_kinds::deployment_selector_is_immutable,
            builtin_kinds::statefulset_service_name_is_immutable,
            builtin_kinds::pod_and_namespace_field_selectors_follow_the_kind,
            builtin_kinds::status_write_of_service_keeps_annotations,
            builtin_kinds::status_write_of_deployment_ignores_labels,
            builtin_kinds::template_creation_timestamp_null_is_not_stored,
            builtin_kinds::events_of_both_apis_are_one_storage,
            builtin_writes::job_labels_from_template_are_the_creators_generated_ones_nobodys,
            builtin_writes::daemonset_template_generation_annotation_is_the_creators,
            builtin_writes::new_claim_gets_protection_finalizer_nobody_owns,
            builtin_writes::service_account_reference_with_empty_name_drops_it,
            builtin_writes::apply_adds_no_field_the_kind_lacks,
            builtin_writes::job_deleted_without_policy_orphans_its_dependents,
            builtin_writes::unscheduled_pod_delete_answers_with_the_deletion_marks,
            builtin_writes::apply_with_duplicate_keyed_items_is_internal_error,
            builtin_writes::claim_first_update_after_create_is_a_write,
            secrets::immutable_config_map_data_cannot_change,
            secrets::immutable_config_map_cannot_be_made_mutable,
            secrets::immutable_secret_data_cannot_change,
            secrets::secret_string_data_is_stored_as_data,
            secrets::secret_with_invalid_base64_is_bad_request,
            secrets::secret_type_is_immutable,
            secrets::tls_secret_without_key_is_invalid,
            secrets::secret_field_selector_selects_by_type,
            secrets::config_map_field_selector_on_data_is_bad_request,
            apply_lists::apply_finalizers_are_owned_one_by_one,
            apply_lists::apply_service_ports_merge_by_port_and_protocol,
        }
    };
}

#[cfg(test)]
mod registry_tests;
