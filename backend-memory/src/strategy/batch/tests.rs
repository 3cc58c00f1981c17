//! Tests of the Job and CronJob strategies, through the store (defaulting, the generated
//! selector and the pipeline included) where the rule depends on them.

use std::sync::Arc;

use operator_runtime_core::store::StoreResult;
use operator_runtime_core::{Object, ObjectStore, StoreError, TypeRef};
use serde_json::{Value, json};

use crate::MemoryStore;

fn w() -> operator_runtime_core::store::WriteParams {
    operator_runtime_core::store::WriteParams::default()
}

fn container() -> Value {
    json!({"name": "main", "image": "nginx:1.27"})
}

/// A Job named `name` with `spec` merged over a valid one.
fn job(name: &str, spec: Value) -> Object {
    let mut base = json!({
        "template": {"metadata": {"labels": {"app": "a"}},
                     "spec": {"containers": [container()], "restartPolicy": "Never"}}
    });
    merge(&mut base, spec);
    Object::new(&TypeRef::new("batch/v1", "Job"), Some("default"), name).with("spec", base)
}

/// A CronJob named `name` with `spec` merged over a valid one.
fn cron_job(name: &str, spec: Value) -> Object {
    let mut base = json!({
        "schedule": "*/5 * * * *",
        "jobTemplate": {"spec": {"template": {"spec": {
            "containers": [container()], "restartPolicy": "OnFailure"}}}}
    });
    merge(&mut base, spec);
    Object::new(&TypeRef::new("batch/v1", "CronJob"), Some("default"), name).with("spec", base)
}

/// JSON merge patch semantics: null removes.
fn merge(target: &mut Value, patch: Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(&k);
                } else {
                    merge(t.entry(k).or_insert(Value::Null), v);
                }
            }
        }
        (t, p) => *t = p,
    }
}

/// The causes of an Invalid error as `field: message`, or empty when the write succeeded.
fn causes(result: StoreResult<Arc<Object>>) -> Vec<String> {
    match result {
        Ok(_) => Vec::new(),
        Err(err @ StoreError::Invalid { .. }) => err
            .causes()
            .iter()
            .map(|c| format!("{}: {}", c.field, c.message))
            .collect(),
        Err(other) => vec![format!("unexpected error: {other:?}")],
    }
}

async fn create(object: &Object) -> Vec<String> {
    causes(MemoryStore::new().create(object, &w()).await)
}

/// Creates `object`, applies `change` to the stored copy and replaces it.
async fn update(object: &Object, change: impl FnOnce(&mut Value)) -> Vec<String> {
    let store = MemoryStore::new();
    let created = store.create(object, &w()).await.expect("valid object");
    let mut body = Value::Object(created.body.clone());
    change(&mut body);
    let mut changed = Object::clone(&created);
    changed.body = body.as_object().cloned().unwrap_or_default();
    causes(store.replace(&changed, &w()).await)
}

/// Creates `object` (after `setup` on the store's copy, through `/status`) and writes `status`.
async fn update_status(object: &Object, setup: Option<Value>, status: Value) -> Vec<String> {
    let store = MemoryStore::new();
    let mut stored = store.create(object, &w()).await.expect("valid object");
    if let Some(setup) = setup {
        let mut with = Object::clone(&stored);
        with.body.insert("status".into(), setup);
        stored = store.replace_status(&with, &w()).await.expect("valid status");
    }
    let mut with = Object::clone(&stored);
    with.body.insert("status".into(), status);
    causes(store.replace_status(&with, &w()).await)
}

#[tokio::test]
async fn a_valid_job_is_accepted_with_its_generated_selector() {
    let store = MemoryStore::new();
    let created = store.create(&job("pi", json!({})), &w()).await.unwrap();
    let uid = created.uid().unwrap_or_default().to_owned();
    assert_eq!(
        created.body["spec"]["selector"],
        json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}})
    );
}

#[tokio::test]
async fn job_restart_policy_must_be_on_failure_or_never() {
    let missing = job("j", json!({"template": {"spec": {"restartPolicy": null}}}));
    assert_eq!(
        create(&missing).await,
        vec!["spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\""]
    );
    let always = job("j", json!({"template": {"spec": {"restartPolicy": "Always"}}}));
    assert_eq!(create(&always).await.len(), 1);
    let bogus = job("j", json!({"template": {"spec": {"restartPolicy": "Bogus"}}}));
    assert_eq!(
        create(&bogus).await,
        // `ValidatePodTemplateSpec`'s rule, then the Job's own.
        vec![
            "spec.template.spec.restartPolicy: Unsupported value: \"Bogus\": supported values: \"Always\", \"OnFailure\", \"Never\"",
            "spec.template.spec.restartPolicy: Unsupported value: \"Bogus\": supported values: \"OnFailure\", \"Never\""
        ]
    );
    let on_failure = job("j", json!({"template": {"spec": {"restartPolicy": "OnFailure"}}}));
    assert!(create(&on_failure).await.is_empty());
}

#[tokio::test]
async fn job_counts_are_nonnegative() {
    for key in [
        "parallelism",
        "completions",
        "activeDeadlineSeconds",
        "backoffLimit",
        "ttlSecondsAfterFinished",
    ] {
        let bad = job("j", json!({ key: -1 }));
        assert_eq!(
            create(&bad).await,
            vec![format!(
                "spec.{key}: Invalid value: -1: must be greater than or equal to 0"
            )],
            "{key}"
        );
        assert!(create(&job("j", json!({ key: 0 }))).await.is_empty(), "{key}");
    }
}

#[tokio::test]
async fn job_completion_mode() {
    // Defaulting sets completions only when parallelism is unset too.
    let indexed = job("j", json!({"completionMode": "Indexed", "parallelism": 2}));
    assert_eq!(
        create(&indexed).await,
        vec!["spec.completions: Required value: when completion mode is Indexed"]
    );
    let indexed = job("j", json!({"completionMode": "Indexed", "completions": 5}));
    assert!(create(&indexed).await.is_empty());
    let bogus = job("j", json!({"completionMode": "Bogus"}));
    assert_eq!(
        create(&bogus).await,
        vec!["spec.completionMode: Unsupported value: \"Bogus\": supported values: \"NonIndexed\", \"Indexed\""]
    );
    let too_parallel = job(
        "j",
        json!({"completionMode": "Indexed", "completions": 5, "parallelism": 100_001}),
    );
    assert_eq!(
        create(&too_parallel).await,
        vec![
            "spec.parallelism: Invalid value: 100001: must be less than or equal to 100000 when completion mode is Indexed"
        ]
    );
}

#[tokio::test]
async fn indexed_job_names_leave_room_for_the_index() {
    let dotted = job("j.dotted", json!({"completionMode": "Indexed", "completions": 5}));
    assert_eq!(
        create(&dotted).await,
        vec![
            "metadata.name: Invalid value: \"j.dotted\": will not able to create pod with invalid DNS label: j.dotted-4"
        ]
    );
    assert!(create(&job("j.dotted", json!({"completions": 5}))).await.is_empty());
}

#[tokio::test]
async fn backoff_limit_per_index_rules() {
    let non_indexed = job("j", json!({"backoffLimitPerIndex": 1}));
    assert_eq!(
        create(&non_indexed).await,
        vec!["spec.backoffLimitPerIndex: Invalid value: 1: requires indexed completion mode"]
    );
    let max_only = job(
        "j",
        json!({"completionMode": "Indexed", "completions": 5, "maxFailedIndexes": 1}),
    );
    assert_eq!(
        create(&max_only).await,
        vec!["spec.backoffLimitPerIndex: Required value: when maxFailedIndexes is specified"]
    );
    let ok = job(
        "j",
        json!({"completionMode": "Indexed", "completions": 5, "backoffLimitPerIndex": 1, "maxFailedIndexes": 2}),
    );
    assert!(create(&ok).await.is_empty());
    let over = job(
        "j",
        json!({"completionMode": "Indexed", "completions": 5, "backoffLimitPerIndex": 1, "maxFailedIndexes": 6}),
    );
    assert_eq!(
        create(&over).await,
        vec!["spec.maxFailedIndexes: Invalid value: 6: must be less than or equal to completions"]
    );
}

#[tokio::test]
async fn manual_selectors_must_match_the_template() {
    let matching = job(
        "j",
        json!({"manualSelector": true, "selector": {"matchLabels": {"app": "a"}}}),
    );
    assert!(create(&matching).await.is_empty());
    let other = job(
        "j",
        json!({"manualSelector": true, "selector": {"matchLabels": {"app": "b"}}}),
    );
    assert_eq!(
        create(&other).await,
        vec![
            "spec.template.metadata.labels: Invalid value: {\"app\":\"a\"}: `selector` does not match template `labels`"
        ]
    );
    let none = job("j", json!({"manualSelector": true}));
    assert_eq!(
        create(&none).await,
        vec![
            "spec.selector: Required value",
            "spec.template.metadata.labels: Invalid value: {\"app\":\"a\"}: `selector` does not match template `labels`",
        ]
    );
}

#[tokio::test]
async fn generated_labels_must_name_the_job() {
    let wrong = job(
        "j",
        json!({"template": {"metadata": {"labels": {"app": "a", "job-name": "other"}}}}),
    );
    let found = create(&wrong).await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("spec.template.metadata.labels[job-name]: Invalid value: {")
            && found[0].ends_with(": must be 'j'"),
        "{found:?}"
    );
    // A user selector besides the generated one selects more than the Job's pods.
    let selector = job("j", json!({"selector": {"matchLabels": {"app": "a"}}}));
    let found = create(&selector).await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("spec.selector: Invalid value: {") && found[0].ends_with("`selector` not auto-generated"),
        "{found:?}"
    );
}

#[tokio::test]
async fn pod_failure_policy_rules() {
    let ok = job(
        "j",
        json!({"podFailurePolicy": {"rules": [
            {"action": "FailJob", "onExitCodes": {"operator": "In", "values": [1, 2]}},
            {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}
        ]}}),
    );
    assert!(create(&ok).await.is_empty());
    let bad = job(
        "j",
        json!({"podFailurePolicy": {"rules": [
            {"action": "Bogus", "onExitCodes": {"operator": "In", "containerName": "x", "values": [2, 0, 2]}},
            {"action": "FailIndex"}
        ]}}),
    );
    assert_eq!(
        create(&bad).await,
        vec![
            "spec.podFailurePolicy.rules[0].action: Unsupported value: \"Bogus\": supported values: \"Count\", \"FailIndex\", \"FailJob\", \"Ignore\"",
            "spec.podFailurePolicy.rules[0].onExitCodes.containerName: Invalid value: \"x\": must be one of the container or initContainer names in the pod template",
            "spec.podFailurePolicy.rules[0].onExitCodes.values[1]: Invalid value: 0: must not be 0 for the In operator",
            "spec.podFailurePolicy.rules[0].onExitCodes.values[2]: Duplicate value: 2",
            "spec.podFailurePolicy.rules[0].onExitCodes.values: Invalid value: [2,0,2]: must be ordered",
            "spec.podFailurePolicy.rules[1].action: Invalid value: \"FailIndex\": requires the backoffLimitPerIndex to be set",
            "spec.podFailurePolicy.rules[1]: Invalid value: specifying one of OnExitCodes and OnPodConditions is required",
        ]
    );
    // With a pod failure policy only Never restarts and only Failed pods are replaced.
    let on_failure = job(
        "j",
        json!({"podFailurePolicy": {"rules": []}, "podReplacementPolicy": "TerminatingOrFailed",
               "template": {"spec": {"restartPolicy": "OnFailure"}}}),
    );
    assert_eq!(
        create(&on_failure).await,
        vec![
            "spec.podReplacementPolicy: Unsupported value: \"TerminatingOrFailed\": supported values: \"Failed\"",
            "spec.template.spec.restartPolicy: Invalid value: \"OnFailure\": only \"Never\" is supported when podFailurePolicy is specified",
        ]
    );
}

#[tokio::test]
async fn success_policy_needs_an_indexed_job() {
    let non_indexed = job("j", json!({"successPolicy": {"rules": [{"succeededCount": 1}]}}));
    assert_eq!(
        create(&non_indexed).await,
        vec![
            "spec.successPolicy: Invalid value: {\"rules\":[{\"succeededCount\":1}]}: requires indexed completion mode"
        ]
    );
    let indexed = |rules: Value| {
        job(
            "j",
            json!({"completionMode": "Indexed", "completions": 5, "successPolicy": {"rules": rules}}),
        )
    };
    assert!(
        create(&indexed(json!([{"succeededIndexes": "0-2,4", "succeededCount": 4}])))
            .await
            .is_empty()
    );
    assert_eq!(
        create(&indexed(json!([{"succeededIndexes": "3,1"}]))).await,
        vec![
            "spec.successPolicy.rules[0].succeededIndexes: Invalid value: \"3,1\": error parsing succeededIndexes: non-increasing order, previous: 3, current: 1"
        ]
    );
    assert_eq!(
        create(&indexed(json!([{"succeededIndexes": "0-1", "succeededCount": 3}]))).await,
        vec![
            "spec.successPolicy.rules[0].succeededCount: Invalid value: 3: must be less than or equal to 2 (the number of indexes in the specified succeededIndexes field)"
        ]
    );
    assert_eq!(
        create(&indexed(json!([{}]))).await,
        vec![
            "spec.successPolicy.rules[0]: Required value: at least one of succeededCount or succeededIndexes must be specified"
        ]
    );
}

#[tokio::test]
async fn job_template_labels_are_validated() {
    let bad = job(
        "j",
        json!({"manualSelector": true, "selector": {"matchLabels": {"app": "a"}},
        "template": {"metadata": {"labels": {"app": "a", "x": "bad value"}}}}),
    );
    // SetDefaults_Job copies the template's labels to the Job, where they fail too.
    let found = create(&bad).await;
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].starts_with("metadata.labels.x: Invalid value: \"bad value\""));
    assert!(found[1].starts_with("spec.template.labels: Invalid value: \"bad value\""));
}

#[tokio::test]
async fn job_completions_are_immutable_unless_indexed_and_in_tandem() {
    let set = |n: i64| move |b: &mut Value| b["spec"]["completions"] = json!(n);
    assert_eq!(
        update(&job("j", json!({})), set(7)).await,
        vec!["spec.completions: Invalid value: 7: field is immutable"]
    );
    let indexed = job(
        "j",
        json!({"completionMode": "Indexed", "completions": 3, "parallelism": 3}),
    );
    assert_eq!(
        update(&indexed, set(7)).await,
        vec!["spec.completions: Invalid value: 7: can only be modified in tandem with spec.parallelism"]
    );
    let tandem = |b: &mut Value| {
        b["spec"]["completions"] = json!(7);
        b["spec"]["parallelism"] = json!(7);
    };
    assert!(update(&indexed, tandem).await.is_empty());
}

#[tokio::test]
async fn job_mutable_fields_change() {
    let changes: [fn(&mut Value); 3] = [
        |b| b["spec"]["parallelism"] = json!(2),
        |b| b["spec"]["suspend"] = json!(true),
        |b| b["spec"]["activeDeadlineSeconds"] = json!(30),
    ];
    for change in changes {
        assert!(update(&job("j", json!({})), change).await.is_empty());
    }
    assert_eq!(
        update(&job("j", json!({})), |b| b["spec"]["completionMode"] = json!("Indexed")).await,
        vec!["spec.completionMode: Invalid value: \"Indexed\": field is immutable",]
    );
}

#[tokio::test]
async fn job_template_is_immutable_unless_suspended() {
    let add_label = |b: &mut Value| b["spec"]["template"]["metadata"]["labels"]["extra"] = json!("x");
    let found = update(&job("j", json!({})), add_label).await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("spec.template: Invalid value: {"), "{found:?}");
    assert!(found[0].ends_with(": field is immutable"), "{found:?}");
    // A suspended Job that has not started may change its labels and container resources.
    let suspended = job("j", json!({"suspend": true}));
    assert!(update(&suspended, add_label).await.is_empty());
    let resources =
        |b: &mut Value| b["spec"]["template"]["spec"]["containers"][0]["resources"] = json!({"limits": {"cpu": "1"}});
    assert!(update(&suspended, resources).await.is_empty());
    let image = |b: &mut Value| b["spec"]["template"]["spec"]["containers"][0]["image"] = json!("other");
    let found = update(&suspended, image).await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("spec.template.spec: Invalid value: {"),
        "{found:?}"
    );
    // Replacing the labels drops the generated ones: the selector no longer matches.
    let replace = |b: &mut Value| b["spec"]["template"]["metadata"]["labels"] = json!({"app": "b"});
    let found = update(&suspended, replace).await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("spec.template.metadata.labels: Invalid value: {\"app\":\"b\"}"));
}

#[tokio::test]
async fn job_selector_is_immutable() {
    let manual = job(
        "j",
        json!({"manualSelector": true, "selector": {"matchLabels": {"app": "a"}}}),
    );
    let change = |b: &mut Value| b["spec"]["selector"] = json!({"matchLabels": {}});
    // Go writes the struct's fields in declaration order, empty ones omitted.
    let both = json!({"matchExpressions": [{"operator": "Exists", "key": "k"}], "matchLabels": {"b": "2", "a": "1"}});
    assert_eq!(
        super::selector_json(&both),
        "{\"matchLabels\":{\"a\":\"1\",\"b\":\"2\"},\"matchExpressions\":[{\"key\":\"k\",\"operator\":\"Exists\"}]}"
    );
    assert_eq!(
        update(&manual, change).await,
        vec!["spec.selector: Invalid value: {}: field is immutable"]
    );
}

#[tokio::test]
async fn job_status_counts() {
    assert!(
        update_status(&job("j", json!({})), None, json!({"active": 1}))
            .await
            .is_empty()
    );
    assert!(
        update_status(&job("j", json!({})), None, json!({"ready": 0, "failed": 0}))
            .await
            .is_empty()
    );
    assert_eq!(
        update_status(&job("j", json!({})), None, json!({"succeeded": -1})).await,
        vec![
            "status.succeeded: Invalid value: -1: must be greater than or equal to 0",
            "status.succeeded: Invalid value: -1: cannot decrease the succeeded counter",
        ]
    );
    assert_eq!(
        update_status(&job("j", json!({})), Some(json!({"failed": 2})), json!({"failed": 1})).await,
        vec!["status.failed: Invalid value: 1: cannot decrease the failed counter"]
    );
    assert_eq!(
        update_status(&job("j", json!({})), None, json!({"active": 1, "ready": 2})).await,
        vec!["status.ready: Invalid value: 2: cannot set more ready pods than active"]
    );
}

#[tokio::test]
async fn job_status_terminal_conditions() {
    let complete = json!({
        "conditions": [{"type": "Complete", "status": "True"}],
        "startTime": "2026-01-01T00:00:00Z", "completionTime": "2026-01-01T00:01:00Z"
    });
    assert_eq!(
        update_status(&job("j", json!({})), None, complete).await,
        vec![
            "status.conditions: Invalid value: cannot set Complete=True condition without the SuccessCriteriaMet=true condition"
        ]
    );
    let complete = json!({
        "conditions": [{"type": "SuccessCriteriaMet", "status": "True"}, {"type": "Complete", "status": "True"}],
        "startTime": "2026-01-01T00:00:00Z", "completionTime": "2026-01-01T00:01:00Z", "succeeded": 1
    });
    assert!(
        update_status(&job("j", json!({})), None, complete.clone())
            .await
            .is_empty()
    );
    // Terminal conditions stay.
    assert_eq!(
        update_status(&job("j", json!({})), Some(complete), json!({"succeeded": 1})).await,
        vec![
            "status.conditions: Invalid value: cannot disable the terminal Complete=True condition",
            "status.startTime: Invalid value: null: field is immutable for unsuspended job once set",
            "status.conditions: Invalid value: cannot disable the SuccessCriteriaMet=True condition",
        ]
    );
    let backwards = json!({"startTime": "2026-01-01T00:01:00Z", "completionTime": "2026-01-01T00:00:00Z"});
    assert_eq!(
        update_status(&job("j", json!({})), None, backwards).await,
        vec![
            "status.completionTime: Invalid value: \"2026-01-01T00:00:00Z\": cannot set completionTime when there is no Complete=True condition",
            "status.completionTime: Invalid value: \"2026-01-01T00:00:00Z\": must be equal to or after `startTime`",
        ]
    );
}

#[tokio::test]
async fn job_status_indexes() {
    let indexed = job(
        "j",
        json!({"completionMode": "Indexed", "completions": 5, "backoffLimitPerIndex": 1}),
    );
    assert!(
        update_status(&indexed, None, json!({"completedIndexes": "0-2", "failedIndexes": "4"}))
            .await
            .is_empty()
    );
    assert_eq!(
        update_status(&indexed, None, json!({"completedIndexes": "0-2", "failedIndexes": "2"})).await,
        vec!["status.failedIndexes: Invalid value: \"2\": failedIndexes and completedIndexes overlap at index: 2"]
    );
    assert_eq!(
        update_status(&indexed, None, json!({"completedIndexes": "7"})).await,
        vec!["status.completedIndexes: Invalid value: \"7\": error parsing completedIndexes: too large index: \"7\""]
    );
    assert_eq!(
        update_status(&job("j", json!({})), None, json!({"completedIndexes": "0"})).await,
        vec![
            "status.completedIndexes: Invalid value: \"0\": cannot set non-empty completedIndexes when non-indexed completion mode"
        ]
    );
}

#[tokio::test]
async fn a_valid_cron_job_is_accepted() {
    for schedule in ["*/5 * * * *", "@hourly", "0 0 * * 1"] {
        assert!(
            create(&cron_job("c", json!({"schedule": schedule}))).await.is_empty(),
            "{schedule}"
        );
    }
    let full = cron_job(
        "c",
        json!({"concurrencyPolicy": "Forbid", "timeZone": "Europe/Paris", "suspend": true,
               "successfulJobsHistoryLimit": 0, "failedJobsHistoryLimit": 0, "startingDeadlineSeconds": 10}),
    );
    assert!(create(&full).await.is_empty());
}

#[tokio::test]
async fn cron_job_schedule() {
    assert_eq!(
        create(&cron_job("c", json!({"schedule": "61 * * * *"}))).await,
        vec!["spec.schedule: Invalid value: \"61 * * * *\": end of range (61) above maximum (59): 61"]
    );
    assert_eq!(
        create(&cron_job("c", json!({"schedule": "bogus"}))).await,
        vec!["spec.schedule: Invalid value: \"bogus\": expected exactly 5 fields, found 1: [bogus]"]
    );
    assert_eq!(
        create(&cron_job("c", json!({"schedule": null}))).await,
        vec!["spec.schedule: Required value"]
    );
    assert_eq!(
        create(&cron_job("c", json!({"schedule": "TZ=UTC 0 * * * *"}))).await,
        vec![
            "spec.schedule: Invalid value: \"TZ=UTC 0 * * * *\": cannot use TZ or CRON_TZ in schedule, use timeZone field instead"
        ]
    );
}

#[tokio::test]
async fn cron_job_time_zone() {
    assert_eq!(
        create(&cron_job("c", json!({"timeZone": "Not/AZone"}))).await,
        vec!["spec.timeZone: Invalid value: \"Not/AZone\": unknown time zone Not/AZone"]
    );
    assert_eq!(
        create(&cron_job("c", json!({"timeZone": "Local"}))).await,
        vec![
            "spec.timeZone: Invalid value: \"Local\": timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"
        ]
    );
    assert_eq!(
        create(&cron_job("c", json!({"timeZone": ""}))).await,
        vec!["spec.timeZone: Invalid value: \"\": timeZone must be nil or non-empty string"]
    );
    assert_eq!(
        create(&cron_job("c", json!({"timeZone": "Etc/GMT+5/x/../y"}))).await,
        vec!["spec.timeZone: Invalid value: \"Etc/GMT+5/x/../y\": unknown time zone Etc/GMT+5/x/../y"]
    );
    assert!(create(&cron_job("c", json!({"timeZone": "Etc/UTC"}))).await.is_empty());
    let change = |b: &mut Value| b["spec"]["timeZone"] = json!("Nowhere/City");
    assert_eq!(
        update(&cron_job("c", json!({})), change).await,
        vec!["spec.timeZone: Invalid value: \"Nowhere/City\": unknown time zone Nowhere/City"]
    );
    let schedule = |b: &mut Value| b["spec"]["schedule"] = json!("@daily");
    assert!(update(&cron_job("c", json!({})), schedule).await.is_empty());
}

#[tokio::test]
async fn cron_job_policies_and_limits() {
    assert_eq!(
        create(&cron_job("c", json!({"concurrencyPolicy": "Bogus"}))).await,
        vec![
            "spec.concurrencyPolicy: Unsupported value: \"Bogus\": supported values: \"Allow\", \"Forbid\", \"Replace\""
        ]
    );
    assert_eq!(
        create(&cron_job("c", json!({"successfulJobsHistoryLimit": -1}))).await,
        vec!["spec.successfulJobsHistoryLimit: Invalid value: -1: must be greater than or equal to 0"]
    );
    assert_eq!(
        create(&cron_job(
            "c",
            json!({"failedJobsHistoryLimit": -1, "startingDeadlineSeconds": -1})
        ))
        .await,
        vec![
            "spec.startingDeadlineSeconds: Invalid value: -1: must be greater than or equal to 0",
            "spec.failedJobsHistoryLimit: Invalid value: -1: must be greater than or equal to 0",
        ]
    );
    // Removing the policy defaults it again.
    let remove = |b: &mut Value| {
        if let Some(spec) = b["spec"].as_object_mut() {
            spec.remove("concurrencyPolicy");
        }
    };
    assert!(update(&cron_job("c", json!({})), remove).await.is_empty());
}

#[tokio::test]
async fn cron_job_template() {
    let never_set = cron_job(
        "c",
        json!({"jobTemplate": {"spec": {"template": {"spec": {"restartPolicy": null}}}}}),
    );
    assert_eq!(
        create(&never_set).await,
        vec![
            "spec.jobTemplate.spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\""
        ]
    );
    // SetDefaults_Job does not run on a job template: Indexed needs explicit completions.
    let indexed = cron_job("c", json!({"jobTemplate": {"spec": {"completionMode": "Indexed"}}}));
    assert_eq!(
        create(&indexed).await,
        vec!["spec.jobTemplate.spec.completions: Required value: when completion mode is Indexed"]
    );
    let manual = cron_job(
        "c",
        json!({"jobTemplate": {"spec": {"manualSelector": true, "selector": {"matchLabels": {"app": "a"}}}}}),
    );
    assert_eq!(
        create(&manual).await,
        vec![
            "spec.jobTemplate.spec.selector: Invalid value: {\"matchLabels\":{\"app\":\"a\"}}: `selector` will be auto-generated",
            "spec.jobTemplate.spec.manualSelector: Unsupported value: true: supported values: \"nil\", \"false\"",
        ]
    );
    let negative = cron_job("c", json!({"jobTemplate": {"spec": {"backoffLimit": -1}}}));
    assert_eq!(
        create(&negative).await,
        vec!["spec.jobTemplate.spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0"]
    );
}

#[tokio::test]
async fn cron_job_names_leave_room_for_the_job_suffix() {
    let long = "c".repeat(53);
    assert_eq!(
        create(&cron_job(&long, json!({}))).await,
        vec![format!(
            "metadata.name: Invalid value: \"{long}\": must be no more than 52 characters"
        )]
    );
    assert!(create(&cron_job(&"c".repeat(52), json!({}))).await.is_empty());
}

#[tokio::test]
async fn scheduling_is_dropped_while_its_gate_is_off() {
    let store = MemoryStore::new();
    let with = job("j", json!({"scheduling": {"schedulingPolicy": {"basic": {}}}}));
    let created = store.create(&with, &w()).await.unwrap();
    assert!(created.body["spec"].get("scheduling").is_none());
}

#[tokio::test]
async fn managed_by_is_a_short_domain_prefixed_path() {
    let ok = job("j", json!({"managedBy": "kueue.x-k8s.io/manager"}));
    assert!(create(&ok).await.is_empty());
    assert_eq!(
        create(&job("j", json!({"managedBy": "bad"}))).await,
        vec!["spec.managedBy: Invalid value: \"bad\": must be a domain-prefixed path (such as \"acme.io/foo\")"]
    );
    let long = format!("example.com/{}", "a".repeat(60));
    assert_eq!(
        create(&job("j", json!({"managedBy": long}))).await,
        vec!["spec.managedBy: Too long: may not be more than 63 bytes"]
    );
}

#[tokio::test]
async fn manual_selector_requirements_are_validated() {
    let selector = json!({"matchExpressions": [{"key": "app", "operator": "In", "values": []}]});
    let bad = job("j", json!({"manualSelector": true, "selector": selector}));
    // A selector that does not convert is not matched against the template.
    assert_eq!(
        create(&bad).await,
        vec![
            "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"
        ]
    );
    let selector = json!({"matchExpressions": [{"key": "app", "operator": "In", "values": ["a"]}]});
    let ok = job("j", json!({"manualSelector": true, "selector": selector}));
    assert!(create(&ok).await.is_empty());
}

#[test]
fn tz_in_a_stored_schedule_stays_allowed_without_a_time_zone() {
    use super::super::KindHooks;
    use crate::validation::Causes;
    let old = cron_job(
        "c",
        json!({"schedule": "TZ=UTC 0 * * * *", "concurrencyPolicy": "Allow"}),
    );
    let messages = |new: &Object| {
        let mut causes = Causes::default();
        super::CronJobHooks.validate_update(new, &old, &mut causes);
        match causes.into_result("CronJob", "c") {
            Ok(()) => Vec::new(),
            // The hooks alone do not default the pod template, which the pod spec rules see.
            Err(e) => e
                .causes()
                .iter()
                .filter(|c| !c.field.starts_with("spec.jobTemplate.spec.template.spec"))
                .map(|c| c.message.clone())
                .collect(),
        }
    };
    let same = cron_job(
        "c",
        json!({"schedule": "TZ=UTC 5 * * * *", "concurrencyPolicy": "Allow"}),
    );
    assert!(messages(&same).is_empty());
    let both = cron_job(
        "c",
        json!({"schedule": "TZ=UTC 5 * * * *", "concurrencyPolicy": "Allow", "timeZone": "Etc/UTC"}),
    );
    assert_eq!(
        messages(&both),
        vec!["Invalid value: \"TZ=UTC 5 * * * *\": cannot use both timeZone field and TZ or CRON_TZ in schedule"]
    );
}
