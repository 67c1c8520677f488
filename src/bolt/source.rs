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
use std::path::Path;

/// How to get the bytes of a file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReadMode {
    /// Map the file read-only; fall back to reading it when the map fails.
    #[default]
    Mmap,
    /// Never map the file (safe from a truncation, not from commits: see `commits.rs`):
    /// pages read as asked for, as `Pread` reads them, the file taken to end at its metas'
    /// high-water mark; read whole into memory only by a reader of every page
    /// ([`Source::open_whole`], the carvers' [`Source::bytes`]).
    Read,
    /// Read pages as they are asked for (see the module doc: point lookups): a small node's
    /// first bytes, the rest of a page only when its elements reach past them.
    Pread,
}

/// A read-only map watched for pages the disk cannot give (`crate::sigbus`: such a page
/// reads as zeros, a damaged page, instead of ending the process). The guard is dropped first.
pub struct GuardedMap {
    _guard: crate::sigbus::Guard,
    map: memmap2::Mmap,
}

impl GuardedMap {
    fn new(map: memmap2::Mmap, path: &Path) -> GuardedMap {
        GuardedMap {
            _guard: crate::sigbus::guard(&map, path),
            map,
        }
    }
}

impl std::ops::Deref for GuardedMap {
    type Target = memmap2::Mmap;
    fn deref(&self) -> &memmap2::Mmap {
        &self.map
    }
}

/// The bytes of one file, mapped, owned, or read as asked for.
pub enum Source {
    /// A map, read frugally when memory is tight (see `frugal.rs`).
    Mapped(GuardedMap, Option<super::frugal::Frugal>),
    Owned(Vec<u8>),
    Lazy(Lazy),
}

/// How much of a file's start can hold its meta pages: `meta::locate` looks no further (meta 1
/// is probed up to 16 MiB in), so a file whose metas are not there is refused from this much.
pub const META_SEARCH: usize = (1024 << 14) + 8192;

impl Source {
    /// The file for a [`super::Db`]: with `ReadMode::Read`, read as asked for up to the
    /// high-water mark of the metas at its start (see [`ReadMode::Read`]), so that a point
    /// lookup reads what it asks for, not the whole file (sweep 31: one `bolt get` read
    /// 0.95 GB), and a file that is no bbolt file is refused without being read whole.
    pub fn open(path: &Path, mode: ReadMode) -> std::io::Result<Source> {
        Source::open_as(path, mode, true, true)
    }

    /// [`Source::open`], not through a symlink at `path` when `follow` is false (a root's
    /// meta.db, looked at first: one swapped for a link while we read is not followed).
    pub fn open_following(path: &Path, mode: ReadMode, follow: bool) -> std::io::Result<Source> {
        Source::open_as(path, mode, true, follow)
    }

    /// The whole file, for a reader of every page (carving): mapped, or with
    /// `ReadMode::Read` read whole as asked.
    pub fn open_whole(path: &Path, mode: ReadMode) -> std::io::Result<Source> {
        if mode == ReadMode::Read {
            return Source::open_as(path, mode, false, true);
        }
        let file = open_read_only(path)?;
        if !file.metadata()?.is_file() {
            // What `open` says of it.
            return Source::open_as(path, mode, false, true);
        }
        // SAFETY: as in `open_as`: private, read-only; truncation by another process is the
        // one hazard.
        match unsafe { memmap2::MmapOptions::new().map(&file) } {
            Ok(map) => Ok(Source::Mapped(GuardedMap::new(map, path), None)),
            // A filesystem that cannot map (some FUSE ones): read whole, when memory can hold
            // it, and said when it cannot.
            Err(e) => {
                let len = file.metadata()?.len();
                let mut data = Vec::new();
                if usize::try_from(len).map_or(true, |n| data.try_reserve_exact(n).is_err()) {
                    return Err(std::io::Error::other(format!(
                        "cannot be mapped ({e}) nor held in memory ({len} bytes), and every page of it is to be read"
                    )));
                }
                (&file).take(len).read_to_end(&mut data)?;
                Ok(Source::Owned(data))
            }
        }
    }

    fn open_as(path: &Path, mode: ReadMode, metas_first: bool, follow: bool) -> std::io::Result<Source> {
        let file = open_file(path, follow)?;
        // A device or FIFO is no bbolt file, and /dev/zero read to its end never ends.
        let m = file.metadata()?;
        if !m.is_file() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("not a regular file ({})", crate::paths::kind_of(&m.file_type())),
            ));
        }
        if mode == ReadMode::Pread
            && let Ok(len) = usize::try_from(m.len())
            && len > 0
            && let Some(lazy) = Lazy::new(file.try_clone()?, path, len)
        {
            return Ok(Source::Lazy(lazy));
        }
        if mode == ReadMode::Read
            && metas_first
            && let Ok(len) = usize::try_from(m.len())
            && len > 0
            && let Some(lazy) = Lazy::new(file.try_clone()?, path, len)
        {
            return Ok(Source::Lazy(lazy.up_to_metas_mark()));
        }
        if mode != ReadMode::Read {
            // SAFETY: the map is private to this process and read-only. The one hazard is
            // another process truncating the file while we read it (SIGBUS); a responder who
            // reads a live file can choose `ReadMode::Read` (`--no-mmap`) instead.
            if let Ok(map) = unsafe { memmap2::MmapOptions::new().map(&file) } {
                let frugal = super::frugal::Frugal::when_constrained(&file, map.len());
                if frugal.is_some() {
                    let _ = map.advise(memmap2::Advice::Random);
                }
                return Ok(Source::Mapped(GuardedMap::new(map, path), frugal));
            }
            // No map (an address-space limit): pages read as asked, not the whole file at once.
            if let Ok(len) = usize::try_from(m.len())
                && len > 0
                && let Some(lazy) = Lazy::new(file.try_clone()?, path, len)
            {
                return Ok(Source::Lazy(lazy));
            }
        }
        // No more than the length it had when opened: a file still being written stops there.
        let mut data = Vec::new();
        let head = m.len().min(META_SEARCH as u64);
        read_around_errors(&file, path, 0, head, &mut data)?;
        if metas_first && super::meta::locate(&data).is_err() {
            // No bbolt file: what was read says so (the caller reports both metas).
            return Ok(Source::Owned(data));
        }
        // Only up to the high-water mark the metas give (no page of the tree lies past it):
        // the length alone is no bound, as a sparse tail of terabytes has one for nothing.
        // And memory for it is asked for first, so that a file memory cannot hold is an
        // error, not the kernel's OOM kill.
        let hwm = super::meta::locate(&data).ok().and_then(|metas| {
            metas
                .metas
                .iter()
                .filter(|meta| meta.is_readable())
                .map(|meta| meta.pgid.saturating_mul(u64::from(metas.page_size)))
                .max()
        });
        let want = hwm.unwrap_or(m.len()).clamp(head, m.len());
        let more = want.saturating_sub(head);
        if usize::try_from(more).map_or(true, |n| data.try_reserve_exact(n).is_err()) {
            return Err(std::io::Error::other(format!(
                "cannot be held in memory ({want} bytes to read): read it through a map (without --no-mmap)"
            )));
        }
        read_around_errors(&file, path, head, more, &mut data)?;
        Ok(Source::Owned(data))
    }

    /// Every byte of the file (a lazily read file is read in full first).
    pub fn bytes(&self) -> &[u8] {
        match self {
            Source::Mapped(m, _) => m,
            Source::Owned(v) => v,
            Source::Lazy(l) => l.all(),
        }
    }

    /// Starts reading a range the reader will want soon, where that pays (a map read
    /// frugally, pages read as asked for); a no-op otherwise.
    pub fn prefetch(&self, offset: u64, len: usize) {
        match self {
            Source::Mapped(_, Some(f)) => f.prefetch(offset, len),
            Source::Lazy(l) => super::frugal::will_need(&l.file, offset, len),
            _ => {}
        }
    }

    /// Whether reading the page at `offset` would wait for the device, when pages are read
    /// as asked for and the kernel can tell (`None` otherwise; see `frugal::would_wait`).
    pub fn would_wait(&self, offset: u64) -> Option<bool> {
        match self {
            Source::Lazy(l) if offset < l.len as u64 => super::frugal::would_wait(&l.file, offset),
            _ => None,
        }
    }

    /// True when pages are read ahead along the tree (see `frugal.rs`) and the page at
    /// `offset` has not been read ahead from yet.
    pub fn first_expansion(&self, offset: u64) -> bool {
        match self {
            Source::Mapped(_, Some(f)) => f.first_expansion(offset),
            _ => false,
        }
    }

    /// The file's length.
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> usize {
        match self {
            Source::Lazy(l) => l.len,
            other => other.bytes().len(),
        }
    }

    /// The map is read frugally: the memory limit is small next to the file.
    pub fn is_frugal(&self) -> bool {
        matches!(self, Source::Mapped(_, Some(_)))
    }

    /// Pages are read as they are asked for (`pread`), not mapped.
    pub fn is_lazy(&self) -> bool {
        matches!(self, Source::Lazy(_))
    }

    /// Fills `dst` from the file at `offset`, keeping nothing, when pages are read as asked
    /// for (`false` otherwise, or when `dst` would run past the file's end). A failed or
    /// short read leaves zeros, as [`Lazy`]'s reads do.
    pub fn read_transient(&self, dst: &mut [u8], offset: usize) -> bool {
        match self {
            Source::Lazy(l) if offset.checked_add(dst.len()).is_some_and(|end| end <= l.len) => {
                dst.fill(0);
                l.read_run(dst, offset);
                true
            }
            _ => false,
        }
    }

    /// Bytes read as asked for and kept so far (0 for a map).
    #[cfg(test)]
    pub fn kept_bytes(&self) -> usize {
        match self {
            Source::Lazy(l) => l
                .arena
                .lock()
                .map_or(0, |a| a.blocks.len().saturating_sub(1) * BLOCK + a.used),
            _ => 0,
        }
    }

    /// At least `len` bytes at `offset` were read as asked for and are kept.
    pub fn has_run(&self, offset: usize, len: usize) -> bool {
        match self {
            Source::Lazy(l) => l.runs.get(offset).is_some_and(|(_, have)| have >= len),
            _ => false,
        }
    }

    /// `len` bytes at `offset`, or `None` when they run past the end of the file.
    pub fn range(&self, offset: usize, len: usize) -> Option<&[u8]> {
        match self {
            Source::Lazy(l) => l.range(offset, len),
            Source::Mapped(m, frugal) => {
                let bytes = m.get(offset..offset.checked_add(len)?)?;
                if let Some(f) = frugal {
                    f.touch(m, len);
                }
                Some(bytes)
            }
            other => other.bytes().get(offset..offset.checked_add(len)?),
        }
    }
}

/// Appends `len` bytes of `file` from `start` to `data` (fewer if the file ends first). A
/// block the disk cannot give (a bad sector: EIO) reads as zeros, so that the pages there are
/// damaged pages, said where they are, and the rest of the file is read; the blocks so read
/// are logged with the file (`crate::sigbus`, said by `cli::main`). Only when no byte at all
/// could be read is the error returned.
fn read_around_errors(file: &File, path: &Path, start: u64, len: u64, data: &mut Vec<u8>) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    const CHUNK: usize = 1 << 20;
    const SECTOR_RUN: usize = 4096;
    // Fills `buf` from `at`; how many bytes there were (fewer at the end of the file).
    let fill = |buf: &mut [u8], at: u64| -> std::io::Result<usize> {
        let mut got = 0;
        while got < buf.len() {
            match file.read_at(buf.get_mut(got..).unwrap_or_default(), at + got as u64) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(got)
    };
    let end = start.saturating_add(len);
    let mut buf = vec![0u8; CHUNK.min(usize::try_from(len).unwrap_or(CHUNK)).max(1)];
    let (mut first_bad, mut bad, mut good, mut last_error) = (None, 0usize, 0u64, None);
    let mut at = start;
    'chunks: while at < end {
        let want = usize::try_from(end - at).unwrap_or(CHUNK).min(buf.len());
        let chunk = buf.get_mut(..want).unwrap_or_default();
        match fill(chunk, at) {
            Ok(n) => {
                data.extend_from_slice(chunk.get(..n).unwrap_or_default());
                good += n as u64;
                if n < want {
                    break;
                }
            }
            // Block by block: only those that fail read as zeros.
            Err(_) => {
                for (i, block) in chunk.chunks_mut(SECTOR_RUN).enumerate() {
                    let block_at = at + (i * SECTOR_RUN) as u64;
                    match fill(block, block_at) {
                        Ok(n) => {
                            data.extend_from_slice(block.get(..n).unwrap_or_default());
                            good += n as u64;
                            if n < block.len() {
                                break 'chunks;
                            }
                        }
                        Err(e) => {
                            data.extend(std::iter::repeat_n(0, block.len()));
                            first_bad.get_or_insert(block_at);
                            bad += 1;
                            last_error = Some(e);
                        }
                    }
                }
            }
        }
        at += want as u64;
    }
    if let (Some(e), 0) = (&last_error, good) {
        return Err(std::io::Error::new(e.kind(), e.to_string()));
    }
    if let Some(first) = first_bad {
        crate::sigbus::log(path, first, bad);
    }
    Ok(())
}

/// Arena blocks are this large (and this aligned, so that the kernel can back each with one
/// transparent huge page: one fault and one clear per block instead of one per 4 KiB page).
const BLOCK: usize = 2 << 20;

/// A file read in runs as they are asked for, each run `pread` once into an append-only arena
/// (memory grows with the pages read, not with the file).
///
/// Runs are keyed by their file offset: a page is always asked for at its own offset, first
/// its header and then with its overflow, so a longer run replaces a shorter one in the index
/// (the shorter stays valid for whoever holds it). Memory handed out is never written again
/// or freed before the `Lazy` is dropped.
pub struct Lazy {
    file: File,
    path: std::path::PathBuf,
    len: usize,
    /// Blocks a read failed on, logged once each (`crate::sigbus::log`).
    failed_blocks: std::sync::Mutex<std::collections::BTreeSet<u64>>,
    /// File offset -> (address in the arena, length).
    runs: Box<super::shards::Keyed<(usize, usize)>>,
    /// The file opened again per thread slot (`/proc/self/fd/N`: the same inode, never a path
    /// looked up again), `None` where that cannot be done; see `shards`.
    own: Box<super::shards::PerSlot<Option<File>>>,
    arena: std::sync::Mutex<Arena>,
    whole: std::sync::OnceLock<Vec<u8>>,
}

#[derive(Default)]
struct Arena {
    /// Each map with the aligned address where its usable block starts. The maps are only
    /// kept alive here; they are never dereferenced, so no reference to a whole block ever
    /// aliases the slices handed out.
    blocks: Vec<(memmap2::MmapMut, usize)>,
    /// Bytes used in the last block.
    used: usize,
    /// Usable size of the last block.
    size: usize,
}

impl Arena {
    /// `len` fresh bytes no one else holds, or `None` when memory cannot be mapped.
    fn take(&mut self, len: usize) -> Option<*mut u8> {
        if self.blocks.is_empty() || self.size - self.used < len {
            let size = len.div_ceil(BLOCK).max(1).checked_mul(BLOCK)?;
            let mut map = memmap2::MmapMut::map_anon(size.checked_add(BLOCK)?).ok()?;
            let raw = map.as_mut_ptr() as usize;
            let start = raw.checked_add(BLOCK - 1)? & !(BLOCK - 1);
            let offset = start - raw;
            // Only a hint: without huge pages the block is faulted in 4 KiB at a time.
            let _ = map.advise_range(memmap2::Advice::HugePage, offset, size);
            self.blocks.push((map, start));
            self.used = 0;
            self.size = size;
        }
        let (_, start) = self.blocks.last()?;
        let at = start.checked_add(self.used)?;
        self.used += len;
        Some(at as *mut u8)
    }
}

impl Lazy {
    fn new(file: File, path: &Path, len: usize) -> Option<Lazy> {
        Some(Lazy {
            file,
            path: path.to_path_buf(),
            len,
            failed_blocks: Default::default(),
            runs: Default::default(),
            own: Default::default(),
            arena: Default::default(),
            whole: std::sync::OnceLock::new(),
        })
    }

    /// The file as `ReadMode::Read` sees it, its pages still read as asked for: no further
    /// than the high-water mark its valid metas give (no page of the tree lies past it; a
    /// sparse tail of terabytes is not the file's), and at least its first
    /// [`META_SEARCH`] bytes. Unbounded when no meta is found (the metas are refused then).
    fn up_to_metas_mark(mut self) -> Lazy {
        let head = self.len.min(META_SEARCH);
        let prefix = self.range(0, self.len.min(super::META_PREFIX)).unwrap_or_default();
        let metas = match super::meta::locate(prefix) {
            Ok(m) if (m.page_size as usize).saturating_mul(2) <= prefix.len() => Ok(m),
            _ => super::meta::locate(self.range(0, head).unwrap_or_default()),
        };
        let Ok(metas) = metas else {
            return self;
        };
        let hwm = metas
            .metas
            .iter()
            .filter(|meta| meta.is_readable())
            .map(|meta| meta.pgid.saturating_mul(u64::from(metas.page_size)))
            .max();
        if let Some(hwm) = hwm.and_then(|h| usize::try_from(h).ok()) {
            self.len = hwm.clamp(head, self.len);
        }
        self
    }

    fn range(&self, offset: usize, len: usize) -> Option<&[u8]> {
        let end = offset.checked_add(len)?;
        if end > self.len {
            return None;
        }
        if len == 0 {
            return Some(&[]);
        }
        if let Some((at, have)) = self.runs.get(offset)
            && have >= len
        {
            // SAFETY: `at..at + have` was filled by `read_run` and is never written again.
            return Some(unsafe { std::slice::from_raw_parts(at as *const u8, len) });
        }
        let at = self.arena.lock().ok()?.take(len)?;
        // SAFETY: `take` handed out `len` bytes no one else holds.
        let dst = unsafe { std::slice::from_raw_parts_mut(at, len) };
        self.read_run(dst, offset);
        self.runs.update(offset, |runs| {
            let entry = runs.entry(offset).or_insert((at as usize, len));
            if entry.1 < len {
                *entry = (at as usize, len);
            }
        });
        // SAFETY: filled above and never written again.
        Some(unsafe { std::slice::from_raw_parts(at as *const u8, len) })
    }

    fn all(&self) -> &[u8] {
        self.whole.get_or_init(|| {
            // The file's length, which memory may not hold (this source is what is left when
            // it could not be mapped): then nothing, and every page reads as out of range
            // instead of the process aborting on a failed allocation.
            let mut data = Vec::new();
            if data.try_reserve_exact(self.len).is_err() {
                return data;
            }
            data.resize(self.len, 0);
            self.read_run(&mut data, 0);
            data
        })
    }

    /// Fills `dst` from the file at `offset`. A read error or a short read leaves zeros, which
    /// no page header or meta checksum accepts: the reader reports the page. A block the disk
    /// cannot give (EIO) is logged as `--no-mmap`'s are, once, and the blocks after it are
    /// still read.
    fn read_run(&self, dst: &mut [u8], offset: usize) {
        use std::os::unix::fs::FileExt;
        let file = self
            .own
            .get_or_init(|| reopened(&self.file))
            .as_ref()
            .unwrap_or(&self.file);
        let failed = fill_around_errors(|buf, at| file.read_at(buf, at), dst, offset as u64);
        if failed.is_empty() {
            return;
        }
        let Ok(mut logged) = self.failed_blocks.lock() else {
            return;
        };
        // Runs of blocks not logged before, each said once: (first, how many).
        let mut run: Option<(u64, usize)> = None;
        for block in failed.into_iter().filter(|&b| logged.insert(b)) {
            run = match run {
                Some((first, n)) if first + n as u64 * ERROR_BLOCK == block => Some((first, n + 1)),
                Some((first, n)) => {
                    crate::sigbus::log(&self.path, first, n);
                    Some((block, 1))
                }
                None => Some((block, 1)),
            };
        }
        if let Some((first, n)) = run {
            crate::sigbus::log(&self.path, first, n);
        }
    }
}

/// The descriptor limit under which [`reopened`] reads through the shared descriptor instead.
const REOPEN_MIN_FILES: libc::rlim_t = 1024;

/// `file` opened again as a description of its own, when the same inode opens (through
/// `/proc`, which a rescue image may lack: then `None`, and `file` itself is read).
fn reopened(file: &File) -> Option<File> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::MetadataExt;
    // Descriptors are a resource of the caller's: under a low limit (`ulimit -n`) the
    // sixteen slots could take the ones a later open needs. Only with room to spare.
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the one struct it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 || limit.rlim_cur < REOPEN_MIN_FILES {
        return None;
    }
    let again = crate::noatime::open(
        Path::new(&format!("/proc/self/fd/{}", file.as_raw_fd())),
        libc::O_NONBLOCK,
    )
    .ok()?;
    let (was, is) = (file.metadata().ok()?, again.metadata().ok()?);
    (was.dev() == is.dev() && was.ino() == is.ino() && is.is_file()).then_some(again)
}

/// The size of the blocks a read error is confined to (a sector run, as `--no-mmap` reads).
const ERROR_BLOCK: u64 = 4096;

/// Fills `dst` with the bytes at `offset` through `read` (a `pread`), leaving zeros where it
/// fails, a whole [`ERROR_BLOCK`] at a time, and after a short read (the file's end). Returns
/// the offsets of the blocks that failed. A read of the whole run that fails may have failed
/// on any block of it (FUSE, NFS fail it whole): from there the run is read a block at a
/// time, and only a block whose own read fails is zeros.
fn fill_around_errors(
    read: impl Fn(&mut [u8], u64) -> std::io::Result<usize>,
    dst: &mut [u8],
    offset: u64,
) -> Vec<u64> {
    // The usual case: a read or two (a short one), no error. One inspect reads 5,000 pages.
    let mut done = 0usize;
    while let Some(rest) = dst.get_mut(done..).filter(|r| !r.is_empty()) {
        match read(rest, offset + done as u64) {
            Ok(0) => return Vec::new(),
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return by_block(read, dst, offset, done),
        }
    }
    Vec::new()
}

/// [`fill_around_errors`] from `done` on, after a read failed there: a block at a time.
fn by_block(
    read: impl Fn(&mut [u8], u64) -> std::io::Result<usize>,
    dst: &mut [u8],
    offset: u64,
    mut done: usize,
) -> Vec<u64> {
    let mut failed = Vec::new();
    loop {
        let at = offset + done as u64;
        let block = at - at % ERROR_BLOCK;
        let end = dst.len().min(done + (block + ERROR_BLOCK - at) as usize);
        let Some(rest) = dst.get_mut(done..end).filter(|r| !r.is_empty()) else {
            break;
        };
        match read(rest, at) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => {
                failed.push(block);
                done = end;
            }
        }
    }
    failed
}

/// Opens `path` read-only without touching its access time where the kernel lets us.
pub fn open_read_only(path: &Path) -> std::io::Result<File> {
    open_file(path, true)
}

/// [`open_read_only`], not through a symlink at `path` unless `follow`.
pub fn open_file(path: &Path, follow: bool) -> std::io::Result<File> {
    let no_follow = if follow { 0 } else { libc::O_NOFOLLOW };
    crate::noatime::open(path, libc::O_NONBLOCK | no_follow)
}

/// Where a file has data on disk (`SEEK_DATA`/`SEEK_HOLE`). A sparse file's holes read as
/// zeros and hold no page, so a look at every page of the file (the carvers) passes over them
/// rather than faulting in, or reading, terabytes of zeros that cost nothing on disk.
#[derive(Debug, Default)]
pub struct DataExtents(Option<Vec<(u64, u64)>>);

/// Runs of page ids, each `[from, to)`.
pub type PageRuns = Vec<(u64, u64)>;

/// More extents than this and the file is looked at whole (each extent is at least a block
/// of real disk, so a file with this many holes is read in reasonable time anyway).
const MAX_EXTENTS: usize = 1 << 16;

impl DataExtents {
    /// Nothing known: every byte may be data.
    pub fn whole() -> DataExtents {
        DataExtents(None)
    }

    /// The extents of the file at `path`; [`DataExtents::whole`] where the filesystem cannot
    /// say (or `path` is no file).
    pub fn of(path: &Path) -> DataExtents {
        DataExtents::of_file(path, true)
    }

    /// [`DataExtents::of`], not through a symlink at `path` unless `follow`.
    pub fn of_file(path: &Path, follow: bool) -> DataExtents {
        let Ok(file) = open_file(path, follow) else {
            return DataExtents::whole();
        };
        let Ok(len) = file.metadata().map(|m| m.len()) else {
            return DataExtents::whole();
        };
        let mut extents = Vec::new();
        for run in crate::sparse::DataRuns::new(&file, len) {
            match run {
                Ok(extent) if extents.len() < MAX_EXTENTS => extents.push(extent),
                _ => return DataExtents::whole(),
            }
        }
        DataExtents(Some(extents))
    }

    /// Whether `len` bytes from `at` may all hold data: in one extent (extents are maximal
    /// runs of data), or anywhere when nothing is known.
    pub fn covers(&self, at: u64, len: u64) -> bool {
        let Some(extents) = &self.0 else {
            return true;
        };
        let i = extents.partition_point(|&(_, end)| end <= at);
        extents
            .get(i)
            .is_some_and(|&(start, end)| start <= at && at.saturating_add(len) <= end)
    }

    /// The page ids in `from..to` (pages of `page_size` bytes) that may hold data, as runs,
    /// and the runs that lie wholly in holes.
    pub fn page_runs(&self, page_size: u64, from: u64, to: u64) -> (PageRuns, PageRuns) {
        let (mut data, mut holes) = (Vec::new(), Vec::new());
        let ps = page_size.max(1);
        let mut id = from;
        while id < to {
            let at = id.saturating_mul(ps);
            let next = match self.next_data(at) {
                None => to,
                Some(next) => (next / ps).min(to),
            };
            if next > id {
                holes.push((id, next));
                id = next;
                continue;
            }
            // Data from `id` on: up to the page where the extent's hole starts.
            let end = match &self.0 {
                None => to,
                Some(extents) => {
                    let i = extents.partition_point(|&(_, end)| end <= at);
                    extents.get(i).map_or(to, |&(_, end)| end.div_ceil(ps).min(to))
                }
            };
            let end = end.max(id + 1);
            data.push((id, end));
            id = end;
        }
        (data, holes)
    }

    /// The first offset at or after `at` that may hold data (`at` itself when not known);
    /// `None` when only holes follow.
    pub fn next_data(&self, at: u64) -> Option<u64> {
        let Some(extents) = &self.0 else {
            return Some(at);
        };
        let i = extents.partition_point(|&(_, end)| end <= at);
        extents.get(i).map(|&(start, _)| start.max(at))
    }
}

#[cfg(test)]
mod read_error_tests {
    use super::{ERROR_BLOCK, fill_around_errors};

    /// A file of 16 KiB of 0xab whose second block cannot be read: that block reads as
    /// zeros and is named; the blocks after it are read.
    #[test]
    fn a_failing_block_reads_as_zeros_and_the_rest_is_read() {
        let len = 4 * ERROR_BLOCK;
        let read = |buf: &mut [u8], at: u64| -> std::io::Result<usize> {
            if at >= len {
                return Ok(0);
            }
            let bad = ERROR_BLOCK..2 * ERROR_BLOCK;
            if bad.contains(&at) {
                return Err(std::io::Error::from_raw_os_error(libc::EIO));
            }
            // A read stops short before the bad block, as the kernel's does.
            let end = if at < bad.start { bad.start } else { len };
            let n = buf.len().min((end - at) as usize);
            buf[..n].fill(0xab);
            Ok(n)
        };
        // From 1 KiB in to the end, and a bit past it.
        let mut dst = vec![0u8; (len - 1024 + 100) as usize];
        assert_eq!(fill_around_errors(read, &mut dst, 1024), [ERROR_BLOCK]);
        let at = |off: u64| dst[(off - 1024) as usize];
        assert_eq!(at(1024), 0xab);
        assert_eq!(at(ERROR_BLOCK - 1), 0xab);
        assert_eq!(at(ERROR_BLOCK), 0);
        assert_eq!(at(2 * ERROR_BLOCK - 1), 0);
        assert_eq!(at(2 * ERROR_BLOCK), 0xab);
        assert_eq!(at(len - 1), 0xab);
        assert_eq!(at(len), 0, "past the end: zeros");
        // A read that fails whole when its range holds the bad block (FUSE, NFS): only the
        // bad block is zeros.
        let whole = |buf: &mut [u8], at: u64| -> std::io::Result<usize> {
            let end = at + buf.len() as u64;
            if at < 2 * ERROR_BLOCK && end > ERROR_BLOCK {
                return Err(std::io::Error::from_raw_os_error(libc::EIO));
            }
            read(buf, at)
        };
        let mut dst = vec![0u8; len as usize];
        assert_eq!(fill_around_errors(whole, &mut dst, 0), [ERROR_BLOCK]);
        assert_eq!(dst[0], 0xab);
        assert_eq!(dst[(ERROR_BLOCK - 1) as usize], 0xab);
        assert_eq!(dst[ERROR_BLOCK as usize], 0);
        assert_eq!(dst[(2 * ERROR_BLOCK) as usize], 0xab);
        // Starting inside the bad block: the rest of it is zeros, then data.
        let mut dst = vec![0u8; (2 * ERROR_BLOCK) as usize];
        assert_eq!(fill_around_errors(read, &mut dst, ERROR_BLOCK + 10), [ERROR_BLOCK]);
        assert_eq!(dst[0], 0);
        assert_eq!(dst[(ERROR_BLOCK - 11) as usize], 0);
        assert_eq!(dst[(ERROR_BLOCK - 10) as usize], 0xab);
    }
}

#[cfg(test)]
mod data_extent_tests {
    use super::DataExtents;

    #[test]
    fn runs_of_pages_split_at_holes() {
        // Data in bytes [0, 8192) and [20480, 24576): pages 0-1 and 5, of 4096 bytes.
        let d = DataExtents(Some(vec![(0, 8192), (20480, 24576)]));
        assert_eq!(d.page_runs(4096, 0, 10), (vec![(0, 2), (5, 6)], vec![(2, 5), (6, 10)]));
        assert_eq!(d.page_runs(4096, 1, 6), (vec![(1, 2), (5, 6)], vec![(2, 5)]));
        assert!(d.covers(0, 8192) && d.covers(4096, 4096));
        assert!(!d.covers(4096, 8192) && !d.covers(8192, 1));
        assert_eq!(d.next_data(9000), Some(20480));
        assert_eq!(d.next_data(30000), None);
        // Nothing known: all data.
        let all = DataExtents::whole();
        assert_eq!(all.page_runs(4096, 2, 7), (vec![(2, 7)], vec![]));
        assert!(all.covers(0, u64::MAX));
    }
}

#[cfg(test)]
mod unmapped_tests {
    use super::{META_SEARCH, ReadMode, Source};

    /// `ReadMode::Read` (`--no-mmap`) reads pages as asked for, and sees the file as a copy
    /// read whole up to the metas' mark would: the same bytes and length, a sparse tail past
    /// the mark left out; a reader of every page still gets it read whole.
    #[test]
    fn unmapped_pages_are_read_as_asked_up_to_the_metas_mark() {
        let t = tempfile::tempdir().unwrap();
        let fixture = std::fs::read("fixtures/docker-28.5/io.containerd.metadata.v1.bolt/meta.db").unwrap();
        let with_tail = t.path().join("tail.db");
        std::fs::write(&with_tail, &fixture).unwrap();
        let f = std::fs::OpenOptions::new().write(true).open(&with_tail).unwrap();
        f.set_len(64 << 20).unwrap();
        let page_size = 4096;
        let metas = super::super::meta::locate(&fixture).unwrap();
        let hwm = metas
            .metas
            .iter()
            .filter(|m| m.is_valid())
            .map(|m| usize::try_from(m.pgid).unwrap() * page_size)
            .max()
            .unwrap();
        for (path, want) in [
            (t.path().join("plain.db"), fixture.len()),
            (with_tail.clone(), hwm.max(META_SEARCH)),
        ] {
            if !path.exists() {
                std::fs::write(&path, &fixture).unwrap();
            }
            let whole = std::fs::read(&path).unwrap();
            let s = Source::open(&path, ReadMode::Read).unwrap();
            assert!(s.is_lazy(), "{}", path.display());
            assert_eq!(s.len(), want, "{}", path.display());
            let page = hwm - page_size;
            assert_eq!(s.range(page, page_size), Some(&whole[page..hwm]));
            assert!(s.has_run(page, page_size) && !s.has_run(page - page_size, 1));
            assert_eq!(s.range(want, 1), None);
            assert_eq!(s.bytes(), &whole[..want]);
            let all = Source::open_whole(&path, ReadMode::Read).unwrap();
            assert!(!all.is_lazy() && all.bytes() == &whole[..want]);
        }
    }
}
