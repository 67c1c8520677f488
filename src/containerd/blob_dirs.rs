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
use std::path::{Path, PathBuf};

/// The algorithms a content store keeps blobs under.
const ALGORITHMS: [&str; 3] = ["sha256", "sha384", "sha512"];

/// The open `blobs/<algorithm>` directories of one content store, and those that exist but
/// would not open (EIO, EMFILE, ENOMEM): a lookup there is that error, not a missing blob.
#[derive(Default)]
pub struct BlobDirs(Vec<(&'static str, std::io::Result<File>, PathBuf)>);

impl BlobDirs {
    /// Opens the directories under `content` that are real directories (not symlinks); the
    /// others are left out, and lookups for their algorithm answer `None`. One that is there
    /// but does not open answers each lookup with its error.
    pub fn open(content: &Path) -> BlobDirs {
        // The content store and its `blobs` directory, each opened relative to the one above
        // and not through a symlink: a directory swapped for a link after the root was checked
        // is not followed out of it (sweep 27: verify hashed a file planted outside).
        let blobs =
            crate::noatime::open(content, libc::O_DIRECTORY | libc::O_NOFOLLOW).and_then(|c| open_dir_at(&c, "blobs"));
        let dirs = ALGORITHMS
            .iter()
            .filter_map(|alg| {
                // Only looked up in (openat, fstatat), never listed: O_NOATIME all the same,
                // so that no open of the evidence goes without it.
                let path = content.join("blobs").join(alg);
                let opened = match blobs.as_ref().map_err(clone_error).and_then(|b| open_dir_at(b, alg)) {
                    Ok(d) => Ok(d),
                    // Not there, a symlink, not a directory: no blob of this algorithm is kept.
                    Err(e)
                        if e.kind() == std::io::ErrorKind::NotFound
                            || matches!(e.raw_os_error(), Some(libc::ELOOP | libc::ENOTDIR)) =>
                    {
                        return None;
                    }
                    Err(e) => Err(e),
                };
                Some((*alg, opened, path))
            })
            .collect();
        BlobDirs(dirs)
    }

    fn dir(&self, digest: &Digest) -> Option<std::io::Result<&File>> {
        self.0
            .iter()
            .find(|(a, _, _)| *a == digest.algorithm())
            .map(|(_, d, _)| d.as_ref().map_err(clone_error))
    }

    /// Opens the blob read-only without following a symlink or blocking on a FIFO; `None`
    /// when its algorithm's directory is not open.
    pub fn open_blob(&self, digest: &Digest) -> Option<std::io::Result<File>> {
        let dir = match self.dir(digest)? {
            Ok(dir) => dir,
            Err(e) => return Some(Err(e)),
        };
        let name = match c_name(digest) {
            Ok(n) => n,
            Err(e) => return Some(Err(e)),
        };
        Some(open_at(dir, &name, libc::O_NOFOLLOW | libc::O_NONBLOCK))
    }

    /// What the blob is (`fstatat` without following a link); `None` when its algorithm's
    /// directory is not open.
    pub fn stat_blob(&self, digest: &Digest) -> Option<std::io::Result<BlobStat>> {
        Some(
            self.dir(digest)?
                .and_then(|dir| c_name(digest).and_then(|name| stat_at(dir, &name))),
        )
    }
}

impl BlobDirs {
    /// The sha256 blobs that are regular files, by their 32 bytes, from one read of the
    /// directory (the entries' types as it gives them, no `fstatat` per name): for a caller
    /// about to ask about most of the blobs, where 47,000 lookups by name were a tenth of
    /// `images`. Names that are not 64 lowercase hex digits are left out (no lookup asks for
    /// them). `None` when the directory is not open or does not read to its end, or when an
    /// entry's type is not given (`DT_UNKNOWN`, on some filesystems): the caller then asks
    /// name by name.
    pub fn sha256_regular_files(&self) -> Option<foldhash::HashSet<[u8; 32]>> {
        let (_, dir, path) = self.0.iter().find(|(a, _, _)| *a == "sha256")?;
        let dir = dir.as_ref().ok()?;
        // Through "." (`read_dir_at`): where lookups by name would fail, so does the listing,
        // and the caller asks name by name as before.
        let mut listing = crate::noatime::read_dir_at(dir, path).ok()?;
        let mut files = foldhash::HashSet::default();
        while let Some(entry) = listing.next_raw() {
            match entry.ok()? {
                (None, _) => return None,
                (Some(FileKind::Regular), name) => {
                    if let Some(key) = crate::digest::sha256_bytes(name.to_bytes()) {
                        files.insert(key);
                    }
                }
                (Some(_), _) => {}
            }
        }
        Some(files)
    }
}

/// Opens the directory `name` in `dir`, not through a symlink.
fn open_dir_at(dir: &File, name: &str) -> std::io::Result<File> {
    let c = CString::new(name).map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
    open_at(dir, &c, libc::O_DIRECTORY | libc::O_NOFOLLOW)
}

/// `openat(dir, name)` read-only with `flags`, and `O_NOATIME`, which is refused (EPERM) for
/// files we do not own unless we are root: then without it.
fn open_at(dir: &File, name: &CString, flags: i32) -> std::io::Result<File> {
    let flags = libc::O_RDONLY | libc::O_CLOEXEC | flags;
    let open = |extra: i32| {
        // SAFETY: `dir` is an open directory and `name` a NUL-terminated name; the descriptor
        // returned is owned by the File made from it and nothing else.
        let fd = unsafe { libc::openat(dir.as_raw_fd(), name.as_ptr(), flags | extra) };
        if fd < 0 {
            Err(std::io::Error::last_os_error())
        } else {
            // SAFETY: `fd` was just opened and is not owned by anything else.
            Ok(unsafe { File::from_raw_fd(fd) })
        }
    };
    match open(libc::O_NOATIME) {
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => open(0),
        other => other,
    }
}

/// The same error again (an `io::Error` is not `Clone`).
fn clone_error(e: &std::io::Error) -> std::io::Error {
    match e.raw_os_error() {
        Some(code) => std::io::Error::from_raw_os_error(code),
        None => std::io::Error::new(e.kind(), e.to_string()),
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
    let kind = FileKind::of_mode(st.st_mode);
    Ok(BlobStat {
        kind,
        len: u64::try_from(st.st_size).unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::BlobDirs;

    /// Only regular files with a sha256 name are listed: not a symlink (even to a regular
    /// file), a FIFO, a directory, or a name that is no lower-case sha256 hex.
    #[test]
    fn only_regular_files_with_a_sha256_name_are_listed() {
        let dir = tempfile::tempdir().unwrap();
        let content = dir.path();
        let sha = content.join("blobs/sha256");
        std::fs::create_dir_all(&sha).unwrap();
        let name = |c: char| c.to_string().repeat(64);
        std::fs::write(sha.join(name('a')), b"x").unwrap();
        std::fs::write(content.join("elsewhere"), b"x").unwrap();
        std::os::unix::fs::symlink(content.join("elsewhere"), sha.join(name('b'))).unwrap();
        std::fs::create_dir(sha.join(name('c'))).unwrap();
        let fifo = std::ffi::CString::new(sha.join(name('d')).into_os_string().into_encoded_bytes()).unwrap();
        // SAFETY: a NUL-terminated path; mkfifo only creates the node.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
        std::fs::write(sha.join(name('E')), b"x").unwrap();
        std::fs::write(sha.join("f".repeat(63)), b"x").unwrap();

        let listed = BlobDirs::open(content).sha256_regular_files().unwrap();
        let want: foldhash::HashSet<[u8; 32]> = [[0xaa; 32]].into_iter().collect();
        assert_eq!(listed, want);
        // `blobs` a symlink (swapped in after the root was checked): not followed, so no
        // lookup finds the file planted where it leads.
        let outside = dir.path().join("outside");
        std::fs::create_dir_all(outside.join("sha256")).unwrap();
        std::fs::write(outside.join("sha256").join(name('9')), b"planted").unwrap();
        let swapped = dir.path().join("swapped");
        std::fs::create_dir(&swapped).unwrap();
        std::os::unix::fs::symlink(&outside, swapped.join("blobs")).unwrap();
        let digest = crate::digest::Digest::parse(&format!("sha256:{}", name('9'))).unwrap();
        assert!(BlobDirs::open(&swapped).open_blob(&digest).is_none());
        // Without the directory there is no listing, not an empty one.
        assert!(
            BlobDirs::open(&content.join("nowhere"))
                .sha256_regular_files()
                .is_none()
        );
    }
}
