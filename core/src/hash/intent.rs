//! The intent of an object (what the desired hash covers), written straight from the
//! [`Object`]'s fields in canonical form, and the same view as a `serde_json::Value`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::HASH_ANNOTATION;
use super::json::{self, Result};
use super::serializer::{Canonical, Sink};
use crate::model::Object;

/// A top-level member of the intent view.
enum Member<'a> {
    ApiVersion,
    Kind,
    Metadata,
    Body(&'a Value),
}

/// Writes the canonical JSON of [`intent_view`]`(object)` without building it.
pub(super) fn write_intent<S: Sink>(c: &mut Canonical<S>, object: &Object) -> Result {
    let mut members: Vec<(&str, Member<'_>)> = Vec::with_capacity(object.body.len() + 3);
    members.push(("apiVersion", Member::ApiVersion));
    members.push(("kind", Member::Kind));
    members.push(("metadata", Member::Metadata));
    members.extend(
        object
            .body
            .iter()
            .filter(|(k, _)| k.as_str() != "status")
            .map(|(k, v)| (k.as_str(), Member::Body(v))),
    );
    // Stable sort: a body field named like a fixed member comes later and wins, exactly as
    // `Map::insert` in `intent_view` overwrites it.
    members.sort_by(|a, b| a.0.cmp(b.0));
    c.out().push(b'{');
    let mut first = true;
    for (i, (key, member)) in members.iter().enumerate() {
        if members.get(i + 1).is_some_and(|next| next.0 == *key) {
            continue;
        }
        let out = c.out();
        if !first {
            out.push(b',');
        }
        first = false;
        json::write_str(out, key);
        out.push(b':');
        match member {
            Member::ApiVersion => json::write_str(out, &object.api_version),
            Member::Kind => json::write_str(out, &object.kind),
            Member::Metadata => write_metadata(out, object),
            Member::Body(value) => json::write_value(out, value)?,
        }
        c.maybe_flush();
    }
    c.out().push(b'}');
    Ok(())
}

/// `{"annotations":..,"labels":..,"name":..,"namespace":..}`: the keys are already in order.
fn write_metadata(out: &mut Vec<u8>, object: &Object) {
    let meta = &object.metadata;
    out.push(b'{');
    let mut first = true;
    let mut member = |out: &mut Vec<u8>, key: &str| {
        if !first {
            out.push(b',');
        }
        first = false;
        json::write_str(out, key);
        out.push(b':');
    };
    let annotations = meta
        .annotations
        .as_ref()
        .filter(|a| a.keys().any(|k| k != HASH_ANNOTATION));
    if let Some(annotations) = annotations {
        member(out, "annotations");
        write_string_map(out, annotations, Some(HASH_ANNOTATION));
    }
    if let Some(labels) = meta.labels.as_ref().filter(|l| !l.is_empty()) {
        member(out, "labels");
        write_string_map(out, labels, None);
    }
    if let Some(name) = &meta.name {
        member(out, "name");
        json::write_str(out, name);
    }
    if let Some(namespace) = &meta.namespace {
        member(out, "namespace");
        json::write_str(out, namespace);
    }
    out.push(b'}');
}

fn write_string_map(out: &mut Vec<u8>, map: &BTreeMap<String, String>, skip: Option<&str>) {
    out.push(b'{');
    let mut first = true;
    for (k, v) in map.iter().filter(|(k, _)| Some(k.as_str()) != skip) {
        if !first {
            out.push(b',');
        }
        first = false;
        json::write_str(out, k);
        out.push(b':');
        json::write_str(out, v);
    }
    out.push(b'}');
}

/// The part of an object that expresses intent, as a JSON value (the reference definition that
/// [`write_intent`] reproduces).
pub(super) fn intent_view(object: &Object) -> Value {
    let mut meta = Map::new();
    if let Some(annotations) = &object.metadata.annotations {
        let kept: Map<String, Value> = annotations
            .iter()
            .filter(|(k, _)| k.as_str() != HASH_ANNOTATION)
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        if !kept.is_empty() {
            meta.insert("annotations".into(), Value::Object(kept));
        }
    }
    if let Some(labels) = object.metadata.labels.as_ref().filter(|l| !l.is_empty()) {
        let labels = labels
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        meta.insert("labels".into(), Value::Object(labels));
    }
    if let Some(name) = &object.metadata.name {
        meta.insert("name".into(), Value::String(name.clone()));
    }
    if let Some(ns) = &object.metadata.namespace {
        meta.insert("namespace".into(), Value::String(ns.clone()));
    }
    let mut view = Map::new();
    view.insert("apiVersion".into(), Value::String(object.api_version.clone()));
    view.insert("kind".into(), Value::String(object.kind.clone()));
    view.insert("metadata".into(), Value::Object(meta));
    for (k, v) in &object.body {
        if k != "status" {
            view.insert(k.clone(), v.clone());
        }
    }
    Value::Object(view)
}
