//! A field set written straight as the `fieldsV1` JSON text the server stores, without
//! building the tree of maps first (one B-tree node per map, freed right after): the same
//! bytes as `encode(set).to_string()`, which the tests below check.

use std::cmp::Ordering;

use super::{FieldSet, is_field};

/// `encode(fields).to_string()`, written directly.
pub(crate) fn encode_text(fields: &FieldSet) -> String {
    let paths: Vec<&[String]> = fields.iter().filter(|p| !p.is_empty()).map(Vec::as_slice).collect();
    // Room for every segment of every path, each escaped, quoted, with a colon, braces, a
    // comma and a `".":{}` marker, so the buffer does not grow while written (growing it was a
    // third of encoding an applied StatefulSet's set). The text is kept in managedFields, so
    // it is shrunk to its length.
    let capacity = paths
        .iter()
        .flat_map(|p| p.iter())
        .map(|s| 2 * s.len() + 16)
        .sum::<usize>()
        + 2;
    let mut out = Vec::with_capacity(capacity);
    write_node(&paths, 0, false, &mut out, &mut Vec::new());
    out.shrink_to_fit();
    // Only whole JSON strings and ASCII punctuation were written.
    String::from_utf8(out).unwrap_or_default()
}

/// One child of a node: its path segment, whether it is a member itself, and the paths below it.
#[derive(Clone, Copy)]
struct Child<'a> {
    segment: &'a str,
    member: bool,
    below: &'a [&'a [String]],
}

/// Writes the node whose descendants are `paths` (sorted, each longer than `depth`, all
/// sharing their first `depth` segments). A member with descendants gets the `"."` marker.
/// `scratch` is one stack of children for the whole walk (no list per node).
fn write_node<'a>(
    paths: &'a [&'a [String]],
    depth: usize,
    member: bool,
    out: &mut Vec<u8>,
    scratch: &mut Vec<Child<'a>>,
) {
    out.push(b'{');
    let mut first = true;
    if member && !paths.is_empty() {
        out.extend_from_slice(br#"".":{}"#);
        first = false;
    }
    let start = scratch.len();
    let mut i = 0;
    while i < paths.len() {
        let segment = paths[i][depth].as_str();
        let end = i + paths[i..].partition_point(|p| p[depth] == segment);
        // Sorted order puts the member itself before the paths below it.
        let member = paths[i].len() == depth + 1;
        let below = &paths[i + usize::from(member)..end];
        scratch.push(Child { segment, member, below });
        i = end;
    }
    // The tree orders children by their keys (`f:` before field names): the same order as
    // the segments' unless fields and non-fields are siblings.
    let children = &mut scratch[start..];
    if !children.is_sorted_by(|a, b| key_cmp(a.segment, b.segment) != Ordering::Greater) {
        children.sort_by(|a, b| key_cmp(a.segment, b.segment));
    }
    for at in start..scratch.len() {
        let child = scratch[at];
        if !first {
            out.push(b',');
        }
        first = false;
        write_key(child.segment, out);
        out.push(b':');
        write_node(child.below, depth + 1, child.member, out, scratch);
    }
    scratch.truncate(start);
    out.push(b'}');
}

fn key_bytes(segment: &str) -> impl Iterator<Item = u8> + '_ {
    let prefix: &[u8] = if is_field(segment) { b"f:" } else { b"" };
    prefix.iter().copied().chain(segment.bytes())
}

fn key_cmp(a: &str, b: &str) -> Ordering {
    key_bytes(a).cmp(key_bytes(b))
}

/// The key as a JSON string, escaped as serde_json escapes it.
pub(super) fn write_key(segment: &str, out: &mut Vec<u8>) {
    let prefix: &[u8] = if is_field(segment) { b"f:" } else { b"" };
    // Most keys need no escape: written as they are.
    if !segment.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        out.push(b'"');
        out.extend_from_slice(prefix);
        out.extend_from_slice(segment.as_bytes());
        out.push(b'"');
        return;
    }
    let start = out.len();
    // A str always serializes.
    if serde_json::to_writer(&mut *out, segment).is_ok() {
        out.splice(start + 1..start + 1, prefix.iter().copied());
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use operator_runtime_core::fields_v1::View;

    use super::super::{Path, decode, decode_view, encode};
    use super::*;

    fn segment() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-c]{1,2}",
            Just(".".to_owned()),
            Just("".to_owned()),
            "[a-c\"\\\\\u{0}\u{1f}\u{7f}é]{1,3}",
            "k:\\{\"name\":\"[a-c]\"\\}",
            "v:[0-9]",
        ]
    }

    fn field_set() -> impl Strategy<Value = FieldSet> {
        proptest::collection::btree_set(proptest::collection::vec(segment(), 0..5), 0..12)
    }

    proptest! {
        #[test]
        fn the_text_is_the_encoded_tree_printed(fields in field_set()) {
            let text = encode_text(&fields);
            prop_assert_eq!(&text, &encode(&fields).to_string());
            let parsed: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
            let non_empty: FieldSet = fields.iter().filter(|p: &&Path| !p.is_empty()).cloned().collect();
            // What the tree decodes to is what the text decodes to.
            prop_assert_eq!(decode(&parsed), decode(&encode(&non_empty)));
            // And reading the text in place lists the same members.
            let view = View::parse(&text).expect("an object");
            prop_assert_eq!(decode_view(&view), decode(&parsed));
        }
    }

    #[test]
    fn members_with_members_below_get_the_self_marker_and_fields_sort_as_keys() {
        let p = |s: &[&str]| s.iter().map(|s| (*s).to_owned()).collect::<Path>();
        let fields = FieldSet::from([
            p(&["spec"]),
            p(&["spec", "a"]),
            p(&["spec", "k:{\"x\":1}"]),
            p(&["data", "q\""]),
        ]);
        assert_eq!(
            encode_text(&fields),
            r#"{"f:data":{"f:q\"":{}},"f:spec":{".":{},"f:a":{},"k:{\"x\":1}":{}}}"#
        );
        assert_eq!(encode_text(&FieldSet::new()), "{}");
    }
}
