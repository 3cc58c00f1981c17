//! `batch/v1` defaults: `SetDefaults_Job`, `SetDefaults_CronJob` and the pod template and
//! pod-failure-policy defaulters (`k8s.io/kubernetes/pkg/apis/batch/v1`, 1.37.2), plus the
//! selector the Job create strategy generates (`generateSelectorIfNeeded`).

use std::collections::BTreeMap;

use operator_runtime_core::Object;
use serde_json::{Value, json};

use super::apps::template_of;
use super::fields::{Obj, default_nil, default_unset, each_mut, is_nil, object_mut, present_mut};

/// `math.MaxInt32`, the backoffLimit of a Job with a per-index limit.
const MAX_INT32: i64 = 2_147_483_647;

/// Job spec defaults; see [`job_labels`] and [`generate_selector`] for the metadata parts.
pub(crate) fn job(body: &mut Obj) {
    let Some(spec) = object_mut(body, "spec") else { return };
    job_spec(spec);
}

/// The Job-level defaults of a Job spec (not run for a CronJob's job template).
fn job_spec(spec: &mut Obj) {
    if is_nil(spec, "completions") && is_nil(spec, "parallelism") {
        spec.insert("completions".into(), json!(1));
        spec.insert("parallelism".into(), json!(1));
    }
    default_nil(spec, "parallelism", json!(1));
    if is_nil(spec, "backoffLimit") {
        let limit = if is_nil(spec, "backoffLimitPerIndex") {
            6
        } else {
            MAX_INT32
        };
        spec.insert("backoffLimit".into(), json!(limit));
    }
    default_nil(spec, "completionMode", json!("NonIndexed"));
    default_nil(spec, "suspend", json!(false));
    if is_nil(spec, "podReplacementPolicy") {
        let policy = if is_nil(spec, "podFailurePolicy") {
            "TerminatingOrFailed"
        } else {
            "Failed"
        };
        spec.insert("podReplacementPolicy".into(), json!(policy));
    }
    default_nil(spec, "manualSelector", json!(false));
    failure_policy_and_template(spec);
}

/// The nested defaulters shared by a Job and a CronJob's job template.
fn failure_policy_and_template(spec: &mut Obj) {
    if let Some(policy) = present_mut(spec, "podFailurePolicy") {
        for rule in each_mut(policy, "rules") {
            for pattern in each_mut(rule, "onPodConditions") {
                default_unset(pattern, "status", json!("True"));
            }
        }
    }
    template_of(spec);
}

/// CronJob: Allow, not suspended, 3 successful and 1 failed jobs kept. The job template gets
/// only the nested defaulters, not `SetDefaults_Job` (the Job controller's create defaults it).
pub(crate) fn cron_job(body: &mut Obj) {
    let Some(spec) = object_mut(body, "spec") else { return };
    default_unset(spec, "concurrencyPolicy", json!("Allow"));
    default_nil(spec, "suspend", json!(false));
    default_nil(spec, "successfulJobsHistoryLimit", json!(3));
    default_nil(spec, "failedJobsHistoryLimit", json!(1));
    if let Some(job_template) = object_mut(spec, "jobTemplate") {
        // ObjectMeta is a struct: Go writes it as `{}` when empty.
        default_nil(job_template, "metadata", json!({}));
        if let Some(job_spec) = object_mut(job_template, "spec") {
            failure_policy_and_template(job_spec);
        }
    }
}

/// `SetDefaults_Job`'s metadata part: a Job without labels takes its template's labels.
/// Whether it did: Go then shares one map between the two, so what the create strategy adds
/// to the template's labels shows in the Job's too ([`job_labels_follow_template`]).
pub(crate) fn job_labels(job: &mut Object) -> bool {
    if job.metadata.labels.as_ref().is_some_and(|l| !l.is_empty()) {
        return false;
    }
    let labels = template_labels(&job.body);
    let taken = labels.is_some();
    if let Some(labels) = labels {
        job.metadata.labels = Some(labels);
    }
    taken
}

/// The Job's labels after the create strategy's selector generation, when they are its
/// template's map (see [`job_labels`]).
pub(crate) fn job_labels_follow_template(job: &mut Object) {
    if let Some(labels) = template_labels(&job.body) {
        job.metadata.labels = Some(labels);
    }
}

/// The labels of a Job's pod template, when it has a labels map.
fn template_labels(body: &Obj) -> Option<BTreeMap<String, String>> {
    let labels = body.get("spec")?.get("template")?.get("metadata")?.get("labels")?;
    let map = labels.as_object()?;
    Some(
        map.iter()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
            .collect(),
    )
}

/// The legacy and current job-name and controller-uid label keys.
const JOB_NAME_LABELS: [&str; 2] = ["job-name", "batch.kubernetes.io/job-name"];
const CONTROLLER_UID_LABELS: [&str; 2] = ["controller-uid", "batch.kubernetes.io/controller-uid"];

/// The Job create strategy's `generateSelectorIfNeeded`: unless `manualSelector` is true, the
/// template gets job-name and controller-uid labels (user-set ones are kept, for validation to
/// judge) and the selector matches `batch.kubernetes.io/controller-uid`.
pub(crate) fn generate_selector(job: &mut Object) {
    let name = job.name().to_owned();
    let uid = job.uid().unwrap_or("").to_owned();
    let Some(spec) = object_mut(&mut job.body, "spec") else {
        return;
    };
    if spec.get("manualSelector").and_then(Value::as_bool) == Some(true) {
        return;
    }
    if let Some(labels) = object_mut(spec, "template")
        .and_then(|t| object_mut(t, "metadata"))
        .and_then(|m| object_mut(m, "labels"))
    {
        for key in JOB_NAME_LABELS {
            labels.entry(key).or_insert_with(|| json!(name));
        }
        for key in CONTROLLER_UID_LABELS {
            labels.entry(key).or_insert_with(|| json!(uid));
        }
    }
    if let Some(match_labels) = object_mut(spec, "selector").and_then(|s| object_mut(s, "matchLabels")) {
        match_labels
            .entry(CONTROLLER_UID_LABELS[1])
            .or_insert_with(|| json!(uid));
    }
}

/// The `job-name` labels [`generate_selector`] wrote while the name was still to be generated
/// (empty), set to the generated name, in the template and in the Job's labels copied from it.
pub(crate) fn name_generated_selector_labels(job: &mut Object) {
    let name = job.name().to_owned();
    for (key, value) in job.metadata.labels.iter_mut().flatten() {
        if JOB_NAME_LABELS.contains(&key.as_str()) && value.is_empty() {
            value.clone_from(&name);
        }
    }
    let labels = job
        .body
        .get_mut("spec")
        .and_then(|s| s.get_mut("template"))
        .and_then(|t| t.get_mut("metadata"))
        .and_then(|m| m.get_mut("labels"))
        .and_then(Value::as_object_mut);
    for (key, value) in labels.into_iter().flatten() {
        if JOB_NAME_LABELS.contains(&key.as_str()) && value.as_str() == Some("") {
            *value = json!(name);
        }
    }
}
