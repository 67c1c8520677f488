//! Reading one blob file for `verify`: opened without following anything, hashed while it is
//! read, in 1 MiB chunks.
//!
//! `O_NOFOLLOW` makes a symlink fail to open (`ELOOP`) instead of being followed, `O_NONBLOCK`
//! keeps a FIFO planted in the store from blocking the open, and `O_NOATIME` (when we may use
//! it) keeps reading from writing access times to the disk being examined. The file's type is
//! checked on the open descriptor (`fstat`), so nothing can be swapped in between the check and
//! the read.

use crate::containerd::blob_dirs::BlobDirs;
use crate::containerd::blobs::FileKind;
use crate::containerd::root::{ArchiveBlobs, BlobError, BlobFile};
use crate::digest::Digest;
use std::cell::RefCell;
use std::fs::File;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Size of one read. Large enough that syscalls cost nothing next to SHA-256, small enough to
/// stay in L2 while it is hashed.
pub const CHUNK: usize = 1 << 20;

/// What a blob file turned out to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileState {
    /// No file (containerd's NotFound).
    Missing,
    /// Something other than a regular file: never opened for reading, never followed.
    NotRegular {
        /// `symlink`, `directory`, `fifo`, `socket`, `block device`, ...
        kind: String,
        /// A symlink's target as stored in the link (read with `readlink`, not followed).
        target: Option<String>,
    },
    /// The file exists but could not be read to its end.
    Unreadable(String),
    /// Read to its end: its length and the digest of its bytes (same algorithm as its name).
    Read { len: u64, digest: String },
    /// Longer than any record says it is: a size mismatch whatever its bytes, so not hashed
    /// (a sparse file of terabytes would take hours of zeros).
    Oversized { len: u64 },
}

impl FileState {
    /// What happened, in words, for a report.
    pub fn describe(&self) -> String {
        match self {
            FileState::Missing => "no such file".into(),
            FileState::NotRegular { kind, target: Some(t) } => format!("{kind} to {t}; not followed"),
            FileState::NotRegular { kind, target: None } => format!("{kind}; not read"),
            FileState::Unreadable(why) => why.clone(),
            FileState::Read { len, digest } => format!("{len} bytes, {digest}"),
            FileState::Oversized { len } => format!("{len} bytes, more than any record gives; not hashed"),
        }
    }
}

/// Bytes hashed so far, for a progress line; shared by the workers.
#[derive(Debug, Default)]
pub struct Progress {
    pub total: AtomicU64,
    pub done: AtomicU64,
}

impl Progress {
    pub fn add(&self, n: usize) {
        self.done.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// ring's algorithm for a digest's algorithm.
pub fn algorithm(d: &Digest) -> &'static ring::digest::Algorithm {
    match d.algorithm() {
        "sha384" => &ring::digest::SHA384,
        "sha512" => &ring::digest::SHA512,
        _ => &ring::digest::SHA256,
    }
}

/// `<algorithm>:<hex>` of a finished hash.
pub fn digest_string(name: &str, ctx: ring::digest::Context) -> String {
    format!("{name}:{}", hex::encode(ctx.finish().as_ref()))
}

/// The store's `blobs/<algorithm>` directories, opened once: each blob is then opened
/// relative to its directory (`openat`), which saves the kernel a path walk per blob and keeps
/// every open inside the directories checked when the root was opened.
pub struct Blobs {
    content: PathBuf,
    dirs: BlobDirs,
    /// When large blobs are hashed through a read-only map instead of `read()`.
    pub map: MapPolicy,
    /// Blobs held in an archive instead of the directories.
    pub archive: Option<std::sync::Arc<dyn ArchiveBlobs>>,
}

/// Hashing through a map avoids the kernel's copy out of the page cache (about 15% of the
/// time on a CPU with SHA-NI, benches/RESULTS.md). A map faults (SIGBUS) if the file is
/// truncated while it is read, so by default only files on a read-only mount are mapped:
/// nobody can truncate those, and a seized disk image is mounted that way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MapPolicy {
    /// Always `read()`.
    Never,
    /// Map large blobs that live on a read-only filesystem.
    #[default]
    ReadOnlyMounts,
    /// Map every large blob (`--mmap`): for stores nobody is writing to.
    Always,
}

/// Smaller blobs are read: a map costs more than the copy it saves.
const MAP_MIN: u64 = 4 << 20;

thread_local! {
    /// Each worker's read buffer, allocated once.
    static BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

impl Blobs {
    /// `content` is the content store's directory (`io.containerd.content.v1.content`).
    pub fn new(content: &Path) -> Blobs {
        Blobs {
            content: content.to_path_buf(),
            dirs: BlobDirs::open(content),
            map: MapPolicy::default(),
            archive: None,
        }
    }

    /// Where the blob starts in a compressed archive's stream: blobs read in that order are
    /// one pass over it, not one from the start each.
    pub fn stream_offset(&self, digest: &Digest) -> Option<u64> {
        self.archive.as_ref()?.stream_offset(digest)
    }

    /// The blob's path, for reports.
    pub fn path(&self, digest: &Digest) -> PathBuf {
        self.content.join(digest.blob_path())
    }

    /// Opens a blob file for reading, or says why it is not a readable regular file.
    pub fn open(&self, digest: &Digest) -> Result<(BlobFile, u64), FileState> {
        if let Some(a) = &self.archive {
            return match a.open(digest) {
                Ok(opened) => Ok(opened),
                Err(e) if e.is_not_found() => Err(FileState::Missing),
                Err(BlobError::NotRegular { what, .. }) => Err(FileState::NotRegular {
                    kind: what,
                    target: None,
                }),
                Err(e) => Err(FileState::Unreadable(e.to_string())),
            };
        }
        let Some(file) = self.dirs.open_blob(digest) else {
            return Err(FileState::Missing);
        };
        let file = match file {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(FileState::Missing),
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return Err(not_regular(&self.path(digest))),
            Err(e) => return Err(FileState::Unreadable(e.to_string())),
        };
        match file.metadata() {
            Ok(m) if m.is_file() => Ok((BlobFile::File(file), m.len())),
            Ok(_) => Err(not_regular(&self.path(digest))),
            Err(e) => Err(FileState::Unreadable(e.to_string())),
        }
    }

    /// Hashes the whole blob file with the digest's algorithm, unless it is longer than
    /// `largest`, the largest size a record gives it ([`FileState::Oversized`]).
    pub fn hash(&self, digest: &Digest, largest: Option<u64>, progress: Option<&Progress>) -> FileState {
        let (file, size) = match self.open(digest) {
            Ok(f) => f,
            Err(state) => return state,
        };
        if largest.is_some_and(|l| size > l) {
            return FileState::Oversized { len: size };
        }
        // Terabytes of holes, sized as recorded, are hours of zeros (sweep 23): not read.
        if let Some(why) = file.too_sparse(size) {
            return FileState::Unreadable(why);
        }
        if let Some(state) = file.as_file().and_then(|f| self.hash_mapped(f, digest, progress)) {
            return state;
        }
        BUF.with(|buf| match buf.try_borrow_mut() {
            Ok(mut buf) => hash_file(file, digest, &mut buf, progress),
            Err(_) => hash_file(file, digest, &mut Vec::new(), progress),
        })
    }

    /// Hashes a large blob through a read-only map when the policy allows it; `None` means
    /// "read it instead" (small, not allowed, or the map failed).
    fn hash_mapped(&self, file: &File, digest: &Digest, progress: Option<&Progress>) -> Option<FileState> {
        let len = file.metadata().ok()?.len();
        let allowed = match self.map {
            MapPolicy::Never => false,
            MapPolicy::Always => true,
            MapPolicy::ReadOnlyMounts => on_read_only_mount(file),
        };
        if len < MAP_MIN || !allowed {
            return None;
        }
        // SAFETY: a private read-only map of a regular file. The file cannot shrink under us:
        // it is on a read-only mount, or the caller asserted with `--mmap` that nothing writes
        // to the store.
        let map = unsafe { memmap2::MmapOptions::new().map(file) }.ok()?;
        let _ = map.advise(memmap2::Advice::Sequential);
        // A page the disk cannot give (a bad sector of a seized disk) reads as zeros here
        // instead of ending the process by SIGBUS: the blob is then unreadable, and said where.
        let guard = crate::sigbus::guard(&map, &self.path(digest));
        let mut ctx = ring::digest::Context::new(algorithm(digest));
        for chunk in map.chunks(CHUNK) {
            ctx.update(chunk);
            if let Some(p) = progress {
                p.add(chunk.len());
            }
        }
        if let Some((at, pages)) = guard.take_faults() {
            return Some(FileState::Unreadable(format!(
                "Input/output error reading it through a map: {pages} page(s) from offset {at}"
            )));
        }
        drop(guard);
        Some(FileState::Read {
            len: map.len() as u64,
            digest: digest_string(digest.algorithm(), ctx),
        })
    }

    /// Reads the whole blob file when it is at most `limit` bytes and hashes it; a larger file
    /// is hashed in chunks and its bytes are not kept (`None`).
    pub fn read(
        &self,
        digest: &Digest,
        limit: u64,
        largest: Option<u64>,
        progress: Option<&Progress>,
    ) -> (FileState, Option<Vec<u8>>) {
        let (mut file, size) = match self.open(digest) {
            Ok(f) => f,
            Err(state) => return (state, None),
        };
        if size > limit {
            if largest.is_some_and(|l| size > l) {
                return (FileState::Oversized { len: size }, None);
            }
            if let Some(why) = file.too_sparse(size) {
                return (FileState::Unreadable(why), None);
            }
            return (hash_file(file, digest, &mut Vec::new(), progress), None);
        }
        // Sized by the file's real length, capped by `limit`; one byte more shows that it grew.
        let mut data = Vec::with_capacity(size as usize + 1);
        if let Err(e) = (&mut file).take(limit + 1).read_to_end(&mut data) {
            return (FileState::Unreadable(e.to_string()), None);
        }
        if data.len() as u64 > limit {
            return (self.hash(digest, largest, progress), None);
        }
        if let Some(p) = progress {
            p.add(data.len());
        }
        let d = ring::digest::digest(algorithm(digest), &data);
        let state = FileState::Read {
            len: data.len() as u64,
            digest: format!("{}:{}", digest.algorithm(), hex::encode(d.as_ref())),
        };
        (state, Some(data))
    }
}

/// True when `file` lives on a filesystem mounted read-only.
fn on_read_only_mount(file: &File) -> bool {
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `file` is an open descriptor and `st` is written by the call before it is read.
    let rc = unsafe { libc::fstatvfs(file.as_raw_fd(), st.as_mut_ptr()) };
    // SAFETY: fstatvfs returned 0, so it filled `st`.
    rc == 0 && unsafe { st.assume_init() }.f_flag & libc::ST_RDONLY != 0
}

/// Describes what is at `path` when it is not a regular file (without following it).
fn not_regular(path: &Path) -> FileState {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return FileState::Missing;
    };
    let t = meta.file_type();
    let kind = match FileKind::of(&t) {
        // Replaced by a regular file between the open and this look: report what we saw.
        FileKind::Regular => "changed while read",
        other => other.as_str(),
    };
    let target = t
        .is_symlink()
        .then(|| std::fs::read_link(path).ok())
        .flatten()
        .map(|p| crate::text::escape(p.as_os_str().as_encoded_bytes()));
    FileState::NotRegular {
        kind: kind.to_string(),
        target,
    }
}

/// Hashes `file` from where it is to its end, in chunks of `buf`.
fn hash_file(mut file: impl Read, digest: &Digest, buf: &mut Vec<u8>, progress: Option<&Progress>) -> FileState {
    buf.resize(CHUNK, 0);
    let mut ctx = ring::digest::Context::new(algorithm(digest));
    let mut len = 0u64;
    loop {
        match file.read(buf) {
            Ok(0) => break,
            Ok(n) => {
                let Some(chunk) = buf.get(..n) else { break };
                ctx.update(chunk);
                len += n as u64;
                if let Some(p) = progress {
                    p.add(n);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return FileState::Unreadable(format!("after {len} bytes: {e}")),
        }
    }
    FileState::Read {
        len,
        digest: digest_string(digest.algorithm(), ctx),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A content store directory in a tempdir, and the path of blob `d` in it.
    fn store() -> std::io::Result<(tempfile::TempDir, Blobs)> {
        let dir = tempfile::tempdir()?;
        for alg in ["sha256", "sha512"] {
            std::fs::create_dir_all(dir.path().join("blobs").join(alg))?;
        }
        let blobs = Blobs::new(dir.path());
        Ok((dir, blobs))
    }

    #[test]
    fn mapped_and_read_hashes_agree() -> std::io::Result<()> {
        let (_dir, mut blobs) = store()?;
        // Larger than MAP_MIN, and not a multiple of the chunk size.
        let content: Vec<u8> = (0..(MAP_MIN as usize + 12_345)).map(|i| (i * 31 % 251) as u8).collect();
        let d = Digest::sha256_of(&content);
        std::fs::write(blobs.path(&d), &content)?;
        let want = FileState::Read {
            len: content.len() as u64,
            digest: d.to_string(),
        };
        for policy in [MapPolicy::Never, MapPolicy::ReadOnlyMounts, MapPolicy::Always] {
            blobs.map = policy;
            let progress = Progress::default();
            assert_eq!(blobs.hash(&d, None, Some(&progress)), want, "{policy:?}");
            assert_eq!(
                progress.done.load(Ordering::Relaxed),
                content.len() as u64,
                "{policy:?}"
            );
        }
        Ok(())
    }

    #[test]
    fn hashes_regular_files_and_refuses_everything_else() -> std::io::Result<()> {
        let (_dir, blobs) = store()?;
        let content = b"hello blob".repeat(300_000); // > 1 chunk
        let d = Digest::sha256_of(&content);
        std::fs::write(blobs.path(&d), &content)?;
        let want = FileState::Read {
            len: content.len() as u64,
            digest: d.to_string(),
        };
        let progress = Progress::default();
        assert_eq!(blobs.hash(&d, None, Some(&progress)), want);
        assert_eq!(progress.done.load(Ordering::Relaxed), content.len() as u64);
        let (state, bytes) = blobs.read(&d, 64 << 20, None, None);
        assert_eq!(state, want);
        assert_eq!(bytes.as_deref(), Some(content.as_slice()));
        // Over the limit: hashed, not kept.
        assert_eq!(blobs.read(&d, 10, None, None), (want, None));

        let other = |data: &[u8]| Digest::sha256_of(data);
        assert_eq!(blobs.hash(&other(b"none"), None, None), FileState::Missing);

        let link = other(b"link");
        std::os::unix::fs::symlink(blobs.path(&d), blobs.path(&link))?;
        let state = blobs.hash(&link, None, None);
        assert!(
            matches!(&state, FileState::NotRegular { kind, target: Some(t) } if kind == "symlink" && t.ends_with(d.hex())),
            "{state:?}"
        );
        assert!(matches!(
            blobs.read(&link, 1 << 20, None, None).0,
            FileState::NotRegular { .. }
        ));

        let dir = other(b"dir");
        std::fs::create_dir(blobs.path(&dir))?;
        let state = blobs.hash(&dir, None, None);
        assert!(
            matches!(&state, FileState::NotRegular { kind, .. } if kind == "directory"),
            "{state:?}"
        );

        let fifo = other(b"fifo");
        let c =
            std::ffi::CString::new(blobs.path(&fifo).as_os_str().as_encoded_bytes()).map_err(std::io::Error::other)?;
        // SAFETY: a valid NUL-terminated path.
        if unsafe { libc::mkfifo(c.as_ptr(), 0o600) } == 0 {
            let state = blobs.hash(&fifo, None, None);
            assert!(
                matches!(&state, FileState::NotRegular { kind, .. } if kind == "fifo"),
                "{state:?}"
            );
        }
        // No sha384 directory: every sha384 blob is missing.
        let d384 = Digest::parse(&format!("sha384:{}", "0".repeat(96))).map_err(std::io::Error::other)?;
        assert_eq!(blobs.hash(&d384, None, None), FileState::Missing);
        Ok(())
    }

    #[test]
    fn other_algorithms() -> std::io::Result<()> {
        let (_dir, blobs) = store()?;
        let d = Digest::parse(&format!("sha512:{}", "0".repeat(128))).map_err(std::io::Error::other)?;
        std::fs::write(blobs.path(&d), b"abc")?;
        let FileState::Read { digest, .. } = blobs.hash(&d, None, None) else {
            panic!("not read");
        };
        assert_eq!(
            digest,
            "sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        );
        Ok(())
    }
}
