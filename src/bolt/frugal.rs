//! Reading a mapped bbolt file inside a memory limit smaller than the file (a rescue shell
//! in a 64 MiB cgroup, a node that is out of memory).
//!
//! ```text
//!  map:          MADV_RANDOM: a fault reads its one page, never the device's read-ahead
//!  branch page:  | k0 -> p17 | k1 -> p9051 | k2 -> p233 | ...
//!                   first visit: each child posix_fadvise(WILLNEED), reads in flight together
//!  leaf page:    | name (bucket) -> root p4410 | ...   when a walk first opens one of its
//!                   nested buckets: every nested bucket's root, likewise (a listing of the
//!                   keys alone never opens one, and reads nothing ahead)
//!  every limit/4 bytes of pages handed out: MADV_DONTNEED on the map (PTEs dropped; the
//!  pages stay in the page cache, clean and unmapped, the cheapest memory to reclaim)
//! ```
//!
//! Why: a fault on a mapped file reads the device's read-ahead window around it
//! (`read_ahead_kb`, 8 MiB on some virtual disks), so in a 64 MiB cgroup eight faults fill
//! the limit and each new fault evicts pages the walk has not used yet: a `content` listing
//! that takes 0.9 s cold ran past 2 minutes, re-reading the file hundreds of times. The
//! pages of a bbolt tree are scattered through the file, so no window of the file is the
//! right read-ahead either; the tree itself says which pages come next.
//! Only used when the limit is small next to the file: unconstrained, the kernel's own
//! read-ahead is the faster way to read a cold file.

use std::fs::File;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// A limit below this many times the file's size counts as small.
const SMALL_FACTOR: u64 = 2;

pub struct Frugal {
    file: File,
    /// Bytes of pages handed out since the map was last relieved.
    handed: AtomicUsize,
    /// Relieve the map after this many bytes.
    relieve_every: usize,
    /// Per 4 KiB of the file: the page there has had its next pages read ahead (once is
    /// enough: a cursor asks for the same page once per element).
    expanded: Box<[AtomicBool]>,
}

impl Frugal {
    /// The reader for a file of `len` bytes, when the memory limit this process runs under
    /// is small next to it (`None` otherwise).
    pub fn when_constrained(file: &File, len: usize) -> Option<Frugal> {
        let limit = memory_limit()?;
        if limit >= (len as u64).saturating_mul(SMALL_FACTOR) {
            return None;
        }
        Some(Frugal {
            file: file.try_clone().ok()?,
            handed: AtomicUsize::new(0),
            relieve_every: usize::try_from(limit / 4).unwrap_or(usize::MAX).max(1 << 20),
            expanded: (0..len.div_ceil(4096)).map(|_| AtomicBool::new(false)).collect(),
        })
    }

    /// Called for each range of the map handed out.
    pub fn touch(&self, map: &memmap2::Mmap, len: usize) {
        let before = self.handed.fetch_add(len, Ordering::Relaxed);
        if before / self.relieve_every != (before + len) / self.relieve_every {
            // SAFETY: the map is a private read-only map of a file we never write: after
            // MADV_DONTNEED an access faults the same bytes back in from the file. Slices
            // handed out stay valid (the addresses stay mapped).
            let _ = unsafe { map.unchecked_advise(memmap2::UncheckedAdvice::DontNeed) };
        }
    }

    /// True the first time it is asked for the page at `offset`.
    pub fn first_expansion(&self, offset: u64) -> bool {
        usize::try_from(offset / 4096)
            .ok()
            .and_then(|i| self.expanded.get(i))
            .is_some_and(|f| !f.swap(true, Ordering::Relaxed))
    }

    /// Asks the kernel to start reading `len` bytes at `offset` (a page the walk will want
    /// next); many such reads are in flight at once, where faults would wait one by one.
    pub fn prefetch(&self, offset: u64, len: usize) {
        use std::os::fd::AsRawFd;
        let (Ok(start), Ok(len)) = (libc::off_t::try_from(offset), libc::off_t::try_from(len)) else {
            return;
        };
        // SAFETY: an open fd; the call only schedules reads into the page cache.
        unsafe {
            libc::posix_fadvise(self.file.as_raw_fd(), start, len, libc::POSIX_FADV_WILLNEED);
        }
    }
}

/// The memory limit of this process's cgroup (the smallest along its path, v1 or v2), when
/// there is one.
pub fn memory_limit() -> Option<u64> {
    let cgroups = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let mut limit: Option<u64> = None;
    for line in cgroups.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        let (base, file) = if controllers.split(',').any(|c| c == "memory") {
            ("/sys/fs/cgroup/memory", "memory.limit_in_bytes")
        } else if controllers.is_empty() {
            ("/sys/fs/cgroup", "memory.max")
        } else {
            continue;
        };
        // The cgroup and each of its ancestors: the tightest limit holds.
        let mut dir = std::path::PathBuf::from(base).join(path.trim_start_matches('/'));
        loop {
            if let Some(n) = std::fs::read_to_string(dir.join(file))
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
            {
                limit = Some(limit.map_or(n, |l| l.min(n)));
            }
            if dir.as_os_str().len() <= base.len() || !dir.pop() {
                break;
            }
        }
    }
    limit
}
