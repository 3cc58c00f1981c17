//! Events: `v1` and `events.k8s.io/v1` are two views of one storage, as on the real server
//! (one etcd key space, the internal `core.Event` converted to and from either version).
//!
//! Both kinds share a table (see the kind registry), and an object is stored in the form of
//! the version it was last written through. Reading it through the other version converts it
//! ([`convert`], called by `strategy::served_as`), and a write through the other version starts
//! from the converted object. managedFields are not converted: as on the real server, each
//! entry keeps the `apiVersion` and field names of the write that made it.
//!
//! Each version also serializes its zero values as the server's Go structs do, so an Event
//! reads back with the same keys the server prints: `v1` always has `involvedObject`,
//! `source`, `reportingComponent` and `reportingInstance`, and `null` for an unset
//! `eventTime`, `firstTimestamp` and `lastTimestamp`; `events.k8s.io/v1` always has
//! `regarding` and `deprecatedSource`, and `null` for an unset `eventTime`,
//! `deprecatedFirstTimestamp` and `deprecatedLastTimestamp`. Empty strings and a zero count
//! are left out where the field is `omitempty`.

use operator_runtime_core::{Object, TypeRef};
use serde_json::{Map, Value};

use super::KindHooks;

/// The API group of the newer Event API.
pub(crate) const EVENTS_GROUP: &str = "events.k8s.io";

/// Field names that differ: (`v1`, `events.k8s.io/v1`). The others (`eventTime`, `series`,
/// `action`, `reason`, `related`, `reportingInstance`, `type`) have one name in both.
const RENAMED: [(&str, &str); 7] = [
    ("message", "note"),
    ("involvedObject", "regarding"),
    ("source", "deprecatedSource"),
    ("firstTimestamp", "deprecatedFirstTimestamp"),
    ("lastTimestamp", "deprecatedLastTimestamp"),
    ("count", "deprecatedCount"),
    ("reportingComponent", "reportingController"),
];

/// Whether `api_version` is the `events.k8s.io` form.
fn is_events_group(api_version: &str) -> bool {
    api_version
        .split_once('/')
        .is_some_and(|(group, _)| group == EVENTS_GROUP)
}

/// Whether `object` is an Event stored in the other version's form than `api_version`.
pub(crate) fn needs_conversion(object: &Object, api_version: &str) -> bool {
    object.kind == "Event"
        && object.api_version != api_version
        && is_events_group(&object.api_version) != is_events_group(api_version)
}

/// `object` (an Event in either form) as `api_version` serves it.
pub(crate) fn convert(object: &Object, api_version: &str) -> Object {
    let to_events = is_events_group(api_version);
    let mut body = Map::new();
    for (key, value) in &object.body {
        let renamed = RENAMED.iter().find_map(|(core, events)| match to_events {
            true if key == core => Some(*events),
            false if key == events => Some(*core),
            _ => None,
        });
        body.insert(renamed.map_or_else(|| key.clone(), str::to_owned), value.clone());
    }
    let mut converted = Object {
        api_version: api_version.to_owned(),
        kind: object.kind.clone(),
        metadata: object.metadata.clone(),
        body,
    };
    zero_values(&mut converted);
    converted
}

/// The zero values of the object's version, as its Go struct serializes them (module docs).
fn zero_values(object: &mut Object) {
    let events = is_events_group(&object.api_version);
    let body = &mut object.body;
    let (always_objects, nullable, omitempty_strings, always_strings, count): (
        &[&str],
        &[&str],
        &[&str],
        &[&str],
        &str,
    ) = if events {
        (
            &["regarding", "deprecatedSource"],
            &["eventTime", "deprecatedFirstTimestamp", "deprecatedLastTimestamp"],
            &[
                "reportingController",
                "reportingInstance",
                "action",
                "reason",
                "note",
                "type",
            ],
            &[],
            "deprecatedCount",
        )
    } else {
        (
            &["involvedObject", "source"],
            &["eventTime", "firstTimestamp", "lastTimestamp"],
            &["message", "reason", "type", "action"],
            &["reportingComponent", "reportingInstance"],
            "count",
        )
    };
    for key in always_objects {
        if body.get(*key).is_none_or(Value::is_null) {
            body.insert((*key).to_owned(), Value::Object(Map::new()));
        }
    }
    for key in nullable {
        body.entry(*key).or_insert(Value::Null);
    }
    for key in omitempty_strings {
        if body.get(*key).is_some_and(|v| v.as_str() == Some("") || v.is_null()) {
            body.remove(*key);
        }
    }
    for key in always_strings {
        if body.get(*key).is_none_or(Value::is_null) {
            body.insert((*key).to_owned(), Value::String(String::new()));
        }
    }
    if body.get(count).is_some_and(|v| v.as_i64() == Some(0) || v.is_null()) {
        body.remove(count);
    }
}

/// The hooks of both Event kinds: the zero values of the version written through.
#[derive(Debug)]
pub(crate) struct EventHooks;

impl KindHooks for EventHooks {
    fn default(&self, _type_ref: &TypeRef, object: &mut Object) {
        zero_values(object);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn event(value: Value) -> Object {
        Object::from_value(value).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_core_event_reads_as_the_servers_events_k8s_io_form_and_back() {
        // As kube-apiserver 1.37.2 stored and served `kubectl create` of a core/v1 Event.
        let mut core = event(json!({"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "e", "namespace": "default"},
            "involvedObject": {"kind": "Pod", "name": "p1", "namespace": "default"},
            "reason": "Started", "message": "hello core", "type": "Normal"}));
        zero_values(&mut core);
        assert_eq!(
            Value::Object(core.body.clone()),
            json!({"eventTime": null, "firstTimestamp": null, "lastTimestamp": null,
                "involvedObject": {"kind": "Pod", "name": "p1", "namespace": "default"},
                "message": "hello core", "reason": "Started", "reportingComponent": "",
                "reportingInstance": "", "source": {}, "type": "Normal"})
        );
        assert!(needs_conversion(&core, "events.k8s.io/v1"));
        let served = convert(&core, "events.k8s.io/v1");
        assert_eq!(served.api_version, "events.k8s.io/v1");
        assert_eq!(
            Value::Object(served.body.clone()),
            json!({"eventTime": null, "reason": "Started",
                "regarding": {"kind": "Pod", "name": "p1", "namespace": "default"},
                "note": "hello core", "type": "Normal", "deprecatedSource": {},
                "deprecatedFirstTimestamp": null, "deprecatedLastTimestamp": null})
        );
        assert!(!needs_conversion(&served, "events.k8s.io/v1"));
        assert_eq!(convert(&served, "v1").body, core.body);
    }

    #[test]
    fn an_events_k8s_io_event_reads_as_the_servers_core_form() {
        let mut new = event(json!({"apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"name": "n", "namespace": "default"},
            "eventTime": "2026-12-05T08:00:00.000000Z", "reportingController": "example.com/ctl",
            "reportingInstance": "ctl-1", "action": "Reconcile", "reason": "Synced",
            "note": "hello events", "type": "Normal", "deprecatedCount": 0,
            "regarding": {"kind": "Pod", "name": "p1", "namespace": "default"}}));
        zero_values(&mut new);
        assert!(!new.body.contains_key("deprecatedCount"), "omitempty");
        let core = convert(&new, "v1");
        assert_eq!(
            Value::Object(core.body),
            json!({"involvedObject": {"kind": "Pod", "name": "p1", "namespace": "default"},
                "reason": "Synced", "message": "hello events", "source": {},
                "firstTimestamp": null, "lastTimestamp": null, "type": "Normal",
                "eventTime": "2026-12-05T08:00:00.000000Z", "action": "Reconcile",
                "reportingComponent": "example.com/ctl", "reportingInstance": "ctl-1"})
        );
    }
}
