//! List: namespaces, label and field selectors, paging and order (A.3 items 55-61).

use std::collections::BTreeSet;

use operator_runtime_core::store::{ListParams, VersionMatch};
use operator_runtime_core::{ObjectStore, ObjectStoreExt, StoreError, TypeRef};
use serde_json::json;

use crate::outcome::{CaseResult, Outcome};
use crate::support::kinds::{config_map, widget};
use crate::support::{Ctx, OrFail, edit, revision, with_labels};

/// Names of the listed items, in list order.
fn names(list: &operator_runtime_core::ObjectList) -> Vec<String> {
    list.items.iter().map(|o| o.name().to_owned()).collect()
}

/// Creates `gold` (tier=gold, zone=east), `silver` (tier=silver) and `plain` (no labels).
async fn labelled_fixture<S: ObjectStore + ?Sized>(cx: &Ctx<'_, S>) -> Result<(), String> {
    cx.create(&with_labels(
        cx.config_map("gold"),
        &[("tier", "gold"), ("zone", "east")],
    ))
    .await?;
    cx.create(&with_labels(cx.config_map("silver"), &[("tier", "silver")]))
        .await?;
    cx.create(&cx.config_map("plain")).await?;
    Ok(())
}

/// Runs a label selector over the fixture and compares the selected names.
async fn selects<S: ObjectStore + ?Sized>(store: &S, behaviour: &str, selector: &str, expected: &[&str]) -> CaseResult {
    let cx = Ctx::new(store, behaviour).await?;
    labelled_fixture(&cx).await?;
    let list = store
        .list(&config_map(), &ListParams::in_namespace(&cx.ns).labels(selector))
        .await
        .or_fail(&format!("list with selector {selector:?}"))?;
    let got: BTreeSet<String> = names(&list).into_iter().collect();
    let want: BTreeSet<String> = expected.iter().map(|s| (*s).to_owned()).collect();
    ensure!(got == want, "selector {selector:?} selected {got:?}, expected {want:?}");
    Ok(Outcome::Passed)
}

/// A.3 #55: a namespaced list returns every object of the namespace and a resourceVersion.
pub async fn list_returns_namespace_objects_and_rv<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "list_returns_namespace_objects_and_rv").await?;
    cx.create(&cx.config_map("a")).await?;
    cx.create(&cx.config_map("b")).await?;
    let list = store
        .list(&config_map(), &ListParams::in_namespace(&cx.ns))
        .await
        .or_fail("list")?;
    ensure!(names(&list) == ["a", "b"], "listed {:?}, expected [a, b]", names(&list));
    revision(&list.resource_version)?;
    Ok(Outcome::Passed)
}

/// A.3 #56: a list across all namespaces includes objects from each namespace.
pub async fn list_across_namespaces_includes_each_namespace<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "list_across_namespaces_includes_each_namespace").await?;
    let other = cx.extra_namespace("b").await?;
    let mark = [("conformance-case", cx.ns.as_str())];
    cx.create(&with_labels(cx.config_map("here"), &mark)).await?;
    let mut there = with_labels(cx.config_map("there"), &mark);
    there.metadata.namespace = Some(other.clone());
    cx.create(&there).await?;
    let selector = format!("conformance-case={}", cx.ns);
    let list = store
        .list_all(&config_map(), &ListParams::default().labels(selector))
        .await
        .or_fail("list across namespaces")?;
    let got: BTreeSet<(String, String)> = list
        .items
        .iter()
        .map(|o| (o.namespace().unwrap_or_default().to_owned(), o.name().to_owned()))
        .collect();
    let want: BTreeSet<(String, String)> = [(cx.ns.clone(), "here".to_owned()), (other, "there".to_owned())].into();
    ensure!(got == want, "listed {got:?}, expected {want:?}");
    Ok(Outcome::Passed)
}

/// A.3 #57: `tier=gold` selects by equality.
pub async fn list_label_selector_equality<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    selects(store, "list_label_selector_equality", "tier=gold", &["gold"]).await
}

/// A.3 #57: `tier==gold` is the same as `=`.
pub async fn list_label_selector_double_equals<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    selects(store, "list_label_selector_double_equals", "tier==gold", &["gold"]).await
}

/// A.3 #57: `tier!=gold` also selects objects without the label.
pub async fn list_label_selector_inequality<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    selects(
        store,
        "list_label_selector_inequality",
        "tier!=gold",
        &["silver", "plain"],
    )
    .await
}

/// A.3 #57: `tier in (gold,silver)` selects by set membership.
pub async fn list_label_selector_in_set<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    selects(
        store,
        "list_label_selector_in_set",
        "tier in (gold,silver)",
        &["gold", "silver"],
    )
    .await
}

/// A.3 #57: `tier notin (gold)` also selects objects without the label.
pub async fn list_label_selector_notin_set<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    selects(
        store,
        "list_label_selector_notin_set",
        "tier notin (gold)",
        &["silver", "plain"],
    )
    .await
}

/// A.3 #57: `tier` selects objects that have the label.
pub async fn list_label_selector_exists<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    selects(store, "list_label_selector_exists", "tier", &["gold", "silver"]).await
}

/// A.3 #57: `!tier` selects objects without the label.
pub async fn list_label_selector_does_not_exist<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    selects(store, "list_label_selector_does_not_exist", "!tier", &["plain"]).await
}

/// Comma-separated requirements must all hold.
pub async fn list_label_selector_requirements_are_anded<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    selects(
        store,
        "list_label_selector_requirements_are_anded",
        "tier in (gold,silver),zone=east",
        &["gold"],
    )
    .await
}

/// A.3 #58: a malformed label selector is BadRequest.
pub async fn list_with_malformed_label_selector_is_bad_request<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "list_with_malformed_label_selector_is_bad_request").await?;
    expect_err!(
        store
            .list(&config_map(), &ListParams::in_namespace(&cx.ns).labels("tier in (gold"))
            .await,
        StoreError::BadRequest { .. },
        "list with selector `tier in (gold`"
    );
    Ok(Outcome::Passed)
}

async fn widgets_a_b_c<S: ObjectStore + ?Sized>(cx: &Ctx<'_, S>) -> Result<(), String> {
    cx.install_crds().await?;
    for name in ["a", "b", "c"] {
        cx.create(&cx.widget(name, json!({"size": 1}))).await?;
    }
    Ok(())
}

async fn field_list<S: ObjectStore + ?Sized>(
    cx: &Ctx<'_, S>,
    kind: &TypeRef,
    params: ListParams,
) -> Result<Vec<String>, String> {
    let list = cx
        .store
        .list(kind, &params)
        .await
        .or_fail("list with a field selector")?;
    Ok(names(&list))
}

/// A.3 #59: `metadata.name=b` on a custom resource selects by name.
pub async fn list_field_selector_on_name<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "list_field_selector_on_name").await?;
    widgets_a_b_c(&cx).await?;
    let got = field_list(
        &cx,
        &widget(),
        ListParams::in_namespace(&cx.ns).fields("metadata.name=b"),
    )
    .await?;
    ensure!(got == ["b"], "selected {got:?}, expected [b]");
    Ok(Outcome::Passed)
}

/// `metadata.name!=b` selects every other name.
pub async fn list_field_selector_name_inequality<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "list_field_selector_name_inequality").await?;
    widgets_a_b_c(&cx).await?;
    let got = field_list(
        &cx,
        &widget(),
        ListParams::in_namespace(&cx.ns).fields("metadata.name!=b"),
    )
    .await?;
    ensure!(got == ["a", "c"], "selected {got:?}, expected [a, c]");
    Ok(Outcome::Passed)
}

/// `metadata.namespace=<ns>` across all namespaces selects that namespace's objects.
pub async fn list_field_selector_on_namespace<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "list_field_selector_on_namespace").await?;
    widgets_a_b_c(&cx).await?;
    let params = ListParams::default().fields(format!("metadata.namespace={}", cx.ns));
    let list = store.list_all(&widget(), &params).await.or_fail("list")?;
    ensure!(
        list.items.iter().all(|o| o.namespace() == Some(cx.ns.as_str())),
        "an object of another namespace was selected"
    );
    ensure!(
        names(&list) == ["a", "b", "c"],
        "selected {:?}, expected [a, b, c]",
        names(&list)
    );
    Ok(Outcome::Passed)
}

/// A.3 #59: a field selector on an unsupported field of a custom resource is BadRequest.
pub async fn list_unsupported_field_selector_is_bad_request<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "list_unsupported_field_selector_is_bad_request").await?;
    cx.install_crds().await?;
    expect_err!(
        store
            .list(&widget(), &ListParams::in_namespace(&cx.ns).fields("spec.size=1"))
            .await,
        StoreError::BadRequest { .. },
        "list Widgets with field selector spec.size=1"
    );
    Ok(Outcome::Passed)
}

/// A.3 #60: `limit` pages: at most n items per page, a continue token while more remain, every
/// item exactly once, all pages at the first page's resourceVersion.
pub async fn list_with_limit_pages_every_item_once<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "list_with_limit_pages_every_item_once").await?;
    for i in 0..5 {
        cx.create(&cx.config_map(&format!("item-{i}"))).await?;
    }
    let mut params = ListParams::in_namespace(&cx.ns).limit(2);
    let mut seen = Vec::new();
    let mut first_rv = None;
    for page_number in 0..10 {
        let page = store.list(&config_map(), &params).await.or_fail("list page")?;
        ensure!(
            page.items.len() <= 2,
            "page {page_number} has {} items",
            page.items.len()
        );
        let rv = first_rv.get_or_insert_with(|| page.resource_version.clone());
        ensure!(
            *rv == page.resource_version,
            "page {page_number} at {}, first at {rv}",
            page.resource_version
        );
        seen.extend(names(&page));
        match page.continue_token {
            Some(token) if !token.is_empty() => params.continue_token = Some(token),
            _ => break,
        }
    }
    let want: Vec<String> = (0..5).map(|i| format!("item-{i}")).collect();
    ensure!(seen == want, "pages yielded {seen:?}, expected {want:?}");
    Ok(Outcome::Passed)
}

/// A list whose items fit in `limit` has no continue token.
pub async fn list_within_limit_has_no_continue_token<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "list_within_limit_has_no_continue_token").await?;
    cx.create(&cx.config_map("only")).await?;
    let page = store
        .list(&config_map(), &ListParams::in_namespace(&cx.ns).limit(10))
        .await
        .or_fail("list")?;
    ensure!(
        page.continue_token.as_deref().is_none_or(str::is_empty),
        "continue token {:?} on the last page",
        page.continue_token
    );
    ensure!(names(&page) == ["only"], "listed {:?}", names(&page));
    Ok(Outcome::Passed)
}

/// A.3 #61: items come in key (name) order, whatever the creation order.
pub async fn list_items_are_ordered_by_name<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "list_items_are_ordered_by_name").await?;
    for name in ["charlie", "alpha", "bravo"] {
        cx.create(&cx.config_map(name)).await?;
    }
    let list = store
        .list(&config_map(), &ListParams::in_namespace(&cx.ns))
        .await
        .or_fail("list")?;
    ensure!(
        names(&list) == ["alpha", "bravo", "charlie"],
        "listed {:?}, expected alphabetical order",
        names(&list)
    );
    Ok(Outcome::Passed)
}

/// A list at a resourceVersion: `resourceVersionMatch=Exact` shows the state at that version
/// (a later edit and a later create are not in it, and its pages stay there), the default
/// match a state not older than it; a version newer than the server's state is a Timeout
/// (504); `resourceVersionMatch` without a resourceVersion is refused. Checked against
/// kube-apiserver 1.37.2.
pub async fn list_at_a_resource_version_follows_its_match<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "list_at_a_resource_version_follows_its_match").await?;
    let a = cx.create(&cx.config_map("a")).await?;
    cx.create(&cx.config_map("c")).await?;
    let before = store
        .list(&config_map(), &ListParams::in_namespace(&cx.ns))
        .await
        .or_fail("list")?;
    cx.replace(&edit(&a).with("data", json!({"k": "changed"}))).await?;
    cx.create(&cx.config_map("b")).await?;

    let exact = ListParams::in_namespace(&cx.ns)
        .at(before.resource_version.clone())
        .matching(VersionMatch::Exact);
    let then = store.list(&config_map(), &exact).await.or_fail("exact list")?;
    ensure!(
        names(&then) == ["a", "c"],
        "exact list has {:?}, expected [a, c]",
        names(&then)
    );
    ensure!(
        then.items[0].body.get("data") == Some(&json!({"k": "v"})),
        "exact list shows a as {:?}",
        then.items[0].body.get("data")
    );
    ensure!(
        then.resource_version == before.resource_version,
        "exact list at {} answered at {}",
        before.resource_version,
        then.resource_version
    );
    let first_page = store
        .list(&config_map(), &exact.clone().limit(1))
        .await
        .or_fail("exact first page")?;
    let next = ListParams {
        continue_token: first_page.continue_token.clone(),
        ..ListParams::in_namespace(&cx.ns).limit(1)
    };
    ensure!(
        next.continue_token.is_some(),
        "an exact page of one has no continue token"
    );
    let second_page = store.list(&config_map(), &next).await.or_fail("exact second page")?;
    ensure!(
        names(&first_page) == ["a"] && names(&second_page) == ["c"],
        "exact pages {:?} then {:?}",
        names(&first_page),
        names(&second_page)
    );

    let newer = ListParams::in_namespace(&cx.ns).at(before.resource_version.clone());
    let now = store.list(&config_map(), &newer).await.or_fail("not-older-than list")?;
    ensure!(
        revision(&now.resource_version)? >= revision(&before.resource_version)?,
        "a not-older-than list answered at {}, older than {}",
        now.resource_version,
        before.resource_version
    );

    let future = (revision(&now.resource_version)? + 1_000_000).to_string();
    expect_err!(
        store
            .list(&config_map(), &ListParams::in_namespace(&cx.ns).at(future))
            .await,
        StoreError::Timeout { .. },
        "a list at a resourceVersion the server has not reached"
    );
    // The server answers Invalid; kube-rs refuses it before sending (BadRequest).
    let refused = store
        .list(
            &config_map(),
            &ListParams::in_namespace(&cx.ns).matching(VersionMatch::Exact),
        )
        .await;
    match &refused {
        Err(StoreError::Invalid { causes, .. }) if causes.iter().any(|c| c.field == "resourceVersionMatch") => {}
        Err(StoreError::BadRequest { .. }) => {}
        other => {
            return Err(format!(
                "resourceVersionMatch without a resourceVersion answered {other:?}"
            ));
        }
    }
    Ok(Outcome::Passed)
}
