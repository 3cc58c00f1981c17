//! A store watch as the API server's chunked JSON stream: one `{"type":..,"object":..}` line
//! per event, an `ERROR` event carrying a `Status` (410 Expired when the start revision is too
//! old), then the end of the response. A watch that asked for a Table (`kubectl get --watch`)
//! gets each object as a one-row Table, with the column definitions on the first only, as the
//! API server sends them (`NoHeaders` after the first event).

use std::convert::Infallible;
use std::sync::Arc;

use futures::StreamExt;
use http_body_util::StreamBody;
use hyper::body::{Bytes, Frame};
use operator_runtime_core::store::{WatchEvent, WatchStream};
use operator_runtime_core::{StoreError, TypeRef};
use serde_json::{Value, json};

use super::status::{Subject, status_of};
use super::wire::Wire;

/// The one-row Table of an event's object (`None`: the kind has no printer, the object goes
/// as it is).
pub(crate) type TableOf = Arc<dyn Fn(&Value) -> Option<Value> + Send + Sync>;

/// An event line whose object is a one-row Table (`headers` keeps the column definitions);
/// None for events without an object (bookmarks, errors) and kinds without a printer.
fn table_event_line(event: &Result<WatchEvent, StoreError>, table: &TableOf, headers: bool) -> Option<Bytes> {
    let (kind, object) = match event {
        Ok(WatchEvent::Added(o)) => ("ADDED", o),
        Ok(WatchEvent::Modified(o)) => ("MODIFIED", o),
        Ok(WatchEvent::Deleted(o)) => ("DELETED", o),
        _ => return None,
    };
    let mut rows = table(&super::wire::to_value(object).ok()?)?;
    if !headers {
        rows["columnDefinitions"] = Value::Null;
    }
    let mut bytes = serde_json::to_vec(&json!({"type": kind, "object": rows})).ok()?;
    bytes.push(b'\n');
    Some(Bytes::from(bytes))
}

/// One event line (with its trailing newline).
pub(crate) fn event_line(event: &Result<WatchEvent, StoreError>, type_ref: &TypeRef) -> Bytes {
    let value = match event {
        Ok(WatchEvent::Added(o)) => json!({"type": "ADDED", "object": Wire(o)}),
        Ok(WatchEvent::Modified(o)) => json!({"type": "MODIFIED", "object": Wire(o)}),
        Ok(WatchEvent::Deleted(o)) => json!({"type": "DELETED", "object": Wire(o)}),
        Ok(WatchEvent::Bookmark { resource_version }) => json!({
            "type": "BOOKMARK",
            "object": {
                "apiVersion": type_ref.api_version,
                "kind": type_ref.kind,
                "metadata": {"resourceVersion": resource_version},
            },
        }),
        Err(e) => json!({"type": "ERROR", "object": status_of(e, &Subject::default())}),
    };
    let mut bytes = serde_json::to_vec(&value).unwrap_or_else(|_| b"{}".to_vec());
    bytes.push(b'\n');
    Bytes::from(bytes)
}

/// The frames of a watch: events until the store ends the stream or sends an error.
fn frames(
    stream: WatchStream,
    type_ref: TypeRef,
    table: Option<TableOf>,
) -> impl futures::Stream<Item = Result<Frame<Bytes>, Infallible>> + Send + 'static {
    let mut headers = true;
    stream
        .scan(false, |done, event| {
            // Stop after the first error: the API server ends the watch with it.
            if *done {
                return futures::future::ready(None);
            }
            *done = event.is_err();
            futures::future::ready(Some(event))
        })
        .map(move |event| {
            let row = table
                .as_ref()
                .and_then(|table| table_event_line(&event, table, headers));
            headers &= row.is_none();
            Ok(Frame::data(row.unwrap_or_else(|| event_line(&event, &type_ref))))
        })
}

/// The response body of a watch (its objects as Tables when `table` is given).
pub(crate) fn body(
    stream: WatchStream,
    type_ref: TypeRef,
    table: Option<TableOf>,
) -> StreamBody<impl futures::Stream<Item = Result<Frame<Bytes>, Infallible>> + Send + 'static> {
    StreamBody::new(frames(stream, type_ref, table))
}

/// The bookmark that ends the initial events of a streaming list (`sendInitialEvents=true`).
pub(crate) fn initial_events_end(type_ref: &TypeRef, resource_version: &str) -> Bytes {
    let value = json!({
        "type": "BOOKMARK",
        "object": {
            "apiVersion": type_ref.api_version,
            "kind": type_ref.kind,
            "metadata": {
                "resourceVersion": resource_version,
                "annotations": {"k8s.io/initial-events-end": "true"},
            },
        },
    });
    let mut bytes = serde_json::to_vec(&value).unwrap_or_else(|_| b"{}".to_vec());
    bytes.push(b'\n');
    Bytes::from(bytes)
}

/// A streaming list: the current objects as ADDED events, the initial-events-end bookmark,
/// then the watch from the list's revision.
pub(crate) fn streaming_list_body(
    initial: Vec<Bytes>,
    stream: WatchStream,
    type_ref: TypeRef,
) -> StreamBody<impl futures::Stream<Item = Result<Frame<Bytes>, Infallible>> + Send + 'static> {
    let head = futures::stream::iter(initial.into_iter().map(|b| Ok(Frame::data(b))));
    StreamBody::new(head.chain(frames(stream, type_ref, None)))
}

/// A watch that fails at once, as a stream with one ERROR event (the API server sends a 410 for
/// a too-old resourceVersion this way, with status 200).
pub(crate) fn error_only(error: &StoreError) -> Value {
    json!({"type": "ERROR", "object": status_of(error, &Subject::default())})
}

#[cfg(test)]
mod tests {
    use super::*;
    use operator_runtime_core::Object;
    use std::sync::Arc;

    #[test]
    fn events_are_typed_lines_and_errors_carry_a_status() {
        let t = TypeRef::new("v1", "ConfigMap");
        let added = event_line(&Ok(WatchEvent::Added(Arc::new(Object::new(&t, Some("d"), "a")))), &t);
        let v: Value = serde_json::from_slice(&added).expect("json line");
        assert_eq!(
            (v["type"].as_str(), v["object"]["metadata"]["name"].as_str()),
            (Some("ADDED"), Some("a"))
        );
        assert!(added.ends_with(b"\n"));
        let gone = event_line(&Err(StoreError::expired("too old resource version: 1 (5)")), &t);
        let v: Value = serde_json::from_slice(&gone).expect("json line");
        assert_eq!(
            (v["type"].as_str(), v["object"]["code"].as_u64()),
            (Some("ERROR"), Some(410))
        );
        let bm = event_line(
            &Ok(WatchEvent::Bookmark {
                resource_version: "7".into(),
            }),
            &t,
        );
        let v: Value = serde_json::from_slice(&bm).expect("json line");
        assert_eq!(v["object"]["metadata"]["resourceVersion"], "7");
    }
}
