//! The seeded generator: one `u64` seed gives one sequence of operations (ChaCha8, so the same
//! seed gives the same sequence on every machine and Rust version).

use operator_runtime_core::store::Propagation;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use super::ops::{Edit, Kind, KindSet, NameChoice, Op, OwnerSpec, Precondition, RvChoice, Target};
use super::values::{self, FINALIZERS, LABEL_SELECTORS, pick};

/// Shortest and longest sequence.
const LENGTH: std::ops::RangeInclusive<usize> = 10..=30;

struct Gen {
    rng: ChaCha8Rng,
    /// Objects created so far (whether or not the create succeeds on a server).
    targets: Vec<Target>,
    next: usize,
    watched: Vec<Kind>,
    kinds: Vec<Kind>,
}

/// The sequence of seed `seed` over `kinds`.
pub fn generate(seed: u64, kinds: KindSet) -> Vec<Op> {
    let mut g = Gen {
        kinds: kinds.kinds(),
        rng: ChaCha8Rng::seed_from_u64(seed),
        targets: Vec::new(),
        next: 0,
        watched: Vec::new(),
    };
    let len = g.rng.random_range(LENGTH);
    (0..len).map(|_| g.op()).collect()
}

impl Gen {
    fn kind(&mut self) -> Kind {
        *self.kinds.choose(&mut self.rng).unwrap_or(&Kind::ConfigMap)
    }

    /// An existing target most of the time, else one that was never created.
    fn target(&mut self) -> Target {
        if !self.targets.is_empty() && self.rng.random_bool(0.9) {
            let i = self.rng.random_range(0..self.targets.len());
            return self.targets[i].clone();
        }
        let kind = self.kind();
        Target {
            kind,
            sym: format!("{}-missing", kind.short()),
        }
    }

    fn rv(&mut self) -> RvChoice {
        [RvChoice::Current, RvChoice::Current, RvChoice::Omit, RvChoice::Stale][self.rng.random_range(0..4)]
    }

    fn dry_run(&mut self) -> bool {
        self.rng.random_bool(0.1)
    }

    fn owners(&mut self, me: &Target) -> Vec<OwnerSpec> {
        if self.targets.is_empty() || !self.rng.random_bool(0.3) {
            return Vec::new();
        }
        let candidates: Vec<Target> = self.targets.iter().filter(|t| *t != me).cloned().collect();
        let Some(owner) = candidates.choose(&mut self.rng).cloned() else {
            return Vec::new();
        };
        vec![OwnerSpec {
            owner,
            controller: self.rng.random_bool(0.7),
            block: self.rng.random_bool(0.6),
        }]
    }

    fn op(&mut self) -> Op {
        // Early on, mostly creates, so that later operations have objects to work on.
        let create_weight = if self.targets.len() < 3 { 60 } else { 18 };
        let roll = self.rng.random_range(0..create_weight + 82);
        if roll < create_weight {
            return self.create();
        }
        match roll - create_weight {
            0..8 => Op::Get { target: self.target() },
            8..16 => self.list(),
            16..28 => self.replace(),
            28..33 => {
                let target = self.target();
                let status = values::status(&mut self.rng, target.kind);
                Op::ReplaceStatus {
                    target,
                    status,
                    rv: self.rv(),
                }
            }
            33..43 => self.merge_patch(),
            43..49 => self.json_patch(),
            49..63 => self.apply(),
            63..72 => self.delete(),
            72..79 => self.finalizer(),
            _ => self.watch(),
        }
    }

    fn create(&mut self) -> Op {
        let kind = self.kind();
        let sym = format!("{}-{}", kind.short(), self.next);
        self.next += 1;
        let target = Target { kind, sym };
        let name = if self.rng.random_bool(0.12) {
            NameChoice::Generate(format!("{}-", target.sym))
        } else {
            NameChoice::Fixed(values::object_name(&mut self.rng, &target.sym))
        };
        let body = values::body(&mut self.rng, kind);
        let owners = self.owners(&target);
        let dry_run = self.dry_run();
        self.targets.push(target.clone());
        Op::Create {
            target,
            name,
            body,
            owners,
            dry_run,
        }
    }

    fn list(&mut self) -> Op {
        let kind = self.kind();
        let labels = self
            .rng
            .random_bool(0.5)
            .then(|| pick(&mut self.rng, LABEL_SELECTORS).to_owned());
        let fields = match self.rng.random_range(0..8) {
            0 => Some(format!("metadata.name={}-0", kind.short())),
            1 => Some("metadata.name!=x".to_owned()),
            2 => Some(
                match kind {
                    Kind::Pod => "status.phase=Pending",
                    Kind::Job => "status.successful=0",
                    _ => "type=Opaque",
                }
                .to_owned(),
            ),
            3 => Some("spec.unknown=1".to_owned()),
            _ => None,
        };
        let limit = self.rng.random_bool(0.4).then(|| self.rng.random_range(1..4));
        Op::List {
            kind,
            labels,
            fields,
            limit,
        }
    }

    fn edit(&mut self, kind: Kind) -> Edit {
        match self.rng.random_range(0..8) {
            0 => Edit::SetLabel(
                pick(&mut self.rng, &values::LABEL_KEYS[..3]).to_owned(),
                pick(&mut self.rng, values::LABEL_VALUES).to_owned(),
            ),
            1 => Edit::RemoveLabel("app".to_owned()),
            2 => Edit::SetAnnotation("note".to_owned(), "edited".to_owned()),
            3 => {
                let target = self.target();
                Edit::SetOwners(vec![OwnerSpec {
                    owner: target,
                    controller: true,
                    block: true,
                }])
            }
            _ => {
                let (path, value) = self.field_change(kind);
                match value {
                    Some(v) => Edit::SetField(path, v),
                    None => Edit::RemoveField(path),
                }
            }
        }
    }

    /// A change of one body field of `kind`: a path and a new value (None removes it).
    fn field_change(&mut self, kind: Kind) -> (Vec<String>, Option<Value>) {
        let path = |p: &[&str]| p.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let r = self.rng.random_range(0..4);
        match kind {
            Kind::ConfigMap => match r {
                0 => (path(&["data", "k"]), Some(json!("changed"))),
                1 => (path(&["immutable"]), Some(json!(true))),
                2 => (path(&["data"]), None),
                _ => (path(&["data", "k"]), Some(json!(5))),
            },
            Kind::Secret => match r {
                0 => (path(&["stringData", "k"]), Some(json!("plain"))),
                1 => (path(&["data", "k"]), Some(json!("%%%"))),
                2 => (path(&["immutable"]), Some(json!(true))),
                _ => (path(&["type"]), Some(json!("kubernetes.io/tls"))),
            },
            Kind::Service => match r {
                0 => (path(&["spec", "type"]), Some(json!("NodePort"))),
                1 => (path(&["spec", "clusterIP"]), Some(json!("None"))),
                2 => (path(&["spec", "selector"]), Some(json!({"app": "b"}))),
                _ => (
                    path(&["spec", "ports"]),
                    Some(json!([{"port": 81, "targetPort": "web"}])),
                ),
            },
            Kind::Deployment | Kind::StatefulSet => match r {
                0 => (path(&["spec", "replicas"]), Some(json!(self.rng.random_range(0..4)))),
                1 => (
                    path(&["spec", "selector"]),
                    Some(json!({"matchLabels": {"app": "changed"}})),
                ),
                2 => (
                    path(&["spec", "template", "spec", "containers"]),
                    Some(json!([values::container(&mut self.rng)])),
                ),
                _ => (path(&["spec", "paused"]), Some(json!(true))),
            },
            Kind::Sprocket => match r {
                0 => (path(&["spec", "size"]), Some(json!(self.rng.random_range(-1..102)))),
                1 => (path(&["spec", "note"]), Some(json!(null))),
                2 => (path(&["spec", "port"]), Some(json!("https"))),
                _ => (path(&["spec", "mode"]), None),
            },
            Kind::Pod => match r {
                0 => (path(&["spec", "activeDeadlineSeconds"]), Some(json!(60))),
                1 => (
                    path(&["spec", "containers"]),
                    Some(json!([{"name": "main", "image": "nginx:1.28"}])),
                ),
                2 => (path(&["spec", "restartPolicy"]), Some(json!("Never"))),
                _ => (
                    path(&["spec", "tolerations"]),
                    Some(json!([{"key": "k", "operator": "Exists"}])),
                ),
            },
            Kind::Job => match r {
                0 => (path(&["spec", "suspend"]), Some(json!(true))),
                1 => (path(&["spec", "parallelism"]), Some(json!(self.rng.random_range(0..3)))),
                2 => (path(&["spec", "completions"]), Some(json!(7))),
                _ => (
                    path(&["spec", "template", "metadata", "labels"]),
                    Some(json!({"app": "b"})),
                ),
            },
            Kind::CronJob => match r {
                0 => (path(&["spec", "schedule"]), Some(json!("@daily"))),
                1 => (path(&["spec", "suspend"]), Some(json!(true))),
                2 => (path(&["spec", "timeZone"]), Some(json!("Nowhere/City"))),
                _ => (path(&["spec", "concurrencyPolicy"]), None),
            },
            Kind::DaemonSet => match r {
                0 => (path(&["spec", "minReadySeconds"]), Some(json!(10))),
                1 => (
                    path(&["spec", "selector"]),
                    Some(json!({"matchLabels": {"app": "changed"}})),
                ),
                2 => (
                    path(&["spec", "template", "spec", "containers"]),
                    Some(json!([values::container(&mut self.rng)])),
                ),
                _ => (path(&["spec", "updateStrategy"]), Some(json!({"type": "OnDelete"}))),
            },
            Kind::PersistentVolumeClaim => match r {
                0 => (path(&["spec", "resources", "requests", "storage"]), Some(json!("2Gi"))),
                1 => (path(&["spec", "accessModes"]), Some(json!(["ReadOnlyMany"]))),
                2 => (path(&["spec", "storageClassName"]), Some(json!("other"))),
                _ => (path(&["spec", "volumeName"]), Some(json!("pv-1"))),
            },
            Kind::ServiceAccount => match r {
                0 => (path(&["automountServiceAccountToken"]), Some(json!(false))),
                1 => (path(&["secrets"]), None),
                2 => (path(&["imagePullSecrets"]), Some(json!([{"name": "p2"}]))),
                _ => (path(&["secrets"]), Some(json!([{"name": "s", "namespace": "other"}]))),
            },
            Kind::Ingress => match r {
                0 => (path(&["spec", "ingressClassName"]), Some(json!("other"))),
                1 => (path(&["spec", "rules"]), None),
                2 => (
                    path(&["spec", "defaultBackend"]),
                    Some(json!({"resource": {"apiGroup": "example.com", "kind": "Bucket", "name": "b"}})),
                ),
                _ => (path(&["spec", "tls"]), Some(json!([{"secretName": "tls2"}]))),
            },
            Kind::NetworkPolicy => match r {
                0 => (
                    path(&["spec", "podSelector"]),
                    Some(json!({"matchLabels": {"app": "b"}})),
                ),
                1 => (path(&["spec", "policyTypes"]), Some(json!(["Egress"]))),
                2 => (path(&["spec", "ingress"]), None),
                _ => (
                    path(&["spec", "egress"]),
                    Some(json!([{"ports": [{"port": 53, "protocol": "UDP"}]}])),
                ),
            },
            Kind::PodDisruptionBudget => match r {
                0 => (path(&["spec", "minAvailable"]), Some(json!("30%"))),
                1 => (path(&["spec", "maxUnavailable"]), Some(json!(2))),
                2 => (path(&["spec", "selector"]), Some(json!({"matchLabels": {"app": "b"}}))),
                _ => (path(&["spec", "minAvailable"]), None),
            },
            Kind::HorizontalPodAutoscaler => match r {
                0 => (path(&["spec", "maxReplicas"]), Some(json!(self.rng.random_range(0..4)))),
                1 => (path(&["spec", "minReplicas"]), Some(json!(3))),
                2 => (
                    path(&["spec", "behavior"]),
                    Some(json!({"scaleUp": {"selectPolicy": "Min"}})),
                ),
                _ => (path(&["spec", "scaleTargetRef", "kind"]), Some(json!("StatefulSet"))),
            },
            Kind::Role => match r {
                0 | 1 => (
                    path(&["rules"]),
                    Some(json!([{"apiGroups": [""], "resources": ["secrets"], "verbs": ["watch"]}])),
                ),
                2 => (path(&["rules"]), None),
                _ => (path(&["rules"]), Some(json!([{"verbs": ["get"]}]))),
            },
            Kind::RoleBinding => match r {
                0 => (path(&["roleRef", "name"]), Some(json!("edit"))),
                1 => (path(&["subjects"]), None),
                2 => (
                    path(&["subjects"]),
                    Some(json!([{"kind": "ServiceAccount", "name": "sa-1", "namespace": "elsewhere"}])),
                ),
                _ => (path(&["subjects"]), Some(json!([{"kind": "User", "name": ""}]))),
            },
        }
    }

    fn replace(&mut self) -> Op {
        let target = self.target();
        let edits = (0..self.rng.random_range(1..3))
            .map(|_| self.edit(target.kind))
            .collect();
        let fallback = values::body(&mut self.rng, target.kind);
        Op::Replace {
            target,
            edits,
            fallback,
            rv: self.rv(),
            dry_run: self.dry_run(),
        }
    }

    fn finalizer(&mut self) -> Op {
        let target = self.target();
        let f = pick(&mut self.rng, FINALIZERS).to_owned();
        let edit = if self.rng.random_bool(0.5) {
            Edit::AddFinalizer(f)
        } else {
            Edit::RemoveFinalizer(f)
        };
        Op::Replace {
            fallback: values::body(&mut self.rng, target.kind),
            target,
            edits: vec![edit],
            rv: RvChoice::Current,
            dry_run: false,
        }
    }

    fn merge_patch(&mut self) -> Op {
        let target = self.target();
        let patch = match self.rng.random_range(0..4) {
            0 => json!({"metadata": {"labels": {"app": null, "tier": "web"}}}),
            1 => json!({"metadata": {"annotations": {"note": "patched"}}}),
            2 => json!({"metadata": {"finalizers": null}}),
            _ => {
                let (path, value) = self.field_change(target.kind);
                let mut v = value.unwrap_or(Value::Null);
                for key in path.iter().rev() {
                    v = json!({ key.as_str(): v });
                }
                v
            }
        };
        let rv = [RvChoice::Omit, RvChoice::Omit, RvChoice::Current, RvChoice::Stale][self.rng.random_range(0..4)];
        Op::MergePatch {
            target,
            patch,
            rv,
            dry_run: self.dry_run(),
        }
    }

    fn json_patch(&mut self) -> Op {
        let target = self.target();
        let patch = match self.rng.random_range(0..5) {
            0 => json!([{"op": "add", "path": "/metadata/labels/tier", "value": "web"}]),
            1 => json!([{"op": "remove", "path": "/metadata/labels/app"}]),
            2 => json!([{"op": "test", "path": "/metadata/labels/app", "value": "a"},
                        {"op": "replace", "path": "/metadata/labels/app", "value": "b"}]),
            3 => json!([{"op": "add", "path": "/metadata/annotations", "value": {"from": "json-patch"}}]),
            _ => {
                let (path, value) = self.field_change(target.kind);
                let pointer = format!("/{}", path.join("/"));
                match value {
                    Some(v) => json!([{"op": "add", "path": pointer, "value": v}]),
                    None => json!([{"op": "remove", "path": pointer}]),
                }
            }
        };
        Op::JsonPatch {
            target,
            patch,
            dry_run: self.dry_run(),
        }
    }

    fn apply(&mut self) -> Op {
        // Apply creates too: sometimes a new object, usually an existing one.
        let target = if self.targets.is_empty() || self.rng.random_bool(0.2) {
            let kind = self.kind();
            let t = Target {
                kind,
                sym: format!("{}-{}", kind.short(), self.next),
            };
            self.next += 1;
            self.targets.push(t.clone());
            t
        } else {
            self.target()
        };
        let mut body = values::body(&mut self.rng, target.kind);
        if let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut) {
            // Finalizers through apply are covered by the finalizer operations.
            meta.remove("finalizers");
        }
        // Drop optional top-level fields now and then: the manager stops owning them.
        if self.rng.random_bool(0.3)
            && let Some(map) = body.as_object_mut()
        {
            for key in ["data", "stringData", "immutable", "type", "status"] {
                if self.rng.random_bool(0.5) {
                    map.remove(key);
                }
            }
            if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.remove("labels");
            }
        }
        Op::Apply {
            target,
            manager: ["alpha", "beta"][self.rng.random_range(0..2)].to_owned(),
            body,
            force: self.rng.random_bool(0.3),
            dry_run: self.dry_run(),
        }
    }

    fn delete(&mut self) -> Op {
        let target = self.target();
        let precondition = [
            Precondition::None,
            Precondition::None,
            Precondition::Uid,
            Precondition::WrongUid,
            Precondition::CurrentRv,
            Precondition::StaleRv,
        ][self.rng.random_range(0..6)];
        let propagation = [
            None,
            Some(Propagation::Background),
            Some(Propagation::Foreground),
            Some(Propagation::Orphan),
        ][self.rng.random_range(0..4)];
        Op::Delete {
            target,
            precondition,
            propagation,
            dry_run: self.dry_run(),
        }
    }

    fn watch(&mut self) -> Op {
        let kind = self.kind();
        if self.watched.contains(&kind) {
            return Op::Get { target: self.target() };
        }
        self.watched.push(kind);
        Op::Watch { kind }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence_and_lengths_in_range() {
        for seed in 0..50 {
            let a = generate(seed, KindSet::CHECKED);
            assert_eq!(a, generate(seed, KindSet::CHECKED));
            assert!(LENGTH.contains(&a.len()), "seed {seed}: {} ops", a.len());
        }
        assert_ne!(generate(1, KindSet::CHECKED), generate(2, KindSet::CHECKED));
    }

    #[test]
    fn a_kind_set_draws_only_its_kinds() {
        let set = KindSet::parse("pod,rb").unwrap();
        assert_eq!(set.kinds(), vec![Kind::Pod, Kind::RoleBinding]);
        assert_eq!(set.to_string(), "pod,rb");
        for seed in 0..50 {
            assert!(generate(seed, set).iter().all(|op| set.kinds().contains(&op.kind())));
        }
        let checked = KindSet::CHECKED.kinds();
        assert!(
            (0..50)
                .flat_map(|s| generate(s, KindSet::CHECKED))
                .all(|op| checked.contains(&op.kind()))
        );
        assert_eq!(KindSet::ALL.kinds(), Kind::ALL.to_vec());
        assert!(KindSet::parse("nope").is_err());
    }

    #[test]
    fn sequences_cover_every_verb() {
        let mut verbs = std::collections::BTreeSet::new();
        for seed in 0..200 {
            verbs.extend(generate(seed, KindSet::CHECKED).iter().map(Op::verb));
        }
        for verb in [
            "create",
            "get",
            "list",
            "replace",
            "replace_status",
            "merge-patch",
            "json-patch",
            "apply",
            "delete",
            "watch",
        ] {
            assert!(verbs.contains(verb), "{verb} never generated: {verbs:?}");
        }
    }
}
