//! A `fieldsV1` read in place from its JSON text.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// A `fieldsV1` tree borrowed from its JSON text: each map is a sorted `Vec` of its keys
/// (borrowed from the text unless they hold escapes) and children.
///
/// Reading a stored entry through [`tree`](super::tree) builds a `serde_json` map per node (a
/// B-tree node of about 630 bytes and a `String` per key) only to look a few paths up and drop
/// it; a view is one small `Vec` per map and no key copies. A field manager checks ownership
/// with it on every write.
///
/// Any value that is not a map (never written by a server) reads as an empty map, a member.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct View<'a> {
    entries: Vec<(Cow<'a, str>, View<'a>)>,
}

impl<'a> View<'a> {
    /// The view of a `fieldsV1` JSON text; None when the text is not a JSON object.
    pub fn parse(text: &'a str) -> Option<Self> {
        let trimmed = text.trim_start();
        if !trimmed.starts_with('{') {
            return None;
        }
        let mut view: View<'a> = serde_json::from_str(text).ok()?;
        view.sort();
        Some(view)
    }

    /// Keys in byte order, as a server writes them (and as a stored tree prints), so lookups
    /// can halve; text written otherwise is sorted once here.
    fn sort(&mut self) {
        if !self.entries.is_sorted_by(|a, b| a.0 <= b.0) {
            self.entries.sort_by(|a, b| a.0.cmp(&b.0));
        }
        for (_, child) in &mut self.entries {
            child.sort();
        }
    }

    /// The child under `key` (`f:name`, `k:{...}`, `v:...`, `.`).
    pub fn get(&self, key: &str) -> Option<&View<'a>> {
        self.entries
            .binary_search_by(|(k, _)| k.as_ref().cmp(key))
            .ok()
            .map(|i| &self.entries[i].1)
    }

    /// True for `{}`: a member with nothing below it.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The keys and children, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &View<'a>)> {
        self.entries.iter().map(|(k, v)| (k.as_ref(), v))
    }
}

/// Runs `f` on the view of `fields` in either form (text, or a tree printed first); None when
/// it is neither a JSON object nor its text.
pub fn with_view<R>(fields: &Value, f: impl FnOnce(&View<'_>) -> R) -> Option<R> {
    match fields {
        Value::String(text) => View::parse(text).map(|v| f(&v)),
        Value::Object(_) => {
            let text = fields.to_string();
            View::parse(&text).map(|v| f(&v))
        }
        _ => None,
    }
}

/// A node of a `fieldsV1` tree, whichever form it is read in: the `serde_json` tree the API
/// server sends, or a [`View`] of the JSON text a store or cache keeps.
pub trait FieldsNode {
    /// The child under `key` (`f:name`, `k:{...}`, `v:...`, `i:N`, `.`).
    fn child(&self, key: &str) -> Option<&Self>;
    /// The children in key order (none below a leaf).
    fn children(&self) -> impl Iterator<Item = (&str, &Self)>;
    /// False for a value that is not a map, which no server writes (a [`View`] reads such a
    /// value as an empty map).
    fn is_map(&self) -> bool;
}

impl FieldsNode for Value {
    fn child(&self, key: &str) -> Option<&Self> {
        self.as_object()?.get(key)
    }

    fn children(&self) -> impl Iterator<Item = (&str, &Self)> {
        self.as_object().into_iter().flatten().map(|(k, v)| (k.as_str(), v))
    }

    fn is_map(&self) -> bool {
        self.is_object()
    }
}

impl<'a> FieldsNode for View<'a> {
    fn child(&self, key: &str) -> Option<&Self> {
        self.get(key)
    }

    fn children(&self) -> impl Iterator<Item = (&str, &Self)> {
        self.iter()
    }

    fn is_map(&self) -> bool {
        true
    }
}

/// A key borrowed from the text when it has no escapes.
#[derive(serde::Deserialize)]
struct Key<'a>(#[serde(borrow)] Cow<'a, str>);

impl<'de> Deserialize<'de> for View<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ViewVisitor;

        impl<'de> Visitor<'de> for ViewVisitor {
            type Value = View<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a fieldsV1 value")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<View<'de>, A::Error> {
                // Most maps are leaves (`{}`, no allocation); the others mostly have a few
                // keys: one allocation for up to eight instead of growing from one.
                let mut entries = Vec::new();
                while let Some(Key(key)) = map.next_key()? {
                    if entries.is_empty() {
                        entries.reserve(8);
                    }
                    entries.push((key, map.next_value()?));
                }
                Ok(View { entries })
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<View<'de>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(View::default())
            }

            fn visit_bool<E: de::Error>(self, _: bool) -> Result<View<'de>, E> {
                Ok(View::default())
            }

            fn visit_i64<E: de::Error>(self, _: i64) -> Result<View<'de>, E> {
                Ok(View::default())
            }

            fn visit_u64<E: de::Error>(self, _: u64) -> Result<View<'de>, E> {
                Ok(View::default())
            }

            fn visit_f64<E: de::Error>(self, _: f64) -> Result<View<'de>, E> {
                Ok(View::default())
            }

            fn visit_str<E: de::Error>(self, _: &str) -> Result<View<'de>, E> {
                Ok(View::default())
            }

            fn visit_unit<E: de::Error>(self) -> Result<View<'de>, E> {
                Ok(View::default())
            }
        }

        deserializer.deserialize_any(ViewVisitor)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    /// The tree a view stands for, to compare with what serde_json parses.
    fn as_tree(view: &View<'_>) -> Value {
        Value::Object(view.iter().map(|(k, v)| (k.to_owned(), as_tree(v))).collect())
    }

    fn fields_tree() -> impl Strategy<Value = Value> {
        let key = prop_oneof![
            "f:[a-c]{1,2}",
            "k:\\{\"name\":\"[a-c\"\\\\]\"\\}",
            Just(".".to_owned()),
            "v:[0-9é]"
        ];
        let leaf = Just(json!({}));
        leaf.prop_recursive(4, 32, 4, move |inner| {
            proptest::collection::btree_map(key.clone(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect()))
        })
    }

    proptest! {
        #[test]
        fn a_view_reads_what_the_tree_holds(tree in fields_tree()) {
            let text = tree.to_string();
            let view = View::parse(&text).expect("an object");
            prop_assert_eq!(as_tree(&view), tree.clone());
            for (key, child) in tree.as_object().into_iter().flatten() {
                prop_assert_eq!(view.get(key).map(as_tree), Some(child.clone()));
            }
            prop_assert!(view.get("f:absent-key").is_none());
        }
    }

    #[test]
    fn unsorted_text_and_non_map_values_still_read() {
        let view = View::parse(r#"{"f:b":{},"f:a":{"f:x":1,".":{}},"k:{\"n\":\"q\"}":[1,2]}"#).expect("an object");
        assert!(
            view.get("f:a")
                .is_some_and(|a| a.get(".").is_some() && a.get("f:x").is_some_and(View::is_empty))
        );
        assert!(view.get(r#"k:{"n":"q"}"#).is_some_and(View::is_empty));
        assert_eq!(View::parse("[]"), None);
        assert_eq!(View::parse("not json"), None);
        assert_eq!(with_view(&json!({"f:a": {}}), |v| v.get("f:a").is_some()), Some(true));
        assert_eq!(with_view(&json!(7), |_| ()), None);
    }
}
