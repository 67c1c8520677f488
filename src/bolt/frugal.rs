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
        will_need(&self.file, offset, len);
    }
}

/// Asks the kernel to start reading `len` bytes of `file` at `offset` into the page cache
/// (`POSIX_FADV_WILLNEED`), without waiting for them.
pub fn will_need(file: &File, offset: u64, len: usize) {
    use std::os::fd::AsRawFd;
    let (Ok(start), Ok(len)) = (libc::off_t::try_from(offset), libc::off_t::try_from(len)) else {
        return;
    };
    // SAFETY: an open fd; the call only schedules reads into the page cache.
    unsafe {
        libc::posix_fadvise(file.as_raw_fd(), start, len, libc::POSIX_FADV_WILLNEED);
    }
}

/// Whether reading the byte of `file` at `offset` would wait for the device: `Some(true)`
/// when the page cache lacks its page (a `preadv2` with `RWF_NOWAIT` says `EAGAIN`), `None`
/// where the kernel or the file system cannot tell (before Linux 4.14, some file systems).
/// Reads one byte into memory of our own, never more.
pub fn would_wait(file: &File, offset: u64) -> Option<bool> {
    use std::os::fd::AsRawFd;
    let offset = libc::c_long::try_from(offset).ok()?;
    let mut byte = 0u8;
    let iov = libc::iovec {
        iov_base: std::ptr::addr_of_mut!(byte).cast(),
        iov_len: 1,
    };
    // SAFETY: one iovec of one byte of a local that outlives the call; an open fd. The
    // offset's high half is 0: on 64-bit Linux the low half carries the whole offset.
    let read = unsafe {
        libc::syscall(
            libc::SYS_preadv2,
            file.as_raw_fd(),
            std::ptr::addr_of!(iov),
            1 as libc::c_int,
            offset,
            0 as libc::c_long,
            libc::RWF_NOWAIT,
        )
    };
    if read >= 0 {
        return Some(false);
    }
    match std::io::Error::last_os_error().raw_os_error() {
        Some(libc::EAGAIN) => Some(true),
        _ => None,
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

#[cfg(test)]
mod tests {
    use super::{will_need, would_wait};
    use std::os::fd::AsRawFd;

    /// Which of the first `pages` 4 KiB pages of `file` the page cache holds, as `mincore`
    /// sees them through a map of the file.
    fn resident(file: &std::fs::File, pages: usize) -> Vec<bool> {
        let map = unsafe { memmap2::Mmap::map(file) }.unwrap();
        let mut vec = vec![0u8; pages];
        let done = unsafe { libc::mincore(map.as_ptr() as *mut libc::c_void, pages * 4096, vec.as_mut_ptr()) };
        assert_eq!(done, 0);
        vec.iter().map(|v| v & 1 == 1).collect()
    }

    /// `would_wait` says what `mincore` says of each page, where it can tell: after the file
    /// is read, after its clean pages are dropped (`POSIX_FADV_DONTNEED`; a file system
    /// whose pages are its storage, tmpfs, keeps them), and after `will_need` asks for them
    /// again. A page just read never counts as one the device must give.
    #[test]
    fn would_wait_agrees_with_the_page_cache() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pages");
        std::fs::write(&path, vec![7u8; 16 * 4096]).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        file.sync_all().unwrap();
        let _ = std::fs::read(&path).unwrap();
        let answers =
            |file: &std::fs::File| -> Vec<Option<bool>> { (0..16u64).map(|p| would_wait(file, p * 4096)).collect() };
        let read = answers(&file);
        assert!(read.iter().all(|&w| w != Some(true)), "{read:?}");
        for phase in ["dropped", "asked for again"] {
            if phase == "dropped" {
                let dropped = unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
                assert_eq!(dropped, 0);
            } else {
                will_need(&file, 0, 16 * 4096);
                // The reads `will_need` started complete without us: wait for them here.
                let _ = std::fs::read(&path).unwrap();
            }
            // `would_wait` reads one byte of each page it finds cached, which does not
            // bring any page in; the map is taken first, so that mincore sees the same cache.
            let before = resident(&file, 16);
            let now = answers(&file);
            for (page, (w, r)) in now.iter().zip(&before).enumerate() {
                if let Some(w) = w {
                    assert_eq!(*w, !r, "page {page}, {phase}: would_wait {now:?}, resident {before:?}");
                }
            }
        }
        // Past the end of the file: nothing to wait for, or cannot tell; never a wait.
        assert_ne!(would_wait(&file, 1 << 40), Some(true));
    }
}
