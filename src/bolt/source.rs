//! Where a bbolt file's bytes come from: a read-only memory map, the whole file read into
//! memory when mapping is refused (an empty file, a pipe, some FUSE mounts) or not wanted, or
//! pages read one `pread` at a time as they are asked for (point lookups).
//!
//! Why the third: a lookup such as one `inspect` reads the record pages of every image of a
//! namespace (dockerd's `List("target.digest==")`), thousands of pages scattered through the
//! file. Through a map each first touch is a page fault, and the kernel maps 16 neighbouring
//! page-cache pages per fault ("fault-around") and unmaps them all at exit: three quarters of
//! such a run was spent mapping and unmapping pages it never reads. A `pread` of the one page
//! into memory of our own costs a fraction of that, and the process's resident set holds only
//! the pages read. Full walks keep the map: they read most pages anyway, and mapped pages are
//! page cache the kernel can reclaim under memory pressure, where copies would not be.
//!
//! The file is opened `O_RDONLY` (with `O_NOATIME` when the kernel allows it, so reading
//! evidence does not even change its access time) and never locked: bbolt's own readers take
//! `flock(LOCK_SH)` and would block forever behind a running containerd.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// How to get the bytes of a file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReadMode {
    /// Map the file read-only; fall back to reading it when the map fails.
    #[default]
    Mmap,
    /// Read the whole file into memory (a consistent copy of a file that may still change).
    Read,
    /// Read pages as they are asked for, each once (see the module doc: point lookups).
    Pread,
}

/// The bytes of one file, mapped, owned, or read as asked for.
pub enum Source {
    Mapped(memmap2::Mmap),
    Owned(Vec<u8>),
    Lazy(Lazy),
}

impl Source {
    pub fn open(path: &Path, mode: ReadMode) -> std::io::Result<Source> {
        let file = open_read_only(path)?;
        if mode == ReadMode::Pread
            && let Ok(m) = file.metadata()
            && m.is_file()
            && let Ok(len) = usize::try_from(m.len())
            && len > 0
            && let Some(lazy) = Lazy::new(file.try_clone()?, len)
        {
            return Ok(Source::Lazy(lazy));
        }
        if mode != ReadMode::Read {
            // SAFETY: the map is private to this process and read-only. The one hazard is
            // another process truncating the file while we read it (SIGBUS); a responder who
            // reads a live file can choose `ReadMode::Read` (`--no-mmap`) instead.
            if let Ok(map) = unsafe { memmap2::MmapOptions::new().map(&file) } {
                return Ok(Source::Mapped(map));
            }
        }
        let mut data = Vec::new();
        (&file).read_to_end(&mut data)?;
        Ok(Source::Owned(data))
    }

    /// Every byte of the file (a lazily read file is read in full first).
    pub fn bytes(&self) -> &[u8] {
        match self {
            Source::Mapped(m) => m,
            Source::Owned(v) => v,
            Source::Lazy(l) => l.all(),
        }
    }

    /// The file's length.
    pub fn len(&self) -> usize {
        match self {
            Source::Lazy(l) => l.len,
            other => other.bytes().len(),
        }
    }

    /// `len` bytes at `offset`, or `None` when they run past the end of the file.
    pub fn range(&self, offset: usize, len: usize) -> Option<&[u8]> {
        match self {
            Source::Lazy(l) => l.range(offset, len),
            other => other.bytes().get(offset..offset.checked_add(len)?),
        }
    }
}

/// Chunks of a lazily read file: read in units of this many bytes, aligned.
const CHUNK: usize = 4096;
const ABSENT: u8 = 0;
const READING: u8 = 1;
const PRESENT: u8 = 2;

/// A file read chunk by chunk into an anonymous map of its size (untouched chunks cost no
/// memory), each chunk once, from any thread.
///
/// Soundness: a chunk's bytes are written only by the thread that moved its state from
/// ABSENT to READING, through the raw pointer, and slices are made only of PRESENT chunks,
/// which are never written again; the Release store of PRESENT orders the write before any
/// reader's Acquire load.
pub struct Lazy {
    file: File,
    len: usize,
    /// Owns the memory `base` points into; never touched through itself after `new`.
    _buf: memmap2::MmapMut,
    base: *mut u8,
    state: Box<[std::sync::atomic::AtomicU8]>,
    whole: std::sync::OnceLock<()>,
}

// SAFETY: see the type's doc: writes go only to chunks one thread owns, reads only to chunks
// no thread writes.
unsafe impl Sync for Lazy {}
unsafe impl Send for Lazy {}

impl Lazy {
    fn new(file: File, len: usize) -> Option<Lazy> {
        let mut buf = memmap2::MmapMut::map_anon(len).ok()?;
        let base = buf.as_mut_ptr();
        let chunks = len.div_ceil(CHUNK);
        let state = (0..chunks).map(|_| std::sync::atomic::AtomicU8::new(ABSENT)).collect();
        Some(Lazy {
            file,
            len,
            _buf: buf,
            base,
            state,
            whole: std::sync::OnceLock::new(),
        })
    }

    fn range(&self, offset: usize, len: usize) -> Option<&[u8]> {
        let end = offset.checked_add(len)?;
        if end > self.len {
            return None;
        }
        if len > 0 {
            self.load(offset / CHUNK, (end - 1) / CHUNK);
        }
        // SAFETY: in bounds, and every chunk of the range is PRESENT (see the type's doc).
        Some(unsafe { std::slice::from_raw_parts(self.base.add(offset), len) })
    }

    fn all(&self) -> &[u8] {
        self.whole.get_or_init(|| {
            if let Some(last) = self.state.len().checked_sub(1) {
                self.load(0, last);
            }
        });
        // SAFETY: every chunk is PRESENT.
        unsafe { std::slice::from_raw_parts(self.base, self.len) }
    }

    /// Makes chunks `first..=last` PRESENT: runs of absent chunks this thread claims are read
    /// with one `pread` each; chunks another thread is reading are waited for.
    fn load(&self, first: usize, last: usize) {
        use std::sync::atomic::Ordering::{AcqRel, Acquire, Release};
        let mut i = first;
        while i <= last {
            let Some(s) = self.state.get(i) else { return };
            if s.load(Acquire) == PRESENT {
                i += 1;
                continue;
            }
            if s.compare_exchange(ABSENT, READING, AcqRel, Acquire).is_err() {
                while s.load(Acquire) != PRESENT {
                    std::thread::yield_now();
                }
                i += 1;
                continue;
            }
            let mut end = i + 1;
            while end <= last
                && self
                    .state
                    .get(end)
                    .is_some_and(|n| n.compare_exchange(ABSENT, READING, AcqRel, Acquire).is_ok())
            {
                end += 1;
            }
            self.read_run(i * CHUNK, (end * CHUNK).min(self.len));
            for n in self.state.get(i..end).unwrap_or_default() {
                n.store(PRESENT, Release);
            }
            i = end;
        }
    }

    /// Reads bytes `from..to` of the file into the buffer. A read error or a short read leaves
    /// zeros, which no page header or meta checksum accepts: the reader reports the page.
    fn read_run(&self, from: usize, to: usize) {
        use std::os::unix::fs::FileExt;
        let mut at = from;
        while at < to {
            // SAFETY: this thread owns chunks from..to (READING), in bounds of the map.
            let dst = unsafe { std::slice::from_raw_parts_mut(self.base.add(at), to - at) };
            match self.file.read_at(dst, at as u64) {
                Ok(0) => break,
                Ok(n) => at += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
    }
}

/// Opens `path` read-only without touching its access time where the kernel lets us.
pub fn open_read_only(path: &Path) -> std::io::Result<File> {
    // O_NOATIME is refused (EPERM) on files we do not own unless we hold CAP_FOWNER.
    match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOATIME | libc::O_NONBLOCK)
        .open(path)
    {
        Ok(f) => Ok(f),
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path),
        Err(e) => Err(e),
    }
}
