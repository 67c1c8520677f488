//! One sequential pass over every page of a bbolt file, reachable or not, keeping each page
//! that parses as a branch or leaf node, and each inline bucket page inside a leaf value.
//!
//! ```text
//! page p at p * pageSize: id u64 (== p) | flags 0x01 or 0x02 | count u16 | overflow u32
//!   every element's key (and value) inside the logical page, keys non-empty and strictly
//!   ascending, key and value bytes adding up to no more than the page holds (bbolt writes
//!   them one after another, never overlapping), leaf element flags 0 or 0x01
//! leaf value of a bucket element: root u64 | sequence u64 [| inline leaf page when root == 0]
//! ```
//!
//! A page whose header claims another id is taken as the page at its position when a carved
//! parent points there: a parent's pointer means a position, and bbolt up to 1.3.6 reads a
//! node whose id field alone is wrong (containerd
//! 1.6.20 listed every image of such a file; 1.3.7 and later panic, "page N: expected to be
//! X", etcd-io/bbolt#705). Such pages are noted ([`Scan::misnumbered`]).
//!
//! Nothing here trusts a link: a branch child or a bucket root is only recorded as a number,
//! and the caller decides what to believe. Work is bounded by the file: each page start is
//! examined once; a node's checks read each byte of its logical page at most twice (keys and
//! values must follow one another, so compared keys never overlap); the pages a valid node's
//! overflow covers are skipped; and forged headers claiming overlapping overflow spans stop
//! being checked once the checks have read [`WORK_PER_BYTE`] times the file. Inline pages lie
//! inside their parent's value and nest at most [`MAX_DEPTH`] deep.

use crate::bolt::DataExtents;
use crate::bolt::MAX_DEPTH;
use crate::bolt::page::{BRANCH, BUCKET_LEAF_FLAG, ELEMENT_SIZE, HEADER_SIZE, LEAF};
use crate::bytes::{Bytes, Endian};

const BUCKET_HEADER_SIZE: usize = 16;

/// One element of a carved node.
#[derive(Clone, Debug)]
pub struct Elem<'a> {
    pub key: &'a [u8],
    /// The value (leaf) or nothing (branch).
    pub value: &'a [u8],
    /// A leaf element flagged as a nested bucket.
    pub bucket: bool,
    /// The page this element points at: a branch element's child, or a nested bucket's root
    /// page (not for an inline bucket).
    pub child: Option<u64>,
    /// The node index of the inline bucket page this element's value holds.
    pub inline: Option<usize>,
}

/// A page (or inline bucket page) that parses as a node.
#[derive(Clone, Debug)]
pub struct Node<'a> {
    /// The page id; for an inline page, the id of the page that holds it.
    pub page: u64,
    pub leaf: bool,
    pub overflow: u32,
    /// For an inline page: the node and element whose value holds it.
    pub parent: Option<(usize, usize)>,
    pub elems: Vec<Elem<'a>>,
}

impl<'a> Node<'a> {
    pub fn is_inline(&self) -> bool {
        self.parent.is_some()
    }

    /// The element with this key.
    pub fn get(&self, key: &[u8]) -> Option<&Elem<'a>> {
        self.elems.iter().find(|e| e.key == key)
    }
}

/// What one pass found.
#[derive(Default)]
pub struct Scan<'a> {
    pub nodes: Vec<Node<'a>>,
    /// Pages of the file (the file size over the page size).
    pub file_pages: u64,
    /// Node index of the page-level node at each page id that has one.
    pub by_page: foldhash::HashMap<u64, usize>,
    /// Pages whose header claims overflow pages but were left unchecked: checking them would
    /// have passed the work budget (see [`scan`]).
    pub unchecked: Vec<u64>,
    /// Nodes kept with fewer elements than their header counts (elements that do not parse,
    /// or a damaged count): the page, how many were kept, the count claimed.
    pub cut: Vec<(u64, usize, u16)>,
    /// Nodes whose header's id is not their position: the page (its position), the id it
    /// claims. Kept as the page at their position.
    pub misnumbered: Vec<(u64, u64)>,
}

/// How many times the file's length the page checks may read in all. A check reads at most
/// its logical page; pages without overflow are always checked (one file length in all), and
/// real overflow pages never overlap, so a bbolt-written file stays far below this. Only
/// headers forged to claim overlapping overflow spans, each failing at its end, meet it.
const WORK_PER_BYTE: u64 = 8;

/// Scans `file`, cut in pages of `page_size` bytes. Pages 0 and 1 (the metas) are skipped.
pub fn scan<'a>(file: &'a [u8], page_size: u32, endian: Endian, data: &DataExtents) -> Scan<'a> {
    let mut s = Scan::default();
    let ps = page_size as usize;
    if ps < HEADER_SIZE + ELEMENT_SIZE {
        return s;
    }
    let bytes = Bytes::new(file, endian);
    let file_pages = (file.len() / ps) as u64;
    s.file_pages = file_pages;
    let mut budget = (file.len() as u64).saturating_mul(WORK_PER_BYTE);
    let mut id = 2u64;
    while id < file_pages {
        // A page in a hole of a sparse file is zeros: no node, and not touched.
        let at = id.saturating_mul(ps as u64);
        match data.next_data(at) {
            None => break,
            Some(next) if next >= at.saturating_add(ps as u64) => {
                id = next / ps as u64;
                continue;
            }
            Some(_) => {}
        }
        let step = carve_at(&mut s, &bytes, id, ps, endian, &mut budget, false);
        id = id.saturating_add(step);
    }
    // A node whose header names another page is taken at its position only where a carved
    // parent's pointer names that position (review: taken wherever it parsed, old value bytes
    // on a free page of a sound file were carved as a node and called damage). Each page is
    // tried once; what the nodes taken point at is tried in turn.
    let mut todo: Vec<u64> = s
        .nodes
        .iter()
        .flat_map(|n| n.elems.iter().filter_map(|e| e.child))
        .collect();
    let mut tried = foldhash::HashSet::default();
    while let Some(id) = todo.pop() {
        if id < 2 || id >= file_pages || s.by_page.contains_key(&id) || !tried.insert(id) {
            continue;
        }
        let before = s.nodes.len();
        carve_at(&mut s, &bytes, id, ps, endian, &mut budget, true);
        if let Some(new) = s.nodes.get(before..) {
            todo.extend(new.iter().flat_map(|n| n.elems.iter().filter_map(|e| e.child)));
        }
    }
    s
}

/// Carves the node at page `id` when one parses there (its header's id must be `id` unless
/// `misnumbered` is allowed: a parent points at it); the pages to step over.
fn carve_at<'a>(
    s: &mut Scan<'a>,
    bytes: &Bytes<'a>,
    id: u64,
    ps: usize,
    endian: Endian,
    budget: &mut u64,
    misnumbered: bool,
) -> u64 {
    let file_pages = s.file_pages;
    match page_node(bytes, id, ps, file_pages) {
        // Misnumbered, a page is taken only where a parent points, and only when the id it
        // claims is one of the file's pages (a torn or stray id field; eight bytes of old
        // text are none).
        Some((_, _, _, _, claimed)) if claimed != id && (!misnumbered || claimed < 2 || claimed >= file_pages) => 1,
        Some((_, _, _, overflow, _)) if overflow > 0 && *budget < ps as u64 * (u64::from(overflow) + 1) => {
            s.unchecked.push(id);
            1
        }
        Some((data, flags, count, overflow, claimed)) => {
            *budget = budget.saturating_sub(data.len() as u64);
            let before = s.nodes.len();
            if parse(s, data, flags, count, id, overflow, None, 0, file_pages, endian).is_some() {
                if claimed != id {
                    s.misnumbered.push((id, claimed));
                }
                s.by_page.insert(id, before);
                u64::from(overflow) + 1
            } else {
                s.nodes.truncate(before);
                1
            }
        }
        None => 1,
    }
}

/// The logical page at `id` when its header claims a branch or leaf page whose overflow stays
/// inside the file: (bytes, flags, count, overflow, the id its header claims). The claimed id
/// is not required to be `id`: the node's own checks ([`parse`]) decide whether it is one.
fn page_node<'a>(file: &Bytes<'a>, id: u64, ps: usize, file_pages: u64) -> Option<(Bytes<'a>, u16, u16, u32, u64)> {
    let off = usize::try_from(id).ok()?.checked_mul(ps)?;
    let h = file.sub(off, HEADER_SIZE)?;
    let (hid, flags, count, overflow) = (h.u64_at(0)?, h.u16_at(8)?, h.u16_at(10)?, h.u32_at(12)?);
    if flags != LEAF && flags != BRANCH {
        return None;
    }
    if id.checked_add(u64::from(overflow))? >= file_pages {
        return None;
    }
    let len = (overflow as usize).checked_add(1)?.checked_mul(ps)?;
    Some((file.sub(off, len)?, flags, count, overflow, hid))
}

/// Parses a node held in `data` and, for a leaf, the inline pages in its values; pushes them
/// to `s.nodes` (this node first) and returns this node's index, or `None` (with nothing
/// kept of this node: the caller truncates) when anything does not fit.
#[allow(clippy::too_many_arguments)]
fn parse<'a>(
    s: &mut Scan<'a>,
    data: Bytes<'a>,
    flags: u16,
    count: u16,
    page: u64,
    overflow: u32,
    parent: Option<(usize, usize)>,
    depth: usize,
    file_pages: u64,
    endian: Endian,
) -> Option<usize> {
    let leaf = flags == LEAF;
    if !leaf && (flags != BRANCH || count == 0) {
        return None;
    }
    // How many elements the array holds: the header's count when the first element's key
    // starts right after that many (bbolt writes keys right after the array); else, a count
    // that is damaged, as many as the first key's place says (then only a part is claimed).
    let fits = |n: usize| {
        HEADER_SIZE
            .checked_add(ELEMENT_SIZE.checked_mul(n)?)
            .filter(|&end| end <= data.len())
    };
    let first_pos = data.u32_at(HEADER_SIZE + if leaf { 4 } else { 0 }).map(|p| p as usize);
    let claimed = usize::from(count);
    // (No more than a count can say: the place is a u32 of the page, and a forged one over a
    // sparse run would ask for billions of elements.)
    let n = match first_pos {
        Some(p) if p == ELEMENT_SIZE * claimed && fits(claimed).is_some() => claimed,
        Some(p)
            if p % ELEMENT_SIZE == 0
                && p >= ELEMENT_SIZE
                && p / ELEMENT_SIZE <= usize::from(u16::MAX)
                && fits(p / ELEMENT_SIZE).is_some() =>
        {
            p / ELEMENT_SIZE
        }
        _ => claimed,
    };
    let array_end = fits(n)?;
    let room = data.len().checked_sub(array_end)?;
    let mut used = 0usize;
    let mut data_end = array_end;
    let mut elems = Vec::with_capacity(n);
    let mut prev: Option<&[u8]> = None;
    // An element that does not parse as bbolt writes it is passed over, the others kept (each
    // header has its place in the array, and its key's place is its own): one damaged element
    // does not lose the page's others (sweep 23: a salvage lost 23 image names for one key
    // size). A node with as many such elements as good ones, or more, is no node.
    let mut bad = 0usize;
    for i in 0..n {
        let off = HEADER_SIZE + ELEMENT_SIZE * i;
        let (before_used, before_end) = (used, data_end);
        let elem = element(data, off, leaf, &mut used, room, &mut data_end, file_pages, endian)
            // Keys in strictly increasing order. An empty key (bbolt's Put refuses one, its
            // reader takes it, and so does ours) only first, where it sorts, and only a
            // bucket's, whose value must hold a bucket header: a plain element whose key size
            // was zeroed would read its key as part of its value, and its record be lost
            // unsaid instead of named as damage.
            .filter(|e| match prev {
                None => e.bucket || !e.key.is_empty(),
                Some(p) => p < e.key,
            });
        let Some(elem) = elem else {
            (used, data_end) = (before_used, before_end);
            bad += 1;
            continue;
        };
        prev = Some(elem.key);
        elems.push(elem);
    }
    if n > 0 && (elems.is_empty() || bad >= elems.len()) {
        return None;
    }
    if elems.len() != claimed {
        s.cut.push((page, elems.len(), count));
    }
    let me = s.nodes.len();
    s.nodes.push(Node {
        page,
        leaf,
        overflow,
        parent,
        elems,
    });
    if depth + 1 >= MAX_DEPTH {
        return Some(me);
    }
    // Inline bucket pages: a bucket value with root 0 followed by a leaf page.
    for i in 0..n {
        let Some(value) = s
            .nodes
            .get(me)
            .and_then(|node| node.elems.get(i))
            .filter(|e| e.bucket && e.child.is_none())
            .map(|e| e.value)
        else {
            continue;
        };
        let v = Bytes::new(value, endian);
        let Some(inner) = v.sub(BUCKET_HEADER_SIZE, value.len().saturating_sub(BUCKET_HEADER_SIZE)) else {
            continue;
        };
        let (Some(iflags), Some(icount), Some(ioverflow)) = (inner.u16_at(8), inner.u16_at(10), inner.u32_at(12))
        else {
            continue;
        };
        if iflags != LEAF || ioverflow != 0 {
            continue;
        }
        let before = s.nodes.len();
        match parse(
            s,
            inner,
            iflags,
            icount,
            page,
            0,
            Some((me, i)),
            depth + 1,
            file_pages,
            endian,
        ) {
            Some(idx) => {
                if let Some(e) = s.nodes.get_mut(me).and_then(|node| node.elems.get_mut(i)) {
                    e.inline = Some(idx);
                }
            }
            None => s.nodes.truncate(before),
        }
    }
    Some(me)
}

/// The element at `off` as bbolt writes it, checked against what the elements before it used
/// (`used` bytes of keys and values, the last ending at `data_end`); `None` when it is not.
#[allow(
    clippy::too_many_arguments,
    reason = "the element walk's state, split out of its loop"
)]
fn element<'a>(
    data: Bytes<'a>,
    off: usize,
    leaf: bool,
    used: &mut usize,
    room: usize,
    data_end: &mut usize,
    file_pages: u64,
    endian: Endian,
) -> Option<Elem<'a>> {
    let e = data.sub(off, ELEMENT_SIZE)?;
    if leaf {
        let (eflags, pos, ksize, vsize) = (e.u32_at(0)?, e.u32_at(4)?, e.u32_at(8)?, e.u32_at(12)?);
        if eflags & !BUCKET_LEAF_FLAG != 0 {
            return None;
        }
        let now = used.checked_add(ksize as usize)?.checked_add(vsize as usize)?;
        if now > room {
            return None;
        }
        let k = off.checked_add(pos as usize)?;
        // bbolt writes keys and values one after another, in element order, after the
        // element array: anything else was not written by it.
        if k < *data_end {
            return None;
        }
        let end = k.checked_add(ksize as usize)?.checked_add(vsize as usize)?;
        let key = data.slice(k, ksize as usize)?;
        let value = data.slice(k.checked_add(ksize as usize)?, vsize as usize)?;
        let bucket = eflags & BUCKET_LEAF_FLAG != 0;
        let child = if bucket {
            let v = Bytes::new(value, endian);
            let root = v.u64_at(0)?;
            v.u64_at(8)?;
            if root != 0 && (root < 2 || root >= file_pages) {
                return None;
            }
            (root != 0).then_some(root)
        } else {
            None
        };
        (*used, *data_end) = (now, end);
        Some(Elem {
            key,
            value,
            bucket,
            child,
            inline: None,
        })
    } else {
        let (pos, ksize, child) = (e.u32_at(0)?, e.u32_at(4)?, e.u64_at(8)?);
        let now = used.checked_add(ksize as usize)?;
        if now > room || child < 2 || child >= file_pages {
            return None;
        }
        let k = off.checked_add(pos as usize)?;
        if k < *data_end {
            return None;
        }
        let end = k.checked_add(ksize as usize)?;
        let key = data.slice(k, ksize as usize)?;
        (*used, *data_end) = (now, end);
        Some(Elem {
            key,
            value: &[],
            bucket: false,
            child: Some(child),
            inline: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(id: u64, flags: u16, count: u16, overflow: u32) -> Vec<u8> {
        let mut h = id.to_le_bytes().to_vec();
        h.extend(flags.to_le_bytes());
        h.extend(count.to_le_bytes());
        h.extend(overflow.to_le_bytes());
        h
    }

    /// One leaf element (flags, key, value) written as bbolt writes it, on a page of its own.
    fn leaf_page(id: u64, key: &[u8], value: &[u8], flags: u32, pos: u32) -> Vec<u8> {
        let mut p = header(id, LEAF, 1, 0);
        for v in [flags, pos, key.len() as u32, value.len() as u32] {
            p.extend(v.to_le_bytes());
        }
        p.extend(key);
        p.extend(value);
        p.resize(4096, 0);
        p
    }

    #[test]
    fn forged_overflow_spans_stop_being_checked_but_plain_pages_do_not() {
        let pages = 64u64;
        let mut file = vec![0u8; 2 * 4096];
        for id in 2..pages - 1 {
            // Claims every page up to the end, and its one element has a flag bbolt never writes.
            let mut p = header(id, LEAF, 1, (pages - 1 - id) as u32);
            p.extend(2u32.to_le_bytes());
            p.resize(4096, 0);
            file.extend(p);
        }
        file.extend(leaf_page(pages - 1, b"k", b"v", 0, 16));
        let s = scan(&file, 4096, Endian::Little, &DataExtents::whole());
        assert!(!s.unchecked.is_empty());
        // Each unchecked page is one the budget could not afford; the last page still parses.
        assert_eq!(s.by_page.keys().copied().collect::<Vec<_>>(), [pages - 1]);
        assert_eq!(s.nodes[0].elems[0].key, b"k");
    }

    /// A node whose header claims another id is the page at its position, and noted, when a
    /// carved parent points there; one nothing points at is no node (old bytes on a free page
    /// of a sound file, review of f57e7ca).
    #[test]
    fn a_node_whose_header_names_another_page_is_kept_where_a_parent_points() {
        let mut file = vec![0u8; 2 * 4096];
        // Page 2: a bucket whose root is page 3.
        let mut root = 3u64.to_le_bytes().to_vec();
        root.extend(0u64.to_le_bytes());
        file.extend(leaf_page(2, b"b", &root, 1, 16));
        // Page 3 claims to be page 4; page 5 claims 9 and nothing points at it.
        file.extend(leaf_page(4, b"m", b"w", 0, 16));
        file.extend(leaf_page(4, b"x", b"y", 0, 16));
        file.extend(leaf_page(9, b"k", b"v", 0, 16));
        // Page 7 claims an id no page of the file has (old text), where page 6 points: no node.
        let mut root = 7u64.to_le_bytes().to_vec();
        root.extend(0u64.to_le_bytes());
        file.extend(leaf_page(6, b"c", &root, 1, 16));
        file.extend(leaf_page(u64::from_le_bytes(*b"{\"a\":\"xx"), b"q", b"r", 0, 16));
        let s = scan(&file, 4096, Endian::Little, &DataExtents::whole());
        assert!(s.by_page.contains_key(&6));
        assert!(!s.by_page.contains_key(&7));
        assert_eq!(s.nodes[s.by_page[&3]].elems[0].key, b"m");
        assert_eq!(s.nodes[s.by_page[&4]].elems[0].key, b"x");
        assert!(!s.by_page.contains_key(&5));
        assert_eq!(s.misnumbered, [(3, 4)]);
    }

    #[test]
    fn keys_must_follow_the_element_array_in_order() {
        let mut file = vec![0u8; 2 * 4096];
        // pos 16: the key starts right after the one element (16 + 16 = 32 into the page).
        file.extend(leaf_page(2, b"k", b"v", 0, 16));
        // pos 0: the key would be the element itself, overlapping the array.
        file.extend(leaf_page(3, b"k", b"v", 0, 0));
        // A bucket flag whose value is too short for a bucket header.
        file.extend(leaf_page(4, b"k", b"v", BUCKET_LEAF_FLAG, 16));
        let s = scan(&file, 4096, Endian::Little, &DataExtents::whole());
        assert_eq!(s.by_page.keys().copied().collect::<Vec<_>>(), [2]);
        assert_eq!(
            (s.nodes[0].elems[0].key, s.nodes[0].elems[0].value),
            (&b"k"[..], &b"v"[..])
        );
    }

    /// An empty key, which bbolt's Put refuses and its reader (and ours) takes, is carved where
    /// it sorts, first, when it names a bucket (sweep 39, F5: a namespace with an empty name
    /// was carved as a cut page, and its records said not live). A second one after it is not
    /// in order; a plain element's empty key is what a zeroed key size leaves, damage said.
    #[test]
    fn an_empty_bucket_key_is_carved_first_only() {
        // Each element's value: a bucket header (root page 4, sequence 0) when flagged.
        let page = |id: u64, keys: &[(&[u8], bool)]| {
            let mut p = header(id, LEAF, keys.len() as u16, 0);
            let mut at = 16 * keys.len();
            for (i, (k, bucket)) in keys.iter().enumerate() {
                let flags = if *bucket { BUCKET_LEAF_FLAG } else { 0 };
                for v in [flags, (at - 16 * i) as u32, k.len() as u32, 16] {
                    p.extend(v.to_le_bytes());
                }
                at += k.len() + 16;
            }
            for (k, _) in keys {
                p.extend(*k);
                p.extend(4u64.to_le_bytes());
                p.extend(0u64.to_le_bytes());
            }
            p.resize(4096, 0);
            p
        };
        let mut file = vec![0u8; 2 * 4096];
        file.extend(page(2, &[(b"", true), (b"k", true), (b"m", false)]));
        file.extend(page(3, &[(b"k", true), (b"", true), (b"m", false)]));
        file.extend(page(4, &[(b"", false), (b"k", false), (b"m", false)]));
        let s = scan(&file, 4096, Endian::Little, &DataExtents::whole());
        let keys_of = |page: u64| -> Vec<&[u8]> { s.nodes[s.by_page[&page]].elems.iter().map(|e| e.key).collect() };
        assert_eq!(keys_of(2), [&b""[..], b"k", b"m"]);
        assert_eq!(keys_of(3), [&b"k"[..], b"m"]);
        assert_eq!(keys_of(4), [&b"k"[..], b"m"]);
        assert_eq!(s.cut, [(3, 2, 3), (4, 2, 3)]);
    }

    /// A leaf of five elements written as bbolt writes it, then one element's key size made
    /// 0xffff, then (another copy) its count made 0xffff: the other elements are carved, and
    /// the page is said to be cut (sweep 23: the whole page was lost, and with it the names of
    /// 23 images the tree still read).
    #[test]
    fn one_damaged_element_or_count_loses_only_itself() {
        let keys: [&[u8]; 5] = [b"a", b"b", b"c", b"d", b"e"];
        let leaf = |id: u64| {
            let mut p = header(id, LEAF, 5, 0);
            let mut at = 16 * 5;
            for (i, k) in keys.iter().enumerate() {
                // Each element's pos counts from its own header.
                let pos = (at - 16 * i) as u32;
                for v in [0u32, pos, k.len() as u32, 1] {
                    p.extend(v.to_le_bytes());
                }
                at += k.len() + 1;
            }
            for k in keys {
                p.extend(k);
                p.push(b'v');
            }
            p.resize(4096, 0);
            p
        };
        let mut file = vec![0u8; 2 * 4096];
        let mut bad_key = leaf(2);
        // Element 2's key size.
        bad_key[16 + 16 * 2 + 8..16 + 16 * 2 + 12].copy_from_slice(&0xffffu32.to_le_bytes());
        file.extend(bad_key);
        let mut bad_count = leaf(3);
        bad_count[10..12].copy_from_slice(&0xffffu16.to_le_bytes());
        file.extend(bad_count);
        let s = scan(&file, 4096, Endian::Little, &DataExtents::whole());
        let keys_of = |page: u64| -> Vec<&[u8]> { s.nodes[s.by_page[&page]].elems.iter().map(|e| e.key).collect() };
        assert_eq!(keys_of(2), [&b"a"[..], b"b", b"d", b"e"]);
        assert_eq!(keys_of(3), keys);
        assert_eq!(s.cut, [(2, 4, 5), (3, 5, 0xffff)]);
    }
}
