//! Per-kind semantics of the built-in kinds operators create, as the real API server's
//! strategies define them: create on update, name rules, generateName, Service and workload
//! validation, immutable workload fields, field selectors, status writes, and which error wins
//! when several checks fail.

use operator_runtime_core::store::{DeleteParams, ListParams, Patch, PatchParams, WriteParams};
use operator_runtime_core::{Object, ObjectStore, StoreError, TypeRef};
use serde_json::{Value, json};

use crate::outcome::{CaseResult, Outcome};
use crate::support::kinds::{config_map, namespace};
use crate::support::{Ctx, edit};

fn lease() -> TypeRef {
    TypeRef::new("coordination.k8s.io/v1", "Lease")
}

fn role() -> TypeRef {
    TypeRef::new("rbac.authorization.k8s.io/v1", "Role")
}

fn service() -> TypeRef {
    TypeRef::new("v1", "Service")
}

fn deployment() -> TypeRef {
    TypeRef::new("apps/v1", "Deployment")
}

fn stateful_set() -> TypeRef {
    TypeRef::new("apps/v1", "StatefulSet")
}

fn pod() -> TypeRef {
    TypeRef::new("v1", "Pod")
}

/// A pod template labelled `app: <app>` with one container.
fn template(app: &str) -> Value {
    json!({
        "metadata": {"labels": {"app": app}},
        "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}]}
    })
}

/// A workload spec selecting `app: <selects>` whose template is labelled `app: <labelled>`.
fn workload_spec(selects: &str, labelled: &str) -> Value {
    json!({"replicas": 0, "selector": {"matchLabels": {"app": selects}}, "template": template(labelled)})
}

/// A Service with one TCP port.
fn service_object(ns: &str, name: &str) -> Object {
    Object::new(&service(), Some(ns), name).with("spec", json!({"ports": [{"port": 80, "protocol": "TCP"}]}))
}

/// Fails unless the error is Invalid with a cause on `field`.
fn expect_cause(error: &StoreError, field: &str) -> Result<(), String> {
    ensure!(
        matches!(error, StoreError::Invalid { .. }),
        "expected Invalid, got {error:?}"
    );
    ensure!(
        error.causes().iter().any(|c| c.field == field),
        "no cause on {field}: {:?}",
        error.causes()
    );
    Ok(())
}

/// A PUT of a missing Lease creates it (`AllowCreateOnUpdate`).
pub async fn put_of_missing_lease_creates_it<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "put_of_missing_lease_creates_it").await?;
    let lease = Object::new(&lease(), Some(&cx.ns), "leader").with("spec", json!({"holderIdentity": "a"}));
    let created = cx.replace(&lease).await?;
    ensure!(created.uid().is_some(), "no uid on the created Lease");
    let stored = cx.get(&created.object_ref()).await?;
    ensure!(
        stored.body.get("spec") == Some(&json!({"holderIdentity": "a"})),
        "spec {:?}",
        stored.body.get("spec")
    );
    Ok(Outcome::Passed)
}

/// A PUT of a missing Role creates it.
pub async fn put_of_missing_role_creates_it<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "put_of_missing_role_creates_it").await?;
    let role = Object::new(&role(), Some(&cx.ns), "reader").with(
        "rules",
        json!([{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]),
    );
    let created = cx.replace(&role).await?;
    cx.get(&created.object_ref()).await?;
    Ok(Outcome::Passed)
}

/// A PUT of a missing ConfigMap is NotFound (no create on update), even with a
/// resourceVersion or an invalid label: the existence check comes first.
pub async fn put_of_missing_config_map_is_not_found<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "put_of_missing_config_map_is_not_found").await?;
    let mut cm = cx.config_map("ghost");
    expect_err!(
        store.replace(&cm, &WriteParams::default()).await,
        StoreError::NotFound { .. },
        "PUT a missing ConfigMap"
    );
    cm.metadata.labels = Some([("bad key!".to_owned(), "v".to_owned())].into());
    cm.metadata.resource_version = Some("1".into());
    expect_err!(
        store.replace(&cm, &WriteParams::default()).await,
        StoreError::NotFound { .. },
        "PUT a missing ConfigMap with an invalid label"
    );
    cx.expect_gone(&cx.key(&config_map(), "ghost")).await?;
    Ok(Outcome::Passed)
}

/// A stale resourceVersion is a Conflict even when the body is also invalid: the version
/// check runs before validation.
pub async fn stale_update_with_invalid_body_conflicts<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "stale_update_with_invalid_body_conflicts").await?;
    let created = cx.create(&cx.config_map("c").with("immutable", json!(true))).await?;
    let mut newer = edit(&created);
    newer.metadata.labels = Some([("a".to_owned(), "b".to_owned())].into());
    cx.replace(&newer).await?;
    let mut stale = edit(&created).with("data", json!({"k": "changed"}));
    stale.metadata.labels = Some([("bad key!".to_owned(), "v".to_owned())].into());
    expect_err!(
        store.replace(&stale, &WriteParams::default()).await,
        StoreError::Conflict { .. },
        "stale and invalid update"
    );
    Ok(Outcome::Passed)
}

/// Service names are DNS-1123 labels in 1.37 (KEP-5311, RelaxedServiceNameValidation GA): a
/// leading digit is fine, a dot is Invalid.
pub async fn service_name_must_be_a_dns_label<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "service_name_must_be_a_dns_label").await?;
    let error = expect_err!(
        store
            .create(&service_object(&cx.ns, "web.v1"), &WriteParams::default())
            .await,
        StoreError::Invalid { .. },
        "create Service web.v1"
    );
    expect_cause(&error, "metadata.name")?;
    cx.create(&service_object(&cx.ns, "1web")).await?;
    // A ConfigMap may contain dots (subdomain).
    cx.create(&cx.config_map("web.v1")).await?;
    Ok(Outcome::Passed)
}

/// RBAC object names are path segments (`ValidateRBACName`): upper case, `_` and `:` are
/// fine (`system:controller:...`), `/` and `%` are not.
pub async fn role_name_is_a_path_segment<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "role_name_is_a_path_segment").await?;
    let role_named = |name: &str| {
        Object::new(&role(), Some(&cx.ns), name).with(
            "rules",
            json!([{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]),
        )
    };
    cx.create(&role_named("Team_Reader:v1")).await?;
    let error = expect_err!(
        store.create(&role_named("a%b"), &WriteParams::default()).await,
        StoreError::Invalid { .. },
        "create Role a%b"
    );
    expect_cause(&error, "metadata.name")?;
    Ok(Outcome::Passed)
}

/// StatefulSet names are DNS labels (no dots), Deployment names subdomains.
pub async fn statefulset_name_with_dot_is_invalid<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "statefulset_name_with_dot_is_invalid").await?;
    let sts = Object::new(&stateful_set(), Some(&cx.ns), "web.v1").with("spec", workload_spec("web", "web"));
    let error = expect_err!(
        store.create(&sts, &WriteParams::default()).await,
        StoreError::Invalid { .. },
        "create StatefulSet web.v1"
    );
    expect_cause(&error, "metadata.name")?;
    let deploy = Object::new(&deployment(), Some(&cx.ns), "web.v1").with("spec", workload_spec("web", "web"));
    cx.create(&deploy).await?;
    Ok(Outcome::Passed)
}

/// A generateName prefix is cut to 58 characters before the 5 random ones.
pub async fn generate_name_prefix_is_cut_to_58_characters<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "generate_name_prefix_is_cut_to_58_characters").await?;
    let prefix = "a".repeat(70);
    let mut cm = Object::new(&config_map(), Some(&cx.ns), "");
    cm.metadata.name = None;
    cm.metadata.generate_name = Some(prefix.clone());
    let created = cx.create(&cm).await?;
    let name = created.name();
    ensure!(name.len() == 63, "generated name {name} has {} characters", name.len());
    ensure!(name.starts_with(&prefix[..58]), "generated name {name}");
    Ok(Outcome::Passed)
}

/// A ClusterIP Service needs ports; a headless one does not.
pub async fn service_without_ports_is_invalid<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "service_without_ports_is_invalid").await?;
    let bare = Object::new(&service(), Some(&cx.ns), "bare").with("spec", json!({"selector": {"app": "x"}}));
    let error = expect_err!(
        store.create(&bare, &WriteParams::default()).await,
        StoreError::Invalid { .. },
        "create a Service without ports"
    );
    expect_cause(&error, "spec.ports")?;
    let headless = Object::new(&service(), Some(&cx.ns), "headless").with("spec", json!({"clusterIP": "None"}));
    cx.create(&headless).await?;
    Ok(Outcome::Passed)
}

/// A Deployment whose selector does not match its template's labels is Invalid.
pub async fn deployment_selector_must_match_template_labels<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "deployment_selector_must_match_template_labels").await?;
    let deploy = Object::new(&deployment(), Some(&cx.ns), "web").with("spec", workload_spec("web", "other"));
    let error = expect_err!(
        store.create(&deploy, &WriteParams::default()).await,
        StoreError::Invalid { .. },
        "create a Deployment whose selector misses its template"
    );
    expect_cause(&error, "spec.template.metadata.labels")?;
    Ok(Outcome::Passed)
}

/// A Deployment's selector cannot change after creation.
pub async fn deployment_selector_is_immutable<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "deployment_selector_is_immutable").await?;
    let deploy = Object::new(&deployment(), Some(&cx.ns), "web").with("spec", workload_spec("web", "web"));
    cx.create(&deploy).await?;
    let mut moved = deploy.clone().with("spec", workload_spec("api", "api"));
    moved.metadata.resource_version = None;
    let error = expect_err!(
        store.replace(&moved, &WriteParams::default()).await,
        StoreError::Invalid { .. },
        "change a Deployment's selector"
    );
    expect_cause(&error, "spec.selector")?;
    Ok(Outcome::Passed)
}

/// A StatefulSet's serviceName cannot change; its replicas can.
pub async fn statefulset_service_name_is_immutable<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "statefulset_service_name_is_immutable").await?;
    let mut spec = workload_spec("db", "db");
    spec["serviceName"] = json!("db");
    let sts = Object::new(&stateful_set(), Some(&cx.ns), "db").with("spec", spec.clone());
    cx.create(&sts).await?;
    let mut renamed_spec = spec.clone();
    renamed_spec["serviceName"] = json!("db2");
    let renamed = sts.clone().with("spec", renamed_spec);
    let error = expect_err!(
        store.replace(&renamed, &WriteParams::default()).await,
        StoreError::Invalid { .. },
        "change a StatefulSet's serviceName"
    );
    expect_cause(&error, "spec.serviceName")?;
    let mut scaled_spec = spec;
    scaled_spec["replicas"] = json!(1);
    cx.replace(&sts.clone().with("spec", scaled_spec)).await?;
    Ok(Outcome::Passed)
}

/// Pods accept their documented field selectors (`spec.nodeName`, `status.phase`) and refuse
/// others with 400; Namespaces refuse `metadata.namespace` (cluster-scoped).
pub async fn pod_and_namespace_field_selectors_follow_the_kind<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "pod_and_namespace_field_selectors_follow_the_kind").await?;
    for selector in [
        "spec.nodeName=nowhere",
        "status.phase=Running,spec.restartPolicy=Always",
    ] {
        let list = store
            .list(&pod(), &ListParams::in_namespace(&cx.ns).fields(selector))
            .await
            .map_err(|e| format!("list pods by {selector}: {e:?}"))?;
        ensure!(list.items.is_empty(), "pods selected by {selector}");
    }
    expect_err!(
        store
            .list(&pod(), &ListParams::in_namespace(&cx.ns).fields("spec.priority=1"))
            .await,
        StoreError::BadRequest { .. },
        "list pods by spec.priority"
    );
    expect_err!(
        store
            .list(&namespace(), &ListParams::default().fields("metadata.namespace=x"))
            .await,
        StoreError::BadRequest { .. },
        "list namespaces by metadata.namespace"
    );
    let list = store
        .list(
            &namespace(),
            &ListParams::default().fields(format!("metadata.name={}", cx.ns)),
        )
        .await
        .map_err(|e| format!("list namespaces by name: {e:?}"))?;
    ensure!(
        list.items.len() == 1,
        "{} namespaces selected by name",
        list.items.len()
    );
    Ok(Outcome::Passed)
}

/// A status write of a built-in kind keeps its metadata changes (a Service's annotations),
/// and ignores spec changes.
pub async fn status_write_of_service_keeps_annotations<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "status_write_of_service_keeps_annotations").await?;
    let created = cx.create(&service_object(&cx.ns, "web")).await?;
    let mut body = edit(&created).with("spec", json!({"ports": [{"port": 81, "protocol": "TCP"}]}));
    body.metadata.annotations = Some([("note".to_owned(), "set-by-status".to_owned())].into());
    let written = store
        .replace_status(&body, &WriteParams::default())
        .await
        .map_err(|e| format!("status write: {e:?}"))?;
    let note = written.metadata.annotations.as_ref().and_then(|a| a.get("note"));
    ensure!(
        note.map(String::as_str) == Some("set-by-status"),
        "annotations {:?}",
        written.metadata.annotations
    );
    let port = written
        .body
        .get("spec")
        .and_then(|s| s.get("ports"))
        .and_then(|p| p.get(0));
    ensure!(
        port.and_then(|p| p.get("port")) == Some(&json!(80)),
        "spec changed by a status write: {port:?}"
    );
    Ok(Outcome::Passed)
}

/// A Deployment's status write cannot change its labels (its status strategy resets them),
/// but can change annotations.
pub async fn status_write_of_deployment_ignores_labels<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "status_write_of_deployment_ignores_labels").await?;
    let deploy = Object::new(&deployment(), Some(&cx.ns), "web").with("spec", workload_spec("web", "web"));
    let created = cx.create(&deploy).await?;
    let mut last = None;
    // The deployment controller writes status too: retry on Conflict.
    for _ in 0..10 {
        let current = cx.get(&created.object_ref()).await?;
        let mut body = edit(&current);
        body.metadata.labels = Some([("tier".to_owned(), "front".to_owned())].into());
        body.metadata.annotations = Some([("note".to_owned(), "n".to_owned())].into());
        match store.replace_status(&body, &WriteParams::default()).await {
            Err(StoreError::Conflict { .. }) => continue,
            other => {
                last = Some(other.map_err(|e| format!("status write: {e:?}"))?);
                break;
            }
        }
    }
    let Some(written) = last else {
        return Err("status write kept conflicting".into());
    };
    ensure!(
        written.metadata.labels.as_ref().is_none_or(|l| !l.contains_key("tier")),
        "labels changed by a status write: {:?}",
        written.metadata.labels
    );
    ensure!(
        written
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("note"))
            .is_some(),
        "annotations not kept: {:?}",
        written.metadata.annotations
    );
    Ok(Outcome::Passed)
}

/// A pod template's `metadata.creationTimestamp: null` (what `kubectl create --dry-run -o
/// yaml` prints) is not stored: the zero Time is `omitzero`.
pub async fn template_creation_timestamp_null_is_not_stored<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "template_creation_timestamp_null_is_not_stored").await?;
    let mut spec = workload_spec("web", "web");
    spec["template"]["metadata"]["creationTimestamp"] = Value::Null;
    let deploy = Object::new(&deployment(), Some(&cx.ns), "web").with("spec", spec);
    let created = cx.create(&deploy).await?;
    let template_meta = created.body["spec"]["template"]["metadata"].clone();
    ensure!(
        template_meta == json!({"labels": {"app": "web"}}),
        "template metadata stored as {template_meta}"
    );
    Ok(Outcome::Passed)
}

/// `v1` and `events.k8s.io/v1` Events are one storage: an Event written through either API
/// reads, lists (with each API's field selectors), watches, patches and deletes through the
/// other, its fields renamed (`message`/`note`, `involvedObject`/`regarding`,
/// `reportingComponent`/`reportingController`, `source`/`deprecatedSource`, ...).
pub async fn events_of_both_apis_are_one_storage<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "events_of_both_apis_are_one_storage").await?;
    let (core, events) = (TypeRef::new("v1", "Event"), TypeRef::new("events.k8s.io/v1", "Event"));
    let regarding = json!({"kind": "Pod", "name": "p1", "namespace": cx.ns});
    let mut old = Object::new(&core, Some(&cx.ns), "old-api");
    old.body.extend([
        ("involvedObject".to_owned(), regarding.clone()),
        ("reason".to_owned(), json!("Started")),
        ("message".to_owned(), json!("hello core")),
        ("type".to_owned(), json!("Normal")),
    ]);
    let old = cx.create(&old).await?;
    let mut new = Object::new(&events, Some(&cx.ns), "new-api");
    new.body.extend([
        ("eventTime".to_owned(), json!("2026-12-05T08:00:00.000000Z")),
        ("reportingController".to_owned(), json!("example.com/ctl")),
        ("reportingInstance".to_owned(), json!("ctl-1")),
        ("action".to_owned(), json!("Reconcile")),
        ("reason".to_owned(), json!("Synced")),
        ("note".to_owned(), json!("hello events")),
        ("type".to_owned(), json!("Normal")),
        ("regarding".to_owned(), regarding.clone()),
    ]);
    let new = cx.create(&new).await?;

    // Each read through the other API: same object, fields renamed, zero values as served.
    let seen = cx.get(&cx.key(&events, "old-api")).await?;
    ensure!(
        seen.uid() == old.uid() && seen.resource_version() == old.resource_version(),
        "a different object through events.k8s.io: {:?}",
        seen.metadata
    );
    let body = Value::Object(seen.body.clone());
    let want = json!({"eventTime": null, "reason": "Started", "regarding": regarding, "note": "hello core",
        "type": "Normal", "deprecatedSource": {}, "deprecatedFirstTimestamp": null,
        "deprecatedLastTimestamp": null});
    ensure!(
        body == want,
        "core Event through events.k8s.io/v1: {body}, expected {want}"
    );
    let seen = cx.get(&cx.key(&core, "new-api")).await?;
    let body = Value::Object(seen.body.clone());
    let want = json!({"involvedObject": regarding, "reason": "Synced", "message": "hello events",
        "source": {}, "firstTimestamp": null, "lastTimestamp": null, "type": "Normal",
        "eventTime": "2026-12-05T08:00:00.000000Z", "action": "Reconcile",
        "reportingComponent": "example.com/ctl", "reportingInstance": "ctl-1"});
    ensure!(body == want, "events.k8s.io Event through v1: {body}, expected {want}");

    // Lists: both Events through either API, and each API's field selector names.
    for (kind, selector) in [
        (&core, "reportingComponent=example.com/ctl"),
        (&events, "reportingController=example.com/ctl"),
    ] {
        let all = cx
            .store
            .list(
                kind,
                &ListParams {
                    namespace: Some(cx.ns.clone()),
                    ..ListParams::default()
                },
            )
            .await
            .map_err(|e| format!("list {kind}: {e}"))?;
        let mut names: Vec<&str> = all.items.iter().map(|o| o.name()).collect();
        names.sort_unstable();
        ensure!(names == ["new-api", "old-api"], "list {kind}: {names:?}");
        let params = ListParams {
            namespace: Some(cx.ns.clone()),
            field_selector: Some(selector.to_owned()),
            ..ListParams::default()
        };
        let picked = cx
            .store
            .list(kind, &params)
            .await
            .map_err(|e| format!("list {kind} {selector}: {e}"))?;
        let names: Vec<&str> = picked.items.iter().map(|o| o.name()).collect();
        ensure!(names == ["new-api"], "list {kind} with {selector}: {names:?}");
    }

    // A merge patch through v1 of the Event written through events.k8s.io, read back there.
    let patched = cx
        .store
        .patch(
            &cx.key(&core, "new-api"),
            &Patch::Merge(json!({"message": "changed"})),
            &PatchParams::default(),
        )
        .await
        .map_err(|e| format!("patch through v1: {e}"))?;
    ensure!(
        patched.body.get("message") == Some(&json!("changed")) && !patched.body.contains_key("note"),
        "patched through v1: {:?}",
        patched.body
    );
    let seen = cx.get(&cx.key(&events, "new-api")).await?;
    ensure!(
        seen.body.get("note") == Some(&json!("changed")) && !seen.body.contains_key("message"),
        "the patch through events.k8s.io/v1: {:?}",
        seen.body
    );
    ensure!(seen.uid() == new.uid(), "a different object after the patch");

    // Deleted through events.k8s.io, gone through v1.
    cx.store
        .delete(&cx.key(&events, "old-api"), &DeleteParams::default())
        .await
        .map_err(|e| format!("delete through events.k8s.io/v1: {e}"))?;
    cx.expect_gone(&cx.key(&core, "old-api")).await?;
    Ok(Outcome::Passed)
}
