//! The operations a sequence is made of. Operations are plain values generated up front from
//! the seed; anything that depends on what a store answered (the current resourceVersion, the
//! uid of an owner, the name a `generateName` produced) is named symbolically here and
//! resolved by each side when it runs the operation.

use std::fmt;

use operator_runtime_core::TypeRef;
use operator_runtime_core::store::Propagation;
use serde_json::Value;

/// API group of the fuzzer's custom resource.
pub const GROUP: &str = "differential.operator-runtime.io";

/// The kinds sequences operate on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// `v1 ConfigMap`.
    ConfigMap,
    /// `v1 Secret`.
    Secret,
    /// `v1 Service`.
    Service,
    /// `apps/v1 Deployment`.
    Deployment,
    /// `apps/v1 StatefulSet`.
    StatefulSet,
    /// The `Sprocket` custom resource (structural schema, status subresource).
    Sprocket,
    /// `v1 Pod`.
    Pod,
    /// `batch/v1 Job`.
    Job,
    /// `batch/v1 CronJob`.
    CronJob,
    /// `apps/v1 DaemonSet`.
    DaemonSet,
    /// `v1 PersistentVolumeClaim`.
    PersistentVolumeClaim,
    /// `v1 ServiceAccount`.
    ServiceAccount,
    /// `networking.k8s.io/v1 Ingress`.
    Ingress,
    /// `networking.k8s.io/v1 NetworkPolicy`.
    NetworkPolicy,
    /// `policy/v1 PodDisruptionBudget`.
    PodDisruptionBudget,
    /// `autoscaling/v2 HorizontalPodAutoscaler`.
    HorizontalPodAutoscaler,
    /// `rbac.authorization.k8s.io/v1 Role`.
    Role,
    /// `rbac.authorization.k8s.io/v1 RoleBinding`.
    RoleBinding,
}

impl Kind {
    /// Every kind, in a fixed order.
    pub const ALL: [Kind; 18] = [
        Kind::ConfigMap,
        Kind::Secret,
        Kind::Service,
        Kind::Deployment,
        Kind::StatefulSet,
        Kind::Sprocket,
        Kind::Pod,
        Kind::Job,
        Kind::CronJob,
        Kind::DaemonSet,
        Kind::PersistentVolumeClaim,
        Kind::ServiceAccount,
        Kind::Ingress,
        Kind::NetworkPolicy,
        Kind::PodDisruptionBudget,
        Kind::HorizontalPodAutoscaler,
        Kind::Role,
        Kind::RoleBinding,
    ];

    /// The kind's type reference.
    pub fn type_ref(self) -> TypeRef {
        match self {
            Kind::ConfigMap => TypeRef::new("v1", "ConfigMap"),
            Kind::Secret => TypeRef::new("v1", "Secret"),
            Kind::Service => TypeRef::new("v1", "Service"),
            Kind::Deployment => TypeRef::new("apps/v1", "Deployment"),
            Kind::StatefulSet => TypeRef::new("apps/v1", "StatefulSet"),
            Kind::Sprocket => TypeRef::new(format!("{GROUP}/v1"), "Sprocket"),
            Kind::Pod => TypeRef::new("v1", "Pod"),
            Kind::Job => TypeRef::new("batch/v1", "Job"),
            Kind::CronJob => TypeRef::new("batch/v1", "CronJob"),
            Kind::DaemonSet => TypeRef::new("apps/v1", "DaemonSet"),
            Kind::PersistentVolumeClaim => TypeRef::new("v1", "PersistentVolumeClaim"),
            Kind::ServiceAccount => TypeRef::new("v1", "ServiceAccount"),
            Kind::Ingress => TypeRef::new("networking.k8s.io/v1", "Ingress"),
            Kind::NetworkPolicy => TypeRef::new("networking.k8s.io/v1", "NetworkPolicy"),
            Kind::PodDisruptionBudget => TypeRef::new("policy/v1", "PodDisruptionBudget"),
            Kind::HorizontalPodAutoscaler => TypeRef::new("autoscaling/v2", "HorizontalPodAutoscaler"),
            Kind::Role => TypeRef::new("rbac.authorization.k8s.io/v1", "Role"),
            Kind::RoleBinding => TypeRef::new("rbac.authorization.k8s.io/v1", "RoleBinding"),
        }
    }

    /// Short lower-case prefix used in symbolic names (`cm`, `svc`, ...).
    pub fn short(self) -> &'static str {
        match self {
            Kind::ConfigMap => "cm",
            Kind::Secret => "secret",
            Kind::Service => "svc",
            Kind::Deployment => "deploy",
            Kind::StatefulSet => "sts",
            Kind::Sprocket => "sprocket",
            Kind::Pod => "pod",
            Kind::Job => "job",
            Kind::CronJob => "cronjob",
            Kind::DaemonSet => "ds",
            Kind::PersistentVolumeClaim => "pvc",
            Kind::ServiceAccount => "sa",
            Kind::Ingress => "ing",
            Kind::NetworkPolicy => "netpol",
            Kind::PodDisruptionBudget => "pdb",
            Kind::HorizontalPodAutoscaler => "hpa",
            Kind::Role => "role",
            Kind::RoleBinding => "rb",
        }
    }

    /// The kind whose type reference is `type_ref`.
    pub fn of(kind: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.type_ref().kind == kind)
    }
}

/// A set of kinds sequences are drawn from (a bit per [`Kind::ALL`] entry), so one seed and
/// one set name one sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KindSet(u32);

impl KindSet {
    /// Every kind.
    pub const ALL: KindSet = KindSet((1 << Kind::ALL.len()) - 1);
    /// The kinds whose every divergence found so far is fixed or accepted: what CI and a
    /// run without `--kinds` use. The others are surveyed with `--kinds all`.
    pub const CHECKED: KindSet = KindSet::of(&[
        Kind::ConfigMap,
        Kind::Secret,
        Kind::Service,
        Kind::Deployment,
        Kind::StatefulSet,
        Kind::Sprocket,
    ]);

    /// The set of `kinds`.
    pub const fn of(kinds: &[Kind]) -> KindSet {
        let mut bits = 0;
        let mut i = 0;
        while i < kinds.len() {
            bits |= 1 << kinds[i] as u32;
            i += 1;
        }
        KindSet(bits)
    }

    /// The kinds in the set, in [`Kind::ALL`] order.
    pub fn kinds(self) -> Vec<Kind> {
        Kind::ALL
            .into_iter()
            .filter(|k| self.0 & (1 << *k as u32) != 0)
            .collect()
    }

    /// Parses `all`, `checked` or a comma-separated list of short names (`pod,job`).
    ///
    /// # Errors
    /// An unknown name, or an empty set.
    pub fn parse(text: &str) -> Result<KindSet, String> {
        match text {
            "all" => return Ok(KindSet::ALL),
            "checked" => return Ok(KindSet::CHECKED),
            _ => {}
        }
        let mut kinds = Vec::new();
        for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let kind = Kind::ALL
                .into_iter()
                .find(|k| k.short() == name)
                .ok_or_else(|| format!("--kinds {name}: not one of all, checked or a kind's short name"))?;
            kinds.push(kind);
        }
        if kinds.is_empty() {
            return Err(format!("--kinds {text}: no kind"));
        }
        Ok(KindSet::of(&kinds))
    }
}

impl fmt::Display for KindSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            KindSet::ALL => f.write_str("all"),
            KindSet::CHECKED => f.write_str("checked"),
            set => {
                let names: Vec<&str> = set.kinds().into_iter().map(Kind::short).collect();
                f.write_str(&names.join(","))
            }
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.type_ref().kind)
    }
}

/// An object of a sequence, by kind and symbolic name. The symbol is the object's name unless
/// it was created with `generateName`, in which case each side maps it to what its server chose.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Target {
    /// The kind.
    pub kind: Kind,
    /// Symbolic name.
    pub sym: String,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.sym)
    }
}

/// How a create names its object.
#[derive(Clone, Debug, PartialEq)]
pub enum NameChoice {
    /// `metadata.name` (possibly invalid on purpose).
    Fixed(String),
    /// `metadata.generateName` with this prefix.
    Generate(String),
}

/// Which resourceVersion a write carries as its precondition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RvChoice {
    /// None (an unconditional write).
    Omit,
    /// The last one this side saw for the object.
    Current,
    /// An older one (the previous one this side saw, or the namespace's).
    Stale,
}

/// A delete precondition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precondition {
    /// No precondition.
    None,
    /// The object's uid as this side knows it.
    Uid,
    /// A uid that no object has.
    WrongUid,
    /// The last resourceVersion this side saw.
    CurrentRv,
    /// An older resourceVersion.
    StaleRv,
}

/// An ownerReference to another object of the sequence.
#[derive(Clone, Debug, PartialEq)]
pub struct OwnerSpec {
    /// The owner.
    pub owner: Target,
    /// `controller: true`.
    pub controller: bool,
    /// `blockOwnerDeletion: true`.
    pub block: bool,
}

/// One edit of a read-modify-write replace, applied to the last object this side saw.
#[derive(Clone, Debug, PartialEq)]
pub enum Edit {
    /// Sets a label.
    SetLabel(String, String),
    /// Removes a label.
    RemoveLabel(String),
    /// Sets an annotation.
    SetAnnotation(String, String),
    /// Sets a body field at a path of object keys (created as needed).
    SetField(Vec<String>, Value),
    /// Removes a body field.
    RemoveField(Vec<String>),
    /// Appends a finalizer.
    AddFinalizer(String),
    /// Removes a finalizer.
    RemoveFinalizer(String),
    /// Replaces the ownerReferences.
    SetOwners(Vec<OwnerSpec>),
}

/// One store operation.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// Create (`body` is everything but name and namespace; owners are added by each side).
    Create {
        /// The object created.
        target: Target,
        /// Name or generateName.
        name: NameChoice,
        /// The object (apiVersion, kind, metadata.labels/annotations/finalizers, body fields).
        body: Value,
        /// ownerReferences to add.
        owners: Vec<OwnerSpec>,
        /// `dryRun=All`.
        dry_run: bool,
    },
    /// Get.
    Get {
        /// The object read.
        target: Target,
    },
    /// List every page (limit/continue) and compare the concatenated names.
    List {
        /// The kind listed (in the sequence's namespace).
        kind: Kind,
        /// Label selector.
        labels: Option<String>,
        /// Field selector.
        fields: Option<String>,
        /// Page size.
        limit: Option<u32>,
    },
    /// Replace (PUT) of the last object seen with edits; `fallback` is sent when this side has
    /// never seen the object (a create through update).
    Replace {
        /// The object replaced.
        target: Target,
        /// Edits of the last seen object.
        edits: Vec<Edit>,
        /// Body sent when the object was never seen (name and namespace added).
        fallback: Value,
        /// resourceVersion precondition.
        rv: RvChoice,
        /// `dryRun=All`.
        dry_run: bool,
    },
    /// Replace of the status subresource (last seen object with this status).
    ReplaceStatus {
        /// The object.
        target: Target,
        /// The new status.
        status: Value,
        /// resourceVersion precondition.
        rv: RvChoice,
    },
    /// JSON merge patch.
    MergePatch {
        /// The object patched.
        target: Target,
        /// The patch.
        patch: Value,
        /// Put the current (or a stale) resourceVersion in the patch.
        rv: RvChoice,
        /// `dryRun=All`.
        dry_run: bool,
    },
    /// JSON patch (RFC 6902).
    JsonPatch {
        /// The object patched.
        target: Target,
        /// The operations.
        patch: Value,
        /// `dryRun=All`.
        dry_run: bool,
    },
    /// Server-side apply.
    Apply {
        /// The object applied.
        target: Target,
        /// Field manager.
        manager: String,
        /// The applied configuration (name and namespace added).
        body: Value,
        /// `force`.
        force: bool,
        /// `dryRun=All`.
        dry_run: bool,
    },
    /// Delete.
    Delete {
        /// The object deleted.
        target: Target,
        /// Precondition.
        precondition: Precondition,
        /// Propagation policy.
        propagation: Option<Propagation>,
        /// `dryRun=All`.
        dry_run: bool,
    },
    /// Starts a watch of the kind in the namespace from the current revision; its events are
    /// compared at the end of the sequence.
    Watch {
        /// The kind watched.
        kind: Kind,
    },
}

impl Op {
    /// A short name of the operation (the first word of a divergence class).
    pub fn verb(&self) -> &'static str {
        match self {
            Op::Create { dry_run: true, .. } => "create(dry-run)",
            Op::Create { .. } => "create",
            Op::Get { .. } => "get",
            Op::List { .. } => "list",
            Op::Replace { dry_run: true, .. } => "replace(dry-run)",
            Op::Replace { .. } => "replace",
            Op::ReplaceStatus { .. } => "replace_status",
            Op::MergePatch { .. } => "merge-patch",
            Op::JsonPatch { .. } => "json-patch",
            Op::Apply { .. } => "apply",
            Op::Delete { .. } => "delete",
            Op::Watch { .. } => "watch",
        }
    }

    /// The kind the operation is about.
    pub fn kind(&self) -> Kind {
        match self {
            Op::List { kind, .. } | Op::Watch { kind } => *kind,
            Op::Create { target, .. }
            | Op::Get { target }
            | Op::Replace { target, .. }
            | Op::ReplaceStatus { target, .. }
            | Op::MergePatch { target, .. }
            | Op::JsonPatch { target, .. }
            | Op::Apply { target, .. }
            | Op::Delete { target, .. } => target.kind,
        }
    }

    /// True for operations that may persist a change.
    pub fn writes(&self) -> bool {
        match self {
            Op::Get { .. } | Op::List { .. } | Op::Watch { .. } => false,
            Op::Create { dry_run, .. }
            | Op::Replace { dry_run, .. }
            | Op::MergePatch { dry_run, .. }
            | Op::JsonPatch { dry_run, .. }
            | Op::Apply { dry_run, .. }
            | Op::Delete { dry_run, .. } => !dry_run,
            Op::ReplaceStatus { .. } => true,
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dry = |d: &bool| if *d { " dryRun" } else { "" };
        match self {
            Op::Create {
                target,
                name,
                body,
                owners,
                dry_run,
            } => {
                let name = match name {
                    NameChoice::Fixed(n) => format!("name={n}"),
                    NameChoice::Generate(p) => format!("generateName={p}"),
                };
                write!(f, "create {target} {name}{} {body}", dry(dry_run))?;
                for o in owners {
                    write!(f, " owner={}(controller={},block={})", o.owner, o.controller, o.block)?;
                }
                Ok(())
            }
            Op::Get { target } => write!(f, "get {target}"),
            Op::List {
                kind,
                labels,
                fields,
                limit,
            } => write!(f, "list {kind} labels={labels:?} fields={fields:?} limit={limit:?}"),
            Op::Replace {
                target,
                edits,
                fallback,
                rv,
                dry_run,
            } => write!(
                f,
                "replace {target} rv={rv:?}{} edits={edits:?} (if never seen: {fallback})",
                dry(dry_run)
            ),
            Op::ReplaceStatus { target, status, rv } => {
                write!(f, "replace_status {target} rv={rv:?} status={status}")
            }
            Op::MergePatch {
                target,
                patch,
                rv,
                dry_run,
            } => write!(f, "merge-patch {target} rv={rv:?}{} {patch}", dry(dry_run)),
            Op::JsonPatch { target, patch, dry_run } => write!(f, "json-patch {target}{} {patch}", dry(dry_run)),
            Op::Apply {
                target,
                manager,
                body,
                force,
                dry_run,
            } => write!(
                f,
                "apply {target} manager={manager} force={force}{} {body}",
                dry(dry_run)
            ),
            Op::Delete {
                target,
                precondition,
                propagation,
                dry_run,
            } => write!(
                f,
                "delete {target} precondition={precondition:?} propagation={propagation:?}{}",
                dry(dry_run)
            ),
            Op::Watch { kind } => write!(f, "watch {kind} from the current revision"),
        }
    }
}
