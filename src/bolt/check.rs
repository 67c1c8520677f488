//! A whole-file audit: what `bbolt check` verifies, reported as findings instead of stopping
//! at the first problem.
//!
//! 1. Every id in the persisted freelist appears once, and is one a free page can have (not a
//!    meta page, below the high-water mark: [`freelist_stray`]).
//! 2. From the root bucket, every reachable page (and each of its overflow ids) is below the
//!    high-water mark, referenced once, not free, and a branch or leaf page.
//! 3. Keys ascend strictly within each page, and every key of a child lies between its
//!    branch key and the next one.
//! 4. Every page id below the high-water mark is reachable or free (only meaningful when the
//!    freelist is persisted: a NoFreelistSync file's free pages are by definition the
//!    unreachable ones).
//!
//! bbolt checks ids with `> hwm`; an id equal to the high-water mark is outside the view just
//! as well, so we report `>= hwm`.

use super::page::{Page, type_name};
use super::{Bucket, Tx};
use crate::bytes::Bytes;
use foldhash::{HashMap, HashSet};
use std::collections::BTreeMap;

/// One problem found by [`check`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// The page the finding is about, when there is one.
    pub page: Option<u64>,
    pub message: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.page {
            // A read error names its page already (`meta.db: page 67 (offset ...)`).
            Some(p) if !self.message.contains(&format!("page {p} (offset")) => write!(f, "page {p}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

/// Which pages a view uses, as found by walking it.
pub struct Usage {
    /// Reachable page id -> the page that referenced it (itself for 0, 1 and the freelist).
    pub reachable: HashMap<u64, u64>,
    /// Free page ids: from the freelist, or, without one, every unreachable id below hwm.
    pub free: BTreeMap<u64, ()>,
    pub findings: Vec<Finding>,
}

/// Walks everything reachable from `tx` and audits it.
pub fn check(tx: &Tx<'_>) -> Vec<Finding> {
    usage(tx).findings
}

/// The view's high-water mark (its meta page's `pgid`) past the end of the file: the pages
/// from the file's end up to it, which the view counts as its own, are missing (a cut file, or
/// a damaged meta). A finding on the meta page whether or not anything reachable lies there:
/// `check` (and so `verify` and `recover`) reports it, and so does every command that reads
/// the view's records ([`view_damage`]), with this message.
pub fn hwm_past_end(tx: &Tx<'_>) -> Option<Finding> {
    let db = tx.db();
    let hwm = tx.hwm();
    let file_pages = db.file_size() / u64::from(db.page_size());
    (hwm > file_pages).then(|| Finding {
        page: Some(u64::from(tx.meta().slot)),
        message: format!(
            "high-water mark {hwm} is past the end of the file ({file_pages} pages); pages {file_pages} and up are missing"
        ),
    })
}

/// The view's meta page stores a checksum of 0, read as bbolt 1.3.6 and older read it
/// ([`super::MetaFault::ZeroChecksum`]): containerd 1.7 and later refuse the file. Located
/// at the checksum field.
pub fn zero_checksum(tx: &Tx<'_>) -> Option<super::BoltError> {
    let meta = tx.meta();
    let fault = meta.fault.as_ref()?;
    let slot = u64::from(meta.slot);
    let offset = meta.offset.saturating_add(super::meta::CHECKSUM_OFF as u64);
    Some(
        tx.db()
            .corrupt(slot, offset, format!("meta page {slot} in use: {fault}")),
    )
}

/// What keeps bbolt from opening the view, as damage for every command that reads its records
/// (`gc`, `du`, `meta-diff`, the listings, `ps`, `inspect`), as `verify` says it:
/// - [`zero_checksum`]: the view's meta is one only bbolt 1.3.6 and older read;
/// - [`hwm_past_end`], with its message, located at the meta page's `pgid`;
/// - a persisted freelist that is not a freelist page, or lists more ids than it holds (bbolt's
///   `freelist.read` panics on the first, so containerd cannot start on such a file, though
///   every record may still be readable), or lists ids no free page can have
///   ([`freelist_stray`]). One page read; the ids themselves are not collected.
pub fn view_damage(tx: &Tx<'_>) -> Vec<super::BoltError> {
    let mut out = Vec::new();
    out.extend(zero_checksum(tx));
    if let Some(f) = hwm_past_end(tx) {
        let slot = u64::from(tx.meta().slot);
        let offset = slot
            .saturating_mul(u64::from(tx.db().page_size()))
            .saturating_add(super::meta::PGID_OFF as u64);
        out.push(tx.db().corrupt(slot, offset, f.message));
    }
    if tx.meta().persists_freelist() {
        match tx.page(tx.meta().freelist).and_then(|p| p.freelist_extent().map(|_| p)) {
            Err(mut e) => {
                // Say what it means for the node: the records may all read, but the daemon is down.
                if let super::BoltError::Corrupt { what, .. } = &mut e {
                    what.push_str(" (bbolt cannot open the file with this freelist: containerd will not start)");
                }
                out.push(e);
            }
            Ok(page) => out.extend(freelist_stray(tx, &page)),
        }
    }
    out
}

/// A freelist id no page may have: a meta page (0, 1) or one at or past the high-water mark.
/// bbolt 1.3.6 reads such a list without a word and hands its ids out as free pages; the
/// write given one panics (`pgid (3735879680) above high water mark (144)`, or `invalid page
/// allocation: 1`), and containerd writes as it starts (sweep 43: 1.6.20 did not start while
/// every reader here exited 0). Named at the first such id, with how many there are; the
/// page's ids are read in place, as many as its extent in the file holds.
pub fn freelist_stray(tx: &Tx<'_>, page: &Page<'_>) -> Option<super::BoltError> {
    let (start, count) = page.freelist_extent().ok()?;
    let hwm = tx.hwm();
    let stray = |id: u64| id < 2 || id >= hwm;
    // `count` fits the page (`freelist_extent`): the loop is bounded by the bytes read.
    let ids = (0..count).map_while(|i| {
        let at = usize::try_from(i).ok()?.checked_mul(8)?.checked_add(start)?;
        Some((at, page.data.u64_at(at)?))
    });
    let mut first = None;
    let mut n = 0u64;
    for (at, id) in ids.filter(|&(_, id)| stray(id)) {
        first.get_or_insert((at, id));
        n += 1;
    }
    let (at, id) = first?;
    let what = if id < 2 {
        format!("page {id} as free, a meta page")
    } else {
        format!("page {id} ({id:#x}) as free, at or past the high-water mark {hwm}")
    };
    let more = match n {
        1 => String::new(),
        n => format!(" (and {} more such ids)", n - 1),
    };
    Some(page.corrupt(
        at,
        format!(
            "the freelist lists {what}{more}: bbolt hands it out to a write, which panics (containerd will not start)"
        ),
    ))
}

/// The reachability walk shared by `check` and the page listing.
pub fn usage(tx: &Tx<'_>) -> Usage {
    let mut w = Walk {
        tx: *tx,
        reachable: HashMap::default(),
        free: BTreeMap::new(),
        inline_seen: HashSet::default(),
        findings: Vec::new(),
        todo: Vec::new(),
    };
    let db = tx.db();
    let other = 1 - tx.meta().slot;
    if let Some(fault) = db.metas().get(usize::from(other)).and_then(|m| m.fault.as_ref()) {
        w.findings.push(Finding {
            page: Some(u64::from(other)),
            message: format!("meta page {other} is invalid ({fault})"),
        });
    }
    if let Some(e) = zero_checksum(tx) {
        w.find(u64::from(tx.meta().slot), e.to_string());
    }
    w.reachable.insert(0, 0);
    w.reachable.insert(1, 1);
    // The high-water mark comes from the file: a damaged (or forged, but checksummed) meta can
    // claim up to 2^64 pages. Only ids that exist in the file are scanned one by one; the rest
    // are reported once.
    let file_pages = db.file_size() / u64::from(db.page_size());
    let scan_end = tx.hwm().min(file_pages);
    w.findings.extend(hwm_past_end(tx));
    let persisted = tx.meta().persists_freelist();
    if persisted {
        let id = tx.meta().freelist;
        match tx.page(id).and_then(|p| p.freelist_ids().map(|ids| (p, ids))) {
            Ok((page, ids)) => {
                for i in id..=id + u64::from(page.overflow) {
                    w.reachable.insert(i, i);
                }
                if let Some(e) = freelist_stray(tx, &page) {
                    w.find(id, e.to_string());
                }
                for free in ids {
                    if w.free.insert(free, ()).is_some() {
                        w.find(free, "already freed (listed twice in the freelist)");
                    }
                }
            }
            Err(e) => w.findings.push(Finding {
                page: Some(id),
                message: format!("freelist unreadable: {e}"),
            }),
        }
    }
    w.run(tx.meta().root);
    // The pages below the high-water mark one by one, but those in holes of a sparse file (a
    // forged meta can claim 2^30 pages of a file stretched for nothing). A page of zeros is a
    // hole in a sparse copy (`cp --sparse=always` on small blocks): one the tree reaches (an
    // overflow page of zeros) or the freelist lists is no finding; the others of a run are
    // said once, or, without a persisted freelist, are free as bbolt would take them, up to
    // a bound.
    let (runs, holes) = db.data().page_runs(u64::from(db.page_size()), 2, scan_end);
    // Only a file with holes needs them sorted (most have none).
    let mut known: Vec<u64> = Vec::new();
    if !holes.is_empty() {
        known.extend(w.reachable.keys().copied());
        if persisted {
            known.extend(w.free.keys().copied());
        }
        known.sort_unstable();
        known.dedup();
    }
    let mut hole_free = 0u64;
    for (from, to) in holes {
        let inside = known.partition_point(|&k| k < to) - known.partition_point(|&k| k < from);
        let unexplained = (to - from).saturating_sub(inside as u64);
        if unexplained == 0 {
            continue;
        }
        if !persisted && hole_free.saturating_add(unexplained) <= MAX_HOLE_FREE {
            hole_free += unexplained;
            for id in (from..to).filter(|id| !w.reachable.contains_key(id)) {
                w.free.insert(id, ());
            }
            continue;
        }
        w.findings.push(Finding {
            page: Some(from),
            message: format!(
                "pages {from} to {} below the high-water mark lie in a hole of the file (no data on disk): {unexplained} of them neither reached nor freed",
                to - 1
            ),
        });
    }
    let ids = || runs.iter().flat_map(|&(from, to)| from..to);
    if persisted {
        for id in ids() {
            if !w.reachable.contains_key(&id) && !w.free.contains_key(&id) {
                w.find(id, "unreachable unfreed");
            }
        }
    } else {
        for id in ids() {
            if !w.reachable.contains_key(&id) {
                w.free.insert(id, ());
            }
        }
    }
    Usage {
        reachable: w.reachable,
        free: w.free,
        findings: w.findings,
    }
}

/// The most pages of holes a file without a persisted freelist has counted as free, one entry
/// each (a forged meta can claim 2^30 pages of a file stretched for nothing).
const MAX_HOLE_FREE: u64 = 1 << 20;

struct Walk<'a> {
    tx: Tx<'a>,
    reachable: HashMap<u64, u64>,
    free: BTreeMap<u64, ()>,
    /// File offsets of the inline bucket pages audited so far. Inline pages own no page ids,
    /// so `reachable` cannot stop a damaged leaf whose elements all point at one nested
    /// inline bucket (and its elements at one inner bucket, and so on): without this set the
    /// audit is exponential in the nesting depth.
    inline_seen: HashSet<u64>,
    findings: Vec<Finding>,
    /// What is left to audit, the next on top: an explicit stack, not recursion, so that a
    /// sound file whose buckets nest thousands deep is audited whole, as bbolt's `tx.Check`
    /// does (sweep 42: a 64-level cut reported it as findings). Each page is entered once
    /// (`reachable`) and each inline page once (`inline_seen`), so the walk ends however the
    /// tree is nested.
    todo: Vec<Task<'a>>,
}

/// A part of the tree the audit has still to walk.
enum Task<'a> {
    /// Page `id`, reached from `parent`, whose keys must lie in [min, max).
    Page {
        id: u64,
        parent: u64,
        min: Option<&'a [u8]>,
        max: Option<&'a [u8]>,
    },
    /// The nested bucket whose header is `value`, an element of page `page`.
    Bucket {
        page: u64,
        value: &'a [u8],
        value_offset: u64,
    },
}

impl<'a> Walk<'a> {
    fn find(&mut self, page: u64, message: impl Into<String>) {
        self.findings.push(Finding {
            page: Some(page),
            message: message.into(),
        });
    }

    /// Audits the tree whose root is page `root`, depth-first in key order.
    fn run(&mut self, root: u64) {
        self.todo.push(Task::Page {
            id: root,
            parent: root,
            min: None,
            max: None,
        });
        while let Some(task) = self.todo.pop() {
            match task {
                Task::Page { id, parent, min, max } => self.page(id, parent, min, max),
                Task::Bucket {
                    page,
                    value,
                    value_offset,
                } => self.bucket(page, value, value_offset),
            }
        }
    }

    /// Audits page `id`, reached from `parent`, whose keys must lie in [min, max).
    fn page(&mut self, id: u64, parent: u64, min: Option<&'a [u8]>, max: Option<&'a [u8]>) {
        let hwm = self.tx.hwm();
        if id >= hwm {
            self.find(
                id,
                format!("out of bounds: high-water mark is {hwm} (referenced from page {parent})"),
            );
            return;
        }
        if let Some(&first) = self.reachable.get(&id) {
            self.find(id, format!("multiple references (from page {first} and page {parent})"));
            return;
        }
        let page = match self.tx.page(id) {
            Ok(p) => p,
            Err(e) => {
                self.reachable.insert(id, parent);
                self.find(id, format!("unreadable (referenced from page {parent}): {e}"));
                return;
            }
        };
        for i in id..=id + u64::from(page.overflow) {
            if let Some(&first) = self.reachable.get(&i) {
                self.find(i, format!("multiple references (from page {first} and page {parent})"));
            }
            self.reachable.insert(i, parent);
            if self.free.contains_key(&i) {
                self.find(i, "reachable freed");
            }
        }
        if !page.is_branch() && !page.is_leaf() {
            self.find(id, format!("invalid type: {}", type_name(page.flags)));
            return;
        }
        if let Err(e) = page.expect_node() {
            self.find(id, e.to_string());
            return;
        }
        self.node(&page, min, max);
    }

    /// Key order of a branch or leaf page (real or inline), then its children queued, to be
    /// audited next in key order.
    fn node(&mut self, page: &Page<'a>, min: Option<&'a [u8]>, max: Option<&'a [u8]>) {
        let mut keys: Vec<&'a [u8]> = Vec::new();
        for i in 0..usize::from(page.count) {
            match page.key(i) {
                Ok(k) => keys.push(k),
                Err(e) => {
                    self.find(page.id, e.to_string());
                    return;
                }
            }
        }
        for (i, pair) in keys.windows(2).enumerate() {
            if let [a, b] = pair
                && a >= b
            {
                self.find(page.id, format!("key {} is not greater than the key before it", i + 1));
            }
        }
        if let (Some(min), Some(first)) = (min, keys.first())
            && *first < min
        {
            self.find(page.id, "first key is smaller than its branch key in the parent");
        }
        if let (Some(max), Some(last)) = (max, keys.last())
            && *last >= max
        {
            self.find(
                page.id,
                "last key is not smaller than the next branch key in the parent",
            );
        }
        // Pushed last to first: the first child is on top.
        if page.is_branch() {
            for i in (0..keys.len()).rev() {
                let Ok(b) = page.branch(i) else { continue };
                let next = keys.get(i + 1).copied().or(max);
                self.todo.push(Task::Page {
                    id: b.child,
                    parent: page.id,
                    min: keys.get(i).copied(),
                    max: next,
                });
            }
            return;
        }
        for i in (0..keys.len()).rev() {
            let Ok(e) = page.leaf(i) else { continue };
            if !e.is_bucket() {
                continue;
            }
            self.todo.push(Task::Bucket {
                page: page.id,
                value: e.value,
                value_offset: e.value_offset,
            });
        }
    }

    /// A nested bucket whose header is `value`, on page `page`: its root page, or its inline
    /// page's buckets.
    fn bucket(&mut self, page: u64, value: &'a [u8], value_offset: u64) {
        let v = Bytes::new(value, self.tx.db().endian());
        let Some(root) = v.u64_at(0) else {
            self.find(
                page,
                format!(
                    "bucket header at offset {value_offset} is {} bytes, needs 16",
                    value.len()
                ),
            );
            return;
        };
        if root != 0 {
            // The leaf's other nested buckets come next: read their roots ahead when memory
            // is tight (a no-op otherwise).
            self.tx.opening_bucket_on(page);
            self.page(root, page, None, None);
            return;
        }
        // Inline buckets own no pages; bbolt skips them. Their leaf can still be damaged.
        let item = super::Item {
            key: &[],
            value,
            is_bucket: true,
            page,
            value_offset,
        };
        // At depth 0: the audit bounds its own walk, not the readers' recursion bound.
        let host = Bucket::paged(self.tx, 0, 0, 0);
        match host.open_item(&item) {
            Err(e) => self.find(page, e.to_string()),
            Ok(b) => {
                if let Ok(inline) = b.inline_page() {
                    if !self.inline_seen.insert(inline.offset) {
                        self.find(
                            page,
                            format!(
                                "inline bucket at offset {} reached a second time (elements share a value)",
                                inline.offset
                            ),
                        );
                    } else if let Err(e) = inline.expect_node() {
                        self.find(page, e.to_string());
                    } else {
                        self.node(&inline, None, None);
                    }
                }
            }
        }
    }
}
