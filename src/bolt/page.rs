//! Pages and their elements.
//!
//! ```text
//! page header (16 bytes): id u64 | flags u16 | count u16 | overflow u32
//!   flags: 0x01 branch, 0x02 leaf, 0x04 meta, 0x10 freelist
//!   a page with overflow N spans (N + 1) * pageSize bytes; only the first block has a header
//!
//! branch element (16 bytes, `count` of them after the header):
//!   pos u32 | ksize u32 | child pgid u64          key at element + pos
//! leaf element (16 bytes):
//!   flags u32 (0x01: nested bucket) | pos u32 | ksize u32 | vsize u32
//!                                               key at element + pos, value right after it
//! freelist: `count` page ids (u64); count 0xFFFF means the first u64 holds the real count
//! ```
//!
//! Positions are relative to each element, so a damaged `pos` can point anywhere: every key
//! and value is bounds-checked against the logical page (or the inline bucket's value).
//! A value's key over 32,768 bytes (bbolt's `MaxKeySize`; its `Put` refuses longer ones) is
//! damage; a bucket's name may be longer (`CreateBucket` sets no limit).

use super::{BoltError, Db};
use crate::bytes::Bytes;

pub const HEADER_SIZE: usize = 16;
pub const ELEMENT_SIZE: usize = 16;
/// bbolt's `MaxKeySize`: the longest key its `Put` accepts (bucket names have no limit).
pub const MAX_KEY_SIZE: u32 = 32768;

/// How many bytes from its start a leaf or branch node's elements use (element headers, keys
/// and values), when the element headers lie within `bytes`; `None` otherwise (or when the
/// sum overflows). Reads only headers: a bound, not a check.
pub fn used_extent(bytes: &Bytes<'_>, flags: u16, count: u16) -> Option<usize> {
    let mut end = HEADER_SIZE.checked_add(ELEMENT_SIZE.checked_mul(usize::from(count))?)?;
    if end > bytes.len() {
        return None;
    }
    for i in 0..usize::from(count) {
        let off = HEADER_SIZE + ELEMENT_SIZE * i;
        let reach = if flags == LEAF {
            let (pos, k, v) = (bytes.u32_at(off + 4)?, bytes.u32_at(off + 8)?, bytes.u32_at(off + 12)?);
            off.checked_add(pos as usize)?
                .checked_add(k as usize)?
                .checked_add(v as usize)?
        } else {
            let (pos, k) = (bytes.u32_at(off)?, bytes.u32_at(off + 4)?);
            off.checked_add(pos as usize)?.checked_add(k as usize)?
        };
        end = end.max(reach);
    }
    Some(end)
}

pub const BRANCH: u16 = 0x01;
pub const LEAF: u16 = 0x02;
pub const META: u16 = 0x04;
pub const FREELIST: u16 = 0x10;

/// Leaf element flag of a nested bucket.
pub const BUCKET_LEAF_FLAG: u32 = 0x01;

/// The name bbolt's tools give a page type.
pub fn type_name(flags: u16) -> String {
    match flags {
        BRANCH => "branch".into(),
        LEAF => "leaf".into(),
        META => "meta".into(),
        FREELIST => "freelist".into(),
        other => format!("unknown<{other:02x}>"),
    }
}

/// A page read from the file (or the fake leaf page inside an inline bucket's value).
#[derive(Clone, Copy)]
pub struct Page<'a> {
    pub(super) db: &'a Db,
    /// The page id; for an inline page, the id of the page that holds it.
    pub id: u64,
    pub flags: u16,
    pub count: u16,
    pub overflow: u32,
    /// The whole logical page, header included; read page by page, a leaf or branch page
    /// may be only its first bytes, those that hold every element (`Tx::page`).
    pub data: Bytes<'a>,
    /// Byte offset of `data` in the file.
    pub offset: u64,
    /// True for the page inside an inline bucket value.
    pub inline: bool,
}

/// One leaf element: a key with its value or nested-bucket header.
#[derive(Clone, Copy, Debug)]
pub struct LeafElement<'a> {
    pub flags: u32,
    pub key: &'a [u8],
    pub value: &'a [u8],
    /// Byte offset of the value in the file.
    pub value_offset: u64,
}

impl LeafElement<'_> {
    pub fn is_bucket(&self) -> bool {
        self.flags & BUCKET_LEAF_FLAG != 0
    }
}

/// One branch element: the first key of a child subtree and the child's page id.
#[derive(Clone, Copy, Debug)]
pub struct BranchElement<'a> {
    pub key: &'a [u8],
    pub child: u64,
}

impl<'a> Page<'a> {
    /// An error at `rel` bytes into this page.
    pub fn corrupt(&self, rel: usize, what: impl Into<String>) -> BoltError {
        self.db.corrupt(self.id, self.offset.saturating_add(rel as u64), what)
    }

    pub fn is_leaf(&self) -> bool {
        self.flags == LEAF
    }

    pub fn is_branch(&self) -> bool {
        self.flags == BRANCH
    }

    /// Checks that this is a branch or leaf page whose element array fits.
    pub fn expect_node(&self) -> Result<(), BoltError> {
        if !self.is_leaf() && !self.is_branch() {
            return Err(self.corrupt(
                8,
                format!("expected a branch or leaf page, found {}", type_name(self.flags)),
            ));
        }
        let need = HEADER_SIZE + ELEMENT_SIZE * usize::from(self.count);
        if need > self.data.len() {
            return Err(self.corrupt(
                10,
                format!("{} elements do not fit in {} bytes", self.count, self.data.len()),
            ));
        }
        // bbolt writes the first element's key right after the last element header (node
        // write: keys and values follow the headers in order), so element 0's `pos` is the
        // size of the headers after it. Otherwise `count` is not what was written: a lowered
        // one hides the last elements' records from every reader, bbolt's too (sweep 30.2:
        // records dropped and fields read as null, exit 0).
        let pos_at = if self.is_leaf() { HEADER_SIZE + 4 } else { HEADER_SIZE };
        // No element: bbolt's page buffers are zeroed before use, so an empty node of its own
        // page (an empty bucket's root) has zeros where a first element header would be.
        if self.count == 0
            && !self.inline
            && let Some(first) = self.data.slice(HEADER_SIZE, ELEMENT_SIZE)
            && first.iter().any(|&b| b != 0)
        {
            return Err(self.corrupt(
                10,
                "the page says it has no element, but an element header follows its header: the element count is damaged",
            ));
        }
        if self.count > 0
            && let Some(pos) = self.data.u32_at(pos_at)
        {
            let after_headers = ELEMENT_SIZE * usize::from(self.count);
            if pos as usize != after_headers {
                return Err(self.corrupt(
                    10,
                    format!(
                        "the page says {} elements, but its first key lies {} bytes after the first element header, where {} headers would end at {after_headers}: the element count is damaged",
                        self.count, pos, self.count
                    ),
                ));
            }
        }
        Ok(())
    }

    fn element(&self, i: usize) -> Result<(usize, Bytes<'a>), BoltError> {
        let off = HEADER_SIZE + ELEMENT_SIZE * i;
        if i >= usize::from(self.count) {
            return Err(self.corrupt(off, format!("element {i} beyond count {}", self.count)));
        }
        match self.data.sub(off, ELEMENT_SIZE) {
            Some(e) => Ok((off, e)),
            None => Err(self.corrupt(off, format!("element {i} outside the page"))),
        }
    }

    /// A value's key over bbolt's `MaxKeySize`: `Put` refuses one, so the element is torn or
    /// crafted. Left unchecked, one such key spanning a page that claims many (a torn
    /// `overflow`) became a name of megabytes, escaped and padded into every row.
    fn key_too_long(&self, off: usize, i: usize, ksize: u32) -> BoltError {
        self.corrupt(
            off,
            format!(
                "leaf element {i} has a key of {ksize} bytes, over bbolt's maximum of {MAX_KEY_SIZE} for a value's key"
            ),
        )
    }

    /// Element `i`'s key does not sort after the key before it (`repeated`: it equals it):
    /// damage, for a binary search on the page misses keys a walk of it meets.
    pub fn out_of_order(&self, i: usize, repeated: bool) -> BoltError {
        let how = if repeated { "repeats" } else { "sorts before" };
        self.corrupt(
            HEADER_SIZE + ELEMENT_SIZE * i,
            format!(
                "{} element {i}'s key {how} the key before it: keys out of order, which lookups and listings read differently",
                type_name(self.flags)
            ),
        )
    }

    /// Leaf element `i`, key and value bounds-checked.
    pub fn leaf(&self, i: usize) -> Result<LeafElement<'a>, BoltError> {
        let (off, e) = self.element(i)?;
        let (Some(flags), Some(pos), Some(ksize), Some(vsize)) = (e.u32_at(0), e.u32_at(4), e.u32_at(8), e.u32_at(12))
        else {
            return Err(self.corrupt(off, "short leaf element"));
        };
        // `Put` refuses a longer key; `CreateBucket` does not, so a bucket's name (and the
        // branch keys that repeat it) may be any length.
        if ksize > MAX_KEY_SIZE && flags & BUCKET_LEAF_FLAG == 0 {
            return Err(self.key_too_long(off, i, ksize));
        }
        let key_off = off.checked_add(pos as usize);
        let key = key_off.and_then(|k| self.data.slice(k, ksize as usize));
        let value_off = key_off.and_then(|k| k.checked_add(ksize as usize));
        let value = value_off.and_then(|v| self.data.slice(v, vsize as usize));
        match (key, value, value_off) {
            (Some(key), Some(value), Some(v)) => Ok(LeafElement {
                flags,
                key,
                value,
                value_offset: self.offset.saturating_add(v as u64),
            }),
            _ => Err(self.corrupt(
                off,
                format!("leaf element {i} (pos {pos}, key {ksize} bytes, value {vsize} bytes) reaches past the page's {} bytes", self.data.len()),
            )),
        }
    }

    /// Branch element `i`, key bounds-checked.
    pub fn branch(&self, i: usize) -> Result<BranchElement<'a>, BoltError> {
        let (off, e) = self.element(i)?;
        let (Some(pos), Some(ksize), Some(child)) = (e.u32_at(0), e.u32_at(4), e.u64_at(8)) else {
            return Err(self.corrupt(off, "short branch element"));
        };
        let key = off
            .checked_add(pos as usize)
            .and_then(|k| self.data.slice(k, ksize as usize));
        match key {
            Some(key) => Ok(BranchElement { key, child }),
            None => Err(self.corrupt(
                off,
                format!(
                    "branch element {i} (pos {pos}, key {ksize} bytes) reaches past the page's {} bytes",
                    self.data.len()
                ),
            )),
        }
    }

    /// The key of element `i`, whichever kind of node this is.
    pub fn key(&self, i: usize) -> Result<&'a [u8], BoltError> {
        if self.is_branch() {
            Ok(self.branch(i)?.key)
        } else {
            Ok(self.leaf(i)?.key)
        }
    }

    /// Index of the child to descend into for `key`: the last element whose key is <= `key`
    /// (the first one when `key` sorts before all of them). Terminates on unsorted keys too.
    pub fn search_branch(&self, key: &[u8]) -> Result<usize, BoltError> {
        let (mut lo, mut hi) = (0usize, usize::from(self.count));
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.branch(mid)?.key <= key {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        Ok(lo.saturating_sub(1))
    }

    /// Index of the leaf element whose key equals `key`.
    pub fn search_leaf(&self, key: &[u8]) -> Result<Option<usize>, BoltError> {
        let (mut lo, mut hi) = (0usize, usize::from(self.count));
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.leaf(mid)?.key.cmp(key) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(Some(mid)),
            }
        }
        Ok(None)
    }

    /// The page ids listed in a freelist page, in stored order. Never reads past the page,
    /// whatever `count` claims.
    pub fn freelist_ids(&self) -> Result<Vec<u64>, BoltError> {
        let (start, count) = self.freelist_extent()?;
        // `count <= room`, and room is bounded by the page's length in the file.
        let ids = (0..count as usize)
            .filter_map(|i| self.data.u64_at(start + 8 * i))
            .collect();
        Ok(ids)
    }

    /// Where a freelist page's ids start and how many it lists, checked to fit the page: what
    /// bbolt's `freelist.read` needs to open the file (it panics on a page of another type).
    pub fn freelist_extent(&self) -> Result<(usize, u64), BoltError> {
        if self.flags != FREELIST {
            return Err(self.corrupt(8, format!("expected a freelist page, found {}", type_name(self.flags))));
        }
        let (start, count) = if self.count == 0xFFFF {
            let n = self
                .data
                .u64_at(HEADER_SIZE)
                .ok_or_else(|| self.corrupt(HEADER_SIZE, "freelist count missing"))?;
            (HEADER_SIZE + 8, n)
        } else {
            (HEADER_SIZE, u64::from(self.count))
        };
        let room = (self.data.len().saturating_sub(start) / 8) as u64;
        if count > room {
            return Err(self.corrupt(
                10,
                format!("freelist claims {count} ids but the page holds at most {room}"),
            ));
        }
        Ok((start, count))
    }
}
