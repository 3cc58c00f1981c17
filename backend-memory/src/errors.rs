//! Error values worded as the API server words them (`configmaps "x" not found`, ...).

use operator_runtime_core::store::KindInfo;
use operator_runtime_core::{StoreError, TypeRef};

/// `<plural>` or `<plural>.<group>`, as in the server's messages.
pub(crate) fn resource(info: &KindInfo) -> String {
    match info.type_ref.group() {
        "" => info.plural.clone(),
        group => format!("{}.{group}", info.plural),
    }
}

/// 404 for an object.
pub(crate) fn not_found(info: &KindInfo, name: &str) -> StoreError {
    StoreError::not_found(format!("{} \"{name}\" not found", resource(info)))
}

/// 404 for a kind that is not served.
/// A `/status` write to a kind served without the status subresource.
pub(crate) fn no_status_subresource(info: &KindInfo) -> StoreError {
    StoreError::not_found(format!(
        "the server could not find the requested resource ({} has no status subresource)",
        info.type_ref
    ))
}

pub(crate) fn unknown_kind(type_ref: &TypeRef) -> StoreError {
    StoreError::not_found(format!(
        "the server could not find the requested resource ({type_ref} is not served)"
    ))
}

/// 404 for a missing namespace.
pub(crate) fn namespace_not_found(namespace: &str) -> StoreError {
    StoreError::not_found(format!("namespaces \"{namespace}\" not found"))
}

/// 409 AlreadyExists.
pub(crate) fn already_exists(info: &KindInfo, name: &str) -> StoreError {
    StoreError::already_exists(format!("{} \"{name}\" already exists", resource(info)))
}

/// 409 Conflict for a stale resourceVersion.
pub(crate) fn stale(info: &KindInfo, name: &str) -> StoreError {
    StoreError::conflict(format!(
        "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
        resource(info)
    ))
}

/// 409 Conflict for a failed uid or resourceVersion precondition.
pub(crate) fn precondition(info: &KindInfo, name: &str, what: &str, wanted: &str, actual: &str) -> StoreError {
    StoreError::conflict(format!(
        "Operation cannot be fulfilled on {} \"{name}\": Precondition failed: {what} in precondition: {wanted}, {what} in object meta: {actual}",
        resource(info)
    ))
}
