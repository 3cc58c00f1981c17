//! `apps/v1` defaults: `SetDefaults_Deployment`, `SetDefaults_StatefulSet`,
//! `SetDefaults_DaemonSet` (`k8s.io/kubernetes/pkg/apis/apps/v1/defaults.go`, 1.37.2) and the
//! nested template and claim-template defaulters `zz_generated.defaults.go` runs after them.

use operator_runtime_core::Object;
use serde_json::json;

use super::core_misc::claim;
use super::fields::{Obj, default_nil, default_unset, each_mut, object_mut, present_mut, str_of};
use super::pod;

/// Deployment: 1 replica, RollingUpdate 25%/25%, 10 revisions, 600s progress deadline.
pub(crate) fn deployment(body: &mut Obj) {
    let Some(spec) = object_mut(body, "spec") else { return };
    default_nil(spec, "replicas", json!(1));
    if let Some(strategy) = object_mut(spec, "strategy") {
        default_unset(strategy, "type", json!("RollingUpdate"));
        if str_of(strategy, "type") == "RollingUpdate"
            && let Some(rolling) = object_mut(strategy, "rollingUpdate")
        {
            default_nil(rolling, "maxUnavailable", json!("25%"));
            default_nil(rolling, "maxSurge", json!("25%"));
        }
    }
    default_nil(spec, "revisionHistoryLimit", json!(10));
    default_nil(spec, "progressDeadlineSeconds", json!(600));
    template_of(spec);
}

/// StatefulSet: OrderedReady, RollingUpdate with partition 0 and (MaxUnavailableStatefulSet,
/// on by default in 1.37) maxUnavailable 1, Retain/Retain claim retention, 1 replica,
/// 10 revisions; then the template and each volume claim template.
pub(crate) fn stateful_set(body: &mut Obj) {
    let Some(spec) = object_mut(body, "spec") else { return };
    default_unset(spec, "podManagementPolicy", json!("OrderedReady"));
    if let Some(strategy) = object_mut(spec, "updateStrategy") {
        if super::fields::is_unset(strategy, "type") {
            strategy.insert("type".into(), json!("RollingUpdate"));
            default_nil(strategy, "rollingUpdate", json!({}));
        }
        if str_of(strategy, "type") == "RollingUpdate"
            && let Some(rolling) = present_mut(strategy, "rollingUpdate")
        {
            default_nil(rolling, "partition", json!(0));
            default_nil(rolling, "maxUnavailable", json!(1));
        }
    }
    if let Some(retention) = object_mut(spec, "persistentVolumeClaimRetentionPolicy") {
        default_unset(retention, "whenDeleted", json!("Retain"));
        default_unset(retention, "whenScaled", json!("Retain"));
    }
    default_nil(spec, "replicas", json!(1));
    default_nil(spec, "revisionHistoryLimit", json!(10));
    template_of(spec);
    for template in each_mut(spec, "volumeClaimTemplates") {
        claim(template);
        // ObjectMeta is a struct: Go writes it as `{}` when empty.
        default_nil(template, "metadata", json!({}));
        // The apps/v1 conversion stamps the type on every claim template (issue 87583).
        template.insert("apiVersion".into(), json!("v1"));
        template.insert("kind".into(), json!("PersistentVolumeClaim"));
    }
}

/// DaemonSet: RollingUpdate with maxUnavailable 1 and maxSurge 0, 10 revisions.
pub(crate) fn daemon_set(body: &mut Obj) {
    let Some(spec) = object_mut(body, "spec") else { return };
    if let Some(strategy) = object_mut(spec, "updateStrategy") {
        default_unset(strategy, "type", json!("RollingUpdate"));
        if str_of(strategy, "type") == "RollingUpdate"
            && let Some(rolling) = object_mut(strategy, "rollingUpdate")
        {
            default_nil(rolling, "maxUnavailable", json!(1));
            default_nil(rolling, "maxSurge", json!(0));
        }
    }
    default_nil(spec, "revisionHistoryLimit", json!(10));
    template_of(spec);
}

/// The pod template of a workload spec (a struct in Go, so always defaulted).
pub(crate) fn template_of(spec: &mut Obj) {
    if let Some(template) = object_mut(spec, "template") {
        pod::template(template);
    }
}

/// The annotation the apps/v1 DaemonSet carries its (internal) `templateGeneration` in.
const TEMPLATE_GENERATION: &str = "deprecated.daemonset.template.generation";

/// The annotation as the apps/v1 conversion writes it before the strategy runs (what the field
/// manager compares): the internal `templateGeneration` decoded from the request's annotation,
/// 0 when it has none. The writer of a create therefore owns it, as on the real server.
pub(crate) fn template_generation_as_converted(new: &mut Object) {
    let annotations = new.metadata.annotations.get_or_insert_with(Default::default);
    let generation = annotations
        .get(TEMPLATE_GENERATION)
        .and_then(|g| g.parse::<i64>().ok())
        .unwrap_or(0);
    annotations.insert(TEMPLATE_GENERATION.to_owned(), generation.to_string());
}

/// The DaemonSet strategy's `templateGeneration`: 1 on create (unless the annotation names a
/// positive one), the stored value on update, plus one when the update changes the template.
pub(crate) fn template_generation(old: Option<&Object>, new: &mut Object) {
    let parse = |o: &Object| {
        o.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(TEMPLATE_GENERATION))
            .and_then(|g| g.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let generation = match old {
        None => parse(new).max(1),
        Some(old) => {
            let template = |o: &Object| o.body.get("spec").and_then(|s| s.get("template")).cloned();
            parse(old) + i64::from(template(old) != template(new))
        }
    };
    new.metadata
        .annotations
        .get_or_insert_with(Default::default)
        .insert(TEMPLATE_GENERATION.to_owned(), generation.to_string());
}
