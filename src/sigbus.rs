//! Mapped files whose pages the disk cannot give: a read of such a page through a map is a
//! `SIGBUS`, which would end the process with no word (a bad sector of a seized disk image,
//! mounted read-only; or a file another process truncates while it is read).
//!
//! ```text
//! guard(map, path)       the map's address range claims a slot (atomics only)
//! a read faults in it    SIGBUS handler: a page of zeros is mapped over the faulting page
//!                        (MAP_FIXED, anonymous, read-only), the fault is counted in the
//!                        slot with its offset, and the read goes on: it reads zeros
//! the reader             a bbolt page of zeros is a damaged page, said where it is; a blob
//!                        read so is unreadable (`Guard::faults`)
//! the guard dropped      faults nobody took are logged; `cli::main` says them (exit 3)
//! ```
//!
//! A fault outside every slot gets the default action again: the process ends by the signal,
//! as it did before. The handler touches only atomics and makes one `mmap` system call.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

const SLOTS: usize = 64;

const FREE: u8 = 0;
const CLAIMED: u8 = 1;
const ACTIVE: u8 = 2;

/// One guarded map: its address range, and the faults met in it.
struct Slot {
    state: AtomicU8,
    base: AtomicUsize,
    len: AtomicUsize,
    faults: AtomicUsize,
    /// The smallest faulting offset in the map, plus one (0: none).
    first: AtomicUsize,
}

impl Slot {
    const fn new() -> Slot {
        Slot {
            state: AtomicU8::new(FREE),
            base: AtomicUsize::new(0),
            len: AtomicUsize::new(0),
            faults: AtomicUsize::new(0),
            first: AtomicUsize::new(0),
        }
    }
}

static SLOT: [Slot; SLOTS] = [const { Slot::new() }; SLOTS];
static PAGE: AtomicUsize = AtomicUsize::new(0);
static INSTALLED: std::sync::Once = std::sync::Once::new();

/// The files of the active slots, for the report (never touched by the handler).
static PATHS: Mutex<Vec<Option<PathBuf>>> = Mutex::new(Vec::new());
/// Faults of guards dropped before anyone took them: (file, first offset, pages).
static LOG: Mutex<Vec<(PathBuf, u64, usize)>> = Mutex::new(Vec::new());

/// A map watched for faults; drop it before the map is unmapped.
pub struct Guard {
    slot: Option<usize>,
    path: PathBuf,
}

/// Watches `map` (a read-only map of the file at `path`). With every slot taken the map is
/// not watched, as before.
pub fn guard(map: &[u8], path: &Path) -> Guard {
    INSTALLED.call_once(install);
    let slot = SLOT.iter().position(|s| {
        s.state
            .compare_exchange(FREE, CLAIMED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    });
    if let Some(i) = slot
        && let Some(s) = SLOT.get(i)
    {
        if let Ok(mut paths) = PATHS.lock() {
            if paths.len() < SLOTS {
                paths.resize(SLOTS, None);
            }
            if let Some(p) = paths.get_mut(i) {
                *p = Some(path.to_path_buf());
            }
        }
        s.base.store(map.as_ptr() as usize, Ordering::Release);
        s.len.store(map.len(), Ordering::Release);
        s.faults.store(0, Ordering::Release);
        s.first.store(0, Ordering::Release);
        s.state.store(ACTIVE, Ordering::Release);
    }
    Guard {
        slot,
        path: path.to_path_buf(),
    }
}

impl Guard {
    /// The faults met so far, taken (they are not logged again): the first faulting offset
    /// and how many pages faulted.
    pub fn take_faults(&self) -> Option<(u64, usize)> {
        let s = SLOT.get(self.slot?)?;
        let n = s.faults.swap(0, Ordering::AcqRel);
        let first = s.first.swap(0, Ordering::AcqRel);
        (n > 0).then(|| (first.saturating_sub(1) as u64, n))
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let Some(i) = self.slot else { return };
        if let Some((first, pages)) = self.take_faults()
            && let Ok(mut log) = LOG.lock()
        {
            log.push((self.path.clone(), first, pages));
        }
        if let Ok(mut paths) = PATHS.lock()
            && let Some(p) = paths.get_mut(i)
        {
            *p = None;
        }
        if let Some(s) = SLOT.get(i) {
            s.state.store(FREE, Ordering::Release);
        }
    }
}

/// Logs `blocks` of `path` from offset `first` that the disk could not give, read as zeros
/// without a map (`--no-mmap`), to be said with the faults of maps.
pub fn log(path: &Path, first: u64, blocks: usize) {
    if let Ok(mut l) = LOG.lock() {
        l.push((path.to_path_buf(), first, blocks));
    }
}

/// Every fault nobody took, of dropped guards and of those still active: the file, the first
/// offset, how many pages read as zeros.
pub fn untaken() -> Vec<(PathBuf, u64, usize)> {
    let mut all = LOG.lock().map(|mut l| std::mem::take(&mut *l)).unwrap_or_default();
    let paths = PATHS.lock().map(|p| p.clone()).unwrap_or_default();
    for (i, s) in SLOT.iter().enumerate() {
        if s.state.load(Ordering::Acquire) != ACTIVE {
            continue;
        }
        let n = s.faults.swap(0, Ordering::AcqRel);
        let first = s.first.swap(0, Ordering::AcqRel);
        if n > 0 {
            let path = paths.get(i).cloned().flatten().unwrap_or_default();
            all.push((path, first.saturating_sub(1) as u64, n));
        }
    }
    all
}

fn install() {
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    PAGE.store(usize::try_from(page).unwrap_or(4096).max(1), Ordering::Release);
    // SAFETY: an all-zero sigaction is valid storage; the handler is an `extern "C"` function
    // of the SA_SIGINFO signature, and the old action is not asked for.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigbus as *const () as usize;
        action.sa_flags = libc::SA_SIGINFO | libc::SA_NODEFER;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut());
    }
}

extern "C" fn on_sigbus(_signal: libc::c_int, info: *mut libc::siginfo_t, _context: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
    let addr = unsafe { info.as_ref().map_or(0, |i| i.si_addr() as usize) };
    let page = PAGE.load(Ordering::Acquire).max(1);
    for s in &SLOT {
        if s.state.load(Ordering::Acquire) != ACTIVE {
            continue;
        }
        let base = s.base.load(Ordering::Acquire);
        let len = s.len.load(Ordering::Acquire);
        if addr < base || addr - base >= len {
            continue;
        }
        let at = addr - addr % page;
        // SAFETY: `at` is a page of a map this process made and still holds (the slot is
        // active until its guard is dropped, before the map); a private anonymous read-only
        // page replaces it, which the map's own unmapping later removes with the rest.
        let placed = unsafe {
            libc::mmap(
                at as *mut libc::c_void,
                page,
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                -1,
                0,
            )
        };
        if placed == libc::MAP_FAILED {
            break;
        }
        s.faults.fetch_add(1, Ordering::AcqRel);
        let offset = at.saturating_sub(base) + 1;
        let mut now = s.first.load(Ordering::Acquire);
        while now == 0 || offset < now {
            match s
                .first
                .compare_exchange_weak(now, offset, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => break,
                Err(seen) => now = seen,
            }
        }
        return;
    }
    // Not a map of ours: the default action, taken when the read faults again.
    // SAFETY: restores the default disposition of a valid signal.
    unsafe {
        libc::signal(libc::SIGBUS, libc::SIG_DFL);
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    /// A file cut short under its map (what a bad sector does to a read, the kernel's SIGBUS):
    /// the read goes on with zeros, and the fault is there to take, with its offset.
    #[test]
    fn a_page_the_file_no_longer_has_reads_as_zeros_and_is_counted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let mut f = std::fs::File::create(&path).unwrap();
        f.write_all(&vec![7u8; 4 * 4096]).unwrap();
        drop(f);
        let file = std::fs::File::open(&path).unwrap();
        // SAFETY: a private read-only map; the test cuts the file under it on purpose.
        let map = unsafe { memmap2::MmapOptions::new().map(&file) }.unwrap();
        let guard = super::guard(&map, &path);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(4096)
            .unwrap();
        let first = std::hint::black_box(map[0]);
        let cut = std::hint::black_box(map[2 * 4096 + 5]);
        assert_eq!((first, cut), (7, 0));
        assert_eq!(guard.take_faults(), Some((2 * 4096, 1)));
        assert_eq!(guard.take_faults(), None, "taken");
        let _ = std::hint::black_box(map[3 * 4096]);
        drop(guard);
        let logged: Vec<_> = super::untaken().into_iter().filter(|(p, ..)| *p == path).collect();
        assert_eq!(logged, [(path.clone(), 3 * 4096, 1)]);
        drop(map);
    }
}
