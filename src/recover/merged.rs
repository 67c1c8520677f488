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
//! as before. A leaf's first copy is free (a file holds each leaf once); every further copy
//! of it comes out of one budget for all merges, as many elements as the file's nodes hold
//! and [`MERGE_ELEMS`] more: an old copy of a record shares leaves with the current one (bbolt
//! rewrites only the leaves a commit changed), but a forged file of a thousand branches over
//! the same leaves would otherwise copy them a thousand times (sweep 36.4: 2.7 GB from 6 MB).
//! Branches the current tree reaches are merged first. A branch root not merged is kept in
//! [`Merged::unmerged`], so that a record carved from one of its leaves is said to be a part.

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
    /// The pages some bucket element names as its bucket's root.
    pub roots: HashSet<u64>,
    /// Branch pages a bucket element names that were not merged, and why; with the leaf pages
    /// directly below each (the records carved there are parts of one).
    pub unmerged: Vec<Unmerged>,
}

/// A bucket's branch root whose leaves could not be read as one node.
pub struct Unmerged {
    pub page: u64,
    pub why: &'static str,
    pub leaves: Vec<u64>,
}

impl<'a> Merged<'a> {
    /// Every branch page of `s` that a bucket element names, merged; those in `first` (the
    /// pages the current tree reaches) before the others.
    pub fn of(s: &Scan<'a>, first: &HashSet<u64>) -> Merged<'a> {
        let roots: HashSet<u64> = s
            .nodes
            .iter()
            .flat_map(|n| n.elems.iter())
            .filter(|e| e.bucket && e.inline.is_none())
            .filter_map(|e| e.child)
            .collect();
        let mut by_page = HashMap::default();
        let mut unmerged = Vec::new();
        let held: usize = s.nodes.iter().map(|n| n.elems.len()).sum();
        let mut copies = Copies {
            budget: held.saturating_add(MERGE_ELEMS),
            copied: HashSet::default(),
        };
        let mut branches: Vec<&Node<'a>> = s
            .nodes
            .iter()
            .filter(|n| !n.leaf && !n.is_inline() && roots.contains(&n.page))
            .collect();
        // Stable: page order within each group.
        branches.sort_by_key(|n| !first.contains(&n.page));
        for n in branches {
            if by_page.contains_key(&n.page) {
                continue;
            }
            match gather_within(s, n, &mut copies) {
                Ok(whole) => {
                    by_page.insert(n.page, whole);
                }
                Err(why) => unmerged.push(Unmerged {
                    page: n.page,
                    why,
                    leaves: n.elems.iter().filter_map(|e| e.child).collect(),
                }),
            }
        }
        Merged {
            by_page,
            roots,
            unmerged,
        }
    }

    /// The merged node at branch `page`.
    pub fn get(&self, page: u64) -> Option<&Node<'a>> {
        self.by_page.get(&page).map(|w| &w.node)
    }
}

/// Branch `n`'s leaves in key order as one leaf node (the branch's page id), or `None` when a
/// page below does not parse as a node, is met twice, or the bounds are passed.
pub fn gather<'a>(s: &Scan<'a>, n: &Node<'a>) -> Option<Whole<'a>> {
    let mut copies = Copies {
        budget: MERGE_ELEMS,
        copied: HashSet::default(),
    };
    gather_within(s, n, &mut copies).ok()
}

/// What the merges have copied: the leaves (node indices) copied once, and the elements
/// further copies may still take.
struct Copies {
    budget: usize,
    copied: HashSet<usize>,
}

/// [`gather`], a leaf copied before taking its elements from `copies`' budget (given back
/// when the branch does not merge); `Err` says why not.
fn gather_within<'a>(s: &Scan<'a>, n: &Node<'a>, copies: &mut Copies) -> Result<Whole<'a>, &'static str> {
    let mut charged = 0usize;
    let found = gather_charged(s, n, copies, &mut charged);
    match &found {
        Ok(w) => copies.copied.extend(w.leaves.iter().copied()),
        Err(_) => copies.budget = copies.budget.saturating_add(charged),
    }
    found
}

fn gather_charged<'a>(
    s: &Scan<'a>,
    n: &Node<'a>,
    copies: &mut Copies,
    charged: &mut usize,
) -> Result<Whole<'a>, &'static str> {
    let mut elems: Vec<Elem<'a>> = Vec::new();
    let mut leaves = Vec::new();
    let mut seen: HashSet<u64> = HashSet::default();
    seen.insert(n.page);
    // Children in reverse on a stack: popped in the branch's (key) order.
    let mut stack: Vec<(u64, usize)> = n.elems.iter().rev().filter_map(|e| e.child).map(|c| (c, 1)).collect();
    while let Some((page, depth)) = stack.pop() {
        if depth > MERGE_DEPTH {
            return Err("more branch levels below it than a bucket of this size has");
        }
        if !seen.insert(page) {
            return Err("a page below it is named twice (a loop, or a forged page)");
        }
        let i = *s.by_page.get(&page).ok_or("a page below it is not a readable node")?;
        let child = s.nodes.get(i).ok_or("a page below it is not a readable node")?;
        if child.leaf {
            if leaves.len() >= MERGE_LEAVES || elems.len().saturating_add(child.elems.len()) > MERGE_ELEMS {
                return Err("more leaves or elements below it than one record holds");
            }
            if copies.copied.contains(&i) {
                if child.elems.len() > copies.budget {
                    return Err(
                        "its leaves are copied into other merged buckets already, more times than the file's pages allow",
                    );
                }
                copies.budget -= child.elems.len();
                *charged += child.elems.len();
            }
            leaves.push(i);
            elems.extend(child.elems.iter().cloned());
        } else {
            if stack.len().saturating_add(child.elems.len()) > MERGE_LEAVES {
                return Err("more leaves or elements below it than one record holds");
            }
            stack.extend(child.elems.iter().rev().filter_map(|e| e.child).map(|c| (c, depth + 1)));
        }
    }
    Ok(Whole {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn elem(key: &'static [u8], bucket: bool, child: Option<u64>) -> Elem<'static> {
        Elem {
            key,
            value: b"",
            bucket,
            child,
            inline: None,
        }
    }

    fn node(page: u64, leaf: bool, elems: Vec<Elem<'static>>) -> Node<'static> {
        Node {
            page,
            leaf,
            overflow: 0,
            parent: None,
            elems,
        }
    }

    /// Sweep 36.4: many bucket roots that are branches over the same leaves. One real merge
    /// (and an old copy sharing a leaf) is what bbolt writes; a thousand copy the leaves a
    /// thousand times over. All merges together stay within what the file's nodes hold, and
    /// the branches left over are kept as unmerged, with their leaves.
    #[test]
    fn merges_copy_no_more_than_the_file_holds() {
        // (The first copy of each leaf is free, the others share one budget.)
        let mut s = Scan::default();
        let keys: Vec<&'static [u8]> = (0..2000u32)
            .map(|i| &*Box::leak(format!("k{i:04}").into_bytes().into_boxed_slice()))
            .collect();
        let leaf_a = node(10, true, keys[..1000].iter().map(|k| elem(k, false, None)).collect());
        let leaf_b = node(11, true, keys[1000..].iter().map(|k| elem(k, false, None)).collect());
        s.nodes.push(leaf_a);
        s.nodes.push(leaf_b);
        // 40 branches, each over both leaves, each named by a bucket element of page 1000.
        let mut names = Vec::new();
        for b in 0..40u64 {
            s.nodes.push(node(
                100 + b,
                false,
                vec![elem(b"k0000", false, Some(10)), elem(b"k1000", false, Some(11))],
            ));
            names.push(elem(keys[b as usize], true, Some(100 + b)));
        }
        // A record of its own, split over leaves nothing else names, under a branch that sorts
        // after all the copies: its leaves' first copies are free, so it still merges.
        s.nodes.push(node(
            500,
            true,
            keys[..10].iter().map(|k| elem(k, false, None)).collect(),
        ));
        s.nodes.push(node(
            501,
            true,
            keys[10..20].iter().map(|k| elem(k, false, None)).collect(),
        ));
        s.nodes.push(node(
            900,
            false,
            vec![elem(b"k0000", false, Some(500)), elem(b"k0010", false, Some(501))],
        ));
        names.push(elem(b"own", true, Some(900)));
        s.nodes.push(node(1000, true, names));
        for (i, n) in s.nodes.iter().enumerate() {
            s.by_page.insert(n.page, i);
        }
        let held: usize = s.nodes.iter().map(|n| n.elems.len()).sum();
        let m = Merged::of(&s, &HashSet::default());
        let copied: usize = m.by_page.values().map(|w| w.node.elems.len()).sum();
        assert!(!m.by_page.is_empty(), "the first branches merge");
        assert!(
            copied <= 2 * held + MERGE_ELEMS,
            "{copied} elements copied, the file holds {held}"
        );
        assert_eq!(m.by_page.len() + m.unmerged.len(), 41);
        assert_eq!(
            m.get(900).map(|n| n.elems.len()),
            Some(20),
            "a record of its own merges"
        );
        let left = m
            .unmerged
            .first()
            .expect("branches past the budget are kept as unmerged");
        assert_eq!(left.leaves, [10, 11]);
        assert!(
            left.why.contains("copied into other merged buckets already"),
            "{}",
            left.why
        );
    }
}
