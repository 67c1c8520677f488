//! Builds a bbolt image in memory from a tree of buckets, for the reader in this module to
//! read: the records coldctr derives from an OCI layout or an archive (see
//! `crate::source::import`) are laid out as containerd would store them, so every command
//! reads them through the same code as a real `meta.db`. Nothing here ever touches a file.
//!
//! ```text
//! page 0, 1   meta (txid 0 and 1, both valid, same root)
//! page 2      freelist, empty
//! page 3..    one leaf page per bucket (with overflow pages when it is long), children
//!             before parents; a bucket with more than LEAF_KEYS keys gets leaves under a
//!             branch page. Every nested bucket is a real (non-inline) bucket.
//! ```
//!
//! The layout is the one `page.rs` and `meta.rs` document; integers are little-endian.

use super::meta::{MAGIC, VERSION, fnv1a64};
use super::page::{BRANCH, BUCKET_LEAF_FLAG, ELEMENT_SIZE, FREELIST, HEADER_SIZE, LEAF, META};
use std::collections::BTreeMap;

const PAGE_SIZE: usize = 4096;
/// Keys per leaf page (the page header counts elements in a u16).
const LEAF_KEYS: usize = 1024;

/// A bucket: keys in byte order, each a value or a nested bucket (a key is never both).
#[derive(Clone, Debug, Default)]
pub struct Tree {
    values: BTreeMap<Vec<u8>, Vec<u8>>,
    buckets: BTreeMap<Vec<u8>, Tree>,
}

impl Tree {
    pub fn new() -> Tree {
        Tree::default()
    }

    /// The nested bucket at `path`, created (replacing a value of that name) as needed.
    pub fn bucket(&mut self, path: &[&[u8]]) -> &mut Tree {
        let mut at = self;
        for name in path {
            at.values.remove(*name);
            at = at.buckets.entry(name.to_vec()).or_default();
        }
        at
    }

    pub fn put(&mut self, key: &[u8], value: &[u8]) {
        self.buckets.remove(key);
        self.values.insert(key.to_vec(), value.to_vec());
    }
}

/// The bytes of a bbolt file whose root bucket is `root`, in 4 KiB pages.
pub fn build(root: &Tree) -> Vec<u8> {
    build_paged(root, PAGE_SIZE)
}

/// [`build`] in pages of `page_size` bytes (a power of two of at least 1 KiB, as bbolt takes
/// the OS page size: 16 or 64 KiB on some ARM64 kernels).
pub fn build_paged(root: &Tree, page_size: usize) -> Vec<u8> {
    // Test data only: a size bbolt would not take is a caller's mistake, and a zero one
    // would divide by zero below.
    let ps = if page_size.is_power_of_two() {
        page_size.max(1024)
    } else {
        4096
    };
    let mut out = vec![0u8; 3 * ps];
    let mut next = 3u64;
    let root_page = write_bucket(root, ps, &mut out, &mut next);
    let hwm = next;
    // Freelist page 2: no free pages.
    put_header(&mut out, 2 * ps, 2, FREELIST, 0, 0);
    for slot in 0..2u64 {
        let at = slot as usize * ps;
        put_header(&mut out, at, slot, META, 0, 0);
        let mut m = Vec::with_capacity(64);
        m.extend_from_slice(&MAGIC.to_le_bytes());
        m.extend_from_slice(&VERSION.to_le_bytes());
        m.extend_from_slice(&(ps as u32).to_le_bytes());
        m.extend_from_slice(&0u32.to_le_bytes());
        m.extend_from_slice(&root_page.to_le_bytes());
        m.extend_from_slice(&0u64.to_le_bytes());
        m.extend_from_slice(&2u64.to_le_bytes());
        m.extend_from_slice(&hwm.to_le_bytes());
        m.extend_from_slice(&slot.to_le_bytes());
        let sum = fnv1a64(&m);
        m.extend_from_slice(&sum.to_le_bytes());
        write_at(&mut out, at + HEADER_SIZE, &m);
    }
    out
}

/// Writes `tree` (its children first) and returns the page id of its root page.
fn write_bucket(tree: &Tree, ps: usize, out: &mut Vec<u8>, next: &mut u64) -> u64 {
    let mut elements: Vec<(u32, &[u8], Vec<u8>)> = Vec::with_capacity(tree.values.len() + tree.buckets.len());
    for (key, value) in &tree.values {
        elements.push((0, key, value.clone()));
    }
    for (key, child) in &tree.buckets {
        // A small bucket of values only lives inside its parent's page, as bbolt keeps it
        // (root 0, then a leaf page of its own): a page per label set would cost 4 KiB each.
        if let Some(inline) = inline_page(child, ps) {
            let mut value = vec![0u8; 16];
            value.extend_from_slice(&inline);
            elements.push((BUCKET_LEAF_FLAG, key, value));
            continue;
        }
        let page = write_bucket(child, ps, out, next);
        let mut header = page.to_le_bytes().to_vec();
        header.extend_from_slice(&0u64.to_le_bytes());
        elements.push((BUCKET_LEAF_FLAG, key, header));
    }
    // bbolt keeps a page's keys sorted: values and buckets interleave by key.
    elements.sort_by(|a, b| a.1.cmp(b.1));
    if elements.len() <= LEAF_KEYS {
        return write_leaf(&elements, ps, out, next);
    }
    let leaves: Vec<(&[u8], u64)> = elements
        .chunks(LEAF_KEYS)
        .filter_map(|chunk| Some((chunk.first()?.1, write_leaf(chunk, ps, out, next))))
        .collect();
    write_branch(&leaves, ps, out, next)
}

/// The leaf page of a bucket bbolt would keep inline (only values, a quarter page at most).
fn inline_page(tree: &Tree, ps: usize) -> Option<Vec<u8>> {
    if !tree.buckets.is_empty() {
        return None;
    }
    let size: usize = HEADER_SIZE
        + tree
            .values
            .iter()
            .map(|(k, v)| ELEMENT_SIZE + k.len() + v.len())
            .sum::<usize>();
    if size > ps / 4 {
        return None;
    }
    let elements: Vec<(u32, &[u8], Vec<u8>)> = tree.values.iter().map(|(k, v)| (0, k.as_slice(), v.clone())).collect();
    let mut page = leaf_bytes(&elements);
    put_header(&mut page, 0, 0, LEAF, elements.len() as u16, 0);
    Some(page)
}

/// A leaf page's bytes: header space, elements, then keys and values.
fn leaf_bytes(elements: &[(u32, &[u8], Vec<u8>)]) -> Vec<u8> {
    let mut page = vec![0u8; HEADER_SIZE + elements.len() * ELEMENT_SIZE];
    for (i, (flags, key, value)) in elements.iter().enumerate() {
        let element = HEADER_SIZE + i * ELEMENT_SIZE;
        let pos = (page.len() - element) as u32;
        let mut e = Vec::with_capacity(ELEMENT_SIZE);
        e.extend_from_slice(&flags.to_le_bytes());
        e.extend_from_slice(&pos.to_le_bytes());
        e.extend_from_slice(&(key.len() as u32).to_le_bytes());
        e.extend_from_slice(&(value.len() as u32).to_le_bytes());
        write_at(&mut page, element, &e);
        page.extend_from_slice(key);
        page.extend_from_slice(value);
    }
    page
}

fn write_leaf(elements: &[(u32, &[u8], Vec<u8>)], ps: usize, out: &mut Vec<u8>, next: &mut u64) -> u64 {
    append_page(leaf_bytes(elements), LEAF, elements.len() as u16, ps, out, next)
}

fn write_branch(children: &[(&[u8], u64)], ps: usize, out: &mut Vec<u8>, next: &mut u64) -> u64 {
    let mut page = vec![0u8; HEADER_SIZE + children.len() * ELEMENT_SIZE];
    for (i, (key, child)) in children.iter().enumerate() {
        let element = HEADER_SIZE + i * ELEMENT_SIZE;
        let pos = (page.len() - element) as u32;
        let mut e = Vec::with_capacity(ELEMENT_SIZE);
        e.extend_from_slice(&pos.to_le_bytes());
        e.extend_from_slice(&(key.len() as u32).to_le_bytes());
        e.extend_from_slice(&child.to_le_bytes());
        write_at(&mut page, element, &e);
        page.extend_from_slice(key);
    }
    append_page(page, BRANCH, children.len() as u16, ps, out, next)
}

/// Appends `page` (header space included) as page `next`, padded to whole pages.
fn append_page(mut page: Vec<u8>, flags: u16, count: u16, ps: usize, out: &mut Vec<u8>, next: &mut u64) -> u64 {
    let id = *next;
    let blocks = page.len().div_ceil(ps).max(1);
    page.resize(blocks * ps, 0);
    put_header(&mut page, 0, id, flags, count, (blocks - 1) as u32);
    out.extend_from_slice(&page);
    *next += blocks as u64;
    id
}

fn put_header(buf: &mut [u8], at: usize, id: u64, flags: u16, count: u16, overflow: u32) {
    let mut h = Vec::with_capacity(HEADER_SIZE);
    h.extend_from_slice(&id.to_le_bytes());
    h.extend_from_slice(&flags.to_le_bytes());
    h.extend_from_slice(&count.to_le_bytes());
    h.extend_from_slice(&overflow.to_le_bytes());
    write_at(buf, at, &h);
}

fn write_at(buf: &mut [u8], at: usize, bytes: &[u8]) {
    if let Some(dst) = buf.get_mut(at..at + bytes.len()) {
        dst.copy_from_slice(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bolt::{Db, MetaChoice};

    #[test]
    fn built_tree_reads_back() {
        let mut root = Tree::new();
        root.bucket(&[b"v1", b"default", b"images", b"a:1"]).put(b"k", b"v");
        let many = root.bucket(&[b"v1", b"many"]);
        for i in 0..3000u32 {
            many.put(format!("key{i:05}").as_bytes(), &vec![b'x'; (i % 7000) as usize]);
        }
        root.bucket(&[b"v1", b"big"])
            .put(b"huge", &vec![7u8; 3 * PAGE_SIZE + 5]);
        let db = Db::from_bytes("mem", build(&root)).unwrap();
        let tx = db.view(MetaChoice::Current).unwrap();
        let b = tx
            .bucket_at(&[b"v1".as_slice(), b"default", b"images", b"a:1"])
            .unwrap()
            .unwrap();
        assert_eq!(b.get(b"k").unwrap(), Some(b"v".as_slice()));
        let many = tx.bucket_at(&[b"v1".as_slice(), b"many"]).unwrap().unwrap();
        assert_eq!(many.get(b"key02999").unwrap().map(|v| v.len()), Some(2999));
        assert_eq!(many.get(b"key00000").unwrap().map(|v| v.len()), Some(0));
        let big = tx.bucket_at(&[b"v1".as_slice(), b"big"]).unwrap().unwrap();
        assert_eq!(big.get(b"huge").unwrap().map(|v| v.len()), Some(3 * PAGE_SIZE + 5));
        let findings = crate::bolt::check::check(&tx);
        assert!(findings.is_empty(), "{findings:?}");
    }
}
