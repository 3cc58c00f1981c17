//! Property tests of the planner: idempotence (planning after applying a plan changes
//! nothing), safety (nothing without this parent's controller ownerReference and ownership
//! labels is ever deleted or written) and independence from the order children are added in.

use std::collections::BTreeMap;
use std::sync::Arc;

use proptest::prelude::*;
use serde_json::{Value, json};

use operator_runtime_core::builder::{DesiredSet, GroupSpec, INSTANCE_LABEL, MANAGED_BY_LABEL, OwnedKind, Ownership};
use operator_runtime_core::model::OwnerReference;
use operator_runtime_core::plan::{Action, Plan, PlanInputs, PlanPolicy, plan, plan_with};
use operator_runtime_core::{Object, TypeRef};

const UID: &str = "parent-uid";
const NS: &str = "prod";
const GROUPS: [&str; 3] = ["config", "data", "web"];

fn parent() -> Object {
    let mut p = Object::new(&TypeRef::new("example.com/v1", "Db"), Some(NS), "db1");
    p.metadata.uid = Some(UID.into());
    p
}

fn kinds() -> [TypeRef; 3] {
    [
        TypeRef::new("v1", "ConfigMap"),
        TypeRef::new("apps/v1", "StatefulSet"),
        TypeRef::new("example.com/v1", "Widget"),
    ]
}

fn ownership() -> Ownership {
    kinds()
        .into_iter()
        .fold(Ownership::new("my-op"), |o, k| o.owns_kind(OwnedKind::namespaced(k)))
}

fn policy() -> PlanPolicy {
    PlanPolicy::new().allow_recreate(TypeRef::new("apps/v1", "StatefulSet"))
}

/// A child's intent: kind index, name index, and a few values that end up in its body.
#[derive(Clone, Debug)]
struct Spec {
    kind: usize,
    name: usize,
    value: u8,
    cpu: &'static str,
    flag: bool,
    service: u8,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        0..3usize,
        0..4usize,
        any::<u8>(),
        prop::sample::select(vec!["500m", "0.5", "1", "1000m", "2"]),
        any::<bool>(),
        0..2u8,
    )
        .prop_map(|(kind, name, value, cpu, flag, service)| Spec {
            kind,
            name,
            value,
            cpu,
            flag,
            service,
        })
}

fn child(spec: &Spec) -> Object {
    let name = format!("c{}", spec.name);
    let v = match spec.kind {
        0 => json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name},
            "data": {"value": spec.value.to_string()}}),
        1 => json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name},
            "spec": {"replicas": spec.value % 5, "serviceName": format!("svc{}", spec.service),
                "selector": {"matchLabels": {"app": name}},
                "template": {"metadata": {"labels": {"app": name}},
                    "spec": {"hostNetwork": spec.flag, "containers": [{"name": "main", "image": format!("db:{}", spec.value),
                        "resources": {"requests": {"cpu": spec.cpu}}}]}}}}),
        _ => json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": name},
            "spec": {"size": spec.value, "enabled": spec.flag, "tags": [], "extra": {}}}),
    };
    Object::from_value(v).unwrap()
}

/// A desired set: (group index, spec) per child, unique by (kind, name).
fn children() -> impl Strategy<Value = Vec<(usize, Spec)>> {
    prop::collection::vec((0..3usize, spec()), 0..10).prop_map(|mut v| {
        let mut seen = std::collections::BTreeSet::new();
        v.retain(|(_, s)| seen.insert((s.kind, s.name)));
        v
    })
}

fn build(children: &[(usize, Spec)]) -> DesiredSet {
    let mut set = DesiredSet::new(&parent(), &ownership()).unwrap();
    for g in GROUPS {
        set.declare(GroupSpec::ordered(g).component_label(g)).unwrap();
    }
    for (group, spec) in children {
        set.add(GROUPS[*group], child(spec)).unwrap();
    }
    set
}

fn canonical_cpu(q: &str) -> &str {
    match q {
        "0.5" => "500m",
        "1000m" => "1",
        other => other,
    }
}

/// What the API server stores for a written object: server metadata, defaults the operator
/// never set, canonical quantities, `false` and empty collections dropped (omitempty), status.
fn serve(desired: &Object, rv: u64) -> Arc<Object> {
    let mut live = desired.clone();
    live.metadata.uid = Some(format!("uid-{}-{}", live.kind, live.name()));
    live.metadata.resource_version = Some(rv.to_string());
    live.metadata.generation = Some(1);
    if let Some(Value::Object(spec)) = live.body.get_mut("spec") {
        spec.entry("revisionHistoryLimit").or_insert(json!(10));
        if spec.get("enabled") == Some(&json!(false)) {
            spec.remove("enabled");
        }
        spec.retain(|_, v| !(v == &json!([]) || v == &json!({})));
        if let Some(Value::Object(pod)) = spec.get_mut("template").and_then(|t| t.get_mut("spec")) {
            if pod.get("hostNetwork") == Some(&json!(false)) {
                pod.remove("hostNetwork");
            }
            pod.insert("restartPolicy".into(), json!("Always"));
            for c in pod
                .get_mut("containers")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                c["imagePullPolicy"] = json!("IfNotPresent");
                if let Some(cpu) = c.pointer_mut("/resources/requests/cpu") {
                    let canonical = canonical_cpu(cpu.as_str().unwrap_or_default()).to_owned();
                    *cpu = json!(canonical);
                }
            }
        }
    }
    live.body.insert("status".into(), json!({"observedGeneration": 1}));
    Arc::new(live)
}

/// Applies the plan's writes to `observed`, as the driver and the API server would.
fn apply(plan: &Plan, observed: &mut Vec<Arc<Object>>, rv: &mut u64) {
    for item in plan.writes() {
        *rv += 1;
        observed.retain(|o| o.object_ref() != item.key);
        if let (Some(desired), false) = (&item.desired, item.action == Action::Delete) {
            observed.push(serve(desired, *rv));
        }
    }
}

fn all_ready() -> PlanInputs {
    PlanInputs::with_readiness(GROUPS.iter().map(|g| (g.to_string(), true)).collect())
}

/// Observed state before planning: some desired children already applied at an older
/// version of their spec, or edited by someone, plus some leftovers of this parent.
fn prior_state(old: &[(usize, Spec)], edits: &[(usize, u8)]) -> Vec<Arc<Object>> {
    let set = build(old);
    let mut observed: Vec<Arc<Object>> = set.children().map(|c| serve(&c.object, 1)).collect();
    for (index, value) in edits {
        if observed.is_empty() {
            break;
        }
        let i = index % observed.len();
        let mut edited = (*observed[i]).clone();
        match edited.kind.as_str() {
            "ConfigMap" => edited.body["data"]["value"] = json!(value.to_string()),
            "StatefulSet" => edited.body["spec"]["replicas"] = json!(value),
            _ => edited.body["spec"]["size"] = json!(value),
        }
        observed[i] = Arc::new(edited);
    }
    observed
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Applying a plan and planning again leaves every written child Unchanged, and a rollout
    /// converges within one round per group.
    #[test]
    fn plan_after_applying_its_own_plan_is_unchanged(
        old in children(),
        new in children(),
        edits in prop::collection::vec((any::<usize>(), any::<u8>()), 0..4),
    ) {
        let desired = build(&new);
        let mut observed = prior_state(&old, &edits);
        let mut rv = 10;
        let mut rounds = 0;
        loop {
            let p = plan_with(&desired, &observed, &policy(), &all_ready());
            prop_assert_eq!(p.counts().blocked, 0, "{:#}", p);
            if p.is_converged() {
                break;
            }
            let written: Vec<_> = p.writes().map(|i| (i.key.clone(), i.action.clone())).collect();
            apply(&p, &mut observed, &mut rv);
            let next = plan_with(&desired, &observed, &policy(), &all_ready());
            for (key, action) in written {
                match next.item(&key) {
                    None => prop_assert_eq!(action, Action::Delete),
                    Some(item) => prop_assert_eq!(&item.action, &Action::Unchanged, "{:#}", next),
                }
            }
            rounds += 1;
            prop_assert!(rounds <= GROUPS.len() + 1, "no convergence after {} rounds:\n{:#}", rounds, next);
        }
        prop_assert_eq!(observed.len(), desired.len());
    }

    /// Random foreign objects (random ownership labels, random ownerReferences) are never
    /// deleted or written; exactly the provable orphans are deleted.
    #[test]
    fn plan_never_deletes_an_object_without_our_owner_uid(
        new in children(),
        foreign in prop::collection::vec((0..3usize, 0..6usize, 0..3u8, 0..3u8, 0..4u8, any::<bool>()), 0..12),
    ) {
        let desired = build(&new);
        let mut observed: Vec<Arc<Object>> = Vec::new();
        for (kind, name, managed_by, instance, owner, other_ns) in foreign {
            let mut o = Object::new(&kinds()[kind], Some(if other_ns { "dev" } else { NS }), &format!("c{name}"));
            o.metadata.uid = Some(format!("uid-{kind}-{name}"));
            let mut labels = BTreeMap::new();
            match managed_by { 0 => {} 1 => { labels.insert(MANAGED_BY_LABEL.to_string(), "my-op".to_string()); } _ => { labels.insert(MANAGED_BY_LABEL.to_string(), "helm".to_string()); } }
            match instance { 0 => {} 1 => { labels.insert(INSTANCE_LABEL.to_string(), "db1".to_string()); } _ => { labels.insert(INSTANCE_LABEL.to_string(), "db2".to_string()); } }
            o.metadata.labels = Some(labels);
            let reference = |uid: &str, controller: bool| OwnerReference {
                api_version: "example.com/v1".into(), kind: "Db".into(), name: "db1".into(),
                uid: uid.into(), controller: Some(controller), block_owner_deletion: Some(true),
            };
            o.metadata.owner_references = match owner {
                0 => None,
                1 => Some(vec![reference(UID, false)]),
                2 => Some(vec![reference("other-uid", true)]),
                _ => Some(vec![reference("other-uid", false), reference(UID, true)]),
            };
            // A store holds one object per key.
            if !observed.iter().any(|x| x.object_ref() == o.object_ref()) {
                observed.push(Arc::new(o));
            }
        }
        let p = plan(&desired, &observed, &policy());
        for item in &p.items {
            let Some(live) = &item.live else { continue };
            let ours = live.is_controlled_by(UID);
            if item.action.is_write() {
                prop_assert!(ours, "{} would be written but is not ours:\n{:#}", item.key, p);
            }
            if item.action == Action::Delete {
                prop_assert_eq!(live.label(MANAGED_BY_LABEL), Some("my-op"));
                prop_assert_eq!(live.label(INSTANCE_LABEL), Some("db1"));
                prop_assert_eq!(live.namespace(), Some(NS));
                prop_assert!(desired.get(&item.key).is_none());
            }
        }
        // Completeness: every provable orphan is deleted.
        for o in &observed {
            let provable = o.is_controlled_by(UID) && o.label(MANAGED_BY_LABEL) == Some("my-op")
                && o.label(INSTANCE_LABEL) == Some("db1") && o.namespace() == Some(NS)
                && desired.get(&o.object_ref()).is_none();
            if provable {
                let item = p.item(&o.object_ref());
                prop_assert!(item.is_some_and(|i| i.action == Action::Delete), "{} not deleted:\n{:#}", o.object_ref(), p);
            }
        }
    }

    /// The order children are added in does not change the plan.
    #[test]
    fn desired_sets_built_in_any_order_plan_the_same(
        (new, shuffled) in children().prop_flat_map(|v| (Just(v.clone()), Just(v).prop_shuffle())),
        old in children(),
        edits in prop::collection::vec((any::<usize>(), any::<u8>()), 0..4),
        ready in prop::collection::vec(any::<bool>(), 3),
    ) {
        let observed = prior_state(&old, &edits);
        let inputs = PlanInputs::with_readiness(GROUPS.iter().zip(&ready).map(|(g, r)| (g.to_string(), *r)).collect());
        let a = plan_with(&build(&new), &observed, &policy(), &inputs);
        let b = plan_with(&build(&shuffled), &observed, &policy(), &inputs);
        prop_assert_eq!(a.to_string(), b.to_string());
        prop_assert_eq!(a, b);
    }
}
