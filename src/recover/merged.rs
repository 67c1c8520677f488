//! Buckets that outgrew one page, read whole: the leaves below a branch page as one node.
//!
//! ```text
//!  v1/default/containers leaf:  lab-c1 -> bucket root page 40 (a branch)
//!  page 40 branch:  [createdat.. -> 41] [snapshotter.. -> 42]
//!  page 41 leaf:    createdat image labels/ runtime/ snapshotKey
//!  page 42 leaf:    snapshotter spec (overflow) updatedat
//!  merged node 40:  createdat image labels/ runtime/ snapshotKey snapshotter spec updatedat
//! ```
//!
//! bbolt splits a node once it outgrows a page and holds more than four keys: a container
//! record whose spec is larger than a page (a seccomp profile is), an index's content record
//! with many `gc.ref` labels, a labels bucket of thousands of keys. Each leaf alone has only
//! part of the record; the carvers took each for a partial record of its own (sweep 35.5).
//!
//! Only branch pages that are a bucket's root (some bucket element names them), whose
//! descendants all parse, none twice, within [`MERGE_LEAVES`] leaves and [`MERGE_ELEMS`]
//! elements, are merged: a bucket of many records (a namespace's content) is read leaf by leaf
//! as before.

use super::scan::{Elem, Node, Scan};
use foldhash::{HashMap, HashSet};

/// Leaves one merged node may gather.
const MERGE_LEAVES: usize = 1024;
/// Elements one merged node may gather.
const MERGE_ELEMS: usize = 1 << 16;
/// Branch levels followed below the root (a bucket of 2^16 elements needs two).
const MERGE_DEPTH: usize = 4;

/// A branch page's leaves as one node.
pub struct Whole<'a> {
    pub node: Node<'a>,
    /// The scan's node indices of the leaves merged.
    pub leaves: Vec<usize>,
}

/// The merged nodes of a scan, by branch page.
#[derive(Default)]
pub struct Merged<'a> {
    pub by_page: HashMap<u64, Whole<'a>>,
}

impl<'a> Merged<'a> {
    /// Every branch page of `s` that a bucket element names, merged.
    pub fn of(s: &Scan<'a>) -> Merged<'a> {
        let roots: HashSet<u64> = s
            .nodes
            .iter()
            .flat_map(|n| n.elems.iter())
            .filter(|e| e.bucket && e.inline.is_none())
            .filter_map(|e| e.child)
            .collect();
        let mut by_page = HashMap::default();
        for n in &s.nodes {
            if n.leaf || n.is_inline() || !roots.contains(&n.page) || by_page.contains_key(&n.page) {
                continue;
            }
            if let Some(whole) = gather(s, n) {
                by_page.insert(n.page, whole);
            }
        }
        Merged { by_page }
    }

    /// The merged node at branch `page`.
    pub fn get(&self, page: u64) -> Option<&Node<'a>> {
        self.by_page.get(&page).map(|w| &w.node)
    }
}

/// Branch `n`'s leaves in key order as one leaf node (the branch's page id), or `None` when a
/// page below does not parse as a node, is met twice, or the bounds are passed.
pub fn gather<'a>(s: &Scan<'a>, n: &Node<'a>) -> Option<Whole<'a>> {
    let mut elems: Vec<Elem<'a>> = Vec::new();
    let mut leaves = Vec::new();
    let mut seen: HashSet<u64> = HashSet::default();
    seen.insert(n.page);
    // Children in reverse on a stack: popped in the branch's (key) order.
    let mut stack: Vec<(u64, usize)> = n.elems.iter().rev().filter_map(|e| e.child).map(|c| (c, 1)).collect();
    while let Some((page, depth)) = stack.pop() {
        if depth > MERGE_DEPTH || !seen.insert(page) {
            return None;
        }
        let i = *s.by_page.get(&page)?;
        let child = s.nodes.get(i)?;
        if child.leaf {
            if leaves.len() >= MERGE_LEAVES || elems.len().saturating_add(child.elems.len()) > MERGE_ELEMS {
                return None;
            }
            leaves.push(i);
            elems.extend(child.elems.iter().cloned());
        } else {
            if stack.len().saturating_add(child.elems.len()) > MERGE_LEAVES {
                return None;
            }
            stack.extend(child.elems.iter().rev().filter_map(|e| e.child).map(|c| (c, depth + 1)));
        }
    }
    Some(Whole {
        node: Node {
            page: n.page,
            leaf: true,
            overflow: 0,
            parent: None,
            elems,
        },
        leaves,
    })
}
