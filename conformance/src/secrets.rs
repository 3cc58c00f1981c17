//! ConfigMap and Secret semantics of the real API server: `immutable: true`, Secret
//! `stringData` folded into `data`, base64 `data`, the immutable `type`, the keys each Secret
//! type requires, and the field selectors of the two kinds.

use operator_runtime_core::store::{ListParams, WriteParams};
use operator_runtime_core::{Object, ObjectStore, StoreError, TypeRef};
use serde_json::json;

use crate::outcome::{CaseResult, Outcome};
use crate::support::kinds::config_map;
use crate::support::{Ctx, edit};

fn secret_type() -> TypeRef {
    TypeRef::new("v1", "Secret")
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

/// Updating `data` of an immutable ConfigMap is Invalid, with a cause on `data`.
pub async fn immutable_config_map_data_cannot_change<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "immutable_config_map_data_cannot_change").await?;
    let created = cx
        .create(&cx.config_map("frozen").with("immutable", json!(true)))
        .await?;
    let changed = edit(&created).with("data", json!({"k": "other"}));
    let error = expect_err!(
        store.replace(&changed, &WriteParams::default()).await,
        StoreError::Invalid { .. },
        "change data of an immutable ConfigMap"
    );
    expect_cause(&error, "data")?;
    let stored = cx.get(&created.object_ref()).await?;
    ensure!(
        stored.body.get("data") == Some(&json!({"k": "v"})),
        "data changed: {:?}",
        stored.body
    );
    Ok(Outcome::Passed)
}

/// `immutable: true` cannot be unset: Invalid with a cause on `immutable`.
pub async fn immutable_config_map_cannot_be_made_mutable<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "immutable_config_map_cannot_be_made_mutable").await?;
    let created = cx
        .create(&cx.config_map("frozen").with("immutable", json!(true)))
        .await?;
    let changed = edit(&created).with("immutable", json!(false));
    let error = expect_err!(
        store.replace(&changed, &WriteParams::default()).await,
        StoreError::Invalid { .. },
        "unset immutable"
    );
    expect_cause(&error, "immutable")?;
    // Labels may still change.
    let mut labelled = edit(&created);
    labelled.metadata.labels = Some([("a".to_owned(), "b".to_owned())].into());
    cx.replace(&labelled).await?;
    Ok(Outcome::Passed)
}

/// Updating `data` of an immutable Secret is Invalid, with a cause on `data`.
pub async fn immutable_secret_data_cannot_change<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "immutable_secret_data_cannot_change").await?;
    let secret = Object::new(&secret_type(), Some(&cx.ns), "frozen")
        .with("data", json!({"k": "dg=="}))
        .with("immutable", json!(true));
    let created = cx.create(&secret).await?;
    let changed = edit(&created).with("data", json!({"k": "dw=="}));
    let error = expect_err!(
        store.replace(&changed, &WriteParams::default()).await,
        StoreError::Invalid { .. },
        "change data of an immutable Secret"
    );
    expect_cause(&error, "data")?;
    Ok(Outcome::Passed)
}

/// `stringData` is written into `data` (base64, overriding a `data` key of the same name) and
/// is never stored.
pub async fn secret_string_data_is_stored_as_data<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "secret_string_data_is_stored_as_data").await?;
    let secret = Object::new(&secret_type(), Some(&cx.ns), "s")
        .with("data", json!({"a": "eQ==", "b": "eg=="}))
        .with("stringData", json!({"a": "x", "c": "hello"}));
    let created = cx.create(&secret).await?;
    let want = json!({"a": "eA==", "b": "eg==", "c": "aGVsbG8="});
    ensure!(
        created.body.get("data") == Some(&want),
        "data {:?}, expected {want}",
        created.body.get("data")
    );
    ensure!(
        !created.body.contains_key("stringData"),
        "stringData stored: {:?}",
        created.body
    );
    let stored = cx.get(&created.object_ref()).await?;
    ensure!(
        stored.body.get("data") == Some(&want),
        "stored data {:?}",
        stored.body.get("data")
    );
    Ok(Outcome::Passed)
}

/// A `data` value that is not base64 does not decode: 400 BadRequest, nothing stored.
pub async fn secret_with_invalid_base64_is_bad_request<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "secret_with_invalid_base64_is_bad_request").await?;
    let secret = Object::new(&secret_type(), Some(&cx.ns), "s").with("data", json!({"a": "not base64!"}));
    expect_err!(
        store.create(&secret, &WriteParams::default()).await,
        StoreError::BadRequest { .. },
        "create a Secret with bad base64"
    );
    cx.expect_gone(&cx.key(&secret_type(), "s")).await?;
    Ok(Outcome::Passed)
}

/// A Secret's `type` cannot change: Invalid with a cause on `type`.
pub async fn secret_type_is_immutable<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "secret_type_is_immutable").await?;
    let secret = Object::new(&secret_type(), Some(&cx.ns), "s")
        .with("type", json!("Opaque"))
        .with("data", json!({"tls.crt": "eA==", "tls.key": "eQ=="}));
    let created = cx.create(&secret).await?;
    let changed = edit(&created).with("type", json!("kubernetes.io/tls"));
    let error = expect_err!(
        store.replace(&changed, &WriteParams::default()).await,
        StoreError::Invalid { .. },
        "change the type of a Secret"
    );
    expect_cause(&error, "type")?;
    Ok(Outcome::Passed)
}

/// A `kubernetes.io/tls` Secret needs `tls.crt` and `tls.key`: Invalid with a cause on the
/// missing key.
pub async fn tls_secret_without_key_is_invalid<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "tls_secret_without_key_is_invalid").await?;
    let secret = Object::new(&secret_type(), Some(&cx.ns), "tls")
        .with("type", json!("kubernetes.io/tls"))
        .with("data", json!({"tls.crt": "eA=="}));
    let error = expect_err!(
        store.create(&secret, &WriteParams::default()).await,
        StoreError::Invalid { .. },
        "create a TLS Secret without tls.key"
    );
    expect_cause(&error, "data[tls.key]")?;
    Ok(Outcome::Passed)
}

/// Secrets can be listed by `type` with a field selector.
pub async fn secret_field_selector_selects_by_type<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "secret_field_selector_selects_by_type").await?;
    cx.create(&Object::new(&secret_type(), Some(&cx.ns), "plain").with("data", json!({"a": "eA=="})))
        .await?;
    cx.create(
        &Object::new(&secret_type(), Some(&cx.ns), "cert")
            .with("type", json!("kubernetes.io/tls"))
            .with("data", json!({"tls.crt": "eA==", "tls.key": "eQ=="})),
    )
    .await?;
    let params = ListParams::in_namespace(&cx.ns).fields("type=kubernetes.io/tls");
    let list = store
        .list(&secret_type(), &params)
        .await
        .map_err(|e| format!("list by type: {e:?}"))?;
    let names: Vec<&str> = list.items.iter().map(|o| o.name()).collect();
    ensure!(names == ["cert"], "selected {names:?}, expected [cert]");
    let params = ListParams::in_namespace(&cx.ns).fields("type!=kubernetes.io/tls");
    let list = store
        .list(&secret_type(), &params)
        .await
        .map_err(|e| format!("list by type!=: {e:?}"))?;
    let names: Vec<&str> = list.items.iter().map(|o| o.name()).collect();
    ensure!(names == ["plain"], "selected {names:?}, expected [plain]");
    Ok(Outcome::Passed)
}

/// ConfigMaps accept only `metadata.name` and `metadata.namespace` as field selectors.
pub async fn config_map_field_selector_on_data_is_bad_request<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "config_map_field_selector_on_data_is_bad_request").await?;
    expect_err!(
        store
            .list(&config_map(), &ListParams::in_namespace(&cx.ns).fields("data.k=v"))
            .await,
        StoreError::BadRequest { .. },
        "list ConfigMaps by data.k"
    );
    let fine = store
        .list(
            &config_map(),
            &ListParams::in_namespace(&cx.ns).fields("metadata.namespace=x"),
        )
        .await
        .map_err(|e| format!("list by metadata.namespace: {e:?}"))?;
    ensure!(fine.items.is_empty(), "unexpected items {:?}", fine.items.len());
    Ok(Outcome::Passed)
}
