//! The two meta pages and the choice between them.
//!
//! ```text
//! page 0 and page 1 (each one page long; page N starts at N * pageSize)
//! +0   page header: id u64 (= txid % 2) | flags u16 (0x04) | count u16 | overflow u32
//! +16  magic u32 = 0xED0CDAED     +20 version u32 = 2    +24 pageSize u32   +28 flags u32
//! +32  root bucket: root pgid u64 | sequence u64
//! +48  freelist pgid u64 (0xFFFF_FFFF_FFFF_FFFF: not persisted, "NoFreelistSync")
//! +56  pgid u64: high-water mark, valid page ids are below it
//! +64  txid u64
//! +72  checksum u64 = FNV-1a 64 over bytes +16..+72
//! ```
//!
//! bbolt commits by writing data pages, then the meta page `txid % 2`, so the meta with the
//! higher txid is the current transaction and the other one is the transaction before it.
//! Integers are in the byte order of the machine that wrote the file.
//!
//! A stored checksum of 0 is not checked by bbolt up to 1.3.6 (`m.checksum != 0 &&
//! m.checksum != m.sum64()`; containerd 1.6.20 links 1.3.6), and is a checksum error from
//! 1.3.7 on (etcd-io/bbolt#241; containerd 1.7 and 2.x). Such a meta is read as the old
//! releases read it, but only when no meta validates fully, and said as damage
//! ([`MetaFault::ZeroChecksum`]).

use crate::bytes::{Bytes, Endian};

pub const MAGIC: u32 = 0xED0C_DAED;
pub const VERSION: u32 = 2;
/// Meta `freelist` value of a database opened with `NoFreelistSync` (containerd 1.7+).
pub const NO_FREELIST: u64 = u64::MAX;
/// Bytes of page header plus meta struct.
pub const META_END: usize = 72 + 8;

const META_OFF: usize = 16;
const MAGIC_OFF: usize = META_OFF;
const VERSION_OFF: usize = MAGIC_OFF + 4;
const PAGE_SIZE_OFF: usize = VERSION_OFF + 4;
const FLAGS_OFF: usize = PAGE_SIZE_OFF + 4;
const ROOT_OFF: usize = FLAGS_OFF + 4;
const SEQUENCE_OFF: usize = ROOT_OFF + 8;
const FREELIST_OFF: usize = SEQUENCE_OFF + 8;
pub(crate) const PGID_OFF: usize = FREELIST_OFF + 8;
const TXID_OFF: usize = PGID_OFF + 8;
pub(crate) const CHECKSUM_OFF: usize = TXID_OFF + 8;

/// Smallest and largest page sizes we accept from a meta page. bbolt takes the OS page size;
/// real files use 4096 (amd64) or 65536 (arm64/ppc64le with 64 KiB kernels).
pub const MIN_PAGE_SIZE: u32 = 512;
pub const MAX_PAGE_SIZE: u32 = 1 << 24;

/// One decoded meta page, valid or not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Meta {
    /// 0 or 1: which meta page this is.
    pub slot: u8,
    /// Byte offset of the page in the file.
    pub offset: u64,
    pub endian: Endian,
    pub header_id: u64,
    pub header_flags: u16,
    pub magic: u32,
    pub version: u32,
    pub page_size: u32,
    pub flags: u32,
    pub root: u64,
    pub sequence: u64,
    pub freelist: u64,
    /// High-water mark: number of pages in use.
    pub pgid: u64,
    pub txid: u64,
    pub checksum: u64,
    pub computed_checksum: u64,
    /// `None` when the page validates as bbolt does it (magic, version, checksum), plus a sane
    /// page size; otherwise why not.
    pub fault: Option<MetaFault>,
}

/// Why a meta page does not validate. Checked in bbolt's order.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MetaFault {
    #[error("file too short for a meta page at offset {0}")]
    Truncated(u64),
    #[error("bad magic {0:#010x}")]
    BadMagic(u32),
    #[error("unsupported version {0}")]
    BadVersion(u32),
    #[error("checksum mismatch: stored {stored:#018x}, computed {computed:#018x}")]
    BadChecksum { stored: u64, computed: u64 },
    /// Every other field validates; only bbolt 1.3.7 and later refuse it.
    #[error(
        "stored checksum 0 (computed {computed:#018x}): bbolt 1.3.6 and older (containerd 1.6.20) skip the check and read this meta; bbolt 1.3.7 and later (containerd 1.7, 2.x) refuse it as a checksum error"
    )]
    ZeroChecksum { computed: u64 },
    #[error("implausible page size {0}")]
    BadPageSize(u32),
}

impl Meta {
    pub fn is_valid(&self) -> bool {
        self.fault.is_none()
    }

    /// Valid, or valid but for a stored checksum of 0: what bbolt 1.3.6 and older read.
    pub fn is_readable(&self) -> bool {
        matches!(self.fault, None | Some(MetaFault::ZeroChecksum { .. }))
    }

    pub fn persists_freelist(&self) -> bool {
        self.freelist != NO_FREELIST
    }
}

/// FNV-1a 64, the meta page checksum.
pub fn fnv1a64(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Guesses the byte order from the magic at `offset + 16`: the writer's native order.
pub fn sniff_endian(file: &[u8], offset: usize) -> Option<Endian> {
    let magic = Bytes::new(file, Endian::Little).u32_at(offset.checked_add(MAGIC_OFF)?)?;
    if magic == MAGIC {
        Some(Endian::Little)
    } else if magic.swap_bytes() == MAGIC {
        Some(Endian::Big)
    } else {
        None
    }
}

/// Decodes the meta page at `offset` as slot `slot`.
pub fn parse(file: &[u8], offset: usize, slot: u8, endian: Endian) -> Meta {
    let mut meta = Meta {
        slot,
        offset: offset as u64,
        endian,
        header_id: 0,
        header_flags: 0,
        magic: 0,
        version: 0,
        page_size: 0,
        flags: 0,
        root: 0,
        sequence: 0,
        freelist: 0,
        pgid: 0,
        txid: 0,
        checksum: 0,
        computed_checksum: 0,
        fault: None,
    };
    let Some(page) = Bytes::new(file, endian).sub(offset, META_END) else {
        meta.fault = Some(MetaFault::Truncated(offset as u64));
        return meta;
    };
    // `sub` guaranteed META_END bytes, so none of these reads can fail.
    let u32_at = |o| page.u32_at(o).unwrap_or(0);
    let u64_at = |o| page.u64_at(o).unwrap_or(0);
    meta.header_id = u64_at(0);
    meta.header_flags = page.u16_at(8).unwrap_or(0);
    meta.magic = u32_at(MAGIC_OFF);
    meta.version = u32_at(VERSION_OFF);
    meta.page_size = u32_at(PAGE_SIZE_OFF);
    meta.flags = u32_at(FLAGS_OFF);
    meta.root = u64_at(ROOT_OFF);
    meta.sequence = u64_at(SEQUENCE_OFF);
    meta.freelist = u64_at(FREELIST_OFF);
    meta.pgid = u64_at(PGID_OFF);
    meta.txid = u64_at(TXID_OFF);
    meta.checksum = u64_at(CHECKSUM_OFF);
    meta.computed_checksum = fnv1a64(page.slice(META_OFF, CHECKSUM_OFF - META_OFF).unwrap_or(&[]));
    meta.fault = if meta.magic != MAGIC {
        Some(MetaFault::BadMagic(meta.magic))
    } else if meta.version != VERSION {
        Some(MetaFault::BadVersion(meta.version))
    } else if meta.checksum != meta.computed_checksum && meta.checksum != 0 {
        Some(MetaFault::BadChecksum {
            stored: meta.checksum,
            computed: meta.computed_checksum,
        })
    } else if !(MIN_PAGE_SIZE..=MAX_PAGE_SIZE).contains(&meta.page_size) || !meta.page_size.is_power_of_two() {
        Some(MetaFault::BadPageSize(meta.page_size))
    } else if meta.checksum != meta.computed_checksum {
        Some(MetaFault::ZeroChecksum {
            computed: meta.computed_checksum,
        })
    } else {
        None
    };
    meta
}

/// The offsets bbolt's reader tries for meta page 1 when meta 0 does not validate: each a
/// possible page size, 1 KiB to 16 MiB (bbolt's `getPageSize`).
pub fn meta_one_offsets() -> impl Iterator<Item = usize> {
    (0..15u32).map(|i| 1024usize << i)
}

/// The byte order of a meta page 1 in `page` (the file's bytes from `offset`, one of
/// [`meta_one_offsets`]) when it is readable ([`Meta::is_readable`]) and its page size is
/// `offset`: where and how [`locate`] accepts one.
pub fn meta_one_at(page: &[u8], offset: usize) -> Option<Endian> {
    let endian = sniff_endian(page, 0)?;
    let meta = parse(page, 0, 1, endian);
    (meta.is_readable() && meta.page_size as usize == offset).then_some(endian)
}

/// Both metas of a file, found the way bbolt finds them.
pub struct Metas {
    pub metas: [Meta; 2],
    pub page_size: u32,
    pub endian: Endian,
}

/// Reads meta 0 at offset 0; when it does not validate, probes for meta 1 at 1 KiB << i as
/// bbolt's `getPageSize` does, so a file whose first page is torn is still readable. When
/// no meta validates, again accepting a stored checksum of 0 as bbolt 1.3.6 does.
/// Returns `Err((meta0, meta1))` when no meta is readable.
pub fn locate(file: &[u8]) -> Result<Metas, Box<(Meta, Meta)>> {
    locate_by(file, Meta::is_valid).or_else(|_| locate_by(file, Meta::is_readable))
}

/// [`locate`], taking the metas `accept` accepts.
fn locate_by(file: &[u8], accept: fn(&Meta) -> bool) -> Result<Metas, Box<(Meta, Meta)>> {
    let endian0 = sniff_endian(file, 0).unwrap_or(Endian::Little);
    let meta0 = parse(file, 0, 0, endian0);
    if accept(&meta0) {
        let ps = meta0.page_size;
        let meta1 = parse(file, ps as usize, 1, endian0);
        return Ok(Metas {
            metas: [meta0, meta1],
            page_size: ps,
            endian: endian0,
        });
    }
    let mut last = None;
    for off in meta_one_offsets() {
        if off.saturating_add(1024) > file.len() {
            break;
        }
        let endian = sniff_endian(file, off).unwrap_or(endian0);
        // The rule `meta_one_at` states for a page on its own.
        let meta1 = parse(file, off, 1, endian);
        if accept(&meta1) && meta1.page_size as usize == off {
            // Re-read meta 0 in the order meta 1 proved, so its fields are at least legible.
            let meta0 = parse(file, 0, 0, endian);
            return Ok(Metas {
                metas: [meta0, meta1],
                page_size: off as u32,
                endian,
            });
        }
        if off == 4096 || last.is_none() {
            last = Some(meta1);
        }
    }
    let meta1 = last.unwrap_or_else(|| parse(file, 4096, 1, endian0));
    Err(Box::new((meta0, meta1)))
}

/// Which meta a reader looks through.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MetaChoice {
    /// The valid meta with the higher txid, as bbolt chooses.
    #[default]
    Current,
    /// The other meta: the transaction before the current one.
    Previous,
    /// Meta page 0 or 1 explicitly.
    Slot(u8),
}

/// bbolt's choice: the meta with the higher txid (meta 1 only if strictly higher) when it
/// validates, else the other one; when neither validates, the same between those readable
/// with a stored checksum of 0 (bbolt 1.3.6 takes these by txid with the valid ones: a valid
/// meta is preferred here, as every later bbolt reads it). Returns the slot, or `None` when
/// neither is readable.
pub fn select_current(metas: &[Meta; 2]) -> Option<u8> {
    let [m0, m1] = metas;
    let order = if m1.txid > m0.txid {
        [(1u8, m1), (0, m0)]
    } else {
        [(0, m0), (1, m1)]
    };
    (order.iter().find(|(_, m)| m.is_valid()))
        .or_else(|| order.iter().find(|(_, m)| m.is_readable()))
        .map(|&(slot, _)| slot)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh 4 KiB-page database's meta as bbolt `init` writes it.
    fn fresh_meta(txid: u64) -> Vec<u8> {
        let mut p = vec![0u8; 4096];
        p[0..8].copy_from_slice(&(txid % 2).to_le_bytes());
        p[8..10].copy_from_slice(&4u16.to_le_bytes());
        p[16..20].copy_from_slice(&MAGIC.to_le_bytes());
        p[20..24].copy_from_slice(&VERSION.to_le_bytes());
        p[24..28].copy_from_slice(&4096u32.to_le_bytes());
        p[32..40].copy_from_slice(&3u64.to_le_bytes());
        p[48..56].copy_from_slice(&2u64.to_le_bytes());
        p[56..64].copy_from_slice(&4u64.to_le_bytes());
        p[64..72].copy_from_slice(&txid.to_le_bytes());
        let sum = fnv1a64(&p[16..72]);
        p[72..80].copy_from_slice(&sum.to_le_bytes());
        p
    }

    #[test]
    fn checksum_matches_go_hash_fnv() {
        // Vectors computed with Go's hash/fnv over a fresh bbolt file's metas.
        assert_eq!(parse(&fresh_meta(0), 0, 0, Endian::Little).checksum, 0x07516e114689fdee);
        assert_eq!(parse(&fresh_meta(1), 0, 1, Endian::Little).checksum, 0x264c351a5179480f);
        assert!(parse(&fresh_meta(1), 0, 1, Endian::Little).is_valid());
    }

    fn pair(valid0: bool, valid1: bool) -> [Meta; 2] {
        let mut m0 = parse(&fresh_meta(6), 0, 0, Endian::Little);
        let mut m1 = parse(&fresh_meta(7), 0, 1, Endian::Little);
        if !valid0 {
            m0.fault = Some(MetaFault::BadMagic(0));
        }
        if !valid1 {
            m1.fault = Some(MetaFault::BadMagic(0));
        }
        [m0, m1]
    }

    #[test]
    fn selection_covers_all_four_cases() {
        assert_eq!(select_current(&pair(true, true)), Some(1));
        assert_eq!(select_current(&pair(true, false)), Some(0));
        assert_eq!(select_current(&pair(false, true)), Some(1));
        assert_eq!(select_current(&pair(false, false)), None);
        // Equal txids: meta 0 wins, as in bbolt.
        let mut same = pair(true, true);
        same[1].txid = same[0].txid;
        assert_eq!(select_current(&same), Some(0));
    }

    /// A stored checksum of 0 passes bbolt 1.3.6's `validate` (containerd 1.6.20 read such a
    /// file whole; coldctr called it "not a readable bbolt file"): readable, never valid, and
    /// taken only when no meta validates.
    #[test]
    fn a_zero_checksum_is_read_as_bbolt_1_3_6_reads_it_after_any_valid_meta() {
        let zeroed = |txid: u64| {
            let mut p = fresh_meta(txid);
            p[72..80].fill(0);
            p
        };
        let m = parse(&zeroed(7), 0, 1, Endian::Little);
        assert!(matches!(m.fault, Some(MetaFault::ZeroChecksum { .. })), "{:?}", m.fault);
        assert!(m.is_readable() && !m.is_valid());
        // The other fields still count: a zero checksum on a bad page size is no meta.
        let mut bad = zeroed(7);
        bad[24..28].copy_from_slice(&3u32.to_le_bytes());
        assert!(!parse(&bad, 0, 1, Endian::Little).is_readable());
        // The newer meta's checksum 0 loses to a valid older one; both 0: the newer.
        let valid = parse(&fresh_meta(6), 0, 0, Endian::Little);
        assert_eq!(select_current(&[valid, m.clone()]), Some(0));
        let old = parse(&zeroed(6), 0, 0, Endian::Little);
        assert_eq!(select_current(&[old, m]), Some(1));
        // A file whose metas both store 0 is located.
        let mut file = zeroed(6);
        file.extend(zeroed(7));
        let metas = locate(&file).expect("readable");
        assert_eq!(metas.page_size, 4096);
        assert_eq!(select_current(&metas.metas), Some(1));
    }

    #[test]
    fn big_endian_magic_is_recognised() {
        let mut p = vec![0u8; 32];
        p[16..20].copy_from_slice(&MAGIC.to_be_bytes());
        assert_eq!(sniff_endian(&p, 0), Some(Endian::Big));
        assert_eq!(sniff_endian(&p, 40), None);
    }
}
