//! Buckets: lookups along one root-to-leaf path, and lazy cursors over every key.
//!
//! ```text
//! nested bucket value:  root pgid u64 | sequence u64 [| inline leaf page when root == 0]
//! ```
//!
//! A lookup descends branch pages by binary search and reads nothing else. A cursor walks the
//! tree depth-first, one page at a time, and keeps going after damage: a bad element or child
//! page is reported as one `Err` item and the walk continues with its siblings. Each cursor
//! remembers every page it has entered (by file offset, so inline pages count too); entering a
//! page twice is reported as damage, which bounds any walk by the size of the file even when
//! branches or bucket headers point at each other.
//!
//! Both read a page only as the bucket's own: its keys strictly increasing (else a search
//! and a walk disagree), a child within its branch element's key range, and no page that is
//! a bucket's root (an enclosing bucket's, the top-level one's) or that another bucket
//! reached first below its root ([`Tx::claim_page`]).

use super::page::{ELEMENT_SIZE, HEADER_SIZE, LEAF, LeafElement, Page};
use super::{BoltError, MAX_DEPTH, Owner, Result, Tx};
use crate::bytes::Bytes;
use foldhash::HashSet;
use std::cell::RefCell;
use std::rc::Rc;

const BUCKET_HEADER_SIZE: usize = 16;

/// The most elements [`Bucket::small_leaf`] reads in its one pass (a record has a handful; a
/// page that claims thousands is searched, not read through, for each key asked).
pub const SMALL_LEAF: usize = 16;

/// How deep [`Bucket::open`] lets buckets nest.
#[derive(Clone, Copy)]
enum Nesting {
    /// [`MAX_DEPTH`]: the bound of the readers that recurse into each bucket.
    Recursive,
    /// As deep as the file has pages: for a walk with a stack of its own.
    Pages(usize),
}

/// A bucket: page-rooted or inline.
#[derive(Clone, Copy)]
pub struct Bucket<'a> {
    tx: Tx<'a>,
    root: Root<'a>,
    /// The bucket's `NextSequence` counter: the last id issued.
    pub sequence: u64,
    /// How many buckets enclose this one.
    pub depth: usize,
}

#[derive(Clone, Copy)]
enum Root<'a> {
    Page(u64),
    Inline(Page<'a>),
    /// A root leaf page already read, into memory a scan holds for one record
    /// ([`Bucket::with_root_held`]).
    Held(Page<'a>),
}

/// What a key holds.
pub enum Entry<'a> {
    Value(&'a [u8]),
    Bucket(Bucket<'a>),
}

/// One key met by a cursor.
#[derive(Clone, Copy, Debug)]
pub struct Item<'a> {
    pub key: &'a [u8],
    /// The value, or the raw bucket header for a nested bucket.
    pub value: &'a [u8],
    pub is_bucket: bool,
    /// The page holding the element.
    pub page: u64,
    /// Byte offset of the value in the file.
    pub value_offset: u64,
}

/// The set of page offsets a walk has entered; share one between the cursors of a whole-file
/// walk so that no page is walked twice, whichever bucket points at it.
#[derive(Clone, Default)]
pub struct Visited(Rc<RefCell<HashSet<u64>>>);

impl Visited {
    /// Records `offset`; false when it was already there.
    fn enter(&self, offset: u64) -> bool {
        self.0.borrow_mut().insert(offset)
    }
}

/// The pages one cursor has entered: its own, or shared with other cursors ([`Visited`]).
enum Entered {
    /// A cursor's own: the first page apart, so that the walk of a bucket of one page (a
    /// record's labels, read 47,000 times by a listing) allocates nothing.
    Own {
        first: Option<u64>,
        rest: HashSet<u64>,
    },
    Shared(Visited),
}

impl Entered {
    /// Records `offset`; false when it was already there.
    fn enter(&mut self, offset: u64) -> bool {
        match self {
            Entered::Own { first: None, .. } => {
                *self = Entered::Own {
                    first: Some(offset),
                    rest: HashSet::default(),
                };
                true
            }
            Entered::Own { first: Some(f), rest } => *f != offset && rest.insert(offset),
            Entered::Shared(v) => v.enter(offset),
        }
    }
}

impl<'a> Bucket<'a> {
    pub(super) fn paged(tx: Tx<'a>, root: u64, sequence: u64, depth: usize) -> Self {
        Bucket {
            tx,
            root: Root::Page(root),
            sequence,
            depth,
        }
    }

    /// Opens the nested bucket whose header is `item`'s value.
    pub fn open_item(&self, item: &Item<'a>) -> Result<Bucket<'a>> {
        self.open(item, true, Nesting::Recursive)
    }

    /// [`Bucket::open_item`] without reading ahead the roots of the other buckets on the
    /// item's page: for a caller that reads the roots in an order of its own (file order, see
    /// `containerd::file_order`).
    pub fn open_item_quietly(&self, item: &Item<'a>) -> Result<Bucket<'a>> {
        self.open(item, false, Nesting::Recursive)
    }

    /// [`Bucket::open_item`] for a walk that keeps its own stack instead of recursing
    /// (`bolt dump`): buckets nest as deep as the file has pages, not [`MAX_DEPTH`]. A file
    /// bbolt wrote never nests deeper: a bucket holding a bucket has a root page of its own
    /// (bbolt inlines only a bucket without sub-buckets), and each page is entered once.
    pub fn open_item_walked(&self, item: &Item<'a>) -> Result<Bucket<'a>> {
        let db = self.tx.db();
        let pages = db.file_size() / u64::from(db.page_size().max(1));
        let pages = usize::try_from(pages).unwrap_or(usize::MAX).max(MAX_DEPTH);
        self.open(item, true, Nesting::Pages(pages))
    }

    fn open(&self, item: &Item<'a>, read_ahead: bool, nesting: Nesting) -> Result<Bucket<'a>> {
        let db = self.tx.db();
        let bound = match nesting {
            Nesting::Recursive => MAX_DEPTH,
            Nesting::Pages(pages) => pages,
        };
        if self.depth + 1 >= bound {
            let what = match nesting {
                // Not the file's fault: containerd's schema nests 6 deep, bbolt has no bound.
                Nesting::Recursive => format!(
                    "buckets nested deeper than {MAX_DEPTH}, coldctr's limit for reading records (bbolt sets none; containerd's schema nests 6 deep): not read further (`coldctr bolt dump` and `bolt check` read deeper)"
                ),
                Nesting::Pages(pages) => format!(
                    "buckets nested deeper than the file has pages ({pages}): only inline buckets holding buckets nest so, which bbolt never writes"
                ),
            };
            return Err(db.corrupt(item.page, item.value_offset, what));
        }
        let v = Bytes::new(item.value, db.endian());
        let (Some(root), Some(sequence)) = (v.u64_at(0), v.u64_at(8)) else {
            return Err(db.corrupt(
                item.page,
                item.value_offset,
                format!("bucket header is {} bytes, needs 16", item.value.len()),
            ));
        };
        let depth = self.depth + 1;
        if root != 0 {
            match self.tx.claim_root(root, item.value_offset) {
                None => {}
                Some(Owner::Root(first)) => {
                    return Err(db.corrupt(
                        item.page,
                        item.value_offset,
                        format!(
                            "bucket root page {root} is also the root of the bucket whose header is at offset {first} (a page of two buckets)"
                        ),
                    ));
                }
                Some(below) => {
                    return Err(db.corrupt(
                        item.page,
                        item.value_offset,
                        format!(
                            "bucket root page {root} was reached first as {} (a page of two buckets)",
                            self.tx.owner_name(below)
                        ),
                    ));
                }
            }
            if read_ahead {
                self.tx.opening_bucket_on(item.page);
            }
            return Ok(Bucket::paged(self.tx, root, sequence, depth));
        }
        let inline = v
            .sub(BUCKET_HEADER_SIZE, item.value.len().saturating_sub(BUCKET_HEADER_SIZE))
            .unwrap_or(v);
        let offset = item.value_offset + BUCKET_HEADER_SIZE as u64;
        if inline.len() < HEADER_SIZE {
            return Err(db.corrupt(
                item.page,
                offset,
                format!("inline bucket page is {} bytes, needs at least 16", inline.len()),
            ));
        }
        let page = Page {
            db,
            id: item.page,
            flags: inline.u16_at(8).unwrap_or(0),
            count: inline.u16_at(10).unwrap_or(0),
            overflow: inline.u32_at(12).unwrap_or(0),
            data: inline,
            offset,
            inline: true,
        };
        if page.flags != LEAF {
            return Err(page.corrupt(
                8,
                format!("inline bucket page has flags {:#x}, expected a leaf", page.flags),
            ));
        }
        Ok(Bucket {
            tx: self.tx,
            root: Root::Inline(page),
            sequence,
            depth,
        })
    }

    /// Runs `f` on this bucket with its root page read into memory of this call's own, not
    /// kept, when pages are read as asked for and the root is one small leaf
    /// ([`Tx::held_leaf`]); on the bucket itself otherwise. `f` sees the same keys and values
    /// either way.
    ///
    /// Why: a scan such as dockerd's `List("target.digest==")` reads one page of every image
    /// record for one key and keeps nothing of most of them. Each page kept costs fresh memory
    /// faulted in, cleared and indexed; a page held for the one call costs its read alone.
    pub fn with_root_held<R>(&self, f: impl for<'b> FnOnce(&Bucket<'b>) -> R) -> R {
        let mut buf = [0u8; super::PREFIX];
        if let Root::Page(id) = self.root
            && let Some(page) = self.tx.held_leaf(id, &mut buf)
        {
            return f(&Bucket {
                tx: self.tx,
                root: Root::Held(page),
                sequence: self.sequence,
                depth: self.depth,
            });
        }
        f(self)
    }

    /// True for a bucket stored inside its parent's leaf.
    pub fn is_inline(&self) -> bool {
        matches!(self.root, Root::Inline(_))
    }

    /// The root page id (0 for an inline bucket).
    pub fn root_page(&self) -> u64 {
        match self.root {
            Root::Page(id) | Root::Held(Page { id, .. }) => id,
            Root::Inline(_) => 0,
        }
    }

    pub fn tx(&self) -> Tx<'a> {
        self.tx
    }

    /// Branch page `parent`'s child `child` (its element `i`), as a node of this bucket: a
    /// page that another bucket reached first, or the root of a bucket (one enclosing this
    /// one, or any other), is damage (bbolt never shares a page between buckets).
    fn child_node(&self, parent: &Page<'a>, i: usize, child: u64) -> Result<Page<'a>> {
        self.claim_child(parent, i, child)?;
        let page = self.tx.node_page(child)?;
        page.expect_node()?;
        Ok(page)
    }

    /// Claims page `child` of branch page `parent` (its element `i`) for this bucket (see
    /// [`Tx::claim_page`]).
    fn claim_child(&self, parent: &Page<'a>, i: usize, child: u64) -> Result<()> {
        let (bucket, own_root) = match self.root {
            Root::Page(id) | Root::Held(Page { id, .. }) => (id, id),
            // An inline bucket is one leaf; a branch inside one is damage the page read finds.
            Root::Inline(p) => (p.offset, u64::MAX),
        };
        let at = HEADER_SIZE + ELEMENT_SIZE * i;
        match self.tx.claim_page(child, bucket, own_root) {
            None => Ok(()),
            Some(Owner::Below(first)) => Err(parent.corrupt(
                at,
                format!(
                    "child page {child} of bucket root {bucket} was reached first from bucket root {first} (a page of two buckets; branch element {i})"
                ),
            )),
            Some(root) => Err(parent.corrupt(
                at,
                format!(
                    "branch element {i} of bucket root {bucket} points to page {child}, {}: a bucket enclosing this one, or another bucket, not more of this one",
                    self.tx.owner_name(root)
                ),
            )),
        }
    }

    /// Checks that `child`, reached through element `i` of branch page `parent`, holds keys
    /// where bbolt puts them: none before element i's key (bbolt writes a child's first key
    /// there) and all before element i+1's, the range a lookup sends there. A page outside
    /// that range (a page of an enclosing or another bucket a branch points to) would make a
    /// cursor yield keys no lookup finds. Reads two keys of the child; keys it cannot read
    /// are reported where they are met.
    /// The answer is remembered per child and element ([`Tx::range_slot`]).
    fn check_range(&self, parent: &Page<'a>, i: usize, child: &Page<'a>) -> Result<()> {
        let slot = self.tx.range_slot(child.id, parent.id, i);
        if let Some((word, mark)) = slot
            && word.load(std::sync::atomic::Ordering::Relaxed) == mark
        {
            return Ok(());
        }
        Self::check_range_now(parent, i, child)?;
        if let Some((word, mark)) = slot {
            word.store(mark, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(())
    }

    fn check_range_now(parent: &Page<'a>, i: usize, child: &Page<'a>) -> Result<()> {
        let count = usize::from(child.count);
        let (Ok(low), Some(last)) = (parent.branch(i).map(|e| e.key), count.checked_sub(1)) else {
            return Ok(());
        };
        let at = HEADER_SIZE + ELEMENT_SIZE * i;
        if let Ok(first) = child.key(0)
            && first < low
        {
            return Err(parent.corrupt(
                at,
                format!(
                    "branch element {i} leads to page {} (offset {}), whose first key sorts before the element's key: not the page this element was written for",
                    child.id, child.offset
                ),
            ));
        }
        if i + 1 < usize::from(parent.count)
            && let Ok(next) = parent.branch(i + 1)
            && let Ok(key) = child.key(last)
            && key >= next.key
        {
            return Err(parent.corrupt(
                at,
                format!(
                    "branch element {i} leads to page {} (offset {}), whose last key does not sort before branch element {}'s key: not the page this element was written for",
                    child.id,
                    child.offset,
                    i + 1
                ),
            ));
        }
        Ok(())
    }

    fn root_node(&self) -> Result<Page<'a>> {
        let page = match self.root {
            Root::Page(id) => self.tx.page(id)?,
            Root::Inline(p) | Root::Held(p) => p,
        };
        page.expect_node()?;
        Ok(page)
    }

    /// The leaf element for `key`, reading only the pages on its path.
    fn seek(&self, key: &[u8]) -> Result<Option<LeafElement<'a>>> {
        let mut page = self.root_node()?;
        self.tx.check_order(&page)?;
        let mut path = Vec::new();
        loop {
            if page.is_leaf() {
                return match page.search_leaf(key)? {
                    Some(i) => page.leaf(i).map(Some),
                    None => Ok(None),
                };
            }
            if page.count == 0 {
                return Err(page.corrupt(10, "branch page with no elements"));
            }
            path.push(page.id);
            let i = page.search_branch(key)?;
            let child = page.branch(i)?.child;
            if path.contains(&child) {
                return Err(page.corrupt(0, format!("branch points back to page {child} on its own path")));
            }
            if path.len() >= MAX_DEPTH {
                return Err(page.corrupt(0, format!("branch pages nested deeper than {MAX_DEPTH}")));
            }
            let next = self.child_node(&page, i, child)?;
            self.check_range(&page, i, &next)?;
            self.tx.check_order(&next)?;
            page = next;
        }
    }

    /// The bucket at `path` below this one, or `None` when a name is missing or names a
    /// plain value. Reads only the pages on the path.
    pub fn bucket_at<K: AsRef<[u8]>>(&self, path: &[K]) -> Result<Option<Bucket<'a>>> {
        let mut b = *self;
        for name in path {
            match b.bucket(name.as_ref())? {
                Some(child) => b = child,
                None => return Ok(None),
            }
        }
        Ok(Some(b))
    }

    /// What `key` holds, if anything.
    pub fn entry(&self, key: &[u8]) -> Result<Option<Entry<'a>>> {
        match self.seek(key)? {
            Some(e) => self.entry_of(e).map(Some),
            None => Ok(None),
        }
    }

    /// The elements named `keys`, as a search for each ([`Bucket::entry`], [`Bucket::get`])
    /// would find them, read in one pass over the bucket's one leaf page: a record of four
    /// keys (a content record) is then one page read and a few elements decoded, not four
    /// searches from its root (`content` spent a tenth of its instructions in them).
    ///
    /// `None` when that pass could disagree with the searches: the root is not a leaf, it
    /// holds more than [`SMALL_LEAF`] elements, an element does not read, or the keys do not
    /// strictly ascend (a binary search on a damaged page misses keys a pass finds). The
    /// caller then searches for each key, which finds what it finds and names what is wrong.
    pub fn small_leaf<const N: usize>(&self, keys: [&[u8]; N]) -> Option<[Option<LeafElement<'a>>; N]> {
        let page = self.root_node().ok()?;
        if !page.is_leaf() || usize::from(page.count) > SMALL_LEAF {
            return None;
        }
        let mut found = [None; N];
        let mut last: Option<&[u8]> = None;
        for i in 0..usize::from(page.count) {
            let e = page.leaf(i).ok()?;
            if last.is_some_and(|l| l >= e.key) {
                return None;
            }
            last = Some(e.key);
            if let Some(at) = keys.iter().position(|k| *k == e.key) {
                *found.get_mut(at)? = Some(e);
            }
        }
        Some(found)
    }

    /// What [`Bucket::entry`] makes of element `e` of this bucket, found by a search or by
    /// [`Bucket::small_leaf`].
    pub fn entry_of(&self, e: LeafElement<'a>) -> Result<Entry<'a>> {
        if !e.is_bucket() {
            return Ok(Entry::Value(e.value));
        }
        let page = match self.root {
            Root::Inline(p) => p.id,
            // The element's page is not kept by `seek`; name the bucket's root instead.
            Root::Page(id) | Root::Held(Page { id, .. }) => id,
        };
        let item = Item {
            key: e.key,
            value: e.value,
            is_bucket: true,
            page,
            value_offset: e.value_offset,
        };
        self.open_item(&item).map(Entry::Bucket)
    }

    /// The value of `key`; `None` when it is missing or names a bucket.
    pub fn get(&self, key: &[u8]) -> Result<Option<&'a [u8]>> {
        Ok(self.seek(key)?.filter(|e| !e.is_bucket()).map(|e| e.value))
    }

    /// The nested bucket `name`; `None` when it is missing or names a plain value.
    pub fn bucket(&self, name: &[u8]) -> Result<Option<Bucket<'a>>> {
        Ok(match self.entry(name)? {
            Some(Entry::Bucket(b)) => Some(b),
            _ => None,
        })
    }

    /// Every key of this bucket in order, with its own visited set.
    pub fn cursor(&self) -> Cursor<'a> {
        self.cursor_entering(Entered::Own {
            first: None,
            rest: HashSet::default(),
        })
    }

    /// Every key of this bucket in order, sharing `visited` with other cursors.
    pub fn cursor_with(&self, visited: Visited) -> Cursor<'a> {
        self.cursor_entering(Entered::Shared(visited))
    }

    fn cursor_entering(&self, visited: Entered) -> Cursor<'a> {
        let mut c = Cursor {
            bucket: *self,
            stack: Vec::new(),
            visited,
            pending: None,
        };
        match self.root_node() {
            Ok(page) => c.enter(page, None),
            Err(e) => c.pending = Some(e),
        }
        c
    }
}

/// Where a seek may look for a key below a branch element: `[lower, upper)`, `None` for no
/// bound.
#[derive(Clone, Copy)]
struct Bounds<'a> {
    lower: Option<&'a [u8]>,
    upper: Option<&'a [u8]>,
}

impl<'a> Bounds<'a> {
    fn holds(&self, key: &[u8]) -> bool {
        self.lower.is_none_or(|l| l <= key) && self.upper.is_none_or(|u| key < u)
    }
}

impl<'a> Bucket<'a> {
    /// Calls `f` with every key of this bucket in order and answers true when the walk met
    /// no damage and the tree is one a lookup agrees with: every page's keys strictly
    /// increasing, and each child's keys inside the range its branch element sends a seek
    /// there with. Then a key the walk met is exactly what [`Bucket::entry`] finds for it,
    /// and a key it did not meet is one a lookup does not find, so a caller may answer many
    /// lookups from one walk. On false, what `f` was given must be thrown away.
    pub fn walk_seekable(&self, f: &mut dyn FnMut(Item<'a>)) -> bool {
        let Ok(root) = self.root_node() else {
            return false;
        };
        let mut entered = HashSet::default();
        let all = Bounds {
            lower: None,
            upper: None,
        };
        self.walk_node(root, all, 0, &mut entered, f)
    }

    /// About how many keys the bucket holds, from the pages on its leftmost path alone (the
    /// element counts along it multiplied: bbolt fills the pages of a level alike); `None`
    /// when that path is damaged.
    pub fn estimated_keys(&self) -> Option<u64> {
        let mut page = self.root_node().ok()?;
        let mut keys = 1u64;
        for _ in 0..MAX_DEPTH {
            keys = keys.saturating_mul(u64::from(page.count));
            if page.is_leaf() || page.count == 0 {
                return Some(keys);
            }
            let child = page.branch(0).ok()?.child;
            page = self.child_node(&page, 0, child).ok()?;
        }
        None
    }

    fn walk_node(
        &self,
        page: Page<'a>,
        bounds: Bounds<'a>,
        depth: usize,
        entered: &mut HashSet<u64>,
        f: &mut dyn FnMut(Item<'a>),
    ) -> bool {
        if depth >= MAX_DEPTH || !entered.insert(page.offset) {
            return false;
        }
        let count = usize::from(page.count);
        let mut previous: Option<&[u8]> = None;
        if page.is_leaf() {
            for i in 0..count {
                let Ok(e) = page.leaf(i) else { return false };
                if previous.is_some_and(|p| p >= e.key) || !bounds.holds(e.key) {
                    return false;
                }
                previous = Some(e.key);
                f(Item {
                    key: e.key,
                    value: e.value,
                    is_bucket: e.is_bucket(),
                    page: page.id,
                    value_offset: e.value_offset,
                });
            }
            return true;
        }
        // A seek takes the last element whose key is at most its own (the first when none
        // is), so child i gets [key i, key i+1), narrowed to what reaches this page; child 0
        // too: a key before element 0's is no key of its child (bbolt writes the child's
        // first key there), and a lookup refuses such a child (`check_range`).
        if !page.is_branch() || count == 0 {
            return false;
        }
        let mut keys = Vec::with_capacity(count.min(self.tx.db().page_size() as usize));
        for i in 0..count {
            let Ok(e) = page.branch(i) else { return false };
            if previous.is_some_and(|p| p >= e.key) {
                return false;
            }
            previous = Some(e.key);
            keys.push((e.key, e.child));
        }
        for (i, &(key, child)) in keys.iter().enumerate() {
            let lower = bounds.lower.max(Some(key));
            let upper = match (keys.get(i + 1), bounds.upper) {
                (Some(&(next, _)), Some(u)) => Some(next.min(u)),
                (Some(&(next, _)), None) => Some(next),
                (None, u) => u,
            };
            let Ok(p) = self.child_node(&page, i, child) else {
                return false;
            };
            if !self.walk_node(p, Bounds { lower, upper }, depth + 1, entered, f) {
                return false;
            }
        }
        true
    }
}

/// A depth-first walk over a bucket's keys. Yields `Err` for damage and carries on.
pub struct Cursor<'a> {
    bucket: Bucket<'a>,
    stack: Vec<Frame<'a>>,
    visited: Entered,
    pending: Option<BoltError>,
}

/// A page a cursor is walking.
struct Frame<'a> {
    page: Page<'a>,
    /// The next element.
    index: usize,
    /// The last key met on the page, which the next must sort after.
    last: Option<&'a [u8]>,
    /// False when the page is known to be in order, or its disorder was reported (once).
    checking: bool,
}

impl<'a> Cursor<'a> {
    /// Walks `page` next (the child of element `i` of branch `parent`, when `from` says so),
    /// unless it was entered before, lies too deep or lies outside its element's range (its
    /// keys are then not this part of the bucket's, whatever page it is). Keys out of order
    /// are reported where met and the page is walked all the same: what it holds is still
    /// shown (`bolt dump` of the evidence), and the error makes the answer one of damage.
    fn enter(&mut self, page: Page<'a>, from: Option<(&Page<'a>, usize)>) {
        if !self.visited.enter(page.offset) {
            self.pending = Some(page.corrupt(0, "page reached a second time (a cycle or a shared page)"));
        } else if self.stack.len() >= MAX_DEPTH {
            self.pending = Some(page.corrupt(0, format!("branch pages nested deeper than {MAX_DEPTH}")));
        } else if let Some(Err(e)) = from.map(|(parent, i)| self.bucket.check_range(parent, i, &page)) {
            self.pending = Some(e);
        } else {
            if page.is_branch() && self.bucket.tx.db().reads_lazily() {
                // A cursor visits every child of a branch it enters: on a cold file they are
                // asked for together, not one wait per leaf (`Tx::prefetch_if_cold`).
                let children = (0..usize::from(page.count)).map_while(|i| page.branch(i).ok().map(|e| e.child));
                self.bucket.tx.prefetch_if_cold(children.collect());
            }
            self.stack.push(Frame {
                page,
                index: 0,
                last: None,
                checking: !self.bucket.tx.is_ordered(&page),
            });
        }
    }

    /// Checks `key`, element `i` of the frame's page, against the key before it: the
    /// disorder, once per page, when it does not sort after it. The element is not passed:
    /// it comes next.
    fn in_order(frame: &mut Frame<'a>, i: usize, key: &'a [u8]) -> Result<()> {
        if !frame.checking {
            return Ok(());
        }
        if let Some(last) = frame.last
            && last >= key
        {
            frame.checking = false;
            return Err(frame.page.out_of_order(i, last == key));
        }
        frame.last = Some(key);
        Ok(())
    }
}

impl<'a> Iterator for Cursor<'a> {
    type Item = Result<Item<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(e) = self.pending.take() {
                return Some(Err(e));
            }
            let frame = self.stack.last_mut()?;
            let page = frame.page;
            let i = frame.index;
            if i >= usize::from(page.count) {
                // Every key met in order: lookups on the page need not check it again.
                if frame.checking {
                    self.bucket.tx.mark_ordered(&page);
                }
                self.stack.pop();
                continue;
            }
            if page.is_leaf() {
                let e = match page.leaf(i) {
                    Ok(e) => e,
                    Err(e) => {
                        frame.index += 1;
                        return Some(Err(e));
                    }
                };
                if let Err(e) = Self::in_order(frame, i, e.key) {
                    return Some(Err(e));
                }
                frame.index += 1;
                return Some(Ok(Item {
                    key: e.key,
                    value: e.value,
                    is_bucket: e.is_bucket(),
                    page: page.id,
                    value_offset: e.value_offset,
                }));
            }
            let child = match page.branch(i) {
                Ok(b) => {
                    if let Err(e) = Self::in_order(frame, i, b.key) {
                        return Some(Err(e));
                    }
                    frame.index += 1;
                    b.child
                }
                Err(e) => {
                    frame.index += 1;
                    return Some(Err(e));
                }
            };
            // A page of another bucket: its siblings likely are too (a crafted file lists
            // one set of leaves under many buckets), so the walk of this bucket ends here
            // with one error, not one per shared page.
            if let Err(e) = self.bucket.claim_child(&page, i, child) {
                self.stack.clear();
                return Some(Err(e));
            }
            match self
                .bucket
                .tx
                .node_page(child)
                .and_then(|p| p.expect_node().map(|()| p))
            {
                Ok(p) => self.enter(p, Some((&page, i))),
                Err(e) => self.pending = Some(e),
            }
        }
    }
}

impl<'a> Bucket<'a> {
    /// The fake leaf page of an inline bucket.
    pub(super) fn inline_page(&self) -> Result<Page<'a>, ()> {
        match self.root {
            Root::Inline(p) => Ok(p),
            Root::Page(_) | Root::Held(_) => Err(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::build::{Tree, build};
    use super::super::{Db, MetaChoice};

    /// Two records whose `labels` headers name one root page (bbolt never shares a page; a
    /// crafted file could, so that thousands of records each read one page of thousands of
    /// labels): the second header to open it is damage, naming itself and the first; the
    /// first still opens, as often as it is asked.
    #[test]
    fn a_root_page_named_by_two_headers_is_damage() {
        let mut root = Tree::new();
        for name in [b"a", b"b"] {
            let labels = root.bucket(&[b"images", name, b"labels"]);
            for i in 0..400 {
                labels.put(format!("k{i:04}").as_bytes(), b"a label value");
            }
        }
        let mut bytes = build(&root);
        // (header offset, root page) of a record's `labels`.
        let labels_of = |bytes: &[u8], name: &[u8]| {
            let db = Db::from_bytes("t.db", bytes.to_vec()).unwrap();
            let tx = db.view(MetaChoice::Current).unwrap();
            let record = tx.root().bucket_at(&[b"images".as_slice(), name]).unwrap().unwrap();
            let item = record
                .cursor()
                .map(Result::unwrap)
                .find(|i| i.key == b"labels")
                .unwrap();
            (
                item.value_offset,
                u64::from_le_bytes(item.value[..8].try_into().unwrap()),
            )
        };
        let (a_header, a_root) = labels_of(&bytes, b"a");
        let (b_header, b_root) = labels_of(&bytes, b"b");
        assert!(a_root != 0 && b_root != 0 && a_root != b_root, "two paged buckets");
        let at = usize::try_from(b_header).unwrap();
        bytes[at..at + 8].copy_from_slice(&a_root.to_le_bytes());

        let db = Db::from_bytes("t.db", bytes).unwrap();
        let tx = db.view(MetaChoice::Current).unwrap();
        let labels = |name: &[u8]| tx.root().bucket_at(&[b"images".as_slice(), name, b"labels"]);
        assert!(labels(b"a").unwrap().is_some());
        let e = labels(b"b").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            e.contains(&format!(
                "bucket root page {a_root} is also the root of the bucket whose header is at offset {a_header}"
            )),
            "{e}"
        );
        assert!(
            e.contains(&format!("offset {b_header}")),
            "names the second header: {e}"
        );
        assert!(labels(b"a").unwrap().is_some(), "the first header opens it again");
    }

    /// Two records' `labels` whose root branch pages both list one leaf (a crafted file: each
    /// of thousands of records could list the same leaves of thousands of labels): the leaf
    /// belongs to the bucket that reached it first, and the other bucket's walk and seek stop
    /// on it as damage, naming both.
    #[test]
    fn a_leaf_listed_by_two_buckets_branches_is_damage() {
        let mut root = Tree::new();
        for name in [b"a", b"b"] {
            let labels = root.bucket(&[b"images", name, b"labels"]);
            for i in 0..3000 {
                labels.put(format!("k{i:05}").as_bytes(), b"a label value");
            }
        }
        let mut bytes = build(&root);
        // (root page, first child) of a record's `labels`, and where that child's id is.
        let first_child = |bytes: &[u8], name: &[u8]| {
            let db = Db::from_bytes("t.db", bytes.to_vec()).unwrap();
            let tx = db.view(MetaChoice::Current).unwrap();
            let labels = tx
                .root()
                .bucket_at(&[b"images".as_slice(), name, b"labels"])
                .unwrap()
                .unwrap();
            let root = tx.page(labels.root_page()).unwrap();
            assert!(root.is_branch(), "labels of 3,000 keys have a branch root");
            // The first branch element: pos u32, ksize u32, pgid u64, after the 16-byte header.
            let at = usize::try_from(root.offset).unwrap() + 16 + 8;
            (root.id, root.branch(0).unwrap().child, at)
        };
        let (a_root, a_leaf, _) = first_child(&bytes, b"a");
        let (b_root, _, b_at) = first_child(&bytes, b"b");
        bytes[b_at..b_at + 8].copy_from_slice(&a_leaf.to_le_bytes());

        let db = Db::from_bytes("t.db", bytes).unwrap();
        let tx = db.view(MetaChoice::Current).unwrap();
        let labels = |name: &[u8]| {
            tx.root()
                .bucket_at(&[b"images".as_slice(), name, b"labels"])
                .unwrap()
                .unwrap()
        };
        assert!(labels(b"a").cursor().all(|r| r.is_ok()), "the first bucket reads whole");
        let errors: Vec<String> = labels(b"b")
            .cursor()
            .filter_map(|r| r.err())
            .map(|e| e.to_string())
            .collect();
        let want = format!("child page {a_leaf} of bucket root {b_root} was reached first from bucket root {a_root}");
        assert_eq!(
            errors.len(),
            1,
            "one error ends the walk of the second bucket: {errors:?}"
        );
        assert!(errors[0].contains(&want), "{errors:?}");
        let seek = labels(b"b")
            .get(b"k00000")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(seek.contains(&want), "{seek}");
        assert!(
            labels(b"a").get(b"k00000").unwrap().is_some(),
            "the first bucket still seeks"
        );
    }

    /// 3,000 keys `k00000`.. under bucket `b`: three leaves under a branch page.
    fn image() -> Vec<u8> {
        let mut root = Tree::new();
        let b = root.bucket(&[b"b"]);
        for i in 0..3000 {
            b.put(format!("k{i:05}").as_bytes(), b"v");
        }
        build(&root)
    }

    /// The keys `walk_seekable` gives, and its verdict.
    fn walk(bytes: Vec<u8>) -> (Vec<Vec<u8>>, bool) {
        let db = Db::from_bytes("t.db", bytes).unwrap();
        let tx = db.view(MetaChoice::Current).unwrap();
        let b = tx.root().bucket(b"b").unwrap().unwrap();
        let mut keys = Vec::new();
        let ok = b.walk_seekable(&mut |item| keys.push(item.key.to_vec()));
        (keys, ok)
    }

    /// Replaces the `nth` occurrence (from the end when `from_end`) of `from` with `to`.
    fn patch(bytes: &mut [u8], from: &[u8], to: &[u8], from_end: bool) {
        let hits: Vec<usize> = (0..=bytes.len() - from.len())
            .filter(|&i| &bytes[i..i + from.len()] == from)
            .collect();
        let at = if from_end { *hits.last().unwrap() } else { hits[0] };
        bytes[at..at + to.len()].copy_from_slice(to);
    }

    #[test]
    fn a_sound_tree_is_walked_whole_in_order() {
        let (keys, ok) = walk(image());
        assert!(ok);
        let want: Vec<Vec<u8>> = (0..3000).map(|i| format!("k{i:05}").into_bytes()).collect();
        assert_eq!(keys, want);
    }

    #[test]
    fn a_branch_key_past_its_childs_first_key_is_refused() {
        // The branch says the second leaf starts at k01030; a seek for k01025 goes to the
        // first leaf and misses it, though a walk meets it.
        let mut bytes = image();
        patch(&mut bytes, b"k01024", b"k01030", true);
        let db = Db::from_bytes("t.db", bytes.clone()).unwrap();
        let tx = db.view(MetaChoice::Current).unwrap();
        let b = tx.root().bucket(b"b").unwrap().unwrap();
        assert!(b.get(b"k01025").unwrap().is_none());
        assert!(!walk(bytes).1);
    }

    /// Branch element 0 of `b` leads to element 1's leaf. A lookup through element 1 finds
    /// the leaf within its range and remembers so; a lookup through element 0 must still be
    /// told the leaf is not within its own range (the memory is of the element, not the page).
    #[test]
    fn a_remembered_range_is_of_the_element_not_the_page() {
        let mut bytes = image();
        let (root, second) = {
            let db = Db::from_bytes("t.db", bytes.clone()).unwrap();
            let tx = db.view(MetaChoice::Current).unwrap();
            let b = tx.root().bucket(b"b").unwrap().unwrap();
            let page = tx.page(b.root_page()).unwrap();
            (page.id, page.branch(1).unwrap().child)
        };
        let element = usize::try_from(root).unwrap() * 4096 + 16;
        bytes[element + 8..element + 16].copy_from_slice(&second.to_le_bytes());
        let db = Db::from_bytes("t.db", bytes).unwrap();
        let tx = db.view(MetaChoice::Current).unwrap();
        let b = tx.root().bucket(b"b").unwrap().unwrap();
        assert!(b.get(b"k01500").unwrap().is_some(), "element 1's own range");
        let e = b.get(b"k00000").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains(&format!("branch element 0 leads to page {second}")), "{e}");
        assert!(e.contains(&format!("page {root} ")), "names the branch page: {e}");
    }

    /// A cursor reports keys out of order where it meets them, once per page, and still
    /// yields every key; a lookup on the page afterwards is refused too.
    #[test]
    fn a_cursor_reports_keys_out_of_order_once_and_yields_them_all() {
        let mut bytes = image();
        patch(&mut bytes, b"k00005", b"k00003", false);
        let db = Db::from_bytes("t.db", bytes).unwrap();
        let tx = db.view(MetaChoice::Current).unwrap();
        let b = tx.root().bucket(b"b").unwrap().unwrap();
        let items: Vec<_> = b.cursor().collect();
        let errors: Vec<String> = items
            .iter()
            .filter_map(|i| i.as_ref().err())
            .map(|e| e.to_string())
            .collect();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].contains("leaf element 5's key sorts before the key before it"),
            "{errors:?}"
        );
        assert_eq!(items.iter().filter(|i| i.is_ok()).count(), 3000);
        let e = b.get(b"k00001").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("leaf element 5's key sorts before"), "{e}");
    }

    #[test]
    fn keys_are_estimated_from_the_leftmost_path() {
        let db = Db::from_bytes("t.db", image()).unwrap();
        let tx = db.view(MetaChoice::Current).unwrap();
        let b = tx.root().bucket(b"b").unwrap().unwrap();
        // Three leaves of 1,024, 1,024 and 952 keys: three times the first.
        assert_eq!(b.estimated_keys(), Some(3 * 1024));
        assert_eq!(tx.root().estimated_keys(), Some(1));
    }

    #[test]
    fn keys_out_of_order_in_a_leaf_are_refused() {
        let mut bytes = image();
        patch(&mut bytes, b"k00005", b"k00003", false);
        assert!(!walk(bytes).1);
    }

    #[test]
    fn a_branch_back_to_its_own_root_is_walked_once() {
        // The branch above the three leaves is bucket b's root; its second element now names
        // the branch itself, the first page the cursor entered.
        let mut bytes = image();
        let root = {
            let db = Db::from_bytes("t.db", bytes.clone()).unwrap();
            let tx = db.view(MetaChoice::Current).unwrap();
            tx.root().bucket(b"b").unwrap().unwrap().root_page()
        };
        let element = usize::try_from(root).unwrap() * 4096 + 16 + 16;
        bytes[element + 8..element + 16].copy_from_slice(&root.to_le_bytes());
        let db = Db::from_bytes("t.db", bytes).unwrap();
        let tx = db.view(MetaChoice::Current).unwrap();
        let b = tx.root().bucket(b"b").unwrap().unwrap();
        let items: Vec<_> = b.cursor().collect();
        let errors: Vec<String> = items
            .iter()
            .filter_map(|i| i.as_ref().err())
            .map(|e| e.to_string())
            .collect();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("page reached a second time"), "{errors:?}");
        // The first leaf, then the error, then the third leaf: the walk went on, once.
        assert_eq!(items.iter().filter(|i| i.is_ok()).count(), 1024 + 952);
    }

    #[test]
    fn a_child_page_that_is_no_node_is_refused() {
        let mut bytes = image();
        // The first leaf's page header flags (page 3: the leaves come before the branch).
        bytes[3 * 4096 + 8] = 0x04;
        assert!(!walk(bytes).1);
    }

    /// Records `r0`..`r2` under `images`, each a small leaf of its own with an inline
    /// `target`; `big` holds keys past the first bytes of its page. Written to a file and
    /// opened with `mode`.
    fn records_db(mode: super::super::ReadMode, patch_page: Option<(usize, u8)>) -> (tempfile::TempDir, Db) {
        let mut root = Tree::new();
        for name in [b"r0".as_slice(), b"r1", b"r2"] {
            let record = root.bucket(&[b"images", name]);
            record.put(b"createdat", b"t");
            record.bucket(&[b"target"]).put(b"digest", name);
        }
        let big = root.bucket(&[b"images", b"big"]);
        for i in 0..40 {
            big.put(format!("key{i:02}").as_bytes(), b"a value of some length");
        }
        let mut bytes = build(&root);
        if let Some((at, byte)) = patch_page {
            bytes[at] = byte;
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("meta.db");
        std::fs::write(&file, bytes).unwrap();
        let db = Db::open(&file, mode).unwrap();
        (dir, db)
    }

    /// Keys and values, in the order met.
    type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

    /// Every key and value of `b`, nested buckets opened, and whether its root was held.
    fn contents(b: &super::Bucket<'_>) -> (Pairs, bool) {
        let mut out = Vec::new();
        for item in b.cursor() {
            let item = item.unwrap();
            out.push((item.key.to_vec(), item.value.to_vec()));
            if item.is_bucket {
                let inner = b.open_item(&item).unwrap();
                out.extend(contents(&inner).0);
            }
        }
        (out, matches!(b.root, super::Root::Held(_)))
    }

    #[test]
    fn a_held_root_reads_as_the_kept_page_does() {
        use super::super::ReadMode;
        for mode in [ReadMode::Pread, ReadMode::Mmap] {
            let (_dir, db) = records_db(mode, None);
            let tx = db.view(MetaChoice::Current).unwrap();
            for name in [b"r0".as_slice(), b"r1", b"r2", b"big"] {
                let record = tx.root().bucket_at(&[b"images".as_slice(), name]).unwrap().unwrap();
                let held = record.with_root_held(|b| {
                    let digest = b
                        .bucket(b"target")
                        .unwrap()
                        .map(|t| t.get(b"digest").unwrap().map(<[u8]>::to_vec));
                    (contents(b), digest)
                });
                let kept = (contents(&record), None::<Option<Vec<u8>>>);
                assert_eq!(held.0.0, kept.0.0, "{mode:?} {name:?}");
                // Held only when pages are read as asked for, and only a leaf whose elements
                // lie in the first bytes read.
                assert_eq!(held.0.1, mode == ReadMode::Pread && name != b"big", "{mode:?} {name:?}");
                if name != b"big" {
                    assert_eq!(held.1, Some(Some(name.to_vec())), "{mode:?}");
                }
            }
        }
    }

    #[test]
    fn a_root_already_kept_is_used_as_kept() {
        use super::super::ReadMode;
        let (_dir, db) = records_db(ReadMode::Pread, None);
        let tx = db.view(MetaChoice::Current).unwrap();
        let r0 = tx.root().bucket_at(&[b"images".as_slice(), b"r0"]).unwrap().unwrap();
        assert!(r0.with_root_held(|b| matches!(b.root, super::Root::Held(_))));
        // Read the kept way once: a view then never reads the page a second time, so it
        // cannot see two versions of it.
        assert!(r0.get(b"createdat").unwrap().is_some());
        let read = db.pages_read();
        assert!(!r0.with_root_held(|b| matches!(b.root, super::Root::Held(_))));
        assert_eq!(db.pages_read(), read, "not read again: the kept copy is the one used");
    }

    #[test]
    fn a_damaged_root_is_read_and_reported_the_kept_way() {
        use super::super::ReadMode;
        // r0's page: the first leaf page after the two metas and the freelist is a record's.
        let (_dir, db) = records_db(ReadMode::Pread, None);
        let tx = db.view(MetaChoice::Current).unwrap();
        let r0 = tx.root().bucket_at(&[b"images".as_slice(), b"r0"]).unwrap().unwrap();
        let page = usize::try_from(r0.root_page()).unwrap();
        for (at, byte) in [(0, 0xee), (8, 0x01), (15, 0x7f)] {
            let (_dir, db) = records_db(ReadMode::Pread, Some((page * 4096 + at, byte)));
            let tx = db.view(MetaChoice::Current).unwrap();
            let r0 = tx.root().bucket_at(&[b"images".as_slice(), b"r0"]).unwrap().unwrap();
            let read = |b: &super::Bucket<'_>| {
                b.get(b"createdat")
                    .map(|v| v.map(<[u8]>::to_vec))
                    .map_err(|e| e.to_string())
            };
            let held = r0.with_root_held(|b| (matches!(b.root, super::Root::Held(_)), read(b)));
            let kept = read(&r0);
            assert!(!held.0, "header byte {at}: not held");
            assert!(kept.is_err(), "header byte {at}: {kept:?}");
            assert_eq!(held.1, kept, "header byte {at}");
        }
    }
    /// A walk reads each page a branch points to whole, at once: its start first and then
    /// the rest would read (and keep) the first 512 bytes twice.
    #[test]
    fn pages_below_a_branch_are_read_whole_at_once() {
        use super::super::ReadMode;
        let file = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/docker-28.5/io.containerd.metadata.v1.bolt/meta.db"
        );
        let db = Db::open(std::path::Path::new(file), ReadMode::Pread).unwrap();
        let tx = db.view(MetaChoice::Current).unwrap();
        let path = [b"v1".as_slice(), b"moby", b"content", b"blob"];
        let blobs = tx.root().bucket_at(&path).unwrap().unwrap();
        let branch = blobs.root_node().unwrap();
        assert!(branch.is_branch() && branch.count >= 2, "{} children", branch.count);
        let before = db.source.kept_bytes();
        let items: Vec<_> = blobs.cursor().collect();
        assert!(items.len() > 50 && items.iter().all(Result::is_ok), "{}", items.len());
        // The root was read before the walk: the walk kept its leaves, one page each.
        assert_eq!(db.source.kept_bytes() - before, usize::from(branch.count) * 4096);
    }
}
