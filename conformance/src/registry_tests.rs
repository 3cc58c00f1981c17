//! Consistency of the registry with the sources: every behaviour is registered, names are
//! unique, and each behaviour's namespace is derived from its own name.

use std::collections::BTreeSet;

use operator_runtime_core::store::{
    DeleteOutcome, DeleteParams, KindInfo, ListParams, Patch, PatchParams, StoreResult, WatchParams, WatchStream,
    WriteParams,
};
use operator_runtime_core::{Capabilities, Object, ObjectList, ObjectRef, ObjectStore, StoreError, TypeRef};

use crate::support::names::{is_dns_label, namespace_for};

/// Area name and source of every behaviour module.
const SOURCES: &[(&str, &str)] = &[
    ("create", include_str!("create.rs")),
    ("update", include_str!("update.rs")),
    ("status", include_str!("status.rs")),
    ("patch", include_str!("patch.rs")),
    ("delete_finalizers", include_str!("delete_finalizers.rs")),
    ("gc", include_str!("gc.rs")),
    ("list_selectors", include_str!("list_selectors.rs")),
    ("watch", include_str!("watch.rs")),
    ("apply", include_str!("apply.rs")),
    ("dry_run", include_str!("dry_run.rs")),
    ("namespaces", include_str!("namespaces.rs")),
    ("crd", include_str!("crd.rs")),
    ("quantities", include_str!("quantities.rs")),
    ("builtin_defaults", include_str!("builtin_defaults.rs")),
    ("builtin_kinds", include_str!("builtin_kinds.rs")),
    ("builtin_writes", include_str!("builtin_writes.rs")),
    ("secrets", include_str!("secrets.rs")),
    ("apply_lists", include_str!("apply_lists.rs")),
];

/// A store whose every call fails: enough to type-check the registry.
struct Unreachable;

#[async_trait::async_trait]
impl ObjectStore for Unreachable {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            name: "unreachable".into(),
            server_side_apply: operator_runtime_core::store::ApplySupport::None,
            garbage_collection: false,
            namespace_deletion: false,
            schema_validation: operator_runtime_core::store::SchemaValidation::None,
            dry_run: false,
            bookmarks: false,
            eventually_consistent_gc: false,
            workload_controllers: false,
        }
    }
    async fn kind_info(&self, _: &TypeRef) -> StoreResult<KindInfo> {
        Err(StoreError::backend("unreachable"))
    }
    async fn get(&self, _: &ObjectRef) -> StoreResult<std::sync::Arc<Object>> {
        Err(StoreError::backend("unreachable"))
    }
    async fn list(&self, _: &TypeRef, _: &ListParams) -> StoreResult<ObjectList> {
        Err(StoreError::backend("unreachable"))
    }
    async fn create(&self, _: &Object, _: &WriteParams) -> StoreResult<std::sync::Arc<Object>> {
        Err(StoreError::backend("unreachable"))
    }
    async fn replace(&self, _: &Object, _: &WriteParams) -> StoreResult<std::sync::Arc<Object>> {
        Err(StoreError::backend("unreachable"))
    }
    async fn replace_status(&self, _: &Object, _: &WriteParams) -> StoreResult<std::sync::Arc<Object>> {
        Err(StoreError::backend("unreachable"))
    }
    async fn patch(&self, _: &ObjectRef, _: &Patch, _: &PatchParams) -> StoreResult<std::sync::Arc<Object>> {
        Err(StoreError::backend("unreachable"))
    }
    async fn delete(&self, _: &ObjectRef, _: &DeleteParams) -> StoreResult<DeleteOutcome> {
        Err(StoreError::backend("unreachable"))
    }
    async fn watch(&self, _: &TypeRef, _: &WatchParams) -> StoreResult<WatchStream> {
        Err(StoreError::backend("unreachable"))
    }
}

/// `(area, name, namespace literal)` for every `pub async fn` in the sources.
fn declared() -> Vec<(&'static str, String, Option<String>)> {
    let mut out = Vec::new();
    for (area, source) in SOURCES {
        let mut rest = *source;
        while let Some(at) = rest.find("pub async fn ") {
            rest = &rest[at + "pub async fn ".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let literal = rest.find("(store, \"").map(|i| {
                let tail = &rest[i + "(store, \"".len()..];
                tail.chars().take_while(|c| *c != '"').collect::<String>()
            });
            let next_fn = rest.find("pub async fn ").unwrap_or(rest.len());
            let literal = literal.filter(|_| rest.find("(store, \"").is_some_and(|i| i < next_fn));
            out.push((*area, name, literal));
        }
    }
    out
}

#[test]
fn every_declared_behaviour_is_registered_once_in_its_area() {
    let registered: Vec<(&str, &str)> = crate::behaviours::<Unreachable>()
        .iter()
        .map(|b| (b.area, b.name))
        .collect();
    let declared = declared();
    assert_eq!(registered.len(), declared.len(), "registry and sources differ");
    for (area, name, _) in &declared {
        assert!(
            registered.contains(&(*area, name.as_str())),
            "{area}::{name} is not registered"
        );
    }
    let unique: BTreeSet<&str> = registered.iter().map(|(_, n)| *n).collect();
    assert_eq!(
        unique.len(),
        registered.len(),
        "behaviour names must be unique (they are test names)"
    );
}

#[test]
fn each_behaviour_names_its_namespace_after_itself() {
    let mut namespaces = BTreeSet::new();
    for (area, name, literal) in declared() {
        if let Some(literal) = literal {
            assert_eq!(literal, name, "{area}::{name} creates the namespace of {literal}");
        }
        let ns = namespace_for("c", &name);
        assert!(is_dns_label(&format!("{ns}-extra")), "{ns}");
        assert!(namespaces.insert(ns.clone()), "namespace {ns} is shared");
    }
}

#[tokio::test]
async fn run_all_reports_every_behaviour_and_failures_from_a_broken_store() {
    let report = crate::run_all(|| async { Unreachable }).await;
    assert_eq!(report.entries.len(), crate::behaviours::<Unreachable>().len());
    assert_eq!(report.backend, "unreachable");
    // A store that fails every call fails each behaviour that needs one, and does not panic.
    let failed = report.failed().count();
    let na = report.not_applicable().count();
    assert_eq!(failed + na, report.entries.len(), "{report}");
    assert!(failed > 0);
}
