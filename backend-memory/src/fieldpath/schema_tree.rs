//! A built-in kind's list types and atomic maps (the generated tables of
//! `operator_runtime_core::builtin_schema`) as a tree of path segments, built once per process.
//!
//! A walk of an object steps from a node to its field's node by a search among that node's
//! fields, where it used to build the dotted path of every visited field (`spec.template.spec`)
//! and search the kind's sorted tables for it: that was a third of computing the field set of
//! an applied StatefulSet. The tree holds only the nodes at or above a table entry, so a field
//! without a node is one below which the tables say nothing (every list atomic, no map atomic).

use std::fmt;
use std::sync::OnceLock;

use operator_runtime_core::builtin_schema::{self, KindSchema, ListTypeEntry};
use operator_runtime_core::model::TypeRef;

/// The segment of a list's items, as the tables write it (`containers[*]`).
const ITEMS: &str = "[*]";

/// One kind's tree; node 0 is the object's root.
struct Tree {
    nodes: Vec<TreeNode>,
}

#[derive(Default)]
struct TreeNode {
    /// Field name (or [`ITEMS`]) to node, sorted by name.
    children: Vec<(&'static str, u32)>,
    /// The table entry of the list at this node.
    list: Option<&'static ListTypeEntry>,
    /// Whether the map or struct at this node is atomic.
    atomic_map: bool,
}

impl Tree {
    fn of(kind: &'static KindSchema) -> Self {
        let mut tree = Tree {
            nodes: vec![TreeNode::default()],
        };
        for entry in kind.list_types {
            let at = tree.insert(entry.path);
            tree.nodes[at].list = Some(entry);
        }
        for path in kind.atomic_maps {
            let at = tree.insert(path);
            tree.nodes[at].atomic_map = true;
        }
        tree
    }

    /// The node of `path` (`spec.template.spec.containers[*].ports`), added with its
    /// ancestors if missing.
    fn insert(&mut self, path: &'static str) -> usize {
        let mut at = 0;
        for segment in segments(path) {
            let children = &self.nodes[at].children;
            at = match children.binary_search_by(|(name, _)| (*name).cmp(segment)) {
                Ok(i) => children[i].1 as usize,
                Err(i) => {
                    let id = self.nodes.len();
                    self.nodes.push(TreeNode::default());
                    // Table sizes are far below u32::MAX.
                    self.nodes[at].children.insert(i, (segment, id as u32));
                    id
                }
            };
        }
        at
    }
}

/// The segments of a table path: its dotted field names, each list's items as [`ITEMS`]. A
/// map's values (`attributes{*}`) stay part of their field's segment, which no field name
/// matches: the lists below them are atomic, as any list without an entry.
fn segments(path: &'static str) -> impl Iterator<Item = &'static str> {
    path.split('.').flat_map(|field| {
        let name = field.trim_end_matches(ITEMS);
        let lists = (field.len() - name.len()) / ITEMS.len();
        std::iter::once(name).chain(std::iter::repeat_n(ITEMS, lists))
    })
}

/// Every kind's tree, in the order of [`builtin_schema::kinds`].
fn trees() -> &'static [Tree] {
    static TREES: OnceLock<Vec<Tree>> = OnceLock::new();
    TREES.get_or_init(|| builtin_schema::kinds().iter().map(Tree::of).collect())
}

/// A node of a built-in kind's tree: a place in an object that has a table entry at or below it.
#[derive(Clone, Copy)]
pub(crate) struct At {
    tree: &'static Tree,
    node: u32,
}

impl fmt::Debug for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "At({})", self.node)
    }
}

impl At {
    /// The root of `type_ref`'s tree; None for a kind without tables.
    pub(crate) fn root(type_ref: &TypeRef) -> Option<At> {
        Some(At {
            tree: trees().get(builtin_schema::kind_index(type_ref)?)?,
            node: 0,
        })
    }

    fn node(&self) -> &'static TreeNode {
        &self.tree.nodes[self.node as usize]
    }

    /// The node of field `name` below this one; None when no table entry is at or below it.
    pub(crate) fn field(self, name: &str) -> Option<At> {
        let children = &self.node().children;
        let i = children.binary_search_by(|(n, _)| (*n).cmp(name)).ok()?;
        Some(At {
            tree: self.tree,
            node: children[i].1,
        })
    }

    /// The node of this list's items.
    pub(crate) fn item(self) -> Option<At> {
        self.field(ITEMS)
    }

    /// The table entry of the list at this node.
    pub(crate) fn list(self) -> Option<&'static ListTypeEntry> {
        self.node().list
    }

    /// Whether the tables mark the map or struct at this node atomic.
    pub(crate) fn atomic_map(self) -> bool {
        self.node().atomic_map
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_split_fields_and_items() {
        let got: Vec<&str> = segments("spec.template.spec.containers[*].ports").collect();
        assert_eq!(got, ["spec", "template", "spec", "containers", "[*]", "ports"]);
        let got: Vec<&str> = segments("a[*][*].b").collect();
        assert_eq!(got, ["a", "[*]", "[*]", "b"]);
        let got: Vec<&str> = segments("spec.devices[*].attributes{*}.bools").collect();
        assert_eq!(got, ["spec", "devices", "[*]", "attributes{*}", "bools"]);
    }

    /// Every table entry of every kind is found by walking its segments, with its own list type
    /// or atomic mark, and a path no entry is at or below has no node.
    #[test]
    fn every_table_entry_is_reachable() {
        for (kind, tree) in builtin_schema::kinds().iter().zip(trees()) {
            let walk = |path: &'static str| segments(path).try_fold(At { tree, node: 0 }, |at, s| at.field(s));
            for entry in kind.list_types {
                let at = walk(entry.path).unwrap_or_else(|| panic!("{}: {}", kind.kind, entry.path));
                assert!(at.list().is_some_and(|l| std::ptr::eq(l, entry)), "{}", entry.path);
            }
            for path in kind.atomic_maps {
                let at = walk(path).unwrap_or_else(|| panic!("{}: {path}", kind.kind));
                assert!(at.atomic_map(), "{path}");
            }
            let root = At { tree, node: 0 };
            assert!(root.field("no-such-field").is_none());
            assert!(root.list().is_none() && !root.atomic_map());
        }
    }
}
