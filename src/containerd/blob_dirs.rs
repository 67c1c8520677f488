//! The content store's `blobs/<algorithm>` directories, opened once, and blobs looked up
//! relative to them: an `openat` / `fstatat` of the digest's hex instead of a walk of the
//! whole path from `/` for each of 47,000 blobs, and every lookup inside the directories that
//! were checked when the root was opened.
//!
//! ```text
//!  <content>/blobs/sha256   open(O_DIRECTORY | O_NOFOLLOW)   ── fd
//!                  └─ <hex>  openat(fd, hex, O_NOFOLLOW | O_NONBLOCK | O_NOATIME)
//!                            fstatat(fd, hex, AT_SYMLINK_NOFOLLOW)
//! ```
//!
//! `O_NOFOLLOW` makes a planted symlink fail (`ELOOP`) instead of being followed,
//! `O_NONBLOCK` keeps a planted FIFO from blocking the open, and `O_NOATIME` (when we may use
//! it) keeps reading from writing access times to the disk being examined.

use super::blobs::FileKind;
use super::root::BlobStat;
use crate::digest::Digest;
use std::ffi::CString;
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The algorithms a content store keeps blobs under.
const ALGORITHMS: [&str; 3] = ["sha256", "sha384", "sha512"];

/// The open `blobs/<algorithm>` directories of one content store.
#[derive(Default)]
pub struct BlobDirs(Vec<(&'static str, File)>);

impl BlobDirs {
    /// Opens the directories under `content` that are real directories (not symlinks); the
    /// others are left out, and lookups for their algorithm answer `None`.
    pub fn open(content: &Path) -> BlobDirs {
        let dirs = ALGORITHMS
            .iter()
            .filter_map(|alg| {
                std::fs::OpenOptions::new()
                    .read(true)
                    .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW)
                    .open(content.join("blobs").join(alg))
                    .ok()
                    .map(|d| (*alg, d))
            })
            .collect();
        BlobDirs(dirs)
    }

    fn dir(&self, digest: &Digest) -> Option<&File> {
        self.0.iter().find(|(a, _)| *a == digest.algorithm()).map(|(_, d)| d)
    }

    /// Opens the blob read-only without following a symlink or blocking on a FIFO; `None`
    /// when its algorithm's directory is not open.
    pub fn open_blob(&self, digest: &Digest) -> Option<std::io::Result<File>> {
        let dir = self.dir(digest)?;
        let name = match c_name(digest) {
            Ok(n) => n,
            Err(e) => return Some(Err(e)),
        };
        let flags = libc::O_RDONLY | libc::O_CLOEXEC | libc::O_NOFOLLOW | libc::O_NONBLOCK;
        let openat = |extra: i32| {
            // SAFETY: `dir` is an open directory and `name` a NUL-terminated string; the
            // returned descriptor is owned by the File made from it below and nothing else.
            let fd = unsafe { libc::openat(dir.as_raw_fd(), name.as_ptr(), flags | extra) };
            if fd < 0 {
                Err(std::io::Error::last_os_error())
            } else {
                // SAFETY: `fd` was just opened and is not owned by anything else.
                Ok(unsafe { File::from_raw_fd(fd) })
            }
        };
        // O_NOATIME is refused (EPERM) for files we do not own unless we are root.
        Some(match openat(libc::O_NOATIME) {
            Err(e) if e.raw_os_error() == Some(libc::EPERM) => openat(0),
            other => other,
        })
    }

    /// What the blob is (`fstatat` without following a link); `None` when its algorithm's
    /// directory is not open.
    pub fn stat_blob(&self, digest: &Digest) -> Option<std::io::Result<BlobStat>> {
        let dir = self.dir(digest)?;
        Some(c_name(digest).and_then(|name| stat_at(dir, &name)))
    }
}

/// A digest's hex as a C string (a validated digest's hex never holds a NUL).
fn c_name(digest: &Digest) -> std::io::Result<CString> {
    CString::new(digest.hex()).map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))
}

fn stat_at(dir: &File, name: &CString) -> std::io::Result<BlobStat> {
    let mut st = std::mem::MaybeUninit::<libc::stat>::zeroed();
    // SAFETY: a valid directory fd, a NUL-terminated name, and a buffer of the right type.
    let rc = unsafe {
        libc::fstatat(
            dir.as_raw_fd(),
            name.as_ptr(),
            st.as_mut_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: fstatat succeeded and filled the buffer.
    let st = unsafe { st.assume_init() };
    let kind = match st.st_mode & libc::S_IFMT {
        libc::S_IFREG => FileKind::Regular,
        libc::S_IFLNK => FileKind::Symlink,
        libc::S_IFDIR => FileKind::Directory,
        libc::S_IFIFO => FileKind::Fifo,
        libc::S_IFSOCK => FileKind::Socket,
        libc::S_IFBLK => FileKind::BlockDevice,
        libc::S_IFCHR => FileKind::CharDevice,
        _ => FileKind::Other,
    };
    Ok(BlobStat {
        kind,
        len: u64::try_from(st.st_size).unwrap_or(0),
    })
}
