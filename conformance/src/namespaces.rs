//! Namespaces: existence and lifecycle checks on writes (NamespaceLifecycle), cluster-scoped
//! objects, and namespace deletion by the namespace controller (A.3 items 10, 12, 85).

use operator_runtime_core::store::{DeleteParams, ListParams, WriteParams};
use operator_runtime_core::{Object, ObjectRef, ObjectStore, StoreError};
use serde_json::json;

use crate::outcome::{CaseResult, Outcome};
use crate::support::kinds::{HOLD_FINALIZER, config_map, namespace, widget};
use crate::support::poll::{CONTROLLER_DEADLINE, eventually};
use crate::support::{Ctx, OrFail, with_finalizers};

const NO_NAMESPACE_CONTROLLER: &str =
    "backend does not finish namespace deletion (Capabilities::namespace_deletion is false)";

/// A.3 #10: a create in a namespace that does not exist is NotFound.
pub async fn create_in_missing_namespace_is_not_found<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "create_in_missing_namespace_is_not_found").await?;
    let mut body = cx.config_map("x");
    body.metadata.namespace = Some(format!("{}-nope", cx.ns));
    expect_err!(
        store.create(&body, &WriteParams::default()).await,
        StoreError::NotFound { .. },
        "create in a missing namespace"
    );
    Ok(Outcome::Passed)
}

/// A.3 #85: a create in a Terminating namespace is Forbidden. The namespace is held in
/// Terminating by an object with a finalizer; the admission check may lag the namespace's own
/// deletionTimestamp on a real server, so the create is retried until refused.
pub async fn create_in_terminating_namespace_is_forbidden<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "create_in_terminating_namespace_is_forbidden").await?;
    let doomed = cx.extra_namespace("t").await?;
    let mut held = with_finalizers(cx.config_map("held"), &[HOLD_FINALIZER]);
    held.metadata.namespace = Some(doomed.clone());
    let held = cx.create(&held).await?;
    let ns_key = ObjectRef::cluster(namespace(), &doomed);
    store
        .delete(&ns_key, &DeleteParams::default())
        .await
        .or_fail("delete namespace")?;
    let result = async {
        let ns = cx.get(&ns_key).await?;
        ensure!(ns.is_terminating(), "namespace not terminating after delete");
        let mut attempt = 0;
        eventually(
            "a create in the terminating namespace to be refused",
            CONTROLLER_DEADLINE,
            || {
                attempt += 1;
                let mut body = cx.config_map(&format!("late-{attempt}"));
                body.metadata.namespace = Some(doomed.clone());
                async move {
                    match store.create(&body, &WriteParams::default()).await {
                        Err(StoreError::Forbidden { .. }) => Ok(()),
                        Ok(_) => Err("create succeeded".to_owned()),
                        Err(e) => Err(format!("{e:?}")),
                    }
                }
            },
        )
        .await?;
        Ok(Outcome::Passed)
    }
    .await;
    cx.release(&held.object_ref()).await;
    result
}

/// Deleting a namespace deletes its contents, then the namespace.
pub async fn namespace_deletion_removes_contents<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    require!(store.capabilities().namespace_deletion, NO_NAMESPACE_CONTROLLER);
    let cx = Ctx::new(store, "namespace_deletion_removes_contents").await?;
    cx.install_crds().await?;
    let doomed = cx.extra_namespace("d").await?;
    let mut cm = cx.config_map("cm");
    cm.metadata.namespace = Some(doomed.clone());
    let cm = cx.create(&cm).await?;
    let mut w = cx.widget("w", json!({"size": 1}));
    w.metadata.namespace = Some(doomed.clone());
    let w = cx.create(&w).await?;
    let ns_key = ObjectRef::cluster(namespace(), &doomed);
    store
        .delete(&ns_key, &DeleteParams::default())
        .await
        .or_fail("delete namespace")?;
    cx.eventually_gone(&ns_key).await?;
    cx.expect_gone(&cm.object_ref()).await?;
    cx.expect_gone(&w.object_ref()).await?;
    Ok(Outcome::Passed)
}

/// A namespace stays Terminating while an object in it keeps a finalizer, and goes once the
/// finalizer is removed.
pub async fn namespace_deletion_waits_for_finalizers<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    require!(store.capabilities().namespace_deletion, NO_NAMESPACE_CONTROLLER);
    let cx = Ctx::new(store, "namespace_deletion_waits_for_finalizers").await?;
    let doomed = cx.extra_namespace("d").await?;
    let mut held = with_finalizers(cx.config_map("held"), &[HOLD_FINALIZER]);
    held.metadata.namespace = Some(doomed.clone());
    let held = cx.create(&held).await?;
    let ns_key = ObjectRef::cluster(namespace(), &doomed);
    store
        .delete(&ns_key, &DeleteParams::default())
        .await
        .or_fail("delete namespace")?;
    let waited = eventually("the held object to be terminating", CONTROLLER_DEADLINE, || async {
        let o = cx.get(&held.object_ref()).await?;
        if o.is_terminating() {
            Ok(())
        } else {
            Err("not terminating yet".to_owned())
        }
    })
    .await;
    let ns = cx.store.get(&ns_key).await;
    cx.release(&held.object_ref()).await;
    waited?;
    ensure!(
        ns.as_ref().is_ok_and(|n| n.is_terminating()),
        "namespace with a held object is not terminating: {ns:?}"
    );
    cx.eventually_gone(&ns_key).await?;
    Ok(Outcome::Passed)
}

/// A.3 #12: a cluster-scoped object created with a namespace in its body gets no namespace.
pub async fn create_cluster_scoped_object_clears_namespace<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "create_cluster_scoped_object_clears_namespace").await?;
    let name = format!("{}-c", cx.ns);
    let mut body = Object::new(&namespace(), None, &name);
    body.metadata.namespace = Some(cx.ns.clone());
    let key = ObjectRef::cluster(namespace(), &name);
    let _ = store.delete(&key, &DeleteParams::default()).await;
    let created = store.create(&body, &WriteParams::default()).await;
    let created = match created {
        Err(StoreError::AlreadyExists { .. }) => cx.get(&key).await?,
        other => other.or_fail("create Namespace with a namespace in the body")?,
    };
    let stored = cx.get(&key).await?;
    let _ = store.delete(&key, &DeleteParams::default()).await;
    ensure!(
        created.namespace().is_none_or(str::is_empty),
        "namespace {:?} kept",
        created.namespace()
    );
    ensure!(
        stored.namespace().is_none_or(str::is_empty),
        "namespace {:?} stored",
        stored.namespace()
    );
    Ok(Outcome::Passed)
}

/// A list in a namespace that does not exist is empty (lists are not admission-checked).
pub async fn list_in_missing_namespace_is_empty<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "list_in_missing_namespace_is_empty").await?;
    let list = store
        .list(&config_map(), &ListParams::in_namespace(format!("{}-nope", cx.ns)))
        .await
        .or_fail("list in a missing namespace")?;
    ensure!(list.items.is_empty(), "listed {} objects", list.items.len());
    Ok(Outcome::Passed)
}

/// An object is only found in its own namespace.
pub async fn get_in_other_namespace_is_not_found<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "get_in_other_namespace_is_not_found").await?;
    let other = cx.extra_namespace("b").await?;
    cx.create(&cx.config_map("a")).await?;
    expect_err!(
        store.get(&ObjectRef::namespaced(config_map(), other, "a")).await,
        StoreError::NotFound { .. },
        "get in the other namespace"
    );
    Ok(Outcome::Passed)
}

/// Discovery: Namespace is cluster-scoped, ConfigMap and Widget are namespaced.
pub async fn kind_info_reports_scope<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "kind_info_reports_scope").await?;
    cx.install_crds().await?;
    for (kind, namespaced) in [(namespace(), false), (config_map(), true), (widget(), true)] {
        let info = store.kind_info(&kind).await.or_fail(&format!("kind_info {kind}"))?;
        ensure!(info.namespaced == namespaced, "{kind} namespaced = {}", info.namespaced);
    }
    Ok(Outcome::Passed)
}
