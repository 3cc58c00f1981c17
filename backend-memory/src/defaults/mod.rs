//! Built-in defaulting: what kube-apiserver 1.37.2 fills into a built-in object between
//! decoding a request and storing it, so the memory backend stores (and returns) the same
//! object the real server does.
//!
//! [`apply`] is the port of the `SetDefaults_*` functions of
//! `k8s.io/kubernetes/pkg/apis/<group>/v1/defaults.go`, run in the order and on the nested
//! fields that each group's `zz_generated.defaults.go` lists, as pure functions over the JSON
//! body (one file per API group). [`apply_write`] adds what depends on metadata: the
//! zero-valued status Go encodes for a new object and the `kubernetes.io/metadata.name`
//! namespace label. [`after_field_manager`] adds what the strategy, admission and REST storage
//! set after the field manager has run (so no manager owns it): a new pod's admission defaults
//! and status, a DaemonSet's template generation annotation, a Job's generated selector and
//! labels (create strategy), and a Service's IP family fields, cluster IP and node ports. Custom resources are defaulted from their schema instead
//! ([`crate::schema`]). Quantity canonicalization (`SetDefaults_ResourceList`) is not here.
//!
//! Defaulting is idempotent, and runs on every write before the no-op check and the
//! generation rule, so an update that re-sends the pre-defaulting spec stores nothing new.

mod apps;
mod autoscaling;
mod batch;
mod core_misc;
mod fields;
mod networking;
mod pod;
mod rbac;
mod service;
pub(crate) use service::drop_type_dependent_fields;
mod status;

use operator_runtime_core::{Object, TypeRef};
use serde_json::{Map, Value};

use crate::kinds::KindSpec;
use crate::state::State;

/// Applies the static defaults of a built-in kind to its body (everything but metadata).
/// Kinds without defaulters (and custom resources) are left as they are.
pub(crate) fn apply(type_ref: &TypeRef, body: &mut Map<String, Value>) {
    match (type_ref.api_version.as_str(), type_ref.kind.as_str()) {
        ("v1", "Pod") => pod::pod(body),
        ("v1", "PodTemplate") => {
            if let Some(template) = body.get_mut("template").and_then(Value::as_object_mut) {
                pod::template(template);
            }
        }
        ("v1", "Service") => service::service(body),
        ("v1", "Secret") => core_misc::secret(body),
        ("v1", "PersistentVolumeClaim") => core_misc::claim(body),
        ("v1", "ServiceAccount") => core_misc::service_account(body),
        ("apps/v1", "Deployment") => apps::deployment(body),
        ("apps/v1", "StatefulSet") => apps::stateful_set(body),
        ("apps/v1", "DaemonSet") => apps::daemon_set(body),
        ("batch/v1", "Job") => batch::job(body),
        ("batch/v1", "CronJob") => batch::cron_job(body),
        ("networking.k8s.io/v1", "NetworkPolicy") => networking::network_policy(body),
        ("rbac.authorization.k8s.io/v1", "RoleBinding" | "ClusterRoleBinding") => rbac::binding(body),
        ("rbac.authorization.k8s.io/v1", "Role" | "ClusterRole") => rbac::role(body),
        ("autoscaling/v2", "HorizontalPodAutoscaler") => autoscaling::horizontal_pod_autoscaler(body),
        _ => {}
    }
}

/// What depends on a name generated from `generateName`, which the real server picks before
/// the create strategy runs (the memory backend picks it once the object has validated): a
/// Job's `job-name` labels.
pub(crate) fn after_name_generated(kind: &KindSpec, new: &mut Object) {
    let type_ref = &kind.info.type_ref;
    if (type_ref.api_version.as_str(), type_ref.kind.as_str()) == ("batch/v1", "Job") {
        batch::name_generated_selector_labels(new);
    }
}

/// Decoding into the kind's Go type turns a field's `null` into its zero value, which the
/// fields' `omitempty` (or pointer type) then leaves out: a request's `"storageClassName":
/// null` is no field at all, for the object and for the writer's managedFields entry. The few
/// fields without `omitempty` that encode a nil as `null` (a Role's `rules`) are put back by
/// their kind's defaults.
fn drop_nulls(body: &mut Map<String, Value>) {
    body.retain(|_, v| !v.is_null());
    for value in body.values_mut() {
        drop_nulls_in(value);
    }
}

fn drop_nulls_in(value: &mut Value) {
    match value {
        Value::Object(map) => drop_nulls(map),
        Value::Array(items) => items.iter_mut().for_each(drop_nulls_in),
        _ => {}
    }
}

/// What decoding a write left for [`after_field_manager`] to finish.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Decoded {
    /// A Job's labels were taken from its pod template (`SetDefaults_Job` shares the template's
    /// label map), so the labels the create strategy adds to the template reach them too.
    job_labels_from_template: bool,
}

/// Defaults one write of a built-in kind: [`apply`], then the metadata-dependent parts.
/// These run when the body is decoded, before the field manager records the write, so the
/// writer owns the defaulted fields.
pub(crate) fn apply_write(kind: &KindSpec, new: &mut Object) -> Decoded {
    let type_ref = &kind.info.type_ref;
    drop_nulls(&mut new.body);
    apply(type_ref, &mut new.body);
    status::zero_status(&type_ref.api_version, &type_ref.kind, &mut new.body);
    let mut decoded = Decoded::default();
    match (type_ref.api_version.as_str(), type_ref.kind.as_str()) {
        ("v1", "Namespace") => core_misc::namespace_label(new),
        ("v1", "Pod") => status::pod_condition_times(&mut new.body),
        ("apps/v1", "DaemonSet") => apps::template_generation_as_converted(new),
        ("batch/v1", "Job") => decoded.job_labels_from_template = batch::job_labels(new),
        _ => {}
    }
    decoded
}

/// What the strategy, admission and allocation add after the field manager has recorded the
/// write (so nobody owns them): a new Pod's admission and status, generated Job selectors and
/// labels, DaemonSet template generations, Service addresses and node ports, a
/// ServiceAccount's secret references cut down to their names.
pub(crate) fn after_field_manager(
    state: &State,
    kind: &KindSpec,
    old: Option<&Object>,
    new: &mut Object,
    decoded: Decoded,
) {
    let type_ref = &kind.info.type_ref;
    match (type_ref.api_version.as_str(), type_ref.kind.as_str()) {
        ("v1", "Pod") => match old {
            None => {
                pod::admit(&mut new.body);
                status::new_pod_status(&mut new.body);
            }
            Some(old) => pod::admit_update(&mut new.body, &old.body),
        },
        ("v1", "PersistentVolumeClaim") if old.is_none() => core_misc::protect_claim(new),
        ("apps/v1", "DaemonSet") => apps::template_generation(old, new),
        ("v1", "ServiceAccount") => core_misc::clean_secret_references(&mut new.body),
        ("batch/v1", "Job") if old.is_none() => {
            batch::generate_selector(new);
            // A create by generateName works on a deep copy of the decoded object, which no
            // longer shares the label map.
            let by_generate_name = new.metadata.name.as_deref().is_none_or(str::is_empty);
            if decoded.job_labels_from_template && !by_generate_name {
                batch::job_labels_follow_template(new);
            }
            // What the server returns and stores is read back through the defaulting decoder,
            // whose `SetDefaults_Job` now finds the generated template labels.
            batch::job_labels(new);
        }
        ("v1", "Service") => {
            let (namespace, name) = (new.namespace().map(str::to_owned), new.name().to_owned());
            let in_use = || {
                let mut in_use = service::InUse::default();
                if let Some(table) = state.table(kind.slot) {
                    for object in table.values().flat_map(|names| names.values()) {
                        let same = object.namespace() == namespace.as_deref() && object.name() == name;
                        if !same {
                            in_use.add(&object.body);
                        }
                    }
                }
                in_use
            };
            service::allocate(&mut new.body, old.map(|o| &o.body), in_use);
        }
        _ => {}
    }
}
