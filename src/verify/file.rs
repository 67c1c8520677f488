//! Reading one blob file for `verify`: opened without following anything, hashed while it is
//! read, in 1 MiB chunks.
//!
//! `O_NOFOLLOW` makes a symlink fail to open (`ELOOP`) instead of being followed, `O_NONBLOCK`
//! keeps a FIFO planted in the store from blocking the open, and `O_NOATIME` (when we may use
//! it) keeps reading from writing access times to the disk being examined. The file's type is
//! checked on the open descriptor (`fstat`), so nothing can be swapped in between the check and
//! the read.

use crate::digest::Digest;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
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
    fn add(&self, n: usize) {
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

/// Opens a blob file for reading, or says why it is not a readable regular file.
pub fn open(path: &Path) -> Result<File, FileState> {
    let open = |flags: i32| {
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | flags)
            .open(path)
    };
    // O_NOATIME is refused (EPERM) for files we do not own unless we are root.
    let file = match open(libc::O_NOATIME) {
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => open(0),
        other => other,
    };
    let file = match file {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(FileState::Missing),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return Err(not_regular(path)),
        Err(e) => return Err(FileState::Unreadable(e.to_string())),
    };
    match file.metadata() {
        Ok(m) if m.is_file() => Ok(file),
        Ok(_) => Err(not_regular(path)),
        Err(e) => Err(FileState::Unreadable(e.to_string())),
    }
}

/// Describes what is at `path` when it is not a regular file (without following it).
fn not_regular(path: &Path) -> FileState {
    use std::os::unix::fs::FileTypeExt;
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return FileState::Missing;
    };
    let t = meta.file_type();
    let kind = if t.is_symlink() {
        "symlink"
    } else if t.is_dir() {
        "directory"
    } else if t.is_fifo() {
        "fifo"
    } else if t.is_socket() {
        "socket"
    } else if t.is_block_device() {
        "block device"
    } else if t.is_char_device() {
        "character device"
    } else if t.is_file() {
        // Replaced by a regular file between the open and this look: report what we saw.
        "changed while read"
    } else {
        "unknown type"
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

/// Hashes the whole file at `path` (to its end, whatever its size) with the digest's
/// algorithm. `buf` is the worker's reusable buffer.
pub fn hash(path: &Path, digest: &Digest, buf: &mut Vec<u8>, progress: Option<&Progress>) -> FileState {
    let mut file = match open(path) {
        Ok(f) => f,
        Err(state) => return state,
    };
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

/// Reads the whole file when it is at most `limit` bytes and hashes it; a larger file is
/// hashed in chunks and its bytes are not kept (`None`).
pub fn read(path: &Path, digest: &Digest, limit: u64, progress: Option<&Progress>) -> (FileState, Option<Vec<u8>>) {
    let file = match open(path) {
        Ok(f) => f,
        Err(state) => return (state, None),
    };
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if size > limit {
        drop(file);
        return (hash(path, digest, &mut Vec::new(), progress), None);
    }
    // Sized by the file's real length, capped by `limit`; one byte more shows that it grew.
    let mut data = Vec::with_capacity(size as usize);
    if let Err(e) = file.take(limit + 1).read_to_end(&mut data) {
        return (FileState::Unreadable(e.to_string()), None);
    }
    if data.len() as u64 > limit {
        return (hash(path, digest, &mut Vec::new(), progress), None);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sha256(data: &[u8]) -> Digest {
        Digest::sha256_of(data)
    }

    #[test]
    fn hashes_regular_files_and_refuses_everything_else() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let content = b"hello blob".repeat(300_000); // > 1 chunk
        let d = sha256(&content);
        let file = dir.path().join("f");
        std::fs::write(&file, &content)?;
        let want = FileState::Read {
            len: content.len() as u64,
            digest: d.to_string(),
        };
        let progress = Progress::default();
        assert_eq!(hash(&file, &d, &mut Vec::new(), Some(&progress)), want);
        assert_eq!(progress.done.load(Ordering::Relaxed), content.len() as u64);
        let (state, bytes) = read(&file, &d, 64 << 20, None);
        assert_eq!(state, want);
        assert_eq!(bytes.as_deref(), Some(content.as_slice()));
        // Over the limit: hashed, not kept.
        assert_eq!(read(&file, &d, 10, None), (want, None));

        assert_eq!(
            hash(&dir.path().join("none"), &d, &mut Vec::new(), None),
            FileState::Missing
        );

        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&file, &link)?;
        let state = hash(&link, &d, &mut Vec::new(), None);
        assert!(
            matches!(&state, FileState::NotRegular { kind, target: Some(t) } if kind == "symlink" && t.ends_with("/f")),
            "{state:?}"
        );
        assert!(matches!(read(&link, &d, 1 << 20, None).0, FileState::NotRegular { .. }));

        let state = hash(dir.path(), &d, &mut Vec::new(), None);
        assert!(
            matches!(&state, FileState::NotRegular { kind, .. } if kind == "directory"),
            "{state:?}"
        );

        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).map_err(std::io::Error::other)?;
        // SAFETY: a valid NUL-terminated path.
        if unsafe { libc::mkfifo(c.as_ptr(), 0o600) } == 0 {
            let state = hash(&fifo, &d, &mut Vec::new(), None);
            assert!(
                matches!(&state, FileState::NotRegular { kind, .. } if kind == "fifo"),
                "{state:?}"
            );
        }
        Ok(())
    }

    #[test]
    fn other_algorithms() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("f");
        std::fs::write(&file, b"abc")?;
        let d = Digest::parse(&format!("sha512:{}", "0".repeat(128))).map_err(std::io::Error::other)?;
        let FileState::Read { digest, .. } = hash(&file, &d, &mut Vec::new(), None) else {
            panic!("not read");
        };
        assert_eq!(
            digest,
            "sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        );
        Ok(())
    }
}
