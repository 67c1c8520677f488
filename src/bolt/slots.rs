//! Tables of one atomic word per page of the file, which the reader keeps while it walks: who
//! claimed a page, whether its keys were found in order, which branch element a range check
//! was made for (see `Tx::claim_page`, `Tx::ordered_bit`, `Tx::range_slot`).
//!
//! ```text
//!  page id:   0     1     2    ...   n-1
//!  slots:   | w0 | w1 | w2 | ... | wn-1 |   one AtomicU64 each, all zero at first
//!            \__________ 2 MiB __________/  backed by one transparent huge page each
//! ```
//!
//! Why they are mapped and not allocated: a point lookup (one `inspect` of a 20,000-image
//! store) touches a few thousand slots scattered over tables of 2 MB each. Backed by 4 KiB
//! pages, every page of them was faulted twice, first mapped to the zero page by the read
//! that finds a slot empty, then copied by the write that claims it: 2,800 of the lookup's
//! 4,600 page faults. A huge page is one fault and one clear for 2 MiB of slots. A small
//! table, or one where no anonymous map can be made, is ordinary zeroed memory.

use std::sync::atomic::AtomicU64;

/// Below this many slots (1 MiB, a file of 512 MiB of 4 KiB pages) a table is heap memory:
/// rounded up to a huge page, it would hold more memory than its faults cost (a full walk
/// touches every slot anyway).
const MAPPED_MIN_SLOTS: usize = 1 << 17;

/// The size and alignment of a transparent huge page on x86-64 (a hint elsewhere).
const HUGE_PAGE: usize = 2 << 20;

/// A table of zeroed atomic slots, indexed by page id.
pub struct PageSlots {
    backing: Backing,
    len: usize,
}

enum Backing {
    /// An anonymous map; the slots start at the aligned address `start` inside it. The map is
    /// only kept alive here and never read as bytes: the slots are reached through `start`.
    Mapped {
        _map: memmap2::MmapMut,
        start: usize,
    },
    Heap(Box<[AtomicU64]>),
}

// The cast of zeroed bytes to slots below relies on this layout.
const _: () = assert!(
    std::mem::size_of::<AtomicU64>() == 8 && std::mem::align_of::<AtomicU64>() == 8 && std::mem::align_of::<u64>() == 8
);

impl PageSlots {
    /// `len` slots at zero (`len` comes from the file's length, capped by the caller).
    pub fn zeroed(len: usize) -> PageSlots {
        let backing = (len >= MAPPED_MIN_SLOTS)
            .then(|| mapped(len))
            .flatten()
            .unwrap_or_else(|| Backing::Heap(heap(len)));
        PageSlots { backing, len }
    }

    /// Whether the slots live in an anonymous map (for tests).
    #[cfg(test)]
    fn is_mapped(&self) -> bool {
        matches!(self.backing, Backing::Mapped { .. })
    }
}

/// An anonymous map holding `len` slots from a huge-page-aligned address, with the kernel
/// asked to back it with huge pages; `None` when no map can be made.
fn mapped(len: usize) -> Option<Backing> {
    let bytes = len.checked_mul(8)?.checked_next_multiple_of(HUGE_PAGE)?;
    let mut map = memmap2::MmapMut::map_anon(bytes.checked_add(HUGE_PAGE)?).ok()?;
    let raw = map.as_mut_ptr() as usize;
    let start = raw.checked_next_multiple_of(HUGE_PAGE)?;
    // Only a hint: without huge pages the slots are faulted in 4 KiB at a time.
    let _ = map.advise_range(memmap2::Advice::HugePage, start - raw, bytes);
    Some(Backing::Mapped { _map: map, start })
}

/// `len` slots at zero from the allocator (zeroed allocations are not written again).
fn heap(len: usize) -> Box<[AtomicU64]> {
    let zeros: Box<[u64]> = vec![0u64; len].into_boxed_slice();
    // SAFETY: `AtomicU64` has the size and bit validity of `u64` and, asserted above, its
    // alignment, so the allocation is freed with the layout it was made with; zero is a valid
    // `AtomicU64`; the box is the only owner of the memory.
    unsafe { Box::from_raw(Box::into_raw(zeros) as *mut [AtomicU64]) }
}

impl std::ops::Deref for PageSlots {
    type Target = [AtomicU64];

    fn deref(&self) -> &[AtomicU64] {
        match &self.backing {
            // SAFETY: `start..start + len * 8` lies inside the map (sized for it past the
            // aligned start), which lives as long as `self`; an anonymous map is zeroed,
            // and zero is a valid `AtomicU64`; the address is 2 MiB-aligned, so 8-aligned.
            // The map is never reached as bytes, so these shared atomics alias nothing.
            Backing::Mapped { start, .. } => unsafe {
                std::slice::from_raw_parts(*start as *const AtomicU64, self.len)
            },
            Backing::Heap(slots) => slots,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PageSlots;
    use std::sync::atomic::Ordering;

    #[test]
    fn small_and_large_tables_start_at_zero_and_keep_what_is_stored() {
        for len in [0, 1, 100, super::MAPPED_MIN_SLOTS, 300_001] {
            let slots = PageSlots::zeroed(len);
            assert_eq!(slots.len(), len);
            assert_eq!(slots.is_mapped(), len >= super::MAPPED_MIN_SLOTS);
            assert!(slots.iter().all(|s| s.load(Ordering::Relaxed) == 0));
            if let Some(last) = slots.last() {
                last.store(7, Ordering::Relaxed);
                assert_eq!(slots.get(len - 1).map(|s| s.load(Ordering::Relaxed)), Some(7));
            }
        }
    }
}
