//! Runtime scenarios of a quiet steady state (issue 9): the server's normalizations are not
//! drift, a status the schema defaults is not rewritten, secret values never reach events or
//! plan text, and a repeated warning is reported once.
//!
//! They share [`ChildrenOperator`]: the parent's `spec.children` lists the child objects to
//! declare as they are, so each scenario states its children as data.

use std::sync::Arc;

use operator_runtime_core::builder::{DesiredSet, GroupSpec, OwnedKind, Ownership};
use operator_runtime_core::reconcile::{Context, DynamicOperator, OperatorError, ReconcileReport, SpecError};
use operator_runtime_core::store::{Patch, PatchParams, WriteParams};
use operator_runtime_core::{Object, ObjectStore, TypeRef};
use serde_json::{Value, json};

use super::fixture::World;
use crate::outcome::{CaseResult, Outcome};
use crate::support::ctx::Ctx;
use crate::support::kinds;

/// Manager name of the scenarios' operator.
const MANAGER: &str = "children-operator";

fn ensure(cond: bool, why: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(why()) }
}

fn core(kind: &str) -> TypeRef {
    TypeRef::new("v1", kind)
}

fn stateful_set() -> TypeRef {
    TypeRef::new("apps/v1", "StatefulSet")
}

/// Declares the objects listed in the parent's `spec.children` (in its namespace, one rollout
/// group); `spec.invalid` (a string) makes the spec invalid with that message.
pub struct ChildrenOperator {
    parent: TypeRef,
    ownership: Ownership,
    schema: Option<Value>,
}

impl ChildrenOperator {
    /// For parents of `parent`, with the parent CRD's schema if given.
    pub fn new(parent: TypeRef, schema: Option<Value>) -> Self {
        let mut ownership = Ownership::new(MANAGER);
        for kind in [core("ConfigMap"), core("Secret"), core("Service"), stateful_set()] {
            ownership = ownership.owns_kind(OwnedKind::namespaced(kind));
        }
        Self {
            parent,
            ownership,
            schema,
        }
    }
}

impl DynamicOperator for ChildrenOperator {
    fn parent_type(&self) -> TypeRef {
        self.parent.clone()
    }

    fn ownership(&self) -> &Ownership {
        &self.ownership
    }

    fn parent_schema(&self) -> Option<&Value> {
        self.schema.as_ref()
    }

    fn desired(
        &self,
        parent: &Object,
        _ctx: &Context<'_>,
        set: &mut DesiredSet,
    ) -> std::result::Result<(), OperatorError> {
        let spec = parent.spec().cloned().unwrap_or_default();
        if let Some(why) = spec.get("invalid").and_then(Value::as_str) {
            return Err(SpecError::new("spec.invalid", why).into());
        }
        set.declare(GroupSpec::ordered("all").component_label("all"))
            .map_err(|e| SpecError::new("spec", e.to_string()))?;
        for (i, child) in spec["children"].as_array().into_iter().flatten().enumerate() {
            let field = format!("spec.children[{i}]");
            let mut object =
                Object::from_value(child.clone()).map_err(|e| SpecError::new(field.clone(), e.to_string()))?;
            object.metadata.namespace = parent.namespace().map(str::to_owned);
            set.add("all", object)
                .map_err(|e| SpecError::new(field, e.to_string()))?;
        }
        Ok(())
    }

    fn status(
        &self,
        _parent: &Object,
        _children: &[Arc<Object>],
    ) -> Result<serde_json::Map<String, Value>, OperatorError> {
        // Fields the Sprocket schema normalizes: a null it drops, an unknown field it prunes.
        let mut extra = serde_json::Map::new();
        if self.schema.is_none() {
            return Ok(extra);
        }
        extra.insert("note".into(), Value::Null);
        extra.insert("scratch".into(), json!("pruned by the schema"));
        Ok(extra)
    }
}

/// One reconcile of the parent `name` of `kind` once the cache caught up.
async fn reconcile<O: DynamicOperator>(w: &World<O>, kind: &TypeRef, name: &str) -> Result<ReconcileReport, String> {
    w.settle().await?;
    w.reconciler
        .reconcile(&w.key(kind, name))
        .await
        .map_err(|e| format!("reconcile {name}: {e}"))
}

/// Reconciles until one writes nothing (children, status, finalizer), marking workloads ready.
async fn converge<O: DynamicOperator>(w: &World<O>, kind: &TypeRef, name: &str) -> Result<(), String> {
    for _ in 0..8 {
        let report = reconcile(w, kind, name).await?;
        w.mark_workloads_ready().await?;
        if report.child_writes == 0 && !report.status_written && !report.finalizer_written {
            return Ok(());
        }
    }
    Err(format!("{name} did not converge within 8 reconciles"))
}

/// Five resyncs in a row: no request, no write, no status write, no event.
async fn five_quiet_resyncs<O: DynamicOperator>(w: &World<O>, kind: &TypeRef, name: &str) -> Result<(), String> {
    w.settle().await?;
    w.events.take();
    let before = w.counted.snapshot();
    for round in 1..=5 {
        let report = reconcile(w, kind, name).await?;
        let plan = report.plan.as_ref().map(ToString::to_string).unwrap_or_default();
        ensure(report.child_writes == 0 && !report.status_written, || {
            format!(
                "resync {round} wrote (status written: {}): {plan}",
                report.status_written
            )
        })?;
    }
    let sent = w.requests_since(&before);
    let events = w.events.take();
    eprintln!(
        "figure: steady state of {kind} {name}, 5 resyncs: {} requests, {} writes, {} events",
        sent.total(),
        sent.writes(),
        events.len()
    );
    ensure(sent.total() == 0, || format!("5 resyncs sent requests: {sent}"))?;
    ensure(events.is_empty(), || format!("5 resyncs recorded events: {events:?}"))?;
    Ok(())
}

fn labels(widget: &str) -> Value {
    json!({"app.kubernetes.io/name": widget})
}

/// Children full of forms the server normalizes or defaults: quantities (requests, limits,
/// `emptyDir.sizeLimit`, a PVC template's storage), omitted defaults (protocols, policies,
/// `clusterIP`, `type`), empty maps and lists, `false`, an int-or-string `targetPort`.
fn normalized_children() -> Value {
    let pod_labels = labels("wn-db");
    json!([
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "wn-config", "annotations": {}},
         "data": {"mode": "fast"}, "binaryData": {}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "wn-db"},
         "spec": {"selector": pod_labels, "ports": [
            {"name": "http", "port": 80, "targetPort": "http"},
            {"name": "metrics", "port": 9090, "targetPort": 9090}]}},
        {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "wn-db"},
         "spec": {"replicas": 1, "serviceName": "wn-db", "selector": {"matchLabels": pod_labels},
            "template": {"metadata": {"labels": pod_labels, "annotations": {}},
                "spec": {"hostNetwork": false, "nodeSelector": {}, "tolerations": [],
                    "containers": [{"name": "db", "image": "registry.local/db:1", "args": [], "env": [],
                        "ports": [{"name": "http", "containerPort": 8080}],
                        "resources": {"requests": {"cpu": "1000m", "memory": "1024Mi"},
                                      "limits": {"cpu": "2", "memory": "2048Mi", "ephemeral-storage": "0.5Gi"}},
                        "volumeMounts": [{"name": "scratch", "mountPath": "/scratch"},
                                         {"name": "cache", "mountPath": "/cache"},
                                         {"name": "data", "mountPath": "/data"}]}],
                    "volumes": [{"name": "scratch", "emptyDir": {"sizeLimit": "1024Mi"}},
                                {"name": "cache", "emptyDir": {"medium": "", "sizeLimit": "500000k"}}]}},
            "volumeClaimTemplates": [{"metadata": {"name": "data"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "2048Mi"}}}}]}}
    ])
}

/// Children whose every field the server normalizes or defaults stay Unchanged: five resyncs
/// send no request, write nothing and record no event. An edit of a declared field by another
/// manager (the `emptyDir.sizeLimit`, a ConfigMap value) is repaired once, then it is quiet again.
pub async fn normalized_children_are_not_drift_and_edits_are_repaired_once(store: Arc<dyn ObjectStore>) -> CaseResult {
    let operator = ChildrenOperator::new(kinds::widget(), None);
    let w = World::with_operator(store, "runtime-normalized-not-drift", operator, MANAGER).await?;
    let widget = kinds::widget();
    w.create(
        &w.widget("wn", json!([]))
            .with("spec", json!({"children": normalized_children()})),
    )
    .await?;
    converge(&w, &widget, "wn").await?;
    five_quiet_resyncs(&w, &widget, "wn").await?;
    // Every unchanged child is remembered as checked at its version (`plan::Verified`)...
    let quiet = reconcile(&w, &widget, "wn").await?;
    let (items, verified) = quiet
        .plan
        .as_ref()
        .map_or((0, 0), |p| (p.items.len(), p.verified.len()));
    ensure(items > 0 && verified == items, || {
        format!("{verified} of {items} children remembered as checked")
    })?;

    let other = PatchParams {
        field_manager: Some("manual-edit".into()),
        ..PatchParams::default()
    };
    let sts = w.key(&stateful_set(), "wn-db");
    let edit = Patch::Json(
        json!([{"op": "replace", "path": "/spec/template/spec/volumes/0/emptyDir/sizeLimit", "value": "3Gi"}]),
    );
    w.raw
        .patch(&sts, &edit, &other)
        .await
        .map_err(|e| format!("editing sizeLimit: {e}"))?;
    let cm = w.key(&core("ConfigMap"), "wn-config");
    let edit = Patch::Merge(json!({"data": {"mode": "slow"}}));
    w.raw
        .patch(&cm, &edit, &other)
        .await
        .map_err(|e| format!("editing the ConfigMap: {e}"))?;

    w.events.take();
    let report = reconcile(&w, &widget, "wn").await?;
    let plan = report.plan.as_ref().map(ToString::to_string).unwrap_or_default();
    ensure(report.child_writes == 2, || {
        format!("repair wrote {} children: {plan}", report.child_writes)
    })?;
    // ...and an edit gives the child a new resourceVersion: walked again, found, not remembered.
    let verified = report.plan.as_ref().map_or(0, |p| p.verified.len());
    ensure(verified == items - 2, || {
        format!("{verified} of {items} children remembered after two were edited: {plan}")
    })?;
    let notes: Vec<String> = w
        .events
        .take()
        .into_iter()
        .map(|e| format!("{}: {}", e.event.reason, e.event.note))
        .collect();
    // The two repairs of one reconcile fold into one event that names both children.
    ensure(
        notes.len() == 1
            && notes[0].starts_with("DriftRepaired: 2 children: ")
            && notes[0].contains("StatefulSet wn-db")
            && notes[0].contains("ConfigMap wn-config"),
        || format!("expected one DriftRepaired event naming both children: {notes:?}"),
    )?;
    ensure(
        notes.iter().any(|n| n.contains("emptyDir.sizeLimit: 3Gi -> 1024Mi")),
        || format!("the sizeLimit repair is not explained: {notes:?}"),
    )?;
    let live = w.get(&sts).await?.ok_or("StatefulSet gone")?;
    let size = &live.body["spec"]["template"]["spec"]["volumes"][0]["emptyDir"]["sizeLimit"];
    ensure(size == "1Gi" || size == "1024Mi", || {
        format!("sizeLimit not repaired: {size}")
    })?;
    converge(&w, &widget, "wn").await?;
    five_quiet_resyncs(&w, &widget, "wn").await?;
    Ok(Outcome::Passed)
}

/// The Sprocket kind: a status schema with defaults, a non-nullable field and pruning.
fn sprocket() -> TypeRef {
    TypeRef::new(format!("{}/v1", kinds::GROUP), "Sprocket")
}

fn sprocket_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
            "status": {"type": "object", "properties": {
                "conditions": {"type": "array", "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
                "observedGeneration": {"type": "integer"},
                "groups": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                "phase": {"type": "string", "default": "Active"},
                "members": {"type": "array", "default": [], "items": {"type": "string"}},
                "summary": {"type": "object", "default": {}, "properties": {"ready": {"type": "integer", "default": 0}}},
                "port": {"x-kubernetes-int-or-string": true, "default": "http"},
                "note": {"type": "string"}
            }}
        }
    })
}

fn sprocket_crd() -> Result<Object, String> {
    Object::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("sprockets.{}", kinds::GROUP)},
        "spec": {
            "group": kinds::GROUP,
            "scope": "Namespaced",
            "names": {"plural": "sprockets", "singular": "sprocket", "kind": "Sprocket", "listKind": "SprocketList"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": sprocket_schema()}, "subresources": {"status": {}}}]
        }
    }))
    .map_err(|e| e.to_string())
}

/// A parent whose CRD defaults status fields the operator leaves out, drops a `null` and prunes
/// an unknown field: the driver compares the status as the server stores it, so the steady
/// state writes no status (five resyncs: no request, no write, no event).
pub async fn status_defaulted_by_the_schema_is_not_rewritten(store: Arc<dyn ObjectStore>) -> CaseResult {
    {
        let cx = Ctx::new(&*store, "runtime-status-schema-crd").await?;
        cx.install_crd(&sprocket_crd()?, &sprocket()).await?;
    }
    let operator = ChildrenOperator::new(sprocket(), Some(sprocket_schema()));
    let w = World::with_operator(store, "runtime-status-schema", operator, MANAGER).await?;
    let children =
        json!([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "sp-config"}, "data": {"a": "b"}}]);
    let parent = Object::new(&sprocket(), Some(&w.ns), "sp").with("spec", json!({"children": children}));
    w.create(&parent).await?;
    converge(&w, &sprocket(), "sp").await?;
    let stored = w.get(&w.key(&sprocket(), "sp")).await?.ok_or("parent gone")?;
    let status = stored.status().cloned().unwrap_or_default();
    ensure(
        status["phase"] == "Active" && status["summary"] == json!({"ready": 0}) && status["port"] == "http",
        || format!("the server did not default the status: {status}"),
    )?;
    ensure(status.get("note").is_none() && status.get("scratch").is_none(), || {
        format!("the server kept a null or an unknown field: {status}")
    })?;
    five_quiet_resyncs(&w, &sprocket(), "sp").await?;
    Ok(Outcome::Passed)
}

const SECRET_PLAIN: &str = "hunter2-correct-horse";
const SECRET_NEXT: &str = "battery-staple-42";
const SECRET_EDITED: &str = "edited-by-someone";

/// Standard base64 of `text` (the Secret `data` encoding).
fn base64(text: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = text.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn secret_children(password: &str) -> Value {
    json!([{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "ws-credentials"}, "type": "Opaque",
        "data": {"password": base64(password), "user": base64("admin")}}])
}

/// Log lines written on this thread, kept in memory.
#[derive(Clone, Default)]
struct CapturedLogs(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLogs {
    fn lines(&self) -> Vec<String> {
        let bytes = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        String::from_utf8_lossy(&bytes).lines().map(str::to_owned).collect()
    }
}

/// Every log line of this process from now on (debug level and up), or None when another
/// global subscriber is installed. Global, not scoped to the scenario's task: scoped
/// subscribers miss events whose callsite interest another test thread cached first, and the
/// cache's tasks run on other threads.
fn process_logs() -> Option<CapturedLogs> {
    static LOGS: std::sync::OnceLock<Option<CapturedLogs>> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = CapturedLogs::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("debug"))
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).ok().map(|()| logs)
    })
    .clone()
}

/// A Secret's values never appear in events, plan text, conditions or the process's log lines
/// (captured at debug level): a desired change and a repaired manual edit name
/// `data.password` as `<redacted, changed>`.
pub async fn secret_values_never_appear_in_events_or_plans(store: Arc<dyn ObjectStore>) -> CaseResult {
    let logs = process_logs().ok_or("another global tracing subscriber is installed: cannot capture log lines")?;
    secret_scenario(store, logs).await
}

async fn secret_scenario(store: Arc<dyn ObjectStore>, logs: CapturedLogs) -> CaseResult {
    let operator = ChildrenOperator::new(kinds::widget(), None);
    let w = World::with_operator(store, "runtime-secret-redacted", operator, MANAGER).await?;
    let widget = kinds::widget();
    let parent = w
        .widget("ws", json!([]))
        .with("spec", json!({"children": secret_children(SECRET_PLAIN)}));
    w.create(&parent).await?;
    converge(&w, &widget, "ws").await?;
    let mut texts: Vec<String> = Vec::new();

    let key = w.key(&widget, "ws");
    let mut changed = (*w.get(&key).await?.ok_or("parent gone")?).clone();
    changed
        .body
        .insert("spec".into(), json!({"children": secret_children(SECRET_NEXT)}));
    w.raw
        .replace(&changed, &WriteParams::default())
        .await
        .map_err(|e| format!("spec change: {e}"))?;
    let report = reconcile(&w, &widget, "ws").await?;
    texts.extend(report.plan.as_ref().map(|p| format!("{p:#}")));
    texts.extend(report.conditions.iter().map(|c| format!("{c:?}")));

    let secret = w.key(&core("Secret"), "ws-credentials");
    let params = PatchParams {
        field_manager: Some("manual-edit".into()),
        ..PatchParams::default()
    };
    let edit = Patch::Merge(json!({"data": {"password": base64(SECRET_EDITED)}}));
    w.raw
        .patch(&secret, &edit, &params)
        .await
        .map_err(|e| format!("editing the Secret: {e}"))?;
    let report = reconcile(&w, &widget, "ws").await?;
    texts.extend(report.plan.as_ref().map(|p| format!("{p:#}")));
    texts.extend(report.conditions.iter().map(|c| format!("{c:?}")));
    let live = w.get(&secret).await?.ok_or("Secret gone")?;
    ensure(live.body["data"]["password"] == base64(SECRET_NEXT), || {
        "the Secret edit was not repaired".to_owned()
    })?;

    let events = w.events.take();
    let reasons: Vec<&str> = events.iter().map(|e| e.event.reason.as_str()).collect();
    ensure(
        reasons.contains(&"Updated") && reasons.contains(&"DriftRepaired"),
        || format!("expected Updated and DriftRepaired events: {reasons:?}"),
    )?;
    for event in &events {
        ensure(
            event.event.reason == "Created" || event.event.note.contains("data.password: <redacted, changed>"),
            || format!("event does not name the redacted path: {}", event.event.note),
        )?;
    }
    let status = w.get(&key).await?.and_then(|p| p.status().cloned()).unwrap_or_default();
    texts.push(status.to_string());
    texts.extend(
        events
            .iter()
            .map(|e| format!("{} {} {}", e.event.reason, e.event.action, e.event.note)),
    );
    let lines = logs.lines();
    ensure(
        lines.iter().any(|l| l.contains("data.password: <redacted, changed>")),
        || format!("no log line names the redacted change: {lines:?}"),
    )?;
    texts.extend(lines);
    for value in [SECRET_PLAIN, SECRET_NEXT, SECRET_EDITED] {
        for form in [value.to_owned(), base64(value)] {
            if let Some(leak) = texts.iter().find(|t| t.contains(&form)) {
                return Err(format!("secret value {form:?} leaked: {leak}"));
            }
        }
    }
    Ok(Outcome::Passed)
}

/// An invalid spec, and a child the server keeps rejecting, are each reported by one Warning
/// event over five reconciles; after a fix and a new break the warning is sent again and folds
/// into the same series (count 2).
pub async fn repeated_warning_is_sent_once_while_nothing_changes(store: Arc<dyn ObjectStore>) -> CaseResult {
    let operator = ChildrenOperator::new(kinds::widget(), None);
    let w = World::with_operator(store, "runtime-warning-once", operator, MANAGER).await?;
    let widget = kinds::widget();
    let bad_child = json!([{"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "ww-config", "annotations": {"not a valid key!": "x"}}, "data": {"a": "b"}}]);
    let spec_of = |invalid: Option<&str>| match invalid {
        Some(why) => json!({"invalid": why, "children": bad_child}),
        None => json!({"children": bad_child}),
    };
    w.create(
        &w.widget("ww", json!([]))
            .with("spec", spec_of(Some("nodes must not be empty"))),
    )
    .await?;
    let key = w.key(&widget, "ww");
    let set_spec = |spec: Value| {
        let w = &w;
        let key = key.clone();
        async move {
            let mut parent = (*w.get(&key).await?.ok_or("parent gone")?).clone();
            parent.body.insert("spec".into(), spec);
            w.raw
                .replace(&parent, &WriteParams::default())
                .await
                .map_err(|e| format!("spec change: {e}"))?;
            Ok::<(), String>(())
        }
    };
    let count = |reason: &str| -> Vec<u32> {
        w.events
            .events()
            .iter()
            .filter(|e| e.event.reason == reason)
            .map(|e| e.count)
            .collect()
    };
    for _ in 0..5 {
        reconcile(&w, &widget, "ww").await?;
    }
    ensure(count("InvalidSpec") == [1], || {
        format!("InvalidSpec events: {:?}", w.events.events())
    })?;

    set_spec(spec_of(None)).await?;
    for _ in 0..5 {
        let _ = reconcile(&w, &widget, "ww").await;
    }
    ensure(count("WriteFailed") == [1], || {
        format!("WriteFailed events: {:?}", w.events.events())
    })?;

    set_spec(spec_of(Some("nodes must not be empty"))).await?;
    for _ in 0..3 {
        reconcile(&w, &widget, "ww").await?;
    }
    ensure(count("InvalidSpec") == [2], || {
        format!("InvalidSpec after fix and break: {:?}", w.events.events())
    })?;
    Ok(Outcome::Passed)
}

#[cfg(test)]
mod tests {
    use super::base64;

    #[test]
    fn base64_matches_the_standard_alphabet_and_padding() {
        assert_eq!(base64("admin"), "YWRtaW4=");
        assert_eq!(base64("ab"), "YWI=");
        assert_eq!(base64("abc"), "YWJj");
    }
}
