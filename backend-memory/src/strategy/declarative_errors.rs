//! Go's `field.Error` constructors (`Invalid`, `Required`, `NotSupported`, `Forbidden`) with the
//! message shapes `ErrorBody` prints, for the validations ported in this module's kinds: numbers
//! and booleans bare, strings quoted, structs and lists as JSON, and no `: ` after an empty detail.
//!
//! Also the split declarative validation introduces: a hand-written error marked
//! `CoveredByDeclarative` is replaced by its enforced (beta or standard) declarative twin, which
//! `ValidateDeclarativelyWithMigrationChecks` appends after all hand-written errors.

use serde_json::Value;

use crate::validation::Causes;

/// A JSON value as `ErrorBody` renders a bad value: strings quoted, everything else as JSON.
pub(super) fn render(value: &Value) -> String {
    value.to_string()
}

/// A string bad value, quoted as `%q` does (close enough: JSON escaping).
pub(super) fn quote(value: &str) -> String {
    Value::String(value.to_owned()).to_string()
}

/// `field.Invalid` with an already rendered bad value.
pub(super) fn invalid(causes: &mut Causes, field: &str, rendered: &str, detail: &str) {
    causes.push(
        "FieldValueInvalid",
        field,
        format!("Invalid value: {rendered}: {detail}"),
    );
}

/// `field.Required`.
pub(super) fn required(causes: &mut Causes, field: &str, detail: &str) {
    causes.push("FieldValueRequired", field, with_detail("Required value", detail));
}

/// `field.Forbidden`.
pub(super) fn forbidden(causes: &mut Causes, field: &str, detail: &str) {
    causes.push("FieldValueForbidden", field, with_detail("Forbidden", detail));
}

/// `field.NotSupported` with an already rendered bad value and the supported values.
pub(super) fn not_supported(causes: &mut Causes, field: &str, rendered: &str, supported: &[&str]) {
    let list: Vec<String> = supported.iter().map(|v| quote(v)).collect();
    causes.push(
        "FieldValueNotSupported",
        field,
        with_detail(
            &format!("Unsupported value: {rendered}"),
            &if list.is_empty() {
                String::new()
            } else {
                format!("supported values: {}", list.join(", "))
            },
        ),
    );
}

fn with_detail(body: &str, detail: &str) -> String {
    if detail.is_empty() {
        body.to_owned()
    } else {
        format!("{body}: {detail}")
    }
}

/// The declarative errors of one validation, kept apart so they land after the hand-written
/// ones. `ratcheted` is an update whose field is unchanged: declarative validation skips it,
/// so the hand-written error stays, in place and with its own wording.
#[derive(Default)]
pub(super) struct Declarative<'a>(Vec<Deferred<'a>>);

/// One deferred declarative error.
type Deferred<'a> = Box<dyn FnOnce(&mut Causes) + 'a>;

impl<'a> Declarative<'a> {
    /// A covered rule that failed: the hand-written error (`hand`) when ratcheted, else the
    /// declarative one (`decl`), deferred.
    pub(super) fn covered(
        &mut self,
        causes: &mut Causes,
        ratcheted: bool,
        hand: impl FnOnce(&mut Causes),
        decl: impl FnOnce(&mut Causes) + 'a,
    ) {
        if ratcheted {
            hand(causes);
        } else {
            self.0.push(Box::new(decl));
        }
    }

    /// Appends the deferred declarative errors.
    pub(super) fn finish(self, causes: &mut Causes) {
        for add in self.0 {
            add(causes);
        }
    }
}

/// Helpers for the tests of the kinds that use these errors: writes through a `MemoryStore`.
#[cfg(test)]
pub(super) mod testing {
    use std::sync::Arc;

    use operator_runtime_core::store::{StoreResult, WriteParams};
    use operator_runtime_core::{Object, ObjectStore, StoreError};
    use serde_json::Value;

    use crate::MemoryStore;

    /// Runs a future to completion on a current-thread runtime.
    fn run<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime")
            .block_on(f)
    }

    /// An object of `api_version`/`kind` named `name` in `default` with the given body fields.
    pub(in crate::strategy) fn object(api_version: &str, kind: &str, name: &str, fields: Value) -> Object {
        let mut value = fields;
        value["apiVersion"] = Value::from(api_version);
        value["kind"] = Value::from(kind);
        value["metadata"] = serde_json::json!({"name": name, "namespace": "default"});
        Object::from_value(value).expect("object")
    }

    /// Creates `object` in a fresh store.
    pub(in crate::strategy) fn create(object: &Object) -> StoreResult<Arc<Object>> {
        run(MemoryStore::new().create(object, &WriteParams::default()))
    }

    /// A PUT of `object` into a fresh store (creates it where the kind allows that).
    pub(in crate::strategy) fn put_new(object: &Object) -> StoreResult<Arc<Object>> {
        run(MemoryStore::new().replace(object, &WriteParams::default()))
    }

    /// Creates `first`, then replaces it with `edit` applied (with the stored resourceVersion):
    /// the replace's result.
    pub(in crate::strategy) fn replace(first: &Object, edit: impl FnOnce(&mut Object)) -> StoreResult<Arc<Object>> {
        run(async {
            let store = MemoryStore::new();
            let stored = store.create(first, &WriteParams::default()).await?;
            let mut next = Object::clone(&stored);
            edit(&mut next);
            store.replace(&next, &WriteParams::default()).await
        })
    }

    /// Like [`replace`], through the status subresource.
    pub(in crate::strategy) fn replace_status(
        first: &Object,
        edit: impl FnOnce(&mut Object),
    ) -> StoreResult<Arc<Object>> {
        run(async {
            let store = MemoryStore::new();
            let stored = store.create(first, &WriteParams::default()).await?;
            let mut next = Object::clone(&stored);
            edit(&mut next);
            store.replace_status(&next, &WriteParams::default()).await
        })
    }

    /// The field paths of an Invalid error; panics on success or another error.
    pub(in crate::strategy) fn invalid_fields(result: StoreResult<Arc<Object>>) -> Vec<String> {
        match result {
            Err(StoreError::Invalid { causes, .. }) => causes.into_iter().map(|c| c.field).collect(),
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    /// The full messages (`field: message`) of an Invalid error.
    pub(in crate::strategy) fn invalid_messages(result: StoreResult<Arc<Object>>) -> Vec<String> {
        match result {
            Err(StoreError::Invalid { causes, .. }) => causes
                .into_iter()
                .map(|c| format!("{}: {}", c.field, c.message))
                .collect(),
            other => panic!("expected Invalid, got {other:?}"),
        }
    }
}
