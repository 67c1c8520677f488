//! Where a bbolt file's bytes come from: a read-only memory map, or the whole file read into
//! memory when mapping is refused (an empty file, a pipe, some FUSE mounts) or not wanted.
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
}

/// The bytes of one file, mapped or owned.
pub enum Source {
    Mapped(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl Source {
    pub fn open(path: &Path, mode: ReadMode) -> std::io::Result<Source> {
        let file = open_read_only(path)?;
        if mode == ReadMode::Mmap {
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

    pub fn bytes(&self) -> &[u8] {
        match self {
            Source::Mapped(m) => m,
            Source::Owned(v) => v,
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
