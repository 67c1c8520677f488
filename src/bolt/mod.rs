//! A read-only, lock-free reader of bbolt files (containerd's `meta.db`, the snapshotters'
//! `metadata.db`), built for damaged evidence.
//!
//! ```text
//!  file: | meta 0 | meta 1 | page 2 | page 3 | ... | page hwm-1 | zero pages up to file size
//!                     |
//!                     +-- root bucket header: root pgid ---> branch/leaf tree of
//!                         top-level bucket names; a leaf element flagged 0x01 holds a
//!                         nested bucket header (root pgid | sequence), root 0 = inline:
//!                         a fake leaf page follows the header inside the value
//! ```
//!
//! The reader opens the file `O_RDONLY`, takes no lock, never writes, maps it with `memmap2`
//! (or reads it, see [`ReadMode`]) and touches only the pages a question needs: a lookup reads
//! the pages on one root-to-leaf path. Every number from the file is bounds-checked before
//! use; every descent is depth-limited and cycle-checked; errors name the file, page and
//! offset. See `bbolt-format.md` in the project's reference notes for the byte layout.

mod bucket;
pub mod build;
pub mod check;
pub mod commits;
mod error;
mod frugal;
pub mod holders;
pub mod meta;
pub mod page;
pub mod pages;
mod shards;
mod slots;
mod source;
pub mod walk;

pub use bucket::{Bucket, Cursor, Entry, Item, Visited};
pub use error::{BoltError, Result};
pub use meta::{Meta, MetaChoice, MetaFault};
pub use page::Page;
pub use source::{DataExtents, ReadMode, Source, open_read_only};

use crate::bytes::{Bytes, Endian};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Deepest chain of branch pages or nested buckets we follow. Real trees are a few levels
/// deep; a damaged branch that points back at itself must end in an error, not a stack
/// overflow.
pub const MAX_DEPTH: usize = 64;

/// The smallest element a page can hold (a header), for bounding what a page can list.
const ELEMENT_MIN: usize = page::ELEMENT_SIZE;

/// How much of a lazily read file is read to find the meta pages (two pages of 64 KiB).
const META_PREFIX: usize = 128 << 10;

/// Bytes of a page read first when pages are read as asked for ([`Tx::page`]).
const PREFIX: usize = 512;

/// An open bbolt file.
pub struct Db {
    path: Arc<Path>,
    source: Source,
    /// Where the file has data on disk: an overflow run in a hole of a sparse file is no
    /// page (a forged header can claim 2^32 overflow pages of a file stretched for nothing).
    data: DataExtents,
    endian: Endian,
    page_size: u32,
    metas: [Meta; 2],
    current: u8,
    pages_read: shards::Tally,
    /// Per meta slot, which bucket header (by its offset in the file) each bucket root page
    /// was opened from (see [`Tx::claim_root`]).
    owners: [std::sync::OnceLock<Owners>; 2],
    /// Per meta slot, which bucket (by its root page's offset) each page below a root was
    /// first reached from (see [`Tx::claim_page`]).
    page_owners: [std::sync::OnceLock<Owners>; 2],
    /// Pages whose keys were found strictly increasing (see [`Tx::check_order`]).
    ordered: std::sync::OnceLock<slots::PageSlots>,
    /// Per page, the branch element (page and index) it was last found within the key range
    /// of (see [`Tx::range_slot`]).
    ranged: std::sync::OnceLock<slots::PageSlots>,
}

/// Who holds a page that a bucket is about to take as its own ([`Tx::claim_root`],
/// [`Tx::claim_page`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Owner {
    /// The page is the root of the bucket whose header is at this offset in the file (a
    /// meta page's offset plus 32 for the top-level bucket).
    Root(u64),
    /// The page lies below the root of the bucket whose root page is this one (for an inline
    /// bucket, which has no page below its root, the offset of its page).
    Below(u64),
}

/// Per page of the file, the offset plus one of the bucket header its bucket was first opened
/// from (0: none yet): one slot per page of the file's first [`MAX_OWNED_PAGES`] (sized by the
/// file, not by a number in it), claimed without a lock by the workers that open buckets; the
/// pages after those (a file over 16 GiB of 4 KiB pages, or a sparse one of small pages) in a
/// map that holds only the pages claimed, so no page goes unguarded.
struct Owners {
    /// Pages in the file: a page past its end is not claimed.
    pages: u64,
    dense: slots::PageSlots,
    beyond: std::sync::Mutex<foldhash::HashMap<u64, u64>>,
}

/// At most four of `items`, spread over them: the first, the last and two between.
pub(crate) fn spread<T>(items: &[T]) -> impl Iterator<Item = &T> {
    let n = items.len();
    let mut at = [0, n / 4, n / 2, n.saturating_sub(1)];
    at.sort_unstable();
    let mut last = None;
    at.into_iter()
        .filter(move |&i| last.replace(i) != Some(i))
        .filter_map(move |i| items.get(i))
}

/// Whole pages of holes an overflow run may hold before it is taken for forged (see the page
/// read): 256 KiB of zeros inside one node.
const MAX_HOLE_PAGES: u64 = 64;

/// Pages whose owner is kept in the table of one slot per page (32 MiB of it per view).
const MAX_OWNED_PAGES: u64 = 1 << 22;

impl Db {
    /// Opens `path` read-only, without a lock, and finds its meta pages.
    pub fn open(path: impl AsRef<Path>, mode: ReadMode) -> Result<Db> {
        Db::open_following(path.as_ref(), mode, true)
    }

    /// [`Db::open`] of a file of the evidence that was looked at first (a root's meta.db, a
    /// snapshotter's metadata.db): each of its opens (the file, its holes, the metas read again
    /// at the end) refuses a symlink, so one swapped in while we read is not followed out of
    /// the root (sweep 27).
    pub fn open_no_follow(path: impl AsRef<Path>, mode: ReadMode) -> Result<Db> {
        Db::open_following(path.as_ref(), mode, false)
    }

    fn open_following(path: &Path, mode: ReadMode, follow: bool) -> Result<Db> {
        let source = Source::open_following(path, mode, follow).map_err(|source| BoltError::Io {
            path: PathBuf::from(path),
            source,
        })?;
        let in_memory = matches!(source, Source::Owned(_));
        let mut db = Db::from_source(Arc::from(path), source)?;
        db.data = DataExtents::of_file(path, follow);
        commits::opened(path, &db.metas, db.page_size, db.endian, in_memory, follow);
        Ok(db)
    }

    /// Reads a bbolt image held in memory; `name` stands for the file in errors.
    pub fn from_bytes(name: impl AsRef<Path>, data: Vec<u8>) -> Result<Db> {
        Db::from_source(Arc::from(name.as_ref()), Source::Owned(data))
    }

    fn from_source(path: Arc<Path>, source: Source) -> Result<Db> {
        // Both meta pages lie in the first two pages; a file read lazily is read further only
        // when they are not found there (a damaged meta 0, a page size above 64 KiB), and no
        // further than `locate` looks.
        let located = match &source {
            Source::Lazy(_) => {
                let head = source.range(0, source.len().min(META_PREFIX)).unwrap_or_default();
                match meta::locate(head) {
                    Ok(m) if (m.page_size as usize).saturating_mul(2) <= head.len() => Ok(m),
                    _ => meta::locate(
                        source
                            .range(0, source.len().min(source::META_SEARCH))
                            .unwrap_or_default(),
                    ),
                }
            }
            _ => meta::locate(source.bytes()),
        };
        let metas = match located {
            Ok(m) => m,
            Err(pair) => {
                let (m0, m1) = *pair;
                let why = |m: &Meta| m.fault.as_ref().map(|f| f.to_string()).unwrap_or_default();
                return Err(BoltError::NoValidMeta {
                    meta0: why(&m0),
                    meta1: why(&m1),
                    path,
                });
            }
        };
        // `locate` returned Ok, so at least one meta validates.
        let current = meta::select_current(&metas.metas).unwrap_or(0);
        Ok(Db {
            path,
            source,
            data: DataExtents::whole(),
            endian: metas.endian,
            page_size: metas.page_size,
            metas: metas.metas,
            current,
            pages_read: shards::Tally::default(),
            owners: Default::default(),
            page_owners: Default::default(),
            ordered: Default::default(),
            ranged: Default::default(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where the file has data on disk (all of it for a file in memory, or one whose
    /// filesystem cannot say).
    pub fn data(&self) -> &DataExtents {
        &self.data
    }

    pub fn page_size(&self) -> u32 {
        self.page_size
    }

    pub fn endian(&self) -> Endian {
        self.endian
    }

    pub fn file_size(&self) -> u64 {
        self.source.len() as u64
    }

    /// Every byte of the file (read in full first when pages are read as asked for).
    pub(crate) fn file(&self) -> &[u8] {
        self.source.bytes()
    }

    /// `len` bytes at `offset`, or `None` past the end of the file.
    fn range(&self, offset: usize, len: usize) -> Option<&[u8]> {
        self.source.range(offset, len)
    }

    /// Both meta pages as decoded, valid or not.
    pub fn metas(&self) -> &[Meta; 2] {
        &self.metas
    }

    /// The slot of the meta bbolt would use.
    pub fn current_slot(&self) -> u8 {
        self.current
    }

    /// The meta page not in use.
    fn other_meta(&self) -> &Meta {
        let [m0, m1] = &self.metas;
        if self.current == 0 { m1 } else { m0 }
    }

    /// True when the other meta page is invalid, so the one in use may not hold the last
    /// commit: bbolt writes both at creation (a backup's copy too) and one at each commit, so
    /// a file it wrote never has an invalid meta page unless the last commit was torn or the
    /// page was damaged since. Its txid, when still legible, may say it was the newer; a zeroed
    /// page says nothing (sweep 30.4: read silently as the last commit). Which txids the two
    /// valid pages hold is no test: a backup (`Tx.WriteTo`) puts the current one on page 0
    /// whatever its parity, and a commit to the restored copy leaves them two apart.
    pub fn fell_back(&self) -> bool {
        self.other_meta().fault.is_some()
    }

    /// What every reader says when [`Db::fell_back`]: the file, and that the records read may
    /// be the previous transaction's; `None` otherwise.
    pub fn fell_back_note(&self) -> Option<String> {
        let other = self.other_meta();
        let fault = other.fault.as_ref()?;
        let current = if self.current == 0 {
            &self.metas[0]
        } else {
            &self.metas[1]
        };
        Some(if other.txid > current.txid {
            format!(
                "{}: the newer meta page is invalid; reading the previous transaction (meta page {})",
                self.path().display(),
                self.current_slot()
            )
        } else {
            format!(
                "{}: meta page {} is invalid ({fault}); reading meta page {} (txid {}), which may not be the last commit",
                self.path().display(),
                other.slot,
                self.current_slot(),
                current.txid
            )
        })
    }

    /// True when the memory limit is small next to the file (see `frugal.rs`): many
    /// lookups scattered over the file then cost a read from the disk each, and one walk in
    /// order is the cheaper way to answer them.
    pub fn reads_frugally(&self) -> bool {
        self.source.is_frugal()
    }

    /// True when pages are read as they are asked for (`pread`), not mapped.
    pub fn reads_lazily(&self) -> bool {
        self.source.is_lazy()
    }

    /// How many pages lookups and walks have read so far (for tests of laziness).
    pub fn pages_read(&self) -> u64 {
        self.pages_read.total()
    }

    /// A read view through the chosen meta page.
    pub fn view(&self, choice: MetaChoice) -> Result<Tx<'_>> {
        let slot = match choice {
            MetaChoice::Current => self.current,
            MetaChoice::Previous => 1 - self.current,
            MetaChoice::Slot(s) => s.min(1),
        };
        let [m0, m1] = &self.metas;
        let meta = if slot == 0 { m0 } else { m1 };
        // A stored checksum of 0 is read as bbolt 1.3.6 reads it; `check::view_damage` says it.
        if let Some(fault) = meta.fault.as_ref().filter(|_| !meta.is_readable()) {
            return Err(BoltError::MetaUnusable {
                path: self.path.clone(),
                slot,
                why: fault.to_string(),
            });
        }
        Ok(Tx { db: self, meta })
    }

    pub(crate) fn corrupt(&self, page: u64, offset: u64, what: impl Into<String>) -> BoltError {
        BoltError::Corrupt {
            path: self.path.clone(),
            page,
            offset,
            what: what.into(),
        }
    }
}

/// A consistent view of the file through one meta page.
#[derive(Clone, Copy)]
pub struct Tx<'a> {
    db: &'a Db,
    meta: &'a Meta,
}

impl<'a> Tx<'a> {
    pub fn db(&self) -> &'a Db {
        self.db
    }

    pub fn meta(&self) -> &'a Meta {
        self.meta
    }

    /// The high-water mark: page ids at or above it are not part of this view.
    pub fn hwm(&self) -> u64 {
        self.meta.pgid
    }

    /// The page with id `id`, checked against the high-water mark and the file's end, with
    /// its header's own id checked against its position (bbolt's `FastCheck`).
    pub fn page(&self, id: u64) -> Result<Page<'a>> {
        self.page_read_first(id, PREFIX)
    }

    /// [`Tx::page`] for a page a branch page points to: a node of a bucket that outgrew one
    /// page, which bbolt splits when a node passes its page size (half full when filled in
    /// order), so, when pages are read as asked for, the whole page is read at once rather
    /// than its start and then the rest (one `pread` instead of two for each of the ~300 leaves
    /// a scan of 5,000 image records walks before it reads one record).
    pub fn node_page(&self, id: u64) -> Result<Page<'a>> {
        self.page_read_first(id, usize::MAX)
    }

    /// [`Tx::page`], reading the first `prefix` bytes of the page first when pages are read
    /// as asked for.
    fn page_read_first(&self, id: u64, prefix: usize) -> Result<Page<'a>> {
        let ps = u64::from(self.db.page_size);
        let offset = id.saturating_mul(ps);
        if id >= self.hwm() {
            return Err(self
                .db
                .corrupt(id, offset, format!("page id beyond the high-water mark {}", self.hwm())));
        }
        let start = usize::try_from(offset).ok();
        // The whole first page at once, or, at the end of a cut file, at least the header.
        // Read page by page, only its start first: a lookup reads thousands of small nodes
        // (an image record's page holds ~300 bytes), and every byte read is also a byte of
        // fresh memory cleared and copied into.
        let lazy = self.db.source.is_lazy();
        let first = if lazy { prefix.min(ps as usize) } else { ps as usize };
        let header = start
            .and_then(|o| self.db.range(o, first).or_else(|| self.db.range(o, page::HEADER_SIZE)))
            .map(|h| Bytes::new(h, self.db.endian))
            .ok_or_else(|| {
                self.db.corrupt(
                    id,
                    offset,
                    format!("page lies past the end of the file ({} bytes)", self.db.file_size()),
                )
            })?;
        // `sub` returned HEADER_SIZE bytes: these reads cannot fail.
        let header_id = header.u64_at(0).unwrap_or(0);
        let flags = header.u16_at(8).unwrap_or(0);
        let count = header.u16_at(10).unwrap_or(0);
        let overflow = header.u32_at(12).unwrap_or(0);
        if header_id != id {
            return Err(self
                .db
                .corrupt(id, offset, format!("page header says it is page {header_id}")));
        }
        let last = id.checked_add(u64::from(overflow));
        if last.is_none_or(|l| l >= self.hwm()) {
            return Err(self.db.corrupt(
                id,
                offset,
                format!("{overflow} overflow pages run past the high-water mark {}", self.hwm()),
            ));
        }
        // A run mostly of whole pages in holes is forged (a sparse copy's holes inside a run
        // are a page's zero tail, or a value's rare zero pages): read as asked for, it would be
        // read into memory whole (a leaf claiming 2^20 overflow pages over holes was 4 GB of
        // zeros for one `inspect`).
        if overflow > 0
            && !self
                .db
                .data
                .covers(offset, (u64::from(overflow) + 1).saturating_mul(ps))
        {
            // (Pages past the file's end are no holes: the read below says the run is cut.)
            let end = id
                .saturating_add(u64::from(overflow) + 1)
                .min(self.db.file_size() / ps.max(1));
            let (_, holes) = self.db.data.page_runs(ps, id, end);
            let hole_pages: u64 = holes.iter().map(|&(from, to)| to - from).sum();
            if hole_pages > MAX_HOLE_PAGES && hole_pages.saturating_mul(2) > u64::from(overflow) + 1 {
                return Err(self.db.corrupt(
                    id,
                    offset,
                    format!("{hole_pages} of its {overflow} overflow pages lie in holes of the file (no data on disk)"),
                ));
            }
        }
        // A freelist's ids are all data (every id is 2 or more): listed in a hole of a sparse
        // file, they are a forged count of zeros (2^29 overflow pages of a file stretched for
        // nothing were 2.7e11 ids). Other pages' work is bounded by their element count, and a
        // hole inside them is zeros they may hold (a sparse copy: `cp --sparse=always`).
        if flags == page::FREELIST && overflow > 0 {
            let (start, n) = match count {
                0xFFFF => (
                    page::HEADER_SIZE as u64 + 8,
                    header.u64_at(page::HEADER_SIZE).unwrap_or(u64::MAX),
                ),
                n => (page::HEADER_SIZE as u64, u64::from(n)),
            };
            let run = (u64::from(overflow) + 1).saturating_mul(ps);
            let used = start.saturating_add(n.saturating_mul(8)).min(run);
            if !self.db.data.covers(offset, used) {
                return Err(self.db.corrupt(
                    id,
                    offset,
                    format!("its freelist ids lie in a hole of the file (no data on disk) within its {overflow} overflow pages"),
                ));
            }
        }
        let mut len = (u64::from(overflow) + 1) * ps;
        // (Only for a page wholly inside the file: a cut page is reported as before.)
        if lazy
            && header.len() == first
            && offset.saturating_add(ps) <= self.db.file_size()
            && overflow == 0
            && (flags == page::LEAF || flags == page::BRANCH)
            && page::used_extent(&header, flags, count).is_some_and(|used| used <= header.len())
        {
            // Every element lies in what was read: the rest of the page is never looked at.
            len = header.len() as u64;
        }
        let data = usize::try_from(len)
            .ok()
            .zip(start)
            .and_then(|(l, o)| self.db.range(o, l))
            .map(|d| Bytes::new(d, self.db.endian))
            .ok_or_else(|| {
                self.db.corrupt(
                    id,
                    offset,
                    format!(
                        "page with {overflow} overflow pages runs past the end of the file ({} bytes)",
                        self.db.file_size()
                    ),
                )
            })?;
        // Read twice (its start, then whole): a file that changed in between is reported,
        // not read as a mix of two pages.
        if data.len() != header.len()
            && (data.u64_at(0) != Some(header_id)
                || data.u16_at(8) != Some(flags)
                || data.u16_at(10) != Some(count)
                || data.u32_at(12) != Some(overflow))
        {
            return Err(self
                .db
                .corrupt(id, offset, "page header changed between two reads of it"));
        }
        self.db.pages_read.add(1);
        let page = Page {
            db: self.db,
            id,
            flags,
            count,
            overflow,
            data,
            offset,
            inline: false,
        };
        if page.is_branch() && self.db.source.first_expansion(offset) {
            self.read_ahead(&page);
        }
        Ok(page)
    }

    /// Leaf page `id` read into `buf` and not kept, when pages are read as asked for
    /// (`ReadMode::Pread`) and every element of the leaf lies in `buf`'s length; `None`
    /// otherwise, and the caller reads the page through [`Tx::page`], which also says what is
    /// wrong with it. The checks are [`Tx::page`]'s.
    pub(crate) fn held_leaf<'b>(&self, id: u64, buf: &'b mut [u8]) -> Option<Page<'b>>
    where
        'a: 'b,
    {
        if !self.db.source.is_lazy() {
            return None;
        }
        let ps = u64::from(self.db.page_size);
        let offset = id.checked_mul(ps)?;
        let len = buf.len().min(usize::try_from(ps).ok()?);
        if id >= self.hwm() || offset.checked_add(ps)? > self.db.file_size() {
            return None;
        }
        let buf = buf.get_mut(..len)?;
        // A page read and kept before is used as kept: one view never sees two versions of a
        // page of a file that is still being written.
        let at = usize::try_from(offset).ok()?;
        if self.db.source.has_run(at, len) || !self.db.source.read_transient(buf, at) {
            return None;
        }
        let data = Bytes::new(buf, self.db.endian);
        let (flags, count) = (data.u16_at(8)?, data.u16_at(10)?);
        if data.u64_at(0)? != id
            || flags != page::LEAF
            || data.u32_at(12)? != 0
            || page::used_extent(&data, flags, count).is_none_or(|used| used > len)
        {
            return None;
        }
        self.db.pages_read.add(1);
        Some(Page {
            db: self.db,
            id,
            flags,
            count,
            overflow: 0,
            data,
            offset,
            inline: false,
        })
    }

    /// A nested bucket on leaf page `id` is being opened: when memory is tight and this is
    /// the first time, start reading the roots of all the leaf's nested buckets (a walk opens
    /// them one after another; see `frugal.rs`).
    pub(crate) fn opening_bucket_on(&self, id: u64) {
        let offset = id.saturating_mul(u64::from(self.db.page_size));
        if self.db.source.first_expansion(offset)
            && let Ok(page) = self.page(id)
            && page.is_leaf()
        {
            self.read_ahead(&page);
        }
    }

    /// Starts reading pages `first..=last` and `tail` pages past the last (where its overflow
    /// or its nested buckets often lie), when memory is tight (see `frugal.rs`) or pages are
    /// read as asked for; a no-op otherwise. Clamped to the high-water mark.
    fn read_ahead_pages(&self, first: u64, last: u64, tail: u64) {
        let end = last.saturating_add(tail).saturating_add(1).min(self.hwm());
        if first < end {
            let ps = u64::from(self.db.page_size);
            let len = (end - first).saturating_mul(ps);
            self.db
                .source
                .prefetch(first.saturating_mul(ps), usize::try_from(len).unwrap_or(usize::MAX));
        }
    }

    /// Starts reading pages `ids` (the roots of the records a scan reads next), when pages
    /// are read as asked for and a sample of them is not in the page cache; a no-op on a
    /// warm file (a few `preadv2` calls that read nothing) and on a map.
    ///
    /// Why: a scan's workers each wait for one page at a time, so a cold scan of a
    /// namespace's records is one request to the device per record, three in flight. Asked
    /// for together, the device serves them side by side: one `inspect` of a 5,000-image
    /// store after `drop_caches` spent most of its 0.2 s waiting on those reads.
    pub(crate) fn prefetch_if_cold(&self, mut ids: Vec<u64>) {
        if !self.is_cold(&ids) {
            return;
        }
        let hwm = self.hwm();
        ids.retain(|&id| id > 1 && id < hwm);
        ids.sort_unstable();
        ids.dedup();
        self.read_ahead_runs(ids, 1, 0);
    }

    /// True when pages are read as asked for and one of a sample of pages `ids` (the first,
    /// the last and two between) is not in the page cache.
    pub(crate) fn is_cold(&self, ids: &[u64]) -> bool {
        if !self.db.source.is_lazy() {
            return false;
        }
        let ps = u64::from(self.db.page_size);
        spread(ids).any(|&id| self.db.source.would_wait(id.saturating_mul(ps)) == Some(true))
    }

    /// Starts reading the pages a walk through `page` visits next: a branch's children, a
    /// leaf's nested bucket roots (when memory is tight, see `frugal.rs`).
    fn read_ahead(&self, page: &Page<'a>) {
        // At most a page's worth of elements: bounded by the page, not by a count in it.
        let mut ids = Vec::with_capacity(usize::from(page.count).min(self.db.page_size as usize / ELEMENT_MIN));
        for i in 0..usize::from(page.count) {
            if page.is_branch() {
                if let Ok(e) = page.branch(i) {
                    ids.push(e.child);
                }
            } else if page.is_leaf()
                && let Ok(e) = page.leaf(i)
                && e.is_bucket()
                && let Some(root) = e.value.get(..8).and_then(|b| <[u8; 8]>::try_from(b).ok())
            {
                ids.push(match self.db.endian {
                    crate::bytes::Endian::Little => u64::from_le_bytes(root),
                    crate::bytes::Endian::Big => u64::from_be_bytes(root),
                });
            }
        }
        ids.retain(|&id| id > 1 && id < self.hwm());
        ids.sort_unstable();
        ids.dedup();
        // Neighbouring pages as one read: a tree written in order reads in long runs.
        self.read_ahead_runs(ids, 1, 0);
    }

    /// Starts reading `pages` (ascending) as few runs: a page at most `join` pages past the
    /// previous one is read in its run (1: neighbours only), and each run reads `tail` pages
    /// past its last, never past the high-water mark ([`Tx::read_ahead_pages`]).
    pub(crate) fn read_ahead_runs(&self, pages: impl IntoIterator<Item = u64>, join: u64, tail: u64) {
        let mut run: Option<(u64, u64)> = None;
        for page in pages {
            run = match run {
                Some((first, last)) if page <= last.saturating_add(join) => Some((first, page.max(last))),
                Some((first, last)) => {
                    self.read_ahead_pages(first, last, tail);
                    Some((page, page))
                }
                None => Some((page, page)),
            };
        }
        if let Some((first, last)) = run {
            self.read_ahead_pages(first, last, tail);
        }
    }

    /// The root bucket: its keys are the top-level bucket names. Its root page counts as
    /// claimed by the meta page from the start ([`Tx::owners`]), so that a branch of a nested
    /// bucket pointing back at it is damage ([`Tx::claim_page`]) like one pointing at any
    /// other enclosing bucket's page.
    pub fn root(&self) -> Bucket<'a> {
        Bucket::paged(*self, self.meta.root, self.meta.sequence, 0)
    }

    /// Where the top-level bucket's header lies: in the meta page, after the page header
    /// (16 bytes) and magic, version, page size and flags (16 more).
    pub(crate) fn root_header(&self) -> u64 {
        self.meta.offset.saturating_add(32)
    }

    /// What an [`Owner`] is, for a message: "the root of the top-level bucket (meta page 0)",
    /// "the root of the bucket whose header is at offset 81234", "a page below bucket root 5".
    pub(crate) fn owner_name(&self, owner: Owner) -> String {
        match owner {
            Owner::Root(h) => match self.db.metas.iter().find(|m| m.offset.saturating_add(32) == h) {
                Some(m) => format!("the root page of the top-level bucket (meta page {})", m.slot),
                None => format!("the root page of the bucket whose header is at offset {h}"),
            },
            Owner::Below(b) => format!("a page below bucket root {b}"),
        }
    }

    /// Checks that the keys of node `page` strictly increase, as bbolt writes them and as a
    /// binary search needs them: on a page that is out of order or repeats a key, a lookup
    /// misses keys a cursor yields. Each page (not an inline one, which has no id of its own)
    /// is checked once per file: the engine reads the same pages very many times (each
    /// lookup of `inspect` of 10,000 images passes the same branches). A cursor checks the
    /// keys as it meets them instead ([`Tx::mark_ordered`]), for no second pass.
    pub fn check_order(&self, page: &Page<'a>) -> Result<()> {
        if self.is_ordered(page) {
            return Ok(());
        }
        let mut previous: Option<&[u8]> = None;
        for i in 0..usize::from(page.count) {
            // A damaged element is the cursor's or the search's to report where it is met;
            // the keys around it are still compared.
            let Ok(key) = page.key(i) else { continue };
            if let Some(p) = previous
                && p >= key
            {
                return Err(page.out_of_order(i, p == key));
            }
            previous = Some(key);
        }
        self.mark_ordered(page);
        Ok(())
    }

    /// True when `page`'s keys were found in order before (never for an inline page).
    pub(crate) fn is_ordered(&self, page: &Page<'a>) -> bool {
        !page.inline
            && self
                .ordered_bit(page.id)
                .is_some_and(|(word, mask)| word.load(Ordering::Relaxed) & mask != 0)
    }

    /// Records that `page`'s keys were all met in order (nothing for an inline page).
    pub(crate) fn mark_ordered(&self, page: &Page<'a>) {
        if !page.inline
            && let Some((word, mask)) = self.ordered_bit(page.id)
            && word.load(Ordering::Relaxed) & mask == 0
        {
            word.fetch_or(mask, Ordering::Relaxed);
        }
    }

    /// Where to remember that page `child` holds keys within the range of element `i` of
    /// branch page `parent`, and the mark that says so: a lookup checks it at every descent
    /// (`Bucket::check_range`), and `images` makes tens of lookups per image through the same
    /// few branches, which cost it 5% more instructions unremembered. The mark names the
    /// element, not only the child: another element leading to the same page is checked
    /// afresh. One slot per page of the file, like [`Tx::ordered_bit`]; `None` past those (or
    /// for a parent id too large to pack), and the check is made each time.
    pub(crate) fn range_slot(&self, child: u64, parent: u64, i: usize) -> Option<(&'a AtomicU64, u64)> {
        if parent >= 1 << 47 {
            return None;
        }
        let mark = ((parent << 16) | u64::try_from(i).ok().filter(|&i| i <= 0xffff)?) + 1;
        let slots = self.db.ranged.get_or_init(|| {
            let pages = (self.db.file_size() / u64::from(self.db.page_size.max(1))).min(MAX_OWNED_PAGES);
            slots::PageSlots::zeroed(usize::try_from(pages).unwrap_or(0))
        });
        Some((slots.get(usize::try_from(child).ok()?)?, mark))
    }

    /// The word and bit that say page `id`'s keys are in order: one bit per page of the file
    /// (sized by the file, not by a number in it) up to [`MAX_OWNED_PAGES`]; `None` after
    /// those, whose pages are checked each time.
    fn ordered_bit(&self, id: u64) -> Option<(&'a AtomicU64, u64)> {
        let words = self.db.ordered.get_or_init(|| {
            let pages = (self.db.file_size() / u64::from(self.db.page_size.max(1))).min(MAX_OWNED_PAGES);
            slots::PageSlots::zeroed(usize::try_from(pages.div_ceil(64)).unwrap_or(0))
        });
        let word = words.get(usize::try_from(id / 64).ok()?)?;
        Some((word, 1u64 << (id % 64)))
    }

    /// Records that bucket root page `root` is opened from the header at `header` (its offset
    /// in the file); the header that opened it first when that is another one. In a tree
    /// bbolt wrote, every page belongs to one bucket: two headers naming one root are damage,
    /// and a crafted file could use them to make a small file cost a reader without end
    /// (thousands of records whose `labels` are all one page of thousands of labels).
    ///
    /// A root page that a bucket already reached below its own root is damage too (a page of
    /// two buckets, which one the file meant cannot be told).
    pub(crate) fn claim_root(&self, root: u64, header: u64) -> Option<Owner> {
        // Opened from this header before: checked then, and since then no bucket can have
        // claimed it below its root (that claim sees this one and fails). The common case:
        // a lookup from the top opens the same few buckets once per record.
        if self.owner(&self.db.owners, root) == Some(header) {
            return None;
        }
        if let Some(bucket) = self.owner(&self.db.page_owners, root) {
            return Some(Owner::Below(bucket));
        }
        self.claim(&self.db.owners, root, header).map(Owner::Root)
    }

    /// Records that page `child`, below a bucket's root, is reached from the bucket whose
    /// root is at offset `bucket`; the bucket that reached it first when that is another
    /// one. Like [`Tx::claim_root`] for the pages below: branch pages of many records that
    /// all list one set of leaves would make each leaf cost as many walks as records.
    ///
    /// A page that is the root of a bucket is no page below another one's root: this is what
    /// makes a branch that points back at an enclosing bucket damage, whichever way it is
    /// read. Every bucket enclosing this one was opened first, and opening it claimed its root
    /// (the top-level bucket's by [`Tx::root`]), and every page on the path down to this
    /// bucket's header was claimed below one of them by the descent that found the header:
    /// so the pages of the enclosing buckets on that path are all known before this bucket
    /// reads a page, and a cursor or a lookup that reaches one is told whose it is. (A page of
    /// an unrelated bucket is caught only when that bucket was read first in the same run.)
    /// `own_root`, the bucket's own root page, is left to the walk's own checks (a cycle) and
    /// not claimed: marked as below a root, it would make the next opening of its own bucket
    /// look like damage.
    pub(crate) fn claim_page(&self, child: u64, bucket: u64, own_root: u64) -> Option<Owner> {
        if child == own_root {
            return None;
        }
        // Reached from this bucket before: checked then, as above.
        if self.owner(&self.db.page_owners, child) == Some(bucket) {
            return None;
        }
        if let Some(header) = self.owner(&self.db.owners, child) {
            return Some(Owner::Root(header));
        }
        self.claim(&self.db.page_owners, child, bucket).map(Owner::Below)
    }

    /// This view's half of `table`, made on first use. The table of roots starts with the
    /// top-level bucket's root claimed by the meta page's header ([`Tx::root_header`]):
    /// nothing can claim it before, every other claim comes from a bucket opened through it.
    fn owners(&self, table: &'a [std::sync::OnceLock<Owners>; 2]) -> Option<&'a Owners> {
        let slot = usize::from(std::ptr::eq(self.meta, &self.db.metas[1]));
        let roots = std::ptr::eq(table, &self.db.owners);
        Some(table.get(slot)?.get_or_init(|| {
            let pages = self.db.file_size() / u64::from(self.db.page_size.max(1));
            // Dense up to the high-water mark (no page of the tree lies past it; a claim past it
            // goes to `beyond`): a sparse tail of terabytes made this table its largest size.
            let dense = pages.min(self.meta.pgid.max(2)).min(MAX_OWNED_PAGES);
            let owners = Owners {
                pages,
                dense: slots::PageSlots::zeroed(usize::try_from(dense).unwrap_or(0)),
                beyond: Default::default(),
            };
            let root = self.meta.root;
            if roots && root < pages {
                let mark = self.root_header().saturating_add(1);
                match usize::try_from(root).ok().and_then(|r| owners.dense.get(r)) {
                    Some(slot) => slot.store(mark, Ordering::Relaxed),
                    None => {
                        if let Ok(mut beyond) = owners.beyond.lock() {
                            beyond.insert(root, mark);
                        }
                    }
                }
            }
            owners
        }))
    }

    /// Who claimed page `id` in `table`, claiming nothing.
    fn owner(&self, table: &'a [std::sync::OnceLock<Owners>; 2], id: u64) -> Option<u64> {
        let owners = self.owners(table)?;
        if id >= owners.pages {
            return None;
        }
        let mark = match owners.dense.get(usize::try_from(id).ok()?) {
            Some(slot) => slot.load(Ordering::Relaxed),
            None => owners.beyond.lock().ok()?.get(&id).copied()?,
        };
        mark.checked_sub(1)
    }

    /// Marks page `id` of `table` as `owner`'s, or says whose it was.
    fn claim(&self, table: &'a [std::sync::OnceLock<Owners>; 2], id: u64, owner: u64) -> Option<u64> {
        let owners = self.owners(table)?;
        let mark = owner.checked_add(1)?;
        // A page past the file's end is the page read's error to report, not a claim.
        if id >= owners.pages {
            return None;
        }
        let Some(slot) = owners.dense.get(usize::try_from(id).ok()?) else {
            let mut beyond = owners.beyond.lock().ok()?;
            let first = *beyond.entry(id).or_insert(mark);
            return (first != mark).then(|| first.saturating_sub(1));
        };
        // A load first: pages every worker passes through (the content bucket's branches)
        // stay shared in the caches instead of bouncing between cores on a locked write.
        let first = slot.load(Ordering::Relaxed);
        if first == mark {
            return None;
        }
        if first != 0 {
            return Some(first.saturating_sub(1));
        }
        match slot.compare_exchange(0, mark, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => None,
            Err(first) if first == mark => None,
            Err(first) => Some(first.saturating_sub(1)),
        }
    }

    /// The bucket at `path` (names from the root), or `None` when a name is missing or names a
    /// plain value.
    pub fn bucket_at<K: AsRef<[u8]>>(&self, path: &[K]) -> Result<Option<Bucket<'a>>> {
        self.root().bucket_at(path)
    }

    /// The ids listed in the persisted freelist, or `None` for a NoFreelistSync file.
    pub fn freelist(&self) -> Result<Option<Vec<u64>>> {
        if !self.meta.persists_freelist() {
            return Ok(None);
        }
        let page = self.page(self.meta.freelist)?;
        page.freelist_ids().map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::{Db, MAX_OWNED_PAGES, MetaChoice, Owner, ReadMode, build};

    /// A sample of at most four, spread: the first, the last and two between, each once.
    #[test]
    fn a_spread_sample_takes_the_ends_and_two_between() {
        let of = |n: usize| {
            super::spread(&(0..n).collect::<Vec<usize>>())
                .copied()
                .collect::<Vec<usize>>()
        };
        assert_eq!(of(0), Vec::<usize>::new());
        assert_eq!(of(1), [0]);
        assert_eq!(of(2), [0, 1]);
        assert_eq!(of(3), [0, 1, 2]);
        assert_eq!(of(5), [0, 1, 2, 4]);
        assert_eq!(of(100), [0, 25, 50, 99]);
    }

    /// A page after the table of one slot per page (a sparse file of small pages, or one
    /// over 16 GiB) is claimed all the same: a second bucket reaching it is told whose it is.
    #[test]
    fn pages_past_the_dense_table_are_claimed_too() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("meta.db");
        std::fs::write(&path, build::build(&build::Tree::new())).unwrap();
        // Sparse: nothing past the tree is written, and nothing of it is read here.
        let pages = MAX_OWNED_PAGES + 8;
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(pages * 4096)
            .unwrap();
        let db = Db::open(&path, ReadMode::Mmap).unwrap();
        let tx = db.view(MetaChoice::Current).unwrap();
        let far = MAX_OWNED_PAGES + 2;
        assert_eq!(tx.claim_page(far, 100, 100), None);
        assert_eq!(tx.claim_page(far, 100, 100), None, "its own bucket again");
        assert_eq!(tx.claim_page(far, 200, 200), Some(Owner::Below(100)));
        assert_eq!(
            tx.claim_root(far, 300),
            Some(Owner::Below(100)),
            "a page below a root is no root"
        );
        assert_eq!(tx.claim_root(far + 1, 300), None);
        assert_eq!(tx.claim_root(far + 1, 400), Some(Owner::Root(300)));
        assert_eq!(
            tx.claim_page(far + 1, 200, 200),
            Some(Owner::Root(300)),
            "a root is no page below one"
        );
        assert_eq!(
            tx.claim_page(far + 1, 300, far + 1),
            None,
            "its own root is the walk's to see"
        );
        assert_eq!(tx.claim_root(far + 1, 300), None, "and stays a root");
        // Below the cap, as before; past the file's end, no claim (the read reports it).
        assert_eq!(tx.claim_page(5, 100, 100), None);
        assert_eq!(tx.claim_page(5, 200, 200), Some(Owner::Below(100)));
        assert_eq!(tx.claim_page(pages, 100, 100), None);
        assert_eq!(tx.claim_page(pages, 200, 200), None);
    }

    /// A byte-identical sparse copy of a file (`cp --sparse=always`, `mkfs -d` on small
    /// blocks): a value's run of zeros is a hole, and the page that holds it reads as it is.
    /// Sweep 23: "its overflow pages lie in a hole" called such a copy damaged, and dropped the
    /// page's records (a container's spec).
    #[test]
    fn a_sparse_copy_reads_as_the_file_it_copies() {
        use std::io::{Seek, SeekFrom, Write};
        let mut tree = build::Tree::new();
        let mut value = b"spec:".to_vec();
        value.extend(vec![0u8; 3 * 4096]);
        value.extend(b":end");
        tree.bucket(&[b"b"]).put(b"k", &value);
        let bytes = build::build(&tree);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("meta.db");
        // Written as a sparse copy is: every block of zeros skipped.
        let mut f = std::fs::File::create(&path).unwrap();
        f.set_len(bytes.len() as u64).unwrap();
        for (i, block) in bytes.chunks(4096).enumerate() {
            if block.iter().any(|&b| b != 0) {
                f.seek(SeekFrom::Start(i as u64 * 4096)).unwrap();
                f.write_all(block).unwrap();
            }
        }
        drop(f);
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
        let db = Db::open(&path, ReadMode::Mmap).unwrap();
        assert!(!db.data().covers(0, bytes.len() as u64), "the copy has a hole");
        let tx = db.view(MetaChoice::Current).unwrap();
        let b = tx.bucket_at(&[b"b"]).unwrap().unwrap();
        assert_eq!(b.get(b"k").unwrap(), Some(value.as_slice()));
        let usage = super::check::usage(&tx);
        assert!(usage.findings.is_empty(), "{:?}", usage.findings);
    }
}
